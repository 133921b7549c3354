"""Exercises of notebook 08: two trains' inner product and sum written core by core, the cheapest modes of a TT
layer, and a TT layer that keeps the wide MLP's accuracy (an outcome)."""

from __future__ import annotations

import math

import numpy as np

from ..core import Case, exercise
from ..outcomes import Target

__all__ = ["BIG_SHAPE", "TT_LAYER", "TT_LAYER_TARGETS", "train_pair", "inner_case", "add_case", "cheap_modes_case",
           "tt_layer_case", "tt_layer_form", "tt_layer_model", "tt_layer_compression"]

# Five modes of 2000: 3.2e16 entries, far beyond any memory -- only a contraction core by core gets there.
BIG_SHAPE = (2000,) * 5


def train_pair(seed: int, shape, ranks_a, ranks_b) -> tuple[list, list]:
    """Two trains of ``shape`` with ranks ``ranks_a`` and ``ranks_b`` (lists of ``d + 1`` ints), random cores
    scaled by ``1 / sqrt(r_{k-1} n_k)`` so that entries and norms stay near 1 whatever the size."""
    gen = np.random.default_rng(seed)

    def train(ranks):
        return [gen.standard_normal((ranks[k], n, ranks[k + 1])) / math.sqrt(ranks[k] * n)
                for k, n in enumerate(shape)]
    return train(list(ranks_a)), train(list(ranks_b))


def _number(got, label):
    if isinstance(got, np.ndarray) and got.shape == ():
        got = got[()]
    if isinstance(got, bool) or not isinstance(got, (int, float, np.integer, np.floating)):
        return None, [f"{label} returned {type(got).__name__}, expected a float"]
    if not np.isfinite(float(got)):
        return None, [f"{label} returned a value that is not finite"]
    return float(got), []


def _size(cores) -> int:
    return math.prod(int(c.shape[1]) for c in cores)


def inner_case(seed: int, shape, ranks_a, ranks_b):
    """A case for ``tt_inner(cores_a, cores_b)``: ``<A, B> = sum of A[i] B[i]`` over every index, as a float.

    Checked here: the form; the value, on trains small enough to be rebuilt in full; on larger ones,
    Cauchy-Schwarz (``|<A, B>| <= ||A|| ||B||``, with equality only for parallel trains, which these are not).
    """
    def verdict(got, a, b):
        from ...factorization import tt_norm, tt_reconstruct

        label = f"tt_inner(two trains of shape {'x'.join(map(str, shape))})"
        value, problems = _number(got, label)
        if problems:
            return problems
        if _size(a) <= 10**6:
            full = float(np.sum(tt_reconstruct(a) * tt_reconstruct(b)))
            ok = math.isclose(value, full, rel_tol=1e-8, abs_tol=1e-12 * tt_norm(a) * tt_norm(b))
            return [] if ok else [f"{label} is not the sum of A * B over all the entries"]
        bound = tt_norm(a) * tt_norm(b)
        if abs(value) > bound * (1 + 1e-9):
            return [f"{label}: |<A, B>| exceeds ||A|| ||B||, which Cauchy-Schwarz forbids"]
        if abs(value) > bound * (1 - 1e-6):
            return [f"{label} equals ||A|| ||B||, which happens only when A and B are parallel; these are not"]
        return []
    return Case(lambda: train_pair(seed, shape, ranks_a, ranks_b), verdict)


exercise("08-tt-inner", "The inner product of two trains, core by core", kind="variant",
         checked_here="form").cases.extend([
    ("3x4x5, ranks (1, 2, 3, 1) and (1, 3, 2, 1)", inner_case(0, (3, 4, 5), (1, 2, 3, 1), (1, 3, 2, 1))),
    ("2x2, rank 1 and rank 2", inner_case(1, (2, 2), (1, 1, 1), (1, 2, 1))),
    ("4^6, ranks 3 and 5", inner_case(2, (4,) * 6, (1, 3, 3, 3, 3, 3, 1), (1, 5, 5, 5, 5, 5, 1))),
    ("5 modes of 2000 (3.2e16 entries), ranks 3 and 2", inner_case(3, BIG_SHAPE, (1, 3, 3, 3, 3, 1),
                                                                   (1, 2, 2, 2, 2, 1))),
])


def _sum_ranks(a, b) -> list[int]:
    d = len(a)
    return [1] + [int(a[k].shape[2] + b[k].shape[2]) for k in range(d - 1)] + [1]


