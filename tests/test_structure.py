"""The layout of course_lib: NumPy technique modules free of torch, no import cycles, small modules."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "course_lib"

# The from-scratch technique modules and what they stand on: NumPy/SciPy only.
NUMPY_MODULES = [
    "course_lib._validation", "course_lib.formats", "course_lib.timing",
    "course_lib.pruning.masks", "course_lib.pruning.storage", "course_lib.pruning.sparse",
    "course_lib.pruning.schedules", "course_lib.pruning.neurons",
    "course_lib.quantization.seed", "course_lib.quantization.grid", "course_lib.quantization.uniform",
    "course_lib.quantization.ranges", "course_lib.quantization.tensor", "course_lib.quantization.storage",
    "course_lib.factorization.lowrank", "course_lib.factorization.svd", "course_lib.factorization.randomized",
    "course_lib.pruning.channels", "course_lib.quantization.int8_reference",
    "course_lib.exercises.core",
    "course_lib.sharing.kmeans", "course_lib.sharing.huffman", "course_lib.sharing.relative",
    "course_lib.sharing.storage",
    "course_lib.llmquant.groupwise", "course_lib.llmquant.gptq", "course_lib.llmquant.smooth",
]
MAX_LINES = 400


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        yield name, path


def _module_level_imports(name: str, path: Path) -> set[str]:
    """course_lib modules imported at module level (not inside functions) by ``name``."""
    tree = ast.parse(path.read_text())
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.startswith("course_lib"):
                found.add(target)
                for alias in node.names:
                    found.add(f"{target}.{alias.name}")
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("course_lib")}
    return found


def test_numpy_technique_modules_never_import_torch():
    code = ("import importlib, sys\n"
            f"for name in {NUMPY_MODULES!r}:\n"
            "    importlib.import_module(name)\n"
            "import course_lib as cl, numpy as np\n"
            "cl.storage_bytes(np.zeros((3, 4)), 'int8'); cl.storage_bytes(np.zeros((3, 4)), 'csr')\n"
            "cl.pruning.threshold_prune(np.ones(3), 0.5); cl.quantization.quantize_tensor(np.ones(3))\n"
            "bad = sorted(m for m in sys.modules if m == 'torch' or m.startswith('torch.'))\n"
            "print('TORCH' if bad else 'CLEAN')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "CLEAN"


def test_no_import_cycles():
    modules = dict(_modules())
    graph = {name: {t for t in _module_level_imports(name, path) if t in modules and t != name}
             for name, path in modules.items()}
    # an edge into a package means its __init__; a lazy __init__ (course_lib._lazy.attach) imports nothing
    state, cycles = {}, []

    def visit(node, stack):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, stack)
        stack.pop()
        state[node] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [])
    assert cycles == []


@pytest.mark.parametrize("name,path", list(_modules()), ids=[n for n, _ in _modules()])
def test_modules_are_small(name, path):
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_LINES, f"{name} has {lines} lines, must be <= {MAX_LINES}: split it by concern"


def test_no_private_helper_crosses_modules():
    offenders = []
    for name, path in _modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("course_lib")):
                offenders += [f"{name}: {a.name}" for a in node.names
                              if a.name.startswith("_") and not a.name.startswith("__")]
    assert offenders == []


def test_every_public_name_keeps_working():
    import course_lib as cl

    for name in cl.__all__:
        assert getattr(cl, name) is not None, name
    for old, new in [("prune_torch", "pruning.nn"), ("quant_torch", "quantization.nn")]:
        assert getattr(cl, old).__name__ == f"course_lib.{new}"
    for package in (cl.pruning, cl.quantization, cl.widgets, cl.factorization, cl.sharing, cl.llmquant):
        for name in package.__all__:
            assert getattr(package, name) is not None, f"{package.__name__}.{name}"


def test_no_exported_name_is_shadowed_by_a_submodule():
    # importing course_lib.x binds the package attribute x to the module: a function named like its
    # module would turn into the module after first use
    for name, path in _modules():
        if path.name != "__init__.py":
            continue
        text = path.read_text()
        if "attach(" not in text:
            continue
        submodules = {p.stem for p in path.parent.glob("*.py")} | {p.name for p in path.parent.iterdir() if p.is_dir()}
        tree = ast.parse(text)
        exported = {elt.value for node in ast.walk(tree) if isinstance(node, ast.Dict)
                    for value in node.values if isinstance(value, ast.List)
                    for elt in value.elts if isinstance(elt, ast.Constant)}
        assert exported & submodules == set(), name
