"""Recurrent layers: the RNN base, SimpleRNN, GRU, LSTM, their cells, StackedRNNCells and
Keras 2's CuDNNGRU / CuDNNLSTM.

A sequence runs on one of two paths, with the same numbers:

* the fused path: torch's public sequence ops (``torch.lstm``, ``torch.gru``,
  ``torch.rnn_tanh``, ``torch.rnn_relu``, the kernels behind ``torch.nn.LSTM`` & co.) when
  the configuration is exactly what those kernels compute: LSTM with tanh / sigmoid, GRU
  with ``reset_after=True`` and tanh / sigmoid, SimpleRNN with tanh or relu; no mask, no
  constants, no recurrent dropout in training. The Keras-layout weights are converted to
  torch's layout on every call (transposed views; GRU's gates reordered z, r, h -> r, z, n),
  so optimizers, constraints and ``set_weights`` keep working on the Keras parameters.
* the step loop: the input projection of all timesteps in one matmul (built-in cells), then
  one recurrent step per timestep. It handles masks, dropout, constants and any cell.
"""
from __future__ import annotations

import functools
import inspect
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
import torch

from .. import activations, constraints, initializers, regularizers
from ..backend import config as backend_config
from ..engine.base_layer import Layer, build_in_parent_scope
from ..engine.input_spec import InputSpec, assert_input_compatibility
from ..saving.layer_serialization import deserialize_layer
from ..saving.object_registration import serialize_keras_object

__all__ = [
    "RNN", "AbstractRNNCell", "StackedRNNCells", "SimpleRNNCell", "SimpleRNN", "GRUCell", "GRU",
    "LSTMCell", "LSTM", "CuDNNGRU", "CuDNNLSTM",
]


# ------------------------------------------------------------------ small helpers

def _to_list_or_none(x) -> Optional[list]:
    if x is None:
        return None
    if isinstance(x, (list, tuple)):
        return list(x) if len(x) else None
    return [x]


def _flatten_sizes(state_size) -> List[int]:
    """A cell's ``state_size`` (int, or nested lists / tuples of ints) as a flat list."""
    if isinstance(state_size, (list, tuple)):
        out: List[int] = []
        for s in state_size:
            out.extend(_flatten_sizes(s))
        return out
    return [int(state_size)]


def _is_shape_list(shape) -> bool:
    """True for a list of shapes (several inputs), False for one shape."""
    return isinstance(shape, list) and bool(shape) and isinstance(shape[0], (list, tuple))


@functools.lru_cache(maxsize=None)
def _accepts_arg(fn, name: str) -> bool:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return name in params or any(p.kind == p.VAR_KEYWORD for p in params.values())


def _cell_accepts(cell, name: str) -> bool:
    call = getattr(type(cell), "call", None)
    return call is not None and _accepts_arg(call, name)


@functools.lru_cache(maxsize=None)
def _named_activations(name: str) -> tuple:
    return (activations.get(name), getattr(torch, name, None))


def _is_activation(fn, name: str) -> bool:
    """Whether ``fn`` is Keras's (or torch's) activation ``name``."""
    return any(fn is f for f in _named_activations(name))


def _expand_mask(step_mask: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """A (batch,) mask shaped to broadcast against ``like`` (batch, ...)."""
    return step_mask.reshape(step_mask.shape + (1,) * (like.dim() - 1))


def serialize_sublayer(layer) -> Dict[str, Any]:
    """``serialize_keras_object(layer)`` plus its ``build_config`` as tf-keras writes nested
    layers (a cell inside an RNN, the layer inside TimeDistributed).

    A sublayer rebuilt from a config keeps that config's build_config until it is built.
    """
    config = serialize_keras_object(layer)
    build = layer.get_build_config() if getattr(layer, "built", False) else None
    if build is None:
        build = getattr(layer, "_pending_build_config", None)
    if build is not None:
        config["build_config"] = build
    return config


def deserialize_sublayer(config: Dict[str, Any], custom_objects=None):
    """Inverse of :func:`serialize_sublayer`: the layer, remembering its build_config."""
    layer = deserialize_layer(config, custom_objects=custom_objects)
    if isinstance(config, dict) and config.get("build_config"):
        layer.__dict__["_pending_build_config"] = config["build_config"]
    return layer


def build_sublayer_in_parent_scope(parent: Layer, child: Layer, input_shape) -> None:
    """Builds ``child`` inside ``parent.build`` so that its weights are named like the
    parent's own (``time_distributed/kernel:0``, ``conv_lstm2d/kernel:0``): Keras names them
    without the child's segment."""
    build_in_parent_scope(child, input_shape)


def _check_dropout_rate(value, name: str) -> float:
    value = float(value)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"Received an invalid value for argument `{name}`, expected a float "
                         f"value between 0 and 1. Received: {name}={value}")
    return min(1.0, max(0.0, value))


# ------------------------------------------------------------------ dropout masks

class DropoutRNNCellMixin:
    """Dropout masks for RNN cells, fixed for a whole sequence (one mask per call of the RNN),
    as Keras's ``DropoutRNNCellMixin``. Masks are made in training only."""

    def _new_masks(self, inputs: torch.Tensor, rate: float, count: int) -> List[torch.Tensor]:
        keep = torch.full(inputs.shape, 1.0 - rate, dtype=inputs.dtype, device=inputs.device)
        return [torch.bernoulli(keep) / (1.0 - rate) for _ in range(count)]

    def get_dropout_mask_for_cell(self, inputs, training, count: int = 1):
        """``count`` masks shaped like ``inputs`` (one step), or None outside training."""
        if not training or not 0.0 < getattr(self, "dropout", 0.0) < 1.0:
            return None
        cached = self.__dict__.get("_dropout_masks")
        if cached is None or len(cached) < count:
            cached = self.__dict__["_dropout_masks"] = self._new_masks(inputs, self.dropout, count)
        return cached[:count]

    def get_recurrent_dropout_mask_for_cell(self, inputs, training, count: int = 1):
        """``count`` masks shaped like the state ``inputs``, or None outside training."""
        if not training or not 0.0 < getattr(self, "recurrent_dropout", 0.0) < 1.0:
            return None
        cached = self.__dict__.get("_recurrent_dropout_masks")
        if cached is None or len(cached) < count:
            cached = self.__dict__["_recurrent_dropout_masks"] = self._new_masks(
                inputs, self.recurrent_dropout, count)
        return cached[:count]

    def reset_dropout_mask(self) -> None:
        self.__dict__["_dropout_masks"] = None

    def reset_recurrent_dropout_mask(self) -> None:
        self.__dict__["_recurrent_dropout_masks"] = None


