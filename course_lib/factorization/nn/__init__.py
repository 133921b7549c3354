"""PyTorch layers of the factorization chapters: a trained layer replaced by its factors.

* :mod:`.svd` -- a Linear layer as two thinner Linear layers from its truncated SVD (notebook 06);
* :mod:`.flattened` -- a Conv2d as lateral, vertical and horizontal 1-D convolutions (notebook 07);
* :mod:`.tt` -- a Linear layer whose weight is a TT-matrix, decomposed or trained from scratch (notebook 08).
"""

from ..._lazy import attach

__getattr__, __dir__, __all__ = attach(
    __name__,
    exports={"svd": ["SVD_METHODS", "factorize_linear", "factorize_model", "fine_tune_factorized",
                     "linear_latency"],
             "flattened": ["FLATTENED_MODES", "FlattenedConv2d", "flattened_conv2d", "flatten_conv2d", "flatten_model",
                           "set_flattened_mode"],
             "flattened_train": ["FLATTENED_LAYERS", "compare_training"],
             "tt": ["TTLinear", "TT_INITS", "tt_linear_from", "tt_model", "tt_linear_layers", "init_std"]},
    submodules=["svd", "flattened", "flattened_train", "tt"],
)
