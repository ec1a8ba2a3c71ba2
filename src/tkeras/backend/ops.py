"""Tensor functions of the Keras backend ``K``, on torch tensors.

``from tkeras import backend as K`` gives the functions that Keras 2 custom layers,
losses and metrics call (``K.dot``, ``K.batch_dot``, ``K.sum``, ``K.dropout``, ...), with
tf.keras 2 semantics. Every function accepts torch tensors, numpy arrays, Python
numbers and lists (converted by one helper, ``_as_tensor``: floats become ``floatx()``)
and returns torch tensors, so autograd flows through them. Nothing here reads a tensor's
value on the host except the explicit host reads ``get_value`` / ``eval`` /
``batch_get_value`` / ``print_tensor``.

Differences from TensorFlow that follow from torch:
* ``shape(x)`` is ``x.shape`` (a ``torch.Size`` of ints), not a tensor.
* ``variable(...)`` is a plain leaf tensor (``requires_grad=False``) carrying
  ``_keras_name`` (``"<name>:0"``) and ``constraint`` attributes.
* Seeded random functions draw from one ``torch.Generator`` per (seed, device): successive
  calls give a reproducible sequence of *different* values, as TF's seeded stateful ops
  do. ``clear_session()`` restarts these sequences. Unseeded calls use torch's global RNG
  (``torch.manual_seed`` / ``tkeras.utils.set_random_seed`` condition them).
"""
from __future__ import annotations

import builtins
import math
import warnings
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F

from .._warn import TkerasDeprecationWarning, TkerasWarning
from . import config
from .config import (
    epsilon, floatx, learning_phase, set_epsilon, set_floatx, set_learning_phase, torch_dtype,
)

TensorLike = Union[torch.Tensor, np.ndarray, float, int, bool, Sequence[Any]]
Axis = Union[int, Sequence[int], None]
ShapeLike = Union[int, Sequence[int], torch.Size]

_py_max, _py_min, _py_abs, _py_sum, _py_any, _py_all = (
    builtins.max, builtins.min, builtins.abs, builtins.sum, builtins.any, builtins.all)

__all__ = [
    # configuration (re-exported from config)
    "epsilon", "floatx", "set_epsilon", "set_floatx", "learning_phase", "set_learning_phase",
    # conversion, variables and values
    "is_tensor", "is_keras_tensor", "is_sparse", "to_dense", "int_shape", "shape", "ndim",
    "dtype", "cast", "cast_to_floatx", "variable", "constant", "zeros", "ones", "eye",
    "zeros_like", "ones_like", "identity", "get_value", "set_value", "batch_get_value",
    "batch_set_value", "eval", "count_params", "update", "update_add", "update_sub",
    "moving_average_update", "print_tensor",
    # linear algebra
    "dot", "batch_dot", "transpose", "gather",
    # reductions
    "sum", "mean", "max", "min", "prod", "std", "var", "any", "all", "argmax", "argmin",
    "logsumexp", "cumsum", "cumprod",
    # element-wise
    "square", "sqrt", "abs", "exp", "log", "pow", "clip", "maximum", "minimum", "round",
    "sign", "sin", "cos", "equal", "not_equal", "greater", "greater_equal", "less",
    "less_equal",
    # shapes
    "concatenate", "stack", "reshape", "permute_dimensions", "expand_dims", "squeeze",
    "repeat", "repeat_elements", "tile", "flatten", "batch_flatten", "reverse", "arange",
    "one_hot",
    # control flow and higher-order
    "switch", "in_train_phase", "in_test_phase", "stop_gradient", "map_fn", "foldl", "foldr",
    # nn
    "relu", "elu", "sigmoid", "hard_sigmoid", "softmax", "softplus", "softsign", "tanh",
    "l2_normalize", "bias_add", "dropout", "in_top_k", "batch_normalization",
    "normalize_batch_in_training", "categorical_crossentropy",
    "sparse_categorical_crossentropy", "binary_crossentropy", "binary_focal_crossentropy",
    "categorical_focal_crossentropy",
    # random
    "random_normal", "random_uniform", "random_bernoulli", "random_binomial",
    "truncated_normal", "random_normal_variable", "random_uniform_variable",
]


