"""Pruning in NumPy (masks, storage, sparse products, schedules): hand-worked cases, properties, messages. No torch."""

import math

import numpy as np
import pytest
import scipy.sparse
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from course_lib import pruning
from course_lib.pruning import (
    bitmask_bytes,
    crossover_sparsity,
    csr_bytes,
    dense_vs_sparse_times,
    global_magnitude_prune,
    gradual_sparsity,
    index_bytes,
    iterative_schedule,
    magnitude_mask,
    magnitude_prune,
    sparse_linear,
    sparsity,
    threshold_mask,
    threshold_prune,
    to_csr,
)

from helpers import raises

weight_arrays = hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, max_side=6),
                           elements=st.floats(-10, 10, allow_nan=False, width=32))


def test_threshold_uses_the_magnitude_and_keeps_equality():
    w = np.array([[0.5, -2.0], [0.1, -1.0]])
    pruned, mask = threshold_prune(w, 1.0)
    np.testing.assert_array_equal(mask, [[False, True], [False, True]])  # -2 and -1 kept: |w| >= C
    np.testing.assert_array_equal(pruned, [[0.0, -2.0], [0.0, -1.0]])
    np.testing.assert_array_equal(threshold_mask(w, 1.0), mask)


def test_threshold_degenerate_values_of_C():
    w = np.array([0.0, -0.3, 2.0])
    pruned, mask = threshold_prune(w, 0)
    assert mask.all() and np.array_equal(pruned, w)  # C = 0 keeps everything, zeros included
    pruned, mask = threshold_prune(w, 2.5)
    assert not mask.any() and not pruned.any()  # C above every |w| removes everything
    assert sparsity(mask) == 1.0


def test_magnitude_ties_go_to_the_lower_flat_index():
    w = np.array([0.2, -0.1, 0.1, 0.3, 0.1])
    np.testing.assert_array_equal(magnitude_mask(w, 2), [True, False, False, True, True])
    np.testing.assert_array_equal(magnitude_mask(w, 0.4), [True, False, False, True, True])  # round(2.0)
    np.testing.assert_array_equal(magnitude_mask(w, 3), [True, False, False, True, False])


def test_magnitude_all_equal_weights_remove_exactly_the_count():
    w = -np.ones((2, 3))
    mask = magnitude_mask(w, 4)
    np.testing.assert_array_equal(mask, [[False, False, False], [False, True, True]])  # C order
    pruned, mask = magnitude_prune(w, 0.5)
    assert (~mask).sum() == 3 and np.count_nonzero(pruned) == 3


def test_magnitude_amount_rounding_and_extremes():
    w = np.arange(1.0, 6.0)  # 5 weights
    assert (~magnitude_mask(w, 0.5)).sum() == 2  # round(2.5) == 2: Python's (banker's) rounding
    assert (~magnitude_mask(w, 0.3)).sum() == 2  # round(1.5) == 2
    assert magnitude_mask(w, 0).all() and magnitude_mask(w, 0.0).all()
    assert not magnitude_mask(w, 5).any() and not magnitude_mask(w, 1.0).any()
    assert (~magnitude_mask(w, np.int64(1))).sum() == 1


def test_global_magnitude_prune_dict_list_and_tuple():
    weights = {"a": np.array([0.1, 5.0]), "b": np.array([[0.2, 0.05, 3.0]])}
    pruned, masks = global_magnitude_prune(weights, 2)
    assert list(masks) == ["a", "b"]
    np.testing.assert_array_equal(masks["a"], [False, True])
    np.testing.assert_array_equal(masks["b"], [[True, False, True]])
    np.testing.assert_array_equal(pruned["b"], [[0.2, 0.0, 3.0]])
    pruned_list, masks_list = global_magnitude_prune([weights["a"], weights["b"]], 0.4)
    assert isinstance(pruned_list, list) and isinstance(masks_list, list)
    np.testing.assert_array_equal(masks_list[1], masks["b"])
    pruned_tuple, _ = global_magnitude_prune((np.ones(2), np.ones(2)), 1)
    assert isinstance(pruned_tuple, tuple)
    np.testing.assert_array_equal(pruned_tuple[0], [0.0, 1.0])  # tie across layers: the earlier layer


@settings(max_examples=60, deadline=None)
@given(w=weight_arrays, data=st.data())
def test_magnitude_count_is_exact_and_keeps_the_largest(w, data):
    k = data.draw(st.integers(0, w.size))
    pruned, mask = magnitude_prune(w, k)
    assert (~mask).sum() == k
    assert np.count_nonzero(pruned) <= np.count_nonzero(w)  # non-zeros never increase
    np.testing.assert_array_equal(pruned, np.where(mask, w, 0.0))
    if 0 < k < w.size:
        assert np.abs(w[mask]).min() >= np.abs(w[~mask]).max()
    if k < w.size:
        assert not (magnitude_mask(w, k + 1) & ~mask).any()  # a larger amount removes a superset
    fraction = data.draw(st.floats(0, 1))
    assert (~magnitude_mask(w, fraction)).sum() == round(fraction * w.size)


