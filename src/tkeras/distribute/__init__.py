"""Training on several processes with ``torch.distributed``: data parallel (DDP) and
sharded (FSDP2) training behind ``fit`` / ``evaluate`` / ``predict``.

Start the unchanged Keras script with torchrun::

    torchrun --nproc_per_node=4 train.py

It trains data-parallel as soon as a process group of several processes exists: one
created by the script (``torch.distributed.init_process_group``), or by a strategy, which
reads torchrun's environment::

    strategy = tkeras.distribute.DataParallel()        # or FullyShardedDataParallel()
    with strategy.scope():
        model = make_model()
        model.compile(optimizer="adam", loss="mse")
    model.fit(x, y, batch_size=256)                     # 256 = the global batch

See ``tkeras/distribute/data.py`` for how each kind of data is split across the processes
and ``engine.py`` for the losses, metrics, callbacks and predictions.
"""
from .strategy import (DataParallel, FullyShardedDataParallel, Strategy, barrier,
                       get_strategy, is_chief, is_distributed, rank, world_size)

__all__ = ["DataParallel", "FullyShardedDataParallel", "Strategy", "barrier", "get_strategy",
           "is_chief", "is_distributed", "rank", "world_size"]
