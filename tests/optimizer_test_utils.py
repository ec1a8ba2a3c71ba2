"""The shared optimizer test: one call checks the Optimizer contract against a keras_reference
case (tests/data/keras_reference/optimizers, recorded with real Keras 2).

    from optimizer_test_utils import check_optimizer
    check_optimizer(lambda: legacy.Adam(0.01), "legacy_adam.npz")

It checks: the rule (the case's MLP trained with the optimizer gives Keras's loss and weights
after each of the 5 steps, then Keras's optimizer variables: names, dtypes, values), the
config (``serialize`` equals the config Keras recorded; ``deserialize`` and ``from_config``
rebuild the same), get_weights / set_weights of the slots (a fresh optimizer given the state
continues identically), and save / load with a model (one ``train_on_batch`` gives Keras's
step-1 weights; the model saved as HDF5 and .keras loads with the same optimizer state, and
the next step of both gives Keras's step-2 weights).
"""
from __future__ import annotations

import json
import os
import tempfile

import numpy as np
import torch

from conftest import load_case
from tkeras import optimizers as O
from tkeras.models import load_model, model_from_json
from tkeras.optimizers import experimental, legacy, schedules

ACTIVATIONS = {"tanh": torch.tanh, "relu": torch.relu, "sigmoid": torch.sigmoid,
               "linear": lambda t: t}


def named(array, name=None):
    """A trainable leaf tensor carrying a Keras variable name, as the layer engine makes."""
    t = torch.tensor(np.asarray(array, dtype=np.float32)).requires_grad_()
    if name is not None:
        t._keras_name = name
    return t


def reference_optimizer(meta):
    """The optimizer a keras_reference case was recorded with, from its constructor kwargs."""
    family = legacy if meta["impl"].endswith(".legacy") else experimental
    kwargs = dict(meta["kwargs"])
    lr = kwargs.get("learning_rate")
    if isinstance(lr, dict):
        kwargs["learning_rate"] = getattr(schedules, lr["schedule"])(**lr["config"])
    return getattr(family, meta["optimizer_class"])(**kwargs)


def mlp_loss(params, activations, x, y):
    """The recorded model: Dense(H, act0) -> Dense(O, act1), mse over batch and outputs."""
    hidden = activations[0](torch.as_tensor(x) @ params[0] + params[1])
    out = activations[1](hidden @ params[2] + params[3])
    return ((out - torch.as_tensor(y)) ** 2).mean()


def run_reference(case_file, optimizer, steps=5, atol=1e-6):
    """Trains the case's MLP with ``optimizer.apply``, checking losses and weights per step."""
    arrays, meta = load_case("optimizers", case_file)
    model = json.loads(meta["model"]["model_json"])
    acts = [ACTIVATIONS[layer["config"]["activation"]] for layer in model["config"]["layers"]
            if layer["class_name"] == "Dense"]
    params = [named(arrays[f"init_weight_{j}"], name)
              for j, name in enumerate(meta["weight_names"])]
    for s in range(steps):
        loss = mlp_loss(params, acts, arrays["x"][s], arrays["y"][s])
        np.testing.assert_allclose(loss.item(), arrays["losses"][s], rtol=1e-5,
                                   err_msg=f"loss of step {s + 1}")
        grads = list(torch.autograd.grad(loss, params))
        optimizer.apply(params, grads)
        for j, p in enumerate(params):
            np.testing.assert_allclose(p.detach().numpy(), arrays[f"step{s + 1}_weight_{j}"],
                                       atol=atol, rtol=1e-6,
                                       err_msg=f"weight {j} after step {s + 1}")
    return params, arrays, meta


def expected_config(meta):
    """The recorded config; tf-keras reports jit_compile=True only when a GPU is present."""
    expected = json.loads(json.dumps(meta["optimizer_config"]))
    if "jit_compile" in expected["config"]:
        expected["config"]["jit_compile"] = torch.cuda.is_available()
    return expected


def check_optimizer(factory, case_file: str, atol: float = 1e-6,
                    keras_config: bool = True) -> None:
    """Runs the shared optimizer checks on ``factory()`` against one keras_reference case.

    Args:
        factory: zero-argument callable returning a fresh optimizer configured as the case.
        case_file: the case's file in keras_reference/optimizers.
        atol: absolute tolerance on the weights after each step.
        keras_config: compare ``serialize`` and the variables with what Keras recorded (off for
            a wrapped torch.optim optimizer, which has its own config and slot names).
    """
    optimizer = factory()
    params, arrays, meta = run_reference(case_file, optimizer, atol=atol)
    assert int(optimizer.iterations) == meta["iterations_after"]
    if keras_config:
        _check_keras_variables(optimizer, arrays, meta)
        assert O.serialize(optimizer) == expected_config(meta)
    _check_config_round_trip(optimizer)
    gradients = _recorded_gradients(arrays, meta, params)
    check_slots_round_trip(factory, params, gradients[:2], gradients[2:])
    _check_save_load_with_a_model(factory, arrays, meta, atol)


