"""Chapter 05's instructor-only bank: the grader's verdicts and hidden cases (never released).

Runs only in the grader's process (:func:`course_lib.grading.course.course_cases`), each file of
``hidden_tests/`` in its own namespace: a graded kernel receives the cases' *inputs* only, never this
text, a reference solution or an expected value. See ``hidden_tests/README.md``.
"""

from course_lib.exercises import add_cases
from course_lib.exercises.bank.practice import calibration_case, ste_case

add_cases("05-fake-quant-ste",
          ("hidden: 6-bit affine, a 3x5x2 tensor", ste_case(51, (3, 5, 2), 0.1, -4, -32, 31)))
add_cases("05-calibration-range",
          ("hidden: 99.5th percentile of 2,000 values", calibration_case(52, 2000, "percentile", 99.5)))
