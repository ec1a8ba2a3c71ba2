"""Reductions, element-wise math and comparisons of the Keras backend ``K``.

Several of these functions have the names of Python builtins (``sum``, ``max``, ``min``,
``abs``, ``any``, ``all``, ``pow``, ``round``), as in Keras; inside this module those
names mean the ``K`` functions.
"""
from __future__ import annotations

from typing import Any, Tuple

import torch

from .config import floatx, torch_dtype
from .conversion import Axis, TensorLike, _as_operand, _as_tensor, _binary_operands, _reduce

__all__ = [
    "sum", "mean", "max", "min", "prod", "var", "std", "any", "all", "argmax", "argmin",
    "logsumexp", "cumsum", "cumprod", "square", "sqrt", "abs", "exp", "log", "pow", "clip",
    "maximum", "minimum", "round", "sign", "sin", "cos", "equal", "not_equal", "greater",
    "greater_equal", "less", "less_equal",
]


# ------------------------------------------------------------------- reductions

def sum(x: TensorLike, axis: Axis = None, keepdims: bool = False) -> torch.Tensor:  # noqa: A001
    """Sum over ``axis`` (an int, a list of ints, or None for all axes).

    Args:
        x: a tensor.
        axis: axis or axes to reduce; None reduces all.
        keepdims: keep reduced axes with length 1.
    """
    return _reduce(torch.sum, _as_tensor(x), axis, keepdims, "sum")


def _float_if_not(x: torch.Tensor) -> torch.Tensor:
    if x.dtype.is_floating_point or x.dtype.is_complex:
        return x
    return x.to(torch_dtype(floatx()))


def mean(x: TensorLike, axis: Axis = None, keepdims: bool = False) -> torch.Tensor:
    """Mean over ``axis``; bool and integer inputs are cast to ``floatx()`` first.

    Args:
        x: a tensor.
        axis: axis or axes to reduce; None reduces all.
        keepdims: keep reduced axes with length 1.
    """
    return _reduce(torch.mean, _float_if_not(_as_tensor(x)), axis, keepdims, "mean")


def max(x: TensorLike, axis: Axis = None, keepdims: bool = False) -> torch.Tensor:  # noqa: A001
    """Maximum over ``axis``.

    Args:
        x: a tensor.
        axis: axis or axes to reduce; None reduces all.
        keepdims: keep reduced axes with length 1.
    """
    return _reduce(torch.amax, _as_tensor(x), axis, keepdims, "max")


def min(x: TensorLike, axis: Axis = None, keepdims: bool = False) -> torch.Tensor:  # noqa: A001
    """Minimum over ``axis``.

    Args:
        x: a tensor.
        axis: axis or axes to reduce; None reduces all.
        keepdims: keep reduced axes with length 1.
    """
    return _reduce(torch.amin, _as_tensor(x), axis, keepdims, "min")


def _prod_over(x: torch.Tensor, dim: Tuple[int, ...], keepdim: bool) -> torch.Tensor:
    for d in sorted(dim, reverse=True):
        x = torch.prod(x, dim=d, keepdim=keepdim)
    return x


def prod(x: TensorLike, axis: Axis = None, keepdims: bool = False) -> torch.Tensor:
    """Product over ``axis``.

    Args:
        x: a tensor.
        axis: axis or axes to reduce; None reduces all.
        keepdims: keep reduced axes with length 1.
    """
    return _reduce(_prod_over, _as_tensor(x), axis, keepdims, "prod")


def _population_var(x: torch.Tensor, dim: Tuple[int, ...], keepdim: bool) -> torch.Tensor:
    return torch.var(x, dim=dim, correction=0, keepdim=keepdim)


def var(x: TensorLike, axis: Axis = None, keepdims: bool = False) -> torch.Tensor:
    """Population variance (divides by N, as ``tf.math.reduce_variance``) over ``axis``.

    Args:
        x: a tensor (bool and integer inputs are cast to ``floatx()``).
        axis: axis or axes to reduce; None reduces all.
        keepdims: keep reduced axes with length 1.
    """
    return _reduce(_population_var, _float_if_not(_as_tensor(x)), axis, keepdims, "var")


