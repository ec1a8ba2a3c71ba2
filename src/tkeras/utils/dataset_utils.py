"""tf-keras 2.x's dataset helpers, as ``tkeras.utils.Sequence``s that ``fit`` takes directly:
``image_dataset_from_directory``, ``text_dataset_from_directory`` and
``timeseries_dataset_from_array`` (also in ``tkeras.preprocessing``).

What tf.data did is done here by the Sequence: the files are listed, sorted and shuffled
once with ``np.random.RandomState(seed)`` exactly as tf-keras does (so ``file_paths`` and
the training / validation split are tf-keras's), then every epoch visits them in a fresh
seeded order when ``shuffle`` (tf-keras's local shuffle buffer is not reproduced).
"""
from __future__ import annotations

import os
from typing import Any, List, Optional, Sequence as SequenceType, Tuple, Union

import numpy as np

from .data_utils import Sequence

__all__ = ["image_dataset_from_directory", "text_dataset_from_directory",
           "timeseries_dataset_from_array"]

IMAGE_FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
RESIZE_METHODS = ("bilinear", "nearest", "bicubic", "area")


# ------------------------------------------------------------------ shared checks and listing
def _check_labels(labels, class_names, label_mode, what: str) -> None:
    if labels not in ("inferred", None):
        if not isinstance(labels, (list, tuple)):
            raise ValueError(
                "`labels` argument should be a list/tuple of integer labels, of the same size "
                f"as the number of {what} files in the target directory. If you wish to infer "
                "the labels from the subdirectory names in the target directory, pass "
                '`labels="inferred"`. If you wish to get a dataset that only contains '
                f"{'images' if what == 'image' else 'text samples'} (no labels), pass "
                f"`labels=None`. Received: labels={labels}")
        if class_names:
            raise ValueError('You can only pass `class_names` if `labels="inferred"`. '
                             f"Received: labels={labels}, and class_names={class_names}")
    if label_mode not in {"int", "categorical", "binary", None}:
        raise ValueError('`label_mode` argument must be one of "int", "categorical", "binary", '
                         f"or None. Received: label_mode={label_mode}")


def check_validation_split_arg(validation_split, subset, shuffle, seed) -> None:
    """tf-keras's checks of ``validation_split`` / ``subset`` / ``seed``."""
    if validation_split and not 0 < validation_split < 1:
        raise ValueError(f"`validation_split` must be between 0 and 1, received: "
                         f"{validation_split}")
    if (validation_split or subset) and not (validation_split and subset):
        raise ValueError("If `subset` is set, `validation_split` must be set, and inversely.")
    if subset not in ("training", "validation", "both", None):
        raise ValueError('`subset` must be either "training", "validation" or "both", '
                         f"received: {subset}")
    if validation_split and shuffle and seed is None:
        raise ValueError("If using `validation_split` and shuffling the data, you must provide "
                         "a `seed` argument, to make sure that there is no overlap between the "
                         "training and validation subset.")


def index_directory(directory: str, labels, formats: Tuple[str, ...],
                    class_names: Optional[List[str]] = None, shuffle: bool = True,
                    seed: Optional[int] = None, follow_links: bool = False):
    """File paths, labels and class names of a folder tree, ordered as tf-keras orders them."""
    if not os.path.isdir(directory):
        raise ValueError(f"Could not find directory {directory}")
    if labels != "inferred":
        subdirs = [""]
        class_names = subdirs
    else:
        subdirs = [d for d in sorted(os.listdir(directory))
                   if os.path.isdir(os.path.join(directory, d)) and not d.startswith(".")]
        if not class_names:
            class_names = subdirs
        elif set(class_names) != set(subdirs):
            raise ValueError("The `class_names` passed did not match the names of the "
                             "subdirectories of the target directory. Expected: "
                             f"{subdirs}, but received: {class_names}")
    class_indices = dict(zip(class_names, range(len(class_names))))
    filenames: List[str] = []
    found_labels: List[int] = []
    for subdir in subdirs:
        folder = os.path.join(directory, subdir)
        dirname = os.path.basename(folder)
        for root, _, files in sorted(os.walk(folder, followlinks=follow_links),
                                     key=lambda entry: entry[0]):
            for fname in sorted(files):
                if fname.lower().endswith(formats):
                    path = os.path.join(root, fname)
                    filenames.append(os.path.join(dirname, os.path.relpath(path, folder)))
                    found_labels.append(class_indices[dirname])
    if labels not in ("inferred", None):
        if len(labels) != len(filenames):
            raise ValueError("Expected the lengths of `labels` to match the number of files in "
                             f"the target directory. len(labels) is {len(labels)} while we "
                             f"found {len(filenames)} files in directory {directory}.")
        class_names = sorted(set(labels))
        out_labels: Any = np.asarray(labels)
    else:
        out_labels = np.asarray(found_labels, dtype="int32")
    if labels is None:
        print(f"Found {len(filenames)} files.")
    else:
        print(f"Found {len(filenames)} files belonging to {len(class_names)} classes.")
    file_paths = [os.path.join(directory, f) for f in filenames]
    if shuffle:
        if seed is None:
            seed = np.random.randint(1e6)
        np.random.RandomState(seed).shuffle(file_paths)
        np.random.RandomState(seed).shuffle(out_labels)
    return file_paths, out_labels, class_names


