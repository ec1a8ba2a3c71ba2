"""ModelCheckpoint: filepath templates, save_best_only with min / max / auto modes, period and
save_freq, weights-only or whole-model files, Keras 2's messages, and the seed 001 / 004
patterns with ``fit`` (load the last checkpoint if it exists, then train with a checkpoint)."""
import os

import numpy as np
import pytest

import tkeras
from tkeras._warn import TkerasWarning
from tkeras.callbacks import LambdaCallback, ModelCheckpoint
from tkeras.layers import Dense
from tkeras.models import Sequential, load_model

X = np.random.RandomState(0).standard_normal((32, 4)).astype(np.float32)
Y = (X[:, :1] > 0).astype(np.float32)


def _model():
    return Sequential([Dense(6, activation="relu", input_shape=(4,)),
                       Dense(1, activation="sigmoid")])


def _drive(callback, model, epoch_logs, batches_per_epoch=0):
    """Runs the callback's hooks as fit would, with given logs, changing the weights each
    epoch so that every save can be told apart; returns the weights at each epoch end."""
    callback.set_model(model)
    callback.on_train_begin({})
    snapshots = []
    for epoch, logs in enumerate(epoch_logs):
        callback.on_epoch_begin(epoch, {})
        model.set_weights([np.full(w.shape, epoch + 1, np.float32) for w in model.get_weights()])
        for batch in range(batches_per_epoch):
            callback.on_train_batch_begin(batch, {})
            callback.on_train_batch_end(batch, {"loss": 0.5})
        snapshots.append(model.get_weights())
        callback.on_epoch_end(epoch, dict(logs))
    callback.on_train_end({})
    return snapshots


def _weights_in(path):
    model = _model()
    model.load_weights(path)
    return model.get_weights()


def _assert_weights(actual, expected):
    assert len(actual) == len(expected)
    for a, b in zip(actual, expected):
        np.testing.assert_array_equal(a, b)


def test_filepath_template_with_epoch_and_logged_values(tmp_path):
    template = str(tmp_path / "weights.{epoch:02d}-{val_loss:.2f}.hdf5")
    logs = [{"val_loss": 0.91234}, {"val_loss": np.float32(0.5)}, {"val_loss": 0.25}]
    checkpoint = ModelCheckpoint(template, save_weights_only=True)
    snapshots = _drive(checkpoint, _model(), logs)
    assert sorted(os.listdir(tmp_path)) == ["weights.01-0.91.hdf5", "weights.02-0.50.hdf5",
                                            "weights.03-0.25.hdf5"]
    _assert_weights(_weights_in(str(tmp_path / "weights.02-0.50.hdf5")), snapshots[1])


@pytest.mark.parametrize("monitor,mode,values,saved_epochs", [
    ("val_loss", "auto", [0.5, 0.7, 0.4, 0.4], [1, 3]),
    ("val_loss", "min", [0.5, 0.7, 0.4, 0.4], [1, 3]),
    ("val_acc", "auto", [0.5, 0.7, 0.4, 0.8], [1, 2, 4]),
    ("val_accuracy", "max", [0.5, 0.7, 0.4, 0.8], [1, 2, 4]),
    ("loss", "max", [0.5, 0.7, 0.4, 0.8], [1, 2, 4]),
])
def test_save_best_only(monitor, mode, values, saved_epochs, tmp_path):
    template = str(tmp_path / "best.{epoch}.h5")
    checkpoint = ModelCheckpoint(template, monitor=monitor, mode=mode, save_best_only=True,
                                 save_weights_only=True)
    snapshots = _drive(checkpoint, _model(), [{monitor: v} for v in values])
    assert sorted(os.listdir(tmp_path)) == sorted(f"best.{e}.h5" for e in saved_epochs)
    assert checkpoint.best == (min if checkpoint.monitor_op is np.less else max)(values)
    for e in saved_epochs:
        _assert_weights(_weights_in(template.format(epoch=e)), snapshots[e - 1])


def test_save_best_only_keeps_the_best_model_in_one_file(tmp_path):
    path = str(tmp_path / "best.hdf5")
    checkpoint = ModelCheckpoint(path, save_best_only=True)
    snapshots = _drive(checkpoint, _model(), [{"val_loss": v} for v in (0.6, 0.3, 0.9, 0.4)])
    best = load_model(path)  # a whole model: the one of epoch 2
    _assert_weights(best.get_weights(), snapshots[1])


def test_initial_value_threshold(tmp_path):
    checkpoint = ModelCheckpoint(str(tmp_path / "b{epoch}.h5"), save_best_only=True,
                                 save_weights_only=True, initial_value_threshold=0.35)
    _drive(checkpoint, _model(), [{"val_loss": v} for v in (0.5, 0.4, 0.3)])
    assert os.listdir(tmp_path) == ["b3.h5"]


def test_period_saves_every_n_epochs(tmp_path):
    checkpoint = ModelCheckpoint(str(tmp_path / "w{epoch}.h5"), save_weights_only=True,
                                 period=2)
    _drive(checkpoint, _model(), [{"val_loss": 1.0}] * 5)
    assert sorted(os.listdir(tmp_path)) == ["w2.h5", "w4.h5"]


