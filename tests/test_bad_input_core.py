"""Bad input to data, checkpoints, sweeps, results, measure, timing, report and exercises.

Each refusal is a TypeError or ValueError naming the parameter and the rule, raised before any
side effect: no download is ever attempted here (torchvision's download_url is replaced by one
that fails the test), no file is written.
"""

import json

import numpy as np
import pytest

import course_lib as cl
import course_lib.checkpoints as ckpt
import course_lib.data as data
import course_lib.data.fetch as data_download
import course_lib.exercises as ex
from course_lib import report, results, sweeps, timing

from helpers import fresh_model

IMAGES = np.zeros((4, 28, 28), np.uint8)
LABELS = np.zeros(4, np.int64)


@pytest.fixture(autouse=True)
def no_download(monkeypatch):
    import torchvision.datasets.utils

    def refuse(*args, **kwargs):
        raise AssertionError("a download was attempted")

    monkeypatch.setattr(torchvision.datasets.utils, "download_url", refuse)  # what download_to calls


def check(call, exc, *fragments):
    with pytest.raises(exc) as info:
        call()
    for fragment in fragments:
        assert fragment in str(info.value), str(info.value)


# --------------------------------------------------------------------------- data

@pytest.mark.parametrize("loader", [data.load_mnist, data.load_cifar10])
@pytest.mark.parametrize("flag", ["False", "no", 0, None, 1.0])
def test_download_flag_must_be_a_bool_before_any_download(tmp_path, loader, flag):
    exc = TypeError
    check(lambda: loader("test", data_dir=tmp_path, download=flag), exc, "download must be True or False")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("call", [
    lambda f: data.load_mnist("test", data_dir=f),
    lambda f: data.load_mnist("test", data_dir=f, download=False),
    lambda f: data.load_cifar10("test", data_dir=f),
    lambda f: data.download("mnist", data_dir=f),
    lambda f: data.data_status(f),
    lambda f: data.data_dir(f),
])
def test_a_file_is_not_a_data_folder(tmp_path, call):
    afile = tmp_path / "afile"
    afile.write_text("x")
    check(lambda: call(afile), ValueError, "data_dir == ", "is a file, must be a folder")
    assert afile.read_text() == "x" and sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


@pytest.mark.parametrize("call, exc, fragments", [
    (lambda: data.data_dir(""), ValueError, ["data_dir is an empty string"]),
    (lambda: data.data_dir(3), TypeError, ["data_dir must be a str, a path or None, got int"]),
    (lambda: data.data_dir(b"/tmp"), TypeError, ["data_dir must be a str, a path or None, got bytes"]),
    (lambda: data.download("imagenet"), ValueError, ["dataset == 'imagenet'"]),
    (lambda: data.load_mnist("val"), ValueError, ["split == 'val'"]),
    (lambda: data.load_mnist("test", limit=-1), ValueError, ["limit == -1, must be >= 0"]),
    (lambda: data.load_mnist("test", limit="10"), TypeError, ["limit must be an int or None, got str"]),
    (lambda: data.load_cifar10("test", limit=True), TypeError, ["limit must be an int or None, got bool"]),
    (lambda: data.read_idx(3, expected_ndim=3), TypeError, ["path must be a str or a path"]),
    (lambda: data.read_cifar_batch(None), TypeError, ["path must be a str or a path"]),
])
def test_data_arguments(call, exc, fragments):
    check(call, exc, *fragments)


def test_readers_refuse_folders_and_bad_ndim(tmp_path):
    check(lambda: data.read_idx(tmp_path, expected_ndim=1), ValueError, "path == ", "is a folder, must be an "
          "existing file")
    check(lambda: data.read_cifar_batch(tmp_path), ValueError, "path == ", "is a folder")
    f = tmp_path / "x"
    f.write_bytes(b"\0\0\x08\x01")
    check(lambda: data.read_idx(f, expected_ndim="1"), TypeError, "expected_ndim must be an int")
    assert tmp_path.is_dir() and f.is_file()  # "delete it" is never suggested for a folder


def test_data_command_line_refuses_a_file_as_data_dir(tmp_path, capsys):
    afile = tmp_path / "afile"
    afile.write_text("x")
    with pytest.raises(SystemExit) as info:
        data.main(["--data-dir", str(afile), "--download"])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "error: --data-dir: data_dir == " in err and "Traceback" not in err


# --------------------------------------------------------------------------- checkpoints

