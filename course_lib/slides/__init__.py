"""The lecture deck (``slides/``): the seed's tables beside the course's measurements, and the offline export.

``tables``: the seed lecture's outline (``slides/seed.json``) and the course's measured tables read
from the notebooks' stored outputs; ``html``: shown side by side on the deck's slides. ``export``: the
self-contained offline HTML deck (``make slides`` = ``python -m course_lib.slides``). ``deck``: writes
the deck notebook itself (``python slides/build_deck.py``), its slides' texts in ``deck_slides``.
"""

from __future__ import annotations

from .._lazy import attach

__getattr__, __dir__, __all__ = attach(
    __name__,
    exports={
        "tables": ["load_seed", "notebook_figure", "notebook_table"],
        "html": ["course_table", "glossary_table", "html_table", "side_by_side"],
        "export": ["copy_assets", "export_deck", "npm_install", "remote_references"],
        "deck": ["build_deck", "deck_notebook"],
    },
    submodules=["deck", "deck_slides", "export", "html", "tables"],
)
