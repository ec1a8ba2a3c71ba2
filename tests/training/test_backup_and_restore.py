"""BackupAndRestore (issue 9, section 6): a run killed with SIGKILL at any moment and started
again continues from the last backup and ends bit-identical to an uninterrupted run."""
import json
import os
import queue
import random
import signal
import subprocess
import sys
import textwrap
import threading

import h5py
import numpy as np
import pytest

import tkeras
from tkeras import backend as K
from tkeras import callbacks, layers
from tkeras.callbacks.backup import FILE_NAME

# ---------------------------------------------------------------------- the training script

# One small training run: an MLP with Dropout, shuffled batches, validation, EarlyStopping,
# ReduceLROnPlateau (on the training loss, so the epoch's running metrics matter),
# ModelCheckpoint(save_best_only) and BackupAndRestore every 3 batches (10 batches per epoch,
# so backups fall at every position of an epoch, and some at its last batch).
TRAINING = textwrap.dedent("""
    import os, sys, time
    import numpy as np, torch, tkeras
    from tkeras import callbacks, layers
    import tkeras.callbacks.backup as backup_module

    def say(text):
        os.write(1, (text + "\\n").encode())

    class Progress(callbacks.Callback):
        def __init__(self, run):
            super().__init__()
            self.run, self.epoch = run, 0
        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch
        def on_train_batch_begin(self, batch, logs=None):
            say(f"BATCH {self.run} {self.epoch} {batch}")

    def install_probes(run, stall):
        write = backup_module._write_training_state
        def probed_write(f, *args):
            if stall == "before":  # the temporary file exists, nothing is written yet
                say(f"WRITE {run}"); time.sleep(60)
            write(f, *args)
            if stall == "after":  # everything written, not yet renamed over the backup
                f.flush(); say(f"WRITE {run}"); time.sleep(60)
        backup_module._write_training_state = probed_write
        backup = backup_module.BackupAndRestore._backup
        def announced_backup(self, epoch, step):
            backup(self, epoch, step)
            say(f"SAVED {run} {epoch} {step}")
            if stall == "epoch_end" and step == 0:  # just after an end-of-epoch backup
                say(f"STALL {run}"); time.sleep(60)
        backup_module.BackupAndRestore._backup = announced_backup

    def train(folder, run, stall="none"):
        say(f"START {run} {os.getpid()}")
        install_probes(run, stall)
        tkeras.utils.set_random_seed(1)
        data = np.random.RandomState(0)
        x = data.rand(75, 4).astype("float32")
        y = (x.sum(axis=1, keepdims=True) > 2).astype("float32")
        model = tkeras.Sequential([layers.Dense(8, activation="relu", input_shape=(4,)),
                                   layers.Dropout(0.3),
                                   layers.Dense(1, activation="sigmoid")])
        model.compile(tkeras.optimizers.Adam(0.01), "binary_crossentropy", metrics=["accuracy"])
        early = callbacks.EarlyStopping(monitor="val_loss", min_delta=0.02, patience=3)
        model.fit(x, y, batch_size=6, epochs=10, validation_split=0.2, shuffle=True, verbose=0,
                  callbacks=[Progress(run), early,
                             callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5,
                                                         patience=1, min_delta=0.01),
                             callbacks.ModelCheckpoint(os.path.join(folder, "best.h5"),
                                                       save_best_only=True,
                                                       save_weights_only=True),
                             callbacks.BackupAndRestore(os.path.join(folder, "backup"),
                                                        save_freq=3)])
        say(f"TRAINED {run}")  # training ended: BackupAndRestore has deleted its backup
        np.savez(os.path.join(folder, "final.tmp.npz"), *model.get_weights(),
                 lr=float(model.optimizer.lr), stopped_epoch=early.stopped_epoch)
        os.replace(os.path.join(folder, "final.tmp.npz"), os.path.join(folder, "final.npz"))
        say(f"DONE {run}")

    # A zygote: torch and tkeras are imported once; each run is a forked process started
    # from this state (as a fresh `python train.py` would be), so that the test can kill
    # and restart a dozen runs quickly. Commands on stdin: `run <folder> <id> <stall>`.
    torch.set_num_threads(1)
    say("READY")
    for line in sys.stdin:
        _, folder, run, stall = line.split()
        pid = os.fork()
        if pid == 0:
            try:
                train(folder, run, stall)
            finally:
                os._exit(0)
        _, status = os.waitpid(pid, 0)
        say(f"EXIT {run} {status}")
""")


