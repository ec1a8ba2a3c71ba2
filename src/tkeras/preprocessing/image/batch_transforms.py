"""The fast path beyond Keras: a whole batch of random transforms at once on torch.

Given the per-image parameters that ``ImageDataGenerator.get_random_transform`` drew (the
same ``np.random`` stream as Keras), ``apply_transform_batch`` builds every image's
sampling grid in one go (Keras's affine matrix around its centre, with the flips folded
in) and samples with ``torch.nn.functional.grid_sample`` (bilinear, i.e. scipy's spline
order 1). scipy's fill modes map onto grid_sample as follows:

* ``nearest``: coordinates clamped to ``[0, n - 1]`` (``padding_mode="border"``);
* ``reflect``: half-sample symmetric reflection about ``-0.5`` and ``n - 0.5``
  (``padding_mode="reflection"``, ``align_corners=False``);
* ``constant`` (grid_sample lacks it): any coordinate outside ``[0, n - 1]`` gives
  ``cval`` (no blending with cval at the border, as scipy), by a mask;
* ``wrap`` (grid_sample lacks it): scipy wraps coordinates with period ``n - 1``
  (the first and last pixels overlap); remapped before sampling.

``nearest`` and ``reflect`` are continuous at the borders: their grid is
``F.affine_grid`` of one normalised 2x3 matrix per image (float32). ``constant`` and
``wrap`` jump at the borders, so their pixel coordinates are computed in float64 exactly
as scipy computes them (the mask and the wrap then match scipy's); values are float32.
Stated tolerance, checked in tests/preprocessing/test_image_transforms.py for all four
fill modes and both data formats: the affine part, flips and channel shift agree with the
scipy path within ``1e-5 * (max - min)`` of the image on small images and
``5e-5 * (max - min)`` up to a few hundred pixels (float32 coordinates and weights: the
error grows with the size, about 2e-5 at 150x120); images whose transform is the
identity come back as they are. The Pillow brightness (``array_to_img`` scaling, then
uint8 truncation, emulated) agrees within one uint8 step, on under 1% of the values
(float rounding at integer edges).

A GPU device works too; keep ``fit(use_multiprocessing=False)`` then (CUDA does not
survive a fork), worker threads are fine.
"""
from __future__ import annotations

from typing import List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F

from .affine_transformations import check_fill_mode

__all__ = ["apply_transform_batch", "affine_matrices", "normalized_thetas"]


def affine_matrices(params: Sequence[dict], h: int, w: int) -> np.ndarray:
    """Keras's centred 3x3 matrices for a list of parameter dicts, ``(B, 3, 3)`` float64.

    Vectorised over the batch; a factor whose parameter is neutral is the identity, so
    the product equals Keras's (which skips such factors) exactly."""
    def column(key, default):
        return np.array([float(p.get(key, default)) for p in params])
    theta, shear = np.deg2rad(column("theta", 0)), np.deg2rad(column("shear", 0))
    tx, ty, zx, zy = column("tx", 0), column("ty", 0), column("zx", 1), column("zy", 1)
    b = len(params)
    eye = np.broadcast_to(np.eye(3), (b, 3, 3))
    rot, shift, sh, zoom = eye.copy(), eye.copy(), eye.copy(), eye.copy()
    rot[:, 0, 0], rot[:, 0, 1] = np.cos(theta), -np.sin(theta)
    rot[:, 1, 0], rot[:, 1, 1] = np.sin(theta), np.cos(theta)
    shift[:, 0, 2], shift[:, 1, 2] = tx, ty
    sh[:, 0, 1], sh[:, 1, 1] = -np.sin(shear), np.cos(shear)
    zoom[:, 0, 0], zoom[:, 1, 1] = zx, zy
    o_x, o_y = float(h) / 2 + 0.5, float(w) / 2 + 0.5
    offset = np.array([[1, 0, o_x], [0, 1, o_y], [0, 0, 1]])
    reset = np.array([[1, 0, -o_x], [0, 1, -o_y], [0, 0, 1]])
    return offset @ (rot @ shift @ sh @ zoom) @ reset


def _wrap(c: torch.Tensor, n: int) -> torch.Tensor:
    if n <= 1:
        return torch.zeros_like(c)
    period = n - 1
    outside = (c < 0) | (c > period)
    return torch.where(outside, torch.remainder(c, period), c)


