"""The seed's summary slide (ИТОГ) as claims, with the verdict each measurement gives.

NumPy-free even: plain Python over the numbers the notebook measured. A verdict is a rule applied to
measurements (never typed in), so that a different CPU that measures differently can get a different
verdict -- and the notebook says which numbers decided it. Every rule about speed applies the course's
noise rule (:mod:`course_lib.verdicts`): a speed-up counts only when it is measurably different from 1x,
beyond the run's spread and by at least 5 %; otherwise the table prints "no measurable difference".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from ..verdicts import NO_DIFFERENCE, Measured, compare, measured
from ._checks import fraction as check_fraction
from ._checks import lines as check_lines
from ._checks import points as check_points
from ._checks import positive as check_positive
from ._checks import speedup as check_speedup
from ._checks import text as check_text

__all__ = ["SEED_CLAIMS", "VERDICTS", "EVIDENCE_KEYS", "OPTIONAL_KEYS", "claims_table", "speed_word", "Timings"]

VERDICTS = ("supported", "partly", "contradicted")

#: key, the seed's words (ИТОГ), the claim in English
SEED_CLAIMS = (
    ("neurons", "удаление нейронов дает улучшение в памяти и скорости",
     "Pruning: removing neurons improves memory and speed"),
    ("synapses", "удаление синапсов дает улучшение в памяти и в скорости, если поддерживается вычисление на "
                 "разреженных матрицах на аппаратном уровне",
     "Pruning: removing synapses improves memory, and speed if sparse computation is supported in hardware"),
    ("quant_memory", "уменьшение памяти в 4 раза", "Quantization: 4x less memory"),
    ("quant_compute", "все еще надо расширять до изначальных значений, чтобы производить вычисления. Возможно "
                      "улучшение в скорости",
     "Quantization: values must still be expanded back to compute; a speed-up is possible"),
    ("scratch", "Pruning и Quantization: не дают возможности обучать с нуля",
     "Pruning and quantization cannot train from scratch"),
    ("fact_memory", "имеет существенную экономию в памяти", "Factorization: substantial memory savings"),
    ("fact_speed", "может давать ускорение в вычислении", "Factorization: can speed up the computation"),
    ("fact_scratch", "дает возможность обучать с нуля", "Factorization: can train from scratch"),
    ("fact_hard", "значительно сложнее в реализации", "Factorization: considerably harder to implement"),
)

#: the measured numbers each claim's rule reads (ratios are "old / new": > 1 is a gain). A speed-up
#: (``speedup_*``, ``dense_run_speedup``) is best given as :class:`Timings` (the two measured times: the verdict
#: is then exactly :func:`course_lib.verdicts.compare`'s on them); it may also be a plain number (no spread:
#: only the 5 % rule applies), a ``(ratio, spread)`` pair or a :class:`~course_lib.verdicts.Measured` ratio.
EVIDENCE_KEYS = {
    "neurons": ("bytes_ratio", "speedup_1", "speedup_100", "acc_drop"),
    "synapses": ("sparsity", "csr_ratio", "dense_run_speedup", "sparse_crossover"),
    "quant_memory": ("bytes_ratio",),
    "quant_compute": ("int8_kernel", "speedup_1", "speedup_100", "integer_match"),
    "scratch": ("dense", "qat", "sparse", "sparsity"),
    "fact_memory": ("svd_ratio", "svd_drop", "tt_ratio", "tt_drop"),
    "fact_speed": ("speedup_1", "speedup_100"),
    "fact_scratch": ("dense", "tt", "tt_ratio"),
    "fact_hard": ("pruning_lines", "quantization_lines", "svd_lines", "tt_lines"),
}

#: evidence a claim may also be given, all of a group or none of it: the CNN's channel pruning (a fraction
#: ``cnn_keep`` of every convolution's filters kept, fine-tuned) for "removing neurons" -- a filter is a
#: convolution's neuron -- and the int8 runtime (every Linear and Conv2d on int8 codes, int32 sums) against
#: float32 for "must be expanded back to compute"
OPTIONAL_KEYS = {
    "neurons": ("cnn_keep", "cnn_bytes_ratio", "cnn_macs_ratio", "cnn_speedup_1", "cnn_speedup_100", "cnn_acc_drop"),
    "quant_compute": ("runtime_speedup_1", "runtime_speedup_100"),
}


#: how each measured number is checked: ratios ("old / new") > 0, fractions in [0, 1] (never percentages),
#: accuracy drops in points, speed-ups as :func:`.check_speedup`, line counts >= 1
_KINDS = {
    "bytes_ratio": "ratio", "csr_ratio": "ratio", "svd_ratio": "ratio", "tt_ratio": "ratio",
    "speedup_1": "speed", "speedup_100": "speed", "dense_run_speedup": "speed",
    "acc_drop": "points", "svd_drop": "points", "tt_drop": "points",
    "sparsity": "fraction", "dense": "fraction", "qat": "fraction", "sparse": "fraction", "tt": "fraction",
    "sparse_crossover": "fraction or None", "int8_kernel": "kernel", "integer_match": "bool",
    "pruning_lines": "lines", "quantization_lines": "lines", "svd_lines": "lines", "tt_lines": "lines",
    "cnn_keep": "fraction", "cnn_bytes_ratio": "ratio", "cnn_macs_ratio": "ratio", "cnn_speedup_1": "speed",
    "cnn_speedup_100": "speed", "cnn_acc_drop": "points", "runtime_speedup_1": "speed", "runtime_speedup_100": "speed",
}


def _check_numbers(key: str, numbers: Mapping) -> dict:
    """``evidence[key]`` checked number by number (messages name ``evidence['neurons']['speedup_1']``)."""
    from .._validation import check_bool

    out = dict(numbers)
    optional = OPTIONAL_KEYS.get(key, ())
    given = [k for k in optional if k in numbers]
    if given and len(given) != len(optional):
        raise ValueError(f"evidence[{key!r}] has {given} but misses {[k for k in optional if k not in numbers]}, "
                         f"must have all of {list(optional)} or none.")
    for k in (*EVIDENCE_KEYS[key], *given):
        name, value, kind = f"evidence[{key!r}][{k!r}]", numbers[k], _KINDS[k]
        if kind == "ratio":
            out[k] = check_positive(name, value)
        elif kind == "speed":
            out[k] = check_speedup(name, value)
        elif kind == "points":
            out[k] = check_points(name, value)
        elif kind in ("fraction", "fraction or None"):
            out[k] = check_fraction(name, value, allow_none=kind == "fraction or None")
        elif kind == "kernel":
            out[k] = check_text(name, value, allow_none=True)
        elif kind == "bool":
            out[k] = check_bool(name, value)
        else:
            out[k] = check_lines(name, value)
    return out


def _x(r: float) -> str:
    return f"{r:.1f}x"


class Timings(NamedTuple):
    """The two measured times of a speed-up: ``old`` (the baseline) and ``new``.

    Each is a :class:`~course_lib.verdicts.Measured`, a ``(value, spread)`` pair, a
    :class:`~course_lib.timing.Latency` or a number; :func:`speed_word` compares them with
    :func:`course_lib.verdicts.compare` itself, so that a claim and a printed comparison of the same two
    times never disagree.
    """

    old: object
    new: object

    @property
    def ratio(self) -> Measured:
        """``old / new`` with the sum of the relative spreads.

        Raises
        ------
        TypeError, ValueError
            If ``old`` or ``new`` is not a measured time > 0 (a string, NaN, 0).
        """
        check_speedup("timings", self)
        return measured(self.old, "old") / measured(self.new, "new")


def speed_word(speedup) -> str:
    """``"faster"``, ``"slower"`` or ``"no measurable difference"``: is ``new`` faster than ``old``?

    Parameters
    ----------
    speedup : Timings, Measured, (ratio, spread) or number
        The two measured times (compared by :func:`course_lib.verdicts.compare`, ``kind="time"``), or a
        measured speed-up ``old / new`` against 1x; a plain number has no spread (only the 5 % rule applies).

    Returns
    -------
    str

    Raises
    ------
    TypeError
        If ``speedup`` (or one of its two times) is not a number, a pair, a Measured or a Latency.
    ValueError
        If a value is NaN or infinite, not > 0, or a spread is negative.
    """
    check_speedup("speedup", speedup)
    if isinstance(speedup, Timings):
        outcome = compare(speedup.old, speedup.new, names=("old", "new"), kind="time").outcome
    else:
        outcome = compare(Measured(1.0), measured(speedup, "speedup"), kind="speedup").outcome
    return {"b": "faster", "a": "slower", "same": NO_DIFFERENCE}[outcome]


def _speed(speedup) -> str:
    """``1.3x (no measurable difference)``, ``2.1x ± 0.2 (faster)``: the speed-up and what the noise rule says."""
    m = speedup.ratio if isinstance(speedup, Timings) else measured(speedup, "speedup")
    band = f" ± {m.spread:.1f}" if m.spread >= 0.05 else ""
    return f"{m.value:.1f}x{band} ({speed_word(speedup)})"  # the two timings' verdict, as everywhere else


def _faster(speedup) -> bool:
    return speed_word(speedup) == "faster"


def _neurons(e):
    text = (f"{_x(e['bytes_ratio'])} fewer bytes; speed at 1 image {_speed(e['speedup_1'])}, at 100 "
            f"{_speed(e['speedup_100'])}; {e['acc_drop']:.2f} points lost")
    good = e["bytes_ratio"] > 1 and (_faster(e["speedup_1"]) or _faster(e["speedup_100"]))
    if "cnn_keep" in e:  # a filter is a convolution's neuron: whole channels removed
        text = (f"MLP: {text}. CNN, {100 * e['cnn_keep']:.0f}% of each convolution's filters kept: "
                f"{_x(e['cnn_macs_ratio'])} fewer multiply-adds, {_x(e['cnn_bytes_ratio'])} fewer bytes; speed at "
                f"1 image {_speed(e['cnn_speedup_1'])}, at 100 {_speed(e['cnn_speedup_100'])}; "
                f"{e['cnn_acc_drop']:.1f} points lost after a short fine-tuning")
        good = good or (e["cnn_bytes_ratio"] > 1 and (_faster(e["cnn_speedup_1"]) or _faster(e["cnn_speedup_100"])))
    return text, "supported" if good else "partly"


def _synapses(e):
    cross = e["sparse_crossover"]
    where = f"CSR is measurably faster than dense BLAS only from {100 * cross:.0f}% sparsity" if cross is not None \
        else "CSR was never measurably faster than dense BLAS"
    text = (f"at {100 * e['sparsity']:.0f}% sparsity: {_x(e['csr_ratio'])} fewer bytes in CSR; the pruned model "
            f"run dense: speed {_speed(e['dense_run_speedup'])}; {where} (300x784, batch 100)")
    # the pruned model run dense does the dense model's operations: its time is shown, not judged (a difference
    # there is the machine's); speed "if supported" is the CSR product's, measurably faster from some sparsity
    if e["csr_ratio"] <= 1:
        return text, "contradicted"
    return text, "supported" if cross is not None else "partly"


def _quant_memory(e):
    r = e["bytes_ratio"]
    return f"{r:.2f}x (scales and float32 biases keep it under 4)", "supported" if r >= 3.8 else "partly"


def _quant_compute(e):
    text = (f"int8 kernel '{e['int8_kernel']}' computes on int8 codes with int32 sums (integer model == float "
            f"simulation: {e['integer_match']}); dynamic int8 vs float32: speed at 1 image {_speed(e['speedup_1'])}, "
            f"at 100 {_speed(e['speedup_100'])}")
    if "runtime_speedup_1" in e:
        text += (f"; the CNN on the int8 runtime (every convolution and Linear on int8 codes, int32 sums) vs "
                 f"float32: speed at 1 image {_speed(e['runtime_speedup_1'])}, at 100 "
                 f"{_speed(e['runtime_speedup_100'])}")
    if e["int8_kernel"] and e["integer_match"]:
        return text, "partly"  # speed possible (true where measured), "must expand back" contradicted
    return text, "supported"


def _scratch(e):
    text = (f"from random weights, same budget: dense {100 * e['dense']:.1f}%, QAT int8 {100 * e['qat']:.1f}%, "
            f"{100 * e['sparsity']:.0f}% sparse {100 * e['sparse']:.1f}%")
    learned = [e["dense"] - e[k] <= 0.05 for k in ("qat", "sparse")]
    return text, "contradicted" if all(learned) else "partly" if any(learned) else "supported"


def _fact_memory(e):
    text = (f"SVD {_x(e['svd_ratio'])} fewer bytes ({e['svd_drop']:.1f} points lost), TT {_x(e['tt_ratio'])} "
            f"({e['tt_drop']:.1f} points lost), whole model, after a short fine-tuning")
    good = [r for r, d in ((e["svd_ratio"], e["svd_drop"]), (e["tt_ratio"], e["tt_drop"])) if d <= 1.0]
    return text, "supported" if good and max(good) >= 2 else "partly"


def _fact_speed(e):
    text = f"SVD layers, whole model: speed at 1 image {_speed(e['speedup_1'])}, at 100 {_speed(e['speedup_100'])}"
    return text, "supported" if _faster(e["speedup_1"]) or _faster(e["speedup_100"]) else "contradicted"


def _fact_scratch(e):
    text = (f"TT layers from random cores: {100 * e['tt']:.1f}% vs dense {100 * e['dense']:.1f}%, same budget, "
            f"{_x(e['tt_ratio'])} fewer parameters")
    return text, "supported" if e["dense"] - e["tt"] <= 0.03 else "partly"


def _fact_hard(e):
    p, q, s, t = e["pruning_lines"], e["quantization_lines"], e["svd_lines"], e["tt_lines"]
    text = (f"library lines of code behind it: pruning {p}, int8 quantization {q}, SVD {s}, TT {t} "
            f"(TT / pruning {t / p:.1f}x, TT / quantization {t / q:.1f}x)")
    # "considerably": at least 1.5 times the code
    if min(s, t) >= 1.5 * max(p, q):
        return text, "supported"
    return text, "partly" if max(s, t) >= 1.5 * min(p, q) else "contradicted"


_RULES = {"neurons": _neurons, "synapses": _synapses, "quant_memory": _quant_memory, "quant_compute": _quant_compute,
          "scratch": _scratch, "fact_memory": _fact_memory, "fact_speed": _fact_speed,
          "fact_scratch": _fact_scratch, "fact_hard": _fact_hard}


def claims_table(evidence: Mapping) -> list[dict]:
    """The seed's ИТОГ as rows: the claim, the course's measurement, the verdict its rule gives.

    Parameters
    ----------
    evidence : mapping of str -> mapping
        For every key of :data:`SEED_CLAIMS`, the measured numbers named in :data:`EVIDENCE_KEYS`, and
        optionally a whole group of :data:`OPTIONAL_KEYS`.

    Returns
    -------
    list of dict
        ``{"claim", "seed", "measured", "verdict"}`` per claim, in the seed's order; ``verdict`` is
        one of :data:`VERDICTS`.

    Raises
    ------
    TypeError
        If ``evidence`` or one of its values is not a mapping, a number is not a number (a string, a
        bool), ``integer_match`` not a bool or ``int8_kernel`` not a str or None.
    ValueError
        If a claim or one of its numbers is missing (or part of an optional group), or a key is unknown; if a
        number is NaN or infinite, a ratio, a time or a speed-up is not > 0, an accuracy, ``sparsity``,
        ``cnn_keep`` or ``sparse_crossover`` is not a fraction in [0, 1] (a percentage is refused), a drop in
        points is outside [-100, 100] or a count of lines is not an int >= 1.

    Notes
    -----
    The rules ("faster": measurably, by the noise rule of :mod:`course_lib.verdicts`): neurons -- fewer bytes
    and faster at 1 or at 100 images, the MLP without its rarely firing neurons or (given) the channel-pruned
    CNN; synapses -- CSR smaller and a CSR product measurably faster than dense
    BLAS from some sparsity (*partly*: smaller only; the pruned model run dense is shown, not judged: it does
    the dense model's operations); 4x memory -- a ratio >= 3.8; "must be expanded back" -- an int8 kernel whose
    integer arithmetic matches gives *partly* (speed possible, no expansion needed; the int8 runtime's speed,
    given, is printed beside); cannot train from
    scratch -- *contradicted* when QAT and sparse training from random weights both end within 5 points of
    dense training with the same budget (*partly* when one does); factorization: memory >= 2x within 1
    point, speed -- SVD faster at 1 or 100 images, from scratch within 3 points, harder -- SVD and TT both
    need at least 1.5x the library lines of pruning and of quantization (*partly*: one of them, against one
    of those).
    """
    if not isinstance(evidence, Mapping):
        raise TypeError(f"evidence must be a dict of claim -> measured numbers, got {type(evidence).__name__}.")
    unknown = [k for k in evidence if k not in EVIDENCE_KEYS]
    if unknown:
        raise ValueError(f"evidence names {unknown}, must name only claims among {list(EVIDENCE_KEYS)}.")
    rows = []
    for key, seed, claim in SEED_CLAIMS:
        if key not in evidence:
            raise ValueError(f"evidence has no {key!r}, must have every claim of SEED_CLAIMS.")
        numbers = evidence[key]
        if not isinstance(numbers, Mapping):
            raise TypeError(f"evidence[{key!r}] must be a dict of measured numbers, got {type(numbers).__name__}.")
        missing = [k for k in EVIDENCE_KEYS[key] if k not in numbers]
        if missing:
            raise ValueError(f"evidence[{key!r}] misses {missing}, must have {list(EVIDENCE_KEYS[key])}.")
        measured, verdict = _RULES[key](_check_numbers(key, numbers))
        rows.append({"claim": claim, "seed": seed, "measured": measured, "verdict": verdict})
    return rows
