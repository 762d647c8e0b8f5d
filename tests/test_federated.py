"""mlprivacy_helpers.federated: what a client sends, PSNR and matching, iDLG's label read-out and
gradient inversion, on cases with a known answer."""

from __future__ import annotations

import logging
import math

import numpy as np
import pytest
import tensorflow as tf

from mlprivacy_helpers.cache import CacheWarning
from mlprivacy_helpers.federated import (
    client,
    gradient_inversion,
    metrics,
    simulation,
    trap_weights,
)


def small_model(seed: int, hidden: int = 16, shape=(4, 4, 1), classes: int = 5) -> tf.keras.Model:
    tf.keras.utils.set_random_seed(seed)
    return tf.keras.Sequential(
        [
            tf.keras.layers.Input(shape),
            tf.keras.layers.Flatten(),
            tf.keras.layers.Dense(hidden, activation="relu"),
            tf.keras.layers.Dense(classes),
        ]
    )


def images(n: int, seed: int, shape=(4, 4, 1)) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0, 1, size=(n, *shape)).astype(np.float32)


# --- metrics --------------------------------------------------------------------------------


def test_psnr_is_infinite_for_a_copy_and_known_for_a_shift():
    x = images(3, 0)
    assert np.all(np.isinf(metrics.psnr(x, x.copy())))
    for shift in (0.1, 0.01):
        assert metrics.psnr(x, x + shift) == pytest.approx([20 * math.log10(1 / shift)] * 3)
    # the data range scales the peak: pixels in [0, 255], off by 25.5 -> 20 dB
    assert metrics.psnr(255 * x, 255 * x + 25.5, data_range=255) == pytest.approx([20.0] * 3)
    assert metrics.psnr_matrix(x, x)[0, 1] < metrics.psnr_matrix(x, x)[0, 0]


def test_matched_psnr_undoes_a_permutation_and_best_psnr_may_repeat():
    x = images(5, 1)
    order = np.array([3, 0, 4, 1, 2])
    noisy = x[order] + 0.05
    values, index = metrics.matched_psnr(x, noisy)
    assert np.all(order[index] == np.arange(5))
    assert values == pytest.approx([20 * math.log10(20)] * 5)
    # one candidate close to every original wins for all of them under best_psnr only
    middle = np.full((1, 4, 4, 1), 0.5, dtype=np.float32)
    best, which = metrics.best_psnr(x, np.concatenate([middle, x[:2] + 0.3]))
    assert best.shape == (5,) and set(which) <= {0, 1, 2}
    with pytest.raises(ValueError, match="at least as many"):
        metrics.matched_psnr(x, x[:3])


def test_metrics_refuse_bad_input():
    x = images(2, 0)
    with pytest.raises(ValueError, match="shape"):
        metrics.psnr(x, x[:1])
    with pytest.raises(ValueError, match="one size"):
        metrics.psnr_matrix(x, images(2, 0, shape=(5, 5, 1)))
    with pytest.raises(ValueError, match="data_range"):
        metrics.psnr(x, x, data_range=0)
    with pytest.raises(TypeError, match="numeric"):
        metrics.psnr_matrix(np.array([["a"]]), x)
    with pytest.raises(ValueError, match="non-empty"):
        metrics.psnr_matrix(np.zeros((0, 4)), x)


# --- the client -----------------------------------------------------------------------------


def test_client_gradient_is_the_mean_of_the_per_example_gradients():
    model = small_model(0)
    x, y = images(6, 2), np.array([0, 1, 2, 3, 4, 0])
    mean = client.client_gradient(model, x, y)
    per_example = client.per_example_gradients(model, x, y)
    assert [g.shape for g in mean] == [tuple(v.shape) for v in model.trainable_variables]
    for g, p in zip(mean, per_example, strict=True):
        assert p.shape == (6, *g.shape)
        np.testing.assert_allclose(p.mean(axis=0), g, atol=1e-6)
    # a FedAvg client with one full-batch step sends exactly the FedSGD gradient
    before = [v.numpy() for v in model.trainable_variables]
    update = client.local_update(model, x, y, steps=1, learning_rate=0.5)
    for u, g in zip(update, mean, strict=True):
        np.testing.assert_allclose(u, g, atol=1e-5)
    for v, b in zip(model.trainable_variables, before, strict=True):
        np.testing.assert_array_equal(v.numpy(), b)  # the model is left as it was
    # several local steps send something else
    three = client.local_update(model, x, y, steps=3, learning_rate=0.5, batch_size=2)
    assert max(float(np.abs(a - b).max()) for a, b in zip(three, mean, strict=True)) > 1e-3


