"""The fused training step: what ``fit`` / ``evaluate`` / ``predict`` run per batch for a
model that does not override ``train_step`` / ``test_step`` / ``predict_step``.

One step is a short, fixed sequence of tensor ops: forward (``training=True``), the
per-output losses with their weights and sample weights, regularization losses,
``torch.autograd.grad``, the optimizer's ``apply`` (multi-tensor ops), weight constraints,
metric updates. Nothing is read back from the device inside a step; ``logs()`` reads the
metric values (one transfer) when the progress bar, a callback or the epoch end asks.
"""
from __future__ import annotations

import os
import shutil
from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy as np
import torch

from ..backend.variables import to_numpy
from ..distribute.strategy import is_distributed
from ..optimizers.fused import CompiledUpdate, with_own_code
from . import data_adapter as da
from .base_layer import call_context
from .compile_utils import check_targets_against_outputs, default_output_names
from .keras_tensor import flatten
from .op_layer import graph_metrics


class StepRunner:
    """The per-``compile`` machinery: the train / test / predict steps and the logs.

    Built once per ``compile`` (and refreshed by every ``fit``, so layers frozen since
    are respected): the trainable parameters, the weight regularizers and constraints
    are collected here so that the step itself is a short, fixed sequence of tensor ops.

    Args:
        model: the compiled model.
    """

    def __init__(self, model):
        self.model = model
        self.compiled_loss = model.compiled_loss
        self.compiled_metrics = model.compiled_metrics
        self.n_outputs = 0  # known after the first step
        self._output_shapes: Optional[List[Tuple]] = None  # known after the first step
        # compile(jit_compile=True): the whole step after the first (forward, loss,
        # torch.autograd.grad, the optimizer update, constraints, metric updates) is one
        # torch.compile'd graph per input signature. A model that cannot be one graph (or
        # whose optimizer says `fused = False`) gets, silently, the partly compiled step:
        # forward and loss compiled (graph breaks allowed; AOTAutograd makes their
        # backward), the optimizer's fused update (unless `fused = False`), metrics eager.
        config = model.__dict__.get("_compile_config") or {}
        self.jit = config.get("jit_compile") is True
        # jit_compile None / 'auto' (the default): eager steps until a fit makes this
        # runner's training long enough for compiling to pay (`plan`)
        self.auto = config.get("jit_compile") in (None, "auto") and not config.get("run_eagerly")
        self.steps_trained = 0
        self._training_loss_fn = self._training_loss
        self._step: Callable = self._step_body
        self._compiled: Optional[CompiledUpdate] = None  # the whole step, once compiled
        self._compiled_signature: Optional[tuple] = None  # the one `auto` compiles for
        if self.jit and getattr(model.optimizer, "fused", None) is not False:
            self._step = self._compiled = CompiledUpdate(
                self._step_body, fallback=self._partly_compiled_step, traces_autograd=True)
        elif self.jit:
            self._step = self._partly_compiled_step
        self.refresh()

    # ------------------------------------------------------------ set-up

    def refresh(self) -> None:
        """Collects trainable parameters, regularizers, constraints and the device."""
        model = self.model
        if model._is_compiled:
            self.optimizer = model.optimizer
            if hasattr(self.optimizer, "_fused_by_compile"):  # tkeras optimizers
                self.optimizer._fused_by_compile = self.jit and not self.whole_step_compiled
        # a LossScaleOptimizer scales the loss before the gradients are taken (float16)
        self.loss_scaler = self.optimizer if hasattr(getattr(self, "optimizer", None),
                                                     "get_scaled_loss") else None
        params = [w for w in model.trainable_weights if w.requires_grad]
        if not _same_tensors(params, getattr(self, "params", None)):
            self.params = params  # (the same list otherwise: a compiled step guards on it)
        self.regularizers = model.weight_regularization_pairs()
        self.constraints = model.constraint_pairs()
        self.callable_losses = [fn for layer in model._flatten_layers()
                                for fn in layer._callable_losses]
        self.device = self._model_device()
        self.graph_metrics = graph_metrics(model)  # add_metric's, logged after the compiled ones

    @property
    def whole_step_compiled(self) -> bool:
        """Whether the whole step runs as one graph (``jit_compile=True``, or compiled by
        ``plan``), until compiling it fails."""
        compiled = self._compiled
        return compiled is not None and not compiled.failed

    def plan(self, remaining_steps: Optional[int]) -> None:
        """``fit``'s word at the start of each epoch: ``remaining_steps`` training steps are
        still planned (None: unknown, a generator without ``steps_per_epoch``; and for each
        ``train_on_batch``).

        With ``jit_compile`` None or ``'auto'`` (the default), the first time this runner's
        steps (run + planned) reach ``AUTO_COMPILE_STEPS``, the whole step is compiled as
        ``jit_compile=True`` compiles it, for the input signature of the next step only (a
        last, smaller batch runs eagerly instead of compiling again), if the model can be
        (``_auto_compilable``); a model that cannot be one graph stays eager, silently.
        Compiling costs seconds (tens, the first time on a machine), which only many steps
        win back; the decision depends on step counts alone, so a seeded script trains the
        same way on every run."""
        if not self.auto or AUTO_COMPILE_STEPS <= 0:
            return
        if self.steps_trained + (remaining_steps or 0) < AUTO_COMPILE_STEPS:
            return
        self.auto = False  # decided, once per runner
        if self._auto_compilable():
            self._compiled = CompiledUpdate(self._step_body, traces_autograd=True)
            self._step = self._auto_step

    def _auto_compilable(self) -> bool:
        """Whether ``plan`` may compile the step: the model's training step is this runner's
        (no ``train_step`` of its own), a tkeras optimizer whose update may be traced (not
        ``fused = False``), no float16 loss scaling, no layer that says ``_auto_compile =
        False`` (the RNNs), one process, and a compiler for the device (a C++ compiler on
        the CPU, triton on CUDA)."""
        if self.model._overrides("train_step"):
            return False
        optimizer = self.optimizer
        if not hasattr(optimizer, "_fused_by_compile") or optimizer.fused is False:
            return False
        if self.loss_scaler is not None:
            return False
        if not all(layer._auto_compile for layer in self.model._flatten_layers()):
            return False
        if is_distributed():
            return False
        return _compiler_available(self.device)

    def _auto_step(self, inputs, ys, sws) -> Tuple[List[torch.Tensor], int]:
        """``plan``'s step: compiled for the first signature it sees, eager for others."""
        signature = _signature(inputs, ys, sws)
        if self._compiled_signature is None:
            self._compiled_signature = signature
        if signature == self._compiled_signature:
            assert self._compiled is not None  # set with this step by plan
            return self._compiled(inputs, ys, sws)  # (eager from its first failure on)
        return self._step_body(inputs, ys, sws)

    def _model_device(self) -> torch.device:
        first = next(iter(self.model.parameters()), None)
        return first.device if first is not None else torch.device("cpu")

    def follow_device(self) -> None:
        """Refreshes everything if the model moved to another device (a cheap check)."""
        if self._model_device() != self.device:
            self.refresh()

    def data_spec(self) -> da.DataSpec:
        spec = da.DataSpec(self.model, self.device)
        if getattr(self, "compiled_loss", None) is not None:
            spec.check_batch_targets = self.check_batch_targets
        return spec

    def check_batch_targets(self, ys: List[Optional[torch.Tensor]]) -> None:
        """Target shapes of one batch (generators, Sequences, DataLoaders) against the
        outputs (static shapes of a graph, else the first step's); nothing is read."""
        shapes = self._output_shapes
        if shapes is None:
            model = self.model
            if not (getattr(model, "_is_graph_network", False) and self.compiled_loss.built):
                return  # the first step checks
            shapes = [tuple(t.shape) for t in model.outputs]
        check_targets_against_outputs(ys, shapes, self.compiled_loss.losses,
                                      self.compiled_loss.output_names, labels=False)

    def output_names(self, n_outputs: int) -> List[str]:
        names = getattr(self.model, "output_names", None)
        if getattr(self.model, "_is_graph_network", False) and names:
            return list(names)
        return default_output_names(n_outputs)

    def _build(self, outputs: List[torch.Tensor], ys: List[Optional[torch.Tensor]]) -> None:
        if not self.compiled_loss.built:
            self.compiled_loss.resolve_names(self.output_names(len(outputs)))
            self.compiled_metrics.resolve_names(self.compiled_loss.output_names)
        check_targets_against_outputs(ys, outputs, self.compiled_loss.losses,
                                      self.compiled_loss.output_names)
        self._output_shapes = [tuple(o.shape) for o in outputs]
        if not self.compiled_metrics.built:  # (a custom step may have built them already)
            self.compiled_metrics.build(ys, outputs, self.compiled_loss.losses)
        self.n_outputs = len(outputs)
        self.refresh()  # a model built by this first call has its weights only now

    # ------------------------------------------------------------ steps

    def _forward(self, inputs,
                 training: bool) -> Tuple[List[torch.Tensor], Optional[torch.Tensor]]:
        y_pred = self.model(inputs, training=training)
        outputs = _flat_outputs(y_pred)
        return outputs, self._regularization(list(call_context().losses))

    def _regularization(self, call_losses: List[torch.Tensor]) -> Optional[torch.Tensor]:
        terms = [reg(w) for w, reg in self.regularizers]
        terms.extend(call_losses)
        terms.extend(torch.as_tensor(fn()) for fn in self.callable_losses)
        if not terms:
            return None
        total = terms[0]
        for t in terms[1:]:
            total = total + t
        return total

    def _targets(self, batch: da.Batch, n: int):
        ys = batch.y if batch.y is not None else [None] * n
        sws = batch.sample_weight if batch.sample_weight is not None else [None] * n
        if len(ys) != n:
            raise ValueError(f"The model has {n} output(s) but the data provides {len(ys)} "
                             "target array(s). Pass one target per output.")
        return ys, sws

    def _training_loss(self, inputs, ys, sws):
        """``(total, tracked, batch_size)`` (``CompiledLoss.total_and_tracked``) and the
        outputs."""
        outputs, regularization = self._forward(inputs, True)
        return self.compiled_loss.total_and_tracked(ys, outputs, sws, regularization), outputs

    def train_step(self, batch: da.Batch) -> None:
        """One optimization step on ``batch`` (no host reads)."""
        self.steps_trained += 1
        if self.n_outputs:
            ys, sws = self._targets(batch, self.n_outputs)
            tracked, batch_size = self._step(batch.model_input(), ys, sws)
        else:  # the first step: the outputs build the metrics before the loss is taken
            outputs, regularization = self._forward(batch.model_input(), True)
            ys, sws = self._targets(batch, len(outputs))
            self._build(outputs, ys)
            total, tracked, batch_size = self.compiled_loss.total_and_tracked(
                ys, outputs, sws, regularization)
            self._update_weights(total)
            self.compiled_metrics.update(ys, outputs, sws)
        self.compiled_loss.means.update(tracked, batch_size)

    def _step_body(self, inputs, ys, sws) -> Tuple[List[torch.Tensor], int]:
        """Forward, loss, gradients, update, metrics; returns what the loss means record
        (their count is a host number, kept out of a compiled step)."""
        (total, tracked, batch_size), outputs = self._training_loss_fn(inputs, ys, sws)
        self._update_weights(total)
        self.compiled_metrics.update(ys, outputs, sws)
        return [t.detach() for t in tracked], batch_size

    def _partly_compiled_step(self, inputs, ys, sws) -> Tuple[List[torch.Tensor], int]:
        """``jit_compile``'s step for a model whose whole step is not one graph."""
        if self._training_loss_fn == self._training_loss:
            self._training_loss_fn = torch.compile(with_own_code(self._training_loss))
            if hasattr(self.optimizer, "_fused_by_compile"):
                self.optimizer._fused_by_compile = True
        return self._step_body(inputs, ys, sws)

    def _update_weights(self, total: torch.Tensor) -> None:
        """Gradients of ``total``, the optimizer's update and the weight constraints."""
        params = self.params
        if params:
            scaler = self.loss_scaler
            if scaler is None:
                grads = list(torch.autograd.grad(total, params, allow_unused=True))
            else:  # float16: gradients of the scaled loss, unscaled before the update
                grads = scaler.get_unscaled_gradients(torch.autograd.grad(
                    scaler.get_scaled_loss(total), params, allow_unused=True))
            self.optimizer.apply(params, grads)
            if self.constraints:
                self._apply_constraints()

    def _apply_constraints(self) -> None:
        with torch.no_grad():
            for weight, constraint in self.constraints:
                weight.copy_(constraint(weight))

    def test_step(self, batch: da.Batch) -> None:
        """Loss and metric updates for ``batch`` in inference mode."""
        with torch.no_grad():
            outputs, regularization = self._forward(batch.model_input(), False)
            ys, sws = self._targets(batch, len(outputs))
            if not self.n_outputs:
                self._build(outputs, ys)
            self.compiled_loss.total(ys, outputs, sws, regularization, required=False)
            self.compiled_metrics.update(ys, outputs, sws)

    def predict_step(self, batch: da.Batch) -> List[torch.Tensor]:
        with torch.no_grad():
            return _flat_outputs(self.model(batch.model_input(), training=False))

    # ------------------------------------------------------------ logs

    @property
    def metrics(self) -> list:
        return self.compiled_loss.metrics + self.compiled_metrics.metrics + self.graph_metrics

    def metrics_names(self) -> List[str]:
        return [m.name for m in self.metrics]

    def reset_metrics(self) -> None:
        self.compiled_loss.means.reset()
        self.compiled_metrics.reset()
        for m in self.graph_metrics:
            m.reset_state()

    def logs(self) -> Dict[str, Any]:
        """The current metric values as Python floats (one read from the device)."""
        metrics = self.compiled_metrics.metrics + self.graph_metrics
        parts = [self.compiled_loss.means.results().to(self.device)]
        parts += [m.result().detach().reshape(-1).to(self.device, parts[0].dtype) for m in metrics]
        values = to_numpy(torch.cat(parts))
        names = self.compiled_loss.means.names
        logs: Dict[str, Any] = {name: float(v) for name, v in zip(names, values)}
        offset = len(names)
        for m, part in zip(metrics, parts[1:]):
            size = part.numel()
            chunk = values[offset:offset + size]
            logs[m.name] = float(chunk[0]) if size == 1 else chunk.copy()
            offset += size
        return logs


