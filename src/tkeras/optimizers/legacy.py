"""Keras 2 optimizers: ``tkeras.optimizers.<Name>`` and ``tkeras.optimizers.legacy.<Name>``.

The update rules, variables and configs of tf-keras's ``optimizers.legacy`` classes (the
OptimizerV2 of tf.keras 2.0 - 2.10, what most Keras 2 models were trained with), with
the constructor arguments Keras 2 users write: ``lr`` (or ``learning_rate``), ``decay``
(``lr_t = lr / (1 + decay * iterations)``), ``epsilon=None`` (the backend epsilon at
construction), ``clipnorm``, ``clipvalue``, ``global_clipnorm``; the default learning
rates are standalone Keras 2's (Adadelta 1.0, Adagrad 0.01, Adamax and Nadam 0.002).

Hyper-parameters are used and reported rounded to float32, as TF stores them.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

import numpy as np
import torch

from ..backend import config as backend_config
from ..saving.object_registration import Registered, Registry
from . import rules
from .base import Optimizer as _BaseOptimizer
from .base import Tensors, _assign_scalar_, clip_in_order_, f32
from .schedules import LearningRateSchedule

_ALLOWED_KWARGS = ("clipnorm", "clipvalue", "lr", "decay", "global_clipnorm")


def _epsilon_or_default(epsilon: Optional[float]) -> float:
    """``epsilon=None`` means the backend's epsilon at construction time."""
    return backend_config.epsilon() if epsilon is None else float(epsilon)


def _check_unit_interval(name: str, value) -> None:
    if isinstance(value, (int, float)) and not 0 <= value <= 1:
        raise ValueError(f"`{name}` must be between [0, 1]. Received: {name}={value} "
                         f"(of type {type(value)}).")


def _one_minus(value: float) -> float:
    """``1 - value`` computed in float32, as TF does with a float32 hyper-parameter."""
    return float(np.float32(1.0) - np.float32(value))


_OBJECTS = Registry("optimizer")
"""The optimizers a Keras 2 config names (the classes here add themselves; the lower-case
names, AdamW and TorchOptimizer are added by tkeras.optimizers)."""


class Optimizer(_BaseOptimizer, Registered, registry=_OBJECTS):
    """Base class of the Keras 2 (OptimizerV2) optimizers.

    Args:
        name: prefix of the optimizer's variable names.
        learning_rate: a float, a ``LearningRateSchedule`` or a zero-argument callable.
        **kwargs: ``lr`` (old name of ``learning_rate``; wins when both are given, as in
            Keras), ``decay`` (inverse-time decay of the rate per step), ``clipnorm``
            (per-tensor norm clipping), ``clipvalue`` (element clipping),
            ``global_clipnorm`` (clipping by the global norm of all gradients).

    Variables: ``<name>/iter:0`` then the slots ``<name>/<weight path>/<slot>:0``.
    See ``tkeras.optimizers.base.Optimizer`` for the interface.
    """

    _keras_module = "keras.optimizers.legacy"

    def __init__(self, name: str, learning_rate=0.001, **kwargs):
        kwargs.pop("is_legacy_optimizer", None)  # written by some tf-keras versions
        for key, value in kwargs.items():
            if key not in _ALLOWED_KWARGS:
                raise TypeError(f"Unexpected keyword argument passed to optimizer: {key}. "
                                f"Allowed kwargs are {set(_ALLOWED_KWARGS)}.")
            if value is not None and not callable(value) and not isinstance(
                    value, torch.Tensor) and value < 0:
                raise ValueError(f"Expected {key} >= 0, received: {value}")
        learning_rate = kwargs.pop("lr", learning_rate)
        decay = kwargs.pop("decay", 0.0)
        super().__init__(name, learning_rate, clipnorm=kwargs.get("clipnorm"),
                         clipvalue=kwargs.get("clipvalue"),
                         global_clipnorm=kwargs.get("global_clipnorm"))
        self._initial_decay = float(decay)
        self._decay = torch.tensor(f32(decay), dtype=torch.float32)

    @property
    def decay(self) -> torch.Tensor:
        """The inverse-time decay factor (0-d float32 tensor, like ``lr``)."""
        return self._decay

    @decay.setter
    def decay(self, value) -> None:
        _assign_scalar_(self._decay, value)

    def _device_scalars(self) -> List[torch.Tensor]:
        return super()._device_scalars() + [self._decay]

    def _scalar_variables(self) -> List[Tuple[str, torch.Tensor]]:
        return [(f"{self.name}/iter:0", self._iterations)]

    def _variable_name(self, slot: str, path: str) -> str:
        return f"{self.name}/{path}/{slot}:0"

    def _clip_gradients_(self, grads: Tensors) -> None:
        clip_in_order_(grads, self.clipvalue, self.clipnorm, self.global_clipnorm,
                       only_one=False)

    def _step_lr(self) -> torch.Tensor:
        lr = self._current_lr()
        if self._initial_decay > 0.0:
            lr = torch.div(lr, self._iterations.to(torch.float32) * self._decay + 1.0)
        return lr

    def _adapt_weights(self, weights: List[Any]) -> List[Any]:
        # Keras 1 / early Keras 2 optimizers saved no iteration counter.
        if len(weights) + 1 == len(self.variables):
            return [np.zeros((), dtype=np.int64)] + weights
        return weights

    def get_config(self) -> Dict[str, Any]:
        config: Dict[str, Any] = {"name": self.name}
        for key in ("clipnorm", "clipvalue", "global_clipnorm"):
            if getattr(self, key) is not None:
                config[key] = getattr(self, key)
        config["learning_rate"] = self._serialize_learning_rate()
        config["decay"] = self._initial_decay
        return config


