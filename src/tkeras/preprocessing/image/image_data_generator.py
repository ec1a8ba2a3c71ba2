"""``ImageDataGenerator`` of keras-preprocessing 1.1, with an optional batched torch path."""
from __future__ import annotations

import warnings
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch

from ..._warn import TkerasDeprecationWarning, TkerasWarning
from .affine_transformations import (apply_affine_transform, apply_brightness_shift,
                                     apply_channel_shift, check_fill_mode, flip_axis)
from .batch_transforms import apply_transform_batch
from .dataframe_iterator import DataFrameIterator
from .directory_iterator import DirectoryIterator
from .numpy_array_iterator import NumpyArrayIterator

__all__ = ["ImageDataGenerator"]

Range = Union[float, int, Sequence[float]]


def _batch_device(batch_augment) -> Optional[torch.device]:
    if batch_augment is False or batch_augment is None:
        return None
    if batch_augment is True or batch_augment == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        return torch.device(batch_augment)
    except (RuntimeError, TypeError):
        raise ValueError("`batch_augment` must be False, True, 'auto' or a torch device "
                         "(e.g. 'cpu', 'cuda'). Received: "
                         f"batch_augment={batch_augment!r}") from None


class ImageDataGenerator:
    """Generates batches of image data with real-time augmentation (Keras 2's API).

    Args:
        featurewise_center: subtract the dataset mean (per channel; needs ``fit``).
        samplewise_center: subtract each image's mean.
        featurewise_std_normalization: divide by the dataset std (per channel; ``fit``).
        samplewise_std_normalization: divide each image by its std.
        zca_whitening: apply ZCA whitening (``fit``); forces ``featurewise_center``.
        zca_epsilon: epsilon of the ZCA whitening.
        rotation_range: degrees; rotations drawn from ``U(-range, range)``.
        width_shift_range, height_shift_range: a float (fraction of the size if < 1,
            pixels otherwise; ``U(-r, r)``), an int (pixels from ``range(r)`` times +-1) or
            a list of values to choose from.
        brightness_range: ``(low, high)`` brightness factors (Pillow's enhancer).
        shear_range: shear angle in degrees.
        zoom_range: a float ``r`` (``[1 - r, 1 + r]``) or ``[low, high]``.
        channel_shift_range: range of the random channel shift.
        fill_mode: ``"constant"``, ``"nearest"``, ``"reflect"`` or ``"wrap"``.
        cval: fill value of ``"constant"``.
        horizontal_flip, vertical_flip: random flips.
        rescale: factor applied first in ``standardize`` (after the transforms).
        preprocessing_function: a function of one image, run first in ``standardize``.
        data_format: ``"channels_last"`` or ``"channels_first"``.
        validation_split: fraction kept for ``subset="validation"``.
        interpolation_order: spline order of the affine transforms.
        dtype: dtype of the generated arrays.
        batch_augment: beyond Keras. ``False`` (default) transforms one image at a time
            with scipy, exactly as Keras. ``True`` / ``"auto"`` (CUDA when available, else
            the CPU) or a device transforms each batch at once on torch (see
            ``batch_transforms``) with the same random parameters; on a GPU the batches
            stay there as torch tensors (``fit`` takes them as they are), on the CPU they
            are numpy arrays. Needs ``interpolation_order=1``.

    Example:
        >>> datagen = ImageDataGenerator(rotation_range=20, horizontal_flip=True)
        >>> x = np.random.rand(8, 32, 32, 3)
        >>> batch = next(datagen.flow(x, batch_size=4))
        >>> batch.shape
        (4, 32, 32, 3)
    """

    def __init__(self, featurewise_center: bool = False, samplewise_center: bool = False,
                 featurewise_std_normalization: bool = False,
                 samplewise_std_normalization: bool = False, zca_whitening: bool = False,
                 zca_epsilon: float = 1e-6, rotation_range: float = 0,
                 width_shift_range: Range = 0.0, height_shift_range: Range = 0.0,
                 brightness_range: Optional[Sequence[float]] = None, shear_range: float = 0.0,
                 zoom_range: Range = 0.0, channel_shift_range: float = 0.0,
                 fill_mode: str = "nearest", cval: float = 0.0, horizontal_flip: bool = False,
                 vertical_flip: bool = False, rescale: Optional[float] = None,
                 preprocessing_function: Optional[Callable] = None,
                 data_format: str = "channels_last", validation_split: float = 0.0,
                 interpolation_order: int = 1, dtype: str = "float32",
                 batch_augment: Union[bool, str, torch.device] = False):
        self.featurewise_center = featurewise_center
        self.samplewise_center = samplewise_center
        self.featurewise_std_normalization = featurewise_std_normalization
        self.samplewise_std_normalization = samplewise_std_normalization
        self.zca_whitening = zca_whitening
        self.zca_epsilon = zca_epsilon
        self.rotation_range = rotation_range
        self.width_shift_range = width_shift_range
        self.height_shift_range = height_shift_range
        self.shear_range = shear_range
        self.channel_shift_range = channel_shift_range
        check_fill_mode(fill_mode)
        self.fill_mode = fill_mode
        self.cval = cval
        self.horizontal_flip = horizontal_flip
        self.vertical_flip = vertical_flip
        self.rescale = rescale
        self.preprocessing_function = preprocessing_function
        self.dtype = dtype
        self.interpolation_order = interpolation_order
        if data_format not in {"channels_last", "channels_first"}:
            raise ValueError('`data_format` should be `"channels_last"` (channel after row and '
                             'column) or `"channels_first"` (channel before row and column). '
                             f"Received: {data_format}")
        self.data_format = data_format
        if data_format == "channels_first":
            self.channel_axis, self.row_axis, self.col_axis = 1, 2, 3
        else:
            self.channel_axis, self.row_axis, self.col_axis = 3, 1, 2
        if validation_split and not 0 < validation_split < 1:
            raise ValueError("`validation_split` must be strictly between 0 and 1.  Received: "
                             f"{validation_split}")
        self._validation_split = validation_split
        self.mean: Optional[np.ndarray] = None
        self.std: Optional[np.ndarray] = None
        self.zca_whitening_matrix: Optional[np.ndarray] = None
        if isinstance(zoom_range, (float, int)):
            self.zoom_range = [1 - zoom_range, 1 + zoom_range]
        elif (hasattr(zoom_range, "__len__") and len(zoom_range) == 2
              and all(isinstance(v, (float, int)) for v in zoom_range)):
            self.zoom_range = [zoom_range[0], zoom_range[1]]
        else:
            raise ValueError("`zoom_range` should be a float or a tuple or list of two floats. "
                             f"Received: {zoom_range}")
        self._force_flags(featurewise_center, featurewise_std_normalization, samplewise_center,
                          samplewise_std_normalization)
        if brightness_range is not None and (not isinstance(brightness_range, (tuple, list))
                                             or len(brightness_range) != 2):
            raise ValueError("`brightness_range should be tuple or list of two floats. "
                             f"Received: {brightness_range}")
        self.brightness_range = brightness_range
        self.batch_augment = batch_augment
        self.batch_device = _batch_device(batch_augment)
        if self.batch_device is not None and interpolation_order != 1:
            raise ValueError("`batch_augment` interpolates bilinearly: it needs "
                             f"interpolation_order=1. Received: {interpolation_order}")

    def _force_flags(self, featurewise_center, featurewise_std, samplewise_center,
                     samplewise_std) -> None:
        """Keras's implied flags, with its warnings."""
        def say(message):
            warnings.warn("This ImageDataGenerator specifies " + message, TkerasWarning,
                          stacklevel=3)
        if self.zca_whitening:
            if not featurewise_center:
                self.featurewise_center = True
                say("`zca_whitening`, which overrides setting of `featurewise_center`.")
            if featurewise_std:
                self.featurewise_std_normalization = False
                say("`zca_whitening` which overrides setting of"
                    "`featurewise_std_normalization`.")
        if featurewise_std and not featurewise_center:
            self.featurewise_center = True
            say("`featurewise_std_normalization`, which overrides setting of "
                "`featurewise_center`.")
        if samplewise_std and not samplewise_center:
            self.samplewise_center = True
            say("`samplewise_std_normalization`, which overrides setting of "
                "`samplewise_center`.")

    @property
    def principal_components(self) -> Optional[np.ndarray]:
        """keras-preprocessing's name of ``zca_whitening_matrix``."""
        return self.zca_whitening_matrix

    @principal_components.setter
    def principal_components(self, value) -> None:
        self.zca_whitening_matrix = value

    # ------------------------------------------------------------------ iterators
    def flow(self, x, y=None, batch_size: int = 32, shuffle: bool = True, sample_weight=None,
             seed: Optional[int] = None, save_to_dir: Optional[str] = None,
             save_prefix: str = "", save_format: str = "png",
             subset: Optional[str] = None) -> NumpyArrayIterator:
        """Batches of augmented data from arrays.

        Args:
            x: images (rank 4), or a tuple ``(images, extra arrays)`` whose extra arrays
                are passed through untouched (the batch's x is then a list).
            y: labels, or None.
            batch_size: images per batch.
            shuffle: shuffle the order each epoch.
            sample_weight: per-sample weights (yielded third).
            seed: seed of the shuffle and the transforms.
            save_to_dir: a folder to save the augmented images in.
            save_prefix, save_format: file name prefix and format of the saved images.
            subset: ``"training"`` or ``"validation"`` with ``validation_split``.

        Returns:
            A ``NumpyArrayIterator`` yielding ``(x, y)`` (``(x, y, sample_weight)`` with
            weights; ``x`` alone without ``y``).
        """
        return NumpyArrayIterator(x, y, self, batch_size=batch_size, shuffle=shuffle,
                                  sample_weight=sample_weight, seed=seed,
                                  data_format=self.data_format, save_to_dir=save_to_dir,
                                  save_prefix=save_prefix, save_format=save_format,
                                  subset=subset, dtype=self.dtype)

    def flow_from_directory(self, directory: str, target_size: Tuple[int, int] = (256, 256),
                            color_mode: str = "rgb", classes: Optional[List[str]] = None,
                            class_mode: Optional[str] = "categorical", batch_size: int = 32,
                            shuffle: bool = True, seed: Optional[int] = None,
                            save_to_dir: Optional[str] = None, save_prefix: str = "",
                            save_format: str = "png", follow_links: bool = False,
                            subset: Optional[str] = None,
                            interpolation: str = "nearest") -> DirectoryIterator:
        """Batches of augmented images read from one sub-folder per class.

        Args:
            directory: the folder holding one sub-folder per class.
            target_size: ``(height, width)`` the images are resized to.
            color_mode: ``"grayscale"``, ``"rgb"`` or ``"rgba"``.
            classes: class sub-folder names (sorted sub-folders when None).
            class_mode: ``"categorical"``, ``"binary"``, ``"sparse"``, ``"input"`` or None.
            batch_size, shuffle, seed, save_to_dir, save_prefix, save_format: as ``flow``.
            follow_links: follow symbolic links in the class folders.
            subset: ``"training"`` or ``"validation"`` with ``validation_split``.
            interpolation: resampling filter of the resize.

        Returns:
            A ``DirectoryIterator``.
        """
        return DirectoryIterator(directory, self, target_size=target_size,
                                 color_mode=color_mode, classes=classes, class_mode=class_mode,
                                 data_format=self.data_format, batch_size=batch_size,
                                 shuffle=shuffle, seed=seed, save_to_dir=save_to_dir,
                                 save_prefix=save_prefix, save_format=save_format,
                                 follow_links=follow_links, subset=subset,
                                 interpolation=interpolation, dtype=self.dtype)

    def flow_from_dataframe(self, dataframe, directory: Optional[str] = None,
                            x_col: str = "filename", y_col: Union[str, List[str]] = "class",
                            weight_col: Optional[str] = None,
                            target_size: Tuple[int, int] = (256, 256), color_mode: str = "rgb",
                            classes: Optional[List[str]] = None,
                            class_mode: Optional[str] = "categorical", batch_size: int = 32,
                            shuffle: bool = True, seed: Optional[int] = None,
                            save_to_dir: Optional[str] = None, save_prefix: str = "",
                            save_format: str = "png", subset: Optional[str] = None,
                            interpolation: str = "nearest", validate_filenames: bool = True,
                            **kwargs) -> DataFrameIterator:
        """Batches of augmented images listed in a pandas DataFrame.

        Args:
            dataframe: a ``pandas.DataFrame`` with the file names (``x_col``) and labels.
            directory: folder the file names are relative to (None: absolute paths).
            x_col: column of file names.
            y_col: label column(s).
            weight_col: column of sample weights.
            class_mode: ``"binary"``, ``"categorical"``, ``"input"``, ``"multi_output"``,
                ``"raw"``, ``"sparse"`` or None.
            validate_filenames: drop rows whose file is missing or not an image.
            Others: as ``flow_from_directory``.

        Returns:
            A ``DataFrameIterator``.
        """
        def deprecated(message):
            warnings.warn(message, TkerasDeprecationWarning, stacklevel=3)
        if "has_ext" in kwargs:
            deprecated("has_ext is deprecated, filenames in the dataframe have to match the "
                       "exact filenames in disk.")
        if "sort" in kwargs:
            deprecated("sort is deprecated, batches will be created in the same order than the "
                       "filenames provided if shuffle is set to False.")
        if class_mode == "other":
            deprecated('`class_mode` "other" is deprecated, please use `class_mode` "raw".')
            class_mode = "raw"
        if "drop_duplicates" in kwargs:
            deprecated("drop_duplicates is deprecated, you can drop duplicates by using the "
                       "pandas.DataFrame.drop_duplicates method.")
        unknown = set(kwargs) - {"has_ext", "sort", "drop_duplicates"}
        if unknown:
            raise TypeError(f"flow_from_dataframe() got unexpected keyword arguments: "
                            f"{sorted(unknown)}")
        return DataFrameIterator(dataframe, directory, self, x_col=x_col, y_col=y_col,
                                 weight_col=weight_col, target_size=target_size,
                                 color_mode=color_mode, classes=classes, class_mode=class_mode,
                                 data_format=self.data_format, batch_size=batch_size,
                                 shuffle=shuffle, seed=seed, save_to_dir=save_to_dir,
                                 save_prefix=save_prefix, save_format=save_format, subset=subset,
                                 interpolation=interpolation,
                                 validate_filenames=validate_filenames, dtype=self.dtype)

    # ------------------------------------------------------------------ normalisation
    def _not_fit(self, flag: str) -> None:
        warnings.warn(f"This ImageDataGenerator specifies `{flag}`, but it hasn't been fit on "
                      "any training data. Fit it first by calling `.fit(numpy_data)`.",
                      TkerasWarning, stacklevel=3)

    def standardize(self, x):
        """Applies the normalisation to an image or batch, in place where it can.

        Order (Keras's): ``preprocessing_function``, ``rescale``, samplewise centre and
        std (``+1e-6``), featurewise centre and std (``+1e-6``), ZCA whitening.

        Args:
            x: an image or a batch of images (numpy).

        Returns:
            The normalised array.
        """
        if self.preprocessing_function:
            x = self.preprocessing_function(x)
        if self.rescale:
            x *= self.rescale
        if self.samplewise_center:
            x -= np.mean(x, keepdims=True)
        if self.samplewise_std_normalization:
            x /= np.std(x, keepdims=True) + 1e-6
        if self.featurewise_center:
            if self.mean is not None:
                x -= self.mean
            else:
                self._not_fit("featurewise_center")
        if self.featurewise_std_normalization:
            if self.std is not None:
                x /= self.std + 1e-6
            else:
                self._not_fit("featurewise_std_normalization")
        if self.zca_whitening:
            if self.zca_whitening_matrix is not None:
                flat = np.reshape(x, (-1, int(np.prod(x.shape[-3:]))))
                x = np.reshape(flat @ self.zca_whitening_matrix, x.shape)
            else:
                self._not_fit("zca_whitening")
        return x

    def _standardize_batch_torch(self, x: torch.Tensor) -> torch.Tensor:
        """``standardize`` of a batch tensor, image by image (no preprocessing_function)."""
        if self.rescale:
            x = x * self.rescale
        dims = (1, 2, 3)
        if self.samplewise_center:
            x = x - x.mean(dim=dims, keepdim=True)
        if self.samplewise_std_normalization:
            x = x / (x.std(dim=dims, keepdim=True, correction=0) + 1e-6)

        def tensor(a):
            return torch.as_tensor(np.asarray(a), dtype=x.dtype, device=x.device)
        if self.featurewise_center:
            if self.mean is not None:
                x = x - tensor(self.mean)
            else:
                self._not_fit("featurewise_center")
        if self.featurewise_std_normalization:
            if self.std is not None:
                x = x / (tensor(self.std) + 1e-6)
            else:
                self._not_fit("featurewise_std_normalization")
        if self.zca_whitening:
            if self.zca_whitening_matrix is not None:
                x = (x.reshape(x.shape[0], -1) @ tensor(self.zca_whitening_matrix)).reshape(x.shape)
            else:
                self._not_fit("zca_whitening")
        return x

    # ------------------------------------------------------------------ random transforms
    def _shift(self, shift_range, size: int) -> float:
        if not shift_range:
            return 0
        try:  # 1-D array-like or int
            t = np.random.choice(shift_range)
            t *= np.random.choice([-1, 1])
        except ValueError:  # a float
            t = np.random.uniform(-shift_range, shift_range)
        if np.max(shift_range) < 1:
            t *= size
        return t

    def get_random_transform(self, img_shape: Sequence[int], seed: Optional[int] = None) -> dict:
        """Draws the parameters of one random transform (``np.random``, Keras's order).

        Args:
            img_shape: shape of the image (no batch axis).
            seed: reseeds ``np.random`` first when given.

        Returns:
            A dict with ``theta``, ``tx``, ``ty``, ``shear``, ``zx``, ``zy``,
            ``flip_horizontal``, ``flip_vertical``, ``channel_shift_intensity`` and
            ``brightness``.
        """
        if seed is not None:
            np.random.seed(seed)
        theta = np.random.uniform(-self.rotation_range, self.rotation_range) \
            if self.rotation_range else 0
        tx = self._shift(self.height_shift_range, img_shape[self.row_axis - 1])
        ty = self._shift(self.width_shift_range, img_shape[self.col_axis - 1])
        shear = np.random.uniform(-self.shear_range, self.shear_range) if self.shear_range else 0
        if self.zoom_range[0] == 1 and self.zoom_range[1] == 1:
            zx, zy = 1, 1
        else:
            zx, zy = np.random.uniform(self.zoom_range[0], self.zoom_range[1], 2)
        flip_horizontal = (np.random.random() < 0.5) * self.horizontal_flip
        flip_vertical = (np.random.random() < 0.5) * self.vertical_flip
        channel_shift_intensity = None
        if self.channel_shift_range != 0:
            channel_shift_intensity = np.random.uniform(-self.channel_shift_range,
                                                        self.channel_shift_range)
        brightness = None
        if self.brightness_range is not None:
            brightness = np.random.uniform(self.brightness_range[0], self.brightness_range[1])
        return {"theta": theta, "tx": tx, "ty": ty, "shear": shear, "zx": zx, "zy": zy,
                "flip_horizontal": flip_horizontal, "flip_vertical": flip_vertical,
                "channel_shift_intensity": channel_shift_intensity, "brightness": brightness}

    def apply_transform(self, x: np.ndarray, transform_parameters: Dict[str, Any]) -> np.ndarray:
        """Applies a transform to one image (scipy, as Keras): affine, channel shift,
        horizontal then vertical flip, brightness.

        Args:
            x: a rank-3 image.
            transform_parameters: ``get_random_transform``'s dict (missing keys: identity).

        Returns:
            The transformed image.
        """
        row, col, channel = self.row_axis - 1, self.col_axis - 1, self.channel_axis - 1
        p = transform_parameters
        x = apply_affine_transform(x, p.get("theta", 0), p.get("tx", 0), p.get("ty", 0),
                                   p.get("shear", 0), p.get("zx", 1), p.get("zy", 1),
                                   row_axis=row, col_axis=col, channel_axis=channel,
                                   fill_mode=self.fill_mode, cval=self.cval,
                                   order=self.interpolation_order)
        if p.get("channel_shift_intensity") is not None:
            x = apply_channel_shift(x, p["channel_shift_intensity"], channel)
        if p.get("flip_horizontal", False):
            x = flip_axis(x, col)
        if p.get("flip_vertical", False):
            x = flip_axis(x, row)
        if p.get("brightness") is not None:
            x = apply_brightness_shift(x, p["brightness"])
        return x

    def random_transform(self, x: np.ndarray, seed: Optional[int] = None) -> np.ndarray:
        """``apply_transform`` with freshly drawn parameters."""
        return self.apply_transform(x, self.get_random_transform(x.shape, seed))

    def transform_batch(self, x: np.ndarray, params: Sequence[dict]):
        """Transforms and standardizes a batch with one parameter dict per image.

        Per image with scipy (Keras's path), or the whole batch on torch with
        ``batch_augment``. Returns a numpy array, or a torch tensor on a GPU
        ``batch_augment`` device.
        """
        if self.batch_device is None:
            out = np.zeros(x.shape, dtype=self.dtype)
            for i, image in enumerate(x):
                image = self.apply_transform(image.astype(self.dtype), params[i])
                out[i] = self.standardize(image)
            return out
        batch = torch.as_tensor(np.ascontiguousarray(x, dtype=np.float32),
                                device=self.batch_device)
        needs_pil = any(p.get("brightness") is not None for p in params) \
            and batch.shape[self.channel_axis] not in (1, 3)
        if needs_pil:  # Pillow's brightness of 2- or 4-channel images: per image
            plain = [dict(p, brightness=None) for p in params]
            batch = apply_transform_batch(batch, plain, self.channel_axis, self.fill_mode,
                                          self.cval).cpu().numpy()
            batch = torch.as_tensor(np.stack([
                apply_brightness_shift(im, p["brightness"]) if p.get("brightness") is not None
                else im for im, p in zip(batch, params)]), device=self.batch_device)
        else:
            batch = apply_transform_batch(batch, params, self.channel_axis, self.fill_mode,
                                          self.cval)
        if self.preprocessing_function is not None:
            images = batch.cpu().numpy().astype(self.dtype)
            out = np.stack([self.standardize(im) for im in images]).astype(self.dtype)
            return out if self.batch_device.type == "cpu" else \
                torch.as_tensor(out, device=self.batch_device)
        batch = self._standardize_batch_torch(batch)
        if self.batch_device.type == "cpu":
            return batch.numpy().astype(self.dtype, copy=False)
        return batch

    # ------------------------------------------------------------------ statistics
    def fit(self, x, augment: bool = False, rounds: int = 1, seed: Optional[int] = None) -> None:
        """Computes the featurewise statistics (mean, std, ZCA matrix) of sample data.

        Args:
            x: sample images, rank 4 (``rescale`` is applied first).
            augment: fit on randomly transformed copies.
            rounds: number of transformed copies with ``augment``.
            seed: seeds ``np.random`` first.
        """
        x = np.asarray(x, dtype=self.dtype)
        if x.ndim != 4:
            raise ValueError(f"Input to `.fit()` should have rank 4. Got array with shape: "
                             f"{x.shape}")
        if x.shape[self.channel_axis] not in {1, 3, 4}:
            warnings.warn(
                f'Expected input to be images (as Numpy array) following the data format '
                f'convention "{self.data_format}" (channels on axis {self.channel_axis}), i.e. '
                f"expected either 1, 3 or 4 channels on axis {self.channel_axis}. However, it "
                f"was passed an array with shape {x.shape} ({x.shape[self.channel_axis]} "
                "channels).", TkerasWarning, stacklevel=2)
        if seed is not None:
            np.random.seed(seed)
        x = np.copy(x)
        if self.rescale:
            x *= self.rescale
        if augment:
            augmented = np.zeros((rounds * x.shape[0],) + x.shape[1:], dtype=self.dtype)
            for r in range(rounds):
                for i in range(x.shape[0]):
                    augmented[i + r * x.shape[0]] = self.random_transform(x[i])
            x = augmented
        broadcast = [1, 1, 1]
        broadcast[self.channel_axis - 1] = x.shape[self.channel_axis]
        axes = (0, self.row_axis, self.col_axis)
        if self.featurewise_center:
            self.mean = np.reshape(np.mean(x, axis=axes), broadcast)
            x -= self.mean
        if self.featurewise_std_normalization:
            self.std = np.reshape(np.std(x, axis=axes), broadcast)
            x /= self.std + 1e-6
        if self.zca_whitening:
            n = len(x)
            flat = np.reshape(x, (n, -1))
            u, s, _ = np.linalg.svd(flat.T, full_matrices=False)
            s_inv = np.sqrt(n) / (s + self.zca_epsilon)
            self.zca_whitening_matrix = (u * s_inv) @ u.T
