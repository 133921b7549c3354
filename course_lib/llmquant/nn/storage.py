"""A quantized Vision Transformer as one binary file, and read back with every field checked.

Layout (little-endian)::

    b"QVIT\\r\\n\\x1a\\n"            8 bytes of magic
    header length                 uint32
    header                        UTF-8 JSON: {"format": 1, "heads": [...], "layers": [...]}
    per quantized layer           packed codes, float16 scales, packed zero points (asymmetric),
                                  float16 input scales (AWQ)
    every other tensor            float32, in the model's state_dict order

``heads`` is the number of heads of each block (a head-pruned model is smaller); ``layers`` has one entry
per block Linear of that model (:func:`~course_lib.llmquant.nn.capture.vit_linears`' order): None for a
float layer (its weight is then among the float32 tensors), else
``[bits, group_size, out_features, in_features, symmetric, awq]``. Codes and zero points are
``bits``-bit streams (:func:`~course_lib.llmquant.groupwise.pack_bits`; symmetric codes offset by
``2^{bits-1}``), so the file is :attr:`QuantizedViT.bytes` plus the magic and the header.

The reader trusts nothing: no pickle, the file size and header size are bounded before anything is
read, every header field's type and range is checked against the model its ``heads`` describe, the
file's length must be exactly what the header implies, and the values (codes in range, scales
positive and finite, float tensors finite) are checked before a model is built. A bad file raises
ValueError saying what is wrong.
"""

from __future__ import annotations

import json
import os
import struct
import tempfile

import numpy as np
import torch

from ..._validation import check_path
from ...models import MnistViT
from ..groupwise import GroupQuant, pack_bits, unpack_bits
from .capture import vit_linears
from .weight_only import QuantizedViT, effective_weight

__all__ = ["save_quantized_vit", "load_quantized_vit"]

#: "QVIT", then bytes that a text-mode copy would change (as PNG's signature)
MAGIC = b"QVIT\r\n\x1a\n"
FORMAT = 1
#: the largest header and file the reader accepts (a float32 MnistViT is 556 KB)
MAX_HEADER = 16384
MAX_FILE = 8 * 2 ** 20


def _heads(model) -> list[int]:
    return [int(block.attn.heads) for block in model.blocks]


def _float_keys(model, quantized_names) -> list[str]:
    """The state_dict keys saved as float32: all but the quantized Linears' weights."""
    skip = {name + ".weight" for name in quantized_names}
    return [key for key in model.state_dict() if key not in skip]


def save_quantized_vit(quantized: QuantizedViT, path) -> None:
    """Write ``quantized`` (a :class:`~course_lib.llmquant.nn.weight_only.QuantizedViT`) to ``path``, atomically.

    Parameters
    ----------
    quantized : QuantizedViT
        :func:`~course_lib.llmquant.nn.weight_only.quantize_vit`'s result (any bits, float blocks,
        head-pruned model).
    path : str or path
        The file to write; its folder must exist. Written to a temporary file first, then renamed.

    Raises
    ------
    TypeError, ValueError
        If ``quantized`` is not a QuantizedViT of a MnistViT, or ``path`` is not a path in an existing folder.
    """
    if not isinstance(quantized, QuantizedViT):
        raise TypeError(f"quantized must be a QuantizedViT (quantize_vit's result), got {type(quantized).__name__}.")
    path = check_path("path", path, parent_must_exist=True)
    model = quantized.model
    if not isinstance(model, MnistViT):
        raise TypeError(f"quantized.model must be a MnistViT, got {type(model).__name__}.")
    linears = vit_linears(model)
    entries, chunks = [], []
    for name, linear in linears.items():
        quant = quantized.layers.get(name)
        if quant is None:
            entries.append(None)
            continue
        scale = quantized.input_scales.get(name)
        out, columns = linear.weight.shape
        entries.append([quant.bits, quant.group_size, out, columns, quant.symmetric, scale is not None])
        offset = 2 ** (quant.bits - 1) if quant.symmetric else 0
        chunks.append(pack_bits(quant.codes.astype(np.int64) + offset, quant.bits))
        chunks.append(np.ascontiguousarray(quant.scales, dtype="<f2").tobytes())
        if not quant.symmetric:
            chunks.append(pack_bits(quant.zero_points, quant.bits))
        if scale is not None:
            chunks.append(np.ascontiguousarray(scale, dtype="<f2").tobytes())
    state = model.state_dict()
    for key in _float_keys(model, quantized.layers):
        chunks.append(state[key].detach().cpu().numpy().astype("<f4").tobytes())
    header = json.dumps({"format": FORMAT, "heads": _heads(model), "layers": entries},
                        separators=(",", ":")).encode()
    handle = tempfile.NamedTemporaryFile(dir=path.parent, prefix=path.name + ".", suffix=".tmp", delete=False)
    try:
        with handle:
            handle.write(MAGIC + struct.pack("<I", len(header)) + header)
            for chunk in chunks:
                handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(handle.name, path)
    except BaseException:
        os.unlink(handle.name)
        raise


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


