"""Control flow and higher-order functions of the Keras backend ``K``: ``switch``,
``in_train_phase`` / ``in_test_phase``, ``stop_gradient``, ``map_fn``, ``foldl`` / ``foldr``.

The engine supplies the training flag of the layer call in progress through
``register_training_flag_provider`` (the backend never imports the engine).
"""
from __future__ import annotations

from typing import Any, Callable, Optional

import numpy as np
import torch

from .config import learning_phase, torch_dtype
from .conversion import TensorLike, _as_operand, _as_tensor

__all__ = [
    "register_training_flag_provider", "switch", "in_train_phase", "in_test_phase",
    "stop_gradient", "map_fn", "foldl", "foldr",
]


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
    expr_ndim = max(then_t.dim(), else_t.dim())
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
