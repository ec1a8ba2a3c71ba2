"""Reduction metrics: ``Reduce``, ``Sum``, ``Mean`` and ``MeanMetricWrapper`` (the mean of a
per-sample function)."""
from __future__ import annotations

from typing import Any, Callable, Dict, Mapping, Optional, Tuple

import torch

from ..losses import _apply_valid_mask, _to_tensor, squeeze_or_expand_dimensions
from ..saving.object_registration import get_registered_name
from .base import Metric, TensorLike, _divide_no_nan

# =================================================================== reductions

class _ReduceKind:
    SUM = "sum"
    SUM_OVER_BATCH_SIZE = "sum_over_batch_size"
    WEIGHTED_MEAN = "weighted_mean"


def _weigh_values(values: torch.Tensor, sample_weight: torch.Tensor, reduction: str
                  ) -> Tuple[torch.Tensor, torch.Tensor]:
    """Keras's weighting of metric values: the weights broadcast to the values when they
    can; otherwise the values are summed / averaged down to the weights' rank."""
    values, _, sample_weight = squeeze_or_expand_dimensions(values, None, sample_weight)
    try:
        broadcastable = (sample_weight.dim() <= values.dim() and torch.broadcast_shapes(
            sample_weight.shape, values.shape) == values.shape)
    except RuntimeError:
        broadcastable = False
    if broadcastable:
        sample_weight = sample_weight.expand(values.shape)
    elif values.dim() > sample_weight.dim():
        dims = tuple(range(sample_weight.dim(), values.dim()))
        values = values.sum(dim=dims) if reduction == _ReduceKind.SUM else values.mean(dim=dims)
    return values * sample_weight, sample_weight


class Reduce(Metric):
    """Reduces values to a sum or a (weighted) mean over all updates.

    Args:
        reduction: ``"sum"``, ``"sum_over_batch_size"`` or ``"weighted_mean"``.
        name: the metric's name.
        dtype: the state dtype.
    """

    def __init__(self, reduction: str, name: Optional[str] = None, dtype: Any = None):
        super().__init__(name=name, dtype=dtype)
        self.reduction = reduction
        self.total = self.add_weight("total", initializer="zeros")
        if reduction in (_ReduceKind.SUM_OVER_BATCH_SIZE, _ReduceKind.WEIGHTED_MEAN):
            self.count = self.add_weight("count", initializer="zeros")

    def update_state(self, values: TensorLike, sample_weight: Optional[TensorLike] = None
                     ) -> None:
        """Adds ``values`` (optionally weighted) to the total (and their count).

        Args:
            values: a tensor of any shape.
            sample_weight: optional weights broadcastable to ``values`` (or of a prefix of
                its shape).
        """
        values = self._input(values, self.torch_dtype)
        if sample_weight is not None:
            sample_weight = self._input(sample_weight, self.torch_dtype)
            values, sample_weight = _weigh_values(values, sample_weight, self.reduction)
        self.total.add_(torch.sum(values))
        if self.reduction == _ReduceKind.SUM:
            return
        if sample_weight is None or self.reduction == _ReduceKind.SUM_OVER_BATCH_SIZE:
            self.count.add_(values.numel())
        else:
            self.count.add_(torch.sum(sample_weight))

    def result(self) -> torch.Tensor:
        if self.reduction == _ReduceKind.SUM:
            return self.total.detach().clone()
        return _divide_no_nan(self.total, self.count)


class Sum(Reduce):
    """The (weighted) sum of the given values.

    Args:
        name: the metric's name.
        dtype: the state dtype.
    """

    def __init__(self, name: str = "sum", dtype: Any = None):
        super().__init__(reduction=_ReduceKind.SUM, name=name, dtype=dtype)


class Mean(Reduce):
    """The (weighted) mean of the given values: ``total / count``.

    Args:
        name: the metric's name.
        dtype: the state dtype.

    Example:
        >>> m = Mean()
        >>> m.update_state([1, 3, 5, 7], sample_weight=[1, 1, 0, 0])
        >>> float(m.result())
        2.0
    """

    def __init__(self, name: str = "mean", dtype: Any = None):
        super().__init__(reduction=_ReduceKind.WEIGHTED_MEAN, name=name, dtype=dtype)


class MeanMetricWrapper(Mean):
    """The weighted mean of ``fn(y_true, y_pred, **kwargs)`` over all updates.

    Args:
        fn: a metric function returning per-sample values.
        name: the metric's name.
        dtype: the state dtype (inputs are cast to it).
        **kwargs: keyword arguments passed to ``fn``.

    Example:
        >>> def mean_pred(y_true, y_pred):
        ...     return K.mean(y_pred)
        >>> m = MeanMetricWrapper(mean_pred, name="mean_pred")
    """

    def __init__(self, fn: Callable, name: Optional[str] = None, dtype: Any = None,
                 **kwargs: Any):
        super().__init__(name=name, dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs

    def update_state(self, y_true: TensorLike, y_pred: TensorLike,
                     sample_weight: Optional[TensorLike] = None) -> None:
        """Averages ``fn(y_true, y_pred)`` into the state.

        Args:
            y_true: targets.
            y_pred: predictions.
            sample_weight: optional weights (``(batch,)`` or the values' shape).
        """
        y_true = self._input(y_true, self.torch_dtype)
        y_pred = self._input(y_pred, self.torch_dtype)
        y_pred, y_true = squeeze_or_expand_dimensions(y_pred, y_true)
        matches = _to_tensor(self._fn(y_true, y_pred, **self._fn_kwargs), like=y_pred)
        if sample_weight is not None:
            sample_weight = self._input(sample_weight, self.torch_dtype)
        sample_weight = _apply_valid_mask(matches, sample_weight,
                                          getattr(matches, "_keras_mask", None), self.reduction)
        super().update_state(matches, sample_weight=sample_weight)

    def get_config(self) -> Dict[str, Any]:
        cfg = super().get_config()
        cfg.update(self._fn_kwargs)
        if type(self) is MeanMetricWrapper:
            cfg["fn"] = get_registered_name(self._fn)
        return cfg

    @classmethod
    def from_config(cls, config_: Mapping[str, Any]) -> "MeanMetricWrapper":
        cfg = dict(config_)
        fn = cfg.pop("fn", None)
        if cls is MeanMetricWrapper:
            from . import get  # the package's lookup (it imports this module)
            return cls(get(fn), **cfg)
        return cls(**cfg)
