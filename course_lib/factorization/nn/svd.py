"""A trained Linear layer as two thinner Linear layers from its truncated SVD (Denton et al. 2014).

``y = x W^T + b`` with ``W ~ A B`` (:mod:`course_lib.factorization.svd`) becomes

.. math:: y = (x B^T) A^T + b,

a ``Linear(m, k, bias=False)`` with weight ``B`` followed by a ``Linear(k, n)`` with weight
``A`` and the original bias. On a batch of ``t`` inputs the cost falls from ``t n m`` to
``t k (n + m)`` multiply-adds: fewer only for ``k < n m / (n + m)``, the break-even rank.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from torch import nn

from ..._validation import (
    check_bool,
    check_choice,
    check_float_array,
    check_int,
    check_labels,
    check_model,
    check_names,
    check_positive_float,
    check_random_state,
)
from ...layers import num_outputs, set_submodule
from ...measure import latency
from ...models import check_images
from ...train import adam_steps
from ..randomized import randomized_svd
from ..svd import TruncatedSVD, choose_rank, truncated_svd

__all__ = ["SVD_METHODS", "factorize_linear", "factorize_model", "fine_tune_factorized", "linear_latency"]

SVD_METHODS = ("exact", "randomized")


def _check_linear(name: str, layer) -> nn.Linear:
    if not isinstance(layer, nn.Linear):
        extra = " (a convolution is factorized by flattening it, notebook 07)" if isinstance(layer, nn.Conv2d) else ""
        raise TypeError(f"{name} is a {type(layer).__name__}, must be a torch.nn.Linear{extra}.")
    return layer


def _decompose(weight: np.ndarray, rank, energy, compression, method, oversamples, power_iterations,
               random_state) -> TruncatedSVD:
    method = check_choice("method", method, SVD_METHODS)
    if method == "exact":
        return truncated_svd(weight, rank, energy=energy, compression=compression)
    if energy is not None:
        raise ValueError("energy needs the whole spectrum, must be used with method='exact'.")
    n, m = weight.shape
    k = choose_rank(None, n, m, rank, compression=compression)
    u, s, vt = randomized_svd(weight, k, oversamples=oversamples, power_iterations=power_iterations,
                              random_state=random_state)
    return TruncatedSVD(u, s, vt, s)  # only the k leading values are known


def _check_svd(svd, shape) -> TruncatedSVD:
    if not isinstance(svd, TruncatedSVD):
        raise TypeError(f"svd must be None or the TruncatedSVD of this layer's {shape[0]}x{shape[1]} weight "
                        f"(from truncated_svd), got {type(svd).__name__} ({svd!r:.40}).")
    if (svd.u.shape[0], svd.vt.shape[1]) != tuple(shape):
        raise ValueError(f"svd must be the TruncatedSVD of this layer's {shape[0]}x{shape[1]} weight "
                         f"(from truncated_svd), got {type(svd).__name__}.")
    return svd


def _leading(svd, shape, k: int) -> TruncatedSVD:
    if k > svd.rank:
        raise ValueError(f"rank == {k}, must be <= {svd.rank}, the rank of the svd given.")
    return svd.truncate(k)


def factorize_linear(layer, rank=None, *, energy=None, compression=None, method: str = "exact",
                     oversamples: int = 10, power_iterations: int = 2, random_state=0, svd=None) -> nn.Sequential:
    """``layer`` as ``Sequential(Linear(m, k, bias=False), Linear(k, n))`` from its rank-``k`` SVD.

    Parameters
    ----------
    layer : torch.nn.Linear
        Not modified. Its ``weight`` is ``n x m`` (outputs x inputs).
    rank, energy, compression
        Exactly one: the rank ``k``, the share of ``sum s_i^2`` to keep (exact SVD only), or a
        target compression of the weight (see :func:`~course_lib.factorization.svd.truncated_svd`).
    method : {"exact", "randomized"}, keyword-only
        ``np.linalg.svd`` or :func:`~course_lib.factorization.randomized.randomized_svd`.
    oversamples, power_iterations, random_state : keyword-only
        For ``method="randomized"`` (``p``, ``q`` and the seed).
    svd : TruncatedSVD or None, keyword-only
        The exact SVD of this layer's weight, already computed (``truncated_svd(weight, r)`` with
        ``r >= rank``): its leading ``rank`` terms are used, so a sweep over ranks decomposes once.

    Returns
    -------
    torch.nn.Sequential
        Two Linear layers in ``layer``'s dtype: the first holds ``B = sqrt(s) V^T`` (k x m), the
        second ``A = U sqrt(s)`` (n x k) and the bias; ``forward(x) == x @ (A B)^T + b``.

    Raises
    ------
    TypeError
        If ``layer`` is not a ``torch.nn.Linear`` (a Conv2d is named, with where it is handled), ``svd`` is
        not a TruncatedSVD, or an option has the wrong type.
    ValueError
        If the rank rule is broken, ``method`` is unknown, ``energy`` is asked of the randomized SVD,
        ``svd`` is of another matrix, ``oversamples`` or ``power_iterations`` is negative, or the layer's
        weight holds NaN/inf.
    """
    _check_linear("layer", layer)
    weight = check_float_array("layer.weight", layer.weight.detach().cpu().numpy(), ndim=2)
    check_choice("method", method, SVD_METHODS)
    check_int("oversamples", oversamples, minimum=0)
    check_int("power_iterations", power_iterations, minimum=0)
    check_random_state(random_state, "random_state")
    if svd is not None:
        svd = _check_svd(svd, weight.shape)
    if svd is None:
        svd = _decompose(weight, rank, energy, compression, method, oversamples, power_iterations, random_state)
    else:
        svd = _leading(svd, weight.shape, choose_rank(svd.spectrum, *weight.shape, rank, energy=energy,
                                                      compression=compression))
    a, b = svd.factors()
    k = svd.rank
    dtype = layer.weight.dtype
    first = nn.Linear(layer.in_features, k, bias=False, dtype=dtype)
    second = nn.Linear(k, layer.out_features, bias=layer.bias is not None, dtype=dtype)
    with torch.no_grad():
        first.weight.copy_(torch.from_numpy(np.ascontiguousarray(b)))
        second.weight.copy_(torch.from_numpy(np.ascontiguousarray(a)))
        if layer.bias is not None:
            second.bias.copy_(layer.bias.detach())
    return nn.Sequential(first, second).train(layer.training)


def factorize_model(model, ranks: dict, *, method: str = "exact", oversamples: int = 10,
                    power_iterations: int = 2, random_state=0, svds: dict | None = None) -> nn.Module:
    """A copy of ``model`` with the named Linear layers replaced by their rank-``k`` factorizations.

    Parameters
    ----------
    model : torch.nn.Module
        Not modified.
    ranks : dict of str -> int
        Layer name (as in ``named_modules()``) -> rank, e.g. ``{"fc1": 50, "fc2": 100}`` or
        ``{"classifier.1": 64}``.
    method, oversamples, power_iterations, random_state : keyword-only
        As in :func:`factorize_linear`.
    svds : dict of str -> TruncatedSVD or None, keyword-only
        Exact SVDs already computed, by layer name (``svd`` of :func:`factorize_linear`).

    Returns
    -------
    torch.nn.Module
        The copy, in eval mode.

    Raises
    ------
    TypeError
        If ``model`` is not a Module, ``ranks`` or ``svds`` not a dict, or a named layer not a Linear
        (``ranks['conv1']: conv1 is a Conv2d, must be a torch.nn.Linear ...``).
    ValueError
        If ``ranks`` is empty, names no layer of the model, or a rank is out of range.
    """
    check_model(model)
    if not isinstance(ranks, dict):
        raise TypeError(f"ranks must be a dict of layer name -> rank, got {type(ranks).__name__}.")
    if svds is not None and not isinstance(svds, dict):
        raise TypeError(f"svds must be None or a dict of layer name -> TruncatedSVD, got {type(svds).__name__}.")
    if not ranks:
        raise ValueError("ranks is empty, must name at least one Linear layer.")
    modules = dict(model.named_modules())
    for name in ranks:
        if not isinstance(name, str) or name not in modules or not name:
            linear = [n for n, m in modules.items() if isinstance(m, nn.Linear)]
            raise ValueError(f"ranks names {name!r}, must name a layer of the model (its Linear layers: "
                             f"{', '.join(linear)}).")
        _check_linear(f"ranks[{name!r}]: {name}", modules[name])
    check_choice("method", method, SVD_METHODS)
    check_int("oversamples", oversamples, minimum=0)
    check_int("power_iterations", power_iterations, minimum=0)
    check_random_state(random_state, "random_state")
    new = copy.deepcopy(model)
    for name, k in ranks.items():
        try:
            factorized = factorize_linear(modules[name], k, method=method, oversamples=oversamples,
                                          power_iterations=power_iterations, random_state=random_state,
                                          svd=(svds or {}).get(name))
        except (TypeError, ValueError) as exc:
            where = f"svds[{name!r}]" if str(exc).startswith("svd ") else f"ranks[{name!r}]"
            raise type(exc)(f"{where}: {exc}") from None
        set_submodule(new, name, factorized)
    return new.eval()


def fine_tune_factorized(model, images, labels, *, epochs: int = 1, max_steps: int | None = None,
                         batch_size: int = 128, lr: float = 1e-4, rng=0, progress: bool = False,
                         trainable=None) -> nn.Module:
    """A fine-tuned copy of a factorized ``model``: its parameters, the factors included, trained with Adam.

    Parameters
    ----------
    model : torch.nn.Module
        Not modified (e.g. from :func:`factorize_model`).
    images : uint8 ndarray
        Training images as :mod:`course_lib.data` loads them.
    labels : int ndarray, shape (N,)
    epochs, max_steps, batch_size : keyword-only
        As in :func:`course_lib.train.adam_steps`.
    lr : float, keyword-only
        Adam's learning rate (small: the factors start from a good point).
    rng : None, int or numpy.random.Generator, keyword-only
        Shuffles the examples.
    progress : bool, keyword-only
        A progress bar.
    trainable : sequence of str or None, keyword-only
        Train only the parameters of these submodules (e.g. ``["classifier"]``: the layers above
        the convolutions, as Denton et al. fine-tune); the rest stay frozen, their batch-norm
        statistics too (momentum 0). ``None``: every parameter.

    Returns
    -------
    torch.nn.Module
        The copy, in eval mode.

    Raises
    ------
    TypeError, ValueError
        For a bad model, images, labels or count (as :func:`course_lib.pruning.nn.fine_tune`), or a
        ``trainable`` name that is not a submodule.
    """
    check_model(model)
    x_all = check_images(model, images)
    labels = check_labels(labels, len(x_all), num_classes=num_outputs(model))
    new = copy.deepcopy(model)
    if trainable is not None:
        names = check_names("trainable", trainable, allowed=[n for n, _ in new.named_modules() if n])
        keep = {id(p) for n in names for p in new.get_submodule(n).parameters()}
        for p in new.parameters():
            p.requires_grad_(id(p) in keep)
        for m in new.modules():
            if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)) and not any(id(p) in keep for p in m.parameters()):
                m.momentum = 0.0  # in train mode it normalises by the batch, but its statistics stay
    return adam_steps(new, x_all, labels, epochs=check_int("epochs", epochs, minimum=0),
                      max_steps=check_int("max_steps", max_steps, minimum=0, allow_none=True),
                      batch_size=check_int("batch_size", batch_size, minimum=1), lr=check_positive_float("lr", lr),
                      gen=check_random_state(rng), progress=check_bool("progress", progress),
                      desc="fine-tune factors")


def linear_latency(layer, *, batch: int, threads: int = 1, repeats: int = 20, rng=0) -> float:
    """Median CPU time of ``layer`` (a Linear or its factorized Sequential) on a random batch, in ms.

    Parameters
    ----------
    layer : torch.nn.Module
        Takes ``(batch, in_features)`` inputs.
    batch : int, keyword-only
        Rows of the input (``t`` in the complexity formulas).
    threads, repeats : int, keyword-only
        As in :func:`course_lib.measure.latency`.
    rng : None, int or numpy.random.Generator, keyword-only
        For the input.

    Returns
    -------
    float

    Raises
    ------
    TypeError, ValueError
        For a layer that is not a Module or holds no ``nn.Linear`` (a Conv2d takes images, not rows), or a
        bad count.
    """
    check_model(layer, "layer")
    batch = check_int("batch", batch, minimum=1)
    check_int("threads", threads, minimum=1)
    check_int("repeats", repeats, minimum=1)
    first = next((m for m in layer.modules() if isinstance(m, nn.Linear)), None)
    if first is None:
        raise TypeError(f"layer is a {type(layer).__name__} without an nn.Linear, must be a Linear layer or its "
                        f"factorized Sequential (the input's width is the first Linear's in_features).")
    x = torch.from_numpy(check_random_state(rng).standard_normal((batch, first.in_features), dtype=np.float32))
    layer = layer.eval()
    return latency(lambda: layer(x), repeats=repeats, threads=threads).median_ms
