"""Bad input to the NumPy sharing core: a TypeError/ValueError naming the parameter, before any side effect."""

import numpy as np
import pytest

import course_lib.sharing as S

W = np.array([[0.5, -1.0], [0.0, 0.3]])
MASK = W != 0
IDX = np.array([[0, 1], [0, 1]])


@pytest.mark.parametrize("call, exc, fragment", [
    (lambda: S.share_weights(W, 0), ValueError, "bits == 0, must be >= 1"),
    (lambda: S.share_weights(W, 17), ValueError, "bits == 17, must be <= 16"),
    (lambda: S.share_weights(W, 2.0), TypeError, "bits must be an int"),
    (lambda: S.share_weights(W, 2, init="kmeans++"), ValueError, "init == 'kmeans++', must be one of"),
    (lambda: S.share_weights(W, 2, mask=[[1, 0], [0, 1]]), TypeError, "mask must be a boolean array"),
    (lambda: S.share_weights(W, 2, mask=np.ones(3, bool)), ValueError, "mask has shape (3,), must have the weights'"),
    (lambda: S.share_weights(W, 2, mask=np.zeros((2, 2), bool)), ValueError, "mask keeps no weight"),
    (lambda: S.share_weights(W, 3, init="random"), ValueError, "bits == 3 asks for 8 centroids, must be <= the 4"),
    (lambda: S.share_weights([np.nan], 1), ValueError, "weights contains 1 NaN"),
    (lambda: S.share_weights(np.ones(2, bool), 1), TypeError, "weights must be an array of real numbers"),
    (lambda: S.share_weights(W, 2, iters=0), ValueError, "iters == 0, must be >= 1"),
    (lambda: S.share_weights(W, 2, tol=-1), ValueError, "tol == -1.0, must be >= 0"),
    (lambda: S.share_weights(W, 2, init="random", rng="x"), TypeError, "rng must be None, an int seed"),
    (lambda: S.initial_centroids(W, 0), ValueError, "k == 0, must be >= 1"),
    (lambda: S.lloyd_1d(W, [[0.0]]), ValueError, "centroids has 2 dimension(s)"),
    (lambda: S.reconstruct([0.0, 1.0], [[0, 2]]), ValueError, "indices holds 1 value(s) outside [0, 1]"),
    (lambda: S.reconstruct([0.0, 1.0], [0.5]), TypeError, "indices must be an array of integers"),
    (lambda: S.reconstruct([0.0, 1.0], IDX, MASK[0]), ValueError, "mask has shape (2,)"),
    (lambda: S.centroid_gradient(W, IDX, 1), ValueError, "indices holds 2 value(s) outside [0, 0]"),
    (lambda: S.centroid_gradient(W, IDX[0], 2), ValueError, "indices has shape (2,), must have the shape of grad"),
    (lambda: S.centroid_gradient(W, IDX, 0), ValueError, "k == 0, must be >= 1"),
    (lambda: S.huffman_lengths([1, -1]), ValueError, "counts holds 1 value(s) outside [0, None]"),
    (lambda: S.huffman_lengths([[1]]), ValueError, "counts has 2 dimension(s)"),
    (lambda: S.huffman_lengths([1.5]), TypeError, "counts must be an array of integers"),
    (lambda: S.canonical_codes([1, 1, 1]), ValueError, "break Kraft's inequality"),
    (lambda: S.canonical_codes([64]), ValueError, "lengths holds 1 value(s) outside [0, 63]"),
    (lambda: S.huffman_encode([0, 2], [1, 1, 0]), ValueError, "symbols holds 2, which has no codeword"),
    (lambda: S.huffman_encode([3], [1, 1]), ValueError, "symbols holds 1 value(s) outside [0, 1]"),
    (lambda: S.huffman_decode("01", [1, 1], 1), TypeError, "data must be bytes, got str"),
    (lambda: S.huffman_decode(b"\0", [1, 1], -1), ValueError, "count == -1, must be >= 0"),
    (lambda: S.huffman_decode(b"\0", [0, 0], 1), ValueError, "lengths are all 0"),
    (lambda: S.encoded_bits([1, 1], [1]), ValueError, "counts has 2 symbols, must have as many as lengths (1)"),
    (lambda: S.encoded_bits([1, 1], [1, 0]), ValueError, "lengths gives no codeword to a symbol"),
    (lambda: S.entropy_bits([0, 0]), ValueError, "counts are all 0"),
    (lambda: S.relative_encode(W, 3), ValueError, "values has 2 dimension(s) (shape (2, 2)), must be 1-D"),
    (lambda: S.relative_encode(np.array(["a"]), 3), TypeError, "values must be an array of numbers"),
    (lambda: S.relative_encode(np.ones(3), 0), ValueError, "bits == 0, must be >= 1"),
    (lambda: S.relative_decode([0, 1], [1.0], 5), ValueError, "gaps has 2 entries and entries 1, must be as many"),
    (lambda: S.relative_decode([3, 1], [1.0, 2.0], 5), ValueError, "size == 5, must be > the last entry's position 5"),
    (lambda: S.relative_decode([-1], [1.0], 5), ValueError, "gaps holds 1 value(s) outside [0, None]"),
    (lambda: S.encode_layer(np.zeros(70000), [0]), ValueError, "codebook has 70000 centroids, must have at most"),
    (lambda: S.encode_layer([0.0], [0], gap_bits=0), ValueError, "gap_bits == 0, must be >= 1"),
    (lambda: S.encode_layer([0.0], [1]), ValueError, "indices holds 1 value(s) outside [0, 0]"),
    (lambda: S.decode_layer("DCWS"), TypeError, "data must be bytes, got str"),
    (lambda: S.read_layer("/nonexistent/file.dcws"), ValueError, "must be an existing file"),
])
def test_bad_input_names_the_parameter(call, exc, fragment):
    with pytest.raises(exc) as info:
        call()
    assert fragment in str(info.value), str(info.value)


def test_nothing_is_written_when_an_argument_is_bad(tmp_path):
    path = tmp_path / "layer.dcws"
    with pytest.raises(ValueError, match="indices holds"):
        S.write_layer(path, [0.0, 1.0], [[0, 5]])
    with pytest.raises(TypeError, match="layers\\['fc1'\\] must be a \\(codebook, indices, mask\\) tuple"):
        S.write_layers(path, {"fc1": ([0.0], [0])})
    with pytest.raises(TypeError, match="arrays must be a dict"):
        S.write_layers(path, {}, [1.0])
    with pytest.raises(ValueError, match="contains 1 NaN"):
        S.write_layers(path, {"fc1": ([0.0], [0], None)}, {"b": [np.nan]})
    assert not path.exists()
    with pytest.raises(ValueError, match="is a folder, must name the file to write"):
        S.write_layer(tmp_path, [0.0], [0])
    with pytest.raises(ValueError, match="does not exist, create it first"):
        S.write_layer(tmp_path / "no" / "x.dcws", [0.0], [0])