# =================================================================== conversion helpers

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
    return (int(axis),)


def _positive_axes(axes: Sequence[int], rank: int, where: str) -> Tuple[int, ...]:
    out = []
    for a in axes:
        if not -rank <= a < _py_max(rank, 1):
            raise ValueError(f"`{where}`: axis {a} is out of range for a tensor of rank {rank}.")
        out.append(a % _py_max(rank, 1))
    return tuple(out)


def _reduce(fn: Callable[..., torch.Tensor], x: torch.Tensor, axis: Axis, keepdims: bool,
            where: str) -> torch.Tensor:
    """Applies a torch reduction that takes ``dim`` (tuple) and ``keepdim``, Keras-style."""
    if x.dim() == 0:
        return fn(x.reshape(1), dim=(0,), keepdim=False)
    dims = _axes_tuple(axis)
    if dims is None:
        dims = tuple(range(x.dim()))
    elif not dims:
        return x
    dims = _positive_axes(dims, x.dim(), where)
    return fn(x, dim=dims, keepdim=bool(keepdims))


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


# =================================================================== tensors and values

def is_tensor(x: Any) -> bool:
    """Whether ``x`` is a torch tensor or a symbolic Keras tensor.

    Args:
        x: any object.
    """
    return isinstance(x, torch.Tensor) or _is_symbolic(x)


def is_keras_tensor(x: Any) -> bool:
    """Whether ``x`` is a symbolic Keras tensor (returned by ``Input`` or a layer call).

    Args:
        x: a tensor.

    Raises:
        ValueError: when ``x`` is not a tensor at all (e.g. a numpy array), as in Keras.
    """
    if hasattr(x, "_keras_history"):
        return True
    if isinstance(x, torch.Tensor):
        return False
    raise ValueError(f"Unexpectedly found an instance of type `{type(x)}`. "
                     "Expected a symbolic tensor instance.")


def is_sparse(tensor: Any) -> bool:
    """Whether ``tensor`` is a torch sparse tensor.

    Args:
        tensor: a tensor.
    """
    return isinstance(tensor, torch.Tensor) and tensor.layout != torch.strided


def to_dense(tensor: TensorLike) -> torch.Tensor:
    """A dense version of ``tensor`` (itself when already dense).

    Args:
        tensor: a tensor, possibly sparse.
    """
    tensor = _as_tensor(tensor)
    return tensor.to_dense() if is_sparse(tensor) else tensor


def int_shape(x: Any) -> Optional[Tuple[Optional[int], ...]]:
    """The shape of ``x`` as a tuple of ints (``None`` for unknown sizes of symbolic tensors).

    Args:
        x: a tensor, numpy array, symbolic Keras tensor or number.
    """
    if isinstance(x, torch.Tensor):
        return tuple(int(d) for d in x.shape)
    shp = getattr(x, "shape", None)
    if shp is None:
        return tuple(np.shape(x))
    return tuple(None if d is None else int(d) for d in shp)


def shape(x: Any) -> Union[torch.Size, Tuple[Optional[int], ...]]:
    """The shape of ``x``: ``x.shape`` (a ``torch.Size``), usable in ``K.reshape``.

    Args:
        x: a tensor, numpy array or symbolic Keras tensor.
    """
    if isinstance(x, torch.Tensor):
        return x.shape
    if _is_symbolic(x):
        return tuple(x.shape)
    return torch.Size(np.shape(x))


def ndim(x: Any) -> int:
    """The number of axes of ``x``.

    Args:
        x: a tensor, numpy array or symbolic Keras tensor.
    """
    if isinstance(x, torch.Tensor):
        return x.dim()
    return len(int_shape(x))


