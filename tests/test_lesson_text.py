"""What a student reads is true of the run beside it.

Two rules over every notebook (and the lecture deck):

1. **No word of how the course was made** -- issues, earlier runs, "the course's runs printed",
   commits -- in markdown or in printed text. A figure measured on other machines is quoted as
   a labelled range (:data:`CROSS_MACHINE_LABEL`), not as the story of a run.
2. **Markdown quotes no number a code cell of the same notebook measures.** A number is *measured*
   when it appears in the output of a code cell that nbval does not check (timings, training results:
   they change with the CPU, the load and the run). It may still stand in markdown when it is a
   constant of the lesson -- printed by an nbval-checked cell (so it holds on every run), or a
   literal of the notebook's code --, a figure of the seed lecture, a figure in a paragraph labelled
   :data:`CROSS_MACHINE_LABEL` (other machines' measurements), or listed in :data:`EXCEPTIONS` with its
   reason (citations of papers). Numbers are compared as
   written (``4.87`` is not ``4.9``); only numbers with at least two digits besides a leading ``0.`` count (a
   lone ``2`` or ``0.5`` says too little to be a quotation); LaTeX math and inline code are not prose.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
DECK = ROOT / "slides" / "lecture.ipynb"
SEED_DIR = ROOT.parent / "shared" / "seed"
SEED_NUMBERS_FILE = ROOT / "slides" / "seed.json"

#: how a figure measured on other machines is labelled (the only form such a figure takes)
CROSS_MACHINE_LABEL = "reference measurements"

DEVELOPMENT = re.compile(
    r"\bissues?\b|\bearlier (?:runs?|sessions?|versions?)\b|\bprevious (?:runs?|sessions?|versions?)\b"
    r"|\bcourse'?s (?:own )?runs?\b|\bin our runs\b|\bthis cell printed\b|\bonce printed\b|\bcommit(?:ted|s)?\b"
    r"|\bsessions?\b|\bTODO\b|\bFIXME\b|\bthe tests' setting\b|\bwas (?:fixed|changed)\b|\bnow prints\b",
    re.IGNORECASE)

#: (notebook stem, number as written) -> why it may stand in markdown
EXCEPTIONS: dict[tuple[str, str], str] = {}

NUMBER = re.compile(r"(?<![\w.])(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?![\d])")


def _cells(path):
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _source(cell) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def _output_text(cell) -> str:
    parts = []
    for o in cell.get("outputs", []):
        if "text" in o:
            parts.append("".join(o["text"]))
        data = o.get("data", {})
        for kind in ("text/plain", "text/markdown", "text/html"):
            if kind in data:
                parts.append("".join(data[kind]))
    return "\n".join(parts)


def _prose(markdown: str) -> str:
    # a paragraph labelled as reference measurements quotes other machines' figures, not this run's
    markdown = "\n\n".join(p for p in re.split(r"\n\s*\n", markdown) if CROSS_MACHINE_LABEL not in p.lower())
    text = re.sub(r"\$\$.*?\$\$", " ", markdown, flags=re.S)
    text = re.sub(r"\$[^$\n]+\$", " ", text)
    text = re.sub(r"```.*?```", " ", text, flags=re.S)
    text = re.sub(r"`[^`\n]+`", " ", text)
    text = re.sub(r"\]\([^)]*\)", "]", text)  # link targets
    text = re.sub(r"<[^>]+>", " ", text)  # html tags and their attributes
    return text


def numbers(text: str) -> set[str]:
    """Numbers as written (thousands separators dropped), with at least two digits besides a leading ``0.``."""
    found = set()
    for m in NUMBER.finditer(text):
        n = m.group(1).replace(",", "")
        digits = n[2:] if n.startswith("0.") else n.replace(".", "")
        if len(digits) >= 2:
            found.add(n)
    return found


def _seed_numbers() -> set[str]:
    text = ""
    if SEED_DIR.is_dir():
        text += "\n".join(p.read_text(encoding="utf-8") for p in sorted(SEED_DIR.glob("*.txt")))
    text += SEED_NUMBERS_FILE.read_text(encoding="utf-8")
    return numbers(text)


def measured_numbers_in_markdown(path: Path, seed: set[str]) -> dict[str, list[int]]:
    """Markdown numbers of ``path`` that only unchecked outputs print: {number: [markdown cell indices]}."""
    cells = _cells(path)
    measured, constant, hits = set(), set(seed), {}
    for cell in cells:
        if cell["cell_type"] != "code":
            continue
        constant |= numbers(_source(cell))
        checked = "nbval-check-output" in cell.get("metadata", {}).get("tags", [])
        (constant if checked else measured).update(numbers(_output_text(cell)))
    stem = path.stem
    for i, cell in enumerate(cells):
        if cell["cell_type"] != "markdown":
            continue
        for n in numbers(_prose(_source(cell))):
            if n in measured and n not in constant and (stem, n) not in EXCEPTIONS:
                hits.setdefault(n, []).append(i)
    return hits


@pytest.mark.parametrize("path", NOTEBOOKS + [DECK], ids=lambda p: p.stem)
def test_no_word_of_how_the_course_was_made(path):
    found = []
    for i, cell in enumerate(_cells(path)):
        texts = [_source(cell)] if cell["cell_type"] == "markdown" else [_output_text(cell)]
        for text in texts:
            for m in DEVELOPMENT.finditer(text):
                found.append(f"cell {i}: ...{text[max(0, m.start() - 40):m.end() + 40]!r}...")
    assert not found, "\n".join(found)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_markdown_quotes_no_measured_number(path):
    hits = measured_numbers_in_markdown(path, _seed_numbers())
    assert not hits, (f"{path.name}: markdown quotes numbers that only this run's measurements print "
                      f"(print them from code, or quote a constant): {hits}")


def test_the_rules_catch_what_they_describe(tmp_path):
    nb = {"cells": [
        {"cell_type": "code", "metadata": {}, "source": "n = 1024\nprint(t)", "outputs": [
            {"output_type": "stream", "name": "stdout", "text": "speed-up 4.87x at 1024, 266,610 params\n"}]},
        {"cell_type": "code", "metadata": {"tags": ["nbval-check-output"]}, "source": "print(p)", "outputs": [
            {"output_type": "stream", "name": "stdout", "text": "266,610\n"}]},
        {"cell_type": "markdown", "metadata": {}, "source": "The 1024 row gains 4.87x; 266,610 weights; $4.87$."},
        {"cell_type": "markdown", "metadata": {}, "source": "As the issue found, `4.87` is code."},
    ], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps(nb))
    assert measured_numbers_in_markdown(path, set()) == {"4.87": [2]}
    assert DEVELOPMENT.search(_source(nb["cells"][3]))
    assert numbers("0.5 and 2 and 0.08 and 1,595,050 and 12") == {"0.08", "1595050", "12"}
