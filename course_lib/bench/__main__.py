"""``python -m course_lib.bench``."""

import sys

from . import main

sys.exit(main())
