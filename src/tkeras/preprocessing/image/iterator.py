"""The base ``Iterator`` of the image iterators: a ``tkeras.utils.Sequence`` that is also
a Python iterator, as in keras-preprocessing 1.1.

Thread safety: the seeding, the index bookkeeping and every ``np.random`` draw of a batch
(shuffle order, transform parameters, save_to_dir names) happen under the iterator's
lock, in Keras's order; loading and transforming the images happen outside it, so
several workers (``fit(workers=...)``) build batches in parallel and each batch gets the
parameters Keras would draw for it.

Processes: an unseeded iterator that finds itself in a new process (a worker of
``fit(use_multiprocessing=True)``, forked with a copy of numpy's random state) reseeds
numpy there from the OS first, so workers, and the fresh workers of every epoch, draw
different transforms (Keras's forked workers all repeated the parent's draws).
"""
from __future__ import annotations

import os
import threading
from typing import Any, List, Optional, Tuple

import numpy as np

from ...utils.data_utils import Sequence
from .utils import WHITE_LIST_FORMATS, array_to_img, img_to_array, load_img

__all__ = ["Iterator", "BatchFromFilesMixin"]


class Iterator(Sequence):
    """Base class of the image iterators.

    Subclasses implement ``_get_batches_of_transformed_samples(index_array)``.

    Args:
        n: number of samples.
        batch_size: samples per batch.
        shuffle: shuffle the order at every epoch.
        seed: seed of the shuffle and of the random transforms.
    """

    white_list_formats = WHITE_LIST_FORMATS

    def __init__(self, n: int, batch_size: int, shuffle: bool, seed: Optional[int]):
        self.n = n
        self.batch_size = batch_size
        self.seed = seed
        self.shuffle = shuffle
        self.batch_index = 0
        self.total_batches_seen = 0
        self.lock = threading.Lock()
        self.index_array: Optional[np.ndarray] = None
        self.index_generator = self._flow_index()
        self._pid = os.getpid()

    def __getstate__(self) -> dict:
        """Picklable for spawned worker processes: the lock and the index generator are
        rebuilt on the other side."""
        state = self.__dict__.copy()
        del state["lock"], state["index_generator"]
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.lock = threading.Lock()
        self.index_generator = self._flow_index()

    def _reseed_if_forked(self) -> None:
        """In a new process, an unseeded iterator reseeds numpy from the OS (once)."""
        if self._pid != os.getpid():
            self._pid = os.getpid()
            if self.seed is None:
                np.random.seed(int.from_bytes(os.urandom(4), "little"))

    def _set_index_array(self) -> None:
        self.index_array = np.arange(self.n)
        if self.shuffle:
            self.index_array = np.random.permutation(self.n)

    def __getitem__(self, idx: int):
        if idx >= len(self):
            raise ValueError(f"Asked to retrieve element {idx}, but the Sequence has length "
                             f"{len(self)}")
        with self.lock:
            self._reseed_if_forked()
            if self.seed is not None:
                np.random.seed(self.seed + self.total_batches_seen)
            self.total_batches_seen += 1
            if self.index_array is None:
                self._set_index_array()
            index_array = self.index_array[self.batch_size * idx:self.batch_size * (idx + 1)]
            draws = self._draw_randomness(index_array)
        return self._batch_from(index_array, draws)

    def __len__(self) -> int:
        return (self.n + self.batch_size - 1) // self.batch_size

    def on_epoch_end(self) -> None:
        self._set_index_array()

    def reset(self) -> None:
        self.batch_index = 0

    def _flow_index(self):
        self.reset()
        while True:
            if self.seed is not None:
                np.random.seed(self.seed + self.total_batches_seen)
            if self.batch_index == 0:
                self._set_index_array()
            current = 0 if self.n == 0 else (self.batch_index * self.batch_size) % self.n
            if self.n > current + self.batch_size:
                self.batch_index += 1
            else:
                self.batch_index = 0
            self.total_batches_seen += 1
            yield self.index_array[current:current + self.batch_size]

    def __iter__(self):
        return self

    def __next__(self, *args, **kwargs):
        return self.next(*args, **kwargs)

    def next(self):
        """The next batch (endless; thread-safe)."""
        with self.lock:
            self._reseed_if_forked()
            index_array = next(self.index_generator)
            draws = self._draw_randomness(index_array)
        return self._batch_from(index_array, draws)

    # How a batch is made: the random draws (under the lock), then the work.
    def _draw_randomness(self, index_array: np.ndarray) -> Any:
        return None

    def _batch_from(self, index_array: np.ndarray, draws: Any):
        return self._get_batches_of_transformed_samples(index_array)

    def _get_batches_of_transformed_samples(self, index_array: np.ndarray):
        """The batch of the samples ``index_array``."""
        raise NotImplementedError


