"""The quantization explorers: bits and range of fc1's weights (notebook 04), whole-model PTQ (notebook 05)."""

from __future__ import annotations

import numpy as np
import torch

from .._validation import check_bits, check_choice, check_float, check_model
from ..plots.labels import decade_ticks
from ..quantization.grid import ROUNDINGS, qrange
from .base import Explorer
from .layout import check_dataset, fc1_weights

__all__ = ["QuantizationExplorer", "PTQExplorer"]


class QuantizationExplorer(Explorer):
    """Quantize LeNet-300-100's weights to ``bits`` bits with a clipping range ``a``.

    The range of each layer is ``a = range_fraction * max|w|`` (1.0: max-abs, no
    clipping; smaller: finer steps, the largest weights clipped). Weights become
    the grid values ``k * a / (2^(b-1) - 1)`` (round to nearest, symmetric);
    activations stay float (weight-only quantization). An update shows fc1's
    weight histogram with the quantization levels, the error and the accuracy.

    Parameters
    ----------
    model : torch.nn.Module
        The trained model (put in eval mode, never changed: a copy is quantized), with an
        ``fc1`` layer whose weights are drawn (LeNet-300-100, LeNet-5).
    test : Dataset
        Where accuracy is measured (a few thousand images keep updates fast).

    Raises
    ------
    TypeError
        If ``model`` is not a ``torch.nn.Module`` or ``test`` is not a Dataset of uint8
        images and integer labels.
    ValueError
        If ``model`` has no ``fc1`` weight, or ``test`` is empty or not the model's data set.
    """

    def __init__(self, model, test):
        weights = fc1_weights(model)
        check_dataset("test", test, model)
        self._adopt(model, test)
        self.weights = weights
        self._copy = None

    def compute(self, bits: int, range_fraction: float = 1.0, *, rounding: str = "nearest") -> dict:
        """Quantize a copy of the model's weights and measure the error and the accuracy (no drawing).

        Parameters
        ----------
        bits : int
            Code width, ``2 .. 8``.
        range_fraction : float
            The clipping range of each layer as a fraction of its ``max|w|``, in ``(0, 1]``.
        rounding : {"nearest", "floor"}, keyword-only
            How a weight goes to the grid.

        Returns
        -------
        dict
            ``{"bits": int, "range_fraction": float, "scales": {name: float}, "rmse": float,
            "accuracy": float, "bytes": int, "float_bytes": int}``: the step of each layer's grid,
            the weights' root-mean-square error over all layers, the quantized model's test accuracy,
            and its stored bytes against float32's by the course's one convention
            (:mod:`course_lib.quantization.storage`): each layer's codes packed,
            ``ceil(n * bits / 8)`` bytes, plus its float32 scale, and every other parameter
            (the biases) in float32.

        Raises
        ------
        TypeError
            If ``bits`` is not an int, ``range_fraction`` not a real number or ``rounding`` not a str.
        ValueError
            If ``bits`` is outside ``2 .. 8``, ``range_fraction`` outside ``(0, 1]`` or
            ``rounding`` unknown.
        """
        import copy

        from ..quantization import fake_quantize

        bits = check_bits(bits)
        range_fraction = check_float("range_fraction", range_fraction, low=0.0, high=1.0, low_open=True)
        rounding = check_choice("rounding", rounding, ROUNDINGS)
        levels = qrange(bits)[1]
        if self._copy is None:
            self._copy = copy.deepcopy(self.model)
        params = dict(self._copy.named_parameters())
        mse, total, scales = 0.0, 0, {}
        for name, w in self.weights.items():
            a = range_fraction * float(np.abs(w).max())
            scales[name] = a / levels
            wq = fake_quantize(w, bits=bits, scale=scales[name], rounding=rounding)
            mse += float(((wq - w) ** 2).sum())
            total += w.size
            with torch.no_grad():
                params[name].copy_(torch.from_numpy(wq))
        return {"bits": bits, "range_fraction": range_fraction, "scales": scales,
                "rmse": (mse / total) ** 0.5, "accuracy": self._test.accuracy(self._copy),
                **self._bytes(bits)}

    def _bytes(self, bits: int) -> dict:
        """Stored bytes at ``bits`` (codes packed, one float32 scale per layer, biases float32) and in float32."""
        from ..formats import storage_bytes
        from ..quantization.storage import code_bytes

        float_bytes = storage_bytes(self.model)
        quantized = sum(code_bytes(w.size, bits) + 4 for w in self.weights.values())
        return {"bytes": int(float_bytes - 4 * sum(w.size for w in self.weights.values()) + quantized),
                "float_bytes": int(float_bytes)}

    def update(self, bits: int, range_fraction: float = 1.0) -> dict:
        """Compute ``bits`` and ``range_fraction`` (rounding to nearest) and redraw fc1's weight histogram with
        the grid levels and the clipping range; returns what :meth:`compute` returns (the figure is ``self.fig``)
        and raises what it raises."""
        return super().update(bits, range_fraction)

    def _create(self, result: dict) -> None:
        w = self.weights["fc1.weight"].ravel()
        lim = float(np.abs(w).max())
        self._ax = self.fig.subplots()
        counts, edges = np.histogram(w, bins=200, range=(-lim, lim))
        self._ax.stairs(counts, edges, fill=True, color="#9bb7d4")
        self._ax.set_yscale("log")
        decade_ticks(self._ax.yaxis)  # plain-text labels: mathtext ones cost most of a redraw
        self._ax.set_xlabel("fc1 weight value")
        self._clips = [self._ax.axvline(0, color="#d62728", lw=1.5) for _ in range(2)]
        self._levels = self._ax.vlines([], 0, 1, transform=self._ax.get_xaxis_transform(), color="#2ca02c",
                                       alpha=0.6)  # over the clip lines, as before
        self._ax.set_xlim(self._ax.get_xlim())  # fixed limits: an update needs no autoscale
        self._ax.set_ylim(self._ax.get_ylim())
        self.fig.tight_layout()

    def _draw(self, result: dict, **params) -> None:
        bits = result["bits"]
        step = result["scales"]["fc1.weight"]
        k = qrange(bits)[1]
        grid = np.arange(-k, k + 1) * step
        self._levels.set_segments([[(x, 0), (x, 1)] for x in grid])
        self._levels.set_linewidth(0.6 if len(grid) > 40 else 1.2)
        for line, x in zip(self._clips, (-k * step, k * step)):
            line.set_xdata([x, x])
        self._ax.set_title(f"{bits} bits: {len(grid)} levels (green), range ±{k * step:.3f} (red) · weight RMSE "
                           f"{result['rmse']:.2e} · accuracy {100 * result['accuracy']:.2f}%", fontsize=9,
                           y=1.0)  # y given: no title layout pass per update

    def _controls(self, *, bits: int = 4) -> tuple:
        """A bits slider (``2 .. 8``, starting at ``bits``) and a range slider."""
        import ipywidgets as w

        bits = check_bits(bits)

        b = w.IntSlider(value=bits, min=2, max=8, description="bits", continuous_update=False)
        r = w.FloatSlider(value=1.0, min=0.05, max=1.0, step=0.05, description="a / max|w|",
                          continuous_update=False)
        return [w.HBox([b, r])], [b, r], lambda: {"bits": b.value, "range_fraction": r.value}

    def _status(self, res: dict, *, bits: int, range_fraction: float, **_) -> str:
        return (f"{bits}-bit weights, range a = {range_fraction:.2f}·max|w| per layer · {res['bytes']:,} bytes, "
                f"{res['bytes'] / res['float_bytes']:.1%} of float32 (codes packed, scales and biases "
                f"float32) · accuracy {100 * res['accuracy']:.2f}%")


