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

The names below are imported on first use (:func:`course_lib._lazy.attach`, as in every package), so that
``python -m course_lib.grading.grade`` does not import its own module twice.
"""

from .._lazy import attach

__getattr__, __dir__, __all__ = attach(__name__, {
    "course": ["Course", "load_course"],
    "gradebook": ["ExerciseResult", "StudentResult", "write_feedback", "write_gradebook"],
    "grade": ["grade_class"],
    "selfcheck": ["self_check"],
    "notebooks": ["CourseNotebook", "SubmissionError", "find_exercises", "load_course_notebook"],
    "release": ["release_course", "release_notebook"],
    "runner": ["Limits", "build_graded_notebook", "run_nbval"],
    "journal": ["Journal", "course_fingerprint", "CourseChangedError"],
})