def std(x: TensorLike, axis: Axis = None, keepdims: bool = False) -> torch.Tensor:
    """Population standard deviation, ``sqrt(var(x))``, over ``axis``.

    Args:
        x: a tensor (bool and integer inputs are cast to ``floatx()``).
        axis: axis or axes to reduce; None reduces all.
        keepdims: keep reduced axes with length 1.
    """
    return torch.sqrt(var(x, axis, keepdims))


def any(x: TensorLike, axis: Axis = None, keepdims: bool = False) -> torch.Tensor:  # noqa: A001
    """Logical OR over ``axis`` (``x`` is cast to bool); a bool tensor.

    Args:
        x: a tensor.
        axis: axis or axes to reduce; None reduces all.
        keepdims: keep reduced axes with length 1.
    """
    return _reduce(torch.any, _as_tensor(x).bool(), axis, keepdims, "any")


def all(x: TensorLike, axis: Axis = None, keepdims: bool = False) -> torch.Tensor:  # noqa: A001
    """Logical AND over ``axis`` (``x`` is cast to bool); a bool tensor.

    Args:
        x: a tensor.
        axis: axis or axes to reduce; None reduces all.
        keepdims: keep reduced axes with length 1.
    """
    return _reduce(torch.all, _as_tensor(x).bool(), axis, keepdims, "all")


def argmax(x: TensorLike, axis: int = -1) -> torch.Tensor:
    """Index of the maximum along ``axis`` (int64).

    Args:
        x: a tensor.
        axis: the axis (``None`` means 0, as ``tf.argmax``).
    """
    return torch.argmax(_as_tensor(x), dim=0 if axis is None else int(axis))


def argmin(x: TensorLike, axis: int = -1) -> torch.Tensor:
    """Index of the minimum along ``axis`` (int64).

    Args:
        x: a tensor.
        axis: the axis (``None`` means 0, as ``tf.argmin``).
    """
    return torch.argmin(_as_tensor(x), dim=0 if axis is None else int(axis))


def logsumexp(x: TensorLike, axis: Axis = None, keepdims: bool = False) -> torch.Tensor:
    """``log(sum(exp(x)))`` over ``axis``, computed stably.

    Args:
        x: a tensor.
        axis: axis or axes to reduce; None reduces all.
        keepdims: keep reduced axes with length 1.
    """
    return _reduce(torch.logsumexp, _as_tensor(x), axis, keepdims, "logsumexp")


def cumsum(x: TensorLike, axis: int = 0) -> torch.Tensor:
    """Cumulative sum along ``axis``.

    Args:
        x: a tensor.
        axis: the axis.
    """
    return torch.cumsum(_as_tensor(x), dim=int(axis))


def cumprod(x: TensorLike, axis: int = 0) -> torch.Tensor:
    """Cumulative product along ``axis``.

    Args:
        x: a tensor.
        axis: the axis.
    """
    return torch.cumprod(_as_tensor(x), dim=int(axis))


# ------------------------------------------------------------------- element-wise

def square(x: TensorLike) -> torch.Tensor:
    """Element-wise square.

    Args:
        x: a tensor.
    """
    return torch.square(_as_tensor(x))


def sqrt(x: TensorLike) -> torch.Tensor:
    """Element-wise square root; negative entries are clipped to 0 first (as Keras).

    Args:
        x: a tensor.
    """
    x = _float_if_not(_as_tensor(x))
    return torch.sqrt(torch.clamp(x, min=0))


def abs(x: TensorLike) -> torch.Tensor:  # noqa: A001
    """Element-wise absolute value.

    Args:
        x: a tensor.
    """
    return torch.abs(_as_tensor(x))


def exp(x: TensorLike) -> torch.Tensor:
    """Element-wise exponential.

    Args:
        x: a tensor.
    """
    return torch.exp(_as_tensor(x))


def log(x: TensorLike) -> torch.Tensor:
    """Element-wise natural logarithm.

    Args:
        x: a tensor.
    """
    return torch.log(_as_tensor(x))


