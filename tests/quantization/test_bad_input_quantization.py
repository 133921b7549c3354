"""Bad input to the quantization package: a TypeError/ValueError that names the parameter and the rule."""

import numpy as np
import pytest
import torch
from torch import nn

import course_lib as cl
import course_lib.quantization as Q
from course_lib.quantization import nn as qnn
from course_lib.quantization.nn import cnn_qat

X = np.array([[0.5, -1.0], [0.2, 0.3]])
CODES = np.array([1, -2], dtype=np.int8)


def _lenet():
    torch.manual_seed(0)
    return cl.build_model("lenet300")


IMAGES = np.zeros((4, 28, 28), np.uint8)
LABELS = np.zeros(4, np.int64)


@pytest.mark.parametrize("call, exc, fragments", [
    # seed scheme
    (lambda: Q.dequantize_seed([200], 1.0), ValueError, ["q holds 1 value(s) outside [-128, 127]"]),
    (lambda: Q.dequantize_seed([1.5], 1.0), TypeError, ["q must be an array of integers"]),
    (lambda: Q.dequantize_seed([1], -1.0), ValueError, ["a == -1.0, must be > 0"]),
    (lambda: Q.dequantize_seed([1], float("nan")), ValueError, ["a == nan, must be finite"]),
    (lambda: Q.dequantize_seed([1], "1"), TypeError, ["a must be a real number, got str"]),
    (lambda: Q.quantize_seed([1, 2], 1.0), TypeError, ["x must be an array of floating-point numbers"]),
    (lambda: Q.quantize_seed(X, True), TypeError, ["a must be a real number, got bool"]),
    (lambda: Q.quantize_seed([[1.0], [1.0, 2.0]], 1.0), ValueError, ["x: ", "ragged"]),
    (lambda: Q.quantize_seed([], 1.0), ValueError, ["x is empty"]),
    (lambda: Q.int8_matmul(np.ones((2, 2), np.int64), CODES), TypeError, ["w_q must be an int8 array"]),
    (lambda: Q.int8_matmul(np.ones((2, 3), np.int8), CODES), ValueError, ["must equal x_q.shape[0]"]),
    (lambda: Q.dequantize_product(np.array([2**40]), 1.0, 1.0), ValueError, ["acc holds 1 value(s) outside"]),
    (lambda: Q.dequantize_product(np.array([1]), 1.0, 0.0), ValueError, ["a_x == 0.0, must be > 0"]),
    (lambda: Q.seed_matvec(np.ones((2, 3)), np.ones(2)), ValueError, ["w.shape[1] == 3, must equal x.shape[0]"]),
    (lambda: Q.accumulator_bits(2.0), TypeError, ["n_terms must be an int"]),
    # uniform quantizer
    (lambda: Q.qrange(True), TypeError, ["bits must be an int, got bool"]),
    (lambda: Q.qrange(9), ValueError, ["bits == 9, must be <= 8"]),
    (lambda: Q.quantize(X, scale=0), ValueError, ["scale == 0.0, must be > 0"]),
    (lambda: Q.quantize(X, scale=0.1, zero_point=200), ValueError, ["zero_point == 200, must be <= 127"]),
    (lambda: Q.quantize(X, scale=0.1, zero_point=1.5), TypeError, ["zero_point must be an int"]),
    (lambda: Q.quantize(X, scale=0.1, rounding="up"), ValueError, ["rounding == 'up', must be one of"]),
    (lambda: Q.quantize(X, scale=[0.1, 0.2, 0.3], axis=0), ValueError, ["scale has shape (3,), must be (2,)"]),
    (lambda: Q.dequantize(np.array([300]), scale=1.0), ValueError, ["q holds 1 value(s) outside [-128, 127]"]),
    (lambda: Q.dequantize(np.array([True]), scale=1.0), TypeError, ["q must be an array of integers"]),
    (lambda: Q.dequantize(np.array([1]), scale=-1.0), ValueError, ["scale == -1.0, must be > 0"]),
    (lambda: Q.qparams(1.0, -1.0), ValueError, ["x_min == 1.0, must be <= x_max"]),
    (lambda: Q.qparams(-1.0, 1.0, symmetric="yes"), TypeError, ["symmetric must be True or False"]),
    (lambda: Q.choose_range(X, method="percentile", percentile=0), ValueError, ["percentile == 0.0, must be in (0"]),
    (lambda: Q.choose_range(X, axis="0"), TypeError, ["axis must be an int or None"]),
    (lambda: Q.choose_range(X, method="percentile", percentile=0.9999), ValueError,
     ["percentile == 0.9999, must be a percentage in (1, 100], not a fraction"]),
    (lambda: Q.quantize_tensor(X, per_channel_axis=3), ValueError, ["per_channel_axis == 3"]),
    (lambda: Q.QTensor(np.full(2, 100, np.int8), 1.0, 0, 4, None), ValueError, ["q holds codes in [100, 100]"]),
    (lambda: Q.quantization_error(X, "qt"), TypeError, ["qt must be a QTensor"]),
    (lambda: Q.to_float16([1e6]), ValueError, ["x holds 1 value(s) that overflow float16"]),
    (lambda: Q.code_bytes(-1, 8), ValueError, ["count == -1, must be >= 0"]),
    (lambda: Q.int8_bytes(np.zeros((2, 2)), affine="no"), TypeError, ["affine must be True or False"]),
])
def test_numpy_quantization_refuses_bad_input(call, exc, fragments):
    with pytest.raises(exc) as info:
        call()
    for fragment in fragments:
        assert fragment in str(info.value)