def get_training_or_validation_split(samples, labels, validation_split, subset):
    """tf-keras's split: the last ``int(validation_split * n)`` samples are validation."""
    if not validation_split:
        return samples, labels
    n_val = int(validation_split * len(samples))
    if subset == "training":
        print(f"Using {len(samples) - n_val} files for training.")
        return samples[:-n_val], (labels[:-n_val] if labels is not None else None)
    if subset == "validation":
        print(f"Using {n_val} files for validation.")
        return samples[-n_val:], (labels[-n_val:] if labels is not None else None)
    raise ValueError(f'`subset` must be either "training" or "validation", received: {subset}')


def _encode_labels(labels, label_mode: Optional[str], num_classes: int):
    if label_mode is None or labels is None:
        return None
    labels = np.asarray(labels)
    if label_mode == "binary":
        return labels.astype("float32").reshape(-1, 1)
    if label_mode == "categorical":
        return np.eye(num_classes, dtype="float32")[labels.astype("int64")]
    return labels.astype("int32")


class _BatchedSamples(Sequence):
    """A Sequence of ``batch_size`` samples, loaded by ``_load(indices)``, reshuffled each
    epoch with a seeded RandomState when ``shuffle``."""

    def __init__(self, n: int, labels: Optional[np.ndarray], batch_size: Optional[int],
                 shuffle: bool, seed: Optional[int]):
        self._n = n
        self._labels = labels
        self.batch_size = batch_size
        self.shuffle = shuffle
        self._rng = np.random.RandomState(seed)
        self._order = np.arange(n)
        if shuffle:
            self._rng.shuffle(self._order)

    def __len__(self) -> int:
        if self.batch_size is None:
            return self._n
        return (self._n + self.batch_size - 1) // self.batch_size

    def __getitem__(self, index: int):
        if not 0 <= index < len(self):
            raise IndexError(f"Batch index {index} out of range for a Sequence of length "
                             f"{len(self)}")
        if self.batch_size is None:
            idx = self._order[index:index + 1]
        else:
            idx = self._order[index * self.batch_size:(index + 1) * self.batch_size]
        x = self._load(idx)
        if self.batch_size is None:
            x = x[0]
        if self._labels is None:
            return x
        y = self._labels[idx]
        return x, (y[0] if self.batch_size is None else y)

    def _load(self, idx: np.ndarray):
        raise NotImplementedError

    def on_epoch_end(self) -> None:
        if self.shuffle:
            self._rng.shuffle(self._order)


def _build(make, paths, labels, label_mode, class_names, validation_split, subset, what,
           directory, allowed):
    def one(part: str):
        p, lab = get_training_or_validation_split(paths, labels, validation_split, part)
        if not len(p):
            kind = {"training": "training ", "validation": "validation "}.get(part, "") \
                if subset == "both" else ""
            raise ValueError(f"No {kind}{what} found in directory {directory}. {allowed}")
        return make(list(p), _encode_labels(lab, label_mode, len(class_names)))
    if subset == "both":
        return [one("training"), one("validation")]
    return one(subset)


# ------------------------------------------------------------------ images
def _resize(array: np.ndarray, size: Tuple[int, int], interpolation: str) -> np.ndarray:
    import torch
    import torch.nn.functional as F
    t = torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32)).permute(2, 0, 1)[None]
    mode = {"nearest": "nearest-exact"}.get(interpolation, interpolation)
    kwargs = {} if mode in ("nearest-exact", "area") else {"align_corners": False}
    out = F.interpolate(t, size=tuple(size), mode=mode, **kwargs)
    return out[0].permute(1, 2, 0).numpy()


