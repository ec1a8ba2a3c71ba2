"""Noise layers (``keras.layers.noise``): GaussianNoise, GaussianDropout, AlphaDropout.

All three are regularisers: active only in training, the identity at inference. Noise is
drawn on the input's device; with a ``seed`` each layer owns a generator, so a seeded
layer gives a reproducible sequence of different noise tensors.
"""
from __future__ import annotations

import math
from typing import Any, Dict, Optional, Sequence, Tuple

import torch

from ..backend.random_ops import SeededRNG
from ..engine.base_layer import Layer

__all__ = ["GaussianNoise", "GaussianDropout", "AlphaDropout"]

# SELU's constants (alpha_p = -alpha * scale is SELU's negative saturation value).
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _check_rate(layer: str, rate: Any) -> None:
    if isinstance(rate, (int, float)) and not 0 <= rate <= 1:
        raise ValueError(f"Invalid value received for argument `rate` of {layer}. Expected a float "
                         f"value between 0 and 1. Received: rate={rate}")


class _NoiseLayer(Layer):
    """Shape- and mask-preserving layer drawing noise from a per-layer seeded generator."""

    def __init__(self, seed: Optional[int] = None, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.seed = seed
        self._rng = SeededRNG(seed)

    def _normal(self, shape: Tuple[int, ...], like: torch.Tensor) -> torch.Tensor:
        return torch.randn(shape, generator=self._rng.generator(like.device), dtype=like.dtype,
                           device=like.device)

    def _uniform(self, shape: Tuple[int, ...], like: torch.Tensor) -> torch.Tensor:
        return torch.rand(shape, generator=self._rng.generator(like.device), dtype=like.dtype,
                          device=like.device)

    def compute_output_shape(self, input_shape):
        return input_shape


class GaussianNoise(_NoiseLayer):
    """Adds zero-centred Gaussian noise of standard deviation ``stddev`` in training (a
    regulariser, e.g. against overfitting, or a form of data augmentation).

    Args:
        stddev: standard deviation of the noise.
        seed: optional integer seed.

    Call arguments:
        training: whether to add noise (the identity otherwise).

    Input shape: any. Output shape: same as the input.

    Example:
        >>> model = Sequential([Input((16,)), GaussianNoise(0.1), Dense(4)])
    """

    def __init__(self, stddev: float, seed: Optional[int] = None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.stddev = stddev

    def call(self, inputs, training=None):
        if not training:
            return inputs
        return inputs + self._normal(tuple(inputs.shape), inputs) * self.stddev

    def get_config(self) -> Dict[str, Any]:
        config = super().get_config()
        config.update({"stddev": self.stddev, "seed": self.seed})
        return config


class GaussianDropout(_NoiseLayer):
    """Multiplies the input by Gaussian noise of mean 1 and standard deviation
    ``sqrt(rate / (1 - rate))`` in training; the expectation is unchanged.

    Args:
        rate: the drop probability of the equivalent Dropout, in [0, 1]; noise is added
            only for ``0 < rate < 1``.
        seed: optional integer seed.

    Call arguments:
        training: whether to apply the noise (the identity otherwise).

    Input shape: any. Output shape: same as the input.

    Example:
        >>> GaussianDropout(0.3)(x, training=True).shape  # x * N(1, sqrt(0.3 / 0.7))
        torch.Size([8, 4])
    """

    def __init__(self, rate: float, seed: Optional[int] = None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        _check_rate("GaussianDropout", rate)
        self.rate = rate

    def call(self, inputs, training=None):
        if not training or not 0 < self.rate < 1:
            return inputs
        stddev = math.sqrt(self.rate / (1.0 - self.rate))
        return inputs * (self._normal(tuple(inputs.shape), inputs) * stddev + 1.0)

    def get_config(self) -> Dict[str, Any]:
        config = super().get_config()
        config.update({"rate": self.rate, "seed": self.seed})
        return config


class AlphaDropout(_NoiseLayer):
    """Dropout that keeps the mean and variance of its input (for SELU networks): dropped
    units are set to SELU's negative saturation value ``-alpha * scale`` and the result
    goes through the affine correction ``a * x + b`` with
    ``a = ((1 - rate) * (1 + rate * alpha_p**2)) ** -0.5`` and ``b = -a * alpha_p * rate``.

    Args:
        rate: drop probability, in [0, 1]; active only for ``0 < rate < 1``.
        noise_shape: shape of the keep/drop mask, broadcast to the input (None entries
            take the input's size); the input's shape when None.
        seed: optional integer seed.

    Call arguments:
        training: whether to apply dropout (the identity otherwise).

    Input shape: any. Output shape: same as the input.

    Example:
        >>> model = Sequential([Input((16,)), Dense(8, activation="selu"), AlphaDropout(0.1)])
    """

    def __init__(self, rate: float, noise_shape: Optional[Sequence[Optional[int]]] = None,
                 seed: Optional[int] = None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        _check_rate("AlphaDropout", rate)
        self.rate = rate
        self.noise_shape = noise_shape

    def _mask_shape(self, inputs: torch.Tensor) -> Tuple[int, ...]:
        if not self.noise_shape:
            return tuple(inputs.shape)
        return tuple(inputs.shape[i] if d is None else int(d)
                     for i, d in enumerate(self.noise_shape))

    def call(self, inputs, training=None):
        if not training or not 0 < self.rate < 1:
            return inputs
        rate = self.rate
        alpha_p = -_SELU_ALPHA * _SELU_SCALE
        kept = (self._uniform(self._mask_shape(inputs), inputs) >= rate).to(inputs.dtype)
        a = ((1 - rate) * (1 + rate * alpha_p ** 2)) ** -0.5
        b = -a * alpha_p * rate
        dropped = inputs * kept + alpha_p * (1.0 - kept)
        return a * dropped + b

    def get_config(self) -> Dict[str, Any]:
        # tf-keras writes no noise_shape into the config.
        config = super().get_config()
        config.update({"rate": self.rate, "seed": self.seed})
        return config
