"""One-shot against iterative pruning with the same retraining budget, scored on the same test images.

Notebook 03 runs these two experiments short (fast mode) and shows the stored long run beside them::

    python -m course_lib.pruning.nn.compare            # both long runs -> notebooks/results/03_*.json
    python -m course_lib.pruning.nn.compare lenet      # only the LeNet-300-100 curve
    python -m course_lib.pruning.nn.compare cnn        # only the CIFAR-10 CNN comparison

* :func:`sparsity_curve` -- at each sparsity: pruned without retraining, one-shot + retraining, iterative
  (the same number of retraining steps), with the paired accuracy differences and their standard errors;
* :func:`schedule_comparison` -- one sparsity, one-shot + retraining against iterative, with the iterative
  run's rounds, scored at the end on a (larger) test set.

Every accuracy difference is paired (:func:`course_lib.measure.paired_difference`): the two models are
scored on the same images, and the standard error says how far the difference could move on a rerun.
"""

from __future__ import annotations

import sys

import numpy as np
from torch import nn

from ..._validation import check_bool, check_choice, check_fraction, check_int, check_model, check_random_state
from ...measure import paired_difference, predict
from .finetune import check_dataset, iterative_prune, one_shot_prune
from .masks import apply_masks, masks_for

__all__ = ["sparsity_curve", "schedule_comparison", "LONG_RUNS", "run_long", "main"]

#: the long runs' settings (the notebook's ``COURSE_FULL=1`` uses the same)
LONG_RUNS = {
    "03_lenet_curve": {"model": "lenet300", "targets": (0.5, 0.7, 0.8, 0.9, 0.93, 0.95, 0.97, 0.98, 0.99, 0.995),
                       "rounds": 3, "steps_per_round": 469},               # 469 steps = one epoch of MNIST
    "03_cnn_schedules": {"model": "cifar_vgg", "sparsity": 0.95, "rounds": 4, "steps_per_round": 100,
                         "curve": (0.5, 0.7, 0.8, 0.9, 0.95), "history_test_images": 1000},
}


