"""Keras's generic utilities: function (de)serialization, custom objects, Progbar."""
from __future__ import annotations

import base64
import marshal
import sys
import types
from typing import Any, Optional, Tuple

from ..saving.object_registration import (  # noqa: F401
    CustomObjectScope, custom_object_scope, deserialize_keras_object, get_custom_objects,
    get_registered_name, in_safe_mode, register_keras_serializable, serialize_keras_object,
)


def func_dump(func: types.FunctionType) -> Tuple[str, Any, Any]:
    """Keras's format for a Python function: (base64 marshal of the code, defaults, closure)."""
    code = base64.b64encode(marshal.dumps(func.__code__)).decode("ascii")
    closure = tuple(c.cell_contents for c in func.__closure__) if func.__closure__ else None
    return code, func.__defaults__, closure


def func_load(code, defaults=None, closure=None, globs=None) -> types.FunctionType:
    """Rebuilds a function saved by func_dump. Runs stored bytecode: only for trusted files."""
    if isinstance(code, (tuple, list)):
        code, defaults, closure = (list(code) + [None, None])[:3]
    if isinstance(defaults, list):
        defaults = tuple(defaults)

    def cell(value):
        return (lambda: value).__closure__[0]

    raw = base64.b64decode(code.encode("ascii") if isinstance(code, str) else code)
    try:
        code_obj = marshal.loads(raw)
    except (ValueError, EOFError, TypeError) as e:
        raise ValueError("Cannot load the Python function stored in this config: its bytecode was "
                         f"written by another Python version ({e}). Re-create the Lambda layer in "
                         "code and pass it through `custom_objects`.") from None
    cells = tuple(cell(v) for v in closure) if closure is not None else None
    return types.FunctionType(code_obj, globs if globs is not None else globals(),
                              name=code_obj.co_name, argdefs=defaults, closure=cells)


def serialize_function(fn) -> Tuple[Any, str, Optional[str]]:
    """(value, type, module) as tf-keras's Lambda stores functions in its config."""
    if isinstance(fn, types.FunctionType):
        return func_dump(fn), "lambda", fn.__module__
    return getattr(fn, "__name__", repr(fn)), "function", getattr(fn, "__module__", None)


def deserialize_function(value, function_type: str, module: Optional[str], custom_objects,
                         what: str):
    """Loads a function saved by serialize_function; bytecode only outside safe mode."""
    globs = dict(globals())
    if module in sys.modules:
        globs.update(sys.modules[module].__dict__)
    if custom_objects:
        globs.update(custom_objects)
    if function_type == "function":
        return deserialize_keras_object(value, module_objects=globs, custom_objects=custom_objects,
                                        printable_module_name=f"{what} in Lambda layer")
    if function_type == "lambda":
        if in_safe_mode():
            raise ValueError(
                "Requested the deserialization of a Lambda layer with a Python `lambda` inside it. "
                "This carries a potential risk of arbitrary code execution and thus it is "
                "disallowed by default. If you trust the source of the saved model, you can pass "
                "`safe_mode=False` to the loading function in order to allow Lambda layer loading "
                "(or use `tkeras.saving.SafeModeScope(False)`).")
        return func_load(value, globs=globs)
    raise ValueError(f"Unknown function type {function_type!r} for the {what} of a Lambda layer.")