def _check_keras_variables(optimizer, arrays, meta) -> None:
    assert optimizer.variable_names() == [v["name"] for v in meta["optimizer_variables"]]
    for spec, value in zip(meta["optimizer_variables"], optimizer.get_weights()):
        expected = arrays[spec["key"]]
        assert value.shape == expected.shape and str(value.dtype) == spec["dtype"], spec["name"]
        np.testing.assert_allclose(value, expected, rtol=1e-5, atol=1e-6, err_msg=spec["name"])


def _check_config_round_trip(optimizer) -> None:
    serialized = O.serialize(optimizer)
    rebuilt = O.deserialize(serialized)
    assert type(rebuilt) is type(optimizer)
    assert rebuilt.get_config() == optimizer.get_config()
    assert type(optimizer).from_config(optimizer.get_config()).get_config() == \
        optimizer.get_config()
    assert O.serialize(rebuilt) == serialized


def _recorded_gradients(arrays, meta, params):
    """Gradients of the case's loss at the given weights for the recorded batches."""
    model = json.loads(meta["model"]["model_json"])
    acts = [ACTIVATIONS[layer["config"]["activation"]] for layer in model["config"]["layers"]
            if layer["class_name"] == "Dense"]
    point = [p.detach().clone().requires_grad_() for p in params]
    return [list(torch.autograd.grad(mlp_loss(point, acts, arrays["x"][s], arrays["y"][s]),
                                     point)) for s in range(3)]


def check_slots_round_trip(factory, params, before, after) -> None:
    """After steps with the gradient lists ``before``, get_weights -> set_weights into a fresh
    optimizer built on copies of the weights: both continue identically (same weights, same
    slots) over the gradient lists ``after``."""
    original = factory()
    params = [named(p.detach().numpy(), getattr(p, "_keras_name", None)) for p in params]
    for grads in before:
        original.apply(params, [g.clone() for g in grads])
    state = original.get_weights()
    copies = [named(p.detach().numpy(), getattr(p, "_keras_name", None)) for p in params]
    restored = factory()
    restored.build(copies)
    restored.set_weights(state)
    assert int(restored.iterations) == len(before)
    for grads in after:
        original.apply(params, [g.clone() for g in grads])
        restored.apply(copies, [g.clone() for g in grads])
    for a, b in zip(params, copies):
        assert torch.equal(a, b)
    for a, b in zip(original.get_weights(), restored.get_weights()):
        np.testing.assert_array_equal(a, b)


def _check_save_load_with_a_model(factory, arrays, meta, atol: float) -> None:
    """train_on_batch reproduces Keras's step 1; after save -> load_model (both formats) the
    loaded model's optimizer has the same state and its step 2 gives Keras's step-2 weights."""
    model = model_from_json(meta["model"]["model_json"])
    model.set_weights([arrays[f"init_weight_{j}"] for j in range(len(meta["weight_names"]))])
    model.compile(optimizer=factory(), loss="mse")
    loss = model.train_on_batch(arrays["x"][0], arrays["y"][0])
    np.testing.assert_allclose(loss, arrays["losses"][0], rtol=1e-5)
    _assert_weights(model, arrays, 1, atol)
    with tempfile.TemporaryDirectory() as folder:
        for filename in ("model.h5", "model.keras"):
            path = os.path.join(folder, filename)
            model.save(path)
            loaded = load_model(path)
            assert type(loaded.optimizer) is type(model.optimizer), filename
            assert loaded.optimizer.get_config() == model.optimizer.get_config(), filename
            assert loaded.optimizer.variable_names() == model.optimizer.variable_names()
            for a, b in zip(loaded.optimizer.get_weights(), model.optimizer.get_weights()):
                np.testing.assert_array_equal(a, b, err_msg=filename)
            loaded.train_on_batch(arrays["x"][1], arrays["y"][1])
            _assert_weights(loaded, arrays, 2, atol)


def _assert_weights(model, arrays, step: int, atol: float) -> None:
    for j, w in enumerate(model.get_weights()):
        np.testing.assert_allclose(w, arrays[f"step{step}_weight_{j}"], atol=atol, rtol=1e-6,
                                   err_msg=f"weight {j} after step {step} in a model")
