"""Random functions of the Keras backend ``K`` and the seeded generators behind them.

Seeded random functions draw from one ``torch.Generator`` per (seed, device): successive
calls give a reproducible sequence of *different* values, as TF's seeded stateful ops do.
``clear_session()`` restarts these sequences. Unseeded calls use torch's global RNG
(``torch.manual_seed`` / ``tkeras.utils.set_random_seed`` condition them).

Layers with a ``seed`` (Dropout, SpatialDropout, the noise layers) own a ``SeededRNG``
instead: one generator per layer, seeded once.
"""
from __future__ import annotations

import math
import warnings
from typing import Any, Dict, Optional, Sequence, Tuple, Union

import torch

from .._warn import TkerasDeprecationWarning
from . import config
from .config import torch_dtype
from .conversion import ShapeLike, _default_device, _shape_tuple
from .variables import variable

__all__ = [
    "SeededRNG", "seeded_generator", "reset_seeded_generators", "random_normal",
    "random_uniform", "random_bernoulli", "random_binomial", "truncated_normal",
    "random_normal_variable", "random_uniform_variable",
]


# ------------------------------------------------------------------- seeded generators

_SEEDED_GENERATORS: Dict[Tuple[int, str], torch.Generator] = {}


def reset_seeded_generators() -> None:
    """Restarts the sequences of the seeded random functions (done by ``clear_session``)."""
    _SEEDED_GENERATORS.clear()


config.register_clear_session_hook(reset_seeded_generators)


def _generator_device(device: Union[str, torch.device]) -> torch.device:
    """``device`` as a ``torch.device``, with an index for CUDA (the one generators have)."""
    device = torch.device(device)
    if device.type == "cuda" and device.index is None:
        device = torch.device("cuda", torch.cuda.current_device())
    return device


def _new_generator(seed: int, device: torch.device) -> torch.Generator:
    gen = torch.Generator(device=device)
    gen.manual_seed(int(seed))
    return gen


def seeded_generator(seed: int, device: Union[str, torch.device]) -> torch.Generator:
    """The generator that the seeded ``K.random_*`` / ``K.dropout`` calls share for
    ``(seed, device)``: the same object on every call until ``clear_session()``, so
    successive draws form one reproducible sequence.

    Args:
        seed: integer seed.
        device: the device the values are drawn on.

    Returns:
        A ``torch.Generator`` on ``device``, seeded with ``seed`` when first made.

    Raises:
        ValueError: for the 'meta' device, which has no data to draw.
    """
    device = _generator_device(device)
    if device.type == "meta":
        raise ValueError("`seeded_generator` cannot draw on the 'meta' device (it has no "
                         f"data). Received: seed={seed}, device={device}")
    key = (int(seed), str(device))
    gen = _SEEDED_GENERATORS.get(key)
    if gen is None:
        gen = _SEEDED_GENERATORS[key] = _new_generator(seed, device)
    return gen


def _seeded_or_global_generator(seed: Optional[int],
                                device: torch.device) -> Optional[torch.Generator]:
    if seed is None or device.type == "meta":
        return None
    return seeded_generator(seed, device)


class SeededRNG:
    """The random generator a layer owns (Dropout, SpatialDropout, the noise layers).

    Made once per layer with the layer's seed: a seeded layer keeps one
    ``torch.Generator``, seeded once, so its successive calls draw a reproducible sequence
    of different values, independent of other layers and of ``K``'s seeded functions.
    Without a seed, draws use torch's global RNG (``torch.manual_seed`` conditions them).

    Args:
        seed: integer seed, or None.

    Example:
        >>> rng = SeededRNG(seed=1)
        >>> x = torch.ones(2, 3)
        >>> noise = torch.rand(x.shape, generator=rng.generator(x.device))
    """

    def __init__(self, seed: Optional[int] = None):
        self.seed = seed
        self._generator: Optional[torch.Generator] = None

    def generator(self, device: Union[str, torch.device]) -> Optional[torch.Generator]:
        """The generator to draw with on ``device``.

        Args:
            device: the device of the values drawn.

        Returns:
            None without a seed or on the 'meta' device (torch's global RNG is used then);
            otherwise the layer's generator. Moving to another device starts a new
            generator there, seeded again with ``seed``.
        """
        if self.seed is None:
            return None
        device = _generator_device(device)
        if device.type == "meta":
            return None
        if self._generator is None or self._generator.device != device:
            self._generator = _new_generator(self.seed, device)
        return self._generator


