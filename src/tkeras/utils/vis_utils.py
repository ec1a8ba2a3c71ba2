"""Keras 2's keras.utils.vis_utils: model_to_dot and plot_model (pydot + graphviz, optional)."""
from __future__ import annotations

from typing import Optional


def _pydot():
    try:
        import pydot
    except ImportError:
        raise ImportError("You must install pydot (`pip install pydot`) and graphviz "
                          "(see https://graphviz.gitlab.io/download/) for `plot_model` to work.") from None
    return pydot


def model_to_dot(model, show_shapes: bool = False, show_dtype: bool = False,
                 show_layer_names: bool = True, rankdir: str = "TB", dpi: int = 96,
                 subgraph: bool = False):
    """A pydot graph of the model: one node per layer, one edge per connection."""
    pydot = _pydot()
    dot = pydot.Dot()
    dot.set("rankdir", rankdir)
    dot.set("concentrate", True)
    dot.set("dpi", dpi)
    dot.set_node_defaults(shape="record")
    layers = model.layers
    ids = {id(layer): str(id(layer)) for layer in layers}
    for layer in layers:
        label = type(layer).__name__
        if show_layer_names:
            label = f"{layer.name}: {label}"
        if show_shapes:
            try:
                out = str(layer.output_shape)
            except AttributeError:
                out = "multiple"
            label = f"{label}|output: {out}"
        if show_dtype:
            label = f"{label}|{layer.dtype}"
        dot.add_node(pydot.Node(ids[id(layer)], label=label))
    for layer in layers:
        for node in layer._inbound_nodes:
            for inbound, _, _, _ in node.iterate_inbound():
                if id(inbound) in ids:
                    dot.add_edge(pydot.Edge(ids[id(inbound)], ids[id(layer)]))
    return dot


def plot_model(model, to_file: str = "model.png", show_shapes: bool = False,
               show_dtype: bool = False, show_layer_names: bool = True, rankdir: str = "TB",
               expand_nested: bool = False, dpi: int = 96, **kwargs) -> Optional[object]:
    """Writes a picture of the model's graph to ``to_file`` (png, svg, pdf, ...)."""
    dot = model_to_dot(model, show_shapes=show_shapes, show_dtype=show_dtype,
                       show_layer_names=show_layer_names, rankdir=rankdir, dpi=dpi)
    extension = to_file.rsplit(".", 1)[-1] if "." in to_file else "png"
    dot.write(to_file, format=extension)
    return None
