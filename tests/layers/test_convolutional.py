"""Convolutional layers: the shared contract on every class, numpy references for the cases
keras_reference lacks (strides, dilation, groups, asymmetric "same", causal, channels_first,
transposed convolutions, depthwise / separable, bilinear upsampling), the seed examples and
Keras-style errors."""
import json

import numpy as np
import pytest
import torch
from layer_test_utils import check_layer, expect

import tkeras
from tkeras import layers
from tkeras.layers import convolutional as conv_module
from tkeras.models import Model, Sequential
from tkeras.utils import conv_utils

RNG = np.random.RandomState(7)


# ---------------------------------------------------------------- the contract on every class

CASES = [
    ("conv1d", lambda: layers.Conv1D(3, 3), (2, 9, 4), True,
     expect((2, 7, 3), weights=(2, 0), masking=False)),
    ("conv1d_same_strided", lambda: layers.Conv1D(3, 4, strides=2, padding="same"), (2, 9, 2), True,
     expect((2, 5, 3), weights=(2, 0), masking=False)),
    ("conv1d_causal_dilated", lambda: layers.Conv1D(2, 3, padding="causal", dilation_rate=2),
     (2, 9, 3), True,
     expect((2, 9, 2), weights=(2, 0), masking=False)),
    ("conv1d_channels_first", lambda: layers.Conv1D(3, 2, data_format="channels_first"),
     (2, 4, 7), True,
     expect((2, 3, 6), weights=(2, 0), masking=False)),
    ("conv1d_groups", lambda: layers.Conv1D(4, 3, groups=2, activation="relu"), (2, 8, 6), True,
     expect((2, 6, 4), weights=(2, 0), masking=False)),
    ("conv2d", lambda: layers.Conv2D(4, (3, 3), activation="relu"), (2, 7, 8, 3), True,
     expect((2, 5, 6, 4), weights=(2, 0), masking=False)),
    ("conv2d_same_even_kernel", lambda: layers.Conv2D(3, (4, 2), padding="same"), (2, 7, 6, 2), True,
     expect((2, 7, 6, 3), weights=(2, 0), masking=False)),
    ("conv2d_strided_same", lambda: layers.Conv2D(3, 3, strides=(2, 3), padding="same"),
     (2, 9, 8, 2), True,
     expect((2, 5, 3, 3), weights=(2, 0), masking=False)),
    ("conv2d_dilated", lambda: layers.Conv2D(3, 3, dilation_rate=(2, 1), padding="same"),
     (2, 9, 8, 2), True,
     expect((2, 9, 8, 3), weights=(2, 0), masking=False)),
    ("conv2d_groups", lambda: layers.Conv2D(6, 3, groups=3), (2, 6, 5, 6), True,
     expect((2, 4, 3, 6), weights=(2, 0), masking=False)),
    ("conv2d_channels_first", lambda: layers.Conv2D(4, 3, strides=2, padding="same",
                                                   data_format="channels_first"), (2, 3, 7, 8), True,
     expect((2, 4, 4, 4), weights=(2, 0), masking=False)),
    ("conv2d_no_bias", lambda: layers.Conv2D(2, 1, use_bias=False), (2, 4, 4, 3), True,
     expect((2, 4, 4, 2), weights=(1, 0), masking=False)),
    ("conv3d", lambda: layers.Conv3D(3, 2), (2, 4, 5, 4, 2), True,
     expect((2, 3, 4, 3, 3), weights=(2, 0), masking=False)),
    ("conv3d_same_channels_first", lambda: layers.Conv3D(2, 3, strides=2, padding="same",
                                                        data_format="channels_first"),
     (2, 2, 5, 4, 5), True,
     expect((2, 2, 3, 2, 3), weights=(2, 0), masking=False)),
    ("conv1d_transpose", lambda: layers.Conv1DTranspose(3, 3, strides=2, padding="same"),
     (2, 5, 2), True,
     expect((2, 10, 3), weights=(2, 0), masking=False)),
    ("conv1d_transpose_dilated", lambda: layers.Conv1DTranspose(2, 3, dilation_rate=2), (2, 5, 3), True,
     expect((2, 9, 2), weights=(2, 0), masking=False)),
    ("conv2d_transpose", lambda: layers.Conv2DTranspose(3, 3), (2, 4, 5, 2), True,
     expect((2, 6, 7, 3), weights=(2, 0), masking=False)),
    ("conv2d_transpose_same_strided", lambda: layers.Conv2DTranspose(2, (3, 4), strides=2,
                                                                    padding="same"), (2, 3, 4, 3), True,
     expect((2, 6, 8, 2), weights=(2, 0), masking=False)),
    ("conv2d_transpose_output_padding", lambda: layers.Conv2DTranspose(
        2, 3, strides=(3, 2), padding="valid", output_padding=(2, 1)), (2, 3, 4, 2), True,
     expect((2, 11, 10, 2), weights=(2, 0), masking=False)),
    ("conv2d_transpose_channels_first", lambda: layers.Conv2DTranspose(
        2, 2, strides=2, data_format="channels_first"), (2, 3, 3, 4), True,
     expect((2, 2, 6, 8), weights=(2, 0), masking=False)),
    ("conv3d_transpose", lambda: layers.Conv3DTranspose(2, 2, strides=(1, 2, 1), padding="same"),
     (2, 3, 3, 2, 2), True,
     expect((2, 3, 6, 2, 2), weights=(2, 0), masking=False)),
    ("separable_conv1d_causal", lambda: layers.SeparableConv1D(4, 3, padding="causal",
                                                              depth_multiplier=2), (2, 8, 3), True,
     expect((2, 8, 4), weights=(3, 0), masking=False)),
    ("separable_conv2d", lambda: layers.SeparableConv2D(4, 3, padding="same", strides=2),
     (2, 7, 6, 3), True,
     expect((2, 4, 3, 4), weights=(3, 0), masking=False)),
    ("separable_conv2d_channels_first", lambda: layers.SeparableConv2D(
        3, (2, 3), depth_multiplier=2, data_format="channels_first"), (2, 2, 6, 6), True,
     expect((2, 3, 5, 4), weights=(3, 0), masking=False)),
    ("depthwise_conv1d", lambda: layers.DepthwiseConv1D(3, depth_multiplier=2), (2, 7, 3), True,
     expect((2, 5, 6), weights=(2, 0), masking=False)),
    ("depthwise_conv2d", lambda: layers.DepthwiseConv2D(3, depth_multiplier=2, padding="same"),
     (2, 6, 5, 3), True,
     expect((2, 6, 5, 6), weights=(2, 0), masking=False)),
    ("depthwise_conv2d_strided_channels_first", lambda: layers.DepthwiseConv2D(
        2, strides=2, data_format="channels_first"), (2, 3, 6, 5), True,
     expect((2, 3, 3, 2), weights=(2, 0), masking=False)),
    ("cropping1d", lambda: layers.Cropping1D((1, 2)), (2, 7, 3), False,
     expect((2, 4, 3), masking=False, expected_output=lambda x: x[:, 1:-2])),
    ("cropping2d", lambda: layers.Cropping2D(((1, 0), (2, 1))), (2, 6, 7, 2), False,
     expect((2, 5, 4, 2), masking=False, expected_output=lambda x: x[:, 1:, 2:-1])),
    ("cropping2d_int_channels_first", lambda: layers.Cropping2D(1, data_format="channels_first"),
     (2, 2, 5, 6), False,
     expect((2, 2, 3, 4), masking=False,
            expected_output=lambda x: x[:, :, 1:-1, 1:-1])),
    ("cropping3d", lambda: layers.Cropping3D((1, (0, 1), 2)), (2, 4, 4, 5, 2), False,
     expect((2, 2, 3, 1, 2), masking=False,
            expected_output=lambda x: x[:, 1:-1, :-1, 2:-2])),
    ("upsampling1d", lambda: layers.UpSampling1D(3), (2, 4, 3), False,
     expect((2, 12, 3), masking=False, expected_output=lambda x: np.repeat(x, 3, 1))),
    ("upsampling2d", lambda: layers.UpSampling2D((2, 3)), (2, 3, 2, 2), False,
     expect((2, 6, 6, 2), masking=False,
            expected_output=lambda x: np.repeat(np.repeat(x, 2, 1), 3, 2))),
    ("upsampling2d_bilinear_channels_first", lambda: layers.UpSampling2D(
        (3, 2), data_format="channels_first", interpolation="bilinear"), (2, 2, 3, 4), False,
     expect((2, 2, 9, 8), masking=False)),
    ("upsampling3d", lambda: layers.UpSampling3D((1, 2, 3)), (2, 2, 3, 2, 2), False,
     expect((2, 2, 6, 6, 2), masking=False,
            expected_output=lambda x: np.repeat(np.repeat(x, 2, 2), 3, 3))),
    ("zeropadding1d", lambda: layers.ZeroPadding1D((1, 3)), (2, 4, 3), False,
     expect((2, 8, 3), masking=False,
            expected_output=lambda x: np.pad(x, ((0, 0), (1, 3), (0, 0))))),
    ("zeropadding2d", lambda: layers.ZeroPadding2D(((1, 2), (0, 1))), (2, 3, 4, 2), False,
     expect((2, 6, 5, 2), masking=False,
            expected_output=lambda x: np.pad(x, ((0, 0), (1, 2), (0, 1), (0, 0))))),
    ("zeropadding3d_channels_first", lambda: layers.ZeroPadding3D(
        (1, 0, 2), data_format="channels_first"), (2, 2, 2, 3, 2), False,
     expect((2, 2, 4, 3, 6), masking=False,
            expected_output=lambda x: np.pad(x, ((0, 0), (0, 0), (1, 1), (0, 0), (2, 2))))),
]


