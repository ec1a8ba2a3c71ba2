"""compile + loss + optimizer wiring against real tf-keras 2.21: for the deterministic
models of keras_reference/files, rebuild the model from its JSON, set the initial weights,
compile as recorded, and reproduce every train_on_batch result and the weights after the
three recorded steps and one more (the ``continue_*`` batch)."""
import json

import numpy as np
import pytest

from conftest import ref_path
from tkeras import models

MODELS = ["two_input_two_output", "bilstm_text", "nested_model", "residual_bn", "shared_lstm",
          "stacked_gru"]


def _case(name):
    with open(ref_path("files", name, "meta.json")) as f:
        meta = json.load(f)
    io = dict(np.load(ref_path("files", name, "io.npz")))
    return meta, io


def _batch(io, prefix_x, prefix_y, meta):
    xs = [io[f"{prefix_x}_input_{i}"] for i in range(len(meta["input_names"]))]
    ys = [io[f"{prefix_y}_output_{i}"] for i in range(len(meta["output_names"]))]
    return (xs if len(xs) > 1 else xs[0]), (ys if len(ys) > 1 else ys[0])


def _weights(io, prefix):
    n = len([k for k in io if k.startswith(prefix)])
    return [io[f"{prefix}{j}"] for j in range(n)]


@pytest.mark.parametrize("name", MODELS)
def test_train_on_batch_reproduces_tf_keras(name):
    meta, io = _case(name)
    assert meta["deterministic_training"]
    with open(ref_path("files", name, "model.json")) as f:
        model = models.model_from_json(f.read())
    model.set_weights(_weights(io, "initial_weight_"))
    compile_args = meta["compile"]
    model.compile(optimizer=compile_args["optimizer"], loss=compile_args["loss"],
                  loss_weights=compile_args["loss_weights"], metrics=compile_args["metrics"])
    results = [model.train_on_batch(*_batch(io, f"train_x{s}", f"train_y{s}", meta))
               for s in range(3)]
    np.testing.assert_allclose(np.array(results, dtype=np.float64),
                               np.array(meta["train_on_batch_results"], dtype=np.float64),
                               rtol=1e-4, atol=1e-5)
    for got, want in zip(model.get_weights(), _weights(io, "weight_")):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    model.train_on_batch(*_batch(io, "continue_x", "continue_y", meta))
    for got, want in zip(model.get_weights(), _weights(io, "continue_weight_")):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
    n_outputs = len(meta["output_names"])
    predictions = model.predict([io[f"input_{i}"] for i in range(len(meta["input_names"]))]
                                if len(meta["input_names"]) > 1 else io["input_0"])
    predictions = predictions if n_outputs > 1 else [predictions]
    for got, want in zip(predictions, [io[f"continue_output_{i}"] for i in range(n_outputs)]):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
