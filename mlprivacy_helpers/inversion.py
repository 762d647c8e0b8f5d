"""Model inversion, fast: ART's MIFace with a compiled classifier (the attack side of notebook 03).

ART's :class:`~art.estimators.classification.TensorFlowV2Classifier` computes ``class_gradient``
eagerly with one forward/backward pass *per target class*. MIFace calls it on every
iteration, so inverting ten digits for ART's default 10 000 iterations takes most of an hour
on a laptop CPU. :class:`CompiledTensorFlowV2Classifier` is a thin subclass whose
``class_gradient`` and ``predict`` are each a single compiled :func:`tf.function` call over the
whole batch; ``tests/test_inversion.py`` checks it returns the same numbers as ART's own code.
:class:`MIFaceRunner` runs MIFace on many models of one architecture, :func:`time_miface` times
it, and :func:`infer_cached` keeps each inversion in the model cache (a re-run of notebook 03
loads what MIFace computed, as it loads the trained models). How good an inversion is
(correlations, recognisers, judges) is measured in :mod:`.inversion_metrics`.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf
from art.attacks.inference.model_inversion import MIFace
from art.config import ART_NUMPY_DTYPE
from art.estimators.classification import TensorFlowV2Classifier

from .cache import cache_dir, cache_key, cached_result, fingerprint
from .config import installed_version
from .training import model_description

__all__ = ["CompiledTensorFlowV2Classifier", "MIFaceRunner", "infer_cached", "time_miface"]


class CompiledTensorFlowV2Classifier(TensorFlowV2Classifier):
    """ART ``TensorFlowV2Classifier`` whose ``class_gradient``/``predict`` are compiled.

    Same constructor and same results as the parent (the unit tests compare them to 1e-5);
    only the execution changes: each call is one :func:`tf.function` call with a fixed input
    signature ``(None, *input_shape)`` float32, so varying batch sizes never retrace.

    Differences from the parent, all deliberate:

    * inputs are cast to float32 (``art.config.ART_NUMPY_DTYPE``) and ``predict`` runs the
      whole array in one call (the parent ignores ``batch_size`` too);
    * with ``label=None`` and a framework preprocessing that is not the identity, the parent
      returns the gradient with respect to the *preprocessed* input (it forgets the chain rule
      through the preprocessing); this class returns the gradient with respect to ``x``, as it
      does for integer and per-sample labels;
    * with NumPy (non-framework) preprocessing the parent's ``class_gradient`` raises (ART
      1.20.1 hands a ``tf.Tensor`` to the NumPy defence); this class applies the preprocessing
      and its gradient with the parent's own ``_apply_preprocessing(_gradient)`` on arrays;
    * per-sample labels (an array) use one backward pass of ``sum_i f_{label_i}(x_i)``, which
      equals the parent's per-unique-label passes whenever samples do not interact inside a
      batch (true in inference mode). With ``training_mode=True`` the exact column-sum Jacobian
      is used instead, like the parent.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._compiled: dict[tuple[str, bool], Any] = {}

    # ------------------------------------------------------------------ compiled functions
    def _x_spec(self) -> tf.TensorSpec:
        return tf.TensorSpec(shape=(None, *self.input_shape), dtype=ART_NUMPY_DTYPE)

    def _preprocess_in_graph(self, x: tf.Tensor) -> tf.Tensor:
        """Framework preprocessing inside the graph (so the tape differentiates through it)."""
        if self.all_framework_preprocessing:
            x, _ = self._apply_preprocessing(x, y=None, fit=False)
        return x

    def _get_compiled(self, kind: str, training: bool) -> Any:
        """Return (building once) the compiled function ``kind`` for this ``training`` flag."""
        key = (kind, bool(training))
        if key in self._compiled:
            return self._compiled[key]
        model, spec = self._model, self._x_spec()

        if kind == "predict":

            @tf.function(input_signature=[spec])
            def fn(x):
                return model(self._preprocess_in_graph(x), training=training)

        elif kind == "per_sample":

            @tf.function(input_signature=[spec, tf.TensorSpec(shape=(None,), dtype=tf.int32)])
            def fn(x, labels):
                with tf.GradientTape() as tape:
                    tape.watch(x)
                    preds = model(self._preprocess_in_graph(x), training=training)
                    rows = tf.range(tf.shape(preds)[0])
                    picked = tf.gather_nd(preds, tf.stack([rows, labels], axis=1))
                return tape.gradient(picked, x)

        elif kind == "all_classes":

            @tf.function(input_signature=[spec])
            def fn(x):
                with tf.GradientTape() as tape:
                    tape.watch(x)
                    preds = model(self._preprocess_in_graph(x), training=training)
                    column_sums = tf.reduce_sum(tf.reshape(preds, (tf.shape(preds)[0], -1)), 0)
                # d(sum_j f_k(x_j)) / dx for every class k, shape (nb_classes, batch, *input)
                jac = tape.jacobian(column_sums, x)
                return tf.transpose(jac, [1, 0] + list(range(2, len(jac.shape))))

        else:  # pragma: no cover - internal
            raise ValueError(f"unknown compiled function kind {kind!r}")

        self._compiled[key] = fn
        return fn

    def tracing_counts(self) -> dict[str, int]:
        """Return how many times each compiled function was traced (1 each when all is well)."""
        return {
            f"{kind}[training={training}]": fn.experimental_get_tracing_count()
            for (kind, training), fn in self._compiled.items()
        }

    # ------------------------------------------------------------------ ART API
    def _to_model_input(self, x: np.ndarray) -> np.ndarray:
        """Apply non-framework (numpy) preprocessing outside the graph, like the parent."""
        x = np.asarray(x, dtype=ART_NUMPY_DTYPE)
        if not self.all_framework_preprocessing:
            x, _ = self._apply_preprocessing(x, y=None, fit=False)
            x = np.asarray(x, dtype=ART_NUMPY_DTYPE)
        return x

    def predict(
        self, x: np.ndarray, batch_size: int = 128, training_mode: bool = False, **kwargs: Any
    ) -> np.ndarray:
        """Return the model outputs for ``x`` (shape ``(n, nb_classes)``), one compiled call."""
        del batch_size, kwargs  # one call for the whole array, as the parent does
        fn = self._get_compiled("predict", training_mode)
        preds = fn(tf.convert_to_tensor(self._to_model_input(x))).numpy()
        return self._apply_postprocessing(preds=preds, fit=False)

    def class_gradient(
        self,
        x: np.ndarray,
        label: int | list[int] | np.ndarray | None = None,
        training_mode: bool = False,
        **kwargs: Any,
    ) -> np.ndarray:
        """Return d f_label(x) / dx like ART: shape ``(n, 1, *input)``, or ``(n, C, *input)``.

        ``label`` is ``None`` (all classes), an ``int`` (the same class for every sample) or a
        sequence of one class index per sample.
        """
        del kwargs
        x_in = self._to_model_input(x)
        n = x_in.shape[0]
        x_t = tf.convert_to_tensor(x_in)

        if label is None:
            grads = self._get_compiled("all_classes", training_mode)(x_t).numpy()
        else:
            if isinstance(label, (int, np.integer)) and not isinstance(label, bool):
                labels = np.full(n, int(label), dtype=np.int32)
            else:
                labels = np.asarray(label)
                if labels.ndim != 1 or labels.shape[0] != n:
                    raise ValueError(
                        f"label must be None, an int or one class index per sample; got shape "
                        f"{labels.shape} for {n} samples"
                    )
                if not np.issubdtype(labels.dtype, np.integer):
                    raise TypeError(f"label must hold integer class indices, got {labels.dtype}")
                labels = labels.astype(np.int32)
            if labels.size and (labels.min() < 0 or labels.max() >= self.nb_classes):
                raise ValueError(f"label values must be in [0, {self.nb_classes}), got {label}")
            if training_mode and not isinstance(label, (int, np.integer)):
                all_grads = self._get_compiled("all_classes", True)(x_t).numpy()
                grads = all_grads[np.arange(n), labels]
            else:
                grads = self._get_compiled("per_sample", training_mode)(
                    x_t, tf.convert_to_tensor(labels)
                ).numpy()
            grads = grads[:, None]

        if not self.all_framework_preprocessing:
            grads = self._apply_preprocessing_gradient(x, grads)
        return grads


