"""Exercises of notebook 11: transformers compressed like large language models -- one GPTQ step, the bytes of
a group-wise quantized layer, part by part, and the smallest ViT file.

The student's copy: each case's inputs and the checks a student's kernel makes -- the form of the
answer and properties a right answer has (a grid point nearest to the weight, the optimality of GPTQ's
update, the parts adding up to the layer's bytes), never a reference solution. The instructor's
references and the grader's verdicts are in ``hidden_tests/ch11_transformers.py``.
"""

from __future__ import annotations

import functools

import numpy as np

from ..core import Case, exercise
from ..outcomes import Target

__all__ = ["gptq_column_case", "int4_bytes_case", "VIT_EVAL_IMAGES", "SMALLEST_TARGETS", "MAX_FILE_BYTES",
           "FLOAT_VIT_BYTES", "file_magic", "vit_baseline", "smallest_form", "smallest_case"]


# ---------------------------------------------------------------- 11-gptq-column

def _numbers(value, shape, name):
    """``value`` as a float64 array of ``shape``, or the problem with it."""
    try:
        a = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None, f"{name} is not an array of numbers"
    if a.shape != shape:
        return None, f"{name} has shape {a.shape}, expected {shape}"
    if not np.all(np.isfinite(a)):
        return None, f"{name} contains NaN or infinite values"
    return a, ""


def _gptq_checks(got, w, h, scale, bits, j):
    out, n_in = w.shape
    label = f"gptq_column({out}x{n_in} weight, column {j}, {bits} bits)"
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        return [f"{label} returned {type(got).__name__}, expected a pair (q, w_updated)"]
    q, problem = _numbers(got[0], (out,), f"{label}: q")
    if problem:
        return [problem]
    w_new, problem = _numbers(got[1], (out, n_in), f"{label}: w_updated")
    if problem:
        return [problem]
    qmax = 2 ** (bits - 1) - 1
    codes = q / scale
    problems = []
    if np.any(np.abs(codes - np.rint(codes)) > 1e-9 * np.maximum(1.0, np.abs(codes))) \
            or np.any(np.abs(np.rint(codes)) > qmax):
        problems.append(f"{label}: q is not on the grid: q / scale must be a whole number in [-{qmax}, {qmax}]")
    elif np.any(np.abs(codes - np.clip(w[:, j] / scale, -qmax, qmax)) > 0.5 + 1e-9):
        problems.append(f"{label}: q is on the grid but not its point nearest to the weight (round, then clip)")
    if np.any(np.abs(w_new[:, :j] - w[:, :j]) > 1e-12 * np.maximum(1.0, np.abs(w[:, :j]))):
        problems.append(f"{label}: w_updated changed the columns before j (already quantized: they stay)")
    if not np.allclose(w_new[:, j], q, rtol=1e-9, atol=1e-12):
        problems.append(f"{label}: column j of w_updated must hold q (the column as quantized)")
    if problems:
        return problems
    change = w[:, j:] - w_new[:, j:]  # the error each row takes on, column j and the columns after it
    h_rest = h[j:, j:]
    if np.all(np.abs(change[:, 1:]) <= 1e-12 * np.maximum(1.0, np.abs(w[:, j + 1:]))):
        return [f"{label}: q is right, but the columns after j were not updated: GPTQ feeds column j's rounding "
                "error into them"]
    # the columns after j are free: their change minimizes the output error  e H_F e^T  of each row, i.e. the
    # gradient (e H_F) is zero on them (Optimal Brain Surgeon's update, whichever way it is computed)
    gradient = (change @ h_rest)[:, 1:]
    if np.linalg.norm(gradient) > 1e-7 * np.linalg.norm(change) * np.linalg.norm(h_rest):
        return [f"{label}: the columns after j do not compensate column j's rounding error: the update must minimize "
                "the layer's output error given column j (row j of U, the Cholesky factor of H^-1 -- not row j "
                "of H^-1 itself, unless j = 0)"]
    return []


