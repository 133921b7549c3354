"""Chapter 02's instructor-only bank: the grader's verdicts and hidden cases (never released).

Runs only in the grader's process (:func:`course_lib.grading.course.course_cases`), each file of
``hidden_tests/`` in its own namespace: a graded kernel receives the cases' *inputs* only, never this
text, a reference solution or an expected value. See ``hidden_tests/README.md``.
"""

import functools

import numpy as np
import torch

from course_lib.exercises import add_cases, compare, grade_with, outcome_credit
from course_lib.exercises.bank.channels import CHANNEL_TARGETS, CNN_CONVS, MAC_BUDGET, filters_case
from course_lib.exercises.bank.neurons import NEURON_TARGETS, mean_case, scaled_case
from course_lib.exercises.outcomes import cnn_baseline, lenet_baseline
from course_lib.exercises.sessions import hidden_seed

# the grading session's number (0 unless the grader draws this session's hidden cases afresh)
HIDDEN_SEED = globals().get("HIDDEN_SEED", 0)
seed_of = functools.partial(hidden_seed, session=HIDDEN_SEED)  # a case's seed in this session


def mean_reference(acts, w_in, b_in, w_out, b_out, drop):
    """The smaller layer pair, each removed neuron's mean output moved into the next layer's bias."""
    drop = np.asarray(drop, dtype=int)
    return (np.delete(w_in, drop, axis=0), np.delete(b_in, drop), np.delete(w_out, drop, axis=1),
            b_out + w_out[:, drop] @ acts[:, drop].mean(axis=0))


def mean_verdict(got, *args):
    return [p for part, g, e in zip(("w_in", "b_in", "w_out", "b_out"), got, mean_reference(*args))
            for p in compare(g, e, name=f"remove_with_mean: {part}", rtol=1e-9, atol=1e-9)]


def scaled_reference(w_in, b_in, w_out, keep, drop):
    """``drop = alpha keep`` with alpha > 0: relu(alpha z) = alpha relu(z), so alpha goes into the outgoing weights."""
    alpha = float(w_in[drop] @ w_in[keep] / (w_in[keep] @ w_in[keep]))
    w_out = w_out.copy()
    w_out[:, keep] += alpha * w_out[:, drop]
    return np.delete(w_in, drop, axis=0), np.delete(b_in, drop), np.delete(w_out, drop, axis=1)


def scaled_verdict(got, *args):
    return [p for part, g, e in zip(("w_in", "b_in", "w_out"), got, scaled_reference(*args))
            for p in compare(g, e, name=f"merge_scaled: {part}", rtol=1e-9, atol=1e-9)]


def filters_reference(w, bn, w_next, drop):
    """The filters, batch-norm columns and next-layer input channels that remain (Flatten: channel-major)."""
    rest = np.setdiff1d(np.arange(len(w)), drop)
    if w_next.ndim == 4:
        return w[rest], bn[:, rest], w_next[:, rest]
    return w[rest], bn[:, rest], w_next.reshape(len(w_next), len(w), -1)[:, rest].reshape(len(w_next), -1)


def filters_verdict(got, *args):
    return [p for part, g, e in zip(("w", "bn", "w_next"), got, filters_reference(*args))
            for p in compare(g, e, name=f"remove_filters: {part}", rtol=1e-12, atol=1e-12)]


def smaller_lenet(answer):
    """The LeNet-300-100 an answer to 02-outcome-neurons describes: kept neurons, optionally new next-layer biases."""
    from course_lib.models import LeNet300100

    model = lenet_baseline()[0]
    p = {k: v.detach().clone() for k, v in model.state_dict().items()}
    k1, k2 = (torch.as_tensor(np.sort(np.asarray(answer[k], dtype=np.int64))) for k in ("fc1", "fc2"))
    b2 = torch.as_tensor(np.asarray(answer["fc2.bias"], dtype=np.float32)) if "fc2.bias" in answer else p["fc2.bias"]
    b3 = torch.as_tensor(np.asarray(answer["fc3.bias"], dtype=np.float32)) if "fc3.bias" in answer else p["fc3.bias"]
    small = LeNet300100(hidden=(len(k1), len(k2)))
    small.load_state_dict({"fc1.weight": p["fc1.weight"][k1], "fc1.bias": p["fc1.bias"][k1],
                           "fc2.weight": p["fc2.weight"][k2][:, k1], "fc2.bias": b2[k2],
                           "fc3.weight": p["fc3.weight"][:, k2], "fc3.bias": b3})
    return small.eval()


def neurons_verdict(got):
    """Build the smaller network, measure it on the MNIST test set, credit by the published rule."""
    from course_lib.measure import accuracy

    _, test, dense = lenet_baseline()
    kept = len(got["fc1"]) + len(got["fc2"])
    lost = dense - accuracy(smaller_lenet(got), test.images, test.labels)
    return outcome_credit({"hidden neurons kept": kept, "accuracy lost": lost}, NEURON_TARGETS)


def smaller_cnn(answer):
    """The channel-pruned CNN an answer to 02-outcome-channels describes: its widths, its weights."""
    from course_lib.pruning.nn import prune_channels

    dense = cnn_baseline()[0]
    small = prune_channels(dense, {name: int(answer[f"{name}.weight"].shape[0]) for name in CNN_CONVS})
    small.load_state_dict({k: torch.as_tensor(np.asarray(v)) for k, v in answer.items()}, strict=True)
    return small.eval()


def channels_verdict(got):
    """Build the smaller CNN, count its multiply-adds, measure it on the CIFAR-10 test images."""
    from course_lib.measure import accuracy
    from course_lib.pruning.nn import count_macs

    _, test, dense = cnn_baseline()
    small = smaller_cnn(got)
    macs = count_macs(small)["total"]
    if macs > MAC_BUDGET:
        return [f"the network costs {macs:,} multiply-adds per image, over the budget of {MAC_BUDGET:,}"]
    return outcome_credit({CHANNEL_TARGETS[0].name: dense - accuracy(small, test.images, test.labels)},
                          CHANNEL_TARGETS)


grade_with("02-mean-replace", mean_verdict)
grade_with("02-remove-filters", filters_verdict)
grade_with("02-outcome-channels", channels_verdict)
grade_with("02-merge-scaled", scaled_verdict)
grade_with("02-outcome-neurons", neurons_verdict)
add_cases("02-mean-replace",
          ("hidden: 15 neurons, remove 7", mean_case(seed_of(21), 90, 6, 15, 5, [14, 1, 8, 2, 7, 10, 5])))
add_cases("02-merge-scaled",
          ("hidden: 9 neurons, 8 = 0.125 x neuron 4", scaled_case(seed_of(41), 6, 9, 5, 4, 8, 0.125)),
          ("hidden: 7 neurons, 2 = 6 x neuron 3", scaled_case(seed_of(42), 5, 7, 3, 3, 2, 6.0)))
add_cases("02-remove-filters",
          ("hidden: 10 filters -> Linear after Flatten of 10x3x2, remove 5",
           filters_case(seed_of(43), 4, 10, 3, [9, 0, 4, 6, 2], next_linear=(7, 3, 2))),
          ("hidden: 7 filters -> a 3x3 convolution of 4, remove 2",
           filters_case(seed_of(44), 5, 7, 3, [3, 6], next_conv=(4, 3))))
