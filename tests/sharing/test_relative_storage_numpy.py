"""Relative indexing with filler zeros, and the layer file: exact round trips, sizes from the file. No torch."""

import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from course_lib.sharing import (
    decode_layer,
    encode_layer,
    filler_count,
    layer_sections,
    read_layer,
    read_layers,
    reconstruct,
    relative_decode,
    relative_encode,
    share_weights,
    write_layer,
    write_layers,
)


def test_the_papers_example_of_a_filler_zero():
    # Han et al., fig. 2, with 3-bit gaps: a run of 11 zeros is too long for 3 bits (at most 7)
    dense = np.zeros(16)
    dense[[1, 4, 15]] = [3.4, 0.9, 1.7]
    gaps, entries = relative_encode(dense, 3)
    assert gaps.tolist() == [1, 2, 7, 2] and entries.tolist() == [3.4, 0.9, 0.0, 1.7]
    assert gaps.dtype == np.uint8 and filler_count(dense, 3) == 1
    np.testing.assert_array_equal(relative_decode(gaps, entries, 16), dense)


def test_long_runs_need_several_fillers_and_none_at_the_end():
    dense = np.zeros(100, dtype=np.int16)
    dense[70] = 5
    gaps, entries = relative_encode(dense, 4)  # 70 zeros first: 70 // 16 = 4 fillers, then a gap of 70 % 16 = 6
    assert gaps.tolist() == [15, 15, 15, 15, 6] and entries.tolist() == [0, 0, 0, 0, 5]
    assert entries.dtype == np.int16
    np.testing.assert_array_equal(relative_decode(gaps, entries, 100), dense)
    assert relative_encode(np.zeros(10), 2)[0].size == 0


@settings(max_examples=150, deadline=None)
@given(hnp.arrays(np.int64, st.integers(0, 600), elements=st.sampled_from([0, 0, 0, 0, 0, 0, 0, 1, 2, -3])),
       st.integers(1, 9))
def test_relative_round_trip(dense, bits):
    gaps, entries = relative_encode(dense, bits)
    assert gaps.size == entries.size == np.count_nonzero(dense) + filler_count(dense, bits)
    assert gaps.size == 0 or int(gaps.max()) <= 2**bits - 1
    np.testing.assert_array_equal(relative_decode(gaps, entries, dense.size), dense)


def _pruned_layer(shape, sparsity, seed):
    gen = np.random.default_rng(seed)
    w = gen.standard_normal(shape).astype(np.float32)
    w[gen.random(shape) < sparsity] = 0
    return w


@pytest.mark.parametrize("shape, sparsity, bits", [((300, 784), 0.92, 5), ((16, 8, 3, 3), 0.6, 8),
                                                   ((50, 40), 0.0, 4), ((7,), 0.999, 2)])
def test_layer_file_round_trip_is_exact_and_its_size_is_the_file(tmp_path, shape, sparsity, bits):
    w = _pruned_layer(shape, sparsity, 0)
    mask = w != 0
    if not mask.any():
        mask[0] = True
    codebook, indices = share_weights(w, bits, mask=mask)
    path = tmp_path / "layer.dcws"
    size = write_layer(path, codebook, indices, mask)
    assert size == os.path.getsize(path) == len(encode_layer(codebook, indices, mask))
    book, idx, m = read_layer(path)
    np.testing.assert_array_equal(book, codebook)
    np.testing.assert_array_equal(m, mask)
    np.testing.assert_array_equal(idx, indices)
    assert idx.dtype == indices.dtype
    np.testing.assert_array_equal(reconstruct(book, idx, m), reconstruct(codebook, indices, mask))


