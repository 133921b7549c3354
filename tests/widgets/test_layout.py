"""The shared explorer layout: the figure travels as one PNG, drawn once, into an Image widget."""

import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

from course_lib.widgets.layout import explorer_box, figure_png  # noqa: E402

from helpers import raises  # noqa: E402


@pytest.fixture
def fig():
    with plt.ioff():
        figure = plt.figure(figsize=(4.0, 2.0), dpi=50)
    figure.subplots().plot([0, 1], [0, 1])
    yield figure
    plt.close(figure)


def test_figure_png_is_cropped_like_the_inline_display(fig):
    data = figure_png(fig)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    inline = io.BytesIO()  # what Jupyter's inline display makes of the figure
    fig.canvas.print_figure(inline, format="png", bbox_inches="tight", dpi=fig.dpi)
    assert Image.open(io.BytesIO(data)).size == Image.open(inline).size
    ax = fig.axes[0]
    ax.text(-1.0, 0.5, "a label left of the figure", transform=ax.transAxes)  # outside: the crop keeps it
    assert Image.open(io.BytesIO(figure_png(fig))).size[0] > 200
    raises(TypeError, "fig must be a matplotlib Figure, got str.", figure_png, "figure")


def test_explorer_box_redraws_the_image_when_a_control_changes(fig):
    import ipywidgets as w

    slider = w.IntSlider(value=1, min=1, max=3)
    line = fig.axes[0].lines[0]

    class Explorer:
        pass

    explorer = Explorer()
    explorer.fig = fig

    def describe():
        line.set_ydata([0, slider.value])
        return f"slope {slider.value}"

    box = explorer_box([slider], [slider], describe, explorer)
    status, image = box.children[-2], box.children[-1]
    assert isinstance(image, w.Image) and image.format == "png"
    assert status.value == "slope 1" and image.value == figure_png(fig)
    before = image.value
    slider.value = 3
    assert status.value == "slope 3" and image.value != before and image.value == figure_png(fig)
