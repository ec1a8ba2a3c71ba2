"""Intersection-over-union metrics (``IoU``, ``MeanIoU``)."""
from __future__ import annotations

from typing import Any, Dict, Optional, Sequence

import torch

from .base import Metric, TensorLike, _divide_no_nan

# =================================================================== IoU

class IoU(Metric):
    """Intersection-over-union per class, averaged over ``target_class_ids``
    (``TP / (TP + FP + FN)``, classes with an empty denominator left out).

    Args:
        num_classes: number of classes.
        target_class_ids: the classes averaged over.
        name: the metric's name.
        dtype: the state dtype.
        ignore_class: a label value left out of the confusion matrix.
        sparse_y_true: labels are class indices (else one-hot / scores: arg-max is taken).
        sparse_y_pred: predictions are class indices (else scores: arg-max is taken).
        axis: the class axis for the arg-max.
    """

    def __init__(self, num_classes: int, target_class_ids: Sequence[int],
                 name: Optional[str] = None, dtype: Any = None,
                 ignore_class: Optional[int] = None, sparse_y_true: bool = True,
                 sparse_y_pred: bool = True, axis: int = -1):
        super().__init__(name=name, dtype=dtype)
        self.num_classes = int(num_classes)
        if max(target_class_ids, default=-1) >= self.num_classes:
            raise ValueError(f"Target class id {max(target_class_ids)} is out of range, which "
                             f"is [0, {num_classes}).")
        self.target_class_ids = list(target_class_ids)
        self.ignore_class = ignore_class
        self.sparse_y_true = sparse_y_true
        self.sparse_y_pred = sparse_y_pred
        self.axis = axis
        self.total_cm = self.add_weight("total_confusion_matrix",
                                        shape=(self.num_classes, self.num_classes))

    def update_state(self, y_true: TensorLike, y_pred: TensorLike,
                     sample_weight: Optional[TensorLike] = None) -> None:
        """Adds this batch to the confusion matrix (rows: labels, columns: predictions).

        Args:
            y_true: class indices (or one-hot with ``sparse_y_true=False``).
            y_pred: class indices (or scores with ``sparse_y_pred=False``).
            sample_weight: optional weights per element (or per sample, broadcast).
        """
        y_true = self._input(y_true)
        y_pred = self._input(y_pred)
        if not self.sparse_y_true:
            y_true = torch.argmax(y_true, dim=self.axis)
        if not self.sparse_y_pred:
            y_pred = torch.argmax(y_pred, dim=self.axis)
        weights = self._element_weights(sample_weight, y_true.shape)
        labels, predictions = y_true.reshape(-1).long(), y_pred.reshape(-1).long()
        if labels.shape != predictions.shape:
            raise ValueError(f"`y_true` and `y_pred` must have the same number of elements. "
                             f"Received: {tuple(y_true.shape)} and {tuple(y_pred.shape)}")
        self.total_cm.add_(self._confusion_matrix(labels, predictions, weights))

    def _element_weights(self, sample_weight: Optional[TensorLike], shape: torch.Size
                         ) -> Optional[torch.Tensor]:
        if sample_weight is None:
            return None
        weights = self._input(sample_weight, self.torch_dtype)
        if weights.dim() < len(shape):
            weights = weights.reshape(tuple(weights.shape) + (1,) * (len(shape) - weights.dim()))
        return torch.broadcast_to(weights, shape).reshape(-1)

    def _confusion_matrix(self, labels: torch.Tensor, predictions: torch.Tensor,
                          weights: Optional[torch.Tensor]) -> torch.Tensor:
        n = self.num_classes
        valid = torch.ones_like(labels, dtype=torch.bool)
        if self.ignore_class is not None:
            valid = labels != self.ignore_class
        in_range = (labels >= 0) & (labels < n) & (predictions >= 0) & (predictions < n)
        if labels.device.type == "cpu" and bool((valid & ~in_range).any()):
            raise ValueError(f"`labels` and `predictions` must be in [0, {n}) (num_classes). "
                             f"Received labels {labels.tolist()[:32]} and predictions "
                             f"{predictions.tolist()[:32]}")
        keep = (valid & in_range).to(self.torch_dtype)
        weights = keep if weights is None else weights * keep
        index = torch.where(keep > 0, labels * n + predictions, torch.zeros_like(labels))
        cm = torch.zeros(n * n, dtype=self.torch_dtype, device=labels.device)
        return cm.index_add_(0, index, weights).reshape(n, n)

    def result(self) -> torch.Tensor:
        cm = self.total_cm
        sum_over_row = cm.sum(dim=0)
        sum_over_col = cm.sum(dim=1)
        true_positives = torch.diagonal(cm)
        denominator = sum_over_row + sum_over_col - true_positives
        ids = torch.tensor(self.target_class_ids, dtype=torch.long, device=cm.device)
        true_positives, denominator = true_positives[ids], denominator[ids]
        num_valid = torch.sum((denominator > 1e-9).to(cm.dtype))
        iou = _divide_no_nan(true_positives, denominator)
        return _divide_no_nan(torch.sum(iou), num_valid)

    def get_config(self) -> Dict[str, Any]:
        return {"num_classes": self.num_classes, "target_class_ids": self.target_class_ids,
                "name": self.name, "dtype": self.dtype, "ignore_class": self.ignore_class,
                "sparse_y_true": self.sparse_y_true, "sparse_y_pred": self.sparse_y_pred,
                "axis": self.axis}


class MeanIoU(IoU):
    """Mean intersection-over-union over all ``num_classes`` classes (semantic
    segmentation's usual score).

    Args:
        num_classes: number of classes.
        name: the metric's name.
        dtype: the state dtype.
        ignore_class: a label value left out of the confusion matrix.
        sparse_y_true: labels are class indices.
        sparse_y_pred: predictions are class indices.
        axis: the class axis for the arg-max.

    Example:
        >>> m = MeanIoU(num_classes=2)
        >>> m.update_state([0, 0, 1, 1], [0, 1, 0, 1])
        >>> float(m.result())   # (1/3 + 1/3) / 2
        0.3333333432674408
    """

    def __init__(self, num_classes: int, name: Optional[str] = None, dtype: Any = None,
                 ignore_class: Optional[int] = None, sparse_y_true: bool = True,
                 sparse_y_pred: bool = True, axis: int = -1):
        super().__init__(num_classes, list(range(int(num_classes))), name=name, dtype=dtype,
                         ignore_class=ignore_class, sparse_y_true=sparse_y_true,
                         sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self) -> Dict[str, Any]:
        cfg = super().get_config()
        del cfg["target_class_ids"]
        return cfg


#: Keras 2.3.1's name of the base of ``MeanIoU`` (tkeras's ``IoU``).
BaseMeanIoU = IoU
