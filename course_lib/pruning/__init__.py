"""Pruning from scratch: remove synapses (weights) and neurons.

Pruning removes synapses -- individual weights -- by setting them to zero, or whole
neurons. The mask is computed first (``True`` = kept) and applied second, as in
``torch.nn.utils.prune``; every pruning function returns ``(pruned, mask)`` and
never touches its input.

Modules (NumPy only, unless noted):

* :mod:`.masks` -- :func:`threshold_prune` drops every weight with ``|w| < C`` (the
  lecture's rule, with the magnitude), :func:`magnitude_prune` exactly ``amount``
  weights, :func:`global_magnitude_prune` ranks all layers together;
* :mod:`.storage` -- zeros only save memory once stored sparse (:func:`csr_bytes`,
  :func:`bitmask_bytes`, registered with :func:`course_lib.formats.storage_bytes`);
* :mod:`.sparse` -- and only save time once the product skips them
  (:func:`sparse_linear`, :func:`dense_vs_sparse_times`);
* :mod:`.schedules` -- :func:`iterative_schedule`, :func:`gradual_sparsity`;
* :mod:`.neurons` -- neuron statistics, rarely active and duplicate neurons;
* :mod:`.channels` -- a convolution's filters ranked (L1/L2 norm, APoZ, BN scale) and the
  multiply-adds of a layer: the CNN's structured pruning;
* :mod:`.nn` (PyTorch) -- masks on models, masked fine-tuning, iterative pruning,
  sparse export, physically smaller MLPs and CNNs (channel pruning).

References
----------
.. [1] S. Han, J. Pool, J. Tran, W. Dally, "Learning both Weights and Connections
   for Efficient Neural Networks", NeurIPS 2015.
.. [2] M. Zhu, S. Gupta, "To prune, or not to prune: exploring the efficacy of
   pruning for model compression", arXiv:1710.01878, 2017.
"""

from .._lazy import attach

__getattr__, __dir__, __all__ = attach(
    __name__,
    exports={
        "masks": ["threshold_mask", "threshold_prune", "magnitude_mask", "magnitude_prune", "global_magnitude_prune",
                  "sparsity", "magnitude_ranks"],
        "storage": ["index_bytes", "csr_bytes", "bitmask_bytes"],
        "sparse": ["to_csr", "sparse_linear", "dense_vs_sparse_times", "crossover_sparsity"],
        "schedules": ["iterative_schedule", "gradual_sparsity"],
        "channels": ["filter_norms", "apoz", "bn_scores", "channels_to_keep", "keep_count", "conv_output_size",
                     "conv_macs", "linear_macs"],
    },
    submodules=["masks", "storage", "sparse", "schedules", "neurons", "channels", "nn"],
)
