"""Offline-capable loaders for MNIST, CIFAR-10, the Olivetti faces and Tiny Shakespeare.

``load_mnist()`` and ``load_cifar10()`` return exactly what
``tf.keras.datasets.<name>.load_data()`` returns -- ``(x_train, y_train), (x_test, y_test)``
as uint8 arrays of the same shapes; ``load_olivetti_faces()`` returns ``(images, target)``
as uint8 arrays. Each looks for a local copy first:

1. the folder named by ``MLPRIVACY_DATA`` (``mnist.npz`` / ``cifar10.npz`` in the layout of
   Keras' ``mnist.npz``: arrays ``x_train``, ``y_train``, ``x_test``, ``y_test``;
   ``olivetti_faces.npz``: arrays ``images``, ``target``);
2. the per-user cache, ``$XDG_CACHE_HOME/mlprivacy/data`` (default ``~/.cache/...``);
3. a download (Keras for MNIST and CIFAR-10, scikit-learn's ``fetch_olivetti_faces`` for the
   faces), stored in that cache (written atomically: temp file + rename).

``load_tiny_shakespeare()`` returns the text of ``tiny_shakespeare.txt`` (char-rnn's
character-level corpus), found the same way and downloaded from its public source; every copy,
local or downloaded, must have the file's SHA-256 (:data:`TINY_SHAKESPEARE_SHA256`), as Keras
and scikit-learn check their downloads.

A missing, wrong or corrupt file raises :class:`DatasetUnavailableError` naming the file
and the fix. :func:`fetch_all` (``make data``) puts all four into the cache at once. Used
by notebooks 02 and 04 (CIFAR-10), 03 (MNIST, Olivetti faces) and 05 (Tiny Shakespeare).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import tempfile
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from . import settings

ArrayPair = tuple[np.ndarray, np.ndarray]

CIFAR10_CLASSES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)

#: Seconds one network operation of a download may take before we give up.
DOWNLOAD_SOCKET_TIMEOUT = 15.0


class DatasetUnavailableError(RuntimeError):
    """The dataset could not be read locally or downloaded; the message says how to fix it."""


@dataclass(frozen=True)
class _Spec:
    name: str
    filename: str
    shapes: tuple[tuple[str, tuple[int, ...]], ...]  # (array name, shape), in file order
    labels: tuple[str, ...]  # the arrays holding class labels 0..num_classes-1
    num_classes: int = 10

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(key for key, _ in self.shapes)


def _keras_spec(name: str, filename: str, x_train, y_train, x_test, y_test) -> _Spec:
    shapes = (("x_train", x_train), ("y_train", y_train), ("x_test", x_test), ("y_test", y_test))
    return _Spec(name, filename, shapes, ("y_train", "y_test"))


_MNIST = _keras_spec("mnist", "mnist.npz", (60000, 28, 28), (60000,), (10000, 28, 28), (10000,))
_CIFAR10 = _keras_spec(
    "cifar10", "cifar10.npz", (50000, 32, 32, 3), (50000, 1), (10000, 32, 32, 3), (10000, 1)
)
_OLIVETTI = _Spec(
    "olivetti_faces",
    "olivetti_faces.npz",
    (("images", (400, 64, 64)), ("target", (400,))),
    ("target",),
    num_classes=40,
)


#: Tiny Shakespeare's public source (the char-rnn repository; TensorFlow Datasets' source too).
TINY_SHAKESPEARE_URL = (
    "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt"
)
#: The SHA-256 of that file (1,115,394 bytes): any other copy or download is refused.
TINY_SHAKESPEARE_SHA256 = "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"


@dataclass(frozen=True)
class _TextSpec:
    name: str
    filename: str
    url: str
    sha256: str


_TINY_SHAKESPEARE = _TextSpec(
    "tiny_shakespeare", "tiny_shakespeare.txt", TINY_SHAKESPEARE_URL, TINY_SHAKESPEARE_SHA256
)


def data_cache_dir() -> Path:
    """Return the per-user folder where downloaded datasets are kept (not created here)."""
    return settings.user_cache_root() / "data"


def _fix_hint(spec: _Spec | _TextSpec) -> str:
    if isinstance(spec, _TextSpec):
        what = f"plain text, sha256 {spec.sha256}"
    else:
        what = f"arrays {', '.join(spec.keys)}, uint8"
    return (
        f"Fix: put a copy of {spec.filename} ({what}) "
        f'in a folder and set MLPRIVACY_DATA to that folder, or data = "FOLDER" in '
        f"{settings.FILE_NAME} (README, Running offline; in a workshop or CI this is "
        f"usually ../shared/data), or run once with internet access so the file is "
        f"downloaded into {data_cache_dir()}."
    )


def _read_npz(path: Path, spec: _Spec) -> dict[str, np.ndarray]:
    """Load and validate one ``.npz`` file; raise DatasetUnavailableError naming it."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            missing = [k for k in spec.keys if k not in npz.files]
            if missing:
                raise DatasetUnavailableError(
                    f"{path} is not a {spec.name} file: missing arrays {missing} "
                    f"(found {sorted(npz.files)}). {_fix_hint(spec)}"
                )
            arrays = {k: npz[k] for k in spec.keys}
    except DatasetUnavailableError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, KeyError) as exc:
        raise DatasetUnavailableError(
            f"{path} could not be read as a {spec.name} .npz file "
            f"({type(exc).__name__}: {exc}); it may be truncated or corrupt. {_fix_hint(spec)}"
        ) from exc
    _validate(arrays, path, spec)
    return arrays


