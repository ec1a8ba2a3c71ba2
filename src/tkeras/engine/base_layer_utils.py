"""Helpers of the Layer call machinery: class names, ``call`` signatures, inputs at the
API edge, Keras's masks and the shape structures of ``build`` and ``input_spec``."""
from __future__ import annotations

import functools
import inspect
import re
from typing import Any, Dict, List, Optional, Tuple, Union

import numpy as np
import torch
from torch import nn

from ..backend import config
from ..backend.variables import KerasBuffer, KerasWeight
from .call_context import weight_path
from .keras_tensor import KerasTensor, sorted_keys


def to_snake_case(name: str) -> str:
    intermediate = re.sub("(.)([A-Z][a-z0-9]+)", r"\1_\2", name)
    insecure = re.sub("([a-z])([A-Z])", r"\1_\2", intermediate).lower()
    if insecure[0] != "_":
        return insecure
    return "private" + insecure


@functools.lru_cache(maxsize=None)
def call_signature(call_fn) -> Tuple[bool, bool, bool, Tuple[str, ...]]:
    """(accepts training, accepts mask, accepts **kwargs, positional arg names) of call."""
    try:
        params = inspect.signature(call_fn).parameters
    except (TypeError, ValueError):
        return False, False, True, ()
    names = tuple(params)
    var_kw = any(p.kind == p.VAR_KEYWORD for p in params.values())
    return ("training" in params or var_kw), ("mask" in params), var_kw, names


def _to_tensor(x, dtype: Optional[torch.dtype] = None):
    """numpy arrays and numbers at the API edge become torch tensors (floats -> floatx)."""
    if isinstance(x, torch.Tensor):
        return x
    if isinstance(x, np.ndarray):
        t = torch.from_numpy(np.ascontiguousarray(x))
        if t.is_floating_point():
            t = t.to(dtype or config.torch_dtype())
        elif t.dtype == torch.int32 or t.dtype == torch.uint16 or t.dtype == torch.uint32:
            t = t.to(torch.int64) if dtype is None else t.to(dtype)
        return t
    if isinstance(x, (float, int, bool)) or (isinstance(x, (list, tuple)) and x and
                                             not isinstance(x[0], (torch.Tensor, np.ndarray, list, tuple))):
        floats = isinstance(np.asarray(x).flat[0], float)
        return torch.as_tensor(np.asarray(x), dtype=dtype or (config.torch_dtype() if floats else None))
    return x


def convert_inputs(inputs, dtype: Optional[torch.dtype] = None):
    if isinstance(inputs, torch.Tensor):
        return inputs
    if isinstance(inputs, (list, tuple)):
        if inputs and not isinstance(inputs[0], (torch.Tensor, np.ndarray, list, tuple, dict)):
            return _to_tensor(inputs, dtype)
        return type(inputs)(convert_inputs(x, dtype) for x in inputs) if not hasattr(inputs, "_fields") \
            else type(inputs)(*[convert_inputs(x, dtype) for x in inputs])
    if isinstance(inputs, dict):
        return {k: convert_inputs(v, dtype) for k, v in inputs.items()}
    return _to_tensor(inputs, dtype)


def _shape_of(x) -> tuple:
    if isinstance(x, KerasTensor):
        return x.shape
    return tuple(x.shape)


def shape_structure(inputs):
    """Keras's ``input_shape`` argument: a tuple for one input, a list of tuples for several."""
    if isinstance(inputs, (list, tuple)) and not hasattr(inputs, "shape"):
        return [shape_structure(x) for x in inputs]
    if isinstance(inputs, dict):
        return {k: shape_structure(v) for k, v in inputs.items()}
    return _shape_of(inputs)


def _get_mask(x):
    return getattr(x, "_keras_mask", None)


def collect_masks(inputs):
    """The ``_keras_mask`` of each input (None where there is none), or None if no mask."""
    if isinstance(inputs, torch.Tensor):
        return _get_mask(inputs)
    if isinstance(inputs, KerasTensor):
        return inputs._keras_mask
    if isinstance(inputs, (list, tuple)):
        masks = [collect_masks(x) for x in inputs]
        return masks if any(m is not None for m in masks) else None
    return None


def set_masks(outputs, masks) -> None:
    if masks is None:
        return
    if isinstance(outputs, (list, tuple)):
        ms = masks if isinstance(masks, (list, tuple)) else [masks] * len(outputs)
        for o, m in zip(outputs, ms):
            set_masks(o, m)
        return
    if isinstance(outputs, (torch.Tensor, KerasTensor)):
        try:
            setattr(outputs, "_keras_mask", masks)  # an extra attribute on a torch tensor
        except AttributeError:
            pass


class _NoMask:
    pass