class _Zygote:
    """The training process: starts runs, streams their output lines, kills them."""

    def __init__(self, tmp_path):
        script = tmp_path / "train.py"
        script.write_text(TRAINING)
        self.process = subprocess.Popen([sys.executable, str(script)], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True, bufsize=1)
        self.lines: "queue.Queue[str]" = queue.Queue()
        self.log = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.expect("READY")

    def _read(self):
        for line in self.process.stdout:
            self.lines.put(line.strip())

    def next_line(self) -> str:
        try:
            line = self.lines.get(timeout=120)
        except queue.Empty:
            raise AssertionError("the training process went silent; its output so far:\n" +
                                 "\n".join(self.log)) from None
        self.log.append(line)
        return line

    def expect(self, word: str) -> str:
        while True:
            line = self.next_line()
            if line.split()[0] == word:
                return line

    def start(self, folder, run: int, stall: str = "none") -> int:
        self.process.stdin.write(f"run {folder} {run} {stall}\n")
        self.process.stdin.flush()
        return int(self.expect("START").split()[2])

    def close(self):
        self.process.stdin.close()
        self.process.wait(timeout=60)
        self.reader.join(timeout=60)  # it stops at the end of the output: then close the pipe
        self.process.stdout.close()


def _run_to_end(zygote, folder, run):
    """Lines of one run that nobody kills (its first BATCH line says where it started)."""
    zygote.start(folder, run)
    lines = []
    while True:
        line = zygote.next_line()
        lines.append(line)
        if line.startswith("EXIT"):
            return lines


def _h5_datasets(path):
    with h5py.File(path, "r") as f:
        out = {}
        f.visititems(lambda name, obj: out.__setitem__(name, obj[()])
                     if isinstance(obj, h5py.Dataset) else None)
        return out


