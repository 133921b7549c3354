"""Networks Compression course library: ``import course_lib as cl``.

One module per topic; the public API is re-exported here. Submodules are
imported lazily, on first use of a name, so that ``import course_lib`` is quick
and ``python -m course_lib.data`` (or ``.train``, ``.bench``) runs its module
exactly once.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

# public name -> the submodule that defines it
_EXPORTS = {
    "data": ["CIFAR10_CLASSES", "MNIST_CLASSES", "CorruptDataError", "DataNotFoundError", "Dataset",
             "load_cifar10", "load_mnist"],
    "exercises": ["check", "compare"],
    "measure": ["Latency", "accuracy", "count_parameters", "fixed_threads", "latency", "predict",
                "register_format", "storage_bytes"],
    "models": ["MODELS", "ChecksumError", "CifarVGG", "LeNet5", "LeNet300100", "build_model", "load_manifest",
               "load_pretrained", "to_tensor"],
    "notebook": ["CourseConfig", "full_mode", "setup"],
    "pruning": ["global_magnitude_prune", "magnitude_prune", "sparsity", "threshold_prune"],
    "quantization": ["QTensor", "choose_range", "dequantize", "fake_quantize", "qparams", "quantize",
                     "quantize_seed", "quantize_tensor", "to_float16"],
}
_NAME_TO_MODULE = {name: module for module, names in _EXPORTS.items() for name in names}
_SUBMODULES = ["bench", "data", "exercises", "measure", "models", "neurons", "notebook", "plots", "prune_torch",
               "pruning", "quant_torch", "quantization", "report", "train", "widgets"]

__all__ = sorted(_NAME_TO_MODULE) + _SUBMODULES


def __getattr__(name: str):
    if name in _NAME_TO_MODULE:
        value = getattr(importlib.import_module(f".{_NAME_TO_MODULE[name]}", __name__), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module 'course_lib' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
