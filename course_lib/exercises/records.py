"""Answers as plain data: what a graded kernel writes and what the grader reads back, with limits.

In a graded run (and in the self-check) the student's kernel never sees an expected
value: :func:`course_lib.exercises.check` only *calls the answer* on each case's inputs
and writes what came back with :func:`write_record`. The grader, in its own process,
reads the records with :func:`read_record` and compares them with the expected values it
computes itself. A record is one JSON file (the structure) and ``.npy`` files (the
arrays), never a pickle:

* ``None``, ``bool``, ``int``, ``float``, ``str`` are JSON values;
* ``{"list": [...]}``, ``{"tuple": [...]}``, ``{"dict": [[key, value], ...]}`` (keys: str or int);
* ``{"array": i}`` and ``{"scalar": i}``: the ``i``-th ``.npy`` file (numbers and booleans only);
  a torch tensor is written as its array and reads back as a NumPy array;
* ``{"unsupported": "TypeName"}``: a value that is none of the above (the comparison
  reports it); ``{"raised": "..."}``: the answer raised instead of returning.

:func:`read_record` refuses anything else: files larger than the limits, more than
:data:`MAX_ARRAYS` arrays, dtypes other than booleans and numbers, nesting deeper than
:data:`MAX_DEPTH`. It never unpickles and never calls code from the record.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["RecordError", "Unsupported", "Raised", "MAX_DEPTH", "MAX_ARRAYS", "MAX_RECORD_BYTES", "plain", "encode",
           "decode", "record_files", "write_record", "read_record", "write_inputs", "read_inputs"]

MAX_DEPTH = 12
MAX_ARRAYS = 64
MAX_NODES = 100_000
MAX_JSON_BYTES = 4 * 2**20
MAX_RECORD_BYTES = 64 * 2**20  # all the files of one record together
_KINDS = "biufc"


class RecordError(ValueError):
    """A record that breaks the format or its limits (the message says which rule)."""


class Unsupported:
    """A value the record format cannot hold (its type's name is kept for the feedback)."""

    def __init__(self, type_name: str):
        self.type_name = str(type_name)[:80]

    def __repr__(self):
        return f"<a {self.type_name}>"

    def __eq__(self, other):
        return isinstance(other, Unsupported) and other.type_name == self.type_name


class Raised:
    """The answer raised instead of returning; ``message`` says what (cut to a readable size)."""

    def __init__(self, message: str):
        self.message = str(message)[:2000]

    def __eq__(self, other):
        return isinstance(other, Raised) and other.message == self.message


def _as_array(value) -> np.ndarray | None:
    """``value`` as a NumPy array of numbers or booleans, or None if it is not one."""
    if isinstance(value, np.ndarray):
        arr = value
    elif type(value).__module__.split(".")[0] == "torch" and hasattr(value, "detach"):
        try:
            arr = value.detach().cpu().numpy()
        except Exception:  # e.g. a tensor subclass that refuses
            return None
    elif hasattr(value, "__array__") and not isinstance(value, (list, tuple, dict, str, bytes)):
        try:
            arr = np.asarray(value)
        except Exception:
            return None
    else:
        return None
    return np.array(arr, copy=True) if arr.dtype.kind in _KINDS else None


def encode(value: Any) -> tuple[Any, list[np.ndarray]]:
    """``value`` as a JSON-able tree and the arrays it refers to (see the module's docstring).

    Parameters
    ----------
    value : object
        What an answer returned.

    Returns
    -------
    tree : object
        JSON-able structure.
    arrays : list of numpy.ndarray
        The arrays, by the index the tree gives them.
    """
    arrays: list[np.ndarray] = []
    count = [0]

    def enc(v, depth):
        count[0] += 1
        if depth > MAX_DEPTH or count[0] > MAX_NODES or len(arrays) >= MAX_ARRAYS:
            return {"unsupported": "structure too large or too deep"}
        if isinstance(v, Unsupported):
            return {"unsupported": v.type_name}
        if isinstance(v, Raised):
            return {"raised": v.message}
        if v is None or isinstance(v, (bool, str)):
            return v if not isinstance(v, str) else v[:10_000]
        if isinstance(v, int):
            return v if abs(v) < 10**300 else {"unsupported": "int too large"}
        if isinstance(v, float):
            return {"float": repr(v)} if v != v or v in (float("inf"), float("-inf")) else v
        if isinstance(v, np.generic) and v.dtype.kind in _KINDS:
            arrays.append(np.asarray(v))
            return {"scalar": len(arrays) - 1}
        if isinstance(v, (list, tuple)):
            return {type(v).__name__ if type(v) in (list, tuple) else "list": [enc(x, depth + 1) for x in v]}
        if isinstance(v, dict):
            items = []
            for k, x in v.items():
                if not isinstance(k, (str, int)) or isinstance(k, bool):
                    return {"unsupported": f"dict with a {type(k).__name__} key"}
                items.append([k, enc(x, depth + 1)])
            return {"dict": items}
        arr = _as_array(v)
        if arr is not None:
            arrays.append(arr)
            return {"array": len(arrays) - 1}
        return {"unsupported": type(v).__name__}

    return enc(value, 0), arrays


def decode(tree: Any, arrays: list[np.ndarray]) -> Any:
    """The value :func:`encode` encoded, rebuilt from plain data only.

    Parameters
    ----------
    tree : object
        The JSON structure.
    arrays : list of numpy.ndarray
        The arrays it refers to.

    Returns
    -------
    object
        Lists, tuples, dicts, numbers, strings, NumPy arrays and scalars, :class:`Unsupported`
        and :class:`Raised` markers.

    Raises
    ------
    RecordError
        If the tree is not in the format, or refers to an array that is not there.
    """
    count = [0]

    def dec(t, depth):
        count[0] += 1
        if depth > MAX_DEPTH + 1 or count[0] > MAX_NODES:
            raise RecordError(f"a record may nest at most {MAX_DEPTH} levels and hold {MAX_NODES} values")
        if t is None or isinstance(t, (bool, int, float, str)):
            return t
        if not isinstance(t, dict) or len(t) != 1:
            raise RecordError(f"a record node must be a JSON value or a one-key object, got {type(t).__name__}")
        (kind, body), = t.items()
        if kind in ("list", "tuple") and isinstance(body, list):
            items = [dec(x, depth + 1) for x in body]
            return items if kind == "list" else tuple(items)
        if kind == "dict" and isinstance(body, list):
            if not all(isinstance(p, list) and len(p) == 2 and isinstance(p[0], (str, int)) for p in body):
                raise RecordError("a dict node must hold [key, value] pairs with str or int keys")
            return {k: dec(x, depth + 1) for k, x in body}
        if kind in ("array", "scalar") and isinstance(body, int) and not isinstance(body, bool):
            if not 0 <= body < len(arrays):
                raise RecordError(f"the record refers to array {body}, it has {len(arrays)}")
            return arrays[body][()] if kind == "scalar" else arrays[body]
        if kind == "float" and body in ("nan", "inf", "-inf"):
            return float(body)
        if kind == "unsupported" and isinstance(body, str):
            return Unsupported(body)
        if kind == "raised" and isinstance(body, str):
            return Raised(body)
        raise RecordError(f"unknown record node {kind!r}")

    return dec(tree, 0)


def plain(value: Any) -> Any:
    """``value`` as the grader will see it: encoded and decoded, in memory.

    Parameters
    ----------
    value : object
        What an answer returned.

    Returns
    -------
    object
        The same plain data :func:`read_record` would return for it.
    """
    return decode(*encode(value))


def record_files(stem: str, value: Any) -> dict[str, bytes]:
    """The files of the record ``stem`` holding ``value``: ``{name: bytes}`` (what :func:`write_record` writes).

    Parameters
    ----------
    stem : str
        The record's name.
    value : object
        Plain data (see the module's docstring).

    Returns
    -------
    dict of str -> bytes
        ``"<stem>.json"`` and one ``"<stem>.<i>.npy"`` per array.
    """
    tree, arrays = encode(value)
    files = {}
    for i, arr in enumerate(arrays):
        buf = io.BytesIO()
        np.save(buf, arr, allow_pickle=False)
        files[f"{stem}.{i}.npy"] = buf.getvalue()
    files[f"{stem}.json"] = json.dumps({"tree": tree, "arrays": len(arrays)}, allow_nan=False).encode()
    return files


def _stem_and_folder(stem, folder, name: str = "folder"):
    if not isinstance(stem, str) or not stem or "/" in stem or "\\" in stem:
        raise TypeError(f"stem must be a non-empty str without a path separator, got {stem!r:.60}.")
    if folder is None or isinstance(folder, Mapping):
        return folder
    from .._validation import check_path

    folder = check_path(name, folder)
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"{name} == {str(folder)!r} is a file, must be a folder.")
    return folder


