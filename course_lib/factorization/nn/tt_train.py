"""TT networks on MNIST, trained from scratch or by TT-SVD and fine-tuning: notebook 08's architecture table.

The wide MLP (784-1024-1024-10) with ``fc1`` and ``fc2`` as TT layers (:data:`MNIST_TT_MODES`):

* :func:`train_from_scratch` -- the dense network and TT networks of several ranks trained from random
  weights with Adam on the same budget, the rank-4 TT network once more with plain SGD (momentum 0.9), and
  t3f's tutorial layer (784 -> 625, modes ``7x4x7x4 -> 5^4``, rank 4);
* :func:`init_scale_runs` -- the rank-4 TT network with its initial weight 100 times too small
  (tensorly-torch's init) trained with SGD and with Adam: SGD exposes a bad init that Adam hides;
* :func:`fine_tune_from_tt_svd` -- the trained network's ``fc1`` and ``fc2`` by TT-SVD, then fine-tuned.

Notebook 08's fast mode runs them on a subset for a few steps. Its long run,
``python -m course_lib.factorization.nn.tt_train`` (:func:`main`), trains every network for one epoch on all
60,000 training images, tests on all 10,000 and writes ``notebooks/results/08_tt_mnist.json``
(:func:`course_lib.results.save_result`): the fast mode shows it beside its own numbers, labelled.
Accuracy differences are paired on the same test images (:func:`course_lib.measure.paired_difference`).
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import os
import sys
import time

import numpy as np
import torch
from torch import nn

from ..._validation import check_bool, check_float, check_int, check_labels, check_model, check_positive_float
from ...measure import paired_difference, predict
from ...models import MNIST_MEAN, MNIST_STD, Standardize, build_model, to_tensor
from ...train import adam_steps
from ._checks import check_batch, check_dataset, check_ranks, check_reads, check_record, reader
from .tt import TTLinear, tt_model

__all__ = ["MNIST_TT_MODES", "T3F_MODES", "RESULT_NAME", "PAIRS", "fit_adam", "fit_sgd", "shrink_init",
           "t3f_network", "train_from_scratch", "init_scale_runs", "fine_tune_from_tt_svd", "differences",
           "difference_verdicts", "result_data", "long_run", "main"]

#: the wide MLP's two hidden layers as TT-matrices: (in_modes, out_modes)
MNIST_TT_MODES = {"fc1": ((4, 7, 7, 4), (4, 8, 8, 4)), "fc2": ((4, 8, 8, 4), (4, 8, 8, 4))}
#: t3f's tutorial layer, 784 -> 625
T3F_MODES = ((7, 4, 7, 4), (5, 5, 5, 5))
RESULT_NAME = "08_tt_mnist"
BATCH = 64
#: the names of the networks (rows of the table), built from the ranks
DENSE, CHECKPOINT, SGD, T3F = "dense, same budget", "dense, trained checkpoint", "TT-rank 4, SGD", \
    "t3f's 784->625 TT (rank 4) + 625->10"
SMALL_SGD, SMALL_ADAM = "TT-rank 4, init 1/100, SGD", "TT-rank 4, init 1/100, Adam"


def tuned_name(rank: int) -> str:
    """The row of the TT-SVD + fine-tuning network of ``rank``."""
    rank = check_int("rank", rank, minimum=1)
    return f"TT-SVD rank {rank} + fine-tuning"


#: the pairs (a, b) whose accuracy difference b - a the notebook prints as a verdict (``{top}``: the largest rank)
PAIRS = ((DENSE, "TT-rank 4"), ("TT-rank 1", "TT-rank {top}"), ("TT-rank 4", SGD), (SMALL_SGD, SMALL_ADAM),
         ("TT-rank {top}", "TT-SVD rank {top} + fine-tuning"))


def _steps_check(steps) -> int:
    return check_int("steps", steps, minimum=0)


def _seed(seed) -> int:
    return check_int("seed", seed, minimum=0)


def _mnist(train, test, reference=None):
    """Check the two MNIST splits (and that ``reference`` reads them) before any training."""
    mlp = reader("wide_mlp")
    check_dataset("train", train, mlp), check_dataset("test", test, mlp)
    if reference is not None:
        check_reads("reference", reference, test.images)


def fit_adam(model, x, labels, *, steps: int, lr: float = 3e-3, seed: int = 0):
    """``steps`` Adam steps of 64 images (reshuffled each epoch, seeded by ``seed``); returns ``model`` in eval mode."""
    labels = check_batch(model, x, labels)
    steps, lr, seed = _steps_check(steps), check_positive_float("lr", lr), _seed(seed)
    torch.manual_seed(seed)
    epochs = max(1, math.ceil(steps * BATCH / len(labels)))
    return adam_steps(model, x, labels, epochs=epochs, max_steps=steps, batch_size=BATCH, lr=lr,
                      gen=np.random.default_rng(seed), progress=False, desc="")


def fit_sgd(model, x, labels, *, steps: int, lr: float = 0.05, momentum: float = 0.9, seed: int = 0):
    """The seed's "trained with SGD like an ordinary network": ``torch.optim.SGD`` with momentum, no adaptive
    step size, on the same batches and budget as :func:`fit_adam`; returns ``model`` in eval mode."""
    labels = check_batch(model, x, labels)
    steps, lr, seed = _steps_check(steps), check_positive_float("lr", lr), _seed(seed)
    momentum = check_float("momentum", momentum, low=0.0, high=1.0, high_open=True)
    torch.manual_seed(seed)
    gen, y_all = np.random.default_rng(seed), torch.from_numpy(np.asarray(labels).astype(np.int64))
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    model.train()
    done = 0
    while done < steps:
        order = torch.from_numpy(gen.permutation(len(y_all)))
        for start in range(0, len(y_all), BATCH):
            if done == steps:
                break
            idx = order[start:start + BATCH]
            loss = nn.functional.cross_entropy(model(x[idx]), y_all[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            done += 1
    return model.eval()


def shrink_init(model, factor: float):
    """Scale every :class:`TTLinear` of ``model`` so its reconstructed weight is ``factor`` times the original.

    Each of the ``d`` cores is multiplied by ``factor ** (1 / d)`` -- the weight is their product. With
    ``factor = 0.01`` this is the init of tensorly-torch's TT layers: about 100 times too small. In place;
    returns ``model``.
    """
    check_model(model)
    factor = check_positive_float("factor", factor)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, TTLinear):
                for c in m.cores:
                    c.mul_(factor ** (1 / len(m.cores)))
    return model


def t3f_network(seed: int = 0) -> nn.Module:
    """t3f's tutorial network: 784 -> 625 TT layer (rank 4) -> ReLU -> 625 -> 10 (random weights)."""
    torch.manual_seed(_seed(seed))
    net = nn.Sequential(Standardize(MNIST_MEAN, MNIST_STD), nn.Flatten(),
                        TTLinear(*T3F_MODES, 4, rng=seed), nn.ReLU(), nn.Linear(625, 10))
    net.input_shape = (1, 28, 28)
    return net


