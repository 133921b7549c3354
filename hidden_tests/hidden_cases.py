"""Hidden test cases: inputs the students never see (instructors only -- never released).

The grader (``python -m course_lib.grading.grade``) runs this file in its own process,
once per grading session. Only the cases' *inputs* enter a graded kernel (as plain-data
files); the kernel records what the student's answer returns on them, and the grader
judges the records with each case's verdict, outside. Neither this file's text nor an
expected value is ever in the student's process. A student who hard-codes the answers
of the public cases passes the self-check but fails these.

Each case is ``(label, Case)``, built by the same case builders as the public cases
(``course_lib/exercises/bank/``) from other inputs: expected values are computed from
the library, never stored as literals. The label is shown in the student's feedback
after grading.

To add a case, add it to an ``add_cases`` call below and run
``python -m pytest tests/grading/test_round_trip.py``: the instructor notebooks must still
score full marks with every hidden case (the round-trip test).
"""

from course_lib.exercises import add_cases
from course_lib.exercises.bank import (  # importing the bank registers the course's exercises first
    accuracy_case,
    break_even_case,
    calibration_case,
    cnn_layer_cost_case,
    costs_case,
    cubic_case,
    flattened_cost_case,
    mask_case,
    matvec_case,
    merge_case,
    mlp_case,
    modes_case,
    q3_case,
    rank1_case,
    rank_plan_case,
    rarely_case,
    ste_case,
    storage_case,
    trained_entry_case,
    trained_rank1_case,
    tt_cost_case,
    tt_entry_case,
)

add_cases("00-mlp-params",
          ("hidden: widths [7, 5, 3]", mlp_case((7, 5, 3))),
          ("hidden: widths [3, 64, 64, 2]", mlp_case((3, 64, 64, 2))))
add_cases("00-accuracy",
          ("hidden: 33 examples, 4 classes", accuracy_case(101, 33, 4)),
          ("hidden: 250 examples, 2 classes", accuracy_case(102, 250, 2)))
add_cases("01-magnitude-mask",
          ("hidden: remove 17 of a 3x4x5 tensor", mask_case(11, (3, 4, 5), 17)),
          ("hidden: remove 1 of a 2x9 matrix", mask_case(12, (2, 9), 1)))
add_cases("01-storage-bytes",
          ("hidden: a 40x300 matrix, 97% zeros", storage_case(13, (40, 300), 0.97)),
          ("hidden: a 1x70000 row (4-byte column indices)", storage_case(14, (1, 70000), 0.5)))
add_cases("02-rarely-active",
          ("hidden: 16 neurons, 80 images", rarely_case(21, 80, 16, 0.3, 0.2)))
add_cases("03-gradual",
          ("hidden: 20% -> 70% over steps 2..12", cubic_case(0.2, 0.7, 2, 12)))
add_cases("04-int8-matvec",
          ("hidden: a 9x4 layer, a_w = 1.5, a_x = 0.25", matvec_case(31, 9, 4, 1.5, 0.25)))
add_cases("04-int8-costs",
          ("hidden: a 512 -> 2048 layer", costs_case(2048, 512)),
          ("hidden: 131072 inputs (33 bits)", costs_case(2, 131072)))
add_cases("02-merge-duplicates",
          ("hidden: 9 neurons, merge 8 into 4", merge_case(41, 6, 9, 5, 4, 8)))
add_cases("05-fake-quant-ste",
          ("hidden: 6-bit affine, a 3x5x2 tensor", ste_case(51, (3, 5, 2), 0.1, -4, -32, 31)))
add_cases("05-calibration-range",
          ("hidden: 99.5th percentile of 2,000 values", calibration_case(52, 2000, "percentile", 99.5)))
add_cases("06-rank-for-compression",
          ("hidden: 1000x3000 at 7.5x", rank_plan_case(1000, 3000, 7.5)))
add_cases("06-break-even",
          ("hidden: 1x50", break_even_case(1, 50)), ("hidden: 37x1000", break_even_case(37, 1000)))
add_cases("06-seed-q3",
          ("hidden: a 90x70 weight, rank 9, 80% pruned", q3_case(61, (90, 70), 9, 0.8, 0.1)))
add_cases("07-rank1-filter",
          ("hidden: a 5x1x9 filter", rank1_case(71, 5, 1, 9)),
          ("hidden: the trained CNN's features.11, filter 17", trained_rank1_case(11, 17)))
add_cases("07-flattened-cost",
          ("hidden: 7x7, 3 -> 96, 55x55, R = 1", flattened_cost_case(3, 96, 7, 7, 1, 55, 55)),
          ("hidden: the CNN's features.4 (16x16 maps), R = 4", cnn_layer_cost_case("features.4", 4, 16)))
add_cases("08-tt-cost",
          ("hidden: VGG's 4096x4096, 4^6 -> 4^6, rank 8", tt_cost_case((4,) * 6, (4,) * 6, 8)),
          ("hidden: 3x5x7 -> 2x3x4, ranks (1, 2, 6, 1)", tt_cost_case((3, 5, 7), (2, 3, 4), [1, 2, 6, 1])))
add_cases("08-tt-entry",
          ("hidden: a 5x3x2x4 train of rank 2", tt_entry_case(81, (5, 3, 2, 4), 2, (4, 2, 1, 0))),
          ("hidden: the trained fc2, another entry", trained_entry_case((15, 63, 0, 7))))
add_cases("08-choose-modes",
          ("hidden: 2048 in 4 modes", modes_case(2048, 4)), ("hidden: 3600 in 3 modes", modes_case(3600, 3)))
from course_lib.exercises.bank.summary import budget_case, pareto_case, pruning_table, random_table  # noqa: E402, I001

add_cases("09-pareto-front",
          ("hidden: 30 configurations, 4 levels", pareto_case(lambda: random_table(91, 30, levels=4),
                                                               "30 configurations")),
          ("hidden: LeNet-300-100 pruned at 5 other sparsities",
           pareto_case(lambda: pruning_table((0.3, 0.6, 0.85, 0.93, 0.99)), "pruned LeNet-300-100")))
add_cases("09-best-under-budget",
          ("hidden: a budget equal to a cost", budget_case(lambda: random_table(92, 15), 4000.0, "15 configurations")),
          ("hidden: LeNet-300-100 pruned, 100 kB",
           budget_case(lambda: pruning_table((0.3, 0.6, 0.85, 0.93, 0.99)), 100_000.0, "pruned LeNet-300-100")))
