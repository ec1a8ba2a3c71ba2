"""Every application builds (weights=None) with Keras's parameter count.

Counts come from Keras's documentation table (keras.io/api/applications: exact counts;
EfficientNetV2 in millions, rounded to 0.1M). ConvNeXt, RegNet and MobileNetV3 have no
published counts: they are computed here from the layer recipe of tf-keras's sources
(kernel, bias and BatchNormalization's 4 values per channel), independently of the model
code. Models build on the meta device: shapes and counts without allocating weights.
"""
import pytest
import torch

import tkeras
from tkeras import applications as A

KERAS_DOC_COUNTS = {
    "Xception": 22_910_480, "VGG16": 138_357_544, "VGG19": 143_667_240,
    "ResNet50": 25_636_712, "ResNet101": 44_707_176, "ResNet152": 60_419_944,
    "ResNet50V2": 25_613_800, "ResNet101V2": 44_675_560, "ResNet152V2": 60_380_648,
    "InceptionV3": 23_851_784, "InceptionResNetV2": 55_873_736, "MobileNet": 4_253_864,
    "MobileNetV2": 3_538_984, "DenseNet121": 8_062_504, "DenseNet169": 14_307_880,
    "DenseNet201": 20_242_984, "NASNetMobile": 5_326_716, "NASNetLarge": 88_949_818,
    "EfficientNetB0": 5_330_571, "EfficientNetB1": 7_856_239, "EfficientNetB2": 9_177_569,
    "EfficientNetB3": 12_320_535, "EfficientNetB4": 19_466_823, "EfficientNetB5": 30_562_527,
    "EfficientNetB6": 43_265_143, "EfficientNetB7": 66_658_687,
}
KERAS_DOC_MILLIONS = {
    "EfficientNetV2B0": 7.2, "EfficientNetV2B1": 8.2, "EfficientNetV2B2": 10.2,
    "EfficientNetV2B3": 14.5, "EfficientNetV2S": 21.6, "EfficientNetV2M": 54.4,
    "EfficientNetV2L": 119.0,
}


def _meta_build(name, **kwargs):
    tkeras.backend.clear_session()
    with torch.device("meta"):
        return getattr(A, name)(weights=None, **kwargs)


# keras_reference covers these at full size, layer by layer (test_applications_reference.py)
IN_KERAS_REFERENCE = {"Xception", "VGG16", "VGG19", "ResNet50", "InceptionV3",
                      "InceptionResNetV2", "MobileNet", "DenseNet121", "DenseNet169",
                      "DenseNet201", "NASNetMobile"}


@pytest.mark.parametrize("name", sorted(set(KERAS_DOC_COUNTS) - IN_KERAS_REFERENCE))
def test_parameter_count_equals_keras_documentation(name):
    assert _meta_build(name).count_params() == KERAS_DOC_COUNTS[name]


@pytest.mark.parametrize("name", sorted(KERAS_DOC_MILLIONS))
def test_efficientnet_v2_parameter_count_rounds_to_keras_documentation(name):
    count = _meta_build(name).count_params()
    assert round(count / 1e6, 1) == KERAS_DOC_MILLIONS[name]


# ---------------------------------------------------------------- ConvNeXt (convnext.py)

CONVNEXT = {"Tiny": ([3, 3, 9, 3], [96, 192, 384, 768]),
            "Small": ([3, 3, 27, 3], [96, 192, 384, 768]),
            "Base": ([3, 3, 27, 3], [128, 256, 512, 1024]),
            "Large": ([3, 3, 27, 3], [192, 384, 768, 1536]),
            "XLarge": ([3, 3, 27, 3], [256, 512, 1024, 2048])}


def _convnext_count(depths, dims, classes=1000):
    n = 4 * 4 * 3 * dims[0] + dims[0] + 2 * dims[0]  # stem conv + layernorm
    for i in range(1, 4):  # downsampling: layernorm + 2x2 conv
        n += 2 * dims[i - 1] + 2 * 2 * dims[i - 1] * dims[i] + dims[i]
    for depth, d in zip(depths, dims):
        # depthwise 7x7 (+bias), layernorm, dense d->4d, dense 4d->d, layer scale
        n += depth * ((49 * d + d) + 2 * d + (d * 4 * d + 4 * d) + (4 * d * d + d) + d)
    return n + 2 * dims[-1] + dims[-1] * classes + classes  # head layernorm + dense


@pytest.mark.parametrize("size", sorted(CONVNEXT))
def test_convnext_parameter_count(size):
    assert _meta_build("ConvNeXt" + size).count_params() == _convnext_count(*CONVNEXT[size])


# ---------------------------------------------------------------- RegNet (regnet.py)

