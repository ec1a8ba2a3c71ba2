"""Pooling layers: the shared contract on every class, numpy references for valid / "same"
(TensorFlow's asymmetric padding; max over real elements only, averages divided by the real
element count) in 1D/2D/3D and both data formats, masked global average pooling, aliases and
errors."""
import numpy as np
import pytest
import torch
from layer_test_utils import check_layer, expect

from tkeras import layers
from tkeras.layers import pooling as pooling_module

RNG = np.random.RandomState(3)

CASES = [
    ("max_pooling1d", lambda: layers.MaxPooling1D(3, strides=2, padding="same"), (2, 8, 3),
     expect((2, 4, 3), masking=False)),
    ("max_pooling2d", lambda: layers.MaxPooling2D(), (2, 7, 8, 3),
     expect((2, 3, 4, 3), masking=False)),
    ("max_pooling2d_same_channels_first", lambda: layers.MaxPooling2D(
        (3, 2), strides=2, padding="same", data_format="channels_first"), (2, 3, 7, 5),
     expect((2, 3, 4, 3))),
    ("max_pooling3d", lambda: layers.MaxPooling3D(2, padding="same"), (2, 5, 3, 4, 2),
     expect((2, 3, 2, 2, 2))),
    ("average_pooling1d", lambda: layers.AveragePooling1D(2), (2, 9, 3),
     expect((2, 4, 3), masking=False,
            expected_output=lambda x: x[:, :8].reshape(2, 4, 2, 3).mean(2))),
    ("average_pooling2d_same", lambda: layers.AveragePooling2D(3, strides=2, padding="same"),
     (2, 7, 8, 2), expect((2, 4, 4, 2))),
    ("average_pooling3d_channels_first", lambda: layers.AveragePooling3D(
        2, strides=(1, 2, 2), data_format="channels_first"), (2, 2, 4, 5, 4),
     expect((2, 2, 3, 2, 2))),
    ("global_max_pooling1d", lambda: layers.GlobalMaxPooling1D(), (2, 6, 3),
     expect((2, 3), masking=False, expected_output=lambda x: x.max(1))),
    ("global_average_pooling1d_keepdims", lambda: layers.GlobalAveragePooling1D(keepdims=True),
     (2, 5, 4), expect((2, 1, 4), masking=True,
            expected_output=lambda x: x.mean(1, keepdims=True))),
    ("global_max_pooling2d_channels_first", lambda: layers.GlobalMaxPooling2D(
        data_format="channels_first"), (2, 3, 4, 5),
     expect((2, 3), expected_output=lambda x: x.max((2, 3)))),
    ("global_average_pooling2d", lambda: layers.GlobalAveragePooling2D(), (2, 5, 3, 2),
     expect((2, 2), expected_output=lambda x: x.mean((1, 2)))),
    ("global_max_pooling3d_keepdims", lambda: layers.GlobalMaxPooling3D(keepdims=True),
     (2, 3, 4, 2, 2), expect((2, 1, 1, 1, 2),
            expected_output=lambda x: x.max((1, 2, 3), keepdims=True))),
    ("global_average_pooling3d", lambda: layers.GlobalAveragePooling3D(), (2, 3, 2, 4, 3),
     expect((2, 3), expected_output=lambda x: x.mean((1, 2, 3)))),
]


@pytest.mark.parametrize("name,factory,shape,expected", CASES, ids=[c[0] for c in CASES])
def test_pooling_contract(name, factory, shape, expected):
    check_layer(factory, shape, trains=False, check_training_step=False, **expected)


def test_every_class_is_covered():
    tested = {type(factory()).__name__ for _, factory, _, _ in CASES}
    exported = {name for name in pooling_module.__all__
                if getattr(pooling_module, name).__name__ == name}
    assert exported <= tested, sorted(exported - tested)


