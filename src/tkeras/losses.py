"""Loss functions and loss classes (``keras.losses``), with tf-keras 2.x semantics.

Functions such as ``mean_squared_error(y_true, y_pred)`` return one value per sample (the
mean over the last axis for element-wise losses, so a ``(batch, steps, units)`` input gives
``(batch, steps)``). Classes such as ``MeanSquaredError(reduction=...)`` reduce those values
with optional sample weights. Everything is plain torch on the inputs' device: no host
reads, so a loss runs inside a compiled or CUDA training step.

Integer or bool ``y_true`` is cast to ``y_pred``'s float dtype (Keras 2 behaviour), except
for the sparse losses, which take integer class indices.

Example:
    >>> from tkeras import losses
    >>> losses.get("mse") is losses.mean_squared_error
    True
    >>> y_true = np.array([[0.0, 1.0], [1.0, 0.0]])
    >>> y_pred = np.array([[0.1, 0.9], [0.6, 0.4]])
    >>> loss = losses.CategoricalCrossentropy(label_smoothing=0.1)
    >>> value = loss(y_true, y_pred, sample_weight=np.array([1.0, 0.5]))
    >>> value.shape      # a 0-d tensor
    torch.Size([])
"""
from __future__ import annotations

import math
import warnings
from typing import Any, Callable, Dict, Mapping, Optional, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F

from . import backend as K
from ._warn import TkerasWarning
from .backend import config
from .backend import dispatch as _symbolic
from .backend.variables import to_numpy
from .saving.object_registration import deserialize_keras_object, get_registered_name, serialize_keras_object

TensorLike = Union[torch.Tensor, np.ndarray, float, int, list]


# =================================================================== reductions

class Reduction:
    """Types of loss reduction (tf-keras's ``losses.Reduction`` / ``ReductionV2``).

    * ``AUTO``: ``SUM_OVER_BATCH_SIZE`` in tkeras (there is no distribution strategy).
    * ``NONE``: the weighted per-sample losses, unreduced.
    * ``SUM``: the sum of the weighted losses.
    * ``SUM_OVER_BATCH_SIZE``: the sum of the weighted losses divided by their number of
      elements (zero weights included, not the sum of the weights).
    """

    AUTO = "auto"
    NONE = "none"
    SUM = "sum"
    SUM_OVER_BATCH_SIZE = "sum_over_batch_size"

    @classmethod
    def all(cls) -> Tuple[str, ...]:
        return (cls.AUTO, cls.NONE, cls.SUM, cls.SUM_OVER_BATCH_SIZE)

    @classmethod
    def validate(cls, key: str) -> None:
        if key not in cls.all():
            raise ValueError(f'Invalid Reduction Key: {key}. Expected keys are "{cls.all()}"')


ReductionV2 = Reduction


# =================================================================== tensor helpers

def _to_tensor(x: TensorLike, like: Optional[torch.Tensor] = None) -> torch.Tensor:
    """A torch tensor for ``x``: tensors pass through; numpy / Python data is converted once
    (float data to ``floatx()``, integers and bools keep their kind) onto ``like``'s device.
    """
    if isinstance(x, torch.Tensor):
        return x
    device = like.device if like is not None else None
    t = torch.as_tensor(np.asarray(x), device=device)
    if t.is_floating_point() and t.dtype != config.torch_dtype(None):
        t = t.to(config.torch_dtype(None))
    return t


def _float_pred(y_pred: TensorLike) -> torch.Tensor:
    """``y_pred`` as a floating tensor (integer predictions become ``floatx()``)."""
    y_pred = _to_tensor(y_pred)
    if not (y_pred.is_floating_point() or y_pred.is_complex()):
        y_pred = y_pred.to(config.torch_dtype(None))
    return y_pred


def _true_pred(y_true: TensorLike, y_pred: TensorLike) -> Tuple[torch.Tensor, torch.Tensor]:
    """Converts both arguments; ``y_true`` takes ``y_pred``'s float dtype and device."""
    y_pred = _float_pred(y_pred)
    y_true = _to_tensor(y_true, like=y_pred)
    if y_true.dtype != y_pred.dtype:
        y_true = y_true.to(y_pred.dtype)
    return y_true, y_pred


