"""``DirectoryIterator``: augmented batches of image files, one sub-folder per class."""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import List, Optional, Tuple

import numpy as np

from .iterator import BatchFromFilesMixin, _AugmentingIterator
from .utils import list_valid_filenames_in_directory

__all__ = ["DirectoryIterator"]


class DirectoryIterator(BatchFromFilesMixin, _AugmentingIterator):
    """Batches of images read from ``directory/<class>/...`` (what
    ``ImageDataGenerator.flow_from_directory`` returns); a ``tkeras.utils.Sequence``.

    Files are listed in sorted order, classes are the sorted sub-folder names (or
    ``classes``); it prints ``Found N images belonging to K classes.`` as Keras does.

    Args:
        directory: the folder of class sub-folders.
        image_data_generator: the ``ImageDataGenerator`` (or None: no augmentation).
        target_size: ``(height, width)``.
        color_mode: ``"grayscale"``, ``"rgb"`` or ``"rgba"``.
        classes: class names (sub-folders) to use.
        class_mode: ``"categorical"``, ``"binary"``, ``"sparse"``, ``"input"`` or None.
        batch_size, shuffle, seed: batching.
        data_format: ``"channels_last"`` or ``"channels_first"``.
        save_to_dir, save_prefix, save_format: save the augmented images.
        follow_links: follow symbolic links.
        subset: ``"training"`` or ``"validation"``.
        interpolation: resampling filter of the resize.
        dtype: dtype of the batches.

    Example:
        >>> it = ImageDataGenerator(rescale=1 / 255).flow_from_directory(
        ...     "data/train", target_size=(64, 64), batch_size=16)
    """

    allowed_class_modes = {"categorical", "binary", "sparse", "input", None}

    def __init__(self, directory: str, image_data_generator,
                 target_size: Tuple[int, int] = (256, 256), color_mode: str = "rgb",
                 classes: Optional[List[str]] = None, class_mode: Optional[str] = "categorical",
                 batch_size: int = 32, shuffle: bool = True, seed: Optional[int] = None,
                 data_format: str = "channels_last", save_to_dir: Optional[str] = None,
                 save_prefix: str = "", save_format: str = "png", follow_links: bool = False,
                 subset: Optional[str] = None, interpolation: str = "nearest",
                 dtype: str = "float32"):
        self.set_processing_attrs(image_data_generator, target_size, color_mode, data_format,
                                  save_to_dir, save_prefix, save_format, subset, interpolation)
        self.directory = directory
        if class_mode not in self.allowed_class_modes:
            raise ValueError(f"Invalid class_mode: {class_mode}; expected one of: "
                             f"{self.allowed_class_modes}")
        self.class_mode = class_mode
        self.dtype = dtype
        if not os.path.isdir(directory):
            raise FileNotFoundError(f"No such directory: {directory!r} (flow_from_directory "
                                    "expects a folder of class sub-folders).")
        if not classes:
            classes = [d for d in sorted(os.listdir(directory))
                       if os.path.isdir(os.path.join(directory, d))]
        self.num_classes = len(classes)
        self.class_indices = dict(zip(classes, range(len(classes))))
        folders = [os.path.join(directory, c) for c in classes]
        with ThreadPoolExecutor(max(1, min(8, len(folders)))) as pool:
            listed = list(pool.map(
                lambda d: list_valid_filenames_in_directory(d, self.white_list_formats,
                                                            self.split, self.class_indices,
                                                            follow_links), folders))
        self.filenames: List[str] = [f for _, names in listed for f in names]
        self.samples = len(self.filenames)
        self.classes = np.array([c for labels, _ in listed for c in labels], dtype="int32")
        print(f"Found {self.samples} images belonging to {self.num_classes} classes.")
        self._filepaths = [os.path.join(self.directory, f) for f in self.filenames]
        super().__init__(self.samples, batch_size, shuffle, seed)

    @property
    def filepaths(self) -> List[str]:
        return self._filepaths

    @property
    def labels(self) -> np.ndarray:
        return self.classes

    @property
    def sample_weight(self):
        return None
