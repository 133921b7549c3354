"""Notebook 07's exercises: the library's one-call answers earn nothing, the instructor's solutions full marks,
and the outcome's partial credit follows its published rule."""

import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from shortcut_helpers import assert_full_marks, assert_no_shortcut, grader_credit, selfcheck_credit

import course_lib as cl
from course_lib.exercises.bank.flattened import FLAT_LAYERS, MAC_BUDGET, TARGETS, layer_macs
from course_lib.factorization import conv_macs, flatten_filters, flattened_macs, reconstruct_filters


def als_update(W, lateral, vertical, horizontal, mode):
    F, C, Y, X = W.shape
    R = lateral.shape[1]
    if mode == "vertical":  # W[f, y, (c, x)] = sum_r V[f, r, y] Z[f, r, c] H[f, r, x]
        unfolding, a, b = W.transpose(0, 2, 1, 3).reshape(F, Y, C * X), lateral, horizontal
    else:                   # W[f, x, (c, y)] = sum_r H[f, r, x] Z[f, r, c] V[f, r, y]
        unfolding, a, b = W.transpose(0, 3, 1, 2).reshape(F, X, C * Y), lateral, vertical
    khatri_rao = (a[:, :, :, None] * b[:, :, None, :]).reshape(F, R, -1)  # (F, R, dim_a * dim_b)
    gram = (a @ a.transpose(0, 2, 1)) * (b @ b.transpose(0, 2, 1))        # (F, R, R)
    rhs = khatri_rao @ unfolding.transpose(0, 2, 1)                       # (F, R, dim)
    return np.linalg.solve(gram, rhs)


def flattened_stage_macs(C, F, Y, X, R, H, W, stride, padding):
    h_out = (H + 2 * padding - Y) // stride + 1
    w_out = (W + 2 * padding - X) // stride + 1
    return {"dense": F * C * Y * X * h_out * w_out,
            "lateral": F * R * C * H * W,
            "vertical": F * R * Y * h_out * W,
            "horizontal": F * R * X * h_out * w_out}


def choose_flattened_ranks(budget):
    cnn = cl.load_pretrained("cifar_vgg").eval()
    val = cl.load_cifar10("train", limit=64)  # training images: the test set is the grader's
    images = val.images
    names = ["features.4", "features.7", "features.11", "features.14"]
    convs = {n: cnn.get_submodule(n) for n in names}
    side = {"features.4": 16, "features.7": 16, "features.11": 8, "features.14": 8}

    def macs(n, r):  # stride 1, same padding: the three stages cost F R (C + Y + X) per output position
        f, c, y, x = convs[n].weight.shape
        return f * side[n] ** 2 * (c * y * x if r == 0 else r * (c + y + x))

    cache = {}

    def filters(n, r):
        if (n, r) not in cache:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = flatten_filters(convs[n].weight.detach().double().numpy(), r, max_iter=20)
            cache[(n, r)] = torch.from_numpy(reconstruct_filters(res.lateral, res.vertical, res.horizontal)).float()
        return cache[(n, r)]

    with torch.inference_mode():
        x0 = cnn.features[:4](cnn.standardize(cl.models.to_tensor(images)))  # the input of features.4, once

        def logits(ranks):
            h = x0
            for i, layer in enumerate(cnn.features[4:], start=4):
                name = f"features.{i}"
                h = F.conv2d(h, filters(name, ranks[name]), padding=1) if ranks.get(name) else layer(h)
            return cnn.classifier(h)

        reference = torch.log_softmax(logits({}), 1)  # the 3-D network's predictions

        def accuracy(ranks):  # minus the KL divergence from the 3-D network: smoother than accuracy on few images
            return -torch.nn.functional.kl_div(torch.log_softmax(logits(ranks), 1), reference, log_target=True,
                                               reduction="batchmean").item()

        ranks = dict.fromkeys(names, 2)  # greedy: start low, add the rank that gains the most accuracy per MAC
        current = accuracy(ranks)
        while True:
            used = sum(macs(n, r) for n, r in ranks.items())
            best = None
            for n in names:
                extra = macs(n, ranks[n] + 1) - macs(n, ranks[n])
                if used + extra > budget or ranks[n] >= 8:
                    continue
                trial = {**ranks, n: ranks[n] + 1}
                acc = accuracy(trial)
                if best is None or (acc - current) / extra > best[0]:
                    best = ((acc - current) / extra, trial, acc)
            if best is None:
                return ranks
            _, ranks, current = best