class _AugmentingIterator(Iterator):
    """Shared code of the tkeras iterators that run an ``ImageDataGenerator``."""

    image_data_generator: Any
    save_to_dir: Optional[str]
    save_prefix: str
    save_format: str
    data_format: str
    _save_hash_high = 10 ** 4

    def _image_shape(self) -> Tuple[int, ...]:
        raise NotImplementedError

    def _draw_randomness(self, index_array: np.ndarray):
        gen = self.image_data_generator
        shape = self._image_shape()
        params = [gen.get_random_transform(shape) for _ in index_array] if gen else None
        hashes = [np.random.randint(self._save_hash_high) for _ in index_array] \
            if self.save_to_dir else None
        return params, hashes

    def _get_batches_of_transformed_samples(self, index_array: np.ndarray):
        return self._batch_from(index_array, self._draw_randomness(index_array))

    def _augment(self, images: np.ndarray, params: Optional[List[dict]]):
        if self.image_data_generator is None:
            return images
        return self.image_data_generator.transform_batch(images, params)

    def _save(self, batch_x, index_array: np.ndarray, hashes: List[int]) -> None:
        images = batch_x.cpu().numpy() if hasattr(batch_x, "cpu") else batch_x
        for i, j in enumerate(index_array):
            img = array_to_img(images[i], self.data_format, scale=True)
            fname = f"{self.save_prefix}_{j}_{hashes[i]}.{self.save_format}"
            img.save(os.path.join(self.save_to_dir, fname))


class BatchFromFilesMixin:
    """Loading, augmenting and labelling batches of image files (DirectoryIterator and
    DataFrameIterator)."""

    _save_hash_high = 10 ** 7

    def set_processing_attrs(self, image_data_generator, target_size, color_mode: str,
                             data_format: str, save_to_dir, save_prefix: str, save_format: str,
                             subset: Optional[str], interpolation: str) -> None:
        """Stores the image-processing settings shared by the file iterators."""
        self.image_data_generator = image_data_generator
        self.target_size = tuple(target_size)
        if color_mode not in {"rgb", "rgba", "grayscale"}:
            raise ValueError(f"Invalid color mode: {color_mode!r}; expected \"rgb\", \"rgba\", "
                             "or \"grayscale\".")
        self.color_mode = color_mode
        self.data_format = data_format
        channels = {"rgba": 4, "rgb": 3, "grayscale": 1}[color_mode]
        self.image_shape = self.target_size + (channels,) if data_format == "channels_last" \
            else (channels,) + self.target_size
        self.save_to_dir = save_to_dir
        self.save_prefix = save_prefix
        self.save_format = save_format
        self.interpolation = interpolation
        if subset is not None:
            split = getattr(image_data_generator, "_validation_split", 0.0)
            if subset == "validation":
                self.split: Optional[Tuple[float, float]] = (0, split)
            elif subset == "training":
                self.split = (split, 1)
            else:
                raise ValueError(f"Invalid subset name: {subset};expected \"training\" or "
                                 "\"validation\"")
        else:
            self.split = None
        self.subset = subset

    def _image_shape(self) -> Tuple[int, ...]:
        return self.image_shape

    def _batch_from(self, index_array: np.ndarray, draws):
        params, hashes = draws
        images = np.zeros((len(index_array),) + self.image_shape, dtype=self.dtype)
        filepaths = self.filepaths
        for i, j in enumerate(index_array):
            img = load_img(filepaths[j], color_mode=self.color_mode,
                           target_size=self.target_size, interpolation=self.interpolation)
            images[i] = img_to_array(img, data_format=self.data_format)
            if hasattr(img, "close"):
                img.close()
        batch_x = self._augment(images, params)
        if self.save_to_dir:
            self._save(batch_x, index_array, hashes)
        if self.class_mode == "input":
            batch_y = batch_x.clone() if hasattr(batch_x, "clone") else batch_x.copy()
        elif self.class_mode in {"binary", "sparse"}:
            batch_y = np.asarray([self.classes[j] for j in index_array], dtype=self.dtype)
        elif self.class_mode == "categorical":
            batch_y = np.zeros((len(index_array), len(self.class_indices)), dtype=self.dtype)
            for i, j in enumerate(index_array):
                batch_y[i, self.classes[j]] = 1.0
        elif self.class_mode == "multi_output":
            batch_y = [output[index_array] for output in self.labels]
        elif self.class_mode == "raw":
            batch_y = self.labels[index_array]
        else:
            return batch_x
        if self.sample_weight is None:
            return batch_x, batch_y
        return batch_x, batch_y, self.sample_weight[index_array]

    @property
    def filepaths(self) -> List[str]:
        """Absolute paths of the image files."""
        raise NotImplementedError(f"`filepaths` property method has not been implemented in "
                                  f"{type(self).__name__}.")

    @property
    def labels(self):
        """The class of every file."""
        raise NotImplementedError(f"`labels` property method has not been implemented in "
                                  f"{type(self).__name__}.")

    @property
    def sample_weight(self):
        raise NotImplementedError(f"`sample_weight` property method has not been implemented "
                                  f"in {type(self).__name__}.")
