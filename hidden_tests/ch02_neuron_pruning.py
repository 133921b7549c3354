"""Chapter 02's instructor-only bank: the grader's verdicts and hidden cases (never released).

Runs only in the grader's process (:func:`course_lib.grading.course.course_cases`), each file of
``hidden_tests/`` in its own namespace: a graded kernel receives the cases' *inputs* only, never this
text, a reference solution or an expected value. See ``hidden_tests/README.md``.
"""

from course_lib.exercises import add_cases
from course_lib.exercises.bank.neurons import merge_case, rarely_case

add_cases("02-rarely-active",
          ("hidden: 16 neurons, 80 images", rarely_case(21, 80, 16, 0.3, 0.2)))
add_cases("02-merge-duplicates",
          ("hidden: 9 neurons, merge 8 into 4", merge_case(41, 6, 9, 5, 4, 8)))