def _remove_squeezable_dimensions(labels: torch.Tensor, predictions: torch.Tensor
                                  ) -> Tuple[torch.Tensor, torch.Tensor]:
    """Drops a trailing size-1 axis of the operand whose rank is one higher."""
    rank_diff = predictions.dim() - labels.dim()
    if rank_diff == 1 and predictions.shape[-1] == 1:
        predictions = predictions.squeeze(-1)
    elif rank_diff == -1 and labels.shape[-1] == 1:
        labels = labels.squeeze(-1)
    return labels, predictions


def squeeze_or_expand_dimensions(y_pred: torch.Tensor, y_true: Optional[torch.Tensor] = None,
                                 sample_weight: Optional[torch.Tensor] = None):
    """Keras's rank matching of predictions, labels and weights (static shapes only).

    ``y_true`` and ``y_pred`` lose a trailing size-1 axis where that makes their ranks
    equal (unless ``y_pred`` has exactly one more axis, as sparse labels do);
    ``sample_weight`` is squeezed or expanded by one trailing axis to ``y_pred``'s rank.

    Args:
        y_pred: predictions (or per-sample losses).
        y_true: optional labels.
        sample_weight: optional weights.

    Returns:
        ``(y_pred, y_true)`` when ``sample_weight`` is None, else
        ``(y_pred, y_true, sample_weight)``.
    """
    if y_true is not None:
        if y_pred.dim() - y_true.dim() != 1 or (y_pred.dim() > 0 and y_pred.shape[-1] == 1):
            y_true, y_pred = _remove_squeezable_dimensions(y_true, y_pred)
    if sample_weight is None:
        return y_pred, y_true
    if sample_weight.dim() > 0:
        diff = sample_weight.dim() - y_pred.dim()
        if diff == 1 and sample_weight.shape[-1] == 1:
            sample_weight = sample_weight.squeeze(-1)
        elif diff == -1:
            sample_weight = sample_weight.unsqueeze(-1)
    return y_pred, y_true, sample_weight


def _mean_last(x: torch.Tensor, axis: int = -1) -> torch.Tensor:
    return torch.mean(x, dim=axis)


def _smooth_binary_labels(y_true: torch.Tensor, label_smoothing: Any) -> torch.Tensor:
    if isinstance(label_smoothing, torch.Tensor) or label_smoothing:
        return y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    return y_true


def _smooth_categorical_labels(y_true: torch.Tensor, label_smoothing: Any) -> torch.Tensor:
    if isinstance(label_smoothing, torch.Tensor) or label_smoothing:
        num_classes = y_true.shape[-1]
        return y_true * (1.0 - label_smoothing) + label_smoothing / num_classes
    return y_true


def _maybe_convert_labels(y_true: torch.Tensor) -> torch.Tensor:
    """Turns 0/1 labels into -1/1 when every label is 0 or 1 (decided on the device)."""
    is_binary = torch.all((y_true == 0) | (y_true == 1))
    return torch.where(is_binary, 2.0 * y_true - 1.0, y_true)


def _l2_normalize(x: torch.Tensor, axis: int) -> torch.Tensor:
    square_sum = torch.sum(x * x, dim=axis, keepdim=True)
    return x * torch.rsqrt(torch.clamp(square_sum, min=1e-12))


def _warn_single_class(y_pred: torch.Tensor, fn_name: str) -> None:
    if y_pred.dim() > 0 and y_pred.shape[-1] == 1:
        warnings.warn(
            f"In loss {fn_name}, expected y_pred.shape to be (batch_size, num_classes) with "
            f"num_classes > 1. Received: y_pred.shape={tuple(y_pred.shape)}. Consider using "
            "'binary_crossentropy' if you only have 2 classes.", TkerasWarning, stacklevel=3)


# =================================================================== label checks

