"""The metric functions (``binary_accuracy(y_true, y_pred)``, ...): one value per sample.

The loss functions that Keras also lists as metrics (``mse``, ``binary_crossentropy``, ...)
are re-exported under their names. Called on symbolic tensors, every one records a graph node."""
from __future__ import annotations

import torch

from .. import backend as K
from .. import losses as _losses
from ..backend import config
from ..backend import dispatch as _symbolic
from ..losses import (
    BCE,
    KLD,
    MAE,
    MAPE,
    MSE,
    MSLE,
    _to_tensor,
    bce,
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_crossentropy,
    categorical_focal_crossentropy,
    categorical_hinge,
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
    sparse_categorical_crossentropy,
    squared_hinge,
)
from .base import TensorLike

# =================================================================== metric functions

def _floatx() -> torch.dtype:
    return config.torch_dtype(None)


def accuracy(y_true: TensorLike, y_pred: TensorLike) -> torch.Tensor:
    """Element-wise equality of ``y_true`` and ``y_pred`` as floats (1.0 where equal).

    Keras's generic ``metrics.accuracy``; ``compile(metrics=["accuracy"])`` picks binary,
    categorical or sparse accuracy instead, from the loss and the output shape.

    Args:
        y_true: targets.
        y_pred: predictions, same shape.
    """
    y_pred = _to_tensor(y_pred)
    y_true = _to_tensor(y_true, like=y_pred)
    if tuple(y_true.shape) != tuple(y_pred.shape):
        raise ValueError(f"`accuracy`: Shapes {tuple(y_true.shape)} and {tuple(y_pred.shape)} "
                         "are incompatible (y_true and y_pred must have the same shape).")
    if y_true.dtype != y_pred.dtype:
        y_pred = y_pred.to(y_true.dtype)
    return (y_true == y_pred).to(_floatx())


def binary_matches(y_true: TensorLike, y_pred: TensorLike, threshold: float = 0.5
                   ) -> torch.Tensor:
    """Element-wise ``y_true == (y_pred > threshold)`` as floats (what ``BinaryAccuracy``
    averages, so its state counts elements, as in tf-keras).

    Args:
        y_true: 0/1 targets.
        y_pred: probabilities, same shape.
        threshold: the decision threshold.
    """
    y_true, y_pred = _losses._true_pred(y_true, y_pred)
    y_pred = (y_pred > threshold).to(y_pred.dtype)
    return (y_true == y_pred).to(_floatx())


def binary_accuracy(y_true: TensorLike, y_pred: TensorLike, threshold: float = 0.5
                    ) -> torch.Tensor:
    """Mean over the last axis of ``y_true == (y_pred > threshold)``.

    Args:
        y_true: 0/1 targets.
        y_pred: probabilities, same shape.
        threshold: the decision threshold.
    """
    return torch.mean(binary_matches(y_true, y_pred, threshold), dim=-1)


def sparse_categorical_matches(y_true: TensorLike, y_pred: TensorLike) -> torch.Tensor:
    """1.0 where ``argmax(y_pred, -1) == y_true``, in the shape of ``y_true`` (labels may
    carry a trailing axis of 1). ``SparseCategoricalAccuracy`` averages these.

    Args:
        y_true: integer labels.
        y_pred: scores with one more axis (classes last).
    """
    y_pred = _to_tensor(y_pred)
    y_true = _to_tensor(y_true, like=y_pred)
    original_shape = y_true.shape
    reshape_matches = y_true.dim() == y_pred.dim()
    if reshape_matches:
        if y_true.shape[-1] != 1:
            raise ValueError(
                "Sparse labels must have one axis fewer than the predictions, or a last axis "
                f"of size 1. Received: y_true.shape={tuple(y_true.shape)}, "
                f"y_pred.shape={tuple(y_pred.shape)}")
        y_true = y_true.squeeze(-1)
    predicted = torch.argmax(y_pred, dim=-1)
    if predicted.dtype != y_true.dtype:
        predicted = predicted.to(y_true.dtype)
    matches = (y_true == predicted).to(_floatx())
    return matches.reshape(original_shape) if reshape_matches else matches


def _squeeze_last_unit_axis(matches: torch.Tensor) -> torch.Tensor:
    if matches.dim() > 1 and matches.shape[-1] == 1:
        return matches.squeeze(-1)
    return matches


def categorical_accuracy(y_true: TensorLike, y_pred: TensorLike) -> torch.Tensor:
    """1.0 where the arg-max of ``y_true`` equals the arg-max of ``y_pred`` (first index on
    ties).

    Args:
        y_true: one-hot targets.
        y_pred: scores, same shape.
    """
    y_pred = _to_tensor(y_pred)
    y_true = _to_tensor(y_true, like=y_pred)
    return sparse_categorical_matches(torch.argmax(y_true, dim=-1), y_pred)