@settings(max_examples=60, deadline=None)
@given(w=weight_arrays, C=st.floats(0, 12))
def test_threshold_mask_is_the_magnitude_rule(w, C):
    pruned, mask = threshold_prune(w, C)
    np.testing.assert_array_equal(mask, np.abs(w) >= C)
    assert np.count_nonzero(pruned) <= np.count_nonzero(w)


@settings(max_examples=40, deadline=None)
@given(w=weight_arrays, fraction=st.floats(0, 1))
def test_global_pruning_of_one_layer_is_per_layer_pruning(w, fraction):
    pruned, masks = global_magnitude_prune({"only": w}, fraction)
    expected_pruned, expected_mask = magnitude_prune(w, fraction)
    np.testing.assert_array_equal(masks["only"], expected_mask)
    np.testing.assert_array_equal(pruned["only"], expected_pruned)


@settings(max_examples=40, deadline=None)
@given(w=weight_arrays, value_bytes=st.sampled_from([2, 4, 8]))
def test_csr_bytes_match_scipy_arrays_cast_to_the_chosen_widths(w, value_bytes):
    w = np.where(np.abs(w) < 5, 0.0, w)  # about half zeros
    matrix = w.reshape(1, -1) if w.ndim == 1 else w.reshape(w.shape[0], -1)
    a = scipy.sparse.csr_array(matrix)
    col_width, ptr_width = index_bytes(matrix.shape[1] - 1), index_bytes(a.nnz)
    indices = a.indices.astype(f"u{col_width}")
    indptr = a.indptr.astype(f"u{ptr_width}")
    assert np.array_equal(indices, a.indices) and np.array_equal(indptr, a.indptr)  # the cast is lossless
    expected = a.data.astype(f"f{value_bytes}").nbytes + indices.nbytes + indptr.nbytes
    assert csr_bytes(w, value_bytes=value_bytes) == expected
    assert bitmask_bytes(w, value_bytes=value_bytes) == -(-w.size // 8) + a.nnz * value_bytes


@settings(max_examples=40, deadline=None)
@given(final=st.floats(0, 0.999), rounds=st.integers(1, 10))
def test_iterative_schedule_removes_a_constant_share_of_what_is_left(final, rounds):
    schedule = iterative_schedule(final, rounds)
    assert len(schedule) == rounds and schedule[-1] == final
    assert all(b >= a for a, b in zip(schedule, schedule[1:]))
    remaining = [1.0] + [1.0 - s for s in schedule]
    ratios = [b / a for a, b in zip(remaining, remaining[1:])]
    np.testing.assert_allclose(ratios, ratios[0], rtol=1e-9)


@settings(max_examples=40, deadline=None)
@given(s_i=st.floats(0, 0.5), s_f=st.floats(0.5, 0.99), begin=st.integers(0, 20), length=st.integers(1, 50),
       frequency=st.integers(1, 7))
def test_gradual_sparsity_rises_from_initial_to_final(s_i, s_f, begin, length, frequency):
    end = begin + length
    values = [gradual_sparsity(t, final_sparsity=s_f, initial_sparsity=s_i, begin_step=begin, end_step=end,
                               frequency=frequency) for t in range(end + 5)]
    assert all(b >= a for a, b in zip(values, values[1:]))
    assert values[0] == s_i and values[begin] == s_i and values[end] == s_f and values[-1] == s_f
    assert all(s_i <= v <= s_f for v in values)


def test_schedules_by_hand():
    np.testing.assert_allclose(iterative_schedule(0.75, 2), [0.5, 0.75])
    np.testing.assert_allclose(iterative_schedule(0.875, 3), [0.5, 0.75, 0.875])
    assert iterative_schedule(0.0, 2) == [0.0, 0.0]
    kw = {"final_sparsity": 0.8, "begin_step": 10, "end_step": 20}
    assert gradual_sparsity(5, **kw) == 0.0
    assert gradual_sparsity(15, **kw) == pytest.approx(0.8 - 0.8 * 0.5**3)  # halfway: 7/8 of s_f
    assert gradual_sparsity(20, **kw) == 0.8 == gradual_sparsity(100, **kw)
    # updated every 4 steps: steps 10..13 share the value of step 10, 14..17 that of step 14
    assert gradual_sparsity(13, frequency=4, **kw) == 0.0
    assert gradual_sparsity(17, frequency=4, **kw) == gradual_sparsity(14, **kw)
    assert gradual_sparsity(19, frequency=4, **kw) == gradual_sparsity(18, **kw)


def test_index_bytes_boundaries():
    cases = {0: 1, 255: 1, 256: 2, 65_535: 2, 65_536: 4, 2**32 - 1: 4, 2**32: 8, 2**64 - 1: 8}
    assert {v: index_bytes(v) for v in cases} == cases
    raises(ValueError, "max_value == 18446744073709551616, must be < 2**64 (8 bytes).", index_bytes, 2**64)
    raises(ValueError, "max_value == -1, must be >= 0.", index_bytes, -1)


def test_csr_and_bitmask_bytes_by_hand():
    w = np.array([[0.0, 2.0, 0.0], [1.0, 0.0, 3.0]])
    assert csr_bytes(w) == 3 * 4 + 3 * 1 + 3 * 1  # values, 1-byte column indices, 3 row pointers
    assert bitmask_bytes(w) == 1 + 3 * 4
    dense = np.ones((300, 784))  # nnz 235200 needs 4-byte row pointers, column 783 needs 2 bytes
    assert csr_bytes(dense) == 235_200 * (4 + 2) + 301 * 4
    assert csr_bytes(np.zeros((10, 5))) == 11  # no values, 11 one-byte row pointers
    assert csr_bytes(np.ones((2, 3, 5, 5)), value_bytes=2) == 150 * (2 + 1) + 3 * 1  # (2, 75)


def test_dense_vs_sparse_times_rows_and_crossover():
    rows = dense_vs_sparse_times((32, 48), (0.0, 0.9), batch=2, repeats=2, rng=0)
    assert [row["sparsity"] for row in rows] == [0.0, 0.9]
    for row in rows:
        assert set(row) == {"sparsity", "dense_ms", "sparse_ms", "speedup"}
        assert row["dense_ms"] > 0 and row["sparse_ms"] > 0
        assert row["speedup"] == pytest.approx(row["dense_ms"] / row["sparse_ms"])
    made_up = [{"sparsity": s, "dense_ms": 1.0, "sparse_ms": t} for s, t in [(0.5, 3), (0.9, 0.8), (0.99, 0.2)]]
    assert crossover_sparsity(made_up) == 0.9
    assert crossover_sparsity(made_up[:1]) is None


@pytest.mark.parametrize("fn", [threshold_mask, threshold_prune])
def test_threshold_bad_input(fn):
    raises(ValueError, "C == -1.0, must be >= 0.", fn, [1.0], -1)
    raises(ValueError, "C == nan, must be finite.", fn, [1.0], float("nan"))
    raises(ValueError, "C == inf, must be finite.", fn, [1.0], math.inf)
    raises(TypeError, "C must be a real number, got str ('1').", fn, [1.0], "1")
    raises(TypeError, "C must be a real number, got bool (True).", fn, [1.0], True)


@pytest.mark.parametrize("fn,arg", [(threshold_prune, 0.5), (magnitude_prune, 1), (magnitude_mask, 0.5),
                                    (threshold_mask, 0.5)])
def test_bad_weights(fn, arg):
    raises(TypeError, "weights must be an array of real numbers, got dtype <U1.", fn, ["a", "b"], arg)
    raises(TypeError, "weights must be an array of real numbers, got dtype complex128.", fn, [1j, 2.0], arg)
    raises(TypeError, "weights must be an array of real numbers, got dtype bool.", fn, [True, False], arg)
    raises(TypeError, "weights must be an array of real numbers, got dtype object.", fn, [None, 1.0], arg)
    raises(ValueError, "weights contains 1 NaN or infinite value(s), must be finite.", fn, [np.nan, 1.0], arg)
    raises(ValueError, "weights contains 2 NaN or infinite value(s), must be finite.", fn,
           [np.inf, -np.inf], arg)
    raises(ValueError, "weights is empty (shape (0,)), must have at least one element.", fn, [], arg)


def test_bad_amount():
    w = np.arange(6.0)
    raises(ValueError, "amount == -1, must be >= 0.", magnitude_prune, w, -1)
    raises(ValueError, "amount == -0.5, must be >= 0.", magnitude_prune, w, -0.5)
    raises(ValueError, "amount == 1.5, must be <= 1 when a float (a fraction).", magnitude_prune, w, 1.5)
    raises(ValueError, "amount == 7, must be <= 6 (the number of weights) when an int (a count).",
           magnitude_mask, w, 7)
    raises(ValueError, "amount == nan, must be finite.", magnitude_prune, w, float("nan"))
    raises(TypeError, "amount must be an int (a count) or a float (a fraction), got bool (True).",
           magnitude_prune, w, True)
    raises(TypeError, "amount must be an int (a count) or a float (a fraction), got str ('half').",
           magnitude_prune, w, "half")
    raises(TypeError, "amount must be an int (a count) or a float (a fraction), got NoneType (None).",
           magnitude_prune, w, None)
    raises(ValueError, "amount == 9, must be <= 8 (the number of weights) when an int (a count).",
           global_magnitude_prune, [np.ones(5), np.ones(3)], 9)


def test_bad_global_containers():
    raises(TypeError, "weights must be a dict or a list of arrays, got ndarray.", global_magnitude_prune,
           np.ones(3), 1)
    raises(ValueError, "weights is empty, must hold at least one array.", global_magnitude_prune, {}, 0)
    raises(ValueError, "weights['b'] contains 1 NaN or infinite value(s), must be finite.",
           global_magnitude_prune, {"a": np.ones(2), "b": [np.nan]}, 1)
    raises(TypeError, "weights[1] must be an array of real numbers, got dtype bool.",
           global_magnitude_prune, [np.ones(2), np.ones(2, dtype=bool)], 1)


def test_bad_schedules():
    raises(ValueError, "rounds == 0, must be >= 1.", iterative_schedule, 0.5, 0)
    raises(TypeError, "rounds must be an int, got float (1.5).", iterative_schedule, 0.5, 1.5)
    raises(ValueError, "final_sparsity == 1.0, must be in [0, 1).", iterative_schedule, 1.0, 3)
    raises(ValueError, "final_sparsity == -0.1, must be in [0, 1).", iterative_schedule, -0.1, 3)
    raises(ValueError, "final_sparsity == nan, must be finite.", iterative_schedule, float("nan"), 3)
    raises(TypeError, "final_sparsity must be a real number, got str ('0.5').", iterative_schedule, "0.5", 3)
    raises(ValueError, "end_step == 5, must be > begin_step (10).", gradual_sparsity, 0, final_sparsity=0.5,
           begin_step=10, end_step=5)
    raises(ValueError, "initial_sparsity == 0.6, must be <= final_sparsity (0.5).", gradual_sparsity, 0,
           final_sparsity=0.5, initial_sparsity=0.6, end_step=5)
    raises(ValueError, "frequency == 0, must be >= 1.", gradual_sparsity, 0, final_sparsity=0.5, end_step=5,
           frequency=0)
    raises(ValueError, "step == -1, must be >= 0.", gradual_sparsity, -1, final_sparsity=0.5, end_step=5)


def test_bad_storage_sparse_and_timing_input():
    raises(ValueError, "value_bytes == 0, must be >= 1.", csr_bytes, np.ones(3), value_bytes=0)
    raises(TypeError, "value_bytes must be an int, got float (4.0).", bitmask_bytes, np.ones(3), value_bytes=4.0)
    raises(TypeError, "x must be an array of real numbers or bools, got dtype <U1.", sparsity, ["a"])
    raises(ValueError, "x is empty, must have at least one element.", sparsity, np.zeros((0, 3)))
    w_csr = to_csr(np.eye(3))
    raises(ValueError, "x has 4 features (shape (2, 4)), must have 3 to match w_csr of shape (3, 3).",
           sparse_linear, np.ones((2, 4)), w_csr)
    raises(TypeError, "w_csr must be a 2-D scipy.sparse array (see to_csr), got ndarray.",
           sparse_linear, np.ones((2, 3)), np.eye(3))
    raises(ValueError, "bias has shape (2,), must be (3,) to match w_csr.", sparse_linear, np.ones(3), w_csr,
           np.ones(2))
    raises(ValueError, "sparsities[1] == 1.0, must be in [0, 1).", dense_vs_sparse_times, (4, 4), (0.5, 1.0))
    raises(ValueError, "shape[0] == 0, must be >= 1.", dense_vs_sparse_times, (0, 4))
    raises(TypeError, "rng must be None, an int seed or a numpy.random.Generator, got str ('x').",
           dense_vs_sparse_times, (4, 4), (0.5,), rng="x")
    raises(ValueError, "rows[0] must be a dict with keys 'sparsity', 'dense_ms', 'sparse_ms', got {}.",
           crossover_sparsity, [{}])


def test_module_exports_its_public_api():
    import types

    for name in set(pruning.__all__) - {"nn"}:  # pruning.nn is the torch side (tests/pruning/test_prune_nn.py)
        assert callable(getattr(pruning, name)) or isinstance(getattr(pruning, name), types.ModuleType)
