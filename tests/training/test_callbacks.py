"""Callbacks: hook order, the seed 004 examples, EarlyStopping, LR schedules, CSV /
TensorBoard / RemoteMonitor outputs read back, TerminateOnNaN, the progress bar."""
import csv
import http.server
import json
import re
import threading
import urllib.parse

import numpy as np
import pytest
from callback_test_utils import KERAS_HOOK_ORDER, check_callback
from callback_test_utils import small_data as _data
from callback_test_utils import small_model as _model

from tkeras import backend as K
from tkeras import callbacks as cbks
from tkeras._warn import TkerasDeprecationWarning, TkerasWarning
from tkeras.layers import Activation, Dense
from tkeras.models import Sequential

_HOOKS = ("on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end", "on_batch_begin",
          "on_batch_end", "on_test_begin", "on_test_end", "on_test_batch_begin",
          "on_test_batch_end", "on_predict_begin", "on_predict_end", "on_predict_batch_begin",
          "on_predict_batch_end")


def _recording_hook(name):
    def hook(self, *args, logs=None):
        self.calls.append((name,) + tuple(a for a in args if isinstance(a, int)))
    return hook


class Recorder(cbks.Callback):
    """Records its hook calls. It keeps Callback's on_train_batch_begin / _end, which call
    the Keras 2 names on_batch_begin / on_batch_end."""

    def __init__(self):
        super().__init__()
        self.calls = []


for _name in _HOOKS:
    setattr(Recorder, _name, _recording_hook(_name))


def test_hooks_are_called_in_keras_order():
    """... under Keras 2's names: Callback's on_train_batch_begin / _end call on_batch_begin /
    on_batch_end."""
    model = _model()
    x, y = _data(8)
    rec = Recorder()
    model.fit(x, y, batch_size=4, epochs=2, validation_data=(x[:4], y[:4]), callbacks=[rec],
              verbose=0)
    model.evaluate(x, y, batch_size=8, callbacks=[rec], verbose=0)
    model.predict(x, batch_size=8, callbacks=[rec])
    assert rec.calls == [(call[0].replace("on_train_batch", "on_batch"),) + call[1:]
                         for call in KERAS_HOOK_ORDER]


# ------------------------------------------------------------------ the shared callback test

def _schedule(epoch):
    return 0.02  # a module-level function: the scheduler pickles, as in Keras


# (id, factory(tmp_path, server root), batch hooks Keras calls, picklable, then(callback,
# tmp_path) or None). Keras's loops call a callback's batch hooks in the modes it implements
# them: BaseLogger and TerminateOnNaN train batches, ProgbarLogger all; ModelCheckpoint,
# TensorBoard and BackupAndRestore only with a batch frequency (not the default 'epoch').
# Keras's ReduceLROnPlateau keeps a lambda as its monitor_op: it does not pickle either.
ALL = ("train", "test", "predict")
CALLBACK_CASES = [
    ("base_logger", lambda tmp, root: cbks.BaseLogger(), ("train",), True, None),
    ("history", lambda tmp, root: cbks.History(), (), True,
     lambda cb, tmp: len(cb.history["loss"]) == 2 == len(cb.history["val_loss"])),
    ("progbar_logger", lambda tmp, root: cbks.ProgbarLogger(), ALL, True, None),
    ("terminate_on_nan", lambda tmp, root: cbks.TerminateOnNaN(), ("train",), True,
     lambda cb, tmp: not cb.model.stop_training),
    ("early_stopping", lambda tmp, root: cbks.EarlyStopping(patience=5), (), True,
     lambda cb, tmp: cb.stopped_epoch == 0),
    ("reduce_lr_on_plateau", lambda tmp, root: cbks.ReduceLROnPlateau(), (), False, None),
    ("lambda_callback", lambda tmp, root: cbks.LambdaCallback(), (), True, None),
    ("learning_rate_scheduler", lambda tmp, root: cbks.LearningRateScheduler(_schedule), (), True,
     lambda cb, tmp: float(cb.model.optimizer.lr) == pytest.approx(0.02)),
    ("csv_logger", lambda tmp, root: cbks.CSVLogger(str(tmp / "log.csv")), (), True,
     lambda cb, tmp: len((tmp / "log.csv").read_text().splitlines()) == 3),
    ("model_checkpoint", lambda tmp, root: cbks.ModelCheckpoint(str(tmp / "m.h5")), (), True,
     lambda cb, tmp: (tmp / "m.h5").is_file()),
    ("tensorboard", lambda tmp, root: cbks.TensorBoard(str(tmp / "logs")), (), True,
     lambda cb, tmp: any((tmp / "logs").rglob("events.out.tfevents.*"))),
    ("remote_monitor", lambda tmp, root: cbks.RemoteMonitor(root=root), (), True, None),
    # the backup is deleted when training ends
    ("backup_and_restore", lambda tmp, root: cbks.BackupAndRestore(str(tmp / "backup")), (),
     True, lambda cb, tmp: not any(p.is_file() for p in (tmp / "backup").rglob("*"))),
]


