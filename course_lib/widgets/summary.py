"""The summary explorer of notebook 09: a budget (bytes or latency) -> the most accurate measured configuration."""

from __future__ import annotations

import numbers

import numpy as np

from .._validation import check_bool, check_choice, check_float
from ..plots import LABEL_SIZE, bytes_label, decade_ticks, place_labels  # noqa: F401  (decade_ticks, place_labels re-exported)
from ..summary.decisions import check_rows as check_table_rows
from ..summary.pareto import best_under_budget, pareto_front

__all__ = ["SummaryExplorer", "COSTS", "pareto_plot", "place_labels", "check_rows", "decade_ticks"]

#: the cost columns of a measured table and how they are shown
COSTS = {"bytes": "stored bytes", "ms_1": "ms per image (batch 1, 1 thread)",
         "ms_100": "ms per 100 images (1 thread)"}
_COLUMNS = ("model", "name", "family", "accuracy", *COSTS)
_FAMILIES = ("baseline", "pruning", "quantization", "factorization", "combination")
_MARKERS = dict(zip(_FAMILIES, ("*", "o", "s", "^", "D")))


def check_rows(rows) -> list[dict]:
    """Check a measured table (:func:`course_lib.summary.nn.measure_configs`'s rows).

    Parameters
    ----------
    rows : sequence of mapping
        Each with ``model``, ``name``, ``family``, ``accuracy``, ``bytes``, ``ms_1`` and ``ms_100``.

    Returns
    -------
    list of dict

    Raises
    ------
    TypeError
        If ``rows`` is not a non-empty sequence of mappings, a name is not a str or a cost not a number.
    ValueError
        If a row misses a column, has an unknown family, an accuracy that is not a fraction (a percentage),
        a cost that is not finite and > 0, or two rows share a model and a name.
    """
    out = check_table_rows(rows, _COLUMNS)
    for i, r in enumerate(out):
        check_choice(f"rows[{i}]['family']", r["family"], _FAMILIES)
        for c in COSTS:  # the charts draw the numbers themselves (a Measured time has no single x)
            if isinstance(r[c], bool) or not isinstance(r[c], numbers.Real):
                raise TypeError(f"rows[{i}][{c!r}] must be a number, got {type(r[c]).__name__}.")
    return out


