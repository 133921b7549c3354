"""The summary explorer: the library's best under a budget, from a real measured table; drawing; bad input."""

import numpy as np
import pytest

import course_lib as cl
from course_lib.summary import best_under_budget, pareto_front
from course_lib.summary import nn as snn
from course_lib.widgets.summary import COSTS, decade_ticks, pareto_plot

from helpers import raises


@pytest.fixture(scope="module")
def rows():
    import matplotlib

    matplotlib.use("Agg")
    with cl.fixed_threads(1):
        configs = snn.lenet300_configs(cl.load_pretrained("lenet300"), cl.load_mnist("train", limit=2000), steps=5)
        return snn.measure_configs(configs, cl.load_mnist("test", limit=300), model_name="lenet300", repeats=2,
                                   rounds=1)


@pytest.fixture(scope="module")
def explorer(rows):
    return cl.widgets.SummaryExplorer(rows)


@pytest.mark.parametrize("cost", list(COSTS))
@pytest.mark.parametrize("budget", [0.02, 0.1, 0.3, 1.0, 3.0])
def test_compute_is_best_under_budget(explorer, rows, cost, budget):
    res = explorer.compute("lenet300", cost, budget)
    base = next(r for r in rows if r["name"] == "float32")
    assert res["limit"] == pytest.approx(budget * base[cost]) and res["baseline"] == base
    i = best_under_budget([r["accuracy"] for r in rows], [r[cost] for r in rows], res["limit"])
    assert (res["best"] is None) == (i is None)
    if i is not None:
        assert res["best"]["name"] == rows[i]["name"] and res["best"][cost] <= res["limit"]
    assert res["front"] == [rows[j]["name"] for j in pareto_front([r["accuracy"] for r in rows],
                                                                   [r[cost] for r in rows])]
    assert res["fits"] == sum(r[cost] <= res["limit"] for r in rows)


def test_budget_one_always_fits_float32(explorer):
    # float32 costs exactly 1x its own cost, so something always fits at budget 1
    assert explorer.compute("lenet300", "bytes", 1.0)["best"] is not None
    # at a tiny byte budget nothing does
    assert explorer.compute("lenet300", "bytes", 1e-4)["best"] is None


def test_update_rings_the_best_and_widget_builds(explorer):
    res = explorer.update("lenet300", "bytes", 0.1)
    ax = explorer._ax
    ringed = [c for c in ax.collections if c.get_sizes().size and c.get_sizes()[0] == 180]
    assert len(ringed) == 1
    x, y = ringed[0].get_offsets()[0]
    assert x == pytest.approx(res["best"]["bytes"]) and y == pytest.approx(100 * res["best"]["accuracy"])
    assert ax.get_lines()[-1].get_xdata()[0] == pytest.approx(res["limit"])  # the budget line
    explorer.update("lenet300", "ms_100", 1e-4)  # nothing fits: the ring is hidden
    ringed = [c for c in explorer._ax.collections if c.get_sizes().size and c.get_sizes()[0] == 180]
    assert len(ringed) == 1 and np.isnan(ringed[0].get_offsets()).all()
    box = explorer.widget(model="lenet300", cost="bytes", budget=0.1)
    assert "best under" in box.children[-2].value and res["best"]["name"] in box.children[-2].value


def test_pareto_plot_draws_every_point(rows):
    ax = pareto_plot(rows, "bytes")
    n = sum(len(c.get_offsets()) for c in ax.collections)
    assert n == len(rows) and ax.get_xscale() == "log"


def _crowded(model, cnn=False):
    """A measured-looking table whose points crowd (CPU timings a few percent apart, equal accuracies)."""
    names = ["float32", "float16", "int8 dynamic (PTQ)", "int8 full integer (PTQ)", "neurons removed",
             "pruned 90% (CSR)", "SVD", "TT fc1", "pruned 90% + int8", "SVD + int8", "TT + int8"]
    fams = ["baseline", "quantization", "quantization", "quantization", "pruning", "pruning", "factorization",
            "factorization", "combination", "combination", "combination"]
    acc = [98.4, 98.4, 98.4, 98.38, 98.16, 97.67, 97.91, 94.22, 97.64, 97.92, 94.28]
    b = [1066440, 533220, 269480, 269500, 687000, 161619, 211000, 142000, 83300, 55880, 37384]
    ms1 = [0.052, 0.109, 0.087, 0.182, 0.046, 0.05, 0.05, 0.081, 0.087, 0.122, 0.117]
    ms100 = [0.67, 0.71, 0.32, 0.87, 0.38, 0.53, 0.23, 1.66, 0.31, 0.28, 1.82]
    if cnn:  # two labels side by side at nearly one point (float16, int8 dynamic): the case that once collided
        acc = [86.9, 86.9, 86.8, 86.9, 84.3, 84.2, 85.3, 77.7, 84.0, 85.1, 77.6]
        ms100 = [72.28, 68.8, 69.48, 98.05, 77.0, 77.63, 73.67, 79.52, 72.27, 70.69, 75.96]
    return [{"model": model, "name": n, "family": f, "needs": "none", "accuracy": a / 100, "bytes": by, "ms_1": t1,
             "ms_100": t2} for n, f, a, by, t1, t2 in zip(names, fams, acc, b, ms1, ms100)]


def _boxes_apart(fig, texts):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    if not hasattr(fig.canvas, "get_renderer"):  # the explorer's Figure is not pyplot's
        FigureCanvasAgg(fig)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in texts]
    frame = fig.bbox
    for i, a in enumerate(boxes):
        assert frame.x0 <= a.x0 and a.x1 <= frame.x1 and frame.y0 <= a.y0 and a.y1 <= frame.y1, texts[i]
        for j in range(i):
            assert not a.overlaps(boxes[j]), (texts[i].get_text(), texts[j].get_text())


