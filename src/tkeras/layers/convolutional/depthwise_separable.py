"""Depthwise and separable convolutions: DepthwiseConv1D/2D, SeparableConv1D/2D, on the
``_Conv`` base of ``conv.py`` (kernels in Keras's layouts, torch given permuted views)."""
from __future__ import annotations

from typing import Any, Dict, Optional

import numpy as np
import torch

from ... import constraints, initializers, regularizers
from ...engine.base_layer import Layer
from ...utils.conv_utils import (
    CONV,
    depthwise_torch_kernel,
    from_torch_layout,
    to_torch_layout,
    torch_kernel,
    use_torch_layout_,
)
from .conv import _Conv


def _build_depthwise_kernel(layer: _Conv, in_channels: int) -> None:
    """The depthwise kernel of DepthwiseConv and SeparableConv: Keras's shape
    ``(*kernel_size, in_channels, depth_multiplier)`` in torch's grouped-conv layout."""
    layer.depthwise_kernel = layer.add_weight(
        "depthwise_kernel", shape=layer.kernel_size + (in_channels, layer.depth_multiplier),
        initializer=layer.depthwise_initializer, regularizer=layer.depthwise_regularizer,
        constraint=layer.depthwise_constraint)
    use_torch_layout_(layer.depthwise_kernel, layer._rank, layer._channels_last, depthwise=True)


class _DepthwiseConv(_Conv):
    """Depthwise convolution: each input channel convolved with its own ``depth_multiplier``
    filters; output channel ``c * depth_multiplier + m``."""

    _supports_groups = False

    def __init__(self, kernel_size, strides=1, padding: str = "valid", depth_multiplier: int = 1,
                 data_format: Optional[str] = None, dilation_rate=1, activation=None,
                 use_bias: bool = True, depthwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, depthwise_constraint=None, bias_constraint=None,
                 groups: int = 1, **kwargs):
        super().__init__(None, kernel_size, strides=strides, padding=padding,
                         data_format=data_format, dilation_rate=dilation_rate, groups=groups,
                         activation=activation, use_bias=use_bias,
                         bias_initializer=bias_initializer, bias_regularizer=bias_regularizer,
                         activity_regularizer=activity_regularizer,
                         bias_constraint=bias_constraint, **kwargs)
        self.depth_multiplier = _positive_int(depth_multiplier, "depth_multiplier", self)
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.depthwise_constraint = constraints.get(depthwise_constraint)

    def _build_weights(self, in_channels: int) -> None:
        _build_depthwise_kernel(self, in_channels)
        self._build_bias(in_channels * self.depth_multiplier)

    def _convolve(self, inputs: torch.Tensor) -> torch.Tensor:
        rank, channels_last = self._rank, self._channels_last
        x, padding = self._padded(inputs)
        in_channels = self.depthwise_kernel.shape[rank]
        y = CONV[rank](to_torch_layout(x, rank, channels_last),
                        depthwise_torch_kernel(self.depthwise_kernel, rank), self.bias,
                        self.strides, padding, self.dilation_rate, in_channels)
        return from_torch_layout(y, rank, channels_last)

    def _output_channels(self, input_shape) -> Optional[int]:
        channels = tuple(input_shape)[self._channel_axis()]
        return None if channels is None else channels * self.depth_multiplier

    def get_config(self) -> Dict[str, Any]:
        config = super().get_config()
        for key in ("filters", "kernel_initializer", "kernel_regularizer", "kernel_constraint"):
            config.pop(key)
        config.update({
            "depth_multiplier": self.depth_multiplier,
            "depthwise_initializer": initializers.serialize(self.depthwise_initializer),
            "depthwise_regularizer": regularizers.serialize(self.depthwise_regularizer),
            "depthwise_constraint": constraints.serialize(self.depthwise_constraint),
        })
        return config


def _positive_int(value, name: str, layer: Layer) -> int:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"The `{name}` argument of {type(layer).__name__} must be a positive "
                         f"integer. Received: {name}={value}")
    return int(value)


class DepthwiseConv1D(_DepthwiseConv):
    """Depthwise 1D convolution.

    Args:
        kernel_size: an int or a tuple of 1 int.
        strides, padding, data_format, dilation_rate, activation, use_bias: as for Conv1D.
        depth_multiplier: output channels per input channel.
        depthwise_initializer / depthwise_regularizer / depthwise_constraint: for the kernel.
        bias_initializer / bias_regularizer / bias_constraint / activity_regularizer.

    Weights: ``depthwise_kernel (k, in_channels, depth_multiplier)``,
    ``bias (in_channels * depth_multiplier,)``.

    Input shape: ``(batch, steps, channels)``.
    Output shape: ``(batch, new_steps, channels * depth_multiplier)``.

    Example:
        >>> DepthwiseConv1D(3, depth_multiplier=2)(np.zeros((2, 10, 3), "float32")).shape
        torch.Size([2, 8, 6])
    """

    _rank = 1


class DepthwiseConv2D(_DepthwiseConv):
    """Depthwise 2D convolution: each input channel gets its own ``depth_multiplier`` filters.

    Args:
        kernel_size: an int or a tuple of 2 ints.
        strides, padding, data_format, dilation_rate, activation, use_bias: as for Conv2D.
        depth_multiplier: output channels per input channel.
        depthwise_initializer / depthwise_regularizer / depthwise_constraint: for the kernel.
        bias_initializer / bias_regularizer / bias_constraint / activity_regularizer.

    Weights: ``depthwise_kernel (kh, kw, in_channels, depth_multiplier)``,
    ``bias (in_channels * depth_multiplier,)``; output channel ``c * depth_multiplier + m``.

    Input shape: ``(batch, rows, cols, channels)``.
    Output shape: ``(batch, new_rows, new_cols, channels * depth_multiplier)``.

    Example:
        >>> DepthwiseConv2D(3, depth_multiplier=2)(Input(shape=(8, 8, 3))).shape
        (None, 6, 6, 6)
    """

    _rank = 2


