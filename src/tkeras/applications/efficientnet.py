"""EfficientNetB0 - B7 (``keras.applications.efficientnet``): Tan & Le, ICML 2019.

The models take unscaled [0, 255] pixels: rescaling and ImageNet normalisation are layers
of the model, so ``preprocess_input`` is the identity.

Example:
    >>> from tkeras.applications.efficientnet import EfficientNetB0
    >>> EfficientNetB0(weights=None, include_top=False, input_shape=(32, 32, 3)).output_shape
    (None, 1, 1, 1280)
"""
from __future__ import annotations

import copy
import math
from typing import Any, Callable, Dict, List, Optional

from ..layers.convolutional import Conv2D, DepthwiseConv2D, ZeroPadding2D
from ..layers.core import Activation, Dense, Dropout, Reshape
from ..layers.merge import add, multiply
from ..layers.normalization import BatchNormalization
from ..layers.pooling import GlobalAveragePooling2D
from ..layers.preprocessing import Normalization, Rescaling
from ..backend import config
from . import _common, imagenet_utils

DEFAULT_BLOCKS_ARGS: List[Dict[str, Any]] = [
    dict(kernel_size=k, repeats=r, filters_in=fi, filters_out=fo, expand_ratio=e, id_skip=True,
         strides=s, se_ratio=0.25)
    for k, r, fi, fo, e, s in [(3, 1, 32, 16, 1, 1), (3, 2, 16, 24, 6, 2), (5, 2, 24, 40, 6, 2),
                               (3, 3, 40, 80, 6, 2), (5, 3, 80, 112, 6, 1),
                               (5, 4, 112, 192, 6, 2), (3, 1, 192, 320, 6, 1)]
]
CONV_KERNEL_INITIALIZER = {"class_name": "VarianceScaling",
                           "config": {"scale": 2.0, "mode": "fan_out",
                                      "distribution": "truncated_normal"}}
DENSE_KERNEL_INITIALIZER = {"class_name": "VarianceScaling",
                            "config": {"scale": 1.0 / 3.0, "mode": "fan_out",
                                       "distribution": "uniform"}}
IMAGENET_STDDEV_RGB = [0.229, 0.224, 0.225]