def gptq_column_case(seed, out, n_in, j, bits, *, clip=0.8, correlation=0.7):
    """A case for ``gptq_column(w, h, scale, bits, j)``: GPTQ's step on column ``j`` of ``w`` (out, n_in).

    ``h`` (n_in, n_in) is the layer's Hessian ``2 X^T X / n`` on correlated calibration inputs, already
    damped (positive definite); ``scale`` (out,) is each row's grid step, ``clip`` times ``max|w_row| / qmax``
    (a clipped grid: some weights lie beyond it); ``bits`` the codes' width (symmetric codes in
    ``[-qmax, qmax]``, ``qmax = 2^(bits-1) - 1``). The answer returns ``(q, w_updated)``: column ``j``
    rounded to the grid (``q``, float values ``scale * code``), and ``w`` with column ``j`` replaced by ``q``
    and the columns after ``j`` updated; the columns before ``j`` (quantized earlier) unchanged.

    Checked here, completely: ``q`` is the grid point nearest to each weight (clipped), and the update of
    the columns after ``j`` minimizes each row's output error ``e H_F e^T`` given column ``j``'s error
    (``F`` the columns from ``j`` on).
    """
    if not 0 <= j < n_in:
        raise ValueError(f"j == {j}, must be a column of the {n_in}.")

    def inputs():
        rng = np.random.default_rng(seed)
        n = 4 * n_in + 8
        mix = np.eye(n_in) + correlation * rng.normal(size=(n_in, n_in)) / np.sqrt(n_in)
        x = rng.normal(size=(n, n_in)) @ mix * rng.uniform(0.2, 3.0, size=n_in)  # correlated, uneven channels
        h = 2.0 * x.T @ x / n
        h[np.diag_indices(n_in)] += 0.01 * np.mean(np.diag(h))
        w = rng.normal(scale=0.1, size=(out, n_in))
        qmax = 2 ** (bits - 1) - 1
        scale = clip * np.abs(w).max(axis=1) / qmax
        return w, h, scale, bits, j

    return Case(inputs, _gptq_checks)


exercise("11-gptq-column", "One step of GPTQ: round a column, feed its error into the columns after it",
         kind="variant", checked_here="values").cases.extend([
    ("a 3x5 weight, column 1, 4 bits", gptq_column_case(0, 3, 5, 1, 4)),
    ("a 16x64 weight (a ViT q layer), column 20, 3 bits", gptq_column_case(1, 16, 64, 20, 3)),
    ("an 8x128 weight (a ViT fc2), column 126, 2 bits", gptq_column_case(2, 8, 128, 126, 2)),
])


# ---------------------------------------------------------------- 11-int4-bytes

def _bytes_checks(got, out, n_in, bits, group_size, symmetric):
    label = f"int4_bytes({out}, {n_in}, bits={bits}, group_size={group_size}, symmetric={symmetric})"
    if not isinstance(got, (tuple, list)) or len(got) != 3 or any(
            isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)) or v < 0 for v in got):
        return [f"{label} must return three whole numbers of bytes >= 0 (codes, scales, zero_points), got "
                f"{type(got).__name__}"]
    codes, scales, zeros = (int(v) for v in got)
    weights = out * n_in
    problems = []
    if codes * 8 < weights * bits or codes * 8 >= weights * bits + 8 * out:
        problems.append(f"{label}: the codes' bytes must hold {bits} bits per weight, with no more than the "
                        "padding of a whole byte per row")
    if scales <= 0 or scales % 2:
        problems.append(f"{label}: the scales are float16 numbers of 2 bytes each, at least one per row")
    if symmetric and zeros:
        problems.append(f"{label}: a symmetric grid has no zero points to store")
    if not symmetric and not 0 < zeros * 8 < scales * bits + 8:
        problems.append(f"{label}: an asymmetric grid stores one zero point of at most {bits} bits per scale")
    return problems


def int4_bytes_case(out, n_in, bits, group_size, symmetric):
    """A case for ``int4_bytes(out, n_in, bits, group_size, symmetric)``: the bytes of a group-wise quantized
    ``(out, n_in)`` weight as :mod:`course_lib.llmquant.groupwise` stores it, as three numbers: ``(codes,
    scales, zero_points)`` (float16 scales). Checked here: the form and bounds each part must respect; the
    grader compares each part with its reference."""
    if n_in % group_size:
        raise ValueError(f"group_size == {group_size} must divide n_in == {n_in}.")
    return Case(lambda: (out, n_in, bits, group_size, symmetric), _bytes_checks)


