"""The Keras datasets, served in their real file formats from a local origin (no network)."""
import gzip
import hashlib
import io
import json
import os
import pickle
import tarfile

import numpy as np
import pytest

import tkeras
from tkeras.datasets import _files, boston_housing, cifar10, cifar100, fashion_mnist, imdb, mnist, reuters
from tkeras.datasets.cifar import load_batch


def _sha256(data):
    return hashlib.sha256(data).hexdigest()


def _npz(**arrays):
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def _objects(lists):
    out = np.empty(len(lists), dtype=object)
    for i, x in enumerate(lists):
        out[i] = x
    return out


@pytest.fixture
def serve(local_origin, monkeypatch):
    """serve(key, data): publishes ``data`` and pins ``key``'s only source to it (its sha256)."""
    sources = dict(_files.SOURCES)
    monkeypatch.setattr(_files, "SOURCES", sources)

    def publish(key, data, file_hash="sha256"):
        url = local_origin.put(key, data)
        sources[key] = (_files.Source(url, _sha256(data) if file_hash == "sha256" else file_hash),)
        return url
    publish.origin = local_origin
    publish.sources = sources
    return publish


def _datadir(*parts):
    return os.path.join(os.environ["KERAS_HOME"], "datasets", *parts)


# ---------------------------------------------------------------------------------------
# The pinned table is Keras's