def test_dp_client_gradient_clips_each_example_and_adds_the_stated_noise():
    model = small_model(1)
    x, y = images(8, 3), np.arange(8) % 5
    per_example = client.per_example_gradients(model, x, y)
    norms = np.sqrt(sum((g.reshape(8, -1) ** 2).sum(axis=1) for g in per_example))
    for chunk in (1, 3, 16):
        np.testing.assert_allclose(
            client.per_example_gradient_norms(model, x, y, chunk=chunk), norms, rtol=1e-5
        )
    # a clip above every norm and no noise: the plain mean
    plain = client.dp_client_gradient(
        model, x, y, l2_norm_clip=float(norms.max()) * 2, noise_multiplier=0.0, seed=0
    )
    for a, b in zip(plain, client.client_gradient(model, x, y), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-6)
    # a small clip: every example counts with norm exactly C, so the mean is the mean of the
    # per-example gradients scaled to norm C
    c = float(norms.min()) / 4
    clipped = client.dp_client_gradient(model, x, y, l2_norm_clip=c, noise_multiplier=0.0, seed=0)
    for a, g in zip(clipped, per_example, strict=True):
        expected = np.tensordot(c / norms, g, axes=1) / 8
        np.testing.assert_allclose(a, expected, rtol=1e-4, atol=1e-7)
    # noise: standard deviation sigma * C / n per coordinate, reproducible from the seed
    noisy = client.dp_client_gradient(model, x, y, l2_norm_clip=c, noise_multiplier=3.0, seed=5)
    again = client.dp_client_gradient(model, x, y, l2_norm_clip=c, noise_multiplier=3.0, seed=5)
    residual = np.concatenate([(n - a).ravel() for n, a in zip(noisy, clipped, strict=True)])
    assert residual.std() == pytest.approx(3.0 * c / 8, rel=0.1)
    assert all(np.array_equal(a, b) for a, b in zip(noisy, again, strict=True))
    # Poisson sampling: divided by the expected batch size, the same sum and the same noise
    over_20 = client.dp_client_gradient(
        model, x, y, l2_norm_clip=c, noise_multiplier=3.0, seed=5, denominator=20
    )
    for a, b in zip(over_20, noisy, strict=True):
        np.testing.assert_allclose(a, b * 8 / 20, rtol=1e-5, atol=1e-8)
    # an empty Poisson batch sends the noise alone: standard deviation sigma * C / denominator
    empty = client.dp_client_gradient(
        model, x[:0], y[:0], l2_norm_clip=c, noise_multiplier=3.0, seed=5, denominator=20
    )
    assert [e.shape for e in empty] == [v.shape for v in model.trainable_variables]
    assert np.concatenate([e.ravel() for e in empty]).std() == pytest.approx(3.0 * c / 20, rel=0.1)


def test_client_functions_refuse_bad_input():
    model = small_model(0)
    x = images(2, 0)
    with pytest.raises(ValueError, match="same length"):
        client.client_gradient(model, x, np.array([0]))
    with pytest.raises(TypeError, match="integer class labels"):
        client.client_gradient(model, x, np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="l2_norm_clip"):
        client.dp_client_gradient(
            model, x, np.array([0, 1]), l2_norm_clip=0.0, noise_multiplier=1.0, seed=0
        )
    with pytest.raises(ValueError, match="noise_multiplier"):
        client.dp_client_gradient(
            model, x, np.array([0, 1]), l2_norm_clip=1.0, noise_multiplier=-1.0, seed=0
        )
    for denominator, error in ((0, ValueError), (-2.0, ValueError), ("8", TypeError)):
        with pytest.raises(error, match="denominator"):
            client.dp_client_gradient(
                model, x, np.array([0, 1]), l2_norm_clip=1.0, noise_multiplier=1.0, seed=0,
                denominator=denominator,
            )  # fmt: skip
    with pytest.raises(ValueError, match="non-empty batch"):  # an empty batch needs a denominator
        client.dp_client_gradient(
            model, x[:0], np.array([], int), l2_norm_clip=1.0, noise_multiplier=1.0, seed=0
        )
    with pytest.raises(ValueError, match="steps"):
        client.local_update(model, x, np.array([0, 1]), steps=0, learning_rate=0.1)


