import json
import os

import numpy as np
import pytest
import torch

REF = os.path.join(os.path.dirname(__file__), "data", "keras_reference")


def ref_path(*parts):
    """Path inside the copy of keras_reference that ships with the tests."""
    return os.path.join(REF, *parts)


def load_case(*parts):
    """Opens a keras_reference .npz case: (arrays dict, meta dict)."""
    d = np.load(ref_path(*parts))
    arrays = {k: d[k] for k in d.files if k != "meta"}
    meta = json.loads(str(d["meta"])) if "meta" in d.files else {}
    return arrays, meta


def ref_index(folder):
    with open(ref_path(folder, "index.json")) as f:
        return json.load(f)


@pytest.fixture(autouse=True)
def _fresh_session(tmp_path_factory, monkeypatch):
    """Every test starts with fresh auto-names (dense, dense_1, ...) and a private config dir."""
    import tkeras
    monkeypatch.setenv("TKERAS_HOME", str(tmp_path_factory.getbasetemp() / "tkeras_home"))
    # get_file's cache: never the real ~/.keras
    monkeypatch.setenv("KERAS_HOME", str(tmp_path_factory.mktemp("keras_home")))
    tkeras.backend.clear_session()
    yield


class LocalOrigin:
    """Files served over HTTP from 127.0.0.1 by a server the test starts (no network).

    ``put(name, data)`` publishes bytes, ``url(name)`` is their address, ``truncate(name)``
    makes the server announce the full length but send only half, ``requests`` lists the
    paths asked for.
    """

    def __init__(self, folder):
        import http.server
        import threading
        self.folder = folder
        self.requests = []
        self.truncated = set()
        origin = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                name = self.path.lstrip("/")
                origin.requests.append(name)
                path = origin.folder / name
                if not path.is_file():
                    self.send_error(404, "Not Found")
                    return
                data = path.read_bytes()
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data[: len(data) // 2] if name in origin.truncated else data)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}/"

    def put(self, name, data):
        (self.folder / name).parent.mkdir(parents=True, exist_ok=True)
        (self.folder / name).write_bytes(data)
        return self.url(name)

    def url(self, name):
        return self.base + name

    def truncate(self, name):
        self.truncated.add(name)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def local_origin(tmp_path):
    """An HTTP server on 127.0.0.1 serving files the test publishes (see LocalOrigin)."""
    folder = tmp_path / "origin"
    folder.mkdir()
    origin = LocalOrigin(folder)
    yield origin
    origin.close()


def forbid_host_reads_in_train_step(monkeypatch) -> list:
    """Makes every host read (``.item()``, ``.cpu()``, ``bool()``, ...) inside the fused
    training step an AssertionError; returns the list that records one entry per step."""
    from tkeras.engine import step_runner

    original = step_runner.StepRunner.train_step
    calls = []

    def forbidden(name):
        def fail(*args, **kwargs):
            raise AssertionError(f"host read in the training step: Tensor.{name}")
        return fail

    def guarded(self, batch):
        with monkeypatch.context() as m:
            for name in ("item", "tolist", "numpy", "cpu", "__bool__", "__float__", "__int__"):
                m.setattr(torch.Tensor, name, forbidden(name))
            original(self, batch)
        calls.append(1)

    monkeypatch.setattr(step_runner.StepRunner, "train_step", guarded)
    return calls
