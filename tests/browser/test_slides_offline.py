"""The offline lecture deck (``make slides``) in headless Chromium with the network blocked.

The deck is exported (``course_lib.slides.export_deck``: npm ci when needed, the assets copied next
to the HTML) into a temporary folder and served by a local HTTP server on a random port; every
request the page makes is recorded. Checked: nothing is requested outside that server, nothing fails
(no 404, no aborted request); MathJax 2 typesets the math and no raw ``$...$`` TeX is left in the
slides' text; reveal.js navigates (next / previous change the slide); there are at least as many
slides as the seed lecture has sections; every seed table is shown beside its measured counterpart
and the counterpart's cells are what the notebook stored. The request log is kept in
``test-artifacts/browser/slides-offline-requests.log``.
"""

from __future__ import annotations

import functools
import html
import http.server
import json
import re
import threading

import pytest

from browser_helpers import ROOT, Browser

SEED_DIR = ROOT.parent / "shared" / "seed"
SEED_TEXT = next(iter(sorted(SEED_DIR.glob("*.txt"))), None) if SEED_DIR.is_dir() else None
OUTLINE = json.loads((ROOT / "slides" / "seed.json").read_text(encoding="utf-8"))


def seed_section_count() -> int:
    """'# ' headings of the seed lecture (its text when present, else the committed outline)."""
    if SEED_TEXT is not None:
        return sum(1 for line in SEED_TEXT.read_text(encoding="utf-8").splitlines() if line.startswith("# "))
    return len(OUTLINE["sections"])


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def deck(tmp_path_factory):
    from course_lib.slides import export_deck

    out = tmp_path_factory.mktemp("deck")
    page = export_deck(out=out)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(out)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield {"html": page, "url": f"http://127.0.0.1:{server.server_address[1]}"}
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def slideshow(deck, chromium, artifacts):
    """The deck open in Chromium, loaded and typeset, with its full request log."""
    browser = Browser(chromium, allowed_origin=deck["url"])
    browser.start()
    page = browser.new_page()
    log = {"requests": [], "failed": [], "errors": []}
    page.on("request", lambda r: log["requests"].append(r.url))
    page.on("requestfailed", lambda r: log["failed"].append(f"{r.url} ({r.failure})"))
    page.on("response", lambda r: log["failed"].append(f"{r.url} (HTTP {r.status})") if r.status >= 400 else None)
    page.on("pageerror", lambda e: log["errors"].append(str(e)))
    page.on("console", lambda m: log["errors"].append(m.text) if m.type == "error" else None)
    try:
        page.goto(f"{deck['url']}/{deck['html'].name}")
        page.wait_for_selector(".reveal.ready", state="attached", timeout=60_000)
        page.wait_for_function("() => window.MathJax && MathJax.Hub && MathJax.Hub.queue.pending === 0"
                               " && document.querySelectorAll('.MathJax_CHTML').length > 0", timeout=90_000)
        page.wait_for_function("() => document.querySelectorAll('.widget-slider').length > 0", timeout=60_000)
        page.wait_for_timeout(1000)  # late requests (fonts of the slides in view)
        yield {"page": page, "log": log, "browser": browser}
    finally:
        (artifacts / "slides-offline-requests.log").write_text(
            "\n".join([f"requests ({len(log['requests'])}):", *log["requests"],
                       f"external ({len(browser.external_requests)}):", *browser.external_requests,
                       f"failed ({len(log['failed'])}):", *log["failed"]]) + "\n")
        browser.stop()


def test_export_is_self_contained(deck):
    from course_lib.slides.export import remote_references

    text = deck["html"].read_text(encoding="utf-8")
    assert remote_references(text) == []
    vendor = deck["html"].parent / "vendor"
    licences = (vendor / "LICENSES.md").read_text()
    for package in ("reveal.js 4.", "mathjax 2.7.", "jquery 3.", "requirejs 2.", "@jupyter-widgets/html-manager 1."):
        assert f"## {package}" in licences, package
    for css in vendor.rglob("*.css"):
        assert not re.search(r"@import\s+url\(\s*['\"]?(https?:)?//", css.read_text()), css
    assert "mermaid" not in text.lower()