class PTQExplorer(Explorer):
    """Post-training quantization of a whole model, live: bits, weight scales and calibration method.

    Every update builds the full-integer model (:func:`~course_lib.quantization.nn.ptq_full_integer`:
    int8 codes for weights *and* activations) and measures its accuracy and its bytes against the
    float32 model. The activation ranges of each calibration method are computed once, on the
    calibration images.

    Parameters
    ----------
    model : torch.nn.Module
        The trained float model (never changed).
    calibration_images : uint8 ndarray
        A few hundred unlabelled training images (:func:`~course_lib.quantization.nn.calibrate`).
    test : Dataset
        Where accuracy is measured (a few thousand images keep updates fast).

    Raises
    ------
    TypeError
        If ``model`` is not a ``torch.nn.Module``, ``calibration_images`` are not a uint8 array (a Dataset is
        refused: pass its ``.images``) or ``test`` is not a Dataset.
    ValueError
        If the images are empty or not the model's data set, or ``test`` does not fit the model.
    """

    figsize = (8.5, 2.6)

    def __init__(self, model, calibration_images, test):
        from ..formats import storage_bytes
        from ..models import check_images
        from ..quantization.nn import calibrate
        from ..quantization.nn.calibrate import CALIBRATION_METHODS

        check_model(model)
        if hasattr(calibration_images, "images"):
            raise TypeError(f"calibration_images must be a uint8 array of images (dataset.images[:500]), got "
                            f"{type(calibration_images).__name__}.")
        try:
            check_images(model, calibration_images)
        except (TypeError, ValueError) as exc:
            message = str(exc)
            raise type(exc)(f"calibration_images: {message}" if not message.startswith("images")
                            else f"calibration_{message}") from None
        check_dataset("test", test, model)
        self._adopt(model, test)
        self.methods = CALIBRATION_METHODS
        self.ranges = {m: calibrate(model, calibration_images, method=m) for m in self.methods}
        self.float_accuracy = self._test.accuracy(self.model)
        self.float_bytes = storage_bytes(self.model)
        self._cache: dict[tuple, dict] = {}

    def compute(self, bits: int, per_channel: bool = True, method: str = "percentile") -> dict:
        """Build the full-integer model and measure it (no drawing).

        Parameters
        ----------
        bits : int
            Code width of weights and activations, ``2 .. 8``.
        per_channel : bool
            One weight scale per output channel (else one per layer).
        method : {"minmax", "maxabs", "percentile"}
            How the activation ranges were calibrated.

        Returns
        -------
        dict
            ``{"bits", "per_channel", "method", "accuracy", "bytes", "float_accuracy", "float_bytes"}``;
            bytes as :func:`~course_lib.quantization.nn.model_bytes` counts them.

        Raises
        ------
        TypeError, ValueError
            For a bad ``bits``, ``per_channel`` or ``method``.
        """
        from .._validation import check_bool
        from ..quantization.nn import model_bytes, ptq_full_integer

        bits = check_bits(bits)
        per_channel = check_bool("per_channel", per_channel)
        method = check_choice("method", method, self.methods)
        key = (bits, per_channel, method)
        if key not in self._cache:  # a slider position seen before is answered at once
            q = ptq_full_integer(self.model, self.ranges[method], bits=bits, per_channel=per_channel)
            self._cache[key] = {"accuracy": self._test.accuracy(q), "bytes": model_bytes(q)}
        return {"bits": bits, "per_channel": per_channel, "method": method, **self._cache[key],
                "float_accuracy": self.float_accuracy, "float_bytes": self.float_bytes}

    def _create(self, result: dict) -> None:
        ax1, ax2 = self._axes = self.fig.subplots(1, 2)
        colors = ["#9bb7d4", "#2ca02c"]
        self._acc_bars = ax1.barh([0, 1], [100 * result["float_accuracy"], 0], color=colors)
        self._size_bars = ax2.barh([0, 1], [result["float_bytes"] / 1024, 0], color=colors)
        ax1.set_xlim(0, 100)
        ax1.set_xlabel("test accuracy, %")
        ax2.set_xlabel("KiB (codes packed: ceil(n·bits/8) bytes)")
        ax2.set_title("size", fontsize=9)
        for ax in self._axes:
            ax.set_yticks([0, 1])
        ax2.set_yticklabels(["float32", "PTQ"])
        self.fig.tight_layout()

    def _draw(self, result: dict, **params) -> None:
        """Accuracy and size of the quantized model beside the float one."""
        ax1, _ = self._axes
        self._acc_bars[1].set_width(100 * result["accuracy"])
        self._size_bars[1].set_width(result["bytes"] / 1024)
        ax1.set_yticklabels(["float32", f"int{result['bits']} PTQ"])
        ax1.set_title(f"{result['method']} calibration, {'per-channel' if result['per_channel'] else 'per-tensor'} "
                      f"scales", fontsize=9)

    def _controls(self, *, bits: int = 4) -> tuple:
        """A bits slider (``2 .. 8``, starting at ``bits``), a per-channel box and a calibration choice."""
        import ipywidgets as w

        bits = check_bits(bits)
        b = w.IntSlider(value=bits, min=2, max=8, description="bits", continuous_update=False)
        pc = w.Checkbox(value=True, description="per-channel weight scales")
        method = w.Dropdown(options=self.methods, value="percentile", description="calibration")
        return [w.HBox([b, pc, method])], [b, pc, method], lambda: {"bits": b.value, "per_channel": pc.value,
                                                                     "method": method.value}

    def _status(self, res: dict, **params) -> str:
        return (f"{res['bits']}-bit weights and activations · accuracy {100 * res['accuracy']:.2f}% "
                f"(float32 {100 * res['float_accuracy']:.2f}%) · {res['bytes']:,} bytes "
                f"({res['float_bytes'] / res['bytes']:.1f}x smaller)")
