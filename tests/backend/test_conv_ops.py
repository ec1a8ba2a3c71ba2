"""K's convolutions, pooling, padding and resizing against naive numpy written from the
documented formulas: TensorFlow's "same" padding (total = max((ceil(n / s) - 1) * s +
(k - 1) * d + 1 - n, 0), the odd pixel after), sliding windows, and the transposed
convolution as the adjoint (gradient) of the convolution."""
import itertools

import numpy as np
import pytest

from tkeras import backend as K

RNG = np.random.RandomState(0)


def same_pads(n, k, s, d):
    eff = (k - 1) * d + 1
    total = max((-(-n // s) - 1) * s + eff - n, 0)
    return total // 2, total - total // 2


def np_conv(x, k, strides, padding, dilation, groups=1):
    """Naive channels_last convolution; k is (*ksize, cin / groups, cout)."""
    rank = x.ndim - 2
    ksz = k.shape[:rank]
    if padding == "same":
        pads = [same_pads(x.shape[1 + i], ksz[i], strides[i], dilation[i]) for i in range(rank)]
    elif padding == "causal":
        pads = [((ksz[0] - 1) * dilation[0], 0)]
    else:
        pads = [(0, 0)] * rank
    xp = np.pad(x, [(0, 0)] + pads + [(0, 0)])
    out_sizes = [(xp.shape[1 + i] - ((ksz[i] - 1) * dilation[i] + 1)) // strides[i] + 1
                 for i in range(rank)]
    cin, cout = x.shape[-1], k.shape[-1]
    out = np.zeros((x.shape[0],) + tuple(out_sizes) + (cout,), dtype=np.float64)
    gin, gout = cin // groups, cout // groups
    for idx in np.ndindex(*out_sizes):
        acc = np.zeros((x.shape[0], cout))
        for kidx in np.ndindex(*ksz):
            pos = tuple(idx[i] * strides[i] + kidx[i] * dilation[i] for i in range(rank))
            patch = xp[(slice(None),) + pos + (slice(None),)]
            for g in range(groups):
                acc[:, g * gout:(g + 1) * gout] += patch[:, g * gin:(g + 1) * gin] @ \
                    k[kidx][:, g * gout:(g + 1) * gout]
        out[(slice(None),) + idx + (slice(None),)] = acc
    return out


def to_first(a):
    return np.moveaxis(a, -1, 1)


def to_last(a):
    return np.moveaxis(np.asarray(a), 1, -1)


CONV_CASES = [
    (1, (7,), 3, 2, "valid", 1), (1, (8,), 3, 2, "same", 1), (1, (9,), 3, 1, "same", 2),
    (1, (8,), 3, 1, "causal", 2),
    (2, (6, 7), (3, 2), (2, 1), "same", (1, 1)), (2, (7, 7), 3, 1, "valid", (2, 2)),
    (2, (5, 6), (2, 3), (2, 2), "same", (1, 1)),
    (3, (4, 5, 4), 2, (1, 2, 1), "same", 1), (3, (5, 4, 4), (3, 2, 2), 1, "valid", 1),
]


@pytest.mark.parametrize("rank,sizes,ksize,strides,padding,dilation", CONV_CASES)
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_conv_matches_naive_convolution(rank, sizes, ksize, strides, padding, dilation,
                                        data_format):
    if padding == "causal" and data_format == "channels_first":
        pytest.skip("causal padding is for channels_last temporal data")
    tup = lambda v: (v,) * rank if isinstance(v, int) else tuple(v)  # noqa: E731
    x = RNG.randn(2, *sizes, 3).astype("float32")
    k = RNG.randn(*tup(ksize), 3, 4).astype("float32")
    expected = np_conv(x, k, tup(strides), padding, tup(dilation))
    fn = {1: K.conv1d, 2: K.conv2d, 3: K.conv3d}[rank]
    arg_s = strides if rank > 1 else tup(strides)[0]
    arg_d = dilation if rank > 1 else tup(dilation)[0]
    inp = x if data_format == "channels_last" else to_first(x)
    out = K.eval(fn(inp, k, strides=arg_s, padding=padding, data_format=data_format,
                    dilation_rate=arg_d))
    if data_format == "channels_first":
        out = to_last(out)
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-4)


def test_conv_errors():
    with pytest.raises(ValueError, match="expects a 4D input"):
        K.conv2d(np.ones((2, 3, 3), "float32"), np.ones((1, 1, 3, 1), "float32"))
    with pytest.raises(ValueError, match="must be one of"):
        K.conv2d(np.ones((1, 3, 3, 1), "float32"), np.ones((1, 1, 1, 1), "float32"), padding="full")


@pytest.mark.parametrize("strides,padding,dilation", [((1, 1), "valid", (1, 1)),
                                                      ((2, 2), "same", (1, 1)),
                                                      ((1, 1), "same", (2, 2))])
def test_depthwise_and_separable_conv2d(strides, padding, dilation):
    x = RNG.randn(2, 6, 6, 3).astype("float32")
    dw = RNG.randn(3, 3, 3, 2).astype("float32")
    pw = RNG.randn(1, 1, 6, 4).astype("float32")
    # depthwise as a grouped conv: output channel c * multiplier + m uses input channel c
    grouped = np.zeros((3, 3, 1, 6), "float32")
    for c in range(3):
        for m in range(2):
            grouped[:, :, 0, c * 2 + m] = dw[:, :, c, m]
    depth = np_conv(x, grouped, strides, padding, dilation, groups=3)
    np.testing.assert_allclose(K.eval(K.depthwise_conv2d(x, dw, strides, padding,
                                                         dilation_rate=dilation)),
                               depth, rtol=1e-4, atol=1e-4)
    sep = np_conv(depth, pw, (1, 1), "valid", (1, 1))
    np.testing.assert_allclose(K.eval(K.separable_conv2d(x, dw, pw, strides, padding,
                                                         dilation_rate=dilation)),
                               sep, rtol=1e-4, atol=1e-4)
    out_first = K.eval(K.separable_conv2d(to_first(x), dw, pw, strides, padding,
                                          data_format="channels_first", dilation_rate=dilation))
    np.testing.assert_allclose(to_last(out_first), sep, rtol=1e-4, atol=1e-4)


def test_separable_conv1d():
    x = RNG.randn(2, 9, 2).astype("float32")
    dw = RNG.randn(3, 2, 3).astype("float32")
    pw = RNG.randn(1, 6, 5).astype("float32")
    grouped = np.zeros((3, 1, 6), "float32")
    for c in range(2):
        for m in range(3):
            grouped[:, 0, c * 3 + m] = dw[:, c, m]
    depth = np_conv(x, grouped, (2,), "same", (1,), groups=2)
    expected = np_conv(depth, pw, (1,), "valid", (1,))
    np.testing.assert_allclose(K.eval(K.separable_conv1d(x, dw, pw, strides=2, padding="same")),
                               expected, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("rank,in_sizes,out_sizes,ksize,strides,padding", [
    (2, (3, 4), (6, 8), (3, 3), (2, 2), "same"),
    (2, (3, 3), (7, 7), (3, 3), (2, 2), "valid"),
    (2, (4, 3), (8, 7), (2, 3), (2, 2), "valid"),
    (2, (5, 5), (5, 5), (3, 3), (1, 1), "same"),
    (3, (2, 3, 2), (4, 6, 4), (3, 3, 2), (2, 2, 2), "same"),
])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_conv_transpose_is_the_adjoint_of_conv(rank, in_sizes, out_sizes, ksize, strides,
                                               padding, data_format):
    """<conv(z, W), x> == <conv_transpose(x, W, shape(z)), z> for all x, z (TF defines
    conv*d_transpose as the gradient of conv*d)."""
    filters, in_channels = 3, 2
    w = RNG.randn(*ksize, filters, in_channels).astype("float32")  # (*k, filters, in)
    x = RNG.randn(2, *in_sizes, in_channels).astype("float32")
    z = RNG.randn(2, *out_sizes, filters).astype("float32")
    conv_z = np_conv(z.astype(np.float64), w.astype(np.float64), strides, padding, (1,) * rank)
    assert conv_z.shape == x.shape
    fn = {2: K.conv2d_transpose, 3: K.conv3d_transpose}[rank]
    out_shape = (2,) + out_sizes + (filters,)
    if data_format == "channels_first":
        out = to_last(K.eval(fn(to_first(x), w, (2, filters) + out_sizes, strides, padding,
                                "channels_first")))
    else:
        out = K.eval(fn(x, w, out_shape, strides, padding, data_format))
    assert out.shape == z.shape
    np.testing.assert_allclose((out * z).sum(), (conv_z * x).sum(), rtol=1e-4)
    # and the full map, basis vector by basis vector on one sample
    basis = np.zeros_like(z[:1])
    for idx in list(itertools.islice(np.ndindex(*basis.shape[1:]), 0, None, 7)):
        basis[...] = 0
        basis[(0,) + idx] = 1.0
        lhs = (np_conv(basis.astype(np.float64), w.astype(np.float64), strides, padding,
                       (1,) * rank) * x[:1]).sum()
        assert abs(out[(0,) + idx] - lhs) < 1e-3


def test_conv2d_transpose_with_dilation_is_the_adjoint():
    w = RNG.randn(3, 3, 2, 2).astype("float32")
    x = RNG.randn(1, 5, 5, 2).astype("float32")
    z = RNG.randn(1, 5, 5, 2).astype("float32")
    conv_z = np_conv(z.astype(np.float64), w.astype(np.float64), (1, 1), "same", (2, 2))
    out = K.eval(K.conv2d_transpose(x, w, (1, 5, 5, 2), padding="same", dilation_rate=(2, 2)))
    np.testing.assert_allclose((out * z).sum(), (conv_z * x).sum(), rtol=1e-4)


def np_pool(x, pool, strides, padding, mode):
    rank = x.ndim - 2
    if padding == "same":
        pads = [same_pads(x.shape[1 + i], pool[i], strides[i], 1) for i in range(rank)]
    else:
        pads = [(0, 0)] * rank
    fill = -np.inf if mode == "max" else np.nan
    xp = np.pad(x.astype(np.float64), [(0, 0)] + pads + [(0, 0)], constant_values=fill)
    out_sizes = [(xp.shape[1 + i] - pool[i]) // strides[i] + 1 for i in range(rank)]
    out = np.zeros((x.shape[0],) + tuple(out_sizes) + (x.shape[-1],))
    for idx in np.ndindex(*out_sizes):
        window = xp[(slice(None),) + tuple(slice(idx[i] * strides[i], idx[i] * strides[i] + pool[i])
                                           for i in range(rank)) + (slice(None),)]
        flat = window.reshape(x.shape[0], -1, x.shape[-1])
        out[(slice(None),) + idx + (slice(None),)] = np.max(flat, 1) if mode == "max" \
            else np.nanmean(flat, 1)
    return out


@pytest.mark.parametrize("rank,sizes,pool,strides,padding", [
    (2, (5, 6), (2, 2), (2, 2), "valid"), (2, (5, 6), (3, 2), (2, 2), "same"),
    (2, (4, 4), (2, 2), (1, 1), "same"), (3, (4, 5, 3), (2, 2, 2), (2, 2, 1), "same"),
    (3, (4, 4, 4), (2, 3, 2), (2, 1, 2), "valid"),
])
@pytest.mark.parametrize("mode", ["max", "avg"])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_pooling_matches_naive_windows(rank, sizes, pool, strides, padding, mode, data_format):
    x = RNG.randn(2, *sizes, 3).astype("float32")
    expected = np_pool(x, pool, strides, padding, mode)
    fn = K.pool2d if rank == 2 else K.pool3d
    inp = x if data_format == "channels_last" else to_first(x)
    out = K.eval(fn(inp, pool, strides, padding, data_format, pool_mode=mode))
    if data_format == "channels_first":
        out = to_last(out)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="Invalid pool_mode"):
        fn(inp, pool, strides, padding, data_format, pool_mode="sum")


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_local_conv1d_and_2d(data_format):
    x = RNG.randn(2, 7, 3).astype("float32")
    out_len = (7 - 3) // 2 + 1
    kernel = RNG.randn(out_len, 3 * 3, 4).astype("float32")
    expected = np.zeros((2, out_len, 4))
    for i in range(out_len):
        window = x[:, i * 2:i * 2 + 3, :]  # (batch, k, c)
        flat = window.reshape(2, -1) if data_format == "channels_last" else \
            window.transpose(0, 2, 1).reshape(2, -1)
        expected[:, i] = flat @ kernel[i]
    inp = x if data_format == "channels_last" else to_first(x)
    out = K.eval(K.local_conv1d(inp, kernel, (3,), (2,), data_format))
    np.testing.assert_allclose(out if data_format == "channels_last" else to_last(out), expected,
                               rtol=1e-4, atol=1e-5)

    x2 = RNG.randn(2, 5, 6, 2).astype("float32")
    rows, cols = (5 - 2) // 1 + 1, (6 - 3) // 2 + 1
    kernel2 = RNG.randn(rows * cols, 2 * 3 * 2, 3).astype("float32")
    expected2 = np.zeros((2, rows, cols, 3))
    for i in range(rows):
        for j in range(cols):
            window = x2[:, i:i + 2, j * 2:j * 2 + 3, :]
            flat = window.reshape(2, -1) if data_format == "channels_last" else \
                window.transpose(0, 3, 1, 2).reshape(2, -1)
            expected2[:, i, j] = flat @ kernel2[i * cols + j]
    inp2 = x2 if data_format == "channels_last" else to_first(x2)
    out2 = K.eval(K.local_conv2d(inp2, kernel2, (2, 3), (1, 2), (rows, cols), data_format))
    np.testing.assert_allclose(out2 if data_format == "channels_last" else to_last(out2),
                               expected2, rtol=1e-4, atol=1e-5)


# ------------------------------------------------------------------ padding / resizing

def test_paddings():
    x3 = RNG.randn(2, 3, 4).astype("float32")
    np.testing.assert_array_equal(K.eval(K.temporal_padding(x3, (1, 2))),
                                  np.pad(x3, [(0, 0), (1, 2), (0, 0)]))
    x4 = RNG.randn(2, 3, 4, 5).astype("float32")
    np.testing.assert_array_equal(K.eval(K.spatial_2d_padding(x4, ((1, 0), (2, 1)))),
                                  np.pad(x4, [(0, 0), (1, 0), (2, 1), (0, 0)]))
    np.testing.assert_array_equal(
        K.eval(K.spatial_2d_padding(x4, ((1, 0), (2, 1)), data_format="channels_first")),
        np.pad(x4, [(0, 0), (0, 0), (1, 0), (2, 1)]))
    x5 = RNG.randn(1, 2, 3, 2, 2).astype("float32")
    np.testing.assert_array_equal(K.eval(K.spatial_3d_padding(x5, ((1, 1), (0, 2), (1, 0)))),
                                  np.pad(x5, [(0, 0), (1, 1), (0, 2), (1, 0), (0, 0)]))
    np.testing.assert_array_equal(
        K.eval(K.spatial_3d_padding(x5, ((1, 1), (0, 2), (1, 0)), "channels_first")),
        np.pad(x5, [(0, 0), (0, 0), (1, 1), (0, 2), (1, 0)]))
    with pytest.raises(ValueError, match="2 pairs of ints"):
        K.spatial_2d_padding(x4, (1, 1))


def np_bilinear(img, fh, fw):
    """Half-pixel-centre bilinear resize of (rows, cols) by integer factors."""
    rows, cols = img.shape
    out = np.zeros((rows * fh, cols * fw))
    for i in range(rows * fh):
        for j in range(cols * fw):
            y = min(max((i + 0.5) / fh - 0.5, 0), rows - 1)
            x = min(max((j + 0.5) / fw - 0.5, 0), cols - 1)
            y0, x0 = int(np.floor(y)), int(np.floor(x))
            y1, x1 = min(y0 + 1, rows - 1), min(x0 + 1, cols - 1)
            dy, dx = y - y0, x - x0
            out[i, j] = (img[y0, x0] * (1 - dy) * (1 - dx) + img[y1, x0] * dy * (1 - dx) +
                         img[y0, x1] * (1 - dy) * dx + img[y1, x1] * dy * dx)
    return out


def test_resize_images_nearest_and_bilinear():
    x = RNG.rand(2, 3, 4, 2).astype("float32")
    near = K.eval(K.resize_images(x, 2, 3, "channels_last"))
    np.testing.assert_array_equal(near, np.repeat(np.repeat(x, 2, axis=1), 3, axis=2))
    near_first = K.eval(K.resize_images(to_first(x), 2, 3, "channels_first"))
    np.testing.assert_array_equal(to_last(near_first), near)
    bil = K.eval(K.resize_images(x, 2, 2, "channels_last", interpolation="bilinear"))
    for b in range(2):
        for c in range(2):
            np.testing.assert_allclose(bil[b, :, :, c], np_bilinear(x[b, :, :, c], 2, 2),
                                       rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match='one of "nearest" or "bilinear"'):
        K.resize_images(x, 2, 2, "channels_last", interpolation="bicubic")


def test_resize_volumes():
    x = RNG.rand(1, 2, 3, 2, 2).astype("float32")
    expected = np.repeat(np.repeat(np.repeat(x, 2, 1), 1, 2), 3, 3)
    np.testing.assert_array_equal(K.eval(K.resize_volumes(x, 2, 1, 3, "channels_last")), expected)
    np.testing.assert_array_equal(
        to_last(K.eval(K.resize_volumes(to_first(x), 2, 1, 3, "channels_first"))), expected)


def test_slice_and_size():
    x = np.arange(24, dtype="float32").reshape(2, 3, 4)
    np.testing.assert_array_equal(K.eval(K.slice(x, (0, 1, 1), (2, 2, -1))), x[0:2, 1:3, 1:])
    assert int(K.eval(K.size(x))) == 24 and K.size(x).dtype == K.cast(0, "int32").dtype
    with pytest.raises(ValueError, match="dimension and the size of indices should match"):
        K.slice(x, (0, 1), (1, 1))
