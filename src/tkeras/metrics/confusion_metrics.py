"""Confusion-matrix metrics: true/false positive/negative counts, ``Precision``, ``Recall`` and
``AUC``, with the thresholding helpers they share (Keras's ``metrics_utils``)."""
from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np
import torch

from ..backend import config
from ..backend.variables import to_numpy
from ..losses import squeeze_or_expand_dimensions
from .base import Metric, TensorLike, _divide_no_nan

# =================================================================== confusion matrices

_NEG_INF = -1e10
_TP, _FP, _TN, _FN = "true_positives", "false_positives", "true_negatives", "false_negatives"


def _to_list(x: Any) -> List[Any]:
    return list(x) if isinstance(x, (list, tuple, np.ndarray)) else [x]


def parse_init_thresholds(thresholds: Any, default_threshold: float = 0.5) -> List[float]:
    """The thresholds as a list (``default_threshold`` when None), each checked in [0, 1].

    Args:
        thresholds: None, a float, or a list of floats.
        default_threshold: used when ``thresholds`` is None.
    """
    if thresholds is not None:
        invalid = [t for t in _to_list(thresholds) if t is None or t < 0 or t > 1]
        if invalid:
            raise ValueError(f"Threshold values must be in [0, 1]. Received: {invalid}")
    return _to_list(default_threshold if thresholds is None else thresholds)


def is_evenly_distributed_thresholds(thresholds: Sequence[float]) -> bool:
    """True for thresholds ``i / (n - 1)``, i = 0..n-1 (n >= 3), which allow bucketing.

    Args:
        thresholds: a list of floats.
    """
    n = len(thresholds)
    if n < 3:
        return False
    even = np.arange(n, dtype=np.float32) / (n - 1)
    return bool(np.allclose(thresholds, even, atol=config.epsilon()))


def _filter_top_k(x: torch.Tensor, k: int) -> torch.Tensor:
    """Keeps the ``k`` largest entries of the last axis (lower index first on ties) and
    sets the others to -1e10."""
    top = torch.sort(x, dim=-1, descending=True, stable=True).indices[..., :k]
    mask = torch.zeros_like(x).scatter_(-1, top, 1.0)
    return x * mask + _NEG_INF * (1.0 - mask)


def _flatten_for_counting(y_true: torch.Tensor, y_pred: torch.Tensor,
                          weights: Optional[torch.Tensor], multi_label: bool):
    """Predictions, bool labels and weights as ``(examples, labels)`` matrices (one
    column unless ``multi_label``)."""
    labels = y_true != 0
    if multi_label:
        return y_pred, labels, weights
    return (y_pred.reshape(-1, 1), labels.reshape(-1, 1),
            None if weights is None else weights.reshape(-1, 1))


def _thresholded_counts(wanted: Sequence[str], preds: torch.Tensor, labels: torch.Tensor,
                        weights: Optional[torch.Tensor], thresholds: torch.Tensor
                        ) -> Dict[str, torch.Tensor]:
    """Counts per threshold by comparing every prediction with every threshold."""
    pred_pos = preds.unsqueeze(0) > thresholds.reshape(-1, 1, 1)
    label_pos = labels.unsqueeze(0)
    conditions = {_TP: lambda: label_pos & pred_pos, _FN: lambda: label_pos & ~pred_pos,
                  _FP: lambda: ~label_pos & pred_pos, _TN: lambda: ~label_pos & ~pred_pos}
    counts = {}
    for key in wanted:
        hits = conditions[key]().to(preds.dtype)
        if weights is not None:
            hits = hits * weights
        counts[key] = hits.sum(dim=1)
    return counts


