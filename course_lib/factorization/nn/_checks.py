"""Argument checks of the factorization layers and training runs (PyTorch side): sizes, stages, data sets."""

from __future__ import annotations

import numpy as np
import torch

from ..._validation import check_float, check_int, check_labels, check_model, check_random_state, short_repr

__all__ = ["ALS_OPTIONS", "pair", "check_als", "check_weight_tensor", "check_stages", "check_size", "check_dataset",
           "check_reads", "check_batch", "check_ranks", "reader", "check_record"]

#: The options of the ALS decomposition that flatten_conv2d and flatten_model pass on to flatten_filters.
ALS_OPTIONS = ("max_iter", "tol", "rng")


def pair(value, name: str = "value", minimum: int = 1) -> tuple[int, int]:
    """An int or a pair of ints, each >= ``minimum``, as a pair (``nn.Conv2d``'s convention)."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{name} == {value!r} has {len(value)} entries, must be an int or a pair (rows, "
                             f"columns) of ints: a 2-D convolution.")
        return tuple(check_int(f"{name}[{i}]", v, minimum=minimum) for i, v in enumerate(value))
    if isinstance(value, str):
        raise TypeError(f"{name} must be an int or a pair of ints, got str ({value!r}); string padding such as "
                        f"'same' is not supported, write the numbers out.")
    v = check_int(name, value, minimum=minimum)
    return v, v


def check_als(als: dict, where: str) -> None:
    unknown = sorted(set(als) - set(ALS_OPTIONS))
    if unknown:
        raise TypeError(f"{where} got an unexpected keyword argument {unknown[0]!r}; the ALS options it passes "
                        f"to flatten_filters are {', '.join(ALS_OPTIONS)}.")
    if "max_iter" in als:
        check_int("max_iter", als["max_iter"], minimum=1)
    if "tol" in als:
        check_float("tol", als["tol"], low=0.0, low_open=True)
    if "rng" in als:
        check_random_state(als["rng"])


def check_weight_tensor(name: str, value, ndim: int):
    if isinstance(value, np.ndarray) or not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}"
                        f"{' (use torch.from_numpy)' if isinstance(value, np.ndarray) else ''}.")
    if not value.is_floating_point():
        raise TypeError(f"{name} must hold floating-point numbers, got dtype {value.dtype}.")
    if value.dim() != ndim:
        raise ValueError(f"{name} has shape {tuple(value.shape)}, must have {ndim} dimension(s).")
    return value


def check_stages(x, lateral, vertical, horizontal, bias, lateral_bias):
    """The shapes of :func:`flattened_conv2d`'s tensors, checked against one another before any convolution."""
    x = check_weight_tensor("x", x, 4)
    lateral = check_weight_tensor("lateral", lateral, 4)
    vertical = check_weight_tensor("vertical", vertical, 4)
    horizontal = check_weight_tensor("horizontal", horizontal, 4)
    f, r = horizontal.shape[:2]
    c = x.shape[1]
    for name, t, want in (("lateral", lateral, (f * r, c, 1, 1)), ("vertical", vertical, (f * r, 1, None, 1)),
                          ("horizontal", horizontal, (f, r, 1, None))):
        if any(w is not None and w != g for w, g in zip(want, t.shape)):
            text = ", ".join("Y" if (w is None and name == "vertical") else "X" if w is None else str(w) for w in want)
            raise ValueError(f"{name} has shape {tuple(t.shape)}, must be ({text}) for x with {c} channel(s) and "
                             f"horizontal of shape {tuple(horizontal.shape)} (F={f} filters, R={r} terms).")
    for name, t, n in (("bias", bias, f), ("lateral_bias", lateral_bias, f * r)):
        if t is not None:
            check_weight_tensor(name, t, 1)
            if t.shape[0] != n:
                raise ValueError(f"{name} has {t.shape[0]} entries, must have {n}.")
    for name, t in (("lateral", lateral), ("vertical", vertical), ("horizontal", horizontal), ("bias", bias),
                    ("lateral_bias", lateral_bias)):
        if t is not None and (t.dtype != x.dtype or t.device != x.device):
            raise ValueError(f"x is {x.dtype} on {x.device}, {name} is {t.dtype} on {t.device}, must be the same "
                             f"(convert x with x.to({name}.dtype)).")


