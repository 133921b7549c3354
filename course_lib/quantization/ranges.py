"""Choosing the range to quantize with: max-abs, a percentile, or the least squared error. Pure NumPy."""

from __future__ import annotations

import numpy as np

from .._validation import check_axis, check_bits, check_choice, check_float, check_float_values
from .grid import channel_rows, qrange, quantize_codes, scale_zero_point

__all__ = ["choose_range", "observed_range", "RANGE_METHODS"]

RANGE_METHODS = ("maxabs", "percentile", "mse")
_MSE_GRID = 100


def observed_range(rows, method, percentile, bits, symmetric):
    """Per-row clipping range ``(lo, hi)`` of a (channels, values) float64 array."""
    if method == "maxabs":
        if symmetric:
            a = np.abs(rows).max(axis=1)
            return -a, a
        return rows.min(axis=1), rows.max(axis=1)
    if method == "percentile":
        if symmetric:
            a = np.percentile(np.abs(rows), percentile, axis=1)
            return -a, a
        return np.percentile(rows, 100.0 - percentile, axis=1), np.percentile(rows, percentile, axis=1)
    # "mse": shrink the max-abs (or min/max) range by k/100, k = 100 .. 1, keep the best per row
    lo0, hi0 = observed_range(rows, "maxabs", percentile, bits, symmetric)
    lo0, hi0 = np.minimum(lo0, 0.0), np.maximum(hi0, 0.0)
    qmin, qmax = qrange(bits)
    best = np.full(rows.shape[0], np.inf)
    best_f = np.ones(rows.shape[0])
    for k in range(_MSE_GRID, 0, -1):  # largest first: ties keep the wider range
        f = k / _MSE_GRID
        scale, zp = scale_zero_point(f * lo0, f * hi0, bits, symmetric)
        scale, zp = scale[:, None], zp[:, None]
        err = np.mean((rows - (quantize_codes(rows, scale, zp, qmin, qmax, "nearest") - zp) * scale) ** 2, axis=1)
        better = err < best
        best[better], best_f[better] = err[better], f
    return best_f * lo0, best_f * hi0


def choose_range(x, *, method="maxabs", percentile=99.99, bits=8, axis=None):
    """The symmetric range ``a`` to quantize ``x`` with: values in ``[-a, a]`` are kept.

    Parameters
    ----------
    x : array_like of floats
        Weights or a batch of activations; finite, not empty.
    method : {"maxabs", "percentile", "mse"}, keyword-only
        ``"maxabs"``: ``max |x|`` (nothing is clipped); ``"percentile"``: the
        ``percentile``-th percentile of ``|x|`` (outliers are clipped); ``"mse"``: the
        fraction of max-abs that minimises the mean squared quantization error.
    percentile : float in (0, 100], keyword-only
        For ``"percentile"`` (``np.percentile``, linear interpolation); 100 is max-abs.
    bits : int, keyword-only
        2 to 8; the code width ``"mse"`` evaluates the error for.
    axis : int or None, keyword-only
        ``None``: one range for the whole tensor; an axis: one per index along it
        (``axis=0``: per output channel of a weight matrix ``(out, in)``).

    Returns
    -------
    float, or ndarray of float64 of shape ``(x.shape[axis],)``

    Raises
    ------
    TypeError
        If ``x`` is not floating-point, or an option has the wrong type.
    ValueError
        If ``x`` is empty or not finite, ``method`` is unknown, ``percentile`` is
        outside (0, 100] or a fraction (``<= 1``: 0.9999 for 99.99), ``bits`` outside 2..8, or
        ``axis`` out of range.

    Notes
    -----
    ``"mse"`` searches the grid ``a_k = (k / 100) max|x|``, ``k = 1 .. 100``:

    .. math:: a^* = \\arg\\min_{a_k} \\frac{1}{n}\\sum_i \\left(x_i - \\tilde x_i(a_k)\\right)^2,
              \\qquad s_k = \\frac{a_k}{2^{b-1} - 1}

    with ``\\tilde x`` the symmetric round-to-nearest :func:`fake_quantize`. A smaller
    range clips the outliers but makes the step finer for everything else; with few
    bits the optimum moves well below max-abs. Ties keep the larger range. An
    all-zero ``x`` (or channel) gives ``a = 0``: :func:`qparams` then uses the
    smallest scale ``eps`` (:func:`quantize_seed` needs ``a > 0``).

    References
    ----------
    .. [1] H. Wu et al., "Integer Quantization for Deep Learning Inference: Principles
       and Empirical Evaluation", arXiv:2004.09602, 2020 (max, percentile, MSE calibration).
    .. [2] Nagel et al., arXiv:2106.08295, sec. 3.1 (range setting).

    Examples
    --------
    >>> choose_range([[3.0, -0.5], [1.0, 2.0]])
    3.0
    >>> choose_range([[3.0, -0.5], [1.0, 2.0]], axis=0)
    array([3., 2.])
    """
    x = check_float_values("x", x).astype(np.float64)
    method = check_choice("method", method, RANGE_METHODS)
    percentile = check_float("percentile", percentile, low=0.0, high=100.0, low_open=True)
    if percentile <= 1.0:
        raise ValueError(f"percentile == {percentile}, must be a percentage in (1, 100], not a fraction "
                         f"(99.99 keeps all but the top 0.01%; {percentile} would clip almost everything).")
    bits = check_bits(bits)
    axis = check_axis(axis, x.ndim)
    _, hi = observed_range(channel_rows(x, axis), method, percentile, bits, True)
    return float(hi[0]) if axis is None else hi
