"""Convolution kernels are stored in the memory layout torch's convolutions take
(``conv_utils.use_torch_layout_``): the torch view of the kernel needs no copy, the layout
survives what rewrites weights (set_weights, optimizer steps, load_weights, dtype casts,
copies), and the numbers stay those of Keras's layout (numpy references below)."""
import copy

import numpy as np
import pytest
import torch
from numpy.lib.stride_tricks import sliding_window_view

import tkeras
from tkeras import layers
from tkeras.models import Sequential
from tkeras.utils.conv_utils import depthwise_torch_kernel, torch_kernel

RNG = np.random.RandomState(11)


def _conv2d_valid(x, kernel, bias):
    """Keras's Conv2D ('valid', stride 1, channels_last) in numpy."""
    kh, kw = kernel.shape[:2]
    windows = sliding_window_view(x, (kh, kw), axis=(1, 2))  # (b, h', w', c, kh, kw)
    return np.einsum("bhwcij,ijco->bhwo", windows, kernel) + bias


def _depthwise2d_valid(x, kernel):
    """Keras's DepthwiseConv2D ('valid', stride 1, no bias): output channel c*dm + m."""
    kh, kw, c, dm = kernel.shape
    windows = sliding_window_view(x, (kh, kw), axis=(1, 2))
    out = np.einsum("bhwcij,ijcm->bhwcm", windows, kernel)
    return out.reshape(out.shape[:3] + (c * dm,))


@pytest.mark.parametrize("factory, shape, name, memory_format", [
    (lambda: layers.Conv2D(6, 3), (2, 7, 7, 4), "kernel", torch.channels_last),
    (lambda: layers.Conv2D(6, 3, data_format="channels_first"), (2, 4, 7, 7), "kernel",
     torch.contiguous_format),
    (lambda: layers.Conv2D(6, 3, groups=2), (2, 7, 7, 4), "kernel", torch.channels_last),
    (lambda: layers.Conv3D(3, 2), (2, 4, 4, 4, 2), "kernel", torch.channels_last_3d),
    (lambda: layers.Conv1D(3, 2), (2, 6, 4), "kernel", torch.contiguous_format),
    (lambda: layers.Conv2DTranspose(3, 3), (2, 5, 5, 4), "kernel", torch.channels_last),
    (lambda: layers.SeparableConv2D(5, 3), (2, 7, 7, 4), "pointwise_kernel",
     torch.channels_last),
])
def test_torch_view_of_the_kernel_is_in_torchs_layout(factory, shape, name, memory_format):
    layer = factory()
    layer(np.zeros(shape, "float32"))
    kernel = getattr(layer, name)
    view = torch_kernel(kernel, len(shape) - 2)
    assert view.data_ptr() == kernel.data_ptr()
    assert view.is_contiguous(memory_format=memory_format)


@pytest.mark.parametrize("factory", [lambda: layers.DepthwiseConv2D(3, depth_multiplier=2),
                                     lambda: layers.SeparableConv2D(5, 3, depth_multiplier=2)])
def test_depthwise_torch_view_is_contiguous(factory):
    layer = factory()
    layer(np.zeros((2, 7, 7, 4), "float32"))
    kernel = layer.depthwise_kernel
    assert tuple(kernel.shape) == (3, 3, 4, 2)
    view = depthwise_torch_kernel(kernel, 2)
    assert view.data_ptr() == kernel.data_ptr() and view.is_contiguous()


def test_conv_numbers_and_gradients_follow_keras_layout():
    x = RNG.standard_normal((2, 6, 5, 3)).astype("float32")
    kernel = RNG.standard_normal((3, 2, 3, 4)).astype("float32")
    bias = RNG.standard_normal(4).astype("float32")
    layer = layers.Conv2D(4, (3, 2))
    layer(x)
    layer.set_weights([kernel, bias])
    np.testing.assert_array_equal(layer.get_weights()[0], kernel)
    upstream = RNG.standard_normal((2, 4, 4, 4)).astype("float32")
    out = layer(torch.from_numpy(x))
    np.testing.assert_allclose(out.detach().numpy(), _conv2d_valid(x, kernel, bias),
                               rtol=1e-5, atol=1e-5)
    (out * torch.from_numpy(upstream)).sum().backward()
    windows = sliding_window_view(x, (3, 2), axis=(1, 2))
    expected = np.einsum("bhwcij,bhwo->ijco", windows, upstream)  # d sum(out * g) / d kernel
    assert layer.kernel.grad.shape == (3, 2, 3, 4)
    assert layer.kernel.grad.stride() == layer.kernel.stride()  # the gradient keeps the layout
    np.testing.assert_allclose(layer.kernel.grad.numpy(), expected, rtol=1e-4, atol=1e-4)


def test_depthwise_numbers_follow_keras_channel_order():
    x = RNG.standard_normal((2, 5, 5, 3)).astype("float32")
    kernel = RNG.standard_normal((3, 3, 3, 2)).astype("float32")
    layer = layers.DepthwiseConv2D(3, depth_multiplier=2, use_bias=False)
    layer(x)
    layer.set_weights([kernel])
    with torch.no_grad():
        out = layer(x).numpy()
    np.testing.assert_allclose(out, _depthwise2d_valid(x, kernel), rtol=1e-5, atol=1e-5)


def _model():
    model = Sequential([layers.Input((6, 6, 3)), layers.Conv2D(4, 3),
                        layers.DepthwiseConv2D(3, use_bias=False)])
    model.compile(optimizer=tkeras.optimizers.SGD(0.1), loss="mse")
    return model


def _assert_torch_layout(model):
    conv, depthwise = model.layers
    assert torch_kernel(conv.kernel, 2).is_contiguous(memory_format=torch.channels_last)
    assert depthwise_torch_kernel(depthwise.depthwise_kernel, 2).is_contiguous()


def test_layout_survives_training_loading_casts_and_copies(tmp_path):
    model = _model()
    x = RNG.standard_normal((4, 6, 6, 3)).astype("float32")
    y = RNG.standard_normal((4, 2, 2, 4)).astype("float32")
    before = [w.copy() for w in model.get_weights()]
    model.train_on_batch(x, y)
    assert not np.array_equal(model.get_weights()[0], before[0])
    _assert_torch_layout(model)

    path = str(tmp_path / "w.h5")
    model.save_weights(path)
    other = _model()
    other.load_weights(path)
    _assert_torch_layout(other)
    for a, b in zip(other.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(other.predict(x, verbose=0), model.predict(x, verbose=0))

    clone = copy.deepcopy(model)
    _assert_torch_layout(clone)
    model.double()
    _assert_torch_layout(model)
    np.testing.assert_allclose(model.predict(x.astype("float64"), verbose=0),
                               clone.predict(x, verbose=0), rtol=1e-5, atol=1e-5)
