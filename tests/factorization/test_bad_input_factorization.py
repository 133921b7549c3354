"""Bad input to the NumPy side of course_lib.factorization: a TypeError or ValueError naming the parameter and the rule.

One case per kind of mistake and entry point: wrong types (str, bool, float for an int), an int where a list of modes
goes, NaN/inf, percentages for fractions, integer dtypes where floats are drawn, a TensorTrain or TTMatrix where its
cores go, shapes that do not fit, options a function does not have.
"""

import numpy as np
import pytest

from course_lib.factorization import (
    break_even_rank,
    check_cores,
    check_modes,
    check_rank,
    check_tt_ranks,
    conv_macs,
    delta_rank,
    eckart_young_error,
    flatten_filters,
    flattened_params,
    matrix_with_spectrum,
    mode_spread,
    random_tt,
    random_tt_matrix,
    randomized_svd,
    rank1_filter,
    rank_for_compression,
    rank_for_energy,
    reconstruct_filters,
    stretched_spectrum,
    svd_references,
    truncated_svd,
    tt_entry,
    tt_matmul,
    tt_matmul_backward,
    tt_matmul_einsum,
    tt_matmul_forward,
    tt_matmul_macs,
    tt_matrix,
    tt_matrix_dense,
    tt_norm,
    tt_params,
    tt_ranks,
    tt_reconstruct,
    tt_references,
    tt_round,
    tt_svd,
)

NAN = float("nan")
RNG = np.random.default_rng(0)
W = RNG.standard_normal((6, 5))
S = np.array([3.0, 2.0, 1.0])
T = RNG.standard_normal((3, 4, 5))
TRAIN = tt_svd(T, 2)
W8 = RNG.standard_normal((8, 8))
TM = tt_matrix(W8, (2, 4), (2, 4), 2)
X8 = RNG.standard_normal((3, 8))
Y8, CACHE = tt_matmul_forward(TM.cores, X8)
CW = RNG.standard_normal((2, 3, 3, 3))


def check(call, exc, *fragments):
    with pytest.raises(exc) as info:
        call()
    for fragment in fragments:
        assert fragment in str(info.value), f"{fragment!r} not in {str(info.value)!r}"


