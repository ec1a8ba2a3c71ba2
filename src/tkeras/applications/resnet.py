"""ResNet50 / 101 / 152 (``keras.applications.resnet``) and the blocks ResNetV2 shares.

He et al., "Deep Residual Learning for Image Recognition" (CVPR 2015); the V2 blocks follow
"Identity Mappings in Deep Residual Networks" (ECCV 2016).

Example:
    >>> from tkeras.applications.resnet import ResNet50
    >>> ResNet50(weights=None, include_top=False, input_shape=(32, 32, 3)).output_shape
    (None, 1, 1, 2048)
"""
from __future__ import annotations

from typing import Callable, Optional

from ..layers.convolutional import Conv2D, ZeroPadding2D
from ..layers.core import Activation, Dense
from ..layers.merge import Add
from ..layers.normalization import BatchNormalization
from ..layers.pooling import GlobalAveragePooling2D, MaxPooling2D
from . import _common, imagenet_utils

_EPS = 1.001e-5


def _bn(name: str):
    return BatchNormalization(axis=_common.channel_axis(), epsilon=_EPS, name=name)


def ResNet(stack_fn: Callable, preact: bool, use_bias: bool, model_name: str = "resnet",
           include_top: bool = True, weights: Optional[str] = "imagenet", input_tensor=None,
           input_shape=None, pooling: Optional[str] = None, classes: int = 1000,
           classifier_activation="softmax"):
    """The ResNet / ResNetV2 skeleton around ``stack_fn`` (the residual stages).

    Args:
        stack_fn: ``x -> x``, the stacked residual blocks.
        preact: True for ResNetV2 (pre-activation: BN + ReLU after the stages).
        use_bias: whether the stem convolution has a bias.
        model_name: the model's name (also names its ImageNet weight file).
        others: as ``ResNet50``.
    """
    _common.check_weights_arg(weights, include_top, classes)
    img_input = _common.standard_input(input_tensor, input_shape, 224, 32, include_top, weights)
    x = ZeroPadding2D(padding=((3, 3), (3, 3)), name="conv1_pad")(img_input)
    x = Conv2D(64, 7, strides=2, use_bias=use_bias, name="conv1_conv")(x)
    if not preact:
        x = _bn("conv1_bn")(x)
        x = Activation("relu", name="conv1_relu")(x)
    x = ZeroPadding2D(padding=((1, 1), (1, 1)), name="pool1_pad")(x)
    x = MaxPooling2D(3, strides=2, name="pool1_pool")(x)
    x = stack_fn(x)
    if preact:
        x = _bn("post_bn")(x)
        x = Activation("relu", name="post_relu")(x)
    if include_top:
        x = GlobalAveragePooling2D(name="avg_pool")(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = _common.pooled(x, pooling, "avg_pool", "max_pool")
    model = _common.make_model(input_tensor, img_input, x, model_name)
    _common.load_weights(model, weights, model_name, include_top)
    return model


def block1(x, filters: int, kernel_size: int = 3, stride: int = 1, conv_shortcut: bool = True,
           name: str = ""):
    """The bottleneck residual block of ResNet (v1)."""
    if conv_shortcut:
        shortcut = Conv2D(4 * filters, 1, strides=stride, name=name + "_0_conv")(x)
        shortcut = _bn(name + "_0_bn")(shortcut)
    else:
        shortcut = x
    x = Conv2D(filters, 1, strides=stride, name=name + "_1_conv")(x)
    x = _bn(name + "_1_bn")(x)
    x = Activation("relu", name=name + "_1_relu")(x)
    x = Conv2D(filters, kernel_size, padding="SAME", name=name + "_2_conv")(x)
    x = _bn(name + "_2_bn")(x)
    x = Activation("relu", name=name + "_2_relu")(x)
    x = Conv2D(4 * filters, 1, name=name + "_3_conv")(x)
    x = _bn(name + "_3_bn")(x)
    x = Add(name=name + "_add")([shortcut, x])
    return Activation("relu", name=name + "_out")(x)


def stack1(x, filters: int, blocks: int, stride1: int = 2, name: str = ""):
    """``blocks`` v1 residual blocks; the first one strides and projects the shortcut."""
    x = block1(x, filters, stride=stride1, name=name + "_block1")
    for i in range(2, blocks + 1):
        x = block1(x, filters, conv_shortcut=False, name=name + "_block" + str(i))
    return x


def block2(x, filters: int, kernel_size: int = 3, stride: int = 1, conv_shortcut: bool = False,
           name: str = ""):
    """The pre-activation bottleneck block of ResNetV2."""
    preact = _bn(name + "_preact_bn")(x)
    preact = Activation("relu", name=name + "_preact_relu")(preact)
    if conv_shortcut:
        shortcut = Conv2D(4 * filters, 1, strides=stride, name=name + "_0_conv")(preact)
    else:
        shortcut = MaxPooling2D(1, strides=stride)(x) if stride > 1 else x
    x = Conv2D(filters, 1, strides=1, use_bias=False, name=name + "_1_conv")(preact)
    x = _bn(name + "_1_bn")(x)
    x = Activation("relu", name=name + "_1_relu")(x)
    x = ZeroPadding2D(padding=((1, 1), (1, 1)), name=name + "_2_pad")(x)
    x = Conv2D(filters, kernel_size, strides=stride, use_bias=False, name=name + "_2_conv")(x)
    x = _bn(name + "_2_bn")(x)
    x = Activation("relu", name=name + "_2_relu")(x)
    x = Conv2D(4 * filters, 1, name=name + "_3_conv")(x)
    return Add(name=name + "_out")([shortcut, x])


def stack2(x, filters: int, blocks: int, stride1: int = 2, name: str = ""):
    """``blocks`` v2 residual blocks; the last one strides."""
    x = block2(x, filters, conv_shortcut=True, name=name + "_block1")
    for i in range(2, blocks):
        x = block2(x, filters, name=name + "_block" + str(i))
    return block2(x, filters, stride=stride1, name=name + "_block" + str(blocks))


def _stages(stack, blocks, v2: bool = False):
    """The four residual stages: v1 strides at the start of conv3..conv5, v2 at the end of
    conv2..conv4 (its ``stack2`` strides in its last block)."""
    def stack_fn(x):
        x = stack(x, 64, blocks[0], stride1=2 if v2 else 1, name="conv2")
        x = stack(x, 128, blocks[1], name="conv3")
        x = stack(x, 256, blocks[2], name="conv4")
        return stack(x, 512, blocks[3], stride1=1 if v2 else 2, name="conv5")
    return stack_fn


_DOC = """Instantiates the {name} architecture ({params} parameters with the top).

    Args:
        include_top: whether to include the classifier (global average pooling + Dense).
        weights: None (random initialization), "imagenet" (Keras's ImageNet weights,
            downloaded once into ~/.keras/models) or the path of a weights file.
        input_tensor: optional Keras tensor to use as the image input.
        input_shape: optional shape tuple, only with ``include_top=False`` (otherwise it
            must be (224, 224, 3)); 3 channels, height and width at least 32.
        pooling: with ``include_top=False``: None (4D output), "avg" or "max".
        classes: number of classes, only with ``include_top=True`` and no ``weights``.
        classifier_activation: the top layer's activation (None gives logits); only None
            or "softmax" with pretrained weights.

    Returns:
        A ``Model``.

    Example:
        >>> {name}(weights=None, include_top=False, pooling="avg",
        ...        input_shape=(64, 64, 3)).output_shape
        (None, 2048)
    """


def ResNet50(include_top: bool = True, weights: Optional[str] = "imagenet", input_tensor=None,
             input_shape=None, pooling: Optional[str] = None, classes: int = 1000,
             classifier_activation="softmax"):
    return ResNet(_stages(stack1, (3, 4, 6, 3)), False, True, "resnet50", include_top, weights,
                  input_tensor, input_shape, pooling, classes, classifier_activation)


def ResNet101(include_top: bool = True, weights: Optional[str] = "imagenet", input_tensor=None,
              input_shape=None, pooling: Optional[str] = None, classes: int = 1000,
              classifier_activation="softmax"):
    return ResNet(_stages(stack1, (3, 4, 23, 3)), False, True, "resnet101", include_top,
                  weights, input_tensor, input_shape, pooling, classes, classifier_activation)


def ResNet152(include_top: bool = True, weights: Optional[str] = "imagenet", input_tensor=None,
              input_shape=None, pooling: Optional[str] = None, classes: int = 1000,
              classifier_activation="softmax"):
    return ResNet(_stages(stack1, (3, 8, 36, 3)), False, True, "resnet152", include_top,
                  weights, input_tensor, input_shape, pooling, classes, classifier_activation)


ResNet50.__doc__ = _DOC.format(name="ResNet50", params="25,636,712")
ResNet101.__doc__ = _DOC.format(name="ResNet101", params="44,707,176")
ResNet152.__doc__ = _DOC.format(name="ResNet152", params="60,419,944")


def preprocess_input(x, data_format: Optional[str] = None):
    """Caffe-mode preprocessing: RGB -> BGR, then subtract the ImageNet channel means."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="caffe")


def decode_predictions(preds, top: int = 5):
    """See ``imagenet_utils.decode_predictions``."""
    return imagenet_utils.decode_predictions(preds, top=top)
