"""Text tables for notebooks and benchmarks: deterministic, readable, nbval-friendly."""

from __future__ import annotations

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
    """
    n = float(n)
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
    """
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
