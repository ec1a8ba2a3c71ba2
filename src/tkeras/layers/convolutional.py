"""Convolutional layers: Conv1D/2D/3D, their transposes, separable and depthwise
convolutions, and the Cropping, UpSampling and ZeroPadding layers in 1D/2D/3D.

Weights keep Keras's shapes (Conv kernel ``(*kernel_size, in_channels / groups, filters)``),
stored in the memory layout torch's convolutions take (``conv_utils.use_torch_layout_``:
torch's channels_last weight for channels_last data). Each call hands torch a permuted
*view* of the kernel and of channels_last data, which oneDNN runs as they are (no copy of
the weight at each call), so no second copy of a weight is stored and
constraints, regularizers, optimizers and ``set_weights`` always see Keras's shapes.

Padding follows TensorFlow: ``"same"`` pads ``max((ceil(n/s) - 1)*s + (k-1)*d + 1 - n, 0)``
in total, the odd pixel at the end; ``"causal"`` (Conv1D) pads ``(k-1)*d`` at the start.
Symmetric padding goes to torch's ``padding=`` argument; only asymmetric padding costs an
``F.pad`` of the input.

The helpers at the top (``normalize_tuple``, ``conv_output_length``, ``tf_padding``, ...) are
Keras's ``conv_utils``; the pooling and locally-connected layers use them too.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F

from .. import activations, constraints, initializers, regularizers
from ..backend import config as backend_config
from ..engine.base_layer import Layer, register_layer_alias
from ..engine.input_spec import InputSpec
from ..utils.conv_utils import (
    _with_spatial,
    conv_output_length,
    deconv_output_length,
    depthwise_torch_kernel,
    from_torch_layout,
    normalize_padding,
    normalize_tuple,
    pad_for_torch,
    pad_spec,
    spatial_shape,
    tf_padding,
    tf_same_padding,
    to_torch_layout,
    torch_kernel,
    use_torch_layout_,
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

Pads = List[Tuple[int, int]]

_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
_CONV_TRANSPOSE = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}


def _negative_output_error(layer: Layer, input_shape) -> ValueError:
    return ValueError(f"One of the dimensions in the output is <= 0 due to downsampling in "
                      f"{layer.name}. Consider increasing the input size. Received input shape "
                      f"{tuple(input_shape)} which would produce output shape with a zero or "
                      f"negative value in a dimension.")


# ---------------------------------------------------------------- the convolution base

class _Conv(Layer):
    """Shared machinery of every convolution: arguments, Keras-layout weights, TF padding,
    channels_last views for torch, output shapes and the config.

    Subclasses set ``_rank`` and override ``_build_weights`` / ``_convolve`` /
    ``_output_length`` / ``_output_channels`` where they differ.
    """

    _rank = 2
    _default_data_format: Optional[str] = None
    _allows_causal = False
    _supports_groups = True

    def __init__(self, filters: Optional[int], kernel_size, strides=1, padding: str = "valid",
                 data_format: Optional[str] = None, dilation_rate=1, groups: int = 1,
                 activation=None, use_bias: bool = True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        rank = self._rank
        self.filters = self._check_filters(filters)
        self.groups = self._check_groups(groups)
        self.kernel_size = normalize_tuple(kernel_size, rank, "kernel_size")
        self.strides = normalize_tuple(strides, rank, "strides", allow_zero=True)
        self.padding = normalize_padding(padding)
        self.data_format = backend_config.normalize_data_format(
            self._default_data_format if data_format is None else data_format)
        self.dilation_rate = normalize_tuple(dilation_rate, rank, "dilation_rate")
        self.activation = activations.get(activation)
        self._act = activations.tensor_form(self.activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.input_spec = InputSpec(min_ndim=rank + 2)
        self._validate_arguments()

    # .............................................................. validation

    def _check_filters(self, filters) -> Optional[int]:
        if filters is None:
            return None
        if isinstance(filters, float) and filters.is_integer():
            filters = int(filters)
        if not isinstance(filters, (int, np.integer)) or isinstance(filters, bool) or filters <= 0:
            raise ValueError(f"Invalid value for argument `filters` of {type(self).__name__}. "
                             f"Expected a strictly positive integer. Received: filters={filters}")
        return int(filters)

    def _check_groups(self, groups) -> int:
        if not isinstance(groups, (int, np.integer)) or isinstance(groups, bool) or groups <= 0:
            raise ValueError(f"The `groups` argument of {type(self).__name__} must be a positive "
                             f"integer. Received: groups={groups}")
        if groups != 1 and not self._supports_groups:
            raise ValueError(f"{type(self).__name__} does not support `groups`; expected groups=1. "
                             f"Received: groups={groups}")
        return int(groups)

    def _validate_arguments(self) -> None:
        if self.filters is not None and self.filters % self.groups != 0:
            raise ValueError("The number of filters must be evenly divisible by the number of "
                             f"groups. Received: groups={self.groups}, filters={self.filters}.")
        if 0 in self.strides:
            raise ValueError(f"The argument `strides` cannot contain 0(s). Received: "
                             f"strides={self.strides}")
        if self.padding == "causal" and not self._allows_causal:
            raise ValueError("Causal padding is only supported for `Conv1D` and `SeparableConv1D`. "
                             f"Received: padding='causal' for {type(self).__name__}")
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError("`strides > 1` not supported in conjunction with `dilation_rate > 1`. "
                             f"Received: strides={self.strides} and "
                             f"dilation_rate={self.dilation_rate}")

    # .............................................................. layout helpers

    @property
    def _channels_last(self) -> bool:
        return self.data_format == "channels_last"

    def _channel_axis(self) -> int:
        return -1 if self._channels_last else 1

    def _input_channels(self, input_shape) -> int:
        axis = self._channel_axis()
        channels = tuple(input_shape)[axis]
        if channels is None:
            raise ValueError("The channel dimension of the inputs should be defined. The "
                             f"input_shape received is {tuple(input_shape)}, where axis {axis} "
                             "(0-based) is the channel dimension, which found to be `None`.")
        return int(channels)

    # .............................................................. build

    def build(self, input_shape) -> None:
        input_shape = tuple(input_shape)
        in_channels = self._input_channels(input_shape)
        if in_channels % self.groups != 0:
            raise ValueError("The number of input channels must be evenly divisible by the number "
                             f"of groups. Received groups={self.groups}, but the input has "
                             f"{in_channels} channels (full input shape is {input_shape}).")
        self.compute_output_shape(input_shape)  # validates the output size
        self._build_weights(in_channels)
        self.input_spec = InputSpec(min_ndim=self._rank + 2,
                                    axes={self._channel_axis(): in_channels})
        self.built = True

    def _build_weights(self, in_channels: int) -> None:
        self.kernel = self.add_weight(
            "kernel", shape=self.kernel_size + (in_channels // self.groups, self.filters),
            initializer=self.kernel_initializer, regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint)
        use_torch_layout_(self.kernel, self._rank, self._channels_last)
        self._build_bias(self.filters)

    def _build_bias(self, size: int) -> None:
        if self.use_bias:
            self.bias = self.add_weight("bias", shape=(size,), initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint)
        else:
            self.bias = None

    # .............................................................. call

    def call(self, inputs):
        rank = self._rank
        batch_shape = None
        if inputs.dim() > rank + 2:  # several batch axes: fold them into one
            batch_shape = tuple(inputs.shape[:-rank - 1])
            inputs = inputs.reshape((-1,) + tuple(inputs.shape[-rank - 1:]))
        outputs = self._convolve(inputs)
        if batch_shape is not None:
            outputs = outputs.reshape(batch_shape + tuple(outputs.shape[1:]))
        if self._act is not None:
            outputs = self._act(outputs)
        return outputs

    def _padded(self, inputs: torch.Tensor) -> Tuple[torch.Tensor, Tuple[int, ...]]:
        """The input (padded only if the TF padding is asymmetric) and torch's ``padding=``."""
        sizes = spatial_shape(inputs.shape, self._rank, self._channels_last)
        pads = tf_padding(self.padding, sizes, self.kernel_size, self.strides, self.dilation_rate)
        return pad_for_torch(inputs, pads, self._channels_last)

    def _convolve(self, inputs: torch.Tensor) -> torch.Tensor:
        rank, channels_last = self._rank, self._channels_last
        x, padding = self._padded(inputs)
        y = _CONV[rank](to_torch_layout(x, rank, channels_last), torch_kernel(self.kernel, rank),
                        self.bias, self.strides, padding, self.dilation_rate, self.groups)
        return from_torch_layout(y, rank, channels_last)

    # .............................................................. shapes

    def _output_length(self, length: Optional[int], axis: int) -> Optional[int]:
        return conv_output_length(length, self.kernel_size[axis], self.padding,
                                  self.strides[axis], self.dilation_rate[axis])

    def _output_channels(self, input_shape) -> Optional[int]:
        return self.filters

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) < self._rank + 2:
            raise ValueError(f"Input 0 of layer \"{self.name}\" is incompatible with the layer: "
                             f"expected min_ndim={self._rank + 2}, found ndim={len(input_shape)}. "
                             f"Full shape received: {input_shape}")
        sizes = spatial_shape(input_shape, self._rank, self._channels_last)
        out = tuple(self._output_length(n, i) for i, n in enumerate(sizes))
        if any(o is not None and o <= 0 for o in out):
            raise _negative_output_error(self, input_shape)
        return _with_spatial(input_shape, self._rank, self._channels_last, out,
                             self._output_channels(input_shape))

    # .............................................................. config

    def get_config(self) -> Dict[str, Any]:
        config = super().get_config()
        config.update({
            "filters": self.filters,
            "kernel_size": list(self.kernel_size),
            "strides": list(self.strides),
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": list(self.dilation_rate),
            "groups": self.groups,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
        })
        return config


