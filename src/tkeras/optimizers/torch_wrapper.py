"""``TorchOptimizer``: any ``torch.optim`` optimizer behind the Keras optimizer interface.

The role Keras 2's ``TFOptimizer`` played for TensorFlow optimizers (``TFOptimizer`` is
kept as an alias).
"""
from __future__ import annotations

import inspect
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

import numpy as np
import torch

from ..saving.object_registration import get_registered_object
from .base import CallableList, Optimizer, _assign_scalar_, _move_in_place_, f32, weight_path


class TorchOptimizer(Optimizer):
    """Wraps a ``torch.optim`` optimizer so ``compile`` / ``fit`` can use it.

    Args:
        optimizer: a ``torch.optim.Optimizer`` instance (already bound to the model's
            parameters), or a ``torch.optim.Optimizer`` subclass, instantiated with the
            parameters on the first update.
        name: name used for the variable names. Defaults to ``"TorchOptimizer"``.
        **kwargs: constructor arguments when ``optimizer`` is a class (e.g. ``lr=0.1``).

    ``apply(params, grads)`` sets each parameter's ``.grad`` and calls ``step()``.
    ``lr`` / ``learning_rate`` is a 0-d float32 CPU tensor kept in sync with the
    param groups' ``lr`` before each step (``K.set_value(opt.lr, x)`` sets every group's
    rate; a change made on the torch side, e.g. by a ``torch.optim.lr_scheduler``, is
    read back). ``iterations`` counts the steps.

    A subclass of ``tkeras.optimizers.Optimizer`` (as Keras 2's ``TFOptimizer``), so
    ``isinstance(opt, Optimizer)`` holds; the state lives in the torch optimizer, and
    clipping is the torch optimizer's business (``clipnorm`` / ``clipvalue`` are None).

    Example:
        >>> opt = TorchOptimizer(torch.optim.SGD, lr=0.01, momentum=0.9)
        >>> model.compile(optimizer=opt, loss="mse")
    """

    _keras_module = "tkeras.optimizers"

    def __init__(self, optimizer, name: Optional[str] = None, **kwargs):
        self.name = name or "TorchOptimizer"
        if isinstance(optimizer, torch.optim.Optimizer):
            if kwargs:
                raise ValueError(f"TorchOptimizer: constructor arguments {sorted(kwargs)} are "
                                 "only accepted with an optimizer class, not an instance.")
            self._optimizer: Optional[torch.optim.Optimizer] = optimizer
            self._optimizer_class = type(optimizer)
            self._kwargs: Dict[str, Any] = {}
            initial_lr = optimizer.param_groups[0].get("lr", 0.0)
        elif inspect.isclass(optimizer) and issubclass(optimizer, torch.optim.Optimizer):
            self._optimizer = None
            self._optimizer_class = optimizer
            self._kwargs = dict(kwargs)
            initial_lr = kwargs.get("lr", _default_lr(optimizer))
        else:
            raise TypeError("TorchOptimizer expects a torch.optim.Optimizer instance or "
                            f"subclass. Received: {optimizer!r}")
        self.clipnorm = self.clipvalue = self.global_clipnorm = None
        self._schedule = None
        self._lr = torch.tensor(float(initial_lr), dtype=torch.float32)
        self._pushed_lr = float(self._lr)
        self._iterations = torch.zeros((), dtype=torch.int64)
        self._params: List[torch.Tensor] = []

    # ------------------------------------------------------------------ properties

    @property
    def optimizer(self) -> Optional[torch.optim.Optimizer]:
        """The wrapped torch optimizer (None until built when given as a class)."""
        return self._optimizer

    @property
    def learning_rate(self) -> torch.Tensor:
        self._read_torch_lr()
        return self._lr

    @learning_rate.setter
    def learning_rate(self, value) -> None:
        _assign_scalar_(self._lr, value)

    lr = learning_rate

    @property
    def iterations(self) -> torch.Tensor:
        return self._iterations

    @property
    def built(self) -> bool:
        return self._optimizer is not None

    # ------------------------------------------------------------------ learning-rate sync

    def _read_torch_lr(self) -> None:
        """Adopts a rate changed on the torch side (a torch lr_scheduler) since our last push."""
        if self._optimizer is None:
            return
        group_lr = self._optimizer.param_groups[0].get("lr")
        if isinstance(group_lr, (int, float)) and group_lr != self._pushed_lr \
                and float(self._lr) == f32(self._pushed_lr):
            self._lr.fill_(float(group_lr))
            self._pushed_lr = float(group_lr)

    def _push_lr(self) -> None:
        self._read_torch_lr()
        value = float(self._lr)  # a CPU tensor: no device synchronisation
        if value != f32(self._pushed_lr):  # changed through the tensor (K.set_value)
            for group in self._optimizer.param_groups:
                group["lr"] = value
            self._pushed_lr = value

    # ------------------------------------------------------------------ updates

    def build(self, params: Iterable[torch.Tensor]) -> None:
        """Instantiates the torch optimizer over ``params`` (when given as a class).

        Args:
            params: the parameters to optimize.
        """
        params = list(params)
        if self._optimizer is None:
            if not params:
                raise ValueError("TorchOptimizer.build: received no parameters.")
            self._optimizer = self._optimizer_class(params, **self._kwargs)
            self._pushed_lr = float(self._optimizer.param_groups[0].get("lr", self._pushed_lr))
        known = {id(p) for group in self._optimizer.param_groups for p in group["params"]}
        unknown = [weight_path(p, i) for i, p in enumerate(params) if id(p) not in known]
        if unknown:
            raise ValueError(f"TorchOptimizer {self.name!r}: the wrapped torch optimizer does "
                             f"not hold these parameters: {unknown}.")
        self._params = [p for group in self._optimizer.param_groups for p in group["params"]]
        if self._params:
            _move_in_place_(self._iterations, self._params[0].device)

    def apply(self, params: Sequence[torch.Tensor],
              grads: Sequence[Optional[torch.Tensor]]) -> None:
        """Sets ``p.grad = g`` for each pair (``None`` clears it) and calls ``step()``.

        Args:
            params: the parameters.
            grads: their gradients.
        """
        if self._optimizer is None or not self._params:
            self.build(params)
        with torch.no_grad():
            for p, g in zip(params, grads):
                if p.grad is not g:
                    p.grad = g
            self._push_lr()
            self._optimizer.step()
            self._iterations.add_(1)

    def apply_gradients(self, grads_and_vars: Iterable[Tuple[Optional[torch.Tensor],
                                                              torch.Tensor]],
                        name: Optional[str] = None, **kwargs) -> torch.Tensor:
        """Keras's ``apply_gradients`` over the wrapped optimizer; returns ``iterations``.

        Args:
            grads_and_vars: pairs ``(gradient, variable)``.
            name: ignored.
            **kwargs: ignored.
        """
        pairs = list(grads_and_vars)
        self.apply([v for _, v in pairs], [g for g, _ in pairs])
        return self._iterations

    # ------------------------------------------------------------------ state

    def _state_entries(self) -> List[Tuple[str, torch.Tensor]]:
        entries = [(f"{self.name}/iter:0", self._iterations)]
        if self._optimizer is None:
            return entries
        for index, p in enumerate(self._params):
            state = self._optimizer.state.get(p, {})
            path = weight_path(p, index)
            for key in sorted(state):
                if isinstance(state[key], torch.Tensor):
                    entries.append((f"{self.name}/{path}/{key}:0", state[key]))
        return entries

    @property
    def variables(self) -> CallableList:
        """The step counter and the torch optimizer's tensor state, per parameter."""
        return CallableList(t for _, t in self._state_entries())

    weights = variables

    def variable_names(self) -> List[str]:
        return [name for name, _ in self._state_entries()]

    def get_weights(self) -> List[np.ndarray]:
        return [t.detach().cpu().numpy() for t in self.variables]

    def get_slot_names(self) -> List[str]:
        """The keys of the torch optimizer's per-parameter tensor state (after a step)."""
        names: List[str] = []
        if self._optimizer is not None:
            for p in self._params:
                for key, value in sorted(self._optimizer.state.get(p, {}).items()):
                    if isinstance(value, torch.Tensor) and key not in names:
                        names.append(key)
        return names

    def get_slot(self, var: torch.Tensor, slot_name: str) -> torch.Tensor:
        """The torch optimizer's ``slot_name`` state tensor of parameter ``var``."""
        state = self._optimizer.state.get(var, {}) if self._optimizer is not None else {}
        if slot_name not in state:
            raise KeyError(f"Optimizer {self.name!r} has no slot {slot_name!r} for this "
                           f"variable; its slots are {self.get_slot_names()}.")
        return state[slot_name]

    def set_weights(self, weights: Sequence[Any]) -> None:
        """Sets the counter and the torch state. A torch optimizer makes its state at its
        first step; a built one that has not stepped yet (a loaded model's) is first given
        the state a step makes (``_make_state``), so a saved state can be set into it.

        Args:
            weights: arrays in ``variables()`` order.
        """
        entries = self._state_entries()
        optimizer = self._optimizer
        made = False
        if len(weights) > len(entries) and optimizer is not None and not optimizer.state:
            made = _make_state(optimizer)
            entries = self._state_entries()
        if len(weights) != len(entries):
            if made and optimizer is not None:
                optimizer.state.clear()  # fresh again, as it was
            raise ValueError(
                f"You called `set_weights(weights)` on optimizer {self.name} with a weight "
                f"list of length {len(weights)}, but the optimizer was expecting "
                f"{len(entries)} weights (the torch optimizer's state exists after its "
                "first step).")
        arrays = [np.asarray(w.detach().cpu() if isinstance(w, torch.Tensor) else w)
                  for w in weights]
        for (name, tensor), arr in zip(entries, arrays):
            if tuple(arr.shape) != tuple(tensor.shape):
                raise ValueError(f"Optimizer {self.name}: weight {name!r} expected shape "
                                 f"{tuple(tensor.shape)}, received {tuple(arr.shape)}.")
        with torch.no_grad():
            for (_, tensor), arr in zip(entries, arrays):
                tensor.copy_(torch.as_tensor(arr).to(dtype=tensor.dtype))

    # ------------------------------------------------------------------ config

    def get_config(self) -> Dict[str, Any]:
        """``{"name", "optimizer": <class name>, "config": <torch defaults or kwargs>}``."""
        if self._optimizer is not None:
            settings = {k: v for k, v in self._optimizer.defaults.items()}
            self._read_torch_lr()
            settings["lr"] = self._optimizer.param_groups[0].get("lr")
        else:
            settings = dict(self._kwargs)
        return {"name": self.name, "optimizer": self._optimizer_class.__name__,
                "config": _jsonable(settings)}

    @classmethod
    def from_config(cls, config: Mapping[str, Any], custom_objects=None) -> "TorchOptimizer":
        """Rebuilds the wrapper; the class is looked up in ``custom_objects`` then
        ``torch.optim`` (never imported from an arbitrary path).

        Args:
            config: ``get_config()``'s output.
            custom_objects: optional mapping of class names to optimizer classes.
        """
        class_name = config.get("optimizer")
        optimizer_class = get_registered_object(class_name, custom_objects) or getattr(
            torch.optim, str(class_name), None)
        if not (inspect.isclass(optimizer_class)
                and issubclass(optimizer_class, torch.optim.Optimizer)):
            raise ValueError(f"Unknown torch optimizer class: {class_name!r}. Pass it in "
                             "`custom_objects`.")
        settings = dict(config.get("config") or {})
        parameters = inspect.signature(optimizer_class.__init__).parameters
        settings = {k: (tuple(v) if isinstance(v, list) else v) for k, v in settings.items()
                    if k in parameters}
        return cls(optimizer_class, name=config.get("name"), **settings)


