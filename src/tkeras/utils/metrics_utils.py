"""Keras 2.3.1's ``keras.utils.metrics_utils``: the helpers the threshold metrics share."""
from __future__ import annotations

from enum import Enum
from typing import Any, List

from ..metrics import parse_init_thresholds, update_confusion_matrix_variables
from ..metrics.confusion_metrics import _filter_top_k as filter_top_k

__all__ = ["Reduction", "ConfusionMatrix", "AUCCurve", "AUCSummationMethod", "to_list",
           "filter_top_k", "parse_init_thresholds", "update_confusion_matrix_variables"]


class Reduction:
    """How a ``Reduce`` metric combines values: ``sum``, ``sum_over_batch_size``, ``weighted_mean``."""
    SUM = "sum"
    SUM_OVER_BATCH_SIZE = "sum_over_batch_size"
    WEIGHTED_MEAN = "weighted_mean"


class ConfusionMatrix(Enum):
    """The four confusion-matrix cells, by their variable names."""
    TRUE_POSITIVES = "true_positives"
    FALSE_POSITIVES = "false_positives"
    TRUE_NEGATIVES = "true_negatives"
    FALSE_NEGATIVES = "false_negatives"


class AUCCurve(Enum):
    """The curves ``AUC`` integrates."""
    ROC = "ROC"
    PR = "PR"

    @staticmethod
    def from_str(key: str) -> "AUCCurve":
        if key in ("pr", "PR"):
            return AUCCurve.PR
        if key in ("roc", "ROC"):
            return AUCCurve.ROC
        raise ValueError(f'Invalid AUC curve value "{key}".')


class AUCSummationMethod(Enum):
    """How ``AUC`` sums the curve."""
    INTERPOLATION = "interpolation"
    MAJORING = "majoring"
    MINORING = "minoring"

    @staticmethod
    def from_str(key: str) -> "AUCSummationMethod":
        for method in AUCSummationMethod:
            if key in (method.value, method.value.capitalize()):
                return method
        raise ValueError(f'Invalid AUC summation method value "{key}".')


def to_list(x: Any) -> List[Any]:
    """``x`` as a list (a list stays as is)."""
    return x if isinstance(x, list) else [x]