def test_pinned_sources_are_keras_origins_and_hashes():
    """Keras 2.3.1's origins / hashes, and tf-keras 2.15's (storage.googleapis.com), verbatim."""
    gcs = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
    expected = {
        "mnist.npz": [
            (gcs + "mnist.npz", "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"),
            ("https://s3.amazonaws.com/img-datasets/mnist.npz", "8a61469f7ea1b51cbae51d4f78837e45")],
        "boston_housing.npz": [
            (gcs + "boston_housing.npz",
             "f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5"),
            ("https://s3.amazonaws.com/keras-datasets/boston_housing.npz",
             "f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5")],
        "imdb.npz": [
            (gcs + "imdb.npz", "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f"),
            ("https://s3.amazonaws.com/text-datasets/imdb.npz", "599dadb1135973df5b59232a0e9a887c")],
        "imdb_word_index.json": [
            (gcs + "imdb_word_index.json", "bfafd718b763782e994055a2d397834f"),
            ("https://s3.amazonaws.com/text-datasets/imdb_word_index.json",
             "bfafd718b763782e994055a2d397834f")],
        "reuters.npz": [
            (gcs + "reuters.npz", "d6586e694ee56d7a4e65172e12b3e987c03096cb01eab99753921ef915959916"),
            ("https://s3.amazonaws.com/text-datasets/reuters.npz", "87aedbeb0cb229e378797a632c1997b6")],
        "reuters_word_index.json": [
            (gcs + "reuters_word_index.json", "4d44cc38712099c9e383dc6e5f11a921"),
            ("https://s3.amazonaws.com/text-datasets/reuters_word_index.json",
             "4d44cc38712099c9e383dc6e5f11a921")],
        "cifar-10-python.tar.gz": [
            ("https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
             "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce")],
        "cifar-100-python.tar.gz": [
            ("https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz",
             "85cd44d02ba6437773c5bbd22e183051d648de2e7d6b014e1ef29b855ba677a7")],
    }
    for name in ["train-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz",
                 "t10k-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz"]:
        expected[name] = [(gcs + name, None),
                          ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/" + name, None)]
    actual = {k: [tuple(s) for s in v] for k, v in _files.SOURCES.items()}
    assert actual == expected


# ---------------------------------------------------------------------------------------
# mnist: download, cache hit, hash checks, corrupt and truncated downloads, mirrors


def _mnist_npz():
    rng = np.random.RandomState(0)
    arrays = dict(x_train=rng.randint(0, 256, (5, 28, 28)).astype("uint8"),
                  y_train=np.array([5, 0, 4, 1, 9], "uint8"),
                  x_test=rng.randint(0, 256, (3, 28, 28)).astype("uint8"),
                  y_test=np.array([7, 2, 1], "uint8"))
    return arrays, _npz(**arrays)


def test_mnist_download_and_cache_hit(serve):
    arrays, data = _mnist_npz()
    serve("mnist.npz", data)
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    for got, key in [(x_train, "x_train"), (y_train, "y_train"), (x_test, "x_test"), (y_test, "y_test")]:
        np.testing.assert_array_equal(got, arrays[key])
        assert got.dtype == np.uint8
    assert x_train.shape == (5, 28, 28) and y_test.shape == (3,)
    assert os.listdir(_datadir()) == ["mnist.npz"]
    mnist.load_data()
    assert serve.origin.requests == ["mnist.npz"]
    mnist.load_data(path="other.npz")
    assert sorted(os.listdir(_datadir())) == ["mnist.npz", "other.npz"]


def test_mnist_bad_hash_leaves_nothing(serve):
    _, data = _mnist_npz()
    serve("mnist.npz", data, file_hash="f" * 64)
    with pytest.raises(ValueError, match=f"is {_sha256(data)}, but the expected hash is {'f' * 64}"):
        mnist.load_data()
    assert os.listdir(_datadir()) == []


def test_corrupt_download_is_refused_by_the_pinned_hash(serve):
    _, data = _mnist_npz()
    url = serve("mnist.npz", data)
    serve.origin.put("mnist.npz", data[:100] + b"garbage" + data[107:])
    with pytest.raises(ValueError, match="Incomplete or corrupted file detected"):
        mnist.load_data()
    assert os.listdir(_datadir()) == []
    assert url.endswith("mnist.npz")


def test_truncated_download_leaves_nothing(serve):
    _, data = _mnist_npz()
    url = serve("mnist.npz", data)
    serve.origin.truncate("mnist.npz")
    with pytest.raises(Exception, match=f"URL fetch failure on {url}"):
        mnist.load_data()
    assert os.listdir(_datadir()) == []


def test_unreadable_npz_in_cache_is_a_clear_error(serve):
    data = b"not a zip file at all"
    serve("mnist.npz", data)
    with pytest.raises(ValueError, match="mnist.npz is not a valid .npz file"):
        mnist.load_data()


def test_npz_missing_array_is_a_clear_error(serve):
    serve("mnist.npz", _npz(x_train=np.zeros((1, 28, 28), "uint8")))
    with pytest.raises(ValueError, match=r"lacks the arrays \['y_train', 'x_test', 'y_test'\]"):
        mnist.load_data()


def test_next_origin_is_tried_when_the_first_fails(serve):
    arrays, data = _mnist_npz()
    good = serve.origin.put("mirror/mnist.npz", data)
    serve.sources["mnist.npz"] = (_files.Source(serve.origin.url("gone/mnist.npz"), _sha256(data)),
                                  _files.Source(good, hashlib.md5(data).hexdigest()))
    (x_train, _), _ = mnist.load_data()
    np.testing.assert_array_equal(x_train, arrays["x_train"])
    assert serve.origin.requests == ["gone/mnist.npz", "mirror/mnist.npz"]


def test_all_origins_failing_names_each(serve):
    serve.sources["mnist.npz"] = (_files.Source(serve.origin.url("a/mnist.npz"), "0" * 64),
                                  _files.Source(serve.origin.url("b/mnist.npz"), "0" * 32))
    with pytest.raises(Exception, match="URL fetch failure on .*a/mnist.npz : 404 -- Not Found; "
                                        "URL fetch failure on .*b/mnist.npz : 404"):
        mnist.load_data()
    assert os.listdir(_datadir()) == []


def test_file_cached_by_keras_2_is_used_without_download(serve):
    """A cache filled from Keras 2.3.1's origin (its md5 pinned) is found as is."""
    arrays, data = _mnist_npz()
    serve.sources["mnist.npz"] = (_files.Source(serve.origin.url("new/mnist.npz"), "0" * 64),
                                  _files.Source(serve.origin.url("old/mnist.npz"),
                                                hashlib.md5(data).hexdigest()))
    os.makedirs(_datadir())
    with open(_datadir("mnist.npz"), "wb") as f:
        f.write(data)
    (x_train, _), _ = mnist.load_data()
    np.testing.assert_array_equal(x_train, arrays["x_train"])
    assert serve.origin.requests == []


# ---------------------------------------------------------------------------------------
# fashion_mnist: gzip'd IDX files


def _idx(magic, dims, payload):
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in dims)
    return gzip.compress(header + payload.tobytes())