NO_MASK = _NoMask()



def flags_as_keywords(call_fn, rest: tuple, kwargs: dict) -> Tuple[tuple, dict]:
    """``training`` / ``mask`` given positionally (``layer(x, True)``, or torch's legacy
    ONNX exporter filling every parameter of ``forward``) become keywords, which is how the
    call machinery reads them; the arguments from the first of them on move together."""
    names = call_signature(call_fn)[3][2:]  # after self and inputs
    for i, name in enumerate(names[:len(rest)]):
        if name in ("training", "mask"):
            moved = dict(zip(names[i:], rest[i:]))
            clash = sorted(set(moved) & set(kwargs))
            if clash:
                raise TypeError(f"call() got multiple values for argument {clash[0]!r}")
            return rest[:i], {**kwargs, **moved}
    return rest, kwargs


def class_property(cls: type, name: str):
    for klass in cls.__mro__:
        attr = klass.__dict__.get(name)
        if attr is not None:
            return attr if isinstance(attr, property) else None
    return None


def spec_shapes(shapes) -> List[tuple]:
    if isinstance(shapes, list):
        return [tuple(s) for s in shapes]
    if isinstance(shapes, dict):
        return [tuple(shapes[k]) for k in sorted_keys(shapes)]
    return [tuple(shapes)]


def as_build_shape(shapes):
    if isinstance(shapes, list):
        return [tuple(s) if not isinstance(s, (list, dict)) else as_build_shape(s) for s in shapes]
    return tuple(shapes) if not isinstance(shapes, dict) else shapes


def shape_to_list(shape):
    if isinstance(shape, (list, tuple)) and shape and isinstance(shape[0], (list, tuple)):
        return [shape_to_list(s) for s in shape]
    if isinstance(shape, dict):
        return {k: shape_to_list(v) for k, v in shape.items()}
    return list(shape)


def list_to_shape(shape):
    if isinstance(shape, list) and shape and isinstance(shape[0], list):
        return [tuple(s) for s in shape]
    return tuple(shape)


def dedup(weights: List[nn.Parameter]) -> List[nn.Parameter]:
    seen = set()
    out = []
    for w in weights:
        if id(w) not in seen:
            seen.add(id(w))
            out.append(w)
    return out


def short_shapes(weights) -> str:
    text = str([np.shape(w) for w in weights])
    return text[:200] + ("..." if len(text) > 200 else "")


def make_weight(layer, name: str, shape: Tuple[int, ...], dtype, initializer, trainable: Optional[bool],
                constraint, kwargs: Dict[str, Any]) -> Union[KerasWeight, KerasBuffer]:
    """The initialized weight of ``layer.add_weight`` (see its arguments), not yet registered:
    a ``KerasWeight``, or a ``KerasBuffer`` for ``synchronization="ON_READ"``, carrying Keras's
    name, trainable flag, constraint and autocast flag. Pops the options it reads from ``kwargs``."""
    from .. import constraints, initializers
    synchronization = str(kwargs.pop("synchronization", None) or "AUTO").upper()
    synchronization = synchronization.rsplit(".", 1)[-1]  # VariableSynchronization.ON_READ
    on_read = synchronization == "ON_READ"
    if trainable is None:
        trainable = not on_read
    elif trainable and on_read:
        raise ValueError("Synchronization value can be set to VariableSynchronization.ON_READ "
                         f"only for non-trainable variables. You have specified trainable=True "
                         f"and synchronization=VariableSynchronization.ON_READ (weight {name!r} "
                         f"of layer {layer.name}).")
    torch_dt = (config.torch_dtype(dtype) if dtype is not None
                else layer.__dict__.get("_torch_dtype", config.torch_dtype()))
    init = initializers.get(initializer if initializer is not None else (
        "glorot_uniform" if torch_dt.is_floating_point else "zeros"))
    if init is None:
        raise ValueError(f"Layer {layer.name}: could not interpret initializer {initializer!r}.")
    with torch.no_grad():
        value = init(shape, dtype=config.dtype_name(torch_dt))
        value = torch.as_tensor(value, dtype=torch_dt).reshape(shape).clone()
    param: Union[KerasWeight, KerasBuffer]
    if on_read:
        param = KerasBuffer(value)
    else:
        param = KerasWeight(value, requires_grad=bool(
            trainable and layer.trainable and torch_dt.is_floating_point))
    # Keras's name, trainable flag, constraint and autocast flag ride on the tensor
    setattr(param, "_keras_name", weight_path(layer, name))
    setattr(param, "_keras_trainable", bool(trainable))
    setattr(param, "_keras_constraint", constraints.get(constraint))
    setattr(param, "_keras_autocast", bool(kwargs.pop("experimental_autocast", True)))
    return param