@pytest.mark.parametrize("cnn", [False, True])
@pytest.mark.parametrize("cost", list(COSTS))
def test_pareto_labels_never_overlap_or_leave_the_figure(cost, cnn):
    import matplotlib.pyplot as plt

    rows = _crowded("m", cnn)
    fig, ax = plt.subplots(figsize=(6, 4))
    fig.subplots_adjust(left=0.12, right=0.62, bottom=0.14, top=0.9)
    pareto_plot(rows, cost, ax=ax)
    key = [t for t in ax.texts if t.get_gid() == "key"]
    labels = [t for t in ax.texts if t.get_gid() != "key"]
    # every point is named or numbered; the numbered ones are keyed beside the axes
    front = pareto_front([r["accuracy"] for r in rows], [r[cost] for r in rows])
    assert len(labels) == len(rows)
    named = {t.get_text() for t in labels} & {r["name"] for r in rows}
    assert named | set(ax.numbered) == {r["name"] for r in rows} and not named & set(ax.numbered)
    assert {rows[i]["name"] for i in front} - set(ax.numbered) == named
    assert key[0].get_text().split("\n") == [f"{n}: {name}" for n, name in enumerate(ax.numbered, 1)]
    inside = ax.get_window_extent()
    fig.canvas.draw()
    for t in labels:
        box = t.get_window_extent(fig.canvas.get_renderer())
        assert inside.x0 <= box.x0 and box.x1 <= inside.x1 and inside.y0 <= box.y0 and box.y1 <= inside.y1
    # no two labels overlap, and the legend stays in the figure
    _boxes_apart(fig, labels)
    _boxes_apart(fig, [ax.get_legend(), *key])
    plt.close(fig)


def test_explorer_labels_never_overlap():
    ex = cl.widgets.SummaryExplorer(_crowded("lenet300"))
    for cost in COSTS:
        ex.update("lenet300", cost, 0.3)
        _boxes_apart(ex.fig, [t for t in ex._ax.texts if t.get_gid() != "key"])
        _boxes_apart(ex.fig, [ex._ax.get_legend(), ex._ax.title, *[t for t in ex._ax.texts if t.get_gid() == "key"]])


def test_bad_input(explorer, rows):
    raises(ValueError, "model == 'vgg', must be one of 'lenet300'.", explorer.compute, "vgg")
    raises(ValueError, "cost == 'watts', must be one of 'bytes', 'ms_1', 'ms_100'.", explorer.compute, "lenet300",
           "watts")
    raises(ValueError, "budget == 0.0, must be > 0.", explorer.compute, "lenet300", "bytes", 0.0)
    raises(TypeError, "rows must be a non-empty list of dicts (measured configurations), got dict.",
           cl.widgets.SummaryExplorer, {})
    raises(ValueError, "rows has no 'float32' row for model 'lenet300', must have its uncompressed model.",
           cl.widgets.SummaryExplorer, [r for r in rows if r["name"] != "float32"])
    bad = [dict(rows[0], family="magic")]
    raises(ValueError, "rows[0]['family'] == 'magic', must be one of 'baseline', 'pruning', 'quantization', "
                       "'factorization', 'combination'.", cl.widgets.SummaryExplorer, bad)
    raises(ValueError, "rows[0] misses ['ms_1'], must have ['model', 'name', 'family', 'accuracy', 'bytes', 'ms_1', "
                       "'ms_100'].", pareto_plot, [{k: v for k, v in rows[0].items() if k != "ms_1"}])


def test_each_table_has_its_own_chart_and_one_is_shown(explorer):
    # a cost switch shows that table's chart (made once, hidden otherwise); a budget only moves its marks
    seen = {}
    for cost, budget in (("bytes", 0.1), ("ms_1", 1.0), ("bytes", 0.3), ("ms_100", 1.5), ("ms_1", 2.0)):
        res = explorer.update("lenet300", cost, budget)
        shown = [ax for ax in explorer.fig.axes if ax.get_visible()]
        assert shown == [explorer._ax] and explorer._ax.get_xlabel() == COSTS[cost]
        assert seen.setdefault(cost, explorer._ax) is explorer._ax  # the same chart when it comes back
        x, y = explorer._ring.get_offsets()[0]
        assert x == pytest.approx(res["best"][cost]) and y == pytest.approx(100 * res["best"]["accuracy"])
        assert explorer._line.get_xdata()[0] == pytest.approx(res["limit"])
        assert explorer._ax.get_title() == f"lenet300: budget {budget:g}x float32's {cost}"
    assert len(explorer.fig.axes) == len(explorer.models) * len(COSTS)


def test_decade_ticks_are_plain_text_powers_of_ten():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.set_xscale("log")
    ax.set_xlim(1e-3, 1e4)
    decade_ticks(ax.xaxis)
    fig.canvas.draw()
    labels = {t.get_text() for t in ax.get_xticklabels()} - {""}
    assert {"10\u207b\u00b3", "10\u2070", "10\u00b9", "10\u2074"} <= labels and not any("$" in t for t in labels)
    major, minor = ax.xaxis.get_major_formatter(), ax.xaxis.get_minor_formatter()
    assert major(2e3) == "" and major(1e-2) == "10\u207b\u00b2" and minor(1e2) == ""
    plt.close(fig)
    raises(TypeError, "axis must be a matplotlib Axis (ax.xaxis or ax.yaxis), got Axes.", decade_ticks, ax)
