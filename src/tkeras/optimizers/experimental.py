"""The newer Keras optimizers: ``tkeras.optimizers.experimental.<Name>``.

The rules, variables and configs of tf-keras >= 2.11's default optimizer classes
(formerly ``optimizers.experimental``): decoupled ``weight_decay`` for every optimizer,
``global_clipnorm``, one clipping mode at a time, ``AdamW``, the newer ``Nadam`` momentum
schedule, epsilon inside the square root for RMSprop and Adagrad, an always-present SGD
momentum slot, EMA of the weights (``use_ema``), variables named ``iteration:0`` and
``<name>/<slot>/<weight path>:0``.

Differences from tf-keras: ``lr=`` is honoured (tf-keras ignores it with a warning);
``jit_compile`` is accepted and reported but changes nothing.
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
import torch

from ..saving.object_registration import Registered, Registry
from . import rules
from .base import Optimizer as _BaseOptimizer
from .base import Tensors, clip_in_order_, f32
from .legacy import AdagradRule, FtrlRule

_LEGACY_ONLY_KWARGS = ("decay", "gradient_aggregator", "gradient_transformers")


_OBJECTS = Registry("optimizer")
"""The optimizers a newer (``is_legacy_optimizer: False``) config names (the classes here
add themselves; the lower-case names and TorchOptimizer are added by tkeras.optimizers)."""


class Optimizer(_BaseOptimizer, Registered, registry=_OBJECTS):
    """Base class of the newer (tf-keras >= 2.11) optimizers.

    Args:
        name: prefix of the slot variable names.
        learning_rate: a float, a ``LearningRateSchedule`` or a zero-argument callable.
        weight_decay: if set, ``w -= lr * weight_decay * w`` before each update.
        clipnorm: per-tensor norm clipping.
        clipvalue: element clipping (used only when no norm clipping is set).
        global_clipnorm: clipping by the global norm (exclusive with ``clipnorm``).
        use_ema: keep an exponential moving average of the weights.
        ema_momentum: the EMA's momentum.
        ema_overwrite_frequency: every that many steps, weights are replaced by their EMA.
        jit_compile: accepted for compatibility (reported in the config).
        **kwargs: ``lr`` (old name of ``learning_rate``).

    Variables: ``iteration:0`` then ``<name>/<slot>/<weight path>:0``.
    See ``tkeras.optimizers.base.Optimizer`` for the interface.
    """

    _keras_module = "keras.optimizers"

    def __init__(self, name: str, learning_rate=0.001, weight_decay: Optional[float] = None,
                 clipnorm: Optional[float] = None, clipvalue: Optional[float] = None,
                 global_clipnorm: Optional[float] = None, use_ema: bool = False,
                 ema_momentum: float = 0.99, ema_overwrite_frequency: Optional[int] = None,
                 jit_compile: bool = True, **kwargs):
        learning_rate = self._process_kwargs(kwargs, learning_rate)
        super().__init__(name, learning_rate, clipnorm=clipnorm, clipvalue=clipvalue,
                         global_clipnorm=global_clipnorm)
        if use_ema:
            _check_ema_arguments(ema_momentum, ema_overwrite_frequency)
        self.weight_decay = weight_decay
        self.use_ema = bool(use_ema)
        self.ema_momentum = ema_momentum
        self.ema_overwrite_frequency = ema_overwrite_frequency
        self.jit_compile = bool(jit_compile) and torch.cuda.is_available()
        self._exclude_ids: set = set()
        self._exclude_names: List[str] = []
        self._decay_targets_key: Optional[Sequence[torch.Tensor]] = None
        self._decay_targets: Tensors = []

    def _process_kwargs(self, kwargs: Dict[str, Any], learning_rate):
        kwargs.pop("is_legacy_optimizer", None)
        learning_rate = kwargs.pop("lr", learning_rate)
        for key in kwargs:
            if key in _LEGACY_ONLY_KWARGS:
                raise ValueError(
                    f"{key} is deprecated in the new Keras optimizer, please check the "
                    "docstring for valid arguments, or use the legacy optimizer, e.g., "
                    f"tkeras.optimizers.legacy.{type(self).__name__}.")
            raise TypeError(f"{key} is not a valid argument, kwargs should be empty for "
                            "`optimizer_experimental.Optimizer`.")
        return learning_rate

    # ------------------------------------------------------------------ learning rate

    def _set_learning_rate(self, value) -> None:
        if getattr(self, "_schedule", None) is not None and not callable(value):
            raise TypeError(
                "This optimizer was created with a `LearningRateSchedule` object as its "
                "`learning_rate` constructor argument, hence its learning rate is not "
                "settable. If you need the learning rate to be settable, you should "
                "instantiate the optimizer with a float `learning_rate` argument.")
        super()._set_learning_rate(value)

    # ------------------------------------------------------------------ variables

    def _slot_layout(self):
        return ([("average",)] if self.use_ema else []) + self._slot_groups()

    def _make_slot(self, slot: str, param: torch.Tensor) -> torch.Tensor:
        if slot == "average":
            return param.detach().clone()
        return super()._make_slot(slot, param)

    def _scalar_variables(self):
        return [("iteration:0", self._iterations)]

    def _variable_name(self, slot: str, path: str) -> str:
        return f"{self.name}/{slot}/{path}:0"

    # ------------------------------------------------------------------ weight decay / EMA

    def exclude_from_weight_decay(self, var_list: Optional[Sequence[torch.Tensor]] = None,
                                  var_names: Optional[Sequence[str]] = None) -> None:
        """Excludes variables from weight decay (call before the optimizer is built).

        Args:
            var_list: tensors to exclude.
            var_names: regular expressions; a variable whose Keras name matches one is
                excluded (e.g. ``["bias"]``).
        """
        if self.built:
            raise ValueError("`exclude_from_weight_decay()` can only be configured before "
                             "the optimizer is built.")
        self._exclude_ids = {id(v) for v in (var_list or [])}
        self._exclude_names = list(var_names or [])

    def _uses_weight_decay(self, param: torch.Tensor) -> bool:
        if id(param) in self._exclude_ids:
            return False
        name = getattr(param, "_keras_name", "") or ""
        return not any(re.search(pattern, name) for pattern in self._exclude_names)

    def _before_update(self, params: Tensors, lr: torch.Tensor) -> None:
        if not self.weight_decay:
            return
        if not (self._exclude_ids or self._exclude_names):
            targets = params
        elif params is self._decay_targets_key:
            targets = self._decay_targets
        else:
            targets = [p for p in params if self._uses_weight_decay(p)]
            self._decay_targets_key, self._decay_targets = params, targets
        if targets:
            rules.weight_decay_(targets, lr, f32(self.weight_decay))

    def _after_update(self, params: Tensors, slots: Dict[str, Tensors]) -> None:
        if not self.use_ema:
            return
        averages = slots["average"]
        rules.ema_update_(averages, params, self.ema_momentum)
        if self.ema_overwrite_frequency:
            due = torch.remainder(self._iterations + 1, int(self.ema_overwrite_frequency)) == 0
            rules.select_(params, averages, due.to(params[0].dtype))

    def finalize_variable_values(self, var_list: Sequence[torch.Tensor]) -> None:
        """With ``use_ema``, overwrites the variables with their moving averages.

        Args:
            var_list: the variables (trainable weights) to overwrite.
        """
        if not self.use_ema:
            return
        with torch.no_grad():
            for var in var_list:
                index = self._index.get(id(var))
                if index is not None:
                    var.copy_(self._slots["average"][index])

    def _clip_gradients_(self, grads: Tensors) -> None:
        clip_in_order_(grads, self.clipvalue, self.clipnorm, self.global_clipnorm,
                       only_one=True)

    # ------------------------------------------------------------------ config

    def get_config(self) -> Dict[str, Any]:
        return {"name": self.name, "weight_decay": self.weight_decay,
                "clipnorm": self.clipnorm, "global_clipnorm": self.global_clipnorm,
                "clipvalue": self.clipvalue, "use_ema": self.use_ema,
                "ema_momentum": self.ema_momentum,
                "ema_overwrite_frequency": self.ema_overwrite_frequency,
                "jit_compile": self.jit_compile, "is_legacy_optimizer": False,
                "learning_rate": self._serialize_learning_rate()}


def _check_ema_arguments(ema_momentum: float, ema_overwrite_frequency) -> None:
    if ema_momentum > 1 or ema_momentum < 0:
        raise ValueError("`ema_momentum` must be in the range [0, 1]. "
                         f"Received: ema_momentum={ema_momentum}")
    if ema_overwrite_frequency and (not isinstance(ema_overwrite_frequency, int)
                                    or ema_overwrite_frequency < 1):
        raise ValueError("`ema_overwrite_frequency` must be an integer > 1 or None. "
                         f"Received: ema_overwrite_frequency={ema_overwrite_frequency}")


def _step(iterations: torch.Tensor, offset: float = 1.0) -> torch.Tensor:
    return iterations.to(torch.float32) + offset


class SGD(Optimizer):
    """Gradient descent with momentum: ``m = -lr*g + momentum*m``; ``w += m`` (nesterov:
    ``w += -lr*g + momentum*m``). The ``m`` slot exists even without momentum.

    Args:
        learning_rate: the rate. Defaults to 0.01.
        momentum: float in [0, 1].
        nesterov: whether to use Nesterov momentum.
        weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum,
        ema_overwrite_frequency, jit_compile, name, **kwargs: see ``Optimizer``.
    """

    def __init__(self, learning_rate=0.01, momentum: float = 0.0, nesterov: bool = False,
                 name: str = "SGD", **kwargs):
        super().__init__(name, learning_rate, **kwargs)
        if isinstance(momentum, (int, float)) and not 0 <= momentum <= 1:
            raise ValueError("`momentum` must be between [0, 1].")
        self.momentum = momentum
        self.nesterov = bool(nesterov)

    def _slot_groups(self):
        return [("m",)]

    def _update(self, params, grads, slots, lr):
        rules.sgd_(params, grads, lr, slots["m"], f32(self.momentum), self.nesterov)

    def get_config(self):
        config = super().get_config()
        config.update(momentum=self.momentum, nesterov=self.nesterov)
        return config


class RMSprop(Optimizer):
    """RMSprop: ``v = rho*v + (1-rho)*g^2``; ``inc = lr*g / sqrt(v + eps)`` (centered:
    ``sqrt(v - ag^2 + eps)``); ``w -= inc`` or, with momentum, ``mom = momentum*mom + inc``,
    ``w -= mom``.

    Args:
        learning_rate: the rate. Defaults to 0.001.
        rho: discount of the squared-gradient average.
        momentum: momentum factor (slot only when > 0).
        epsilon: fuzz factor.
        centered: whether to normalise by the estimated variance.
        weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum,
        ema_overwrite_frequency (default 100), jit_compile, name, **kwargs: see ``Optimizer``.
    """

    def __init__(self, learning_rate=0.001, rho: float = 0.9, momentum: float = 0.0,
                 epsilon: float = 1e-07, centered: bool = False, ema_overwrite_frequency=100,
                 name: str = "RMSprop", **kwargs):
        super().__init__(name, learning_rate, ema_overwrite_frequency=ema_overwrite_frequency,
                         **kwargs)
        self.rho = rho
        self.momentum = momentum
        self.epsilon = epsilon
        self.centered = bool(centered)
        self._use_momentum = momentum > 0

    def _slot_groups(self):
        groups = [("velocity",)]
        if self._use_momentum:
            groups.append(("momentum",))
        if self.centered:
            groups.append(("average_gradient",))
        return groups

    def _update(self, params, grads, slots, lr):
        rules.rmsprop_new_(params, grads, lr, slots["velocity"], float(self.rho),
                           1.0 - self.rho, self.epsilon, slots.get("momentum"),
                           float(self.momentum), slots.get("average_gradient"))

    def get_config(self):
        config = super().get_config()
        config.update(rho=self.rho, momentum=self.momentum, epsilon=self.epsilon,
                      centered=self.centered)
        return config


class Adagrad(AdagradRule, Optimizer):
    """Adagrad: ``acc += g^2``; ``w -= lr*g / sqrt(acc + eps)``.

    Args:
        learning_rate: the rate. Defaults to 0.001.
        initial_accumulator_value: starting accumulator value.
        epsilon: fuzz factor.
        weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum,
        ema_overwrite_frequency, jit_compile, name, **kwargs: see ``Optimizer``.
    """

    _eps_inside_sqrt = True

    def __init__(self, learning_rate=0.001, initial_accumulator_value: float = 0.1,
                 epsilon: float = 1e-07, name: str = "Adagrad", **kwargs):
        super().__init__(name, learning_rate, **kwargs)
        self._set_adagrad_arguments(initial_accumulator_value, epsilon)


class Adadelta(Optimizer):
    """Adadelta: ``Eg = rho*Eg + (1-rho)*g^2``; ``d = sqrt(Ed + eps)/sqrt(Eg + eps)*g``;
    ``w -= lr*d``; ``Ed = rho*Ed + (1-rho)*d^2``.

    Args:
        learning_rate: the rate. Defaults to 0.001.
        rho: decay of the moving averages.
        epsilon: fuzz factor.
        weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum,
        ema_overwrite_frequency, jit_compile, name, **kwargs: see ``Optimizer``.
    """

    def __init__(self, learning_rate=0.001, rho: float = 0.95, epsilon: float = 1e-07,
                 name: str = "Adadelta", **kwargs):
        super().__init__(name, learning_rate, **kwargs)
        self.rho = rho
        self.epsilon = epsilon

    def _slot_groups(self):
        return [("accumulated_grad", "accumulated_delta_var")]

    def _update(self, params, grads, slots, lr):
        rules.adadelta_(params, grads, lr, slots["accumulated_grad"],
                        slots["accumulated_delta_var"], float(self.rho), 1.0 - self.rho,
                        self.epsilon)

    def get_config(self):
        config = super().get_config()
        config.update(rho=self.rho, epsilon=self.epsilon)
        return config


class _Moments(Optimizer):
    """What Adam, Adamax and Nadam share: the decays of their two moments and epsilon."""

    def __init__(self, name: str, learning_rate, beta_1: float, beta_2: float, epsilon: float,
                 **kwargs):
        super().__init__(name, learning_rate, **kwargs)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon

    def get_config(self):
        config = super().get_config()
        config.update(beta_1=self.beta_1, beta_2=self.beta_2, epsilon=self.epsilon)
        return config


class Adam(_Moments):
    """Adam: ``m += (g - m)*(1-b1)``; ``v += (g^2 - v)*(1-b2)``; ``w -= lr*sqrt(1-b2^t)/
    (1-b1^t) * m/(sqrt(v) + eps)`` (amsgrad: ``vhat = max(vhat, v)`` in place of v).

    Args:
        learning_rate: the rate. Defaults to 0.001.
        beta_1: decay of the first moment.
        beta_2: decay of the second moment.
        epsilon: fuzz factor.
        amsgrad: whether to use the AMSGrad variant.
        weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum,
        ema_overwrite_frequency, jit_compile, name, **kwargs: see ``Optimizer``.
    """

    def __init__(self, learning_rate=0.001, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-07, amsgrad: bool = False, name: str = "Adam", **kwargs):
        super().__init__(name, learning_rate, beta_1, beta_2, epsilon, **kwargs)
        self.amsgrad = bool(amsgrad)
        self._fused_views = rules.FusedAdamViews()  # (adam_'s fused kernel path)

    def _slot_groups(self):
        return [("m", "v")] + ([("vhat",)] if self.amsgrad else [])

    def _update(self, params, grads, slots, lr):
        step = _step(self._iterations)
        alpha = lr * torch.sqrt(1.0 - torch.pow(f32(self.beta_2), step)) / (
            1.0 - torch.pow(f32(self.beta_1), step))
        rules.adam_(params, grads, alpha, slots["m"], slots["v"], 1.0 - self.beta_1,
                    1.0 - self.beta_2, self.epsilon, slots.get("vhat"), self._fused_views)

    def get_config(self):
        config = super().get_config()
        config.update(amsgrad=self.amsgrad)
        return config


class AdamW(Adam):
    """Adam with decoupled weight decay: ``w -= lr*weight_decay*w``, then Adam.

    Args:
        learning_rate: the rate. Defaults to 0.001.
        weight_decay: required decay factor. Defaults to 0.004.
        beta_1, beta_2, epsilon, amsgrad: as ``Adam``.
        clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum,
        ema_overwrite_frequency, jit_compile, name, **kwargs: see ``Optimizer``.
    """

    def __init__(self, learning_rate=0.001, weight_decay: float = 0.004, beta_1: float = 0.9,
                 beta_2: float = 0.999, epsilon: float = 1e-07, amsgrad: bool = False,
                 name: str = "AdamW", **kwargs):
        if weight_decay is None:
            raise ValueError("Missing value of `weight_decay` which is required and must be "
                             "a float value.")
        super().__init__(learning_rate, beta_1, beta_2, epsilon, amsgrad, name,
                         weight_decay=weight_decay, **kwargs)


class Adamax(_Moments):
    """Adamax: ``m += (g - m)*(1-b1)``; ``u = max(b2*u, |g|)``; ``w -= lr*m /
    ((1-b1^t)*(u + eps))``.

    Args:
        learning_rate: the rate. Defaults to 0.001.
        beta_1: decay of the first moment.
        beta_2: decay of the infinity norm.
        epsilon: fuzz factor.
        weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum,
        ema_overwrite_frequency, jit_compile, name, **kwargs: see ``Optimizer``.
    """

    def __init__(self, learning_rate=0.001, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-07, name: str = "Adamax", **kwargs):
        super().__init__(name, learning_rate, beta_1, beta_2, epsilon, **kwargs)

    def _slot_groups(self):
        return [("m", "u")]

    def _update(self, params, grads, slots, lr):
        correction = 1.0 - torch.pow(f32(self.beta_1), _step(self._iterations))
        rules.adamax_(params, grads, lr, correction, slots["m"], slots["u"],
                      1.0 - self.beta_1, float(self.beta_2), self.epsilon, legacy=False)


class Nadam(_Moments):
    """Nadam with the momentum schedule ``u_t = b1*(1 - 0.5*0.96^t)``; ``P_t`` is the
    product ``u_1 ... u_t``; ``m_hat = u_{t+1}*m/(1 - P_{t+1}) + (1-u_t)*g/(1 - P_t)``;
    ``w -= lr*m_hat / (sqrt(v/(1-b2^t)) + eps)``.

    The product is kept on the device (not a saved variable, as in tf-keras) and is
    recomputed from ``iterations`` by ``set_weights``.

    Args:
        learning_rate (default 0.001), beta_1, beta_2, epsilon: as ``Adam``.
        weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum,
        ema_overwrite_frequency, jit_compile, name, **kwargs: see ``Optimizer``.
    """

    def __init__(self, learning_rate=0.001, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-07, name: str = "Nadam", **kwargs):
        super().__init__(name, learning_rate, beta_1, beta_2, epsilon, **kwargs)
        self._u_product = torch.ones((), dtype=torch.float32)

    def _device_scalars(self):
        return super()._device_scalars() + [self._u_product]

    def _slot_groups(self):
        return [("m", "v")]

    def _momentum_schedule(self, step: torch.Tensor) -> torch.Tensor:
        return (1.0 - torch.pow(f32(0.96), step) * 0.5) * f32(self.beta_1)

    def _update(self, params, grads, slots, lr):
        step = _step(self._iterations)
        u_t = self._momentum_schedule(step)
        u_t_1 = self._momentum_schedule(step + 1.0)
        u_product_t = self._u_product * u_t
        self._u_product.copy_(u_product_t)
        u_product_t_1 = u_product_t * u_t_1
        beta_1, beta_2 = np.float32(self.beta_1), np.float32(self.beta_2)
        rules.nadam_new_(params, grads, lr, slots["m"], slots["v"],
                         float(np.float32(1) - beta_1), float(np.float32(1) - beta_2),
                         self.epsilon, u_t, u_t_1, u_product_t, u_product_t_1,
                         torch.pow(float(beta_2), step))

    def _after_set_weights(self) -> None:
        steps = int(self._iterations.detach().cpu())
        exponents = np.arange(1, steps + 1, dtype=np.float32)
        u = (np.float32(1) - np.float32(0.96) ** exponents * np.float32(0.5)) * np.float32(
            self.beta_1)
        product = np.float32(1)
        for value in u.astype(np.float32):
            product = np.float32(product * value)
        self._u_product.fill_(float(product))


class Ftrl(FtrlRule, Optimizer):
    """FTRL-proximal: ``n' = n + g^2``; ``z += g_s - (n'^-p - n^-p)/lr*w``; ``w =
    (clip(z, -l1, l1) - z) / (n'^-p/lr + 2*(l2 + beta/(2*lr)))``; ``n = n'``.

    Args:
        learning_rate: the rate. Defaults to 0.001.
        learning_rate_power: <= 0.
        initial_accumulator_value: >= 0.
        l1_regularization_strength: >= 0.
        l2_regularization_strength: >= 0.
        l2_shrinkage_regularization_strength: >= 0.
        beta: the paper's beta.
        weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum,
        ema_overwrite_frequency, jit_compile, name, **kwargs: see ``Optimizer``.
    """

    _number = staticmethod(float)

    def __init__(self, learning_rate=0.001, learning_rate_power: float = -0.5,
                 initial_accumulator_value: float = 0.1,
                 l1_regularization_strength: float = 0.0,
                 l2_regularization_strength: float = 0.0,
                 l2_shrinkage_regularization_strength: float = 0.0, beta: float = 0.0,
                 name: str = "Ftrl", **kwargs):
        super().__init__(name, learning_rate, learning_rate_power, initial_accumulator_value,
                         l1_regularization_strength, l2_regularization_strength,
                         l2_shrinkage_regularization_strength, beta, **kwargs)


__all__ = ["Optimizer", "SGD", "RMSprop", "Adagrad", "Adadelta", "Adam", "AdamW", "Adamax",
           "Nadam", "Ftrl"]