def check_sparse_labels(y_true: TensorLike, num_classes: int,
                        ignore_class: Optional[int] = None) -> None:
    """Raises Keras's error when integer labels fall outside ``[0, num_classes)``.

    Meant for the edge of training (once per ``fit`` on the numpy labels) or for CPU
    tensors: it reads the labels on the host. The sparse losses call it themselves only
    for CPU tensors, so the device training step never synchronises.

    Args:
        y_true: integer labels (numpy array, list or tensor).
        num_classes: the number of classes (``y_pred.shape[-1]``).
        ignore_class: a label value that is allowed anyway (it is ignored by the loss).

    Raises:
        ValueError: ``Received a label value of 7 which is outside the valid range of
            [0, 5).  Label values: ...``.
    """
    if isinstance(y_true, torch.Tensor):
        labels = to_numpy(y_true)
    else:
        labels = np.asarray(y_true)
    labels = labels.reshape(-1)
    if labels.size == 0:
        return
    if labels.dtype.kind == "f":
        labels = labels.astype(np.int64)
    bad = (labels < 0) | (labels >= num_classes)
    if ignore_class is not None:
        bad &= labels != ignore_class
    if bad.any():
        first = labels[np.argmax(bad)]
        shown = " ".join(str(v) for v in labels[:32]) + (" ..." if labels.size > 32 else "")
        raise ValueError(
            f"Received a label value of {first} which is outside the valid range of "
            f"[0, {num_classes}).  Label values: {shown}")


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


# =================================================================== loss classes

def _reduce_weighted(losses: torch.Tensor, sample_weight: Optional[torch.Tensor],
                     reduction: str) -> torch.Tensor:
    """Keras's ``compute_weighted_loss``: weight, then reduce (``none``/``sum``/mean)."""
    if not losses.is_floating_point():
        losses = losses.to(config.torch_dtype(None))
    if sample_weight is not None:
        losses, _, sample_weight = squeeze_or_expand_dimensions(losses, None, sample_weight)
        losses = losses * sample_weight
    if reduction == Reduction.NONE:
        return losses
    total = torch.sum(losses)
    if reduction == Reduction.SUM:
        return total
    count = losses.numel()
    return total / count if count else total * 0.0


def _apply_valid_mask(losses: torch.Tensor, sample_weight: Optional[torch.Tensor],
                      mask: Optional[torch.Tensor], reduction: str) -> Optional[torch.Tensor]:
    """Folds a Keras mask into the sample weights; for the mean reductions the valid
    entries are scaled by ``total / valid`` so the mean runs over valid entries only."""
    if mask is None:
        return sample_weight
    mask = mask.to(losses.dtype)
    if reduction in (Reduction.AUTO, Reduction.SUM_OVER_BATCH_SIZE):
        mask = mask * (mask.numel() / torch.sum(mask))
    return apply_mask(sample_weight, mask)


def apply_mask(sample_weight: Optional[torch.Tensor], mask: Optional[torch.Tensor]
               ) -> Optional[torch.Tensor]:
    """``sample_weight * mask`` with Keras's rank matching (the mask alone if no weights).

    Args:
        sample_weight: optional weights.
        mask: optional float or bool mask.
    """
    if mask is None:
        return sample_weight
    if not mask.is_floating_point():
        mask = mask.to(config.torch_dtype(None))
    if sample_weight is None:
        return mask
    sample_weight = sample_weight.to(mask.dtype)
    mask, _, sample_weight = squeeze_or_expand_dimensions(mask, None, sample_weight)
    return sample_weight * mask


