"""Hidden test cases: inputs the students never see (instructors only -- never released).

The grader (``python -m course_lib.grading.grade``) executes this file's text inside
every graded notebook, in an instructor cell placed just before the first exercise.
The file itself is never copied into the kernel's working directory, and the student
versions do not mention it. A student who hard-codes the answers of the public cases
passes the self-check but fails these.

Each case is ``(label, run)``: ``run(answer)`` returns a list of problems (empty when
the answer is right), exactly like the public cases in ``course_lib/_exercise_bank.py``.
Expected values are computed here from the library, never stored as literals. The
label is shown in the student's feedback after grading.

To add a case, add it to an ``add_cases`` call below and run
``python -m pytest tests/test_grading.py``: the instructor notebooks must still score
full marks with every hidden case (the round-trip test).
"""

import numpy as np

from course_lib import _exercise_bank  # noqa: F401  (registers the course's exercises first)
from course_lib.exercises import add_cases, compare


def mlp_params(widths):
    def run(fn):
        import torch

        from course_lib.measure import count_parameters

        expected = [count_parameters(torch.nn.Linear(a, b)) for a, b in zip(widths[:-1], widths[1:])]
        return compare(fn(list(widths)), np.array(expected, dtype=np.int64),
                       name=f"mlp_parameter_counts({list(widths)})")
    return run


def accuracy(seed, n, k):
    def run(fn):
        rng = np.random.default_rng(seed)
        logits = rng.normal(size=(n, k)).astype(np.float32)
        labels = rng.integers(0, k, size=n)
        expected = float((logits.argmax(1) == labels).mean())
        got = fn(logits.copy(), labels.copy())
        return compare(np.asarray(got, dtype=float) if np.isscalar(got) else got, np.float64(expected),
                       name=f"top1_accuracy(logits of shape {logits.shape}, labels)", rtol=0, atol=1e-9)
    return run


def magnitude_mask(seed, shape, amount):
    def run(fn):
        from course_lib.pruning import magnitude_mask as reference

        w = np.random.default_rng(seed).normal(size=shape)
        return compare(fn(w.copy(), amount), reference(w, amount), name=f"magnitude_mask(w of shape {shape}, {amount})")
    return run


def rarely_firing(seed, n, units, threshold, max_rate):
    def run(fn):
        from course_lib import neurons

        rng = np.random.default_rng(seed)
        acts = np.maximum(rng.normal(size=(n, units)) - rng.uniform(-0.5, 2.5, size=units), 0).astype(np.float32)
        expected = neurons.rarely_active(neurons.activation_stats(acts, threshold=threshold), max_fire_rate=max_rate)
        got = fn(acts.copy(), threshold, max_rate)
        return compare(np.asarray(got, dtype=np.int64) if isinstance(got, (list, tuple)) else got, expected,
                       name=f"rarely_firing(acts of shape {acts.shape}, {threshold}, {max_rate})")
    return run


def cubic_sparsity(s_i, s_f, t0, t_end):
    def run(fn):
        from course_lib.pruning import gradual_sparsity

        steps = list(range(max(0, t0 - 3), t_end + 4))
        expected = [gradual_sparsity(t, final_sparsity=s_f, initial_sparsity=s_i, begin_step=t0, end_step=t_end)
                    for t in steps]
        got = np.array([fn(t, s_i, s_f, t0, t_end) for t in steps], dtype=float)
        return compare(got, np.array(expected), name=f"cubic_sparsity(t, {s_i}, {s_f}, {t0}, {t_end})",
                       rtol=1e-9, atol=1e-12)
    return run


def int8_matvec(seed, out, inp, a_w, a_x):
    def run(fn):
        from course_lib.quantization import seed_matvec

        rng = np.random.default_rng(seed)
        w = rng.uniform(-a_w, a_w, size=(out, inp)) * 0.999
        x = rng.uniform(-a_x, a_x, size=inp) * 0.999
        expected = seed_matvec(w, x, a_w=a_w, a_x=a_x)["y"]
        return compare(fn(w.copy(), x.copy(), a_w, a_x), expected, name=f"int8_matvec(W {w.shape}, x, {a_w}, {a_x})",
                       rtol=1e-9, atol=1e-12)
    return run


add_cases("00-mlp-params",
          ("hidden: widths [7, 5, 3]", mlp_params((7, 5, 3))),
          ("hidden: widths [3, 64, 64, 2]", mlp_params((3, 64, 64, 2))))
add_cases("00-accuracy",
          ("hidden: 33 examples, 4 classes", accuracy(101, 33, 4)),
          ("hidden: 250 examples, 2 classes", accuracy(102, 250, 2)))
add_cases("01-magnitude-mask",
          ("hidden: remove 17 of a 3x4x5 tensor", magnitude_mask(11, (3, 4, 5), 17)),
          ("hidden: remove 1 of a 2x9 matrix", magnitude_mask(12, (2, 9), 1)))
add_cases("02-rarely-active",
          ("hidden: 16 neurons, 80 images", rarely_firing(21, 80, 16, 0.3, 0.2)))
add_cases("03-gradual",
          ("hidden: 20% -> 70% over steps 2..12", cubic_sparsity(0.2, 0.7, 2, 12)))
add_cases("04-int8-matvec",
          ("hidden: a 9x4 layer, a_w = 1.5, a_x = 0.25", int8_matvec(31, 9, 4, 1.5, 0.25)))
