"""Embedding layer (``keras.layers.embeddings``)."""
from __future__ import annotations

import numbers
from typing import Any, Dict, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F

from .. import constraints, initializers, regularizers
from ..engine.base_layer import Layer

__all__ = ["Embedding"]

_INDEX_DTYPES = (torch.int32, torch.int64)


class Embedding(Layer):
    """Turns non-negative integers (indices) into dense vectors of fixed size:
    ``[[4], [20]] -> [[0.25, 0.1], [0.6, -0.2]]``.

    Args:
        input_dim: size of the vocabulary (largest index + 1), > 0.
        output_dim: dimension of the dense embedding, > 0.
        embeddings_initializer: initializer of the ``embeddings`` matrix.
        embeddings_regularizer: regularizer of the ``embeddings`` matrix.
        activity_regularizer: regularizer of the output.
        embeddings_constraint: constraint of the ``embeddings`` matrix.
        mask_zero: whether index 0 is padding: the layer then outputs the mask
            ``inputs != 0`` for the layers downstream (index 0 cannot be a word, so
            ``input_dim`` should be the vocabulary size + 1).
        input_length: length of the input sequences when constant (an int, or a tuple for
            inputs of rank > 2); needed by ``Flatten`` then ``Dense`` downstream.

    Weights: ``embeddings`` of shape ``(input_dim, output_dim)``.

    Input shape: ``(batch_size, input_length)`` integers (any integer dtype; floats
        holding integers are truncated to integers).

    Output shape: ``(batch_size, input_length, output_dim)``.

    Indices must lie in ``[0, input_dim)``. On CPU an index out of range raises a
    ValueError; on an accelerator the check would need a host sync per call, so it is not
    made there (torch then fails with a device-side assertion).

    Example:
        >>> model = Sequential()
        >>> model.add(Embedding(1000, 64, input_length=10))
        >>> model.output_shape
        (None, 10, 64)
        >>> model.predict(np.random.randint(1000, size=(32, 10))).shape
        (32, 10, 64)
    """

    def __init__(self, input_dim: int, output_dim: int, embeddings_initializer="uniform",
                 embeddings_regularizer=None, activity_regularizer=None,
                 embeddings_constraint=None, mask_zero: bool = False,
                 input_length: Optional[Union[int, Sequence[Optional[int]]]] = None, **kwargs):
        if "input_shape" not in kwargs and "batch_input_shape" not in kwargs:
            if isinstance(input_length, (list, tuple)):
                kwargs["input_shape"] = tuple(input_length)
            else:
                kwargs["input_shape"] = (input_length or None,)
        input_dim, output_dim = _positive_dims(input_dim, output_dim)
        kwargs["autocast"] = False  # indices must not be cast to the float dtype first
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.input_dim = input_dim
        self.output_dim = output_dim
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.embeddings_constraint = constraints.get(embeddings_constraint)
        self.mask_zero = mask_zero
        self.supports_masking = mask_zero
        self.input_length = input_length

    def build(self, input_shape=None) -> None:
        self.embeddings = self.add_weight("embeddings", shape=(self.input_dim, self.output_dim),
                                          initializer=self.embeddings_initializer,
                                          regularizer=self.embeddings_regularizer,
                                          constraint=self.embeddings_constraint)
        self.built = True

    def compute_mask(self, inputs, mask=None):
        if not self.mask_zero:
            return None
        return inputs != 0

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if self.input_length is None:
            return input_shape + (self.output_dim,)
        lengths = list(self.input_length) if isinstance(self.input_length, (list, tuple)) \
            else [self.input_length]
        if len(lengths) != len(input_shape) - 1:
            raise ValueError(f'Layer "{self.name}": "input_length" is {self.input_length}, but '
                             f"received input has shape {input_shape}")
        for i, (fixed, given) in enumerate(zip(lengths, input_shape[1:])):
            if fixed is not None and given is not None and fixed != given:
                raise ValueError(f'Layer "{self.name}": "input_length" is {self.input_length}, '
                                 f"but received input has shape {input_shape}")
            if fixed is None:
                lengths[i] = given
        return (input_shape[0],) + tuple(lengths) + (self.output_dim,)

    def call(self, inputs):
        if inputs.dtype not in _INDEX_DTYPES:
            inputs = inputs.to(torch.int64)
        if inputs.device.type != "cpu":
            return F.embedding(inputs, self.embeddings)
        try:
            return F.embedding(inputs, self.embeddings)
        except IndexError as err:  # CPU only: reading the bad indices costs no device sync
            raise ValueError(self._out_of_range_message(inputs)) from err

    def _out_of_range_message(self, indices: torch.Tensor) -> str:
        low, high = int(indices.min()), int(indices.max())
        return (f'Layer "{self.name}" (Embedding): every input index must be in '
                f"[0, input_dim={self.input_dim}). Received indices from {low} to {high} in an "
                f"input of shape {tuple(indices.shape)}.")

    def get_config(self) -> Dict[str, Any]:
        config = super().get_config()
        config.update({
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            "embeddings_initializer": initializers.serialize(self.embeddings_initializer),
            "embeddings_regularizer": regularizers.serialize(self.embeddings_regularizer),
            "activity_regularizer": regularizers.serialize(self.activity_regularizer),
            "embeddings_constraint": constraints.serialize(self.embeddings_constraint),
            "mask_zero": self.mask_zero,
            "input_length": self.input_length,
        })
        return config


def _positive_dims(input_dim: Any, output_dim: Any) -> Tuple[int, int]:
    """(input_dim, output_dim) as ints; Embedding's ValueError unless both are positive integers."""
    for value in (input_dim, output_dim):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
            raise ValueError("Embedding: both `input_dim` and `output_dim` should be positive "
                             f"integers. Received: input_dim={input_dim!r}, "
                             f"output_dim={output_dim!r}")
    return int(input_dim), int(output_dim)
