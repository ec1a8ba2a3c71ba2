"""ImageDataGenerator's random parameters and transforms: Keras's np.random order, the
scipy path against transforms computed here, and the torch batch path against scipy."""
import numpy as np
import pytest
import torch

pytest.importorskip("scipy")
pytest.importorskip("PIL")
from scipy import ndimage  # noqa: E402

from tkeras.preprocessing import image as kimage  # noqa: E402
from tkeras.preprocessing.image import ImageDataGenerator, apply_transform_batch  # noqa: E402

FULL = dict(rotation_range=30, width_shift_range=0.2, height_shift_range=0.1, shear_range=15,
            zoom_range=(0.8, 1.3), channel_shift_range=0.3, brightness_range=(0.5, 1.5),
            horizontal_flip=True, vertical_flip=True)


def test_random_parameters_follow_keras_draw_order():
    gen = ImageDataGenerator(**FULL)
    params = gen.get_random_transform((20, 30, 3), seed=11)
    np.random.seed(11)  # Keras's order, drawn here independently
    theta = np.random.uniform(-30, 30)
    tx = np.random.uniform(-0.1, 0.1) * 20
    ty = np.random.uniform(-0.2, 0.2) * 30
    shear = np.random.uniform(-15, 15)
    zx, zy = np.random.uniform(0.8, 1.3, 2)
    flip_h, flip_v = np.random.random() < 0.5, np.random.random() < 0.5
    channel = np.random.uniform(-0.3, 0.3)
    brightness = np.random.uniform(0.5, 1.5)
    assert params == {"theta": theta, "tx": tx, "ty": ty, "shear": shear, "zx": zx, "zy": zy,
                      "flip_horizontal": flip_h, "flip_vertical": flip_v,
                      "channel_shift_intensity": channel, "brightness": brightness}


def test_random_parameters_defaults_and_int_and_list_shifts():
    assert ImageDataGenerator().get_random_transform((8, 8, 3)) == {
        "theta": 0, "tx": 0, "ty": 0, "shear": 0, "zx": 1, "zy": 1, "flip_horizontal": False,
        "flip_vertical": False, "channel_shift_intensity": None, "brightness": None}
    gen = ImageDataGenerator(width_shift_range=3, height_shift_range=[2.0, 5.0],
                             data_format="channels_first")
    params = gen.get_random_transform((3, 10, 10), seed=4)
    np.random.seed(4)
    tx = np.random.choice([2.0, 5.0]) * np.random.choice([-1, 1])  # pixels (max >= 1)
    ty = np.random.choice(3) * np.random.choice([-1, 1])
    assert (params["tx"], params["ty"]) == (tx, ty)
    frac = ImageDataGenerator(height_shift_range=[0.25]).get_random_transform((8, 8, 1), seed=0)
    assert abs(frac["tx"]) == 2.0  # a fraction (< 1) of the height


def _keras_coordinates(h, w, theta=0, tx=0, ty=0, shear=0, zx=1, zy=1):
    """Input (row, col) of each output pixel, from keras-preprocessing's documented
    composition rotation @ shift @ shear @ zoom about (h/2 + 0.5, w/2 + 0.5)."""
    t, s = np.deg2rad(theta), np.deg2rad(shear)
    rot = np.array([[np.cos(t), -np.sin(t), 0], [np.sin(t), np.cos(t), 0], [0, 0, 1]])
    shift = np.array([[1, 0, tx], [0, 1, ty], [0, 0, 1]])
    sh = np.array([[1, -np.sin(s), 0], [0, np.cos(s), 0], [0, 0, 1]])
    zoom = np.diag([zx, zy, 1.0])
    m = rot @ shift @ sh @ zoom
    o = np.array([h / 2 + 0.5, w / 2 + 0.5])
    r, c = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    pts = np.stack([r - o[0], c - o[1]])
    return np.einsum("ij,jhw->ihw", m[:2, :2], pts) + (m[:2, 2] + o)[:, None, None]