@pytest.mark.skipif(not hasattr(os, "fork"), reason="the runs are forked processes (POSIX)")
def test_sigkill_at_random_moments_resumes_to_bit_identical_weights(tmp_path):
    zygote = _Zygote(tmp_path)
    try:
        reference, resumed = tmp_path / "reference", tmp_path / "resumed"
        reference.mkdir(), resumed.mkdir()
        assert any(line.startswith("DONE") for line in _run_to_end(zygote, reference, 0))

        chooser = random.Random(20260907)  # the kill moments are random but reproducible
        plan = ["batch"] * 14
        plan[1], plan[4], plan[8] = "write:before", "write:after", "write:before"
        plan[6] = "restore"  # while the backup is being read
        plan[10] = "stall:epoch_end"  # the next run starts at an epoch's beginning
        kills, write_kills, starts, saved, trained = 0, 0, [], [], []

        def track(run, line):
            word, *fields = line.split()
            if word == "BATCH" and (not starts or starts[-1][0] != run):
                starts.append((run, int(fields[1]), int(fields[2])))
            elif word == "SAVED":
                saved.append((run, int(fields[1]), int(fields[2])))
            elif word == "TRAINED":  # a kill after this (while saving the final weights)
                trained.append(run)  # leaves no backup: the next run starts afresh
            return word

        for run, how in enumerate(plan, start=1):
            pid = zygote.start(resumed, run, how.split(":")[1] if ":" in how else "none")
            in_write, word = False, None
            if how == "restore":
                threading.Event().wait(chooser.uniform(0.0, 0.05))
            else:
                seen, target = 0, chooser.randint(2, 12)
                while True:
                    word = track(run, zygote.next_line())
                    if word == "BATCH":
                        seen += 1
                        if how == "batch" and seen >= target:
                            threading.Event().wait(chooser.uniform(0.0, 0.006))
                            break
                    elif word == "WRITE":
                        in_write = True
                        break
                    elif word == "STALL":
                        break
                    elif word in ("DONE", "EXIT"):
                        break
            if word != "EXIT":
                os.kill(pid, signal.SIGKILL)
                while track(run, line := zygote.next_line()) != "EXIT":
                    pass
            else:
                line = zygote.log[-1]
            if line.split()[2] == "0":
                break  # it finished before the kill
            kills += 1
            write_kills += in_write
        else:  # started again, not killed: it finishes
            lines = _run_to_end(zygote, resumed, 100)
            first = next((ln.split() for ln in lines if ln.startswith("BATCH")), None)
            if first:
                starts.append((100, int(first[2]), int(first[3])))
            assert any(line.startswith("DONE") for line in lines), lines
    finally:
        zygote.close()

    assert kills >= 10 and write_kills >= 3
    # The restarts really resumed (a run from scratch would also end with the same weights):
    # each run began at or after the last backup written before it, some inside an epoch.
    later_starts = [s for s in starts if s[0] > 1]
    assert any(step > 0 for _, _, step in later_starts)
    assert any(epoch > 0 and step == 0 for _, epoch, step in later_starts)
    for run, epoch, step in later_starts:
        since = max([r for r in trained if r < run], default=0)  # the last finished training
        before = [(e, s) for r, e, s in saved if since < r < run]
        if before:
            assert (epoch, step) >= max(before), (run, epoch, step, before)

    expected, got = np.load(reference / "final.npz"), np.load(resumed / "final.npz")
    assert expected["stopped_epoch"] > 0  # EarlyStopping stopped the run
    assert expected["lr"] < 0.01  # and ReduceLROnPlateau lowered the rate
    assert sorted(expected.files) == sorted(got.files)
    for name in expected.files:
        assert np.array_equal(expected[name], got[name]), name
    best_expected, best_got = (_h5_datasets(p / "best.h5") for p in (reference, resumed))
    assert best_expected.keys() == best_got.keys()
    for name, value in best_expected.items():
        assert np.array_equal(value, best_got[name]), name
    assert not (resumed / "backup" / "chief").exists()  # deleted when training ended


# ---------------------------------------------------------------------- in-process tests

class _Interrupt(callbacks.Callback):
    """Stops the process's training as a crash would: an exception after ``at`` batches."""

    def __init__(self, at: int):
        super().__init__()
        self.at, self.seen = at, 0

    def on_train_batch_end(self, batch, logs=None):
        self.seen += 1
        if self.seen == self.at:
            raise KeyboardInterrupt("killed")


def _train(folder, interrupt_at=None, epochs=6, save_freq="epoch", input_shape=True,
           delete_checkpoint=True, extra=(), dropout_seed=None):
    """The same script as a fresh process runs it; returns (model, history, callbacks)."""
    tkeras.backend.clear_session()
    tkeras.utils.set_random_seed(3)
    data = np.random.RandomState(0)
    x = data.rand(40, 4).astype("float32")
    y = (x.sum(axis=1, keepdims=True) > 2).astype("float32")
    first = layers.Dense(6, activation="relu", **({"input_shape": (4,)} if input_shape else {}))
    stack = [first, layers.Dropout(0.25, seed=dropout_seed)]
    if dropout_seed is not None:  # and noise from a seeded K function's shared generator
        stack.append(layers.Lambda(lambda x, training=None: x + K.random_normal(
            tuple(x.shape), stddev=0.1, seed=dropout_seed + 1) if training else x))
    model = tkeras.Sequential(stack + [layers.Dense(1, activation="sigmoid")])
    model.compile(tkeras.optimizers.Adam(0.02), "binary_crossentropy", metrics=["accuracy"])
    backup = callbacks.BackupAndRestore(folder, save_freq=save_freq,
                                        delete_checkpoint=delete_checkpoint)
    # Listed first, BackupAndRestore still runs after the others.
    cbs = [backup, callbacks.EarlyStopping(monitor="loss", min_delta=0.5, patience=4,
                                           restore_best_weights=True),
           callbacks.LearningRateScheduler(lambda epoch, lr: lr * 0.9), *extra]
    if interrupt_at:
        cbs.append(_Interrupt(interrupt_at))
    history = None
    try:
        history = model.fit(x, y, batch_size=8, epochs=epochs, verbose=0, callbacks=cbs)
    except KeyboardInterrupt:
        pass
    return model, history, cbs


