"""The 15 architectures keras_reference records layer by layer (tf_keras 2.21): same layer
names, classes, order, output shapes, parameter counts and weight names / shapes."""
import json

import pytest
import torch

import tkeras
from tkeras import applications

from conftest import ref_index, ref_path

CASES = [m["file"][:-5] for m in ref_index("applications")["models"]]


def _shape(s):
    return [list(x) for x in s] if isinstance(s, list) else list(s)


@pytest.mark.parametrize("case", CASES)
def test_architecture_matches_keras_layer_for_layer(case):
    with open(ref_path("applications", case + ".json")) as f:
        ref = json.load(f)
    kwargs = dict(ref["kwargs"])
    if kwargs.get("input_shape") is not None:
        kwargs["input_shape"] = tuple(kwargs["input_shape"])
    tkeras.backend.clear_session()
    with torch.device("meta"):  # shapes, names and counts without allocating the weights
        model = getattr(applications, ref["application"])(**kwargs)
    assert model.name == ref["model_name"]
    assert model.count_params() == ref["count_params"]
    trainable = sum(int(w.numel()) for w in model.trainable_weights)
    assert trainable == ref["trainable_params"]
    assert len(model.weights) == ref["num_weights"]
    assert list(model.input_shape) == ref["input_shape"]
    assert list(model.output_shape) == ref["output_shape"]
    assert len(model.layers) == ref["num_layers"]
    for layer, expected in zip(model.layers, ref["layers"]):
        got = {"name": layer.name, "class_name": type(layer).__name__,
               "output_shape": _shape(layer.output_shape), "count_params": layer.count_params(),
               "weights": [[w._keras_name, list(w.shape)] for w in layer.weights],
               "inbound_layers": sorted({n.name for node in layer._inbound_nodes
                                         for n in _as_list(node.inbound_layers)})}
        want = {k: expected[k] for k in got}
        want["inbound_layers"] = sorted(set(want["inbound_layers"]))
        assert got == want, f"layer {expected['name']}"


def _as_list(x):
    return x if isinstance(x, list) else [x]