def _bucketed_counts(wanted: Sequence[str], preds: torch.Tensor, labels: torch.Tensor,
                     weights: Optional[torch.Tensor], num_thresholds: int,
                     with_epsilon: bool) -> Dict[str, torch.Tensor]:
    """Counts for evenly spaced thresholds in O(examples): each prediction falls in bucket
    ``ceil(p * (n - 1)) - 1``; a reversed cumulative sum gives the counts above each
    threshold (tf-keras's optimised path, same numbers)."""
    num_labels = preds.shape[1]
    preds = torch.nan_to_num(preds.clamp(0.0, 1.0), nan=0.0)
    bucket = torch.ceil(preds * (num_thresholds - 1)) - 1
    if with_epsilon:
        bucket = torch.relu(bucket)
    bucket = bucket.long()
    # A prediction in bucket -1 (exactly 0.0 without the epsilon) is above no threshold: it
    # stays out of the bucket sums but counts in the totals, as tf's unsorted_segment_sum
    # drops negative segment ids.
    in_a_bucket = (bucket >= 0).to(preds.dtype)
    positives = labels.to(preds.dtype)
    w = torch.ones_like(preds) if weights is None else weights * torch.ones_like(preds)
    true_w, false_w = positives * w, (1.0 - positives) * w
    index = (bucket.clamp(min=0) * num_labels
             + torch.arange(num_labels, device=preds.device)).reshape(-1)

    def above_threshold(data: torch.Tensor) -> torch.Tensor:
        data = data * in_a_bucket
        per_bucket = torch.zeros(num_thresholds * num_labels, dtype=preds.dtype,
                                 device=preds.device).index_add_(0, index, data.reshape(-1))
        per_bucket = per_bucket.reshape(num_thresholds, num_labels)
        return per_bucket.flip(0).cumsum(0).flip(0)

    counts = {}
    tp = above_threshold(true_w) if _TP in wanted or _FN in wanted else None
    fp = above_threshold(false_w) if _FP in wanted or _TN in wanted else None
    if _TP in wanted:
        counts[_TP] = tp
    if _FP in wanted:
        counts[_FP] = fp
    if _TN in wanted:
        counts[_TN] = false_w.sum(0) - fp
    if _FN in wanted:
        counts[_FN] = true_w.sum(0) - tp
    return counts


def update_confusion_matrix_variables(variables: Mapping[str, torch.Tensor], y_true: torch.Tensor,
                                      y_pred: torch.Tensor, thresholds: torch.Tensor,
                                      top_k: Optional[int] = None,
                                      class_id: Optional[int] = None,
                                      sample_weight: Optional[torch.Tensor] = None,
                                      multi_label: bool = False,
                                      label_weights: Optional[torch.Tensor] = None,
                                      thresholds_distributed_evenly: bool = False,
                                      thresholds_with_epsilon: bool = False) -> None:
    """Adds this batch's true/false positives/negatives per threshold to ``variables``.

    A prediction counts as positive when ``y_pred > threshold``; labels count as positive
    when non-zero.

    Args:
        variables: ``{"true_positives": var, ...}``: the counts to update (shape
            ``(thresholds,)``, or ``(thresholds, labels)`` with ``multi_label``).
        y_true: labels, same shape as ``y_pred``.
        y_pred: predictions in [0, 1].
        thresholds: 1-D tensor of thresholds.
        top_k: only the top ``k`` predictions of each row may count as positive.
        class_id: only this class (last axis) is considered.
        sample_weight: optional weights broadcastable to ``y_pred``.
        multi_label: keep the label axis separate (``y_pred`` of shape (N, L)).
        label_weights: optional per-label weights (not with ``multi_label``).
        thresholds_distributed_evenly: thresholds are ``i / (n - 1)``: use bucketing.
        thresholds_with_epsilon: the end thresholds are -eps and 1 + eps (AUC).
    """
    dtype = next(iter(variables.values())).dtype
    y_true, y_pred = y_true.to(dtype), y_pred.to(dtype)
    if sample_weight is None:
        y_pred, y_true = squeeze_or_expand_dimensions(y_pred, y_true)
    else:
        y_pred, y_true, sample_weight = squeeze_or_expand_dimensions(
            y_pred, y_true, sample_weight.to(dtype))
    if tuple(y_pred.shape) != tuple(y_true.shape):
        raise ValueError(f"Shapes {tuple(y_true.shape)} (y_true) and {tuple(y_pred.shape)} "
                         "(y_pred) are incompatible.")
    if top_k is not None:
        y_pred = _filter_top_k(y_pred, top_k)
    if class_id is not None:
        y_true = y_true[..., class_id:class_id + 1]
        y_pred = y_pred[..., class_id:class_id + 1]
    weights = None
    if sample_weight is not None:
        weights = torch.broadcast_to(sample_weight, y_pred.shape)
    if label_weights is not None and not multi_label:
        lw = torch.broadcast_to(label_weights.to(dtype).unsqueeze(0), y_pred.shape)
        weights = lw if weights is None else weights * lw
    preds, labels, weights = _flatten_for_counting(y_true, y_pred, weights, multi_label)
    wanted = tuple(variables)
    if thresholds_distributed_evenly:
        counts = _bucketed_counts(wanted, preds, labels, weights, thresholds.numel(),
                                  thresholds_with_epsilon)
    else:
        counts = _thresholded_counts(wanted, preds, labels, weights, thresholds.to(dtype))
    for key, variable in variables.items():
        variable.add_(counts[key].reshape(variable.shape))


