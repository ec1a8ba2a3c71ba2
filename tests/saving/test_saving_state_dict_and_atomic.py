"""torch interop (``state_dict`` / ``load_state_dict`` on tkeras models) and atomic saves:
a process killed in the middle of writing a file leaves the previous file intact."""
import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from saving_test_utils import predict

from tkeras.layers import BatchNormalization, Dense, Input
from tkeras.models import Model, Sequential, load_model

X = np.random.RandomState(5).standard_normal((6, 4)).astype(np.float32)


def _bytes(path) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def _bn_model():
    inputs = Input(shape=(4,))
    x = BatchNormalization()(Dense(5, activation="relu")(inputs))
    model = Model(inputs, Dense(2)(x))
    rng = np.random.RandomState(1)
    model.set_weights([np.abs(rng.standard_normal(w.shape)).astype(np.float32) + 0.1
                       for w in model.get_weights()])
    return model


def test_state_dict_holds_every_weight():
    model = _bn_model()
    state = model.state_dict()
    assert len(state) == len(model.weights)  # moving statistics included
    values = sorted(tuple(v.flatten().tolist()) for v in state.values())
    expected = sorted(tuple(w.flatten().tolist()) for w in model.get_weights())
    assert values == expected


def test_load_state_dict_into_a_model_built_by_the_same_code():
    model = _bn_model()
    inputs = Input(shape=(4,))
    x = BatchNormalization()(Dense(5, activation="relu")(inputs))
    other = Model(inputs, Dense(2)(x))
    assert set(other.state_dict()) == set(model.state_dict())  # keys do not depend on names
    other.load_state_dict(model.state_dict())
    np.testing.assert_array_equal(predict(other, [X])[0], predict(model, [X])[0])


def test_state_dict_survives_torch_save_with_weights_only(tmp_path):
    model = _bn_model()
    path = str(tmp_path / "state.pt")
    torch.save(model.state_dict(), path)
    fresh = _bn_model()
    fresh.set_weights([np.zeros_like(w) for w in fresh.get_weights()])
    fresh.load_state_dict(torch.load(path, weights_only=True))
    np.testing.assert_array_equal(predict(fresh, [X])[0], predict(model, [X])[0])


def test_state_dict_of_a_loaded_model_matches(tmp_path):
    model = _bn_model()
    path = str(tmp_path / "model.h5")
    model.save(path)
    loaded = load_model(path)
    for key, value in model.state_dict().items():
        torch.testing.assert_close(loaded.state_dict()[key], value, rtol=0, atol=0)


def test_load_state_dict_rejects_another_architecture():
    model = _bn_model()
    other = Sequential([Dense(3, input_shape=(4,))])
    with pytest.raises(RuntimeError, match="Missing key|Unexpected key|size mismatch"):
        other.load_state_dict(model.state_dict())


# ------------------------------------------------------------------ atomic writes

_CHILD = textwrap.dedent("""
    import sys, time
    import h5py, numpy as np
    import tkeras.layers  # noqa
    from tkeras.layers import Dense
    from tkeras.models import Sequential

    path, method = sys.argv[1], sys.argv[2]
    model = Sequential([Dense(256, input_shape=(64,)), Dense(256), Dense(3)])
    model.set_weights([np.full(w.shape, 7.0, np.float32) for w in model.get_weights()])
    original = h5py.Group.create_dataset
    written = []

    def create_then_stall(self, *args, **kwargs):
        written.append(args[0])
        if len(written) == 3:  # the file is half written: announce it and hang
            print("MIDWAY", flush=True)
            time.sleep(60)
        return original(self, *args, **kwargs)

    h5py.Group.create_dataset = create_then_stall
    getattr(model, method)(path)
    print("FINISHED", flush=True)
""")


def _run_until_midway(code: str, *args: str):
    """Starts ``code`` in a child process, waits for it to print MIDWAY (it is then in the
    middle of writing a file), SIGKILLs it and returns its exit code."""
    child = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, cwd=os.path.dirname(__file__))
    try:
        line = child.stdout.readline().strip()
        assert line == "MIDWAY", child.stderr.read()
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
        child.stdout.close()
        child.stderr.close()
    return child.returncode