def _epochs(train, steps_per_round: int, batch_size: int = 128) -> int:
    """Epochs enough for ``steps_per_round`` steps (``max_steps`` stops each round there)."""
    n = len(check_dataset("train", train)[1])
    return max(1, -(-steps_per_round * batch_size // max(n, 1)))


def _sparsities(name: str, values) -> list[float]:
    """A list of sparsities in [0, 1) (fractions, not percentages; not a single number or a string)."""
    if isinstance(values, (str, bytes)) or not isinstance(values, (list, tuple, np.ndarray)):
        raise TypeError(f"{name} must be a list of sparsities in [0, 1), got {type(values).__name__} ({values!r}).")
    return [check_fraction(f"{name}[{i}]", v, allow_one=False) for i, v in enumerate(values)]


def _check_common(model, train, test, history_test, rounds, steps_per_round, scope, rng):
    """The checks both experiments share, made before any training."""
    check_model(model)
    rounds = check_int("rounds", rounds, minimum=1)
    steps_per_round = check_int("steps_per_round", steps_per_round, minimum=0)
    check_dataset("train", train)
    images, labels = check_dataset("test", test)
    history_test = test if history_test is None else history_test
    check_dataset("history_test", history_test)
    check_choice("scope", scope, ("layer", "global"))
    check_random_state(rng)
    return rounds, steps_per_round, images, labels, history_test


def _pair(a, b, labels) -> list[float]:
    d, se = paired_difference(a, b, labels)
    return [float(d), float(se)]


def sparsity_curve(model: nn.Module, targets, *, train, test, rounds: int, steps_per_round: int,
                   history_test=None, scope: str = "global", rng=0) -> dict:
    """Accuracy against sparsity for three ways of pruning, with the same retraining budget.

    Parameters
    ----------
    model : torch.nn.Module
        A trained model; not modified.
    targets : sequence of float in [0, 1)
        The sparsities.
    train, test : Dataset, keyword-only
        As for :func:`iterative_prune`; every model is scored on all of ``test``.
    rounds, steps_per_round : int, keyword-only
        The iterative schedule; one-shot + retraining gets ``rounds * steps_per_round`` steps at once.
    history_test : Dataset, optional, keyword-only
        What the pruning loops score their rounds on (not returned; default ``test``: a few images save time).
    scope : str, keyword-only
        As in :func:`masks_for` (default ``"global"``: one threshold for all layers).
    rng : int, keyword-only
        The seed of every retraining's shuffling (the same for both methods).

    Returns
    -------
    dict
        JSON data: ``targets``, ``budget``, ``unpruned``, ``no_retraining``, ``one_shot_retrained``,
        ``iterative`` (accuracies, fractions) and ``iterative_minus_one_shot``,
        ``retrained_minus_no_retraining``, ``no_retraining_minus_unpruned`` (``[difference, standard error]``
        per sparsity, fractions).

    Raises
    ------
    TypeError, ValueError
        If ``targets`` is not a list of fractions in [0, 1), a data set is not a ``Dataset`` tuple, or
        an option has the wrong type or range -- all checked before any training.
    """
    targets = _sparsities("targets", targets)
    rounds, steps_per_round, images, labels, history_test = _check_common(
        model, train, test, history_test, rounds, steps_per_round, scope, rng)
    budget, epochs = rounds * steps_per_round, _epochs(train, steps_per_round)
    unpruned = predict(model, images)
    out = {"targets": targets, "rounds": rounds, "steps_per_round": steps_per_round, "budget": budget,
           "test_images": len(labels), "unpruned": float(np.mean(unpruned == labels)), "no_retraining": [],
           "one_shot_retrained": [], "iterative": [], "iterative_minus_one_shot": [],
           "retrained_minus_no_retraining": [], "no_retraining_minus_unpruned": []}
    for s in targets:
        one, masks, _ = one_shot_prune(model, s, train=train, test=history_test, max_steps=budget,
                                       epochs=rounds * epochs, scope=scope, rng=rng)
        it, _, _ = iterative_prune(model, s, rounds=rounds, max_steps_per_round=steps_per_round, train=train,
                                   epochs_per_round=epochs, test=history_test, scope=scope, rng=rng)
        cut, one_p, it_p = predict(apply_masks(model, masks), images), predict(one, images), predict(it, images)
        for key, p in (("no_retraining", cut), ("one_shot_retrained", one_p), ("iterative", it_p)):
            out[key].append(float(np.mean(p == labels)))
        out["iterative_minus_one_shot"].append(_pair(one_p, it_p, labels))
        out["retrained_minus_no_retraining"].append(_pair(cut, one_p, labels))
        out["no_retraining_minus_unpruned"].append(_pair(unpruned, cut, labels))
    return out


def schedule_comparison(model: nn.Module, sparsity: float, *, train, test, rounds: int, steps_per_round: int,
                        history_test=None, curve=(), scope: str = "global", rng=0) -> dict:
    """One-shot + retraining against iterative pruning to one sparsity, with the same budget.

    Parameters
    ----------
    model : torch.nn.Module
        A trained model; not modified.
    sparsity : float in [0, 1)
    train, test : Dataset, keyword-only
        ``test`` scores the two final models (and the cut without retraining) on the same images.
    rounds, steps_per_round : int, keyword-only
        As for :func:`sparsity_curve`.
    history_test : Dataset, optional, keyword-only
        Scores the rounds of the iterative run (default: ``test``; a smaller set saves time).
    curve : sequence of float, keyword-only
        Sparsities scored without retraining (on ``history_test``), for the plot.
    scope, rng : keyword-only
        As for :func:`sparsity_curve`.

    Returns
    -------
    dict
        JSON data: ``unpruned``, ``no_retraining``, ``one_shot_retrained``, ``iterative`` (fractions, on
        ``test``), ``iterative_minus_one_shot``, ``retrained_minus_no_retraining`` and
        ``no_retraining_minus_unpruned`` (``[difference, standard error]``), ``history`` (the iterative
        rounds on ``history_test``: ``sparsity``, ``accuracy_pruned``, ``accuracy``), ``per_layer_kept`` and ``curve``
        (``targets``, ``accuracy``).

    Raises
    ------
    TypeError, ValueError
        If ``sparsity`` is not in [0, 1), ``curve`` not a list of such fractions, a data set is not a
        ``Dataset`` tuple, or an option has the wrong type or range -- all checked before any training.
    """
    sparsity = check_fraction("sparsity", sparsity, allow_one=False)
    curve = _sparsities("curve", curve)
    rounds, steps_per_round, images, labels, history_test = _check_common(
        model, train, test, history_test, rounds, steps_per_round, scope, rng)
    h_images, h_labels = check_dataset("history_test", history_test)
    budget, epochs = rounds * steps_per_round, _epochs(train, steps_per_round)
    one, masks, _ = one_shot_prune(model, sparsity, train=train, test=history_test, max_steps=budget,
                                   epochs=rounds * epochs, scope=scope, rng=rng)
    it, it_masks, hist = iterative_prune(model, sparsity, rounds=rounds, max_steps_per_round=steps_per_round,
                                         epochs_per_round=epochs, train=train, test=history_test, scope=scope,
                                         rng=rng)
    base, cut = predict(model, images), predict(apply_masks(model, masks), images)
    one_p, it_p = predict(one, images), predict(it, images)
    curve_acc = [float(np.mean(predict(apply_masks(model, masks_for(model, s, scope=scope)), h_images) == h_labels))
                 for s in curve]
    return {"sparsity": float(sparsity), "rounds": rounds, "steps_per_round": steps_per_round, "budget": budget,
            "train_images": len(check_dataset("train", train)[1]), "test_images": len(labels),
            "history_test_images": len(h_labels),
            "unpruned": float(np.mean(base == labels)), "no_retraining": float(np.mean(cut == labels)),
            "one_shot_retrained": float(np.mean(one_p == labels)), "iterative": float(np.mean(it_p == labels)),
            "iterative_minus_one_shot": _pair(one_p, it_p, labels),
            "retrained_minus_no_retraining": _pair(cut, one_p, labels),
            "no_retraining_minus_unpruned": _pair(base, cut, labels),
            "history": [{"sparsity": h["sparsity"], "accuracy_pruned": h["accuracy_pruned"],
                         "accuracy": h["accuracy"]} for h in hist],
            "per_layer_kept": {name: float(m.mean()) for name, m in it_masks.items()},
            "curve": {"targets": curve, "accuracy": curve_acc}}


def run_long(name: str, *, save: bool = True) -> dict:
    """Run one of :data:`LONG_RUNS` at its full length and (by default) save it with its provenance."""
    import course_lib as cl

    from ...results import save_result

    check_choice("name", name, tuple(sorted(LONG_RUNS)))
    save = check_bool("save", save)
    import time

    settings = dict(LONG_RUNS[name])
    cfg = cl.setup(quiet=True)
    start = time.perf_counter()
    model = cl.load_pretrained(settings.pop("model"))
    if name == "03_lenet_curve":
        data = sparsity_curve(model, settings["targets"], train=cl.load_mnist("train"), test=cl.load_mnist("test"),
                              rounds=settings["rounds"], steps_per_round=settings["steps_per_round"], rng=cfg.seed)
    else:
        test = cl.load_cifar10("test")
        history_test = cl.load_cifar10("test", limit=settings["history_test_images"])
        data = schedule_comparison(model, settings["sparsity"], train=cl.load_cifar10("train"), test=test,
                                   history_test=history_test, rounds=settings["rounds"],
                                   steps_per_round=settings["steps_per_round"], curve=settings["curve"], rng=cfg.seed)
    data["wall_s"] = round(time.perf_counter() - start, 1)
    if save:
        short = name.split("_", 1)[1].split("_")[0]
        save_result(name, data, command=f"python -m course_lib.pruning.nn.compare {short}", seed=cfg.seed,
                    threads=cfg.threads, force=True)
    return data


def main(argv=None) -> int:
    """``python -m course_lib.pruning.nn.compare [lenet|cnn]``: run the long runs, write their JSON."""
    import time

    argv = sys.argv[1:] if argv is None else list(argv)
    which = {"lenet": ["03_lenet_curve"], "cnn": ["03_cnn_schedules"]}
    if len(argv) > 1 or (argv and argv[0] not in which):
        print("usage: python -m course_lib.pruning.nn.compare [lenet|cnn]", file=sys.stderr)
        return 2
    names = which[argv[0]] if argv else [n for v in which.values() for n in v]
    for name in names:
        start = time.perf_counter()
        run_long(name)
        print(f"{name}: written in {time.perf_counter() - start:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
