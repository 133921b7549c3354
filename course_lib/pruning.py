"""Weight pruning from scratch: masks, sparse storage, sparse products and schedules.

Pruning removes synapses -- individual weights -- by setting them to zero. The
mask is computed first (``True`` = kept) and applied second, as in
``torch.nn.utils.prune``; every pruning function returns ``(pruned, mask)`` and
never touches its input.

* :func:`threshold_prune` drops every weight with ``|w| < C`` (the lecture's rule,
  with the magnitude: a large negative weight matters as much as a large positive one);
* :func:`magnitude_prune` drops exactly ``amount`` weights, the smallest in magnitude
  (the rule a target sparsity needs);
* :func:`global_magnitude_prune` ranks all layers together.

Zeros only save memory once stored in a sparse format (:func:`csr_bytes`,
:func:`bitmask_bytes`, both registered with :func:`course_lib.measure.storage_bytes`)
and only save time once the product skips them (:func:`sparse_linear`,
:func:`dense_vs_sparse_times`).

References
----------
.. [1] S. Han, J. Pool, J. Tran, W. Dally, "Learning both Weights and Connections
   for Efficient Neural Networks", NeurIPS 2015.
.. [2] M. Zhu, S. Gupta, "To prune, or not to prune: exploring the efficacy of
   pruning for model compression", arXiv:1710.01878, 2017.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
import scipy.sparse

from . import measure
from ._validation import _short, check_float_array, check_int, check_positive_float

__all__ = [
    "threshold_mask",
    "threshold_prune",
    "magnitude_mask",
    "magnitude_prune",
    "global_magnitude_prune",
    "sparsity",
    "index_bytes",
    "csr_bytes",
    "bitmask_bytes",
    "to_csr",
    "sparse_linear",
    "dense_vs_sparse_times",
    "crossover_sparsity",
    "iterative_schedule",
    "gradual_sparsity",
]


# --------------------------------------------------------------------------- private checks

def _check_amount(amount, size: int) -> int:
    """``amount`` (int = count, float = fraction) -> the number of weights to remove."""
    if isinstance(amount, bool) or not isinstance(amount, numbers.Real):
        raise TypeError(f"amount must be an int (a count) or a float (a fraction), "
                        f"got {type(amount).__name__} ({_short(amount)}).")
    if isinstance(amount, numbers.Integral):
        amount = int(amount)
        if amount < 0:
            raise ValueError(f"amount == {amount}, must be >= 0.")
        if amount > size:
            raise ValueError(f"amount == {amount}, must be <= {size} (the number of weights) "
                             f"when an int (a count).")
        return amount
    amount = float(amount)
    if not math.isfinite(amount):
        raise ValueError(f"amount == {amount}, must be finite.")
    if amount < 0:
        raise ValueError(f"amount == {amount}, must be >= 0.")
    if amount > 1:
        raise ValueError(f"amount == {amount}, must be <= 1 when a float (a fraction).")
    return round(amount * size)  # Python's round, as torch.nn.utils.prune does


def _check_sparsity(name: str, value) -> float:
    """A sparsity: a finite real number in [0, 1)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} ({_short(value)}).")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} == {value}, must be finite.")
    if not 0.0 <= value < 1.0:
        raise ValueError(f"{name} == {value}, must be in [0, 1).")
    return value


def _as_generator(rng) -> np.random.Generator:
    """``rng``: None, a seed or a ``numpy.random.Generator`` -> a Generator."""
    if isinstance(rng, bool) or not (rng is None or isinstance(rng, (numbers.Integral, np.random.Generator))):
        raise TypeError(f"rng must be None, an int seed or a numpy.random.Generator, "
                        f"got {type(rng).__name__} ({_short(rng)}).")
    return np.random.default_rng(rng)


def _as_matrix(arr: np.ndarray) -> np.ndarray:
    """The 2-D view a sparse format stores: a row per output unit (a 1-D array is one row)."""
    if arr.ndim == 0:
        return arr.reshape(1, 1)
    if arr.ndim == 1:
        return arr.reshape(1, -1)
    return arr.reshape(arr.shape[0], -1)


def _prune_with(arr: np.ndarray, mask: np.ndarray) -> np.ndarray:
    return np.where(mask, arr, 0).astype(arr.dtype, copy=False)


