"""The optimizer base class shared by the Keras 2 (legacy) and the newer optimizer families."""
from __future__ import annotations

import re
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

import numpy as np
import torch

from . import fused as fused_update
from . import rules
from .schedules import LearningRateSchedule
from .schedules import deserialize as deserialize_schedule
from .schedules import serialize as serialize_schedule

Tensors = List[torch.Tensor]


class CallableList(list):
    """A list that also answers ``obj()``, so ``opt.variables`` and ``opt.variables()`` agree."""

    def __call__(self):
        return self


def f32(value: float) -> float:
    """``value`` rounded to float32, as a Python float (how TF stores a hyper-parameter)."""
    return float(np.float32(value))


def _assign_scalar_(target: torch.Tensor, value) -> None:
    """Writes a number or a 0-d tensor into ``target`` in place (never replaces it)."""
    with torch.no_grad():
        if isinstance(value, torch.Tensor):
            target.copy_(value.detach().reshape(()))
        else:
            target.fill_(float(value))


def _move_in_place_(tensor: torch.Tensor, device: torch.device) -> None:
    """Moves ``tensor`` to ``device`` keeping the Python object, so references stay valid."""
    if tensor.device != device:
        torch.utils.swap_tensors(tensor, tensor.to(device))


def weight_path(param: torch.Tensor, index: int) -> str:
    """A parameter's Keras variable path without ``:0``: ``dense/kernel`` or ``param_3``."""
    name = getattr(param, "_keras_name", None) or f"param_{index}:0"
    return re.sub(r":\d+$", "", str(name))