def pareto_plot(rows, cost: str = "bytes", *, ax=None, highlight: str | None = None, budget: float | None = None,
                labels: bool = True, xlim=None, legend: bool = True):
    """Accuracy against ``cost`` for one model's configurations, the Pareto front as a staircase.

    Labels never overlap: the configurations on the front are named beside their points
    (:func:`place_labels`); the others -- and a front point whose name finds no free place -- get a number,
    keyed to the names under the legend (outside the axes, on the right). Lay the figure out
    (size, ``subplots_adjust``) before calling: the labels are placed for the axes as they are.

    Parameters
    ----------
    rows : sequence of mapping
        One model's measured configurations (see :func:`check_rows`).
    cost : {"bytes", "ms_1", "ms_100"}
        The x axis (log scale: the costs span decades).
    ax : matplotlib Axes or None, keyword-only
        Where to draw (default: a new figure).
    highlight : str or None, keyword-only
        The name of a configuration to ring in red.
    budget : float or None, keyword-only
        A vertical line at this cost.
    labels : bool, keyword-only
        Name (or number) the points.
    xlim : (float, float) or None, keyword-only
        The x range (default: the costs, with a margin).
    legend : bool, keyword-only
        Draw the legend (families, the front) and the key of the numbered configurations to the right of
        the axes.

    Returns
    -------
    matplotlib Axes

    Raises
    ------
    TypeError
        As :func:`check_rows`; if ``ax`` is not a matplotlib Axes, ``highlight`` not a str, ``budget`` not a
        number, ``labels`` or ``legend`` not a bool, or ``xlim`` not a pair of numbers.
    ValueError
        As :func:`check_rows`; for an unknown ``cost``, rows of more than one model, a ``highlight`` that names
        no row, a ``budget`` that is not finite and > 0, or an ``xlim`` that is not ``0 < low < high``.
    """
    import matplotlib.pyplot as plt
    from matplotlib.axes import Axes
    from matplotlib.ticker import FuncFormatter, LogLocator, NullLocator

    rows = check_rows(rows)
    cost = check_choice("cost", cost, tuple(COSTS))
    models = list(dict.fromkeys(r["model"] for r in rows))
    if len(models) > 1:
        raise ValueError(f"rows hold the models {models}, must be one model's configurations "
                         f"([r for r in rows if r['model'] == ...]).")
    if ax is not None and not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes or None, got {type(ax).__name__}.")
    if highlight is not None:
        check_choice("highlight", highlight, [r["name"] for r in rows])
    budget = check_float("budget", budget, low=0.0, low_open=True, allow_none=True)
    labels, legend = check_bool("labels", labels), check_bool("legend", legend)
    if xlim is not None:
        if isinstance(xlim, (str, bytes)) or not isinstance(xlim, (tuple, list)) or len(xlim) != 2:
            raise TypeError(f"xlim must be a (low, high) pair or None, got {type(xlim).__name__}.")
        xlim = tuple(check_float(f"xlim[{i}]", v, low=0.0, low_open=True) for i, v in enumerate(xlim))
        if xlim[0] >= xlim[1]:
            raise ValueError(f"xlim == {xlim!r}, must have low < high.")
    if ax is None:
        fig, ax = plt.subplots(figsize=(7.5, 3.5))
        fig.subplots_adjust(left=0.1, right=0.62, bottom=0.15, top=0.9)
    acc = np.array([100 * r["accuracy"] for r in rows])
    x = np.array([float(r[cost]) for r in rows])
    front = pareto_front(acc, x)
    handles = []
    for i, fam in enumerate(_FAMILIES):
        mine = [j for j, r in enumerate(rows) if r["family"] == fam]
        if mine:
            handles.append(ax.scatter(x[mine], acc[mine], marker=_MARKERS[fam], color=f"C{i}", s=40, label=fam,
                                      zorder=3))
    handles += ax.step(x[front], acc[front], where="post", color="gray", lw=1, ls="--", label="Pareto front",
                       zorder=2)
    if highlight is not None:
        j = [r["name"] for r in rows].index(highlight)
        ax.scatter([x[j]], [acc[j]], s=180, facecolors="none", edgecolors="red", lw=2, zorder=4)
    if budget is not None:
        ax.axvline(budget, color="red", lw=1, ls=":")
    ax.set_xscale("log")
    if xlim is None:
        lo, hi = float(x.min()), float(x.max())
        xlim = (lo / 10 ** 0.15, hi * 10 ** 0.15) if lo > 0 else None
    if xlim is not None:
        ax.set_xlim(*xlim)
    span = max(float(acc.max() - acc.min()), 1.0)
    ax.set_ylim(float(acc.min()) - 0.12 * span, float(acc.max()) + 0.12 * span)
    lo, hi = ax.get_xlim()
    if hi / lo < 100:  # under two decades: ticks between the decades, plain numbers (else one lone decade)
        subs = (1.0, 2.0, 5.0) if hi / lo >= 8 else tuple(float(k) for k in range(1, 10))
        ax.xaxis.set_major_locator(LogLocator(subs=subs, numticks=12))
        ax.xaxis.set_major_formatter(FuncFormatter(bytes_label if cost == "bytes" else lambda v, _pos: f"{v:g}"))
    else:
        ax.xaxis.set_major_locator(LogLocator(numticks=6))
    ax.xaxis.set_minor_locator(NullLocator())  # minor log ticks are most of a redraw's time
    ax.set_xlabel(COSTS[cost])
    ax.set_ylabel("test accuracy, %")
    numbered = []
    if labels:
        on_front = [int(i) for i in front]
        off = [j for j in range(len(rows)) if j not in set(on_front)]
        names = [r["name"] for r in rows]
        taken, points = [], np.column_stack([x, acc])
        unnamed = place_labels(ax, x, acc, names, order=on_front, taken=taken, markers=points)
        numbered = sorted(unnamed + off, key=lambda j: (x[j], -acc[j]))
        keys = {j: str(n) for n, j in enumerate(numbered, 1)}
        place_labels(ax, x[numbered], acc[numbered], [keys[j] for j in numbered], taken=taken, markers=points)
    ax.numbered = [rows[j]["name"] for j in numbered]  # the key, for a caller and the tests
    if legend:
        ax.legend(handles=handles, fontsize=6, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0,
                  frameon=False)
        if numbered:  # one text, not legend entries: a legend's layout is most of a redraw's time
            ax.text(1.04, 0.0, "\n".join(f"{n}: {name}" for n, name in enumerate(ax.numbered, 1)), fontsize=6,
                    transform=ax.transAxes, ha="left", va="bottom", linespacing=1.5, gid="key")
    return ax


