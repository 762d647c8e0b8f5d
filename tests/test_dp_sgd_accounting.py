"""Tests of the accounting in mlprivacy_helpers.dp_sgd: our ε must equal TF Privacy's numbers for
the same inputs, and the two accountants and sampling schemes must order as theory says."""

from __future__ import annotations

import math
import subprocess
import sys

import dp_accounting
import numpy as np
import pytest
from dp_accounting import pld
from scipy import stats
from tensorflow_privacy.privacy.analysis import compute_dp_sgd_privacy_lib as tfp_lib

from mlprivacy_helpers import attack_metrics
from mlprivacy_helpers import dp_sgd as pa

# (n, batch size, epochs, noise multiplier, delta); n a multiple of the batch size, so that
# TF Privacy's epochs and our steps describe the same training.
SETTINGS = [(10240, 128, 15, 1.1, 1e-5), (2560, 128, 10, 1.1, 1e-5), (60000, 250, 3, 0.8, 1e-6)]


@pytest.mark.parametrize("n,batch,epochs,sigma,delta", SETTINGS)
def test_epsilons_agree_with_tf_privacy(n, batch, epochs, sigma, delta):
    q = batch / n
    steps = math.ceil(epochs / q)
    ours = pa.dp_sgd_epsilons(
        n=n, batch_size=batch, steps=steps, noise_multiplier=sigma, delta=delta
    )
    # TF Privacy's numeric function behind compute_dp_sgd_privacy_statement's two lines.
    poisson = tfp_lib._compute_dp_sgd_example_privacy(
        epochs, sigma, delta, used_microbatching=False, poisson_subsampling_probability=q
    )
    once_per_epoch = tfp_lib._compute_dp_sgd_example_privacy(
        epochs, sigma, delta, used_microbatching=False
    )
    assert ours["poisson_rdp"] == pytest.approx(poisson, rel=1e-9)
    assert ours["shuffled_rdp"] == pytest.approx(once_per_epoch, rel=1e-9)
    # The printed statement shows the same values (a test may read text; the code never does).
    statement = tfp_lib.compute_dp_sgd_privacy_statement(
        number_of_examples=n,
        batch_size=batch,
        num_epochs=epochs,
        noise_multiplier=sigma,
        delta=delta,
        used_microbatching=False,
    )
    assert f"Poisson sampling (*):               {ours['poisson_rdp']:12.3f}" in statement
    assert f"once per epoch:  {ours['shuffled_rdp']:12.3f}" in statement


def test_notebook_02_full_profile_numbers():
    """Notebook 02, full profile: 10 000 members, 15 epochs of 79 steps."""
    eps = pa.dp_sgd_epsilons(
        n=10000, batch_size=128, steps=15 * 79, noise_multiplier=1.1, delta=1e-5
    )
    q = 128 / 10000
    # TF Privacy counts ceil(epochs / q) steps: pass the epochs that give exactly 1185.
    tf_steps_epochs = 15 * 79 * q
    assert math.ceil(tf_steps_epochs / q) == 1185
    assert eps["poisson_rdp"] == pytest.approx(
        tfp_lib._compute_dp_sgd_example_privacy(
            tf_steps_epochs, 1.1, 1e-5, False, poisson_subsampling_probability=q
        ),
        rel=1e-9,
    )
    assert eps["poisson_pld"] < eps["poisson_rdp"] < 2.5
    assert eps["shuffled_pld"] > 8 * eps["poisson_rdp"]


@pytest.mark.parametrize("n,batch,epochs,sigma,delta", SETTINGS)
def test_pld_is_tighter_and_shuffling_without_amplification_is_worse(
    n, batch, epochs, sigma, delta
):
    eps = pa.dp_sgd_epsilons(
        n=n, batch_size=batch, steps=epochs * n // batch, noise_multiplier=sigma, delta=delta
    )
    assert eps["poisson_pld"] <= eps["poisson_rdp"]
    assert eps["shuffled_pld"] <= eps["shuffled_rdp"]
    assert eps["shuffled_pld"] > eps["poisson_rdp"]