def n_params(model) -> int:
    """Parameters of ``model`` (weights and biases)."""
    return sum(p.numel() for p in model.parameters())


def _row(name, net, reference, test, layers_weights, dense_weights, predictions):
    pred = predict(net, test.images)
    predictions[name] = pred
    return {"network": name, "fc1+fc2 weights": layers_weights,
            "layer compression": round(dense_weights / layers_weights, 1),
            "network compression": round(n_params(reference) / n_params(net), 1),
            "test error %": round(100 * float(np.mean(pred != test.labels)), 2)}


def _tt_weights(net) -> int:
    return net.fc1.params + net.fc2.params


def train_from_scratch(reference, train, test, *, ranks=(1, 4, 16), steps: int, seed: int = 0,
                       progress: bool = False) -> dict:
    """The architecture table: dense and TT networks trained from random weights on the same budget.

    Parameters
    ----------
    reference : torch.nn.Module
        The trained ``wide_mlp`` (its row: "dense, trained checkpoint"; the network compressions are
        relative to its parameter count).
    train, test : Dataset
        MNIST splits (:func:`course_lib.data.load_mnist`).
    ranks : sequence of int, keyword-only
        The TT-ranks trained with Adam (4 must be among them: the SGD row is rank 4).
    steps : int, keyword-only
        Steps of 64 images per network.
    seed : int, keyword-only
    progress : bool, keyword-only
        A progress bar over the networks.

    Returns
    -------
    dict
        ``rows`` (the table: network, fc1+fc2 weights, layer and network compression, test error %),
        ``predictions`` (network -> predicted test classes) and ``networks`` (network -> trained model).
    """
    from tqdm.auto import tqdm

    check_model(reference, "reference")
    steps, ranks, seed = _steps_check(steps), check_ranks(ranks), _seed(seed)
    progress = check_bool("progress", progress)
    _mnist(train, test, reference)
    x = to_tensor(train.images)
    dense_weights = 784 * 1024 + 1024 * 1024
    rows, predictions, networks = [], {}, {}
    torch.manual_seed(seed)
    networks[DENSE] = fit_adam(build_model("wide_mlp"), x, train.labels, steps=steps, lr=1e-3, seed=seed)
    rows.append(_row(DENSE, networks[DENSE], reference, test, dense_weights, dense_weights, predictions))
    rows.append(_row(CHECKPOINT, reference, reference, test, dense_weights, dense_weights, predictions))
    for r in tqdm(ranks, desc="TT networks", disable=not progress):
        torch.manual_seed(seed)
        net = fit_adam(tt_model(build_model("wide_mlp"), MNIST_TT_MODES, r, decompose=False, seed=seed), x,
                       train.labels, steps=steps, seed=seed)
        networks[f"TT-rank {r}"] = net
        rows.append(_row(f"TT-rank {r}", net, reference, test, _tt_weights(net), dense_weights, predictions))
    torch.manual_seed(seed)
    net = fit_sgd(tt_model(build_model("wide_mlp"), MNIST_TT_MODES, 4, decompose=False, seed=seed), x, train.labels,
                  steps=steps, seed=seed)
    networks[SGD] = net
    rows.append(_row(SGD, net, reference, test, _tt_weights(net), dense_weights, predictions))
    net = fit_adam(t3f_network(seed), x, train.labels, steps=steps, seed=seed)
    networks[T3F] = net
    row = _row(T3F, net, reference, test, net[2].params, 784 * 625, predictions)
    row["network compression"] = round((784 * 625 + 625 + 6260) / n_params(net), 1)
    rows.append(row)
    return {"rows": rows, "predictions": predictions, "networks": networks}


