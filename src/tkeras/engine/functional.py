"""Functional: a model defined by a graph of layers called on symbolic tensors."""
from __future__ import annotations

import collections
from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy as np
import torch

from ..saving.layer_serialization import serialize_layer
from .base_layer import Layer, convert_inputs, shape_structure
from .base_layer_utils import call_signature
from .call_errors import with_call_info
from .input_layer import InputLayer
from .input_spec import assert_input_compatibility
from .keras_tensor import KerasHistory, KerasTensor, Node, flatten, map_structure, pack_like, sorted_keys
from .training import Model

# ------------------------------------------------------------------ graph mapping


def _history(t: KerasTensor) -> KerasHistory:
    """The (layer, node_index, tensor_index) that made ``t``: a graph tensor always has one."""
    if t._keras_history is None:
        raise ValueError(f"The tensor {t.name!r} was not produced by a tkeras layer or Input().")
    return t._keras_history


def _node_key(layer, node_index: int) -> str:
    return f"{layer.name}_ib-{node_index}"


def _build_map(outputs: List[KerasTensor]):
    """Nodes in decreasing depth (inputs first) and the order in which layers were reached."""
    finished, in_progress = set(), set()
    ordered: List[Node] = []
    layer_indices: Dict[Layer, int] = {}

    def visit(tensor: KerasTensor):
        layer, node_index, _ = _history(tensor)
        node = layer._inbound_nodes[node_index]
        if node in finished:
            return
        if node in in_progress:
            raise ValueError(f"Tensor {tensor} from layer '{layer.name}' is part of a cycle.")
        if layer not in layer_indices:
            layer_indices[layer] = len(layer_indices)
        in_progress.add(node)
        if not node.is_input:
            for t in node.input_tensors:
                visit(t)
        finished.add(node)
        in_progress.remove(node)
        ordered.append(node)

    for out in outputs:
        visit(out)
    return ordered, layer_indices


def map_graph_network(inputs: List[KerasTensor], outputs: List[KerasTensor]):
    """Keras's graph mapping: network nodes, nodes by depth, layers in Keras's order."""
    ordered, layer_indices = _build_map(outputs)
    network_nodes = {_node_key(n.layer, n.index) for n in ordered}
    node_depths: Dict[Node, int] = {}
    layer_depths: Dict[Layer, int] = {}
    for node in reversed(ordered):
        depth = node_depths.setdefault(node, 0)
        depth = max(depth, layer_depths.get(node.layer, 0))
        layer_depths[node.layer] = depth
        node_depths[node] = depth
        for parent in node.parent_nodes:
            node_depths[parent] = max(depth + 1, node_depths.get(parent, 0))
    for t in inputs:
        layer = _history(t).layer
        if layer not in layer_depths:
            layer_depths[layer] = 0
            layer_indices[layer] = -1
            node_depths[layer._inbound_nodes[0]] = 0
            network_nodes.add(_node_key(layer, 0))
    nodes_by_depth: Dict[int, List[Node]] = collections.defaultdict(list)
    for node, depth in node_depths.items():
        nodes_by_depth[depth].append(node)
    layers_by_depth: Dict[int, List[Layer]] = collections.defaultdict(list)
    for layer, depth in layer_depths.items():
        layers_by_depth[depth].append(layer)
    layers: List[Layer] = []
    for depth in sorted(layers_by_depth, reverse=True):
        layers.extend(sorted(layers_by_depth[depth], key=lambda x: layer_indices[x]))
    _check_computable(inputs, nodes_by_depth)
    names = [layer.name for layer in layers]
    for name in names:
        if names.count(name) != 1:
            raise ValueError(f'The name "{name}" is used {names.count(name)} times in the model. '
                             "All layer names should be unique.")
    return network_nodes, dict(nodes_by_depth), layers


