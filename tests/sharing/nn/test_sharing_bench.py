"""The sharing benchmark on LeNet-300-100's fc1: k-means never loses to its uniform grid; the file beats CSR."""

import numpy as np

import course_lib.bench as bench
from course_lib.bench import sharing  # registers the "sharing" benchmark


def test_sharing_figures_hold_what_the_theory_promises():
    weights = np.random.default_rng(0).standard_normal((60, 200)).astype(np.float32)
    rows = sharing.sharing_figures(weights, bits=(2, 3), pruned=0.9)
    for r in rows:
        # Lloyd's iterations never increase the error of the grid they start from (linear init = the grid)
        assert r["mse_kmeans"] <= r["mse_uniform"]
        # Huffman (its code-length table included) never needs more than the fixed-width code plus the table
        assert r["index_huffman"] <= -(-r["index_entries"] * int(np.ceil(np.log2(2 ** r["bits"] + 1))) // 8) + \
            2 ** r["bits"] + 1
        assert r["file_bytes"] < r["csr_bytes"] < r["dense_bytes"]
    assert rows[1]["mse_kmeans"] < rows[0]["mse_kmeans"]


def test_sharing_benchmark_rows():
    rows = bench.run(["sharing"], quick=True)
    assert {r.benchmark for r in rows} == {"sharing"} and len(rows) == 4 * 7
    errors = [r for r in rows if "MSE" in r.case]
    assert len(errors) == 4 and all(r.a <= r.b for r in errors)
    files = [r for r in rows if r.a_label == "file" and r.b_label == "float32 dense"]
    assert all(r.b == 4 * 300 * 784 and r.ratio < 0.05 for r in files)
    assert "sharing" in bench.format_rows(rows)
