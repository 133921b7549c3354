"""Interactive explorers for the notebooks, one module per technique family.

Each explorer separates ``compute`` (the numbers, no drawing; tested without a
browser and timed), ``update`` (redraw in place) and ``widget`` (the ipywidgets
controls that call it, laid out by :func:`.layout.explorer_box`). Every update
re-evaluates a real model. The skeleton is written once, in :class:`.base.Explorer`:
an explorer supplies its ``compute``, its figure (made once, then redrawn), its
controls and its status line.
"""

from .._lazy import attach

__getattr__, __dir__, __all__ = attach(
    __name__,
    exports={
        "channels": ["ChannelPruningExplorer"],
        "flattened": ["FlattenedExplorer"],
        "prediction": ["PredictionExplorer"],
        "pruning": ["NeuronPruningExplorer", "WeightPruningExplorer"],
        "quantization": ["QuantizationExplorer", "PTQExplorer"],
        "schedules": ["ScheduleExplorer"],
        "sharing": ["SharingExplorer"],
        "summary": ["SummaryExplorer"],
        "svd": ["SVDExplorer"],
        "tt": ["TTExplorer"],
        "transformer": ["TransformerExplorer"],
    },
    submodules=["base", "channels", "flattened", "layout", "prediction", "pruning", "quantization", "schedules",
                "sharing", "summary", "svd", "tt", "transformer", "weight_pruning"],
)
