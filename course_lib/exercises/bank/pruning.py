"""Exercises of notebooks 01-03: pruning by hand, magnitude masks, storage bytes, rarely active neurons, the
cubic schedule."""

from __future__ import annotations

import numpy as np

from ..core import Case, compare, compare_fields, exercise

__all__ = ["EXAMPLE_W", "EXAMPLE_C", "storage_case", "mask_case", "rarely_case", "merge_case", "cubic_case"]


EXAMPLE_W = np.array([[0.31, -0.02, 0.75], [-0.48, 0.09, -0.11], [0.05, -0.93, 0.2]])
EXAMPLE_C = 0.1


def _threshold_by_hand(answer):
    from ...pruning import threshold_prune

    return compare(answer, threshold_prune(EXAMPLE_W, EXAMPLE_C)[0], name="W_pruned", atol=1e-9)


exercise("01-threshold-by-hand", "Prune a small matrix by hand with C = 0.1").cases.append(
    ("the 3x3 matrix W", Case(None, _threshold_by_hand)))


def mask_case(seed, shape, amount, ties=False):
    """A case for ``magnitude_mask(w, amount)``: keep all but the ``amount`` smallest magnitudes."""
    def inputs():
        w = np.random.default_rng(seed).normal(size=shape)
        return (np.round(w, 1) if ties else w), amount

    def verdict(got, w, amount):
        from ...pruning import magnitude_mask

        return compare(got, magnitude_mask(w, amount), name=f"magnitude_mask(w of shape {shape}, {amount})")
    return Case(inputs, verdict)


exercise("01-magnitude-mask", "A count-based magnitude mask").cases.extend([
    ("remove 3 of 10", mask_case(0, (10,), 3)),
    ("remove 20 of a 6x8 matrix", mask_case(1, (6, 8), 20)),
    ("ties: equal magnitudes", mask_case(2, (5, 5), 12, ties=True)),
    ("remove none", mask_case(3, (4,), 0)),
    ("remove all", mask_case(4, (3, 2), 6)),
])

def rarely_case(seed, n, units, threshold, max_rate):
    """A case for ``rarely_firing(acts, threshold, max_rate)`` on ReLU activations of ``units`` neurons."""
    def inputs():
        rng = np.random.default_rng(seed)
        acts = np.maximum(rng.normal(size=(n, units)) - rng.uniform(-0.5, 2.5, size=units), 0).astype(np.float32)
        return acts, threshold, max_rate

    def verdict(got, acts, threshold, max_rate):
        from ...pruning import neurons

        expected = neurons.rarely_active(neurons.activation_stats(acts, threshold=threshold),
                                         max_fire_rate=max_rate)
        if isinstance(got, (list, tuple)):
            try:
                got = np.asarray(got, dtype=np.int64)
            except (TypeError, ValueError):
                return [f"rarely_firing returned a {type(got).__name__} that is not a list of neuron indices"]
        return compare(got, expected, name=f"rarely_firing(acts of shape {acts.shape}, {threshold}, {max_rate})")
    return Case(inputs, verdict)


exercise("02-rarely-active", "Which neurons rarely fire?").cases.extend([
    ("8 neurons, 50 images", rarely_case(0, 50, 8, 0.5, 0.1)),
    ("30 neurons, 200 images", rarely_case(1, 200, 30, 1.0, 0.05)),
    ("a strict rule (max rate 0)", rarely_case(2, 100, 12, 0.2, 0.0)),
])


def cubic_case(s_i, s_f, t0, t_end):
    """A case for ``cubic_sparsity(t, s_i, s_f, t0, t_end)``, called for every step from ``t0 - 3`` to ``t_end + 3``."""
    def verdict(got, steps, s_i, s_f, t0, t_end):
        from ...pruning import gradual_sparsity

        expected = np.array([gradual_sparsity(t, final_sparsity=s_f, initial_sparsity=s_i, begin_step=t0,
                                              end_step=t_end) for t in steps])
        try:
            got = np.array(got, dtype=float)
        except (TypeError, ValueError):
            return [f"cubic_sparsity must return a number, got {[type(g).__name__ for g in got][:3]}"]
        return compare(got, expected, name=f"cubic_sparsity(t, {s_i}, {s_f}, {t0}, {t_end}) for t = {steps[0]}.."
                       f"{steps[-1]}", rtol=1e-9, atol=1e-12)
    return Case(lambda: (list(range(max(0, t0 - 3), t_end + 4)), s_i, s_f, t0, t_end), verdict)