def _crop_to_aspect_ratio(array: np.ndarray, size: Tuple[int, int]) -> np.ndarray:
    height, width = array.shape[:2]
    crop_h = min(height, int(np.float32(width * size[0]) / size[1]))
    crop_w = min(width, int(np.float32(height * size[1]) / size[0]))
    top, left = int((height - crop_h) / 2), int((width - crop_w) / 2)
    return array[top:top + crop_h, left:left + crop_w]


class ImageDataset(_BatchedSamples):
    """Batches ``(images, labels)`` of ``image_dataset_from_directory``: float32 images of
    shape ``(batch, height, width, channels)``; ``class_names`` and ``file_paths`` as in
    tf-keras."""

    def __init__(self, file_paths: List[str], labels, class_names: List[str], image_size,
                 num_channels: int, interpolation: str, crop_to_aspect_ratio: bool,
                 batch_size: Optional[int], shuffle: bool, seed: Optional[int]):
        super().__init__(len(file_paths), labels, batch_size, shuffle, seed)
        self.file_paths = file_paths
        self.class_names = class_names
        self.image_size = tuple(image_size)
        self.num_channels = num_channels
        self.interpolation = interpolation
        self.crop_to_aspect_ratio = crop_to_aspect_ratio

    def load_image(self, path: str) -> np.ndarray:
        from ..preprocessing.image.utils import pil_image
        image = pil_image()
        with image.open(path) as img:
            mode = {1: "L", 3: "RGB", 4: "RGBA"}[self.num_channels]
            array = np.asarray(img.convert(mode), dtype=np.float32)
        if array.ndim == 2:
            array = array[:, :, None]
        if self.crop_to_aspect_ratio:
            array = _crop_to_aspect_ratio(array, self.image_size)
        return _resize(array, self.image_size, self.interpolation)

    def _load(self, idx: np.ndarray) -> np.ndarray:
        return np.stack([self.load_image(self.file_paths[i]) for i in idx])


Labels = Union[str, SequenceType[int], None]


def image_dataset_from_directory(directory: str, labels: Labels = "inferred",
                                 label_mode: Optional[str] = "int",
                                 class_names: Optional[List[str]] = None,
                                 color_mode: str = "rgb", batch_size: Optional[int] = 32,
                                 image_size: Tuple[int, int] = (256, 256), shuffle: bool = True,
                                 seed: Optional[int] = None,
                                 validation_split: Optional[float] = None,
                                 subset: Optional[str] = None, interpolation: str = "bilinear",
                                 follow_links: bool = False, crop_to_aspect_ratio: bool = False,
                                 **kwargs):
    """A Sequence of image batches from a folder tree (tf-keras 2.x's helper).

    Args:
        directory: the folder; with ``labels="inferred"`` one sub-folder per class.
        labels: ``"inferred"`` (from the sub-folders), a list of labels (one per file, in
            sorted file order) or None.
        label_mode: ``"int"``, ``"categorical"``, ``"binary"`` or None.
        class_names: the class sub-folders, in label order (``labels="inferred"`` only).
        color_mode: ``"grayscale"``, ``"rgb"`` or ``"rgba"``.
        batch_size: images per batch (None: single samples).
        image_size: ``(height, width)`` the images are resized to.
        shuffle: shuffle the files (seeded) and each epoch's order.
        seed: the shuffle seed (needed with ``validation_split`` and ``shuffle``).
        validation_split: fraction of the files for validation.
        subset: ``"training"``, ``"validation"`` or ``"both"`` (a list of the two).
        interpolation: ``"bilinear"``, ``"nearest"``, ``"bicubic"`` or ``"area"``
            (torch's resize, half-pixel centres, no antialiasing, as ``tf.image.resize``).
        follow_links: follow symbolic links.
        crop_to_aspect_ratio: crop the largest centred box of the target aspect ratio first.

    Returns:
        An ``ImageDataset`` Sequence yielding ``(images, labels)`` (images only without
        labels) with ``class_names`` and ``file_paths``; a list of two with
        ``subset="both"``.

    Example:
        >>> train = image_dataset_from_directory("data", image_size=(64, 64), seed=1,
        ...                                      validation_split=0.2, subset="training")
        >>> model.fit(train, epochs=3)
    """
    if "smart_resize" in kwargs:
        crop_to_aspect_ratio = kwargs.pop("smart_resize")
    if kwargs:
        raise TypeError(f"Unknown keywords argument(s): {tuple(kwargs.keys())}")
    _check_labels(labels, class_names, label_mode, "image")
    if labels is None or label_mode is None:
        labels, label_mode = None, None
    channels = {"rgb": 3, "rgba": 4, "grayscale": 1}.get(color_mode)
    if channels is None:
        raise ValueError('`color_mode` must be one of {"rgb", "rgba", "grayscale"}. Received: '
                         f"color_mode={color_mode}")
    if interpolation not in RESIZE_METHODS:
        raise NotImplementedError(f"Value not recognized for `interpolation`: {interpolation}. "
                                  f"Supported values are: {RESIZE_METHODS}")
    check_validation_split_arg(validation_split, subset, shuffle, seed)
    if seed is None:
        seed = np.random.randint(1e6)
    paths, found, class_names = index_directory(directory, labels, IMAGE_FORMATS, class_names,
                                                shuffle, seed, follow_links)
    if label_mode == "binary" and len(class_names) != 2:
        raise ValueError('When passing `label_mode="binary"`, there must be exactly 2 '
                         f"class_names. Received: class_names={class_names}")

    def make(p, lab):
        return ImageDataset(p, lab, class_names, image_size, channels, interpolation,
                            crop_to_aspect_ratio, batch_size, shuffle, seed)
    return _build(make, paths, found if label_mode else None, label_mode, class_names,
                  validation_split, subset, "images", directory,
                  f"Allowed formats: {IMAGE_FORMATS}")


