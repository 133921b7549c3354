"""Build slides/lecture.ipynb, the lecture deck (course_lib/slides/deck.py; its texts: deck_slides.py)."""
import sys
from course_lib.slides.deck import main

sys.exit(main())