class SGD(Optimizer):
    """Gradient descent with optional (Nesterov) momentum.

    ``w -= lr * g``; with momentum ``m = momentum * m - lr * g``, ``w += m`` (nesterov:
    ``w += momentum * m - lr * g``).

    Args:
        learning_rate: the rate (``lr`` also accepted). Defaults to 0.01.
        momentum: float in [0, 1]. Defaults to 0 (no momentum slot).
        nesterov: whether to use Nesterov momentum.
        name: variable-name prefix.
        **kwargs: ``lr``, ``decay``, ``clipnorm``, ``clipvalue``, ``global_clipnorm``.

    Example:
        >>> opt = SGD(lr=0.01, decay=1e-6, momentum=0.9, nesterov=True, clipnorm=5)
    """

    def __init__(self, learning_rate=0.01, momentum: float = 0.0, nesterov: bool = False,
                 name: str = "SGD", **kwargs):
        super().__init__(name, learning_rate, **kwargs)
        _check_unit_interval("momentum", momentum)
        self.momentum = momentum
        self.nesterov = bool(nesterov)
        self._use_momentum = momentum > 0

    def _slot_groups(self):
        return [("momentum",)] if self._use_momentum else []

    def _update(self, params, grads, slots, lr):
        rules.sgd_(params, grads, lr, slots.get("momentum"), f32(self.momentum), self.nesterov)

    def _adapt_weights(self, weights):
        # Keras 2.2 kept a moments list even without momentum: drop it.
        n = len(self._params)
        if not self._use_momentum and len(weights) == 1 + n:
            return weights[:1]
        return super()._adapt_weights(weights)

    def get_config(self):
        config = super().get_config()
        config.update(momentum=f32(self.momentum), nesterov=self.nesterov)
        return config


