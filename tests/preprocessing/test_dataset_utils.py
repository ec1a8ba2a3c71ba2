"""tf-keras 2.x's image_dataset_from_directory / text_dataset_from_directory /
timeseries_dataset_from_array as Sequences."""
import os

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import tkeras
from tkeras import layers
from tkeras.utils import (Sequence, image_dataset_from_directory, text_dataset_from_directory,
                          timeseries_dataset_from_array)


@pytest.fixture
def images(tmp_path):
    Image = pytest.importorskip("PIL.Image")
    root = tmp_path / "imgs"
    rng = np.random.default_rng(0)
    for c, name in enumerate(["a", "b"]):
        (root / name).mkdir(parents=True)
        for i in range(5):
            pixels = rng.integers(0, 256, size=(6 + c, 9, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(root / name / f"{i}.png")
    (root / ".hidden").mkdir()
    (root / "a" / "skip.txt").write_text("x")
    return root


def _tf_order(paths, seed):
    order = list(paths)
    np.random.RandomState(seed).shuffle(order)
    return order


def test_image_dataset_labels_order_and_pixels(images, capsys):
    ds = image_dataset_from_directory(str(images), image_size=(4, 6), batch_size=3, seed=7)
    assert "Found 10 files belonging to 2 classes." in capsys.readouterr().out
    assert isinstance(ds, Sequence) and len(ds) == 4 and ds.class_names == ["a", "b"]
    sorted_paths = [os.path.join(str(images), c, f"{i}.png") for c in "ab" for i in range(5)]
    assert ds.file_paths == _tf_order(sorted_paths, 7)  # tf-keras's global shuffle
    x, y = ds[0]
    assert x.shape == (3, 4, 6, 3) and x.dtype == np.float32 and y.dtype == np.int32
    from PIL import Image
    path = ds.file_paths[ds._order[0]]
    pixels = torch.tensor(np.asarray(Image.open(path), dtype=np.float32)).permute(2, 0, 1)[None]
    expected = F.interpolate(pixels, size=(4, 6), mode="bilinear", align_corners=False)
    np.testing.assert_allclose(x[0], expected[0].permute(1, 2, 0).numpy(), atol=1e-4)
    assert y[0] == (0 if os.sep + "a" + os.sep in path else 1)
    labels = np.concatenate([ds[i][1] for i in range(len(ds))])
    assert sorted(labels.tolist()) == [0] * 5 + [1] * 5
    cat = image_dataset_from_directory(str(images), image_size=(4, 4), label_mode="categorical",
                                       shuffle=False, color_mode="grayscale",
                                       interpolation="nearest")
    x, y = cat[0]
    assert x.shape == (10, 4, 4, 1)
    np.testing.assert_array_equal(y, np.eye(2)[[0] * 5 + [1] * 5])
    binary = image_dataset_from_directory(str(images), image_size=(4, 4), label_mode="binary",
                                          shuffle=False, class_names=["b", "a"], color_mode="rgba")
    x, y = binary[0]
    assert x.shape == (10, 4, 4, 4) and y.shape == (10, 1)
    np.testing.assert_array_equal(y[:, 0], [1.0] * 5 + [0.0] * 5)
    no_labels = image_dataset_from_directory(str(images), labels=None, image_size=(4, 4),
                                             shuffle=False, batch_size=None)
    assert len(no_labels) == 10 and no_labels[0].shape == (4, 4, 3)
    listed = image_dataset_from_directory(str(images / "a"), labels=[3, 1, 4, 1, 5],
                                          image_size=(2, 2), shuffle=False)
    np.testing.assert_array_equal(listed[0][1], [3, 1, 4, 1, 5])
    assert listed.class_names == [1, 3, 4, 5]


def test_image_dataset_split_crop_and_errors(images):
    train, val = image_dataset_from_directory(str(images), image_size=(4, 4), seed=3,
                                              validation_split=0.3, subset="both")
    assert (len(train.file_paths), len(val.file_paths)) == (7, 3)
    assert not set(train.file_paths) & set(val.file_paths)
    only_val = image_dataset_from_directory(str(images), image_size=(4, 4), seed=3,
                                            validation_split=0.3, subset="validation")
    assert only_val.file_paths == val.file_paths
    cropped = image_dataset_from_directory(str(images / "a"), labels=None, image_size=(3, 3),
                                           crop_to_aspect_ratio=True, shuffle=False)
    from PIL import Image
    pixels = np.asarray(Image.open(images / "a" / "0.png"), dtype=np.float32)  # 6 x 9
    crop = torch.tensor(pixels[:, 1:7]).permute(2, 0, 1)[None]  # centred 6 x 6
    expected = F.interpolate(crop, size=(3, 3), mode="bilinear", align_corners=False)
    np.testing.assert_allclose(cropped[0][0], expected[0].permute(1, 2, 0).numpy(), atol=1e-4)
    with pytest.raises(ValueError, match="If using `validation_split` and shuffling the data, "
                                         "you must provide a `seed`"):
        image_dataset_from_directory(str(images), validation_split=0.2, subset="training")
    with pytest.raises(ValueError, match="If `subset` is set, `validation_split` must be set"):
        image_dataset_from_directory(str(images), subset="training", seed=1)
    with pytest.raises(ValueError, match='`subset` must be either "training", "validation" or '
                                         '"both", received: test'):
        image_dataset_from_directory(str(images), validation_split=0.2, subset="test", seed=1)
    with pytest.raises(ValueError, match="`validation_split` must be between 0 and 1, received: 2"):
        image_dataset_from_directory(str(images), validation_split=2, subset="training")
    with pytest.raises(ValueError, match='`label_mode` argument must be one of "int", '
                                         '"categorical", "binary", or None'):
        image_dataset_from_directory(str(images), label_mode="sparse")
    with pytest.raises(ValueError, match="`labels` argument should be a list/tuple of integer"):
        image_dataset_from_directory(str(images), labels="folders")
    with pytest.raises(ValueError, match="You can only pass `class_names` if "
                                         '`labels="inferred"`'):
        image_dataset_from_directory(str(images), labels=[0] * 10, class_names=["a"])
    with pytest.raises(ValueError, match="The `class_names` passed did not match the names of "
                                         "the subdirectories"):
        image_dataset_from_directory(str(images), class_names=["a", "c"])
    with pytest.raises(ValueError, match="Expected the lengths of `labels` to match the number "
                                         "of files"):
        image_dataset_from_directory(str(images), labels=[0, 1])
    with pytest.raises(ValueError, match='`color_mode` must be one of {"rgb", "rgba", '
                                         '"grayscale"}'):
        image_dataset_from_directory(str(images), color_mode="hsv")
    with pytest.raises(ValueError, match='When passing `label_mode="binary"`, there must be '
                                         "exactly 2 class_names"):
        image_dataset_from_directory(str(images), labels=[0, 1, 2] * 3 + [0], label_mode="binary")
    with pytest.raises(ValueError, match="No images found in directory"):
        image_dataset_from_directory(str(images / ".hidden"), labels=None)
    with pytest.raises(TypeError, match="Unknown keywords argument\\(s\\): \\('size',\\)"):
        image_dataset_from_directory(str(images), size=3)


def test_text_dataset(tmp_path):
    for label, texts in (("neg", ["bad", "awful film"]), ("pos", ["good", "great fun", "nice"])):
        (tmp_path / label).mkdir()
        for i, t in enumerate(texts):
            (tmp_path / label / f"{i}.txt").write_text(t)
    (tmp_path / "pos" / "ignored.md").write_text("x")
    ds = text_dataset_from_directory(str(tmp_path), batch_size=10, shuffle=False, max_length=5)
    x, y = ds[0]
    assert x.tolist() == ["bad", "awful", "good", "great", "nice"]
    np.testing.assert_array_equal(y, [0, 0, 1, 1, 1])
    assert ds.class_names == ["neg", "pos"]
    train, val = text_dataset_from_directory(str(tmp_path), validation_split=0.4, subset="both",
                                             seed=1, label_mode="binary")
    assert len(val.file_paths) == 2 and len(train.file_paths) == 3
    assert train[0][1].shape == (3, 1)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="No text files found in directory .*empty. Allowed "
                                         "format: .txt"):
        text_dataset_from_directory(str(tmp_path / "empty"), labels=None)


def test_timeseries_dataset():
    data = np.arange(30).reshape(30, 1).astype("float32")
    targets = np.arange(30) * 10
    ds = timeseries_dataset_from_array(data, targets, sequence_length=4, sequence_stride=3,
                                       sampling_rate=2, batch_size=2, start_index=2,
                                       end_index=25)
    starts = np.arange(0, 25 - 2 - 3 * 2, 3) + 2  # tf-keras: positions relative to start
    assert len(ds) == int(np.ceil(len(starts) / 2))
    x, y = ds[1]
    np.testing.assert_array_equal(x[..., 0], [[s + 2 * k for k in range(4)] for s in starts[2:4]])
    np.testing.assert_array_equal(y, starts[2:4] * 10)
    shuffled = timeseries_dataset_from_array(data, None, sequence_length=5, shuffle=True, seed=3,
                                             batch_size=100)
    positions = np.arange(26)
    np.random.RandomState(3).shuffle(positions)
    np.testing.assert_array_equal(shuffled[0][:, 0, 0], positions)
    for kwargs, message in (
            (dict(start_index=-1), "`start_index` must be 0 or greater"),
            (dict(start_index=30), "`start_index` must be lower than the length of the data"),
            (dict(start_index=5, end_index=4), "`end_index` must be higher than `start_index`"),
            (dict(end_index=30), "`end_index` must be lower than the length of the data"),
            (dict(sampling_rate=0), "`sampling_rate` must be higher than 0"),
            (dict(sampling_rate=30), "`sampling_rate` must be lower than the length"),
            (dict(sequence_stride=0), "`sequence_stride` must be higher than 0"),
            (dict(sequence_stride=31), "`sequence_stride` must be lower than the length")):
        with pytest.raises(ValueError, match=message):
            timeseries_dataset_from_array(data, None, sequence_length=3, **kwargs)


def test_fit_takes_the_datasets_directly(images):
    ds = image_dataset_from_directory(str(images), image_size=(8, 8), batch_size=4, seed=1,
                                      label_mode="categorical")
    model = tkeras.Sequential([layers.Input((8, 8, 3)), layers.Lambda(lambda t: t / 255),
                               layers.Flatten(), layers.Dense(2, activation="softmax")])
    model.compile("sgd", "categorical_crossentropy")
    history = model.fit(ds, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    series = timeseries_dataset_from_array(np.random.rand(40, 2).astype("float32"),
                                           np.random.rand(40).astype("float32"),
                                           sequence_length=5, batch_size=8)
    rnn = tkeras.Sequential([layers.Input((5, 2)), layers.SimpleRNN(3), layers.Dense(1)])
    rnn.compile("sgd", "mse")
    assert np.isfinite(rnn.fit(series, epochs=1, verbose=0).history["loss"][0])
