"""Exercises of notebook 02's CNN half: channel (filter) pruning.

The student's copy: each case's inputs and the checks a student's kernel makes -- the form of the
answer and the properties a right answer has (what the smaller layers must compute), never a
reference solution. The instructor's references and the grader's verdicts are in ``hidden_tests/``.
"""

from __future__ import annotations

import numpy as np

from ..core import Case, compare, exercise
from ..outcomes import CNN_EVAL_IMAGES, Target

__all__ = ["filters_case", "channel_macs", "channels_form", "channels_case", "CHANNEL_TARGETS", "CNN_CONVS",
           "MAC_BUDGET", "DENSE_MACS", "EVAL_IMAGES"]


# ---------------------------------------------------------------- 02-remove-filters

def filters_case(seed, c_in, filters, kernel, drop, *, next_conv=None, next_linear=None):
    """A case for ``remove_filters(w, bn, w_next, drop)``.

    ``w``: a convolution's weights ``(filters, c_in, kernel, kernel)`` (no bias, as in the course's CNN);
    ``bn``: its batch norm, ``(4, filters)``: the rows are gamma, beta, running mean, running variance;
    ``w_next``: the next layer, either a convolution ``(g, filters, k, k)`` (``next_conv=(g, k)``) or the
    Linear layer after ``Flatten`` of the ``(filters, h, w)`` map, ``(n_out, filters h w)``
    (``next_linear=(n_out, h, w)``). The answer removes the filters ``drop`` and returns
    ``(w, bn, w_next)`` of the smaller pair.

    Checked here, completely: the remaining filters and batch-norm columns are the original ones, in
    their order; the next layer's weights are checked by what they compute -- on random input maps
    whose removed channels are zero, the smaller next layer computes what the original computes.
    """
    if (next_conv is None) == (next_linear is None):
        raise ValueError("filters_case needs exactly one of next_conv and next_linear.")

    def inputs():
        rng = np.random.default_rng(seed)
        w = rng.normal(size=(filters, c_in, kernel, kernel))
        bn = np.stack([rng.uniform(0.5, 1.5, filters), rng.normal(size=filters), rng.normal(size=filters),
                       rng.uniform(0.5, 2.0, filters)])
        if next_conv is not None:
            g, k = next_conv
            w_next = rng.normal(size=(g, filters, k, k))
        else:
            n_out, h, wd = next_linear
            w_next = rng.normal(size=(n_out, filters * h * wd))
        return w, bn, w_next, list(drop)

    def next_outputs(weight, maps):
        """The next layer's pre-activations at one position (convolution) or its outputs (Linear)."""
        if next_conv is not None:  # a k x k window of the maps at every kept input channel: a dot product
            return np.einsum("gckl,nckl->ng", weight, maps)
        return maps.reshape(len(maps), -1) @ weight.T

    def verdict(got, w, bn, w_next, drop):
        label = f"remove_filters({filters} filters, drop={list(drop)})"
        if not isinstance(got, (tuple, list)) or len(got) != 3:
            return [f"{label} returned {type(got).__name__}, expected a tuple (w, bn, w_next)"]
        rest = np.setdiff1d(np.arange(filters), drop)
        problems = (compare(got[0], w[rest], name=f"{label}: w (the remaining filters, in order)")
                    + compare(got[1], bn[:, rest], name=f"{label}: bn (the remaining filters' columns)"))
        shape = (w_next.shape[0], len(rest), *w_next.shape[2:]) if next_conv is not None else \
            (w_next.shape[0], len(rest) * next_linear[1] * next_linear[2])
        try:
            w_new = np.asarray(got[2], dtype=np.float64)
        except (TypeError, ValueError):
            return problems + [f"{label}: w_next is not an array of numbers"]
        if w_new.shape != shape:
            return problems + [f"{label}: w_next has shape {w_new.shape}, expected {shape}"]
        rng = np.random.default_rng(seed + 1000)
        side = w_next.shape[2:] if next_conv is not None else next_linear[1:]
        maps = rng.normal(size=(8, filters, *side))
        maps[:, drop] = 0.0  # the removed channels output nothing
        return problems or compare(next_outputs(w_new, maps[:, rest]), next_outputs(w_next, maps), rtol=1e-9,
                                   atol=1e-9, name=f"{label}: what the next layer computes on maps whose removed "
                                                   "channels are zero")
    return Case(inputs, verdict)


exercise("02-remove-filters", "Remove a convolution's filters: its batch norm and the next layer follow",
         kind="variant", checked_here="values").cases.extend([
    ("4 filters -> a 3x3 convolution of 5, remove 1", filters_case(0, 3, 4, 3, [1], next_conv=(5, 3))),
    ("6 filters -> a Linear after Flatten of 6x2x2, remove 0 and 4",
     filters_case(1, 2, 6, 3, [4, 0], next_linear=(3, 2, 2))),
    ("8 filters -> a 1x1 convolution of 2, remove 3 (unsorted)",
     filters_case(2, 4, 8, 1, [7, 2, 5], next_conv=(2, 1))),
])