def _same_weights(a, b):
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b))


@pytest.mark.parametrize("input_shape", [True, False])
def test_epoch_backups_resume_at_the_next_epoch(tmp_path, input_shape):
    reference, ref_history, _ = _train(tmp_path / "ref", input_shape=input_shape)
    assert not os.path.exists(tmp_path / "ref" / "chief")
    folder = tmp_path / "backup"
    _, none, _ = _train(folder, interrupt_at=13, input_shape=input_shape)  # in epoch 2 (5/epoch)
    assert none is None and os.path.exists(folder / "chief" / "training_state.h5")
    model, history, _ = _train(folder, input_shape=input_shape)
    assert ref_history.epoch == [0, 1, 2, 3, 4]  # EarlyStopping stopped it (restoring weights)
    assert history.epoch == [2, 3, 4]
    assert history.history["loss"] == ref_history.history["loss"][2:]
    assert _same_weights(model.get_weights(), reference.get_weights())
    assert _same_weights(model.optimizer.get_weights(), reference.optimizer.get_weights())
    assert float(model.optimizer.lr) == float(reference.optimizer.lr)
    assert os.listdir(folder) == []  # the backup is deleted when training ends


@pytest.mark.parametrize("dropout_seed", [None, 11])  # torch's global RNG / seeded ones
def test_integer_save_freq_resumes_inside_the_epoch_with_its_metrics(tmp_path, dropout_seed):
    reference, ref_history, _ = _train(tmp_path / "ref", save_freq=4, dropout_seed=dropout_seed)
    folder = tmp_path / "backup"
    # Backups after 4, 8, 12 and 16 batches (5 per epoch); stopped after 18.
    _train(folder, interrupt_at=18, save_freq=4, dropout_seed=dropout_seed)
    with h5py.File(folder / "chief" / "training_state.h5", "r") as f:
        state = json.loads(f.attrs["training_state"])
    assert (state["epoch"], state["step"]) == (3, 1)  # batch 16 is the 2nd batch of epoch 3
    model, history, _ = _train(folder, save_freq=4, dropout_seed=dropout_seed)
    assert ref_history.epoch == [0, 1, 2, 3, 4]
    assert history.epoch == [3, 4]
    # The resumed epoch's logged loss and accuracy cover the batches before the restart.
    assert history.history["loss"] == ref_history.history["loss"][3:]
    assert history.history["accuracy"] == ref_history.history["accuracy"][3:]
    assert _same_weights(model.get_weights(), reference.get_weights())


def test_integer_save_freq_counts_batches_across_epochs(tmp_path, monkeypatch):
    written = []
    original = callbacks.BackupAndRestore._backup

    def spy(self, epoch, step):
        written.append((epoch, step))
        original(self, epoch, step)

    monkeypatch.setattr(callbacks.BackupAndRestore, "_backup", spy)
    _train(tmp_path / "b", epochs=3, save_freq=3)  # 5 batches per epoch
    # Every 3rd batch: batches 3, 6, 9, 12, 15; the 15th ends epoch 2, so its backup is
    # written after the epoch's end (callbacks included) and resumes at epoch 3.
    assert written == [(0, 3), (1, 1), (1, 4), (2, 2), (3, 0)]
    written.clear()
    _train(tmp_path / "e", epochs=3)
    assert written == [(1, 0), (2, 0), (3, 0)]


