"""The record format a graded kernel writes and the grader reads: plain data only, within limits."""

import json
import os
import pickle

import numpy as np
import pytest
import torch

from course_lib.exercises import records
from course_lib.exercises.records import Raised, RecordError, Unsupported


@pytest.mark.parametrize("value", [
    None, True, 3, -2**70, 1.5, float("nan"), float("inf"), "text",
    [1, 2.0, "x"], (1, (2, 3)), {"dense": 12, 3: [np.int64(4)]},
    np.arange(6, dtype=np.int16).reshape(2, 3), np.float32(2.5), np.array(True), np.zeros((0, 4)),
    np.array([1 + 2j]),
])
def test_plain_data_comes_back_as_it_went(value, tmp_path):
    records.write_record(tmp_path, "0", value)
    back = records.read_record(tmp_path, "0")
    assert type(back) is type(value) or isinstance(value, np.generic)
    if isinstance(value, np.ndarray):
        assert back.dtype == value.dtype and np.array_equal(back, value)
    elif isinstance(value, np.generic):
        assert back.dtype == value.dtype and back == value
    elif isinstance(value, float) and value != value:
        assert back != back
    else:
        assert repr(back) == repr(value)
    assert repr(records.plain(value)) == repr(back)


def test_tensors_objects_and_errors(tmp_path):
    t = torch.arange(4.0, requires_grad=True) * 2
    assert np.array_equal(records.plain(t), [0.0, 2.0, 4.0, 6.0])

    class Thing:
        pass

    class Weird:
        def __array__(self, dtype=None, copy=None):
            return np.array([object()], dtype=object)

    assert records.plain(Thing()) == Unsupported("Thing")
    assert records.plain(Weird()) == Unsupported("Weird")
    assert records.plain({(1, 2): 3}) == Unsupported("dict with a tuple key")
    assert records.plain(np.array(["a"])) == Unsupported("ndarray")
    deep = []
    for _ in range(50):
        deep = [deep]
    assert "too large or too deep" in repr(records.plain(deep))
    records.write_record(tmp_path, "1", Raised("your code raised ValueError: no"))
    assert records.read_record(tmp_path, "1") == Raised("your code raised ValueError: no")


def _write(tmp_path, head, arrays=()):
    (tmp_path / "0.json").write_text(json.dumps(head))
    for i, data in enumerate(arrays):
        (tmp_path / f"0.{i}.npy").write_bytes(data)


@pytest.mark.parametrize("head,arrays,message", [
    ({"tree": {"__reduce__": "os.system"}, "arrays": 0}, (), "unknown record node"),
    ({"tree": {"array": 3}, "arrays": 0}, (), "refers to array 3"),
    ({"tree": 1, "arrays": 10_000}, (), "'arrays' must be an int"),
    ({"tree": [1, 2], "arrays": 0}, (), "must be a JSON value or a one-key object"),
    ({"tree": {"array": 0}, "arrays": 1}, (), "0.0.npy is missing"),
    ({"tree": {"array": 0}, "arrays": 1}, (b"not an npy file",), "not a valid .npy file"),
])
def test_malformed_records_are_refused(tmp_path, head, arrays, message):
    _write(tmp_path, head, arrays)
    with pytest.raises(RecordError, match=message):
        records.read_record(tmp_path, "0")


def test_pickles_and_object_arrays_are_refused_unread(tmp_path):
    np.save(tmp_path / "0.0.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    _write(tmp_path, {"tree": {"array": 0}, "arrays": 1})
    with pytest.raises(RecordError, match="only booleans and numbers"):
        records.read_record(tmp_path, "0")
    (tmp_path / "0.json").write_bytes(pickle.dumps({"tree": 1}))
    with pytest.raises(RecordError, match="not valid JSON"):
        records.read_record(tmp_path, "0")


def test_size_limits_are_checked_before_reading(tmp_path, monkeypatch):
    monkeypatch.setattr(records, "MAX_RECORD_BYTES", 1000)
    records.write_record(tmp_path, "0", np.zeros(1000))
    with pytest.raises(RecordError, match="larger than"):
        records.read_record(tmp_path, "0")
    # a header that claims more than the file holds
    header = np.lib.format.header_data_from_array_1_0(np.zeros(10**8, dtype=np.uint8))
    with open(tmp_path / "1.0.npy", "wb") as f:
        np.lib.format.write_array_header_1_0(f, header)
    _write_named = {"tree": {"array": 0}, "arrays": 1}
    (tmp_path / "1.json").write_text(json.dumps(_write_named))
    monkeypatch.setattr(records, "MAX_RECORD_BYTES", 2**20)
    with pytest.raises(RecordError, match="shorter than its header"):
        records.read_record(tmp_path, "1")


def test_symlinks_are_not_followed_and_bytes_mappings_work(tmp_path):
    (tmp_path / "secret.json").write_text(json.dumps({"tree": 42, "arrays": 0}))
    os.symlink(tmp_path / "secret.json", tmp_path / "0.json")
    with pytest.raises(FileNotFoundError):
        records.read_record(tmp_path, "0")
    records.write_record(tmp_path / "r", "3", {"csr": np.int64(7)})
    files = {p.name: p.read_bytes() for p in (tmp_path / "r").iterdir()}
    assert records.read_record(files, "3") == {"csr": 7}
    records.write_inputs(tmp_path / "c", (np.ones(2), 3))
    args = records.read_inputs(tmp_path / "c")
    assert isinstance(args, tuple) and args[1] == 3 and np.array_equal(args[0], [1.0, 1.0])
    records.write_inputs(tmp_path / "v", None)
    assert records.read_inputs(tmp_path / "v") is None


def test_read_record_refuses_hostile_files_with_a_record_error():
    """Made by a student's code, never trusted: each ends in a RecordError, never another exception."""
    import io

    read_record = records.read_record
    deep = b'{"tree": ' + b"[" * 100_000 + b"]" * 100_000 + b', "arrays": 0}'
    with pytest.raises(RecordError, match="nests deeper"):
        read_record({"r.json": deep}, "r")
    head = json.dumps({"tree": {"array": 0}, "arrays": 1}).encode()

    def npy(shape_text: str) -> bytes:
        buf = io.BytesIO()
        np.save(buf, np.zeros(2, dtype=np.float32))
        data = buf.getvalue()
        header = (f"{{'descr': '<f4', 'fortran_order': False, 'shape': {shape_text}, }}").encode()
        header += b" " * ((64 - (10 + len(header) + 1) % 64) % 64) + b"\n"
        return data[:8] + len(header).to_bytes(2, "little") + header + data[-8:]

    for shape in ("(2**70,)", "(1180591620717411303424,)", "(True, False)", "(-1,)", "('a',)", "(2,) * 40"):
        with pytest.raises(RecordError):
            read_record({"r.json": head, "r.0.npy": npy(shape)}, "r")
    assert read_record({"r.json": head, "r.0.npy": npy("(2,)")}, "r").tolist() == [0.0, 0.0]
