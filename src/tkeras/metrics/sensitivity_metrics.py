"""Keras 2.3.1's sensitivity / specificity metrics (``SensitivityAtSpecificity``,
``SpecificityAtSensitivity``), on the confusion-matrix counts at evenly spread thresholds."""
from __future__ import annotations

from typing import Any, Dict, Optional

import torch

from .base import TensorLike, _divide_no_nan
from .confusion_metrics import _FN, _FP, _TN, _TP, _ThresholdMetric


class SensitivitySpecificityBase(_ThresholdMetric):
    """Counts TP / TN / FP / FN at ``num_thresholds`` thresholds evenly spread over [0, 1].

    Args:
        value: the target sensitivity or specificity.
        num_thresholds: number of thresholds (> 0; 1 means the single threshold 0.5).
        name: the metric's name.
        dtype: the state dtype.
    """

    def __init__(self, value: float, num_thresholds: int = 200, name: Optional[str] = None,
                 dtype: Any = None):
        super().__init__(name=name, dtype=dtype)
        if num_thresholds <= 0:
            raise ValueError(f"`num_thresholds` must be > 0. Received: num_thresholds={num_thresholds}")
        self.value = value
        if num_thresholds == 1:
            thresholds = [0.5]
        else:
            thresholds = ([0.0] + [(i + 1) * 1.0 / (num_thresholds - 1)
                                   for i in range(num_thresholds - 2)] + [1.0])
        self._set_thresholds(thresholds)
        for name_ in (_TP, _TN, _FP, _FN):
            setattr(self, name_, self.add_weight(name_, shape=(num_thresholds,)))

    def update_state(self, y_true: TensorLike, y_pred: TensorLike,
                     sample_weight: Optional[TensorLike] = None) -> None:
        """Counts this batch.

        Args:
            y_true: labels (non-zero = positive).
            y_pred: predictions in [0, 1].
            sample_weight: optional weights.
        """
        self._count({_TP: self.true_positives, _TN: self.true_negatives,
                     _FP: self.false_positives, _FN: self.false_negatives},
                    y_true, y_pred, sample_weight)

    @staticmethod
    def _at_closest(rates: torch.Tensor, target: float, num: torch.Tensor,
                    other: torch.Tensor) -> torch.Tensor:
        """``num / (num + other)`` at the first threshold whose rate is closest to ``target``."""
        index = torch.argmin(torch.abs(rates - target))
        return _divide_no_nan(num[index], num[index] + other[index])


class SensitivityAtSpecificity(SensitivitySpecificityBase):
    """The sensitivity (``tp / (tp + fn)``) at the threshold whose specificity
    (``tn / (tn + fp)``) is closest to ``specificity`` (Keras 2.3.1's rule).

    Args:
        specificity: a value in [0, 1].
        num_thresholds: number of thresholds used to match the specificity (default 200).
        name: the metric's name.
        dtype: the state dtype.

    Example:
        >>> m = SensitivityAtSpecificity(0.5, num_thresholds=1)
        >>> m.update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9])
        >>> float(m.result())
        0.5
    """

    def __init__(self, specificity: float, num_thresholds: int = 200,
                 name: Optional[str] = None, dtype: Any = None):
        if specificity < 0 or specificity > 1:
            raise ValueError("`specificity` must be in the range [0, 1]. "
                             f"Received: specificity={specificity}")
        self.specificity = specificity
        self.num_thresholds = num_thresholds
        super().__init__(specificity, num_thresholds=num_thresholds, name=name, dtype=dtype)

    def result(self) -> torch.Tensor:
        specificities = _divide_no_nan(self.true_negatives,
                                       self.true_negatives + self.false_positives)
        return self._at_closest(specificities, self.value, self.true_positives,
                                self.false_negatives)

    def get_config(self) -> Dict[str, Any]:
        return {**super().get_config(), "num_thresholds": self.num_thresholds,
                "specificity": self.specificity}


class SpecificityAtSensitivity(SensitivitySpecificityBase):
    """The specificity (``tn / (tn + fp)``) at the threshold whose sensitivity
    (``tp / (tp + fn)``) is closest to ``sensitivity`` (Keras 2.3.1's rule).

    Args:
        sensitivity: a value in [0, 1].
        num_thresholds: number of thresholds used to match the sensitivity (default 200).
        name: the metric's name.
        dtype: the state dtype.

    Example:
        >>> m = SpecificityAtSensitivity(0.5, num_thresholds=1)
        >>> m.update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9])
        >>> float(m.result())
        1.0
    """

    def __init__(self, sensitivity: float, num_thresholds: int = 200,
                 name: Optional[str] = None, dtype: Any = None):
        if sensitivity < 0 or sensitivity > 1:
            raise ValueError("`sensitivity` must be in the range [0, 1]. "
                             f"Received: sensitivity={sensitivity}")
        self.sensitivity = sensitivity
        self.num_thresholds = num_thresholds
        super().__init__(sensitivity, num_thresholds=num_thresholds, name=name, dtype=dtype)

    def result(self) -> torch.Tensor:
        sensitivities = _divide_no_nan(self.true_positives,
                                       self.true_positives + self.false_negatives)
        return self._at_closest(sensitivities, self.value, self.true_negatives,
                                self.false_positives)

    def get_config(self) -> Dict[str, Any]:
        return {**super().get_config(), "num_thresholds": self.num_thresholds,
                "sensitivity": self.sensitivity}
