"""True/false statement exercises (the seed's questions 1 and 2): only a digest of the right set is stored."""

from __future__ import annotations

import hashlib

__all__ = ["statements_digest", "statements_case"]


def statements_digest(exercise_id: str, letters) -> str:
    """The sha256 that identifies the set ``letters`` of true statements of ``exercise_id``."""
    return hashlib.sha256((exercise_id + ":" + "".join(sorted(letters))).encode()).hexdigest()


def statements_case(exercise_id: str, statements: str, digest: str):
    """A case ``run(answer) -> problems`` for "which of the statements A.. are true?".

    Parameters
    ----------
    exercise_id : str
        Salts the digest, so that two exercises with the same answer differ.
    statements : str
        The statement letters, e.g. ``"ABCDEF"``.
    digest : str
        :func:`statements_digest` of the right set; the set itself is not stored.
    """
    def run(answer):
        if not isinstance(answer, (set, frozenset, list, tuple, str)):
            return [f"answer is a {type(answer).__name__}, expected a set of letters like {{'A', 'C'}}"]
        letters = {str(a).strip().upper() for a in answer}
        unknown = sorted(letters - set(statements))
        if unknown:
            return [f"answer contains {unknown}: the statements are {statements[0]} to {statements[-1]}"]
        if statements_digest(exercise_id, letters) != digest:
            return ["at least one statement is judged wrongly: re-read the notebook's measurements"]
        return []
    return run
