"""Hidden cases drawn afresh for each grading session, from a number the instructor keeps to themselves.

The hidden test files (``hidden_tests/``) make their random cases from seeds. Written as
``hidden_seed(51, HIDDEN_SEED)``, a seed is the file's own (51) when the session number is 0 -- the
default, what the course's tests and expected gradebooks use -- and, for any other session number, a
seed derived from both: the same values for every student of that session (and when a session is
resumed), other values in the next. A table of one session's hidden inputs is then of no use in the
next. The grader sets ``HIDDEN_SEED`` in each hidden file's namespace
(:func:`course_lib.grading.course.read_hidden`, ``course-grade --hidden-seed N`` or the environment
variable ``COURSE_HIDDEN_SEED``).
"""

from __future__ import annotations

import numpy as np

from .._validation import check_int

__all__ = ["hidden_seed", "MAX_SESSION"]

#: the largest session number accepted (any 63-bit number: a secret is hard to guess)
MAX_SESSION = 2**63 - 1


def hidden_seed(base: int, session: int) -> int:
    """The seed of a hidden case: ``base`` in session 0, else one drawn from ``(session, base)``.

    Parameters
    ----------
    base : int
        The case's own seed (>= 0), as written in the hidden file.
    session : int
        The grading session's number (0 <= session <= :data:`MAX_SESSION`).

    Returns
    -------
    int
        A seed in ``[0, 2**32)`` (``base`` itself when ``session`` is 0).

    Raises
    ------
    TypeError
        If ``base`` or ``session`` is not an int.
    ValueError
        If either is negative, or ``session`` is above :data:`MAX_SESSION`.

    Examples
    --------
    >>> hidden_seed(51, 0)
    51
    >>> hidden_seed(51, 7) == hidden_seed(51, 7) != hidden_seed(51, 8)
    True
    """
    base = check_int("base", base, minimum=0)
    session = check_int("session", session, minimum=0, maximum=MAX_SESSION)
    if session == 0:
        return base
    return int(np.random.SeedSequence([session, base]).generate_state(1)[0])
