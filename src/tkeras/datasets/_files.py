"""Where the Keras datasets come from, and reading their files without running code.

``SOURCES`` pins, for each file, the origins Keras downloads it from and the hash Keras
checks: tf-keras's current origin (storage.googleapis.com) first, then Keras 2.3.1's
original one. A file already in the cache that matches any of them is used as is, so a
``~/.keras/datasets`` filled by Keras 2.3.1 or by tf.keras is found without a download.

``load_npz`` reads ``.npz`` archives; the object arrays inside (imdb, reuters: arrays of
Python lists) go through ``SafeUnpickler``, which only rebuilds numpy arrays, dtypes and
plain Python values, so a forged file cannot run code.
"""
from __future__ import annotations

import io
import os
import pickle
import zipfile
from typing import Dict, NamedTuple, Optional, Tuple

import numpy as np

from ..utils.file_utils import _cache_base, get_file, validate_file

GCS = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
S3_TEXT = "https://s3.amazonaws.com/text-datasets/"
TORONTO = "https://www.cs.toronto.edu/~kriz/"
FASHION_S3 = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"


class Source(NamedTuple):
    """One place a dataset file can be downloaded from, with the hash it must have."""
    origin: str
    file_hash: Optional[str]


SOURCES: Dict[str, Tuple[Source, ...]] = {
    "mnist.npz": (
        Source(GCS + "mnist.npz",
               "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"),
        Source("https://s3.amazonaws.com/img-datasets/mnist.npz",
               "8a61469f7ea1b51cbae51d4f78837e45"),
    ),
    "boston_housing.npz": (
        Source(GCS + "boston_housing.npz",
               "f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5"),
        Source("https://s3.amazonaws.com/keras-datasets/boston_housing.npz",
               "f553886a1f8d56431e820c5b82552d9d95cfcb96d1e678153f8839538947dff5"),
    ),
    "imdb.npz": (
        Source(GCS + "imdb.npz",
               "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f"),
        Source(S3_TEXT + "imdb.npz", "599dadb1135973df5b59232a0e9a887c"),
    ),
    "imdb_word_index.json": (
        Source(GCS + "imdb_word_index.json", "bfafd718b763782e994055a2d397834f"),
        Source(S3_TEXT + "imdb_word_index.json", "bfafd718b763782e994055a2d397834f"),
    ),
    "reuters.npz": (
        Source(GCS + "reuters.npz",
               "d6586e694ee56d7a4e65172e12b3e987c03096cb01eab99753921ef915959916"),
        Source(S3_TEXT + "reuters.npz", "87aedbeb0cb229e378797a632c1997b6"),
    ),
    "reuters_word_index.json": (
        Source(GCS + "reuters_word_index.json", "4d44cc38712099c9e383dc6e5f11a921"),
        Source(S3_TEXT + "reuters_word_index.json", "4d44cc38712099c9e383dc6e5f11a921"),
    ),
    "cifar-10-python.tar.gz": (
        Source(TORONTO + "cifar-10-python.tar.gz",
               "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"),
    ),
    "cifar-100-python.tar.gz": (
        Source(TORONTO + "cifar-100-python.tar.gz",
               "85cd44d02ba6437773c5bbd22e183051d648de2e7d6b014e1ef29b855ba677a7"),
    ),
}
# Neither Keras 2.3.1 nor tf-keras pins a hash for the Fashion-MNIST files.
for _name in ("train-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz",
              "t10k-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz"):
    SOURCES[_name] = (Source(GCS + _name, None), Source(FASHION_S3 + _name, None))


def _is_fetch_failure(error: BaseException) -> bool:
    return type(error) is Exception and str(error).startswith("URL fetch failure")