def add_case(seed: int, shape, ranks_a, ranks_b):
    """A case for ``tt_add(cores_a, cores_b)``: the cores of ``A + B`` with ranks ``r_A + r_B`` (inner ranks).

    Checked here: ``d`` cores of the block shapes; on small trains the rebuilt sum, on larger ones twenty
    entries (each one a product of slices, never the full tensor).
    """
    def verdict(got, a, b):
        from ...factorization import tt_entry, tt_reconstruct

        label = f"tt_add(two trains of shape {'x'.join(map(str, shape))})"
        d, ranks = len(a), _sum_ranks(a, b)
        if not isinstance(got, (list, tuple)) or len(got) != d:
            return [f"{label} must return a list of {d} cores, got {type(got).__name__}"
                    + (f" of length {len(got)}" if isinstance(got, (list, tuple)) else "")]
        for k, c in enumerate(got):
            want = (ranks[k], shape[k], ranks[k + 1])
            if not isinstance(c, np.ndarray) or c.dtype.kind not in "fiu":
                return [f"{label}: core {k} is a {type(c).__name__}, expected an array of floats"]
            if c.shape != want:
                return [f"{label}: core {k} has shape {c.shape}, expected {want} (ranks r_A + r_B)"]
            if not np.all(np.isfinite(c)):
                return [f"{label}: core {k} contains NaN or infinite values"]
        if _size(a) <= 10**6:
            ok = np.allclose(tt_reconstruct(got), tt_reconstruct(a) + tt_reconstruct(b), rtol=1e-8, atol=1e-10)
            return [] if ok else [f"{label} does not rebuild A + B"]
        gen = np.random.default_rng(seed + 1000)
        for _ in range(20):
            idx = tuple(int(gen.integers(0, n)) for n in shape)
            if not math.isclose(tt_entry(got, idx), tt_entry(a, idx) + tt_entry(b, idx), rel_tol=1e-8,
                                abs_tol=1e-12):
                return [f"{label}: the entry at {idx} is not A[i] + B[i]"]
        return []
    return Case(lambda: train_pair(seed, shape, ranks_a, ranks_b), verdict)


exercise("08-tt-add", "The cores of a sum of two trains", kind="variant", checked_here="form").cases.extend([
    ("2x3x4, ranks (1, 2, 2, 1) + (1, 1, 3, 1)", add_case(10, (2, 3, 4), (1, 2, 2, 1), (1, 1, 3, 1))),
    ("3x3, rank 2 + rank 2", add_case(11, (3, 3), (1, 2, 1), (1, 2, 1))),
    ("4x2x3x5, ranks (1, 3, 4, 3, 1) + (1, 2, 2, 2, 1)", add_case(12, (4, 2, 3, 5), (1, 3, 4, 3, 1),
                                                                   (1, 2, 2, 2, 1))),
    ("5 modes of 2000, ranks 3 + 2", add_case(13, BIG_SHAPE, (1, 3, 3, 3, 3, 1), (1, 2, 2, 2, 2, 1))),
])


def _tt_cost(ins, outs, rank: int) -> int:
    d = len(ins)
    r = [1] + [rank] * (d - 1) + [1]
    return sum(r[k] * m * n * r[k + 1] for k, (m, n) in enumerate(zip(ins, outs)))


def _modes(got, count: int, size: int, label: str, which: str):
    if not isinstance(got, (tuple, list, np.ndarray)) or len(got) != count:
        return None, [f"{label}: the {which} modes must be a list of {count} ints"]
    if not all(isinstance(m, (int, np.integer)) and not isinstance(m, bool) and m >= 2 for m in got):
        return None, [f"{label}: every {which} mode must be an int >= 2"]
    modes = [int(m) for m in got]
    if math.prod(modes) != size:
        return None, [f"{label}: the {which} modes multiply to {math.prod(modes)}, must multiply to {size}"]
    return modes, []


