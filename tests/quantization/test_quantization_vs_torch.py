"""Quantization cross-checked against PyTorch's kernels and observers, and on real models."""

import ast
import inspect
import warnings

import numpy as np
import pytest
import torch

import course_lib as cl
from course_lib import measure, quantization
from course_lib.quantization import (
    dequantize,
    fake_quantize,
    float16_bytes,
    int8_bytes,
    qparams,
    qrange,
    quantize,
    quantize_seed,
    quantize_tensor,
    to_float16,
)

from helpers import raises

SEED_W = [[-0.18120981, -0.29043840], [0.49722983, 0.22141714]]


SEED_X = [0.77412377, 0.49299395]


EPS32 = float(np.finfo(np.float32).eps)


def off_boundary(rng, shape, scale, qmin, qmax, zero_point=0):
    """Values ``(k + u - z) * scale`` with ``u`` in [0.1, 0.4] or [0.6, 0.9]: never near a rounding tie,
    so a float32 ``x * (1 / s)`` (torch) and a float64 ``x / s`` (ours) round the same way."""
    k = rng.integers(qmin - 3, qmax + 3, size=shape)
    u = rng.uniform(0.1, 0.4, size=shape) + 0.5 * rng.integers(0, 2, size=shape)
    return ((k + u - zero_point) * scale).astype(np.float32)


