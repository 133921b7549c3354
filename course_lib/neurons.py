"""Neuron pruning: remove neurons that rarely fire, merge neurons that duplicate others.

A hidden neuron of an MLP costs a row of the layer before it and a column of the
layer after it. Two kinds of neurons can go with little or no loss:

* **rarely active** neurons, whose output after the ReLU is almost always zero
  or small (Hu et al. [1]_): measured by the Average Percentage of Zeros (APoZ)
  and by how often the output is *large* (the fire rate);
* **duplicate** neurons, whose outputs are (almost) the same as another
  neuron's (Srinivas & Babu [2]_): the duplicate's outgoing weights are added to
  the neuron it duplicates, then it is removed.

Statistics are collected on data (:func:`collect_activations`,
:func:`activation_stats`), neurons are chosen (:func:`rarely_active`,
:func:`find_duplicates`) and then removed from the weights
(:func:`remove_neurons`, :func:`merge_neurons`) -- or from a whole
LeNet-300-100 at once with :func:`shrink_mlp`, which returns a physically
smaller ``LeNet300100(hidden=(h1, h2))``.

Weights use PyTorch's layout: a layer ``y = W x + b`` with ``W`` of shape
``(out, in)``. For a hidden layer, ``w_in`` is ``(units, in)``, ``b_in`` is
``(units,)`` and the next layer's ``w_out`` is ``(out, units)``.

References
----------
.. [1] H. Hu, R. Peng, Y.-W. Tai, C.-K. Tang, "Network Trimming: A Data-Driven
   Neuron Pruning Approach towards Efficient Deep Architectures", arXiv:1607.03250, 2016.
.. [2] S. Srinivas, R. V. Babu, "Data-free parameter pruning for Deep Neural
   Networks", BMVC 2015.
"""

from __future__ import annotations

import copy
import numbers
from collections.abc import Mapping, Sequence

import numpy as np
import torch
from torch import nn

from ._validation import check_choice, check_float_array, check_int, check_positive_float
from .models import LeNet300100, to_tensor

__all__ = [
    "FIRE_FRACTION",
    "collect_activations",
    "activation_stats",
    "rarely_active",
    "find_duplicates",
    "remove_neurons",
    "merge_neurons",
    "shrink_mlp",
    "make_duplicate",
]

#: default fire threshold = FIRE_FRACTION x the layer's mean of per-neuron maxima
FIRE_FRACTION = 0.5
HIDDEN_LAYERS = {"fc1": "fc2", "fc2": "fc3"}  # LeNet300100: hidden layer -> the layer reading it


# --------------------------------------------------------------------------- checks

def _check_acts(acts) -> np.ndarray:
    arr = check_float_array("acts", acts, ndim=2)
    if arr.min() < 0:
        raise ValueError(f"acts has negative values (min {arr.min():.3g}), must be >= 0: "
                         "pass the layer's outputs after the ReLU.")
    return arr.astype(np.float64)


def _check_layer(w_in, b_in, w_out) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    w_in = check_float_array("w_in", w_in, ndim=2)
    b_in = check_float_array("b_in", b_in, ndim=1)
    w_out = check_float_array("w_out", w_out, ndim=2)
    units = w_in.shape[0]
    if b_in.shape[0] != units:
        raise ValueError(f"b_in has {b_in.shape[0]} entries but w_in has {units} rows (one per neuron): "
                         "they must match.")
    if w_out.shape[1] != units:
        raise ValueError(f"w_out has {w_out.shape[1]} columns but w_in has {units} rows (one per neuron): "
                         "they must match.")
    return w_in, b_in, w_out


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def _check_indices(name: str, value, units: int) -> np.ndarray:
    arr = np.asarray(value)
    if arr.size == 0:
        return np.zeros(0, dtype=np.intp)
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"{name} must be a sequence of int neuron indices, got dtype {arr.dtype}.")
    if arr.ndim != 1:
        raise ValueError(f"{name} has {arr.ndim} dimension(s) (shape {arr.shape}), must be a 1-D sequence of indices.")
    bad = arr[(arr < 0) | (arr >= units)]
    if bad.size:
        raise ValueError(f"{name} contains {int(bad[0])}, must be in [0, {units - 1}] "
                         f"(the layer has {units} neurons).")
    values, counts = np.unique(arr, return_counts=True)
    if np.any(counts > 1):
        raise ValueError(f"{name} contains {int(values[counts > 1][0])} more than once: "
                         "each neuron can be removed only once.")
    return arr.astype(np.intp)


