"""mlprivacy_helpers.memorization: records, canaries (TF Privacy's generators), log-perplexity,
exposure (TF Privacy's formula) and the beam-search extraction, on cases with a known answer."""

from __future__ import annotations

import math
import string

import numpy as np
import pytest
import tensorflow as tf
from tensorflow_privacy.privacy.privacy_tests.secret_sharer import exposures

from mlprivacy_helpers.memorization import exposure as ex
from mlprivacy_helpers.memorization import text as tx

TEXT = "First Citizen:\nBefore we proceed any further, hear me speak. PIN!\n" * 3
PATTERN = "PIN {}{}{}"
ALPHABET = "0123"


# --- text ----------------------------------------------------------------------------------


def test_vocabulary_round_trips_and_refuses_unknown_characters():
    vocab = tx.vocabulary(TEXT)
    assert set(string.digits) <= set(vocab.chars) and tx.PAD in vocab.chars
    assert list(vocab.chars) == sorted(vocab.chars)
    ids = vocab.encode(TEXT)
    assert ids.dtype == np.int32 and vocab.decode(ids) == TEXT
    with pytest.raises(ValueError, match="'Z' is not in the vocabulary"):
        vocab.encode("Zebra")
    with pytest.raises(ValueError, match="distinct"):
        tx.Vocabulary("aab")
    with pytest.raises(TypeError):
        tx.Vocabulary(["a", "b"])


def test_text_records_predict_every_character_once():
    records = tx.text_records(TEXT, context=5, positions=7)
    assert len(records) == len(TEXT) // 7 and {len(r) for r in records} == {12}
    assert records[0].startswith(tx.PAD * 5)
    predicted = "".join(r[5:] for r in records)
    assert predicted == TEXT[: len(records) * 7]
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="positive int"):
            tx.text_records(TEXT, context=bad, positions=7)


def test_windows_hold_each_positions_context_and_next_character():
    vocab = tx.vocabulary(TEXT)
    records = tx.text_records(TEXT, context=4, positions=6)
    x, y = tx.windows(records, vocab, context=4)
    assert x.shape == (len(records), 6, 4) and y.shape == (len(records), 6)
    for i in (0, 3, len(records) - 1):
        for t in range(6):
            assert vocab.decode(x[i, t]) == records[i][t : t + 4]
            assert vocab.decode([y[i, t]]) == records[i][4 + t]
    with pytest.raises(ValueError, match="one length"):
        tx.windows([records[0], records[1][:-1]], vocab, context=4)
    with pytest.raises(ValueError, match="non-empty"):
        tx.windows([], vocab, context=4)


def test_canaries_come_from_tf_privacys_generator_distinct_and_of_the_pattern():
    four = tx.make_canaries(
        PATTERN, [1, 4], per_repetition=3, n_references=40, seed=0, alphabet=ALPHABET
    )
    assert four.space_size == 4**3 and four.alphabet == ALPHABET
    digits = tx.make_canaries("PIN {}{}{}", [1, 4], 3, 40, seed=0)
    assert digits.space_size == 1000
    inserted = [s for group in digits.inserted.values() for s in group]
    everything = inserted + digits.references
    assert len(set(everything)) == len(everything) == 3 * 2 + 40
    assert all(s.startswith("PIN ") and s[4:].isdigit() and len(s) == 7 for s in everything)
    assert sorted(digits.inserted) == [1, 4] and all(len(g) == 3 for g in digits.inserted.values())
    again = tx.make_canaries("PIN {}{}{}", [1, 4], 3, 40, seed=0)
    assert again == digits  # the seed fixes them
    with pytest.raises(ValueError, match="allows 64"):
        tx.make_canaries(PATTERN, [1], 10, 60, seed=0, alphabet=ALPHABET)
    with pytest.raises(ValueError, match="placeholders"):
        tx.make_canaries("no secret", [1], 1, 1, seed=0)
    with pytest.raises(ValueError, match="distinct"):
        tx.make_canaries(PATTERN, [2, 2], 1, 1, seed=0)


