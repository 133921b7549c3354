"""Counts by hand for the summary's tests, independent of the library's own counts."""

import torch

import course_lib as cl


def vgg_macs(c0, c1, c2, hidden=512, classes=10):
    """Multiply-adds of CifarVGG with widths c0 (one conv at 32x32), c1 (two at 16x16), c2 (two at 8x8), by hand."""
    convs = 32 * 32 * c0 * 3 * 9 + 16 * 16 * (c1 * c0 + c1 * c1) * 9 + 8 * 8 * (c2 * c1 + c2 * c2) * 9
    return convs + c2 * 16 * hidden + hidden * hidden + hidden * classes


def runtime_bytes_by_hand(model):
    """What an integer engine stores, from the float model's layer shapes (not from the int8 model's spec)."""
    layers = [m for m in model.modules() if isinstance(m, (torch.nn.Linear, torch.nn.Conv2d))]
    channels = 3 if isinstance(model, cl.models.CifarVGG) else 1
    # codes (1 B), a float32 scale and an int32 bias per output channel, an output scale + zero point per layer;
    # the input's scale + zero point; the standardization's mean and std (float32)
    return sum(m.weight.numel() + 8 * m.weight.shape[0] + 8 for m in layers) + 8 + 4 * 2 * channels


def evidence():
    """Measured numbers for every claim of the seed's ИТОГ (a copy each call)."""
    from course_lib.summary import Timings

    return {
        "neurons": {"bytes_ratio": 2.0, "speedup_1": 1.5, "speedup_100": Timings(2.0, 1.0), "acc_drop": 0.3},
        "synapses": {"sparsity": 0.9, "csr_ratio": 5.0, "dense_run_speedup": 1.0, "sparse_crossover": 0.95},
        "quant_memory": {"bytes_ratio": 3.9},
        "quant_compute": {"int8_kernel": "fbgemm", "speedup_1": 1.1, "speedup_100": 2.0, "integer_match": True},
        "scratch": {"dense": 0.97, "qat": 0.96, "sparse": 0.95, "sparsity": 0.9},
        "fact_memory": {"svd_ratio": 3.0, "svd_drop": 0.5, "tt_ratio": 10.0, "tt_drop": 0.8},
        "fact_speed": {"speedup_1": 1.1, "speedup_100": 1.3},
        "fact_scratch": {"dense": 0.97, "tt": 0.96, "tt_ratio": 8.0},
        "fact_hard": {"pruning_lines": 100, "quantization_lines": 120, "svd_lines": 200, "tt_lines": 300},
    }


EVIDENCE = evidence()
