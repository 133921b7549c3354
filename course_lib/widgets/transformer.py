"""The transformer explorer of notebook 11: bits per block, group size, RTN/GPTQ, heads kept, LoRA rank -> accuracy,
stored bytes and latency of the Vision Transformer."""

from __future__ import annotations

import numbers
from collections import OrderedDict

import numpy as np
import torch

from .._validation import check_choice, check_int, short_repr
from ..models import MnistViT, to_tensor
from .base import Explorer
from .layout import check_dataset

__all__ = ["TransformerExplorer"]

#: the bits a block may take (None: float32)
BITS = (2, 3, 4, 8, None)
#: the group sizes (None: one scale per output row)
GROUP_SIZES = (16, 32, 64, None)
METHODS = ("rtn", "gptq")


def _same_hessian(x: np.ndarray) -> np.ndarray:
    """``in`` rows ``R`` with ``R^T R / in == X^T X / n``: GPTQ's Hessian of ``x`` (n, in), from a square matrix."""
    n, columns = x.shape
    values, vectors = np.linalg.eigh(x.T @ x / n)
    return np.sqrt(columns * np.clip(values, 0, None))[:, None] * vectors.T


def _class_token_block(p: dict, x: torch.Tensor) -> torch.Tensor:
    """The last block's output for the class token only (all the head reads): the keys and values of every token,
    the query, attention and MLP of the class token alone. ``p``: the block's parameters and gate by name."""
    linear, norm = torch.nn.functional.linear, torch.nn.functional.layer_norm
    n, t, dim = x.shape
    heads = len(p["attn.gate"])
    hd = p["attn.q.weight"].shape[0] // heads
    h = norm(x, (dim,), p["norm1.weight"], p["norm1.bias"])
    q = linear(h[:, :1], p["attn.q.weight"], p["attn.q.bias"]).view(n, 1, heads, hd).transpose(1, 2)
    k, v = (linear(h, p[f"attn.{s}.weight"], p[f"attn.{s}.bias"]).view(n, t, heads, hd).transpose(1, 2)
            for s in "kv")
    out = torch.softmax(q @ k.transpose(-2, -1) / hd ** 0.5, dim=-1) @ v * p["attn.gate"].view(1, -1, 1, 1)
    x = x[:, :1] + linear(out.transpose(1, 2).reshape(n, 1, heads * hd), p["attn.proj.weight"], p["attn.proj.bias"])
    h = norm(x, (dim,), p["norm2.weight"], p["norm2.bias"])
    return x + linear(torch.nn.functional.gelu(linear(h, p["fc1.weight"], p["fc1.bias"])), p["fc2.weight"],
                      p["fc2.bias"])


