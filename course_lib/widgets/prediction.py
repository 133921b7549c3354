"""The prediction explorer of notebook 00: a model, a test image, its class probabilities."""

from __future__ import annotations

import numpy as np
import torch

from .._validation import check_choice, check_int, check_model, short_repr
from ..models import to_tensor
from .base import Explorer
from .layout import check_dataset

__all__ = ["PredictionExplorer"]


class PredictionExplorer(Explorer):
    """Pick a model and a test image; see the image and the model's class probabilities.

    Parameters
    ----------
    models : dict of str -> (model, Dataset)
        Trained models (``torch.nn.Module``) with the test split each is evaluated on;
        the models are put in eval mode.

    Raises
    ------
    TypeError
        If ``models`` is not a dict, a name is not a str, a value is not a ``(model, dataset)``
        pair, a model is not a ``torch.nn.Module`` or a dataset has no uint8 ``images`` and
        integer ``labels``.
    ValueError
        If ``models`` is empty, or a dataset is empty, is not its model's data set or has
        labels that do not match its images.
    """

    figsize = (7.5, 2.8)

    def __init__(self, models: dict):
        if not isinstance(models, dict):
            raise TypeError(f"models must be a dict name -> (model, dataset), got {type(models).__name__}.")
        if not models:
            raise ValueError("models is empty, must map at least one name to (model, dataset).")
        for name, pair in models.items():
            if not isinstance(name, str):
                raise TypeError(f"models has the key {short_repr(name)} ({type(name).__name__}), "
                                f"must have str keys (the model names).")
            if not isinstance(pair, (tuple, list)) or len(pair) != 2:
                got = type(pair).__name__
                if isinstance(pair, (tuple, list)):
                    got = f"a {got} of {len(pair)}"
                raise TypeError(f"models[{name!r}] must be a (model, dataset) pair, got {got}.")
            check_model(pair[0], f"models[{name!r}][0]")
            check_dataset(f"models[{name!r}][1]", pair[1], pair[0])
        self.models = {name: (model.eval(), ds) for name, (model, ds) in models.items()}
        self.names = list(self.models)

    def compute(self, name: str, index: int) -> dict:
        """The numbers the widget shows: true label, prediction, probabilities (no drawing).

        Parameters
        ----------
        name : str
            One of the names of ``models``.
        index : int
            The test image, ``0 .. len(dataset) - 1``.

        Returns
        -------
        dict
            ``{"name", "index", "label": int, "prediction": int, "probabilities": ndarray}``,
            the probabilities a float32 array of one entry per class, summing to 1.

        Raises
        ------
        TypeError
            If ``name`` is not a str or ``index`` not an int.
        ValueError
            If ``name`` is not a model of the explorer or ``index`` is out of range.
        """
        check_choice("name", name, self.names)
        model, ds = self.models[name]
        index = check_int("index", index, minimum=0, maximum=len(ds.labels) - 1)
        with torch.inference_mode():
            logits = model(to_tensor(ds.images[index:index + 1]))[0]
        probs = torch.softmax(logits, 0).numpy()
        return {"name": name, "index": index, "label": int(ds.labels[index]),
                "prediction": int(probs.argmax()), "probabilities": probs}

    def _create(self, result: dict) -> None:
        self._ax_img, self._ax_bar = self.fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 2]})
        self._ax_img.axis("off")
        self._ax_bar.set_xlim(0, 1)
        self._ax_bar.set_xlabel("probability")
        self._ax_bar.invert_yaxis()
        self._image = None
        self._bars = self._ax_bar.barh(np.arange(10), np.zeros(10), color="#9bb7d4")
        self._shown = None

    def _draw(self, result: dict, **params) -> None:
        """The image, the bar lengths and colours and the titles change; the figure is laid out once."""
        name = result["name"]
        _, ds = self.models[name]
        img = ds.images[result["index"]]
        if self._image is None or self._image.get_array().shape != img.shape:
            self._ax_img.clear()
            self._ax_img.axis("off")
            self._image = self._ax_img.imshow(img, cmap="gray" if img.ndim == 2 else None, vmin=0, vmax=255)
        else:
            self._image.set_data(img)
        if self._shown != name:
            self._ax_bar.set_yticks(np.arange(10), [str(c) for c in ds.classes], fontsize=8)
            self._shown = name
        probs, label, top = result["probabilities"], result["label"], result["prediction"]
        for k, bar in enumerate(self._bars):
            bar.set_width(float(probs[k]))
            bar.set_color("#2ca02c" if k == label else "#d62728" if k == top else "#9bb7d4")
        verdict = "right" if top == label else "WRONG"
        self._ax_img.set_title(f"true: {ds.classes[label]}\npredicted: {ds.classes[top]} ({verdict})", fontsize=9)
        self._ax_bar.set_title(f"{name}: class probabilities", fontsize=9)
        if not getattr(self, "_laid_out", False):
            self.fig.tight_layout()
            self._laid_out = True

    def _controls(self, *, index: int = 0) -> tuple:
        """A model dropdown and an image slider; ``index``: the test image shown first (of the first model)."""
        import ipywidgets as w

        from .layout import check_slider

        index = check_slider("index", index, 0, len(self.models[self.names[0]][1].labels) - 1, integer=True)
        dropdown = w.Dropdown(options=self.names, value=self.names[0], description="model")
        slider = w.IntSlider(value=index, min=0, max=len(self.models[self.names[0]][1].labels) - 1,
                             description="test image", continuous_update=False)

        def set_range(change):
            slider.max = len(self.models[change["new"]][1].labels) - 1

        dropdown.observe(set_range, names="value")  # registered first: runs before the redraw
        return [w.HBox([dropdown, slider])], [dropdown, slider], lambda: {"name": dropdown.value,
                                                                           "index": slider.value}

    def _status(self, result: dict, *, name: str, **_) -> str:
        p = float(result["probabilities"][result["prediction"]])
        return (f"<b>{name}</b>, image {result['index']}: predicted "
                f"<b>{result['prediction']}</b> with p = {p:.3f}, true label {result['label']}")