def _check_pairs(name: str, pairs, units: int) -> list[tuple[int, int]]:
    if isinstance(pairs, np.ndarray):
        pairs = pairs.tolist()
    if not isinstance(pairs, Sequence) or isinstance(pairs, str):
        raise TypeError(f"{name} must be a list of (keep, drop) pairs, got {type(pairs).__name__}.")
    checked = []
    for i, pair in enumerate(pairs):
        if not isinstance(pair, Sequence) or len(pair) != 2 or not all(_is_int(p) for p in pair):
            raise TypeError(f"{name}[{i}] == {pair!r}, must be a (keep, drop) pair of int neuron indices.")
        keep, drop = int(pair[0]), int(pair[1])
        for index in (keep, drop):
            if not 0 <= index < units:
                raise ValueError(f"{name}[{i}] == ({keep}, {drop}) contains {index}, must be in "
                                 f"[0, {units - 1}] (the layer has {units} neurons).")
        if keep == drop:
            raise ValueError(f"{name} contains ({keep}, {drop}): a neuron cannot be merged with itself.")
        checked.append((keep, drop))
    drops = [d for _, d in checked]
    values, counts = np.unique(np.array(drops, dtype=np.intp), return_counts=True)
    if np.any(counts > 1):
        raise ValueError(f"{name} drops neuron {int(values[counts > 1][0])} more than once: "
                         "each neuron can be dropped only once.")
    both = sorted({k for k, _ in checked} & set(drops))
    if both:
        raise ValueError(f"{name} keeps and drops neuron {both[0]}: a dropped neuron cannot also be kept "
                         "(merge chains into one neuron, e.g. (0, 1), (0, 2) instead of (0, 1), (1, 2)).")
    return checked


def _check_fraction(name: str, value) -> float:
    value = check_positive_float(name, value, allow_zero=True)
    if value > 1:
        raise ValueError(f"{name} == {value}, must be <= 1.")
    return value


def _check_lenet(model) -> None:
    if not isinstance(model, LeNet300100):
        raise TypeError(f"model must be a LeNet300100, got {type(model).__name__}.")


# --------------------------------------------------------------------------- the technique, on arrays

def _absorb(w_out: np.ndarray, pairs) -> np.ndarray:
    """``w_out[:, keep] += w_out[:, drop]`` for every pair, on a copy."""
    merged = w_out.copy()
    for keep, drop in pairs:
        merged[:, keep] += w_out[:, drop]
    return merged


def _remove(w_in, b_in, w_out, drop):
    if len(drop) >= w_in.shape[0]:
        raise ValueError(f"drop removes all {w_in.shape[0]} neurons, must leave at least one.")
    return np.delete(w_in, drop, axis=0), np.delete(b_in, drop), np.delete(w_out, drop, axis=1)


