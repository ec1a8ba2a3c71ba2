"""Weights answer ``.name`` with their Keras 2 name while staying torch Parameters, and
BatchNormalization's moving statistics are module buffers (like torch's BatchNorm)."""
import copy
import glob
import json
import os
import pickle
import subprocess
import sys

import h5py
import numpy as np
import pytest
import torch

import tkeras
from tkeras import backend as K
from tkeras import layers
from tkeras.models import Sequential, load_model

REFERENCE = os.path.join(os.path.dirname(__file__), "..", "data", "keras_reference", "files")


@pytest.mark.parametrize("path", sorted(glob.glob(os.path.join(REFERENCE, "*", "model.h5"))),
                         ids=lambda p: os.path.basename(os.path.dirname(p)))
def test_weight_names_are_those_keras_wrote(path):
    model = load_model(path, compile=False)
    with h5py.File(path, "r") as f:
        group = f["model_weights"]
        for layer in model.layers:
            written = [n.decode() if isinstance(n, bytes) else n
                       for n in group[layer.name].attrs["weight_names"]]
            assert [w.name for w in layer.weights] == written


def _cnn_lstm():
    K.clear_session()
    image = layers.Input((8, 8, 1))
    x = layers.BatchNormalization()(layers.Conv2D(2, 3)(image))
    x = layers.Reshape((6, 12))(x)
    x = layers.Bidirectional(layers.LSTM(3))(x)
    return tkeras.Model(image, layers.Dense(2)(x))


def test_fresh_model_weight_names_follow_keras_2_scopes():
    model = _cnn_lstm()
    assert [w.name for w in model.weights] == [
        "conv2d/kernel:0", "conv2d/bias:0",
        "batch_normalization/gamma:0", "batch_normalization/beta:0",
        "batch_normalization/moving_mean:0", "batch_normalization/moving_variance:0",
        "bidirectional/forward_lstm/lstm_cell/kernel:0",
        "bidirectional/forward_lstm/lstm_cell/recurrent_kernel:0",
        "bidirectional/forward_lstm/lstm_cell/bias:0",
        "bidirectional/backward_lstm/lstm_cell/kernel:0",
        "bidirectional/backward_lstm/lstm_cell/recurrent_kernel:0",
        "bidirectional/backward_lstm/lstm_cell/bias:0",
        "dense/kernel:0", "dense/bias:0"]  # a Model lists its weights layer by layer
    lstm = layers.LSTM(2)
    lstm(torch.zeros(1, 3, 4))  # built by an eager call, under its own name scope
    assert [w.name for w in lstm.weights][0] == "lstm_1/lstm_cell/kernel:0"  # 2nd LSTM


def test_weights_are_torch_parameters_and_the_names_survive_copies_and_conversions():
    model = _cnn_lstm()
    names = [w.name for w in model.weights]
    trainable = model.trainable_weights
    assert all(isinstance(w, torch.nn.Parameter) for w in trainable)
    assert {id(p) for p in model.parameters()} == {id(w) for w in trainable}
    x = torch.randn(2, 8, 8, 1)
    expected = model(x)
    for clone in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        assert [w.name for w in clone.weights] == names
        assert all(isinstance(w, torch.nn.Parameter) for w in clone.trainable_weights)
        torch.testing.assert_close(clone(x), expected)
    model.double()
    assert [w.name for w in model.weights] == names
    assert all(w.dtype == torch.float64 for w in model.weights)
    model.float()
    small = _bn_model()
    small_names = [w.name for w in small.weights]
    x_small = torch.randn(4, 3)
    torch.testing.assert_close(torch.compile(small)(x_small), small(x_small))
    assert [w.name for w in small.weights] == small_names
    # arithmetic gives plain tensors, as with any Parameter
    assert type(model.weights[0] * 2) is torch.Tensor


def _bn_model():
    K.clear_session()
    return Sequential([layers.Input((3,)), layers.Dense(4), layers.BatchNormalization(),
                       layers.LayerNormalization()])


