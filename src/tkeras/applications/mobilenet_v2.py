"""MobileNetV2 (``keras.applications.mobilenet_v2``): Sandler et al., CVPR 2018.

Example:
    >>> from tkeras.applications.mobilenet_v2 import MobileNetV2
    >>> MobileNetV2(weights=None, include_top=False, input_shape=(32, 32, 3)).output_shape
    (None, 1, 1, 1280)
"""
from __future__ import annotations

import logging
from typing import Optional

from ..backend import config
from ..engine.keras_tensor import KerasTensor
from ..layers.advanced_activations import ReLU
from ..layers.convolutional import Conv2D, DepthwiseConv2D, ZeroPadding2D
from ..layers.core import Dense
from ..layers.merge import Add
from ..layers.normalization import BatchNormalization
from ..layers.pooling import GlobalAveragePooling2D
from . import _common, imagenet_utils

_WEIGHT_SIZES = (96, 128, 160, 192, 224)


def _make_divisible(v: float, divisor: int, min_value: Optional[int] = None) -> int:
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:  # rounding down must not lose more than 10%
        new_v += divisor
    return new_v


def _spatial(shape) -> tuple:
    """(rows, cols) of a shape without the batch axis."""
    if config.image_data_format() == "channels_first":
        return shape[1], shape[2]
    return shape[0], shape[1]


def _default_size(input_shape, input_tensor) -> int:
    """A square weight-file size (96..224) given by the input, else 224."""
    if input_shape is None and isinstance(input_tensor, KerasTensor):
        rows, cols = _spatial(input_tensor.shape[1:])
    elif input_shape is not None:
        rows, cols = _spatial(input_shape)
    else:
        return 224
    return rows if rows == cols and rows in _WEIGHT_SIZES else 224


def _check_input_tensor(input_shape, input_tensor) -> None:
    if input_tensor is None:
        return
    if not isinstance(input_tensor, KerasTensor):
        raise ValueError("input_tensor is not a TF-Keras tensor; "
                         f"Received `input_tensor={input_tensor}`")
    if input_shape is None:
        return
    if config.image_data_format() == "channels_first":
        if input_tensor.shape[1] != input_shape[1]:
            raise ValueError("input_shape[1] must equal shape(input_tensor)[1] when "
                             "`image_data_format` is `channels_first`; Received "
                             f"`input_tensor.shape={input_tensor.shape}`, "
                             f"`input_shape={input_shape}`")
    elif input_tensor.shape[2] != input_shape[1]:
        raise ValueError("input_tensor.shape[2] must equal input_shape[1]; Received "
                         f"`input_tensor.shape={input_tensor.shape}`, "
                         f"`input_shape={input_shape}`")