# --- the honest-but-curious server ---------------------------------------------------------


def test_idlg_reads_the_label_of_a_single_image_from_the_last_layer():
    for seed in range(3):
        model = small_model(seed, classes=7)
        for label in range(7):
            x = images(1, 10 * seed + label)
            grads = client.client_gradient(model, x, np.array([label]))
            assert gradient_inversion.label_from_gradient(grads[-2]) == label
    with pytest.raises(ValueError, match="kernel gradient"):
        gradient_inversion.label_from_gradient(np.zeros(5))


def test_total_variation_of_known_images():
    flat = tf.zeros((2, 4, 4, 1))
    assert np.allclose(gradient_inversion.total_variation(flat).numpy(), 0.0)
    stripes = np.zeros((1, 4, 4, 1), np.float32)
    stripes[:, :, ::2] = 1.0  # columns alternate: every horizontal neighbour differs by 1
    assert gradient_inversion.total_variation(tf.constant(stripes)).numpy() == pytest.approx([1.0])


@pytest.mark.parametrize("distance", ["l2", "cosine"])
def test_inverting_the_gradient_of_a_linear_model_recovers_the_image(distance):
    # softmax regression on one image: the kernel's gradient is x (p - onehot)^T, so the
    # gradient determines the image exactly, and matching it must find the image
    tf.keras.utils.set_random_seed(0)
    model = tf.keras.Sequential(
        [tf.keras.layers.Input((4, 4, 1)), tf.keras.layers.Flatten(), tf.keras.layers.Dense(3)]
    )
    x, y = images(1, 7), np.array([2])
    target = client.client_gradient(model, x, y)
    result = gradient_inversion.invert_gradients(
        model, target, y, iterations=400, distance=distance, restarts=2, seed=1
    )
    assert result.images.shape == x.shape and result.restart_losses.shape == (2,)
    assert result.loss == pytest.approx(result.restart_losses.min())
    assert 0.0 <= result.images.min() and result.images.max() <= 1.0
    assert metrics.psnr(x, result.images)[0] > 30.0
    assert result.seconds_per_iteration > 0


def test_the_compiled_step_is_the_eager_step():
    model = small_model(2)
    x, y = images(2, 4), np.array([1, 3])
    target = client.client_gradient(model, x, y)
    runs = [
        gradient_inversion.invert_gradients(
            model, target, y, iterations=20, tv_weight=1e-2, restarts=2, seed=3, compiled=c
        )
        for c in (True, False)
    ]
    np.testing.assert_allclose(runs[0].images, runs[1].images, atol=1e-4)
    np.testing.assert_allclose(runs[0].restart_losses, runs[1].restart_losses, atol=1e-5)


def test_the_reported_loss_is_the_gradient_match_without_the_prior():
    model = small_model(3)
    x, y = images(1, 5), np.array([2])
    target = client.client_gradient(model, x, y)
    result = gradient_inversion.invert_gradients(
        model, target, y, iterations=5, tv_weight=100.0, restarts=1, seed=0
    )
    found = client.client_gradient(model, result.images, y)
    a = np.concatenate([g.ravel() for g in found])
    b = np.concatenate([g.ravel() for g in target])
    cosine = a @ b / (np.linalg.norm(a) * np.linalg.norm(b))
    assert result.loss == pytest.approx(1.0 - cosine, abs=1e-5)


def test_invert_gradients_refuses_bad_input():
    model = small_model(0)
    grads = client.client_gradient(model, images(1, 0), np.array([1]))
    with pytest.raises(ValueError, match="distance"):
        gradient_inversion.invert_gradients(model, grads, [1], iterations=2, distance="l1")
    with pytest.raises(ValueError, match="trainable variables"):
        gradient_inversion.invert_gradients(model, grads[:-1], [1], iterations=2)
    with pytest.raises(ValueError, match="iterations"):
        gradient_inversion.invert_gradients(model, grads, [1], iterations=0)
    with pytest.raises(ValueError, match="labels"):
        gradient_inversion.invert_gradients(model, grads, [0.5], iterations=2)


