"""``NumpyArrayIterator``: augmented batches from in-memory arrays (``flow``)."""
from __future__ import annotations

import warnings
from typing import Optional, Tuple

import numpy as np

from ..._warn import TkerasWarning
from .iterator import _AugmentingIterator

__all__ = ["NumpyArrayIterator"]


class NumpyArrayIterator(_AugmentingIterator):
    """Batches of augmented images from a numpy array (what ``ImageDataGenerator.flow``
    returns); a ``tkeras.utils.Sequence``, thread-safe.

    Args:
        x: images of rank 4, or a tuple ``(images, array or list of arrays)`` whose
            second part is passed through with each batch.
        y: labels or None.
        image_data_generator: the ``ImageDataGenerator``.
        batch_size, shuffle, seed: batching.
        sample_weight: per-sample weights or None.
        data_format: ``"channels_last"`` or ``"channels_first"``.
        save_to_dir, save_prefix, save_format: save the augmented images (debugging).
        subset: ``"training"`` or ``"validation"`` (``validation_split`` of the generator).
        dtype: dtype of the batches.

    Example:
        >>> it = ImageDataGenerator().flow(np.zeros((10, 8, 8, 3)), np.arange(10),
        ...                                batch_size=4)
        >>> len(it), it[0][0].shape
        (3, (4, 8, 8, 3))
    """

    def __init__(self, x, y, image_data_generator, batch_size: int = 32, shuffle: bool = False,
                 sample_weight=None, seed: Optional[int] = None,
                 data_format: str = "channels_last", save_to_dir: Optional[str] = None,
                 save_prefix: str = "", save_format: str = "png", subset: Optional[str] = None,
                 dtype: str = "float32"):
        self.dtype = dtype
        if type(x) is tuple or type(x) is list:
            x_misc = [np.asarray(x[1])] if type(x[1]) is not list \
                else [np.asarray(xx) for xx in x[1]]
            x = x[0]
            for xx in x_misc:
                if len(x) != len(xx):
                    raise ValueError("All of the arrays in `x` should have the same length. "
                                     f"Found a pair with: len(x[0]) = {len(x)}, len(x[?]) = "
                                     f"{len(xx)}")
        else:
            x_misc = []
        if y is not None and len(x) != len(y):
            raise ValueError("`x` (images tensor) and `y` (labels) should have the same length. "
                             f"Found: x.shape = {np.asarray(x).shape}, y.shape = "
                             f"{np.asarray(y).shape}")
        if sample_weight is not None and len(x) != len(sample_weight):
            raise ValueError("`x` (images tensor) and `sample_weight` should have the same "
                             f"length. Found: x.shape = {np.asarray(x).shape}, "
                             f"sample_weight.shape = {np.asarray(sample_weight).shape}")
        if subset is not None:
            if subset not in {"training", "validation"}:
                raise ValueError(f"Invalid subset name: {subset!r}; expected \"training\" or "
                                 "\"validation\".")
            split_idx = int(len(x) * image_data_generator._validation_split)
            if y is not None and not np.array_equal(np.unique(y[:split_idx]),
                                                    np.unique(y[split_idx:])):
                raise ValueError("Training and validation subsets have different number of "
                                 "classes after the split. If your numpy arrays are sorted by "
                                 "the label, you might want to shuffle them.")
            part = slice(None, split_idx) if subset == "validation" else slice(split_idx, None)
            x = x[part]
            x_misc = [np.asarray(xx[part]) for xx in x_misc]
            if y is not None:
                y = y[part]
            if sample_weight is not None:
                sample_weight = np.asarray(sample_weight)[part]
        self.x = np.asarray(x, dtype=self.dtype)
        self.x_misc = x_misc
        if self.x.ndim != 4:
            raise ValueError("Input data in `NumpyArrayIterator` should have rank 4. You passed "
                             f"an array with shape {self.x.shape}")
        channels_axis = 3 if data_format == "channels_last" else 1
        if self.x.shape[channels_axis] not in {1, 3, 4}:
            warnings.warn(f'NumpyArrayIterator is set to use the data format convention '
                          f'"{data_format}" (channels on axis {channels_axis}), i.e. expected '
                          f"either 1, 3, or 4 channels on axis {channels_axis}. However, it was "
                          f"passed an array with shape {self.x.shape} "
                          f"({self.x.shape[channels_axis]} channels).", TkerasWarning,
                          stacklevel=3)
        self.y = np.asarray(y) if y is not None else None
        self.sample_weight = np.asarray(sample_weight) if sample_weight is not None else None
        self.image_data_generator = image_data_generator
        self.data_format = data_format
        self.save_to_dir = save_to_dir
        self.save_prefix = save_prefix
        self.save_format = save_format
        super().__init__(self.x.shape[0], batch_size, shuffle, seed)

    def _image_shape(self) -> Tuple[int, ...]:
        return self.x.shape[1:]

    def _batch_from(self, index_array: np.ndarray, draws):
        params, hashes = draws
        batch_x = self._augment(self.x[index_array], params)
        if self.save_to_dir:
            self._save(batch_x, index_array, hashes)
        miscs = [xx[index_array] for xx in self.x_misc]
        output = (batch_x if not miscs else [batch_x] + miscs,)
        if self.y is None:
            return output[0]
        output += (self.y[index_array],)
        if self.sample_weight is not None:
            output += (self.sample_weight[index_array],)
        return output
