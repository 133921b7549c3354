"""Activation-aware scaling: SmoothQuant's outlier migration (W8A8) and AWQ's scale search (weight-only).

Both rest on one identity of a Linear layer ``Y = X W^T`` (``X`` (n, in), ``W`` (out, in)): for any
positive per-input-channel scales ``s``, ``(X diag(s)^{-1}) (W diag(s))^T = X W^T``. The scales move
difficulty between activations and weights without changing the float output:

* SmoothQuant (Xiao et al. 2022): a few input channels carry activation outliers that ruin a per-tensor
  activation scale; ``s_j = max|X_j|^α / max|W_{:,j}|^{1-α}`` divides them down and multiplies the
  matching weight columns up, so both sides quantize to 8 bits with a small error (:func:`w8a8_output`);
* AWQ (Lin et al. 2023): the weight columns of the salient channels (large mean ``|X_j|``) are scaled up
  before group-wise weight quantization, so their relative rounding error shrinks; ``s = mean|X_j|^α``
  with ``α`` chosen on a grid to minimize the layer's output error (:func:`awq_search`).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._validation import check_bits, check_bool, check_choice, check_float, check_float_array, check_int
from ..quantization.grid import qrange, quantize_codes, scale_zero_point
from .groupwise import SCALE_DTYPES, check_group_size, rtn_dequantized

__all__ = ["ActivationStats", "AWQResult", "activation_stats", "smoothquant_scales", "apply_scales",
           "w8a8_output", "relative_error", "awq_search"]

#: AWQ's floor on a channel's scale before normalization (the reference's ``clamp(min=1e-4)``)
AWQ_MIN_SCALE = 1e-4


class ActivationStats(NamedTuple):
    """Per input channel ``max_abs`` and ``mean_abs`` (in,); ``outlier_ratio`` = max / median of ``max_abs``."""

    max_abs: np.ndarray
    mean_abs: np.ndarray
    outlier_ratio: float


class AWQResult(NamedTuple):
    """AWQ's chosen ``alpha`` and ``scales`` (in,), ``alphas`` and ``errors`` of the grid (relative output
    errors, :func:`relative_error`), and ``dequantized`` (out, in) = ``Q(W diag(s)) diag(s)^{-1}``, the
    effective weight (a real deployment folds ``1/s`` into the previous layer instead)."""

    alpha: float
    scales: np.ndarray
    alphas: np.ndarray
    errors: np.ndarray
    dequantized: np.ndarray


def _check_pair(inputs, weight) -> tuple[np.ndarray, np.ndarray]:
    x = check_float_array("inputs", inputs, ndim=2).astype(np.float64)
    w = check_float_array("weight", weight, ndim=2).astype(np.float64)
    if x.shape[1] != w.shape[1]:
        raise ValueError(f"inputs has {x.shape[1]} columns, must have weight's {w.shape[1]} input features.")
    return x, w


def activation_stats(inputs) -> ActivationStats:
    """Per-input-channel ``max|x|`` and ``mean|x|`` of ``inputs`` (n, in), and the outlier ratio.

    The ratio is ``max_j max|X_j| / median_j max|X_j|`` (1 for channels of equal range; large
    language models show ratios of 100 and more, SmoothQuant's Fig. 4). A zero median gives ``inf``.

    Examples
    --------
    >>> activation_stats([[1.0, -2.0, 40.0], [0.5, 1.0, -10.0]]).outlier_ratio
    20.0
    """
    x = np.abs(check_float_array("inputs", inputs, ndim=2).astype(np.float64))
    max_abs = x.max(axis=0)
    median = float(np.median(max_abs))
    ratio = float(max_abs.max() / median) if median > 0 else float("inf")
    return ActivationStats(max_abs, x.mean(axis=0), ratio)


def smoothquant_scales(inputs, weight, alpha: float = 0.5) -> np.ndarray:
    """SmoothQuant's migration scales ``s_j = max|X_j|^α / max|W_{:,j}|^{1-α}`` (in,), float64.

    A channel whose activations or weights are all zero gets ``s_j = 1`` (nothing to migrate).

    Parameters
    ----------
    inputs : 2-D float array (n, in)
    weight : 2-D float array (out, in)
    alpha : float
        Migration strength in [0, 1]: 0 leaves the activations alone, 1 moves all their range into the weights.
    """
    x, w = _check_pair(inputs, weight)
    alpha = check_float("alpha", alpha, low=0.0, high=1.0)
    a, b = np.abs(x).max(axis=0), np.abs(w).max(axis=0)
    ok = (a > 0) & (b > 0)
    s = np.ones(len(a))
    s[ok] = a[ok] ** alpha / b[ok] ** (1.0 - alpha)
    return s


def apply_scales(inputs, weight, scales) -> tuple[np.ndarray, np.ndarray]:
    """``(X diag(s)^{-1}, W diag(s))``: the same layer output ``X W^T``, float64.

    Parameters
    ----------
    inputs : 2-D float array (n, in)
    weight : 2-D float array (out, in)
    scales : 1-D float array (in,), each > 0
    """
    x, w = _check_pair(inputs, weight)
    s = check_float_array("scales", scales, ndim=1).astype(np.float64)
    if s.shape != (x.shape[1],):
        raise ValueError(f"scales has shape {s.shape}, must be ({x.shape[1]},): one per input channel.")
    if np.any(s <= 0):
        raise ValueError(f"scales holds {int(np.count_nonzero(s <= 0))} value(s) <= 0, must be > 0.")
    return x / s, w * s


def _fake(x: np.ndarray, bits: int, axis: int | None) -> np.ndarray:
    """Symmetric fake quantization, one scale per tensor (axis None) or per row (axis 0)."""
    qmin, qmax = qrange(bits)
    rows = x.reshape(1, -1) if axis is None else x
    bound = np.abs(rows).max(axis=1)
    scale, _ = scale_zero_point(-bound, bound, bits, True)
    return (quantize_codes(rows, scale[:, None], 0, -qmax, qmax, "nearest") * scale[:, None]).reshape(x.shape)


def w8a8_output(inputs, weight, *, alpha: float | None = None, bits: int = 8) -> np.ndarray:
    """The layer's output ``Q(X') Q(W')^T`` with both sides quantized to ``bits`` (n, out), float64.

    Activations: symmetric, one scale for the whole tensor (``max|X|``); weights: symmetric, one scale per
    output channel (the course's grid). ``alpha`` None: ``X' = X``, ``W' = W``; else SmoothQuant first,
    ``(X', W') = apply_scales(X, W, smoothquant_scales(X, W, alpha))``.
    """
    x, w = _check_pair(inputs, weight)
    if alpha is not None:
        x, w = apply_scales(x, w, smoothquant_scales(x, w, alpha))
    bits = check_bits(bits)
    return _fake(x, bits, None) @ _fake(w, bits, 0).T


def relative_error(output, reference) -> float:
    """``||output - reference||_F / ||reference||_F`` (``reference`` must not be all zeros)."""
    y = check_float_array("output", output).astype(np.float64)
    ref = check_float_array("reference", reference).astype(np.float64)
    if y.shape != ref.shape:
        raise ValueError(f"output has shape {y.shape}, must have reference's shape {ref.shape}.")
    norm = float(np.linalg.norm(ref))
    if norm == 0:
        raise ValueError("reference is all zeros, must have a nonzero norm.")
    return float(np.linalg.norm(y - ref)) / norm


def awq_search(weight, inputs, bits: int = 4, group_size: int | None = 128, *, n_grid: int = 20,
               symmetric: bool = False, scale_dtype: str = "float16") -> AWQResult:
    """AWQ's activation-aware scale search for group-wise round-to-nearest weight quantization.

    For ``α = k / n_grid``, ``k = 0 .. n_grid-1``: ``s = max(mean|X_j|, 1e-4)^α``, normalized by
    ``sqrt(max(s) min(s))`` as the reference does; the error of ``α`` is
    ``||(X/s) Q(W diag(s))^T - X W^T||_F / ||X W^T||_F`` with ``Q`` the group-wise RTN of
    :func:`~course_lib.llmquant.groupwise.rtn_dequantized`. The first ``α`` of least error wins.
    ``α = 0`` gives ``s = 1``, plain RTN: the chosen error is never above RTN's.

    Parameters
    ----------
    weight : 2-D float array (out, in)
    inputs : 2-D float array (n, in)
        Calibration inputs (their ``X W^T`` must not be all zeros).
    bits : int
        Code width, 2..8.
    group_size : int or None
        Columns per group, dividing ``in``; None: per-channel.
    n_grid : int, keyword-only
        Grid points in ``[0, 1)`` (the reference's 20).
    symmetric : bool, keyword-only
        AWQ's format is asymmetric (zero points): the default.
    scale_dtype : {"float16", "float32", "float64"}, keyword-only
        The scales' storage dtype.

    Returns
    -------
    AWQResult
    """
    x, w = _check_pair(inputs, weight)
    bits = check_bits(bits)
    group_size = check_group_size(group_size, w.shape[1])
    n_grid = check_int("n_grid", n_grid, minimum=1)
    symmetric = check_bool("symmetric", symmetric)
    scale_dtype = check_choice("scale_dtype", scale_dtype, SCALE_DTYPES)
    reference = x @ w.T
    if not np.any(reference):
        raise ValueError("inputs @ weight.T is all zeros, must have a nonzero norm (nothing to calibrate on).")
    mean_abs = np.maximum(np.abs(x).mean(axis=0), AWQ_MIN_SCALE)
    alphas = np.arange(n_grid) / n_grid
    errors, best = [], None
    for alpha in alphas:
        s = mean_abs ** alpha
        s = s / np.sqrt(s.max() * s.min())
        deq = rtn_dequantized(w * s, bits, group_size, symmetric=symmetric, scale_dtype=scale_dtype)
        errors.append(relative_error((x / s) @ deq.T, reference))
        if best is None or errors[-1] < best[0]:  # strictly less: the first alpha of least error wins
            best = (errors[-1], float(alpha), s, deq / s)
    return AWQResult(best[1], best[2], alphas, np.array(errors), best[3])