def init_scale_runs(train, test, *, steps: int, factor: float = 0.01, seed: int = 0) -> dict:
    """The rank-4 TT network with its initial weight ``factor`` times Glorot's, trained with SGD and with Adam.

    Returns
    -------
    dict
        ``predictions`` (network -> predicted test classes), ``untrained`` (its test accuracy before training,
        a fraction) and ``rows`` (the table's rows, layer compressions against the dense ``fc1 + fc2``).
    """
    steps, factor, seed = _steps_check(steps), check_positive_float("factor", factor), _seed(seed)
    _mnist(train, test)
    x = to_tensor(train.images)
    predictions, rows = {}, []
    dense_weights = 784 * 1024 + 1024 * 1024
    reference_params = n_params(build_model("wide_mlp"))
    untrained = None
    for name, fit in ((SMALL_SGD, fit_sgd), (SMALL_ADAM, fit_adam)):
        torch.manual_seed(seed)
        net = shrink_init(tt_model(build_model("wide_mlp"), MNIST_TT_MODES, 4, decompose=False, seed=seed), factor)
        if untrained is None:
            untrained = float(np.mean(predict(net, test.images) == test.labels))
        net = fit(net, x, train.labels, steps=steps, seed=seed)
        pred = predict(net, test.images)
        predictions[name] = pred
        rows.append({"network": name, "fc1+fc2 weights": _tt_weights(net),
                     "layer compression": round(dense_weights / _tt_weights(net), 1),
                     "network compression": round(reference_params / n_params(net), 1),
                     "test error %": round(100 * float(np.mean(pred != test.labels)), 2)})
    return {"predictions": predictions, "untrained": untrained, "rows": rows}


