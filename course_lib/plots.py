"""Plotting helpers for the notebooks; each draws into a given figure (or a new one) and returns it."""

from __future__ import annotations

import numpy as np

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
    """
    import matplotlib.pyplot as plt

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
