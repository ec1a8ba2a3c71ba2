"""Layer wrappers: TimeDistributed (a layer applied to every timestep) and Bidirectional
(an RNN run forwards and backwards)."""
from __future__ import annotations

import copy
import inspect
from typing import Any, Dict, List, Optional

import numpy as np
import torch

from ..engine.base_layer import Layer
from ..engine.keras_tensor import map_structure
from .rnn_base import PackedStateCallMixin
from .rnn_cell_base import (
    build_sublayer_in_parent_scope,
    cell_accepts,
    deserialize_sublayer,
    serialize_sublayer,
    to_list_or_none,
)

__all__ = ["Wrapper", "TimeDistributed", "Bidirectional"]


def _check_is_layer(layer, wrapper: str, argument: str = "layer") -> None:
    if not isinstance(layer, Layer):
        raise ValueError(f"Please initialize `{wrapper}` with a `keras.layers.Layer` instance as "
                         f"`{argument}`. Received: {argument}={layer!r}")


_RNN_ATTRIBUTES = ("go_backwards", "return_sequences", "return_state", "stateful")


def _check_is_recurrent(layer, argument: str = "layer") -> None:
    missing = [a for a in _RNN_ATTRIBUTES if not hasattr(layer, a)]
    if missing:
        raise ValueError(
            f"`Bidirectional` needs a recurrent layer as `{argument}` (such as LSTM, GRU, "
            f"SimpleRNN or RNN) with {', '.join(f'`{a}`' for a in _RNN_ATTRIBUTES)}. Received: "
            f"{argument}={type(layer).__name__} (layer {layer.name!r}), which has no "
            f"`{missing[0]}`")


def _convert_with(layer, values: List[np.ndarray]) -> List[np.ndarray]:
    convert = getattr(layer, "convert_loaded_weights", None)
    return convert(values) if convert is not None else values


class Wrapper(Layer):
    """Base class of layer wrappers: holds ``self.layer`` and serializes it as ``"layer"``.

    Args:
        layer: the wrapped layer.

    Example:
        >>> class Doubled(Wrapper):
        ...     def call(self, inputs):
        ...         return 2 * self.layer(inputs)
        ...
        >>> Doubled(Dense(3))(np.zeros((2, 4), "float32")).shape
        torch.Size([2, 3])
    """

    def __init__(self, layer: Layer, **kwargs):
        _check_is_layer(layer, type(self).__name__)
        super().__init__(**kwargs)
        self.layer = layer

    def get_config(self) -> Dict[str, Any]:
        config = super().get_config()
        config["layer"] = serialize_sublayer(self.layer)
        return config

    @classmethod
    def from_config(cls, config: Dict[str, Any], custom_objects=None):
        config = copy.deepcopy(config)
        config["layer"] = deserialize_sublayer(config["layer"], custom_objects)
        return cls(**config)


# ------------------------------------------------------------------ TimeDistributed

def _fold_time(x: torch.Tensor) -> torch.Tensor:
    """(batch, time, ...) -> (batch * time, ...)."""
    return x.reshape((x.shape[0] * x.shape[1],) + tuple(x.shape[2:]))