def _manifest(folder, text):
    folder.mkdir()
    (folder / "manifest.json").write_text(text)
    return folder


@pytest.mark.parametrize("text, fragments", [
    ("{not json", ["manifest", "is not valid JSON"]),
    ("[1, 2]", ["manifest", "holds a JSON list, must be an object"]),
    (json.dumps({"lenet300": "x"}), ["has str for 'lenet300', must be an object with 'file' and 'sha256'"]),
    (json.dumps({"lenet300": {"file": "x.pt"}}), ["entry 'lenet300' has no valid 'sha256'"]),
    (json.dumps({"lenet300": {"sha256": "ab"}}), ["entry 'lenet300' has no valid 'file'"]),
    (json.dumps({"lenet300": {"file": 5, "sha256": "ab"}}), ["has no valid 'file' (got 5)"]),
    (json.dumps({"lenet300": {"file": "../x.pt", "sha256": "ab"}}), ["must be a file name in the checkpoint folder"]),
])
def test_broken_manifests_are_refused_clearly(tmp_path, text, fragments):
    folder = _manifest(tmp_path / "ck", text)
    check(lambda: ckpt.load_pretrained("lenet300", checkpoint_dir=folder), ValueError, *fragments)


@pytest.mark.parametrize("call, exc, fragments", [
    (lambda f: ckpt.load_pretrained("resnet"), ValueError, ["name == 'resnet'"]),
    (lambda f: ckpt.load_pretrained(None), TypeError, ["name must be a str"]),
    (lambda f: ckpt.load_pretrained("lenet300", checkpoint_dir=5), TypeError, ["checkpoint_dir must be a str"]),
    (lambda f: ckpt.load_pretrained("lenet300", checkpoint_dir=f), ValueError, ["checkpoint_dir == ", "is a file"]),
    (lambda f: ckpt.checkpoint_dir(f), ValueError, ["is a file, must be a folder"]),
    (lambda f: ckpt.load_manifest(f), ValueError, ["is a file, must be a folder"]),
    (lambda f: ckpt.file_sha256(None), TypeError, ["path must be a str or a path"]),
    (lambda f: ckpt.file_sha256(f.parent), ValueError, ["path == ", "is a folder"]),
])
def test_checkpoint_arguments(tmp_path, call, exc, fragments):
    afile = tmp_path / "afile"
    afile.write_text("x")
    check(lambda: call(afile), exc, *fragments)


# --------------------------------------------------------------------------- sweeps

@pytest.fixture(scope="module")
def lenet():
    return fresh_model()


@pytest.mark.parametrize("kwargs, make, exc, fragments", [
    ({"size": lambda m, v: -5}, None, ValueError, ["size(model, 1) returned -5, must be >= 0"]),
    ({"size": lambda m, v: 1.5}, None, TypeError, ["size(model, 1) returned 1.5, must return a whole number"]),
    ({"size": lambda m, v: "10"}, None, TypeError, ["size(model, 1) returned str"]),
    ({"size": lambda m, v: float("nan")}, None, TypeError, ["size(model, 1) returned nan"]),
    ({"size": "int3"}, None, ValueError, ["size == 'int3'"]),
    ({"knob": 3}, None, TypeError, ["knob must be a non-empty str"]),
    ({"latency_batch": 0}, None, ValueError, ["latency_batch == 0, must be >= 1"]),
    ({"progress": "no"}, None, TypeError, ["progress must be True or False"]),
    ({}, "triple", TypeError, ["make(1) returned a tuple of 3 items"]),
    ({}, "extra-list", TypeError, ["make(1) returned a list beside the model, must be a dict"]),
    ({}, "extra-accuracy", ValueError, ["make(1) returned the extra column(s) ['accuracy']"]),
    ({"knob": "sparsity"}, "extra-knob", ValueError, ["extra column(s) ['sparsity']"]),
])
def test_sweep_checks_what_make_and_size_return(lenet, kwargs, make, exc, fragments):
    makers = {None: lambda v: lenet, "triple": lambda v: (lenet, {}, 1), "extra-list": lambda v: (lenet, [1]),
              "extra-accuracy": lambda v: (lenet, {"accuracy": 5}), "extra-knob": lambda v: (lenet, {"sparsity": 1})}
    check(lambda: sweeps.sweep([1], makers[make], images=IMAGES, labels=LABELS, **kwargs), exc, *fragments)


