"""Exercises of notebook 07: a rank-1 filter from its three vectors; the cost of a flattened layer."""

from __future__ import annotations

import numpy as np

from ..core import Case, compare, exercise

__all__ = ["rank1_case", "trained_rank1_case", "flattened_cost_case", "cnn_layer_cost_case"]


def rank1_case(seed, c, y, x):
    """A case for ``rank1_filter(z, v, h)``: the ``C x Y x X`` filter ``W[c, y, x] = z[c] v[y] h[x]``."""
    def inputs():
        rng = np.random.default_rng(seed)
        return rng.standard_normal(c), rng.standard_normal(y), rng.standard_normal(x)

    def verdict(got, z, v, h):
        from ...factorization import rank1_filter

        return compare(got, rank1_filter(z, v, h), name=f"rank1_filter(z of {c}, v of {y}, h of {x})",
                       rtol=1e-9, atol=1e-12)
    return Case(inputs, verdict)


def trained_rank1_case(layer, filt):
    """A case on the trained CNN: the rank-1 factors ALS finds for filter ``filt`` of ``features.<layer>``."""
    def inputs():
        from ...checkpoints import load_pretrained
        from ...factorization import flatten_filters

        w = load_pretrained("cifar_vgg").features[layer].weight.detach().double().numpy()[filt:filt + 1]
        res = flatten_filters(w)
        return res.lateral[0, 0].copy(), res.vertical[0, 0].copy(), res.horizontal[0, 0].copy()

    def verdict(got, z, v, h):
        from ...factorization import rank1_filter

        return compare(got, rank1_filter(z, v, h), name=f"rank1_filter of the factors of features.{layer}'s "
                       f"filter {filt}", rtol=1e-9, atol=1e-12)
    return Case(inputs, verdict)


exercise("07-rank1-filter", "A rank-1 filter from its lateral, vertical and horizontal vectors").cases.extend([
    ("a 2x3x3 filter", rank1_case(0, 2, 3, 3)),
    ("a 64x5x3 filter (Y != X)", rank1_case(1, 64, 5, 3)),
    ("a 1x1x7 filter", rank1_case(2, 1, 1, 7)),
    ("the trained CNN's features.7, filter 0", trained_rank1_case(7, 0)),
])


def _flattened_cost_verdict(got, c, f, y, x, rank, m, n):
    from ...factorization import conv_macs, conv_params, flattened_macs, flattened_params

    expected = np.array([conv_params(c, f, y, x), flattened_params(c, f, y, x, rank),
                         conv_macs(c, f, y, x, m, n), flattened_macs(c, f, y, x, m, n, rank)])
    if not isinstance(got, (tuple, list, np.ndarray)) or len(got) != 4:
        return [f"flattened_cost returned {type(got).__name__}, expected 4 numbers (3-D weights, flattened "
                f"weights, 3-D MACs, flattened MACs)"]
    return compare(np.asarray(got), expected, name=f"flattened_cost({c}, {f}, {y}, {x}, {rank}, {m}, {n})")


def flattened_cost_case(c, f, y, x, rank, m, n):
    """A case for ``flattened_cost(C, F, Y, X, R, m, n)``: ``[3-D weights, flattened weights, 3-D MACs,
    flattened MACs]`` of a layer with an ``m x n`` output (stride 1, "same" padding, no bias)."""
    return Case(lambda: (c, f, y, x, rank, m, n), _flattened_cost_verdict)


def cnn_layer_cost_case(name, rank, m):
    """A case with the shape of a layer of the trained CNN (read from the checkpoint), ``m x m`` output."""
    def inputs():
        from ...checkpoints import load_pretrained

        f, c, y, x = dict(load_pretrained("cifar_vgg").named_modules())[name].weight.shape
        return c, f, y, x, rank, m, m
    return Case(inputs, _flattened_cost_verdict)


exercise("07-flattened-cost", "Weights and multiply-adds of a flattened layer").cases.extend([
    ("the issue's layer: 3x3, 128 -> 128, 16x16, R = 1", flattened_cost_case(128, 128, 3, 3, 1, 16, 16)),
    ("the CNN's features.7 (16x16 maps), R = 2", cnn_layer_cost_case("features.7", 2, 16)),
    ("the CNN's features.14 (8x8 maps), R = 1", cnn_layer_cost_case("features.14", 1, 8)),
    ("a 5x3 kernel, 16 -> 48, 10x12 output, R = 3", flattened_cost_case(16, 48, 5, 3, 3, 10, 12)),
])
