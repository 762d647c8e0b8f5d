"""The figures of notebook 05: canaries' exposure against how often they were inserted."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure


def exposure_by_repetitions(
    exposures: Mapping[str, Mapping[int, Sequence[float]]],
    space_size: int,
    title: str = "",
) -> Figure:
    """Return a figure of each canary's exposure (bits) against its repetitions (log scale),
    one colour per model (``exposures[model name][repetitions]`` = the canaries' exposures),
    the mean of each repetition count joined by a line, with chance (``log2 e``, the expected
    exposure of a secret the model knows nothing about) and the maximum (``log2
    space_size``: ranked first) marked."""
    if not exposures:
        raise ValueError("exposures must hold at least one model")
    if isinstance(space_size, bool) or not isinstance(space_size, int) or space_size < 2:
        raise ValueError(f"space_size must be an int >= 2, got {space_size!r}")
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    for k, (name, by_r) in enumerate(exposures.items()):
        reps = sorted(by_r)
        if not reps:
            raise ValueError(f"{name}: no repetition counts")
        color = f"C{k}"
        for r in reps:
            values = np.asarray(by_r[r], dtype=float)
            jitter = r * np.exp(np.linspace(-0.06, 0.06, len(values))) if len(values) > 1 else [r]
            ax.scatter(jitter, values, s=18, color=color, alpha=0.6, linewidths=0)
        means = [float(np.mean(by_r[r])) for r in reps]
        ax.plot(reps, means, "-o", color=color, label=f"{name} (mean)")
    top, chance = math.log2(space_size), math.log2(math.e)
    at_left = ax.get_yaxis_transform()  # x in axes fraction, y in data
    for level, words, style in (
        (top, f"maximum: ranked first, log2 {space_size:,} = {top:.1f} bits", "--"),
        (chance, f"chance: {chance:.2f} bits", ":"),
    ):
        ax.axhline(level, color="0.3", ls=style, lw=1)
        ax.text(0.01, level, f" {words}", transform=at_left, va="bottom", fontsize=8, color="0.3")
    ax.set_xscale("log", base=2)
    all_reps = sorted({r for by_r in exposures.values() for r in by_r})
    ax.set_xticks(all_reps, [str(r) for r in all_reps])
    ax.set_ylim(min(0.0, ax.get_ylim()[0]), top * 1.12)
    ax.set_xlabel("times the canary was inserted into the training text")
    ax.set_ylabel("exposure (bits)")
    if title:
        ax.set_title(title)
    ax.legend(loc="upper left", bbox_to_anchor=(0.0, 0.86), fontsize=8)
    fig.tight_layout()
    return fig
