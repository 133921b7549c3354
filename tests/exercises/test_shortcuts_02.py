"""Notebook 02's exercises: the library's one-call answers earn nothing, the instructor's solutions earn full marks,
and the outcome's published rule gives the credit it prints."""

import numpy as np
import pytest
from shortcut_helpers import assert_full_marks, assert_no_shortcut, grader_credit, selfcheck_credit

import course_lib as cl
from course_lib.pruning import neurons
from course_lib.pruning import nn as prune_nn


def remove_with_mean(acts, w_in, b_in, w_out, b_out, drop):
    acts, w_out, drop = np.asarray(acts, dtype=float), np.asarray(w_out, dtype=float), np.asarray(drop, dtype=int)
    b_out = np.asarray(b_out, dtype=float) + w_out[:, drop] @ acts[:, drop].mean(axis=0)
    return np.delete(w_in, drop, axis=0), np.delete(b_in, drop), np.delete(w_out, drop, axis=1), b_out


def merge_scaled(w_in, b_in, w_out, keep, drop):
    w_in, b_in, w_out = (np.array(a, dtype=float) for a in (w_in, b_in, w_out))
    alpha = w_in[drop] @ w_in[keep] / (w_in[keep] @ w_in[keep])
    w_out[:, keep] += alpha * w_out[:, drop]
    return np.delete(w_in, drop, axis=0), np.delete(b_in, drop), np.delete(w_out, drop, axis=1)


def choose_neurons():
    model = cl.load_pretrained("lenet300")
    p = {k: v.detach().double().numpy() for k, v in model.state_dict().items()}
    a1 = prune_nn.collect_activations(model, cl.load_mnist("train", limit=10000).images, ("fc1",))["fc1"]
    a1 = a1.astype(np.float64)

    def keep_best(a, w_out, k):
        q = (w_out.T @ w_out) * np.cov(a, rowvar=False, bias=True)
        removed, grow = np.zeros(a.shape[1], dtype=bool), np.zeros(a.shape[1])
        for _ in range(a.shape[1] - k):
            cost = np.where(removed, np.inf, 2 * grow + np.diag(q))
            j = int(np.argmin(cost))
            removed[j], grow = True, grow + q[:, j]
        return np.flatnonzero(~removed), np.flatnonzero(removed)

    keep1, gone1 = keep_best(a1, p["fc2.weight"], 120)
    b2 = p["fc2.bias"] + p["fc2.weight"][:, gone1] @ a1[:, gone1].mean(axis=0)
    a2 = np.maximum(a1[:, keep1] @ p["fc2.weight"][:, keep1].T + b2, 0)
    keep2, gone2 = keep_best(a2, p["fc3.weight"], 80)
    b3 = p["fc3.bias"] + p["fc3.weight"][:, gone2] @ a2[:, gone2].mean(axis=0)
    return {"fc1": keep1, "fc2": keep2, "fc2.bias": b2, "fc3.bias": b3}


def test_mean_replace():
    assert_full_marks("02-mean-replace", remove_with_mean)
    assert_no_shortcut(
        "02-mean-replace",
        remove_neurons=lambda a, wi, bi, wo, bo, d: (*neurons.remove_neurons(wi, bi, wo, d), bo),
        drop_units=lambda a, wi, bi, wo, bo, d: (*neurons.drop_units(wi, bi, wo, sorted(d)), bo),
        remove_neurons_3=lambda a, wi, bi, wo, bo, d: neurons.remove_neurons(wi, bi, wo, d),
        # the mean of the *kept* neurons, or the mean over the neurons instead of the images: wrong
        kept_mean=lambda a, wi, bi, wo, bo, d: remove_with_mean(a, wi, bi, wo, bo, d)[:3] + (
            bo + np.asarray(wo)[:, d] @ np.asarray(a)[:, d].mean(axis=1).mean() * np.ones(len(d)),))


def _inverse(w_in, b_in, w_out, keep, drop):
    w_in, b_in, w_out = (np.array(a, dtype=float) for a in (w_in, b_in, w_out))
    w_out[:, keep] += w_out[:, drop] * (w_in[keep] @ w_in[keep]) / (w_in[drop] @ w_in[keep])
    return np.delete(w_in, drop, axis=0), np.delete(b_in, drop), np.delete(w_out, drop, axis=1)


def test_merge_scaled():
    assert_full_marks("02-merge-scaled", merge_scaled)
    assert_no_shortcut(
        "02-merge-scaled",
        merge_neurons=lambda wi, bi, wo, k, d: neurons.merge_neurons(wi, bi, wo, [(k, d)]),
        remove_neurons=lambda wi, bi, wo, k, d: neurons.remove_neurons(wi, bi, wo, [d]),
        inverse=_inverse)  # alpha on the wrong side: 1 / alpha


@pytest.fixture(scope="module")
def stats():
    model = cl.load_pretrained("lenet300")
    acts = prune_nn.collect_activations(model, cl.load_mnist("train", limit=5000).images, ("fc1", "fc2"))
    return {k: neurons.activation_stats(a) for k, a in acts.items()}


def _credit(answer):
    got, problems = grader_credit("02-outcome-neurons", lambda: answer)
    return got


def test_outcome_neurons_solution():
    answer = choose_neurons()
    assert len(answer["fc1"]) + len(answer["fc2"]) == 200
    for fn in (grader_credit, selfcheck_credit):
        assert fn("02-outcome-neurons", lambda: answer)[0] == 1.0


def test_outcome_neurons_naive(stats):
    # the whole network: 400 neurons kept, no credit
    assert _credit({"fc1": np.arange(300), "fc2": np.arange(100)}) == 0.0
    # the first 200 neurons: 11 points lost, no credit
    assert _credit({"fc1": np.arange(140), "fc2": np.arange(60)}) == 0.0
    # the 140 + 60 most often firing neurons (the notebook's statistics), no compensation: 3.75 points lost
    # -> (4 - 3.75) / (4 - 1.5) = 10 %
    by_rate = {k: np.sort(np.argsort(-s["fire_rate"], kind="stable")[:n])
               for (k, s), n in zip(stats.items(), (140, 60))}
    assert _credit(by_rate) == pytest.approx(0.10, abs=0.005)
    # the instructor's choice with 20 neurons too many: 220 kept -> (400 - 220) / (400 - 200) = 90 %
    answer = choose_neurons()
    # the same neurons without the mean compensation: 2.79 points lost -> (4 - 2.79) / 2.5 = 48.4 %
    assert _credit({"fc1": answer["fc1"], "fc2": answer["fc2"]}) == pytest.approx(0.484, abs=0.005)
    more = dict(answer, fc1=np.sort(np.concatenate([answer["fc1"], np.setdiff1d(np.arange(300), answer["fc1"])[:20]])))
    assert _credit(more) == pytest.approx(0.9)


def test_outcome_neurons_form():
    for bad in ({"fc1": [0, 1]}, {"fc1": [0, 0], "fc2": [1]}, {"fc1": [0.5], "fc2": [1]}, {"fc1": [300], "fc2": [1]},
                {"fc1": [1], "fc2": [1], "fc2.bias": np.zeros(99)}, {"fc1": [1], "fc2": [1], "w": 0}, [1, 2]):
        assert selfcheck_credit("02-outcome-neurons", lambda bad=bad: bad)[0] == 0.0
