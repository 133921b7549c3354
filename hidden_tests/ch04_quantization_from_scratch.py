"""Chapter 04's instructor-only bank: the grader's verdicts and hidden cases (never released).

Runs only in the grader's process (:func:`course_lib.grading.course.course_cases`), each file of
``hidden_tests/`` in its own namespace: a graded kernel receives the cases' *inputs* only, never this
text, a reference solution or an expected value. See ``hidden_tests/README.md``.
"""

from course_lib.exercises import add_cases
from course_lib.exercises.bank.quantization import costs_case, matvec_case

add_cases("04-int8-matvec",
          ("hidden: a 9x4 layer, a_w = 1.5, a_x = 0.25", matvec_case(31, 9, 4, 1.5, 0.25)))
add_cases("04-int8-costs",
          ("hidden: a 512 -> 2048 layer", costs_case(2048, 512)),
          ("hidden: 131072 inputs (33 bits)", costs_case(2, 131072)))
