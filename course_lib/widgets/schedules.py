"""The schedule explorer of notebook 03: how sparsity grows over the rounds, and what each round's cut costs."""

from __future__ import annotations

import numpy as np
import torch

from .._validation import check_choice, check_fraction, check_int, check_model
from ..pruning.masks import magnitude_ranks
from ..pruning.schedules import gradual_sparsity, iterative_schedule
from .base import Explorer
from .layout import check_dataset

__all__ = ["ScheduleExplorer", "SCHEDULES"]

SCHEDULES = ("rounds", "cubic")


class ScheduleExplorer(Explorer):
    """Pick a schedule, a number of rounds and a final sparsity; see the sparsity after each round and
    the accuracy right after that round's pruning (global magnitude ranking, before any retraining).

    The accuracy shown is the damage each round's cut does to the *trained* network: the gap that
    the retraining of that round must close (notebook 03 measures the retrained curves). It is
    cheap to compute -- the global ranking of all weights is computed once, and each sparsity is
    then one comparison -- so an update stays within the explorers' time budget.

    Parameters
    ----------
    model : torch.nn.Module
        The trained model (never changed: a copy is pruned).
    test : Dataset
        Where accuracy is measured (a few thousand images keep updates fast).

    Raises
    ------
    TypeError
        If ``model`` is not a ``torch.nn.Module`` or ``test`` is not a Dataset.
    ValueError
        If ``model`` has no Linear/Conv2d layer, or ``test`` does not fit the model.
    """

    def __init__(self, model, test):
        import copy

        from ..pruning.nn.masks import prunable_params

        check_model(model)
        check_dataset("test", test, model)
        self._adopt(model, test)
        self._copy = copy.deepcopy(self.model)
        self._params = prunable_params(self._copy)
        self._dense = {n: p.detach().clone() for n, p in self._params.items()}
        flat = np.concatenate([p.abs().flatten().numpy() for p in self._dense.values()])
        self._ranks = magnitude_ranks(flat)  # the same count rule and ties as prune_nn.masks_for(scope="global")
        self._sizes = [p.numel() for p in self._dense.values()]
        self.base_accuracy = self._test.accuracy(self.model)
        self._cache: dict[int, float] = {}  # accuracy by number of weights removed: slider positions repeat

    def sparsities(self, final_sparsity: float, rounds: int, schedule: str = "rounds") -> list[float]:
        """The sparsity reached after each round.

        Parameters
        ----------
        final_sparsity : float in [0, 1)
        rounds : int in 1..10
        schedule : {"rounds", "cubic"}
            ``"rounds"``: Han et al.'s equal share of what is left
            (:func:`~course_lib.pruning.schedules.iterative_schedule`); ``"cubic"``: Zhu & Gupta's
            gradual schedule sampled at the end of each round
            (:func:`~course_lib.pruning.schedules.gradual_sparsity`).

        Returns
        -------
        list of float
            ``rounds`` values, the last equal to ``final_sparsity``.

        Raises
        ------
        TypeError, ValueError
            For a bad ``final_sparsity``, ``rounds`` or ``schedule``.
        """
        final_sparsity = check_fraction("final_sparsity", final_sparsity, allow_one=False)
        rounds = check_int("rounds", rounds, minimum=1, maximum=10)
        schedule = check_choice("schedule", schedule, SCHEDULES)
        if schedule == "rounds":
            return iterative_schedule(final_sparsity, rounds)
        return [gradual_sparsity(k, final_sparsity=final_sparsity, begin_step=0, end_step=rounds)
                for k in range(1, rounds + 1)]

    def _accuracy_at(self, sparsity: float) -> float:
        k = round(sparsity * self._ranks.size)  # the count rule of masks_for: Python's round
        if k in self._cache:
            return self._cache[k]
        keep = torch.from_numpy(self._ranks >= k)
        start = 0
        with torch.no_grad():
            for (name, dense), size in zip(self._dense.items(), self._sizes):
                mask = keep[start:start + size].reshape(dense.shape)
                self._params[name].copy_(dense * mask)
                start += size
        self._cache[k] = self._test.accuracy(self._copy)
        return self._cache[k]

    def compute(self, final_sparsity: float, rounds: int, schedule: str = "rounds") -> dict:
        """The schedule and the accuracy after each round's cut (no drawing).

        Parameters
        ----------
        final_sparsity, rounds, schedule
            As for :meth:`sparsities`.

        Returns
        -------
        dict
            ``{"sparsities": [...], "accuracies": [...], "base_accuracy": float, "schedule": str,
            "rounds": int}``.

        Raises
        ------
        TypeError, ValueError
            As :meth:`sparsities`.
        """
        sparsities = self.sparsities(final_sparsity, rounds, schedule)
        return {"sparsities": sparsities, "accuracies": [self._accuracy_at(s) for s in sparsities],
                "base_accuracy": self.base_accuracy, "schedule": schedule, "rounds": len(sparsities)}

    def _create(self, result: dict) -> None:
        ax1, ax2 = self._axes = self.fig.subplots(1, 2)
        (self._steps,) = ax1.step([0], [0], where="post", color="C0")
        (self._curve,) = ax2.plot([], [], "o-", color="C3")
        self._base = ax2.axhline(100 * result["base_accuracy"], color="gray", ls=":")
        ax1.set_xlabel("round")
        ax1.set_ylabel("weights removed, %")
        ax1.set_ylim(0, 100)
        ax2.set_xlim(0, 100)
        ax2.set_ylim(0, 100)
        ax2.set_xlabel("weights removed, %")
        ax2.set_ylabel("accuracy after the cut, %")
        ax2.set_title("each round's damage, before retraining", fontsize=9)
        self.fig.tight_layout()

    def _draw(self, result: dict, **params) -> None:
        """Sparsity per round (left), accuracy after each cut (right)."""
        ax1, _ = self._axes
        k = np.arange(1, result["rounds"] + 1)
        self._steps.set_data(np.r_[0, k], np.r_[0, 100 * np.array(result["sparsities"])])
        ax1.set_xlim(0, max(1, result["rounds"]))
        ax1.set_title(f"{result['schedule']} schedule, {result['rounds']} rounds", fontsize=9)
        self._curve.set_data(100 * np.array(result["sparsities"]), 100 * np.array(result["accuracies"]))

    def _controls(self, *, final_sparsity: float = 0.9, rounds: int = 5) -> tuple:
        """Final sparsity and rounds sliders (``0.5 .. 0.99`` and ``1 .. 10``, starting at the values given) and
        a schedule choice."""
        import ipywidgets as w

        from .layout import check_slider

        final_sparsity = check_slider("final_sparsity", final_sparsity, 0.5, 0.99)
        rounds = check_slider("rounds", rounds, 1, 10, integer=True)
        s = w.FloatSlider(value=final_sparsity, min=0.5, max=0.99, step=0.01, description="final sparsity",
                          continuous_update=False, style={"description_width": "initial"})
        r = w.IntSlider(value=rounds, min=1, max=10, description="rounds", continuous_update=False)
        kind = w.ToggleButtons(options=SCHEDULES, value="rounds", description="schedule")
        return [w.HBox([s, r]), kind], [s, r, kind], lambda: {"final_sparsity": s.value, "rounds": r.value,
                                                               "schedule": kind.value}

    def _status(self, res: dict, *, final_sparsity: float, **_) -> str:
        last = res["accuracies"][-1]
        first_drop = 100 * (res["base_accuracy"] - res["accuracies"][0])
        return (f"{res['rounds']} rounds to {100 * final_sparsity:.0f}% · first cut costs {first_drop:.2f} points "
                f"· the last cut leaves {100 * last:.2f}% before retraining")
