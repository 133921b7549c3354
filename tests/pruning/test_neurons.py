"""Neuron pruning on arrays: statistics, rarely active and duplicate neurons, removal and merging. No torch."""

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib.pruning.neurons import (
    activation_stats,
    find_duplicates,
    merge_neurons,
    rarely_active,
    remove_neurons,
)

FAST = settings(max_examples=40, deadline=None)


def mlp(x, w_in, b_in, w_out):
    """The layer pair in NumPy: ``relu(x W_in^T + b_in) W_out^T``."""
    return np.maximum(x @ w_in.T + b_in, 0) @ w_out.T


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(0).integers(0, 256, size=(20, 28, 28), dtype=np.uint8)


def test_activation_stats_by_hand():
    # neuron 0 fires once (4), neuron 1 is dead, neuron 2 outputs 2 half of the time
    acts = np.array([[0, 0, 2], [4, 0, 0], [0, 0, 2], [0, 0, 0]], dtype=np.float32)
    stats = activation_stats(acts)  # threshold = 0.5 * mean(4, 0, 2) = 1
    np.testing.assert_allclose(stats["mean"], [1, 0, 1])
    np.testing.assert_allclose(stats["max"], [4, 0, 2])
    np.testing.assert_allclose(stats["apoz"], [0.75, 1, 0.5])
    np.testing.assert_allclose(stats["fire_rate"], [0.25, 0, 0.5])
    # an output equal to the threshold does not fire
    np.testing.assert_allclose(activation_stats(acts, threshold=2)["fire_rate"], [0.25, 0, 0])
    assert rarely_active(stats, min_apoz=1.0).tolist() == [1]
    assert rarely_active(stats, max_fire_rate=0.25).tolist() == [0, 1]
    assert rarely_active(stats, max_fire_rate=0.25, min_apoz=0.8).tolist() == [1]  # both criteria
    # a dead layer: threshold 0, nothing fires
    np.testing.assert_array_equal(activation_stats(np.zeros((3, 2)))["fire_rate"], [0, 0])


def test_find_duplicates_by_hand():
    a = np.array([1.0, 2.0, 3.0])
    acts = np.stack([a, 0 * a, a, a + [0, 0, 0.01], 0 * a, 3 * a], axis=1)
    # 2 is an exact copy of 0, 3 a near copy (0.01 / 3.75 = 0.0027), 1 and 4 dead, 5 is 3x
    assert find_duplicates(acts) == [(0, 2), (0, 3)]
    assert find_duplicates(acts, tol=0) == [(0, 2)]
    assert find_duplicates(acts, tol=1e-3) == [(0, 2)]
    assert find_duplicates(acts, tol=0.7) == [(0, 2), (0, 3), (0, 5)]  # ||a - 3a|| / ||3a|| = 2/3
    assert find_duplicates(acts[:, [1, 4]], tol=1.0) == []  # dead neurons are not duplicates


def test_find_duplicates_drops_each_neuron_once():
    a = np.array([[1.0], [2.0]])
    acts = np.hstack([a, a, a, a + 0.1])  # 0 = 1 = 2, 3 close to all of them
    assert find_duplicates(acts, tol=0.1) == [(0, 1), (0, 2), (0, 3)]


