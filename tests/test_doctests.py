"""The examples in the NumPy core's docstrings run, and print what they say (``doctest``).

The torch-free modules (pruning, quantization, factorization without their ``nn`` subpackages, the
exercise machinery, validation, formats, verdicts, reports, timing) are what a student reads first;
an example that no longer runs would teach something false. Also run by ``make test-numpy`` under the
newest Python, without torch.
"""

import doctest
import importlib
import pkgutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("course_lib.pruning", "course_lib.quantization", "course_lib.factorization", "course_lib.exercises")
MODULES = ("course_lib._validation", "course_lib.formats", "course_lib.verdicts", "course_lib.report",
           "course_lib.timing", "course_lib.sharing", "course_lib.sharing.kmeans", "course_lib.sharing.huffman",
           "course_lib.sharing.relative", "course_lib.sharing.storage", "course_lib.llmquant",
           "course_lib.llmquant.groupwise", "course_lib.llmquant.gptq", "course_lib.llmquant.smooth")


def _numpy_modules() -> list[str]:
    names = list(MODULES)
    for package in PACKAGES:
        folder = ROOT / package.replace(".", "/")
        names.append(package)
        names += [f"{package}.{m.name}" for m in pkgutil.iter_modules([str(folder)])
                  if not m.ispkg and not m.name.startswith("_")]
    return sorted(names)


@pytest.mark.parametrize("name", _numpy_modules())
def test_docstring_examples_run(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False)
    assert result.failed == 0, f"{name}: {result.failed} of {result.attempted} docstring examples failed"


def test_the_core_has_examples_to_run():
    attempted = sum(doctest.testmod(importlib.import_module(n), optionflags=doctest.ELLIPSIS).attempted
                    for n in _numpy_modules())
    assert attempted >= 40, f"only {attempted} docstring examples in the NumPy core"