# ------------------------------------------------------------------- random tensors

def _random_setup(shape: ShapeLike, dtype: Any, seed: Optional[int], where: str
                  ) -> Tuple[Tuple[int, ...], torch.dtype, torch.device, Optional[torch.Generator]]:
    dims = _shape_tuple(shape, where)
    dt = torch_dtype(dtype)
    device = _default_device()
    return dims, dt, device, _seeded_or_global_generator(seed, device)


def _float_draw_dtype(dt: torch.dtype, where: str) -> torch.dtype:
    if not dt.is_floating_point:
        raise ValueError(f"`{where}` expects a floating dtype. Received: dtype={dt}")
    return torch.float64 if dt == torch.float64 else torch.float32


def dropout_mask(shape: Sequence[int], rate: Any, dtype: torch.dtype,
                 device: Union[str, torch.device],
                 generator: Optional[torch.Generator] = None) -> torch.Tensor:
    """Keras's inverted-dropout mask as one tensor: ``(uniform >= rate) / (1 - rate)``,
    each entry ``1 / (1 - rate)`` or 0. ``x * mask`` is Keras's ``x * (1 / (1 - rate)) *
    keep_mask`` exactly (the same single rounding of ``x * scale``): one draw, the keep
    mask, and the float32 mask as the keep mask times the scale in one pass (cast, then
    scaled in place, for other dtypes), where ``torch.bernoulli`` / ``F.dropout`` took
    about three times as long.

    On the CPU, eagerly and for a rate given as a number, the uniform is 32 random bits
    per entry (``_keep_from_bits``: half as many 64-bit draws of the generator as entries,
    compared as integers), in half the time of ``torch.rand``'s float draw (which converts
    one entry at a time). Elsewhere (CUDA, a compiled graph, a ``torch.func`` transform
    such as ``vmap`` with ``randomness="different"``, a tensor rate) the uniform is
    ``torch.rand``'s float32 (float64 for float64). Both keep an entry with probability
    ``1 - rate`` to within 2^-24.

    Args:
        shape: the mask's shape (broadcast against the input).
        rate: the drop probability (a number or a scalar tensor).
        dtype: the input's dtype.
        device: the input's device.
        generator: a seeded generator, or None for torch's global one.
    """
    shape = tuple(shape)
    if (isinstance(rate, (int, float)) and 0 <= rate < 1 and torch.device(device).type == "cpu"
            and not torch.compiler.is_compiling()
            and not torch._C._are_functorch_transforms_active()):
        keep = _keep_from_bits(shape, float(rate), generator)
    else:
        draw = torch.float64 if dtype == torch.float64 else torch.float32
        keep = torch.rand(shape, generator=generator, dtype=draw, device=device) >= rate
    scale = 1.0 / (1.0 - rate)
    if dtype == torch.float32 and not isinstance(scale, torch.Tensor):
        return keep.mul(scale)  # bool * float: the cast and the scaling in one pass
    return keep.to(dtype).mul_(scale)  # (a tensor scale would promote out of place)


_INT32_MIN = -(2 ** 31)


def _keep_from_bits(shape: Tuple[int, ...], rate: float,
                    generator: Optional[torch.Generator]) -> torch.Tensor:
    """``uniform >= rate`` (bool, CPU) for a uniform of 2^-32 resolution: full-range 64-bit
    draws (``random_(-2**63, None)``) read as two int32 ``v`` each, and ``u = (v + 2^31) /
    2^32 >= rate`` exactly when ``v >= ceil(rate * 2^32) - 2^31`` (``rate * 2^32`` is exact
    in float64)."""
    threshold = math.ceil(rate * 2.0 ** 32) + _INT32_MIN
    if threshold > -_INT32_MIN - 1:  # rate within 2^-32 of 1: nothing is kept
        return torch.zeros(shape, dtype=torch.bool)
    n = math.prod(shape)
    bits = torch.empty((n + 1) // 2, dtype=torch.int64).random_(-2 ** 63, None,
                                                                 generator=generator)
    return bits.view(torch.int32)[:n].view(shape) >= threshold