def EfficientNet(width_coefficient: float, depth_coefficient: float, default_size: int,
                 dropout_rate: float = 0.2, drop_connect_rate: float = 0.2,
                 depth_divisor: int = 8, activation="swish", blocks_args="default",
                 model_name: str = "efficientnet", include_top: bool = True,
                 weights: Optional[str] = "imagenet", input_tensor=None, input_shape=None,
                 pooling: Optional[str] = None, classes: int = 1000,
                 classifier_activation="softmax"):
    """An EfficientNet scaled by ``width_coefficient`` / ``depth_coefficient``.

    Args:
        width_coefficient: scales the number of filters.
        depth_coefficient: scales the number of blocks.
        default_size: the default input size.
        dropout_rate: dropout before the classifier.
        drop_connect_rate: the largest rate of the per-block stochastic depth dropout.
        depth_divisor: filter counts are rounded to multiples of this.
        activation: the activation of the conv blocks.
        blocks_args: the block specifications ("default": EfficientNet-B0's).
        model_name: the model's name (also names its ImageNet weight file).
        others: as ``EfficientNetB0``.
    """
    if blocks_args == "default":
        blocks_args = DEFAULT_BLOCKS_ARGS
    _common.check_weights_arg(weights, include_top, classes)
    img_input = _common.standard_input(input_tensor, input_shape, default_size, 32, include_top,
                                       weights)
    bn_axis = _common.channel_axis()

    def round_filters(filters, divisor=depth_divisor):
        filters *= width_coefficient
        new_filters = max(divisor, int(filters + divisor / 2) // divisor * divisor)
        if new_filters < 0.9 * filters:  # rounding down must not lose more than 10%
            new_filters += divisor
        return int(new_filters)

    def round_repeats(repeats):
        return int(math.ceil(depth_coefficient * repeats))

    x = Rescaling(1.0 / 255.0)(img_input)
    x = Normalization(axis=bn_axis)(x)
    if weights == "imagenet":
        # The original implementation divides by the variance, not by its square root: the
        # pretrained weights expect the extra factor 1 / sqrt(stddev) that Keras applies
        # here (its op layer "tf.math.multiply").
        scale = [1.0 / math.sqrt(s) for s in IMAGENET_STDDEV_RGB]
        if config.image_data_format() == "channels_first":
            scale = [[[s]] for s in scale]
        x = Rescaling(scale, name=config.unique_object_name("tf.math.multiply"))(x)
    x = ZeroPadding2D(padding=imagenet_utils.correct_pad(x, 3), name="stem_conv_pad")(x)
    x = Conv2D(round_filters(32), 3, strides=2, padding="valid", use_bias=False,
               kernel_initializer=CONV_KERNEL_INITIALIZER, name="stem_conv")(x)
    x = BatchNormalization(axis=bn_axis, name="stem_bn")(x)
    x = Activation(activation, name="stem_activation")(x)

    blocks_args = copy.deepcopy(blocks_args)
    b = 0
    blocks = float(sum(round_repeats(args["repeats"]) for args in blocks_args))
    for i, args in enumerate(blocks_args):
        if args["repeats"] <= 0:
            raise ValueError(f"Each block needs `repeats` > 0. Received: {args}")
        args["filters_in"] = round_filters(args["filters_in"])
        args["filters_out"] = round_filters(args["filters_out"])
        for j in range(round_repeats(args.pop("repeats"))):
            if j > 0:
                args["strides"] = 1
                args["filters_in"] = args["filters_out"]
            x = block(x, activation, drop_connect_rate * b / blocks,
                      name=f"block{i + 1}{chr(j + 97)}_", **args)
            b += 1

    x = Conv2D(round_filters(1280), 1, padding="same", use_bias=False,
               kernel_initializer=CONV_KERNEL_INITIALIZER, name="top_conv")(x)
    x = BatchNormalization(axis=bn_axis, name="top_bn")(x)
    x = Activation(activation, name="top_activation")(x)
    if include_top:
        x = GlobalAveragePooling2D(name="avg_pool")(x)
        if dropout_rate > 0:
            x = Dropout(dropout_rate, name="top_dropout")(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = Dense(classes, activation=classifier_activation,
                  kernel_initializer=DENSE_KERNEL_INITIALIZER, name="predictions")(x)
    else:
        x = _common.pooled(x, pooling, "avg_pool", "max_pool")
    model = _common.make_model(input_tensor, img_input, x, model_name)
    _common.load_weights(model, weights, model_name, include_top)
    return model


def block(inputs, activation="swish", drop_rate: float = 0.0, name: str = "",
          filters_in: int = 32, filters_out: int = 16, kernel_size: int = 3, strides: int = 1,
          expand_ratio: int = 1, se_ratio: float = 0.0, id_skip: bool = True):
    """The inverted residual (MBConv) block with squeeze-and-excitation."""
    bn_axis = _common.channel_axis()
    filters = filters_in * expand_ratio
    if expand_ratio != 1:
        x = Conv2D(filters, 1, padding="same", use_bias=False,
                   kernel_initializer=CONV_KERNEL_INITIALIZER, name=name + "expand_conv")(inputs)
        x = BatchNormalization(axis=bn_axis, name=name + "expand_bn")(x)
        x = Activation(activation, name=name + "expand_activation")(x)
    else:
        x = inputs
    if strides == 2:
        x = ZeroPadding2D(padding=imagenet_utils.correct_pad(x, kernel_size),
                          name=name + "dwconv_pad")(x)
        conv_pad = "valid"
    else:
        conv_pad = "same"
    x = DepthwiseConv2D(kernel_size, strides=strides, padding=conv_pad, use_bias=False,
                        depthwise_initializer=CONV_KERNEL_INITIALIZER, name=name + "dwconv")(x)
    x = BatchNormalization(axis=bn_axis, name=name + "bn")(x)
    x = Activation(activation, name=name + "activation")(x)
    if 0 < se_ratio <= 1:
        filters_se = max(1, int(filters_in * se_ratio))
        se = GlobalAveragePooling2D(name=name + "se_squeeze")(x)
        se_shape = (filters, 1, 1) if bn_axis == 1 else (1, 1, filters)
        se = Reshape(se_shape, name=name + "se_reshape")(se)
        se = Conv2D(filters_se, 1, padding="same", activation=activation,
                    kernel_initializer=CONV_KERNEL_INITIALIZER, name=name + "se_reduce")(se)
        se = Conv2D(filters, 1, padding="same", activation="sigmoid",
                    kernel_initializer=CONV_KERNEL_INITIALIZER, name=name + "se_expand")(se)
        x = multiply([x, se], name=name + "se_excite")
    x = Conv2D(filters_out, 1, padding="same", use_bias=False,
               kernel_initializer=CONV_KERNEL_INITIALIZER, name=name + "project_conv")(x)
    x = BatchNormalization(axis=bn_axis, name=name + "project_bn")(x)
    if id_skip and strides == 1 and filters_in == filters_out:
        if drop_rate > 0:
            x = Dropout(drop_rate, noise_shape=(None, 1, 1, 1), name=name + "drop")(x)
        x = add([x, inputs], name=name + "add")
    return x


_DOC = """Instantiates the {name} architecture ({params} parameters with the top).

    The default input size is {size}x{size}; inputs are [0, 255] pixels (the model
    rescales and normalises them itself).

    Args:
        include_top: whether to include the classifier (pooling, dropout, Dense).
        weights: None, "imagenet" (Keras's ImageNet weights) or the path of a weights file.
        input_tensor: optional Keras tensor to use as the image input.
        input_shape: optional shape tuple, only with ``include_top=False`` (otherwise
            ({size}, {size}, 3)); height and width at least 32.
        pooling: with ``include_top=False``: None (4D output), "avg" or "max".
        classes: number of classes, only with ``include_top=True`` and no ``weights``.
        classifier_activation: the top layer's activation; None or "softmax" with
            pretrained weights.
        **kwargs: passed on to ``EfficientNet`` (drop_connect_rate, depth_divisor,
            activation, blocks_args).

    Example:
        >>> {name}(weights=None, include_top=False, pooling="avg",
        ...        input_shape=(32, 32, 3)).output_shape
        (None, {channels})
    """


def _variant(name: str, width: float, depth: float, size: int, dropout: float,
             params: str, channels: int) -> Callable:
    def constructor(include_top: bool = True, weights: Optional[str] = "imagenet",
                    input_tensor=None, input_shape=None, pooling: Optional[str] = None,
                    classes: int = 1000, classifier_activation="softmax", **kwargs):
        return EfficientNet(width, depth, size, dropout, model_name=name.lower(),
                            include_top=include_top, weights=weights, input_tensor=input_tensor,
                            input_shape=input_shape, pooling=pooling, classes=classes,
                            classifier_activation=classifier_activation, **kwargs)
    constructor.__name__ = constructor.__qualname__ = name
    constructor.__doc__ = _DOC.format(name=name, params=params, size=size, channels=channels)
    return constructor


EfficientNetB0 = _variant("EfficientNetB0", 1.0, 1.0, 224, 0.2, "5,330,571", 1280)
EfficientNetB1 = _variant("EfficientNetB1", 1.0, 1.1, 240, 0.2, "7,856,239", 1280)
EfficientNetB2 = _variant("EfficientNetB2", 1.1, 1.2, 260, 0.3, "9,177,569", 1408)
EfficientNetB3 = _variant("EfficientNetB3", 1.2, 1.4, 300, 0.3, "12,320,535", 1536)
EfficientNetB4 = _variant("EfficientNetB4", 1.4, 1.8, 380, 0.4, "19,466,823", 1792)
EfficientNetB5 = _variant("EfficientNetB5", 1.6, 2.2, 456, 0.4, "30,562,527", 2048)
EfficientNetB6 = _variant("EfficientNetB6", 1.8, 2.6, 528, 0.5, "43,265,143", 2304)
EfficientNetB7 = _variant("EfficientNetB7", 2.0, 3.1, 600, 0.5, "66,658,687", 2560)


def preprocess_input(x, data_format: Optional[str] = None):
    """The identity: EfficientNet models rescale and normalise inside (kept for Keras's API)."""
    return x


def decode_predictions(preds, top: int = 5):
    """See ``imagenet_utils.decode_predictions``."""
    return imagenet_utils.decode_predictions(preds, top=top)
