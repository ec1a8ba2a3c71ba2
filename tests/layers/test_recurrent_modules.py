"""The recurrent layers' module layout: Keras 2's import paths (keras.layers.recurrent,
keras.layers.cudnn_recurrent) give the same classes, and only the cells marked with
``fused_kernel_cell`` (not their subclasses) take torch's fused kernels."""
import numpy as np
import torch

import tkeras.layers as layers
from tkeras.layers import cudnn_recurrent, recurrent, rnn_base


def test_cudnn_layers_and_weight_conversions_import_from_every_keras_2_path():
    from tkeras.layers.cudnn_recurrent import CuDNNGRU, CuDNNLSTM
    from tkeras.layers.recurrent import cudnn_to_keras_weights, keras_to_cudnn_weights
    assert recurrent.CuDNNLSTM is CuDNNLSTM is layers.CuDNNLSTM
    assert recurrent.CuDNNGRU is CuDNNGRU is layers.CuDNNGRU
    assert cudnn_to_keras_weights is cudnn_recurrent.cudnn_to_keras_weights
    assert keras_to_cudnn_weights is cudnn_recurrent.keras_to_cudnn_weights


def test_recurrent_module_still_exports_keras_2_names():
    assert set(recurrent.__all__) == {"RNN", "AbstractRNNCell", "StackedRNNCells",
                                      "SimpleRNNCell", "SimpleRNN", "GRUCell", "GRU",
                                      "LSTMCell", "LSTM", "CuDNNGRU", "CuDNNLSTM"}
    for name in recurrent.__all__:
        assert getattr(layers, name) is getattr(recurrent, name), name
    assert recurrent.RNN is rnn_base.RNN


class _SubclassedLSTMCell(layers.LSTMCell):
    pass


def test_only_the_marked_cells_themselves_take_the_fused_path():
    torch.manual_seed(0)
    x = torch.randn(2, 5, 3)
    fused = layers.RNN(layers.LSTMCell(4), return_sequences=True)
    looped = layers.RNN(_SubclassedLSTMCell(4), return_sequences=True)
    fused(x)
    looped(x)
    looped.set_weights(fused.get_weights())
    assert fused._can_fuse(x, None, None, False)
    assert not looped._can_fuse(x, None, None, False)
    np.testing.assert_allclose(looped(x).detach().numpy(), fused(x).detach().numpy(),
                               rtol=1e-5, atol=1e-6)