@pytest.mark.parametrize("name,factory,batch_hooks,picklable,then", CALLBACK_CASES,
                         ids=[c[0] for c in CALLBACK_CASES])
def test_shared_callback_test(name, factory, batch_hooks, picklable, then, tmp_path,
                              http_server):
    root, received = http_server

    def check_then(callback):
        assert then is None or then(callback, tmp_path)
    check_callback(lambda: factory(tmp_path, root), batch_hooks=batch_hooks,
                   picklable=picklable, then=check_then)
    if name == "remote_monitor":
        assert len(received) == 2  # one post per epoch


# Exported callback classes the shared test does not run: the abstract base.
NOT_HARNESS_CASES = {"Callback"}


def test_every_exported_callback_class_goes_through_the_shared_test(tmp_path):
    covered = {type(case[1](tmp_path, "http://127.0.0.1:1")).__name__ for case in CALLBACK_CASES}
    exported = {name for name in getattr(cbks, "__all__", dir(cbks))
                if not name.startswith("_") and isinstance(getattr(cbks, name), type)
                and issubclass(getattr(cbks, name), cbks.Callback)}
    missing = exported - covered - NOT_HARNESS_CASES
    assert not missing, f"exported classes without a shared-test case: {sorted(missing)}"


def test_callback_params_model_and_logs():
    seen = {}

    class Check(cbks.Callback):
        def on_train_begin(self, logs=None):
            seen["params"] = dict(self.params)
            seen["model"] = self.model

        def on_batch_begin(self, batch, logs=None):
            seen.setdefault("begin", []).append(dict(logs))

        def on_epoch_end(self, epoch, logs=None):
            seen["epoch_logs"] = dict(logs)

    model = _model()
    x, y = _data(10)
    h = model.fit(x, y, batch_size=4, epochs=1, validation_split=0.2, callbacks=[Check()],
                  verbose=0)
    assert seen["model"] is model
    assert seen["params"]["epochs"] == 1 and seen["params"]["steps"] == 2
    assert seen["params"]["verbose"] == 0
    assert seen["begin"] == [{"batch": 0, "size": 4}, {"batch": 1, "size": 4}]
    assert seen["epoch_logs"] == {k: v[0] for k, v in h.history.items()}
    assert set(seen["epoch_logs"]) == {"loss", "mae", "val_loss", "val_mae"}
    assert model.history is h


def test_seed004_loss_history_records_running_means_per_batch():
    class LossHistory(cbks.Callback):
        def on_train_begin(self, logs={}):
            self.losses = []

        def on_batch_end(self, batch, logs={}):
            self.losses.append(logs.get("loss"))

    model = Sequential()
    model.add(Dense(10, input_dim=784, kernel_initializer="uniform"))
    model.add(Activation("softmax"))
    model.compile(loss="categorical_crossentropy", optimizer="rmsprop")
    rng = np.random.RandomState(0)
    X_train = rng.rand(300, 784).astype("float32")
    Y_train = np.eye(10)[rng.randint(0, 10, 300)]
    history = LossHistory()
    fit_history = model.fit(X_train, Y_train, batch_size=128, epochs=2, verbose=0,
                            callbacks=[history])
    assert len(history.losses) == 6 and all(isinstance(v, float) for v in history.losses)
    # batch logs hold the running mean of the epoch: the last one is the epoch's loss
    np.testing.assert_allclose([history.losses[2], history.losses[5]],
                               fit_history.history["loss"], rtol=1e-6)


