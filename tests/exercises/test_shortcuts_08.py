"""Notebook 08's exercises: the library's shortcuts earn nothing, the instructor's solutions earn full marks, and the
outcome's partial credit follows its published rule."""

import functools
import math

import numpy as np
import pytest
import torch
from shortcut_helpers import assert_full_marks, assert_no_shortcut, grader_credit, selfcheck_credit
from tensorly.tenalg import inner as tl_inner
from tensorly.tt_tensor import tt_to_tensor

import course_lib as cl
from course_lib.exercises.bank.tt import TT_LAYER_TARGETS, tt_layer_compression
from course_lib.factorization import balanced_modes, tt_matrix, tt_norm, tt_reconstruct, tt_svd


def tt_inner(cores_a, cores_b):  # the instructor's solution (notebook 08)
    m = np.ones((1, 1))
    for a, b in zip(cores_a, cores_b):
        t = np.tensordot(m, a, axes=(0, 0))
        m = np.tensordot(t, b, axes=((0, 1), (0, 1)))
    return float(m[0, 0])


def tt_add(cores_a, cores_b):  # the instructor's solution (notebook 08)
    d, out = len(cores_a), []
    for k, (a, b) in enumerate(zip(cores_a, cores_b)):
        if k == 0:
            out.append(np.concatenate([a, b], axis=2))
        elif k == d - 1:
            out.append(np.concatenate([a, b], axis=0))
        else:
            c = np.zeros((a.shape[0] + b.shape[0], a.shape[1], a.shape[2] + b.shape[2]))
            c[:a.shape[0], :, :a.shape[2]] = a
            c[a.shape[0]:, :, a.shape[2]:] = b
            out.append(c)
    return out