@pytest.mark.parametrize("mode", ["nearest", "constant", "reflect", "wrap"])
def test_apply_affine_transform_matches_keras_geometry(mode):
    rng = np.random.default_rng(1)
    x = rng.random((9, 12, 2)).astype("float32")
    kw = dict(theta=25, tx=1.5, ty=-2.25, shear=10, zx=0.9, zy=1.2)
    out = kimage.apply_affine_transform(x, **kw, fill_mode=mode, cval=-1.0)
    coords = _keras_coordinates(9, 12, **kw)
    for ch in range(2):
        expected = ndimage.map_coordinates(x[..., ch], coords, order=1, mode=mode, cval=-1.0)
        np.testing.assert_allclose(out[..., ch], expected, atol=1e-6)


def test_integer_shift_moves_rows_and_columns():
    x = np.arange(5 * 6, dtype="float32").reshape(5, 6, 1)
    out = kimage.apply_affine_transform(x, tx=2, ty=1, fill_mode="constant", cval=-1)
    expected = np.full_like(x, -1)
    expected[:3, :5] = x[2:, 1:]  # out[r, c] = in[r + tx, c + ty]
    np.testing.assert_array_equal(out, expected)
    assert kimage.apply_affine_transform(x) is x  # identity: untouched


def test_flips_channel_shift_and_brightness():
    x = np.arange(2 * 3 * 3, dtype="float32").reshape(2, 3, 3)
    gen = ImageDataGenerator()
    out = gen.apply_transform(x, {"flip_horizontal": True, "flip_vertical": True,
                                  "channel_shift_intensity": 4.0})
    np.testing.assert_array_equal(out, np.clip(x + 4.0, 0, 17)[::-1, ::-1])
    from PIL import Image, ImageEnhance
    img = (np.random.default_rng(0).random((4, 5, 3)) * 2 - 1).astype("float32")
    scaled = ((img - img.min()) / (img.max() - img.min()) * 255).astype("uint8")
    expected = np.asarray(ImageEnhance.Brightness(Image.fromarray(scaled)).enhance(1.3), "float32")
    np.testing.assert_array_equal(gen.apply_transform(img, {"brightness": 1.3}), expected)


def test_random_functions_draw_then_transform():
    x = np.random.default_rng(2).random((3, 10, 8)).astype("float32")  # channels first
    np.random.seed(5)
    out = kimage.random_rotation(x, 40, fill_mode="reflect")
    np.random.seed(5)
    theta = np.random.uniform(-40, 40)
    expected = kimage.apply_affine_transform(x, theta=theta, row_axis=1, col_axis=2,
                                             channel_axis=0, fill_mode="reflect")
    np.testing.assert_allclose(out, expected)
    coords = _keras_coordinates(10, 8, theta=theta)  # centred on the image, not the channels
    np.testing.assert_allclose(out[0], ndimage.map_coordinates(x[0], coords, order=1,
                                                               mode="reflect"), atol=1e-6)
    np.random.seed(6)
    out = kimage.random_shift(x, 0.2, 0.1)
    np.random.seed(6)
    tx, ty = np.random.uniform(-0.1, 0.1) * 10, np.random.uniform(-0.2, 0.2) * 8
    np.testing.assert_allclose(out, kimage.apply_affine_transform(x, tx=tx, ty=ty, row_axis=1,
                                                                  col_axis=2, channel_axis=0))
    np.random.seed(7)
    out = kimage.random_shear(x, 20)
    np.random.seed(7)
    np.testing.assert_allclose(out, kimage.apply_affine_transform(
        x, shear=np.random.uniform(-20, 20), row_axis=1, col_axis=2, channel_axis=0))
    np.random.seed(8)
    out = kimage.random_zoom(x, (0.7, 1.1))
    np.random.seed(8)
    zx, zy = np.random.uniform(0.7, 1.1, 2)
    np.testing.assert_allclose(out, kimage.apply_affine_transform(
        x, zx=zx, zy=zy, row_axis=1, col_axis=2, channel_axis=0))
    np.random.seed(9)
    out = kimage.random_channel_shift(x, 0.5)
    np.random.seed(9)
    np.testing.assert_allclose(out, np.clip(x + np.random.uniform(-0.5, 0.5), x.min(), x.max()))
    hwc = np.moveaxis(x, 0, 2)
    np.random.seed(10)
    out = kimage.random_brightness(hwc, (0.5, 0.9))
    np.random.seed(10)
    np.testing.assert_array_equal(out, kimage.apply_brightness_shift(
        hwc, np.random.uniform(0.5, 0.9)))
    with pytest.raises(ValueError, match="`zoom_range` should be a tuple or list of two floats"):
        kimage.random_zoom(x, (0.5,))
    with pytest.raises(ValueError, match="`brightness_range should be tuple or list of two"):
        kimage.random_brightness(hwc, (0.5, 1, 2))


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("mode", ["nearest", "constant", "reflect", "wrap"])
def test_batch_path_matches_scipy_path(mode, data_format):
    """The torch batch path and Keras's per-image scipy path agree to 1e-5 (values in
    [0, 1]; brightness output in [0, 255], compared exactly up to one uint8 step)."""
    gen = ImageDataGenerator(**dict(FULL, brightness_range=None), fill_mode=mode, cval=0.25,
                             data_format=data_format)
    rng = np.random.default_rng(3)
    shape = (12, 11, 9, 3) if data_format == "channels_last" else (12, 3, 11, 9)
    x = rng.random(shape).astype("float32")
    np.random.seed(0)
    params = [gen.get_random_transform(x.shape[1:]) for _ in x]
    params[0] = {}  # an identity in the batch stays exact
    expected = np.stack([gen.apply_transform(im, p) for im, p in zip(x, params)])
    got = apply_transform_batch(torch.from_numpy(x), params, gen.channel_axis, mode, 0.25)
    np.testing.assert_allclose(got.numpy(), expected, atol=1e-5)
    np.testing.assert_array_equal(got.numpy()[0], x[0])
    bright = [dict(p, brightness=f) for p, f in zip(params, np.linspace(0.4, 1.8, len(x)))]
    if data_format == "channels_last":  # Keras's brightness reads channels-last images
        expected = np.stack([gen.apply_transform(im, p) for im, p in zip(x, bright)])
        got = apply_transform_batch(torch.from_numpy(x), bright, 3, mode, 0.25).numpy()
        assert np.abs(got - expected).max() <= 1.0
        assert np.mean(got != expected) < 0.01