class Loss:
    """Base class of loss objects: subclasses implement ``call(y_true, y_pred)``, returning
    per-sample losses; ``__call__`` weights and reduces them.

    Args:
        reduction: one of ``Reduction.all()`` (default ``"auto"`` = sum over batch size).
        name: optional name of the loss.

    Example:
        >>> class MeanCubicError(Loss):
        ...     def call(self, y_true, y_pred):
        ...         return K.mean(K.abs(y_pred - y_true) ** 3, axis=-1)
        >>> MeanCubicError()(np.array([[0.0, 1.0]]), np.array([[1.0, 3.0]]))  # (1 + 8) / 2
        tensor(4.5000)
    """

    _keras_module = "keras.losses"

    def __init__(self, reduction: str = Reduction.AUTO, name: Optional[str] = None):
        Reduction.validate(reduction)
        self.reduction = reduction
        self.name = name

    def __call__(self, y_true: TensorLike, y_pred: TensorLike,
                 sample_weight: Optional[TensorLike] = None) -> torch.Tensor:
        """Per-sample losses from ``call``, weighted by ``sample_weight`` and reduced.

        Args:
            y_true: targets.
            y_pred: predictions.
            sample_weight: optional weights: a scalar, ``(batch,)`` or the per-sample
                losses' shape.

        Returns:
            A 0-d tensor (or the weighted per-sample losses with reduction ``"none"``).
        """
        if _symbolic.has_symbolic([y_true, y_pred, sample_weight]):  # one graph node
            return _symbolic.record(f"losses.{type(self).__name__}", self, (y_true, y_pred),
                                    {"sample_weight": sample_weight})
        y_pred = _to_tensor(y_pred)
        y_true = _to_tensor(y_true, like=y_pred)
        losses = self.call(y_true, y_pred)
        losses = _to_tensor(losses, like=y_pred)
        reduction = self._get_reduction()
        if sample_weight is not None:
            sample_weight = _to_tensor(sample_weight, like=losses)
            sample_weight = sample_weight.to(losses.dtype if losses.is_floating_point()
                                             else config.torch_dtype(None))
        mask = _combined_mask(getattr(y_pred, "_keras_mask", None),
                              getattr(losses, "_keras_mask", None))
        sample_weight = _apply_valid_mask(losses, sample_weight, mask, reduction)
        return _reduce_weighted(losses, sample_weight, reduction)

    def call(self, y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
        """Per-sample losses; implemented by subclasses.

        Args:
            y_true: targets.
            y_pred: predictions.
        """
        raise NotImplementedError("Must be implemented in subclasses.")

    def _get_reduction(self) -> str:
        return Reduction.SUM_OVER_BATCH_SIZE if self.reduction == Reduction.AUTO \
            else self.reduction

    def get_config(self) -> Dict[str, Any]:
        return {"reduction": self.reduction, "name": self.name}

    @classmethod
    def from_config(cls, config_: Mapping[str, Any]) -> "Loss":
        return cls(**config_)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r} reduction={self.reduction!r}>"


def _combined_mask(in_mask: Optional[torch.Tensor], out_mask: Optional[torch.Tensor]
                   ) -> Optional[torch.Tensor]:
    if in_mask is not None and out_mask is not None:
        return in_mask.bool() & out_mask.bool()
    return in_mask if in_mask is not None else out_mask


class LossFunctionWrapper(Loss):
    """Wraps a per-sample loss function ``fn(y_true, y_pred, **kwargs)`` into a ``Loss``.

    Args:
        fn: the loss function.
        reduction: one of ``Reduction.all()``.
        name: optional name.
        **kwargs: keyword arguments passed to ``fn``.

    Example:
        >>> def mean_squared_error(y_true, y_pred):
        ...     return K.mean(K.square(y_pred - y_true), axis=-1)
        >>> LossFunctionWrapper(mean_squared_error, name="mse")(np.array([[0.0, 1.0]]),
        ...                                                     np.array([[1.0, 3.0]]))
        tensor(2.5000)
    """

    def __init__(self, fn: Callable, reduction: str = Reduction.AUTO,
                 name: Optional[str] = None, **kwargs: Any):
        super().__init__(reduction=reduction, name=name)
        self.fn = fn
        self._fn_kwargs = kwargs

    def call(self, y_true: torch.Tensor, y_pred: torch.Tensor) -> torch.Tensor:
        y_pred, y_true = squeeze_or_expand_dimensions(y_pred, y_true)
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self) -> Dict[str, Any]:
        cfg = super().get_config()
        cfg.update(self._fn_kwargs)
        cfg["fn"] = get_registered_name(self.fn)
        return cfg

    @classmethod
    def from_config(cls, config_: Mapping[str, Any]) -> Loss:
        cfg = dict(config_)
        fn_name = cfg.pop("fn", None)
        if cls is LossFunctionWrapper:
            if fn_name is None:
                raise ValueError("A LossFunctionWrapper config needs its function under "
                                 f"'fn'. Received: {dict(config_)}")
            cfg["fn"] = get(fn_name)
        return cls(**cfg)


