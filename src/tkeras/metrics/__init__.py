"""Metrics (``keras.metrics``): metric functions and stateful metric objects on torch.

Metric functions (``binary_accuracy``, ``categorical_accuracy``, ``mse``, ...) return one
value per sample. Metric objects (``Mean``, ``AUC``, ``Precision``, ...) are
``torch.nn.Module``s that accumulate state over batches: ``update_state(y_true, y_pred,
sample_weight=None)``, ``result()`` (a 0-d tensor), ``reset_state()``. Their state lives in
registered buffers, so ``metric.to(device)`` moves it and ``state_dict()`` sees it; every
update is pure torch on the device (no host reads), so metrics run inside the training step.

Example:
    >>> m = tkeras.metrics.AUC()
    >>> m.update_state([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    >>> float(m.result())
    0.75
"""
from __future__ import annotations

from typing import Any, Mapping, Optional

from ..losses import check_sparse_labels, squeeze_or_expand_dimensions  # noqa: F401 - the public names of tkeras.metrics

# deserialize_keras_object / serialize_keras_object: public names of Keras 2.3.1's module
from ..saving.object_registration import deserialize_keras_object, serialize_keras_object  # noqa: F401
from .accuracy_metrics import (  # noqa: F401 - the public names of tkeras.metrics
    Accuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    SparseCategoricalAccuracy,
    SparseTopKCategoricalAccuracy,
    TopKCategoricalAccuracy,
)
from .base import _OBJECTS, Metric, MetricVariable, TensorLike  # noqa: F401 - the public names of tkeras.metrics
from .confusion_metrics import (  # noqa: F401 - the public names of tkeras.metrics
    AUC,
    FalseNegatives,
    FalsePositives,
    Precision,
    Recall,
    TrueNegatives,
    TruePositives,
    is_evenly_distributed_thresholds,
    parse_init_thresholds,
    update_confusion_matrix_variables,
)
from .functions import (  # noqa: F401 - the public names of tkeras.metrics
    _ALIASES,
    _FUNCTIONS,
    ACC,
    BCE,
    KLD,
    MAE,
    MAPE,
    MSE,
    MSLE,
    acc,
    accuracy,
    bce,
    binary_accuracy,
    binary_crossentropy,
    binary_focal_crossentropy,
    binary_matches,
    categorical_accuracy,
    categorical_crossentropy,
    categorical_focal_crossentropy,
    categorical_hinge,
    cosine,
    cosine_proximity,
    cosine_similarity,
    hinge,
    kl_divergence,
    kld,
    kullback_leibler_divergence,
    log_cosh,
    logcosh,
    mae,
    mape,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
    mse,
    msle,
    poisson,
    sparse_categorical_accuracy,
    sparse_categorical_crossentropy,
    sparse_categorical_matches,
    sparse_top_k_categorical_accuracy,
    sparse_top_k_categorical_matches,
    squared_hinge,
    top_k_categorical_accuracy,
)
from .hinge_metrics import CategoricalHinge, Hinge, SquaredHinge  # noqa: F401 - the public names of tkeras.metrics
from .iou_metrics import BaseMeanIoU, IoU, MeanIoU  # noqa: F401 - the public names of tkeras.metrics
from .probabilistic_metrics import (  # noqa: F401 - the public names of tkeras.metrics
    BinaryCrossentropy,
    CategoricalCrossentropy,
    KLDivergence,
    Poisson,
    SparseCategoricalCrossentropy,
)
from .reduction_metrics import Mean, MeanMetricWrapper, Reduce, Sum  # noqa: F401 - the public names of tkeras.metrics
from .regression_metrics import (  # noqa: F401 - the public names of tkeras.metrics
    CosineSimilarity,
    LogCoshError,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    RootMeanSquaredError,
)
from .sensitivity_metrics import (  # noqa: F401 - the public names of tkeras.metrics
    SensitivityAtSpecificity,
    SensitivitySpecificityBase,
    SpecificityAtSensitivity,
)

# =================================================================== lookup

# The Metric classes registered themselves as defined; the functions and Keras's aliases:
_OBJECTS.register(Metric)
for _fn in _FUNCTIONS:
    _OBJECTS.register(_fn)
_OBJECTS.update(_ALIASES)


def serialize(metric: Any, use_legacy_format: bool = False) -> Any:
    """``metric`` as tf-keras writes it: a function's name, or a ``Metric``'s
    ``{"module", "class_name", "config", "registered_name"}`` (``use_legacy_format`` is
    accepted for compatibility; the output is the same)."""
    del use_legacy_format
    return _OBJECTS.serialize(metric)


def deserialize(config_: Any, custom_objects: Optional[Mapping[str, Any]] = None,
                use_legacy_format: bool = False) -> Any:
    """The metric function or ``Metric`` that ``config_``, a name (``"acc"``, ``"AUC"``) or
    a config dict, describes; ``custom_objects`` maps names to user metrics
    (``use_legacy_format`` is accepted for compatibility). An unknown name raises
    ``ValueError: Unknown metric function: 'name'...``."""
    del use_legacy_format
    return _OBJECTS.deserialize(config_, custom_objects)


def get(identifier: Any) -> Any:
    """Resolves a metric identifier: a name (functions, aliases, class names) or config dict
    through ``deserialize``; a ``Metric`` instance or a callable ``f(y_true, y_pred)`` is
    returned as is; anything else (None too) raises ``ValueError``.

    ``"acc"`` / ``"accuracy"`` give the generic ``accuracy`` function; ``compile`` turns it
    into binary, categorical or sparse accuracy.
    """
    if identifier is None:  # unlike the other kinds' get (as in Keras 2)
        raise ValueError("Could not interpret metric identifier: None")
    return _OBJECTS.get_object(identifier)


def clone_metric(metric: Any) -> Any:
    """A fresh copy (same config, new state) of a ``Metric``; anything else as is.

    Example:
        >>> clone_metric(tkeras.metrics.AUC(name="auc")).name
        'auc'
    """
    if isinstance(metric, Metric):
        return metric.__class__.from_config(metric.get_config())
    return metric


def clone_metrics(metrics: Any) -> Any:
    """``clone_metric`` over a list or a dict of metrics (None stays None)."""
    if metrics is None:
        return None
    if isinstance(metrics, dict):
        return {key: clone_metric(value) for key, value in metrics.items()}
    return [clone_metric(metric) for metric in metrics]


__all__ = sorted(set(_OBJECTS) | {"BaseMeanIoU", "SensitivitySpecificityBase", "clone_metric",
                                   "clone_metrics", "MetricVariable", "get", "serialize", "deserialize",
                                   "check_sparse_labels", "update_confusion_matrix_variables",
                                   "parse_init_thresholds", "is_evenly_distributed_thresholds"})
