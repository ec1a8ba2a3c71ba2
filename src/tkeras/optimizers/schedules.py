"""Learning-rate schedules: ``tkeras.optimizers.schedules``.

A schedule is called with the optimizer's iteration counter (an int64 tensor on the
parameters' device; ``iterations = t - 1`` at step ``t``) and returns the learning rate
as a 0-d float32 tensor on the same device. The built-in schedules only combine that
tensor with Python numbers, so evaluating them allocates no host data and never waits
for the device.

Formulas and configs are those of tf-keras 2.x (``keras.optimizers.schedules``).
"""
from __future__ import annotations

import math
from typing import Any, Dict, Mapping, Optional, Sequence

import torch

from ..saving.object_registration import Registered, Registry

_MODULE = "keras.optimizers.schedules"


def _as_float_step(step) -> torch.Tensor:
    """The step as a float32 tensor (Python numbers become CPU tensors)."""
    if not isinstance(step, torch.Tensor):
        step = torch.tensor(step)
    return step.to(torch.float32)


_SCHEDULES = Registry("learning rate schedule")
"""Every schedule class by its name, added as defined."""


class LearningRateSchedule(Registered, registry=_SCHEDULES):
    """Base class of learning-rate schedules.

    Subclasses implement ``__call__(step)`` (``step`` is the optimizer's int64 iteration
    tensor) and ``get_config()``.

    Example:
        >>> class MySchedule(LearningRateSchedule):
        ...     def __init__(self, initial):
        ...         self.initial = initial
        ...     def __call__(self, step):
        ...         return self.initial / (step.float() + 1)
        ...     def get_config(self):
        ...         return {"initial": self.initial}
    """

    _keras_module = _MODULE

    def __call__(self, step):
        raise NotImplementedError("Learning rate schedule must override __call__")

    def get_config(self) -> Dict[str, Any]:
        raise NotImplementedError("Learning rate schedule must override get_config")

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "LearningRateSchedule":
        """Rebuilds the schedule from ``get_config()``'s output."""
        return cls(**config)


class ExponentialDecay(LearningRateSchedule):
    """``initial_learning_rate * decay_rate ** (step / decay_steps)``.

    Args:
        initial_learning_rate: the rate at step 0.
        decay_steps: positive number of steps per decay period.
        decay_rate: the factor applied per period.
        staircase: if True, ``step / decay_steps`` is floored (decay at discrete intervals).
        name: optional name.
    """

    def __init__(self, initial_learning_rate: float, decay_steps: float, decay_rate: float,
                 staircase: bool = False, name: Optional[str] = None):
        _check_positive("ExponentialDecay", "decay_steps", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name

    def __call__(self, step):
        p = _as_float_step(step) / float(self.decay_steps)
        if self.staircase:
            p = torch.floor(p)
        return torch.pow(float(self.decay_rate), p) * float(self.initial_learning_rate)

    def get_config(self) -> Dict[str, Any]:
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase, "name": self.name}


class InverseTimeDecay(LearningRateSchedule):
    """``initial_learning_rate / (1 + decay_rate * step / decay_steps)``.

    Args:
        initial_learning_rate: the rate at step 0.
        decay_steps: how often the decay is applied.
        decay_rate: the decay rate.
        staircase: if True, ``step / decay_steps`` is floored.
        name: optional name.
    """

    def __init__(self, initial_learning_rate: float, decay_steps: float, decay_rate: float,
                 staircase: bool = False, name: Optional[str] = None):
        _check_positive("InverseTimeDecay", "decay_steps", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name

    def __call__(self, step):
        p = _as_float_step(step) / float(self.decay_steps)
        if self.staircase:
            p = torch.floor(p)
        denominator = p * float(self.decay_rate) + 1.0
        # a true division (``float / tensor`` would multiply by the reciprocal)
        return torch.div(torch.full_like(denominator, float(self.initial_learning_rate)),
                         denominator)

    def get_config(self) -> Dict[str, Any]:
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase, "name": self.name}


