"""Outcome tasks: a target to reach, and the published rule that turns a measurement into credit.

An outcome task's answer returns plain data (masks, codes and scales, ranks, cores); the grader
applies it to the course's model and measures it itself, on data the answer never sees during the
graded call. Each measured quantity has a :class:`Target`: full credit at the target or beyond,
none at ``zero_at`` or worse, linear in between; the case earns the *smallest* credit of its
targets (:func:`outcome_credit`). The notebook prints the targets and the rule with
:func:`rule_text`, so what is graded is what the student reads.
"""

from __future__ import annotations

import functools
import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass

from .core import Credit

__all__ = ["Target", "linear_credit", "outcome_credit", "rule_text", "lenet_baseline", "cnn_baseline"]


#: The units whose values are fractions (shown times 100).
FRACTION_UNITS = ("%", "points")


def _value(name: str, value) -> float:
    """A measured value: a real number (NaN allowed: it earns nothing)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} ({value!r}).")
    return float(value)


@dataclass(frozen=True)
class Target:
    """A measured quantity's target: ``name`` at least (``higher=True``) or at most ``goal``.

    Parameters
    ----------
    name : str
        What is measured, as the feedback names it (e.g. ``"sparsity"``).
    goal : float
        Full credit at this value or better.
    zero_at : float
        No credit at this value or worse (below ``goal`` when ``higher``, above it otherwise).
    higher : bool
        Whether larger is better.
    unit : str
        ``"%"`` (values are fractions, shown as percentages), ``"points"`` (fractions shown as
        percentage points) or a unit shown after the number (``"bytes"``, ``""``).
    """

    name: str
    goal: float
    zero_at: float
    higher: bool = True
    unit: str = ""

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise TypeError(f"name must be a non-empty str, got {self.name!r}.")
        for label in ("goal", "zero_at"):
            value = getattr(self, label)
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise TypeError(f"{label} must be a real number, got {type(value).__name__} ({value!r}).")
            if not math.isfinite(value):
                raise ValueError(f"{label} == {value!r}, must be finite.")
            if self.unit in FRACTION_UNITS and not -1 <= value <= 1:
                raise ValueError(f"{label} == {value!r}, must be a fraction in [-1, 1] for unit "
                                 f"{self.unit!r} (not a percentage: it is shown times 100).")
        if not isinstance(self.higher, bool):
            raise TypeError(f"higher must be True or False, got {type(self.higher).__name__} ({self.higher!r}).")
        if not isinstance(self.unit, str):
            raise TypeError(f"unit must be a str, got {type(self.unit).__name__} ({self.unit!r}).")
        if (self.zero_at >= self.goal) if self.higher else (self.zero_at <= self.goal):
            raise ValueError(f"zero_at == {self.zero_at!r} must be {'below' if self.higher else 'above'} "
                             f"goal == {self.goal!r}.")

    def show(self, value: float) -> str:
        """``value`` in this target's unit."""
        value = _value("value", value)
        if self.unit == "%":
            return f"{100 * value:.1f} %"
        if self.unit == "points":
            return f"{100 * value:.2f} points"
        if self.unit == "bytes":
            return f"{value:,.0f} bytes"
        return f"{value:g}{' ' + self.unit if self.unit else ''}"

    def credit(self, value: float) -> float:
        """The fraction earned by ``value`` (see :func:`linear_credit`)."""
        return linear_credit(_value("value", value), self.goal, self.zero_at)

    def sentence(self) -> str:
        """The target and its partial-credit rule, as the notebook prints it."""
        word = "at least" if self.higher else "at most"
        worse = "or less" if self.higher else "or more"
        return (f"{self.name} {word} {self.show(self.goal)} (full credit); no credit at {self.show(self.zero_at)} "
                f"{worse}; linear in between")


def linear_credit(value: float, goal: float, zero_at: float) -> float:
    """1 at ``goal`` or better, 0 at ``zero_at`` or worse, linear in between (either direction).

    Raises
    ------
    TypeError, ValueError
        If an argument is not a real number, ``goal``/``zero_at`` is not finite, or ``goal == zero_at``.
    """
    value = _value("value", value)
    goal, zero_at = _value("goal", goal), _value("zero_at", zero_at)
    for label, v in (("goal", goal), ("zero_at", zero_at)):
        if not math.isfinite(v):
            raise ValueError(f"{label} == {v!r}, must be finite.")
    if goal == zero_at:
        raise ValueError(f"goal == zero_at == {goal!r}, must differ (no range to give credit over).")
    if value != value:  # NaN earns nothing
        return 0.0
    return float(min(1.0, max(0.0, (value - zero_at) / (goal - zero_at))))


