"""No nbval-checked output may depend on a timing: a busy laptop must not fail a check.

A checked cell (tag ``nbval-check-output``) must not call a timing helper or read a clock,
and must not use a value that an earlier cell derived from one. The taint analysis is
simple and conservative: a name assigned in a statement that mentions a timing call (or a
tainted name) is tainted; so is a name updated in place from one (``rows.append(...)``).
"""

import ast
import re
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))
TIMING = re.compile(r"\b(latency|latencies|\w*_latencies|perf_counter|process_time|monotonic|time\.time|timeit|Timer|"
                    r"int8_linear_latency|dense_vs_sparse_times|crossover_sparsity|median_ms|min_ms|iqr_ms|"
                    r"latency_ms|_ms\b)")


def _code(cell) -> str:
    # IPython magics and shell lines are not Python
    return "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!")))


def _names(node) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


MUTATORS = {"append", "extend", "update", "add", "insert", "setdefault"}


def _bound(target) -> set[str]:
    """The names an assignment target binds or changes: ``x``, ``a, b``, and the object of ``d[k]``/``o.attr``."""
    if isinstance(target, ast.Name):
        return {target.id}
    if isinstance(target, (ast.Tuple, ast.List)):
        return set().union(*(_bound(t) for t in target.elts)) if target.elts else set()
    if isinstance(target, ast.Starred):
        return _bound(target.value)
    while isinstance(target, (ast.Subscript, ast.Attribute)):
        target = target.value
    return {target.id} if isinstance(target, ast.Name) else set()


def _targets(stmt) -> set[str]:
    if isinstance(stmt, ast.Assign):
        return set().union(*(_bound(t) for t in stmt.targets))
    if isinstance(stmt, (ast.AugAssign, ast.AnnAssign)):
        return _bound(stmt.target)
    if isinstance(stmt, ast.With):
        return set().union(set(), *(_bound(i.optional_vars) for i in stmt.items if i.optional_vars is not None))
    if isinstance(stmt, (ast.FunctionDef, ast.ClassDef)):
        return {stmt.name}
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):  # rows.append(x), d.update(x)
        func = stmt.value.func
        if isinstance(func, ast.Attribute) and func.attr in MUTATORS:
            return _bound(func.value)
    return set()


def _free_names(node) -> set[str]:
    """The names ``node`` reads from outside: for a function, not its parameters or its own variables."""
    if not isinstance(node, (ast.FunctionDef, ast.Lambda)):
        return _names(node)
    args = node.args
    params = {a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg] if a}
    local = {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)} - params - local


def _tainted(node, tainted: set[str]) -> bool:
    return bool(TIMING.search(ast.unparse(node)) or (_free_names(node) & tainted))


def _taint(stmts, tainted: set[str]) -> None:
    for stmt in stmts:
        if isinstance(stmt, (ast.For, ast.While, ast.If, ast.With, ast.Try)):
            if isinstance(stmt, ast.For) and _tainted(stmt.iter, tainted):
                tainted |= _names(stmt.target)
            if isinstance(stmt, ast.With) and any(_tainted(i.context_expr, tainted) for i in stmt.items):
                tainted |= _targets(stmt)
            for block in ("body", "orelse", "finalbody"):
                _taint(getattr(stmt, block, []), tainted)
            for handler in getattr(stmt, "handlers", []):
                _taint(handler.body, tainted)
        elif _tainted(stmt, tainted):
            tainted |= _targets(stmt)


def _problems(path: Path) -> list[str]:
    nb = nbformat.read(path, as_version=4)
    tainted: set[str] = set()
    problems = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        tree = ast.parse(_code(cell))
        if "nbval-check-output" in cell.metadata.get("tags", []):
            text = _code(cell)
            used = _names(tree) & tainted
            if TIMING.search(text):
                problems.append(f"cell {i} calls a timing helper or reads a clock: {TIMING.search(text).group(0)}")
            if used:
                problems.append(f"cell {i} uses {sorted(used)}, derived from a timing in an earlier cell")
        _taint(tree.body, tainted)
    return problems


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_checked_cells_never_depend_on_timings(path):
    assert _problems(path) == []


def test_the_audit_catches_a_timing(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("t = cl.latency(lambda: 1)\nfast = t.median_ms < 5"),
                nbformat.v4.new_code_cell("print(fast)", metadata={"tags": ["nbval-check-output"]}),
                nbformat.v4.new_code_cell("print(cl.latency(f).median_ms > 0)",
                                          metadata={"tags": ["nbval-check-output"]}),
                nbformat.v4.new_code_cell("print(1 + 1)", metadata={"tags": ["nbval-check-output"]}),
                nbformat.v4.new_code_cell("row = {}\nrow[name] = t.min_ms\nrows = []\nrows.append(row)\ncl.plot(rows)"),
                nbformat.v4.new_code_cell("print(len(rows), name, cl.accuracy)",
                                          metadata={"tags": ["nbval-check-output"]}),
                # a function's parameter shadows a tainted global; a tainted global read inside taints it
                nbformat.v4.new_code_cell("def f(t):\n    x = t\n    return x\ndef g():\n    return fast"),
                nbformat.v4.new_code_cell("print(f(2))", metadata={"tags": ["nbval-check-output"]}),
                nbformat.v4.new_code_cell("print(g())", metadata={"tags": ["nbval-check-output"]})]
    path = tmp_path / "demo.ipynb"
    nbformat.write(nb, path)
    assert _problems(path) == ["cell 1 uses ['fast'], derived from a timing in an earlier cell",
                               "cell 2 calls a timing helper or reads a clock: latency",
                               "cell 5 uses ['rows'], derived from a timing in an earlier cell",
                               "cell 8 uses ['g'], derived from a timing in an earlier cell"]
