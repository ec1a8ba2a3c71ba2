"""Sequential: a linear stack of layers."""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from ..saving.layer_serialization import serialize_layer
from .base_layer import Layer, shape_structure
from .functional import Functional
from .input_layer import Input, InputLayer
from .keras_tensor import KerasTensor, flatten


class Sequential(Functional):
    """A plain stack of layers, each with one input tensor and one output tensor.

    Args:
        layers: the layers, in order (more can be added with ``add``).
        name: the model's name.

    Example:
        >>> model = Sequential()
        >>> model.add(Dense(32, activation="relu", input_shape=(784,)))
        >>> model.add(Dense(10, activation="softmax"))
        >>> model.output_shape
        (None, 10)
    """

    def __init__(self, layers: Optional[List[Layer]] = None, name: Optional[str] = None, **kwargs):
        super().__init__(name=name, **kwargs)
        self.__dict__["_seq_layers"] = []
        self.__dict__["_input_layer"] = None
        self._is_graph_network = False
        self.built = False
        self._sync_modules()
        for layer in layers or []:
            self.add(layer)

    # -------------------------------------------------------------- structure

    @property
    def layers(self) -> List[Layer]:
        return list(self.__dict__.get("_seq_layers", []))

    def _direct_sublayers(self) -> List[Layer]:
        return self.__dict__.get("_seq_layers", [])

    def _sync_modules(self) -> None:
        """Registers the layers with torch as ``0``, ``1``, ... (like ``nn.Sequential``)."""
        for key in list(self._modules):
            del self._modules[key]
        for i, layer in enumerate(self.__dict__.get("_seq_layers", [])):
            self._modules[str(i)] = layer

    def add(self, layer: Any) -> None:
        """Appends a layer (or a model, or a KerasTensor from ``Input()``) to the stack."""
        if isinstance(layer, KerasTensor):
            origin = layer._keras_history.layer if layer._keras_history is not None else None
            if not isinstance(origin, InputLayer):
                raise TypeError("A Sequential model only accepts `Input()` tensors or layers. "
                                f"Received: {layer}")
            layer = origin
        from torch import nn
        if not isinstance(layer, Layer):
            if isinstance(layer, nn.Module):
                from ..layers.torch_wrapper import TorchModuleWrapper
                layer = TorchModuleWrapper(layer)
            else:
                raise TypeError("The added layer must be an instance of class Layer. "
                                f"Received: layer={layer} of type {type(layer)}.")
        if isinstance(layer, InputLayer):
            if self._seq_layers or self._input_layer is not None:
                raise ValueError("An InputLayer can only be the first layer of a Sequential model.")
            self.__dict__["_input_layer"] = layer
            self._rebuild_graph()
            return
        if any(existing.name == layer.name for existing in self._seq_layers):
            raise ValueError(f'All layers added to a Sequential model should have unique names. '
                             f'Name "{layer.name}" is already the name of a layer in this model. '
                             "Update the `name` argument to pass a unique name.")
        input_layer_before = self._input_layer
        self._seq_layers.append(layer)
        self._sync_modules()
        try:
            self._connect_added(layer)
        except Exception:  # a refused layer leaves the model as it was (as in tf-keras)
            self._seq_layers.pop()
            self.__dict__["_input_layer"] = input_layer_before
            self._sync_modules()
            if self._seq_layers and self._input_layer is not None:
                self._rebuild_graph()
            raise

    def _connect_added(self, layer: Layer) -> None:
        """Links the layer just appended into the graph (an input layer from the first
        layer's input shape, when it has one)."""
        if self._input_layer is None and len(self._seq_layers) == 1:
            shape = getattr(layer, "_batch_input_shape", None)
            dtype: Optional[str]
            if shape is None and isinstance(layer, Functional) and layer._is_graph_network:
                shape = (None,) + tuple(layer.inputs[0].shape[1:])
                dtype = layer.inputs[0].dtype
            else:
                dtype = getattr(layer, "_input_dtype", None) or None
            if shape is not None:
                self.__dict__["_input_layer"] = InputLayer(batch_input_shape=shape, dtype=dtype,
                                                           name=layer.name + "_input")
        if self._input_layer is not None:
            if self._is_graph_network and self.outputs:
                self._append_to_graph(layer)
            else:
                self._rebuild_graph()

    def pop(self) -> None:
        """Removes the last layer."""
        if not self._seq_layers:
            raise TypeError("There are no layers in the model.")
        self._seq_layers.pop()
        self._sync_modules()
        if not self._seq_layers:
            self._is_graph_network = False
            self.built = False
            self.outputs = []
            return
        if self._input_layer is not None:
            self._rebuild_graph()

    # -------------------------------------------------------------- graph

    def _input_tensor(self) -> KerasTensor:
        return self._input_layer._inbound_nodes[0].outputs

    def _append_to_graph(self, layer: Layer) -> None:
        out = layer(self.outputs[0])
        self._set_graph_outputs(out, layer)

    def _rebuild_graph(self) -> None:
        x = self._input_tensor()
        last = self._input_layer
        for layer in self._seq_layers:
            x = layer(x)
            last = layer
            if len(flatten(x)) != 1:
                break
        self._set_graph_outputs(x, last)

    def _set_graph_outputs(self, out, layer: Layer) -> None:
        if len(flatten(out)) != 1:
            raise ValueError("All layers in a Sequential model should have a single output tensor. "
                             "For multi-output layers, use the functional API. "
                             f'Layer "{layer.name}" returned {len(flatten(out))} outputs.')
        self._init_graph_network(self._input_tensor(), out)
        self._sync_modules()

    def build(self, input_shape=None) -> None:
        """Builds the stack for ``input_shape`` (with the batch axis), when no shape was given."""
        if self._is_graph_network:
            self.built = True
            return
        if input_shape is None:
            raise ValueError("You must provide an `input_shape` argument.")
        shape = tuple(input_shape)
        self.__dict__["_input_layer"] = InputLayer(
            batch_input_shape=(None,) + shape[1:],
            name=(self._seq_layers[0].name + "_input") if self._seq_layers else None)
        if self._seq_layers:
            self._rebuild_graph()
        self.built = True

    def _maybe_build(self, input_shapes, own_scope: bool = True) -> None:
        if not self._is_graph_network:
            if not self._seq_layers:
                raise ValueError(f'Sequential model "{self.name}" has no layers: add layers before '
                                 "calling it.")
            shape = input_shapes if isinstance(input_shapes, tuple) else tuple(input_shapes)
            self.build(shape)

    def _eager_call(self, inputs, rest: tuple, kwargs: dict):
        if not self._is_graph_network:
            from .base_layer import convert_inputs
            inputs = convert_inputs(inputs)
            self._maybe_build(shape_structure(inputs))
        return super()._eager_call(inputs, rest, kwargs)

    def _symbolic_call(self, inputs, rest: tuple, kwargs: dict):
        if not self._is_graph_network:
            self._maybe_build(shape_structure(inputs))
        return super()._symbolic_call(inputs, rest, kwargs)

    # -------------------------------------------------------------- config

    def get_config(self) -> Dict[str, Any]:
        layer_configs = []
        if self._input_layer is not None:
            layer_configs.append(serialize_layer(self._input_layer, build_config=True))
        for layer in self._seq_layers:
            layer_configs.append(serialize_layer(layer, build_config=True))
        return {"name": self.name, "layers": layer_configs}

    @classmethod
    def from_config(cls, config: Dict[str, Any], custom_objects=None):
        from ..saving.layer_serialization import deserialize_layer
        if isinstance(config, list):  # Keras 2.0/2.1 stored only the list of layers
            config = {"layers": config}
        model = cls(name=config.get("name"))
        build_shape = None
        for layer_config in config["layers"]:
            layer = deserialize_layer(layer_config, custom_objects=custom_objects)
            model.add(layer)
            build_shape = build_shape or (layer_config.get("build_config") or {}).get("input_shape")
        if not model._is_graph_network and build_shape is not None:
            model.build(tuple(build_shape))
        return model


__all__ = ["Sequential", "Input"]