def test_canary_records_repeat_each_secret_r_times_and_nothing_else():
    canaries = tx.make_canaries(PATTERN, [1, 3], 2, 10, seed=1, alphabet=ALPHABET)
    records = tx.canary_records(canaries, context=4, positions=12, filler=TEXT, seed=0)
    assert len(records) == 2 * 1 + 2 * 3 and {len(r) for r in records} == {16}
    for r, group in canaries.inserted.items():
        for secret in group:
            holding = [rec for rec in records if rec[4:].startswith(secret + tx.PAD)]
            assert len(holding) == r
    assert all(rec.startswith(tx.PAD * 4) for rec in records)
    assert not any(ref in rec for ref in canaries.references for rec in records)
    with pytest.raises(ValueError, match="cannot hold"):
        tx.canary_records(canaries, context=4, positions=7, filler=TEXT, seed=0)


# --- exposure ------------------------------------------------------------------------------


def test_exposure_from_rank_is_the_papers_formula():
    assert ex.exposure_from_rank(1, 1024) == 10.0
    assert ex.exposure_from_rank(1024, 1024) == 0.0
    np.testing.assert_allclose(ex.exposure_from_rank(np.array([1, 2, 4]), 8), [3.0, 2.0, 1.0])
    # A random rank's expected exposure tends to log2(e) bits.
    n = 100_000
    mean = float(np.mean(ex.exposure_from_rank(np.arange(1, n + 1), n)))
    assert abs(mean - math.log2(math.e)) < 1e-3
    for bad in (0, 9, 2.5):
        with pytest.raises(ValueError, match="whole number in 1..8"):
            ex.exposure_from_rank(bad, 8)
    with pytest.raises(TypeError):
        ex.exposure_from_rank(1, 8.0)


def test_rank_among_references_gives_tf_privacys_interpolated_exposure():
    rng = np.random.default_rng(0)
    references = rng.normal(10, 2, 500)
    secrets = np.r_[rng.normal(10, 2, 20), references[:3]]  # ties count against the secret
    secrets = np.minimum(secrets, np.sort(references)[-2])  # ranks stay within 1..500
    theirs = exposures.compute_exposure_interpolation({"s": secrets}, references)["s"]
    # The secret is not among the references: its rank is one more than those before it.
    ours = ex.exposure_from_rank(ex.ranks(references, secrets) + 1, len(references))
    np.testing.assert_allclose(np.sort(ours), np.sort(theirs), rtol=1e-12)


def test_ranks_count_the_candidates_at_most_as_likely():
    assert ex.ranks(np.array([3.0, 1.0, 2.0, 2.0]), np.array([1.0, 2.0, 0.5, 9.0])).tolist() == [
        1,
        3,
        0,
        4,
    ]


def test_all_secrets_and_their_positions():
    secrets = ex.all_secrets(PATTERN, ALPHABET)
    assert len(secrets) == 64 and secrets[0] == "PIN 000" and secrets[-1] == "PIN 333"
    assert ex.secret_positions("my PIN is {}{} {}") == [10, 11, 13]


def _constant_model(log_probs: np.ndarray, context: int) -> tf.keras.Model:
    """A model whose next-character distribution is ``exp(log_probs)`` whatever the context."""
    windows = tf.keras.Input((None, context), dtype="int32")
    zeros = tf.keras.layers.Lambda(lambda w: tf.zeros_like(tf.cast(w[..., :1], "float32")))(windows)
    dense = tf.keras.layers.Dense(len(log_probs), kernel_initializer="zeros")
    model = tf.keras.Model(windows, dense(zeros))
    dense.bias.assign(log_probs.astype("float32"))
    return model


def test_log_perplexity_of_a_context_free_model_is_the_sum_of_its_characters_surprisals():
    vocab = tx.vocabulary(TEXT)
    rng = np.random.default_rng(1)
    log_probs = np.log(rng.dirichlet(np.ones(vocab.size)))
    model = _constant_model(log_probs, context=5)
    secrets = ["PIN 012", "PIN 333", "PIN 210"]
    got = ex.log_perplexities(model, vocab, 5, secrets, PATTERN)
    want = [-sum(log_probs[vocab.encode(s[4:])]) / math.log(2) for s in secrets]
    np.testing.assert_allclose(got, want, rtol=1e-5)
    uniform = _constant_model(np.zeros(vocab.size), context=5)
    np.testing.assert_allclose(
        ex.log_perplexities(uniform, vocab, 5, secrets, PATTERN), 3 * math.log2(vocab.size)
    )
    with pytest.raises(ValueError, match="filled instance"):
        ex.log_perplexities(model, vocab, 5, ["PIN 0123"], PATTERN)


