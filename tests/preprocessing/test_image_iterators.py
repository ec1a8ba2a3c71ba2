"""flow / flow_from_directory / flow_from_dataframe, the iterators as Sequences, and
Keras-2-style training scripts."""
import os
import threading

import numpy as np
import pytest

PIL = pytest.importorskip("PIL")
pytest.importorskip("scipy")
from PIL import Image  # noqa: E402

import tkeras  # noqa: E402
from tkeras import layers  # noqa: E402
from tkeras.preprocessing.image import (DirectoryIterator, ImageDataGenerator,  # noqa: E402
                                        Iterator, NumpyArrayIterator)
from tkeras.utils import Sequence, TkerasWarning  # noqa: E402

COLORS = {"cat": (250, 10, 10), "dog": (10, 250, 10), "owl": (10, 10, 250)}


@pytest.fixture
def image_tree(tmp_path):
    """root/<class>/img<i>.png|jpg with varied sizes; plus a non-image file."""
    root = tmp_path / "tree"
    for k, (name, color) in enumerate(COLORS.items()):
        folder = root / name
        (folder / "sub").mkdir(parents=True)
        for i in range(4):
            size = (10 + i, 8 + k)  # (width, height)
            img = Image.new("RGB", size, color)
            ext = "png" if i % 2 == 0 else "jpg"
            target = folder / "sub" if i == 3 else folder
            img.save(target / f"img{i}.{ext}")
        (folder / "notes.txt").write_text("not an image")
    return root


def test_flow_batches_labels_weights_and_misc():
    x = np.arange(10 * 4 * 4 * 1, dtype="float32").reshape(10, 4, 4, 1)
    y = np.arange(10)
    it = ImageDataGenerator().flow((x, [y * 2, y * 3]), y, batch_size=4, shuffle=False,
                                   sample_weight=y / 10)
    assert isinstance(it, NumpyArrayIterator) and isinstance(it, Sequence)
    assert len(it) == 3
    (bx, misc2, misc3), by, bw = it[2]
    np.testing.assert_array_equal(bx, x[8:])
    np.testing.assert_array_equal(misc2, [16, 18])
    np.testing.assert_array_equal(misc3, [24, 27])
    np.testing.assert_array_equal(by, [8, 9])
    np.testing.assert_allclose(bw, [0.8, 0.9])
    only_x = ImageDataGenerator().flow(x, batch_size=3, shuffle=False)
    np.testing.assert_array_equal(next(only_x), x[:3])
    np.testing.assert_array_equal(next(only_x), x[3:6])
    with pytest.raises(ValueError, match="Asked to retrieve element 4, but the Sequence has "
                                         "length 4"):
        only_x[4]


def test_flow_shuffle_and_seed_reproducible():
    x = np.random.default_rng(0).random((12, 6, 6, 3)).astype("float32")
    gen = ImageDataGenerator(rotation_range=20, zoom_range=0.2)
    a = gen.flow(x, np.arange(12), batch_size=5, seed=7)
    b = gen.flow(x, np.arange(12), batch_size=5, seed=7)
    for i in range(3):
        np.testing.assert_array_equal(a[i][0], b[i][0])
        np.testing.assert_array_equal(a[i][1], b[i][1])
    np.random.seed(7)  # Keras: reseed with seed + batches seen, permutation on first use
    order = np.random.permutation(12)
    np.testing.assert_array_equal(gen.flow(x, np.arange(12), batch_size=5, seed=7)[0][1],
                                  order[:5])
    labels = np.concatenate([a[i][1] for i in range(3)])
    assert sorted(labels) == list(range(12))


def test_flow_errors_and_subset():
    x = np.zeros((10, 4, 4, 3), "float32")
    gen = ImageDataGenerator(validation_split=0.3)
    with pytest.raises(ValueError, match="`x` \\(images tensor\\) and `y` \\(labels\\) should "
                                         "have the same length"):
        gen.flow(x, np.arange(9))
    with pytest.raises(ValueError, match="`sample_weight` should have the same length"):
        gen.flow(x, np.arange(10), sample_weight=np.ones(3))
    with pytest.raises(ValueError, match="should have rank 4. You passed an array with shape "
                                         "\\(10, 4, 4\\)"):
        gen.flow(x[..., 0])
    with pytest.raises(ValueError, match="Invalid subset name: 'test'"):
        gen.flow(x, subset="test")
    with pytest.raises(ValueError, match="Training and validation subsets have different number "
                                         "of classes"):
        gen.flow(x, np.array([0] * 3 + [1] * 7), subset="training")
    y = np.arange(10) % 2
    val = gen.flow(x, y, subset="validation", shuffle=False, batch_size=10)
    train = gen.flow(x, y, subset="training", shuffle=False, batch_size=10)
    assert (val.n, train.n) == (3, 7)
    with pytest.warns(TkerasWarning, match="expected either 1, 3, or 4 channels on axis 3"):
        gen.flow(np.zeros((2, 4, 4, 5)))