def test_batch_augment_generator_matches_keras_path():
    x = np.random.default_rng(4).random((10, 8, 8, 3)).astype("float32")
    kw = dict(FULL, brightness_range=None, rescale=2.0, samplewise_center=True,
              samplewise_std_normalization=True)
    slow = ImageDataGenerator(**kw).flow(x, np.arange(10), batch_size=4, seed=3)
    fast = ImageDataGenerator(**kw, batch_augment="cpu").flow(x, np.arange(10), batch_size=4,
                                                              seed=3)
    for i in range(len(slow)):
        (xs, ys), (xf, yf) = slow[i], fast[i]
        assert isinstance(xf, np.ndarray) and xf.dtype == np.float32
        np.testing.assert_array_equal(ys, yf)
        np.testing.assert_allclose(xf, xs, atol=1e-4)
    with_fn = ImageDataGenerator(rotation_range=10, preprocessing_function=lambda im: im * 3,
                                 batch_augment=True)
    plain = ImageDataGenerator(rotation_range=10, preprocessing_function=lambda im: im * 3)
    a = with_fn.flow(x, batch_size=5, seed=1, shuffle=False)[1]
    b = plain.flow(x, batch_size=5, seed=1, shuffle=False)[1]
    np.testing.assert_allclose(a.cpu().numpy() if torch.is_tensor(a) else a, b, atol=1e-4)


def test_generator_argument_errors():
    with pytest.raises(ValueError, match='`data_format` should be `"channels_last"`'):
        ImageDataGenerator(data_format="channels_middle")
    with pytest.raises(ValueError, match="`validation_split` must be strictly between 0 and 1"):
        ImageDataGenerator(validation_split=1.5)
    with pytest.raises(ValueError, match="`zoom_range` should be a float or a tuple or list of"):
        ImageDataGenerator(zoom_range=(0.5, 1.0, 2.0))
    with pytest.raises(ValueError, match="`brightness_range should be tuple or list of two"):
        ImageDataGenerator(brightness_range=0.5)
    with pytest.raises(ValueError, match="`fill_mode` must be one of constant, nearest, reflect"):
        ImageDataGenerator(fill_mode="mirror")
    with pytest.raises(ValueError, match="`batch_augment` interpolates bilinearly"):
        ImageDataGenerator(batch_augment=True, interpolation_order=0)
    with pytest.raises(ValueError, match="`batch_augment` must be False, True, 'auto' or a torch"):
        ImageDataGenerator(batch_augment="gpu please")
    gen = ImageDataGenerator(zoom_range=0.25)
    assert gen.zoom_range == [0.75, 1.25]


