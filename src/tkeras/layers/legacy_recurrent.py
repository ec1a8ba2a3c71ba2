"""Keras 2.3.1's legacy recurrent bases: ``Recurrent`` and ``ConvRecurrent2D``.

Keras 1 custom recurrent layers subclass ``Recurrent`` and define ``build`` (setting
``self.states = [None] * n_states``), ``step(inputs, states) -> (output, new_states)`` and
optionally ``get_constants`` / ``preprocess_input``. The loop runs eagerly over the time
axis (masked steps keep the previous output and states, as Keras's ``K.rnn``).
New code should use ``RNN`` with a cell.
"""
from __future__ import annotations

from typing import Any, Dict, List

import torch

from ..backend import config as backend_config
from ..engine.base_layer import Layer
from ..engine.input_spec import InputSpec
from ..utils import conv_utils

__all__ = ["Recurrent", "ConvRecurrent2D"]


class Recurrent(Layer):
    """Abstract base of Keras 1 recurrent layers (Keras 2.3.1's ``keras.legacy.layers``).

    Args:
        return_sequences: return the whole output sequence, not only the last output.
        return_state: also return the last states.
        go_backwards: process the sequence backwards.
        stateful: not supported here (use ``RNN``).
        unroll: accepted (the loop is always a Python loop).
        implementation: accepted for compatibility.

    Input shape:
        ``(batch, timesteps, input_dim)``.

    Output shape:
        ``(batch, timesteps, units)`` with ``return_sequences``, else ``(batch, units)``.

    Example:
        >>> class MinimalRNN(Recurrent):  # doctest: +SKIP
        ...     def __init__(self, units, **kwargs):
        ...         super().__init__(**kwargs); self.units = units
        ...     def build(self, input_shape):
        ...         self.kernel = self.add_weight("kernel", (input_shape[-1], self.units))
        ...         self.states = [None]; self.built = True
        ...     def step(self, x, states):
        ...         h = x @ self.kernel + states[0]; return h, [h]
    """

    def __init__(self, return_sequences: bool = False, return_state: bool = False,
                 go_backwards: bool = False, stateful: bool = False, unroll: bool = False,
                 implementation: int = 0, **kwargs):
        super().__init__(**kwargs)
        if stateful:
            raise ValueError("The legacy `Recurrent` base does not support `stateful=True` in "
                             "tkeras; use `tkeras.layers.RNN` with a cell instead.")
        self.return_sequences = return_sequences
        self.return_state = return_state
        self.go_backwards = go_backwards
        self.stateful = stateful
        self.unroll = unroll
        self.implementation = implementation
        self.supports_masking = True
        self.input_spec = InputSpec(min_ndim=3)
        self.states: List[Any] = []
        self.dropout = 0
        self.recurrent_dropout = 0

    def _state_shape(self, input_shape) -> tuple:
        return (input_shape[0], self.units)

    def compute_output_shape(self, input_shape):
        if isinstance(input_shape, list):
            input_shape = input_shape[0]
        state = self._state_shape(input_shape)
        output = (state[0], input_shape[1]) + tuple(state[1:]) if self.return_sequences else state
        if self.return_state:
            return [output] + [state for _ in self.states]
        return output

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, list):
            mask = mask[0]
        output_mask = mask if self.return_sequences else None
        if self.return_state:
            return [output_mask] + [None for _ in self.states]
        return output_mask

    def step(self, inputs, states):
        raise NotImplementedError("Recurrent subclasses define `step(inputs, states)`.")

    def get_constants(self, inputs, training=None) -> list:
        return []

    def get_initial_state(self, inputs) -> list:
        """Zeros of shape ``(batch, units)``, one per state."""
        zeros = inputs.new_zeros((inputs.shape[0], self.units))
        return [zeros for _ in self.states]

    def preprocess_input(self, inputs, training=None):
        return inputs

    def call(self, inputs, mask=None, training=None, initial_state=None):
        if isinstance(inputs, (list, tuple)):
            inputs, initial_state = inputs[0], list(inputs[1:])
        if initial_state is None:
            initial_state = self.get_initial_state(inputs)
        initial_state = list(initial_state)
        if isinstance(mask, list):
            mask = mask[0]
        if len(initial_state) != len(self.states):
            raise ValueError(f"Layer has {len(self.states)} states but was passed "
                             f"{len(initial_state)} initial states.")
        constants = self.get_constants(inputs, training=None)
        sequence = self.preprocess_input(inputs, training=None)
        steps = range(sequence.shape[1])
        if self.go_backwards:
            steps = reversed(steps)
        states, outputs, last = initial_state, [], None
        for t in steps:
            output, new_states = self.step(sequence[:, t], list(states) + list(constants))
            new_states = list(new_states)[:len(states)]
            if mask is not None:
                keep = mask[:, t].reshape((-1,) + (1,) * (output.dim() - 1)).bool()
                previous = last if last is not None else torch.zeros_like(output)
                output = torch.where(keep, output, previous)
                new_states = [torch.where(keep, n, s) for n, s in zip(new_states, states)]
            states, last = new_states, output
            outputs.append(output)
        result = torch.stack(outputs, dim=1) if self.return_sequences else last
        if self.return_state:
            return [result] + list(states)
        return result

    def get_config(self) -> Dict[str, Any]:
        return {**super().get_config(), "return_sequences": self.return_sequences,
                "return_state": self.return_state, "go_backwards": self.go_backwards,
                "stateful": self.stateful, "unroll": self.unroll,
                "implementation": self.implementation}


