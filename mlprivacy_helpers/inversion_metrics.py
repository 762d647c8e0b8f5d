"""How much a model inversion reveals: the measurements of notebook 03.

An inversion of a class (a digit, a person) is compared with what the class looks like:
:func:`class_mean_images` and Pearson correlations (:func:`pearson_matrix`,
:func:`pearson_to_class_mean`, :func:`own_and_nearest_other`); a face inversion is identified
by an independent :class:`EigenfaceRecogniser` (:func:`top_k_rate`,
:func:`identification_metrics`); a digit inversion by an independent classifier
(:func:`judge_accuracy`). NumPy only; the attack itself is in :mod:`.inversion`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import tensorflow as tf

__all__ = [
    "EigenfaceRecogniser",
    "class_mean_images",
    "identification_metrics",
    "judge_accuracy",
    "own_and_nearest_other",
    "pearson_matrix",
    "pearson_to_class_mean",
    "top_k_rate",
]


def class_mean_images(x: np.ndarray, y: np.ndarray, nb_classes: int = 10) -> np.ndarray:
    """Return the mean image of each class, shape ``(nb_classes, *x.shape[1:])`` (notebook 03)."""
    x = np.asarray(x)
    y = np.asarray(y).reshape(-1)
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"x and y must have the same length, got {x.shape[0]} and {y.shape[0]}")
    missing = sorted(set(range(nb_classes)) - set(np.unique(y).tolist()))
    if missing:
        raise ValueError(f"y has no samples of classes {missing}")
    return np.stack([x[y == c].mean(axis=0) for c in range(nb_classes)]).astype(np.float32)


def _centred_rows(a: np.ndarray, name: str) -> np.ndarray:
    """Flatten each image to a row, subtract its mean and scale it to unit length."""
    rows = np.asarray(a, dtype=np.float64)
    if rows.ndim < 2:
        raise ValueError(f"{name} must be a batch of images, got shape {rows.shape}")
    rows = rows.reshape(len(rows), -1)
    rows = rows - rows.mean(axis=1, keepdims=True)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return np.divide(rows, norms, out=np.zeros_like(rows), where=norms > 0)


def pearson_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Return the pixel-wise Pearson correlation of every image in ``a`` with every one in ``b``.

    Shape ``(len(a), len(b))``. A constant image (e.g. an all-zero start that never moved)
    has correlation 0 with everything.
    """
    ra, rb = _centred_rows(a, "a"), _centred_rows(b, "b")
    if ra.shape[1] != rb.shape[1]:
        raise ValueError(f"a and b images differ in size: {ra.shape[1]} vs {rb.shape[1]} pixels")
    return ra @ rb.T


def pearson_to_class_mean(inversions: np.ndarray, class_means: np.ndarray) -> np.ndarray:
    """Return the Pearson correlation of each inversion with its class mean (notebook 03).

    ``inversions[i]`` is compared pixel by pixel with ``class_means[i]``; returns shape ``(n,)``.
    A constant image (e.g. an all-zero inversion that never moved) has correlation 0.
    """
    a, b = _centred_rows(inversions, "inversions"), _centred_rows(class_means, "class_means")
    if a.shape != b.shape:
        raise ValueError(f"inversions and class_means must match, got {a.shape} and {b.shape}")
    return (a * b).sum(axis=1)