LIN = nn.Linear(3, 4)


@pytest.mark.parametrize("call, exc, fragments", [
    (lambda: qnn.dequantize_weight(CODES.reshape(2, 1), torch.tensor(-1.0)), ValueError,
     ["scale holds 1 value(s) <= 0, must be > 0"]),
    (lambda: qnn.dequantize_weight(torch.ones(2, 1, dtype=torch.int8), float("nan")), ValueError,
     ["scale contains 1 NaN or infinite"]),
    (lambda: qnn.dequantize_weight(torch.ones(2, 1, dtype=torch.int8), "1"), TypeError,
     ["scale must be an array of real numbers"]),
    (lambda: qnn.dequantize_weight(torch.ones(2, 1, dtype=torch.int8), torch.ones(2, 1)), ValueError,
     ["scale has 2 dimension(s)"]),
    (lambda: qnn.dequantize_weight(torch.ones(2, 1, dtype=torch.int8), torch.ones(3)), ValueError,
     ["scale has shape (3,), must be () or (2,)"]),
    (lambda: qnn.dequantize_weight(np.ones((2, 1), np.int64), 1.0), TypeError,
     ["codes must be an int8 tensor, got a NumPy array of dtype int64"]),
    (lambda: qnn.dequantize_weight(torch.ones(2, dtype=torch.int32), 1.0), TypeError,
     ["codes must be an int8 tensor, got torch.int32"]),
    (lambda: qnn.weight_scale(torch.ones(3, 3, dtype=torch.int64)), TypeError, ["weight must hold floating-point"]),
    (lambda: qnn.quantize_weight(torch.tensor(1.0)), ValueError, ["weight has 0 dimensions"]),
    (lambda: qnn.activation_qparams("0", 1.0), TypeError, ["low must be a real number, got str"]),
    (lambda: qnn.activation_qparams(0.0, np.nan), ValueError, ["high == nan, must be finite"]),
    (lambda: qnn.fake_quantize_ste(torch.ones(2), 0.1, 0, 5, 5), ValueError, ["quant_min == 5, must be < quant_max"]),
    (lambda: qnn.fake_quantize_ste(torch.ones(2), 0.1, 1.5, -128, 127), TypeError, ["zero_point must be an int"]),
    (lambda: qnn.QuantizedLayer(LIN, 1, 0), ValueError, ["low == 1.0, must be <= high == 0.0"]),
    (lambda: qnn.QuantizedLayer(LIN, float("nan"), 1.0), ValueError, ["low == nan, must be finite"]),
    (lambda: qnn.QuantizedLayer(LIN, "0", 1.0), TypeError, ["low must be a real number, got str"]),
    (lambda: qnn.QuantizedLayer(LIN, torch.zeros(3), torch.ones(3)), ValueError,
     ["low has shape (3,), must be a single number"]),
    (lambda: qnn.QuantizedLayer(nn.ReLU(), 0.0, 1.0), TypeError, ["layer must be an nn.Linear or nn.Conv2d"]),
    (lambda: qnn.QATLayer(LIN, low=1.0, high=0.0), ValueError, ["low == 1.0, must be <= high == 0.0"]),
    (lambda: qnn.QATLayer(LIN, low=0.0), ValueError, ["give both (a starting range) or neither"]),
    (lambda: qnn.QATLayer(LIN, low="0", high=1.0), TypeError, ["low must be a real number"]),
    (lambda: qnn.QATLayer(LIN, momentum=0), ValueError, ["momentum == 0.0, must be in (0, 1]"]),
    (lambda: qnn.DynamicQuantLayer(LIN, kernel="avx"), ValueError, ["kernel == 'avx', must be one of"]),
    (lambda: qnn.choose_int8_kernel(None), TypeError, ["kernel must be a str"]),
    (lambda: cnn_qat.compare_qat_ptq(None, None, bits=8), TypeError, ["bits must be a list or tuple of ints"]),
    (lambda: cnn_qat.compare_qat_ptq(None, None, bits=(9,)), ValueError, ["bits == 9, must be <= 8"]),
    (lambda: cnn_qat.compare_qat_ptq(None, None), TypeError, ["train must be a Dataset"]),
    (lambda: qnn.int8_linear_latency(4, 4, batch=1, kernels="x86"), TypeError,
     ["kernels must be a list or tuple of names", "write ['x86']"]),
    (lambda: qnn.int8_linear_latency(0, 4, batch=1), ValueError, ["out_features == 0, must be >= 1"]),
])
def test_torch_quantization_refuses_bad_input(call, exc, fragments):
    with pytest.raises(exc) as info:
        call()
    for fragment in fragments:
        assert fragment in str(info.value)


