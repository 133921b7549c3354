"""The llmquant benchmark: GPTQ and AWQ never lose to RTN on fc2's calibration inputs; the bytes are the formula's."""

import numpy as np

import course_lib.bench as bench
from course_lib.bench import llmquant  # registers the "llmquant" benchmark


def test_llmquant_figures_hold_what_the_theory_promises():
    rng = np.random.default_rng(0)
    mix = rng.standard_normal((60, 60)) / 8 + np.eye(60)
    x = np.maximum(rng.standard_normal((400, 60)) @ mix, 0)
    w = rng.standard_normal((20, 60))
    rows = llmquant.llmquant_figures(w, x[:300], x[300:], bits=(4, 3), group_sizes=(20, 60))
    assert [(r["bits"], r["group_size"]) for r in rows] == [(4, 20), (4, 60), (3, 20), (3, 60)]
    for r in rows:
        assert r["awq_calibration"] <= r["rtn_calibration"]  # alpha = 0 is RTN
        assert r["gptq_calibration"] < r["rtn_calibration"]
        groups = 60 // r["group_size"]
        assert r["bytes"] == 20 * 60 * r["bits"] // 8 + 20 * groups * 2 + -(-20 * groups * r["bits"] // 8)
    assert rows[2]["rtn"] > rows[0]["rtn"]  # 3 bits err more than 4


def test_llmquant_benchmark_rows():
    rows = bench.run(["llmquant"], quick=True)
    assert {r.benchmark for r in rows} == {"llmquant"} and len(rows) == 2 * 3 * 5
    errors = [r for r in rows if "error" in r.case]
    assert len(errors) == 24 and all(r.b_label == "RTN" for r in errors)
    # on its own calibration inputs neither loses to RTN; GPTQ wins clearly on fc2
    assert all(r.a <= r.b for r in errors if "calibration" in r.case)
    assert all(r.ratio < 0.8 for r in errors if "calibration" in r.case and r.a_label == "GPTQ")
    sizes = [r for r in rows if r.unit == "bytes"]
    assert all(r.b == 4 * 100 * 300 and r.ratio < 0.15 for r in sizes)
    assert "llmquant" in bench.format_rows(rows)
