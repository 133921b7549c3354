"""The transformer chapter's PyTorch side: the course's Vision Transformer compressed like a large model.

Built on the NumPy core (:mod:`course_lib.llmquant`) and :class:`course_lib.models.MnistViT`:

* :mod:`.capture` -- the blocks' Linear layers and the inputs each one sees on calibration images;
* :mod:`.weight_only` -- weight-only group-wise quantization of every block Linear (round-to-nearest, GPTQ
  layer after layer on the already-quantized model's inputs, AWQ), per-block bits, exact stored bytes, the
  per-layer output errors, and a runtime that keeps the packed codes and dequantizes per group (no int4
  kernel);
* :mod:`.storage` -- the quantized model as a file, and read back with every field checked;
* :mod:`.w8a8` -- activation outliers per channel, SmoothQuant folded into the LayerNorms, W8A8 on the
  integer engine;
* :mod:`.heads` -- attention-head importance (Michel et al. 2019) and a physically smaller attention;
* :mod:`.lora` -- low-rank adapters trained on top of frozen quantized weights (QLoRA's idea).
"""

from ..._lazy import attach

__getattr__, __dir__, __all__ = attach(
    __name__,
    exports={
        "capture": ["vit_linears", "linear_inputs"],
        "weight_only": ["QuantizedViT", "quantize_vit", "vit_bytes", "float_vit_bytes", "DequantLinear",
                        "runtime_vit"],
        "storage": ["save_quantized_vit", "load_quantized_vit"],
        "w8a8": ["outlier_report", "smooth_vit", "W8A8ViT", "w8a8_vit"],
        "heads": ["head_importance", "heads_to_keep", "prune_heads"],
        "lora": ["LoRALinear", "add_lora", "lora_parameters", "finetune_lora", "merge_lora"],
    },
    submodules=["capture", "weight_only", "storage", "w8a8", "heads", "lora"],
)