def _check_computable(inputs, nodes_by_depth) -> None:
    computable = {id(x) for x in inputs}
    done: List[str] = []
    for depth in sorted(nodes_by_depth, reverse=True):
        for node in nodes_by_depth[depth]:
            if node.is_input:
                continue
            for x in node.input_tensors:
                if id(x) not in computable:
                    raise ValueError(
                        f"Graph disconnected: cannot obtain value for tensor {x} at layer "
                        f'"{node.layer.name}". The following previous layers were accessed without '
                        f"issue: {done}")
            computable.update(id(x) for x in node.output_tensors)
            done.append(node.layer.name)


# ------------------------------------------------------------------ execution plan

class _Slot:
    __slots__ = ("index",)

    def __init__(self, index: int):
        self.index = index


def _fill(template, values):
    """``template`` with its slots read from ``values``, once (a build, an error message);
    a step's calls use the compiled form, ``_filler``."""
    return _filler(template)(values)


def _has_slot(template) -> bool:
    return any(type(t) is _Slot for t in flatten(template))


def _filler(template) -> Callable[[List[Any]], Any]:
    """``values -> template`` with its slots read from ``values``, the template walked once
    here instead of at every call (a list of slots becomes one list comprehension;
    constants are returned as they are)."""
    if type(template) is _Slot:
        i = template.index
        return lambda values: values[i]
    if not _has_slot(template):
        return lambda values: template
    if isinstance(template, (list, tuple)):
        if all(type(t) is _Slot for t in template):
            idx = [t.index for t in template]
            if isinstance(template, list):
                return lambda values: [values[i] for i in idx]
            return lambda values: tuple([values[i] for i in idx])
        parts = [_filler(t) for t in template]
        if isinstance(template, list):
            return lambda values: [p(values) for p in parts]
        return lambda values: tuple([p(values) for p in parts])
    if isinstance(template, dict):
        items = [(k, _filler(v)) for k, v in template.items()]
        return lambda values: {k: p(values) for k, p in items}
    return lambda values: template


class _Step:
    """One layer call of the plan: where its inputs come from and where outputs go.

    ``run(values)`` computes the step's output from the value list, its argument templates
    compiled into readers of their slots once, here. A layer that can give its computation
    as a plain function (an op node: ``OpLayer.eager_function``) runs without the Layer
    call machinery, as that function with its constants prepared once (``fn_args`` /
    ``fn_kwargs``: its argument templates, for error messages); any other layer runs
    through its eager call.
    """

    __slots__ = ("layer", "args", "kwargs", "out_slots", "out_slot", "run", "fn", "fn_args",
                 "fn_kwargs", "grad_slots", "frees")

    def __init__(self, node: Node, slot_of: Dict[int, int]):
        def templ(x):
            return _Slot(slot_of[id(x)]) if isinstance(x, KerasTensor) else x

        self.layer = node.layer
        self.args = map_structure(templ, list(node.call_args))
        self.kwargs = map_structure(templ, dict(node.call_kwargs))
        self.out_slots = [slot_of[id(t)] for t in node.output_tensors]
        # one output tensor: its slot, written directly; else -1 (outputs flattened in order)
        self.out_slot = self.out_slots[0] if isinstance(node.outputs, KerasTensor) else -1
        self.grad_slots: List[int] = []  # values to mark as requiring grad (K.function)
        self.frees: Tuple[int, ...] = ()  # slots no later step reads (set by the plan)
        eager_function = getattr(self.layer, "eager_function", None)
        self.fn: Optional[Callable] = None
        self.fn_args: Optional[List[Any]] = None
        self.fn_kwargs: Dict[str, Any] = {}
        if eager_function is not None:
            self.fn, fn_args, self.fn_kwargs = eager_function(tuple(self.args), self.kwargs)
            self.fn_args = list(fn_args)
        self._bind()

    def _bind(self) -> None:
        if self.fn is not None:
            self.run = _bound_call(self.fn, self.fn_args or [], self.fn_kwargs)
        else:
            self.run = self._layer_call()

    # A copied or unpickled model rebinds its steps: ``run`` closes over this layer.
    def __getstate__(self):
        return {k: getattr(self, k) for k in self.__slots__ if k != "run"}

    def __setstate__(self, state) -> None:
        for k, v in state.items():
            setattr(self, k, v)
        self._bind()

    def _layer_call(self) -> Callable[[List[Any]], Any]:
        # _eager_call takes the kwargs dict over (it sets "training", pops "mask"): each
        # call gets a fresh one, or a flag set in one call would be read in the next
        eager_call, args, kwargs = self.layer._eager_call, self.args, self.kwargs
        if len(args) == 1 and type(args[0]) is _Slot and not _has_slot(kwargs):
            i = args[0].index
            if kwargs:
                return lambda values: eager_call(values[i], (), dict(kwargs))
            return lambda values: eager_call(values[i], (), {})
        fill_args, fill_kwargs = _filler(args), _filler(kwargs)

        def call(values):
            filled = fill_args(values)
            return eager_call(filled[0], tuple(filled[1:]), dict(fill_kwargs(values)))
        return call

    def in_slots(self) -> List[int]:
        """The slots this step reads."""
        return [t.index for t in flatten([self.args, self.kwargs]) if type(t) is _Slot]