def _validate(arrays: dict[str, np.ndarray], path: Path | str, spec: _Spec) -> None:
    for key, expected in spec.shapes:
        arr = arrays[key]
        if arr.dtype != np.uint8:
            raise DatasetUnavailableError(
                f"{path}: {key} has dtype {arr.dtype}, expected uint8. {_fix_hint(spec)}"
            )
        if arr.shape != expected:
            raise DatasetUnavailableError(
                f"{path}: {key} has shape {arr.shape}, expected {expected}. {_fix_hint(spec)}"
            )
    for key in spec.labels:
        labels = arrays[key]
        if labels.size and labels.max() >= spec.num_classes:
            top = spec.num_classes - 1
            raise DatasetUnavailableError(
                f"{path}: {key} holds label {int(labels.max())}, expected 0..{top}. "
                f"{_fix_hint(spec)}"
            )


def write_atomic(path: Path, write: Callable[[Any], None]) -> None:
    """Call ``write(binary file)`` on a temp file beside ``path``, then rename it to ``path``:
    never a half file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _save_atomic(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write ``arrays`` to ``path`` as an ``.npz`` file, atomically."""
    write_atomic(path, lambda handle: np.savez(handle, **arrays))


def _download_keras(spec: _Spec) -> dict[str, np.ndarray]:
    """Download MNIST or CIFAR-10 through Keras (uint8 arrays, as stored)."""
    import tensorflow as tf  # imported lazily: loading a local file needs no TensorFlow

    loader = {"mnist": tf.keras.datasets.mnist, "cifar10": tf.keras.datasets.cifar10}[spec.name]
    (x_train, y_train), (x_test, y_test) = loader.load_data()
    return {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}


def olivetti_to_uint8(images: np.ndarray, target: np.ndarray) -> dict[str, np.ndarray]:
    """Return scikit-learn's Olivetti faces as the offline file's uint8 arrays.

    ``fetch_olivetti_faces().images`` holds the original grey levels ``k`` (integers, the
    darkest 0) divided by the largest one, ``M``: float32 values ``k / M``. ``M`` is the
    reciprocal of the smallest gap between distinct values, so ``round(images * M)`` gives
    the original uint8 pixels back exactly. Returns ``{"images": (400, 64, 64) uint8,
    "target": (400,) uint8}``. Raises :class:`DatasetUnavailableError` when the values are
    not such a scaled 8-bit image set. Used by :func:`load_olivetti_faces`.
    """
    faces = np.asarray(images, dtype=np.float64)
    levels = np.unique(faces)
    if faces.size == 0 or levels[0] != 0.0 or levels[-1] != 1.0 or len(levels) < 2:
        raise DatasetUnavailableError(
            "scikit-learn's Olivetti faces are not grey levels scaled to [0, 1] "
            f"(range {faces.min() if faces.size else 'empty'}..{faces.max() if faces.size else ''})"
        )
    top = float(np.round(1.0 / np.diff(levels).min()))
    pixels = np.round(faces * top)
    if not 1 <= top <= 255 or np.abs(faces * top - pixels).max() > 1e-3:
        raise DatasetUnavailableError(
            "scikit-learn's Olivetti faces are not 8-bit grey levels divided by their maximum"
        )
    return {
        "images": pixels.astype(np.uint8),
        "target": np.asarray(target).astype(np.uint8),
    }


def _download_olivetti(spec: _Spec) -> dict[str, np.ndarray]:
    """Download the Olivetti faces through scikit-learn and convert them to uint8."""
    from sklearn.datasets import fetch_olivetti_faces  # lazily: local files need no sklearn

    faces = fetch_olivetti_faces(shuffle=False, download_if_missing=True)
    return olivetti_to_uint8(faces.images, faces.target)


