"""The summary explorer of notebook 09: a budget (bytes or latency) -> the most accurate measured configuration."""

from __future__ import annotations

import numpy as np

from .._validation import check_choice, check_float
from ..summary.claims import check_rows as check_table_rows
from ..summary.pareto import best_under_budget, pareto_front

__all__ = ["SummaryExplorer", "COSTS", "pareto_plot", "check_rows", "decade_ticks"]

#: the cost columns of a measured table and how they are shown
COSTS = {"bytes": "stored bytes", "ms_1": "ms per image (batch 1, 1 thread)",
         "ms_100": "ms per 100 images (1 thread)"}
_COLUMNS = ("model", "name", "family", "accuracy", *COSTS)
_FAMILIES = ("baseline", "pruning", "quantization", "factorization", "combination")
_MARKERS = dict(zip(_FAMILIES, ("*", "o", "s", "^", "D")))
_SUPERSCRIPTS = str.maketrans("-0123456789", "\u207b\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079")


def _decade_label(value, _pos=None) -> str:
    exponent = np.log10(value) if value > 0 else np.nan
    if not np.isfinite(exponent) or abs(exponent - round(exponent)) > 1e-6:
        return ""
    return "10" + str(int(round(exponent))).translate(_SUPERSCRIPTS)


def decade_ticks(axis) -> None:
    """Label a log axis's decades as plain text (``10³``, ``10⁻²``), its minor ticks not at all.

    Matplotlib's default log labels are mathtext (``$10^{3}$``): parsing them is most of the time an
    explorer's redraw takes. Unicode superscripts show the same numbers as ordinary text.

    Parameters
    ----------
    axis : matplotlib.axis.Axis
        A log-scaled axis (``ax.xaxis`` or ``ax.yaxis``).

    Raises
    ------
    TypeError
        If ``axis`` is not a matplotlib Axis.
    """
    from matplotlib.axis import Axis
    from matplotlib.ticker import FuncFormatter, NullFormatter

    if not isinstance(axis, Axis):
        raise TypeError(f"axis must be a matplotlib Axis (ax.xaxis or ax.yaxis), got {type(axis).__name__}.")
    axis.set_major_formatter(FuncFormatter(_decade_label))
    axis.set_minor_formatter(NullFormatter())


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
        If ``rows`` is not a non-empty sequence of mappings.
    ValueError
        If a row misses a column or has an unknown family.
    """
    out = check_table_rows(rows, _COLUMNS)
    for i, r in enumerate(out):
        check_choice(f"rows[{i}]['family']", r["family"], _FAMILIES)
    return out


def pareto_plot(rows, cost: str = "bytes", *, ax=None, highlight: str | None = None, budget: float | None = None,
                labels: bool = True):
    """Accuracy against ``cost`` for one model's configurations, the Pareto front as a staircase.

    Parameters
    ----------
    rows : sequence of mapping
        One model's measured configurations (see :func:`check_rows`).
    cost : {"bytes", "ms_1", "ms_100"}
        The x axis (log scale).
    ax : matplotlib Axes or None, keyword-only
        Where to draw (default: a new figure).
    highlight : str or None, keyword-only
        The name of a configuration to ring in red.
    budget : float or None, keyword-only
        A vertical line at this cost.
    labels : bool, keyword-only
        Write each configuration's name beside its point.

    Returns
    -------
    matplotlib Axes

    Raises
    ------
    TypeError, ValueError
        As :func:`check_rows`, or for an unknown ``cost``.
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import LogLocator, NullLocator

    rows = check_rows(rows)
    cost = check_choice("cost", cost, tuple(COSTS))
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    acc = np.array([100 * r["accuracy"] for r in rows])
    x = np.array([float(r[cost]) for r in rows])
    front = pareto_front(acc, x)
    for i, fam in enumerate(_FAMILIES):
        mine = [j for j, r in enumerate(rows) if r["family"] == fam]
        if mine:
            ax.scatter(x[mine], acc[mine], marker=_MARKERS[fam], color=f"C{i}", s=40, label=fam, zorder=3)
    ax.step(x[front], acc[front], where="post", color="gray", lw=1, ls="--", label="Pareto front", zorder=2)
    if labels:
        for j, r in enumerate(rows):
            ax.annotate(r["name"], (x[j], acc[j]), textcoords="offset points", xytext=(4, 2), fontsize=6)
    if highlight is not None:
        j = [r["name"] for r in rows].index(highlight)
        ax.scatter([x[j]], [acc[j]], s=180, facecolors="none", edgecolors="red", lw=2, zorder=4)
    if budget is not None:
        ax.axvline(budget, color="red", lw=1, ls=":")
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(LogLocator(numticks=6))
    ax.xaxis.set_minor_locator(NullLocator())  # minor log ticks are most of a redraw's time
    ax.set_xlabel(COSTS[cost])
    ax.set_ylabel("test accuracy, %")
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
            self.fig = Figure(figsize=(7, 3.4))  # not pyplot's: no plt.show() or cell end shows it again
            spec = self.fig.add_gridspec(1, 1)[0]
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
        pareto_plot(rows, cost, ax=ax, labels=True)
        decade_ticks(ax.xaxis)  # plain-text labels: mathtext ones cost most of a redraw
        ax.legend(fontsize=6, loc="lower right")
        ring = ax.scatter([np.nan], [np.nan], s=180, facecolors="none", edgecolors="red", lw=2, zorder=4)
        base = float(next(r for r in rows if r["name"] == "float32")[cost])
        line = ax.axvline(base, color="red", lw=1, ls=":")
        costs = [float(r[cost]) for r in rows]
        ax.set_xlim(0.8 * min(min(costs), 0.01 * base), 1.25 * max(max(costs), 10 ** 0.5 * base))  # any budget
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
        from .layout import explorer_box

        first = self.compute(model or self.models[0], cost, budget)
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