def _bound_call(fn, args: List[Any], kwargs: Dict[str, Any]):
    """``values -> fn(*args, **kwargs)`` with the slots of the templates read from ``values``
    (the common forms, one or two tensors and constants, without walking the templates)."""
    flat = all(type(a) is _Slot or not isinstance(a, (list, tuple, dict)) for a in args)
    if not flat or _has_slot(kwargs):
        fill_args, fill_kwargs = _filler(list(args)), _filler(kwargs)
        return lambda values: fn(*fill_args(values), **fill_kwargs(values))
    slots = [type(a) is _Slot for a in args]
    if slots == [True]:
        i = args[0].index
        return (lambda values: fn(values[i], **kwargs)) if kwargs else (lambda values: fn(values[i]))
    if slots[:1] == [True] and len(args) == 2 and not kwargs:
        i = args[0].index
        if slots[1]:
            j = args[1].index
            return lambda values: fn(values[i], values[j])
        c = args[1]
        return lambda values: fn(values[i], c)
    return lambda values: fn(*[values[a.index] if type(a) is _Slot else a for a in args], **kwargs)


def run_steps(steps: List[_Step], values: List[Any]) -> None:
    """Runs planned steps: each reads its arguments from ``values`` (by slot) and writes
    its outputs there. A functional model's call and ``K.function`` both run this."""
    for step in steps:
        try:
            out = step.run(values)
        except Exception as e:
            if step.fn is None:
                raise  # a layer's eager call names the layer itself
            args = _fill(step.fn_args, values)
            error = with_call_info(step.layer, e, args[0] if args else None, tuple(args[1:]),
                                   _fill(step.fn_kwargs, values))
            if error is e:
                raise
            raise error from e
        if step.out_slot >= 0:
            values[step.out_slot] = out
        else:
            for s, o in zip(step.out_slots, flatten(out)):
                values[s] = o
        if step.grad_slots:
            for s in step.grad_slots:
                v = values[s]
                if isinstance(v, torch.Tensor) and not v.requires_grad and v.is_leaf:
                    values[s] = v.requires_grad_()
        if step.frees:
            for s in step.frees:
                values[s] = None


# ------------------------------------------------------------------ the model

