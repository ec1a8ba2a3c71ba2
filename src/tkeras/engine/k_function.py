"""``K.function`` and ``K.placeholder``: evaluating recorded symbolic graphs eagerly.

A ``KFunction`` is planned once, when it is made: the nodes between the fed tensors and
the outputs in topological order, each step knowing where its arguments come from (the
same step objects a functional model runs). A call converts the numpy inputs, runs the
steps (with autograd only when the graph holds ``K.gradients`` nodes), reads the outputs
back as numpy and then applies the updates.
"""
from __future__ import annotations

import contextlib
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch

from ..backend import config
from ..backend import graph as _graph
from .call_context import call_context
from .functional import _Step, run_steps
from .input_layer import Input, InputLayer
from .keras_tensor import KerasTensor, Node, flatten, pack_like
from .op_layer import OpLayer


def placeholder(shape=None, ndim: Optional[int] = None, dtype=None, sparse: bool = False,
                name: Optional[str] = None) -> KerasTensor:
    """See ``tkeras.backend.placeholder``."""
    if shape is None:
        if ndim is None:
            raise ValueError("`placeholder` needs a `shape` (a tuple, None for unknown sizes) or "
                             "an `ndim`. Received: shape=None, ndim=None")
        shape = (None,) * int(ndim)
    return Input(batch_shape=tuple(shape), dtype=dtype or config.floatx(), name=name,
                 sparse=sparse)


def is_placeholder(x: Any) -> bool:
    """See ``tkeras.backend.is_placeholder``."""
    history = getattr(x, "_keras_history", None)
    if not isinstance(x, KerasTensor) or history is None:
        return False
    return isinstance(history.layer, InputLayer)


def _node_of(t: KerasTensor) -> Node:
    h = t._keras_history
    if h is None:
        raise ValueError(f"The tensor {t.name!r} was not produced by a tkeras layer or Input().")
    return h.layer._inbound_nodes[h.node_index]


def _is_gradients(node: Node) -> bool:
    return isinstance(node.layer, OpLayer) and node.layer.symbol == "gradients"


