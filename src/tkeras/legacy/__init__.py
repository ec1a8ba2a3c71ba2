"""Keras 2.3.1's ``keras.legacy``: Keras 1 argument conversions (``interfaces``).

The Keras 1 layers themselves (MaxoutDense, Highway, AtrousConvolution*, Recurrent,
ConvRecurrent2D) are in ``tkeras.layers``.
"""
from . import interfaces  # noqa: F401
