"""Locally-connected layers: LocallyConnected1D and LocallyConnected2D.

Like a convolution, but every output position has its own filters. The three Keras
``implementation`` modes keep their own Keras weight layouts (so their weights load from
Keras files) and compute the same function:

* ``implementation=1``: ``kernel (positions, prod(kernel_size) * in, filters)``, row index
  ``k_pos * in + c`` (channels_last) or ``c * prod(kernel_size) + k_pos`` (channels_first).
* ``implementation=2``: a dense ``kernel (*in_spatial, in, *out_spatial, filters)``
  (channels_first: ``(in, *in_spatial, filters, *out_spatial)``) of which only the receptive
  fields count (Keras multiplies it by a 0/1 mask).
* ``implementation=3``: ``kernel (n,)``, the non-zero values of that matrix as a sparse
  ``(output_size, input_size)`` matrix with Keras's sorted ``(output_index, input_index)``
  pairs (flat indices in the data_format's order).

All three run the same vectorised computation: the input's windows are unfolded into
``(batch, positions, window)`` patches and multiplied by a per-position kernel with one
batched matmul. Implementations 2 and 3 gather that per-position kernel from their own
layout with a precomputed index (zeros where a "same" window hangs over the border).
"""
from __future__ import annotations

from typing import Any, Dict, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F

from .. import activations, constraints, initializers, regularizers
from ..backend import config as backend_config
from ..engine.base_layer import Layer
from ..engine.input_spec import InputSpec
from ..utils.conv_utils import conv_output_length, normalize_padding, normalize_tuple, pad_spec

__all__ = ["LocallyConnected1D", "LocallyConnected2D"]


def _window_inputs(in_sizes: Sequence[int], out_sizes: Sequence[int], kernel: Sequence[int],
                   strides: Sequence[int], left: Sequence[int]) -> Tuple[np.ndarray, np.ndarray]:
    """Flat input position of every (output position, kernel offset) pair, and whether it
    lies inside the input (False where a "same" window hangs over the border).

    Returns:
        (in_flat (P, K) int64, inside (P, K) bool).
    """
    rank = len(in_sizes)
    out_grid = np.indices(out_sizes).reshape(rank, -1).T      # (P, rank)
    k_grid = np.indices(kernel).reshape(rank, -1).T           # (K, rank)
    pos = out_grid[:, None, :] * np.asarray(strides) - np.asarray(left) + k_grid[None, :, :]
    inside = np.all((pos >= 0) & (pos < np.asarray(in_sizes)), axis=-1)
    clipped = np.clip(pos, 0, np.asarray(in_sizes) - 1)
    in_flat = np.ravel_multi_index(tuple(clipped.transpose(2, 0, 1)), tuple(in_sizes))
    return in_flat.astype(np.int64), inside


