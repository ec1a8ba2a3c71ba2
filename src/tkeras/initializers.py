"""Weight initializers (``keras.initializers``), producing torch tensors.

An initializer is called as ``init(shape, dtype=None)`` with a shape in Keras's weight
layout (Dense kernel ``(in, out)``, Conv kernel ``(*spatial, in, out)``) and returns a torch
tensor of ``dtype`` (``floatx()`` when None) on torch's default device. Fans, scales and
distributions follow tf-keras 2.x exactly.

Randomness: an initializer with a ``seed`` draws from a fresh ``torch.Generator`` seeded with
it, so it returns the same values on every call (as tf-keras's seeded initializers do);
without a seed it draws from torch's global generator, which
``tkeras.utils.set_random_seed`` seeds.

Example:
    >>> from tkeras import initializers
    >>> init = initializers.get("glorot_uniform")
    >>> w = init((784, 10))          # uniform in [-sqrt(6 / 794), sqrt(6 / 794)]
    >>> initializers.serialize(init)["class_name"]
    'GlorotUniform'
"""
from __future__ import annotations

import math
import re
from typing import Any, Callable, Dict, Mapping, Optional, Sequence, Tuple

import numpy as np
import torch

from .backend import config
from .backend.ops import _default_device
from .saving.object_registration import Registered, Registry, deserialize_keras_object

Shape = Sequence[int]

# Constant from scipy.stats.truncnorm.std(a=-2, b=2, loc=0., scale=1.): the standard
# deviation of a unit normal truncated at two standard deviations.
_TRUNCATED_STDDEV_FACTOR = 0.87962566103423978
_ALLOWED_CALL_KWARGS = ("partition_shape", "partition_offset", "layout")


# ------------------------------------------------------------------ shared helpers

def _call_shape(initializer: "Initializer", shape: Any, kwargs: Mapping[str, Any]
                ) -> Tuple[int, ...]:
    """Checks the keyword arguments of ``__call__`` and turns ``shape`` into int tuple."""
    unknown = [k for k in kwargs if k not in _ALLOWED_CALL_KWARGS]
    if unknown:
        raise TypeError(f"Unknown keyword arguments: {unknown}. Allowed keyword arguments: "
                        f"{list(_ALLOWED_CALL_KWARGS)}.")
    if kwargs.get("partition_shape") is not None:
        shape = kwargs["partition_shape"]
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    try:
        dims = tuple(int(d) for d in shape)
    except (TypeError, ValueError):
        raise ValueError(f"{type(initializer).__name__} expects a shape (a tuple of "
                         f"non-negative integers). Received: shape={shape!r}") from None
    if any(d < 0 for d in dims):
        raise ValueError(f"{type(initializer).__name__} expects non-negative dimensions. "
                         f"Received: shape={shape!r}")
    return dims


def _float_dtype(dtype: Any) -> torch.dtype:
    """The torch dtype for ``dtype`` (floatx when None), which must be floating point."""
    dt = config.torch_dtype(dtype)
    if not dt.is_floating_point:
        raise ValueError(f"Expected floating point type, got {config.dtype_name(dt)}.")
    return dt


def _draw_dtype(dt: torch.dtype) -> torch.dtype:
    """Half-precision values are drawn in float32 and rounded afterwards."""
    return torch.float64 if dt == torch.float64 else torch.float32


def _generator(seed: Optional[int], device: torch.device) -> Optional[torch.Generator]:
    """A fresh generator seeded with ``seed``; None (torch's global RNG) without a seed."""
    if seed is None or device.type == "meta":
        return None
    gen = torch.Generator(device=device)
    gen.manual_seed(int(seed))
    return gen


def _random_normal(shape: Shape, mean: float, stddev: float, dt: torch.dtype,
                   seed: Optional[int]) -> torch.Tensor:
    device = _default_device()
    z = torch.randn(shape, generator=_generator(seed, device), dtype=_draw_dtype(dt),
                    device=device)
    return (z * stddev + mean).to(dt)


