"""What a failed save says and what a save leaves on disk (issue 9, sections 4 and 5).

A save that fails for an I/O reason (file too large, disk full, a parent path that is a
file, a read-only folder) raises an ``OSError`` naming the path the user gave, never the
temporary file nor a raw HDF5 ref-count error, and leaves nothing behind. Saved files get
the permissions of an ordinary ``open(path, "w")``; temporary files of a killed save are
removed by the next save to the same path.
"""
import errno
import os
import signal
import subprocess
import sys
import textwrap
import zipfile

import h5py
import numpy as np
import pytest

from test_saving_state_dict_and_atomic import _CHILD, _run_until_midway
from tkeras.callbacks import ModelCheckpoint
from tkeras.layers import Dense
from tkeras.models import Sequential, load_model
from tkeras.saving import atomic

SAVES = [("model.h5", "save"), ("model.keras", "save"), ("weights.h5", "save_weights")]
X = np.random.RandomState(0).standard_normal((8, 4)).astype(np.float32)


def _model():
    return Sequential([Dense(8, input_shape=(4,)), Dense(2)])


def _assert_names_target(error, path, reason):
    text = str(error)
    assert f"Unable to save to {path}: {reason}" in text
    assert atomic._TMP_MARK not in text and "ref count" not in text


# ------------------------------------------------------------------ failed saves

_EFBIG_CHILD = textwrap.dedent("""
    import os, resource, signal, sys
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # over the limit, write() fails with EFBIG
    from tkeras.layers import Dense
    from tkeras.models import Sequential
    folder, name, method = sys.argv[1:]
    model = Sequential([Dense(256, input_shape=(256,)), Dense(256)])
    resource.setrlimit(resource.RLIMIT_FSIZE, (20000, 20000))
    try:
        getattr(model, method)(os.path.join(folder, name))
    except BaseException as e:
        print(type(e).__name__, e.errno if isinstance(e, OSError) else None, str(e))
    else:
        print("SAVED")
""")


@pytest.mark.parametrize("name,method", SAVES)
def test_file_too_large_is_an_oserror_naming_the_target(name, method, tmp_path):
    """A real EFBIG (a file-size limit in a child process): h5py would report it as
    "Can't decrement id ref count (unable to extend file properly, errno = 27 ...)"."""
    result = subprocess.run([sys.executable, "-c", _EFBIG_CHILD, str(tmp_path), name, method],
                            capture_output=True, text=True, timeout=300,
                            cwd=os.path.dirname(__file__))
    assert result.returncode == 0, result.stderr[-2000:]
    path = os.path.join(str(tmp_path), name)
    kind, code, text = result.stdout.strip().split(" ", 2)
    assert (kind, code) == ("OSError", str(errno.EFBIG))
    _assert_names_target(text, path, "File too large")
    assert os.listdir(tmp_path) == []


_H5PY_DISK_FULL = ("Can't write data (file write failed: time = Mon Dec  7 12:00:00 2026, "
                   "filename = '/tmp/.model.h5.tkeras-tmp.1.ab', file descriptor = 5, errno = 28, "
                   "error message = 'No space left on device', buf = 0x1, total write size = 64)")


@pytest.mark.parametrize("error", [OSError(_H5PY_DISK_FULL),
                                   RuntimeError("Can't decrement id ref count (unable to flush "
                                                "file, errno = 28, error message = 'No space "
                                                "left on device')")])
@pytest.mark.parametrize("name,method", [("model.h5", "save"), ("weights.h5", "save_weights")])
def test_disk_full_in_hdf5_is_an_oserror_naming_the_target(name, method, error, tmp_path,
                                                           monkeypatch):
    model = _model()
    path = str(tmp_path / name)
    getattr(model, method)(path)
    before = open(path, "rb").read()

    def full(self, *args, **kwargs):
        raise error

    monkeypatch.setattr(h5py.Group, "create_dataset", full)
    with pytest.raises(OSError) as info:
        getattr(model, method)(path)
    assert info.value.errno == errno.ENOSPC
    _assert_names_target(info.value, path, "No space left on device")
    monkeypatch.undo()
    assert open(path, "rb").read() == before
    assert os.listdir(tmp_path) == [name]