def np_pool(x, pool, strides, padding, mode):
    """channels_last pooling by a loop over windows, TF padding, padded cells ignored."""
    rank = x.ndim - 2
    sizes = x.shape[1:-1]
    if padding == "same":
        outs = [-(-n // s) for n, s in zip(sizes, strides)]
        starts = [((o - 1) * s + k - n) // 2 if (o - 1) * s + k > n else 0
                  for o, s, k, n in zip(outs, strides, pool, sizes)]
    else:
        outs = [(n - k) // s + 1 for n, k, s in zip(sizes, pool, strides)]
        starts = [0] * rank
    y = np.zeros((x.shape[0], *outs, x.shape[-1]), dtype=np.float64)
    for pos in np.ndindex(*outs):
        window = tuple(slice(max(p * s - b, 0), min(p * s - b + k, n))
                       for p, s, b, k, n in zip(pos, strides, starts, pool, sizes))
        patch = x[(slice(None),) + window + (slice(None),)]
        axes = tuple(range(1, rank + 1))
        y[(slice(None),) + pos] = patch.max(axes) if mode == "max" else patch.mean(axes)
    return y


POOL_CASES = [
    (1, (3,), (2,), "same", (8,)),
    (1, (2,), (3,), "valid", (10,)),
    (1, (4,), (1,), "same", (5,)),
    (2, (3, 3), (2, 2), "same", (7, 8)),
    (2, (2, 3), (2, 1), "same", (6, 5)),
    (2, (2, 2), (1, 2), "valid", (5, 7)),
    (3, (2, 3, 2), (2, 2, 1), "same", (5, 4, 3)),
    (3, (2, 2, 2), (2, 2, 2), "valid", (4, 5, 4)),
]


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("mode", ["max", "avg"])
@pytest.mark.parametrize("rank,pool,strides,padding,sizes", POOL_CASES)
def test_pooling_matches_numpy(rank, pool, strides, padding, sizes, mode, data_format):
    cls = {("max", 1): layers.MaxPooling1D, ("max", 2): layers.MaxPooling2D,
           ("max", 3): layers.MaxPooling3D, ("avg", 1): layers.AveragePooling1D,
           ("avg", 2): layers.AveragePooling2D, ("avg", 3): layers.AveragePooling3D}[mode, rank]
    x = RNG.standard_normal((2, *sizes, 3)).astype("float32") - 3.0  # all-negative: pads != 0
    layer = cls(pool, strides=strides, padding=padding, data_format=data_format)
    feed = x if data_format == "channels_last" else np.moveaxis(x, -1, 1)
    expected = np_pool(x, pool, strides, padding, mode)
    for _ in range(2):  # the second call reuses the cached "same" divisor
        out = layer(feed).numpy()
        out = out if data_format == "channels_last" else np.moveaxis(out, 1, -1)
        np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)


def test_same_average_divides_by_real_elements():
    x = np.ones((1, 4, 4, 1), "float32")
    out = layers.AveragePooling2D(3, strides=2, padding="same")(x).numpy()
    np.testing.assert_array_equal(out, np.ones((1, 2, 2, 1)))  # padding never counts
    x = np.arange(1, 5, dtype="float32").reshape(1, 4, 1)
    # TF pads (0, 1) for n=4, k=2, s=1: windows [1,2] [2,3] [3,4] [4]
    out = layers.AveragePooling1D(2, strides=1, padding="same")(x).numpy()[0, :, 0]
    np.testing.assert_allclose(out, [1.5, 2.5, 3.5, 4.0])


def test_strides_default_to_pool_size_and_config():
    layer = layers.MaxPooling2D(pool_size=(2, 3))
    assert layer.strides == (2, 3)
    assert layer.get_config() == {"name": layer.name, "trainable": True, "dtype": "float32",
                                  "pool_size": [2, 3], "padding": "valid", "strides": [2, 3],
                                  "data_format": "channels_last"}
    assert layers.MaxPooling2D()(layers.Input(shape=(32, 32, 3))).shape == (None, 16, 16, 3)


def test_global_average_pooling1d_with_mask():
    x = RNG.standard_normal((3, 5, 2)).astype("float32")
    mask = np.array([[1, 1, 1, 0, 0], [1, 0, 1, 1, 1], [1, 1, 1, 1, 1]], bool)
    for data_format, feed in (("channels_last", x), ("channels_first", np.moveaxis(x, -1, 1))):
        layer = layers.GlobalAveragePooling1D(data_format=data_format)
        out = layer(torch.as_tensor(feed), mask=torch.as_tensor(mask))
        expected = (x * mask[:, :, None]).sum(1) / mask.sum(1, keepdims=True)
        np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6)
        assert getattr(out, "_keras_mask", None) is None
    # in a model after an Embedding with mask_zero: the mask is consumed
    inputs = layers.Input(shape=(None,), dtype="int32")
    pooled = layers.GlobalAveragePooling1D()(layers.Embedding(5, 3, mask_zero=True)(inputs))
    assert pooled.shape == (None, 3) and getattr(pooled, "_keras_mask", None) is None


def test_global_pooling_values_and_keepdims():
    x = RNG.standard_normal((2, 3, 4, 5)).astype("float32")
    np.testing.assert_allclose(layers.GlobalMaxPooling2D()(x).numpy(), x.max((1, 2)))
    np.testing.assert_allclose(layers.GlobalAveragePooling2D(data_format="channels_first")(x)
                               .numpy(), x.mean((2, 3)), rtol=1e-6)
    out = layers.GlobalAveragePooling2D(keepdims=True)(x)
    assert out.shape == (2, 1, 1, 5)
    assert layers.GlobalMaxPooling2D(keepdims=True, data_format="channels_first")(
        layers.Input(shape=(3, 4, 5))).shape == (None, 3, 1, 1)


def test_aliases():
    assert layers.MaxPool2D is layers.MaxPooling2D and layers.AvgPool1D is layers.AveragePooling1D
    assert layers.GlobalAvgPool2D is layers.GlobalAveragePooling2D
    assert layers.GlobalMaxPool3D is layers.GlobalMaxPooling3D
    config = layers.AvgPool3D(2).get_config()
    loaded = layers.deserialize({"class_name": "AvgPool3D", "config": config})
    assert type(loaded) is layers.AveragePooling3D and loaded.get_config() == config


def test_pooling_errors():
    with pytest.raises(ValueError, match="expected ndim=4, found ndim=3"):
        layers.MaxPooling2D()(layers.Input(shape=(4, 4)))
    with pytest.raises(ValueError, match="output size would be negative or zero"):
        layers.MaxPooling2D(3)(layers.Input(shape=(2, 8, 1)))
    with pytest.raises(ValueError, match=r"output size would be negative or zero in layer "
                                         r"\"pool\": pool_size=\(4, 4\) with padding='valid' does "
                                         r"not fit the input shape \(1, 3, 3, 1\)"):
        layers.MaxPooling2D(4, name="pool")(np.zeros((1, 3, 3, 1), "float32"))  # eager call
    with pytest.raises(ValueError, match="output size would be negative or zero"):
        layers.AveragePooling1D(3)(np.zeros((2, 2, 1), "float32"))
    assert layers.MaxPooling2D(4, padding="same")(np.zeros((1, 3, 3, 1), "float32")).shape == \
        (1, 1, 1, 1)
    for layer in (layers.MaxPooling2D, layers.AveragePooling3D, layers.GlobalMaxPooling1D):
        with pytest.raises(ValueError, match=r"The `data_format` argument must be one of "
                                             r"\{'channels_first', 'channels_last'\}. Received: "
                                             r"data_format=NHWC"):
            layer(data_format="NHWC")
    with pytest.raises(ValueError, match="`padding` argument must be one of"):
        layers.MaxPooling1D(padding="causal")
    with pytest.raises(ValueError, match="The `pool_size` argument must be a tuple of 2 integers"):
        layers.AveragePooling2D(pool_size=(2, 2, 2))
    with pytest.raises(ValueError, match="expected ndim=3"):
        layers.GlobalAveragePooling1D()(layers.Input(shape=(4, 4, 2)))
