"""Locally-connected layers: the shared contract for every implementation, numpy references
written from Keras's definitions (implementation=1's per-position windows, implementation=2's
masked dense matrix, implementation=3's sorted sparse pairs), the three implementations
giving the same outputs on weights converted between their layouts, and errors."""
import numpy as np
import pytest
import torch
from layer_test_utils import check_layer, expect

from tkeras import layers

RNG = np.random.RandomState(11)

CASES = [
    ("lc1d", lambda: layers.LocallyConnected1D(3, 3), (2, 7, 2),
     expect((2, 5, 3), weights=(2, 0), masking=False)),
    ("lc1d_strided_channels_first", lambda: layers.LocallyConnected1D(
        2, 2, strides=2, data_format="channels_first", activation="tanh"), (2, 3, 7),
     expect((2, 2, 3), weights=(2, 0))),
    ("lc1d_impl2_same", lambda: layers.LocallyConnected1D(2, 4, padding="same", implementation=2),
     (2, 5, 3), expect((2, 5, 2), weights=(2, 0))),
    ("lc1d_impl3_strided_same", lambda: layers.LocallyConnected1D(
        2, 3, strides=2, padding="same", implementation=3), (2, 7, 2),
     expect((2, 4, 2), weights=(2, 0))),
    ("lc2d", lambda: layers.LocallyConnected2D(2, (2, 3)), (2, 5, 6, 2),
     expect((2, 4, 4, 2), weights=(2, 0), masking=False)),
    ("lc2d_impl2_channels_first", lambda: layers.LocallyConnected2D(
        3, 2, strides=(1, 2), implementation=2, data_format="channels_first"), (2, 2, 4, 5),
     expect((2, 3, 3, 2), weights=(2, 0))),
    ("lc2d_impl3_same", lambda: layers.LocallyConnected2D(2, 3, padding="same", implementation=3),
     (2, 4, 5, 3), expect((2, 4, 5, 2), weights=(2, 0))),
    ("lc2d_no_bias", lambda: layers.LocallyConnected2D(2, 2, use_bias=False), (2, 3, 3, 2),
     expect((2, 2, 2, 2), weights=(1, 0))),
]


@pytest.mark.parametrize("name,factory,shape,expected", CASES, ids=[c[0] for c in CASES])
def test_locally_connected_contract(name, factory, shape, expected):
    check_layer(factory, shape, **expected)


# ---------------------------------------------------------------- Keras's definitions in numpy

