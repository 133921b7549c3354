"""The seed lecture's int8 scheme: ``floor(128 x / a)``, int32 products, ``a_w a_x / 16384``.

Values in ``[-a, a)`` become ``floor(128 x / a)`` in int8 (:func:`quantize_seed`), the
product accumulates in int32 (:func:`int8_matmul`), and the result is scaled back by
``a_w a_x / 16384`` (:func:`dequantize_product`); :func:`seed_matvec` does all three
and compares them with the float product. Pure NumPy.
"""

from __future__ import annotations

import numpy as np

from .._validation import check_float_values, check_int, check_int_array, check_positive_float

__all__ = ["quantize_seed", "dequantize_seed", "int8_matmul", "dequantize_product", "seed_matvec",
           "MAX_INT8_DOT_LENGTH", "accumulator_bits"]

#: Longest int8 dot product whose int32 sum cannot overflow: (2**31 - 1) // 128**2.
MAX_INT8_DOT_LENGTH = (2**31 - 1) // (128 * 128)  # 131071


def accumulator_bits(n_terms: int) -> int:
    """Bits of the narrowest signed integer that holds any sum of ``n_terms`` products of int8 codes.

    Each product obeys ``|q_w q_x| <= 128 * 128 = 2**14``, so the sum needs
    ``n 2**14 <= 2**(b-1) - 1``: the smallest such ``b``.

    Parameters
    ----------
    n_terms : int
        The dot-product length (a layer's number of inputs), ``>= 1``.

    Raises
    ------
    TypeError, ValueError
        If ``n_terms`` is not an int ``>= 1``.

    Examples
    --------
    >>> accumulator_bits(1), accumulator_bits(784), accumulator_bits(MAX_INT8_DOT_LENGTH)
    (16, 25, 32)
    """
    n_terms = check_int("n_terms", n_terms, minimum=1)
    return (n_terms * 2**14).bit_length() + 1


def quantize_seed(x, a) -> np.ndarray:
    """The seed lecture's int8 code of each value: ``floor(128 x / a)``, clipped to int8.

    Parameters
    ----------
    x : array_like of floats
        Any shape; finite, not empty. Integer arrays are rejected (they look like codes).
    a : float
        The range: values in ``[-a, a)`` are represented; finite and ``> 0``.

    Returns
    -------
    ndarray of int8, same shape as ``x``

    Raises
    ------
    TypeError
        If ``x`` is not floating-point (integer, bool, complex) or ``a`` is not a real number.
    ValueError
        If ``x`` is empty or holds NaN/inf, or ``a`` is ``<= 0``, NaN or infinite.

    Notes
    -----
    .. math:: q = \\operatorname{clip}\\left(\\left\\lfloor \\frac{128\\,x}{a} \\right\\rfloor, -128, 127\\right)

    The step is ``a / 128``, and for ``-a <= x < a`` the code is exact up to the
    floor: ``0 <= x - q a / 128 < a / 128`` (up to one rounding of the float
    division, about ``1e-16 a``). ``x = a`` would give 128, which int8 cannot hold:
    it is clipped to 127 (error exactly one step). Values outside ``[-a, a)`` are
    clipped too, to -128 or 127 -- their error grows without bound, which is why
    ``a`` is usually the max-abs of the data (:func:`choose_range`).

    References
    ----------
    .. [1] The seed lecture, "values in [-a; a) map to floor(128 x / a)".

    Examples
    --------
    >>> quantize_seed([[3.0, -0.5], [1.0, 2.0]], 3.0)
    array([[127, -22],
           [ 42,  85]], dtype=int8)
    """
    x = check_float_values("x", x).astype(np.float64)
    a = check_positive_float("a", a)
    return np.clip(np.floor(128.0 * x / a), -128, 127).astype(np.int8)