def _truncated_normal(shape: Shape, mean: float, stddev: float, dt: torch.dtype,
                      seed: Optional[int]) -> torch.Tensor:
    """Normal values redrawn beyond two standard deviations (``tf.random.truncated_normal``)."""
    device = _default_device()
    gen = _generator(seed, device)
    z = torch.randn(shape, generator=gen, dtype=_draw_dtype(dt), device=device)
    if device.type != "meta":
        # Redraw only the values beyond 2 standard deviations (about 4.6% of them), as
        # TensorFlow does; torch.nn.init.trunc_normal_ redraws the whole tensor each round,
        # which made a large he_normal / VarianceScaling kernel take seconds to build.
        flat = z.view(-1)
        bad = (flat.abs() > 2.0).nonzero().squeeze(1)
        while bad.numel():
            flat[bad] = torch.randn(bad.numel(), generator=gen, dtype=flat.dtype, device=device)
            bad = bad[flat[bad].abs() > 2.0]
    return (z * stddev + mean).to(dt)


def _random_uniform(shape: Shape, minval: float, maxval: float, dt: torch.dtype,
                    seed: Optional[int]) -> torch.Tensor:
    """Uniform values in ``[minval, maxval)``; integers for integer dtypes."""
    device = _default_device()
    gen = _generator(seed, device)
    if not dt.is_floating_point:
        return torch.randint(int(minval), int(maxval), tuple(shape), generator=gen, dtype=dt,
                             device=device)
    u = torch.rand(shape, generator=gen, dtype=_draw_dtype(dt), device=device)
    return (u * (maxval - minval) + minval).to(dt)


def compute_fans(shape: Shape) -> Tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight shape in Keras's layout, as Keras computes them.

    Args:
        shape: the weight's shape. Scalars: (1, 1); 1-D ``(n,)``: (n, n); 2-D ``(in, out)``;
            more: a convolution kernel ``(*spatial, in, out)`` with fans ``in * receptive``
            and ``out * receptive``, ``receptive = prod(spatial)``.
    """
    if len(shape) < 1:
        return 1, 1
    if len(shape) == 1:
        return int(shape[0]), int(shape[0])
    if len(shape) == 2:
        return int(shape[0]), int(shape[1])
    receptive_field = math.prod(int(d) for d in shape[:-2])
    return int(shape[-2]) * receptive_field, int(shape[-1]) * receptive_field


# ------------------------------------------------------------------ classes

_OBJECTS = Registry("initializer")
"""Every initializer class by its name (added as defined), and Keras's other names for them."""


class Initializer(Registered, registry=_OBJECTS):
    """Base class of every initializer.

    Subclasses implement ``__call__(shape, dtype=None, **kwargs)`` returning a tensor, and
    ``get_config()`` when they have arguments; the default ``from_config`` passes the config
    to the constructor.

    Example:
        >>> class Halves(Initializer):
        ...     def __call__(self, shape, dtype=None, **kwargs):
        ...         return torch.full(tuple(shape), 0.5, dtype=config.torch_dtype(dtype))
    """

    _keras_module = "keras.initializers"

    def __call__(self, shape: Shape, dtype: Any = None, **kwargs) -> torch.Tensor:
        raise NotImplementedError("Initializer subclasses must implement the `__call__()` method.")

    def get_config(self) -> Dict[str, Any]:
        """The initializer's arguments as a JSON-serializable dict."""
        return {}

    @classmethod
    def from_config(cls, config_: Mapping[str, Any]) -> "Initializer":
        """Rebuilds the initializer from ``get_config()`` (a stray ``dtype`` is ignored).

        Args:
            config_: the config dict.
        """
        kwargs = dict(config_)
        kwargs.pop("dtype", None)
        return cls(**kwargs)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class Zeros(Initializer):
    """Generates tensors of zeros (any numeric or bool dtype).

    Example:
        >>> Zeros()((2, 3))
        tensor([[0., 0., 0.],
                [0., 0., 0.]])
    """

    def __call__(self, shape: Shape, dtype: Any = None, **kwargs) -> torch.Tensor:
        return torch.zeros(_call_shape(self, shape, kwargs), dtype=config.torch_dtype(dtype),
                           device=_default_device())


