"""ConvNeXt Tiny / Small / Base / Large / XLarge (``keras.applications.convnext``):
Liu et al., CVPR 2022.

The models take [0, 255] pixels and normalise inside (``include_preprocessing=True``), so
``preprocess_input`` is the identity.

Example:
    >>> from tkeras.applications.convnext import ConvNeXtTiny
    >>> ConvNeXtTiny(weights=None, include_top=False, pooling="avg",
    ...              input_shape=(32, 32, 3)).output_shape
    (None, 768)
"""
from __future__ import annotations

from typing import Callable, Optional, Sequence

import numpy as np
import torch

from .. import initializers
from ..backend import config
from ..engine.base_layer import Layer
from ..engine.sequential import Sequential
from ..layers.convolutional import Conv2D
from ..layers.core import Activation, Dense
from ..layers.merge import Add
from ..layers.normalization import LayerNormalization
from ..layers.pooling import GlobalAveragePooling2D
from ..layers.preprocessing import Normalization
from . import _common, imagenet_utils

MODEL_CONFIGS = {
    "tiny": {"depths": [3, 3, 9, 3], "projection_dims": [96, 192, 384, 768]},
    "small": {"depths": [3, 3, 27, 3], "projection_dims": [96, 192, 384, 768]},
    "base": {"depths": [3, 3, 27, 3], "projection_dims": [128, 256, 512, 1024]},
    "large": {"depths": [3, 3, 27, 3], "projection_dims": [192, 384, 768, 1536]},
    "xlarge": {"depths": [3, 3, 27, 3], "projection_dims": [256, 512, 1024, 2048]},
}


class StochasticDepth(Layer):
    """Drops the whole residual branch per sample with probability ``drop_path_rate`` in
    training (scaling the kept ones by ``1 / (1 - rate)``); the identity at inference.

    Args:
        drop_path_rate: the probability of dropping a sample's branch.
    """

    def __init__(self, drop_path_rate: float, **kwargs):
        super().__init__(**kwargs)
        self.drop_path_rate = drop_path_rate

    def call(self, x, training=None):
        if training:
            keep_prob = 1 - self.drop_path_rate
            shape = (x.shape[0],) + (1,) * (x.dim() - 1)
            random_tensor = torch.floor(keep_prob + torch.rand(shape, dtype=x.dtype,
                                                               device=x.device))
            return (x / keep_prob) * random_tensor
        return x

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config_ = super().get_config()
        config_.update({"drop_path_rate": self.drop_path_rate})
        return config_


class LayerScale(Layer):
    """Multiplies the last axis by a learned per-channel ``gamma`` (initialised to
    ``init_values``).

    Args:
        init_values: the initial value of gamma.
        projection_dim: the number of channels.
    """

    def __init__(self, init_values: float, projection_dim: int, **kwargs):
        super().__init__(**kwargs)
        self.init_values = init_values
        self.projection_dim = projection_dim

    def build(self, input_shape):
        self.gamma = self.add_weight(name="gamma", shape=(self.projection_dim,),
                                     initializer=initializers.Constant(self.init_values),
                                     trainable=True)
        super().build(input_shape)

    def call(self, x):
        return x * self.gamma

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        config_ = super().get_config()
        config_.update({"init_values": self.init_values, "projection_dim": self.projection_dim})
        return config_


def ConvNeXtBlock(projection_dim: int, drop_path_rate: float = 0.0,
                  layer_scale_init_value: Optional[float] = 1e-6, name: str = "") -> Callable:
    """Depthwise 7x7 conv, LayerNorm, pointwise MLP (4x, GELU), layer scale, residual."""
    def apply(inputs):
        x = Conv2D(filters=projection_dim, kernel_size=7, padding="same", groups=projection_dim,
                   name=name + "_depthwise_conv")(inputs)
        x = LayerNormalization(epsilon=1e-6, name=name + "_layernorm")(x)
        x = Dense(4 * projection_dim, name=name + "_pointwise_conv_1")(x)
        x = Activation("gelu", name=name + "_gelu")(x)
        x = Dense(projection_dim, name=name + "_pointwise_conv_2")(x)
        if layer_scale_init_value is not None:
            x = LayerScale(layer_scale_init_value, projection_dim,
                           name=name + "_layer_scale")(x)
        if drop_path_rate:
            layer = StochasticDepth(drop_path_rate, name=name + "_stochastic_depth")
        else:
            layer = Activation("linear", name=name + "_identity")
        # Keras writes `inputs + layer(x)`; the sum is the layer Keras records for it.
        return Add(name=config.unique_object_name("tf.__operators__.add"))([inputs, layer(x)])
    return apply


