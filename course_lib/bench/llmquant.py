"""Benchmarks of weight-only low-bit quantization: LeNet-300-100's fc2 (RTN vs GPTQ vs AWQ output error,
``llmquant``) and notebook 11's ViT variants against float32 (``vit``)."""

from __future__ import annotations

import numpy as np

from .core import Row, benchmark

__all__ = ["llmquant_figures", "LLMQUANT_BITS", "LLMQUANT_GROUPS", "LLMQUANT_IMAGES"]

#: the code widths compared
LLMQUANT_BITS = (4, 3)
#: group sizes along fc2's 300 inputs: they must divide 300 (no padding), 300 is one group per output channel
LLMQUANT_GROUPS = (60, 100, 300)
#: MNIST images for calibration (the first ones of the training split) and as many held-out test images
LLMQUANT_IMAGES = 1000


def llmquant_figures(weight, calibration, held_out, *, bits=LLMQUANT_BITS, group_sizes=LLMQUANT_GROUPS) -> list[dict]:
    """Relative output error of RTN, GPTQ and AWQ per code width and group size, and the stored bytes.

    Parameters
    ----------
    weight : 2-D float array (out, in)
        The Linear layer's weight.
    calibration : 2-D float array (n, in)
        The layer's inputs that GPTQ and AWQ calibrate on.
    held_out : 2-D float array (m, in)
        Other inputs of the layer, never seen by the calibration.
    bits, group_sizes : sequences of int, keyword-only
        Code widths and group sizes (each dividing ``in``).

    Returns
    -------
    list of dict
        One per (bits, group size): ``rtn``, ``gptq``, ``awq`` (``||X Q^T - X W^T||_F / ||X W^T||_F`` on
        the held-out inputs) and the same on the calibration inputs (``*_calibration``), AWQ's ``alpha``,
        ``bytes`` (:func:`~course_lib.llmquant.groupwise.stored_bytes`) and ``dense_bytes`` (float32).

    Notes
    -----
    All three use the same format: asymmetric codes with a zero point per group (AWQ's), float16 scales.
    GPTQ runs with its defaults (``percdamp`` 0.01, blocks of 128, no ``act_order``).
    """
    from .._validation import check_float_array
    from ..llmquant import awq_search, gptq_quantize, relative_error, rtn_dequantized, stored_bytes

    w = check_float_array("weight", weight, ndim=2).astype(np.float64)
    x = check_float_array("calibration", calibration, ndim=2).astype(np.float64)
    held = check_float_array("held_out", held_out, ndim=2).astype(np.float64)
    out = []
    for b in bits:
        for g in group_sizes:
            weights = {"rtn": rtn_dequantized(w, b, g, symmetric=False),
                       "gptq": gptq_quantize(w, x, b, g, symmetric=False).dequantized}
            awq = awq_search(w, x, b, g, symmetric=False)
            weights["awq"] = awq.dequantized
            row = {"bits": b, "group_size": g, "alpha": awq.alpha, "dense_bytes": 4 * w.size,
                   "bytes": stored_bytes(*w.shape, b, g, symmetric=False)}
            for name, q in weights.items():
                row[name] = relative_error(held @ q.T, held @ w.T)
                row[f"{name}_calibration"] = relative_error(x @ q.T, x @ w.T)
            out.append(row)
    return out


@benchmark("llmquant")
def _bench_llmquant(quick: bool) -> list[Row]:
    """LeNet-300-100's fc2 (100 x 300) on its real inputs (fc1's ReLU outputs): GPTQ and AWQ vs RTN.

    Errors and sizes only (no timing): ``quick`` changes nothing.
    """
    from ..checkpoints import load_pretrained
    from ..data import load_mnist
    from ..pruning.nn import collect_activations

    model = load_pretrained("lenet300")
    train = load_mnist("train", limit=LLMQUANT_IMAGES).images
    test = load_mnist("test", limit=LLMQUANT_IMAGES).images
    calibration = collect_activations(model, train, "fc1")["fc1"]
    held_out = collect_activations(model, test, "fc1")["fc1"]
    weight = model.fc2.weight.detach().numpy()
    rows = []
    for r in llmquant_figures(weight, calibration, held_out):
        group = "per-channel" if r["group_size"] == weight.shape[1] else f"groups of {r['group_size']}"
        case = f"lenet300 fc2, {r['bits']} bits asymmetric, {group}"
        for where, suffix in (("held-out", ""), ("calibration", "_calibration")):
            for method in ("gptq", "awq"):
                label = "GPTQ" if method == "gptq" else f"AWQ (alpha {r['alpha']:.2f})"
                rows.append(Row("llmquant", f"{case}, relative output error ({where})", label, r[method + suffix],
                                "RTN", r["rtn" + suffix], ""))
        rows.append(Row("llmquant", f"{case}, stored weight", "codes+scales+zeros", r["bytes"], "float32 dense",
                        r["dense_bytes"], "bytes"))
    return rows


@benchmark("vit")
def _bench_vit(quick: bool) -> list[Row]:
    """Notebook 11's variant table: every compressed ViT against float32 (accuracy, bytes, latency at 1 and 100 images).

    Built by :func:`course_lib.summary.nn.vit.vit_configs` and measured by
    :func:`course_lib.summary.nn.measure_configs` (one thread); also each weight-only method's median layer
    output error against RTN's. ``quick``: 1,000 test images, 60 fine-tuning steps, few timing repeats; else
    the 10,000 and 1,000 steps.
    """
    import numpy as np

    from ..checkpoints import load_pretrained
    from ..data import load_mnist
    from ..summary.nn import measure_configs
    from ..summary.nn.vit import vit_configs, vit_quantized
    from ..timing import cpu_capability

    model = load_pretrained("vit_mnist")
    train = load_mnist("train", limit=2000 if quick else 10000)
    test = load_mnist("test", limit=1000 if quick else None)
    steps = 60 if quick else 1000
    quantized = vit_quantized(model, train.images[:128])
    rows = []
    for bits in (4, 3):
        rtn = np.median(list(quantized["rtn", bits].errors.values()))
        for method in ("gptq", "awq"):
            rows.append(Row("vit", f"vit_mnist block Linears, {bits} bits, groups of 32, median relative output error",
                            method.upper(), float(np.median(list(quantized[method, bits].errors.values()))), "RTN",
                            float(rtn), ""))
    configs = vit_configs(model, train, head_steps=steps, lora_steps=steps, quantized=quantized)
    measured = measure_configs(configs, test, model_name="vit_mnist", repeats=10 if quick else 30,
                               rounds=2 if quick else 3)
    base, cpu = measured[0], cpu_capability()
    for r in measured[1:]:
        case = f"vit_mnist {r['name']}"
        rows.append(Row("vit", f"{case}, accuracy on {len(test.labels):,} test images", r["name"], r["accuracy"],
                        "float32", base["accuracy"], ""))
        rows.append(Row("vit", f"{case}, stored", r["name"], r["bytes"], "float32", base["bytes"], "bytes"))
        for n in (1, 100):
            rows.append(Row("vit", f"{case}, {n} image(s), one thread, {cpu}", r["name"], r[f"ms_{n}"], "float32",
                            base[f"ms_{n}"], "ms"))
    return rows
