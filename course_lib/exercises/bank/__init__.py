"""The course's exercises, one module per chapter, registered by id when this package is imported.

This is the student's copy: each case's inputs and the checks a student's kernel can make (the form
of the answer and the properties a right answer has). No module here holds a reference solution:
the instructor's references, the grader's verdicts and the hidden cases live in ``hidden_tests/``,
which imports the case builders from these modules and runs only in the grader's process. The bank
imports the mechanism (:mod:`course_lib.exercises.core`), never the reverse:
:func:`course_lib.exercises.load_bank` is the one call that loads it.
"""

from . import (  # noqa: F401  (importing registers the exercises)
    channels,
    flattened,
    intro,
    iterative,
    neurons,
    practice,
    pruning,
    quantization,
    sharing,
    summary,
    svd,
    transformers,
    tt,
)
