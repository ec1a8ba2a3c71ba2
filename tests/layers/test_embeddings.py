"""Embedding: the shared layer contract, lookups by hand, masks, shapes, errors and the
seed 001 example."""
import numpy as np
import pytest
import torch
from layer_test_utils import check_layer, expect

from tkeras import layers, regularizers
from tkeras.layers.embeddings import Embedding
from tkeras.models import Sequential

CASES = [
    ("default", lambda: Embedding(10, 4), (3, 5),
     expect((3, 5, 4), weights=(1, 0), masking=False, expected_output_dtype="float32")),
    ("mask_zero", lambda: Embedding(10, 4, mask_zero=True), (3, 5),
     expect((3, 5, 4), weights=(1, 0), masking=True, expected_output_dtype="float32")),
    ("input_length", lambda: Embedding(10, 4, input_length=5), (3, 5),
     expect((3, 5, 4), weights=(1, 0), expected_output_dtype="float32")),
    ("rank3_input", lambda: Embedding(10, 2, input_length=(2, 5)), (3, 2, 5),
     expect((3, 2, 5, 2), weights=(1, 0), expected_output_dtype="float32")),
    ("regularized", lambda: Embedding(10, 4, embeddings_regularizer="l2"), (3, 5),
     expect((3, 5, 4), weights=(1, 0), losses=1, expected_output_dtype="float32")),
]


@pytest.mark.parametrize("name,factory,shape,expected", CASES, ids=[c[0] for c in CASES])
def test_embedding_contract(name, factory, shape, expected):
    check_layer(factory, shape, input_dtype="int32", input_range=(0, 10), **expected)


def _layer_with_known_weights(mask_zero=False):
    layer = Embedding(6, 3, mask_zero=mask_zero)
    layer.build((None, None))
    table = np.arange(18, dtype="float32").reshape(6, 3) / 10.0
    layer.set_weights([table])
    return layer, table


@pytest.mark.parametrize("dtype", ["int8", "int16", "uint8", "int32", "int64"])
def test_lookup_matches_the_table_for_every_integer_dtype(dtype):
    layer, table = _layer_with_known_weights()
    idx = np.array([[0, 5, 2], [1, 1, 4]], dtype=dtype)
    np.testing.assert_array_equal(layer(idx).detach().numpy(), table[idx.astype("int64")])


def test_float_inputs_holding_integers_are_cast():
    layer, table = _layer_with_known_weights()
    idx = np.array([[0.0, 5.0, 2.0]], dtype="float64")
    np.testing.assert_array_equal(layer(idx).detach().numpy(), table[[[0, 5, 2]]])
    idx32 = torch.tensor([[3.0, 1.0]], dtype=torch.float32)
    np.testing.assert_array_equal(layer(idx32).detach().numpy(), table[[[3, 1]]])


def test_mask_zero_produces_the_padding_mask():
    layer, _ = _layer_with_known_weights(mask_zero=True)
    idx = np.array([[3, 1, 0, 0], [2, 0, 5, 0]], dtype="int32")
    out = layer(idx)
    np.testing.assert_array_equal(out._keras_mask.numpy(), idx != 0)
    symbolic = Embedding(6, 3, mask_zero=True)(layers.Input(shape=(4,), dtype="int32"))
    assert symbolic._keras_mask is not None and symbolic._keras_mask.shape == (None, 4)
    assert Embedding(6, 3)(idx).__dict__.get("_keras_mask") is None


def test_output_shapes_with_and_without_input_length():
    assert Embedding(10, 4)(layers.Input(shape=(None,), dtype="int32")).shape == (None, None, 4)
    assert Embedding(10, 4, input_length=7)(layers.Input(shape=(None,), dtype="int32")).shape == \
        (None, 7, 4)
    assert Embedding(10, 4).get_config()["batch_input_shape"] == [None, None]
    assert Embedding(10, 4, input_length=7).get_config()["batch_input_shape"] == [None, 7]
    with pytest.raises(ValueError, match='"input_length" is 7, but received input has shape'):
        Embedding(10, 4, input_length=7)(layers.Input(shape=(5,), dtype="int32"))


def test_seed_001_sequential_example():
    model = Sequential()
    model.add(Embedding(1000, 64, input_length=10))
    assert model.output_shape == (None, 10, 64)
    input_array = np.random.randint(1000, size=(32, 10))
    model.compile("rmsprop", "mse")  # the seed's next line
    output_array = model.predict(input_array)
    assert output_array.shape == (32, 10, 64)
    table = model.layers[0].get_weights()[0]
    np.testing.assert_array_equal(output_array, table[input_array])


def test_default_initializer_is_uniform_005():
    layer = Embedding(200, 50)
    layer.build((None, None))
    table = layer.get_weights()[0]
    assert table.min() >= -0.05 and table.max() <= 0.05 and table.std() > 0.02


def test_embeddings_regularizer_adds_a_loss():
    layer = Embedding(6, 3, embeddings_regularizer=regularizers.l2(0.5))
    layer(np.array([[1, 2]]))
    table = layer.get_weights()[0]
    losses = layer.losses
    assert len(losses) == 1
    np.testing.assert_allclose(float(losses[0].detach()), 0.5 * np.sum(table ** 2), rtol=1e-5)


@pytest.mark.parametrize("input_dim,output_dim", [(0, 4), (-3, 4), (10, 0), (2.5, 4)])
def test_non_positive_sizes_raise(input_dim, output_dim):
    with pytest.raises(ValueError, match="should be positive integers"):
        Embedding(input_dim, output_dim)


def test_numpy_integer_sizes_are_accepted():
    layer = Embedding(np.int64(7), np.int32(2))
    assert layer.get_config()["input_dim"] == 7 and type(layer.input_dim) is int


@pytest.mark.parametrize("bad", [6, 100, -1])
def test_out_of_range_index_on_cpu_is_a_value_error(bad):
    layer, _ = _layer_with_known_weights()
    with pytest.raises(ValueError, match=r"must be in \[0, input_dim=6\)"):
        layer(np.array([[1, bad]], dtype="int64"))


def test_keras2_module_path():
    from tkeras.layers import embeddings
    assert embeddings.Embedding is layers.Embedding


def test_embeddings_constraint_applies_after_each_step():
    from tkeras import constraints
    model = Sequential([Embedding(6, 3, embeddings_initializer="ones",
                                  embeddings_constraint=constraints.MaxNorm(1.0), input_length=2)])
    model.compile("sgd", "mse")
    model.fit(np.array([[0, 1], [2, 3]]), np.zeros((2, 2, 3), "float32"), epochs=1, verbose=0)
    table = model.layers[0].get_weights()[0]
    # Keras's MaxNorm default axis=0: each output column's norm over the 6 rows is at most 1
    # (it started at sqrt(6) with all ones, so the constraint must have scaled it).
    norms = np.sqrt(np.sum(table ** 2, axis=0))
    assert np.all(norms <= 1.0 + 1e-6) and np.all(norms > 0.5)