@pytest.mark.parametrize("name,factory,shape,trains,expected", CASES, ids=[c[0] for c in CASES])
def test_layer_contract(name, factory, shape, trains, expected):
    check_layer(factory, shape, trains=trains, check_training_step=trains, **expected)


def test_every_class_is_covered():
    tested = {type(factory()).__name__ for _, factory, _, _, _ in CASES}
    exported = {name for name in conv_module.__all__
                if getattr(conv_module, name).__name__ == name}
    assert exported <= tested, sorted(exported - tested)


# ---------------------------------------------------------------- numpy references

def _tf_same_pads(n, k, s, d):
    effective = (k - 1) * d + 1
    total = max((-(-n // s) - 1) * s + effective - n, 0)
    return total // 2, total - total // 2


def np_conv(x, kernel, bias, strides, padding, dilation, groups=1):
    """channels_last N-D convolution, TF padding, by a loop over output positions."""
    rank = x.ndim - 2
    ks = kernel.shape[:rank]
    if padding == "same":
        pads = [_tf_same_pads(x.shape[1 + i], ks[i], strides[i], dilation[i]) for i in range(rank)]
    elif padding == "causal":
        pads = [((ks[0] - 1) * dilation[0], 0)]
    else:
        pads = [(0, 0)] * rank
    xp = np.pad(x, [(0, 0)] + pads + [(0, 0)])
    out_sizes = [(xp.shape[1 + i] - (ks[i] - 1) * dilation[i] - 1) // strides[i] + 1
                 for i in range(rank)]
    cin_group, filters = kernel.shape[rank], kernel.shape[-1]
    per_group = filters // groups
    y = np.zeros((x.shape[0], *out_sizes, filters))
    for pos in np.ndindex(*out_sizes):
        window = tuple(slice(p * s, p * s + (k - 1) * d + 1, d)
                       for p, s, k, d in zip(pos, strides, ks, dilation))
        for g in range(groups):
            patch = xp[(slice(None),) + window + (slice(g * cin_group, (g + 1) * cin_group),)]
            weights = kernel[..., g * per_group:(g + 1) * per_group]
            y[(slice(None),) + pos + (slice(g * per_group, (g + 1) * per_group),)] = np.tensordot(
                patch, weights, axes=(list(range(1, rank + 2)), list(range(rank + 1))))
    return y + (0 if bias is None else bias)


def _keras_deconv_length(n, k, s, d, padding, output_padding):
    effective = (k - 1) * d + 1
    if output_padding is None:
        return n * s + max(effective - s, 0) if padding == "valid" else n * s
    pad = effective // 2 if padding == "same" else 0
    return (n - 1) * s + effective - 2 * pad + output_padding


def np_conv_transpose(x, kernel, bias, strides, padding, dilation, output_padding=None):
    """y[i*s + a*d] += x[i] @ K[a].T over the full output, then TF's crop."""
    rank = x.ndim - 2
    ks, n = kernel.shape[:rank], x.shape[1:-1]
    full = [(n[i] - 1) * strides[i] + (ks[i] - 1) * dilation[i] + 1 for i in range(rank)]
    y_full = np.zeros((x.shape[0], *full, kernel.shape[rank]))
    for i in np.ndindex(*n):
        for a in np.ndindex(*ks):
            j = tuple(ii * s + aa * d for ii, aa, s, d in zip(i, a, strides, dilation))
            y_full[(slice(None),) + j] += x[(slice(None),) + i] @ kernel[a].T
    ops = output_padding or (None,) * rank
    lengths = [_keras_deconv_length(n[i], ks[i], strides[i], dilation[i], padding, ops[i])
               for i in range(rank)]
    starts = [_tf_same_pads(lengths[i], ks[i], strides[i], dilation[i])[0] if padding == "same"
              else 0 for i in range(rank)]
    y = np.zeros((x.shape[0], *lengths, kernel.shape[rank]))
    src = tuple(slice(st, min(st + ln, f)) for st, ln, f in zip(starts, lengths, full))
    dst = tuple(slice(0, min(st + ln, f) - st) for st, ln, f in zip(starts, lengths, full))
    y[(slice(None),) + dst] = y_full[(slice(None),) + src]
    return y + bias


def _run(layer, x, weights=None):
    """Builds the layer on x, sets Keras-layout weights (random if None), returns (out, weights)."""
    layer(x)
    if weights is None:
        weights = [RNG.standard_normal(w.shape).astype("float32") for w in layer.get_weights()]
    layer.set_weights(weights)
    with torch.no_grad():
        return layer(x).numpy(), weights


def _to_first(a):
    return np.moveaxis(a, -1, 1)


CONV_CASES = [
    # (rank, filters, kernel, strides, padding, dilation, groups, spatial, channels)
    (1, 3, (4,), (3,), "same", (1,), 1, (10,), 2),
    (1, 2, (3,), (1,), "causal", (3,), 1, (11,), 3),
    (1, 4, (2,), (2,), "causal", (1,), 2, (9,), 4),
    (2, 3, (2, 4), (1, 1), "same", (1, 1), 1, (5, 7), 2),
    (2, 4, (3, 3), (2, 3), "same", (1, 1), 2, (8, 10), 4),
    (2, 3, (3, 2), (1, 1), "valid", (2, 3), 1, (9, 8), 2),
    (2, 6, (3, 3), (1, 1), "same", (2, 2), 3, (7, 6), 3),
    (3, 2, (2, 3, 2), (2, 1, 2), "same", (1, 1, 1), 1, (5, 4, 5), 2),
]


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("rank,filters,kernel,strides,padding,dilation,groups,spatial,channels",
                         CONV_CASES)
def test_conv_matches_numpy(rank, filters, kernel, strides, padding, dilation, groups, spatial,
                            channels, data_format):
    cls = {1: layers.Conv1D, 2: layers.Conv2D, 3: layers.Conv3D}[rank]
    x = RNG.standard_normal((2, *spatial, channels)).astype("float32")
    layer = cls(filters, kernel, strides=strides, padding=padding, dilation_rate=dilation,
                groups=groups, data_format=data_format)
    feed = x if data_format == "channels_last" else _to_first(x)
    out, (k, b) = _run(layer, feed)
    assert k.shape == kernel + (channels // groups, filters)
    expected = np_conv(x, k, b, strides, padding, dilation, groups)
    if data_format == "channels_first":
        expected = _to_first(expected)
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4)


TRANSPOSE_CASES = [
    # (rank, filters, kernel, strides, padding, dilation, output_padding, spatial, channels)
    (1, 2, (3,), (2,), "valid", (1,), None, (4,), 3),
    (1, 3, (4,), (3,), "same", (1,), None, (4,), 2),
    (1, 2, (3,), (1,), "same", (2,), None, (6,), 2),
    (1, 2, (2,), (4,), "valid", (1,), None, (3,), 2),   # stride > kernel: zero gaps at the end
    (2, 2, (3, 3), (1, 1), "same", (1, 1), None, (4, 5), 3),
    (2, 3, (4, 3), (2, 2), "same", (1, 1), None, (3, 4), 2),
    (2, 2, (3, 3), (2, 3), "same", (1, 1), (1, 2), (3, 4), 2),
    (2, 2, (3, 2), (3, 2), "valid", (1, 1), (2, 1), (2, 3), 3),
    (2, 2, (2, 2), (1, 1), "valid", (2, 3), None, (4, 3), 2),
    (3, 2, (2, 3, 2), (2, 1, 2), "same", (1, 1, 1), None, (3, 2, 3), 2),
]


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize(
    "rank,filters,kernel,strides,padding,dilation,output_padding,spatial,channels", TRANSPOSE_CASES)
def test_conv_transpose_matches_numpy(rank, filters, kernel, strides, padding, dilation,
                                      output_padding, spatial, channels, data_format):
    cls = {1: layers.Conv1DTranspose, 2: layers.Conv2DTranspose, 3: layers.Conv3DTranspose}[rank]
    x = RNG.standard_normal((2, *spatial, channels)).astype("float32")
    layer = cls(filters, kernel, strides=strides, padding=padding, dilation_rate=dilation,
                output_padding=output_padding, data_format=data_format)
    feed = x if data_format == "channels_last" else _to_first(x)
    out, (k, b) = _run(layer, feed)
    assert k.shape == kernel + (filters, channels)
    expected = np_conv_transpose(x, k, b, strides, padding, dilation, output_padding)
    if data_format == "channels_first":
        expected = _to_first(expected)
    assert out.shape == expected.shape
    assert layer.compute_output_shape((None,) + feed.shape[1:]) == (None,) + out.shape[1:]
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("rank,multiplier,strides,padding", [
    (1, 2, (1,), "valid"), (1, 1, (2,), "same"), (2, 2, (1, 1), "same"), (2, 3, (2, 1), "valid")])
def test_depthwise_and_separable_match_numpy(rank, multiplier, strides, padding):
    spatial = (7,) if rank == 1 else (6, 7)
    kernel = (3,) * rank
    channels, filters = 3, 4
    x = RNG.standard_normal((2, *spatial, channels)).astype("float32")
    depthwise_cls = {1: layers.DepthwiseConv1D, 2: layers.DepthwiseConv2D}[rank]
    out, (dk, b) = _run(depthwise_cls(kernel, strides=strides, padding=padding,
                                      depth_multiplier=multiplier), x)
    assert dk.shape == kernel + (channels, multiplier)
    # output channel c * multiplier + m convolves input channel c with dk[..., c, m]
    grouped = dk.reshape(kernel + (1, channels * multiplier))
    ones = (1,) * rank
    np.testing.assert_allclose(out, np_conv(x, grouped, b, strides, padding, ones, channels),
                               rtol=1e-4, atol=1e-4)

    separable_cls = {1: layers.SeparableConv1D, 2: layers.SeparableConv2D}[rank]
    out, (dk, pk, b) = _run(separable_cls(filters, kernel, strides=strides, padding=padding,
                                          depth_multiplier=multiplier), x)
    assert pk.shape == ones + (channels * multiplier, filters)
    depthwise = np_conv(x, dk.reshape(kernel + (1, channels * multiplier)), None, strides, padding,
                        ones, channels)
    expected = depthwise @ pk.reshape(channels * multiplier, filters) + b
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4)


def test_conv_folds_extra_batch_axes():
    layer = layers.Conv2D(3, 2)
    x = RNG.standard_normal((2, 3, 5, 5, 2)).astype("float32")
    out, _ = _run(layer, x)
    assert out.shape == (2, 3, 4, 4, 3)
    with torch.no_grad():
        np.testing.assert_allclose(out[1], layer(x[1]).numpy(), rtol=1e-6, atol=1e-6)


def test_kernel_stays_in_keras_layout_and_torch_sees_views():
    layer = layers.Conv2D(5, (3, 2), input_shape=(6, 6, 4))
    layer(np.zeros((1, 6, 6, 4), "float32"))
    assert [tuple(p.shape) for p in layer.parameters()] == [(3, 2, 4, 5), (5,)]
    view = conv_utils.torch_kernel(layer.kernel, 2)
    assert view.shape == (5, 4, 3, 2) and view.data_ptr() == layer.kernel.data_ptr()
    out = layer(np.zeros((2, 6, 6, 4), "float32"))
    assert out.shape == (2, 4, 5, 5) and out.is_contiguous()  # channels_last memory, no copy


def test_padding_is_case_insensitive_and_kernel_size_int():
    layer = layers.Conv2D(2, 3, padding="SAME")
    assert layer.padding == "same" and layer.kernel_size == (3, 3)
    assert layer.get_config()["padding"] == "same"
    assert layers.MaxPooling2D(padding="Same").padding == "same"


def test_upsampling2d_bilinear_matches_tf_half_pixel_formula():
    x = RNG.standard_normal((2, 3, 4, 2)).astype("float32")
    out = layers.UpSampling2D((3, 2), interpolation="bilinear")(x).numpy()

    def resize_axis(a, axis, scale):
        n = a.shape[axis]
        src = (np.arange(n * scale) + 0.5) / scale - 0.5
        low = np.floor(src)
        frac = (src - low).reshape([-1 if i == axis else 1 for i in range(a.ndim)])
        i0 = np.clip(low, 0, n - 1).astype(int)
        i1 = np.clip(low + 1, 0, n - 1).astype(int)
        return np.take(a, i0, axis) * (1 - frac) + np.take(a, i1, axis) * frac

    expected = resize_axis(resize_axis(x, 1, 3), 2, 2)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)


def test_cropping_padding_upsampling_values():
    x = np.arange(2 * 5 * 6 * 3, dtype="float32").reshape(2, 5, 6, 3)
    np.testing.assert_array_equal(layers.Cropping2D(((1, 2), (0, 3)))(x).numpy(), x[:, 1:3, 0:3])
    padded = layers.ZeroPadding2D(((1, 0), (2, 1)))(x).numpy()
    np.testing.assert_array_equal(padded, np.pad(x, [(0, 0), (1, 0), (2, 1), (0, 0)]))
    np.testing.assert_array_equal(layers.UpSampling2D((2, 3))(x).numpy(),
                                  x.repeat(2, axis=1).repeat(3, axis=2))
    first = np.moveaxis(x, -1, 1)
    np.testing.assert_array_equal(
        layers.UpSampling2D(2, data_format="channels_first")(first).numpy(),
        first.repeat(2, axis=2).repeat(2, axis=3))
    np.testing.assert_array_equal(layers.UpSampling1D(2)(x[:, :, 0]).numpy(),
                                  x[:, :, 0].repeat(2, axis=1))


# ---------------------------------------------------------------- seed examples

def test_seed_conv2d_transpose_ones():
    """Seed 001's table: all-ones (2, 2, 1) input with an all-ones 3x3 kernel and a bias of 1
    (the noted values are the window-overlap counts plus 1; a zero bias gives the counts)."""
    expected = {"valid": np.array([[2, 3, 3, 2], [3, 5, 5, 3], [3, 5, 5, 3], [2, 3, 3, 2]]),
                "same": np.array([[5, 5], [5, 5]])}
    for padding, values in expected.items():
        ipt = layers.Input(shape=(2, 2, 1))
        opt = layers.Conv2DTranspose(filters=1, kernel_size=(3, 3), padding=padding,
                                     kernel_initializer="ones", bias_initializer="ones")(ipt)
        model = Model(inputs=ipt, outputs=opt)
        res = model(np.ones((1, 2, 2, 1), "float32")).detach().numpy()
        assert res.shape == (1,) + values.shape + (1,)
        np.testing.assert_array_equal(res[0, :, :, 0], values)
        model.set_weights([np.ones((3, 3, 1, 1), "float32"), np.zeros((1,), "float32")])
        res = model(np.ones((1, 2, 2, 1), "float32")).detach().numpy()
        np.testing.assert_array_equal(res[0, :, :, 0], values - 1)
        if padding == "same":  # "UpSampling2d after same padding": a 4x4 block of 5s
            up = layers.UpSampling2D(size=(2, 2))(torch.as_tensor(res + 1)).numpy()
            np.testing.assert_array_equal(up[0, :, :, 0], np.full((4, 4), 5.0))


def test_seed_cropping2d_shapes():
    model = Sequential()
    model.add(layers.Cropping2D(cropping=((2, 2), (4, 4)), input_shape=(28, 28, 3)))
    assert model.output_shape == (None, 24, 20, 3)
    model.add(layers.Conv2D(64, (3, 3), padding="same"))
    model.add(layers.Cropping2D(cropping=((2, 2), (2, 2))))
    assert model.output_shape == (None, 20, 16, 64)
    assert model(np.zeros((2, 28, 28, 3), "float32")).shape == (2, 20, 16, 64)


def _cnn_sequential(input_shape, num_classes):
    from tkeras.layers import Conv2D, Dense, Dropout, Flatten, MaxPooling2D
    model = Sequential()
    model.add(Conv2D(32, (3, 3), padding="same", activation="relu", input_shape=input_shape))
    model.add(Conv2D(32, (3, 3), activation="relu"))
    model.add(MaxPooling2D(pool_size=(2, 2)))
    model.add(Dropout(0.25))
    model.add(Conv2D(64, (3, 3), padding="same", activation="relu"))
    model.add(Conv2D(64, (3, 3), activation="relu"))
    model.add(MaxPooling2D(pool_size=(2, 2)))
    model.add(Dropout(0.25))
    model.add(Flatten())
    model.add(Dense(512, activation="relu"))
    model.add(Dropout(0.5))
    model.add(Dense(num_classes, activation="softmax"))
    return model


def _cnn_functional(input_shape, num_classes):
    from tkeras.layers import Conv2D, Dense, Dropout, Flatten, MaxPooling2D
    inputs = tkeras.layers.Input(shape=input_shape)
    x = Conv2D(32, (3, 3), padding="same", activation="relu")(inputs)
    x = Conv2D(32, (3, 3), activation="relu")(x)
    x = MaxPooling2D(pool_size=(2, 2))(x)
    x = Dropout(0.25)(x)
    x = Conv2D(64, (3, 3), padding="same", activation="relu")(x)
    x = Conv2D(64, (3, 3), activation="relu")(x)
    x = MaxPooling2D(pool_size=(2, 2))(x)
    x = Dropout(0.25)(x)
    x = Flatten()(x)
    x = Dense(512, activation="relu")(x)
    x = Dropout(0.5)(x)
    x = Dense(num_classes, activation="softmax")(x)
    return tkeras.Model(inputs=inputs, outputs=x)


@pytest.mark.parametrize("get_model", [_cnn_sequential, _cnn_functional])
def test_seed_004_cnn_shapes_and_params(get_model):
    model = get_model((32, 32, 3), 10)
    # by hand: 3x3 convs 3->32 (same, 32x32), 32->32 (valid, 30x30), pool -> 15x15,
    # 32->64 (same), 64->64 (valid, 13x13), pool -> 6x6, flatten 6*6*64 = 2304
    conv_params = [3 * 3 * 3 * 32 + 32, 3 * 3 * 32 * 32 + 32, 3 * 3 * 32 * 64 + 64,
                   3 * 3 * 64 * 64 + 64]
    dense_params = [2304 * 512 + 512, 512 * 10 + 10]
    assert model.count_params() == sum(conv_params + dense_params) == 1250858
    shapes = [layer.output_shape for layer in model.layers
              if not isinstance(layer, layers.InputLayer)]
    assert shapes == [(None, 32, 32, 32), (None, 30, 30, 32), (None, 15, 15, 32),
                      (None, 15, 15, 32), (None, 15, 15, 64), (None, 13, 13, 64),
                      (None, 6, 6, 64), (None, 6, 6, 64), (None, 2304), (None, 512),
                      (None, 512), (None, 10)]
    out = model(np.random.rand(2, 32, 32, 3).astype("float32"))
    assert out.shape == (2, 10)
    np.testing.assert_allclose(out.detach().numpy().sum(1), 1.0, rtol=1e-5)


# ---------------------------------------------------------------- configs and aliases

def test_aliases_are_the_classes_and_old_names_load():
    assert layers.Convolution2D is layers.Conv2D
    assert layers.Deconvolution2D is layers.Conv2DTranspose
    assert layers.SeparableConvolution2D is layers.SeparableConv2D
    config = layers.Conv2D(4, 3, padding="same").get_config()
    loaded = layers.deserialize({"class_name": "Convolution2D", "config": config})
    assert type(loaded) is layers.Conv2D and loaded.get_config() == config
    from tkeras.layers.convolutional import Conv2D as keras2_path  # Keras 2 module path
    assert keras2_path is layers.Conv2D
    # Keras 2's convolutional module re-exported the pooling layers
    from tkeras.layers.convolutional import GlobalAveragePooling1D, MaxPooling2D  # noqa: F401
    assert MaxPooling2D is layers.MaxPooling2D and layers.Deconv2D is layers.Conv2DTranspose
    with pytest.raises(ImportError):
        from tkeras.layers.convolutional import NoSuchLayer  # noqa: F401


def test_configs_round_trip_through_json():
    for factory in (lambda: layers.Conv1D(2, 3, padding="causal"),
                    lambda: layers.Conv3DTranspose(2, 2, output_padding=1, strides=2),
                    lambda: layers.DepthwiseConv2D(3, depth_multiplier=2),
                    lambda: layers.Cropping3D(1), lambda: layers.UpSampling1D(3)):
        layer = factory()
        config = json.loads(json.dumps(layer.get_config()))
        assert type(layer).from_config(config).get_config() == layer.get_config()
    assert "dilation_rate" not in layers.Conv3DTranspose(2, 2).get_config()
    assert layers.Cropping2D(2).get_config()["cropping"] == [[2, 2], [2, 2]]
    assert layers.ZeroPadding1D(2).get_config()["padding"] == [2, 2]


def test_constraint_and_regularizer_see_keras_layout():
    layer = layers.Conv2D(2, 3, kernel_constraint="non_neg", kernel_regularizer="l2")
    layer(np.zeros((1, 5, 5, 3), "float32"))
    assert [tuple(w.shape) for w, _ in layer.constraint_pairs()] == [(3, 3, 3, 2)]
    assert [tuple(w.shape) for w, _ in layer.weight_regularization_pairs()] == [(3, 3, 3, 2)]


# ---------------------------------------------------------------- errors

def test_wrong_input_rank():
    with pytest.raises(ValueError, match="expected min_ndim=4, found ndim=3"):
        layers.Conv2D(2, 3)(layers.Input(shape=(5, 5)))
    with pytest.raises(ValueError, match="expected ndim=4, found ndim=5"):
        layers.Conv2DTranspose(2, 3)(layers.Input(shape=(5, 5, 5, 2)))
    with pytest.raises(ValueError, match="expected ndim=3"):
        layers.Cropping1D(1)(layers.Input(shape=(5, 5, 2)))


def test_negative_output_size():
    with pytest.raises(ValueError, match="One of the dimensions in the output is <= 0"):
        layers.Conv2D(2, 5)(layers.Input(shape=(3, 6, 1)))
    with pytest.raises(ValueError, match="One of the dimensions in the output is <= 0"):
        layers.Conv1D(2, 4, dilation_rate=2)(np.zeros((1, 6, 1), "float32"))
    with pytest.raises(ValueError, match="removes all of spatial axis 1"):
        layers.Cropping2D(((0, 0), (2, 2)))(layers.Input(shape=(6, 4, 1)))


def test_groups_must_divide_channels_and_filters():
    with pytest.raises(ValueError, match="filters must be evenly divisible by the number of groups"):
        layers.Conv2D(5, 3, groups=2)
    with pytest.raises(ValueError, match="input channels must be evenly divisible.*groups=2.*3 channels"):
        layers.Conv2D(4, 3, groups=2)(layers.Input(shape=(5, 5, 3)))
    with pytest.raises(ValueError, match="does not support `groups`"):
        layers.Conv2DTranspose(4, 3, groups=2)


def test_argument_errors():
    with pytest.raises(ValueError, match="Causal padding is only supported for `Conv1D`"):
        layers.Conv2D(2, 3, padding="causal")
    with pytest.raises(ValueError, match="`padding` argument must be one of"):
        layers.Conv2D(2, 3, padding="full")
    with pytest.raises(ValueError, match="`strides > 1` not supported in conjunction with"):
        layers.Conv2D(2, 3, strides=2, dilation_rate=2)
    with pytest.raises(ValueError, match="The `kernel_size` argument must be a tuple of 2 integers"):
        layers.Conv2D(2, (3, 3, 3))
    with pytest.raises(ValueError, match="strides` cannot contain 0"):
        layers.Conv1D(2, 3, strides=0)
    with pytest.raises(ValueError, match="Expected a strictly positive integer"):
        layers.Conv2D(0, 3)
    with pytest.raises(ValueError, match="Strides must be greater than output padding"):
        layers.Conv2DTranspose(2, 3, strides=2, output_padding=2)
    with pytest.raises(ValueError, match="interpolation"):
        layers.UpSampling2D(interpolation="bicubic")
    with pytest.raises(ValueError, match="channel dimension of the inputs should be defined"):
        layers.Conv2D(2, 3)(layers.Input(shape=(5, 5, None)))
    with pytest.raises(ValueError, match="does not support dilation"):
        layers.Conv3DTranspose(2, 3, dilation_rate=2)
    for make in (lambda f: layers.Conv2D(2, 3, data_format=f),
                 lambda f: layers.Conv1DTranspose(2, 3, data_format=f),
                 lambda f: layers.SeparableConv2D(2, 3, data_format=f),
                 lambda f: layers.DepthwiseConv2D(3, data_format=f),
                 lambda f: layers.Cropping2D(1, data_format=f),
                 lambda f: layers.ZeroPadding3D(1, data_format=f),
                 lambda f: layers.UpSampling2D(data_format=f),
                 lambda f: layers.LocallyConnected2D(2, 3, data_format=f),
                 lambda f: layers.ConvLSTM2D(2, 3, data_format=f)):
        with pytest.raises(ValueError, match=r"The `data_format` argument must be one of "
                                             r"\{'channels_first', 'channels_last'\}. Received: "
                                             r"data_format=channels_middle"):
            make("channels_middle")