def test_float16_layer_refuses_weights_that_overflow():
    layer = nn.Linear(2, 1)
    with torch.no_grad():
        layer.weight.fill_(1e6)
    with pytest.raises(ValueError, match=r"layer\.weight holds values of magnitude up to 1e\+06, must be < 65520"):
        qnn.Float16Layer(layer)


def test_model_level_functions_refuse_bad_input():
    model = _lenet()
    ranges = qnn.calibrate(model, IMAGES)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    cases = [
        (lambda: qnn.calibrate(model, IMAGES, method="mse"), ValueError, "method == 'mse'"),
        (lambda: qnn.calibrate(model, IMAGES, percentile=40), ValueError, "percentile == 40.0, must be in (50, 100]"),
        (lambda: qnn.calibrate(model, np.zeros((2, 32, 32, 3), np.uint8)), ValueError, "lenet300 expects 784"),
        (lambda: qnn.calibration_range([], method="minmax"), ValueError, "values is empty"),
        (lambda: qnn.calibrate(model, IMAGES, percentile=0.9999), ValueError, "not the fraction 0.9999"),
        (lambda: qnn.calibration_range([1.0], percentile=0.9999), ValueError, "must be in (50, 100] (a percentage"),
        (lambda: qnn.ptq_full_integer(model, [(0, 1)]), TypeError, "ranges must be a dict"),
        (lambda: qnn.ptq_full_integer(model, {"fc1": (0, 1)}), ValueError, "ranges is missing layer(s)"),
        (lambda: qnn.ptq_full_integer(model, {**ranges, "fc1": (np.nan, 1.0)}), ValueError, "ranges['fc1']"),
        (lambda: qnn.ptq_dynamic(None), TypeError, "model must be a torch.nn.Module"),
        (lambda: qnn.IntegerMLP(model), ValueError, "qmodel.fc1 is a Linear, must be a QuantizedLayer"),
        (lambda: qnn.prepare_qat(model, ranges="x"), TypeError, "ranges must be a dict"),
        (lambda: qnn.train_qat(model, IMAGES, LABELS), ValueError, "has no QATLayer"),
        (lambda: qnn.convert_qat(model), ValueError, "has no QATLayer"),
        (lambda: qnn.model_bytes(model, "int4"), ValueError, "fmt == 'int4'"),
        (lambda: qnn.model_bytes(model, "int8", per_channel="no"), TypeError, "per_channel must be True or False"),
        (lambda: qnn.model_bytes(model, per_channel="no"), TypeError, "per_channel must be True or False"),
    ]
    for call, exc, fragment in cases:
        with pytest.raises(exc) as info:
            call()
        assert fragment in str(info.value), str(info.value)
    q = qnn.prepare_qat(model, ranges=ranges)
    for kwargs, exc, fragment in [({"lr": -1}, ValueError, "lr == -1.0, must be > 0"),
                                  ({"epochs": 1.0}, TypeError, "epochs must be an int"),
                                  ({"rng": "0"}, TypeError, "rng must be None, an int seed")]:
        with pytest.raises(exc, match=fragment):
            qnn.train_qat(q, IMAGES, LABELS, **kwargs)
    with pytest.raises(ValueError, match="labels contains class 10"):
        qnn.train_qat(q, IMAGES, np.full(4, 10))
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # nothing changed


def test_valid_inputs_that_look_odd_still_work():
    codes = np.array([[1, -2]], dtype=np.int8)
    assert torch.equal(qnn.dequantize_weight(codes, 0.5), torch.tensor([[0.5, -1.0]]))  # NumPy int8 codes
    assert qnn.activation_qparams(torch.tensor(0.0), 2.55) == qnn.activation_qparams(0.0, 2.55)  # a 0-d tensor
    layer = qnn.QuantizedLayer(LIN, torch.tensor(-1.0), torch.tensor(1.0))
    assert layer.act_zero_point.dtype == torch.int32


def test_cnn_qat_command_line_refuses_bad_flags_before_loading(capsys):
    for argv in (["--steps", "0"], ["--threads", "0"], ["--seed", "-1"], ["--steps", "x"]):
        with pytest.raises(SystemExit) as info:
            cnn_qat.main(argv)
        assert info.value.code == 2
        err = capsys.readouterr().err.strip().splitlines()[-1]
        assert err.startswith("python -m course_lib.quantization.nn.cnn_qat: error:") and "Traceback" not in err
