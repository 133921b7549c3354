"""Weight sharing in the summary: Deep Compression's three stages, and k-means sharing alone, as configurations.

Built by :mod:`course_lib.sharing.nn` (nothing is reimplemented here): every Linear/Conv2d's weights are
clustered into ``2**bits`` shared values (k-means, linear initialisation, Han et al. 2016), optionally the
centroids are fine-tuned on labelled data (:func:`~course_lib.sharing.nn.fine_tune_centroids`: the
indices never change), and the model is written to one file by
:func:`~course_lib.sharing.nn.save_shared_model` -- per layer a float32 codebook, the Huffman-coded
indices and, for a pruned layer, the Huffman-coded relative gaps; biases as float32. A configuration's
``bytes`` are **that file's size**, in a temporary folder that is removed afterwards.

Its ``model`` is the file **read back** (:func:`~course_lib.sharing.nn.load_shared_model`) and decoded to
a plain dense float32 model (:func:`~course_lib.sharing.nn.materialize`): no CPU kernel computes with
codebook indices, so the shared model runs as float32 -- its latency is float32's, its accuracy that of the
shared weights exactly.

Han et al. 2016 (Table 1 and the LeNet-300-100 table) share every layer of LeNet-300-100 at
:data:`PAPER_BITS` = 6 bits after pruning it to about 8 % of its weights.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from torch import nn

from ..._validation import check_choice, check_float, check_int, check_model, check_positive_float, check_text

__all__ = ["PAPER_BITS", "DENSE_BITS", "shared_file", "shared_config", "sharing_configs"]

#: Deep Compression's index width for every layer of LeNet-300-100 (Han et al. 2016)
PAPER_BITS = 6
#: the width of the summary's unpruned shared model
DENSE_BITS = 4


def shared_file(shared: nn.Module, source: nn.Module) -> tuple[nn.Module, int]:
    """Write a weight-shared model to a file, read it back and decode it: ``(dense float32 model, file bytes)``.

    Parameters
    ----------
    shared : torch.nn.Module
        Weight-shared (:func:`course_lib.sharing.nn.share_model`); not modified.
    source : torch.nn.Module
        A model of the same architecture (the one that was shared): the file is read back into a copy of it.

    Returns
    -------
    (torch.nn.Module, int)
        The model read back from the file with every weight decoded to ``codebook[indices]`` as a plain
        float32 tensor (eval mode), and the file's size in bytes (:func:`os.path.getsize`).

    Raises
    ------
    TypeError
        If ``shared`` or ``source`` is not a Module.
    ValueError
        If ``shared`` has no weight-shared layer, or the file does not fit ``source``.
    """
    from ...sharing.nn import load_shared_model, materialize, save_shared_model, shared_layers

    check_model(shared, "shared")
    check_model(source, "source")
    if not shared_layers(shared):
        raise ValueError("shared has no weight-shared layer, must come from course_lib.sharing.nn.share_model.")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.dc"
        size = save_shared_model(shared, path)
        decoded = materialize(load_shared_model(path, source))
    return decoded, int(size)


def shared_config(model: nn.Module, bits, *, name: str, family: str, needs: str, train=None, steps: int = 0,
                  lr: float = 1e-4, seed: int = 0):
    """A :class:`~course_lib.summary.nn.configs.Config` of ``model`` weight-shared, stored as one file.

    Parameters
    ----------
    model : torch.nn.Module
        Trained, or pruned and fine-tuned (its exact zeros are pruned weights: they stay zero and the file
        stores their positions as relative gaps); not modified.
    bits : int or dict of str -> int
        Index width (1 to 16) of every weight layer, or per layer name (:func:`course_lib.sharing.nn.share_model`).
    name, family, needs : str, keyword-only
        The configuration's fields; ``needs`` must be ``"labels"`` when ``steps > 0``.
    train : Dataset or None, keyword-only
        Labelled images of the model's data set, for the centroids' fine-tuning (batch 128).
    steps : int, keyword-only
        Adam steps of the centroids only; 0: the k-means centroids as they are.
    lr : float, keyword-only
        Adam's learning rate for the centroids.
    seed : int, keyword-only
        Seeds k-means and the fine-tuning's shuffling.

    Returns
    -------
    Config
        Its model is the file read back and decoded to dense float32 (:func:`shared_file`), its bytes the
        file's size.

    Raises
    ------
    TypeError
        If an argument has the wrong type (``train`` not a Dataset when ``steps > 0``).
    ValueError
        If ``bits`` is out of 1 to 16 or names a layer the model lacks, ``family`` / ``needs`` is unknown,
        ``steps < 0``, ``steps > 0`` without ``train`` or with ``needs != "labels"``, ``lr <= 0``, ``seed < 0``,
        or ``train`` holds the other data set's images.
    """
    import torch

    from ...sharing.nn import fine_tune_centroids, share_model
    from ...widgets.layout import check_dataset
    from ..decisions import NEEDS
    from .configs import FAMILIES, Config

    check_model(model)
    if not isinstance(bits, dict):
        check_int("bits", bits, minimum=1, maximum=16)
    check_text("name", name)
    check_choice("family", family, FAMILIES)
    check_choice("needs", needs, NEEDS)
    steps = check_int("steps", steps, minimum=0)
    lr = check_positive_float("lr", lr)
    seed = check_int("seed", seed, minimum=0)
    if steps > 0:
        if train is None:
            raise ValueError("train is None, must be a labelled Dataset when steps > 0 (the centroids' fine-tuning).")
        check_dataset("train", train, model)
        if needs != "labels":
            raise ValueError(f"needs == {needs!r}, must be 'labels' when steps > 0 (fine-tuning uses labels).")
    shared = share_model(model, bits, init="linear", rng=seed)
    if steps > 0:
        torch.manual_seed(seed)
        shared = fine_tune_centroids(shared, train.images, train.labels, max_steps=steps, batch_size=128, lr=lr,
                                     rng=seed)
    decoded, size = shared_file(shared, model)
    return Config(name, family, needs, decoded, size)


def sharing_configs(model: nn.Module, pruned: nn.Module, train, *, bits: int = PAPER_BITS,
                    dense_bits: int | None = DENSE_BITS, steps: int = 100, sparsity: float = 0.9,
                    seed: int = 0) -> list:
    """Deep Compression (pruned + shared + Huffman) and, optionally, sharing alone, as configurations.

    Parameters
    ----------
    model : torch.nn.Module
        The trained model (``load_pretrained("lenet300")``); not modified.
    pruned : torch.nn.Module
        The same architecture pruned and fine-tuned (zeros where pruned), e.g. the summary's
        ``"pruned 90% (CSR)"`` configuration's model; not modified.
    train : Dataset
        Labelled training images: the centroids' fine-tuning of the pruned model.
    bits : int, keyword-only
        Index width of every layer of the pruned model (default: Han et al.'s 6 for LeNet-300-100).
    dense_bits : int or None, keyword-only
        Index width of every layer of the unpruned model, shared with no data at all; None: leave it out.
    steps : int, keyword-only
        Adam steps of the pruned model's centroids (0: none; then it needs only what the pruning needed).
    sparsity : float, keyword-only
        The pruned model's sparsity, for its name.
    seed : int, keyword-only

    Returns
    -------
    list of Config
        ``"pruned 90% + shared 6-bit + Huffman"`` (family ``"combination"``, needs ``"labels"``), then
        ``"shared 4-bit + Huffman"`` (family ``"quantization"``, needs ``"none"``: k-means of the trained
        weights, no fine-tuning) unless ``dense_bits`` is None.

    Raises
    ------
    TypeError
        If ``model`` / ``pruned`` is not a Module or not of the same class, ``train`` not a Dataset, or a number
        has the wrong type.
    ValueError
        If ``pruned`` has no zero weight, a width is out of 1 to 16, ``steps < 0``, ``sparsity`` is not in
        (0, 1) or ``seed < 0``.
    """
    from ...layers import weight_layers
    from ...widgets.layout import check_dataset

    check_model(model)
    check_model(pruned, "pruned")
    if type(pruned) is not type(model):
        raise TypeError(f"pruned must be a {type(model).__name__} like model, got {type(pruned).__name__}.")
    check_dataset("train", train, model)
    bits = check_int("bits", bits, minimum=1, maximum=16)
    if dense_bits is not None:
        check_int("dense_bits", dense_bits, minimum=1, maximum=16)
    steps = check_int("steps", steps, minimum=0)
    sparsity = check_float("sparsity", sparsity, low=0.0, high=1.0, low_open=True, high_open=True)
    seed = check_int("seed", seed, minimum=0)
    if not any(bool((layer.weight == 0).any()) for layer in weight_layers(pruned).values()):
        raise ValueError("pruned has no zero weight, must be pruned (zeros where weights were removed).")
    out = [shared_config(pruned, bits, name=f"pruned {100 * sparsity:.0f}% + shared {bits}-bit + Huffman",
                         family="combination", needs="labels", train=train if steps else None, steps=steps,
                         seed=seed)]
    if dense_bits is not None:
        out.append(shared_config(model, dense_bits, name=f"shared {dense_bits}-bit + Huffman", family="quantization",
                                 needs="none", seed=seed))
    return out