CASES = {
    # lowrank, svd, randomized
    "check_rank str": (lambda: check_rank("3", 4, 5), TypeError, "rank must be an int"),
    "break_even_rank bool": (lambda: break_even_rank(True, 4), TypeError, "n must be an int"),
    "truncated_svd str": (lambda: truncated_svd("abc", 2), TypeError, "weight must be an array of real numbers"),
    "truncated_svd 3-D": (lambda: truncated_svd(np.ones((3, 3, 3)), 2), ValueError, "weight has 3 dimension(s)"),
    "truncated_svd NaN": (lambda: truncated_svd(np.full((3, 3), NAN), 1), ValueError, "weight contains", "finite"),
    "truncated_svd energy percent": (lambda: truncated_svd(W, energy=97.0), ValueError, "energy == 97.0",
                                     "must be in (0, 1]"),
    "truncated_svd two rules": (lambda: truncated_svd(W, 2, energy=0.9), ValueError, "give exactly one of rank"),
    "truncate 0": (lambda: truncated_svd(W, 3).truncate(0), ValueError, "k == 0, must be >= 1"),
    "eckart increasing": (lambda: eckart_young_error(S[::-1], 1), ValueError, "singular_values must be >= 0 and "
                          "sorted"),
    "rank_for_energy percent": (lambda: rank_for_energy(S, 90), ValueError, "energy == 90.0"),
    "rank_for_compression str": (lambda: rank_for_compression(4, 4, "2"), TypeError, "compression must be a real"),
    "stretched length 0": (lambda: stretched_spectrum(S, 0), ValueError, "length == 0, must be >= 1"),
    "matrix_with_spectrum int64": (lambda: matrix_with_spectrum(S, (4, 3), dtype=np.int64), ValueError,
                                   "dtype == int64, must be a floating-point dtype"),
    "matrix_with_spectrum complex": (lambda: matrix_with_spectrum(S, (4, 3), dtype=np.complex128), ValueError,
                                     "dtype == complex128"),
    "matrix_with_spectrum bogus dtype": (lambda: matrix_with_spectrum(S, (4, 3), dtype="banana"), TypeError,
                                         "dtype must be a NumPy dtype"),
    "matrix_with_spectrum shape int": (lambda: matrix_with_spectrum(S, 4), TypeError, "shape must be a tuple"),
    "matrix_with_spectrum rng float": (lambda: matrix_with_spectrum(S, (4, 3), rng=1.5), TypeError, "rng must be"),
    "randomized oversamples": (lambda: randomized_svd(W, 2, oversamples=-1), ValueError, "oversamples == -1"),
    "randomized reorthonormalize": (lambda: randomized_svd(W, 2, reorthonormalize=1), TypeError,
                                    "reorthonormalize must be True or False"),
    # flattened
    "flatten 3-D": (lambda: flatten_filters(np.ones((2, 3, 3))), ValueError, "weight has 3 dimension(s)"),
    "flatten tol NaN": (lambda: flatten_filters(CW, tol=NAN), ValueError, "tol == nan, must be finite"),
    "flatten rng str": (lambda: flatten_filters(CW, rng="x"), TypeError, "rng must be"),
    "reconstruct mismatch": (lambda: reconstruct_filters(np.ones((2, 1, 3)), np.ones((3, 1, 3)), np.ones((2, 1, 3))),
                             ValueError, "must share their first two sizes"),
    "rank1 2-D": (lambda: rank1_filter(np.ones((2, 2)), [1.0], [1.0]), ValueError, "z has 2 dimension(s)"),
    "flattened_params rank 0": (lambda: flattened_params(3, 8, 3, 3, 0), ValueError, "rank == 0"),
    "conv_macs str": (lambda: conv_macs(3, 8, 3, 3, 4, "4"), TypeError, "out_w must be an int"),
    # tt: shapes, ranks, dtypes, tolerances
    "tt_params int shape": (lambda: tt_params(64, 3), TypeError, "shape must be a list or tuple of ints",
                            "write (64,) for one mode"),
    "tt_params str shape": (lambda: tt_params("88", 3), TypeError, "shape must be a list or tuple of ints"),
    "tt_params empty shape": (lambda: tt_params((), 3), ValueError, "shape is empty"),
    "tt_params ranks float": (lambda: tt_params((8, 8), 2.5), TypeError, "ranks must be an int or a list"),
    "tt_params ranks length": (lambda: tt_params((8, 8), [1, 2]), ValueError, "ranks has 2 entries"),
    "check_tt_ranks int shape": (lambda: check_tt_ranks(3, 5), TypeError, "shape must be a list or tuple"),
    "random_tt int shape": (lambda: random_tt(6, 2), TypeError, "shape must be a list or tuple of ints"),
    "random_tt zero mode": (lambda: random_tt((2, 0), 2), ValueError, "shape[1] == 0, must be >= 1"),
    "random_tt int64": (lambda: random_tt((2, 3), 2, dtype=np.int64), ValueError,
                        "dtype == int64, must be a floating-point dtype"),
    "random_tt bogus dtype": (lambda: random_tt((2, 3), 2, dtype="banana"), TypeError, "dtype must be a NumPy"),
    "delta_rank NaN": (lambda: delta_rank(S, NAN), ValueError, "delta == nan, must be finite"),
    "delta_rank negative": (lambda: delta_rank(S, -1.0), ValueError, "delta == -1.0, must be >= 0"),
    "delta_rank str": (lambda: delta_rank(S, "1"), TypeError, "delta must be a real number"),
    "delta_rank unsorted": (lambda: delta_rank([1.0, 3.0], 0.5), ValueError, "singular_values must be >= 0"),
    "tt_svd no rule": (lambda: tt_svd(T), ValueError, "give exactly one of rank"),
    "tt_svd eps percent": (lambda: tt_svd(T, eps=10), ValueError, "eps == 10.0", "[0, 1)"),
    "tt_svd eps NaN": (lambda: tt_svd(T, eps=NAN), ValueError, "eps == nan"),
    "tt_svd rank bool": (lambda: tt_svd(T, True), TypeError, "rank must be an int"),
    "tt_svd str": (lambda: tt_svd("abc", 2), TypeError, "tensor must be an array of real numbers"),
    "tt_round eps 2": (lambda: tt_round(TRAIN.cores, eps=2), ValueError, "eps == 2.0"),
    "tt_entry int index": (lambda: tt_entry(TRAIN.cores, 5), TypeError, "index must be a tuple of 3 ints"),
    "tt_entry short index": (lambda: tt_entry(TRAIN.cores, (0, 0)), ValueError, "index == (0, 0)"),
    "tt_entry out of range": (lambda: tt_entry(TRAIN.cores, (0, 9, 0)), ValueError, "index[1] == 9, must be <= 3"),
    "check_cores ndarray": (lambda: check_cores(np.ones((1, 2, 1))), TypeError, "cores must be a list or tuple"),
    "check_cores bad ndim": (lambda: check_cores([np.ones((1, 2, 1))], ndim="3"), ValueError, "ndim == '3'"),
    "tt_reconstruct chain": (lambda: tt_reconstruct([np.ones((1, 2, 3)), np.ones((2, 2, 1))]), ValueError,
                             "ranks must chain"),
    "tt_reconstruct complex": (lambda: tt_reconstruct([np.ones((1, 2, 1), complex)]), TypeError,
                               "cores[0] must be an array of real numbers"),
    # ttmatrix
    "check_modes int": (lambda: check_modes(8, (2, 4)), TypeError, "in_modes must be a list or tuple of ints"),
    "check_modes dict": (lambda: check_modes({2: 1, 4: 1}, (2, 4)), TypeError, "in_modes must be a list"),
    "check_modes in_features str": (lambda: check_modes((2, 4), (2, 4), "8"), TypeError,
                                    "in_features must be an int or None"),
    "check_modes in_features float": (lambda: check_modes((2, 4), (2, 4), 8.5), TypeError, "in_features must be"),
    "tt_matrix prod": (lambda: tt_matrix(W8, (2, 2), (2, 4), 2), ValueError, "prod(in_modes) == 4"),
    "random_tt_matrix std NaN": (lambda: random_tt_matrix((2, 4), (2, 4), 2, std=NAN), ValueError, "std == nan"),
    "random_tt_matrix int64": (lambda: random_tt_matrix((2, 4), (2, 4), 2, std=0.1, dtype=np.int64), ValueError,
                               "dtype == int64, must be a floating-point dtype"),
    "tt_matmul x 1-D": (lambda: tt_matmul(TM.cores, X8[0]), ValueError, "x has 1 dimension(s)"),
    "tt_matmul x str": (lambda: tt_matmul(TM.cores, "abc"), TypeError, "x must be an array of real numbers"),
    "backward cache str": (lambda: tt_matmul_backward(TM.cores, "abc", Y8), TypeError, "cache must be the list"),
    "backward cache items": (lambda: tt_matmul_backward(TM.cores, ["a", "b"], Y8), TypeError,
                             "cache[0] must be an array of real numbers"),
    "backward cache columns": (lambda: tt_matmul_backward(TM.cores, [c[:, :1] for c in CACHE], Y8), ValueError,
                               "cache[0] has 1 columns"),
    "einsum optimize": (lambda: tt_matmul_einsum(TM.cores, X8, optimize="banana"), ValueError,
                        "optimize == 'banana', must be one of 'greedy', 'optimal'"),
    "einsum optimize int": (lambda: tt_matmul_einsum(TM.cores, X8, optimize=1), TypeError,
                            "optimize must be True or False"),
    "macs batch float": (lambda: tt_matmul_macs((2, 4), (2, 4), 2, 1.5), TypeError, "batch must be an int"),
    "mode_spread int": (lambda: mode_spread(5), TypeError, "modes must be a list or tuple of ints"),
    # benchmarks' helpers
    "randomized_methods seed": (lambda: svd_references.randomized_methods(2, 1, 1, seed="a"), TypeError,
                                "seed must be an int"),
    "error_ratio u shape": (lambda: svd_references.error_ratio(W, np.ones((2, 2)), S[:2], np.ones((2, 5)), S),
                            ValueError, "u has shape (2, 2), must be (6, 2)"),
    "error_ratio vt str": (lambda: svd_references.error_ratio(W, np.ones((6, 2)), S[:2], "abc", S), TypeError,
                           "vt must be an array of real numbers"),
    "error_ratio short spectrum": (lambda: svd_references.error_ratio(W, np.ones((6, 2)), S[:2], np.ones((2, 5)),
                                                                     [1.0]), ValueError, "spectrum has 1 values"),
    "randomized_vs_references q int": (lambda: svd_references.randomized_vs_references(W, 2, power_iterations=2),
                                       TypeError, "power_iterations must be a list or tuple of ints"),
    "randomized_vs_references exact": (lambda: svd_references.randomized_vs_references(W, 2, exact="abc"), TypeError,
                                       "exact must be None or a pair"),
    "randomized_vs_references threads": (lambda: svd_references.randomized_vs_references(W, 2, threads=0), ValueError,
                                         "threads == 0, must be >= 1"),
    "trained_like_matrix shape int": (lambda: svd_references.trained_like_matrix(S, 4096), TypeError,
                                      "shape must be a list or tuple of ints"),
    "trained_like_matrix 3 sizes": (lambda: svd_references.trained_like_matrix(S, (4, 4, 4)), ValueError,
                                    "must be two ints"),
    "smooth_tensor n": (lambda: tt_references.smooth_tensor(1), ValueError, "n == 1, must be >= 2"),
    "tt_svd_vs_tensorly str": (lambda: tt_references.tt_svd_vs_tensorly("abc", 2), TypeError,
                               "tensor must be an array of real numbers"),
    "tt_svd_vs_tensorly repeats": (lambda: tt_references.tt_svd_vs_tensorly(T, 2, repeats=0), ValueError,
                                   "repeats == 0, must be >= 1"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_names_the_parameter_and_the_rule(case):
    call, exc, *fragments = CASES[case]
    check(call, exc, *fragments)


@pytest.mark.parametrize("fn", [tt_reconstruct, tt_norm, tt_ranks, lambda c: tt_round(c, 1),
                                lambda c: tt_entry(c, (0, 0, 0))])
def test_a_tensor_train_where_its_cores_go_says_pass_its_cores(fn):
    check(lambda: fn(TRAIN), TypeError, "cores must be a list or tuple of arrays, got a TensorTrain: pass its .cores")


@pytest.mark.parametrize("fn", [tt_matrix_dense, lambda c: tt_matmul(c, X8), lambda c: tt_matmul_einsum(c, X8),
                                lambda c: tt_matmul_backward(c, CACHE, Y8)])
def test_a_tt_matrix_where_its_cores_go_says_pass_its_cores(fn):
    check(lambda: fn(TM), TypeError, "got a TTMatrix: pass its .cores")


def test_valid_calls_still_work_after_the_checks():
    assert tt_params((64,), 3) == 64 and tt_params(np.array([8, 8]), 2) == 32
    assert random_tt((2, 3), 2, dtype="float32").cores[0].dtype == np.float32
    assert delta_rank(S, 0.0) == 3 and delta_rank(S, 10.0) == 1
    assert tt_entry(TRAIN.cores, np.array([0, 1, 2])) == pytest.approx(TRAIN.reconstruct()[0, 1, 2])
    assert matrix_with_spectrum(S, (4, 3), rng=0, dtype=np.float64).dtype == np.float64
    assert tt_matmul_einsum(TM.cores, X8, optimize="greedy").shape == (3, 8)
