"""The Vision Transformer in the summary: notebook 11's stored long run as chart rows, and its claims' verdicts.

Notebook 11 measures every variant of ``vit_mnist`` (:mod:`course_lib.summary.nn.vit`) with
``measure_configs`` and its ``COURSE_FULL=1`` run stores them (``load_result("11_variants")``). The summary
does not rebuild them: :func:`vit_rows` turns the stored variants into rows of a measured table (the
Pareto chart's), and :func:`vit_claims` applies a written rule to the stored numbers for each common
belief about compressing a transformer, with the course's noise rule (:mod:`course_lib.verdicts`):

* a speed-up counts only when :func:`~course_lib.summary.claims.speed_word` says "faster": the two
  times' bands apart (``iqr_1``/``iqr_100`` when stored, else no spread) and at least 5 % apart;
* two accuracies differ only when their bands do not overlap: two binomial standard errors each on the
  ``test_images`` images (unpaired, so wider than notebook 11's paired comparison: a conservative test).

Plain Python (no NumPy, no torch), like :mod:`.claims`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from .._validation import check_int
from ..verdicts import Measured, compare
from ._checks import fraction as check_fraction
from ._checks import positive as check_positive
from ._checks import text as check_text
from .claims import Timings, speed_word

__all__ = ["VIT_MODEL", "VIT_CLAIMS", "VIT_NAMES", "variant_family", "vit_rows", "accuracy_measured", "vit_claims"]

#: the model name the rows carry (the charts' title)
VIT_MODEL = "vit_mnist"
#: the variants the claims read, as :func:`course_lib.summary.nn.vit.vit_configs` names them
VIT_NAMES = {"float": "float32", "int4": ("int4 RTN (g32)", "int4 GPTQ (g32)", "int4 AWQ (g32)"),
             "int4_timed": "int4 GPTQ (g32)", "w8a8": "W8A8 (int8 engine)",
             "smooth": "W8A8 + SmoothQuant (int8 engine)", "rtn3": "int3 RTN (g32)", "gptq3": "int3 GPTQ (g32)",
             "lora": "int2 GPTQ + LoRA r4"}
#: key, the claim as it is commonly made
VIT_CLAIMS = (
    ("int4_accuracy", "Weight-only int4 (group-wise scales) keeps accuracy within 1 point of float32"),
    ("int4_speed", "Weight-only int4 runs faster than float32 on a CPU"),
    ("w8a8_speed", "W8A8 (int8 weights and activations) runs faster than float32"),
    ("gptq", "GPTQ is more accurate than round-to-nearest at 3 bits"),
    ("lora", "LoRA adapters win back what 2-bit quantization lost"),
)
_FAMILIES = ("baseline", "pruning", "quantization", "factorization", "combination")
_SPREADS = {"ms_1": "iqr_1", "ms_100": "iqr_100"}


def variant_family(name: str) -> str:
    """The chart family of a ViT variant, from its name.

    ``"float32"`` is the baseline; removed heads are pruning, and a combination when quantized too; LoRA
    on quantized weights is a combination; every other variant is quantization.

    Raises
    ------
    TypeError
        If ``name`` is not a str.
    ValueError
        If ``name`` is empty.
    """
    name = check_text("name", name)
    if not name.strip():
        raise ValueError("name == '', must name a variant.")
    if name == VIT_NAMES["float"]:
        return "baseline"
    if "heads" in name:
        return "combination" if "int" in name else "pruning"
    return "combination" if "LoRA" in name else "quantization"


def vit_rows(data: Mapping) -> list[dict]:
    """The stored variants as rows of a measured table (``pareto_plot``, ``pareto_front``).

    Parameters
    ----------
    data : mapping
        ``load_result("11_variants")["data"]``: its ``"variants"``, a list of dicts with ``name``,
        ``accuracy`` (a fraction), ``bytes``, ``ms_1`` and ``ms_100`` (and optionally ``iqr_1``,
        ``iqr_100`` and ``family``).

    Returns
    -------
    list of dict
        ``model`` (:data:`VIT_MODEL`), ``name``, ``family`` (stored, else :func:`variant_family`),
        ``accuracy``, ``bytes``, ``ms_1``, ``ms_100`` and the IQRs that were stored, in the stored order.

    Raises
    ------
    TypeError
        If ``data`` or a variant is not a mapping, ``variants`` not a list, a name not a str or a number
        not a number.
    ValueError
        If ``variants`` is missing or empty, a variant misses a column, an accuracy is not a fraction, a
        cost is not > 0, an IQR is negative, a family is unknown, two variants share a name or none is
        ``"float32"``.
    """
    if not isinstance(data, Mapping):
        raise TypeError(f"data must be a dict (load_result('11_variants')['data']), got {type(data).__name__}.")
    if "variants" not in data:
        raise ValueError(f"data has no 'variants', must have notebook 11's measured variants (keys {sorted(data)}).")
    variants = data["variants"]
    if not isinstance(variants, list):
        raise TypeError(f"data['variants'] must be a list of dicts, got {type(variants).__name__}.")
    if not variants:
        raise ValueError("data['variants'] is empty, must hold at least float32.")
    rows, seen = [], set()
    for i, v in enumerate(variants):
        where = f"data['variants'][{i}]"
        if not isinstance(v, Mapping):
            raise TypeError(f"{where} must be a dict, got {type(v).__name__}.")
        missing = [k for k in ("name", "accuracy", "bytes", "ms_1", "ms_100") if k not in v]
        if missing:
            raise ValueError(f"{where} misses {missing}, must have name, accuracy, bytes, ms_1 and ms_100.")
        name = check_text(f"{where}['name']", v["name"])
        if name in seen:
            raise ValueError(f"{where}['name'] == {name!r} appears twice, must name one variant each.")
        seen.add(name)
        row = {"model": VIT_MODEL, "name": name,
               "family": variant_family(name) if v.get("family") is None else check_text(f"{where}['family']",
                                                                                         v["family"]),
               "accuracy": check_fraction(f"{where}['accuracy']", v["accuracy"]),
               "bytes": check_int(f"{where}['bytes']", v["bytes"], minimum=1)}
        if row["family"] not in _FAMILIES:
            raise ValueError(f"{where}['family'] == {row['family']!r}, must be one of {list(_FAMILIES)}.")
        for col, iqr in _SPREADS.items():
            row[col] = check_positive(f"{where}[{col!r}]", v[col])
            if v.get(iqr) is not None:
                row[iqr] = check_positive(f"{where}[{iqr!r}]", v[iqr], allow_zero=True)
        rows.append(row)
    if VIT_NAMES["float"] not in seen:
        raise ValueError(f"data['variants'] has no {VIT_NAMES['float']!r}, must hold the float32 baseline.")
    return rows


def accuracy_measured(accuracy, images: int) -> Measured:
    """An accuracy in percent with its band: two binomial standard errors on ``images`` test images.

    Parameters
    ----------
    accuracy : float
        A fraction in [0, 1].
    images : int
        ``>= 1``: how many test images measured it.

    Returns
    -------
    Measured
        ``100 * accuracy``, ``200 * sqrt(accuracy (1 - accuracy) / images)``.

    Raises
    ------
    TypeError, ValueError
        For an accuracy that is not a fraction (a percentage is refused) or a count that is not an int >= 1.

    Examples
    --------
    >>> m = accuracy_measured(0.98, 10000)
    >>> round(m.value, 2), round(m.spread, 2)
    (98.0, 0.28)
    """
    p = check_fraction("accuracy", accuracy)
    n = check_int("images", images, minimum=1)
    return Measured(100 * p, 200 * math.sqrt(p * (1 - p) / n))


def _times(rows: dict, old: str, new: str, col: str) -> Timings:
    def m(r):
        return Measured(r[col], r.get(_SPREADS[col], 0.0) / 2)  # half the IQR, as row_timing

    return Timings(m(rows[old]), m(rows[new]))


def _speeds(rows: dict, name: str) -> tuple[str, int]:
    """``"speed at 1 image 0.6x (slower), at 100 1.1x (faster)"`` and how many of the two are faster."""
    parts, faster = [], 0
    for col in ("ms_1", "ms_100"):
        t = _times(rows, VIT_NAMES["float"], name, col)
        word, ratio = speed_word(t), t.ratio
        band = f" ± {ratio.spread:.1f}" if ratio.spread >= 0.05 else ""
        parts.append(f"{ratio.value:.1f}x{band} ({word})")
        faster += word == "faster"
    return f"speed at 1 image {parts[0]}, at 100 {parts[1]}", faster


def _by_count(count: int, total: int) -> str:
    return "supported" if count == total else "partly" if count else "contradicted"


def vit_claims(data: Mapping) -> list[dict]:
    """Each claim of :data:`VIT_CLAIMS` with what notebook 11's stored run measured and the verdict of its rule.

    Parameters
    ----------
    data : mapping
        ``load_result("11_variants")["data"]``: ``variants`` (as :func:`vit_rows`, holding every name of
        :data:`VIT_NAMES`), ``test_images`` (int >= 1) and ``int2_gptq_accuracy`` (a fraction).

    Returns
    -------
    list of dict
        ``{"key", "claim", "measured", "verdict"}`` per claim, in :data:`VIT_CLAIMS`' order; ``verdict`` one
        of ``"supported"``, ``"partly"``, ``"contradicted"``.

    Raises
    ------
    TypeError, ValueError
        As :func:`vit_rows`; if a variant the claims read is missing, or ``test_images`` or
        ``int2_gptq_accuracy`` is missing or invalid.

    Notes
    -----
    The rules. int4 accuracy: *supported* when every int4 weight-only variant (RTN, GPTQ, AWQ) loses at
    most 1 point against float32, *partly* when some do. int4 speed and W8A8 speed (int4 GPTQ, dequantized
    per group in every forward pass; W8A8 without smoothing): *supported* when measurably faster than
    float32 at 1 image and at 100, *partly* at one of them, *contradicted* at neither. GPTQ at 3 bits:
    *supported* when its accuracy is measurably higher than RTN's, *partly* when higher but inside the
    (unpaired) noise of the stored accuracies, else *contradicted*. LoRA: *supported*
    when int2 GPTQ + LoRA is measurably more accurate than int2 GPTQ alone and within 1 point of float32,
    *partly* when only the first holds, else *contradicted*.
    """
    rows = {r["name"]: r for r in vit_rows(data)}
    needed = [VIT_NAMES["float"], *VIT_NAMES["int4"], *(VIT_NAMES[k] for k in ("w8a8", "smooth", "rtn3", "gptq3",
                                                                               "lora"))]
    missing = [n for n in needed if n not in rows]
    if missing:
        raise ValueError(f"data['variants'] misses {missing}, must hold every variant of VIT_NAMES.")
    for key in ("test_images", "int2_gptq_accuracy"):
        if key not in data:
            raise ValueError(f"data has no {key!r}, must have notebook 11's {key}.")
    n = check_int("data['test_images']", data["test_images"], minimum=1)
    int2 = check_fraction("data['int2_gptq_accuracy']", data["int2_gptq_accuracy"])
    base = rows[VIT_NAMES["float"]]

    def drop(name):
        return 100 * (base["accuracy"] - rows[name]["accuracy"])

    def acc(name):
        return accuracy_measured(rows[name]["accuracy"], n)

    out = []
    names4 = VIT_NAMES["int4"]
    drops = [drop(x) for x in names4]
    ratios = " / ".join(f"{base['bytes'] / rows[x]['bytes']:.1f}x" for x in names4)
    change = " / ".join(f"{round(-d, 2) + 0.0:+.2f}" for d in drops)
    text = (f"{' / '.join(x.split()[1] for x in names4)}: {ratios} fewer bytes, accuracy {change} points against "
            f"float32 ({n:,} test images)")
    out.append((text, _by_count(sum(d <= 1.0 for d in drops), len(drops))))

    speeds, faster = _speeds(rows, VIT_NAMES["int4_timed"])
    out.append((f"{VIT_NAMES['int4_timed']}, dequantized per group in every forward pass (no int4 kernel): {speeds}",
                _by_count(faster, 2)))

    speeds, faster = _speeds(rows, VIT_NAMES["w8a8"])
    smooth, _ = _speeds(rows, VIT_NAMES["smooth"])
    out.append((f"{VIT_NAMES['w8a8']}: {speeds}; with SmoothQuant: {smooth}", _by_count(faster, 2)))

    v = compare(acc(VIT_NAMES["rtn3"]), acc(VIT_NAMES["gptq3"]), names=("RTN", "GPTQ"), kind="accuracy")
    higher = rows[VIT_NAMES["gptq3"]]["accuracy"] > rows[VIT_NAMES["rtn3"]]["accuracy"]
    out.append((f"int3 (g32), {v.sentence}",
                "supported" if v.outcome == "b" else "partly" if v.outcome == "same" and higher else "contradicted"))

    lora = VIT_NAMES["lora"]
    v = compare(accuracy_measured(int2, n), acc(lora), names=("int2 GPTQ", "+ LoRA r4"), kind="accuracy")
    within = drop(lora) <= 1.0
    out.append((f"{v.sentence}; + LoRA r4 against float32: {round(-drop(lora), 2) + 0.0:+.2f} points",
                ("supported" if within else "partly") if v.outcome == "b" else "contradicted"))
    return [{"key": key, "claim": claim, "measured": m, "verdict": verdict}
            for (key, claim), (m, verdict) in zip(VIT_CLAIMS, out)]
