"""The RNN layer base: runs a cell over the time axis (Keras's ``keras.layers.RNN``).

A sequence runs on one of two paths, with the same numbers:

* the fused path: torch's public sequence ops (``torch.lstm``, ``torch.gru``,
  ``torch.rnn_tanh``, ``torch.rnn_relu``, the kernels behind ``torch.nn.LSTM`` & co.) when
  the configuration is exactly what those kernels compute: LSTM with tanh / sigmoid, GRU
  with ``reset_after=True`` and tanh / sigmoid, SimpleRNN with tanh or relu; no mask, no
  constants, no recurrent dropout in training. The Keras-layout weights are converted to
  torch's layout on every call (transposed views; GRU's gates reordered z, r, h -> r, z, n),
  so optimizers, constraints and ``set_weights`` keep working on the Keras parameters.
  The cells that have such a kernel are marked with :func:`fused_kernel_cell`.
* the step loop: the input projection of all timesteps in one matmul (built-in cells), then
  one recurrent step per timestep. It handles masks, dropout, constants and any cell.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Set

import numpy as np
import torch

from ..engine.base_layer import Layer
from ..engine.input_spec import InputSpec, assert_input_compatibility
from .rnn_cell_base import (
    AbstractRNNCell,
    StackedRNNCells,
    _RecurrentCell,
    as_state_list,
    cell_accepts,
    cell_output_size,
    check_cell,
    deserialize_sublayer,
    flatten_sizes,
    is_shape_list,
    reset_dropout_masks,
    serialize_sublayer,
    to_list_or_none,
)

__all__ = ["RNN"]

_FUSABLE_CELLS: Set[type] = set()


def fused_kernel_cell(cls: type) -> type:
    """Class decorator marking a built-in cell whose whole sequence one of torch's fused
    kernels can run (through the cell's ``_fused_ok`` / ``_fused_sequence``).

    Only the decorated class itself takes the fused path, not its subclasses (a subclass
    may change the step).

    Args:
        cls: the cell class.

    Returns:
        ``cls``.
    """
    _FUSABLE_CELLS.add(cls)
    return cls


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
    return inputs, to_list_or_none(initial_state), to_list_or_none(constants)


def _sequence_input_shape(kwargs: Dict[str, Any]) -> None:
    """Keras 2's ``LSTM(32, input_dim=16, input_length=10)``: input_shape (10, 16)."""
    if "input_shape" in kwargs or "batch_input_shape" in kwargs:
        kwargs.pop("input_length", None)
        return
    if kwargs.get("input_dim") is not None or kwargs.get("input_length") is not None:
        kwargs["input_shape"] = (kwargs.pop("input_length", None), kwargs.pop("input_dim", None))
    kwargs.pop("input_dim", None)
    kwargs.pop("input_length", None)


def _expand_mask(step_mask: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    """A (batch,) mask shaped to broadcast against ``like`` (batch, ...)."""
    return step_mask.reshape(step_mask.shape + (1,) * (like.dim() - 1))


class PackedStateCallMixin:
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


class RNN(PackedStateCallMixin, Layer):
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
    _auto_compile = False  # traced, the time loop unrolls (see Layer._auto_compile)

    def __init__(self, cell, return_sequences: bool = False, return_state: bool = False,
                 go_backwards: bool = False, stateful: bool = False, unroll: bool = False,
                 time_major: bool = False, **kwargs):
        if isinstance(cell, (list, tuple)):
            cell = StackedRNNCells(cell)
        check_cell(cell)
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
        return flatten_sizes(self.cell.state_size)

    def _output_step_shape(self, seq_shape) -> tuple:
        """Shape of one output step, batch first, for a batch-major sequence shape."""
        return (seq_shape[0], cell_output_size(self.cell))

    def _state_shapes(self, seq_shape) -> List[tuple]:
        """Shapes of the states, batch first, for a batch-major sequence shape."""
        return [(seq_shape[0], s) for s in self._flat_state_sizes]

    def _check_sequence_shape(self, shape) -> None:
        assert_input_compatibility(InputSpec(ndim=self._input_ndim), [tuple(shape)], self.name)

    def _batch_major(self, shape) -> tuple:
        shape = tuple(shape)
        return (shape[1], shape[0]) + shape[2:] if self.time_major else shape

    def compute_output_shape(self, input_shape):
        seq = tuple(input_shape[0]) if is_shape_list(input_shape) else tuple(input_shape)
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
        shapes = [tuple(s) for s in input_shape] if is_shape_list(input_shape) else [tuple(input_shape)]
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
        dtype = self.__dict__["_compute_torch_dtype"]  # states live in the compute dtype
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
            return [s.to(device=x.device, dtype=x.dtype) for s in as_state_list(states)]
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
        if constants is not None and not cell_accepts(self.cell, "constants"):
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
        return inputs, to_list_or_none(initial_state), to_list_or_none(constants)

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
            reset_dropout_masks(self.cell)
            sequence, states = self.cell._fused_sequence(x, states, self.go_backwards, training)
            # Unmasked, the last output is the final hidden state (the same values); taking it
            # spares the backward pass a gradient over the whole unused output sequence.
            return states[0], sequence, states
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
        if cell_accepts(cell, "training"):
            kwargs["training"] = training
        if constants:
            kwargs["constants"] = constants

        def step(x_t, states):
            output, new_states = cell.call(x_t, states, **kwargs)
            return output, as_state_list(new_states)
        return x, step

    def _step_loop(self, x, states, mask, training, constants):
        reset_dropout_masks(self.cell)
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
