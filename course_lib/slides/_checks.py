"""The argument and file checks of ``course_lib.slides``: the seed outline, stored notebooks, texts.

A truncated or hand-edited ``seed.json`` or notebook, or a wrong ``seed`` dict, fails here with a
``ValueError`` that names the parameter and what is wrong, never with a ``JSONDecodeError`` or a
``KeyError`` from deep inside the deck's code.
"""

from __future__ import annotations

import json
from pathlib import Path

from .._validation import check_text, short_repr

__all__ = ["check_text", "read_json", "check_seed", "notebook_cells", "check_measured"]




def read_json(path: Path, what: str):
    """The JSON value stored in ``path``; ``what`` (``"path == '...'"``) starts the message when it is not JSON."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{what} is not a readable UTF-8 JSON file ({type(exc).__name__}: "
                         f"{str(exc).splitlines()[0] if str(exc) else ''}), must be complete JSON "
                         f"(truncated?).") from None


def _is_names(value, *, allow_empty: bool = False) -> bool:
    return (isinstance(value, list) and (allow_empty or len(value) > 0)
            and all(isinstance(v, str) for v in value))


def _table_problem(where: str, spec) -> str | None:
    if not isinstance(spec, dict):
        return f"{where} == {short_repr(spec)}, must be a dict"
    for key in ("title", "columns", "rows", "course"):
        if key not in spec:
            return f"{where} lacks {key!r}"
    if not isinstance(spec["title"], str):
        return f"{where}['title'] == {short_repr(spec['title'])}, must be a str"
    if not _is_names(spec["columns"]):
        return f"{where}['columns'] == {short_repr(spec['columns'])}, must be a non-empty list of str"
    if not isinstance(spec["rows"], list):
        return f"{where}['rows'] == {short_repr(spec['rows'])}, must be a list of rows"
    for k, row in enumerate(spec["rows"]):
        if not isinstance(row, list) or len(row) != len(spec["columns"]):
            return (f"{where}['rows'][{k}] == {short_repr(row)}, must be a list of {len(spec['columns'])} cells "
                    f"(one per column)")
    if "notes" in spec and not isinstance(spec["notes"], str):
        return f"{where}['notes'] == {short_repr(spec['notes'])}, must be a str"
    if not isinstance(spec["course"], list):
        return f"{where}['course'] == {short_repr(spec['course'])}, must be a list of measured tables"
    for k, src in enumerate(spec["course"]):
        problem = check_measured(f"{where}['course'][{k}]", src)
        if problem:
            return problem
    return None


def check_measured(where: str, src) -> str | None:
    """What is wrong with a seed table's measured counterpart (``notebook``, ``header``, ``caption``), if anything."""
    if not isinstance(src, dict):
        return f"{where} == {short_repr(src)}, must be a dict"
    for key, ok, rule in (("notebook", isinstance(src.get("notebook"), str), "a str"),
                          ("header", _is_names(src.get("header")), "a non-empty list of str"),
                          ("caption", isinstance(src.get("caption"), str), "a str")):
        if key not in src:
            return f"{where} lacks {key!r}"
        if not ok:
            return f"{where}[{key!r}] == {short_repr(src[key])}, must be {rule}"
    if "columns" in src and not _is_names(src["columns"], allow_empty=True):
        return f"{where}['columns'] == {short_repr(src['columns'])}, must be a list of str"
    return None


