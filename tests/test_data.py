"""Loaders (good, corrupt, wrong shape, missing), subset and scaling."""

from __future__ import annotations

import socket
import time
import urllib.error
from pathlib import Path

import numpy as np
import pytest

from mlprivacy_helpers import data

MNIST_SHAPES = {
    "x_train": (60000, 28, 28),
    "y_train": (60000,),
    "x_test": (10000, 28, 28),
    "y_test": (10000,),
}


def fake_mnist(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    arrays = {k: np.zeros(s, dtype=np.uint8) for k, s in MNIST_SHAPES.items()}
    arrays["x_train"][:5] = rng.integers(0, 256, (5, 28, 28), dtype=np.uint8)
    arrays["y_train"][:] = np.arange(60000) % 10
    arrays["y_test"][:] = np.arange(10000) % 10
    return arrays


@pytest.fixture
def data_dir(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    monkeypatch.setenv("MLPRIVACY_DATA", str(folder))
    return folder


@pytest.fixture
def no_network(monkeypatch):
    """Make the Keras download fail the way it does offline, and record the timeout used."""
    seen = {}

    def refuse(*args, **kwargs):
        seen["timeout"] = socket.getdefaulttimeout()
        raise Exception("URL fetch failure: <urlopen error [Errno -2] Name or service not known>")

    import tensorflow as tf

    monkeypatch.setattr(tf.keras.datasets.mnist, "load_data", refuse)
    monkeypatch.setattr(tf.keras.datasets.cifar10, "load_data", refuse)
    return seen


def test_good_file_is_returned_like_keras(data_dir):
    arrays = fake_mnist()
    np.savez(data_dir / "mnist.npz", **arrays)
    (x_train, y_train), (x_test, y_test) = data.load_mnist()
    assert x_train.dtype == np.uint8 and y_train.dtype == np.uint8
    assert (x_train.shape, y_train.shape, x_test.shape, y_test.shape) == tuple(
        MNIST_SHAPES.values()
    )
    np.testing.assert_array_equal(x_train, arrays["x_train"])
    np.testing.assert_array_equal(y_test, arrays["y_test"])


def test_truncated_file_names_the_file(data_dir):
    np.savez(data_dir / "mnist.npz", **fake_mnist())
    path = data_dir / "mnist.npz"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(data.DatasetUnavailableError, match="mnist.npz") as info:
        data.load_mnist()
    assert "MLPRIVACY_DATA" in str(info.value)


def test_garbage_cifar_file_names_the_file(data_dir):
    (data_dir / "cifar10.npz").write_bytes(b"this is not a zip file" * 100)
    with pytest.raises(data.DatasetUnavailableError, match="cifar10.npz"):
        data.load_cifar10()


def test_wrong_shape_is_rejected(data_dir):
    arrays = fake_mnist()
    arrays["x_test"] = np.zeros((10000, 28, 27), dtype=np.uint8)
    np.savez(data_dir / "mnist.npz", **arrays)
    with pytest.raises(data.DatasetUnavailableError, match=r"x_test has shape \(10000, 28, 27\)"):
        data.load_mnist()


def test_wrong_dtype_missing_key_and_label_range_are_rejected(data_dir):
    path = data_dir / "mnist.npz"
    arrays = fake_mnist()
    arrays["x_train"] = arrays["x_train"].astype(np.float32)
    np.savez(path, **arrays)
    with pytest.raises(data.DatasetUnavailableError, match="dtype float32"):
        data.load_mnist()
    arrays = fake_mnist()
    del arrays["y_test"]
    np.savez(path, **arrays)
    with pytest.raises(data.DatasetUnavailableError, match="missing arrays"):
        data.load_mnist()
    arrays = fake_mnist()
    arrays["y_train"][0] = 10
    np.savez(path, **arrays)
    with pytest.raises(data.DatasetUnavailableError, match="label 10"):
        data.load_mnist()


def test_pickled_object_arrays_are_not_loaded(data_dir):
    arrays = fake_mnist()
    arrays["y_train"] = np.array([{"evil": 1}] * 60000, dtype=object)
    np.savez(data_dir / "mnist.npz", **arrays)
    with pytest.raises(data.DatasetUnavailableError, match="mnist.npz"):
        data.load_mnist()


def test_missing_everywhere_and_offline_fails_fast_naming_the_variable(data_dir, no_network):
    start = time.perf_counter()
    with pytest.raises(data.DatasetUnavailableError) as info:
        data.load_cifar10()
    assert time.perf_counter() - start < 30
    message = str(info.value)
    assert "MLPRIVACY_DATA" in message and "cifar10.npz" in message
    assert no_network["timeout"] == data.DOWNLOAD_SOCKET_TIMEOUT
    assert socket.getdefaulttimeout() is None  # restored afterwards


def test_download_is_cached_atomically_and_reused(monkeypatch, tmp_path):
    monkeypatch.delenv("MLPRIVACY_DATA", raising=False)
    arrays = fake_mnist(seed=3)
    calls = []

    def fake_download():
        calls.append(1)
        return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])

    import tensorflow as tf

    monkeypatch.setattr(tf.keras.datasets.mnist, "load_data", fake_download)
    first = data.load_mnist()
    cached = data.data_cache_dir() / "mnist.npz"
    assert cached.is_file()
    assert not [p for p in cached.parent.iterdir() if p.name.endswith(".tmp")]

    def network_down():
        raise urllib.error.URLError("offline")

    monkeypatch.setattr(tf.keras.datasets.mnist, "load_data", network_down)
    second = data.load_mnist()  # served from the cache, no download
    assert len(calls) == 1
    np.testing.assert_array_equal(first[0][0], second[0][0])


