"""Normalization layers (``keras.layers.normalization``): BatchNormalization,
LayerNormalization.

Numbers follow tf-keras 2: inference computes ``x * inv + (beta - mean * inv)`` with
``inv = gamma / sqrt(var + epsilon)`` (``tf.nn.batch_normalization``); BatchNormalization's
training mode normalises with the biased batch variance and updates the moving variance
with the biased variance, except on TensorFlow's fused path (4D inputs with axis 1 or 3, 5D
inputs with axis 1 or 4, float32/16 weights) where the moving variance gets the unbiased
variance and epsilon is raised to at least 1.001e-5, as TensorFlow's fused kernel does.

Under a mixed precision policy (16-bit compute dtype) both layers compute in float32 with
float32 weights and return the input's dtype, as tf-keras does.
"""
from __future__ import annotations

import numbers
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F

from .. import _warn, constraints, initializers, regularizers
from ..engine.base_layer import Layer
from ..engine.input_spec import InputSpec
from ..utils.conv_utils import from_torch_layout, to_torch_layout

__all__ = ["BatchNormalization", "LayerNormalization"]

Axis = Union[int, Sequence[int]]

_FUSED_MIN_EPSILON = 1.001e-5  # TensorFlow's fused batch norm never uses a smaller epsilon
_FUSED_DTYPES = ("float16", "bfloat16", "float32")


def _axis_argument(axis: Axis) -> Union[int, List[int]]:
    """The ``axis`` constructor argument as Keras keeps it: an int, or a list of ints."""
    if isinstance(axis, (list, tuple)) and all(isinstance(a, numbers.Integral) for a in axis):
        return [int(a) for a in axis]
    if isinstance(axis, numbers.Integral) and not isinstance(axis, bool):
        return int(axis)
    raise TypeError("Expected an int or a list/tuple of ints for the argument 'axis', but "
                    f"received: {axis!r}")


def _validate_axis(layer: Layer, axis: Union[int, List[int]], input_shape: tuple) -> List[int]:
    """``axis`` as a list of non-negative axes of an input of ``input_shape``.

    Raises:
        ValueError: an axis is out of range, repeated, or of unknown size.
    """
    rank = len(input_shape)
    axes = [a + rank if a < 0 else a for a in (axis if isinstance(axis, list) else [axis])]
    where = f'Layer "{layer.name}" ({type(layer).__name__})'
    if any(not 0 <= a < rank for a in axes):
        raise ValueError(f"{where}: invalid value for `axis` argument. Expected 0 <= axis < "
                         f"inputs.rank (with inputs.rank={rank}). Received: axis={axis}")
    if len(set(axes)) != len(axes):
        raise ValueError(f"{where}: duplicate axis: {axis}")
    undefined = [a for a in axes if input_shape[a] is None]
    if undefined:
        raise ValueError(f"{where}: input has undefined `axis` dimension. Received input with "
                         f"shape {tuple(input_shape)} and axis={tuple(axes)}")
    return axes


