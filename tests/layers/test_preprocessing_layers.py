"""Rescaling and Normalization (keras.layers preprocessing layers the applications use)."""
import numpy as np
import pytest
import torch
from layer_test_utils import check_layer, expect

import tkeras
from tkeras import layers

PREPROCESSING_CASES = [
    ("rescaling", lambda: layers.Rescaling(1.0 / 127.5, offset=-1.0), (2, 4, 4, 3), False,
     expect((2, 4, 4, 3), expected_output=lambda x: x / 127.5 - 1.0)),
    ("rescaling_per_channel", lambda: layers.Rescaling([0.5, 2.0, 1.0]), (2, 3, 3), False,
     expect((2, 3, 3), expected_output=lambda x: x * [0.5, 2.0, 1.0])),
    ("normalization_fixed", lambda: layers.Normalization(mean=[1.0, 2.0, 3.0],
                                                          variance=[4.0, 1.0, 0.25]),
     (2, 5, 3), False,
     expect((2, 5, 3), expected_output=lambda x: (x - [1.0, 2.0, 3.0])
            / np.sqrt([4.0, 1.0, 0.25]))),
    ("normalization_adaptable", lambda: layers.Normalization(axis=-1), (2, 4, 4, 3), False,
     expect((2, 4, 4, 3), weights=(0, 3))),
]


@pytest.mark.parametrize("name,factory,shape,trains,expected", PREPROCESSING_CASES,
                         ids=[c[0] for c in PREPROCESSING_CASES])
def test_preprocessing_layer_contract(name, factory, shape, trains, expected):
    check_layer(factory, shape, trains=trains, check_training_step=False, **expected)


def test_rescaling_values_and_integer_inputs():
    x = np.array([[0, 127, 255]], dtype="uint8")
    out = layers.Rescaling(1.0 / 255, offset=0.5)(torch.from_numpy(x))
    assert out.dtype == torch.float32
    np.testing.assert_allclose(out.numpy(), x / 255.0 + 0.5, rtol=1e-6)


def test_normalization_fixed_statistics_formula():
    x = np.random.RandomState(0).rand(4, 3).astype("float32") * 10
    layer = layers.Normalization(mean=[1.0, 2.0, 3.0], variance=[4.0, 1.0, 0.0])
    expected = (x - [1.0, 2.0, 3.0]) / np.maximum(np.sqrt([4.0, 1.0, 0.0]), 1e-7)
    np.testing.assert_allclose(layer(torch.from_numpy(x)).numpy(), expected, rtol=1e-5)
    assert layer.weights == []
    inverse = layers.Normalization(mean=[1.0, 2.0, 3.0], variance=[4.0, 1.0, 1.0], invert=True)
    np.testing.assert_allclose(inverse(torch.from_numpy(x)).numpy(),
                               x * [2.0, 1.0, 1.0] + [1.0, 2.0, 3.0], rtol=1e-5)


def test_normalization_adapt_computes_population_statistics():
    data = np.random.RandomState(1).rand(10, 5, 3).astype("float32") * 4
    layer = layers.Normalization(axis=-1)
    layer.adapt(data)
    mean, variance, count = layer.get_weights()
    np.testing.assert_allclose(mean, data.reshape(-1, 3).mean(0), rtol=1e-5)
    np.testing.assert_allclose(variance, data.reshape(-1, 3).var(0), rtol=1e-5)
    assert int(count) == 50
    assert [w._keras_name for w in layer.weights] == [
        "normalization/mean:0", "normalization/variance:0", "normalization/count:0"]
    # batches adapt to the same statistics as the whole array
    batched = layers.Normalization(axis=-1)
    batched.adapt([data[:3], data[3:]])
    np.testing.assert_allclose(batched.get_weights()[0], mean, rtol=1e-5)
    np.testing.assert_allclose(batched.get_weights()[1], variance, rtol=1e-5)
    out = layer(torch.from_numpy(data)).numpy().reshape(-1, 3)
    np.testing.assert_allclose(out.mean(0), 0.0, atol=1e-5)
    np.testing.assert_allclose(out.std(0), 1.0, atol=1e-4)


def test_normalization_counts_its_weights_like_keras():
    x = layers.Input((8, 8, 3))
    model = tkeras.Model(x, layers.Normalization(axis=3)(x))
    assert model.count_params() == 7  # mean (3) + variance (3) + count (1)
    assert model.layers[1].weights[2].dtype == torch.int64


@pytest.mark.parametrize("kwargs,shape,message", [
    ({"mean": [1.0]}, (2, 3), "both `mean` and `variance` must be set"),
    ({"axis": 3}, (2, 3), "All `axis` values must be in the range [-ndim, ndim)"),
    ({"axis": 1}, (None, None, 3), "All `axis` values to be kept must have known shape"),
])
def test_normalization_errors(kwargs, shape, message):
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("(", r"\(")
                       .replace(")", r"\)")):
        layers.Normalization(**kwargs).build(shape)
