"""Keras 2.3.1's ``multi_gpu_model``: its argument checks; the replication itself is torch's DDP.

Keras 2's ``multi_gpu_model`` replicated a model on several GPUs inside one graph (tf.keras
removed it in TF 2.4 for ``tf.distribute``). tkeras trains data-parallel with
``torch.distributed`` (DDP / FSDP under ``torchrun``), so this function checks its
arguments as Keras did and then says so, instead of silently training on one device.
"""
from __future__ import annotations

from typing import List, Sequence, Union

import torch


def multi_gpu_model(model, gpus: Union[int, Sequence[int], None] = None, cpu_merge: bool = True,
                    cpu_relocation: bool = False):
    """Keras 2's single-process multi-GPU replication (see the module's note).

    Args:
        model: the model to replicate.
        gpus: the number of GPUs (>= 2) or a list of GPU ids.
        cpu_merge: accepted for compatibility.
        cpu_relocation: accepted for compatibility.

    Raises:
        ValueError: fewer than 2 GPUs are asked for, or the machine lacks them (Keras's
            messages).
        NotImplementedError: otherwise: run the script under ``torchrun`` instead.
    """
    del model, cpu_merge, cpu_relocation
    if gpus is None:
        gpus = torch.cuda.device_count()
    if isinstance(gpus, (list, tuple)):
        if len(gpus) <= 1:
            raise ValueError("For multi-gpu usage to be effective, call `multi_gpu_model` with "
                             f"`len(gpus) >= 2`. Received: `gpus={gpus}`")
        target_ids: List[int] = list(gpus)
    else:
        if gpus <= 1:
            raise ValueError("For multi-gpu usage to be effective, call `multi_gpu_model` with "
                             f"`gpus >= 2`. Received: `gpus={gpus}`")
        target_ids = list(range(gpus))
    available = [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    wanted = [f"cuda:{i}" for i in target_ids]
    missing = [d for d in wanted if d not in available]
    if missing:
        raise ValueError(f"To call `multi_gpu_model` with `gpus={gpus}`, we expect the following "
                         f"devices to be available: {['cpu'] + wanted}. However this machine "
                         f"only has: {['cpu'] + available}. Try reducing `gpus`.")
    raise NotImplementedError(
        "tkeras does not replicate a model inside one process: train data-parallel with "
        "`torchrun --nproc_per_node=N your_script.py` (tkeras.distribute: DDP / FSDP), which "
        "is faster than Keras 2's multi_gpu_model.")
