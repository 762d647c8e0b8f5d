"""A live progress bar for long notebook cells, that leaves one summary line behind.

A cell that trains models for a minute looks like a hang, on Colab above all. :class:`Progress`
shows a bar with the time elapsed and an estimate of the time left, updated in place through
an IPython display handle (``display(..., display_id=True)``), which JupyterLab, Colab and
nbclient all support; no widgets are involved, so nothing breaks in saved notebooks or in the
rendered pages. When the work is done the bar is replaced by one short summary line, which is
what saved outputs and the pages show. Outside a notebook kernel (scripts, tests) it shows
nothing and :meth:`Progress.close` prints the summary.

The estimate assumes the remaining work goes at the average pace so far: left =
elapsed / done * (total - done).

``MLPRIVACY_PROGRESS=summary`` keeps the bar still: it is drawn once and replaced by its
summary, with no redraw in between. For clients that read a kernel's messages only after a
cell has finished (nbval, in ``make test``: ``mlprivacy_build/pytest_nbval_cells.py`` sets it):
unread messages queue in ZeroMQ's and the system's buffers, and past their limits ZeroMQ drops
them, the cell's last output and the kernel's "idle" among them. Unset or ``live``: the bar
redraws.
"""

from __future__ import annotations

import html
import math
import os
import time
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

T = TypeVar("T")

#: The CSS class of the bar's HTML (the browser test looks for it).
CSS_CLASS = "mlprivacy-progress"
#: The environment variable that keeps bars still (``summary``) or lets them redraw (``live``).
MODE_VARIABLE = "MLPRIVACY_PROGRESS"
MODES = ("live", "summary")


def live_redraws() -> bool:
    """Return whether bars redraw as work advances: ``False`` when ``MLPRIVACY_PROGRESS`` is
    ``summary``, ``True`` when it is unset, empty or ``live``; ``ValueError`` otherwise."""
    mode = os.environ.get(MODE_VARIABLE, "") or "live"
    if mode not in MODES:
        raise ValueError(f"{MODE_VARIABLE} must be one of {MODES}, got {mode!r}")
    return mode == "live"


def format_seconds(seconds: float) -> str:
    """Return ``seconds`` as ``"7 s"``, ``"2 min 05 s"`` or ``"1 h 02 min"``."""
    if not isinstance(seconds, int | float) or isinstance(seconds, bool):
        raise TypeError(f"seconds must be a number, got {type(seconds).__name__}")
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"seconds must be finite and >= 0, got {seconds}")
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def time_left(done: float, total: float, elapsed: float) -> float | None:
    """Return the estimated seconds left at the average pace so far, or ``None`` before any
    work is done (no pace to go on)."""
    if total <= 0:
        raise ValueError(f"total must be > 0, got {total}")
    if done <= 0:
        return None
    return max(0.0, elapsed / done * (total - min(done, total)))


def _kernel_display() -> Any | None:
    """Return IPython's ``display`` when running in a kernel with a front end, else ``None``."""
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # pragma: no cover - IPython is in the lock
        return None
    shell = get_ipython()
    if shell is None or getattr(shell, "kernel", None) is None:
        return None
    return display


class _Rendered:
    """An object IPython displays as text/plain and text/html."""

    def __init__(self, text: str, markup: str) -> None:
        self._text, self._markup = text, markup

    def __repr__(self) -> str:
        return self._text

    def _repr_html_(self) -> str:
        return self._markup


