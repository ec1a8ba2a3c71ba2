"""Atomic saves: every file tkeras writes (``model.save``, ``save_weights``, checkpoints) is
written to a temporary file beside the target and renamed over it only when complete, so a
crash or a kill at any moment leaves the previous file intact.

* The temporary file is ``.<target name>.tkeras-tmp.<pid>.<random>``: recognisably the
  target's, so the next save to that path removes those a killed process left behind
  (those of processes still running are left alone).
* The saved file gets the permissions an ordinary ``open(path, "w")`` would give: those of
  the file it replaces, or ``0o666`` less the umask for a new file (not ``mkstemp``'s 0o600).
* A failed save (disk full, file too large, a parent path that is a file, a read-only folder)
  raises an ``OSError`` that names the path the caller gave, whatever the layer that failed
  (h5py reports a full disk as a ref-count error while closing the file).
"""
from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import stat
import threading
from typing import Iterator, Optional, Set

_TMP_MARK = ".tkeras-tmp."
_ACTIVE: Set[str] = set()  # temporary files this process is writing now
_ACTIVE_LOCK = threading.Lock()
_ERRNO_IN_TEXT = re.compile(r"errno = (\d+)")


def temporary_name(path: str, pid: Optional[int] = None) -> str:
    """``.<name>.tkeras-tmp.<pid>.<random>`` in the folder of ``path``."""
    folder, name = os.path.split(os.path.abspath(path))
    pid = os.getpid() if pid is None else pid
    return os.path.join(folder, f".{name}{_TMP_MARK}{pid}.{secrets.token_hex(4)}")


def _process_alive(pid: int) -> bool:
    if os.name == "nt":  # os.kill(pid, 0) would terminate the process there: assume alive
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True  # someone else's process, or not a pid we can ask about
    return True


def remove_stale_temporaries(path: str) -> None:
    """Removes the temporary files of saves to ``path`` whose process is gone (killed midway)."""
    folder, name = os.path.split(os.path.abspath(path))
    prefix = f".{name}{_TMP_MARK}"
    try:
        entries = os.listdir(folder)
    except OSError:
        return
    for entry in entries:
        if not entry.startswith(prefix):
            continue
        pid_text = entry[len(prefix):].split(".", 1)[0]
        if not pid_text.isdigit():
            continue
        full = os.path.join(folder, entry)
        pid = int(pid_text)
        with _ACTIVE_LOCK:
            in_use = full in _ACTIVE
        if in_use or (pid != os.getpid() and _process_alive(pid)):
            continue
        with contextlib.suppress(OSError):
            os.remove(full)


def _ordinary_mode(path: str) -> Optional[int]:
    """The mode of the file ``path`` replaces (None: a new file gets 0o666 less the umask)."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return None


def _check_folder(path: str, folder: str) -> None:
    try:
        os.makedirs(folder, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise NotADirectoryError(
            errno.ENOTDIR, f"Unable to save to {path}: a parent of it is a file, not a folder "
                           f"({folder})") from None
    except OSError as e:
        raise save_error(path, e) from None


def _errno_in(exc: BaseException) -> Optional[int]:
    code = getattr(exc, "errno", None) if isinstance(exc, OSError) else None
    if code is None:  # h5py: "... errno = 28, error message = 'No space left on device' ..."
        match = _ERRNO_IN_TEXT.search(str(exc))
        code = int(match.group(1)) if match else None
    return code


def _io_failure(exc: BaseException) -> Optional[BaseException]:
    """The I/O failure behind ``exc``: the first ``OSError`` in its chain, or an HDF5
    error (h5py raises RuntimeError "Can't decrement id ref count" when closing a file it
    could not write) that carries an errno."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) or (isinstance(exc, RuntimeError) and _errno_in(exc)):
            return exc
        exc = exc.__cause__ or exc.__context__
    return None


def save_error(path: str, exc: BaseException) -> Optional[OSError]:
    """The ``OSError`` naming ``path`` for a save that failed with ``exc`` (None if ``exc``
    is not an I/O failure)."""
    found = _io_failure(exc)
    if found is None:
        return None
    code = _errno_in(found)
    if code:
        return OSError(code, f"Unable to save to {path}: {os.strerror(code)}")
    text = getattr(found, "strerror", None) or (found.args[0] if found.args else str(found))
    return OSError(f"Unable to save to {path}: {text}")


@contextlib.contextmanager
def atomic_write(path) -> Iterator[str]:
    """Yields a temporary path beside ``path``; renamed over ``path`` only on success, so a
    crash during a save never leaves a broken file where the last good one was.

    Args:
        path: the file to write.

    Raises:
        OSError: naming ``path`` when the save fails for an I/O reason.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    _check_folder(path, folder)
    remove_stale_temporaries(path)
    tmp = temporary_name(path)
    with _ACTIVE_LOCK:
        _ACTIVE.add(tmp)
    try:
        try:
            mode = _ordinary_mode(path)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)  # umask applies
            os.close(fd)
            if mode is not None:
                os.chmod(tmp, mode)
            yield tmp
            os.replace(tmp, path)
        except BaseException as e:
            with contextlib.suppress(OSError):
                os.remove(tmp)
            error = save_error(path, e) if isinstance(e, Exception) else None
            if error is None:
                raise
            raise error from None  # names the user's path; the raw h5py error is noise
    finally:
        with _ACTIVE_LOCK:
            _ACTIVE.discard(tmp)
