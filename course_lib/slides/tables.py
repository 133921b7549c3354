"""The seed's tables beside the course's measurements, for the lecture deck (``slides/``).

The seed's numbers are the lecture's own (``slides/seed.json``, transcribed from the seed deck and
checked against it by the tests). The course's numbers are never typed in: they are read from the
stored outputs of the executed notebooks 00-08 (the text tables that ``course_lib.report.format_table``
printed there), so the deck always shows what the notebooks last measured.
"""

from __future__ import annotations

import base64
import binascii
import re
from pathlib import Path

from .._validation import check_choice, check_names, check_path, short_repr
from ._checks import check_seed, notebook_cells, read_json

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
SEED_FILE = ROOT / "slides" / "seed.json"

__all__ = ["load_seed", "notebook_table", "notebook_figure", "cpu_note"]


def load_seed(path=None) -> dict:
    """The seed lecture's outline: sections, tables and glossary (``slides/seed.json``).

    Parameters
    ----------
    path : str or path-like, optional
        Another outline file (default: the repository's ``slides/seed.json``).

    Returns
    -------
    dict
        ``sections`` (seed heading, English slide title, id), ``tables`` (name -> title, columns, rows,
        where the course measures it) and ``glossary`` (Russian term, English).

    Raises
    ------
    TypeError
        If ``path`` is not a str or a path.
    ValueError
        If ``path`` is not an existing file, not complete JSON (truncated) or not an outline (a part
        missing, a table row of the wrong length, a glossary entry that is not a pair ...).
    """
    path = SEED_FILE if path is None else check_path("path", path, must_exist=True)
    what = f"path == {str(path)!r}"
    return check_seed(read_json(path, what), source=what)


def _stream_texts(notebook: Path, name: str):
    for cell in notebook_cells(notebook, name):
        if cell["cell_type"] != "code":
            continue
        # one text per cell: what it printed, even when the kernel sent it in pieces
        text = "".join("".join(out["text"]) for out in cell.get("outputs", [])
                       if out.get("output_type") == "stream" and out.get("name") == "stdout")
        if text:
            yield text


def _spans(dashes: str) -> list[tuple[int, int]]:
    return [(m.start(), m.end()) for m in re.finditer(r"-+", dashes)]


def _fits(line: str, spans) -> bool:
    """A row of the table: blank at every gap between the columns (two spaces in format_table)."""
    gaps = [(a[1], b[0]) for a, b in zip(spans, spans[1:])]
    return bool(line.strip()) and all(line[s:e].strip() == "" for s, e in gaps if s < len(line))


def _parse(text: str, header: list[str]):
    lines = text.splitlines()
    for i in range(1, len(lines)):
        dashes = lines[i]
        if not dashes.strip() or set(dashes.strip()) - {"-", " "}:
            continue
        spans = _spans(dashes)
        head = lines[i - 1]
        columns = [head[s:e if k < len(spans) - 1 else None].strip() for k, (s, e) in enumerate(spans)]
        if not all(h in columns for h in header):
            continue
        rows, j = [], i + 1
        while j < len(lines) and _fits(lines[j], spans):
            cells = [lines[j][s:spans[k + 1][0] if k + 1 < len(spans) else None].strip()
                     for k, (s, _) in enumerate(spans)]
            rows.append(cells)
            j += 1
        return {"columns": columns, "rows": rows, "before": [x for x in lines[:i - 1] if x.strip()],
                "after": [x for x in lines[j:] if x.strip()]}
    return None


def _notebook_path(notebook, notebooks_dir) -> Path:
    folder = NOTEBOOKS if notebooks_dir is None else check_path("notebooks_dir", notebooks_dir)
    if not folder.is_dir():
        what = "a file" if folder.exists() else "missing"
        raise ValueError(f"notebooks_dir == {str(folder)!r} is {what}, must be an existing folder of notebooks.")
    names = sorted(p.name for p in folder.glob("*.ipynb") if p.is_file())
    if not names:
        raise ValueError(f"notebooks_dir == {str(folder)!r} holds no .ipynb file, must be the notebooks' folder.")
    return folder / check_choice("notebook", notebook, names)


def _check_table(t) -> dict:
    if not isinstance(t, dict):
        raise TypeError(f"t must be a dict (a table of notebook_table), got {type(t).__name__} ({short_repr(t)}).")
    for key in ("columns", "before", "after"):
        value = t.get(key)
        if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
            raise ValueError(f"t[{key!r}] == {short_repr(value)}, must be a list of str (a table of notebook_table).")
    if not isinstance(t.get("notebook"), str):
        raise ValueError(f"t['notebook'] == {short_repr(t.get('notebook'))}, must be the notebook's file name "
                         f"(a table of notebook_table).")
    return t