class PolynomialDecay(LearningRateSchedule):
    """Polynomial decay from ``initial_learning_rate`` to ``end_learning_rate``.

    ``(initial - end) * (1 - min(step, decay_steps) / decay_steps) ** power + end``; with
    ``cycle=True`` the horizon is the first multiple of ``decay_steps`` above ``step``.

    Args:
        initial_learning_rate: the rate at step 0.
        decay_steps: number of steps to reach ``end_learning_rate``.
        end_learning_rate: the final rate.
        power: the polynomial's power (1.0 = linear).
        cycle: whether to restart after ``decay_steps``.
        name: optional name.
    """

    def __init__(self, initial_learning_rate: float, decay_steps: float,
                 end_learning_rate: float = 0.0001, power: float = 1.0, cycle: bool = False,
                 name: Optional[str] = None):
        _check_positive("PolynomialDecay", "decay_steps", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.end_learning_rate = end_learning_rate
        self.power = power
        self.cycle = cycle
        self.name = name

    def __call__(self, step):
        s = _as_float_step(step)
        horizon = float(self.decay_steps)
        if self.cycle:
            multiplier = torch.where(s == 0, 1.0, torch.ceil(s / horizon))
            p = s / (multiplier * horizon)
        else:
            p = torch.clamp(s, max=horizon) / horizon
        span = float(self.initial_learning_rate) - float(self.end_learning_rate)
        return torch.pow(1.0 - p, float(self.power)) * span + float(self.end_learning_rate)

    def get_config(self) -> Dict[str, Any]:
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "end_learning_rate": self.end_learning_rate,
                "power": self.power, "cycle": self.cycle, "name": self.name}


