"""Matrix factorization: replace a weight by a product of smaller factors.

The third family of the course (the seed's "Matrix factorization" slides):

* truncated and randomized SVD of fully connected layers (Denton et al. 2014;
  Halko, Martinsson & Tropp 2011) -- notebook 06;
* flattened convolutions, 3-D filters as 1-D filters (Jin, Dundar & Culurciello
  2014) -- notebook 07;
* the Tensor Train (Oseledets 2011) and TT layers (Novikov et al. 2015) -- notebook 08.

Modules: :mod:`.lowrank` -- the bookkeeping every factorization shares (parameter
counts, the break-even rank, the compression of a rank, rank validation). The
algorithms arrive one per module, NumPy only, with their PyTorch layers in ``nn/``.
"""

from .._lazy import attach

__getattr__, __dir__, __all__ = attach(
    __name__,
    exports={"lowrank": ["check_rank", "low_rank_params", "break_even_rank", "rank_reduction"],
             "svd": ["TruncatedSVD", "truncated_svd", "choose_rank", "rank_for_energy", "rank_for_compression",
                     "eckart_young_error", "stretched_spectrum", "matrix_with_spectrum"],
             "randomized": ["randomized_svd", "randomized_range_finder"],
             "flattened": ["FlattenConvergenceWarning", "FlattenedFilters", "flatten_filters", "reconstruct_filters",
                           "rank1_filter", "flattened_params", "conv_params", "flattened_macs", "conv_macs"],
             "tt": ["TensorTrain", "tt_svd", "tt_round", "tt_reconstruct", "tt_entry", "tt_ranks", "tt_params",
                    "check_cores", "check_tt_ranks", "random_tt", "delta_rank", "tt_norm"],
             "ttmatrix": ["TTMatrix", "check_modes", "tt_matrix", "tt_matrix_dense", "tt_matrix_params",
                          "random_tt_matrix", "tt_matmul", "tt_matmul_forward", "tt_matmul_backward",
                          "tt_matmul_einsum", "tt_intermediate_sizes", "tt_matmul_macs", "mode_spread",
                          "balanced_modes"]},
    submodules=["lowrank", "svd", "randomized", "svd_references", "flattened", "flattened_timing", "tt",
                "ttmatrix", "tt_references"],
)