INSTRUCTOR_RANKS = {"features.4": 5, "features.7": 3, "features.11": 4, "features.14": 2}  # choose_flattened_ranks


def test_als_update():
    assert_full_marks("07-als-update", als_update)

    def full_als(W, lateral, vertical, horizontal, mode):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return getattr(flatten_filters(W, lateral.shape[1]), mode)

    def tensorly_one_sweep(W, lateral, vertical, horizontal, mode):
        from tensorly.decomposition import parafac

        out = []
        for f in range(W.shape[0]):
            init = (np.ones(lateral.shape[1]), [lateral[f].T, vertical[f].T, horizontal[f].T])
            cp = parafac(W[f], lateral.shape[1], init=init, n_iter_max=1, tol=0)
            out.append(cp.factors[{"vertical": 1, "horizontal": 2}[mode]].T)
        return np.stack(out)

    assert_no_shortcut("07-als-update", flatten_filters=full_als, tensorly_parafac_one_sweep=tensorly_one_sweep,
                       unchanged=lambda W, z, v, h, mode: {"vertical": v, "horizontal": h}[mode])


def test_stage_macs():
    assert_full_marks("07-stage-macs", flattened_stage_macs)

    def output_size_formula(C, F, Y, X, R, H, W, stride, padding):
        ho, wo = (H + 2 * padding - Y) // stride + 1, (W + 2 * padding - X) // stride + 1
        return {"dense": conv_macs(C, F, Y, X, ho, wo), "lateral": F * R * C * ho * wo,
                "vertical": F * R * Y * ho * wo, "horizontal": F * R * X * ho * wo}

    def same_padding_library(C, F, Y, X, R, H, W, stride, padding):
        return {"dense": conv_macs(C, F, Y, X, H, W), "lateral": F * R * C * H * W,
                "vertical": F * R * Y * H * W, "horizontal": F * R * X * H * W}

    def totals_only(C, F, Y, X, R, H, W, stride, padding):
        ho, wo = (H + 2 * padding - Y) // stride + 1, (W + 2 * padding - X) // stride + 1
        return {"dense": conv_macs(C, F, Y, X, ho, wo), "lateral": flattened_macs(C, F, Y, X, ho, wo, R),
                "vertical": 0, "horizontal": 0}

    assert_no_shortcut("07-stage-macs", output_size_formula=output_size_formula,
                       same_padding_library=same_padding_library, totals_only=totals_only)

    def vertical_padded_columns(C, F, Y, X, R, H, W, stride, padding):  # pads the columns in the vertical stage
        out = flattened_stage_macs(C, F, Y, X, R, H, W, stride, padding)
        out["vertical"] = out["vertical"] // W * (W + 2 * padding)
        return out

    assert grader_credit("07-stage-macs", vertical_padded_columns)[0] < 1.0


def test_outcome_flattened_full_partial_and_none():
    assert sum(layer_macs(n, r) for n, r in INSTRUCTOR_RANKS.items()) <= MAC_BUDGET
    assert_full_marks("07-outcome-flattened", lambda budget: dict(INSTRUCTOR_RANKS))
    # the same rank everywhere, the largest that fits: the published partial credit
    got, problems = grader_credit("07-outcome-flattened", lambda budget: dict.fromkeys(FLAT_LAYERS, 3))
    assert "test accuracy is 73.0 %" in problems[0]
    assert got == pytest.approx(TARGETS[0].credit(0.73), abs=1e-9)
    # the dense CNN, or rank 8 everywhere, is over the budget: nothing
    assert_no_shortcut("07-outcome-flattened", dense=lambda budget: dict.fromkeys(FLAT_LAYERS, 0),
                       rank8=lambda budget: dict.fromkeys(FLAT_LAYERS, 8))
    assert selfcheck_credit("07-outcome-flattened", lambda budget: [5, 3, 4, 2])[0] == 0.0


@pytest.mark.slow
def test_the_instructor_allocation_is_found():
    assert choose_flattened_ranks(MAC_BUDGET) == INSTRUCTOR_RANKS