def test_invert_gradients_cached_computes_once_then_loads(tmp_path, monkeypatch):
    monkeypatch.setenv("MLPRIVACY_CACHE", str(tmp_path))
    model = small_model(4)
    x, y = images(2, 6), np.array([0, 4])
    target = client.client_gradient(model, x, y)
    settings = {"iterations": 10, "tv_weight": 1e-2, "restarts": 2, "seed": 5}
    direct = gradient_inversion.invert_gradients(model, target, y, **settings)
    first, cached_first = gradient_inversion.invert_gradients_cached(model, target, y, **settings)
    again, cached_again = gradient_inversion.invert_gradients_cached(model, target, y, **settings)
    assert (cached_first, cached_again) == (False, True)
    np.testing.assert_array_equal(first.images, direct.images)  # the same steps, seeded
    for result in (first, again):
        np.testing.assert_array_equal(result.images, first.images)
        np.testing.assert_array_equal(result.restart_losses, first.restart_losses)
        assert result.loss == first.loss
        assert result.seconds_per_iteration == first.seconds_per_iteration
    # the eager path is the same computation: it loads what the compiled one stored
    assert gradient_inversion.invert_gradients_cached(model, target, y, compiled=False, **settings)[
        1
    ]


def test_invert_gradients_cached_never_reuses_another_inversion(tmp_path, monkeypatch):
    monkeypatch.setenv("MLPRIVACY_CACHE", str(tmp_path))
    model = small_model(4)
    x, y = images(2, 6), np.array([0, 4])
    target = client.client_gradient(model, x, y)
    base = {"iterations": 4, "seed": 0}
    gradient_inversion.invert_gradients_cached(model, target, y, **base)
    other_model = small_model(5)  # same architecture, other weights
    others = [
        (model, target, y, {**base, "seed": 1}),
        (model, target, y, {**base, "distance": "l2"}),
        (model, target, y, {**base, "tv_weight": 0.1}),
        (model, target, y, {**base, "iterations": 5}),
        (model, target, np.array([1, 4]), base),
        (model, [g * 2 for g in target], y, base),
        (other_model, client.client_gradient(other_model, x, y), y, base),
    ]
    for m, g, labels, settings in others:
        assert not gradient_inversion.invert_gradients_cached(m, g, labels, **settings)[1]
    assert len(list(tmp_path.glob("inversion-*.npz"))) == 1 + len(others)


def test_invert_gradients_cached_off_damaged_and_bad_input(tmp_path, monkeypatch):
    model = small_model(4)
    x, y = images(1, 6), np.array([3])
    target = client.client_gradient(model, x, y)
    monkeypatch.setenv("MLPRIVACY_CACHE", "off")
    off = gradient_inversion.invert_gradients_cached(model, target, y, iterations=3)
    assert off[1] is False and not list(tmp_path.iterdir())
    monkeypatch.setenv("MLPRIVACY_CACHE", str(tmp_path))
    gradient_inversion.invert_gradients_cached(model, target, y, iterations=3)
    (entry,) = tmp_path.glob("inversion-*.npz")
    entry.write_bytes(b"not an npz")
    with pytest.warns(CacheWarning, match="Damaged model-cache entry"):
        got, cached = gradient_inversion.invert_gradients_cached(model, target, y, iterations=3)
    assert not cached
    np.testing.assert_array_equal(got.images, off[0].images)
    assert gradient_inversion.invert_gradients_cached(model, target, y, iterations=3)[1]
    with pytest.raises(TypeError, match="no setting steps"):
        gradient_inversion.invert_gradients_cached(model, target, y, iterations=3, steps=2)
    with pytest.raises(TypeError, match="iterations"):
        gradient_inversion.invert_gradients_cached(model, target, y)
    with pytest.raises(TypeError, match="Keras model"):
        gradient_inversion.invert_gradients_cached("model", target, y, iterations=3)


# --- the malicious server -------------------------------------------------------------------