class _ThresholdMetric(Metric):
    """Shared set-up of the metrics that count per threshold."""

    def _set_thresholds(self, thresholds: Any, top_k: Optional[int] = None) -> None:
        self.init_thresholds = thresholds
        default = 0.5 if top_k is None else _NEG_INF
        self.thresholds = parse_init_thresholds(thresholds, default_threshold=default)
        self._thresholds_distributed_evenly = is_evenly_distributed_thresholds(self.thresholds)
        self.register_buffer("_threshold_values", torch.tensor(
            self.thresholds, dtype=self.torch_dtype), persistent=False)

    def _count(self, variables: Mapping[str, torch.Tensor], y_true: TensorLike,
               y_pred: TensorLike, sample_weight: Optional[TensorLike],
               top_k: Optional[int] = None, class_id: Optional[int] = None) -> None:
        """Adds this batch's counts to ``variables`` (``{"true_positives": var, ...}``)."""
        y_pred = self._input(y_pred)
        y_true = self._input(y_true)
        if sample_weight is not None:
            sample_weight = self._input(sample_weight)
        update_confusion_matrix_variables(
            variables, y_true, y_pred, self._threshold_values, top_k=top_k, class_id=class_id,
            sample_weight=sample_weight,
            thresholds_distributed_evenly=self._thresholds_distributed_evenly)

    def _first_or_all(self, value: torch.Tensor) -> torch.Tensor:
        return value[0] if len(self.thresholds) == 1 else value


class _ConfusionMatrixConditionCount(_ThresholdMetric):
    """Counts one confusion-matrix cell (weighted) per threshold.

    Args:
        thresholds: a float or list of floats in [0, 1] (default 0.5).
        name: the metric's name.
        dtype: the state dtype.
    """

    _condition = _TP

    def __init__(self, thresholds: Any = None, name: Optional[str] = None, dtype: Any = None):
        super().__init__(name=name, dtype=dtype)
        self._set_thresholds(thresholds)
        self.accumulator = self.add_weight("accumulator", shape=(len(self.thresholds),))

    def update_state(self, y_true: TensorLike, y_pred: TensorLike,
                     sample_weight: Optional[TensorLike] = None) -> None:
        """Counts this batch.

        Args:
            y_true: labels (non-zero = positive).
            y_pred: predictions in [0, 1].
            sample_weight: optional weights.
        """
        self._count({self._condition: self.accumulator}, y_true, y_pred, sample_weight)

    def result(self) -> torch.Tensor:
        return self._first_or_all(self.accumulator).detach().clone()

    def get_config(self) -> Dict[str, Any]:
        return {**super().get_config(), "thresholds": self.init_thresholds}


class TruePositives(_ConfusionMatrixConditionCount):
    """The (weighted) number of true positives per threshold."""

    _condition = _TP


