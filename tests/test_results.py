"""Long-run results: written only by a full run (or forced), read back with their provenance."""

import json

import numpy as np
import pytest

from course_lib.results import load_result, provenance, save_result


def test_fast_mode_never_writes(tmp_path, monkeypatch):
    monkeypatch.delenv("COURSE_FULL", raising=False)
    assert save_result("03_demo", {"a": 1}, command="x", seed=0, threads=2, directory=tmp_path) is None
    assert not list(tmp_path.iterdir())


def test_round_trip_with_provenance(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_FULL", "1")
    path = save_result("03_demo", {"acc": np.float32(0.5), "curve": [np.int64(3), 0.25]}, command="COURSE_FULL=1 run",
                       seed=4, threads=2, directory=tmp_path)
    record = load_result("03_demo", directory=tmp_path)
    assert path.name == "03_demo.json" and record["data"] == {"acc": 0.5, "curve": [3, 0.25]}
    assert record["full_mode"] is True and record["seed"] == 4 and len(record["date"]) == 10
    label = provenance(record)
    assert "COURSE_FULL=1 run" in label and record["cpu_capability"] in label and "seed 4" in label


@pytest.mark.parametrize("kwargs, err", [
    ({"name": "Bad Name"}, ValueError), ({"data": [1]}, TypeError), ({"data": {"x": float("nan")}}, ValueError),
    ({"data": {1: 2}}, TypeError), ({"data": {"x": object()}}, TypeError), ({"command": ""}, ValueError),
    ({"seed": -1}, ValueError), ({"threads": 0}, ValueError)])
def test_save_refuses_bad_input_before_writing(tmp_path, kwargs, err):
    args = {"name": "03_demo", "data": {"a": 1}, "command": "c", "seed": 0, "threads": 1, "force": True,
            "directory": tmp_path} | kwargs
    with pytest.raises(err):
        save_result(args.pop("name"), args.pop("data"), **args)
    assert not list(tmp_path.iterdir())


def test_load_errors_say_what_to_do(tmp_path):
    with pytest.raises(FileNotFoundError, match="COURSE_FULL=1"):
        load_result("03_missing", directory=tmp_path)
    (tmp_path / "03_broken.json").write_text("{")
    with pytest.raises(ValueError, match="not valid JSON"):
        load_result("03_broken", directory=tmp_path)
    (tmp_path / "03_partial.json").write_text(json.dumps({"name": "x"}))
    with pytest.raises(ValueError, match="misses"):
        load_result("03_partial", directory=tmp_path)
