"""Convolutional recurrent layers: ConvLSTM2D, its cell ConvLSTM2DCell and the ConvRNN2D base.

The input projection of every timestep is one batched convolution (time folded into the
batch); each step then runs the recurrent convolution. Weights are in Keras's layout:
``kernel (kh, kw, in, 4 filters)``, ``recurrent_kernel (kh, kw, filters, 4 filters)``,
``bias (4 filters,)``, gates i, f, c, o, and are named after the layer only
(``conv_lstm2d/kernel:0``), as in Keras.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

import torch
import torch.nn.functional as F

from .. import activations
from ..backend import config as backend_config
from ..utils.conv_utils import conv_output_length, normalize_tuple, tf_same_padding
from .recurrent import RNN, _CellLayer, forget_bias_initializer
from .rnn_cell_base import _RecurrentCell, build_sublayer_in_parent_scope, dropout_masked

__all__ = ["ConvRNN2D", "ConvLSTM2DCell", "ConvLSTM2D"]


def conv2d_nchw(x: torch.Tensor, weight: torch.Tensor, bias: Optional[torch.Tensor],
                strides: Tuple[int, int], padding: str, dilation: Tuple[int, int]) -> torch.Tensor:
    """Keras's 2D convolution on (batch, channels, rows, cols) data.

    ``weight`` is in Keras's layout (kh, kw, in, out); 'same' pads as TensorFlow does.
    """
    w = weight.permute(3, 2, 0, 1)
    pad: Any = 0
    if padding == "same":
        rows = tf_same_padding(x.shape[2], weight.shape[0], strides[0], dilation[0])
        cols = tf_same_padding(x.shape[3], weight.shape[1], strides[1], dilation[1])
        if rows[0] == rows[1] and cols[0] == cols[1]:
            pad = (rows[0], cols[0])
        else:
            x = F.pad(x, (cols[0], cols[1], rows[0], rows[1]))
    return F.conv2d(x, w, bias, strides, pad, dilation)


class ConvLSTM2DCell(_RecurrentCell):
    """Cell of ConvLSTM2D: an LSTM whose matmuls are 2D convolutions.

    Args:
        filters: number of output channels (of h and c).
        kernel_size: int or (kh, kw).
        strides, padding ('valid' / 'same'), data_format, dilation_rate: of the input
            convolution; the recurrent convolution uses stride 1 and 'same' padding.
        activation (tanh), recurrent_activation (hard_sigmoid), use_bias, initializers,
        unit_forget_bias, regularizers, constraints, dropout, recurrent_dropout: as LSTMCell.

    Example:
        >>> cell = ConvLSTM2DCell(4, 3, padding="same")
        >>> ConvRNN2D(cell)(np.zeros((1, 3, 5, 5, 2), "float32")).shape
        torch.Size([1, 5, 5, 4])
    """

    _gates = 4

    def __init__(self, filters: int, kernel_size, strides=(1, 1), padding: str = "valid",
                 data_format: Optional[str] = None, dilation_rate=(1, 1), activation="tanh",
                 recurrent_activation="hard_sigmoid", use_bias: bool = True, *,
                 unit_forget_bias: bool = True, **kwargs):
        # the weights' options and dropouts (kernel_initializer, ...) go to _RecurrentCell
        super().__init__(filters, activation=activation, use_bias=use_bias, **kwargs)
        self.filters = self.units
        self.kernel_size = normalize_tuple(kernel_size, 2, "kernel_size")
        self.strides = normalize_tuple(strides, 2, "strides")
        padding = str(padding).lower()
        if padding not in ("valid", "same"):
            raise ValueError("The `padding` argument must be one of 'valid', 'same'. "
                             f"Received: padding={padding}")
        self.padding = padding
        self.data_format = backend_config.normalize_data_format(data_format)
        self.dilation_rate = normalize_tuple(dilation_rate, 2, "dilation_rate")
        self.recurrent_activation = activations.get(recurrent_activation)
        self.unit_forget_bias = bool(unit_forget_bias)

    @property
    def state_size(self) -> Tuple[int, int]:
        return (self.filters, self.filters)

    @property
    def _channel_axis(self) -> int:
        return -1 if self.data_format == "channels_last" else 1

    def build(self, input_shape) -> None:
        if isinstance(input_shape, list):
            input_shape = input_shape[0]
        channels = input_shape[self._channel_axis]
        if channels is None:
            raise ValueError("The channel dimension of the inputs to ConvLSTM2D should be "
                             f"defined. Found None. Full input shape received: {input_shape}")
        kh, kw = self.kernel_size
        width = 4 * self.filters
        self.kernel = self.add_weight("kernel", shape=(kh, kw, int(channels), width),
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight("recurrent_kernel",
                                                shape=(kh, kw, self.filters, width),
                                                initializer=self.recurrent_initializer,
                                                regularizer=self.recurrent_regularizer,
                                                constraint=self.recurrent_constraint)
        init = forget_bias_initializer(self.bias_initializer, self.filters) \
            if self.unit_forget_bias else None
        self._add_bias((width,), init)
        self.built = True

    # .............................................................. convolutions

    def _to_nchw(self, x: torch.Tensor) -> torch.Tensor:
        return x.permute(0, 3, 1, 2) if self.data_format == "channels_last" else x

    def _from_nchw(self, x: torch.Tensor) -> torch.Tensor:
        return x.permute(0, 2, 3, 1) if self.data_format == "channels_last" else x

    def _gate_conv(self, xs: List[torch.Tensor], kernel, bias, strides, padding, dilation):
        """The 4 gate convolutions (one conv when every gate sees the same input)."""
        if all(x is xs[0] for x in xs):
            return conv2d_nchw(self._to_nchw(xs[0]), kernel, bias, strides, padding, dilation)
        kernels = kernel.chunk(4, dim=-1)
        biases = bias.chunk(4) if bias is not None else [None] * 4
        return torch.cat([conv2d_nchw(self._to_nchw(x), k, b, strides, padding, dilation)
                          for x, k, b in zip(xs, kernels, biases)], dim=1)

    def _project_inputs(self, inputs, training, over_time: bool = False):
        masks = self._input_masks(inputs, training, over_time, 4)
        xs = dropout_masked(inputs, masks, over_time, 4)
        if over_time:
            batch, steps = inputs.shape[:2]
            xs = [x.reshape((batch * steps,) + tuple(x.shape[2:])) for x in xs]
        out = self._gate_conv(xs, self.kernel, self.bias, self.strides, self.padding,
                              self.dilation_rate)
        out = self._from_nchw(out)
        if over_time:
            out = out.reshape((batch, steps) + tuple(out.shape[1:]))
        return out

    def _recurrent_step(self, projected, states, training):
        h_prev, c_prev = states[0], states[1]
        masks = self.get_recurrent_dropout_mask_for_cell(h_prev, training, count=4)
        hs = dropout_masked(h_prev, masks, False, 4)
        rec = self._from_nchw(self._gate_conv(hs, self.recurrent_kernel, None, (1, 1), "same",
                                              (1, 1)))
        z_i, z_f, z_c, z_o = (projected + rec).chunk(4, dim=self._channel_axis)
        ract, act = self.recurrent_activation, self.activation or (lambda t: t)
        i, f, o = ract(z_i), ract(z_f), ract(z_o)
        c = f * c_prev + i * act(z_c)
        h = o * act(c)
        return h, [h, c]

    # .............................................................. shapes / config

    def output_spatial(self, rows: Optional[int], cols: Optional[int]):
        """(rows, cols) of the output (and states) for input (rows, cols)."""
        return tuple(conv_output_length(n, k, self.padding, s, d) for n, k, s, d in zip(
            (rows, cols), self.kernel_size, self.strides, self.dilation_rate))

    def get_config(self) -> Dict[str, Any]:
        config = super().get_config()
        config.update({
            "filters": self.filters,
            "kernel_size": list(self.kernel_size),
            "strides": list(self.strides),
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": list(self.dilation_rate),
        })
        # then the recurrent cells' items in Keras's order (ConvLSTM2DCell has no "units")
        items = self._config_items({"unit_forget_bias": self.unit_forget_bias})
        del items["units"]
        config.update(items)
        return config


class _ConvRNNShapes:
    """Shapes of a convolutional RNN over (batch, time, rows, cols, channels) inputs
    (channels second after time with channels_first); states have the output's shape."""

    _input_ndim = 5

    def _spatial_step_shape(self, seq_shape) -> tuple:
        cell = self.cell
        batch = seq_shape[0]
        if cell.data_format == "channels_last":
            rows, cols = cell.output_spatial(seq_shape[2], seq_shape[3])
            return (batch, rows, cols, cell.filters)
        rows, cols = cell.output_spatial(seq_shape[3], seq_shape[4])
        return (batch, cell.filters, rows, cols)

    def _output_step_shape(self, seq_shape) -> tuple:
        return self._spatial_step_shape(seq_shape)

    def _state_shapes(self, seq_shape) -> List[tuple]:
        step = self._spatial_step_shape(seq_shape)
        return [step, step]

    def _feature_axis(self) -> int:
        return -1 if self.cell.data_format == "channels_last" else 2

    def _build_cell(self, cell_shape) -> None:
        build_sublayer_in_parent_scope(self, self.cell, cell_shape)


