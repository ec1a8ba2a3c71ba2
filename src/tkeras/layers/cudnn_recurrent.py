"""Keras 2's cuDNN recurrent layers (``keras.layers.cudnn_recurrent``): CuDNNLSTM and
CuDNNGRU, which keep their weights in Keras 2's cuDNN layout, and the conversions between
that layout and LSTM / GRU(reset_after=True) weights.

They run torch's fused LSTM / GRU kernels on any device (no cuDNN needed).
"""
from __future__ import annotations

from typing import Any, Dict, List, Sequence

import numpy as np
import torch

from .. import constraints, initializers, regularizers
from ..engine.base_layer import Layer
from .rnn_base import RNN
from .rnn_cell_base import is_shape_list

__all__ = ["CuDNNLSTM", "CuDNNGRU"]


# ------------------------------------------------------------------ weight layouts

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


# ------------------------------------------------------------------ CuDNN layers

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
        seq = input_shape[0] if is_shape_list(input_shape) else input_shape
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

    Example:
        >>> CuDNNLSTM(4)(np.zeros((2, 5, 3), "float32")).shape
        torch.Size([2, 4])
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

    Example:
        >>> CuDNNGRU(4)(np.zeros((2, 5, 3), "float32")).shape
        torch.Size([2, 4])
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
