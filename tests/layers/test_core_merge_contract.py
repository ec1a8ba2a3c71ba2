"""The shared layer test on every core and merge layer."""
import numpy as np
import pytest
from layer_test_utils import check_layer, expect

from tkeras import layers

# supports_masking: Keras 2 sets it on Dense, Activation, Dropout (and the spatial dropouts),
# ActivityRegularization, Masking and the merge layers; not on Flatten, Reshape, Permute,
# RepeatVector.
CASES = [
    ("dense", lambda: layers.Dense(3, activation="relu"), (4, 5), True,
     expect((4, 3), weights=(2, 0), masking=True)),
    ("dense_3d", lambda: layers.Dense(3), (4, 2, 5), True,
     expect((4, 2, 3), weights=(2, 0), masking=True)),
    ("activation", lambda: layers.Activation("tanh"), (4, 5), False,
     expect((4, 5), masking=True, expected_output=np.tanh)),
    ("dropout", lambda: layers.Dropout(0.5), (4, 5), False,
     expect((4, 5), masking=True, expected_output=lambda x: x)),
    ("flatten", lambda: layers.Flatten(), (4, 2, 3), False,
     expect((4, 6), masking=False, expected_output=lambda x: x.reshape(4, 6))),
    ("reshape", lambda: layers.Reshape((3, -1)), (4, 6), False,
     expect((4, 3, 2), masking=False, expected_output=lambda x: x.reshape(4, 3, 2))),
    ("permute", lambda: layers.Permute((2, 1)), (4, 2, 3), False,
     expect((4, 3, 2), masking=False, expected_output=lambda x: x.transpose(0, 2, 1))),
    ("repeat_vector", lambda: layers.RepeatVector(3), (4, 5), False,
     expect((4, 3, 5), masking=False,
            expected_output=lambda x: np.repeat(x[:, None], 3, axis=1))),
    ("lambda", lambda: layers.Lambda(lambda x: x * 2.0), (4, 5), False,
     expect((4, 5), expected_output=lambda x: 2 * x)),
    ("activity_regularization", lambda: layers.ActivityRegularization(l1=0.1), (4, 5), False,
     expect((4, 5), losses=1, masking=True, expected_output=lambda x: x)),
    ("masking", lambda: layers.Masking(0.0), (4, 3, 2), False,
     expect((4, 3, 2), masking=True)),
    ("spatial_dropout1d", lambda: layers.SpatialDropout1D(0.5), (4, 3, 2), False,
     expect((4, 3, 2), masking=True, expected_output=lambda x: x)),
    ("spatial_dropout2d", lambda: layers.SpatialDropout2D(0.5), (4, 3, 3, 2), False,
     expect((4, 3, 3, 2), masking=True, expected_output=lambda x: x)),
    ("spatial_dropout3d", lambda: layers.SpatialDropout3D(0.5), (2, 3, 3, 3, 2), False,
     expect((2, 3, 3, 3, 2), masking=True, expected_output=lambda x: x)),
]


@pytest.mark.parametrize("name,factory,shape,trains,expected", CASES, ids=[c[0] for c in CASES])
def test_core_layer_contract(name, factory, shape, trains, expected):
    check_layer(factory, shape, trains=trains, **expected)


MERGE = [
    ("add", lambda: layers.Add(), [(4, 3), (4, 3)],
     expect((4, 3), masking=True, expected_output=lambda xs: xs[0] + xs[1])),
    ("subtract", lambda: layers.Subtract(), [(4, 3), (4, 3)],
     expect((4, 3), masking=True, expected_output=lambda xs: xs[0] - xs[1])),
    ("multiply", lambda: layers.Multiply(), [(4, 3), (4, 3), (4, 3)],
     expect((4, 3), masking=True, expected_output=lambda xs: xs[0] * xs[1] * xs[2])),
    ("average", lambda: layers.Average(), [(4, 3), (4, 3)],
     expect((4, 3), masking=True, expected_output=lambda xs: (xs[0] + xs[1]) / 2)),
    ("maximum", lambda: layers.Maximum(), [(4, 3), (4, 3)],
     expect((4, 3), masking=True, expected_output=lambda xs: np.maximum(*xs))),
    ("minimum", lambda: layers.Minimum(), [(4, 3), (4, 3)],
     expect((4, 3), masking=True, expected_output=lambda xs: np.minimum(*xs))),
    ("concatenate", lambda: layers.Concatenate(axis=1), [(4, 3), (4, 2)],
     expect((4, 5), masking=True, expected_output=lambda xs: np.concatenate(xs, 1))),
    ("dot", lambda: layers.Dot(axes=(2, 2)), [(4, 3, 5), (4, 2, 5)],
     expect((4, 3, 2), masking=True)),
]