def _sample_coordinates(params: Sequence[dict], h: int, w: int,
                        device: torch.device) -> Tuple[torch.Tensor, torch.Tensor]:
    """Input row and column coordinates of every output pixel, two ``(B, H, W)`` float64."""
    matrices = torch.from_numpy(affine_matrices(params, h, w)).to(device)
    rows = torch.arange(h, dtype=torch.float64, device=device)
    cols = torch.arange(w, dtype=torch.float64, device=device)
    flip_h = torch.tensor([bool(p.get("flip_horizontal", False)) for p in params], device=device)
    flip_v = torch.tensor([bool(p.get("flip_vertical", False)) for p in params], device=device)
    # A flip after the affine transform reads the affine output at the mirrored pixel.
    r = torch.where(flip_v[:, None], (h - 1) - rows[None, :], rows[None, :])  # (B, H)
    c = torch.where(flip_h[:, None], (w - 1) - cols[None, :], cols[None, :])  # (B, W)
    r, c = r[:, :, None], c[:, None, :]
    in_r = matrices[:, 0, 0, None, None] * r + matrices[:, 0, 1, None, None] * c \
        + matrices[:, 0, 2, None, None]
    in_c = matrices[:, 1, 0, None, None] * r + matrices[:, 1, 1, None, None] * c \
        + matrices[:, 1, 2, None, None]
    return in_r, in_c


def normalized_thetas(params: Sequence[dict], h: int, w: int) -> np.ndarray:
    """``(B, 2, 3)`` matrices for ``F.affine_grid`` (``align_corners=False``): Keras's
    pixel-space matrix with the flips, between grid_sample's normalised coordinates.

    Output ``(x_n, y_n)`` -> flips (``x_n -> -x_n`` is ``c -> w - 1 - c``) -> pixel
    ``(row, col)`` -> Keras's matrix -> input pixel -> normalised ``(gx, gy)``."""
    b = len(params)
    flip = np.broadcast_to(np.eye(3), (b, 3, 3)).copy()
    flip[:, 0, 0] = [-1.0 if p.get("flip_horizontal", False) else 1.0 for p in params]
    flip[:, 1, 1] = [-1.0 if p.get("flip_vertical", False) else 1.0 for p in params]
    to_pixels = np.array([[0, h / 2, (h - 1) / 2], [w / 2, 0, (w - 1) / 2], [0, 0, 1]])
    to_grid = np.array([[0, 2 / w, 1 / w - 1], [2 / h, 0, 1 / h - 1], [0, 0, 1]])
    return (to_grid @ affine_matrices(params, h, w) @ to_pixels @ flip)[:, :2, :]


def _affine_batch(x: torch.Tensor, params: Sequence[dict], fill_mode: str,
                  cval: float) -> torch.Tensor:
    """``x``: ``(B, C, H, W)`` float32 -> the affine transforms and flips of Keras."""
    b, _, h, w = x.shape
    if fill_mode in ("nearest", "reflect"):
        # Continuous at the borders: a float32 affine grid is enough (one batched matmul).
        theta = torch.from_numpy(normalized_thetas(params, h, w)).to(x.device, x.dtype)
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)
        padding = "reflection" if fill_mode == "reflect" else "border"
        out = F.grid_sample(x, grid, mode="bilinear", padding_mode=padding,
                            align_corners=False)
        return _keep_identities(x, out, params)
    # constant / wrap jump at the borders: float64 pixel coordinates, as scipy computes them
    in_r, in_c = _sample_coordinates(params, h, w, x.device)
    valid = None
    if fill_mode == "constant":
        valid = (in_r >= 0) & (in_r <= h - 1) & (in_c >= 0) & (in_c <= w - 1)
    elif fill_mode == "wrap":
        in_r, in_c = _wrap(in_r, h), _wrap(in_c, w)
    # grid_sample's normalised coordinates, align_corners=False: index i -> (2i + 1) / n - 1
    grid = torch.stack([((2 * in_c + 1) / w - 1).to(x.dtype),
                        ((2 * in_r + 1) / h - 1).to(x.dtype)], dim=-1)
    out = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
    if valid is not None:
        out = torch.where(valid[:, None], out, torch.as_tensor(cval, dtype=out.dtype,
                                                                device=out.device))
    return _keep_identities(x, out, params)