def test_implied_flags_warn():
    from tkeras.utils import TkerasWarning
    with pytest.warns(TkerasWarning, match="`featurewise_std_normalization`, which overrides"):
        gen = ImageDataGenerator(featurewise_std_normalization=True)
    assert gen.featurewise_center
    with pytest.warns(TkerasWarning, match="`samplewise_std_normalization`, which overrides"):
        assert ImageDataGenerator(samplewise_std_normalization=True).samplewise_center
    with pytest.warns(TkerasWarning, match="`zca_whitening`, which overrides"):
        assert ImageDataGenerator(zca_whitening=True).featurewise_center
    with pytest.warns(TkerasWarning, match="hasn't been fit on any training data"):
        ImageDataGenerator(featurewise_center=True).standardize(np.ones((2, 2, 1)))


def test_fit_rescale_augment_rounds_seed():
    x = np.random.default_rng(5).random((6, 5, 5, 3)).astype("float32") * 255
    gen = ImageDataGenerator(featurewise_center=True, rescale=1 / 255.0)
    gen.fit(x)
    np.testing.assert_allclose(gen.mean.ravel(), (x / 255.0).mean(axis=(0, 1, 2)), rtol=1e-5)
    assert gen.mean.shape == (1, 1, 3)
    aug = ImageDataGenerator(featurewise_center=True, featurewise_std_normalization=True,
                             rotation_range=30, horizontal_flip=True)
    aug.fit(x, augment=True, rounds=3, seed=2)
    np.random.seed(2)  # the same transforms, drawn here: 3 rounds over the 6 images
    copies = np.stack([aug.random_transform(x[i]) for _ in range(3) for i in range(6)])
    np.testing.assert_allclose(aug.mean.ravel(), copies.mean(axis=(0, 1, 2)), rtol=1e-4)
    np.testing.assert_allclose(aug.std.ravel(), copies.std(axis=(0, 1, 2)), rtol=1e-4)
    with pytest.raises(ValueError, match="Input to `.fit\\(\\)` should have rank 4"):
        gen.fit(x[0])


def test_interpolation_order_and_dtype():
    x = np.random.default_rng(6).random((7, 9, 1)).astype("float32")
    gen = ImageDataGenerator(interpolation_order=0, fill_mode="constant", cval=2.0)
    out = gen.apply_transform(x, {"theta": 33.0, "zx": 1.1})
    coords = _keras_coordinates(7, 9, theta=33.0, zx=1.1)
    expected = ndimage.map_coordinates(x[..., 0], coords, order=0, mode="constant", cval=2.0)
    np.testing.assert_allclose(out[..., 0], expected, atol=1e-6)
    batch = ImageDataGenerator(dtype="float64", rotation_range=5).flow(
        np.ones((3, 4, 4, 3), "float32"), np.arange(3))[0]
    assert batch[0].dtype == np.float64
    fast = ImageDataGenerator(dtype="float16", rotation_range=5, batch_augment="cpu").flow(
        np.ones((3, 4, 4, 3), "float32"))[0]
    assert fast.dtype == np.float16


@pytest.mark.parametrize("mode", ["nearest", "constant", "reflect", "wrap"])
def test_batch_path_tolerance_on_larger_images(mode):
    gen = ImageDataGenerator(**dict(FULL, brightness_range=None, channel_shift_range=0),
                             fill_mode=mode)
    x = np.random.default_rng(8).random((2, 90, 72, 3)).astype("float32") * 255
    np.random.seed(2)
    params = [gen.get_random_transform(x.shape[1:]) for _ in x]
    expected = np.stack([gen.apply_transform(im, p) for im, p in zip(x, params)])
    got = apply_transform_batch(torch.from_numpy(x), params, 3, mode).numpy()
    np.testing.assert_allclose(got, expected, atol=5e-5 * 255)
