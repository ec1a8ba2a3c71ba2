"""Weight and activity regularizers (``keras.regularizers``).

A regularizer is called on a weight (or a layer's output) and returns a 0-d torch tensor, the
penalty added to the loss. The factors are stored rounded to ``floatx()`` as tf-keras stores
them, so configs read exactly as tf-keras writes them (``L2(0.01)`` gives
``{"l2": 0.009999999776482582}`` with float32).

Example:
    >>> from tkeras import regularizers
    >>> reg = regularizers.l2(0.5)
    >>> reg(torch.ones(3, 2))                # 0.5 * sum(w ** 2)
    tensor(3.)
"""
from __future__ import annotations

import math
import numbers
from typing import Any, Callable, Dict, Mapping, Optional

import torch

from .backend import config
from .backend import ops as K
from .backend.ops import TensorLike, _as_tensor
from .saving.object_registration import Registered, Registry


def _penalty_factor(value: Any, name: str) -> float:
    """Checks a penalty factor and rounds it to ``floatx()`` (tf-keras's cast_to_floatx)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"Value {value} is not a valid regularization penalty number, "
                         f"expected an int or float value. Received: {name}={value!r}")
    if math.isinf(value) or math.isnan(value):
        raise ValueError(f"Value {value} is not a valid regularization penalty number, an "
                         f"infinite number or NaN are not valid values. Received: {name}={value}")
    return float(torch.tensor(float(value), dtype=config.torch_dtype(), device="cpu"))


_OBJECTS = Registry("regularizer")
"""Every regularizer class by its name (added as defined), and Keras 2's other names."""


class Regularizer(Registered, registry=_OBJECTS):
    """Base class of regularizers: ``__call__(x)`` returns the penalty for tensor ``x``.

    Any function ``f(weight) -> scalar tensor`` also works as a regularizer. Subclasses
    with arguments implement ``get_config`` so models using them can be saved.

    Example:
        >>> class L2Half(Regularizer):
        ...     def __call__(self, x):
        ...         return 0.5 * torch.sum(torch.square(x))
        ...     def get_config(self):
        ...         return {}
    """

    _keras_module = "keras.regularizers"

    def __call__(self, x: TensorLike) -> torch.Tensor:
        x = _as_tensor(x)
        return torch.zeros((), dtype=x.dtype, device=x.device)

    def get_config(self) -> Dict[str, Any]:
        """The regularizer's arguments as a JSON-serializable dict."""
        # the class name, not f"{self}": __repr__ itself calls get_config
        raise NotImplementedError(f"{type(self).__name__} does not implement get_config()")

    @classmethod
    def from_config(cls, config_: Mapping[str, Any]) -> "Regularizer":
        """Rebuilds the regularizer from ``get_config()``.

        Args:
            config_: the config dict.
        """
        return cls(**config_)

    def __repr__(self) -> str:
        try:
            args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        except NotImplementedError:
            args = ""
        return f"{type(self).__name__}({args})"


def _l1_penalty(factor: float, x: torch.Tensor) -> torch.Tensor:
    return factor * torch.sum(torch.abs(x))


def _l2_penalty(factor: float, x: torch.Tensor) -> torch.Tensor:
    return factor * torch.sum(torch.square(x))


class L1L2(Regularizer):
    """``l1 * sum(abs(x)) + l2 * sum(square(x))``.

    Args:
        l1: L1 factor (None means 0).
        l2: L2 factor (None means 0).

    Example:
        >>> L1L2(l1=0.01, l2=0.01)(torch.ones(2, 2))
        tensor(0.0800)
    """

    def __init__(self, l1: float = 0.0, l2: float = 0.0):
        self.l1 = _penalty_factor(0.0 if l1 is None else l1, "l1")
        self.l2 = _penalty_factor(0.0 if l2 is None else l2, "l2")

    def __call__(self, x: TensorLike) -> torch.Tensor:
        x = _as_tensor(x)
        penalty = torch.zeros((), dtype=x.dtype, device=x.device)
        if self.l1:
            penalty = penalty + _l1_penalty(self.l1, x)
        if self.l2:
            penalty = penalty + _l2_penalty(self.l2, x)
        return penalty

    def get_config(self) -> Dict[str, Any]:
        return {"l1": self.l1, "l2": self.l2}


class L1(Regularizer):
    """``l1 * sum(abs(x))``.

    Args:
        l1: the factor (None means 0.01). Keras 2's ``l=`` spelling is accepted.

    Example:
        >>> L1(0.01)(torch.ones(2, 2))
        tensor(0.0400)
    """

    def __init__(self, l1: float = 0.01, **kwargs):
        l1 = kwargs.pop("l", l1)
        if kwargs:
            raise TypeError(f"Argument(s) not recognized: {kwargs}")
        self.l1 = _penalty_factor(0.01 if l1 is None else l1, "l1")

    def __call__(self, x: TensorLike) -> torch.Tensor:
        return _l1_penalty(self.l1, _as_tensor(x))

    def get_config(self) -> Dict[str, Any]:
        return {"l1": self.l1}


