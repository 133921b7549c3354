"""Deep Compression's three stages on a course model, each stage a real file read back and measured (PyTorch).

:func:`deep_compression` prunes a trained model to per-layer kept fractions and retrains it with
the pruned weights held at zero (:func:`course_lib.pruning.nn.fine_tune`), shares each layer's kept
weights through a k-means codebook and fine-tunes the centroids (:mod:`.nn`), then writes the
model with fixed-width and with Huffman-coded streams. Every stage's bytes are the size of the
file it writes, and its accuracy is that of the model read back from that file.
:func:`stream_sizes` sets Huffman's bytes beside zlib's and lzma's on the same streams.
"""

from __future__ import annotations

import lzma
import math
import os
import zlib

import numpy as np
import torch
from torch import nn

from .._validation import check_int, check_model, check_path, check_positive_float
from .huffman import huffman_encode, huffman_lengths
from .kmeans import check_mask
from .relative import relative_encode
from .storage import default_gap_bits

__all__ = ["write_dense", "read_dense", "stream_sizes", "deep_compression", "STAGES"]

#: the stages of :func:`deep_compression`, in order
STAGES = ("dense float32", "pruned (CSR)", "pruned + shared (fixed-width)", "pruned + shared + Huffman")


def write_dense(model: nn.Module, path) -> int:
    """Every tensor of ``model``'s state dict as raw little-endian float32, in order; returns the file's size."""
    check_model(model)
    path = check_path("path", path, parent_must_exist=True)
    arrays = [v.detach().cpu().numpy().astype("<f4").ravel() for v in model.state_dict().values()]
    path.write_bytes(np.concatenate(arrays).tobytes())
    return os.path.getsize(path)


def read_dense(path, model: nn.Module) -> nn.Module:
    """``model`` (modified in place, eval mode) with the values of a file of :func:`write_dense`.

    Raises
    ------
    ValueError
        If the file does not hold exactly one float32 value per entry of the model's state dict.
    """
    check_model(model)
    path = check_path("path", path, must_exist=True)
    state = model.state_dict()
    values = np.frombuffer(path.read_bytes(), dtype="<f4")
    need = sum(v.numel() for v in state.values())
    if values.size * 4 != path.stat().st_size or values.size != need:
        raise ValueError(f"path holds {path.stat().st_size} bytes, must hold {need} float32 values.")
    start = 0
    with torch.no_grad():
        for v in state.values():
            v.copy_(torch.from_numpy(values[start:start + v.numel()].reshape(v.shape).copy()))
            start += v.numel()
    return model.eval()


def stream_sizes(codebook, indices, mask, *, gap_bits: int | None = None) -> dict[str, dict[str, int]]:
    """Bytes of a shared layer's two streams, Huffman-coded (with its code-length table) and by zlib and lzma.

    The streams are those of the layer's file: the index symbols of the relative format (0: a filler
    zero, ``s >= 1``: centroid ``s - 1``) and the gaps (``gap_bits`` wide; default as the file's),
    one symbol per byte for zlib and lzma (level 9; 2 bytes when more than 256 symbols).

    Returns
    -------
    dict
        ``{"indices": {...}, "gaps": {...}}``, each ``{"symbols", "huffman", "zlib", "lzma"}``.
    """
    book = np.asarray(codebook)
    idx = np.asarray(indices)
    mask = check_mask(mask, idx.shape)
    gap_bits = default_gap_bits(idx.ndim) if gap_bits is None else check_int("gap_bits", gap_bits, minimum=1,
                                                                               maximum=16)
    gaps, symbols = relative_encode(np.where(mask, idx.astype(np.int64) + 1, 0).ravel(), gap_bits)
    out = {}
    for name, stream, n_symbols in (("indices", symbols, book.size + 1), ("gaps", gaps, 2**gap_bits)):
        s = np.asarray(stream, dtype=np.int64)
        lengths = huffman_lengths(np.bincount(s, minlength=n_symbols))
        raw = s.astype(np.uint8 if n_symbols <= 256 else np.uint16).tobytes()
        out[name] = {"symbols": int(s.size), "huffman": len(huffman_encode(s, lengths)[0]) + n_symbols,
                     "zlib": len(zlib.compress(raw, 9)), "lzma": len(lzma.compress(raw, preset=9))}
    return out


def _epochs(steps: int, n: int, batch_size: int = 128) -> int:
    return max(1, math.ceil(steps * batch_size / n))


