"""The shared layer test: one call checks the Layer contract for any layer class.

    from layer_test_utils import check_layer, expect
    check_layer(lambda: Conv2D(4, 3), input_shape=(2, 8, 8, 3),
                **expect((2, 6, 6, 4), weights=(2, 0)))

It checks what Keras's own ``layer_test`` / ``run_layer_test`` check, against the values
the caller expects (from Keras's documented shapes and weight definitions, never computed
by tkeras): the output shape, dtype (and values, when given), the numbers of trainable and
non-trainable weights and of losses after a call, ``supports_masking``. Then: config round
trip (get_config -> from_config -> same config), get_weights / set_weights round trip and the
``weights`` constructor argument (same outputs), symbolic output shape equals the real output
shape, a training step runs and changes every trainable weight, the layer works inside a
Sequential and a functional model with the same outputs, and model.save -> load_model (Keras 2
HDF5 and the .keras zip) gives the same weights and predictions.
"""
from __future__ import annotations

import os
import tempfile

import numpy as np
import torch

from tkeras.layers import Input
from tkeras.models import Model, Sequential, load_model
from tkeras.saving import SafeModeScope


def _sample(shape, dtype: str, low: int = 0, high: int = 10, seed: int = 0):
    rng = np.random.RandomState(seed)
    if dtype.startswith("int"):
        return rng.randint(low, high, size=shape).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


def _np(x):
    if isinstance(x, (list, tuple)):
        return [_np(v) for v in x]
    return x.detach().cpu().numpy()


def _assert_close(a, b, tol):
    if isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b)
        for x, y in zip(a, b):
            _assert_close(x, y, tol)
        return
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


def _comparable(config):
    """Lambda bytecode is re-marshalled on each dump (same code, other bytes): compare the
    rest; the outputs of the clone are compared separately."""
    if config.get("function_type") == "lambda":
        config = dict(config)
        config.pop("function")
    return config


def _shape_matches(symbolic_shape, real_shape) -> bool:
    return len(symbolic_shape) == len(real_shape) and all(
        s is None or s == r for s, r in zip(symbolic_shape, real_shape))


def expect(output_shape, weights=(0, 0), losses: int = 0, masking=None,
           **more) -> dict:
    """One case's Keras expectations as ``check_layer`` keyword arguments.

    Args:
        output_shape: the full output shape (batch first), or a list of them (several outputs).
        weights: (trainable, non-trainable) weight counts of the built layer.
        losses: the number of ``layer.losses`` after one call (regularizers).
        masking: the expected ``supports_masking`` (None: not checked).
        **more: other ``check_layer`` arguments (``expected_output``, ``input_data``, ...).
    """
    return dict(expected_output_shape=output_shape, expected_num_trainable_weights=weights[0],
                expected_num_non_trainable_weights=weights[1], expected_num_losses=losses,
                supports_masking=masking, **more)


def _check_expectations(layer, out, call_data, input_dtype, tol, expected_output_shape,
                        expected_output_dtype, expected_output, expected_num_trainable_weights,
                        expected_num_non_trainable_weights, expected_num_losses,
                        supports_masking) -> None:
    """The checks of Keras's layer_test / run_layer_test, on the layer's first eager call."""
    outs = list(out) if isinstance(out, (list, tuple)) else [out]
    if expected_output_shape is not None:
        shapes = expected_output_shape if isinstance(expected_output_shape, list) \
            else [expected_output_shape]
        assert [tuple(o.shape) for o in outs] == [tuple(s) for s in shapes], \
            f"output shapes {[tuple(o.shape) for o in outs]}, Keras gives {shapes}"
    if expected_output_dtype is None and not input_dtype.startswith("int"):
        expected_output_dtype = input_dtype  # Keras's default: the input's dtype
    if expected_output_dtype is not None:
        dtypes = [str(o.dtype).replace("torch.", "") for o in outs]
        assert dtypes == [expected_output_dtype] * len(outs), \
            f"output dtypes {dtypes}, expected {expected_output_dtype}"
    if callable(expected_output):  # Keras's formula applied to the inputs with numpy
        expected_output = expected_output(call_data)
    if expected_output is not None:
        _assert_close(_np(out), _np_expected(expected_output), tol)
    counts = {"trainable weights": (len(layer.trainable_weights), expected_num_trainable_weights),
              "non-trainable weights": (len(layer.non_trainable_weights),
                                        expected_num_non_trainable_weights),
              "losses": (len(layer.losses), expected_num_losses)}
    for what, (actual, expected) in counts.items():
        assert expected is None or actual == expected, f"{actual} {what}, Keras has {expected}"
    if supports_masking is not None:
        assert layer.supports_masking == supports_masking, \
            f"supports_masking is {layer.supports_masking}, Keras's is {supports_masking}"


def _np_expected(value):
    if isinstance(value, (list, tuple)):
        return [np.asarray(v) for v in value]
    return np.asarray(value)


