"""Exercises of notebook 04: the seed's question 4, an int8 matrix-vector product, seed question 2 computed."""

from __future__ import annotations

import numpy as np

from ..core import Case, compare, compare_fields, exercise

__all__ = ["SEED_Q4_MATRIX", "matvec_case", "costs_case"]


SEED_Q4_MATRIX = np.array([[3.0, -0.5], [1.0, 2.0]])


def _seed_q4(answer):
    from ...quantization import quantize_seed

    expected = quantize_seed(SEED_Q4_MATRIX, float(np.abs(SEED_Q4_MATRIX).max()))
    return compare(answer, expected.astype(np.int64), name="Q")


exercise("04-seed-q4", "Seed question 4: quantize [[3, -0.5], [1, 2]]").cases.append(
    ("the matrix", Case(None, _seed_q4)))


def _matvec_verdict(got, w, x, a_w, a_x):
    from ...quantization import seed_matvec

    return compare(got, seed_matvec(w, x, a_w=a_w, a_x=a_x)["y"], name=f"int8_matvec(W {w.shape}, x, {a_w}, {a_x})",
                   rtol=1e-9, atol=1e-12)


def matvec_case(seed, out, inp, a_w, a_x):
    """A case for ``int8_matvec(W, x, a_w, a_x)`` on a random ``out x inp`` layer inside the ranges."""
    def inputs():
        rng = np.random.default_rng(seed)
        w = rng.uniform(-a_w, a_w, size=(out, inp)) * 0.999
        return w, rng.uniform(-a_x, a_x, size=inp) * 0.999, a_w, a_x
    return Case(inputs, _matvec_verdict)


def _seed_example_verdict(got, w, x, a_w, a_x):
    problems = compare(got, np.array([-0.29113770, 0.48834229]), name="the seed's example", rtol=0, atol=1e-7)
    return problems or _matvec_verdict(got, w, x, a_w, a_x)


_SEED_EXAMPLE = Case(lambda: (np.array([[-0.18120981, -0.29043840], [0.49722983, 0.22141714]]),
                              np.array([0.77412377, 0.49299395]), 1.0, 1.0), _seed_example_verdict)


exercise("04-int8-matvec", "An int8 matrix-vector product with dequantization").cases.extend([
    ("the seed's 2x2 example (a = 1)", _SEED_EXAMPLE),
    ("a 5x7 layer, a_w = 0.5, a_x = 2", matvec_case(0, 5, 7, 0.5, 2.0)),
    ("a 64x300 layer, a_w = 0.2, a_x = 4", matvec_case(1, 64, 300, 0.2, 4.0)),
])

def costs_case(n_out, n_in):
    """A case for ``int8_costs(n_out, n_in) -> {"float32_bytes", "int8_bytes", "accumulator_bits"}``."""
    def verdict(got, n_out, n_in):
        from ...quantization import accumulator_bits, int8_bytes

        weight = np.zeros((n_out, n_in))
        expected = {"float32_bytes": 4 * (n_out * n_in + n_out),
                    "int8_bytes": int8_bytes(weight) + 4 * n_out,
                    "accumulator_bits": accumulator_bits(n_in)}
        return compare_fields(f"int8_costs({n_out}, {n_in})", got, expected)
    return Case(lambda: (n_out, n_in), verdict)


# Seed question 2 ("how and when does quantization improve speed and memory?"), computed: the
# memory of an int8 layer and the accumulator its dot products need.
exercise("04-int8-costs", "Seed question 2, computed: an int8 layer's bytes and accumulator").cases.extend([
    ("LeNet-300-100's fc1, 784 -> 300", costs_case(300, 784)),
    ("a 10 -> 3 layer", costs_case(3, 10)),
    ("one input", costs_case(5, 1)),
    ("VGG's fc6, 25088 -> 4096", costs_case(4096, 25088)),
])