def test_seed004_lambda_callback_examples(capsys):
    class FakeProcess:
        def __init__(self, alive):
            self.alive, self.terminated = alive, False

        def is_alive(self):
            return self.alive

        def terminate(self):
            self.terminated = True

    batch_print_callback = cbks.LambdaCallback(on_batch_begin=lambda batch, logs: print(batch))
    epochs, losses = [], []
    plot_loss_callback = cbks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: (epochs.append(epoch), losses.append(logs["loss"])))
    processes = [FakeProcess(True), FakeProcess(False)]
    cleanup_callback = cbks.LambdaCallback(
        on_train_end=lambda logs: [p.terminate() for p in processes if p.is_alive()])
    model = _model()
    x, y = _data(12)
    h = model.fit(x, y, batch_size=4, epochs=2, verbose=0,
                  callbacks=[batch_print_callback, plot_loss_callback, cleanup_callback])
    assert capsys.readouterr().out.split() == ["0", "1", "2", "0", "1", "2"]
    assert epochs == [0, 1] and losses == h.history["loss"]
    assert [p.terminated for p in processes] == [True, False]
    with pytest.raises(TypeError, match="unknown hook"):
        cbks.LambdaCallback(on_nothing=print)


def test_batch_logs_are_read_only_when_a_callback_looks():
    computed = []
    logs = cbks.LazyLogs(lambda: computed.append(1) or {"loss": 1.5}, {"batch": 0, "size": 2})
    assert computed == []
    assert logs["loss"] == 1.5 and logs.get("size") == 2 and computed == [1]
    assert dict(logs) == {"batch": 0, "size": 2, "loss": 1.5} and computed == [1]

    class OnlyEpochs(cbks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            pass

    callbacks = cbks.CallbackList([OnlyEpochs(), cbks.History()])
    assert not callbacks.implements_batch_hooks("train")
    def batch_hooks(callback):
        return cbks.CallbackList([callback]).implements_batch_hooks("train")

    assert batch_hooks(cbks.LambdaCallback(on_batch_end=print))
    assert batch_hooks(cbks.TerminateOnNaN())
    assert not batch_hooks(cbks.LambdaCallback(on_epoch_end=print))


# ------------------------------------------------------------------ EarlyStopping

class ScriptedValLoss(cbks.Callback):
    """Writes a scripted ``val_loss`` into the epoch logs (placed before the callback under
    test) and keeps a copy of the weights at each epoch end."""

    def __init__(self, values):
        super().__init__()
        self.values = values
        self.snapshots = []

    def on_epoch_end(self, epoch, logs=None):
        logs["val_loss"] = self.values[epoch]
        self.snapshots.append(self.model.get_weights())


def test_early_stopping_restores_the_best_weights():
    model = _model(lr=0.05)
    x, y = _data()
    script = ScriptedValLoss([1.0, 0.5, 0.7, 0.8, 0.9, 1.0])
    stop = cbks.EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
    h = model.fit(x, y, epochs=6, batch_size=8, callbacks=[script, stop], verbose=0)
    assert h.epoch == [0, 1, 2, 3] and stop.stopped_epoch == 3 and stop.best_epoch == 1
    for got, best, last in zip(model.get_weights(), script.snapshots[1], script.snapshots[3]):
        np.testing.assert_array_equal(got, best)
        assert not np.array_equal(best, last)


@pytest.mark.parametrize("kwargs,values,stopped", [
    ({"patience": 1, "min_delta": 0.2}, [1.0, 0.9, 0.85, 0.5], 1),    # 0.1 < min_delta
    ({"patience": 0, "mode": "max", "monitor": "val_loss"}, [1.0, 2.0, 1.5, 3.0], 2),
    ({"patience": 2}, [1.0, 1.1, 1.2, 0.3], 2),
    ({"patience": 2, "baseline": 0.4}, [1.0, 1.1, 1.2, 0.3], 1),      # wait never reset
    ({"patience": 1, "baseline": 0.4}, [1.0, 0.5, 0.45, 0.3], 0),     # improving: no stop
    ({"patience": 3}, [1.0, 0.9, 0.8, 0.7], 0),                      # keeps improving
])
def test_early_stopping_min_delta_mode_baseline(kwargs, values, stopped):
    model = _model()
    x, y = _data(8)
    stop = cbks.EarlyStopping(**kwargs)
    h = model.fit(x, y, epochs=len(values), callbacks=[ScriptedValLoss(values), stop], verbose=0)
    assert stop.stopped_epoch == stopped
    assert len(h.epoch) == (stopped + 1 if stopped else len(values))


def test_early_stopping_on_a_missing_metric_warns():
    model = _model()
    x, y = _data(8)
    with pytest.warns(TkerasWarning, match="val_acc.*not available"):
        model.fit(x, y, epochs=1, callbacks=[cbks.EarlyStopping(monitor="val_acc")], verbose=0)


# ------------------------------------------------------------------ learning rate

def test_reduce_lr_on_plateau_lowers_the_rate():
    model = _model(lr=0.1)
    x, y = _data(8)
    script = ScriptedValLoss([1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5])
    reduce = cbks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=1, cooldown=2,
                                    min_lr=0.02)
    h = model.fit(x, y, epochs=8, callbacks=[script, reduce], verbose=0)
    # Keras logs the rate at the start of on_epoch_end, then maybe reduces it:
    # e1 no gain -> 0.05 (cooldown 2); e2 cooling; e3 cooled, no gain -> 0.025; e4 gain;
    # e5 no gain -> max(0.0125, min_lr) = 0.02; e6 cooling; e7 already at min_lr.
    np.testing.assert_allclose(h.history["lr"], [0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.02, 0.02],
                               rtol=1e-6)
    np.testing.assert_allclose(K.get_value(model.optimizer.lr), 0.02, rtol=1e-6)


