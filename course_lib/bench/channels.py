"""Benchmarks of channel pruning: the CIFAR-10 CNN with fewer filters in every convolution against the dense one.

For each kept fraction (the same in every convolution, filters ranked by their L1 norm) the rows
compare, pruned vs dense: multiply-adds per image, stored bytes, the median latency at 1 and 100
images on one thread (both measured in the same run, the dense model right beside the pruned one),
and the test accuracy before and after a short seeded fine-tune.
"""

from __future__ import annotations

from .._validation import check_bool
from .core import Row, benchmark

__all__: list[str] = []

FRACTIONS = (1.0, 0.75, 0.5, 0.35, 0.25)


@benchmark("channels")
def _bench_channels(quick: bool) -> list[Row]:
    """Physically smaller CNNs (:func:`~course_lib.pruning.nn.channels.prune_channels`) against the dense one."""
    quick = check_bool("quick", quick)  # before any import: nothing runs on a bad call
    from ..checkpoints import load_pretrained
    from ..data import load_cifar10
    from ..formats import storage_bytes
    from ..measure import accuracy
    from ..models import to_tensor
    from ..pruning.nn.channel_scan import count_macs, fine_tune_channels
    from ..pruning.nn.channels import prune_channels
    from ..timing import cpu_capability, latency

    model = load_pretrained("cifar_vgg").eval()
    fractions = (1.0, 0.5) if quick else FRACTIONS
    test = load_cifar10("test", limit=200 if quick else 1000)
    train = load_cifar10("train", limit=500 if quick else 5000)
    steps, repeats = (5, 3) if quick else (150, 20)
    batches = {1: to_tensor(test[0][:1]), 100: to_tensor(test[0][:100])}
    dense_macs, dense_bytes = count_macs(model)["total"], storage_bytes(model)
    dense_acc = accuracy(model, test[0], test[1])
    cpu = cpu_capability()
    rows = []
    for f in fractions:
        small = prune_channels(model, f).eval()
        widths = "-".join(str(m.out_channels) for m in small.features if hasattr(m, "out_channels"))
        case = f"keep {100 * f:.0f}% of the filters ({widths})"
        rows.append(Row("channels", f"{case}: MACs per image", "pruned", count_macs(small)["total"], "dense",
                        dense_macs, " MACs"))
        rows.append(Row("channels", f"{case}: parameters, float32", "pruned", storage_bytes(small), "dense",
                        dense_bytes, "bytes"))
        for batch, x in batches.items():
            t_small = latency(lambda m=small, x=x: m(x), warmup=2, repeats=repeats, threads=1).median_ms
            t_dense = latency(lambda x=x: model(x), warmup=2, repeats=repeats, threads=1).median_ms
            rows.append(Row("channels", f"{case}: {batch} image(s), 1 thread, {cpu}", "pruned", t_small, "dense",
                            t_dense, "ms"))
        acc = accuracy(small, test[0], test[1])
        rows.append(Row("channels", f"{case}: accuracy on {len(test[1])} test images, no fine-tuning", "pruned", acc,
                        "dense", dense_acc, " (accuracy)"))
        tuned = fine_tune_channels(small, train, steps=steps, batch_size=32, lr=3e-4, seed=0)
        rows.append(Row("channels", f"{case}: accuracy after {steps} Adam steps (batch 32) on {len(train[1])} "
                        f"train images", "fine-tuned", accuracy(tuned, test[0], test[1]), "not fine-tuned", acc,
                        " (accuracy)"))
    return rows
