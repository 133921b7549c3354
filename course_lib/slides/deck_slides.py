"""The lecture deck's slides, in order: the text of every slide and the calls that show the measurements.

Read by :func:`course_lib.slides.deck.deck_notebook`, which passes its builder ``d``: ``d.md`` (a markdown
cell), ``d.code`` (a code cell, its input hidden in the slideshow), ``d.table`` (a seed table and its
measured counterparts), ``d.measured`` (a table a notebook printed), ``d.figure`` (a notebook's figure).
The markdown is the cells' source as written here: keep the texts byte for byte when editing the code.
"""

from __future__ import annotations

__all__ = ["add_slides"]


def add_slides(d) -> None:
    """Append every slide of the deck to the builder ``d`` (see the module's docstring)."""
    d.code("""
# Run this first (Run > Run All Cells), then select this cell and start the slideshow (jupyterlab-slideshow):
# the deck button in the notebook toolbar, or the command palette's "Start Deck". Arrows move; Esc exits.
from IPython.display import Image

import course_lib as cl
from course_lib import slides

cfg = cl.setup(datasets=("mnist",), quiet=True)
""", "skip", tags=())

    d.md("""
# Networks compression

### Pruning – Quantization – Matrix factorization

The HSE 2020 lecture by Georgy Kolesnikov («Networks compression»), slide by slide in English,
with this course's **own measurements** beside the lecture's tables: real trained models
(LeNet-300-100, LeNet-5, a CIFAR-10 CNN), real data, timed on this CPU.

Each slide names the notebook (`notebooks/00`–`10`) where it is worked out.
""", "slide", seed="title")

    d.md("""
## Glossary: the seed's Russian terms
""", "slide")
    d.code("slides.glossary_table(part=0)")
    d.md("""
### Glossary (continued)
""", "subslide")
    d.code("slides.glossary_table(part=1)")

    d.md("""
## Problem, solution, outcome

* **Problem** (*Проблема*): large networks cost memory, run time and energy.
* **Solution** (*Решение*): compress the network.
* **Outcome** (*Итог*): smaller, more efficient models, less energy, minimal loss of accuracy.

The course's three baselines, measured (notebook 00):
""", "slide", seed="problem")
    d.measured("00_introduction.ipynb", ["model", "test acc %", "parameters"],
               "the baselines: accuracy, size, CPU latency")

    d.md("""
## Pruning

* zero weights: remove **synapses** (notebook 01)
* remove whole **neurons** (notebook 02)

A pruned weight matrix is $W' = M \\odot W$ with a 0/1 mask $M$; a removed neuron deletes a row of
$W^{(l)}$ and the matching column of $W^{(l+1)}$ — the layer really becomes smaller.
""", "slide", seed="pruning")

    d.md("""
## Removing synapses

Remove the weights close to zero. With a threshold $C$ the seed writes: remove every $w$ with $w < C$.

"Close to zero" is about magnitude, so the rule must read

$$\\text{remove } w \\iff |w| < C, \\qquad W' = [\\,|W| \\ge C\\,] \\odot W .$$

Read literally, $w < C$ also deletes every negative weight, however large (notebook 01 measures it).
""", "slide", seed="synapses")

    d.md("""
### Demo: the threshold $C$ on LeNet-300-100

Move $C$ (or the target sparsity): accuracy and the stored bytes (dense, CSR, bitmask) are measured live.
""", "subslide")
    d.code("""
explorer = cl.widgets.WeightPruningExplorer(cl.load_pretrained("lenet300"), cl.load_mnist("test", limit=2000),
                                           biases=True)
explorer.widget(C=0.05)
""", tags=())

    d.md("""
## Removing neurons

Remove the neurons that **rarely output large values** or that **duplicate others** (give nearly
the same outputs). Notebook 02 collects activation statistics (fire rate, APoZ), removes rarely
firing neurons and merges duplicates: $w^{out}_{:,i} \\mathrel{+}= w^{out}_{:,j}$ when neuron $j$ copies $i$.
""", "slide", seed="neurons")
    d.measured("02_neuron_pruning.ipynb", ["model", "hidden", "parameters"],
               "LeNet-300-100 without its rarely firing neurons: physically smaller layers, timed", slide="subslide")
    d.md("""
### Channel pruning: a filter is a neuron

A removed filter takes its channel with it: a smaller **dense** CNN, fewer multiply-adds on any CPU (notebook 02).
""", "subslide")
    d.measured("02_neuron_pruning.ipynb", ["filters kept", "widths", "MACs"],
               "the CIFAR-10 CNN with whole filters removed: multiply-adds, bytes, accuracy, measured time",
               note_lines=8)

    d.md("""
## Iterative pruning

Cut too much at once and the network may never recover.
**Solution:** repeat pruning iteratively — prune a little, retrain, prune again.

Han et al. (2015) on LeNet-300-100, reproduced (notebook 03):
""", "slide", seed="iterative")
    d.measured("03_iterative_pruning.ipynb", ["round", "sparsity %", "acc after retraining %"],
               "iterative prune/retrain rounds on LeNet-300-100")

    d.md("""
## Efficiency: accuracy

One-shot (prune once) against iterative prune/retrain, test accuracy against sparsity (notebook 03):
""", "slide", seed="efficiency-accuracy")
    d.figure("03_iterative_pruning.ipynb", ['load_pretrained("lenet300")', "mnist_train"])

    d.md("""
## Efficiency: memory

A pruned matrix is only smaller if it is **stored** sparse: CSR pays an index per kept weight
(and row pointers), a bitmask one bit per weight.
""", "slide", seed="efficiency-memory")
    d.measured("01_weight_pruning.ipynb", ["sparsity %", "dense", "CSR", "bitmask"],
               "bytes of LeNet-300-100's pruned weights, per storage format")
    d.figure("03_iterative_pruning.ipynb", ["memory_rows"], "subslide")

    d.md("""
## Quantization

* convert weights and inputs from float to **int8**
* **4×** less memory
* faster computation on some devices

Values in $[-a; a)$ map to $x \\mapsto \\left\\lfloor 128 \\frac{x}{a} \\right\\rfloor$; compute in integers;
map back with $x \\mapsto \\frac{a x}{16384}$ (exact for $a = 1$; in general $\\mathrm{acc} \\cdot a_w a_x / 16384$).
""", "slide", seed="quantization")
    d.md("""
### The seed's 2×2 example, recomputed by `course_lib`

$$\\begin{pmatrix} -0.18120981 & -0.29043840 \\\\ 0.49722983 & 0.22141714 \\end{pmatrix}
\\begin{pmatrix} 0.77412377 \\\\ 0.49299395 \\end{pmatrix} = \
\\begin{pmatrix} -0.28346319 \\\\ 0.49407474 \\end{pmatrix}$$

The slide prints $4770$ for the first product: it is $-4770$ (its minus sign was lost).
""", "subslide")
    d.code("""
import numpy as np

r = cl.quantization.seed_matvec([[-0.18120981, -0.29043840], [0.49722983, 0.22141714]], [0.77412377, 0.49299395])
print("int8 W =", r["w_q"].tolist(), " int8 x =", r["x_q"].tolist(), " int32 W x =", r["acc"].tolist())
print("dequantized =", np.round(r["y"], 8).tolist(), " float W x =", np.round(r["y_float"], 8).tolist())
""", tags=())
    d.md("""
### Demo: bits per weight on LeNet-300-100

Fewer bits: fewer bytes, and at some point the accuracy goes (measured live).
""", "subslide")
    d.code("""
qexplorer = cl.widgets.QuantizationExplorer(cl.load_pretrained("lenet300"), cl.load_mnist("test", limit=2000))
qexplorer.widget(bits=4)
""", tags=())

    d.md("""
## Quantization in practice

Two main kinds:

* **Post-training** (PTQ): train in float32, then convert the weights to int8. Simple; loses some accuracy.
* **Quantization-aware training** (QAT): quantize, then train (the forward pass sees int8 values;
  gradients pass the rounding by the straight-through estimator). Better accuracy, harder to build.
""", "slide", seed="quantization-practice")
    d.table("tflite", "subslide")

    d.md("""
## Quantization efficiency

The seed's TFLite models: QAT ran faster than PTQ because it was built for integer-only kernels.
Whether int8 pays on a CPU depends on a fast int8 kernel for the layer: notebooks 04 and 05 time it and
print the verdict of their run.
""", "slide", seed="quantization-efficiency")
    d.table("quantization_efficiency")

    d.md("""
## Matrix factorization: SVD

* 5–13× less memory in dense layers
* compute in $O(nmt + nt^2 + ntk)$ instead of $O(nmk)$

Truncated SVD: $W \\approx U_k \\Sigma_k V_k^\\top$ stores $k(n + m)$ numbers instead of $nm$, so it
saves memory only for $k < \\frac{nm}{n + m}$ (the break-even rank); reduction $= \\frac{NM}{K(N+M)}$.
""", "slide", seed="svd")
    d.table("svd", "subslide")

    d.md("""
## Flattened convolutions: where the time goes

$$y[m, n] = x[m, n] * h[m, n] = \\sum_{j=-\\infty}^{\\infty} \
\\sum_{i=-\\infty}^{\\infty} x[i, j] \\cdot h[m - i, n - j]$$

The largest time cost is here: $F(x, y) = I * W$ — a 3-D filter $W \\in \\mathbb{R}^{C \\times Y \\times X}$
at every position of the image.
""", "slide", seed="flattened-1")
    d.measured("07_flattened_convolutions.ipynb", ["layer", "ms 3-D", "time ratio"],
               "the CIFAR CNN's convolutions: 3-D vs flattened, MACs and measured time")

    d.md("""
## Flattened convolutions: 1-D filters

A 3-D filter as a sum of rank-1 terms: lateral $\\otimes$ vertical $\\otimes$ horizontal,
$W \\approx \\sum_{r=1}^{R} a_r \\otimes b_r \\otimes c_r$ (Jin et al. 2014).

$$\\text{parameters: } O(XYC) \\to O(X + Y + C)$$
$$\\text{operations: } O(mnCXY) \\to O(mn(C + X + Y))$$

for an $m \\times n$ output map $W_f \\in \\mathbb{R}^{m \\times n}$.

The seed's CPU plots (feedforward, backpropagation) are remade on this CPU in notebook 07 (next slide).
""", "slide", seed="flattened-2")
    d.md("""
### Feedforward and backpropagation time, 3-D vs flattened (notebook 07)
""", "subslide")
    d.figure("07_flattened_convolutions.ipynb", ["timing sweeps"])
    d.code("""
# the CPU these timings come from, as notebook 07 printed it
print(*slides.notebook_table("07_flattened_convolutions.ipynb", ["layer", "ms 3-D", "time ratio"])["before"][:1])
""")

    d.md("""
## Tensor Train: the layer and its cost

* one of the generalisations of SVD
* trains layers compressed up to 200,000× without a large increase in error
* trained with SGD, like any network

$W\\big((i_1, j_1), \\dots, (i_d, j_d)\\big) = G_1[i_1, j_1]\\, G_2[i_2, j_2] \\cdots G_d[i_d, j_d]$,
each $G_k[i_k, j_k]$ an $r_{k-1} \\times r_k$ matrix (Novikov et al. 2015).
""", "slide", seed="tt-1")
    d.table("tt_complexity", "subslide")

    d.md("""
## Tensor Train: VGG's fully connected layers

FC layers of VGG: $25088 \\times 4096$, $4096 \\times 4096$, $4096 \\times 1000$ — 392 MB.
The first as a TT layer: input modes $2 \\times 7 \\times 8 \\times 8 \\times 7 \\times 4$, output modes $4^6$.
The seed's "0.766 MB" is the rank-4 forward pass's largest intermediate, not the layer (notebook 08).
""", "slide", seed="tt-2")
    d.table("tt_timing")
    d.table("tt_architecture", "subslide")

    d.md("""
## Summary

The seed's «ИТОГ»: pruning (neurons: memory and speed; synapses: memory, and speed with hardware sparse
support), quantization (4× less memory; values expanded back to compute; faster is possible), both
"cannot train from scratch", and matrix factorization (large memory savings, can be faster, trains from
scratch, considerably harder to implement).

Notebook `09_summary.ipynb` measures every claim and gives it a verdict by a published rule —
*supported*, *partly* or *contradicted* — on the next two slides, as its last run printed them.
""", "slide", seed="summary")
    d.md("""
### The seed's claims and the verdicts of the last measured run (1/2)
""", "subslide")
    d.measured("09_summary.ipynb", ["claim (seed, ИТОГ)", "verdict"], "the seed's claims, pruning and quantization",
               columns=["claim (seed, ИТОГ)", "verdict"], rows=(0, 5), notes=False)
    d.md("""
### The seed's claims and the verdicts of the last measured run (2/2)
""", "subslide")
    d.measured("09_summary.ipynb", ["claim (seed, ИТОГ)", "verdict"], "the seed's claims, factorization",
               columns=["claim (seed, ИТОГ)", "verdict"], rows=(5, 9), notes=False)
    d.md("""
### Every technique on the same two models: accuracy against stored bytes

Each point is a configuration measured in notebook 09's last run — channel pruning, the int8 runtime (every
convolution on int8 codes) and Deep Compression's pruned + shared + Huffman file included; the dashed
staircase is the Pareto front: nothing off it is both as accurate and as cheap as a point on it.
""", "subslide")
    d.figure("09_summary.ipynb", ["pareto_plot", "for cost in"])
    d.md("""
### The same configurations against the time of 100 images (one thread, notebook 09)
""", "subslide")
    d.figure("09_summary.ipynb", ["pareto_plot", "for cost in"], index=1)
    d.md("""
### Deep Compression: prune, share, Huffman-code (notebook 10)

Han, Mao & Dally (2016) prune, cluster each layer's kept weights into $2^b$ shared values (k-means; 6 bits
for LeNet-300-100), fine-tune the shared values, then Huffman-code the indices and the gaps between kept
weights. Notebook 10 remakes their Table 1: every stage is a real file, its bytes the file's size, its error
that of the model read back from it.
""", "subslide")
    d.measured("10_deep_compression.ipynb", ["network", "run", "compressed", "x smaller", "error %"],
               "Deep Compression's Table 1 remade: the last run, the stored long run, the paper",
               columns=["network", "run", "steps", "dense", "compressed", "x smaller", "error %"])
    d.md("""
### Beyond the lecture: a transformer's weights in 4 bits (notebook 11)

**Group-wise int4.** Each row of a Linear layer is cut into groups of $G$ input columns, each with its own scale
$s = \\max|w| / (2^{b-1} - 1)$ and codes $q = \\mathrm{round}(w / s)$, $|q| \\le 2^{b-1} - 1$. With float16 scales a
layer stores $b + 16/G$ bits per weight. No CPU kernel multiplies int4 codes: they are dequantized per group in
every forward pass, so fewer bytes need not mean less time.

**GPTQ** (Frantar et al. 2023) minimises each layer's output error on calibration inputs $X$,
$\\lVert XW^\\top - X\\hat W^\\top \\rVert^2$, with $H = \\tfrac{2}{n} X^\\top X + \\lambda I$ and $H^{-1} = U^\\top U$
($U$ upper triangular). It rounds column $j$, then pushes the error onto the columns not yet rounded:

$$e = \\frac{w_j - q_j}{U_{jj}}, \\qquad W_{:,k} \\leftarrow W_{:,k} - e\\,U_{jk} \\quad (k > j).$$
""", "subslide")
    d.md("""
### The Vision Transformer's variants, measured (notebook 11)
""", "subslide")
    vit_columns = ["variant", "accuracy %", "bytes", "x smaller", "ms, 1 image", "ms, 100 images"]
    d.measured("11_transformers.ipynb", vit_columns,
               "vit_mnist compressed: weight-only RTN/GPTQ/AWQ, W8A8, heads removed, LoRA on 2-bit weights",
               columns=vit_columns)
    d.md("""
### Outliers, SmoothQuant, heads and LoRA (notebook 11)

* **SmoothQuant**: activation outliers move into the weights by an exact identity,
  $Y = (X\\,\\mathrm{diag}(s)^{-1})(W\\,\\mathrm{diag}(s))^\\top$ with
  $s_j = \\max|X_{:,j}|^{\\alpha} / \\max|W_{:,j}|^{1-\\alpha}$.
* **Heads**: importance $I_h = \\mathbb{E}_x \\lvert \\partial \\mathcal{L} / \\partial \\xi_h \\rvert$; the least
  important are cut out.
* **LoRA**: $y = \\hat W x + \\frac{\\alpha}{r} B A x$ on frozen quantized weights, $r(m + n)$ numbers per layer.

What the notebook's last run printed:
""", "subslide")
    d.code("""
import html
import json

from IPython.display import HTML
from course_lib.slides.tables import NOTEBOOKS

cells = json.loads((NOTEBOOKS / "11_transformers.ipynb").read_text(encoding="utf-8"))["cells"]
printed = [line.strip() for cell in cells if cell["cell_type"] == "code" for out in cell.get("outputs", [])
           if out.get("name") == "stdout" for line in "".join(out["text"]).splitlines()]
shown = []
for start, label in (("The largest ratio", ""), ("4 planted outlier channels", ""),
                     ("heads: ", ""), ("LoRA: ", ""), ("LoRA on int2 GPTQ", "the stored long run: ")):
    found = [line for line in printed if line.startswith(start)]
    if not found:
        raise ValueError(f"notebooks/11_transformers.ipynb printed no line starting {start!r}: execute it first.")
    shown.append(label + found[0])
HTML("<ul>" + "".join(f'<li class="note">{html.escape(line)}</li>' for line in shown) + "</ul>")
""")
    d.md("""
### The measurements behind the summary
""", "subslide")
    d.measured("01_weight_pruning.ipynb", ["sparsity %", "dense", "CSR"], "synapses: stored bytes")
    d.md("""
### Quantization: bytes and int8 kernels
""", "subslide")
    d.measured("04_quantization_from_scratch.ipynb", ["model", "float32", "float32 / int8"], "quantization: bytes")
    d.measured("04_quantization_from_scratch.ipynb", ["layer", "batch", "float32 ms"], "int8 kernels vs float32",
               slide="subslide")

    d.md("""
## Sources

The seed's sources:

* E. Kamperis, *DNN compression* (ekamperi.github.io/docs/dnn_compression.pdf)
* B. Hunter et al., *deep negative matrix* factorization (www1.cmc.edu)
* *Pruning neural networks*, towardsdatascience.com
* HSE, a thesis summary (hse.ru)

And the papers the course reproduces: Han et al. 2015 (pruning), Han, Mao & Dally 2016 (Deep
Compression), Jacob et al. 2018 (int8),
Denton et al. 2014 (SVD), Jin et al. 2014 (flattened convolutions), Oseledets 2011 and
Novikov et al. 2015 (Tensor Train).
""", "slide", seed="sources")

    d.md("""
## Questions

1. What problems can zeroing weights in pruning cause? — *exercise in notebook 01*
2. How, and under which conditions, does quantization improve speed and memory? — *notebook 04*
3. What is the advantage of matrix factorization over pruning and quantization? — *notebooks 06, 09*
4. Quantize the matrix $\\begin{pmatrix} 3 & -0.5 \\\\ 1 & 2 \\end{pmatrix}$ (with $a = 3$, \
$3 \\mapsto 128$, which int8 cannot hold) — *notebook 04*
5. "Perform pruning on …" — the seed's last question is cut off; notebook 01's exercises prune a given matrix.
""", "slide", seed="questions")
