import pytest

import course_lib.bench as bench
from course_lib.report import format_bytes, format_table


def test_bench_quick_smoke_prints_ratios(capsys, mnist_available):
    assert bench.main(["--quick", "latency", "data"]) == 0
    out = capsys.readouterr().out
    assert "A/B" in out and "torch.utils.benchmark" in out and "torchvision" in out
    rows = bench.run(["latency"], quick=True)
    # both timers measured the call (how they compare is the benchmark's figure, not a test: timings vary with load)
    assert rows[0].a > 0 and rows[0].b > 0 and rows[0].ratio == pytest.approx(rows[0].a / rows[0].b)


def test_bench_pruning_quick_rows():
    rows = bench.run(["pruning"], quick=True)
    storage = [r for r in rows if r.unit == "bytes"]
    # CSR of a 90%-sparse 1024x1024 float32 matrix: 4 + 2 bytes per non-zero plus row pointers
    assert storage[-1].ratio == pytest.approx((0.1 * 1024 * 1024 * 6 + 1025 * 4) / (4 * 1024 * 1024), rel=1e-3)
    assert all(r.a > 0 and r.b > 0 for r in rows)


def test_bench_quantization_quick_rows():
    rows = bench.run(["quantization"], quick=True)
    sizes = {(r.case, r.a_label): r.ratio for r in rows if r.unit == "bytes"}
    for name in ("lenet300", "cifar_vgg"):
        assert sizes[(f"{name} parameters", "float16")] == 0.5
        # one byte per weight plus a float32 scale per tensor (or per output channel)
        assert 0.25 < sizes[(f"{name} parameters", "int8")] < sizes[(f"{name} parameters", "int8_per_channel")] < 0.26
    from course_lib.quantization.nn import kernels

    timed = [r for r in rows if r.unit == "ms"]
    # per batch (1 and 32): every int8 kernel and torch._int_mm alone; then NumPy's int8 product
    assert len(timed) == 2 * (len(kernels.available_int8_kernels()) + 1) + 1
    assert all(r.a > 0 and r.b > 0 for r in timed)
    chosen = [r for r in timed if r.a_label.endswith("(chosen)")]
    assert len(chosen) == 2 and all(kernels.choose_int8_kernel() in r.a_label for r in chosen)
    text = bench.format_rows(rows)
    assert text.splitlines()[0].split() == ["benchmark", "case", "A", "B", "A/B"]
    assert set(text.splitlines()[1]) <= {"-", " "}
    assert all(line.rstrip().endswith(f"{r.ratio:.3f}") for line, r in zip(text.splitlines()[2:], rows))


def test_bench_grading_quick_grades_the_instructor_notebooks(mnist_available):
    per_student, class_of_100, sandbox = bench.run(["grading"], quick=True)
    assert per_student.case == "2 students x 1 notebooks, --jobs 2"
    # both modes graded (full marks, else bench_grading raises); which is faster is the benchmark's figure
    assert per_student.a > 0 and per_student.b > 0
    assert class_of_100.a == pytest.approx(100 * per_student.a)
    assert (sandbox.a_label, sandbox.b_label) == ("sandboxed", "plain process") and sandbox.a > 0 and sandbox.b > 0


def test_bench_unknown_name():
    with pytest.raises(ValueError, match="names contains"):
        bench.run(["nope"])


def test_format_table_and_bytes():
    text = format_table([{"model": "a", "n": 1}, {"model": "bb", "n": 100}])
    assert text.splitlines() == ["model    n", "-----  ---", "a        1", "bb     100"]
    assert format_table([]) == "(no rows)"
    assert format_bytes(1023) == "1023 B"
    assert format_bytes(1069205) == "1.02 MiB"


@pytest.mark.parametrize("name", ["svd", "tt", "flattened"])
def test_factorization_benchmarks_refuse_a_quick_that_is_not_a_bool(name):
    from course_lib.bench import factorization

    with pytest.raises(TypeError, match="quick must be True or False"):
        getattr(factorization, f"bench_{name}")("yes")
