"""Train the course's models reproducibly: ``python -m course_lib.train NAME``.

Each run is seeded, shows a progress bar, evaluates on the test set and writes
``data/checkpoints/NAME.pt`` plus an entry in ``data/checkpoints/manifest.json``
(file, sha256, test accuracy, parameters, command, seed, training time).

The recipes (see ``RECIPES``) are deliberately short so that they run on a
laptop CPU: LeNet-300-100 in seconds, LeNet-5 in about a minute, the CIFAR-10
CNN and the Vision Transformer in about ten minutes on two cores.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from . import data as course_data
from .checkpoints import checkpoint_dir, file_sha256, load_manifest
from .measure import accuracy, count_parameters
from .models import MODELS, build_model, to_tensor

__all__ = ["Recipe", "RECIPES", "train_model", "adam_steps", "main"]


@dataclass(frozen=True)
class Recipe:
    """How a model is trained.

    Parameters
    ----------
    dataset : {"mnist", "cifar10"}
        The training data.
    epochs : int
        Passes over the training set.
    batch_size : int
        Images per step.
    optimizer : {"adam", "sgd"}
        Adam, or SGD with Nesterov momentum 0.9; both under a one-cycle learning-rate schedule.
    lr : float
        The peak learning rate.
    weight_decay : float
        L2 penalty of the optimiser.
    label_smoothing : float
        Of the cross-entropy loss.
    augment : bool
        Random crop (pad 4) and horizontal flip of each batch.
    """

    dataset: str
    epochs: int
    batch_size: int
    optimizer: str  # "adam" or "sgd"
    lr: float
    weight_decay: float = 0.0
    label_smoothing: float = 0.0
    augment: bool = False  # random crop (pad 4) and horizontal flip


RECIPES = {
    "lenet300": Recipe("mnist", epochs=15, batch_size=128, optimizer="adam", lr=1e-3),
    "lenet5": Recipe("mnist", epochs=8, batch_size=128, optimizer="adam", lr=1e-3),
    "cifar_vgg": Recipe("cifar10", epochs=15, batch_size=128, optimizer="sgd", lr=0.1,
                        weight_decay=5e-4, label_smoothing=0.1, augment=True),
    "wide_mlp": Recipe("mnist", epochs=10, batch_size=128, optimizer="adam", lr=1e-3),
    "vit_mnist": Recipe("mnist", epochs=10, batch_size=128, optimizer="adam", lr=2e-3),
}


def adam_steps(model: nn.Module, x_all: torch.Tensor, labels: np.ndarray, *, epochs: int, max_steps: int | None,
               batch_size: int, lr: float, gen: np.random.Generator, progress: bool, desc: str,
               before_step: Callable[[], None] | None = None,
               after_step: Callable[[], None] | None = None) -> nn.Module:
    """Train ``model`` in place with Adam and cross-entropy on shuffled mini-batches.

    Runs ``epochs`` passes over the data, or ``max_steps`` batches if that is fewer.
    ``before_step`` runs between ``backward()`` and the optimiser step (e.g. to zero
    the gradients of pruned weights), ``after_step`` after it (e.g. to re-apply
    masks).

    Parameters
    ----------
    model : torch.nn.Module
        Trained in place; only the parameters with ``requires_grad`` are optimised.
    x_all : torch.Tensor
        The training images as a float tensor (:func:`course_lib.models.to_tensor`).
    labels : numpy.ndarray
        Integer class indices, one per image.
    epochs : int, keyword-only
        Passes over the data.
    max_steps : int or None, keyword-only
        Stop after this many batches, if fewer than ``epochs`` passes.
    batch_size : int, keyword-only
        Images per batch.
    lr : float, keyword-only
        Adam's learning rate.
    gen : numpy.random.Generator, keyword-only
        Shuffles the data each epoch.
    progress : bool, keyword-only
        Show a progress bar.
    desc : str, keyword-only
        The progress bar's label.
    before_step, after_step : callable or None, keyword-only
        Called with no arguments before and after each optimiser step.

    Returns
    -------
    torch.nn.Module
        ``model``, in eval mode.
    """
    y_all = torch.from_numpy(labels.astype(np.int64))
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    n = len(labels)
    total = epochs * -(-n // batch_size)
    if max_steps is not None:
        total = min(total, max_steps)
    bar = tqdm(total=total, desc=desc, disable=not progress, mininterval=1.0)
    model.train()
    step = 0
    while step < total:
        order = torch.from_numpy(gen.permutation(n))
        for start in range(0, n, batch_size):
            if step >= total:
                break
            idx = order[start:start + batch_size]
            loss = loss_fn(model(x_all[idx]), y_all[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if before_step is not None:
                before_step()
            optimizer.step()
            if after_step is not None:
                after_step()
            step += 1
            bar.update(1)
            bar.set_postfix(loss=f"{loss.item():.3f}", refresh=False)
    bar.close()
    return model.eval()


def _augment(x: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
    """Random 32x32 crop of the 4-pixel reflect-padded image, and a random horizontal flip."""
    n = x.shape[0]
    padded = nn.functional.pad(x, (4, 4, 4, 4), mode="reflect")
    dy, dx = rng.integers(0, 9, size=(2, n))
    flip = rng.random(n) < 0.5
    out = torch.empty_like(x)
    for i in range(n):
        crop = padded[i, :, dy[i]:dy[i] + 32, dx[i]:dx[i] + 32]
        out[i] = crop.flip(-1) if flip[i] else crop
    return out


def train_model(name: str, *, epochs: int | None = None, seed: int = 0, data_dir=None,
                limit: int | None = None, progress: bool = True) -> tuple[nn.Module, dict]:
    """Train model ``name`` by its recipe; return the model and a summary dict.

    Parameters
    ----------
    name : str
        A key of :data:`RECIPES` (``"lenet300"``, ``"lenet5"``, ``"cifar_vgg"``, ``"wide_mlp"``, ``"vit_mnist"``).
    epochs : int or None, keyword-only
        Override the recipe's epoch count.
    seed : int, keyword-only
        Seeds the initial weights and the data order.
    data_dir : str, path or None, keyword-only
        The data folder (see :func:`course_lib.data.data_dir`).
    limit : int or None, keyword-only
        Train on the first ``limit`` training images only (tests, quick runs).
    progress : bool, keyword-only
        Show a progress bar.

    Returns
    -------
    model : torch.nn.Module
        The trained model, in eval mode.
    summary : dict
        ``{"epochs", "seed", "test_accuracy", "parameters", "training_time_s", "recipe"}``.

    Raises
    ------
    KeyError
        If ``name`` has no recipe.
    course_lib.data.DataNotFoundError
        If the data set is missing and cannot be downloaded.
    """
    recipe = RECIPES[name]
    epochs = recipe.epochs if epochs is None else epochs
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    loader = course_data.load_mnist if recipe.dataset == "mnist" else course_data.load_cifar10
    train = loader("train", limit=limit, data_dir=data_dir)
    test = loader("test", data_dir=data_dir)
    x_all = to_tensor(train.images)
    y_all = torch.from_numpy(train.labels)

    model = build_model(name)
    # channels-last convolutions are ~1.6x faster on CPU for the CNNs
    fmt = torch.channels_last if recipe.augment else torch.contiguous_format
    model = model.to(memory_format=fmt)
    if recipe.optimizer == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=recipe.lr, weight_decay=recipe.weight_decay)
    else:
        opt = torch.optim.SGD(model.parameters(), lr=recipe.lr, momentum=0.9, nesterov=True,
                              weight_decay=recipe.weight_decay)
    steps_per_epoch = -(-len(y_all) // recipe.batch_size)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=recipe.lr, epochs=epochs,
                                                steps_per_epoch=steps_per_epoch, pct_start=0.25)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=recipe.label_smoothing)

    start = time.perf_counter()
    bar = tqdm(total=epochs * steps_per_epoch, desc=f"train {name}", disable=not progress,
               mininterval=1.0)
    for epoch in range(epochs):
        model.train()
        order = torch.from_numpy(rng.permutation(len(y_all)))
        for step in range(steps_per_epoch):
            idx = order[step * recipe.batch_size:(step + 1) * recipe.batch_size]
            x, y = x_all[idx], y_all[idx]
            if recipe.augment:
                x = _augment(x, rng).contiguous(memory_format=fmt)
            loss = loss_fn(model(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            bar.update(1)
            bar.set_postfix(epoch=epoch + 1, loss=f"{loss.item():.3f}", refresh=False)
    bar.close()
    elapsed = time.perf_counter() - start
    model = model.to(memory_format=torch.contiguous_format).eval()
    acc = accuracy(model, test.images, test.labels)
    summary = {"epochs": epochs, "seed": seed, "test_accuracy": round(acc, 4),
               "parameters": count_parameters(model), "training_time_s": round(elapsed, 1),
               "recipe": asdict(recipe)}
    return model, summary


def _save(name: str, model: nn.Module, summary: dict, folder: Path, command: str) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.pt"
    with tempfile.NamedTemporaryFile(dir=folder, suffix=".tmp", delete=False) as tmp:
        torch.save(model.state_dict(), tmp)
    os.replace(tmp.name, path)
    entry = {"file": path.name, "sha256": file_sha256(path), "bytes": path.stat().st_size,
             **summary, "command": command, "threads": torch.get_num_threads(),
             "torch": torch.__version__, "machine": f"{platform.machine()} {platform.processor()}".strip(),
             "dataset_note": ("offline CIFAR-10 copy (JPEG q75 round trip, see ../shared/data/README.md); "
                              "official CIFAR-10 accuracy differs slightly")
             if MODELS[name].dataset == "cifar10" else "MNIST, official files"}
    manifest = load_manifest(folder)
    manifest[name] = entry
    with tempfile.NamedTemporaryFile("w", dir=folder, suffix=".tmp", delete=False) as tmp:
        json.dump(dict(sorted(manifest.items())), tmp, indent=2)
        tmp.write("\n")
    os.replace(tmp.name, folder / "manifest.json")
    return entry


def main(argv=None) -> int:
    """The command line: ``python -m course_lib.train NAME``; trains, saves and prints the manifest entry.

    Parameters
    ----------
    argv : list of str or None
        The arguments (default ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit status, 0.
    """
    parser = argparse.ArgumentParser(prog="python -m course_lib.train",
                                     description="Train a course model and record it in the manifest.")
    parser.add_argument("name", choices=sorted(RECIPES))
    parser.add_argument("--epochs", type=int, help="override the recipe's epoch count")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    parser.add_argument("--data-dir", help="data folder (default: $COURSE_DATA_DIR, else data/)")
    parser.add_argument("--out", help="checkpoint folder (default: data/checkpoints)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    model, summary = train_model(args.name, epochs=args.epochs, seed=args.seed, data_dir=args.data_dir)
    command = "python -m course_lib.train " + " ".join(argv if argv is not None else sys.argv[1:])
    entry = _save(args.name, model, summary, checkpoint_dir(args.out), command.strip())
    print(json.dumps(entry, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
