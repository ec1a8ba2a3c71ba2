"""Neural-network functions of the Keras backend ``K``: activations, ``l2_normalize``,
``bias_add``, ``dropout``, ``in_top_k``, batch normalization and the cross-entropies, with
tf.keras 2 semantics (``sigmoid`` / ``softmax`` outputs remember their logits, which the
cross-entropies use, as tf.keras 2 does).
"""
from __future__ import annotations

import math
import warnings
from typing import Any, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F

from .._warn import TkerasWarning
from . import config
from .config import epsilon
from .conversion import Axis, TensorLike, _as_operand, _as_tensor, _axes_tuple, _positive_axes, _reduce
from .random_ops import _seeded_or_global_generator, dropout_mask

__all__ = [
    "relu", "elu", "sigmoid", "hard_sigmoid", "softmax", "softplus", "softsign", "tanh",
    "l2_normalize", "bias_add", "dropout", "in_top_k", "batch_normalization",
    "normalize_batch_in_training", "categorical_crossentropy",
    "sparse_categorical_crossentropy", "binary_crossentropy", "binary_focal_crossentropy",
    "categorical_focal_crossentropy",
]


# ------------------------------------------------------------------- activations

def relu(x: TensorLike, alpha: float = 0.0, max_value: Optional[float] = None,
         threshold: float = 0.0) -> torch.Tensor:
    """Rectified linear unit: ``x`` above ``threshold`` (capped at ``max_value``),
    ``alpha * (x - threshold)`` at or below it.

    Args:
        x: a tensor.
        alpha: slope below the threshold.
        max_value: saturation value (None: no cap).
        threshold: threshold of the activation.
    """
    x = _as_tensor(x)
    if alpha != 0 and max_value is None and threshold == 0:
        return F.leaky_relu(x, negative_slope=alpha)
    negative = None
    if alpha != 0:
        negative = F.relu(threshold - x) if threshold != 0 else F.relu(-x)
    if threshold != 0:
        out = x * (x > threshold).to(x.dtype)
    elif max_value is not None and max_value == 6 and x.is_floating_point():
        out, max_value = F.relu6(x), None  # TensorFlow's relu6 as Keras: one kernel
    else:
        out = F.relu(x)
    if max_value is not None:
        out = torch.clamp(out, 0, max_value)
    if negative is not None:
        out = out - alpha * negative
    return out


def elu(x: TensorLike, alpha: float = 1.0) -> torch.Tensor:
    """Exponential linear unit: ``x`` for ``x > 0``, ``alpha * (exp(x) - 1)`` otherwise.

    Args:
        x: a tensor.
        alpha: scale of the negative part.
    """
    return F.elu(_as_tensor(x), alpha=alpha)


