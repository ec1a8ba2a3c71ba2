"""DenseNet121 / 169 / 201 (``keras.applications.densenet``): Huang et al., CVPR 2017.

Example:
    >>> from tkeras.applications.densenet import DenseNet121
    >>> DenseNet121(weights=None, include_top=False, input_shape=(32, 32, 3)).output_shape
    (None, 1, 1, 1024)
"""
from __future__ import annotations

from typing import Optional, Sequence

from ..layers.convolutional import Conv2D, ZeroPadding2D
from ..layers.core import Activation, Dense
from ..layers.merge import Concatenate
from ..layers.normalization import BatchNormalization
from ..layers.pooling import AveragePooling2D, GlobalAveragePooling2D, MaxPooling2D
from . import _common, imagenet_utils

_EPS = 1.001e-5
_NAMES = {(6, 12, 24, 16): "densenet121", (6, 12, 32, 32): "densenet169",
          (6, 12, 48, 32): "densenet201"}


def dense_block(x, blocks: int, name: str):
    """``blocks`` conv blocks, each concatenating 32 new channels."""
    for i in range(blocks):
        x = conv_block(x, 32, name=name + "_block" + str(i + 1))
    return x


def transition_block(x, reduction: float, name: str):
    """BN + ReLU + 1x1 conv (channels * reduction) + 2x2 average pooling."""
    axis = _common.channel_axis()
    x = BatchNormalization(axis=axis, epsilon=_EPS, name=name + "_bn")(x)
    x = Activation("relu", name=name + "_relu")(x)
    x = Conv2D(int(x.shape[axis] * reduction), 1, use_bias=False, name=name + "_conv")(x)
    return AveragePooling2D(2, strides=2, name=name + "_pool")(x)


def conv_block(x, growth_rate: int, name: str):
    """BN-ReLU-1x1 conv, BN-ReLU-3x3 conv, concatenated to the input."""
    axis = _common.channel_axis()
    x1 = BatchNormalization(axis=axis, epsilon=_EPS, name=name + "_0_bn")(x)
    x1 = Activation("relu", name=name + "_0_relu")(x1)
    x1 = Conv2D(4 * growth_rate, 1, use_bias=False, name=name + "_1_conv")(x1)
    x1 = BatchNormalization(axis=axis, epsilon=_EPS, name=name + "_1_bn")(x1)
    x1 = Activation("relu", name=name + "_1_relu")(x1)
    x1 = Conv2D(growth_rate, 3, padding="same", use_bias=False, name=name + "_2_conv")(x1)
    return Concatenate(axis=axis, name=name + "_concat")([x, x1])


def DenseNet(blocks: Sequence[int], include_top: bool = True,
             weights: Optional[str] = "imagenet", input_tensor=None, input_shape=None,
             pooling: Optional[str] = None, classes: int = 1000,
             classifier_activation="softmax"):
    """A DenseNet with ``blocks`` conv blocks in its four dense blocks (see DenseNet121)."""
    _common.check_weights_arg(weights, include_top, classes)
    img_input = _common.standard_input(input_tensor, input_shape, 224, 32, include_top, weights)
    axis = _common.channel_axis()
    x = ZeroPadding2D(padding=((3, 3), (3, 3)))(img_input)
    x = Conv2D(64, 7, strides=2, use_bias=False, name="conv1/conv")(x)
    x = BatchNormalization(axis=axis, epsilon=_EPS, name="conv1/bn")(x)
    x = Activation("relu", name="conv1/relu")(x)
    x = ZeroPadding2D(padding=((1, 1), (1, 1)))(x)
    x = MaxPooling2D(3, strides=2, name="pool1")(x)
    for stage, n in enumerate(blocks, 2):
        x = dense_block(x, n, name=f"conv{stage}")
        if stage < 5:
            x = transition_block(x, 0.5, name=f"pool{stage}")
    x = BatchNormalization(axis=axis, epsilon=_EPS, name="bn")(x)
    x = Activation("relu", name="relu")(x)
    if include_top:
        x = GlobalAveragePooling2D(name="avg_pool")(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = _common.pooled(x, pooling, "avg_pool", "max_pool")
    name = _NAMES.get(tuple(blocks), "densenet")
    model = _common.make_model(input_tensor, img_input, x, name)
    _common.load_weights(model, weights, name if name != "densenet" else None, include_top)
    return model


_DOC = """Instantiates the {name} architecture ({params} parameters with the top).

    Args:
        include_top: whether to include the classifier (global average pooling + Dense).
        weights: None, "imagenet" (Keras's ImageNet weights) or the path of a weights file.
        input_tensor: optional Keras tensor to use as the image input.
        input_shape: optional shape tuple, only with ``include_top=False`` (otherwise
            (224, 224, 3)); 3 channels, height and width at least 32.
        pooling: with ``include_top=False``: None (4D output), "avg" or "max".
        classes: number of classes, only with ``include_top=True`` and no ``weights``.
        classifier_activation: the top layer's activation; None or "softmax" with
            pretrained weights.

    Example:
        >>> {name}(weights=None, include_top=False, pooling="avg",
        ...        input_shape=(32, 32, 3)).output_shape
        (None, {channels})
    """


def DenseNet121(include_top: bool = True, weights: Optional[str] = "imagenet",
                input_tensor=None, input_shape=None, pooling: Optional[str] = None,
                classes: int = 1000, classifier_activation="softmax"):
    return DenseNet([6, 12, 24, 16], include_top, weights, input_tensor, input_shape, pooling,
                    classes, classifier_activation)


def DenseNet169(include_top: bool = True, weights: Optional[str] = "imagenet",
                input_tensor=None, input_shape=None, pooling: Optional[str] = None,
                classes: int = 1000, classifier_activation="softmax"):
    return DenseNet([6, 12, 32, 32], include_top, weights, input_tensor, input_shape, pooling,
                    classes, classifier_activation)


def DenseNet201(include_top: bool = True, weights: Optional[str] = "imagenet",
                input_tensor=None, input_shape=None, pooling: Optional[str] = None,
                classes: int = 1000, classifier_activation="softmax"):
    return DenseNet([6, 12, 48, 32], include_top, weights, input_tensor, input_shape, pooling,
                    classes, classifier_activation)


DenseNet121.__doc__ = _DOC.format(name="DenseNet121", params="8,062,504", channels=1024)
DenseNet169.__doc__ = _DOC.format(name="DenseNet169", params="14,307,880", channels=1664)
DenseNet201.__doc__ = _DOC.format(name="DenseNet201", params="20,242,984", channels=1920)


def preprocess_input(x, data_format: Optional[str] = None):
    """"torch"-mode preprocessing: scales to [0, 1], then ImageNet mean / std per channel."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="torch")


def decode_predictions(preds, top: int = 5):
    """See ``imagenet_utils.decode_predictions``."""
    return imagenet_utils.decode_predictions(preds, top=top)