exercise("11-int4-bytes", "The bytes of a group-wise quantized layer: codes, scales and zero points",
         kind="derivation", checked_here="form").cases.extend([
    ("a ViT fc1, 128x64, 4 bits, groups of 32, symmetric", int4_bytes_case(128, 64, 4, 32, True)),
    ("a ViT fc2, 64x128, 3 bits, groups of 32, asymmetric", int4_bytes_case(64, 128, 3, 32, False)),
    ("10x21, 3 bits, groups of 7, asymmetric", int4_bytes_case(10, 21, 3, 7, False)),
    ("a large model's 4096x4096, 4 bits, groups of 128, symmetric", int4_bytes_case(4096, 4096, 4, 128, True)),
])


# ---------------------------------------------------------------- 11-outcome-smallest

#: the MNIST test images the grader measures the ViT on (the first ones), the float model's and the answer's
VIT_EVAL_IMAGES = 2000
#: the float32 ViT's parameters' bytes (139,018 at 4 bytes): a file that size earns nothing
FLOAT_VIT_BYTES = 139_018 * 4
#: the targets of 11-outcome-smallest (the notebook prints them with rule_text; the grader measures them)
SMALLEST_TARGETS = [
    Target("file size", goal=86_000, zero_at=FLOAT_VIT_BYTES, higher=False, unit="bytes"),
    Target(f"accuracy lost (float minus yours, first {VIT_EVAL_IMAGES:,} MNIST test images)", goal=0.01,
           zero_at=0.02, higher=False, unit="points"),
]
#: the largest answer the grader reads (the float32 ViT's file is about 0.56 MB)
MAX_FILE_BYTES = 2 * 2**20


def file_magic() -> bytes:
    """The first bytes of a file of :func:`course_lib.llmquant.nn.save_quantized_vit` (its format's own constant)."""
    from ...llmquant.nn.storage import MAGIC

    return MAGIC


@functools.lru_cache(maxsize=1)
def vit_baseline():
    """``(model, test, accuracy)``: the MNIST ViT as trained, the first :data:`VIT_EVAL_IMAGES` MNIST test images
    and its accuracy there.

    What the grader measures 11-outcome-smallest against, loaded once per process. The model is shared:
    copy it before changing it.
    """
    from ...checkpoints import load_pretrained
    from ...data import load_mnist
    from ...measure import accuracy

    model, test = load_pretrained("vit_mnist").eval(), load_mnist("test", limit=VIT_EVAL_IMAGES)
    return model, test, accuracy(model, test.images, test.labels)


def smallest_form(got) -> list[str]:
    """The problems of the form of an answer to 11-outcome-smallest (what the student's kernel checks)."""
    label = "smallest_vit()"
    if not isinstance(got, np.ndarray) or got.dtype != np.uint8 or got.ndim != 1:
        return [f"{label} must return a 1-D np.uint8 array (the file's bytes: np.fromfile(path, np.uint8)), "
                f"got {type(got).__name__}"]
    magic = file_magic()
    if not len(magic) < got.size <= MAX_FILE_BYTES:
        return [f"{label} holds {got.size} bytes, must hold {len(magic) + 1} to {MAX_FILE_BYTES} "
                "(a file of save_quantized_vit)"]
    if got[:len(magic)].tobytes() != magic:
        return [f"{label} does not start with {magic!r}: it must be a file of save_quantized_vit"]
    return []


def smallest_case():
    """The case of 11-outcome-smallest: no inputs (the answer quantizes what it needs); the checks made here are
    the form's, the grader loads the file with load_quantized_vit and measures it on MNIST test images."""
    return Case(lambda: (), lambda got: smallest_form(got))


exercise("11-outcome-smallest", "The smallest Vision Transformer file within a point of the float accuracy",
         kind="outcome", checked_here="form").cases.append(("the MNIST ViT", smallest_case()))