class _SeparableConv(_Conv):
    """Depthwise convolution followed by a pointwise (1x1) convolution with the bias."""

    _supports_groups = False

    def __init__(self, filters: int, kernel_size, strides=1, padding: str = "valid",
                 data_format: Optional[str] = None, dilation_rate=1, depth_multiplier: int = 1,
                 activation=None, use_bias: bool = True, depthwise_initializer="glorot_uniform",
                 pointwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, pointwise_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, depthwise_constraint=None, pointwise_constraint=None,
                 bias_constraint=None, groups: int = 1, kernel_initializer="glorot_uniform",
                 kernel_regularizer=None, kernel_constraint=None, **kwargs):
        super().__init__(filters, kernel_size, strides=strides, padding=padding,
                         data_format=data_format, dilation_rate=dilation_rate, groups=groups,
                         activation=activation, use_bias=use_bias,
                         kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
                         kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
                         activity_regularizer=activity_regularizer,
                         kernel_constraint=kernel_constraint, bias_constraint=bias_constraint,
                         **kwargs)
        self.depth_multiplier = _positive_int(depth_multiplier, "depth_multiplier", self)
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.pointwise_initializer = initializers.get(pointwise_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.pointwise_regularizer = regularizers.get(pointwise_regularizer)
        self.depthwise_constraint = constraints.get(depthwise_constraint)
        self.pointwise_constraint = constraints.get(pointwise_constraint)

    def _build_weights(self, in_channels: int) -> None:
        _build_depthwise_kernel(self, in_channels)
        self.pointwise_kernel = self.add_weight(
            "pointwise_kernel",
            shape=(1,) * self._rank + (in_channels * self.depth_multiplier, self.filters),
            initializer=self.pointwise_initializer, regularizer=self.pointwise_regularizer,
            constraint=self.pointwise_constraint)
        use_torch_layout_(self.pointwise_kernel, self._rank, self._channels_last)
        self._build_bias(self.filters)

    def _convolve(self, inputs: torch.Tensor) -> torch.Tensor:
        rank, channels_last = self._rank, self._channels_last
        x, padding = self._padded(inputs)
        in_channels = self.depthwise_kernel.shape[rank]
        conv = CONV[rank]
        depthwise = conv(to_torch_layout(x, rank, channels_last),
                         depthwise_torch_kernel(self.depthwise_kernel, rank), None, self.strides,
                         padding, self.dilation_rate, in_channels)
        y = conv(depthwise, torch_kernel(self.pointwise_kernel, rank), self.bias)
        return from_torch_layout(y, rank, channels_last)

    def get_config(self) -> Dict[str, Any]:
        config = super().get_config()
        config.update({
            "depth_multiplier": self.depth_multiplier,
            "depthwise_initializer": initializers.serialize(self.depthwise_initializer),
            "pointwise_initializer": initializers.serialize(self.pointwise_initializer),
            "depthwise_regularizer": regularizers.serialize(self.depthwise_regularizer),
            "pointwise_regularizer": regularizers.serialize(self.pointwise_regularizer),
            "depthwise_constraint": constraints.serialize(self.depthwise_constraint),
            "pointwise_constraint": constraints.serialize(self.pointwise_constraint),
        })
        return config


_SEPARABLE_ARGS_DOC = """
    Args:
        filters: the number of output filters (of the pointwise step).
        kernel_size, strides, padding, data_format, dilation_rate: of the depthwise step, as
            for Conv{rank}D{causal}.
        depth_multiplier: depthwise output channels per input channel.
        activation, use_bias: as for Conv{rank}D.
        depthwise_* / pointwise_* / bias_*: initializers, regularizers and constraints of
            ``depthwise_kernel``, ``pointwise_kernel`` and ``bias``.

    Weights: ``depthwise_kernel (*k, in, depth_multiplier)``,
    ``pointwise_kernel ({ones}in * depth_multiplier, filters)``, ``bias (filters,)``.
"""


class SeparableConv1D(_SeparableConv):
    """Depthwise separable 1D convolution.

    Input shape: ``(batch, steps, channels)``. Output shape: ``(batch, new_steps, filters)``.

    Example:
        >>> SeparableConv1D(4, 3)(np.zeros((2, 10, 3), "float32")).shape
        torch.Size([2, 8, 4])
    """

    _rank = 1
    _allows_causal = True


class SeparableConv2D(_SeparableConv):
    """Depthwise separable 2D convolution: a depthwise spatial convolution per input channel,
    then a pointwise convolution mixing the channels.

    Input shape: ``(batch, rows, cols, channels)``.
    Output shape: ``(batch, new_rows, new_cols, filters)``.

    Example:
        >>> SeparableConv2D(4, 3, padding="same")(Input(shape=(6, 6, 3))).shape
        (None, 6, 6, 4)
    """

    _rank = 2


SeparableConv1D.__doc__ += _SEPARABLE_ARGS_DOC.format(rank=1, causal=' (also ``"causal"``)',
                                                      ones="1, ")
SeparableConv2D.__doc__ += _SEPARABLE_ARGS_DOC.format(rank=2, causal="", ones="1, 1, ")