def test_save_freq_in_batches(tmp_path):
    checkpoint = ModelCheckpoint(str(tmp_path / "w{epoch}-{batch}.h5"), save_weights_only=True,
                                 save_freq=3)
    assert checkpoint._implements_batch_hooks("train")
    _drive(checkpoint, _model(), [{"val_loss": 1.0}] * 2, batches_per_epoch=4)
    # 8 batches, a save after batches 3 and 6 of the run: epoch 1 batch 3, epoch 2 batch 2
    assert sorted(os.listdir(tmp_path)) == ["w1-3.h5", "w2-2.h5"]


def test_epoch_checkpoints_cost_nothing_per_batch(tmp_path):
    checkpoint = ModelCheckpoint(str(tmp_path / "w.h5"))
    assert not checkpoint._implements_batch_hooks("train")


def test_whole_model_and_keras_zip_checkpoints(tmp_path):
    for name in ("model.h5", "model.keras"):
        path = str(tmp_path / name)
        snapshots = _drive(ModelCheckpoint(path), _model(), [{"val_loss": 1.0}])
        _assert_weights(load_model(path).get_weights(), snapshots[-1])


def test_verbose_messages_are_keras_2s(tmp_path, capsys):
    path = str(tmp_path / "w.h5")
    _drive(ModelCheckpoint(path, verbose=1, save_best_only=True, save_weights_only=True),
           _model(), [{"val_loss": 0.5}, {"val_loss": 0.7}])
    _drive(ModelCheckpoint(path, verbose=1, save_weights_only=True), _model(),
           [{"val_loss": 0.5}])
    out = capsys.readouterr().out
    assert f"Epoch 00001: val_loss improved from inf to 0.50000, saving model to {path}" in out
    assert "Epoch 00002: val_loss did not improve from 0.50000" in out
    assert f"Epoch 00001: saving model to {path}" in out


def test_missing_monitor_warns_and_skips(tmp_path):
    checkpoint = ModelCheckpoint(str(tmp_path / "w.h5"), monitor="val_acc", save_best_only=True)
    with pytest.warns(TkerasWarning, match="Can save best model only with val_acc available"):
        _drive(checkpoint, _model(), [{"loss": 0.3}])
    assert not os.listdir(tmp_path)


def test_bad_template_field_is_reported(tmp_path):
    checkpoint = ModelCheckpoint(str(tmp_path / "w.{val_auc:.2f}.h5"))
    with pytest.raises(KeyError, match="Failed to format this callback filepath.*val_auc"):
        _drive(checkpoint, _model(), [{"val_loss": 0.3}])


@pytest.mark.parametrize("kwargs", [{"save_freq": "batch"}, {"save_freq": 0}, {"period": 0}])
def test_bad_frequencies(kwargs, tmp_path):
    with pytest.raises(ValueError, match="save_freq|period"):
        ModelCheckpoint(str(tmp_path / "w.h5"), **kwargs)


def test_unknown_mode_warns(tmp_path):
    with pytest.warns(TkerasWarning, match="mode sideways is unknown"):
        ModelCheckpoint(str(tmp_path / "w.h5"), mode="sideways")


# ------------------------------------------------------------------ with fit

def _compiled():
    model = _model()
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["acc"])
    return model


def test_seed_001_resume_pattern(tmp_path):
    """if os.path.exists(path): model.load_weights(path); model.fit(..., callbacks=[ckpt])"""
    path = str(tmp_path / "weights.best.hdf5")
    for run in range(2):
        tkeras.backend.clear_session()
        model = _compiled()
        if os.path.exists(path):
            assert run == 1
            model.load_weights(path)
            _assert_weights(model.get_weights(), _weights_in(path))
        checkpoint = ModelCheckpoint(path, monitor="val_acc", verbose=0, save_best_only=True,
                                     save_weights_only=True, mode="max")
        model.fit(X, Y, validation_split=0.25, epochs=3, batch_size=8, callbacks=[checkpoint],
                  verbose=0)
        assert os.path.exists(path)


def test_seed_004_example_with_fit(tmp_path):
    path = str(tmp_path / "weights.hdf5")
    model = _compiled()
    checkpointer = ModelCheckpoint(filepath=path, verbose=1, save_best_only=True)
    snapshots = []
    keep = LambdaCallback(on_epoch_end=lambda epoch, logs: snapshots.append(model.get_weights()))
    history = model.fit(X, Y, batch_size=8, epochs=3, verbose=0, validation_data=(X, Y),
                        callbacks=[keep, checkpointer])
    best_epoch = int(np.argmin(history.history["val_loss"]))
    assert checkpointer.best == pytest.approx(history.history["val_loss"][best_epoch])
    loaded = load_model(path)
    _assert_weights(loaded.get_weights(), snapshots[best_epoch])  # the best epoch's weights


def test_templated_checkpoints_during_fit(tmp_path):
    model = _compiled()
    template = str(tmp_path / "weights.{epoch:02d}-{val_loss:.2f}.hdf5")
    history = model.fit(X, Y, batch_size=8, epochs=2, verbose=0, validation_data=(X, Y),
                        callbacks=[ModelCheckpoint(template, save_weights_only=True)])
    expected = [template.format(epoch=e + 1, val_loss=v)
                for e, v in enumerate(history.history["val_loss"])]
    assert sorted(os.listdir(tmp_path)) == sorted(os.path.basename(p) for p in expected)
    _assert_weights(_weights_in(expected[-1]), model.get_weights())