class FalsePositives(_ConfusionMatrixConditionCount):
    """The (weighted) number of false positives per threshold."""

    _condition = _FP


class TrueNegatives(_ConfusionMatrixConditionCount):
    """The (weighted) number of true negatives per threshold."""

    _condition = _TN


class FalseNegatives(_ConfusionMatrixConditionCount):
    """The (weighted) number of false negatives per threshold."""

    _condition = _FN


class Precision(_ThresholdMetric):
    """``true_positives / (true_positives + false_positives)``.

    Args:
        thresholds: a float or list of floats in [0, 1] (default 0.5; with ``top_k``, any
            prediction in the top k counts as positive).
        top_k: only the top ``k`` predictions of each row may be positive.
        class_id: only this class is considered.
        name: the metric's name.
        dtype: the state dtype.
    """

    _second = _FP

    def __init__(self, thresholds: Any = None, top_k: Optional[int] = None,
                 class_id: Optional[int] = None, name: Optional[str] = None, dtype: Any = None):
        super().__init__(name=name, dtype=dtype)
        self.top_k = top_k
        self.class_id = class_id
        self._set_thresholds(thresholds, top_k)
        n = len(self.thresholds)
        self.true_positives = self.add_weight(_TP, shape=(n,))
        setattr(self, self._second, self.add_weight(self._second, shape=(n,)))

    def update_state(self, y_true: TensorLike, y_pred: TensorLike,
                     sample_weight: Optional[TensorLike] = None) -> None:
        """Counts this batch.

        Args:
            y_true: labels (non-zero = positive), same shape as ``y_pred``.
            y_pred: predictions in [0, 1].
            sample_weight: optional weights.
        """
        self._count({_TP: self.true_positives, self._second: getattr(self, self._second)},
                    y_true, y_pred, sample_weight, top_k=self.top_k, class_id=self.class_id)

    def result(self) -> torch.Tensor:
        tp = self.true_positives
        return self._first_or_all(_divide_no_nan(tp, tp + getattr(self, self._second)))

    def get_config(self) -> Dict[str, Any]:
        return {**super().get_config(), "thresholds": self.init_thresholds,
                "top_k": self.top_k, "class_id": self.class_id}


class Recall(Precision):
    """``true_positives / (true_positives + false_negatives)``.

    Args:
        thresholds: a float or list of floats in [0, 1] (default 0.5).
        top_k: only the top ``k`` predictions of each row may be positive.
        class_id: only this class is considered.
        name: the metric's name.
        dtype: the state dtype.
    """

    _second = _FN


# =================================================================== AUC

_CURVES = {"roc": "ROC", "ROC": "ROC", "pr": "PR", "PR": "PR"}
_SUMMATIONS = {"interpolation": "interpolation", "Interpolation": "interpolation",
               "majoring": "majoring", "Majoring": "majoring",
               "minoring": "minoring", "Minoring": "minoring"}


def _parse_curve(curve: Any) -> str:
    value = getattr(curve, "value", curve)
    if value not in _CURVES:
        raise ValueError(f'Invalid AUC curve value: "{curve}". Expected values are ["PR", "ROC"]')
    return _CURVES[value]


def _parse_summation(method: Any) -> str:
    value = getattr(method, "value", method)
    if value not in _SUMMATIONS:
        raise ValueError(f'Invalid AUC summation method value: "{method}". Expected values '
                         'are ["interpolation", "majoring", "minoring"]')
    return _SUMMATIONS[value]


