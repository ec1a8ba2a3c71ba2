"""Image file helpers of keras-preprocessing 1.1: ``load_img``, ``img_to_array``,
``array_to_img``, ``save_img``, ``list_pictures`` and the directory listing used by the
iterators. Pillow is imported lazily; without it these functions raise an ImportError
naming the package."""
from __future__ import annotations

import io
import os
import warnings
from typing import Iterator as IteratorType, List, Optional, Sequence, Tuple, Union

import numpy as np

from ..._warn import TkerasDeprecationWarning, TkerasWarning

__all__ = ["load_img", "img_to_array", "array_to_img", "save_img", "list_pictures",
           "validate_filename"]

WHITE_LIST_FORMATS = ("png", "jpg", "jpeg", "bmp", "ppm", "tif", "tiff")


def pil_image():
    """The ``PIL.Image`` module, or an ImportError that says what to install."""
    try:
        from PIL import Image
    except ImportError:
        raise ImportError("Image loading and augmentation need Pillow: "
                          "`pip install Pillow` (or `pip install tkeras[image]`).") from None
    return Image


def interpolation_methods() -> dict:
    """Name -> Pillow resampling filter, for ``load_img``'s ``interpolation``."""
    image = pil_image()
    resampling = getattr(image, "Resampling", image)
    return {"nearest": resampling.NEAREST, "bilinear": resampling.BILINEAR,
            "bicubic": resampling.BICUBIC, "hamming": resampling.HAMMING,
            "box": resampling.BOX, "lanczos": resampling.LANCZOS}


def _check_data_format(data_format: str, where: str) -> None:
    if data_format not in {"channels_first", "channels_last"}:
        raise ValueError(f"{where}: invalid data_format: {data_format!r}; expected "
                         "'channels_first' or 'channels_last'.")


def validate_filename(filename: str, white_list_formats: Sequence[str]) -> bool:
    """Whether ``filename`` has an allowed extension and is an existing file."""
    return filename.lower().endswith(tuple(white_list_formats)) and os.path.isfile(filename)


def save_img(path, x, data_format: str = "channels_last", file_format: Optional[str] = None,
             scale: bool = True, **kwargs) -> None:
    """Saves an image array to a file (through ``array_to_img``).

    Args:
        path: file path or file object.
        x: a rank-3 image array.
        data_format: ``"channels_last"`` or ``"channels_first"``.
        file_format: Pillow format name; from the file name when None.
        scale: rescale the values to ``[0, 255]`` first.
        **kwargs: passed to ``PIL.Image.save``.
    """
    img = array_to_img(x, data_format=data_format, scale=scale)
    if img.mode == "RGBA" and file_format in ("jpg", "jpeg"):
        warnings.warn("The JPG format does not support RGBA images, converting to RGB.",
                      TkerasWarning, stacklevel=2)
        img = img.convert("RGB")
    img.save(path, format=file_format, **kwargs)


def load_img(path, grayscale: bool = False, color_mode: str = "rgb",
             target_size: Optional[Tuple[int, int]] = None, interpolation: str = "nearest"):
    """Loads an image file as a PIL image.

    Args:
        path: file path (or a file-like object).
        grayscale: deprecated, use ``color_mode="grayscale"``.
        color_mode: ``"grayscale"``, ``"rgb"`` or ``"rgba"``.
        target_size: ``(height, width)`` to resize to, or None.
        interpolation: resampling filter for the resize: ``"nearest"``, ``"bilinear"``,
            ``"bicubic"``, ``"lanczos"``, ``"box"`` or ``"hamming"``.

    Returns:
        A ``PIL.Image.Image``.

    Example:
        >>> img = load_img("cat.png", target_size=(64, 64))
        >>> img_to_array(img).shape
        (64, 64, 3)
    """
    if grayscale is True:
        warnings.warn('grayscale is deprecated. Please use color_mode = "grayscale"',
                      TkerasDeprecationWarning, stacklevel=2)
        color_mode = "grayscale"
    image = pil_image()
    if color_mode not in ("grayscale", "rgb", "rgba"):
        raise ValueError('color_mode must be "grayscale", "rgb", or "rgba". '
                         f"Received: color_mode={color_mode!r}")
    if isinstance(path, io.BytesIO):
        img = image.open(path)
    elif isinstance(path, (str, bytes, os.PathLike)):
        with open(path, "rb") as f:
            img = image.open(io.BytesIO(f.read()))
    else:
        raise TypeError(f"path should be a path-like or io.BytesIO, not {type(path).__name__}")
    if color_mode == "grayscale":
        if img.mode not in ("L", "I;16", "I"):
            img = img.convert("L")
    elif color_mode == "rgba":
        if img.mode != "RGBA":
            img = img.convert("RGBA")
    elif img.mode != "RGB":
        img = img.convert("RGB")
    if target_size is not None:
        width_height = (int(target_size[1]), int(target_size[0]))
        if img.size != width_height:
            methods = interpolation_methods()
            if interpolation not in methods:
                raise ValueError(f"Invalid interpolation method {interpolation} specified. "
                                 f"Supported methods are {', '.join(methods)}")
            img = img.resize(width_height, methods[interpolation])
    return img


