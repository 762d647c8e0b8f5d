"""Text a character language model writes: sampling one character at a time (notebook 05)."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from .text import PAD, Vocabulary


def sample_text(
    model: tf.keras.Model,
    vocab: Vocabulary,
    context: int,
    prompt: str,
    length: int,
    rng: np.random.Generator,
    temperature: float = 1.0,
) -> str:
    """Return ``prompt`` followed by ``length`` characters drawn from the model, each from the
    ``context`` characters before it (:data:`~.text.PAD` before the prompt's start), with the
    logits divided by ``temperature`` (below 1: more likely characters; 0 is not allowed:
    use a small value for near-greedy text). Uses only ``rng`` for randomness."""
    if isinstance(length, bool) or not isinstance(length, int) or length < 0:
        raise ValueError(f"length must be a non-negative int, got {length!r}")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy Generator, got {type(rng).__name__}")
    if not temperature > 0:
        raise ValueError(f"temperature must be positive, got {temperature!r}")
    ids = list(vocab.encode(PAD * context + prompt))
    for _ in range(length):
        window = np.asarray(ids[-context:], dtype=np.int32)[None, None, :]
        logits = model(window, training=False).numpy()[0, 0].astype(np.float64) / temperature
        probs = np.exp(logits - logits.max())
        ids.append(int(rng.choice(len(probs), p=probs / probs.sum())))
    return prompt + vocab.decode(ids[context + len(prompt) :])
