"""Notebook 11's exercises: the library's one-call answers earn nothing, the instructor's solutions earn full marks,
the usual mistakes are told apart, and the outcome's published rule gives the credit it prints; the grader survives
a hostile file."""

import numpy as np
import pytest
import torch
from shortcut_helpers import (
    OTHER_SESSION,
    assert_full_marks,
    assert_no_shortcut,
    graded_cases,
    grader_credit,
    selfcheck_credit,
)

import course_lib as cl
from course_lib.exercises import load_bank
from course_lib.exercises.bank.transformers import MAX_FILE_BYTES, SMALLEST_TARGETS, file_magic
from course_lib.llmquant import gptq_quantize, group_quantize, stored_bytes
from course_lib.llmquant import nn as qnn


def gptq_column(w, h, scale, bits, j):
    qmax = 2 ** (bits - 1) - 1
    q = np.clip(np.rint(w[:, j] / scale), -qmax, qmax) * scale
    u = np.linalg.cholesky(np.linalg.inv(h)).T  # H^-1 = U^T U, U upper
    w = np.array(w, dtype=np.float64)
    w[:, j + 1:] -= np.outer((w[:, j] - q) / u[j, j], u[j, j + 1:])
    w[:, j] = q
    return q, w


def gptq_column_obs(w, h, scale, bits, j):
    """The same step from Optimal Brain Surgeon's formula: the inverse Hessian of the columns from j on."""
    qmax = 2 ** (bits - 1) - 1
    q = np.clip(np.rint(w[:, j] / scale), -qmax, qmax) * scale
    inv = np.linalg.inv(h[j:, j:])
    w = np.array(w, dtype=np.float64)
    w[:, j:] -= np.outer((w[:, j] - q) / inv[0, 0], inv[0])
    w[:, j] = q
    return q, w


