"""ResNet50V2 / 101V2 / 152V2 (``keras.applications.resnet_v2``): He et al., ECCV 2016.

Example:
    >>> from tkeras.applications.resnet_v2 import ResNet50V2
    >>> ResNet50V2(weights=None, include_top=False, input_shape=(32, 32, 3)).output_shape
    (None, 1, 1, 2048)
"""
from __future__ import annotations

from typing import Optional

from . import imagenet_utils
from .resnet import _DOC, ResNet, _stages, stack2


def ResNet50V2(include_top: bool = True, weights: Optional[str] = "imagenet", input_tensor=None,
               input_shape=None, pooling: Optional[str] = None, classes: int = 1000,
               classifier_activation="softmax"):
    return ResNet(_stages(stack2, (3, 4, 6, 3), v2=True), True, True, "resnet50v2",
                  include_top, weights, input_tensor, input_shape, pooling, classes,
                  classifier_activation)


def ResNet101V2(include_top: bool = True, weights: Optional[str] = "imagenet",
                input_tensor=None, input_shape=None, pooling: Optional[str] = None,
                classes: int = 1000, classifier_activation="softmax"):
    return ResNet(_stages(stack2, (3, 4, 23, 3), v2=True), True, True, "resnet101v2",
                  include_top, weights, input_tensor, input_shape, pooling, classes,
                  classifier_activation)


def ResNet152V2(include_top: bool = True, weights: Optional[str] = "imagenet",
                input_tensor=None, input_shape=None, pooling: Optional[str] = None,
                classes: int = 1000, classifier_activation="softmax"):
    return ResNet(_stages(stack2, (3, 8, 36, 3), v2=True), True, True, "resnet152v2",
                  include_top, weights, input_tensor, input_shape, pooling, classes,
                  classifier_activation)


ResNet50V2.__doc__ = _DOC.format(name="ResNet50V2", params="25,613,800")
ResNet101V2.__doc__ = _DOC.format(name="ResNet101V2", params="44,675,560")
ResNet152V2.__doc__ = _DOC.format(name="ResNet152V2", params="60,380,648")


def preprocess_input(x, data_format: Optional[str] = None):
    """"tf"-mode preprocessing: scales pixels to [-1, 1]."""
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="tf")


def decode_predictions(preds, top: int = 5):
    """See ``imagenet_utils.decode_predictions``."""
    return imagenet_utils.decode_predictions(preds, top=top)