def _out_sizes(sizes, kernel, strides, padding):
    if padding == "same":
        return tuple(-(-n // s) for n, s in zip(sizes, strides))
    return tuple((n - k) // s + 1 for n, k, s in zip(sizes, kernel, strides))


def _connected(sizes, kernel, strides, padding, out_pos):
    """Keras's conv_connected_inputs: the input ranges feeding one output position."""
    ranges = []
    for n, k, s, p in zip(sizes, kernel, strides, out_pos):
        left = k // 2
        center = p * s + (left if padding == "valid" else 0)
        ranges.append(range(max(0, center - left), min(n, center + k - left)))
    return ranges


def _split(x, channels_last):
    return (x.shape[1:-1], x.shape[-1]) if channels_last else (x.shape[2:], x.shape[1])


def _add_bias(out, bias, channels_last, filters, out_sizes):
    if channels_last:
        return out + bias
    return out + bias.reshape((filters,) + out_sizes)  # Keras's bias_add reshapes the bias


def np_impl1(x, kernel, bias, kernel_size, strides, channels_last):
    """implementation=1: window of each output position, flattened in the input's axis order,
    times that position's (window, filters) kernel."""
    sizes, _ = _split(x, channels_last)
    out_sizes = _out_sizes(sizes, kernel_size, strides, "valid")
    filters = kernel.shape[-1]
    out = np.zeros((x.shape[0],) + out_sizes + (filters,))
    for p_flat, pos in enumerate(np.ndindex(*out_sizes)):
        window = tuple(slice(p * s, p * s + k) for p, s, k in zip(pos, strides, kernel_size))
        patch = x[(slice(None),) + window] if channels_last else x[(slice(None), slice(None)) + window]
        out[(slice(None),) + pos] = patch.reshape(x.shape[0], -1) @ kernel[p_flat]
    if not channels_last:
        out = np.moveaxis(out, -1, 1)
    return _add_bias(out, bias, channels_last, filters, out_sizes)


def keras_mask(sizes, kernel_size, strides, padding):
    out_sizes = _out_sizes(sizes, kernel_size, strides, padding)
    mask = np.zeros(tuple(sizes) + out_sizes, bool)
    for pos in np.ndindex(*out_sizes):
        ranges = _connected(sizes, kernel_size, strides, padding, pos)
        for in_pos in np.ndindex(*[len(r) for r in ranges]):
            mask[tuple(r[i] for r, i in zip(ranges, in_pos)) + pos] = True
    return mask


def np_impl2(x, kernel, bias, kernel_size, strides, padding, channels_last):
    """implementation=2: x_flat @ (kernel * mask) reshaped to (input_size, output_size)."""
    sizes, _ = _split(x, channels_last)
    rank = len(sizes)
    out_sizes = _out_sizes(sizes, kernel_size, strides, padding)
    mask = keras_mask(sizes, kernel_size, strides, padding)
    if channels_last:
        mask = np.expand_dims(np.expand_dims(mask, rank), -1)
    else:
        mask = np.expand_dims(np.expand_dims(mask, 0), rank + 1)
    in_size = x[0].size
    dense = (kernel * mask).reshape(in_size, -1)
    filters = kernel.shape[-1] if channels_last else kernel.shape[rank + 1]
    shape = out_sizes + (filters,) if channels_last else (filters,) + out_sizes
    out = (x.reshape(x.shape[0], -1) @ dense).reshape((x.shape[0],) + shape)
    return _add_bias(out, bias, channels_last, filters, out_sizes)


def impl1_to_impl2(kernel1, sizes, channels, kernel_size, strides, channels_last):
    out_sizes = _out_sizes(sizes, kernel_size, strides, "valid")
    filters = kernel1.shape[-1]
    shape = (tuple(sizes) + (channels,) + out_sizes + (filters,) if channels_last
             else (channels,) + tuple(sizes) + (filters,) + out_sizes)
    kernel2 = np.zeros(shape, kernel1.dtype)
    n_window = int(np.prod(kernel_size))
    for p_flat, pos in enumerate(np.ndindex(*out_sizes)):
        for k_flat, offset in enumerate(np.ndindex(*kernel_size)):
            in_pos = tuple(p * s + o for p, s, o in zip(pos, strides, offset))
            for c in range(channels):
                row = k_flat * channels + c if channels_last else c * n_window + k_flat
                if channels_last:
                    kernel2[in_pos + (c,) + pos] = kernel1[p_flat, row]
                else:
                    kernel2[(c,) + in_pos + (slice(None),) + pos] = kernel1[p_flat, row]
    return kernel2


def impl2_to_impl3(kernel2, sizes, channels, kernel_size, strides, padding, channels_last):
    """Keras's conv_kernel_idxs pairs (sorted), with the values kernel2 holds for them."""
    out_sizes = _out_sizes(sizes, kernel_size, strides, padding)
    rank = len(sizes)
    filters = kernel2.shape[-1] if channels_last else kernel2.shape[rank + 1]

    def concat(spatial, f):
        return tuple(spatial) + (f,) if channels_last else (f,) + tuple(spatial)

    entries = []
    for pos in np.ndindex(*out_sizes):
        ranges = _connected(sizes, kernel_size, strides, padding, pos)
        for in_pos in np.ndindex(*[len(r) for r in ranges]):
            ip = tuple(r[i] for r, i in zip(ranges, in_pos))
            for c in range(channels):
                for f in range(filters):
                    out_idx = np.ravel_multi_index(concat(pos, f), concat(out_sizes, filters))
                    in_idx = np.ravel_multi_index(concat(ip, c), concat(sizes, channels))
                    value = kernel2[ip + (c,) + pos + (f,)] if channels_last else \
                        kernel2[(c,) + ip + (f,) + pos]
                    entries.append(((out_idx, in_idx), value))
    entries.sort(key=lambda e: e[0])
    return np.array([v for _, v in entries], kernel2.dtype)


def _output(layer, x, weights):
    layer(x)
    layer.set_weights(weights)
    with torch.no_grad():
        return layer(x).numpy()


LC_CASES = [
    # (rank, filters, kernel, strides, spatial, channels)
    (1, 3, (3,), (1,), (7,), 2),
    (1, 2, (2,), (3,), (8,), 3),
    (2, 2, (2, 3), (1, 2), (4, 6), 2),
    (2, 3, (3, 2), (2, 1), (5, 4), 1),
]


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("rank,filters,kernel,strides,spatial,channels", LC_CASES)
def test_three_implementations_agree_on_converted_weights(rank, filters, kernel, strides, spatial,
                                                          channels, data_format):
    cls = {1: layers.LocallyConnected1D, 2: layers.LocallyConnected2D}[rank]
    channels_last = data_format == "channels_last"
    shape = (2,) + spatial + (channels,) if channels_last else (2, channels) + spatial
    x = RNG.standard_normal(shape).astype("float32")
    out_sizes = _out_sizes(spatial, kernel, strides, "valid")
    positions, window = int(np.prod(out_sizes)), int(np.prod(kernel)) * channels
    kernel1 = RNG.standard_normal((positions, window, filters)).astype("float32")
    bias = RNG.standard_normal(out_sizes + (filters,)).astype("float32")

    def make(implementation):
        return cls(filters, kernel, strides=strides, data_format=data_format,
                   implementation=implementation)

    out1 = _output(make(1), x, [kernel1, bias])
    np.testing.assert_allclose(out1, np_impl1(x, kernel1, bias, kernel, strides, channels_last),
                               rtol=1e-4, atol=1e-5)
    kernel2 = impl1_to_impl2(kernel1, spatial, channels, kernel, strides, channels_last)
    layer2 = make(2)
    out2 = _output(layer2, x, [kernel2, bias])
    assert layer2.kernel.shape == kernel2.shape
    np.testing.assert_allclose(out2, out1, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(np_impl2(x, kernel2, bias, kernel, strides, "valid", channels_last),
                               out1, rtol=1e-4, atol=1e-5)
    kernel3 = impl2_to_impl3(kernel2, spatial, channels, kernel, strides, "valid", channels_last)
    layer3 = make(3)
    out3 = _output(layer3, x, [kernel3, bias])
    assert layer3.kernel.shape == (positions * window * filters,)
    np.testing.assert_allclose(out3, out1, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("rank,kernel,strides,spatial", [
    (1, (3,), (1,), (6,)), (1, (4,), (2,), (7,)), (2, (3, 2), (1, 2), (4, 5)),
    (2, (2, 3), (2, 2), (5, 5))])
def test_same_padding_implementations_2_and_3(rank, kernel, strides, spatial, data_format):
    cls = {1: layers.LocallyConnected1D, 2: layers.LocallyConnected2D}[rank]
    channels_last, channels, filters = data_format == "channels_last", 2, 3
    shape = (2,) + spatial + (channels,) if channels_last else (2, channels) + spatial
    x = RNG.standard_normal(shape).astype("float32")
    layer2 = cls(filters, kernel, strides=strides, padding="same", data_format=data_format,
                 implementation=2)
    layer2(x)
    kernel2, bias = [RNG.standard_normal(w.shape).astype("float32") for w in layer2.get_weights()]
    out2 = _output(layer2, x, [kernel2, bias])
    np.testing.assert_allclose(
        out2, np_impl2(x, kernel2, bias, kernel, strides, "same", channels_last),
        rtol=1e-4, atol=1e-5)
    kernel3 = impl2_to_impl3(kernel2, spatial, channels, kernel, strides, "same", channels_last)
    layer3 = cls(filters, kernel, strides=strides, padding="same", data_format=data_format,
                 implementation=3)
    np.testing.assert_allclose(_output(layer3, x, [kernel3, bias]), out2, rtol=1e-4, atol=1e-5)


def test_masked_entries_of_implementation_2_get_no_gradient():
    layer = layers.LocallyConnected1D(2, 2, implementation=2)
    x = torch.as_tensor(RNG.standard_normal((2, 5, 3)).astype("float32"))
    layer(x).sum().backward()
    grad = layer.kernel.grad.numpy()
    mask = keras_mask((5,), (2,), (1,), "valid")[:, None, :, None]
    assert np.all(grad[~np.broadcast_to(mask, grad.shape)] == 0)
    assert np.any(grad[np.broadcast_to(mask, grad.shape)] != 0)


def test_seed_style_shapes():
    from tkeras.models import Sequential
    model = Sequential()
    model.add(layers.LocallyConnected1D(64, 3, input_shape=(10, 32)))
    assert model.output_shape == (None, 8, 64)
    model.add(layers.LocallyConnected1D(32, 3))
    assert model.output_shape == (None, 6, 32)
    assert model.count_params() == (8 * 3 * 32 * 64 + 8 * 64) + (6 * 3 * 64 * 32 + 6 * 32)


def test_locally_connected_errors():
    with pytest.raises(ValueError, match="only \"valid\" is supported if implementation is 1"):
        layers.LocallyConnected1D(2, 3, padding="same")
    with pytest.raises(ValueError, match="expected 1, 2 or 3"):
        layers.LocallyConnected2D(2, 3, implementation=4)
    with pytest.raises(ValueError, match="should be fully defined"):
        layers.LocallyConnected1D(2, 3)(layers.Input(shape=(None, 4)))
    with pytest.raises(ValueError, match="One of the dimensions in the output is <= 0"):
        layers.LocallyConnected2D(2, 3)(layers.Input(shape=(2, 5, 1)))
    with pytest.raises(ValueError, match="expected ndim=4, found ndim=3"):
        layers.LocallyConnected2D(2, 3)(layers.Input(shape=(5, 5)))