class RMSprop(Optimizer):
    """RMSprop: divides the gradient by a moving root mean square.

    ``rms = rho * rms + (1 - rho) * g^2``; without momentum ``w -= lr * g / (sqrt(rms) +
    eps)``; with momentum ``mom = momentum * mom + lr * g / sqrt(rms + eps)``, ``w -= mom``.
    ``centered`` also tracks ``mg`` (mean gradient) and uses ``rms - mg^2``.

    Args:
        learning_rate: the rate (``lr`` also accepted). Defaults to 0.001.
        rho: discount of the squared-gradient average.
        momentum: float in [0, 1].
        epsilon: fuzz factor; None means ``backend.epsilon()``.
        centered: whether to normalise by the estimated variance.
        name: variable-name prefix.
        **kwargs: ``lr``, ``decay``, ``clipnorm``, ``clipvalue``, ``global_clipnorm``.
    """

    def __init__(self, learning_rate=0.001, rho: float = 0.9, momentum: float = 0.0,
                 epsilon: Optional[float] = None, centered: bool = False,
                 name: str = "RMSprop", **kwargs):
        super().__init__(name, learning_rate, **kwargs)
        _check_unit_interval("momentum", momentum)
        self.rho = rho
        self.momentum = momentum
        self.epsilon = _epsilon_or_default(epsilon)
        self.centered = bool(centered)
        self._use_momentum = momentum > 0

    def _slot_groups(self):
        groups = [("rms",)]
        if self._use_momentum:
            groups.append(("momentum",))
        if self.centered:
            groups.append(("mg",))
        return groups

    def _update(self, params, grads, slots, lr):
        mg = slots.get("mg")
        if self._use_momentum:
            rules.rmsprop_momentum_legacy_(params, grads, lr, slots["rms"], slots["momentum"],
                                           _one_minus(self.rho), f32(self.momentum),
                                           self.epsilon, mg)
        else:
            rules.rmsprop_plain_legacy_(params, grads, lr, slots["rms"], f32(self.rho),
                                        _one_minus(self.rho), self.epsilon, mg)

    def get_config(self):
        config = super().get_config()
        config.update(rho=f32(self.rho), momentum=f32(self.momentum), epsilon=self.epsilon,
                      centered=self.centered)
        return config


class AdagradRule:
    """Adagrad's arguments, accumulator slot, update and config, shared by both optimizer
    families' ``Adagrad`` (placed before the family's ``Optimizer`` base).
    ``_eps_inside_sqrt`` is where a family adds epsilon: Keras 2's ``sqrt(acc) + eps``, or
    the newer family's ``sqrt(acc + eps)``."""

    _eps_inside_sqrt = False

    def _set_adagrad_arguments(self, initial_accumulator_value: float, epsilon: float) -> None:
        self.initial_accumulator_value = initial_accumulator_value
        self.epsilon = epsilon
        self._slot_initial_values = {"accumulator": initial_accumulator_value}

    def _slot_groups(self):
        return [("accumulator",)]

    def _update(self, params, grads, slots, lr):
        rules.adagrad_(params, grads, lr, slots["accumulator"], self.epsilon,
                       eps_inside_sqrt=self._eps_inside_sqrt)

    def get_config(self):
        config = super().get_config()
        config.update(initial_accumulator_value=self.initial_accumulator_value,
                      epsilon=self.epsilon)
        return config


class Adagrad(AdagradRule, Optimizer):
    """Adagrad: per-coordinate rates from the sum of squared gradients.

    ``acc += g^2``; ``w -= lr * g / (sqrt(acc) + eps)``; ``acc`` starts at
    ``initial_accumulator_value``.

    Args:
        learning_rate: the rate (``lr`` also accepted). Defaults to 0.01 (Keras 2).
        initial_accumulator_value: starting accumulator value (tf.keras: 0.1).
        epsilon: fuzz factor; None means ``backend.epsilon()``.
        name: variable-name prefix.
        **kwargs: ``lr``, ``decay``, ``clipnorm``, ``clipvalue``, ``global_clipnorm``.
    """

    def __init__(self, learning_rate=0.01, initial_accumulator_value: float = 0.1,
                 epsilon: Optional[float] = None, name: str = "Adagrad", **kwargs):
        if initial_accumulator_value < 0.0:
            raise ValueError("initial_accumulator_value must be non-negative: "
                             f"{initial_accumulator_value}")
        super().__init__(name, learning_rate, **kwargs)
        self._set_adagrad_arguments(initial_accumulator_value, _epsilon_or_default(epsilon))


class Adadelta(Optimizer):
    """Adadelta: rates adapted from moving windows of gradient and update sizes.

    ``Eg = rho*Eg + (1-rho)*g^2``; ``d = sqrt(Ed + eps) / sqrt(Eg + eps) * g``;
    ``w -= lr * d``; ``Ed = rho*Ed + (1-rho)*d^2``.

    Args:
        learning_rate: the rate (``lr`` also accepted). Defaults to 1.0 (Keras 2).
        rho: decay of the moving averages.
        epsilon: fuzz factor; None means ``backend.epsilon()``.
        name: variable-name prefix.
        **kwargs: ``lr``, ``decay``, ``clipnorm``, ``clipvalue``, ``global_clipnorm``.
    """

    def __init__(self, learning_rate=1.0, rho: float = 0.95, epsilon: Optional[float] = None,
                 name: str = "Adadelta", **kwargs):
        super().__init__(name, learning_rate, **kwargs)
        self.rho = rho
        self.epsilon = _epsilon_or_default(epsilon)

    def _slot_groups(self):
        return [("accum_grad",), ("accum_var",)]

    def _update(self, params, grads, slots, lr):
        rules.adadelta_(params, grads, lr, slots["accum_grad"], slots["accum_var"],
                        f32(self.rho), _one_minus(self.rho), self.epsilon)

    def get_config(self):
        config = super().get_config()
        config.update(rho=f32(self.rho), epsilon=self.epsilon)
        return config