def check_layer(factory, input_shape, input_dtype: str = "float32", input_range=(0, 10),
                trains: bool = True, tol: float = 1e-5, check_training_step: bool = True,
                *, input_data=None, expected_output_shape=None, expected_output_dtype=None,
                expected_output=None, expected_num_trainable_weights=None,
                expected_num_non_trainable_weights=None, expected_num_losses=None,
                supports_masking=None) -> None:
    """Runs the shared contract checks on ``factory()`` with inputs of ``input_shape``.

    Args:
        factory: zero-argument callable returning a fresh layer.
        input_shape: a full input shape (batch first) or a list of them (merge layers).
        input_dtype: dtype of the test inputs ('int32' for Embedding).
        input_range: (low, high) for integer inputs.
        trains: whether the layer has trainable weights the step must change.
        tol: tolerance for output comparisons.
        check_training_step: run one optimisation step (off for layers without gradients).
        input_data: the input array(s) to use instead of seeded random data.
        expected_output_shape: the full output shape (or a list, one per output) Keras gives.
        expected_output_dtype: the output dtype (default: the input's, for float inputs).
        expected_output: the output values Keras gives for the inputs, or a function of the
            input array(s) that computes them with numpy from Keras's formula.
        expected_num_trainable_weights, expected_num_non_trainable_weights: weight counts
            of the built layer, as Keras defines them.
        expected_num_losses: ``len(layer.losses)`` after one call.
        supports_masking: the expected ``layer.supports_masking``.
    """
    shapes = input_shape if isinstance(input_shape, list) else [input_shape]
    if input_data is None:
        data = [_sample(s, input_dtype, *input_range, seed=i) for i, s in enumerate(shapes)]
    else:
        data = list(input_data) if isinstance(input_shape, list) else [input_data]
        assert [tuple(np.shape(d)) for d in data] == [tuple(s) for s in shapes]
    call_data = data if isinstance(input_shape, list) else data[0]

    layer = factory()
    out = layer(call_data)
    out_np = _np(out)
    _check_expectations(layer, out, call_data, input_dtype, tol, expected_output_shape,
                        expected_output_dtype, expected_output, expected_num_trainable_weights,
                        expected_num_non_trainable_weights, expected_num_losses,
                        supports_masking)

    # config round trip
    config = layer.get_config()
    with SafeModeScope(False):  # an in-process round trip: Lambda bytecode may load
        clone = type(layer).from_config(config)
    assert _comparable(clone.get_config()) == _comparable(config), \
        "from_config(get_config()) must rebuild the same config"

    # weights round trip: a clone with the original's weights gives the same outputs
    clone(call_data)
    clone.set_weights(layer.get_weights())
    _assert_close(_np(clone(call_data)), out_np, tol)
    assert [w.shape for w in clone.get_weights()] == [w.shape for w in layer.get_weights()]
    if layer.weights:  # Keras's layer_test: instantiation with the `weights` argument
        with SafeModeScope(False):
            given = type(layer).from_config({**config, "weights": layer.get_weights()})
        _assert_close(_np(given(call_data)), out_np, tol)

    # symbolic output shape equals the real one
    sym_inputs = [Input(shape=s[1:], dtype=input_dtype) for s in shapes]
    sym_layer = factory()
    sym_out = sym_layer(sym_inputs if isinstance(input_shape, list) else sym_inputs[0])
    sym_list = sym_out if isinstance(sym_out, (list, tuple)) else [sym_out]
    real_list = out_np if isinstance(out_np, list) else [out_np]
    assert len(sym_list) == len(real_list)
    for s, r in zip(sym_list, real_list):
        assert _shape_matches(s.shape, r.shape), f"symbolic shape {s.shape} != real {r.shape}"

    # inside a functional model, with the layer's weights
    model = Model(sym_inputs if isinstance(input_shape, list) else sym_inputs[0], sym_out)
    sym_layer.set_weights(layer.get_weights())
    _assert_close(_np(model(call_data)), out_np, tol)

    _check_save_load(model, call_data, out_np, tol)

    # inside a Sequential model (single-input, single-output layers)
    if not isinstance(input_shape, list) and not isinstance(out, (list, tuple)):
        seq_layer = factory()
        seq = Sequential([Input(shape=shapes[0][1:], dtype=input_dtype), seq_layer])
        seq_layer.set_weights(layer.get_weights())
        _assert_close(_np(seq(call_data)), out_np, tol)

    if check_training_step:
        _check_training_step(factory, call_data, trains)


def _check_save_load(model, call_data, out_np, tol: float) -> None:
    """model.save -> load_model in both file formats: same weights, same predictions.
    Layer classes defined in a test are passed as custom objects; Lambda code may load."""
    custom = {type(layer).__name__: type(layer) for layer in model._flatten_layers()}
    with tempfile.TemporaryDirectory() as folder:
        for filename in ("model.h5", "model.keras"):
            path = os.path.join(folder, filename)
            model.save(path)
            loaded = load_model(path, custom_objects=custom, safe_mode=False)
            for a, b in zip(loaded.get_weights(), model.get_weights()):
                np.testing.assert_array_equal(a, b)
            _assert_close(_np(loaded(call_data)), out_np, tol)


def _check_training_step(factory, call_data, trains: bool) -> None:
    layer = factory()
    layer(call_data)
    before = [w.detach().clone() for w in layer.trainable_weights]
    if trains:
        assert before, "the layer should have trainable weights"
    out = layer(call_data, training=True)
    outs = out if isinstance(out, (list, tuple)) else [out]
    loss = sum((o.float() ** 2).mean() for o in outs if o.is_floating_point())
    params = [w for w in layer.trainable_weights]
    if not params:
        return
    grads = torch.autograd.grad(loss, params, allow_unused=True)
    with torch.no_grad():
        for p, g in zip(params, grads):
            if g is not None:
                p -= 0.1 * g
    changed = [not torch.equal(b, a.detach()) for b, a in zip(before, layer.trainable_weights)]
    assert all(changed), f"a training step must change every trainable weight: {changed}"