class TimeDistributed(Wrapper):
    """Applies a layer to every temporal slice of an input (the same weights at every step).

    The time axis is folded into the batch: ``(batch, time, ...)`` is reshaped to
    ``(batch * time, ...)``, the layer runs once, and the output is reshaped back.

    Args:
        layer: a layer or a model.

    Input shape: ``(batch, time, ...)``, at least 3D.
    Output shape: ``(batch, time) + layer's output shape without its batch axis``.

    Example:
        >>> inputs = Input(shape=(10, 16))
        >>> TimeDistributed(Dense(4))(inputs).shape
        (None, 10, 4)
    """

    def __init__(self, layer: Layer, **kwargs):
        super().__init__(layer, **kwargs)
        self.supports_masking = True

    @staticmethod
    def _child_shape(input_shape) -> tuple:
        return (input_shape[0],) + tuple(input_shape[2:])

    def _check_rank(self, input_shape) -> None:
        if len(input_shape) < 3:
            raise ValueError(f'`TimeDistributed` Layer "{self.name}" should be passed an '
                             f"`input_shape` with at least 3 dimensions, received: "
                             f"{tuple(input_shape)}")

    def build(self, input_shape) -> None:
        input_shape = tuple(input_shape)
        self._check_rank(input_shape)
        build_sublayer_in_parent_scope(self, self.layer, self._child_shape(input_shape))
        self.built = True

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        self._check_rank(input_shape)
        child = self.layer.compute_output_shape(self._child_shape(input_shape))
        return _insert_time(child, input_shape[1])

    def call(self, inputs, training=None, mask=None):
        if inputs.dim() < 3:
            self._check_rank(tuple(inputs.shape))
        batch, steps = inputs.shape[0], inputs.shape[1]
        kwargs: Dict[str, Any] = {}
        if cell_accepts(self.layer, "training"):
            kwargs["training"] = training
        if mask is not None and cell_accepts(self.layer, "mask"):
            kwargs["mask"] = _fold_time(mask)
        outputs = self.layer(_fold_time(inputs), **kwargs)
        return map_structure(
            lambda y: y.reshape((batch, steps) + tuple(y.shape[1:])), outputs)

    def compute_mask(self, inputs, mask=None):
        """The inner layer's mask reshaped to (batch, time, ...); else the input mask
        (reduced to (batch, time)); None without masks."""
        inner_mask = _fold_time(mask) if mask is not None else None
        inner_out = None
        if type(self.layer).compute_mask is not Layer.compute_mask:
            inner_out = self.layer.compute_mask(_fold_time(inputs), inner_mask)
        if inner_out is None:
            if mask is None:
                return None
            while mask.dim() > 2:
                mask = mask.any(dim=-1)
            return mask
        batch, steps = inputs.shape[0], inputs.shape[1]
        return inner_out.reshape((batch, steps) + tuple(inner_out.shape[1:]))

    def convert_loaded_weights(self, values):
        return _convert_with(self.layer, values)


def _insert_time(shape, steps):
    if isinstance(shape, list):
        return [_insert_time(s, steps) for s in shape]
    shape = tuple(shape)
    return (shape[0], steps) + shape[1:]


# ------------------------------------------------------------------ Bidirectional

_MERGE_MODES = ("sum", "mul", "ave", "concat", None)


def _recreate(layer: Layer, name: str, go_backwards: Optional[bool] = None) -> Layer:
    """A fresh copy of ``layer`` from its config (optionally with go_backwards flipped)."""
    config = layer.get_config()
    config["name"] = name
    if go_backwards is not None:
        config["go_backwards"] = go_backwards
    from_config = type(layer).from_config
    if "custom_objects" in inspect.signature(from_config).parameters:
        cell = getattr(layer, "cell", None)
        custom: Dict[str, Any] = {}
        if isinstance(cell, Layer):
            custom[type(cell).__name__] = type(cell)
            for c in getattr(cell, "cells", []) or []:
                custom[type(c).__name__] = type(c)
        return from_config(config, custom_objects=custom)
    return from_config(config)


def _merge(forward: torch.Tensor, backward: torch.Tensor, mode: Optional[str]):
    if mode == "concat":
        return torch.cat([forward, backward], dim=-1)
    if mode == "sum":
        return forward + backward
    if mode == "ave":
        return (forward + backward) / 2
    if mode == "mul":
        return forward * backward
    return [forward, backward]


