"""Helpers for the ML privacy tutorial notebooks: plumbing only, never the lesson.

Modules, by role: ``config`` (profile, seed, version checks), ``data`` (offline-capable
MNIST/CIFAR-10 loaders), ``models`` (the Keras models attacked), ``training`` (training
with a model cache), ``cache``, ``dp_sgd`` (fast clipping, Poisson sampling, accounting),
``reference_models`` (training the reference models), ``membership`` (TF Privacy attack plumbing),
``attack_metrics`` (AUC, TPR at low FPR with intervals), ``reference_attacks`` (LiRA, RMIA),
``audit`` (empirical checks of DP guarantees, the one-run audit), ``memorization``
(canaries, exposure, extraction), ``federated`` (gradient inversion, trap weights, DP at the
client), ``exercises`` (the exercise checker), ``results`` (the notebooks' JSON numbers) and
``plotting``. Submodules
are imported on use, so ``import mlprivacy_helpers`` stays cheap (no TensorFlow import).

Importing the package first sets the two switches the stack needs before TensorFlow loads
(``stack``: ``tf.keras`` as Keras 2, TF Privacy's ``skip_tf_privacy_import``).
"""

from . import stack as _stack

_stack.configure()

__version__ = "0.1.0"