@pytest.mark.parametrize("name,factory,shapes,expected", MERGE, ids=[c[0] for c in MERGE])
def test_merge_layer_contract(name, factory, shapes, expected):
    check_layer(factory, shapes, trains=False, **expected)


def test_merge_errors():
    with pytest.raises(ValueError, match="exactly 2 inputs"):
        layers.Subtract()([layers.Input(shape=(3,))] * 3)
    with pytest.raises(ValueError, match="incompatible shapes"):
        layers.Add()([layers.Input(shape=(3,)), layers.Input(shape=(4,))])
    with pytest.raises(ValueError, match="matching shapes except for the concatenation axis"):
        layers.Concatenate(axis=1)([layers.Input(shape=(3, 2)), layers.Input(shape=(3, 4))])


def test_dot_values_by_hand():
    a = np.random.rand(4, 3, 5).astype("float32")
    b = np.random.rand(4, 2, 5).astype("float32")
    out = layers.Dot(axes=(2, 2))([a, b]).numpy()
    np.testing.assert_allclose(out, np.einsum("bik,bjk->bij", a, b), rtol=1e-5)
    out = layers.Dot(axes=1, normalize=True)([a[:, 0], b[:, 0]]).numpy()
    na = a[:, 0] / np.linalg.norm(a[:, 0], axis=1, keepdims=True)
    nb = b[:, 0] / np.linalg.norm(b[:, 0], axis=1, keepdims=True)
    np.testing.assert_allclose(out[:, 0], (na * nb).sum(1), rtol=1e-5)


def test_reshape_and_flatten_shapes():
    assert layers.Reshape((-1, 2))(layers.Input(shape=(3, 4))).shape == (None, 6, 2)
    with pytest.raises(ValueError, match="total size of the tensor must be unchanged"):
        layers.Reshape((5, -1))(layers.Input(shape=(3, 4)))
    assert layers.Flatten()(layers.Input(shape=(None, 4))).shape == (None, None)


def test_dense_kernel_keeps_torch_linear_layout_through_training_and_loading(tmp_path):
    """The kernel (Keras shape (in, units)) lives column-major like torch.nn.Linear's
    weight; set_weights, load_weights, training and the optimizer slots keep that layout
    (mixed layouts would slow every step), and Keras sees plain C-ordered arrays."""
    from tkeras.models import Sequential
    model = Sequential([layers.Dense(5, input_shape=(3,)), layers.Dense(2)])
    kernel = model.layers[0].kernel
    assert tuple(kernel.shape) == (3, 5) and kernel.stride() == (1, 3)
    values = [np.arange(w.size, dtype="float32").reshape(w.shape) for w in model.get_weights()]
    model.set_weights(values)
    np.testing.assert_array_equal(model.get_weights()[0], values[0])
    assert model.get_weights()[0].flags["C_CONTIGUOUS"] and kernel.stride() == (1, 3)
    model.compile("adam", "mse")
    model.fit(np.ones((4, 3), "float32"), np.ones((4, 2), "float32"), verbose=0)
    slots = [s for slot in model.optimizer._slots.values() for s in slot if s.shape == (3, 5)]
    assert slots and all(s.stride() == (1, 3) for s in slots)
    path = str(tmp_path / "w.h5")
    model.save_weights(path)
    again = Sequential([layers.Dense(5, input_shape=(3,)), layers.Dense(2)])
    again.load_weights(path)
    assert again.layers[0].kernel.stride() == (1, 3)
    np.testing.assert_array_equal(again.get_weights()[0], model.get_weights()[0])