REGNET = {  # depths, widths, group width (tf-keras MODEL_CONFIGS)
    "X002": ([1, 1, 4, 7], [24, 56, 152, 368], 8), "X004": ([1, 2, 7, 12], [32, 64, 160, 384], 16),
    "X006": ([1, 3, 5, 7], [48, 96, 240, 528], 24), "X008": ([1, 3, 7, 5], [64, 128, 288, 672], 16),
    "X016": ([2, 4, 10, 2], [72, 168, 408, 912], 24),
    "X032": ([2, 6, 15, 2], [96, 192, 432, 1008], 48),
    "X040": ([2, 5, 14, 2], [80, 240, 560, 1360], 40),
    "X064": ([2, 4, 10, 1], [168, 392, 784, 1624], 56),
    "X080": ([2, 5, 15, 1], [80, 240, 720, 1920], 120),
    "X120": ([2, 5, 11, 1], [224, 448, 896, 2240], 112),
    "X160": ([2, 6, 13, 1], [256, 512, 896, 2048], 128),
    "X320": ([2, 7, 13, 1], [336, 672, 1344, 2520], 168),
    "Y002": ([1, 1, 4, 7], [24, 56, 152, 368], 8), "Y004": ([1, 3, 6, 6], [48, 104, 208, 440], 8),
    "Y006": ([1, 3, 7, 4], [48, 112, 256, 608], 16),
    "Y008": ([1, 3, 8, 2], [64, 128, 320, 768], 16),
    "Y016": ([2, 6, 17, 2], [48, 120, 336, 888], 24),
    "Y032": ([2, 5, 13, 1], [72, 216, 576, 1512], 24),
    "Y040": ([2, 6, 12, 2], [128, 192, 512, 1088], 64),
    "Y064": ([2, 7, 14, 2], [144, 288, 576, 1296], 72),
    "Y080": ([2, 4, 10, 1], [168, 448, 896, 2016], 56),
    "Y120": ([2, 5, 11, 1], [224, 448, 896, 2240], 112),
    "Y160": ([2, 4, 11, 1], [224, 448, 1232, 3024], 112),
    "Y320": ([2, 5, 12, 1], [232, 696, 1392, 3712], 232),
}


def _regnet_count(depths, widths, group_width, se, classes=1000):
    bn = 4  # gamma, beta, moving mean, moving variance per channel
    n = 3 * 3 * 3 * 32 + bn * 32  # stem conv (no bias) + BN
    fin = 32
    for depth, fout in zip(depths, widths):
        for i in range(depth):
            stride = 2 if i == 0 else 1
            groups = max(fout // group_width, 1)
            if stride != 1:
                n += fin * fout + bn * fout  # skip 1x1 + BN
            n += fin * fout + bn * fout  # 1x1
            n += 9 * (fout // groups) * fout + bn * fout  # grouped 3x3
            if se:
                s = int(fin * 0.25)
                n += fout * s + s + s * fout + fout  # squeeze, excite (with biases)
            n += fout * fout + bn * fout  # 1x1
            fin = fout
    return n + widths[-1] * classes + classes


@pytest.mark.parametrize("key", sorted(REGNET))
def test_regnet_parameter_count(key):
    depths, widths, gw = REGNET[key]
    expected = _regnet_count(depths, widths, gw, se=key.startswith("Y"))
    assert _meta_build("RegNet" + key).count_params() == expected


# ---------------------------------------------------------------- MobileNetV3 (mobilenet_v3.py)

def _depth(v, divisor=8):
    new_v = max(divisor, int(v + divisor / 2) // divisor * divisor)
    return new_v + divisor if new_v < 0.9 * v else new_v


# (expansion, filters, kernel ("k": 5, or 3 when minimalistic), stride, squeeze-excite)
V3_SMALL = [(1, 16, 3, 2, True), (72 / 16, 24, 3, 2, False), (88 / 24, 24, 3, 1, False),
            (4, 40, "k", 2, True), (6, 40, "k", 1, True), (6, 40, "k", 1, True),
            (3, 48, "k", 1, True), (3, 48, "k", 1, True), (6, 96, "k", 2, True),
            (6, 96, "k", 1, True), (6, 96, "k", 1, True)]
V3_LARGE = [(1, 16, 3, 1, False), (4, 24, 3, 2, False), (3, 24, 3, 1, False),
            (3, 40, "k", 2, True), (3, 40, "k", 1, True), (3, 40, "k", 1, True),
            (6, 80, 3, 2, False), (2.5, 80, 3, 1, False), (2.3, 80, 3, 1, False),
            (2.3, 80, 3, 1, False), (6, 112, 3, 1, True), (6, 112, 3, 1, True),
            (6, 160, "k", 2, True), (6, 160, "k", 1, True), (6, 160, "k", 1, True)]


def _mobilenet_v3_count(plan, last_point, alpha, minimalistic, classes=1000):
    bn = 4
    n = 3 * 3 * 3 * 16 + bn * 16
    infilters = 16
    for block_id, (expansion, filters, k, _, se) in enumerate(plan):
        k = (3 if minimalistic else 5) if k == "k" else k
        filters = _depth(filters * alpha)
        expanded = _depth(infilters * expansion)
        if block_id:
            n += infilters * expanded + bn * expanded
        n += k * k * expanded + bn * expanded
        if se and not minimalistic:
            s = _depth(expanded * 0.25)
            n += expanded * s + s + s * expanded + expanded
        n += expanded * filters + bn * filters
        infilters = filters
    last_conv = _depth(infilters * 6)
    n += infilters * last_conv + bn * last_conv
    if alpha > 1.0:
        last_point = _depth(last_point * alpha)
    return n + last_conv * last_point + last_point + last_point * classes + classes


@pytest.mark.parametrize("name,plan,last_point", [("MobileNetV3Small", V3_SMALL, 1024),
                                                  ("MobileNetV3Large", V3_LARGE, 1280)])
@pytest.mark.parametrize("alpha,minimalistic", [(1.0, False), (0.75, False), (1.0, True)])
def test_mobilenet_v3_parameter_count(name, plan, last_point, alpha, minimalistic):
    model = _meta_build(name, alpha=alpha, minimalistic=minimalistic)
    assert model.count_params() == _mobilenet_v3_count(plan, last_point, alpha, minimalistic)


def test_every_keras_application_is_exported():
    names = set(KERAS_DOC_COUNTS) | set(KERAS_DOC_MILLIONS) | \
        {"ConvNeXt" + s for s in CONVNEXT} | {"RegNet" + k for k in REGNET} | \
        {"MobileNetV3Small", "MobileNetV3Large"}
    assert len(names) == 64
    assert all(callable(getattr(A, n)) for n in names)
    assert {n for n in dir(A) if n[0].isupper()} == names
