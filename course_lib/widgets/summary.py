"""The summary explorer of notebook 09: a budget (bytes or latency) -> the most accurate measured configuration."""

from __future__ import annotations

import numpy as np

from .._validation import check_choice, check_float
from ..plots.labels import decade_ticks, place_labels  # noqa: F401  (place_labels re-exported)
from ..plots.pareto import COSTS, check_rows, pareto_plot
from ..summary.pareto import best_under_budget, pareto_front
from .base import Explorer

__all__ = ["SummaryExplorer", "COSTS", "pareto_plot", "place_labels", "check_rows", "decade_ticks"]


class SummaryExplorer(Explorer):
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

    figsize = (8, 3.6)

    def __init__(self, rows):
        self.rows = check_rows(rows)
        self.models = list(dict.fromkeys(r["model"] for r in self.rows))
        for m in self.models:
            if not any(r["model"] == m and r["name"] == "float32" for r in self.rows):
                raise ValueError(f"rows has no 'float32' row for model {m!r}, must have its uncompressed model.")

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

    def _create(self, res: dict) -> None:
        # every table's chart is made once, hidden; an update shows one and moves its marks
        spec = self.fig.add_gridspec(1, 1, left=0.09, right=0.64, bottom=0.14, top=0.9)[0]
        self._charts = {(m, c): self._chart(self.fig.add_subplot(spec), m, c) for m in self.models for c in COSTS}
        self._drawn = None

    def _draw(self, res: dict, *, budget: float, **_) -> None:
        """The model's configurations, the front, the budget and the winner."""
        model, cost = res["model"], res["cost"]
        if self._drawn != (model, cost):
            for key, (ax, _, _) in self._charts.items():  # a hidden chart is neither drawn nor cropped
                ax.set_visible(key == (model, cost))
            self._ax, self._ring, self._line = self._charts[(model, cost)]
            self._drawn = (model, cost)
        best = res["best"]
        self._ring.set_offsets([[best[cost], 100 * best["accuracy"]]] if best is not None else [[np.nan, np.nan]])
        self._line.set_xdata([res["limit"], res["limit"]])
        self._ax.set_title(f"{model}: budget {budget:g}x float32's {cost}", fontsize=9, y=1.0)  # y: no title layout

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

    def _controls(self, *, model: str | None = None, cost: str = "bytes", budget: float = 0.25) -> tuple:
        """The model (default: the first of :attr:`models`), the cost and the budget (a log slider)."""
        import ipywidgets as w

        from .layout import check_slider

        first = self.compute(self.models[0] if model is None else model, cost, budget)
        check_slider("budget", budget, 10 ** -2, 10 ** 0.5)
        model_box = w.Dropdown(options=self.models, value=first["model"], description="model")
        cost_box = w.ToggleButtons(options=[(v.split(" (")[0], k) for k, v in COSTS.items()], value=cost)
        budget_box = w.FloatLogSlider(value=budget, base=10, min=-2, max=0.5, step=0.05, description="budget x",
                                      continuous_update=False, readout_format=".3g")
        controls = [model_box, cost_box, budget_box]
        return ([w.HBox([model_box, budget_box]), cost_box], controls,
                lambda: {"model": model_box.value, "cost": cost_box.value, "budget": budget_box.value})

    def _status(self, res: dict, **params) -> str:
        from ..timing import cpu_capability

        unit = COSTS[res["cost"]].split(" (")[0]
        if res["best"] is None:
            return f"nothing measured fits {res['limit']:.4g} {unit}"
        b, base = res["best"], res["baseline"]
        return (f"best under {res['limit']:.4g} {unit}: <b>{b['name']}</b>, accuracy {100 * b['accuracy']:.2f}% "
                f"(float32 {100 * base['accuracy']:.2f}%), {b['bytes']:,} bytes, {b['ms_1']:.3f} ms @1, "
                f"{b['ms_100']:.2f} ms @100 · {res['fits']} of {len(self._of(res['model']))} fit · "
                f"measured in this run, {cpu_capability()}")
