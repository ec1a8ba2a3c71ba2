"""The seed 001 transfer-learning patterns on small inputs, Keras's argument checks, and a
forward pass through one model of each family."""
import hashlib
import json
import os

import numpy as np
import pytest
import torch

import tkeras
from tkeras import applications as A
from tkeras import layers
from tkeras.applications import imagenet_utils


def _images(n, size, seed=0):
    return np.random.RandomState(seed).uniform(0, 255, (n, size, size, 3)).astype("float32")


# ---------------------------------------------------------------- seed 001 patterns

def test_classify_an_image_resnet50(monkeypatch, local_origin):
    from tkeras.applications.resnet50 import ResNet50, decode_predictions, preprocess_input
    index = {str(i): [f"n{i:08d}", f"label_{i}"] for i in range(1000)}
    data = json.dumps(index).encode()
    monkeypatch.setattr(imagenet_utils, "CLASS_INDEX", None)
    monkeypatch.setattr(imagenet_utils, "CLASS_INDEX_PATH",
                        local_origin.put("imagenet_class_index.json", data))
    monkeypatch.setattr(imagenet_utils, "CLASS_INDEX_HASH", hashlib.md5(data).hexdigest())

    img = _images(1, 32)[0]  # what image.img_to_array(image.load_img(...)) gives
    x = np.expand_dims(img, axis=0)
    x = preprocess_input(x)
    model = ResNet50(weights=None, input_shape=(32, 32, 3))
    preds = model.predict(x, verbose=0)
    assert preds.shape == (1, 1000)
    np.testing.assert_allclose(preds.sum(), 1.0, rtol=1e-5)
    top3 = decode_predictions(preds, top=3)[0]
    best = np.argsort(preds[0])[::-1][:3]
    assert [t[1] for t in top3] == [f"label_{i}" for i in best]
    assert model.get_layer("conv5_block3_out").output_shape == (None, 1, 1, 2048)


def test_feature_extraction_with_pooling():
    base = A.ResNet50(weights=None, include_top=False, input_shape=(64, 64, 3))
    x = A.resnet50.preprocess_input(_images(2, 64))
    features = base.predict(x, verbose=0)
    assert features.shape == (2, 2, 2, 2048)
    assert base.layers[-1].name == "conv5_block3_out"
    for pooling, reduce in (("avg", np.mean), ("max", np.max)):
        pooled = A.ResNet50(weights=None, include_top=False, input_shape=(64, 64, 3),
                            pooling=pooling)
        pooled.set_weights(base.get_weights())
        assert pooled.layers[-1].name == pooling + "_pool"
        np.testing.assert_allclose(pooled.predict(x, verbose=0), reduce(features, axis=(1, 2)),
                                   rtol=1e-5, atol=1e-5)


def test_freeze_the_base_and_train_a_new_head():
    base = A.VGG16(weights=None, include_top=False, input_shape=(32, 32, 3))
    for layer in base.layers:
        layer.trainable = False
    x = layers.Flatten()(base.output)
    x = layers.Dense(16, activation="relu")(x)
    predictions = layers.Dense(3, activation="softmax")(x)
    model = tkeras.Model(inputs=base.input, outputs=predictions)
    assert len(model.trainable_weights) == 4
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    frozen = [w.copy() for w in base.get_weights()]
    head = [w.copy() for w in model.layers[-1].get_weights()]
    images = A.vgg16.preprocess_input(_images(8, 32))
    labels = np.eye(3)[np.arange(8) % 3]
    history = model.fit(images, labels, epochs=2, batch_size=4, verbose=0)
    assert len(history.history["loss"]) == 2
    for before, after in zip(frozen, base.get_weights()):
        np.testing.assert_array_equal(before, after)
    assert any(np.abs(b - a).max() > 0 for b, a in zip(head, model.layers[-1].get_weights()))


def test_fine_tune_the_top_blocks_of_inception_v3():
    base = A.InceptionV3(weights=None, include_top=False, input_shape=(75, 75, 3))
    x = layers.GlobalAveragePooling2D()(base.output)
    model = tkeras.Model(base.input, layers.Dense(2, activation="softmax")(x))
    mixed9 = [layer.name for layer in base.layers].index("mixed9")
    for layer in model.layers[:mixed9]:
        layer.trainable = False
    for layer in model.layers[mixed9:]:
        layer.trainable = True
    trainable_layers = {w._keras_name.split("/")[0] for w in model.trainable_weights}
    assert "conv2d" not in trainable_layers and "dense" in trainable_layers
    assert all(not layer.trainable for layer in model.layers[:mixed9])