def dequantize_seed(q, a) -> np.ndarray:
    """The value of seed-lecture codes: ``q a / 128`` (float64).

    Parameters
    ----------
    q : array_like of integers
        Codes, e.g. from :func:`quantize_seed`; not empty.
    a : float
        The range they were quantized with; finite and ``> 0``.

    Returns
    -------
    ndarray of float64, same shape as ``q``

    Raises
    ------
    TypeError
        If ``q`` is not an integer array (floats, bools) or ``a`` is not a real number.
    ValueError
        If ``q`` is empty or holds a code outside int8 (``[-128, 127]``), or ``a`` is ``<= 0``,
        NaN or infinite.

    Notes
    -----
    .. math:: \\hat x = q \\cdot \\frac{a}{128}

    the lower end of the code's interval ``[q a / 128, (q + 1) a / 128)``.

    Examples
    --------
    >>> dequantize_seed([99, 63], 1.0)
    array([0.7734375, 0.4921875])
    """
    q = check_int_array("q", q, low=-128, high=127)
    a = check_positive_float("a", a)
    return q.astype(np.float64) * (a / 128.0)


def int8_matmul(w_q, x_q) -> np.ndarray:
    """Integer product of int8 codes, accumulated exactly in int32.

    Parameters
    ----------
    w_q : ndarray of int8, shape (out, in)
        The weight codes; ``1 <= in <= MAX_INT8_DOT_LENGTH`` (131071).
    x_q : ndarray of int8, shape (in,) or (in, batch)
        The input codes: a vector or one column per example.

    Returns
    -------
    ndarray of int32, shape (out,) or (out, batch)

    Raises
    ------
    TypeError
        If ``w_q`` or ``x_q`` is not an int8 array.
    ValueError
        If ``w_q`` is not 2-D or ``x_q`` not 1-D/2-D, either is empty, their inner
        dimensions differ, or ``in > 131071`` (the int32 sum could overflow).

    Notes
    -----
    .. math:: \\mathrm{acc}_i = \\sum_{j=1}^{n} w_{ij}\\, x_j \\quad \\text{in int32}

    Each product of two int8 codes has ``|w x| <= 128 * 128 = 2^14`` (reached only by
    ``(-128)(-128)``), so a sum of ``n`` of them stays within int32 when
    ``n 2^14 <= 2^31 - 1``, that is ``n <= 131071 = 2^17 - 1``. (The round figure
    ``2^31 / 2^14 = 131072`` is one too many: 131072 products of ``(-128)(-128)`` sum to
    exactly ``2^31``, one more than the largest int32.) Longer rows are refused
    rather than left to wrap around silently.

    The codes are cast to int32 *before* the product: an int8 product would
    overflow at once. NumPy has no int8 (or any integer) BLAS -- integer ``matmul``
    is a plain loop -- so this is the correctness reference, not a fast path; real
    int8 kernels (fbgemm, oneDNN, cuBLASLt) multiply int8 pairs and accumulate in
    int32 in hardware.

    References
    ----------
    .. [1] Jacob et al., CVPR 2018, sec. 2.3 (int32 accumulators).

    Examples
    --------
    >>> int8_matmul(np.array([[-24, -38], [63, 28]], dtype=np.int8), np.array([99, 63], dtype=np.int8))
    array([-4770,  8001], dtype=int32)
    """
    w_q = check_int_array("w_q", w_q, ndim=2, dtype=np.int8)
    x_q = check_int_array("x_q", x_q, ndim=(1, 2), dtype=np.int8)
    if w_q.shape[1] != x_q.shape[0]:
        raise ValueError(f"w_q of shape {w_q.shape} and x_q of shape {x_q.shape} do not match: "
                         f"w_q.shape[1] == {w_q.shape[1]}, must equal x_q.shape[0] == {x_q.shape[0]}.")
    if w_q.shape[1] > MAX_INT8_DOT_LENGTH:
        raise ValueError(f"in == {w_q.shape[1]} (w_q.shape[1]), must be <= {MAX_INT8_DOT_LENGTH} "
                         f"so that the int32 sum cannot overflow.")
    return np.matmul(w_q.astype(np.int32), x_q.astype(np.int32))