def _each_step(fn, args):
    steps, *rest = args
    return [fn(t, *rest) for t in steps]


exercise("03-gradual", "Zhu & Gupta's gradual (cubic) sparsity schedule", probe=_each_step).cases.extend([
    ("0 -> 90% over steps 0..10", cubic_case(0.0, 0.9, 0, 10)),
    ("50% -> 95% over steps 5..25", cubic_case(0.5, 0.95, 5, 25)),
    ("one-step ramp", cubic_case(0.1, 0.8, 3, 4)),
])

def storage_case(seed, shape, sparsity):
    """A case for ``storage_bytes(w) -> {"dense", "csr", "bitmask"}`` on a pruned float32 matrix."""
    def inputs():
        rng = np.random.default_rng(seed)
        w = rng.normal(size=shape).astype(np.float32)
        w[rng.random(shape) < sparsity] = 0.0
        return (w,)

    def verdict(got, w):
        from ...pruning import bitmask_bytes, csr_bytes

        expected = {"dense": 4 * w.size, "csr": csr_bytes(w), "bitmask": bitmask_bytes(w)}
        return compare_fields(f"storage_bytes(w of shape {shape}, {np.mean(w == 0):.0%} zeros)", got, expected)
    return Case(inputs, verdict)


# Seed question 1 ("what problems can arise when zeroing weights?"), measured: zeroing alone
# saves no byte; a sparse format saves memory only past a sparsity that its indices set.
exercise("01-storage-bytes", "Seed question 1, measured: the bytes of a pruned matrix").cases.extend([
    ("a 4x5 matrix, about half zeros", storage_case(0, (4, 5), 0.6)),
    ("no zeros: CSR costs more than dense", storage_case(1, (6, 7), 0.0)),
    ("300x784, 90% zeros (2-byte column indices)", storage_case(2, (300, 784), 0.9)),
    ("all zeros: the row pointers remain", storage_case(3, (5, 3), 1.0)),
])


def merge_case(seed, n_in, units, n_out, keep, drop):
    """A case for ``merge_duplicate(w_in, b_in, w_out, keep, drop)``: ``drop`` is an exact copy of ``keep``."""
    def inputs():
        rng = np.random.default_rng(seed)
        w_in, b_in = rng.normal(size=(units, n_in)), rng.normal(size=units)
        w_in[drop], b_in[drop] = w_in[keep], b_in[keep]  # an exact duplicate
        return w_in, b_in, rng.normal(size=(n_out, units)), keep, drop

    def verdict(got, w_in, b_in, w_out, keep, drop):
        from ...pruning.neurons import merge_neurons

        x = np.random.default_rng(seed + 1000).normal(size=(9, n_in))
        expected = merge_neurons(w_in, b_in, w_out, [(keep, drop)])
        label = f"merge_duplicate(layer of {units} neurons, keep={keep}, drop={drop})"
        if not isinstance(got, (tuple, list)) or len(got) != 3:
            return [f"{label} returned {type(got).__name__}, expected (w_in, b_in, w_out)"]
        problems = []
        for part, g, e in zip(("w_in", "b_in", "w_out"), got, expected):
            problems += compare(g, e, name=f"{label}: {part}", atol=1e-12)
        if problems:
            return problems
        logits = np.maximum(x @ w_in.T + b_in, 0) @ w_out.T
        merged = np.maximum(x @ np.asarray(got[0]).T + np.asarray(got[1]), 0) @ np.asarray(got[2]).T
        return compare(merged, logits, name=f"{label}: the outputs of the merged layer", rtol=1e-9, atol=1e-9)
    return Case(inputs, verdict)


exercise("02-merge-duplicates", "Merge a duplicate neuron: the outputs must not change").cases.extend([
    ("5 neurons, merge 3 into 1", merge_case(0, 4, 5, 3, 1, 3)),
    ("12 neurons, merge 0 into 11", merge_case(1, 7, 12, 4, 11, 0)),
    ("2 neurons, keep the second", merge_case(2, 3, 2, 2, 1, 0)),
])