def deep_compression(model: nn.Module, kept: dict, bits: dict, *, train, test, folder, prune_steps: int,
                     centroid_steps: int, lr: float = 1e-3, centroid_lr: float = 1e-4, iters: int = 300,
                     rng: int = 0) -> dict:
    """Prune, retrain, share, fine-tune the centroids and code a trained model; measure each stage's file.

    Parameters
    ----------
    model : torch.nn.Module
        A trained course model (not modified); its class must build with no arguments.
    kept : dict of str -> float
        The fraction of each prunable weight kept (``{"fc1.weight": 0.08, ...}``), by magnitude.
    bits : dict of str -> int
        The index width of each layer (``{"fc1": 6, ...}``).
    train, test : Dataset
        Training images (retraining) and test images (every accuracy).
    folder : path
        An existing folder; the four files are written there.
    prune_steps, centroid_steps : int, keyword-only
        Adam steps (batches of 128) of the masked retraining and of the centroid fine-tuning.
    lr, centroid_lr : float, keyword-only
        Their learning rates.
    iters : int, keyword-only
        The most Lloyd iterations of each layer's k-means (:func:`course_lib.sharing.share_weights`).
    rng : int, keyword-only
        Seeds the shuffling and torch's generator (dropout).

    Returns
    -------
    dict
        ``"stages"``: a list of ``{"stage", "bytes", "accuracy"}`` (:data:`STAGES`), each accuracy
        measured on the model read back from the stage's file; ``"pruned_accuracy"`` (before
        retraining), ``"shared_accuracy"`` (before the centroid fine-tuning), ``"weights"`` and
        ``"nonzero"`` (prunable weights), ``"streams"`` (:func:`stream_sizes` per layer), ``"pruned"``
        (the retrained pruned model), ``"masks"`` and ``"model"`` (the final model, read back from the
        Huffman file).
    """
    from ..measure import accuracy
    from ..pruning import magnitude_mask
    from ..pruning.nn import apply_masks, export_pruned, fine_tune, load_pruned, prunable_weights
    from .nn import fine_tune_centroids, load_shared_model, save_shared_model, share_model, shared_layers

    check_model(model)
    folder = check_path("folder", folder)
    if not folder.is_dir():
        raise ValueError(f"folder == {str(folder)!r} is not an existing folder, must be one (the files go there).")
    prune_steps = check_int("prune_steps", prune_steps, minimum=0)
    centroid_steps = check_int("centroid_steps", centroid_steps, minimum=0)
    lr, centroid_lr = check_positive_float("lr", lr), check_positive_float("centroid_lr", centroid_lr)
    rng = check_int("rng", rng, minimum=0)
    weights = prunable_weights(model)
    if not isinstance(kept, dict) or sorted(kept) != sorted(weights):
        raise ValueError(f"kept must be a dict with a fraction for each of {list(weights)}.")
    masks = {n: magnitude_mask(w, 1.0 - kept[n]) for n, w in weights.items()}

    def measure(m):
        return accuracy(m, test.images, test.labels)

    n = len(train.labels)
    stages = []
    size = write_dense(model, folder / "dense.f32")
    stages.append({"stage": STAGES[0], "bytes": size, "accuracy": measure(read_dense(folder / "dense.f32",
                                                                                   type(model)()))})
    pruned_accuracy = measure(apply_masks(model, masks))
    torch.manual_seed(rng)
    pruned = fine_tune(model, masks, train.images, train.labels, epochs=_epochs(prune_steps, n),
                       max_steps=prune_steps, lr=lr, rng=rng)
    name = {"LeNet300100": "lenet300", "LeNet5": "lenet5"}.get(type(model).__name__)
    size = export_pruned(pruned, masks, folder / "pruned.pt")
    back = load_pruned(folder / "pruned.pt", name) if name else pruned
    stages.append({"stage": STAGES[1], "bytes": size, "accuracy": measure(back)})
    shared = share_model(pruned, bits, iters=iters)
    shared_accuracy = measure(shared)
    torch.manual_seed(rng)
    tuned = fine_tune_centroids(shared, train.images, train.labels, epochs=_epochs(centroid_steps, n),
                                max_steps=centroid_steps, lr=centroid_lr, rng=rng)
    for stage, coding, file in ((STAGES[2], "fixed", "shared.fixed.dc"), (STAGES[3], "huffman", "shared.dc")):
        size = save_shared_model(tuned, folder / file, coding=coding)
        back = load_shared_model(folder / file, type(model)())
        stages.append({"stage": stage, "bytes": size, "accuracy": measure(back)})
    streams = {layer: stream_sizes(*triple) for layer, triple in shared_layers(back).items()}
    return {"stages": stages, "pruned_accuracy": pruned_accuracy, "shared_accuracy": shared_accuracy,
            "weights": int(sum(w.size for w in weights.values())),
            "nonzero": int(sum(m.sum() for m in masks.values())), "streams": streams, "pruned": pruned, "masks": masks,
            "model": back}