class Functional(Model):
    """A model built from inputs and outputs of a graph of layers.

    Example:
        >>> inputs = Input(shape=(784,))
        >>> x = Dense(64, activation="relu")(inputs)
        >>> outputs = Dense(10, activation="softmax")(x)
        >>> model = Model(inputs=inputs, outputs=outputs)
    """

    _keras_module = "keras"

    def __init__(self, inputs=None, outputs=None, name: Optional[str] = None,
                 trainable: bool = True, **kwargs):
        if inputs is None and "input" in kwargs:
            inputs = kwargs.pop("input")
        if outputs is None and "output" in kwargs:
            outputs = kwargs.pop("output")
        if name is None and type(self) is Functional:
            from ..backend import config
            name = config.unique_object_name("model")  # tf-keras names functional models "model"
        super().__init__(name=name, trainable=trainable, **kwargs)
        if inputs is not None or outputs is not None:
            self._init_graph_network(inputs, outputs)

    # -------------------------------------------------------------- building

    def _init_graph_network(self, inputs, outputs) -> None:
        if inputs is None or outputs is None:
            raise ValueError("A functional model needs both `inputs` and `outputs`.")
        nested_inputs: Any
        if isinstance(inputs, dict) and all(isinstance(k, str) for k in inputs):
            nested_inputs = inputs
        elif isinstance(inputs, (list, tuple)):
            nested_inputs = list(inputs)
        else:
            nested_inputs = inputs
        flat_inputs = flatten(nested_inputs)
        flat_outputs = flatten(outputs)
        for t in flat_inputs + flat_outputs:
            if not isinstance(t, KerasTensor):
                raise ValueError("Input tensors and output tensors of a functional model must be "
                                 f"symbolic tensors from `tkeras.Input` and layer calls. Received: {t!r}")
        for t in flat_inputs:
            layer = t._keras_history.layer
            if not isinstance(layer, InputLayer) or t._keras_history.node_index != 0:
                raise ValueError(
                    f"Input tensors to a {type(self).__name__} must come from `tkeras.Input`. "
                    f"Received: {t} (missing previous layer metadata).")
        self._nested_inputs = nested_inputs
        self._nested_outputs = outputs
        self.inputs: List[KerasTensor] = flat_inputs
        self.outputs: List[KerasTensor] = flat_outputs
        side = self.__dict__.get("_graph_side_outputs", [])
        network_nodes, nodes_by_depth, layers = map_graph_network(flat_inputs, flat_outputs + side)
        if side:  # add_loss / add_metric layers (and what only they use) go last, as tf-keras
            main = set(map_graph_network(flat_inputs, flat_outputs)[2])
            layers = [x for x in layers if x in main] + [x for x in layers if x not in main]
        self._network_nodes = network_nodes
        self._nodes_by_depth = nodes_by_depth
        self._set_layers(layers)
        # plain references (the layers are registered with torch once, in _set_layers)
        self.__dict__["_input_layers"] = [t._keras_history.layer for t in flat_inputs]
        self.__dict__["_output_layers"] = [t._keras_history.layer for t in flat_outputs]
        self._input_coordinates = [t._keras_history for t in flat_inputs]
        self._output_coordinates = [t._keras_history for t in flat_outputs]
        self.input_names = [layer.name for layer in self._input_layers]
        self.output_names = _unique_output_names(self._output_layers)
        # As in Keras 2, the model itself has no input_spec (its Input layers have none): a
        # call is valid when its layers accept the input, each checking its own spec (a
        # Sequential built with input_dim=100 runs on (None, 1, 100), as the Keras 2 ACGAN
        # example relies on).
        self.input_spec = None
        self._is_graph_network = True
        self.built = True
        self._build_input_shape = shape_structure(nested_inputs)
        self._compile_plan()
        # The node linking the model's own inputs to its outputs (tf-keras's node 0).
        self_node = Node.__new__(Node)
        self_node.layer, self_node.call_args, self_node.call_kwargs = self, (nested_inputs,), {}
        self_node.outputs, self_node.input_tensors = outputs, list(flat_inputs)
        self_node.output_tensors, self_node.is_input = list(flat_outputs), False
        self_node.is_self_node = True
        nodes = self._inbound_nodes
        if nodes and getattr(nodes[0], "is_self_node", False):
            self_node.index = 0  # a Sequential that grew: its graph node is replaced
            nodes[0] = self_node
        else:
            self_node.index = len(nodes)
            nodes.append(self_node)

    def _add_graph_side_output(self, tensor: KerasTensor) -> None:
        """Adds to the graph a node computed on every call but not a model output (the
        ``AddLoss`` / ``AddMetric`` nodes of ``add_loss`` / ``add_metric``)."""
        self.__dict__.setdefault("_graph_side_outputs", []).append(tensor)
        self._init_graph_network(self._nested_inputs, self._nested_outputs)

    def add_metric(self, value, name: Optional[str] = None, aggregation: Optional[str] = None) -> None:
        """Tracks a symbolic value of the graph as a metric (its mean per epoch, in the logs).

        Args:
            value: a symbolic tensor built from the model's inputs.
            name: the metric's name in the logs.
            aggregation: ``"mean"`` (None means the same).
        """
        from .op_layer import add_symbolic_metric
        if not isinstance(value, KerasTensor):
            raise ValueError("`add_metric` on a functional model expects a symbolic tensor of its "
                             f"graph. Received: {value!r}")
        add_symbolic_metric(self, value, name=name, aggregation=aggregation)

    def _set_layers(self, layers: List[Layer]) -> None:
        """Registers the layers with torch (parameters, .to(), state_dict) in Keras's order."""
        previous = {id(layer) for layer in self.__dict__.get("_layers", [])}
        for key in [k for k, m in self._modules.items() if id(m) in previous]:
            del self._modules[key]
        self.__dict__["_layers"] = list(layers)
        # Keyed by position, like nn.Sequential, so state_dict keys do not depend on the
        # automatic layer names and a model rebuilt by the same code loads the same dict.
        for i, layer in enumerate(layers):
            self._modules[str(i)] = layer

    def _compile_plan(self) -> None:
        slot_of: Dict[int, int] = {}

        def slot(t):
            if id(t) not in slot_of:
                slot_of[id(t)] = len(slot_of)
            return slot_of[id(t)]

        self._input_slots = [slot(t) for t in self.inputs]
        steps = []
        for depth in sorted(self._nodes_by_depth, reverse=True):
            for node in self._nodes_by_depth[depth]:
                if node.is_input:
                    continue
                for t in node.output_tensors:
                    slot(t)
                steps.append(_Step(node, slot_of))
        self._output_slots = [slot_of[id(t)] for t in self.outputs]
        self._n_slots = len(slot_of)
        self._steps = steps
        # Each intermediate value is dropped after the last step that reads it, as eager
        # torch code drops it: holding every activation to the end of the call multiplied
        # the memory of a deep model's inference and made every allocation a fresh one.
        last_read: Dict[int, int] = {}
        for i, step in enumerate(steps):
            for s in step.out_slots:
                last_read[s] = i  # an output nothing reads is dropped at once
            for s in step.in_slots():
                last_read[s] = i
        frees: Dict[int, List[int]] = {}
        for s, i in last_read.items():
            if s not in self._output_slots:
                frees.setdefault(i, []).append(s)
        for i, step in enumerate(steps):
            step.frees = tuple(frees.get(i, ()))

    # -------------------------------------------------------------- properties

    @property
    def layers(self) -> List[Layer]:
        return list(self.__dict__.get("_layers", []))

    def _direct_sublayers(self) -> List[Layer]:
        return self.__dict__.get("_layers", [])

    @property
    def input(self):
        return self._nested_inputs

    @property
    def output(self):
        out = self._nested_outputs
        if isinstance(out, (list, tuple)) and len(out) == 1:
            return out[0]
        return out

    @property
    def input_shape(self):
        shapes = [t.shape for t in self.inputs]
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def output_shape(self):
        shapes = [t.shape for t in self.outputs]
        return shapes[0] if len(shapes) == 1 else shapes

    # -------------------------------------------------------------- running

    def _input_keys(self, call_keys) -> List[str]:
        """The keys a dict of call inputs is matched by, in ``self.inputs`` order: the keys of
        the dict the model was built from (as in tf-keras), else the input names (which a
        dict-built model accepts too)."""
        names = list(self.input_names)
        nested = self._nested_inputs
        if not isinstance(nested, dict):
            return names
        keys = sorted_keys(nested)
        by_name = set(call_keys) == set(names) and set(call_keys) != set(keys)
        return names if by_name else keys

    def _flatten_call_inputs(self, inputs) -> List[Any]:
        """The call's inputs as a list in the order of self.inputs (dicts matched by key)."""
        if isinstance(inputs, dict):
            names = self._input_keys(inputs)
            missing = [n for n in names if n not in inputs]
            if missing or len(inputs) != len(names):
                raise ValueError(
                    f'Missing data for input "{missing[0] if missing else ""}". You passed a data '
                    f"dictionary with keys {sorted(inputs)}. Expected the following keys: {names}"
                    if missing else
                    f"Unexpected input names {sorted(set(inputs) - set(names))} for model "
                    f'"{self.name}". Expected the following keys: {names}')
            return [inputs[n] for n in names]
        if isinstance(inputs, (list, tuple)) and not hasattr(inputs, "shape"):
            return list(inputs)
        return [inputs]

    def _spec_input_shapes(self, inputs) -> List[tuple]:
        return [tuple(x.shape) for x in self._flatten_call_inputs(inputs)]

    def _convert(self, flat: List[Any]) -> List[Any]:
        out = []
        for x, spec in zip(flat, self.inputs):
            if isinstance(x, torch.Tensor) or isinstance(x, KerasTensor):
                out.append(x)
            else:
                from ..backend import config
                out.append(convert_inputs(x, config.torch_dtype(spec.dtype)))
        return out

    def _eager_call(self, inputs, rest: tuple, kwargs: dict):
        flat = self._flatten_call_inputs(inputs)
        if len(flat) != len(self.inputs):
            raise ValueError(f'Layer "{self.name}" expects {len(self.inputs)} input(s), but it '
                             f"received {len(flat)} input tensors.")
        flat = self._convert(flat)
        return super()._eager_call(flat if len(flat) > 1 else flat[0], rest, kwargs)

    def call(self, inputs, training=None, mask=None):
        flat = self._flatten_call_inputs(inputs)
        if mask is not None:
            for x, m in zip(flat, mask if isinstance(mask, (list, tuple)) else [mask]):
                if m is not None:
                    x._keras_mask = m
        values: List[Any] = [None] * self._n_slots
        for s, x in zip(self._input_slots, flat):
            values[s] = x
        run_steps(self._steps, values)
        outputs = [values[s] for s in self._output_slots]
        return self._pack_outputs(outputs)

    def _pack_outputs(self, flat_outputs: List[Any]):
        nested = self._nested_outputs
        if isinstance(nested, KerasTensor):
            return flat_outputs[0]
        if isinstance(nested, (list, tuple)) and len(flat_outputs) == 1:
            return flat_outputs[0]  # Keras 2: a one-element list output is unwrapped
        return pack_like(nested, flat_outputs)

    def compute_output_spec(self, inputs, *args, **kwargs):
        flat = self._flatten_call_inputs(inputs)
        values: List[Any] = [None] * self._n_slots
        for s, x in zip(self._input_slots, flat):
            values[s] = x
        for step in self._steps:
            step_args = _fill(step.args, values)
            layer = step.layer
            if layer.input_spec is not None:
                assert_input_compatibility(layer.input_spec,
                                           layer._spec_input_shapes(step_args[0]), layer.name)
            out = layer.compute_output_spec(step_args[0], *step_args[1:], **_fill(step.kwargs, values))
            for s, o in zip(step.out_slots, flatten(out)):
                values[s] = o
        return self._pack_outputs([values[s] for s in self._output_slots])

    def compute_output_shape(self, input_shape):
        kts = map_structure(KerasTensor, input_shape) if not isinstance(input_shape, tuple) \
            else KerasTensor(input_shape)
        out = self.compute_output_spec(kts)
        return map_structure(lambda t: t.shape, out)

    def _produces_mask(self, input_masks) -> bool:
        return False

    def build(self, input_shape) -> None:
        self.built = True

    # -------------------------------------------------------------- config

    def get_build_config(self) -> Optional[Dict[str, Any]]:
        """The input structure the model was built for (nested as given), once built."""
        return {"input_shape": _as_list_shape(self._build_input_shape)} if self.built else None

    def get_config(self) -> Dict[str, Any]:
        return get_network_config(self)

    @classmethod
    def from_config(cls, config: Dict[str, Any], custom_objects=None):
        inputs, outputs, created = reconstruct_from_config(config, custom_objects)
        model = cls(inputs=inputs, outputs=outputs, name=config.get("name"),
                    trainable=config.get("trainable", True))
        from .op_layer import AddLoss, AddMetric
        for layer in created.values():  # add_loss / add_metric nodes: not on the outputs' path
            if isinstance(layer, (AddLoss, AddMetric)) and layer not in model.layers:
                for node in layer._inbound_nodes:
                    model._add_graph_side_output(flatten(node.outputs)[0])
        return model


