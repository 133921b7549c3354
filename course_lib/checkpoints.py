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
    """
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
    """
    return CHECKPOINT_DIR if path is None else check_path("checkpoint_dir", path)


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
    """
    manifest = checkpoint_dir(path) / "manifest.json"
    if not manifest.is_file():
        return {}
    return json.loads(manifest.read_text())


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
        If ``name`` is not a str, or not a course model.
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
    path = folder / entry["file"]
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} is listed in the manifest but missing. "
                                f"Restore it with `git checkout -- {path.name}` or retrain with "
                                f"`python -m course_lib.train {name}`.")
    digest = file_sha256(path)
    if digest != entry["sha256"]:
        raise ChecksumError(f"checkpoint {path} has sha256 {digest}, but the manifest expects "
                            f"{entry['sha256']}: refusing to load it. Restore it with "
                            f"`git checkout -- {path}` or retrain with `python -m course_lib.train {name}`.")
    model = build_model(name)
    model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    return model.eval()
