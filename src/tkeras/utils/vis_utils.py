"""Keras 2's keras.utils.vis_utils: ``model_to_dot`` and ``plot_model`` (pydot + graphviz, optional).

The graph is Keras 2.3.1's: one ``record`` node per layer labelled ``name: Class``,
with ``show_shapes`` a table of the input and output shapes, and with ``expand_nested``
each nested model (or a wrapper of one) drawn as a dashed cluster of its own layers.
"""
from __future__ import annotations

import os
from typing import Dict, Optional


def _pydot():
    try:
        import pydot
    except ImportError:
        raise ImportError("Failed to import `pydot`. Please install `pydot` (`pip install pydot`) "
                          "and graphviz (https://graphviz.gitlab.io/download/, e.g. "
                          "`apt-get install graphviz`) for `plot_model` to work.") from None
    return pydot


def _check_graphviz(pydot) -> None:
    try:
        pydot.Dot.create(pydot.Dot())
    except (OSError, FileNotFoundError, AssertionError) as e:
        raise OSError("`pydot` failed to call GraphViz. Please install GraphViz "
                      "(https://www.graphviz.org/) and ensure that its executables are in "
                      f"the $PATH. ({e})") from None


def _is_model(layer) -> bool:
    from ..engine.training import Model
    return isinstance(layer, Model)


def _wrapped_model(layer):
    inner = getattr(layer, "layer", None)
    from ..layers.wrappers import Wrapper
    return inner if isinstance(layer, Wrapper) and _is_model(inner) else None


def _shape_text(layer, attr: str) -> str:
    from ..engine.input_layer import InputLayer
    if isinstance(layer, InputLayer):
        attr = "output_shape"
    try:
        shape = getattr(layer, attr)
    except (AttributeError, ValueError, RuntimeError):
        return "multiple"
    if isinstance(shape, list):
        return ", ".join(str(tuple(s)) if isinstance(s, list) else str(s) for s in shape)
    return str(shape)


def _graph_edges(model):
    """``(inbound_layer, layer)`` pairs of the model's own connections."""
    layers = model._layers
    if getattr(model, "_is_graph_network", False) and hasattr(model, "_network_nodes"):
        from ..engine.functional import _node_key
        for layer in layers:
            for index, node in enumerate(layer._inbound_nodes):
                if _node_key(layer, index) in model._network_nodes:
                    for inbound, _, _, _ in node.iterate_inbound():
                        yield inbound, layer
    else:  # a Sequential without a graph yet: a chain
        for previous, layer in zip(layers, layers[1:]):
            yield previous, layer