def sparse_categorical_accuracy(y_true: TensorLike, y_pred: TensorLike) -> torch.Tensor:
    """1.0 where the integer label equals ``argmax(y_pred, -1)``.

    Args:
        y_true: labels of shape ``(batch,)`` or ``(batch, 1)`` (or one axis fewer than
            ``y_pred`` in general).
        y_pred: scores ``(batch, classes)``.
    """
    return _squeeze_last_unit_axis(sparse_categorical_matches(y_true, y_pred))


def sparse_top_k_categorical_matches(y_true: TensorLike, y_pred: TensorLike, k: int = 5
                                     ) -> torch.Tensor:
    """1.0 where the label is among the ``k`` largest scores (ties at the boundary count),
    in the shape of ``y_true``.

    Args:
        y_true: integer labels.
        y_pred: scores with one more axis (classes last).
        k: how many top predictions count.
    """
    y_pred = _to_tensor(y_pred)
    y_true = _to_tensor(y_true, like=y_pred)
    original_shape = y_true.shape
    if y_pred.dim() > 2:
        y_pred = y_pred.reshape(-1, y_pred.shape[-1])
    reshape_matches = y_true.dim() > 1
    if reshape_matches:
        y_true = y_true.reshape(-1)
    matches = K.in_top_k(y_pred, y_true.long(), k).to(_floatx())
    return matches.reshape(original_shape) if reshape_matches else matches


def _top_k_categorical_matches(y_true: TensorLike, y_pred: TensorLike, k: int = 5
                               ) -> torch.Tensor:
    y_pred = _to_tensor(y_pred)
    y_true = _to_tensor(y_true, like=y_pred)
    return sparse_top_k_categorical_matches(torch.argmax(y_true, dim=-1), y_pred, k)


def top_k_categorical_accuracy(y_true: TensorLike, y_pred: TensorLike, k: int = 5
                               ) -> torch.Tensor:
    """1.0 where the arg-max of the one-hot ``y_true`` is among the top ``k`` predictions.

    Args:
        y_true: one-hot targets.
        y_pred: scores, same shape.
        k: how many top predictions count.
    """
    return _top_k_categorical_matches(y_true, y_pred, k)


def sparse_top_k_categorical_accuracy(y_true: TensorLike, y_pred: TensorLike, k: int = 5
                                      ) -> torch.Tensor:
    """1.0 where the integer label is among the top ``k`` predictions.

    Args:
        y_true: integer labels ``(batch,)`` or ``(batch, 1)``.
        y_pred: scores ``(batch, classes)``.
        k: how many top predictions count.
    """
    return _squeeze_last_unit_axis(sparse_top_k_categorical_matches(y_true, y_pred, k))


def cosine_similarity(y_true: TensorLike, y_pred: TensorLike, axis: int = -1) -> torch.Tensor:
    """The cosine similarity along ``axis`` (1 is best; the loss of the same name is its
    negative).

    Args:
        y_true: targets.
        y_pred: predictions, same shape.
        axis: the axis along which the similarity is computed.
    """
    return -_losses.cosine_similarity(y_true, y_pred, axis=axis)


# Keras aliases (tf-keras: ``cosine_proximity`` is the positive similarity)
acc = ACC = accuracy
cosine_proximity = cosine = cosine_similarity


# =================================================================== lookup tables

_FUNCTIONS = (
    accuracy, binary_accuracy, categorical_accuracy, sparse_categorical_accuracy,
    top_k_categorical_accuracy, sparse_top_k_categorical_accuracy, cosine_similarity,
    mean_squared_error, mean_absolute_error, mean_absolute_percentage_error,
    mean_squared_logarithmic_error, binary_crossentropy, binary_focal_crossentropy,
    categorical_crossentropy, categorical_focal_crossentropy, sparse_categorical_crossentropy,
    kl_divergence, poisson, hinge, squared_hinge, categorical_hinge, log_cosh,
)
_ALIASES = {
    "acc": acc, "ACC": ACC, "bce": bce, "BCE": BCE, "mse": mse, "MSE": MSE, "mae": mae,
    "MAE": MAE, "mape": mape, "MAPE": MAPE, "msle": msle, "MSLE": MSLE, "kld": kld, "KLD": KLD,
    "kullback_leibler_divergence": kullback_leibler_divergence, "logcosh": logcosh,
    "cosine_proximity": cosine_proximity, "cosine": cosine,
}


# Called on symbolic tensors, these functions record one graph node (tkeras.backend.dispatch).
# They are wrapped here, where they are defined, so the metric classes and the package's lookup
# table import the wrapped functions (the loss functions among them come wrapped from losses).
_symbolic.wrap_functions(globals(), _FUNCTIONS, "metrics", _ALIASES)
_FUNCTIONS = tuple(globals()[fn.__name__] for fn in _FUNCTIONS)