def torch_observer(cls, x, **kwargs):
    """Scale and zero point from a torch observer that has seen ``x`` (its import warns: silence it)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from torch.ao.quantization import observer
        obs = getattr(observer, cls)(**kwargs)
        obs(torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)))
        scale, zero_point = obs.calculate_qparams()
    return scale.numpy().astype(np.float64), zero_point.numpy().astype(np.int64)


def test_qparams_by_hand_and_degenerate_ranges():
    assert qparams(-1.0, 2.0) == (2 / 127, 0)
    scale, zero_point = qparams(-1.0, 2.0, symmetric=False)
    assert scale == 3 / 255 and zero_point == -128 + 85  # -128 - round(-1 / (3/255)) = -128 + 85
    assert qparams(-1.0, 2.0, bits=4) == (2 / 7, 0)
    # the range always contains 0, so 0.0 is exactly representable
    assert qparams(5.0, 5.0) == (5 / 127, 0)
    assert qparams(5.0, 5.0, symmetric=False) == (5 / 255, -128)
    assert qparams(-3.0, -3.0, symmetric=False) == (3 / 255, 127)
    # all zeros: scale eps (as torch), zero point 0 or qmin
    assert qparams(0.0, 0.0) == (EPS32, 0)
    assert qparams(0.0, 0.0, symmetric=False, bits=2) == (EPS32, -2)
    scale, zero_point = qparams([-1.0, 0.0], [2.0, 0.0], symmetric=False)
    np.testing.assert_array_equal(scale, [3 / 255, EPS32])
    np.testing.assert_array_equal(zero_point, [-43, -128])
    assert isinstance(qparams(-1, 2)[0], float) and isinstance(qparams(-1, 2)[1], int)


def test_functions_return_new_arrays_and_leave_inputs_alone():
    x = np.array([[0.5, -0.25], [0.125, 1.0]], dtype=np.float32)
    before = x.copy()
    for out in (quantize(x, scale=0.1), fake_quantize(x, scale=0.1), quantize_seed(x, 1.0), to_float16(x),
                quantize_tensor(x, per_channel_axis=0).q, fake_quantize(x, scale=[0.1, 0.2], axis=0)):
        assert not np.shares_memory(out, x)
    np.testing.assert_array_equal(x, before)
    q = np.array([1, 2], dtype=np.int8)
    assert not np.shares_memory(dequantize(q, scale=1.0), q)
    # torch tensors are accepted as input, and judged by their dtype like arrays
    np.testing.assert_array_equal(quantize(torch.tensor([0.25, 0.75]), scale=0.5), [0, 2])
    np.testing.assert_array_equal(dequantize(torch.tensor([3], dtype=torch.int8), scale=0.5), [1.5])
    raises(TypeError, "x must be an array of floating-point numbers, got dtype int64.", quantize,
           torch.tensor([1, 2]), scale=1.0)


def test_storage_formats_registered():
    w = np.zeros((300, 784), dtype=np.float32)
    assert measure.storage_bytes(w, "int8") == 300 * 784 + 4 == int8_bytes(w)
    assert measure.storage_bytes(w, "int8_per_channel") == 300 * 784 + 300 * 4
    assert measure.storage_bytes(w, "float16") == 2 * 300 * 784 == float16_bytes(w)
    # the one rule: biases (1-D) stay float32 in every int8 format
    assert measure.storage_bytes(np.zeros(10), "int8_per_channel") == measure.storage_bytes(np.zeros(10), "int8") == 40
    assert int8_bytes(w, per_channel_axis=0, affine=True) == 300 * 784 + 300 * 8
    model = cl.build_model("lenet300")
    assert measure.storage_bytes(model, "int8") == 266_200 + 3 * 4 + 410 * 4
    assert measure.storage_bytes(model, "int8_per_channel") == 266_200 + 410 * 4 + 410 * 4
    assert measure.storage_bytes(model, "float16") * 2 == measure.storage_bytes(model, "float32")
    qt = quantize_tensor(w + 1.0, per_channel_axis=0)
    assert qt.nbytes == measure.storage_bytes(w, "int8_per_channel")


def test_codes_match_torch_quantize_per_tensor():
    rng = np.random.default_rng(4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # quantized tensor creation is deprecated in torch
        for scale, zero_point in ((0.05, 0), (0.013, 17), (1.5, -100)):
            scale = float(np.float32(scale))
            x = off_boundary(rng, 500, scale, -128, 127, zero_point)
            ours = quantize(x, scale=scale, zero_point=zero_point, rounding="nearest")
            theirs = torch.quantize_per_tensor(torch.from_numpy(x), scale, zero_point, torch.qint8).int_repr()
            np.testing.assert_array_equal(ours, theirs.numpy())
        ties = np.array([0.25, 0.75, 1.25, -0.25, -0.75, -1.25], dtype=np.float32)  # exact halves: half to even
        theirs = torch.quantize_per_tensor(torch.from_numpy(ties), 0.5, 0, torch.qint8).int_repr().numpy()
    np.testing.assert_array_equal(quantize(ties, scale=0.5), theirs)
    np.testing.assert_array_equal(theirs, [0, 2, 2, 0, -2, -2])


def test_codes_match_torch_quantize_per_channel():
    rng = np.random.default_rng(5)
    w = rng.standard_normal((6, 10)).astype(np.float32) * np.logspace(-1, 1, 6, dtype=np.float32)[:, None]
    qt = quantize_tensor(w, per_channel_axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = torch.quantize_per_channel(torch.from_numpy(w), torch.from_numpy(qt.scale),
                                            torch.from_numpy(qt.zero_point), 0, torch.qint8).int_repr().numpy()
    assert np.count_nonzero(qt.q != theirs) == 0


@pytest.mark.parametrize("bits", [2, 4, 8])
def test_fake_quantize_matches_torch_per_tensor(bits):
    rng = np.random.default_rng(bits)
    qmin, qmax = qrange(bits)
    for zero_point in (0, qmin + 1, qmax):
        scale = float(np.float32(rng.uniform(0.01, 1)))
        x = off_boundary(rng, 300, scale, qmin, qmax, zero_point)
        theirs = torch.fake_quantize_per_tensor_affine(torch.from_numpy(x), scale, zero_point, qmin, qmax)
        ours = fake_quantize(x, bits=bits, scale=scale, zero_point=zero_point)
        assert ours.dtype == np.float32
        np.testing.assert_array_equal(ours, theirs.numpy())


@pytest.mark.parametrize("axis", [0, 1])
def test_fake_quantize_matches_torch_per_channel(axis):
    rng = np.random.default_rng(10 + axis)
    bits, (qmin, qmax) = 4, qrange(4)
    shape = (5, 7)
    channels = shape[axis]
    scale = rng.uniform(0.01, 1, channels).astype(np.float32)
    zero_point = rng.integers(qmin, qmax + 1, channels).astype(np.int32)
    k = rng.integers(qmin - 2, qmax + 3, shape) + rng.uniform(0.1, 0.4, shape) + 0.5 * rng.integers(0, 2, shape)
    x = ((k - np.expand_dims(zero_point, 1 - axis)) * np.expand_dims(scale, 1 - axis)).astype(np.float32)
    theirs = torch.fake_quantize_per_channel_affine(torch.from_numpy(x), torch.from_numpy(scale),
                                                    torch.from_numpy(zero_point), axis, qmin, qmax)
    ours = fake_quantize(x, bits=bits, scale=scale, zero_point=zero_point, axis=axis)
    np.testing.assert_array_equal(ours, theirs.numpy())


def test_float16_matches_torch_half():
    rng = np.random.default_rng(6)
    x = rng.standard_normal(2000) * 10.0 ** rng.integers(-9, 5, 2000)  # subnormals to 1e4 and beyond
    x = np.clip(x, -65000, 65000)
    for arr in (x.astype(np.float32), x):
        np.testing.assert_array_equal(to_float16(arr), torch.from_numpy(arr).half().numpy())


def test_qparams_match_torch_min_max_observer():
    rng = np.random.default_rng(7)
    for x in (rng.normal(0.3, 1.0, 100), rng.uniform(0.5, 2.0, 50), rng.uniform(-3.0, -1.0, 50), np.zeros(4)):
        x = x.astype(np.float32)
        lo, hi = float(x.min()), float(x.max())
        # affine, qint8: the same formula
        scale, zero_point = torch_observer("MinMaxObserver", x, dtype=torch.qint8, qscheme=torch.per_tensor_affine)
        ours = qparams(lo, hi, symmetric=False)
        assert ours[0] == pytest.approx(scale[0], rel=1e-6) and ours[1] == zero_point[0]
        # affine, quint8 (codes 0..255): the same scale, the zero point shifted by 128
        scale, zero_point = torch_observer("MinMaxObserver", x, dtype=torch.quint8, qscheme=torch.per_tensor_affine)
        assert ours[0] == pytest.approx(scale[0], rel=1e-6) and ours[1] + 128 == zero_point[0]
        # symmetric: ours is torch's restricted range [-127, 127] ...
        scale, zero_point = torch_observer("MinMaxObserver", x, dtype=torch.qint8,
                                           qscheme=torch.per_tensor_symmetric, quant_min=-127, quant_max=127)
        ours = qparams(lo, hi)
        assert ours[0] == pytest.approx(scale[0], rel=1e-6) and ours[1] == zero_point[0] == 0
        # ... while torch's default divides by (127 - (-128)) / 2 = 127.5
        scale, _ = torch_observer("MinMaxObserver", x, dtype=torch.qint8, qscheme=torch.per_tensor_symmetric)
        if hi > lo:
            assert ours[0] * 127 == pytest.approx(scale[0] * 127.5, rel=1e-6)
        else:
            assert ours[0] == scale[0] == EPS32


def test_per_channel_qparams_match_torch_observer():
    rng = np.random.default_rng(8)
    w = (rng.standard_normal((8, 20)) * rng.uniform(0.1, 3, (8, 1)) + rng.uniform(-1, 1, (8, 1))).astype(np.float32)
    scale, zero_point = torch_observer("PerChannelMinMaxObserver", w, ch_axis=0, dtype=torch.qint8,
                                       qscheme=torch.per_channel_affine)
    ours = qparams(w.min(axis=1), w.max(axis=1), symmetric=False)
    np.testing.assert_allclose(ours[0], scale, rtol=1e-6)
    np.testing.assert_array_equal(ours[1], zero_point)
    qt = quantize_tensor(w, per_channel_axis=0, symmetric=False)
    np.testing.assert_allclose(qt.scale, scale, rtol=1e-6)
    np.testing.assert_array_equal(qt.zero_point, zero_point)


def test_library_module_never_imports_torch():
    tree = ast.parse(inspect.getsource(quantization))
    imported = [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names]
    imported += [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    assert not [name for name in imported if name.startswith("torch")]


I8 = np.array([[1, 2]], dtype=np.int8)
