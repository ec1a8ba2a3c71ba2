"""Tensors, variables and values of the Keras backend ``K``.

Introspection (``is_tensor``, ``int_shape``, ``ndim``, ``dtype``, ...), casts, the
creation of variables and constants, host reads (``get_value`` / ``eval`` /
``batch_get_value`` / ``print_tensor``, the only host reads of ``K``) and in-place updates.
A ``variable(...)`` is a plain leaf tensor (``requires_grad=False``) carrying
``_keras_name`` (``"<name>:0"``) and ``constraint`` attributes.

Layer weights are ``KerasWeight`` (an ordinary ``torch.nn.Parameter``) or, for state that
is read rather than trained (BatchNormalization's moving statistics), ``KerasBuffer`` (a
tensor registered as a module buffer); both answer ``.name`` with the Keras name.
"""
from __future__ import annotations

import copy
import math
from typing import Any, Callable, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch

from . import config
from .config import floatx, torch_dtype
from .conversion import (
    ShapeLike, TensorLike, _as_operand, _as_tensor, _is_symbolic, _shape_tuple,
)

__all__ = [
    "KerasWeight", "KerasBuffer", "to_numpy", "is_tensor", "is_keras_tensor", "is_sparse", "to_dense", "int_shape", "shape", "ndim",
    "dtype", "cast", "cast_to_floatx", "variable", "constant", "zeros", "ones", "eye",
    "zeros_like", "ones_like", "identity", "get_value", "eval", "batch_get_value", "set_value",
    "batch_set_value", "count_params", "update", "update_add", "update_sub",
    "moving_average_update", "print_tensor",
]


def _keras_name_of(tensor: torch.Tensor) -> Optional[str]:
    return tensor.__dict__.get("_keras_name")


class KerasWeight(torch.nn.Parameter):
    """A layer weight: a ``torch.nn.Parameter`` (torch optimizers, DDP, ``state_dict``,
    ``torch.export`` see an ordinary parameter) whose ``name`` is its Keras 2 name.

    Arithmetic on it gives plain tensors, as with any ``Parameter``. ``copy.deepcopy`` and
    pickling keep the class and the Keras attributes (``nn.Parameter`` alone drops them).

    Example:
        >>> layer = tkeras.layers.Dense(2); layer.build((None, 3))
        >>> [w.name for w in layer.weights]
        ['dense/kernel:0', 'dense/bias:0']
    """

    @property
    def name(self) -> Optional[str]:  # torch's Tensor.name (always None here) gives way
        """The Keras name, e.g. ``'dense/kernel:0'``."""
        return _keras_name_of(self)

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        result = type(self)(self.data.clone(memory_format=torch.preserve_format),
                            self.requires_grad)
        memo[id(self)] = result
        result.__dict__.update(copy.deepcopy(self.__dict__, memo))
        return result

    def __reduce_ex__(self, proto):
        return _rebuild_keras_tensor, (type(self), self.data, self.requires_grad,
                                       dict(self.__dict__))


class KerasBuffer(torch.Tensor):
    """A non-trainable layer weight kept as a module buffer (like torch's BatchNorm
    running statistics: ``.to()`` moves it, ``state_dict`` holds it, DDP broadcasts it
    from rank 0); ``name`` is its Keras 2 name. Arithmetic on it gives plain tensors.

    Args:
        data: the value (storage shared, not copied).
    """

    __torch_function__ = torch._C._disabled_torch_function_impl

    def __new__(cls, data: torch.Tensor):
        return torch.Tensor._make_subclass(cls, data.detach(), False)

    @property
    def name(self) -> Optional[str]:
        """The Keras name, e.g. ``'batch_normalization/moving_mean:0'``."""
        return _keras_name_of(self)

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        result = type(self)(self.data.clone(memory_format=torch.preserve_format))
        memo[id(self)] = result
        result.__dict__.update(copy.deepcopy(self.__dict__, memo))
        return result

    def __reduce_ex__(self, proto):
        return _rebuild_keras_tensor, (type(self), self.data, False, dict(self.__dict__))

    def __repr__(self, *, tensor_contents=None):
        return f"KerasBuffer({self.name!r}, {torch.Tensor(self.data)!r})"


def _rebuild_keras_tensor(cls, data: torch.Tensor, requires_grad: bool, state: dict):
    tensor = cls(data, requires_grad) if cls is not KerasBuffer else cls(data)
    tensor.__dict__.update(state)
    return tensor


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


def to_numpy(x: torch.Tensor, copy: bool = False) -> np.ndarray:
    """The value of a tensor as a numpy array: the one way values leave the device.

    bfloat16, which numpy lacks, arrives as float32; every other dtype keeps its own.

    Args:
        x: a tensor (any device; detached here).
        copy: return an array that owns its data (never a view of a CPU tensor).
    """
    t = x.detach()
    if t.dtype == torch.bfloat16:
        t = t.float()
    arr = t.cpu().resolve_conj().resolve_neg().numpy()
    return arr.copy() if copy else arr


def get_value(x: Any) -> Any:
    """The value of ``x`` as numpy (a numpy scalar for 0-d tensors): a host read.

    Args:
        x: a tensor; anything else is returned unchanged, as in Keras.
    """
    if not isinstance(x, torch.Tensor):
        return x
    if x.device.type == "meta":
        raise ValueError("`get_value` cannot read a tensor on the 'meta' device (it has no data).")
    arr = to_numpy(x, copy=True)
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