# ---------------------------------------------------------------- 02-outcome-channels

#: the CIFAR-10 CNN's convolutions, their filters and the side of their (square) output maps (3x3, same padding)
CNN_CONVS = {"features.0": (32, 32), "features.4": (64, 16), "features.7": (64, 16), "features.11": (128, 8),
             "features.14": (128, 8)}
_CLASSIFIER = (512, 512, 10)  # the widths of classifier.1, .4, .7; classifier.1 reads the last map, 4 x 4 per channel


def channel_macs(widths) -> int:
    """Multiply-adds of one 32x32 image through the CIFAR-10 CNN whose convolutions keep ``widths`` filters.

    ``widths``: a dict ``{"features.0": 32, ...}`` (a convolution not named keeps all its filters).
    Batch norm, ReLU and pooling are not multiply-adds.
    """
    unknown = sorted(set(widths) - set(CNN_CONVS))
    if unknown:
        raise ValueError(f"widths has layers {unknown}, must be among {list(CNN_CONVS)}.")
    total, c_in = 0, 3
    for name, (size, side) in CNN_CONVS.items():
        k = int(widths.get(name, size))
        total += k * c_in * 9 * side * side
        c_in = k
    h1, h2, out = _CLASSIFIER
    return total + h1 * c_in * 16 + h2 * h1 + out * h2


DENSE_MACS = channel_macs({})
MAC_BUDGET = DENSE_MACS // 2  # at most half the dense network's multiply-adds
EVAL_IMAGES = CNN_EVAL_IMAGES  # the grader measures on the first 2,000 CIFAR-10 test images

#: the target of 02-outcome-channels (the notebook prints it with rule_text; the grader measures it)
CHANNEL_TARGETS = [Target(f"accuracy lost (dense minus yours, first {EVAL_IMAGES:,} CIFAR-10 test images)",
                          goal=0.08, zero_at=0.25, higher=False, unit="points")]


def _expected_shapes(widths: dict) -> dict:
    """The state dict's shapes of the CNN whose convolutions keep ``widths`` filters (a random one, built here)."""
    import torch

    from ...models import CifarVGG
    from ...pruning.nn import prune_channels

    with torch.random.fork_rng(devices=[]):
        dense = CifarVGG()
    small = prune_channels(dense, widths) if any(widths[n] < CNN_CONVS[n][0] for n in widths) else dense
    return {k: tuple(v.shape) for k, v in small.state_dict().items()}


def channels_form(got) -> list[str]:
    """The problems of the form of an answer to 02-outcome-channels (what the student's kernel checks)."""
    label = "prune_cnn()"
    if not isinstance(got, dict) or not all(isinstance(k, str) for k in got):
        return [f"{label} must return a dict of parameter name -> NumPy array (the smaller model's state_dict)"]
    widths = {}
    for name, (size, _) in CNN_CONVS.items():
        w = got.get(f"{name}.weight")
        if not isinstance(w, np.ndarray) or w.ndim != 4 or not 1 <= w.shape[0] <= size:
            return [f"{label}[{name + '.weight'!r}] must be a 4-D NumPy array with 1 to {size} filters"]
        widths[name] = int(w.shape[0])
    expected = _expected_shapes(widths)
    if sorted(got) != sorted(expected):
        missing, extra = sorted(set(expected) - set(got)), sorted(set(got) - set(expected))
        return [f"{label} must have exactly the keys of the model's state_dict; missing {missing}, extra {extra}"]
    for key, shape in expected.items():
        value = got[key]
        if not isinstance(value, np.ndarray) or value.shape != shape:
            return [f"{label}[{key!r}] must be a NumPy array of shape {shape} (for the filters kept: {widths})"]
        if key.endswith("num_batches_tracked"):
            continue
        if value.dtype.kind != "f" or not np.all(np.isfinite(value)):
            return [f"{label}[{key!r}] must hold finite floats"]
    macs = channel_macs(widths)
    if macs > MAC_BUDGET:
        return [f"the network keeps {widths} filters: {macs:,} multiply-adds per image, over the budget of "
                f"{MAC_BUDGET:,} (half of the dense network's {DENSE_MACS:,})"]
    return []


def channels_case():
    """The case of 02-outcome-channels: no inputs (the answer loads and fine-tunes what it needs); checked here,
    the form and the budget; the grader builds the smaller network and measures it on the CIFAR-10 test images."""
    return Case(lambda: (), lambda got: channels_form(got))


exercise("02-outcome-channels", "The CIFAR-10 CNN with at most half the multiply-adds, fine-tuned",
         kind="outcome", checked_here="form").cases.append(
    (f"cifar_vgg, at most {MAC_BUDGET:,} multiply-adds per image", channels_case()))
