"""BatchNormalization and LayerNormalization: the shared layer contract, training-mode
statistics and moving averages computed by hand with numpy, inference formulas, errors."""
import numpy as np
import pytest
import torch
from layer_test_utils import check_layer, expect

from tkeras import layers
from tkeras.layers.normalization import BatchNormalization, LayerNormalization

# beta starts at one: with beta = 0 a batch-normalised output has zero mean over the batch,
# so the contract's training step would leave beta unchanged.
BN_CASES = [
    ("bn_2d", lambda: BatchNormalization(beta_initializer="ones"), (6, 4), True,
     expect((6, 4), weights=(2, 2), masking=True)),
    ("bn_3d", lambda: BatchNormalization(beta_initializer="ones"), (3, 5, 4), True,
     expect((3, 5, 4), weights=(2, 2), masking=True)),
    ("bn_4d_channels_last", lambda: BatchNormalization(beta_initializer="ones"), (2, 3, 4, 3),
     True,
     expect((2, 3, 4, 3), weights=(2, 2), masking=True)),
    ("bn_4d_axis1_channels_first", lambda: BatchNormalization(axis=1, beta_initializer="ones"),
     (2, 3, 4, 2), True,
     expect((2, 3, 4, 2), weights=(2, 2), masking=True)),
    ("bn_5d", lambda: BatchNormalization(beta_initializer="ones"), (2, 2, 3, 2, 3), True,
     expect((2, 2, 3, 2, 3), weights=(2, 2), masking=True)),
    ("bn_no_center", lambda: BatchNormalization(center=False), (6, 4), True,
     expect((6, 4), weights=(1, 2))),
    ("bn_no_scale", lambda: BatchNormalization(scale=False, beta_initializer="ones"), (6, 4), True,
     expect((6, 4), weights=(1, 2))),
    ("bn_no_center_no_scale", lambda: BatchNormalization(center=False, scale=False), (6, 4), False,
     expect((6, 4), weights=(0, 2))),
    ("bn_two_axes", lambda: BatchNormalization(axis=[1, 2], beta_initializer="ones"), (3, 4, 5),
     True,
     expect((3, 4, 5), weights=(2, 2))),
    ("bn_regularized", lambda: BatchNormalization(gamma_regularizer="l2", beta_regularizer="l1",
                                                  beta_initializer="ones"), (6, 4), True,
     expect((6, 4), weights=(2, 2), losses=2)),
    ("ln", lambda: LayerNormalization(), (4, 6), True,
     expect((4, 6), weights=(2, 0), masking=True)),
    ("ln_two_axes", lambda: LayerNormalization(axis=[1, 2]), (2, 3, 4), True,
     expect((2, 3, 4), weights=(2, 0))),
    ("ln_inner_axis", lambda: LayerNormalization(axis=1), (2, 3, 4), True,
     expect((2, 3, 4), weights=(2, 0))),
    ("ln_no_center", lambda: LayerNormalization(center=False), (2, 3, 5), True,
     expect((2, 3, 5), weights=(1, 0))),
    ("ln_no_center_no_scale", lambda: LayerNormalization(center=False, scale=False), (4, 6), False,
     expect((4, 6), weights=(0, 0))),
]


@pytest.mark.parametrize("name,factory,shape,trains,expected", BN_CASES, ids=[c[0] for c in BN_CASES])
def test_normalization_contract(name, factory, shape, trains, expected):
    check_layer(factory, shape, trains=trains, tol=1e-5, **expected)


# ------------------------------------------------------------------ BatchNormalization

def _np_bn(x, mean, var, gamma, beta, eps):
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


def _train_steps_by_hand(batches, momentum, eps, red_axes, bessel, gamma, beta):
    """numpy: outputs of each training call and the moving statistics after all of them."""
    channel_axis = [i for i in range(batches[0].ndim) if i not in red_axes][0]
    moving_mean = np.zeros(batches[0].shape[channel_axis])
    moving_var = np.ones_like(moving_mean)
    outputs = []
    for x in batches:
        x = x.astype("float64")
        mean = x.mean(axis=red_axes)
        var = x.var(axis=red_axes)
        shape = [1] * x.ndim
        shape[channel_axis] = -1
        outputs.append(_np_bn(x, mean.reshape(shape), var.reshape(shape), gamma.reshape(shape),
                              beta.reshape(shape), eps))
        n = x.size // mean.size
        update_var = var * n / (n - 1) if bessel else var
        moving_mean = momentum * moving_mean + (1 - momentum) * mean
        moving_var = momentum * moving_var + (1 - momentum) * update_var
    return outputs, moving_mean, moving_var


