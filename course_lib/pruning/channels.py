"""Channel (filter) pruning on arrays: filter scores, which channels to keep, and what a layer costs. Pure NumPy.

Removing a whole filter of a convolution -- one output channel -- makes the layer and
the next one physically smaller: the filter is a slice ``w[c]`` of the weight
``(out, in, kh, kw)``, and the channel it produces is the slice ``w_next[:, c]`` of the
next layer's weight. Unlike zeroed weights, fewer channels are faster on any hardware.

Which filters go is decided by a score per channel, highest kept:

* :func:`filter_norms` -- the L1 or L2 norm of the filter's weights (Li et al. [1]_);
* :func:`apoz` -- the Average Percentage of Zeros of the channel's outputs after the
  ReLU (Hu et al. [2]_): a channel that is almost always zero does little (its score
  is ``1 - APoZ``);
* :func:`bn_scores` -- the magnitude ``|gamma|`` of the batch-norm scale that multiplies
  the channel (Liu et al. [3]_).

:func:`channels_to_keep` turns scores into sorted indices; :func:`conv_macs` and
:func:`linear_macs` count the multiply-adds a layer costs, from its shapes alone.
The models themselves are pruned by :mod:`course_lib.pruning.nn.channels` (PyTorch).

References
----------
.. [1] H. Li, A. Kadav, I. Durdanovic, H. Samet, H. P. Graf, "Pruning Filters for
   Efficient ConvNets", ICLR 2017.
.. [2] H. Hu, R. Peng, Y.-W. Tai, C.-K. Tang, "Network Trimming: A Data-Driven Neuron
   Pruning Approach towards Efficient Deep Architectures", arXiv:1607.03250, 2016.
.. [3] Z. Liu, J. Li, Z. Shen, G. Huang, S. Yan, C. Zhang, "Learning Efficient
   Convolutional Networks through Network Slimming", ICCV 2017.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from .._validation import check_choice, check_float_array, check_int, short_repr

__all__ = ["filter_norms", "apoz", "bn_scores", "channels_to_keep", "keep_count", "conv_output_size",
           "conv_macs", "linear_macs"]


def filter_norms(weight, *, norm: str = "l1") -> np.ndarray:
    r"""The L1 or L2 norm of each filter (output channel) of a layer's weight.

    Parameters
    ----------
    weight : array_like of real numbers, shape (out, in, kh, kw) or (out, in)
        A Conv2d's (or a Linear's) weight in PyTorch's layout; finite, not empty.
    norm : {"l1", "l2"}, keyword-only
        Which norm.

    Returns
    -------
    ndarray of float64, shape (out,)
        The score of each filter; a higher score is more important.

    Raises
    ------
    TypeError
        If ``weight`` is not real-valued or ``norm`` is not a str.
    ValueError
        If ``weight`` is not 2-D or 4-D, is empty or not finite, or ``norm`` is unknown.

    Notes
    -----
    .. math:: s_c^{(1)} = \sum_{i,y,x} |w_{c,i,y,x}|, \qquad s_c^{(2)} = \Big(\sum_{i,y,x} w_{c,i,y,x}^2\Big)^{1/2}

    Li et al. rank the filters of a layer by ``s^{(1)}`` and prune the smallest: a
    filter of small weights produces small outputs. ``torch.nn.utils.prune.ln_structured``
    with ``n=1`` or ``n=2`` and ``dim=0`` ranks by the same numbers.

    References
    ----------
    .. [1] Li et al., ICLR 2017, sec. 3.1.

    Examples
    --------
    >>> w = np.array([[[[1.0, -2.0]]], [[[3.0, 4.0]]]])   # 2 filters of shape (1, 1, 2)
    >>> filter_norms(w), filter_norms(w, norm="l2")
    (array([3., 7.]), array([2.23606798, 5.        ]))
    """
    w = check_float_array("weight", weight, ndim=(2, 4)).astype(np.float64)
    norm = check_choice("norm", norm, ("l1", "l2"))
    flat = w.reshape(w.shape[0], -1)
    return np.abs(flat).sum(axis=1) if norm == "l1" else np.sqrt((flat * flat).sum(axis=1))


def apoz(acts) -> np.ndarray:
    r"""Average Percentage of Zeros of each channel's activations after the ReLU.

    Parameters
    ----------
    acts : array_like of real numbers >= 0, shape (N, C, H, W) or (N, C)
        A layer's outputs after the ReLU on ``N`` examples (channels second, PyTorch's layout).

    Returns
    -------
    ndarray of float64, shape (C,)
        The fraction of the ``N H W`` outputs of each channel that are exactly zero, in [0, 1].
        A *high* APoZ means an unimportant channel: use ``1 - apoz(acts)`` as a score.

    Raises
    ------
    TypeError
        If ``acts`` is not real-valued.
    ValueError
        If ``acts`` is not 2-D or 4-D, is empty, not finite, or holds negative values
        (outputs before the ReLU).

    Notes
    -----
    .. math:: \mathrm{APoZ}_c = \frac{1}{N H W} \sum_{n, y, x} [\, a_{n,c,y,x} = 0 \,]

    References
    ----------
    .. [1] Hu et al., arXiv:1607.03250, 2016, eq. 1.

    Examples
    --------
    >>> acts = np.array([[[[0.0, 1.0]], [[0.0, 0.0]]], [[[2.0, 0.5]], [[0.0, 3.0]]]])  # (2, 2, 1, 2)
    >>> apoz(acts)
    array([0.25, 0.75])
    """
    a = check_float_array("acts", acts, ndim=(2, 4))
    if a.min() < 0:
        raise ValueError(f"acts has negative values (min {a.min():.3g}), must be >= 0: "
                         "pass the layer's outputs after the ReLU.")
    axes = (0,) if a.ndim == 2 else (0, 2, 3)
    return (a == 0).mean(axis=axes, dtype=np.float64)


def bn_scores(gamma) -> np.ndarray:
    r"""The Network Slimming score of each channel: the magnitude of its batch-norm scale.

    Parameters
    ----------
    gamma : array_like of real numbers, shape (C,)
        A ``BatchNorm2d``'s ``weight``.

    Returns
    -------
    ndarray of float64, shape (C,)
        ``|gamma|``; a higher score is more important.

    Raises
    ------
    TypeError, ValueError
        If ``gamma`` is not a 1-D, non-empty, finite array of real numbers.

    Notes
    -----
    Batch norm outputs :math:`\gamma_c \hat x_c + \beta_c`: a channel with
    :math:`\gamma_c \approx 0` passes on a constant, which the next layer can absorb
    (exactly when :math:`\beta_c \le 0`, as the ReLU then outputs zero). Liu et al.
    push the :math:`\gamma` towards zero during training with an L1 penalty; on a
    network trained without it the score still ranks the channels.

    References
    ----------
    .. [1] Liu et al., ICCV 2017, sec. 3.

    Examples
    --------
    >>> bn_scores([0.5, -2.0, 0.0])
    array([0.5, 2. , 0. ])
    """
    return np.abs(check_float_array("gamma", gamma, ndim=1).astype(np.float64))


def keep_count(keep, size: int, *, name: str = "keep") -> int:
    """How many of ``size`` channels ``keep`` keeps: an int is a count, a float a fraction in (0, 1].

    A fraction keeps ``max(1, round(keep * size))`` channels (Python's rounding, as
    ``torch.nn.utils.prune`` counts ``amount``): at least one channel always stays.

    Raises
    ------
    TypeError
        If ``keep`` is not an int or a float (a bool included).
    ValueError
        If a count is not in ``1 .. size`` or a fraction not in (0, 1].

    Examples
    --------
    >>> keep_count(0.5, 32), keep_count(0.01, 32), keep_count(3, 32)
    (16, 1, 3)
    """
    size = check_int("size", size, minimum=1)
    if isinstance(keep, (bool, np.bool_)) or not isinstance(keep, numbers.Real):
        raise TypeError(f"{name} must be an int (a count) or a float (a fraction), "
                        f"got {type(keep).__name__} ({short_repr(keep)}).")
    if isinstance(keep, numbers.Integral):
        return check_int(name, keep, minimum=1, maximum=size)
    keep = float(keep)
    if not math.isfinite(keep) or not 0 < keep <= 1:
        raise ValueError(f"{name} == {keep}, must be in (0, 1] when a float (a fraction).")
    return max(1, round(keep * size))


def channels_to_keep(scores, keep) -> np.ndarray:
    """The indices of the channels with the highest scores, sorted.

    Parameters
    ----------
    scores : array_like of real numbers, shape (C,)
        One score per channel, higher = more important (:func:`filter_norms`,
        ``1 - apoz(acts)``, :func:`bn_scores`).
    keep : int or float
        An int is the number of channels kept (``1 .. C``); a float the fraction kept,
        in (0, 1], turned into ``max(1, round(keep * C))`` channels (:func:`keep_count`).

    Returns
    -------
    ndarray of int64, shape (k,)
        The kept channels in increasing order.

    Raises
    ------
    TypeError
        If ``scores`` is not real-valued or ``keep`` is not an int or a float.
    ValueError
        If ``scores`` is not 1-D, empty or not finite, or ``keep`` is out of range.

    Notes
    -----
    Ties are broken by position: among equal scores the channel of lower index is
    kept, so exactly ``k`` channels stay even when all scores are equal (a stable
    sort of ``-scores``). At least one channel is kept: a layer without output
    channels would cut the network in two.

    Examples
    --------
    >>> channels_to_keep([0.3, 0.1, 0.3, 0.2], 2)
    array([0, 2])
    >>> channels_to_keep([1.0, 1.0, 1.0, 1.0], 0.5)
    array([0, 1])
    """
    s = check_float_array("scores", scores, ndim=1)
    k = keep_count(keep, s.size)
    order = np.argsort(-s.astype(np.float64), kind="stable")
    return np.sort(order[:k]).astype(np.int64)


def conv_output_size(size: int, kernel: int, *, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    r"""The output length of a convolution (or pooling) along one spatial axis.

    Notes
    -----
    .. math:: H' = \left\lfloor \frac{H + 2p - d (k - 1) - 1}{s} \right\rfloor + 1

    Raises
    ------
    TypeError, ValueError
        If an argument is not an int, ``size``, ``kernel``, ``stride`` or ``dilation`` is
        below 1, ``padding`` is negative, or the kernel does not fit the padded input.

    Examples
    --------
    >>> conv_output_size(32, 3, padding=1), conv_output_size(32, 3, stride=2), conv_output_size(8, 2, stride=2)
    (32, 15, 4)
    """
    size = check_int("size", size, minimum=1)
    kernel = check_int("kernel", kernel, minimum=1)
    stride = check_int("stride", stride, minimum=1)
    padding = check_int("padding", padding, minimum=0)
    dilation = check_int("dilation", dilation, minimum=1)
    span = dilation * (kernel - 1) + 1
    if span > size + 2 * padding:
        raise ValueError(f"kernel == {kernel} (span {span}) does not fit the input of size {size} with padding "
                         f"{padding}, must be <= {size + 2 * padding}.")
    return (size + 2 * padding - span) // stride + 1


def _pair(name: str, value) -> tuple[int, int]:
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} == {value!r}, must be an int or a pair (height, width).")
        return check_int(f"{name}[0]", value[0]), check_int(f"{name}[1]", value[1])
    value = check_int(name, value)
    return value, value


def conv_macs(in_channels: int, out_channels: int, kernel_size, input_size, *, stride=1, padding=0,
              groups: int = 1) -> int:
    r"""Multiply-adds of one Conv2d on one image, from its shapes.

    Parameters
    ----------
    in_channels, out_channels : int
        Channels in and out (each divisible by ``groups``).
    kernel_size, input_size : int or (int, int)
        The kernel ``(kh, kw)`` and the input's spatial size ``(H, W)``.
    stride, padding : int or (int, int), keyword-only
    groups : int, keyword-only

    Returns
    -------
    int

    Raises
    ------
    TypeError, ValueError
        For a non-int size, a size below 1, channels not divisible by ``groups``, or a
        kernel larger than the padded input.

    Notes
    -----
    Every output value is a dot product of ``(C_in / groups) kh kw`` numbers:

    .. math:: \mathrm{MACs} = C_{out} H' W' \cdot \frac{C_{in}}{g}\, k_h k_w

    with ``H'``, ``W'`` from :func:`conv_output_size`. Pruning a filter removes
    ``H' W' (C_in/g) kh kw`` of them here and ``H' W' kh kw`` per output channel of the
    next layer: the saving is close to quadratic in the kept fraction.

    Examples
    --------
    >>> conv_macs(3, 32, 3, 32, padding=1)   # the CIFAR CNN's first convolution
    884736
    """
    in_channels = check_int("in_channels", in_channels, minimum=1)
    out_channels = check_int("out_channels", out_channels, minimum=1)
    groups = check_int("groups", groups, minimum=1)
    if in_channels % groups or out_channels % groups:
        raise ValueError(f"groups == {groups} does not divide in_channels == {in_channels} and out_channels == "
                         f"{out_channels}, must divide both.")
    ks, sizes = _pair("kernel_size", kernel_size), _pair("input_size", input_size)
    strides, pads = _pair("stride", stride), _pair("padding", padding)
    out_hw = [conv_output_size(sizes[i], ks[i], stride=strides[i], padding=pads[i]) for i in range(2)]
    return out_channels * out_hw[0] * out_hw[1] * (in_channels // groups) * int(ks[0]) * int(ks[1])


def linear_macs(in_features: int, out_features: int) -> int:
    """Multiply-adds of one Linear layer ``in -> out`` on one example: ``in * out`` (the bias is not counted).

    Raises
    ------
    TypeError, ValueError
        If a size is not an int >= 1.

    Examples
    --------
    >>> linear_macs(2048, 512)
    1048576
    """
    return check_int("in_features", in_features, minimum=1) * check_int("out_features", out_features, minimum=1)
