"""What every explorer shares: the test set as a tensor, and the layout (controls, status line, figure)."""

from __future__ import annotations

import numpy as np
import torch

from ..models import to_tensor

__all__ = ["TestSet", "explorer_box"]


class TestSet:
    """Test images converted to a tensor once, so that an update only runs the model."""

    def __init__(self, dataset):
        self.x = to_tensor(dataset.images)
        self.y = torch.from_numpy(np.asarray(dataset.labels))

    def accuracy(self, model) -> float:
        with torch.inference_mode():
            return float((model.eval()(self.x).argmax(1) == self.y).float().mean())


def explorer_box(rows: list, controls: list, describe, explorer):
    """The common layout of every explorer: control rows, a status line, the figure.

    ``describe()`` runs the explorer's update for the controls' current values and
    returns the status line (HTML); it runs once now and again whenever a control
    in ``controls`` changes.
    """
    import ipywidgets as w
    from IPython.display import display

    status, out = w.HTML(), w.Output()

    def redraw(*_):
        status.value = describe()
        with out:
            out.clear_output(wait=True)
            display(explorer.fig)

    for control in controls:
        control.observe(redraw, names="value")
    redraw()
    return w.VBox([*rows, status, out])