def test_remove_and_merge_by_hand():
    w_in = np.array([[1.0, 0.0], [-1.0, -1.0], [1.0, 0.0]])  # neuron 1 dead on x >= 0, 2 copies 0
    b_in = np.array([0.0, -1.0, 0.0])
    w_out = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    w, b, v = remove_neurons(w_in, b_in, w_out, [1])
    np.testing.assert_array_equal(w, [[1, 0], [1, 0]])
    np.testing.assert_array_equal(b, [0, 0])
    np.testing.assert_array_equal(v, [[1, 3], [4, 6]])
    w, b, v = merge_neurons(w_in, b_in, w_out, [(0, 2)])
    np.testing.assert_array_equal(w, [[1, 0], [-1, -1]])
    np.testing.assert_array_equal(b, [0, -1])
    np.testing.assert_array_equal(v, [[4, 2], [10, 5]])
    np.testing.assert_array_equal(w_out, [[1, 2, 3], [4, 5, 6]])  # inputs untouched
    x = np.array([[0.5, 2.0], [3.0, 1.0]])
    np.testing.assert_allclose(mlp(x, w, b, v), mlp(x, w_in, b_in, w_out))
    # a neuron that absorbs two others
    _, _, v = merge_neurons(w_in, b_in, w_out, [(0, 2), (0, 1)])
    np.testing.assert_array_equal(v, [[6], [15]])


@st.composite
def layers_with_duplicates(draw):
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    units, n_in, n_out = draw(st.integers(2, 10)), draw(st.integers(1, 6)), draw(st.integers(1, 4))
    w_in, b_in = rng.normal(size=(units, n_in)), rng.normal(size=units)
    w_out = rng.normal(size=(n_out, units))
    for target in range(1, units):
        if draw(st.booleans()):  # copy an earlier neuron
            source = int(rng.integers(0, target))
            w_in[target], b_in[target] = w_in[source], b_in[source]
    return rng.normal(size=(30, n_in)), w_in, b_in, w_out


@FAST
@given(layers_with_duplicates())
def test_merging_exact_duplicates_keeps_outputs(layer):
    x, w_in, b_in, w_out = layer
    pairs = find_duplicates(np.maximum(x @ w_in.T + b_in, 0), tol=0)
    w, b, v = merge_neurons(w_in, b_in, w_out, pairs)
    assert w.shape[0] == w_in.shape[0] - len(pairs)
    np.testing.assert_allclose(mlp(x, w, b, v), mlp(x, w_in, b_in, w_out), atol=1e-5)


@FAST
@given(st.integers(0, 2**32 - 1), st.integers(2, 10), st.data())
def test_removing_dead_neurons_keeps_outputs(seed, units, data):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, size=(25, 4))  # non-negative inputs
    w_in, b_in, w_out = rng.normal(size=(units, 4)), rng.normal(size=units), rng.normal(size=(3, units))
    dead = data.draw(st.lists(st.integers(0, units - 1), unique=True, max_size=units - 1))
    w_in[dead], b_in[dead] = -np.abs(w_in[dead]), -1.0 - np.abs(b_in[dead])  # never positive on x >= 0
    stats = activation_stats(np.maximum(x @ w_in.T + b_in, 0))
    found = rarely_active(stats, min_apoz=1.0)
    assert set(dead) <= set(found.tolist())
    if len(found) == units:
        return
    w, b, v = remove_neurons(w_in, b_in, w_out, found)
    np.testing.assert_allclose(mlp(x, w, b, v), mlp(x, w_in, b_in, w_out), atol=1e-12)


@FAST
@given(st.lists(st.lists(st.floats(0, 100), min_size=3, max_size=3), min_size=1, max_size=8))
def test_stats_are_fractions_and_pairs_are_valid(rows):
    acts = np.array(rows)
    stats = activation_stats(acts)
    for key in ("apoz", "fire_rate"):
        assert np.all((stats[key] >= 0) & (stats[key] <= 1))
    pairs = find_duplicates(acts, tol=0.5)
    drops = [d for _, d in pairs]
    assert all(k < d for k, d in pairs) and len(set(drops)) == len(drops)
    assert not {k for k, _ in pairs} & set(drops)
    assert pairs == find_duplicates(acts, tol=0.5)  # deterministic


W_IN, B_IN, W_OUT = np.ones((3, 2)), np.zeros(3), np.ones((2, 3))