def _auto_compile_steps() -> int:
    """``TKERAS_AUTO_COMPILE_STEPS`` (0: never), else 20,000: about where a small model's
    compiled step (W4 of ``bench/bench_fit.py``: 0.25 ms a step saved, ~6 s to compile with
    torch's compile cache warm) has won its compile time back."""
    value = os.environ.get("TKERAS_AUTO_COMPILE_STEPS", "").strip()
    try:
        return max(0, int(value)) if value else 20_000
    except ValueError:
        raise ValueError("TKERAS_AUTO_COMPILE_STEPS must be a whole number of training steps "
                         f"(0 turns automatic compiling off); received {value!r}.") from None


AUTO_COMPILE_STEPS = _auto_compile_steps()


def _compiler_available(device: torch.device) -> bool:
    """Whether torch.compile's default backend can build kernels for ``device``."""
    if device.type == "cuda":
        from torch.utils._triton import has_triton
        return has_triton()
    if device.type == "cpu":
        return shutil.which(os.environ.get("CXX", "g++")) is not None
    return False


def _signature(inputs, ys, sws) -> tuple:
    return tuple(None if t is None else (t.shape, t.dtype) for t in flatten([inputs, ys, sws]))


def _same_tensors(a: List[torch.Tensor], b: Optional[List[torch.Tensor]]) -> bool:
    return b is not None and len(a) == len(b) and all(x is y for x, y in zip(a, b))


