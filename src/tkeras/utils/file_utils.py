"""Downloading and caching files: ``get_file``, ``validate_file`` and safe archive extraction.

Keras 2.3.1's ``keras.utils.data_utils.get_file``, with three safety changes that
tf-keras made later or that Keras lacked: the download goes to a temporary file that is
renamed into place only once complete and verified (an interrupted or corrupt download
leaves nothing in the cache), a hash mismatch after download is an error, and archive
members that would land outside the extraction folder are refused.
"""
from __future__ import annotations

import hashlib
import http.client
import os
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from typing import Callable, List, Optional, Sequence, Union

from .generic_utils import Progbar

_CHUNK = 65535
_HASH_ALGORITHMS = ("auto", "sha256", "md5")


def _check_algorithm(algorithm: str) -> None:
    if algorithm not in _HASH_ALGORITHMS:
        raise ValueError(f"`hash_algorithm` must be one of {list(_HASH_ALGORITHMS)}. "
                         f"Received: hash_algorithm={algorithm!r}")


def _resolve_algorithm(file_hash: str, algorithm: str) -> str:
    """'auto' means sha256 for a 64-character hash and md5 otherwise, as in Keras."""
    _check_algorithm(algorithm)
    if algorithm == "sha256" or (algorithm == "auto" and len(file_hash) == 64):
        return "sha256"
    return "md5"


def _hash_file(fpath: str, algorithm: str = "sha256", chunk_size: int = _CHUNK) -> str:
    """The hex digest of a file's sha256 (default; also for 'auto') or md5 hash.

    Example:
        >>> _hash_file('/path/to/file.zip')  # doctest: +SKIP
        'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'
    """
    _check_algorithm(algorithm)
    hasher = hashlib.md5() if algorithm == "md5" else hashlib.sha256()
    with open(fpath, "rb") as f:
        for chunk in iter(lambda: f.read(chunk_size), b""):
            hasher.update(chunk)
    return hasher.hexdigest()


def validate_file(fpath: str, file_hash: str, algorithm: str = "auto",
                  chunk_size: int = _CHUNK) -> bool:
    """Whether the file's sha256 or md5 hash equals ``file_hash``.

    Args:
        fpath: path of the file to check.
        file_hash: the expected hex digest (sha256 or md5).
        algorithm: 'sha256', 'md5' or 'auto' (sha256 for a 64-character hash, else md5).
        chunk_size: bytes read at a time.
    """
    hasher = _resolve_algorithm(str(file_hash), algorithm)
    return str(_hash_file(fpath, hasher, chunk_size)) == str(file_hash)


# ---------------------------------------------------------------------------------------
# Extraction


def _inside(root: str, path: str) -> bool:
    return os.path.commonpath([root, path]) == root


def _check_member_path(root: str, name: str, archive: str) -> str:
    """The real path a member named ``name`` would land at; refuses one outside ``root``."""
    target = os.path.realpath(os.path.join(root, name))
    if os.path.isabs(name) or not _inside(root, target):
        raise ValueError(f"Refusing to extract {archive!r}: member {name!r} would be written "
                         f"outside the target folder {root!r}.")
    return target


def _check_tar(archive: tarfile.TarFile, root: str, archive_path: str) -> None:
    for member in archive.getmembers():
        target = _check_member_path(root, member.name, archive_path)
        if member.issym() or member.islnk():
            base = os.path.dirname(target) if member.issym() else root
            link = os.path.realpath(os.path.join(base, member.linkname))
            if os.path.isabs(member.linkname) or not _inside(root, link):
                raise ValueError(f"Refusing to extract {archive_path!r}: link {member.name!r} "
                                 f"points outside the target folder {root!r} "
                                 f"(to {member.linkname!r}).")
        elif not (member.isfile() or member.isdir()):
            raise ValueError(f"Refusing to extract {archive_path!r}: member {member.name!r} "
                             "is a device or fifo, not a file, folder or link.")


def _extract_tar(file_path: str, root: str) -> None:
    with tarfile.open(file_path) as archive:
        _check_tar(archive, root, file_path)
        if hasattr(tarfile, "data_filter"):
            archive.extractall(root, filter="data")
        else:  # pragma: no cover - Python without PEP 706 (checked above by _check_tar)
            archive.extractall(root)


