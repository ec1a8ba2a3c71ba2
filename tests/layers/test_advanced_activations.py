"""Advanced activation layers: the shared layer contract, numpy checks and errors."""
import numpy as np
import pytest
import torch
from layer_test_utils import check_layer, expect

from tkeras import layers
from tkeras.layers.advanced_activations import ELU, LeakyReLU, PReLU, ReLU, Softmax, ThresholdedReLU


def _softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


CASES = [
    ("softmax", lambda: layers.Softmax(), (4, 3, 5), False,
     expect((4, 3, 5), masking=True, expected_output=lambda x: _softmax(x, -1))),
    ("softmax_axis1", lambda: layers.Softmax(axis=1), (4, 3, 5), False,
     expect((4, 3, 5), masking=True, expected_output=lambda x: _softmax(x, 1))),
    ("softmax_two_axes", lambda: layers.Softmax(axis=[1, 2]), (4, 3, 5), False,
     expect((4, 3, 5), masking=True,
            expected_output=lambda x: _softmax(x, (1, 2)))),
    ("relu", lambda: layers.ReLU(), (4, 6), False,
     expect((4, 6), masking=True, expected_output=lambda x: np.maximum(x, 0))),
    ("relu_all_args", lambda: layers.ReLU(max_value=1.5, negative_slope=0.1, threshold=0.2),
     (4, 6), False,
     expect((4, 6), masking=True, expected_output=lambda x: np.where(
         x > 0.2, np.minimum(x, 1.5), 0.1 * (x - 0.2)))),
    ("leaky_relu", lambda: layers.LeakyReLU(), (4, 6), False,
     expect((4, 6), masking=True, expected_output=lambda x: np.where(x > 0, x, 0.3 * x))),
    ("prelu", lambda: layers.PReLU(alpha_initializer="ones"), (4, 6), True,
     expect((4, 6), weights=(1, 0), masking=True)),
    ("prelu_shared_axes", lambda: layers.PReLU(alpha_initializer="ones", shared_axes=[1, 2]),
     (2, 3, 4, 5), True,
     expect((2, 3, 4, 5), weights=(1, 0), masking=True)),
    ("prelu_3d", lambda: layers.PReLU(alpha_initializer="ones", shared_axes=1), (2, 3, 4), True,
     expect((2, 3, 4), weights=(1, 0), masking=True)),
    ("elu", lambda: layers.ELU(alpha=0.5), (4, 6), False,
     expect((4, 6), masking=True,
            expected_output=lambda x: np.where(x > 0, x, 0.5 * (np.exp(x) - 1)))),
    ("thresholded_relu", lambda: layers.ThresholdedReLU(theta=0.5), (4, 6), False,
     expect((4, 6), masking=True, expected_output=lambda x: x * (x > 0.5))),
]


@pytest.mark.parametrize("name,factory,shape,trains,expected", CASES, ids=[c[0] for c in CASES])
def test_advanced_activation_contract(name, factory, shape, trains, expected):
    check_layer(factory, shape, trains=trains, **expected)


X = np.array([[-3.0, -1.0, -0.2, 0.0, 0.2, 0.5, 1.0, 1.5, 2.0, 7.0]], dtype="float32")


