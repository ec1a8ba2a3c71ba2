"""Shape and linear-algebra functions of the Keras backend ``K``: ``dot`` /
``batch_dot`` / ``transpose`` / ``gather`` and the functions that reshape, join, repeat
or reorder tensors (``reshape``, ``concatenate``, ``permute_dimensions``, ``tile``, ...).

``shape(x)`` itself (``x.shape``, a ``torch.Size``) is in ``variables`` with the other
tensor introspection functions.
"""
from __future__ import annotations

import math
from typing import Any, Sequence, Tuple, Union

import numpy as np
import torch

from .config import torch_dtype
from .conversion import ShapeLike, TensorLike, _as_tensor, _binary_operands, _positive_axes
from .variables import dtype

__all__ = [
    "dot", "batch_dot", "transpose", "gather", "concatenate", "stack", "reshape",
    "permute_dimensions", "expand_dims", "squeeze", "repeat", "repeat_elements", "tile",
    "flatten", "batch_flatten", "reverse", "arange", "one_hot",
]


# ------------------------------------------------------------------- linear algebra

def dot(x: TensorLike, y: TensorLike) -> torch.Tensor:
    """``numpy.dot``-like product: for nD tensors, sums over the last axis of ``x`` and the
    second-to-last axis of ``y``; ``x (2, 3)`` . ``y (4, 3, 5)`` -> ``(2, 4, 5)``.

    Args:
        x: a tensor.
        y: a tensor.
    """
    x, y = _binary_operands(x, y)
    if y.dim() <= 2:
        return torch.matmul(x, y)
    return torch.tensordot(x, y, dims=([x.dim() - 1], [y.dim() - 2]))


def _batch_dot_axes(axes: Any, x_ndim: int, y_ndim: int) -> Tuple[int, int]:
    if isinstance(axes, (int, np.integer)):
        axes = [int(axes), int(axes)]
    if axes is None:
        axes = [x_ndim - 1, y_ndim - 1 if y_ndim == 2 else y_ndim - 2]
    if any(isinstance(a, (list, tuple)) for a in axes) or len(axes) != 2:
        raise ValueError("Multiple target dimensions are not supported. Expected: None, int, "
                         f"(int, int), Provided: {axes}")
    a0, a1 = int(axes[0]), int(axes[1])
    a0 = a0 + x_ndim if a0 < 0 else a0
    a1 = a1 + y_ndim if a1 < 0 else a1
    if a0 == 0 or a1 == 0:
        raise ValueError("Cannot perform batch_dot over axis 0. If your inputs are not "
                         "batched, add a dummy batch dimension to your inputs using "
                         "K.expand_dims(x, 0)")
    if not (0 < a0 < x_ndim and 0 < a1 < y_ndim):
        raise ValueError(f"batch_dot: axes {axes} are out of range for inputs of rank "
                         f"{x_ndim} and {y_ndim}.")
    return a0, a1


def batch_dot(x: TensorLike, y: TensorLike, axes: Any = None) -> torch.Tensor:
    """Batchwise dot product, as Keras 2.

    The output shape is ``x``'s shape without the summed axis, followed by ``y``'s shape
    without the batch axis and the summed axis; a 2D ``x`` gives ``(batch, ...)`` outputs
    of rank at least 2: ``x (32, 20, 1)``, ``y (32, 30, 20)``, ``axes=(1, 2)`` ->
    ``(32, 1, 30)``; ``x (2, 2)``, ``y (2, 2)``, ``axes=1`` -> ``(2, 1)``.

    Args:
        x: tensor with ``ndim >= 2``.
        y: tensor with ``ndim >= 2``.
        axes: int or ``(int, int)``: the axes summed over; default: the last axis of
            ``x`` and the second-to-last (last for 2D) of ``y``.
    """
    x, y = _binary_operands(x, y)
    x_shape, y_shape = tuple(x.shape), tuple(y.shape)
    if x.dim() < 2 or y.dim() < 2:
        raise ValueError("Cannot do batch_dot on inputs with rank < 2. Received inputs with "
                         f"shapes {x_shape} and {y_shape}.")
    if x_shape[0] != y_shape[0]:
        raise ValueError("Cannot do batch_dot on inputs with different batch sizes. Received "
                         f"inputs with shapes {x_shape} and {y_shape}.")
    a0, a1 = _batch_dot_axes(axes, x.dim(), y.dim())
    if x_shape[a0] != y_shape[a1]:
        raise ValueError(f"Cannot do batch_dot on inputs with shapes {x_shape} and {y_shape} "
                         f"with axes={[a0, a1]}. x.shape[{a0}] != y.shape[{a1}] "
                         f"({x_shape[a0]} != {y_shape[a1]}).")
    x_was_2d, y_was_2d = x.dim() == 2, y.dim() == 2
    if x_was_2d:
        x, a0 = x.unsqueeze(1), a0 + 1
    if y_was_2d:
        y = y.unsqueeze(2)
    x = torch.movedim(x, a0, -1)  # (batch, *x_rest, k)
    y = torch.movedim(y, a1, 1)   # (batch, k, *y_rest)
    batch, k = x.shape[0], x.shape[-1]
    x_rest, y_rest = tuple(x.shape[1:-1]), tuple(y.shape[2:])
    out = torch.matmul(x.reshape(batch, math.prod(x_rest), k),
                       y.reshape(batch, k, math.prod(y_rest)))
    out = out.reshape((batch,) + x_rest + y_rest)
    if x_was_2d:
        return out.squeeze(1)
    if y_was_2d:
        return out.squeeze(-1)
    return out


