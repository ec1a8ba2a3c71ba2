"""Symbolic tensors and the nodes that connect layers in a functional graph."""
from __future__ import annotations

import collections
from typing import Any, Iterator, List, Optional, Tuple

import torch

from ..backend import config
from ..backend import dispatch as _symbolic

KerasHistory = collections.namedtuple("KerasHistory", ["layer", "node_index", "tensor_index"])


class KerasTensor:
    """A symbolic tensor: a shape (with None for unknown sizes), a dtype and its history.

    It is what ``Input(...)`` returns and what layers return when called on symbolic
    tensors; models are built from them.
    """

    __slots__ = ("shape", "dtype", "name", "inferred_value", "_keras_history", "_keras_mask",
                 "__weakref__")

    def __init__(self, shape, dtype: Optional[str] = None, name: Optional[str] = None,
                 inferred_value: Any = None):
        self.shape: Tuple[Optional[int], ...] = tuple(None if d is None else int(d) for d in shape)
        self.dtype: str = config.dtype_name(dtype)
        self.name = name
        # What is known of the value of an integer tensor that holds (part of) a shape, as
        # tf-keras's KerasTensor keeps it: ``K.shape(x)`` is x's shape, None where unknown
        # (a tuple of the values in order; ``(size,)`` for a scalar such as K.shape(x)[0]).
        self.inferred_value = inferred_value
        self._keras_history: Optional[KerasHistory] = None
        self._keras_mask: Optional["KerasTensor"] = None

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def get_shape(self):
        return self.shape

    @property
    def node(self):
        h = self._keras_history
        return None if h is None else h.layer._inbound_nodes[h.node_index]

    def __repr__(self):
        created = ""
        if self._keras_history is not None:
            created = f" (created by layer '{self._keras_history.layer.name}')"
        return f"<KerasTensor: shape={self.shape} dtype={self.dtype}{created}>"

    def __len__(self):
        if self.shape and self.shape[0] is not None:
            return self.shape[0]
        raise TypeError("len() of a symbolic tensor with an unknown first dimension is not defined.")

    def __iter__(self):
        if not self.shape or self.shape[0] is None:
            raise TypeError(f"Cannot iterate over {self!r}: its first dimension is unknown "
                            "(or it is a scalar).")
        return (self[i] for i in range(self.shape[0]))

    def __bool__(self):
        raise TypeError(
            "A symbolic KerasTensor cannot be used as a Python bool: symbolic tensors are "
            "placeholders for data. Put data-dependent logic in a layer's call().")

    def __array__(self, *args, **kwargs):
        raise TypeError(
            f"You are passing {self!r}, an intermediate symbolic Keras input/output, to a "
            "function that needs concrete data (numpy). Symbolic tensors only describe a "
            "model; call the model on real data to get values.")


# ------------------------------------------------------------------ operators
# Python operators on symbolic tensors record op nodes (``tkeras.engine.op_layer``); they
# live on KerasTensor only, so eager torch code is untouched. ``==`` / ``!=`` keep their
# identity meaning (KerasTensors are dict keys and list members); use ``K.equal``.

def _binary_op(name: str, reflected: bool = False):
    fn = _symbolic.OPERATORS["operator." + name]
    key = "operator." + name
    if reflected:
        def method(self, other):
            return _symbolic.record(key, fn, (other, self), {})
    else:
        def method(self, other):
            return _symbolic.record(key, fn, (self, other), {})
    return method


def _unary_op(name: str):
    fn = _symbolic.OPERATORS["operator." + name]
    key = "operator." + name

    def method(self):
        return _symbolic.record(key, fn, (self,), {})
    return method


for _op in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and", "or", "xor"):
    _key = _op + "_" if _op in ("and", "or") else _op
    setattr(KerasTensor, f"__{_op}__", _binary_op(_key))
    setattr(KerasTensor, f"__r{_op}__", _binary_op(_key, reflected=True))
for _op in ("lt", "le", "gt", "ge"):
    setattr(KerasTensor, f"__{_op}__", _binary_op(_op))
for _op in ("neg", "pos", "abs", "invert"):
    setattr(KerasTensor, f"__{_op}__", _unary_op(_op))
setattr(KerasTensor, "__getitem__", _binary_op("getitem"))
setattr(KerasTensor, "__array_ufunc__", None)  # numpy defers to the reflected operators above
setattr(KerasTensor, "__array_priority__", 100)
setattr(KerasTensor, "__hash__", object.__hash__)


def is_keras_tensor(x: Any) -> bool:
    return isinstance(x, KerasTensor)


# ------------------------------------------------------------------ nested structures

def sorted_keys(mapping: dict) -> List[Any]:
    """A dict's keys in the order tf.nest (and so Keras) flattens them: sorted; insertion
    order for keys that do not sort."""
    try:
        return sorted(mapping)
    except TypeError:
        return list(mapping)


