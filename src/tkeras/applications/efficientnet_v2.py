"""EfficientNetV2 B0 - B3, S, M, L (``keras.applications.efficientnet_v2``): Tan & Le,
ICML 2021.

The models take [0, 255] pixels and preprocess inside (``include_preprocessing=True``), so
``preprocess_input`` is the identity.

Example:
    >>> from tkeras.applications.efficientnet_v2 import EfficientNetV2B0
    >>> EfficientNetV2B0(weights=None, include_top=False,
    ...                  input_shape=(32, 32, 3)).output_shape
    (None, 1, 1, 1280)
"""
from __future__ import annotations

import copy
import math
from typing import Callable, Dict, List, Optional

from ..layers.convolutional import Conv2D, DepthwiseConv2D
from ..layers.core import Activation, Dense, Dropout, Reshape
from ..layers.merge import add, multiply
from ..layers.normalization import BatchNormalization
from ..layers.pooling import GlobalAveragePooling2D
from ..layers.preprocessing import Normalization, Rescaling
from . import _common, imagenet_utils
from .efficientnet import CONV_KERNEL_INITIALIZER, DENSE_KERNEL_INITIALIZER


def _args(rows) -> List[Dict]:
    keys = ("kernel_size", "num_repeat", "input_filters", "output_filters", "expand_ratio",
            "se_ratio", "strides", "conv_type")
    return [dict(zip(keys, row)) for row in rows]


_B_ARGS = _args([(3, 1, 32, 16, 1, 0, 1, 1), (3, 2, 16, 32, 4, 0, 2, 1),
                 (3, 2, 32, 48, 4, 0, 2, 1), (3, 3, 48, 96, 4, 0.25, 2, 0),
                 (3, 5, 96, 112, 6, 0.25, 1, 0), (3, 8, 112, 192, 6, 0.25, 2, 0)])
DEFAULT_BLOCKS_ARGS = {
    "efficientnetv2-s": _args([(3, 2, 24, 24, 1, 0, 1, 1), (3, 4, 24, 48, 4, 0, 2, 1),
                               (3, 4, 48, 64, 4, 0, 2, 1), (3, 6, 64, 128, 4, 0.25, 2, 0),
                               (3, 9, 128, 160, 6, 0.25, 1, 0),
                               (3, 15, 160, 256, 6, 0.25, 2, 0)]),
    "efficientnetv2-m": _args([(3, 3, 24, 24, 1, 0, 1, 1), (3, 5, 24, 48, 4, 0, 2, 1),
                               (3, 5, 48, 80, 4, 0, 2, 1), (3, 7, 80, 160, 4, 0.25, 2, 0),
                               (3, 14, 160, 176, 6, 0.25, 1, 0),
                               (3, 18, 176, 304, 6, 0.25, 2, 0),
                               (3, 5, 304, 512, 6, 0.25, 1, 0)]),
    "efficientnetv2-l": _args([(3, 4, 32, 32, 1, 0, 1, 1), (3, 7, 32, 64, 4, 0, 2, 1),
                               (3, 7, 64, 96, 4, 0, 2, 1), (3, 10, 96, 192, 4, 0.25, 2, 0),
                               (3, 19, 192, 224, 6, 0.25, 1, 0),
                               (3, 25, 224, 384, 6, 0.25, 2, 0),
                               (3, 7, 384, 640, 6, 0.25, 1, 0)]),
    "efficientnetv2-b0": _B_ARGS, "efficientnetv2-b1": _B_ARGS,
    "efficientnetv2-b2": _B_ARGS, "efficientnetv2-b3": _B_ARGS,
}


def round_filters(filters: float, width_coefficient: float, min_depth: int,
                  depth_divisor: int) -> int:
    filters *= width_coefficient
    minimum_depth = min_depth or depth_divisor
    return int(max(minimum_depth, int(filters + depth_divisor / 2) // depth_divisor
                   * depth_divisor))


def round_repeats(repeats: int, depth_coefficient: float) -> int:
    return int(math.ceil(depth_coefficient * repeats))


def _squeeze_excite(x, input_filters: int, filters: int, se_ratio: float, activation,
                    name: str):
    filters_se = max(1, int(input_filters * se_ratio))
    se = GlobalAveragePooling2D(name=name + "se_squeeze")(x)
    se_shape = (filters, 1, 1) if _common.channel_axis() == 1 else (1, 1, filters)
    se = Reshape(se_shape, name=name + "se_reshape")(se)
    se = Conv2D(filters_se, 1, padding="same", activation=activation,
                kernel_initializer=CONV_KERNEL_INITIALIZER, name=name + "se_reduce")(se)
    se = Conv2D(filters, 1, padding="same", activation="sigmoid",
                kernel_initializer=CONV_KERNEL_INITIALIZER, name=name + "se_expand")(se)
    return multiply([x, se], name=name + "se_excite")


def _bn(bn_momentum: float, name: str):
    return BatchNormalization(axis=_common.channel_axis(), momentum=bn_momentum, name=name)


