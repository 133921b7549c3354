"""Notebook 10's exercises: the library's one-call answers earn nothing, the instructor's solutions earn full marks,
and the outcome's published rule gives the credit it prints; the grader survives a hostile file."""

import heapq
import math

import numpy as np
import pytest
import torch
from shortcut_helpers import assert_full_marks, assert_no_shortcut, grader_credit, selfcheck_credit

import course_lib as cl
from course_lib import sharing
from course_lib.pruning import nn as prune_nn
from course_lib.sharing import nn as snn


def huffman_bits(counts):
    heap = [int(c) for c in counts if c > 0]
    if len(heap) == 1:
        return heap[0]
    heapq.heapify(heap)
    total = 0
    while len(heap) > 1:
        merged = heapq.heappop(heap) + heapq.heappop(heap)
        total += merged
        heapq.heappush(heap, merged)
    return total


def centroid_grad(x, grad_out, indices, mask, k):
    dw = np.asarray(grad_out).T @ np.asarray(x)
    return np.bincount(np.asarray(indices)[mask], weights=dw[mask], minlength=k)


def smallest_file(tmp="/tmp/10_answer.dc"):
    torch.manual_seed(0)
    model = cl.load_pretrained("lenet300")
    train = cl.load_mnist("train")
    kept = {"fc1.weight": 0.10, "fc2.weight": 0.1125, "fc3.weight": 0.325}
    masks = {n: cl.pruning.magnitude_mask(w, 1 - kept[n]) for n, w in prune_nn.prunable_weights(model).items()}
    pruned = prune_nn.fine_tune(model, masks, train.images, train.labels, max_steps=600, rng=0)
    shared = snn.share_model(pruned, {"fc1": 4, "fc2": 5, "fc3": 5})
    tuned = snn.fine_tune_centroids(shared, train.images, train.labels, max_steps=300, lr=1e-3, rng=0)
    snn.save_shared_model(tuned, tmp)
    return np.fromfile(tmp, dtype=np.uint8)


def test_huffman_bits():
    assert huffman_bits([5, 2, 1, 1, 0]) == int(sharing.encoded_bits([5, 2, 1, 1, 0], [1, 2, 3, 3, 0]))
    assert_full_marks("10-huffman-bits", huffman_bits)
    assert_no_shortcut(
        "10-huffman-bits",
        huffman_lengths=lambda c: sharing.huffman_lengths(c),
        entropy_bits=lambda c: sharing.entropy_bits(c),
        encoded_bytes=lambda c: len(sharing.huffman_encode(np.repeat(np.arange(len(c)), c),
                                                           sharing.huffman_lengths(c))[0]))
    # Shannon's bound n H rounded up lies inside the bounds checked here: only the grader tells it from Huffman's
    got, _ = grader_credit("10-huffman-bits", lambda c: math.ceil(int(np.sum(c)) * sharing.entropy_bits(c)))
    assert got == 0.0


def test_centroid_grad():
    assert_full_marks("10-centroid-grad", centroid_grad)
    assert_no_shortcut(
        "10-centroid-grad",
        centroid_gradient=lambda x, g, i, m, k: sharing.centroid_gradient(g, i, k, m),
        # the weights' gradient right, the pruned weights counted
        unmasked=lambda x, g, i, m, k: sharing.centroid_gradient(np.asarray(g).T @ x, i, k),
        # the mean of each cluster's gradients instead of their sum
        mean=lambda x, g, i, m, k: centroid_grad(x, g, i, m, k) / np.maximum(np.bincount(i[m], minlength=k), 1))


@pytest.fixture(scope="module")
def answer():
    return smallest_file()


def test_outcome_file_solution(answer):
    assert answer.size <= 32_000
    for fn in (grader_credit, selfcheck_credit):
        assert fn("10-outcome-file", lambda: answer)[0] == 1.0


def test_outcome_file_partial_credit(tmp_path):
    # the dense network shared at 5 bits, no pruning: accurate, but about 5x the goal's bytes
    shared = snn.share_model(cl.load_pretrained("lenet300"), 5)
    size = snn.save_shared_model(shared, tmp_path / "dense5.dc")
    got, problems = grader_credit("10-outcome-file", lambda: np.fromfile(tmp_path / "dense5.dc", dtype=np.uint8))
    assert got == pytest.approx(max(0.0, (160_000 - size) / (160_000 - 32_000)), abs=1e-9)
    assert any("file size" in p for p in problems)


def test_outcome_file_hostile_bytes(answer):
    rng = np.random.default_rng(0)
    header = answer[:4]
    bad = [answer[:len(answer) // 2], np.concatenate([answer, np.zeros(3, np.uint8)]),
           np.concatenate([header, rng.integers(0, 256, 5000, dtype=np.uint8)]),
           np.concatenate([header, np.full(40, 255, np.uint8)])]
    for b in bad:
        got, problems = grader_credit("10-outcome-file", lambda b=b: b)
        assert got == 0.0 and "does not load" in problems[0]
    for b in ([1, 2, 3], np.zeros(10, np.uint8), answer.astype(np.int16), b"DCWM1234"):
        assert selfcheck_credit("10-outcome-file", lambda b=b: b)[0] == 0.0
