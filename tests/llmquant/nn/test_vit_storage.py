"""A quantized ViT as a file: exact round trip, size = stored bytes + header, and hostile files refused."""

import json
import pickle
import struct

import numpy as np
import pytest
import torch

import course_lib as cl
from course_lib.llmquant.nn.storage import MAGIC, load_quantized_vit, save_quantized_vit
from course_lib.llmquant.nn.weight_only import quantize_vit
from course_lib.models import MnistViT


@pytest.fixture(scope="module")
def calib():
    return cl.load_mnist("train", limit=8).images


@pytest.fixture(scope="module")
def saved(tmp_path_factory, calib):
    """A 4-bit RTN file of a random ViT, its bytes and the QuantizedViT."""
    torch.manual_seed(1)
    q = quantize_vit(MnistViT().eval(), calib, method="rtn", bits=4, group_size=32)
    path = tmp_path_factory.mktemp("vit") / "q.bin"
    save_quantized_vit(q, path)
    return path.read_bytes(), q


@pytest.mark.parametrize("heads, kwargs", [
    (4, dict(method="rtn", bits=4, group_size=32)),
    (4, dict(method="awq", bits=3, group_size=16, symmetric=False)),
    ([4, 2, 0, 3], dict(method="gptq", bits=[3, None, 4, 8], group_size=16)),
    ([1, 4, 4, 2], dict(method="rtn", bits=2, group_size=None, symmetric=False)),
])
def test_round_trip(tmp_path, calib, heads, kwargs):
    torch.manual_seed(2)
    q = quantize_vit(MnistViT(heads=heads).eval(), calib, **kwargs)
    path = tmp_path / "model.clq"
    save_quantized_vit(q, path)
    model, nbytes = load_quantized_vit(path)
    assert nbytes == path.stat().st_size and path.read_bytes()[:4] == b"QVIT"
    assert 0 < nbytes - q.bytes <= 1024  # the magic and the header
    assert isinstance(model, MnistViT) and not model.training
    assert [b.attn.heads for b in model.blocks] == [b.attn.heads for b in q.model.blocks]
    x = cl.to_tensor(calib)
    with torch.no_grad():
        assert torch.equal(model(x), q.model(x))
    assert [p.name for p in tmp_path.iterdir()] == ["model.clq"]  # no temporary file left
    save_quantized_vit(q, str(path))  # overwrites
    assert path.stat().st_size == nbytes


def _split(data: bytes):
    (size,) = struct.unpack_from("<I", data, len(MAGIC))
    start = len(MAGIC) + 4 + size
    return json.loads(data[len(MAGIC) + 4:start]), data[start:]


def _join(header, body: bytes, raw: bytes | None = None) -> bytes:
    text = json.dumps(header).encode() if raw is None else raw
    return MAGIC + struct.pack("<I", len(text)) + text + body


def _edit_header(data, **changes):
    header, body = _split(data)
    header.update(changes)
    return _join(header, body)


def _edit_layer(data, index, position, value):
    header, body = _split(data)
    header["layers"][index][position] = value
    return _join(header, body)


def _flip_tail(data, value: bytes):
    return data[:-len(value)] + value  # the last float32 tensor is the head's bias


def _first_code_byte(data, byte: int):
    header, body = _split(data)
    return _join(header, bytes([byte]) + body[1:])


def _scale(data, value):
    header, body = _split(data)
    codes = 64 * 64 * 4 // 8  # blocks.0.attn.q's codes, then its float16 scales
    return _join(header, body[:codes] + np.float16(value).tobytes() + body[codes + 2:])


