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


def _license_text(package_dir: Path, meta: dict) -> str:
    head = f"## {meta.get('name', package_dir.name)} {meta['version']} ({meta.get('license', 'see package')})\n\n"
    for name in ("LICENSE", "LICENSE.txt", "LICENSE.md", "license"):
        if (package_dir / name).is_file():
            return head + (package_dir / name).read_text(errors="replace") + "\n"
    return head + f"License: {meta.get('license')} (stated in its package.json; the package ships no licence file).\n"


LICENSES = "LICENSES.md"
LICENSES_HEAD = "# Licences of the deck's front-end assets (copied from their npm packages)\n"


def _plan(node_modules: Path):
    """Versions, licence texts and (source, vendor-relative target) of every file to copy; nothing written."""
    if not node_modules.is_dir():
        what = "a file" if node_modules.exists() else "missing"
        raise ValueError(f"node_modules == {str(node_modules)!r} is {what}, must be the folder of the installed "
                         f"packages: run npm ci in slides/.")
    versions, licences, files = {}, [LICENSES_HEAD], []
    for package, patterns in ASSETS.items():
        src = node_modules / package
        if not (src / "package.json").is_file():
            raise ValueError(f"node_modules == {str(node_modules)!r} lacks {package!r}: run npm ci in slides/.")
        try:
            meta = json.loads((src / "package.json").read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"node_modules == {str(node_modules)!r}: {package}/package.json is not readable JSON "
                             f"({type(exc).__name__}), must be an installed package: run npm ci in slides/.") from None
        if not isinstance(meta, dict) or not isinstance(meta.get("version"), str):
            raise ValueError(f"node_modules == {str(node_modules)!r}: {package}/package.json has no 'version', must "
                             f"be an installed package: run npm ci in slides/.")
        versions[package] = meta["version"]
        licences.append(_license_text(src, meta))
        dst = package.split("/")[-1]
        for pattern in patterns:
            found = [p for p in src.glob(pattern) if p.is_file()]
            if not found:
                raise ValueError(f"node_modules == {str(node_modules)!r}: {package} {versions[package]} has no "
                                 f"{pattern!r}: not the pinned version?")
            files += [(path, Path(dst) / path.relative_to(src)) for path in found]
    return versions, licences, files


def _check_vendor(vendor: Path, node_modules: Path, name: str = "vendor") -> None:
    """Refuse a ``vendor`` whose replacement would delete anything but an earlier copy of the assets."""
    target, source = vendor.resolve(), node_modules.resolve()
    if target == source or target in source.parents or source in target.parents:
        raise ValueError(f"{name} == {str(vendor)!r} overlaps node_modules == {str(node_modules)!r}, must be a "
                         f"folder of its own (it is replaced).")
    if not vendor.exists():
        return
    if not vendor.is_dir():
        raise ValueError(f"{name} == {str(vendor)!r} is a file, must be a folder (replaced by the copied assets).")
    ours = {package.split("/")[-1] for package in ASSETS} | {LICENSES}
    entries = {p.name for p in vendor.iterdir()}
    marked = (vendor / LICENSES).is_file() and (vendor / LICENSES).read_text(errors="replace").startswith(LICENSES_HEAD)
    if not (marked or entries <= ours):
        raise ValueError(f"{name} == {str(vendor)!r} is a folder that copy_assets did not write (it holds "
                         f"{sorted(entries - ours)[:3]!r}, no {LICENSES}), must be new, empty or an earlier vendor "
                         f"folder: nothing was deleted.")


def _write(plan, vendor: Path) -> dict:
    versions, licences, files = plan
    if vendor.exists():
        shutil.rmtree(vendor)
    for path, relative in files:
        target = vendor / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix == ".css":
            target.write_text(REMOTE_IMPORT.sub("", path.read_text()))
        else:
            shutil.copyfile(path, target)
    vendor.mkdir(parents=True, exist_ok=True)
    (vendor / LICENSES).write_text("\n".join(licences))
    return versions


def copy_assets(node_modules, vendor) -> dict:
    """Copy the files the offline page loads from ``node_modules`` into ``vendor``.

    Style sheets lose their remote ``@import`` rules (reveal's themes import Google fonts); the
    licences of every package go into ``vendor/LICENSES.md``. Everything is checked before anything
    is deleted or written.

    Parameters
    ----------
    node_modules : str or path-like
        The installed packages (:func:`npm_install`).
    vendor : str or path-like
        The destination: new, empty, or the ``vendor`` of an earlier call (replaced).

    Returns
    -------
    dict
        Package -> its version.

    Raises
    ------
    TypeError
        If a path is not a str or a path.
    ValueError
        If ``node_modules`` is not a folder, a package is missing, its ``package.json`` unreadable or one
        of its expected files absent (a different version); or if ``vendor`` is a file, overlaps
        ``node_modules``, or is a folder that this function did not write (it is left as it is).
    """
    node_modules, vendor = check_path("node_modules", node_modules), check_path("vendor", vendor)
    plan = _plan(node_modules)
    _check_vendor(vendor, node_modules)
    return _write(plan, vendor)


def remote_references(text: str) -> list[str]:
    """The remote URLs a page or style sheet would load (``src=``, ``href=`` of link/script, ``url()``).

    Raises
    ------
    TypeError
        If ``text`` is not a str (read a file's text first).
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str (the page's HTML), got {type(text).__name__}.")
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
        If ``deck`` is not an existing, readable notebook, ``out`` is a file, ``out/vendor`` is a folder
        that :func:`copy_assets` did not write, or ``node_modules`` lacks an asset (checked before
        anything is installed, deleted or written).
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
    if out.exists() and not out.is_dir():
        raise ValueError(f"out == {str(out)!r} is a file, must be a folder (new or earlier output).")
    try:
        nb = nbformat.read(deck, as_version=4)
    except Exception as exc:  # NotJSONError, a validation error, a bad encoding: all mean "not a notebook"
        first = (str(exc).splitlines() or [""])[0][:120]
        raise ValueError(f"deck == {str(deck)!r} is not a readable notebook ({type(exc).__name__}: {first}), "
                         f"must be a saved .ipynb file.") from None
    modules = SLIDES / "node_modules"
    _check_vendor(out / "vendor", modules, name="out / 'vendor'")
    if install:
        modules = npm_install()
    plan = _plan(modules)
    out.mkdir(parents=True, exist_ok=True)
    _write(plan, out / "vendor")

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