class Progress:
    """A progress bar over ``total`` units of work (epochs, models, iterations).

    ``update(n)`` advances it (fractions allowed, e.g. one batch of an epoch); the display
    is redrawn at most every ``min_interval`` seconds. ``close(summary)`` replaces the bar by
    ``summary`` (default: what was done, and in how long) and returns the elapsed seconds.
    Also a context manager: leaving the ``with`` block closes it with the default summary
    unless :meth:`close` was called. Raises ``ValueError`` for a ``total`` that is not
    positive and ``TypeError`` for a ``description`` that is not a string.
    """

    def __init__(
        self, total: float, description: str, unit: str = "steps", min_interval: float = 0.5
    ) -> None:
        if not isinstance(description, str) or not isinstance(unit, str):
            raise TypeError("description and unit must be strings")
        if isinstance(total, bool) or not isinstance(total, int | float) or not total > 0:
            raise ValueError(f"total must be a positive number, got {total!r}")
        self.total, self.description, self.unit = float(total), description, unit
        self.min_interval = float(min_interval)
        self.done = 0.0
        self.closed = False
        self._start = time.perf_counter()
        self._last_draw = -math.inf
        self._live = live_redraws()
        display = _kernel_display()
        self._handle = display(self._render(), display_id=True) if display else None

    @property
    def elapsed(self) -> float:
        """Seconds since the bar was created."""
        return time.perf_counter() - self._start

    def _count(self, value: float) -> str:
        return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"

    def status(self) -> str:
        """Return the bar's line: ``"what: 3/10 epochs · 12 s elapsed · about 28 s left"``."""
        left = time_left(self.done, self.total, self.elapsed)
        parts = [
            f"{self.description}: {self._count(min(self.done, self.total))}/"
            f"{self._count(self.total)} {self.unit}",
            f"{format_seconds(self.elapsed)} elapsed",
            "estimating the time left" if left is None else f"about {format_seconds(left)} left",
        ]
        return " · ".join(parts)

    def _render(self) -> _Rendered:
        fraction = min(self.done / self.total, 1.0)
        width = 30
        filled = int(round(fraction * width))
        text = f"[{'#' * filled}{'.' * (width - filled)}] {fraction:4.0%} {self.status()}"
        markup = (
            f'<div class="{CSS_CLASS}"><progress value="{fraction:.4f}" max="1" '
            f'style="width: 16em; vertical-align: middle"></progress> '
            f"<span>{html.escape(self.status())}</span></div>"
        )
        return _Rendered(text, markup)

    def update(self, n: float = 1.0) -> None:
        """Advance by ``n`` units; redraw if ``min_interval`` has passed. No-op once closed."""
        if self.closed:
            return
        if isinstance(n, bool) or not isinstance(n, int | float) or n < 0:
            raise ValueError(f"n must be a number >= 0, got {n!r}")
        self.done += float(n)
        now = time.perf_counter()
        if self._handle is not None and self._live and now - self._last_draw >= self.min_interval:
            self._last_draw = now
            self._handle.update(self._render())

    def close(self, summary: str | None = None) -> float:
        """Replace the bar by ``summary`` (default: ``"what: N units in T"``); return the
        elapsed seconds. A second call does nothing and returns the same seconds."""
        if self.closed:
            return self._seconds
        self.closed = True
        self._seconds = self.elapsed
        if summary is None:
            summary = (
                f"{self.description}: {self._count(min(self.done, self.total))} {self.unit} "
                f"in {format_seconds(self._seconds)}"
            )
        if self._handle is not None:
            self._handle.update(_Rendered(summary, f"<div>{html.escape(summary)}</div>"))
        else:
            print(summary)
        return self._seconds

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def track(
    iterable: Iterable[T], description: str, total: int | None = None, unit: str = "steps"
) -> Iterator[T]:
    """Yield the items of ``iterable`` with a :class:`Progress` bar over them (``total``
    defaults to ``len(iterable)``); the bar becomes its summary line when the loop ends.
    Raises ``TypeError`` if no ``total`` is given and ``iterable`` has no length."""
    if total is None:
        if not hasattr(iterable, "__len__"):
            raise TypeError("give total= for an iterable without a length")
        total = len(iterable)  # type: ignore[arg-type]
    with Progress(total, description, unit) as bar:
        for item in iterable:
            yield item
            bar.update(1)