def test_fashion_mnist_idx_files(serve):
    rng = np.random.RandomState(1)
    x_train = rng.randint(0, 256, (4, 28, 28)).astype("uint8")
    y_train = np.array([9, 0, 3, 2], "uint8")
    x_test = rng.randint(0, 256, (2, 28, 28)).astype("uint8")
    y_test = np.array([1, 8], "uint8")
    serve("train-labels-idx1-ubyte.gz", _idx(2049, [4], y_train))
    serve("train-images-idx3-ubyte.gz", _idx(2051, [4, 28, 28], x_train))
    serve("t10k-labels-idx1-ubyte.gz", _idx(2049, [2], y_test))
    serve("t10k-images-idx3-ubyte.gz", _idx(2051, [2, 28, 28], x_test))
    (a, b), (c, d) = fashion_mnist.load_data()
    for got, want in [(a, x_train), (b, y_train), (c, x_test), (d, y_test)]:
        np.testing.assert_array_equal(got, want)
        assert got.dtype == np.uint8 and got.shape == want.shape
    assert sorted(os.listdir(_datadir("fashion-mnist"))) == sorted(fashion_mnist.FILES)


def test_fashion_mnist_wrong_file_kind(serve):
    labels = np.array([1, 2], "uint8")
    serve("train-labels-idx1-ubyte.gz", _idx(2051, [2], labels))  # an image magic number
    for name in fashion_mnist.FILES[1:]:
        serve(name, _idx(2049, [2], labels))
    with pytest.raises(ValueError, match="expected the magic number 2049, found 2051"):
        fashion_mnist.load_data()


def test_fashion_mnist_not_gzip(serve):
    for name in fashion_mnist.FILES:
        serve(name, b"plain bytes")
    with pytest.raises(ValueError, match="train-labels-idx1-ubyte.gz is not a valid gzip'd IDX file"):
        fashion_mnist.load_data()


# ---------------------------------------------------------------------------------------
# cifar10 / cifar100: tar.gz of pickled batches


def _py2_style_pickle(obj):
    """A pickle as the CIFAR files hold: numpy arrays via numpy.core.multiarray._reconstruct."""
    data = pickle.dumps(obj, protocol=3)
    data = data.replace(b"cnumpy._core.multiarray\n_reconstruct\n",
                        b"cnumpy.core.multiarray\n_reconstruct\n")
    assert b"_core" not in data
    return data


def _tar_gz(files):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _cifar10_files(n=2):
    rng = np.random.RandomState(2)
    batches, images, labels = {}, [], []
    for i in range(1, 6):
        data = rng.randint(0, 256, (n, 3072)).astype("uint8")
        lab = [int(v) for v in rng.randint(0, 10, n)]
        batches[f"cifar-10-batches-py/data_batch_{i}"] = _py2_style_pickle(
            {b"batch_label": b"training batch %d of 5" % i, b"labels": lab, b"data": data,
             b"filenames": [b"img%d.png" % j for j in range(n)]})
        images.append(data)
        labels += lab
    test_data = rng.randint(0, 256, (3, 3072)).astype("uint8")
    test_labels = [3, 1, 4]
    batches["cifar-10-batches-py/test_batch"] = _py2_style_pickle(
        {b"batch_label": b"testing batch 1 of 1", b"labels": test_labels, b"data": test_data,
         b"filenames": [b"a.png", b"b.png", b"c.png"]})
    batches["cifar-10-batches-py/batches.meta"] = _py2_style_pickle({b"label_names": [b"airplane"]})
    return batches, np.concatenate(images), np.array(labels), test_data, np.array(test_labels)