class _Normalization(Layer):
    """Shared part of the normalization layers: ``axis``, ``epsilon`` and the optional
    ``gamma`` (scale) / ``beta`` (offset) weights."""

    def __init__(self, axis: Axis, epsilon: float, center: bool, scale: bool,
                 beta_initializer, gamma_initializer, beta_regularizer, gamma_regularizer,
                 beta_constraint, gamma_constraint, **kwargs):
        super().__init__(**kwargs)
        self.axis = _axis_argument(axis)
        self.epsilon = epsilon
        self.center = center
        self.scale = scale
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.supports_masking = True

    def _add_scale_and_offset(self, param_shape: Sequence[int]) -> None:
        """Creates ``gamma`` then ``beta`` (None for the disabled ones), in Keras's order."""
        self.gamma = self.add_weight("gamma", shape=param_shape, initializer=self.gamma_initializer,
                                     regularizer=self.gamma_regularizer,
                                     constraint=self.gamma_constraint,
                                     experimental_autocast=False) if self.scale else None
        self.beta = self.add_weight("beta", shape=param_shape, initializer=self.beta_initializer,
                                    regularizer=self.beta_regularizer,
                                    constraint=self.beta_constraint,
                                    experimental_autocast=False) if self.center else None

    def _upcast(self, inputs: torch.Tensor) -> torch.Tensor:
        """16-bit inputs in float32 when the weights are float32 (mixed precision)."""
        if inputs.dtype in (torch.float16, torch.bfloat16) and self.dtype == "float32":
            return inputs.float()
        return inputs

    def _broadcast(self, value: torch.Tensor) -> torch.Tensor:
        """A parameter-shaped tensor viewed so that it broadcasts against the input."""
        return value.reshape(self._broadcast_shape) if self._broadcast_shape is not None else value

    def _normalize(self, inputs: torch.Tensor, mean: torch.Tensor, variance: torch.Tensor,
               epsilon: float) -> torch.Tensor:
        """``inputs * inv + (beta - mean * inv)`` with ``inv = gamma * rsqrt(var + eps)``;
        ``mean`` / ``variance`` broadcast against ``inputs`` already."""
        inv = torch.rsqrt(variance + epsilon)
        if self.gamma is not None:
            inv = inv * self._broadcast(self.gamma)
        shift = -mean * inv
        if self.beta is not None:
            shift = shift + self._broadcast(self.beta)
        return torch.addcmul(shift, inputs, inv)

    def compute_output_shape(self, input_shape):
        return input_shape

    def _affine_config(self) -> Dict[str, Any]:
        return {"center": self.center, "scale": self.scale,
                "beta_initializer": initializers.serialize(self.beta_initializer),
                "gamma_initializer": initializers.serialize(self.gamma_initializer)}

    def _penalty_config(self) -> Dict[str, Any]:
        return {"beta_regularizer": regularizers.serialize(self.beta_regularizer),
                "gamma_regularizer": regularizers.serialize(self.gamma_regularizer),
                "beta_constraint": constraints.serialize(self.beta_constraint),
                "gamma_constraint": constraints.serialize(self.gamma_constraint)}