def _reset_dropout_masks(cell) -> None:
    cells = getattr(cell, "cells", None) or [cell]
    for c in cells:
        if isinstance(c, DropoutRNNCellMixin):
            c.reset_dropout_mask()
            c.reset_recurrent_dropout_mask()


def _masked(x: torch.Tensor, masks: Optional[List[torch.Tensor]], over_time: bool,
            count: int) -> List[torch.Tensor]:
    """``count`` copies of ``x`` times its dropout masks (x itself where there is none)."""
    if masks is None:
        return [x] * count
    if over_time:
        masks = [m.unsqueeze(1) for m in masks]
    if len(masks) == 1:
        return [x * masks[0]] * count
    return [x * m for m in masks]


def _gate_matmul(xs: List[torch.Tensor], kernel: torch.Tensor, gates: int) -> torch.Tensor:
    """``x @ kernel`` where gate g uses ``xs[g]`` (the same tensor: one matmul)."""
    if all(x is xs[0] for x in xs):
        return torch.matmul(xs[0], kernel)
    blocks = kernel.chunk(gates, dim=-1)
    return torch.cat([torch.matmul(x, k) for x, k in zip(xs, blocks)], dim=-1)


# ------------------------------------------------------------------ cell bases

class AbstractRNNCell(Layer):
    """Base class for RNN cells: ``call(inputs, states)`` returns ``(output, new_states)``;
    subclasses define ``state_size`` (and ``output_size``)."""

    @property
    def state_size(self):
        raise NotImplementedError

    @property
    def output_size(self):
        raise NotImplementedError

    def get_initial_state(self, inputs=None, batch_size=None, dtype=None):
        return _zero_states(self.state_size, inputs, batch_size, dtype)


def _zero_states(state_size, inputs=None, batch_size=None, dtype=None) -> List[torch.Tensor]:
    if inputs is not None:
        batch_size = inputs.shape[0]
        dtype = inputs.dtype
        device = inputs.device
    else:
        device = None
    torch_dtype = dtype if isinstance(dtype, torch.dtype) else backend_config.torch_dtype(dtype)
    return [torch.zeros((batch_size, s), dtype=torch_dtype, device=device)
            for s in _flatten_sizes(state_size)]


_SHARED_CONFIG_KEYS = ("kernel_initializer", "recurrent_initializer", "bias_initializer",
                       "kernel_regularizer", "recurrent_regularizer", "bias_regularizer",
                       "kernel_constraint", "recurrent_constraint", "bias_constraint")