def _bias_power(beta: float, step: torch.Tensor) -> torch.Tensor:
    """``beta ** step`` in float32 (``beta`` rounded to float32 first)."""
    return torch.pow(f32(beta), step)


class Adam(Optimizer):
    """Adam, optionally AMSGrad.

    ``m += (g - m)*(1-b1)``; ``v += (g^2 - v)*(1-b2)``; ``w -= lr*sqrt(1-b2^t)/(1-b1^t) *
    m / (sqrt(v) + eps)`` (with ``vhat = max(vhat, v)`` in place of v for amsgrad).

    Args:
        learning_rate: the rate (``lr`` also accepted). Defaults to 0.001.
        beta_1: decay of the first moment.
        beta_2: decay of the second moment.
        epsilon: fuzz factor; None means ``backend.epsilon()``.
        amsgrad: whether to use the AMSGrad variant.
        name: variable-name prefix.
        **kwargs: ``lr``, ``decay``, ``clipnorm``, ``clipvalue``, ``global_clipnorm``.
    """

    def __init__(self, learning_rate=0.001, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: Optional[float] = None, amsgrad: bool = False, name: str = "Adam",
                 **kwargs):
        super().__init__(name, learning_rate, **kwargs)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = _epsilon_or_default(epsilon)
        self.amsgrad = bool(amsgrad)
        self._fused_views = rules.FusedAdamViews()  # (adam_'s fused kernel path)

    def _slot_groups(self):
        return [("m",), ("v",)] + ([("vhat",)] if self.amsgrad else [])

    def _update(self, params, grads, slots, lr):
        step = self._iterations.to(torch.float32) + 1.0
        alpha = lr * torch.sqrt(1.0 - _bias_power(self.beta_2, step)) / (
            1.0 - _bias_power(self.beta_1, step))
        rules.adam_(params, grads, alpha, slots["m"], slots["v"], _one_minus(self.beta_1),
                    _one_minus(self.beta_2), self.epsilon, slots.get("vhat"), self._fused_views)

    def _adapt_weights(self, weights):
        # Keras 2.2 saved iterations + ms + vs + vhats, the vhats of shape (1,) without amsgrad.
        n = len(self._params)
        if not self.amsgrad and len(weights) == 1 + 3 * n and all(
                np.shape(w) == (1,) for w in weights[1 + 2 * n:]):
            return weights[:1 + 2 * n]
        return super()._adapt_weights(weights)

    def get_config(self):
        config = super().get_config()
        config.update(beta_1=f32(self.beta_1), beta_2=f32(self.beta_2), epsilon=self.epsilon,
                      amsgrad=self.amsgrad)
        return config


class Adamax(Optimizer):
    """Adamax: Adam with the infinity norm.

    ``m += (g - m)*(1-b1)``; ``u = max(b2*u, |g|)``; ``w -= lr/(1-b1^t) * m/(u + eps)``.

    Args:
        learning_rate: the rate (``lr`` also accepted). Defaults to 0.002 (Keras 2).
        beta_1: decay of the first moment.
        beta_2: decay of the infinity norm.
        epsilon: fuzz factor; None means ``backend.epsilon()``.
        name: variable-name prefix.
        **kwargs: ``lr``, ``decay``, ``clipnorm``, ``clipvalue``, ``global_clipnorm``.
    """

    def __init__(self, learning_rate=0.002, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: Optional[float] = None, name: str = "Adamax", **kwargs):
        super().__init__(name, learning_rate, **kwargs)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = _epsilon_or_default(epsilon)

    def _slot_groups(self):
        return [("m",), ("v",)]

    def _update(self, params, grads, slots, lr):
        step = self._iterations.to(torch.float32) + 1.0
        correction = 1.0 - _bias_power(self.beta_1, step)
        rules.adamax_(params, grads, lr, correction, slots["m"], slots["v"],
                      _one_minus(self.beta_1), f32(self.beta_2), self.epsilon, legacy=True)

    def get_config(self):
        config = super().get_config()
        config.update(beta_1=f32(self.beta_1), beta_2=f32(self.beta_2), epsilon=self.epsilon)
        return config