def _random_language_model(vocab: tx.Vocabulary, context: int, seed: int) -> tf.keras.Model:
    tf.keras.utils.set_random_seed(seed)
    windows = tf.keras.Input((None, context), dtype="int32")
    h = tf.keras.layers.Embedding(vocab.size, 4)(windows)
    h = tf.keras.layers.Reshape((-1, context * 4))(h)
    h = tf.keras.layers.Dense(16, activation="tanh")(h)
    return tf.keras.Model(windows, tf.keras.layers.Dense(vocab.size)(h) * 4.0)


def test_a_wide_beam_finds_exactly_the_models_most_likely_secrets():
    vocab = tx.vocabulary(TEXT)
    model = _random_language_model(vocab, context=6, seed=3)
    everything = ex.all_secrets(PATTERN, ALPHABET)
    scores = ex.log_perplexities(model, vocab, 6, everything, PATTERN)
    order = np.argsort(scores, kind="stable")
    # A width of len(ALPHABET) ** (placeholders - 1) keeps every partial secret: exact.
    beam = ex.beam_search(model, vocab, 6, PATTERN, ALPHABET, width=16)
    assert [s for s, _ in beam] == [everything[i] for i in order[:16]]
    np.testing.assert_allclose([lp for _, lp in beam], scores[order[:16]], rtol=1e-5)
    greedy = ex.beam_search(model, vocab, 6, PATTERN, ALPHABET, width=1)
    assert len(greedy) == 1 and greedy[0][1] >= scores.min() - 1e-9
    with pytest.raises(ValueError, match="width"):
        ex.beam_search(model, vocab, 6, PATTERN, ALPHABET, width=0)


# --- generation ----------------------------------------------------------------------------


def test_sampled_text_follows_the_models_distribution_and_the_seed():
    from mlprivacy_helpers.memorization import generation

    vocab = tx.vocabulary(TEXT)
    log_probs = np.full(vocab.size, -30.0)
    log_probs[vocab.encode("e")[0]] = 0.0  # the model writes 'e', almost surely
    model = _constant_model(log_probs, context=5)
    text = generation.sample_text(model, vocab, 5, "PIN ", 12, np.random.default_rng(0))
    assert text == "PIN " + "e" * 12
    random_model = _random_language_model(vocab, context=5, seed=4)
    one = generation.sample_text(random_model, vocab, 5, "Fi", 30, np.random.default_rng(1))
    two = generation.sample_text(random_model, vocab, 5, "Fi", 30, np.random.default_rng(1))
    assert one == two and len(one) == 32 and one.startswith("Fi")
    # Temperature: "a" has probability 0.6 and "e" 0.4; at 0.1 that becomes 0.98 and 0.02.
    two_chars = np.full(vocab.size, -30.0)
    two_chars[vocab.encode("a")[0]], two_chars[vocab.encode("e")[0]] = np.log([0.6, 0.4])
    biased = _constant_model(two_chars, context=5)
    warm = generation.sample_text(biased, vocab, 5, "", 400, np.random.default_rng(2))
    cold = generation.sample_text(biased, vocab, 5, "", 400, np.random.default_rng(2), 0.1)
    assert set(warm) == {"a", "e"} and 0.5 < warm.count("a") / 400 < 0.7
    assert cold.count("a") / 400 > 0.95
    with pytest.raises(ValueError, match="temperature"):
        generation.sample_text(model, vocab, 5, "", 3, np.random.default_rng(0), temperature=0)
    with pytest.raises(TypeError, match="Generator"):
        generation.sample_text(model, vocab, 5, "", 3, 0)
