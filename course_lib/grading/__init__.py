"""Exercises for real classes: student release, self-check, and nbval-based grading.

* ``python -m course_lib.grading.release --out student/`` writes the student versions;
* ``python -m course_lib.grading.grade SUBMISSIONS/ --out gradebook.csv`` grades a class;
* ``python -m course_lib.grading.grade --self NOTEBOOK`` (or :func:`self_check` in a cell)
  checks one notebook the way the grader will.

Modules: ``notebooks`` (where the exercises are; reading submissions), ``release``
(student versions), ``runner`` (the graded notebook and one nbval run in a subprocess),
``grade`` (a class: matching, parallel runs, CSV, feedback, self-check) and
``_nbval_plugin`` (loaded into the nbval subprocess). See ``docs/GRADING.md``.

The names below are imported on first use, so that ``python -m course_lib.grading.grade``
does not import its own module twice.
"""

from importlib import import_module

_EXPORTS = {
    "Course": "grade", "ExerciseResult": "grade", "StudentResult": "grade", "grade_class": "grade",
    "load_course": "grade", "self_check": "grade", "write_feedback": "grade", "write_gradebook": "grade",
    "CourseNotebook": "notebooks", "SubmissionError": "notebooks", "find_exercises": "notebooks",
    "load_course_notebook": "notebooks", "release_course": "release", "release_notebook": "release",
    "Limits": "runner", "build_graded_notebook": "runner", "run_nbval": "runner",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
