"""Tests for mlprivacy_helpers.plotting.dp (the plots of notebook 01)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from mlprivacy_helpers.plotting import dp as dp_plots  # noqa: E402

DELTA = 0.01  # sensitivity of the share of 100 records, as in the notebook


def laplace_densities(eps: float, n_grid: int = 4001):
    b = DELTA / eps
    r = np.linspace(-12 * b, DELTA + 12 * b, n_grid)
    p1 = np.exp(-np.abs(r) / b) / (2 * b)
    p2 = np.exp(-np.abs(r - DELTA) / b) / (2 * b)
    return r, p1, p2


def laplace_loss(eps: float):
    r, p1, p2 = laplace_densities(eps, 501)
    return r, np.log(p1) - np.log(p2)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# --- overlap_area -------------------------------------------------------------------------


@pytest.mark.parametrize("eps", [0.1, 0.5, 1.0, 2.0, 5.0])
def test_overlap_area_matches_laplace_closed_form(eps):
    # Two Laplace densities with scale b, centres DELTA apart, overlap exp(-DELTA / (2 b)).
    assert dp_plots.overlap_area(*laplace_densities(eps)) == pytest.approx(
        np.exp(-eps / 2), abs=1e-3
    )


def test_overlap_area_identical_and_disjoint():
    x = np.linspace(0, 3, 3001)
    box1 = np.where(x < 1, 1.0, 0.0)
    box2 = np.where(x > 2, 1.0, 0.0)
    assert dp_plots.overlap_area(x, box1, box1) == pytest.approx(1.0, abs=2e-3)
    assert dp_plots.overlap_area(x, box1, box2) == 0.0


def test_overlap_area_of_two_gaussians():
    # Two unit-variance normals one apart overlap 2 * Phi(-1/2) = 0.6171.
    x = np.linspace(-10, 11, 20001)
    p = np.exp(-(x**2) / 2) / np.sqrt(2 * np.pi)
    q = np.exp(-((x - 1) ** 2) / 2) / np.sqrt(2 * np.pi)
    assert dp_plots.overlap_area(x, p, q) == pytest.approx(0.617075, abs=1e-4)


@pytest.mark.parametrize(
    ("x", "p", "q", "match"),
    [
        (np.array([0.0, 1.0]), np.array([1.0]), np.array([1.0, 1.0]), "p must have"),
        (np.array([0.0, 1.0]), np.array([1.0, 1.0]), np.array([1.0, -1.0]), "q must be"),
        (np.array([1.0, 0.0]), np.array([1.0, 1.0]), np.array([1.0, 1.0]), "x must be strictly"),
        (np.zeros((2, 2)), np.ones(2), np.ones(2), "x must be a 1-D"),
        (np.array([0.0, 1.0]), np.array([np.nan, 1.0]), np.ones(2), "p must be finite"),
    ],
)
def test_overlap_area_rejects_bad_input(x, p, q, match):
    with pytest.raises(ValueError, match=match):
        dp_plots.overlap_area(x, p, q)


# --- overlap plots --------------------------------------------------------------------------


def test_overlap_grid_panels_titles_and_shading():
    eps = [0.1, 0.5, 1.0, 2.0, 5.0]
    fig = dp_plots.overlap_grid(laplace_densities, eps, ncols=3, true_values=(0.0, DELTA))
    assert len(fig.axes) == 5  # the sixth grid cell is removed
    for ax, e in zip(fig.axes, eps, strict=True):
        title = ax.get_title()
        assert f"ε = {e:g}" in title
        shown = float(title.split("overlap = ")[1])
        assert shown == pytest.approx(np.exp(-e / 2), abs=0.006)  # printed with 2 decimals
        assert len(ax.lines) == 4  # two densities + two dotted true values
        assert len(ax.collections) == 1  # the shaded overlap
    assert fig.axes[0].get_legend() is not None
    assert all(ax.get_legend() is None for ax in fig.axes[1:])


def test_overlap_returns_area_and_zooms_on_mass():
    fig, ax = plt.subplots()
    x, p1, p2 = laplace_densities(1.0)
    area = dp_plots.overlap(ax, x, p1, p2, epsilon=1.0)
    assert area == pytest.approx(np.exp(-0.5), abs=1e-3)
    lo, hi = ax.get_xlim()
    assert x[0] < lo < 0 and DELTA < hi < x[-1]  # zoomed to where the densities are visible
    assert "overlap = 0.61" in ax.get_title()


def test_overlap_grid_rejects_bad_input():
    with pytest.raises(ValueError, match="epsilons"):
        dp_plots.overlap_grid(laplace_densities, [])
    with pytest.raises(ValueError, match="epsilons"):
        dp_plots.overlap_grid(laplace_densities, [1.0, -1.0])
    with pytest.raises(ValueError, match="ncols"):
        dp_plots.overlap_grid(laplace_densities, [1.0], ncols=0)
    with pytest.raises(ValueError, match="true_values"):
        dp_plots.overlap_grid(laplace_densities, [1.0], true_values=(0.0, 0.01, 0.02))


# --- privacy loss ---------------------------------------------------------------------------


def test_privacy_loss_grid_with_empirical_points():
    eps = [0.5, 2.0]
    empirical = [
        {
            "centers": np.array([-0.01, 0.02]),
            "log_ratio": np.array([0.52, -0.47]),
            "lower": np.array([0.4, -0.6]),
            "upper": np.array([0.6, -0.3]),
        },
        None,
    ]
    fig = dp_plots.privacy_loss_grid(
        laplace_loss, eps, empirical=empirical, interval_label="99.9% interval"
    )
    assert len(fig.axes) == 2
    # The title states the asserted bounds, not the raw maximum (0.52 > 0.5 by sampling error).
    assert fig.axes[0].get_title() == "ε = 0.5\nlower bounds ≤ 0.40, upper bounds ≥ -0.30"
    assert fig.axes[1].get_title() == "ε = 2"
    assert fig.axes[1].get_ylim() == pytest.approx((-3.6, 3.6))
    for ax, e in zip(fig.axes, eps, strict=True):
        assert ax.get_ylim()[1] >= 1.8 * e
        band = ax.patches[0].get_extents()  # not empty: the ±eps band is drawn
        assert band.height > 0
    legend_texts = [t.get_text() for t in fig.legends[0].get_texts()]
    assert any("99.9% interval" in t for t in legend_texts)


def test_privacy_loss_grid_rejects_mismatched_empirical():
    with pytest.raises(ValueError, match="one entry per epsilon"):
        dp_plots.privacy_loss_grid(laplace_loss, [0.5, 1.0], empirical=[None])
    bad = [{"centers": np.zeros(2), "log_ratio": np.zeros(3), "lower": np.zeros(2), "upper": 0}]
    with pytest.raises(ValueError, match="differ in shape"):
        dp_plots.privacy_loss_grid(laplace_loss, [0.5], empirical=bad)
    with pytest.raises(ValueError, match="loss must have"):
        dp_plots.privacy_loss_grid(lambda e: (np.arange(3.0), np.zeros(2)), [0.5])


# --- other figures --------------------------------------------------------------------------


def test_exp_vs_linear_curves():
    fig = dp_plots.exp_vs_linear(eps_max=2.0, per_query_epsilon=0.1, k_max=20)
    left, right = fig.axes[:2]
    exp_line, lin_line = left.lines
    np.testing.assert_allclose(exp_line.get_ydata(), np.exp(exp_line.get_xdata()))
    np.testing.assert_allclose(lin_line.get_ydata(), 1 + lin_line.get_xdata())
    k = right.lines[0].get_xdata()
    np.testing.assert_allclose(right.lines[0].get_ydata(), np.exp(0.1 * k))
    assert "0.1" in right.get_title()
    with pytest.raises(ValueError, match="eps_max"):
        dp_plots.exp_vs_linear(eps_max=0)
    with pytest.raises(ValueError, match="k_max"):
        dp_plots.exp_vs_linear(k_max=1)


def test_loss_tail_reports_mass_and_counts():
    rng = np.random.default_rng(0)
    samples = rng.normal(0.0, 0.1, size=10_000)
    r = np.linspace(-1, 1, 101)
    fig = dp_plots.loss_tail(r, -0.6 * r, samples, 0.3, mass=1.3e-3, delta=1e-2)
    left, right = fig.axes
    assert "= 0.0013" in right.get_title() and "δ = 1e-02" in right.get_title()
    n_above = int(np.sum(samples > 0.3))
    labels = [t.get_text() for t in right.get_legend().get_texts()]
    assert f"loss > ε ({n_above} outputs)" in labels
    assert right.get_yscale() == "log"
    with pytest.raises(ValueError, match="loss_samples"):
        dp_plots.loss_tail(r, r, np.array([]), 0.3, mass=0.0, delta=1e-5)
    with pytest.raises(ValueError, match="epsilon"):
        dp_plots.loss_tail(r, r, samples, -1.0, mass=0.0, delta=1e-5)


def test_utility_lines_per_size():
    eps = np.array([0.1, 1.0, 10.0])
    mae = {100: 1 / (100 * eps), 1000: 1 / (1000 * eps)}
    fig = dp_plots.utility(eps, mae, mae, reference=(0.01, "one patient"))
    (ax,) = fig.axes
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert len(ax.lines) == 5  # 2 measured + 2 expected + 1 reference line
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "n = 1,000 (measured)" in labels
    with pytest.raises(ValueError, match="one value per epsilon"):
        dp_plots.utility(eps, {100: np.ones(2)})
    with pytest.raises(ValueError, match="epsilons"):
        dp_plots.utility(np.array([0.0, 1.0]), mae)


def test_composition_panels_and_bound():
    rng = np.random.default_rng(1)
    ks = [1, 10, 100]
    averages = {k: (rng.normal(0, 1 / k, 500), rng.normal(0.01, 1 / k, 500)) for k in (1, 100)}
    bound = [np.exp(k * 0.5) / (1 + np.exp(k * 0.5)) for k in ks]
    fig = dp_plots.composition(
        ks, [0.6, 0.7, 0.95], bound, epsilon=0.5, averages=averages, threshold=0.005
    )
    assert len(fig.axes) == 3  # two small histogram panels + the accuracy panel
    titles = [ax.get_title() for ax in fig.axes]
    assert "average of k = 1 answers" in titles and "average of k = 100 answers" in titles
    main = next(ax for ax in fig.axes if ax.get_xscale() == "log")
    np.testing.assert_allclose(main.lines[1].get_ydata(), bound)
    assert [a.get_xlabel() for a in main.child_axes] == ["total privacy budget k·ε"]
    fig_small = dp_plots.composition(ks, [0.6, 0.7, 0.95], bound, epsilon=0.5)
    assert len(fig_small.axes) == 1  # the accuracy panel only
    with pytest.raises(ValueError, match="one value per k"):
        dp_plots.composition(ks, [0.6], bound, epsilon=0.5)
    with pytest.raises(ValueError, match="epsilon"):
        dp_plots.composition(ks, [0.6, 0.7, 0.95], bound, epsilon=0.0)


def test_overlap_title_reads_like_the_slider():
    # A log slider gives epsilon = 10**0.1 = 1.2589...; the title must say 1.26, not 1.25893.
    fig, ax = plt.subplots()
    x = np.linspace(-1, 1, 201)
    p = np.exp(-np.abs(x)) / 2
    dp_plots.overlap(ax, x, p, p[::-1], epsilon=10**0.1)
    assert ax.get_title().startswith("ε = 1.26 ")
    plt.close(fig)


def test_privacy_loss_grid_never_clips_an_interval():
    # Small epsilon: the intervals are much wider than the ±1.8 eps default range.
    empirical = [
        {
            "centers": np.array([0.0, 0.01]),
            "log_ratio": np.array([0.1, -0.05]),
            "lower": np.array([-0.3, -0.5]),
            "upper": np.array([0.45, np.inf]),
        }
    ]
    fig = dp_plots.privacy_loss_grid(laplace_loss, [0.1], empirical=empirical)
    low, high = fig.axes[0].get_ylim()
    assert low <= -0.5 and high >= 0.45