def test_reduce_lr_on_plateau_min_delta_and_mode():
    x, y = _data(8)
    # min_delta: improvements smaller than 0.1 do not count (1.0 -> 0.95 -> 0.91 ...).
    model = _model(lr=0.1)
    h = model.fit(x, y, epochs=4, verbose=0, callbacks=[
        ScriptedValLoss([1.0, 0.95, 0.91, 0.5]),
        cbks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=2, min_delta=0.1)])
    # e0 best 1.0; e1 -0.05 wait 1; e2 -0.09 wait 2 -> 0.05; e3 real gain
    np.testing.assert_allclose(h.history["lr"], [0.1, 0.1, 0.1, 0.05], rtol=1e-6)
    # mode='max' (an accuracy-like quantity): a falling value is no improvement.
    model = _model(lr=0.1)
    h = model.fit(x, y, epochs=3, verbose=0, callbacks=[
        ScriptedValLoss([0.9, 0.8, 0.95]),
        cbks.ReduceLROnPlateau(monitor="val_loss", mode="max", factor=0.5, patience=1)])
    np.testing.assert_allclose(h.history["lr"], [0.1, 0.1, 0.05], rtol=1e-6)
    # mode='auto' on a name with "acc" maximizes too.
    model = _model(lr=0.1)
    script = ScriptedValLoss([0.9, 0.8, 0.95])
    script.on_epoch_end = lambda epoch, logs=None: logs.update(val_acc=[0.9, 0.8, 0.95][epoch])
    h = model.fit(x, y, epochs=3, verbose=0, callbacks=[
        script, cbks.ReduceLROnPlateau(monitor="val_acc", factor=0.5, patience=1)])
    np.testing.assert_allclose(h.history["lr"], [0.1, 0.1, 0.05], rtol=1e-6)


