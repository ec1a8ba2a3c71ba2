"""tkeras.activations: every keras_reference activation case, numpy formulas for the
arguments the reference does not cover, and get / serialize / deserialize."""
import math

import numpy as np
import pytest
import torch

from conftest import load_case, ref_index
from tkeras import activations
from tkeras.saving.object_registration import (
    _GLOBAL_CUSTOM_NAMES,
    _GLOBAL_CUSTOM_OBJECTS,
    CustomObjectScope,
    register_keras_serializable,
)

RNG = np.random.default_rng(7)
ALL_NAMES = ["linear", "relu", "relu6", "elu", "selu", "softmax", "log_softmax", "softplus",
             "softsign", "sigmoid", "hard_sigmoid", "exponential", "tanh", "swish", "silu",
             "gelu", "mish", "leaky_relu"]
ACTIVATION_CASES = [c["file"] for c in ref_index("layers")["cases"]
                    if c["case"].startswith("activation_")]


def as_np(t):
    assert isinstance(t, torch.Tensor)
    return t.detach().cpu().numpy()


# ------------------------------------------------------------------ keras_reference

def test_every_reference_activation_case_is_listed():
    assert len(ACTIVATION_CASES) == 18


@pytest.mark.parametrize("case_file", ACTIVATION_CASES)
def test_reference_activation_outputs(case_file):
    arrays, meta = load_case("layers", case_file)
    name = meta["config"]["activation"]
    out = activations.get(name)(torch.from_numpy(arrays["input_0"]))
    assert out.dtype == torch.float32
    if name == "exponential":  # values up to ~1e2: relative tolerance only
        np.testing.assert_allclose(as_np(out), arrays["output_0"], rtol=1e-5, atol=0)
    else:
        np.testing.assert_allclose(as_np(out), arrays["output_0"], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("case_file", ACTIVATION_CASES)
def test_reference_activation_names_round_trip(case_file):
    _, meta = load_case("layers", case_file)
    name = meta["config"]["activation"]
    assert activations.serialize(activations.get(name)) == name


def test_silu_is_swish_and_serializes_as_swish():
    # activation_silu was recorded from Activation("silu"): tf-keras wrote "swish"
    _, meta = load_case("layers", "activation_silu.npz")
    assert meta["config"]["activation"] == "swish"
    assert activations.get("silu") is activations.swish
    assert activations.serialize(activations.silu) == "swish"


# ------------------------------------------------------------------ formulas with arguments

def test_relu_arguments_match_numpy():
    x = np.linspace(-4, 8, 49).astype(np.float32)
    t = torch.from_numpy(x)
    np.testing.assert_allclose(as_np(activations.relu(t)), np.maximum(x, 0))
    np.testing.assert_allclose(as_np(activations.relu(t, alpha=0.1)),
                               np.where(x > 0, x, 0.1 * x), rtol=1e-6)
    np.testing.assert_allclose(as_np(activations.relu(t, max_value=5.0)),
                               np.clip(x, 0, 5), rtol=1e-6)
    # threshold: x above it, alpha * (x - threshold) at or below it, capped at max_value
    expected = np.where(x > 2.0, np.minimum(x, 6.0), 0.3 * (x - 2.0))
    np.testing.assert_allclose(
        as_np(activations.relu(t, alpha=0.3, max_value=6.0, threshold=2.0)), expected,
        rtol=1e-6, atol=1e-7)


def test_relu6_gradient_is_tensorflows():
    # TensorFlow's Relu6Grad, which Keras's relu(max_value=6) and relu6 use: 1 strictly
    # between 0 and 6, 0 at and beyond both ends; other caps clip relu's output, whose
    # gradient at the cap is 1 (clip_by_value keeps the ends).
    x = [-1.0, 0.0, 3.0, 6.0, 7.0]
    for fn, cap, expected in ((activations.relu6, 6.0, [0, 0, 1, 0, 0]),
                              (lambda t: activations.relu(t, max_value=6.0), 6.0, [0, 0, 1, 0, 0]),
                              (lambda t: activations.relu(t, max_value=3.0), 3.0, [0, 0, 1, 0, 0]),
                              (lambda t: activations.relu(t, max_value=6.5), 6.5, [0, 0, 1, 1, 0])):
        t = torch.tensor(x, requires_grad=True)
        out = fn(t)
        out.sum().backward()
        np.testing.assert_array_equal(as_np(out), np.clip(x, 0, cap))
        np.testing.assert_array_equal(t.grad.numpy(), expected)


def test_elu_alpha_and_selu_constants():
    x = np.linspace(-5, 3, 33).astype(np.float32)
    t = torch.from_numpy(x)
    np.testing.assert_allclose(as_np(activations.elu(t, alpha=0.5)),
                               np.where(x > 0, x, 0.5 * np.expm1(x)), rtol=1e-6, atol=1e-7)
    alpha, scale = 1.6732632423543772, 1.0507009873554805
    np.testing.assert_allclose(as_np(activations.selu(t)),
                               scale * np.where(x > 0, x, alpha * np.expm1(x)),
                               rtol=1e-6, atol=1e-7)


def test_gelu_exact_and_approximate():
    x = np.linspace(-4, 4, 41).astype(np.float64)
    t = torch.from_numpy(x)
    erf = np.vectorize(math.erf)
    np.testing.assert_allclose(as_np(activations.gelu(t)),
                               0.5 * x * (1 + erf(x / math.sqrt(2))), rtol=1e-12, atol=1e-14)
    tanh_form = 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
    np.testing.assert_allclose(as_np(activations.gelu(t, approximate=True)), tanh_form,
                               rtol=1e-12, atol=1e-14)


def test_hard_sigmoid_is_the_keras_2_form():
    x = torch.tensor([-3.0, -2.5, -1.0, 0.0, 1.0, 2.5, 3.0])
    np.testing.assert_allclose(as_np(activations.hard_sigmoid(x)),
                               [0.0, 0.0, 0.3, 0.5, 0.7, 1.0, 1.0], rtol=1e-6, atol=1e-7)


def test_leaky_relu_function_slope_is_0_2():
    x = torch.tensor([-2.0, 0.0, 3.0])
    np.testing.assert_allclose(as_np(activations.leaky_relu(x)), [-0.4, 0.0, 3.0], rtol=1e-6)
    np.testing.assert_allclose(as_np(activations.leaky_relu(x, alpha=0.5)), [-1.0, 0.0, 3.0])


def test_softmax_and_log_softmax_axes():
    x = RNG.normal(size=(2, 3, 4)).astype(np.float64)
    t = torch.from_numpy(x)
    for axis in (-1, 1):
        e = np.exp(x - x.max(axis=axis, keepdims=True))
        expected = e / e.sum(axis=axis, keepdims=True)
        np.testing.assert_allclose(as_np(activations.softmax(t, axis=axis)), expected, rtol=1e-12)
        np.testing.assert_allclose(as_np(activations.log_softmax(t, axis=axis)), np.log(expected),
                                   rtol=1e-12)


def test_softmax_refuses_1d_input():
    with pytest.raises(ValueError, match="1D"):
        activations.softmax(torch.tensor([1.0, 2.0]))


def test_other_elementwise_formulas():
    x = np.linspace(-6, 6, 25).astype(np.float64)
    t = torch.from_numpy(x)
    softplus = np.log1p(np.exp(x))
    expected = {
        "softplus": softplus, "softsign": x / (np.abs(x) + 1), "sigmoid": 1 / (1 + np.exp(-x)),
        "exponential": np.exp(x), "tanh": np.tanh(x), "swish": x / (1 + np.exp(-x)),
        "mish": x * np.tanh(softplus), "relu6": np.clip(x, 0, 6),
    }
    for name, values in expected.items():
        np.testing.assert_allclose(as_np(activations.get(name)(t)), values, rtol=1e-12,
                                   atol=1e-14, err_msg=name)


def test_numpy_input_gives_a_tensor():
    out = activations.relu(np.array([[-1.0, 2.0]], dtype=np.float32))
    assert isinstance(out, torch.Tensor)
    np.testing.assert_array_equal(as_np(out), [[0.0, 2.0]])


def test_linear_returns_its_input():
    x = torch.randn(3)
    assert activations.linear(x) is x


def test_activations_are_differentiable():
    x = torch.linspace(-2, 2, 9, requires_grad=True)
    for name in ALL_NAMES:
        fn = activations.get(name)
        y = fn(x.reshape(3, 3))
        (grad,) = torch.autograd.grad(y.sum(), x)
        assert torch.isfinite(grad).all(), name


# ------------------------------------------------------------------ get / serialize

def test_get_none_is_linear_and_callables_pass_through():
    assert activations.get(None) is activations.linear
    assert activations.get(activations.tanh) is activations.tanh
    assert activations.get(torch.tanh) is torch.tanh


@pytest.mark.parametrize("name", ALL_NAMES)
def test_names_round_trip(name):
    fn = activations.get(name)
    assert callable(fn)
    name_out = activations.serialize(fn)
    assert name_out == ("swish" if name == "silu" else name)
    assert activations.deserialize(name_out) is fn
    assert activations.get(name) is fn  # same object every time (layers compare with `is`)


def test_keras_3_function_dict_form_is_accepted():
    config = {"module": "keras.activations", "class_name": "function", "config": "relu",
              "registered_name": None}
    assert activations.get(config) is activations.relu
    assert activations.deserialize(config) is activations.relu


def test_unknown_name_raises_keras_error():
    with pytest.raises(ValueError, match="Unknown activation function: 'foo'"):
        activations.get("foo")
    with pytest.raises(ValueError, match="Unknown activation function: 'foo'"):
        activations.deserialize("foo")


def test_uninterpretable_identifier_raises_type_error():
    with pytest.raises(TypeError, match="Could not interpret activation function identifier"):
        activations.get(42)


def my_act(x):
    return 2.0 * x


def test_custom_function_by_name_and_custom_objects():
    assert activations.get(my_act) is my_act
    assert activations.serialize(my_act) == "my_act"
    assert activations.deserialize("my_act", custom_objects={"my_act": my_act}) is my_act
    with CustomObjectScope({"my_act": my_act}):
        assert activations.get("my_act") is my_act
    with pytest.raises(ValueError, match="Unknown activation function: 'my_act'"):
        activations.get("my_act")


@pytest.fixture
def registered_act():
    def scaled_tanh(x):
        return 1.7159 * torch.tanh(2.0 / 3.0 * x)

    register_keras_serializable(package="TestAct")(scaled_tanh)
    yield scaled_tanh
    _GLOBAL_CUSTOM_OBJECTS.pop("TestAct>scaled_tanh", None)
    _GLOBAL_CUSTOM_NAMES.pop(scaled_tanh, None)


def test_registered_function_serializes_with_its_registered_name(registered_act):
    name = activations.serialize(registered_act)
    assert name == "TestAct>scaled_tanh"
    assert activations.get(name) is registered_act


class Scaled:
    """A callable activation object with a config."""

    def __init__(self, k=2.0):
        self.k = k

    def __call__(self, x):
        return self.k * x

    def get_config(self):
        return {"k": self.k}


def test_callable_object_serializes_as_config_dict():
    config = activations.serialize(Scaled(3.0))
    assert config["class_name"] == "Scaled" and config["config"] == {"k": 3.0}
    restored = activations.deserialize(config, custom_objects={"Scaled": Scaled})
    assert isinstance(restored, Scaled) and restored.k == 3.0


def test_nameless_callable_cannot_be_serialized():
    class NoName:
        def __call__(self, x):
            return x

    with pytest.raises(ValueError, match="cannot be serialized"):
        activations.serialize(NoName())
