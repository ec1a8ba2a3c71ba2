"""The convolutions: the ``_Conv`` base, Conv1D/2D/3D and their transposes.

Weights keep Keras's shapes (Conv kernel ``(*kernel_size, in_channels / groups, filters)``),
stored in the memory layout torch's convolutions take (``conv_utils.use_torch_layout_``:
torch's channels_last weight for channels_last data). Each call hands torch a permuted
*view* of the kernel and of channels_last data, which oneDNN runs as they are (no copy of
the weight at each call), so no second copy of a weight is stored and
constraints, regularizers, optimizers and ``set_weights`` always see Keras's shapes.

Padding follows TensorFlow: ``"same"`` pads ``max((ceil(n/s) - 1)*s + (k-1)*d + 1 - n, 0)``
in total, the odd pixel at the end; ``"causal"`` (Conv1D) pads ``(k-1)*d`` at the start.
Symmetric padding goes to torch's ``padding=`` argument; only asymmetric padding costs an
``F.pad`` of the input. The helpers (``normalize_tuple``, ``conv_output_length``,
``tf_padding``, ...) are Keras's ``conv_utils``, in ``tkeras.utils.conv_utils``.
"""
from __future__ import annotations

from typing import Any, Dict, Optional, Tuple

import numpy as np
import torch

from ... import activations, constraints, initializers, regularizers
from ...backend import config as backend_config
from ...engine.base_layer import Layer
from ...engine.input_spec import InputSpec
from ...utils.conv_utils import (
    CONV,
    CONV_TRANSPOSE,
    conv_output_length,
    deconv_output_length,
    from_torch_layout,
    layout_orders,
    normalize_padding,
    normalize_tuple,
    pad_for_torch,
    spatial_shape,
    tf_padding,
    tf_same_padding,
    to_torch_layout,
    torch_kernel,
    use_torch_layout_,
    with_spatial,
)


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
        """The input (padded only if the TF padding is asymmetric) and torch's ``padding=``.

        The symmetric case is remembered for the last input shape: a model called on one
        shape (every step of a fit, every call of a ``K.function``) computes TF's padding
        once. (A compiled step computes it at trace time and leaves the cache alone.)
        """
        shape = inputs.shape
        compiling = torch.compiler.is_compiling()
        if not compiling:
            cached = self.__dict__.get("_padding_for")
            if cached is not None and cached[0] == shape:
                return inputs, cached[1]
        channels_last = self.data_format == "channels_last"
        sizes = spatial_shape(shape, self._rank, channels_last)
        pads = tf_padding(self.padding, sizes, self.kernel_size, self.strides, self.dilation_rate)
        x, padding = pad_for_torch(inputs, pads, channels_last)
        if x is inputs and not compiling:
            self.__dict__["_padding_for"] = (shape, padding)
        return x, padding

    def _convolve(self, inputs: torch.Tensor) -> torch.Tensor:
        rank = self._rank
        x, padding = self._padded(inputs)
        if self.data_format != "channels_last":
            return CONV[rank](x, torch_kernel(self.kernel, rank), self.bias, self.strides,
                              padding, self.dilation_rate, self.groups)
        to_torch, from_torch, kernel_order = layout_orders(rank)
        y = CONV[rank](x.permute(to_torch), self.kernel.permute(kernel_order), self.bias,
                       self.strides, padding, self.dilation_rate, self.groups)
        return y.permute(from_torch)

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
        return with_spatial(input_shape, self._rank, self._channels_last, out,
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
        y = CONV_TRANSPOSE[rank](
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
