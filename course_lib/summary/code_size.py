"""How much code a technique needs: lines of the course's own library, a measured proxy for "harder to implement".

Torch-free. Notebook 09 counts the lines each technique's modules take (:func:`code_lines`) to check the
seed's claim that some techniques are harder to implement than others.
"""

from __future__ import annotations

import ast

__all__ = ["code_lines"]


def code_lines(*paths) -> int:
    """Lines of code in Python files: not blank, not comments, not docstrings.

    A crude but measured proxy for "harder to implement": the lines of the course's own library that a
    technique needs to run on a model.

    Parameters
    ----------
    *paths : str or Path
        Python source files.

    Returns
    -------
    int

    Raises
    ------
    TypeError
        If a path is not a str or a path.
    ValueError
        If no path is given, a file does not exist (or is a folder), is not UTF-8 text or not Python.
    """
    from .._validation import check_path

    if not paths:
        raise ValueError("paths is empty, must name at least one Python file.")
    total = 0
    for i, p in enumerate(paths):
        path = check_path(f"paths[{i}]", p, must_exist=True)
        try:
            text = path.read_text(encoding="utf-8")
            tree = ast.parse(text)
        except (UnicodeDecodeError, SyntaxError, ValueError) as exc:
            raise ValueError(f"paths[{i}] == {str(path)!r} is not a Python source file ({type(exc).__name__}: "
                             f"{exc}), must be one.") from None
        doc = set()
        for node in ast.walk(tree):
            body = getattr(node, "body", None)
            first = body[0] if isinstance(body, list) and body else None
            value = getattr(first, "value", None)
            if isinstance(first, ast.Expr) and isinstance(value, ast.Constant) and isinstance(value.value, str):
                doc.update(range(first.lineno, first.end_lineno + 1))
        total += sum(1 for n, line in enumerate(text.splitlines(), 1)
                     if line.strip() and not line.strip().startswith("#") and n not in doc)
    return total