def test_disk_full_in_a_keras_zip_is_an_oserror_naming_the_target(tmp_path, monkeypatch):
    path = str(tmp_path / "model.keras")

    def full(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(zipfile.ZipFile, "writestr", full)
    with pytest.raises(OSError) as info:
        _model().save(path)
    assert info.value.errno == errno.ENOSPC
    _assert_names_target(info.value, path, "No space left on device")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("name,method", SAVES)
def test_parent_path_that_is_a_file(name, method, tmp_path):
    (tmp_path / "afile").write_text("not a folder")
    for path in (str(tmp_path / "afile" / name), str(tmp_path / "afile" / "sub" / name)):
        with pytest.raises(NotADirectoryError) as info:
            getattr(_model(), method)(path)
        assert f"Unable to save to {path}: a parent of it is a file, not a folder" \
            in str(info.value)
    assert (tmp_path / "afile").read_text() == "not a folder"


@pytest.mark.parametrize("step", ["create", "rename"])
@pytest.mark.parametrize("name,method", SAVES)
def test_read_only_folder_is_a_permission_error_naming_the_target(name, method, step, tmp_path,
                                                                  monkeypatch):
    """Tests run as root, which a chmod 0o555 folder does not stop: the refusal is
    simulated where the operating system would give it (creating the temporary file in
    the folder, or renaming it over the target)."""
    path = str(tmp_path / name)
    real_open, real_replace = os.open, os.replace

    def refuse_open(file, *args, **kwargs):
        if step == "create" and atomic._TMP_MARK in os.fspath(file):
            raise PermissionError(errno.EACCES, "Permission denied", file)
        return real_open(file, *args, **kwargs)

    def refuse_replace(src, dst, *args, **kwargs):
        if step == "rename":
            raise PermissionError(errno.EACCES, "Permission denied", src, None, dst)
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "open", refuse_open)
    monkeypatch.setattr(os, "replace", refuse_replace)
    with pytest.raises(PermissionError) as info:
        getattr(_model(), method)(path)
    _assert_names_target(info.value, path, "Permission denied")
    monkeypatch.undo()
    assert os.listdir(tmp_path) == []


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0,
                    reason="root ignores folder permissions (simulated in the test above)")
def test_real_read_only_folder(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        path = str(folder / "model.h5")
        with pytest.raises(PermissionError) as info:
            _model().save(path)
        _assert_names_target(info.value, path, "Permission denied")
    finally:
        folder.chmod(0o755)


def test_errors_that_are_not_io_pass_through(tmp_path, monkeypatch):
    def broken(self, *args, **kwargs):
        raise ValueError("a bug, not a disk")

    monkeypatch.setattr(h5py.Group, "create_dataset", broken)
    with pytest.raises(ValueError, match="a bug, not a disk"):
        _model().save(str(tmp_path / "m.h5"))
    assert os.listdir(tmp_path) == []


# ------------------------------------------------------------------ permissions

def _mode(path):
    return os.stat(path).st_mode & 0o777


@pytest.fixture
def umask():
    previous = os.umask(0o022)
    yield lambda mask: os.umask(mask)
    os.umask(previous)


@pytest.mark.parametrize("name,method", SAVES)
def test_saved_files_get_ordinary_permissions(name, method, tmp_path, umask):
    path = str(tmp_path / name)
    getattr(_model(), method)(path)
    assert _mode(path) == 0o644
    umask(0o077)
    other = str(tmp_path / ("private_" + name))
    getattr(_model(), method)(other)
    assert _mode(other) == 0o600
    umask(0o022)
    os.chmod(path, 0o640)  # an existing file keeps its mode, as open(path, "w") keeps it
    getattr(_model(), method)(path)
    assert _mode(path) == 0o640


def test_checkpoints_get_ordinary_permissions(tmp_path, umask):
    model = _model()
    model.compile(optimizer="sgd", loss="mse")
    callbacks = [ModelCheckpoint(str(tmp_path / "full.{epoch}.h5")),
                 ModelCheckpoint(str(tmp_path / "w.{epoch}.h5"), save_weights_only=True),
                 ModelCheckpoint(str(tmp_path / "zip.{epoch}.keras"))]
    model.fit(X, X[:, :2], epochs=2, verbose=0, callbacks=callbacks)
    names = sorted(os.listdir(tmp_path))
    assert names == ["full.1.h5", "full.2.h5", "w.1.h5", "w.2.h5", "zip.1.keras", "zip.2.keras"]
    assert {name: _mode(tmp_path / name) for name in names} == {name: 0o644 for name in names}


# ------------------------------------------------------------------ stale temporary files

@pytest.mark.parametrize("filename,method", [("ckpt.h5", "save"), ("ckpt.keras", "save"),
                                              ("ckpt_weights.h5", "save_weights")])
def test_next_save_removes_what_a_killed_save_left(filename, method, tmp_path):
    path = str(tmp_path / filename)
    assert _run_until_midway(_CHILD, path, method) == -signal.SIGKILL
    leftovers = [n for n in os.listdir(tmp_path) if n != filename]
    assert len(leftovers) == 1 and leftovers[0].startswith(f".{filename}{atomic._TMP_MARK}")
    model = Sequential([Dense(256, input_shape=(64,)), Dense(256), Dense(3)])
    getattr(model, method)(path)
    assert os.listdir(tmp_path) == [filename]
    if method == "save":
        assert load_model(path).count_params() == model.count_params()


def _dead_pid():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_only_the_targets_temporaries_of_dead_processes_are_removed(tmp_path):
    path = str(tmp_path / "model.h5")
    dead = _dead_pid()
    stale = f".model.h5{atomic._TMP_MARK}{dead}.0a1b2c3d"
    live = f".model.h5{atomic._TMP_MARK}{os.getppid()}.0a1b2c3d"  # a running process
    other_target = f".other.h5{atomic._TMP_MARK}{dead}.0a1b2c3d"
    user_file = ".model.h5.backup"
    for name in (stale, live, other_target, user_file):
        (tmp_path / name).write_text("x")
    _model().save(path)
    assert sorted(os.listdir(tmp_path)) == sorted([live, other_target, user_file, "model.h5"])
