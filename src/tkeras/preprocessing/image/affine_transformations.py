"""Per-image transforms of keras-preprocessing 1.1, on numpy with scipy.ndimage (spline
order 1) as Keras applies them.

Geometry (as keras-preprocessing 1.1): the 3x3 matrix ``rotation @ shift @ shear @ zoom``
acts on ``(row, col)`` pixel coordinates around the centre ``(h / 2 + 0.5, w / 2 + 0.5)``
and maps *output* pixels to *input* coordinates; ``tx`` moves along rows, ``ty`` along
columns. The ``random_*`` functions pass their ``row_axis`` / ``col_axis`` on (keras-
preprocessing 1.1 dropped them, centring on the wrong axes for channels-first images).
scipy is imported lazily; without it these raise an ImportError naming it.
"""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

from .utils import array_to_img, img_to_array, pil_image

__all__ = ["flip_axis", "random_rotation", "random_shift", "random_shear", "random_zoom",
           "apply_channel_shift", "random_channel_shift", "apply_brightness_shift",
           "random_brightness", "transform_matrix_offset_center", "apply_affine_transform"]

FILL_MODES = ("constant", "nearest", "reflect", "wrap")


def _ndimage():
    try:
        from scipy import ndimage
    except ImportError:
        raise ImportError("Image transformations require SciPy: `pip install scipy` (or "
                          "`pip install tkeras[image]`). ImageDataGenerator(batch_augment=True) "
                          "transforms with torch instead.") from None
    return ndimage


def check_fill_mode(fill_mode: str) -> None:
    if fill_mode not in FILL_MODES:
        raise ValueError(f"`fill_mode` must be one of {', '.join(FILL_MODES)}. "
                         f"Received: fill_mode={fill_mode!r}")


def flip_axis(x: np.ndarray, axis: int) -> np.ndarray:
    """``x`` reversed along ``axis``."""
    return np.flip(np.asarray(x), axis)


def random_rotation(x: np.ndarray, rg: float, row_axis: int = 1, col_axis: int = 2,
                    channel_axis: int = 0, fill_mode: str = "nearest", cval: float = 0.0,
                    interpolation_order: int = 1) -> np.ndarray:
    """Rotates an image by an angle drawn from ``U(-rg, rg)`` degrees (``np.random``)."""
    theta = np.random.uniform(-rg, rg)
    return apply_affine_transform(x, theta=theta, row_axis=row_axis, col_axis=col_axis,
                                  channel_axis=channel_axis, fill_mode=fill_mode, cval=cval,
                                  order=interpolation_order)


def random_shift(x: np.ndarray, wrg: float, hrg: float, row_axis: int = 1, col_axis: int = 2,
                 channel_axis: int = 0, fill_mode: str = "nearest", cval: float = 0.0,
                 interpolation_order: int = 1) -> np.ndarray:
    """Shifts an image by fractions drawn from ``U(-hrg, hrg)`` of its height and
    ``U(-wrg, wrg)`` of its width (in that order)."""
    h, w = x.shape[row_axis], x.shape[col_axis]
    tx = np.random.uniform(-hrg, hrg) * h
    ty = np.random.uniform(-wrg, wrg) * w
    return apply_affine_transform(x, tx=tx, ty=ty, row_axis=row_axis, col_axis=col_axis,
                                  channel_axis=channel_axis, fill_mode=fill_mode, cval=cval,
                                  order=interpolation_order)


def random_shear(x: np.ndarray, intensity: float, row_axis: int = 1, col_axis: int = 2,
                 channel_axis: int = 0, fill_mode: str = "nearest", cval: float = 0.0,
                 interpolation_order: int = 1) -> np.ndarray:
    """Shears an image by an angle drawn from ``U(-intensity, intensity)`` degrees."""
    shear = np.random.uniform(-intensity, intensity)
    return apply_affine_transform(x, shear=shear, row_axis=row_axis, col_axis=col_axis,
                                  channel_axis=channel_axis, fill_mode=fill_mode, cval=cval,
                                  order=interpolation_order)


def random_zoom(x: np.ndarray, zoom_range: Sequence[float], row_axis: int = 1,
                col_axis: int = 2, channel_axis: int = 0, fill_mode: str = "nearest",
                cval: float = 0.0, interpolation_order: int = 1) -> np.ndarray:
    """Zooms an image by factors ``(zx, zy)`` drawn from ``U(*zoom_range)``."""
    if len(zoom_range) != 2:
        raise ValueError("`zoom_range` should be a tuple or list of two floats. Received: "
                         f"{zoom_range}")
    if zoom_range[0] == 1 and zoom_range[1] == 1:
        zx, zy = 1, 1
    else:
        zx, zy = np.random.uniform(zoom_range[0], zoom_range[1], 2)
    return apply_affine_transform(x, zx=zx, zy=zy, row_axis=row_axis, col_axis=col_axis,
                                  channel_axis=channel_axis, fill_mode=fill_mode, cval=cval,
                                  order=interpolation_order)