class Ones(Initializer):
    """Generates tensors of ones (any numeric or bool dtype).

    Example:
        >>> Ones()((2, 3))
        tensor([[1., 1., 1.],
                [1., 1., 1.]])
    """

    def __call__(self, shape: Shape, dtype: Any = None, **kwargs) -> torch.Tensor:
        return torch.ones(_call_shape(self, shape, kwargs), dtype=config.torch_dtype(dtype),
                          device=_default_device())


class Constant(Initializer):
    """Generates tensors filled with ``value``.

    Args:
        value: a Python scalar, or an array with as many elements as the requested shape.

    Example:
        >>> Constant(3.0)((2, 2))
        tensor([[3., 3.],
                [3., 3.]])
    """

    def __init__(self, value: Any = 0):
        self.value = value

    def __call__(self, shape: Shape, dtype: Any = None, **kwargs) -> torch.Tensor:
        dims = _call_shape(self, shape, kwargs)
        values = torch.as_tensor(np.asarray(self.value), dtype=config.torch_dtype(dtype),
                                 device=_default_device())
        if values.numel() == 1:
            return values.reshape(()).expand(dims).clone()
        if values.numel() != math.prod(dims):
            raise ValueError(f"Constant initializer: a value with {values.numel()} elements "
                             f"cannot fill shape {dims}. Use a scalar or an array of "
                             f"{math.prod(dims)} elements.")
        return values.reshape(dims).clone()

    def get_config(self) -> Dict[str, Any]:
        return {"value": self.value}

    @classmethod
    def from_config(cls, config_: Mapping[str, Any]) -> "Constant":
        kwargs = dict(config_)
        kwargs.pop("dtype", None)
        if isinstance(kwargs.get("value"), Mapping):
            kwargs["value"] = deserialize_keras_object(kwargs["value"])
        return cls(**kwargs)


class RandomUniform(Initializer):
    """Uniform values in ``[minval, maxval)``.

    Args:
        minval: lower bound (inclusive).
        maxval: upper bound (exclusive).
        seed: optional int; a seeded initializer returns the same values on every call.

    Example:
        >>> RandomUniform(minval=0.0, maxval=1.0)((2, 2))
        tensor([[0.4963, 0.7682],
                [0.0885, 0.1320]])
    """

    def __init__(self, minval: float = -0.05, maxval: float = 0.05, seed: Optional[int] = None):
        self.minval = minval
        self.maxval = maxval
        self.seed = seed

    def __call__(self, shape: Shape, dtype: Any = None, **kwargs) -> torch.Tensor:
        dims = _call_shape(self, shape, kwargs)
        dt = config.torch_dtype(dtype)
        if dt == torch.bool or dt.is_complex:
            raise ValueError(f"Expected float or integer dtype, got {config.dtype_name(dt)}.")
        return _random_uniform(dims, self.minval, self.maxval, dt, self.seed)

    def get_config(self) -> Dict[str, Any]:
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