@pytest.mark.parametrize("filename,method", [("ckpt.h5", "save"), ("ckpt.keras", "save"),
                                              ("ckpt_weights.h5", "save_weights")])
def test_killed_save_leaves_previous_checkpoint_intact(filename, method, tmp_path):
    path = str(tmp_path / filename)
    model = Sequential([Dense(256, input_shape=(64,)), Dense(256), Dense(3)])
    getattr(model, method)(path)  # the last good checkpoint
    before = _bytes(path)
    returncode = _run_until_midway(_CHILD, path, method)
    assert returncode == -signal.SIGKILL
    assert _bytes(path) == before
    assert [n for n in os.listdir(tmp_path) if n != filename], \
        "the killed save should have been writing a temporary file next to the checkpoint"
    x = np.random.RandomState(0).standard_normal((2, 64)).astype(np.float32)
    if method == "save":
        restored = load_model(path)
    else:
        restored = Sequential([Dense(256, input_shape=(64,)), Dense(256), Dense(3)])
        restored.load_weights(path)
    np.testing.assert_array_equal(predict(restored, [x])[0], predict(model, [x])[0])


_FIT_CHILD = textwrap.dedent("""
    import os, shutil, sys, time
    import h5py, numpy as np
    import tkeras
    from tkeras.callbacks import ModelCheckpoint
    from tkeras.layers import Dense
    from tkeras.models import Sequential

    path = sys.argv[1]
    model = Sequential([Dense(64, activation="relu", input_shape=(8,)), Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    original = h5py.Group.create_dataset

    def stall_in_second_save(self, *args, **kwargs):
        if os.path.exists(path):  # epoch 1's checkpoint exists: this is epoch 2's save
            shutil.copyfile(path, path + ".epoch1")
            print("MIDWAY", flush=True)
            time.sleep(60)
        return original(self, *args, **kwargs)

    h5py.Group.create_dataset = stall_in_second_save
    x = np.random.RandomState(0).standard_normal((32, 8)).astype(np.float32)
    model.fit(x, x[:, :1], epochs=2, batch_size=8, verbose=0,
              callbacks=[ModelCheckpoint(path)])
    print("FINISHED", flush=True)
""")


def test_fit_killed_during_a_checkpoint_keeps_the_previous_one(tmp_path):
    """A training process killed while ModelCheckpoint writes epoch 2's file: epoch 1's
    checkpoint is still there, byte for byte, and loads."""
    path = str(tmp_path / "checkpoint.h5")
    assert _run_until_midway(_FIT_CHILD, path) == -signal.SIGKILL
    assert _bytes(path) == _bytes(path + ".epoch1")
    model = load_model(path)
    assert [w.shape for w in model.get_weights()] == [(8, 64), (64,), (64, 1), (1,)]


@pytest.mark.parametrize("filename,method", [("model.h5", "save"), ("model.keras", "save"),
                                             ("weights.h5", "save_weights")])
def test_save_that_fails_midway_leaves_the_previous_file(filename, method, tmp_path,
                                                         monkeypatch):
    """An exception in the middle of writing (after some weights are written) leaves the
    previous file byte-identical and loadable, and no temporary file behind."""
    import h5py
    model = _bn_model()
    path = str(tmp_path / filename)
    getattr(model, method)(path)
    before, expected = _bytes(path), model.predict(X, verbose=0)
    written = []
    real_create = h5py.Group.create_dataset

    def failing_create(self, *args, **kwargs):
        if len(written) == 3:
            raise OSError("disk full (simulated)")
        written.append(args[0] if args else kwargs.get("name"))
        return real_create(self, *args, **kwargs)

    monkeypatch.setattr(h5py.Group, "create_dataset", failing_create)
    model.set_weights([w * 2 for w in model.get_weights()])
    with pytest.raises(OSError, match="disk full"):
        getattr(model, method)(path)
    monkeypatch.undo()
    assert len(written) == 3  # the failure came after real writes
    assert _bytes(path) == before
    assert os.listdir(tmp_path) == [filename]
    if method == "save":
        loaded = load_model(path)
    else:
        loaded = _bn_model()
        loaded.load_weights(path)
    np.testing.assert_allclose(loaded.predict(X, verbose=0), expected, rtol=1e-6)
