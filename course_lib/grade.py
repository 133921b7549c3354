"""``python -m course_lib.grade``: grade a class or self-check (see :mod:`course_lib.grading.grade`)."""

from .grading.grade import main

if __name__ == "__main__":
    raise SystemExit(main())