def MobileNetV2(input_shape=None, alpha: float = 1.0, include_top: bool = True,
                weights: Optional[str] = "imagenet", input_tensor=None,
                pooling: Optional[str] = None, classes: int = 1000,
                classifier_activation="softmax"):
    """Instantiates the MobileNetV2 architecture (3,538,984 parameters with alpha=1.0 and top).

    Args:
        input_shape: optional shape tuple, only with ``include_top=False`` or a square size
            of Keras's weight files (96, 128, 160, 192, 224); at least 32x32.
        alpha: the width multiplier (0.35, 0.5, 0.75, 1.0, 1.3 or 1.4 for ImageNet weights).
        include_top: whether to include the classifier (global average pooling + Dense).
        weights: None, "imagenet" (Keras's ImageNet weights) or the path of a weights file.
        input_tensor: optional Keras tensor to use as the image input.
        pooling: with ``include_top=False``: None (4D output), "avg" or "max".
        classes: number of classes, only with ``include_top=True`` and no ``weights``.
        classifier_activation: the top layer's activation; None or "softmax" with
            pretrained weights.

    Example:
        >>> MobileNetV2(weights=None, alpha=0.35, include_top=False, pooling="avg",
        ...             input_shape=(96, 96, 3)).output_shape
        (None, 1280)
    """
    _common.check_weights_arg(weights, include_top, classes)
    _check_input_tensor(input_shape, input_tensor)
    default_size = _default_size(input_shape, input_tensor)
    if input_shape is None and isinstance(input_tensor, KerasTensor):
        rows, cols = _spatial(input_tensor.shape[1:])
        input_shape = (3, cols, rows) if config.image_data_format() == "channels_first" \
            else (cols, rows, 3)
    input_shape = imagenet_utils.obtain_input_shape(
        input_shape, default_size=default_size, min_size=32,
        data_format=config.image_data_format(), require_flatten=include_top, weights=weights)
    rows, cols = _spatial(input_shape)
    if weights == "imagenet":
        if alpha not in (0.35, 0.50, 0.75, 1.0, 1.3, 1.4):
            raise ValueError("If imagenet weights are being loaded, alpha must be one of "
                             "`0.35`, `0.50`, `0.75`, `1.0`, `1.3` or `1.4` only; Received "
                             f"`alpha={alpha}`")
        if rows != cols or rows not in _WEIGHT_SIZES:
            rows = 224
            logging.getLogger("tkeras").warning(
                "`input_shape` is undefined or non-square, or `rows` is not in [96, 128, 160, "
                "192, 224]. Weights for input shape (224, 224) will be loaded as the default.")
    img_input = _common.image_input(input_tensor, input_shape)
    axis = 1 if config.image_data_format() == "channels_first" else -1

    x = Conv2D(_make_divisible(32 * alpha, 8), kernel_size=3, strides=(2, 2), padding="same",
               use_bias=False, name="Conv1")(img_input)
    x = BatchNormalization(axis=axis, epsilon=1e-3, momentum=0.999, name="bn_Conv1")(x)
    x = ReLU(6.0, name="Conv1_relu")(x)
    plan = [(16, 1, 1), (24, 2, 6), (24, 1, 6), (32, 2, 6), (32, 1, 6), (32, 1, 6),
            (64, 2, 6), (64, 1, 6), (64, 1, 6), (64, 1, 6), (96, 1, 6), (96, 1, 6), (96, 1, 6),
            (160, 2, 6), (160, 1, 6), (160, 1, 6), (320, 1, 6)]
    for block_id, (filters, stride, expansion) in enumerate(plan):
        x = _inverted_res_block(x, filters=filters, alpha=alpha, stride=stride,
                                expansion=expansion, block_id=block_id)
    last_block_filters = _make_divisible(1280 * alpha, 8) if alpha > 1.0 else 1280
    x = Conv2D(last_block_filters, kernel_size=1, use_bias=False, name="Conv_1")(x)
    x = BatchNormalization(axis=axis, epsilon=1e-3, momentum=0.999, name="Conv_1_bn")(x)
    x = ReLU(6.0, name="out_relu")(x)
    if include_top:
        x = GlobalAveragePooling2D()(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = _common.pooled(x, pooling)
    model = _common.make_model(input_tensor, img_input, x, f"mobilenetv2_{alpha:0.2f}_{rows}")
    _common.load_weights(model, weights, f"mobilenet_v2_{float(alpha)}_{rows}", include_top)
    return model


def _inverted_res_block(inputs, expansion: int, stride: int, alpha: float, filters: int,
                        block_id: int):
    axis = 1 if config.image_data_format() == "channels_first" else -1
    in_channels = inputs.shape[axis]
    pointwise_filters = _make_divisible(int(filters * alpha), 8)
    x = inputs
    prefix = f"block_{block_id}_"
    if block_id:
        x = Conv2D(expansion * in_channels, kernel_size=1, padding="same", use_bias=False,
                   activation=None, name=prefix + "expand")(x)
        x = BatchNormalization(axis=axis, epsilon=1e-3, momentum=0.999,
                               name=prefix + "expand_BN")(x)
        x = ReLU(6.0, name=prefix + "expand_relu")(x)
    else:
        prefix = "expanded_conv_"
    if stride == 2:
        x = ZeroPadding2D(padding=imagenet_utils.correct_pad(x, 3), name=prefix + "pad")(x)
    x = DepthwiseConv2D(kernel_size=3, strides=stride, activation=None, use_bias=False,
                        padding="same" if stride == 1 else "valid", name=prefix + "depthwise")(x)
    x = BatchNormalization(axis=axis, epsilon=1e-3, momentum=0.999,
                           name=prefix + "depthwise_BN")(x)
    x = ReLU(6.0, name=prefix + "depthwise_relu")(x)
    x = Conv2D(pointwise_filters, kernel_size=1, padding="same", use_bias=False,
               activation=None, name=prefix + "project")(x)
    x = BatchNormalization(axis=axis, epsilon=1e-3, momentum=0.999,
                           name=prefix + "project_BN")(x)
    if in_channels == pointwise_filters and stride == 1:
        return Add(name=prefix + "add")([inputs, x])
    return x


def preprocess_input(x, data_format: Optional[str] = None):
    """"tf"-mode preprocessing: scales pixels to [-1, 1]."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


def decode_predictions(preds, top: int = 5):
    """See ``imagenet_utils.decode_predictions``."""
    return imagenet_utils.decode_predictions(preds, top=top)
