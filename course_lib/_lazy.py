"""Lazy re-exports for the packages of ``course_lib`` (the idea of SPEC 1 / ``lazy_loader.attach``).

A package lists which submodule defines each public name; the submodule is imported
on first use of a name. So ``import course_lib`` is quick, ``python -m course_lib.data``
runs its module once, and importing a NumPy technique module never imports PyTorch
through its package.
"""

from __future__ import annotations

import importlib

__all__ = ["attach"]


def attach(package: str, exports: dict[str, list[str]], submodules=(), aliases: dict[str, str] | None = None):
    """``(__getattr__, __dir__, __all__)`` for ``package``.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    exports : dict of submodule -> list of names
        ``{"masks": ["threshold_prune", ...]}``: ``package.threshold_prune`` is
        ``package.masks.threshold_prune``.
    submodules : sequence of str
        Submodules reachable as attributes (``package.masks``).
    aliases : dict of str -> str, optional
        Old attribute names kept working: ``{"prune_torch": "pruning.nn"}`` makes
        ``package.prune_torch`` the module ``package.pruning.nn``.
    """
    name_to_module = {name: module for module, names in exports.items() for name in names}
    aliases = dict(aliases or {})
    submodules = list(submodules)
    public = sorted(name_to_module) + submodules + sorted(aliases)

    def __getattr__(name: str):
        if name in name_to_module:
            value = getattr(importlib.import_module(f".{name_to_module[name]}", package), name)
        elif name in submodules:
            value = importlib.import_module(f".{name}", package)
        elif name in aliases:
            value = importlib.import_module(f".{aliases[name]}", package)
        else:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return value

    def __dir__():
        return sorted(public)

    return __getattr__, __dir__, public
