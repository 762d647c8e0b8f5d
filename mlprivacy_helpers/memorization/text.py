"""Text, records and canaries for a character-level language model (notebook 05).

A *record* is one training example, and what DP-SGD's ε protects: a piece of text
``context + positions`` characters long, whose last ``positions`` characters the model predicts,
each from the ``context`` characters before it. The training text is cut into consecutive
records (:func:`text_records`); each canary -- a secret such as ``"my PIN is 281 946"``, drawn
with TF Privacy's Secret Sharer generator -- is a record of its own, inserted ``r`` times, so it
fills ``r`` records (:func:`canary_records`).
"""

from __future__ import annotations

import dataclasses
import string
from collections.abc import Sequence

import numpy as np
from tensorflow_privacy.privacy.privacy_tests.secret_sharer import generate_secrets

#: What a record holds before its first character: line breaks, as between the play's speeches.
PAD = "\n"


@dataclasses.dataclass(frozen=True)
class Vocabulary:
    """The characters a model knows, in a fixed order (a character's id is its position)."""

    chars: str

    def __post_init__(self) -> None:
        if not isinstance(self.chars, str):
            raise TypeError(f"chars must be a str, got {type(self.chars).__name__}")
        if not self.chars or len(set(self.chars)) != len(self.chars):
            raise ValueError("a vocabulary needs one or more distinct characters")
        object.__setattr__(self, "_index", {c: i for i, c in enumerate(self.chars)})

    @property
    def size(self) -> int:
        """Return the number of characters."""
        return len(self.chars)

    def encode(self, text: str) -> np.ndarray:
        """Return the ids of ``text``'s characters (int32); ``ValueError`` for an unknown one."""
        index = self._index  # type: ignore[attr-defined]
        try:
            return np.fromiter((index[c] for c in text), dtype=np.int32, count=len(text))
        except KeyError as exc:
            raise ValueError(f"character {exc.args[0]!r} is not in the vocabulary") from None

    def decode(self, ids: Sequence[int] | np.ndarray) -> str:
        """Return the text of ``ids``."""
        return "".join(self.chars[int(i)] for i in ids)


def vocabulary(text: str, extra: str = string.digits) -> Vocabulary:
    """Return a :class:`Vocabulary` of the sorted characters of ``text``, ``extra`` and
    :data:`PAD`. ``extra`` defaults to the digits: Tiny Shakespeare has none but '3', and the
    canaries are made of them."""
    if not isinstance(text, str) or not isinstance(extra, str):
        raise TypeError("text and extra must be str")
    return Vocabulary("".join(sorted(set(text) | set(extra) | {PAD})))


