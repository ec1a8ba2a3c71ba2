"""preprocess_input (caffe / tf / torch modes; numpy and torch; both data formats),
decode_predictions (the class index fetched once through get_file), obtain_input_shape
and the modules' Keras 2 import paths."""
import hashlib
import importlib
import json

import numpy as np
import pytest
import torch

import tkeras
from tkeras.applications import imagenet_utils

MEANS_BGR = np.array([103.939, 116.779, 123.68])
TORCH_MEAN = np.array([0.485, 0.456, 0.406])
TORCH_STD = np.array([0.229, 0.224, 0.225])


def _images(shape=(2, 4, 5, 3), seed=0):
    return np.random.RandomState(seed).uniform(0, 255, shape).astype("float32")


def _expected_channels_last(x, mode):
    x = x.astype("float64")
    if mode == "tf":
        return x / 127.5 - 1.0
    if mode == "torch":
        return (x / 255.0 - TORCH_MEAN) / TORCH_STD
    return x[..., ::-1] - MEANS_BGR


@pytest.mark.parametrize("mode", ["caffe", "tf", "torch"])
@pytest.mark.parametrize("kind", ["numpy", "torch"])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("batched", [True, False])
def test_preprocess_input_modes(mode, kind, data_format, batched):
    x_last = _images() if batched else _images()[0]
    expected = _expected_channels_last(x_last, mode)
    x = x_last if data_format == "channels_last" else np.moveaxis(x_last, -1, -3).copy()
    arg = x.copy() if kind == "numpy" else torch.from_numpy(x.copy())
    out = imagenet_utils.preprocess_input(arg, data_format=data_format, mode=mode)
    assert isinstance(out, np.ndarray if kind == "numpy" else torch.Tensor)
    out = np.asarray(out)
    if data_format == "channels_first":
        out = np.moveaxis(out, -3, -1)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-4)


def test_preprocess_input_follows_the_backend_data_format_and_casts_integers():
    x = np.full((1, 3, 2, 2), 255, dtype="uint8")
    tkeras.backend.set_image_data_format("channels_first")
    try:
        out = imagenet_utils.preprocess_input(x, mode="caffe")
    finally:
        tkeras.backend.set_image_data_format("channels_last")
    assert out.dtype == np.float32
    np.testing.assert_allclose(out[0, :, 0, 0], 255 - MEANS_BGR, rtol=1e-6)


def test_preprocess_input_of_a_float_array_works_in_place_as_in_keras():
    x = _images((1, 2, 2, 3))
    out = imagenet_utils.preprocess_input(x, mode="tf")
    assert out is x


