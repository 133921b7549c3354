"""The notebook a graded run executes, and which cells it needs: the setup, the answers, their checks, and
what they depend on.

:func:`build_graded_notebook` puts the student's solutions into the instructor's notebook.

A graded run needs no demonstration that the answers do not use: re-training a network to draw a
curve (a third of a student's grading time) changes no verdict. :func:`needed_cells` keeps the first
code cell (the notebook's setup), every exercise's solution and check cells, and, going backwards,
every earlier code cell that defines or changes a name a kept cell reads -- transitively, by the names
in the cells' source (``ast``), conservatively:

* a cell *defines* the names it assigns, imports, or binds with ``def``, ``class``, ``for``, ``with``;
* a cell *changes* a name it uses as the base of a call made as a statement (``model.eval()``,
  ``cl.prune(model)``: the base and the arguments), at the top level or inside a ``for``, ``with``,
  ``if`` or ``try``, of a subscript or attribute assignment (``w[mask] = 0``), or of ``del``; a call
  inside an expression (``acc = evaluate(model)``, ``for eps in cfg.pick(...)``) only reads;
* a module changes nothing: a call on a name bound by ``import x`` or by ``from package import
  module`` (found on the path, never imported to find out), ``prune_nn.prune(...)``, is a read;
* a cell that cannot be parsed (IPython magics are dropped first), or that uses ``global``,
  ``exec``, ``eval``, ``globals``, ``locals``, ``vars``, ``__import__`` or a star import, is kept
  together with every earlier cell: nothing is skipped before what cannot be analysed.

The names a kept cell reads are the names it loads anywhere (inside function bodies too) and binds
nowhere in the cell (a function's parameters and locals are its own), so a student's answer that
uses a notebook variable keeps the cell that made it. The round-trip test
(``tests/grading/test_round_trip.py``) proves that the instructor notebooks' verdicts are the same.
"""

from __future__ import annotations

import ast
import builtins
import copy
import functools
import importlib.machinery
from pathlib import Path

import nbformat

from ._kernel_caps import INSTALL_LINE
from .gradebook import safe_text
from .notebooks import META_KEY, CourseNotebook, stub_source

__all__ = ["cell_names", "needed_cells", "build_graded_notebook"]

_OPAQUE = {"exec", "eval", "globals", "locals", "vars", "__import__", "get_ipython"}
# calls that show a value and change nothing a later cell reads
_SHOWS = {"display", "plt"}
_BUILTINS = set(dir(builtins))


def _code(source: str) -> str:
    # IPython magics and shell escapes are not Python
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())


def _base(node) -> str | None:
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call, ast.Starred)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def _statement_call(call: ast.Call, changed: set[str]) -> None:
    """A call made as a statement (``model.eval()``, ``prune(model)``) changes its base and its arguments."""
    base = _base(call.func)
    if base and base not in _BUILTINS and base not in _SHOWS:
        changed.add(base)
        changed |= {n for a in call.args if (n := _base(a))}


@functools.lru_cache(maxsize=1024)
def _submodule(package: str, name: str) -> bool:
    """Whether ``package.name`` is a module file or package on the path; nothing is imported to find out."""
    parts = package.split(".")
    try:
        spec = importlib.machinery.PathFinder.find_spec(parts[0])
    except (ImportError, ValueError, AttributeError):
        return False
    if spec is None or not spec.submodule_search_locations:
        return False
    for location in spec.submodule_search_locations:
        folder = Path(location, *parts[1:])
        if (folder / name / "__init__.py").is_file() or (folder / f"{name}.py").is_file():
            return True
    return False


def _is_module(stmt: ast.ImportFrom, name: str) -> bool:
    return bool(stmt.module) and not stmt.level and name.isidentifier() and all(
        p.isidentifier() for p in stmt.module.split(".")) and _submodule(stmt.module, name)


def _targets(target) -> set[str]:
    if isinstance(target, ast.Name):
        return {target.id}
    if isinstance(target, (ast.Tuple, ast.List)):
        return set().union(set(), *(_targets(t) for t in target.elts))
    if isinstance(target, ast.Starred):
        return _targets(target.value)
    return set()


