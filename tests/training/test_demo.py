"""The demo (``python -m tkeras.demo``) and the shipped digits dataset."""
import os
import pathlib

import numpy as np
import pytest
import torch

from tkeras import demo
from tkeras.datasets import digits


def test_digits_dataset_is_the_uci_set():
    (x_train, y_train), (x_test, y_test) = digits.load_data()
    assert x_train.shape == (1438, 8, 8) and x_test.shape == (359, 8, 8)
    assert x_train.dtype == np.uint8 and x_train.max() == 16 and x_train.min() == 0
    labels = np.concatenate([y_train, y_test])
    assert np.bincount(labels).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    (again, _), _ = digits.load_data()
    np.testing.assert_array_equal(again, x_train)  # the split is seeded
    readme = os.path.join(os.path.dirname(digits.__file__), "digits_README.txt")
    assert "CC BY 4.0" in pathlib.Path(readme).read_text()


@pytest.fixture
def one_thread():
    """A small convnet runs fastest on one thread, and the shared test machine has no idle
    core for a second one (oversubscribed threads make each op wait)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_demo_trains_to_95_percent_and_saves_weights_and_plot(tmp_path, capsys, one_thread):
    out = tmp_path / "demo"
    status = demo.main(["--epochs", "20", "--out", str(out), "--verbose", "1"])
    printed = capsys.readouterr().out
    assert status == 0
    accuracy = float(printed.split("Test accuracy: ")[1].split()[0])
    assert accuracy >= 0.95
    assert "41/41 [==============================]" in printed  # the progress bar
    weights = out / "digits_convnet.weights.h5"
    assert weights.exists()
    model = demo.build_model()
    model.load_weights(str(weights))
    (_, _), (x_test, y_test) = demo.load_digits()
    _, reloaded_accuracy = model.evaluate(x_test, y_test, verbose=0)
    np.testing.assert_allclose(reloaded_accuracy, accuracy, atol=1e-4)
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert "matplotlib is not installed" in printed
    else:
        png = out / "training_curves.png"
        assert png.exists() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
