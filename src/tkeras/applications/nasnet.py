"""NASNetMobile and NASNetLarge (``keras.applications.nasnet``): Zoph et al., CVPR 2018.

Example:
    >>> from tkeras.applications.nasnet import NASNetMobile
    >>> NASNetMobile(weights=None, include_top=False, input_shape=(32, 32, 3)).output_shape
    (None, 1, 1, 1056)
"""
from __future__ import annotations

import logging
from typing import Optional

from ..backend import config
from ..layers.convolutional import Conv2D, Cropping2D, SeparableConv2D, ZeroPadding2D
from ..layers.core import Activation, Dense
from ..layers.merge import add, concatenate
from ..layers.normalization import BatchNormalization
from ..layers.pooling import AveragePooling2D, GlobalAveragePooling2D, MaxPooling2D
from . import _common, imagenet_utils


def _bn(name: Optional[str] = None):
    axis = 1 if config.image_data_format() == "channels_first" else -1
    return BatchNormalization(axis=axis, momentum=0.9997, epsilon=1e-3, name=name)


def _conv1x1(filters: int, name: str, strides=(1, 1)):
    return Conv2D(filters, (1, 1), strides=strides, padding="same", use_bias=False, name=name,
                  kernel_initializer="he_normal")


def NASNet(input_shape=None, penultimate_filters: int = 4032, num_blocks: int = 6,
           stem_block_filters: int = 96, skip_reduction: bool = True,
           filter_multiplier: int = 2, include_top: bool = True,
           weights: Optional[str] = "imagenet", input_tensor=None,
           pooling: Optional[str] = None, classes: int = 1000,
           default_size: Optional[int] = None, classifier_activation="softmax"):
    """A NASNet-A model (see NASNetMobile / NASNetLarge for the two Keras publishes).

    Args:
        penultimate_filters: channels of the penultimate layer (N-A-P notation's P); a
            multiple of 24 * filter_multiplier ** 2.
        num_blocks: repeated normal cells per stage (N).
        stem_block_filters: filters of the stem convolution.
        skip_reduction: whether the reduction cells' input skips to the following cells.
        filter_multiplier: the filter growth at each reduction.
        default_size: the default input size (224 for mobile, 331 for large).
        others: as ``NASNetMobile``.
    """
    _common.check_weights_arg(weights, include_top, classes)
    if isinstance(input_shape, tuple) and None in input_shape and weights == "imagenet":
        raise ValueError("When specifying the input shape of a NASNet and loading `ImageNet` "
                         "weights, the input_shape argument must be static (no None entries). "
                         f"Got: `input_shape={input_shape}`.")
    if default_size is None:
        default_size = 331
    input_shape = imagenet_utils.obtain_input_shape(
        input_shape, default_size=default_size, min_size=32,
        data_format=config.image_data_format(), require_flatten=include_top, weights=weights)
    old_data_format = None
    if config.image_data_format() != "channels_last":
        logging.getLogger("tkeras").warning(
            'The NASNet family of models is only available for the input data format '
            '"channels_last" (width, height, channels). The model being returned right now '
            'will expect inputs to follow the "channels_last" data format.')
        config.set_image_data_format("channels_last")
        old_data_format = "channels_first"
    try:
        img_input = _common.image_input(input_tensor, input_shape)
        if penultimate_filters % (24 * (filter_multiplier ** 2)) != 0:
            raise ValueError("For NASNet-A models, the `penultimate_filters` must be a multiple "
                             "of 24 * (`filter_multiplier` ** 2). Current value: "
                             f"{penultimate_filters}")
        filters = penultimate_filters // 24
        x = Conv2D(stem_block_filters, (3, 3), strides=(2, 2), padding="valid", use_bias=False,
                   name="stem_conv1", kernel_initializer="he_normal")(img_input)
        x = _bn("stem_bn1")(x)
        p = None
        x, p = _reduction_a_cell(x, p, filters // (filter_multiplier ** 2), block_id="stem_1")
        x, p = _reduction_a_cell(x, p, filters // filter_multiplier, block_id="stem_2")
        for stage in range(3):
            stage_filters = filters * filter_multiplier ** stage
            if stage:
                x, p0 = _reduction_a_cell(x, p, stage_filters,
                                          block_id="reduce_%d" % (stage * num_blocks))
                p = p0 if not skip_reduction else p
            for i in range(num_blocks):
                x, p = _normal_a_cell(x, p, stage_filters,
                                      block_id="%d" % (stage * num_blocks + min(stage, 1) + i))
        x = Activation("relu")(x)
        if include_top:
            x = GlobalAveragePooling2D()(x)
            imagenet_utils.validate_activation(classifier_activation, weights)
            x = Dense(classes, activation=classifier_activation, name="predictions")(x)
        else:
            x = _common.pooled(x, pooling)
        model = _common.make_model(input_tensor, img_input, x, "NASNet")
        if weights == "imagenet" and default_size not in (224, 331):
            raise ValueError("ImageNet weights can only be loaded with NASNetLarge or "
                             "NASNetMobile")
        key = "nasnet_mobile" if default_size == 224 else "nasnet_large"
        _common.load_weights(model, weights, key, include_top)
    finally:
        if old_data_format:
            config.set_image_data_format(old_data_format)
    return model


_DOC = """Instantiates the {name} architecture ({params} parameters with the top).

    The default input size is {size}x{size} (minimum 32x32). NASNet works in
    channels_last only.

    Args:
        input_shape: optional shape tuple, only with ``include_top=False`` (otherwise
            ({size}, {size}, 3)); static when loading the ImageNet weights.
        include_top: whether to include the classifier (global average pooling + Dense).
        weights: None, "imagenet" (Keras's ImageNet weights) or the path of a weights file.
        input_tensor: optional Keras tensor to use as the image input.
        pooling: with ``include_top=False``: None (4D output), "avg" or "max".
        classes: number of classes, only with ``include_top=True`` and no ``weights``.
        classifier_activation: the top layer's activation; None or "softmax" with
            pretrained weights.

    Example:
        >>> {name}(weights=None, include_top=False, pooling="avg",
        ...        input_shape=(32, 32, 3)).output_shape
        (None, {channels})
    """


def NASNetMobile(input_shape=None, include_top: bool = True,
                 weights: Optional[str] = "imagenet", input_tensor=None,
                 pooling: Optional[str] = None, classes: int = 1000,
                 classifier_activation="softmax"):
    return NASNet(input_shape, penultimate_filters=1056, num_blocks=4, stem_block_filters=32,
                  skip_reduction=False, filter_multiplier=2, include_top=include_top,
                  weights=weights, input_tensor=input_tensor, pooling=pooling, classes=classes,
                  default_size=224, classifier_activation=classifier_activation)


def NASNetLarge(input_shape=None, include_top: bool = True,
                weights: Optional[str] = "imagenet", input_tensor=None,
                pooling: Optional[str] = None, classes: int = 1000,
                classifier_activation="softmax"):
    return NASNet(input_shape, penultimate_filters=4032, num_blocks=6, stem_block_filters=96,
                  skip_reduction=True, filter_multiplier=2, include_top=include_top,
                  weights=weights, input_tensor=input_tensor, pooling=pooling, classes=classes,
                  default_size=331, classifier_activation=classifier_activation)


NASNetMobile.__doc__ = _DOC.format(name="NASNetMobile", params="5,326,716", size=224,
                                   channels=1056)
NASNetLarge.__doc__ = _DOC.format(name="NASNetLarge", params="88,949,818", size=331,
                                  channels=4032)


def _separable_conv_block(ip, filters: int, kernel_size=(3, 3), strides=(1, 1),
                          block_id: str = ""):
    """ReLU-SepConv-BN twice; a strided first conv pads as TF's "same" would."""
    x = Activation("relu")(ip)
    if strides == (2, 2):
        x = ZeroPadding2D(padding=imagenet_utils.correct_pad(x, kernel_size),
                          name=f"separable_conv_1_pad_{block_id}")(x)
        conv_pad = "valid"
    else:
        conv_pad = "same"
    x = SeparableConv2D(filters, kernel_size, strides=strides,
                        name=f"separable_conv_1_{block_id}", padding=conv_pad, use_bias=False,
                        kernel_initializer="he_normal")(x)
    x = _bn(f"separable_conv_1_bn_{block_id}")(x)
    x = Activation("relu")(x)
    x = SeparableConv2D(filters, kernel_size, name=f"separable_conv_2_{block_id}",
                        padding="same", use_bias=False, kernel_initializer="he_normal")(x)
    return _bn(f"separable_conv_2_bn_{block_id}")(x)


def _adjust_block(p, ip, filters: int, block_id: str):
    """Brings the previous cell's output ``p`` to ``ip``'s spatial size and ``filters``."""
    channel_dim = 1 if config.image_data_format() == "channels_first" else -1
    img_dim = 2 if config.image_data_format() == "channels_first" else -2
    if p is None:
        return ip
    if p.shape[img_dim] != ip.shape[img_dim]:
        p = Activation("relu", name=f"adjust_relu_1_{block_id}")(p)
        p1 = AveragePooling2D((1, 1), strides=(2, 2), padding="valid",
                              name=f"adjust_avg_pool_1_{block_id}")(p)
        p1 = _conv1x1(filters // 2, f"adjust_conv_1_{block_id}")(p1)
        p2 = ZeroPadding2D(padding=((0, 1), (0, 1)))(p)
        p2 = Cropping2D(cropping=((1, 0), (1, 0)))(p2)
        p2 = AveragePooling2D((1, 1), strides=(2, 2), padding="valid",
                              name=f"adjust_avg_pool_2_{block_id}")(p2)
        p2 = _conv1x1(filters // 2, f"adjust_conv_2_{block_id}")(p2)
        p = concatenate([p1, p2], axis=channel_dim)
        return _bn(f"adjust_bn_{block_id}")(p)
    if p.shape[channel_dim] != filters:
        p = Activation("relu")(p)
        p = _conv1x1(filters, f"adjust_conv_projection_{block_id}")(p)
        return _bn(f"adjust_bn_{block_id}")(p)
    return p


def _cell_input(ip, filters: int, kind: str, block_id: str):
    h = Activation("relu")(ip)
    h = _conv1x1(filters, f"{kind}_conv_1_{block_id}")(h)
    return _bn(f"{kind}_bn_1_{block_id}")(h)


def _avg3(name: str):
    return AveragePooling2D((3, 3), strides=(1, 1), padding="same", name=name)


def _normal_a_cell(ip, p, filters: int, block_id: str):
    channel_dim = 1 if config.image_data_format() == "channels_first" else -1
    p = _adjust_block(p, ip, filters, block_id)
    h = _cell_input(ip, filters, "normal", block_id)
    x1_1 = _separable_conv_block(h, filters, kernel_size=(5, 5),
                                 block_id=f"normal_left1_{block_id}")
    x1_2 = _separable_conv_block(p, filters, block_id=f"normal_right1_{block_id}")
    x1 = add([x1_1, x1_2], name=f"normal_add_1_{block_id}")
    x2_1 = _separable_conv_block(p, filters, (5, 5), block_id=f"normal_left2_{block_id}")
    x2_2 = _separable_conv_block(p, filters, (3, 3), block_id=f"normal_right2_{block_id}")
    x2 = add([x2_1, x2_2], name=f"normal_add_2_{block_id}")
    x3 = _avg3(f"normal_left3_{block_id}")(h)
    x3 = add([x3, p], name=f"normal_add_3_{block_id}")
    x4_1 = _avg3(f"normal_left4_{block_id}")(p)
    x4_2 = _avg3(f"normal_right4_{block_id}")(p)
    x4 = add([x4_1, x4_2], name=f"normal_add_4_{block_id}")
    x5 = _separable_conv_block(h, filters, block_id=f"normal_left5_{block_id}")
    x5 = add([x5, h], name=f"normal_add_5_{block_id}")
    x = concatenate([p, x1, x2, x3, x4, x5], axis=channel_dim,
                    name=f"normal_concat_{block_id}")
    return x, ip


def _reduction_a_cell(ip, p, filters: int, block_id: str):
    channel_dim = 1 if config.image_data_format() == "channels_first" else -1
    p = _adjust_block(p, ip, filters, block_id)
    h = _cell_input(ip, filters, "reduction", block_id)
    h3 = ZeroPadding2D(padding=imagenet_utils.correct_pad(h, 3),
                       name=f"reduction_pad_1_{block_id}")(h)
    x1_1 = _separable_conv_block(h, filters, (5, 5), strides=(2, 2),
                                 block_id=f"reduction_left1_{block_id}")
    x1_2 = _separable_conv_block(p, filters, (7, 7), strides=(2, 2),
                                 block_id=f"reduction_right1_{block_id}")
    x1 = add([x1_1, x1_2], name=f"reduction_add_1_{block_id}")
    x2_1 = MaxPooling2D((3, 3), strides=(2, 2), padding="valid",
                        name=f"reduction_left2_{block_id}")(h3)
    x2_2 = _separable_conv_block(p, filters, (7, 7), strides=(2, 2),
                                 block_id=f"reduction_right2_{block_id}")
    x2 = add([x2_1, x2_2], name=f"reduction_add_2_{block_id}")
    x3_1 = AveragePooling2D((3, 3), strides=(2, 2), padding="valid",
                            name=f"reduction_left3_{block_id}")(h3)
    x3_2 = _separable_conv_block(p, filters, (5, 5), strides=(2, 2),
                                 block_id=f"reduction_right3_{block_id}")
    x3 = add([x3_1, x3_2], name=f"reduction_add3_{block_id}")
    x4 = _avg3(f"reduction_left4_{block_id}")(x1)
    x4 = add([x2, x4])
    x5_1 = _separable_conv_block(x1, filters, (3, 3), block_id=f"reduction_left4_{block_id}")
    x5_2 = MaxPooling2D((3, 3), strides=(2, 2), padding="valid",
                        name=f"reduction_right5_{block_id}")(h3)
    x5 = add([x5_1, x5_2], name=f"reduction_add4_{block_id}")
    x = concatenate([x2, x3, x4, x5], axis=channel_dim, name=f"reduction_concat_{block_id}")
    return x, ip


def preprocess_input(x, data_format: Optional[str] = None):
    """"tf"-mode preprocessing: scales pixels to [-1, 1]."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


def decode_predictions(preds, top: int = 5):
    """See ``imagenet_utils.decode_predictions``."""
    return imagenet_utils.decode_predictions(preds, top=top)