def test_reduce_lr_on_plateau_accepts_the_keras2_epsilon_name():
    with pytest.warns(TkerasDeprecationWarning, match="min_delta"):
        reduce = cbks.ReduceLROnPlateau(epsilon=0.3)
    assert reduce.min_delta == 0.3
    with pytest.raises(ValueError, match="factor >= 1.0"):
        cbks.ReduceLROnPlateau(factor=1.5)


@pytest.mark.parametrize("two_args", [False, True])
def test_learning_rate_scheduler_sets_the_rate_used_by_the_steps(two_args):
    seen = []

    class ReadRate(cbks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            seen.append(float(K.get_value(self.model.optimizer.lr)))

    schedule = (lambda epoch, lr: lr * 0.5) if two_args else (lambda epoch: 0.1 / (epoch + 1))
    model = _model(lr=0.2)
    x, y = _data(8)
    h = model.fit(x, y, epochs=3, batch_size=8,
                  callbacks=[cbks.LearningRateScheduler(schedule), ReadRate()], verbose=0)
    expected = [0.1, 0.05, 0.025] if two_args else [0.1, 0.05, 0.1 / 3]
    np.testing.assert_allclose(seen, expected, rtol=1e-6)
    np.testing.assert_allclose(h.history["lr"], expected, rtol=1e-6)


def test_learning_rate_scheduler_rejects_non_floats():
    model = _model()
    x, y = _data(8)
    with pytest.raises(ValueError, match="should be float"):
        model.fit(x, y, callbacks=[cbks.LearningRateScheduler(lambda e: "fast")], verbose=0)


# ------------------------------------------------------------------ files and servers

def test_csv_logger_writes_and_appends(tmp_path):
    path = tmp_path / "training.log"
    model = _model()
    x, y = _data(8)
    h = model.fit(x, y, epochs=3, validation_data=(x, y), callbacks=[cbks.CSVLogger(path)],
                  verbose=0)
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["epoch", "loss", "mae", "val_loss", "val_mae"]
    assert [int(r["epoch"]) for r in rows] == [0, 1, 2]
    for key in ("loss", "mae", "val_loss", "val_mae"):
        assert [float(r[key]) for r in rows] == h.history[key]
    model.fit(x, y, epochs=2, validation_data=(x, y),
              callbacks=[cbks.CSVLogger(path, separator=";", append=True)], verbose=0)
    lines = path.read_text().splitlines()
    assert len(lines) == 6 and lines[4].startswith("0;") and lines[5].startswith("1;")


class _Collector(http.server.BaseHTTPRequestHandler):
    received = []
    received_headers = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((self.path, self.headers["Content-Type"], body.decode()))
        self.received_headers.append(dict(self.headers))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def http_server():
    _Collector.received = []
    _Collector.received_headers = []
    server = http.server.HTTPServer(("127.0.0.1", 0), _Collector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _Collector.received
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("send_as_json", [False, True])
def test_remote_monitor_posts_epoch_logs(http_server, send_as_json):
    root, received = http_server
    model = _model()
    x, y = _data(8)
    monitor = cbks.RemoteMonitor(root=root, send_as_json=send_as_json)
    h = model.fit(x, y, epochs=2, callbacks=[monitor], verbose=0)
    assert len(received) == 2
    for epoch, (path, content_type, body) in enumerate(received):
        assert path == "/publish/epoch/end/"
        if send_as_json:
            assert content_type == "application/json"
            payload = json.loads(body)
        else:
            assert content_type == "application/x-www-form-urlencoded"
            payload = json.loads(urllib.parse.parse_qs(body)["data"][0])
        assert payload == {"epoch": epoch, "loss": h.history["loss"][epoch],
                           "mae": h.history["mae"][epoch]}


def test_remote_monitor_path_field_and_headers(http_server):
    root, received = http_server
    model = _model()
    x, y = _data(8)
    monitor = cbks.RemoteMonitor(root=root, path="/api/logs", field="payload",
                                 headers={"X-Run": "seed-004"})
    h = model.fit(x, y, epochs=1, callbacks=[monitor], verbose=0)
    assert [r[0] for r in received] == ["/api/logs"]  # root + path
    assert _Collector.received_headers[0]["X-Run"] == "seed-004"
    payload = json.loads(urllib.parse.parse_qs(received[0][2])["payload"][0])
    assert payload["loss"] == h.history["loss"][0]


def test_remote_monitor_warns_when_the_server_is_unreachable():
    import socket
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    model = _model()
    x, y = _data(8)
    with pytest.warns(TkerasWarning, match="could not reach RemoteMonitor"):
        model.fit(x, y, epochs=1, verbose=0,
                  callbacks=[cbks.RemoteMonitor(root=f"http://127.0.0.1:{port}")])


def test_tensorboard_event_files_read_back(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    model = _model()
    x, y = _data(8)
    h = model.fit(x, y, epochs=3, validation_data=(x, y), verbose=0,
                  callbacks=[cbks.TensorBoard(log_dir=str(tmp_path), histogram_freq=2)])
    train = EventAccumulator(str(tmp_path / "train"), size_guidance={"histograms": 0})
    train.Reload()
    val = EventAccumulator(str(tmp_path / "validation"))
    val.Reload()
    assert {"epoch_loss", "epoch_mae"} <= set(train.Tags()["scalars"])
    np.testing.assert_allclose([e.value for e in train.Scalars("epoch_loss")], h.history["loss"],
                               rtol=1e-6)
    assert [e.step for e in train.Scalars("epoch_loss")] == [0, 1, 2]
    np.testing.assert_allclose([e.value for e in val.Scalars("epoch_loss")],
                               h.history["val_loss"], rtol=1e-6)
    names = [w._keras_name.replace(":", "_") for w in model.weights]
    assert set(names) <= set(train.Tags()["histograms"])
    assert [e.step for e in train.Histograms(names[0])] == [0, 2]  # histogram_freq=2
    assert train.Tags()["graph"]


def test_tensorboard_batch_scalars_with_update_freq(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    model = _model()
    x, y = _data(8)
    model.fit(x, y, epochs=2, batch_size=2, verbose=0,
              callbacks=[cbks.TensorBoard(log_dir=str(tmp_path), update_freq=2,
                                          write_graph=False)])
    train = EventAccumulator(str(tmp_path / "train"))
    train.Reload()
    assert [e.step for e in train.Scalars("batch_loss")] == [2, 4, 6, 8]


# ------------------------------------------------------------------ NaN and progress bar

def test_terminate_on_nan_stops_at_the_first_nan_batch(capsys):
    model = _model()
    x, y = _data(12)
    x[5, 0] = np.nan  # second batch of 4
    batches = []
    h = model.fit(x, y, batch_size=4, epochs=3, verbose=0, shuffle=False,
                  callbacks=[cbks.TerminateOnNaN(),
                             cbks.LambdaCallback(on_batch_end=lambda b, logs: batches.append(b))])
    assert batches == [0, 1] and h.epoch == [0] and np.isnan(h.history["loss"][0])
    assert "Batch 1: Invalid loss, terminating training" in capsys.readouterr().out


_FINAL = re.compile(r"^(\d+)/(\d+) \[=+\] - \d+s \d+(s|ms|us)/step - loss: \d+\.\d{4} "
                    r"- mae: \d+\.\d{4}$")
_VERBOSE2 = re.compile(r"^(\d+)/(\d+) - \d+s - loss: \d+\.\d{4} - mae: \d+\.\d{4} "
                       r"- \d+(s|ms|us)/epoch - \d+(s|ms|us)/step$")


def test_progress_bar_in_a_log_file_prints_the_final_line_of_each_epoch(capsys):
    model = _model()
    x, y = _data(40)
    model.fit(x, y, batch_size=8, epochs=2, verbose=1)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2" and len(lines) == 4
    for line in (lines[1], lines[3]):
        match = _FINAL.match(line)
        assert match and match.group(1) == match.group(2) == "5", line
    model.fit(x, y, batch_size=8, epochs=1, verbose=2)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 and _VERBOSE2.match(lines[0]), lines
    model.evaluate(x, y, batch_size=8, verbose=1)
    assert _FINAL.match(capsys.readouterr().out.strip())


def test_progress_bar_redraws_in_place_in_a_terminal(monkeypatch):
    import io

    from tkeras.utils import generic_utils
    monkeypatch.setattr(generic_utils, "_dynamic_display", lambda: True)
    out = io.StringIO()
    bar = generic_utils.Progbar(4, interval=0.0, file=out)
    for step in range(1, 5):
        bar.update(step, [("loss", 1.0 / step)])
    text = out.getvalue()
    assert text.count("\r") == 4 and text.endswith("\n")
    assert "1/4 [======>.......................] - ETA: " in text
    final = text.split("\r")[-1]
    assert final.startswith("4/4 [==============================] - 0s ")
    # the shown loss is the mean over steps (the values are per step)
    assert final.rstrip().endswith("- loss: %.4f" % np.mean([1, 1 / 2, 1 / 3, 1 / 4]))


def test_progress_bar_redraws_in_a_notebook_and_not_in_a_plain_pipe(monkeypatch):
    import io
    import sys
    import types

    from tkeras.utils import generic_utils
    monkeypatch.setattr(sys, "stdout", io.StringIO())  # not a terminal
    monkeypatch.delenv("PYCHARM_HOSTED", raising=False)
    monkeypatch.delitem(sys.modules, "ipykernel", raising=False)

    def drawn():
        out = io.StringIO()
        bar = generic_utils.Progbar(3, interval=0.0, file=out)
        for step in range(1, 4):
            bar.update(step, [("loss", 1.0)])
        return out.getvalue()

    piped = drawn()
    assert "\r" not in piped and piped.count("\n") == 1  # a log file gets the final line only
    assert piped.startswith("3/3 [==============================]")
    monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))  # Jupyter
    in_notebook = drawn()
    assert in_notebook.count("\r") == 3 and in_notebook.endswith("\n")


def test_progbar_throttles_redraws(monkeypatch):
    import io

    from tkeras.utils import generic_utils
    monkeypatch.setattr(generic_utils, "_dynamic_display", lambda: True)
    clock = [0.0]
    out = io.StringIO()
    bar = generic_utils.Progbar(100, interval=0.1, file=out)
    bar._clock = lambda: clock[0]
    for step in range(1, 101):
        clock[0] = step * 0.01  # 10 ms per step: one redraw every 10 steps
        bar.update(step)
    assert 9 <= out.getvalue().count("\r") <= 11


def test_base_logger_keeps_epoch_averages_and_averages_extra_batch_values():
    logger = cbks.BaseLogger()
    logger.set_params({"metrics": ["loss"]})
    logger.on_epoch_begin(0)
    logger.on_batch_end(0, {"size": 2, "loss": 1.0, "extra": 4.0})
    logger.on_batch_end(1, {"size": 6, "loss": 0.5, "extra": 0.0})
    logs = {"loss": 0.5}
    logger.on_epoch_end(0, logs)
    assert logs == {"loss": 0.5, "extra": 1.0}


def test_history_across_fits_and_callback_type_errors():
    model = _model()
    x, y = _data(8)
    first = model.fit(x, y, epochs=2, verbose=0)
    second = model.fit(x, y, epochs=1, verbose=0)
    assert first is not second and len(first.history["loss"]) == 2 and second.epoch == [0]
    with pytest.raises(TypeError, match="Callback"):
        model.fit(x, y, callbacks=[print], verbose=0)


def test_predict_batch_logs_hold_the_outputs_as_numpy():
    model = _model()
    x, _ = _data(10)
    outputs = []
    model.predict(x, batch_size=4, callbacks=[cbks.LambdaCallback(
        on_predict_batch_end=lambda batch, logs: outputs.append(logs["outputs"][0]))])
    np.testing.assert_allclose(np.concatenate(outputs), model.predict(x), rtol=1e-6)
    assert [len(o) for o in outputs] == [4, 4, 2]


def test_tensorboard_without_the_package_says_what_to_install(monkeypatch, tmp_path):
    import sys
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # import fails
    with pytest.raises(ImportError, match="needs the `tensorboard` package: `pip install "
                                          "tensorboard`"):
        cbks.TensorBoard(log_dir=str(tmp_path))
