"""Notebook 06's exercises: a reference solution passes, the usual wrong answers fail."""

import numpy as np

import course_lib as cl


def rank_plan(n, m, compression):
    k = int(n * m // (compression * (n + m)))
    return k, k * (n + m)


def break_even(n, m):
    k = 0
    while (k + 1) * (n + m) < n * m:
        k += 1
    return k


def compare_compressions(weight, rank, sparsity):
    n, m = weight.shape
    norm = np.linalg.norm(weight)
    u, s, vt = np.linalg.svd(weight, full_matrices=False)
    svd_error = np.linalg.norm(weight - (u[:, :rank] * s[:rank]) @ vt[:rank]) / norm
    removed = int(round(sparsity * weight.size))
    order = np.argsort(np.abs(weight).ravel(), kind="stable")
    pruned = weight.ravel().copy()
    pruned[order[:removed]] = 0
    pruned = pruned.reshape(weight.shape)
    nnz = int(np.count_nonzero(pruned))

    def width(v):
        return next(b for b in (1, 2, 4, 8) if v < 2 ** (8 * b))

    csr = nnz * (4 + width(m - 1)) + (n + 1) * width(nnz)
    scale = np.abs(weight).max() / 127
    deq = np.clip(np.round(weight / scale), -128, 127) * scale
    return {"svd": (4 * rank * (n + m), svd_error), "pruned": (csr, np.linalg.norm(weight - pruned) / norm),
            "int8": (weight.size + 4, np.linalg.norm(weight - deq) / norm)}


def test_reference_solutions_pass():
    assert cl.check("06-rank-for-compression", rank_plan, quiet=True)
    assert cl.check("06-break-even", break_even, quiet=True)
    assert cl.check("06-seed-q3", compare_compressions, quiet=True)


def test_wrong_answers_fail(capsys):
    # rounding instead of flooring gives a rank that compresses less than asked
    assert not cl.check("06-rank-for-compression", lambda n, m, c: (round(n * m / (c * (n + m))),
                                                                      round(n * m / (c * (n + m))) * (n + m)),
                        quiet=True)
    # counting n m parameters per factor, or forgetting one of the factors
    assert not cl.check("06-rank-for-compression", lambda n, m, c: (rank_plan(n, m, c)[0], rank_plan(n, m, c)[0] * n),
                        quiet=True)
    # <= instead of <: a rank that stores as many numbers as the dense matrix does not save
    assert not cl.check("06-break-even", lambda n, m: n * m // (n + m), quiet=True)
    assert not cl.check("06-break-even", lambda n, m: min(n, m) // 2, quiet=True)

    def csr_with_int32(weight, rank, sparsity):
        out = compare_compressions(weight, rank, sparsity)
        nnz = int(round((1 - sparsity) * weight.size))
        out["pruned"] = (nnz * 8 + (weight.shape[0] + 1) * 4, out["pruned"][1])
        return out

    def svd_bytes_as_params(weight, rank, sparsity):
        out = compare_compressions(weight, rank, sparsity)
        out["svd"] = (out["svd"][0] / 4, out["svd"][1])
        return out

    def error_not_relative(weight, rank, sparsity):
        out = compare_compressions(weight, rank, sparsity)
        out["int8"] = (out["int8"][0], out["int8"][1] * np.linalg.norm(weight))
        return out

    for wrong in (csr_with_int32, svd_bytes_as_params, error_not_relative):
        result = cl.check("06-seed-q3", wrong, quiet=True)
        assert not result and result.passed == 0, wrong.__name__
    result = cl.check("06-seed-q3", lambda w, r, s: [1, 2, 3])
    assert "must return a dict with the keys svd, pruned, int8" in capsys.readouterr().out


def test_feedback_hides_the_expected_values(capsys):
    cl.check("06-break-even", lambda n, m: 1)
    out = capsys.readouterr().out
    assert out.startswith("[06-break-even] not yet: 0/4 cases pass.")
    for secret in ("216", "2047"):
        assert secret not in out