class TransformerExplorer(Explorer):
    """Quantize the Vision Transformer's block Linears, drop attention heads, add LoRA adapters; see what it costs.

    Everything slow happens once, when the explorer is built: every block Linear is quantized for every
    (bits, group size) by round-to-nearest and by GPTQ (each layer on the *float* model's inputs for
    :attr:`CALIBRATION_IMAGES` training images: no layer-after-layer correction, so that each layer's
    result does not depend on the others' settings), the heads are ranked by Michel et al.'s importance
    (:func:`course_lib.llmquant.nn.head_importance` on the same images), and LoRA adapters of each rank in
    ``lora_ranks`` are trained (:func:`course_lib.llmquant.nn.finetune_lora`) on *one fixed* quantized base,
    :attr:`LORA_BASE` (2 bits, groups of 32, RTN, every head kept). An update only swaps cached dequantized
    weights into the model (the adapter's ``(alpha/r) B A`` added to them when a rank is chosen: the adapter
    trained for the fixed base, applied as it is to the current weights), zeroes the gates of the dropped
    heads (the logits of the physically smaller model), and runs the test subset (the last block for the class
    token only: all the head reads); the outputs of the blocks are cached for recent settings, so a control of
    a later block recomputes only what follows it.

    Stored bytes (:func:`course_lib.llmquant.nn.vit_bytes` of the head-pruned model, whenever its groups are
    the same): each quantized weight's codes (``bits`` per kept entry) and float16 scales, each float block's
    weights in float32, the adapters in float32 (``r * (in + out)`` per layer, the dropped heads'
    rows and columns left out), every other parameter in float32. A dropped head takes its 16 rows of
    ``q``, ``k``, ``v`` (weights and biases) and its 16 columns of ``proj`` with it; ``proj`` keeps the scales
    of the groups that still hold a column (the groups are formed before the heads are dropped). The latency
    is that of one image through the physically smaller float model (:func:`course_lib.llmquant.nn.prune_heads`,
    float kernels: a CPU has no int4 kernel, so the bits change the bytes, not this latency), one thread.

    Parameters
    ----------
    model : MnistViT
        The trained Vision Transformer with its 4 heads in every block (put in eval mode, never changed).
    test : Dataset
        The fixed test subset (:attr:`TEST_IMAGES` MNIST test images).
    train : Dataset
        Training images: the first :attr:`CALIBRATION_IMAGES` calibrate GPTQ and rank the heads, the first
        ``lora_images`` train the adapters.
    lora_ranks : sequence of int, keyword-only
        The adapters' ranks (1..64); empty: no adapters (the rank control offers only 0).
    lora_steps : int, keyword-only
        Adam steps (batches of 64) training each rank's adapters.
    lora_images : int, keyword-only
        The first ``lora_images`` images of ``train`` train them.

    Raises
    ------
    TypeError
        If ``model`` is not a ``MnistViT``, ``test`` or ``train`` is not a Dataset of uint8 images and integer
        labels, or a count is not an int.
    ValueError
        If ``model`` has pruned heads, a data set is empty or not MNIST-shaped, or a count is out of range.
    """

    figsize = (6, 2.6)
    #: the notebook's fixed test subset: the first 120 MNIST test images (a control that changes every block
    #: runs the ViT on all of them, within the 150 ms budget of an update)
    TEST_IMAGES = 120
    #: training images calibrating GPTQ and the head importance
    CALIBRATION_IMAGES = 128
    #: the quantized base the adapters are trained on: (bits, group size, method), every head kept
    LORA_BASE = (2, 32, "rtn")
    #: block outputs kept per block (by the settings up to it)
    MAX_CACHED = 8

    def __init__(self, model, test, train, *, lora_ranks=(1, 4), lora_steps: int = 60, lora_images: int = 2000):
        from threadpoolctl import threadpool_limits

        from ..llmquant import gptq_quantize, rtn_dequantized
        from ..llmquant.nn import float_vit_bytes, head_importance, linear_inputs, vit_linears

        if not isinstance(model, MnistViT):
            raise TypeError(f"model must be a MnistViT (cl.load_pretrained('vit_mnist')), got {type(model).__name__}.")
        if any(b.attn.heads != 4 for b in model.blocks):
            raise ValueError(f"model has heads {[b.attn.heads for b in model.blocks]}, must have 4 in every block "
                             f"(the explorer drops heads itself).")
        check_dataset("test", test, model)
        check_dataset("train", train, model)
        if isinstance(lora_ranks, (str, bytes)) or not isinstance(lora_ranks, (list, tuple)):
            raise TypeError(f"lora_ranks must be a list or tuple of ints, got {type(lora_ranks).__name__} "
                            f"({short_repr(lora_ranks)}).")
        ranks = sorted({check_int(f"lora_ranks[{i}]", r, minimum=1, maximum=64) for i, r in enumerate(lora_ranks)})
        lora_steps = check_int("lora_steps", lora_steps, minimum=1)
        lora_images = check_int("lora_images", lora_images, minimum=1)
        self._adopt(model, test)
        self.test = test
        self.names = list(vit_linears(self.model))
        self.params = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
        calibration = train.images[:self.CALIBRATION_IMAGES]
        inputs = linear_inputs(self.model, calibration)
        self._weights: dict = {}  # (name, method, bits, group size) -> dequantized float32 weight
        with threadpool_limits(limits=1):  # small matrices: one BLAS thread is fastest
            for name in self.names:
                w = self.params[f"{name}.weight"].double().numpy()
                x = _same_hessian(inputs[name])
                for bits in BITS[:-1]:
                    for g in GROUP_SIZES:
                        self._weights[name, "rtn", bits, g] = torch.from_numpy(rtn_dequantized(w, bits, g)).float()
                        self._weights[name, "gptq", bits, g] = torch.from_numpy(
                            gptq_quantize(w, x, bits, g).dequantized).float()
        self.importance = head_importance(self.model, calibration, train.labels[:self.CALIBRATION_IMAGES])
        self.lora_ranks = (0, *ranks)
        self.lora_steps, self.lora_images = lora_steps, lora_images
        self._deltas = {0: None, **{r: self._train_adapters(train, r) for r in ranks}}
        self._x1 = to_tensor(test.images[:1])
        with torch.inference_mode():  # the tokens entering block 0 never change
            m = self.model
            tokens = m.patch(m.patches(m.standardize(self._test.x)))
            self._x0 = torch.cat([m.cls.expand(len(tokens), -1, -1), tokens], dim=1) + m.pos
        self._acts = [OrderedDict() for _ in self.model.blocks]
        self._latency: dict = {}
        self.float_bytes = float_vit_bytes(self.model)
        self.float = self.compute(bits=None)

    def _train_adapters(self, train, rank: int) -> dict:
        """``{name: (alpha/r) B A}`` of adapters of ``rank`` trained on :attr:`LORA_BASE`'s weights."""
        import copy

        from ..llmquant.nn import add_lora, finetune_lora

        bits, g, method = self.LORA_BASE
        base = copy.deepcopy(self.model)
        with torch.no_grad():
            for name in self.names:
                base.get_submodule(name).weight.copy_(self._weights[name, method, bits, g])
        tuned = finetune_lora(add_lora(base, rank), train.images[:self.lora_images],
                              train.labels[:self.lora_images], steps=self.lora_steps, progress=False)
        with torch.no_grad():
            return {n: tuned.get_submodule(n).delta_weight().detach().clone() for n in self.names}

    def _check_bits(self, bits) -> tuple:
        def one(label, b):
            if b is None:
                return None
            if isinstance(b, (bool, np.bool_)) or not isinstance(b, numbers.Integral):
                raise TypeError(f"{label} must be an int in {BITS[:-1]} or None (float32), got {type(b).__name__} "
                                f"({short_repr(b)}).")
            return check_choice(label, int(b), BITS[:-1])

        if isinstance(bits, (list, tuple)):
            if len(bits) != len(self.model.blocks):
                raise ValueError(f"bits has {len(bits)} entries, must have {len(self.model.blocks)} (one per block).")
            return tuple(one(f"bits[{i}]", b) for i, b in enumerate(bits))
        return (one("bits", bits),) * len(self.model.blocks)

    def compute(self, bits=4, group_size=32, method: str = "rtn", heads: int = 16, rank: int = 0) -> dict:
        """Quantize, drop heads, add an adapter; measure accuracy, stored bytes and latency (no drawing).

        Parameters
        ----------
        bits : int, None or list
            2, 3, 4 or 8 bits (None: float32): one for every block, or a list of one per block.
        group_size : {16, 32, 64, None}
            Input columns per scale (None: one scale per output row).
        method : {"rtn", "gptq"}
        heads : int
            Attention heads kept in all, 0..16, the least important (Michel et al.) dropped first.
        rank : int
            The LoRA adapters' rank: 0 (none) or one of :attr:`lora_ranks`.

        Returns
        -------
        dict
            ``{"bits": tuple per block, "group_size", "method", "heads", "rank", "keep" (head indices per
            block), "accuracy" (test subset), "images", "bytes" (stored), "block_bytes" (per block: attention,
            MLP), "ratio" (float / stored bytes), "latency_ms"}``.

        Raises
        ------
        TypeError, ValueError
            For an argument outside its choices.
        """
        from ..llmquant.nn import heads_to_keep

        bits = self._check_bits(bits)
        if group_size is not None:
            group_size = check_choice("group_size", check_int("group_size", group_size), GROUP_SIZES[:-1])
        method = check_choice("method", method, METHODS)
        heads = check_int("heads", heads, minimum=0, maximum=4 * len(self.model.blocks))
        rank = check_choice("rank", check_int("rank", rank), self.lora_ranks)
        keep = heads_to_keep(self.importance, heads)
        x = self._x0
        start = 0
        tokens = [(bits[i], group_size, method, tuple(keep[i]), rank) for i in range(len(bits))]
        for i in range(len(self._acts) - 1, -1, -1):
            key = tuple(tokens[:i + 1])
            if key in self._acts[i]:
                x, start = self._acts[i][key], i + 1
                self._acts[i].move_to_end(key)
                break
        with torch.inference_mode():
            last = len(self._acts) - 1
            for i in range(start, len(self._acts)):
                params = self._block_params(i, tokens[i])
                x = (_class_token_block(params, x) if i == last
                     else torch.func.functional_call(self.model.blocks[i], params, (x,)))
                self._acts[i][tuple(tokens[:i + 1])] = x
                if len(self._acts[i]) > self.MAX_CACHED:
                    self._acts[i].popitem(last=False)
            logits = self.model.head(self.model.norm(x[:, 0]))
        block_bytes = [self._block_bytes(i, tokens[i]) for i in range(len(bits))]
        stored = sum(map(sum, block_bytes)) + self._other_bytes(keep)
        return {"bits": bits, "group_size": group_size, "method": method, "heads": heads, "rank": rank,
                "keep": keep, "accuracy": int((logits.argmax(1) == self._test.y).sum()) / len(self._test.y),
                "images": len(self._test.y), "bytes": stored, "block_bytes": block_bytes,
                "ratio": self.float_bytes / stored, "latency_ms": self._latency_ms(keep)}

    def _block_params(self, i: int, token: tuple) -> dict:
        bits, g, method, keep, rank = token
        prefix = f"blocks.{i}."
        params = {k[len(prefix):]: v for k, v in self.params.items() if k.startswith(prefix)}
        gate = torch.zeros(4)
        gate[list(keep)] = 1.0
        params["attn.gate"] = gate
        for name in self.names:
            if name.startswith(prefix):
                w = self.params[f"{name}.weight"] if bits is None else self._weights[name, method, bits, g]
                if rank:
                    w = w + self._deltas[rank][name]
                params[name[len(prefix):] + ".weight"] = w
        return params

    def _block_bytes(self, i: int, token: tuple) -> tuple:
        """Stored bytes of block ``i``'s Linear weights (and adapters): (attention, MLP)."""
        bits, g, _, keep, rank = token
        kept = 16 * len(keep)
        out = []
        for parts in (("attn.q", "attn.k", "attn.v", "attn.proj"), ("fc1", "fc2")):
            total = 0
            for part in parts:
                rows, cols = self.params[f"blocks.{i}.{part}.weight"].shape
                columns = np.arange(cols)
                if part in ("attn.q", "attn.k", "attn.v"):
                    rows = kept
                elif part == "attn.proj":
                    columns = np.array([16 * h + d for h in keep for d in range(16)], dtype=int)
                if rows == 0 or len(columns) == 0:
                    continue
                if bits is None:
                    total += 4 * rows * len(columns)
                else:
                    groups = len(np.unique(columns // (g or cols)))
                    total += -(-rows * len(columns) * bits // 8) + 2 * rows * groups
                total += 4 * rank * (rows + len(columns))
            out.append(total)
        return tuple(out)

    def _other_bytes(self, keep) -> int:
        """Every parameter outside the block Linears' weights, in float32 (the dropped heads' biases left out)."""
        total = 0
        for k, v in self.params.items():
            if k.endswith("gate") or k[:-len(".weight")] in self.names:
                continue
            if k.endswith(("attn.q.bias", "attn.k.bias", "attn.v.bias")):
                total += 4 * 16 * len(keep[int(k.split(".")[1])])
            else:
                total += 4 * v.numel()
        return total

    def _latency_ms(self, keep) -> float:
        """One image through the physically smaller float model, one thread (median of 3), cached per heads."""
        from ..llmquant.nn import prune_heads
        from ..timing import latency

        key = tuple(map(tuple, keep))
        if key not in self._latency:
            small = prune_heads(self.model, [list(k) for k in keep]).eval()
            with torch.inference_mode():
                self._latency[key] = latency(lambda: small(self._x1), warmup=1, repeats=3, threads=1).median_ms
        return self._latency[key]

    def _create(self, r: dict) -> None:
        ax = self.fig.subplots()
        k = np.arange(len(r["block_bytes"]))
        full = max(sum(b) for b in self.float["block_bytes"])
        self._attn_bars = ax.bar(k, np.ones(len(k)), color="C0")
        self._mlp_bars = ax.bar(k, np.ones(len(k)), color="C1")
        ax.set_xticks(k, [f"block {i}" for i in k])
        ax.set_ylim(0, 1.05 * full / 1000)
        ax.set_yticks([0, round(full / 2000), round(full / 1000)])
        ax.set_ylabel("kB stored")
        self._labels = [ax.text(i, 0, "", ha="center", va="bottom", fontsize=8) for i in k]
        self._title = ax.text(0.5, 1.04, "", transform=ax.transAxes, ha="center", va="bottom", fontsize=9)
        self.fig.tight_layout(rect=(0, 0, 1, 0.86))

    def _draw(self, r: dict, **params) -> None:
        """Stored kB of each block's attention and MLP weights; above them bits, accuracy and the ratio."""
        for attn, mlp, label, (a, m), b in zip(self._attn_bars, self._mlp_bars, self._labels, r["block_bytes"],
                                               r["bits"]):
            attn.set_height(a / 1000)
            mlp.set_y(a / 1000)
            mlp.set_height(m / 1000)
            label.set_position((label.get_position()[0], (a + m) / 1000))
            label.set_text("float" if b is None else f"{b} bits")
        lora = f", LoRA rank {r['rank']}" if r["rank"] else ""
        self._title.set_text(f"{r['method'].upper()}, groups of {r['group_size'] or 'a row'}, {r['heads']} heads"
                             f"{lora}: {r['ratio']:.1f}x smaller\nattention (blue) + MLP (orange) · accuracy "
                             f"{100 * r['accuracy']:.1f}% "
                             f"(float {100 * self.float['accuracy']:.1f}%)")

    def _controls(self, *, bits=4, group_size=32, method: str = "rtn", heads: int = 16, rank: int = 0) -> tuple:
        """A bits menu per block, the group size, the method, the heads kept and the LoRA rank; their first
        values as :meth:`compute`'s arguments."""
        import ipywidgets as w

        r = self.compute(bits, group_size, method, heads, rank)  # checks every first value
        options = [("float" if b is None else f"{b} bits", b) for b in BITS]
        menus = [w.Dropdown(options=options, value=b, description=f"block {i}", layout=w.Layout(width="160px"),
                            style={"description_width": "50px"}) for i, b in enumerate(r["bits"])]
        groups = w.Dropdown(options=[(str(g) if g else "row", g) for g in GROUP_SIZES], value=r["group_size"],
                            description="group", layout=w.Layout(width="160px"), style={"description_width": "50px"})
        methods = w.ToggleButtons(options=[("RTN", "rtn"), ("GPTQ", "gptq")], value=method, description="method")
        kept = w.IntSlider(value=heads, min=0, max=4 * len(menus), description="heads kept", continuous_update=False)
        ranks = w.Dropdown(options=[(str(q) if q else "none", q) for q in self.lora_ranks], value=rank,
                           description="LoRA rank", layout=w.Layout(width="180px"))

        def read():
            return {"bits": [m.value for m in menus], "group_size": groups.value, "method": methods.value,
                    "heads": kept.value, "rank": ranks.value}

        controls = [*menus, groups, methods, kept, ranks]
        return [w.HBox([*menus, groups]), w.HBox([methods, kept, ranks])], controls, read

    def _status(self, r: dict, **params) -> str:
        from ..report import format_bytes
        from ..timing import cpu_capability

        f = self.float
        bits, group, method = self.LORA_BASE
        lora = (f" · LoRA rank {r['rank']}: adapters trained ({self.lora_steps} steps) on the {bits}-bit, groups of "
                f"{group}, {method.upper()} weights with every head, applied as they are" if r["rank"] else "")
        return (f"accuracy {100 * r['accuracy']:.1f}% (float {100 * f['accuracy']:.1f}%) on {r['images']} test "
                f"images · stored {format_bytes(r['bytes'])} (float {format_bytes(self.float_bytes)}), "
                f"{r['ratio']:.2f}x smaller · {r['heads']} of 16 heads{lora} · 1 image {r['latency_ms']:.2f} ms "
                f"(float {f['latency_ms']:.2f} ms), float kernels, 1 thread, {cpu_capability()}")