class RandomNormal(Initializer):
    """Normally distributed values.

    Args:
        mean: mean of the values.
        stddev: standard deviation of the values.
        seed: optional int; a seeded initializer returns the same values on every call.

    Example:
        >>> RandomNormal(mean=0.0, stddev=1.0)((2, 2))
        tensor([[ 1.5410, -0.2934],
                [-2.1788,  0.5684]])
    """

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: Optional[int] = None):
        self.mean = mean
        self.stddev = stddev
        self.seed = seed

    def __call__(self, shape: Shape, dtype: Any = None, **kwargs) -> torch.Tensor:
        dims = _call_shape(self, shape, kwargs)
        return _random_normal(dims, self.mean, self.stddev, _float_dtype(dtype), self.seed)

    def get_config(self) -> Dict[str, Any]:
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class TruncatedNormal(Initializer):
    """Normal values, those more than two standard deviations from the mean redrawn.

    Args:
        mean: mean of the values.
        stddev: standard deviation of the normal distribution before truncation.
        seed: optional int; a seeded initializer returns the same values on every call.

    Example:
        >>> TruncatedNormal(mean=0.0, stddev=1.0)((2, 2))
        tensor([[ 1.5410, -0.2934],
                [-1.0845,  0.5684]])
    """

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: Optional[int] = None):
        self.mean = mean
        self.stddev = stddev
        self.seed = seed

    def __call__(self, shape: Shape, dtype: Any = None, **kwargs) -> torch.Tensor:
        dims = _call_shape(self, shape, kwargs)
        return _truncated_normal(dims, self.mean, self.stddev, _float_dtype(dtype), self.seed)

    def get_config(self) -> Dict[str, Any]:
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


_MODES = ("fan_in", "fan_out", "fan_avg")
_DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")


class VarianceScaling(Initializer):
    """Values whose scale adapts to the weight's fans.

    With ``n`` = fan_in, fan_out or their average (``mode``): ``"truncated_normal"`` draws a
    normal truncated at two standard deviations whose standard deviation after truncation
    is ``sqrt(scale / n)``; ``"untruncated_normal"`` a normal with that standard deviation;
    ``"uniform"`` values in ``[-limit, limit]`` with ``limit = sqrt(3 * scale / n)``.

    Args:
        scale: positive scaling factor.
        mode: ``"fan_in"``, ``"fan_out"`` or ``"fan_avg"``.
        distribution: ``"truncated_normal"``, ``"untruncated_normal"`` or ``"uniform"``;
            Keras 2's ``"normal"`` means ``"truncated_normal"``.
        seed: optional int; a seeded initializer returns the same values on every call.

    Example:
        >>> VarianceScaling(scale=0.1, mode="fan_in", distribution="uniform")((3, 3))
        tensor([[-0.0024,  0.1696, -0.2603],
                [-0.2327, -0.1218,  0.0848],
                [-0.0063,  0.2507, -0.0281]])
    """

    def __init__(self, scale: float = 1.0, mode: str = "fan_in",
                 distribution: str = "truncated_normal", seed: Optional[int] = None):
        if scale <= 0.0:
            raise ValueError(f"`scale` must be positive float. Received: scale={scale}.")
        if mode not in _MODES:
            raise ValueError(f"Invalid `mode` argument: {mode}. Please use one of {_MODES}.")
        distribution = str(distribution).lower()
        if distribution == "normal":  # Keras 2 spelling
            distribution = "truncated_normal"
        if distribution not in _DISTRIBUTIONS:
            raise ValueError(f"Invalid `distribution` argument: {distribution}. "
                             f"Allowed distributions: {_DISTRIBUTIONS}.")
        self.scale = scale
        self.mode = mode
        self.distribution = distribution
        self.seed = seed

    def _variance(self, dims: Shape) -> float:
        """``scale / n`` for the weight's fans (``n`` at least 1)."""
        fan_in, fan_out = compute_fans(dims)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        return self.scale / max(1.0, n)

    def __call__(self, shape: Shape, dtype: Any = None, **kwargs) -> torch.Tensor:
        dims = _call_shape(self, shape, kwargs)
        dt = _float_dtype(dtype)
        variance = self._variance(dims)
        if self.distribution == "truncated_normal":
            stddev = math.sqrt(variance) / _TRUNCATED_STDDEV_FACTOR
            return _truncated_normal(dims, 0.0, stddev, dt, self.seed)
        if self.distribution == "untruncated_normal":
            return _random_normal(dims, 0.0, math.sqrt(variance), dt, self.seed)
        limit = math.sqrt(3.0 * variance)
        return _random_uniform(dims, -limit, limit, dt, self.seed)

    def get_config(self) -> Dict[str, Any]:
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution,
                "seed": self.seed}


