"""Pruning PyTorch models: masks from :mod:`course_lib.pruning`, masked fine-tuning, sparse export.

The masks are computed in NumPy by the from-scratch functions of
:mod:`course_lib.pruning` and applied to a *copy* of the model; nothing here
mutates a model it is given. A mask is a dict ``{"fc1.weight": bool array}``
(``True`` = kept) over the weights of the ``nn.Linear`` and ``nn.Conv2d``
layers (:func:`course_lib.layers.weight_layers`).

Typical use (Han et al.'s prune / retrain loop)::

    model = cl.load_pretrained("lenet300")
    pruned, masks, history = iterative_prune(model, 0.9, rounds=3, train=train, test=test)
    export_pruned(pruned, masks, "lenet300-90.pt")      # a file ~5x smaller
    same = load_pruned("lenet300-90.pt", "lenet300")     # a dense model again

Neuron pruning on models: :func:`collect_activations`, :func:`shrink_mlp`,
:func:`make_duplicate`. Channel pruning of the CNN: :func:`channel_scores`, :func:`select_channels`,
:func:`prune_channels` (a physically smaller network), :func:`channel_masks` (the same, masked),
:func:`count_macs`, :func:`sensitivity_scan`, :func:`fine_tune_channels`.
"""

from .channel_scan import count_macs, fine_tune_channels, sensitivity_scan
from .channels import channel_masks, channel_scores, conv_chain, prune_channels, select_channels
from .export import export_pruned, load_pruned
from .finetune import fine_tune, iterative_prune, one_shot_prune
from .masks import apply_masks, masks_for, prunable_weights
from .neurons import collect_activations, make_duplicate, shrink_mlp

__all__ = ["prunable_weights", "masks_for", "apply_masks", "fine_tune", "iterative_prune", "one_shot_prune",
           "export_pruned", "load_pruned", "collect_activations", "shrink_mlp", "make_duplicate",
           "conv_chain", "channel_scores", "select_channels", "channel_masks", "prune_channels", "count_macs",
           "sensitivity_scan", "fine_tune_channels"]
