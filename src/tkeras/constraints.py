"""Weight constraints (``keras.constraints``): projections applied after each update.

A constraint is called on a weight and returns the projected tensor; the optimizer copies it
back into the weight. ``axis`` refers to Keras's weight layout: for a Dense kernel
``(input_dim, units)``, ``axis=0`` constrains each unit's incoming weight vector; for a Conv2D
kernel ``(rows, cols, in, out)``, ``axis=[0, 1, 2]`` constrains each filter.

Example:
    >>> from tkeras import constraints
    >>> c = constraints.get("max_norm")
    >>> w = c(torch.randn(4, 3) * 10)        # every column now has norm <= 2
"""
from __future__ import annotations

from typing import Any, Callable, Dict, Mapping, Optional, Sequence, Union

import torch

from .backend import config
from .backend import ops as K
from .backend.ops import TensorLike, _as_tensor
from .saving.object_registration import Registered, Registry

AxisLike = Union[int, Sequence[int]]


def _norms(w: torch.Tensor, axis: AxisLike) -> torch.Tensor:
    """``sqrt(sum(w ** 2))`` over ``axis``, keeping the reduced dimensions."""
    dims = axis if isinstance(axis, int) else tuple(int(a) for a in axis)
    return torch.sqrt(torch.sum(torch.square(w), dim=dims, keepdim=True))


_OBJECTS = Registry("constraint")
"""Every constraint class by its name (added as defined), and Keras 2's other names."""


class Constraint(Registered, registry=_OBJECTS):
    """Base class of weight constraints: ``__call__(w)`` returns the projected weight.

    The base class returns ``w`` unchanged; subclasses override ``__call__`` (and
    ``get_config`` when they have arguments).

    Example:
        >>> class NonNegative(Constraint):
        ...     def __call__(self, w):
        ...         return w * (w >= 0).to(w.dtype)
    """

    _keras_module = "keras.constraints"

    def __call__(self, w: TensorLike) -> torch.Tensor:
        return _as_tensor(w)

    def get_config(self) -> Dict[str, Any]:
        """The constraint's arguments as a JSON-serializable dict."""
        return {}

    @classmethod
    def from_config(cls, config_: Mapping[str, Any]) -> "Constraint":
        """Rebuilds the constraint from ``get_config()``.

        Args:
            config_: the config dict.
        """
        return cls(**config_)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class MaxNorm(Constraint):
    """Rescales the weight vectors along ``axis`` whose norm exceeds ``max_value``.

    ``w * clip(norms, 0, max_value) / (epsilon + norms)``.

    Args:
        max_value: the largest norm allowed.
        axis: the axis (or axes) the norms are computed over.

    Example:
        >>> MaxNorm(2.0)(torch.tensor([[3.0], [4.0]]))   # norm 5 -> 2
        tensor([[1.2000],
                [1.6000]])
    """

    def __init__(self, max_value: float = 2, axis: AxisLike = 0):
        self.max_value = max_value
        self.axis = axis

    def __call__(self, w: TensorLike) -> torch.Tensor:
        w = _as_tensor(w)
        norms = _norms(w, self.axis)
        desired = K.clip(norms, 0, self.max_value)
        return w * (desired / (config.epsilon() + norms))

    def get_config(self) -> Dict[str, Any]:
        return {"max_value": self.max_value, "axis": self.axis}


class NonNeg(Constraint):
    """Sets negative weights to zero.

    Example:
        >>> NonNeg()(torch.tensor([-1.0, 2.0]))
        tensor([-0., 2.])
    """

    def __call__(self, w: TensorLike) -> torch.Tensor:
        w = _as_tensor(w)
        return w * (w >= 0.0).to(w.dtype)


class UnitNorm(Constraint):
    """Scales the weight vectors along ``axis`` to unit norm: ``w / (epsilon + norms)``.

    Args:
        axis: the axis (or axes) the norms are computed over.

    Example:
        >>> UnitNorm()(torch.tensor([[3.0], [4.0]]))
        tensor([[0.6000],
                [0.8000]])
    """

    def __init__(self, axis: AxisLike = 0):
        self.axis = axis

    def __call__(self, w: TensorLike) -> torch.Tensor:
        w = _as_tensor(w)
        return w / (config.epsilon() + _norms(w, self.axis))

    def get_config(self) -> Dict[str, Any]:
        return {"axis": self.axis}