def transpose(x: TensorLike) -> torch.Tensor:
    """Reverses the order of all axes (``(2, 3)`` -> ``(3, 2)``).

    Args:
        x: a tensor.
    """
    x = _as_tensor(x)
    return x.permute(tuple(reversed(range(x.dim()))))


def gather(reference: TensorLike, indices: TensorLike) -> torch.Tensor:
    """Rows of ``reference`` (along axis 0) at ``indices``; output shape
    ``indices.shape + reference.shape[1:]``.

    Args:
        reference: a tensor.
        indices: an integer tensor, array or list.
    """
    reference = _as_tensor(reference)
    indices = _as_tensor(indices, like=reference)
    if indices.dtype.is_floating_point or indices.dtype == torch.bool:
        raise TypeError(f"`gather` expects integer indices. Received dtype {dtype(indices)}.")
    return reference[indices.long()]


# ------------------------------------------------------------------- shapes

def concatenate(tensors: Sequence[TensorLike], axis: int = -1) -> torch.Tensor:
    """Concatenates tensors along ``axis``.

    Args:
        tensors: list of tensors.
        axis: the axis (negative counts from the end of the first tensor's rank).
    """
    if not tensors:
        raise ValueError("`concatenate` expects a non-empty list of tensors.")
    ts = [_as_tensor(t) for t in tensors]
    first = next((t for t, orig in zip(ts, tensors) if isinstance(orig, torch.Tensor)), ts[0])
    ts = [t.to(first.device) for t in ts]
    if axis < 0:
        rank = ts[0].dim()
        axis = axis % rank if rank else 0
    return torch.cat(ts, dim=axis)


def stack(x: Sequence[TensorLike], axis: int = 0) -> torch.Tensor:
    """Stacks rank-R tensors into one rank-(R+1) tensor.

    Args:
        x: list of tensors of the same shape.
        axis: the new axis.
    """
    return torch.stack([_as_tensor(t) for t in x], dim=axis)


def reshape(x: TensorLike, shape: ShapeLike) -> torch.Tensor:
    """Reshapes ``x`` (one entry may be -1).

    Args:
        x: a tensor.
        shape: the target shape, e.g. ``(K.shape(x)[0], -1)``.
    """
    x = _as_tensor(x)
    if isinstance(shape, (int, np.integer)):
        shape = (int(shape),)
    return torch.reshape(x, tuple(shape))


def permute_dimensions(x: TensorLike, pattern: Sequence[int]) -> torch.Tensor:
    """Permutes the axes of ``x``: ``pattern=(0, 2, 1)`` swaps the last two.

    Args:
        x: a tensor.
        pattern: a permutation of ``range(ndim(x))``.
    """
    x = _as_tensor(x)
    pattern = tuple(int(p) for p in pattern)
    if sorted(p % max(x.dim(), 1) for p in pattern) != list(range(x.dim())):
        raise ValueError(f"`permute_dimensions` expects a permutation of {list(range(x.dim()))}"
                         f". Received: pattern={pattern}")
    return x.permute(pattern)


def expand_dims(x: TensorLike, axis: int = -1) -> torch.Tensor:
    """Inserts an axis of length 1 at ``axis``.

    Args:
        x: a tensor.
        axis: where to insert (-1: new last axis).
    """
    return torch.unsqueeze(_as_tensor(x), int(axis))


