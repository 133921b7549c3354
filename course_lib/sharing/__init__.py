"""Deep Compression's weight sharing and entropy coding, from scratch (Han, Mao & Dally, ICLR 2016).

The pipeline is prune -> share -> code: after pruning (:mod:`course_lib.pruning`), the kept
weights of each layer are clustered into ``2**bits`` shared values; the layer becomes a small
float32 *codebook* plus one short index per weight; the indices and the positions of the
non-zeros are then Huffman-coded.

Modules (NumPy only, unless noted):

* :mod:`.kmeans` -- :func:`share_weights` (1-D k-means with the paper's three initialisations,
  linear, density and random), :func:`reconstruct` and :func:`centroid_gradient` (eq. 3: a
  centroid's gradient is the sum of its weights' gradients);
* :mod:`.huffman` -- code lengths from a histogram, canonical codes, bit-exact encoding and decoding;
* :mod:`.relative` -- the sparse format with relative indexing: gaps of ``b`` bits, filler zeros;
* :mod:`.storage` -- a compressed layer as a real file (its size is the layer's bytes), read back exactly;
* :mod:`.nn` (PyTorch) -- weight sharing of every Linear/Conv2d of a model, centroid fine-tuning,
  and the model as one file.

References
----------
.. [1] S. Han, H. Mao and W. J. Dally, "Deep Compression: Compressing Deep Neural Networks with
   Pruning, Trained Quantization and Huffman Coding", ICLR 2016.
.. [2] D. A. Huffman, "A Method for the Construction of Minimum-Redundancy Codes", Proc. IRE, 1952.
"""

from .._lazy import attach

__getattr__, __dir__, __all__ = attach(
    __name__,
    exports={
        "kmeans": ["INITS", "initial_centroids", "lloyd_1d", "share_weights", "reconstruct", "centroid_gradient",
                   "index_dtype"],
        "huffman": ["huffman_lengths", "canonical_codes", "huffman_encode", "huffman_decode", "encoded_bits",
                    "entropy_bits"],
        "relative": ["relative_encode", "relative_decode", "filler_count"],
        "storage": ["encode_layer", "decode_layer", "layer_sections", "write_layer", "read_layer", "write_layers",
                    "read_layers", "default_gap_bits", "fixed_lengths", "CODINGS", "MAX_WEIGHTS"],
    },
    submodules=["kmeans", "huffman", "relative", "storage", "nn", "pipeline"],
)
