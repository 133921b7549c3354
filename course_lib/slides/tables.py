"""The seed's tables beside the course's measurements, for the lecture deck (``slides/``).

The seed's numbers are the lecture's own (``slides/seed.json``, transcribed from the seed deck and
checked against it by the tests). The course's numbers are never typed in: they are read from the
stored outputs of the executed notebooks 00-08 (the text tables that ``course_lib.report.format_table``
printed there), so the deck always shows what the notebooks last measured.
"""

from __future__ import annotations

import base64
import html
import json
import re
from pathlib import Path

from .._validation import check_choice, check_names, check_path

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
SEED_FILE = ROOT / "slides" / "seed.json"

__all__ = ["load_seed", "notebook_table", "notebook_figure", "html_table", "side_by_side", "course_table",
           "glossary_table"]


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
        If ``path`` is not an existing file.
    """
    path = SEED_FILE if path is None else check_path("path", path, must_exist=True)
    return json.loads(Path(path).read_text(encoding="utf-8"))


def _stream_texts(notebook: Path):
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
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
    names = sorted(p.name for p in Path(folder).glob("*.ipynb"))
    return Path(folder) / check_choice("notebook", notebook, names)


def _cpu_note(t: dict, notebooks_dir) -> list[str]:
    """The CPU capability line to print beside a measured table with timings (its own, else its notebook's)."""
    own = [x for x in t["before"] + t["after"] if "CPU capability" in x]
    if own or not any("ms" in c.split() or c.endswith(" ms") or "latency" in c.lower() for c in t["columns"]):
        return own[:1]
    for text in _stream_texts(_notebook_path(t["notebook"], notebooks_dir)):
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
        If the notebook is not in the folder or no stored output holds such a table (run the notebook).
    """
    header = check_names("header", header)
    path = _notebook_path(notebook, notebooks_dir)
    for text in _stream_texts(path):
        found = _parse(text, list(header))
        if found is not None:
            return {**found, "notebook": notebook}
    raise ValueError(f"notebook == {notebook!r} has no stored table with the columns {list(header)!r}: "
                     f"execute it first (make notebooks).")


def notebook_figure(notebook: str, cell_contains, *, notebooks_dir=None) -> bytes:
    """The first PNG figure stored by the first code cell whose source contains every ``cell_contains``.

    Parameters
    ----------
    notebook : str
        File name in ``notebooks/``.
    cell_contains : list of str
        Pieces of the cell's code that identify it.
    notebooks_dir : str or path-like, optional
        Where the notebooks are (default: the repository's ``notebooks/``).

    Returns
    -------
    bytes
        The PNG file.

    Raises
    ------
    TypeError
        If ``notebook`` is not a str or ``cell_contains`` not a list of str.
    ValueError
        If the notebook is not in the folder or no such cell stored a PNG figure.
    """
    pieces = check_names("cell_contains", cell_contains)
    path = _notebook_path(notebook, notebooks_dir)
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] == "code" and all(p in "".join(cell["source"]) for p in pieces):
            for out in cell.get("outputs", []):
                png = out.get("data", {}).get("image/png")
                if png:
                    return base64.b64decode("".join(png))
    raise ValueError(f"notebook == {notebook!r}: no code cell containing {pieces!r} stored a PNG figure.")


def html_table(columns, rows, *, css_class: str = "", caption: str = "") -> str:
    """An HTML table (cells escaped; TeX between ``$`` left for MathJax).

    Parameters
    ----------
    columns : list of str
        The header.
    rows : list of list
        The cells, shown with ``str``.
    css_class : str
        The table's class attribute.
    caption : str
        A caption (escaped), or none.

    Returns
    -------
    str
        ``<table class=...>`` with a ``<thead>`` and a ``<tbody>``.

    Raises
    ------
    TypeError
        If ``columns`` is not a list of str, ``rows`` not a list or a row not a list.
    ValueError
        If ``columns`` is empty or names a column twice, or a row's length differs from the header's.
    """
    columns = check_names("columns", columns)
    if not isinstance(rows, (list, tuple)):
        raise TypeError(f"rows must be a list of lists, got {type(rows).__name__}.")
    for k, row in enumerate(rows):
        if not isinstance(row, (list, tuple)):
            raise TypeError(f"rows[{k}] must be a list, got {type(row).__name__}.")
        if len(row) != len(columns):
            raise ValueError(f"rows[{k}] has {len(row)} cells, must have {len(columns)} (one per column).")
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in row) + "</tr>" for row in rows)
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    return f'<table class="{html.escape(css_class)}">{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


STYLE = """<style>
.seed-vs-course {display: flex; flex-wrap: wrap; gap: 0.4em 1.2em; align-items: flex-start; font-size: 1em;
  line-height: 1.25;}
.seed-vs-course > div {flex: 1 1 24em; min-width: 0;}
.seed-vs-course.stacked > div {flex-basis: 100%;}
.seed-vs-course h4 {margin: 0 0 0.3em 0; font-size: 1.1em;}
.seed-vs-course table {border-collapse: collapse; margin: 0 0 0.4em 0; font-size: 1em;}
.seed-vs-course th, .seed-vs-course td {border-bottom: 1px solid #ccc; padding: 0.1em 0.3em; text-align: left;
  font-size: 1em;}
.seed-vs-course caption, .seed-vs-course .note {caption-side: bottom; font-style: italic; text-align: left;
  color: #444; font-size: 0.9em; margin: 0.2em 0;}
</style>"""


WIDE = 7  # columns: a wider table is shown below the seed's, not beside it


class _HTML:
    """Rich output for Jupyter (``text/html``) without importing IPython here."""

    def __init__(self, text: str):
        self.text = text

    def _repr_html_(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return re.sub(r"<[^>]+>", " ", self.text)[:200]


def side_by_side(name: str, *, part: str = "both", index: int | None = None, seed: dict | None = None,
                 notebooks_dir=None):
    """The seed's table ``name`` beside (or, when wide, above) the course's measured counterpart(s).

    Parameters
    ----------
    name : str
        A table of :func:`load_seed` (``"tflite"``, ``"quantization_efficiency"``, ``"svd"``,
        ``"tt_complexity"``, ``"tt_timing"``, ``"tt_architecture"``).
    part : {"both", "seed", "course"}, keyword-only
        Both tables, or one side alone (a slide too small for both shows them on consecutive slides:
        each keeps the ``data-table`` of its pair).
    index : int or None, keyword-only
        With ``part="course"``: only that measured counterpart (0-based), else all of them.
    seed : dict, optional
        The outline (default: :func:`load_seed`).
    notebooks_dir : str or path-like, optional
        Where the notebooks are.

    Returns
    -------
    object
        Shown by Jupyter as HTML (``_repr_html_``): a ``div.seed-vs-course[data-table=name]`` holding
        ``table.seed-table`` (transposed when it has more than ``WIDE`` columns) and one
        ``table.course-table`` per measured counterpart.

    Raises
    ------
    TypeError
        If ``name`` is not a str.
    ValueError
        If ``name`` is not a table of the seed, ``part`` is unknown, ``index`` is out of range or given
        without ``part="course"``, or a notebook lacks its measured table.
    """
    from .._validation import check_int

    seed = load_seed() if seed is None else seed
    spec = seed["tables"][check_choice("name", name, sorted(seed["tables"]))]
    part = check_choice("part", part, ("both", "seed", "course"))
    sources = list(spec["course"])
    if index is not None:
        if part != "course":
            raise ValueError(f"index == {index!r} needs part='course' (it picks one measured table), got "
                             f"part={part!r}.")
        index = check_int("index", index, minimum=0, maximum=len(sources) - 1)
        sources = [sources[index]]
    if len(spec["columns"]) > WIDE:  # many columns: one row per column, to stay readable on a slide
        columns = [spec["columns"][0]] + [str(row[0]) for row in spec["rows"]]
        body = [[c] + [row[k] for row in spec["rows"]] for k, c in enumerate(spec["columns"]) if k > 0]
        left = html_table(columns, body, css_class="seed-table")
    else:
        left = html_table(spec["columns"], spec["rows"], css_class="seed-table")
    if spec.get("notes"):
        left += f'<p class="note">{html.escape(spec["notes"])}</p>'
    right, measured = "", []
    for src in (sources if part != "seed" else []):
        t = notebook_table(src["notebook"], src["header"], notebooks_dir=notebooks_dir)
        measured.append(t)
        right += html_table(t["columns"], t["rows"], css_class="course-table",
                            caption=f"{src['caption']} (notebooks/{src['notebook']})")
        extra = _cpu_note(t, notebooks_dir) + [x for x in t["before"] + t["after"] if "seed" in x.lower()][:1]
        right += "".join(f'<p class="note">{html.escape(x)}</p>' for x in extra)
    # wide tables one above the other, narrow ones side by side
    widest = max([len(spec["columns"])] + [len(t["columns"]) for t in measured])
    layout = "seed-vs-course stacked" if widest > WIDE or part != "both" else "seed-vs-course"
    seed_side = f'<div><h4>Seed: {html.escape(spec["title"])}</h4>{left}</div>' if part != "course" else ""
    course_side = f'<div><h4>Measured by the course</h4>{right}</div>' if part != "seed" else ""
    return _HTML(f'{STYLE}<div class="{layout}" data-table="{html.escape(name)}">{seed_side}{course_side}</div>')


def course_table(notebook: str, header, *, caption: str = "", columns=None, rows=None, notes: bool = True,
                 notebooks_dir=None):
    """One table a notebook measured, as HTML for a slide (see :func:`notebook_table`).

    Parameters
    ----------
    notebook : str
        File name in ``notebooks/``.
    header : list of str
        Column names the table's header must contain.
    caption : str
        What it shows; the notebook's name is added.
    columns : list of str, optional
        Show only these columns (default: all), in this order.
    rows : (start, stop) pair, optional
        Show only the rows ``start:stop`` (a long table over two slides).
    notes : bool
        Also show the lines printed beside the table (the CPU capability, the printed verdicts).
    notebooks_dir : str or path-like, optional
        Where the notebooks are.

    Returns
    -------
    object
        Shown by Jupyter as HTML (``_repr_html_``): ``table.course-table`` and the lines printed
        beside it (CPU capability, conclusions).

    Raises
    ------
    TypeError
        If ``notebook`` is not a str or ``header`` not a list of str.
    ValueError
        If the notebook is not in the folder or has no such stored table.
    """
    from .._validation import check_bool, check_int

    t = notebook_table(notebook, header, notebooks_dir=notebooks_dir)
    notes = check_bool("notes", notes)
    keep = list(range(len(t["columns"])))
    if columns is not None:
        columns = check_names("columns", columns, allowed=t["columns"])
        keep = [t["columns"].index(c) for c in columns]
    body = [[row[k] for k in keep] for row in t["rows"]]
    if rows is not None:
        if not isinstance(rows, (tuple, list)) or len(rows) != 2:
            raise TypeError(f"rows must be a (start, stop) pair, got {rows!r}.")
        start = check_int("rows[0]", rows[0], minimum=0, maximum=len(body) - 1)
        stop = check_int("rows[1]", rows[1], minimum=start + 1, maximum=len(body))
        body = body[start:stop]
    text = html_table([t["columns"][k] for k in keep], body, css_class="course-table",
                      caption=f"{caption} (measured: notebooks/{notebook})".strip())
    lines = _cpu_note(t, notebooks_dir) + ([x for x in t["before"] + t["after"] if "CPU capability" not in x][:2]
                                           if notes else [])
    text += "".join(f'<p class="note">{html.escape(x)}</p>' for x in lines)
    return _HTML(f'{STYLE}<div class="seed-vs-course course-only"><div>{text}</div></div>')


def glossary_table(*, part: int | None = None, seed: dict | None = None):
    """The glossary slide: the seed's Russian terms and their English, as HTML.

    Parameters
    ----------
    part : {0, 1} or None, keyword-only
        Only the first or the second half of the terms (a slide each), else all of them.
    seed : dict, optional
        The outline (default: :func:`load_seed`).

    Returns
    -------
    object
        Shown by Jupyter as HTML (``_repr_html_``): ``table.glossary``.

    Raises
    ------
    ValueError
        If a glossary entry is not a (Russian, English) pair.
    """
    from .._validation import check_int

    seed = load_seed() if seed is None else seed
    rows = [list(pair) for pair in seed["glossary"]]
    if part is not None:
        half = (len(rows) + 1) // 2
        rows = (rows[:half], rows[half:])[check_int("part", part, minimum=0, maximum=1)]
    return _HTML(f'{STYLE}<div class="seed-vs-course glossary"><div>'
                 + html_table(["seed (Russian)", "English"], rows, css_class="glossary") + "</div></div>")