def test_module_preprocess_input_uses_the_models_mode():
    from tkeras.applications import (convnext, densenet, efficientnet, inception_v3, mobilenet,
                                     resnet50, resnet_v2, vgg19)
    x = _images((1, 2, 2, 3))
    np.testing.assert_allclose(vgg19.preprocess_input(x.copy()),
                               _expected_channels_last(x, "caffe"), rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(resnet50.preprocess_input(x.copy()),
                               _expected_channels_last(x, "caffe"), rtol=1e-5, atol=1e-4)
    for module in (resnet_v2, inception_v3, mobilenet):
        np.testing.assert_allclose(module.preprocess_input(x.copy()),
                                   _expected_channels_last(x, "tf"), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(densenet.preprocess_input(x.copy()),
                               _expected_channels_last(x, "torch"), rtol=1e-5, atol=1e-5)
    for module in (efficientnet, convnext):  # preprocessing happens inside those models
        assert module.preprocess_input(x) is x


def test_preprocess_input_on_a_keras_tensor_builds_a_layer():
    from tkeras import layers
    inp = layers.Input((4, 4, 3))
    model = tkeras.Model(inp, imagenet_utils.preprocess_input(inp, mode="torch"))
    x = _images((2, 4, 4, 3))
    np.testing.assert_allclose(model.predict(x, verbose=0), _expected_channels_last(x, "torch"),
                               rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kwargs,message", [
    ({"mode": "keras"},
     "Expected mode to be one of `caffe`, `tf` or `torch`. Received: mode=keras"),
    ({"data_format": "nhwc"}, "Expected data_format to be one of `channels_first` or "
                              "`channels_last`. Received: data_format=nhwc"),
])
def test_preprocess_input_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        imagenet_utils.preprocess_input(_images(), **kwargs)


# ---------------------------------------------------------------- decode_predictions

@pytest.fixture
def class_index(monkeypatch, local_origin):
    index = {str(i): [f"n{i:08d}", f"class_{i}"] for i in range(1000)}
    data = json.dumps(index).encode()
    url = local_origin.put("imagenet_class_index.json", data)
    monkeypatch.setattr(imagenet_utils, "CLASS_INDEX", None)
    monkeypatch.setattr(imagenet_utils, "CLASS_INDEX_PATH", url)
    monkeypatch.setattr(imagenet_utils, "CLASS_INDEX_HASH", hashlib.md5(data).hexdigest())
    return local_origin


def test_decode_predictions_top_classes_fetched_once(class_index):
    preds = np.random.RandomState(0).rand(2, 1000).astype("float32")
    preds[0, 7], preds[0, 42], preds[1, 999] = 5.0, 4.0, 9.0
    decoded = imagenet_utils.decode_predictions(preds, top=3)
    assert len(decoded) == 2 and all(len(d) == 3 for d in decoded)
    assert decoded[0][:2] == [("n00000007", "class_7", np.float32(5.0)),
                              ("n00000042", "class_42", np.float32(4.0))]
    third = int(np.argsort(preds[0])[-3])
    assert decoded[0][2] == (f"n{third:08d}", f"class_{third}", preds[0, third])
    assert decoded[1][0][:2] == ("n00000999", "class_999")
    from tkeras.applications import resnet50
    assert resnet50.decode_predictions(torch.from_numpy(preds), top=1)[1][0][1] == "class_999"
    assert class_index.requests == ["imagenet_class_index.json"]  # cached after the first


def test_decode_predictions_shape_error():
    with pytest.raises(ValueError, match=r"`decode_predictions` expects a batch of predictions "
                                         r"\(i.e. a 2D array of shape \(samples, 1000\)\). Found "
                                         r"array with shape: \(2, 10\)"):
        imagenet_utils.decode_predictions(np.zeros((2, 10)))


# ---------------------------------------------------------------- obtain_input_shape

@pytest.mark.parametrize("args,expected", [
    ((None, 224, 32, "channels_last", True), (224, 224, 3)),
    ((None, 224, 32, "channels_first", True), (3, 224, 224)),
    ((None, 224, 32, "channels_last", False), (None, None, 3)),
    (((100, 120, 3), 224, 32, "channels_last", False), (100, 120, 3)),
    (((None, None, 1), 299, 71, "channels_last", False), (None, None, 1)),
])
def test_obtain_input_shape(args, expected):
    assert imagenet_utils.obtain_input_shape(*args) == expected


@pytest.mark.parametrize("args,weights,message", [
    (((100, 100, 3), 224, 32, "channels_last", True), "imagenet",
     r"When setting `include_top=True` and loading `imagenet` weights, `input_shape` should be "
     r"\(224, 224, 3\).  Received: input_shape=\(100, 100, 3\)"),
    (((31, 64, 3), 224, 32, "channels_last", False), None,
     r"Input size must be at least 32x32; Received: input_shape=\(31, 64, 3\)"),
    (((64, 64, 1), 224, 32, "channels_last", False), "imagenet",
     r"The input must have 3 channels; Received `input_shape=\(64, 64, 1\)`"),
    (((64, 64), 224, 32, "channels_last", False), None,
     r"`input_shape` must be a tuple of three integers."),
    (((None, None, 3), 224, 32, "channels_last", True), None,
     r"If `include_top` is True, you should specify a static `input_shape`. Received: "
     r"input_shape=\(None, None, 3\)"),
])
def test_obtain_input_shape_errors(args, weights, message):
    with pytest.raises(ValueError, match=message):
        imagenet_utils.obtain_input_shape(*args, weights=weights)


def test_obtain_input_shape_warns_about_unusual_channel_counts():
    with pytest.warns(UserWarning, match="This model usually expects 1 or 3 input channels"):
        imagenet_utils.obtain_input_shape((64, 64, 5), 224, 32, "channels_last", False)


def test_correct_pad():
    from tkeras import layers
    assert imagenet_utils.correct_pad(layers.Input((224, 224, 3)), 3) == ((0, 1), (0, 1))
    assert imagenet_utils.correct_pad(layers.Input((225, 224, 3)), (5, 3)) == ((2, 2), (0, 1))
    assert imagenet_utils.correct_pad(layers.Input((None, None, 3)), 3) == ((0, 1), (0, 1))


# ---------------------------------------------------------------- Keras 2 module paths

KERAS2_PATHS = {
    "vgg16": ["VGG16"], "vgg19": ["VGG19"], "resnet50": ["ResNet50"],
    "resnet": ["ResNet50", "ResNet101", "ResNet152"],
    "resnet_v2": ["ResNet50V2", "ResNet101V2", "ResNet152V2"], "xception": ["Xception"],
    "inception_v3": ["InceptionV3"], "inception_resnet_v2": ["InceptionResNetV2"],
    "mobilenet": ["MobileNet"], "mobilenet_v2": ["MobileNetV2"],
    "mobilenet_v3": ["MobileNetV3Small", "MobileNetV3Large"],
    "densenet": ["DenseNet121", "DenseNet169", "DenseNet201"],
    "nasnet": ["NASNetMobile", "NASNetLarge"],
    "efficientnet": [f"EfficientNetB{i}" for i in range(8)],
    "efficientnet_v2": ["EfficientNetV2B0", "EfficientNetV2B1", "EfficientNetV2B2",
                        "EfficientNetV2B3", "EfficientNetV2S", "EfficientNetV2M",
                        "EfficientNetV2L"],
    "convnext": ["ConvNeXtTiny", "ConvNeXtSmall", "ConvNeXtBase", "ConvNeXtLarge",
                 "ConvNeXtXLarge"],
    "regnet": ["RegNetX002", "RegNetY320"],
}


@pytest.mark.parametrize("module", sorted(KERAS2_PATHS))
def test_keras2_module_paths(module):
    mod = importlib.import_module("tkeras.applications." + module)
    for name in KERAS2_PATHS[module]:
        assert getattr(mod, name) is getattr(tkeras.applications, name)
        assert getattr(mod, name).__name__ == name
    assert callable(mod.preprocess_input) and callable(mod.decode_predictions)
    assert importlib.import_module("tkeras.applications.imagenet_utils").preprocess_input
