"""Keras 2.3.1's ``keras.legacy.layers``: Keras 1 layers kept for old code.

``MaxoutDense`` and ``Highway`` (Keras 1 argument names: ``init``, ``W_regularizer``, ...,
``bias``), and ``AtrousConvolution1D`` / ``AtrousConvolution2D`` (with Keras 1's short
names ``AtrousConv1D`` / ``AtrousConv2D``): functions that build ``Conv1D`` / ``Conv2D``
with ``dilation_rate=atrous_rate``, with Keras's deprecation warning.
"""
from __future__ import annotations

import warnings
from typing import Any, Dict

import torch

from .. import activations, constraints, initializers, regularizers
from .._warn import TkerasDeprecationWarning
from ..engine.base_layer import Layer
from ..engine.input_spec import InputSpec

__all__ = ["MaxoutDense", "Highway", "AtrousConvolution1D", "AtrousConvolution2D",
           "AtrousConv1D", "AtrousConv2D"]

_REMOVAL = "and will be removed after 06/2017."


def _warn(message: str) -> None:
    warnings.warn(message, TkerasDeprecationWarning, stacklevel=3)


class _Keras1Dense(Layer):
    """The shared Keras 1 constructor arguments of ``MaxoutDense`` and ``Highway``."""

    def __init__(self, init="glorot_uniform", weights=None, W_regularizer=None,
                 b_regularizer=None, activity_regularizer=None, W_constraint=None,
                 b_constraint=None, bias: bool = True, input_dim=None, **kwargs):
        if input_dim:
            kwargs["input_shape"] = (input_dim,)
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.init = initializers.get(init)
        self.W_regularizer = regularizers.get(W_regularizer)
        self.b_regularizer = regularizers.get(b_regularizer)
        self.W_constraint = constraints.get(W_constraint)
        self.b_constraint = constraints.get(b_constraint)
        self.bias = bias
        self.initial_weights = weights
        self.input_dim = input_dim
        self.input_spec = InputSpec(ndim=2)

    def _set_initial_weights(self) -> None:
        if self.initial_weights is not None:
            self.set_weights(self.initial_weights)
            self.initial_weights = None

    def _input_dim(self, input_shape) -> int:
        input_dim = input_shape[-1]
        if input_dim is None:
            raise ValueError(f"Layer {self.name!r} needs a defined last input dimension. "
                             f"Received input shape {tuple(input_shape)}.")
        self.input_spec = InputSpec(ndim=2, axes={-1: input_dim})
        return int(input_dim)

    def get_config(self) -> Dict[str, Any]:
        return {**super().get_config(),
                "init": initializers.serialize(self.init),
                "W_regularizer": regularizers.serialize(self.W_regularizer),
                "b_regularizer": regularizers.serialize(self.b_regularizer),
                "activity_regularizer": regularizers.serialize(self.activity_regularizer),
                "W_constraint": constraints.serialize(self.W_constraint),
                "b_constraint": constraints.serialize(self.b_constraint),
                "bias": self.bias, "input_dim": self.input_dim}


class MaxoutDense(_Keras1Dense):
    """The element-wise maximum of ``nb_feature`` linear ``Dense`` layers (Keras 1).

    ``output = max_f(dot(x, W[f]) + b[f])``: a linear layer (no activation).

    Args:
        output_dim: output size.
        nb_feature: number of linear pieces.
        init, W_regularizer, b_regularizer, activity_regularizer, W_constraint,
        b_constraint, bias, input_dim: Keras 1's names of the usual Dense arguments.
        weights: initial weights ``[W (nb_feature, input_dim, output_dim),
            b (nb_feature, output_dim)]``.

    Input shape:
        ``(batch, input_dim)``.

    Output shape:
        ``(batch, output_dim)``.

    Example:
        >>> layer = MaxoutDense(3, nb_feature=2, input_dim=4)  # doctest: +SKIP
    """

    def __init__(self, output_dim: int, nb_feature: int = 4, init="glorot_uniform",
                 weights=None, W_regularizer=None, b_regularizer=None,
                 activity_regularizer=None, W_constraint=None, b_constraint=None,
                 bias: bool = True, input_dim=None, **kwargs):
        _warn("The `MaxoutDense` layer is deprecated " + _REMOVAL)
        super().__init__(init, weights, W_regularizer, b_regularizer, activity_regularizer,
                         W_constraint, b_constraint, bias, input_dim, **kwargs)
        self.output_dim = output_dim
        self.nb_feature = nb_feature

    def build(self, input_shape) -> None:
        input_dim = self._input_dim(input_shape)
        self.W = self.add_weight("W", shape=(self.nb_feature, input_dim, self.output_dim),
                                 initializer=self.init, regularizer=self.W_regularizer,
                                 constraint=self.W_constraint)
        self.b = None
        if self.bias:
            self.b = self.add_weight("b", shape=(self.nb_feature, self.output_dim),
                                     initializer="zeros", regularizer=self.b_regularizer,
                                     constraint=self.b_constraint)
        self.built = True
        self._set_initial_weights()

    def call(self, inputs):
        output = torch.einsum("ni,fio->nfo", inputs, self.W)
        if self.b is not None:
            output = output + self.b
        return output.amax(dim=1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.output_dim)

    def get_config(self) -> Dict[str, Any]:
        return {**super().get_config(), "output_dim": self.output_dim,
                "nb_feature": self.nb_feature}