def time_miface(
    classifier: TensorFlowV2Classifier,
    x0: np.ndarray,
    targets: np.ndarray,
    *,
    max_iter: int,
    repeats: int = 3,
    **miface_kwargs: Any,
) -> tuple[float, np.ndarray]:
    """Time ART's MIFace on ``classifier``: returns ``(median seconds per iteration, inversions)``.

    Runs ``MIFace(classifier, max_iter=max_iter, batch_size=len(x0), verbose=False,
    **miface_kwargs).infer(x0, targets)`` once untimed (TensorFlow traces its functions on the
    first call), then ``repeats`` timed times, and divides the median wall time by
    ``max_iter``. Used by notebook 03 and ``benchmarks/bench_miface.py`` to compare ART's own
    estimator with :class:`CompiledTensorFlowV2Classifier` on the same call.
    """
    if isinstance(max_iter, bool) or not isinstance(max_iter, int) or max_iter < 1:
        raise ValueError(f"max_iter must be a positive int, got {max_iter!r}")
    if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
        raise ValueError(f"repeats must be a positive int, got {repeats!r}")
    if len(x0) != len(targets):
        raise ValueError(f"x0 and targets differ in length: {len(x0)} vs {len(targets)}")
    attack = MIFace(
        classifier, max_iter=max_iter, batch_size=len(x0), verbose=False, **miface_kwargs
    )
    warm = MIFace(classifier, max_iter=2, batch_size=len(x0), verbose=False, **miface_kwargs)
    warm.infer(x0, targets)
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        inversions = attack.infer(x0, targets)
        seconds.append(time.perf_counter() - start)
    return float(np.median(seconds)) / max_iter, inversions