def outcome_credit(measured: dict[str, float], targets: list[Target]) -> list[str]:
    """The problems and credit of an outcome: the smallest credit over ``targets``.

    Parameters
    ----------
    measured : dict of str -> float
        Each target's measured value, by the target's name.
    targets : list of Target
        The targets.

    Returns
    -------
    list of str
        Empty when every target is reached; otherwise a :class:`~course_lib.exercises.Credit`
        whose problems say, per missed target, what was measured and what the target is.

    Raises
    ------
    TypeError, ValueError
        If ``targets`` is not a list of :class:`Target`, ``measured`` not a dict holding a real number
        for each target, or a fraction target (unit ``"%"``/``"points"``) measured as a percentage.
    """
    targets = _check_targets(targets)
    if not isinstance(measured, Mapping):
        raise TypeError(f"measured must be a dict of target name -> value, got {type(measured).__name__}.")
    problems, fraction = [], 1.0
    for t in targets:
        if t.name not in measured:
            raise ValueError(f"measured has no value for the target {t.name!r}, must hold one per target "
                             f"(it has {sorted(measured)}).")
        got = _value(f"measured[{t.name!r}]", measured[t.name])
        if t.unit in FRACTION_UNITS and math.isfinite(got) and abs(got) > 1:
            raise ValueError(f"measured[{t.name!r}] == {got!r}, must be a fraction in [-1, 1] for unit "
                             f"{t.unit!r} (not a percentage).")
        c = t.credit(got)
        fraction = min(fraction, c)
        if c < 1.0:
            word = "at least" if t.higher else "at most"
            problems.append(f"{t.name} is {t.show(got)}, the target is {word} {t.show(t.goal)} "
                            f"(credit for this target: {c:.0%})")
    return Credit(fraction, problems) if problems else []


def rule_text(targets: list[Target]) -> str:
    """The targets and the partial-credit rule, one line each, for the notebook to print.

    Raises
    ------
    TypeError, ValueError
        If ``targets`` is not a non-empty list of :class:`Target`.
    """
    targets = _check_targets(targets)
    lines = [f"- {t.sentence()}" for t in targets]
    lines.append("The case earns the smallest credit of its targets; the grader measures on its own data.")
    return "\n".join(lines)


def _check_targets(targets) -> list[Target]:
    if not isinstance(targets, (list, tuple)):
        raise TypeError(f"targets must be a list of Target, got {type(targets).__name__}"
                        f"{' (write [target] for one)' if isinstance(targets, Target) else ''}.")
    for i, t in enumerate(targets):
        if not isinstance(t, Target):
            raise TypeError(f"targets[{i}] must be a Target, got {type(t).__name__} ({t!r}).")
    if not targets:
        raise ValueError("targets is empty, must hold at least one Target.")
    return list(targets)


@functools.lru_cache(maxsize=1)
def lenet_baseline():
    """``(model, test, accuracy)``: LeNet-300-100 as trained, the MNIST test set and its accuracy there.

    What the grader measures several outcome tasks against, loaded once per process (the tasks of
    notebooks 01-04 and 09 share it). The model is shared: copy it before changing it.
    """
    from ..checkpoints import load_pretrained
    from ..data import load_mnist
    from ..measure import accuracy

    model, test = load_pretrained("lenet300").eval(), load_mnist("test")
    return model, test, accuracy(model, test.images, test.labels)


#: the CIFAR-10 test images the grader measures the CNN's outcome tasks on (the first ones)
CNN_EVAL_IMAGES = 2000


@functools.lru_cache(maxsize=1)
def cnn_baseline():
    """``(model, test, accuracy)``: the CIFAR-10 CNN as trained, the first :data:`CNN_EVAL_IMAGES` test images
    and its accuracy there.

    What the grader measures the CNN's outcome tasks against (notebooks 02 and 07), loaded once per
    process. The model is shared: copy it before changing it.
    """
    from ..checkpoints import load_pretrained
    from ..data import load_cifar10
    from ..measure import accuracy

    model, test = load_pretrained("cifar_vgg").eval(), load_cifar10("test", limit=CNN_EVAL_IMAGES)
    return model, test, accuracy(model, test.images, test.labels)