def test_delete_checkpoint_false_keeps_the_backup_and_a_rerun_trains_no_more(tmp_path):
    folder = tmp_path / "backup"
    model, history, _ = _train(folder, epochs=3, delete_checkpoint=False)
    assert history.epoch == [0, 1, 2]
    path = folder / "chief" / "training_state.h5"
    assert os.listdir(folder) == ["chief"] and os.listdir(folder / "chief") == [FILE_NAME]
    with h5py.File(path, "r") as f:
        assert {"model_weights", "optimizer_weights", "optimizer_scalars", "rng",
                "callbacks"} <= set(f.keys())
        state = json.loads(f.attrs["training_state"])
    assert (state["format"], state["epoch"], state["step"]) == ("tkeras.BackupAndRestore", 3, 0)
    assert [entry["class_name"] for entry in state["callbacks"]] == ["EarlyStopping"]
    # The backup is a weights file too.
    copy, _, _ = _train(tmp_path / "other", epochs=0)
    copy.load_weights(str(path))
    assert _same_weights(copy.get_weights(), model.get_weights())
    again, history, _ = _train(folder, epochs=3, delete_checkpoint=False)
    assert history.epoch == []
    assert _same_weights(again.get_weights(), model.get_weights())


def test_a_backup_of_another_model_is_a_clear_error(tmp_path):
    folder = tmp_path / "backup"
    _train(folder, interrupt_at=7)
    tkeras.backend.clear_session()
    model = tkeras.Sequential([layers.Dense(3, input_shape=(4,)), layers.Dense(1)])
    model.compile("adam", "mse")
    with pytest.raises(ValueError, match=r"The backup .*training_state.h5 does not fit this "
                                         r"model: .*Delete the folder"):
        model.fit(np.zeros((8, 4)), np.zeros((8, 1)), verbose=0,
                  callbacks=[callbacks.BackupAndRestore(folder)])


def test_bad_arguments():
    with pytest.raises(ValueError, match="Empty `backup_dir` argument passed"):
        callbacks.BackupAndRestore("")
    for save_freq in (None, 0, False):
        with pytest.raises(ValueError,
                           match="Either `save_freq` or `save_before_preemption` must be set."):
            callbacks.BackupAndRestore("b", save_freq=save_freq)
    for save_freq in ("batch", -3, 2.5, True):
        with pytest.raises(ValueError, match=r"Unrecognized save_freq: .*Expected save_freq are "
                                             r"'epoch' or positive integer values"):
            callbacks.BackupAndRestore("b", save_freq=save_freq)
    with pytest.warns(tkeras.utils.TkerasWarning, match="`save_before_preemption` needs"):
        callbacks.BackupAndRestore("b", save_freq=False, save_before_preemption=True)


class _Batches(tkeras.utils.Sequence):
    def __init__(self):
        data = np.random.RandomState(1)
        self.x = data.rand(7, 6, 4).astype("float32")
        self.y = (self.x.sum(axis=2, keepdims=True) > 2).astype("float32")

    def __len__(self):
        return len(self.x)

    def __getitem__(self, index):
        return self.x[index], self.y[index]


def test_a_shuffled_sequence_resumes_inside_the_epoch(tmp_path):
    def train(folder, interrupt_at=None):
        tkeras.backend.clear_session()
        tkeras.utils.set_random_seed(5)
        model = tkeras.Sequential([layers.Dense(5, activation="relu", input_shape=(4,)),
                                   layers.Dropout(0.2), layers.Dense(1, activation="sigmoid")])
        model.compile(tkeras.optimizers.RMSprop(0.01), "binary_crossentropy")
        cbs = [callbacks.BackupAndRestore(folder, save_freq=2)]
        if interrupt_at:
            cbs.append(_Interrupt(interrupt_at))
        try:
            model.fit(_Batches(), epochs=3, shuffle=True, verbose=0, callbacks=cbs)
        except KeyboardInterrupt:
            pass
        return model.get_weights()

    reference = train(tmp_path / "ref")
    train(tmp_path / "backup", interrupt_at=11)  # last backup after 10 batches: epoch 1, step 3
    assert _same_weights(train(tmp_path / "backup"), reference)


