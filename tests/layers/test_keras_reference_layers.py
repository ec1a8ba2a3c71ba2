"""Every case of keras_reference/layers: the tiny model is rebuilt from the JSON real Keras
wrote, weights are set from the file, and outputs, masks, shapes, parameter counts and the
layer config must match what tf-keras 2.21 computed."""
import json

import numpy as np
import pytest
import torch

import tkeras
from conftest import load_case, ref_index
from tkeras.engine.base_layer import LAYER_REGISTRY

CASES = [c["case"] for c in ref_index("layers")["cases"]]


def _classes_in(model_config):
    names = set()
    for layer in model_config["config"]["layers"]:
        names.add(layer["class_name"])
        inner = layer["config"].get("layer") or layer["config"].get("cell")
        for sub in (inner if isinstance(inner, list) else [inner]):
            if isinstance(sub, dict) and "class_name" in sub:
                names.add(sub["class_name"])
        if isinstance(layer["config"].get("cells"), list):
            names.update(c["class_name"] for c in layer["config"]["cells"])
    return names


def _load(case):
    arrays, meta = load_case("layers", case + ".npz")
    model_json = json.loads(meta["model_json"])
    missing = sorted(n for n in _classes_in(model_json) if n not in LAYER_REGISTRY)
    assert not missing, f"layer classes of a reference case are not registered: {missing}"
    return arrays, meta, model_json


def _build(meta):
    return tkeras.models.model_from_json(meta["model_json"])


def _tolerances(case):
    if case in ("activation_exponential",):
        return dict(rtol=1e-5, atol=1e-5)
    if any(k in case for k in ("lstm", "gru", "rnn", "bidirectional", "conv_lstm", "locally")):
        return dict(rtol=1e-4, atol=1e-5)
    return dict(rtol=1e-5, atol=2e-6)


@pytest.mark.parametrize("case", CASES)
def test_outputs_match_keras(case):
    arrays, meta, _ = _load(case)
    model = _build(meta)
    weights = [arrays[w["key"]] for w in meta["weights"]]
    model.set_weights(weights)
    inputs = [arrays[i["key"]] for i in meta["inputs"]]
    with torch.no_grad():
        out = model(inputs if len(inputs) > 1 else inputs[0], training=False)
    outs = out if isinstance(out, (list, tuple)) else [out]
    assert len(outs) == len(meta["outputs"])
    for got, spec in zip(outs, meta["outputs"]):
        expected = arrays[spec["key"]]
        np.testing.assert_allclose(got.numpy(), expected, **_tolerances(case))
        if "mask_key" in spec:
            mask = getattr(got, "_keras_mask", None)
            assert mask is not None, "Keras attaches a mask to this output"
            np.testing.assert_array_equal(mask.numpy(), arrays[spec["mask_key"]])


@pytest.mark.parametrize("case", CASES)
def test_shapes_params_and_config(case):
    arrays, meta, _ = _load(case)
    model = _build(meta)
    assert model.count_params() == meta["count_params"]
    layer = model.get_layer(meta["layer_name"])
    assert layer.count_params() == meta["layer_count_params"]
    assert [list(s) if s else s for s in _as_list(model.output_shape)] == \
        [s for s in _as_list(meta["model_output_shape"])]
    assert layer.get_config() == meta["config"]
    rebuilt = type(layer).from_config(layer.get_config())
    assert rebuilt.get_config() == meta["config"]
    assert [p._keras_name for p in model.weights] == [w["name"] for w in meta["weights"]]
    assert [tuple(w.shape) for w in model.get_weights()] == [tuple(w["shape"]) for w in meta["weights"]]


@pytest.mark.parametrize("case", [c for c in CASES if c.startswith("batch_normalization_training")])
def test_batch_normalization_training_step(case):
    arrays, meta, _ = _load(case)
    model = _build(meta)
    model.set_weights([arrays[w["key"]] for w in meta["weights"]])
    x = arrays[meta["inputs"][0]["key"]]
    with torch.no_grad():
        out = model(x, training=True)
    np.testing.assert_allclose(out.numpy(), arrays["train_output_0"], rtol=1e-5, atol=1e-5)
    for got, w in zip(model.get_weights(), meta["weights"]):
        np.testing.assert_allclose(got, arrays["updated_" + w["key"]], rtol=1e-5, atol=1e-6)


def _as_list(shape):
    if shape and isinstance(shape[0], (list, tuple)):
        return [list(s) for s in shape]
    return [list(shape)]