def test_sweep_accepts_whole_float_and_numpy_byte_counts(lenet):
    rows = sweeps.sweep([1, 2], lambda v: lenet, images=IMAGES, labels=LABELS,
                        size=lambda m, v: 10.0 if v == 1 else np.int64(7))
    assert [r["bytes"] for r in rows] == [10, 7] and all(type(r["bytes"]) is int for r in rows)


@pytest.mark.parametrize("rows, kwargs, exc, fragments", [
    ({"a": 1}, {"x": "a"}, TypeError, ["rows must be a non-empty list of dicts"]),
    ([{"a": 1, "accuracy": 0.5}], {"x": "b"}, ValueError, ["x == 'b' is not a column of rows[0]"]),
    ([{"a": 1, "accuracy": 0.5}], {"x": 1}, TypeError, ["x must be a str (a column name), got int"]),
    ([{"a": 1, "accuracy": 0.5}, {"a": 2}], {"x": "a"}, ValueError, ["y == 'accuracy' is not a column of rows[1]"]),
    ([{"a": 1, "accuracy": 0.5}], {"x": "a", "label": 3}, TypeError, ["label must be a str or None"]),
    ([{"a": 1, "accuracy": 0.5}], {"x": "a", "logx": "yes"}, TypeError, ["logx must be True or False"]),
])
def test_plot_sweep_arguments(rows, kwargs, exc, fragments):
    import matplotlib

    matplotlib.use("Agg")
    check(lambda: sweeps.plot_sweep(rows, **kwargs), exc, *fragments)


# --------------------------------------------------------------------------- results

def _save(tmp_path, name="03_x", data=None, **kwargs):
    args = {"command": "c", "seed": 0, "threads": 1, "force": True, "directory": tmp_path / "r"} | kwargs
    return results.save_result(name, {} if data is None else data, **args)


@pytest.mark.parametrize("name, data_, kwargs, exc, fragments", [
    ("bad name", {}, {}, ValueError, ["name == 'bad name'"]),
    ("03_x", [1], {}, TypeError, ["data must be a dict"]),
    ("03_x", {"a": float("nan")}, {}, ValueError, ["data['a'] == nan, must be a finite number"]),
    ("03_x", {"a": np.zeros(3)}, {}, TypeError, ["data['a'] is a ndarray of shape (3,)", ".tolist()"]),
    ("03_x", {}, {"command": ""}, ValueError, ["command == ''"]),
    ("03_x", {}, {"seed": -1}, ValueError, ["seed == -1, must be >= 0"]),
    ("03_x", {}, {"threads": 0}, ValueError, ["threads == 0, must be >= 1"]),
    ("03_x", {}, {"force": "yes"}, TypeError, ["force must be True or False"]),
    ("03_x", {}, {"directory": 5}, TypeError, ["directory must be a str or a path"]),
])
def test_save_result_arguments_and_nothing_written(tmp_path, name, data_, kwargs, exc, fragments):
    check(lambda: _save(tmp_path, name, data_, **kwargs), exc, *fragments)
    assert not (tmp_path / "r").exists()


