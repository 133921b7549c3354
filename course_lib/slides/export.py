"""Export the lecture deck to a self-contained offline HTML slideshow (``make slides``).

``jupyter nbconvert --to slides`` alone writes a page that loads reveal.js, require.js, jQuery,
MathJax 2, the widget manager and mermaid from CDNs. Here every one of them comes from the
repository instead: the npm packages pinned in ``slides/package.json`` / ``package-lock.json``
(installed by ``npm ci`` into the git-ignored ``slides/node_modules``) are copied, trimmed to what
the page loads and with their licences, next to the HTML (``slides/build/vendor``); the exporter's
URL options point there, and the small template ``slides/template/course_reveal`` drops the mermaid
import (the deck has no diagram) and keeps nbconvert's slide-change handler, which calls
``MathJax.Hub`` (the MathJax 2 API, hence MathJax 2.7). Remote ``@import`` rules in the copied
style sheets are removed, and the export fails if anything the page loads still points off-line.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

from .._validation import check_bool, check_path

ROOT = Path(__file__).resolve().parents[2]
SLIDES = ROOT / "slides"
DECK = SLIDES / "lecture.ipynb"
BUILD = SLIDES / "build"
TEMPLATE = "course_reveal"
REVEAL_THEME = "white"

# package -> files (globs, relative to the package) the offline page loads
ASSETS = {
    "reveal.js": ["dist/reveal.js", "dist/reveal.css", "dist/reset.css", f"dist/theme/{REVEAL_THEME}.css",
                  "dist/theme/fonts/source-sans-pro/*.css",
                  "dist/theme/fonts/source-sans-pro/*.woff", "dist/theme/fonts/source-sans-pro/LICENSE",
                  "plugin/notes/notes.js", "LICENSE"],
    "mathjax": ["MathJax.js", "config/TeX-AMS_CHTML-full.js", "config/Safe.js", "extensions/*.js",
                "extensions/TeX/*.js",
                "jax/input/TeX/**/*.js", "jax/output/CommonHTML/**/*.js", "jax/element/**/*.js",
                "localization/en/**/*.js", "fonts/HTML-CSS/TeX/woff/**/*.woff", "LICENSE"],
    "jquery": ["dist/jquery.min.js", "LICENSE.txt"],
    "requirejs": ["require.js"],
    # its Font Awesome as woff2 / woff (what browsers load first; eot, ttf and svg are left out)
    "@jupyter-widgets/html-manager": ["dist/embed-amd.js", "dist/*.woff", "dist/*.woff2"],
}
REMOTE_IMPORT = re.compile(r"@import\s+url\(\s*['\"]?(?:https?:)?//[^)]*\)\s*;?")
REMOTE_REF = re.compile(r"""(?:src|href)\s*=\s*["']((?:https?:)?//[^"']+)["']|url\(\s*['"]?((?:https?:)?//[^)'"]+)""")

__all__ = ["npm_install", "copy_assets", "remote_references", "export_deck"]


def npm_install(slides_dir=SLIDES, *, force: bool = False) -> Path:
    """``npm ci`` in ``slides_dir`` when its ``node_modules`` is missing or older than the lock file.

    Parameters
    ----------
    slides_dir : str or path-like
        The folder holding ``package.json`` and ``package-lock.json``.
    force : bool
        Reinstall even when ``node_modules`` is up to date.

    Returns
    -------
    Path
        The ``node_modules`` folder.

    Raises
    ------
    TypeError
        If ``slides_dir`` is not a path or ``force`` not a bool.
    ValueError
        If ``slides_dir`` has no ``package-lock.json``.
    RuntimeError
        If npm is missing or ``npm ci`` fails (its output is in the message).
    """
    slides_dir = check_path("slides_dir", slides_dir)
    force = check_bool("force", force)
    lock = slides_dir / "package-lock.json"
    if not lock.is_file():
        raise ValueError(f"slides_dir == {str(slides_dir)!r} has no package-lock.json, must be the deck's folder.")
    modules = slides_dir / "node_modules"
    stamp = modules / ".package-lock.json"  # written by npm at the end of an install
    if not force and stamp.is_file() and stamp.stat().st_mtime >= lock.stat().st_mtime:
        return modules
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is needed once to fetch the deck's reveal.js and MathJax (Debian/Ubuntu: "
                           "apt-get install -y nodejs npm; make prereqs does it).")
    done = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"], cwd=slides_dir,
                          capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"npm ci failed in {slides_dir}:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return modules


def _license_text(package_dir: Path) -> str:
    meta = json.loads((package_dir / "package.json").read_text())
    head = f"## {meta['name']} {meta['version']} ({meta.get('license', 'see package')})\n\n"
    for name in ("LICENSE", "LICENSE.txt", "LICENSE.md", "license"):
        if (package_dir / name).is_file():
            return head + (package_dir / name).read_text(errors="replace") + "\n"
    return head + f"License: {meta.get('license')} (stated in its package.json; the package ships no licence file).\n"