def test_cifar10_channels_last(serve):
    files, x, y, xt, yt = _cifar10_files()
    serve("cifar-10-python.tar.gz", _tar_gz(files))
    (x_train, y_train), (x_test, y_test) = cifar10.load_data()
    assert x_train.shape == (10, 32, 32, 3) and x_train.dtype == np.uint8
    assert x_test.shape == (3, 32, 32, 3) and x_test.dtype == np.uint8
    assert y_train.shape == (10, 1) and y_train.dtype == np.uint8
    assert y_test.shape == (3, 1) and y_test.dtype == np.int64
    # Pixel (row 0, col 1) of image 0: the stored rows are R plane, G plane, B plane.
    np.testing.assert_array_equal(x_train[0, 0, 1], [x[0, 1], x[0, 1024 + 1], x[0, 2048 + 1]])
    np.testing.assert_array_equal(x_train, x.reshape(10, 3, 32, 32).transpose(0, 2, 3, 1))
    np.testing.assert_array_equal(y_train[:, 0], y)
    np.testing.assert_array_equal(x_test, xt.reshape(3, 3, 32, 32).transpose(0, 2, 3, 1))
    np.testing.assert_array_equal(y_test[:, 0], yt)
    assert sorted(os.listdir(_datadir())) == ["cifar-10-batches-py", "cifar-10-batches-py.tar.gz"]
    cifar10.load_data()
    assert serve.origin.requests == ["cifar-10-python.tar.gz"]


def test_cifar10_channels_first(serve):
    files, x, _, _, _ = _cifar10_files()
    serve("cifar-10-python.tar.gz", _tar_gz(files))
    tkeras.backend.set_image_data_format("channels_first")
    try:
        (x_train, _), (x_test, _) = cifar10.load_data()
    finally:
        tkeras.backend.set_image_data_format("channels_last")
    assert x_train.shape == (10, 3, 32, 32) and x_test.shape == (3, 3, 32, 32)
    np.testing.assert_array_equal(x_train, x.reshape(10, 3, 32, 32))


def _cifar100_files():
    rng = np.random.RandomState(3)
    out, expected = {}, {}
    for part, n in [("train", 4), ("test", 2)]:
        data = rng.randint(0, 256, (n, 3072)).astype("uint8")
        fine = [int(v) for v in rng.randint(0, 100, n)]
        coarse = [int(v) for v in rng.randint(0, 20, n)]
        out[f"cifar-100-python/{part}"] = _py2_style_pickle(
            {b"filenames": [b"f"] * n, b"batch_label": part.encode(), b"fine_labels": fine,
             b"coarse_labels": coarse, b"data": data})
        expected[part] = (data, fine, coarse)
    return out, expected


@pytest.mark.parametrize("label_mode", ["fine", "coarse"])
def test_cifar100_label_modes(serve, label_mode):
    files, expected = _cifar100_files()
    serve("cifar-100-python.tar.gz", _tar_gz(files))
    (x_train, y_train), (x_test, y_test) = cifar100.load_data(label_mode=label_mode)
    column = 1 if label_mode == "fine" else 2
    assert x_train.shape == (4, 32, 32, 3) and x_test.shape == (2, 32, 32, 3)
    np.testing.assert_array_equal(x_train, expected["train"][0].reshape(4, 3, 32, 32).transpose(0, 2, 3, 1))
    assert y_train.shape == (4, 1) and y_train.dtype == np.int64
    np.testing.assert_array_equal(y_train[:, 0], expected["train"][column])
    np.testing.assert_array_equal(y_test[:, 0], expected["test"][column])


def test_cifar100_bad_label_mode():
    with pytest.raises(ValueError, match='`label_mode` must be one of `"fine"`, `"coarse"`. '
                                         "Received: label_mode='medium'"):
        cifar100.load_data(label_mode="medium")