class MeanSquaredError(LossFunctionWrapper):
    """Mean of squares of errors: ``mean(square(y_true - y_pred), axis=-1)``.

    Args:
        reduction: one of ``Reduction.all()`` (default ``"auto"``).
        name: the loss's name.
    """

    def __init__(self, reduction: str = Reduction.AUTO, name: str = "mean_squared_error"):
        super().__init__(mean_squared_error, reduction=reduction, name=name)


class MeanAbsoluteError(LossFunctionWrapper):
    """Mean of absolute errors: ``mean(abs(y_true - y_pred), axis=-1)``.

    Args:
        reduction: one of ``Reduction.all()``.
        name: the loss's name.
    """

    def __init__(self, reduction: str = Reduction.AUTO, name: str = "mean_absolute_error"):
        super().__init__(mean_absolute_error, reduction=reduction, name=name)


class MeanAbsolutePercentageError(LossFunctionWrapper):
    """``100 * mean(abs((y_true - y_pred) / max(abs(y_true), epsilon)), axis=-1)``.

    Args:
        reduction: one of ``Reduction.all()``.
        name: the loss's name.
    """

    def __init__(self, reduction: str = Reduction.AUTO,
                 name: str = "mean_absolute_percentage_error"):
        super().__init__(mean_absolute_percentage_error, reduction=reduction, name=name)


class MeanSquaredLogarithmicError(LossFunctionWrapper):
    """``mean(square(log(y_pred + 1) - log(y_true + 1)), axis=-1)``.

    Args:
        reduction: one of ``Reduction.all()``.
        name: the loss's name.
    """

    def __init__(self, reduction: str = Reduction.AUTO,
                 name: str = "mean_squared_logarithmic_error"):
        super().__init__(mean_squared_logarithmic_error, reduction=reduction, name=name)


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


class Poisson(LossFunctionWrapper):
    """``mean(y_pred - y_true * log(y_pred + epsilon), axis=-1)``.

    Args:
        reduction: one of ``Reduction.all()``.
        name: the loss's name.
    """

    def __init__(self, reduction: str = Reduction.AUTO, name: str = "poisson"):
        super().__init__(poisson, reduction=reduction, name=name)


class LogCosh(LossFunctionWrapper):
    """``mean(log(cosh(y_pred - y_true)), axis=-1)``.

    Args:
        reduction: one of ``Reduction.all()``.
        name: the loss's name.
    """

    def __init__(self, reduction: str = Reduction.AUTO, name: str = "log_cosh"):
        super().__init__(log_cosh, reduction=reduction, name=name)


class KLDivergence(LossFunctionWrapper):
    """Kullback-Leibler divergence ``sum(y_true * log(y_true / y_pred), axis=-1)``.

    Args:
        reduction: one of ``Reduction.all()``.
        name: the loss's name.
    """

    def __init__(self, reduction: str = Reduction.AUTO, name: str = "kl_divergence"):
        super().__init__(kl_divergence, reduction=reduction, name=name)


class Huber(LossFunctionWrapper):
    """Huber loss (quadratic for ``|error| <= delta``, linear beyond).

    Args:
        delta: the point where the loss turns from quadratic to linear.
        reduction: one of ``Reduction.all()``.
        name: the loss's name.
    """

    def __init__(self, delta: float = 1.0, reduction: str = Reduction.AUTO,
                 name: str = "huber_loss"):
        super().__init__(huber, reduction=reduction, name=name, delta=delta)
        self.delta = delta