def _smallest_removed(magnitudes: np.ndarray, k: int) -> np.ndarray:
    """1-D keep-mask without the ``k`` smallest ``magnitudes``; ties: lower index first (stable sort)."""
    keep = np.ones(magnitudes.size, dtype=bool)
    keep[np.argsort(magnitudes, kind="stable")[:k]] = False
    return keep


# --------------------------------------------------------------------------- masks

def threshold_mask(weights, C) -> np.ndarray:
    """Mask of the weights whose magnitude reaches the threshold: ``|w| >= C``.

    Parameters
    ----------
    weights : array_like of real numbers
        Any shape; finite, not empty.
    C : float
        The threshold, a finite real number ``>= 0``.

    Returns
    -------
    mask : ndarray of bool, same shape as ``weights``
        ``True`` where the weight is kept.

    Raises
    ------
    TypeError
        If ``weights`` is not real-valued (bool, complex, strings) or ``C`` is not a real number.
    ValueError
        If ``weights`` is empty or holds NaN/inf, or ``C`` is negative, NaN or infinite.

    Notes
    -----
    .. math:: m_i = [\\,|w_i| \\ge C\\,]

    The seed lecture writes ``w < C``; without the absolute value every negative
    weight would be removed, however large. ``C == 0`` keeps everything (zeros
    included); a ``C`` above every ``|w|`` removes everything. The number removed
    depends on the weights -- use :func:`magnitude_mask` for an exact count.

    References
    ----------
    .. [1] Han et al., "Learning both Weights and Connections for Efficient Neural
       Networks", NeurIPS 2015.

    Examples
    --------
    >>> threshold_mask([0.5, -2.0, 0.1, 1.0], 1.0)
    array([False,  True, False,  True])
    """
    arr = check_float_array("weights", weights)
    C = check_positive_float("C", C, allow_zero=True)
    return np.abs(arr) >= C


def threshold_prune(weights, C) -> tuple[np.ndarray, np.ndarray]:
    """Zero every weight with ``|w| < C``; returns ``(pruned, mask)``.

    See :func:`threshold_mask` for the parameters, the rule and the degenerate cases.
    ``pruned`` is a new array of the (floating) dtype of ``weights``.

    Examples
    --------
    >>> pruned, mask = threshold_prune([0.5, -2.0, 0.1, 1.0], 1.0)
    >>> pruned
    array([ 0., -2.,  0.,  1.])
    """
    arr = check_float_array("weights", weights)
    mask = np.abs(arr) >= check_positive_float("C", C, allow_zero=True)
    return _prune_with(arr, mask), mask


def magnitude_mask(weights, amount) -> np.ndarray:
    """Mask that removes exactly ``amount`` weights, those of smallest magnitude.

    Parameters
    ----------
    weights : array_like of real numbers
        Any shape; finite, not empty.
    amount : int or float
        An int is a count (``0 .. weights.size``); a float is a fraction in ``[0, 1]``,
        turned into the count ``round(amount * weights.size)`` (Python's rounding, as
        ``torch.nn.utils.prune`` does).

    Returns
    -------
    mask : ndarray of bool, same shape as ``weights``
        ``True`` where the weight is kept; exactly ``k`` entries are ``False``.

    Raises
    ------
    TypeError
        If ``weights`` is not real-valued, or ``amount`` is not an int or a float (bool included).
    ValueError
        If ``weights`` is empty or not finite, or ``amount`` is out of range.

    Notes
    -----
    Sort the magnitudes ``|w|`` of the flattened (C-order) array with a *stable*
    sort and remove the first ``k``:

    .. math:: m_{\\pi(j)} = [\\, j \\ge k \\,], \\quad |w_{\\pi(0)}| \\le |w_{\\pi(1)}| \\le \\dots

    Ties are broken by position: among equal magnitudes the lower flat index goes
    first. So exactly ``k`` weights go even when many share the threshold
    magnitude (all-equal weights included) -- never "everything at the threshold".

    References
    ----------
    .. [1] Han et al., NeurIPS 2015.
    .. [2] ``torch.nn.utils.prune.l1_unstructured`` (same count rule).

    Examples
    --------
    >>> magnitude_mask([1.0, 1.0, 1.0, 1.0], 0.5)
    array([False, False,  True,  True])
    """
    arr = check_float_array("weights", weights)
    return _smallest_removed(np.abs(arr).ravel(), _check_amount(amount, arr.size)).reshape(arr.shape)


