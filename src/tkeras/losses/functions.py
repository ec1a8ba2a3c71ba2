"""The loss functions (``mean_squared_error(y_true, y_pred)``, ...) and their Keras 2 aliases:
one value per sample. Called on symbolic tensors they record one graph node."""
from __future__ import annotations

import math
from typing import Any, Optional

import torch
import torch.nn.functional as F

from .. import backend as K
from ..backend import config
from ..backend import dispatch as _symbolic
from .base import (
    TensorLike,
    _float_pred,
    _l2_normalize,
    _maybe_convert_labels,
    _mean_last,
    _smooth_binary_labels,
    _smooth_categorical_labels,
    _to_tensor,
    _true_pred,
    _warn_single_class,
    check_sparse_labels,
)

# =================================================================== loss functions

def mean_squared_error(y_true: TensorLike, y_pred: TensorLike) -> torch.Tensor:
    """``mean(square(y_true - y_pred), axis=-1)``.

    Args:
        y_true: targets, shape ``(batch, d0, .. dN)``.
        y_pred: predictions, same shape.

    Returns:
        Per-sample losses, shape ``(batch, d0, .. dN-1)``.
    """
    y_true, y_pred = _true_pred(y_true, y_pred)
    return _mean_last(torch.square(y_pred - y_true))


def mean_absolute_error(y_true: TensorLike, y_pred: TensorLike) -> torch.Tensor:
    """``mean(abs(y_true - y_pred), axis=-1)``.

    Args:
        y_true: targets.
        y_pred: predictions, same shape.
    """
    y_true, y_pred = _true_pred(y_true, y_pred)
    return _mean_last(torch.abs(y_pred - y_true))


def mean_absolute_percentage_error(y_true: TensorLike, y_pred: TensorLike) -> torch.Tensor:
    """``100 * mean(abs((y_true - y_pred) / max(abs(y_true), epsilon)), axis=-1)``.

    Args:
        y_true: targets.
        y_pred: predictions, same shape.
    """
    y_true, y_pred = _true_pred(y_true, y_pred)
    diff = torch.abs((y_true - y_pred) / torch.clamp(torch.abs(y_true), min=config.epsilon()))
    return 100.0 * _mean_last(diff)


def mean_squared_logarithmic_error(y_true: TensorLike, y_pred: TensorLike) -> torch.Tensor:
    """``mean(square(log(max(y_pred, eps) + 1) - log(max(y_true, eps) + 1)), axis=-1)``.

    Args:
        y_true: targets.
        y_pred: predictions, same shape.
    """
    y_true, y_pred = _true_pred(y_true, y_pred)
    eps = config.epsilon()
    first_log = torch.log(torch.clamp(y_pred, min=eps) + 1.0)
    second_log = torch.log(torch.clamp(y_true, min=eps) + 1.0)
    return _mean_last(torch.square(first_log - second_log))


def squared_hinge(y_true: TensorLike, y_pred: TensorLike) -> torch.Tensor:
    """``mean(square(max(1 - y_true * y_pred, 0)), axis=-1)``; 0/1 labels become -1/1.

    Args:
        y_true: -1/1 (or 0/1) targets.
        y_pred: predictions, same shape.
    """
    y_true, y_pred = _true_pred(y_true, y_pred)
    y_true = _maybe_convert_labels(y_true)
    return _mean_last(torch.square(torch.clamp(1.0 - y_true * y_pred, min=0.0)))


def hinge(y_true: TensorLike, y_pred: TensorLike) -> torch.Tensor:
    """``mean(max(1 - y_true * y_pred, 0), axis=-1)``; 0/1 labels become -1/1.

    Args:
        y_true: -1/1 (or 0/1) targets.
        y_pred: predictions, same shape.
    """
    y_true, y_pred = _true_pred(y_true, y_pred)
    y_true = _maybe_convert_labels(y_true)
    return _mean_last(torch.clamp(1.0 - y_true * y_pred, min=0.0))


def categorical_hinge(y_true: TensorLike, y_pred: TensorLike) -> torch.Tensor:
    """``max(neg - pos + 1, 0)`` with ``pos = sum(y_true * y_pred)`` and
    ``neg = max((1 - y_true) * y_pred)`` over the last axis.

    Args:
        y_true: one-hot targets.
        y_pred: predictions, same shape.
    """
    y_true, y_pred = _true_pred(y_true, y_pred)
    pos = torch.sum(y_true * y_pred, dim=-1)
    neg = torch.amax((1.0 - y_true) * y_pred, dim=-1)
    return torch.clamp(neg - pos + 1.0, min=0.0)


def huber(y_true: TensorLike, y_pred: TensorLike, delta: float = 1.0) -> torch.Tensor:
    """Huber loss, averaged over the last axis: ``0.5 * x**2`` where ``|x| <= delta``,
    else ``delta * |x| - 0.5 * delta**2``, with ``x = y_pred - y_true``.

    Args:
        y_true: targets.
        y_pred: predictions, same shape.
        delta: the point where the loss turns from quadratic to linear.
    """
    y_true, y_pred = _true_pred(y_true, y_pred)
    error = y_pred - y_true
    abs_error = torch.abs(error)
    quadratic = 0.5 * torch.square(error)
    linear = delta * abs_error - 0.5 * (delta * delta)
    return _mean_last(torch.where(abs_error <= delta, quadratic, linear))


