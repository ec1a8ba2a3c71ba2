"""A layer's view of the graph nodes it was called in: Keras's ``input`` / ``output``,
their shapes and masks, per node (``get_input_at(i)``) or for a layer called once."""
from __future__ import annotations

from typing import TYPE_CHECKING, List

from .keras_tensor import Node, map_structure


class LayerNodesMixin:
    """The graph properties of ``Layer``: each call on symbolic tensors appends a ``Node``
    to ``_inbound_nodes``."""

    _inbound_nodes: List[Node]
    _outbound_nodes: List[Node]
    if TYPE_CHECKING:
        @property
        def name(self) -> str: ...  # Layer's

    def _node_attr(self, node_index: int, attr: str, what: str):
        if not self._inbound_nodes:  # (the properties say "not connected" before this)
            raise RuntimeError(f"The layer {self.name} has never been called and thus has no "
                               f"defined {what}.")
        if not -len(self._inbound_nodes) <= node_index < len(self._inbound_nodes):
            raise ValueError(f"Asked to get {what} at node {node_index}, but the layer has only "
                             f"{len(self._inbound_nodes)} inbound nodes.")
        node = self._inbound_nodes[node_index]
        value = getattr(node, attr)
        if attr in ("input_tensors", "output_tensors"):
            return value[0] if len(value) == 1 else value
        return value

    def get_input_at(self, node_index: int):
        return self._node_attr(node_index, "input_tensors", "input")

    def get_output_at(self, node_index: int):
        return self._node_attr(node_index, "output_tensors", "output")

    def get_input_shape_at(self, node_index: int):
        return self._node_attr(node_index, "input_shapes", "input shape")

    def get_output_shape_at(self, node_index: int):
        return self._node_attr(node_index, "output_shapes", "output shape")

    def get_input_mask_at(self, node_index: int):
        inputs = self.get_input_at(node_index)
        return map_structure(lambda t: getattr(t, "_keras_mask", None), inputs)

    def get_output_mask_at(self, node_index: int):
        outputs = self.get_output_at(node_index)
        return map_structure(lambda t: getattr(t, "_keras_mask", None), outputs)

    def _single_node_value(self, getter, what: str):
        if not self._inbound_nodes:
            raise AttributeError(f"Layer {self.name} is not connected, no {what} to return.")
        if len(self._inbound_nodes) > 1:
            raise AttributeError(
                f"Layer {self.name} has multiple inbound nodes, hence the notion of \"layer {what}\" "
                f"is ill-defined. Use `get_{what.replace(' ', '_')}_at(node_index)` instead.")
        return getter(0)

    @property
    def input(self):
        return self._single_node_value(self.get_input_at, "input")

    @property
    def output(self):
        return self._single_node_value(self.get_output_at, "output")

    def _shape_over_nodes(self, attr: str, what: str):
        if not self._inbound_nodes:
            raise AttributeError(f'The layer "{self.name}" has never been called and thus has no '
                                 f"defined {what}.")
        shapes = [getattr(n, attr) for n in self._inbound_nodes]
        if all(s == shapes[0] for s in shapes):
            return shapes[0]
        raise AttributeError(f'The layer "{self.name}" has multiple inbound nodes, with different '
                             f"{what}s. Hence the notion of \"{what}\" is ill-defined for the layer.")

    @property
    def input_shape(self):
        return self._shape_over_nodes("input_shapes", "input shape")

    @property
    def output_shape(self):
        return self._shape_over_nodes("output_shapes", "output shape")

    @property
    def input_mask(self):
        return self.get_input_mask_at(0)

    @property
    def output_mask(self):
        return self.get_output_mask_at(0)

    @property
    def inbound_nodes(self):
        return self._inbound_nodes

    @property
    def outbound_nodes(self):
        return self._outbound_nodes
