"""Chapter 08's instructor-only bank: the grader's verdicts and hidden cases (never released).

Runs only in the grader's process (:func:`course_lib.grading.course.course_cases`), each file of
``hidden_tests/`` in its own namespace: a graded kernel receives the cases' *inputs* only, never this
text, a reference solution or an expected value. See ``hidden_tests/README.md``.
"""

from course_lib.exercises import add_cases
from course_lib.exercises.bank.tt import modes_case, trained_entry_case, tt_cost_case, tt_entry_case

add_cases("08-tt-cost",
          ("hidden: VGG's 4096x4096, 4^6 -> 4^6, rank 8", tt_cost_case((4,) * 6, (4,) * 6, 8)),
          ("hidden: 3x5x7 -> 2x3x4, ranks (1, 2, 6, 1)", tt_cost_case((3, 5, 7), (2, 3, 4), [1, 2, 6, 1])))
add_cases("08-tt-entry",
          ("hidden: a 5x3x2x4 train of rank 2", tt_entry_case(81, (5, 3, 2, 4), 2, (4, 2, 1, 0))),
          ("hidden: the trained fc2, another entry", trained_entry_case((15, 63, 0, 7))))
add_cases("08-choose-modes",
          ("hidden: 2048 in 4 modes", modes_case(2048, 4)), ("hidden: 3600 in 3 modes", modes_case(3600, 3)))