class AUC(Metric):
    """Area under the ROC or PR curve, from confusion counts at ``num_thresholds``
    thresholds (a Riemann sum; PR with ``"interpolation"`` uses Davis & Goadrich's
    interpolation, exactly as tf-keras).

    Args:
        num_thresholds: number of thresholds (> 1) when ``thresholds`` is None.
        curve: ``"ROC"`` or ``"PR"``.
        summation_method: ``"interpolation"``, ``"minoring"`` or ``"majoring"``.
        name: the metric's name.
        dtype: the state dtype.
        thresholds: optional list of thresholds in [0, 1] (-eps and 1 + eps are added).
        multi_label: compute one AUC per label (last axis) and average them.
        num_labels: number of labels with ``multi_label`` (else found on first update).
        label_weights: optional non-negative weights per label.
        from_logits: apply a sigmoid to the predictions first.
    """

    def __init__(self, num_thresholds: int = 200, curve: str = "ROC",
                 summation_method: str = "interpolation", name: Optional[str] = None,
                 dtype: Any = None, thresholds: Optional[Sequence[float]] = None,
                 multi_label: bool = False, num_labels: Optional[int] = None,
                 label_weights: Optional[Sequence[float]] = None, from_logits: bool = False):
        super().__init__(name=name, dtype=dtype)
        self.curve = _parse_curve(curve)
        self.summation_method = _parse_summation(summation_method)
        self._init_from_thresholds = thresholds is not None
        inner = self._inner_thresholds(num_thresholds, thresholds)
        eps = config.epsilon()
        self._thresholds = np.array([0.0 - eps] + inner + [1.0 + eps])
        self.register_buffer("_threshold_values", torch.tensor(
            self._thresholds, dtype=self.torch_dtype), persistent=False)
        self.multi_label = bool(multi_label)
        self.num_labels = num_labels
        self.label_weights = self._check_label_weights(label_weights)
        self._from_logits = bool(from_logits)
        self._built = False
        if self.multi_label:
            if num_labels:
                self._build((None, num_labels))
        else:
            if num_labels:
                raise ValueError("`num_labels` is needed only when `multi_label` is True.")
            self._build(None)

    def _inner_thresholds(self, num_thresholds: int, thresholds: Optional[Sequence[float]]
                          ) -> List[float]:
        if thresholds is not None:
            inner = sorted(float(t) for t in parse_init_thresholds(list(thresholds)))
            self.num_thresholds = len(inner) + 2
            self._thresholds_distributed_evenly = is_evenly_distributed_thresholds(
                np.array([0.0] + inner + [1.0]))
            return inner
        if num_thresholds <= 1:
            raise ValueError("Argument `num_thresholds` must be an integer > 1. "
                             f"Received: num_thresholds={num_thresholds}")
        self.num_thresholds = int(num_thresholds)
        self._thresholds_distributed_evenly = True
        return [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]

    def _check_label_weights(self, label_weights: Optional[Sequence[float]]
                             ) -> Optional[torch.Tensor]:
        if label_weights is None:
            return None
        values = np.asarray(label_weights, dtype=np.float64)
        if (values < 0).any():
            raise ValueError("All values of `label_weights` must be non-negative. "
                             f"Received: label_weights={list(values)}")
        self.register_buffer("_label_weight_values", torch.tensor(
            values, dtype=self.torch_dtype), persistent=False)
        return self._label_weight_values

    @property
    def thresholds(self) -> List[float]:
        """The thresholds, including the end points -eps and 1 + eps."""
        return list(self._thresholds)

    def _build(self, shape: Optional[Tuple[Optional[int], ...]]) -> None:
        if self.multi_label:
            if shape is None or len(shape) != 2:
                raise ValueError("`y_pred` must have rank 2 when `multi_label=True`. Found "
                                 f"rank {None if shape is None else len(shape)}. Full shape "
                                 f"received for `y_pred`: {shape}")
            self._num_labels = int(shape[1])
            variable_shape = (self.num_thresholds, self._num_labels)
        else:
            variable_shape = (self.num_thresholds,)
        for name in (_TP, _TN, _FP, _FN):
            setattr(self, name, self.add_weight(name, shape=variable_shape))
        self._built = True

    def update_state(self, y_true: TensorLike, y_pred: TensorLike,
                     sample_weight: Optional[TensorLike] = None) -> None:
        """Adds this batch's confusion counts.

        Args:
            y_true: labels (non-zero = positive), same shape as ``y_pred``.
            y_pred: predictions in [0, 1] (or logits with ``from_logits``).
            sample_weight: optional weights.
        """
        y_pred = self._input(y_pred)
        y_true = self._input(y_true)
        if not self._built:
            self._build(tuple(y_pred.shape))
        if self.multi_label and (y_pred.dim() != 2 or y_pred.shape[1] != self._num_labels):
            raise ValueError(f"AUC with multi_label=True expects predictions of shape "
                             f"(batch, {self._num_labels}). Received: {tuple(y_pred.shape)}")
        if self._from_logits:
            y_pred = torch.sigmoid(y_pred)
        if sample_weight is not None:
            sample_weight = self._input(sample_weight)
        update_confusion_matrix_variables(
            {_TP: self.true_positives, _TN: self.true_negatives, _FP: self.false_positives,
             _FN: self.false_negatives}, y_true, y_pred, self._threshold_values,
            sample_weight=sample_weight, multi_label=self.multi_label,
            label_weights=None if self.multi_label else self.label_weights,
            thresholds_distributed_evenly=self._thresholds_distributed_evenly,
            thresholds_with_epsilon=True)

    def _average_over_labels(self, by_label: torch.Tensor) -> torch.Tensor:
        if self.label_weights is None:
            return torch.mean(by_label)
        weights = self.label_weights
        return _divide_no_nan(torch.sum(by_label * weights), torch.sum(weights))

    def interpolate_pr_auc(self) -> torch.Tensor:
        """PR AUC with Davis & Goadrich's interpolation between thresholds."""
        tp, fp, fn = self.true_positives, self.false_positives, self.false_negatives
        dtp = tp[:-1] - tp[1:]
        p = tp + fp
        dp = p[:-1] - p[1:]
        prec_slope = _divide_no_nan(dtp, torch.clamp(dp, min=0))
        intercept = tp[1:] - prec_slope * p[1:]
        safe_p_ratio = torch.where((p[:-1] > 0) & (p[1:] > 0),
                                   _divide_no_nan(p[:-1], torch.clamp(p[1:], min=0)),
                                   torch.ones_like(p[1:]))
        increment = _divide_no_nan(prec_slope * (dtp + intercept * torch.log(safe_p_ratio)),
                                   torch.clamp(tp[1:] + fn[1:], min=0))
        if self.multi_label:
            return self._average_over_labels(torch.sum(increment, dim=0))
        return torch.sum(increment)

    def result(self) -> torch.Tensor:
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self.interpolate_pr_auc()
        tp, fp = self.true_positives, self.false_positives
        tn, fn = self.true_negatives, self.false_negatives
        recall = _divide_no_nan(tp, tp + fn)
        if self.curve == "ROC":
            x, y = _divide_no_nan(fp, fp + tn), recall
        else:
            x, y = recall, _divide_no_nan(tp, tp + fp)
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2.0
        elif self.summation_method == "minoring":
            heights = torch.minimum(y[:-1], y[1:])
        else:
            heights = torch.maximum(y[:-1], y[1:])
        riemann_terms = (x[:-1] - x[1:]) * heights
        if self.multi_label:
            return self._average_over_labels(torch.sum(riemann_terms, dim=0))
        return torch.sum(riemann_terms)

    def reset_state(self) -> None:
        if self._built:
            super().reset_state()

    def get_config(self) -> Dict[str, Any]:
        label_weights = self.label_weights
        if isinstance(label_weights, torch.Tensor):
            label_weights = to_numpy(label_weights).tolist()
        cfg = {**super().get_config(), "num_thresholds": self.num_thresholds,
               "curve": self.curve, "summation_method": self.summation_method,
               "multi_label": self.multi_label, "num_labels": self.num_labels,
               "label_weights": label_weights, "from_logits": self._from_logits}
        if self._init_from_thresholds:
            cfg["thresholds"] = [float(t) for t in self.thresholds[1:-1]]
        return cfg
