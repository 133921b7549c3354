"""Chapter 03's instructor-only bank: the grader's verdicts and hidden cases (never released).

Runs only in the grader's process (:func:`course_lib.grading.course.course_cases`), each file of
``hidden_tests/`` in its own namespace: a graded kernel receives the cases' *inputs* only, never this
text, a reference solution or an expected value. See ``hidden_tests/README.md``.
"""

import functools

import numpy as np
import torch

from course_lib.exercises import add_cases, compare, grade_with, outcome_credit
from course_lib.exercises.bank.iterative import RETRAINED_TARGETS, update_case
from course_lib.exercises.outcomes import lenet_baseline
from course_lib.exercises.sessions import hidden_seed

# the grading session's number (0 unless the grader draws this session's hidden cases afresh)
HIDDEN_SEED = globals().get("HIDDEN_SEED", 0)
seed_of = functools.partial(hidden_seed, session=HIDDEN_SEED)  # a case's seed in this session


def next_masks_reference(weights, masks, n_pruned, min_kept):
    """Survivors in order of magnitude over all layers (stable: earlier layer, lower index first), each removed
    unless its layer is down to its floor, until ``n_pruned`` are pruned; pruned weights stay pruned."""
    mags = np.concatenate([np.abs(w).ravel() for w in weights])
    alive = np.concatenate([m.ravel() for m in masks])
    layer = np.concatenate([np.full(w.size, i) for i, w in enumerate(weights)])
    left, todo = [int(m.sum()) for m in masks], n_pruned - int((~alive).sum())
    for j in np.argsort(mags, kind="stable"):
        if todo == 0:
            break
        if alive[j] and left[layer[j]] > min_kept[layer[j]]:
            alive[j], left[layer[j]], todo = False, left[layer[j]] - 1, todo - 1
    bounds = np.cumsum([w.size for w in weights])[:-1]
    return [part.reshape(w.shape) for part, w in zip(np.split(alive, bounds), weights)]


def next_masks_verdict(got, *args):
    return [p for i, (g, e) in enumerate(zip(got, next_masks_reference(*args)))
            for p in compare(g, e, name=f"next_masks(...)[{i}]")]




def retrained_lenet(answer):
    """LeNet-300-100 with the answer's weights, every weight outside its mask set to zero."""
    model = lenet_baseline()[0]
    state = {k: torch.as_tensor(np.asarray(v, dtype=np.float32)) for k, v in answer["weights"].items()}
    for name, mask in answer["masks"].items():
        state[name] = state[name] * torch.as_tensor(np.asarray(mask, dtype=bool))
    new = type(model)()
    new.load_state_dict(state)
    return new.eval()


def retrained_verdict(got):
    """Apply the masks, measure sparsity (zeros of the three weights) and accuracy on the MNIST test set."""
    from course_lib.measure import accuracy
    from course_lib.pruning import sparsity

    _, test, dense = lenet_baseline()
    new = retrained_lenet(got)
    weights = [p.detach().numpy() for n, p in new.named_parameters() if n.endswith(".weight")]
    lost = dense - accuracy(new, test.images, test.labels)
    return outcome_credit({"sparsity": sparsity(weights), "accuracy lost": lost}, RETRAINED_TARGETS)


grade_with("03-next-masks", next_masks_verdict)
grade_with("03-outcome-retrained", retrained_verdict)
add_cases("03-next-masks",
          ("hidden: 3 layers, ties, 12 pruned -> 50, floors 10, 8, 5",
           update_case(seed_of(31), [(3, 4, 5), (5, 5), (8,)], [1.0, 0.3, 0.6], [6, 4, 2], 50, [10, 8, 5], grid=0.5)),
          ("hidden: 2 layers, the second's floor reached at once",
           update_case(seed_of(32), [(30,), (10,)], [1.0, 0.05], [2, 0], 9, [20, 9])))