class Highway(_Keras1Dense):
    """A densely connected highway layer (Keras 1).

    ``t = sigmoid(dot(x, W_carry) + b_carry)``;
    ``output = activation(dot(x, W) + b) * t + (1 - t) * x``.

    Args:
        init: initializer of ``W`` and ``W_carry``.
        activation: activation of the transform (default linear).
        weights: initial weights ``[W, W_carry, b, b_carry]``.
        W_regularizer, b_regularizer, activity_regularizer, W_constraint, b_constraint,
        bias, input_dim: Keras 1's names of the usual Dense arguments.

    Input shape:
        ``(batch, input_dim)``.

    Output shape:
        ``(batch, input_dim)``.

    Example:
        >>> layer = Highway(activation="relu", input_dim=8)  # doctest: +SKIP
    """

    def __init__(self, init="glorot_uniform", activation=None, weights=None,
                 W_regularizer=None, b_regularizer=None, activity_regularizer=None,
                 W_constraint=None, b_constraint=None, bias: bool = True, input_dim=None,
                 **kwargs):
        _warn("The `Highway` layer is deprecated " + _REMOVAL)
        if "transform_bias" in kwargs:
            kwargs.pop("transform_bias")
            _warn("`transform_bias` argument is deprecated and has been removed.")
        super().__init__(init, weights, W_regularizer, b_regularizer, activity_regularizer,
                         W_constraint, b_constraint, bias, input_dim, **kwargs)
        self.activation = activations.get(activation)

    def build(self, input_shape) -> None:
        input_dim = self._input_dim(input_shape)
        self.W = self.add_weight("W", shape=(input_dim, input_dim), initializer=self.init,
                                 regularizer=self.W_regularizer, constraint=self.W_constraint)
        self.W_carry = self.add_weight("W_carry", shape=(input_dim, input_dim),
                                       initializer=self.init)
        self.b = self.b_carry = None
        if self.bias:
            self.b = self.add_weight("b", shape=(input_dim,), initializer="zeros",
                                     regularizer=self.b_regularizer,
                                     constraint=self.b_constraint)
            self.b_carry = self.add_weight("b_carry", shape=(input_dim,), initializer="ones")
        self.built = True
        self._set_initial_weights()

    def call(self, inputs):
        carry = inputs @ self.W_carry
        if self.b_carry is not None:
            carry = carry + self.b_carry
        transform_weight = torch.sigmoid(carry)
        y = inputs @ self.W
        if self.b is not None:
            y = y + self.b
        return self.activation(y) * transform_weight + (1 - transform_weight) * inputs

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self) -> Dict[str, Any]:
        return {**super().get_config(), "activation": activations.serialize(self.activation)}


def _atrous(conv_name: str, args, kwargs):
    from . import convolutional
    kwargs["dilation_rate"] = kwargs.pop("atrous_rate", 1)
    warnings.warn(f"The `Atrous{conv_name.replace('Conv', 'Convolution')}` layer  has been "
                  f"deprecated. Use instead the `{conv_name}` layer with the `dilation_rate` "
                  "argument.", TkerasDeprecationWarning, stacklevel=3)
    return getattr(convolutional, conv_name)(*args, **kwargs)


def AtrousConvolution1D(*args, **kwargs):
    """Keras 1's dilated 1D convolution: ``Conv1D(..., dilation_rate=atrous_rate)``.

    Example:
        >>> layer = AtrousConvolution1D(8, 3, atrous_rate=2)  # doctest: +SKIP
    """
    return _atrous("Conv1D", args, kwargs)


def AtrousConvolution2D(*args, **kwargs):
    """Keras 1's dilated 2D convolution: ``Conv2D(..., dilation_rate=atrous_rate)``.

    Example:
        >>> layer = AtrousConvolution2D(8, (3, 3), atrous_rate=(2, 2))  # doctest: +SKIP
    """
    return _atrous("Conv2D", args, kwargs)


AtrousConv1D = AtrousConvolution1D
AtrousConv2D = AtrousConvolution2D