def ConvNeXt(depths: Sequence[int], projection_dims: Sequence[int],
             drop_path_rate: float = 0.0, layer_scale_init_value: float = 1e-6,
             default_size: int = 224, model_name: str = "convnext",
             include_preprocessing: bool = True, include_top: bool = True,
             weights: Optional[str] = None, input_tensor=None, input_shape=None,
             pooling: Optional[str] = None, classes: int = 1000,
             classifier_activation="softmax"):
    """A ConvNeXt with ``depths`` blocks of ``projection_dims`` channels per stage."""
    _common.check_weights_arg(weights, include_top, classes)
    img_input = _common.standard_input(input_tensor, input_shape, default_size, 32,
                                       include_top, weights)
    inputs = _common.get_source_inputs(input_tensor)[0] if input_tensor is not None \
        else img_input
    x = inputs
    if include_preprocessing:
        channel_axis = 3 if config.image_data_format() == "channels_last" else 1
        if x.shape[channel_axis] == 3:
            x = Normalization(mean=[0.485 * 255, 0.456 * 255, 0.406 * 255],
                              variance=[(0.229 * 255) ** 2, (0.224 * 255) ** 2,
                                        (0.225 * 255) ** 2],
                              name=model_name + "_prestem_normalization")(x)
    downsample_layers = [Sequential([
        Conv2D(projection_dims[0], kernel_size=4, strides=4, name=model_name + "_stem_conv"),
        LayerNormalization(epsilon=1e-6, name=model_name + "_stem_layernorm"),
    ], name=model_name + "_stem")]
    for i in range(3):
        downsample_layers.append(Sequential([
            LayerNormalization(epsilon=1e-6, name=model_name + "_downsampling_layernorm_" + str(i)),
            Conv2D(projection_dims[i + 1], kernel_size=2, strides=2,
                   name=model_name + "_downsampling_conv_" + str(i)),
        ], name=model_name + "_downsampling_block_" + str(i)))
    depth_drop_rates = [float(r) for r in np.linspace(0.0, drop_path_rate, sum(depths))]
    cur = 0
    for i in range(4):
        x = downsample_layers[i](x)
        for j in range(depths[i]):
            x = ConvNeXtBlock(projection_dim=projection_dims[i],
                              drop_path_rate=depth_drop_rates[cur + j],
                              layer_scale_init_value=layer_scale_init_value,
                              name=model_name + f"_stage_{i}_block_{j}")(x)
        cur += depths[i]
    if include_top:
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = GlobalAveragePooling2D(name=model_name + "_head_gap")(x)
        x = LayerNormalization(epsilon=1e-6, name=model_name + "_head_layernorm")(x)
        x = Dense(classes, activation=classifier_activation, name=model_name + "_head_dense")(x)
    else:
        x = _common.pooled(x, pooling)
        x = LayerNormalization(epsilon=1e-6)(x)
    from ..engine.training import Model
    model = Model(inputs=inputs, outputs=x, name=model_name)
    _common.load_weights(model, weights, model_name, include_top)
    return model


_DOC = """Instantiates the {name} architecture ({params} parameters with the top).

    Args:
        model_name: the model's name (also names its ImageNet weight file).
        include_top: whether to include the classifier (pooling, LayerNorm, Dense).
        include_preprocessing: whether the model normalises [0, 255] inputs itself.
        weights: None, "imagenet" (Keras's ImageNet weights) or the path of a weights file.
        input_tensor: optional Keras tensor to use as the image input.
        input_shape: optional shape tuple, only with ``include_top=False`` (otherwise
            (224, 224, 3)); height and width at least 32.
        pooling: with ``include_top=False``: None (4D output), "avg" or "max".
        classes: number of classes, only with ``include_top=True`` and no ``weights``.
        classifier_activation: the top layer's activation; None or "softmax" with
            pretrained weights.

    Example:
        >>> {name}(weights=None, include_top=False, pooling="avg",
        ...        input_shape=(32, 32, 3)).output_shape
        (None, {channels})
    """


def _variant(name: str, size: str, params: str) -> Callable:
    cfg = MODEL_CONFIGS[size]

    def constructor(model_name: str = "convnext_" + size, include_top: bool = True,
                    include_preprocessing: bool = True, weights: Optional[str] = "imagenet",
                    input_tensor=None, input_shape=None, pooling: Optional[str] = None,
                    classes: int = 1000, classifier_activation="softmax"):
        return ConvNeXt(depths=cfg["depths"], projection_dims=cfg["projection_dims"],
                        drop_path_rate=0.0, layer_scale_init_value=1e-6, default_size=224,
                        model_name=model_name, include_top=include_top,
                        include_preprocessing=include_preprocessing, weights=weights,
                        input_tensor=input_tensor, input_shape=input_shape, pooling=pooling,
                        classes=classes, classifier_activation=classifier_activation)
    constructor.__name__ = constructor.__qualname__ = name
    constructor.__doc__ = _DOC.format(name=name, params=params,
                                      channels=cfg["projection_dims"][-1])
    return constructor


ConvNeXtTiny = _variant("ConvNeXtTiny", "tiny", "28,589,128")
ConvNeXtSmall = _variant("ConvNeXtSmall", "small", "50,223,688")
ConvNeXtBase = _variant("ConvNeXtBase", "base", "88,591,464")
ConvNeXtLarge = _variant("ConvNeXtLarge", "large", "197,767,336")
ConvNeXtXLarge = _variant("ConvNeXtXLarge", "xlarge", "350,196,968")


def preprocess_input(x, data_format: Optional[str] = None):
    """The identity: ConvNeXt models normalise inside (kept for Keras's API)."""
    return x


def decode_predictions(preds, top: int = 5):
    """See ``imagenet_utils.decode_predictions``."""
    return imagenet_utils.decode_predictions(preds, top=top)
