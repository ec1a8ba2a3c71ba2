"""MobileNet (``keras.applications.mobilenet``): Howard et al., 2017.

Example:
    >>> from tkeras.applications.mobilenet import MobileNet
    >>> MobileNet(weights=None, alpha=0.25, include_top=False,
    ...           input_shape=(32, 32, 3)).output_shape
    (None, 1, 1, 256)
"""
from __future__ import annotations

import logging
from typing import Optional

from ..backend import config
from ..layers.advanced_activations import ReLU
from ..layers.convolutional import Conv2D, DepthwiseConv2D, ZeroPadding2D
from ..layers.core import Activation, Dropout, Reshape
from ..layers.normalization import BatchNormalization
from ..layers.pooling import GlobalAveragePooling2D
from . import _common, imagenet_utils

_ALPHA_TEXT = {1.0: "1_0", 0.75: "7_5", 0.50: "5_0", 0.25: "2_5"}


def _spatial(input_shape):
    if config.image_data_format() == "channels_first":
        return input_shape[1], input_shape[2]
    return input_shape[0], input_shape[1]


def MobileNet(input_shape=None, alpha: float = 1.0, depth_multiplier: int = 1,
              dropout: float = 1e-3, include_top: bool = True,
              weights: Optional[str] = "imagenet", input_tensor=None,
              pooling: Optional[str] = None, classes: int = 1000,
              classifier_activation="softmax"):
    """Instantiates the MobileNet architecture (4,253,864 parameters with alpha=1.0 and top).

    Args:
        input_shape: optional shape tuple, only with ``include_top=False`` or for the
            square sizes 128, 160, 192, 224 (the sizes of Keras's weight files); at least
            32x32.
        alpha: the width multiplier (0.25, 0.5, 0.75 or 1.0 for the ImageNet weights).
        depth_multiplier: the depthwise convolutions' depth multiplier (1 for ImageNet).
        dropout: the dropout rate before the classifier.
        include_top: whether to include the classifier (1x1 conv over pooled features).
        weights: None, "imagenet" (Keras's ImageNet weights) or the path of a weights file.
        input_tensor: optional Keras tensor to use as the image input.
        pooling: with ``include_top=False``: None (4D output), "avg" or "max".
        classes: number of classes, only with ``include_top=True`` and no ``weights``.
        classifier_activation: the top layer's activation; None or "softmax" with
            pretrained weights.

    Example:
        >>> MobileNet(weights=None, input_shape=(128, 128, 3), alpha=0.75,
        ...           classes=10).output_shape
        (None, 10)
    """
    _common.check_weights_arg(weights, include_top, classes)
    if input_shape is None:
        default_size = 224
    else:
        rows, cols = _spatial(input_shape)
        default_size = rows if rows == cols and rows in (128, 160, 192, 224) else 224
    input_shape = imagenet_utils.obtain_input_shape(
        input_shape, default_size=default_size, min_size=32,
        data_format=config.image_data_format(), require_flatten=include_top, weights=weights)
    rows, cols = _spatial(input_shape)
    if weights == "imagenet":
        if depth_multiplier != 1:
            raise ValueError("If imagenet weights are being loaded, depth multiplier must be 1.  "
                             f"Received depth_multiplier={depth_multiplier}")
        if alpha not in (0.25, 0.50, 0.75, 1.0):
            raise ValueError("If imagenet weights are being loaded, alpha can be one of`0.25`, "
                             f"`0.50`, `0.75` or `1.0` only.  Received alpha={alpha}")
        if rows != cols or rows not in (128, 160, 192, 224):
            rows = 224
            logging.getLogger("tkeras").warning(
                "`input_shape` is undefined or non-square, or `rows` is not in "
                "[128, 160, 192, 224]. Weights for input shape (224, 224) will be loaded as "
                "the default.")
    img_input = _common.image_input(input_tensor, input_shape)

    x = _conv_block(img_input, 32, alpha, strides=(2, 2))
    plan = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)] + [(512, 1)] * 5 + \
        [(1024, 2), (1024, 1)]
    for block_id, (filters, stride) in enumerate(plan, 1):
        x = _depthwise_conv_block(x, filters, alpha, depth_multiplier, strides=(stride, stride),
                                  block_id=block_id)
    if include_top:
        x = GlobalAveragePooling2D(keepdims=True)(x)
        x = Dropout(dropout, name="dropout")(x)
        x = Conv2D(classes, (1, 1), padding="same", name="conv_preds")(x)
        x = Reshape((classes,), name="reshape_2")(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = Activation(activation=classifier_activation, name="predictions")(x)
    else:
        x = _common.pooled(x, pooling)
    model = _common.make_model(input_tensor, img_input, x, f"mobilenet_{alpha:0.2f}_{rows}")
    key = f"mobilenet_{_ALPHA_TEXT.get(alpha, '2_5')}_{rows}"
    _common.load_weights(model, weights, key, include_top)
    return model


def _conv_block(inputs, filters: int, alpha: float, kernel=(3, 3), strides=(1, 1)):
    filters = int(filters * alpha)
    x = Conv2D(filters, kernel, padding="same", use_bias=False, strides=strides,
               name="conv1")(inputs)
    x = BatchNormalization(axis=_common.channel_axis(), name="conv1_bn")(x)
    return ReLU(6.0, name="conv1_relu")(x)


def _depthwise_conv_block(inputs, pointwise_conv_filters: int, alpha: float,
                          depth_multiplier: int = 1, strides=(1, 1), block_id: int = 1):
    axis = _common.channel_axis()
    pointwise_conv_filters = int(pointwise_conv_filters * alpha)
    if strides == (1, 1):
        x = inputs
    else:
        x = ZeroPadding2D(((0, 1), (0, 1)), name="conv_pad_%d" % block_id)(inputs)
    x = DepthwiseConv2D((3, 3), padding="same" if strides == (1, 1) else "valid",
                        depth_multiplier=depth_multiplier, strides=strides, use_bias=False,
                        name="conv_dw_%d" % block_id)(x)
    x = BatchNormalization(axis=axis, name="conv_dw_%d_bn" % block_id)(x)
    x = ReLU(6.0, name="conv_dw_%d_relu" % block_id)(x)
    x = Conv2D(pointwise_conv_filters, (1, 1), padding="same", use_bias=False, strides=(1, 1),
               name="conv_pw_%d" % block_id)(x)
    x = BatchNormalization(axis=axis, name="conv_pw_%d_bn" % block_id)(x)
    return ReLU(6.0, name="conv_pw_%d_relu" % block_id)(x)


def preprocess_input(x, data_format: Optional[str] = None):
    """"tf"-mode preprocessing: scales pixels to [-1, 1]."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


def decode_predictions(preds, top: int = 5):
    """See ``imagenet_utils.decode_predictions``."""
    return imagenet_utils.decode_predictions(preds, top=top)
