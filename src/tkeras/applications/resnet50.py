"""``keras.applications.resnet50``: ResNet50 and its preprocessing, as in Keras 2.

Example:
    >>> from tkeras.applications.resnet50 import ResNet50, preprocess_input
"""
from .resnet import ResNet50, decode_predictions, preprocess_input  # noqa: F401
