"""One process of the distributed tests: ``python worker.py SCENARIO[,SCENARIO...] OUT_DIR``.

Started by ``run_processes`` (conftest.py) once per rank with torchrun's environment
(``RANK``, ``WORLD_SIZE``, ``MASTER_ADDR``, ``MASTER_PORT``), or alone with
``WORLD_SIZE=1`` for the single-process reference. Each process writes
``{scenario: what it saw}`` to ``OUT_DIR/rank<r>.pkl``; the tests compare the files.
Several scenarios run in one launch: starting Python processes is the slow part.
"""
import os
import pickle
import sys

import numpy as np
import torch

torch.set_num_threads(1)

import tkeras  # noqa: E402
from tkeras import callbacks as cbks  # noqa: E402
from tkeras import layers  # noqa: E402


def make_data(n=64, seed=1):
    rng = np.random.RandomState(seed)
    x = rng.normal(size=(n, 4)).astype("float32")
    y = (x @ np.array([[1.0], [-2.0], [0.5], [3.0]], "float32") + 0.1).astype("float32")
    return x, y


def make_model():
    torch.manual_seed(0)
    np.random.seed(0)
    model = tkeras.Sequential([layers.Dense(8, activation="tanh", input_shape=(4,)),
                               layers.Dense(1)])
    model.compile(tkeras.optimizers.SGD(learning_rate=0.05), "mse", metrics=["mae"])
    return model


class Seen(cbks.Callback):
    """Samples this process trained on, per epoch."""

    def on_train_begin(self, logs=None):
        self.sizes = []

    def on_epoch_begin(self, epoch, logs=None):
        self.sizes.append(0)

    def on_train_batch_end(self, batch, logs=None):
        self.sizes[-1] += int(logs["size"])


class Seq(tkeras.utils.Sequence):
    def __init__(self, x, y, batch_size):
        self.x, self.y, self.bs = x, y, batch_size

    def __len__(self):
        return len(self.x) // self.bs

    def __getitem__(self, i):
        s = slice(i * self.bs, (i + 1) * self.bs)
        return self.x[s], self.y[s]


def scenario_arrays(out, rank):
    x, y = make_data()
    vx, vy = make_data(24, seed=2)
    model = make_model()
    seen = Seen()
    stop = cbks.EarlyStopping(monitor="loss", min_delta=100.0, patience=1)
    tb_dir = os.path.join(out, f"tb{rank}")
    history = model.fit(
        x, y, batch_size=16, epochs=5, shuffle=True, verbose=0, validation_data=(vx, vy),
        callbacks=[seen, stop, cbks.CSVLogger(os.path.join(out, f"log{rank}.csv")),
                   cbks.ModelCheckpoint(os.path.join(out, f"ckpt{rank}.h5")),
                   cbks.TensorBoard(log_dir=tb_dir, write_graph=False)])
    ev = model.evaluate(vx, vy, batch_size=10, verbose=0)
    pred = model.predict(vx, batch_size=10)
    model.save(os.path.join(out, f"model{rank}.h5"))
    loaded = tkeras.models.load_model(os.path.join(out, "model0.h5"))
    return {"weights": model.get_weights(), "history": history.history,
            "epochs": history.epoch, "seen": seen.sizes, "evaluate": ev, "predict": pred,
            "loaded": loaded.get_weights(), "stopped_epoch": stop.stopped_epoch}


def scenario_sequence(out, rank):
    x, y = make_data()
    model = make_model()
    seen = Seen()
    history = model.fit(Seq(x, y, 16), epochs=2, shuffle=True, verbose=0, callbacks=[seen])
    ev = model.evaluate(Seq(x, y, 16), verbose=0)
    pred = model.predict(Seq(x, y, 16))
    return {"weights": model.get_weights(), "history": history.history, "seen": seen.sizes,
            "evaluate": ev, "predict": pred}


def scenario_dataloader(out, rank):
    from torch.utils.data import DataLoader, TensorDataset
    x, y = make_data()
    data = TensorDataset(torch.from_numpy(x), torch.from_numpy(y))
    model = make_model()
    seen = Seen()
    history = model.fit(DataLoader(data, batch_size=16), epochs=2, verbose=0, callbacks=[seen])
    result = {"weights": model.get_weights(), "history": history.history, "seen": seen.sizes,
              "evaluate": model.evaluate(DataLoader(data, batch_size=8), verbose=0),
              "predict": model.predict(DataLoader(data, batch_size=8))}
    # a shuffled DataLoader: DistributedSampler semantics, a new order each epoch
    order = []

    class Ids(torch.utils.data.Dataset):
        def __len__(self):
            return 64

        def __getitem__(self, i):
            order.append(i)
            return data[i]

    model.fit(DataLoader(Ids(), batch_size=16, shuffle=True), epochs=2, verbose=0)
    result["shuffled_ids"] = order
    return result


def scenario_stop_on_nan(out, rank):
    x, y = make_data()
    y[18] = np.inf  # batch 1; in rank 0's half of it when two processes train
    model = make_model()
    history = model.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0,
                        callbacks=[cbks.TerminateOnNaN()])
    return {"epochs": history.epoch, "iterations": int(model.optimizer.iterations)}