class _Payload:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_forged_cifar_batch_cannot_run_code(serve, tmp_path):
    marker = tmp_path / "pwned"
    files, *_ = _cifar10_files()
    files["cifar-10-batches-py/data_batch_1"] = pickle.dumps(
        {b"data": _Payload(marker), b"labels": []}, protocol=3)
    # The payload does run under plain pickle (the test's forged file is real).
    pickle.loads(files["cifar-10-batches-py/data_batch_1"])
    assert marker.exists()
    marker.unlink()
    serve("cifar-10-python.tar.gz", _tar_gz(files))
    with pytest.raises(pickle.UnpicklingError, match=r"Refusing to load (posix|os|nt)\.system "
                                                     "from a dataset file"):
        cifar10.load_data()
    assert not marker.exists()


@pytest.mark.parametrize("forged_global", [b"cbuiltins\neval\n", b"cnumpy\nload\n",
                                           b"cnumpy.core.multiarray\nscalar\n"])
def test_only_numpy_array_globals_are_allowed(tmp_path, forged_global):
    path = tmp_path / "batch"
    path.write_bytes(b"\x80\x02" + forged_global + b"X\x01\x00\x00\x001\x85R.")
    with pytest.raises(pickle.UnpicklingError, match="Refusing to load"):
        load_batch(str(path))


def test_load_batch_rejects_non_batches(tmp_path):
    path = tmp_path / "batch"
    path.write_bytes(_py2_style_pickle([1, 2]))
    with pytest.raises(ValueError, match="is not a CIFAR batch: expected a pickled dict, got list"):
        load_batch(str(path))
    path.write_bytes(_py2_style_pickle({b"data": np.zeros((1, 3072), "uint8")}))
    with pytest.raises(ValueError, match="is not a CIFAR batch with 'data' and 'labels'"):
        load_batch(str(path))
    path.write_bytes(b"\x80\x02}q\x00(X")
    with pytest.raises(ValueError, match="Corrupt pickle data"):
        load_batch(str(path))


# ---------------------------------------------------------------------------------------
# imdb / reuters: npz of object arrays + word index JSON

IMDB_TRAIN = [[1, 2, 3, 9], [4, 5], [6, 7, 8, 1, 1, 2], [2, 2, 2]]
IMDB_TEST = [[3, 1], [5, 5, 5, 5, 5], [7]]


def _keras_default_vocab(seqs, oov=2):
    """Keras's num_words=None: num_words = the largest index, so that index itself is OOV."""
    top = max(max(x) for x in seqs)
    return [[w if w < top else oov for w in x] for x in seqs]


def _imdb_npz():
    return _npz(x_train=_objects(IMDB_TRAIN), y_train=np.array([1, 0, 1, 0]),
                x_test=_objects(IMDB_TEST), y_test=np.array([0, 1, 1]))


def _expected_order(seed, n_train, n_test):
    rng = np.random.RandomState(seed)
    a = np.arange(n_train)
    rng.shuffle(a)
    b = np.arange(n_test)
    rng.shuffle(b)
    return list(a), list(b)


def test_imdb_defaults(serve):
    serve("imdb.npz", _imdb_npz())
    (x_train, y_train), (x_test, y_test) = imdb.load_data()
    a, b = _expected_order(113, 4, 3)
    assert x_train.dtype == object and x_train.shape == (4,)
    want = _keras_default_vocab([[1] + [w + 3 for w in IMDB_TRAIN[i]] for i in a]
                                + [[1] + [w + 3 for w in IMDB_TEST[i]] for i in b])
    assert list(x_train) == want[:4]
    assert list(x_test) == want[4:]
    # [1, 2, 3, 9] shifted by 3 holds 12, the largest index: Keras makes it OOV (2).
    assert [1, 4, 5, 6, 2] in list(x_train)
    np.testing.assert_array_equal(y_train, np.array([1, 0, 1, 0])[a])
    np.testing.assert_array_equal(y_test, np.array([0, 1, 1])[b])