class Nadam(Optimizer):
    """Nesterov Adam with Keras 2's momentum schedule.

    ``mu_t = b1 * (1 - 0.5 * 0.96^(schedule_decay * t))``; the product of the ``mu`` is
    the ``momentum_cache`` variable. The rate is not decayed: ``schedule_decay`` only
    shapes the momentum schedule and is reported as ``"decay"`` in the config (as in
    tf-keras; a config's ``decay`` is read back as ``schedule_decay``).

    Args:
        learning_rate: the rate (``lr`` also accepted). Defaults to 0.002 (Keras 2).
        beta_1: decay of the first moment.
        beta_2: decay of the second moment.
        epsilon: fuzz factor; None means ``backend.epsilon()``.
        schedule_decay: momentum schedule decay (default 0.004).
        name: variable-name prefix.
        **kwargs: ``lr``, ``decay`` (= schedule_decay), ``clipnorm``, ``clipvalue``,
            ``global_clipnorm``.
    """

    def __init__(self, learning_rate=0.002, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: Optional[float] = None, schedule_decay: Optional[float] = None,
                 name: str = "Nadam", **kwargs):
        if schedule_decay is None:
            schedule_decay = kwargs.pop("decay", 0.004)
        else:
            kwargs.pop("decay", None)
        if isinstance(kwargs.get("lr", learning_rate), LearningRateSchedule):
            raise ValueError("The Nadam optimizer does not support "
                             "tkeras.optimizers.schedules.LearningRateSchedule as the learning "
                             "rate; use tkeras.optimizers.experimental.Nadam.")
        super().__init__(name, learning_rate, decay=schedule_decay, **kwargs)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = _epsilon_or_default(epsilon)
        self._momentum_cache = torch.ones((), dtype=torch.float32)

    @property
    def schedule_decay(self) -> float:
        return self._initial_decay

    def _device_scalars(self):
        return super()._device_scalars() + [self._momentum_cache]

    def _scalar_variables(self):
        return super()._scalar_variables() + [(f"{self.name}/momentum_cache:0",
                                               self._momentum_cache)]

    def _slot_groups(self):
        return [("m",), ("v",)]

    def _step_lr(self) -> torch.Tensor:
        return self._current_lr()  # schedule_decay does not decay the rate

    def _momentum_schedule(self, step: torch.Tensor) -> torch.Tensor:
        exponent = step * f32(self._initial_decay)
        return (1.0 - torch.pow(f32(0.96), exponent) * 0.5) * f32(self.beta_1)

    def _update(self, params, grads, slots, lr):
        step = self._iterations.to(torch.float32) + 1.0
        m_t = self._momentum_schedule(step)
        m_t_1 = self._momentum_schedule(step + 1.0)
        schedule_new = self._momentum_cache * m_t
        self._momentum_cache.copy_(schedule_new)
        schedule_next = schedule_new * m_t_1
        rules.nadam_legacy_(params, grads, lr, slots["m"], slots["v"], f32(self.beta_1),
                            _one_minus(self.beta_1), f32(self.beta_2), _one_minus(self.beta_2),
                            self.epsilon, m_t, m_t_1, schedule_new, schedule_next,
                            _bias_power(self.beta_2, step))

    def get_config(self):
        config = super().get_config()
        config.update(beta_1=f32(self.beta_1), beta_2=f32(self.beta_2), epsilon=self.epsilon)
        return config


