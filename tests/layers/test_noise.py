"""Noise layers: the shared layer contract, identity at inference, noise statistics in
training, seeds, noise_shape and errors."""
import math

import numpy as np
import pytest
import torch
from layer_test_utils import check_layer, expect

from tkeras import layers
from tkeras.layers.noise import AlphaDropout, GaussianDropout, GaussianNoise

CASES = [
    ("gaussian_noise", lambda: GaussianNoise(0.5), (4, 5),
     expect((4, 5), masking=True, expected_output=lambda x: x)),
    ("gaussian_noise_seeded", lambda: GaussianNoise(0.1, seed=3), (2, 3, 4),
     expect((2, 3, 4), masking=True, expected_output=lambda x: x)),
    ("gaussian_dropout", lambda: GaussianDropout(0.3), (4, 5),
     expect((4, 5), masking=True, expected_output=lambda x: x)),
    ("alpha_dropout", lambda: AlphaDropout(0.2), (4, 5),
     expect((4, 5), masking=True, expected_output=lambda x: x)),
    ("alpha_dropout_noise_shape", lambda: AlphaDropout(0.2, noise_shape=(None, 1, 4), seed=1),
     (2, 3, 4), expect((2, 3, 4), masking=True, expected_output=lambda x: x)),
]


@pytest.mark.parametrize("name,factory,shape,expected", CASES, ids=[c[0] for c in CASES])
def test_noise_layer_contract(name, factory, shape, expected):
    check_layer(factory, shape, trains=False, **expected)


ALPHA_P = -1.6732632423543772 * 1.0507009873554805


@pytest.mark.parametrize("layer", [GaussianNoise(0.5), GaussianDropout(0.3), AlphaDropout(0.2)],
                         ids=["gaussian_noise", "gaussian_dropout", "alpha_dropout"])
def test_identity_at_inference(layer):
    x = np.random.RandomState(0).standard_normal((4, 6)).astype("float32")
    np.testing.assert_array_equal(layer(x).numpy(), x)
    np.testing.assert_array_equal(layer(x, training=False).numpy(), x)
    assert not np.array_equal(layer(x, training=True).numpy(), x)


def test_gaussian_noise_statistics_in_training():
    torch.manual_seed(0)
    x = np.full((400, 500), 2.0, "float32")
    noise = GaussianNoise(0.5)(x, training=True).numpy() - x
    assert abs(noise.mean()) < 0.005
    assert abs(noise.std() - 0.5) < 0.005


def test_gaussian_dropout_keeps_the_expectation():
    torch.manual_seed(1)
    x = np.full((400, 500), 3.0, "float32")
    out = GaussianDropout(0.3)(x, training=True).numpy()
    assert abs(out.mean() - 3.0) < 0.01
    assert abs(out.std() - 3.0 * math.sqrt(0.3 / 0.7)) < 0.01


def test_alpha_dropout_keeps_zero_mean_and_unit_variance():
    torch.manual_seed(2)
    rate = 0.2
    x = np.random.RandomState(0).standard_normal((400, 500)).astype("float32")
    out = AlphaDropout(rate)(x, training=True).numpy()
    assert abs(out.mean()) < 0.01
    assert abs(out.var() - 1.0) < 0.02
    # the dropped units all take the value a * alpha_p + b (by hand from the tf-keras formula)
    a = ((1 - rate) * (1 + rate * ALPHA_P ** 2)) ** -0.5
    b = -a * ALPHA_P * rate
    dropped = np.isclose(out, a * ALPHA_P + b, atol=1e-6)
    assert abs(dropped.mean() - rate) < 0.01
    np.testing.assert_allclose(out[~dropped], a * x[~dropped] + b, rtol=1e-5, atol=1e-6)


def test_alpha_dropout_noise_shape_broadcasts_the_mask():
    torch.manual_seed(3)
    x = np.random.RandomState(1).standard_normal((50, 6, 4)).astype("float32")
    layer = AlphaDropout(0.5, noise_shape=(None, 1, 4))
    out = layer(x, training=True).numpy()
    a = ((1 - 0.5) * (1 + 0.5 * ALPHA_P ** 2)) ** -0.5
    dropped = np.isclose(out, a * ALPHA_P + -a * ALPHA_P * 0.5, atol=1e-6)
    # a unit is dropped at every timestep or at none
    assert np.all(dropped.all(axis=1) | (~dropped).all(axis=1))
    assert 0 < dropped.mean() < 1
    assert "noise_shape" not in layer.get_config()  # as tf-keras writes it


def test_seeded_layers_are_reproducible_and_change_between_calls():
    x = np.zeros((3, 4), "float32")
    first, second = GaussianNoise(1.0, seed=7), GaussianNoise(1.0, seed=7)
    a1, a2 = first(x, training=True).numpy(), first(x, training=True).numpy()
    b1 = second(x, training=True).numpy()
    np.testing.assert_array_equal(a1, b1)
    assert not np.array_equal(a1, a2)


@pytest.mark.parametrize("rate", [1.0, 0.0])
def test_extreme_rates_are_the_identity(rate):
    x = np.ones((2, 3), "float32")
    np.testing.assert_array_equal(GaussianDropout(rate)(x, training=True).numpy(), x)
    np.testing.assert_array_equal(AlphaDropout(rate)(x, training=True).numpy(), x)


@pytest.mark.parametrize("cls", [GaussianDropout, AlphaDropout])
@pytest.mark.parametrize("rate", [-0.1, 1.5])
def test_rate_out_of_range_is_a_value_error(cls, rate):
    with pytest.raises(ValueError, match="Expected a float value between 0 and 1"):
        cls(rate)


def test_masks_pass_through_noise_layers():
    inputs = layers.Input(shape=(4,), dtype="int32")
    embedded = layers.Embedding(10, 3, mask_zero=True)(inputs)
    for layer in (GaussianNoise(0.1), GaussianDropout(0.1), AlphaDropout(0.1)):
        assert layer(embedded)._keras_mask is not None


def test_configs_match_tf_keras_keys():
    assert GaussianNoise(0.5).get_config()["stddev"] == 0.5
    assert set(AlphaDropout(0.2, seed=1).get_config()) == \
        {"name", "trainable", "dtype", "rate", "seed"}


def test_keras2_module_path():
    from tkeras.layers import noise
    assert noise.GaussianNoise is layers.GaussianNoise


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16])
def test_dropout_in_training_is_keras_formula_drop_rate_and_gradient(dtype):
    torch.manual_seed(0)  # an unseeded Dropout draws from torch's global generator
    rate = 0.3
    x = (torch.rand(200, 500) + 0.5).to(dtype).requires_grad_()
    y = layers.Dropout(rate, dtype=str(dtype).split(".")[1])(x, training=True)
    assert y.dtype == dtype
    dropped = (y == 0)
    assert abs(dropped.float().mean().item() - rate) < 0.01  # 100,000 draws
    kept = ~dropped
    # survivors are Keras's x * (1 / (1 - rate)), rounded once in the input's dtype
    scale = torch.tensor(1 / (1 - rate), dtype=dtype)
    assert torch.equal(y[kept], x.detach()[kept] * scale)
    y.sum().backward()  # the gradient is the mask
    assert torch.equal(x.grad, torch.where(kept, scale, torch.zeros((), dtype=dtype)))