def test_relu_follows_the_keras_formula():
    # min(x, max_value) above the threshold, negative_slope * (x - threshold) at or below it.
    out = ReLU(max_value=1.5, negative_slope=0.1, threshold=0.5)(X).numpy()
    expected = np.where(X > 0.5, np.minimum(X, 1.5), np.float32(0.1) * (X - 0.5))
    np.testing.assert_allclose(out, expected, rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(ReLU()(X).numpy(), np.maximum(X, 0))
    np.testing.assert_array_equal(ReLU(max_value=1.0)(X).numpy(), np.clip(X, 0, 1))


def test_leaky_relu_elu_and_thresholded_relu_by_hand():
    alpha = np.float32(0.3)
    np.testing.assert_allclose(LeakyReLU()(X).numpy(), np.where(X >= 0, X, alpha * X), rtol=1e-6)
    np.testing.assert_allclose(ELU(alpha=0.5)(X).numpy(), np.where(X > 0, X, 0.5 * np.expm1(X)),
                               rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(ThresholdedReLU(theta=1.0)(X).numpy(), np.where(X > 1.0, X, 0))


def test_scalar_arguments_are_stored_as_float32_like_tf_keras():
    assert LeakyReLU().get_config()["alpha"] == float(np.float32(0.3))
    config = ReLU(max_value=6, negative_slope=0.1, threshold=0.5).get_config()
    assert config["max_value"] == 6.0 and isinstance(config["max_value"], float)
    assert config["negative_slope"] == float(np.float32(0.1))
    assert ELU(alpha=0.7).get_config()["alpha"] == float(np.float32(0.7))


def test_prelu_shared_axes_by_hand():
    rng = np.random.RandomState(1)
    x = rng.standard_normal((2, 3, 4, 5)).astype("float32")
    layer = PReLU(shared_axes=[1, 2])
    layer(x)
    assert [tuple(w.shape) for w in layer.get_weights()] == [(1, 1, 5)]
    alpha = rng.uniform(0.1, 0.9, size=(1, 1, 5)).astype("float32")
    layer.set_weights([alpha])
    np.testing.assert_allclose(layer(x).detach().numpy(), np.where(x >= 0, x, alpha * x), rtol=1e-6)
    assert layer.input_spec.axes == {3: 5}


def test_prelu_full_alpha_shape_and_input_check():
    layer = PReLU()
    layer(np.zeros((2, 3, 4), "float32"))
    assert tuple(layer.alpha.shape) == (3, 4)
    with pytest.raises(ValueError, match="expected ndim=3"):
        layer(np.zeros((2, 12), "float32"))


def test_softmax_mask_and_multi_axis():
    inp = np.asarray([[1.0, 2.0, 1.0]], "float32")
    mask = np.asarray([[True, False, True]])
    np.testing.assert_allclose(Softmax()(inp, mask=torch.as_tensor(mask)).numpy(),
                               [[0.5, 0.0, 0.5]], atol=1e-7)
    robust = Softmax(robust_masking=True)(inp, mask=torch.as_tensor(mask))
    np.testing.assert_allclose(robust.numpy(), [[0.5, 0.0, 0.5]], atol=1e-7)
    x = np.random.RandomState(0).standard_normal((2, 3, 4)).astype("float32")
    e = np.exp(x - x.max(axis=(1, 2), keepdims=True))
    np.testing.assert_allclose(Softmax(axis=[1, 2])(x).numpy(),
                               e / e.sum(axis=(1, 2), keepdims=True), rtol=1e-5, atol=1e-7)
    assert Softmax(robust_masking=True).get_config()["robust_masking"] is True
    assert "robust_masking" not in Softmax().get_config()


def test_masks_pass_through_activation_layers():
    inputs = layers.Input(shape=(4,), dtype="int32")
    embedded = layers.Embedding(10, 3, mask_zero=True)(inputs)
    for layer in (ReLU(), LeakyReLU(), ELU(), ThresholdedReLU(), PReLU(), Softmax()):
        assert layer(embedded)._keras_mask is not None, type(layer).__name__


@pytest.mark.parametrize("make,message", [
    (lambda: ReLU(max_value=-1.0), "max_value of a ReLU layer cannot be a negative"),
    (lambda: ReLU(negative_slope=-0.1), "negative_slope of a ReLU layer cannot be a negative"),
    (lambda: ReLU(threshold=-1.0), "threshold of a ReLU layer cannot be a negative"),
    (lambda: LeakyReLU(alpha=None), "alpha of a LeakyReLU layer cannot be None"),
    (lambda: ELU(alpha=None), "alpha of a ELU layer cannot be None"),
    (lambda: ThresholdedReLU(theta=-0.5), "theta of a ThresholdedReLU layer cannot be a negative"),
])
def test_bad_arguments_raise_value_errors(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_prelu_shared_axis_out_of_range():
    with pytest.raises(ValueError, match="shared axis must be in"):
        PReLU(shared_axes=[3])(np.zeros((2, 4), "float32"))


def test_keras2_module_path():
    from tkeras.layers import advanced_activations
    assert advanced_activations.LeakyReLU is layers.LeakyReLU
