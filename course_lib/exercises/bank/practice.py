"""Exercises of notebook 05: fake quantization with the straight-through estimator, a calibration range."""

from __future__ import annotations

import numpy as np

from ..core import compare, exercise

__all__ = ["ste_case", "calibration_case"]


def ste_case(seed, shape, scale, zero_point, qmin, qmax):
    """A case for ``fake_quant_ste(x, scale, zero_point, qmin, qmax)``: forward values and gradient."""
    def run(fn):
        import torch

        from ...quantization.nn import FakeQuantSTE

        gen = torch.Generator().manual_seed(seed)
        x = (torch.randn(*shape, generator=gen) * scale * (qmax - qmin) / 3).double()
        x.view(-1)[:2] = torch.tensor([qmin - 5.0, qmax + 5.0], dtype=x.dtype) * scale  # clipped on both sides
        upstream = torch.randn(*shape, generator=gen).double()
        mine = x.clone().requires_grad_(True)
        got = fn(mine, scale, zero_point, qmin, qmax)
        if not isinstance(got, torch.Tensor):
            return [f"fake_quant_ste returned a {type(got).__name__}, expected a torch tensor"]
        ref_x = x.clone().requires_grad_(True)
        ref = FakeQuantSTE.apply(ref_x, torch.tensor(scale, dtype=x.dtype), torch.tensor(float(zero_point),
                                 dtype=x.dtype), qmin, qmax)
        (ref * upstream).sum().backward()
        label = f"fake_quant_ste(x of shape {tuple(shape)}, {scale}, {zero_point}, {qmin}, {qmax})"
        problems = compare(got.detach().numpy(), ref.detach().numpy(), name=label, rtol=1e-9, atol=1e-12)
        if problems or got.shape != x.shape:
            return problems
        if not got.requires_grad:
            return [f"{label} does not pass a gradient back to x (the straight-through estimator must)"]
        (got * upstream).sum().backward()
        if mine.grad is None:
            return [f"{label}: x.grad is None after backward()"]
        return compare(mine.grad.numpy(), ref_x.grad.numpy(), name=f"the gradient of {label}", rtol=1e-9,
                       atol=1e-12)
    return run


exercise("05-fake-quant-ste", "Fake quantization with the straight-through estimator").cases.extend([
    ("8-bit affine, 20 values", ste_case(0, (20,), 0.05, 3, -128, 127)),
    ("4-bit symmetric, a 6x7 weight", ste_case(1, (6, 7), 0.2, 0, -7, 7)),
    ("2-bit, ties and clipping", ste_case(2, (4, 4), 0.5, 0, -2, 1)),
])


def calibration_case(seed, n, method, percentile):
    """A case for ``calibration_range(values, method, percentile)`` on ReLU-like activations with outliers."""
    def run(fn):
        from ...quantization.nn import calibration_range

        rng = np.random.default_rng(seed)
        values = np.maximum(rng.normal(0.5, 1.0, size=n), 0.0)
        values[rng.choice(n, size=max(1, n // 500), replace=False)] *= 40.0  # rare large outliers
        expected = np.array(calibration_range(values, method=method, percentile=percentile))
        got = fn(values.copy(), method, percentile)
        if not isinstance(got, (tuple, list, np.ndarray)) or len(got) != 2:
            return [f"calibration_range returned {type(got).__name__}, expected a pair (low, high)"]
        return compare(np.asarray(got, dtype=np.float64), expected,
                       name=f"calibration_range({n} values, {method!r}, {percentile})", rtol=1e-9, atol=1e-12)
    return run


exercise("05-calibration-range", "Choose a calibration range: min/max, max-abs, percentile").cases.extend([
    ("min/max of 1,000 activations", calibration_case(0, 1000, "minmax", 99.99)),
    ("max-abs (symmetric)", calibration_case(1, 1000, "maxabs", 99.99)),
    ("99.9th percentile", calibration_case(2, 5000, "percentile", 99.9)),
    ("99th percentile", calibration_case(3, 777, "percentile", 99.0)),
])
