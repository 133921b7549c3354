"""The Tensor-Train chapter's comparisons (notebook 08; ``python -m course_lib.bench tt`` reports them).

Each measured side by side in one run, one thread:

* our :func:`~course_lib.factorization.tt_svd` against TensorLy's ``tensor_train`` at the same fixed
  ranks on the same tensors -- time ratio, and the two relative reconstruction errors (a ratio of 1);
* the seed's VGG layer, dense 25088 x 4096 against the TT layer (input modes 2x7x8x8x7x4, output
  modes 4^6, TT-rank 4) at 1 and 100 images (:func:`vgg_layer_timing`);
* NumPy's one-call ``einsum`` (its own contraction path) against the core-by-core order of
  :func:`~course_lib.factorization.tt_matmul`.

PyTorch and TensorLy are imported when a function runs (the package stays NumPy-only).
"""

from __future__ import annotations

import math

import numpy as np

from .._validation import check_float_array, check_int
from .tt import check_tt_ranks

__all__ = ["VGG_IN_MODES", "VGG_OUT_MODES", "vgg_layer_timing", "smooth_tensor", "tt_svd_vs_tensorly"]

VGG_IN_MODES = (2, 7, 8, 8, 7, 4)  # 25088 = 7 * 7 * 512, VGG-16's first fully connected layer
VGG_OUT_MODES = (4, 4, 4, 4, 4, 4)  # 4096


def smooth_tensor(n: int = 8, d: int = 6) -> np.ndarray:
    """``A[i_1, ..., i_d] = 1 / (1 + sum_k x_{i_k})`` on the grid ``x = 0, 1/(n-1), ..., 1``: low TT-ranks."""
    n, d = check_int("n", n, minimum=2), check_int("d", d, minimum=1)
    grid = np.linspace(0.0, 1.0, n)
    total = sum(np.meshgrid(*([grid] * d), indexing="ij", sparse=True))
    return 1.0 / (1.0 + total)


def vgg_layer_timing(batch: int, rank: int = 4, *, repeats: int = 10, warmup: int = 2, dense=None) -> dict:
    """Median time (one thread, float32, PyTorch) of the seed's 25088 x 4096 layer, dense and as a TT layer.

    Parameters
    ----------
    batch : int
        Images per call.
    rank : int
        The TT layer's rank.
    repeats, warmup : int, keyword-only
    dense : torch.Tensor or None, keyword-only
        A ``4096 x 25088`` weight to reuse (392 MiB; random if None).

    Returns
    -------
    dict
        ``dense_ms``, ``tt_ms``, ``speedup`` (dense / TT), ``batch``, ``rank``, ``cpu``, and the two
        :class:`~course_lib.timing.Latency` measurements ``dense_latency`` and ``tt_latency`` (median and
        spread, for :func:`course_lib.verdicts.compare`).

    Raises
    ------
    TypeError, ValueError
        If ``batch`` or ``rank`` is not an int >= 1, or ``dense`` is not a finite float tensor of shape
        ``(4096, 25088)``.
    """
    import torch

    from .._validation import check_tensor
    from ..timing import cpu_capability, latency
    from .nn.tt import TTLinear

    batch, rank = check_int("batch", batch, minimum=1), check_int("rank", rank, minimum=1)
    m, n = math.prod(VGG_IN_MODES), math.prod(VGG_OUT_MODES)
    if dense is not None:
        if isinstance(dense, np.ndarray):
            raise TypeError("dense must be a torch.Tensor (or None), got ndarray: pass torch.from_numpy(dense).")
        dense = check_tensor("dense", dense)
        if tuple(dense.shape) != (n, m):
            raise ValueError(f"dense has shape {tuple(dense.shape)}, must be ({n}, {m}) (out x in, as nn.Linear).")
    gen = torch.Generator().manual_seed(0)
    w = torch.randn(n, m, generator=gen) * math.sqrt(2 / (m + n)) if dense is None else dense
    layer = TTLinear(VGG_IN_MODES, VGG_OUT_MODES, rank, bias=False, rng=0)
    x = torch.randn(batch, m, generator=gen)
    dense = latency(lambda: torch.nn.functional.linear(x, w), repeats=repeats, warmup=warmup)
    tt = latency(lambda: layer(x), repeats=repeats, warmup=warmup)
    return {"batch": batch, "rank": rank, "dense_ms": dense.median_ms, "tt_ms": tt.median_ms,
            "speedup": dense.median_ms / tt.median_ms, "cpu": cpu_capability(), "dense_latency": dense,
            "tt_latency": tt}


def tt_svd_vs_tensorly(tensor: np.ndarray, rank: int, *, repeats: int = 5) -> dict:
    """Our TT-SVD and TensorLy's ``tensor_train`` at the same maximal rank: times and relative errors.

    Raises
    ------
    TypeError, ValueError
        If ``tensor`` is not a finite real array with at least 2 dimensions, ``rank`` breaks
        :func:`~course_lib.factorization.check_tt_ranks` or ``repeats`` is not an int >= 1.
    ImportError
        If TensorLy is not installed (a test and benchmark dependency: ``pip install -e .[dev]``).
    """
    tensor = check_float_array("tensor", tensor)
    if tensor.ndim < 2:
        raise ValueError(f"tensor has {tensor.ndim} dimension(s) (shape {tensor.shape}), must have at least 2.")
    check_tt_ranks(rank, tensor.shape, "rank")
    repeats = check_int("repeats", repeats, minimum=1)
    import tensorly as tl
    from tensorly.decomposition import tensor_train

    from ..timing import latency
    from .tt import tt_reconstruct, tt_svd

    tl.set_backend("numpy")
    norm = np.linalg.norm(tensor)
    ours = tt_svd(tensor, rank)
    theirs = tensor_train(tensor, rank)
    err_ours = float(np.linalg.norm(tensor - ours.reconstruct()) / norm)
    err_theirs = float(np.linalg.norm(tensor - tt_reconstruct(list(theirs.factors))) / norm)
    t_ours = latency(lambda: tt_svd(tensor, rank), repeats=repeats, warmup=1).median_ms
    t_theirs = latency(lambda: tensor_train(tensor, rank), repeats=repeats, warmup=1).median_ms
    return {"ours_ms": t_ours, "tensorly_ms": t_theirs, "ours_error": err_ours, "tensorly_error": err_theirs,
            "ranks": ours.ranks, "tensorly_ranks": tuple(int(r) for r in theirs.rank)}
