"""What the recurrent layers' cells are made of.

Helpers shared by the recurrent layers and the wrappers (sublayer configs, state sizes,
packed-call arguments), the per-sequence dropout masks of RNN cells
(``DropoutRNNCellMixin``), the cell bases (``AbstractRNNCell`` and ``_RecurrentCell``, the
shared constructor and weights of SimpleRNNCell / GRUCell / LSTMCell) and
``StackedRNNCells``. The concrete cells and layers are in ``recurrent``; the RNN layer
base that runs a cell over time is in ``rnn_base``.
"""
from __future__ import annotations

import functools
import inspect
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
import torch

from .. import activations, constraints, initializers, regularizers
from ..backend import config as backend_config
from ..backend.random_ops import dropout_mask
from ..engine.base_layer import Layer, build_in_parent_scope
from ..saving.layer_serialization import deserialize_layer
from ..saving.object_registration import serialize_keras_object
from .core import use_linear_layout_

__all__ = ["AbstractRNNCell", "DropoutRNNCellMixin", "StackedRNNCells"]


# ------------------------------------------------------------------ small helpers

def to_list_or_none(x) -> Optional[list]:
    if x is None:
        return None
    if isinstance(x, (list, tuple)):
        return list(x) if len(x) else None
    return [x]


def flatten_sizes(state_size) -> List[int]:
    """A cell's ``state_size`` (int, or nested lists / tuples of ints) as a flat list."""
    if isinstance(state_size, (list, tuple)):
        out: List[int] = []
        for s in state_size:
            out.extend(flatten_sizes(s))
        return out
    return [int(state_size)]


def is_shape_list(shape) -> bool:
    """True for a list of shapes (several inputs), False for one shape."""
    return isinstance(shape, list) and bool(shape) and isinstance(shape[0], (list, tuple))


@functools.lru_cache(maxsize=None)
def _accepts_arg(fn, name: str) -> bool:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return name in params or any(p.kind == p.VAR_KEYWORD for p in params.values())


def cell_accepts(cell, name: str) -> bool:
    call = getattr(type(cell), "call", None)
    return call is not None and _accepts_arg(call, name)


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
        return [dropout_mask(inputs.shape, rate, inputs.dtype, inputs.device)
                for _ in range(count)]

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


def reset_dropout_masks(cell) -> None:
    cells = getattr(cell, "cells", None) or [cell]
    for c in cells:
        if isinstance(c, DropoutRNNCellMixin):
            c.reset_dropout_mask()
            c.reset_recurrent_dropout_mask()


def dropout_masked(x: torch.Tensor, masks: Optional[List[torch.Tensor]], over_time: bool,
            count: int) -> List[torch.Tensor]:
    """``count`` copies of ``x`` times its dropout masks (x itself where there is none)."""
    if masks is None:
        return [x] * count
    if over_time:
        masks = [m.unsqueeze(1) for m in masks]
    if len(masks) == 1:
        return [x * masks[0]] * count
    return [x * m for m in masks]


def gate_matmul(xs: List[torch.Tensor], kernel: torch.Tensor, gates: int) -> torch.Tensor:
    """``x @ kernel`` where gate g uses ``xs[g]`` (the same tensor: one matmul)."""
    if all(x is xs[0] for x in xs):
        return torch.matmul(xs[0], kernel)
    blocks = kernel.chunk(gates, dim=-1)
    return torch.cat([torch.matmul(x, k) for x, k in zip(xs, blocks)], dim=-1)


# ------------------------------------------------------------------ cell bases

class AbstractRNNCell(Layer):
    """Base class for RNN cells: ``call(inputs, states)`` returns ``(output, new_states)``;
    subclasses define ``state_size`` (and ``output_size``).

    Example:
        >>> class MinimalRNNCell(AbstractRNNCell):
        ...     def __init__(self, units, **kwargs):
        ...         super().__init__(**kwargs)
        ...         self.units = units
        ...
        ...     @property
        ...     def state_size(self):
        ...         return self.units
        ...
        ...     def build(self, input_shape):
        ...         self.kernel = self.add_weight("kernel", (input_shape[-1], self.units))
        ...
        ...     def call(self, inputs, states):
        ...         output = K.dot(inputs, self.kernel) + states[0]
        ...         return output, [output]
        ...
        >>> RNN(MinimalRNNCell(4))(np.zeros((2, 5, 3), "float32")).shape
        torch.Size([2, 4])
    """

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
            for s in flatten_sizes(state_size)]


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
        use_linear_layout_(self.kernel)  # kernel.t() is then the fused ops' weight, uncopied
        use_linear_layout_(self.recurrent_kernel)

    def _add_bias(self, shape, initializer=None) -> None:
        if not self.use_bias:
            self.bias = None
            return
        self.bias = self.add_weight("bias", shape=shape,
                                    initializer=initializer or self.bias_initializer,
                                    regularizer=self.bias_regularizer,
                                    constraint=self.bias_constraint)

    def build(self, input_shape) -> None:
        if is_shape_list(input_shape):
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
        states = to_list_or_none(states) or []
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


# ------------------------------------------------------------------ stacked cells

def check_cell(cell) -> None:
    if not hasattr(cell, "call"):
        raise ValueError("Argument `cell` should have a `call` method. "
                         f"The RNN was passed: cell={cell}")
    if not hasattr(cell, "state_size"):
        raise ValueError("The RNN cell should have a `state_size` attribute (tuple of integers, "
                         f"one integer per RNN state). Received: cell={cell}")


def cell_output_size(cell) -> int:
    size = getattr(cell, "output_size", None)
    if size is None:
        return flatten_sizes(cell.state_size)[0]
    return size


def as_state_list(states) -> list:
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
            check_cell(cell)
        super().__init__(**kwargs)
        self.cells = list(cells)

    @property
    def state_size(self) -> tuple:
        return tuple(c.state_size for c in self.cells)

    @property
    def output_size(self) -> int:
        return cell_output_size(self.cells[-1])

    def get_initial_state(self, inputs=None, batch_size=None, dtype=None):
        return _zero_states(self.state_size, inputs, batch_size, dtype)

    def build(self, input_shape) -> None:
        if is_shape_list(input_shape):
            input_shape = input_shape[0]
        shape = tuple(input_shape)
        for cell in self.cells:
            if isinstance(cell, Layer) and not cell.built:
                cell._maybe_build(shape)
            shape = (shape[0], cell_output_size(cell))
        self.built = True

    def call(self, inputs, states, constants=None, training=None):
        states = list(states)
        new_states: List[torch.Tensor] = []
        for cell in self.cells:
            n = len(flatten_sizes(cell.state_size))
            cell_states, states = states[:n], states[n:]
            kwargs = {}
            if cell_accepts(cell, "training"):
                kwargs["training"] = training
            if constants is not None and cell_accepts(cell, "constants"):
                kwargs["constants"] = constants
            inputs, cell_new = cell.call(inputs, cell_states, **kwargs)
            new_states.extend(as_state_list(cell_new))
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
