"""multi_gpu_model on a machine with fewer than 2 GPUs (CI): a warning and the template."""
import numpy as np
import pytest
import torch

import tkeras
from tkeras import layers
from tkeras.utils import multi_gpu_model
from tkeras.utils.multi_gpu_utils import MultiGpuFallbackWarning
from tkeras.utils.multi_gpu_utils import multi_gpu_model as from_module

pytestmark = pytest.mark.skipif(torch.cuda.device_count() >= 2,
                                reason="checks the fallback of machines with < 2 GPUs")


def _template():
    return tkeras.Sequential([layers.Dense(3, activation="tanh", input_shape=(4,)),
                              layers.Dense(1)])


def test_importable_from_both_places():
    assert multi_gpu_model is from_module


def test_trains_the_template_and_saves_through_it(tmp_path):
    rng = np.random.RandomState(0)
    x = rng.rand(32, 4).astype("float32")
    y = rng.rand(32, 1).astype("float32")
    template = _template()
    reference = _template()
    reference.set_weights(template.get_weights())
    with pytest.warns(MultiGpuFallbackWarning, match="fewer than the 2 needed"):
        parallel = multi_gpu_model(template, gpus=8)
    parallel.compile(tkeras.optimizers.SGD(0.1), "mse")
    parallel.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    reference.compile(tkeras.optimizers.SGD(0.1), "mse")
    reference.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    trained = template.get_weights()
    for a, b in zip(trained, reference.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    for a, b in zip(parallel.get_weights(), trained):  # shared, not copied
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(parallel.predict(x), template.predict(x), rtol=1e-6)
    template.save(str(tmp_path / "template.h5"))
    loaded = tkeras.models.load_model(str(tmp_path / "template.h5"))
    for a, b in zip(loaded.get_weights(), trained):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("gpus, words", [
    (1, "call `multi_gpu_model` with `gpus >= 2`. Received: `gpus=1`"),
    ([0], "call `multi_gpu_model` with `len(gpus) >= 2`. Received: `gpus=[0]`"),
])
def test_keras_argument_errors(gpus, words):
    with pytest.raises(ValueError) as info:
        multi_gpu_model(_template(), gpus=gpus)
    assert words in str(info.value)
    assert "For multi-gpu usage to be effective" in str(info.value)


def test_gpus_of_another_type():
    with pytest.raises(TypeError, match="`gpus` must be an integer, a list of GPU ids or None. "
                                        "Received: gpus='two'"):
        multi_gpu_model(_template(), gpus="two")