def test_shuffled_epochs_round_up_and_epsilon_grows_with_steps():
    base = dict(n=1000, batch_size=100, noise_multiplier=1.0, delta=1e-5)
    assert pa.steps_per_epoch(1000, 100) == 10 and pa.steps_per_epoch(1001, 100) == 11
    by_steps = {s: pa.dp_sgd_epsilons(steps=s, **base) for s in (10, 11, 20, 40)}
    assert by_steps[11]["shuffled_rdp"] == by_steps[20]["shuffled_rdp"]  # 2 epochs
    assert by_steps[10]["shuffled_rdp"] < by_steps[11]["shuffled_rdp"]
    poisson = [by_steps[s]["poisson_rdp"] for s in (10, 20, 40)]
    assert poisson == sorted(poisson) and poisson[2] < 2 * poisson[1]


def test_events_are_the_documented_compositions():
    event = pa.poisson_dp_sgd_event(1.1, 0.01, 7)
    assert event == dp_accounting.SelfComposedDpEvent(
        dp_accounting.PoissonSampledDpEvent(0.01, dp_accounting.GaussianDpEvent(1.1)), 7
    )
    assert pa.shuffled_dp_sgd_event(2.0, 3) == dp_accounting.SelfComposedDpEvent(
        dp_accounting.GaussianDpEvent(2.0), 3
    )


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="noise_multiplier"):
        pa.poisson_dp_sgd_event(0.0, 0.1, 10)
    with pytest.raises(TypeError, match="noise_multiplier"):
        pa.poisson_dp_sgd_event("1.1", 0.1, 10)
    with pytest.raises(ValueError, match="sampling_probability"):
        pa.poisson_dp_sgd_event(1.0, 1.5, 10)
    with pytest.raises(ValueError, match="steps"):
        pa.poisson_dp_sgd_event(1.0, 0.1, 0)
    with pytest.raises(ValueError, match="epochs"):
        pa.shuffled_dp_sgd_event(1.0, 2.5)
    with pytest.raises(ValueError, match="delta"):
        pa.epsilon(pa.shuffled_dp_sgd_event(1.0, 1), 0.0)
    with pytest.raises(ValueError, match="accountant"):
        pa.epsilon(pa.shuffled_dp_sgd_event(1.0, 1), 1e-5, "prv")
    with pytest.raises(TypeError, match="DpEvent"):
        pa.epsilon("event", 1e-5)
    with pytest.raises(ValueError, match="exceed"):
        pa.steps_per_epoch(10, 20)


def test_group_privacy_formula():
    # k records: (k eps, k e^{(k-1) eps} delta); one record changes nothing.
    assert pa.group_privacy(0.5, 1e-6, 1) == (0.5, 1e-6)
    eps_k, delta_k = pa.group_privacy(0.5, 1e-6, 7)
    assert eps_k == pytest.approx(3.5)
    assert delta_k == pytest.approx(7 * math.exp(3.0) * 1e-6)
    assert pa.group_privacy(2.0, 0.0, 7) == (14.0, 0.0)
    assert pa.group_privacy(300.0, 1e-6, 7)[1] == math.inf  # vacuous, not an overflow
    with pytest.raises(ValueError, match="epsilon"):
        pa.group_privacy(math.inf, 1e-6, 7)
    with pytest.raises(ValueError, match="delta"):
        pa.group_privacy(1.0, 1.0, 7)
    with pytest.raises(ValueError, match="k must be"):
        pa.group_privacy(1.0, 1e-6, 0)


def test_a_group_of_one_is_the_per_image_accounting():
    one = pa.group_poisson_dp_sgd_event(2.0, 0.5, 100, 1)
    assert one == pa.poisson_dp_sgd_event(2.0, 0.5, 100)
    assert pa.epsilon(one, 1e-6, "pld") == pa.epsilon(
        pa.poisson_dp_sgd_event(2.0, 0.5, 100), 1e-6, "pld"
    )


