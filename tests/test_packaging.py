"""The install paths agree: pyproject.toml, environment.yml, the Makefile, CI and Binder."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
# conda-forge names that differ from PyPI names
CONDA_NAMES = {"torch": "pytorch", "playwright": "playwright-python"}


def _split(req: str) -> tuple[str, str]:
    m = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", req)
    return m.group(1).lower().replace("_", "-"), m.group(2).replace(" ", "")


def _pyproject():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = meta["dependencies"] + meta["optional-dependencies"]["dev"]
    return dict(_split(r) for r in reqs)


def _conda():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    specs = [d for d in env["dependencies"] if isinstance(d, str)]
    return dict(_split(s.replace("=", "==", 1) if re.match(r"^[\w\-]+=[^=<>]", s) else s) for s in specs)


def test_environment_yml_matches_pyproject():
    pip, conda = _pyproject(), _conda()
    for name, spec in pip.items():
        conda_name = CONDA_NAMES.get(name, name)
        assert conda_name in conda, f"{name} is in pyproject.toml but not in environment.yml"
        assert conda[conda_name] == spec, f"{name}: pyproject {spec!r} vs environment.yml {conda[conda_name]!r}"
    extra = set(conda) - {CONDA_NAMES.get(n, n) for n in pip} - {"python", "pip"}
    assert not extra, f"environment.yml has packages pyproject.toml lacks: {sorted(extra)}"
    assert conda["python"] == "==3.11"


def test_torch_pins_select_the_course_versions():
    pip = _pyproject()
    assert pip["torch"] == ">=2.14.1,<2.15"
    assert pip["torchvision"] == ">=0.29.1,<0.30"


def test_installed_versions_satisfy_pins():
    import torch
    import torchvision

    assert torch.__version__.startswith("2.14.")
    assert torchvision.__version__.startswith("0.29.")


def test_binder_postbuild_installs_the_course():
    post = (ROOT / "postBuild").read_text()
    assert "pip install" in post and "-e ." in post
    assert "course_lib.data" in post
    assert (ROOT / "postBuild").stat().st_mode & 0o111, "postBuild must be executable"


def test_ci_calls_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in readme and "make lab" in readme
    assert re.search(r"^make test$", ci, re.M)
    assert "COURSE_DATA_DIR" in ci and "../shared/data" in ci


def test_readme_lists_every_notebook():
    readme = (ROOT / "README.md").read_text()
    for nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
        assert nb.name in readme, f"README's notebook table lacks {nb.name}"


def test_console_scripts_name_the_grading_commands():
    """`course-grade` and `course-release` are entry points of the package, and each names a callable main."""
    import importlib

    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert set(scripts) == {"course-grade", "course-release"}
    for target in scripts.values():
        module, _, attr = target.partition(":")
        assert callable(getattr(importlib.import_module(module), attr)), target
    makefile = (ROOT / "Makefile").read_text()
    assert "$(BIN)/course-grade --self" in makefile and "$(BIN)/course-release --out" in makefile
