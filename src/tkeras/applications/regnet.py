"""RegNetX / RegNetY 002 ... 320 (``keras.applications.regnet``): Radosavovic et al.,
CVPR 2020.

The models take [0, 255] pixels and rescale inside (``include_preprocessing=True``), so
``preprocess_input`` is the identity. As in tf-keras, the classifier of these models
outputs logits: ``classifier_activation`` is only checked against the weights.

Example:
    >>> from tkeras.applications.regnet import RegNetX002
    >>> RegNetX002(weights=None, include_top=False, input_shape=(32, 32, 3)).output_shape
    (None, 1, 1, 368)
"""
from __future__ import annotations

from typing import Callable, Optional, Sequence

from ..backend import config
from ..layers.advanced_activations import ReLU
from ..layers.convolutional import Conv2D
from ..layers.core import Dense
from ..layers.merge import Add, Multiply
from ..layers.normalization import BatchNormalization
from ..layers.pooling import GlobalAveragePooling2D
from ..layers.preprocessing import Rescaling
from . import _common, imagenet_utils

# name: (depths, widths, group_width, block_type); every default size is 224.
MODEL_CONFIGS = {
    "x002": ([1, 1, 4, 7], [24, 56, 152, 368], 8, "X"),
    "x004": ([1, 2, 7, 12], [32, 64, 160, 384], 16, "X"),
    "x006": ([1, 3, 5, 7], [48, 96, 240, 528], 24, "X"),
    "x008": ([1, 3, 7, 5], [64, 128, 288, 672], 16, "X"),
    "x016": ([2, 4, 10, 2], [72, 168, 408, 912], 24, "X"),
    "x032": ([2, 6, 15, 2], [96, 192, 432, 1008], 48, "X"),
    "x040": ([2, 5, 14, 2], [80, 240, 560, 1360], 40, "X"),
    "x064": ([2, 4, 10, 1], [168, 392, 784, 1624], 56, "X"),
    "x080": ([2, 5, 15, 1], [80, 240, 720, 1920], 120, "X"),
    "x120": ([2, 5, 11, 1], [224, 448, 896, 2240], 112, "X"),
    "x160": ([2, 6, 13, 1], [256, 512, 896, 2048], 128, "X"),
    "x320": ([2, 7, 13, 1], [336, 672, 1344, 2520], 168, "X"),
    "y002": ([1, 1, 4, 7], [24, 56, 152, 368], 8, "Y"),
    "y004": ([1, 3, 6, 6], [48, 104, 208, 440], 8, "Y"),
    "y006": ([1, 3, 7, 4], [48, 112, 256, 608], 16, "Y"),
    "y008": ([1, 3, 8, 2], [64, 128, 320, 768], 16, "Y"),
    "y016": ([2, 6, 17, 2], [48, 120, 336, 888], 24, "Y"),
    "y032": ([2, 5, 13, 1], [72, 216, 576, 1512], 24, "Y"),
    "y040": ([2, 6, 12, 2], [128, 192, 512, 1088], 64, "Y"),
    "y064": ([2, 7, 14, 2], [144, 288, 576, 1296], 72, "Y"),
    "y080": ([2, 4, 10, 1], [168, 448, 896, 2016], 56, "Y"),
    "y120": ([2, 5, 11, 1], [224, 448, 896, 2240], 112, "Y"),
    "y160": ([2, 4, 11, 1], [224, 448, 1232, 3024], 112, "Y"),
    "y320": ([2, 5, 12, 1], [232, 696, 1392, 3712], 232, "Y"),
}


def _bn(name: str):
    return BatchNormalization(momentum=0.9, epsilon=1e-5, name=name)


def _conv(filters: int, kernel, name: str, **kwargs):
    return Conv2D(filters, kernel, use_bias=False, kernel_initializer="he_normal", name=name,
                  **kwargs)


def _op_name(op: str) -> str:
    """The name Keras gives the op layer a tensor expression records ("tf.math.multiply")."""
    return config.unique_object_name(op)


def Stem(name: str) -> Callable:
    def apply(x):
        x = _conv(32, (3, 3), name + "_stem_conv", strides=2, padding="same")(x)
        x = _bn(name + "_stem_bn")(x)
        return ReLU(name=name + "_stem_relu")(x)
    return apply


