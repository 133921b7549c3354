"""Exercises of notebook 05: fake quantization with the straight-through estimator, a calibration range."""

from __future__ import annotations

import numpy as np

from ..core import Case, compare, exercise

__all__ = ["ste_case", "calibration_case"]


def ste_case(seed, shape, scale, zero_point, qmin, qmax):
    """A case for ``fake_quant_ste(x, scale, zero_point, qmin, qmax)``: forward values and gradient."""
    def inputs():
        import torch

        gen = torch.Generator().manual_seed(seed)
        x = (torch.randn(*shape, generator=gen) * scale * (qmax - qmin) / 3).double()
        x.view(-1)[:2] = torch.tensor([qmin - 5.0, qmax + 5.0], dtype=x.dtype) * scale  # clipped on both sides
        upstream = torch.randn(*shape, generator=gen).double()
        return x.numpy(), upstream.numpy(), scale, zero_point, qmin, qmax

    def verdict(got, x, upstream, scale, zero_point, qmin, qmax):
        import torch

        from ...quantization.nn import FakeQuantSTE

        label = f"fake_quant_ste(x of shape {tuple(shape)}, {scale}, {zero_point}, {qmin}, {qmax})"
        if not isinstance(got, dict) or got.get("type") != "Tensor":
            kind = got.get("type") if isinstance(got, dict) else type(got).__name__
            return [f"fake_quant_ste returned a {kind}, expected a torch tensor"]
        ref_x = torch.from_numpy(x).requires_grad_(True)
        ref = FakeQuantSTE.apply(ref_x, torch.tensor(scale, dtype=ref_x.dtype),
                                 torch.tensor(float(zero_point), dtype=ref_x.dtype), qmin, qmax)
        (ref * torch.from_numpy(upstream)).sum().backward()
        problems = compare(got.get("values"), ref.detach().numpy(), name=label, rtol=1e-9, atol=1e-12)
        if problems:
            return problems
        if not got.get("requires_grad"):
            return [f"{label} does not pass a gradient back to x (the straight-through estimator must)"]
        if got.get("grad") is None:
            return [f"{label}: x.grad is None after backward()"]
        return compare(got.get("grad"), ref_x.grad.numpy(), name=f"the gradient of {label}", rtol=1e-9,
                       atol=1e-12)
    return Case(inputs, verdict)


def _forward_backward(fn, args):
    """Call ``fn`` on ``x`` (a tensor that requires grad), then back-propagate ``upstream``: values and gradient."""
    import torch

    x, upstream, *rest = args
    mine = torch.from_numpy(x).requires_grad_(True)
    got = fn(mine, *rest)
    if not isinstance(got, torch.Tensor):
        return {"type": type(got).__name__}
    record = {"type": "Tensor", "values": got.detach().numpy(), "requires_grad": bool(got.requires_grad), "grad": None}
    if got.requires_grad and got.shape == mine.shape:
        (got * torch.from_numpy(upstream)).sum().backward()
        record["grad"] = None if mine.grad is None else mine.grad.numpy()
    return record


exercise("05-fake-quant-ste", "Fake quantization with the straight-through estimator",
         probe=_forward_backward).cases.extend([
    ("8-bit affine, 20 values", ste_case(0, (20,), 0.05, 3, -128, 127)),
    ("4-bit symmetric, a 6x7 weight", ste_case(1, (6, 7), 0.2, 0, -7, 7)),
    ("2-bit, ties and clipping", ste_case(2, (4, 4), 0.5, 0, -2, 1)),
])


def calibration_case(seed, n, method, percentile):
    """A case for ``calibration_range(values, method, percentile)`` on ReLU-like activations with outliers."""
    def inputs():
        rng = np.random.default_rng(seed)
        values = np.maximum(rng.normal(0.5, 1.0, size=n), 0.0)
        values[rng.choice(n, size=max(1, n // 500), replace=False)] *= 40.0  # rare large outliers
        return values, method, percentile

    def verdict(got, values, method, percentile):
        from ...quantization.nn import calibration_range

        expected = np.array(calibration_range(values, method=method, percentile=percentile))
        if not isinstance(got, (tuple, list, np.ndarray)) or len(got) != 2:
            return [f"calibration_range returned {type(got).__name__}, expected a pair (low, high)"]
        try:
            got = np.asarray(got, dtype=np.float64)
        except (TypeError, ValueError):
            return ["calibration_range must return two numbers (low, high)"]
        return compare(got, expected, name=f"calibration_range({n} values, {method!r}, {percentile})",
                       rtol=1e-9, atol=1e-12)
    return Case(inputs, verdict)


exercise("05-calibration-range", "Choose a calibration range: min/max, max-abs, percentile").cases.extend([
    ("min/max of 1,000 activations", calibration_case(0, 1000, "minmax", 99.99)),
    ("max-abs (symmetric)", calibration_case(1, 1000, "maxabs", 99.99)),
    ("99.9th percentile", calibration_case(2, 5000, "percentile", 99.9)),
    ("99th percentile", calibration_case(3, 777, "percentile", 99.0)),
])
