"""Conversion helpers shared by the backend's tensor functions (not part of ``K``).

Every function of ``K`` turns its arguments into torch tensors through one helper,
``_as_tensor`` (floats become ``floatx()``; ints and bools keep their kind), and reads
Keras-style ``axis`` / ``shape`` arguments through the helpers here.
"""
from __future__ import annotations

from typing import Any, Callable, Optional, Sequence, Tuple, Union, cast

import numpy as np
import torch

from .config import floatx, torch_dtype

__all__ = ["TensorLike", "Axis", "ShapeLike"]

TensorLike = Union[torch.Tensor, np.ndarray, float, int, bool, Sequence[Any]]
Axis = Union[int, Sequence[int], None]
ShapeLike = Union[int, Sequence[int], torch.Size]


def _is_symbolic(x: Any) -> bool:
    return hasattr(x, "_keras_history") and not isinstance(x, torch.Tensor)


def _numpy_to_torch_dtype(np_dtype: np.dtype) -> torch.dtype:
    kind = np_dtype.kind
    if kind == "f":
        return torch_dtype(floatx())
    if kind == "b":
        return torch.bool
    if kind == "c":
        return torch.complex128 if np_dtype.itemsize > 8 else torch.complex64
    if kind == "u" and np_dtype.itemsize == 1:
        return torch.uint8
    if kind in "iu":
        return torch.int64 if kind == "u" else torch_dtype(np_dtype.name)
    raise TypeError(f"Expected numeric data (a tensor, numpy array, number or list of numbers). "
                    f"Received an array of dtype {np_dtype}.")


def _as_tensor(x: TensorLike, dtype: Any = None, like: Optional[torch.Tensor] = None) -> torch.Tensor:
    """Turns ``x`` into a torch tensor, the one conversion every function here uses.

    Args:
        x: a torch tensor (returned as is, or cast to ``dtype``), a numpy array, a Python
            number or a (nested) list. Float data becomes ``floatx()``; ints and bools
            keep their kind.
        dtype: optional dtype (Keras name, numpy or torch dtype) to cast to.
        like: optional tensor; a converted (non-tensor) ``x`` is put on its device, and a
            Python number takes its dtype when torch's promotion rules allow it.

    Returns:
        A torch tensor.
    """
    target = None if dtype is None else torch_dtype(dtype)
    if isinstance(x, torch.Tensor):
        return x if target is None or x.dtype == target else x.to(target)
    if _is_symbolic(x):
        raise TypeError(
            f"Expected a tensor with data, received the symbolic tensor {x!r}. Symbolic "
            "tensors describe a model; use backend functions inside a layer's call() "
            "(or a Lambda layer), where they receive real tensors.")
    device = like.device if like is not None else None
    if target is None and like is not None and isinstance(x, (bool, int, float)) \
            and not isinstance(x, np.generic):
        target = torch.result_type(like, x)
    arr = np.asarray(x)
    if target is None:
        target = _numpy_to_torch_dtype(arr.dtype)
    return torch.tensor(arr, dtype=target, device=device)


def _as_operand(y: TensorLike, like: torch.Tensor) -> torch.Tensor:
    """The second operand of a binary op, on ``like``'s device (numbers take its dtype)."""
    return _as_tensor(y, like=like)


def _binary_operands(x: TensorLike, y: TensorLike) -> Tuple[torch.Tensor, torch.Tensor]:
    if isinstance(x, torch.Tensor) or not isinstance(y, torch.Tensor):
        x = _as_tensor(x)
        return x, _as_operand(y, x)
    y = _as_tensor(y)
    return _as_operand(x, y), y


def _axes_tuple(axis: Axis) -> Optional[Tuple[int, ...]]:
    if axis is None:
        return None
    if isinstance(axis, (list, tuple)):
        return tuple(int(a) for a in axis)
    return (int(cast(int, axis)),)


def _positive_axes(axes: Sequence[int], rank: int, where: str) -> Tuple[int, ...]:
    out = []
    for a in axes:
        if not -rank <= a < max(rank, 1):
            raise ValueError(f"`{where}`: axis {a} is out of range for a tensor of rank {rank}.")
        out.append(a % max(rank, 1))
    return tuple(out)


def _reduce(fn: Callable[..., torch.Tensor], x: torch.Tensor, axis: Axis, keepdims: bool,
            where: str) -> torch.Tensor:
    """Applies a torch reduction that takes ``dim`` (tuple) and ``keepdim``, Keras-style."""
    rank = x.dim()
    if rank == 0:
        return fn(x.reshape(1), dim=(0,), keepdim=False)
    if axis is None:
        return fn(x, dim=_ALL_AXES[rank] if rank < 8 else tuple(range(rank)),
                  keepdim=bool(keepdims))
    dims = cast(Tuple[int, ...], _axes_tuple(axis))
    if not dims:
        return x
    return fn(x, dim=_positive_axes(dims, rank, where), keepdim=bool(keepdims))


_ALL_AXES = [tuple(range(rank)) for rank in range(8)]


def _shape_tuple(shape: ShapeLike, where: str) -> Tuple[int, ...]:
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    if isinstance(shape, torch.Tensor):
        shape = shape.tolist()
    try:
        dims = tuple(int(d) for d in shape)
    except (TypeError, ValueError):
        raise ValueError(f"`{where}` expects a shape (a tuple of integers). Received: "
                         f"shape={shape!r}") from None
    return dims


def _default_device() -> torch.device:
    get = getattr(torch, "get_default_device", None)
    return get() if get is not None else torch.empty(0).device