def test_moving_statistics_are_buffers_in_state_dict_that_follow_conversions():
    model = _bn_model()
    bn = model.layers[1]
    buffers = dict(model.named_buffers())
    assert set(buffers) == {"1.moving_mean", "1.moving_variance"}
    assert buffers["1.moving_mean"] is bn.moving_mean
    assert bn.moving_mean.name == "batch_normalization/moving_mean:0"
    assert not any(p is bn.moving_mean for p in model.parameters())
    assert "1.moving_mean" in model.state_dict() and "1.moving_variance" in model.state_dict()
    x = np.random.RandomState(0).standard_normal((8, 3)).astype("float32")
    model.compile("sgd", "mse")
    model.fit(x, np.zeros((8, 4), "float32"), epochs=1, verbose=0)
    assert not torch.equal(bn.moving_mean, torch.zeros(4))  # training updated the buffer
    expected = model.predict(x, verbose=0)

    model.double()
    assert bn.moving_mean.dtype == torch.float64 and bn.moving_mean is model.get_buffer(
        "1.moving_mean")
    assert [w.name for w in bn.weights][-2:] == ["batch_normalization/moving_mean:0",
                                                 "batch_normalization/moving_variance:0"]
    assert bn.weights[-2] is bn.moving_mean  # the layer's weights are the live buffers
    np.testing.assert_allclose(model.predict(x.astype("float64"), verbose=0), expected,
                               rtol=1e-5, atol=1e-5)
    model.float()
    state = {k: v.clone() for k, v in model.state_dict().items()}
    other = _bn_model()
    other.load_state_dict(state)
    np.testing.assert_allclose(other.predict(x, verbose=0), expected, rtol=1e-6, atol=1e-6)
    np.testing.assert_array_equal(other.layers[1].get_weights()[2], bn.get_weights()[2])


@pytest.mark.parametrize("method", ["double", "half", "bfloat16", "float"])
def test_dtype_conversions_run_on_models_with_normalization_layers(method):
    model = _bn_model()
    getattr(model, method)()
    dtype = {"double": torch.float64, "half": torch.float16, "bfloat16": torch.bfloat16,
             "float": torch.float32}[method]
    assert all(w.dtype == dtype for w in model.weights)
    out = model(torch.randn(2, 3, dtype=dtype))
    assert out.dtype == dtype and out.shape == (2, 4)


def test_layers_with_on_read_weights_must_be_non_trainable():
    layer = layers.Dense(2)
    with pytest.raises(ValueError, match="ON_READ only for non-trainable variables"):
        layer.add_weight("state", shape=(2,), trainable=True, synchronization="ON_READ")


DDP_SCRIPT = r"""
import json, os, sys
import torch, torch.distributed as dist, torch.multiprocessing as mp
from torch.nn.parallel import DistributedDataParallel as DDP


def run(rank, world, port, folder):
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=world)
    import tkeras
    from tkeras import layers
    torch.manual_seed(0)
    model = tkeras.Sequential([layers.Input((4,)), layers.Dense(3), layers.BatchNormalization()])
    reference = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.BatchNorm1d(3))
    ours, theirs = model.layers[-1].moving_mean, reference[1].running_mean
    with torch.no_grad():
        ours.fill_(rank + 1.0); theirs.fill_(rank + 1.0)   # the ranks disagree
    ddp, ddp_ref = DDP(model), DDP(reference)             # construction: rank 0's values
    at_init = [ours.tolist(), theirs.tolist()]
    with torch.no_grad():
        ours.fill_(10.0 * (rank + 1)); theirs.fill_(10.0 * (rank + 1))
    model.eval(); reference.eval()
    ddp(torch.ones(2, 4)).sum().backward()                # forward: buffers broadcast again
    ddp_ref(torch.ones(2, 4)).sum().backward()
    after_forward = [model.layers[-1].moving_mean.tolist(), reference[1].running_mean.tolist()]
    with open(os.path.join(folder, f"{rank}.json"), "w") as f:
        json.dump({"init": at_init, "forward": after_forward}, f)
    dist.destroy_process_group()


if __name__ == "__main__":
    mp.spawn(run, args=(2, int(sys.argv[1]), sys.argv[2]), nprocs=2)
"""


def _free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_ddp_broadcasts_moving_statistics_as_torch_batchnorm_buffers(tmp_path):
    script = tmp_path / "ddp_bn.py"
    script.write_text(DDP_SCRIPT)
    done = subprocess.run([sys.executable, str(script), str(_free_port()), str(tmp_path)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    for rank in (0, 1):
        got = json.loads((tmp_path / f"{rank}.json").read_text())
        ours, theirs = got["init"]
        assert ours == theirs == [1.0] * 3        # rank 0's values at construction
        ours, theirs = got["forward"]
        assert ours == theirs == [10.0] * 3       # rank 0's values at each forward


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_moves_a_model_with_normalization_layers_and_its_buffers():
    model = _bn_model()
    model.cuda()
    bn = model.layers[1]
    assert all(w.device.type == "cuda" for w in model.weights)
    assert bn.moving_mean.device.type == "cuda" and bn.weights[-2] is bn.moving_mean
    model.compile("sgd", "mse")
    x = np.random.RandomState(0).standard_normal((8, 3)).astype("float32")
    model.fit(x, np.zeros((8, 4), "float32"), epochs=1, verbose=0)
    assert model.predict(x, verbose=0).shape == (8, 4)