def test_data_folder_wins_over_cache(data_dir):
    np.savez(data_dir / "mnist.npz", **fake_mnist(seed=1))
    cache = data.data_cache_dir()
    cache.mkdir(parents=True)
    np.savez(cache / "mnist.npz", **fake_mnist(seed=2))
    (x_train, _), _ = data.load_mnist()
    np.testing.assert_array_equal(x_train, fake_mnist(seed=1)["x_train"])


def test_balanced_subset_is_balanced_seeded_and_keeps_label_shape():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 10, size=(2000, 1)).astype(np.uint8)
    x = np.arange(2000)
    xs, ys = data.balanced_subset(x, y, 7, seed=5)
    assert ys.shape == (70, 1) and xs.shape == (70,)
    assert np.bincount(ys[:, 0], minlength=10).tolist() == [7] * 10
    np.testing.assert_array_equal(y[xs], ys)  # pairs stay aligned
    again, _ = data.balanced_subset(x, y, 7, seed=5)
    other, _ = data.balanced_subset(x, y, 7, seed=6)
    np.testing.assert_array_equal(xs, again)
    assert not np.array_equal(np.sort(xs), np.sort(other))
    assert len(np.unique(xs)) == 70


@pytest.mark.parametrize(
    ("kwargs", "error", "pattern"),
    [
        ({"n_per_class": 0}, ValueError, "n_per_class"),
        ({"n_per_class": 2.5}, TypeError, "n_per_class"),
        ({"n_per_class": 1000}, ValueError, "has only"),
    ],
)
def test_balanced_subset_rejects_bad_input(kwargs, error, pattern):
    y = np.arange(100) % 10
    with pytest.raises(error, match=pattern):
        data.balanced_subset(np.arange(100), y, **kwargs)
    with pytest.raises(ValueError, match="same length"):
        data.balanced_subset(np.arange(99), y, 1)


def previous_balanced_subset(x, y, n_per_class, seed=0):
    # balanced_subset as it was before balanced_indices existed: cached models are keyed
    # on the data, so the subset a seed gives must never change.
    flat = y.reshape(len(y), -1)[:, 0] if y.ndim > 1 else y
    rng = np.random.default_rng(seed)
    chosen = [
        rng.choice(np.flatnonzero(flat == c), size=n_per_class, replace=False)
        for c in np.unique(flat)
    ]
    order = rng.permutation(np.concatenate(chosen))
    return x[order], y[order]


@pytest.mark.parametrize("seed", [0, 1, 12345])
def test_balanced_subset_gives_the_same_subsets_as_before(seed):
    y = np.random.default_rng(1).integers(0, 10, size=(500, 1))
    x = np.arange(500) * 3
    for ours, before in zip(
        data.balanced_subset(x, y, 9, seed), previous_balanced_subset(x, y, 9, seed), strict=True
    ):
        np.testing.assert_array_equal(ours, before)


