"""What a language model gives away about its canaries: log-perplexity, rank, exposure, extraction.

The *log-perplexity* of a secret is ``-sum log2 Pr(c | the characters before c)`` over the
characters of its secret part (the placeholders of its pattern), given the fixed prefix, as it
appears in training (at the start of a record). Ranking a canary among candidate secrets by
log-perplexity gives its *rank* (1 = the model's first choice); its **exposure** (Carlini et
al., "The Secret Sharer", USENIX Security 2019) is ``log2(candidates) - log2(rank)`` bits: how
many halvings of the search a model-guided guesser saves. A secret the model knows nothing about
has an expected exposure of about ``log2(e) ~ 1.44`` bits; one it ranks first has the
maximum, ``log2(candidates)``. TF Privacy's ``compute_exposure_interpolation`` ranks a canary
among reference secrets that were never inserted (rank = references with a log-perplexity at
most its own, plus one); :func:`exposure_from_rank` is that formula.

:func:`beam_search` is the extraction attack: from the prefix alone, keep the ``width`` most
likely partial secrets, one character at a time, and return the best complete ones.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np
import tensorflow as tf

from .text import PAD, Vocabulary, placeholders


def all_secrets(pattern: str, alphabet: str) -> list[str]:
    """Return every secret ``pattern`` allows (each ``{}`` one character of ``alphabet``), in
    lexicographic order of the filled characters."""
    slots = placeholders(pattern)
    if slots < 1:
        raise ValueError(f"pattern needs one or more {{}} placeholders, got {pattern!r}")
    return [pattern.format(*combo) for combo in itertools.product(alphabet, repeat=slots)]


def secret_positions(pattern: str) -> list[int]:
    """Return the character positions of ``pattern``'s placeholders in a filled secret (the
    pattern's other text must not hold ``{}`` escapes)."""
    filled = pattern.format(*["\0"] * placeholders(pattern))
    return [i for i, c in enumerate(filled) if c == "\0"]


def _next_char_log2_probs(model: tf.keras.Model, x: np.ndarray, batch_size: int) -> np.ndarray:
    """Return log2 probabilities of the next character for windows ``x`` of shape
    ``(n, positions, context)``: shape ``(n, positions, vocabulary)``."""
    logits = model.predict(x, batch_size=batch_size, verbose=0)
    return tf.nn.log_softmax(logits, axis=-1).numpy() / math.log(2.0)


def log_perplexities(
    model: tf.keras.Model,
    vocab: Vocabulary,
    context: int,
    secrets: Sequence[str],
    pattern: str,
    batch_size: int = 8192,
) -> np.ndarray:
    """Return each secret's log-perplexity in bits: ``-sum log2 Pr`` of its characters at the
    placeholders of ``pattern``, each predicted from the ``context`` characters before it, the
    secret starting a record after ``context`` of :data:`~.text.PAD` (as canaries do in
    training). Shape ``(len(secrets),)``; one model evaluation per secret and placeholder."""
    if not len(secrets):
        return np.zeros(0)
    positions = np.asarray(secret_positions(pattern)) + context
    ids = np.stack([vocab.encode(PAD * context + s) for s in secrets])
    if ids.shape[1] != context + len(pattern.format(*["0"] * placeholders(pattern))):
        raise ValueError("every secret must be a filled instance of pattern")
    x = np.stack([ids[:, p - context : p] for p in positions], axis=1)
    log2_probs = _next_char_log2_probs(model, x, batch_size)
    picked = np.take_along_axis(log2_probs, ids[:, positions][..., None], axis=-1)[..., 0]
    return -picked.sum(axis=1)


def exposure_from_rank(rank: int | np.ndarray, candidates: int) -> float | np.ndarray:
    """Return ``log2(candidates) - log2(rank)``: the exposure in bits of a secret ranked
    ``rank``-th (1 = first) among ``candidates``. ``ValueError`` outside 1..candidates."""
    if isinstance(candidates, bool) or not isinstance(candidates, int | np.integer):
        raise TypeError(f"candidates must be an int, got {type(candidates).__name__}")
    r = np.asarray(rank, dtype=float)
    if candidates < 1 or np.any(r < 1) or np.any(r > candidates) or np.any(r != np.floor(r)):
        raise ValueError(f"rank must be a whole number in 1..{candidates}, got {rank!r}")
    out = math.log2(candidates) - np.log2(r)
    return float(out) if np.ndim(rank) == 0 else out


def ranks(candidate_log_perplexities: np.ndarray, log_perplexities_: np.ndarray) -> np.ndarray:
    """Return, for each log-perplexity, the number of candidates whose log-perplexity is at
    most it -- the number of guesses a guesser that tries candidates from the most likely on
    needs, ties counted against it, when the candidates include the secret itself. int64."""
    ordered = np.sort(np.asarray(candidate_log_perplexities, dtype=float))
    return np.searchsorted(ordered, np.asarray(log_perplexities_, dtype=float), "right")


def beam_search(
    model: tf.keras.Model,
    vocab: Vocabulary,
    context: int,
    pattern: str,
    alphabet: str,
    width: int,
    batch_size: int = 8192,
) -> list[tuple[str, float]]:
    """Return up to ``width`` secrets of ``pattern`` that the model finds most likely, best
    first, as ``(secret, log-perplexity in bits)``: a beam search from the prefix alone that
    keeps, after each placeholder, the ``width`` partial secrets of lowest log-perplexity
    (characters outside ``alphabet`` are not tried). It evaluates the model on at most
    ``width * len(alphabet)`` windows per placeholder, not on every secret."""
    if isinstance(width, bool) or not isinstance(width, int) or width < 1:
        raise ValueError(f"width must be a positive int, got {width!r}")
    slots = placeholders(pattern)
    if slots < 1:
        raise ValueError(f"pattern needs one or more {{}} placeholders, got {pattern!r}")
    alphabet_ids = vocab.encode(alphabet)
    beams: list[tuple[tuple[str, ...], float]] = [((), 0.0)]
    for slot in range(slots):
        # The text up to this placeholder, for every beam: the pattern filled so far, cut there.
        texts = [
            PAD * context + pattern.format(*filled, *["\0"] * (slots - slot)).split("\0")[0]
            for filled, _ in beams
        ]
        x = np.stack([vocab.encode(t[-context:]) for t in texts])[:, None, :]
        log2_probs = _next_char_log2_probs(model, x, batch_size)[:, 0, alphabet_ids]
        scored = [
            ((*filled, alphabet[k]), lp - float(log2_probs[b, k]))
            for b, (filled, lp) in enumerate(beams)
            for k in range(len(alphabet))
        ]
        scored.sort(key=lambda item: item[1])
        beams = scored[:width]
    return [(pattern.format(*filled), lp) for filled, lp in beams]
