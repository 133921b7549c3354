"""Measure the summary's configurations (accuracy, bytes, latency) and train LeNet-300-100 from scratch four ways."""

from __future__ import annotations

import numpy as np
import torch

from ..._validation import check_fraction, check_int, check_model
from ...measure import accuracy
from ...models import to_tensor
from ...timing import latency

__all__ = ["measure_configs", "from_scratch", "csr_vs_dense"]


def measure_configs(configs, test, *, model_name: str, repeats: int = 20, rounds: int = 3,
                    progress: bool = False) -> list[dict]:
    """Accuracy on ``test``, stored bytes and CPU latency (one thread) at 1 and 100 images, per configuration.

    Parameters
    ----------
    configs : list of Config
        From :func:`~course_lib.summary.nn.configs.lenet300_configs` or ``cnn_configs``.
    test : Dataset
        A fixed test subset (its first 100 images are the batch that is timed).
    model_name : str, keyword-only
        The ``model`` column of the rows.
    repeats : int, keyword-only
        Timed calls per latency over all rounds (a fifth of them for the batch of 100).
    rounds : int, keyword-only
        The configurations are timed in turn, ``rounds`` times over; each latency is the smallest of its
        rounds' medians: a busy machine only ever adds time, and a burst of load then hits one round of
        every configuration rather than all the calls of one of them. The batch of 100 gets at least 3
        timed calls a round.
    progress : bool, keyword-only
        A tqdm bar over the configurations (their accuracy).

    Returns
    -------
    list of dict
        ``model, name, family, needs, accuracy, bytes, macs, ms_1, ms_100, iqr_1, iqr_100`` per configuration
        (``macs``: the configuration's multiply-adds per image, or None where not counted):
        the table :func:`course_lib.summary.decision_table`, the Pareto charts and the explorer read.
        ``iqr_1`` / ``iqr_100`` are the width of each latency's noise band (ms), read like a
        :class:`~course_lib.timing.Latency`'s IQR by :mod:`course_lib.verdicts` (half of it on either
        side): the larger of the chosen round's interquartile range (when the round timed at least 5 calls:
        the "IQR" of 3 calls is their full range, one slow call) and the gap between the two smallest rounds'
        medians (how well the minimum reproduces; a burst of load that slows one round is not noise of the
        minimum).

    Raises
    ------
    TypeError
        If ``configs`` is empty or not configurations (or one's fields have the wrong type), ``test`` is not a
        Dataset, ``model_name`` not a str, or ``repeats`` / ``rounds`` not an int, ``progress`` not a bool.
    ValueError
        If ``repeats`` or ``rounds`` is < 1, a configuration's ``family`` / ``needs`` is unknown or its
        ``bytes`` (or ``macs``, when given) < 1, two configurations share a name, or ``test`` does not fit a
        configuration's model (the other data set's images).
    """
    from ..._validation import check_bool, check_choice
    from ...widgets.layout import check_dataset
    from .._checks import text
    from ..decisions import NEEDS
    from .configs import FAMILIES, Config

    repeats = check_int("repeats", repeats, minimum=1)
    if not isinstance(configs, (list, tuple)) or not configs or not all(isinstance(c, Config) for c in configs):
        raise TypeError("configs must be a non-empty list of Config (summary.nn.lenet300_configs / cnn_configs).")
    rounds = check_int("rounds", rounds, minimum=1)
    check_bool("progress", progress)
    text("model_name", model_name)
    seen = {}
    for i, c in enumerate(configs):
        text(f"configs[{i}].name", c.name)
        if c.name in seen:
            raise ValueError(f"configs[{i}] and configs[{seen[c.name]}] are both named {c.name!r}, must each be "
                             f"named once.")
        seen[c.name] = i
        check_choice(f"configs[{i}].family", c.family, FAMILIES)
        check_choice(f"configs[{i}].needs", c.needs, NEEDS)
        check_model(c.model, f"configs[{i}].model")
        check_int(f"configs[{i}].bytes", c.bytes, minimum=1)
        if c.macs is not None:
            check_int(f"configs[{i}].macs", c.macs, minimum=1)
        check_dataset("test", test, c.model)
    one, hundred = to_tensor(test.images[:1]), to_tensor(test.images[:100])
    items = configs
    if check_bool("progress", progress):
        from tqdm.auto import tqdm

        items = tqdm(configs, desc=f"measure {model_name}")
    rows = [{"model": model_name, "name": c.name, "family": c.family, "needs": c.needs,
             "accuracy": accuracy(c.model.eval(), test.images, test.labels), "bytes": int(c.bytes),
             "macs": None if c.macs is None else int(c.macs)} for c in items]
    times = {k: [[] for _ in configs] for k in ("ms_1", "ms_100")}
    iqrs = {k: [[] for _ in configs] for k in ("ms_1", "ms_100")}
    per_round = max(1, repeats // rounds)
    with torch.inference_mode():
        for _ in range(rounds):  # interleaved: a burst of load on a shared machine hits every configuration
            for i, c in enumerate(configs):
                net = c.model
                for key, lat in (("ms_1", latency(lambda net=net: net(one), repeats=per_round, threads=1)),
                                 ("ms_100", latency(lambda net=net: net(hundred), warmup=1,
                                                    repeats=max(3, per_round // 5), threads=1))):
                    times[key][i].append(lat.median_ms)
                    iqrs[key][i].append(lat.iqr_ms if lat.repeats >= 5 else 0.0)  # 3 calls: their range, not an IQR
    for i, row in enumerate(rows):
        for key, iqr_key in (("ms_1", "iqr_1"), ("ms_100", "iqr_100")):
            medians = times[key][i]
            best = int(np.argmin(medians))
            row[key] = float(medians[best])
            runner_up = sorted(medians)[1] if len(medians) > 1 else medians[best]
            row[iqr_key] = float(max(iqrs[key][i][best], runner_up - medians[best]))
    return rows


def from_scratch(train, test, *, steps: int = 300, sparsity: float = 0.9, seed: int = 0) -> dict:
    """LeNet-300-100 trained from random weights with the same budget: dense, QAT int8, sparse, TT fc1.

    The seed says pruning and quantization "не дают возможности обучать с нуля" (cannot train from
    scratch). Two counter-examples, each with the dense run's budget (``steps`` Adam steps):

    * **QAT from scratch**: fake-quantized int8 weights and activations in the loop from the first step
      (:func:`~course_lib.quantization.nn.prepare_qat` of an untrained model), then converted to int8;
    * **sparse from scratch**: a fixed ``sparsity`` mask drawn at random initialisation (magnitude of the
      random weights, per layer) and held during training (:func:`~course_lib.pruning.nn.fine_tune`),
      the static-sparse baseline of the sparse-training literature (e.g. Evci et al. 2020, RigL);

    and, for the factorization claim, fc1 as a rank-8 TT layer from random cores (notebook 08).

    Parameters
    ----------
    train, test : Dataset
        MNIST training and test images.
    steps : int, keyword-only
        Adam steps of every run (batch 128; the TT run batch 64 as in notebook 08).
    sparsity : float in [0, 1), keyword-only
    seed : int, keyword-only
        Seeds the initial weights and the shuffling.

    Returns
    -------
    dict
        ``dense``, ``qat``, ``sparse``, ``tt`` (test accuracies), ``sparsity``, ``steps`` and
        ``tt_ratio`` (dense parameters / TT parameters of the whole network).

    Raises
    ------
    TypeError
        If ``steps`` or ``seed`` is not an int, ``sparsity`` not a number, or ``train`` / ``test`` not a
        Dataset.
    ValueError
        If ``steps < 1``, ``seed < 0``, ``sparsity`` is not in [0, 1) (a percentage is refused), or
        ``train`` / ``test`` is not MNIST (the other data set's images, labels out of range).
    """
    from ...factorization.nn import tt_model
    from ...models import build_model
    from ...pruning import nn as prune_nn
    from ...quantization import nn as qt
    from ...train import adam_steps
    from ...widgets.layout import check_dataset
    from .._checks import fraction
    from .configs import LENET_TT_MODES

    steps = check_int("steps", steps, minimum=1)
    sparsity = check_fraction("sparsity", fraction("sparsity", sparsity), allow_one=False)
    seed = check_int("seed", seed, minimum=0)
    probe = build_model("lenet300")  # the model both sets must fit
    check_dataset("train", train, probe)
    check_dataset("test", test, probe)
    x = to_tensor(train.images)

    def fresh():
        torch.manual_seed(seed)
        return build_model("lenet300")

    def score(m):
        return accuracy(m.eval(), test.images, test.labels)

    dense = fresh()
    torch.manual_seed(seed)
    adam_steps(dense, x, train.labels, epochs=100, max_steps=steps, batch_size=128, lr=1e-3,
               gen=np.random.default_rng(seed), progress=False, desc="")
    qat = qt.train_qat(qt.prepare_qat(fresh(), bits=8), train.images, train.labels, epochs=100, max_steps=steps,
                       lr=1e-3, rng=seed)
    init = fresh()
    sparse = prune_nn.fine_tune(init, prune_nn.masks_for(init, sparsity), train.images, train.labels, epochs=100,
                                max_steps=steps, lr=1e-3, rng=seed)
    tt = tt_model(fresh(), LENET_TT_MODES, 8, decompose=False, seed=seed)
    torch.manual_seed(seed)
    adam_steps(tt, x, train.labels, epochs=100, max_steps=steps, batch_size=64, lr=3e-3,
               gen=np.random.default_rng(seed), progress=False, desc="")
    n_dense, n_tt = (sum(p.numel() for p in m.parameters()) for m in (dense, tt))
    return {"dense": score(dense), "qat": score(qt.convert_qat(qat)), "sparse": score(sparse), "tt": score(tt),
            "sparsity": sparsity, "steps": steps, "tt_ratio": n_dense / n_tt}


def csr_vs_dense(shape=(300, 784), sparsities=(0.5, 0.8, 0.9, 0.95, 0.98, 0.99), *, batch: int = 100,
                 repeats: int = 10, rng=0) -> dict:
    """A dense NumPy product and a SciPy CSR product of the same pruned matrix, timed with their spread.

    The timings are :func:`course_lib.pruning.sparse.dense_vs_sparse_latencies`' (alternating blocks, one
    thread); this adds the verdict.

    Parameters
    ----------
    shape : (int, int)
        ``(out, in)`` of the weight matrix (LeNet-300-100's ``fc1``: ``(300, 784)``).
    sparsities : sequence of float in [0, 1), increasing
        Fractions of the weights removed by magnitude.
    batch : int, keyword-only
        Rows of the input.
    repeats : int, keyword-only
        Timed calls per measurement (one thread).
    rng : int or numpy.random.Generator, keyword-only
        For the random Gaussian weights and input.

    Returns
    -------
    dict
        ``sparsities``, ``dense`` and ``sparse`` (lists of :class:`~course_lib.timing.Latency`, one per
        sparsity) and ``verdict``: :func:`course_lib.verdicts.first_win` -- from which sparsity on the CSR
        product is measurably faster (the noise rule of :mod:`course_lib.verdicts`), ``crossover`` that
        sparsity or None.

    Raises
    ------
    TypeError, ValueError
        For a bad shape, sparsity, batch, repeats or rng; if ``sparsities`` is not strictly increasing.
    """
    import numbers

    from ...pruning.sparse import dense_vs_sparse_latencies
    from ...verdicts import first_win

    if not isinstance(shape, (tuple, list)) or len(shape) != 2:
        raise TypeError(f"shape must be a pair (out, in), got {type(shape).__name__}.")
    if (isinstance(sparsities, (list, tuple)) and all(isinstance(s, numbers.Real) for s in sparsities)
            and any(b <= a for a, b in zip(sparsities, sparsities[1:]))):
        raise ValueError(f"sparsities == {list(sparsities)!r}, must be strictly increasing.")
    rows = dense_vs_sparse_latencies(tuple(shape), sparsities, batch=batch, repeats=repeats, rng=rng)
    sparsities = [r["sparsity"] for r in rows]
    dense, sparse = [r["dense"] for r in rows], [r["sparse"] for r in rows]
    verdict = first_win(sparsities, dense, sparse, names=("dense BLAS", "CSR"), kind="time", x_name="sparsity",
                        x_format="{:.0%}")
    crossover = verdict.ratio if verdict.outcome in ("from", "always") else None
    return {"sparsities": sparsities, "dense": dense, "sparse": sparse, "verdict": verdict, "crossover": crossover}
