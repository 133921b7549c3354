"""Chapter 11's instructor-only bank: the grader's verdicts and hidden cases (never released).

Runs only in the grader's process (:func:`course_lib.grading.course.course_cases`), each file of
``hidden_tests/`` in its own namespace: a graded kernel receives the cases' *inputs* only, never this
text, a reference solution or an expected value. See ``hidden_tests/README.md``.
"""

import functools

import numpy as np

from course_lib.exercises import add_cases, compare, grade_with, outcome_credit
from course_lib.exercises.bank.transformers import (
    SMALLEST_TARGETS,
    gptq_column_case,
    int4_bytes_case,
    smallest_form,
    vit_baseline,
)
from course_lib.exercises.sessions import hidden_seed

# the grading session's number (0 unless the grader draws this session's hidden cases afresh)
HIDDEN_SEED = globals().get("HIDDEN_SEED", 0)
seed_of = functools.partial(hidden_seed, session=HIDDEN_SEED)  # a case's seed in this session


def gptq_column_reference(w, h, scale, bits, j):
    """Round column ``j`` to the grid; move the columns after it by the row ``j`` of ``U``, the upper Cholesky
    factor of ``H^{-1}`` (``H^{-1} = U^T U``): ``w_F -= (w_j - q_j) / U_jj * U_{j,F}`` (GPTQ, Algorithm 1)."""
    qmax = 2 ** (bits - 1) - 1
    q = np.clip(np.rint(w[:, j] / scale), -qmax, qmax) * scale
    u = np.linalg.cholesky(np.linalg.inv(h)).T
    w = w.copy()
    w[:, j:] -= np.outer((w[:, j] - q) / u[j, j], u[j, j:])
    w[:, j] = q
    return q, w


def gptq_column_verdict(got, *args):
    q, w = gptq_column_reference(*args)
    return (compare(got[0], q, rtol=1e-9, atol=1e-12, name="gptq_column: q")
            + compare(got[1], w, rtol=1e-7, atol=1e-10, name="gptq_column: w_updated"))


def int4_bytes_reference(out, n_in, bits, group_size, symmetric):
    """Codes: one stream of ``out * n_in * bits`` bits, padded once; a float16 scale per (row, group); asymmetric,
    one ``bits``-bit zero point per scale, in a second stream padded once."""
    n_scales = out * (n_in // group_size)
    codes = -(-out * n_in * bits // 8)
    zeros = 0 if symmetric else -(-n_scales * bits // 8)
    return codes, 2 * n_scales, zeros


def int4_bytes_verdict(got, *args):
    expected = int4_bytes_reference(*args)
    return [f"int4_bytes: the {part} bytes are not right" for part, g, e in
            zip(("codes'", "scales'", "zero points'"), got, expected) if int(g) != e]


def smallest_verdict(got):
    """Write the bytes to a file, load it with load_quantized_vit (a file that does not load earns nothing), count
    its bytes and measure its accuracy on the first VIT_EVAL_IMAGES MNIST test images against the float ViT's."""
    import tempfile
    from pathlib import Path

    from course_lib.llmquant.nn import load_quantized_vit
    from course_lib.measure import accuracy

    problems = smallest_form(got)
    if problems:
        return problems
    _, test, float_accuracy = vit_baseline()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "answer.qvit"
        path.write_bytes(got.tobytes())
        try:
            model, _ = load_quantized_vit(path)
        except ValueError as exc:
            return [f"the file does not load with load_quantized_vit: {exc}"]
        size = path.stat().st_size
    lost = float_accuracy - accuracy(model, test.images, test.labels)
    return outcome_credit({SMALLEST_TARGETS[0].name: size, SMALLEST_TARGETS[1].name: lost}, SMALLEST_TARGETS)


grade_with("11-gptq-column", gptq_column_verdict)
grade_with("11-int4-bytes", int4_bytes_verdict)
grade_with("11-outcome-smallest", smallest_verdict)


def _gptq_hidden(base, shapes):
    """A GPTQ case of a random shape among ``shapes`` ((out, n_in)), column and width, drawn from the seed."""
    rng = np.random.default_rng(seed_of(base))
    out, n_in = shapes[rng.integers(len(shapes))]
    j = int(rng.integers(1, n_in - 1))
    bits = int(rng.integers(2, 9))
    return (f"hidden: a {out}x{n_in} weight", gptq_column_case(seed_of(base), out, n_in, j, bits,
                                                                 clip=float(rng.uniform(0.6, 1.0))))


def _bytes_hidden(base, symmetric, big=False):
    """A layer of random shape, width and group size whose streams do not end on a byte boundary per row."""
    rng = np.random.default_rng(seed_of(base))
    while True:
        bits = int(rng.choice([2, 3, 5, 6, 7]))
        group = int(rng.choice([16, 32, 64, 128] if big else [3, 5, 7, 9, 11]))
        n_in = group * int(rng.integers(3, 40 if big else 9))
        out = int(rng.integers(100, 5000) if big else rng.integers(2, 40))
        # small: a row's bits end inside a byte (padding per row would show); both: so do the zero points' bits
        rows_odd = big or ((n_in * bits) % 8 and (out * n_in * bits) % 8)
        if rows_odd and (out * (n_in // group) * bits) % 8:
            return (f"hidden: a {'large' if big else 'small'} {'symmetric' if symmetric else 'asymmetric'} layer",
                    int4_bytes_case(out, n_in, bits, group, symmetric))


add_cases("11-gptq-column",
          _gptq_hidden(111, [(4, 9), (7, 12), (5, 20)]),
          _gptq_hidden(112, [(64, 64), (32, 128), (128, 64)]),
          _gptq_hidden(113, [(1, 17), (2, 33)]))
add_cases("11-int4-bytes",
          _bytes_hidden(114, False),
          _bytes_hidden(115, True),
          _bytes_hidden(116, False, big=True))
