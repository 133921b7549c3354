"""Answers that call the course's library are flagged for a human, through any alias, never scored by the flag."""

import pytest

from course_lib.grading.flags import library_aliases, library_calls


def test_aliases_from_the_notebook_and_the_answer():
    aliases = library_aliases(["import course_lib as cl\nfrom course_lib.pruning import magnitude_mask as mm",
                               "import course_lib.factorization.svd as S\nimport numpy as np", "%matplotlib inline"])
    assert aliases == {"cl": "course_lib", "mm": "course_lib.pruning.magnitude_mask",
                       "S": "course_lib.factorization.svd"}


@pytest.mark.parametrize("source, expected", [
    ("def f(w):\n    return cl.pruning.magnitude_mask(w, 3)", ["course_lib.pruning.magnitude_mask (line 2)"]),
    ("from course_lib.pruning import magnitude_mask as m\nf = lambda w: m(w, 3)",
     ["course_lib.pruning.magnitude_mask (line 2)"]),
    ("import course_lib.pruning as P\ndef f(w):\n    g = P.threshold_prune\n    return g(w)", []),  # no call of P.x
    ("def f(w):\n    return getattr(cl, 'prun' + 'ing').magnitude_mask(w)", ["getattr on course_lib (line 2)"]),
    ("import importlib\nm = importlib.import_module('course_lib.pruning')",
     ["importlib.import_module('course_lib.pruning') (line 2)"]),
    ("%time x = 1\ndef f(w):\n    return np.abs(w) > 0.1", []),
    ("def f(w):\n  return w +", []),  # a syntax error: the run reports it, not the flag
])
def test_library_calls(source, expected):
    assert library_calls(source) == expected


def test_names_the_notebook_imported_are_followed():
    aliases = library_aliases(["from course_lib.factorization import rank1_filter"])
    assert library_calls("def mine(f):\n    return rank1_filter(f)", aliases) == [
        "course_lib.factorization.rank1_filter (line 2)"]