def test_bottleneck_features_saved_with_numpy_train_a_top_model(tmp_path):
    base = A.VGG16(weights=None, include_top=False, input_shape=(32, 32, 3))
    images = A.vgg16.preprocess_input(_images(6, 32))
    bottleneck_features_train = base.predict(images, verbose=0)
    path = os.path.join(tmp_path, "bottleneck_features_train.npy")
    with open(path, "wb") as f:
        np.save(f, bottleneck_features_train)
    with open(path, "rb") as f:
        train_data = np.load(f)
    np.testing.assert_array_equal(train_data, bottleneck_features_train)
    top = tkeras.Sequential([layers.Flatten(input_shape=train_data.shape[1:]),
                             layers.Dense(8, activation="relu"),
                             layers.Dense(1, activation="sigmoid")])
    top.compile(optimizer="rmsprop", loss="binary_crossentropy")
    labels = np.array([0, 1, 0, 1, 0, 1], dtype="float32")
    history = top.fit(train_data, labels, epochs=5, batch_size=6, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_model_without_the_classifier_from_base_layers():
    base = A.VGG16(weights=None, input_shape=(32, 32, 3), classes=10)
    model = tkeras.Model(base.input, base.layers[-2].output)
    assert base.layers[-2].name == "fc2" and model.output_shape == (None, 4096)
    x = A.vgg16.preprocess_input(_images(2, 32))
    fc2 = tkeras.Model(base.input, base.get_layer("fc2").output).predict(x, verbose=0)
    np.testing.assert_allclose(model.predict(x, verbose=0), fc2, rtol=1e-6)
    assert base.get_layer("block5_conv3").output_shape == (None, 2, 2, 512)


def test_input_tensor_from_another_layer():
    inp = layers.Input((40, 40, 3))
    resized = layers.Cropping2D(((4, 4), (4, 4)))(inp)
    model = A.MobileNetV2(weights=None, input_tensor=resized, include_top=False, pooling="avg",
                          alpha=0.35)
    assert model.inputs[0] is inp
    assert model.predict(_images(2, 40), verbose=0).shape == (2, 1280)


# ---------------------------------------------------------------- Keras's checks

def _meta(fn, **kwargs):
    with torch.device("meta"):
        return fn(**kwargs)


@pytest.mark.parametrize("fn,kwargs,message", [
    (A.VGG16, {"weights": "no/such/file.h5"},
     "The `weights` argument should be either `None` (random initialization), `imagenet` "
     "(pre-training on ImageNet), or the path to the weights file to be loaded.  Received: "
     "weights=no/such/file.h5"),
    (A.ResNet50, {"weights": "imagenet", "classes": 10},
     'If using `weights` as `"imagenet"` with `include_top` as true, `classes` should be 1000.'),
    (A.ResNet50, {"weights": "imagenet", "classifier_activation": "relu"},
     "Only `None` and `softmax` activations are allowed for the `classifier_activation` "
     "argument when using pretrained weights"),
    (A.Xception, {"weights": None, "include_top": False, "input_shape": (70, 80, 3)},
     "Input size must be at least 71x71; Received: input_shape=(70, 80, 3)"),
    (A.InceptionV3, {"weights": None, "include_top": False, "input_shape": (74, 80, 3)},
     "Input size must be at least 75x75"),
    (A.VGG16, {"weights": "imagenet", "input_shape": (128, 128, 3)},
     "When setting `include_top=True` and loading `imagenet` weights, `input_shape` should be "
     "(224, 224, 3)."),
    (A.MobileNet, {"weights": "imagenet", "alpha": 0.3},
     "If imagenet weights are being loaded, alpha can be one of`0.25`, `0.50`, `0.75` or "
     "`1.0` only.  Received alpha=0.3"),
    (A.MobileNet, {"weights": "imagenet", "depth_multiplier": 2},
     "If imagenet weights are being loaded, depth multiplier must be 1.  Received "
     "depth_multiplier=2"),
    (A.MobileNetV2, {"weights": "imagenet", "alpha": 0.6},
     "If imagenet weights are being loaded, alpha must be one of `0.35`, `0.50`, `0.75`, "
     "`1.0`, `1.3` or `1.4` only; Received `alpha=0.6`"),
    (A.MobileNetV3Small, {"weights": "imagenet", "alpha": 0.75, "minimalistic": True},
     "If imagenet weights are being loaded, alpha can be one of `0.75`, `1.0` for non "
     "minimalistic or `1.0` for minimalistic only."),
    (A.MobileNetV3Large, {"weights": None, "input_shape": (16, 16, 3)},
     "Input size must be at least 32x32; Received `input_shape=(16, 16, 3)`"),
    (A.NASNetMobile, {"weights": "imagenet", "include_top": False, "input_shape": (None, 96, 3)},
     "When specifying the input shape of a NASNet and loading `ImageNet` weights, the "
     "input_shape argument must be static (no None entries)."),
    (A.DenseNet121, {"weights": None, "input_tensor": np.zeros((1, 32, 32, 3))},
     "`input_tensor` should be a Keras tensor"),
    (A.EfficientNetB0, {"weights": None, "input_shape": (None, None, 3)},
     "If `include_top` is True, you should specify a static `input_shape`."),
])
def test_argument_errors(fn, kwargs, message):
    with pytest.raises(ValueError) as info:
        _meta(fn, **kwargs)
    assert message in str(info.value)


def test_model_specific_arguments():
    m = _meta(A.MobileNetV3Small, weights=None, include_preprocessing=False, dropout_rate=0.0)
    assert not any(layer.name.startswith(("rescaling", "dropout")) for layer in m.layers)
    m = _meta(A.EfficientNetV2B0, weights=None, include_preprocessing=False)
    assert not any(layer.name.startswith("rescaling") for layer in m.layers)
    m = _meta(A.EfficientNetV2S, weights=None, include_top=False)
    assert [type(layer).__name__ for layer in m.layers[1:2]] == ["Rescaling"]
    m = _meta(A.MobileNet, weights=None, dropout=0.5, classes=7, input_shape=(128, 128, 3),
              depth_multiplier=2, classifier_activation=None)
    assert m.get_layer("dropout").rate == 0.5 and m.output_shape == (None, 7)
    assert m.get_layer("conv_dw_1").depth_multiplier == 2
    assert m.get_layer("predictions").activation is tkeras.activations.linear
    assert m.name == "mobilenet_1.00_128"
    m = _meta(A.EfficientNetB0, weights=None, classes=5, drop_connect_rate=0.0)
    assert not any(layer.name.endswith("drop") for layer in m.layers)
    m = _meta(A.ConvNeXtTiny, weights=None, include_top=False, pooling="max",
              input_shape=(64, 64, 3))
    assert m.output_shape == (None, 768)


def test_channels_first_models():
    tkeras.backend.set_image_data_format("channels_first")
    try:
        model = A.MobileNetV2(weights=None, include_top=False, input_shape=(3, 32, 32),
                              pooling="avg", alpha=0.35)
        x = np.random.RandomState(0).rand(2, 3, 32, 32).astype("float32")
        assert model.predict(x, verbose=0).shape == (2, 1280)
        m = _meta(A.DenseNet121, weights=None, include_top=False, input_shape=(3, 32, 32))
        assert m.output_shape == (None, 1024, 1, 1)
        m = _meta(A.ResNet50, weights=None, include_top=False, input_shape=(3, 64, 64))
        assert m.output_shape == (None, 2048, 2, 2)
    finally:
        tkeras.backend.set_image_data_format("channels_last")


# ---------------------------------------------------------------- one model per family
# (the keras_reference families are checked layer by layer; these are the others)

@pytest.mark.parametrize("fn,size,kwargs", [
    (A.MobileNet, 32, {"alpha": 0.25}), (A.MobileNetV3Small, 32, {}), (A.EfficientNetB0, 32, {}),
    (A.ConvNeXtTiny, 32, {}), (A.RegNetY002, 32, {}), (A.ResNet50V2, 32, {}),
])
def test_forward_pass(fn, size, kwargs):
    model = fn(weights=None, input_shape=(size, size, 3), classes=10, **kwargs)
    preds = model.predict(_images(2, size), verbose=0)
    assert preds.shape == (2, 10) and np.isfinite(preds).all()
    if fn is not A.RegNetY002:  # Keras's RegNet head outputs logits
        np.testing.assert_allclose(preds.sum(axis=1), 1.0, rtol=1e-5)


def test_models_with_the_applications_own_layers_save_and_load(tmp_path):
    from tkeras.applications.convnext import LayerScale, StochasticDepth
    from tkeras.applications.inception_resnet_v2 import CustomScaleLayer
    inp = layers.Input((4, 4, 8))
    x = LayerScale(0.5, 8)(inp)
    x = StochasticDepth(0.1)(x)
    out = CustomScaleLayer(0.2)([inp, x])
    model = tkeras.Model(inp, out)
    data = np.random.RandomState(0).rand(2, 4, 4, 8).astype("float32")
    np.testing.assert_allclose(model.predict(data, verbose=0), data + data * 0.5 * 0.2,
                               rtol=1e-6)
    for name in ("model.h5", "model.keras"):
        model.save(str(tmp_path / name))
        loaded = tkeras.models.load_model(str(tmp_path / name))
        assert [type(layer).__name__ for layer in loaded.layers] == \
            ["InputLayer", "LayerScale", "StochasticDepth", "CustomScaleLayer"]
        np.testing.assert_allclose(loaded.predict(data, verbose=0),
                                   model.predict(data, verbose=0), rtol=1e-6)


def test_stochastic_depth_drops_whole_samples_in_training():
    from tkeras.applications.convnext import StochasticDepth
    torch.manual_seed(0)
    x = torch.ones(64, 3, 3, 2)
    out = StochasticDepth(0.5)(x, training=True)
    per_sample = out.reshape(64, -1)
    assert set(per_sample.unique().tolist()) <= {0.0, 2.0}
    assert (per_sample == per_sample[:, :1]).all()  # one draw per sample
    assert 0 < (per_sample[:, 0] == 0).sum() < 64
    assert torch.equal(StochasticDepth(0.5)(x, training=False), x)