def model_to_dot(model, show_shapes: bool = False, show_layer_names: bool = True,
                 rankdir: str = "TB", expand_nested: bool = False, dpi: int = 96,
                 subgraph: bool = False, show_dtype: bool = False):
    """The model's graph as a ``pydot.Dot`` (or a ``pydot.Cluster`` with ``subgraph=True``).

    Args:
        model: a built model.
        show_shapes: add a table of each layer's input and output shapes.
        show_layer_names: label nodes ``name: Class`` (else ``Class``).
        rankdir: graphviz's ``rankdir``: 'TB' (vertical) or 'LR' (horizontal).
        expand_nested: draw nested models as clusters of their layers.
        dpi: the image's dots per inch.
        subgraph: return a dashed ``pydot.Cluster`` named after the model (used for nesting).
        show_dtype: add each layer's dtype to its label.

    Raises:
        ImportError: pydot is missing. OSError: graphviz's ``dot`` is missing.

    Example:
        >>> dot = model_to_dot(model, show_shapes=True)  # doctest: +SKIP
        >>> print(dot.to_string())                        # doctest: +SKIP
    """
    pydot = _pydot()
    _check_graphviz(pydot)
    if subgraph:
        dot = pydot.Cluster(style="dashed", graph_name=model.name)
        dot.set("label", model.name)
        dot.set("labeljust", "l")
    else:
        dot = pydot.Dot()
        dot.set("rankdir", rankdir)
        dot.set("concentrate", True)
        dot.set("dpi", dpi)
        dot.set_node_defaults(shape="record")

    first: Dict[int, str] = {}  # id(nested model) -> name of its cluster's first / last node
    last: Dict[int, str] = {}
    options = dict(show_shapes=show_shapes, show_layer_names=show_layer_names, rankdir=rankdir,
                   expand_nested=expand_nested, dpi=dpi, show_dtype=show_dtype)
    for layer in model._layers:
        layer_name, class_name = layer.name, type(layer).__name__
        inner = getattr(layer, "layer", None)
        nested = layer if _is_model(layer) else _wrapped_model(layer)
        if expand_nested and nested is not None:
            cluster = model_to_dot(nested, subgraph=True, **options)
            nodes = _own_nodes(cluster) or _all_nodes(cluster)
            first[id(layer)], last[id(layer)] = nodes[0].get_name(), nodes[-1].get_name()
            dot.add_subgraph(cluster)
            if nested is layer:
                continue
        elif inner is not None and hasattr(inner, "name") and not _is_model(layer):
            layer_name = f"{layer_name}({inner.name})"
            class_name = f"{class_name}({type(inner).__name__})"
        label = f"{layer_name}: {class_name}" if show_layer_names else class_name
        if show_dtype:
            label = f"{label}|{getattr(layer, 'dtype', None)}"
        if show_shapes:
            label = "%s\n|{input:|output:}|{{%s}|{%s}}" % (
                label, _shape_text(layer, "input_shape"), _shape_text(layer, "output_shape"))
        dot.add_node(pydot.Node(str(id(layer)), label=label))

    def add_edge(src: str, dst: str) -> None:
        if not dot.get_edge(src, dst):
            dot.add_edge(pydot.Edge(src, dst))

    for inbound, layer in _graph_edges(model):
        src = last.get(id(inbound), str(id(inbound)))
        if id(layer) in first and _is_model(layer):
            add_edge(src, first[id(layer)])
        elif id(layer) in first:  # an expanded wrapper: into the wrapper, then its cluster
            add_edge(src, str(id(layer)))
            add_edge(str(id(layer)), first[id(layer)])
        else:
            add_edge(src, str(id(layer)))
    return dot


def _own_nodes(graph) -> list:
    """The layer nodes of a pydot graph itself, in the order they were added."""
    return [node for node in graph.get_nodes() if node.get_name() not in ("node", "edge", "graph")]


def _all_nodes(graph) -> list:
    """The layer nodes of a pydot graph and of its clusters."""
    nodes = _own_nodes(graph)
    for sub in graph.get_subgraphs():
        nodes.extend(_all_nodes(sub))
    return nodes


def plot_model(model, to_file: str = "model.png", show_shapes: bool = False,
               show_layer_names: bool = True, rankdir: str = "TB", expand_nested: bool = False,
               dpi: int = 96, show_dtype: bool = False) -> Optional[object]:
    """Draws the model's graph into ``to_file`` (png, svg, pdf, ... from the extension).

    Args:
        model: a built model.
        to_file: the image file (no extension: png).
        show_shapes, show_layer_names, rankdir, expand_nested, dpi, show_dtype: as in
            ``model_to_dot``.

    Returns:
        An ``IPython.display.Image`` of the file (shown inline in a notebook) when IPython
        is installed and the format is not pdf; None otherwise.

    Example:
        >>> plot_model(model, to_file="model.png", show_shapes=True)  # doctest: +SKIP
    """
    dot = model_to_dot(model, show_shapes=show_shapes, show_layer_names=show_layer_names,
                       rankdir=rankdir, expand_nested=expand_nested, dpi=dpi,
                       show_dtype=show_dtype)
    to_file = os.fspath(to_file)
    extension = os.path.splitext(to_file)[1][1:] or "png"
    dot.write(to_file, format=extension)
    if extension != "pdf":
        try:
            from IPython import display
        except ImportError:
            return None
        return display.Image(filename=to_file)
    return None
