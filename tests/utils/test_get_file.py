"""get_file: download, cache, hash checks, atomicity and safe extraction (no network)."""
import io
import os
import tarfile
import zipfile

import pytest

from tkeras.utils import data_utils, file_utils, get_file, validate_file

PAYLOAD = b"tkeras get_file test payload\n" * 100


def _sha256(data):
    import hashlib
    return hashlib.sha256(data).hexdigest()


def _md5(data):
    import hashlib
    return hashlib.md5(data).hexdigest()


def _tar_gz(members):
    """A tar.gz from [(name, bytes)] or [(name, tarfile.TarInfo-configurer)]."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            if isinstance(data, bytes):
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            else:
                data(info)
                tar.addfile(info)
    return buf.getvalue()


def _zip(members):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in members:
            z.writestr(name, data)
    return buf.getvalue()


def _cache(tmp_path):
    return tmp_path / "cache"


def test_exports_match_keras_locations():
    assert data_utils.get_file is get_file
    assert data_utils.validate_file is validate_file
    assert data_utils._hash_file is file_utils._hash_file


def test_hash_file_and_validate_file_known_digests(tmp_path):
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    abc = tmp_path / "abc"
    abc.write_bytes(b"abc")
    assert data_utils._hash_file(str(empty)) == (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    assert data_utils._hash_file(str(abc), "md5") == "900150983cd24fb0d6963f7d28e17f72"
    assert validate_file(str(abc), "900150983cd24fb0d6963f7d28e17f72")  # auto -> md5
    assert validate_file(str(abc), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    assert not validate_file(str(abc), "0" * 64)
    assert not validate_file(str(abc), "0" * 32, algorithm="md5")
    with pytest.raises(ValueError,
                       match="`hash_algorithm` must be one of .* Received: hash_algorithm='sha1'"):
        validate_file(str(abc), "0" * 40, algorithm="sha1")


def test_download_over_http_then_cache_hit(local_origin, tmp_path, capsys):
    url = local_origin.put("data.bin", PAYLOAD)
    path = get_file("data.bin", url, file_hash=_sha256(PAYLOAD), cache_dir=str(_cache(tmp_path)))
    assert path == str(_cache(tmp_path) / "datasets" / "data.bin")
    with open(path, "rb") as f:
        assert f.read() == PAYLOAD
    out = capsys.readouterr().out
    assert f"Downloading data from {url}" in out
    assert f"{len(PAYLOAD)}/{len(PAYLOAD)} [==============================]" in out
    assert local_origin.requests == ["data.bin"]
    # Second call: served from the cache, no request.
    assert get_file("data.bin", url, file_hash=_sha256(PAYLOAD),
                    cache_dir=str(_cache(tmp_path))) == path
    assert local_origin.requests == ["data.bin"]
    assert sorted(os.listdir(_cache(tmp_path) / "datasets")) == ["data.bin"]


def test_default_cache_is_keras_home(local_origin, tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "kh"))
    url = local_origin.put("a.txt", b"hello")
    path = get_file("a.txt", url)
    assert path == str(tmp_path / "kh" / "datasets" / "a.txt")
    path = get_file("b.txt", local_origin.put("b.txt", b"x"), cache_subdir="models")
    assert path == str(tmp_path / "kh" / "models" / "b.txt")
    absolute = tmp_path / "elsewhere" / "c.txt"
    assert get_file(str(absolute), local_origin.put("c.txt", b"c")) == str(absolute)
    assert absolute.read_bytes() == b"c"


def test_default_cache_without_keras_home_is_home_dot_keras(monkeypatch, tmp_path):
    monkeypatch.delenv("KERAS_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert file_utils._cache_base(None) == str(tmp_path / ".keras")


def test_unwritable_cache_falls_back_to_tmp_keras(monkeypatch, tmp_path):
    monkeypatch.setattr(file_utils.os, "access", lambda path, mode: False)
    assert file_utils._cache_base(str(tmp_path / "ro")) == os.path.join("/tmp", ".keras")


def test_file_url_and_md5_hash(tmp_path):
    src = tmp_path / "src.bin"
    src.write_bytes(PAYLOAD)
    path = get_file("copy.bin", src.as_uri(), md5_hash=_md5(PAYLOAD),
                    cache_dir=str(_cache(tmp_path)))
    with open(path, "rb") as f:
        assert f.read() == PAYLOAD


def test_fname_none_uses_origin_basename(tmp_path, local_origin):
    url = local_origin.put("sub/named.bin", b"n")
    assert get_file(None, url, cache_dir=str(_cache(tmp_path))).endswith(
        os.path.join("datasets", "named.bin"))


def test_bad_hash_names_both_hashes_and_leaves_nothing(local_origin, tmp_path):
    url = local_origin.put("data.bin", PAYLOAD)
    wrong = "1" * 64
    with pytest.raises(ValueError) as err:
        get_file("data.bin", url, file_hash=wrong, cache_dir=str(_cache(tmp_path)))
    message = str(err.value)
    assert "Incomplete or corrupted file detected" in message
    assert wrong in message and _sha256(PAYLOAD) in message and "sha256" in message
    assert os.listdir(_cache(tmp_path) / "datasets") == []


def test_bad_md5_hash(local_origin, tmp_path):
    url = local_origin.put("data.bin", PAYLOAD)
    with pytest.raises(ValueError,
                       match=f"md5 hash .* is {_md5(PAYLOAD)}, but the expected hash is {'2' * 32}"):
        get_file("data.bin", url, file_hash="2" * 32, cache_dir=str(_cache(tmp_path)))
    assert os.listdir(_cache(tmp_path) / "datasets") == []


def test_outdated_cached_file_is_downloaded_again(local_origin, tmp_path, capsys):
    url = local_origin.put("data.bin", PAYLOAD)
    datadir = _cache(tmp_path) / "datasets"
    datadir.mkdir(parents=True)
    (datadir / "data.bin").write_bytes(b"stale")
    path = get_file("data.bin", url, file_hash=_sha256(PAYLOAD), cache_dir=str(_cache(tmp_path)))
    assert "A local file was found, but it seems to be incomplete or outdated" in capsys.readouterr().out
    assert local_origin.requests == ["data.bin"]
    with open(path, "rb") as f:
        assert f.read() == PAYLOAD
    # Without a hash the cached file is trusted, as in Keras.
    (datadir / "data.bin").write_bytes(b"stale")
    get_file("data.bin", url, cache_dir=str(_cache(tmp_path)))
    assert (datadir / "data.bin").read_bytes() == b"stale"
    assert local_origin.requests == ["data.bin"]


def test_truncated_download_raises_and_leaves_nothing(local_origin, tmp_path):
    url = local_origin.put("data.bin", PAYLOAD)
    local_origin.truncate("data.bin")
    with pytest.raises(Exception, match=f"URL fetch failure on {url} : ") as err:
        get_file("data.bin", url, cache_dir=str(_cache(tmp_path)))
    assert type(err.value) is Exception
    assert os.listdir(_cache(tmp_path) / "datasets") == []


def test_http_error_message(local_origin, tmp_path):
    url = local_origin.url("missing.bin")
    with pytest.raises(Exception, match=f"URL fetch failure on {url} : 404 -- Not Found"):
        get_file("missing.bin", url, cache_dir=str(_cache(tmp_path)))
    assert os.listdir(_cache(tmp_path) / "datasets") == []


def test_unreachable_url_message(tmp_path):
    url = (tmp_path / "nope.bin").as_uri()
    with pytest.raises(Exception, match=f"URL fetch failure on {url} : "):
        get_file("nope.bin", url, cache_dir=str(_cache(tmp_path)))
    assert os.listdir(_cache(tmp_path) / "datasets") == []


def test_invalid_hash_algorithm(tmp_path):
    with pytest.raises(ValueError, match="Received: hash_algorithm='sha1'"):
        get_file("x", "file:///nonexistent", hash_algorithm="sha1", cache_dir=str(tmp_path))


def test_extract_tar_gz_and_zip(local_origin, tmp_path):
    cache = str(_cache(tmp_path))
    tar_url = local_origin.put("arch.tar.gz", _tar_gz([("folder/a.txt", b"A"), ("b.txt", b"B")]))
    path = get_file("arch.tar.gz", tar_url, extract=True, cache_dir=cache)
    datadir = _cache(tmp_path) / "datasets"
    assert path == str(datadir / "arch.tar.gz")
    assert (datadir / "folder" / "a.txt").read_bytes() == b"A"
    assert (datadir / "b.txt").read_bytes() == b"B"
    zip_url = local_origin.put("arch.zip", _zip([("z/c.txt", b"C")]))
    get_file("arch.zip", zip_url, extract=True, cache_dir=cache)
    assert (datadir / "z" / "c.txt").read_bytes() == b"C"


def test_archive_format_restricts_extraction(local_origin, tmp_path):
    cache = str(_cache(tmp_path))
    url = local_origin.put("arch.tar.gz", _tar_gz([("only.txt", b"1")]))
    get_file("arch.tar.gz", url, extract=True, archive_format="zip", cache_dir=cache)
    assert not (_cache(tmp_path) / "datasets" / "only.txt").exists()
    get_file("arch.tar.gz", url, extract=True, archive_format=None, cache_dir=cache)
    assert not (_cache(tmp_path) / "datasets" / "only.txt").exists()
    get_file("arch.tar.gz", url, extract=True, archive_format=["zip", "tar"], cache_dir=cache)
    assert (_cache(tmp_path) / "datasets" / "only.txt").read_bytes() == b"1"
    with pytest.raises(ValueError, match="Received: archive_format='rar'"):
        get_file("arch.tar.gz", url, extract=True, archive_format="rar", cache_dir=cache)


def test_untar(local_origin, tmp_path):
    url = local_origin.put("bundle.tar.gz", _tar_gz([("bundle/x.txt", b"X")]))
    path = get_file("bundle", url, untar=True, cache_dir=str(_cache(tmp_path)))
    datadir = _cache(tmp_path) / "datasets"
    assert path == str(datadir / "bundle")
    assert (datadir / "bundle.tar.gz").exists()
    assert (datadir / "bundle" / "x.txt").read_bytes() == b"X"


def _symlink(target):
    def configure(info):
        info.type = tarfile.SYMTYPE
        info.linkname = target
    return configure


def _hardlink(target):
    def configure(info):
        info.type = tarfile.LNKTYPE
        info.linkname = target
    return configure


@pytest.mark.parametrize("members, words", [
    ([("../evil.txt", b"E")], "member '../evil.txt' would be written outside"),
    ([("ok/../../evil.txt", b"E")], "member 'ok/../../evil.txt' would be written outside"),
    ([("/tmp/tkeras_abs_evil.txt", b"E")], "member '/tmp/tkeras_abs_evil.txt' would be written outside"),
    ([("link", _symlink("../../evil_dir"))], "link 'link' points outside"),
    ([("link", _symlink("/etc/passwd"))], "link 'link' points outside"),
    ([("hard", _hardlink("../evil.txt"))], "link 'hard' points outside"),
    ([("link", _symlink("..")), ("link/evil.txt", b"E")], "link 'link' points outside"),
])
def test_tar_members_outside_target_are_refused(local_origin, tmp_path, members, words):
    url = local_origin.put("bad.tar.gz", _tar_gz([("good.txt", b"G")] + members))
    cache = _cache(tmp_path)
    with pytest.raises(ValueError, match=f"Refusing to extract .*{words}"):
        get_file("bad.tar.gz", url, extract=True, cache_dir=str(cache))
    # Nothing was extracted, inside or outside.
    assert os.listdir(cache / "datasets") == ["bad.tar.gz"]
    assert not (cache / "evil.txt").exists() and not (tmp_path / "evil.txt").exists()
    assert not os.path.exists("/tmp/tkeras_abs_evil.txt")


def test_tar_links_inside_target_are_fine(local_origin, tmp_path):
    url = local_origin.put("ok.tar.gz", _tar_gz([("d/a.txt", b"A"), ("d/l", _symlink("a.txt"))]))
    get_file("ok.tar.gz", url, extract=True, cache_dir=str(_cache(tmp_path)))
    assert (_cache(tmp_path) / "datasets" / "d" / "l").read_bytes() == b"A"


@pytest.mark.parametrize("name", ["../evil.txt", "/abs_evil.txt", "a/../../evil.txt"])
def test_zip_members_outside_target_are_refused(local_origin, tmp_path, name):
    url = local_origin.put("bad.zip", _zip([("good.txt", b"G"), (name, b"E")]))
    cache = _cache(tmp_path)
    with pytest.raises(ValueError, match=f"Refusing to extract .*member '{name}' would be written outside"):
        get_file("bad.zip", url, extract=True, cache_dir=str(cache))
    assert os.listdir(cache / "datasets") == ["bad.zip"]
    assert not (cache / "evil.txt").exists()