def _parse_header(data: bytes) -> dict:
    """The checked header of the file's bytes ``data``; its end offset in ``header['start']``."""
    if len(data) < len(MAGIC) + 4 or data[:len(MAGIC)] != MAGIC:
        raise ValueError(f"not a quantized ViT file: it must start with the magic bytes {MAGIC!r}.")
    (size,) = struct.unpack_from("<I", data, len(MAGIC))
    start = len(MAGIC) + 4 + size
    if size > MAX_HEADER or start > len(data):
        raise ValueError(f"header length {size} is too large (at most {MAX_HEADER} bytes, within the file).")
    try:
        header = json.loads(data[len(MAGIC) + 4:start].decode("utf-8"), parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise ValueError(f"header is not valid UTF-8 JSON: {error}") from None
    if not isinstance(header, dict) or set(header) != {"format", "heads", "layers"}:
        raise ValueError("header must be a JSON object with exactly the keys 'format', 'heads', 'layers'.")
    if header["format"] != FORMAT or not _is_int(header["format"]):
        raise ValueError(f"header format is {header['format']!r}, this reader knows format {FORMAT}.")
    heads = header["heads"]
    if (not isinstance(heads, list) or len(heads) != MnistViT.depth
            or not all(_is_int(h) and 0 <= h <= 4 for h in heads)):
        raise ValueError(f"header heads is {heads!r}, must be a list of {MnistViT.depth} ints in 0..4.")
    header["start"] = start
    return header


def _check_entry(i: int, entry, shape) -> tuple | None:
    """Layer ``i``'s header entry checked against the model's weight ``shape``."""
    if entry is None:
        return None
    if not isinstance(entry, list) or len(entry) != 6:
        raise ValueError(f"header layers[{i}] must be null or [bits, group_size, out, in, symmetric, awq].")
    bits, group_size, out, columns, symmetric, awq = entry
    if not all(_is_int(v) for v in (bits, group_size, out, columns)) or not all(
            isinstance(v, bool) for v in (symmetric, awq)):
        raise ValueError(f"header layers[{i}] == {entry!r}: bits, group_size, out, in must be ints and "
                         f"symmetric, awq booleans.")
    if not 2 <= bits <= 8:
        raise ValueError(f"header layers[{i}] has bits {bits}, must be in 2..8.")
    if (out, columns) != tuple(shape):
        raise ValueError(f"header layers[{i}] has shape {(out, columns)}, the model with these heads has "
                         f"{tuple(shape)}.")
    if group_size < 1 or columns % group_size:
        raise ValueError(f"header layers[{i}] has group_size {group_size}, must be >= 1 and divide {columns}.")
    return bits, group_size, out, columns, symmetric, awq


def _layer_sizes(bits, group_size, out, columns, symmetric, awq) -> list[int]:
    n_scales = out * (columns // group_size)
    return [-(-out * columns * bits // 8), 2 * n_scales, 0 if symmetric else -(-n_scales * bits // 8),
            2 * columns if awq else 0]


def _finite(name: str, values: np.ndarray, positive: bool = False) -> np.ndarray:
    if not np.all(np.isfinite(values)) or (positive and np.any(values <= 0)):
        rule = "positive and finite" if positive else "finite"
        raise ValueError(f"{name} holds values that are not {rule}: the file is corrupt.")
    return values


def load_quantized_vit(path):
    """Read a file of :func:`save_quantized_vit`: ``(model, nbytes)``.

    Parameters
    ----------
    path : str or path
        An existing file.

    Returns
    -------
    model : MnistViT
        In eval mode, with the effective weights (the same logits as the saved ``QuantizedViT.model``).
    nbytes : int
        The file's size in bytes.

    Raises
    ------
    TypeError, ValueError
        If ``path`` is not an existing file, or the file is not a valid quantized ViT (the message says why).
    """
    path = check_path("path", path, must_exist=True)
    nbytes = path.stat().st_size
    if nbytes > MAX_FILE:
        raise ValueError(f"file has {nbytes} bytes, a quantized ViT has at most {MAX_FILE}: not such a file.")
    data = path.read_bytes()
    header = _parse_header(data)
    model = MnistViT(heads=header["heads"])
    linears = vit_linears(model)
    entries = header["layers"]
    if not isinstance(entries, list) or len(entries) != len(linears):
        raise ValueError(f"header layers must be a list of {len(linears)} entries (one per block Linear of a model "
                         f"with heads {header['heads']}).")
    plan = {}
    for i, (name, linear) in enumerate(linears.items()):
        spec = _check_entry(i, entries[i], linear.weight.shape)
        if spec is not None:
            plan[name] = spec
    state = model.state_dict()
    float_keys = _float_keys(model, plan)
    expected = header["start"] + sum(sum(_layer_sizes(*spec)) for spec in plan.values())
    expected += sum(4 * state[key].numel() for key in float_keys)
    if len(data) != expected:
        raise ValueError(f"file has {len(data)} bytes, its header describes {expected}: truncated or padded.")

    pos = header["start"]

    def take(size):
        nonlocal pos
        pos += size
        return data[pos - size:pos]

    weights = {}
    for name, (bits, group_size, out, columns, symmetric, awq) in plan.items():
        code_bytes, scale_bytes, zero_bytes, awq_bytes = _layer_sizes(bits, group_size, out, columns, symmetric, awq)
        codes = unpack_bits(take(code_bytes), bits, out * columns).reshape(out, columns)
        if symmetric:
            if np.any(codes == 0):
                raise ValueError(f"{name}'s codes hold -2^{bits - 1}, outside the symmetric range: the file is "
                                 f"corrupt.")
            codes = codes - 2 ** (bits - 1)
        scales = _finite(f"{name}'s scales", np.frombuffer(take(scale_bytes), "<f2").reshape(out, -1), True)
        zeros = (np.zeros(scales.shape, dtype=np.int64) if symmetric
                 else unpack_bits(take(zero_bytes), bits, scales.size).reshape(scales.shape))
        scale = _finite(f"{name}'s input scales", np.frombuffer(take(awq_bytes), "<f2"), True) if awq else None
        quant = GroupQuant(codes.astype(np.int16), scales.astype(np.float16), zeros.astype(np.int16), group_size,
                           bits, symmetric)
        weights[name + ".weight"] = torch.from_numpy(effective_weight(quant, scale).astype(np.float32))
    for key in float_keys:
        values = np.frombuffer(take(4 * state[key].numel()), "<f4").astype(np.float32)
        weights[key] = torch.from_numpy(_finite(key, values).reshape(tuple(state[key].shape)))
    model.load_state_dict(weights)
    return model.eval(), nbytes
