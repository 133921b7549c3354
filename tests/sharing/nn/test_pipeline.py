"""Deep Compression's stages as files: each stage's bytes are its file's size, its accuracy that of the file read
back; the dense file round-trips; stream_sizes counts the streams the layer file holds."""

import numpy as np
import pytest
import torch

import course_lib as cl
from course_lib.sharing import layer_sections
from course_lib.sharing import nn as snn
from course_lib.sharing.pipeline import STAGES, deep_compression, read_dense, stream_sizes, write_dense

from helpers import fresh_model

KEPT = {"fc1.weight": 0.1, "fc2.weight": 0.2, "fc3.weight": 0.5}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dc")
    train, test = cl.load_mnist("train", limit=512), cl.load_mnist("test", limit=200)
    out = deep_compression(cl.load_pretrained("lenet300"), KEPT, {"fc1": 3, "fc2": 4, "fc3": 5}, train=train,
                           test=test, folder=folder, prune_steps=4, centroid_steps=4)
    return out, folder, test


def test_each_stage_is_its_file_read_back(run):
    out, folder, test = run
    assert [s["stage"] for s in out["stages"]] == list(STAGES)
    files = ["dense.f32", "pruned.pt", "shared.fixed.dc", "shared.dc"]
    assert [s["bytes"] for s in out["stages"]] == [(folder / f).stat().st_size for f in files]
    assert out["stages"][0]["bytes"] == 4 * 266_610
    sizes = [s["bytes"] for s in out["stages"]]
    assert sizes == sorted(sizes, reverse=True)
    back = snn.load_shared_model(folder / "shared.dc", "lenet300")
    assert out["stages"][3]["accuracy"] == cl.accuracy(back, test.images, test.labels) == out["stages"][2]["accuracy"]
    assert out["stages"][0]["accuracy"] == cl.accuracy(cl.load_pretrained("lenet300"), test.images, test.labels)
    assert out["nonzero"] == sum(int(m.sum()) for m in out["masks"].values()) and out["weights"] == 266_200
    for name, mask in out["masks"].items():
        assert mask.mean() == pytest.approx(KEPT[name], abs=1e-3)
        layer = out["model"].get_submodule(name.split(".")[0])
        assert not bool(layer.weight[~torch.from_numpy(mask)].any())  # pruned weights stay exactly 0


def test_stream_sizes_count_the_files_streams(run):
    out, _, _ = run
    for book, idx, mask in snn.shared_layers(out["model"]).values():
        parts = layer_sections(book, idx, mask)
        s = stream_sizes(book, idx, mask)
        assert s["indices"]["huffman"] == len(parts["indices"]) + len(parts["index lengths"])
        assert s["gaps"]["huffman"] == len(parts["gaps"]) + len(parts["gap lengths"])
        assert s["indices"]["symbols"] == s["gaps"]["symbols"] >= int(mask.sum())
        assert min(s["indices"]["zlib"], s["indices"]["lzma"]) > 0


def test_dense_file_round_trip_and_refusals(tmp_path):
    model = fresh_model("lenet300")
    size = write_dense(model, tmp_path / "m.f32")
    assert size == 4 * cl.count_parameters(model)
    back = read_dense(tmp_path / "m.f32", fresh_model("lenet300", seed=1))
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), back.state_dict().values()))
    (tmp_path / "short.f32").write_bytes(np.zeros(10, np.float32).tobytes())
    with pytest.raises(ValueError, match="must hold 266610 float32 values"):
        read_dense(tmp_path / "short.f32", fresh_model("lenet300"))
    train = cl.load_mnist("test", limit=10)
    with pytest.raises(ValueError, match="kept must be a dict"):
        deep_compression(model, {"fc1.weight": 0.1}, 3, train=train, test=train, folder=tmp_path, prune_steps=1,
                         centroid_steps=1)
    with pytest.raises(ValueError, match="not an existing folder"):
        deep_compression(model, KEPT, 3, train=train, test=train, folder=tmp_path / "nope", prune_steps=1,
                         centroid_steps=1)