def fine_tune_from_tt_svd(reference, train, test, *, rank: int = 16, steps: int, lr: float = 1e-3,
                          seed: int = 0) -> dict:
    """``reference``'s ``fc1`` and ``fc2`` by TT-SVD at ``rank``, then the whole network fine-tuned with Adam.

    Returns
    -------
    dict
        ``before`` and ``after`` (test accuracies, fractions), ``weights`` (numbers in the cores of fc1 and fc2),
        ``predictions`` (``{tuned_name(rank): predicted test classes}``), ``row`` (the table's row) and
        ``network`` (the fine-tuned model).
    """
    check_model(reference, "reference")
    rank, steps = check_int("rank", rank, minimum=1), _steps_check(steps)
    lr, seed = check_positive_float("lr", lr), _seed(seed)
    _mnist(train, test, reference)
    net = tt_model(reference, MNIST_TT_MODES, rank)
    before = float(np.mean(predict(net, test.images) == test.labels))
    fit_adam(net, to_tensor(train.images), train.labels, steps=steps, lr=lr, seed=seed)
    pred = predict(net, test.images)
    dense_weights = 784 * 1024 + 1024 * 1024
    name = tuned_name(rank)
    return {"before": before, "after": float(np.mean(pred == test.labels)), "weights": _tt_weights(net),
            "predictions": {name: pred}, "network": net,
            "row": {"network": name, "fc1+fc2 weights": _tt_weights(net),
                    "layer compression": round(dense_weights / _tt_weights(net), 1),
                    "network compression": round(n_params(reference) / n_params(net), 1),
                    "test error %": round(100 * float(np.mean(pred != test.labels)), 2)}}


def _pairs(predictions) -> list[tuple[str, str]]:
    ranks = [int(k.split()[-1]) for k in predictions if k.startswith("TT-rank ") and k.split()[-1].isdigit()]
    top = max(ranks) if ranks else 16
    return [(a.format(top=top), b.format(top=top)) for a, b in PAIRS]


def differences(predictions: dict, labels, pairs=None) -> list[dict]:
    """Paired accuracy differences ``b - a`` on the same test images, in points, with two standard errors.

    Parameters
    ----------
    predictions : dict of str -> predicted classes
    labels : array of int
        The true classes of the test images.
    pairs : sequence of (a, b) or None
        Default: :data:`PAIRS` (with ``{top}`` the largest TT-rank trained); pairs naming a network that is
        not in ``predictions`` are skipped.

    Returns
    -------
    list of dict
        ``{"a", "b", "difference", "two_se"}`` per pair (points).

    Raises
    ------
    TypeError, ValueError
        If ``predictions`` is not a dict of network name -> predicted classes, or ``pairs`` not pairs of names.
    """
    if not isinstance(predictions, dict) or not all(isinstance(k, str) for k in predictions):
        raise TypeError(f"predictions must be a dict of network name -> predicted classes, got "
                        f"{type(predictions).__name__}.")
    if pairs is not None and (isinstance(pairs, str) or not isinstance(pairs, (list, tuple))
                              or not all(isinstance(p, (list, tuple)) and len(p) == 2 for p in pairs)):
        raise TypeError(f"pairs must be None or a list of (a, b) pairs of network names, got {pairs!r:.60}.")
    out = []
    for a, b in (_pairs(predictions) if pairs is None else pairs):
        if a in predictions and b in predictions:
            d, se = paired_difference(predictions[a], predictions[b], labels)
            out.append({"a": a, "b": b, "difference": 100 * d, "two_se": 200 * se})
    return out


def difference_verdicts(diffs) -> list:
    """One :func:`course_lib.verdicts.difference` per entry of :func:`differences` (live or stored)."""
    from ...verdicts import difference

    if not isinstance(diffs, (list, tuple)):
        raise TypeError(f"diffs must be the list differences() returned, got {type(diffs).__name__}.")
    diffs = [check_record(f"diffs[{i}]", x, ("a", "b", "difference", "two_se")) for i, x in enumerate(diffs)]
    return [difference((x["difference"], x["two_se"]), names=(x["a"], x["b"])) for x in diffs]


