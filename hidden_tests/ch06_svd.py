"""Chapter 06's instructor-only bank: the grader's verdicts and hidden cases (never released).

Runs only in the grader's process (:func:`course_lib.grading.course.course_cases`), each file of
``hidden_tests/`` in its own namespace: a graded kernel receives the cases' *inputs* only, never this
text, a reference solution or an expected value. See ``hidden_tests/README.md``.
"""

import functools

import numpy as np

from course_lib.exercises import add_cases, compare, grade_with
from course_lib.exercises.bank.svd import (
    OUTCOME_LAYERS,
    TARGETS,
    crossover_case,
    synthetic_lowrank_case,
    trained_lowrank_case,
)
from course_lib.exercises.outcomes import outcome_credit
from course_lib.exercises.sessions import hidden_seed

# the grading session's number (0 unless the grader draws this session's hidden cases afresh)
HIDDEN_SEED = globals().get("HIDDEN_SEED", 0)
seed_of = functools.partial(hidden_seed, session=HIDDEN_SEED)  # a case's seed in this session

# --- 06-time-crossover ----------------------------------------------------------------------------------

def reference_crossover(n, m, batches, peak, bandwidth, overhead):
    """For each batch t, the largest k whose modelled two calls beat the dense call (0 if none)."""
    def call(a, b, t):
        return overhead + np.maximum(a * b * t / peak, 4.0 * (a * b + t * b + t * a) / bandwidth)

    k = np.arange(1, min(n, m) + 1, dtype=np.float64)
    out = []
    for t in batches:
        faster = call(k, m, t) + call(n, k, t) < call(n, m, t)
        out.append(int(np.count_nonzero(faster)))  # the time grows with k: the faster ranks are 1 .. K
    return out


def crossover_verdict(got, n, m, batches, peak, bandwidth, overhead):
    return compare(np.asarray(got), np.array(reference_crossover(n, m, batches, peak, bandwidth, overhead)),
                   name=f"crossover_ranks({n}, {m}, batches {list(batches)}, ...)")


grade_with("06-time-crossover", crossover_verdict)
add_cases("06-time-crossover",
          ("hidden: 4096x4096, a server core", crossover_case(4096, 4096, (1, 16, 256), 1e11, 4e10, 1e-5,
                                                              below=(0, 1))),
          ("hidden: 100x300, batch 1 to 4096", crossover_case(100, 300, (1, 64, 4096), 2e10, 1e10, 4e-6,
                                                              below=(0, 1))))


# --- 06-data-aware-lowrank ------------------------------------------------------------------------------

def optimal_error(w, x, k):
    """min over rank-k M of ||(W - M) X||_F: the tail of the singular values of W S, with X X^T = S S^T."""
    lam, q = np.linalg.eigh(x @ x.T)
    keep = lam > lam.max() * 1e-13
    s = np.linalg.svd(w @ (q[:, keep] * np.sqrt(lam[keep])), compute_uv=False)
    return float(np.sqrt(np.sum(s[k:] ** 2)))


def lowrank_verdict(got, w, x, k):
    a, b = np.asarray(got[0], dtype=np.float64), np.asarray(got[1], dtype=np.float64)
    err, best = np.linalg.norm((w - a @ b) @ x), optimal_error(w, x, k)
    if err > best * (1 + 1e-5) + 1e-12 * np.linalg.norm(w @ x):
        return [f"data_aware_lowrank(W {w.shape[0]}x{w.shape[1]}, k={k}): the error on X is "
                f"{err / best - 1:.2%} above the smallest one a rank-{k} product reaches"]
    return []


grade_with("06-data-aware-lowrank", lowrank_verdict)
add_cases("06-data-aware-lowrank",
          ("hidden: LeNet-300-100's fc3 on 250 images, k = 4", trained_lowrank_case("fc3", 250, 4)),
          ("hidden: a random 20x15 weight, 10 inputs, k = 4",
           synthetic_lowrank_case(seed_of(61), 20, 15, 10, 4, decay=0.2)))


# --- 06-outcome-ranks: the grader truncates the exact SVDs and measures the MNIST test accuracy -----------

@functools.lru_cache(maxsize=1)
def _wide_mlp():
    from course_lib import factorization as fz
    from course_lib.checkpoints import load_pretrained
    from course_lib.data import load_mnist

    model = load_pretrained("wide_mlp")
    weights = {name: model.get_submodule(name).weight.detach().numpy() for name in OUTCOME_LAYERS}
    svds = {name: fz.truncated_svd(w, min(w.shape)) for name, w in weights.items()}
    return model, svds, load_mnist("test")


def measured_accuracy(ranks):
    """The MNIST test accuracy of wide_mlp with fc1 and fc2 truncated to ``ranks`` (plain SVD, no fine-tuning)."""
    from course_lib.factorization import nn as fnn
    from course_lib.measure import predict

    model, svds, test = _wide_mlp()
    factorized = fnn.factorize_model(model, {k: int(v) for k, v in ranks.items()}, svds=svds)
    return float(np.mean(predict(factorized, test.images) == test.labels))


def ranks_verdict(got, budget):
    return outcome_credit({"test accuracy": measured_accuracy(got)}, TARGETS)


grade_with("06-outcome-ranks", ranks_verdict)