def test_imdb_seed_changes_order_and_same_seed_repeats(serve):
    serve("imdb.npz", _imdb_npz())
    (x1, _), _ = imdb.load_data(seed=7)
    (x2, _), _ = imdb.load_data(seed=7)
    assert list(x1) == list(x2)
    a, b = _expected_order(7, 4, 3)
    want = _keras_default_vocab([[1] + [w + 3 for w in IMDB_TRAIN[i]] for i in a]
                                + [[1] + [w + 3 for w in IMDB_TEST[i]] for i in b])
    assert list(x1) == want[:4]


def test_imdb_num_words_skip_top_oov_index_from(serve):
    serve("imdb.npz", _imdb_npz())
    a, b = _expected_order(113, 4, 3)
    # index_from=0, start_char=1: sequence [1, w...]; num_words=6 -> words >= 6 become 2;
    # skip_top=2 -> words 0, 1 become 2 too (the start marker included, as in Keras).
    (x_train, _), (x_test, _) = imdb.load_data(num_words=6, skip_top=2, index_from=0)

    def expect(seq):
        return [w if 2 <= w < 6 else 2 for w in [1] + seq]
    assert list(x_train) == [expect(IMDB_TRAIN[i]) for i in a]
    assert list(x_test) == [expect(IMDB_TEST[i]) for i in b]
    # oov_char=None drops the words instead; start_char=None adds no marker.
    (x_train, _), _ = imdb.load_data(num_words=6, start_char=None, oov_char=None, index_from=0)
    assert list(x_train) == [[w for w in IMDB_TRAIN[i] if w < 6] for i in a]


def test_imdb_maxlen_filters_train_and_test_apart(serve):
    serve("imdb.npz", _imdb_npz())
    a, b = _expected_order(113, 4, 3)
    (x_train, y_train), (x_test, y_test) = imdb.load_data(maxlen=5)  # keeps length <= 3 (+ start)
    keep_a = [i for i in a if len(IMDB_TRAIN[i]) + 1 < 5]
    keep_b = [i for i in b if len(IMDB_TEST[i]) + 1 < 5]
    want = _keras_default_vocab([[1] + [w + 3 for w in IMDB_TRAIN[i]] for i in keep_a]
                                + [[1] + [w + 3 for w in IMDB_TEST[i]] for i in keep_b])
    assert list(x_train) == want[:len(keep_a)]
    assert list(x_test) == want[len(keep_a):]
    np.testing.assert_array_equal(y_train, np.array([1, 0, 1, 0])[keep_a])
    np.testing.assert_array_equal(y_test, np.array([0, 1, 1])[keep_b])
    with pytest.raises(ValueError, match="After filtering for sequences shorter than maxlen=2, "
                                         "no sequence was kept. Increase maxlen."):
        imdb.load_data(maxlen=2)


def test_imdb_equal_length_sequences_stay_object_arrays(serve):
    serve("imdb.npz", _npz(x_train=_objects([[1, 2], [3, 4]]), y_train=np.array([0, 1]),
                           x_test=_objects([[5, 6]]), y_test=np.array([1])))
    (x_train, _), (x_test, _) = imdb.load_data()
    assert x_train.shape == (2,) and x_train.dtype == object and x_test.shape == (1,)


def test_imdb_nb_words_and_unknown_kwargs(serve):
    serve("imdb.npz", _imdb_npz())
    with pytest.warns(tkeras.utils.TkerasDeprecationWarning,
                      match="The `nb_words` argument in `load_data` has been renamed `num_words`."):
        (x_nb, _), _ = imdb.load_data(nb_words=6)
    (x_num, _), _ = imdb.load_data(num_words=6)
    assert list(x_nb) == list(x_num)
    with pytest.raises(TypeError, match=r"Unrecognized keyword arguments: \{'words': 6\}"):
        imdb.load_data(words=6)


def test_imdb_forged_object_array_cannot_run_code(serve, tmp_path):
    marker = tmp_path / "pwned"
    evil = np.empty(1, dtype=object)
    evil[0] = _Payload(marker)
    serve("imdb.npz", _npz(x_train=evil, y_train=np.array([0]), x_test=evil, y_test=np.array([0])))
    with pytest.raises(pickle.UnpicklingError, match="Refusing to load"):
        imdb.load_data()
    assert not marker.exists()


