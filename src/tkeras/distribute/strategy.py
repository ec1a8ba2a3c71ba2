"""Strategies: how ``fit`` / ``evaluate`` / ``predict`` use a ``torch.distributed`` group.

Data parallel switches on in two ways:

* automatically, when a ``torch.distributed`` process group of more than one process is
  initialised before ``fit`` (as Keras 3 does): the model trains as with ``DataParallel()``;
* explicitly, in tf.distribute's style, which also initialises the process group from
  torchrun's environment (``RANK``, ``WORLD_SIZE``, ``MASTER_ADDR``, ``MASTER_PORT``)::

      strategy = tkeras.distribute.DataParallel()
      with strategy.scope():
          model = make_model()
          model.compile("sgd", "mse")
      model.fit(x, y, batch_size=64)     # 64 = the GLOBAL batch

Without a process group (or with one process) nothing changes: the check is made once per
``fit`` / ``evaluate`` / ``predict`` call.
"""
from __future__ import annotations

import contextlib
import datetime
import os
from typing import Iterator, List, Optional

import torch
import torch.distributed as dist

_SCOPES: List["Strategy"] = []


def is_distributed() -> bool:
    """Whether a ``torch.distributed`` process group of more than one process is active."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def rank() -> int:
    """This process's rank (0 without a process group)."""
    return dist.get_rank() if dist.is_available() and dist.is_initialized() else 0


def world_size() -> int:
    """The number of processes (1 without a process group)."""
    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


def is_chief() -> bool:
    """True on rank 0 (and without a process group): the process that writes files, prints
    the progress bar and posts to servers. Callbacks that write consult it."""
    return rank() == 0


def barrier() -> None:
    """Waits for every process (nothing without a process group)."""
    if is_distributed():
        dist.barrier()


def get_strategy() -> Optional["Strategy"]:
    """The strategy whose ``scope()`` is open, or None."""
    return _SCOPES[-1] if _SCOPES else None


def _init_from_environment(backend: Optional[str], timeout_s: Optional[float]) -> None:
    if not dist.is_available() or dist.is_initialized():
        return
    env = os.environ
    if "RANK" not in env or "WORLD_SIZE" not in env:
        return  # one process: the strategy is a no-op, as tf's with one device
    local = int(env.get("LOCAL_RANK", 0))
    if backend is None:  # NCCL when this process has a GPU of its own
        backend = "nccl" if torch.cuda.device_count() > local else "gloo"
    if backend == "nccl":
        torch.cuda.set_device(local)
    kwargs = {}
    if timeout_s is not None:
        kwargs["timeout"] = datetime.timedelta(seconds=timeout_s)
    dist.init_process_group(backend, **kwargs)


class Strategy:
    """Base class of the distribution strategies (see ``DataParallel``)."""

    kind = "base"

    def __init__(self, backend: Optional[str] = None, timeout_s: Optional[float] = None):
        if backend is not None and backend not in ("nccl", "gloo", "mpi", "xccl", "ucc"):
            raise ValueError(f"`backend` must be a torch.distributed backend such as 'nccl' or "
                             f"'gloo'. Received: backend={backend!r}")
        _init_from_environment(backend, timeout_s)

    @property
    def num_replicas_in_sync(self) -> int:
        """The number of processes training together."""
        return world_size()

    @contextlib.contextmanager
    def scope(self) -> Iterator["Strategy"]:
        """Models compiled inside the scope train with this strategy."""
        _SCOPES.append(self)
        try:
            yield self
        finally:
            _SCOPES.remove(self)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(num_replicas_in_sync={self.num_replicas_in_sync})"


class DataParallel(Strategy):
    """Synchronous data parallel training on ``torch.nn.parallel.DistributedDataParallel``.

    Each process holds a full copy of the model; ``batch_size`` is the global batch, split
    across the processes; gradients are all-reduced by DDP (bucketed, overlapped with the
    backward pass); the initial weights are broadcast from rank 0; losses and metrics are
    reduced so every rank logs the values one process would.

    Args:
        backend: ``"nccl"`` / ``"gloo"``; default nccl with GPUs, gloo without. Used only
            when the strategy initialises the process group (from torchrun's environment).
        find_unused_parameters: DDP's option, for models whose forward pass does not use
            every trainable weight.
        sync_batch_norm: ``BatchNormalization`` layers compute their training statistics
            over the global batch (all ranks), as ``torch.nn.SyncBatchNorm``; then a model
            with batch normalization also trains to one process's weights. Without it each
            rank normalises with its own part of the batch, and the moving statistics are
            averaged over the ranks at the end of each epoch.
        timeout_s: the process group's timeout, in seconds.

    Example:
        >>> strategy = tkeras.distribute.DataParallel()   # under torchrun
        >>> with strategy.scope():
        ...     model = tkeras.Sequential([tkeras.layers.Dense(1, input_shape=(4,))])
        ...     model.compile("sgd", "mse")
        >>> history = model.fit(x, y, batch_size=64, verbose=0)
    """

    kind = "ddp"

    def __init__(self, backend: Optional[str] = None, find_unused_parameters: bool = False,
                 sync_batch_norm: bool = False, timeout_s: Optional[float] = None):
        super().__init__(backend, timeout_s)
        self.find_unused_parameters = bool(find_unused_parameters)
        self.sync_batch_norm = bool(sync_batch_norm)


class FullyShardedDataParallel(Strategy):
    """Sharded data parallel training on FSDP2 (``torch.distributed.fsdp.fully_shard``).

    The weights, gradients and optimizer state are sharded across the processes: each
    layer whose name matches ``shard_layers`` (every layer with weights by default) is
    ``fully_shard``-ed, then the whole model. Data, losses, metrics and callbacks behave as
    with ``DataParallel``. Between calls the model's own weights hold the full values
    (gathered at the end of ``fit`` / ``evaluate`` / ``predict`` and before each save), so
    ``get_weights``, ``save`` (full weights, loadable in one process) and
    ``load_weights`` (read again at the start of the next call) work as usual.

    Not supported (a ValueError says so): weight regularizers and constraints, and layers
    that update non-trainable weights in the forward pass (BatchNormalization).

    Args:
        shard_layers: a predicate ``f(layer) -> bool`` or a list of layer names choosing
            the layers sharded on their own (default: every layer that owns weights).
        reshard_after_forward: FSDP2's option (free the gathered weights after the forward
            pass).
        backend, timeout_s: as for ``DataParallel``.

    Example:
        >>> strategy = tkeras.distribute.FullyShardedDataParallel()
        >>> with strategy.scope():
        ...     model = tkeras.Sequential([tkeras.layers.Dense(1, input_shape=(4,))])
        ...     model.compile("adam", "mse")
        >>> history = model.fit(x, y, batch_size=64, verbose=0)
        >>> model.save("model.h5")          # rank 0 writes the full weights
    """

    kind = "fsdp"

    def __init__(self, shard_layers=None, reshard_after_forward: bool = True,
                 backend: Optional[str] = None, timeout_s: Optional[float] = None):
        super().__init__(backend, timeout_s)
        if shard_layers is not None and not callable(shard_layers) and \
                not isinstance(shard_layers, (list, tuple, set)):
            raise TypeError("`shard_layers` must be a function of a layer or a list of layer "
                            f"names. Received: {shard_layers!r}")
        self.shard_layers = shard_layers
        self.reshard_after_forward = bool(reshard_after_forward)

    def selects(self, layer) -> bool:
        rule = self.shard_layers
        if rule is None:
            return bool(getattr(layer, "_own_weights", None))
        if callable(rule):
            return bool(rule(layer))
        return getattr(layer, "name", None) in rule