class Optimizer:
    """Base class of tkeras optimizers (both families).

    Optimizers are constructed without variables; their state is created for a list of
    parameters on the first update (or by ``build``), on the parameters' device.

    Interface used by the training loop and the saving code:

    * ``apply(params, grads)``: the fast path, called once per training step with the
      same lists every step (``params`` in the order used for the first call). It clips
      ``grads`` **in place**, then updates ``params`` and the slots with multi-tensor
      ``torch._foreach_*`` ops under ``torch.no_grad()``, without reading anything back to
      the host. A ``None`` gradient skips that parameter (its slots stay untouched).
      Variable constraints are not applied here (the caller applies them).
    * ``apply_gradients(grads_and_vars)``: Keras's API (pairs ``(grad, param)``; ``None``
      gradients are skipped); leaves the gradients untouched and applies the parameters'
      ``_keras_constraint`` afterwards. Returns ``iterations``.
    * ``build(params)``: creates the slots for ``params`` (in that order) without a step.
    * ``learning_rate`` / ``lr``: the same 0-d float32 tensor. ``K.get_value(opt.lr)``
      reads it, ``K.set_value(opt.lr, 0.1)`` (an in-place copy) changes the next step;
      assigning ``opt.lr = 0.1`` also writes in place. With a ``LearningRateSchedule`` the
      tensor holds the last scheduled rate, ``schedule(iterations)`` evaluated before each
      step (``iterations = t - 1`` at step ``t``).
    * ``iterations``: the step counter, a 0-d int64 tensor on the parameters' device.
    * ``variables()`` (also ``variables`` and ``weights``): the state tensors in tf-keras's
      order, ``variable_names()``: their Keras names, built from each parameter's
      ``_keras_name`` (``"dense/kernel:0"``; ``"param_{i}:0"`` when absent).
    * ``get_weights()`` / ``set_weights(arrays)``: numpy arrays in that order. Before the
      first step call ``build(params)`` first; a wrong count or shape is a ValueError.
    * ``get_config()`` / ``from_config(config)``: tf-keras's configs.
    * ``fused``: True runs each step (clipping, weight decay, update, EMA) as one
      ``torch.compile``'d graph (``tkeras.optimizers.fused``); None follows the module
      default; not part of the config.

    Subclasses (see ``legacy`` and ``experimental``) define ``_slot_groups()``,
    ``_update(params, grads, slots, lr)`` and the naming / clipping rules of their family.

    Example:
        >>> w = torch.ones(3, requires_grad=True); w._keras_name = "dense/kernel:0"
        >>> opt = tkeras.optimizers.Adam(lr=0.01)
        >>> loss = (w ** 2).sum(); loss.backward()
        >>> opt.apply([w], [w.grad])          # one step; slots created now
        >>> opt.variable_names()
        ['Adam/iter:0', 'Adam/dense/kernel/m:0', 'Adam/dense/kernel/v:0']
    """

    _keras_module = "keras.optimizers"
    #: initial value of each slot (0 when absent)
    _slot_initial_values: Dict[str, float] = {}

    def __init__(self, name: str, learning_rate, clipnorm: Optional[float] = None,
                 clipvalue: Optional[float] = None, global_clipnorm: Optional[float] = None):
        if clipnorm is not None and global_clipnorm is not None:
            raise ValueError(
                "At most one of `clipnorm` and `global_clipnorm` can be set. "
                f"Received: clipnorm={clipnorm}, global_clipnorm={global_clipnorm}.")
        self.name = name
        self.clipnorm = clipnorm
        self.clipvalue = clipvalue
        self.global_clipnorm = global_clipnorm
        self._iterations = torch.zeros((), dtype=torch.int64)
        self._lr = torch.zeros((), dtype=torch.float32)
        self._schedule: Optional[Callable] = None
        self._set_learning_rate(learning_rate)
        self._params: Tensors = []
        self._paths: List[str] = []
        self._index: Dict[int, int] = {}
        self._slots: Dict[str, Tensors] = {}
        self._checked_params: Optional[Sequence[torch.Tensor]] = None
        self._fused: Optional[bool] = None
        self._fused_by_compile = False  # set by a model's compile(jit_compile=True)
        self._compiled_update: Optional[fused_update.CompiledUpdate] = None

    # ------------------------------------------------------------------ learning rate

    def _set_learning_rate(self, value) -> None:
        if callable(value):  # a LearningRateSchedule, or a zero-argument callable
            self._schedule = value
            self._evaluate_schedule()
            return
        if isinstance(value, torch.Tensor) and value.numel() != 1:
            raise ValueError(f"The learning rate must be a scalar. Received a tensor of shape "
                             f"{tuple(value.shape)}.")
        self._schedule = None
        _assign_scalar_(self._lr, value)

    def _evaluate_schedule(self) -> None:
        """Writes ``schedule(iterations)`` into the learning-rate tensor (device-side)."""
        schedule = self._schedule
        if isinstance(schedule, LearningRateSchedule):
            value = schedule(self._iterations)
        else:
            value = schedule()  # a zero-argument callable, as Keras accepts
        _assign_scalar_(self._lr, value)

    @property
    def learning_rate(self) -> torch.Tensor:
        """The learning rate: a 0-d float32 tensor, updated in place."""
        return self._lr

    @learning_rate.setter
    def learning_rate(self, value) -> None:
        self._set_learning_rate(value)

    @property
    def lr(self) -> torch.Tensor:
        """Alias of ``learning_rate`` (Keras 2's name)."""
        return self.learning_rate

    @lr.setter
    def lr(self, value) -> None:
        self.learning_rate = value

    def _current_lr(self) -> torch.Tensor:
        """The rate of this step (schedule evaluated; legacy decay applied by subclasses)."""
        if self._schedule is not None:
            self._evaluate_schedule()
        return self._lr

    @property
    def iterations(self) -> torch.Tensor:
        """Number of steps taken: a 0-d int64 tensor on the parameters' device."""
        return self._iterations

    @iterations.setter
    def iterations(self, value) -> None:
        _assign_scalar_(self._iterations, value)

    # ------------------------------------------------------------------ state

    @property
    def built(self) -> bool:
        return bool(self._params)

    def _slot_layout(self) -> List[Tuple[str, ...]]:
        """Groups of slot names in variable order; the names inside one group interleave per
        parameter: ``[("m", "v"), ("vhat",)]`` gives m0 v0 m1 v1 ... vhat0 vhat1 ..."""
        return self._slot_groups()

    def _slot_groups(self) -> List[Tuple[str, ...]]:
        """The optimizer's own slots (see ``_slot_layout``); fixed at construction."""
        return []

    def _scalar_variables(self) -> List[Tuple[str, torch.Tensor]]:
        """(Keras name, 0-d tensor) of the non-slot variables, iteration counter first."""
        return []

    def _variable_name(self, slot: str, path: str) -> str:
        raise NotImplementedError

    def build(self, params: Iterable[torch.Tensor]) -> None:
        """Creates the optimizer state for ``params`` (in that order) on their device.

        Parameters already known are kept; new ones are appended, so calling ``build``
        again with a longer list extends the state.

        Args:
            params: the parameters (tensors) this optimizer will update.
        """
        new = []
        for p in params:
            if not isinstance(p, torch.Tensor):
                raise TypeError(f"{self.name}: expected torch tensors to optimize, received "
                                f"{type(p).__name__}.")
            if id(p) not in self._index and all(p is not q for q in new):
                new.append(p)
        if not new:
            return
        self._place_scalars(new)
        for p in new:
            index = len(self._params)
            self._index[id(p)] = index
            self._params.append(p)
            self._paths.append(weight_path(p, index))
        for group in self._slot_layout():
            for slot in group:
                self._slots.setdefault(slot, []).extend(
                    self._make_slot(slot, p) for p in new)
        self._checked_params = None

    def _make_slot(self, slot: str, param: torch.Tensor) -> torch.Tensor:
        value = self._slot_initial_values.get(slot, 0.0)
        with torch.no_grad():
            return torch.full_like(param, value, requires_grad=False) if value else \
                torch.zeros_like(param, requires_grad=False)

    def _place_scalars(self, new: Sequence[torch.Tensor]) -> None:
        devices = {p.device for p in list(self._params) + list(new)}
        if len(devices) > 1:
            raise ValueError(f"Optimizer {self.name!r}: all parameters must be on one device; "
                             f"received parameters on {sorted(str(d) for d in devices)}.")
        device = next(iter(devices))
        for tensor in self._device_scalars():
            _move_in_place_(tensor, device)

    def _device_scalars(self) -> List[torch.Tensor]:
        """Every scalar state tensor that lives on the parameters' device."""
        return [self._iterations, self._lr]

    @property
    def variables(self) -> CallableList:
        """The optimizer's state tensors in tf-keras's order (also callable: ``variables()``)."""
        out = [tensor for _, tensor in self._scalar_variables()]
        n = len(self._params)
        for group in self._slot_layout():
            for i in range(n):
                out.extend(self._slots[slot][i] for slot in group)
        return CallableList(out)

    @property
    def weights(self) -> CallableList:
        """Same as ``variables`` (Keras 2's name)."""
        return self.variables

    def variable_names(self) -> List[str]:
        """Keras names of ``variables()``, e.g. ``Adam/iter:0``, ``Adam/dense/kernel/m:0``."""
        names = [name for name, _ in self._scalar_variables()]
        for group in self._slot_layout():
            for path in self._paths:
                names.extend(self._variable_name(slot, path) for slot in group)
        return names

    def get_slot_names(self) -> List[str]:
        """Names of the per-parameter slots, e.g. ``["m", "v"]``."""
        return [slot for group in self._slot_layout() for slot in group]

    def get_slot(self, var: torch.Tensor, slot_name: str) -> torch.Tensor:
        """The ``slot_name`` state tensor of parameter ``var`` (built parameters only).

        Args:
            var: a parameter the optimizer was built with.
            slot_name: one of ``get_slot_names()``.
        """
        if slot_name not in self._slots:
            raise KeyError(f"Optimizer {self.name!r} has no slot {slot_name!r}; its slots are "
                           f"{self.get_slot_names()}.")
        if id(var) not in self._index:
            raise KeyError(f"Optimizer {self.name!r} was not built with this variable.")
        return self._slots[slot_name][self._index[id(var)]]

    def get_weights(self) -> List[np.ndarray]:
        """The state as numpy arrays, in ``variables()`` order."""
        return [t.detach().cpu().numpy() for t in self.variables]

    def set_weights(self, weights: Sequence[Any]) -> None:
        """Sets the state from arrays in ``variables()`` order (call ``build`` first).

        Args:
            weights: arrays (numpy, tensors or nested lists) with the variables' shapes.
        """
        if not self.built:
            raise ValueError(
                f"You called `set_weights()` on optimizer {self.name} before its variables "
                "exist. Call `optimizer.build(params)` with the model's trainable weights "
                "first (or take one training step).")
        weights = self._adapt_weights(list(weights))
        variables = self.variables
        if len(weights) != len(variables):
            raise ValueError(
                f"You called `set_weights(weights)` on optimizer {self.name} with a weight "
                f"list of length {len(weights)}, but the optimizer was expecting "
                f"{len(variables)} weights.")
        arrays = [np.asarray(w.detach().cpu() if isinstance(w, torch.Tensor) else w)
                  for w in weights]
        names = self.variable_names()
        for name, var, arr in zip(names, variables, arrays):
            if tuple(arr.shape) != tuple(var.shape):
                raise ValueError(
                    f"Optimizer {self.name}: weight {name!r} expected shape "
                    f"{tuple(var.shape)}, received an array of shape {tuple(arr.shape)}.")
        with torch.no_grad():
            for var, arr in zip(variables, arrays):
                var.copy_(torch.as_tensor(arr).to(dtype=var.dtype))
        self._after_set_weights()

    def _adapt_weights(self, weights: List[Any]) -> List[Any]:
        """Hook: converts weight lists saved by older Keras versions."""
        return weights

    def _after_set_weights(self) -> None:
        """Hook: recomputes state derived from the variables."""

    # ------------------------------------------------------------------ updates

    def _clip_gradients_(self, grads: Tensors) -> None:
        """Clips ``grads`` in place according to the family's rules."""
        raise NotImplementedError

    def _update(self, params: Tensors, grads: Tensors, slots: Dict[str, Tensors],
                lr: torch.Tensor) -> None:
        """Applies one update step to ``params`` and their ``slots`` (aligned lists)."""
        raise NotImplementedError

    def _step_lr(self) -> torch.Tensor:
        """The learning rate used by this step (hook for the legacy ``decay``)."""
        return self._current_lr()

    def _before_update(self, params: Tensors, lr: torch.Tensor) -> None:
        """Hook run after clipping, before the update (weight decay)."""

    def _after_update(self, params: Tensors, slots: Dict[str, Tensors]) -> None:
        """Hook run after the update, before the counter moves (EMA)."""

    @property
    def fused(self) -> Optional[bool]:
        """Whether steps run as one compiled graph (``tkeras.optimizers.fused``); None (the
        default) follows ``fused.default()``, and is on for a model compiled with
        ``jit_compile=True``. Not part of the config."""
        return self._fused

    @fused.setter
    def fused(self, value: Optional[bool]) -> None:
        self._fused = None if value is None else bool(value)

    def _uses_fused_update(self) -> bool:
        if self._fused is not None:
            return self._fused
        return self._fused_by_compile or fused_update.default()

    def _update_body(self, params: Tensors, grads: Tensors, slots: Dict[str, Tensors],
                     lr: torch.Tensor) -> None:
        """Clipping, weight decay, the update and EMA: what the fused path compiles."""
        if grads:
            self._clip_gradients_(grads)
        if params:
            self._before_update(params, lr)
            self._update(params, grads, slots, lr)
            self._after_update(params, slots)

    def _run_step(self, params: Tensors, grads: Tensors, slots: Dict[str, Tensors]) -> None:
        lr = self._step_lr()  # eager: schedules are arbitrary Python
        # inside a compiled training step (compile(jit_compile=True)) the eager body is
        # traced into the step's own graph
        if self._uses_fused_update() and params and not torch.compiler.is_compiling():
            if self._compiled_update is None:
                self._compiled_update = fused_update.CompiledUpdate(self._update_body)
            self._compiled_update(params, grads, slots, lr)
        else:
            self._update_body(params, grads, slots, lr)
        self._iterations.add_(1)

    def _subset(self, params: Sequence[torch.Tensor]) -> Tuple[Tensors, Dict[str, Tensors]]:
        indices = [self._index[id(p)] for p in params]
        return ([self._params[i] for i in indices],
                {name: [slot[i] for i in indices] for name, slot in self._slots.items()})

    def _is_build_order(self, params: Sequence[torch.Tensor]) -> bool:
        """Whether ``params`` are exactly the built parameters, in order (cached per list)."""
        if params is self._checked_params and len(params) == len(self._params):
            return True
        if len(params) == len(self._params) and all(
                p is q for p, q in zip(params, self._params)):
            self._checked_params = params
            return True
        return False

    def apply(self, params: Sequence[torch.Tensor], grads: Sequence[Optional[torch.Tensor]]
              ) -> None:
        """One training step: the fast path of the training loop (see the class docstring).

        Args:
            params: the parameters, the same list (same order) at every call.
            grads: their gradients (clipped in place); ``None`` skips a parameter.
        """
        if len(params) != len(grads):
            raise ValueError(f"Optimizer {self.name}: received {len(params)} parameters but "
                             f"{len(grads)} gradients.")
        with torch.no_grad():
            if not self._is_build_order(params):
                self.build(params)
            if self._is_build_order(params) and all(g is not None for g in grads):
                self._run_step(params if isinstance(params, list) else list(params),
                               grads if isinstance(grads, list) else list(grads), self._slots)
                return
            pairs = [(g, p) for g, p in zip(grads, params) if g is not None]
            self._apply_pairs(pairs)

    def _apply_pairs(self, pairs: List[Tuple[torch.Tensor, torch.Tensor]]) -> None:
        sub_params, slots = self._subset([p for _, p in pairs])
        self._run_step(sub_params, [g for g, _ in pairs], slots)

    def apply_gradients(self, grads_and_vars: Iterable[Tuple[Optional[torch.Tensor],
                                                              torch.Tensor]],
                        name: Optional[str] = None, **kwargs) -> torch.Tensor:
        """Keras's ``apply_gradients``: updates each variable from its gradient.

        Args:
            grads_and_vars: pairs ``(gradient, variable)``; ``None`` gradients are skipped.
            name: ignored (Keras's name scope).
            **kwargs: ``experimental_aggregate_gradients`` / ``skip_gradients_aggregation``
                are accepted and ignored (there is no cross-replica aggregation).

        Returns:
            The ``iterations`` tensor.
        """
        pairs = list(grads_and_vars)
        for pair in pairs:
            if not (isinstance(pair, (tuple, list)) and len(pair) == 2):
                raise TypeError(f"{self.name}.apply_gradients expects (gradient, variable) "
                                f"pairs; received {pair!r}.")
        variables = [v for _, v in pairs]
        with torch.no_grad():
            self.build(variables)
            kept = [(g.detach().clone(), v) for g, v in pairs if g is not None]
            if not kept:
                raise ValueError("No gradients provided for any variable: "
                                 f"{[weight_path(v, i) for i, v in enumerate(variables)]}.")
            self._apply_pairs(kept)
            for _, v in kept:
                constraint = getattr(v, "_keras_constraint", None)
                if constraint is not None:
                    v.copy_(constraint(v))
        return self._iterations

    def minimize(self, loss, var_list, grad_loss: Optional[torch.Tensor] = None,
                 name: Optional[str] = None, tape=None) -> torch.Tensor:
        """Computes the gradients of ``loss`` with autograd and applies them.

        Args:
            loss: a scalar tensor, or a zero-argument callable returning it.
            var_list: the variables (or a callable returning them).
            grad_loss: optional gradient of the loss.
            name: ignored.
            tape: ignored (autograd records the graph).

        Returns:
            The ``iterations`` tensor.
        """
        value = loss() if callable(loss) else loss
        variables = list(var_list() if callable(var_list) else var_list)
        grads = torch.autograd.grad(value, variables, grad_outputs=grad_loss, allow_unused=True)
        return self.apply_gradients(zip(grads, variables))

    # ------------------------------------------------------------------ config

    def _serialize_learning_rate(self):
        if isinstance(self._schedule, LearningRateSchedule):
            return serialize_schedule(self._schedule)
        return float(self._lr.detach().cpu())

    def get_config(self) -> Dict[str, Any]:
        raise NotImplementedError

    @classmethod
    def from_config(cls, config: Mapping[str, Any], custom_objects=None) -> "Optimizer":
        """Rebuilds an optimizer from ``get_config()`` (accepts Keras 2's ``lr`` key too).

        Args:
            config: the config dict.
            custom_objects: classes / functions for custom learning-rate schedules.
        """
        config = dict(config)
        if "lr" in config:
            config["learning_rate"] = config.pop("lr")
        if isinstance(config.get("learning_rate"), Mapping):
            config["learning_rate"] = deserialize_schedule(config["learning_rate"],
                                                           custom_objects=custom_objects)
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__module__}.{type(self).__name__} name={self.name!r}>"


def clip_in_order_(grads: Tensors, clipvalue: Optional[float], clipnorm: Optional[float],
                   global_clipnorm: Optional[float], only_one: bool) -> None:
    """Clips in place. Keras 2 (``only_one=False``): clipvalue, then clipnorm, then
    global_clipnorm, each when set. Newer Keras: only the first set of clipnorm,
    global_clipnorm, clipvalue."""
    if only_one:
        if clipnorm:
            rules.clip_by_norm_(grads, clipnorm)
        elif global_clipnorm:
            rules.clip_by_global_norm_(grads, global_clipnorm)
        elif clipvalue:
            rules.clip_by_value_(grads, clipvalue)
        return
    if clipvalue is not None:
        rules.clip_by_value_(grads, clipvalue)
    if clipnorm is not None:
        rules.clip_by_norm_(grads, clipnorm)
    if global_clipnorm is not None:
        rules.clip_by_global_norm_(grads, global_clipnorm)