@pytest.mark.parametrize("module, key", [(imdb, "imdb_word_index.json"),
                                         (reuters, "reuters_word_index.json")])
def test_get_word_index(serve, module, key):
    index = {"the": 1, "and": 2, "film": 3}
    serve(key, json.dumps(index).encode())
    assert module.get_word_index() == index
    assert os.listdir(_datadir()) == [key]


REUTERS_X = [[1, 2], [3, 4, 5], [6], [7, 8, 9, 10], [2, 2], [4, 1, 3], [5, 5, 5, 5, 5, 5],
             [8], [9, 1], [3, 3, 3]]
REUTERS_Y = np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])


def test_reuters_split_shuffle_and_arguments(serve):
    serve("reuters.npz", _npz(x=_objects(REUTERS_X), y=REUTERS_Y))
    rng = np.random.RandomState(113)
    order = np.arange(10)
    rng.shuffle(order)
    (x_train, y_train), (x_test, y_test) = reuters.load_data()
    assert len(x_train) == 8 and len(x_test) == 2 and x_train.dtype == object
    assert list(x_train) + list(x_test) == _keras_default_vocab(
        [[1] + [w + 3 for w in REUTERS_X[i]] for i in order])
    np.testing.assert_array_equal(np.concatenate([y_train, y_test]), REUTERS_Y[order])
    (x_train, _), (x_test, _) = reuters.load_data(test_split=0.5)
    assert len(x_train) == 5 and len(x_test) == 5
    (x_train, y_train), (x_test, y_test) = reuters.load_data(maxlen=4, test_split=0.25)
    kept = [i for i in order if len(REUTERS_X[i]) + 1 < 4]
    assert len(x_train) == int(len(kept) * 0.75)
    assert list(x_train) + list(x_test) == _keras_default_vocab(
        [[1] + [w + 3 for w in REUTERS_X[i]] for i in kept])
    np.testing.assert_array_equal(np.concatenate([y_train, y_test]), REUTERS_Y[kept])
    (x_train, _), (x_test, _) = reuters.load_data(num_words=5, skip_top=1, index_from=0,
                                                  start_char=None, oov_char=0)
    assert list(x_train) + list(x_test) == [[w if 1 <= w < 5 else 0 for w in REUTERS_X[i]]
                                            for i in order]
    with pytest.raises(TypeError, match="Unrecognized keyword arguments"):
        reuters.load_data(bogus=1)


# ---------------------------------------------------------------------------------------
# boston_housing


def test_boston_housing_split_and_seed(serve):
    x = np.arange(20 * 13, dtype="float64").reshape(20, 13)
    y = np.arange(20, dtype="float64") * 1.5
    serve("boston_housing.npz", _npz(x=x, y=y))
    rng = np.random.RandomState(113)
    order = np.arange(20)
    rng.shuffle(order)
    (x_train, y_train), (x_test, y_test) = boston_housing.load_data()
    assert x_train.shape == (16, 13) and x_test.shape == (4, 13) and x_train.dtype == np.float64
    np.testing.assert_array_equal(np.concatenate([x_train, x_test]), x[order])
    np.testing.assert_array_equal(np.concatenate([y_train, y_test]), y[order])
    (x_train, _), (x_test, _) = boston_housing.load_data(test_split=0.5, seed=3)
    order = np.arange(20)
    np.random.RandomState(3).shuffle(order)
    np.testing.assert_array_equal(x_train, x[order[:10]])
    np.testing.assert_array_equal(x_test, x[order[10:]])
    with pytest.raises(ValueError, match=r"`test_split` must be in \[0, 1\). Received: test_split=1"):
        boston_housing.load_data(test_split=1)


def test_digits_stays_offline():
    from tkeras.datasets import digits
    (x_train, _), (x_test, _) = digits.load_data()
    assert x_train.shape == (1438, 8, 8) and x_test.shape == (359, 8, 8)