_CONV_ARGS_DOC = """
    Args:
        filters: the number of output filters.
        kernel_size: an int or a tuple of {rank} ints, the size of the convolution window.
        strides: an int or a tuple of {rank} ints (> 1 excludes dilation_rate > 1).
        padding: ``"valid"``, ``"same"`` (TensorFlow's: the odd pixel at the end){causal}.
            Case-insensitive.
        data_format: ``"channels_last"`` (default) or ``"channels_first"``.
        dilation_rate: an int or a tuple of {rank} ints.
        groups: the number of channel groups; input channels and filters must divide by it.
        activation: activation function (None: linear).
        use_bias: whether to add a bias vector.
        kernel_initializer / bias_initializer: initializers.
        kernel_regularizer / bias_regularizer / activity_regularizer: regularizers.
        kernel_constraint / bias_constraint: constraints.
"""


class Conv1D(_Conv):
    """1D convolution (temporal convolution).

    Weights: ``kernel (kernel_size, in_channels / groups, filters)``, ``bias (filters,)``.

    Input shape:
        ``(batch, steps, channels)`` (channels_last) or ``(batch, channels, steps)``.

    Output shape:
        ``(batch, new_steps, filters)`` (or channels_first); extra leading batch axes are kept.

    Example:
        >>> model = Sequential([Conv1D(32, 3, padding="causal", input_shape=(10, 8))])
        >>> model.output_shape
        (None, 10, 32)
    """

    _rank = 1
    _default_data_format = "channels_last"
    _allows_causal = True