def squeeze(x: TensorLike, axis: int) -> torch.Tensor:
    """Removes the axis ``axis``, which must have length 1.

    Args:
        x: a tensor.
        axis: the axis to drop.
    """
    x = _as_tensor(x)
    (a,) = _positive_axes([int(axis)], x.dim(), "squeeze")
    if x.shape[a] != 1:
        raise ValueError(f"Can not squeeze dim[{axis}], expected a dimension of 1, got "
                         f"{x.shape[a]} (input shape {tuple(x.shape)}).")
    return x.squeeze(a)


def repeat(x: TensorLike, n: int) -> torch.Tensor:
    """Repeats a 2D tensor: ``(samples, dim)`` -> ``(samples, n, dim)`` (``RepeatVector``).

    Args:
        x: a 2D tensor.
        n: number of repetitions.
    """
    x = _as_tensor(x)
    if x.dim() != 2:
        raise ValueError(f"`repeat` expects a 2D tensor. Received shape {tuple(x.shape)}.")
    return x.unsqueeze(1).repeat(1, int(n), 1)


def repeat_elements(x: TensorLike, rep: int, axis: int) -> torch.Tensor:
    """Repeats each element along ``axis`` ``rep`` times, like ``np.repeat``.

    Args:
        x: a tensor.
        rep: number of repetitions.
        axis: the axis.
    """
    return torch.repeat_interleave(_as_tensor(x), int(rep), dim=int(axis))


def tile(x: TensorLike, n: Union[int, Sequence[int]]) -> torch.Tensor:
    """Tiles ``x``: ``n[i]`` copies along axis ``i``.

    Args:
        x: a tensor.
        n: an int (for 1D ``x``) or one int per axis of ``x``.
    """
    x = _as_tensor(x)
    reps = (int(n),) if isinstance(n, (int, np.integer)) else tuple(int(r) for r in n)
    if len(reps) != x.dim():
        raise ValueError(f"`tile` expects one multiple per axis of the input ({x.dim()}). "
                         f"Received: n={n} for input shape {tuple(x.shape)}.")
    return x.repeat(reps)


def flatten(x: TensorLike) -> torch.Tensor:
    """Flattens ``x`` to 1D.

    Args:
        x: a tensor.
    """
    return _as_tensor(x).reshape(-1)


def batch_flatten(x: TensorLike) -> torch.Tensor:
    """Flattens every sample: ``(batch, d1, d2, ...)`` -> ``(batch, d1 * d2 * ...)``.

    Args:
        x: a tensor with a batch axis.
    """
    x = _as_tensor(x)
    return x.reshape(x.shape[0], math.prod(x.shape[1:]))


def reverse(x: TensorLike, axes: Union[int, Sequence[int]]) -> torch.Tensor:
    """Reverses ``x`` along ``axes``.

    Args:
        x: a tensor.
        axes: an int or a list of ints.
    """
    dims = (int(axes),) if isinstance(axes, (int, np.integer)) else tuple(int(a) for a in axes)
    return torch.flip(_as_tensor(x), dims)


def arange(start: Any, stop: Any = None, step: Any = 1, dtype: Any = "int32") -> torch.Tensor:
    """A 1D range, Theano/Keras style: one argument is the stop (negative -> empty).

    Float arguments give float32 values; ``dtype`` other than ``'int32'`` casts the result.

    Args:
        start: start value (or stop when ``stop`` is None).
        stop: stop value (excluded).
        step: step.
        dtype: dtype of the result.
    """
    if stop is None:
        start, stop = 0, max(start, 0)
    all_ints = all(isinstance(v, (int, np.integer)) for v in (start, stop, step))
    out = torch.arange(start, stop, step, dtype=torch.int32 if all_ints else torch.float32)
    return out if dtype == "int32" else out.to(torch_dtype(dtype))


def one_hot(indices: TensorLike, num_classes: int) -> torch.Tensor:
    """One-hot encoding on a new last axis (float32, as ``tf.one_hot``); out-of-range
    indices give all-zero rows.

    Args:
        indices: integer tensor of shape ``(batch, ...)``.
        num_classes: number of classes.
    """
    indices = _as_tensor(indices)
    classes = torch.arange(int(num_classes), device=indices.device)
    return (indices.long().unsqueeze(-1) == classes).to(torch.float32)