class Orthogonal(Initializer):
    """A random orthogonal matrix (reshaped to the weight's shape), times ``gain``.

    The matrix has ``prod(shape[:-1])`` rows and ``shape[-1]`` columns; it comes from the QR
    decomposition of a normal matrix with Q's columns sign-corrected by ``sign(diag(R))``.
    With fewer rows than columns its rows are orthonormal, otherwise its columns.

    Args:
        gain: multiplicative factor.
        seed: optional int; a seeded initializer returns the same values on every call.

    Example:
        >>> Orthogonal()((4, 4))
        tensor([[-0.7758, -0.1476, -0.0426, -0.6120],
                [ 0.5848,  0.0192, -0.3732, -0.7200],
                [ 0.2221, -0.7883,  0.5588, -0.1303],
                [ 0.0826,  0.5970,  0.7394, -0.3002]])
    """

    def __init__(self, gain: float = 1.0, seed: Optional[int] = None):
        self.gain = gain
        self.seed = seed

    def __call__(self, shape: Shape, dtype: Any = None, **kwargs) -> torch.Tensor:
        dims = _call_shape(self, shape, kwargs)
        dt = _float_dtype(dtype)
        if len(dims) < 2:
            raise ValueError("The tensor to initialize must be at least two-dimensional. "
                             f"Received: shape={dims} of rank {len(dims)}.")
        rows, cols = math.prod(dims[:-1]), dims[-1]
        flat = _random_normal((max(rows, cols), min(rows, cols)), 0.0, 1.0, _draw_dtype(dt),
                              self.seed)
        q, r = torch.linalg.qr(flat, mode="reduced")
        q = q * torch.sign(torch.diagonal(r))
        if rows < cols:
            q = q.T
        return (self.gain * q).reshape(dims).to(dt)

    def get_config(self) -> Dict[str, Any]:
        return {"gain": self.gain, "seed": self.seed}


class Identity(Initializer):
    """The 2-D identity matrix (ones on the main diagonal), times ``gain``.

    Args:
        gain: multiplicative factor.

    Example:
        >>> Identity()((3, 3))
        tensor([[1., 0., 0.],
                [0., 1., 0.],
                [0., 0., 1.]])
    """

    def __init__(self, gain: float = 1.0):
        self.gain = gain

    def __call__(self, shape: Shape, dtype: Any = None, **kwargs) -> torch.Tensor:
        dims = _call_shape(self, shape, kwargs)
        dt = _float_dtype(dtype)
        if len(dims) != 2:
            raise ValueError("Identity matrix initializer can only be used for 2D matrices. "
                             f"Received: shape={dims} of rank {len(dims)}.")
        return self.gain * torch.eye(dims[0], dims[1], dtype=dt, device=_default_device())

    def get_config(self) -> Dict[str, Any]:
        return {"gain": self.gain}


class _FixedVarianceScaling(VarianceScaling):
    """A VarianceScaling preset: only the seed is an argument (and the config)."""

    _preset: Dict[str, Any] = {}

    def __init__(self, seed: Optional[int] = None):
        super().__init__(seed=seed, **self._preset)

    def get_config(self) -> Dict[str, Any]:
        return {"seed": self.seed}


class GlorotUniform(_FixedVarianceScaling):
    """Glorot (Xavier) uniform: ``[-limit, limit]``, ``limit = sqrt(6 / (fan_in + fan_out))``.

    Args:
        seed: optional int; a seeded initializer returns the same values on every call.
    """

    _preset = {"scale": 1.0, "mode": "fan_avg", "distribution": "uniform"}


class GlorotNormal(_FixedVarianceScaling):
    """Glorot (Xavier) normal: truncated normal, ``stddev = sqrt(2 / (fan_in + fan_out))``.

    Args:
        seed: optional int; a seeded initializer returns the same values on every call.
    """

    _preset = {"scale": 1.0, "mode": "fan_avg", "distribution": "truncated_normal"}


