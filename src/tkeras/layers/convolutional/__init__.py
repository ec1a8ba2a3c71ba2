"""Convolutional layers: Conv1D/2D/3D, their transposes, separable and depthwise
convolutions, and the Cropping, UpSampling and ZeroPadding layers in 1D/2D/3D.

``conv`` holds the convolutions and their ``_Conv`` base, ``depthwise_separable`` the
depthwise and separable convolutions (on that base), ``reshaping`` the cropping, padding and
upsampling layers; every class is importable from here, as from Keras 2's
``keras.layers.convolutional``. The argument normalisation, output lengths, TensorFlow
padding and layout views they share are Keras's ``conv_utils``, in
``tkeras.utils.conv_utils``.
"""
from __future__ import annotations

from ...engine.base_layer import register_layer_alias
from .conv import Conv1D, Conv1DTranspose, Conv2D, Conv2DTranspose, Conv3D, Conv3DTranspose
from .depthwise_separable import DepthwiseConv1D, DepthwiseConv2D, SeparableConv1D, SeparableConv2D
from .reshaping import (
    Cropping1D,
    Cropping2D,
    Cropping3D,
    UpSampling1D,
    UpSampling2D,
    UpSampling3D,
    ZeroPadding1D,
    ZeroPadding2D,
    ZeroPadding3D,
)

__all__ = [
    "Conv1D", "Conv2D", "Conv3D", "Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose",
    "SeparableConv1D", "SeparableConv2D", "DepthwiseConv1D", "DepthwiseConv2D",
    "Cropping1D", "Cropping2D", "Cropping3D", "UpSampling1D", "UpSampling2D", "UpSampling3D",
    "ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D",
    "Convolution1D", "Convolution2D", "Convolution3D", "Convolution1DTranspose",
    "Convolution2DTranspose", "Convolution3DTranspose", "Deconvolution2D", "Deconvolution3D",
    "Deconv2D", "Deconv3D", "SeparableConvolution1D", "SeparableConvolution2D",
]


# ---------------------------------------------------------------- Keras 1/2 aliases

Convolution1D = Conv1D
Convolution2D = Conv2D
Convolution3D = Conv3D
Convolution1DTranspose = Conv1DTranspose
Convolution2DTranspose = Conv2DTranspose
Convolution3DTranspose = Conv3DTranspose
Deconvolution2D = Deconv2D = Conv2DTranspose
Deconvolution3D = Deconv3D = Conv3DTranspose
SeparableConvolution1D = SeparableConv1D
SeparableConvolution2D = SeparableConv2D

for _alias in ("Convolution1D", "Convolution2D", "Convolution3D", "Convolution1DTranspose",
               "Convolution2DTranspose", "Convolution3DTranspose", "Deconvolution2D",
               "Deconvolution3D", "Deconv2D", "Deconv3D", "SeparableConvolution1D",
               "SeparableConvolution2D"):
    register_layer_alias(_alias, globals()[_alias])


def __getattr__(name: str):
    """Keras 2's convolutional module also exposed the pooling layers
    (``from keras.layers.convolutional import MaxPooling2D``); they live in pooling."""
    from .. import pooling
    if name in pooling.__all__:
        return getattr(pooling, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