def test_deck_loads_offline_with_zero_failed_or_external_requests(slideshow, deck):
    log = slideshow["log"]
    assert log["requests"], "the page made no request at all"
    assert all(u.startswith(deck["url"]) or u.startswith("data:") for u in log["requests"]), log["requests"]
    assert slideshow["browser"].external_requests == []
    assert log["failed"] == []
    assert [e for e in log["errors"] if "strict mode" not in e] == []


def test_math_is_typeset_by_mathjax_and_no_raw_tex_is_left(slideshow):
    page = slideshow["page"]
    assert page.evaluate("document.querySelectorAll('.MathJax_CHTML').length") >= 20
    text = page.evaluate("""() => { const c = document.querySelector('.reveal .slides').cloneNode(true);
        c.querySelectorAll('script, style').forEach(s => s.remove()); return c.textContent; }""")
    assert not re.findall(r"\$[^$\n]{1,80}\$", text)
    assert "\\frac" not in text and "\\begin{pmatrix}" not in text


def test_navigation_changes_the_slide(slideshow):
    page = slideshow["page"]
    index_js = ("() => [...document.querySelectorAll('.reveal .slides > section')]"
                ".findIndex(s => s.classList.contains('present'))")
    page.evaluate("() => { location.hash = '#/1'; }")
    page.wait_for_function(f"() => ({index_js})() === 1", timeout=10_000)

    def present():
        return page.evaluate(f"() => [({index_js})(), document.querySelector('.reveal .slides > section.present')"
                             ".innerText.trim().slice(0, 60)]")

    first = present()
    page.keyboard.press("ArrowRight")  # next
    page.wait_for_function(f"() => ({index_js})() === 2", timeout=10_000)
    second = present()
    assert second[1] and second[1] != first[1]
    page.keyboard.press("ArrowLeft")  # previous
    page.wait_for_function(f"() => ({index_js})() === 1", timeout=10_000)
    assert present() == first


def test_slide_count_covers_every_seed_section(slideshow):
    n_slides = slideshow["page"].evaluate("document.querySelectorAll('.reveal .slides > section').length")
    assert n_slides >= seed_section_count() >= 19


def test_every_seed_table_is_shown_beside_its_measurement(slideshow):
    """Each seed table, then its measured counterparts (the same data-table: beside it, or on the next slides)."""
    page = slideshow["page"]
    shown = page.evaluate("""() => {
        const out = {};
        for (const d of document.querySelectorAll('.seed-vs-course[data-table]')) {
            const t = out[d.dataset.table] = out[d.dataset.table] || {seed: [], course: [], order: []};
            const seed = [...d.querySelectorAll('table.seed-table td, table.seed-table th')]
                .map(td => td.innerText.trim());
            if (seed.length) { t.seed.push(...seed); t.order.push('seed'); }
            for (const table of d.querySelectorAll('table.course-table')) {
                t.course.push([...table.querySelectorAll('tbody tr')].map(tr =>
                    [...tr.querySelectorAll('td')].map(td => td.innerText.trim())));
                t.order.push('course');
            }
        }
        return out; }""")
    assert set(shown) == set(OUTLINE["tables"])
    for name, spec in OUTLINE["tables"].items():
        assert shown[name]["order"][0] == "seed", name  # the seed's table first, the measurements after it
        plain = [c for row in spec["rows"] for c in row if c and "$" not in c]
        assert all(c in shown[name]["seed"] for c in plain), name
        assert len(shown[name]["course"]) == len(spec["course"]), name
        for rows, src in zip(shown[name]["course"], spec["course"]):
            assert rows and all(rows), f"{name}: an empty measured table"
            stored = json.loads((ROOT / "notebooks" / src["notebook"]).read_text(encoding="utf-8"))
            outputs = "".join("".join(o.get("text", "")) for c in stored["cells"] if c["cell_type"] == "code"
                              for o in c.get("outputs", []))
            for row in rows:  # each measured row is a line the notebook printed
                assert re.search(r"\s+".join(re.escape(html.unescape(c)) for c in row if c), outputs), (name, row)


