"""Chapter 07's instructor-only bank: the grader's verdicts and hidden cases (never released).

Runs only in the grader's process (:func:`course_lib.grading.course.course_cases`), each file of
``hidden_tests/`` in its own namespace: a graded kernel receives the cases' *inputs* only, never this
text, a reference solution or an expected value. See ``hidden_tests/README.md``.
"""

from course_lib.exercises import add_cases
from course_lib.exercises.bank.flattened import cnn_layer_cost_case, flattened_cost_case, rank1_case, trained_rank1_case

add_cases("07-rank1-filter",
          ("hidden: a 5x1x9 filter", rank1_case(71, 5, 1, 9)),
          ("hidden: the trained CNN's features.11, filter 17", trained_rank1_case(11, 17)))
add_cases("07-flattened-cost",
          ("hidden: 7x7, 3 -> 96, 55x55, R = 1", flattened_cost_case(3, 96, 7, 7, 1, 55, 55)),
          ("hidden: the CNN's features.4 (16x16 maps), R = 4", cnn_layer_cost_case("features.4", 4, 16)))
