"""paired_difference: the accuracy difference of two models from predictions already computed."""

import numpy as np
import pytest

import course_lib as cl

from helpers import fresh_model, raises


def test_paired_difference_by_hand():
    # right: a = [T, T, F, F], b = [T, T, T, F] -> d = [0, 0, 1, 0]: mean 1/4, sd 1/2, se 1/2 / sqrt(4)
    assert cl.paired_difference([0, 1, 1, 0], [0, 1, 0, 0], [0, 1, 0, 1]) == (0.25, 0.25)
    assert cl.paired_difference([3], [3], [3]) == (0.0, 0.0)  # one image: no spread to estimate


def test_paired_difference_is_what_accuracy_difference_computes():
    a, b = fresh_model(seed=0), fresh_model(seed=1)
    rng = np.random.default_rng(1)
    images = rng.integers(0, 256, size=(60, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=60)
    from_predictions = cl.paired_difference(cl.predict(a, images), cl.predict(b, images), labels)
    assert from_predictions == cl.accuracy_difference(a, b, images, labels)
    assert from_predictions[0] == pytest.approx(cl.accuracy(b, images, labels) - cl.accuracy(a, images, labels))


def test_paired_difference_bad_input():
    raises(ValueError, "predictions_b has 2 prediction(s) and labels 3, must be equal (one per image).",
           cl.paired_difference, [0, 1, 2], [0, 1], [0, 1, 2])
    raises(TypeError, "predictions_a must be an array of integer class indices, got dtype float64 and shape (2,).",
           cl.paired_difference, [0.0, 1.0], [0, 1], [0, 1])
    empty = np.zeros(0, dtype=np.int64)
    raises(ValueError, "labels is empty, must have at least one example.", cl.paired_difference, empty, empty, empty)
    with pytest.raises(ValueError, match="predictions_a has shape"):
        cl.paired_difference([[0, 1]], [0, 1], [0, 1])