class CosineSimilarity(LossFunctionWrapper):
    """The negative cosine similarity along ``axis`` (-1 is best).

    Args:
        axis: the axis along which the similarity is computed.
        reduction: one of ``Reduction.all()``.
        name: the loss's name.
    """

    def __init__(self, axis: int = -1, reduction: str = Reduction.AUTO,
                 name: str = "cosine_similarity"):
        super().__init__(cosine_similarity, reduction=reduction, name=name, axis=axis)
        self.axis = axis


class BinaryCrossentropy(LossFunctionWrapper):
    """Binary cross-entropy, averaged over ``axis``.

    Args:
        from_logits: whether ``y_pred`` holds logits (else probabilities).
        label_smoothing: a float in [0, 1]: targets become ``y * (1 - ls) + 0.5 * ls``.
        axis: the axis averaged over.
        reduction: one of ``Reduction.all()``.
        name: the loss's name.

    Example:
        >>> loss = BinaryCrossentropy(from_logits=True)
        >>> loss(np.array([[0., 1.]]), np.array([[-18.6, 0.51]]))
        tensor(0.2352)
    """

    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0,
                 axis: int = -1, reduction: str = Reduction.AUTO,
                 name: str = "binary_crossentropy"):
        super().__init__(binary_crossentropy, reduction=reduction, name=name,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)
        self.from_logits = from_logits


class BinaryFocalCrossentropy(LossFunctionWrapper):
    """Binary focal cross-entropy ``(1 - p_t) ** gamma * bce``, averaged over ``axis``.

    Args:
        apply_class_balancing: weight class 1 by ``alpha`` and class 0 by ``1 - alpha``.
        alpha: class-balancing weight.
        gamma: focusing parameter.
        from_logits: whether ``y_pred`` holds logits.
        label_smoothing: a float in [0, 1].
        axis: the axis averaged over.
        reduction: one of ``Reduction.all()``.
        name: the loss's name.
    """

    def __init__(self, apply_class_balancing: bool = False, alpha: float = 0.25,
                 gamma: float = 2.0, from_logits: bool = False, label_smoothing: float = 0.0,
                 axis: int = -1, reduction: str = Reduction.AUTO,
                 name: str = "binary_focal_crossentropy"):
        super().__init__(binary_focal_crossentropy, reduction=reduction, name=name,
                         apply_class_balancing=apply_class_balancing, alpha=alpha, gamma=gamma,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)
        self.from_logits = from_logits
        self.apply_class_balancing = apply_class_balancing
        self.alpha = alpha
        self.gamma = gamma


class CategoricalCrossentropy(LossFunctionWrapper):
    """Categorical cross-entropy on one-hot (or soft) targets.

    Args:
        from_logits: whether ``y_pred`` holds logits (else probabilities).
        label_smoothing: a float in [0, 1]: targets become ``y * (1 - ls) + ls / classes``.
        axis: the class axis.
        reduction: one of ``Reduction.all()``.
        name: the loss's name.
    """

    def __init__(self, from_logits: bool = False, label_smoothing: float = 0.0,
                 axis: int = -1, reduction: str = Reduction.AUTO,
                 name: str = "categorical_crossentropy"):
        super().__init__(categorical_crossentropy, reduction=reduction, name=name,
                         from_logits=from_logits, label_smoothing=label_smoothing, axis=axis)
        self.from_logits = from_logits


