"""The training loops' side of a process group: what ``fit`` / ``evaluate`` / ``predict``
run instead of the single-process ``StepRunner`` when ``torch.distributed`` is initialised
with more than one process (``attach`` returns None otherwise: one check per call).

* The training step runs the forward pass through ``DistributedDataParallel`` (or the
  FSDP2-sharded model), ``backward()`` (DDP all-reduces the gradients in buckets during
  it; FSDP2 reduce-scatters them), then the model's optimizer, as one process does.
* ``logs()`` sums the metric states (loss sums and counts, every metric's variables, as
  tf.distribute's ``SUM`` aggregation) over the ranks, so every rank logs the values of
  one process. Within an epoch, the progress bar (rank 0) shows rank 0's running values;
  when another callback reads batch logs, they are reduced after every batch on every rank
  (one small all-reduce), so its decisions (``TerminateOnNaN``...) agree everywhere.
* ``stop_training`` is agreed (any rank) at the end of each epoch; non-trainable weights
  (moving statistics) are averaged then, so every rank holds the same model.
* ``predict`` gathers every rank's predictions: every rank returns all samples, in order.
* ``train_on_batch`` is one step of a distributed ``fit``: every rank passes the same
  global batch and trains on its part; the values returned are reduced, and the moving
  statistics averaged after the step.
"""
from __future__ import annotations

import atexit
import contextlib
import gc
import weakref
from typing import Any, Dict, List, Optional

import torch
import torch.distributed as dist

from ..engine.base_layer import call_context
from ..engine.step_runner import _flat_outputs
from . import strategy as strategy_module
from .data import Comm, local_part, shard_adapter


def attach(model, runner, mode: str, caller: Optional[str] = None):
    """The distributed steps of this ``fit`` / ``evaluate`` / ``predict`` call (``mode``;
    ``caller``, the method errors name, when another: ``train_on_batch``), or None when no
    process group of several processes is initialised."""
    if not strategy_module.is_distributed():
        return None
    strategy = model.__dict__.get("_distribute_strategy") or strategy_module.get_strategy()
    if strategy is None:
        strategy = _default_strategy()
    if strategy.kind == "fsdp":
        from .fsdp import FSDPSteps
        return FSDPSteps(model, runner, strategy, mode, caller)
    return DDPSteps(model, runner, strategy, mode, caller)


_DEFAULT = []


def _default_strategy():
    if not _DEFAULT:
        _DEFAULT.append(strategy_module.DataParallel())
    return _DEFAULT[0]