def collect_activations(model: nn.Module, images, layers, *, batch_size: int = 1000) -> dict[str, np.ndarray]:
    """Outputs after the ReLU of the named ``nn.Linear`` layers on ``images``.

    Parameters
    ----------
    model : torch.nn.Module
        E.g. a :class:`~course_lib.models.LeNet300100`.
    images : numpy.ndarray
        uint8 images as loaded by :mod:`course_lib.data`, shape (N, H, W) or (N, H, W, 3).
    layers : str or sequence of str
        Names of ``nn.Linear`` submodules, e.g. ``("fc1", "fc2")``.
    batch_size : int, keyword-only
        Images per forward pass.

    Returns
    -------
    dict
        ``{layer: acts}`` with ``acts`` a float32 array of shape (N, units).

    Raises
    ------
    TypeError, ValueError
        For a model that is not a module, unknown layer names, empty images or a bad ``batch_size``.

    Notes
    -----
    LeNet300100 applies ``torch.relu`` as a function, so there is no ReLU module
    to hook. A forward hook on each Linear layer records ``relu(W x + b)``
    instead: this is the layer's activation only for layers followed by a ReLU
    (``fc1`` and ``fc2`` of LeNet-300-100, not the logits ``fc3``).
    The forward passes run in eval and inference mode; the model's
    train/eval mode is restored and the hooks removed afterwards.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}.")
    batch_size = check_int("batch_size", batch_size, minimum=1)
    layers = (layers,) if isinstance(layers, str) else tuple(layers)
    if not layers:
        raise ValueError("layers is empty, must name at least one nn.Linear layer.")
    linear = {name: m for name, m in model.named_modules() if isinstance(m, nn.Linear)}
    for name in layers:
        if name not in linear:
            options = ", ".join(repr(n) for n in linear)
            raise ValueError(f"layers contains {name!r}, must name nn.Linear layers of the model: {options}.")
    images = np.asarray(images)
    if images.ndim not in (3, 4):
        raise ValueError(f"images has shape {images.shape}, must be a batch (N, H, W) or (N, H, W, 3).")
    if len(images) == 0:
        raise ValueError("images is empty, must have at least one image.")

    chunks = {name: [] for name in layers}

    def hook_for(name):
        def hook(module, inputs, output):
            chunks[name].append(torch.relu(output).cpu().numpy())
        return hook

    handles = [linear[name].register_forward_hook(hook_for(name)) for name in chunks]
    was_training = model.training
    try:
        model.eval()
        with torch.inference_mode():
            for start in range(0, len(images), batch_size):
                model(to_tensor(images[start:start + batch_size]))
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    return {name: np.concatenate(parts).astype(np.float32) for name, parts in chunks.items()}


def activation_stats(acts, *, threshold: float | None = None) -> dict[str, np.ndarray]:
    r"""Per-neuron statistics of one layer's activations.

    Parameters
    ----------
    acts : array_like, shape (N, units)
        Outputs after the ReLU (>= 0), one row per example.
    threshold : float or None, keyword-only
        An output > ``threshold`` counts as "large" (the neuron fires). Default:
        ``FIRE_FRACTION`` (0.5) times the layer's mean of per-neuron maxima.

    Returns
    -------
    dict
        1-D float arrays of length ``units``: ``"mean"``, ``"max"``, ``"apoz"``, ``"fire_rate"``.

    Raises
    ------
    TypeError, ValueError
        For activations that are not a 2-D, non-empty, finite, non-negative real
        array, or a negative or non-finite ``threshold``.

    Notes
    -----
    With :math:`a_{ij}` the output of neuron :math:`j` on example :math:`i`:

    .. math::

        \mathrm{APoZ}_j = \frac{1}{N} \sum_i [a_{ij} = 0], \qquad
        \mathrm{fire}_j = \frac{1}{N} \sum_i [a_{ij} > t], \qquad
        t = 0.5 \cdot \frac{1}{U} \sum_j \max_i a_{ij}.

    The default threshold is relative to the layer, so it needs no tuning per
    layer: "large" means more than half of a typical neuron's peak output.
    An output exactly equal to the threshold does not count. If every output
    is 0 (a dead layer), the default threshold is 0 and every fire rate is 0.

    References
    ----------
    .. [1] H. Hu et al., "Network Trimming", arXiv:1607.03250, 2016 (APoZ).
    """
    a = _check_acts(acts)
    peak = a.max(axis=0)
    if threshold is None:
        threshold = FIRE_FRACTION * float(peak.mean())
    else:
        threshold = check_positive_float("threshold", threshold, allow_zero=True)
    return {
        "mean": a.mean(axis=0),
        "max": peak,
        "apoz": np.mean(a == 0, axis=0),
        "fire_rate": np.mean(a > threshold, axis=0),
    }


def rarely_active(stats: Mapping, *, max_fire_rate: float | None = None,
                  min_apoz: float | None = None) -> np.ndarray:
    """Indices of the neurons that fire rarely, by the statistics of :func:`activation_stats`.

    Parameters
    ----------
    stats : dict
        As returned by :func:`activation_stats`.
    max_fire_rate : float in [0, 1] or None, keyword-only
        Select neurons with ``fire_rate <= max_fire_rate`` (0: never large).
    min_apoz : float in [0, 1] or None, keyword-only
        Select neurons with ``apoz >= min_apoz`` (1: dead, always exactly 0).

    Returns
    -------
    numpy.ndarray
        Sorted int array of the neurons meeting *every* criterion given.

    Raises
    ------
    TypeError, ValueError
        If neither criterion is given, a criterion is outside [0, 1], or
        ``stats`` lacks the statistic it needs.
    """
    if max_fire_rate is None and min_apoz is None:
        raise ValueError("give max_fire_rate, min_apoz or both: no criterion to select neurons by.")
    if not isinstance(stats, Mapping):
        raise TypeError(f"stats must be the dict returned by activation_stats, got {type(stats).__name__}.")
    masks = []
    criteria = (("max_fire_rate", max_fire_rate, "fire_rate", np.less_equal),
                ("min_apoz", min_apoz, "apoz", np.greater_equal))
    for name, limit, key, keep_if in criteria:
        if limit is None:
            continue
        limit = _check_fraction(name, limit)
        if key not in stats:
            raise ValueError(f"stats has no {key!r}, must be the dict returned by activation_stats.")
        values = check_float_array(f"stats[{key!r}]", stats[key], ndim=1)
        masks.append(keep_if(values, limit))
    if len(masks) == 2 and masks[0].shape != masks[1].shape:
        raise ValueError(f"stats['fire_rate'] and stats['apoz'] differ in length: "
                         f"{masks[0].size} != {masks[1].size}.")
    return np.flatnonzero(np.logical_and.reduce(masks))


def find_duplicates(acts, *, tol: float = 1e-2) -> list[tuple[int, int]]:
    r"""Pairs ``(keep, drop)`` of neurons whose outputs are (nearly) the same.

    Parameters
    ----------
    acts : array_like, shape (N, units)
        Outputs after the ReLU (>= 0), one row per example.
    tol : float >= 0, keyword-only
        Relative distance below which two neurons count as duplicates (0: identical).

    Returns
    -------
    list of (int, int)
        ``keep < drop``, sorted; each neuron is dropped at most once and a
        dropped neuron is never a ``keep``: the pairs go straight into
        :func:`merge_neurons`.

    Raises
    ------
    TypeError, ValueError
        For activations that are not a 2-D, non-empty, finite, non-negative
        real array, or a negative ``tol``.

    Notes
    -----
    Neuron :math:`d` duplicates neuron :math:`k` when, over the examples,

    .. math:: \|a_k - a_d\| \le \mathrm{tol} \cdot \max(\|a_k\|, \|a_d\|, \varepsilon).

    Greedy and deterministic: neurons are scanned in index order and each
    neuron not yet dropped keeps every later neuron close to it. The relation
    is not transitive, so near-duplicate chains may keep more than one neuron.
    Dead neurons (all outputs 0) are not reported: :func:`rarely_active` with
    ``min_apoz=1`` finds them, and removing them needs no merge.

    References
    ----------
    .. [2] S. Srinivas, R. V. Babu, "Data-free parameter pruning for Deep Neural Networks", BMVC 2015.
    """
    a = _check_acts(acts)
    tol = check_positive_float("tol", tol, allow_zero=True)
    norms = np.linalg.norm(a, axis=0)
    alive = norms > 0
    dropped = np.zeros(a.shape[1], dtype=bool)
    pairs = []
    for keep in np.flatnonzero(alive):
        if dropped[keep]:
            continue
        later = np.arange(keep + 1, a.shape[1])
        later = later[alive[later] & ~dropped[later]]
        if later.size == 0:
            continue
        distance = np.linalg.norm(a[:, later] - a[:, [keep]], axis=0)
        scale = np.maximum(np.maximum(norms[later], norms[keep]), np.finfo(float).tiny)
        for drop in later[distance <= tol * scale]:
            pairs.append((int(keep), int(drop)))
            dropped[drop] = True
    return pairs


def remove_neurons(w_in, b_in, w_out, drop) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Remove hidden neurons: rows of ``w_in`` and ``b_in``, columns of ``w_out``.

    Parameters
    ----------
    w_in : array_like, shape (units, in)
        Incoming weights (PyTorch layout).
    b_in : array_like, shape (units,)
        Incoming biases.
    w_out : array_like, shape (out, units)
        Outgoing weights: the next layer's weight.
    drop : sequence of int
        Neurons to remove, each in [0, units) and at most once; not all of them.

    Returns
    -------
    (w_in, b_in, w_out) : tuple of numpy.ndarray
        New arrays with ``units - len(drop)`` neurons; the inputs are not changed.

    Raises
    ------
    TypeError, ValueError
        For shapes that disagree on the number of neurons, or bad indices.

    Notes
    -----
    The layer pair computes :math:`y = W_{out}\,\mathrm{relu}(W_{in} x + b_{in})
    = \sum_j W_{out}[:, j]\, a_j`. Removing neuron :math:`j` removes the term
    :math:`W_{out}[:, j]\, a_j`: exact on inputs where :math:`a_j = 0` (a dead
    neuron), an approximation for a rarely active one. Removing :math:`k`
    neurons saves :math:`k\,(\mathit{in} + 1 + \mathit{out})` parameters.
    """
    w_in, b_in, w_out = _check_layer(w_in, b_in, w_out)
    drop = _check_indices("drop", drop, w_in.shape[0])
    return _remove(w_in, b_in, w_out, drop)