def log_cosh(y_true: TensorLike, y_pred: TensorLike) -> torch.Tensor:
    """``mean(log(cosh(y_pred - y_true)), axis=-1)``, computed without overflow as
    ``x + softplus(-2x) - log(2)``.

    Args:
        y_true: targets.
        y_pred: predictions, same shape.
    """
    y_true, y_pred = _true_pred(y_true, y_pred)
    x = y_pred - y_true
    return _mean_last(x + F.softplus(-2.0 * x) - math.log(2.0))


def categorical_crossentropy(y_true: TensorLike, y_pred: TensorLike, from_logits: bool = False,
                             label_smoothing: float = 0.0, axis: int = -1) -> torch.Tensor:
    """Categorical cross-entropy per sample.

    Probabilities are divided by their sum over ``axis`` and clipped to
    ``[epsilon, 1 - epsilon]``; label smoothing turns ``y_true`` into
    ``y_true * (1 - ls) + ls / num_classes``.

    Args:
        y_true: one-hot (or soft) targets.
        y_pred: probabilities, or logits with ``from_logits=True``.
        from_logits: whether ``y_pred`` holds logits.
        label_smoothing: a float in [0, 1].
        axis: the class axis.
    """
    if isinstance(axis, bool):
        raise ValueError(f"`axis` must be of type `int`. Received: axis={axis} of type "
                         f"{type(axis)}")
    y_true, y_pred = _true_pred(y_true, y_pred)
    _warn_single_class(y_pred, "categorical_crossentropy")
    y_true = _smooth_categorical_labels(y_true, label_smoothing)
    return K.categorical_crossentropy(y_true, y_pred, from_logits=from_logits, axis=axis)


def categorical_focal_crossentropy(y_true: TensorLike, y_pred: TensorLike, alpha: Any = 0.25,
                                   gamma: float = 2.0, from_logits: bool = False,
                                   label_smoothing: float = 0.0, axis: int = -1
                                   ) -> torch.Tensor:
    """Categorical focal cross-entropy per sample:
    ``sum(alpha * (1 - p) ** gamma * -y_true * log(p), axis)``.

    Args:
        y_true: one-hot (or soft) targets.
        y_pred: probabilities, or logits with ``from_logits=True``.
        alpha: weighting factor (a number or one per class).
        gamma: focusing parameter.
        from_logits: whether ``y_pred`` holds logits.
        label_smoothing: a float in [0, 1].
        axis: the class axis.
    """
    if isinstance(axis, bool):
        raise ValueError(f"`axis` must be of type `int`. Received: axis={axis} of type "
                         f"{type(axis)}")
    y_true, y_pred = _true_pred(y_true, y_pred)
    _warn_single_class(y_pred, "categorical_focal_crossentropy")
    y_true = _smooth_categorical_labels(y_true, label_smoothing)
    return K.categorical_focal_crossentropy(y_true, y_pred, alpha=alpha, gamma=gamma,
                                            from_logits=from_logits, axis=axis)


def sparse_categorical_crossentropy(y_true: TensorLike, y_pred: TensorLike,
                                    from_logits: bool = False, axis: int = -1,
                                    ignore_class: Optional[int] = None) -> torch.Tensor:
    """Categorical cross-entropy with integer labels.

    Labels of shape ``(batch,)`` or ``(batch, 1)`` go with ``y_pred (batch, classes)``;
    ``(batch, steps[, 1])`` with ``(batch, steps, classes)``. On CPU tensors labels outside
    ``[0, classes)`` raise a ValueError (see ``check_sparse_labels``); on other devices no
    check runs, so the step never waits for the device.

    Args:
        y_true: integer class indices.
        y_pred: probabilities, or logits with ``from_logits=True``.
        from_logits: whether ``y_pred`` holds logits.
        axis: the class axis of ``y_pred``.
        ignore_class: a label whose entries get loss 0 and are masked out of the mean.
    """
    y_pred = _float_pred(y_pred)
    y_true = _to_tensor(y_true, like=y_pred)
    if y_true.device.type == "cpu" and y_pred.dim() > 0:
        check_sparse_labels(y_true, y_pred.shape[axis], ignore_class)
    return K.sparse_categorical_crossentropy(y_true, y_pred, from_logits=from_logits, axis=axis,
                                             ignore_class=ignore_class)