class HeUniform(_FixedVarianceScaling):
    """He uniform: ``[-limit, limit]``, ``limit = sqrt(6 / fan_in)``.

    Args:
        seed: optional int; a seeded initializer returns the same values on every call.
    """

    _preset = {"scale": 2.0, "mode": "fan_in", "distribution": "uniform"}


class HeNormal(_FixedVarianceScaling):
    """He normal: truncated normal, ``stddev = sqrt(2 / fan_in)``.

    Args:
        seed: optional int; a seeded initializer returns the same values on every call.
    """

    _preset = {"scale": 2.0, "mode": "fan_in", "distribution": "truncated_normal"}


class LecunUniform(_FixedVarianceScaling):
    """LeCun uniform: ``[-limit, limit]``, ``limit = sqrt(3 / fan_in)``.

    Args:
        seed: optional int; a seeded initializer returns the same values on every call.
    """

    _preset = {"scale": 1.0, "mode": "fan_in", "distribution": "uniform"}


class LecunNormal(_FixedVarianceScaling):
    """LeCun normal: truncated normal, ``stddev = sqrt(1 / fan_in)``.

    Args:
        seed: optional int; a seeded initializer returns the same values on every call.
    """

    _preset = {"scale": 1.0, "mode": "fan_in", "distribution": "truncated_normal"}


# ------------------------------------------------------------------ names

def _snake_case(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _register_keras_names() -> None:
    """Snake_case names, TF's ``...V2`` names and Keras 2's aliases of the classes."""
    for cls in list(dict.fromkeys(_OBJECTS.values())):
        _OBJECTS.register(cls, _snake_case(cls.__name__), cls.__name__ + "V2")
    for cls in (GlorotNormal, GlorotUniform, HeNormal, HeUniform, LecunNormal, LecunUniform):
        _OBJECTS.register(cls, _snake_case(cls.__name__) + "V2")
    _OBJECTS.update(normal=RandomNormal, uniform=RandomUniform, one=Ones, zero=Zeros)


_register_keras_names()

# Keras 2 functional aliases: initializers.glorot_uniform(seed=1), initializers.normal(), ...
zeros = zero = Zeros
ones = one = Ones
constant = Constant
uniform = random_uniform = RandomUniform
normal = random_normal = RandomNormal
truncated_normal = TruncatedNormal
variance_scaling = VarianceScaling
orthogonal = Orthogonal
identity = Identity
glorot_uniform = GlorotUniform
glorot_normal = GlorotNormal
he_uniform = HeUniform
he_normal = HeNormal
lecun_uniform = LecunUniform
lecun_normal = LecunNormal


def serialize(initializer: Optional[Callable], use_legacy_format: bool = False) -> Any:
    """``{"module": "keras.initializers", "class_name", "config", "registered_name"}``.

    Args:
        initializer: an Initializer (a plain function gives its name; None gives None).
        use_legacy_format: accepted for compatibility; the output is the same.
    """
    del use_legacy_format
    return _OBJECTS.serialize(initializer)


def deserialize(config_: Any, custom_objects: Optional[Mapping[str, Any]] = None,
                use_legacy_format: bool = False) -> Callable:
    """The initializer described by a name or a ``{"class_name", "config"}`` dict.

    Args:
        config_: a name (``"he_normal"``) or a config dict (tf-keras or older Keras 2 form).
        custom_objects: optional ``{name: class_or_function}`` of user initializers.
        use_legacy_format: accepted for compatibility.

    Raises:
        ValueError: ``Unknown initializer: 'name'...`` for unknown names.
    """
    del use_legacy_format
    return _OBJECTS.deserialize(config_, custom_objects)


def get(identifier: Any) -> Optional[Callable]:
    """Resolves an initializer identifier.

    Args:
        identifier: None, a name, a config dict, an Initializer class (instantiated), an
            Initializer, or a callable ``f(shape, dtype=None)`` (returned as is).

    Raises:
        ValueError: for unknown names or identifiers of another kind.
    """
    return _OBJECTS.get_object(identifier)
