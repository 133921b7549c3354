"""Neuron pruning on arrays: statistics, rarely active and duplicate neurons, removal and merging. Pure NumPy.

A hidden neuron of an MLP costs a row of the layer before it and a column of the
layer after it. Two kinds of neurons can go with little or no loss:

* **rarely active** neurons, whose output after the ReLU is almost always zero
  or small (Hu et al. [1]_): measured by the Average Percentage of Zeros (APoZ)
  and by how often the output is *large* (the fire rate);
* **duplicate** neurons, whose outputs are (almost) the same as another
  neuron's (Srinivas & Babu [2]_): the duplicate's outgoing weights are added to
  the neuron it duplicates, then it is removed.

Statistics come from :func:`course_lib.pruning.nn.collect_activations` (torch) and
:func:`activation_stats`; neurons are chosen (:func:`rarely_active`,
:func:`find_duplicates`) and removed from the weights (:func:`remove_neurons`,
:func:`merge_neurons`) -- or from a whole model at once with
:func:`course_lib.pruning.nn.shrink_mlp`, which returns a physically smaller model.

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

import numbers
from collections.abc import Mapping, Sequence

import numpy as np

from .._validation import check_float_array, check_fraction, check_positive_float

__all__ = ["FIRE_FRACTION", "activation_stats", "rarely_active", "find_duplicates", "remove_neurons",
           "merge_neurons", "check_indices", "check_pairs", "absorb_duplicates",
           "drop_units"]

#: default fire threshold = FIRE_FRACTION x the layer's mean of per-neuron maxima
FIRE_FRACTION = 0.5


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


def check_indices(name: str, value, units: int) -> np.ndarray:
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


def check_pairs(name: str, pairs, units: int) -> list[tuple[int, int]]:
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




def absorb_duplicates(w_out: np.ndarray, pairs) -> np.ndarray:
    """``w_out[:, keep] += w_out[:, drop]`` for every pair, on a copy."""
    merged = w_out.copy()
    for keep, drop in pairs:
        merged[:, keep] += w_out[:, drop]
    return merged


def drop_units(w_in, b_in, w_out, drop):
    if len(drop) >= w_in.shape[0]:
        raise ValueError(f"drop removes all {w_in.shape[0]} neurons, must leave at least one.")
    return np.delete(w_in, drop, axis=0), np.delete(b_in, drop), np.delete(w_out, drop, axis=1)



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
        limit = check_fraction(name, limit)
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
    drop = check_indices("drop", drop, w_in.shape[0])
    return drop_units(w_in, b_in, w_out, drop)


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
    pairs = check_pairs("pairs", pairs, w_in.shape[0])
    return drop_units(w_in, b_in, absorb_duplicates(w_out, pairs), [d for _, d in pairs])