# ------------------------------------------------------------------ texts
class TextDataset(_BatchedSamples):
    """Batches ``(texts, labels)`` of ``text_dataset_from_directory``: a numpy array of
    ``str`` (UTF-8 decoded; tf-keras yields bytes) per batch."""

    def __init__(self, file_paths: List[str], labels, class_names: List[str],
                 max_length: Optional[int], batch_size: Optional[int], shuffle: bool,
                 seed: Optional[int]):
        super().__init__(len(file_paths), labels, batch_size, shuffle, seed)
        self.file_paths = file_paths
        self.class_names = class_names
        self.max_length = max_length

    def _read(self, path: str) -> str:
        with open(path, "rb") as f:
            data = f.read() if self.max_length is None else f.read(self.max_length)
        return data.decode("utf-8", errors="ignore")

    def _load(self, idx: np.ndarray) -> np.ndarray:
        return np.array([self._read(self.file_paths[i]) for i in idx], dtype=object)


def text_dataset_from_directory(directory: str, labels: Labels = "inferred",
                                label_mode: Optional[str] = "int",
                                class_names: Optional[List[str]] = None,
                                batch_size: Optional[int] = 32, max_length: Optional[int] = None,
                                shuffle: bool = True, seed: Optional[int] = None,
                                validation_split: Optional[float] = None,
                                subset: Optional[str] = None, follow_links: bool = False):
    """A Sequence of batches of the ``.txt`` files of a folder tree (tf-keras 2.x's helper).

    Args:
        directory, labels, label_mode, class_names, batch_size, shuffle, seed,
        validation_split, subset, follow_links: as ``image_dataset_from_directory``.
        max_length: keep at most this many bytes of each file.

    Returns:
        A ``TextDataset`` Sequence yielding ``(texts, labels)`` with ``class_names`` and
        ``file_paths``; a list of two with ``subset="both"``.
    """
    _check_labels(labels, class_names, label_mode, "text")
    if labels is None or label_mode is None:
        labels, label_mode = None, None
    check_validation_split_arg(validation_split, subset, shuffle, seed)
    if seed is None:
        seed = np.random.randint(1e6)
    paths, found, class_names = index_directory(directory, labels, (".txt",), class_names,
                                                shuffle, seed, follow_links)
    if label_mode == "binary" and len(class_names) != 2:
        raise ValueError('When passing `label_mode="binary"`, there must be exactly 2 '
                         f"class_names. Received: class_names={class_names}")

    def make(p, lab):
        return TextDataset(p, lab, class_names, max_length, batch_size, shuffle, seed)
    return _build(make, paths, found if label_mode else None, label_mode, class_names,
                  validation_split, subset, "text files", directory, "Allowed format: .txt")


