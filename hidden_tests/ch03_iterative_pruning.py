"""Chapter 03's instructor-only bank: the grader's verdicts and hidden cases (never released).

Runs only in the grader's process (:func:`course_lib.grading.course.course_cases`), each file of
``hidden_tests/`` in its own namespace: a graded kernel receives the cases' *inputs* only, never this
text, a reference solution or an expected value. See ``hidden_tests/README.md``.
"""

from course_lib.exercises import add_cases
from course_lib.exercises.bank.iterative import cubic_case

add_cases("03-gradual",
          ("hidden: 20% -> 70% over steps 2..12", cubic_case(0.2, 0.7, 2, 12)))