class DistributedSteps:
    """Common part of the DDP and FSDP2 steps (duck-types ``StepRunner`` for the loops)."""

    def __init__(self, model, runner, strategy, mode: str, caller: Optional[str] = None):
        self.model = model
        self.base = runner
        self.strategy = strategy
        self.mode = mode
        self.caller = caller or mode
        self._check_model(model, runner, mode)
        self._place(model, runner)
        self.comm = Comm(runner.device)
        self.sync_batch_logs = {"train": False, "test": False}
        self._batch_cache: Optional[Dict[str, Any]] = None

    # -------------------------------------------------------------- set-up

    def _check_model(self, model, runner, mode: str) -> None:
        if runner.data_spec().stateful:
            raise ValueError(
                "A model with stateful layers (stateful=True) cannot run on several "
                "processes: its states carry each sample row from one batch to the next, and "
                "splitting each batch across the processes would break that. Run it in one "
                "process, or use stateful=False.")
        if mode == "fit" and model._overrides("train_step"):
            raise ValueError(
                f"Model {model.name!r} overrides `train_step`, which `{self.caller}` cannot run on "
                "several processes: its gradients would not be all-reduced. Use the default "
                "`train_step` (losses and metrics from `compile`), or wrap the model in "
                "`torch.nn.parallel.DistributedDataParallel` in your own loop.")

    def _place(self, model, runner) -> None:
        if dist.get_backend() == "nccl" and runner.device.type != "cuda":
            model.to(torch.device("cuda", torch.cuda.current_device()))
            runner.refresh()

    def shard(self, iterator, what: str = "x"):
        """The ``EpochIterator`` serving this rank's part of each global batch."""
        if iterator is None:
            return None
        iterator._adapter = shard_adapter(iterator._adapter, self.comm, iterator.initial_epoch,
                                          what)
        return iterator

    def gate(self, callbacks) -> None:
        """Writers (``_chief_only`` callbacks) act on rank 0 only; reduced batch logs are
        computed on every rank when a callback other than the progress bar reads them."""
        from ..callbacks import ProgbarLogger
        every = list(callbacks.callbacks)
        for mode in ("train", "test"):
            self.sync_batch_logs[mode] = any(
                cb._implements_batch_hooks(mode) for cb in every
                if not isinstance(cb, ProgbarLogger))
        if not strategy_module.is_chief():
            callbacks.callbacks = [cb for cb in every if not getattr(cb, "_chief_only", False)]
            callbacks._batch_hooks = {}

    # -------------------------------------------------------------- steps

    def train_step(self, batch) -> None:
        raise NotImplementedError

    def test_step(self, batch) -> None:
        self.base.test_step(batch)
        if self.sync_batch_logs["test"]:
            self._batch_cache = self.logs()

    def predict_step(self, batch) -> List[torch.Tensor]:
        return self.base.predict_step(batch)

    def data_spec(self):
        return self.base.data_spec()

    # -------------------------------------------------------------- logs

    def _states(self) -> List[torch.Tensor]:
        states: List[torch.Tensor] = []
        sums = self.base.compiled_loss.means._sums
        if sums is not None:
            states.append(sums)
        for metric in self.base.compiled_metrics.metrics:
            states.extend(v for v in getattr(metric, "variables", ()) if v is not None)
        return states

    def logs(self) -> Dict[str, Any]:
        """The metric values of all ranks together (a collective: every rank calls it)."""
        base = self.base
        means = base.compiled_loss.means
        states = self._states()
        local = [t.detach().clone() for t in states]
        count = means._count
        parts = [t.detach().reshape(-1).to(torch.float64) for t in states]
        parts.append(torch.tensor([float(count)], dtype=torch.float64, device=base.device))
        total = self.comm.all_sum(torch.cat([p.to(base.device) for p in parts]))
        offset = 0
        with torch.no_grad():
            for t in states:
                n = t.numel()
                t.copy_(total[offset:offset + n].reshape(t.shape).to(t.dtype))
                offset += n
        means._count = int(round(float(total[offset])))
        try:
            return base.logs()
        finally:
            with torch.no_grad():
                for t, saved in zip(states, local):
                    t.copy_(saved)
            means._count = count

    def batch_logs(self) -> Dict[str, Any]:
        """The logs given to batch hooks: reduced (computed after the step on every rank)
        when a callback other than the progress bar reads them, else this rank's."""
        if self._batch_cache is not None:
            cache, self._batch_cache = self._batch_cache, None
            return cache
        return self.base.logs()

    def end_epoch(self, stop: bool) -> bool:
        """Averages the non-trainable float weights and agrees on ``stop_training``."""
        weights = [w for w in self._non_trainable() if w.is_floating_point()]
        flag = torch.tensor([1.0 if stop else 0.0], dtype=torch.float64)
        parts = [w.detach().reshape(-1).to(torch.float64).cpu() for w in weights] + [flag]
        total = self.comm.all_sum(torch.cat(parts))
        offset = 0
        with torch.no_grad():
            for w in weights:
                n = w.numel()
                w.copy_((total[offset:offset + n] / self.comm.world).reshape(w.shape)
                        .to(w.device, w.dtype))
                offset += n
        return bool(total[offset] > 0)

    def _non_trainable(self) -> List[torch.Tensor]:
        return list(self.model.non_trainable_weights)

    def begin(self) -> None:
        """The start of a call that ``finish`` ends (each ``train_on_batch`` of a kept
        instance; the constructor begins ``fit``'s)."""

    def finish(self) -> None:
        """The end of the call."""

    def local_batch(self, batch):
        """This rank's part of a batch given to ``train_on_batch``: the global batch."""
        return local_part(batch, self.comm, "The batch given to `train_on_batch`",
                          f"Pass batches of at least {self.comm.world} samples.")

    # -------------------------------------------------------------- predict

    def gather_predictions(self, chunks: List[List[torch.Tensor]], data) -> List[torch.Tensor]:
        """Every rank's predictions, in the order of the data (on every rank)."""
        comm = self.comm
        layout = getattr(data._adapter, "layout", "contiguous")
        dataset_size = getattr(data._adapter, "dataset_size", None)
        n_out = len(chunks[0])
        sizes = torch.tensor([int(c[0].shape[0]) for c in chunks], dtype=torch.long)
        all_sizes = comm.all_gather(sizes)  # every rank reads the same number of batches
        totals = [int(s.sum()) for s in all_sizes]
        longest = max(totals)
        out = []
        for i in range(n_out):
            local = torch.cat([c[i] for c in chunks])
            pad = longest - local.shape[0]
            if pad:
                local = torch.cat([local, local.new_zeros((pad,) + tuple(local.shape[1:]))])
            gathered = comm.all_gather(local)
            if layout == "strided":
                per_rank = [g[:t] for g, t in zip(gathered, totals)]
                merged = torch.stack(per_rank, dim=1).reshape((-1,) + tuple(local.shape[1:]))
                out.append(merged[:dataset_size] if dataset_size is not None else merged)
                continue
            pieces = []
            starts = [0] * comm.world
            for k in range(len(chunks)):
                for r in range(comm.world):
                    n = int(all_sizes[r][k])
                    pieces.append(gathered[r][starts[r]:starts[r] + n])
                    starts[r] += n
            out.append(torch.cat(pieces))
        return out