# ------------------------------------------------------------------ time series
class TimeseriesDataset(_BatchedSamples):
    """Batches of windows ``(batch, sequence_length, ...)`` (and targets) of
    ``timeseries_dataset_from_array``."""

    def __init__(self, data, targets, starts: np.ndarray, sequence_length: int,
                 sampling_rate: int, batch_size: Optional[int], shuffle: bool,
                 seed: Optional[int]):
        labels = None if targets is None else np.asarray(targets)[starts]
        super().__init__(len(starts), labels, batch_size, shuffle, None)
        self._order = np.arange(len(starts))  # tf-keras shuffles the start positions once
        self._rng = np.random.RandomState(seed)
        self.data = data
        self.starts = starts
        self.offsets = np.arange(sequence_length) * sampling_rate

    def _load(self, idx: np.ndarray) -> np.ndarray:
        return np.asarray(self.data)[self.starts[idx][:, None] + self.offsets]


def timeseries_dataset_from_array(data, targets, sequence_length: int, sequence_stride: int = 1,
                                  sampling_rate: int = 1, batch_size: Optional[int] = 128,
                                  shuffle: bool = False, seed: Optional[int] = None,
                                  start_index: Optional[int] = None,
                                  end_index: Optional[int] = None) -> TimeseriesDataset:
    """A Sequence of sliding windows over an array (tf-keras 2.x's helper).

    Window ``i`` is ``data[s : s + sequence_length * sampling_rate : sampling_rate]`` with
    ``s = start_index + i * sequence_stride``; its target is ``targets[s]``.

    Args:
        data: array, time on axis 0.
        targets: targets aligned with ``data`` (``targets[s]`` for the window starting at
            ``s``), or None.
        sequence_length: timesteps per window.
        sequence_stride: step between window starts.
        sampling_rate: step between the timesteps of a window.
        batch_size: windows per batch (None: single windows).
        shuffle: shuffle the windows (seeded ``RandomState``, as tf-keras).
        seed: shuffle seed.
        start_index, end_index: the part of ``data`` used (``end_index`` exclusive).

    Returns:
        A ``TimeseriesDataset`` Sequence.

    Example:
        >>> ds = timeseries_dataset_from_array(np.arange(100), None, sequence_length=10,
        ...                                    batch_size=4)
        >>> ds[0].shape
        (4, 10)
    """
    n = len(data)
    if start_index:
        if start_index < 0:
            raise ValueError(f"`start_index` must be 0 or greater. Received: "
                             f"start_index={start_index}")
        if start_index >= n:
            raise ValueError("`start_index` must be lower than the length of the data. "
                             f"Received: start_index={start_index}, for data of length {n}")
    if end_index:
        if start_index and end_index <= start_index:
            raise ValueError("`end_index` must be higher than `start_index`. Received: "
                             f"start_index={start_index}, and end_index={end_index} ")
        if end_index >= n:
            raise ValueError("`end_index` must be lower than the length of the data. Received: "
                             f"end_index={end_index}, for data of length {n}")
        if end_index <= 0:
            raise ValueError(f"`end_index` must be higher than 0. Received: end_index={end_index}")
    if sampling_rate <= 0:
        raise ValueError(f"`sampling_rate` must be higher than 0. Received: "
                         f"sampling_rate={sampling_rate}")
    if sampling_rate >= n:
        raise ValueError("`sampling_rate` must be lower than the length of the data. Received: "
                         f"sampling_rate={sampling_rate}, for data of length {n}")
    if sequence_stride <= 0:
        raise ValueError(f"`sequence_stride` must be higher than 0. Received: "
                         f"sequence_stride={sequence_stride}")
    if sequence_stride >= n:
        raise ValueError("`sequence_stride` must be lower than the length of the data. "
                         f"Received: sequence_stride={sequence_stride}, for data of length {n}")
    start_index = 0 if start_index is None else start_index
    end_index = n if end_index is None else end_index
    num_seqs = end_index - start_index - (sequence_length - 1) * sampling_rate
    if targets is not None:
        num_seqs = min(num_seqs, len(targets))
    positions = np.arange(0, max(num_seqs, 0), sequence_stride)
    if shuffle:
        if seed is None:
            seed = np.random.randint(1e6)
        np.random.RandomState(seed).shuffle(positions)
    starts = positions + start_index
    if targets is not None:
        targets = np.asarray(targets)
    return TimeseriesDataset(data, targets, starts, sequence_length, sampling_rate, batch_size,
                             shuffle, seed)
