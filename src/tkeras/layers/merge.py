"""Merge layers: Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate, Dot and
their functional forms."""
from __future__ import annotations

from typing import List, Sequence

import torch

from ..engine.base_layer import Layer


def _broadcast_shape(a: tuple, b: tuple, layer_name: str) -> tuple:
    """Keras's elementwise-merge output shape: equal sizes, or 1 / None broadcast."""
    if len(a) < len(b):
        a, b = b, a
    b = (1,) * (len(a) - len(b)) + tuple(b) if len(b) < len(a) else tuple(b)
    out = []
    for i, j in zip(a, b):
        if i is None or j is None:
            out.append(None if (i in (None, 1) or j in (None, 1)) else i if j is None else j)
        elif i == 1:
            out.append(j)
        elif j == 1 or i == j:
            out.append(i)
        else:
            raise ValueError(f"Inputs have incompatible shapes. Received shapes {tuple(a)} and "
                             f"{tuple(b)} (layer {layer_name}).")
    return tuple(out)


class _Merge(Layer):
    """Base of the elementwise merge layers: checks inputs, merges masks."""

    _min_inputs = 2

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def _check_inputs(self, input_shape) -> None:
        if not isinstance(input_shape, (list, tuple)) or not input_shape or \
                not isinstance(input_shape[0], (list, tuple)):
            raise ValueError(f"A merge layer should be called on a list of inputs. Received: "
                             f"input_shape={input_shape} (not a list of shapes) (layer {self.name})")
        if len(input_shape) < self._min_inputs:
            raise ValueError(f"A merge layer should be called on a list of at least "
                             f"{self._min_inputs} inputs. Got {len(input_shape)} inputs. Full "
                             f"input_shape received: {input_shape} (layer {self.name})")

    def build(self, input_shape) -> None:
        self._check_inputs(input_shape)
        self.compute_output_shape(input_shape)
        self.built = True

    def compute_output_shape(self, input_shape):
        self._check_inputs(input_shape)
        batch = [s[0] for s in input_shape if s and s[0] is not None]
        out = tuple(input_shape[0][1:])
        for shape in input_shape[1:]:
            out = _broadcast_shape(out, tuple(shape[1:]), self.name)
        return (batch[0] if len(set(batch)) == 1 else None,) + out

    def _merge(self, inputs: List[torch.Tensor]) -> torch.Tensor:
        raise NotImplementedError

    def call(self, inputs):
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(f"A merge layer should be called on a list of inputs. Received: "
                             f"inputs={inputs} (not a list of tensors) (layer {self.name})")
        inputs = list(inputs)
        rank = max(x.dim() for x in inputs)
        if any(x.dim() != rank for x in inputs):  # as Keras 2: new axes after the batch axis
            inputs = [x.reshape(x.shape[:1] + (1,) * (rank - x.dim()) + x.shape[1:])
                      for x in inputs]
        return self._merge(inputs)

    def compute_mask(self, inputs, mask=None):
        if mask is None:
            return None
        if not isinstance(mask, (list, tuple)) or len(mask) != len(inputs):
            raise ValueError(f"`mask` should be a list of the same length as the inputs "
                             f"(layer {self.name}).")
        masks = [m for m in mask if m is not None]
        if not masks:
            return None
        out = masks[0]
        for m in masks[1:]:
            out = out & m
        return out


