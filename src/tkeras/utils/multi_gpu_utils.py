"""``multi_gpu_model``: Keras 2's single-process data parallelism over the visible GPUs.

Each batch is split along its first axis across the GPUs; the template model is replicated
onto them for every step, the replicas run in parallel and their outputs are concatenated
on the first GPU, all with torch's own machinery (``torch.nn.parallel``'s ``scatter``,
``replicate``, ``parallel_apply``, ``gather``, what ``torch.nn.DataParallel`` runs). The
replicas are differentiable views of the template's weights, so training the returned model
trains the template: save the template (``model.save``), as Keras documents.

For several processes (one per GPU, the faster way) see ``tkeras.distribute``.
"""
from __future__ import annotations

import warnings
from typing import List, Optional, Sequence, Union

import torch

from .._warn import TkerasWarning


class MultiGpuFallbackWarning(TkerasWarning):
    """``multi_gpu_model`` found fewer than 2 GPUs and returned a single-device model."""


def _available_devices() -> List[str]:
    return ["/cpu:0"] + [f"/gpu:{i}" for i in range(torch.cuda.device_count())]


def multi_gpu_model(model, gpus: Union[int, Sequence[int], None] = None, cpu_merge: bool = True,
                    cpu_relocation: bool = False):
    """Replicates a model on several GPUs: each batch is split across them.

    Args:
        model: the template model (its weights are the ones trained and saved).
        gpus: the number of GPUs (>= 2), a list of GPU ids, or None for every visible GPU.
        cpu_merge: accepted for Keras 2 compatibility: the outputs are merged on the first
            GPU, where the template's weights live and the loss is computed.
        cpu_relocation: accepted for Keras 2 compatibility: the template's weights live on
            the first GPU (torch replicates from there).

    Returns:
        A model sharing the template's weights. With fewer than 2 GPUs on the machine it
        runs the template on its own device, with a ``MultiGpuFallbackWarning``, so the
        same script runs anywhere.

    Raises:
        ValueError: ``gpus`` asks for fewer than 2 GPUs, or for GPUs this machine lacks
            (when it has at least 2).

    Example:
        >>> import warnings
        >>> with warnings.catch_warnings():  # the fallback warns on a machine with < 2 GPUs
        ...     warnings.simplefilter("ignore", MultiGpuFallbackWarning)
        ...     parallel_model = multi_gpu_model(model, gpus=8)
        >>> parallel_model.compile(loss="mse", optimizer="adam")
        >>> history = parallel_model.fit(x, y, epochs=2, batch_size=256, verbose=0)
        >>> model.save("my_model.h5")                           # the template, trained
    """
    del cpu_merge, cpu_relocation
    available = _available_devices()
    if not gpus:
        gpus = len(available) - 1
        requested = None
    else:
        requested = gpus
    if isinstance(gpus, (list, tuple)):
        if len(gpus) <= 1:
            raise ValueError("For multi-gpu usage to be effective, call `multi_gpu_model` with "
                             f"`len(gpus) >= 2`. Received: `gpus={list(gpus)}`")
        ids = [int(g) for g in gpus]
    elif isinstance(gpus, int) and not isinstance(gpus, bool):
        if gpus <= 1 and requested is not None:
            raise ValueError("For multi-gpu usage to be effective, call `multi_gpu_model` with "
                             f"`gpus >= 2`. Received: `gpus={gpus}`")
        ids = list(range(gpus))
    else:
        raise TypeError("`gpus` must be an integer, a list of GPU ids or None. Received: "
                        f"gpus={gpus!r}")
    if len(available) - 1 < 2:
        warnings.warn(
            f"multi_gpu_model: this machine has {len(available) - 1} GPU(s), fewer than the 2 "
            "needed to split batches; the returned model runs the template on its own device "
            "(training it trains the template).", MultiGpuFallbackWarning, stacklevel=2)
        return _ParallelModel(model, [])
    target = ["/cpu:0"] + [f"/gpu:{i}" for i in ids]
    if any(d not in available for d in target):
        raise ValueError(f"To call `multi_gpu_model` with `gpus={requested}`, we expect the "
                         f"following devices to be available: {target}. However this machine "
                         f"only has: {available}. Try reducing `gpus`.")
    model.to(torch.device("cuda", ids[0]))
    return _ParallelModel(model, ids)


def _parallel_model_class():
    from ..engine.model import Model

    class ParallelModel(Model):
        """The model ``multi_gpu_model`` returns: the template, split across ``device_ids``
        batch by batch (a plain call of the template with fewer than 2 devices)."""

        def __init__(self, template, device_ids: List[int]):
            super().__init__(name=template.name + ("_parallel" if device_ids else ""))
            self.template = template
            self.device_ids = list(device_ids)

        def call(self, inputs, training: Optional[bool] = None):
            ids = self.device_ids
            if len(ids) < 2:
                return self.template(inputs, training=training)
            from torch.nn.parallel import gather, parallel_apply, replicate, scatter
            pieces = scatter(inputs, ids)
            used = ids[:len(pieces)]
            replicas = replicate(self.template, used, detach=not torch.is_grad_enabled())
            outputs = parallel_apply(replicas, [(p,) for p in pieces],
                                     [{"training": training}] * len(pieces), used)
            return gather(outputs, ids[0])

    return ParallelModel


_CLASS: list = []


def _ParallelModel(template, device_ids: List[int]):
    if not _CLASS:
        _CLASS.append(_parallel_model_class())
    return _CLASS[0](template, device_ids)


__all__ = ["multi_gpu_model", "MultiGpuFallbackWarning"]