def flatten(structure: Any) -> List[Any]:
    """Flattens lists, tuples and dicts (dicts by sorted key, as tf.nest) into a list of
    leaves."""
    if isinstance(structure, (list, tuple)):
        out: List[Any] = []
        for item in structure:
            out.extend(flatten(item))
        return out
    if isinstance(structure, dict):
        out = []
        for key in sorted_keys(structure):
            out.extend(flatten(structure[key]))
        return out
    return [structure]


def map_structure(fn, structure: Any) -> Any:
    """``fn`` applied to every leaf, in ``flatten``'s order, in a structure like the input."""
    if isinstance(structure, list):
        return [map_structure(fn, s) for s in structure]
    if isinstance(structure, tuple):
        mapped = [map_structure(fn, s) for s in structure]
        return type(structure)(*mapped) if hasattr(structure, "_fields") else tuple(mapped)
    if isinstance(structure, dict):
        return {k: map_structure(fn, structure[k]) for k in sorted_keys(structure)}
    return fn(structure)


def pack_like(structure: Any, flat: List[Any]) -> Any:
    """Inverse of flatten: puts the leaves of ``flat`` back into ``structure``'s shape."""
    it = iter(flat)
    return map_structure(lambda _: next(it), structure)


def has_keras_tensor(structure: Any) -> bool:
    if isinstance(structure, KerasTensor):
        return True
    if isinstance(structure, (list, tuple)):
        return any(has_keras_tensor(s) for s in structure)
    if isinstance(structure, dict):
        return any(has_keras_tensor(s) for s in structure.values())
    return False


# ------------------------------------------------------------------ nodes

class Node:
    """One call of a layer on symbolic tensors: what went in, what came out.

    ``call_args`` / ``call_kwargs`` keep the exact structure of the call (KerasTensors
    stand for the values); ``outputs`` the returned structure.
    """

    is_self_node = False  # True for the node a Functional records for its own graph

    def __init__(self, layer, call_args: tuple = (), call_kwargs: Optional[dict] = None,
                 outputs: Any = None):
        self.layer = layer
        self.call_args = tuple(call_args)
        self.call_kwargs = dict(call_kwargs or {})
        self.outputs = outputs
        self.input_tensors: List[KerasTensor] = [
            t for t in flatten([list(self.call_args), self.call_kwargs]) if isinstance(t, KerasTensor)]
        self.output_tensors: List[KerasTensor] = flatten(outputs)
        self.is_input = not self.input_tensors and not self.call_args
        self.index = len(layer._inbound_nodes)
        layer._inbound_nodes.append(self)
        for t in self.input_tensors:
            if t._keras_history is not None:
                t._keras_history.layer._outbound_nodes.append(self)
        for i, t in enumerate(self.output_tensors):
            t._keras_history = KerasHistory(layer, self.index, i)

    @property
    def first_arg(self):
        return self.call_args[0] if self.call_args else None

    @property
    def parent_nodes(self) -> List["Node"]:
        return [t.node for t in self.input_tensors if t._keras_history is not None]

    @property
    def inbound_layers(self):
        layers = [t._keras_history.layer for t in self.input_tensors]
        return layers[0] if len(layers) == 1 else layers

    def iterate_inbound(self) -> Iterator[tuple]:
        """(inbound_layer, node_index, tensor_index, tensor) for each input tensor."""
        for t in self.input_tensors:
            h = t._keras_history
            if h is None:
                raise ValueError(f"The input tensor {t.name!r} of this node was not produced by a layer.")
            yield h.layer, h.node_index, h.tensor_index, t

    @staticmethod
    def _shapes(structure):
        return map_structure(lambda t: t.shape if isinstance(t, KerasTensor) else None, structure)

    @property
    def input_shapes(self):
        return self._shapes(self.first_arg)

    @property
    def output_shapes(self):
        return self._shapes(self.outputs)


def meta_tensor(kt: KerasTensor, fill: int, device="meta") -> torch.Tensor:
    """A tensor of kt's dtype whose unknown sizes are ``fill`` (no data on the meta device).
    A shape tensor (with an ``inferred_value``) is its value on the CPU, ``fill`` for each
    unknown size, so that what is computed from it sees the same sizes."""
    dtype = config.torch_dtype(kt.dtype)
    if kt.inferred_value is not None:
        value = [fill if d is None else d for d in kt.inferred_value]
        return torch.tensor(value, dtype=dtype).reshape([-1 if d is None else d for d in kt.shape])
    shape = tuple(fill if d is None else d for d in kt.shape)
    if device == "meta":
        return torch.empty(shape, dtype=dtype, device="meta")
    return torch.zeros(shape, dtype=dtype, device=device)
