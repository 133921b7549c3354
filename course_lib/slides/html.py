"""The deck's HTML: the seed's tables beside the course's measured ones, the measured tables, the glossary.

Every measured number comes from :func:`~course_lib.slides.tables.notebook_table` (a notebook's stored
output); the seed's come from :func:`~course_lib.slides.tables.load_seed`. Sized for a 960x700 slide
shown at 1280x720: one table per slide where two would not fit, table text no smaller than 0.8 of
the body text.
"""

from __future__ import annotations

import html
import re

from .._validation import check_choice, check_names
from ._checks import check_seed, check_text
from .tables import cpu_note, load_seed, notebook_table

__all__ = ["html_table", "side_by_side", "course_table", "glossary_table"]


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
    caption : str or None
        A caption (escaped), or none (``""`` or ``None``).

    Returns
    -------
    str
        ``<table class=...>`` with a ``<thead>`` and a ``<tbody>``.

    Raises
    ------
    TypeError
        If ``columns`` is not a list of str, ``rows`` not a list or a row not a list, ``css_class`` not a
        str or ``caption`` not a str or None.
    ValueError
        If ``columns`` is empty or names a column twice, or a row's length differs from the header's.
    """
    columns = check_names("columns", columns)
    css_class = check_text("css_class", css_class)
    caption = check_text("caption", caption, allow_none=True)
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
        If ``name`` or ``part`` is not a str, ``index`` not an int or None, or ``seed`` not a dict.
    ValueError
        If ``name`` is not a table of the seed, ``part`` is unknown, ``index`` is out of range or given
        without ``part="course"``, ``seed`` is not an outline (its tables malformed), or a notebook lacks
        its measured table.
    """
    from .._validation import check_int

    seed = load_seed() if seed is None else check_seed(seed, parts=("tables",))
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
        if src.get("columns"):  # the first columns only, in the printed order (a table too wide for a slide)
            keep = [t["columns"].index(c) for c in src["columns"] if c in t["columns"]]
            t = {**t, "columns": [t["columns"][k] for k in keep], "rows": [[r[k] for k in keep] for r in t["rows"]]}
        measured.append(t)
        right += html_table(t["columns"], t["rows"], css_class="course-table",
                            caption=f"{src['caption']} (notebooks/{src['notebook']})")
        extra = cpu_note(t, notebooks_dir) + [x for x in t["before"] + t["after"] if "seed" in x.lower()][:1]
        right += "".join(f'<p class="note">{html.escape(x)}</p>' for x in extra)
    # wide tables one above the other, narrow ones side by side
    widest = max([len(spec["columns"])] + [len(t["columns"]) for t in measured])
    layout = "seed-vs-course stacked" if widest > WIDE or part != "both" else "seed-vs-course"
    seed_side = f'<div><h4>Seed: {html.escape(spec["title"])}</h4>{left}</div>' if part != "course" else ""
    course_side = f'<div><h4>Measured by the course</h4>{right}</div>' if part != "seed" else ""
    return _HTML(f'{STYLE}<div class="{layout}" data-table="{html.escape(name)}">{seed_side}{course_side}</div>')


def course_table(notebook: str, header, *, caption: str = "", columns=None, rows=None, notes: bool = True,
                 note_lines: int = 2, notebooks_dir=None):
    """One table a notebook measured, as HTML for a slide (see :func:`notebook_table`).

    Parameters
    ----------
    notebook : str
        File name in ``notebooks/``.
    header : list of str
        Column names the table's header must contain.
    caption : str or None
        What it shows; the notebook's name is added.
    columns : list of str, optional
        Show only these columns (default: all), in this order.
    rows : (start, stop) pair, optional
        Show only the rows ``start:stop`` (a long table over two slides).
    notes : bool
        Also show the lines printed beside the table (the CPU capability, the printed verdicts).
    note_lines : int
        How many of those lines (besides the CPU capability) at most.
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
        If ``notebook`` is not a str, ``header`` or ``columns`` not a list of str, ``caption`` not a str
        or None, ``rows`` not a pair of ints, ``notes`` not a bool or ``note_lines`` not an int.
    ValueError
        If the notebook is not in the folder or has no such stored table, ``columns`` names a column it
        lacks, ``rows`` is out of range or ``note_lines`` < 0.
    """
    from .._validation import check_bool, check_int

    caption = check_text("caption", caption, allow_none=True) or ""
    notes = check_bool("notes", notes)
    note_lines = check_int("note_lines", note_lines, minimum=0)
    if rows is not None and (not isinstance(rows, (tuple, list)) or len(rows) != 2):
        raise TypeError(f"rows must be a (start, stop) pair, got {rows!r}.")
    t = notebook_table(notebook, header, notebooks_dir=notebooks_dir)
    keep = list(range(len(t["columns"])))
    if columns is not None:
        columns = check_names("columns", columns, allowed=t["columns"])
        keep = [t["columns"].index(c) for c in columns]
    body = [[row[k] for k in keep] for row in t["rows"]]
    if rows is not None:
        start = check_int("rows[0]", rows[0], minimum=0, maximum=len(body) - 1)
        stop = check_int("rows[1]", rows[1], minimum=start + 1, maximum=len(body))
        body = body[start:stop]
    text = html_table([t["columns"][k] for k in keep], body, css_class="course-table",
                      caption=f"{caption} (measured: notebooks/{notebook})".strip())
    printed = [x for x in t["before"] + t["after"] if "CPU capability" not in x]
    lines = cpu_note(t, notebooks_dir) + (printed[:note_lines] if notes else [])
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
    TypeError
        If ``part`` is not an int or None, or ``seed`` not a dict.
    ValueError
        If ``part`` is not 0 or 1, or ``seed`` has no glossary or a glossary entry is not a (Russian,
        English) pair of str.
    """
    from .._validation import check_int

    seed = load_seed() if seed is None else check_seed(seed, parts=("glossary",))
    rows = [list(pair) for pair in seed["glossary"]]
    if part is not None:
        half = (len(rows) + 1) // 2
        rows = (rows[:half], rows[half:])[check_int("part", part, minimum=0, maximum=1)]
    return _HTML(f'{STYLE}<div class="seed-vs-course glossary"><div>'
                 + html_table(["seed (Russian)", "English"], rows, css_class="glossary") + "</div></div>")
