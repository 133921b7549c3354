"""Chapter 10's instructor-only bank: the grader's verdicts and hidden cases (never released).

Runs only in the grader's process (:func:`course_lib.grading.course.course_cases`), each file of
``hidden_tests/`` in its own namespace: a graded kernel receives the cases' *inputs* only, never this
text, a reference solution or an expected value. See ``hidden_tests/README.md``.
"""

import functools
import heapq

import numpy as np

from course_lib.exercises import add_cases, compare, grade_with, outcome_credit
from course_lib.exercises.bank.sharing import FILE_TARGETS, centroid_case, file_form, huffman_case
from course_lib.exercises.outcomes import lenet_baseline
from course_lib.exercises.sessions import hidden_seed

# the grading session's number (0 unless the grader draws this session's hidden cases afresh)
HIDDEN_SEED = globals().get("HIDDEN_SEED", 0)
seed_of = functools.partial(hidden_seed, session=HIDDEN_SEED)  # a case's seed in this session


def huffman_reference(counts):
    """Every merge of Huffman's algorithm adds one bit to each symbol below it: the total length is the sum of the
    merged weights. A lone symbol costs one bit per occurrence."""
    heap = [int(c) for c in counts if c > 0]
    if len(heap) == 1:
        return heap[0]
    heapq.heapify(heap)
    total = 0
    while len(heap) > 1:
        merged = heapq.heappop(heap) + heapq.heappop(heap)
        total += merged
        heapq.heappush(heap, merged)
    return total


def huffman_verdict(got, counts):
    expected = huffman_reference(counts)
    return [] if int(got) == expected else [f"huffman_bits({list(counts)}): not the Huffman code's total length"]


def centroid_reference(x, grad_out, indices, mask, k):
    """dL/dW = grad_out^T x; a centroid's gradient is the sum over the kept weights that use it (Han et al., eq. 3)."""
    dw = grad_out.T @ x
    return np.bincount(indices[mask], weights=dw[mask], minlength=k)


def centroid_verdict(got, *args):
    return compare(np.asarray(got, dtype=np.float64), centroid_reference(*args), rtol=1e-9, atol=1e-9,
                   name="centroid_grad")


def file_verdict(got):
    """Write the bytes to a file, load it as LeNet-300-100 (a file that does not load earns nothing), count its
    bytes and measure its accuracy on the MNIST test set."""
    import tempfile
    from pathlib import Path

    from course_lib.measure import accuracy
    from course_lib.sharing.nn import load_shared_model

    problems = file_form(got)
    if problems:
        return problems
    _, test, dense = lenet_baseline()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "answer.dc"
        path.write_bytes(got.tobytes())
        try:
            model = load_shared_model(path, "lenet300")
        except ValueError as exc:
            return [f"the file does not load as LeNet-300-100 with load_shared_model: {exc}"]
        size = path.stat().st_size
    lost = dense - accuracy(model, test.images, test.labels)
    return outcome_credit({"file size": size, "accuracy lost": lost}, FILE_TARGETS)


grade_with("10-huffman-bits", huffman_verdict)
grade_with("10-centroid-grad", centroid_verdict)
grade_with("10-outcome-file", file_verdict)


def _histogram(seed, n_symbols, zeros):
    rng = np.random.default_rng(seed)
    counts = np.round(1000 * rng.pareto(1.2, size=n_symbols)).astype(int) + 1
    counts[rng.choice(n_symbols, size=zeros, replace=False)] = 0
    return counts.tolist()


add_cases("10-huffman-bits",
          ("hidden: 33 symbols (a 5-bit codebook and the filler), heavy-tailed, 4 absent",
           huffman_case(_histogram(seed_of(101), 33, 4))),
          ("hidden: 2 symbols", huffman_case([int(50 + seed_of(102) % 50), 3])),
          ("hidden: 257 symbols, 40 absent", huffman_case(_histogram(seed_of(103), 257, 40))))
add_cases("10-centroid-grad",
          ("hidden: 20x12 layer, 16 centroids, 3 unused, 30% kept",
           centroid_case(seed_of(104), 9, 12, 20, 16, 0.3, unused=(0, 7, 15))),
          ("hidden: 1x40 layer, 2 centroids, a batch of 1", centroid_case(seed_of(105), 1, 40, 1, 2, 0.5)))