class Conv2D(_Conv):
    """2D convolution (spatial convolution over images).

    Weights: ``kernel (kh, kw, in_channels / groups, filters)``, ``bias (filters,)``.

    Input shape:
        ``(batch, rows, cols, channels)`` (channels_last) or ``(batch, channels, rows, cols)``.

    Output shape:
        ``(batch, new_rows, new_cols, filters)`` (or channels_first).

    Example:
        >>> model = Sequential([Conv2D(64, (3, 3), padding="same", input_shape=(28, 28, 3))])
        >>> model.output_shape
        (None, 28, 28, 64)
    """

    _rank = 2


class Conv3D(_Conv):
    """3D convolution (spatial convolution over volumes).

    Weights: ``kernel (kd, kh, kw, in_channels / groups, filters)``, ``bias (filters,)``.

    Input shape:
        ``(batch, d1, d2, d3, channels)`` (channels_last) or ``(batch, channels, d1, d2, d3)``.

    Output shape:
        ``(batch, new_d1, new_d2, new_d3, filters)`` (or channels_first).

    Example:
        >>> Conv3D(4, 3)(np.zeros((1, 6, 6, 6, 2), "float32")).shape
        torch.Size([1, 4, 4, 4, 4])
    """

    _rank = 3


for _cls, _rank in ((Conv1D, 1), (Conv2D, 2), (Conv3D, 3)):
    _cls.__doc__ += _CONV_ARGS_DOC.format(
        rank=_rank, causal=' or ``"causal"`` (pads at the start)' if _rank == 1 else "")


