"""Sharding the data of ``fit`` / ``evaluate`` / ``predict`` across the processes.

``batch_size`` is the GLOBAL batch (as in tf.distribute). The rule, the same for every
input kind: global batch k of N processes holds exactly the samples of batch k of one
process, and rank r keeps a contiguous part of it (``torch.tensor_split`` of the batch into
N parts), so the same script trains to the same weights on 1 or N processes.

* Arrays and tensors: each epoch's permutation is drawn on rank 0 (from its global torch
  RNG, as one process draws it) and broadcast, so every rank has the same order and keeps a
  disjoint 1/N of it.
* ``Sequence``: every rank reads the same ``sequence[i]`` (the shuffled order is broadcast
  from rank 0) and keeps its part of it.
* Generators: every rank must yield the same batches in the same order (for instance, the
  same seeded generator in every process); each rank keeps its part of each batch.
* A torch ``DataLoader`` with a ``DistributedSampler`` is used as it is (its ``batch_size``
  is then the per-process batch, torch's convention) and gets ``set_epoch(epoch)`` at the
  start of each epoch. A plain ``DataLoader`` over a map-style dataset (and a ``Dataset``
  given with ``batch_size``) is rebuilt over a ``DistributedSampler`` (same shuffle flag,
  a seed broadcast from rank 0) with ``batch_size // N`` per process: its global batch k
  is the same set of samples as batch k of one process reading the sampler's order. The
  sampler pads the dataset to a multiple of N by repeating samples (torch's semantics).
  Other ``DataLoader``s (iterable datasets, custom batch samplers) are read like
  generators.

A global batch with fewer samples than processes cannot be split: a ValueError names the
batch (for arrays, choose a ``batch_size`` and a number of samples whose last batch holds
at least N samples).
"""
from __future__ import annotations

from typing import Iterator, List, Optional

import numpy as np
import torch
import torch.distributed as dist
from torch.utils.data import DataLoader, DistributedSampler, IterableDataset, RandomSampler, SequentialSampler

from ..engine import data_adapter as da


class ShardBatch(da.Batch):
    """This rank's part of a global batch; ``loss_scale`` makes DDP's gradient average the
    gradient of the global batch's mean loss when the parts differ in size."""

    __slots__ = ("loss_scale", "global_size")


def split_bounds(n: int, world: int, rank: int):
    """``[start, stop)`` of rank ``rank``'s part of ``n`` samples (torch.tensor_split)."""
    q, r = divmod(n, world)
    start = rank * q + min(rank, r)
    return start, start + q + (1 if rank < r else 0)


def _slice(group, start: int, stop: int):
    if group is None:
        return None
    return [None if t is None else t[start:stop] for t in group]


class Comm:
    """The collectives the engine needs, on the backend's device (CPU for gloo)."""

    def __init__(self, device: torch.device):
        self.rank = dist.get_rank()
        self.world = dist.get_world_size()
        backend = dist.get_backend()
        self.device = device if backend == "nccl" else torch.device("cpu")

    def broadcast(self, tensor: torch.Tensor) -> torch.Tensor:
        t = tensor.to(self.device).contiguous()
        dist.broadcast(t, src=0)
        return t.to(tensor.device)

    def randperm(self, n: int, device=None, **kwargs) -> torch.Tensor:
        """Rank 0's ``torch.randperm(n)`` on every rank."""
        t = torch.randperm(n, device=device) if self.rank == 0 else \
            torch.empty(n, dtype=torch.long, device=device)
        return self.broadcast(t)

    def permutation(self, n: int) -> np.ndarray:
        """Rank 0's ``np.random.permutation(n)`` on every rank."""
        t = torch.from_numpy(np.random.permutation(n)) if self.rank == 0 else \
            torch.empty(n, dtype=torch.long)
        return self.broadcast(t.long()).cpu().numpy()

    def seed(self) -> int:
        """A seed drawn on rank 0, the same on every rank."""
        t = torch.randint(0, 2 ** 62, (), dtype=torch.long) if self.rank == 0 else \
            torch.zeros((), dtype=torch.long)
        return int(self.broadcast(t.reshape(1)).item())

    def all_sum(self, tensor: torch.Tensor) -> torch.Tensor:
        t = tensor.to(self.device).contiguous()
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
        return t.to(tensor.device)

    def all_gather(self, tensor: torch.Tensor) -> List[torch.Tensor]:
        t = tensor.to(self.device).contiguous()
        out = [torch.empty_like(t) for _ in range(self.world)]
        dist.all_gather(out, t)
        return [o.to(tensor.device) for o in out]


class ShardedAdapter(da.DataAdapter):
    """Global batches from ``inner``; this rank keeps its contiguous part of each."""

    layout = "contiguous"

    def __init__(self, inner: da.DataAdapter, comm: Comm, what: str):
        self.inner = inner
        self.comm = comm
        self.what = what
        self.num_batches = inner.num_batches
        self.num_samples = inner.num_samples

    def epoch(self) -> Iterator[da.Batch]:
        for step, batch in enumerate(self.inner.epoch()):
            yield self._local(step, batch)

    def _local(self, step: int, batch: da.Batch) -> ShardBatch:
        return local_part(batch, self.comm, f"Batch {step} of `{self.what}`",
                          "Choose `batch_size` (the global batch) and the number of samples so "
                          "that every batch, the last one included, holds at least "
                          f"{self.comm.world} samples.")

    def on_epoch_end(self) -> None:
        self.inner.on_epoch_end()

    def close(self) -> None:
        self.inner.close()


