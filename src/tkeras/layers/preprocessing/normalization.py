"""The Normalization preprocessing layer (``keras.layers.Normalization``)."""
from __future__ import annotations

from typing import Any, Dict, Optional

import numpy as np
import torch

from ...backend import config
from ...engine.base_layer import Layer

__all__ = ["Normalization"]


class Normalization(Layer):
    """Shifts and scales inputs to mean 0 and variance 1 along ``axis``:
    ``(x - mean) / max(sqrt(variance), epsilon())`` (``invert=True`` undoes it).

    Without ``mean`` / ``variance`` the layer holds the non-trainable weights ``mean``,
    ``variance`` and ``count`` (int64), set by ``adapt(data)`` or by loading weights.

    Args:
        axis: the axis (or axes) that keep separate statistics, default -1; None for one
            mean / variance over everything.
        mean: optional fixed mean (broadcast to the kept axes); needs ``variance``.
        variance: optional fixed variance; needs ``mean``.
        invert: apply the inverse transformation (``mean + x * std``).

    Input shape: any. Output shape: same as the input.

    Example:
        >>> layer = Normalization(axis=-1)
        >>> layer.adapt(np.array([[0.0, 10.0], [2.0, 30.0]]))
        >>> layer(torch.tensor([[1.0, 20.0]]))
        tensor([[0., 0.]])
    """

    def __init__(self, axis=-1, mean=None, variance=None, invert: bool = False, **kwargs):
        super().__init__(**kwargs)
        if axis is None:
            axis = ()
        elif isinstance(axis, int):
            axis = (axis,)
        else:
            axis = tuple(axis)
        self.axis = axis
        if (mean is not None) != (variance is not None):
            raise ValueError("When setting values directly, both `mean` and `variance` must be "
                             f"set. Got mean: {mean} and variance: {variance}")
        self.input_mean = mean
        self.input_variance = variance
        self.invert = bool(invert)

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        ndim = len(input_shape)
        if any(a < -ndim or a >= ndim for a in self.axis):
            raise ValueError("All `axis` values must be in the range [-ndim, ndim). "
                             f"Found ndim: `{ndim}`, axis: {self.axis}")
        keep = sorted(a if a >= 0 else a + ndim for a in self.axis)
        for d in keep:
            if input_shape[d] is None:
                raise ValueError("All `axis` values to be kept must have known shape. Got axis: "
                                 f"{self.axis}, input shape: {input_shape}, with unknown axis "
                                 f"at index: {d}")
        self._keep_axis = keep
        self._reduce_axis = [d for d in range(ndim) if d not in keep]
        self._broadcast_shape = [input_shape[d] if d in keep else 1 for d in range(ndim)]
        stats_shape = tuple(input_shape[d] for d in keep)
        if self.input_mean is None:
            self.adapt_mean = self.add_weight(name="mean", shape=stats_shape,
                                              initializer="zeros", trainable=False)
            self.adapt_variance = self.add_weight(name="variance", shape=stats_shape,
                                                  initializer="ones", trainable=False)
            self.count = self.add_weight(name="count", shape=(), dtype="int64",
                                         initializer="zeros", trainable=False)
        else:
            dtype = self._torch_dtype
            ones = torch.ones(stats_shape, dtype=dtype)
            self.register_buffer("_fixed_mean", (torch.as_tensor(
                np.asarray(self.input_mean), dtype=dtype) * ones).reshape(self._broadcast_shape),
                persistent=False)
            self.register_buffer("_fixed_variance", (torch.as_tensor(
                np.asarray(self.input_variance), dtype=dtype) * ones).reshape(
                    self._broadcast_shape), persistent=False)
        super().build(input_shape)

    def _stats(self):
        if self.input_mean is not None:
            return self._fixed_mean, self._fixed_variance
        return (self.adapt_mean.reshape(self._broadcast_shape),
                self.adapt_variance.reshape(self._broadcast_shape))

    def call(self, inputs):
        if inputs.dtype != self._torch_dtype:
            inputs = inputs.to(self._torch_dtype)
        mean, variance = self._stats()
        std = torch.clamp(torch.sqrt(variance), min=config.epsilon())
        if self.invert:
            return mean + inputs * std
        return (inputs - mean) / std

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def adapt(self, data, batch_size: Optional[int] = None, steps: Optional[int] = None) -> None:
        """Computes the mean and variance of ``data`` along the kept axes.

        Args:
            data: a numpy array or tensor, or an iterable of batches.
            batch_size, steps: accepted for Keras compatibility; the statistics are the same.
        """
        if self.input_mean is not None:
            raise RuntimeError(f"Cannot adapt layer {self.name!r}: its `mean` and `variance` "
                               "were given to the constructor.")
        batches = [data] if isinstance(data, (np.ndarray, torch.Tensor)) else list(data)
        first = torch.as_tensor(np.asarray(batches[0]) if not isinstance(batches[0], torch.Tensor)
                                else batches[0])
        if not self.built:
            self._maybe_build((None,) + tuple(first.shape[1:]))
        with torch.no_grad():
            self.adapt_mean.zero_()
            self.adapt_variance.fill_(1.0)
            self.count.zero_()
            for batch in batches:
                self._update_state(torch.as_tensor(np.asarray(batch) if not isinstance(
                    batch, torch.Tensor) else batch))

    def _update_state(self, data: torch.Tensor) -> None:
        data = data.to(torch.float64)
        if data.dim() == 1 and len(self._broadcast_shape) == 2:
            data = data[:, None]
        reduce = self._reduce_axis
        batch_mean = data.mean(dim=reduce) if reduce else data
        batch_var = data.var(dim=reduce, unbiased=False) if reduce else torch.zeros_like(data)
        batch_count = int(np.prod([data.shape[d] for d in reduce])) if reduce else 1
        existing_mean = self.adapt_mean.to(torch.float64)
        existing_var = self.adapt_variance.to(torch.float64)
        total = int(self.count) + batch_count
        w_batch = batch_count / total
        w_old = 1.0 - w_batch
        total_mean = existing_mean * w_old + batch_mean * w_batch
        total_var = (existing_var + (existing_mean - total_mean) ** 2) * w_old + \
            (batch_var + (batch_mean - total_mean) ** 2) * w_batch
        self.adapt_mean.copy_(total_mean.to(self.adapt_mean.dtype))
        self.adapt_variance.copy_(total_var.to(self.adapt_variance.dtype))
        self.count.fill_(total)

    def get_config(self) -> Dict[str, Any]:
        config_ = super().get_config()
        config_.update({
            "axis": self.axis, "invert": self.invert,
            "mean": np.asarray(self.input_mean).tolist() if self.input_mean is not None else None,
            "variance": np.asarray(self.input_variance).tolist()
            if self.input_variance is not None else None,
        })
        return config_