def _check_lengths(context: int, positions: int) -> None:
    for name, value in (("context", context), ("positions", positions)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")


def text_records(text: str, context: int, positions: int) -> list[str]:
    """Return ``text`` cut into records of ``context + positions`` characters.

    Record ``i`` predicts characters ``i * positions`` to ``(i + 1) * positions - 1`` of
    ``text`` from the ``context`` characters before each (the first record's context is
    :data:`PAD`), so every character of the text is predicted once; a last piece shorter than
    ``positions`` is left out.
    """
    _check_lengths(context, positions)
    padded = PAD * context + text
    n = len(text) // positions
    return [padded[i * positions : i * positions + context + positions] for i in range(n)]


@dataclasses.dataclass(frozen=True)
class Canaries:
    """Secrets of one pattern: ``inserted[r]``, the secrets put into training ``r`` times each;
    ``references``, secrets of the same pattern that never were; ``space_size``, how many
    secrets the pattern allows."""

    pattern: str
    alphabet: str
    space_size: int
    inserted: dict[int, list[str]]
    references: list[str]


def placeholders(pattern: str) -> int:
    """Return the number of ``{}`` placeholders in ``pattern``."""
    return sum(field is not None for _, field, _, _ in string.Formatter().parse(pattern))


def make_canaries(
    pattern: str,
    repetitions: Sequence[int],
    per_repetition: int,
    n_references: int,
    seed: int,
    alphabet: str = string.digits,
) -> Canaries:
    """Return canaries drawn with TF Privacy's ``generate_text_secrets_and_references``.

    ``per_repetition`` distinct secrets for each entry of ``repetitions`` and ``n_references``
    more, all different, from ``pattern`` (``"my PIN is {}{}{} {}{}{}"``: each ``{}`` one
    character of ``alphabet``); with ``n_references`` equal to what is left of the space, the
    references are all the other secrets.
    """
    if placeholders(pattern) < 1:
        raise ValueError(f"pattern needs one or more {{}} placeholders, got {pattern!r}")
    if not repetitions or any(int(r) < 1 for r in repetitions):
        raise ValueError(f"repetitions must be positive counts, got {list(repetitions)}")
    if len(set(repetitions)) != len(repetitions):
        raise ValueError(f"repetitions must be distinct, got {list(repetitions)}")
    space = len(alphabet) ** placeholders(pattern)
    needed = per_repetition * len(repetitions) + n_references
    if per_repetition < 1 or n_references < 1 or needed > space:
        raise ValueError(
            f"{per_repetition} secrets per repetition count and {n_references} references "
            f"need {needed} secrets; the pattern allows {space}"
        )
    config = generate_secrets.SecretConfig(
        num_repetitions=[int(r) for r in repetitions],
        num_secrets_for_repetitions=[int(per_repetition)] * len(repetitions),
        num_references=int(n_references),
        properties=generate_secrets.TextSecretProperties(vocab=list(alphabet), pattern=pattern),
    )
    (secrets,) = generate_secrets.generate_text_secrets_and_references([config], seed=seed)
    return Canaries(
        pattern=pattern,
        alphabet=alphabet,
        space_size=space,
        inserted={int(r): [str(s) for s in group] for r, group in secrets.secrets.items()},
        references=[str(s) for s in secrets.references],
    )


def canary_records(
    canaries: Canaries, context: int, positions: int, filler: str, seed: int
) -> list[str]:
    """Return the canaries' records, each canary ``r`` times (TF Privacy's
    ``construct_secret_dataset`` repeats them): :data:`PAD` as context, the secret, a line
    break, then text from a random place in ``filler`` up to the record's length, so that only
    the secret repeats."""
    _check_lengths(context, positions)
    longest = max(len(s) for group in canaries.inserted.values() for s in group)
    if longest + 1 > positions:
        raise ValueError(f"a record of {positions} positions cannot hold a {longest}-char secret")
    if len(filler) <= positions:
        raise ValueError("filler must be longer than a record")
    secrets_set = generate_secrets.SecretsSet(
        config=generate_secrets.SecretConfig(
            num_repetitions=list(canaries.inserted),
            num_secrets_for_repetitions=[len(g) for g in canaries.inserted.values()],
            num_references=len(canaries.references),
        ),
        secrets=canaries.inserted,
        references=canaries.references,
    )
    repeated = generate_secrets.construct_secret_dataset([secrets_set])
    rng = np.random.default_rng(seed)
    starts = rng.integers(0, len(filler) - positions, size=len(repeated))
    return [
        PAD * context + (secret + PAD + filler[int(start) :])[:positions]
        for secret, start in zip(repeated, starts, strict=True)
    ]


def windows(
    records: Sequence[str], vocab: Vocabulary, context: int
) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(x, y)`` for the model: ``x[i, t]``, the ids of the ``context`` characters
    before position ``t`` of record ``i``'s predicted part, and ``y[i, t]``, the id of that
    character. Shapes ``(records, positions, context)`` and ``(records, positions)``, int32;
    all records must have the same length."""
    if isinstance(records, str) or not len(records):
        raise ValueError("records must be a non-empty sequence of strings")
    lengths = {len(r) for r in records}
    if len(lengths) != 1:
        raise ValueError(f"records must have one length, got {sorted(lengths)[:5]}")
    (length,) = lengths
    _check_lengths(context, 1)
    positions = length - context
    if positions < 1:
        raise ValueError(f"records of {length} characters leave nothing after a {context} context")
    ids = np.stack([vocab.encode(r) for r in records])
    index = np.arange(positions)[:, None] + np.arange(context)[None, :]
    return ids[:, index], ids[:, context:]