class Add(_Merge):
    """Adds a list of inputs (same shape, or broadcastable): ``added = Add()([x1, x2])``."""

    def _merge(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = out + x
        return out


class Subtract(_Merge):
    """Subtracts two inputs: ``Subtract()([x1, x2]) == x1 - x2``."""

    def _check_inputs(self, input_shape) -> None:
        super()._check_inputs(input_shape)
        if len(input_shape) != 2:
            raise ValueError("A `Subtract` layer should be called on exactly 2 inputs. "
                             f"Received: input_shape={input_shape}")

    def _merge(self, inputs):
        if len(inputs) != 2:
            raise ValueError(f"A `Subtract` layer should be called on exactly 2 inputs. "
                             f"Received {len(inputs)} inputs.")
        return inputs[0] - inputs[1]


class Multiply(_Merge):
    """Multiplies a list of inputs elementwise."""

    def _merge(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = out * x
        return out


class Average(_Merge):
    """Averages a list of inputs elementwise."""

    def _merge(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = out + x
        return out / len(inputs)


class Maximum(_Merge):
    """Elementwise maximum of a list of inputs."""

    def _merge(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = torch.maximum(out, x)
        return out


class Minimum(_Merge):
    """Elementwise minimum of a list of inputs."""

    def _merge(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = torch.minimum(out, x)
        return out


class Concatenate(_Merge):
    """Concatenates a list of inputs along ``axis`` (all other sizes must agree).

    Args:
        axis: the concatenation axis (default -1).
    """

    _min_inputs = 1

    def __init__(self, axis: int = -1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis

    def compute_output_shape(self, input_shape):
        self._check_inputs(input_shape)
        shapes = [tuple(s) for s in input_shape]
        rank = len(shapes[0])
        if any(len(s) != rank for s in shapes):
            raise ValueError("A `Concatenate` layer requires inputs with matching shapes except "
                             f"for the concatenation axis. Received: input_shape={shapes}")
        axis = self.axis % rank
        out = list(shapes[0])
        for s in shapes[1:]:
            for i, (a, b) in enumerate(zip(out, s)):
                if i == axis:
                    out[i] = None if a is None or b is None else a + b
                elif a is not None and b is not None and a != b:
                    raise ValueError(
                        "A `Concatenate` layer requires inputs with matching shapes except for the "
                        f"concatenation axis. Received: input_shape={shapes}")
                elif a is None:
                    out[i] = b
        return tuple(out)

    def _merge(self, inputs):
        return torch.cat(inputs, dim=self.axis)

    def compute_mask(self, inputs, mask=None):
        if mask is None or all(m is None for m in mask):
            return None
        filled = []
        for x, m in zip(inputs, mask):
            if m is None:
                m = torch.ones(x.shape[:-1] if x.dim() > 1 else x.shape, dtype=torch.bool,
                               device=x.device)
            elif m.dim() < x.dim():
                m = m.unsqueeze(-1)
            filled.append(m if m.dim() == x.dim() else m.unsqueeze(-1))
        concat = torch.cat([f.expand(*x.shape[:-1], f.shape[-1]) for f, x in zip(filled, inputs)],
                           dim=self.axis)
        return torch.all(concat, dim=-1)

    def get_config(self):
        config = super().get_config()
        config["axis"] = self.axis
        return config


def _l2_normalize(x: torch.Tensor, dim: int) -> torch.Tensor:
    return x / torch.sqrt(torch.clamp(torch.sum(x * x, dim=dim, keepdim=True), min=1e-12))


class Dot(_Merge):
    """Dot product of two tensors along ``axes`` (per sample).

    Args:
        axes: an int or a pair of ints: the axis of each input to contract.
        normalize: l2-normalise both inputs along those axes first (cosine proximity).

    Example:
        >>> Dot(axes=1)([x1, x2]) maps (batch, n) and (batch, n) to (batch, 1)
    """

    def __init__(self, axes, normalize: bool = False, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(axes, int) and not (isinstance(axes, (list, tuple)) and len(axes) == 2):
            raise ValueError("Invalid format for argument `axes`: expected an int or a list/tuple "
                             f"of two ints. Received: axes={axes}")
        self.axes = axes if isinstance(axes, int) else list(axes)
        self.normalize = normalize
        self.supports_masking = True

    def _axes_for(self, rank1: int, rank2: int):
        axes = [self.axes, self.axes] if isinstance(self.axes, int) else list(self.axes)
        return [a % r if a < 0 else a for a, r in zip(axes, (rank1, rank2))]

    def _check_inputs(self, input_shape) -> None:
        super()._check_inputs(input_shape)
        if len(input_shape) != 2:
            raise ValueError(f"A `Dot` layer should be called on a list of 2 inputs. Received: "
                             f"input_shape={input_shape}")

    def compute_output_shape(self, input_shape):
        self._check_inputs(input_shape)
        s1, s2 = list(input_shape[0]), list(input_shape[1])
        a1, a2 = self._axes_for(len(s1), len(s2))
        if s1[a1] is not None and s2[a2] is not None and s1[a1] != s2[a2]:
            raise ValueError(f"Incompatible input shapes: axis values {s1[a1]} (at axis {a1}) != "
                             f"{s2[a2]} (at axis {a2}). Full input shapes: {tuple(s1)}, {tuple(s2)}")
        s1.pop(a1)
        s2.pop(a2)
        s2.pop(0)
        out = s1 + s2
        return tuple(out) if len(out) > 1 else tuple(out) + (1,)

    def _merge(self, inputs):
        if len(inputs) != 2:
            raise ValueError(f"A `Dot` layer should be called on exactly 2 inputs. Received "
                             f"{len(inputs)} inputs.")
        x1, x2 = inputs
        a1, a2 = self._axes_for(x1.dim(), x2.dim())
        if self.normalize:
            x1, x2 = _l2_normalize(x1, a1), _l2_normalize(x2, a2)
        return batch_dot(x1, x2, a1, a2)

    def compute_mask(self, inputs, mask=None):
        return None

    def get_config(self):
        config = super().get_config()
        config.update({"axes": self.axes, "normalize": self.normalize})
        return config


def batch_dot(x1: torch.Tensor, x2: torch.Tensor, a1: int, a2: int) -> torch.Tensor:
    """Per-sample contraction of axis a1 of x1 with axis a2 of x2 (Keras's batch_dot)."""
    x1 = torch.movedim(x1, a1, -1)
    x2 = torch.movedim(x2, a2, 1)
    batch = x1.shape[0]
    rest1, rest2 = x1.shape[1:-1], x2.shape[2:]
    k = x1.shape[-1]
    out = torch.bmm(x1.reshape(batch, -1, k), x2.reshape(batch, k, -1))
    out = out.reshape((batch,) + tuple(rest1) + tuple(rest2))
    if out.dim() == 1:
        out = out.unsqueeze(1)
    return out


def _functional(cls):
    def merge(inputs: Sequence, **kwargs):
        return cls(**kwargs)(inputs)
    merge.__name__ = cls.__name__.lower()
    merge.__doc__ = f"Functional interface to the `{cls.__name__}` layer: ``{merge.__name__}([x1, x2])``."
    return merge


add = _functional(Add)
subtract = _functional(Subtract)
multiply = _functional(Multiply)
average = _functional(Average)
maximum = _functional(Maximum)
minimum = _functional(Minimum)


def concatenate(inputs: Sequence, axis: int = -1, **kwargs):
    """Functional interface to ``Concatenate``: ``concatenate([x1, x2], axis=-1)``."""
    return Concatenate(axis=axis, **kwargs)(inputs)


def dot(inputs: Sequence, axes, normalize: bool = False, **kwargs):
    """Functional interface to ``Dot``: ``dot([x1, x2], axes=1)``."""
    return Dot(axes=axes, normalize=normalize, **kwargs)(inputs)


__all__ = ["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate", "Dot",
           "add", "subtract", "multiply", "average", "maximum", "minimum", "concatenate", "dot"]
