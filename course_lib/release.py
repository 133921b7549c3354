"""``python -m course_lib.release``: write the student versions (see :mod:`course_lib.grading.release`)."""

from .grading.release import main

if __name__ == "__main__":
    raise SystemExit(main())