def fetch(fname: str, key: str, cache_subdir: str = "datasets", untar: bool = False) -> str:
    """``get_file`` over the pinned sources of ``key``: the cached copy, else each origin in turn.

    Only a failed connection moves on to the next origin; a download whose hash does
    not match is an error at once.
    """
    sources = SOURCES[key]
    cached = os.path.join(_cache_base(None), cache_subdir, fname + (".tar.gz" if untar else ""))
    if len(sources) > 1 and os.path.exists(cached):
        for source in sources:
            if source.file_hash is None or validate_file(cached, source.file_hash):
                sources = (source,)
                break
    failures = []
    for source in sources:
        try:
            return get_file(fname, source.origin, file_hash=source.file_hash,
                            cache_subdir=cache_subdir, untar=untar)
        except Exception as e:  # noqa: BLE001 - only fetch failures are retried
            if not _is_fetch_failure(e):
                raise
            failures.append(str(e))
    raise Exception("; ".join(failures))


# ---------------------------------------------------------------------------------------
# Reading pickled and npz data without running code


def _reconstruct():
    try:
        from numpy._core.multiarray import _reconstruct as function
    except ImportError:  # numpy < 2
        from numpy.core.multiarray import _reconstruct as function
    return function


class RefusedGlobal(pickle.UnpicklingError):
    """A pickle asked for a global that ``SafeUnpickler`` does not allow."""


class SafeUnpickler(pickle.Unpickler):
    """An unpickler that rebuilds only numpy arrays and plain Python values.

    The CIFAR batches and the object arrays of the imdb / reuters ``.npz`` files hold
    dicts, lists, numbers, strings, bytes and numpy arrays; a numpy array is rebuilt
    through ``numpy.core.multiarray._reconstruct`` (``numpy._core`` in numpy 2),
    ``numpy.ndarray`` and ``numpy.dtype``. Those three are the only globals allowed: any
    other (``os.system``, ``builtins.eval``, ...) is an ``UnpicklingError``.
    """

    def find_class(self, module: str, name: str):
        if name == "_reconstruct" and module in ("numpy.core.multiarray",
                                                 "numpy._core.multiarray"):
            return _reconstruct()
        if module == "numpy" and name == "ndarray":
            return np.ndarray
        if module == "numpy" and name == "dtype":
            return np.dtype
        raise RefusedGlobal(
            f"Refusing to load {module}.{name} from a dataset file: only numpy arrays and plain "
            "Python values are allowed (the file may be corrupt or forged).")


def safe_unpickle(stream, encoding: str = "ASCII"):
    """Loads one pickle from ``stream`` with ``SafeUnpickler``."""
    try:
        return SafeUnpickler(stream, encoding=encoding).load()
    except RefusedGlobal:
        raise
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError,
            KeyError) as e:
        raise ValueError(f"Corrupt pickle data ({type(e).__name__}: {e}).") from e


def _read_npy(data: bytes, where: str) -> np.ndarray:
    stream = io.BytesIO(data)
    version = np.lib.format.read_magic(stream)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(stream)
    elif version == (2, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(stream)
    else:
        raise ValueError(f"Unsupported .npy format version {version} in {where}.")
    if not dtype.hasobject:
        stream.seek(0)
        return np.lib.format.read_array(stream, allow_pickle=False)
    array = safe_unpickle(stream, encoding="latin1")
    if not isinstance(array, np.ndarray) or array.shape != tuple(shape):
        raise ValueError(f"{where} does not hold the object array of shape {tuple(shape)} "
                         "its header announces.")
    return array


def load_npz(path: str) -> Dict[str, np.ndarray]:
    """The arrays of an ``.npz`` file; object arrays are unpickled with ``SafeUnpickler``."""
    arrays = {}
    try:
        with zipfile.ZipFile(path) as archive:
            for member in archive.namelist():
                if member.endswith(".npy"):
                    arrays[member[:-4]] = _read_npy(archive.read(member), f"{path}:{member}")
    except zipfile.BadZipFile as e:
        raise ValueError(f"{path} is not a valid .npz file ({e}).") from e
    return arrays


def npz_arrays(path: str, *keys: str) -> Tuple[np.ndarray, ...]:
    """The named arrays of an ``.npz`` file, with a clear error when one is missing."""
    arrays = load_npz(path)
    missing = [key for key in keys if key not in arrays]
    if missing:
        raise ValueError(f"{path} lacks the arrays {missing}: found {sorted(arrays)}.")
    return tuple(arrays[key] for key in keys)