def dtype(x: Any) -> str:
    """The Keras name of ``x``'s dtype, e.g. ``'float32'``.

    Args:
        x: a tensor, numpy array or symbolic Keras tensor.
    """
    dt = getattr(x, "dtype", None)
    if dt is None:
        raise TypeError(f"`dtype` expects a tensor. Received: {x!r} of type {type(x).__name__}")
    if isinstance(dt, str):
        return dt
    return config.dtype_name(dt)


def cast(x: TensorLike, dtype: Any) -> torch.Tensor:
    """Casts ``x`` to ``dtype``.

    Args:
        x: a tensor.
        dtype: a Keras dtype name (``'float16'``, ``'int32'``, ...), numpy or torch dtype.

    Raises:
        ValueError: for an unknown dtype name.
    """
    return _as_tensor(x).to(torch_dtype(dtype))


def cast_to_floatx(x: Any) -> Any:
    """Casts a numpy array (or tensor) to ``floatx()``; numpy in, numpy out.

    Args:
        x: a numpy array, number or tensor.
    """
    if isinstance(x, torch.Tensor):
        return x.to(torch_dtype(floatx()))
    return np.asarray(x, dtype=floatx())


def variable(value: TensorLike, dtype: Any = None, name: Optional[str] = None,
             constraint: Optional[Callable] = None) -> torch.Tensor:
    """Creates a variable: a leaf tensor holding a copy of ``value``.

    Args:
        value: initial value (array, tensor, number or list).
        dtype: dtype of the variable; ``floatx()`` when None (as Keras).
        name: variable name; stored as ``_keras_name = name + ":0"`` (default ``Variable``).
        constraint: optional projection applied after optimizer updates; stored as
            the ``constraint`` attribute.

    Returns:
        A tensor with ``requires_grad=False``. Change it with ``set_value``.
    """
    target = torch_dtype(dtype)
    if isinstance(value, torch.Tensor):
        v = value.detach().to(target).clone()
    else:
        v = _as_tensor(value, dtype=target).clone()
    v.requires_grad_(False)
    v._keras_name = f"{name or 'Variable'}:0"
    v.constraint = constraint
    return v


def constant(value: TensorLike, dtype: Any = None, shape: Optional[ShapeLike] = None,
             name: Optional[str] = None) -> torch.Tensor:
    """Creates a constant tensor.

    Args:
        value: a number, list or array.
        dtype: dtype; ``floatx()`` when None.
        shape: optional shape; a single value is broadcast to it, otherwise the value
            is reshaped to it.
        name: unused (kept for Keras compatibility).
    """
    t = _as_tensor(value, dtype=torch_dtype(dtype))
    if shape is None:
        return t
    dims = _shape_tuple(shape, "constant")
    if t.numel() == 1:
        return t.reshape(()).expand(dims).clone()
    if t.numel() != math.prod(dims):
        raise ValueError(f"`constant`: a value with {t.numel()} elements cannot take the "
                         f"shape {dims}.")
    return t.reshape(dims)


def zeros(shape: ShapeLike, dtype: Any = None, name: Optional[str] = None) -> torch.Tensor:
    """An all-zeros variable.

    Args:
        shape: shape of the variable.
        dtype: dtype; ``floatx()`` when None.
        name: variable name.
    """
    dims = _shape_tuple(shape, "zeros")
    return variable(torch.zeros(dims, dtype=torch_dtype(dtype)), dtype, name)


def ones(shape: ShapeLike, dtype: Any = None, name: Optional[str] = None) -> torch.Tensor:
    """An all-ones variable.

    Args:
        shape: shape of the variable.
        dtype: dtype; ``floatx()`` when None.
        name: variable name.
    """
    dims = _shape_tuple(shape, "ones")
    return variable(torch.ones(dims, dtype=torch_dtype(dtype)), dtype, name)


