"""The explorer skeleton (widgets.base.Explorer): the figure made once, redrawn; controls -> update -> status line."""

import inspect

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

import course_lib as cl  # noqa: E402
from course_lib.widgets.base import Explorer  # noqa: E402

from helpers import raises  # noqa: E402


class Line(Explorer):
    """y = slope * x: the smallest explorer."""

    figsize = (3, 2)

    def compute(self, slope: int, *, offset: int = 0) -> dict:
        if not isinstance(slope, int):
            raise TypeError(f"slope must be an int, got {type(slope).__name__}.")
        return {"slope": slope, "y": [offset, offset + slope]}

    def _create(self, result):
        self.created = getattr(self, "created", 0) + 1
        (self._line,) = self.fig.subplots().plot([0, 1], [0, 0])

    def _draw(self, result, *, offset, **params):
        self._line.set_ydata(result["y"])
        self.fig.axes[0].set_title(f"offset {offset}")

    def _controls(self, *, slope: int = 1):
        import ipywidgets as w

        slider = w.IntSlider(value=slope, min=0, max=5)
        return [slider], [slider], lambda: {"slope": slider.value}

    def _status(self, result, *, slope, **params):
        return f"slope {slope}: y(1) = {result['y'][1]}"


def test_update_creates_the_figure_once_and_moves_its_data():
    from matplotlib.figure import Figure

    line = Line()
    assert line.fig is None
    result = line.update(2)
    fig = line.fig
    assert isinstance(fig, Figure) and tuple(fig.get_size_inches()) == (3, 2) and result == line.compute(2)
    line.update(3, offset=1)
    assert line.fig is fig and line.created == 1 and list(line._line.get_ydata()) == [1, 4]
    assert fig.axes[0].get_title() == "offset 1"  # the draw sees compute's arguments, defaults filled in
    raises(TypeError, "slope must be an int, got str.", line.update, "2")


def test_widget_redraws_and_writes_the_status_line():
    line = Line()
    box = line.widget(slope=2)
    slider, status = box.children[0], box.children[-2]
    assert status.value == "slope 2: y(1) = 2"
    slider.value = 4
    assert status.value == "slope 4: y(1) = 4" and list(line._line.get_ydata()) == [0, 4]


@pytest.mark.parametrize("name", ["ChannelPruningExplorer", "FlattenedExplorer", "NeuronPruningExplorer",
                                  "PredictionExplorer", "PTQExplorer", "QuantizationExplorer", "ScheduleExplorer",
                                  "SummaryExplorer", "SVDExplorer", "TTExplorer", "WeightPruningExplorer"])
def test_every_explorer_is_an_explorer_and_keeps_no_benchmark(name):
    cls = getattr(cl.widgets, name)
    assert issubclass(cls, Explorer) and vars(cls)["widget"].__qualname__ == f"{name}.widget"
    # the base's skeleton, under the explorer's own signature (help() and Shift-Tab show its knobs)
    assert "start" not in str(inspect.signature(cls.widget)) and "args" not in str(inspect.signature(cls.update))
    assert not hasattr(cls, "BENCH_CALLS") and not hasattr(cls, "bench_case")  # fixtures live in bench.widgets