def trap_model(neurons: int, shape=(6, 6, 3), seed: int = 0) -> tf.keras.Model:
    tf.keras.utils.set_random_seed(seed)
    model = tf.keras.Sequential(
        [
            tf.keras.layers.Input(shape),
            tf.keras.layers.Flatten(),
            tf.keras.layers.Dense(neurons, activation="relu"),
            tf.keras.layers.Dense(10),
        ]
    )
    kernel = trap_weights.trap_kernel(int(np.prod(shape)), neurons, seed=seed)
    model.layers[1].set_weights([kernel, np.zeros(neurons, np.float32)])
    return model


def test_trap_kernel_is_half_negative_with_shrunk_positive_twins():
    kernel = trap_weights.trap_kernel(10, 4, sigma=0.5, scale_factor=0.9, seed=0)
    assert kernel.shape == (10, 4) and kernel.dtype == np.float32
    for column in kernel.T:
        negative, positive = np.sort(-column[column < 0]), np.sort(column[column > 0])
        assert len(negative) == len(positive) == 5
        np.testing.assert_allclose(positive, 0.9 * negative, rtol=1e-6)
    # on non-negative images of CIFAR-10's size trap neurons fire rarely, a Glorot layer's
    # about half the time
    x = images(64, 0, shape=(32, 32, 3))
    trap = trap_weights.active_neurons(
        x, trap_weights.trap_kernel(3072, 128, seed=1), np.zeros(128)
    )
    glorot = tf.keras.initializers.GlorotUniform(seed=1)((3072, 128)).numpy()
    plain = trap_weights.active_neurons(x, glorot, np.zeros(128))
    assert trap.mean() < 0.2 < 0.4 < plain.mean()
    with pytest.raises(ValueError, match="scale_factor"):
        trap_weights.trap_kernel(10, 4, scale_factor=1.0, seed=0)
    with pytest.raises(ValueError, match="neurons"):
        trap_weights.trap_kernel(10, 0, seed=0)


def test_read_out_recovers_every_sole_activator_exactly():
    model = trap_model(512)
    x, y = images(16, 3, shape=(6, 6, 3)), np.arange(16) % 10
    kernel, bias = model.layers[1].get_weights()
    active = trap_weights.active_neurons(x, kernel, bias)
    sole = trap_weights.sole_activators(active)
    assert 0 < sole.sum() < 16  # some images alone on a neuron, not all: the test can tell
    g = client.client_gradient(model, x, y)
    candidates, neurons = trap_weights.read_out(g[0], g[1], (6, 6, 3))
    assert candidates.shape == (len(neurons), 6, 6, 3)
    # exactly the neurons some image switched on have a non-zero bias gradient
    assert set(neurons) <= set(np.flatnonzero(active.any(axis=0)))
    best, _ = metrics.best_psnr(x, candidates)
    assert np.all(best[sole] > 60.0)  # read off exactly, up to float32 rounding
    # a neuron with one activator gives that image; one with two, neither of them
    one = np.flatnonzero(active.sum(axis=0) == 1)[0]
    owner = int(np.flatnonzero(active[:, one])[0])
    np.testing.assert_allclose(candidates[list(neurons).index(one)], x[owner], atol=1e-4)
    shared = np.flatnonzero(active.sum(axis=0) == 2)
    if len(shared) and shared[0] in neurons:
        mix = candidates[list(neurons).index(shared[0])]
        assert metrics.psnr_matrix(mix[None], x[active[:, shared[0]]]).max() < 60.0


def test_sole_activators_and_read_out_refuse_bad_input():
    assert trap_weights.sole_activators(np.array([[1, 1, 0], [0, 1, 0]])).tolist() == [True, False]
    with pytest.raises(ValueError, match="images, neurons"):
        trap_weights.sole_activators(np.zeros(3))
    with pytest.raises(ValueError, match="image_shape"):
        trap_weights.read_out(np.zeros((12, 4)), np.ones(4), (2, 2, 2))
    with pytest.raises(ValueError, match="one bias per neuron"):
        trap_weights.read_out(np.zeros((12, 4)), np.ones(3), (2, 2, 3))
    with pytest.raises(ValueError, match="kernel must have shape"):
        trap_weights.active_neurons(np.zeros((2, 3)), np.zeros((4, 2)), np.zeros(2))


