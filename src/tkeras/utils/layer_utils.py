"""Layer utilities: Keras's model summary table, parameter counts."""
from __future__ import annotations

from typing import Callable, List, Optional, Sequence

import numpy as np


def count_params(weights) -> int:
    """Number of scalars in a list of weights (each counted once)."""
    unique = {id(w): w for w in weights}.values()
    return int(sum(int(np.prod(tuple(w.shape))) for w in unique))


def weight_memory_size(weights) -> int:
    unique = {id(w): w for w in weights}.values()
    return int(sum(int(np.prod(tuple(w.shape))) * w.element_size() for w in unique))


def readable_memory_size(size: float) -> str:
    units = ["Byte", "KB", "MB", "GB", "TB", "PB"]
    for unit in units:
        if size / 1024 < 1:
            return f"{size:.2f} {unit}"
        size /= 1024
    return f"{size:.2f} {units[-1]}"


def _is_sequential_like(model) -> bool:
    if type(model).__name__ == "Sequential" or not getattr(model, "_is_graph_network", False):
        return True
    nodes = []
    for depth_nodes in model._nodes_by_depth.values():
        if len(depth_nodes) > 1 or (len(depth_nodes) == 1 and len(depth_nodes[0].input_tensors) > 1):
            return False
        nodes += depth_nodes
    for layer in model.layers:
        seen = False
        for node in layer._inbound_nodes:
            if node in nodes:
                if seen:
                    return False
                seen = True
    return True


def _format_shape(shape) -> str:
    if isinstance(shape, list):
        return "[" + ", ".join(_format_shape(s) for s in shape) + "]"
    if isinstance(shape, tuple):
        return str(tuple(shape))
    return str(shape)


def print_summary(model, line_length: Optional[int] = None, positions: Optional[Sequence[float]] = None,
                  print_fn: Optional[Callable[[str], None]] = None, expand_nested: bool = False,
                  show_trainable: bool = False, layer_range=None) -> None:
    """Prints the summary table of a model exactly as tf-keras 2.x does."""
    if print_fn is None:
        print_fn = print
    sequential_like = _is_sequential_like(model)
    if sequential_like:
        line_length = line_length or 65
        positions = list(positions or [0.45, 0.85, 1.0])
        header = ["Layer (type)", "Output Shape", "Param #"]
        relevant_nodes: List = []
    else:
        line_length = line_length or 98
        positions = list(positions or [0.3, 0.6, 0.7, 1.0])
        header = ["Layer (type)", "Output Shape", "Param #", "Connected to"]
        relevant_nodes = [n for nodes in model._nodes_by_depth.values() for n in nodes]
    if positions[-1] <= 1:
        positions = [int(line_length * p) for p in positions]
    if show_trainable:
        line_length += 11
        positions.append(line_length)
        header.append("Trainable")

    def print_row(fields, nested_level: int = 0) -> None:
        left = [str(x) for x in fields]
        while any(left):
            line = ""
            for col in range(len(left)):
                start = positions[col - 1] if col > 0 else 0
                end = positions[col]
                space = 2 if col != len(positions) - 1 else 0
                cutoff = end - start - space
                if col != len(positions) - 1:
                    cutoff -= 1
                if col == 0:
                    cutoff -= nested_level
                fit = left[col][:cutoff]
                candidates = [fit.find(x) + len(x) for x in ("),", "},", "],", "',") if fit.find(x) >= 0]
                if candidates:
                    cutoff = min(candidates)
                    fit = fit[:cutoff]
                if col == 0:
                    line += "|" * nested_level + " "
                line += fit
                line += " " * space if space else ""
                left[col] = left[col][cutoff:]
                if nested_level and col == len(positions) - 1:
                    line += " " * (positions[col] - len(line) - nested_level)
                else:
                    line += " " * (positions[col] - len(line))
            line += "|" * nested_level
            print_fn(line)

    def output_shape_of(layer) -> str:
        try:
            return _format_shape(layer.output_shape)
        except AttributeError:
            return "multiple"
        except RuntimeError:
            return "?"

    def layer_fields(layer) -> list:
        name = f"{layer.name} ({type(layer).__name__})"
        if not layer.built and not getattr(layer, "_is_graph_network", False):
            params = "0 (unused)"
        else:
            params = layer.count_params()
        fields = [name, output_shape_of(layer), params]
        if not sequential_like:
            connections = []
            for node in layer._inbound_nodes:
                if relevant_nodes and node not in relevant_nodes:
                    continue
                for inbound_layer, node_index, tensor_index, _ in node.iterate_inbound():
                    connections.append(f"{inbound_layer.name}[{node_index}][{tensor_index}]")
            fields.append(connections)
        if show_trainable:
            fields.append("Y" if layer.trainable else "N")
        return fields

    def print_layer(layer, nested_level: int = 0, is_nested_last: bool = False) -> None:
        print_row(layer_fields(layer), nested_level)
        if expand_nested and hasattr(layer, "layers") and layer.layers:
            print_fn("|" * (nested_level + 1) + "\u00af" * (line_length - 2 * nested_level - 2)
                     + "|" * (nested_level + 1))
            inner = layer.layers
            for i, sub in enumerate(inner):
                print_layer(sub, nested_level + 1, i == len(inner) - 1)
            print_fn("|" * nested_level + "\u00af" * (line_length - 2 * nested_level) + "|" * nested_level)
        if not is_nested_last:
            print_fn("|" * nested_level + " " * (line_length - 2 * nested_level) + "|" * nested_level)

    print_fn(f'Model: "{model.name}"')
    print_fn("_" * line_length)
    print_row(header)
    print_fn("=" * line_length)
    layers = model.layers
    if layer_range is not None:
        names = [layer.name for layer in layers]
        start, end = layer_range
        layers = layers[names.index(start): names.index(end) + 1]
    for layer in layers:
        print_layer(layer)
    print_fn("=" * line_length)
    trainable = model.trainable_weights
    non_trainable = model.non_trainable_weights
    t_count, n_count = count_params(trainable), count_params(non_trainable)
    t_mem, n_mem = weight_memory_size(trainable), weight_memory_size(non_trainable)
    print_fn(f"Total params: {t_count + n_count} ({readable_memory_size(t_mem + n_mem)})")
    print_fn(f"Trainable params: {t_count} ({readable_memory_size(t_mem)})")
    print_fn(f"Non-trainable params: {n_count} ({readable_memory_size(n_mem)})")
    print_fn("_" * line_length)


