"""The knob sweep: one row per value, measured with the shared helpers; clear errors."""

import numpy as np
import pytest

import course_lib as cl
from course_lib.pruning import nn as prune_nn

from helpers import fresh_model, mnist_subset, raises


def test_sweep_rows_match_direct_measurements():
    _, test = mnist_subset(10, 200)
    model = fresh_model()

    def pruned(s):
        masks = prune_nn.masks_for(model, s)
        return prune_nn.apply_masks(model, masks), {"sparsity": cl.sparsity(masks)}

    rows = cl.sweep([0.0, 0.9], pruned, images=test.images, labels=test.labels, knob="s", size="csr",
                    latency_batch=2)
    assert [r["s"] for r in rows] == [0.0, 0.9]
    assert set(rows[0]) == {"s", "accuracy", "bytes", "latency_ms", "sparsity"}
    again = prune_nn.apply_masks(model, prune_nn.masks_for(model, 0.9))
    assert rows[1]["accuracy"] == cl.accuracy(again, test.images, test.labels)
    assert rows[1]["bytes"] == cl.storage_bytes(again, "csr") < rows[0]["bytes"]
    assert rows[1]["sparsity"] == pytest.approx(0.9, abs=1e-3) and rows[1]["latency_ms"] > 0
    ax = cl.plot_sweep(rows, x="sparsity", label="magnitude")
    assert ax.get_xlabel() == "sparsity" and len(ax.lines) == 1


def test_sweep_bad_input():
    images, labels = np.zeros((2, 28, 28), np.uint8), np.zeros(2, np.int64)
    model = fresh_model()
    raises(TypeError, "values must be a sequence of knob values, got str ('0.5').", cl.sweep, "0.5", lambda v: model,
           images=images, labels=labels)
    raises(ValueError, "values is empty, must hold at least one knob value.", cl.sweep, [], lambda v: model,
           images=images, labels=labels)
    raises(TypeError, "make(1) must be a torch.nn.Module, got int.", cl.sweep, [1], lambda v: v,
           images=images, labels=labels)
    raises(ValueError, "size == 'zip', must be one of 'bitmask', 'csr', 'float16', 'float32', 'float64', "
           "'int8', 'int8_per_channel'.", cl.sweep, [1], lambda v: model, images=images, labels=labels, size="zip")
    raises(ValueError, "x == 'bits' is not a column of rows[0], must be one of 'v', 'accuracy', 'bytes'.",
           cl.plot_sweep, [{"v": 1, "accuracy": 0.5, "bytes": 3}], x="bits")