class ConvRNN2D(_ConvRNNShapes, RNN):
    """Base class for convolutional-recurrent layers: an RNN over 5D inputs whose cell
    (e.g. ConvLSTM2DCell) convolves; same arguments as RNN (no time_major).

    Example:
        >>> ConvRNN2D(ConvLSTM2DCell(4, 3), return_sequences=True)(np.zeros((1, 3, 5, 5, 2), "float32")).shape
        torch.Size([1, 3, 3, 3, 4])
    """


class ConvLSTM2D(_ConvRNNShapes, _CellLayer):
    """2D convolutional LSTM (Shi et al. 2015).

    Args:
        filters, kernel_size, strides, padding, data_format, dilation_rate, activation
        (tanh), recurrent_activation (hard_sigmoid), use_bias, kernel_initializer,
        recurrent_initializer, bias_initializer, unit_forget_bias, kernel_regularizer,
        recurrent_regularizer, bias_regularizer, activity_regularizer, kernel_constraint,
        recurrent_constraint, bias_constraint, dropout, recurrent_dropout: as ConvLSTM2DCell.
        return_sequences, return_state, go_backwards, stateful: as RNN.

    Input shape: ``(batch, time, rows, cols, channels)`` (channels_last) or
    ``(batch, time, channels, rows, cols)``.
    Output shape: ``(batch, [time,] new_rows, new_cols, filters)`` (channels_last).

    Example:
        >>> ConvLSTM2D(2, 3, padding="same")(np.zeros((1, 4, 5, 5, 3), "float32")).shape
        torch.Size([1, 5, 5, 2])
    """

    _cell_class = ConvLSTM2DCell
    _cell_name = "conv_lstm2d_cell"

    def __init__(self, filters: int, kernel_size, strides=(1, 1), padding: str = "valid",
                 data_format: Optional[str] = None, dilation_rate=(1, 1), activation="tanh",
                 recurrent_activation="hard_sigmoid", use_bias: bool = True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", unit_forget_bias: bool = True,
                 kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, return_sequences: bool = False, return_state: bool = False,
                 go_backwards: bool = False, stateful: bool = False, dropout: float = 0.0,
                 recurrent_dropout: float = 0.0, **kwargs):
        cell_kwargs = dict(filters=filters, kernel_size=kernel_size, strides=strides,
                           padding=padding, data_format=data_format, dilation_rate=dilation_rate,
                           activation=activation, recurrent_activation=recurrent_activation,
                           use_bias=use_bias, kernel_initializer=kernel_initializer,
                           recurrent_initializer=recurrent_initializer,
                           bias_initializer=bias_initializer, unit_forget_bias=unit_forget_bias,
                           kernel_regularizer=kernel_regularizer,
                           recurrent_regularizer=recurrent_regularizer,
                           bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
                           recurrent_constraint=recurrent_constraint,
                           bias_constraint=bias_constraint, dropout=dropout,
                           recurrent_dropout=recurrent_dropout)
        if kwargs.get("name") is None:  # tf-keras names it conv_lstm2d (not conv_lst_m2d)
            kwargs["name"] = backend_config.unique_object_name("conv_lstm2d")
        super().__init__(cell_kwargs, return_sequences=return_sequences,
                         return_state=return_state, go_backwards=go_backwards, stateful=stateful,
                         activity_regularizer=activity_regularizer, **kwargs)

    def __getattr__(self, name: str):
        if name in ("filters", "kernel_size", "strides", "padding", "data_format",
                    "dilation_rate"):
            cell = self.__dict__.get("_modules", {}).get("cell")
            if cell is not None and name in cell.__dict__:
                return cell.__dict__[name]
        return super().__getattr__(name)