def cheapest_modes(M, N, d, rank):  # the instructor's solution (notebook 08)

    r = [1] + [rank] * (d - 1) + [1]

    @functools.cache
    def divisors(x):
        return [k for k in range(2, x + 1) if x % k == 0]

    @functools.cache
    def best(k, m, n):
        if k == d - 1:
            return (r[k] * r[k + 1] * m * n if m > 1 and n > 1 else math.inf), (m,), (n,)
        options = [(math.inf, (), ())]
        for a in divisors(m):
            for b in divisors(n):
                cost, ins, outs = best(k + 1, m // a, n // b)
                options.append((r[k] * r[k + 1] * a * b + cost, (a, *ins), (b, *outs)))
        return min(options)

    _, ins, outs = best(0, M, N)
    return list(ins), list(outs)


def tt_fc2(rank=8, steps=150, modes=(4, 8, 8, 4)):  # the instructor's solution (notebook 08), parametrised
    from torch import nn

    from course_lib.factorization.nn import tt_linear_from

    wide = cl.load_pretrained("wide_mlp").eval().requires_grad_(False)
    train = cl.load_mnist("train", limit=10000)
    layer = tt_linear_from(wide.fc2, modes, modes, rank)
    layer.bias.requires_grad_(False)
    with torch.no_grad():
        h = torch.relu(wide.fc1(wide.standardize(cl.to_tensor(train.images)).flatten(1)))
    y = torch.from_numpy(train.labels)
    opt = torch.optim.Adam(layer.cores, lr=5e-3)
    for idx in torch.from_numpy(np.random.default_rng(0).integers(0, len(y), (steps, 128))):
        opt.zero_grad(set_to_none=True)
        nn.functional.cross_entropy(wide.fc3(torch.relu(layer(h[idx]))), y[idx]).backward()
        opt.step()
    return {"cores": [c.detach().numpy().copy() for c in layer.cores]}


def zero_points(ex_id, answer):
    """All or nothing: ``answer`` fails at least one case in the grader and in the self-check (0 points)."""
    for where, fn in (("grader", grader_credit), ("self-check", selfcheck_credit)):
        got, problems = fn(ex_id, answer)
        assert got < 1.0 and problems, f"{ex_id}: {answer} passes every case in the {where}"


def test_tt_inner():
    assert_full_marks("08-tt-inner", tt_inner)
    assert_no_shortcut("08-tt-inner", norms=lambda a, b: tt_norm(a) * tt_norm(b),
                       squared_norm=lambda a, b: tt_norm(a) ** 2 if tt_norm(a) > tt_norm(b) else tt_norm(b) ** 2)
    # rebuilding both tensors is right on small trains and impossible on the big case (3.2e16 entries): 0 points
    zero_points("08-tt-inner", lambda a, b: float(np.sum(tt_reconstruct(a) * tt_reconstruct(b))))
    zero_points("08-tt-inner", lambda a, b: float(tl_inner(tt_to_tensor(a), tt_to_tensor(b))))


def test_tt_add():
    assert_full_marks("08-tt-add", tt_add)
    ranks = lambda a, b: [1] + [x.shape[2] + y.shape[2] for x, y in zip(a[:-1], b[:-1])] + [1]  # noqa: E731
    assert_no_shortcut("08-tt-add",
                       tt_svd_of_the_sum=lambda a, b: tt_svd(tt_reconstruct(a) + tt_reconstruct(b), eps=1e-12).cores,
                       tt_svd_at_the_ranks=lambda a, b: tt_svd(tt_reconstruct(a) + tt_reconstruct(b),
                                                               ranks(a, b)).cores,
                       both_trains=lambda a, b: list(a) + list(b),
                       concatenated_everywhere=lambda a, b: [np.concatenate([x, y], axis=2) for x, y in zip(a, b)])


def test_cheapest_modes():
    assert_full_marks("08-cheapest-modes", cheapest_modes)
    balanced = lambda m, n, d, r: (balanced_modes(m, d), balanced_modes(n, d))  # noqa: E731
    # the library's balanced modes, as they come and reversed on one side: beaten in every case
    assert_no_shortcut("08-cheapest-modes", balanced_modes=balanced,
                       reversed_outputs=lambda m, n, d, r: (balanced_modes(m, d), balanced_modes(n, d)[::-1]))
    # a heuristic (the largest balanced modes at the ends) is optimal in some cases only: 0 points
    zero_points("08-cheapest-modes", lambda m, n, d, r: tuple(
        sorted(b, reverse=True)[0::2] + sorted(b, reverse=True)[1::2][::-1] for b in balanced(m, n, d, r)))
    # the student-side checks: form, and the local moves that save numbers
    ex = "08-cheapest-modes"
    assert selfcheck_credit(ex, lambda m, n, d, r: ([m] + [1] * (d - 1), [n] + [1] * (d - 1)))[0] == 0.0
    assert selfcheck_credit(ex, lambda m, n, d, r: balanced_modes(m, d))[0] == 0.0


@pytest.fixture(scope="module")
def tt_answer():
    return tt_fc2()


def test_tt_layer_outcome(tt_answer):
    ex = "08-outcome-tt-layer"
    assert_full_marks(ex, lambda: tt_answer)
    # the same weight with zero-padded ranks: more numbers, the same accuracy -- the published linear credit
    pad = [np.pad(c, ((0, 0 if k == 0 else 8), (0, 0), (0, 0), (0, 0 if k == 3 else 8)))
           for k, c in enumerate(tt_answer["cores"])]
    padded = {"cores": pad}
    compression = tt_layer_compression(padded)
    target = TT_LAYER_TARGETS[0]
    assert 20 < compression < 100
    got, problems = grader_credit(ex, lambda: padded)
    assert got == pytest.approx((compression - target.zero_at) / (target.goal - target.zero_at)), problems
    # the dense layer as one core, and the library's one-shot TT-SVD without fine-tuning: nothing
    w = cl.load_pretrained("wide_mlp").fc2.weight.detach().double().numpy().T
    assert grader_credit(ex, lambda: {"cores": [w.reshape(1, 1024, 1024, 1)]})[0] == 0.0
    assert grader_credit(ex, lambda: {"cores": tt_matrix(w, (4, 8, 8, 4), (4, 8, 8, 4), 16).cores})[0] == 0.0


def test_tt_layer_form():
    ex = "08-outcome-tt-layer"
    bad = {"cores": [np.zeros((1, 32, 32, 2)), np.zeros((3, 32, 32, 1))]}
    assert selfcheck_credit(ex, lambda: bad)[0] == 0.0
    assert selfcheck_credit(ex, lambda: {"cores": [np.zeros((1, 32, 32, 2)), np.zeros((2, 16, 32, 1))]})[0] == 0.0
    assert math.isclose(tt_layer_compression({"cores": [np.zeros((1, 32, 32, 2)), np.zeros((2, 32, 32, 1))]}), 256)