def magnitude_prune(weights, amount) -> tuple[np.ndarray, np.ndarray]:
    """Zero the ``amount`` weights of smallest magnitude; returns ``(pruned, mask)``.

    See :func:`magnitude_mask` for the parameters, the count rule and the ties.

    Examples
    --------
    >>> pruned, mask = magnitude_prune([[0.3, -0.1], [-0.5, 0.2]], 2)
    >>> pruned
    array([[ 0.3,  0. ],
           [-0.5,  0. ]])
    """
    arr = check_float_array("weights", weights)
    mask = _smallest_removed(np.abs(arr).ravel(), _check_amount(amount, arr.size)).reshape(arr.shape)
    return _prune_with(arr, mask), mask


def _named_arrays(weights) -> list[tuple[object, np.ndarray]]:
    """(key, checked array) pairs of a dict or a list/tuple of arrays."""
    if isinstance(weights, dict):
        items = list(weights.items())
        label = "weights[{!r}]"
    elif isinstance(weights, (list, tuple)):
        items = list(enumerate(weights))
        label = "weights[{}]"
    else:
        raise TypeError(f"weights must be a dict or a list of arrays, got {type(weights).__name__}.")
    if not items:
        raise ValueError("weights is empty, must hold at least one array.")
    return [(key, check_float_array(label.format(key), value)) for key, value in items]


def global_magnitude_prune(weights, amount):
    """Magnitude pruning with one ranking over several layers; returns ``(pruned, masks)``.

    Parameters
    ----------
    weights : dict of name -> array, or list (tuple) of arrays
        The layers, each finite and not empty.
    amount : int or float
        Count or fraction of *all* the weights together (see :func:`magnitude_mask`).

    Returns
    -------
    pruned, masks
        Same container type and keys as ``weights``: new arrays and bool masks.

    Raises
    ------
    TypeError, ValueError
        For a bad container, a bad layer (named ``weights['fc1']`` or ``weights[0]``)
        or a bad ``amount``.

    Notes
    -----
    The layers are flattened and concatenated in the container's order, and
    :func:`magnitude_mask` is applied to the result: the weights removed are the
    ``k`` smallest ``|w|`` of the whole network, so layers of small weights lose
    more than others. Ties go to the earlier layer, then to the lower index. With a
    single layer this is exactly :func:`magnitude_prune`.

    References
    ----------
    .. [1] ``torch.nn.utils.prune.global_unstructured``.
    .. [2] Han et al., NeurIPS 2015.
    """
    items = _named_arrays(weights)
    flat = np.concatenate([np.abs(arr).ravel() for _, arr in items])
    keep = _smallest_removed(flat, _check_amount(amount, flat.size))
    pruned, masks, start = [], [], 0
    for _, arr in items:
        mask = keep[start:start + arr.size].reshape(arr.shape)
        start += arr.size
        masks.append(mask)
        pruned.append(_prune_with(arr, mask))
    if isinstance(weights, dict):
        keys = [key for key, _ in items]
        return dict(zip(keys, pruned)), dict(zip(keys, masks))
    kind = type(weights) if type(weights) in (list, tuple) else list
    return kind(pruned), kind(masks)


