"""MobileNetV3Small / MobileNetV3Large (``keras.applications.mobilenet_v3``): Howard et al.,
ICCV 2019.

The models take [0, 255] pixels and rescale inside (``include_preprocessing=True``), so
``preprocess_input`` is the identity.

Example:
    >>> from tkeras.applications.mobilenet_v3 import MobileNetV3Small
    >>> MobileNetV3Small(weights=None, include_top=False,
    ...                  input_shape=(32, 32, 3)).output_shape
    (None, 1, 1, 576)
"""
from __future__ import annotations

import logging
from typing import Callable, Optional

from ..backend import config
from ..engine.keras_tensor import KerasTensor
from ..layers.advanced_activations import ReLU
from ..layers.convolutional import Conv2D, DepthwiseConv2D, ZeroPadding2D
from ..layers.core import Activation, Dropout, Flatten
from ..layers.merge import Add, Multiply
from ..layers.normalization import BatchNormalization
from ..layers.pooling import GlobalAveragePooling2D
from ..layers.preprocessing import Rescaling
from . import _common, imagenet_utils
from .mobilenet_v2 import _check_input_tensor, _spatial


def relu(x):
    return ReLU()(x)


def hard_sigmoid(x):
    """``relu6(x + 3) / 6``; the two constant ops are the layers Keras records for them
    ("tf.__operators__.add", "tf.math.multiply")."""
    x = Rescaling(1.0, offset=3.0, name=config.unique_object_name("tf.__operators__.add"))(x)
    x = ReLU(6.0)(x)
    return Rescaling(1.0 / 6.0, name=config.unique_object_name("tf.math.multiply"))(x)


def hard_swish(x):
    return Multiply()([x, hard_sigmoid(x)])


def _depth(v: float, divisor: int = 8, min_value: Optional[int] = None) -> int:
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:  # rounding down must not lose more than 10%
        new_v += divisor
    return new_v


def _bn(name: str):
    axis = 1 if config.image_data_format() == "channels_first" else -1
    return BatchNormalization(axis=axis, epsilon=1e-3, momentum=0.999, name=name)


