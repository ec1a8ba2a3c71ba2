"""Strategies in one process (no torchrun environment): no-ops that change nothing."""
import numpy as np
import pytest

import tkeras
from tkeras import layers


def test_one_process_strategy_is_a_no_op(monkeypatch):
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK"):
        monkeypatch.delenv(name, raising=False)
    strategy = tkeras.distribute.DataParallel()
    assert strategy.num_replicas_in_sync == 1
    assert tkeras.distribute.is_chief() and tkeras.distribute.rank() == 0
    assert not tkeras.distribute.is_distributed()
    x = np.random.RandomState(0).rand(20, 3).astype("float32")
    y = x.sum(axis=1, keepdims=True)
    with strategy.scope():
        assert tkeras.distribute.get_strategy() is strategy
        model = tkeras.Sequential([layers.Dense(1, input_shape=(3,))])
        model.compile("sgd", "mse")
    assert tkeras.distribute.get_strategy() is None
    plain = tkeras.Sequential([layers.Dense(1, input_shape=(3,))])
    plain.compile("sgd", "mse")
    plain.set_weights(model.get_weights())
    h1 = model.fit(x, y, batch_size=5, epochs=2, shuffle=False, verbose=0).history
    h2 = plain.fit(x, y, batch_size=5, epochs=2, shuffle=False, verbose=0).history
    assert h1 == h2
    for a, b in zip(model.get_weights(), plain.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_argument_errors():
    with pytest.raises(ValueError, match="`backend` must be a torch.distributed backend such "
                                         "as 'nccl' or 'gloo'. Received: backend='tcp'"):
        tkeras.distribute.DataParallel(backend="tcp")
    with pytest.raises(TypeError, match="`shard_layers` must be a function of a layer or a "
                                        "list of layer names. Received: 3"):
        tkeras.distribute.FullyShardedDataParallel(shard_layers=3)


def test_writers_are_marked_chief_only():
    from tkeras import callbacks
    chief = {cls.__name__ for cls in (callbacks.ProgbarLogger, callbacks.CSVLogger,
                                      callbacks.RemoteMonitor, callbacks.TensorBoard)
             if cls._chief_only}
    assert chief == {"ProgbarLogger", "CSVLogger", "RemoteMonitor", "TensorBoard"}
    deciders = (callbacks.EarlyStopping, callbacks.ReduceLROnPlateau, callbacks.TerminateOnNaN,
                callbacks.ModelCheckpoint, callbacks.History)
    assert not any(cls._chief_only for cls in deciders)
