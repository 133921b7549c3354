"""Benchmark of Deep Compression's weight sharing and coding on LeNet-300-100's first layer: error and bytes."""

from __future__ import annotations

import lzma
import os
import tempfile
import zlib

import numpy as np

from .core import Row, benchmark

__all__ = ["sharing_figures", "SHARING_BITS", "SHARING_PRUNED"]

#: the index widths compared
SHARING_BITS = (2, 3, 4, 5)
#: the fraction of fc1's weights pruned by magnitude first (Han et al. keep 8% of LeNet-300-100's weights)
SHARING_PRUNED = 0.92


def sharing_figures(weights, *, bits=SHARING_BITS, pruned: float = SHARING_PRUNED) -> list[dict]:
    """Per index width: k-means vs uniform-grid error, Huffman vs zlib/lzma bytes, and the layer file's size.

    Parameters
    ----------
    weights : 2-D float array
        A fully connected layer's weights; pruned by magnitude first (``pruned`` of them).
    bits : sequence of int, keyword-only
        Index widths (``2**bits`` centroids and as many uniform levels).
    pruned : float, keyword-only
        Fraction of the weights removed (:func:`course_lib.pruning.magnitude_prune`).

    Returns
    -------
    list of dict
        One per width: ``mse_kmeans`` and ``mse_uniform`` over the kept weights (the pruned ones are
        exactly zero in both); for the index entries and the 5-bit gaps of the relative format,
        ``*_huffman`` (stream plus its code-length table), ``*_zlib`` and ``*_lzma`` (level 9, one
        symbol per byte) in bytes; ``file_bytes`` (the layer's file, ``os.path.getsize``), ``dense_bytes``
        (float32) and ``csr_bytes``.

    Notes
    -----
    The uniform grid has ``2**bits`` evenly spaced levels from the smallest to the largest kept
    weight -- k-means' own linear starting point -- and rounds each weight to the nearest level.
    """
    from .._validation import check_float_array, check_fraction
    from ..pruning import csr_bytes, magnitude_prune
    from ..sharing import (
        huffman_encode,
        huffman_lengths,
        initial_centroids,
        reconstruct,
        relative_encode,
        share_weights,
        write_layer,
    )

    w = check_float_array("weights", weights, ndim=2).astype(np.float32)
    pruned = check_fraction("pruned", pruned, allow_one=False)
    w, mask = magnitude_prune(w, pruned)
    w = w.astype(np.float32)
    kept = w[mask].astype(np.float64)

    def coded(symbols: np.ndarray, n_symbols: int) -> dict:
        lengths = huffman_lengths(np.bincount(symbols, minlength=n_symbols))
        raw = symbols.astype(np.uint8 if n_symbols <= 256 else np.uint16).tobytes()
        return {"huffman": len(huffman_encode(symbols, lengths)[0]) + n_symbols, "zlib": len(zlib.compress(raw, 9)),
                "lzma": len(lzma.compress(raw, preset=9)), "entries": symbols.size}

    out = []
    for b in bits:
        codebook, indices = share_weights(w, b, init="linear", mask=mask)
        grid = initial_centroids(kept, 2**b, "linear")
        uniform = grid[np.abs(kept[:, None] - grid[None, :]).argmin(1)]
        gaps, symbols = relative_encode(np.where(mask, indices.astype(np.int64) + 1, 0).ravel(), 5)
        with tempfile.TemporaryDirectory() as folder:
            file_bytes = write_layer(os.path.join(folder, "fc1.dcws"), codebook, indices, mask)
        row = {"bits": b, "mse_kmeans": float(np.mean((reconstruct(codebook, indices, mask)[mask] - kept) ** 2)),
               "mse_uniform": float(np.mean((uniform - kept) ** 2)), "file_bytes": file_bytes,
               "dense_bytes": 4 * w.size, "csr_bytes": csr_bytes(w)}
        row |= {f"index_{k}": v for k, v in coded(symbols.astype(np.int64), 2**b + 1).items()}
        row |= {f"gap_{k}": v for k, v in coded(gaps.astype(np.int64), 32).items()}
        out.append(row)
    return out


@benchmark("sharing")
def _bench_sharing(quick: bool) -> list[Row]:
    """LeNet-300-100's fc1, 92% pruned: k-means (linear init) vs a uniform grid, Huffman vs zlib/lzma, the file.

    Sizes and errors only (no timing): ``quick`` changes nothing.
    """
    from ..checkpoints import load_pretrained

    weights = load_pretrained("lenet300").fc1.weight.detach().numpy()
    rows = []
    where = f"lenet300 fc1, {100 * SHARING_PRUNED:.0f}% pruned"
    for r in sharing_figures(weights):
        case = f"{where}, {r['bits']} bits"
        rows.append(Row("sharing", f"{case}, MSE of kept weights", "k-means", r["mse_kmeans"], "uniform grid",
                        r["mse_uniform"], ""))
        for stream in ("index", "gap"):
            for other in ("zlib", "lzma"):
                rows.append(Row("sharing", f"{case}, {r[f'{stream}_entries']} {stream} symbols", "Huffman",
                                r[f"{stream}_huffman"], f"{other} -9", r[f"{stream}_{other}"], "bytes"))
        rows.append(Row("sharing", f"{case}, whole layer", "file", r["file_bytes"], "float32 dense", r["dense_bytes"],
                        "bytes"))
        rows.append(Row("sharing", f"{case}, whole layer", "file", r["file_bytes"], "CSR", r["csr_bytes"], "bytes"))
    return rows
