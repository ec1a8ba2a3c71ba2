import json
import os

import numpy as np
import pytest

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
    tkeras.backend.clear_session()
    yield
