"""Tests of the one-run audit in mlprivacy_helpers.audit (Steinke, Nasr, Jagielski, 2023)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import special, stats

from mlprivacy_helpers import audit


def test_all_guesses_right_without_delta_has_a_closed_form():
    # P[all r right] = p^r with p = e^eps / (1 + e^eps): the bound solves p^r = 0.05.
    for r in (10, 50, 200):
        got = audit.one_run_epsilon_lower_bound(1000, r, r, confidence=0.95)
        assert got == pytest.approx(special.logit(0.05 ** (1 / r)), rel=1e-6)


def test_half_right_is_no_evidence():
    assert audit.one_run_epsilon_lower_bound(1000, 100, 50) == 0.0
    assert audit.one_run_epsilon_lower_bound(1000, 100, 30) == 0.0
    assert audit.one_run_epsilon_lower_bound(1000, 0, 0) == 0.0


def test_p_value_without_delta_is_the_binomial_tail():
    p = special.expit(1.5)
    assert audit.one_run_p_value(1.5, 500, 80, 70) == pytest.approx(stats.binom.sf(69, 80, p))
    assert audit.one_run_p_value(0.0, 500, 80, 0) == 1.0


def test_delta_term_matches_a_direct_evaluation_of_the_theorem():
    m, r, v, eps, delta = 400, 60, 50, 1.0, 1e-4
    p = special.expit(eps)
    tail = [stats.binom.sf(j - 1, r, p) for j in range(v + 1)]  # tail[j] = P[X >= j]
    alpha = max((tail[v - i] - tail[v]) / i for i in range(1, v + 1))
    expected = min(tail[v] + 2 * m * delta * alpha, 1.0)
    assert audit.one_run_p_value(eps, m, r, v, delta) == pytest.approx(expected, rel=1e-12)


def test_bound_is_where_the_p_value_crosses_the_level():
    m, r, v = 1000, 200, 180
    eps = audit.one_run_epsilon_lower_bound(m, r, v, confidence=0.95, delta=1e-5)
    assert eps > 0
    assert audit.one_run_p_value(eps, m, r, v, 1e-5) == pytest.approx(0.05, abs=1e-6)
    assert audit.one_run_p_value(eps * 0.99, m, r, v, 1e-5) < 0.05


def test_delta_and_confidence_make_the_bound_smaller():
    base = audit.one_run_epsilon_lower_bound(1000, 200, 180)
    assert audit.one_run_epsilon_lower_bound(1000, 200, 180, delta=1e-3) < base
    assert audit.one_run_epsilon_lower_bound(1000, 200, 180, confidence=0.99) < base
    assert audit.one_run_epsilon_lower_bound(1000, 200, 190) > base


def test_audit_of_perfect_scores_guesses_everything_right():
    inserted = np.r_[np.ones(100, bool), np.zeros(100, bool)]
    scores = inserted.astype(float) + np.linspace(0, 0.5, 200)
    result = audit.one_run_audit(scores, inserted, [10, 50, 100], confidence=0.95)
    assert result.n_canaries == 200
    assert [row[1] for row in result.table] == [20, 100, 200]  # every guess right
    # Bonferroni over three choices of k: each bound at level 0.05 / 3.
    assert result.epsilon_lower_bound == pytest.approx(special.logit((0.05 / 3) ** (1 / 200)))
    assert result.guesses_per_side == 100 and result.n_correct == 200


def test_audit_of_uninformative_scores_finds_no_evidence():
    rng = np.random.default_rng(0)
    inserted = rng.random(1000) < 0.5
    scores = rng.normal(size=1000)  # independent of insertion
    result = audit.one_run_audit(scores, inserted, [25, 50, 100, 250])
    assert result.epsilon_lower_bound < 0.3


def test_audit_counts_the_guesses_on_both_sides():
    inserted = np.array([True, False, True, False, True, False])
    scores = np.array([6.0, 5.0, 4.0, 3.0, 2.0, 1.0])  # top: in, out; bottom: in, out
    result = audit.one_run_audit(scores, inserted, [1, 2])
    assert result.table[0][:2] == (1, 2)  # top-1 is in, bottom-1 is out
    assert result.table[1][:2] == (2, 2)  # top-2: 1 right; bottom-2: 1 right


def test_audit_rejects_bad_input():
    ok_scores, ok_inserted = np.arange(10.0), np.arange(10) % 2 == 0
    with pytest.raises(ValueError, match="boolean"):
        audit.one_run_audit(ok_scores, np.arange(10) % 2, [1])
    with pytest.raises(ValueError, match="equally long"):
        audit.one_run_audit(ok_scores[:5], ok_inserted, [1])
    with pytest.raises(ValueError, match="NaN"):
        audit.one_run_audit(np.r_[np.nan, ok_scores[1:]], ok_inserted, [1])
    with pytest.raises(ValueError, match="at most"):
        audit.one_run_audit(ok_scores, ok_inserted, [6])
    with pytest.raises(ValueError, match="repeats"):
        audit.one_run_audit(ok_scores, ok_inserted, [1, 1])
    with pytest.raises(ValueError, match="at least 1"):
        audit.one_run_audit(ok_scores, ok_inserted, [0])
    with pytest.raises(TypeError, match="int"):
        audit.one_run_audit(ok_scores, ok_inserted, [1.5])
    with pytest.raises(ValueError, match="n_correct <= n_guesses"):
        audit.one_run_epsilon_lower_bound(10, 5, 6)
    with pytest.raises(ValueError, match="confidence"):
        audit.one_run_epsilon_lower_bound(10, 5, 5, confidence=1.0)
    with pytest.raises(ValueError, match="delta"):
        audit.one_run_p_value(1.0, 10, 5, 5, delta=-1e-5)
    with pytest.raises(ValueError, match="epsilon"):
        audit.one_run_p_value(-1.0, 10, 5, 5)


def test_random_other_labels_never_keeps_the_label_and_is_seeded():
    labels = np.tile(np.arange(10), 100)
    new = audit.random_other_labels(labels, 10, seed=3)
    assert new.shape == (1000,) and new.dtype == np.int64
    assert np.all(new != labels) and set(new) == set(range(10))
    assert np.array_equal(new, audit.random_other_labels(labels, 10, seed=3))
    counts = np.bincount((new - labels) % 10, minlength=10)
    assert counts[0] == 0 and counts[1:].min() > 60  # every other label appears
    with pytest.raises(ValueError, match="lie in"):
        audit.random_other_labels(np.array([10]), 10, seed=0)
    with pytest.raises(ValueError, match="at least 2"):
        audit.random_other_labels(labels, 1, seed=0)


def test_the_bound_is_valid_for_a_known_dp_mechanism():
    # Randomised response on m canaries is exactly eps-DP: guess "in" when the (noisy) bit says
    # so. Over many runs the 95 % bound may exceed eps in at most about 5 % of them.
    eps, m, runs = 1.0, 400, 200
    rng = np.random.default_rng(1)
    above = 0
    for _ in range(runs):
        inserted = rng.random(m) < 0.5
        keep = rng.random(m) < special.expit(eps)
        reported = np.where(keep, inserted, ~inserted)
        scores = reported + 1e-3 * rng.random(m)  # ties broken at random
        result = audit.one_run_audit(scores, inserted, [m // 2])
        above += result.epsilon_lower_bound > eps
    assert above <= math.ceil(0.05 * runs) + 5
    # ... and the bound is not vacuous: with all m guesses, about 73 % are right.
    assert result.epsilon_lower_bound > 0.5


def test_the_best_possible_bound_is_all_guesses_right_at_the_bonferroni_level():
    # delta = 0, one k: all 2k right has probability p^(2k); the bound is logit(alpha^(1/2k)).
    assert audit.one_run_best_possible_bound(500, [100], 0.95) == pytest.approx(
        special.logit(0.05 ** (1 / 200)), rel=1e-6
    )
    # Four k: each tested at 5 % / 4; with delta = 0 the most guesses give the best bound.
    assert audit.one_run_best_possible_bound(500, [10, 25, 50, 100], 0.95) == pytest.approx(
        special.logit((0.05 / 4) ** (1 / 200)), rel=1e-6
    )
    # Notebook 04's quick design (m = 500, 2-20 % per side, delta = 1e-5): 3.78, which the
    # delta term lowers from the delta = 0 value.
    ceiling = audit.one_run_best_possible_bound(500, [10, 25, 50, 100], 0.95, delta=1e-5)
    assert ceiling == pytest.approx(3.78, abs=0.005)
    rng = np.random.default_rng(0)
    for _ in range(5):  # no audit of this design gets above it
        inserted = rng.random(500) < 0.5
        scores = inserted + rng.normal(0, 0.5, 500)
        found = audit.one_run_audit(scores, inserted, [10, 25, 50, 100], 0.95, 1e-5)
        assert found.epsilon_lower_bound <= ceiling
    with pytest.raises(ValueError, match="guesses_per_side"):
        audit.one_run_best_possible_bound(10, [6])