def _make_state(optimizer: torch.optim.Optimizer) -> bool:
    """Gives each parameter the state the torch optimizer makes at its first step, zero
    filled: its keys, shapes and dtypes are found by one step of a second instance (the
    same class and param-group settings) over zero stand-ins, so neither the weights
    nor ``optimizer`` step. False, with nothing changed, where that instance cannot be
    made or its state holds more than tensors."""
    stand_ins: Dict[torch.Tensor, torch.Tensor] = {}
    groups = []
    for group in optimizer.param_groups:
        params = []
        for p in group["params"]:
            stand_in = torch.zeros_like(p.detach()).requires_grad_(p.requires_grad)
            stand_in.grad = torch.zeros_like(stand_in)
            stand_ins[p] = stand_in
            params.append(stand_in)
        groups.append({**{k: v for k, v in group.items() if k != "params"},
                       "params": params})
    try:
        cls: Any = type(optimizer)
        scratch = cls(groups)
        scratch.step()
    except (TypeError, ValueError, RuntimeError):
        return False
    states = {p: scratch.state.get(stand_in, {}) for p, stand_in in stand_ins.items()}
    if any(not isinstance(v, torch.Tensor) for state in states.values()
           for v in state.values()):
        return False
    for p, state in states.items():
        if state:
            optimizer.state[p] = {k: torch.zeros_like(v) for k, v in state.items()}
    return True


def _default_lr(optimizer_class) -> float:
    parameter = inspect.signature(optimizer_class.__init__).parameters.get("lr")
    if parameter is None or not isinstance(parameter.default, (int, float)):
        return 0.0
    return float(parameter.default)


def _jsonable(settings: Dict[str, Any]) -> Dict[str, Any]:
    out = {}
    for key, value in settings.items():
        if isinstance(value, torch.Tensor):
            value = value.detach().cpu().tolist()
        elif isinstance(value, tuple):
            value = list(value)
        if value is None or isinstance(value, (bool, int, float, str, list)):
            out[key] = value
    return out


TFOptimizer = TorchOptimizer
