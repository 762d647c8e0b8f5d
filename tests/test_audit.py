"""Tests of mlprivacy_helpers.audit: per-bin log-ratios with simultaneous Clopper-Pearson bounds."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special, stats

from mlprivacy_helpers import audit


def notebook_01_empirical_log_ratios(outputs_1, outputs_2, edges, min_count, alpha):
    # Frozen copy of the function notebook 01 (section 6) defined before it moved into
    # mlprivacy_helpers.audit: the package must behave identically on valid input.
    assert len(outputs_1) == len(outputs_2), "equal sample sizes: then q = P1 / (P1 + P2)"
    c1 = np.histogram(outputs_1, edges)[0]
    c2 = np.histogram(outputs_2, edges)[0]
    keep = (c1 + c2) >= min_count
    c1, c2 = c1[keep], c2[keep]
    level = alpha / (2 * max(keep.sum(), 1))
    q_low = np.where(c1 > 0, stats.beta.ppf(level, np.maximum(c1, 1), c2 + 1), 0.0)
    q_high = np.where(c2 > 0, stats.beta.ppf(1 - level, c1 + 1, np.maximum(c2, 1)), 1.0)
    with np.errstate(divide="ignore"):
        return {
            "centers": (0.5 * (edges[:-1] + edges[1:]))[keep],
            "log_ratio": np.log(c1) - np.log(c2),
            "lower": special.logit(q_low),
            "upper": special.logit(q_high),
        }


def laplace_outputs(epsilon: float, n: int, seed: int = 0):
    """Outputs of the Laplace mechanism (sensitivity 1) on true answers 0 and 1."""
    rng = np.random.default_rng(seed)
    b = 1.0 / epsilon
    return rng.laplace(0.0, b, n), rng.laplace(1.0, b, n), b


def laplace_edges(b: float) -> np.ndarray:
    tail = np.arange(1, 17) * b / 2
    return np.concatenate([0.0 - tail[::-1], np.linspace(0.0, 1.0, 3), 1.0 + tail])


def test_hand_checkable_two_bins():
    # Bin [0, 1): 30 outputs of D1, 10 of D2. Bin [1, 2): 10 of D1, 30 of D2.
    out_1 = np.array([0.5] * 30 + [1.5] * 10)
    out_2 = np.array([0.5] * 10 + [1.5] * 30)
    result = audit.empirical_log_ratios(out_1, out_2, np.array([0.0, 1.0, 2.0]), 1, 0.1)
    assert list(result) == ["centers", "log_ratio", "lower", "upper"]
    np.testing.assert_allclose(result["centers"], [0.5, 1.5])
    np.testing.assert_allclose(result["log_ratio"], [np.log(3), -np.log(3)])
    # Two bins, two one-sided bounds each: level 0.1 / 4 = 0.025 per side, i.e. exactly the
    # two-sided 95% Clopper-Pearson interval, which scipy's binomtest computes independently.
    for i, k in enumerate((30, 10)):
        ci = stats.binomtest(k, 40).proportion_ci(confidence_level=0.95, method="exact")
        low, high = np.log(ci.low / (1 - ci.low)), np.log(ci.high / (1 - ci.high))
        assert result["lower"][i] == pytest.approx(low, rel=1e-9)
        assert result["upper"][i] == pytest.approx(high, rel=1e-9)
    assert np.all(result["lower"] < result["log_ratio"])
    assert np.all(result["log_ratio"] < result["upper"])


def test_a_one_sided_bin_has_an_infinite_bound_and_a_closed_form_one():
    # c1 = 0, c2 = 20 in the only bin: q_low = 0 (log-ratio -inf) and the Beta(1, 20)
    # quantile is 1 - level**(1/20) in closed form.
    result = audit.empirical_log_ratios(np.full(20, 5.0), np.full(20, 0.5), [0.0, 1.0], 1, 0.02)
    level = 0.02 / 2
    q_high = 1 - level ** (1 / 20)
    assert result["log_ratio"][0] == -np.inf and result["lower"][0] == -np.inf
    assert result["upper"][0] == pytest.approx(np.log(q_high / (1 - q_high)), rel=1e-9)


def test_sparse_bins_are_dropped_and_do_not_widen_the_others():
    out_1 = np.array([0.5] * 30 + [1.5] * 10 + [2.5] * 2)
    out_2 = np.array([0.5] * 10 + [1.5] * 30 + [2.5] * 2)
    edges = np.array([0.0, 1.0, 2.0, 3.0])
    kept = audit.empirical_log_ratios(out_1, out_2, edges, 5, 0.1)
    np.testing.assert_allclose(kept["centers"], [0.5, 1.5])
    # The Bonferroni level counts kept bins only: with min_count=1 the third bin is kept
    # and the first two intervals widen.
    all_bins = audit.empirical_log_ratios(out_1, out_2, edges, 1, 0.1)
    assert len(all_bins["centers"]) == 3
    assert all_bins["lower"][0] < kept["lower"][0] and all_bins["upper"][0] > kept["upper"][0]


@pytest.mark.parametrize("epsilon", [0.5, 1.0, 2.0])
def test_laplace_mechanism_passes_and_the_check_has_power(epsilon):
    out_1, out_2, b = laplace_outputs(epsilon, 200_000)
    result = audit.empirical_log_ratios(out_1, out_2, laplace_edges(b), 800, 1e-3)
    assert len(result["centers"]) >= 8
    assert np.all(result["lower"] <= epsilon) and np.all(result["upper"] >= -epsilon)
    # The Laplace mechanism attains its bound in the tails: the intervals reach +-epsilon.
    assert result["upper"].max() >= epsilon and result["lower"].min() <= -epsilon
    # Outside [0, 1] the true log-ratio is exactly +epsilon (left) or -epsilon (right).
    centers, estimate = result["centers"], result["log_ratio"]
    tails = (centers < 0) | (centers > 1)
    np.testing.assert_allclose(
        estimate[tails], np.where(centers < 0, 1, -1)[tails] * epsilon, atol=0.25
    )


def test_noiseless_mechanism_gives_infinite_ratios_and_fails_the_check():
    n = 100_000
    result = audit.empirical_log_ratios(np.zeros(n), np.ones(n), laplace_edges(1.0), 400, 1e-3)
    assert len(result["centers"]) == 2
    assert np.all(np.isinf(result["log_ratio"]))
    assert result["lower"].max() > 5.0 and result["upper"].min() < -5.0


def test_identical_to_notebook_01():
    out_1, out_2, b = laplace_outputs(1.0, 50_000, seed=3)
    edges = laplace_edges(b)
    ours = audit.empirical_log_ratios(out_1, out_2, edges, 200, 1e-3)
    theirs = notebook_01_empirical_log_ratios(out_1, out_2, edges, 200, 1e-3)
    assert list(ours) == list(theirs)
    for key in ours:
        np.testing.assert_array_equal(ours[key], theirs[key], err_msg=key)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"outputs_2": np.zeros(9)}, ValueError, "equally many"),
        ({"outputs_1": np.zeros(0), "outputs_2": np.zeros(0)}, ValueError, "empty"),
        ({"outputs_1": np.r_[np.zeros(9), np.nan]}, ValueError, "NaN"),
        ({"edges": [0.0]}, ValueError, "edges"),
        ({"edges": [[0.0, 1.0]]}, ValueError, "edges"),
        ({"edges": [0.0, np.inf]}, ValueError, "edges"),
        ({"edges": [0.0, 2.0, 1.0]}, ValueError, "increasing"),
        ({"min_count": 0}, ValueError, "min_count"),
        ({"min_count": 2.5}, TypeError, "min_count"),
        ({"alpha": 0.0}, ValueError, "alpha"),
        ({"alpha": 1.5}, ValueError, "alpha"),
    ],
)
def test_bad_input_is_rejected(kwargs, error, match):
    args = {
        "outputs_1": np.zeros(10),
        "outputs_2": np.ones(10),
        "edges": [-0.5, 0.5, 1.5],
        "min_count": 1,
        "alpha": 0.01,
    }
    args.update(kwargs)
    with pytest.raises(error, match=match):
        audit.empirical_log_ratios(**args)


# --- audit_mechanism: testing a claimed epsilon on a mechanism's outputs ---------------------


def _laplace_mechanism(scale_factor: float = 1.0):
    def mechanism(true_result, rng, n):
        return true_result + rng.laplace(0.0, scale_factor * 0.01 / 0.5, n)

    return mechanism


def test_the_test_edges_depend_on_the_claim_only_and_cover_eight_scales_each_side():
    edges = audit.laplace_test_edges(0.2, 0.1, scale=0.02, epsilon=2.0)
    assert np.all(np.diff(edges) > 0)
    assert edges[0] == pytest.approx(0.1 - 8 * 0.02) and edges[-1] == pytest.approx(0.2 + 8 * 0.02)
    assert len(edges) == 16 + 5 + 16  # ceil(2 * epsilon) + 1 = 5 edges between the two
    assert len(audit.laplace_test_edges(0.1, 0.1, scale=0.02, epsilon=2.0)) == 33


def test_the_laplace_mechanism_is_consistent_with_its_epsilon_and_half_its_noise_is_not():
    rng = np.random.default_rng(0)
    fine = audit.audit_mechanism(_laplace_mechanism(), 0.3, 0.31, 0.01, 0.5, rng)
    assert fine.consistent and fine.epsilon_lower_bound <= 0.5
    assert fine.noise_ratio == pytest.approx(1.0, abs=0.01)
    assert abs(fine.offset) < 6 * fine.offset_standard_error
    half = audit.audit_mechanism(_laplace_mechanism(0.5), 0.3, 0.31, 0.01, 0.5, rng)
    # Half the scale is 1.0-DP: the bound approaches 1.0 from below.
    assert not half.consistent and 0.8 < half.epsilon_lower_bound <= 1.0
    assert half.noise_ratio == pytest.approx(0.5, abs=0.01)


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"sensitivity": 0.0}, "sensitivity"),
        ({"epsilon": -1.0}, "epsilon"),
        ({"true_2": 0.5}, "differ by at most"),
        ({"n_samples": 10}, "n_samples"),
        ({"alpha": 1.5}, "alpha"),
        ({"mechanism": lambda t, rng, n: np.full(n, np.nan)}, "finite"),
        ({"mechanism": lambda t, rng, n: np.zeros(n + 1)}, "finite"),
    ],
)
def test_audit_mechanism_rejects_bad_input(kwargs, error):
    args = {
        "mechanism": _laplace_mechanism(),
        "true_1": 0.3,
        "true_2": 0.31,
        "sensitivity": 0.01,
        "epsilon": 0.5,
        "rng": np.random.default_rng(0),
    }
    args.update(kwargs)
    with pytest.raises(ValueError, match=error):
        audit.audit_mechanism(**args)