class L2(Regularizer):
    """``l2 * sum(square(x))``.

    Args:
        l2: the factor (None means 0.01). Keras 2's ``l=`` spelling is accepted.

    Example:
        >>> L2(0.01)(torch.ones(2, 2))
        tensor(0.0400)
    """

    def __init__(self, l2: float = 0.01, **kwargs):
        l2 = kwargs.pop("l", l2)
        if kwargs:
            raise TypeError(f"Argument(s) not recognized: {kwargs}")
        self.l2 = _penalty_factor(0.01 if l2 is None else l2, "l2")

    def __call__(self, x: TensorLike) -> torch.Tensor:
        return _l2_penalty(self.l2, _as_tensor(x))

    def get_config(self) -> Dict[str, Any]:
        return {"l2": self.l2}


class OrthogonalRegularizer(Regularizer):
    """Pushes the rows (or columns) of a 2-D weight towards mutual orthogonality.

    Penalty: ``factor * 0.5 * sum(abs(P - diag(P))) / (n * (n - 1) / 2)`` with ``P`` the
    Gram matrix of the L2-normalised rows (``mode="rows"``) or columns, ``n`` their count.

    Args:
        factor: the regularization factor.
        mode: ``"rows"`` or ``"columns"``.

    Example:
        >>> OrthogonalRegularizer(factor=0.01)(torch.eye(3))
        tensor(0.)
    """

    def __init__(self, factor: float = 0.01, mode: str = "rows"):
        self.factor = _penalty_factor(factor, "factor")
        if mode not in ("rows", "columns"):
            raise ValueError('Invalid value for argument `mode`. Expected one of '
                             f'{{"rows", "columns"}}. Received: mode={mode}')
        self.mode = mode

    def __call__(self, x: TensorLike) -> torch.Tensor:
        x = _as_tensor(x)
        if x.dim() != 2:
            raise ValueError("Inputs to OrthogonalRegularizer must have rank 2. Received: "
                             f"inputs.shape == {tuple(x.shape)}")
        vectors = K.l2_normalize(x, axis=1) if self.mode == "rows" else K.l2_normalize(x, axis=0).T
        size = vectors.shape[0]
        product = vectors @ vectors.T
        off_diagonal = product * (1.0 - torch.eye(size, dtype=x.dtype, device=x.device))
        num_pairs = size * (size - 1.0) / 2.0
        return self.factor * 0.5 * torch.sum(torch.abs(off_diagonal)) / num_pairs

    def get_config(self) -> Dict[str, Any]:
        return {"factor": self.factor, "mode": self.mode}


def l1_l2(l1: float = 0.01, l2: float = 0.01) -> L1L2:
    """An ``L1L2`` regularizer; unlike the class, both factors default to 0.01.

    Args:
        l1: L1 factor.
        l2: L2 factor.
    """
    return L1L2(l1=l1, l2=l2)


# Aliases (Keras 2 spellings).
l1 = L1
l2 = L2
orthogonal_regularizer = OrthogonalRegularizer

_OBJECTS.register(Regularizer)
_OBJECTS.update(l1=L1, l2=L2, orthogonal_regularizer=OrthogonalRegularizer)


def serialize(regularizer: Optional[Callable], use_legacy_format: bool = False) -> Any:
    """``{"module": "keras.regularizers", "class_name", "config", "registered_name"}``.

    Args:
        regularizer: a Regularizer (a plain function gives its name; None gives None).
        use_legacy_format: accepted for compatibility; the output is the same.
    """
    del use_legacy_format
    return _OBJECTS.serialize(regularizer)


def deserialize(config_: Any, custom_objects: Optional[Mapping[str, Any]] = None,
                use_legacy_format: bool = False) -> Callable:
    """The regularizer described by a name or a ``{"class_name", "config"}`` dict.

    Args:
        config_: a name (``"l2"``, ``"l1_l2"``) or a config dict.
        custom_objects: optional ``{name: class_or_function}`` of user regularizers.
        use_legacy_format: accepted for compatibility.

    Raises:
        ValueError: ``Unknown regularizer: 'name'...`` for unknown names.
    """
    del use_legacy_format
    if config_ == "l1_l2":  # the string means the function's defaults, not the class's
        return l1_l2()
    return _OBJECTS.deserialize(config_, custom_objects)


def get(identifier: Any) -> Optional[Callable]:
    """Resolves a regularizer identifier.

    Args:
        identifier: None, a name, a config dict, a Regularizer class (instantiated), a
            Regularizer, or a callable ``f(weight)`` (returned as is).

    Raises:
        ValueError: for unknown names or identifiers of another kind.
    """
    return _OBJECTS.get_object(identifier, deserialize)