class KFunction:
    """A compiled ``K.function``: call it with a list of numpy arrays (one per input).

    Args:
        inputs: symbolic tensors to feed (placeholders, model inputs, any intermediate
            tensor) and optionally ``K.learning_phase()`` (fed 0 or 1).
        outputs: a symbolic tensor or a list of them (tensors or variables are read).
        updates: ``(variable, new_value)`` pairs and ``K.update*`` results, applied after
            the outputs are computed.
        name: optional name.
    """

    def __init__(self, inputs: Sequence[Any], outputs: Any, updates: Optional[Sequence[Any]] = None,
                 name: Optional[str] = None):
        if not isinstance(inputs, (list, tuple)):
            raise TypeError("`inputs` to a Keras backend function should be a list or tuple. "
                            f"Received: {inputs!r}")
        self.name = name
        self._structure = outputs
        flat_outputs = flatten(outputs)
        self._phase_index = None
        slot_of: Dict[int, int] = {}

        def slot(t) -> int:
            if id(t) not in slot_of:
                slot_of[id(t)] = len(slot_of)
            return slot_of[id(t)]

        feeds: List[Optional[Tuple[int, torch.dtype, KerasTensor]]] = []  # None: the learning phase
        for i, x in enumerate(inputs):
            if isinstance(x, KerasTensor):
                feeds.append((slot(x), config.torch_dtype(x.dtype), x))
            elif isinstance(x, (bool, int, np.integer)) and self._phase_index is None:
                self._phase_index = i  # K.learning_phase()
                feeds.append(None)
            else:
                raise TypeError(f"Input {i} of a Keras backend function must be a symbolic tensor "
                                f"(a placeholder or a model input) or K.learning_phase(). "
                                f"Received: {x!r}")
        self._n_inputs = len(inputs)
        main = self._plan(flat_outputs, slot_of, set(), "outputs")
        done = {id(n) for n in main}
        for t in flat_outputs:
            if isinstance(t, KerasTensor) and id(t) not in slot_of:
                slot(t)
        self._steps = [_Step(n, slot_of) for n in main]
        # Updates run in the order given, after the outputs: each one's nodes, then (for a
        # (variable, value) pair) the assignment.
        self._updates = []
        update_nodes: List[Node] = []
        for var, value in self._parse_updates(updates or []):
            nodes = self._plan([value], slot_of, done, "updates")
            update_nodes.extend(nodes)
            if isinstance(value, KerasTensor) and id(value) not in slot_of:
                slot(value)
            target = slot_of[id(value)] if isinstance(value, KerasTensor) else -1
            self._updates.append(([_Step(n, slot_of) for n in nodes], var, target, value))
        self._n_slots = len(slot_of)
        self._outputs = [(slot_of[id(t)], None) if isinstance(t, KerasTensor) else (-1, t)
                         for t in flat_outputs]
        self._plan_gradients(main + update_nodes, slot_of)
        self._layers = list({id(n.layer): n.layer for n in main + update_nodes
                             if not isinstance(n.layer, OpLayer)}.values())
        self._feeds = [f if f is None else (f[0], f[1], f[0] in self._grad_slots) for f in feeds]
        self._device = self._find_device(main + update_nodes)
        self._on_cpu = self._device.type == "cpu"
        self._flat_structure = isinstance(outputs, (list, tuple)) and \
            not any(isinstance(t, (list, tuple, dict)) for t in outputs)
        self._numpy_dtypes = {f[1]: _numpy_dtype(f[1]) for f in self._feeds if f is not None}

    # ------------------------------------------------------------ planning

    @staticmethod
    def _parse_updates(updates):
        """(variable or None, value) per update: a pair, or a K.update* result (None)."""
        out = []
        for u in updates:
            if isinstance(u, (list, tuple)) and len(u) == 2:
                if not isinstance(u[0], torch.Tensor):
                    raise TypeError("An update pair of a Keras backend function must start with "
                                    f"a variable (a tensor). Received: {u[0]!r}")
                out.append((u[0], u[1]))
            elif isinstance(u, KerasTensor):
                out.append((None, u))
            elif isinstance(u, torch.Tensor):
                continue  # an update already applied eagerly (K.update on real tensors)
            else:
                raise TypeError("`updates` of a Keras backend function holds (variable, new_value) "
                                f"pairs and K.update / update_add / update_sub results. Received: {u!r}")
        return out

    @staticmethod
    def _plan(targets: List[Any], slot_of: Dict[int, int], done: set, what: str) -> List[Node]:
        """The nodes computing ``targets`` from the fed tensors, inputs first."""
        ordered: List[Node] = []
        in_progress = set()

        def visit(t):
            if not isinstance(t, KerasTensor) or id(t) in fed_ids:
                return
            if t._keras_history is None:
                raise ValueError(f"Cannot evaluate {t!r}: it has no recorded history.")
            node = _node_of(t)
            if id(node) in done:
                return
            if isinstance(node.layer, InputLayer):
                raise ValueError(
                    f"The {what} of this Keras backend function depend on the input "
                    f"{t.name or node.layer.name!r}, which is not among its `inputs`. Pass it in "
                    "`inputs` (and feed a value for it).")
            if id(node) in in_progress:
                raise ValueError(f"Tensor {t} is part of a cycle.")
            in_progress.add(id(node))
            for x in node.input_tensors:
                visit(x)
            done.add(id(node))
            ordered.append(node)
            for out in node.output_tensors:
                slot_of.setdefault(id(out), len(slot_of))

        fed_ids = set(slot_of)  # fed tensors, and values computed by an earlier plan
        for t in targets:
            visit(t)
        return ordered

    def _plan_gradients(self, nodes: List[Node], slot_of: Dict[int, int]) -> None:
        """Which values must require grad for the ``K.gradients`` nodes of the plan."""
        self._grad_slots = set()
        self._grad_tensors: List[torch.Tensor] = []
        self._uses_autograd = False
        for node in nodes:
            if not _is_gradients(node):
                continue
            self._uses_autograd = True
            variables = flatten([list(node.call_args[1:]), node.call_kwargs])
            for v in variables:
                if isinstance(v, KerasTensor):
                    self._grad_slots.add(slot_of[id(v)])
                elif isinstance(v, torch.Tensor) and not v.requires_grad:
                    self._grad_tensors.append(v)
        for step in self._steps + [step for steps, _, _, _ in self._updates for step in steps]:
            step.grad_slots = [s for s in step.out_slots if s in self._grad_slots]

    @staticmethod
    def _find_device(nodes: List[Node]) -> torch.device:
        for node in nodes:
            for p in node.layer.parameters():
                return p.device
            for v in flatten([list(node.call_args), node.call_kwargs]):
                if isinstance(v, torch.Tensor) and v.dim():
                    return v.device
        from ..backend.conversion import _default_device
        return _default_device()

    # ------------------------------------------------------------ running

    def _convert(self, x: Any, dtype: torch.dtype, requires_grad: bool) -> torch.Tensor:
        if type(x) is np.ndarray and self._on_cpu and x.dtype == self._numpy_dtypes.get(dtype):
            try:
                t = torch.from_numpy(x)  # the common case: no copy, nothing to check
            except ValueError:  # negative strides
                t = torch.from_numpy(x.copy())
            return t.requires_grad_() if requires_grad else t
        if isinstance(x, torch.Tensor):
            t = x.detach() if requires_grad else x
        elif isinstance(x, np.ndarray):
            t = torch.from_numpy(np.ascontiguousarray(x))
        else:
            t = torch.as_tensor(np.asarray(x))
        if t.dtype != dtype and (t.is_floating_point() or dtype.is_floating_point or
                                 dtype == torch.bool):
            t = t.to(dtype)
        if t.device != self._device:
            t = t.to(self._device)
        if requires_grad:
            t = t.requires_grad_() if t.is_leaf and not t.requires_grad else t
        return t

    def __call__(self, inputs: Sequence[Any]) -> Any:
        if not isinstance(inputs, (list, tuple)):
            raise TypeError("A Keras backend function is called with a list of input values. "
                            f"Received: {type(inputs).__name__}")
        if len(inputs) != self._n_inputs:
            raise ValueError(f"This Keras backend function expects {self._n_inputs} input "
                             f"value(s), but received {len(inputs)}.")
        values: List[Any] = [None] * self._n_slots
        training = None
        for feed, x in zip(self._feeds, inputs):
            if feed is None:
                training = bool(int(np.asarray(x)))
                continue
            values[feed[0]] = self._convert(x, feed[1], feed[2])
        if training is None:
            training = self._default_training()
        ctx = call_context()
        outer = ctx.training, ctx.depth, ctx.losses
        ctx.training = training
        if training is not None:
            # The layers run as inside a model's call (the short path of ``_eager_call``):
            # one resolved training flag, the activity losses collected and dropped.
            ctx.depth, ctx.losses = outer[1] + 1, []
        enabled = []
        try:
            if self._uses_autograd:
                for t in self._grad_tensors:
                    if not t.requires_grad:
                        t.requires_grad_(True)
                        enabled.append(t)
            # autograd only for K.gradients nodes (entering the mode only when it differs)
            with contextlib.nullcontext() if torch.is_grad_enabled() is self._uses_autograd \
                    else torch.set_grad_enabled(self._uses_autograd):
                run_steps(self._steps, values)
                outputs = [_to_numpy(values[s] if s >= 0 else const) for s, const in self._outputs]
                if self._updates:
                    self._apply_updates(values)
        finally:
            ctx.training, ctx.depth, ctx.losses = outer
            for t in enabled:
                t.requires_grad_(False)
        if self._flat_structure:
            return outputs
        if isinstance(self._structure, (list, tuple)):
            return pack_like(list(self._structure), outputs)
        return outputs[0]

    def _default_training(self) -> Optional[bool]:
        """The training flag when no learning phase is fed: the one ``set_learning_phase``
        set, else False where every layer would take its own flag and all are False (the
        default; ``model.train()`` sets them), else None (each layer takes its own)."""
        phase = config.learning_phase_if_set()
        if phase is not None:
            return bool(phase)
        if any(layer.training for layer in self._layers):
            return None
        return False

    def _apply_updates(self, values: List[Any]) -> None:
        for steps, var, target, value in self._updates:
            run_steps(steps, values)
            if var is None:
                continue
            new = values[target] if target >= 0 else value
            with torch.no_grad():
                new = new if isinstance(new, torch.Tensor) else torch.as_tensor(np.asarray(new))
                var.copy_(new.to(device=var.device, dtype=var.dtype))


def _numpy_dtype(dtype: torch.dtype) -> Optional[np.dtype]:
    """The numpy dtype that ``torch.from_numpy`` maps to ``dtype`` (None if there is none)."""
    try:
        return torch.empty(0, dtype=dtype).numpy().dtype
    except TypeError:
        return None


def _to_numpy(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        if value.dtype == torch.bfloat16:
            value = value.float()
        return value.numpy(force=True)  # detached, on the CPU
    if isinstance(value, (list, tuple)):
        return [_to_numpy(v) for v in value]
    return np.asarray(value)


def function(inputs, outputs, updates=None, name: Optional[str] = None, **kwargs) -> KFunction:
    """See ``tkeras.backend.function``."""
    if kwargs:
        raise ValueError(f"Invalid argument(s) to K.function: {sorted(kwargs)}. Valid arguments: "
                         "inputs, outputs, updates, name.")
    return KFunction(inputs, outputs, updates=updates, name=name)


_graph.register_graph_engine(placeholder=placeholder, is_placeholder=is_placeholder,
                             function=function)
