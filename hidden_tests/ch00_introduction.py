"""Chapter 00's instructor-only bank: the grader's verdicts and hidden cases (never released).

Runs only in the grader's process (:func:`course_lib.grading.course.course_cases`), each file of
``hidden_tests/`` in its own namespace: a graded kernel receives the cases' *inputs* only, never this
text, a reference solution or an expected value. See ``hidden_tests/README.md``.

00-layer-costs: the student-side checks see the form and the real models' totals; the reference here
builds each layer in PyTorch and measures it. 00-confident-mistakes is decided by its checks.
"""

import functools

import numpy as np

from course_lib.exercises import add_cases, compare, grade_with
from course_lib.exercises.bank.intro import layer_costs_case, mistakes_case
from course_lib.exercises.sessions import hidden_seed

# the grading session's number (0 unless the grader draws this session's hidden cases afresh)
HIDDEN_SEED = globals().get("HIDDEN_SEED", 0)
seed_of = functools.partial(hidden_seed, session=HIDDEN_SEED)  # a case's seed in this session


def reference_layer_costs(input_shape, layers):
    """(params, macs, output_shape) of every layer, measured on the layer built in PyTorch."""
    import torch

    x, out = torch.zeros((1, *input_shape)), []
    for layer in layers:
        kind = layer[0]
        if kind == "conv":
            _, c_out, k, stride, padding, bias = layer
            module = torch.nn.Conv2d(x.shape[1], c_out, k, stride=stride, padding=padding, bias=bias)
        elif kind == "bn":
            module = torch.nn.BatchNorm2d(x.shape[1])
        elif kind == "pool":
            module = torch.nn.MaxPool2d(layer[1])
        else:
            _, n_out, bias = layer
            x = x.flatten(1)
            module = torch.nn.Linear(x.shape[1], n_out, bias=bias)
        with torch.no_grad():
            y = module(x)
        if kind == "conv":
            macs = y[0].numel() * x.shape[1] * module.kernel_size[0] * module.kernel_size[1]
        elif kind == "fc":
            macs = module.in_features * module.out_features
        else:
            macs = 0
        out.append((sum(p.numel() for p in module.parameters()), int(macs), tuple(y.shape[1:])))
        x = y
    return out


def _layer_costs_verdict(got, input_shape, layers):
    expected = reference_layer_costs(input_shape, layers)
    problems = []
    for i, (entry, (params, macs, shape)) in enumerate(zip(got, expected)):
        where = f"layer_costs(...)[{i}] ({layers[i][0]})"
        problems += compare(np.asarray(entry[0]), np.int64(params), name=f"{where} params")
        problems += compare(np.asarray(entry[1]), np.int64(macs), name=f"{where} macs")
        problems += compare(np.asarray(tuple(entry[2])), np.array(shape), name=f"{where} output shape")
    return problems


grade_with("00-layer-costs", _layer_costs_verdict)
add_cases("00-layer-costs",
          ("hidden: stride 2 with padding, batch norm, a conv without bias",
           layer_costs_case(spec=((3, 32, 32), [("conv", 16, 3, 2, 1, True), ("bn",), ("pool", 2),
                                                ("conv", 32, 5, 1, 0, False), ("fc", 10, True)]))),
          ("hidden: odd sizes, stride 2 without padding, pooling rounds down",
           layer_costs_case(spec=((1, 28, 28), [("conv", 8, 3, 2, 0, True), ("pool", 2), ("fc", 20, False),
                                                ("fc", 10, True)]))),
          ("hidden: a 7x7 kernel with padding 3, stride 2, then 2 wide pooling",
           layer_costs_case(spec=((3, 64, 48), [("conv", 24, 7, 2, 3, False), ("bn",), ("pool", 2),
                                                ("conv", 48, 3, 1, 1, True), ("pool", 2), ("fc", 100, True)]))))
add_cases("00-confident-mistakes",
          ("hidden: 60 examples, 5 classes, k = 7", mistakes_case(seed_of(101), 60, 5, 7)),
          ("hidden: 150 examples, 2 classes, k = 20", mistakes_case(seed_of(102), 150, 2, 20)))
