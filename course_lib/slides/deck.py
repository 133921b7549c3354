"""Build ``slides/lecture.ipynb``, the lecture deck, with nbformat (then execute it: see slides/README.md).

Every seed section is one slide (``slideshow.slide_type == "slide"``) whose metadata names the seed
section (``course_slide.seed``); demos, tables and notes are sub-slides or fragments. Tables and
figures come from the executed notebooks 00-08 (``course_lib.slides``), never typed in here; the
slides' texts are in :mod:`course_lib.slides.deck_slides`.

``python slides/build_deck.py [--out PATH] [--seed PATH]`` (or ``python -m course_lib.slides.deck``)
writes the notebook without outputs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .._validation import check_path
from ._checks import check_seed
from .deck_slides import add_slides
from .export import DECK
from .tables import load_seed

__all__ = ["DeckBuilder", "deck_notebook", "build_deck", "main"]

SLIDE_TYPES = ("slide", "subslide", "fragment", "skip", "notes", "-")


class DeckBuilder:
    """Collects the deck's cells; :func:`~course_lib.slides.deck_slides.add_slides` calls its methods.

    Parameters
    ----------
    seed : dict
        The outline (:func:`~course_lib.slides.load_seed`): its sections and tables.
    """

    def __init__(self, seed: dict):
        self.seed = check_seed(seed)
        self.sections = {s["id"]: s for s in self.seed["sections"]}
        self.cells = []

    @staticmethod
    def _slide_type(cell, slide: str):
        if slide not in SLIDE_TYPES:
            raise ValueError(f"slide == {slide!r}, must be one of {', '.join(repr(s) for s in SLIDE_TYPES)}.")
        # "-" (continue the slide) is the default: left out, because jupyterlab-slideshow 0.3 hides code
        # cells that carry it explicitly (nbconvert reads a missing type as "-" too)
        if slide != "-":
            cell.metadata["slideshow"] = {"slide_type": slide}

    def md(self, text: str, slide: str = "-", seed: str | None = None):
        """A markdown cell; ``seed``: the id of the seed section this slide presents."""
        from nbformat.v4 import new_markdown_cell

        cell = new_markdown_cell(text.strip())
        self._slide_type(cell, slide)
        if seed is not None:
            if seed not in self.sections:
                raise ValueError(f"seed['sections'] has no section with id {seed!r}, must have every section the "
                                 f"deck presents (slides/seed.json).")
            cell.metadata["course_slide"] = {"seed": self.sections[seed]["seed"], "id": seed}
        self.cells.append(cell)

    def code(self, src: str, slide: str = "-", tags=("remove-input",)):
        """A code cell, its output not compared by nbval, its input hidden in the slideshow by default."""
        from nbformat.v4 import new_code_cell

        cell = new_code_cell(src.strip())
        self._slide_type(cell, slide)
        cell.metadata["tags"] = ["nbval-ignore-output", *tags]
        self.cells.append(cell)

    def table(self, name: str, slide: str = "-"):
        """The seed's table on one (sub-)slide, each measured counterpart on the next: readable at 1280x720."""
        if name not in self.seed["tables"]:
            raise ValueError(f"seed['tables'] has no table {name!r}, must have every table the deck shows "
                             f"(slides/seed.json).")
        self.code(f'slides.side_by_side("{name}", part="seed")', slide)
        for i in range(len(self.seed["tables"][name]["course"])):
            self.code(f'slides.side_by_side("{name}", part="course", index={i})', "subslide")

    def measured(self, notebook: str, header: list[str], caption: str, slide: str = "-", **kwargs):
        """A table a notebook printed (:func:`~course_lib.slides.course_table`)."""
        extra = "".join(f",\n                    {k}={v!r}" for k, v in kwargs.items())
        self.code(f"slides.course_table({notebook!r}, {header!r},\n                    caption={caption!r}{extra})",
                  slide)

    def figure(self, notebook: str, contains: list[str], slide: str = "-", index: int = 0):
        """A figure a notebook stored (:func:`~course_lib.slides.notebook_figure`; ``index``: the cell's n-th)."""
        which = f", index={index}" if index else ""
        self.code(f"Image(slides.notebook_figure({notebook!r}, {contains!r}{which}), width=820)", slide)


def deck_notebook(seed=None):
    """The deck as a notebook without outputs.

    Parameters
    ----------
    seed : dict, optional
        The outline (default: :func:`~course_lib.slides.load_seed`).

    Returns
    -------
    nbformat.NotebookNode

    Raises
    ------
    TypeError
        If ``seed`` is not a dict.
    ValueError
        If ``seed`` is not an outline, or lacks a section or table the deck presents.
    """
    from nbformat.v4 import new_notebook

    builder = DeckBuilder(load_seed() if seed is None else seed)
    add_slides(builder)
    nb = new_notebook(cells=builder.cells)
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    nb.metadata["title"] = "Networks compression"
    return nb


def build_deck(out=DECK, *, seed=None) -> Path:
    """Write the deck (:func:`deck_notebook`) to ``out``, replacing it: the executed outputs are lost.

    Parameters
    ----------
    out : str or path-like
        The notebook to write (default ``slides/lecture.ipynb``).
    seed : dict, optional
        The outline (default: :func:`~course_lib.slides.load_seed`).

    Returns
    -------
    Path
        ``out``.

    Raises
    ------
    TypeError
        If ``out`` is not a str or a path, or ``seed`` not a dict.
    ValueError
        If ``out`` is a folder or its folder does not exist, or ``seed`` is not a complete outline
        (checked before anything is written).
    """
    import nbformat

    out = check_path("out", out, parent_must_exist=True)
    if out.is_dir():
        raise ValueError(f"out == {str(out)!r} is a folder, must be the notebook file to write.")
    nb = deck_notebook(seed)
    nbformat.write(nb, out)
    return out


def main(argv=None) -> int:
    """``python slides/build_deck.py [--out PATH] [--seed PATH]``: one-line errors, exit status 2."""
    parser = argparse.ArgumentParser(prog="build_deck.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(DECK), help="the notebook to write (default: slides/lecture.ipynb)")
    parser.add_argument("--seed", default=None, help="the outline (default: slides/seed.json)")
    args = parser.parse_args(argv)
    try:  # the strings as typed: an empty one is refused, not read as the current folder
        seed = None if args.seed is None else load_seed(args.seed)
        out = build_deck(args.out, seed=seed)
    except (TypeError, ValueError) as exc:
        parser.error(str(exc))
    import nbformat

    print(f"wrote {out}: {len(nbformat.read(out, as_version=4).cells)} cells")
    return 0


if __name__ == "__main__":
    sys.exit(main())