#: Bump when :func:`infer_cached`'s key or what it stores changes meaning.
_INFER_CACHE_VERSION = 1


def _infer_key(attack: MIFace, x: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    """Everything that determines ``attack.infer(x, y)``: ART's version, the attack's settings,
    the estimator's class, clipping and preprocessing, the model's architecture and weights,
    and the inputs (the library versions are added by :func:`~.cache.cache_key`)."""
    estimator = attack.estimator
    model = estimator.model
    if not model.built:  # e.g. a Sequential wrapper not called yet: its weights exist after this
        model.build((None, *estimator.input_shape))
    return {
        "kind": "miface",
        "version": _INFER_CACHE_VERSION,
        "art": installed_version("adversarial-robustness-toolbox"),
        "attack": {
            name: getattr(attack, name) for name in MIFace.attack_params if name != "verbose"
        },
        "estimator": f"{type(estimator).__module__}.{type(estimator).__qualname__}",
        "nb_classes": int(estimator.nb_classes),
        "input_shape": list(estimator.input_shape),
        "clip_values": None
        if estimator.clip_values is None
        else np.asarray(estimator.clip_values).tolist(),
        "preprocessing": repr(estimator.preprocessing),
        "defences": [
            repr(d)
            for d in (estimator.preprocessing_defences or [])
            + (estimator.postprocessing_defences or [])
        ],
        "model": model_description(model),
        "weights": fingerprint(*model.get_weights()),
        "inputs": fingerprint(x, y),
    }


def infer_cached(attack: MIFace, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, bool]:
    """Return ``(attack.infer(x, y), cached)``, loading the inversions from the model cache when
    the same inversion was computed before.

    ``attack`` is an ART :class:`MIFace` on a TensorFlow estimator (ART's
    ``TensorFlowV2Classifier`` or :class:`CompiledTensorFlowV2Classifier`); ``cached`` says
    whether the array came from the cache. The key covers everything that determines the
    result (:func:`_infer_key`: ART's and the other libraries' versions, the attack's
    settings, the estimator's class, clipping and preprocessing, the model's architecture and
    weights, ``x`` and ``y``), so a changed model or setting never reuses a stale inversion.
    With ``MLPRIVACY_CACHE=off`` this is ``attack.infer(x, y)``. A damaged entry is reported
    with a :class:`~.cache.CacheWarning`, removed and computed again; a failed save only warns.
    """
    if not isinstance(attack, MIFace):
        raise TypeError(f"attack must be ART's MIFace, got {type(attack).__name__}")
    if not isinstance(getattr(attack.estimator, "model", None), tf.keras.Model):
        raise TypeError("attack's estimator must wrap a Keras model (TensorFlowV2Classifier)")
    x = np.asarray(x, dtype=ART_NUMPY_DTYPE)
    y = np.asarray(y)
    if len(x) != len(y):
        raise ValueError(f"x and y must have the same length, got {len(x)} and {len(y)}")
    root = cache_dir()
    if root is None:
        return attack.infer(x, y), False

    def load(entry: Path) -> np.ndarray:
        stored = np.load(entry, allow_pickle=False)
        if stored.shape != x.shape:
            raise ValueError(f"holds shape {stored.shape}, expected {x.shape}")
        return stored

    return cached_result(
        root / f"miface-{cache_key(_infer_key(attack, x, y))[:20]}.npy",
        lambda: attack.infer(x, y),
        load=load,
        save=lambda handle, inversions: np.save(handle, inversions, allow_pickle=False),
        what="the inversions",
    )


class MIFaceRunner:
    """Run ART's MIFace on many trained models of one architecture with one compiled estimator.

    ``MIFaceRunner(base, nb_classes=..., input_shape=...)`` wraps ``base`` (an untrained
    Keras model that outputs logits) with a softmax on top in a
    :class:`CompiledTensorFlowV2Classifier`, once. :meth:`invert` copies a trained model's
    weights into ``base`` and runs MIFace through that estimator, so inverting the next model
    of the same architecture traces no new :func:`tf.function`. The result is the same as
    wrapping each model in an estimator of its own (``tests/test_inversion.py`` checks this).
    Inversions go through :func:`infer_cached`: the same model, targets, start and settings are
    inverted once and then loaded from the model cache.
    """

    def __init__(
        self,
        base: tf.keras.Model,
        *,
        nb_classes: int,
        input_shape: tuple[int, ...],
        clip_values: tuple[float, float] = (0.0, 1.0),
    ) -> None:
        if not isinstance(base, tf.keras.Model):
            raise TypeError(f"base must be a Keras model, got {type(base).__name__}")
        self.base = base
        self.nb_classes = int(nb_classes)
        attacked = tf.keras.Sequential([base, tf.keras.layers.Softmax()])
        self.classifier = CompiledTensorFlowV2Classifier(
            model=attacked,
            nb_classes=self.nb_classes,
            input_shape=tuple(input_shape),
            clip_values=clip_values,
        )

    def invert(
        self,
        model: tf.keras.Model,
        targets: np.ndarray,
        x0: np.ndarray | None = None,
        *,
        max_iter: int,
        **miface_kwargs: Any,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Invert ``model`` for each class in ``targets``, all in one MIFace batch.

        ``x0`` is the start of each inversion (default: all-zero images). Extra keyword
        arguments go to ART's ``MIFace`` (``window_length``, ``threshold``,
        ``learning_rate``). Returns ``(inversions, confidences)``: the inverted images, shape
        ``(len(targets), *input_shape)``, and the softmax probability ``model`` gives each
        inversion's target class, shape ``(len(targets),)``. Raises ``ValueError`` if
        ``model``'s weights do not fit the runner's architecture.
        """
        targets = np.asarray(targets).reshape(-1)
        if targets.size == 0 or not np.issubdtype(targets.dtype, np.integer):
            raise ValueError("targets must be a non-empty array of class indices")
        if targets.min() < 0 or targets.max() >= self.nb_classes:
            raise ValueError(f"targets must lie in 0..{self.nb_classes - 1}")
        if isinstance(max_iter, bool) or not isinstance(max_iter, int) or max_iter < 1:
            raise ValueError(f"max_iter must be a positive int, got {max_iter!r}")
        input_shape = tuple(self.classifier.input_shape)
        if x0 is None:
            x0 = np.zeros((len(targets), *input_shape), dtype=ART_NUMPY_DTYPE)
        x0 = np.asarray(x0, dtype=ART_NUMPY_DTYPE)
        if x0.shape != (len(targets), *input_shape):
            raise ValueError(f"x0 must have shape {(len(targets), *input_shape)}, got {x0.shape}")
        weights = model.get_weights()
        expected = [w.shape for w in self.base.get_weights()]
        if [w.shape for w in weights] != expected:
            raise ValueError("model's weights do not match the runner's base architecture")
        self.base.set_weights(weights)
        attack = MIFace(
            self.classifier,
            max_iter=max_iter,
            batch_size=len(targets),
            verbose=False,
            **miface_kwargs,
        )
        inversions, _ = infer_cached(attack, x0, targets)
        confidences = self.classifier.predict(inversions)[np.arange(len(targets)), targets]
        return inversions, confidences