class SummaryExplorer:
    """Pick a model, a cost (bytes, or latency at 1 or 100 images) and a budget; see the most accurate
    measured configuration that fits, ringed on the Pareto chart.

    The budget is a multiple of the uncompressed model's cost (``0.05`` = a twentieth of its bytes or of
    its time). Nothing is re-measured: the explorer reads the table the notebook measured in this run.

    Parameters
    ----------
    rows : sequence of mapping
        The measured configurations of one or more models (:func:`check_rows`); each model has a
        ``"float32"`` row, the reference of the budget.

    Raises
    ------
    TypeError, ValueError
        As :func:`check_rows`, or if a model has no ``"float32"`` row.
    """

    #: (model, cost, budget) of the widget benchmark's timed updates
    BENCH_CALLS = (("lenet300", "bytes", 0.1), ("lenet300", "ms_100", 0.5), ("lenet300", "bytes", 0.03),
                   ("lenet300", "ms_1", 1.0), ("lenet300", "bytes", 1.0))

    def __init__(self, rows):
        self.rows = check_rows(rows)
        self.models = list(dict.fromkeys(r["model"] for r in self.rows))
        for m in self.models:
            if not any(r["model"] == m and r["name"] == "float32" for r in self.rows):
                raise ValueError(f"rows has no 'float32' row for model {m!r}, must have its uncompressed model.")
        self.fig = None

    def _of(self, model):
        return [r for r in self.rows if r["model"] == model]

    def compute(self, model: str, cost: str = "bytes", budget: float = 0.25) -> dict:
        """The most accurate configuration of ``model`` whose ``cost`` is within ``budget`` x float32's (no drawing).

        Parameters
        ----------
        model : str
            One of :attr:`models`.
        cost : {"bytes", "ms_1", "ms_100"}
        budget : float
            ``> 0``: a multiple of the float32 model's cost.

        Returns
        -------
        dict
            ``best`` (its row, or None when nothing fits), ``limit`` (the budget in the cost's unit),
            ``front`` (the names on the Pareto front, cheapest first), ``fits`` (how many fit) and
            ``baseline`` (the float32 row).

        Raises
        ------
        TypeError, ValueError
            For an unknown model or cost, or a budget that is not a positive number.
        """
        model = check_choice("model", model, self.models)
        cost = check_choice("cost", cost, tuple(COSTS))
        budget = check_float("budget", budget, low=0.0, low_open=True)
        rows = self._of(model)
        base = next(r for r in rows if r["name"] == "float32")
        limit = budget * float(base[cost])
        acc = [r["accuracy"] for r in rows]
        x = [float(r[cost]) for r in rows]
        i = best_under_budget(acc, x, limit)
        return {"best": None if i is None else rows[i], "limit": limit, "baseline": base,
                "front": [rows[j]["name"] for j in pareto_front(acc, x)], "fits": int(sum(v <= limit for v in x)),
                "model": model, "cost": cost}

    def update(self, model: str, cost: str = "bytes", budget: float = 0.25) -> dict:
        """Compute and redraw the chart: the model's configurations, the front, the budget and the winner.

        Parameters
        ----------
        model, cost, budget
            As for :meth:`compute`.

        Returns
        -------
        dict
            What :meth:`compute` returns; the figure is ``self.fig``.

        Raises
        ------
        TypeError, ValueError
            As :meth:`compute`.
        """
        from matplotlib.figure import Figure

        res = self.compute(model, cost, budget)
        if self.fig is None:  # every table's chart is made once, hidden; an update shows one and moves its marks
            self.fig = Figure(figsize=(8, 3.6))  # not pyplot's: no plt.show() or cell end shows it again
            spec = self.fig.add_gridspec(1, 1, left=0.09, right=0.64, bottom=0.14, top=0.9)[0]
            self._charts = {(m, c): self._chart(self.fig.add_subplot(spec), m, c) for m in self.models for c in COSTS}
            self._drawn = None
        if self._drawn != (model, cost):
            for key, (ax, _, _) in self._charts.items():  # a hidden chart is neither drawn nor cropped
                ax.set_visible(key == (model, cost))
            self._ax, self._ring, self._line = self._charts[(model, cost)]
            self._drawn = (model, cost)
        best = res["best"]
        self._ring.set_offsets([[best[cost], 100 * best["accuracy"]]] if best is not None else [[np.nan, np.nan]])
        self._line.set_xdata([res["limit"], res["limit"]])
        self._ax.set_title(f"{model}: budget {budget:g}x float32's {cost}", fontsize=9, y=1.0)  # y: no title layout
        return res

    def _chart(self, ax, model, cost):
        rows = self._of(model)
        base = float(next(r for r in rows if r["name"] == "float32")[cost])
        costs = [float(r[cost]) for r in rows]
        xlim = (0.8 * min(min(costs), 0.01 * base), 1.25 * max(max(costs), 10 ** 0.5 * base))  # any budget
        pareto_plot(rows, cost, ax=ax, labels=True, xlim=xlim)
        decade_ticks(ax.xaxis)  # plain-text labels: mathtext ones cost most of a redraw
        ring = ax.scatter([np.nan], [np.nan], s=180, facecolors="none", edgecolors="red", lw=2, zorder=4)
        line = ax.axvline(base, color="red", lw=1, ls=":")
        ax.set_ylim(ax.get_ylim())  # fixed: a budget's update needs no autoscale
        return ax, ring, line

    def widget(self, *, model: str | None = None, cost: str = "bytes", budget: float = 0.25):
        """The ipywidgets UI: the model, the cost, the budget (log slider), the chart.

        Parameters
        ----------
        model : str or None, keyword-only
            The first model shown (default: the first of :attr:`models`).
        cost : str, keyword-only
        budget : float, keyword-only
            The controls' first values.

        Returns
        -------
        ipywidgets.VBox

        Raises
        ------
        TypeError, ValueError
            As :meth:`compute`.
        """
        import ipywidgets as w

        from ..timing import cpu_capability
        from .layout import check_slider, explorer_box

        first = self.compute(self.models[0] if model is None else model, cost, budget)
        check_slider("budget", budget, 10 ** -2, 10 ** 0.5)
        model_box = w.Dropdown(options=self.models, value=first["model"], description="model")
        cost_box = w.ToggleButtons(options=[(v.split(" (")[0], k) for k, v in COSTS.items()], value=cost)
        budget_box = w.FloatLogSlider(value=budget, base=10, min=-2, max=0.5, step=0.05, description="budget x",
                                      continuous_update=False, readout_format=".3g")

        def describe():
            res = self.update(model_box.value, cost_box.value, budget_box.value)
            unit = COSTS[res["cost"]].split(" (")[0]
            if res["best"] is None:
                return f"nothing measured fits {res['limit']:.4g} {unit}"
            b, base = res["best"], res["baseline"]
            return (f"best under {res['limit']:.4g} {unit}: <b>{b['name']}</b>, accuracy {100 * b['accuracy']:.2f}% "
                    f"(float32 {100 * base['accuracy']:.2f}%), {b['bytes']:,} bytes, {b['ms_1']:.3f} ms @1, "
                    f"{b['ms_100']:.2f} ms @100 · {res['fits']} of {len(self._of(res['model']))} fit · "
                    f"measured in this run, {cpu_capability()}")

        controls = [model_box, cost_box, budget_box]
        return explorer_box([w.HBox([model_box, budget_box]), cost_box], controls, describe, self)

    @classmethod
    def bench_case(cls) -> tuple:
        """``(label, explorer, calls)`` for the widget benchmark: LeNet-300-100's configurations, briefly tuned.

        Returns
        -------
        tuple
            The label, an explorer over a real measured table (20 fine-tuning steps, 1,000 test images)
            and the keyword arguments of :meth:`update` for each timed call.
        """
        from ..checkpoints import load_pretrained
        from ..data import load_mnist
        from ..summary.nn import lenet300_configs, measure_configs

        configs = lenet300_configs(load_pretrained("lenet300"), load_mnist("train", limit=5000), steps=20)
        rows = measure_configs(configs, load_mnist("test", limit=1000), model_name="lenet300", repeats=5)
        return ("09 summary, budget -> best configuration", cls(rows),
                [dict(model=m, cost=c, budget=b) for m, c, b in cls.BENCH_CALLS])
