"""Exercises for real classes: student release, self-check, and nbval-based grading.

* ``python -m course_lib.grading.release --out student/`` writes the student versions;
* ``python -m course_lib.grading.grade SUBMISSIONS/ --out gradebook.csv`` grades a class;
* ``python -m course_lib.grading.grade --self NOTEBOOK`` (or :func:`self_check` in a cell)
  checks one notebook the way the grader will.

Modules: ``notebooks`` (where the exercises are; reading submissions), ``release``
(student versions), ``runner`` (the graded notebook and one nbval run in a subprocess),
``processes`` (a run's process tree and result pipe), ``course`` (the course: notebooks,
points, hidden tests), ``submissions`` (a class's folders and zips; matching notebooks),
``scoring`` (one notebook: run and score), ``gradebook`` (results, CSV, feedback),
``journal`` (the SQLite gradebook every finished run is journaled in; resuming),
``grade`` (a class: parallel runs, self-check, the command line) and ``_nbval_plugin``
(loaded into the nbval subprocess). See ``docs/GRADING.md``.

The names below are imported on first use, so that ``python -m course_lib.grading.grade``
does not import its own module twice.
"""

from importlib import import_module

_EXPORTS = {
    "Course": "course", "ExerciseResult": "gradebook", "StudentResult": "gradebook", "grade_class": "grade",
    "load_course": "course", "self_check": "selfcheck", "write_feedback": "gradebook", "write_gradebook": "gradebook",
    "CourseNotebook": "notebooks", "SubmissionError": "notebooks", "find_exercises": "notebooks",
    "load_course_notebook": "notebooks", "release_course": "release", "release_notebook": "release",
    "Limits": "runner", "build_graded_notebook": "runner", "run_nbval": "runner",
    "Journal": "journal", "course_fingerprint": "journal", "CourseChangedError": "journal",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
