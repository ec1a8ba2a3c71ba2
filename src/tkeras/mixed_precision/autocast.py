"""How layers honour a mixed policy: inputs cast to the compute dtype, weights read cast.

Explicit casts rather than ``torch.autocast``: a layer's outputs then have the policy's
compute dtype on every device, as in tf-keras (autocast keeps float32 for the ops outside
its lists, so e.g. a bias add would promote bfloat16 outputs back to float32), weights made
with ``experimental_autocast=False`` (normalization layers) keep float32, and float32
layers run exactly the code they ran before (the casts live only on mixed-policy layers).
"""
from __future__ import annotations

import contextlib
from typing import Any, List, Set, Tuple

import torch

__all__ = ["weights_in_compute_dtype", "autocast_inputs"]


@contextlib.contextmanager
def weights_in_compute_dtype(layer, cast_layers: Set[int]):
    """Within the block, the weights of ``layer`` (and of its sublayers with the same
    policy, which a layer such as RNN reads directly) are their casts to the compute dtype
    (differentiable: gradients reach the float32 weights), as tf-keras's AutoCastVariable
    reads them inside a call. Weights made with ``experimental_autocast=False`` keep their
    dtype. ``cast_layers`` holds the ids of the layers whose weights are cast already."""
    dtype = layer.__dict__["_compute_torch_dtype"]
    policy = layer.__dict__["_dtype_policy"]
    swaps: List[Tuple[Any, str, Any]] = []
    marked: List[int] = []
    stack = [layer]
    while stack:
        sub = stack.pop()
        if id(sub) in cast_layers:
            continue
        cast_layers.add(id(sub))
        marked.append(id(sub))
        params = sub._parameters
        for key, p in list(params.items()):
            if p is not None and p.dtype is not dtype and p.is_floating_point() \
                    and getattr(p, "_keras_autocast", True):
                swaps.append((params, key, p))
                params[key] = p.to(dtype)
        stack.extend(c for c in sub._direct_sublayers()
                     if c.__dict__.get("_dtype_policy") == policy)
    try:
        yield
    finally:
        for params, key, p in swaps:
            params[key] = p
        for i in marked:
            cast_layers.discard(i)


def _needs_cast(x: Any, dtype: torch.dtype) -> bool:
    return isinstance(x, torch.Tensor) and x.is_floating_point() and x.dtype is not dtype \
        and x.device.type != "meta"


def autocast_inputs(inputs: Any, dtype: torch.dtype) -> Any:
    """Floating tensors of a list / tuple / dict of inputs cast to ``dtype`` (Keras's
    autocast of a layer's inputs; masks kept); other values, and a structure with nothing
    to cast, unchanged."""
    if isinstance(inputs, torch.Tensor):
        if not _needs_cast(inputs, dtype):
            return inputs
        mask = getattr(inputs, "_keras_mask", None)
        inputs = inputs.to(dtype)
        if mask is not None:
            inputs._keras_mask = mask
        return inputs
    if isinstance(inputs, dict):
        return {k: autocast_inputs(v, dtype) for k, v in inputs.items()}
    if isinstance(inputs, (list, tuple)):
        cast = [autocast_inputs(x, dtype) for x in inputs]
        if all(c is x for c, x in zip(cast, inputs)):
            return inputs
        return type(inputs)(*cast) if hasattr(inputs, "_fields") else type(inputs)(cast)
    return inputs
