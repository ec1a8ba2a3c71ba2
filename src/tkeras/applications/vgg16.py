"""VGG16 (``keras.applications.vgg16``): Simonyan & Zisserman, ICLR 2015.

Example:
    >>> from tkeras.applications.vgg16 import VGG16
    >>> model = VGG16(weights=None, include_top=False, input_shape=(32, 32, 3))
    >>> model.output_shape
    (None, 1, 1, 512)
"""
from __future__ import annotations

from typing import Optional, Sequence

from ..layers.convolutional import Conv2D
from ..layers.core import Dense, Flatten
from ..layers.pooling import MaxPooling2D
from . import _common, imagenet_utils


def build_vgg(convs_per_block: Sequence[int], name: str, include_top: bool, weights,
              input_tensor, input_shape, pooling, classes: int, classifier_activation):
    """The VGG family: five conv blocks (64, 128, 256, 512, 512 filters) and a 3-Dense top."""
    _common.check_weights_arg(weights, include_top, classes)
    img_input = _common.standard_input(input_tensor, input_shape, 224, 32, include_top, weights)
    x = img_input
    for block, (filters, n) in enumerate(zip((64, 128, 256, 512, 512), convs_per_block), 1):
        for i in range(1, n + 1):
            x = Conv2D(filters, (3, 3), activation="relu", padding="same",
                       name=f"block{block}_conv{i}")(x)
        x = MaxPooling2D((2, 2), strides=(2, 2), name=f"block{block}_pool")(x)
    if include_top:
        x = Flatten(name="flatten")(x)
        x = Dense(4096, activation="relu", name="fc1")(x)
        x = Dense(4096, activation="relu", name="fc2")(x)
        imagenet_utils.validate_activation(classifier_activation, weights)
        x = Dense(classes, activation=classifier_activation, name="predictions")(x)
    else:
        x = _common.pooled(x, pooling)
    model = _common.make_model(input_tensor, img_input, x, name)
    _common.load_weights(model, weights, name, include_top)
    return model


def VGG16(include_top: bool = True, weights: Optional[str] = "imagenet", input_tensor=None,
          input_shape=None, pooling: Optional[str] = None, classes: int = 1000,
          classifier_activation="softmax"):
    """Instantiates the VGG16 model (138,357,544 parameters with the top).

    Args:
        include_top: whether to include the 3 fully-connected layers at the top.
        weights: None (random initialization), "imagenet" (Keras's ImageNet weights,
            downloaded once into ~/.keras/models) or the path of a weights file.
        input_tensor: optional Keras tensor to use as the image input.
        input_shape: optional shape tuple, only with ``include_top=False`` (otherwise it
            must be (224, 224, 3)); 3 channels, height and width at least 32.
        pooling: with ``include_top=False``: None (4D output of the last conv block),
            "avg" or "max" (global pooling, 2D output).
        classes: number of classes, only with ``include_top=True`` and no ``weights``.
        classifier_activation: the top layer's activation (None gives logits); only None
            or "softmax" with pretrained weights.

    Returns:
        A ``Model``.

    Example:
        >>> model = VGG16(weights=None, input_shape=(48, 48, 3), include_top=False,
        ...               pooling="avg")
        >>> model.output_shape
        (None, 512)
    """
    return build_vgg((2, 2, 3, 3, 3), "vgg16", include_top, weights, input_tensor, input_shape,
                     pooling, classes, classifier_activation)


def preprocess_input(x, data_format: Optional[str] = None):
    """Caffe-mode preprocessing: RGB -> BGR, then subtract the ImageNet channel means.

    Example:
        >>> preprocess_input(np.zeros((1, 2, 2, 3)))[0, 0, 0].round(3).tolist()
        [-103.939, -116.779, -123.68]
    """
    return imagenet_utils.preprocess_input(x, data_format=data_format, mode="caffe")


def decode_predictions(preds, top: int = 5):
    """See ``imagenet_utils.decode_predictions``."""
    return imagenet_utils.decode_predictions(preds, top=top)
