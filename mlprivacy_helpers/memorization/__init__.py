"""Memorization of training text: a language model that repeats a secret (notebook 05).

* :mod:`.text` -- the text, its records and the canaries: a character :class:`~.text.Vocabulary`,
  the training records (:func:`~.text.text_records`), the canaries drawn and repeated with TF
  Privacy's Secret Sharer generators (:func:`~.text.make_canaries`,
  :func:`~.text.canary_records`) and the model's input windows (:func:`~.text.windows`);
* :mod:`.exposure` -- what a trained model gives away about them: log-perplexities of secrets,
  ranks, exposure in bits (Carlini et al., "The Secret Sharer", 2019) and a beam search that
  extracts secrets from their prefix alone;
* :mod:`.generation` -- the text the model writes (:func:`~.generation.sample_text`).
"""