class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[0]`` while ``step <= boundaries[0]``, ``values[i]`` while
    ``boundaries[i-1] < step <= boundaries[i]``, ``values[-1]`` after the last boundary.

    Args:
        boundaries: strictly increasing step boundaries.
        values: one more value than boundaries.
        name: optional name.
    """

    def __init__(self, boundaries: Sequence[float], values: Sequence[float],
                 name: Optional[str] = None):
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                "The length of boundaries should be 1 less than the length of values. "
                f"Received: boundaries={list(boundaries)} of length {len(boundaries)}, and "
                f"values={list(values)} of length {len(values)}.")
        self.boundaries = list(boundaries)
        self.values = list(values)
        self.name = name

    def __call__(self, step):
        if not isinstance(step, torch.Tensor):
            step = torch.tensor(step)
        integral = not step.dtype.is_floating_point
        out = torch.full_like(step, float(self.values[0]), dtype=torch.float32)
        for boundary, value in zip(self.boundaries, self.values[1:]):
            b = int(boundary) if integral else float(boundary)  # TF casts to the step dtype
            out = torch.where(step > b, float(value), out)
        return out

    def get_config(self) -> Dict[str, Any]:
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class CosineDecay(LearningRateSchedule):
    """Cosine decay (SGDR without restarts), with an optional linear warm-up.

    Without warm-up: ``initial * ((1 - alpha) * 0.5 * (1 + cos(pi * min(step, decay_steps) /
    decay_steps)) + alpha)``. With ``warmup_target``, the rate rises linearly from
    ``initial_learning_rate`` to ``warmup_target`` over ``warmup_steps``, then decays from
    ``warmup_target``.

    Args:
        initial_learning_rate: the rate at step 0.
        decay_steps: number of steps to decay over.
        alpha: minimum rate as a fraction of the decayed-from rate.
        name: optional name.
        warmup_target: the rate reached after warm-up (None: no warm-up).
        warmup_steps: number of warm-up steps.
    """

    def __init__(self, initial_learning_rate: float, decay_steps: float, alpha: float = 0.0,
                 name: Optional[str] = None, warmup_target: Optional[float] = None,
                 warmup_steps: float = 0):
        _check_positive("CosineDecay", "decay_steps", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.alpha = alpha
        self.name = name
        self.warmup_target = warmup_target
        self.warmup_steps = warmup_steps

    def _decayed(self, s, decay_from: float):
        fraction = s / float(self.decay_steps)
        cosine = (torch.cos(fraction * math.pi) + 1.0) * 0.5
        return (cosine * (1.0 - float(self.alpha)) + float(self.alpha)) * decay_from

    def __call__(self, step):
        s = _as_float_step(step)
        if self.warmup_target is None:
            return self._decayed(torch.clamp(s, max=float(self.decay_steps)),
                                 float(self.initial_learning_rate))
        warmup = float(self.warmup_steps)
        s = torch.clamp(s, max=float(self.decay_steps) + warmup)
        initial, target = float(self.initial_learning_rate), float(self.warmup_target)
        warming = (s / max(warmup, 1e-30)) * (target - initial) + initial
        decaying = self._decayed(s - warmup, target)
        return torch.where(s < warmup, warming, decaying)

    def get_config(self) -> Dict[str, Any]:
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "alpha": self.alpha, "name": self.name,
                "warmup_target": self.warmup_target, "warmup_steps": self.warmup_steps}


class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decay with warm restarts (SGDR).

    The first period lasts ``first_decay_steps``; each restart lasts ``t_mul`` times longer
    and starts from ``m_mul`` times the previous initial rate.

    Args:
        initial_learning_rate: the rate at step 0.
        first_decay_steps: length of the first period.
        t_mul: period length multiplier.
        m_mul: initial-rate multiplier per restart.
        alpha: minimum rate as a fraction of the initial rate.
        name: optional name.
    """

    def __init__(self, initial_learning_rate: float, first_decay_steps: float,
                 t_mul: float = 2.0, m_mul: float = 1.0, alpha: float = 0.0,
                 name: Optional[str] = None):
        _check_positive("CosineDecayRestarts", "first_decay_steps", first_decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.first_decay_steps = first_decay_steps
        self._t_mul = t_mul
        self._m_mul = m_mul
        self.alpha = alpha
        self.name = name

    def __call__(self, step):
        fraction = _as_float_step(step) / float(self.first_decay_steps)
        t_mul = float(self._t_mul)
        if t_mul == 1.0:
            i_restart = torch.floor(fraction)
            fraction = fraction - i_restart
        else:
            i_restart = torch.floor(torch.log(1.0 - fraction * (1.0 - t_mul)) / math.log(t_mul))
            sum_r = (1.0 - torch.pow(t_mul, i_restart)) / (1.0 - t_mul)
            fraction = (fraction - sum_r) / torch.pow(t_mul, i_restart)
        m_fac = torch.pow(float(self._m_mul), i_restart)
        cosine = (torch.cos(fraction * math.pi) + 1.0) * m_fac * 0.5
        alpha = float(self.alpha)
        return (cosine * (1.0 - alpha) + alpha) * float(self.initial_learning_rate)

    def get_config(self) -> Dict[str, Any]:
        return {"initial_learning_rate": self.initial_learning_rate,
                "first_decay_steps": self.first_decay_steps, "t_mul": self._t_mul,
                "m_mul": self._m_mul, "alpha": self.alpha, "name": self.name}


def _check_positive(cls_name: str, arg: str, value) -> None:
    if isinstance(value, (int, float)) and value <= 0:
        raise ValueError(f"{cls_name}: `{arg}` must be positive. Received: {arg}={value}")


def serialize(schedule: LearningRateSchedule) -> Dict[str, Any]:
    """``{"module": "keras.optimizers.schedules", "class_name", "config", "registered_name"}``."""
    return _SCHEDULES.serialize(schedule)


def deserialize(config: Mapping[str, Any], custom_objects: Optional[Mapping[str, Any]] = None
                ) -> LearningRateSchedule:
    """Rebuilds a schedule from ``serialize``'s output (or the older class_name/config form)."""
    return _SCHEDULES.deserialize(config, custom_objects)


__all__ = ["LearningRateSchedule", "serialize", "deserialize", *_SCHEDULES]
