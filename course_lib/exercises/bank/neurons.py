"""Exercises of notebook 02: neuron pruning."""

from __future__ import annotations

import numpy as np

from ..core import Case, compare, exercise

__all__ = ["rarely_case", "merge_case"]


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
