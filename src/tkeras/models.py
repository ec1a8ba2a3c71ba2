"""tkeras.models: Model, Sequential, and model (de)serialization."""
from __future__ import annotations

import json
from typing import Any, Callable, Dict, List, Optional

from .engine.functional import Functional
from .engine.input_layer import Input, InputLayer
from .engine.keras_tensor import KerasTensor, flatten, map_structure
from .engine.sequential import Sequential
from .engine.training import Model
from .saving.layer_serialization import deserialize_layer
from .saving.object_registration import CustomObjectScope, safe_mode_scope
from .saving.saving_api import load_model, save_model

__all__ = ["Model", "Sequential", "Functional", "Input", "InputLayer", "clone_model",
           "model_from_config", "model_from_json", "model_from_yaml", "load_model", "save_model"]


def model_from_config(config: Dict[str, Any], custom_objects: Optional[Dict[str, Any]] = None,
                      safe_mode: Optional[bool] = None):
    """Builds a model from ``{"class_name": ..., "config": ...}`` (``Model``, ``Functional``,
    ``Sequential`` or a registered custom model).

    Args:
        config: the model's config.
        custom_objects: classes and functions the config names, by name.
        safe_mode: False allows code stored in the config (Lambda bytecode); only for
            configs you trust. None (default) keeps the enclosing ``SafeModeScope``'s
            setting, which is True unless set otherwise.
    """
    with safe_mode_scope(safe_mode):
        return _model_from_config(config, custom_objects)


def _model_from_config(config, custom_objects):
    if isinstance(config, list):
        raise TypeError("`model_from_config` expects a dictionary, not a list. Received: "
                        f"config={config!r}. Did you mean to use `Sequential.from_config(config)`?")
    class_name = config.get("class_name")
    if class_name in ("Model", "Functional"):
        with CustomObjectScope(custom_objects or {}):
            return Functional.from_config(config["config"], custom_objects=custom_objects)
    if class_name == "Sequential":
        with CustomObjectScope(custom_objects or {}):
            return Sequential.from_config(config["config"], custom_objects=custom_objects)
    return deserialize_layer(config, custom_objects=custom_objects)


def model_from_json(json_string: str, custom_objects: Optional[Dict[str, Any]] = None,
                    safe_mode: Optional[bool] = None):
    """Rebuilds a model (architecture only, fresh weights) from ``model.to_json()``.

    ``safe_mode=False`` allows code stored in the JSON (Lambda bytecode); only for text you
    trust. None (default) keeps the enclosing ``SafeModeScope``'s setting (True by default).
    """
    try:
        config = json.loads(json_string)
    except (TypeError, ValueError) as e:
        raise ValueError(f"`model_from_json` expects a JSON string. Could not parse it: {e}") from None
    return model_from_config(config, custom_objects=custom_objects, safe_mode=safe_mode)


def model_from_yaml(yaml_string: str, custom_objects: Optional[Dict[str, Any]] = None,
                    safe_mode: Optional[bool] = None):
    """Rebuilds a model from ``model.to_yaml()`` (parsed with PyYAML's ``safe_load`` only).

    ``safe_mode`` as in ``model_from_json``.
    """
    import yaml
    try:
        config = yaml.safe_load(yaml_string)
    except yaml.YAMLError as e:
        raise ValueError(f"`model_from_yaml` could not parse the YAML string: {e}") from None
    return model_from_config(config, custom_objects=custom_objects, safe_mode=safe_mode)


def _clone_layer(layer):
    """The default ``clone_function``: a new layer from the config (new weights)."""
    return layer.__class__.from_config(layer.get_config())


def _as_input_list(input_tensors, expected: int, where: str) -> List[KerasTensor]:
    tensors = list(input_tensors) if isinstance(input_tensors, (list, tuple)) else [input_tensors]
    if len(tensors) != expected:
        raise ValueError(f"{where} expects {expected} input tensor(s) in `input_tensors`, "
                         f"received {len(tensors)}.")
    out = []
    for i, t in enumerate(tensors):
        if not isinstance(t, KerasTensor):
            raise TypeError(f"{where}: `input_tensors[{i}]` must be a symbolic tensor from "
                            f"`Input()` or a layer. Received: {type(t).__name__}")
        out.append(t)
    return out