def _ddp_arguments():
    import inspect

    from torch.nn.parallel import DistributedDataParallel
    return set(inspect.signature(DistributedDataParallel.__init__).parameters)


_DDP_ARGS = _ddp_arguments()


class DDPSteps(DistributedSteps):
    """The training step through ``torch.nn.parallel.DistributedDataParallel``."""

    def __init__(self, model, runner, strategy, mode: str, caller: Optional[str] = None):
        super().__init__(model, runner, strategy, mode, caller)
        self.ddp = None
        self._synced: list = []
        self._sync_bn = mode == "fit" and getattr(strategy, "sync_batch_norm", False)
        self.begin()
        if mode == "fit" and runner.params:
            self._wrap()

    def begin(self) -> None:
        if self._sync_bn and not self._synced:
            from . import sync_bn
            self._synced = sync_bn.enable(self.model)

    def finish(self) -> None:
        if self._synced:
            from . import sync_bn
            sync_bn.disable(self._synced)
            self._synced = []

    def _wrap(self) -> None:
        from torch.nn.parallel import DistributedDataParallel
        base = self.base
        device = base.device
        ids = [device] if device.type == "cuda" else None
        # DDP broadcasts rank 0's parameters and buffers (all weights) at construction; the
        # buffers are not synchronised at each forward pass (torch >= 2.13 renamed the option)
        sync = {"forward_sync_buffers": False} if "forward_sync_buffers" in _DDP_ARGS \
            else {"broadcast_buffers": False}
        self.ddp = DistributedDataParallel(
            self.model, device_ids=ids,
            find_unused_parameters=getattr(self.strategy, "find_unused_parameters", False),
            **sync)
        _track_wrapper(self)
        self._sync_frozen()

    def _sync_frozen(self) -> None:
        """Frozen weights (requires_grad False) are broadcast too, so ranks agree."""
        frozen = [w for w in self.model.weights if not w.requires_grad]
        if frozen:
            flat = torch.cat([w.detach().reshape(-1).to(torch.float64) for w in frozen])
            flat = self.comm.broadcast(flat)
            offset = 0
            with torch.no_grad():
                for w in frozen:
                    n = w.numel()
                    w.copy_(flat[offset:offset + n].reshape(w.shape).to(w.dtype))
                    offset += n

    def _first_batch(self, batch) -> None:
        """A model built by its first call: build it (and the metrics) on this batch
        without training, then wrap it (broadcasting rank 0's new weights)."""
        base = self.base
        with torch.no_grad():
            outputs, _ = base._forward(batch.model_input(), False)
        ys, _ = base._targets(batch, len(outputs))
        base._build(outputs, ys)
        self._wrap()

    def train_step(self, batch) -> None:
        base = self.base
        if self.ddp is None or not base.n_outputs:
            if self.ddp is None:
                self._first_batch(batch)
            else:
                with torch.no_grad():
                    outputs, _ = base._forward(batch.model_input(), False)
                base._build(outputs, base._targets(batch, len(outputs))[0])
        ys, sws = base._targets(batch, base.n_outputs)
        outputs = _flat_outputs(self.ddp(batch.model_input(), training=True))
        regularization = base._regularization(list(call_context().losses))
        total = base.compiled_loss.total(ys, outputs, sws, regularization)
        params = base.params
        grads = _gradients(base, total, batch.loss_scale, params)
        base.optimizer.apply(params, grads)
        if base.constraints:
            base._apply_constraints()
        base.compiled_metrics.update(ys, outputs, sws)
        if self.sync_batch_logs["train"]:
            self._batch_cache = self.logs()


