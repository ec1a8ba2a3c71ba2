"""Xception (``keras.applications.xception``): Chollet, CVPR 2017.

Example:
    >>> from tkeras.applications.xception import Xception
    >>> Xception(weights=None, include_top=False, input_shape=(71, 71, 3)).output_shape
    (None, 3, 3, 2048)
"""
from __future__ import annotations

from typing import Optional

from ..layers.convolutional import Conv2D, SeparableConv2D
from ..layers.core import Activation, Dense
from ..layers.merge import add
from ..layers.normalization import BatchNormalization
from ..layers.pooling import GlobalAveragePooling2D, MaxPooling2D
from . import _common, imagenet_utils


def _sep_bn(x, filters: int, name: str):
    x = SeparableConv2D(filters, (3, 3), padding="same", use_bias=False, name=name)(x)
    return BatchNormalization(axis=_common.channel_axis(), name=name + "_bn")(x)


def _downsampling_block(x, block: int, filters1: int, filters2: int, first_act: bool = True):
    """Two separable convs and a strided max-pool, added to a strided 1x1 projection."""
    axis = _common.channel_axis()
    residual = Conv2D(filters2, (1, 1), strides=(2, 2), padding="same", use_bias=False)(x)
    residual = BatchNormalization(axis=axis)(residual)
    prefix = f"block{block}"
    if first_act:
        x = Activation("relu", name=prefix + "_sepconv1_act")(x)
    x = _sep_bn(x, filters1, prefix + "_sepconv1")
    x = Activation("relu", name=prefix + "_sepconv2_act")(x)
    x = _sep_bn(x, filters2, prefix + "_sepconv2")
    x = MaxPooling2D((3, 3), strides=(2, 2), padding="same", name=prefix + "_pool")(x)
    return add([x, residual])


def Xception(include_top: bool = True, weights: Optional[str] = "imagenet", input_tensor=None,
             input_shape=None, pooling: Optional[str] = None, classes: int = 1000,
             classifier_activation="softmax"):
    """Instantiates the Xception architecture (22,910,480 parameters with the top).

    The default input size is 299x299 (minimum 71x71).

    Args:
        include_top: whether to include the classifier (global average pooling + Dense).
        weights: None, "imagenet" (Keras's ImageNet weights) or the path of a weights file.
        input_tensor: optional Keras tensor to use as the image input.
        input_shape: optional shape tuple, only with ``include_top=False`` (otherwise
            (299, 299, 3)); 3 channels, height and width at least 71.
        pooling: with ``include_top=False``: None (4D output), "avg" or "max".
        classes: number of classes, only with ``include_top=True`` and no ``weights``.
        classifier_activation: the top layer's activation; None or "softmax" with
            pretrained weights.

    Example:
        >>> Xception(weights=None, include_top=False, pooling="avg",
        ...          input_shape=(71, 71, 3)).output_shape
        (None, 2048)
    """
    _common.check_weights_arg(weights, include_top, classes)
    img_input = _common.standard_input(input_tensor, input_shape, 299, 71, include_top, weights)
    axis = _common.channel_axis()
    x = Conv2D(32, (3, 3), strides=(2, 2), use_bias=False, name="block1_conv1")(img_input)
    x = BatchNormalization(axis=axis, name="block1_conv1_bn")(x)
    x = Activation("relu", name="block1_conv1_act")(x)
    x = Conv2D(64, (3, 3), use_bias=False, name="block1_conv2")(x)
    x = BatchNormalization(axis=axis, name="block1_conv2_bn")(x)
    x = Activation("relu", name="block1_conv2_act")(x)

    x = _downsampling_block(x, 2, 128, 128, first_act=False)
    x = _downsampling_block(x, 3, 256, 256)
    x = _downsampling_block(x, 4, 728, 728)
    for i in range(8):
        residual = x
        prefix = "block" + str(i + 5)
        for j in (1, 2, 3):
            x = Activation("relu", name=f"{prefix}_sepconv{j}_act")(x)
            x = _sep_bn(x, 728, f"{prefix}_sepconv{j}")
        x = add([x, residual])
    x = _downsampling_block(x, 13, 728, 1024)

    x = _sep_bn(x, 1536, "block14_sepconv1")
    x = Activation("relu", name="block14_sepconv1_act")(x)
    x = _sep_bn(x, 2048, "block14_sepconv2")
    x = Activation("relu", name="block14_sepconv2_act")(x)
    if include_top:
        x = GlobalAveragePooling2D(name="avg_pool")(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = _common.pooled(x, pooling)
    model = _common.make_model(input_tensor, img_input, x, "xception")
    _common.load_weights(model, weights, "xception", include_top)
    return model


def preprocess_input(x, data_format: Optional[str] = None):
    """"tf"-mode preprocessing: scales pixels to [-1, 1]."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


def decode_predictions(preds, top: int = 5):
    """See ``imagenet_utils.decode_predictions``."""
    return imagenet_utils.decode_predictions(preds, top=top)
