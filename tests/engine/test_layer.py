"""The Layer contract: build, weights, trainable, config, input_spec, training flag, masks,
losses, names, and torch interop."""
import numpy as np
import pytest
import torch

import tkeras as keras
from tkeras import backend as K
from tkeras.engine.topology import Layer
from tkeras.layers import Dense, Dropout, Input, Masking, TorchModuleWrapper
from tkeras.models import Model, Sequential
from tkeras.utils import TkerasDeprecationWarning


class MyLayer(Layer):
    """Seed 001's custom layer, verbatim in Keras 2 style."""

    def __init__(self, output_dim, **kwargs):
        self.output_dim = output_dim
        super(MyLayer, self).__init__(**kwargs)

    def build(self, input_shape):
        self.kernel = self.add_weight(name="kernel", shape=(input_shape[1], self.output_dim),
                                      initializer="uniform", trainable=True)
        super(MyLayer, self).build(input_shape)

    def call(self, x):
        return K.dot(x, self.kernel)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.output_dim)


def test_seed_mylayer_eager_functional_and_summary(capsys):
    layer = MyLayer(3)
    x = np.random.rand(4, 5).astype("float32")
    y = layer(x)
    assert tuple(y.shape) == (4, 3)
    np.testing.assert_allclose(y.detach().numpy(), x @ layer.get_weights()[0], rtol=1e-5, atol=1e-6)
    inp = Input(shape=(5,))
    out = MyLayer(2, name="mine")(inp)
    with pytest.warns(TkerasDeprecationWarning, match="Update your `Model` call to the Keras 2 API"):
        model = Model(input=inp, output=out)  # Keras 1 spelling: Keras 2.3.1 warns
    assert model.output_shape == (None, 2)
    model.summary()
    text = capsys.readouterr().out
    assert "mine (MyLayer)" in text and "(None, 2)" in text and "Total params: 10" in text


def test_auto_names_are_unique_per_session_and_reset():
    assert Dense(2).name == "dense"
    assert Dense(2).name == "dense_1"
    assert MyLayer(2).name == "my_layer"
    K.clear_session()
    assert Dense(2).name == "dense"


def test_weights_order_names_and_counts():
    layer = Dense(3, name="d")
    layer.build((None, 4))
    assert [w._keras_name for w in layer.weights] == ["d/kernel:0", "d/bias:0"]
    assert [w.shape for w in layer.get_weights()] == [(4, 3), (3,)]
    assert layer.count_params() == 15
    assert all(isinstance(w, torch.nn.Parameter) for w in layer.weights)


def test_non_trainable_weights_come_after_trainable():
    class Mixed(Layer):
        def build(self, input_shape):
            self.a = self.add_weight("a", shape=(2,), trainable=False, initializer="zeros")
            self.b = self.add_weight("b", shape=(3,), initializer="ones")
            self.built = True

    layer = Mixed()
    layer.build((None, 2))
    assert [w._keras_name.split("/")[-1] for w in layer.weights] == ["b:0", "a:0"]
    assert len(layer.trainable_weights) == 1 and len(layer.non_trainable_weights) == 1
    assert not layer.a.requires_grad


def test_trainable_flag_freezes_layer_and_sublayers():
    inner = Sequential([Dense(2, input_shape=(3,)), Dense(1)])
    x = Input(shape=(3,))
    model = Model(x, Dense(1)(inner(x)))
    inner.trainable = False
    assert len(inner.trainable_weights) == 0
    assert len(inner.non_trainable_weights) == 4
    assert all(not w.requires_grad for w in inner.weights)
    assert len(model.trainable_weights) == 2
    inner.trainable = True
    assert all(w.requires_grad for w in inner.weights)


def test_set_weights_errors_name_the_layer():
    layer = Dense(3, name="my_dense")
    layer.build((None, 4))
    with pytest.raises(ValueError, match='layer "my_dense".*length 1.*expecting 2 weights'):
        layer.set_weights([np.zeros((4, 3))])
    with pytest.raises(ValueError, match=r"my_dense weight shape \(4, 3\) is not compatible with "
                                         r"provided weight shape \(3, 4\)"):
        layer.set_weights([np.zeros((3, 4)), np.zeros(3)])


