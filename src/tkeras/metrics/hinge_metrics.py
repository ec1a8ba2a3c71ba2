"""Hinge metrics (``Hinge``, ``SquaredHinge``, ``CategoricalHinge``)."""
from __future__ import annotations

from typing import Any

from ..losses import categorical_hinge, hinge, squared_hinge
from .reduction_metrics import MeanMetricWrapper


class Hinge(MeanMetricWrapper):
    """Mean hinge loss.

    Args:
        name: the metric's name.
        dtype: the state dtype.
    """

    def __init__(self, name: str = "hinge", dtype: Any = None):
        super().__init__(hinge, name, dtype=dtype)


class SquaredHinge(MeanMetricWrapper):
    """Mean squared hinge loss.

    Args:
        name: the metric's name.
        dtype: the state dtype.
    """

    def __init__(self, name: str = "squared_hinge", dtype: Any = None):
        super().__init__(squared_hinge, name, dtype=dtype)


class CategoricalHinge(MeanMetricWrapper):
    """Mean categorical hinge loss.

    Args:
        name: the metric's name.
        dtype: the state dtype.
    """

    def __init__(self, name: str = "categorical_hinge", dtype: Any = None):
        super().__init__(categorical_hinge, name, dtype=dtype)