def check_size(x, kernel, padding, dilation) -> None:
    for axis, label in ((0, "height"), (1, "width")):
        span = dilation[axis] * (kernel[axis] - 1) + 1
        size = x.shape[-2 + axis] + 2 * padding[axis]
        if size < span:
            raise ValueError(f"x has shape {tuple(x.shape)}: its padded {label} {size} is smaller than the filter's "
                             f"{span}, must be at least that.")


def check_dataset(name: str, data, model) -> tuple[np.ndarray, np.ndarray]:
    """``(images, labels)`` of a ``Dataset`` that ``model`` reads: its images and its classes.

    Raises
    ------
    TypeError
        ``train must be a Dataset ..., got str ('train').``, or uint8 images / integer labels missing.
    ValueError
        The other data set's images (``train.images have 784 features (1x28x28), cifar_vgg expects 3072``),
        no image, or labels that are not one class per image of the model's classes.
    """
    from ...layers import num_outputs
    from ...models import check_images

    if isinstance(data, (str, bytes)) or not (hasattr(data, "images") and hasattr(data, "labels")):
        raise TypeError(f"{name} must be a Dataset (images, labels, classes) as course_lib.data loads it, got "
                        f"{type(data).__name__} ({short_repr(data)}).")
    images = np.asarray(data.images)
    try:
        check_images(model, images[:1])  # one image tells the dtype and the shape
    except (TypeError, ValueError) as exc:
        message = str(exc)
        raise type(exc)(f"{name}.{message}" if message.startswith("images") else f"{name}: {message}") from None
    labels = check_labels(data.labels, num_classes=num_outputs(model), name=f"{name}.labels")
    if len(labels) != len(images):
        raise ValueError(f"{name}.labels has {len(labels)} labels for {len(images)} images, must have one per image.")
    return images, labels


def check_reads(name: str, model, images) -> None:
    """``model`` (a ``torch.nn.Module``) reads ``images``: the error names ``model``, not the images."""
    from ...models import check_images

    check_model(model, name)
    try:
        check_images(model, np.asarray(images)[:1])
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"{name} cannot read these images: {exc}") from None


def check_batch(model, x, labels) -> np.ndarray:
    """A float tensor ``x`` of the model's input shape and its integer ``labels`` (one per row, in range)."""
    from ...layers import num_outputs

    check_model(model)
    check_weight_tensor("x", x, x.dim() if isinstance(x, torch.Tensor) and x.dim() >= 2 else 2)
    want = getattr(model, "input_shape", None)
    if want is not None and tuple(x.shape[1:]) != tuple(want):
        raise ValueError(f"x has shape {tuple(x.shape)}, must be (N, {', '.join(map(str, want))}) for this model "
                         f"(course_lib.models.to_tensor of its data set's images).")
    return check_labels(labels, len(x), num_classes=num_outputs(model))


def check_ranks(ranks, name: str = "ranks") -> tuple[int, ...]:
    """A non-empty list of TT-ranks (ints >= 1) that includes 4 (the SGD row of notebook 08's table is rank 4)."""
    if isinstance(ranks, (str, bytes)) or not isinstance(ranks, (list, tuple, np.ndarray)):
        raise TypeError(f"{name} must be a list or tuple of ints, got {type(ranks).__name__} ({short_repr(ranks)}).")
    ranks = tuple(check_int(f"{name}[{i}]", r, minimum=1) for i, r in enumerate(ranks))
    if 4 not in ranks:
        raise ValueError(f"{name} == {ranks!r}, must include 4 (the SGD row is rank 4).")
    return ranks


def reader(name: str):
    """A fresh ``build_model(name)`` to check data against, built without touching torch's global random state
    (a check must not change what a seeded run computes)."""
    from ...models import build_model

    with torch.random.fork_rng(devices=[]):
        return build_model(name)


def check_record(name: str, value, keys) -> dict:
    """A dict holding at least ``keys`` (the output of one of the training functions), else a clear error."""
    if not isinstance(value, dict):
        raise TypeError(f"{name} must be a dict (what the training function returned), got {type(value).__name__} "
                        f"({short_repr(value)}).")
    missing = [k for k in keys if k not in value]
    if missing:
        raise ValueError(f"{name} has no {', '.join(map(repr, missing))}, must hold {', '.join(map(repr, keys))} "
                         f"(pass what the training function returned).")
    return value