def test_input_spec_error_message_in_keras_style():
    layer = Dense(10, name="dense")
    layer(np.zeros((2, 784), dtype="float32"))
    with pytest.raises(ValueError) as err:
        layer(np.zeros((2, 100), dtype="float32"))
    assert str(err.value) == ('Input 0 of layer "dense" is incompatible with the layer: expected '
                              "axis -1 of input shape to have value 784, but received input with "
                              "shape (2, 100)")
    with pytest.raises(ValueError, match="expected axis -1 of input shape to have value 784"):
        layer(Input(shape=(100,)))


def test_input_spec_is_checked_again_after_a_passing_call():
    layer = Dense(4, name="dense")
    x = torch.zeros(2, 3)
    layer(x)
    layer(x)  # same shape again: still fine
    with pytest.raises(ValueError, match="expected axis -1 of input shape to have value 3"):
        layer(torch.zeros(2, 5))
    layer.input_spec = keras.layers.InputSpec(ndim=3)  # a new spec applies to known shapes too
    with pytest.raises(ValueError, match="expected ndim=3, found ndim=2"):
        layer(x)


def test_training_flag_resolution():
    drop = Dropout(0.5)
    x = torch.ones(200, 50)
    assert torch.equal(drop(x), x)  # inference by default, as in Keras
    assert not torch.equal(drop(x, training=True), x)
    K.set_learning_phase(1)
    assert not torch.equal(drop(x), x)
    K.set_learning_phase(0)
    assert torch.equal(drop(x), x)
    K.clear_session()
    inp = Input(shape=(50,))
    model = Model(inp, Dropout(0.5)(Dense(50, kernel_initializer="ones")(inp)))
    assert torch.equal(model(x), model(x))
    assert not torch.equal(model(x, training=True), model(x, training=False))


def test_torch_train_mode_is_the_last_fallback():
    drop = Dropout(0.5)
    x = torch.ones(100, 20)
    drop.train()
    assert not torch.equal(drop(x), x)
    drop.eval()
    assert torch.equal(drop(x), x)


def test_add_loss_and_regularizer_losses():
    from tkeras import regularizers
    layer = Dense(2, kernel_regularizer=regularizers.l2(0.5), activity_regularizer=regularizers.l1(0.1),
                  kernel_initializer="ones", bias_initializer="zeros")
    x = torch.ones(4, 3)
    y = layer(x)
    losses = layer.losses
    assert len(losses) == 2
    np.testing.assert_allclose(float(losses[0].detach()), 0.5 * 6, rtol=1e-6)  # l2 of a 3x2 kernel of ones
    np.testing.assert_allclose(float(losses[1].detach()), 0.1 * float(torch.abs(y.detach()).sum()) / 4,
                               rtol=1e-6)

    class WithLoss(Layer):
        def call(self, inputs):
            self.add_loss(inputs.sum())
            return inputs

    wl = WithLoss()
    wl(torch.ones(2, 2))
    wl(torch.ones(2, 2) * 2)
    assert [float(v) for v in wl.losses] == [8.0]  # losses of the latest call only


def test_masks_propagate_through_supporting_layers():
    x = np.array([[[1.0], [2.0], [0.0]], [[0.0], [0.0], [0.0]]], dtype="float32")
    masked = Masking(0.0)(x)
    np.testing.assert_array_equal(masked._keras_mask.numpy(), [[True, True, False], [False, False, False]])
    out = Dense(2)(masked)  # Dense supports masking: the mask passes through
    np.testing.assert_array_equal(out._keras_mask.numpy(), masked._keras_mask.numpy())
    inp = Input(shape=(3, 1))
    sym = Dense(2)(Masking()(inp))
    assert sym._keras_mask is not None and sym._keras_mask.shape == (None, 3)


