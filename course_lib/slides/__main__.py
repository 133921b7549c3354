"""``python -m course_lib.slides [--execute] [--out DIR]``: export the lecture deck to offline HTML."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .export import BUILD, DECK, export_deck


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_lib.slides", description=__doc__)
    parser.add_argument("--deck", default=str(DECK), help="the notebook to export (default: slides/lecture.ipynb)")
    parser.add_argument("--out", default=str(BUILD), help="output folder (default: slides/build)")
    parser.add_argument("--execute", action="store_true", help="run the deck first (fresh tables from the notebooks)")
    args = parser.parse_args(argv)
    html = export_deck(Path(args.deck), Path(args.out), execute=args.execute)
    size = sum(p.stat().st_size for p in html.parent.rglob("*") if p.is_file())
    print(f"offline deck: {html} ({size / 2**20:.1f} MiB with vendor/); open it in a browser, no network needed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