def binary_crossentropy(y_true: TensorLike, y_pred: TensorLike, from_logits: bool = False,
                        label_smoothing: float = 0.0, axis: int = -1) -> torch.Tensor:
    """Binary cross-entropy, averaged over ``axis``.

    On probabilities: ``-(y * log(p + eps) + (1 - y) * log(1 - p + eps))`` after clipping
    ``p`` to ``[eps, 1 - eps]``; label smoothing gives ``y * (1 - ls) + 0.5 * ls``.

    Args:
        y_true: targets in [0, 1].
        y_pred: probabilities, or logits with ``from_logits=True``.
        from_logits: whether ``y_pred`` holds logits.
        label_smoothing: a float in [0, 1].
        axis: the axis averaged over.
    """
    y_true, y_pred = _true_pred(y_true, y_pred)
    y_true = _smooth_binary_labels(y_true, label_smoothing)
    return _mean_last(K.binary_crossentropy(y_true, y_pred, from_logits=from_logits), axis)


def binary_focal_crossentropy(y_true: TensorLike, y_pred: TensorLike,
                              apply_class_balancing: bool = False, alpha: float = 0.25,
                              gamma: float = 2.0, from_logits: bool = False,
                              label_smoothing: float = 0.0, axis: int = -1) -> torch.Tensor:
    """Binary focal cross-entropy ``(1 - p_t) ** gamma * bce``, averaged over ``axis``.

    Args:
        y_true: targets in [0, 1].
        y_pred: probabilities, or logits with ``from_logits=True``.
        apply_class_balancing: weight class 1 by ``alpha`` and class 0 by ``1 - alpha``.
        alpha: class-balancing weight.
        gamma: focusing parameter.
        from_logits: whether ``y_pred`` holds logits.
        label_smoothing: a float in [0, 1].
        axis: the axis averaged over.
    """
    y_true, y_pred = _true_pred(y_true, y_pred)
    y_true = _smooth_binary_labels(y_true, label_smoothing)
    focal = K.binary_focal_crossentropy(y_true, y_pred, apply_class_balancing=apply_class_balancing,
                                        alpha=alpha, gamma=gamma, from_logits=from_logits)
    return _mean_last(focal, axis)


def kl_divergence(y_true: TensorLike, y_pred: TensorLike) -> torch.Tensor:
    """``sum(y_true * log(y_true / y_pred), axis=-1)``, both clipped to ``[epsilon, 1]``.

    Args:
        y_true: target distribution.
        y_pred: predicted distribution, same shape.
    """
    y_true, y_pred = _true_pred(y_true, y_pred)
    eps = config.epsilon()
    y_true = torch.clamp(y_true, eps, 1.0)
    y_pred = torch.clamp(y_pred, eps, 1.0)
    return torch.sum(y_true * torch.log(y_true / y_pred), dim=-1)


def poisson(y_true: TensorLike, y_pred: TensorLike) -> torch.Tensor:
    """``mean(y_pred - y_true * log(y_pred + epsilon), axis=-1)``.

    Args:
        y_true: targets.
        y_pred: predicted rates, same shape.
    """
    y_true, y_pred = _true_pred(y_true, y_pred)
    return _mean_last(y_pred - y_true * torch.log(y_pred + config.epsilon()))


def cosine_similarity(y_true: TensorLike, y_pred: TensorLike, axis: int = -1) -> torch.Tensor:
    """The *negative* cosine similarity along ``axis`` (a loss to minimise: -1 is best).

    Each argument is l2-normalised with the squared norm floored at 1e-12.

    Args:
        y_true: targets.
        y_pred: predictions, same shape.
        axis: the axis along which the similarity is computed.
    """
    y_true, y_pred = _true_pred(y_true, y_pred)
    return -torch.sum(_l2_normalize(y_true, axis) * _l2_normalize(y_pred, axis), dim=axis)


# Keras 2 aliases
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kullback_leibler_divergence = kl_divergence
logcosh = log_cosh
huber_loss = huber
bce = BCE = binary_crossentropy
cosine_proximity = cosine = cosine_similarity


# =================================================================== lookup tables

_FUNCTIONS = (
    mean_squared_error, mean_absolute_error, mean_absolute_percentage_error,
    mean_squared_logarithmic_error, squared_hinge, hinge, categorical_hinge, huber, log_cosh,
    categorical_crossentropy, categorical_focal_crossentropy, sparse_categorical_crossentropy,
    binary_crossentropy, binary_focal_crossentropy, kl_divergence, poisson, cosine_similarity,
)
_ALIASES = {
    "mse": mse, "MSE": MSE, "mae": mae, "MAE": MAE, "mape": mape, "MAPE": MAPE,
    "msle": msle, "MSLE": MSLE, "kld": kld, "KLD": KLD,
    "kullback_leibler_divergence": kullback_leibler_divergence, "logcosh": logcosh,
    "huber_loss": huber_loss, "bce": bce, "BCE": BCE, "cosine_proximity": cosine_proximity,
    "cosine": cosine,
}


# Called on symbolic tensors, these functions record one graph node (tkeras.backend.dispatch).
# They are wrapped here, where they are defined, so the loss classes and the package's lookup
# table import the wrapped functions.
_symbolic.wrap_functions(globals(), _FUNCTIONS, "losses", _ALIASES)
_FUNCTIONS = tuple(globals()[fn.__name__] for fn in _FUNCTIONS)
