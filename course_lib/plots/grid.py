"""The image grid the notebooks open with: the first images of a data set, titled with their classes."""

from __future__ import annotations

import numpy as np

from .._validation import check_int, check_int_array, check_names, to_numpy

__all__ = ["image_grid"]


def image_grid(images, labels=None, classes=None, *, rows: int = 2, cols: int = 8, fig=None,
               title: str | None = None):
    """Show the first ``rows * cols`` uint8 images in a grid, titled with their class names.

    Parameters
    ----------
    images : array_like of uint8
        ``(N, H, W)`` grey or ``(N, H, W, 3)`` colour images, values ``0 .. 255``.
    labels : array_like of int or None
        Class indices, one per image: each image is titled with its class.
    classes : sequence of str or None
        Class names by index; without them the titles are the label numbers.
    rows, cols : int, keyword-only
        The grid; fewer images leave the last cells empty.
    fig : matplotlib Figure or None, keyword-only
        Draw here; a new figure when None.
    title : str or None, keyword-only
        The figure's title.

    Returns
    -------
    matplotlib.figure.Figure
        The figure with the grid.

    Raises
    ------
    TypeError
        If ``images`` are not uint8, ``labels`` not integers, ``classes`` not a list of str (a single
        string is refused), ``rows`` / ``cols`` not ints, ``fig`` not a Figure or ``title`` not a str.
    ValueError
        If ``images`` is empty or not ``(N, H, W)`` / ``(N, H, W, 3)``, ``labels`` is not one per image or
        holds a class that ``classes`` does not name, or ``rows`` / ``cols`` < 1.
    """
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    images = _check_grid(images, labels, classes)
    rows, cols = check_int("rows", rows, minimum=1), check_int("cols", cols, minimum=1)
    if fig is not None and not isinstance(fig, Figure):
        raise TypeError(f"fig must be a matplotlib Figure or None, got {type(fig).__name__}.")
    if title is not None and not isinstance(title, str):
        raise TypeError(f"title must be a str or None, got {type(title).__name__}.")
    n = min(len(images), rows * cols)
    if fig is None:
        fig = plt.figure(figsize=(1.1 * cols, 1.25 * rows))
    axes = fig.subplots(rows, cols, squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= n:
            continue
        img = np.asarray(images[i])
        ax.imshow(img, cmap="gray" if img.ndim == 2 else None, vmin=0, vmax=255)
        if labels is not None:
            lab = int(labels[i])
            ax.set_title(classes[lab] if classes is not None else str(lab), fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def _check_grid(images, labels, classes) -> np.ndarray:
    """:func:`image_grid`'s images (returned as an array), labels and class names, checked."""
    try:
        arr = to_numpy(images)
    except ValueError as exc:
        raise ValueError(f"images: {exc}") from None
    if arr.dtype != np.uint8:
        raise TypeError(f"images must be a uint8 array (values 0 .. 255, as course_lib.data loads them), got "
                        f"{type(images).__name__} of dtype {arr.dtype}.")
    if not (arr.ndim == 3 or (arr.ndim == 4 and arr.shape[-1] == 3)):
        raise ValueError(f"images has shape {arr.shape}, must be (N, H, W) or (N, H, W, 3).")
    if len(arr) == 0:
        raise ValueError(f"images is empty (shape {arr.shape}), must hold at least one image.")
    if labels is not None:
        labels = check_int_array("labels", labels, ndim=1, low=0)
        if len(labels) != len(arr):
            raise ValueError(f"labels has {len(labels)} entries for {len(arr)} images, must have one per image.")
    if classes is not None:
        classes = check_names("classes", classes)
        if labels is not None and labels.max() >= len(classes):
            raise ValueError(f"labels holds class {int(labels.max())}, but classes names only {len(classes)}: "
                             f"must name every class.")
    return arr
