"""The flattened-convolution benchmark: a quick run gives every row with its MAC ratio (times never asserted)."""

import pytest

import course_lib.bench as bench
from course_lib.factorization import conv_macs, flattened_macs
from course_lib.factorization.flattened_timing import conv_timing

from helpers import raises


def test_quick_run_has_every_row():
    rows = bench.run(["flattened"], quick=True)
    # the layer (small in quick mode), two filter sizes, two channel counts; forward and fwd+bwd each
    assert len(rows) == 2 * (1 + 2 + 2)
    assert all(r.benchmark == "flattened" and r.unit == "ms" and r.a > 0 and r.b > 0 for r in rows)
    assert [r.case.split(", ")[3] for r in rows[:2]] == ["forward", "fwd+bwd"]
    ratio = conv_macs(16, 16, 5, 5, 16, 16) / flattened_macs(16, 16, 5, 5, 16, 16)
    assert f"MACs {ratio:.1f}x fewer" in rows[4].case


def test_conv_timing_reports_the_mac_ratio_and_checks_input():
    t = conv_timing(8, 3, 6, 1, backward=True, repeats=1, warmup=0)
    assert t["mac_ratio"] == pytest.approx(8 * 9 / (8 + 6)) and t["speedup"] == t["dense_ms"] / t["flat_ms"]
    assert t["dense_iqr_ms"] >= 0 and t["flat_iqr_ms"] >= 0  # the noise bands of the verdicts
    raises(ValueError, "kernel == 4, must be odd (for 'same' padding).", conv_timing, 8, 4, 6, 1)
    raises(TypeError, "backward must be True or False, got int (1).", conv_timing, 8, 3, 6, 1, backward=1)