def _keep_identities(x: torch.Tensor, out: torch.Tensor, params: Sequence[dict]) -> torch.Tensor:
    """Images whose transform is the identity are kept bit-exact (as Keras skips them)."""
    identity = [_is_identity(p) for p in params]
    if not any(identity):
        return out
    keep = torch.tensor(identity, device=x.device)[:, None, None, None]
    return torch.where(keep, x, out)


def _is_identity(p: dict) -> bool:
    return not (p.get("theta", 0) or p.get("tx", 0) or p.get("ty", 0) or p.get("shear", 0)
                or p.get("zx", 1) != 1 or p.get("zy", 1) != 1
                or p.get("flip_horizontal", False) or p.get("flip_vertical", False))


def _channel_shift(x: torch.Tensor, intensities: List[Optional[float]]) -> torch.Tensor:
    if all(i is None for i in intensities):
        return x
    shift = torch.tensor([0.0 if i is None else float(i) for i in intensities],
                         dtype=x.dtype, device=x.device)[:, None, None, None]
    flat = x.flatten(1)
    low = flat.min(dim=1).values[:, None, None, None]
    high = flat.max(dim=1).values[:, None, None, None]
    shifted = torch.minimum(torch.maximum(x + shift, low), high)
    keep = torch.tensor([i is None for i in intensities], device=x.device)[:, None, None, None]
    return torch.where(keep, x, shifted)


def _brightness(x: torch.Tensor, factors: List[Optional[float]]) -> torch.Tensor:
    """Pillow's Brightness after ``array_to_img(scale=True)``: ``trunc(trunc(255 * (x - min)
    / (max - min)) * f)`` clipped to ``[0, 255]`` (1 or 3 channels)."""
    if all(f is None for f in factors):
        return x
    flat = x.flatten(1)
    low = flat.min(dim=1).values[:, None, None, None]
    span = flat.max(dim=1).values[:, None, None, None] - low
    scaled = (x - low) / torch.where(span != 0, span, torch.ones_like(span)) * 255
    as_uint8 = torch.trunc(scaled.clamp(0, 255))
    f = torch.tensor([1.0 if v is None else float(v) for v in factors], dtype=x.dtype,
                     device=x.device)[:, None, None, None]
    bright = torch.trunc(as_uint8 * f).clamp(0, 255)
    keep = torch.tensor([v is None for v in factors], device=x.device)[:, None, None, None]
    return torch.where(keep, x, bright)


def apply_transform_batch(x: torch.Tensor, params: Sequence[dict], channel_axis: int,
                          fill_mode: str = "nearest", cval: float = 0.0) -> torch.Tensor:
    """Applies ``ImageDataGenerator.apply_transform`` to every image of a batch at once.

    Args:
        x: a float tensor of images, ``(B, H, W, C)`` (``channel_axis=3``) or
            ``(B, C, H, W)`` (``channel_axis=1``).
        params: one parameter dict per image (``get_random_transform``'s keys).
        channel_axis: 1 or 3.
        fill_mode: ``"constant"``, ``"nearest"``, ``"reflect"`` or ``"wrap"``.
        cval: fill value of ``"constant"``.

    Returns:
        The transformed batch, same layout, dtype and device.
    """
    check_fill_mode(fill_mode)
    if x.dim() != 4:
        raise ValueError(f"Expected a batch of images of rank 4. Received shape {tuple(x.shape)}")
    if len(params) != x.shape[0]:
        raise ValueError(f"Expected one parameter dict per image: {x.shape[0]} images, "
                         f"received {len(params)} dicts.")
    dtype = x.dtype
    x = x.float()
    channels_last = channel_axis == 3
    if channels_last:
        x = x.permute(0, 3, 1, 2)
    if not all(_is_identity(p) for p in params):
        x = _affine_batch(x, params, fill_mode, cval)
    x = _channel_shift(x, [p.get("channel_shift_intensity") for p in params])
    x = _brightness(x, [p.get("brightness") for p in params])
    if channels_last:
        x = x.permute(0, 2, 3, 1)
    return x.to(dtype)
