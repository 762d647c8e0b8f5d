"""Plotting helpers, one submodule per notebook plus shared pieces in ``common``.

Import the submodule a notebook needs, e.g. ``from mlprivacy_helpers.plotting import dp``.
"""
