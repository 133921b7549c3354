"""Benchmarks of the course's foundations: the data reader, the latency helper, the trained models."""

from __future__ import annotations

import io

import torch

from .core import Row, benchmark, median_seconds

__all__: list[str] = []


@benchmark("data")
def _bench_data(quick: bool) -> list[Row]:
    """Our MNIST IDX reader vs torchvision's on the same files (load the training set)."""
    from torchvision.datasets import MNIST

    from ..data import data_dir, load_mnist

    root = data_dir()
    ours = median_seconds(lambda: load_mnist("train", download=False), 1 if quick else 3)
    ref = median_seconds(lambda: MNIST(str(root), train=True, download=False), 1 if quick else 3)
    return [Row("data", "MNIST train, 60000 images", "course_lib", ours * 1e3,
                "torchvision", ref * 1e3, "ms")]


@benchmark("latency")
def _bench_latency(quick: bool) -> list[Row]:
    """Our latency helper vs torch.utils.benchmark on the same call (ratio ~1 = trustworthy)."""
    from torch.utils.benchmark import Timer

    from ..measure import latency
    from ..models import build_model

    model = build_model("lenet5").eval()
    x = torch.rand(100, 1, 28, 28)
    ours = latency(lambda: model(x), repeats=5 if quick else 30, threads=1).median_ms
    with torch.inference_mode():
        timer = Timer("model(x)", globals={"model": model, "x": x}, num_threads=1)
        ref = timer.blocked_autorange(min_run_time=0.2 if quick else 1.0).median * 1e3
    return [Row("latency", "LeNet-5, 100 images, 1 thread", "cl.latency", ours,
                "torch.utils.benchmark", ref, "ms")]


@benchmark("models")
def _bench_models(quick: bool) -> list[Row]:
    """Per-image CPU time at batch 100 vs batch 1, and file size vs raw float32 bytes."""
    from ..checkpoints import load_manifest, load_pretrained
    from ..formats import storage_bytes
    from ..measure import latency
    from ..models import MODELS

    rows = []
    trained = load_manifest()
    for name in MODELS:
        if name not in trained:
            continue
        model = load_pretrained(name)
        shape = (3, 32, 32) if model.dataset == "cifar10" else (1, 28, 28)
        one, hundred = torch.rand(1, *shape), torch.rand(100, *shape)
        reps = 5 if quick else 30
        t1 = latency(lambda m=model, x=one: m(x), repeats=reps).median_ms
        t100 = latency(lambda m=model, x=hundred: m(x), repeats=reps).median_ms
        rows.append(Row("models", f"{name}: per-image time", "batch 100", t100 / 100, "batch 1", t1, "ms"))
        buf = io.BytesIO()
        torch.save(model.state_dict(), buf)
        rows.append(Row("models", f"{name}: size", "torch.save file", buf.tell(),
                        "float32 parameters", storage_bytes(model), "bytes"))
    return rows
