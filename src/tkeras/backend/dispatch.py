"""Symbolic tensors in the Keras backend ``K``: the dispatch that lets every ``K`` function,
loss and metric function accept a ``KerasTensor``, and the table that names them.

A ``K`` function called with a symbolic tensor among its arguments returns a symbolic
tensor recorded in the graph: one op-layer node keyed by the function's name (tf-keras
records TF ops called on KerasTensors the same way, as ``TFOpLambda`` layers). The
functions keep their eager fast path: the wrapper only calls the function, and looks for
symbolic arguments only when the call raised (a ``try`` costs nothing in Python 3.11 when
nothing is raised), so eager torch code pays one function frame per ``K`` call and
nothing else. ``in_train_phase``, ``in_test_phase`` and ``switch``, which return an
argument without failing on it, look for symbolic arguments first.

The engine records the node (``tkeras.engine.op_layer``) and registers itself here with
``register_symbolic_recorder``: the backend never imports the engine.

Names resolve back to functions ONLY through ``lookup_function``, a fixed table of
``tkeras.backend``'s public functions, the Python operators (``"operator.add"``, ...)
and the public functions of ``tkeras.losses`` / ``tkeras.metrics`` / ``tkeras.activations``
(``"losses.mean_squared_error"``): a saved file never names a module to import from.
"""
from __future__ import annotations

import functools
import operator as _operator
from typing import Any, Callable, Dict, Iterable, Mapping, MutableMapping, Optional

import torch

from .conversion import _as_tensor, _binary_operands, _is_symbolic

__all__ = ["register_symbolic_recorder", "symbolic_dispatch", "has_symbolic", "lookup_function",
           "function_name", "OPERATORS", "wrap_functions", "encode_index", "decode_index",
           "index", "shape_tensor"]

_RECORDER: Optional[Callable[..., Any]] = None
_TABLE: Dict[str, Callable] = {}
_NAMES: Dict[int, str] = {}


def register_symbolic_recorder(fn: Optional[Callable[..., Any]]) -> None:
    """Lets the engine record ``K`` calls on symbolic tensors as graph nodes.

    Args:
        fn: ``fn(name, function, args, kwargs)`` returning the symbolic result, or
            ``NotImplemented`` when the arguments hold no tensor it can record; None
            unregisters.
    """
    global _RECORDER
    _RECORDER = fn


def has_symbolic(structure: Any) -> bool:
    """Whether a (nested list / tuple / dict) structure holds a symbolic tensor."""
    if _is_symbolic(structure):
        return True
    if isinstance(structure, (list, tuple)):
        return any(has_symbolic(s) for s in structure)
    if isinstance(structure, dict):
        return any(has_symbolic(s) for s in structure.values())
    return False


def record(name: str, fn: Callable, args: tuple, kwargs: dict) -> Any:
    """Records ``fn(*args, **kwargs)`` (arguments holding symbolic tensors) as a graph node."""
    if _RECORDER is None:
        raise TypeError(f"`{name}` received a symbolic tensor, and no symbolic engine is "
                        "loaded (import tkeras).")
    return _RECORDER(name, fn, args, kwargs)


def symbolic_dispatch(fn: Callable, name: str, check_first: bool = False) -> Callable:
    """``fn`` made to accept symbolic tensors: called on any, it records a graph node.

    Args:
        fn: the eager function (torch tensors in, torch tensors out).
        name: its name in the function table (``"mean"``, ``"losses.mse"``, ...).
        check_first: look for symbolic arguments before calling (for functions that would
            not fail on them, such as ``in_train_phase``, whose choice must happen when
            the graph runs).
    """
    if check_first:
        @functools.wraps(fn)
        def checking_wrapper(*args, **kwargs):
            if has_symbolic(args) or has_symbolic(kwargs):
                out = record(name, fn, args, kwargs)
                if out is not NotImplemented:
                    return out
            return fn(*args, **kwargs)

        setattr(checking_wrapper, "_symbolic_name", name)
        _register(name, checking_wrapper, fn)
        return checking_wrapper

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Exception:
            if has_symbolic(args) or has_symbolic(kwargs):
                out = record(name, fn, args, kwargs)
                if out is not NotImplemented:
                    return out
            raise

    setattr(wrapper, "_symbolic_name", name)
    _register(name, wrapper, fn)
    return wrapper


