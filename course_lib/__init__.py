"""Networks Compression course library: ``import course_lib as cl``.

One module per topic; the public API is re-exported here.
"""

from . import neurons, plots, prune_torch, pruning, report, widgets
from .data import (
    CIFAR10_CLASSES,
    MNIST_CLASSES,
    CorruptDataError,
    DataNotFoundError,
    Dataset,
    load_cifar10,
    load_mnist,
)
from .exercises import check, compare
from .measure import (
    Latency,
    accuracy,
    count_parameters,
    fixed_threads,
    latency,
    predict,
    register_format,
    storage_bytes,
)
from .models import (
    MODELS,
    ChecksumError,
    CifarVGG,
    LeNet5,
    LeNet300100,
    build_model,
    load_manifest,
    load_pretrained,
    to_tensor,
)
from .notebook import CourseConfig, full_mode, setup
from .pruning import global_magnitude_prune, magnitude_prune, sparsity, threshold_prune

__version__ = "0.1.0"

__all__ = [
    "CIFAR10_CLASSES", "MNIST_CLASSES", "CorruptDataError", "DataNotFoundError", "Dataset",
    "load_cifar10", "load_mnist", "check", "compare", "Latency", "accuracy", "count_parameters",
    "fixed_threads", "latency", "predict", "register_format", "storage_bytes", "MODELS",
    "ChecksumError", "CifarVGG", "LeNet5", "LeNet300100", "build_model", "load_manifest",
    "load_pretrained", "to_tensor", "CourseConfig", "full_mode", "setup", "plots", "report", "widgets",
    "neurons", "pruning", "prune_torch", "threshold_prune", "magnitude_prune", "global_magnitude_prune", "sparsity",
]