class CategoricalFocalCrossentropy(LossFunctionWrapper):
    """Categorical focal cross-entropy.

    Args:
        alpha: weighting factor (a number or one per class).
        gamma: focusing parameter.
        from_logits: whether ``y_pred`` holds logits.
        label_smoothing: a float in [0, 1].
        axis: the class axis.
        reduction: one of ``Reduction.all()``.
        name: the loss's name.
    """

    def __init__(self, alpha: Any = 0.25, gamma: float = 2.0, from_logits: bool = False,
                 label_smoothing: float = 0.0, axis: int = -1,
                 reduction: str = Reduction.AUTO, name: str = "categorical_focal_crossentropy"):
        super().__init__(categorical_focal_crossentropy, reduction=reduction, name=name,
                         alpha=alpha, gamma=gamma, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)
        self.from_logits = from_logits
        self.alpha = alpha
        self.gamma = gamma


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    """Categorical cross-entropy with integer labels (``(batch,)`` or ``(batch, 1)``).

    Args:
        from_logits: whether ``y_pred`` holds logits.
        ignore_class: a label value whose entries are left out of the loss (for
            example the padding class of a segmentation map).
        reduction: one of ``Reduction.all()``.
        name: the loss's name.
    """

    def __init__(self, from_logits: bool = False, ignore_class: Optional[int] = None,
                 reduction: str = Reduction.AUTO, name: str = "sparse_categorical_crossentropy"):
        super().__init__(sparse_categorical_crossentropy, reduction=reduction, name=name,
                         from_logits=from_logits, ignore_class=ignore_class)
        self.from_logits = from_logits


# =================================================================== lookup

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
_CLASSES = (
    Loss, LossFunctionWrapper, MeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError, Hinge, SquaredHinge, CategoricalHinge, Poisson, LogCosh,
    KLDivergence, Huber, CosineSimilarity, BinaryCrossentropy, BinaryFocalCrossentropy,
    CategoricalCrossentropy, CategoricalFocalCrossentropy, SparseCategoricalCrossentropy,
)
_OBJECTS: Dict[str, Any] = {
    **{fn.__name__: fn for fn in _FUNCTIONS}, **_ALIASES,
    **{cls.__name__: cls for cls in _CLASSES},
}

# Called on symbolic tensors, these functions record one graph node (tkeras.backend.dispatch).
_symbolic.wrap_functions(globals(), _FUNCTIONS, "losses", _OBJECTS, _ALIASES)


def is_categorical_crossentropy(loss: Any) -> bool:
    """Whether ``loss`` is categorical crossentropy: the class, a wrapper of the function,
    the function (or anything named so) or its name, as Keras 2.3.1 tells."""
    return (isinstance(loss, CategoricalCrossentropy)
            or (isinstance(loss, LossFunctionWrapper) and loss.fn is categorical_crossentropy)
            or getattr(loss, "__name__", None) == "categorical_crossentropy"
            or (isinstance(loss, str) and loss == "categorical_crossentropy"))


def serialize(loss: Any, use_legacy_format: bool = False) -> Any:
    """A loss as its name (functions) or ``{"module", "class_name", "config",
    "registered_name"}`` (Loss objects).

    Args:
        loss: a loss function or ``Loss`` instance.
        use_legacy_format: accepted for compatibility; the output is the same.
    """
    del use_legacy_format
    return serialize_keras_object(loss)


def deserialize(name: Any, custom_objects: Optional[Mapping[str, Any]] = None,
                use_legacy_format: bool = False) -> Any:
    """The loss function or ``Loss`` described by a name or a config dict.

    Args:
        name: a name (``"mse"``, ``"CategoricalCrossentropy"``) or a config dict.
        custom_objects: optional ``{name: function_or_class}`` of user losses.
        use_legacy_format: accepted for compatibility.

    Raises:
        ValueError: ``Unknown loss function: 'name'...`` for unknown names.
    """
    del use_legacy_format
    return deserialize_keras_object(name, module_objects=_OBJECTS, custom_objects=custom_objects,
                                    printable_module_name="loss function")


def get(identifier: Any) -> Any:
    """Resolves a loss identifier.

    Args:
        identifier: None, a name (functions and their aliases, class names), a config dict,
            a ``Loss`` instance or a callable ``f(y_true, y_pred)`` (returned as is).

    Raises:
        ValueError: for unknown names or identifiers of another kind.
    """
    if identifier is None:
        return None
    if isinstance(identifier, (str, Mapping)):
        return deserialize(identifier)
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret loss function identifier: {identifier!r}")


__all__ = sorted(set(_OBJECTS) | {"Reduction", "ReductionV2", "get", "serialize", "deserialize",
                                   "is_categorical_crossentropy",
                                   "check_sparse_labels", "squeeze_or_expand_dimensions",
                                   "apply_mask"})
