"""Chapter 06's instructor-only bank: the grader's verdicts and hidden cases (never released).

Runs only in the grader's process (:func:`course_lib.grading.course.course_cases`), each file of
``hidden_tests/`` in its own namespace: a graded kernel receives the cases' *inputs* only, never this
text, a reference solution or an expected value. See ``hidden_tests/README.md``.
"""

from course_lib.exercises import add_cases
from course_lib.exercises.bank.svd import break_even_case, q3_case, rank_plan_case

add_cases("06-rank-for-compression",
          ("hidden: 1000x3000 at 7.5x", rank_plan_case(1000, 3000, 7.5)))
add_cases("06-break-even",
          ("hidden: 1x50", break_even_case(1, 50)), ("hidden: 37x1000", break_even_case(37, 1000)))
add_cases("06-seed-q3",
          ("hidden: a 90x70 weight, rank 9, 80% pruned", q3_case(61, (90, 70), 9, 0.8, 0.1)))
