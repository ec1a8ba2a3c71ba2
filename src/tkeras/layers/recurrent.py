"""Recurrent layers (Keras 2's ``keras.layers.recurrent``): SimpleRNN, GRU, LSTM and their
cells, with the RNN base, StackedRNNCells and Keras 2's CuDNNGRU / CuDNNLSTM re-exported
from the modules that define them.

The RNN base and its two paths (torch's fused kernels, or a step loop) are in
``rnn_base``; the cell bases, dropout masks and StackedRNNCells in ``rnn_cell_base``; the
CuDNN layers and their weight conversions in ``cudnn_recurrent`` (Keras 2's
``keras.layers.cudnn_recurrent``).
"""
from __future__ import annotations

import functools
from typing import Any, Dict, List

import numpy as np
import torch

from .. import activations, regularizers

# importable from here, as in Keras 2
from .cudnn_recurrent import CuDNNGRU, CuDNNLSTM, cudnn_to_keras_weights, keras_to_cudnn_weights  # noqa: F401

# re-exported
from .rnn_base import RNN, fused_kernel_cell, standardize_rnn_args  # noqa: F401
from .rnn_cell_base import (  # noqa: F401 - re-exported
    AbstractRNNCell,
    DropoutRNNCellMixin,
    StackedRNNCells,
    _RecurrentCell,
    build_sublayer_in_parent_scope,
    deserialize_sublayer,
    dropout_masked,
    gate_matmul,
    serialize_sublayer,
)

__all__ = [
    "RNN", "AbstractRNNCell", "StackedRNNCells", "SimpleRNNCell", "SimpleRNN", "GRUCell", "GRU",
    "LSTMCell", "LSTM", "CuDNNGRU", "CuDNNLSTM",
]


# ------------------------------------------------------------------ fused-kernel activation checks

@functools.lru_cache(maxsize=None)
def _named_activations(name: str) -> tuple:
    return (activations.get(name), getattr(torch, name, None))


def _is_activation(fn, name: str) -> bool:
    """Whether ``fn`` is Keras's (or torch's) activation ``name``."""
    return any(fn is f for f in _named_activations(name))


# ------------------------------------------------------------------ SimpleRNN cell

@fused_kernel_cell
class SimpleRNNCell(_RecurrentCell):
    """Cell of a fully connected RNN: ``h = activation(x W + b + h_prev U)``.

    Args:
        units: dimensionality of the output (and state).
        activation: activation function (default tanh).
        use_bias, kernel_initializer, recurrent_initializer, bias_initializer,
        kernel_regularizer, recurrent_regularizer, bias_regularizer, kernel_constraint,
        recurrent_constraint, bias_constraint: the weights' options.
        dropout / recurrent_dropout: fraction of the inputs / states dropped in training.

    Weights: ``kernel (input_dim, units)``, ``recurrent_kernel (units, units)``, ``bias (units,)``.

    Example:
        >>> RNN(SimpleRNNCell(4))(np.zeros((2, 5, 3), "float32")).shape
        torch.Size([2, 4])
    """

    @property
    def state_size(self) -> int:
        return self.units

    def _project_inputs(self, inputs, training, over_time: bool = False):
        masks = self._input_masks(inputs, training, over_time, 1)
        x = dropout_masked(inputs, masks, over_time, 1)[0]
        out = torch.matmul(x, self.kernel)
        return out + self.bias if self.bias is not None else out

    def _recurrent_step(self, projected, states, training):
        prev = states[0]
        rec_masks = self.get_recurrent_dropout_mask_for_cell(prev, training, count=1)
        if rec_masks is not None:
            prev = prev * rec_masks[0]
        output = projected + torch.matmul(prev, self.recurrent_kernel)
        if self.activation is not None:
            output = self.activation(output)
        return output, [output]

    def _fused_ok(self, training) -> bool:
        act = self.activation
        return (_is_activation(act, "tanh") or _is_activation(act, "relu")) and \
            self._no_recurrent_dropout(training)

    def _fused_sequence(self, x, states, go_backwards: bool, training):
        x = self._dropped_sequence(x, training)
        if go_backwards:
            x = x.flip(1)
        params = [self.kernel.t(), self.recurrent_kernel.t()]
        if self.use_bias:
            params += [self.bias, torch.zeros_like(self.bias)]
        op = torch.rnn_tanh if _is_activation(self.activation, "tanh") else torch.rnn_relu
        outputs, h = op(x, states[0].unsqueeze(0), params, self.use_bias, 1, 0.0, bool(training),
                        False, True)
        return outputs, [h[0]]

    def get_config(self) -> Dict[str, Any]:
        config = super().get_config()
        config.update(self._config_items({}))
        return config