def _residual(x, inputs, strides: int, input_filters: int, output_filters: int,
              survival_probability: float, name: str):
    if strides == 1 and input_filters == output_filters:
        if survival_probability:
            x = Dropout(survival_probability, noise_shape=(None, 1, 1, 1), name=name + "drop")(x)
        x = add([x, inputs], name=name + "add")
    return x


def MBConvBlock(input_filters: int, output_filters: int, expand_ratio: int = 1,
                kernel_size: int = 3, strides: int = 1, se_ratio: float = 0.0,
                bn_momentum: float = 0.9, activation="swish",
                survival_probability: float = 0.8, name: str = "") -> Callable:
    """The inverted residual block (expand 1x1, depthwise, squeeze-excite, project 1x1)."""
    def apply(inputs):
        filters = input_filters * expand_ratio
        if expand_ratio != 1:
            x = Conv2D(filters=filters, kernel_size=1, strides=1,
                       kernel_initializer=CONV_KERNEL_INITIALIZER, padding="same",
                       use_bias=False, name=name + "expand_conv")(inputs)
            x = _bn(bn_momentum, name + "expand_bn")(x)
            x = Activation(activation, name=name + "expand_activation")(x)
        else:
            x = inputs
        x = DepthwiseConv2D(kernel_size=kernel_size, strides=strides,
                            depthwise_initializer=CONV_KERNEL_INITIALIZER, padding="same",
                            use_bias=False, name=name + "dwconv2")(x)
        x = _bn(bn_momentum, name + "bn")(x)
        x = Activation(activation, name=name + "activation")(x)
        if 0 < se_ratio <= 1:
            x = _squeeze_excite(x, input_filters, filters, se_ratio, activation, name)
        x = Conv2D(filters=output_filters, kernel_size=1, strides=1,
                   kernel_initializer=CONV_KERNEL_INITIALIZER, padding="same", use_bias=False,
                   name=name + "project_conv")(x)
        x = _bn(bn_momentum, name + "project_bn")(x)
        return _residual(x, inputs, strides, input_filters, output_filters,
                         survival_probability, name)
    return apply


def FusedMBConvBlock(input_filters: int, output_filters: int, expand_ratio: int = 1,
                     kernel_size: int = 3, strides: int = 1, se_ratio: float = 0.0,
                     bn_momentum: float = 0.9, activation="swish",
                     survival_probability: float = 0.8, name: str = "") -> Callable:
    """The fused block: one full conv replaces the expansion and the depthwise conv."""
    def apply(inputs):
        filters = input_filters * expand_ratio
        if expand_ratio != 1:
            x = Conv2D(filters, kernel_size=kernel_size, strides=strides,
                       kernel_initializer=CONV_KERNEL_INITIALIZER, padding="same",
                       use_bias=False, name=name + "expand_conv")(inputs)
            x = _bn(bn_momentum, name + "expand_bn")(x)
            x = Activation(activation=activation, name=name + "expand_activation")(x)
        else:
            x = inputs
        if 0 < se_ratio <= 1:
            x = _squeeze_excite(x, input_filters, filters, se_ratio, activation, name)
        x = Conv2D(output_filters, kernel_size=1 if expand_ratio != 1 else kernel_size,
                   strides=1 if expand_ratio != 1 else strides,
                   kernel_initializer=CONV_KERNEL_INITIALIZER, padding="same", use_bias=False,
                   name=name + "project_conv")(x)
        x = _bn(bn_momentum, name + "project_bn")(x)
        if expand_ratio == 1:
            x = Activation(activation=activation, name=name + "project_activation")(x)
        return _residual(x, inputs, strides, input_filters, output_filters,
                         survival_probability, name)
    return apply