def SqueezeAndExciteBlock(filters_in: int, se_filters: int, name: str) -> Callable:
    def apply(inputs):
        x = GlobalAveragePooling2D(name=name + "_squeeze_and_excite_gap", keepdims=True)(inputs)
        x = Conv2D(se_filters, (1, 1), activation="relu", kernel_initializer="he_normal",
                   name=name + "_squeeze_and_excite_squeeze")(x)
        x = Conv2D(filters_in, (1, 1), activation="sigmoid", kernel_initializer="he_normal",
                   name=name + "_squeeze_and_excite_excite")(x)
        return Multiply(name=_op_name("tf.math.multiply"))([x, inputs])
    return apply


def _block(filters_in: int, filters_out: int, group_width: int, stride: int, name: str,
           se_ratio: Optional[float]) -> Callable:
    """XBlock (``se_ratio`` None) or YBlock (with squeeze-and-excite)."""
    def apply(inputs):
        if filters_in != filters_out and stride == 1:
            raise ValueError(f"Input filters({filters_in}) and output filters({filters_out}) "
                             f"are not equal for stride {stride}. Input and output filters "
                             f"must be equal for stride={stride}.")
        groups = filters_out // group_width or 1  # Keras's Conv2D takes groups=0 as 1
        if stride != 1:
            skip = _conv(filters_out, (1, 1), name + "_skip_1x1", strides=stride)(inputs)
            skip = _bn(name + "_skip_bn")(skip)
        else:
            skip = inputs
        x = _conv(filters_out, (1, 1), name + "_conv_1x1_1")(inputs)
        x = _bn(name + "_conv_1x1_1_bn")(x)
        x = ReLU(name=name + "_conv_1x1_1_relu")(x)
        x = _conv(filters_out, (3, 3), name + "_conv_3x3", strides=stride, groups=groups,
                  padding="same")(x)
        x = _bn(name + "_conv_3x3_bn")(x)
        x = ReLU(name=name + "_conv_3x3_relu")(x)
        if se_ratio is not None:
            x = SqueezeAndExciteBlock(filters_out, int(filters_in * se_ratio), name=name)(x)
        x = _conv(filters_out, (1, 1), name + "_conv_1x1_2")(x)
        x = _bn(name + "_conv_1x1_2_bn")(x)
        x = Add(name=_op_name("tf.__operators__.add"))([x, skip])
        return ReLU(name=name + "_exit_relu")(x)
    return apply


def XBlock(filters_in: int, filters_out: int, group_width: int, stride: int = 1,
           name: str = "") -> Callable:
    return _block(filters_in, filters_out, group_width, stride, name, None)


def YBlock(filters_in: int, filters_out: int, group_width: int, stride: int = 1,
           squeeze_excite_ratio: float = 0.25, name: str = "") -> Callable:
    return _block(filters_in, filters_out, group_width, stride, name, squeeze_excite_ratio)


def Stage(block_type: str, depth: int, group_width: int, filters_in: int, filters_out: int,
          name: str) -> Callable:
    if block_type not in ("X", "Y"):
        raise NotImplementedError(f"Block type `{block_type}` not recognized. block_type must "
                                  "be one of (`X`, `Y`).")
    block = XBlock if block_type == "X" else YBlock

    def apply(x):
        x = block(filters_in, filters_out, group_width, stride=2,
                  name=f"{name}_{block_type}Block_0")(x)
        for i in range(1, depth):
            x = block(filters_out, filters_out, group_width,
                      name=f"{name}_{block_type}Block_{i}")(x)
        return x
    return apply