def eye(size: Union[int, Sequence[int]], dtype: Any = None,
        name: Optional[str] = None) -> torch.Tensor:
    """An identity-matrix variable.

    Args:
        size: number of rows (and columns), or a ``(rows, columns)`` pair.
        dtype: dtype; ``floatx()`` when None.
        name: variable name.
    """
    rows, cols = (size, size) if isinstance(size, (int, np.integer)) else tuple(size)
    return variable(torch.eye(int(rows), int(cols), dtype=torch_dtype(dtype)), dtype, name)


def zeros_like(x: TensorLike, dtype: Any = None, name: Optional[str] = None) -> torch.Tensor:
    """Zeros with the shape (and, by default, the dtype) of ``x``.

    Args:
        x: a tensor.
        dtype: dtype; ``x``'s when None.
        name: unused.
    """
    x = _as_tensor(x)
    return torch.zeros_like(x, dtype=None if dtype is None else torch_dtype(dtype))


def ones_like(x: TensorLike, dtype: Any = None, name: Optional[str] = None) -> torch.Tensor:
    """Ones with the shape (and, by default, the dtype) of ``x``.

    Args:
        x: a tensor.
        dtype: dtype; ``x``'s when None.
        name: unused.
    """
    x = _as_tensor(x)
    return torch.ones_like(x, dtype=None if dtype is None else torch_dtype(dtype))


def identity(x: TensorLike, name: Optional[str] = None) -> torch.Tensor:
    """A new tensor with the same content as ``x`` (gradients flow through it).

    Args:
        x: a tensor.
        name: unused.
    """
    return _as_tensor(x).clone()


def get_value(x: Any) -> Any:
    """The value of ``x`` as numpy (a numpy scalar for 0-d tensors): a host read.

    Args:
        x: a tensor; anything else is returned unchanged, as in Keras.
    """
    if not isinstance(x, torch.Tensor):
        return x
    t = x.detach()
    if t.device.type == "meta":
        raise ValueError("`get_value` cannot read a tensor on the 'meta' device (it has no data).")
    if t.dtype == torch.bfloat16:
        t = t.float()  # numpy has no bfloat16
    arr = t.cpu().resolve_conj().resolve_neg().numpy().copy()
    return arr[()] if arr.ndim == 0 else arr


def eval(x: Any) -> Any:  # noqa: A001 - Keras's name
    """Same as ``get_value``: the value of ``x`` as numpy.

    Args:
        x: a tensor.
    """
    return get_value(to_dense(x) if isinstance(x, torch.Tensor) else x)


def batch_get_value(tensors: Sequence[Any]) -> List[Any]:
    """``get_value`` of each tensor in a list.

    Args:
        tensors: list of tensors.
    """
    return [get_value(t) for t in tensors]