# ---------------------------------------------------------------- transposed convolutions

class _ConvTranspose(_Conv):
    """Transposed convolution: kernel ``(*k, filters, in_channels)`` applied without flip,
    ``y[i*s + a*d - pad] += x[i] @ K[a].T``, with TensorFlow's output lengths and cropping."""

    _supports_groups = False

    def __init__(self, filters: int, kernel_size, strides=1, padding: str = "valid",
                 output_padding=None, data_format: Optional[str] = None, dilation_rate=1,
                 activation=None, use_bias: bool = True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 groups: int = 1, **kwargs):
        super().__init__(filters, kernel_size, strides=strides, padding=padding,
                         data_format=data_format, dilation_rate=dilation_rate, groups=groups,
                         activation=activation, use_bias=use_bias,
                         kernel_initializer=kernel_initializer, bias_initializer=bias_initializer,
                         kernel_regularizer=kernel_regularizer, bias_regularizer=bias_regularizer,
                         activity_regularizer=activity_regularizer,
                         kernel_constraint=kernel_constraint, bias_constraint=bias_constraint,
                         **kwargs)
        self.output_padding = None
        if output_padding is not None:
            self.output_padding = normalize_tuple(output_padding, self._rank, "output_padding",
                                                  allow_zero=True)
            for stride, pad in zip(self.strides, self.output_padding):
                if pad >= stride:
                    raise ValueError("Strides must be greater than output padding. Received "
                                     f"strides={self.strides}, "
                                     f"output_padding={self.output_padding}.")
        self.input_spec = InputSpec(ndim=self._rank + 2)

    def build(self, input_shape) -> None:
        super().build(input_shape)
        self.input_spec = InputSpec(ndim=self._rank + 2,
                                    axes={self._channel_axis(): self._input_channels(input_shape)})

    def _build_weights(self, in_channels: int) -> None:
        self.kernel = self.add_weight(
            "kernel", shape=self.kernel_size + (self.filters, in_channels),
            initializer=self.kernel_initializer, regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint)
        use_torch_layout_(self.kernel, self._rank, self._channels_last)
        self._build_bias(self.filters)

    def _output_length(self, length: Optional[int], axis: int) -> Optional[int]:
        out_pad = None if self.output_padding is None else self.output_padding[axis]
        return deconv_output_length(length, self.kernel_size[axis], self.padding, out_pad,
                                    self.strides[axis], self.dilation_rate[axis])

    def _torch_plan(self, length: int, axis: int) -> Tuple[int, int, int]:
        """(padding, output_padding, output length) for torch along one axis.

        TensorFlow crops the full transposed output (length ``(n-1)*s + (k-1)*d + 1``) from
        ``pad_before``, the "same" padding of the forward convolution over the output length.
        """
        k, s, d = self.kernel_size[axis], self.strides[axis], self.dilation_rate[axis]
        out_len = self._output_length(length, axis)
        pad_before = tf_same_padding(out_len, k, s, d)[0] if self.padding == "same" else 0
        full = (length - 1) * s + (k - 1) * d + 1
        extra = out_len - (full - 2 * pad_before)
        return pad_before, max(extra, 0), out_len

    def _convolve(self, inputs: torch.Tensor) -> torch.Tensor:
        rank, channels_last = self._rank, self._channels_last
        sizes = spatial_shape(inputs.shape, rank, channels_last)
        plans = [self._torch_plan(n, i) for i, n in enumerate(sizes)]
        y = _CONV_TRANSPOSE[rank](
            to_torch_layout(inputs, rank, channels_last), torch_kernel(self.kernel, rank),
            self.bias, self.strides, tuple(p[0] for p in plans), tuple(p[1] for p in plans),
            1, self.dilation_rate)
        if any(y.shape[2 + i] != plan[2] for i, plan in enumerate(plans)):
            y = y[(slice(None), slice(None)) + tuple(slice(0, plan[2]) for plan in plans)]
        return from_torch_layout(y, rank, channels_last)

    def get_config(self) -> Dict[str, Any]:
        config = super().get_config()
        padding = self.output_padding
        config["output_padding"] = None if padding is None else list(padding)
        return config


