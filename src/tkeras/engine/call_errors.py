"""Errors raised inside a layer's ``call`` name the layer, as Keras does.

An exception inside ``call`` is raised again with Keras's message::

    Exception encountered when calling layer "lambda_3" (type Lambda).

    <the original message>

    Call arguments received by layer "lambda_3" (type Lambda):
      • inputs=torch.Tensor(shape=(2, 3), dtype=float32)
      • training=False

The new exception has the original's type (chained to it with ``from``) and is marked,
so the layers around the failing one re-raise it untouched: the innermost layer is
named, once. Tensors are shown by shape and dtype, never by value. Nothing here runs
unless a call fails.
"""
from __future__ import annotations

import inspect
from typing import Any, Optional

import torch

from ..backend import config
from .keras_tensor import KerasTensor, map_structure

_INJECTED = "_keras_call_info_injected"
# None dims of a symbolic call are filled with these sizes on the 'meta' device.
_META_FILLS = (83, 89)


def _format_shape(shape, symbolic: bool) -> str:
    dims = tuple(None if symbolic and d in _META_FILLS else d for d in shape)
    return str(dims)


def format_argument_value(value: Any) -> str:
    """A call argument as the message shows it: tensors by shape and dtype, else ``repr``."""
    if isinstance(value, KerasTensor):
        return f"KerasTensor(shape={value.shape}, dtype={value.dtype})"
    if isinstance(value, torch.Tensor):
        if value.device.type == "meta":  # a symbolic call run on data-less tensors
            return (f"KerasTensor(shape={_format_shape(value.shape, True)}, "
                    f"dtype={config.dtype_name(value.dtype)})")
        return (f"torch.Tensor(shape={_format_shape(value.shape, False)}, "
                f"dtype={config.dtype_name(value.dtype)})")
    return repr(value)


def _format_value(value: Any) -> str:
    formatted = map_structure(format_argument_value, value)
    return formatted if isinstance(formatted, str) else str(formatted)


def _arguments_context(layer, args: tuple, kwargs: dict) -> str:
    """``  • name=value`` lines, one per parameter of ``call`` (defaults for those not given)."""
    try:
        signature = inspect.signature(layer.call)
        bound = signature.bind(*args, **kwargs)
    except (TypeError, ValueError):  # the arguments do not fit call: list what was given
        lines = [f"  • inputs={_format_value(args[0])}"] if args else []
        lines += [f"  • args[{i}]={_format_value(a)}" for i, a in enumerate(args[1:], 1)]
        lines += [f"  • {k}={_format_value(v)}" for k, v in kwargs.items()]
        return "\n".join(lines)
    lines = []
    for name, param in signature.parameters.items():
        if name in bound.arguments:
            value = _format_value(bound.arguments[name])
        elif param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            continue
        else:
            value = _format_value(param.default)
        lines.append(f"  • {name}={value}")
    return "\n".join(lines)


def _rebuild(error: Exception, message: str) -> Optional[Exception]:
    """``type(error)(message)`` when that type takes one message and shows it as given."""
    cls = type(error)
    if cls.__str__ is not BaseException.__str__:  # KeyError, OSError ... format their args
        return None
    try:
        new = cls(message)
    except Exception:  # noqa: BLE001 - a constructor that wants other arguments
        return None
    return new if str(new) == message else None


def with_call_info(layer, error: Exception, inputs, rest: tuple, kwargs: dict) -> Exception:
    """The exception to raise for ``error`` raised by ``layer.call(inputs, *rest, **kwargs)``.

    Returns ``error`` itself when it already names a layer (raised by an inner layer) or
    when its type cannot be rebuilt with a new message; the message is then added to it
    as a note (``add_note``), so its type and its own arguments are kept (before Python
    3.11, a ``RuntimeError`` with the message, as tf-keras does).
    """
    if getattr(error, _INJECTED, False):
        return error
    display = f'layer "{layer.name}" (type {type(layer).__name__})'
    original = str(error.args[0]) if len(error.args) == 1 else str(error)
    context = _arguments_context(layer, (inputs,) + tuple(rest), kwargs)
    message = (f"Exception encountered when calling {display}.\n\n{original}\n\n"
               f"Call arguments received by {display}:\n{context}")
    new = _rebuild(error, message)
    if new is None:
        if hasattr(error, "add_note"):  # Python >= 3.11: keep the very exception
            error.add_note(message)
            new = error
        else:
            new = RuntimeError(message)  # tf-keras's fallback
    setattr(new, _INJECTED, True)
    return new