def int4_bytes(out, n_in, bits, group_size, symmetric):
    n_scales = out * (n_in // group_size)
    return -(-out * n_in * bits // 8), 2 * n_scales, 0 if symmetric else -(-n_scales * bits // 8)


def rounded_only(w, h, scale, bits, j):
    q, _ = gptq_column(w, h, scale, bits, j)
    w = np.array(w, dtype=np.float64)
    w[:, j] = q
    return q, w


def full_inverse(w, h, scale, bits, j):
    """The common slip: row j of H^-1 of all the columns, not of the columns from j on."""
    q, _ = gptq_column(w, h, scale, bits, j)
    inv = np.linalg.inv(h)
    w = np.array(w, dtype=np.float64)
    w[:, j:] -= np.outer((w[:, j] - q) / inv[j, j], inv[j, j:])
    w[:, j] = q
    return q, w


def sign_flipped(w, h, scale, bits, j):
    """The error fed forward with the wrong sign."""
    q, new = gptq_column(w, h, scale, bits, j)
    new[:, j + 1:] = 2 * w[:, j + 1:] - new[:, j + 1:]
    return q, new


def library_gptq(w, h, scale, bits, j):
    """gptq_quantize on inputs whose Hessian is h (X = sqrt(n/2) L^T, H = L L^T), no damping."""
    x = np.sqrt(len(h) / 2) * np.linalg.cholesky(h).T
    res = gptq_quantize(w, x, bits, None, percdamp=0.0, scale_dtype="float64")
    return res.dequantized[:, j], res.dequantized


def test_gptq_column():
    assert_full_marks("11-gptq-column", gptq_column)
    assert_full_marks("11-gptq-column", gptq_column_obs)
    assert_no_shortcut(
        "11-gptq-column",
        gptq_quantize=library_gptq,
        group_quantize=lambda w, h, s, b, j: (
            lambda r: (r.codes[:, j] * r.scales[:, 0].astype(float), w))(group_quantize(w, b, None)),
        rounded_only=rounded_only,
        full_inverse=full_inverse,
        sign_flipped=sign_flipped)


def test_gptq_column_feedback_says_what_is_right(capsys):
    _, problems = selfcheck_credit("11-gptq-column", rounded_only)
    assert all("q is right" in p and "not updated" in p for p in problems)
    _, problems = selfcheck_credit("11-gptq-column", full_inverse)
    assert all("do not compensate" in p for p in problems)
    _, problems = selfcheck_credit("11-gptq-column", lambda w, h, s, b, j: gptq_column(w, h, s, b, j)[0])
    assert all("expected a pair" in p for p in problems)
    _, problems = selfcheck_credit("11-gptq-column", lambda w, h, s, b, j: (
        np.floor(w[:, j] / s) * s, gptq_column(w, h, s, b, j)[1]))
    assert any("nearest" in p for p in problems)


def test_gptq_column_hidden_cases_change_with_the_session():
    def shapes(session):
        return [tuple(np.asarray(a).shape for a in case.inputs()[:3]) + case.inputs()[3:]
                for _, case in graded_cases(session)["11-gptq-column"]]
    public = len(load_bank()["11-gptq-column"].cases)
    assert shapes(0)[:public] == shapes(OTHER_SESSION)[:public]
    assert shapes(0)[public:] != shapes(OTHER_SESSION)[public:]


def test_int4_bytes():
    for out, n_in, bits, g, sym in [(128, 64, 4, 32, True), (64, 128, 3, 32, False), (10, 21, 3, 7, False),
                                    (4096, 4096, 4, 128, True), (3, 5, 7, 5, False), (1, 3, 2, 1, False)]:
        assert sum(int4_bytes(out, n_in, bits, g, sym)) == stored_bytes(out, n_in, bits, g, symmetric=sym)
    assert_full_marks("11-int4-bytes", int4_bytes)
    assert_no_shortcut(
        "11-int4-bytes",
        stored_bytes=lambda o, i, b, g, s: stored_bytes(o, i, b, g, symmetric=s),
        total_first=lambda o, i, b, g, s: (stored_bytes(o, i, b, g, symmetric=s), 0, 0))
    mistakes = {
        "each row's codes padded to whole bytes":
            lambda o, i, b, g, s: (o * -(-i * b // 8), *int4_bytes(o, i, b, g, s)[1:]),
        "the zero points a byte each": lambda o, i, b, g, s: (*int4_bytes(o, i, b, g, s)[:2], 0 if s else o * (i // g)),
        "float32 scales": lambda o, i, b, g, s: (lambda c, sc, z: (c, 2 * sc, z))(*int4_bytes(o, i, b, g, s)),
        "one group per row": lambda o, i, b, g, s: int4_bytes(o, i, b, i, s),
    }
    for name, answer in mistakes.items():
        got, problems = grader_credit("11-int4-bytes", answer)
        assert got < 1.0 and any("hidden" not in p for p in problems), name  # a public case shows it too


def test_int4_bytes_a_wrong_split_passes_only_here():
    # the codes' padding moved into the scales' count: inside the bounds checked here, only the grader tells
    def moved(o, i, b, g, s):
        c, sc, z = int4_bytes(o, i, b, g, s)
        return (c - 2, sc + 2, z) if c * 8 - 16 >= o * i * b else (c + 2, sc - 2, z) if sc > 2 else (c, sc, z)
    assert selfcheck_credit("11-int4-bytes", moved)[0] == 1.0
    assert grader_credit("11-int4-bytes", moved)[0] < 1.0
    assert selfcheck_credit("11-int4-bytes", lambda *a: (1, 2, 3))[0] == 0.0
    assert selfcheck_credit("11-int4-bytes", lambda *a: (True, 2, 0))[0] == 0.0


def smallest_vit(tmp="/tmp/11_answer.qvit"):
    torch.manual_seed(0)
    model = cl.load_pretrained("vit_mnist").eval()
    train = cl.load_mnist("train", limit=256)
    # 3-bit codes with one scale per row: the fixed float32 part (patch, positions, norms, biases, head)
    # is then the file's largest share after the codes
    quantized = qnn.quantize_vit(model, train.images, method="gptq", bits=3, group_size=None)
    qnn.save_quantized_vit(quantized, tmp)
    return np.fromfile(tmp, dtype=np.uint8)


def saved(quantized, path):
    qnn.save_quantized_vit(quantized, path)
    return np.fromfile(path, dtype=np.uint8)


@pytest.fixture(scope="module")
def answer():
    return smallest_vit()


def test_outcome_smallest_solution(answer):
    assert answer.size <= SMALLEST_TARGETS[0].goal
    for fn in (grader_credit, selfcheck_credit):
        assert fn("11-outcome-smallest", lambda: answer)[0] == 1.0


def test_outcome_smallest_float_file_earns_nothing_and_8_bits_part(tmp_path):
    model, images = cl.load_pretrained("vit_mnist").eval(), cl.load_mnist("train", limit=64).images
    whole = saved(qnn.quantize_vit(model, images, bits=[None] * 4), tmp_path / "float.qvit")
    assert whole.size >= SMALLEST_TARGETS[0].zero_at  # the float32 model's file: no credit
    got, problems = grader_credit("11-outcome-smallest", lambda: whole)
    assert got == 0.0 and any("file size" in p for p in problems)
    # every block at 8 bits, RTN: accurate, and the credit the printed rule gives its size
    eight = saved(qnn.quantize_vit(model, images, method="rtn", bits=8, group_size=32), tmp_path / "rtn8.qvit")
    goal, zero = SMALLEST_TARGETS[0].goal, SMALLEST_TARGETS[0].zero_at
    got, problems = grader_credit("11-outcome-smallest", lambda: eight)
    assert got == pytest.approx((zero - eight.size) / (zero - goal), abs=1e-9) and 0 < got < 1
    assert [p for p in problems if "file size" not in p] == []


def test_outcome_smallest_too_few_bits_lose_accuracy(tmp_path):
    model, images = cl.load_pretrained("vit_mnist").eval(), cl.load_mnist("train", limit=64).images
    two = saved(qnn.quantize_vit(model, images, method="rtn", bits=2, group_size=64), tmp_path / "rtn2.qvit")
    got, problems = grader_credit("11-outcome-smallest", lambda: two)
    assert got < 1.0 and any("accuracy lost" in p for p in problems)


def test_outcome_smallest_form_knows_the_file_format(answer):
    from course_lib.llmquant.nn import storage

    assert answer[:len(file_magic())].tobytes() == file_magic() == storage.MAGIC
    assert MAX_FILE_BYTES <= storage.MAX_FILE


def test_outcome_smallest_hostile_bytes(answer):
    rng = np.random.default_rng(0)
    header = answer[:len(file_magic())]
    bad = [answer[:len(answer) // 2], np.concatenate([answer, np.zeros(3, np.uint8)]),
           np.concatenate([header, rng.integers(0, 256, 5000, dtype=np.uint8)]),
           np.concatenate([header, np.full(40, 255, np.uint8)]),
           np.concatenate([answer[:-8], np.full(8, 255, np.uint8)])]  # the head's last floats made NaN
    for b in bad:
        got, problems = grader_credit("11-outcome-smallest", lambda b=b: b)
        assert got == 0.0 and "does not load" in problems[0], problems
    for b in ([1, 2, 3], None, np.zeros(10, np.uint8), answer.astype(np.int16), file_magic() + b"1234",
              np.zeros(MAX_FILE_BYTES + 1, np.uint8)):
        assert selfcheck_credit("11-outcome-smallest", lambda b=b: b)[0] == 0.0