_TRANSPOSE_ARGS_DOC = """
    Args:
        filters: the number of output filters.
        kernel_size: an int or a tuple of {rank} ints.
        strides: an int or a tuple of {rank} ints.
        padding: ``"valid"`` or ``"same"`` (case-insensitive).
        output_padding: an int or a tuple of {rank} ints (each < its stride): extra length at
            the end; None gives ``n*s + max(k - s, 0)`` (valid) or ``n*s`` (same).
        data_format: ``"channels_last"`` or ``"channels_first"`` (default: image_data_format).
        dilation_rate: an int or a tuple of {rank} ints.
        activation, use_bias, *_initializer, *_regularizer, *_constraint: as for Conv{rank}D.
"""


class Conv1DTranspose(_ConvTranspose):
    """Transposed 1D convolution ("deconvolution").

    Weights: ``kernel (k, filters, in_channels)``, ``bias (filters,)``.

    Input shape: ``(batch, steps, channels)``. Output shape: ``(batch, new_steps, filters)``.

    Example:
        >>> Conv1DTranspose(4, 3)(np.zeros((2, 10, 3), "float32")).shape
        torch.Size([2, 12, 4])
    """

    _rank = 1


class Conv2DTranspose(_ConvTranspose):
    """Transposed 2D convolution ("deconvolution").

    Weights: ``kernel (kh, kw, filters, in_channels)``, ``bias (filters,)``.

    Input shape: ``(batch, rows, cols, channels)``.
    Output shape: ``(batch, new_rows, new_cols, filters)``.

    Example:
        >>> ipt = Input(shape=(2, 2, 1))
        >>> Conv2DTranspose(filters=1, kernel_size=(3, 3), padding="valid")(ipt).shape
        (None, 4, 4, 1)
    """

    _rank = 2


class Conv3DTranspose(_ConvTranspose):
    """Transposed 3D convolution ("deconvolution").

    Weights: ``kernel (kd, kh, kw, filters, in_channels)``, ``bias (filters,)``.
    As in tf-keras, dilation is not supported (dilation_rate must be 1) and the config has
    no ``dilation_rate``.

    Input shape: ``(batch, d1, d2, d3, channels)``.
    Output shape: ``(batch, new_d1, new_d2, new_d3, filters)``.

    Example:
        >>> Conv3DTranspose(4, 3)(np.zeros((1, 4, 4, 4, 2), "float32")).shape
        torch.Size([1, 6, 6, 6, 4])
    """

    _rank = 3

    def _validate_arguments(self) -> None:
        super()._validate_arguments()
        if max(self.dilation_rate) != 1:
            raise ValueError("Conv3DTranspose does not support dilation; expected "
                             "dilation_rate=(1, 1, 1). Received: "
                             f"dilation_rate={self.dilation_rate}")

    def get_config(self) -> Dict[str, Any]:
        config = super().get_config()
        config.pop("dilation_rate")
        return config


for _cls, _rank in ((Conv1DTranspose, 1), (Conv2DTranspose, 2), (Conv3DTranspose, 3)):
    _cls.__doc__ += _TRANSPOSE_ARGS_DOC.format(rank=_rank)