# --- many rounds: what DP at the client costs ------------------------------------------------


def _federation(n_clients: int = 8, per_client: int = 40, seed: int = 0):
    """A task a small model learns in a few rounds: the label is whether the first pixel is
    bright. Returns x, y, the clients' index arrays and held-out x, y."""
    x = images(n_clients * per_client + 200, seed)
    y = (x[:, 0, 0, 0] > 0.5).astype(np.int64)
    parts = np.array_split(np.arange(n_clients * per_client), n_clients)
    return x, y, parts, x[-200:], y[-200:]


_ROUNDS = {"rounds": 40, "clients_per_round": 4, "batch_size": 16, "eval_every": 10}


def test_fedsgd_learns_and_drowned_updates_do_not():
    x, y, parts, x_eval, y_eval = _federation()
    build = lambda: small_model(0, classes=2)  # noqa: E731
    plain = simulation.fedsgd_accuracy(
        build, x, y, parts, x_eval, y_eval, learning_rate=0.05, seed=1, **_ROUNDS
    )
    # the majority class is 56 % of the held-out examples; 40 rounds of 4 clients x 16 examples
    # reach 0.87-0.93 here (seeds 1-3)
    assert len(plain) == 4 and plain[-1] > 0.8
    again = simulation.fedsgd_accuracy(
        build, x, y, parts, x_eval, y_eval, learning_rate=0.05, seed=1, **_ROUNDS
    )
    assert again == plain  # seeded: clients, batches and the initial weights
    clipped = simulation.fedsgd_accuracy(
        build, x, y, parts, x_eval, y_eval, learning_rate=0.05, seed=1,
        l2_norm_clip=1.0, noise_multiplier=0.0, **_ROUNDS,
    )  # fmt: skip
    assert clipped[-1] > 0.8  # clipping alone does not stop learning
    drowned = simulation.fedsgd_accuracy(
        build, x, y, parts, x_eval, y_eval, learning_rate=0.05, seed=1,
        l2_norm_clip=1e-3, noise_multiplier=1000.0, **_ROUNDS,
    )  # fmt: skip
    assert max(drowned) < 0.6  # the noise (σC/B per coordinate) swamps the signal: chance


def test_fedsgd_clients_draw_poisson_batches_and_dp_divides_by_the_expected_size(monkeypatch):
    x, y, parts, x_eval, y_eval = _federation()
    build = lambda: small_model(0, classes=2)  # noqa: E731
    sizes, denominators = [], []

    def plain(model, xb, yb):
        sizes.append(len(xb))
        return [np.zeros(v.shape, np.float32) for v in model.trainable_variables]

    def private(model, xb, yb, *, denominator, **dp):
        denominators.append(denominator)
        return plain(model, xb, yb)

    monkeypatch.setattr(simulation, "client_gradient", plain)
    monkeypatch.setattr(simulation, "dp_client_gradient", private)
    settings = {**_ROUNDS, "rounds": 200, "eval_every": 200, "learning_rate": 0.05, "seed": 3}
    simulation.fedsgd_accuracy(build, x, y, parts, x_eval, y_eval, **settings)
    # each of a client's 40 examples is in its batch with probability 16/40: Binomial(40, 0.4)
    assert len(sizes) == 200 * 4 and len(set(sizes)) > 5
    assert np.mean(sizes) == pytest.approx(16, abs=0.3)
    assert np.var(sizes) == pytest.approx(40 * 0.4 * 0.6, rel=0.15)
    sizes.clear()
    simulation.fedsgd_accuracy(
        build, x, y, parts, x_eval, y_eval, l2_norm_clip=1.0, noise_multiplier=1.0, **settings
    )
    assert len(sizes) == 800 and set(denominators) == {16}