def merge_neurons(w_in, b_in, w_out, pairs) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Merge each neuron ``drop`` into neuron ``keep``, then remove ``drop``.

    Parameters
    ----------
    w_in, b_in, w_out : array_like
        As in :func:`remove_neurons`.
    pairs : sequence of (int, int)
        ``(keep, drop)`` pairs, e.g. from :func:`find_duplicates`. A neuron is
        dropped at most once and a dropped neuron is never kept.

    Returns
    -------
    (w_in, b_in, w_out) : tuple of numpy.ndarray
        New arrays with ``units - len(pairs)`` neurons; the inputs are not changed.

    Raises
    ------
    TypeError, ValueError
        For mismatched shapes, indices out of range, ``keep == drop``, a
        neuron dropped twice or both kept and dropped.

    Notes
    -----
    Outgoing weights are added, ``W_out[:, keep] += W_out[:, drop]``, then
    ``drop`` is removed. Since

    .. math:: y = W_{out}\,\mathrm{relu}(W_{in} x + b_{in}) = \sum_j W_{out}[:, j]\, a_j,

    when :math:`a_{drop} = a_{keep}` the two terms
    :math:`W_{out}[:, keep]\, a_{keep} + W_{out}[:, drop]\, a_{drop}` equal
    :math:`(W_{out}[:, keep] + W_{out}[:, drop])\, a_{keep}`: the merge is
    exact for identical outputs, e.g. identical incoming weights and biases
    (Srinivas & Babu [2]_), and approximate for near-duplicates.

    References
    ----------
    .. [2] S. Srinivas, R. V. Babu, "Data-free parameter pruning for Deep Neural Networks", BMVC 2015.
    """
    w_in, b_in, w_out = _check_layer(w_in, b_in, w_out)
    pairs = _check_pairs("pairs", pairs, w_in.shape[0])
    return _remove(w_in, b_in, _absorb(w_out, pairs), [d for _, d in pairs])


def shrink_mlp(model: LeNet300100, *, drop: Mapping | None = None, merge: Mapping | None = None) -> LeNet300100:
    """A new, physically smaller LeNet-300-100 without the given hidden neurons.

    Parameters
    ----------
    model : LeNet300100
        Not changed.
    drop : dict or None, keyword-only
        ``{"fc1": indices, "fc2": indices}``: neurons to remove (:func:`remove_neurons`).
    merge : dict or None, keyword-only
        ``{"fc1": pairs, "fc2": pairs}``: ``(keep, drop)`` pairs to merge (:func:`merge_neurons`).

    Returns
    -------
    LeNet300100
        ``LeNet300100(hidden=(h1, h2))`` with the remaining neurons, in the
        model's train/eval mode. Its state dict is smaller by
        ``k (in + 1 + out)`` parameters per removed neuron.

    Raises
    ------
    TypeError, ValueError
        For a model that is not a LeNet300100, unknown layer names, bad indices
        or pairs, or a neuron both removed and merged.

    Notes
    -----
    Indices refer to the neurons of the *original* model. A hidden layer's
    neurons are rows of its own weight and columns of the next layer's
    (fc1 -> fc2, fc2 -> fc3), so the two layers shrink independently.
    """
    _check_lenet(model)
    plans = {}
    for name, value in (("drop", drop), ("merge", merge)):
        value = {} if value is None else value
        if not isinstance(value, Mapping):
            raise TypeError(f"{name} must be a dict layer name -> neurons, got {type(value).__name__}.")
        for layer in value:
            if layer not in HIDDEN_LAYERS:
                raise ValueError(f"{name} has layer {layer!r}, must be one of 'fc1', 'fc2' (the hidden layers).")
        plans[name] = value
    params = {k: v.detach().cpu().numpy() for k, v in model.state_dict().items()}
    for layer, nxt in HIDDEN_LAYERS.items():
        w_in, b_in, w_out = params[f"{layer}.weight"], params[f"{layer}.bias"], params[f"{nxt}.weight"]
        units = w_in.shape[0]
        removed = _check_indices(f"drop[{layer!r}]", plans["drop"].get(layer, []), units)
        pairs = _check_pairs(f"merge[{layer!r}]", plans["merge"].get(layer, []), units)
        both = sorted(set(removed.tolist()) & {n for pair in pairs for n in pair})
        if both:
            raise ValueError(f"drop[{layer!r}] and merge[{layer!r}] both contain neuron {both[0]}: "
                             "a neuron is either removed or merged, not both.")
        gone = np.concatenate([removed, np.array([d for _, d in pairs], dtype=np.intp)])
        if len(gone) >= units:
            raise ValueError(f"drop[{layer!r}] and merge[{layer!r}] remove all {units} neurons, "
                             "must leave at least one.")
        params[f"{layer}.weight"], params[f"{layer}.bias"], params[f"{nxt}.weight"] = _remove(
            w_in, b_in, _absorb(w_out, pairs), gone)
    small = LeNet300100(hidden=(params["fc1.weight"].shape[0], params["fc2.weight"].shape[0]))
    small.load_state_dict({k: torch.tensor(v) for k, v in params.items()})
    return small.train(model.training)


def make_duplicate(model: LeNet300100, layer: str, source: int, target: int) -> LeNet300100:
    """A copy of ``model`` where neuron ``target`` of ``layer`` is an exact copy of neuron ``source``.

    Copies the incoming weights and bias, so the two neurons' outputs are equal
    on every input and :func:`find_duplicates` with ``tol=0`` finds them. The
    new model differs from ``model`` (``target``'s old output is gone); merging
    ``(source, target)`` with :func:`shrink_mlp` then leaves its logits
    unchanged. For teaching: trained networks rarely hold exact duplicates.

    Parameters
    ----------
    model : LeNet300100
        Not changed.
    layer : {"fc1", "fc2"}
        The hidden layer.
    source, target : int
        Two different neurons of ``layer``.

    Returns
    -------
    LeNet300100
        A deep copy with the target neuron overwritten.

    Raises
    ------
    TypeError, ValueError
        For a model that is not a LeNet300100, an unknown layer, indices out of
        range or ``source == target``.
    """
    _check_lenet(model)
    check_choice("layer", layer, tuple(HIDDEN_LAYERS))
    units = getattr(model, layer).out_features
    source = check_int("source", source, minimum=0, maximum=units - 1)
    target = check_int("target", target, minimum=0, maximum=units - 1)
    if source == target:
        raise ValueError(f"source == target == {source}, must be two different neurons.")
    twin = copy.deepcopy(model)
    linear = getattr(twin, layer)
    with torch.no_grad():
        linear.weight[target] = linear.weight[source]
        linear.bias[target] = linear.bias[source]
    return twin
