"""Exercises of notebook 00: parameter counts and top-1 accuracy."""

from __future__ import annotations

import numpy as np
import torch

from ...measure import count_parameters
from ..core import Case, compare, exercise

__all__ = ["mlp_case", "accuracy_case"]


def _linear_counts(widths):
    return [count_parameters(torch.nn.Linear(a, b)) for a, b in zip(widths[:-1], widths[1:])]


def mlp_case(widths):
    """A case for ``mlp_parameter_counts(widths)``: the weights and biases of each ``nn.Linear``."""
    def verdict(got, widths):
        return compare(got, np.array(_linear_counts(widths), dtype=np.int64),
                       name=f"mlp_parameter_counts({list(widths)})")
    return Case(lambda: (list(widths),), verdict)


def _real_model_verdict(got, widths):
    from ...models import LeNet300100

    model = LeNet300100()
    expected = np.array([count_parameters(m) for m in (model.fc1, model.fc2, model.fc3)])
    return compare(got, expected, name="mlp_parameter_counts([784, 300, 100, 10])")


exercise("00-mlp-params", "Parameters of each fully connected layer").cases.extend([
    ("LeNet-300-100", Case(lambda: ([784, 300, 100, 10],), _real_model_verdict)),
    ("the CIFAR-10 CNN's classifier", mlp_case((2048, 512, 512, 10))),
    ("a one-layer network", mlp_case((5, 3))),
])


def accuracy_case(seed, n, k):
    """A case for ``top1_accuracy(logits, labels)`` on ``n`` random examples of ``k`` classes."""
    def inputs():
        rng = np.random.default_rng(seed)
        logits = rng.normal(size=(n, k)).astype(np.float32)
        labels = rng.integers(0, k, size=n)
        labels[: n // 2] = logits[: n // 2].argmax(1)  # make it better than chance
        return logits, labels

    def verdict(got, logits, labels):
        expected = float((logits.argmax(1) == labels).mean())
        return compare(np.asarray(got, dtype=float) if isinstance(got, (int, float, np.number)) else got,
                       np.float64(expected), name=f"top1_accuracy(logits of shape {logits.shape}, labels)",
                       rtol=0, atol=1e-9)
    return Case(inputs, verdict)


exercise("00-accuracy", "Top-1 accuracy from logits").cases.extend([
    ("100 examples, 10 classes", accuracy_case(0, 100, 10)),
    ("7 examples, 3 classes", accuracy_case(1, 7, 3)),
    ("1 example", accuracy_case(2, 1, 10)),
])