def EfficientNetV2(width_coefficient: float, depth_coefficient: float, default_size: int,
                   dropout_rate: float = 0.2, drop_connect_rate: float = 0.2,
                   depth_divisor: int = 8, min_depth: int = 8, bn_momentum: float = 0.9,
                   activation="swish", blocks_args="default",
                   model_name: str = "efficientnetv2", include_top: bool = True,
                   weights: Optional[str] = "imagenet", input_tensor=None, input_shape=None,
                   pooling: Optional[str] = None, classes: int = 1000,
                   classifier_activation="softmax", include_preprocessing: bool = True):
    """An EfficientNetV2 (see EfficientNetV2B0 for the arguments users pass)."""
    if blocks_args == "default":
        blocks_args = DEFAULT_BLOCKS_ARGS[model_name]
    _common.check_weights_arg(weights, include_top, classes)
    input_shape = imagenet_utils.obtain_input_shape(
        input_shape, default_size=default_size, min_size=32,
        data_format=_data_format(), require_flatten=include_top, weights=weights)
    img_input = _common.image_input(input_tensor, input_shape)
    bn_axis = _common.channel_axis()
    x = img_input
    if include_preprocessing:
        num_channels = input_shape[bn_axis - 1]
        if model_name.split("-")[-1].startswith("b") and num_channels == 3:
            x = Rescaling(scale=1.0 / 255)(x)
            x = Normalization(mean=[0.485, 0.456, 0.406],
                              variance=[0.229 ** 2, 0.224 ** 2, 0.225 ** 2], axis=bn_axis)(x)
        else:
            x = Rescaling(scale=1.0 / 128.0, offset=-1)(x)

    def filters_of(n):
        return round_filters(n, width_coefficient, min_depth, depth_divisor)

    x = Conv2D(filters=filters_of(blocks_args[0]["input_filters"]), kernel_size=3, strides=2,
               kernel_initializer=CONV_KERNEL_INITIALIZER, padding="same", use_bias=False,
               name="stem_conv")(x)
    x = _bn(bn_momentum, "stem_bn")(x)
    x = Activation(activation, name="stem_activation")(x)

    blocks_args = copy.deepcopy(blocks_args)
    b = 0
    blocks = float(sum(args["num_repeat"] for args in blocks_args))
    for i, args in enumerate(blocks_args):
        args["input_filters"] = filters_of(args["input_filters"])
        args["output_filters"] = filters_of(args["output_filters"])
        block = {0: MBConvBlock, 1: FusedMBConvBlock}[args.pop("conv_type")]
        for j in range(round_repeats(args.pop("num_repeat"), depth_coefficient)):
            if j > 0:
                args["strides"] = 1
                args["input_filters"] = args["output_filters"]
            x = block(activation=activation, bn_momentum=bn_momentum,
                      survival_probability=drop_connect_rate * b / blocks,
                      name=f"block{i + 1}{chr(j + 97)}_", **args)(x)
            b += 1

    x = Conv2D(filters=filters_of(1280), kernel_size=1, strides=1,
               kernel_initializer=CONV_KERNEL_INITIALIZER, padding="same", use_bias=False,
               name="top_conv")(x)
    x = _bn(bn_momentum, "top_bn")(x)
    x = Activation(activation=activation, name="top_activation")(x)
    if include_top:
        x = GlobalAveragePooling2D(name="avg_pool")(x)
        if dropout_rate > 0:
            x = Dropout(dropout_rate, name="top_dropout")(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = Dense(classes, activation=classifier_activation,
                  kernel_initializer=DENSE_KERNEL_INITIALIZER, bias_initializer="zeros",
                  name="predictions")(x)
    else:
        x = _common.pooled(x, pooling, "avg_pool", "max_pool")
    model = _common.make_model(input_tensor, img_input, x, model_name)
    _common.load_weights(model, weights, model_name, include_top)
    return model


def _data_format() -> str:
    from ..backend import config
    return config.image_data_format()


_DOC = """Instantiates the {name} architecture ({params} parameters with the top).

    The default input size is {size}x{size}.

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
        include_preprocessing: whether the model rescales (and, for B0-B3, normalises)
            its [0, 255] inputs itself.

    Example:
        >>> {name}(weights=None, include_top=False, pooling="avg",
        ...        input_shape=(32, 32, 3)).output_shape
        (None, {channels})
    """


def _variant(name: str, key: str, width: float, depth: float, size: int, params: str,
             channels: int) -> Callable:
    def constructor(include_top: bool = True, weights: Optional[str] = "imagenet",
                    input_tensor=None, input_shape=None, pooling: Optional[str] = None,
                    classes: int = 1000, classifier_activation="softmax",
                    include_preprocessing: bool = True):
        return EfficientNetV2(width_coefficient=width, depth_coefficient=depth,
                              default_size=size, model_name=key, include_top=include_top,
                              weights=weights, input_tensor=input_tensor,
                              input_shape=input_shape, pooling=pooling, classes=classes,
                              classifier_activation=classifier_activation,
                              include_preprocessing=include_preprocessing)
    constructor.__name__ = constructor.__qualname__ = name
    constructor.__doc__ = _DOC.format(name=name, params=params, size=size, channels=channels)
    return constructor


EfficientNetV2B0 = _variant("EfficientNetV2B0", "efficientnetv2-b0", 1.0, 1.0, 224,
                            "7,200,312", 1280)
EfficientNetV2B1 = _variant("EfficientNetV2B1", "efficientnetv2-b1", 1.0, 1.1, 240,
                            "8,212,124", 1280)
EfficientNetV2B2 = _variant("EfficientNetV2B2", "efficientnetv2-b2", 1.1, 1.2, 260,
                            "10,178,374", 1408)
EfficientNetV2B3 = _variant("EfficientNetV2B3", "efficientnetv2-b3", 1.2, 1.4, 300,
                            "14,467,622", 1536)
EfficientNetV2S = _variant("EfficientNetV2S", "efficientnetv2-s", 1.0, 1.0, 384,
                           "21,612,360", 1280)
EfficientNetV2M = _variant("EfficientNetV2M", "efficientnetv2-m", 1.0, 1.0, 480,
                           "54,431,388", 1280)
EfficientNetV2L = _variant("EfficientNetV2L", "efficientnetv2-l", 1.0, 1.0, 480,
                           "119,027,848", 1280)


def preprocess_input(x, data_format: Optional[str] = None):
    """The identity: EfficientNetV2 models preprocess inside (kept for Keras's API)."""
    return x


def decode_predictions(preds, top: int = 5):
    """See ``imagenet_utils.decode_predictions``."""
    return imagenet_utils.decode_predictions(preds, top=top)
