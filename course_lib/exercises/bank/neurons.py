"""Exercises of notebook 02: neuron pruning.

The student's copy: each case's inputs and the checks a student's kernel makes -- the form of the
answer and the properties a right answer has (the outputs a layer must compute), never a reference
solution. The instructor's references and the grader's verdicts are in ``hidden_tests/``.
"""

from __future__ import annotations

import numpy as np

from ..core import Case, compare, exercise
from ..outcomes import Target

__all__ = ["mean_case", "scaled_case", "neurons_case", "neurons_form", "NEURON_TARGETS", "HIDDEN_NEURONS"]


def _tuple_of(got, n: int, label: str, names: str) -> list[str]:
    if not isinstance(got, (tuple, list)) or len(got) != n:
        return [f"{label} returned {type(got).__name__}, expected a tuple {names}"]
    return []


def _float_array(got, name: str, shape: tuple) -> tuple[np.ndarray | None, list[str]]:
    """``got`` as a float64 array of ``shape``, or the problems of its form."""
    try:
        arr = np.asarray(got)
    except Exception:
        return None, [f"{name} is not an array of numbers"]
    if got is None or arr.dtype.kind not in "fiu":
        return None, [f"{name} is a {type(got).__name__}, expected an array of numbers"]
    if arr.shape != tuple(shape):
        return None, [f"{name} has shape {arr.shape}, expected {tuple(shape)}"]
    if not np.all(np.isfinite(arr)):
        return None, [f"{name} contains NaN or infinite values"]
    return arr.astype(np.float64), []


def _relu_layer(x, w_in, b_in, w_out):
    return np.maximum(x @ np.asarray(w_in).T + np.asarray(b_in), 0) @ np.asarray(w_out).T


# ---------------------------------------------------------------- 02-mean-replace

def mean_case(seed, n, n_in, units, n_out, drop):
    """A case for ``remove_with_mean(acts, w_in, b_in, w_out, b_out, drop)``.

    ``acts`` are the layer's ReLU outputs on ``n`` images (each neuron active on some of them, with a
    non-zero mean); the answer removes the neurons ``drop`` and returns ``(w_in, b_in, w_out, b_out)``
    of the smaller layer pair. Checked here, completely: the rows and columns of the remaining neurons
    are the original ones, in their order, and on the given activations the smaller pair computes what
    the original computes when each removed neuron's output is replaced by its mean over the images.
    """
    def inputs():
        rng = np.random.default_rng(seed)
        acts = np.maximum(rng.normal(size=(n, units)) + rng.uniform(-1.0, 1.0, size=units), 0)
        acts[0] = np.maximum(acts[0], 0.5)  # every neuron active at least once: no column is all zero
        return (acts, rng.normal(size=(units, n_in)), rng.normal(size=units), rng.normal(size=(n_out, units)),
                rng.normal(size=n_out), list(drop))

    def verdict(got, acts, w_in, b_in, w_out, b_out, drop):
        label = f"remove_with_mean({units} neurons, drop={list(drop)})"
        problems = _tuple_of(got, 4, label, "(w_in, b_in, w_out, b_out)")
        if problems:
            return problems
        rest = np.setdiff1d(np.arange(units), drop)
        problems = (compare(got[0], w_in[rest], name=f"{label}: w_in (the remaining neurons' rows, in order)")
                    + compare(got[1], b_in[rest], name=f"{label}: b_in (the remaining neurons' biases)")
                    + compare(got[2], w_out[:, rest], name=f"{label}: w_out (the remaining neurons' columns)"))
        b_new, found = _float_array(got[3], f"{label}: b_out", b_out.shape)
        if problems or found:
            return problems + found
        replaced = acts.copy()
        replaced[:, drop] = acts[:, drop].mean(axis=0)
        return compare(acts[:, rest] @ w_out[:, rest].T + b_new, replaced @ w_out.T + b_out, rtol=1e-9, atol=1e-9,
                       name=f"{label}: the outputs on the given activations (against the original with each "
                            "removed neuron's output replaced by its mean)")
    return Case(inputs, verdict)


exercise("02-mean-replace", "Remove neurons and put their mean output into the next layer's bias",
         kind="variant", checked_here="values").cases.extend([
    ("6 neurons, remove 2 and 4", mean_case(0, 40, 5, 6, 3, [2, 4])),
    ("20 neurons, remove 5 (unsorted)", mean_case(1, 120, 8, 20, 4, [17, 3, 9, 0, 11])),
    ("3 neurons, remove the last", mean_case(2, 30, 4, 3, 2, [2])),
])


# ---------------------------------------------------------------- 02-merge-scaled

