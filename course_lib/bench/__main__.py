"""``python -m course_lib.bench``."""

import sys

from . import main, sharing  # noqa: F401  (sharing: registers its benchmark)

sys.exit(main())