def test_a_group_is_a_poisson_gaussian_with_rate_1_minus_1_minus_q_to_the_k_and_sigma_over_k():
    event = pa.group_poisson_dp_sgd_event(8.0, 0.5, 100, 7)
    step = event.event
    assert event.count == 100
    assert step.sampling_probability == pytest.approx(1 - 0.5**7)
    assert step.event.noise_multiplier == pytest.approx(8.0 / 7)


@pytest.mark.parametrize("accountant", ["rdp", "pld"])
def test_person_level_epsilon_grows_with_the_number_of_images(accountant):
    eps = [
        pa.epsilon(pa.group_poisson_dp_sgd_event(8.0, 0.1, 200, k), 1e-6, accountant)
        for k in (1, 2, 4, 7)
    ]
    assert eps == sorted(eps) and eps[0] < eps[-1]
    assert all(math.isfinite(e) for e in eps)


def test_a_coarser_pld_grid_is_an_upper_bound_within_steps_times_the_grid():
    event = pa.poisson_dp_sgd_event(1.0, 0.5, 50)
    library = pld.PLDAccountant().compose(event).get_epsilon(1e-6)  # dp_accounting's default
    assert pa.epsilon(event, 1e-6, "pld") == library
    coarse = pa.epsilon(event, 1e-6, "pld", pld_discretization=1e-3)
    assert library <= coarse <= library + 50 * 1e-3
    with pytest.raises(ValueError, match="pld_discretization"):
        pa.epsilon(event, 1e-6, "pld", pld_discretization=0.0)
    with pytest.raises(TypeError, match="pld_discretization"):
        pa.epsilon(event, 1e-6, "pld", pld_discretization="1e-3")


def test_group_accounting_refuses_bad_groups():
    with pytest.raises(ValueError, match="group_size"):
        pa.group_poisson_dp_sgd_event(1.0, 0.5, 10, 0)
    with pytest.raises(ValueError, match="group_size"):
        pa.group_poisson_dp_sgd_event(1.0, 0.5, 10, 2.5)
    with pytest.raises(ValueError, match="sampling_probability"):
        pa.group_poisson_dp_sgd_event(1.0, 1.5, 10, 2)


