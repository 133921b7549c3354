"""The course's trained checkpoints: the manifest, sha256 checks, loading with ``weights_only=True``.

Trained checkpoints live in ``data/checkpoints/`` with a manifest
(``manifest.json``: file, sha256, test accuracy, command, seed, ...), written by
``python -m course_lib.train NAME`` and loaded by :func:`load_pretrained`, which
refuses a file whose sha256 does not match.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import torch
from torch import nn

from ._validation import check_choice, check_path
from .models import MODELS, build_model

__all__ = ["CHECKPOINT_DIR", "ChecksumError", "file_sha256", "checkpoint_dir", "load_manifest", "load_pretrained"]

CHECKPOINT_DIR = Path(__file__).resolve().parent.parent / "data" / "checkpoints"


class ChecksumError(ValueError):
    """A checkpoint's sha256 does not match the manifest."""


def file_sha256(path: str | os.PathLike) -> str:
    """Hex sha256 of a file's bytes, read in 1 MiB chunks.

    Parameters
    ----------
    path : str or path

    Returns
    -------
    str
        64 hexadecimal digits.

    Raises
    ------
    TypeError, ValueError
        If ``path`` is not a str or a path, or not an existing file.
    """
    path = check_path("path", path, must_exist=True)
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def checkpoint_dir(path: str | os.PathLike | None = None) -> Path:
    """The checkpoint folder: ``path`` if given, else the repository's ``data/checkpoints``.

    Parameters
    ----------
    path : str, path or None

    Returns
    -------
    pathlib.Path

    Raises
    ------
    TypeError
        If ``path`` is not a str or a path.
    ValueError
        If ``path`` is an empty string or names a file, not a folder.
    """
    if path is None:
        return CHECKPOINT_DIR
    folder = check_path("checkpoint_dir", path)
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"checkpoint_dir == {str(folder)!r} is a file, must be a folder (the one holding "
                         f"manifest.json).")
    return folder


def load_manifest(path: str | os.PathLike | None = None) -> dict:
    """The checkpoint manifest as a dict ``{name: entry}`` (empty when there is none).

    Parameters
    ----------
    path : str, path or None
        The checkpoint folder (see :func:`checkpoint_dir`).

    Returns
    -------
    dict
        ``{"lenet300": {"file": ..., "sha256": ..., "test_accuracy": ..., ...}, ...}``.

    Raises
    ------
    TypeError, ValueError
        For a bad ``path`` (see :func:`checkpoint_dir`), or a manifest that is not a JSON object.
    """
    manifest = checkpoint_dir(path) / "manifest.json"
    if not manifest.is_file():
        return {}
    try:
        data = json.loads(manifest.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"the manifest {manifest} is not valid JSON ({exc}), must be the file "
                         f"`python -m course_lib.train` writes: restore it with "
                         f"`git checkout -- {manifest}`.") from None
    if not isinstance(data, dict):
        raise ValueError(f"the manifest {manifest} holds a JSON {type(data).__name__}, must be an object "
                         f"{{name: entry}}: restore it with `git checkout -- {manifest}`.")
    return data


def _manifest_entry(entry, name: str, manifest: Path) -> tuple[str, str]:
    """The ``file`` and ``sha256`` of a manifest entry, after checking them."""
    if not isinstance(entry, dict):
        raise ValueError(f"the manifest {manifest} has {type(entry).__name__} for {name!r}, must be an object "
                         f"with 'file' and 'sha256'.")
    for key in ("file", "sha256"):
        if not isinstance(entry.get(key), str) or not entry.get(key):
            raise ValueError(f"the manifest {manifest} entry {name!r} has no valid {key!r} "
                             f"(got {entry.get(key)!r}), must be a non-empty str: retrain with "
                             f"`python -m course_lib.train {name}`.")
    if Path(entry["file"]).name != entry["file"]:
        raise ValueError(f"the manifest {manifest} entry {name!r} has file == {entry['file']!r}, must be a file "
                         f"name in the checkpoint folder.")
    return entry["file"], entry["sha256"]


def load_pretrained(name: str, *, checkpoint_dir: str | os.PathLike | None = None) -> nn.Module:
    """The course's trained model ``name``, in eval mode.

    The file's sha256 is checked against the manifest before ``torch.load``
    reads it (with ``weights_only=True``: no code in a checkpoint ever runs).

    Parameters
    ----------
    name : {"lenet300", "lenet5", "cifar_vgg", "wide_mlp"}
    checkpoint_dir : str, path or None, keyword-only
        The checkpoint folder (default: the repository's ``data/checkpoints``).

    Raises
    ------
    TypeError, ValueError
        If ``name`` is not a str, or not a course model; ``checkpoint_dir`` is not a folder; or the
        manifest is not valid JSON or its entry lacks ``file`` / ``sha256``.
    FileNotFoundError
        If the model has not been trained (the message gives the command).
    ChecksumError
        If the file does not match the manifest's sha256.
    """
    check_choice("name", name, tuple(MODELS))
    folder = globals()["checkpoint_dir"](checkpoint_dir)
    entry = load_manifest(folder).get(name)
    if entry is None:
        raise FileNotFoundError(f"no checkpoint for {name!r} in {folder / 'manifest.json'}. "
                                f"Train it with `python -m course_lib.train {name}`.")
    filename, sha256 = _manifest_entry(entry, name, folder / "manifest.json")
    path = folder / filename
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} is listed in the manifest but missing. "
                                f"Restore it with `git checkout -- {path.name}` or retrain with "
                                f"`python -m course_lib.train {name}`.")
    digest = file_sha256(path)
    if digest != sha256:
        raise ChecksumError(f"checkpoint {path} has sha256 {digest}, but the manifest expects "
                            f"{sha256}: refusing to load it. Restore it with "
                            f"`git checkout -- {path}` or retrain with `python -m course_lib.train {name}`.")
    model = build_model(name)
    model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    return model.eval()
