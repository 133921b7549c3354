"""``python -m course_lib.slides [--execute] [--out DIR]``: export the lecture deck to offline HTML."""

from __future__ import annotations

import argparse
import sys

from .export import BUILD, DECK, export_deck


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_lib.slides", description=__doc__)
    parser.add_argument("--deck", default=str(DECK), help="the notebook to export (default: slides/lecture.ipynb)")
    parser.add_argument("--out", default=str(BUILD), help="output folder (default: slides/build)")
    parser.add_argument("--execute", action="store_true", help="run the deck first (fresh tables from the notebooks)")
    args = parser.parse_args(argv)
    try:  # the strings as typed: Path("") would be the current folder
        html = export_deck(args.deck, args.out, execute=args.execute)
    except (TypeError, ValueError) as exc:
        parser.error(str(exc))
    except RuntimeError as exc:  # npm missing or failing, a page that would load from the network
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return 1
    size = sum(p.stat().st_size for p in html.parent.rglob("*") if p.is_file())
    print(f"offline deck: {html} ({size / 2**20:.1f} MiB with vendor/); open it in a browser, no network needed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
