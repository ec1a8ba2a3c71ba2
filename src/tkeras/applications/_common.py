"""What every application constructor does the same way: argument checks, the input
tensor, the classifier / pooling top, the model and its weights."""
from __future__ import annotations

import os
from typing import Optional

from ..backend import config
from ..engine.input_layer import Input
from ..engine.keras_tensor import KerasTensor
from ..utils.layer_utils import get_source_inputs
from . import _weight_files, imagenet_utils


def check_weights_arg(weights, include_top: bool, classes: int) -> None:
    """Keras's checks of ``weights`` (None, "imagenet" or an existing file) and ``classes``."""
    if not (weights in {"imagenet", None} or
            (isinstance(weights, (str, os.PathLike)) and os.path.exists(weights))):
        raise ValueError("The `weights` argument should be either `None` (random "
                         "initialization), `imagenet` (pre-training on ImageNet), or the path to "
                         f"the weights file to be loaded.  Received: weights={weights}")
    if weights == "imagenet" and include_top and classes != 1000:
        raise ValueError('If using `weights` as `"imagenet"` with `include_top` as true, '
                         f"`classes` should be 1000.  Received `classes={classes}`")


def image_input(input_tensor, input_shape) -> KerasTensor:
    """The model's image input: ``input_tensor`` itself, or a new ``Input(input_shape)``."""
    if input_tensor is None:
        return Input(shape=input_shape)
    if not isinstance(input_tensor, KerasTensor):
        raise ValueError("`input_tensor` should be a Keras tensor (the output of "
                         "`layers.Input()` or of a layer). "
                         f"Received: input_tensor={input_tensor!r} of type {type(input_tensor)}")
    return input_tensor


def channel_axis() -> int:
    return 1 if config.image_data_format() == "channels_first" else 3


def make_model(input_tensor, img_input, outputs, name: str):
    from ..engine.training import Model
    inputs = get_source_inputs(input_tensor) if input_tensor is not None else img_input
    return Model(inputs, outputs, name=name)


def pooled(x, pooling, avg_name: Optional[str] = None, max_name: Optional[str] = None):
    """The no-top output: ``x``, or its global average / max pooling."""
    from ..layers.pooling import GlobalAveragePooling2D, GlobalMaxPooling2D
    if pooling == "avg":
        return GlobalAveragePooling2D(name=avg_name)(x)
    if pooling == "max":
        return GlobalMaxPooling2D(name=max_name)(x)
    return x


def load_weights(model, weights, weights_key: Optional[str], include_top: bool) -> None:
    """Loads Keras's ImageNet file (downloaded once into ~/.keras/models) or the user's file.

    Keras's files are read as Keras reads them: layer by layer in the model's order.
    """
    if weights == "imagenet":
        if weights_key is None:
            return
        from ..utils.data_utils import get_file
        fname, origin, file_hash = _weight_files.imagenet_file(weights_key, include_top)
        path = get_file(fname, origin, cache_subdir="models", file_hash=file_hash)
        model.load_weights(path)
    elif weights is not None:
        model.load_weights(weights)


def standard_input(input_tensor, input_shape, default_size: int, min_size: int,
                   include_top: bool, weights) -> KerasTensor:
    """obtain_input_shape + image_input, as most constructors begin."""
    input_shape = imagenet_utils.obtain_input_shape(
        input_shape, default_size=default_size, min_size=min_size,
        data_format=config.image_data_format(), require_flatten=include_top, weights=weights)
    return image_input(input_tensor, input_shape)
