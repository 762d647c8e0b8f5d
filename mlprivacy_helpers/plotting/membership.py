"""Figures of notebook 02 (membership inference on CIFAR-10, DP-SGD as the defence).

Each function returns a matplotlib ``Figure``; the ROC of a single attack comes from
TF Privacy's own ``plotting.plot_roc_curve`` in the notebook.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure


def _history_series(history: Mapping[str, Sequence[float]], key: str) -> np.ndarray:
    if key not in history:
        raise ValueError(f"history has no {key!r}; keys are {sorted(history)}")
    return np.asarray(history[key], dtype=float)


def training_curves(history: Mapping[str, Sequence[float]], title: str = "") -> Figure:
    """Return a 1x2 figure: train vs test accuracy, and train vs test loss, per epoch.

    Reads the inference-mode metrics ``mia_{train,test}_{accuracy,loss}`` that
    :class:`mlprivacy_helpers.membership.EpochAttackCallback` writes.
    """
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for ax, metric in zip(axes, ("accuracy", "loss"), strict=True):
        train = _history_series(history, f"mia_train_{metric}")
        test = _history_series(history, f"mia_test_{metric}")
        epochs = np.arange(1, len(train) + 1)
        ax.plot(epochs, train, "o-", ms=3, label="train (members)")
        ax.plot(epochs, test, "s-", ms=3, label="test (non-members)")
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.set_title(f"{metric}: train {train[-1]:.2f} vs test {test[-1]:.2f}")
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def auc_by_slice(
    labels: Sequence[str],
    aucs_by_attack: Mapping[str, Sequence[float]],
    title: str = "Attack AUC per slice",
) -> Figure:
    """Return a horizontal grouped bar chart of AUC per slice (one bar per attack type).

    ``labels`` names the slices; ``aucs_by_attack`` maps an attack name to one AUC per
    slice (NaN where that attack was not run). A dashed line marks chance (0.5).
    """
    if not labels:
        raise ValueError("labels must name at least one slice")
    for name, aucs in aucs_by_attack.items():
        if len(aucs) != len(labels):
            raise ValueError(f"aucs_by_attack[{name!r}] has {len(aucs)} values, need {len(labels)}")
    n_attacks = max(len(aucs_by_attack), 1)
    height = 0.8 / n_attacks
    y = np.arange(len(labels))
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(labels) * max(n_attacks, 2) / 2 + 1.5))
    for i, (name, aucs) in enumerate(aucs_by_attack.items()):
        ax.barh(y + (i - (n_attacks - 1) / 2) * height, aucs, height=height, label=name)
    ax.axvline(0.5, color="k", ls="--", lw=1, label="chance")
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    finite = np.concatenate([np.asarray(a, float) for a in aucs_by_attack.values()])
    finite = finite[np.isfinite(finite)]
    upper = max(0.75, float(finite.max()) + 0.03) if finite.size else 1.0
    ax.set_xlim(0.4, upper)
    ax.set_xlabel("attack AUC")
    ax.set_title(title)
    ax.legend(
        loc="upper center",
        bbox_to_anchor=(0.5, -0.07 - 0.3 / len(labels)),
        ncol=2,
        fontsize="small",
    )
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


def auc_vs_epoch(
    history: Mapping[str, Sequence[float]],
    attack_keys: Mapping[str, str] | None = None,
) -> Figure:
    """Return a 1x2 figure: attack AUC per epoch, and the train-test accuracy gap per epoch.

    ``attack_keys`` maps a legend label to a history key (default: the logistic regression
    and threshold AUCs written by ``EpochAttackCallback``).
    """
    if attack_keys is None:
        attack_keys = {
            "logistic regression": "mia_logistic_regression_auc",
            "threshold (loss)": "mia_threshold_attack_auc",
        }
    gap = _history_series(history, "mia_train_accuracy") - _history_series(
        history, "mia_test_accuracy"
    )
    epochs = np.arange(1, len(gap) + 1)
    fig, (ax_auc, ax_gap) = plt.subplots(1, 2, figsize=(10, 3.6))
    for label, key in attack_keys.items():
        ax_auc.plot(epochs, _history_series(history, key), "o-", ms=3, label=label)
    ax_auc.axhline(0.5, color="k", ls="--", lw=1)
    ax_auc.set_xlabel("epoch")
    ax_auc.set_ylabel("attack AUC (entire dataset)")
    ax_auc.set_title("Membership inference AUC per epoch")
    ax_auc.legend()
    ax_auc.grid(alpha=0.3)
    ax_gap.plot(epochs, gap, "o-", ms=3, color="tab:red")
    ax_gap.set_xlabel("epoch")
    ax_gap.set_ylabel("train accuracy - test accuracy")
    ax_gap.set_title("Generalisation gap per epoch")
    ax_gap.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def roc_overlay(curves: Mapping[str, tuple[np.ndarray, np.ndarray]], title: str = "") -> Figure:
    """Return one ROC plot with a curve per entry of ``curves`` (name -> (fpr, tpr)).

    The legend gives each curve's AUC.
    """
    if not curves:
        raise ValueError("curves must hold at least one (fpr, tpr) pair")
    fig, ax = plt.subplots(figsize=(4.8, 4.6))
    ax.plot([0, 1], [0, 1], "k--", lw=1, label="chance")
    for name, (fpr, tpr) in curves.items():
        auc = float(np.trapezoid(tpr, fpr))
        ax.plot(fpr, tpr, lw=2, label=f"{name} (AUC {auc:.3f})")
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_aspect("equal")
    ax.set_title(title or "Attack ROC")
    ax.legend(loc="lower right", fontsize="small")
    fig.tight_layout()
    return fig


def side_by_side(
    metrics: Mapping[str, Mapping[str, float]],
    title: str = "Non-private vs DP-SGD",
) -> Figure:
    """Return a figure with one bar panel per metric, one bar per model, values annotated.

    ``metrics`` maps a metric name to ``{model name: value}``.
    """
    if not metrics:
        raise ValueError("metrics must hold at least one metric")
    fig, axes = plt.subplots(1, len(metrics), figsize=(3.2 * len(metrics), 3.4), squeeze=False)
    for ax, (metric, values) in zip(axes[0], metrics.items(), strict=True):
        names = list(values)
        bars = ax.bar(
            names, [values[n] for n in names], color=["tab:red", "tab:green"][: len(names)]
        )
        for bar, name in zip(bars, names, strict=True):
            ax.annotate(
                f"{values[name]:.3f}",
                (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                ha="center",
                va="bottom",
            )
        ax.set_title(metric)
        ax.margins(y=0.15)
    fig.suptitle(title)
    fig.tight_layout()
    return fig