class Bidirectional(PackedStateCallMixin, Wrapper):
    """Runs an RNN forwards and backwards and merges the two outputs.

    The backward output sequence is re-reversed to time order before merging.

    Args:
        layer: a recurrent layer (LSTM, GRU, SimpleRNN, RNN, ConvLSTM2D ...). Two fresh
            copies are made from its config: ``forward_<name>`` and ``backward_<name>``.
        merge_mode: 'concat' (default), 'sum', 'mul', 'ave', or None (a list
            ``[forward, backward]``).
        weights: initial weights (forward layer's, then backward layer's).
        backward_layer: an optional layer for the backward direction (its go_backwards must
            differ from ``layer``'s; stateful / return_sequences / return_state must match).

    Call arguments: as the wrapped RNN; an ``initial_state`` list holds the forward states
    then the backward states.

    Example:
        >>> model = Sequential([Bidirectional(LSTM(10, return_sequences=True),
        ...                                   input_shape=(5, 10)),
        ...                     Bidirectional(LSTM(10)), Dense(5)])
        >>> model.output_shape
        (None, 5)
    """

    def __init__(self, layer: Layer, merge_mode: Optional[str] = "concat", weights=None,
                 backward_layer: Optional[Layer] = None, **kwargs):
        _check_is_layer(layer, "Bidirectional")
        _check_is_recurrent(layer)
        if backward_layer is not None:
            _check_is_layer(backward_layer, "Bidirectional", "backward_layer")
            _check_is_recurrent(backward_layer, "backward_layer")
        if merge_mode not in _MERGE_MODES:
            raise ValueError(f"Invalid merge mode. Received: merge_mode={merge_mode!r}. Merge mode "
                             "should be one of {'sum', 'mul', 'ave', 'concat', None}")
        num_constants = kwargs.pop("num_constants", None) or 0
        Layer.__init__(self, weights=weights, **kwargs)
        # The original layer is only kept for the config: it is not tracked (no weights).
        self.__dict__["layer"] = layer
        self.forward_layer = _recreate(layer, "forward_" + layer.name)
        if backward_layer is None:
            self.backward_layer = _recreate(layer, "backward_" + layer.name,
                                            go_backwards=not layer.go_backwards)
            self._backward_layer_config = None
        else:
            self._backward_layer_config = serialize_sublayer(backward_layer)
            backward_layer.__dict__["_name"] = "backward_" + backward_layer.name
            self.backward_layer = backward_layer
        self._verify_directions()
        for direction in (self.forward_layer, self.backward_layer):
            if hasattr(direction, "zero_output_for_mask"):
                direction.zero_output_for_mask = direction.return_sequences
        self.merge_mode = merge_mode
        self.stateful = layer.stateful
        self.return_sequences = layer.return_sequences
        self.return_state = layer.return_state
        self.supports_masking = True
        self._num_constants = int(num_constants)
        self.forward_layer._num_constants = self._num_constants
        self.backward_layer._num_constants = self._num_constants

    def _verify_directions(self) -> None:
        f, b = self.forward_layer, self.backward_layer
        if f.go_backwards == b.go_backwards:
            raise ValueError("Forward layer and backward layer should have different "
                             f"`go_backwards` value. forward_layer.go_backwards = "
                             f"{f.go_backwards}, backward_layer.go_backwards = {b.go_backwards}")
        for attr in ("stateful", "return_sequences", "return_state"):
            if getattr(f, attr) != getattr(b, attr):
                raise ValueError("Forward layer and backward layer are expected to have the same "
                                 f'value for attribute "{attr}", got "{getattr(f, attr)}" for '
                                 f'forward layer and "{getattr(b, attr)}" for backward layer')

    # .............................................................. shapes

    def build(self, input_shape) -> None:
        self.forward_layer._maybe_build(input_shape)
        self.backward_layer._maybe_build(input_shape)
        self.built = True

    def compute_output_shape(self, input_shape):
        output_shape = self.forward_layer.compute_output_shape(input_shape)
        state_shapes: list = []
        if self.return_state:
            output_shape, state_shapes = output_shape[0], list(output_shape[1:])
        output_shape = tuple(output_shape)
        if self.merge_mode == "concat":
            last = output_shape[-1]
            output_shape = output_shape[:-1] + (None if last is None else 2 * last,)
        outputs = [output_shape, output_shape] if self.merge_mode is None else [output_shape]
        if self.return_state:
            return outputs + state_shapes + state_shapes
        return outputs if self.merge_mode is None else output_shape

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        output_mask = mask if self.return_sequences else None
        masks = [output_mask, output_mask] if self.merge_mode is None else [output_mask]
        if self.return_state:
            num_states = len(self.forward_layer.states)
            return masks + [None] * (2 * num_states)
        return masks if self.merge_mode is None else output_mask

    # .............................................................. call

    def _check_packed_call(self, initial_state, constants) -> None:
        if initial_state is not None and len(initial_state) % 2:
            raise ValueError(f'Layer "{self.name}": when passing `initial_state` to a '
                             "Bidirectional RNN, the state should be a list containing the states "
                             "of the underlying RNNs (forward then backward, same count). "
                             f"Received {len(initial_state)} state tensor(s).")

    def _split_states(self, inputs, initial_state, constants):
        """(sequence, forward states, backward states, constants) from a (packed) call."""
        if isinstance(inputs, (list, tuple)):
            inputs = list(inputs)
            if self._num_constants:
                constants = inputs[-self._num_constants:]
                inputs = inputs[:-self._num_constants]
            if len(inputs) > 1:
                initial_state = inputs[1:]
            inputs = inputs[0]
        initial_state = to_list_or_none(initial_state)
        if initial_state is None:
            return inputs, None, None, constants
        if len(initial_state) % 2:
            raise ValueError(f'Layer "{self.name}": when passing `initial_state` to a '
                             "Bidirectional RNN, the state should be a list containing the states "
                             "of the underlying RNNs (forward then backward, same count). "
                             f"Received {len(initial_state)} state tensor(s).")
        half = len(initial_state) // 2
        return inputs, initial_state[:half], initial_state[half:], constants

    def call(self, inputs, training=None, mask=None, initial_state=None, constants=None):
        x, forward_state, backward_state, constants = self._split_states(
            inputs, initial_state, constants)
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        kwargs: Dict[str, Any] = {"training": training}
        if mask is not None:
            kwargs["mask"] = mask
        if constants is not None:
            kwargs["constants"] = constants
        y = self.forward_layer(x, initial_state=forward_state, **kwargs)
        y_rev = self.backward_layer(x, initial_state=backward_state, **kwargs)
        states: list = []
        if self.return_state:
            states = list(y[1:]) + list(y_rev[1:])
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences:
            time_axis = 0 if getattr(self.forward_layer, "time_major", False) else 1
            y_rev = y_rev.flip(time_axis)
        output = _merge(y, y_rev, self.merge_mode)
        if self.return_state:
            return (output if isinstance(output, list) else [output]) + states
        return output

    def reset_states(self, states=None) -> None:
        if states is None:
            self.forward_layer.reset_states()
            self.backward_layer.reset_states()
            return
        states = list(states)
        half = len(states) // 2
        self.forward_layer.reset_states(states[:half])
        self.backward_layer.reset_states(states[half:])

    # .............................................................. weights / config

    def convert_loaded_weights(self, values):
        half = len(values) // 2
        return _convert_with(self.forward_layer, list(values[:half])) + \
            _convert_with(self.backward_layer, list(values[half:]))

    def set_weights(self, weights) -> None:
        super().set_weights(self.convert_loaded_weights(list(weights)))

    def get_config(self) -> Dict[str, Any]:
        config = Layer.get_config(self)
        config["layer"] = serialize_sublayer(self.layer)
        config["merge_mode"] = self.merge_mode
        if self._num_constants:
            config["num_constants"] = self._num_constants
        if self._backward_layer_config is not None:
            config["backward_layer"] = self._backward_layer_config
        return config

    @classmethod
    def from_config(cls, config: Dict[str, Any], custom_objects=None):
        config = copy.deepcopy(config)
        config["layer"] = deserialize_sublayer(config["layer"], custom_objects)
        backward = config.pop("backward_layer", None)
        if backward is not None:
            config["backward_layer"] = deserialize_sublayer(backward, custom_objects)
        return cls(**config)