def _extract_zip(file_path: str, root: str) -> None:
    with zipfile.ZipFile(file_path) as archive:
        for name in archive.namelist():
            _check_member_path(root, name.replace("\\", "/"), file_path)
        archive.extractall(root)


def _extract_archive(file_path: str, path: str = ".",
                     archive_format: Union[str, Sequence[str], None] = "auto") -> bool:
    """Extracts a tar (plain, gz, bz2, xz) or zip archive into ``path``.

    Args:
        file_path: the archive.
        path: the folder to extract into.
        archive_format: 'auto' (= ['tar', 'zip']), 'tar', 'zip', a list of those, or None.

    Returns:
        True if the file matched one of the formats and was extracted, False otherwise.

    Raises:
        ValueError: a member would land outside ``path`` (an absolute name, ``..``, or a
            link pointing out), or ``archive_format`` names an unknown format.
    """
    if archive_format is None:
        return False
    if archive_format == "auto":
        archive_format = ["tar", "zip"]
    if isinstance(archive_format, str):
        archive_format = [archive_format]
    extractors = {"tar": (tarfile.is_tarfile, _extract_tar),
                  "zip": (zipfile.is_zipfile, _extract_zip)}
    root = os.path.realpath(path)
    for archive_type in archive_format:
        if archive_type not in extractors:
            raise ValueError("`archive_format` must be 'auto', 'tar', 'zip', a list of those "
                             f"or None. Received: archive_format={archive_type!r}")
        is_match, extract = extractors[archive_type]
        if is_match(file_path):
            os.makedirs(root, exist_ok=True)
            extract(file_path, root)
            return True
    return False


# ---------------------------------------------------------------------------------------
# Download


def _cache_base(cache_dir: Optional[str]) -> str:
    """``cache_dir``, else ``$KERAS_HOME``, else ``~/.keras``; ``/tmp/.keras`` if not writable."""
    if cache_dir is None:
        cache_dir = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    base = os.path.expanduser(os.fspath(cache_dir))
    try:
        os.makedirs(base, exist_ok=True)
    except OSError:
        pass
    if not os.access(base, os.W_OK):
        base = os.path.join(tempfile.gettempdir() if os.name == "nt" else "/tmp", ".keras")
    return base


def _fetch_error(origin: str, error: BaseException) -> Exception:
    if isinstance(error, urllib.error.HTTPError):
        detail = f"{error.code} -- {error.msg}"
    elif isinstance(error, urllib.error.URLError):
        detail = f"{error.errno} -- {error.reason}"
    else:
        detail = f"{type(error).__name__} -- {error}"
    return Exception(f"URL fetch failure on {origin} : {detail}")


def _download(origin: str, destination, progress: Callable[[int, Optional[int]], None]) -> None:
    """Copies ``origin`` into the open file ``destination``; a short read is an error."""
    with urllib.request.urlopen(origin) as response:
        length = response.headers.get("Content-Length") if response.headers else None
        total = int(length.strip()) if length else None
        received = 0
        progress(received, total)
        while True:
            chunk = response.read(8192)
            if not chunk:
                break
            destination.write(chunk)
            received += len(chunk)
            progress(received, total)
    if total is not None and received < total:
        raise urllib.error.ContentTooShortError(
            f"retrieval incomplete: got only {received} out of {total} bytes", None)


