"""The pruning notebooks' byte convention (biases included, dense float32) and timings with their spread."""

import numpy as np
import pytest

import course_lib as cl
from course_lib.pruning import bitmask_bytes, csr_bytes
from course_lib.pruning.sparse import alternating_latencies, dense_vs_sparse_latencies
from course_lib.pruning.storage import stored_bytes
from course_lib.timing import Latency
from course_lib.verdicts import first_win

from helpers import raises


def test_stored_bytes_sparse_weights_dense_biases():
    w = np.zeros((300, 784), dtype=np.float32)
    w[:, :7] = 1.0
    b = np.ones(300, dtype=np.float32)
    assert stored_bytes([w, b], "csr") == csr_bytes(w) + 4 * 300
    assert stored_bytes([w, b], "bitmask") == bitmask_bytes(w) + 4 * 300
    assert stored_bytes([w, b], "float32") == 4 * (w.size + 300) == cl.storage_bytes([w, b])
    assert stored_bytes({"w": w, "b": b, "s": np.float32(2.0)}) == csr_bytes(w) + 4 * 301  # a 0-D array too


def test_stored_bytes_of_a_model_matches_the_float32_count():
    model = cl.load_pretrained("lenet300")
    assert stored_bytes(model, "float32") == cl.storage_bytes(model) == 4 * cl.count_parameters(model)
    biases = sum(p.numel() for p in model.parameters() if p.ndim == 1)
    weights = [p.detach().numpy() for p in model.parameters() if p.ndim == 2]
    assert stored_bytes(model) == sum(csr_bytes(w) for w in weights) + 4 * biases


def test_stored_bytes_bad_format():
    with pytest.raises(ValueError, match="zip"):
        stored_bytes([np.zeros((2, 2))], "zip")


def test_dense_vs_sparse_latencies_rows():
    rows = dense_vs_sparse_latencies((32, 48), (0.0, 0.9), batch=2, repeats=5, rng=0)
    assert [row["sparsity"] for row in rows] == [0.0, 0.9]
    for row in rows:
        assert set(row) == {"sparsity", "dense", "sparse"}
        for t in (row["dense"], row["sparse"]):
            assert isinstance(t, Latency) and t.repeats == 5 and t.threads == 1
            assert 0 < t.min_ms <= t.median_ms and t.iqr_ms >= 0
    verdict = first_win([r["sparsity"] for r in rows], [r["dense"] for r in rows], [r["sparse"] for r in rows],
                        names=("dense", "CSR"))
    assert verdict.outcome in ("from", "never", "always")
    raises(ValueError, "sparsities is empty, must hold at least one value.", dense_vs_sparse_latencies, (4, 4), ())
    raises(ValueError, "shape[0] == 0, must be >= 1.", dense_vs_sparse_latencies, (0, 4))


def test_weight_explorer_counts_biases_when_asked():
    model, test = cl.load_pretrained("lenet300"), cl.load_mnist("test", limit=200)
    plain = cl.widgets.WeightPruningExplorer(model, test).compute(C=0.05)
    with_b = cl.widgets.WeightPruningExplorer(model, test, biases=True).compute(C=0.05)
    biases = 4 * (300 + 100 + 10)
    for key in ("dense_bytes", "csr_bytes", "bitmask_bytes"):
        assert with_b[key] == plain[key] + biases
    assert with_b["dense_bytes"] == cl.storage_bytes(model)
    with pytest.raises(TypeError, match="biases"):
        cl.widgets.WeightPruningExplorer(model, test, biases=1)


def test_alternating_latencies_counts_and_messages():
    calls = []
    a, b = alternating_latencies(lambda: calls.append("a"), lambda: calls.append("b"), repeats=7, rounds=3, warmup=2)
    assert a.repeats == b.repeats == 7 and a.threads == b.threads == 1
    assert calls.count("a") == calls.count("b") == 2 + 3 + 7  # warm-up, one untimed call per block, timed
    assert calls[4:7] == ["a"] * 3 and calls[7] == "a" and calls[8] == "b"  # blocks: 1 untimed + 3, 1 + 3, ...
    assert alternating_latencies(lambda: None, lambda: None, repeats=2, rounds=5)[0].repeats == 2
    with pytest.raises(TypeError, match="must be callable"):
        alternating_latencies(None, lambda: None)
    raises(ValueError, "repeats == 0, must be >= 1.", alternating_latencies, lambda: None, lambda: None, repeats=0)
