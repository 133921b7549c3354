"""Decompose-then-fine-tune vs train-from-scratch for the flattened CNN (notebook 07).

``python -m course_lib.factorization.nn.flattened_train [--finetune-epochs N] [--scratch-epochs N]
[--seed S] [--threads T] [--out PATH]`` runs the long comparison once (half an hour on one CPU core for
1 and 5 epochs) and writes it with :func:`course_lib.results.save_result` to
``notebooks/results/07_flattened_full.json`` (:data:`RESULT_NAME`): the numbers under ``"data"``, with
the command, date, CPU capability, seed and thread count. Notebook 07 shows that stored long run
(:func:`course_lib.results.load_result`, labelled with :func:`course_lib.results.provenance`) beside a
quick re-measure, which calls :func:`compare_training` with a few steps on a subset.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

import numpy as np
import torch

from ..._validation import check_bool, check_int, check_names, check_positive_float
from ...checkpoints import load_pretrained
from ...data import load_cifar10
from ...measure import accuracy
from ...models import build_model, to_tensor
from ...results import save_result
from ...train import adam_steps
from ._checks import check_dataset, reader
from .flattened import flatten_model, set_flattened_mode

__all__ = ["FLATTENED_LAYERS", "RESULTS_FILE", "RESULT_NAME", "compare_training", "main"]

#: The CNN's convolutions that notebook 07 flattens: all but the first (3 input channels, 864 weights).
FLATTENED_LAYERS = ("features.4", "features.7", "features.11", "features.14")
#: The name of the stored long run (``course_lib.results.load_result(RESULT_NAME)``).
RESULT_NAME = "07_flattened_full"
RESULTS_FILE = Path(__file__).resolve().parents[3] / "notebooks" / "results" / f"{RESULT_NAME}.json"


def compare_training(train, test, *, layers=FLATTENED_LAYERS, finetune_steps: int, scratch_steps: int,
                     batch_size: int = 128, finetune_lr: float = 1e-3, scratch_lr: float = 2e-3, seed: int = 0,
                     progress: bool = True) -> dict:
    """Test accuracy of the rank-1 flattened CNN: decomposed, fine-tuned, and trained from scratch.

    Parameters
    ----------
    train, test : Dataset
        CIFAR-10 splits (``course_lib.data.load_cifar10``).
    layers : sequence of str, keyword-only
        The Conv2d layers to flatten (rank 1).
    finetune_steps, scratch_steps : int, keyword-only
        Adam steps of ``batch_size`` images for fine-tuning the decomposed network and for training
        the flattened network from its random initialisation.
    batch_size : int, keyword-only
    finetune_lr, scratch_lr : float, keyword-only
        Adam's learning rates.
    seed : int, keyword-only
        Seeds the fresh weights and the data order.
    progress : bool, keyword-only
        Progress bars.

    Returns
    -------
    dict
        ``dense``, ``decomposed``, ``fine_tuned``, ``from_scratch`` (test accuracies), the step
        counts, ``train_images``, ``test_images`` and the seconds each training took.

    Raises
    ------
    TypeError, ValueError
        For a split that is not a CIFAR-10 ``Dataset`` (``'train'``, or MNIST: the CNN reads 3x32x32 images),
        labels that are not one class in 0..9 per image, a bad count, rate, seed (an int >= 0) or ``progress``,
        or a layer name that is not a Conv2d of the CNN (a single name must be a list: ``["features.4"]``).
    """
    probe = reader("cifar_vgg")
    convs = [n for n, m in probe.named_modules() if isinstance(m, torch.nn.Conv2d)]
    layers = check_names("layers", layers, allowed=convs)
    check_dataset("train", train, probe), check_dataset("test", test, probe)
    seed, progress = check_int("seed", seed, minimum=0), check_bool("progress", progress)
    finetune_steps = check_int("finetune_steps", finetune_steps, minimum=0)
    scratch_steps = check_int("scratch_steps", scratch_steps, minimum=0)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    finetune_lr = check_positive_float("finetune_lr", finetune_lr)
    scratch_lr = check_positive_float("scratch_lr", scratch_lr)
    x = to_tensor(train.images)
    dense = load_pretrained("cifar_vgg")
    # the flattened layers train and are tested as one conv2d of their reconstructed filters: the same function and
    # gradients (tests/factorization/nn), about 2x faster on a CPU than the depthwise stages' forward and backward
    out = {"layers": layers, "train_images": len(train.labels), "test_images": len(test.labels),
           "batch_size": batch_size, "finetune_steps": finetune_steps, "scratch_steps": scratch_steps,
           "dense": accuracy(dense, test.images, test.labels)}
    model = set_flattened_mode(flatten_model(dense, layers), "3d")
    out["decomposed"] = accuracy(model, test.images, test.labels)
    start = time.perf_counter()
    adam_steps(model, x, train.labels, epochs=10 ** 6, max_steps=finetune_steps, batch_size=batch_size,
               lr=finetune_lr, gen=np.random.default_rng(seed), progress=progress, desc="fine-tune")
    out["finetune_s"] = time.perf_counter() - start
    out["fine_tuned"] = accuracy(model, test.images, test.labels)
    torch.manual_seed(seed)
    model = set_flattened_mode(flatten_model(build_model("cifar_vgg"), layers, decompose=False), "3d")
    start = time.perf_counter()
    adam_steps(model, x, train.labels, epochs=10 ** 6, max_steps=scratch_steps, batch_size=batch_size,
               lr=scratch_lr, gen=np.random.default_rng(seed), progress=progress, desc="from scratch")
    out["scratch_s"] = time.perf_counter() - start
    out["from_scratch"] = accuracy(model, test.images, test.labels)
    return out


def main(argv=None) -> int:
    """Run the long comparison (all of CIFAR-10) and store it with its provenance; returns 0.

    The record (:func:`course_lib.results.save_result`, written even outside ``COURSE_FULL=1``: this
    command *is* the long run) holds the command line, the date, the CPU capability, the seed and the
    thread count; its ``"data"`` are :func:`compare_training`'s numbers. ``--out`` names another file
    (its stem must be a result name such as ``07_flattened_full``).
    """
    parser = argparse.ArgumentParser(prog="python -m course_lib.factorization.nn.flattened_train")
    parser.add_argument("--out", default=str(RESULTS_FILE))
    parser.add_argument("--finetune-epochs", type=int, default=2)
    parser.add_argument("--scratch-epochs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    for flag, value, low in (("--finetune-epochs", args.finetune_epochs, 0),
                             ("--scratch-epochs", args.scratch_epochs, 0), ("--seed", args.seed, 0),
                             ("--threads", args.threads, 1)):
        if value < low:
            parser.error(f"{flag} == {value}, must be >= {low}")
    out = Path(args.out)
    if not re.fullmatch(r"[0-9]{2}_[a-z0-9_]+\.json", out.name) or out.is_dir():
        parser.error(f"--out == {args.out!r} must name a .json file whose stem is a result name such as "
                     f"{RESULT_NAME}.json")
    if out.parent.exists() and not out.parent.is_dir():
        parser.error(f"--out == {args.out!r}: {str(out.parent)!r} is a file, must be a folder")
    torch.set_num_threads(check_int("--threads", args.threads, minimum=1))
    train, test = load_cifar10("train"), load_cifar10("test")
    steps = -(-len(train.labels) // 128)
    result = compare_training(train, test, finetune_steps=args.finetune_epochs * steps,
                              scratch_steps=args.scratch_epochs * steps, seed=args.seed)
    command = "python -m course_lib.factorization.nn.flattened_train " + " ".join(
        argv if argv is not None else sys.argv[1:])
    path = save_result(out.stem, result, command=command.strip(), seed=args.seed, threads=torch.get_num_threads(),
                       force=True, directory=out.parent)
    print(json.dumps(result, indent=2))
    print(f"written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