class MinMaxNorm(Constraint):
    """Moves the norms of the weight vectors along ``axis`` into ``[min_value, max_value]``.

    ``desired = rate * clip(norms, min_value, max_value) + (1 - rate) * norms``, then
    ``w * desired / (epsilon + norms)``.

    Args:
        min_value: the smallest norm allowed.
        max_value: the largest norm allowed.
        rate: 1.0 enforces the bounds strictly; less moves the norms part of the way.
        axis: the axis (or axes) the norms are computed over.

    Example:
        >>> MinMaxNorm(0.5, 1.0)(torch.tensor([[3.0], [4.0]]))
        tensor([[0.6000],
                [0.8000]])
    """

    def __init__(self, min_value: float = 0.0, max_value: float = 1.0, rate: float = 1.0,
                 axis: AxisLike = 0):
        self.min_value = min_value
        self.max_value = max_value
        self.rate = rate
        self.axis = axis

    def __call__(self, w: TensorLike) -> torch.Tensor:
        w = _as_tensor(w)
        norms = _norms(w, self.axis)
        desired = (self.rate * K.clip(norms, self.min_value, self.max_value)
                   + (1 - self.rate) * norms)
        return w * (desired / (config.epsilon() + norms))

    def get_config(self) -> Dict[str, Any]:
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate,
                "axis": self.axis}


def _radial_source_indices(size: int, device: torch.device) -> torch.Tensor:
    """For a ``size x size`` kernel, the flat index of the element copied to each position.

    tf-keras builds the result from the centre outwards: the centre (a 1x1 block for odd
    sizes, 2x2 for even ones) takes ``kernel[c - 1, c - 1]`` with ``c = size // 2``; ring ``d``
    around it takes ``kernel[c + d, c + d]`` (even sizes) or ``kernel[c + d - 1, c + d - 1]``
    (odd sizes).
    """
    start, odd = size // 2, size % 2
    pos = torch.arange(size, device=device)
    if odd:
        ring = (pos - start).abs()
    else:
        ring = torch.where(pos >= start, pos - start, start - 1 - pos)
    ring2d = torch.maximum(ring[:, None], ring[None, :])
    source = torch.where(ring2d == 0, start - 1, start + ring2d - odd) % size
    return (source * size + source).reshape(-1)


class RadialConstraint(Constraint):
    """Makes each ``(rows, cols)`` slice of a Conv2D kernel constant on concentric rings.

    The kernel has shape ``(rows, cols, in, out)`` with ``rows == cols``; the values are
    taken from the kernel's diagonal exactly as tf-keras 2.x does (see
    ``_radial_source_indices``), so ``ceil(rows / 2)`` distinct values remain per slice.

    Example:
        >>> RadialConstraint()(torch.randn(3, 3, 2, 4)).shape
        torch.Size([3, 3, 2, 4])
    """

    def __call__(self, w: TensorLike) -> torch.Tensor:
        w = _as_tensor(w)
        if w.dim() != 4:
            raise ValueError("The weight tensor must have rank 4. Received weight tensor "
                             f"with shape: {tuple(w.shape)}")
        height, width, channels, kernels = w.shape
        if height != width:
            raise ValueError("RadialConstraint expects a square kernel (rows == cols). "
                             f"Received weight tensor with shape: {tuple(w.shape)}")
        flat = w.reshape(height * width, channels * kernels)
        picked = flat[_radial_source_indices(height, w.device)]
        return picked.reshape(height, width, channels, kernels)


# Aliases, and Keras 2's older spellings.
max_norm = maxnorm = MaxNorm
non_neg = nonneg = NonNeg
unit_norm = unitnorm = UnitNorm
min_max_norm = MinMaxNorm
radial_constraint = RadialConstraint

_OBJECTS.register(Constraint)
_OBJECTS.update(max_norm=MaxNorm, maxnorm=MaxNorm, non_neg=NonNeg, nonneg=NonNeg,
                unit_norm=UnitNorm, unitnorm=UnitNorm, min_max_norm=MinMaxNorm,
                radial_constraint=RadialConstraint)


def serialize(constraint: Optional[Callable], use_legacy_format: bool = False) -> Any:
    """``{"module": "keras.constraints", "class_name", "config", "registered_name"}``.

    Args:
        constraint: a Constraint (a plain function gives its name; None gives None).
        use_legacy_format: accepted for compatibility; the output is the same.
    """
    del use_legacy_format
    return _OBJECTS.serialize(constraint)


def deserialize(config_: Any, custom_objects: Optional[Mapping[str, Any]] = None,
                use_legacy_format: bool = False) -> Callable:
    """The constraint described by a name or a ``{"class_name", "config"}`` dict.

    Args:
        config_: a name (``"max_norm"``) or a config dict.
        custom_objects: optional ``{name: class_or_function}`` of user constraints.
        use_legacy_format: accepted for compatibility.

    Raises:
        ValueError: ``Unknown constraint: 'name'...`` for unknown names.
    """
    del use_legacy_format
    return _OBJECTS.deserialize(config_, custom_objects)


def get(identifier: Any) -> Optional[Callable]:
    """Resolves a constraint identifier.

    Args:
        identifier: None, a name, a config dict, a Constraint class (instantiated), a
            Constraint, or a callable ``f(w)`` (returned as is).

    Raises:
        ValueError: for unknown names or identifiers of another kind.
    """
    return _OBJECTS.get_object(identifier)