def scenario_plain(out, rank):
    """fit / evaluate / predict / save with the strategy of the launch (DDP or FSDP2)."""
    x, y = make_data()
    model = make_model()
    model.optimizer = tkeras.optimizers.Adam(learning_rate=0.01)
    model.compile(model.optimizer, "mse", metrics=["mae"])
    history = model.fit(x, y, batch_size=16, epochs=2, shuffle=True, verbose=0)
    name = os.environ.get("TKERAS_TEST_STRATEGY", "ddp")
    model.save(os.path.join(out, f"plain_{name}{rank}.h5"))
    return {"weights": model.get_weights(), "history": history.history,
            "evaluate": model.evaluate(x, y, batch_size=16, verbose=0),
            "predict": model.predict(x[:20], batch_size=8)}


class Subclassed(tkeras.Model):
    """Built by its first call (inside the first distributed step)."""

    def __init__(self):
        super().__init__()
        self.hidden = layers.Dense(8, activation="tanh")
        self.out = layers.Dense(1)

    def call(self, inputs):
        return self.out(self.hidden(inputs))


def scenario_subclassed(out, rank):
    x, y = make_data()
    model = Subclassed()
    model.compile(tkeras.optimizers.SGD(learning_rate=0.05), "mse")
    # the weights are drawn when fit's first step builds the model: a different draw on
    # each rank, and rank 0's (the single process's) must be broadcast
    torch.manual_seed(int(os.environ.get("RANK", "0")))
    history = model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    return {"weights": model.get_weights(), "history": history.history}


def _bn_model():
    torch.manual_seed(0)
    model = tkeras.Sequential([layers.Dense(8, input_shape=(4,)),
                               layers.BatchNormalization(momentum=0.5), layers.Dense(1)])
    model.compile(tkeras.optimizers.SGD(learning_rate=0.05), "mse")
    return model


def scenario_batchnorm(out, rank):
    """BatchNormalization: synchronised (global statistics) and per rank (averaged)."""
    x, y = make_data()
    result = {}
    for sync in (True, False):
        strategy = tkeras.distribute.DataParallel(sync_batch_norm=sync)
        with strategy.scope():
            model = _bn_model()
        model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
        result[sync] = model.get_weights()
    return result


def scenario_on_batch(out, rank):
    """train_on_batch / test_on_batch, every rank given the same global batches (one of
    them of an odd size), and a model with BatchNormalization (per-rank statistics)."""
    x, y = make_data(48)
    model = make_model()
    result = {"train": [], "test": [], "sizes": []}
    def record(layer, args, output):  # the training passes (not a first no-grad build pass)
        if torch.is_grad_enabled():
            result["sizes"].append(int(args[0].shape[0]))

    hook = model.layers[0].register_forward_hook(record)
    for start, stop in ((0, 16), (16, 31), (31, 48)):
        result["train"].append(model.train_on_batch(x[start:stop], y[start:stop]))
    hook.remove()
    result["test"].append(model.test_on_batch(x[:16], y[:16]))
    result["weights"] = model.get_weights()
    bn = _bn_model()
    for start in (0, 16, 32):
        bn.train_on_batch(x[start:start + 16], y[start:start + 16])
    result["bn_weights"] = bn.get_weights()
    try:
        model.train_on_batch(x[:1], y[:1])
    except ValueError as e:
        result["small_batch"] = str(e)
    if tkeras.distribute.strategy.is_distributed():  # at exit: the kept DDP wrapper freed
        from tkeras.distribute import engine
        kept = model._step_runner.__dict__["_on_batch_steps"][1]
        engine._release_wrappers()
        result["released"] = kept.ddp is None and not engine._WRAPPING
        model.train_on_batch(x[:16], y[:16])  # wraps again
    own = OwnStep(model.inputs, model.outputs)
    own.compile("sgd", "mse")
    try:
        own.train_on_batch(x[:16], y[:16])
    except ValueError as e:
        result["own_train_step"] = str(e)
    return result


class OwnStep(tkeras.Model):
    def train_step(self, data):
        return super().train_step(data)


def scenario_fsdp_errors(out, rank):
    x, y = make_data()
    try:
        _bn_model().fit(x, y, batch_size=16, verbose=0)
    except ValueError as e:
        return str(e)
    return None


def scenario_errors(out, rank):
    """What cannot work raises on every rank (no hang)."""
    messages = {}
    x, y = make_data(33)
    model = make_model()
    try:  # 33 samples in batches of 16: the last batch holds 1 sample for 2 processes
        model.fit(x, y, batch_size=16, shuffle=False, verbose=0)
    except ValueError as e:
        messages["small_batch"] = str(e)
    inputs = tkeras.Input(batch_shape=(4, 3, 2))
    rnn = tkeras.Model(inputs, layers.SimpleRNN(2, stateful=True)(inputs))
    rnn.compile("sgd", "mse")
    try:
        rnn.fit(np.zeros((8, 3, 2), "float32"), np.zeros((8, 2), "float32"), batch_size=4,
                verbose=0)
    except ValueError as e:
        messages["stateful"] = str(e)
    return messages


def main():
    scenario, out = sys.argv[1], sys.argv[2]
    strategy = None
    if os.environ.get("TKERAS_TEST_STRATEGY") == "fsdp":
        strategy = tkeras.distribute.FullyShardedDataParallel()
    elif os.environ.get("WORLD_SIZE", "1") != "1":
        strategy = tkeras.distribute.DataParallel()  # initialises gloo from the environment
    rank = tkeras.distribute.rank()
    result = {}
    for name in scenario.split(","):
        tkeras.backend.clear_session()
        if strategy is not None:
            with strategy.scope():
                result[name] = globals()["scenario_" + name](out, rank)
        else:
            result[name] = globals()["scenario_" + name](out, rank)
    with open(os.path.join(out, f"rank{rank}.pkl"), "wb") as f:
        pickle.dump(result, f)
    if torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()


if __name__ == "__main__":
    main()