def own_and_nearest_other(
    inversions: np.ndarray, class_means: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Return each inversion's correlation with its own class mean and with the closest other.

    ``inversions[i]`` targets class ``i``; returns two arrays of shape ``(n,)``: the Pearson
    correlation with ``class_means[i]`` and the largest correlation with any
    ``class_means[j]``, ``j != i``.
    """
    corr = pearson_matrix(inversions, class_means)
    n = len(corr)
    if corr.shape[1] < 2 or corr.shape[1] < n:
        raise ValueError(f"need a class mean for each of the {n} inversions and at least 2 means")
    own = corr[np.arange(n), np.arange(n)]
    others = corr.copy()
    others[np.arange(n), np.arange(n)] = -np.inf
    return own, others.max(axis=1)


class EigenfaceRecogniser:
    """An independent face recogniser: eigenfaces (PCA) and nearest neighbour.

    The classic recogniser of Turk and Pentland (1991), built from scikit-learn's ``PCA``:
    every image is centred and scaled to unit length (so brightness and contrast do not
    matter), projected onto the first ``n_components`` principal components of the training
    images, and scaled to unit length again. A query's score for person ``p`` is its largest
    cosine similarity with any training image of ``p``. It shares no code or training with
    the attacked Keras models.
    """

    def __init__(self, n_components: int = 50) -> None:
        if isinstance(n_components, bool) or not isinstance(n_components, int | np.integer):
            raise TypeError(f"n_components must be an int, got {type(n_components).__name__}")
        if n_components < 1:
            raise ValueError(f"n_components must be positive, got {n_components}")
        self.n_components = int(n_components)

    def _embed(self, images: np.ndarray) -> np.ndarray:
        z = self._pca.transform(_centred_rows(images, "images"))
        norms = np.linalg.norm(z, axis=1, keepdims=True)
        return np.divide(z, norms, out=np.zeros_like(z), where=norms > 0)

    def fit(self, images: np.ndarray, labels: np.ndarray) -> EigenfaceRecogniser:
        """Fit the components on ``images`` of people ``labels`` (training images only).

        Returns ``self``.
        """
        from sklearn.decomposition import PCA

        labels = np.asarray(labels).reshape(-1)
        if len(images) != len(labels):
            raise ValueError(f"images and labels differ in length: {len(images)} vs {len(labels)}")
        if self.n_components > min(len(labels), np.asarray(images[0]).size):
            raise ValueError(f"n_components={self.n_components} exceeds the number of images")
        self._pca = PCA(self.n_components, random_state=0).fit(_centred_rows(images, "images"))
        self.classes_ = np.unique(labels)
        self._labels = labels
        self._train = self._embed(images)
        return self

    def scores(self, images: np.ndarray) -> np.ndarray:
        """Return ``(n_queries, n_classes)`` similarity scores (columns: ``classes_``)."""
        if not hasattr(self, "_pca"):
            raise RuntimeError("call fit() first")
        sims = self._embed(images) @ self._train.T
        return np.stack([sims[:, self._labels == c].max(axis=1) for c in self.classes_], axis=1)

    def predict(self, images: np.ndarray) -> np.ndarray:
        """Return the best-scoring person for each image."""
        return self.classes_[self.scores(images).argmax(axis=1)]


def top_k_rate(scores: np.ndarray, targets: np.ndarray, k: int) -> float:
    """Return the fraction of rows of ``scores`` whose ``targets`` column is among the top k.

    ``scores`` has shape ``(n, n_classes)`` (higher = more likely), ``targets`` ``(n,)``
    column indices. Ties count against the target (a constant row is never a hit unless
    ``k >= n_classes``).
    """
    scores = np.asarray(scores, dtype=float)
    targets = np.asarray(targets).reshape(-1)
    if scores.ndim != 2 or len(scores) != len(targets):
        raise ValueError(f"scores must be (n, n_classes) for {len(targets)} targets")
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or not 1 <= k <= scores.shape[1]:
        raise ValueError(f"k must be an int in 1..{scores.shape[1]}, got {k!r}")
    own = scores[np.arange(len(targets)), targets]
    better_or_equal = (scores >= own[:, None]).sum(axis=1) - 1  # other classes at least as good
    return float(np.mean(better_or_equal < k))


def judge_accuracy(judge: tf.keras.Model, inversions: np.ndarray, targets: np.ndarray) -> float:
    """Return the fraction of ``inversions`` that ``judge`` classifies as their ``targets``.

    ``judge`` is an independent Keras classifier (its largest output is its verdict);
    ``inversions[i]`` was made for class ``targets[i]``.
    """
    targets = np.asarray(targets).reshape(-1)
    if len(inversions) != len(targets):
        raise ValueError(
            f"inversions and targets differ in length: {len(inversions)} vs {len(targets)}"
        )
    verdicts = judge.predict(np.asarray(inversions), verbose=0).argmax(axis=1)
    return float(np.mean(verdicts == targets))


def identification_metrics(
    recogniser: EigenfaceRecogniser, inversions: np.ndarray, class_means: np.ndarray
) -> dict[str, float]:
    """Measure how well ``inversions`` identify their people; ``inversions[i]`` targets person i.

    Returns a dict: ``top1`` and ``top5`` (the share of inversions whose person is the
    recogniser's first choice, or among its first five), ``corr_own`` and ``corr_other``
    (mean correlation with the person's own mean face and with the most similar other
    person's), and ``own_wins`` (how many inversions are closer to their own mean face).
    """
    persons = np.arange(len(inversions))
    scores = recogniser.scores(inversions)
    own, other = own_and_nearest_other(inversions, class_means)
    return {
        "top1": top_k_rate(scores, persons, 1),
        "top5": top_k_rate(scores, persons, min(5, scores.shape[1])),
        "corr_own": float(own.mean()),
        "corr_other": float(other.mean()),
        "own_wins": int(np.sum(own > other)),
    }


def identification_by_gallery(
    inversions: np.ndarray,
    galleries: Mapping[str, tuple[np.ndarray, np.ndarray]],
    n_components: int = 50,
) -> dict[str, dict[str, float]]:
    """Return ``{gallery: {"top1": ..., "top5": ...}}``: how often an eigenface recogniser
    built on each gallery alone names the person of each inversion (``inversions[i]`` targets
    person ``i``).

    ``galleries`` maps a name to ``(images, labels)``. A recogniser fitted on, and matching
    against, the attacked model's own training photos measures whether an inversion looks like
    *those photos*; one fitted on photos the model never saw (held out) measures whether it
    shows *the person*. Each gallery gets its own :class:`EigenfaceRecogniser`, with at most
    ``n_components`` components (fewer if the gallery has fewer images).
    """
    if not galleries:
        raise ValueError("galleries must name at least one (images, labels) pair")
    persons = np.arange(len(inversions))
    out = {}
    for name, (images, labels) in galleries.items():
        k = min(int(n_components), len(labels) - 1)
        recogniser = EigenfaceRecogniser(k).fit(images, labels)
        if not np.array_equal(recogniser.classes_, persons):
            raise ValueError(
                f"gallery {name!r} must hold photos of exactly the people 0..{len(persons) - 1}"
            )
        scores = recogniser.scores(inversions)
        out[name] = {
            "top1": top_k_rate(scores, persons, 1),
            "top5": top_k_rate(scores, persons, min(5, scores.shape[1])),
        }
    return out