def test_the_accounting_imports_without_tensorflow():
    # A fresh interpreter: the accounting, reached as a module or as a name of dp_sgd, loads
    # dp_accounting but neither TensorFlow nor TF Privacy.
    code = (
        "import sys\n"
        "from mlprivacy_helpers.dp_sgd import accounting\n"
        "from mlprivacy_helpers import dp_sgd\n"
        "eps = dp_sgd.dp_sgd_epsilons(n=1000, batch_size=100, steps=50, noise_multiplier=1.1,"
        " delta=1e-5)\n"
        "assert dp_sgd.epsilon is accounting.epsilon\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in"
        " ('tensorflow', 'tensorflow_privacy', 'keras'))\n"
        "print(len(heavy), heavy[:3], 'dp_accounting' in sys.modules, eps['poisson_rdp'] > 0)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.split()[0] == "0", out
    assert out.strip().endswith("True True"), out


def test_dp_sgd_names_come_from_their_rooms():
    from mlprivacy_helpers.dp_sgd import accounting, clipping, poisson

    assert pa.steps_taken is poisson.steps_taken and pa.make_dp_model is clipping.make_dp_model
    assert pa.group_privacy is accounting.group_privacy
    assert set(pa.__all__) >= {"PoissonDPModel", "dp_sgd_epsilons", "uses_fast_clipping"}
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        pa.nothing  # noqa: B018


# The trade-off bound: what a privacy profile allows any membership test.
def gaussian_dp_curve(fpr: np.ndarray, sigma: float) -> np.ndarray:
    """Dong, Roth and Su's Gaussian-DP trade-off: TPR = Φ(Φ⁻¹(FPR) + μ), μ = 1/σ."""
    return stats.norm.cdf(stats.norm.ppf(fpr) + 1.0 / sigma)


FPRS = np.array([1e-4, 1e-3, 1e-2, 0.05, 0.2, 0.5, 0.9])


@pytest.mark.parametrize("sigma", [0.5, 1.0, 2.0, 5.0])
def test_a_gaussian_mechanism_gives_the_gaussian_dp_curve(sigma):
    bound = pa.tradeoff_tpr_bound(dp_accounting.GaussianDpEvent(sigma), FPRS)
    exact = gaussian_dp_curve(FPRS, sigma)
    assert np.all(bound >= exact - 1e-9)  # a valid bound: never below the truth
    assert np.all(bound <= exact * 1.03 + 1e-4), np.c_[bound, exact]  # and tight


def test_the_bound_rises_with_the_fpr_and_lies_between_chance_and_one():
    event = pa.poisson_dp_sgd_event(1.1, 0.0465, 220)
    fprs = np.geomspace(1e-5, 1, 60)
    bound = pa.tradeoff_tpr_bound(event, fprs)
    assert np.all(np.diff(bound) >= -1e-12)
    assert np.all(bound >= fprs - 1e-12) and np.all(bound <= 1.0)


def test_the_whole_profile_is_never_above_a_single_pair_and_far_below_it_at_low_fpr():
    # Notebook 04's quick DP target: q ≈ 0.0465, 220 steps, σ = 1.1, δ = 1e-5.
    event = pa.poisson_dp_sgd_event(1.1, 0.0465, 220)
    epsilons, deltas = pa.privacy_profile(event)
    eps = pa.epsilon(event, 1e-5, "pld")
    single = attack_metrics.dp_tpr_bound(FPRS, eps, 1e-5)
    profile = pa.tpr_bound_from_profile(FPRS, epsilons, deltas)
    assert np.all(profile <= single + 1e-12)
    at_1pct = pa.tpr_bound_from_profile(0.01, epsilons, deltas)
    assert at_1pct < attack_metrics.dp_tpr_bound(0.01, eps, 1e-5) / 5
    # Each pair of the profile is a guarantee of its own: δ(ε) falls as ε grows.
    assert np.all(np.diff(deltas) <= 1e-15) and deltas[0] <= 1 and deltas[-1] < 1e-10


def test_one_pair_is_the_single_pair_bound():
    for eps, delta in [(0.5, 0.0), (3.84, 1e-5), (8.0, 1e-3)]:
        got = pa.tpr_bound_from_profile(FPRS, np.array([eps]), np.array([delta]))
        assert np.allclose(got, attack_metrics.dp_tpr_bound(FPRS, eps, delta))
    assert isinstance(pa.tpr_bound_from_profile(0.01, np.array([1.0]), np.array([0.0])), float)


def test_replace_one_allows_more_than_add_or_remove():
    event = dp_accounting.GaussianDpEvent(2.0)
    add_remove = pa.tradeoff_tpr_bound(event, 0.01)
    replace = pa.tradeoff_tpr_bound(event, 0.01, relation="replace_one")
    # Replacing a record moves a sum by up to twice its norm: Gaussian DP with μ = 2/σ.
    assert replace > add_remove
    assert replace == pytest.approx(gaussian_dp_curve(np.array([0.01]), 1.0)[0], rel=0.03)


@pytest.mark.parametrize("q, sigma", [(0.05, 1.0), (0.3, 0.8), (1.0, 2.0)])
def test_no_test_of_one_sampled_gaussian_step_beats_the_bound_and_the_best_one_nearly_meets_it(
    q, sigma
):
    # One Poisson-sampled Gaussian step, computed independently of dp_accounting: with the
    # example, the output is N(0, σ²) with probability 1 - q and N(1, σ²) with probability q;
    # without it, N(0, σ²). The likelihood ratio rises with the output, so the best test of
    # "with" against "without" flags outputs above a threshold t (Neyman-Pearson).
    fpr = np.geomspace(1e-4, 0.5, 40)
    t = stats.norm.isf(fpr, scale=sigma)
    best_tpr = (1 - q) * fpr + q * stats.norm.sf(t, loc=1.0, scale=sigma)
    event = dp_accounting.PoissonSampledDpEvent(q, dp_accounting.GaussianDpEvent(sigma))
    bound = pa.tradeoff_tpr_bound(event, fpr)
    assert np.all(bound >= best_tpr - 1e-9), np.c_[fpr, bound, best_tpr]
    assert np.all(bound <= best_tpr + 0.05), np.c_[fpr, bound, best_tpr]


def test_the_trade_off_functions_refuse_bad_input():
    with pytest.raises(TypeError, match="DpEvent"):
        pa.privacy_profile("gaussian")
    with pytest.raises(ValueError, match="relation"):
        pa.privacy_profile(dp_accounting.GaussianDpEvent(1.0), relation="zero_out")
    with pytest.raises(ValueError, match="fpr"):
        pa.tpr_bound_from_profile(1.5, np.array([1.0]), np.array([0.0]))
    with pytest.raises(ValueError, match="same length"):
        pa.tpr_bound_from_profile(0.1, np.array([1.0, 2.0]), np.array([0.0]))
    with pytest.raises(ValueError, match="epsilons"):
        pa.privacy_profile(dp_accounting.GaussianDpEvent(1.0), np.array([-1.0]))
    with pytest.raises(ValueError, match="not differentially private"):
        pa.privacy_profile(dp_accounting.NonPrivateDpEvent())


@pytest.mark.parametrize(
    "event",
    [pa.poisson_dp_sgd_event(1.1, 0.05, 200), dp_accounting.GaussianDpEvent(1.0)],
    ids=["dp-sgd", "gaussian"],
)
def test_a_replace_one_guarantee_is_weaker_and_within_group_privacy_of_two(event):
    delta = 1e-5
    add_remove = pa.epsilon(event, delta, "pld")
    replace = pa.epsilon(event, delta, "pld", relation="replace_one")
    assert replace > add_remove
    # A replacement is a removal and an addition: group privacy for two gives (2ε, (1 + e^ε)δ),
    # a statement at a larger δ (at the same δ the ratio can exceed 2: 2.3 for the Gaussian).
    at_group_delta = pa.epsilon(
        event, (1 + math.exp(add_remove)) * delta, "pld", relation="replace_one"
    )
    assert at_group_delta <= 2 * add_remove + 1e-3
    with pytest.raises(ValueError, match="RDP"):
        pa.epsilon(event, 1e-5, "rdp", relation="replace_one")
    with pytest.raises(ValueError, match="relation"):
        pa.epsilon(event, 1e-5, "pld", relation="zero_out")


def test_kept_accountants_give_a_fresh_accountants_numbers_and_are_not_changed():
    # pa keeps the last few composed PLD accountants: the numbers must be a fresh one's, before
    # and after the same event's privacy profile was read off the kept one.
    event = pa.poisson_dp_sgd_event(1.1, 128 / 2750, 215)
    for relation, neighbouring in (
        ("replace_one", dp_accounting.NeighboringRelation.REPLACE_ONE),
        ("add_or_remove", dp_accounting.NeighboringRelation.ADD_OR_REMOVE_ONE),
    ):
        fresh = pld.PLDAccountant(neighbouring, 1e-4).compose(event)
        first = pa.epsilon(event, 1e-5, "pld", relation=relation)
        epsilons, deltas = pa.privacy_profile(event, np.array([0.5, 1.0, 2.0]), relation=relation)
        again = pa.epsilon(event, 1e-5, "pld", relation=relation)
        assert first == again == fresh.get_epsilon(1e-5)
        assert list(deltas) == [fresh.get_delta(e) for e in epsilons]
    # an event that holds a list of events cannot be kept (it is not hashable), and still works
    composed = dp_accounting.ComposedDpEvent([event, pa.poisson_dp_sgd_event(1.1, 0.1, 10)])
    fresh = pld.PLDAccountant(dp_accounting.NeighboringRelation.ADD_OR_REMOVE_ONE).compose(composed)
    assert pa.epsilon(composed, 1e-5, "pld") == fresh.get_epsilon(1e-5)