def cheap_modes_case(m: int, n: int, d: int, rank: int):
    """A case for ``cheapest_modes(M, N, d, rank) -> (in_modes, out_modes)``: ``d`` modes ``>= 2`` each, multiplying
    to ``M`` and ``N``, with the fewest numbers ``sum_k r_{k-1} m_k n_k r_k`` (``r_0 = r_d = 1``, every inner rank
    ``rank``).

    Checked here: the form, no more numbers than the balanced modes, and no exchange of two positions (of the
    input modes, of the output modes or of both) and no move of a factor from one mode to another saves numbers;
    the grader compares with the optimum.
    """
    def verdict(got, m, n, d, rank):
        from ...factorization import balanced_modes

        label = f"cheapest_modes({m}, {n}, {d}, {rank})"
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            return [f"{label} must return a pair (in_modes, out_modes), got {type(got).__name__}"]
        ins, problems = _modes(got[0], d, m, label, "input")
        outs, more = _modes(got[1], d, n, label, "output")
        if problems or more:
            return problems + more
        cost = _tt_cost(ins, outs, rank)
        if cost > _tt_cost(balanced_modes(m, d), balanced_modes(n, d), rank):
            return [f"{label}: your modes cost more numbers than the balanced ones"]
        for i in range(d):
            for j in range(i + 1, d):
                for swap_in, swap_out in ((True, False), (False, True), (True, True)):
                    a, b = list(ins), list(outs)
                    if swap_in:
                        a[i], a[j] = a[j], a[i]
                    if swap_out:
                        b[i], b[j] = b[j], b[i]
                    if _tt_cost(a, b, rank) < cost:
                        return [f"{label}: exchanging the modes at positions {i} and {j} saves numbers"]
        for which, modes in (("input", ins), ("output", outs)):
            for i, j in ((i, j) for i in range(d) for j in range(d) if i != j):
                for p in (p for p in range(2, modes[i] // 2 + 1) if modes[i] % p == 0):
                    moved = list(modes)
                    moved[i], moved[j] = moved[i] // p, moved[j] * p
                    if _tt_cost(*((moved, outs) if which == "input" else (ins, moved)), rank) < cost:
                        return [f"{label}: moving a factor {p} of {which} mode {i} to mode {j} saves numbers"]
        return []
    return Case(lambda: (m, n, d, rank), verdict)


exercise("08-cheapest-modes", "The modes of a TT layer with the fewest numbers at a given rank", kind="variant",
         checked_here="form").cases.extend([
    ("the wide MLP's fc2, 1024 x 1024, 4 cores, rank 8", cheap_modes_case(1024, 1024, 4, 8)),
    ("its fc1, 784 x 1024, 4 cores, rank 4", cheap_modes_case(784, 1024, 4, 4)),
    ("VGG's 25088 x 4096, 6 cores, rank 4", cheap_modes_case(25088, 4096, 6, 4)),
    ("4096 x 4096, 3 cores, rank 16", cheap_modes_case(4096, 4096, 3, 16)),
])


# The outcome: the wide MLP's largest layer (fc2, 1024 -> 1024) as TT cores; fc1, fc3 and every bias unchanged.
TT_LAYER = "fc2"
TT_LAYER_TARGETS = [
    Target("compression of fc2's weight", 100.0, 20.0, unit="x"),
    Target("test accuracy", 0.97, 0.90, unit="%"),
]


def tt_layer_form(got) -> list[str]:
    """The problems of an answer's form: ``{"cores": [G_1, ..., G_d]}``, ``G_k`` of shape ``(r_{k-1}, m_k, n_k, r_k)``,
    ``r_0 = r_d = 1``, neighbouring ranks equal, ``prod m_k = prod n_k = 1024``, finite floats."""
    if not isinstance(got, dict) or "cores" not in got:
        return [f"the answer must be a dict with the key 'cores', got {type(got).__name__}"]
    cores = got["cores"]
    if not isinstance(cores, (list, tuple)) or not 1 <= len(cores) <= 20:
        return ["answer['cores'] must be a list of 1 to 20 arrays"]
    for k, c in enumerate(cores):
        if not isinstance(c, np.ndarray) or c.ndim != 4 or c.dtype.kind not in "fiu":
            return [f"core {k} must be a 4-D array of floats (r_{{k-1}}, m_k, n_k, r_k)"]
        if not np.all(np.isfinite(c)):
            return [f"core {k} contains NaN or infinite values"]
        if c.shape[0] != (1 if k == 0 else cores[k - 1].shape[3]):
            return [f"core {k} starts with rank {c.shape[0]}, must be {1 if k == 0 else cores[k - 1].shape[3]}"]
    if cores[-1].shape[3] != 1:
        return [f"the last core ends with rank {cores[-1].shape[3]}, must be 1"]
    ins, outs = math.prod(c.shape[1] for c in cores), math.prod(c.shape[2] for c in cores)
    if (ins, outs) != (1024, 1024):
        return [f"the input modes multiply to {ins} and the output modes to {outs}; both must be 1024"]
    return []


def tt_layer_compression(got) -> float:
    """fc2's ``1024 * 1024`` weights divided by the numbers in the answer's cores."""
    return 1024 * 1024 / sum(int(c.size) for c in got["cores"])


def tt_layer_model(got):
    """The trained wide MLP with ``fc2.weight`` replaced by the dense matrix of the answer's cores (``W^T``,
    ``W = tt_matrix_dense(cores)`` being inputs x outputs); every other parameter unchanged."""
    import torch

    from ...checkpoints import load_pretrained
    from ...factorization import tt_matrix_dense

    model = load_pretrained("wide_mlp")
    w = tt_matrix_dense([np.asarray(c, dtype=np.float64) for c in got["cores"]])
    with torch.no_grad():
        model.fc2.weight.copy_(torch.from_numpy(w.T.astype(np.float32)))
    return model.eval()


def tt_layer_case():
    """The outcome's one case: ``tt_fc2()`` takes nothing; checked here: the form (the grader measures)."""
    return Case(lambda: (), lambda got: tt_layer_form(got))


exercise("08-outcome-tt-layer", "fc2 of the wide MLP as a TT layer: compression and accuracy", kind="outcome",
         checked_here="form").cases.append(("the wide MLP's fc2", tt_layer_case()))