# ---------------------------------------------------------------- depthwise and separable

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
        self.depthwise_kernel = self.add_weight(
            "depthwise_kernel", shape=self.kernel_size + (in_channels, self.depth_multiplier),
            initializer=self.depthwise_initializer, regularizer=self.depthwise_regularizer,
            constraint=self.depthwise_constraint)
        use_torch_layout_(self.depthwise_kernel, self._rank, self._channels_last,
                          depthwise=True)
        self._build_bias(in_channels * self.depth_multiplier)

    def _convolve(self, inputs: torch.Tensor) -> torch.Tensor:
        rank, channels_last = self._rank, self._channels_last
        x, padding = self._padded(inputs)
        in_channels = self.depthwise_kernel.shape[rank]
        y = _CONV[rank](to_torch_layout(x, rank, channels_last),
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
        self.depthwise_kernel = self.add_weight(
            "depthwise_kernel", shape=self.kernel_size + (in_channels, self.depth_multiplier),
            initializer=self.depthwise_initializer, regularizer=self.depthwise_regularizer,
            constraint=self.depthwise_constraint)
        use_torch_layout_(self.depthwise_kernel, self._rank, self._channels_last,
                          depthwise=True)
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
        conv = _CONV[rank]
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


# ---------------------------------------------------------------- cropping / padding / upsampling

def _normalize_pairs(value, rank: int, name: str, layer: str) -> Tuple[Tuple[int, int], ...]:
    """Cropping / padding amounts as ``rank`` (before, after) pairs.

    1D: an int or 2 ints (before, after). 2D/3D: an int, ``rank`` ints (symmetric per axis)
    or ``rank`` pairs.
    """
    if rank == 1:
        return (normalize_tuple(value, 2, name, allow_zero=True),)
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return ((int(value), int(value)),) * rank
    expected = (f"`{name}` of {layer} should be either an int, a tuple of {rank} ints or a tuple "
                f"of {rank} tuples of 2 ints. Received: {name}={value}")
    if not hasattr(value, "__len__") or len(value) != rank:
        raise ValueError(expected)
    # an int entry is symmetric: normalize_tuple(3, 2, ...) == (3, 3)
    return tuple(normalize_tuple(entry, 2, f"entry {i} of {name}", allow_zero=True)
                 for i, entry in enumerate(value))


def _pairs_config(pairs: Tuple[Tuple[int, int], ...], rank: int):
    return list(pairs[0]) if rank == 1 else [list(p) for p in pairs]


class _SpatialLayer(Layer):
    """Shared data_format handling of the Cropping / ZeroPadding / UpSampling layers."""

    _rank = 2

    def _init_data_format(self, data_format: Optional[str]) -> None:
        self.data_format = "channels_last" if self._rank == 1 else \
            backend_config.normalize_data_format(data_format)
        self.input_spec = InputSpec(ndim=self._rank + 2)

    @property
    def _channels_last(self) -> bool:
        return self.data_format == "channels_last"

    def _spatial_axes(self) -> List[int]:
        start = 1 if self._channels_last else 2
        return list(range(start, start + self._rank))

    def _map_spatial(self, input_shape, fn) -> tuple:
        shape = list(input_shape)
        for i, axis in enumerate(self._spatial_axes()):
            shape[axis] = None if shape[axis] is None else fn(shape[axis], i)
        return tuple(shape)

    def get_config(self) -> Dict[str, Any]:
        config = super().get_config()
        if self._rank > 1:
            config["data_format"] = self.data_format
        return config


class _Cropping(_SpatialLayer):
    """Crops (before, after) elements along each spatial axis; a view of the input."""

    def __init__(self, cropping, data_format: Optional[str] = None, **kwargs):
        super().__init__(**kwargs)
        self.cropping = _normalize_pairs(cropping, self._rank, "cropping", type(self).__name__)
        self._init_data_format(data_format)

    def _cropped_length(self, length: int, axis: int) -> int:
        before, after = self.cropping[axis]
        out = length - before - after
        if out <= 0:
            raise ValueError(f"Cropping of layer \"{self.name}\" removes all of spatial axis "
                             f"{axis}: expected cropping smaller than the input size {length}. "
                             f"Received: cropping={self.cropping[axis]}")
        return out

    def compute_output_shape(self, input_shape):
        return self._map_spatial(input_shape, self._cropped_length)

    def call(self, inputs):
        index = [slice(None)] * inputs.dim()
        for i, axis in enumerate(self._spatial_axes()):
            length = inputs.shape[axis]
            index[axis] = slice(self.cropping[i][0],
                                self.cropping[i][0] + self._cropped_length(length, i))
        return inputs[tuple(index)]

    def get_config(self) -> Dict[str, Any]:
        config = super().get_config()
        config["cropping"] = _pairs_config(self.cropping, self._rank)
        return config


class Cropping1D(_Cropping):
    """Crops along the time axis: ``(batch, steps, features)`` ->
    ``(batch, steps - before - after, features)``.

    Args:
        cropping: an int or a tuple of 2 ints (before, after).

    Example:
        >>> Cropping1D((1, 2))(np.zeros((2, 10, 3), "float32")).shape
        torch.Size([2, 7, 3])
    """

    _rank = 1

    def __init__(self, cropping=(1, 1), **kwargs):
        super().__init__(cropping, **kwargs)


class Cropping2D(_Cropping):
    """Crops rows and columns of 4D image batches.

    Args:
        cropping: an int, 2 ints (symmetric rows, cols) or
            ``((top, bottom), (left, right))``.
        data_format: ``"channels_last"`` or ``"channels_first"``.

    Example:
        >>> model = Sequential([Cropping2D(((2, 2), (4, 4)), input_shape=(28, 28, 3))])
        >>> model.output_shape
        (None, 24, 20, 3)
    """

    _rank = 2

    def __init__(self, cropping=((0, 0), (0, 0)), data_format: Optional[str] = None, **kwargs):
        super().__init__(cropping, data_format, **kwargs)


class Cropping3D(_Cropping):
    """Crops the three spatial axes of 5D volumes.

    Args:
        cropping: an int, 3 ints or 3 pairs ``((d1_before, d1_after), ...)``.
        data_format: ``"channels_last"`` or ``"channels_first"``.

    Example:
        >>> Cropping3D(1)(np.zeros((1, 6, 6, 6, 2), "float32")).shape
        torch.Size([1, 4, 4, 4, 2])
    """

    _rank = 3

    def __init__(self, cropping=((1, 1), (1, 1), (1, 1)), data_format: Optional[str] = None,
                 **kwargs):
        super().__init__(cropping, data_format, **kwargs)


class _ZeroPadding(_SpatialLayer):
    """Pads (before, after) zeros along each spatial axis."""

    def __init__(self, padding, data_format: Optional[str] = None, **kwargs):
        super().__init__(**kwargs)
        self.padding = _normalize_pairs(padding, self._rank, "padding", type(self).__name__)
        self._init_data_format(data_format)

    def compute_output_shape(self, input_shape):
        return self._map_spatial(input_shape, lambda n, i: n + sum(self.padding[i]))

    def call(self, inputs):
        return F.pad(inputs, pad_spec(list(self.padding), self._channels_last))

    def get_config(self) -> Dict[str, Any]:
        config = super().get_config()
        config["padding"] = _pairs_config(self.padding, self._rank)
        return config


class ZeroPadding1D(_ZeroPadding):
    """Zero-pads the time axis: ``(batch, steps, features)`` ->
    ``(batch, before + steps + after, features)``.

    Args:
        padding: an int or a tuple of 2 ints (before, after).

    Example:
        >>> ZeroPadding1D(2)(np.zeros((2, 5, 3), "float32")).shape
        torch.Size([2, 9, 3])
    """

    _rank = 1

    def __init__(self, padding=1, **kwargs):
        super().__init__(padding, **kwargs)


class ZeroPadding2D(_ZeroPadding):
    """Zero-pads rows and columns of 4D image batches.

    Args:
        padding: an int, 2 ints (symmetric rows, cols) or ``((top, bottom), (left, right))``.
        data_format: ``"channels_last"`` or ``"channels_first"``.

    Example:
        >>> ZeroPadding2D((1, 2))(np.zeros((2, 4, 4, 3), "float32")).shape
        torch.Size([2, 6, 8, 3])
    """

    _rank = 2

    def __init__(self, padding=(1, 1), data_format: Optional[str] = None, **kwargs):
        super().__init__(padding, data_format, **kwargs)


class ZeroPadding3D(_ZeroPadding):
    """Zero-pads the three spatial axes of 5D volumes.

    Args:
        padding: an int, 3 ints or 3 pairs.
        data_format: ``"channels_last"`` or ``"channels_first"``.

    Example:
        >>> ZeroPadding3D(1)(np.zeros((1, 2, 3, 4, 2), "float32")).shape
        torch.Size([1, 4, 5, 6, 2])
    """

    _rank = 3

    def __init__(self, padding=(1, 1, 1), data_format: Optional[str] = None, **kwargs):
        super().__init__(padding, data_format, **kwargs)


def repeat_spatial(x: torch.Tensor, sizes: Sequence[int], axes: Sequence[int]) -> torch.Tensor:
    """Repeats every element ``sizes[i]`` times along ``axes[i]`` (nearest-neighbour
    upsampling by integer factors), with one expand + reshape."""
    view, expanded, final = [], [], []
    for axis, length in enumerate(x.shape):
        view.append(length)
        expanded.append(length)
        final.append(length)
        if axis in axes:
            factor = sizes[list(axes).index(axis)]
            view.append(1)
            expanded.append(factor)
            final[-1] = length * factor
    return x.reshape(view).expand(expanded).reshape(final)


class _UpSampling(_SpatialLayer):
    """Repeats rows / columns / steps ``size`` times (nearest neighbour)."""

    def __init__(self, size, data_format: Optional[str] = None, **kwargs):
        super().__init__(**kwargs)
        self.size = normalize_tuple(size, self._rank, "size")
        self._init_data_format(data_format)

    def compute_output_shape(self, input_shape):
        return self._map_spatial(input_shape, lambda n, i: n * self.size[i])

    def call(self, inputs):
        return repeat_spatial(inputs, self.size, self._spatial_axes())

    def get_config(self) -> Dict[str, Any]:
        config = super().get_config()
        config["size"] = list(self.size)
        return config


class UpSampling1D(_UpSampling):
    """Repeats each time step ``size`` times: ``(batch, steps, features)`` ->
    ``(batch, steps * size, features)``.

    Args:
        size: the upsampling factor (int).

    Example:
        >>> UpSampling1D(2)(np.zeros((2, 5, 3), "float32")).shape
        torch.Size([2, 10, 3])
    """

    _rank = 1

    def __init__(self, size: int = 2, **kwargs):
        super().__init__(size, **kwargs)

    def get_config(self) -> Dict[str, Any]:
        config = super().get_config()
        config["size"] = self.size[0]
        return config


class UpSampling2D(_UpSampling):
    """Upsamples rows and columns by integer factors.

    Args:
        size: an int or 2 ints (row, col factors).
        data_format: ``"channels_last"`` or ``"channels_first"``.
        interpolation: ``"nearest"`` (repeat) or ``"bilinear"`` (half-pixel centres, no
            antialiasing, as ``tf.image.resize``).

    Example:
        >>> UpSampling2D(size=(2, 2))(Input(shape=(2, 2, 1))).shape
        (None, 4, 4, 1)
    """

    _rank = 2
    _INTERPOLATIONS = ("nearest", "bilinear")

    def __init__(self, size=(2, 2), data_format: Optional[str] = None,
                 interpolation: str = "nearest", **kwargs):
        super().__init__(size, data_format, **kwargs)
        if interpolation not in self._INTERPOLATIONS:
            raise ValueError("`interpolation` argument of UpSampling2D should be one of "
                             f"{self._INTERPOLATIONS} (other tf.image methods are not supported "
                             f"by tkeras). Received: interpolation={interpolation!r}")
        self.interpolation = interpolation

    def call(self, inputs):
        if self.interpolation == "nearest":
            return super().call(inputs)
        channels_last = self._channels_last
        x = to_torch_layout(inputs, 2, channels_last)
        size = (x.shape[2] * self.size[0], x.shape[3] * self.size[1])
        y = F.interpolate(x, size=size, mode="bilinear", align_corners=False, antialias=False)
        return from_torch_layout(y, 2, channels_last)

    def get_config(self) -> Dict[str, Any]:
        config = super().get_config()
        config["interpolation"] = self.interpolation
        return config


class UpSampling3D(_UpSampling):
    """Repeats the three spatial axes of 5D volumes by integer factors.

    Args:
        size: an int or 3 ints.
        data_format: ``"channels_last"`` or ``"channels_first"``.

    Example:
        >>> UpSampling3D(2)(np.zeros((1, 2, 3, 4, 2), "float32")).shape
        torch.Size([1, 4, 6, 8, 2])
    """

    _rank = 3

    def __init__(self, size=(2, 2, 2), data_format: Optional[str] = None, **kwargs):
        super().__init__(size, data_format, **kwargs)


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
    from . import pooling  # imported lazily: pooling itself imports this module
    if name in pooling.__all__:
        return getattr(pooling, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