class BatchNormalization(_Normalization):
    """Normalizes its inputs per feature: with the batch's statistics in training, with
    moving averages of them at inference.

    Training (``fit``, or a call with ``training=True``) returns
    ``gamma * (x - mean(batch)) / sqrt(var(batch) + epsilon) + beta`` and updates
    ``moving_mean = momentum * moving_mean + (1 - momentum) * mean(batch)`` (likewise
    ``moving_variance``); inference uses ``moving_mean`` / ``moving_variance``. As in
    tf-keras 2, ``trainable = False`` makes the layer run in inference mode.

    Args:
        axis: the feature axis (or list of axes), e.g. ``1`` after a channels_first Conv2D.
        momentum: momentum of the moving averages.
        epsilon: small float added to the variance.
        center: whether to add the learned offset ``beta``.
        scale: whether to multiply by the learned scale ``gamma``.
        beta_initializer / gamma_initializer: initializers of ``beta`` / ``gamma``.
        moving_mean_initializer / moving_variance_initializer: initializers of the
            moving statistics.
        beta_regularizer / gamma_regularizer: regularizers of ``beta`` / ``gamma``.
        beta_constraint / gamma_constraint: constraints of ``beta`` / ``gamma``.
        synchronized: accepted for tf-keras compatibility; statistics are those of the
            batch this process sees.
        fused: None picks TensorFlow's fused path where it applies (it updates the moving
            variance with the unbiased batch variance); False never uses it; True requires it.

    Call arguments:
        training: normalise with the batch statistics and update the moving ones.
        mask: optional mask (e.g. ``(batch, timesteps)``); in training, the statistics are
            taken over the unmasked entries only (not on the fused path, as in Keras).

    Weights: ``[gamma, beta, moving_mean, moving_variance]`` (``gamma`` absent when
    ``scale=False``, ``beta`` when ``center=False``); the moving statistics are
    non-trainable.

    torch view: ``gamma`` / ``beta`` are parameters; ``moving_mean`` / ``moving_variance``
    are module *buffers* (``KerasBuffer``), as ``torch.nn.BatchNorm``'s running statistics
    are (Keras makes them ``synchronization=ON_READ`` variables): ``.to()`` / ``.double()``
    convert them, ``state_dict`` holds them, ``model.parameters()`` (and so a torch
    optimizer) leaves them out, and ``DistributedDataParallel`` broadcasts them from rank 0
    at each forward (``broadcast_buffers=True``), exactly as it does torch's BatchNorm
    buffers. Each process then updates them from its own batch (``synchronized=True`` does
    not all-reduce the batch statistics). They remain Keras weights: in ``weights``,
    ``get_weights`` / ``set_weights`` and saved files, under their Keras names.

    Input shape: any. Output shape: same as the input.

    Example:
        >>> model = Sequential([Input((28, 28, 3)), Conv2D(8, 3), BatchNormalization()])
    """

    def __init__(self, axis: Axis = -1, momentum: float = 0.99, epsilon: float = 1e-3,
                 center: bool = True, scale: bool = True, beta_initializer="zeros",
                 gamma_initializer="ones", moving_mean_initializer="zeros",
                 moving_variance_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, beta_constraint=None, gamma_constraint=None,
                 synchronized: bool = False, fused: Optional[bool] = None, **kwargs):
        super().__init__(axis, epsilon, center, scale, beta_initializer, gamma_initializer,
                         beta_regularizer, gamma_regularizer, beta_constraint, gamma_constraint,
                         **kwargs)
        self.momentum = momentum
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.synchronized = synchronized
        self.fused = fused
        self._fused = False
        self._batch_norm_axis: Optional[int] = None

    def _fused_applies(self, rank: int) -> bool:
        """Whether TensorFlow would run its fused kernel for this axis, rank and dtype."""
        fusable = len(self.axis) == 1 and self.dtype in _FUSED_DTYPES and (
            (rank == 4 and self.axis[0] in (1, 3)) or (rank == 5 and self.axis[0] in (1, 4)))
        if self.fused and not fusable:
            raise ValueError(f'Layer "{self.name}" (BatchNormalization): `fused=True` needs a 4D '
                             "input with axis 1 or 3, or a 5D input with axis 1 or 4, and a "
                             f"float32/16 dtype. Received: axis={self.axis}, input rank={rank}, "
                             f"dtype={self.dtype}")
        return fusable and self.fused is not False

    def build(self, input_shape) -> None:
        input_shape = tuple(input_shape)
        rank = len(input_shape)
        self.axis = _validate_axis(self, self.axis, input_shape)
        self._fused = self._fused_applies(rank)
        # The axis F.batch_norm normalises along (channels: 1, or the last of a 2D, 4D or 5D
        # input, whose channels-first view torch's kernels take without a copy), or None.
        single = self.axis[0] if len(self.axis) == 1 else None
        self._batch_norm_axis = single if single == 1 or (
            single == rank - 1 and rank in (2, 4, 5)) else None
        axis_to_dim = {a: input_shape[a] for a in self.axis}
        self.input_spec = InputSpec(ndim=rank, axes=axis_to_dim)
        if len(self.axis) == 1:
            param_shape: Tuple[int, ...] = (axis_to_dim[self.axis[0]],)
            last = self.axis[0] == rank - 1
            self._broadcast_shape = None if last else \
                tuple(axis_to_dim.get(i, 1) for i in range(rank))
        else:
            param_shape = tuple(axis_to_dim.get(i, 1) for i in range(rank))
            self._broadcast_shape = None
        self._reduction_axes = tuple(i for i in range(rank) if i not in axis_to_dim)
        self._add_scale_and_offset(param_shape)
        self.moving_mean = self.add_weight("moving_mean", shape=param_shape,
                                           initializer=self.moving_mean_initializer,
                                           trainable=False, synchronization="ON_READ",
                                           experimental_autocast=False)
        self.moving_variance = self.add_weight("moving_variance", shape=param_shape,
                                               initializer=self.moving_variance_initializer,
                                               trainable=False, synchronization="ON_READ",
                                               experimental_autocast=False)
        self.built = True

    @property
    def _epsilon(self) -> float:
        return max(self.epsilon, _FUSED_MIN_EPSILON) if self._fused else self.epsilon

    def call(self, inputs, training=None, mask=None):
        upcast = self._upcast(inputs)
        if upcast is not inputs:
            return self.call(upcast, training=training, mask=mask).to(inputs.dtype)
        if not (training and self.trainable):
            if self._batch_norm_axis is not None:  # torch's kernel: the same two terms
                return self._torch_batch_norm(inputs, training=False)
            return self._normalize(inputs, self._broadcast(self.moving_mean),
                               self._broadcast(self.moving_variance), self._epsilon)
        if self._fused:
            if mask is not None:
                _warn_mask_ignored()
            return self._fused_training(inputs)
        return self._training(inputs, mask, unbiased_update=False)

    def _batch_moments(self, inputs: torch.Tensor, mask) -> Tuple[torch.Tensor, torch.Tensor]:
        """Biased mean and variance over the reduction axes, in the parameters' shape."""
        if mask is not None:
            mean, variance = _masked_moments(inputs, mask, self._reduction_axes)
            return mean.reshape(self.moving_mean.shape), variance.reshape(self.moving_mean.shape)
        variance, mean = torch.var_mean(inputs, dim=self._reduction_axes, correction=0,
                                        keepdim=len(self.axis) > 1)
        return mean, variance

    def _training(self, inputs: torch.Tensor, mask, unbiased_update: bool) -> torch.Tensor:
        mean, variance = self._batch_moments(inputs, mask)
        update = variance
        if unbiased_update:
            count = inputs.numel() // max(variance.numel(), 1)
            update = variance * (count / max(count - 1, 1))
        self._update_moving_averages(mean, update)
        return self._normalize(inputs, self._broadcast(mean), self._broadcast(variance), self._epsilon)

    def _fused_training(self, inputs: torch.Tensor) -> torch.Tensor:
        """torch's fused batch norm on a channels-first view; it updates the moving
        statistics in place with the unbiased variance, as TensorFlow's fused kernel."""
        if inputs.numel() // max(inputs.shape[self.axis[0]], 1) <= 1:
            return self._training(inputs, None, unbiased_update=True)  # torch refuses n == 1
        return self._torch_batch_norm(inputs, training=True)

    def _torch_batch_norm(self, inputs: torch.Tensor, training: bool) -> torch.Tensor:
        """``F.batch_norm`` on the channels-first view of the input (for channels_last
        data a view in torch's channels_last memory format, which its kernels run as is).

        Inference computes ``x * inv + (beta - mean * inv)`` with
        ``inv = gamma / sqrt(var + epsilon)``, Keras's formula; training updates the moving
        statistics in place with the unbiased variance (the fused path)."""
        last, spatial = self._batch_norm_axis != 1, inputs.dim() - 2
        x = to_torch_layout(inputs, spatial, last)
        out = F.batch_norm(x, self.moving_mean, self.moving_variance, self.gamma, self.beta,
                           training=training, momentum=1.0 - self.momentum, eps=self._epsilon)
        return from_torch_layout(out, spatial, last)

    def _update_moving_averages(self, mean: torch.Tensor, variance: torch.Tensor) -> None:
        """``moving -= (moving - batch_stat) * (1 - momentum)``, in place (no host sync)."""
        decay = 1.0 - self.momentum
        with torch.no_grad():
            self.moving_mean.sub_((self.moving_mean - mean) * decay)
            self.moving_variance.sub_((self.moving_variance - variance) * decay)

    def get_config(self) -> Dict[str, Any]:
        config = super().get_config()
        config.update({"axis": self.axis, "momentum": self.momentum, "epsilon": self.epsilon})
        config.update(self._affine_config())
        config.update({
            "moving_mean_initializer": initializers.serialize(self.moving_mean_initializer),
            "moving_variance_initializer": initializers.serialize(self.moving_variance_initializer),
        })
        config.update(self._penalty_config())
        return config