def cpu_note(t: dict, notebooks_dir=None) -> list[str]:
    """The CPU capability line to print beside a measured table with timings (its own, else its notebook's).

    Parameters
    ----------
    t : dict
        A table of :func:`notebook_table`.
    notebooks_dir : str or path-like, optional
        Where the notebooks are.

    Returns
    -------
    list of str
        One line, or none when the table has no timing.

    Raises
    ------
    TypeError
        If ``t`` is not a dict.
    ValueError
        If ``t`` lacks a field of :func:`notebook_table`'s tables, or its notebook is not in the folder.
    """
    t = _check_table(t)
    own = [x for x in t["before"] + t["after"] if "CPU capability" in x]
    if own or not any("ms" in c.split() or c.endswith(" ms") or "latency" in c.lower() for c in t["columns"]):
        return own[:1]
    for text in _stream_texts(_notebook_path(t["notebook"], notebooks_dir), t["notebook"]):
        for line in text.splitlines():
            if "CPU capability" in line:
                return [f"timed in the run where the notebook printed: {line.strip()}"]
    return []


def notebook_table(notebook: str, header, *, notebooks_dir=None) -> dict:
    """A table the notebook printed, read from its stored outputs.

    Parameters
    ----------
    notebook : str
        File name in ``notebooks/``, e.g. ``"05_quantization_in_practice.ipynb"``.
    header : list of str
        Column names the table's header must contain (the first table that has all of them).
    notebooks_dir : str or path-like, optional
        Where the notebooks are (default: the repository's ``notebooks/``).

    Returns
    -------
    dict
        ``columns``, ``rows`` (lists of str, as printed), ``before`` / ``after`` (the other lines the
        same output printed: the CPU capability, a conclusion) and ``notebook``.

    Raises
    ------
    TypeError
        If ``notebook`` is not a str or ``header`` not a list of str.
    ValueError
        If the notebook is not in the folder, is not a readable notebook (truncated, not JSON), or no
        stored output holds such a table (run the notebook, or check ``header``).
    """
    header = check_names("header", header)
    path = _notebook_path(notebook, notebooks_dir)
    for text in _stream_texts(path, notebook):
        found = _parse(text, list(header))
        if found is not None:
            return {**found, "notebook": notebook}
    raise ValueError(f"notebook == {notebook!r} has no stored table with the columns {list(header)!r} (header): "
                     f"execute it first (make notebooks).")


def notebook_figure(notebook: str, cell_contains, *, index: int = 0, notebooks_dir=None) -> bytes:
    """A PNG figure (the first, or the ``index``-th) stored by the first code cell whose source contains every
    ``cell_contains``.

    Parameters
    ----------
    notebook : str
        File name in ``notebooks/``.
    cell_contains : list of str
        Pieces of the cell's code that identify it.
    index : int, keyword-only
        Which of the cell's figures, in output order (0: the first).
    notebooks_dir : str or path-like, optional
        Where the notebooks are (default: the repository's ``notebooks/``).

    Returns
    -------
    bytes
        The PNG file.

    Raises
    ------
    TypeError
        If ``notebook`` is not a str, ``cell_contains`` not a list of str or ``index`` not an int.
    ValueError
        If the notebook is not in the folder, is not a readable notebook, no such cell stored a
        (valid base64) PNG figure, ``index`` is negative or the cell stored fewer figures.
    """
    from .._validation import check_int

    pieces = check_names("cell_contains", cell_contains)
    index = check_int("index", index, minimum=0)
    path = _notebook_path(notebook, notebooks_dir)
    for cell in notebook_cells(path, notebook):
        if cell["cell_type"] == "code" and all(p in "".join(cell.get("source", "")) for p in pieces):
            pngs = [out["data"]["image/png"] for out in cell.get("outputs", []) if out.get("data", {}).get("image/png")]
            if len(pngs) > index:
                try:
                    return base64.b64decode("".join(pngs[index]))
                except binascii.Error as exc:
                    raise ValueError(f"notebook == {notebook!r}: the PNG figure of the cell containing "
                                     f"{pieces!r} is not valid base64 ({exc}), must be a saved figure.") from None
            if pngs:
                raise ValueError(f"index == {index}, must be < {len(pngs)}: the cell containing {pieces!r} in "
                                 f"{notebook!r} stored {len(pngs)} figure(s).")
    raise ValueError(f"notebook == {notebook!r}: no code cell containing {pieces!r} stored a PNG figure.")
