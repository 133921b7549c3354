"""Explorers draw on their own ``matplotlib.figure.Figure``, never on a pyplot-managed one.

A figure that pyplot knows about is shown again by the notebook's next ``plt.show()`` (or at the
end of the cell), so a static copy of the explorer leaked into the outputs of notebooks 03 and 04.
"""
import ast
import pathlib

import pytest

import course_lib as cl
from course_lib.widgets import PredictionExplorer, PTQExplorer, QuantizationExplorer, WeightPruningExplorer

WIDGETS = pathlib.Path(cl.__file__).parent / "widgets"


@pytest.fixture(autouse=True)
def agg():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.close("all")
    yield plt
    plt.close("all")


def _explorers():
    lenet = cl.load_pretrained("lenet300")
    test = cl.load_mnist("test", limit=200)
    return [
        (PredictionExplorer({"lenet300": (lenet, test)}), dict(name="lenet300", index=1)),
        (WeightPruningExplorer(lenet, test), dict(C=0.05)),
        (QuantizationExplorer(lenet, test), dict(bits=4, range_fraction=0.5)),
        (PTQExplorer(lenet, cl.load_mnist("train", limit=100).images, test),
         dict(bits=4, per_channel=True, method="percentile")),
    ]


def test_explorers_leave_no_figure_to_pyplot(agg):
    for explorer, kwargs in _explorers():
        explorer.update(**kwargs)
        explorer.widget()
        assert agg.get_fignums() == [], f"{type(explorer).__name__} registered a figure with pyplot"


def _pyplot_figure_calls(tree):
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "plt"
                and node.func.attr in {"figure", "subplots", "subplot_mosaic"}):
            yield node


def test_no_explorer_module_makes_a_pyplot_figure():
    found = []
    for path in sorted(WIDGETS.glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in _pyplot_figure_calls(tree):  # plotting helpers with ax=None live in course_lib.plots
            func = next((f for f in ast.walk(tree) if isinstance(f, ast.FunctionDef)
                         and f.lineno <= node.lineno <= f.end_lineno), None)
            found.append(f"{path.name}:{node.lineno} in {func.name if func else 'the module'}")
    assert found == []


def test_the_check_sees_a_pyplot_figure():
    tree = ast.parse("def draw():\n    fig = plt.figure()\n")
    assert len(list(_pyplot_figure_calls(tree))) == 1
