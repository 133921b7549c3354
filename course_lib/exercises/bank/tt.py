"""Exercises of notebook 08: a TT layer's parameters and compression, an entry from its cores, balanced modes."""

from __future__ import annotations

import math

import numpy as np

from ..core import Case, compare, exercise

__all__ = ["tt_cost_case", "tt_entry_case", "trained_entry_case", "modes_case"]


def tt_cost_case(in_modes, out_modes, ranks):
    """A case for ``tt_layer_cost(in_modes, out_modes, ranks) -> (parameters, compression)``: the numbers in
    the cores ``sum_k r_{k-1} m_k n_k r_k`` (no bias) and ``M N`` divided by them."""
    def verdict(got, in_modes, out_modes, ranks):
        from ...factorization import tt_matrix_params

        params = tt_matrix_params(in_modes, out_modes, ranks)
        dense = math.prod(in_modes) * math.prod(out_modes)
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            return [f"tt_layer_cost returned {type(got).__name__}, expected a pair (parameters, compression)"]
        return compare(np.asarray(got, dtype=np.float64), np.array([params, dense / params], dtype=np.float64),
                       name=f"tt_layer_cost({in_modes}, {out_modes}, {ranks})", rtol=1e-9)
    return Case(lambda: (tuple(in_modes), tuple(out_modes), ranks), verdict)


exercise("08-tt-cost", "Parameters and compression of a TT layer").cases.extend([
    ("the seed's VGG layer, 2x7x8x8x7x4 -> 4^6, rank 4", tt_cost_case((2, 7, 8, 8, 7, 4), (4,) * 6, 4)),
    ("the same at rank 1", tt_cost_case((2, 7, 8, 8, 7, 4), (4,) * 6, 1)),
    ("t3f's 784 -> 625 layer, 7x4x7x4 -> 5^4, rank 4", tt_cost_case((7, 4, 7, 4), (5, 5, 5, 5), 4)),
    ("ranks (1, 3, 5, 2, 1), 4x8x8x4 -> 4x8x8x4", tt_cost_case((4, 8, 8, 4), (4, 8, 8, 4), [1, 3, 5, 2, 1])),
])


def tt_entry_case(seed, shape, ranks, index):
    """A case for ``tt_entry_by_hand(cores, index)``: ``G_1[:, i_1, :] ... G_d[:, i_d, :]`` of random cores."""
    def inputs():
        from ...factorization import random_tt

        return [c.copy() for c in random_tt(shape, ranks, rng=seed).cores], tuple(index)
    return Case(inputs, _entry_verdict(f"cores of a {'x'.join(map(str, shape))} train"))


def _entry_verdict(what):
    def verdict(got, cores, index):
        from ...factorization import tt_entry

        if isinstance(got, (int, float, np.number)) and not isinstance(got, bool):
            got = np.float64(got)
        return compare(got, np.float64(tt_entry(cores, index)), name=f"tt_entry_by_hand({what}, {tuple(index)})",
                       rtol=1e-9, atol=1e-12)
    return verdict


def trained_entry_case(index):
    """A case on the trained wide MLP: an entry of fc2's weight, as a 16x64x64x16 tensor, from its rank-8 TT-SVD."""
    def inputs():
        from ...checkpoints import load_pretrained
        from ...factorization import tt_svd

        w = load_pretrained("wide_mlp").fc2.weight.detach().double().numpy().reshape(16, 64, 64, 16)
        return [c.copy() for c in tt_svd(w, 8).cores], tuple(index)
    return Case(inputs, _entry_verdict("rank-8 cores of wide_mlp's fc2"))


exercise("08-tt-entry", "An entry of a tensor from its TT cores").cases.extend([
    ("a 3x4x5 train, ranks (1, 2, 3, 1)", tt_entry_case(0, (3, 4, 5), (1, 2, 3, 1), (2, 1, 4))),
    ("a 2x2 train of rank 1", tt_entry_case(1, (2, 2), 1, (1, 0))),
    ("a 4^5 train of rank 3", tt_entry_case(2, (4,) * 5, 3, (3, 0, 2, 1, 3))),
    ("one mode only", tt_entry_case(3, (6,), 1, (5,))),
    ("the trained fc2 as 16x64x64x16, rank 8", trained_entry_case((3, 10, 60, 15))),
])


def modes_case(n, d):
    """A case for ``choose_modes(n, d)``: ``d`` positive ints multiplying to ``n``, as balanced as any can be
    (``max / min`` the smallest possible); any order and any such factorization passes."""
    def verdict(got, n, d):
        from ...factorization import balanced_modes, mode_spread

        label = f"choose_modes({n}, {d})"
        if not isinstance(got, (tuple, list, np.ndarray)):
            return [f"{label} returned {type(got).__name__}, expected a list of {d} ints"]
        if len(got) != d:
            return [f"{label} returned {len(got)} modes, expected {d}"]
        if not all(isinstance(m, (int, np.integer)) and not isinstance(m, bool) and m >= 1 for m in got):
            return [f"{label}: every mode must be an int >= 1, got {list(got)}"]
        if math.prod(int(m) for m in got) != n:
            return [f"{label}: the modes multiply to {math.prod(int(m) for m in got)}, must multiply to {n}"]
        if mode_spread([int(m) for m in got]) > mode_spread(balanced_modes(n, d)) * (1 + 1e-12):
            return [f"{label}: max/min of your modes is {mode_spread([int(m) for m in got]):.3g}; a more "
                    f"balanced factorization exists"]
        return []
    return Case(lambda: (n, d), verdict)


exercise("08-choose-modes", "Balanced modes for a matrix size").cases.extend([
    ("4096 in 6 modes", modes_case(4096, 6)),
    ("784 (MNIST) in 4 modes", modes_case(784, 4)),
    ("25088 (VGG's fc6 input) in 6 modes", modes_case(25088, 6)),
    ("1000 in 3 modes", modes_case(1000, 3)),
    ("a prime, 13 in 2 modes", modes_case(13, 2)),
])