def pow(x: TensorLike, a: Any) -> torch.Tensor:  # noqa: A001
    """Element-wise ``x ** a``.

    Args:
        x: a tensor.
        a: the exponent (number or tensor).
    """
    x = _as_tensor(x)
    return torch.pow(x, a if isinstance(a, (int, float)) else _as_operand(a, x))


def _clip_bound(bound: Any, x: torch.Tensor) -> Any:
    if bound is None or isinstance(bound, (int, float)):
        return bound
    return _as_operand(bound, x)


def clip(x: TensorLike, min_value: Any, max_value: Any) -> torch.Tensor:
    """Element-wise clipping to ``[min_value, max_value]``; None means unbounded, and a
    numeric ``max_value`` below ``min_value`` is raised to it (as Keras).

    Args:
        x: a tensor.
        min_value: lower bound (number, tensor or None).
        max_value: upper bound (number, tensor or None).
    """
    x = _as_tensor(x)
    if isinstance(min_value, (int, float)) and isinstance(max_value, (int, float)) \
            and max_value < min_value:
        max_value = min_value
    return torch.clamp(x, min=_clip_bound(min_value, x), max=_clip_bound(max_value, x))


def maximum(x: TensorLike, y: TensorLike) -> torch.Tensor:
    """Element-wise maximum (with broadcasting).

    Args:
        x: a tensor.
        y: a tensor or number.
    """
    return torch.maximum(*_binary_operands(x, y))


def minimum(x: TensorLike, y: TensorLike) -> torch.Tensor:
    """Element-wise minimum (with broadcasting).

    Args:
        x: a tensor.
        y: a tensor or number.
    """
    return torch.minimum(*_binary_operands(x, y))


def round(x: TensorLike) -> torch.Tensor:  # noqa: A001
    """Element-wise rounding to the nearest integer, ties to even (as ``tf.round``).

    Args:
        x: a tensor.
    """
    return torch.round(_as_tensor(x))


def sign(x: TensorLike) -> torch.Tensor:
    """Element-wise sign (-1, 0 or 1).

    Args:
        x: a tensor.
    """
    return torch.sign(_as_tensor(x))


def sin(x: TensorLike) -> torch.Tensor:
    """Element-wise sine.

    Args:
        x: a tensor.
    """
    return torch.sin(_as_tensor(x))


def cos(x: TensorLike) -> torch.Tensor:
    """Element-wise cosine.

    Args:
        x: a tensor.
    """
    return torch.cos(_as_tensor(x))


# ------------------------------------------------------------------- comparisons

def equal(x: TensorLike, y: TensorLike) -> torch.Tensor:
    """Element-wise ``x == y`` (bool tensor).

    Args:
        x: a tensor.
        y: a tensor or number.
    """
    return torch.eq(*_binary_operands(x, y))


def not_equal(x: TensorLike, y: TensorLike) -> torch.Tensor:
    """Element-wise ``x != y`` (bool tensor).

    Args:
        x: a tensor.
        y: a tensor or number.
    """
    return torch.ne(*_binary_operands(x, y))


def greater(x: TensorLike, y: TensorLike) -> torch.Tensor:
    """Element-wise ``x > y`` (bool tensor).

    Args:
        x: a tensor.
        y: a tensor or number.
    """
    return torch.gt(*_binary_operands(x, y))


def greater_equal(x: TensorLike, y: TensorLike) -> torch.Tensor:
    """Element-wise ``x >= y`` (bool tensor).

    Args:
        x: a tensor.
        y: a tensor or number.
    """
    return torch.ge(*_binary_operands(x, y))


def less(x: TensorLike, y: TensorLike) -> torch.Tensor:
    """Element-wise ``x < y`` (bool tensor).

    Args:
        x: a tensor.
        y: a tensor or number.
    """
    return torch.lt(*_binary_operands(x, y))


def less_equal(x: TensorLike, y: TensorLike) -> torch.Tensor:
    """Element-wise ``x <= y`` (bool tensor).

    Args:
        x: a tensor.
        y: a tensor or number.
    """
    return torch.le(*_binary_operands(x, y))
