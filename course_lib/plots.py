"""Plotting helpers for the notebooks; each takes ``ax=None`` and returns the axes/figure."""

from __future__ import annotations

import numpy as np

__all__ = ["image_grid", "bar_probabilities"]


def image_grid(images, labels=None, classes=None, *, rows: int = 2, cols: int = 8, fig=None,
               title: str | None = None):
    """Show the first ``rows * cols`` uint8 images in a grid, titled with their class names."""
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


def bar_probabilities(probs, classes, *, label: int | None = None, ax=None):
    """Horizontal bars of class probabilities; the true class in green, a wrong top-1 in red."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots()
    probs = np.asarray(probs)
    top = int(probs.argmax())
    colors = ["#9bb7d4"] * len(probs)
    if label is not None and top != label:
        colors[top] = "#d62728"
    if label is not None:
        colors[label] = "#2ca02c"
    ax.barh(np.arange(len(probs)), probs, color=colors)
    ax.set_yticks(np.arange(len(probs)), [str(c) for c in classes], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("probability")
    return ax
