"""Notebook 02's CNN exercises: the library's one-call answers earn nothing, the instructor's solutions earn full
marks, and the outcome's budget and published rule give the credit they print."""

import numpy as np
import pytest
from shortcut_helpers import assert_full_marks, assert_no_shortcut, grader_credit, selfcheck_credit

import course_lib as cl
from course_lib.exercises.bank.channels import CNN_CONVS, DENSE_MACS, MAC_BUDGET, channel_macs
from course_lib.pruning import neurons
from course_lib.pruning import nn as prune_nn

ALLOCATION = {"features.0": 1.0, "features.4": 0.75, "features.7": 0.6, "features.11": 0.7, "features.14": 0.55}


def remove_filters(w, bn, w_next, drop):
    w, bn, w_next = (np.asarray(a, dtype=float) for a in (w, bn, w_next))
    rest = np.setdiff1d(np.arange(len(w)), drop)
    if w_next.ndim == 4:
        return w[rest], bn[:, rest], w_next[:, rest]
    per_channel = w_next.reshape(len(w_next), len(w), -1)   # Flatten lays the map out channel by channel
    return w[rest], bn[:, rest], per_channel[:, rest].reshape(len(w_next), -1)


def prune_cnn():
    cnn = cl.load_pretrained("cifar_vgg")
    small = prune_nn.prune_channels(cnn, ALLOCATION, method="l1")
    tuned = prune_nn.fine_tune_channels(small, cl.load_cifar10("train", limit=20000), steps=250, batch_size=64,
                                        lr=5e-4, seed=0)
    return {k: v.detach().numpy().copy() for k, v in tuned.state_dict().items()}


def _as_neurons(w, bn, w_next, drop):
    """Neuron removal on the flattened filters: drops single columns of a Linear where whole blocks must go."""
    w, w_next = np.asarray(w), np.asarray(w_next)
    w_in, _, w_out = neurons.remove_neurons(w.reshape(len(w), -1), bn[0], w_next.reshape(len(w_next), -1), drop)
    rest = np.setdiff1d(np.arange(len(w)), drop)
    return w_in.reshape(-1, *w.shape[1:]), bn[:, rest], w_out.reshape(len(w_next), -1, *w_next.shape[2:])


def _block_order(w, bn, w_next, drop):
    """The Linear's columns taken position-major (h, w, c) instead of channel-major: the wrong Flatten order."""
    w, w_next = np.asarray(w), np.asarray(w_next)
    rest = np.setdiff1d(np.arange(len(w)), drop)
    if w_next.ndim == 4:
        return w[rest], bn[:, rest], w_next[:, rest]
    by_position = w_next.reshape(len(w_next), -1, len(w))
    return w[rest], bn[:, rest], by_position[:, :, rest].reshape(len(w_next), -1)


def test_remove_filters():
    assert_full_marks("02-remove-filters", remove_filters)
    assert_no_shortcut("02-remove-filters", keep_all=lambda w, bn, wn, d: (w, bn, wn),
                       drop_kept=lambda w, bn, wn, d: remove_filters(
                           w, bn, wn, np.setdiff1d(np.arange(len(w)), d)))
    # neuron removal on flattened weights is right only where the next layer is a 1x1 convolution; the wrong Flatten
    # order only where a convolution follows: partial credit, never full
    for wrong in (_as_neurons, _block_order):
        for fn in (grader_credit, selfcheck_credit):
            assert 0.0 < fn("02-remove-filters", wrong)[0] < 1.0


def test_channel_macs_counts_the_model():
    cnn = cl.load_pretrained("cifar_vgg")
    assert DENSE_MACS == prune_nn.count_macs(cnn)["total"] == 2 * MAC_BUDGET
    for keep in (ALLOCATION, 0.5, {"features.7": 3}):
        small = prune_nn.prune_channels(cnn, keep)
        widths = {n: small.get_submodule(n).out_channels for n in CNN_CONVS}
        assert channel_macs(widths) == prune_nn.count_macs(small)["total"]
    with pytest.raises(ValueError, match="features.1"):
        channel_macs({"features.1": 3})


def _credit(answer):
    return grader_credit("02-outcome-channels", lambda: answer)[0]


def _state(model):
    return {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}


def test_outcome_channels_naive():
    cnn = cl.load_pretrained("cifar_vgg")
    # the dense network: over the budget, no credit, in the grader and in the student's kernel
    for fn in (grader_credit, selfcheck_credit):
        assert fn("02-outcome-channels", lambda: _state(cnn))[0] == 0.0
    # within the budget, not fine-tuned: its form is right, but it loses far more than the zero-credit line
    small = prune_nn.prune_channels(cnn, ALLOCATION)
    assert selfcheck_credit("02-outcome-channels", lambda: _state(small))[0] == 1.0
    assert _credit(_state(small)) == 0.0


def test_outcome_channels_form():
    cnn = cl.load_pretrained("cifar_vgg")
    good = _state(prune_nn.prune_channels(cnn, ALLOCATION))
    wrong_bn = dict(good, **{"features.5.weight": good["features.5.weight"][:-1]})
    no_key = {k: v for k, v in good.items() if k != "classifier.7.bias"}
    nan = dict(good, **{"classifier.7.bias": np.full(10, np.nan, dtype=np.float32)})
    ints = dict(good, **{"features.4.weight": good["features.4.weight"].astype(np.int64)})
    for bad in (wrong_bn, no_key, nan, ints, [1], {"features.0.weight": 3}):
        assert selfcheck_credit("02-outcome-channels", lambda bad=bad: bad)[0] == 0.0


@pytest.mark.slow
def test_outcome_channels_solution():
    answer = prune_cnn()
    widths = {n: answer[f"{n}.weight"].shape[0] for n in CNN_CONVS}
    assert channel_macs(widths) <= MAC_BUDGET
    assert_full_marks("02-outcome-channels", lambda: answer)
    # the same weights with the last batch norm's running means shifted by 2: the grader measures the weights it is
    # given (not a model of its own), and the damage costs credit by the published rule
    broken = dict(answer, **{"features.15.running_mean": answer["features.15.running_mean"] + 2.0})
    assert _credit(broken) < 1.0
