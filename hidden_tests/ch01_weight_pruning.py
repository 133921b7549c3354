"""Chapter 01's instructor-only bank: the grader's verdicts and hidden cases (never released).

Runs only in the grader's process (:func:`course_lib.grading.course.course_cases`), each file of
``hidden_tests/`` in its own namespace: a graded kernel receives the cases' *inputs* only, never this
text, a reference solution or an expected value. See ``hidden_tests/README.md``.
"""

from course_lib.exercises import add_cases
from course_lib.exercises.bank.pruning import mask_case, storage_case

add_cases("01-magnitude-mask",
          ("hidden: remove 17 of a 3x4x5 tensor", mask_case(11, (3, 4, 5), 17)),
          ("hidden: remove 1 of a 2x9 matrix", mask_case(12, (2, 9), 1)))
add_cases("01-storage-bytes",
          ("hidden: a 40x300 matrix, 97% zeros", storage_case(13, (40, 300), 0.97)),
          ("hidden: a 1x70000 row (4-byte column indices)", storage_case(14, (1, 70000), 0.5)))