def test_balanced_indices_reproduce_notebook_02s_six_attack_subsample():
    # Notebook 02's code for its six-attack table: one generator, members then
    # non-members, class by class, no shuffle.
    rng0 = np.random.default_rng(0)
    y_members = rng0.integers(0, 10, size=(400, 1))
    y_non = rng0.integers(0, 10, size=(300, 1))
    seed, per_class = 7, 5
    rng = np.random.default_rng(seed)
    sub_in = np.concatenate(
        [
            rng.choice(np.flatnonzero(y_members.ravel() == c), per_class, replace=False)
            for c in range(10)
        ]
    )
    sub_out = np.concatenate(
        [
            rng.choice(np.flatnonzero(y_non.ravel() == c), per_class, replace=False)
            for c in range(10)
        ]
    )
    shared = np.random.default_rng(seed)
    ours_in = data.balanced_indices(y_members, per_class, shared, shuffle=False)
    ours_out = data.balanced_indices(y_non, per_class, shared, shuffle=False)
    np.testing.assert_array_equal(ours_in, sub_in)
    np.testing.assert_array_equal(ours_out, sub_out)
    assert np.bincount(y_members[ours_in, 0]).tolist() == [per_class] * 10


def test_balanced_indices_are_seeded_shuffled_and_validated():
    y = np.arange(60) % 3
    a = data.balanced_indices(y, 4, seed=2)
    np.testing.assert_array_equal(a, data.balanced_indices(y, 4, seed=2))
    assert sorted(np.bincount(y[a]).tolist()) == [4, 4, 4]
    grouped = data.balanced_indices(y, 4, seed=2, shuffle=False)
    assert y[grouped].tolist() == [0] * 4 + [1] * 4 + [2] * 4
    with pytest.raises(TypeError, match="seed"):
        data.balanced_indices(y, 4, seed=1.5)
    with pytest.raises(ValueError, match="has only"):
        data.balanced_indices(y, 21)


def test_scale_images():
    x = np.array([[0, 128, 255]], dtype=np.uint8)
    scaled = data.scale_images(x)
    assert scaled.dtype == np.float32
    np.testing.assert_allclose(scaled, [[0.0, 128 / 255, 1.0]])
    with pytest.raises(TypeError, match="uint8"):
        data.scale_images(scaled)