def dequantize_product(acc, a_w, a_x) -> np.ndarray:
    """Scale an int32 accumulator of seed-lecture codes back to floats: ``acc a_w a_x / 16384``.

    Parameters
    ----------
    acc : array_like of integers
        From :func:`int8_matmul`; not empty.
    a_w, a_x : float
        The ranges the weights and the inputs were quantized with; finite and ``> 0``.

    Returns
    -------
    ndarray of float64, same shape as ``acc``

    Raises
    ------
    TypeError
        If ``acc`` is not an integer array or a range is not a real number.
    ValueError
        If ``acc`` is empty or holds a value outside int32 (no int8 product sums to it), or a
        range is ``<= 0``, NaN or infinite.

    Notes
    -----
    With ``w = q_w a_w / 128`` and ``x = q_x a_x / 128``,

    .. math:: \\sum_j w_{ij} x_j \\approx \\frac{a_w}{128}\\frac{a_x}{128}\\sum_j q_{w,ij}\\, q_{x,j}
              = \\mathrm{acc}_i\\,\\frac{a_w a_x}{16384}

    so one float multiplication per output undoes both scales (the seed lecture's
    ``x a / 16384`` is the case ``a_w = a_x = 1``, ``a = a_w a_x``).

    Examples
    --------
    >>> dequantize_product(np.array([-4770, 8001]), 1.0, 1.0)
    array([-0.2911377 ,  0.48834229])
    """
    acc = check_int_array("acc", acc, low=-(2**31), high=2**31 - 1)
    a_w = check_positive_float("a_w", a_w)
    a_x = check_positive_float("a_x", a_x)
    return acc.astype(np.float64) * (a_w * a_x / 16384.0)


def seed_matvec(w, x, *, a_w=1.0, a_x=1.0) -> dict:
    """The seed lecture's whole int8 pipeline for ``y = W x``, with every intermediate value.

    Parameters
    ----------
    w : array_like of floats, shape (out, in)
    x : array_like of floats, shape (in,) or (in, batch)
    a_w, a_x : float, keyword-only
        Ranges of ``w`` and ``x`` (default 1, as in the lecture); finite and ``> 0``.

    Returns
    -------
    dict
        ``w_q``, ``x_q`` (int8 codes, :func:`quantize_seed`), ``acc`` (int32,
        :func:`int8_matmul`), ``y`` (:func:`dequantize_product`), ``y_float`` (the
        float64 product ``W x``), ``error = y - y_float`` and ``error_bound`` (below).

    Raises
    ------
    TypeError, ValueError
        As for the functions above; also when ``w`` and ``x`` do not match in shape.

    Notes
    -----
    With ``w = \\hat w + \\varepsilon_w``, ``x = \\hat x + \\varepsilon_x`` and
    ``0 <= \\varepsilon < s`` (steps ``s_w = a_w / 128``, ``s_x = a_x / 128``),
    ``w x - \\hat w \\hat x = w \\varepsilon_x + x \\varepsilon_w - \\varepsilon_w \\varepsilon_x``, so

    .. math:: |y_i - y^{\\text{float}}_i| \\le \\sum_j \\left(|w_{ij}|\\, s_x + |x_j|\\, s_w + s_w s_x\\right)
              = \\texttt{error\\_bound}_i

    The bound holds when ``|w| <= a_w`` and ``|x| <= a_x``; values outside the
    ranges are clipped and their error is unbounded. The integer part (``acc``) is
    exact: the only errors are the two floors.

    References
    ----------
    .. [1] The seed lecture's 2x2 example (its slide prints 4770 for -4770).

    Examples
    --------
    >>> r = seed_matvec([[-0.18120981, -0.29043840], [0.49722983, 0.22141714]], [0.77412377, 0.49299395])
    >>> r["acc"]
    array([-4770,  8001], dtype=int32)
    """
    w = check_float_values("w", w, ndim=2).astype(np.float64)
    x = check_float_values("x", x, ndim=(1, 2)).astype(np.float64)
    if w.shape[1] != x.shape[0]:
        raise ValueError(f"w of shape {w.shape} and x of shape {x.shape} do not match: "
                         f"w.shape[1] == {w.shape[1]}, must equal x.shape[0] == {x.shape[0]}.")
    a_w = check_positive_float("a_w", a_w)
    a_x = check_positive_float("a_x", a_x)
    w_q, x_q = quantize_seed(w, a_w), quantize_seed(x, a_x)
    acc = int8_matmul(w_q, x_q)
    y = dequantize_product(acc, a_w, a_x)
    y_float = w @ x
    s_w, s_x = a_w / 128.0, a_x / 128.0
    row = np.abs(w).sum(axis=1)
    col = np.abs(x).sum(axis=0)
    bound = (row[:, None] if x.ndim == 2 else row) * s_x + col * s_w + w.shape[1] * s_w * s_x
    return {"w_q": w_q, "x_q": x_q, "acc": acc, "y": y, "y_float": y_float,
            "error": y - y_float, "error_bound": bound}
