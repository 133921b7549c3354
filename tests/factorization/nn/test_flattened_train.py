"""The long flattened-CNN comparison is stored with its provenance, and the stored run reads back."""

from types import SimpleNamespace

import numpy as np
import torch

from course_lib.factorization.nn import flattened_train
from course_lib.results import FIELDS, load_result, provenance


def test_main_stores_the_run_with_its_provenance(tmp_path, monkeypatch):
    seen = {}

    def fake_compare(train, test, *, finetune_steps, scratch_steps, seed, **kwargs):
        seen.update(finetune_steps=finetune_steps, scratch_steps=scratch_steps, seed=seed)
        return {"dense": 0.9, "decomposed": 0.2, "fine_tuned": 0.8, "from_scratch": 0.7,
                "finetune_steps": finetune_steps, "scratch_steps": scratch_steps}

    monkeypatch.setattr(flattened_train, "load_cifar10", lambda split: SimpleNamespace(labels=np.zeros(300)))
    monkeypatch.setattr(flattened_train, "compare_training", fake_compare)
    threads = torch.get_num_threads()
    try:
        out = tmp_path / "07_flattened_full.json"
        assert flattened_train.main(["--finetune-epochs", "1", "--scratch-epochs", "2", "--seed", "3",
                                     "--out", str(out)]) == 0
    finally:
        torch.set_num_threads(threads)
    assert seen == {"finetune_steps": 3, "scratch_steps": 6, "seed": 3}  # 300 images: 3 batches of 128
    record = load_result("07_flattened_full", directory=tmp_path)
    assert record["seed"] == 3 and record["threads"] == 1 and record["data"]["from_scratch"] == 0.7
    assert record["command"].endswith("--seed 3 --out " + str(out))


def test_the_stored_long_run_reads_back():
    record = load_result(flattened_train.RESULT_NAME)
    assert all(f in record for f in FIELDS)
    data = record["data"]
    assert {"dense", "decomposed", "fine_tuned", "from_scratch", "finetune_steps", "scratch_steps",
            "test_images", "batch_size"} <= set(data)
    assert data["test_images"] == 10000 and data["scratch_steps"] > data["finetune_steps"]
    assert provenance(record).startswith("long run (stored result, not this run): python -m course_lib")