def set_value(x: torch.Tensor, value: TensorLike) -> None:
    """Writes ``value`` into the variable ``x`` in place (its dtype and device are kept).

    Args:
        x: the tensor to write to.
        value: a numpy array, number, list or tensor of the same shape.

    Raises:
        TypeError: if ``x`` is not a torch tensor.
        ValueError: if the shapes differ.
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"`set_value` expects a tensor (variable) to write to. "
                        f"Received: {type(x).__name__}")
    if isinstance(value, torch.Tensor):
        src = value.detach().to(device=x.device, dtype=x.dtype)
    else:
        src = torch.as_tensor(np.asarray(value), device=x.device).to(x.dtype)
    if tuple(src.shape) != tuple(x.shape):
        name = getattr(x, "_keras_name", None)
        where = f" {name!r}" if name else ""
        raise ValueError(f"Cannot assign a value of shape {tuple(src.shape)} to the variable"
                         f"{where} of shape {tuple(x.shape)}.")
    with torch.no_grad():
        x.copy_(src)


def batch_set_value(tuples: Sequence[Tuple[torch.Tensor, TensorLike]]) -> None:
    """``set_value`` for each ``(variable, value)`` pair.

    Args:
        tuples: list of ``(tensor, value)`` pairs.
    """
    for x, value in tuples:
        set_value(x, value)


def count_params(x: Any) -> int:
    """The number of elements of ``x``.

    Args:
        x: a tensor or variable.
    """
    return int(np.prod(int_shape(x), dtype=np.int64))


def _in_place(x: torch.Tensor, where: str) -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"`{where}` expects a tensor (variable). Received: {type(x).__name__}")
    return x


def update(x: torch.Tensor, new_x: TensorLike) -> torch.Tensor:
    """Sets ``x`` to ``new_x`` in place and returns ``x``.

    Args:
        x: a variable.
        new_x: a tensor of the same shape.
    """
    x = _in_place(x, "update")
    with torch.no_grad():
        x.copy_(_as_operand(new_x, x))
    return x


def update_add(x: torch.Tensor, increment: TensorLike) -> torch.Tensor:
    """Adds ``increment`` to ``x`` in place and returns ``x``.

    Args:
        x: a variable.
        increment: a tensor of the same shape.
    """
    x = _in_place(x, "update_add")
    with torch.no_grad():
        x.add_(_as_operand(increment, x))
    return x


def update_sub(x: torch.Tensor, decrement: TensorLike) -> torch.Tensor:
    """Subtracts ``decrement`` from ``x`` in place and returns ``x``.

    Args:
        x: a variable.
        decrement: a tensor of the same shape.
    """
    x = _in_place(x, "update_sub")
    with torch.no_grad():
        x.sub_(_as_operand(decrement, x))
    return x


def moving_average_update(x: torch.Tensor, value: TensorLike, momentum: Any) -> torch.Tensor:
    """``x = x * momentum + value * (1 - momentum)``, in place; returns ``x``.

    Args:
        x: the moving-average variable.
        value: the new value, same shape as ``x``.
        momentum: the moving average momentum (number or tensor).
    """
    x = _in_place(x, "moving_average_update")
    with torch.no_grad():
        value = _as_operand(value, x).to(x.dtype)
        momentum = _as_operand(momentum, x).to(x.dtype)
        x.sub_((x - value) * (1 - momentum))
    return x


def print_tensor(x: TensorLike, message: str = "", summarize: int = 3) -> torch.Tensor:
    """Prints ``message`` and ``x`` (a host read) and returns ``x``.

    Args:
        x: a tensor.
        message: text printed before the value.
        summarize: unused (torch prints its own summary).
    """
    x = _as_tensor(x)
    print(message, x)
    return x


# =================================================================== linear algebra

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
    if _py_any(isinstance(a, (list, tuple)) for a in axes) or len(axes) != 2:
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


# =================================================================== reductions

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


# =================================================================== element-wise

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


# =================================================================== shapes

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
    if sorted(p % _py_max(x.dim(), 1) for p in pattern) != list(range(x.dim())):
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
        start, stop = 0, _py_max(start, 0)
    all_ints = _py_all(isinstance(v, (int, np.integer)) for v in (start, stop, step))
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


# =================================================================== control flow

_TRAINING_FLAG_PROVIDER: Optional[Callable[[], Any]] = None


def register_training_flag_provider(fn: Optional[Callable[[], Any]]) -> None:
    """Lets the engine supply the current call's ``training`` flag to ``in_train_phase``.

    Args:
        fn: a function returning the training flag of the layer call in progress (or
            None outside calls); None unregisters. The backend never imports the engine.
    """
    global _TRAINING_FLAG_PROVIDER
    _TRAINING_FLAG_PROVIDER = fn


def _call_result(v: Any) -> Any:
    return v() if callable(v) else v


def switch(condition: Any, then_expression: Any, else_expression: Any) -> Any:
    """Chooses between two expressions (tensors or callables) according to ``condition``.

    A Python bool picks one branch. A scalar condition tensor selects without a host
    read (both branches are evaluated). A condition of rank >= 1 selects element-wise;
    its axes align with the leading axes of the expressions.

    Args:
        condition: Python bool or bool/number tensor.
        then_expression: tensor or callable returning one.
        else_expression: tensor or callable returning one.
    """
    if not isinstance(condition, (torch.Tensor, np.ndarray)):
        return _call_result(then_expression if condition else else_expression)
    cond = _as_tensor(condition).bool()
    then_v = _call_result(then_expression)
    else_v = _call_result(else_expression)
    then_t = _as_tensor(then_v, like=cond if not isinstance(else_v, torch.Tensor) else else_v)
    else_t = _as_operand(else_v, then_t)
    expr_ndim = _py_max(then_t.dim(), else_t.dim())
    if cond.dim() > expr_ndim:
        raise ValueError("Rank of `condition` should be less than or equal to rank of "
                         f"`then_expression` and `else_expression`. ndim(condition)="
                         f"{cond.dim()}, ndim(then_expression)={expr_ndim}")
    if 0 < cond.dim() < expr_ndim:
        cond = cond.reshape(tuple(cond.shape) + (1,) * (expr_ndim - cond.dim()))
    return torch.where(cond.to(then_t.device), then_t, else_t)


def in_train_phase(x: Any, alt: Any, training: Any = None) -> Any:
    """``x`` in the training phase, ``alt`` otherwise (each a tensor or a callable).

    Args:
        x: what to return when training.
        alt: what to return otherwise.
        training: Python bool/int or scalar bool tensor; None uses the flag of the layer
            call in progress (when the engine provides one), else ``learning_phase()``.
    """
    if training is None and _TRAINING_FLAG_PROVIDER is not None:
        training = _TRAINING_FLAG_PROVIDER()
    if training is None:
        training = learning_phase()
    if isinstance(training, torch.Tensor):
        return switch(training, x, alt)
    return _call_result(x if bool(training) else alt)


def in_test_phase(x: Any, alt: Any, training: Any = None) -> Any:
    """``x`` in the test phase, ``alt`` otherwise (``in_train_phase(alt, x)``).

    Args:
        x: what to return at test time.
        alt: what to return otherwise.
        training: as in ``in_train_phase``.
    """
    return in_train_phase(alt, x, training=training)


def stop_gradient(variables: Any) -> Any:
    """``variables`` with no gradient flowing back (a tensor, or a list of tensors).

    Args:
        variables: a tensor or a list/tuple of tensors.
    """
    if isinstance(variables, (list, tuple)):
        return [_as_tensor(v).detach() for v in variables]
    return _as_tensor(variables).detach()


def map_fn(fn: Callable, elems: TensorLike, name: Optional[str] = None,
           dtype: Any = None) -> torch.Tensor:
    """Applies ``fn`` to each slice of ``elems`` along axis 0 and stacks the results.

    Args:
        fn: function of one slice.
        elems: a tensor.
        name: unused.
        dtype: optional dtype of the result.
    """
    out = torch.stack([_as_tensor(fn(e)) for e in torch.unbind(_as_tensor(elems), 0)])
    return out if dtype is None else out.to(torch_dtype(dtype))


def foldl(fn: Callable, elems: TensorLike, initializer: Any = None, name: Optional[str] = None) -> Any:
    """Reduces the slices of ``elems`` (axis 0) from left to right with ``fn(acc, x)``.

    Args:
        fn: function of (accumulator, slice).
        elems: a tensor.
        initializer: first accumulator (``elems[0]`` when None).
        name: unused.
    """
    items = list(torch.unbind(_as_tensor(elems), 0))
    acc = items.pop(0) if initializer is None else initializer
    for item in items:
        acc = fn(acc, item)
    return acc


def foldr(fn: Callable, elems: TensorLike, initializer: Any = None, name: Optional[str] = None) -> Any:
    """Reduces the slices of ``elems`` (axis 0) from right to left with ``fn(acc, x)``.

    Args:
        fn: function of (accumulator, slice).
        elems: a tensor.
        initializer: first accumulator (``elems[-1]`` when None).
        name: unused.
    """
    return foldl(fn, torch.flip(_as_tensor(elems), (0,)), initializer)


# =================================================================== nn

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
    output._keras_logits = logits  # the cross-entropies use it, as tf.keras 2 does
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
        dims = _axes_tuple(axis)
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


def _seeded_or_global_generator(seed: Optional[int],
                                device: torch.device) -> Optional[torch.Generator]:
    if seed is None or device.type == "meta":
        return None
    if device.type == "cuda" and device.index is None:
        device = torch.device("cuda", torch.cuda.current_device())
    key = (int(seed), str(device))
    gen = _SEEDED_GENERATORS.get(key)
    if gen is None:
        gen = torch.Generator(device=device)
        gen.manual_seed(int(seed))
        _SEEDED_GENERATORS[key] = gen
    return gen


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
    gen = _seeded_or_global_generator(seed, x.device)
    noise_dtype = torch.float64 if x.dtype == torch.float64 else torch.float32
    u = torch.rand(mask_shape, generator=gen, dtype=noise_dtype, device=x.device)
    keep = (u >= level).to(x.dtype)
    return x * (1.0 / (1.0 - level)) * keep


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
        epsilon = _py_max(epsilon, 1.001e-5)
    b = _channel_broadcast
    return _normalize(x, b(mean, x, axis), b(var, x, axis), b(beta, x, axis), b(gamma, x, axis),
                      epsilon)


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
    eps = _py_max(epsilon, 1.001e-5) if fused else epsilon
    g = None if gamma is None else _as_operand(gamma, x).reshape(kept_shape)
    b = None if beta is None else _as_operand(beta, x).reshape(kept_shape)
    normed = _normalize(x, mean_, var_, b, g, eps)
    out_shape = [x.shape[i] for i in range(x.dim()) if i not in axes]
    var_out = var_
    if fused:
        n = math.prod(x.shape[i] for i in axes)
        var_out = var_ * (n / _py_max(n - 1, 1))
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
        res._keras_mask = valid.reshape(result_shape)
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


# =================================================================== random

_SEEDED_GENERATORS: Dict[Tuple[int, str], torch.Generator] = {}


def reset_seeded_generators() -> None:
    """Restarts the sequences of the seeded random functions (done by ``clear_session``)."""
    _SEEDED_GENERATORS.clear()


config.register_clear_session_hook(reset_seeded_generators)


def _random_setup(shape: ShapeLike, dtype: Any, seed: Optional[int], where: str
                  ) -> Tuple[Tuple[int, ...], torch.dtype, torch.device, Optional[torch.Generator]]:
    dims = _shape_tuple(shape, where)
    dt = torch_dtype(dtype)
    device = _default_device()
    return dims, dt, device, _seeded_or_global_generator(seed, device)


def _float_draw_dtype(dt: torch.dtype, where: str) -> torch.dtype:
    if not dt.is_floating_point:
        raise ValueError(f"`{where}` expects a floating dtype. Received: dtype={dt}")
    return torch.float64 if dt == torch.float64 else torch.float32


def random_normal(shape: ShapeLike, mean: float = 0.0, stddev: float = 1.0, dtype: Any = None,
                  seed: Optional[int] = None) -> torch.Tensor:
    """Samples of a normal distribution.

    Args:
        shape: shape of the result.
        mean: mean.
        stddev: standard deviation.
        dtype: float dtype; ``floatx()`` when None.
        seed: optional seed (a reproducible sequence).
    """
    dims, dt, device, gen = _random_setup(shape, dtype, seed, "random_normal")
    z = torch.randn(dims, generator=gen, dtype=_float_draw_dtype(dt, "random_normal"), device=device)
    return (z * stddev + mean).to(dt)


def random_uniform(shape: ShapeLike, minval: float = 0.0, maxval: float = 1.0, dtype: Any = None,
                   seed: Optional[int] = None) -> torch.Tensor:
    """Samples of a uniform distribution on ``[minval, maxval)`` (integers for int dtypes).

    Args:
        shape: shape of the result.
        minval: lower bound (included).
        maxval: upper bound (excluded).
        dtype: dtype; ``floatx()`` when None.
        seed: optional seed (a reproducible sequence).
    """
    dims, dt, device, gen = _random_setup(shape, dtype, seed, "random_uniform")
    if not dt.is_floating_point:
        return torch.randint(int(minval), int(maxval), dims, generator=gen, dtype=dt, device=device)
    u = torch.rand(dims, generator=gen, dtype=_float_draw_dtype(dt, "random_uniform"), device=device)
    return (u * (maxval - minval) + minval).to(dt)


def random_bernoulli(shape: ShapeLike, p: float = 0.0, dtype: Any = None,
                     seed: Optional[int] = None) -> torch.Tensor:
    """Samples of a Bernoulli distribution: 1 with probability ``p``, else 0.

    Args:
        shape: shape of the result.
        p: probability of a 1.
        dtype: dtype; ``floatx()`` when None.
        seed: optional seed (a reproducible sequence).
    """
    dims, dt, device, gen = _random_setup(shape, dtype, seed, "random_bernoulli")
    u = torch.rand(dims, generator=gen, dtype=torch.float32, device=device)
    return (u <= p).to(dt)


def random_binomial(shape: ShapeLike, p: float = 0.0, dtype: Any = None,
                    seed: Optional[int] = None) -> torch.Tensor:
    """Deprecated alias of ``random_bernoulli``.

    Args:
        shape: shape of the result.
        p: probability of a 1.
        dtype: dtype; ``floatx()`` when None.
        seed: optional seed.
    """
    warnings.warn("`K.random_binomial` is deprecated, and will be removed in a future version. "
                  "Please use `K.random_bernoulli` instead.", TkerasDeprecationWarning,
                  stacklevel=2)
    return random_bernoulli(shape, p, dtype, seed)


def truncated_normal(shape: ShapeLike, mean: float = 0.0, stddev: float = 1.0, dtype: Any = None,
                     seed: Optional[int] = None) -> torch.Tensor:
    """Normal samples redrawn when more than two standard deviations from the mean.

    Args:
        shape: shape of the result.
        mean: mean.
        stddev: standard deviation (before truncation).
        dtype: float dtype; ``floatx()`` when None.
        seed: optional seed (a reproducible sequence).
    """
    dims, dt, device, gen = _random_setup(shape, dtype, seed, "truncated_normal")
    out = torch.empty(dims, dtype=_float_draw_dtype(dt, "truncated_normal"), device=device)
    torch.nn.init.trunc_normal_(out, 0.0, 1.0, -2.0, 2.0, generator=gen)
    return (out * stddev + mean).to(dt)


def random_normal_variable(shape: ShapeLike, mean: float, scale: float, dtype: Any = None,
                           name: Optional[str] = None, seed: Optional[int] = None) -> torch.Tensor:
    """A variable filled with normal samples.

    Args:
        shape: shape of the variable.
        mean: mean.
        scale: standard deviation.
        dtype: dtype; ``floatx()`` when None.
        name: variable name.
        seed: optional seed.
    """
    return variable(random_normal(shape, mean, scale, dtype, seed), dtype, name)


def random_uniform_variable(shape: ShapeLike, low: float, high: float, dtype: Any = None,
                            name: Optional[str] = None, seed: Optional[int] = None) -> torch.Tensor:
    """A variable filled with uniform samples on ``[low, high)``.

    Args:
        shape: shape of the variable.
        low: lower bound.
        high: upper bound.
        dtype: dtype; ``floatx()`` when None.
        name: variable name.
        seed: optional seed.
    """
    return variable(random_uniform(shape, low, high, dtype, seed), dtype, name)