def apply_channel_shift(x: np.ndarray, intensity: float, channel_axis: int = 0) -> np.ndarray:
    """Adds ``intensity`` to every channel, clipped to the image's own min and max."""
    x = np.moveaxis(np.asarray(x), channel_axis, 0)
    low, high = np.min(x), np.max(x)
    x = np.stack([np.clip(channel + intensity, low, high) for channel in x], axis=0)
    return np.moveaxis(x, 0, channel_axis)


def random_channel_shift(x: np.ndarray, intensity_range: float,
                         channel_axis: int = 0) -> np.ndarray:
    """``apply_channel_shift`` with an intensity drawn from ``U(-range, range)``."""
    intensity = np.random.uniform(-intensity_range, intensity_range)
    return apply_channel_shift(x, intensity, channel_axis=channel_axis)


def apply_brightness_shift(x: np.ndarray, brightness: float) -> np.ndarray:
    """Pillow's ``ImageEnhance.Brightness(brightness)`` of the image (channels last).

    As in Keras the image goes through ``array_to_img`` first, so the result is in
    ``[0, 255]`` whatever the input range.
    """
    pil_image()
    from PIL import ImageEnhance
    img = array_to_img(x)
    img = ImageEnhance.Brightness(img).enhance(brightness)
    return img_to_array(img)


def random_brightness(x: np.ndarray, brightness_range: Sequence[float]) -> np.ndarray:
    """``apply_brightness_shift`` with a factor drawn from ``U(*brightness_range)``."""
    if len(brightness_range) != 2:
        raise ValueError("`brightness_range should be tuple or list of two floats. Received: "
                         f"{brightness_range}")
    u = np.random.uniform(brightness_range[0], brightness_range[1])
    return apply_brightness_shift(x, u)


def transform_matrix_offset_center(matrix: np.ndarray, x: float, y: float) -> np.ndarray:
    """``matrix`` moved to act around ``(x / 2 + 0.5, y / 2 + 0.5)``."""
    o_x, o_y = float(x) / 2 + 0.5, float(y) / 2 + 0.5
    offset = np.array([[1, 0, o_x], [0, 1, o_y], [0, 0, 1]])
    reset = np.array([[1, 0, -o_x], [0, 1, -o_y], [0, 0, 1]])
    return offset @ matrix @ reset


def affine_matrix(theta: float = 0, tx: float = 0, ty: float = 0, shear: float = 0,
                  zx: float = 1, zy: float = 1) -> Optional[np.ndarray]:
    """Keras's 3x3 ``rotation @ shift @ shear @ zoom`` (None for the identity), before
    centring. Angles in degrees."""
    matrix = None

    def chain(m):
        return m if matrix is None else matrix @ m
    if theta != 0:
        t = np.deg2rad(theta)
        matrix = np.array([[np.cos(t), -np.sin(t), 0], [np.sin(t), np.cos(t), 0], [0, 0, 1]])
    if tx != 0 or ty != 0:
        matrix = chain(np.array([[1, 0, tx], [0, 1, ty], [0, 0, 1]]))
    if shear != 0:
        s = np.deg2rad(shear)
        matrix = chain(np.array([[1, -np.sin(s), 0], [0, np.cos(s), 0], [0, 0, 1]]))
    if zx != 1 or zy != 1:
        matrix = chain(np.array([[zx, 0, 0], [0, zy, 0], [0, 0, 1]]))
    return matrix


def apply_affine_transform(x: np.ndarray, theta: float = 0, tx: float = 0, ty: float = 0,
                           shear: float = 0, zx: float = 1, zy: float = 1, row_axis: int = 0,
                           col_axis: int = 1, channel_axis: int = 2, fill_mode: str = "nearest",
                           cval: float = 0.0, order: int = 1) -> np.ndarray:
    """Rotates, shifts, shears and zooms one image (scipy.ndimage, one channel at a time).

    Args:
        x: a rank-3 image.
        theta: rotation angle in degrees.
        tx, ty: shifts along rows and columns, in pixels.
        shear: shear angle in degrees.
        zx, zy: zoom factors along rows and columns.
        row_axis, col_axis, channel_axis: axes of ``x``.
        fill_mode: ``"constant"``, ``"nearest"``, ``"reflect"`` or ``"wrap"`` (scipy's).
        cval: the fill value for ``"constant"``.
        order: spline order of the interpolation.

    Returns:
        The transformed image (``x`` itself when the transform is the identity).
    """
    check_fill_mode(fill_mode)
    ndimage = _ndimage()
    matrix = affine_matrix(theta, tx, ty, shear, zx, zy)
    if matrix is None:
        return x
    h, w = x.shape[row_axis], x.shape[col_axis]
    matrix = transform_matrix_offset_center(matrix, h, w)
    channels = np.moveaxis(x, channel_axis, 0)
    out = [ndimage.affine_transform(c, matrix[:2, :2], matrix[:2, 2], order=order,
                                    mode=fill_mode, cval=cval) for c in channels]
    return np.moveaxis(np.stack(out, axis=0), 0, channel_axis)