def _register(name: str, wrapper: Callable, raw: Callable) -> None:
    _TABLE[name] = wrapper
    _NAMES[id(wrapper)] = name
    _NAMES[id(raw)] = name


def wrap_functions(namespace: MutableMapping[str, Any], functions: Iterable[Callable], prefix: str,
                   *tables: MutableMapping[str, Any]) -> None:
    """Replaces ``functions`` in a module's namespace (and in lookup ``tables``) by their
    symbolic-dispatching versions, named ``"<prefix>.<function name>"``.

    Args:
        namespace: the module's ``globals()``; every name bound to one of the functions
            (aliases included) is rebound.
        functions: the functions to wrap.
        prefix: ``"losses"``, ``"metrics"`` or ``"activations"``.
        tables: dicts (such as a module's ``_OBJECTS``) whose values are rebound too.
    """
    wrapped = {id(fn): symbolic_dispatch(fn, f"{prefix}.{fn.__name__}") for fn in functions
               if not hasattr(fn, "_symbolic_name")}  # (metrics re-export wrapped losses)
    for mapping in (namespace,) + tables:
        for key, value in list(mapping.items()):
            if id(value) in wrapped:
                mapping[key] = wrapped[id(value)]


def function_name(fn: Callable) -> Optional[str]:
    """The table name of a function recorded in a graph, or None for other callables."""
    return _NAMES.get(id(fn))


def lookup_function(name: str) -> Callable:
    """The function a saved op node names: only ``K`` functions, operators, losses and
    metrics (a fixed table; the file never chooses a module), and none of those that write
    state or print (``update*``, ``moving_average_update``, ``print_tensor``).

    Raises:
        ValueError: for any other name.
    """
    _ensure_table()
    fn = None if name in _NOT_LOADABLE else _TABLE.get(name)
    if fn is None:
        raise ValueError(f"Unknown backend function {name!r} in an op layer's config. Expected "
                         "the name of a public tkeras.backend function, a Python operator "
                         "('operator.add', ...) or a tkeras.losses / tkeras.metrics / "
                         "tkeras.activations function.")
    return fn


# Functions that write state or print: recorded in graphs for K.function, never named by a
# file (a loaded model cannot make them run).
_NOT_LOADABLE = {"update", "update_add", "update_sub", "moving_average_update", "print_tensor"}


def _ensure_table() -> None:
    if "losses.mean_squared_error" not in _TABLE or "activations.relu" not in _TABLE:
        from .. import activations, losses, metrics  # noqa: F401 - they register on import


# ------------------------------------------------------------------ Python operators

def _unary(op: Callable) -> Callable:
    def fn(x):
        return op(_as_tensor(x))
    return fn


# A Python number with a tensor of these dtypes: torch computes ``op(x, number)`` exactly
# as ``op(x, _as_tensor(number, like=x))`` (the same promotion, the number rounded to the
# same dtype), without making a tensor per call. (Half types compute a number in float32.)
_SCALARS = (int, float, bool)
_EXACT_WITH_SCALARS = frozenset({torch.float32, torch.float64, torch.int64, torch.int32,
                                 torch.int16, torch.int8, torch.uint8, torch.bool})


def _binary(op: Callable) -> Callable:
    def fn(x, y):
        if isinstance(x, torch.Tensor):
            if isinstance(y, torch.Tensor) or \
                    (type(y) in _SCALARS and x.dtype in _EXACT_WITH_SCALARS):
                return op(x, y)
        elif type(x) in _SCALARS and isinstance(y, torch.Tensor) and y.dtype in _EXACT_WITH_SCALARS:
            return op(x, y)
        return op(*_binary_operands(x, y))
    return fn