def test_configured_offline_copy_is_real_mnist_and_cifar10():
    """With the offline copy configured (CI, workshops), check it is the real data."""
    import os

    folder = os.environ.get("MLPRIVACY_DATA", "")
    if not (Path(folder) / "mnist.npz").is_file() or not (Path(folder) / "cifar10.npz").is_file():
        pytest.skip("MLPRIVACY_DATA does not point at an offline dataset copy")
    (x_train, y_train), (_, y_test) = data.load_mnist()
    assert y_train[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert abs(float(x_train.mean()) - 33.32) < 0.01
    (_, y_train), (_, y_test) = data.load_cifar10()
    assert np.bincount(y_train[:, 0]).tolist() == [5000] * 10
    assert np.bincount(y_test[:, 0]).tolist() == [1000] * 10


# --- Olivetti faces ------------------------------------------------------------------------


def fake_olivetti(seed: int = 0, top: int = 242) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    images = rng.integers(0, top + 1, (400, 64, 64)).astype(np.uint8)
    images[0, 0, 0], images[0, 0, 1] = 0, top  # the darkest and brightest level occur
    return {"images": images, "target": (np.arange(400) // 10).astype(np.uint8)}


def as_sklearn_images(images: np.ndarray) -> np.ndarray:
    """What scikit-learn's fetch_olivetti_faces makes of the original grey levels."""
    faces = np.float32(images)
    faces = faces - faces.min()
    faces /= faces.max()
    return faces


def test_olivetti_file_is_returned_as_stored(data_dir):
    arrays = fake_olivetti()
    np.savez(data_dir / "olivetti_faces.npz", **arrays)
    images, target = data.load_olivetti_faces()
    assert images.dtype == np.uint8 and target.dtype == np.uint8
    assert images.shape == (400, 64, 64) and target.shape == (400,)
    np.testing.assert_array_equal(images, arrays["images"])
    np.testing.assert_array_equal(target, arrays["target"])


@pytest.mark.parametrize(
    ("change", "pattern"),
    [
        (lambda a: a.update(images=a["images"][:, :, :63]), r"images has shape \(400, 64, 63\)"),
        (lambda a: a.update(images=a["images"].astype(np.float32)), "dtype float32"),
        (lambda a: a.pop("target"), "missing arrays"),
        (lambda a: a["target"].__setitem__(0, 40), "label 40"),
    ],
)
def test_bad_olivetti_file_is_rejected(data_dir, change, pattern):
    arrays = fake_olivetti()
    change(arrays)
    np.savez(data_dir / "olivetti_faces.npz", **arrays)
    with pytest.raises(data.DatasetUnavailableError, match=pattern) as info:
        data.load_olivetti_faces()
    assert "olivetti_faces.npz" in str(info.value) and "MLPRIVACY_DATA" in str(info.value)


def test_truncated_olivetti_file_names_the_file(data_dir):
    path = data_dir / "olivetti_faces.npz"
    np.savez(path, **fake_olivetti())
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 3])
    with pytest.raises(data.DatasetUnavailableError, match="olivetti_faces.npz"):
        data.load_olivetti_faces()


@pytest.mark.parametrize("top", [242, 255, 37])
def test_sklearn_faces_convert_back_to_the_original_grey_levels(top):
    arrays = fake_olivetti(seed=top, top=top)
    converted = data.olivetti_to_uint8(as_sklearn_images(arrays["images"]), np.arange(400) // 10)
    np.testing.assert_array_equal(converted["images"], arrays["images"])
    np.testing.assert_array_equal(converted["target"], arrays["target"])
    assert converted["images"].dtype == np.uint8 and converted["target"].dtype == np.uint8


def test_sklearn_faces_that_are_not_scaled_grey_levels_are_refused():
    with pytest.raises(data.DatasetUnavailableError, match=r"scaled to \[0, 1\]"):
        data.olivetti_to_uint8(np.full((2, 2), 0.5), np.zeros(2))
    noise = np.random.default_rng(0).random((4, 64, 64))
    noise[0, 0, :2] = 0.0, 1.0
    with pytest.raises(data.DatasetUnavailableError, match="8-bit"):
        data.olivetti_to_uint8(noise, np.zeros(4))


def fake_fetch(arrays, calls):
    from sklearn.utils import Bunch

    def fetch(**kwargs):
        calls.append(kwargs)
        return Bunch(images=as_sklearn_images(arrays["images"]), target=np.arange(400) // 10)

    return fetch


def test_olivetti_download_is_converted_cached_atomically_and_reused(monkeypatch):
    monkeypatch.delenv("MLPRIVACY_DATA", raising=False)
    import sklearn.datasets

    arrays, calls = fake_olivetti(seed=4), []
    monkeypatch.setattr(sklearn.datasets, "fetch_olivetti_faces", fake_fetch(arrays, calls))
    images, target = data.load_olivetti_faces()
    np.testing.assert_array_equal(images, arrays["images"])
    np.testing.assert_array_equal(target, arrays["target"])
    assert calls == [{"shuffle": False, "download_if_missing": True}]
    cached = data.data_cache_dir() / "olivetti_faces.npz"
    assert cached.is_file()
    assert not [p for p in cached.parent.iterdir() if p.name.endswith(".tmp")]

    def network_down(**kwargs):
        raise urllib.error.URLError("offline")

    monkeypatch.setattr(sklearn.datasets, "fetch_olivetti_faces", network_down)
    again, _ = data.load_olivetti_faces()  # served from the cache, no download
    np.testing.assert_array_equal(again, arrays["images"])


def test_olivetti_offline_fails_fast_naming_file_and_variable(data_dir, monkeypatch):
    import sklearn.datasets

    seen = {}

    def refuse(**kwargs):
        seen["timeout"] = socket.getdefaulttimeout()
        raise urllib.error.URLError("[Errno -2] Name or service not known")

    monkeypatch.setattr(sklearn.datasets, "fetch_olivetti_faces", refuse)
    with pytest.raises(data.DatasetUnavailableError) as info:
        data.load_olivetti_faces()
    message = str(info.value)
    assert "olivetti_faces.npz" in message and "MLPRIVACY_DATA" in message
    assert "URLError" in message
    assert seen["timeout"] == data.DOWNLOAD_SOCKET_TIMEOUT
    assert socket.getdefaulttimeout() is None


def test_configured_offline_copy_is_the_olivetti_faces():
    """With the offline copy configured, check it is scikit-learn's Olivetti faces."""
    import os

    if not (Path(os.environ.get("MLPRIVACY_DATA", "")) / "olivetti_faces.npz").is_file():
        pytest.skip("MLPRIVACY_DATA does not point at an offline dataset copy")
    images, target = data.load_olivetti_faces()
    assert target.tolist() == [p for p in range(40) for _ in range(10)]
    assert images.min() == 0 and 200 < images.max() <= 255


# --- fetch_all (`make data`): every dataset into the cache, verified ---------------------------


@pytest.fixture
def only_mnist(monkeypatch):
    """`fetch_all` over MNIST alone (a fake one: the real files are large)."""
    monkeypatch.setattr(data, "DATASETS", (data._MNIST,))


def test_fetch_all_copies_from_the_data_folder_checks_its_checksum_and_reuses_the_cache(
    data_dir, only_mnist
):
    np.savez(data_dir / "mnist.npz", **fake_mnist())
    digest = data._sha256(data_dir / "mnist.npz")
    (data_dir / "SHA256SUMS").write_text(f"{digest}  mnist.npz\n")

    (fetched,) = data.fetch_all()
    assert fetched.source == "copied from MLPRIVACY_DATA" and fetched.sha256 == digest
    assert fetched.path == data.data_cache_dir() / "mnist.npz"
    assert fetched.size_bytes == (data_dir / "mnist.npz").stat().st_size
    assert data._sha256(fetched.path) == digest

    (data_dir / "SHA256SUMS").write_text(f"{'0' * 64}  mnist.npz\n")
    with pytest.raises(data.DatasetUnavailableError, match="does not match its checksum"):
        data.fetch_all()


def test_fetch_all_validates_a_cached_copy_and_names_a_corrupt_one(monkeypatch, only_mnist):
    monkeypatch.delenv("MLPRIVACY_DATA", raising=False)
    data.data_cache_dir().mkdir(parents=True)
    np.savez(data.data_cache_dir() / "mnist.npz", **fake_mnist())
    assert [d.source for d in data.fetch_all()] == ["already cached"]
    (data.data_cache_dir() / "mnist.npz").write_bytes(b"not a zip file")
    with pytest.raises(data.DatasetUnavailableError, match="mnist.npz could not be read"):
        data.fetch_all()


def test_fetch_all_downloads_what_is_missing_and_fails_offline_naming_the_dataset(
    monkeypatch, only_mnist, no_network
):
    monkeypatch.delenv("MLPRIVACY_DATA", raising=False)
    with pytest.raises(data.DatasetUnavailableError) as info:
        data.fetch_all()
    message = str(info.value)
    assert "No local copy of mnist.npz" in message and "set MLPRIVACY_DATA" in message

    import tensorflow as tf

    fake = fake_mnist()
    monkeypatch.setattr(
        tf.keras.datasets.mnist,
        "load_data",
        lambda: ((fake["x_train"], fake["y_train"]), (fake["x_test"], fake["y_test"])),
    )
    (fetched,) = data.fetch_all()
    assert fetched.source == "downloaded" and fetched.path.is_file()


# --- Tiny Shakespeare (notebook 05): plain text, every copy checked by its SHA-256 ------------

FAKE_TEXT = "First Citizen:\nBefore we proceed any further, hear me speak.\n"


@pytest.fixture
def fake_shakespeare(monkeypatch):
    """Tiny Shakespeare's spec with the checksum of FAKE_TEXT (the real file is 1.1 MB)."""
    import dataclasses
    import hashlib

    spec = dataclasses.replace(
        data._TINY_SHAKESPEARE, sha256=hashlib.sha256(FAKE_TEXT.encode()).hexdigest()
    )
    monkeypatch.setattr(data, "_TINY_SHAKESPEARE", spec)
    monkeypatch.setattr(data, "DATASETS", (spec,))
    return spec


class _Response:
    def __init__(self, raw: bytes) -> None:
        self.raw = raw

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def read(self) -> bytes:
        return self.raw


def test_tiny_shakespeare_is_read_from_the_data_folder_and_a_wrong_copy_is_refused(
    data_dir, fake_shakespeare
):
    (data_dir / "tiny_shakespeare.txt").write_text(FAKE_TEXT)
    assert data.load_tiny_shakespeare() == FAKE_TEXT
    (data_dir / "tiny_shakespeare.txt").write_text(FAKE_TEXT[:-5])  # truncated
    with pytest.raises(data.DatasetUnavailableError) as info:
        data.load_tiny_shakespeare()
    message = str(info.value)
    assert "tiny_shakespeare.txt is not tiny_shakespeare as published" in message
    assert fake_shakespeare.sha256 in message and "MLPRIVACY_DATA" in message


def test_tiny_shakespeare_download_is_checked_cached_and_refused_when_it_differs(
    monkeypatch, fake_shakespeare
):
    monkeypatch.delenv("MLPRIVACY_DATA", raising=False)
    seen = []

    def serve(raw):
        def urlopen(url, timeout):
            seen.append((url, timeout))
            return _Response(raw)

        return urlopen

    monkeypatch.setattr(data.urllib.request, "urlopen", serve(b"<html>a proxy's login page"))
    with pytest.raises(data.DatasetUnavailableError, match="was refused: its sha256 is"):
        data.load_tiny_shakespeare()
    assert not (data.data_cache_dir() / "tiny_shakespeare.txt").exists()
    monkeypatch.setattr(data.urllib.request, "urlopen", serve(FAKE_TEXT.encode()))
    assert data.load_tiny_shakespeare() == FAKE_TEXT
    assert seen[-1] == (data.TINY_SHAKESPEARE_URL, data.DOWNLOAD_SOCKET_TIMEOUT)
    assert (data.data_cache_dir() / "tiny_shakespeare.txt").read_text() == FAKE_TEXT
    monkeypatch.setattr(data.urllib.request, "urlopen", None)  # the cache needs no network
    assert data.load_tiny_shakespeare() == FAKE_TEXT


def test_tiny_shakespeare_offline_without_a_copy_names_the_file_and_the_fix(
    monkeypatch, fake_shakespeare
):
    monkeypatch.delenv("MLPRIVACY_DATA", raising=False)

    def refuse(url, timeout):
        raise urllib.error.URLError("[Errno -2] Name or service not known")

    monkeypatch.setattr(data.urllib.request, "urlopen", refuse)
    with pytest.raises(data.DatasetUnavailableError) as info:
        data.load_tiny_shakespeare()
    message = str(info.value)
    assert "No local copy of tiny_shakespeare.txt" in message and "URLError" in message
    assert "set MLPRIVACY_DATA" in message


def test_fetch_all_copies_tiny_shakespeare_and_checks_it(data_dir, fake_shakespeare):
    (data_dir / "tiny_shakespeare.txt").write_text(FAKE_TEXT)
    (fetched,) = data.fetch_all()
    assert fetched.source == "copied from MLPRIVACY_DATA"
    assert fetched.sha256 == fake_shakespeare.sha256
    assert fetched.path.read_text() == FAKE_TEXT
    assert [d.source for d in data.fetch_all()] == ["copied from MLPRIVACY_DATA"]
    (data_dir / "tiny_shakespeare.txt").write_text("another text\n")
    with pytest.raises(data.DatasetUnavailableError, match="not tiny_shakespeare as published"):
        data.fetch_all()


def test_the_real_tiny_shakespeare_has_the_published_checksum_and_shape():
    import os

    folder = Path(os.environ.get("MLPRIVACY_DATA", ""))
    if not (folder / "tiny_shakespeare.txt").is_file():
        pytest.skip("MLPRIVACY_DATA does not point at an offline dataset copy")
    text = data.load_tiny_shakespeare()
    assert len(text) == 1_115_394 and len(set(text)) == 65
    assert text.startswith("First Citizen:")
    assert data._sha256(folder / "tiny_shakespeare.txt") == data.TINY_SHAKESPEARE_SHA256
