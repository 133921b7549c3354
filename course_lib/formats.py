"""The storage-format registry: how many bytes the numbers of a model take in each format.

Torch-free. :func:`storage_bytes` looks a format up by name; each technique
registers its own formats with :func:`register_format` when its storage module is
imported (``"csr"``, ``"bitmask"`` by :mod:`course_lib.pruning.storage`; ``"int8"``,
``"int8_per_channel"``, ``"float16"`` by :mod:`course_lib.quantization.storage`), and a
name that is not registered yet makes :func:`storage_bytes` import those modules first.
(Factorized layers are counted by their own float32 factors, ``"float32"``.)

What is counted, for every format: the numbers only (no file headers, no names), so
the figure is what any serialisation must at least pay. For a model, its parameters
(weights and biases; not buffers such as batch-norm statistics). In the quantized
formats **only arrays of 2 or more dimensions (weights) are quantized; 1-D and 0-D
arrays (biases) stay float32** -- the rule of :mod:`course_lib.quantization.storage`,
shared with :func:`course_lib.quantization.nn.model_bytes`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

import numpy as np

from ._validation import check_choice, is_tensor, to_numpy

__all__ = ["STORAGE_FORMATS", "register_format", "storage_bytes", "available_formats", "arrays_of", "dense_bytes"]


def dense_bytes(itemsize: int) -> Callable[[np.ndarray], int]:
    """A format that stores every number in ``itemsize`` bytes."""
    def size(arr: np.ndarray) -> int:
        return int(np.size(arr)) * itemsize
    return size


STORAGE_FORMATS: dict[str, Callable[[np.ndarray], int]] = {
    "float32": dense_bytes(4),
    "float64": dense_bytes(8),
}

# modules that register more formats when imported (sparse, quantized, low-rank, ...)
FORMAT_PROVIDERS = ("course_lib.pruning.storage", "course_lib.quantization.storage")


def _load_format_providers() -> None:
    for module in FORMAT_PROVIDERS:  # each exists: an import error is a real error, never swallowed
        importlib.import_module(module)


def available_formats() -> tuple[str, ...]:
    """The names of every storage format, after importing the modules that register theirs.

    Returns
    -------
    tuple of str
        In alphabetical order, so that messages do not depend on which module was imported first.
    """
    _load_format_providers()
    return tuple(sorted(STORAGE_FORMATS))


def arrays_of(obj) -> list[np.ndarray]:
    """The arrays held by a model, a state dict, a tensor, an array or a list of them.

    A ``torch.nn.Module`` gives its ``parameters()`` (not its buffers).
    """
    if hasattr(obj, "parameters") and hasattr(obj, "state_dict") and callable(obj.parameters):
        return [p.detach().cpu().numpy() for p in obj.parameters()]
    if is_tensor(obj):
        return [to_numpy(obj)]
    if isinstance(obj, dict):
        return [a for v in obj.values() for a in arrays_of(v)]
    if isinstance(obj, (list, tuple)) and not (obj and np.isscalar(obj[0])):
        return [a for v in obj for a in arrays_of(v)]
    if isinstance(obj, str):
        raise TypeError(f"obj must be a torch model, a tensor, an array or a list/dict of them, got str ({obj!r}).")
    try:
        arr = np.asarray(obj)
    except ValueError:
        raise ValueError("obj is a ragged nested list (rows of different lengths), must be rectangular.") from None
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(f"obj must be a torch model, a tensor, an array or a list/dict of them, "
                        f"got {type(obj).__name__}.")
    return [arr]


def register_format(name: str, bytes_of_array: Callable[[np.ndarray], int]) -> None:
    """Add a storage format.

    Parameters
    ----------
    name : str
        The format's name, as passed to :func:`storage_bytes`.
    bytes_of_array : callable
        ``bytes_of_array(array) -> int``: the bytes of one weight array in this format.

    Raises
    ------
    TypeError
        If ``name`` is not a non-empty string or ``bytes_of_array`` is not callable.
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"name must be a non-empty str, got {name!r}.")
    if not callable(bytes_of_array):
        raise TypeError(f"bytes_of_array must be callable, got {type(bytes_of_array).__name__}.")
    STORAGE_FORMATS[name] = bytes_of_array


def storage_bytes(obj, fmt: str = "float32") -> int:
    """Bytes needed to store the parameters of ``obj`` in format ``fmt``.

    Parameters
    ----------
    obj : torch.nn.Module, tensor, array, or a list or dict of them
        A model counts its ``parameters()``.
    fmt : str
        ``"float32"`` (4 bytes per parameter, the dense baseline every other format is
        compared with), ``"float64"``, or a registered format (``"csr"``, ``"bitmask"``,
        ``"int8"``, ``"int8_per_channel"``, ``"float16"``, ...).

    Returns
    -------
    int
        The numbers only -- no file headers, no names. In the int8 formats only arrays
        of 2 or more dimensions are quantized; biases stay float32.

    Raises
    ------
    TypeError
        If ``obj`` holds something that is not numbers, or ``fmt`` is not a str.
    ValueError
        If ``fmt`` is not a registered format.

    Examples
    --------
    >>> storage_bytes(np.zeros((300, 784))), storage_bytes([np.zeros((3, 4)), np.zeros(3)], "int8")
    (940800, 28)
    """
    check_choice("fmt", fmt, tuple(STORAGE_FORMATS) if fmt in STORAGE_FORMATS else available_formats())
    size = STORAGE_FORMATS[fmt]
    return int(sum(size(a) for a in arrays_of(obj)))