def list_pictures(directory: str,
                  ext: Union[str, Sequence[str]] = ("jpg", "jpeg", "bmp", "png", "ppm", "tif",
                                                    "tiff")) -> List[str]:
    """The paths of the image files under ``directory`` (recursively) with extension ``ext``."""
    exts = tuple("." + e for e in ((ext,) if isinstance(ext, str) else ext))
    return [os.path.join(root, f) for root, _, files in os.walk(directory) for f in files
            if f.lower().endswith(exts)]


def iter_valid_files(directory: str, white_list_formats: Sequence[str],
                     follow_links: bool) -> IteratorType[Tuple[str, str]]:
    """``(root, file name)`` of the allowed files under ``directory``, in sorted order."""
    formats = tuple(white_list_formats)
    for root, _, files in sorted(os.walk(directory, followlinks=follow_links),
                                 key=lambda entry: entry[0]):
        for fname in sorted(files):
            if fname.lower().endswith(".tiff"):
                warnings.warn('Using ".tiff" files with multiple bands will cause distortion. '
                              "Please verify your output.", TkerasWarning, stacklevel=2)
            if fname.lower().endswith(formats):
                yield root, fname


def list_valid_filenames_in_directory(directory: str, white_list_formats: Sequence[str],
                                      split: Optional[Tuple[float, float]], class_indices: dict,
                                      follow_links: bool) -> Tuple[List[int], List[str]]:
    """Class indices and paths (relative to ``directory``'s parent) of one class folder;
    ``split = (start, stop)`` keeps that fraction of the sorted file list."""
    dirname = os.path.basename(directory)
    files = list(iter_valid_files(directory, white_list_formats, follow_links))
    if split:
        start, stop = int(split[0] * len(files)), int(split[1] * len(files))
        files = files[start:stop]
    classes, filenames = [], []
    for root, fname in files:
        classes.append(class_indices[dirname])
        absolute = os.path.join(root, fname)
        filenames.append(os.path.join(dirname, os.path.relpath(absolute, directory)))
    return classes, filenames


def array_to_img(x, data_format: str = "channels_last", scale: bool = True,
                 dtype: str = "float32"):
    """A rank-3 image array as a PIL image.

    Args:
        x: the array.
        data_format: ``"channels_last"`` or ``"channels_first"``.
        scale: shift and scale the values to ``[0, 255]`` (min to 0, max to 255).
        dtype: dtype the array is read as.

    Returns:
        An ``RGBA``, ``RGB``, ``L`` (or, for values above 255, ``I``) PIL image.
    """
    image = pil_image()
    x = np.array(x, dtype=dtype)
    if x.ndim != 3:
        raise ValueError("Expected image array to have rank 3 (single image). Got array with "
                         f"shape: {x.shape}")
    _check_data_format(data_format, "array_to_img")
    if data_format == "channels_first":
        x = x.transpose(1, 2, 0)
    if scale:
        x = x - np.min(x)
        x_max = np.max(x)
        if x_max != 0:
            x /= x_max
        x *= 255
    channels = x.shape[2]
    if channels == 4:
        return image.fromarray(x.astype("uint8"), "RGBA")
    if channels == 3:
        return image.fromarray(x.astype("uint8"), "RGB")
    if channels == 1:
        if np.max(x) > 255:  # 32-bit signed integer grayscale
            return image.fromarray(x[:, :, 0].astype("int32"), "I")
        return image.fromarray(x[:, :, 0].astype("uint8"), "L")
    raise ValueError(f"Unsupported channel number: {channels}")


def img_to_array(img, data_format: str = "channels_last", dtype: str = "float32") -> np.ndarray:
    """A PIL image as a rank-3 array (``(H, W, C)`` or ``(C, H, W)``).

    Args:
        img: the PIL image.
        data_format: ``"channels_last"`` or ``"channels_first"``.
        dtype: dtype of the array.
    """
    _check_data_format(data_format, "img_to_array")
    x = np.asarray(img, dtype=dtype)
    if x.ndim == 3:
        if data_format == "channels_first":
            x = x.transpose(2, 0, 1)
    elif x.ndim == 2:
        x = x.reshape((1,) + x.shape) if data_format == "channels_first" \
            else x.reshape(x.shape + (1,))
    else:
        raise ValueError(f"Unsupported image shape: {x.shape}")
    return x