def test_results_directory_that_is_a_file(tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("x")
    check(lambda: _save(tmp_path, directory=afile), ValueError, "directory == ", "is a file, must be a folder")
    check(lambda: results.load_result("03_x", directory=afile), ValueError, "is a file, must be a folder")
    check(lambda: results.load_result("03_x", directory=5), TypeError, "directory must be a str or a path")
    assert afile.read_text() == "x"


def test_load_result_and_provenance_refuse_broken_records(tmp_path):
    (tmp_path / "03_x.json").write_text("{bad")
    (tmp_path / "03_y.json").write_text("[1]")
    check(lambda: results.load_result("03_x", directory=tmp_path), ValueError, "03_x.json is not valid JSON")
    check(lambda: results.load_result("03_y", directory=tmp_path), ValueError, "03_y.json misses")
    check(lambda: results.provenance([1]), TypeError, "record must be a dict")
    check(lambda: results.provenance({"command": "x"}), ValueError, "record misses ['date'")


# --------------------------------------------------------------------------- measure, timing, report

@pytest.mark.parametrize("call, exc, fragments", [
    (lambda m: cl.predict("m", IMAGES), TypeError, ["model must be a torch.nn.Module"]),
    (lambda m: cl.predict(m, IMAGES, batch_size=0), ValueError, ["batch_size == 0, must be >= 1"]),
    (lambda m: cl.accuracy(m, IMAGES, np.eye(10)[:4]), TypeError, ["labels must be an array of integer class"]),
    (lambda m: cl.accuracy(m, IMAGES, np.full(4, 10)), ValueError, ["labels contains class 10"]),
    (lambda m: cl.accuracy(m, IMAGES[:0], LABELS[:0]), ValueError, ["labels is empty"]),
    (lambda m: cl.paired_difference([0, 1], [0], [0, 1]), ValueError, ["predictions_b has 1 prediction(s)"]),
    (lambda m: cl.count_parameters(m, nonzero="yes"), TypeError, ["nonzero must be True or False"]),
    (lambda m: timing.latency(5), TypeError, ["fn must be callable"]),
    (lambda m: timing.latency(lambda: 0, repeats=0), ValueError, ["repeats == 0, must be >= 1"]),
    (lambda m: timing.latency(lambda: 0, threads="1"), TypeError, ["threads must be an int"]),
    (lambda m: timing.latency(lambda: 0, min_time=float("inf")), ValueError, ["min_time == inf, must be a finite"]),
    (lambda m: timing.latency(lambda: 0, min_time=-1), ValueError, ["min_time == -1"]),
    (lambda m: report.format_bytes("10"), TypeError, ["n must be a number of bytes", "got str"]),
    (lambda m: report.format_bytes(True), TypeError, ["n must be a number of bytes", "got bool"]),
    (lambda m: report.format_bytes(float("nan")), ValueError, ["n == nan, must be a finite number of bytes >= 0"]),
    (lambda m: report.format_bytes(-1), ValueError, ["n == -1.0, must be a finite number of bytes >= 0"]),
    (lambda m: report.format_table({"a": 1}), TypeError, ["rows must be a list of dicts, got dict"]),
    (lambda m: report.format_table([1, 2]), TypeError, ["rows[0] must be a dict"]),
    (lambda m: report.format_table("abc"), TypeError, ["rows must be a list of dicts, got str"]),
    (lambda m: report.format_table([{"ab": 1}], "ab"), TypeError, ["columns must be a list of str", "write ['ab']"]),
    (lambda m: report.format_table([{"a": 1}], [1]), TypeError, ["columns[0] must be a str"]),
])
def test_measure_timing_report_arguments(lenet, call, exc, fragments):
    check(lambda: call(lenet), exc, *fragments)


def test_report_valid_input_is_unchanged():
    assert report.format_bytes(1069205) == "1.02 MiB" and report.format_bytes(np.int64(512)) == "512 B"
    assert report.format_table([]) == "(no rows)"
    assert report.format_table([{"a": 1, "b": "x"}], ("b",)) == "b\n-\nx"


# --------------------------------------------------------------------------- exercises

@pytest.fixture(scope="module")
def bank():
    return ex.load_bank()


TARGET = ex.Target("s", 0.9, 0.5, unit="%")


@pytest.mark.parametrize("call, exc, fragments", [
    (lambda i: ex.check([i], lambda: 0), TypeError, ["exercise_id must be a str", "got list"]),
    (lambda i: ex.check("zz", lambda: 0), ValueError, ["exercise_id == 'zz', must be one of"]),
    (lambda i: ex.check(i, lambda: 0, quiet="yes"), TypeError, ["quiet must be a bool"]),
    (lambda i: ex.add_cases([i]), TypeError, ["exercise_id must be a str", "got list"]),
    (lambda i: ex.add_cases("zzz"), ValueError, ["exercise_id == 'zzz'"]),
    (lambda i: ex.add_cases(i, ("a", 1)), TypeError, ["cases must be (label, Case) pairs"]),
    (lambda i: ex.grade_with([i], lambda g: []), TypeError, ["exercise_id must be a str"]),
    (lambda i: ex.grade_with(i, 3), TypeError, ["verdict must be callable"]),
    (lambda i: ex.exercise("zz-a", "t", kind="bogus"), ValueError, ["kind == 'bogus'"]),
    (lambda i: ex.exercise("zz-b", "t", points="3"), TypeError, ["points must be an int, got str"]),
    (lambda i: ex.exercise("zz-c", "t", points=0), ValueError, ["points == 0, must be >= 1"]),
    (lambda i: ex.exercise("zz-d", 3), TypeError, ["title must be a str, got int"]),
    (lambda i: ex.Case(3, lambda g: []), TypeError, ["inputs must be callable"]),
    (lambda i: ex.Case(None, None), TypeError, ["verdict must be callable"]),
    (lambda i: ex.credit("abc"), TypeError, ["found must be the list judge returned"]),
    (lambda i: ex.compare([1.0], [1.0], rtol=-1), ValueError, ["rtol == -1, must be a finite number >= 0"]),
    (lambda i: ex.compare([1.0], [1.0], atol=float("nan")), ValueError, ["atol == nan"]),
    (lambda i: ex.compare([1.0], [1.0], rtol="1"), TypeError, ["rtol must be a number, got str"]),
    (lambda i: ex.compare([1.0], [1.0], check_dtype_kind="no"), TypeError, ["check_dtype_kind must be True or False"]),
    (lambda i: ex.compare([1.0], [[1.0], [1.0, 2.0]]), ValueError, ["expected is a ragged nested sequence"]),
    (lambda i: ex.compare([1.0], [None]), TypeError, ["expected must be numbers or an array of them"]),
    (lambda i: ex.compare_fields(3, {}, {"a": 1}), TypeError, ["name must be a str, got int"]),
    (lambda i: ex.compare_fields("f", {}, [1]), TypeError, ["expected must be a dict"]),
    (lambda i: ex.compare_fields("f", {}, {}), ValueError, ["expected is empty"]),
    (lambda i: ex.Credit("half"), TypeError, ["fraction must be a real number in [0, 1], got str"]),
    (lambda i: ex.Credit(float("nan")), ValueError, ["fraction == nan, must be a fraction in [0, 1]"]),
    (lambda i: ex.Credit(50), ValueError, ["fraction == 50, must be a fraction in [0, 1] (not a percentage)"]),
    (lambda i: ex.Credit(0.5, "bad"), TypeError, ["problems must be a list of str"]),
    (lambda i: ex.Target("s", "0.9", 0.5), TypeError, ["goal must be a real number"]),
    (lambda i: ex.Target("s", float("inf"), 0.5), ValueError, ["goal == inf, must be finite"]),
    (lambda i: ex.Target("s", 0.9, float("nan")), ValueError, ["zero_at == nan, must be finite"]),
    (lambda i: ex.Target("s", 0.9, 0.5, higher="yes"), TypeError, ["higher must be True or False"]),
    (lambda i: ex.Target("s", 0.9, 0.5, unit=3), TypeError, ["unit must be a str"]),
    (lambda i: ex.Target("s", 90, 50, unit="%"), ValueError, ["goal == 90, must be a fraction", "not a percentage"]),
    (lambda i: ex.Target("s", 0.5, 0.9), ValueError, ["zero_at == 0.9 must be below goal"]),
    (lambda i: TARGET.credit("0.9"), TypeError, ["value must be a real number, got str"]),
    (lambda i: TARGET.show("x"), TypeError, ["value must be a real number, got str"]),
    (lambda i: ex.linear_credit(0.5, 1.0, 1.0), ValueError, ["goal == zero_at == 1.0, must differ"]),
    (lambda i: ex.linear_credit("1", 1.0, 0.0), TypeError, ["value must be a real number"]),
    (lambda i: ex.outcome_credit({}, [TARGET]), ValueError, ["measured has no value for the target 's'"]),
    (lambda i: ex.outcome_credit({"s": 0.5}, TARGET), TypeError, ["targets must be a list of Target", "[target]"]),
    (lambda i: ex.outcome_credit([0.5], [TARGET]), TypeError, ["measured must be a dict"]),
    (lambda i: ex.outcome_credit({"s": "x"}, [TARGET]), TypeError, ["measured['s'] must be a real number"]),
    (lambda i: ex.outcome_credit({"s": 97.1}, [TARGET]), ValueError,
     ["measured['s'] == 97.1, must be a fraction", "(not a percentage)"]),
    (lambda i: ex.rule_text(TARGET), TypeError, ["targets must be a list of Target"]),
    (lambda i: ex.rule_text(["a"]), TypeError, ["targets[0] must be a Target"]),
    (lambda i: ex.rule_text([]), ValueError, ["targets is empty"]),
])
def test_exercise_api_arguments(bank, call, exc, fragments):
    check(lambda: call(sorted(bank)[0]), exc, *fragments)
    assert not any(k.startswith("zz-") for k in bank)  # nothing registered by a refused call


def test_exercise_valid_input_is_unchanged(bank):
    assert ex.compare([1.0, 2.0], np.array([1.0, 2.0])) == []
    assert ex.Credit(1.0, ["x"]).fraction == 1.0 and ex.Credit(0, ()).fraction == 0.0
    assert ex.outcome_credit({"s": 0.95}, [TARGET]) == []
    assert ex.outcome_credit({"s": 0.7}, [TARGET]).fraction == pytest.approx(0.5)
    assert ex.linear_credit(float("nan"), 1.0, 0.0) == 0.0


# --------------------------------------------------------------------------- the download helpers

@pytest.mark.parametrize("call, exc, fragments", [
    (lambda d, f: data_download.missing_files("imagenet", d), ValueError, ["dataset == 'imagenet'"]),
    (lambda d, f: data_download.missing_files("mnist", 5), TypeError, ["root must be a str or a path"]),
    (lambda d, f: data_download.fetch_dataset("imagenet", d), ValueError, ["dataset == 'imagenet'"]),
    (lambda d, f: data_download.fetch_dataset("mnist", f), ValueError, ["root == ", "is a file, must be a folder"]),
    (lambda d, f: data_download.check_writable(f, "mnist", []), ValueError, ["root == ", "is a file"]),
    (lambda d, f: data_download.mnist_path(d, 3), TypeError, ["name must be a non-empty str"]),
    (lambda d, f: data_download.not_found_message("mnist", d, "abc", "why"), TypeError, ["missing must be a list"]),
    (lambda d, f: data_download.download_to(d, "https://example.org/x", "x", "0" * 32), TypeError,
     ["urls must be a list, got str"]),
    (lambda d, f: data_download.download_to(d, ["ftp://x"], "x", "0" * 32), ValueError, ["urls == ['ftp://x']"]),
    (lambda d, f: data_download.download_to(f, ["https://example.org/x"], "x", "0" * 32), ValueError,
     ["root == ", "is a file"]),
])
def test_download_helpers_refuse_bad_input_before_any_download(tmp_path, call, exc, fragments):
    afile = tmp_path / "afile"
    afile.write_text("x")
    check(lambda: call(tmp_path, afile), exc, *fragments)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


def test_sweep_checks_the_evaluation_set_before_make_runs():
    calls = []

    def make(v):
        calls.append(v)
        return fresh_model()

    check(lambda: sweeps.sweep([1], make, images=IMAGES, labels=LABELS[:3]), ValueError,
          "images and labels differ in length: 4 != 3")
    check(lambda: sweeps.sweep([1], make, images=IMAGES.astype(np.float32), labels=LABELS), TypeError,
          "images must be a uint8 array")
    check(lambda: sweeps.sweep([1], make, images=IMAGES, labels=LABELS.astype(float)), TypeError,
          "labels must be an array of integer class indices")
    check(lambda: sweeps.sweep([1], make, images=IMAGES[:0], labels=LABELS[:0]), ValueError, "labels is empty")
    assert calls == []  # no model was built for a sweep that could not be measured


def test_collect_judge_and_records_refuse_bad_input(bank, tmp_path):
    from course_lib.exercises import records

    exercise = bank[sorted(bank)[0]]
    case = ex.Case(None, lambda got: [])
    check(lambda: ex.collect("ex", lambda: 0, None), TypeError, "ex must be an Exercise")
    check(lambda: ex.collect(exercise, lambda: 0, 5), TypeError, "args must be a tuple of the case's inputs or None")
    check(lambda: ex.judge("case", 1, None), TypeError, "case must be a Case")
    check(lambda: ex.judge(case, 1, None, also=3), TypeError, "also must be callable or None")
    afile = tmp_path / "afile"
    afile.write_text("x")
    check(lambda: records.write_record(afile, "0", 1), ValueError, "folder == ", "is a file, must be a folder")
    check(lambda: records.write_record(tmp_path, 0, 1), TypeError, "stem must be a non-empty str")
    check(lambda: records.write_record(tmp_path, "../x", 1), TypeError, "without a path separator")
    check(lambda: records.read_record(5, "0"), TypeError, "source must be a str or a path")
    check(lambda: records.read_record(afile, "0"), ValueError, "source == ", "is a file")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]
    records.write_record(tmp_path / "ok", "0", [1, 2.5])  # valid input still works, mappings too
    assert records.read_record(tmp_path / "ok", "0") == [1, 2.5]
    assert records.read_record(records.record_files("0", (3,)), "0") == (3,)