class _LocallyConnected(Layer):
    """Shared machinery of LocallyConnected1D/2D (see the module docstring)."""

    _rank = 1

    def __init__(self, filters: int, kernel_size, strides=1, padding: str = "valid",
                 data_format: Optional[str] = None, activation=None, use_bias: bool = True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, implementation: int = 1, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        rank = self._rank
        if not isinstance(filters, (int, np.integer)) or isinstance(filters, bool) or filters <= 0:
            raise ValueError(f"Invalid value for argument `filters` of {type(self).__name__}. "
                             f"Expected a strictly positive integer. Received: filters={filters}")
        self.filters = int(filters)
        self.kernel_size = normalize_tuple(kernel_size, rank, "kernel_size")
        self.strides = normalize_tuple(strides, rank, "strides")
        self.padding = normalize_padding(padding, ("valid", "same"))
        if implementation not in (1, 2, 3):
            raise ValueError(f"Unrecognized implementation mode for {type(self).__name__}: "
                             f"expected 1, 2 or 3. Received: implementation={implementation}")
        if self.padding != "valid" and implementation == 1:
            raise ValueError(f"Invalid border mode for {type(self).__name__} (only \"valid\" is "
                             f"supported if implementation is 1): {padding}")
        self.implementation = int(implementation)
        self.data_format = backend_config.normalize_data_format(data_format)
        self.activation = activations.get(activation)
        self._act = activations.tensor_form(self.activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.input_spec = InputSpec(ndim=rank + 2)

    # .............................................................. geometry

    @property
    def _channels_last(self) -> bool:
        return self.data_format == "channels_last"

    def _split_shape(self, input_shape) -> Tuple[tuple, Optional[int]]:
        shape = tuple(input_shape)
        if self._channels_last:
            return shape[1:-1], shape[-1]
        return shape[2:], shape[1]

    def _out_sizes(self, in_sizes) -> tuple:
        return tuple(conv_output_length(n, k, self.padding, s)
                     for n, k, s in zip(in_sizes, self.kernel_size, self.strides))

    def _pads(self, in_sizes, out_sizes):
        """Keras's "same" windows start ``k // 2`` before ``p * stride`` (border-clipped)."""
        if self.padding == "valid":
            return [(0, 0)] * self._rank
        pads = []
        for n, o, k, s in zip(in_sizes, out_sizes, self.kernel_size, self.strides):
            left = k // 2
            pads.append((left, max((o - 1) * s - left + k - n, 0)))
        return pads

    # .............................................................. build

    def build(self, input_shape) -> None:
        in_sizes, in_channels = self._split_shape(input_shape)
        if in_channels is None or any(n is None for n in in_sizes):
            raise ValueError(f"The spatial and channel dimensions of the inputs to a "
                             f"{type(self).__name__} layer should be fully defined, but layer "
                             f"\"{self.name}\" received input shape {tuple(input_shape)}")
        out_sizes = self._out_sizes(in_sizes)
        if any(o <= 0 for o in out_sizes):
            raise ValueError(f"One of the dimensions in the output is <= 0 due to downsampling "
                             f"in {self.name}. Consider increasing the input size. Received input "
                             f"shape {tuple(input_shape)} which would produce output shape with a "
                             f"zero or negative value in a dimension.")
        self._in_sizes, self._out_sizes_, self._in_channels = in_sizes, out_sizes, in_channels
        self.kernel = self.add_weight("kernel", shape=self._kernel_shape(),
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        if self.use_bias:
            self.bias = self.add_weight("bias", shape=tuple(out_sizes) + (self.filters,),
                                        initializer=self.bias_initializer,
                                        regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint)
        else:
            self.bias = None
        self._register_gather_index()
        axis = -1 if self._channels_last else 1
        self.input_spec = InputSpec(ndim=self._rank + 2, axes={axis: in_channels})
        self.built = True

    def _kernel_shape(self) -> tuple:
        in_sizes, out_sizes = self._in_sizes, self._out_sizes_
        c, f = self._in_channels, self.filters
        if self.implementation == 1:
            return (int(np.prod(out_sizes)), int(np.prod(self.kernel_size)) * c, f)
        if self.implementation == 2:
            if self._channels_last:
                return tuple(in_sizes) + (c,) + tuple(out_sizes) + (f,)
            return (c,) + tuple(in_sizes) + (f,) + tuple(out_sizes)
        return (int(self._slot_sources()[1].sum()) * c * f,)

    def _slot_sources(self) -> Tuple[np.ndarray, np.ndarray]:
        pads = self._pads(self._in_sizes, self._out_sizes_)
        return _window_inputs(self._in_sizes, self._out_sizes_, self.kernel_size, self.strides,
                              [p[0] for p in pads])

    def _register_gather_index(self) -> None:
        """For implementations 2 and 3: where each per-position kernel entry lives in the
        Keras kernel (and which entries are border padding, i.e. zero)."""
        if self.implementation == 1:
            self._gather_index, self._outside = None, None
            return
        index, inside = self._kernel_index()
        self.register_buffer("_gather_index", torch.tensor(index), persistent=False)
        outside = None if inside.all() else torch.tensor(~inside)
        self.register_buffer("_outside", outside, persistent=False)

    def _kernel_index(self) -> Tuple[np.ndarray, np.ndarray]:
        """Flat Keras-kernel index of every slot of the per-position kernel (P, window, F),
        window ordered like the patches (k_pos * C + c, or c * K + k_pos channels_first)."""
        in_flat, inside = self._slot_sources()                   # (P, K)
        n_in, n_out = int(np.prod(self._in_sizes)), int(np.prod(self._out_sizes_))
        c, f = self._in_channels, self.filters
        p = np.arange(n_out)[:, None, None, None]
        i = in_flat[:, :, None, None]
        ch = np.arange(c)[None, None, :, None]
        fi = np.arange(f)[None, None, None, :]
        channels_last = self._channels_last
        if self.implementation == 2:
            index = ((i * c + ch) * n_out + p) * f + fi if channels_last else \
                ((ch * n_in + i) * f + fi) * n_out + p
        else:  # 3: rank of (output_index, input_index) among Keras's sorted pairs
            out_idx = p * f + fi if channels_last else fi * n_out + p
            in_idx = i * c + ch if channels_last else ch * n_in + i
            keys = out_idx * (n_in * c) + in_idx
            full_inside = np.broadcast_to(inside[:, :, None, None], keys.shape)
            index = np.searchsorted(np.sort(keys[full_inside]), keys)
            index = np.where(full_inside, index, 0)
        index = np.broadcast_to(index, (n_out, in_flat.shape[1], c, f))
        inside = np.broadcast_to(inside[:, :, None, None], index.shape)
        if not channels_last:  # window order c * K + k_pos
            index, inside = index.transpose(0, 2, 1, 3), inside.transpose(0, 2, 1, 3)
        shape = (n_out, -1, f)
        return (np.ascontiguousarray(index).reshape(shape),
                np.ascontiguousarray(inside).reshape(shape))

    # .............................................................. call

    def _position_kernel(self) -> torch.Tensor:
        """The kernel as (positions, window, filters), whatever the implementation."""
        if self.implementation == 1:
            return self.kernel
        kernel = torch.take(self.kernel, self._gather_index)
        if self._outside is not None:
            kernel = kernel.masked_fill(self._outside, 0.0)
        return kernel

    def _patches(self, inputs: torch.Tensor) -> torch.Tensor:
        """(batch, positions, window) windows of the (padded) input, window ordered as the
        Keras implementation=1 kernel rows."""
        rank, channels_last = self._rank, self._channels_last
        in_sizes = inputs.shape[1:-1] if channels_last else inputs.shape[2:]
        pads = self._pads(tuple(in_sizes), self._out_sizes_)
        if any(before or after for before, after in pads):
            inputs = F.pad(inputs, pad_spec(pads, channels_last))
        first = 1 if channels_last else 2
        x = inputs
        for d in range(rank):
            x = x.unfold(first + d, self.kernel_size[d], self.strides[d])
        # x: (B, o..., C, k...) channels_last; (B, C, o..., k...) channels_first
        if channels_last:
            order = (0, *range(1, rank + 1), *range(rank + 2, 2 * rank + 2), rank + 1)
        else:
            order = (0, *range(2, rank + 2), 1, *range(rank + 2, 2 * rank + 2))
        x = x.permute(order)
        return x.reshape(x.shape[0], int(np.prod(self._out_sizes_)), -1)

    def call(self, inputs):
        patches = self._patches(inputs)                                  # (B, P, W)
        out = torch.einsum("bpw,pwf->bpf", patches, self._position_kernel())
        out = out.reshape((out.shape[0],) + tuple(self._out_sizes_) + (self.filters,))
        if self._channels_last:
            if self.bias is not None:
                out = out + self.bias
        else:
            out = out.permute(0, self._rank + 1, *range(1, self._rank + 1))
            if self.bias is not None:  # Keras's bias_add *reshapes* (not transposes) the bias
                out = out + self.bias.reshape((self.filters,) + tuple(self._out_sizes_))
        if self._act is not None:
            out = self._act(out)
        return out

    # .............................................................. shapes / config

    def compute_output_shape(self, input_shape):
        in_sizes, _ = self._split_shape(input_shape)
        out = self._out_sizes(in_sizes)
        if self._channels_last:
            return (tuple(input_shape)[0],) + out + (self.filters,)
        return (tuple(input_shape)[0], self.filters) + out

    def get_config(self) -> Dict[str, Any]:
        config = super().get_config()
        config.update({
            "filters": self.filters,
            "kernel_size": list(self.kernel_size),
            "strides": list(self.strides),
            "padding": self.padding,
            "data_format": self.data_format,
            "activation": activations.serialize(self.activation),
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
            "implementation": self.implementation,
        })
        return config


_LC_ARGS_DOC = """
    Args:
        filters: the number of output filters.
        kernel_size: an int or a tuple of {rank} ints.
        strides: an int or a tuple of {rank} ints.
        padding: ``"valid"``, or ``"same"`` with implementation 2 or 3 (windows start
            ``kernel_size // 2`` before each ``position * stride``, clipped at the border).
        data_format: ``"channels_last"`` or ``"channels_first"`` (default: image_data_format).
        activation, use_bias, kernel_* / bias_* initializers, regularizers, constraints.
        implementation: 1, 2 or 3, Keras's weight layouts (see the module docstring); all
            three compute the same outputs.
"""


class LocallyConnected1D(_LocallyConnected):
    """Locally-connected layer for 1D inputs: a Conv1D with unshared weights.

    Weights (implementation=1): ``kernel (out_steps, kernel_size * in, filters)``,
    ``bias (out_steps, filters)``.

    Input shape: ``(batch, steps, channels)``. Output shape: ``(batch, new_steps, filters)``.

    Example:
        >>> model = Sequential([LocallyConnected1D(64, 3, input_shape=(10, 32))])
        >>> model.output_shape
        (None, 8, 64)
    """

    _rank = 1


class LocallyConnected2D(_LocallyConnected):
    """Locally-connected layer for 2D inputs: a Conv2D with unshared weights.

    Weights (implementation=1): ``kernel (out_rows * out_cols, kh * kw * in, filters)``,
    ``bias (out_rows, out_cols, filters)``.

    Input shape: ``(batch, rows, cols, channels)``.
    Output shape: ``(batch, new_rows, new_cols, filters)``.

    Example:
        >>> LocallyConnected2D(4, 3)(np.zeros((1, 5, 5, 2), "float32")).shape
        torch.Size([1, 3, 3, 4])
    """

    _rank = 2

    def __init__(self, filters: int, kernel_size, strides=(1, 1), padding: str = "valid",
                 data_format: Optional[str] = None, activation=None, use_bias: bool = True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, implementation: int = 1, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, data_format, activation,
                         use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
                         bias_regularizer, activity_regularizer, kernel_constraint,
                         bias_constraint, implementation, **kwargs)


for _cls in (LocallyConnected1D, LocallyConnected2D):
    _cls.__doc__ += _LC_ARGS_DOC.format(rank=_cls._rank)
