"""The summary's NumPy side: the Pareto front, the best under a budget, the claims' rules, the decision table."""

import itertools
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib.summary import (
    EVIDENCE_KEYS,
    SEED_CLAIMS,
    VERDICTS,
    best_under_budget,
    claims_table,
    code_lines,
    decision_table,
    pareto_front,
)

from helpers import raises

ROOT = Path(__file__).resolve().parents[2]


def brute_front(acc, cost):
    """By the definition, pair by pair."""
    n = len(acc)
    return sorted(i for i in range(n) if not any(
        acc[j] >= acc[i] and cost[j] <= cost[i] and (acc[j] > acc[i] or cost[j] < cost[i]) for j in range(n)))


def test_pareto_by_hand():
    acc = [0.90, 0.95, 0.80, 0.95, 0.97, 0.97]
    cost = [10, 20, 30, 40, 50, 50]
    # 2 is beaten by 0; 3 by 1 (same accuracy, cheaper); 4 and 5 are identical: both stay
    assert pareto_front(acc, cost).tolist() == [0, 1, 4, 5]
    assert pareto_front([0.5], [3.0]).tolist() == [0]
    # equal cost: only the more accurate survives, and the order is by cost
    assert pareto_front([0.7, 0.9, 0.8], [5, 5, 1]).tolist() == [2, 1]
    assert pareto_front(np.array([1, 2]), np.array([1, 2])).dtype == np.int64


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 4)), min_size=1, max_size=12))
def test_pareto_matches_the_definition(points):
    acc = [a / 4 for a, _ in points]
    cost = [float(c) for _, c in points]
    front = pareto_front(acc, cost)
    assert sorted(front.tolist()) == brute_front(acc, cost)
    assert all(cost[a] <= cost[b] for a, b in itertools.pairwise(front))  # cheapest first
    # the most accurate point that is cheapest among the most accurate is always on it
    best = best_under_budget(acc, cost, max(cost))
    assert best in front


def test_best_under_budget_by_hand():
    acc, cost = [0.9, 0.95, 0.8, 0.95], [10, 20, 5, 15]
    assert best_under_budget(acc, cost, 15) == 3      # 0.95 at 15 fits; 0.95 at 20 does not
    assert best_under_budget(acc, cost, 100) == 3     # equal accuracy: the cheaper
    assert best_under_budget(acc, cost, 9.99) == 2
    assert best_under_budget(acc, cost, 4) is None
    assert best_under_budget([0.5, 0.5], [1, 1], 1) == 0  # a full tie: the first
    assert best_under_budget([0.5], [0.0], 0) == 0        # a zero budget fits a zero cost


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 5)), min_size=1, max_size=10), st.integers(0, 6))
def test_best_under_budget_is_the_best_that_fits(points, budget):
    acc, cost = [float(a) for a, _ in points], [float(c) for _, c in points]
    got = best_under_budget(acc, cost, budget)
    fits = [i for i in range(len(acc)) if cost[i] <= budget]
    if not fits:
        assert got is None
    else:
        assert got == min(fits, key=lambda i: (-acc[i], cost[i], i))
        assert got in pareto_front(acc, cost) or any(acc[j] == acc[got] and cost[j] == cost[got] for j in fits)


def test_bad_tables():
    raises(ValueError, "accuracy has 2 entries and cost 3, must have one each per configuration.",
           pareto_front, [1, 2], [1, 2, 3])
    raises(ValueError, "cost holds 1 negative value(s), must be >= 0.", pareto_front, [1, 2], [1, -2])
    raises(ValueError, "accuracy is empty (shape (0,)), must have at least one element.", pareto_front, [], [])
    raises(ValueError, "accuracy contains 1 NaN or infinite value(s), must be finite.", pareto_front, [np.nan], [1])
    raises(TypeError, "cost must be an array of real numbers, got dtype <U1.", pareto_front, [1], ["a"])
    raises(ValueError, "accuracy has 2 dimension(s) (shape (1, 2)), must have 1.", pareto_front, [[1, 2]], [1, 2])
    raises(ValueError, "budget == -1.0, must be >= 0.", best_under_budget, [1], [1], -1)
    raises(TypeError, "budget must be a real number, got str ('10').", best_under_budget, [1], [1], "10")


