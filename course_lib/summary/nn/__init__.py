"""The torch side of the summary: every technique built by the library's converters, and measured.

* :mod:`.configs` -- the configurations of LeNet-300-100 and of the CIFAR-10 CNN: float16, int8 (dynamic
  and full integer), neurons removed, synapses removed (+ fine-tuning), truncated SVD, flattened
  convolutions, TT layers, and the combinations pruning + int8,
  SVD + int8 and TT + int8, each with the bytes its storage format needs;
* :mod:`.runtime` -- the CNN's channel pruning (whole filters removed, fine-tuned: fewer multiply-adds)
  and the int8 runtime (Linear and Conv2d on PyTorch's quantized engine) as configurations, with the
  bytes an integer engine stores;
* :mod:`.sharing` -- weight sharing (k-means, :mod:`course_lib.sharing`): Deep Compression's pruned + shared +
  Huffman LeNet-300-100 and the unpruned shared model, their bytes the size of the file each is written to,
  each run decoded to dense float32;
* :mod:`.vit` -- the Vision Transformer's variants (notebook 11): weight-only RTN/GPTQ/AWQ at 4 and 3 bits,
  W8A8 with and without SmoothQuant, heads pruned, 2-bit GPTQ + LoRA;
* :mod:`.evaluate` -- accuracy, latency at 1 and 100 images (one thread), and the from-scratch
  experiment (dense, QAT int8, sparse and TT training of LeNet-300-100 from random weights), and a
  CSR-vs-dense product timed with its spread (from which sparsity CSR is measurably faster).
"""

from ..._lazy import attach

__getattr__, __dir__, __all__ = attach(
    __name__,
    exports={"configs": ["Config", "lenet300_configs", "cnn_configs", "pruned_bytes", "tt_int8"],
             "evaluate": ["measure_configs", "from_scratch", "csr_vs_dense"],
             "sharing": ["shared_file", "shared_config", "sharing_configs"],
             "runtime": ["Int8Runtime", "int8_runtime_bytes", "runtime_config", "channel_configs", "check_keeps"],
             "vit": ["vit_quantized", "vit_configs"]},
    submodules=["configs", "evaluate", "runtime", "sharing", "vit"],
)