_WRAPPING: "weakref.WeakSet[DDPSteps]" = weakref.WeakSet()


def _track_wrapper(steps: DDPSteps) -> None:
    """Remembers (weakly) a step object holding a DDP wrapper, for ``_release_wrappers``."""
    if not _WRAPPING:
        atexit.unregister(_release_wrappers)
        atexit.register(_release_wrappers)
    _WRAPPING.add(steps)


def _release_wrappers() -> None:
    """At exit, frees the DDP wrappers still alive (``train_on_batch`` keeps one with the
    model; a ``fit``'s may wait for the cycle collector) while Python still runs: a wrapper
    holds its process group, and a gloo group freed during the interpreter's own teardown,
    after a script's ``destroy_process_group()``, could abort the process ("terminate
    called without an active exception", ~1 exit in 24 of a 2-process train_on_batch
    script)."""
    for steps in list(_WRAPPING):
        steps.ddp = None
    _WRAPPING.clear()
    gc.collect()


def _gradients(base, total: torch.Tensor, scale: float, params) -> List[torch.Tensor]:
    """``backward()`` of this rank's loss (scaled by its share of the global batch; by the
    model's ``LossScaleOptimizer`` too, unscaled after) and the synchronised gradients."""
    if scale != 1.0:
        total = total * scale
    scaler = getattr(base, "loss_scaler", None)
    (total if scaler is None else scaler.get_scaled_loss(total)).backward()
    grads = [p.grad for p in params]
    for p in params:
        p.grad = None
    return grads if scaler is None else list(scaler.get_unscaled_gradients(grads))


@contextlib.contextmanager
def saving(model):
    """Around a save: every rank enters (FSDP2 gathers the full weights), rank 0 writes
    (the body runs where the yielded flag is True), then every rank waits for the file."""
    if not strategy_module.is_distributed():
        yield True
        return
    fsdp = model.__dict__.get("_fsdp_saving")
    with fsdp() if fsdp is not None else contextlib.nullcontext():
        try:
            yield strategy_module.is_chief()
        finally:
            dist.barrier()