def _download_verified(origin: str, fpath: str, file_hash: Optional[str],
                       hash_algorithm: str) -> None:
    """Downloads into a temporary file next to ``fpath``, verifies it, then renames it."""
    print("Downloading data from", origin)
    bar: List[Progbar] = []

    def progress(received: int, total: Optional[int]) -> None:
        if not bar:
            bar.append(Progbar(total))
        else:
            bar[0].update(received)

    folder = os.path.dirname(os.path.abspath(fpath))
    handle, tmp = tempfile.mkstemp(dir=folder, prefix=os.path.basename(fpath) + ".",
                                   suffix=".part")
    try:
        with os.fdopen(handle, "wb") as out:
            try:
                _download(origin, out, progress)
            except (urllib.error.URLError, http.client.HTTPException, OSError) as e:
                raise _fetch_error(origin, e) from e
        if file_hash is not None:
            algorithm = _resolve_algorithm(file_hash, hash_algorithm)
            received = _hash_file(tmp, algorithm)
            if received != file_hash:
                raise ValueError(
                    f"Incomplete or corrupted file detected: the {algorithm} hash of the file "
                    f"downloaded from {origin} is {received}, but the expected hash is "
                    f"{file_hash}. Nothing was saved at {fpath}.")
        os.replace(tmp, fpath)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def get_file(fname: Optional[str], origin: str, untar: bool = False,
             md5_hash: Optional[str] = None, file_hash: Optional[str] = None,
             cache_subdir: str = "datasets", hash_algorithm: str = "auto",
             extract: bool = False, archive_format: Union[str, Sequence[str], None] = "auto",
             cache_dir: Optional[str] = None) -> str:
    """Downloads a file from a URL unless it is already in the cache; returns its path.

    The file from ``origin`` is saved as ``<cache_dir>/<cache_subdir>/<fname>``: by default
    ``~/.keras/datasets/<fname>`` (``$KERAS_HOME`` instead of ``~/.keras`` when set; and
    ``/tmp/.keras`` when the folder is not writable), so files Keras downloaded before are
    found. With a hash, a cached file that does not match is downloaded again, and a
    download that does not match is an error that leaves nothing in the cache.

    Args:
        fname: name of the file (an absolute path saves it there). None: the last part
            of ``origin``'s path.
        origin: the URL (``http(s)://``, ``ftp://`` or ``file://``).
        untar: deprecated in favour of ``extract``: the download is ``fname + '.tar.gz'``,
            extracted into the cache folder, and the path ``<cache folder>/<fname>`` is returned.
        md5_hash: deprecated in favour of ``file_hash``: an md5 hex digest.
        file_hash: the expected sha256 or md5 hex digest of the file.
        cache_subdir: sub-folder of the cache (an absolute path saves there).
        hash_algorithm: 'md5', 'sha256' or 'auto' (sha256 for a 64-character hash).
        extract: extract the file as an archive (tar, tar.gz, tar.bz2, zip) next to it.
        archive_format: 'auto' (= ['tar', 'zip']), 'tar', 'zip', a list of those, or None.
        cache_dir: the cache folder (default ``$KERAS_HOME`` or ``~/.keras``).

    Returns:
        The path of the downloaded file.

    Raises:
        ValueError: the downloaded file does not match ``file_hash`` (the message gives both
            hashes), an archive member would land outside the cache folder, or an
            argument is invalid.
        Exception: ``URL fetch failure on <origin> : ...`` when the download fails, as Keras.

    Example:
        >>> path = get_file('mnist.npz',  # doctest: +SKIP
        ...                 origin='https://s3.amazonaws.com/img-datasets/mnist.npz',
        ...                 file_hash='8a61469f7ea1b51cbae51d4f78837e45')
    """
    _check_algorithm(hash_algorithm)
    if fname is None:
        fname = os.path.basename(urllib.parse.urlsplit(origin).path)
        if not fname:
            raise ValueError(f"Can't derive a file name from origin={origin!r}; pass `fname`.")
    fname = os.fspath(fname)
    if md5_hash is not None and file_hash is None:
        file_hash = md5_hash
        hash_algorithm = "md5"
    datadir = os.path.join(_cache_base(cache_dir), cache_subdir)
    os.makedirs(datadir, exist_ok=True)
    if untar:
        untar_fpath = os.path.join(datadir, fname)
        fpath = untar_fpath + ".tar.gz"
    else:
        fpath = os.path.join(datadir, fname)
    os.makedirs(os.path.dirname(os.path.abspath(fpath)), exist_ok=True)

    download = not os.path.exists(fpath)
    if not download and file_hash is not None and not validate_file(fpath, file_hash,
                                                                       hash_algorithm):
        print("A local file was found, but it seems to be incomplete or outdated because the "
              f"{hash_algorithm} file hash does not match the original value of {file_hash} "
              "so we will re-download the data.")
        download = True
    if download:
        _download_verified(origin, fpath, file_hash, hash_algorithm)

    if untar:
        if not os.path.exists(untar_fpath):
            _extract_archive(fpath, datadir, archive_format="tar")
        return untar_fpath
    if extract:
        _extract_archive(fpath, datadir, archive_format)
    return fpath