_DOWNLOADERS: dict[str, Callable[[_Spec], dict[str, np.ndarray]]] = {
    "mnist": _download_keras,
    "cifar10": _download_keras,
    "olivetti_faces": _download_olivetti,
}


def _download(spec: _Spec) -> dict[str, np.ndarray]:
    """Download ``spec`` with a socket timeout, so no network fails fast, not hangs."""
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_SOCKET_TIMEOUT)
    try:
        return _DOWNLOADERS[spec.name](spec)
    except DatasetUnavailableError as exc:
        raise DatasetUnavailableError(f"{exc}. {_fix_hint(spec)}") from exc
    except Exception as exc:  # Keras wraps network errors in a bare Exception; sklearn: URLError
        raise DatasetUnavailableError(
            f"No local copy of {spec.filename} was found and the download failed "
            f"({type(exc).__name__}: {exc}). Looked in: "
            f"{settings.source('data')}: {settings.setting('data') or '(none)'} and "
            f"{data_cache_dir()}. {_fix_hint(spec)}"
        ) from exc
    finally:
        socket.setdefaulttimeout(previous)


def _read_text(path: Path, spec: _TextSpec) -> str:
    """Return the text of ``path`` if its SHA-256 is ``spec.sha256``; else raise
    DatasetUnavailableError naming it."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DatasetUnavailableError(
            f"{path} could not be read ({type(exc).__name__}: {exc}). {_fix_hint(spec)}"
        ) from exc
    got = hashlib.sha256(raw).hexdigest()
    if got != spec.sha256:
        raise DatasetUnavailableError(
            f"{path} is not {spec.name} as published (sha256 {got}, expected {spec.sha256}); "
            f"it may be truncated or another file. {_fix_hint(spec)}"
        )
    return raw.decode("utf-8")


def _download_text(spec: _TextSpec) -> bytes:
    """Return the bytes at ``spec.url``, refused (DatasetUnavailableError) unless their SHA-256
    is ``spec.sha256``; network errors fail within :data:`DOWNLOAD_SOCKET_TIMEOUT` seconds."""
    try:
        with urllib.request.urlopen(spec.url, timeout=DOWNLOAD_SOCKET_TIMEOUT) as response:
            raw = response.read()
    except Exception as exc:  # URLError, socket.timeout, http.client errors
        raise DatasetUnavailableError(
            f"No local copy of {spec.filename} was found and the download from {spec.url} "
            f"failed ({type(exc).__name__}: {exc}). Looked in: "
            f"{settings.source('data')}: {settings.setting('data') or '(none)'} and "
            f"{data_cache_dir()}. {_fix_hint(spec)}"
        ) from exc
    got = hashlib.sha256(raw).hexdigest()
    if got != spec.sha256:
        raise DatasetUnavailableError(
            f"The download of {spec.filename} from {spec.url} was refused: its sha256 is {got}, "
            f"not {spec.sha256} ({len(raw)} bytes). {_fix_hint(spec)}"
        )
    return raw


def _save_bytes_atomic(path: Path, raw: bytes) -> None:
    """Write ``raw`` to ``path``, atomically."""
    write_atomic(path, lambda handle: handle.write(raw))


def load_tiny_shakespeare() -> str:
    """Return Tiny Shakespeare: 1,115,394 characters of plain text (65 distinct, ``\\n`` line
    ends), beginning "First Citizen:".

    The character-level corpus of Karpathy's char-rnn (a selection of Shakespeare's plays, in
    the public domain), as TensorFlow Datasets' ``tiny_shakespeare`` downloads it. Looks in
    ``MLPRIVACY_DATA``, then the per-user cache, then downloads :data:`TINY_SHAKESPEARE_URL`
    into that cache; every copy must have the SHA-256 :data:`TINY_SHAKESPEARE_SHA256`.
    Raises :class:`DatasetUnavailableError` when no such copy can be found or fetched.
    """
    spec = _TINY_SHAKESPEARE
    local = _local_copy(spec.filename)
    if local is not None:
        return _read_text(local, spec)
    raw = _download_text(spec)
    try:
        _save_bytes_atomic(data_cache_dir() / spec.filename, raw)
    except OSError:
        pass  # a read-only home folder only costs a re-download next time
    return raw.decode("utf-8")


def _local_copy(filename: str) -> Path | None:
    """Return where ``filename`` is found first: the configured data folder
    (``MLPRIVACY_DATA``), then the per-user cache; ``None`` when in neither."""
    data_dir = (settings.setting("data") or "").strip()
    if data_dir:
        candidate = Path(data_dir).expanduser() / filename
        if candidate.is_file():
            return candidate
    cached = data_cache_dir() / filename
    return cached if cached.is_file() else None


def _load(spec: _Spec) -> dict[str, np.ndarray]:
    local = _local_copy(spec.filename)
    if local is not None:
        return _read_npz(local, spec)
    arrays = _download(spec)
    _validate(arrays, f"downloaded {spec.name}", spec)
    try:
        _save_atomic(data_cache_dir() / spec.filename, arrays)
    except OSError:
        pass  # a read-only home folder only costs a re-download next time
    return arrays


#: Every dataset of the series, in the order `make data` fetches them.
DATASETS: tuple[_Spec | _TextSpec, ...] = (_MNIST, _CIFAR10, _OLIVETTI, _TINY_SHAKESPEARE)


@dataclass(frozen=True)
class CachedDataset:
    """One dataset in the per-user cache after :func:`fetch_all`."""

    name: str
    path: Path
    size_bytes: int
    sha256: str
    source: str  # "copied from MLPRIVACY_DATA", "already cached" or "downloaded"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _listed_checksums(folder: Path) -> dict[str, str]:
    """Return ``{file name: sha256}`` from ``folder/SHA256SUMS`` (empty when there is none)."""
    sums = folder / "SHA256SUMS"
    if not sums.is_file():
        return {}
    listed = {}
    for line in sums.read_text().splitlines():
        parts = line.split()
        if len(parts) == 2:
            listed[parts[1].lstrip("*")] = parts[0].lower()
    return listed


def fetch_all() -> list[CachedDataset]:
    """Put every dataset of the series into the per-user cache, verified; return what is there.

    For each dataset (:data:`DATASETS`): with ``MLPRIVACY_DATA`` set and holding the file, the
    file is validated (and checked against that folder's ``SHA256SUMS`` when it lists it) and
    copied into :func:`data_cache_dir` (atomically); else a cached copy is validated; else the
    dataset is downloaded as the loaders do. Raises :class:`DatasetUnavailableError` naming the
    dataset and the fix when one cannot be had (no copy and no network), or a copy is corrupt
    or does not match its listed checksum. This is `make data`.
    """
    results = []
    configured = (settings.setting("data") or "").strip()
    source_dir = Path(configured).expanduser() if configured else None
    cache = data_cache_dir()
    for spec in DATASETS:
        cached = cache / spec.filename
        candidate = source_dir / spec.filename if source_dir else None
        is_text = isinstance(spec, _TextSpec)
        if candidate is not None and candidate.is_file():
            _read_text(candidate, spec) if is_text else _read_npz(candidate, spec)
            expected = _listed_checksums(source_dir).get(spec.filename)
            got = _sha256(candidate)
            if expected is not None and got != expected:
                raise DatasetUnavailableError(
                    f"{candidate} does not match its checksum in {source_dir / 'SHA256SUMS'} "
                    f"(sha256 {got}, listed {expected}): copy it again. {_fix_hint(spec)}"
                )
            if not (cached.is_file() and _sha256(cached) == got):
                cache.mkdir(parents=True, exist_ok=True)
                fd, tmp = tempfile.mkstemp(dir=cache, prefix=f".{spec.filename}.", suffix=".tmp")
                os.close(fd)
                shutil.copyfile(candidate, tmp)
                os.replace(tmp, cached)
            source = "copied from MLPRIVACY_DATA"
        elif cached.is_file():
            _read_text(cached, spec) if is_text else _read_npz(cached, spec)
            source = "already cached"
        elif is_text:
            _save_bytes_atomic(cached, _download_text(spec))
            source = "downloaded"
        else:
            arrays = _download(spec)
            _validate(arrays, f"downloaded {spec.name}", spec)
            _save_atomic(cached, arrays)
            source = "downloaded"
        results.append(
            CachedDataset(spec.name, cached, cached.stat().st_size, _sha256(cached), source)
        )
    return results


def _keras_pairs(arrays: dict[str, np.ndarray]) -> tuple[ArrayPair, ArrayPair]:
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


def load_mnist() -> tuple[ArrayPair, ArrayPair]:
    """Return MNIST as ``(x_train, y_train), (x_test, y_test)``, uint8, like Keras.

    Shapes: (60000, 28, 28), (60000,), (10000, 28, 28), (10000,).
    Raises :class:`DatasetUnavailableError` when no valid copy can be found or fetched.
    """
    return _keras_pairs(_load(_MNIST))


def load_cifar10() -> tuple[ArrayPair, ArrayPair]:
    """Return CIFAR-10 as ``(x_train, y_train), (x_test, y_test)``, uint8, like Keras.

    Shapes: (50000, 32, 32, 3), (50000, 1), (10000, 32, 32, 3), (10000, 1); labels are the
    official class indices (see ``CIFAR10_CLASSES``).
    Raises :class:`DatasetUnavailableError` when no valid copy can be found or fetched.
    """
    return _keras_pairs(_load(_CIFAR10))


def load_olivetti_faces() -> ArrayPair:
    """Return the Olivetti (AT&T) faces as ``(images, target)``, uint8.

    ``images`` has shape (400, 64, 64), upright grey images; ``target`` (400,) holds the
    person, 0..39, ten consecutive images per person (scikit-learn's order, unshuffled).
    Looks in ``MLPRIVACY_DATA``, then the per-user cache, then downloads through
    ``sklearn.datasets.fetch_olivetti_faces`` (converted by :func:`olivetti_to_uint8`).
    Credit: Olivetti Research Laboratory / AT&T Laboratories Cambridge.
    Raises :class:`DatasetUnavailableError` when no valid copy can be found or fetched.
    """
    arrays = _load(_OLIVETTI)
    return arrays["images"], arrays["target"]


def balanced_indices(
    y: np.ndarray,
    n_per_class: int,
    seed: int | np.random.Generator = 0,
    *,
    shuffle: bool = True,
) -> np.ndarray:
    """Return the indices of a seeded, class-balanced random subset of labels ``y``.

    Draws ``n_per_class`` distinct indices of every class found in ``y`` (shape ``(N,)`` or
    ``(N, 1)``), class by class in sorted label order, each with ``rng.choice(...,
    replace=False)``; with ``shuffle`` the concatenation is then permuted, otherwise it
    stays grouped by class. ``seed`` is an int (a fresh ``np.random.default_rng(seed)``)
    or a ``Generator`` to continue drawing from, so several subsets can share one stream.
    Returns an int array of length ``n_per_class * n_classes``. Used by
    :func:`balanced_subset` and by notebook 02 (the six-attack subsample of members and
    non-members). Raises ``ValueError`` if a class has too few examples.
    """
    y = np.asarray(y)
    if isinstance(n_per_class, bool) or not isinstance(n_per_class, int | np.integer):
        raise TypeError(f"n_per_class must be an int, got {type(n_per_class).__name__}")
    if n_per_class <= 0:
        raise ValueError(f"n_per_class must be positive, got {n_per_class}")
    if isinstance(seed, np.random.Generator):
        rng = seed
    elif isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise TypeError(f"seed must be an int or a numpy Generator, got {type(seed).__name__}")
    else:
        rng = np.random.default_rng(seed)
    flat = y.reshape(len(y), -1)[:, 0] if y.ndim > 1 else y
    chosen = []
    for label in np.unique(flat):
        idx = np.flatnonzero(flat == label)
        if len(idx) < n_per_class:
            raise ValueError(
                f"n_per_class={n_per_class} but class {label} has only {len(idx)} examples"
            )
        chosen.append(rng.choice(idx, size=n_per_class, replace=False))
    indices = np.concatenate(chosen) if chosen else np.zeros(0, dtype=np.intp)
    return rng.permutation(indices) if shuffle else indices


def balanced_subset(
    x: np.ndarray, y: np.ndarray, n_per_class: int, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Return a seeded, class-balanced random subset ``(x_sub, y_sub)``.

    Takes ``n_per_class`` examples of every class found in ``y`` (labels of shape ``(N,)``
    or ``(N, 1)``; the returned labels keep that shape) and shuffles the result, so
    ``len(x_sub) == n_per_class * n_classes``. The same seed always gives the same subset
    (``x[balanced_indices(y, n_per_class, seed)]``). Raises
    ``ValueError`` if a class has too few examples.
    """
    x = np.asarray(x)
    y = np.asarray(y)
    if len(x) != len(y):
        raise ValueError(f"x and y must have the same length, got {len(x)} and {len(y)}")
    order = balanced_indices(y, n_per_class, seed)
    return x[order], y[order]


def scale_images(x: np.ndarray) -> np.ndarray:
    """Return uint8 images ``x`` as float32 scaled to [0, 1] (divided by 255).

    Raises ``TypeError`` for a non-uint8 array, which is
    almost always an array that was already scaled.
    """
    x = np.asarray(x)
    if x.dtype != np.uint8:
        raise TypeError(f"x must be a uint8 image array (0..255), got dtype {x.dtype}")
    return x.astype(np.float32) / np.float32(255.0)
