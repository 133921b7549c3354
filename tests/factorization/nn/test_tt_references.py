"""TT-SVD and TT-matrices against TensorLy on the same inputs; the hand-written backward against torch autograd."""

import math

import numpy as np
import pytest
import tensorly as tl
import torch
from tensorly.decomposition import tensor_train, tensor_train_matrix

import course_lib as cl
from course_lib.factorization import (
    random_tt_matrix,
    tt_matmul_backward,
    tt_matmul_forward,
    tt_matrix,
    tt_reconstruct,
    tt_svd,
)
from course_lib.factorization.nn.tt import TTLinear
from course_lib.factorization.tt_references import smooth_tensor

tl.set_backend("numpy")


def _tensors():
    rng = np.random.default_rng(0)
    fc2 = cl.load_pretrained("wide_mlp").fc2.weight.detach().double().numpy()
    return [("random 6x5x4x3", rng.standard_normal((6, 5, 4, 3)), 3),
            ("random 4^5", rng.standard_normal((4,) * 5), 5),
            ("smooth 8^6", smooth_tensor(8, 6), 4),
            ("trained fc2 as 16x64x64x16", fc2.reshape(16, 64, 64, 16), 16),
            ("trained fc2 as 32x32x32x32", fc2.reshape(32, 32, 32, 32), 8)]


@pytest.mark.parametrize("label,tensor,rank", _tensors())
def test_fixed_rank_error_matches_tensorly(label, tensor, rank):
    norm = np.linalg.norm(tensor)
    ours = tt_svd(tensor, rank)
    theirs = tensor_train(tensor, rank)
    assert ours.ranks == tuple(int(r) for r in theirs.rank), label
    err_ours = np.linalg.norm(tensor - ours.reconstruct()) / norm
    err_theirs = np.linalg.norm(tensor - tl.tt_to_tensor(theirs)) / norm
    assert abs(err_ours - err_theirs) <= 1e-12, (label, err_ours, err_theirs)
    # the same truncated SVDs: the same approximation (singular vectors agree up to sign)
    np.testing.assert_allclose(ours.reconstruct(), tl.tt_to_tensor(theirs), atol=1e-10 * np.abs(tensor).max())
    np.testing.assert_allclose(tt_reconstruct(list(theirs.factors)), tl.tt_to_tensor(theirs), atol=1e-12)


def test_tt_matrix_matches_tensorlys_tensor_train_matrix():
    w = cl.load_pretrained("wide_mlp").fc2.weight.detach().double().numpy().T  # in x out
    ins = outs = (4, 8, 8, 4)
    ours = tt_matrix(w, ins, outs, 8)
    theirs = tensor_train_matrix(w.reshape(ins + outs), 8)  # TensorLy's layout: (i_1..i_d, j_1..j_d)
    dense_theirs = tl.tt_matrix_to_tensor(theirs).reshape(w.shape)
    norm = np.linalg.norm(w)
    assert abs(np.linalg.norm(w - ours.to_dense()) - np.linalg.norm(w - dense_theirs)) / norm <= 1e-12
    assert [c.shape for c in ours.cores] == [c.shape for c in theirs.factors]


@pytest.mark.parametrize("ins,outs,rank,batch", [((4, 7, 7, 4), (4, 8, 8, 4), 4, 3), ((2, 3), (3, 2), 2, 1),
                                                 ((5,), (7,), 1, 4), ((2, 3, 2), (2, 2, 2), (1, 2, 3, 1), 2)])
def test_hand_written_backward_matches_autograd(ins, outs, rank, batch):
    cores = random_tt_matrix(ins, outs, rank, std=0.3, rng=0).cores
    rng = np.random.default_rng(1)
    x = rng.standard_normal((batch, math.prod(ins)))
    g = rng.standard_normal((batch, math.prod(outs)))
    y, cache = tt_matmul_forward(cores, x)
    grads, gx = tt_matmul_backward(cores, cache, g)
    layer = TTLinear(ins, outs, rank, bias=False).double()
    with torch.no_grad():
        for p, c in zip(layer.cores, cores):
            p.copy_(torch.from_numpy(c))
    xt = torch.from_numpy(x).requires_grad_(True)
    yt = layer(xt)
    np.testing.assert_allclose(yt.detach().numpy(), y, rtol=1e-12, atol=1e-12)
    yt.backward(torch.from_numpy(g))
    np.testing.assert_allclose(xt.grad.numpy(), gx, rtol=1e-10, atol=1e-12)
    for p, ours in zip(layer.cores, grads):
        np.testing.assert_allclose(p.grad.numpy(), ours, rtol=1e-10, atol=1e-12)
    # and torch's layer is the dense product of its reconstructed weight
    np.testing.assert_allclose(yt.detach().numpy(), x @ layer.weight().detach().numpy().T, rtol=1e-10, atol=1e-12)
