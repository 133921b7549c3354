"""``python -m course_lib.data``: the data status table, ``--download`` to fetch what is missing."""

import sys

from . import main

sys.exit(main())
