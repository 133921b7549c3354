"""Chapter 00's instructor-only bank: the grader's verdicts and hidden cases (never released).

Runs only in the grader's process (:func:`course_lib.grading.course.course_cases`), each file of
``hidden_tests/`` in its own namespace: a graded kernel receives the cases' *inputs* only, never this
text, a reference solution or an expected value. See ``hidden_tests/README.md``.
"""

from course_lib.exercises import add_cases
from course_lib.exercises.bank.intro import accuracy_case, mlp_case

add_cases("00-mlp-params",
          ("hidden: widths [7, 5, 3]", mlp_case((7, 5, 3))),
          ("hidden: widths [3, 64, 64, 2]", mlp_case((3, 64, 64, 2))))
add_cases("00-accuracy",
          ("hidden: 33 examples, 4 classes", accuracy_case(101, 33, 4)),
          ("hidden: 250 examples, 2 classes", accuracy_case(102, 250, 2)))
