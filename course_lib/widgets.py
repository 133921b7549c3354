"""Interactive explorers for the notebooks.

Each explorer separates the **update function** (computes the numbers and
redraws; tested without a browser, and timed) from the ipywidgets controls
that call it. Every update re-evaluates a real model.
"""

from __future__ import annotations

import torch

from ._validation import check_choice, check_int
from .models import to_tensor

__all__ = ["PredictionExplorer"]


class PredictionExplorer:
    """Pick a model and a test image; see the image and the model's class probabilities.

    Parameters
    ----------
    models : dict name -> (model, Dataset)
        Trained models with the test split they are evaluated on.
    """

    def __init__(self, models: dict):
        if not models:
            raise ValueError("models is empty, must map at least one name to (model, dataset).")
        self.models = {name: (model.eval(), ds) for name, (model, ds) in models.items()}
        self.names = list(self.models)
        self.fig = None
        self._widget = None

    def compute(self, name: str, index: int) -> dict:
        """The numbers the widget shows: true label, prediction, probabilities (no drawing)."""
        check_choice("name", name, self.names)
        model, ds = self.models[name]
        index = check_int("index", index, minimum=0, maximum=len(ds.labels) - 1)
        with torch.inference_mode():
            logits = model(to_tensor(ds.images[index:index + 1]))[0]
        probs = torch.softmax(logits, 0).numpy()
        return {"name": name, "index": index, "label": int(ds.labels[index]),
                "prediction": int(probs.argmax()), "probabilities": probs}

    def update(self, name: str, index: int) -> dict:
        """Compute and redraw the figure; returns what :meth:`compute` returns."""
        import matplotlib.pyplot as plt

        from .plots import bar_probabilities

        result = self.compute(name, index)
        _, ds = self.models[name]
        if self.fig is None:
            with plt.ioff():
                self.fig = plt.figure(figsize=(7.5, 2.8))
        self.fig.clear()
        ax_img, ax_bar = self.fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 2]})
        img = ds.images[result["index"]]
        ax_img.imshow(img, cmap="gray" if img.ndim == 2 else None, vmin=0, vmax=255)
        ax_img.axis("off")
        verdict = "right" if result["prediction"] == result["label"] else "WRONG"
        ax_img.set_title(f"true: {ds.classes[result['label']]}\npredicted: "
                         f"{ds.classes[result['prediction']]} ({verdict})", fontsize=9)
        bar_probabilities(result["probabilities"], ds.classes, label=result["label"], ax=ax_bar)
        ax_bar.set_title(f"{name}: class probabilities", fontsize=9)
        self.fig.tight_layout()
        return result

    def widget(self, *, index: int = 0):
        """The ipywidgets UI: a model dropdown, an image slider, the figure."""
        import ipywidgets as w
        from IPython.display import display

        dropdown = w.Dropdown(options=self.names, value=self.names[0], description="model")
        slider = w.IntSlider(value=index, min=0, max=len(self.models[self.names[0]][1].labels) - 1,
                             description="test image", continuous_update=False)
        status = w.HTML()
        out = w.Output()

        def redraw(*_):
            result = self.update(dropdown.value, slider.value)
            p = float(result["probabilities"][result["prediction"]])
            status.value = (f"<b>{dropdown.value}</b>, image {result['index']}: predicted "
                            f"<b>{result['prediction']}</b> with p = {p:.3f}, true label {result['label']}")
            with out:
                out.clear_output(wait=True)
                display(self.fig)

        def on_model(change):
            slider.max = len(self.models[change["new"]][1].labels) - 1
            redraw()

        dropdown.observe(on_model, names="value")
        slider.observe(redraw, names="value")
        redraw()
        self._widget = w.VBox([w.HBox([dropdown, slider]), status, out])
        return self._widget