def evidence(**over):
    base = {
        "neurons": {"bytes_ratio": 1.6, "speedup_1": 0.9, "speedup_100": 1.5, "acc_drop": 0.2},
        "synapses": {"sparsity": 0.9, "csr_ratio": 6.6, "dense_run_speedup": 1.0, "sparse_crossover": 0.95},
        "quant_memory": {"bytes_ratio": 3.96},
        "quant_compute": {"int8_kernel": "x86", "speedup_1": 0.7, "speedup_100": 1.8, "integer_match": True},
        "scratch": {"dense": 0.944, "qat": 0.946, "sparse": 0.905, "sparsity": 0.9},
        "fact_memory": {"svd_ratio": 5.1, "svd_drop": 0.5, "tt_ratio": 7.5, "tt_drop": 4.2},
        "fact_speed": {"speedup_1": 1.1, "speedup_100": 3.8},
        "fact_scratch": {"dense": 0.944, "tt": 0.937, "tt_ratio": 7.5},
        "fact_hard": {"pruning_lines": 161, "quantization_lines": 375, "svd_lines": 216, "tt_lines": 376},
    }
    for key, numbers in over.items():
        base[key] = {**base[key], **numbers}
    return base


def test_claims_follow_their_rules():
    rows = claims_table(evidence())
    assert [r["claim"] for r in rows] == [c for _, _, c in SEED_CLAIMS]
    assert [r["seed"] for r in rows] == [s for _, s, _ in SEED_CLAIMS]
    verdicts = {k: r["verdict"] for (k, _, _), r in zip(SEED_CLAIMS, rows)}
    assert verdicts == {"neurons": "supported", "synapses": "supported", "quant_memory": "supported",
                        "quant_compute": "partly", "scratch": "contradicted", "fact_memory": "supported",
                        "fact_speed": "supported", "fact_scratch": "supported", "fact_hard": "partly"}
    assert set(verdicts.values()) <= set(VERDICTS)
    assert "95% sparsity" in rows[1]["measured"] and "3.96x" in rows[2]["measured"]
    # the verdicts change with the measurements
    worse = evidence(
        neurons={"speedup_100": 0.9}, synapses={"dense_run_speedup": 2.0, "sparse_crossover": None},
        quant_memory={"bytes_ratio": 2.0}, quant_compute={"int8_kernel": None},
        scratch={"qat": 0.5, "sparse": 0.1}, fact_memory={"svd_drop": 3.0},
        fact_speed={"speedup_1": 0.5, "speedup_100": 0.9}, fact_scratch={"tt": 0.8},
        fact_hard={"svd_lines": 600, "tt_lines": 700})
    again = {k: r["verdict"] for (k, _, _), r in zip(SEED_CLAIMS, claims_table(worse))}
    assert again == {"neurons": "partly", "synapses": "partly", "quant_memory": "partly",
                     "quant_compute": "supported", "scratch": "supported", "fact_memory": "partly",
                     "fact_speed": "contradicted", "fact_scratch": "partly", "fact_hard": "supported"}
    assert claims_table(evidence(scratch={"sparse": 0.8}))[4]["verdict"] == "partly"
    assert claims_table(evidence(fact_hard={"svd_lines": 200, "tt_lines": 200}))[8]["verdict"] == "contradicted"
    assert "never measurably faster" in claims_table(evidence(synapses={"sparse_crossover": None}))[1]["measured"]