def _write(folder: Path, files: dict[str, bytes]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in sorted(files.items(), key=lambda kv: kv[0].endswith(".json")):  # the .json last
        tmp = folder / f".{name}.tmp"
        tmp.write_bytes(data)
        os.replace(tmp, folder / name)


def write_record(folder, stem: str, value: Any) -> None:
    """Write ``value`` as the record ``folder/stem.json`` + ``.npy`` files.

    Parameters
    ----------
    folder : str or path
        Where the record goes (created).
    stem : str
        The record's name (the case's number).
    value : object
        What the answer returned (a :class:`Raised` marker if it raised).
    """
    _write(_stem_and_folder(stem, folder), record_files(stem, value))


def _get(source, name: str, limit: int) -> bytes | None:
    """The bytes of file ``name`` of ``source`` (a folder, or a mapping name -> bytes), None if absent."""
    if isinstance(source, Mapping):
        data = source.get(name)
        if data is not None and len(data) > limit:
            raise RecordError(f"{name} is larger than {limit // 2**20} MB")
        return data
    path = Path(source) / name
    if path.is_symlink() or not path.is_file():
        return None
    if path.stat().st_size > limit:
        raise RecordError(f"{name} is larger than {limit // 2**20} MB")
    return path.read_bytes()


def _read_array(name: str, data: bytes) -> np.ndarray:
    f = io.BytesIO(data)
    try:
        version = np.lib.format.read_magic(f)
        header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                  else np.lib.format.read_array_header_2_0)(f)
    except (ValueError, OSError) as exc:
        raise RecordError(f"{name} is not a valid .npy file ({exc})") from None
    shape, _, dtype = header
    if (not isinstance(shape, tuple) or len(shape) > 32
            or not all(isinstance(d, int) and not isinstance(d, bool) and 0 <= d <= 2**40 for d in shape)):
        raise RecordError(f"{name} declares the shape {str(shape)[:80]}: it must be a tuple of at most 32 sizes "
                          f"from 0 to 2**40")
    n_items = 1
    for d in shape:  # Python ints: a product that overflows int64 is refused, not wrapped
        n_items *= d
    if dtype.kind not in _KINDS or dtype.hasobject or dtype.itemsize > 16 or dtype.fields:
        raise RecordError(f"{name} holds {dtype}: only booleans and numbers are accepted")
    if n_items * dtype.itemsize > len(data):
        raise RecordError(f"{name} is shorter than its header says")
    try:
        return np.load(io.BytesIO(data), allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise RecordError(f"{name} could not be read ({str(exc)[:80]})") from None


def read_record(source, stem: str) -> Any:
    """The value the record ``stem`` of ``source`` holds, read within the limits.

    Parameters
    ----------
    source : str, path or mapping of str -> bytes
        The record's folder, or its files by name (as a grading run returns them).
    stem : str
        Its name.

    Returns
    -------
    object
        As :func:`decode` returns.

    Raises
    ------
    FileNotFoundError
        If there is no such record.
    RecordError
        If it breaks the format or its limits.
    """
    source = _stem_and_folder(stem, source, "source")
    text = _get(source, f"{stem}.json", MAX_JSON_BYTES)
    if text is None:
        raise FileNotFoundError(f"{stem}.json")
    try:
        head = json.loads(text.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise RecordError(f"{stem}.json is not valid JSON ({str(exc)[:80]})") from None
    except RecursionError:  # nested deeper than the parser's stack: far beyond MAX_DEPTH
        raise RecordError(f"{stem}.json nests deeper than {MAX_DEPTH} levels") from None
    n = head.get("arrays") if isinstance(head, dict) else None
    if not isinstance(n, int) or isinstance(n, bool) or not 0 <= n <= MAX_ARRAYS:
        raise RecordError(f"{stem}.json: 'arrays' must be an int from 0 to {MAX_ARRAYS}")
    budget = MAX_RECORD_BYTES
    arrays = []
    for i in range(n):
        name = f"{stem}.{i}.npy"
        data = _get(source, name, budget)
        if data is None:
            raise RecordError(f"{name} is missing")
        budget -= len(data)
        arrays.append(_read_array(name, data))
    return decode(head.get("tree"), arrays)


def write_inputs(folder, args: tuple | None) -> None:
    """Write a case's inputs (a tuple of plain data) where a graded kernel reads them.

    Parameters
    ----------
    folder : str or path
        The case's folder.
    args : tuple or None
        The inputs; None for a case whose answer is a value, not called.
    """
    _write(Path(folder), record_files("inputs", None if args is None else tuple(args)))


def read_inputs(folder) -> tuple | None:
    """The inputs :func:`write_inputs` wrote (None: the answer is a value).

    Parameters
    ----------
    folder : str or path
        The case's folder.

    Returns
    -------
    tuple or None
        The inputs.

    Raises
    ------
    RecordError
        If they are not a tuple (or None) in the record format.
    """
    args = read_record(folder, "inputs")
    if args is not None and not isinstance(args, tuple):
        raise RecordError("a case's inputs must be a tuple")
    return args
