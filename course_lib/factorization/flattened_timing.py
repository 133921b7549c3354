"""A dense Conv2d vs its flattened version: CPU time next to the ratio of operations.

:func:`conv_timing` (and ``python -m course_lib.bench flattened``) times one layer's forward pass and its
forward+backward pass (input and weight gradients), one thread, for the 3-D convolution and the three 1-D ones
(:class:`course_lib.factorization.nn.FlattenedConv2d`, rank 1), over the filter size and over the
channel count -- the seed's two CPU plots (Jin et al. 2014, figure 3) -- and prints the measured
speed-up beside the multiply-add ratio ``C Y X / (C + Y + X)``. Notebook 07 draws the same sweeps
with :func:`conv_timing`. PyTorch is imported when a function runs (the package stays NumPy-only).
"""

from __future__ import annotations

from .._validation import check_bool, check_int
from .flattened import conv_macs, flattened_macs

__all__ = ["conv_timing", "FILTER_SIZES", "CHANNELS"]

FILTER_SIZES = (3, 5, 7, 9, 11)
CHANNELS = (16, 32, 64, 128, 256)


def conv_timing(channels: int, kernel: int, size: int, batch: int, *, backward: bool = False, rank: int = 1,
                repeats: int = 10, warmup: int = 2) -> dict:
    """Median CPU time (one thread) of a ``channels -> channels`` ``kernel x kernel`` convolution, dense and flattened.

    Both layers run on the same ``(batch, channels, size, size)`` input with "same" zero padding.

    Parameters
    ----------
    channels, kernel, size, batch : int
        ``C = F``, ``Y = X``, the feature map's side, the images per call.
    backward : bool, keyword-only
        Time forward + backward (gradients of the input and the weights) instead of forward only.
    rank : int, keyword-only
        Terms per flattened filter.
    repeats, warmup : int, keyword-only
        Timed and untimed calls (:func:`course_lib.timing.latency`).

    Returns
    -------
    dict
        ``dense_ms``, ``flat_ms`` (medians), ``dense_iqr_ms``, ``flat_iqr_ms`` (their interquartile
        ranges: ``course_lib.verdicts.Measured(dense_ms, dense_iqr_ms / 2)`` is the noise band a verdict
        uses), ``speedup`` (dense / flat time), ``mac_ratio`` (dense / flattened multiply-adds) and the
        settings.

    Raises
    ------
    TypeError, ValueError
        If a size is not an int >= 1 (``kernel`` odd) or ``backward`` is not a bool.
    """
    import torch

    from ..timing import latency
    from .nn.flattened import FlattenedConv2d

    channels = check_int("channels", channels, minimum=1)
    kernel = check_int("kernel", kernel, minimum=1)
    if kernel % 2 == 0:
        raise ValueError(f"kernel == {kernel}, must be odd (for 'same' padding).")
    size, batch = check_int("size", size, minimum=1), check_int("batch", batch, minimum=1)
    backward = check_bool("backward", backward)
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(batch, channels, size, size, generator=gen)
    dense = torch.nn.Conv2d(channels, channels, kernel, padding=kernel // 2, bias=False)
    flat = FlattenedConv2d(channels, channels, kernel, rank, padding=kernel // 2, bias=False)

    def call(layer):
        if not backward:
            return lambda: layer(x)
        xg = x.clone().requires_grad_(True)

        def step():
            with torch.inference_mode(False):  # latency() times in inference mode; a backward needs autograd
                layer.zero_grad(set_to_none=True)
                xg.grad = None
                layer(xg).sum().backward()
        return step

    dense_t = latency(call(dense), repeats=repeats, warmup=warmup, threads=1)
    flat_t = latency(call(flat), repeats=repeats, warmup=warmup, threads=1)
    dense_ms, flat_ms = dense_t.median_ms, flat_t.median_ms
    macs = conv_macs(channels, channels, kernel, kernel, size, size)
    return {"channels": channels, "kernel": kernel, "size": size, "batch": batch, "backward": backward,
            "rank": rank, "dense_ms": dense_ms, "flat_ms": flat_ms, "dense_iqr_ms": dense_t.iqr_ms,
            "flat_iqr_ms": flat_t.iqr_ms, "speedup": dense_ms / flat_ms,
            "mac_ratio": macs / flattened_macs(channels, channels, kernel, kernel, size, size, rank)}