def result_data(scratch: dict, init: dict, tuned: dict, test, *, steps: int, train_images: int,
                wall_s: float | None = None) -> dict:
    """The JSON data of a run: the table, the accuracies, the paired differences (stored as the long run)."""
    check_record("scratch", scratch, ("predictions", "rows")), check_record("tuned", tuned, ("predictions", "row"))
    check_record("init", init, ("predictions", "rows", "untrained")), check_labels(getattr(test, "labels", None),
                                                                                   name="test.labels")
    steps, train_images = check_int("steps", steps, minimum=0), check_int("train_images", train_images, minimum=1)
    wall_s = check_float("wall_s", wall_s, low=0.0, allow_none=True)
    predictions = {**scratch["predictions"], **init["predictions"], **tuned["predictions"]}
    rows = scratch["rows"] + init["rows"] + [tuned["row"]]
    data = {"train_images": int(train_images), "test_images": int(len(test.labels)), "steps": int(steps),
            "batch_size": BATCH, "rows": rows,
            "accuracy": {k: round(100 * float(np.mean(p == test.labels)), 2) for k, p in predictions.items()},
            "untrained_small_init": round(100 * init["untrained"], 2),
            "before_fine_tuning": round(100 * tuned["before"], 2),
            "differences": differences(predictions, test.labels)}
    if wall_s is not None:
        data["wall_s"] = round(wall_s, 1)
    return data


def long_run(*, epochs: int = 1, ranks=(1, 2, 4, 8, 16), seed: int = 0, progress: bool = True) -> dict:
    """Every network of the table trained for ``epochs`` on all 60,000 MNIST images, tested on all 10,000."""
    from ...checkpoints import load_pretrained
    from ...data import load_mnist

    epochs = check_int("epochs", epochs, minimum=1)
    ranks, seed, progress = check_ranks(ranks), _seed(seed), check_bool("progress", progress)
    start = time.perf_counter()
    reference = load_pretrained("wide_mlp")
    train, test = load_mnist("train"), load_mnist("test")
    steps = epochs * math.ceil(len(train.labels) / BATCH)
    scratch = train_from_scratch(reference, train, test, ranks=ranks, steps=steps, seed=seed, progress=progress)
    init = init_scale_runs(train, test, steps=steps, seed=seed)
    tuned = fine_tune_from_tt_svd(copy.deepcopy(reference), train, test, rank=max(ranks), steps=steps, seed=seed)
    data = result_data(scratch, init, tuned, test, steps=steps, train_images=len(train.labels),
                       wall_s=time.perf_counter() - start)
    data["epochs"] = epochs
    return data


def main(argv=None) -> int:
    """Run the long version (one epoch per network, all of MNIST) and store it with its provenance; returns 0."""
    from ...results import save_result

    parser = argparse.ArgumentParser(prog="python -m course_lib.factorization.nn.tt_train")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="another folder for the result (tests)")
    args = parser.parse_args(argv)
    if args.epochs < 1 or args.seed < 0:
        parser.error(f"--epochs == {args.epochs}, must be >= 1" if args.epochs < 1 else
                     f"--seed == {args.seed}, must be >= 0")
    if args.out is not None and (not args.out.strip() or os.path.isfile(args.out)):
        parser.error(f"--out == {args.out!r} must name a folder to write {RESULT_NAME}.json into")
    torch.set_num_threads(1)
    data = long_run(epochs=args.epochs, seed=args.seed)
    command = " ".join(["python -m course_lib.factorization.nn.tt_train",
                        *(argv if argv is not None else sys.argv[1:])]).strip()
    path = save_result(RESULT_NAME, data, command=command, seed=args.seed, threads=1, force=True,
                       directory=args.out)
    print(json.dumps({k: v for k, v in data.items() if k != "rows"}, indent=1))
    print(f"written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
