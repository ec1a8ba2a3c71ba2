"""``LossScaleOptimizer``: loss scaling for float16 training, with tf-keras 2.x's semantics.

float16 gradients of small values underflow to zero. The loss is multiplied by a large
*loss scale* before the gradients are taken, and the gradients divided by it before they
are applied. With dynamic loss scaling (the default) the scale starts at ``2**15``; a step
whose gradients contain an inf or NaN is skipped and the scale halved (never below 1);
after ``dynamic_growth_steps`` (2000) finite steps in a row the scale doubles.
"""
from __future__ import annotations

from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple, Union

import torch

from ..optimizers.base import Optimizer

__all__ = ["LossScaleOptimizer"]

_DEFAULT_INITIAL_SCALE = 2.0 ** 15
_DEFAULT_GROWTH_STEPS = 2000
_MULTIPLIER = 2.0


def _all_finite(grads: Sequence[Optional[torch.Tensor]]) -> torch.Tensor:
    """One 0-d bool tensor: whether every gradient is finite (no host read)."""
    present = [g for g in grads if g is not None]
    if not present:
        return torch.ones((), dtype=torch.bool)
    sums = torch.stack([g.detach().float().sum() for g in present])  # inf/nan propagate
    return torch.isfinite(sums).all()


class LossScaleOptimizer(Optimizer):
    """An optimizer wrapper that scales the loss (see the module docstring).

    Use it with the ``"mixed_float16"`` policy; ``"mixed_bfloat16"`` does not need it
    (bfloat16 has float32's exponent range).

    Args:
        inner_optimizer: the optimizer whose updates are applied.
        dynamic: whether the scale changes (True) or stays at ``initial_scale``.
        initial_scale: the first scale (default ``2**15`` when dynamic; required otherwise).
        dynamic_growth_steps: finite steps in a row before the scale doubles (default 2000).

    In a custom training step:
        ``scaled = opt.get_scaled_loss(loss)``, gradients of ``scaled``,
        ``grads = opt.get_unscaled_gradients(grads)``, ``opt.apply_gradients(zip(grads,
        vars))`` (skipped, and the scale halved, when a gradient is inf/NaN); or just
        ``opt.minimize(loss, vars)``. Checking the gradients reads one flag from the device
        per step, as torch's ``GradScaler`` does.

    Example:
        >>> opt = LossScaleOptimizer(tkeras.optimizers.SGD(0.1))
        >>> float(opt.loss_scale)
        32768.0
    """

    _keras_module = "keras.mixed_precision"

    def __init__(self, inner_optimizer, dynamic: bool = True,
                 initial_scale: Optional[float] = None,
                 dynamic_growth_steps: Optional[int] = None):
        if isinstance(inner_optimizer, LossScaleOptimizer):
            raise TypeError("LossScaleOptimizer cannot wrap another LossScaleOptimizer, but "
                            f"got: {inner_optimizer}")
        if not isinstance(inner_optimizer, Optimizer):
            raise TypeError("You passed an instance of "
                            f"{type(inner_optimizer).__name__} to LossScaleOptimizer, but "
                            "inner_optimizer must be an instance of "
                            "`tkeras.optimizers.Optimizer`.")
        if not isinstance(dynamic, bool):
            raise TypeError(f'"dynamic" argument to LossScaleOptimizer.__init__ must be a '
                            f"bool, but got: {dynamic!r}")
        if dynamic:
            initial_scale = _DEFAULT_INITIAL_SCALE if initial_scale is None else initial_scale
            dynamic_growth_steps = _DEFAULT_GROWTH_STEPS if dynamic_growth_steps is None \
                else dynamic_growth_steps
            if int(dynamic_growth_steps) < 1:
                raise ValueError("dynamic_growth_steps must be positive, but got: "
                                 f"{dynamic_growth_steps}")
        else:
            if initial_scale is None:
                raise ValueError('"initial_scale" must be specified if "dynamic" is False')
            if dynamic_growth_steps is not None:
                raise ValueError('"dynamic_growth_steps" must be None if "dynamic" is False, '
                                 f"but got: {dynamic_growth_steps}")
        self.__dict__["_inner"] = inner_optimizer
        self._dynamic = dynamic
        self._initial_scale = float(initial_scale)
        self._growth_steps = None if dynamic_growth_steps is None else int(dynamic_growth_steps)
        self._loss_scale = torch.tensor(self._initial_scale, dtype=torch.float32)
        self._counter = torch.zeros((), dtype=torch.int64)

    # ------------------------------------------------------------------ the wrapped optimizer

    def __getattr__(self, name: str):  # what LossScaleOptimizer does not define: the inner's
        inner = self.__dict__.get("_inner")
        if inner is None:
            raise AttributeError(name)
        return getattr(inner, name)

    @property
    def inner_optimizer(self) -> Optimizer:
        """The wrapped optimizer."""
        return self._inner

    @property
    def learning_rate(self):
        return self._inner.learning_rate

    @learning_rate.setter
    def learning_rate(self, value) -> None:
        self._inner.learning_rate = value

    lr = learning_rate

    @property
    def iterations(self) -> torch.Tensor:
        return self._inner.iterations

    @property
    def built(self) -> bool:
        return self._inner.built

    def build(self, params) -> None:
        self._inner.build(params)

    @property
    def variables(self):
        return self._inner.variables

    @property
    def weights(self):
        return self._inner.weights

    def variable_names(self) -> List[str]:
        return self._inner.variable_names()

    def get_slot_names(self):
        return self._inner.get_slot_names()

    def get_slot(self, var, slot_name):
        return self._inner.get_slot(var, slot_name)

    def get_weights(self):
        return self._inner.get_weights()

    def set_weights(self, weights) -> None:
        self._inner.set_weights(weights)

    # ------------------------------------------------------------------ the loss scale

    @property
    def dynamic(self) -> bool:
        """Whether the loss scale changes during training."""
        return self._dynamic

    @property
    def loss_scale(self) -> torch.Tensor:
        """The current loss scale (a 0-d float32 tensor)."""
        return self._loss_scale

    @property
    def dynamic_counter(self) -> Optional[torch.Tensor]:
        """Finite steps since the scale last changed (None when not dynamic)."""
        return self._counter if self._dynamic else None

    @property
    def initial_scale(self) -> float:
        return self._initial_scale

    @property
    def dynamic_growth_steps(self) -> Optional[int]:
        return self._growth_steps

    def get_scaled_loss(self, loss: Union[torch.Tensor, Callable[[], torch.Tensor]]):
        """``loss * loss_scale`` (a callable gives a callable).

        Args:
            loss: a loss tensor, or a zero-argument callable returning one.
        """
        if callable(loss) and not isinstance(loss, torch.Tensor):
            return lambda: self.get_scaled_loss(loss())
        return loss * self._loss_scale.to(loss.device, loss.dtype)

    def get_unscaled_gradients(self, grads: Sequence[Optional[torch.Tensor]]
                               ) -> List[Optional[torch.Tensor]]:
        """Each gradient divided by the loss scale (None stays None).

        Args:
            grads: gradients of the scaled loss.
        """
        inv = 1.0 / self._loss_scale
        return [None if g is None else g * inv.to(g.device, g.dtype) for g in grads]

    def _update_scale(self, grads: Sequence[Optional[torch.Tensor]]) -> bool:
        """tf-keras's dynamic rule; True when the gradients are finite (step applies)."""
        if not self._dynamic:
            return True
        finite = bool(_all_finite(grads))  # one host read per step
        with torch.no_grad():
            if not finite:
                self._counter.zero_()
                self._loss_scale.copy_(torch.clamp(self._loss_scale / _MULTIPLIER, min=1.0))
                return False
            if int(self._counter) + 1 >= self._growth_steps:
                grown = self._loss_scale * _MULTIPLIER
                if torch.isfinite(grown):
                    self._loss_scale.copy_(grown)
                self._counter.zero_()
            else:
                self._counter.add_(1)
        return True

    # ------------------------------------------------------------------ updates

    def apply(self, params: Sequence[torch.Tensor],
              grads: Sequence[Optional[torch.Tensor]]) -> None:
        """The training loop's fast path with already-unscaled gradients: skipped (and
        the scale halved) when one is inf/NaN."""
        if self._update_scale(grads):
            self._inner.apply(params, grads)

    def apply_gradients(self, grads_and_vars: Iterable[Tuple[Optional[torch.Tensor],
                                                              torch.Tensor]],
                        name: Optional[str] = None, **kwargs) -> torch.Tensor:
        """Applies unscaled gradients through the inner optimizer, unless one is inf/NaN:
        then the step is skipped and the scale halved. Returns ``iterations``.

        Args:
            grads_and_vars: ``(gradient, variable)`` pairs (gradients already unscaled).
        """
        pairs = list(grads_and_vars)
        if self._update_scale([g for g, _ in pairs]):
            self._inner.apply_gradients(pairs, name=name, **kwargs)
        return self._inner.iterations

    def minimize(self, loss, var_list, grad_loss: Optional[torch.Tensor] = None,
                 name: Optional[str] = None, tape=None) -> torch.Tensor:
        """Scales ``loss``, takes its gradients, unscales them and applies them.

        Args:
            loss: a scalar tensor or a zero-argument callable returning it.
            var_list: the variables (or a callable returning them).
        """
        value = loss() if callable(loss) else loss
        variables = list(var_list() if callable(var_list) else var_list)
        grads = torch.autograd.grad(self.get_scaled_loss(value), variables,
                                    grad_outputs=grad_loss, allow_unused=True)
        return self.apply_gradients(zip(self.get_unscaled_gradients(grads), variables))

    # ------------------------------------------------------------------ config

    def get_config(self) -> Dict[str, Any]:
        from ..optimizers import serialize
        return {"inner_optimizer": serialize(self._inner), "dynamic": self._dynamic,
                "initial_scale": self._initial_scale,
                "dynamic_growth_steps": self._growth_steps}

    @classmethod
    def from_config(cls, config: Dict[str, Any], custom_objects=None) -> "LossScaleOptimizer":
        from ..optimizers import deserialize
        config = dict(config)
        if "loss_scale" in config:  # TF 2.3 configs
            raise ValueError("LossScaleOptimizer configs with a `loss_scale` key (TF 2.3 and "
                             "below) are not supported; pass `dynamic` / `initial_scale`.")
        inner = deserialize(config.pop("inner_optimizer"), custom_objects=custom_objects)
        return cls(inner, **config)