#: measures every slide at 1280x720: its content's box against the frame, its scroll height, the smallest
#: table text against the body text (markdown paragraphs), after MathJax and reveal.js have laid it out
MEASURE_SLIDES = """async () => {
  const Reveal = await new Promise(r => require(["vendor/reveal.js/dist/reveal.js"], r));
  Reveal.configure({transition: 'none', backgroundTransition: 'none'});
  const body = Math.max(...[...document.querySelectorAll('.reveal .jp-RenderedMarkdown p')]
                             .map(p => parseFloat(getComputedStyle(p).fontSize)));
  const out = [];
  for (const {h, v} of Reveal.getSlides().map(s => Reveal.getIndices(s))) {
    Reveal.slide(h, v || 0);
    for (let i = 0; i < 2; i++) {  // MathJax typesets the slide, then reveal.js centres it again
      await new Promise(r => MathJax.Hub.Queue(r));
      await new Promise(r => setTimeout(r, 300));
      Reveal.layout();
    }
    await new Promise(r => setTimeout(r, 100));
    const s = Reveal.getCurrentSlide();
    const f = document.querySelector('.reveal .slides').getBoundingClientRect();
    const box = [1e9, 1e9, -1e9, -1e9];
    for (const e of s.querySelectorAll('*')) {
      const r = e.getBoundingClientRect();
      if (!e.getClientRects().length || r.width === 0 || r.height === 0) continue;
      box[0] = Math.min(box[0], r.left); box[1] = Math.min(box[1], r.top);
      box[2] = Math.max(box[2], r.right); box[3] = Math.max(box[3], r.bottom);
    }
    const cells = [...s.querySelectorAll('table td, table th')].map(c => parseFloat(getComputedStyle(c).fontSize));
    out.push({slide: `${h}/${v || 0}`, title: s.innerText.trim().split('\\n')[0].slice(0, 50),
              frame: [f.left, f.top, f.right, f.bottom], box, overflow: s.scrollHeight - s.clientHeight,
              table: cells.length ? Math.min(...cells) / body : null});
  }
  return {body, slides: out};
}"""


def test_every_slide_fits_1280x720_with_readable_tables(slideshow, artifacts):
    """At 1280x720 every slide's content lies inside its frame (no scrolling, nothing cut) and no table's text
    is smaller than 0.8 of the body text."""
    page = slideshow["page"]
    page.set_viewport_size({"width": 1280, "height": 720})
    try:
        page.wait_for_timeout(500)
        found = page.evaluate(MEASURE_SLIDES)
    finally:
        page.set_viewport_size({"width": 1280, "height": 1000})
        page.evaluate("() => { location.hash = '#/0'; }")
    (artifacts / "slides-1280x720.json").write_text(json.dumps(found, indent=1))
    assert found["body"] >= 12 and len(found["slides"]) >= seed_section_count()
    bad = []
    for s in found["slides"]:
        (fl, ft, fr, fb), (bl, bt, br, bb) = s["frame"], s["box"]
        if bl < fl - 2 or bt < ft - 2 or br > fr + 2 or bb > fb + 2 or s["overflow"] > 2:
            bad.append(f"{s['slide']} {s['title']!r}: content {[round(x) for x in s['box']]} outside the frame "
                       f"{[round(x) for x in s['frame']]} (scrolls {s['overflow']} px)")
        if s["table"] is not None and s["table"] < 0.8:
            bad.append(f"{s['slide']} {s['title']!r}: a table at {s['table']:.2f} of the body text (< 0.8)")
    assert not bad, "\n".join(bad)


def test_the_outline_matches_the_seed_lecture():
    """slides/seed.json against the seed's text: headings in order, every table's cells, the glossary terms."""
    if SEED_TEXT is None:  # the outline itself must still be complete
        assert len(OUTLINE["sections"]) == 19 and len(OUTLINE["tables"]) == 6
        return
    text = SEED_TEXT.read_text(encoding="utf-8")
    headings = [line[2:].strip().strip("*") for line in text.splitlines() if line.startswith("# ")]
    assert [s["seed"] for s in OUTLINE["sections"]] == headings
    flat = re.sub(r"\s+", " ", text).lower()
    for name, spec in OUTLINE["tables"].items():
        assert "\t".join(spec["columns"]) in text.replace("\t\n", "\n"), name
        for row in spec["rows"]:
            for cell in row:
                # a cell holding two values of the seed ("$K = 250$ $K = 950$") lists them with ", "
                assert cell.lower() in flat or all(p.lower() in flat for p in cell.split(", ")), (name, cell)
    for ru, _ in OUTLINE["glossary"]:
        for part in ru.lower().split(" / "):
            assert part in flat, part