def copy_assets(node_modules, vendor) -> dict:
    """Copy the files the offline page loads from ``node_modules`` into ``vendor``.

    Style sheets lose their remote ``@import`` rules (reveal's themes import Google fonts); the
    licences of every package go into ``vendor/LICENSES.md``.

    Parameters
    ----------
    node_modules : str or path-like
        The installed packages (:func:`npm_install`).
    vendor : str or path-like
        The destination (replaced).

    Returns
    -------
    dict
        Package -> its version.

    Raises
    ------
    TypeError
        If a path is not a str or a path.
    ValueError
        If a package is missing or one of its expected files is absent (a different version).
    """
    node_modules, vendor = check_path("node_modules", node_modules), check_path("vendor", vendor)
    if vendor.exists():
        shutil.rmtree(vendor)
    versions, licences = {}, ["# Licences of the deck's front-end assets (copied from their npm packages)\n"]
    for package, patterns in ASSETS.items():
        src = node_modules / package
        if not (src / "package.json").is_file():
            raise ValueError(f"node_modules == {str(node_modules)!r} lacks {package!r}: run npm ci in slides/.")
        versions[package] = json.loads((src / "package.json").read_text())["version"]
        licences.append(_license_text(src))
        dst = vendor / package.split("/")[-1]
        for pattern in patterns:
            found = [p for p in src.glob(pattern) if p.is_file()]
            if not found:
                raise ValueError(f"{package} {versions[package]} has no {pattern!r}: not the pinned version?")
            for path in found:
                target = dst / path.relative_to(src)
                target.parent.mkdir(parents=True, exist_ok=True)
                if path.suffix == ".css":
                    target.write_text(REMOTE_IMPORT.sub("", path.read_text()))
                else:
                    shutil.copyfile(path, target)
    (vendor / "LICENSES.md").write_text("\n".join(licences))
    return versions


def remote_references(text: str) -> list[str]:
    """The remote URLs a page or style sheet would load (``src=``, ``href=`` of link/script, ``url()``)."""
    found = []
    for tag in re.finditer(r"<(script|link|img|iframe|source)\b[^>]*>", text, flags=re.I):
        found += [m.group(1) for m in REMOTE_REF.finditer(tag.group(0)) if m.group(1)]
    for style in re.findall(r"<style[^>]*>(.*?)</style>", text, flags=re.S | re.I):
        found += [m.group(2) for m in REMOTE_REF.finditer(style) if m.group(2)]
        found += REMOTE_IMPORT.findall(style)
    found += re.findall(r"""import\s+[\w{}\s,*]+\s+from\s+['"]((?:https?:)?//[^'"]+)""", text)
    return found


def export_deck(deck=DECK, out=BUILD, *, execute: bool = False, install: bool = True) -> Path:
    """Write ``out/<deck>.slides.html`` and ``out/vendor/``: the deck, offline.

    Parameters
    ----------
    deck : str or path-like
        The notebook to export (default ``slides/lecture.ipynb``).
    out : str or path-like
        The output folder (default ``slides/build``, git-ignored).
    execute : bool
        Run the deck first (in a kernel started in its folder), so it shows the notebooks' latest
        stored measurements; else its saved outputs are exported.
    install : bool
        Run :func:`npm_install` first (else ``slides/node_modules`` must be there).

    Returns
    -------
    Path
        The HTML file.

    Raises
    ------
    TypeError
        If a path is not a str or a path, or a flag not a bool.
    ValueError
        If ``deck`` is not an existing file.
    RuntimeError
        If npm fails or the page would still load something from the network.
    """
    import nbformat
    from nbconvert import SlidesExporter
    from nbconvert.preprocessors import ExecutePreprocessor, TagRemovePreprocessor
    from traitlets.config import Config

    deck = check_path("deck", deck, must_exist=True)
    out = check_path("out", out)
    execute, install = check_bool("execute", execute), check_bool("install", install)
    modules = npm_install() if install else SLIDES / "node_modules"
    out.mkdir(parents=True, exist_ok=True)
    copy_assets(modules, out / "vendor")

    nb = nbformat.read(deck, as_version=4)
    if execute:
        ExecutePreprocessor(timeout=900, kernel_name="python3").preprocess(nb, {"metadata": {"path": str(deck.parent)}})
    cfg = Config()
    cfg.TagRemovePreprocessor.remove_input_tags = {"remove-input"}
    cfg.TagRemovePreprocessor.remove_cell_tags = {"remove-cell"}
    cfg.TagRemovePreprocessor.enabled = True
    exporter = SlidesExporter(config=cfg, template_name=TEMPLATE, extra_template_basedirs=[str(SLIDES / "template")])
    exporter.register_preprocessor(TagRemovePreprocessor(config=cfg), enabled=True)
    exporter.reveal_url_prefix = "vendor/reveal.js"
    exporter.reveal_theme = REVEAL_THEME
    exporter.reveal_scroll = True
    exporter.require_js_url = "vendor/requirejs/require.js"
    exporter.jquery_url = "vendor/jquery/dist/jquery.min.js"
    exporter.mathjax_url = "vendor/mathjax/MathJax.js?config=TeX-AMS_CHTML-full,Safe"
    exporter.widget_renderer_url = "vendor/html-manager/dist/embed-amd.js"
    body, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": deck.stem}})
    remote = remote_references(body)
    if remote:
        raise RuntimeError(f"the exported deck would still load from the network: {sorted(set(remote))}")
    html_path = out / f"{deck.stem}.slides.html"
    html_path.write_text(body, encoding="utf-8")
    return html_path