def test_speed_rules_apply_the_noise_rule():
    from course_lib.summary import speed_word
    from course_lib.verdicts import Measured

    # a plain number: only the 5 % rule
    assert speed_word(1.3) == "faster" and speed_word(0.7) == "slower" and speed_word(1.04) == \
        "no measurable difference"
    # a spread that covers 1x: no measurable difference, however large the ratio looks
    assert speed_word(Measured(1.3, 0.4)) == "no measurable difference"
    assert speed_word((1.3, 0.2)) == "faster" and speed_word((0.6, 0.5)) == "no measurable difference"
    # synapses: the pruned model run dense is shown with the noise rule's word, not judged (same operations)
    rows = claims_table(evidence(synapses={"dense_run_speedup": Measured(1.3, 0.4)}))
    assert rows[1]["verdict"] == "supported" and "1.3x ± 0.4 (no measurable difference)" in rows[1]["measured"]
    assert claims_table(evidence(synapses={"dense_run_speedup": (1.3, 0.1)}))[1]["verdict"] == "supported"
    # speed "if supported": a CSR product measurably faster from some sparsity; never -> partly; no memory -> contra
    assert claims_table(evidence(synapses={"sparse_crossover": None}))[1]["verdict"] == "partly"
    assert claims_table(evidence(synapses={"csr_ratio": 0.9}))[1]["verdict"] == "contradicted"
    # neurons: faster only inside the noise at both batch sizes -> partly
    noisy = evidence(neurons={"speedup_1": (1.1, 0.2), "speedup_100": Measured(1.8, 0.9)})
    assert claims_table(noisy)[0]["verdict"] == "partly"
    assert claims_table(evidence(neurons={"speedup_1": (1.2, 0.1), "speedup_100": 1.0}))[0]["verdict"] == "supported"
    # factorization speed: one measurable speed-up is enough ("can"), none -> contradicted
    assert claims_table(evidence(fact_speed={"speedup_1": 1.0, "speedup_100": (3.0, 0.5)}))[6]["verdict"] == \
        "supported"
    none = claims_table(evidence(fact_speed={"speedup_1": (1.1, 0.2), "speedup_100": (1.5, 0.6)}))[6]
    assert none["verdict"] == "contradicted" and none["measured"].count("no measurable difference") == 2
    # two measured times: the verdict is compare's on them, whichever way the ratio's band falls
    from course_lib.summary import Timings
    from course_lib.verdicts import compare

    for old, new in (((0.70, 0.0245), (0.65, 0.0245)), ((0.70, 0.01), (0.65, 0.01)), ((1.0, 0.1), (0.97, 0.1)),
                     ((0.6, 0.01), (0.7, 0.01))):
        want = {"b": "faster", "a": "slower", "same": "no measurable difference"}[
            compare(old, new, kind="time").outcome]
        assert speed_word(Timings(old, new)) == want
    assert speed_word(Timings((0.70, 0.0245), (0.65, 0.0245))) == "faster"  # bands apart, 7.7 %
    assert speed_word(Timings((0.70, 0.0245), (0.65, 0.0245)).ratio) == "no measurable difference"  # the ratio: not
    assert speed_word(Timings((0.6, 0.01), (0.7, 0.01))) == "slower"
    row = claims_table(evidence(fact_speed={"speedup_1": Timings((0.70, 0.01), (0.65, 0.01)), "speedup_100": 1.0}))[6]
    assert row["verdict"] == "supported" and "1.1x (faster)" in row["measured"]
    row = claims_table(evidence(fact_speed={"speedup_1": Timings((0.70, 0.03), (0.65, 0.03)), "speedup_100": 1.0}))[6]
    assert row["verdict"] == "contradicted" and "(no measurable difference)" in row["measured"]
    # every sentence about speed says what the noise rule found
    for r in claims_table(evidence()):
        if "speed" in r["measured"]:
            assert any(w in r["measured"] for w in ("(faster)", "(slower)", "(no measurable difference)"))


def test_claims_refuse_bad_evidence():
    raises(TypeError, "evidence must be a dict of claim -> measured numbers, got list.", claims_table, [])
    e = evidence()
    del e["scratch"]
    raises(ValueError, "evidence has no 'scratch', must have every claim of SEED_CLAIMS.", claims_table, e)
    raises(ValueError, f"evidence names ['typo'], must name only claims among {list(EVIDENCE_KEYS)}.",
           claims_table, {**evidence(), "typo": {}})
    e = evidence()
    del e["fact_speed"]["speedup_1"]
    raises(ValueError, "evidence['fact_speed'] misses ['speedup_1'], must have ['speedup_1', 'speedup_100'].",
           claims_table, e)
    raises(TypeError, "evidence['neurons'] must be a dict of measured numbers, got float.", claims_table,
           {**evidence(), "neurons": 1.0})


def row(model, name, acc, b, ms1, ms100, needs="none"):
    return {"model": model, "name": name, "needs": needs, "accuracy": acc, "bytes": b, "ms_1": ms1, "ms_100": ms100}


TABLE = [row("m", "float32", 0.98, 1000, 1.0, 10.0), row("m", "int8", 0.979, 250, 1.5, 5.0),
         row("m", "svd", 0.975, 200, 0.8, 4.0, "labels"), row("m", "tiny", 0.90, 50, 0.5, 2.0, "labels"),
         row("m", "calib", 0.978, 240, 2.0, 20.0, "sample")]


def test_decision_table_by_hand():
    got = {r["constraint"]: r for r in decision_table(TABLE, tolerance=0.01)}
    assert got["smallest file"]["technique"] == "svd" and got["smallest file"]["gain"] == "5.0x fewer bytes"
    assert got["fastest for one image"]["technique"] == "svd" and got["fastest for one image"]["gain"] == \
        "1.2x the speed"
    assert got["fastest for batches of 100"]["technique"] == "svd"
    assert got["no data at all"]["technique"] == "int8"           # svd needs labels
    assert got["unlabelled data only"]["technique"] == "calib"    # 240 < 250 bytes
    assert got["no data at all"]["accuracy change"] == "-0.1 points"
    # a looser tolerance lets the tiny model in; zero tolerance leaves the baseline only
    assert decision_table(TABLE, tolerance=0.1)[0]["technique"] == "tiny"
    assert {r["technique"] for r in decision_table(TABLE, tolerance=0.0)} == {
        "float32", "no measurable difference: keep float32"}
    assert set(decision_table(TABLE)[0]) == {"constraint", "model", "technique", "gain", "accuracy change",
                                             "as fast (within the noise)"}


