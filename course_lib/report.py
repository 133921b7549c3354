"""Text tables for notebooks and benchmarks: deterministic, readable, nbval-friendly."""

from __future__ import annotations

import math
import numbers

__all__ = ["format_table", "format_bytes"]


def format_bytes(n: int | float) -> str:
    """A byte count in binary units with three significant digits: ``1069205 -> '1.02 MiB'``.

    Parameters
    ----------
    n : int or float
        A number of bytes.

    Returns
    -------
    str
        ``"512 B"``, ``"1.5 KiB"``, ``"1.02 MiB"`` ... (at most GiB).

    Raises
    ------
    TypeError
        If ``n`` is not a real number (a str or a bool included).
    ValueError
        If ``n`` is negative, NaN or infinite.
    """
    if isinstance(n, bool) or not isinstance(n, numbers.Real):
        raise TypeError(f"n must be a number of bytes (int or float), got {type(n).__name__} ({n!r}).")
    n = float(n)
    if not math.isfinite(n) or n < 0:
        raise ValueError(f"n == {n!r}, must be a finite number of bytes >= 0.")
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.3g} {unit}"
        n /= 1024
    return f"{n:.3g} GiB"  # pragma: no cover


def format_table(rows: list[dict], columns: list[str] | None = None) -> str:
    """Render a list of dicts as an aligned text table (numbers right-aligned).

    Values are shown with ``str`` -- round them before, so the table is stable.

    Parameters
    ----------
    rows : list of dict
        One dict per line; a missing key is an empty cell.
    columns : list of str or None
        The columns, in order (default: the keys of the first row).

    Returns
    -------
    str
        A header, a line of dashes and one line per row; ``"(no rows)"`` when ``rows`` is empty.

    Raises
    ------
    TypeError
        If ``rows`` is not a list (or tuple) of dicts, or ``columns`` is not a list of str
        (a single string is refused: it would be read letter by letter).
    """
    if not isinstance(rows, (list, tuple)):
        raise TypeError(f"rows must be a list of dicts, got {type(rows).__name__}.")
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise TypeError(f"rows[{i}] must be a dict (column -> value), got {type(row).__name__} ({row!r}).")
    if columns is not None:
        if isinstance(columns, str) or not isinstance(columns, (list, tuple)):
            hint = f" (write [{columns!r}] for one column)" if isinstance(columns, str) else ""
            raise TypeError(f"columns must be a list of str or None, got {type(columns).__name__}{hint}.")
        for i, c in enumerate(columns):
            if not isinstance(c, str):
                raise TypeError(f"columns[{i}] must be a str, got {type(c).__name__} ({c!r}).")
    if not rows:
        return "(no rows)"
    columns = list(columns or rows[0].keys())
    cells = [[str(r.get(c, "")) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    numeric = [all(isinstance(r.get(c), (int, float)) for r in rows) for c in columns]

    def fmt(values):
        return "  ".join(v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric)).rstrip()

    lines = [fmt(columns), "  ".join("-" * w for w in widths)]
    lines += [fmt(row) for row in cells]
    return "\n".join(lines)
