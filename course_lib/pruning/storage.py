"""What a sparse weight costs to store: CSR and bitmask bytes. Pure NumPy.

Importing this module registers the formats ``"csr"`` and ``"bitmask"`` with
:func:`course_lib.formats.storage_bytes`.
"""

from __future__ import annotations

import numpy as np

from .. import formats
from .._validation import check_float_array, check_int

__all__ = ["index_bytes", "csr_bytes", "bitmask_bytes", "as_matrix", "stored_bytes"]


def as_matrix(arr: np.ndarray) -> np.ndarray:
    """The 2-D view a sparse format stores: a row per output unit (a 1-D array is one row)."""
    if arr.ndim == 0:
        return arr.reshape(1, 1)
    if arr.ndim == 1:
        return arr.reshape(1, -1)
    return arr.reshape(arr.shape[0], -1)



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
    arr = as_matrix(check_float_array("weights", weights))
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


def stored_bytes(obj, fmt: str = "csr") -> int:
    """Bytes of a pruned model stored with its weights in ``fmt`` and its biases dense, as float32.

    The convention of the pruning notebooks (01, 02): **bytes include the biases**. Only the weights
    (arrays of 2 or more dimensions) are pruned, so only they are stored in the sparse format; a bias
    (a 1-D or 0-D array) is kept as it is, 4 bytes per entry -- the rule the quantized formats
    follow too (:mod:`course_lib.formats`).

    Parameters
    ----------
    obj : torch.nn.Module, tensor, array, or a list or dict of them
        As for :func:`course_lib.formats.storage_bytes` (a model counts its ``parameters()``).
    fmt : str
        ``"csr"``, ``"bitmask"`` or ``"float32"`` (dense: then the same as
        ``storage_bytes(obj)``), or any other registered format.

    Returns
    -------
    int

    Examples
    --------
    >>> w = np.zeros((300, 784), dtype=np.float32); w[0, :10] = 1.0
    >>> stored_bytes([w, np.zeros(300)], "csr") == csr_bytes(w) + 4 * 300
    True
    """
    formats.available_formats()
    if not isinstance(fmt, str) or fmt not in formats.STORAGE_FORMATS:
        formats.storage_bytes(np.zeros(1), fmt)  # raises the registry's own message
    size = formats.STORAGE_FORMATS[fmt]
    return int(sum(size(a) if a.ndim >= 2 else 4 * a.size for a in formats.arrays_of(obj)))


formats.register_format("csr", csr_bytes)
formats.register_format("bitmask", bitmask_bytes)