class _RecurrentCell(DropoutRNNCellMixin, Layer):
    """Shared constructor and weights of SimpleRNNCell / GRUCell / LSTMCell."""

    _gates = 1

    def __init__(self, units: int, activation="tanh", use_bias: bool = True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, dropout: float = 0.0, recurrent_dropout: float = 0.0,
                 **kwargs):
        super().__init__(**kwargs)
        if not isinstance(units, (int, np.integer)) or units <= 0:
            raise ValueError("Received an invalid value for argument `units`, expected a positive "
                             f"integer, got {units}.")
        self.units = int(units)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.dropout = _check_dropout_rate(dropout, "dropout")
        self.recurrent_dropout = _check_dropout_rate(recurrent_dropout, "recurrent_dropout")

    @property
    def output_size(self) -> int:
        return self.units

    def get_initial_state(self, inputs=None, batch_size=None, dtype=None):
        return _zero_states(self.state_size, inputs, batch_size, dtype)

    def _add_kernels(self, input_dim: int) -> None:
        width = self.units * self._gates
        self.kernel = self.add_weight("kernel", shape=(input_dim, width),
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight("recurrent_kernel", shape=(self.units, width),
                                                initializer=self.recurrent_initializer,
                                                regularizer=self.recurrent_regularizer,
                                                constraint=self.recurrent_constraint)

    def _add_bias(self, shape, initializer=None) -> None:
        if not self.use_bias:
            self.bias = None
            return
        self.bias = self.add_weight("bias", shape=shape,
                                    initializer=initializer or self.bias_initializer,
                                    regularizer=self.bias_regularizer,
                                    constraint=self.bias_constraint)

    def build(self, input_shape) -> None:
        if _is_shape_list(input_shape):
            input_shape = input_shape[0]
        input_dim = input_shape[-1]
        if input_dim is None:
            raise ValueError(f"The last dimension of the inputs to {type(self).__name__} should "
                             f"be defined. Found None. Full input shape received: {input_shape}")
        self._add_kernels(int(input_dim))
        self._add_bias(self._bias_shape(), self._bias_initializer_fn())
        self.built = True

    def _bias_shape(self) -> tuple:
        return (self.units * self._gates,)

    def _bias_initializer_fn(self):
        return None

    def _input_masks(self, inputs, training, over_time: bool, count: int):
        step = inputs[:, 0] if over_time else inputs
        return self.get_dropout_mask_for_cell(step, training, count=count)

    def call(self, inputs, states, training=None):
        """One step: ``(output, new_states)`` for inputs (batch, features)."""
        states = _to_list_or_none(states) or []
        projected = self._project_inputs(inputs, training)
        return self._recurrent_step(projected, states, training)

    def _config_items(self, middle: Dict[str, Any]) -> Dict[str, Any]:
        """Keras's key order: units, activations, use_bias, initializers, ``middle``, ..."""
        config: Dict[str, Any] = {"units": self.units,
                                  "activation": activations.serialize(self.activation)}
        if hasattr(self, "recurrent_activation"):
            config["recurrent_activation"] = activations.serialize(self.recurrent_activation)
        config["use_bias"] = self.use_bias
        config["kernel_initializer"] = initializers.serialize(self.kernel_initializer)
        config["recurrent_initializer"] = initializers.serialize(self.recurrent_initializer)
        config["bias_initializer"] = initializers.serialize(self.bias_initializer)
        config.update(middle)
        config.update({
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "recurrent_regularizer": regularizers.serialize(self.recurrent_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "recurrent_constraint": constraints.serialize(self.recurrent_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
        })
        return config

    # fused path: subclasses implement _fused_ok and _fused_sequence

    def _fused_ok(self, training) -> bool:
        return False

    def _dropped_sequence(self, x: torch.Tensor, training) -> torch.Tensor:
        """The sequence times the (single, per-sequence) input dropout mask, if any."""
        masks = self._input_masks(x, training, over_time=True, count=1)
        return x if masks is None else x * masks[0].unsqueeze(1)

    def _no_recurrent_dropout(self, training) -> bool:
        return not (training and 0.0 < self.recurrent_dropout < 1.0)

    def _single_input_mask(self, training) -> bool:
        dropout_active = training and 0.0 < self.dropout < 1.0
        return not dropout_active or getattr(self, "implementation", 2) != 1


# ------------------------------------------------------------------ SimpleRNN cell

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
    """

    @property
    def state_size(self) -> int:
        return self.units

    def _project_inputs(self, inputs, training, over_time: bool = False):
        masks = self._input_masks(inputs, training, over_time, 1)
        x = _masked(inputs, masks, over_time, 1)[0]
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

def _reorder_zrh_to_rzh(w: torch.Tensor, units: int) -> torch.Tensor:
    """Keras's GRU gate blocks (z, r, h) on the last axis -> torch's (r, z, n)."""
    z, r, h = w.split(units, dim=-1)
    return torch.cat([r, z, h], dim=-1)


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
    """

    _gates = 3

    def __init__(self, units: int, activation="tanh", recurrent_activation="sigmoid",
                 use_bias: bool = True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros",
                 kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,
                 kernel_constraint=None, recurrent_constraint=None, bias_constraint=None,
                 dropout: float = 0.0, recurrent_dropout: float = 0.0, implementation: int = 2,
                 reset_after: bool = True, **kwargs):
        super().__init__(units, activation=activation, use_bias=use_bias,
                         kernel_initializer=kernel_initializer,
                         recurrent_initializer=recurrent_initializer,
                         bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
                         recurrent_regularizer=recurrent_regularizer,
                         bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
                         recurrent_constraint=recurrent_constraint,
                         bias_constraint=bias_constraint, dropout=dropout,
                         recurrent_dropout=recurrent_dropout, **kwargs)
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
        out = _gate_matmul(_masked(inputs, masks, over_time, 3), self.kernel, 3)
        if self.bias is not None:
            out = out + (self.bias[0] if self.reset_after else self.bias)
        return out

    def _recurrent_inputs(self, h, training) -> List[torch.Tensor]:
        count = 3 if self.implementation == 1 else 1
        masks = self.get_recurrent_dropout_mask_for_cell(h, training, count=count)
        return _masked(h, masks, False, 3)

    def _recurrent_step(self, projected, states, training):
        h_prev = states[0]
        hs = self._recurrent_inputs(h_prev, training)
        x_z, x_r, x_h = projected.chunk(3, dim=-1)
        ract = self.recurrent_activation
        if self.reset_after:
            inner = _gate_matmul(hs, self.recurrent_kernel, 3)
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
        params = [_reorder_zrh_to_rzh(self.kernel, u).t(),
                  _reorder_zrh_to_rzh(self.recurrent_kernel, u).t()]
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

def _forget_bias_initializer(base, units: int):
    """Keras's unit_forget_bias: the forget-gate block of the bias starts at one."""
    def initializer(shape, dtype=None, **kwargs):
        head = torch.as_tensor(np.asarray(base((units,), dtype=dtype)))
        tail = torch.as_tensor(np.asarray(base((2 * units,), dtype=dtype)))
        return torch.cat([head, torch.ones(units, dtype=head.dtype), tail])
    return initializer


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
    """

    _gates = 4

    def __init__(self, units: int, activation="tanh", recurrent_activation="sigmoid",
                 use_bias: bool = True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias: bool = True, kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout: float = 0.0,
                 recurrent_dropout: float = 0.0, implementation: int = 2, **kwargs):
        super().__init__(units, activation=activation, use_bias=use_bias,
                         kernel_initializer=kernel_initializer,
                         recurrent_initializer=recurrent_initializer,
                         bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
                         recurrent_regularizer=recurrent_regularizer,
                         bias_regularizer=bias_regularizer, kernel_constraint=kernel_constraint,
                         recurrent_constraint=recurrent_constraint,
                         bias_constraint=bias_constraint, dropout=dropout,
                         recurrent_dropout=recurrent_dropout, **kwargs)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.unit_forget_bias = bool(unit_forget_bias)
        self.implementation = int(implementation)

    @property
    def state_size(self) -> List[int]:
        return [self.units, self.units]

    def _bias_initializer_fn(self):
        if self.unit_forget_bias:
            return _forget_bias_initializer(self.bias_initializer, self.units)
        return None

    def _project_inputs(self, inputs, training, over_time: bool = False):
        count = 4 if self.implementation == 1 else 1
        masks = self._input_masks(inputs, training, over_time, count)
        out = _gate_matmul(_masked(inputs, masks, over_time, 4), self.kernel, 4)
        return out + self.bias if self.bias is not None else out

    def _recurrent_step(self, projected, states, training):
        h_prev, c_prev = states[0], states[1]
        count = 4 if self.implementation == 1 else 1
        masks = self.get_recurrent_dropout_mask_for_cell(h_prev, training, count=count)
        z = projected + _gate_matmul(_masked(h_prev, masks, False, 4), self.recurrent_kernel, 4)
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


# ------------------------------------------------------------------ stacked cells

def _check_cell(cell) -> None:
    if not hasattr(cell, "call"):
        raise ValueError("Argument `cell` should have a `call` method. "
                         f"The RNN was passed: cell={cell}")
    if not hasattr(cell, "state_size"):
        raise ValueError("The RNN cell should have a `state_size` attribute (tuple of integers, "
                         f"one integer per RNN state). Received: cell={cell}")


def _cell_output_size(cell) -> int:
    size = getattr(cell, "output_size", None)
    if size is None:
        return _flatten_sizes(cell.state_size)[0]
    return size


def _as_state_list(states) -> list:
    return list(states) if isinstance(states, (list, tuple)) else [states]


class StackedRNNCells(Layer):
    """Wraps a list of RNN cells into one cell: the output of each feeds the next.

    Args:
        cells: list of RNN cell instances.

    Example:
        >>> cells = [LSTMCell(8), LSTMCell(8)]
        >>> layer = RNN(StackedRNNCells(cells))  # same as RNN(cells)
    """

    def __init__(self, cells: Sequence[Any], **kwargs):
        for cell in cells:
            _check_cell(cell)
        super().__init__(**kwargs)
        self.cells = list(cells)

    @property
    def state_size(self) -> tuple:
        return tuple(c.state_size for c in self.cells)

    @property
    def output_size(self) -> int:
        return _cell_output_size(self.cells[-1])

    def get_initial_state(self, inputs=None, batch_size=None, dtype=None):
        return _zero_states(self.state_size, inputs, batch_size, dtype)

    def build(self, input_shape) -> None:
        if _is_shape_list(input_shape):
            input_shape = input_shape[0]
        shape = tuple(input_shape)
        for cell in self.cells:
            if isinstance(cell, Layer) and not cell.built:
                cell._maybe_build(shape)
            shape = (shape[0], _cell_output_size(cell))
        self.built = True

    def call(self, inputs, states, constants=None, training=None):
        states = list(states)
        new_states: List[torch.Tensor] = []
        for cell in self.cells:
            n = len(_flatten_sizes(cell.state_size))
            cell_states, states = states[:n], states[n:]
            kwargs = {}
            if _cell_accepts(cell, "training"):
                kwargs["training"] = training
            if constants is not None and _cell_accepts(cell, "constants"):
                kwargs["constants"] = constants
            inputs, cell_new = cell.call(inputs, cell_states, **kwargs)
            new_states.extend(_as_state_list(cell_new))
        return inputs, new_states

    def get_config(self) -> Dict[str, Any]:
        config = super().get_config()
        config["cells"] = [serialize_sublayer(cell) for cell in self.cells]
        return config

    @classmethod
    def from_config(cls, config: Dict[str, Any], custom_objects=None):
        config = dict(config)
        cells = [deserialize_sublayer(c, custom_objects) for c in config.pop("cells")]
        return cls(cells, **config)


# ------------------------------------------------------------------ the RNN base

def standardize_rnn_args(inputs, initial_state, constants, num_constants: int):
    """Splits ``[x, *states, *constants]`` (Keras's packed call) into its parts."""
    if isinstance(inputs, (list, tuple)):
        inputs = list(inputs)
        if num_constants:
            constants = inputs[-num_constants:]
            inputs = inputs[:-num_constants]
        if len(inputs) > 1:
            initial_state = inputs[1:]
        inputs = inputs[0]
    return inputs, _to_list_or_none(initial_state), _to_list_or_none(constants)


def _sequence_input_shape(kwargs: Dict[str, Any]) -> None:
    """Keras 2's ``LSTM(32, input_dim=16, input_length=10)``: input_shape (10, 16)."""
    if "input_shape" in kwargs or "batch_input_shape" in kwargs:
        kwargs.pop("input_length", None)
        return
    if kwargs.get("input_dim") is not None or kwargs.get("input_length") is not None:
        kwargs["input_shape"] = (kwargs.pop("input_length", None), kwargs.pop("input_dim", None))
    kwargs.pop("input_dim", None)
    kwargs.pop("input_length", None)


class _PackedStateCallMixin:
    """``layer(x, initial_state=..., constants=...)`` -> ``layer([x, *states, *constants])``
    so that symbolic states and constants become inputs of the node, as in Keras."""

    def __call__(self, inputs=None, initial_state=None, constants=None, **kwargs):
        inputs, initial_state, constants = standardize_rnn_args(
            inputs, initial_state, constants, self._num_constants)
        if initial_state is None and constants is None:
            return super().__call__(inputs, **kwargs)
        self._check_packed_call(initial_state, constants)
        packed = [inputs] + (initial_state or [])
        if constants is not None:
            self._num_constants = len(constants)
            packed += constants
        return super().__call__(packed, **kwargs)

    def _check_packed_call(self, initial_state, constants) -> None:
        pass


class RNN(_PackedStateCallMixin, Layer):
    """Base class for recurrent layers: runs a cell over the time axis.

    Args:
        cell: an RNN cell (``call(inputs, states)`` returning ``(output, new_states)`` and a
            ``state_size``), or a list of cells (stacked).
        return_sequences: return the whole output sequence instead of the last output.
        return_state: also return the last states (``[output, *states]``).
        go_backwards: process the sequence backwards (and return the reversed sequence).
        stateful: the last states of batch i are the initial states of batch i + 1;
            needs a fixed batch size (``batch_input_shape`` / ``batch_size`` / ``Input(batch_shape)``).
        unroll: accepted for compatibility; the numbers are the same.
        time_major: inputs and outputs are ``(timesteps, batch, ...)``.

    Call arguments:
        inputs: ``(batch, timesteps, features)``; mask: ``(batch, timesteps)`` booleans
        (masked steps keep the states and repeat the previous output); training;
        initial_state: list of initial state tensors; constants: list of constant tensors
        passed to the cell at every step.

    Input shape: ``(batch, timesteps, features)``.
    Output shape: ``(batch, units)``, or ``(batch, timesteps, units)`` with return_sequences;
    with return_state a list ``[output, *states]`` (states ``(batch, units)``).

    Example:
        >>> layer = RNN(LSTMCell(4), return_sequences=True)
        >>> layer(np.zeros((2, 5, 3), "float32")).shape
        torch.Size([2, 5, 4])
    """

    _input_ndim = 3

    def __init__(self, cell, return_sequences: bool = False, return_state: bool = False,
                 go_backwards: bool = False, stateful: bool = False, unroll: bool = False,
                 time_major: bool = False, **kwargs):
        if isinstance(cell, (list, tuple)):
            cell = StackedRNNCells(cell)
        _check_cell(cell)
        zero_output_for_mask = bool(kwargs.pop("zero_output_for_mask", False))
        num_constants = kwargs.pop("num_constants", None) or 0
        _sequence_input_shape(kwargs)
        super().__init__(**kwargs)
        self.cell = cell
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.unroll = bool(unroll)
        self.time_major = bool(time_major)
        self.zero_output_for_mask = zero_output_for_mask
        self.supports_masking = True
        self.input_spec = None
        self._num_constants = int(num_constants)
        self._input_dim: Optional[int] = None
        self._state_buffer_names: List[str] = []
        self._allow_fused = True

    # -------------------------------------------------------------- shapes

    @property
    def _flat_state_sizes(self) -> List[int]:
        return _flatten_sizes(self.cell.state_size)

    def _output_step_shape(self, seq_shape) -> tuple:
        """Shape of one output step, batch first, for a batch-major sequence shape."""
        return (seq_shape[0], _cell_output_size(self.cell))

    def _state_shapes(self, seq_shape) -> List[tuple]:
        """Shapes of the states, batch first, for a batch-major sequence shape."""
        return [(seq_shape[0], s) for s in self._flat_state_sizes]

    def _check_sequence_shape(self, shape) -> None:
        assert_input_compatibility(InputSpec(ndim=self._input_ndim), [tuple(shape)], self.name)

    def _batch_major(self, shape) -> tuple:
        shape = tuple(shape)
        return (shape[1], shape[0]) + shape[2:] if self.time_major else shape

    def compute_output_shape(self, input_shape):
        seq = tuple(input_shape[0]) if _is_shape_list(input_shape) else tuple(input_shape)
        self._check_sequence_shape(seq)
        seq = self._batch_major(seq)
        step = self._output_step_shape(seq)
        if self.return_sequences:
            output = (seq[1], seq[0]) + step[1:] if self.time_major else (seq[0], seq[1]) + step[1:]
        else:
            output = step
        if self.return_state:
            return [output] + self._state_shapes(seq)
        return output

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        output_mask = mask if self.return_sequences else None
        if self.return_state:
            return [output_mask] + [None] * len(self._flat_state_sizes)
        return output_mask

    # -------------------------------------------------------------- build

    def build(self, input_shape) -> None:
        shapes = [tuple(s) for s in input_shape] if _is_shape_list(input_shape) else [tuple(input_shape)]
        seq = shapes[0]
        self._check_sequence_shape(seq)
        seq = self._batch_major(seq)
        step_shape = (seq[0],) + seq[2:]
        cell_shape: Any = step_shape
        if self._num_constants:
            cell_shape = [step_shape] + shapes[-self._num_constants:]
        self._build_cell(cell_shape)
        self._input_dim = seq[self._feature_axis()]
        if self.stateful:
            self._create_state_buffers(seq)
        self.built = True

    def _build_cell(self, cell_shape) -> None:
        if isinstance(self.cell, Layer) and not self.cell.built:
            self.cell._maybe_build(cell_shape)

    def _fixed_batch_size(self, seq_shape) -> int:
        batch = seq_shape[0]
        if batch is None and getattr(self, "_batch_input_shape", None):
            batch = self._batch_input_shape[0]
        if batch is None:
            raise ValueError(
                f'Layer "{self.name}" is stateful, so it needs to know its batch size. Specify '
                "the batch size of your input tensors:\n"
                "- If using a Sequential model, specify the batch size by passing a "
                "`batch_input_shape` (or `batch_size`) argument to your first layer.\n"
                "- If using the functional API, specify the batch size by passing a "
                "`batch_shape` argument to your Input layer.\n"
                f"Received input shape: {tuple(seq_shape)}")
        return int(batch)

    def _create_state_buffers(self, seq_shape) -> None:
        batch = self._fixed_batch_size(seq_shape)
        shapes = self._state_shapes((batch,) + tuple(seq_shape[1:]))
        dtype = self.__dict__["_torch_dtype"]
        self._state_buffer_names = []
        for i, shape in enumerate(shapes):
            if any(d is None for d in shape):
                raise ValueError(f'Layer "{self.name}" is stateful: the shape of state {i} must be '
                                 f"fully defined, got {shape}. Specify the full input shape.")
            name = f"_state_{i}"
            self.register_buffer(name, torch.zeros(shape, dtype=dtype), persistent=False)
            self._state_buffer_names.append(name)

    # -------------------------------------------------------------- states

    @property
    def states(self) -> list:
        """The stateful layer's current states (tensors); ``[None, ...]`` when not stateful."""
        if not self._state_buffer_names:
            return [None] * len(self._flat_state_sizes)
        return [getattr(self, name) for name in self._state_buffer_names]

    def reset_states(self, states=None) -> None:
        """Resets a stateful layer's states to zeros, or to the given values.

        Args:
            states: None (zeros), or one array per state of shape ``(batch, ...)``.
        """
        if not self.stateful:
            raise AttributeError(f'Layer "{self.name}" must be stateful to reset its states.')
        if not self.built:
            raise ValueError(f'Layer "{self.name}" is not built yet: call it on data (or build '
                             "the model) before resetting its states.")
        current = self.states
        if states is None:
            for name, value in zip(self._state_buffer_names, current):
                setattr(self, name, torch.zeros_like(value))
            return
        values = states if isinstance(states, (list, tuple)) else [states]
        if len(values) != len(current):
            raise ValueError(f'Layer "{self.name}" expects {len(current)} state(s), but it received '
                             f"{len(values)} state value(s). Input received: {states}")
        for index, (name, old, value) in enumerate(zip(self._state_buffer_names, current, values)):
            new = torch.as_tensor(np.asarray(value) if not isinstance(value, torch.Tensor) else value,
                                  dtype=old.dtype, device=old.device)
            if tuple(new.shape) != tuple(old.shape):
                raise ValueError(f'State {index} is incompatible with layer "{self.name}": expected '
                                 f"shape={tuple(old.shape)} but found shape={tuple(new.shape)}")
            setattr(self, name, new.clone())

    def get_initial_state(self, inputs) -> List[torch.Tensor]:
        """Zero states for a batch of ``inputs`` (or the cell's ``get_initial_state``)."""
        if self.time_major:
            inputs = inputs.transpose(0, 1)
        return self._default_initial_states(inputs)

    def _default_initial_states(self, x: torch.Tensor) -> List[torch.Tensor]:
        custom = getattr(type(self.cell), "get_initial_state", None)
        if custom is not None and not _is_builtin_initial_state(custom):
            states = self.cell.get_initial_state(inputs=None, batch_size=x.shape[0], dtype=x.dtype)
            return [s.to(device=x.device, dtype=x.dtype) for s in _as_state_list(states)]
        return [x.new_zeros(shape) for shape in self._state_shapes(tuple(x.shape))]

    def _initial_states(self, x: torch.Tensor, initial_state) -> List[torch.Tensor]:
        expected = self._state_shapes(tuple(x.shape))
        if initial_state is not None:
            states = [s if isinstance(s, torch.Tensor) else torch.as_tensor(np.asarray(s))
                      for s in initial_state]
            self._check_initial_states(states, expected)
            return [s.to(dtype=x.dtype) if s.dtype != x.dtype else s for s in states]
        if self.stateful:
            states = self.states
            if states and states[0].shape[0] != x.shape[0]:
                raise ValueError(
                    f'Layer "{self.name}" is stateful with batch size {states[0].shape[0]}, but '
                    f"received a batch of {x.shape[0]} samples. A stateful RNN needs every batch "
                    "to have the batch size it was built with.")
            return states
        return self._default_initial_states(x)

    def _check_initial_states(self, states, expected) -> None:
        if len(states) != len(expected):
            raise ValueError(
                f'Layer "{self.name}" expects {len(expected)} initial state(s) (its cell\'s '
                f"state_size is {self.cell.state_size}), but it received {len(states)} initial "
                f"state tensor(s) with shapes {[tuple(s.shape) for s in states]}.")
        for index, (state, shape) in enumerate(zip(states, expected)):
            if tuple(state.shape[1:]) != tuple(shape[1:]) or state.shape[0] != shape[0]:
                raise ValueError(
                    f'Initial state {index} of layer "{self.name}" has shape {tuple(state.shape)}, '
                    f"but the layer expects {tuple(shape)} (batch, state size).")

    def _store_states(self, states: List[torch.Tensor]) -> None:
        for name, value in zip(self._state_buffer_names, states):
            setattr(self, name, value.detach())

    # -------------------------------------------------------------- call

    def _check_packed_call(self, initial_state, constants) -> None:
        if constants is not None and not _cell_accepts(self.cell, "constants"):
            raise ValueError(f"RNN cell {self.cell} does not support constants. "
                             f"Received: constants={constants}")
        expected = len(self._flat_state_sizes)
        if initial_state is not None and len(initial_state) != expected:
            raise ValueError(
                f'Layer "{self.name}" expects {expected} initial state(s) (its cell\'s state_size '
                f"is {self.cell.state_size}), but it received {len(initial_state)} initial state "
                "tensor(s).")

    def _split_packed(self, inputs, initial_state, constants):
        if isinstance(inputs, (list, tuple)):
            return standardize_rnn_args(inputs, initial_state, constants, self._num_constants)
        return inputs, _to_list_or_none(initial_state), _to_list_or_none(constants)

    def _feature_axis(self) -> int:
        """Axis of the features in a batch-major input sequence."""
        return -1

    def _check_call_input(self, x: torch.Tensor) -> None:
        axis = self._feature_axis()
        if x.dim() != self._input_ndim or (self._input_dim is not None and
                                            x.shape[axis] != self._input_dim):
            assert_input_compatibility(
                InputSpec(ndim=self._input_ndim, axes={axis: self._input_dim}),
                [tuple(x.shape)], self.name)

    def call(self, inputs, mask=None, training=None, initial_state=None, constants=None):
        inputs, initial_state, constants = self._split_packed(inputs, initial_state, constants)
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        self._check_call_input(inputs)
        x = inputs
        if self.time_major:
            x = x.transpose(0, 1)
            mask = mask.transpose(0, 1) if mask is not None else None
        if x.shape[1] == 0:
            raise ValueError(f'Layer "{self.name}" received a sequence with 0 timesteps: '
                             f"input shape {tuple(inputs.shape)}.")
        states = self._initial_states(x, initial_state)
        last, sequence, states = self._run_sequence(x, states, mask, training, constants)
        if self.stateful:
            self._store_states(states)
        if self.return_sequences:
            output = sequence.transpose(0, 1) if self.time_major else sequence
        else:
            output = last
        if self.return_state:
            return [output] + list(states)
        return output

    def _run_sequence(self, x, states, mask, training, constants):
        """(last output, output sequence, final states) of the cell over ``x`` (batch-major)."""
        if self._can_fuse(x, mask, constants, training):
            _reset_dropout_masks(self.cell)
            sequence, states = self.cell._fused_sequence(x, states, self.go_backwards, training)
            return sequence[:, -1], sequence, states
        return self._step_loop(x, states, mask, training, constants)

    def _can_fuse(self, x, mask, constants, training) -> bool:
        return self._allow_fused and mask is None and not constants and \
            type(self.cell) in _FUSABLE_CELLS and self.cell._fused_ok(training)

    def _step_function(self, x, training, constants):
        """(per-step inputs, step(x_t, states) -> (output, states)) for the loop."""
        cell = self.cell
        if not constants and _uses_builtin_step(cell):
            projected = cell._project_inputs(x, training, over_time=True)
            return projected, lambda x_t, states: cell._recurrent_step(x_t, states, training)
        kwargs: Dict[str, Any] = {}
        if _cell_accepts(cell, "training"):
            kwargs["training"] = training
        if constants:
            kwargs["constants"] = constants

        def step(x_t, states):
            output, new_states = cell.call(x_t, states, **kwargs)
            return output, _as_state_list(new_states)
        return x, step

    def _step_loop(self, x, states, mask, training, constants):
        _reset_dropout_masks(self.cell)
        inputs, step = self._step_function(x, training, constants)
        steps = inputs.shape[1]
        order = range(steps - 1, -1, -1) if self.go_backwards else range(steps)
        outputs: List[torch.Tensor] = []
        previous = None
        output = None
        for t in order:
            output, new_states = step(inputs[:, t], states)
            if mask is not None:
                keep = mask[:, t].bool()
                new_states = [torch.where(_expand_mask(keep, n), n, s)
                              for n, s in zip(new_states, states)]
                if previous is None or self.zero_output_for_mask:
                    previous = torch.zeros_like(output)
                output = torch.where(_expand_mask(keep, output), output, previous)
                previous = output
            states = list(new_states)
            if self.return_sequences:
                outputs.append(output)
        sequence = torch.stack(outputs, dim=1) if self.return_sequences else None
        return output, sequence, states

    # -------------------------------------------------------------- config

    def _rnn_config(self) -> Dict[str, Any]:
        config = Layer.get_config(self)
        config.update({
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
            "go_backwards": self.go_backwards,
            "stateful": self.stateful,
            "unroll": self.unroll,
            "time_major": self.time_major,
        })
        if self._num_constants:
            config["num_constants"] = self._num_constants
        if self.zero_output_for_mask:
            config["zero_output_for_mask"] = True
        return config

    def get_config(self) -> Dict[str, Any]:
        config = self._rnn_config()
        config["cell"] = serialize_sublayer(self.cell)
        return config

    @classmethod
    def from_config(cls, config: Dict[str, Any], custom_objects=None):
        config = dict(config)
        if "cell" in config:
            config["cell"] = deserialize_sublayer(config["cell"], custom_objects)
        return cls(**config)


def _uses_builtin_step(cell) -> bool:
    """A built-in cell whose step is ``_project_inputs`` then ``_recurrent_step``."""
    return isinstance(cell, _RecurrentCell) and type(cell).call is _RecurrentCell.call and \
        hasattr(cell, "_project_inputs")


def _is_builtin_initial_state(fn) -> bool:
    return fn in (AbstractRNNCell.get_initial_state, _RecurrentCell.get_initial_state,
                  StackedRNNCells.get_initial_state)


_FUSABLE_CELLS = (SimpleRNNCell, GRUCell, LSTMCell)


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


# ------------------------------------------------------------------ CuDNN layers (Keras 2)

def _blocks(kernel: np.ndarray, gates: int) -> List[np.ndarray]:
    return np.split(np.asarray(kernel), gates, axis=1)


def cudnn_to_keras_weights(values: Sequence[np.ndarray], gates: int) -> List[np.ndarray]:
    """Keras 2 CuDNNLSTM / CuDNNGRU weights -> LSTM / GRU(reset_after=True) weights.

    Keras 2's cuDNN layers keep each gate's block of ``kernel`` as cuDNN's raw
    ``(units, input_dim)`` matrix reshaped (not transposed) to ``(input_dim, units)``, each
    recurrent block transposed, and the input and recurrent biases one after the other.
    (The same conversion Keras 2 applies when loading such weights into LSTM / GRU.)
    """
    kernel, recurrent, bias = (np.asarray(v) for v in values)
    in_dim = kernel.shape[0]
    units = recurrent.shape[0]
    kernel = np.concatenate([np.ascontiguousarray(b).reshape(units, in_dim).T
                             for b in _blocks(kernel, gates)], axis=1)
    recurrent = np.concatenate([b.T for b in _blocks(recurrent, gates)], axis=1)
    if gates == 4:
        bias = bias[:4 * units] + bias[4 * units:]
    else:
        bias = bias.reshape(2, 3 * units)
    return [kernel, recurrent, bias]


def keras_to_cudnn_weights(values: Sequence[np.ndarray], gates: int) -> List[np.ndarray]:
    """Inverse of :func:`cudnn_to_keras_weights` (an LSTM's single bias is split in halves,
    as Keras 2 does: only the sum of the two cuDNN biases matters)."""
    kernel, recurrent, bias = (np.asarray(v) for v in values)
    in_dim = kernel.shape[0]
    units = recurrent.shape[0]
    kernel = np.concatenate([np.ascontiguousarray(b.T).reshape(in_dim, units)
                             for b in _blocks(kernel, gates)], axis=1)
    recurrent = np.concatenate([b.T for b in _blocks(recurrent, gates)], axis=1)
    if gates == 4:
        bias = np.concatenate([0.5 * bias, 0.5 * bias])
    else:
        bias = bias.reshape(-1)
    return [kernel, recurrent, bias]


class _StateSpec:
    """The ``cell`` of a cuDNN layer: only state and output sizes (weights live on the layer)."""

    def __init__(self, units: int, num_states: int):
        self.state_size = [units] * num_states if num_states > 1 else units
        self.output_size = units

    def call(self, inputs, states):  # pragma: no cover - the cuDNN layers never step
        raise NotImplementedError


class _CuDNNRNN(RNN):
    """Keras 2's CuDNN layers: the fused kernel only, weights in Keras 2's cuDNN layout."""

    _gates = 4
    _num_states = 2

    def __init__(self, units: int, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros",
                 kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, return_sequences: bool = False, return_state: bool = False,
                 go_backwards: bool = False, stateful: bool = False, time_major: bool = False,
                 **kwargs):
        if not isinstance(units, (int, np.integer)) or units <= 0:
            raise ValueError("Received an invalid value for argument `units`, expected a positive "
                             f"integer, got {units}.")
        super().__init__(_StateSpec(int(units), self._num_states),
                         return_sequences=return_sequences, return_state=return_state,
                         go_backwards=go_backwards, stateful=stateful, time_major=time_major,
                         activity_regularizer=activity_regularizer, **kwargs)
        self.units = int(units)
        self.supports_masking = False
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)

    def _bias_initializer_fn(self):
        return self.bias_initializer

    def build(self, input_shape) -> None:
        super().build(input_shape)
        seq = input_shape[0] if _is_shape_list(input_shape) else input_shape
        input_dim = self._batch_major(seq)[-1]
        width = self.units * self._gates
        self.kernel = self.add_weight("kernel", shape=(input_dim, width),
                                      initializer=self.kernel_initializer,
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight("recurrent_kernel", shape=(self.units, width),
                                                initializer=self.recurrent_initializer,
                                                regularizer=self.recurrent_regularizer,
                                                constraint=self.recurrent_constraint)
        self.bias = self.add_weight("bias", shape=(2 * width,),
                                    initializer=self._bias_initializer_fn(),
                                    regularizer=self.bias_regularizer,
                                    constraint=self.bias_constraint)
        self.built = True

    def compute_mask(self, inputs, mask=None):
        return None

    def call(self, inputs, mask=None, training=None, initial_state=None, constants=None):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        if mask is not None:
            raise ValueError(f'Layer "{self.name}": masking is not supported for CuDNN RNNs.')
        return super().call(inputs, None, training, initial_state, constants)

    def _torch_weights(self) -> List[torch.Tensor]:
        """cuDNN's raw gate matrices: each ``(input_dim, units)`` block reshaped to
        ``(units, input_dim)``, gates in torch's order."""
        u, g = self.units, self._gates
        in_dim = self.kernel.shape[0]
        w_ih = self.kernel.reshape(in_dim, g, u).permute(1, 0, 2).reshape(g, u, in_dim)
        w_hh = self.recurrent_kernel.reshape(u, g, u).permute(1, 0, 2).reshape(g, u, u)
        b_ih, b_hh = self.bias.reshape(2, g, u).unbind(0)
        if g == 3:  # Keras order z, r, h -> torch r, z, n
            order = [1, 0, 2]
            w_ih, w_hh, b_ih, b_hh = w_ih[order], w_hh[order], b_ih[order], b_hh[order]
        return [w_ih.reshape(g * u, in_dim), w_hh.reshape(g * u, u),
                b_ih.reshape(-1), b_hh.reshape(-1)]

    def _run_sequence(self, x, states, mask, training, constants):
        if self.go_backwards:
            x = x.flip(1)
        hx = [s.unsqueeze(0) for s in states]
        if self._gates == 4:
            sequence, h, c = torch.lstm(x, (hx[0], hx[1]), self._torch_weights(), True, 1, 0.0,
                                        bool(training), False, True)
            new_states = [h[0], c[0]]
        else:
            sequence, h = torch.gru(x, hx[0], self._torch_weights(), True, 1, 0.0, bool(training),
                                    False, True)
            new_states = [h[0]]
        return sequence[:, -1], sequence, new_states

    def _config_middle(self) -> Dict[str, Any]:
        return {}

    def get_config(self) -> Dict[str, Any]:
        config = Layer.get_config(self)
        config.update({"return_sequences": self.return_sequences,
                       "return_state": self.return_state, "go_backwards": self.go_backwards,
                       "stateful": self.stateful, "time_major": self.time_major,
                       "units": self.units,
                       "kernel_initializer": initializers.serialize(self.kernel_initializer),
                       "recurrent_initializer": initializers.serialize(self.recurrent_initializer),
                       "bias_initializer": initializers.serialize(self.bias_initializer)})
        config.update(self._config_middle())
        config.update({
            "kernel_regularizer": regularizers.serialize(self.kernel_regularizer),
            "recurrent_regularizer": regularizers.serialize(self.recurrent_regularizer),
            "bias_regularizer": regularizers.serialize(self.bias_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "kernel_constraint": constraints.serialize(self.kernel_constraint),
            "recurrent_constraint": constraints.serialize(self.recurrent_constraint),
            "bias_constraint": constraints.serialize(self.bias_constraint),
        })
        return config

    @classmethod
    def from_config(cls, config: Dict[str, Any], custom_objects=None):
        return cls(**config)

    def set_weights(self, weights) -> None:
        super().set_weights(self.convert_loaded_weights(list(weights)))


class CuDNNLSTM(_CuDNNRNN):
    """Keras 2's fast LSTM (``keras.layers.CuDNNLSTM``): an LSTM with sigmoid recurrent
    activation and no masking / dropout, run by torch's fused LSTM kernel on any device.

    Weights are in Keras 2's CuDNNLSTM layout (so Keras 2 files load unchanged):
    ``kernel (input_dim, 4 units)`` and ``recurrent_kernel (units, 4 units)`` hold cuDNN's raw
    gate matrices (i, f, c, o), ``bias (8 units,)`` the input then the recurrent biases.
    ``set_weights`` and HDF5 loading also accept plain LSTM weights (bias (4 units,)) and
    convert them (:func:`keras_to_cudnn_weights`).

    Args:
        units, kernel_initializer, recurrent_initializer, bias_initializer, unit_forget_bias,
        kernel_regularizer, recurrent_regularizer, bias_regularizer, activity_regularizer,
        kernel_constraint, recurrent_constraint, bias_constraint, return_sequences,
        return_state, go_backwards, stateful: as LSTM.
    """

    _gates = 4
    _num_states = 2

    def __init__(self, units: int, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias: bool = True, kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, recurrent_constraint=None, bias_constraint=None,
                 return_sequences: bool = False, return_state: bool = False,
                 go_backwards: bool = False, stateful: bool = False, **kwargs):
        super().__init__(units, kernel_initializer=kernel_initializer,
                         recurrent_initializer=recurrent_initializer,
                         bias_initializer=bias_initializer, kernel_regularizer=kernel_regularizer,
                         recurrent_regularizer=recurrent_regularizer,
                         bias_regularizer=bias_regularizer,
                         activity_regularizer=activity_regularizer,
                         kernel_constraint=kernel_constraint,
                         recurrent_constraint=recurrent_constraint,
                         bias_constraint=bias_constraint, return_sequences=return_sequences,
                         return_state=return_state, go_backwards=go_backwards, stateful=stateful,
                         **kwargs)
        self.unit_forget_bias = bool(unit_forget_bias)

    def _bias_initializer_fn(self):
        if not self.unit_forget_bias:
            return self.bias_initializer
        base, units = self.bias_initializer, self.units

        def initializer(shape, dtype=None, **kwargs):
            head = torch.as_tensor(np.asarray(base((5 * units,), dtype=dtype)))
            tail = torch.as_tensor(np.asarray(base((2 * units,), dtype=dtype)))
            return torch.cat([head, torch.ones(units, dtype=head.dtype), tail])
        return initializer

    def _config_middle(self) -> Dict[str, Any]:
        return {"unit_forget_bias": self.unit_forget_bias}

    def convert_loaded_weights(self, values):
        """Plain LSTM weights (bias (4 units,)) become CuDNNLSTM weights."""
        if len(values) == 3 and np.shape(values[2]) == (4 * self.units,):
            return keras_to_cudnn_weights(values, gates=4)
        return values


class CuDNNGRU(_CuDNNRNN):
    """Keras 2's fast GRU (``keras.layers.CuDNNGRU``): GRU(reset_after=True) with sigmoid
    recurrent activation and no masking / dropout, run by torch's fused GRU kernel.

    Weights are in Keras 2's CuDNNGRU layout: ``kernel (input_dim, 3 units)`` and
    ``recurrent_kernel (units, 3 units)`` hold cuDNN's raw gate matrices (z, r, h),
    ``bias (6 units,)`` the input then the recurrent biases. ``set_weights`` and HDF5 loading
    also accept GRU(reset_after=True) weights (bias (2, 3 units)) and convert them.

    Args:
        units, kernel_initializer, recurrent_initializer, bias_initializer,
        kernel_regularizer, recurrent_regularizer, bias_regularizer, activity_regularizer,
        kernel_constraint, recurrent_constraint, bias_constraint, return_sequences,
        return_state, go_backwards, stateful: as GRU.
    """

    _gates = 3
    _num_states = 1

    def convert_loaded_weights(self, values):
        """GRU(reset_after=True) weights (bias (2, 3 units)) become CuDNNGRU weights."""
        if len(values) == 3 and np.shape(values[2]) == (2, 3 * self.units):
            return keras_to_cudnn_weights(values, gates=3)
        if len(values) == 3 and np.shape(values[2]) == (3 * self.units,):
            raise ValueError(f'Layer "{self.name}": GRU(reset_after=False) weights cannot be '
                             "loaded into CuDNNGRU (cuDNN computes the reset_after=True formula).")
        return values
