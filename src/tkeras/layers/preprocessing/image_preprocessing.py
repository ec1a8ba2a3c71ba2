"""Image preprocessing layers (``keras.layers.Rescaling``)."""
from __future__ import annotations

from typing import Any, Dict

import torch

from ...engine.base_layer import Layer

__all__ = ["Rescaling"]


class Rescaling(Layer):
    """Multiplies the inputs by ``scale`` and adds ``offset``: ``x * scale + offset``.

    Integer inputs are cast to the layer's dtype first.

    Args:
        scale: a float, or a list (broadcast over the last axis), the multiplier.
        offset: a float, or a list, added after scaling.

    Input shape: any. Output shape: same as the input.

    Example:
        >>> Rescaling(1.0 / 127.5, offset=-1.0)(torch.tensor([[0.0, 255.0]]))
        tensor([[-1.,  1.]])
    """

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale
        self.offset = offset

    def call(self, inputs):
        dtype = self._torch_dtype
        if inputs.dtype != dtype:
            inputs = inputs.to(dtype)
        scale = self.scale if isinstance(self.scale, (int, float)) else \
            torch.as_tensor(self.scale, dtype=dtype, device=inputs.device)
        offset = self.offset if isinstance(self.offset, (int, float)) else \
            torch.as_tensor(self.offset, dtype=dtype, device=inputs.device)
        return inputs * scale + offset

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self) -> Dict[str, Any]:
        config = super().get_config()
        config.update({"scale": self.scale, "offset": self.offset})
        return config
