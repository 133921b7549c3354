"""GPTQ (Frantar et al. 2022, Algorithm 1): quantize a Linear weight column by column, feeding each error forward.

The layer's squared output error on calibration inputs ``X`` (n, in) is, row by row,
``(w - q) H (w - q)^T / 2`` with ``H = 2 X^T X / n``. Optimal Brain Quantization quantizes one input
column ``j`` at a time and moves the still-unquantized columns ``F`` to compensate:
``w_F -= (w_j - q_j) / [H_F^{-1}]_{jj} * [H_F^{-1}]_{j,F}``, then drops ``j`` from ``F`` (the inverse
shrinks by one step of Gaussian elimination, eq. 3). GPTQ quantizes the columns in a fixed order for
all rows at once; the rows of the eliminated inverses are then the rows of the upper Cholesky factor
``U`` of ``H^{-1}`` (``H^{-1} = U^T U``), up to a factor ``U_jj``, so one factorization replaces every
update of the inverse. Lazy batches: the updates stay inside a block of ``block_size`` columns, and
the columns after the block receive the block's errors at once (one matrix product).

Details follow the reference implementation (IST-DASLab/gptq, ``GPTQ.fasterquant``): dead inputs
(``H_jj = 0``) get ``H_jj = 1`` and a zero weight column; damping adds ``percdamp * mean(diag H)``
to the diagonal; a group's scale and zero point are computed when the group starts, from the group's
columns as they stand then (``static_groups=False``); ``act_order`` quantizes the columns by decreasing
``H_jj`` (stable order for ties) and forms the groups in that order.

Two deliberate differences. First, the reference reads a group that starts inside a block from the weight
matrix *without* the block's own pending updates. Here the group's columns include every update so far
(those inside the block and those waiting for the block's end), so any ``block_size`` gives the
unblocked result up to float rounding (tested). With ``group_size`` a multiple of ``block_size`` (each
group starting a block, e.g. 128 and 128) both read the same columns. Second, per-channel
(``group_size = in``), the one group starts at column 0: its scales come from the weight with the dead
columns already zeroed (the reference takes them from the weight as given).

Scales and codes are those of :mod:`course_lib.llmquant.groupwise` (the course's grid formula, scales
rounded up to ``scale_dtype``), not the reference quantizer's (whose symmetric grid has the zero point
``2^{b-1}`` and ``2^b`` levels).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._validation import check_bits, check_bool, check_choice, check_float, check_float_array, check_int
from .groupwise import SCALE_DTYPES, check_group_size, group_params, quantize_groups

__all__ = ["GPTQResult", "gptq_hessian", "gptq_quantize"]


class GPTQResult(NamedTuple):
    """GPTQ's quantized weight, in the original column order.

    ``codes`` int16 (out, in); ``scales`` (out, n_groups) of the storage dtype and ``zero_points`` int16
    (out, n_groups), group ``k`` being the ``k``-th group *quantized* (in ``act_order`` order);
    ``group_index`` int64 (in,), the group of each column; ``dequantized`` float64 (out, in), equal to
    :func:`~course_lib.llmquant.groupwise.dequantize_groups` of the codes; ``permutation`` int64 (in,),
    the order the columns were quantized in; ``bits``, ``group_size``, ``symmetric``.
    """

    codes: np.ndarray
    scales: np.ndarray
    zero_points: np.ndarray
    group_index: np.ndarray
    dequantized: np.ndarray
    permutation: np.ndarray
    bits: int
    group_size: int
    symmetric: bool


def gptq_hessian(inputs) -> np.ndarray:
    """``H = 2 X^T X / n`` of the calibration inputs ``X`` (n, in), float64 (in, in).

    The Hessian of the layer's mean squared output error ``||W X^T - Q X^T||^2 / n`` with respect to a
    row of the weight (the reference accumulates the same mean batch by batch).
    """
    x = check_float_array("inputs", inputs, ndim=2).astype(np.float64)
    return 2.0 * (x.T @ x) / len(x)


def _inverse_cholesky(h: np.ndarray) -> np.ndarray:
    """The upper Cholesky factor ``U`` of ``h^{-1}`` (``h^{-1} = U^T U``)."""
    try:
        lower = np.linalg.cholesky(h)
        lower_inv = np.linalg.inv(lower)
        h_inv = lower_inv.T @ lower_inv
        return np.linalg.cholesky((h_inv + h_inv.T) / 2).T
    except np.linalg.LinAlgError:
        raise ValueError("the damped Hessian 2 X^T X / n + percdamp * mean(diag) * I is not positive definite "
                         "numerically, must be: raise percdamp or give more calibration inputs.") from None


def gptq_quantize(weight, inputs, bits: int = 4, group_size: int | None = 128, *, symmetric: bool = True,
                  act_order: bool = False, percdamp: float = 0.01, block_size: int = 128,
                  scale_dtype: str = "float16") -> GPTQResult:
    """GPTQ quantization of ``weight`` (out, in) on calibration ``inputs`` (n, in).

    Parameters
    ----------
    weight : 2-D float array (out, in)
        A Linear layer's weight (``y = W x``).
    inputs : 2-D float array (n, in)
        Calibration inputs of the layer, one row per token or image.
    bits : int
        Code width, 2..8.
    group_size : int or None
        Columns per group, dividing ``in``; None: one group per row (per-channel).
    symmetric : bool, keyword-only
        The code range of :mod:`course_lib.llmquant.groupwise`.
    act_order : bool, keyword-only
        Quantize the columns by decreasing ``diag(H)`` (the reference's ``--act-order``); the result is
        permuted back, and ``group_index`` says which group each column belongs to.
    percdamp : float, keyword-only
        Damping ``λ = percdamp * mean(diag(H))`` added to ``diag(H)``; >= 0.
    block_size : int, keyword-only
        Columns per lazy batch (the paper's ``B = 128``); any value gives the same result up to rounding.
    scale_dtype : {"float16", "float32", "float64"}, keyword-only
        The scales' storage dtype.

    Returns
    -------
    GPTQResult

    Notes
    -----
    With ``act_order`` and groups the group of a column is not ``j // group_size``: a real checkpoint
    stores ``group_index`` too (AutoGPTQ's ``g_idx``, int32 per input column), which
    :func:`~course_lib.llmquant.groupwise.stored_bytes` does not count.
    """
    w = check_float_array("weight", weight, ndim=2).astype(np.float64)
    x = check_float_array("inputs", inputs, ndim=2)
    if x.shape[1] != w.shape[1]:
        raise ValueError(f"inputs has {x.shape[1]} columns, must have weight's {w.shape[1]} input features.")
    bits = check_bits(bits)
    columns = w.shape[1]
    group_size = check_group_size(group_size, columns)
    symmetric = check_bool("symmetric", symmetric)
    act_order = check_bool("act_order", act_order)
    percdamp = check_float("percdamp", percdamp, low=0.0)
    block_size = check_int("block_size", block_size, minimum=1)
    scale_dtype = check_choice("scale_dtype", scale_dtype, SCALE_DTYPES)

    h = gptq_hessian(x)
    dead = np.diag(h) == 0
    h[dead, dead] = 1.0
    w[:, dead] = 0.0
    perm = np.argsort(-np.diag(h), kind="stable") if act_order else np.arange(columns)
    w, h = w[:, perm], h[np.ix_(perm, perm)]
    h[np.diag_indices(columns)] += percdamp * np.mean(np.diag(h))
    u = _inverse_cholesky(h)

    out = w.shape[0]
    codes = np.zeros((out, columns), dtype=np.int16)
    deq = np.zeros((out, columns))
    scales, zeros = [], []
    for i1 in range(0, columns, block_size):
        i2 = min(i1 + block_size, columns)
        w1 = w[:, i1:i2].copy()
        err1 = np.zeros_like(w1)
        for i in range(i2 - i1):
            j = i1 + i
            if j % group_size == 0:
                end = j + group_size
                current = w1[:, i:end - i1]
                if end > i2:  # the group reaches past the block: add the block's pending updates
                    later = w[:, i2:end] - err1[:, :i] @ u[i1:j, i2:end]
                    current = np.hstack([current, later])
                scale, zero = group_params(current, bits, symmetric, scale_dtype)
                scales.append(scale)
                zeros.append(zero)
            q = quantize_groups(w1[:, i:i + 1], scale, zero, bits, symmetric)[:, 0]
            codes[:, j] = q
            deq[:, j] = (q.astype(np.int64) - zero) * scale.astype(np.float64)
            err = (w1[:, i] - deq[:, j]) / u[j, j]
            w1[:, i:] -= np.outer(err, u[j, j:i2])
            err1[:, i] = err
        w[:, i2:] -= err1 @ u[i1:i2, i2:]

    inverse = np.argsort(perm)
    group_index = (np.arange(columns) // group_size)[inverse]
    return GPTQResult(codes[:, inverse], np.stack(scales, axis=1), np.stack(zeros, axis=1), group_index,
                      deq[:, inverse], perm, bits, group_size, symmetric)
