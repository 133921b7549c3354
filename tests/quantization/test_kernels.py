"""The int8 kernel choice: fast on every common CPU, said out loud, the same numbers whichever runs."""

import copy
import os
import subprocess
import sys
import warnings

import pytest
import torch
from torch import nn

from course_lib.quantization import nn as qnn
from course_lib.quantization.nn import kernels

from helpers import raises

# What an AVX2-only laptop runs: ATen's and oneDNN's dispatch and FBGEMM's instruction set capped at AVX2.
AVX2_ONLY = {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2", "FBGEMM_ENABLE_INSTRUCTIONS": "AVX2"}


def _layer(seed=0):
    torch.manual_seed(seed)
    return nn.Linear(300, 40)


def test_kernel_list_and_choice():
    available = kernels.available_int8_kernels()
    assert available[-1] == "int_mm" and set(available) <= set(kernels.INT8_KERNELS)
    assert kernels.choose_int8_kernel() == available[0]
    assert kernels.choose_int8_kernel("int_mm") == "int_mm"
    raises(ValueError, "kernel == 'mkl', must be one of " + ", ".join(repr(k) for k in ("auto", *available)) + ".",
           kernels.choose_int8_kernel, "mkl")
    raises(TypeError, "kernel must be a str, got int (3).", kernels.choose_int8_kernel, 3)


@pytest.mark.parametrize("kernel", kernels.available_int8_kernels())
def test_every_kernel_computes_the_same_layer(kernel):
    layer = _layer()
    x = torch.randn(7, 300, generator=torch.Generator().manual_seed(1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no deprecation warning may reach a notebook
        q = qnn.DynamicQuantLayer(layer, kernel=kernel)
        y = q(x)
    with torch.no_grad():
        ref = nn.functional.linear(x, qnn.dequantize_weight(q.weight, q.weight_scale), layer.bias)
    # 7- or 8-bit activations: the error is a small fraction of the output's range
    assert float((y - ref).abs().max()) < 0.02 * float(ref.abs().max())
    assert q.kernel == kernel and f"kernel='{kernel}'" in repr(q)
    assert torch.equal(copy.deepcopy(q)(x), y)  # an engine's packed weights are rebuilt, not copied
    assert set(q.state_dict()) == {"weight", "weight_scale", "bias"}


def test_ptq_dynamic_uses_the_chosen_kernel_for_linear_layers_only():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(2 * 26 * 26, 10))
    q = qnn.ptq_dynamic(model)
    assert q[2].kernel == kernels.choose_int8_kernel()
    assert q[0].kernel == "float32 (weights dequantized)"
    assert qnn.ptq_dynamic(model, kernel="int_mm")[2].kernel == "int_mm"


def test_an_avx2_only_cpu_gets_a_kernel_that_is_fast_there():
    # torch._int_mm is fast only with VNNI/AMX; on AVX2 the course must pick an engine kernel
    code = ("import torch\nfrom course_lib.quantization.nn import kernels\n"
            "print(kernels.cpu_capability(), kernels.choose_int8_kernel(), torch.backends.quantized.engine)")
    env = {**os.environ, **AVX2_ONLY}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    capability, chosen, _ = out.stdout.split()
    if sys.platform == "linux" and os.uname().machine == "x86_64":
        assert capability == "AVX2"
        assert chosen in ("x86", "fbgemm")
    assert chosen != "int_mm" or kernels.available_int8_kernels() == ["int_mm"]