def decode_index(key: Any) -> Any:
    """An index in ``encode_index``'s form back as Python's (slices, ``...``, tuples)."""
    if isinstance(key, dict):
        kind = key.get("class_name")
        if kind == "__slice__":
            c = key["config"]
            return slice(c.get("start"), c.get("stop"), c.get("step"))
        if kind == "__ellipsis__":
            return Ellipsis
        if kind == "__list__":
            return [decode_index(k) for k in key["config"]]
        raise ValueError(f"Unknown index entry {key!r} in an op layer's config.")
    if isinstance(key, list):
        return tuple(decode_index(k) for k in key)
    return key


def encode_index(key: Any) -> Any:
    """An index (ints, slices, ``...``, ``None``, tuples) in a JSON-friendly form."""
    if isinstance(key, slice):
        return {"class_name": "__slice__",
                "config": {"start": key.start, "stop": key.stop, "step": key.step}}
    if key is Ellipsis:
        return {"class_name": "__ellipsis__"}
    if isinstance(key, tuple):
        return [encode_index(k) for k in key]
    if isinstance(key, list):
        return {"class_name": "__list__", "config": [encode_index(k) for k in key]}
    return key


def getitem(x: Any, key: Any) -> torch.Tensor:
    """``x[key]``; ``key`` may be in ``encode_index``'s form.

    Args:
        x: a tensor.
        key: an index.
    """
    return index(x, decode_index(key))


def shape_tensor(x: Any) -> torch.Tensor:
    """``K.shape(x)`` as a graph node computes it: the sizes as an int32 tensor (Keras 2's
    ``tf.shape``); ``K.shape`` of a tensor gives its ``torch.Size``."""
    return torch.tensor(tuple(_as_tensor(x).shape), dtype=torch.int32)


def index(x: Any, key: Any) -> torch.Tensor:
    """``x[key]`` for a decoded ``key`` (``getitem`` of a planned graph, decoded once)."""
    return _as_tensor(x)[key]


OPERATORS: Dict[str, Callable] = {
    "operator.add": _binary(_operator.add), "operator.sub": _binary(_operator.sub),
    "operator.mul": _binary(_operator.mul), "operator.truediv": _binary(_operator.truediv),
    "operator.floordiv": _binary(_operator.floordiv), "operator.mod": _binary(_operator.mod),
    "operator.pow": _binary(_operator.pow), "operator.matmul": _binary(_operator.matmul),
    "operator.lt": _binary(_operator.lt), "operator.le": _binary(_operator.le),
    "operator.gt": _binary(_operator.gt), "operator.ge": _binary(_operator.ge),
    "operator.and_": _binary(_operator.and_), "operator.or_": _binary(_operator.or_),
    "operator.xor": _binary(_operator.xor), "operator.neg": _unary(_operator.neg),
    "operator.pos": _unary(_operator.pos), "operator.abs": _unary(_operator.abs),
    "operator.invert": _unary(_operator.invert), "operator.getitem": getitem,
}
for _name, _fn in OPERATORS.items():
    _fn.__name__ = _name.split(".", 1)[1]
    # a module attribute of the same name, so that pickle finds it (models holding
    # operator nodes pickle)
    _fn.__qualname__ = f"_operator_{_fn.__name__}"
    globals()[_fn.__qualname__] = _fn
    _register(_name, _fn, _fn)


def wrap_backend(namespace: MutableMapping[str, Any], names: Iterable[str]) -> None:
    """Makes the ``K`` functions ``names`` of ``tkeras.backend``'s namespace accept
    symbolic tensors (their table names are their ``K`` names)."""
    for name in names:
        namespace[name] = symbolic_dispatch(namespace[name], name, name in _CHECK_FIRST)


# These return one of their arguments (or its static shape) without failing on symbolic
# ones: they must record.
_CHECK_FIRST = {"in_train_phase", "in_test_phase", "switch", "shape"}


def registered_names() -> Mapping[str, Callable]:
    """The whole function table (name -> function)."""
    _ensure_table()
    return dict(_TABLE)