def test_decision_table_applies_the_noise_rule():
    from course_lib.verdicts import Measured

    def fastest(rows):
        return {r["constraint"]: r for r in decision_table(rows)}["fastest for batches of 100"]

    # 1.1x faster, no spread given: beyond 5 % -> a winner
    base = row("m", "float32", 0.98, 1000, 1.0, 10.0)
    f16 = row("m", "float16", 0.98, 500, 1.0, 9.1)
    assert fastest([base, f16])["technique"] == "float16"
    # the same 1.1x with IQRs whose bands overlap: no measurable difference, keep float32
    noisy = [dict(base, iqr_100=1.0), dict(f16, iqr_100=1.0)]
    got = fastest(noisy)
    assert got["technique"] == "no measurable difference: keep float32" and got["gain"] == "none beyond the noise"
    assert got["accuracy change"] == "+0.0 points"
    # under 5 %, however tight: no measurable difference
    assert fastest([base, row("m", "float16", 0.98, 500, 1.0, 9.6)])["technique"].startswith(
        "no measurable difference")
    # Measured values instead of iqr columns give the same rule
    measured_rows = [dict(base, ms_100=Measured(10.0, 0.5)), dict(f16, ms_100=Measured(9.1, 0.5))]
    assert fastest(measured_rows)["technique"].startswith("no measurable difference")
    assert fastest([dict(base, ms_100=(10.0, 0.1)), dict(f16, ms_100=(9.1, 0.1))])["technique"] == "float16"
    # the winner is the fastest of those measurably faster; one inside its noise is named beside it
    svd = row("m", "svd", 0.975, 200, 0.8, 4.0, "labels")
    svd8 = row("m", "svd8", 0.975, 100, 0.8, 4.1, "labels")
    got = fastest([dict(base, iqr_100=0.2), dict(svd, iqr_100=0.4), dict(svd8, iqr_100=0.4),
                   dict(f16, iqr_100=2.0)])
    assert got["technique"] == "svd" and got["as fast (within the noise)"] == "svd8" and got["gain"] == \
        "2.5x the speed"
    # a bytes constraint has no noise
    assert {r["constraint"]: r for r in decision_table(noisy)}["smallest file"]["technique"] == "float16"


def test_decision_table_refuses_bad_rows():
    raises(TypeError, "rows must be a non-empty list of dicts (measured configurations), got list.",
           decision_table, [])
    raises(TypeError, "rows[0] must be a dict, got int.", decision_table, [1])
    raises(ValueError, "rows[0] misses ['ms_100'], must have ['model', 'name', 'needs', 'accuracy', 'bytes', "
                       "'ms_1', 'ms_100'].", decision_table, [{k: v for k, v in TABLE[0].items() if k != "ms_100"}])
    raises(ValueError, "rows has no 'float32' row for model 'm', must have its baseline.", decision_table, TABLE[1:])
    raises(ValueError, "tolerance == 2.0, must be a fraction in [0, 1] (not a percentage).", decision_table, TABLE,
           tolerance=2.0)


def test_code_lines(tmp_path):
    f = tmp_path / "mod.py"
    f.write_text('"""Module doc\nover two lines."""\n\n# a comment\nimport os\n\n\ndef f(x):\n'
                 '    """Doc."""\n    return x  # trailing comment counts\n')
    assert code_lines(f) == 3  # import, def, return
    assert code_lines(f, f) == 6
    raises(ValueError, "paths is empty, must name at least one Python file.", code_lines)
    with pytest.raises(ValueError, match="paths\\[0\\]"):
        code_lines(tmp_path / "missing.py")


def test_numpy_side_is_torch_free():
    code = ("import sys\nimport course_lib.summary.pareto, course_lib.summary.claims, course_lib.widgets\n"
            "from course_lib.summary import pareto_front, claims_table\npareto_front([1], [1])\n"
            "print('TORCH' if any(m == 'torch' or m.startswith('torch.') for m in sys.modules) else 'CLEAN')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "CLEAN"
