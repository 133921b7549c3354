"""Comparisons that report problems, never expected values: the building blocks of every check."""

from __future__ import annotations

from typing import Any

import numpy as np

from .records import Unsupported

__all__ = ["compare", "compare_fields"]


def compare(answer: Any, expected: Any, *, name: str = "answer", rtol: float = 1e-6,
            atol: float = 0.0, check_dtype_kind: bool = True) -> list[str]:
    """Compare an answer with the expected array; return problems, never values.

    Reports, in order: not convertible to an array, wrong shape, wrong kind of
    dtype (integer vs floating point vs boolean), NaN/inf, and which entries
    differ (their indices, at most five, never the expected numbers).

    Raises
    ------
    TypeError, ValueError
        If ``name`` is not a str, ``rtol``/``atol`` is not a non-negative finite number,
        ``check_dtype_kind`` is not a bool, or ``expected`` is not a regular array of numbers.
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, got {type(name).__name__}.")
    for label, tol in (("rtol", rtol), ("atol", atol)):
        if isinstance(tol, bool) or not isinstance(tol, (int, float, np.integer, np.floating)):
            raise TypeError(f"{label} must be a number, got {type(tol).__name__}.")
        if not (np.isfinite(tol) and tol >= 0):
            raise ValueError(f"{label} == {tol!r}, must be a finite number >= 0.")
    if not isinstance(check_dtype_kind, (bool, np.bool_)):
        raise TypeError(f"check_dtype_kind must be True or False, got {type(check_dtype_kind).__name__}.")
    try:
        expected = np.asarray(expected)
    except ValueError:
        raise ValueError("expected is a ragged nested sequence, must be a regular array of numbers.") from None
    if expected.dtype == object:
        raise TypeError(f"expected must be numbers or an array of them, got {type(expected).__name__} of objects.")
    if isinstance(answer, Unsupported):
        return [f"{name} is a {answer.type_name}, not numbers or an array"]
    try:
        got = np.asarray(answer)
    except Exception:
        return [f"{name} is a {type(answer).__name__} that is not a regular array of numbers"]
    if answer is None:
        return [f"{name} is None: did you forget to `return` it?"]
    if got.dtype == object:
        return [f"{name} is a {type(answer).__name__} that is not a regular array of numbers"]
    if got.shape != expected.shape:
        return [f"{name} has shape {got.shape}, expected {expected.shape}"]
    if check_dtype_kind and got.dtype.kind != expected.dtype.kind and not (
            got.dtype.kind in "iu" and expected.dtype.kind in "iu"):
        kinds = {"i": "integer", "u": "integer", "f": "floating point", "b": "boolean", "c": "complex"}
        return [f"{name} has dtype {got.dtype} ({kinds.get(got.dtype.kind, got.dtype.kind)}), "
                f"expected {kinds.get(expected.dtype.kind, expected.dtype.kind)} values"]
    if got.dtype.kind in "fc" and not np.all(np.isfinite(got)):
        return [f"{name} contains NaN or infinite values"]
    if expected.dtype.kind in "fc":
        ok = np.isclose(got, expected, rtol=rtol, atol=atol)
    else:
        ok = got == expected
    ok = np.asarray(ok)
    if not ok.all():
        bad = np.argwhere(~ok) if ok.ndim else np.zeros((1, 0), dtype=int)
        shown = ", ".join(str(tuple(int(i) for i in idx)) if len(idx) != 1 else str(int(idx[0]))
                          for idx in bad[:5])
        more = f" and {len(bad) - 5} more" if len(bad) > 5 else ""
        where = f" at index {shown}{more}" if ok.ndim else ""
        return [f"{name} is wrong in {int((~ok).sum())} of {ok.size} entries{where}"]
    return []


def compare_fields(name: str, answer: Any, expected: dict) -> list[str]:
    """Compare an answer that must be a dict with ``expected``'s keys, each value with :func:`compare`.

    Like :func:`compare`, the problems never contain an expected value.

    Raises
    ------
    TypeError, ValueError
        If ``name`` is not a str or ``expected`` is not a non-empty dict.
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, got {type(name).__name__}.")
    if not isinstance(expected, dict):
        raise TypeError(f"expected must be a dict of field -> expected value, got {type(expected).__name__}.")
    if not expected:
        raise ValueError("expected is empty, must name at least one field to compare.")
    if not isinstance(answer, dict):
        return [f"{name} returned a {type(answer).__name__}, expected a dict with keys {sorted(expected)}"]
    missing = sorted(k for k in expected if k not in answer)
    if missing:
        return [f"{name} has no key {missing}: expected the keys {sorted(expected)}"]
    return [p for key, value in expected.items() for p in compare(answer[key], value, name=f"{name}[{key!r}]")]
