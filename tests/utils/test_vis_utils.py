"""model_to_dot / plot_model: Keras 2.3.1's graph (needs pydot and graphviz's dot)."""
import shutil
import sys
import types

import pytest

import tkeras
from tkeras import layers
from tkeras.utils import model_to_dot, plot_model

pydot = pytest.importorskip("pydot")
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="graphviz's dot is not installed")


def _nested():
    inner = tkeras.Sequential([layers.Dense(3, input_shape=(4,), name="d1"),
                               layers.Dense(2, name="d2")], name="inner")
    i = tkeras.Input((4,), name="x")
    out = layers.Dense(1, name="head")(inner(i))
    return tkeras.Model(i, out, name="outer"), inner


def _labels(dot):
    return {n.get_label().strip('"') for n in dot.get_nodes()
            if n.get_name() not in ("node", "edge", "graph")}


def _edges(dot):
    names = {n.get_name(): n.get_label().strip('"').split(":")[0] for n in _all(dot)}
    return {(names[e.get_source()], names[e.get_destination()]) for e in _all_edges(dot)}


def _all_edges(graph):
    edges = list(graph.get_edges())
    for sub in graph.get_subgraphs():
        edges += _all_edges(sub)
    return edges


def _all(graph):
    nodes = [n for n in graph.get_nodes() if n.get_name() not in ("node", "edge", "graph")]
    for sub in graph.get_subgraphs():
        nodes += _all(sub)
    return nodes


@needs_dot
def test_show_shapes_draws_input_and_output_shapes():
    model, _ = _nested()
    dot = model_to_dot(model, show_shapes=True)
    assert _labels(dot) == {
        "x: InputLayer\n|{input:|output:}|{{(None, 4)}|{(None, 4)}}",
        "inner: Sequential\n|{input:|output:}|{{(None, 4)}|{(None, 2)}}",
        "head: Dense\n|{input:|output:}|{{(None, 2)}|{(None, 1)}}",
    }
    assert _edges(dot) == {("x", "inner"), ("inner", "head")}
    assert dot.get("rankdir") == "TB" and dot.get("dpi") == 96


@needs_dot
def test_layer_names_rankdir_dpi_dtype():
    model, _ = _nested()
    dot = model_to_dot(model, show_layer_names=False, rankdir="LR", dpi=48, show_dtype=True)
    assert _labels(dot) == {"InputLayer|float32", "Sequential|float32", "Dense|float32"}
    assert dot.get("rankdir") == "LR" and dot.get("dpi") == 48


@needs_dot
def test_expand_nested_draws_clusters():
    model, inner = _nested()
    dot = model_to_dot(model, expand_nested=True)
    (cluster,) = dot.get_subgraphs()
    assert cluster.get_name() == "cluster_inner" and cluster.get("style") == "dashed"
    assert {n.get_label().strip('"') for n in _all(cluster)} == {
        "d1_input: InputLayer", "d1: Dense", "d2: Dense"}
    assert _labels(dot) == {"x: InputLayer", "head: Dense"}  # no node for the nested model
    # Into the cluster's first node, out of its last one.
    assert _edges(dot) == {("x", "d1_input"), ("d1_input", "d1"), ("d1", "d2"), ("d2", "head")}


@needs_dot
def test_subgraph_returns_a_cluster():
    model, _ = _nested()
    cluster = model_to_dot(model, subgraph=True)
    assert isinstance(cluster, pydot.Cluster) and cluster.get("label") == "outer"


@needs_dot
def test_plot_model_writes_the_file(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "IPython", None)
    model, _ = _nested()
    path = tmp_path / "model.png"
    assert plot_model(model, to_file=str(path), show_shapes=True) is None
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = tmp_path / "model.svg"
    plot_model(model, to_file=str(svg), expand_nested=True)
    assert b"<svg" in svg.read_bytes()


@needs_dot
def test_plot_model_in_a_notebook_returns_an_image(tmp_path, monkeypatch):
    shown = []

    class Image:
        def __init__(self, filename):
            shown.append(filename)
    ipython = types.ModuleType("IPython")
    ipython.display = types.SimpleNamespace(Image=Image)
    monkeypatch.setitem(sys.modules, "IPython", ipython)
    model, _ = _nested()
    image = plot_model(model, to_file=str(tmp_path / "m.png"))
    assert isinstance(image, Image) and shown == [str(tmp_path / "m.png")]
    assert plot_model(model, to_file=str(tmp_path / "m.pdf")) is None


def test_unknown_keyword_is_a_type_error():
    model, _ = _nested()
    with pytest.raises(TypeError, match="unexpected keyword argument 'show_colors'"):
        plot_model(model, show_colors=True)


def test_missing_pydot_names_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "pydot", None)
    model, _ = _nested()
    with pytest.raises(ImportError, match=r"Failed to import `pydot`. Please install `pydot` "
                                          r"\(`pip install pydot`\) and graphviz"):
        model_to_dot(model)


def test_missing_graphviz_names_it(monkeypatch):
    def fail(*args, **kwargs):
        raise FileNotFoundError("dot not found in path.")
    monkeypatch.setattr(pydot.Dot, "create", fail)
    model, _ = _nested()
    with pytest.raises(OSError, match="`pydot` failed to call GraphViz. Please install GraphViz"):
        model_to_dot(model)