def test_flow_save_to_dir(tmp_path):
    x = np.random.default_rng(1).random((5, 6, 6, 3)).astype("float32")
    it = ImageDataGenerator(horizontal_flip=True).flow(
        x, batch_size=5, save_to_dir=str(tmp_path), save_prefix="aug", save_format="jpeg",
        seed=3)
    it[0]
    names = sorted(os.listdir(tmp_path))
    assert len(names) == 5 and all(n.startswith("aug_") and n.endswith(".jpeg") for n in names)
    assert sorted(int(n.split("_")[1]) for n in names) == [0, 1, 2, 3, 4]


def test_iterator_is_thread_safe():
    x = np.random.default_rng(2).random((64, 5, 5, 3)).astype("float32")
    y = np.arange(64)
    it = ImageDataGenerator(rotation_range=30, width_shift_range=0.2).flow(x, y, batch_size=4,
                                                                           seed=1)
    results, errors = {}, []

    def work(indices):
        try:
            for i in indices:
                results[i] = it[i][1]
        except Exception as e:  # noqa: BLE001
            errors.append(e)
    threads = [threading.Thread(target=work, args=(range(k, 16, 4),)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(np.concatenate([results[i] for i in range(16)]).tolist()) == list(range(64))
    nexts = []
    threads = [threading.Thread(target=lambda: nexts.append(next(it)[1])) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(np.concatenate(nexts).tolist()) == list(range(64))


def test_custom_iterator_subclass():
    class Squares(Iterator):
        def _get_batches_of_transformed_samples(self, index_array):
            return np.asarray(index_array) ** 2

    it = Squares(5, 2, False, None)
    assert len(it) == 3
    np.testing.assert_array_equal(it[1], [4, 9])
    np.testing.assert_array_equal(next(it), [0, 1])


def test_flow_from_directory(image_tree, capsys, tmp_path):
    gen = ImageDataGenerator(rescale=1 / 255.0)
    it = gen.flow_from_directory(str(image_tree), target_size=(6, 7), batch_size=5,
                                 shuffle=False)
    assert "Found 12 images belonging to 3 classes." in capsys.readouterr().out  # txt skipped
    assert isinstance(it, DirectoryIterator) and len(it) == 3
    assert it.class_indices == {"cat": 0, "dog": 1, "owl": 2}
    assert it.filenames[:4] == [os.path.join("cat", "img0.png"), os.path.join("cat", "img1.jpg"),
                                os.path.join("cat", "img2.png"),
                                os.path.join("cat", "sub", "img3.jpg")]  # sub-folders too
    np.testing.assert_array_equal(it.classes, [0] * 4 + [1] * 4 + [2] * 4)
    bx, by = it[0]
    assert bx.shape == (5, 6, 7, 3) and bx.dtype == np.float32
    np.testing.assert_allclose(bx[0, 0, 0], np.array(COLORS["cat"]) / 255.0, atol=0.03)
    np.testing.assert_array_equal(by, np.eye(3)[[0, 0, 0, 0, 1]])
    # classes, class modes, color modes, data format
    sparse = gen.flow_from_directory(str(image_tree), target_size=(4, 4), classes=["owl", "dog"],
                                     class_mode="sparse", color_mode="grayscale", shuffle=False)
    bx, by = sparse[0]
    assert bx.shape == (8, 4, 4, 1)
    np.testing.assert_array_equal(by, [0] * 4 + [1] * 4)
    assert by.dtype == np.float32
    binary = gen.flow_from_directory(str(image_tree), classes=["cat", "dog"], class_mode="binary",
                                     target_size=(4, 4), color_mode="rgba", shuffle=False)
    assert binary[0][0].shape == (8, 4, 4, 4)
    x_only = gen.flow_from_directory(str(image_tree), class_mode=None, target_size=(4, 4))
    assert x_only[0].shape == (12, 4, 4, 3)
    auto = ImageDataGenerator(data_format="channels_first").flow_from_directory(
        str(image_tree), class_mode="input", target_size=(3, 5), interpolation="bilinear")
    bx, by = auto[0]
    assert bx.shape == (12, 3, 3, 5)
    np.testing.assert_array_equal(bx, by)
    # links, subsets, saving
    linked = tmp_path / "linked"
    (linked / "cat").mkdir(parents=True)
    os.symlink(image_tree / "dog", linked / "cat" / "more", target_is_directory=True)
    assert gen.flow_from_directory(str(linked), target_size=(4, 4)).samples == 0
    followed = gen.flow_from_directory(str(linked), target_size=(4, 4), follow_links=True)
    assert followed.samples == 4
    split = ImageDataGenerator(validation_split=0.34)
    val = split.flow_from_directory(str(image_tree), target_size=(4, 4), subset="validation")
    train = split.flow_from_directory(str(image_tree), target_size=(4, 4), subset="training")
    assert (val.samples, train.samples) == (3, 9)  # int(0.34 * 4) = 1 file of each class
    saves = tmp_path / "saved"
    saves.mkdir()
    gen.flow_from_directory(str(image_tree), target_size=(4, 4), save_to_dir=str(saves),
                            batch_size=4)[0]
    assert len(os.listdir(saves)) == 4


def test_flow_from_directory_errors(image_tree):
    gen = ImageDataGenerator()
    with pytest.raises(ValueError, match="Invalid class_mode: multi; expected one of"):
        gen.flow_from_directory(str(image_tree), class_mode="multi")
    with pytest.raises(ValueError, match="Invalid color mode: 'cmyk'"):
        gen.flow_from_directory(str(image_tree), color_mode="cmyk")
    with pytest.raises(ValueError, match="Invalid subset name: test"):
        gen.flow_from_directory(str(image_tree), subset="test")
    with pytest.raises(FileNotFoundError, match="No such directory"):
        gen.flow_from_directory(str(image_tree / "missing"))


def test_flow_from_dataframe(image_tree, capsys):
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({
        "filename": ["cat/img0.png", "dog/img1.jpg", "owl/img2.png", "cat/missing.png",
                     "dog/img0.png", "owl/img0.png"],
        "class": ["cat", "dog", "owl", "cat", "dog", "owl"],
        "tags": [["cat", "dog"], ["dog"], ["owl"], ["cat"], ["dog", "owl"], ["owl"]],
        "w": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        "a": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6], "b": [1, 2, 3, 4, 5, 6]})
    gen = ImageDataGenerator()
    with pytest.warns(TkerasWarning, match='Found 1 invalid image filename\\(s\\) in '
                                           'x_col="filename"'):
        it = gen.flow_from_dataframe(df, str(image_tree), target_size=(4, 4), weight_col="w",
                                     shuffle=False, batch_size=8)
    assert "Found 5 validated image filenames belonging to 3 classes." in capsys.readouterr().out
    bx, by, bw = it[0]
    assert bx.shape == (5, 4, 4, 3)
    np.testing.assert_array_equal(by, np.eye(3)[[0, 1, 2, 1, 2]])
    np.testing.assert_array_equal(bw, [1, 2, 3, 5, 6])
    with pytest.warns(TkerasWarning, match="invalid image filename"):
        multi = gen.flow_from_dataframe(df, str(image_tree), y_col="tags", target_size=(4, 4),
                                        shuffle=False)
    np.testing.assert_array_equal(multi[0][1][[0, 3]], [[1, 1, 0], [0, 1, 1]])
    with pytest.warns(TkerasWarning, match="invalid image filename"):
        raw = gen.flow_from_dataframe(df, str(image_tree), y_col=["a", "b"], class_mode="raw",
                                      target_size=(4, 4), shuffle=False)
    np.testing.assert_allclose(raw[0][1][:, 0], [0.1, 0.2, 0.3, 0.5, 0.6])
    with pytest.warns(TkerasWarning, match="invalid image filename"):
        outs = gen.flow_from_dataframe(df, str(image_tree), y_col=["a", "b"],
                                       class_mode="multi_output", target_size=(4, 4),
                                       shuffle=False)
    ya, yb = outs[0][1]
    np.testing.assert_array_equal(yb, [1, 2, 3, 5, 6])
    absolute = df.assign(filename=[str(image_tree / f) for f in df["filename"]])
    it = gen.flow_from_dataframe(absolute.iloc[[0, 2]], class_mode="sparse", target_size=(4, 4),
                                 validate_filenames=False, shuffle=False)
    np.testing.assert_array_equal(it[0][1], [0, 1])
    with pytest.raises(TypeError, match='If class_mode="multi_output", y_col must be a list'):
        gen.flow_from_dataframe(df, str(image_tree), class_mode="multi_output")
    with pytest.raises(ValueError, match='If class_mode="binary" there must be 2 classes. Found 3'):
        gen.flow_from_dataframe(df, str(image_tree), class_mode="binary")
    with pytest.raises(TypeError, match="Column weight_col=class must be numeric"):
        gen.flow_from_dataframe(df, str(image_tree), weight_col="class")


def _cnn(input_shape, classes):
    model = tkeras.Sequential([layers.Input(input_shape), layers.Conv2D(4, 3),
                               layers.GlobalAveragePooling2D(), layers.Dense(classes,
                                                                            activation="softmax")])
    model.compile("adam", "categorical_crossentropy", metrics=["accuracy"])
    return model


def test_keras2_script_fit_with_flow():
    """The Keras 2 CIFAR-10 augmentation recipe."""
    rng = np.random.default_rng(0)
    x = rng.random((24, 8, 8, 3)).astype("float32")
    y = tkeras.utils.to_categorical(rng.integers(0, 2, 24), 2)
    datagen = ImageDataGenerator(featurewise_center=True, featurewise_std_normalization=True,
                                 rotation_range=20, width_shift_range=0.2,
                                 height_shift_range=0.2, horizontal_flip=True)
    datagen.fit(x)
    model = _cnn((8, 8, 3), 2)
    history = model.fit(datagen.flow(x, y, batch_size=8), epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2 and np.isfinite(history.history["loss"]).all()
    history = model.fit(datagen.flow(x, y, batch_size=8), steps_per_epoch=3, epochs=1,
                        workers=2, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    fast = ImageDataGenerator(rotation_range=20, horizontal_flip=True, batch_augment=True)
    history = model.fit(fast.flow(x, y, batch_size=8), epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_keras2_script_fit_with_flow_from_directory(image_tree):
    train_gen = ImageDataGenerator(rescale=1 / 255.0, shear_range=0.2, zoom_range=0.2,
                                   horizontal_flip=True, validation_split=0.34)
    train = train_gen.flow_from_directory(str(image_tree), target_size=(8, 8), batch_size=4,
                                          subset="training", seed=1)
    val = train_gen.flow_from_directory(str(image_tree), target_size=(8, 8), batch_size=4,
                                        subset="validation")
    model = _cnn((8, 8, 3), 3)
    history = model.fit(train, validation_data=val, epochs=1, verbose=0,
                        workers=2, use_multiprocessing=True)
    assert len(history.history["val_loss"]) == 1
    assert np.isfinite(history.history["loss"]).all()
    preds = model.predict(ImageDataGenerator(rescale=1 / 255.0).flow_from_directory(
        str(image_tree), target_size=(8, 8), class_mode=None, shuffle=False), verbose=0)
    assert preds.shape == (12, 3)


def _first_batch_in_child(it, queue):
    queue.put(it[0])


def test_unseeded_iterator_draws_differently_in_each_worker_process():
    import multiprocessing
    import pickle
    x = np.random.default_rng(3).random((4, 6, 6, 1)).astype("float32")
    it = ImageDataGenerator(rotation_range=90).flow(x, batch_size=4, shuffle=False)
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    children = [ctx.Process(target=_first_batch_in_child, args=(it, queue)) for _ in range(2)]
    for child in children:
        child.start()
    first, second = queue.get(timeout=60), queue.get(timeout=60)
    for child in children:
        child.join(60)
    assert not np.allclose(first, second)  # each forked worker reseeded numpy
    seeded = ImageDataGenerator(rotation_range=90).flow(x, batch_size=4, shuffle=False, seed=5)
    copy = pickle.loads(pickle.dumps(seeded))  # spawned workers get a working copy
    np.testing.assert_array_equal(copy[0], seeded[0])
    np.testing.assert_array_equal(next(copy), next(seeded))


def test_flow_from_directory_resizes_with_interpolation(tmp_path):
    pixels = np.random.default_rng(4).integers(0, 256, size=(9, 7, 3), dtype=np.uint8)
    (tmp_path / "only").mkdir()
    Image.fromarray(pixels).save(tmp_path / "only" / "a.png")
    for method, pil in (("bicubic", Image.BICUBIC), ("nearest", Image.NEAREST)):
        it = ImageDataGenerator().flow_from_directory(str(tmp_path), target_size=(3, 4),
                                                      class_mode=None, interpolation=method)
        expected = np.asarray(Image.fromarray(pixels).resize((4, 3), pil), dtype="float32")
        np.testing.assert_array_equal(it[0][0], expected, err_msg=method)