CORRUPTIONS = {
    "empty": (lambda d: b"", "magic"),
    "magic": (lambda d: b"QVIT\n\x1a\n" + d[8:], "magic"),
    "pickle": (lambda d: pickle.dumps({"weights": [1, 2]}), "magic"),
    "huge header length": (lambda d: d[:8] + struct.pack("<I", 2 ** 32 - 1) + d[12:], "header length"),
    "not utf-8": (lambda d: _join(None, _split(d)[1], b"\xff\xfe{}"), "UTF-8 JSON"),
    "not json": (lambda d: _join(None, _split(d)[1], b"{heads: 4"), "UTF-8 JSON"),
    "nan constant": (lambda d: _join(None, _split(d)[1], b'{"format": NaN}'), "JSON"),
    "deep nesting": (lambda d: _join(None, _split(d)[1], b"[" * 5000 + b"]" * 5000), "JSON"),
    "a list": (lambda d: _join(None, _split(d)[1], b"[1, 2]"), "exactly the keys"),
    "extra key": (lambda d: _edit_header(d, code="import os"), "exactly the keys"),
    "format": (lambda d: _edit_header(d, format=2), "format"),
    "heads count": (lambda d: _edit_header(d, heads=[4, 4, 4]), "heads"),
    "heads value": (lambda d: _edit_header(d, heads=[4, 4, 4, 7]), "heads"),
    "heads bool": (lambda d: _edit_header(d, heads=[True, 4, 4, 4]), "heads"),
    "heads mismatch": (lambda d: _edit_header(d, heads=[4, 2, 4, 4]), "shape"),
    "layers length": (lambda d: _edit_header(d, layers=_split(d)[0]["layers"][:-1]), "layers"),
    "layer not a list": (lambda d: _edit_header(d, layers=[{"bits": 4}] * 24), "layers"),
    "bits 9": (lambda d: _edit_layer(d, 0, 0, 9), "bits"),
    "bits 1": (lambda d: _edit_layer(d, 5, 0, 1), "bits"),
    "bits float": (lambda d: _edit_layer(d, 0, 0, 4.0), "ints"),
    "shape": (lambda d: _edit_layer(d, 0, 2, 10 ** 9), "shape"),
    "group size": (lambda d: _edit_layer(d, 0, 1, 48), "group_size"),
    "group size zero": (lambda d: _edit_layer(d, 0, 1, 0), "group_size"),
    "symmetric string": (lambda d: _edit_layer(d, 0, 4, "yes"), "booleans"),
    "asymmetric claim": (lambda d: _edit_layer(d, 0, 4, False), "bytes"),
    "truncated": (lambda d: d[:-1], "bytes"),
    "padded": (lambda d: d + b"\0", "bytes"),
    "nan weight": (lambda d: _flip_tail(d, np.float32(np.nan).tobytes()), "finite"),
    "zero scale": (lambda d: _scale(d, 0.0), "scales"),
    "inf scale": (lambda d: _scale(d, np.inf), "scales"),
    "code -8": (lambda d: _first_code_byte(d, 0x00), "symmetric range"),
}


@pytest.mark.parametrize("name", list(CORRUPTIONS))
def test_hostile_files(tmp_path, saved, name):
    data, _ = saved
    corrupt, word = CORRUPTIONS[name]
    path = tmp_path / "bad.clq"
    path.write_bytes(corrupt(data))
    with pytest.raises(ValueError, match=word):
        load_quantized_vit(path)


def test_helpers_leave_a_good_file_good(tmp_path, saved):
    data, q = saved
    header, body = _split(data)
    path = tmp_path / "same.clq"
    path.write_bytes(_join(header, body))  # re-encoding the header keeps a valid file
    model, _ = load_quantized_vit(path)
    assert torch.equal(model.head.bias, q.model.head.bias)


def test_huge_file_refused_before_reading(tmp_path):
    path = tmp_path / "huge.clq"
    with open(path, "wb") as handle:
        handle.write(MAGIC)
        handle.truncate(64 * 2 ** 20)  # sparse: no disk used
    with pytest.raises(ValueError, match="at most"):
        load_quantized_vit(path)


def test_bad_arguments(tmp_path, saved):
    _, q = saved
    with pytest.raises(TypeError, match="quantized"):
        save_quantized_vit(q.model, tmp_path / "x.clq")
    with pytest.raises(ValueError, match="path"):
        save_quantized_vit(q, tmp_path / "missing" / "x.clq")
    with pytest.raises(TypeError, match="path"):
        save_quantized_vit(q, 3)
    with pytest.raises(ValueError, match="path"):
        load_quantized_vit(tmp_path / "nothing.clq")
    with pytest.raises(ValueError, match="path"):
        load_quantized_vit(tmp_path)


def test_random_damage_loads_or_raises_value_error(tmp_path, saved):
    """Random byte changes in the header and the first tensors, random truncations: a model or ValueError."""
    data, _ = saved
    rng = np.random.default_rng(0)
    path = tmp_path / "fuzz.clq"
    refused = 0
    for trial in range(150):
        damaged = bytearray(data)
        if trial % 3 == 0:
            damaged = damaged[:int(rng.integers(0, len(data)))]
        else:
            for _ in range(int(rng.integers(1, 4))):
                damaged[int(rng.integers(0, 900))] = int(rng.integers(0, 256))
        path.write_bytes(bytes(damaged))
        try:
            model, _ = load_quantized_vit(path)
        except ValueError:
            refused += 1
        else:
            assert isinstance(model, MnistViT)
    assert refused >= 50