# ------------------------------------------------------------------ GRU cell

def _reorder_zrh_to_rzh(w: torch.Tensor, units: int, dim: int = -1) -> torch.Tensor:
    """Keras's GRU gate blocks (z, r, h) along ``dim`` -> torch's (r, z, n)."""
    z, r, h = w.split(units, dim=dim)
    return torch.cat([r, z, h], dim=dim)


@fused_kernel_cell
class GRUCell(_RecurrentCell):
    """Cell of the Gated Recurrent Unit (gate order z, r, h).

    ``z = rec_act(x W_z + h U_z + b_z)``, ``r = rec_act(x W_r + h U_r + b_r)``,
    ``reset_after=True``: ``hh = act(x W_h + b_in_h + r * (h U_h + b_rec_h))``;
    ``reset_after=False``: ``hh = act(x W_h + b_h + (r * h) U_h)``;
    ``h' = z * h + (1 - z) * hh``.

    Args:
        units: dimensionality of the output (and state).
        activation: default tanh. recurrent_activation: default sigmoid.
        reset_after: apply the reset gate after the recurrent matmul (tf.keras 2 default,
            the cuDNN form; bias shape (2, 3 * units)) or before (bias (3 * units,)).
        implementation: 1 (one dropout mask per gate) or 2 (one mask); same numbers otherwise.
        (other arguments as SimpleRNNCell)

    Example:
        >>> RNN(GRUCell(4))(np.zeros((2, 5, 3), "float32")).shape
        torch.Size([2, 4])
    """

    _gates = 3

    def __init__(self, units: int, activation="tanh", recurrent_activation="sigmoid",
                 use_bias: bool = True, *, implementation: int = 2, reset_after: bool = True,
                 **kwargs):
        # the weights' options and dropouts (kernel_initializer, ...) go to _RecurrentCell
        super().__init__(units, activation=activation, use_bias=use_bias, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.implementation = int(implementation)
        self.reset_after = bool(reset_after)

    @property
    def state_size(self) -> int:
        return self.units

    def _bias_shape(self) -> tuple:
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def _project_inputs(self, inputs, training, over_time: bool = False):
        count = 3 if self.implementation == 1 else 1
        masks = self._input_masks(inputs, training, over_time, count)
        out = gate_matmul(dropout_masked(inputs, masks, over_time, 3), self.kernel, 3)
        if self.bias is not None:
            out = out + (self.bias[0] if self.reset_after else self.bias)
        return out

    def _recurrent_inputs(self, h, training) -> List[torch.Tensor]:
        count = 3 if self.implementation == 1 else 1
        masks = self.get_recurrent_dropout_mask_for_cell(h, training, count=count)
        return dropout_masked(h, masks, False, 3)

    def _recurrent_step(self, projected, states, training):
        h_prev = states[0]
        hs = self._recurrent_inputs(h_prev, training)
        x_z, x_r, x_h = projected.chunk(3, dim=-1)
        ract = self.recurrent_activation
        if self.reset_after:
            inner = gate_matmul(hs, self.recurrent_kernel, 3)
            if self.bias is not None:
                inner = inner + self.bias[1]
            i_z, i_r, i_h = inner.chunk(3, dim=-1)
            z = ract(x_z + i_z)
            r = ract(x_r + i_r)
            candidate = x_h + r * i_h
        else:
            u = self.units
            rk = self.recurrent_kernel
            z = ract(x_z + torch.matmul(hs[0], rk[:, :u]))
            r = ract(x_r + torch.matmul(hs[1], rk[:, u:2 * u]))
            candidate = x_h + torch.matmul(r * hs[2], rk[:, 2 * u:])
        hh = self.activation(candidate) if self.activation is not None else candidate
        h = z * h_prev + (1 - z) * hh
        return h, [h]

    def _fused_ok(self, training) -> bool:
        return self.reset_after and _is_activation(self.activation, "tanh") and \
            _is_activation(self.recurrent_activation, "sigmoid") and \
            self._no_recurrent_dropout(training) and self._single_input_mask(training)

    def _torch_params(self) -> List[torch.Tensor]:
        u = self.units
        # torch's (3u, in) weights, gathered from the transposed views: one contiguous copy
        params = [_reorder_zrh_to_rzh(self.kernel.t(), u, dim=0),
                  _reorder_zrh_to_rzh(self.recurrent_kernel.t(), u, dim=0)]
        if self.use_bias:
            b = _reorder_zrh_to_rzh(self.bias, u)
            params += [b[0], b[1]]
        return params

    def _fused_sequence(self, x, states, go_backwards: bool, training):
        x = self._dropped_sequence(x, training)
        if go_backwards:
            x = x.flip(1)
        outputs, h = torch.gru(x, states[0].unsqueeze(0), self._torch_params(), self.use_bias, 1,
                               0.0, bool(training), False, True)
        return outputs, [h[0]]

    def get_config(self) -> Dict[str, Any]:
        config = super().get_config()
        config.update(self._config_items({}))
        config["implementation"] = self.implementation
        config["reset_after"] = self.reset_after
        return config


# ------------------------------------------------------------------ LSTM cell

def forget_bias_initializer(base, units: int):
    """Keras's unit_forget_bias: the forget-gate block of the bias starts at one."""
    def initializer(shape, dtype=None, **kwargs):
        head = torch.as_tensor(np.asarray(base((units,), dtype=dtype)))
        tail = torch.as_tensor(np.asarray(base((2 * units,), dtype=dtype)))
        return torch.cat([head, torch.ones(units, dtype=head.dtype), tail])
    return initializer


@fused_kernel_cell
class LSTMCell(_RecurrentCell):
    """Cell of the Long Short-Term Memory layer (gate order i, f, c, o).

    ``i = rec_act(.)``, ``f = rec_act(.)``, ``c' = f * c + i * act(x W_c + h U_c + b_c)``,
    ``o = rec_act(.)``, ``h' = o * act(c')``.

    Args:
        units: dimensionality of the output (and of both states h and c).
        activation: default tanh. recurrent_activation: default sigmoid.
        unit_forget_bias: start the forget gate's bias at 1 (bias initializer elsewhere).
        implementation: 1 (one dropout mask per gate) or 2 (one mask); same numbers otherwise.
        (other arguments as SimpleRNNCell)

    Weights: ``kernel (input_dim, 4 units)``, ``recurrent_kernel (units, 4 units)``,
    ``bias (4 units,)``.

    Example:
        >>> RNN(LSTMCell(4))(np.zeros((2, 5, 3), "float32")).shape
        torch.Size([2, 4])
    """

    _gates = 4

    def __init__(self, units: int, activation="tanh", recurrent_activation="sigmoid",
                 use_bias: bool = True, *, unit_forget_bias: bool = True,
                 implementation: int = 2, **kwargs):
        # the weights' options and dropouts (kernel_initializer, ...) go to _RecurrentCell
        super().__init__(units, activation=activation, use_bias=use_bias, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.unit_forget_bias = bool(unit_forget_bias)
        self.implementation = int(implementation)

    @property
    def state_size(self) -> List[int]:
        return [self.units, self.units]

    def _bias_initializer_fn(self):
        if self.unit_forget_bias:
            return forget_bias_initializer(self.bias_initializer, self.units)
        return None

    def _project_inputs(self, inputs, training, over_time: bool = False):
        count = 4 if self.implementation == 1 else 1
        masks = self._input_masks(inputs, training, over_time, count)
        out = gate_matmul(dropout_masked(inputs, masks, over_time, 4), self.kernel, 4)
        return out + self.bias if self.bias is not None else out

    def _recurrent_step(self, projected, states, training):
        h_prev, c_prev = states[0], states[1]
        count = 4 if self.implementation == 1 else 1
        masks = self.get_recurrent_dropout_mask_for_cell(h_prev, training, count=count)
        z = projected + gate_matmul(dropout_masked(h_prev, masks, False, 4), self.recurrent_kernel, 4)
        z_i, z_f, z_c, z_o = z.chunk(4, dim=-1)
        ract, act = self.recurrent_activation, self.activation or (lambda t: t)
        i, f, o = ract(z_i), ract(z_f), ract(z_o)
        c = f * c_prev + i * act(z_c)
        h = o * act(c)
        return h, [h, c]

    def _fused_ok(self, training) -> bool:
        return _is_activation(self.activation, "tanh") and \
            _is_activation(self.recurrent_activation, "sigmoid") and \
            self._no_recurrent_dropout(training) and self._single_input_mask(training)

    def _fused_sequence(self, x, states, go_backwards: bool, training):
        x = self._dropped_sequence(x, training)
        if go_backwards:
            x = x.flip(1)
        params = [self.kernel.t(), self.recurrent_kernel.t()]
        if self.use_bias:
            params += [self.bias, torch.zeros_like(self.bias)]
        hx = (states[0].unsqueeze(0), states[1].unsqueeze(0))
        outputs, h, c = torch.lstm(x, hx, params, self.use_bias, 1, 0.0, bool(training), False,
                                   True)
        return outputs, [h[0], c[0]]

    def get_config(self) -> Dict[str, Any]:
        config = super().get_config()
        config.update(self._config_items({"unit_forget_bias": self.unit_forget_bias}))
        config["implementation"] = self.implementation
        return config


# ------------------------------------------------------------------ the cell-owning layers

_CELL_ATTRIBUTES = ("units", "activation", "recurrent_activation", "use_bias",
                    "kernel_initializer", "recurrent_initializer", "bias_initializer",
                    "unit_forget_bias", "kernel_regularizer", "recurrent_regularizer",
                    "bias_regularizer", "kernel_constraint", "recurrent_constraint",
                    "bias_constraint", "dropout", "recurrent_dropout", "implementation",
                    "reset_after")


class _CellLayer(RNN):
    """An RNN that owns its built-in cell (SimpleRNN, GRU, LSTM): the cell's arguments are
    the layer's, and the layer's config is flat (no "cell" key), as in Keras."""

    _cell_class: type = _RecurrentCell
    _cell_name = "cell"

    def __init__(self, cell_kwargs: Dict[str, Any], return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, unroll=False, time_major=False, **kwargs):
        cell = self._cell_class(name=self._cell_name, dtype=kwargs.get("dtype"),
                                trainable=kwargs.get("trainable", True), **cell_kwargs)
        super().__init__(cell, return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, unroll=unroll,
                         time_major=time_major, **kwargs)

    def __getattr__(self, name: str):
        if name in _CELL_ATTRIBUTES:
            cell = self.__dict__.get("_modules", {}).get("cell")
            if cell is not None and name in cell.__dict__:
                return cell.__dict__[name]
        return super().__getattr__(name)

    def get_config(self) -> Dict[str, Any]:
        config = self._rnn_config()
        for key, value in self.cell.get_config().items():
            if key in ("name", "trainable", "dtype"):
                continue
            config[key] = value
            if key == "bias_regularizer":
                config["activity_regularizer"] = regularizers.serialize(self.activity_regularizer)
        return config

    @classmethod
    def from_config(cls, config: Dict[str, Any], custom_objects=None):
        config = dict(config)
        if config.get("implementation") == 0:  # Keras 2.0 files
            config["implementation"] = 1
        return cls(**config)

    def set_weights(self, weights) -> None:
        super().set_weights(self.convert_loaded_weights(list(weights)))

    def convert_loaded_weights(self, values: List[np.ndarray]) -> List[np.ndarray]:
        """Weights saved in another Keras 2 layout become this layer's (see subclasses)."""
        return values


class SimpleRNN(_CellLayer):
    """Fully connected RNN whose output is fed back as its state.

    Args:
        units, activation (default tanh), use_bias, kernel_initializer, recurrent_initializer,
        bias_initializer, kernel_regularizer, recurrent_regularizer, bias_regularizer,
        activity_regularizer, kernel_constraint, recurrent_constraint, bias_constraint,
        dropout, recurrent_dropout: as SimpleRNNCell.
        return_sequences, return_state, go_backwards, stateful, unroll, time_major: as RNN.

    Example:
        >>> SimpleRNN(4)(np.zeros((2, 5, 3), "float32")).shape
        torch.Size([2, 4])
    """

    _cell_class = SimpleRNNCell
    _cell_name = "simple_rnn_cell"

    def __init__(self, units: int, activation="tanh", use_bias: bool = True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout: float = 0.0,
                 recurrent_dropout: float = 0.0, return_sequences: bool = False,
                 return_state: bool = False, go_backwards: bool = False, stateful: bool = False,
                 unroll: bool = False, **kwargs):
        kwargs.pop("implementation", None)
        cell_kwargs = dict(units=units, activation=activation, use_bias=use_bias,
                           kernel_initializer=kernel_initializer,
                           recurrent_initializer=recurrent_initializer,
                           bias_initializer=bias_initializer,
                           kernel_regularizer=kernel_regularizer,
                           recurrent_regularizer=recurrent_regularizer,
                           bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
                           recurrent_constraint=recurrent_constraint,
                           bias_constraint=bias_constraint, dropout=dropout,
                           recurrent_dropout=recurrent_dropout)
        super().__init__(cell_kwargs, return_sequences=return_sequences,
                         return_state=return_state, go_backwards=go_backwards, stateful=stateful,
                         unroll=unroll, activity_regularizer=activity_regularizer, **kwargs)


class GRU(_CellLayer):
    """Gated Recurrent Unit (Cho et al. 2014), tf.keras 2 semantics.

    Args:
        units, activation (tanh), recurrent_activation (sigmoid), use_bias, initializers,
        regularizers, constraints, dropout, recurrent_dropout, implementation: as GRUCell.
        reset_after: True (default; cuDNN-compatible, bias (2, 3 units)) or False
            (standalone Keras 2's default, bias (3 units,)).
        return_sequences, return_state, go_backwards, stateful, unroll, time_major: as RNN.

    With ``reset_after=True``, tanh / sigmoid, no mask and no recurrent dropout the layer
    runs torch's fused GRU kernel.

    Example:
        >>> GRU(4)(np.zeros((2, 5, 3), "float32")).shape
        torch.Size([2, 4])
        >>> GRU(4, return_sequences=True)(np.zeros((2, 5, 3), "float32")).shape
        torch.Size([2, 5, 4])
    """

    _cell_class = GRUCell
    _cell_name = "gru_cell"

    def __init__(self, units: int, activation="tanh", recurrent_activation="sigmoid",
                 use_bias: bool = True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros",
                 kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, dropout: float = 0.0, recurrent_dropout: float = 0.0,
                 implementation: int = 2, return_sequences: bool = False,
                 return_state: bool = False, go_backwards: bool = False, stateful: bool = False,
                 unroll: bool = False, time_major: bool = False, reset_after: bool = True,
                 **kwargs):
        cell_kwargs = dict(units=units, activation=activation,
                           recurrent_activation=recurrent_activation, use_bias=use_bias,
                           kernel_initializer=kernel_initializer,
                           recurrent_initializer=recurrent_initializer,
                           bias_initializer=bias_initializer,
                           kernel_regularizer=kernel_regularizer,
                           recurrent_regularizer=recurrent_regularizer,
                           bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
                           recurrent_constraint=recurrent_constraint,
                           bias_constraint=bias_constraint, dropout=dropout,
                           recurrent_dropout=recurrent_dropout, implementation=implementation,
                           reset_after=reset_after)
        super().__init__(cell_kwargs, return_sequences=return_sequences,
                         return_state=return_state, go_backwards=go_backwards, stateful=stateful,
                         unroll=unroll, time_major=time_major,
                         activity_regularizer=activity_regularizer, **kwargs)

    @classmethod
    def from_config(cls, config: Dict[str, Any], custom_objects=None):
        config = dict(config)
        # Configs without the key come from Keras < 2.1.3, whose only GRU was reset-before.
        config.setdefault("reset_after", False)
        return super().from_config(config, custom_objects)

    def convert_loaded_weights(self, values):
        """Keras 2 CuDNNGRU weights (bias (6 units,)) become GRU(reset_after=True) weights."""
        if len(values) == 3 and np.shape(values[2]) == (6 * self.cell.units,):
            if not self.cell.reset_after:
                raise ValueError(f'Layer "{self.name}": CuDNNGRU weights can only be loaded into a '
                                 "GRU with reset_after=True (the cuDNN formula); this layer has "
                                 "reset_after=False.")
            return cudnn_to_keras_weights(values, gates=3)
        return values


class LSTM(_CellLayer):
    """Long Short-Term Memory layer (Hochreiter 1997), tf.keras 2 semantics.

    Args:
        units, activation (tanh), recurrent_activation (sigmoid; standalone Keras <= 2.2
        defaulted to hard_sigmoid), use_bias, initializers, unit_forget_bias, regularizers,
        constraints, dropout, recurrent_dropout, implementation: as LSTMCell.
        return_sequences, return_state, go_backwards, stateful, unroll, time_major: as RNN.

    With tanh / sigmoid, no mask and no recurrent dropout the layer runs torch's fused LSTM
    kernel (the one behind ``torch.nn.LSTM``).

    Example:
        >>> model = Sequential([LSTM(32, return_sequences=True, input_shape=(10, 16)), LSTM(32)])
        >>> model.output_shape
        (None, 32)
    """

    _cell_class = LSTMCell
    _cell_name = "lstm_cell"

    def __init__(self, units: int, activation="tanh", recurrent_activation="sigmoid",
                 use_bias: bool = True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias: bool = True, kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, recurrent_constraint=None, bias_constraint=None,
                 dropout: float = 0.0, recurrent_dropout: float = 0.0, implementation: int = 2,
                 return_sequences: bool = False, return_state: bool = False,
                 go_backwards: bool = False, stateful: bool = False, time_major: bool = False,
                 unroll: bool = False, **kwargs):
        cell_kwargs = dict(units=units, activation=activation,
                           recurrent_activation=recurrent_activation, use_bias=use_bias,
                           kernel_initializer=kernel_initializer,
                           recurrent_initializer=recurrent_initializer,
                           bias_initializer=bias_initializer, unit_forget_bias=unit_forget_bias,
                           kernel_regularizer=kernel_regularizer,
                           recurrent_regularizer=recurrent_regularizer,
                           bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
                           recurrent_constraint=recurrent_constraint,
                           bias_constraint=bias_constraint, dropout=dropout,
                           recurrent_dropout=recurrent_dropout, implementation=implementation)
        super().__init__(cell_kwargs, return_sequences=return_sequences,
                         return_state=return_state, go_backwards=go_backwards, stateful=stateful,
                         unroll=unroll, time_major=time_major,
                         activity_regularizer=activity_regularizer, **kwargs)

    def convert_loaded_weights(self, values):
        """Keras 2 CuDNNLSTM weights (bias (8 units,)) become LSTM weights."""
        if len(values) == 3 and np.shape(values[2]) == (8 * self.cell.units,):
            return cudnn_to_keras_weights(values, gates=4)
        return values