def _seed_problem(seed: dict, parts) -> str | None:
    for key in parts:
        if key not in seed:
            return f"it lacks {key!r}"
    if "sections" in parts:
        if not isinstance(seed["sections"], list):
            return f"['sections'] == {short_repr(seed['sections'])}, must be a list"
        for k, s in enumerate(seed["sections"]):
            if not isinstance(s, dict) or not all(isinstance(s.get(x), str) for x in ("seed", "slide", "id")):
                return f"['sections'][{k}] == {short_repr(s)}, must be a dict with str 'seed', 'slide' and 'id'"
    if "tables" in parts:
        if not isinstance(seed["tables"], dict) or not seed["tables"]:
            return f"['tables'] == {short_repr(seed['tables'])}, must be a non-empty dict of tables"
        for name, spec in seed["tables"].items():
            problem = _table_problem(f"['tables'][{name!r}]", spec)
            if problem:
                return problem
    if "glossary" in parts:
        if not isinstance(seed["glossary"], list):
            return f"['glossary'] == {short_repr(seed['glossary'])}, must be a list of (Russian, English) pairs"
        for k, pair in enumerate(seed["glossary"]):
            if not (isinstance(pair, (list, tuple)) and len(pair) == 2 and all(isinstance(x, str) for x in pair)):
                return f"['glossary'][{k}] == {short_repr(pair)}, must be a (Russian, English) pair of str"
    return None


def check_seed(seed, name: str = "seed", parts=("sections", "tables", "glossary"), *, source: str | None = None):
    """``seed`` if it is an outline (:func:`~course_lib.slides.load_seed`) with well-formed ``parts``.

    ``source`` (``"path == '...'"``) replaces ``name`` in the message for an outline read from a file.

    Raises
    ------
    TypeError
        If ``seed`` is not a dict.
    ValueError
        If a part is missing or malformed (a table row of the wrong length, a glossary entry that is not
        a pair of str, a measured table without its notebook ...).
    """
    if not isinstance(seed, dict):
        if source is not None:
            raise ValueError(f"{source} holds {type(seed).__name__} ({short_repr(seed)}), must hold the deck's "
                             f"outline (a JSON object with {', '.join(repr(p) for p in parts)}).")
        raise TypeError(f"{name} must be a dict (the outline of load_seed()), got {type(seed).__name__} "
                        f"({short_repr(seed)}).")
    problem = _seed_problem(seed, tuple(parts))
    if problem:
        where = source if source is not None else name
        detail = problem if problem.startswith("it ") else name + problem
        raise ValueError(f"{where} is not the deck's outline: {detail}.")
    return seed


def _cell_problem(k: int, cell) -> str | None:
    if not isinstance(cell, dict) or not isinstance(cell.get("cell_type"), str):
        return f"cells[{k}] == {short_repr(cell)}, must be a dict with a str 'cell_type'"
    source = cell.get("source", "")
    if not (isinstance(source, str) or _is_names(source, allow_empty=True)):
        return f"cells[{k}]['source'] == {short_repr(source)}, must be a str or a list of str"
    outputs = cell.get("outputs", [])
    if not isinstance(outputs, list):
        return f"cells[{k}]['outputs'] == {short_repr(outputs)}, must be a list"
    for j, out in enumerate(outputs):
        if not isinstance(out, dict):
            return f"cells[{k}]['outputs'][{j}] == {short_repr(out)}, must be a dict"
        if out.get("output_type") == "stream":
            text = out.get("text")
            if not (isinstance(text, str) or _is_names(text, allow_empty=True)):
                return f"cells[{k}]['outputs'][{j}]['text'] == {short_repr(text)}, must be a str or a list of str"
        data = out.get("data", {})
        if not isinstance(data, dict):
            return f"cells[{k}]['outputs'][{j}]['data'] == {short_repr(data)}, must be a dict"
        png = data.get("image/png", "")
        if not (isinstance(png, str) or _is_names(png, allow_empty=True)):
            return f"cells[{k}]['outputs'][{j}]['data']['image/png'] == {short_repr(png)}, must be base64 text"
    return None


def notebook_cells(path: Path, notebook: str) -> list[dict]:
    """The cells of a stored notebook, each checked for the fields the deck reads.

    Raises
    ------
    ValueError
        If the file is not JSON (truncated), not a notebook, or a cell or output is malformed.
    """
    what = f"notebook == {notebook!r} ({path})"
    nb = read_json(path, what)
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise ValueError(f"{what} has no list of 'cells', must be a saved Jupyter notebook.")
    for k, cell in enumerate(nb["cells"]):
        problem = _cell_problem(k, cell)
        if problem:
            raise ValueError(f"{what} is not a well-formed notebook: {problem}.")
    return nb["cells"]