def MobileNetV3(stack_fn: Callable, last_point_ch: int, input_shape=None, alpha: float = 1.0,
                model_type: str = "large", minimalistic: bool = False,
                include_top: bool = True, weights: Optional[str] = "imagenet",
                input_tensor=None, classes: int = 1000, pooling: Optional[str] = None,
                dropout_rate: float = 0.2, classifier_activation="softmax",
                include_preprocessing: bool = True):
    """The MobileNetV3 skeleton around ``stack_fn`` (see MobileNetV3Small / Large)."""
    _common.check_weights_arg(weights, include_top, classes)
    _check_input_tensor(input_shape, input_tensor)
    if input_shape is None and isinstance(input_tensor, KerasTensor):
        rows, cols = _spatial(input_tensor.shape[1:])
        input_shape = (3, cols, rows) if config.image_data_format() == "channels_first" \
            else (cols, rows, 3)
    if input_shape is None:
        input_shape = (3, None, None) if config.image_data_format() == "channels_first" \
            else (None, None, 3)
    rows, cols = _spatial(input_shape)
    if rows and cols and (rows < 32 or cols < 32):
        raise ValueError(f"Input size must be at least 32x32; Received `input_shape={input_shape}`")
    if weights == "imagenet":
        if (not minimalistic and alpha not in (0.75, 1.0)) or (minimalistic and alpha != 1.0):
            raise ValueError("If imagenet weights are being loaded, alpha can be one of `0.75`, "
                             "`1.0` for non minimalistic or `1.0` for minimalistic only.")
        if rows != cols or rows != 224:
            logging.getLogger("tkeras").warning(
                "`input_shape` is undefined or non-square, or `rows` is not 224. Weights for "
                "input shape (224, 224) will be loaded as the default.")
    img_input = _common.image_input(input_tensor, input_shape)
    axis = 1 if config.image_data_format() == "channels_first" else -1
    if minimalistic:
        kernel, activation, se_ratio = 3, relu, None
    else:
        kernel, activation, se_ratio = 5, hard_swish, 0.25

    x = img_input
    if include_preprocessing:
        x = Rescaling(scale=1.0 / 127.5, offset=-1.0)(x)
    x = Conv2D(16, kernel_size=3, strides=(2, 2), padding="same", use_bias=False,
               name="Conv")(x)
    x = _bn("Conv/BatchNorm")(x)
    x = activation(x)
    x = stack_fn(x, kernel, activation, se_ratio)
    last_conv_ch = _depth(x.shape[axis] * 6)
    if alpha > 1.0:  # the head keeps its width unless the model is widened
        last_point_ch = _depth(last_point_ch * alpha)
    x = Conv2D(last_conv_ch, kernel_size=1, padding="same", use_bias=False, name="Conv_1")(x)
    x = _bn("Conv_1/BatchNorm")(x)
    x = activation(x)
    if include_top:
        x = GlobalAveragePooling2D(keepdims=True)(x)
        x = Conv2D(last_point_ch, kernel_size=1, padding="same", use_bias=True, name="Conv_2")(x)
        x = activation(x)
        if dropout_rate > 0:
            x = Dropout(dropout_rate)(x)
        x = Conv2D(classes, kernel_size=1, padding="same", name="Logits")(x)
        x = Flatten()(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = Activation(activation=classifier_activation, name="Predictions")(x)
    else:
        x = _common.pooled(x, pooling, "avg_pool", "max_pool")
    model = _common.make_model(input_tensor, img_input, x, "MobilenetV3" + model_type)
    key = "mobilenet_v3_{}{}_224_{}_float".format(
        model_type, "_minimalistic" if minimalistic else "", str(alpha))
    _common.load_weights(model, weights, key, include_top)
    return model


def _se_block(inputs, filters: int, se_ratio: float, prefix: str):
    x = GlobalAveragePooling2D(keepdims=True, name=prefix + "squeeze_excite/AvgPool")(inputs)
    x = Conv2D(_depth(filters * se_ratio), kernel_size=1, padding="same",
               name=prefix + "squeeze_excite/Conv")(x)
    x = ReLU(name=prefix + "squeeze_excite/Relu")(x)
    x = Conv2D(filters, kernel_size=1, padding="same", name=prefix + "squeeze_excite/Conv_1")(x)
    x = hard_sigmoid(x)
    return Multiply(name=prefix + "squeeze_excite/Mul")([inputs, x])


def _inverted_res_block(x, expansion: float, filters: int, kernel_size: int, stride: int,
                        se_ratio: Optional[float], activation: Callable, block_id: int):
    axis = 1 if config.image_data_format() == "channels_first" else -1
    shortcut = x
    prefix = "expanded_conv/"
    infilters = x.shape[axis]
    if block_id:
        prefix = f"expanded_conv_{block_id}/"
        x = Conv2D(_depth(infilters * expansion), kernel_size=1, padding="same", use_bias=False,
                   name=prefix + "expand")(x)
        x = _bn(prefix + "expand/BatchNorm")(x)
        x = activation(x)
    if stride == 2:
        x = ZeroPadding2D(padding=imagenet_utils.correct_pad(x, kernel_size),
                          name=prefix + "depthwise/pad")(x)
    x = DepthwiseConv2D(kernel_size, strides=stride, padding="same" if stride == 1 else "valid",
                        use_bias=False, name=prefix + "depthwise")(x)
    x = _bn(prefix + "depthwise/BatchNorm")(x)
    x = activation(x)
    if se_ratio:
        x = _se_block(x, _depth(infilters * expansion), se_ratio, prefix)
    x = Conv2D(filters, kernel_size=1, padding="same", use_bias=False, name=prefix + "project")(x)
    x = _bn(prefix + "project/BatchNorm")(x)
    if stride == 1 and infilters == filters:
        x = Add(name=prefix + "Add")([shortcut, x])
    return x


_SMALL = [(1, 16, 3, 2, "se", "relu"), (72.0 / 16, 24, 3, 2, None, "relu"),
          (88.0 / 24, 24, 3, 1, None, "relu"), (4, 40, "k", 2, "se", "act"),
          (6, 40, "k", 1, "se", "act"), (6, 40, "k", 1, "se", "act"),
          (3, 48, "k", 1, "se", "act"), (3, 48, "k", 1, "se", "act"),
          (6, 96, "k", 2, "se", "act"), (6, 96, "k", 1, "se", "act"),
          (6, 96, "k", 1, "se", "act")]
_LARGE = [(1, 16, 3, 1, None, "relu"), (4, 24, 3, 2, None, "relu"), (3, 24, 3, 1, None, "relu"),
          (3, 40, "k", 2, "se", "relu"), (3, 40, "k", 1, "se", "relu"),
          (3, 40, "k", 1, "se", "relu"), (6, 80, 3, 2, None, "act"),
          (2.5, 80, 3, 1, None, "act"), (2.3, 80, 3, 1, None, "act"),
          (2.3, 80, 3, 1, None, "act"), (6, 112, 3, 1, "se", "act"),
          (6, 112, 3, 1, "se", "act"), (6, 160, "k", 2, "se", "act"),
          (6, 160, "k", 1, "se", "act"), (6, 160, "k", 1, "se", "act")]


def _stack(plan, alpha: float) -> Callable:
    """The inverted residual blocks of ``plan``: "k" is the model's kernel size, "se" its
    squeeze-excite ratio, "act" its activation (all three depend on ``minimalistic``)."""
    def stack_fn(x, kernel, activation, se_ratio):
        for block_id, (expansion, filters, k, stride, se, act) in enumerate(plan):
            x = _inverted_res_block(x, expansion, _depth(filters * alpha),
                                    kernel if k == "k" else k, stride,
                                    se_ratio if se else None,
                                    activation if act == "act" else relu, block_id)
        return x
    return stack_fn


_DOC = """Instantiates the {name} architecture.

    Args:
        input_shape: optional shape tuple (default (224, 224, 3) channels_last, None sizes
            without the top); at least 32x32.
        alpha: the width multiplier (0.75 or 1.0 for the ImageNet weights; 1.0 when
            minimalistic).
        minimalistic: the variant without squeeze-excite, hard-swish and 5x5 kernels.
        include_top: whether to include the classifier (pooling, 1x1 convs).
        weights: None, "imagenet" (Keras's ImageNet weights) or the path of a weights file.
        input_tensor: optional Keras tensor to use as the image input.
        classes: number of classes, only with ``include_top=True`` and no ``weights``.
        pooling: with ``include_top=False``: None (4D output), "avg" or "max".
        dropout_rate: dropout before the classifier.
        classifier_activation: the top layer's activation; None or "softmax" with
            pretrained weights.
        include_preprocessing: whether the model rescales [0, 255] inputs to [-1, 1].

    Example:
        >>> {name}(weights=None, include_top=False, pooling="avg",
        ...        input_shape=(32, 32, 3)).output_shape
        (None, {channels})
    """


def MobileNetV3Small(input_shape=None, alpha: float = 1.0, minimalistic: bool = False,
                     include_top: bool = True, weights: Optional[str] = "imagenet",
                     input_tensor=None, classes: int = 1000, pooling: Optional[str] = None,
                     dropout_rate: float = 0.2, classifier_activation="softmax",
                     include_preprocessing: bool = True):
    return MobileNetV3(_stack(_SMALL, alpha), 1024, input_shape, alpha, "small", minimalistic,
                       include_top, weights, input_tensor, classes, pooling, dropout_rate,
                       classifier_activation, include_preprocessing)


def MobileNetV3Large(input_shape=None, alpha: float = 1.0, minimalistic: bool = False,
                     include_top: bool = True, weights: Optional[str] = "imagenet",
                     input_tensor=None, classes: int = 1000, pooling: Optional[str] = None,
                     dropout_rate: float = 0.2, classifier_activation="softmax",
                     include_preprocessing: bool = True):
    return MobileNetV3(_stack(_LARGE, alpha), 1280, input_shape, alpha, "large", minimalistic,
                       include_top, weights, input_tensor, classes, pooling, dropout_rate,
                       classifier_activation, include_preprocessing)


MobileNetV3Small.__doc__ = _DOC.format(name="MobileNetV3Small", channels=576)
MobileNetV3Large.__doc__ = _DOC.format(name="MobileNetV3Large", channels=960)


def preprocess_input(x, data_format: Optional[str] = None):
    """The identity: MobileNetV3 models rescale inside (kept for Keras's API)."""
    return x


def decode_predictions(preds, top: int = 5):
    """See ``imagenet_utils.decode_predictions``."""
    return imagenet_utils.decode_predictions(preds, top=top)
