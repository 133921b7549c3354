"""Group-wise symmetric RTN agrees with torch's per-channel fake quantization of the groups as rows."""

import numpy as np
import pytest
import torch

from course_lib.llmquant.groupwise import group_quantize, rtn_dequantized


@pytest.mark.parametrize("bits,group_size", [(4, 32), (3, 64), (8, 16), (2, 128)])
def test_symmetric_groups_match_torch_fake_quantize(bits, group_size):
    w = torch.randn(48, 256, generator=torch.Generator().manual_seed(bits), dtype=torch.float32)
    q = group_quantize(w, bits, group_size, symmetric=True, scale_dtype="float32")
    qmax = 2 ** (bits - 1) - 1
    # each (row, group) becomes a row of its own; torch quantizes row r with scale r
    rows = w.reshape(48, 256 // group_size, group_size).reshape(-1, group_size)
    scale = torch.from_numpy(q.scales.astype(np.float32).reshape(-1))
    ours = rtn_dequantized(w, bits, group_size, symmetric=True, scale_dtype="float32")
    theirs = torch.fake_quantize_per_channel_affine(rows, scale, torch.zeros_like(scale, dtype=torch.int32), 0,
                                                    -qmax, qmax).reshape(48, 256).double().numpy()
    np.testing.assert_allclose(ours, theirs, rtol=2.0**-23, atol=0)  # torch's product q * s is rounded to float32
    codes = np.rint(theirs.reshape(-1, group_size) / q.scales.reshape(-1, 1)).reshape(48, 256)
    assert np.array_equal(codes, q.codes)
    # torch's own scale, absmax / qmax in float32, is ours before the rounding up (at most one float32 step below)
    absmax = rows.abs().amax(1) / qmax
    assert np.all(q.scales.reshape(-1) >= absmax.numpy())
    assert np.all(q.scales.reshape(-1) <= np.nextafter(absmax.numpy(), np.float32(np.inf)))