def random_normal(shape: ShapeLike, mean: float = 0.0, stddev: float = 1.0, dtype: Any = None,
                  seed: Optional[int] = None) -> torch.Tensor:
    """Samples of a normal distribution.

    Args:
        shape: shape of the result.
        mean: mean.
        stddev: standard deviation.
        dtype: float dtype; ``floatx()`` when None.
        seed: optional seed (a reproducible sequence).
    """
    dims, dt, device, gen = _random_setup(shape, dtype, seed, "random_normal")
    z = torch.randn(dims, generator=gen, dtype=_float_draw_dtype(dt, "random_normal"), device=device)
    return (z * stddev + mean).to(dt)


def random_uniform(shape: ShapeLike, minval: float = 0.0, maxval: float = 1.0, dtype: Any = None,
                   seed: Optional[int] = None) -> torch.Tensor:
    """Samples of a uniform distribution on ``[minval, maxval)`` (integers for int dtypes).

    Args:
        shape: shape of the result.
        minval: lower bound (included).
        maxval: upper bound (excluded).
        dtype: dtype; ``floatx()`` when None.
        seed: optional seed (a reproducible sequence).
    """
    dims, dt, device, gen = _random_setup(shape, dtype, seed, "random_uniform")
    if not dt.is_floating_point:
        return torch.randint(int(minval), int(maxval), dims, generator=gen, dtype=dt, device=device)
    u = torch.rand(dims, generator=gen, dtype=_float_draw_dtype(dt, "random_uniform"), device=device)
    return (u * (maxval - minval) + minval).to(dt)


def random_bernoulli(shape: ShapeLike, p: float = 0.0, dtype: Any = None,
                     seed: Optional[int] = None) -> torch.Tensor:
    """Samples of a Bernoulli distribution: 1 with probability ``p``, else 0.

    Args:
        shape: shape of the result.
        p: probability of a 1.
        dtype: dtype; ``floatx()`` when None.
        seed: optional seed (a reproducible sequence).
    """
    dims, dt, device, gen = _random_setup(shape, dtype, seed, "random_bernoulli")
    u = torch.rand(dims, generator=gen, dtype=torch.float32, device=device)
    return (u <= p).to(dt)


def random_binomial(shape: ShapeLike, p: float = 0.0, dtype: Any = None,
                    seed: Optional[int] = None) -> torch.Tensor:
    """Deprecated alias of ``random_bernoulli``.

    Args:
        shape: shape of the result.
        p: probability of a 1.
        dtype: dtype; ``floatx()`` when None.
        seed: optional seed.
    """
    warnings.warn("`K.random_binomial` is deprecated, and will be removed in a future version. "
                  "Please use `K.random_bernoulli` instead.", TkerasDeprecationWarning,
                  stacklevel=2)
    return random_bernoulli(shape, p, dtype, seed)


def truncated_normal(shape: ShapeLike, mean: float = 0.0, stddev: float = 1.0, dtype: Any = None,
                     seed: Optional[int] = None) -> torch.Tensor:
    """Normal samples redrawn when more than two standard deviations from the mean.

    Args:
        shape: shape of the result.
        mean: mean.
        stddev: standard deviation (before truncation).
        dtype: float dtype; ``floatx()`` when None.
        seed: optional seed (a reproducible sequence).
    """
    dims, dt, device, gen = _random_setup(shape, dtype, seed, "truncated_normal")
    out = torch.empty(dims, dtype=_float_draw_dtype(dt, "truncated_normal"), device=device)
    torch.nn.init.trunc_normal_(out, 0.0, 1.0, -2.0, 2.0, generator=gen)
    return (out * stddev + mean).to(dt)


def random_normal_variable(shape: ShapeLike, mean: float, scale: float, dtype: Any = None,
                           name: Optional[str] = None, seed: Optional[int] = None) -> torch.Tensor:
    """A variable filled with normal samples.

    Args:
        shape: shape of the variable.
        mean: mean.
        scale: standard deviation.
        dtype: dtype; ``floatx()`` when None.
        name: variable name.
        seed: optional seed.
    """
    return variable(random_normal(shape, mean, scale, dtype, seed), dtype, name)


def random_uniform_variable(shape: ShapeLike, low: float, high: float, dtype: Any = None,
                            name: Optional[str] = None, seed: Optional[int] = None) -> torch.Tensor:
    """A variable filled with uniform samples on ``[low, high)``.

    Args:
        shape: shape of the variable.
        low: lower bound.
        high: upper bound.
        dtype: dtype; ``floatx()`` when None.
        name: variable name.
        seed: optional seed.
    """
    return variable(random_uniform(shape, low, high, dtype, seed), dtype, name)