class ConvRecurrent2D(Recurrent):
    """Abstract base of Keras 1 / early Keras 2 convolutional recurrent layers.

    Args:
        filters: number of output filters.
        kernel_size: the convolution window (int or pair).
        strides: the strides (int or pair).
        padding: 'valid' or 'same'.
        data_format: 'channels_last' or 'channels_first' (default ``image_data_format()``).
        dilation_rate: the dilation (int or pair).
        return_sequences, go_backwards, stateful: as in ``Recurrent``.

    Input shape:
        5D: ``(batch, time, rows, cols, channels)`` (channels last).

    Example:
        >>> base = ConvRecurrent2D(8, 3, padding="same")  # subclasses define ``step``
        >>> base.kernel_size, base.strides, base.padding
        ((3, 3), (1, 1), 'same')
    """

    def __init__(self, filters: int, kernel_size, strides=(1, 1), padding: str = "valid",
                 data_format=None, dilation_rate=(1, 1), return_sequences: bool = False,
                 go_backwards: bool = False, stateful: bool = False, **kwargs):
        super().__init__(return_sequences=return_sequences, go_backwards=go_backwards,
                         stateful=stateful, **kwargs)
        self.filters = filters
        self.kernel_size = conv_utils.normalize_tuple(kernel_size, 2, "kernel_size")
        self.strides = conv_utils.normalize_tuple(strides, 2, "strides")
        self.padding = conv_utils.normalize_padding(padding)
        self.data_format = data_format or backend_config.image_data_format()
        self.dilation_rate = conv_utils.normalize_tuple(dilation_rate, 2, "dilation_rate")
        self.input_spec = InputSpec(ndim=5)

    def _state_shape(self, input_shape) -> tuple:
        first = self.data_format == "channels_first"
        rows, cols = (input_shape[3], input_shape[4]) if first else (input_shape[2], input_shape[3])
        rows = conv_utils.conv_output_length(rows, self.kernel_size[0], self.padding,
                                             self.strides[0], dilation=self.dilation_rate[0])
        cols = conv_utils.conv_output_length(cols, self.kernel_size[1], self.padding,
                                             self.strides[1], dilation=self.dilation_rate[1])
        if first:
            return (input_shape[0], self.filters, rows, cols)
        return (input_shape[0], rows, cols, self.filters)

    def compute_output_shape(self, input_shape):
        if isinstance(input_shape, list):
            input_shape = input_shape[0]
        state = self._state_shape(input_shape)
        output = (state[0], input_shape[1]) + tuple(state[1:]) if self.return_sequences else state
        if self.return_state:
            return [output, state, state]
        return output

    def get_config(self) -> Dict[str, Any]:
        config = {**super().get_config(), "filters": self.filters,
                  "kernel_size": self.kernel_size, "strides": self.strides,
                  "padding": self.padding, "data_format": self.data_format,
                  "dilation_rate": self.dilation_rate}
        for key in ("return_state", "unroll", "implementation"):
            config.pop(key, None)
        return config