def test_sections_add_up_and_huffman_beats_fixed_width_indices():
    w = _pruned_layer((300, 784), 0.92, 1)
    mask = w != 0
    codebook, indices = share_weights(w, 5, mask=mask)
    parts = {name: len(b) for name, b in layer_sections(codebook, indices, mask).items()}
    assert sum(parts.values()) == len(encode_layer(codebook, indices, mask))
    assert parts["codebook"] == 4 * 32 and parts["index lengths"] == 33 and parts["gap lengths"] == 32
    entries = mask.sum() + filler_count(np.where(mask.ravel(), 1, 0), 5)
    assert parts["indices"] <= -(-(entries * 5) // 8)  # Huffman is never worse than the 5-bit fixed code here
    dense_parts = layer_sections(codebook, indices)  # no mask: stored dense, no gaps
    assert len(dense_parts["gaps"]) == len(dense_parts["gap lengths"]) == 0


def test_dense_layer_and_every_index_width(tmp_path):
    gen = np.random.default_rng(2)
    for k in (1, 2, 256, 300):
        codebook = np.sort(gen.standard_normal(k)).astype(np.float32)
        indices = gen.integers(0, k, size=(9, 11))
        book, idx, mask = decode_layer(encode_layer(codebook, indices, gap_bits=3))
        np.testing.assert_array_equal(idx, indices)
        assert mask.all() and idx.dtype == (np.uint8 if k <= 256 else np.uint16)


def test_a_layer_pruned_to_nothing_round_trips():
    indices = np.zeros((4, 4), dtype=np.uint8)
    book, idx, mask = decode_layer(encode_layer([0.5], indices, np.zeros((4, 4), bool)))
    assert not mask.any() and np.all(idx == 0) and book.tolist() == [0.5]


def test_model_file_holds_layers_and_arrays(tmp_path):
    w = _pruned_layer((20, 30), 0.8, 3)
    codebook, indices = share_weights(w, 3, mask=w != 0)
    bias = np.arange(20, dtype=np.float32) / 7
    path = tmp_path / "model.dcwm"
    size = write_layers(path, {"fc1": (codebook, indices, w != 0)}, {"fc1.bias": bias, "scalar": np.float32(2)})
    assert size == os.path.getsize(path)
    layers, arrays = read_layers(path)
    np.testing.assert_array_equal(layers["fc1"][1], indices)
    np.testing.assert_array_equal(arrays["fc1.bias"], bias)
    assert arrays["scalar"].shape == () and arrays["scalar"] == 2


def test_truncated_or_foreign_bytes_are_refused(tmp_path):
    data = encode_layer([0.0, 1.0], [[0, 1], [1, 0]], [[True, True], [False, True]])
    with pytest.raises(ValueError, match="data ends inside the"):
        decode_layer(data[:-1])
    with pytest.raises(ValueError, match="must be exactly one layer"):
        decode_layer(data + b"\0")
    with pytest.raises(ValueError, match="must be a b'DCWS' version 1 layer"):
        decode_layer(b"PK\3\4" + data[4:])
    path = tmp_path / "x.bin"
    path.write_bytes(data)
    with pytest.raises(ValueError, match="must start with b'DCWM'"):
        read_layers(path)


def test_the_numpy_core_imports_without_torch():
    import subprocess
    import sys

    code = ("import sys\n"
            "import course_lib.sharing as S\n"
            "for name in ('kmeans', 'huffman', 'relative', 'storage'):\n"
            "    __import__(f'course_lib.sharing.{name}')\n"
            "S.decode_layer(S.encode_layer(*S.share_weights([0.0, 1.0, 2.0], 1)))\n"
            "print('TORCH' if 'torch' in sys.modules else 'CLEAN')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "CLEAN"


@settings(max_examples=80, deadline=None)
@given(st.data())
def test_layer_bytes_round_trip_for_any_codes(data):
    shape = data.draw(st.lists(st.integers(1, 12), min_size=1, max_size=4).map(tuple))
    k = data.draw(st.integers(1, 40))
    indices = data.draw(hnp.arrays(np.int64, shape, elements=st.integers(0, k - 1)))
    mask = data.draw(st.none() | hnp.arrays(np.bool_, shape, elements=st.sampled_from([False, False, True])))
    codebook = data.draw(hnp.arrays(np.float32, k, elements=st.floats(-1, 1, width=32)))
    gap_bits = data.draw(st.none() | st.integers(1, 8))
    book, idx, m = decode_layer(encode_layer(codebook, indices, mask, gap_bits=gap_bits))
    np.testing.assert_array_equal(book, codebook)
    np.testing.assert_array_equal(m, np.ones(shape, bool) if mask is None else mask)
    np.testing.assert_array_equal(idx, np.where(m, indices, 0))
    np.testing.assert_array_equal(reconstruct(book, idx, m), reconstruct(codebook, indices, mask))
