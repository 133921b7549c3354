"""Exercises of notebook 00: the parameters and multiply-adds of each layer, and a model's most confident mistakes.

The checks here are the student's copy: the form of an answer and the properties a right one has. For
the layer costs those are the form and the totals of the course's real models (``checked_here="form"``:
the grader compares every layer with the instructor's reference, ``hidden_tests/ch00_introduction.py``);
the most confident mistakes are decided completely by their properties (``checked_here="values"``).
"""

from __future__ import annotations

import numpy as np

from ..core import Case, exercise

__all__ = ["LAYER_SPECS", "layer_costs_case", "mistakes_case"]

# The course's three models as plain layer lists: ("conv", out_channels, kernel, stride, padding, bias),
# ("bn",) batch norm, ("pool", size) max pooling size x size with stride size, ("fc", out_features, bias).
LAYER_SPECS = {
    "lenet300": ((1, 28, 28), [("fc", 300, True), ("fc", 100, True), ("fc", 10, True)]),
    "lenet5": ((1, 28, 28), [("conv", 20, 5, 1, 0, True), ("pool", 2), ("conv", 50, 5, 1, 0, True), ("pool", 2),
                             ("fc", 500, True), ("fc", 10, True)]),
    "cifar_vgg": ((3, 32, 32), [("conv", 32, 3, 1, 1, False), ("bn",), ("pool", 2),
                                ("conv", 64, 3, 1, 1, False), ("bn",), ("conv", 64, 3, 1, 1, False), ("bn",),
                                ("pool", 2),
                                ("conv", 128, 3, 1, 1, False), ("bn",), ("conv", 128, 3, 1, 1, False), ("bn",),
                                ("pool", 2),
                                ("fc", 512, True), ("fc", 512, True), ("fc", 10, True)]),
}


def _is_count(v):
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)) and v >= 0


def _form_problems(got, input_shape, layers, label):
    """The form of ``layer_costs``' answer and what each kind of layer says about it (no count computed)."""
    if not isinstance(got, (list, tuple)):
        return [f"{label} returned {type(got).__name__}, expected a list of (params, macs, output_shape)"]
    if len(got) != len(layers):
        return [f"{label} returned {len(got)} entries, expected one per layer ({len(layers)})"]
    problems, shape = [], tuple(input_shape)
    for i, (entry, layer) in enumerate(zip(got, layers)):
        where = f"{label}[{i}] ({layer[0]})"
        if not isinstance(entry, (list, tuple)) or len(entry) != 3:
            return problems + [f"{where} is not a triple (params, macs, output_shape)"]
        params, macs, out = entry
        if not (_is_count(params) and _is_count(macs)):
            return problems + [f"{where}: params and macs must be ints >= 0"]
        if not isinstance(out, (list, tuple, np.ndarray)) or not all(_is_count(d) and d > 0 for d in out):
            return problems + [f"{where}: the output shape must be a tuple of positive ints"]
        out = tuple(int(d) for d in out)
        kind = layer[0]
        if kind in ("bn", "pool") and macs != 0:
            problems.append(f"{where}: the course counts no multiply-adds for batch norm and pooling")
        if kind == "pool" and params != 0:
            problems.append(f"{where}: max pooling has no parameters")
        if kind == "bn" and out != shape:
            problems.append(f"{where}: batch norm keeps its input's shape")
        if kind == "pool" and (len(out) != 3 or out[0] != shape[0]):
            problems.append(f"{where}: pooling keeps the number of channels")
        if kind == "conv" and (len(out) != 3 or out[0] != layer[1]):
            problems.append(f"{where}: a convolution's output has (out_channels, height, width)")
        if kind == "fc" and out != (layer[1],):
            problems.append(f"{where}: a fully connected layer's output shape is (out_features,)")
        shape = out
    return problems


def _model_totals(name):
    """Parameters and multiply-adds per image of the course's model ``name``, counted on the model itself."""
    from ...measure import count_macs, count_parameters
    from ...models import MODELS

    model = MODELS[name]()
    images = np.zeros((1, 28, 28) if model.input_shape[0] == 1 else (1, 32, 32, 3), dtype=np.uint8)
    return count_parameters(model), count_macs(model, images)["total"]


def layer_costs_case(name=None, spec=None):
    """A case for ``layer_costs(input_shape, layers)``: one ``(params, macs, output_shape)`` per layer.

    ``name`` is a course model of :data:`LAYER_SPECS` (the checks here compare the totals with the model's
    own counts); ``spec`` any ``(input_shape, layers)`` (the checks here: the form only).
    """
    input_shape, layers = LAYER_SPECS[name] if name is not None else spec

    def verdict(got, input_shape, layers):
        label = f"layer_costs({tuple(input_shape)}, {name or 'layers'})"
        problems = _form_problems(got, input_shape, layers, label)
        if problems or name is None:
            return problems
        params, macs = _model_totals(name)
        if sum(int(e[0]) for e in got) != params:
            problems.append(f"{label}: the parameters add up to {sum(int(e[0]) for e in got):,}, not to the "
                            f"number counted on the model")
        if sum(int(e[1]) for e in got) != macs:
            problems.append(f"{label}: the multiply-adds add up to {sum(int(e[1]) for e in got):,}, not to the "
                            f"number counted on the model")
        return problems
    return Case(lambda: (tuple(input_shape), [tuple(layer) for layer in layers]), verdict)


