"""The loss base classes (``Loss``, ``LossFunctionWrapper``), ``Reduction`` and the tensor
helpers that the loss functions and classes share."""
from __future__ import annotations

import warnings
from typing import Any, Callable, Dict, Mapping, Optional, Tuple, Union

import numpy as np
import torch

from .._warn import TkerasWarning
from ..backend import config
from ..backend import dispatch as _symbolic
from ..backend.variables import to_numpy
from ..saving.object_registration import Registered, Registry, get_registered_name

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


_OBJECTS = Registry("loss function", instantiate_classes=False)
"""Every Loss class by its name (added as defined); tkeras.losses adds the loss functions
and their aliases."""


class Loss(Registered, registry=_OBJECTS):
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
            from . import get  # the package's lookup (it imports this module)
            cfg["fn"] = get(fn_name)
        return cls(**cfg)