def RegNet(depths: Sequence[int], widths: Sequence[int], group_width: int, block_type: str,
           default_size: int, model_name: str = "regnet", include_preprocessing: bool = True,
           include_top: bool = True, weights: Optional[str] = "imagenet", input_tensor=None,
           input_shape=None, pooling: Optional[str] = None, classes: int = 1000,
           classifier_activation="softmax"):
    """A RegNet with ``depths`` blocks of ``widths`` channels per stage."""
    _common.check_weights_arg(weights, include_top, classes)
    img_input = _common.standard_input(input_tensor, input_shape, default_size, 32,
                                       include_top, weights)
    inputs = _common.get_source_inputs(input_tensor)[0] if input_tensor is not None \
        else img_input
    x = inputs
    if include_preprocessing:
        x = Rescaling(scale=1.0 / 255.0, name=model_name + "_prestem_rescaling")(x)
    x = Stem(name=model_name)(x)
    in_channels = 32
    for num_stage in range(4):
        x = Stage(block_type, depths[num_stage], group_width, in_channels, widths[num_stage],
                  name=model_name + "_Stage_" + str(num_stage))(x)
        in_channels = widths[num_stage]
    if include_top:
        head = str(config.get_uid("head"))
        x = GlobalAveragePooling2D(name=head + "_head_gap")(x)
        x = Dense(classes, name=head + "head_dense")(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
    else:
        x = _common.pooled(x, pooling)
    from ..engine.training import Model
    model = Model(inputs=inputs, outputs=x, name=model_name)
    _common.load_weights(model, weights, model_name, include_top)
    return model


_DOC = """Instantiates the {name} architecture.

    Args:
        model_name: the model's name (also names its ImageNet weight file).
        include_top: whether to include the classifier (pooling + Dense; logits).
        include_preprocessing: whether the model rescales [0, 255] inputs itself.
        weights: None, "imagenet" (Keras's ImageNet weights) or the path of a weights file.
        input_tensor: optional Keras tensor to use as the image input.
        input_shape: optional shape tuple, only with ``include_top=False`` (otherwise
            (224, 224, 3)); height and width at least 32.
        pooling: with ``include_top=False``: None (4D output), "avg" or "max".
        classes: number of classes, only with ``include_top=True`` and no ``weights``.
        classifier_activation: checked as Keras checks it (None or "softmax" with
            pretrained weights); the classifier outputs logits, as in tf-keras.

    Example:
        >>> {name}(weights=None, include_top=False, pooling="avg",
        ...        input_shape=(32, 32, 3)).output_shape
        (None, {channels})
    """


def _variant(key: str) -> Callable:
    depths, widths, group_width, block_type = MODEL_CONFIGS[key]
    name = "RegNet" + key.upper()

    def constructor(model_name: str = "regnet" + key, include_top: bool = True,
                    include_preprocessing: bool = True, weights: Optional[str] = "imagenet",
                    input_tensor=None, input_shape=None, pooling: Optional[str] = None,
                    classes: int = 1000, classifier_activation="softmax"):
        return RegNet(depths, widths, group_width, block_type, 224, model_name=model_name,
                      include_top=include_top, include_preprocessing=include_preprocessing,
                      weights=weights, input_tensor=input_tensor, input_shape=input_shape,
                      pooling=pooling, classes=classes,
                      classifier_activation=classifier_activation)
    constructor.__name__ = constructor.__qualname__ = name
    constructor.__doc__ = _DOC.format(name=name, channels=widths[-1])
    return constructor


RegNetX002, RegNetX004, RegNetX006, RegNetX008 = map(_variant, ("x002", "x004", "x006", "x008"))
RegNetX016, RegNetX032, RegNetX040, RegNetX064 = map(_variant, ("x016", "x032", "x040", "x064"))
RegNetX080, RegNetX120, RegNetX160, RegNetX320 = map(_variant, ("x080", "x120", "x160", "x320"))
RegNetY002, RegNetY004, RegNetY006, RegNetY008 = map(_variant, ("y002", "y004", "y006", "y008"))
RegNetY016, RegNetY032, RegNetY040, RegNetY064 = map(_variant, ("y016", "y032", "y040", "y064"))
RegNetY080, RegNetY120, RegNetY160, RegNetY320 = map(_variant, ("y080", "y120", "y160", "y320"))


def preprocess_input(x, data_format: Optional[str] = None):
    """The identity: RegNet models rescale inside (kept for Keras's API)."""
    return x


def decode_predictions(preds, top: int = 5):
    """See ``imagenet_utils.decode_predictions``."""
    return imagenet_utils.decode_predictions(preds, top=top)