def _keep_logits(output: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    setattr(output, "_keras_logits", logits)  # the cross-entropies use it, as tf.keras 2 does
    return output


def sigmoid(x: TensorLike) -> torch.Tensor:
    """Element-wise sigmoid (the result remembers ``x`` as ``_keras_logits``).

    Args:
        x: a tensor.
    """
    x = _as_tensor(x)
    return _keep_logits(torch.sigmoid(x), x)


def hard_sigmoid(x: TensorLike) -> torch.Tensor:
    """Keras 2 hard sigmoid: ``clip(0.2 * x + 0.5, 0, 1)``.

    Args:
        x: a tensor.
    """
    return torch.clamp(_as_tensor(x) * 0.2 + 0.5, 0.0, 1.0)


def softmax(x: TensorLike, axis: Axis = -1) -> torch.Tensor:
    """Softmax along ``axis`` (an int or a tuple of ints); remembers ``x`` as
    ``_keras_logits``.

    Args:
        x: a tensor of rank >= 2.
        axis: the axis (or axes) normalised over.
    """
    x = _as_tensor(x)
    if x.dim() <= 1:
        raise ValueError("Cannot apply softmax to a tensor that is 1D. Received input of "
                         f"shape {tuple(x.shape)}")
    if isinstance(axis, (int, np.integer)):
        out = torch.softmax(x, dim=int(axis))
    else:
        dims = _axes_tuple(axis) or tuple(range(x.dim()))  # None: all axes
        e = torch.exp(x - torch.amax(x, dim=dims, keepdim=True))
        out = e / torch.sum(e, dim=dims, keepdim=True)
    return _keep_logits(out, x)


def softplus(x: TensorLike) -> torch.Tensor:
    """``log(exp(x) + 1)``.

    Args:
        x: a tensor.
    """
    return F.softplus(_as_tensor(x))


def softsign(x: TensorLike) -> torch.Tensor:
    """``x / (abs(x) + 1)``.

    Args:
        x: a tensor.
    """
    return F.softsign(_as_tensor(x))


def tanh(x: TensorLike) -> torch.Tensor:
    """Element-wise hyperbolic tangent.

    Args:
        x: a tensor.
    """
    return torch.tanh(_as_tensor(x))


# ------------------------------------------------------------------- normalization, bias, dropout

def l2_normalize(x: TensorLike, axis: Axis = None) -> torch.Tensor:
    """``x / sqrt(max(sum(x ** 2, axis), 1e-12))`` (``tf.linalg.l2_normalize``).

    Args:
        x: a tensor.
        axis: axis or axes normalised over; None: all.
    """
    x = _as_tensor(x)
    square_sum = _reduce(torch.sum, torch.square(x), axis, True, "l2_normalize")
    return x * torch.rsqrt(torch.clamp(square_sum, min=1e-12))


def bias_add(x: TensorLike, bias: TensorLike, data_format: Optional[str] = None) -> torch.Tensor:
    """Adds a bias: on the last axis (``channels_last``) or on axis 1 (``channels_first``).

    Args:
        x: a tensor of rank >= 2.
        bias: a vector (one value per channel) or a tensor of rank ``ndim(x) - 1``
            (in ``x``'s per-sample layout, or ``(d1, ..., channels)`` with
            ``channels_first``, whose channels axis is then moved first).
        data_format: ``'channels_last'`` or ``'channels_first'``; default
            ``image_data_format()``.
    """
    data_format = config.normalize_data_format(data_format)
    x = _as_tensor(x)
    bias = _as_operand(bias, x)
    if bias.dim() not in (1, x.dim() - 1):
        raise ValueError(f"Unexpected bias dimensions {bias.dim()}, expect to be 1 or "
                         f"{x.dim() - 1} dimensions")
    channels_first = data_format == "channels_first"
    if bias.dim() == 1:
        channel_axis = 1 if channels_first else x.dim() - 1
        if x.dim() < 2 or x.shape[channel_axis] != bias.shape[0]:
            raise ValueError(f"bias_add: a bias of shape {tuple(bias.shape)} does not match "
                             f"the channel axis of an input of shape {tuple(x.shape)} "
                             f"({data_format}).")
        if channels_first:
            return x + bias.reshape((1, -1) + (1,) * (x.dim() - 2))
        return x + bias
    if channels_first and tuple(bias.shape) != tuple(x.shape[1:]):
        bias = torch.movedim(bias, -1, 0)  # a (d1, ..., channels) bias moves channels first
    return x + bias.unsqueeze(0)


def dropout(x: TensorLike, level: Any, noise_shape: Optional[Sequence[Optional[int]]] = None,
            seed: Optional[int] = None) -> torch.Tensor:
    """Inverted dropout: zeroes entries with probability ``level`` and scales the
    survivors by ``1 / (1 - level)``, so the expectation is unchanged.

    Args:
        x: a tensor.
        level: the drop probability, in ``[0, 1)``.
        noise_shape: shape of the keep/drop mask, broadcast to ``x`` (``None`` entries
            take ``x``'s size), e.g. ``(batch, 1, features)``.
        seed: optional seed (a reproducible sequence of masks).
    """
    x = _as_tensor(x)
    if isinstance(level, (int, float)):
        if not 0 <= level < 1:
            raise ValueError("`level` (the dropout rate) must be a float in the range [0, 1). "
                             f"Received: level={level}")
        if level == 0:
            return x
    if noise_shape is None:
        mask_shape = tuple(x.shape)
    else:
        ns = tuple(noise_shape)
        offset = x.dim() - len(ns)
        mask_shape = tuple(x.shape[i + offset] if d is None else int(d) for i, d in enumerate(ns))
    return x * dropout_mask(mask_shape, level, x.dtype, x.device,
                            _seeded_or_global_generator(seed, x.device))


def in_top_k(predictions: TensorLike, targets: TensorLike, k: int) -> torch.Tensor:
    """Whether each target's prediction is among the ``k`` largest of its row; ties at
    the boundary count as inside (as ``tf.math.in_top_k``).

    Args:
        predictions: ``(batch, classes)`` float tensor.
        targets: ``(batch,)`` integer tensor.
        k: number of top elements considered.
    """
    predictions = _as_tensor(predictions)
    targets = _as_operand(targets, predictions).long()
    target_pred = predictions.gather(1, targets.unsqueeze(1))
    n_greater = (predictions > target_pred).sum(dim=1)
    return (n_greater < int(k)) & torch.isfinite(target_pred.squeeze(1))


def _channel_broadcast(t: Optional[TensorLike], x: torch.Tensor, axis: int) -> Optional[torch.Tensor]:
    if t is None:
        return None
    t = _as_operand(t, x)
    if t.dim() == 1 and x.dim() > 1:
        shape_ = [1] * x.dim()
        shape_[axis % x.dim()] = t.shape[0]
        t = t.reshape(shape_)
    return t


def _normalize(x: torch.Tensor, mean_: torch.Tensor, var_: torch.Tensor,
               beta: Optional[torch.Tensor], gamma: Optional[torch.Tensor],
               epsilon_: float) -> torch.Tensor:
    inv = torch.rsqrt(var_ + epsilon_)
    if gamma is not None:
        inv = inv * gamma
    shift = -mean_ * inv if beta is None else beta - mean_ * inv
    return x * inv + shift


def batch_normalization(x: TensorLike, mean: TensorLike, var: TensorLike, beta: Optional[TensorLike],
                        gamma: Optional[TensorLike], axis: int = -1,
                        epsilon: float = 1e-3) -> torch.Tensor:
    """``(x - mean) / sqrt(var + epsilon) * gamma + beta``.

    Args:
        x: input tensor.
        mean: mean (a vector along ``axis``, or broadcastable to ``x``).
        var: variance, like ``mean``.
        beta: offset or None.
        gamma: scale or None.
        axis: the features axis that vector statistics apply to.
        epsilon: fuzz factor (at least 1.001e-5 for 4D inputs, TensorFlow's fused kernel).
    """
    x = _as_tensor(x)
    if x.dim() == 4 and axis in (1, -3, 3, -1):
        epsilon = max(epsilon, 1.001e-5)
    b = _channel_broadcast
    mean_, var_ = b(mean, x, axis), b(var, x, axis)
    if mean_ is None or var_ is None:
        raise ValueError("batch_normalization needs a mean and a variance; received None.")
    return _normalize(x, mean_, var_, b(beta, x, axis), b(gamma, x, axis), epsilon)


def normalize_batch_in_training(x: TensorLike, gamma: Optional[TensorLike], beta: Optional[TensorLike],
                                reduction_axes: Sequence[int], epsilon: float = 1e-3
                                ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Normalises ``x`` with the statistics of the batch: ``(normed, mean, variance)``.

    The mean and variance are over ``reduction_axes`` (the variance is biased), with
    TensorFlow's fused-kernel rule for 4D inputs reduced over ``(0, 1, 2)``: the returned
    variance is then the unbiased one (N / (N - 1)) and epsilon is at least 1.001e-5.

    Args:
        x: input tensor.
        gamma: scale (one value per kept position) or None.
        beta: offset or None.
        reduction_axes: axes to reduce over, e.g. ``[0, 1, 2]``.
        epsilon: fuzz factor.
    """
    x = _as_tensor(x)
    axes = tuple(sorted(_positive_axes([int(a) for a in reduction_axes], x.dim(),
                                       "normalize_batch_in_training")))
    kept_shape = [1 if i in axes else x.shape[i] for i in range(x.dim())]
    mean_ = torch.mean(x, dim=axes, keepdim=True)
    var_ = torch.var(x, dim=axes, correction=0, keepdim=True)
    fused = x.dim() == 4 and list(axes) == [0, 1, 2]
    eps = max(epsilon, 1.001e-5) if fused else epsilon
    g = None if gamma is None else _as_operand(gamma, x).reshape(kept_shape)
    b = None if beta is None else _as_operand(beta, x).reshape(kept_shape)
    normed = _normalize(x, mean_, var_, b, g, eps)
    out_shape = [x.shape[i] for i in range(x.dim()) if i not in axes]
    var_out = var_
    if fused:
        n = math.prod(x.shape[i] for i in axes)
        var_out = var_ * (n / max(n - 1, 1))
    return normed, mean_.reshape(out_shape), var_out.reshape(out_shape)


# ------------------------------------------------------------------- cross-entropies

def _logits_if_known(output: torch.Tensor, from_logits: bool, fn_name: str,
                     activation: str) -> Tuple[torch.Tensor, bool]:
    """Uses the logits a softmax/sigmoid output remembers, as tf.keras 2 does."""
    logits = getattr(output, "_keras_logits", None)
    if logits is None:
        return output, from_logits
    if from_logits:
        warnings.warn(f'"`{fn_name}` received `from_logits=True`, but the `output` argument '
                      f"was produced by a {activation} activation and thus does not represent "
                      "logits. Was this intended?", TkerasWarning, stacklevel=3)
    return logits, True


def _check_same_shape(target: torch.Tensor, output: torch.Tensor, fn_name: str) -> None:
    if tuple(target.shape) != tuple(output.shape):
        raise ValueError(f"`{fn_name}`: Shapes {tuple(target.shape)} and "
                         f"{tuple(output.shape)} are incompatible (target and output must "
                         "have the same shape).")


def _clip_probs(output: torch.Tensor) -> torch.Tensor:
    eps = epsilon()
    return torch.clamp(output, eps, 1.0 - eps)


def categorical_crossentropy(target: TensorLike, output: TensorLike, from_logits: bool = False,
                             axis: int = -1) -> torch.Tensor:
    """Categorical cross-entropy per sample: ``-sum(target * log(output), axis)``.

    Probabilities are first divided by their sum over ``axis`` and clipped to
    ``[epsilon, 1 - epsilon]``; an ``output`` made by ``softmax`` uses its logits.

    Args:
        target: one-hot (or soft) targets, same shape as ``output``.
        output: probabilities, or logits with ``from_logits=True``.
        from_logits: whether ``output`` holds logits.
        axis: the class axis.
    """
    output = _as_tensor(output)
    target = _as_operand(target, output).to(output.dtype)
    _check_same_shape(target, output, "categorical_crossentropy")
    output, from_logits = _logits_if_known(output, from_logits, "categorical_crossentropy", "Softmax")
    if from_logits:
        return -torch.sum(target * torch.log_softmax(output, dim=axis), dim=axis)
    output = output / torch.sum(output, dim=axis, keepdim=True)
    return -torch.sum(target * torch.log(_clip_probs(output)), dim=axis)


def sparse_categorical_crossentropy(target: TensorLike, output: TensorLike, from_logits: bool = False,
                                    axis: int = -1,
                                    ignore_class: Optional[int] = None) -> torch.Tensor:
    """Categorical cross-entropy with integer targets.

    Labels of shape ``(batch,)`` or ``(batch, 1)`` for ``output (batch, classes)``, and
    ``(batch, steps[, 1])`` for ``output (batch, steps, classes)``. Probabilities are
    clipped to ``[epsilon, 1 - epsilon]``.

    Args:
        target: integer class indices.
        output: probabilities, or logits with ``from_logits=True``.
        from_logits: whether ``output`` holds logits.
        axis: the class axis of ``output``.
        ignore_class: a label whose entries get loss 0; the result then carries the
            validity mask as ``_keras_mask``.
    """
    output = _as_tensor(output)
    target = _as_operand(target, output).long()
    output, from_logits = _logits_if_known(output, from_logits, "sparse_categorical_crossentropy",
                                           "Softmax")
    if not from_logits:
        output = torch.log(_clip_probs(output))
    rank = output.dim()
    output = torch.movedim(output, axis % rank, -1)
    result_shape = tuple(output.shape[:-1])
    if target.numel() != math.prod(result_shape):
        raise ValueError("`sparse_categorical_crossentropy`: labels of shape "
                         f"{tuple(target.shape)} do not match an output of shape "
                         f"{tuple(output.shape)} (classes on the last axis).")
    if target.dim() != rank - 1:
        target = target.reshape(-1)
        output = output.reshape(-1, output.shape[-1])
    valid = None
    if ignore_class is not None:
        valid = target != int(ignore_class)
        target = torch.where(valid, target, torch.zeros_like(target))
    log_probs = torch.log_softmax(output, dim=-1)
    res = -log_probs.gather(-1, target.unsqueeze(-1)).squeeze(-1)
    if valid is not None:
        res = torch.where(valid, res, torch.zeros_like(res)).reshape(result_shape)
        setattr(res, "_keras_mask", valid.reshape(result_shape))
        return res
    return res.reshape(result_shape)


def binary_crossentropy(target: TensorLike, output: TensorLike,
                        from_logits: bool = False) -> torch.Tensor:
    """Element-wise binary cross-entropy (not averaged).

    On probabilities: ``-(t * log(p + eps) + (1 - t) * log(1 - p + eps))`` after clipping
    ``p`` to ``[eps, 1 - eps]``; an ``output`` made by ``sigmoid`` uses its logits.

    Args:
        target: targets in [0, 1], same shape as ``output``.
        output: probabilities, or logits with ``from_logits=True``.
        from_logits: whether ``output`` holds logits.
    """
    output = _as_tensor(output)
    target = _as_operand(target, output).to(output.dtype)
    output, from_logits = _logits_if_known(output, from_logits, "binary_crossentropy", "Sigmoid")
    if from_logits:
        return F.binary_cross_entropy_with_logits(output, target, reduction="none")
    eps = epsilon()
    p = _clip_probs(output)
    return -(target * torch.log(p + eps) + (1 - target) * torch.log(1 - p + eps))


def binary_focal_crossentropy(target: TensorLike, output: TensorLike,
                              apply_class_balancing: bool = False,
                              alpha: float = 0.25, gamma: float = 2.0,
                              from_logits: bool = False) -> torch.Tensor:
    """Element-wise binary focal cross-entropy: ``(1 - p_t) ** gamma * bce``.

    Args:
        target: targets in [0, 1].
        output: probabilities, or logits with ``from_logits=True``.
        apply_class_balancing: weight class 1 by ``alpha`` and class 0 by ``1 - alpha``.
        alpha: class-balancing weight.
        gamma: focusing parameter.
        from_logits: whether ``output`` holds logits.
    """
    output = _as_tensor(output)
    target = _as_operand(target, output).to(output.dtype)
    probs = torch.sigmoid(output) if from_logits else output
    p_t = target * probs + (1 - target) * (1 - probs)
    focal_bce = torch.pow(1.0 - p_t, gamma) * binary_crossentropy(target, output, from_logits)
    if apply_class_balancing:
        focal_bce = (target * alpha + (1 - target) * (1 - alpha)) * focal_bce
    return focal_bce


def categorical_focal_crossentropy(target: TensorLike, output: TensorLike, alpha: Any = 0.25,
                                   gamma: float = 2.0, from_logits: bool = False,
                                   axis: int = -1) -> torch.Tensor:
    """Per-sample categorical focal cross-entropy:
    ``sum(alpha * (1 - p) ** gamma * -target * log(p), axis)``.

    Args:
        target: one-hot (or soft) targets.
        output: probabilities, or logits with ``from_logits=True``.
        alpha: weight (a number, or one per class).
        gamma: focusing parameter.
        from_logits: whether ``output`` holds logits.
        axis: the class axis.
    """
    output = _as_tensor(output)
    target = _as_operand(target, output).to(output.dtype)
    _check_same_shape(target, output, "categorical_focal_crossentropy")
    output, from_logits = _logits_if_known(output, from_logits, "categorical_focal_crossentropy",
                                           "Softmax")
    if from_logits:
        output = torch.softmax(output, dim=axis)
    output = _clip_probs(output / torch.sum(output, dim=axis, keepdim=True))
    weight = torch.pow(1.0 - output, gamma) * (alpha if isinstance(alpha, (int, float))
                                               else _as_operand(alpha, output))
    return torch.sum(weight * (-target * torch.log(output)), dim=axis)
