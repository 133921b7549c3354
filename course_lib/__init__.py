"""Networks Compression course library: ``import course_lib as cl``.

One package per technique family, shared infrastructure flat beside them::

    pruning/        masks, storage, sparse products, schedules, neurons; nn/ (torch)
    quantization/   seed scheme, grid, uniform quantizer, ranges, tensors, storage; nn/ (torch)
    factorization/  low-rank bookkeeping shared by SVD, flattened convolutions and TT
    sharing/        Deep Compression: k-means weight sharing, Huffman coding, relative indexing, the layer file
    llmquant/       large-model PTQ on one Linear: group-wise int4 (RTN), GPTQ, SmoothQuant, AWQ
    summary/        notebook 09: Pareto front, best under a budget, the seed's claims; nn/ measures everything
    widgets/        the explorers, one module per family
    exercises/      the checking mechanism and the bank of exercises
    grading/        release, self-check and class grading
    data/           MNIST and CIFAR-10 as arrays: loaders, downloads, readers
    plots/          plotting helpers (image grids, labels, sweeps, Pareto charts)
    bench/          the benchmarks, one module per family (python -m course_lib.bench)
    models layers checkpoints measure timing formats sweeps report verdicts results notebook colab train

The public API is re-exported here, lazily (a submodule is imported on first use of
a name), so ``import course_lib`` is quick. The old module names ``prune_torch`` and
``quant_torch`` still work as aliases of ``pruning.nn`` and ``quantization.nn``.
"""

from __future__ import annotations

from ._lazy import attach

__version__ = "0.1.0"

__getattr__, __dir__, __all__ = attach(
    __name__,
    exports={
        "data": ["CIFAR10_CLASSES", "MNIST_CLASSES", "CorruptDataError", "DataNotFoundError", "Dataset",
                 "load_cifar10", "load_mnist"],
        "exercises": ["check", "compare"],
        "formats": ["register_format", "storage_bytes"],
        "measure": ["Latency", "accuracy", "accuracy_difference", "count_macs", "count_parameters", "fixed_threads",
                    "latency", "paired_difference", "predict"],
        "checkpoints": ["ChecksumError", "load_manifest", "load_pretrained"],
        "layers": ["weight_layers"],
        "models": ["MODELS", "CifarVGG", "LeNet5", "LeNet300100", "WideMLP", "MnistViT", "build_model", "to_tensor"],
        "notebook": ["CourseConfig", "full_mode", "setup"],
        "pruning": ["global_magnitude_prune", "magnitude_prune", "sparsity", "threshold_prune"],
        "quantization": ["QTensor", "choose_range", "dequantize", "fake_quantize", "qparams", "quantize",
                         "quantize_seed", "quantize_tensor", "to_float16"],
        "sweeps": ["sweep", "plot_sweep"],
        "timing": ["cpu_capability"],
    },
    submodules=["bench", "checkpoints", "data", "exercises", "factorization", "formats", "grading", "layers",
                "llmquant", "measure", "models", "notebook", "plots", "pruning", "quantization", "report", "results",
                "sharing", "summary",
                "sweeps", "timing", "train", "verdicts", "widgets"],
    aliases={"prune_torch": "pruning.nn", "quant_torch": "quantization.nn"},
)
