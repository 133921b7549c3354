"""load_shared_model on hostile bytes: truncated, garbage or absurd counts are refused (ValueError) before any
allocation of their size; the fixed-width coding is read back by the same decoder."""

import struct

import numpy as np
import pytest
import torch

import course_lib as cl
from course_lib.sharing import decode_layer, encode_layer, fixed_lengths, layer_sections
from course_lib.sharing import nn as snn


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    torch.manual_seed(0)
    model = cl.models.build_model("lenet300")
    with torch.no_grad():
        for m in (model.fc1, model.fc2, model.fc3):
            m.weight[m.weight.abs() < m.weight.abs().quantile(0.8)] = 0
    shared = snn.share_model(model, 4)
    path = tmp_path_factory.mktemp("dc") / "m.dc"
    snn.save_shared_model(shared, path)
    return shared, path.read_bytes()


def refuse(tmp_path, data: bytes) -> str:
    path = tmp_path / "bad.dc"
    path.write_bytes(data)
    with pytest.raises(ValueError) as info:
        snn.load_shared_model(path, "lenet300")
    return str(info.value)


def test_truncated_files_are_refused(tmp_path, saved):
    _, data = saved
    for n in (0, 3, 4, 7, 20, 60, len(data) // 2, len(data) - 1):
        refuse(tmp_path, data[:n])
    refuse(tmp_path, data + b"\0")


def test_garbage_is_refused(tmp_path, saved):
    _, data = saved
    rng = np.random.default_rng(0)
    for _ in range(20):
        refuse(tmp_path, rng.integers(0, 256, size=int(rng.integers(1, 3000)), dtype=np.uint8).tobytes())
    for seed in range(20):  # the right magic, then garbage
        refuse(tmp_path, data[:4] + np.random.default_rng(seed).integers(0, 256, size=500, dtype=np.uint8).tobytes())


def test_huge_counts_are_refused_before_allocating():
    book, idx = np.array([-1.0, 0.5, 1.0]), np.array([[0, 1, 2, 1]] * 3)
    mask = np.array([[True, False, True, True]] * 3)
    parts = layer_sections(book, idx, mask)
    head = parts["header"]
    ndim = head[5]
    counts_at = 8 + 4 * ndim
    k, entries, ibits, gbits = struct.unpack("<IIQQ", head[counts_at:counts_at + 24])
    rest = b"".join(v for name, v in parts.items() if name != "header")

    def with_counts(**new):
        values = dict(k=k, entries=entries, ibits=ibits, gbits=gbits) | new
        return head[:counts_at] + struct.pack("<IIQQ", *values.values()) + rest

    assert decode_layer(with_counts())[1].tolist() == np.where(mask, idx, 0).tolist()
    for bad in (dict(entries=2**32 - 1), dict(ibits=2**63), dict(gbits=2**63), dict(k=2**32 - 1), dict(k=0),
                dict(entries=2**31, ibits=2**40, gbits=2**40)):
        with pytest.raises(ValueError, match="header that does not fit|ends inside"):
            decode_layer(with_counts(**bad))
    huge_shape = head[:8] + struct.pack("<2I", 2**32 - 1, 2**32 - 1) + head[16:] + rest
    with pytest.raises(ValueError, match="MAX_WEIGHTS"):
        decode_layer(huge_shape)
    for gap_bits in (0, 17, 255):
        with pytest.raises(ValueError, match="gap bits"):
            decode_layer(head[:7] + bytes([gap_bits]) + head[8:] + rest)


def test_fixed_coding_is_read_back_and_is_larger(tmp_path, saved):
    shared, data = saved
    size = snn.save_shared_model(shared, tmp_path / "fixed.dc", coding="fixed")
    assert size > len(data)
    back = snn.load_shared_model(tmp_path / "fixed.dc", "lenet300")
    x = torch.rand(5, 1, 28, 28)
    assert torch.equal(back(x), shared(x))
    assert fixed_lengths([3, 0, 1, 1, 1]).tolist() == [2, 0, 2, 2, 2]
    assert fixed_lengths([0, 7]).tolist() == [0, 1]
    book, idx = np.arange(5.0), np.arange(20).reshape(4, 5) % 5
    parts = layer_sections(book, idx, coding="fixed")
    assert len(parts["indices"]) == 20 * 3 // 8 + 1  # 5 symbols used: 3 bits each
    assert decode_layer(encode_layer(book, idx, coding="fixed"))[1].tolist() == idx.tolist()
    with pytest.raises(ValueError, match="coding"):
        encode_layer(book, idx, coding="zip")
    with pytest.raises(ValueError, match="coding"):
        snn.save_shared_model(shared, tmp_path / "x.dc", coding="zip")