def _masked_moments(inputs: torch.Tensor, mask: torch.Tensor,
                    axes: Tuple[int, ...]) -> Tuple[torch.Tensor, torch.Tensor]:
    """Mean and biased variance over ``axes`` of the entries where ``mask`` is set (the
    mask gets a trailing axis, as ``tf.nn.weighted_moments`` in Keras); keepdims."""
    weights = mask.to(inputs.dtype).unsqueeze(-1)
    divisor = torch.reciprocal(torch.broadcast_to(weights, inputs.shape).sum(axes, keepdim=True))
    mean = (weights * inputs).sum(axes, keepdim=True) * divisor
    variance = (weights * torch.square(inputs - mean)).sum(axes, keepdim=True) * divisor
    return mean, variance


def _warn_mask_ignored() -> None:
    import warnings
    warnings.warn("Masking is not supported with the fused batch normalization (4D/5D inputs "
                  "with axis 1 or the last axis): the mask is ignored for the normalization, "
                  "as in Keras. Pass `fused=False` to use it.", _warn.TkerasWarning, stacklevel=3)


class LayerNormalization(_Normalization):
    """Normalizes each sample over ``axis`` (biased variance), then applies ``gamma`` and
    ``beta`` (with the shape of the normalised axes); the same in training and inference.

    Args:
        axis: the axis or axes normalised over (default: the last).
        epsilon: small float added to the variance.
        center: whether to add the learned offset ``beta``.
        scale: whether to multiply by the learned scale ``gamma``.
        beta_initializer / gamma_initializer: initializers of ``beta`` / ``gamma``.
        beta_regularizer / gamma_regularizer: regularizers of ``beta`` / ``gamma``.
        beta_constraint / gamma_constraint: constraints of ``beta`` / ``gamma``.

    Weights: ``[gamma, beta]`` of shape ``[input_shape[a] for a in axis]`` (absent when
    ``scale`` / ``center`` is False).

    Input shape: any. Output shape: same as the input.

    Example:
        >>> LayerNormalization(axis=[1, 2])(Input((5, 8))).shape  # gamma: (5, 8)
        (None, 5, 8)
    """

    def __init__(self, axis: Axis = -1, epsilon: float = 1e-3, center: bool = True,
                 scale: bool = True, beta_initializer="zeros", gamma_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, **kwargs):
        super().__init__(axis, epsilon, center, scale, beta_initializer, gamma_initializer,
                         beta_regularizer, gamma_regularizer, beta_constraint, gamma_constraint,
                         **kwargs)

    def build(self, input_shape) -> None:
        input_shape = tuple(input_shape)
        rank = len(input_shape)
        self.axis = _validate_axis(self, self.axis, input_shape)
        param_shape = tuple(input_shape[a] for a in self.axis)
        trailing = self.axis == list(range(rank - len(self.axis), rank))
        # torch's layer_norm covers the trailing axes in order; other layouts (like Keras)
        # reshape the weights to the broadcast shape.
        self._normalized_shape = param_shape if trailing else None
        self._broadcast_shape = None if trailing else \
            tuple(input_shape[i] if i in self.axis else 1 for i in range(rank))
        self._add_scale_and_offset(param_shape)
        self.built = True

    def call(self, inputs):
        upcast = self._upcast(inputs)
        if upcast is not inputs:
            return self.call(upcast).to(inputs.dtype)
        if self._normalized_shape is not None:
            return F.layer_norm(inputs, self._normalized_shape, self.gamma, self.beta,
                                self.epsilon)
        variance, mean = torch.var_mean(inputs, dim=tuple(self.axis), correction=0, keepdim=True)
        return self._normalize(inputs, mean, variance, self.epsilon)

    def get_config(self) -> Dict[str, Any]:
        config = super().get_config()
        config.update({"axis": self.axis, "epsilon": self.epsilon})
        config.update(self._affine_config())
        config.update(self._penalty_config())
        return config
