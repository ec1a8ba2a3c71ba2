"""``DataFrameIterator``: augmented batches of the image files listed in a DataFrame.

Works on any pandas ``DataFrame`` (pandas is only needed by whoever builds the frame;
tkeras does not import it)."""
from __future__ import annotations

import os
import warnings
from typing import List, Optional, Tuple, Union

import numpy as np

from ..._warn import TkerasWarning
from .iterator import BatchFromFilesMixin, _AugmentingIterator
from .utils import validate_filename

__all__ = ["DataFrameIterator"]

_NO_CLASSES = ("input", "multi_output", "raw", None)


class DataFrameIterator(BatchFromFilesMixin, _AugmentingIterator):
    """Batches of images whose paths (and labels) are columns of a pandas DataFrame (what
    ``ImageDataGenerator.flow_from_dataframe`` returns); a ``tkeras.utils.Sequence``.

    Args:
        dataframe: the DataFrame.
        directory: folder the paths are relative to (None: the paths as given).
        image_data_generator: the ``ImageDataGenerator`` (or None).
        x_col: column of file paths.
        y_col: label column (a list of columns for ``"multi_output"`` / ``"raw"``).
        weight_col: column of sample weights.
        class_mode: ``"binary"``, ``"categorical"`` (labels may be lists: multi-label),
            ``"input"``, ``"multi_output"``, ``"raw"``, ``"sparse"`` or None.
        validate_filenames: drop rows whose path is not an existing image file (warns).
        Others: as ``DirectoryIterator``.
    """

    allowed_class_modes = {"binary", "categorical", "input", "multi_output", "raw", "sparse",
                           None}

    def __init__(self, dataframe, directory: Optional[str] = None, image_data_generator=None,
                 x_col: str = "filename", y_col: Union[str, List[str]] = "class",
                 weight_col: Optional[str] = None, target_size: Tuple[int, int] = (256, 256),
                 color_mode: str = "rgb", classes: Optional[List[str]] = None,
                 class_mode: Optional[str] = "categorical", batch_size: int = 32,
                 shuffle: bool = True, seed: Optional[int] = None,
                 data_format: str = "channels_last", save_to_dir: Optional[str] = None,
                 save_prefix: str = "", save_format: str = "png", subset: Optional[str] = None,
                 interpolation: str = "nearest", dtype: str = "float32",
                 validate_filenames: bool = True):
        self.set_processing_attrs(image_data_generator, target_size, color_mode, data_format,
                                  save_to_dir, save_prefix, save_format, subset, interpolation)
        df = dataframe.copy()
        self.directory = directory or ""
        self.class_mode = class_mode
        self.dtype = dtype
        self._check_params(df, x_col, y_col, weight_col, classes)
        if validate_filenames:
            df = self._filter_valid_filepaths(df, x_col)
        if class_mode not in _NO_CLASSES:
            df, classes = self._filter_classes(df, y_col, classes)
            num_classes = len(classes)
            self.class_indices = dict(zip(classes, range(len(classes))))
        if self.split:
            start, stop = int(self.split[0] * len(df)), int(self.split[1] * len(df))
            df = df.iloc[start:stop, :]
        if class_mode not in _NO_CLASSES:
            self.classes = self.get_classes(df, y_col)
        self.filenames = df[x_col].tolist()
        self._sample_weight = df[weight_col].values if weight_col else None
        if class_mode == "multi_output":
            self._targets = [np.array(df[col].tolist()) for col in y_col]
        if class_mode == "raw":
            self._targets = df[y_col].values
        self.samples = len(self.filenames)
        validated = "validated" if validate_filenames else "non-validated"
        if class_mode in _NO_CLASSES:
            print(f"Found {self.samples} {validated} image filenames.")
        else:
            print(f"Found {self.samples} {validated} image filenames belonging to {num_classes} "
                  "classes.")
        self._filepaths = [os.path.join(self.directory, f) for f in self.filenames]
        super().__init__(self.samples, batch_size, shuffle, seed)

    def _check_params(self, df, x_col, y_col, weight_col, classes) -> None:
        if self.class_mode not in self.allowed_class_modes:
            raise ValueError(f"Invalid class_mode: {self.class_mode}; expected one of: "
                             f"{self.allowed_class_modes}")
        if self.class_mode == "multi_output" and not isinstance(y_col, list):
            raise TypeError(f'If class_mode="{self.class_mode}", y_col must be a list. '
                            f"Received {type(y_col).__name__}.")
        if not all(isinstance(v, str) for v in df[x_col]):
            raise TypeError(f"All values in column x_col={x_col} must be strings.")
        if self.class_mode in {"binary", "sparse"}:
            if not all(isinstance(v, str) for v in df[y_col]):
                raise TypeError(f'If class_mode="{self.class_mode}", y_col="{y_col}" column '
                                "values must be strings.")
        if self.class_mode == "binary":
            if classes:
                if len(set(classes)) != 2:
                    raise ValueError('If class_mode="binary" there must be 2 classes. '
                                     f"{len(set(classes))} class/es were given.")
            elif df[y_col].nunique() != 2:
                raise ValueError('If class_mode="binary" there must be 2 classes. Found '
                                 f"{df[y_col].nunique()} classes.")
        if self.class_mode == "categorical":
            if not all(isinstance(v, (str, list, tuple)) for v in df[y_col]):
                raise TypeError(f'If class_mode="{self.class_mode}", y_col="{y_col}" column '
                                "values must be type string, list or tuple.")
        if classes and self.class_mode in _NO_CLASSES:
            warnings.warn(f'`classes` will be ignored given the class_mode="{self.class_mode}"',
                          TkerasWarning, stacklevel=4)
        if weight_col and not issubclass(df[weight_col].dtype.type, np.number):
            raise TypeError(f"Column weight_col={weight_col} must be numeric.")

    def get_classes(self, df, y_col) -> list:
        """The class index (or indices, for list labels) of every row."""
        labels = []
        for label in df[y_col]:
            if isinstance(label, (list, tuple)):
                labels.append([self.class_indices[v] for v in label])
            else:
                labels.append(self.class_indices[label])
        return labels

    @staticmethod
    def _filter_classes(df, y_col, classes):
        df = df.copy()

        def keep_known(labels, known):
            if isinstance(labels, (list, tuple)):
                return [c for c in labels if c in known] or None
            if isinstance(labels, str):
                return labels if labels in known else None
            raise TypeError(f"Expect string, list or tuple but found {type(labels)} in {y_col} "
                            "column ")
        if classes:
            classes = set(classes)
            df[y_col] = df[y_col].apply(lambda v: keep_known(v, classes))
        else:
            classes = set()
            for v in df[y_col]:
                if isinstance(v, (list, tuple)):
                    classes.update(v)
                else:
                    classes.add(v)
        return df.dropna(subset=[y_col]), sorted(classes)

    def _filter_valid_filepaths(self, df, x_col):
        mask = np.array([validate_filename(os.path.join(self.directory, f),
                                           self.white_list_formats) for f in df[x_col]],
                        dtype=bool)
        n_invalid = int((~mask).sum())
        if n_invalid:
            warnings.warn(f'Found {n_invalid} invalid image filename(s) in x_col="{x_col}". '
                          "These filename(s) will be ignored.", TkerasWarning, stacklevel=4)
        return df[mask]

    @property
    def filepaths(self) -> List[str]:
        return self._filepaths

    @property
    def labels(self):
        if self.class_mode in {"multi_output", "raw"}:
            return self._targets
        return self.classes

    @property
    def sample_weight(self):
        return self._sample_weight