class FtrlRule:
    """Ftrl's arguments, slots, update and config, shared by both optimizer families'
    ``Ftrl`` (placed before the family's ``Optimizer`` base). ``_number`` converts the float
    hyper-parameters that a family rounds (the Keras 2 family: to float32, as TF does)."""

    _number: Any = staticmethod(f32)

    def __init__(self, name: str, learning_rate, learning_rate_power: float,
                 initial_accumulator_value: float, l1_regularization_strength: float,
                 l2_regularization_strength: float, l2_shrinkage_regularization_strength: float,
                 beta: float, **kwargs):
        _check_ftrl_arguments(learning_rate_power, initial_accumulator_value,
                              l1_regularization_strength, l2_regularization_strength,
                              l2_shrinkage_regularization_strength)
        # the family's Optimizer, next in the MRO (mypy sees only object above a mixin)
        super().__init__(name, learning_rate, **kwargs)  # type: ignore[call-arg]
        self.learning_rate_power = learning_rate_power
        self.initial_accumulator_value = initial_accumulator_value
        self.l1_regularization_strength = l1_regularization_strength
        self.l2_regularization_strength = l2_regularization_strength
        self.l2_shrinkage_regularization_strength = l2_shrinkage_regularization_strength
        self.beta = beta
        self._slot_initial_values = {"accumulator": initial_accumulator_value}

    def _slot_groups(self):
        return [("accumulator", "linear")]

    def _update(self, params, grads, slots, lr):
        number = self._number
        rules.ftrl_(params, grads, lr, slots["accumulator"], slots["linear"],
                    number(self.learning_rate_power), number(self.l1_regularization_strength),
                    number(self.l2_regularization_strength),
                    float(self.l2_shrinkage_regularization_strength), number(self.beta))

    def get_config(self):
        config = super().get_config()
        number = self._number
        config.update(
            initial_accumulator_value=self.initial_accumulator_value,
            learning_rate_power=number(self.learning_rate_power),
            l1_regularization_strength=number(self.l1_regularization_strength),
            l2_regularization_strength=number(self.l2_regularization_strength),
            beta=number(self.beta),
            l2_shrinkage_regularization_strength=self.l2_shrinkage_regularization_strength)
        return config


class Ftrl(FtrlRule, Optimizer):
    """FTRL-proximal (TF's ApplyFtrl / ApplyFtrlV2 kernels).

    Args:
        learning_rate: the rate (``lr`` also accepted). Defaults to 0.001.
        learning_rate_power: <= 0; -0.5 is the usual FTRL rate.
        initial_accumulator_value: >= 0, starting accumulator value.
        l1_regularization_strength: >= 0.
        l2_regularization_strength: >= 0 (stabilisation penalty).
        name: variable-name prefix.
        l2_shrinkage_regularization_strength: >= 0 (magnitude penalty).
        beta: the paper's beta (added to l2 as ``beta / (2 * lr)``).
        **kwargs: ``lr``, ``decay``, ``clipnorm``, ``clipvalue``, ``global_clipnorm``.
    """

    def __init__(self, learning_rate=0.001, learning_rate_power: float = -0.5,
                 initial_accumulator_value: float = 0.1,
                 l1_regularization_strength: float = 0.0,
                 l2_regularization_strength: float = 0.0, name: str = "Ftrl",
                 l2_shrinkage_regularization_strength: float = 0.0, beta: float = 0.0,
                 **kwargs):
        super().__init__(name, learning_rate, learning_rate_power, initial_accumulator_value,
                         l1_regularization_strength, l2_regularization_strength,
                         l2_shrinkage_regularization_strength, beta, **kwargs)


def _check_ftrl_arguments(lr_power, initial_accumulator, l1, l2, l2_shrinkage) -> None:
    """Ftrl's argument checks, shared by both optimizer families."""
    checks = (("initial_accumulator_value", initial_accumulator, "positive or zero"),
              ("l1_regularization_strength", l1, "positive or zero"),
              ("l2_regularization_strength", l2, "positive or zero"),
              ("l2_shrinkage_regularization_strength", l2_shrinkage, "positive or zero"))
    for arg, value, what in checks:
        if value < 0.0:
            raise ValueError(f"`{arg}` needs to be {what}. Received: {arg}={value}.")
    if lr_power > 0.0:
        raise ValueError("`learning_rate_power` needs to be negative or zero. Received: "
                         f"learning_rate_power={lr_power}.")


RMSProp = RMSprop

__all__ = ["Optimizer", "SGD", "RMSprop", "Adagrad", "Adadelta", "Adam", "Adamax", "Nadam",
           "Ftrl"]