def _unique_output_names(layers: List[Layer]) -> List[str]:
    names: List[str] = []
    for layer in layers:
        name = layer.name
        if name in names:
            i = 1
            while f"{layer.name}_{i}" in names:
                i += 1
            name = f"{layer.name}_{i}"
        names.append(name)
    return names


# ------------------------------------------------------------------ serialization

def _should_skip_first_node(layer) -> bool:
    """A nested functional model's node 0 links its own inputs to its outputs: never saved."""
    return isinstance(layer, Functional) and getattr(layer, "_is_graph_network", False)


def _as_list_shape(shape):
    if isinstance(shape, tuple):
        return list(shape)
    if isinstance(shape, list):
        return [_as_list_shape(s) for s in shape]
    if isinstance(shape, dict):
        return {k: _as_list_shape(v) for k, v in shape.items()}
    return shape


def _node_conversion_map(network) -> Dict[str, int]:
    conversion: Dict[str, int] = {}
    for layer in network.layers:
        kept = 1 if _should_skip_first_node(layer) else 0
        for index, _ in enumerate(layer._inbound_nodes):
            key = _node_key(layer, index)
            if key in network._network_nodes:
                conversion[key] = kept
                kept += 1
    return conversion


def _constant(value: Any) -> Any:
    """A constant argument of a node as its config holds it: a tensor or array as a (nested)
    list of numbers, as tf-keras saves the constants of its op layers; it loads back as
    that list, which the ops take as they take the tensor (floats read as ``floatx()``)."""
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().tolist()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