@pytest.mark.parametrize("call,error,message", [
    (lambda: activation_stats(np.ones(3)), ValueError, "acts has 1 dimension(s) (shape (3,)), must have 2."),
    (lambda: activation_stats(np.ones((0, 3))), ValueError, "acts is empty (shape (0, 3))"),
    (lambda: activation_stats([[1.0, np.nan]]), ValueError, "acts contains 1 NaN or infinite value(s)"),
    (lambda: activation_stats([[1.0, -0.5]]), ValueError, "acts has negative values (min -0.5), must be >= 0"),
    (lambda: activation_stats([["a"]]), TypeError, "acts must be an array of real numbers, got dtype <U1."),
    (lambda: activation_stats(np.ones((2, 2)), threshold=-1), ValueError, "threshold == -1.0, must be >= 0."),
    (lambda: find_duplicates(np.ones((2, 2)), tol=-0.1), ValueError, "tol == -0.1, must be >= 0."),
    (lambda: rarely_active({"apoz": np.ones(2)}), ValueError, "give max_fire_rate, min_apoz or both"),
    (lambda: rarely_active({"apoz": np.ones(2)}, max_fire_rate=0.1), ValueError, "stats has no 'fire_rate'"),
    (lambda: rarely_active({"apoz": np.ones(2)}, min_apoz=1.5), ValueError, "min_apoz == 1.5, must be in [0, 1]."),
    (lambda: rarely_active([0.1], min_apoz=0.5), TypeError, "stats must be the dict returned by activation_stats"),
    (lambda: remove_neurons(W_IN, B_IN, np.ones((2, 4)), [0]), ValueError,
     "w_out has 4 columns but w_in has 3 rows (one per neuron): they must match."),
    (lambda: remove_neurons(W_IN, np.zeros(2), W_OUT, [0]), ValueError, "b_in has 2 entries but w_in has 3 rows"),
    (lambda: remove_neurons(W_IN, B_IN, W_OUT, [3]), ValueError,
     "drop contains 3, must be in [0, 2] (the layer has 3 neurons)."),
    (lambda: remove_neurons(W_IN, B_IN, W_OUT, [-1]), ValueError, "drop contains -1, must be in [0, 2]"),
    (lambda: remove_neurons(W_IN, B_IN, W_OUT, [1, 1]), ValueError,
     "drop contains 1 more than once: each neuron can be removed only once."),
    (lambda: remove_neurons(W_IN, B_IN, W_OUT, [0.5]), TypeError, "drop must be a sequence of int neuron indices"),
    (lambda: remove_neurons(W_IN, B_IN, W_OUT, [0, 1, 2]), ValueError,
     "drop removes all 3 neurons, must leave at least one."),
    (lambda: merge_neurons(W_IN, B_IN, W_OUT, [(3, 3)]), ValueError,
     "pairs[0] == (3, 3) contains 3, must be in [0, 2] (the layer has 3 neurons)."),
    (lambda: merge_neurons(W_IN, B_IN, W_OUT, [(1, 1)]), ValueError,
     "pairs contains (1, 1): a neuron cannot be merged with itself."),
    (lambda: merge_neurons(W_IN, B_IN, W_OUT, [(0, 2), (1, 2)]), ValueError,
     "pairs drops neuron 2 more than once: each neuron can be dropped only once."),
    (lambda: merge_neurons(W_IN, B_IN, W_OUT, [(0, 1), (1, 2)]), ValueError,
     "pairs keeps and drops neuron 1: a dropped neuron cannot also be kept"),
    (lambda: merge_neurons(W_IN, B_IN, W_OUT, [(0, 1, 2)]), TypeError,
     "pairs[0] == (0, 1, 2), must be a (keep, drop) pair of int neuron indices."),
    (lambda: merge_neurons(W_IN, B_IN, W_OUT, {0: 1}), TypeError, "pairs must be a list of (keep, drop) pairs"),
])
def test_bad_input_messages(call, error, message):
    with pytest.raises(error, match=re.escape(message)):
        call()
