"""load_img / img_to_array / array_to_img / save_img / list_pictures."""
import io

import numpy as np
import pytest

pytest.importorskip("PIL")
from PIL import Image  # noqa: E402

from tkeras.preprocessing import image as kimage  # noqa: E402
from tkeras.utils import TkerasDeprecationWarning  # noqa: E402


@pytest.fixture
def rgb_file(tmp_path):
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, size=(6, 8, 3), dtype=np.uint8)
    path = tmp_path / "img.png"
    Image.fromarray(pixels, "RGB").save(path)
    return path, pixels


def test_load_img_modes_and_resize(rgb_file):
    path, pixels = rgb_file
    img = kimage.load_img(str(path))
    assert img.mode == "RGB" and img.size == (8, 6)
    np.testing.assert_array_equal(kimage.img_to_array(img), pixels.astype("float32"))
    gray = kimage.load_img(path, color_mode="grayscale")
    expected = np.asarray(Image.fromarray(pixels).convert("L"), dtype="float32")[..., None]
    np.testing.assert_array_equal(kimage.img_to_array(gray), expected)
    with pytest.warns(TkerasDeprecationWarning, match='grayscale is deprecated'):
        assert kimage.load_img(path, grayscale=True).mode == "L"
    assert kimage.load_img(path, color_mode="rgba").mode == "RGBA"
    for method, pil in (("nearest", Image.NEAREST), ("bilinear", Image.BILINEAR),
                        ("bicubic", Image.BICUBIC), ("lanczos", Image.LANCZOS),
                        ("box", Image.BOX), ("hamming", Image.HAMMING)):
        small = kimage.load_img(path, target_size=(3, 5), interpolation=method)
        assert small.size == (5, 3)
        np.testing.assert_array_equal(np.asarray(small), np.asarray(
            Image.fromarray(pixels).resize((5, 3), pil)), err_msg=method)
    with open(path, "rb") as f:
        from_bytes = kimage.load_img(io.BytesIO(f.read()))
    np.testing.assert_array_equal(np.asarray(from_bytes), pixels)
    with pytest.raises(ValueError, match='Invalid interpolation method cubic specified'):
        kimage.load_img(path, target_size=(3, 5), interpolation="cubic")
    with pytest.raises(ValueError, match='color_mode must be "grayscale", "rgb", or "rgba"'):
        kimage.load_img(path, color_mode="hsv")


def test_array_img_round_trips(tmp_path):
    x = np.random.default_rng(1).random((4, 5, 3)).astype("float32")
    img = kimage.array_to_img(x)
    assert img.mode == "RGB" and img.size == (5, 4)
    scaled = ((x - x.min()) / (x.max() - x.min()) * 255).astype("uint8")
    np.testing.assert_array_equal(np.asarray(img), scaled)
    raw = kimage.array_to_img(x * 255, scale=False)
    np.testing.assert_array_equal(np.asarray(raw), (x * 255).astype("uint8"))
    first = kimage.img_to_array(img, data_format="channels_first")
    assert first.shape == (3, 4, 5)
    back = kimage.array_to_img(first, data_format="channels_first", scale=False)
    np.testing.assert_array_equal(np.asarray(back), scaled)
    assert kimage.array_to_img(x[..., :1]).mode == "L"
    assert kimage.array_to_img(np.full((2, 2, 1), 1000.0), scale=False).mode == "I"
    assert kimage.array_to_img(np.ones((2, 2, 4))).mode == "RGBA"
    gray = kimage.img_to_array(kimage.array_to_img(x[..., :1]), data_format="channels_first")
    assert gray.shape == (1, 4, 5)
    with pytest.raises(ValueError, match="Expected image array to have rank 3 \\(single image\\)"):
        kimage.array_to_img(x[None])
    with pytest.raises(ValueError, match="Unsupported channel number: 2"):
        kimage.array_to_img(np.ones((2, 2, 2)))
    with pytest.raises(ValueError, match="invalid data_format: 'nchw'"):
        kimage.img_to_array(img, data_format="nchw")
    path = tmp_path / "saved.png"
    kimage.save_img(str(path), x)
    np.testing.assert_array_equal(np.asarray(Image.open(path)), scaled)
    kimage.save_img(tmp_path / "first.bmp", first, data_format="channels_first", scale=False,
                    file_format="bmp")
    assert Image.open(tmp_path / "first.bmp").format == "BMP"
    assert sorted(kimage.list_pictures(str(tmp_path))) == [str(tmp_path / "first.bmp"),
                                                           str(tmp_path / "saved.png")]
    assert kimage.list_pictures(str(tmp_path), ext="png") == [str(tmp_path / "saved.png")]


def test_missing_pillow_or_scipy_says_what_to_install(monkeypatch, rgb_file):
    import sys
    monkeypatch.setitem(sys.modules, "PIL", None)
    with pytest.raises(ImportError, match="need Pillow: `pip install Pillow`"):
        kimage.load_img(rgb_file[0])
    monkeypatch.setitem(sys.modules, "scipy", None)
    with pytest.raises(ImportError, match="require SciPy: `pip install scipy`"):
        kimage.apply_affine_transform(np.zeros((2, 2, 1)), theta=10)


def test_batch_augment_needs_no_scipy(monkeypatch):
    import sys
    from tkeras.preprocessing.image import ImageDataGenerator
    monkeypatch.setitem(sys.modules, "scipy", None)
    gen = ImageDataGenerator(rotation_range=30, zoom_range=0.2, fill_mode="wrap",
                             batch_augment="cpu")
    x = np.random.default_rng(0).random((4, 6, 6, 3)).astype("float32")
    assert gen.flow(x, batch_size=4)[0].shape == (4, 6, 6, 3)
    with pytest.raises(ImportError, match="ImageDataGenerator\\(batch_augment=True\\) "
                                          "transforms with torch instead"):
        ImageDataGenerator(rotation_range=30).flow(x, batch_size=4)[0]
