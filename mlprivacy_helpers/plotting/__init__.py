"""Plotting helpers, one submodule per notebook plus shared pieces in ``common``.

Import the submodule a notebook needs as ``<submodule>_plots``, e.g.
``from mlprivacy_helpers.plotting import dp as dp_plots``; functions are named by what they
draw (``dp_plots.overlap_grid``), without a ``plot_`` prefix.
"""