def _clone_functional_model(model, input_tensors=None, clone_function: Callable = _clone_layer):
    tensor_map: Dict[int, Any] = {}
    layer_map: Dict[int, Any] = {}
    old_inputs = flatten(model._nested_inputs)
    if input_tensors is None:
        new_inputs = []
        for t in old_inputs:
            old_layer = t._keras_history.layer
            new_layer = InputLayer.from_config(old_layer.get_config())
            layer_map[id(old_layer)] = new_layer
            new_inputs.append(new_layer._inbound_nodes[0].outputs)
    else:
        new_inputs = _as_input_list(input_tensors, len(old_inputs), "clone_model")
    for old, new in zip(old_inputs, new_inputs):
        tensor_map[id(old)] = new

    def mapped(value):
        return tensor_map[id(value)] if isinstance(value, KerasTensor) else value

    for depth in sorted(model._nodes_by_depth, reverse=True):
        for node in model._nodes_by_depth[depth]:
            layer = node.layer
            if isinstance(layer, InputLayer) or node.is_input:
                continue
            if not all(id(t) in tensor_map for t in node.input_tensors):
                continue
            if id(layer) not in layer_map:  # a shared layer is cloned once
                layer_map[id(layer)] = clone_function(layer)
            args = map_structure(mapped, list(node.call_args))
            kwargs = map_structure(mapped, dict(node.call_kwargs))
            outputs = layer_map[id(layer)](*args, **kwargs)
            for old, new in zip(flatten(node.outputs), flatten(outputs)):
                tensor_map[id(old)] = new
    inputs = map_structure(mapped, model._nested_inputs) if input_tensors is None else new_inputs
    outputs = map_structure(mapped, model._nested_outputs)
    return Functional(inputs, outputs, name=model.name)


def _clone_sequential_model(model, input_tensors=None, clone_function: Callable = _clone_layer):
    layers = [clone_function(layer) for layer in model.layers]
    if input_tensors is None:
        old_input = model._input_layer
        head = [InputLayer.from_config(old_input.get_config())] if old_input is not None else []
        return Sequential(head + layers, name=model.name)
    (tensor,) = _as_input_list(input_tensors, 1, "clone_model (Sequential)")
    origin = tensor._keras_history.layer
    if isinstance(origin, InputLayer):
        return Sequential([origin] + layers, name=model.name)
    x = tensor
    for layer in layers:
        x = layer(x)
    return Functional(tensor, x, name=model.name)


def clone_model(model, input_tensors=None, clone_function: Optional[Callable] = None):
    """A new model with the same architecture and configs, and new (not shared) weights.

    Sequential models give Sequential models, functional models functional ones; each
    layer is rebuilt from its config (fresh weights, as Keras 2) unless ``clone_function``
    says otherwise. To copy the weights too: ``clone.set_weights(model.get_weights())``.

    Args:
        model: a Sequential or functional model (not a subclassed one).
        input_tensors: optional symbolic tensors to build the clone on (one per input).
        clone_function: ``f(layer) -> layer`` making each new layer (default:
            ``layer.__class__.from_config(layer.get_config())``); return the layer itself
            to share it.

    Raises:
        ValueError: ``model`` is a subclassed model, or ``input_tensors`` has the wrong count.

    Example:
        >>> clone = clone_model(model)
        >>> clone.set_weights(model.get_weights())
    """
    clone_function = clone_function or _clone_layer
    if isinstance(model, Sequential):
        return _clone_sequential_model(model, input_tensors, clone_function)
    if not isinstance(model, Functional) or not getattr(model, "_is_graph_network", True) \
            or not hasattr(model, "_nodes_by_depth"):
        raise ValueError("Expected `model` argument to be a functional `Model` instance, but got "
                         f"a subclass model instead: {model!r}")
    return _clone_functional_model(model, input_tensors, clone_function)