def cell_names(source: str) -> tuple[set[str], set[str], set[str], set[str]] | None:
    """``(defined, changed, read, modules)`` names of a code cell, or None when it cannot be analysed.

    Parameters
    ----------
    source : str
        The cell's source.

    Returns
    -------
    (set of str, set of str, set of str, set of str) or None
        The names the cell binds at its top level, the names whose objects it changes in place,
        every name it mentions (builtins left out), and the names its ``import`` statements bind (a
        call on a module, ``cl.latency(...)``, does not count as changing it); None for a cell that
        does not parse, uses
        ``global``, a star import or a dynamic lookup (see the module's docstring).
    """
    try:
        tree = ast.parse(_code(source))
    except (SyntaxError, ValueError, RecursionError):
        return None
    defined, changed, read, modules = set(), set(), set(), set()
    bound = set()  # bound anywhere in the cell: a function's parameters and locals are not read from outside
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            if node.id in _OPAQUE:
                return None
            if isinstance(node.ctx, ast.Load):
                read.add(node.id)
            else:
                bound.add(node.id)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
        elif isinstance(node, ast.ImportFrom) and any(a.name == "*" for a in node.names):
            return None
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            return None
    for stmt in tree.body:
        if isinstance(stmt, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            for t in targets:
                defined |= _targets(t)
                if isinstance(t, (ast.Attribute, ast.Subscript)) and _base(t):
                    changed.add(_base(t))
            if isinstance(stmt, ast.AugAssign) and _base(stmt.target):
                changed.add(_base(stmt.target))
        elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
            imported = {(a.asname or a.name).split(".")[0] for a in stmt.names}
            defined |= imported
            if isinstance(stmt, ast.Import):
                modules |= imported
            else:  # ``from torch import nn``, ``from course_lib.pruning import nn as prune_nn``: modules too
                modules |= {a.asname or a.name for a in stmt.names if _is_module(stmt, a.name)}
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defined.add(stmt.name)
        elif isinstance(stmt, ast.Delete):
            changed |= {b for t in stmt.targets if (b := _base(t))}
            defined |= set().union(set(), *(_targets(t) for t in stmt.targets))
        elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
            _statement_call(stmt.value, changed)
        else:  # for / while / with / if / try at the top level: whatever they bind or touch
            for node in ast.walk(stmt):
                if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
                    defined.add(node.id)
                elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
                    _statement_call(node.value, changed)  # as at the top level: calls inside expressions are reads
                elif isinstance(node, (ast.Attribute, ast.Subscript)) and isinstance(node.ctx, (ast.Store, ast.Del)):
                    if _base(node):
                        changed.add(_base(node))
                elif isinstance(node, ast.ImportFrom):
                    modules |= {a.asname or a.name for a in node.names if _is_module(node, a.name)}
                elif isinstance(node, ast.Import):
                    modules |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return defined, changed, read - bound - _BUILTINS, modules


def _modules(names) -> set[str]:
    return set().union(set(), *(n[3] for n in names if n is not None))


def needed_cells(sources: list[str], keep) -> set[int]:
    """The code cells (by position in ``sources``) a run needs to execute ``keep`` as the notebook would.

    Parameters
    ----------
    sources : list of str
        The notebook's code cells' sources, in order.
    keep : iterable of int
        Cells that must run (the setup, solutions, checks).

    Returns
    -------
    set of int
        ``keep``, plus every earlier cell that defines or changes a name a needed cell reads
        (transitively); every cell before one that cannot be analysed.
    """
    names = [cell_names(s) for s in sources]
    modules = _modules(names)
    needed = set(keep)
    changed = True
    while changed:
        changed = False
        wanted: dict[int, set[str]] = {}
        for i in sorted(needed):
            if names[i] is None:  # cannot be analysed: everything before it runs
                new = set(range(i)) - needed
                if new:
                    needed |= new
                    changed = True
                continue
            wanted[i] = names[i][2]
        for i, reads in wanted.items():
            for j in range(i):
                if j in needed:
                    continue
                if names[j] is None or reads & (names[j][0] | (names[j][1] - modules)):
                    needed.add(j)
                    changed = True
    return needed


def build_graded_notebook(course_nb: CourseNotebook, answers: dict[str, list[str] | None], *,
                          skip_demos: bool = True) -> tuple[nbformat.NotebookNode, dict[int, tuple[str, str]]]:
    """The notebook nbval runs for one student, and a map code-cell number -> (exercise id, role).

    Parameters
    ----------
    course_nb : CourseNotebook
        The instructor notebook.
    answers : dict of str -> list of str or None
        The student's source for each solution cell of each exercise (None: not found,
        the exercise's stub is used).
    skip_demos : bool, keyword-only
        Leave out the demonstration cells no verdict needs
        (:func:`needed_cells`: the setup, the solutions, the checks and
        every earlier cell defining or changing a name they read; a cell tagged ``grade-keep`` always
        runs). False: every cell runs, as in the notebook.

    Returns
    -------
    nb : nbformat.NotebookNode
        The graded notebook: the instructor's cells that are needed, the student's solutions, no outputs.
    code_roles : dict of int -> (str, str)
        Code-cell number -> (exercise id, ``"solution"`` or ``"check"``).
    """
    src = course_nb.nb
    roles: dict[int, tuple[str, str, int]] = {}
    for ex in course_nb.exercises:
        for part, i in enumerate(ex.solution_cells):
            roles[i] = (ex.id, "solution", part)
        roles[ex.check_cell] = (ex.id, "check", 0)

    built = []  # (position in src, cell)
    for i, cell in enumerate(src.cells):
        cell_id = cell.get("id") or f"cell-{i}"  # the instructor's ids: the graded notebook is reproducible
        if cell.cell_type != "code":
            continue  # markdown and raw cells run nothing
        new = nbformat.v4.new_code_cell(cell.source, id=cell_id)
        if i in roles:
            ex_id, role, part = roles[i]
            new.metadata[META_KEY] = {"exercise": ex_id, "role": role}
            if role == "solution":
                student = answers.get(ex_id)
                # a lone surrogate (not UTF-8) becomes a visible escape: the notebook must be writable
                new.source = safe_text(student[part]) if student and part < len(student) else stub_source(ex_id)
        built.append((i, new))
    if skip_demos and built:
        keep = {0} | {k for k, (i, cell) in enumerate(built)
                      if i in roles or "grade-keep" in src.cells[i].get("metadata", {}).get("tags", [])}
        needed = needed_cells([cell.source for _, cell in built], keep)
        built = [b for k, b in enumerate(built) if k in needed]
    if built:  # the first cell caps what each cell may display or print (a flood must not stop the kernel)
        built[0][1].source = f"{INSTALL_LINE}\n{built[0][1].source}"
    nb = nbformat.v4.new_notebook(metadata={"kernelspec": copy.deepcopy(src.metadata.get("kernelspec", {}))})
    code_roles: dict[int, tuple[str, str]] = {}
    for k, (i, cell) in enumerate(built):
        if i in roles:
            code_roles[k] = roles[i][:2]
        nb.cells.append(cell)
    return nb, code_roles