def _serialize_node(node: Node, conversion: Dict[str, int]):
    def ref(t: KerasTensor):
        h = _history(t)
        return [h.layer.name, conversion.get(_node_key(h.layer, h.node_index), 0), h.tensor_index]

    kwargs = dict(node.call_kwargs)
    # Arguments after the first positional one are saved as keyword arguments.
    names = call_signature(type(node.layer).call)[3]
    for name, value in zip(names[2:], node.call_args[1:]):
        kwargs[name] = value
    kwargs = map_structure(lambda v: ref(v) if isinstance(v, KerasTensor) else _constant(v), kwargs)
    first = node.call_args[0] if node.call_args else None

    def entry(t):
        if isinstance(t, KerasTensor):
            return ref(t) + [kwargs]
        return ["_CONSTANT_VALUE", -1, _constant(t), kwargs]

    if isinstance(first, KerasTensor):
        return [entry(first)]
    if isinstance(first, dict):
        return {k: entry(v) for k, v in first.items()}
    return [entry(t) for t in flatten(first)]


def get_network_config(network) -> Dict[str, Any]:
    conversion = _node_conversion_map(network)
    layer_configs = []
    for layer in network.layers:
        inbound = []
        for index, node in enumerate(layer._inbound_nodes):
            if _node_key(layer, index) in network._network_nodes and not node.is_input:
                inbound.append(_serialize_node(node, conversion))
        cfg = serialize_layer(layer, build_config=True)
        cfg["name"] = layer.name
        cfg["inbound_nodes"] = inbound
        layer_configs.append(cfg)

    def coords(coordinates, nested):
        out = []
        for layer, node_index, tensor_index in coordinates:
            out.append([layer.name, conversion.get(_node_key(layer, node_index), 0), tensor_index])
        if isinstance(nested, dict):
            return dict(zip(nested.keys(), out))
        return out

    return {
        "name": network.name,
        "trainable": network.trainable,
        "layers": layer_configs,
        "input_layers": coords(network._input_coordinates, network._nested_inputs),
        "output_layers": coords(network._output_coordinates, network._nested_outputs),
    }