def get_source_inputs(tensor, layer=None, node_index=None) -> list:
    """The input tensors (``Input`` placeholders) that ``tensor`` is computed from.

    Args:
        tensor: a symbolic tensor (anything else is returned as is, as in Keras).
        layer: ignored (Keras 2 read it from the tensor's history when absent).
        node_index: ignored, likewise.

    Returns:
        The list of source input tensors, each once, in the order Keras's depth-first
        walk over the inbound nodes reaches them (each tensor walked once: shared
        subgraphs, as residual blocks make, cost no more than the graph's size).

    Example:
        >>> a, b = tkeras.Input((2,)), tkeras.Input((2,))
        >>> out = tkeras.layers.Dense(1)(tkeras.layers.add([a, b]))
        >>> get_source_inputs(out) == [a, b]
        True
    """
    del layer, node_index
    history = getattr(tensor, "_keras_history", None)
    if history is None:
        return tensor
    sources: list = []
    walked: set = set()
    stack = [tensor]
    while stack:
        t = stack.pop()
        if id(t) in walked:  # its sources are listed already
            continue
        walked.add(id(t))
        node = t._keras_history.layer._inbound_nodes[t._keras_history.node_index]
        parents = [p for p in node.input_tensors if getattr(p, "_keras_history", None) is not None]
        if node.is_input or not parents:
            sources.append(t)
            continue
        stack.extend(reversed(parents))
    return sources


def convert_all_kernels_in_model(model) -> None:
    """Flips the spatial axes of every Conv1D / Conv2D / Conv3D / Conv2DTranspose kernel.

    Converts kernels of models trained with Theano (which flipped kernels) to the
    cross-correlation convention of TensorFlow and torch, and back.

    Args:
        model: the model whose convolution kernels are converted in place.
    """
    from .conv_utils import convert_kernel
    conv_classes = {"Conv1D", "Conv2D", "Conv3D", "Conv2DTranspose"}
    for layer in model.layers:
        if type(layer).__name__ in conv_classes:
            weights = layer.get_weights()
            weights[0] = convert_kernel(weights[0])
            layer.set_weights(weights)