exercise("00-layer-costs", "Parameters, multiply-adds and output shape of every layer", kind="derivation",
         checked_here="form").cases.extend([
    ("LeNet-5", layer_costs_case("lenet5")),
    ("the CIFAR-10 CNN (padding, batch norm)", layer_costs_case("cifar_vgg")),
    ("LeNet-300-100 (fully connected on an image)", layer_costs_case("lenet300")),
])


def _confidence(logits):
    """The softmax probability of the predicted class, in float64."""
    z = np.asarray(logits, dtype=np.float64)
    return 1.0 / np.exp(z - z.max(axis=1, keepdims=True)).sum(axis=1)


TIE = 1e-6  # confidences closer than this are equal (only exact copies of a row are, in these cases)


def mistakes_case(seed, n, classes, k):
    """A case for ``confident_mistakes(logits, labels, k)``: the indices of the ``k`` misclassified examples of
    highest softmax confidence, most confident first, ties to the lower index."""
    def inputs():
        rng = np.random.default_rng(seed)
        while True:
            logits = rng.normal(scale=2.0, size=(n, classes)).astype(np.float32)
            labels = rng.integers(0, classes, size=n)
            labels[::2] = logits[::2].argmax(1)                   # about half right
            logits[0], labels[0] = 0.0, 0                          # the most confident of all: right
            logits[0, 0] = 20.0
            logits[1], labels[1] = 0.0, 1                          # a large top logit, a close second: wrong
            logits[1, :2] = 9.0, 8.9
            logits[2], labels[2] = 0.0, 1                          # a smaller top logit, far ahead: wrong
            logits[2, 0] = 6.0
            logits[3], labels[3] = 0.0, 0                          # a confident mistake, and an exact copy of it
            logits[3, 1] = 7.0
            logits[n - 1], labels[n - 1] = logits[3], labels[3]
            wrong = np.flatnonzero(logits.argmax(1) != labels)
            c = np.sort(_confidence(logits[wrong[:-1]]))           # every mistake but the copy
            if np.all(np.diff(c) > 100 * TIE):
                return logits, labels, k

    def verdict(got, logits, labels, k):
        label = f"confident_mistakes(logits of shape {logits.shape}, labels, {k})"
        if isinstance(got, (bool, int, float, str)) or got is None:
            return [f"{label} returned {type(got).__name__}, expected a 1-D array of indices"]
        idx = np.asarray(got)
        wrong = np.flatnonzero(logits.argmax(1) != labels)
        want = min(k, len(wrong))
        if idx.ndim != 1 or idx.dtype.kind not in "iu":
            return [f"{label} returned an array of shape {idx.shape} and dtype {idx.dtype}, expected 1-D integers"]
        if len(idx) != want:
            return [f"{label} returned {len(idx)} indices, expected {want}"]
        if len(idx) and (idx.min() < 0 or idx.max() >= len(labels)):
            return [f"{label}: an index is outside 0 .. {len(labels) - 1}"]
        if len(set(idx.tolist())) != len(idx):
            return [f"{label}: an index appears twice"]
        right = [int(i) for i in idx if logits[i].argmax() == labels[i]]
        if right:
            return [f"{label}: example {right[0]} is classified correctly, not a mistake"]
        conf = _confidence(logits)

        def before(a, b):  # a comes before b in the ranking
            return conf[a] > conf[b] + TIE or (abs(conf[a] - conf[b]) <= TIE and a < b)
        for pos in range(len(idx) - 1):
            if not before(idx[pos], idx[pos + 1]):
                return [f"{label}: positions {pos} and {pos + 1} are out of order (most confident first; "
                        f"equal confidence: lower index first)"]
        left_out = [int(j) for j in wrong if j not in set(idx.tolist())]
        if len(idx) and any(before(j, idx[-1]) for j in left_out):
            return [f"{label}: a mistake left out is more confident than one returned"]
        return []
    return Case(inputs, verdict)


exercise("00-confident-mistakes", "The model's most confident mistakes", kind="variant",
         checked_here="values").cases.extend([
    ("100 examples, 10 classes, k = 10", mistakes_case(0, 100, 10, 10)),
    ("40 examples, 3 classes, k = 5", mistakes_case(1, 40, 3, 5)),
    ("200 examples, 10 classes, k = 25", mistakes_case(2, 200, 10, 25)),
    ("12 examples, fewer mistakes than k", mistakes_case(3, 12, 4, 50)),
])
