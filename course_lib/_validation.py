"""Every argument check of the public API, written once.

Each public function of ``course_lib`` -- NumPy and PyTorch side alike -- validates
its arguments with these helpers, at the boundary, so that a wrong call fails with
a message that names the parameter, the value it got and the rule it broke, in
the style of ``sklearn.utils.validation``::

    TypeError: limit must be an int or None, got str ('10').
    ValueError: limit == -1, must be >= 0.

``TypeError`` for a wrong type, ``ValueError`` for a wrong value, shape or range.
The module never imports PyTorch: a check that meets a tensor finds torch in
``sys.modules`` (a tensor cannot exist without it).
"""

from __future__ import annotations

import math
import numbers
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

__all__ = [
    "short_repr",
    "is_tensor",
    "to_numpy",
    "check_choice",
    "check_int",
    "check_bits",
    "check_float",
    "check_positive_float",
    "check_fraction",
    "check_bool",
    "check_text",
    "check_names",
    "check_float_array",
    "check_float_values",
    "check_int_array",
    "check_axis",
    "check_random_state",
    "check_model",
    "check_labels",
    "check_path",
    "check_tensor",
]


def short_repr(value) -> str:
    """``repr(value)``, cut to 60 characters for error messages."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _got(value) -> str:
    return f"got {type(value).__name__} ({short_repr(value)})"


def is_tensor(value) -> bool:
    """Whether ``value`` is a ``torch.Tensor`` (without importing torch)."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(value, torch.Tensor)


def to_numpy(value) -> np.ndarray:
    """A NumPy array of ``value``: tensors are detached and copied to the CPU first.

    Ragged nested lists (rows of different lengths) raise a ``ValueError`` instead of
    becoming an array of objects.
    """
    if is_tensor(value):
        return value.detach().cpu().numpy()
    if isinstance(value, np.ndarray):
        return value
    try:
        return np.asarray(value)
    except ValueError as exc:  # NumPy >= 1.24 refuses ragged nested sequences
        raise ValueError(f"the value is a ragged nested sequence (rows of different lengths), "
                         f"must be rectangular: {exc}") from None


def check_choice(name: str, value, allowed) -> object:
    """Return ``value`` if it is one of ``allowed``, else raise.

    Raises
    ------
    TypeError
        If ``value`` is not a string while every allowed value is.
    ValueError
        If ``value`` is not in ``allowed``.
    """
    allowed = tuple(allowed)
    if all(isinstance(a, str) for a in allowed) and not isinstance(value, str):
        raise TypeError(f"{name} must be a str, {_got(value)}.")
    if value not in allowed:
        options = ", ".join(repr(a) for a in allowed)
        raise ValueError(f"{name} == {value!r}, must be one of {options}.")
    return value


def check_int(name: str, value, *, minimum: int | None = None, maximum: int | None = None,
              allow_none: bool = False) -> int | None:
    """Return ``value`` as an ``int`` after checking its type and range.

    ``bool`` is rejected although it is an ``int`` subclass: ``limit=True`` is
    always a mistake.
    """
    if value is None and allow_none:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        kind = "an int or None" if allow_none else "an int"
        raise TypeError(f"{name} must be {kind}, {_got(value)}.")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} == {value}, must be >= {minimum}.")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} == {value}, must be <= {maximum}.")
    return value


def check_bits(bits, name: str = "bits") -> int:
    """A quantization code width: an int in 2..8."""
    return check_int(name, bits, minimum=2, maximum=8)


def check_float(name: str, value, *, low: float | None = None, high: float | None = None,
                low_open: bool = False, high_open: bool = False, allow_none: bool = False) -> float | None:
    """Return ``value`` as a finite ``float`` within ``[low, high]``.

    ``low_open``/``high_open`` exclude the ends: ``check_float("p", p, low=0, high=100,
    low_open=True)`` accepts ``(0, 100]`` and says so when it refuses.
    """
    if value is None and allow_none:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, {_got(value)}.")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} == {value}, must be finite.")
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    if too_low or too_high:
        if low is not None and high is not None:
            rule = f"in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
        elif low is not None:
            rule = f"{'>' if low_open else '>='} {low:g}"
        else:
            rule = f"{'<' if high_open else '<='} {high:g}"
        raise ValueError(f"{name} == {value}, must be {rule}.")
    return value


def check_positive_float(name: str, value, *, allow_zero: bool = False) -> float:
    """Return ``value`` as a finite ``float`` that is > 0 (or >= 0)."""
    return check_float(name, value, low=0.0, low_open=not allow_zero)


def check_fraction(name: str, value, *, allow_one: bool = True) -> float:
    """A fraction: a finite float in ``[0, 1]`` (``[0, 1)`` with ``allow_one=False``)."""
    return check_float(name, value, low=0.0, high=1.0, high_open=not allow_one)