def _flat_outputs(y_pred) -> List[torch.Tensor]:
    if isinstance(y_pred, torch.Tensor):
        return [y_pred]
    return flatten(y_pred)


# ------------------------------------------------------------ a model's own steps

class OverriddenStep:
    """A subclass's ``train_step`` / ``test_step``, called with Keras-shaped ``data``
    (``(x, y, sample_weight)`` as ``pack_x_y_sample_weight`` makes it); the dict it
    returns is the logs (read from the device only when ``logs()`` is called).

    Args:
        method: the model's bound ``train_step`` or ``test_step``.
        no_grad: run it under ``torch.no_grad()`` (``test_step``).
    """

    __slots__ = ("method", "no_grad", "result")

    def __init__(self, method, no_grad: bool = False):
        self.method = method
        self.no_grad = no_grad
        self.result: Any = {}

    def run(self, batch: da.Batch) -> None:
        if self.no_grad:
            with torch.no_grad():
                self.result = self.method(batch.keras_data())
        else:
            self.result = self.method(batch.keras_data())

    def logs(self) -> Dict[str, Any]:
        return python_logs(self.result, getattr(self.method, "__name__", "train_step"))


class OverriddenPredictStep:
    """A subclass's ``predict_step``: its outputs (any structure of tensors) flattened per
    batch; ``structure`` keeps the first batch's, to pack the concatenated arrays."""

    __slots__ = ("method", "structure")

    def __init__(self, method):
        self.method = method
        self.structure: Any = None

    def run(self, batch: da.Batch) -> List[torch.Tensor]:
        with torch.no_grad():
            outputs = self.method(batch.keras_data())
        if self.structure is None:
            self.structure = outputs
        return _flat_outputs(outputs)


def python_logs(result: Any, where: str = "train_step") -> Dict[str, Any]:
    """A step's returned dict with Python floats for scalars and numpy arrays otherwise
    (dict-valued results, as a metric may return, are flattened into the logs)."""
    if result is None:
        return {}
    if not isinstance(result, dict):
        raise TypeError(f"`{where}` must return a dict of metric names to values (e.g. "
                        "`{m.name: m.result() for m in self.metrics}`). Received: "
                        f"{type(result).__name__}.")
    logs: Dict[str, Any] = {}
    for name, value in result.items():
        if isinstance(value, dict):
            logs.update(python_logs(value, where))
            continue
        if isinstance(value, torch.Tensor):
            value = value.detach()
            if value.dtype == torch.bfloat16 or value.dtype == torch.float16:
                value = value.float()
            value = value.cpu().numpy()
        if isinstance(value, np.ndarray) and value.size == 1:
            value = value.reshape(()).item()
        logs[name] = float(value) if isinstance(value, (int, float, np.number)) \
            and not isinstance(value, bool) else value
    return logs