@pytest.mark.parametrize("case,shape,kwargs,red_axes,bessel", [
    ("2d_non_fused_biased", (8, 3), {}, (0,), False),
    ("3d_non_fused_biased", (4, 5, 3), {}, (0, 1), False),
    ("4d_channels_last_fused_unbiased", (2, 3, 4, 3), {}, (0, 1, 2), True),
    ("4d_axis1_fused_unbiased", (2, 3, 4, 2), {"axis": 1}, (0, 2, 3), True),
    ("5d_channels_last_fused_unbiased", (2, 2, 3, 2, 3), {}, (0, 1, 2, 3), True),
    ("4d_fused_false_biased", (2, 3, 4, 3), {"fused": False}, (0, 1, 2), False),
])
def test_moving_statistics_after_several_training_steps(case, shape, kwargs, red_axes, bessel):
    rng = np.random.RandomState(3)
    momentum, eps = 0.8, 1e-3
    batches = [(rng.standard_normal(shape) * 2 + 1).astype("float32") for _ in range(4)]
    layer = BatchNormalization(momentum=momentum, epsilon=eps, **kwargs)
    layer.build(shape)
    channels = layer.moving_mean.shape[0]
    gamma = rng.uniform(0.5, 1.5, channels).astype("float32")
    beta = rng.uniform(-1, 1, channels).astype("float32")
    layer.set_weights([gamma, beta, np.zeros(channels, "float32"), np.ones(channels, "float32")])
    expected_out, moving_mean, moving_var = _train_steps_by_hand(
        batches, momentum, eps, red_axes, bessel, gamma.astype("float64"), beta.astype("float64"))
    for x, expected in zip(batches, expected_out):
        out = layer(x, training=True)
        np.testing.assert_allclose(out.detach().numpy(), expected, rtol=1e-4, atol=1e-5)
    _, _, got_mean, got_var = layer.get_weights()
    np.testing.assert_allclose(got_mean, moving_mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got_var, moving_var, rtol=1e-5, atol=1e-6)
    # inference now uses the moving statistics
    x = batches[0]
    shape_b = [1] * x.ndim
    shape_b[[i for i in range(x.ndim) if i not in red_axes][0]] = -1
    expected = _np_bn(x, moving_mean.reshape(shape_b), moving_var.reshape(shape_b),
                      gamma.reshape(shape_b), beta.reshape(shape_b), eps)
    np.testing.assert_allclose(layer(x).detach().numpy(), expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("shape, axis", [
    ((2, 3, 4, 5), 1), ((2, 4, 5, 3), -1), ((2, 3, 4, 5), 3), ((6, 3), -1), ((2, 3, 5), 1),
    ((2, 5, 3), -1), ((2, 3, 2, 2, 4), 1), ((2, 2, 2, 4, 3), -1), ((2, 3, 4, 5), 2)])
def test_inference_uses_moving_statistics_by_hand(shape, axis):
    # x * inv + (beta - mean * inv), inv = gamma / sqrt(var + eps), on every rank and axis
    # (channels_last 4D input also as a permuted view, as a conv's output may be).
    rng = np.random.RandomState(0)
    x = rng.standard_normal(shape).astype("float32")
    layer = BatchNormalization(axis=axis, epsilon=0.01)
    layer.build(x.shape)
    c = shape[axis]
    weights = [rng.uniform(0.5, 2, c).astype("float32"), rng.standard_normal(c).astype("float32"),
               rng.standard_normal(c).astype("float32"), rng.uniform(0.5, 2, c).astype("float32")]
    layer.set_weights(weights)
    where = [1] * len(shape)
    where[axis] = c
    g, b, m, v = (w.reshape(where) for w in weights)
    expected = (x - m) / np.sqrt(v + 0.01) * g + b
    np.testing.assert_allclose(layer(x, training=False).detach().numpy(), expected,
                               rtol=1e-5, atol=1e-6)
    if len(shape) == 4:
        strided = torch.from_numpy(np.ascontiguousarray(np.moveaxis(x, 1, -1))).movedim(-1, 1)
        np.testing.assert_allclose(layer(strided, training=False).detach().numpy(), expected,
                                   rtol=1e-5, atol=1e-6)


def test_fused_path_raises_epsilon_to_tensorflows_minimum():
    # TensorFlow's fused kernel (4D, axis 1 or 3) never uses an epsilon below 1.001e-5.
    x = np.full((1, 2, 2, 2), 0.01, "float32")
    fused, plain = BatchNormalization(epsilon=1e-7), BatchNormalization(epsilon=1e-7)
    fused.build(x.shape)
    plain.build((1, 2))
    stats = [np.ones(2, "float32"), np.zeros(2, "float32"), np.zeros(2, "float32"),
             np.full(2, 1e-5, "float32")]
    fused.set_weights(stats)
    plain.set_weights(stats)
    np.testing.assert_allclose(fused(x).detach().numpy(), 0.01 / np.sqrt(1e-5 + 1.001e-5),
                               rtol=1e-5)
    np.testing.assert_allclose(plain(x[:, 0, 0]).detach().numpy(), 0.01 / np.sqrt(1e-5 + 1e-7),
                               rtol=1e-5)
    assert fused.get_config()["epsilon"] == 1e-7


def test_masked_training_statistics_use_unmasked_steps_only():
    rng = np.random.RandomState(5)
    x = rng.standard_normal((3, 4, 2)).astype("float32")
    mask = np.array([[1, 1, 0, 0], [1, 1, 1, 0], [1, 0, 0, 0]], dtype=bool)
    layer = BatchNormalization(momentum=0.5)
    out = layer(x, mask=torch.as_tensor(mask), training=True).detach().numpy()
    kept = x[mask]  # (n_kept, 2)
    mean, var = kept.mean(axis=0), kept.var(axis=0)
    np.testing.assert_allclose(out, (x - mean) / np.sqrt(var + 1e-3), rtol=1e-4, atol=1e-5)
    _, _, moving_mean, moving_var = layer.get_weights()
    np.testing.assert_allclose(moving_mean, 0.5 * mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(moving_var, 0.5 + 0.5 * var, rtol=1e-5, atol=1e-6)


def test_mask_from_an_embedding_reaches_batch_normalization():
    inputs = layers.Input(shape=(4,), dtype="int32")
    out = BatchNormalization()(layers.Embedding(10, 3, mask_zero=True)(inputs))
    assert out._keras_mask is not None


def test_frozen_layer_runs_in_inference_mode():
    rng = np.random.RandomState(2)
    x = (rng.standard_normal((8, 3)) + 4).astype("float32")
    layer = BatchNormalization()
    layer(x)
    layer.trainable = False
    before = layer.get_weights()
    out = layer(x, training=True).detach().numpy()
    np.testing.assert_allclose(out, x / np.sqrt(1 + 1e-3), rtol=1e-6)
    for a, b in zip(before, layer.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 4


def test_training_step_is_differentiable_on_both_paths():
    rng = np.random.RandomState(4)
    x = torch.as_tensor(rng.standard_normal((2, 3, 4, 3)).astype("float32"))
    grads = []
    outs = []
    for fused in (None, False):
        layer = BatchNormalization(fused=fused)
        layer.build(tuple(x.shape))
        layer.set_weights([np.array([1.0, 2.0, 0.5], "float32"),
                           np.array([0.1, 0.2, 0.3], "float32"),
                           np.zeros(3, "float32"), np.ones(3, "float32")])
        out = layer(x, training=True)
        (out ** 3).sum().backward()
        outs.append(out.detach().numpy())
        grads.append([w.grad.numpy() for w in layer.trainable_weights])
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-5, atol=1e-6)
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_weights_order_names_and_trainability():
    layer = BatchNormalization(name="bn")
    layer.build((None, 5))
    assert [w._keras_name for w in layer.weights] == \
        ["bn/gamma:0", "bn/beta:0", "bn/moving_mean:0", "bn/moving_variance:0"]
    assert [w.requires_grad for w in layer.weights] == [True, True, False, False]
    no_scale = BatchNormalization(scale=False, name="bn2")
    no_scale.build((None, 5))
    assert [w._keras_name for w in no_scale.weights] == \
        ["bn2/beta:0", "bn2/moving_mean:0", "bn2/moving_variance:0"]
    assert no_scale.gamma is None


def test_axis_is_written_as_a_list_after_build():
    layer = BatchNormalization()
    assert layer.get_config()["axis"] == -1
    layer.build((None, 3, 4))
    assert layer.get_config()["axis"] == [2]


@pytest.mark.parametrize("kwargs,shape,error,message", [
    ({"axis": 2}, (None, 4), ValueError, "Expected 0 <= axis < inputs.rank"),
    ({"axis": -3}, (None, 4), ValueError, "Expected 0 <= axis < inputs.rank"),
    ({"axis": [1, -1]}, (None, 4), ValueError, "duplicate axis"),
    ({"axis": 1}, (None, None, 3), ValueError, "undefined `axis` dimension"),
    ({"fused": True}, (None, 4), ValueError, "`fused=True` needs a 4D"),
])
def test_batch_normalization_bad_axis(kwargs, shape, error, message):
    with pytest.raises(error, match=message):
        BatchNormalization(**kwargs)(layers.Input(shape=shape[1:]))


def test_axis_of_the_wrong_type_is_a_type_error():
    with pytest.raises(TypeError, match="Expected an int or a list/tuple of ints"):
        BatchNormalization(axis="channels")
    with pytest.raises(TypeError, match="Expected an int or a list/tuple of ints"):
        LayerNormalization(axis=1.5)


# ------------------------------------------------------------------ LayerNormalization

@pytest.mark.parametrize("axis,shape", [(-1, (3, 6)), ([1, 2], (2, 3, 4)), (1, (2, 3, 4)),
                                        ([-1], (2, 3, 5))])
def test_layer_normalization_by_hand(axis, shape):
    rng = np.random.RandomState(7)
    x = (rng.standard_normal(shape) * 3 + 2).astype("float32")
    layer = LayerNormalization(axis=axis, epsilon=0.01)
    layer.build(shape)
    axes = tuple(layer.axis)
    param_shape = tuple(shape[a] for a in axes)
    gamma = rng.uniform(0.5, 1.5, param_shape).astype("float32")
    beta = rng.standard_normal(param_shape).astype("float32")
    layer.set_weights([gamma, beta])
    bshape = [shape[i] if i in axes else 1 for i in range(len(shape))]
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    expected = (x - mean) / np.sqrt(var + 0.01) * gamma.reshape(bshape) + beta.reshape(bshape)
    for training in (False, True):
        np.testing.assert_allclose(layer(x, training=training).detach().numpy(), expected,
                                   rtol=1e-4, atol=1e-5)


def test_layer_normalization_bad_axis():
    with pytest.raises(ValueError, match="Expected 0 <= axis < inputs.rank"):
        LayerNormalization(axis=3)(layers.Input(shape=(4,)))


def test_keras2_module_path():
    from tkeras.layers import normalization
    assert normalization.BatchNormalization is layers.BatchNormalization
    assert normalization.LayerNormalization is layers.LayerNormalization


def test_batch_normalization_initializers_regularizers_and_constraints():
    from tkeras import constraints, initializers, regularizers
    from tkeras.models import Sequential
    bn = BatchNormalization(moving_mean_initializer="ones",
                            moving_variance_initializer=initializers.Constant(2.0),
                            gamma_initializer=initializers.Constant(3.0),
                            gamma_regularizer=regularizers.l2(0.1),
                            beta_regularizer=regularizers.l1(0.5),
                            beta_initializer=initializers.Constant(-1.0),
                            beta_constraint=constraints.NonNeg(),
                            gamma_constraint=constraints.MaxNorm(1.0, axis=0),
                            input_shape=(4,))
    model = Sequential([bn])
    gamma, beta, mean, variance = (w.copy() for w in bn.get_weights())
    np.testing.assert_array_equal(mean, np.ones(4))
    np.testing.assert_array_equal(variance, np.full(4, 2.0))
    np.testing.assert_array_equal(gamma, np.full(4, 3.0))
    # penalties by hand: 0.1 * sum(gamma^2) + 0.5 * sum(|beta|)
    np.testing.assert_allclose(float(sum(model.losses).detach()), 0.1 * 4 * 9.0 + 0.5 * 4 * 1.0, rtol=1e-6)
    model.compile("sgd", "mse")
    x = np.random.RandomState(0).rand(16, 4).astype("float32")
    model.fit(x, np.zeros((16, 4), "float32"), batch_size=16, epochs=1, verbose=0)
    gamma, beta = bn.get_weights()[:2]
    assert np.all(beta >= 0)  # NonNeg after the step (beta started at -1)
    assert np.linalg.norm(gamma) <= 1.0 + 1e-6  # MaxNorm over the only axis


def test_normalization_layers_move_with_module_to():
    """nn.Module.to reaches the layers' weights (a method named ``_apply`` on the layer used
    to shadow torch's and break ``model.to(device)``)."""
    from tkeras import Model, layers
    x = layers.Input((4, 4, 3))
    y = layers.LayerNormalization()(layers.BatchNormalization()(x))
    model = Model(x, y)
    data = torch.rand(2, 4, 4, 3)
    expected = model(data)
    assert model.to("cpu") is model
    torch.testing.assert_close(model(data), expected)
