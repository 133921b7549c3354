"""Bad arguments of course_lib.llmquant fail at once, with the parameter's name."""

import numpy as np
import pytest

from course_lib.llmquant.gptq import gptq_hessian, gptq_quantize
from course_lib.llmquant.groupwise import (
    dequantize_groups,
    group_params,
    group_quantize,
    pack_bits,
    quantize_groups,
    stored_bytes,
    unpack_bits,
)
from course_lib.llmquant.smooth import (
    activation_stats,
    apply_scales,
    awq_search,
    relative_error,
    smoothquant_scales,
    w8a8_output,
)

W = np.ones((4, 8))
X = np.ones((5, 8))
CODES = np.zeros((4, 8), dtype=np.int16)
SCALES = np.ones((4, 2))
ZEROS = np.zeros((4, 2), dtype=np.int16)

CASES = [
    (group_quantize, ([1.0, 2.0],), {}, ValueError, "weight"),
    (group_quantize, (W, 9), {}, ValueError, "bits"),
    (group_quantize, (W, 4.0), {}, TypeError, "bits"),
    (group_quantize, (W, 4, 3), {}, ValueError, "group_size"),
    (group_quantize, (W, 4, 0), {}, ValueError, "group_size"),
    (group_quantize, (W, 4, 4), {"symmetric": "yes"}, TypeError, "symmetric"),
    (group_quantize, (W, 4, 4), {"scale_dtype": "bfloat16"}, ValueError, "scale_dtype"),
    (group_quantize, (W * 1e9, 4, 4), {}, ValueError, "scale_dtype"),
    (group_quantize, (np.full((2, 2), np.nan), 4, 2), {}, ValueError, "weight"),
    (dequantize_groups, (CODES.astype(float), SCALES, ZEROS, 4), {}, TypeError, "codes"),
    (dequantize_groups, (CODES, SCALES, ZEROS, 2), {}, ValueError, "groups"),
    (dequantize_groups, (CODES, SCALES, ZEROS[:, :1], 4), {}, ValueError, "zero_points"),
    (dequantize_groups, (CODES, SCALES, ZEROS, 4), {"group_index": np.zeros(8, int)}, ValueError, "group_index"),
    (dequantize_groups, (CODES, SCALES, ZEROS), {"group_index": np.full(8, 2)}, ValueError, "group_index"),
    (quantize_groups, (W[:, :2], np.ones(3), np.zeros(3, int), 4, True), {}, ValueError, "scale"),
    (quantize_groups, (W[:, :2], np.ones(4), np.ones(4, int), 4, True), {}, ValueError, "zero_point"),
    (group_params, (np.ones(3), 4, True), {}, ValueError, "columns"),
    (pack_bits, ([0, 4], 2), {}, ValueError, "values"),
    (pack_bits, ([0.5], 2), {}, TypeError, "values"),
    (unpack_bits, ("ab", 2, 1), {}, TypeError, "data"),
    (unpack_bits, (b"ab", 2, 1), {}, ValueError, "data"),
    (stored_bytes, (4, 8, 4, 3), {}, ValueError, "group_size"),
    (stored_bytes, (0, 8, 4, 4), {}, ValueError, "out_features"),
    (gptq_hessian, (np.ones(3),), {}, ValueError, "inputs"),
    (gptq_quantize, (W, np.ones((5, 7))), {"group_size": 4}, ValueError, "inputs"),
    (gptq_quantize, (W, X, 1, 4), {}, ValueError, "bits"),
    (gptq_quantize, (W, X, 4, 4), {"percdamp": -0.1}, ValueError, "percdamp"),
    (gptq_quantize, (W, X, 4, 4), {"block_size": 0}, ValueError, "block_size"),
    (gptq_quantize, (W, X, 4, 4), {"act_order": 1}, TypeError, "act_order"),
    (gptq_quantize, (W, X, 4, 4), {"percdamp": 0.0}, ValueError, "percdamp"),  # X^T X singular, undamped
    (activation_stats, ([[1.0, "a"]],), {}, TypeError, "inputs"),
    (smoothquant_scales, (X, W), {"alpha": 1.5}, ValueError, "alpha"),
    (smoothquant_scales, (X, W[:, :4]), {}, ValueError, "inputs"),
    (apply_scales, (X, W, np.ones(7)), {}, ValueError, "scales"),
    (apply_scales, (X, W, -np.ones(8)), {}, ValueError, "scales"),
    (w8a8_output, (X, W), {"bits": 16}, ValueError, "bits"),
    (w8a8_output, (X, W), {"alpha": "0.5"}, TypeError, "alpha"),
    (relative_error, (np.ones(3), np.zeros(3)), {}, ValueError, "reference"),
    (relative_error, (np.ones(3), np.ones(4)), {}, ValueError, "output"),
    (awq_search, (W, X, 4, 4), {"n_grid": 0}, ValueError, "n_grid"),
    (awq_search, (W, np.zeros((5, 8)), 4, 4), {}, ValueError, "inputs"),
    (awq_search, (W, X, 4, 5), {}, ValueError, "group_size"),
]


@pytest.mark.parametrize("func,args,kwargs,exc,name", CASES,
                         ids=[f"{c[0].__name__}-{c[4]}-{i}" for i, c in enumerate(CASES)])
def test_bad_input_names_the_parameter(func, args, kwargs, exc, name):
    with pytest.raises(exc, match=name):
        func(*args, **kwargs)
