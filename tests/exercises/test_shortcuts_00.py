"""Notebook 00's exercises: the library's counts and the obvious one-liners earn nothing; the instructor's solutions
full marks."""

import numpy as np
import torch
from shortcut_helpers import assert_full_marks, assert_no_shortcut, grader_credit

from course_lib.exercises.bank.intro import mistakes_case
from course_lib.factorization.flattened import conv_macs, conv_params

# ---- the instructor's solutions (as in notebooks/00_introduction.ipynb) ----


def layer_costs(input_shape, layers):
    shape, costs = tuple(input_shape), []
    for layer in layers:
        kind = layer[0]
        if kind == "conv":
            _, c_out, k, stride, padding, bias = layer
            c_in, h, w = shape
            shape = (c_out, (h + 2 * padding - k) // stride + 1, (w + 2 * padding - k) // stride + 1)
            weights = c_out * c_in * k * k
            costs.append((weights + (c_out if bias else 0), weights * shape[1] * shape[2], shape))
        elif kind == "bn":
            costs.append((2 * shape[0], 0, shape))
        elif kind == "pool":
            size = layer[1]
            shape = (shape[0], shape[1] // size, shape[2] // size)
            costs.append((0, 0, shape))
        else:
            _, n_out, bias = layer
            n_in = int(np.prod(shape))
            shape = (n_out,)
            costs.append((n_in * n_out + (n_out if bias else 0), n_in * n_out, shape))
    return costs


def confident_mistakes(logits, labels, k):
    z = logits - logits.max(axis=1, keepdims=True)
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    wrong = np.flatnonzero(p.argmax(axis=1) != labels)
    order = np.argsort(-p[wrong].max(axis=1), kind="stable")   # most confident first, ties: lower index first
    return wrong[order][:k]


# ---- the shortcuts ----

def _with_library_counts(bias_and_bn: bool, macs_are_params: bool):
    """conv_params / conv_macs of the course's flattened-convolution module, output sizes right."""
    def answer(input_shape, layers):
        shape, costs = tuple(input_shape), []
        for layer in layers:
            if layer[0] == "conv":
                _, c_out, k, stride, padding, bias = layer
                out = ((shape[1] + 2 * padding - k) // stride + 1, (shape[2] + 2 * padding - k) // stride + 1)
                p = conv_params(shape[0], c_out, k, k) + (c_out if bias and bias_and_bn else 0)
                m = conv_macs(shape[0], c_out, k, k, *out)
                shape = (c_out, *out)
            elif layer[0] == "bn":
                p, m = (2 * shape[0] if bias_and_bn else 0), 0
            elif layer[0] == "pool":
                shape, p, m = (shape[0], shape[1] // layer[1], shape[2] // layer[1]), 0, 0
            else:
                n_in = int(np.prod(shape))
                p, m = n_in * layer[1] + (layer[1] if layer[2] and bias_and_bn else 0), n_in * layer[1]
                shape = (layer[1],)
            costs.append((p, p if macs_are_params else m, shape))
        return costs
    return answer


def test_layer_costs_shortcuts():
    assert_no_shortcut(
        "00-layer-costs",
        conv_params_without_bias_or_batch_norm=_with_library_counts(bias_and_bn=False, macs_are_params=False),
        multiply_adds_as_parameters=_with_library_counts(bias_and_bn=True, macs_are_params=True),
        torch_numel_only=lambda input_shape, layers: [
            (int(np.prod(layer[1:3])), 0, (layer[1],)) for layer in layers],
    )
    assert_full_marks("00-layer-costs", layer_costs)


def test_layer_costs_stride_is_graded():
    """A count that ignores the stride passes the public cases (the course's models have none) and fails the grade."""
    def no_stride(input_shape, layers):
        return layer_costs(input_shape, [(*layer[:3], 1, *layer[4:]) if layer[0] == "conv" else layer
                                         for layer in layers])
    got, problems = grader_credit("00-layer-costs", no_stride)
    assert 0 < got < 1 and any("hidden" in p for p in problems), (got, problems)


def _softmax_max(logits):
    z = logits - logits.max(axis=1, keepdims=True)
    return (np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)).max(axis=1)


def test_confident_mistakes_shortcuts():
    from sklearn.metrics import accuracy_score

    def wrong(logits, labels):
        return np.flatnonzero(logits.argmax(1) != labels)

    assert_no_shortcut(
        "00-confident-mistakes",
        sklearn_accuracy=lambda logits, labels, k: accuracy_score(labels, logits.argmax(1)),
        top_k_confidence_of_all=lambda logits, labels, k: np.argsort(-_softmax_max(logits), kind="stable")[:k],
        first_k_mistakes=lambda logits, labels, k: wrong(logits, labels)[:k],
        by_largest_logit=lambda logits, labels, k: wrong(logits, labels)[
            np.argsort(-logits[wrong(logits, labels)].max(1), kind="stable")][:k],
        ties_to_the_higher_index=lambda logits, labels, k: wrong(logits, labels)[
            np.argsort(_softmax_max(logits[wrong(logits, labels)]), kind="stable")[::-1]][:k],
        torch_topk=lambda logits, labels, k: wrong(logits, labels)[torch.topk(
            torch.as_tensor(_softmax_max(logits[wrong(logits, labels)])),
            min(k, len(wrong(logits, labels)))).indices.numpy()],
    )
    assert_full_marks("00-confident-mistakes", confident_mistakes)


def test_confident_mistakes_inputs_hold_what_the_checks_rely_on():
    for seed, n, classes, k in ((0, 100, 10, 10), (102, 150, 2, 20)):
        logits, labels, _ = mistakes_case(seed, n, classes, k).inputs()
        assert labels.max() < classes and logits.dtype == np.float32
        assert np.array_equal(logits[3], logits[n - 1]) and logits[0].argmax() == labels[0]
