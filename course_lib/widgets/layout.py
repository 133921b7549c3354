"""What every explorer shares: the test set as a tensor, its checks, and the layout (controls, status line, figure)."""

from __future__ import annotations

import io

import numpy as np
import torch

from .._validation import check_float, check_int, check_labels, check_model
from ..layers import num_outputs
from ..models import check_images, to_tensor

__all__ = ["TestSet", "check_dataset", "check_slider", "explorer_box", "fc1_weights", "figure_png"]


def check_slider(name: str, value, low: float, high: float, *, integer: bool = False):
    """A control's first value: a number within the slider's range ``[low, high]`` (a slider would clamp it
    silently, showing another setting than the one asked for).

    Raises
    ------
    TypeError
        If ``value`` is not a number (an int with ``integer``).
    ValueError
        If it is NaN, infinite or outside ``[low, high]``.
    """
    if integer:
        value = check_int(name, value)
    else:
        value = check_float(name, value)
    if not low <= value <= high:
        raise ValueError(f"{name} == {value!r}, must be in [{low:g}, {high:g}] (the slider's range).")
    return value


def check_dataset(name: str, dataset, model) -> None:
    """Check that ``dataset`` is a split ``model`` can be evaluated on.

    Parameters
    ----------
    name : str
        The parameter's name in the error messages (``"test"``, ``"models['lenet300'][1]"``).
    dataset : Dataset
        A :class:`course_lib.data.Dataset` or any object with ``.images`` (uint8, as loaded)
        and ``.labels`` (1-D integer class indices, one per image).
    model : torch.nn.Module
        The model that will read the images (already checked).

    Raises
    ------
    TypeError
        If ``name`` is not a str, ``dataset`` has no ``images`` or ``labels``, the images are not
        uint8 or the labels not integers.
    ValueError
        If there is no image, the images are not the model's input (the other data set's),
        or the labels do not match the images or the model's classes.
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a str (the parameter's name), got {type(name).__name__}.")
    check_model(model)
    if not (hasattr(dataset, "images") and hasattr(dataset, "labels")):
        raise TypeError(f"{name} must be a Dataset (with .images and .labels, as course_lib.data loads it), "
                        f"got {type(dataset).__name__}.")
    images = np.asarray(dataset.images)
    try:
        check_images(model, images[:1])  # one image tells the dtype and the shape
    except (TypeError, ValueError) as exc:
        message = str(exc)
        if message.startswith("images"):
            message = f"{name}.{message}"
        raise type(exc)(message) from None
    labels = check_labels(dataset.labels, num_classes=num_outputs(model), name=f"{name}.labels")
    if len(labels) != len(images):
        raise ValueError(f"{name}.labels has {len(labels)} labels for {len(images)} images, "
                         f"must have one per image.")


def fc1_weights(model) -> dict:
    """The weights of every Linear/Conv2d of ``model`` (NumPy copies), for an explorer that draws fc1's.

    Parameters
    ----------
    model : torch.nn.Module

    Returns
    -------
    dict of str -> ndarray
        As :func:`course_lib.pruning.nn.prunable_weights`; it holds ``"fc1.weight"``.

    Raises
    ------
    TypeError
        If ``model`` is not a ``torch.nn.Module``.
    ValueError
        If it has no layer ``fc1`` (LeNet-300-100 and LeNet-5 have one).
    """
    from .._validation import check_model
    from ..pruning.nn import prunable_weights

    check_model(model)
    weights = prunable_weights(model)
    if "fc1.weight" not in weights:
        raise ValueError(f"model ({type(model).__name__}) has no layer fc1, must have one: the explorer "
                         f"draws fc1's weights (LeNet-300-100 and LeNet-5 have it).")
    return weights


class TestSet:
    """Test images converted to a tensor once, so that an update only runs the model.

    Parameters
    ----------
    dataset : Dataset
        uint8 images and integer labels (see :func:`check_dataset`).

    Raises
    ------
    TypeError
        If ``dataset`` has no ``images`` or ``labels``.
    """

    def __init__(self, dataset):
        if not (hasattr(dataset, "images") and hasattr(dataset, "labels")):
            raise TypeError(f"dataset must be a Dataset (with .images and .labels, as course_lib.data loads it), "
                            f"got {type(dataset).__name__}.")
        self.x = to_tensor(dataset.images)
        self.y = torch.from_numpy(np.asarray(dataset.labels))

    def accuracy(self, model) -> float:
        """Top-1 accuracy of ``model`` on the test set, in eval and inference mode.

        Parameters
        ----------
        model : torch.nn.Module
            Put in eval mode.

        Returns
        -------
        float
            The fraction of correctly classified images, in ``[0, 1]``.

        Raises
        ------
        TypeError
            If ``model`` is not a ``torch.nn.Module``.
        """
        check_model(model)
        with torch.inference_mode():
            return float((model.eval()(self.x).argmax(1) == self.y).float().mean())


def figure_png(fig) -> bytes:
    """The figure as PNG bytes, cropped to what it draws: what an explorer shows after each update.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The explorer's figure.

    Returns
    -------
    bytes
        A PNG at the figure's own dpi, cropped like Jupyter's inline display
        (``bbox_inches="tight"``), so that no tick label is cut off.

    Raises
    ------
    TypeError
        If ``fig`` is not a matplotlib figure.

    Notes
    -----
    The same picture as Jupyter's display of the figure, with two costs fewer: the PNG is
    compressed at zlib level 1 rather than 6 (several times faster to encode, a few KiB
    larger, and it only travels from the kernel to the browser), and it is sent once as the
    bytes of an image widget, with no output area to clear and no base64 text. What is left
    is matplotlib drawing the figure -- mostly its text (tick labels, titles): the crop needs
    a layout pass before the drawing, and the dpi hardly matters. An explorer keeps its
    artists, moves their data and keeps few tick labels.
    """
    from matplotlib.figure import Figure

    if not isinstance(fig, Figure):
        raise TypeError(f"fig must be a matplotlib Figure, got {type(fig).__name__}.")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=fig.dpi, bbox_inches="tight", pil_kwargs={"compress_level": 1})
    return buf.getvalue()


def explorer_box(rows: list, controls: list, describe, explorer):
    """The common layout of every explorer: control rows, a status line, the figure.

    ``describe()`` runs the explorer's update for the controls' current values and
    returns the status line (HTML); it runs once now and again whenever a control
    in ``controls`` changes. The figure is shown as a PNG image widget
    (:func:`figure_png`): an update replaces its bytes, with no output area to clear.

    Parameters
    ----------
    rows : list of ipywidgets.Widget
        The rows of controls, shown first, top to bottom.
    controls : list of ipywidgets.Widget
        The controls whose ``value`` changes trigger a redraw.
    describe : callable
        ``describe() -> str``: updates ``explorer.fig`` and returns the status line (HTML).
    explorer : object
        The explorer; its ``fig`` is drawn below the status line after each redraw.

    Returns
    -------
    ipywidgets.VBox
        The rows, the status line (``children[-2]``) and the figure (``children[-1]``, an
        ``ipywidgets.Image``).

    Raises
    ------
    TypeError
        If ``rows`` or ``controls`` is not a list of widgets, ``describe`` not callable, or ``explorer``
        has no ``fig`` attribute.
    """
    import ipywidgets as w

    for arg, value in (("rows", rows), ("controls", controls)):
        if not isinstance(value, (list, tuple)):
            raise TypeError(f"{arg} must be a list of ipywidgets widgets, got {type(value).__name__}.")
        for i, item in enumerate(value):
            if not isinstance(item, w.Widget):
                raise TypeError(f"{arg}[{i}] must be an ipywidgets widget, got {type(item).__name__}.")
    if not callable(describe):
        raise TypeError(f"describe must be a callable returning the status line, got {type(describe).__name__}.")
    if not hasattr(explorer, "fig"):
        raise TypeError(f"explorer must have a fig attribute (its matplotlib Figure), got {type(explorer).__name__}.")

    status, image = w.HTML(), w.Image(format="png")

    def redraw(*_):
        status.value = describe()
        image.value = figure_png(explorer.fig)

    for control in controls:
        control.observe(redraw, names="value")
    redraw()
    return w.VBox([*rows, status, image])
