"""Flattened convolutions in NumPy: ALS recovers exact rank-1 filters, errors fall with R, counts, messages."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib.factorization.flattened import (
    FlattenConvergenceWarning,
    conv_macs,
    conv_params,
    flatten_filters,
    flattened_macs,
    flattened_params,
    rank1_filter,
    reconstruct_filters,
)

from helpers import raises


def _cp(rng, f, r, c, y, x):
    """Filters of CP rank exactly <= r (and their factors)."""
    z, v, h = rng.standard_normal((f, r, c)), rng.standard_normal((f, r, y)), rng.standard_normal((f, r, x))
    return reconstruct_filters(z, v, h), (z, v, h)


def test_rank1_filter_by_hand():
    w = rank1_filter([1.0, -2.0], [0.5, 1.0, 0.5], [1.0, 0.0, -1.0])
    assert w.shape == (2, 3, 3)
    assert w[1, 1, 0] == -2.0 and w[0, 0, 2] == -0.5 and w[0, :, 1].tolist() == [0, 0, 0]
    np.testing.assert_array_equal(w, np.einsum("c,y,x->cyx", [1.0, -2.0], [0.5, 1.0, 0.5], [1.0, 0.0, -1.0]))


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10 ** 6), st.integers(1, 6), st.integers(1, 9), st.sampled_from([1, 3, 5]),
       st.sampled_from([1, 3, 5]))
def test_an_exactly_rank1_filter_is_recovered_exactly(seed, f, c, y, x):
    w, (z, v, h) = _cp(np.random.default_rng(seed), f, 1, c, y, x)
    res = flatten_filters(w)
    assert res.converged and res.errors.max() < 1e-12 and res.layer_error < 1e-12
    np.testing.assert_allclose(reconstruct_filters(res.lateral, res.vertical, res.horizontal), w, atol=1e-12)
    # the vectors are the filter's own up to scale: z_hat is parallel to z
    cos = np.abs(np.sum(res.lateral[:, 0] * z[:, 0], 1)) / (np.linalg.norm(res.lateral[:, 0], axis=1)
                                                             * np.linalg.norm(z[:, 0], axis=1))
    np.testing.assert_allclose(cos, 1.0, atol=1e-10)


def test_error_decreases_with_the_rank_and_reaches_zero_at_the_true_rank():
    w, _ = _cp(np.random.default_rng(1), 4, 3, 6, 3, 3)
    errors = [flatten_filters(w, r, max_iter=2000, tol=1e-12).layer_error for r in (1, 2, 3)]
    assert errors[0] > errors[1] > errors[2]
    assert errors[2] < 1e-5


def test_error_decreases_with_the_rank_on_generic_filters():
    w = np.random.default_rng(2).standard_normal((8, 16, 3, 3))
    errors = [flatten_filters(w, r, max_iter=500).layer_error for r in (1, 2, 4, 8)]
    assert all(a > b for a, b in zip(errors, errors[1:])), errors
    assert 0 < errors[-1] < errors[0] < 1


def test_errors_are_the_measured_ones_and_layer_error_combines_them():
    w = np.random.default_rng(3).standard_normal((5, 4, 3, 3))
    w[2] *= 10  # filters of different norms
    res = flatten_filters(w, 2)
    approx = reconstruct_filters(res.lateral, res.vertical, res.horizontal)
    per_filter = np.linalg.norm((w - approx).reshape(5, -1), axis=1) / np.linalg.norm(w.reshape(5, -1), axis=1)
    np.testing.assert_allclose(res.errors, per_filter, rtol=1e-10)
    assert res.layer_error == pytest.approx(np.linalg.norm(w - approx) / np.linalg.norm(w), rel=1e-10)
    # rank-1 ALS from the HOSVD start is never worse than the HOSVD start itself
    u = [np.linalg.svd(m, full_matrices=False)[0][:, :, 0] for m in
         (w.reshape(5, 4, 9), w.transpose(0, 2, 1, 3).reshape(5, 3, 12), w.transpose(0, 3, 1, 2).reshape(5, 3, 12))]
    core = np.einsum("fcyx,fc,fy,fx->f", w, *u)
    start = np.einsum("f,fc,fy,fx->fcyx", core, *u)
    assert flatten_filters(w).layer_error <= np.linalg.norm(w - start) / np.linalg.norm(w) + 1e-12


def test_zero_filter_gives_zero_factors_and_zero_error():
    w, _ = _cp(np.random.default_rng(4), 3, 1, 4, 3, 3)
    w[1] = 0
    res = flatten_filters(w)
    assert res.errors[1] == 0 and not np.any(res.lateral[1]) and res.errors.max() < 1e-12


def test_deterministic_and_inputs_unchanged():
    w = np.random.default_rng(5).standard_normal((4, 5, 3, 3))
    before = w.copy()
    a, b = flatten_filters(w, 4), flatten_filters(w, 4)  # R = 4 > Y: seeded random start columns
    np.testing.assert_array_equal(a.lateral, b.lateral)
    np.testing.assert_array_equal(w, before)


def test_non_convergence_warns_and_still_returns():
    w = np.random.default_rng(6).standard_normal((4, 8, 3, 3))
    with pytest.warns(FlattenConvergenceWarning, match=r"did not converge in max_iter == 2 ALS sweeps"):
        res = flatten_filters(w, 3, max_iter=2, tol=1e-12)
    assert not res.converged and res.n_iter == 2 and np.all(res.errors < 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert flatten_filters(w, 1).converged


def test_parameter_and_operation_counts():
    assert conv_params(128, 128, 3, 3) == 147456
    assert flattened_params(128, 128, 3, 3) == 128 * (128 + 3 + 3)
    assert flattened_params(64, 32, 5, 3, rank=2) == 32 * 2 * (64 + 5 + 3)
    # the layer: 8.6x fewer operations on a 16x16 map
    assert round(conv_macs(128, 128, 3, 3, 16, 16) / flattened_macs(128, 128, 3, 3, 16, 16), 1) == 8.6
    assert flattened_macs(3, 32, 3, 3, 32, 32) == 32 * 32 * 32 * 9


@pytest.mark.parametrize("args,kwargs,exc,message", [
    ((np.zeros((3, 3, 3)),), {}, ValueError,
     "weight has 3 dimension(s) (shape (3, 3, 3)), must have 4: a convolution weight (filters F, channels C, "
     "rows Y, columns X)."),
    ((np.ones((2, 2, 3, 3)), 0), {}, ValueError, "rank == 0, must be >= 1."),
    ((np.ones((2, 2, 3, 3)), 1.0), {}, TypeError, "rank must be an int, got float (1.0)."),
    ((np.full((2, 2, 3, 3), np.nan),), {}, ValueError, "weight contains 36 NaN or infinite value(s), must be finite."),
    ((np.array([[[[np.inf]]]]),), {}, ValueError, "weight contains 1 NaN or infinite value(s), must be finite."),
    ((np.ones((2, 2, 3, 3), dtype=bool),), {}, TypeError, "weight must be an array of real numbers, got dtype bool."),
    ((np.ones((2, 2, 3, 3)),), {"max_iter": 0}, ValueError, "max_iter == 0, must be >= 1."),
    ((np.ones((2, 2, 3, 3)),), {"tol": 0.0}, ValueError, "tol == 0.0, must be > 0."),
    ((np.ones((2, 2, 3, 3)),), {"rng": -1}, ValueError, "rng == -1, must be >= 0 (a seed)."),
])
def test_flatten_filters_messages(args, kwargs, exc, message):
    raises(exc, message, flatten_filters, *args, **kwargs)


def test_other_messages():
    raises(ValueError, "lateral, vertical and horizontal have shapes [(2, 1, 3), (2, 2, 3), (2, 1, 3)], must share "
           "their first two sizes (filters F, terms R).", reconstruct_filters, np.ones((2, 1, 3)), np.ones((2, 2, 3)),
           np.ones((2, 1, 3)))
    raises(ValueError, "vertical has 2 dimension(s) (shape (2, 3)), must have 3.", reconstruct_filters,
           np.ones((2, 1, 3)), np.ones((2, 3)), np.ones((2, 1, 3)))
    raises(ValueError, "z has 2 dimension(s) (shape (1, 2)), must have 1.", rank1_filter, [[1.0, 2.0]], [1.0], [1.0])
    raises(ValueError, "rank == 0, must be >= 1.", flattened_params, 3, 4, 3, 3, 0)
    raises(ValueError, "C == 0, must be >= 1.", conv_params, 0, 4, 3, 3)
    raises(TypeError, "out_h must be an int, got float (16.0).", flattened_macs, 3, 4, 3, 3, 16.0, 16)


def test_the_numpy_module_never_imports_torch():
    import subprocess
    import sys

    code = ("import sys, numpy as np\n"
            "from course_lib.factorization import flattened, flattened_timing\n"
            "flattened.flatten_filters(np.ones((2, 3, 3, 3)))\n"
            "print('TORCH' if 'torch' in sys.modules else 'CLEAN')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "CLEAN"
