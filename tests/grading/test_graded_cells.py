"""A graded run executes the setup, the answers, their checks and the cells they use -- not the demonstrations."""

from pathlib import Path

import pytest

from course_lib.grading.graded import build_graded_notebook, cell_names, needed_cells
from course_lib.grading.notebooks import load_course_notebook

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))


def test_cell_names_free_reads_definitions_and_changes():
    defined, changed, read, modules = cell_names(
        "import numpy as np\nW = np.ones(3)\ndef f(x):\n    k = 2\n    return x * k + bias\nmodel.eval()\n"
        "w[0] = 1\nfor i in range(3):\n    net.step(i)\n%timeit f(1)\n")
    assert {"np", "W", "f", "i"} <= defined and modules == {"np"}
    assert {"model", "w", "net"} <= changed
    assert read >= {"bias", "model", "w", "net"} and not read & {"x", "k", "range", "i"}
    for opaque in ("exec('x = 1')", "global g\ng = 1", "from os import *", "def f(:\n"):
        assert cell_names(opaque) is None



def test_modules_from_imports_and_calls_inside_expressions_change_nothing():
    # ``from package import module`` binds a module (found on the path); a function imported so is not one
    _, _, _, modules = cell_names("from course_lib.pruning import nn as prune_nn\n"
                                  "from course_lib.report import format_table\nfrom torch import nn\n")
    assert modules == {"prune_nn", "nn"}
    # inside a loop, as at the top level: a statement call changes its base and arguments, an expression reads
    defined, changed, read, _ = cell_names("for eps in cfg.pick((1, 2)):\n    out = model(eps)\n"
                                           "    net.step(eps, opt)\n    rows[eps] = out\n")
    assert changed == {"net", "eps", "opt", "rows"} and {"cfg", "model"} <= read
    sources = ["import course_lib as cl\nfrom course_lib.pruning import nn as prune_nn",
               "cfg = cl.setup()",
               "for r in cfg.pick((1, 2)):\n    prune_nn.sweep(r)",   # a demonstration: changes neither
               "def answer():\n    return prune_nn.rate(cfg)",
               "cl.check('id', answer)"]
    assert needed_cells(sources, {0, 3, 4}) == {0, 1, 3, 4}

def test_needed_cells_follow_what_the_kept_cells_read():
    sources = [
        "import numpy as np\nimport course_lib as cl",   # 0: setup
        "W = np.random.rand(4, 4)",                      # 1: used by the answer
        "slow = train_for_minutes()\ncl.latency(f)",     # 2: a demonstration (calls on modules change nothing)
        "W[W < 0.1] = 0",                                # 3: changes W in place
        "def answer(x):\n    return W @ x",              # 4: the answer reads W
        "cl.check('id', answer)",                        # 5: its check
        "plot(slow)",                                    # 6: after the check: never needed
    ]
    assert needed_cells(sources, {0, 4, 5}) == {0, 1, 3, 4, 5}
    # a cell that cannot be analysed keeps everything before it
    assert needed_cells(sources[:4] + ["exec('answer = 1')", sources[5]], {0, 4, 5}) == {0, 1, 2, 3, 4, 5}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_the_graded_notebook_keeps_every_answer_and_check(path):
    course_nb = load_course_notebook(path)
    if not course_nb.exercises:
        pytest.skip("no exercise")
    answers = {ex.id: None for ex in course_nb.exercises}
    short, roles = build_graded_notebook(course_nb, answers)
    full, full_roles = build_graded_notebook(course_nb, answers, skip_demos=False)
    assert sorted(roles.values()) == sorted(full_roles.values())
    assert short.cells[0].source == full.cells[0].source  # the setup always runs
    assert len(short.cells) <= len(full.cells)
    for k, (ex_id, role) in roles.items():
        assert short.cells[k].metadata["course"] == {"exercise": ex_id, "role": role}


def test_a_student_answer_that_uses_a_demo_variable_keeps_its_cell():
    path = next(p for p in NOTEBOOKS if p.name.startswith("01_"))
    course_nb = load_course_notebook(path)
    ex = course_nb.exercises[0]
    code = [c for c in course_nb.nb.cells if c.cell_type == "code"]
    # a name some demonstration cell (after the setup, before the exercise) defines
    target = next(name for c in code[1:] if (n := cell_names(c.source)) for name in sorted(n[0])
                  if course_nb.nb.cells.index(c) < ex.solution_cells[0])
    plain, _ = build_graded_notebook(course_nb, {ex.id: ["x = 1\n"] * len(ex.solution_cells)})
    uses, _ = build_graded_notebook(course_nb, {ex.id: [f"x = {target}\n"] * len(ex.solution_cells)})
    assert len(uses.cells) > len(plain.cells)
