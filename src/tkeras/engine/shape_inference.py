"""Shape inference of symbolic calls by running ``call`` on ``meta``-device tensors.

A layer that does not define ``compute_output_shape`` gets its output shapes (and a
``compute_mask`` its symbolic masks) by running ``call`` on meta tensors, which carry
shapes and dtypes but no data: twice, with different sizes (83, 89) for the unknown
dimensions, so a dimension that follows them is unknown in the output too. The layer's
parameters and buffers are swapped for meta copies meanwhile (``_meta_params``); a call
that fails on meta tensors is retried on small CPU tensors before its error is raised.
"""
from __future__ import annotations

import contextlib
from typing import Any, List, Tuple

import numpy as np
import torch
from torch import nn

from ..backend import config
from ..mixed_precision.autocast import weights_in_compute_dtype
from .base_layer_utils import call_signature, collect_masks
from .call_context import call_context
from .call_errors import with_call_info
from .keras_tensor import KerasTensor, flatten, map_structure, meta_tensor, pack_like

_CTX = call_context()


def symbolic_mask(layer, inputs, input_masks):
    """The output mask(s) of ``layer.compute_mask`` for symbolic inputs and masks, found by
    running it on meta tensors."""
    fill = 83
    meta_in = map_structure(lambda t: meta_tensor(t, fill) if isinstance(t, KerasTensor) else t, inputs)
    meta_masks = map_structure(lambda m: meta_tensor(m, fill) if isinstance(m, KerasTensor) else m,
                               input_masks)
    with _meta_params(layer):
        out = layer.compute_mask(meta_in, meta_masks)
    if out is None:
        return None
    return map_structure(lambda m: _kt_from_meta(m, fill) if isinstance(m, torch.Tensor) else m, out)


def infer_outputs_by_running(layer, inputs, args, kwargs):
    """Runs call on meta tensors (twice, with different sizes for unknown dims)."""
    results = []
    for fill in (83, 89):
        results.append(_run_with_fill(layer, inputs, args, kwargs, fill, "meta"))
    if results[0] is None:
        results = [_run_with_fill(layer, inputs, args, kwargs, fill, "cpu") for fill in (2, 3)]
        if results[0] is None:
            _raise_inference_error(layer, inputs, args, kwargs)
    flat_a, flat_b = flatten(results[0]), flatten(results[1])
    outs = []
    for a, b in zip(flat_a, flat_b):
        if isinstance(a, torch.Tensor):
            shape = tuple(None if da != db else da for da, db in zip(a.shape, b.shape))
            outs.append(KerasTensor(shape, config.dtype_name(a.dtype)))
        else:
            outs.append(a)
    return pack_like(results[0], outs)


def _raise_inference_error(layer, inputs, args, kwargs):
    """Raises the error of a symbolic call, naming this layer, with the symbolic arguments."""
    e = layer._last_inference_error
    shown = dict(kwargs)
    accepts_training, accepts_mask, _, _ = call_signature(type(layer).call)
    if accepts_training:
        shown.setdefault("training", False)
    if accepts_mask and shown.get("mask") is None and collect_masks(inputs) is not None:
        shown["mask"] = collect_masks(inputs)
    error = with_call_info(layer, e, inputs, tuple(args), shown)
    if error is e:
        raise e
    raise error from e


def _run_with_fill(layer, inputs, args, kwargs, fill: int, device: str):
    def conv(t):
        if isinstance(t, KerasTensor):
            return meta_tensor(t, fill, device)
        return t

    call_inputs = map_structure(conv, inputs)
    call_args = map_structure(conv, list(args))
    call_kwargs = map_structure(conv, dict(kwargs))
    mask = call_kwargs.pop("mask", None)
    accepts_training, accepts_mask, _, _ = call_signature(type(layer).call)
    if accepts_mask:
        masks = mask if mask is not None else collect_masks(inputs)
        if masks is not None:
            call_kwargs["mask"] = map_structure(conv, masks)
    if accepts_training:
        call_kwargs.setdefault("training", False)
    else:
        call_kwargs.pop("training", None)
    try:
        if device == "meta":
            with _meta_params(layer):
                return _call_in_context(layer, call_inputs, call_args, call_kwargs)
        with torch.no_grad():
            return _call_in_context(layer, call_inputs, call_args, call_kwargs)
    except Exception as e:  # noqa: BLE001 - reported below if no device works
        layer._last_inference_error = e
        return None


def _call_in_context(layer, inputs, args, kwargs):
    ctx = _CTX
    saved = ctx.training, ctx.depth, ctx.losses
    ctx.training, ctx.depth, ctx.losses = False, saved[1] + 1, []
    try:
        if layer.__dict__["_casts_weights"] and id(layer) not in ctx.cast_layers:
            with weights_in_compute_dtype(layer, _CTX.cast_layers):
                return layer.call(inputs, *args, **kwargs)
        return layer.call(inputs, *args, **kwargs)
    finally:
        ctx.training, ctx.depth, ctx.losses = saved


# ------------------------------------------------------------------ shapes and meta tensors

def _is_shape(x) -> bool:
    return (isinstance(x, (tuple, list, torch.Size))
            and all(d is None or isinstance(d, (int, np.integer)) for d in x))


def shape_leaves_to_kt(shapes):
    if _is_shape(shapes):
        return KerasTensor(shapes)
    if isinstance(shapes, dict):
        return {k: shape_leaves_to_kt(v) for k, v in shapes.items()}
    return [shape_leaves_to_kt(s) for s in shapes]


def keras_tensors_from_shapes(shapes, dtype: str):
    if _is_shape(shapes):
        return KerasTensor(tuple(shapes), dtype)
    if isinstance(shapes, dict):
        return {k: keras_tensors_from_shapes(v, dtype) for k, v in shapes.items()}
    return [keras_tensors_from_shapes(s, dtype) for s in shapes]


def _kt_from_meta(t: torch.Tensor, fill: int) -> KerasTensor:
    return KerasTensor(tuple(None if d == fill else d for d in t.shape), config.dtype_name(t.dtype))


def swap_module_to_meta(root: nn.Module, swaps: List[Tuple[Any, str, str, Any]]) -> None:
    """Replaces root's parameters and buffers by meta copies, recording how to restore them."""
    for module in root.modules():
        for store in ("_parameters", "_buffers"):
            d = getattr(module, store)
            for key, value in list(d.items()):
                if value is None or value.device.type == "meta":
                    continue
                swaps.append((module, store, key, value))
                meta = value.detach().to("meta")
                d[key] = nn.Parameter(meta, requires_grad=value.requires_grad) \
                    if store == "_parameters" else meta


@contextlib.contextmanager
def _meta_params(root: nn.Module):
    """Within the block, ``root``'s parameters and buffers are meta tensors (no data).

    Layers built during the block (e.g. the sublayers of a subclassed model) are swapped
    too, in ``_maybe_build``; everything is restored on exit.
    """
    swaps: List[Tuple[Any, str, str, Any]] = []
    outer = _CTX.meta_swaps
    _CTX.meta_swaps = swaps
    try:
        swap_module_to_meta(root, swaps)
        yield
    finally:
        for module, store, key, value in reversed(swaps):
            getattr(module, store)[key] = value
        _CTX.meta_swaps = outer