def test_fedsgd_accuracy_cached_computes_once_and_never_reuses_another_training(
    tmp_path, monkeypatch
):
    monkeypatch.setenv("MLPRIVACY_CACHE", str(tmp_path))
    x, y, parts, x_eval, y_eval = _federation(n_clients=4, per_client=20)
    settings = {**_ROUNDS, "rounds": 4, "eval_every": 2, "learning_rate": 0.05, "seed": 0}
    build = lambda: small_model(0, classes=2)  # noqa: E731
    direct = simulation.fedsgd_accuracy(build, x, y, parts, x_eval, y_eval, **settings)
    first = simulation.fedsgd_accuracy_cached(build, x, y, parts, x_eval, y_eval, **settings)
    again = simulation.fedsgd_accuracy_cached(build, x, y, parts, x_eval, y_eval, **settings)
    assert first == (direct, False) and again == (direct, True)
    others = [
        (build, y, parts, {**settings, "seed": 1}),
        (build, y, parts, {**settings, "learning_rate": 0.1}),
        (build, y, parts, {**settings, "l2_norm_clip": 1.0, "noise_multiplier": 0.5}),
        (build, 1 - y, parts, settings),
        (build, y, [parts[1], parts[0], *parts[2:]], settings),
        (lambda: small_model(0, hidden=8, classes=2), y, parts, settings),
    ]
    for b, labels, split, s in others:
        got = simulation.fedsgd_accuracy_cached(b, x, labels, split, x_eval, y_eval, **s)
        assert got[1] is False
    assert len(list(tmp_path.glob("fedsgd-*.json"))) == 1 + len(others)
    monkeypatch.setenv("MLPRIVACY_CACHE", "off")
    assert simulation.fedsgd_accuracy_cached(build, x, y, parts, x_eval, y_eval, **settings) == (
        direct,
        False,
    )


def test_fedsgd_refuses_bad_settings():
    x, y, parts, x_eval, y_eval = _federation(n_clients=4, per_client=20)
    build = lambda: small_model(0, classes=2)  # noqa: E731
    good = {**_ROUNDS, "learning_rate": 0.05, "seed": 0}
    for change, match in (
        ({"clients_per_round": 5}, "at most the 4 clients"),
        ({"batch_size": 21}, "batch_size=21"),
        ({"rounds": 0}, "rounds"),
        ({"eval_every": 50}, "eval_every"),
        ({"learning_rate": 0.0}, "learning_rate"),
        ({"noise_multiplier": 1.0}, "both"),
    ):
        with pytest.raises(ValueError, match=match):
            simulation.fedsgd_accuracy(build, x, y, parts, x_eval, y_eval, **{**good, **change})
    with pytest.raises(ValueError, match="index x"):
        simulation.fedsgd_accuracy(build, x, y, [np.array([0, 10_000])], x_eval, y_eval, **good)
    with pytest.raises(ValueError, match="same length"):
        simulation.fedsgd_accuracy(build, x, y[:-1], parts, x_eval, y_eval, **good)


def test_the_per_example_convolution_loop_message_is_hidden_and_nothing_else():
    tf.keras.utils.set_random_seed(0)
    conv = tf.keras.Sequential(
        [
            tf.keras.layers.Input((6, 6, 1)),
            tf.keras.layers.Conv2D(2, 3, activation="sigmoid"),
            tf.keras.layers.Flatten(),
            tf.keras.layers.Dense(3),
        ]
    )
    x, y = images(4, 0, shape=(6, 6, 1)), np.array([0, 1, 2, 1])
    logger = logging.getLogger("tensorflow")

    class Recorder(logging.Handler):
        def __init__(self):
            super().__init__()
            self.messages = []

        def emit(self, record):
            self.messages.append(record.getMessage())

    recorder = Recorder()
    logger.addHandler(recorder)
    try:
        with_loop = tf.vectorized_map(  # the bare call logs the message: the test means something
            lambda e: tf.gradients(tf.reduce_sum(conv(e[None])), conv.trainable_variables),
            tf.constant(x),
        )
        assert client.PFOR_CONV_LOOP_MESSAGE in recorder.messages and with_loop
        recorder.messages.clear()
        norms = client.per_example_gradient_norms(conv, x, y)
        grads = client.per_example_gradients(conv, x, y)
        logger.warning("another message")
    finally:
        logger.removeHandler(recorder)
    assert recorder.messages == ["another message"]
    flat = np.concatenate([g.reshape(len(x), -1) for g in grads], axis=1)
    np.testing.assert_allclose(norms, np.linalg.norm(flat, axis=1), rtol=1e-5)
