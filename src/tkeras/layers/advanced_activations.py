"""Advanced activation layers (``keras.layers.advanced_activations``): Softmax, ReLU,
LeakyReLU, PReLU, ELU, ThresholdedReLU.

Scalar hyper-parameters that tf-keras casts to floatx (``alpha``, ``theta``, ``max_value``,
``negative_slope``, ``threshold``) are stored float32-rounded, so configs read
``0.30000001192092896`` for ``LeakyReLU(alpha=0.3)`` exactly as tf-keras 2 writes them.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Union

import torch
import torch.nn.functional as F

from .. import activations, constraints, initializers, regularizers
from ..backend import ops as K
from ..engine.base_layer import Layer
from ..engine.input_spec import InputSpec

__all__ = ["Softmax", "ReLU", "LeakyReLU", "PReLU", "ELU", "ThresholdedReLU"]


def _floatx_scalar(value: Any) -> float:
    """``value`` rounded to floatx, as a Python float (tf-keras's ``cast_to_floatx``)."""
    return float(K.cast_to_floatx(value))


def _require_number(layer_name: str, arg: str, value: Any, minimum: Optional[float] = None):
    """Raises Keras's ValueError for a missing (None) or too small scalar argument."""
    if value is None:
        raise ValueError(f"{arg} of a {layer_name} layer cannot be None, expecting a float. "
                         f"Received: {arg}={value}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{arg} of a {layer_name} layer cannot be a negative value. "
                         f"Expected {arg} >= {minimum}. Received: {arg}={value}")


class _ElementwiseActivation(Layer):
    """Shape-preserving, mask-preserving activation layer."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def compute_output_shape(self, input_shape):
        return input_shape


def _large_negative(dtype: torch.dtype) -> float:
    """The additive mask value of Softmax: -1e9, or half the float16 minimum."""
    if dtype == torch.float16:
        return torch.finfo(torch.float16).min / 2.0
    return -1e9


class Softmax(_ElementwiseActivation):
    """Softmax activation layer; masked positions get (almost) zero probability.

    Args:
        axis: integer, or list of integers, the axis (axes) normalised over.
        robust_masking: if True, masked positions are replaced by a large negative value
            (instead of having it added), which stays exact for large logits.

    Call arguments:
        inputs: the logits.
        mask: optional boolean mask broadcastable to ``inputs``: True keeps a position.

    Input shape: any. Output shape: same as the input.

    Example:
        >>> Softmax()(np.asarray([[1., 2., 1.]], "float32"))  # [[0.2119, 0.5761, 0.2119]]
        tensor([[0.2119, 0.5761, 0.2119]])
    """

    def __init__(self, axis: Union[int, Sequence[int]] = -1, robust_masking: bool = False,
                 **kwargs):
        super().__init__(**kwargs)
        self.axis = list(axis) if isinstance(axis, tuple) else axis
        self.robust_masking = robust_masking

    def _apply_mask(self, inputs: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        negative = _large_negative(inputs.dtype)
        if self.robust_masking:
            keep = mask if mask.dtype == torch.bool else mask > 0.5
            return torch.where(keep, inputs, torch.full_like(inputs, negative))
        return inputs + (1.0 - mask.to(inputs.dtype)) * negative

    def call(self, inputs, mask=None):
        if mask is not None:
            inputs = self._apply_mask(inputs, mask)
        axis = self.axis
        if isinstance(axis, list):
            if len(axis) > 1:
                return torch.exp(inputs - torch.logsumexp(inputs, dim=tuple(axis), keepdim=True))
            axis = axis[0]
        if inputs.dim() < 2:
            return torch.softmax(inputs, dim=axis)
        return K.softmax(inputs, axis=axis)  # keeps the logits for the cross-entropies

    def get_config(self) -> Dict[str, Any]:
        config = super().get_config()
        config["axis"] = self.axis
        if self.robust_masking:
            config["robust_masking"] = True
        return config


class ReLU(_ElementwiseActivation):
    """Rectified linear unit layer:
    ``max_value`` if ``x >= max_value``; ``x`` if ``threshold <= x < max_value``
    (precisely ``x > threshold``); ``negative_slope * (x - threshold)`` otherwise.

    Args:
        max_value: float >= 0, the saturation value (None: unbounded).
        negative_slope: float >= 0, slope below the threshold.
        threshold: float >= 0, the threshold value.

    Input shape: any. Output shape: same as the input.

    Example:
        >>> ReLU(max_value=6.0)(np.asarray([[-1., 3., 9.]], "float32"))  # [[0., 3., 6.]]
        tensor([[0., 3., 6.]])
    """

    def __init__(self, max_value: Optional[float] = None, negative_slope: float = 0.0,
                 threshold: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        if max_value is not None and max_value < 0.0:
            raise ValueError("max_value of a ReLU layer cannot be a negative value. "
                             f"Received: max_value={max_value}")
        _require_number("ReLU", "negative_slope", negative_slope, minimum=0.0)
        _require_number("ReLU", "threshold", threshold, minimum=0.0)
        self.max_value = _floatx_scalar(max_value) if max_value is not None else None
        self.negative_slope = _floatx_scalar(negative_slope)
        self.threshold = _floatx_scalar(threshold)

    def call(self, inputs):
        return K.relu(inputs, alpha=self.negative_slope, max_value=self.max_value,
                      threshold=self.threshold)

    def get_config(self) -> Dict[str, Any]:
        config = super().get_config()
        config.update({"max_value": self.max_value, "negative_slope": self.negative_slope,
                       "threshold": self.threshold})
        return config


class LeakyReLU(_ElementwiseActivation):
    """Leaky ReLU: ``x`` for ``x >= 0``, ``alpha * x`` otherwise.

    Args:
        alpha: float >= 0, the negative slope (Keras 2 default 0.3; the ``leaky_relu``
            activation function defaults to 0.2).

    Input shape: any. Output shape: same as the input.

    Example:
        >>> LeakyReLU()(np.asarray([[-1., 2.]], "float32"))  # [[-0.3, 2.]]
        tensor([[-0.3000,  2.0000]])
    """

    def __init__(self, alpha: float = 0.3, **kwargs):
        super().__init__(**kwargs)
        _require_number("LeakyReLU", "alpha", alpha)
        self.alpha = _floatx_scalar(alpha)

    def call(self, inputs):
        return F.leaky_relu(inputs, negative_slope=self.alpha)

    def get_config(self) -> Dict[str, Any]:
        config = super().get_config()
        config["alpha"] = self.alpha
        return config


class PReLU(Layer):
    """Parametric ReLU: ``x`` for ``x >= 0``, ``alpha * x`` otherwise, with a learned
    ``alpha`` per input position (shared along ``shared_axes``).

    Args:
        alpha_initializer: initializer of the weights (default zeros).
        alpha_regularizer: regularizer of the weights.
        alpha_constraint: constraint of the weights.
        shared_axes: axes (1-based, batch excluded) along which ``alpha`` is shared, e.g.
            ``[1, 2]`` for one alpha per channel of ``(batch, height, width, channels)``.

    Weights: ``alpha`` with the input shape without the batch axis, 1 on ``shared_axes``.

    Input shape: any (non-shared axes must be known). Output shape: same as the input.

    Example:
        >>> PReLU(shared_axes=[1, 2])(Input((8, 8, 3))).shape  # alpha: (1, 1, 3)
        (None, 8, 8, 3)
    """

    def __init__(self, alpha_initializer="zeros", alpha_regularizer=None, alpha_constraint=None,
                 shared_axes: Optional[Union[int, Sequence[int]]] = None, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.alpha_initializer = initializers.get(alpha_initializer)
        self.alpha_regularizer = regularizers.get(alpha_regularizer)
        self.alpha_constraint = constraints.get(alpha_constraint)
        if shared_axes is None:
            self.shared_axes: Optional[List[int]] = None
        elif isinstance(shared_axes, (list, tuple)):
            self.shared_axes = list(shared_axes)
        else:
            self.shared_axes = [shared_axes]

    def _param_shape(self, input_shape) -> List[int]:
        shape = list(input_shape[1:])
        for axis in self.shared_axes or ():
            if not 1 <= axis < len(input_shape):
                raise ValueError(f'Layer "{self.name}" (PReLU): every shared axis must be in '
                                 f"[1, {len(input_shape) - 1}] for inputs of shape "
                                 f"{tuple(input_shape)}. Received: shared_axes={self.shared_axes}")
            shape[axis - 1] = 1
        if any(d is None for d in shape):
            raise ValueError(f'Layer "{self.name}" (PReLU): the non-shared axes of the input must '
                             "be known to create `alpha`. Received input shape "
                             f"{tuple(input_shape)} "
                             f"with shared_axes={self.shared_axes}")
        return shape

    def build(self, input_shape) -> None:
        self.alpha = self.add_weight("alpha", shape=self._param_shape(input_shape),
                                     initializer=self.alpha_initializer,
                                     regularizer=self.alpha_regularizer,
                                     constraint=self.alpha_constraint)
        axes = {}
        if self.shared_axes:
            axes = {i: input_shape[i] for i in range(1, len(input_shape))
                    if i not in self.shared_axes}
        self.input_spec = InputSpec(ndim=len(input_shape), axes=axes)
        self.built = True

    def call(self, inputs):
        return F.relu(inputs) - self.alpha * F.relu(-inputs)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> Dict[str, Any]:
        config = super().get_config()
        config.update({
            "alpha_initializer": initializers.serialize(self.alpha_initializer),
            "alpha_regularizer": regularizers.serialize(self.alpha_regularizer),
            "alpha_constraint": constraints.serialize(self.alpha_constraint),
            "shared_axes": self.shared_axes,
        })
        return config


class ELU(_ElementwiseActivation):
    """Exponential linear unit: ``x`` for ``x > 0``, ``alpha * (exp(x) - 1)`` otherwise.

    Args:
        alpha: scale of the negative part.

    Input shape: any. Output shape: same as the input.

    Example:
        >>> ELU(alpha=1.0)(np.asarray([[-1., 2.]], "float32"))  # [[-0.6321, 2.]]
        tensor([[-0.6321,  2.0000]])
    """

    def __init__(self, alpha: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        _require_number("ELU", "alpha", alpha)
        self.alpha = _floatx_scalar(alpha)

    def call(self, inputs):
        return K.elu(inputs, alpha=self.alpha)

    def get_config(self) -> Dict[str, Any]:
        config = super().get_config()
        config["alpha"] = self.alpha
        return config


class ThresholdedReLU(_ElementwiseActivation):
    """Thresholded ReLU: ``x`` for ``x > theta``, 0 otherwise.

    Args:
        theta: float >= 0, the threshold.

    Input shape: any. Output shape: same as the input.

    Example:
        >>> ThresholdedReLU(theta=1.0)(np.asarray([[0.5, 1.0, 2.]], "float32"))  # [[0, 0, 2]]
        tensor([[0., 0., 2.]])
    """

    def __init__(self, theta: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        _require_number("ThresholdedReLU", "theta", theta, minimum=0.0)
        self.theta = _floatx_scalar(theta)

    def call(self, inputs):
        return inputs * (inputs > self.theta).to(inputs.dtype)

    def get_config(self) -> Dict[str, Any]:
        config = super().get_config()
        config["theta"] = self.theta
        return config


# Activation configs may name these layers (``activation="LeakyReLU"``, tf-keras's dict form).
for _layer in (Softmax, ReLU, LeakyReLU, PReLU, ELU, ThresholdedReLU):
    activations._ACTIVATIONS.register(_layer)