def check_bool(name: str, value) -> bool:
    """``True`` or ``False`` (a NumPy bool too); ``"yes"``, ``1`` or ``None`` are refused."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, {_got(value)}.")
    return bool(value)


def check_text(name: str, value, *, allow_none: bool = False) -> str | None:
    """A ``str`` (or ``None`` with ``allow_none``): a caption, a label, a name."""
    if value is None and allow_none:
        return None
    if not isinstance(value, str):
        kind = "a str or None" if allow_none else "a str"
        raise TypeError(f"{name} must be {kind}, {_got(value)}.")
    return value


def check_names(name: str, value, *, allowed=None, allow_empty: bool = False) -> list[str]:
    """A sequence of strings (not a single string, which would be read letter by letter).

    With ``allowed``, each must be one of them; duplicates are refused.
    """
    if isinstance(value, str) or not isinstance(value, (Sequence, set, frozenset, np.ndarray)):
        hint = f" (write [{value!r}] for one name)" if isinstance(value, str) else ""
        raise TypeError(f"{name} must be a list or tuple of names, {_got(value)}{hint}.")
    names = list(value)
    for i, item in enumerate(names):
        if not isinstance(item, str):
            raise TypeError(f"{name}[{i}] must be a str, {_got(item)}.")
        if allowed is not None and item not in allowed:
            options = ", ".join(repr(a) for a in allowed)
            raise ValueError(f"{name}[{i}] == {item!r}, must be one of {options}.")
    if len(set(names)) != len(names):
        raise ValueError(f"{name} == {names!r} names something twice, each name must appear once.")
    if not names and not allow_empty:
        raise ValueError(f"{name} is empty, must name at least one.")
    return names


def _check_ndim(name: str, arr: np.ndarray, ndim) -> None:
    if ndim is None:
        return
    dims = (ndim,) if isinstance(ndim, int) else tuple(ndim)
    if arr.ndim not in dims:
        want = " or ".join(str(d) for d in dims)
        raise ValueError(f"{name} has {arr.ndim} dimension(s) (shape {arr.shape}), must have {want}.")


def _as_array(name: str, value) -> np.ndarray:
    try:
        return to_numpy(value)
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None


def check_float_array(name: str, value, *, ndim: int | tuple[int, ...] | None = None,
                      allow_empty: bool = False, finite: bool = True) -> np.ndarray:
    """Return ``value`` as a floating-point NumPy array after checking it.

    Integer arrays are accepted and converted to float64; booleans, complex
    numbers, strings and objects are rejected with a ``TypeError``. Tensors are
    converted with :func:`to_numpy`.
    """
    arr = _as_array(name, value)
    if arr.dtype == bool or not (np.issubdtype(arr.dtype, np.floating)
                                 or np.issubdtype(arr.dtype, np.integer)):
        raise TypeError(f"{name} must be an array of real numbers, got dtype {arr.dtype}.")
    if not np.issubdtype(arr.dtype, np.floating):
        arr = arr.astype(np.float64)
    _check_ndim(name, arr, ndim)
    if arr.size == 0 and not allow_empty:
        raise ValueError(f"{name} is empty (shape {arr.shape}), must have at least one element.")
    if finite and arr.size and not np.all(np.isfinite(arr)):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise ValueError(f"{name} contains {bad} NaN or infinite value(s), must be finite.")
    return arr


def check_float_values(name: str, value, *, ndim=None) -> np.ndarray:
    """A finite, non-empty array of floating-point numbers: integers are codes, not values."""
    arr = _as_array(name, value)
    if arr.dtype != bool and np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"{name} must be an array of floating-point numbers, got dtype {arr.dtype}.")
    return check_float_array(name, arr, ndim=ndim)


def check_int_array(name: str, value, *, ndim=None, dtype=None, low: int | None = None,
                    high: int | None = None, allow_empty: bool = False) -> np.ndarray:
    """A non-empty array of integers (exactly of ``dtype`` when given), each in ``[low, high]``."""
    arr = _as_array(name, value)
    if dtype is not None and arr.dtype != np.dtype(dtype):
        raise TypeError(f"{name} must be an {np.dtype(dtype)} array, got dtype {arr.dtype}.")
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"{name} must be an array of integers, got dtype {arr.dtype}.")
    _check_ndim(name, arr, ndim)
    if arr.size == 0 and not allow_empty:
        raise ValueError(f"{name} is empty (shape {arr.shape}), must have at least one element.")
    if arr.size and ((low is not None and arr.min() < low) or (high is not None and arr.max() > high)):
        bad = int(np.count_nonzero((arr < (low if low is not None else arr.min()))
                                   | (arr > (high if high is not None else arr.max()))))
        raise ValueError(f"{name} holds {bad} value(s) outside [{low}, {high}] (min {int(arr.min())}, "
                         f"max {int(arr.max())}), must be within it.")
    return arr


def check_axis(axis, ndim: int, name: str = "axis") -> int | None:
    """``None`` or an axis of an ``ndim``-dimensional array, normalised to ``0 .. ndim-1``."""
    axis = check_int(name, axis, allow_none=True)
    if axis is None:
        return None
    if ndim == 0:
        raise ValueError(f"{name} == {axis}, must be None for a 0-dimensional array.")
    if not -ndim <= axis < ndim:
        raise ValueError(f"{name} == {axis}, must be in [{-ndim}, {ndim - 1}] for an array with {ndim} dimension(s).")
    return axis % ndim


def check_random_state(rng, name: str = "rng") -> np.random.Generator:
    """``rng``: None, an int seed or a ``numpy.random.Generator`` -> a Generator."""
    if isinstance(rng, (bool, np.bool_)) or not (rng is None or isinstance(rng, (numbers.Integral,
                                                                                  np.random.Generator))):
        raise TypeError(f"{name} must be None, an int seed or a numpy.random.Generator, {_got(rng)}.")
    if isinstance(rng, numbers.Integral) and rng < 0:
        raise ValueError(f"{name} == {int(rng)}, must be >= 0 (a seed).")
    return np.random.default_rng(rng)


def check_model(model, name: str = "model"):
    """A ``torch.nn.Module``."""
    torch = sys.modules.get("torch")
    if torch is None or not isinstance(model, torch.nn.Module):
        raise TypeError(f"{name} must be a torch.nn.Module, got {type(model).__name__}.")
    return model


def check_labels(labels, n_images: int | None = None, *, num_classes: int | None = None,
                 name: str = "labels") -> np.ndarray:
    """Class indices: a 1-D integer array, as long as the images, each in ``[0, num_classes)``.

    ``(N, 1)`` columns and one-hot ``(N, C)`` matrices are refused with a hint
    (``y.ravel()`` / ``y.argmax(1)``): silently broadcasting them gives wrong accuracies.
    """
    arr = _as_array(name, labels)
    if arr.dtype == bool or not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"{name} must be an array of integer class indices, got dtype {arr.dtype} "
                        f"and shape {arr.shape}.")
    if arr.ndim != 1:
        hint = ""
        if arr.ndim == 2 and arr.shape[1] == 1:
            hint = " (a column: pass labels.ravel())"
        elif arr.ndim == 2:
            hint = " (one-hot? pass labels.argmax(1))"
        raise ValueError(f"{name} has shape {arr.shape}, must be 1-D (N,) class indices{hint}.")
    if n_images is not None and len(arr) != n_images:
        raise ValueError(f"images and {name} differ in length: {n_images} != {len(arr)}, must be equal.")
    if arr.size and arr.min() < 0:
        raise ValueError(f"{name} contains class {int(arr.min())}, must be >= 0.")
    if num_classes is not None and arr.size and arr.max() >= num_classes:
        raise ValueError(f"{name} contains class {int(arr.max())}, must be < {num_classes} "
                         f"(the model has {num_classes} outputs).")
    return arr


def check_path(name: str, value, *, must_exist: bool = False, parent_must_exist: bool = False) -> Path:
    """A file system path (``str`` or ``os.PathLike``) as a ``Path``.

    ``must_exist``: the file must be there; ``parent_must_exist``: the folder to write into must.
    """
    if isinstance(value, bytes) or not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"{name} must be a str or a path, {_got(value)}.")
    path = Path(value)
    if str(value) == "":
        raise ValueError(f"{name} is an empty string, must name a file.")
    if must_exist and not path.is_file():
        what = "a folder" if path.is_dir() else "missing"
        raise ValueError(f"{name} == {str(path)!r} is {what}, must be an existing file.")
    if parent_must_exist and not path.parent.is_dir():
        raise ValueError(f"{name} == {str(path)!r}: the folder {str(path.parent)!r} does not exist, "
                         f"create it first.")
    return path


def check_tensor(name: str, value):
    """A finite, non-empty floating-point ``torch.Tensor`` (a NumPy array is converted)."""
    if isinstance(value, np.ndarray):
        import torch  # only torch-side code passes arrays here

        value = torch.from_numpy(value)
    if not is_tensor(value):
        raise TypeError(f"{name} must be a torch tensor or a NumPy array, got {type(value).__name__}.")
    if not value.is_floating_point():
        raise TypeError(f"{name} must hold floating-point numbers, got dtype {value.dtype}.")
    if value.numel() == 0:
        raise ValueError(f"{name} is empty (shape {tuple(value.shape)}), must have at least one element.")
    if not bool(value.isfinite().all()):
        raise ValueError(f"{name} contains NaN or infinite values, must be finite.")
    return value