def test_keras_docstring_example_runs_the_remaining_epochs(tmp_path):
    class InterruptingCallback(callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 4:
                raise RuntimeError("Interrupting!")

    callback = callbacks.BackupAndRestore(backup_dir=str(tmp_path / "backup"))
    model = tkeras.Sequential([layers.Dense(10)])
    model.compile(tkeras.optimizers.SGD(), loss="mse")
    x, y = np.arange(100).reshape(5, 20).astype("float32"), np.zeros((5, 10), "float32")
    with pytest.raises(RuntimeError, match="Interrupting!"):
        model.fit(x, y, epochs=10, batch_size=1,
                  callbacks=[callback, InterruptingCallback()], verbose=0)
    history = model.fit(x, y, epochs=10, batch_size=1, callbacks=[callback], verbose=0)
    # The first training was interrupted at (zero-indexed) epoch 4: 4 to 9 remain.
    assert len(history.history["loss"]) == 6 and history.epoch == [4, 5, 6, 7, 8, 9]


def test_a_wrapped_torch_optimizer_resumes_inside_the_epoch(tmp_path):
    import torch

    def train(folder, interrupt_at=None):
        tkeras.backend.clear_session()
        tkeras.utils.set_random_seed(2)
        data = np.random.RandomState(3)
        x = data.rand(30, 4).astype("float32")
        y = x[:, :1] * 2 - x[:, 1:2]
        model = tkeras.Sequential([layers.Dense(6, activation="tanh", input_shape=(4,)),
                                   layers.Dropout(0.2), layers.Dense(1)])
        model.compile(tkeras.optimizers.TorchOptimizer(torch.optim.Adam, lr=0.02), "mse")
        cbs = [callbacks.BackupAndRestore(folder, save_freq=2),
               callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=0)]
        if interrupt_at:
            cbs.append(_Interrupt(interrupt_at))
        try:
            model.fit(x, y, batch_size=7, epochs=4, verbose=0, callbacks=cbs)
        except KeyboardInterrupt:
            pass
        return model

    reference = train(tmp_path / "ref")
    assert float(reference.optimizer.lr) < 0.02
    train(tmp_path / "backup", interrupt_at=13)  # 5 batches per epoch: resumes at (2, 2)
    resumed = train(tmp_path / "backup")
    assert _same_weights(resumed.get_weights(), reference.get_weights())
    assert _same_weights(resumed.optimizer.get_weights(), reference.optimizer.get_weights())
    assert float(resumed.optimizer.lr) == float(reference.optimizer.lr)


class _OwnStep(tkeras.Model):
    """A subclassed model with its own train_step and loss tracker."""

    def __init__(self):
        super().__init__(name="own_step")
        self.hidden, self.drop, self.out = layers.Dense(5, activation="relu"), \
            layers.Dropout(0.2), layers.Dense(1)
        self.tracker = tkeras.metrics.Mean(name="loss")

    def call(self, x, training=None):
        return self.out(self.drop(self.hidden(x), training=training))

    @property
    def metrics(self):
        return [self.tracker]

    def train_step(self, data):
        import torch
        x, y = data
        loss = ((self(x, training=True) - y) ** 2).mean()
        grads = torch.autograd.grad(loss, self.trainable_weights)
        self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
        self.tracker.update_state(loss)
        return {"loss": self.tracker.result()}


def test_a_subclassed_model_with_its_own_train_step_resumes(tmp_path):
    def train(folder, interrupt_at=None):
        tkeras.backend.clear_session()
        tkeras.utils.set_random_seed(0)
        x = np.random.RandomState(0).rand(30, 4).astype("float32")
        model = _OwnStep()
        model.compile(tkeras.optimizers.Adam(0.01))
        cbs = [callbacks.BackupAndRestore(folder, save_freq=2)]
        if interrupt_at:
            cbs.append(_Interrupt(interrupt_at))
        try:
            return model, model.fit(x, x[:, :1], batch_size=7, epochs=3, verbose=0,
                                    callbacks=cbs)
        except KeyboardInterrupt:
            return model, None

    reference, ref_history = train(tmp_path / "ref")
    _, interrupted = train(tmp_path / "backup", interrupt_at=7)  # resumes at epoch 1, step 1
    assert interrupted is None
    model, history = train(tmp_path / "backup")  # unbuilt until restored: built from its shape
    assert history.epoch == [1, 2]
    assert history.history["loss"] == ref_history.history["loss"][1:]  # the tracker's state
    assert _same_weights(model.get_weights(), reference.get_weights())
