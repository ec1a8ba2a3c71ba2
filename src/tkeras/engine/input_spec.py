"""InputSpec: what a layer accepts, checked with Keras's messages."""
from __future__ import annotations

from typing import Dict, Optional, Sequence


class InputSpec:
    """Specifies the rank, dtype and shape of every input to a layer.

    Args:
        dtype: expected dtype name, or None.
        shape: expected shape (None entries match anything), or None.
        ndim: expected rank, or None.
        max_ndim: maximum rank, or None.
        min_ndim: minimum rank, or None.
        axes: dict mapping axes to expected sizes, e.g. ``{-1: 784}``.
        allow_last_axis_squeeze: accept a trailing axis of size 1 more or less.
        name: expected input name (unused by the check).
    """

    def __init__(self, dtype=None, shape=None, ndim=None, max_ndim=None, min_ndim=None,
                 axes: Optional[Dict[int, Optional[int]]] = None,
                 allow_last_axis_squeeze: bool = False, name=None):
        self.dtype = dtype
        self.shape = tuple(shape) if shape is not None else None
        self.ndim = len(self.shape) if self.shape is not None else ndim
        self.max_ndim = max_ndim
        self.min_ndim = min_ndim
        self.name = name
        self.allow_last_axis_squeeze = allow_last_axis_squeeze
        self.axes = {int(k): v for k, v in (axes or {}).items()}
        if self.axes and (self.ndim is not None or self.max_ndim is not None):
            max_dim = (self.ndim if self.ndim else self.max_ndim) - 1
            if max(self.axes) > max_dim:
                raise ValueError(f"Axis {max(self.axes)} is greater than the maximum allowed "
                                 f"value: {max_dim}")

    def __repr__(self):
        spec = [f"{k}={v}" for k, v in (("dtype", self.dtype), ("shape", self.shape),
                                          ("ndim", self.ndim), ("max_ndim", self.max_ndim),
                                          ("min_ndim", self.min_ndim), ("axes", self.axes or None))
                if v is not None]
        return f"InputSpec({', '.join(spec)})"

    def get_config(self):
        return {"dtype": self.dtype, "shape": self.shape, "ndim": self.ndim,
                "max_ndim": self.max_ndim, "min_ndim": self.min_ndim, "axes": self.axes}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _fmt_shape(shape) -> str:
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + \
        ("," if len(shape) == 1 else "") + ")"


def assert_input_compatibility(input_spec, shapes: Sequence[tuple], layer_name: str) -> None:
    """Raises Keras's ValueError when input shapes do not match the layer's InputSpec(s)."""
    if not input_spec:
        return
    specs = input_spec if isinstance(input_spec, (list, tuple)) else [input_spec]
    if len(shapes) != len(specs):
        raise ValueError(f'Layer "{layer_name}" expects {len(specs)} input(s), but it received '
                         f"{len(shapes)} input tensors.")
    for index, (shape, spec) in enumerate(zip(shapes, specs)):
        if spec is None:
            continue
        _check_one(spec, tuple(shape), index, layer_name)


def _check_one(spec: InputSpec, shape: tuple, index: int, layer_name: str) -> None:
    ndim = len(shape)
    prefix = f'Input {index} of layer "{layer_name}" is incompatible with the layer: '
    if spec.ndim is not None and not spec.allow_last_axis_squeeze and ndim != spec.ndim:
        raise ValueError(prefix + f"expected ndim={spec.ndim}, found ndim={ndim}. "
                         f"Full shape received: {_fmt_shape(shape)}")
    if spec.max_ndim is not None and ndim > spec.max_ndim:
        raise ValueError(prefix + f"expected max_ndim={spec.max_ndim}, found ndim={ndim}. "
                         f"Full shape received: {_fmt_shape(shape)}")
    if spec.min_ndim is not None and ndim < spec.min_ndim:
        raise ValueError(prefix + f"expected min_ndim={spec.min_ndim}, found ndim={ndim}. "
                         f"Full shape received: {_fmt_shape(shape)}")
    for axis, value in spec.axes.items():
        if value is None:
            continue
        if not -ndim <= axis < ndim or shape[axis] not in (value, None):
            raise ValueError(prefix + f"expected axis {axis} of input shape to have value "
                             f"{value}, but received input with shape {_fmt_shape(shape)}")
    if spec.shape is not None:
        for spec_dim, dim in zip(spec.shape, shape):
            if spec_dim is not None and dim is not None and spec_dim != dim:
                raise ValueError(prefix + f"expected shape={_fmt_shape(spec.shape)}, found "
                                 f"shape={_fmt_shape(shape)}")