def scaled_case(seed, n_in, units, n_out, keep, drop, alpha):
    """A case for ``merge_scaled(w_in, b_in, w_out, keep, drop)``: ``drop``'s incoming weights and bias are
    ``alpha > 0`` times ``keep``'s (``alpha`` is not given: the answer finds it).

    Checked here, completely: the merged layer has one neuron fewer, the other neurons' rows and
    columns are the original ones, and it computes the original's outputs on random inputs.
    """
    def inputs():
        rng = np.random.default_rng(seed)
        w_in, b_in = rng.normal(size=(units, n_in)), rng.normal(size=units)
        w_in[drop], b_in[drop] = alpha * w_in[keep], alpha * b_in[keep]
        return w_in, b_in, rng.normal(size=(n_out, units)), keep, drop

    def verdict(got, w_in, b_in, w_out, keep, drop):
        label = f"merge_scaled(layer of {units} neurons, keep={keep}, drop={drop})"
        problems = _tuple_of(got, 3, label, "(w_in, b_in, w_out)")
        if problems:
            return problems
        rest = np.delete(np.arange(units), drop)
        others = [j for j, unit in enumerate(rest) if unit != keep]
        problems = (compare(got[0], w_in[rest], name=f"{label}: w_in (the remaining neurons' rows, in order)")
                    + compare(got[1], b_in[rest], name=f"{label}: b_in (the remaining neurons' biases)"))
        w_new, found = _float_array(got[2], f"{label}: w_out", (n_out, units - 1))
        if problems or found:
            return problems + found
        problems = compare(w_new[:, others], w_out[:, rest[others]],
                           name=f"{label}: the columns of w_out of the neurons other than keep")
        x = np.random.default_rng(seed + 1000).normal(size=(4 * units + 8, n_in))
        return problems or compare(_relu_layer(x, w_in[rest], b_in[rest], w_new), _relu_layer(x, w_in, b_in, w_out),
                                   rtol=1e-9, atol=1e-9, name=f"{label}: the merged layer's outputs on random inputs")
    return Case(inputs, verdict)


exercise("02-merge-scaled", "Merge a scaled copy of a neuron: the outputs must not change",
         kind="variant", checked_here="values").cases.extend([
    ("5 neurons, 3 = 2.5 x neuron 1", scaled_case(0, 4, 5, 3, 1, 3, 2.5)),
    ("12 neurons, 0 = 0.4 x neuron 11", scaled_case(1, 7, 12, 4, 11, 0, 0.4)),
    ("2 neurons, 0 = 3 x neuron 1", scaled_case(2, 3, 2, 2, 1, 0, 3.0)),
])


# ---------------------------------------------------------------- 02-outcome-neurons

#: LeNet-300-100's hidden layers and their widths
HIDDEN_NEURONS = {"fc1": 300, "fc2": 100}

#: the targets of 02-outcome-neurons (the notebook prints them with rule_text; the grader measures them)
NEURON_TARGETS = [
    Target("hidden neurons kept", goal=200, zero_at=400, higher=False, unit="neurons"),
    Target("accuracy lost", goal=0.015, zero_at=0.04, higher=False, unit="points"),
]

_BIASES = {"fc2.bias": (100,), "fc3.bias": (10,)}


def _indices(got, name: str, units: int) -> list[str]:
    try:
        arr = np.asarray(got)
    except Exception:
        return [f"{name} is not a list of neuron indices"]
    if arr.ndim != 1 or arr.size == 0 or arr.dtype.kind not in "iu":
        return [f"{name} must be a non-empty 1-D list of integer neuron indices"]
    if arr.min() < 0 or arr.max() >= units:
        return [f"{name} has an index outside 0..{units - 1}"]
    if len(np.unique(arr)) != arr.size:
        return [f"{name} names a neuron more than once"]
    return []


def neurons_form(got) -> list[str]:
    """The problems of the form of an answer to 02-outcome-neurons (what the student's kernel checks)."""
    label = "choose_neurons()"
    if not isinstance(got, dict):
        return [f"{label} returned {type(got).__name__}, expected a dict with keys 'fc1' and 'fc2'"]
    allowed = set(HIDDEN_NEURONS) | set(_BIASES)
    unknown = sorted(str(k) for k in got if k not in allowed)
    if unknown:
        return [f"{label} has keys {unknown}; the keys are 'fc1', 'fc2' and, optionally, 'fc2.bias', 'fc3.bias'"]
    problems = []
    for layer, units in HIDDEN_NEURONS.items():
        if layer not in got:
            problems.append(f"{label} has no key {layer!r} (the indices of the {layer} neurons kept)")
        else:
            problems += _indices(got[layer], f"{label}[{layer!r}]", units)
    for key, shape in _BIASES.items():
        if key in got:
            problems += _float_array(got[key], f"{label}[{key!r}]", shape)[1]
    return problems


def neurons_case():
    """The case of 02-outcome-neurons: no inputs (the answer loads what it needs); the checks made here are the
    form's, the grader builds the smaller network and measures it on the MNIST test set."""
    return Case(lambda: (), lambda got: neurons_form(got))


exercise("02-outcome-neurons", "Keep at most half of LeNet-300-100's hidden neurons, without retraining",
         kind="outcome", checked_here="form").cases.append(("LeNet-300-100 on MNIST", neurons_case()))