def local_part(batch: da.Batch, comm: Comm, what: str, hint: str) -> ShardBatch:
    """This rank's contiguous part of the global ``batch``, with its share of the loss
    (``loss_scale``); a ``ValueError`` (``what`` holds too few samples, then ``hint``)
    when some rank would get none."""
    n, world = batch.size, comm.world
    if n < world:
        raise ValueError(
            f"{what} holds {n} sample(s), fewer than the {world} processes training together: "
            f"a global batch is split across the processes and each needs at least one "
            f"sample. {hint}")
    start, stop = split_bounds(n, world, comm.rank)
    local = ShardBatch(_slice(batch.x, start, stop), _slice(batch.y, start, stop),
                       _slice(batch.sample_weight, start, stop), batch.x_keys)
    local.global_size = n
    local.loss_scale = (stop - start) * world / n
    return local


class SamplerAdapter(da.DataAdapter):
    """A ``DataLoader`` over a ``DistributedSampler``: batches are already local; the
    sampler's epoch is set before each epoch."""

    layout = "strided"

    def __init__(self, inner: da.TorchDataAdapter, sampler: DistributedSampler,
                 initial_epoch: int, dataset_size: Optional[int]):
        self.inner = inner
        self.sampler = sampler
        self._epoch = initial_epoch
        self.num_batches = inner.num_batches
        self.num_samples = inner.num_samples
        self.dataset_size = dataset_size

    def epoch(self) -> Iterator[da.Batch]:
        self.sampler.set_epoch(self._epoch)
        for batch in self.inner.epoch():
            local = ShardBatch(batch.x, batch.y, batch.sample_weight, batch.x_keys)
            local.loss_scale = 1.0  # the sampler gives every rank the same number of samples
            local.global_size = None
            yield local

    def on_epoch_end(self) -> None:
        self._epoch += 1
        self.inner.on_epoch_end()

    def close(self) -> None:
        self.inner.close()


def _distributed_loader(loader: DataLoader, comm: Comm, what: str):
    """A plain map-style ``DataLoader`` rebuilt over a ``DistributedSampler`` (or None when
    it cannot be: iterable dataset, custom batch sampler, no batch size)."""
    if isinstance(loader.dataset, IterableDataset) or loader.batch_size is None:
        return None
    sampler = loader.sampler
    if not isinstance(sampler, (RandomSampler, SequentialSampler)):
        return None
    if loader.batch_size % comm.world:
        raise ValueError(
            f"The DataLoader of `{what}` has batch_size={loader.batch_size}, which cannot be "
            f"split evenly across {comm.world} processes: the DataLoader's batch is the global "
            f"batch, so it must be a multiple of {comm.world}. (Or give it a "
            "`DistributedSampler` yourself: its batch_size is then the per-process batch.)")
    dist_sampler = DistributedSampler(loader.dataset, num_replicas=comm.world, rank=comm.rank,
                                      shuffle=isinstance(sampler, RandomSampler),
                                      seed=comm.seed() % (2 ** 31), drop_last=False)
    rebuilt = DataLoader(
        loader.dataset, batch_size=loader.batch_size // comm.world, sampler=dist_sampler,
        num_workers=loader.num_workers, collate_fn=loader.collate_fn,
        pin_memory=loader.pin_memory, drop_last=loader.drop_last, timeout=loader.timeout,
        worker_init_fn=loader.worker_init_fn,
        persistent_workers=loader.persistent_workers if loader.num_workers else False)
    return rebuilt, dist_sampler


def shard_adapter(adapter: da.DataAdapter, comm: Comm, initial_epoch: int,
                  what: str) -> da.DataAdapter:
    """``adapter`` serving this rank's part of each global batch (see the module doc)."""
    if isinstance(adapter, da.ArrayAdapter):
        adapter.randperm = comm.randperm
    elif isinstance(adapter, da.SequenceAdapter):
        if adapter._enqueuer is not None and adapter._shuffle:
            raise ValueError(
                "A shuffled `Sequence` read by workers (`workers > 1` or "
                "`use_multiprocessing=True`) cannot be used with several processes: each "
                "process would shuffle differently. Pass `shuffle=False`, or read it in the "
                "training thread (`workers=1`) where the order is shared by every process.")
        adapter.permutation = comm.permutation
    elif isinstance(adapter, da.TorchDataAdapter):
        loader = adapter._loader
        if isinstance(loader.sampler, DistributedSampler):
            return SamplerAdapter(adapter, loader.sampler, initial_epoch,
                                  _dataset_size(loader))
        rebuilt = _distributed_loader(loader, comm, what)
        if rebuilt is not None:
            adapter._loader, sampler = rebuilt
            if adapter._steps is None:
                adapter.num_batches = len(adapter._loader)
            return SamplerAdapter(adapter, sampler, initial_epoch, _dataset_size(loader))
    return ShardedAdapter(adapter, comm, what)


def _dataset_size(loader: DataLoader) -> Optional[int]:
    try:
        return len(loader.dataset)
    except TypeError:
        return None
