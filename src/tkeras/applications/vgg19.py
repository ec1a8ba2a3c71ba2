"""VGG19 (``keras.applications.vgg19``): Simonyan & Zisserman, ICLR 2015.

Example:
    >>> from tkeras.applications.vgg19 import VGG19
    >>> VGG19(weights=None, include_top=False, input_shape=(32, 32, 3)).output_shape
    (None, 1, 1, 512)
"""
from __future__ import annotations

from typing import Optional

from .vgg16 import build_vgg, decode_predictions, preprocess_input  # noqa: F401


def VGG19(include_top: bool = True, weights: Optional[str] = "imagenet", input_tensor=None,
          input_shape=None, pooling: Optional[str] = None, classes: int = 1000,
          classifier_activation="softmax"):
    """Instantiates the VGG19 model (143,667,240 parameters with the top).

    Args: as ``VGG16``: include_top, weights (None / "imagenet" / a file path),
    input_tensor, input_shape (at least 32x32), pooling (None / "avg" / "max"),
    classes, classifier_activation.

    Example:
        >>> VGG19(weights=None, include_top=False, pooling="max",
        ...       input_shape=(32, 32, 3)).output_shape
        (None, 512)
    """
    return build_vgg((2, 2, 4, 4, 4), "vgg19", include_top, weights, input_tensor, input_shape,
                     pooling, classes, classifier_activation)
