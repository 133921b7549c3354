"""Plotting helpers for the notebooks; each takes its data, draws into a given figure or axes (a new one when
none is given) and returns it.

* :mod:`.grid` -- the first images of a data set in a grid, titled with their classes;
* :mod:`.labels` -- plain-text decade ticks, byte ticks, point labels that never overlap;
* :mod:`.sweeps` -- one column of a knob sweep's rows against another;
* :mod:`.pareto` -- a measured table's accuracy against a cost, the Pareto front as a staircase (notebook 09).
"""

from .._lazy import attach

__getattr__, __dir__, __all__ = attach(
    __name__,
    exports={"grid": ["image_grid"],
             "labels": ["decade_ticks", "place_labels", "bytes_label", "LABEL_SIZE"],
             "sweeps": ["plot_sweep"],
             "pareto": ["pareto_plot", "check_rows", "COSTS"]},
    submodules=["grid", "labels", "sweeps", "pareto"],
)