def test_layer_without_compute_output_shape_is_inferred_on_meta():
    class NoShape(Layer):
        def build(self, input_shape):
            self.w = self.add_weight("w", shape=(input_shape[-1], 6))
            self.built = True

        def call(self, inputs):
            both = torch.cat([inputs @ self.w, inputs], dim=-1)
            return both.reshape(inputs.shape[0], -1, 2)

    layer = NoShape()
    out = layer(Input(shape=(4,)))
    assert out.shape == (None, 5, 2)
    assert layer.w.device.type == "cpu"  # weights are real again after the meta run
    out = NoShape()(Input(shape=(None, 4)))
    assert out.shape == (None, None, 2)  # a size that depends on an unknown dim stays unknown
    real = layer(torch.ones(3, 4))
    assert tuple(real.shape) == (3, 5, 2)


def test_any_torch_module_is_a_layer_and_every_layer_is_a_module():
    lin = torch.nn.Linear(4, 3)
    inp = Input(shape=(4,))
    out = TorchModuleWrapper(lin)(inp)
    assert out.shape == (None, 3)
    model = Model(inp, Dense(2)(out))
    x = torch.randn(5, 4)
    expected = model.layers[2](lin(x))
    torch.testing.assert_close(model(x), expected)
    assert len(model.trainable_weights) == 4
    assert [tuple(w.shape) for w in model.get_weights()][:2] == [(3, 4), (3,)]
    seq = Sequential([Dense(3, input_shape=(4,)), torch.nn.ReLU()])
    assert seq(torch.randn(2, 4)).min() >= 0
    # tkeras models as ordinary torch modules
    assert isinstance(model, torch.nn.Module)
    params = list(model.parameters())
    assert len(params) == 4
    state = model.state_dict()
    model2 = Model(inp, Dense(2)(TorchModuleWrapper(torch.nn.Linear(4, 3))(inp)))
    model2.load_state_dict(state)
    torch.testing.assert_close(model2(x), model(x))
    seen = []
    model.layers[2].register_forward_hook(lambda m, i, o: seen.append(o.shape))
    model(x)
    assert seen == [torch.Size([5, 2])]


def test_a_wrapped_modules_weights_follow_it_through_torch_conversions():
    bn = torch.nn.BatchNorm1d(4)
    model = Sequential([Input(shape=(4,)), TorchModuleWrapper(bn)])
    model.double()  # torch gives the module new buffers (running mean and variance)
    layer = model.layers[0]
    assert [w.dtype for w in layer.weights] == [torch.float64] * 4
    assert layer.weights[2] is bn.running_mean and layer.weights[3] is bn.running_var
    values = [np.full((4,), float(i), "float64") for i in range(4)]
    model.set_weights(values)
    np.testing.assert_array_equal(bn.running_mean.numpy(), values[2])
    model(torch.randn(8, 4, dtype=torch.float64), training=True)  # moves the running mean
    np.testing.assert_array_equal(model.get_weights()[2], bn.running_mean.numpy())
    assert not np.array_equal(model.get_weights()[2], values[2])


def test_layer_config_round_trip_and_unknown_kwargs():
    layer = Dense(5, activation="relu", name="d5", use_bias=False)
    clone = Dense.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    with pytest.raises(TypeError, match="Keyword argument not understood"):
        Dense(3, foo=1)


def test_unknown_activation_and_initializer_names():
    with pytest.raises(ValueError, match="Unknown activation function: 'relux'"):
        Dense(3, activation="relux")
    with pytest.raises(ValueError, match="Unknown initializer: 'glorot_unifrm'"):
        Dense(3, kernel_initializer="glorot_unifrm")


def test_custom_initializer_callable_seed001():
    def my_init(shape, dtype=None):
        return K.random_normal(shape, dtype=dtype)

    layer = Dense(64, kernel_initializer=my_init)
    layer.build((None, 10))
    assert layer.kernel.shape == (10, 64)
    assert 0.8 < float(layer.kernel.detach().std()) < 1.2
