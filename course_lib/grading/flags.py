"""Flag, for a human, answers that call the course's library: a possible copy, never a score by itself.

An exercise asks for the step the library does not hand over, so a right answer rarely needs
to call ``course_lib``; one that does may have wrapped a library function instead of writing
the step. :func:`library_calls` lists the calls of ``course_lib`` names in an answer's code --
through ``cl.x``, any alias (``import course_lib.pruning as P``, ``from course_lib.pruning
import magnitude_mask as mm``), names the notebook's own cells imported, and ``getattr``/
``importlib`` on the library -- so the grader can note them in the feedback for a human to read.
The notes never change a score: the verdicts alone do.
"""

from __future__ import annotations

import ast

__all__ = ["library_aliases", "library_calls"]

LIBRARY = "course_lib"


def _parse(source: str) -> ast.Module | None:
    # IPython magics and shell escapes are not Python: blank them (keeping line numbers).
    lines = ["" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()]
    try:
        return ast.parse("\n".join(lines))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def library_aliases(sources, known: dict[str, str] | None = None) -> dict[str, str]:
    """Names bound to ``course_lib`` objects by the imports of ``sources``: name -> dotted path.

    Parameters
    ----------
    sources : iterable of str
        Code cells' sources, in order.
    known : dict of str -> str, optional
        Aliases already bound (default: ``{"cl": "course_lib"}``, the course's convention).

    Returns
    -------
    dict of str -> str
        E.g. ``{"cl": "course_lib", "mm": "course_lib.pruning.magnitude_mask"}``.
    """
    aliases = dict(known if known is not None else {"cl": LIBRARY})
    for source in sources:
        tree = _parse(source)
        if tree is None:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    if a.name == LIBRARY or a.name.startswith(LIBRARY + "."):
                        aliases[a.asname or a.name.split(".")[0]] = a.name if a.asname else LIBRARY
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                if node.module == LIBRARY or node.module.startswith(LIBRARY + "."):
                    for a in node.names:
                        if a.name != "*":
                            aliases[a.asname or a.name] = f"{node.module}.{a.name}"
    return aliases


def _dotted(node: ast.AST, aliases: dict[str, str]) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name) and node.id in aliases:
        return ".".join([aliases[node.id], *reversed(parts)])
    return None


def library_calls(source: str, aliases: dict[str, str] | None = None) -> list[str]:
    """The calls of ``course_lib`` names in ``source``, as ``"course_lib.x.f (line n)"``, in order.

    Parameters
    ----------
    source : str
        An answer's code (an exercise cell).
    aliases : dict of str -> str, optional
        Names already bound to the library (:func:`library_aliases` of the notebook's other
        cells; default ``{"cl": "course_lib"}``). The answer's own imports are added.

    Returns
    -------
    list of str
        One entry per call, deduplicated; ``getattr`` or ``importlib`` on the library count.
        An answer that does not parse gives an empty list (the run reports its error).
    """
    tree = _parse(source)
    if tree is None:
        return []
    aliases = library_aliases([source], aliases if aliases is not None else {"cl": LIBRARY})
    found: list[str] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _dotted(node.func, aliases)
        if name is None and isinstance(node.func, ast.Name) and node.func.id in ("getattr", "__import__"):
            if node.args and (_dotted(node.args[0], aliases) or (
                    isinstance(node.args[0], ast.Constant) and str(node.args[0].value).startswith(LIBRARY))):
                name = f"{node.func.id} on {LIBRARY}"
        if name is None and isinstance(node.func, ast.Attribute) and node.func.attr == "import_module":
            if node.args and isinstance(node.args[0], ast.Constant) and str(node.args[0].value).startswith(LIBRARY):
                name = f"importlib.import_module({node.args[0].value!r})"
        if name is not None and name != LIBRARY:
            entry = f"{name} (line {node.lineno})"
            if entry not in found:
                found.append(entry)
    return sorted(found, key=lambda e: int(e.rsplit("line ", 1)[1].rstrip(")")))