def sparsity(x) -> float:
    """Fraction of zeros in ``x``; for a bool mask, the fraction of ``False`` (removed).

    Parameters
    ----------
    x : array_like (numbers or bool), or a dict / list of them
        For a container, the fraction over all entries together.

    Returns
    -------
    float
        ``1 - nnz / size`` in ``[0, 1]``.

    Raises
    ------
    TypeError
        If ``x`` is not numeric (strings, objects, complex).
    ValueError
        If ``x`` is empty.

    Notes
    -----
    .. math:: s = 1 - \\frac{\\operatorname{nnz}(x)}{\\operatorname{size}(x)}

    A mask and the weights it pruned have the same sparsity unless the weights
    already held zeros (``threshold_mask(w, 0)`` keeps zeros: sparsity 0).

    Examples
    --------
    >>> sparsity([[0.0, 1.0], [0.0, 0.0]])
    0.75
    """
    if isinstance(x, dict):
        parts = list(x.values())
    elif isinstance(x, (list, tuple)) and x and not np.isscalar(x[0]):
        parts = list(x)
    else:
        parts = [x]
    zeros = size = 0
    for part in parts:
        if hasattr(part, "detach") and hasattr(part, "cpu"):  # a torch tensor
            part = part.detach().cpu().numpy()
        arr = np.asarray(part)
        if not (arr.dtype == bool or np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
            raise TypeError(f"x must be an array of real numbers or bools, got dtype {arr.dtype}.")
        size += arr.size
        zeros += arr.size - np.count_nonzero(arr)
    if size == 0:
        raise ValueError("x is empty, must have at least one element.")
    return float(zeros / size)


# --------------------------------------------------------------------------- storage

def index_bytes(max_value) -> int:
    """Smallest unsigned integer width, 1, 2, 4 or 8 bytes, that holds ``max_value``.

    Examples
    --------
    >>> index_bytes(255), index_bytes(256), index_bytes(70_000)
    (1, 2, 4)
    """
    max_value = check_int("max_value", max_value, minimum=0)
    for width in (1, 2, 4, 8):
        if max_value < 2 ** (8 * width):
            return width
    raise ValueError(f"max_value == {max_value}, must be < 2**64 (8 bytes).")


def csr_bytes(weights, *, value_bytes: int = 4) -> int:
    """Bytes of ``weights`` stored in CSR (compressed sparse row) format.

    Parameters
    ----------
    weights : array_like of real numbers
        2-D; an N-D array is stored as ``(shape[0], -1)``, a 1-D array as one row.
    value_bytes : int, keyword-only
        Bytes per stored value (4: float32).

    Returns
    -------
    int

    Notes
    -----
    For an ``r x c`` matrix with ``nnz`` non-zeros CSR stores the values, a column
    index per value and ``r + 1`` row pointers (offsets into the values):

    .. math:: B = \\operatorname{nnz}\\,(b_v + b_c) + (r + 1)\\, b_p,
              \\quad b_c = \\operatorname{width}(c - 1),
              \\quad b_p = \\operatorname{width}(\\operatorname{nnz})

    with ``width`` = :func:`index_bytes`. Pruning saves memory only when
    ``B < r c b_v``: with 4-byte values and 2-byte indices, above about 1/3 sparsity.
    An all-zero matrix still pays its row pointers.

    References
    ----------
    .. [1] Y. Saad, "Iterative Methods for Sparse Linear Systems", 2nd ed., SIAM 2003, sec. 3.4.
    .. [2] Han et al., "Deep Compression", ICLR 2016 (sparse storage of pruned networks).
    """
    arr = _as_matrix(check_float_array("weights", weights))
    value_bytes = check_int("value_bytes", value_bytes, minimum=1)
    rows, cols = arr.shape
    nnz = int(np.count_nonzero(arr))
    return nnz * (value_bytes + index_bytes(cols - 1)) + (rows + 1) * index_bytes(nnz)


def bitmask_bytes(weights, *, value_bytes: int = 4) -> int:
    """Bytes of ``weights`` stored as a bitmask (one bit per weight) plus the non-zero values.

    Notes
    -----
    .. math:: B = \\lceil \\operatorname{size} / 8 \\rceil + \\operatorname{nnz}\\, b_v

    Cheaper than CSR at moderate sparsity (an eighth of a byte per weight instead of
    an index per non-zero); CSR wins when non-zeros are rare.
    """
    arr = check_float_array("weights", weights)
    value_bytes = check_int("value_bytes", value_bytes, minimum=1)
    return -(-arr.size // 8) + int(np.count_nonzero(arr)) * value_bytes


measure.register_format("csr", csr_bytes)
measure.register_format("bitmask", bitmask_bytes)


# --------------------------------------------------------------------------- sparse products

def to_csr(weights) -> scipy.sparse.csr_array:
    """``weights`` as a SciPy CSR array (zeros not stored); N-D is reshaped to ``(shape[0], -1)``."""
    return scipy.sparse.csr_array(_as_matrix(check_float_array("weights", weights)))


def sparse_linear(x, w_csr, bias=None) -> np.ndarray:
    """A fully connected layer with a sparse weight matrix: ``x @ W.T + b``.

    Parameters
    ----------
    x : array_like, shape (batch, in) or (in,)
    w_csr : scipy.sparse array or matrix, shape (out, in)
        For example from :func:`to_csr`.
    bias : array_like, shape (out,), optional

    Returns
    -------
    ndarray, shape (batch, out) or (out,)

    Notes
    -----
    Computed as :math:`(W x^T)^T`: SciPy's CSR-times-dense kernel visits only the
    ``nnz`` stored weights, ``O(nnz * batch)`` operations instead of
    ``O(out * in * batch)`` -- but with indirect memory access, so it beats a dense
    BLAS product only at high sparsity (see :func:`dense_vs_sparse_times`).
    """
    x = check_float_array("x", x, ndim=(1, 2))
    if not scipy.sparse.issparse(w_csr) or w_csr.ndim != 2:
        raise TypeError(f"w_csr must be a 2-D scipy.sparse array (see to_csr), got {type(w_csr).__name__}.")
    out_features, in_features = w_csr.shape
    if x.shape[-1] != in_features:
        raise ValueError(f"x has {x.shape[-1]} features (shape {x.shape}), must have {in_features} "
                         f"to match w_csr of shape {w_csr.shape}.")
    y = (w_csr @ x.T).T
    if bias is not None:
        bias = check_float_array("bias", bias, ndim=1)
        if bias.shape != (out_features,):
            raise ValueError(f"bias has shape {bias.shape}, must be ({out_features},) to match w_csr.")
        y = y + bias
    return y


def dense_vs_sparse_times(shape=(1024, 1024), sparsities=(0.0, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99), *,
                          batch: int = 1, repeats: int = 20, rng=None) -> list[dict]:
    """Time a dense and a CSR product of the same pruned matrix at several sparsities.

    Parameters
    ----------
    shape : (int, int)
        ``(out, in)`` of the weight matrix.
    sparsities : sequence of float in [0, 1)
        Fractions of the weights removed by :func:`magnitude_prune`.
    batch : int, keyword-only
        Rows of the input ``x`` (1: a single example, the latency case).
    repeats : int, keyword-only
        Timed calls per measurement (:func:`course_lib.measure.latency`, one thread).
    rng : None, int or numpy.random.Generator, keyword-only
        For the random Gaussian weights and input.

    Returns
    -------
    list of dict
        One row per sparsity: ``sparsity``, ``dense_ms`` (NumPy ``x @ W.T``),
        ``sparse_ms`` (SciPy CSR ``(W x^T)^T``), ``speedup = dense_ms / sparse_ms``.

    Notes
    -----
    Both products run single-threaded on the same pruned float32 matrix, so the
    only difference is the format. The dense time does not depend on the sparsity;
    the sparse one falls with ``nnz`` but starts much higher, so there is a
    crossover sparsity (:func:`crossover_sparsity`), typically around 90%.
    """
    if not isinstance(shape, (tuple, list)) or len(shape) != 2:
        raise TypeError(f"shape must be a pair (out, in), got {_short(shape)}.")
    out_features = check_int("shape[0]", shape[0], minimum=1)
    in_features = check_int("shape[1]", shape[1], minimum=1)
    if isinstance(sparsities, (str, bytes)) or not hasattr(sparsities, "__iter__"):
        raise TypeError(f"sparsities must be a sequence of floats, got {type(sparsities).__name__}.")
    sparsities = [_check_sparsity(f"sparsities[{i}]", s) for i, s in enumerate(sparsities)]
    if not sparsities:
        raise ValueError("sparsities is empty, must hold at least one value.")
    batch = check_int("batch", batch, minimum=1)
    repeats = check_int("repeats", repeats, minimum=1)
    gen = _as_generator(rng)
    weights = gen.standard_normal((out_features, in_features), dtype=np.float32)
    x = gen.standard_normal((batch, in_features), dtype=np.float32)
    xt = np.ascontiguousarray(x.T)
    rows = []
    for s in sparsities:
        pruned, _ = magnitude_prune(weights, s)
        w_csr = to_csr(pruned)
        dense = measure.latency(lambda w=pruned: x @ w.T, repeats=repeats, threads=1)
        sparse = measure.latency(lambda w=w_csr: w @ xt, repeats=repeats, threads=1)
        rows.append({"sparsity": s, "dense_ms": dense.median_ms, "sparse_ms": sparse.median_ms,
                     "speedup": dense.median_ms / sparse.median_ms if sparse.median_ms > 0 else math.inf})
    return rows


def crossover_sparsity(rows) -> float | None:
    """The smallest measured sparsity at which the sparse product was faster, or None.

    ``rows`` as returned by :func:`dense_vs_sparse_times`.
    """
    if not isinstance(rows, (list, tuple)):
        raise TypeError(f"rows must be a list of dicts from dense_vs_sparse_times, got {type(rows).__name__}.")
    faster = []
    for i, row in enumerate(rows):
        if not isinstance(row, dict) or not {"sparsity", "dense_ms", "sparse_ms"} <= set(row):
            raise ValueError(f"rows[{i}] must be a dict with keys 'sparsity', 'dense_ms', 'sparse_ms', "
                             f"got {_short(row)}.")
        if row["sparse_ms"] < row["dense_ms"]:
            faster.append(row["sparsity"])
    return min(faster) if faster else None


# --------------------------------------------------------------------------- schedules

def iterative_schedule(final_sparsity, rounds) -> list[float]:
    """Sparsity after each round of iterative pruning, removing the same share of what is left.

    Parameters
    ----------
    final_sparsity : float in [0, 1)
    rounds : int >= 1

    Returns
    -------
    list of float
        ``rounds`` increasing values; the last is exactly ``final_sparsity``.

    Notes
    -----
    Each round removes the fraction ``p`` of the *remaining* weights, so after ``k``
    rounds ``(1 - p)^k`` of them are left; ``(1 - p)^n = 1 - s_f`` gives

    .. math:: s_k = 1 - (1 - s_f)^{k / n}, \\quad k = 1, \\dots, n.

    Early rounds remove many (redundant) weights, later rounds few (important) ones.

    References
    ----------
    .. [1] Han et al., NeurIPS 2015, sec. 3.3 (iterative pruning and retraining).

    Examples
    --------
    >>> [round(s, 3) for s in iterative_schedule(0.75, 2)]
    [0.5, 0.75]
    """
    final_sparsity = _check_sparsity("final_sparsity", final_sparsity)
    rounds = check_int("rounds", rounds, minimum=1)
    schedule = [1.0 - (1.0 - final_sparsity) ** (k / rounds) for k in range(1, rounds + 1)]
    schedule[-1] = final_sparsity
    return schedule


def gradual_sparsity(step, *, final_sparsity, initial_sparsity=0.0, begin_step=0, end_step,
                     frequency=1) -> float:
    """Target sparsity at training step ``step`` of gradual (cubic) pruning.

    Parameters
    ----------
    step : int >= 0
    final_sparsity, initial_sparsity : float in [0, 1), keyword-only
        ``s_f`` and ``s_i`` (``s_i <= s_f``).
    begin_step, end_step : int, keyword-only
        ``t_0`` and ``t_0 + n Δt`` (``end_step > begin_step >= 0``).
    frequency : int >= 1, keyword-only
        ``Δt``: the sparsity is updated every ``frequency`` steps from ``begin_step``.

    Returns
    -------
    float

    Notes
    -----
    .. math:: s_t = s_f + (s_i - s_f)\\left(1 - \\frac{t - t_0}{n \\Delta t}\\right)^3

    where ``t`` is the last update step, ``t_0 + Δt \\lfloor (step - t_0) / Δt \\rfloor``.
    Before ``begin_step`` the value is ``s_i``; from ``end_step`` on it is ``s_f``
    (also when ``frequency`` does not divide ``end_step - begin_step``: the last update
    is at ``end_step``). Pruning is fast at first, when many weights are redundant,
    and slows down as the network has fewer left.

    References
    ----------
    .. [1] Zhu & Gupta, "To prune, or not to prune", 2017, eq. (1).
    """
    step = check_int("step", step, minimum=0)
    final_sparsity = _check_sparsity("final_sparsity", final_sparsity)
    initial_sparsity = _check_sparsity("initial_sparsity", initial_sparsity)
    if initial_sparsity > final_sparsity:
        raise ValueError(f"initial_sparsity == {initial_sparsity}, must be <= final_sparsity "
                         f"({final_sparsity}).")
    begin_step = check_int("begin_step", begin_step, minimum=0)
    end_step = check_int("end_step", end_step)
    if end_step <= begin_step:
        raise ValueError(f"end_step == {end_step}, must be > begin_step ({begin_step}).")
    frequency = check_int("frequency", frequency, minimum=1)
    if step < begin_step:
        return initial_sparsity
    if step >= end_step:
        return final_sparsity
    t = begin_step + frequency * ((step - begin_step) // frequency)
    progress = (t - begin_step) / (end_step - begin_step)
    # s_f + (s_i - s_f)(1 - p)^3, written so that p = 0 gives s_i exactly (no rounding)
    return initial_sparsity + (final_sparsity - initial_sparsity) * (1.0 - (1.0 - progress) ** 3)
