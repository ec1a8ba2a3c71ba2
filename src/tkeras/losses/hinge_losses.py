"""Hinge loss classes (``Hinge``, ``SquaredHinge``, ``CategoricalHinge``)."""
from __future__ import annotations

from .base import LossFunctionWrapper, Reduction
from .functions import categorical_hinge, hinge, squared_hinge


class Hinge(LossFunctionWrapper):
    """``mean(max(1 - y_true * y_pred, 0), axis=-1)``; 0/1 labels become -1/1.

    Args:
        reduction: one of ``Reduction.all()``.
        name: the loss's name.
    """

    def __init__(self, reduction: str = Reduction.AUTO, name: str = "hinge"):
        super().__init__(hinge, reduction=reduction, name=name)


class SquaredHinge(LossFunctionWrapper):
    """``mean(square(max(1 - y_true * y_pred, 0)), axis=-1)``; 0/1 labels become -1/1.

    Args:
        reduction: one of ``Reduction.all()``.
        name: the loss's name.
    """

    def __init__(self, reduction: str = Reduction.AUTO, name: str = "squared_hinge"):
        super().__init__(squared_hinge, reduction=reduction, name=name)


class CategoricalHinge(LossFunctionWrapper):
    """``max(neg - pos + 1, 0)`` (see ``categorical_hinge``).

    Args:
        reduction: one of ``Reduction.all()``.
        name: the loss's name.
    """

    def __init__(self, reduction: str = Reduction.AUTO, name: str = "categorical_hinge"):
        super().__init__(categorical_hinge, reduction=reduction, name=name)
