"""QAT against full-integer PTQ on the CIFAR-10 CNN, at a length where QAT can show its effect (notebook 05).

``python -m course_lib.quantization.nn.cnn_qat`` runs the long comparison once (minutes on a CPU:
hundreds of QAT steps per bit width) and writes its numbers to ``notebooks/results/05_cnn_qat.json``
(:func:`course_lib.results.save_result`). Notebook 05's fast mode cannot train the CNN that long: it
shows this stored result, labelled with its provenance, beside a quick re-measure of one point.
``COURSE_FULL=1`` runs :func:`compare_qat_ptq` from the notebook with the same settings and writes the
same file.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import torch

from ..._validation import check_bits, check_bool, check_int, check_positive_float
from ...checkpoints import load_pretrained
from ...data import load_cifar10
from ...measure import paired_difference, predict
from .calibrate import calibrate
from .ptq import ptq_full_integer
from .qat import convert_qat, prepare_qat, train_qat

__all__ = ["RESULT_NAME", "COMMAND", "DEFAULT_STEPS", "DEFAULT_BITS", "compare_qat_ptq", "main"]

#: The stored result's name (``notebooks/results/05_cnn_qat.json``).
RESULT_NAME = "05_cnn_qat"
#: The command that writes it.
COMMAND = "python -m course_lib.quantization.nn.cnn_qat"
#: QAT steps of 128 images per bit width (400 steps: about one pass over the 50,000 training images).
DEFAULT_STEPS = 400
#: The bit widths compared (weights and activations).
DEFAULT_BITS = (8, 4)


def compare_qat_ptq(train, test, *, bits=DEFAULT_BITS, steps: int = DEFAULT_STEPS, lr: float = 1e-4,
                    calibration_images: int = 500, batch_size: int = 128, seed: int = 0,
                    progress: bool = False) -> dict:
    """Test accuracy of the CNN in float32, after full-integer PTQ and after QAT, at each bit width.

    Both quantized models start from the same percentile calibration and per-channel weight scales
    (:func:`~course_lib.quantization.nn.ptq_full_integer`); QAT fine-tunes that model for ``steps``
    Adam steps (:func:`~course_lib.quantization.nn.train_qat`) and is converted to the same integer
    layers. The two are scored on the same test images, so their difference comes with a paired
    standard error (:func:`course_lib.measure.paired_difference`).

    Parameters
    ----------
    train, test : Dataset
        CIFAR-10 splits (:func:`course_lib.data.load_cifar10`).
    bits : sequence of int, keyword-only
        Bit widths of weights and activations, each in ``2 .. 8``.
    steps : int, keyword-only
        QAT steps of ``batch_size`` training images per bit width.
    lr : float, keyword-only
        Adam's learning rate.
    calibration_images : int, keyword-only
        The first training images, unlabelled, that calibrate the activation ranges.
    batch_size : int, keyword-only
    seed : int, keyword-only
        Seeds torch and the order of the training images.
    progress : bool, keyword-only
        Print one line per bit width.

    Returns
    -------
    dict
        JSON data: ``model``, ``train_images``, ``test_images``, ``steps``, ``batch_size``, ``lr``,
        ``calibration_images``, ``float32_accuracy`` and ``bits``: ``{"8": {"ptq_accuracy",
        "qat_accuracy", "qat_minus_ptq", "qat_minus_ptq_se", "qat_seconds"}, ...}`` (accuracies and
        differences as fractions, the standard error of the paired difference).

    Raises
    ------
    TypeError, ValueError
        If ``bits`` is not a non-empty list of ints in 2..8, ``train``/``test`` are not data sets, or
        an option has the wrong type or range (checked before any model is loaded).
    """
    if isinstance(bits, str) or not isinstance(bits, (list, tuple)):
        raise TypeError(f"bits must be a list or tuple of ints, got {type(bits).__name__} ({bits!r})"
                        f"{f' (write ({bits},) for one)' if isinstance(bits, int) else ''}.")
    if not bits:
        raise ValueError("bits is empty, must hold at least one bit width.")
    bits = [check_bits(b) for b in bits]
    for name, data in (("train", train), ("test", test)):
        if not (hasattr(data, "images") and hasattr(data, "labels")):
            raise TypeError(f"{name} must be a Dataset (images, labels, classes) from course_lib.data.load_cifar10, "
                            f"got {type(data).__name__}.")
    steps = check_int("steps", steps, minimum=1)
    lr = check_positive_float("lr", lr)
    calibration_images = check_int("calibration_images", calibration_images, minimum=1)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    seed = check_int("seed", seed, minimum=0)
    progress = check_bool("progress", progress)
    torch.manual_seed(seed)
    model = load_pretrained("cifar_vgg")
    ranges = calibrate(model, train.images[:calibration_images], method="percentile")
    labels = test.labels
    float_pred = predict(model, test.images)
    out = {"model": "cifar_vgg", "train_images": int(len(train.labels)), "test_images": int(len(labels)),
           "steps": steps, "batch_size": batch_size, "lr": lr, "calibration_images": calibration_images,
           "float32_accuracy": float(np.mean(float_pred == labels)), "bits": {}}
    for b in bits:
        ptq_pred = predict(ptq_full_integer(model, ranges, bits=b, per_channel=True), test.images)
        start = time.perf_counter()
        epochs = -(-steps * batch_size // len(train.labels))  # enough passes for ``steps`` batches
        q = train_qat(prepare_qat(model, bits=b, ranges=ranges), train.images, train.labels, epochs=epochs,
                      max_steps=steps, lr=lr, batch_size=batch_size, rng=seed)
        seconds = time.perf_counter() - start
        qat_pred = predict(convert_qat(q), test.images)
        d, se = paired_difference(ptq_pred, qat_pred, labels)
        out["bits"][str(b)] = {"ptq_accuracy": float(np.mean(ptq_pred == labels)),
                               "qat_accuracy": float(np.mean(qat_pred == labels)),
                               "qat_minus_ptq": d, "qat_minus_ptq_se": se, "qat_seconds": round(seconds, 1)}
        if progress:
            r = out["bits"][str(b)]
            print(f"{b} bits: PTQ {100 * r['ptq_accuracy']:.2f}%, QAT {100 * r['qat_accuracy']:.2f}% "
                  f"({steps} steps, {seconds:.0f} s); QAT - PTQ {100 * d:+.2f} +- {100 * se:.2f} points", flush=True)
    return out


def main(argv=None) -> int:
    """Run the comparison on all of CIFAR-10 and write ``notebooks/results/05_cnn_qat.json``; returns 0."""
    from ...results import save_result

    parser = argparse.ArgumentParser(prog=COMMAND, description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=DEFAULT_STEPS, help="QAT steps per bit width")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    for flag, value, minimum in (("--steps", args.steps, 1), ("--threads", args.threads, 1), ("--seed", args.seed, 0)):
        if value < minimum:
            parser.error(f"{flag} == {value}, must be >= {minimum}.")
    torch.set_num_threads(check_int("threads", args.threads, minimum=1))
    train, test = load_cifar10("train"), load_cifar10("test")
    result = compare_qat_ptq(train, test, steps=args.steps, seed=args.seed, progress=True)
    command = COMMAND + "".join(f" {a}" for a in (argv if argv is not None else sys.argv[1:]))
    path = save_result(RESULT_NAME, result, command=command, seed=args.seed, threads=args.threads, force=True)
    print(f"written: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