def _is_ref(x) -> bool:
    return isinstance(x, list) and len(x) in (3, 4) and isinstance(x[0], str) and \
        isinstance(x[1], int) and isinstance(x[2], int)


class _NotReady(Exception):
    pass


def reconstruct_from_config(config: Dict[str, Any], custom_objects=None,
                            created_layers: Optional[Dict[str, Layer]] = None):
    """Rebuilds the layers of a functional config and calls them as the config says.

    Returns (input tensors, output tensors, created layers).
    """
    from ..saving.layer_serialization import deserialize_layer
    created = created_layers if created_layers is not None else collections.OrderedDict()
    node_index_map: Dict[Tuple[str, int], int] = {}
    node_count: Dict[str, int] = {}
    unprocessed: "collections.OrderedDict[str, List[Any]]" = collections.OrderedDict()

    def node_index(layer, config_index: int):
        if isinstance(layer, InputLayer):
            return 0
        return node_index_map.get((layer.name, config_index))

    def tensor_from_ref(ref):
        layer = created.get(ref[0])
        if layer is None:
            raise ValueError(f"Unknown layer {ref[0]!r} referenced in the model config.")
        index = node_index(layer, ref[1])
        if index is None or index >= len(layer._inbound_nodes):
            raise _NotReady()
        return flatten(layer._inbound_nodes[index].outputs)[ref[2]]

    def deserialize_kwargs(kwargs):
        def conv(v):
            if _is_ref(v):
                return tensor_from_ref(v)
            if isinstance(v, list):
                return [conv(x) for x in v]
            if isinstance(v, dict):
                return {k: conv(x) for k, x in v.items()}
            return v
        return {k: conv(v) for k, v in (kwargs or {}).items()}

    def process_node(layer, node_data) -> None:
        entries = node_data if isinstance(node_data, list) else list(node_data.values())
        if entries and _is_ref(entries) and not isinstance(entries[0], list):
            entries = [entries]
        tensors = []
        kwargs: Dict[str, Any] = {}
        for entry in entries:
            if entry[0] == "_CONSTANT_VALUE":
                tensors.append(entry[2])
            else:
                tensors.append(tensor_from_ref(entry))
            if len(entry) == 4 and entry[3]:
                kwargs = deserialize_kwargs(entry[3])
        call_input: Any
        if isinstance(node_data, dict):
            call_input = dict(zip(node_data.keys(), tensors))
        else:
            call_input = tensors[0] if len(tensors) == 1 else tensors
        outputs = layer(call_input, **kwargs)
        out_index = flatten(outputs)[0]._keras_history.node_index
        node_index_map[(layer.name, node_count[layer.name])] = out_index
        node_count[layer.name] += 1

    for layer_data in config["layers"]:
        name = layer_data.get("name") or layer_data["config"]["name"]
        if name not in created:
            created[name] = deserialize_layer(layer_data, custom_objects=custom_objects)
        layer = created[name]
        node_count[name] = int(_should_skip_first_node(layer))
        for node_data in layer_data.get("inbound_nodes", []):
            unprocessed.setdefault(name, []).append(node_data)

    while unprocessed:
        progressed = False
        for layer_data in config["layers"]:
            name = layer_data.get("name") or layer_data["config"]["name"]
            pending = unprocessed.pop(name, None)
            if not pending:
                continue
            while pending:
                try:
                    process_node(created[name], pending[0])
                except _NotReady:
                    break
                pending.pop(0)
                progressed = True
            if pending:
                unprocessed[name] = pending
        if not progressed and unprocessed:
            raise ValueError(f"Cannot rebuild the model graph: the inbound nodes of layers "
                             f"{list(unprocessed)} refer to nodes that do not exist.")

    def resolve(coord_list):
        if isinstance(coord_list, dict):
            return {k: resolve_one(v) for k, v in coord_list.items()}
        if _is_ref(coord_list):
            return [resolve_one(coord_list)]
        return [resolve_one(c) for c in coord_list]

    def resolve_one(coord):
        layer = created[coord[0]]
        return flatten(layer._inbound_nodes[node_index(layer, coord[1])].outputs)[coord[2]]

    inputs = resolve(config["input_layers"])
    outputs = resolve(config["output_layers"])
    return inputs, outputs, created
