"""Tests of the Keras backend tensor functions (tkeras.backend.ops) against numpy,
hand-computed values and the keras_reference data recorded with tf-keras 2.21."""
import warnings

import numpy as np
import pytest
import torch

from conftest import load_case
from tkeras import backend as K
from tkeras._warn import TkerasDeprecationWarning, TkerasWarning
from tkeras.backend import ops

RNG = np.random.default_rng(0)


def np_of(t):
    assert isinstance(t, torch.Tensor)
    return t.detach().cpu().numpy()


def close(t, expected, atol=1e-6, rtol=1e-5):
    np.testing.assert_allclose(np_of(t), expected, atol=atol, rtol=rtol)


class FakeSymbolic:
    """Stands in for the engine's KerasTensor: a shape tuple with None, a dtype name."""

    def __init__(self, shape, dtype="float32"):
        self.shape = shape
        self.dtype = dtype
        self._keras_history = None


# ------------------------------------------------------------------ conversion

def test_python_and_numpy_inputs_become_tensors_floats_as_floatx():
    assert K.square(3.0).dtype == torch.float32
    assert K.sum([1.0, 2.0]).dtype == torch.float32
    assert K.abs(np.array([-1.5], dtype=np.float64)).dtype == torch.float32
    ints = K.abs([-1, 2])
    assert ints.dtype == torch.int64
    np.testing.assert_array_equal(np_of(ints), [1, 2])
    assert K.maximum(np.array([1.0, 5.0]), 3).dtype == torch.float32
    close(K.maximum(np.array([1.0, 5.0]), 3), [3.0, 5.0])


def test_python_scalar_keeps_the_tensor_dtype():
    x = torch.tensor([1.0, 4.0], dtype=torch.float64)
    assert K.maximum(x, 2.0).dtype == torch.float64
    assert K.minimum(2.0, x).dtype == torch.float64


def test_floatx_change_applies_to_converted_floats():
    K.set_floatx("float64")
    try:
        assert K.square(np.ones(2, dtype=np.float32)).dtype == torch.float64
        assert K.variable([1, 2]).dtype == torch.float64
    finally:
        K.set_floatx("float32")


def test_symbolic_input_to_math_raises_type_error():
    with pytest.raises(TypeError, match="symbolic"):
        K.square(FakeSymbolic((None, 3)))


# ------------------------------------------------------------------ reductions

REDUCTIONS = [
    (K.sum, np.sum), (K.mean, np.mean), (K.max, np.max), (K.min, np.min), (K.prod, np.prod),
    (K.var, np.var), (K.std, np.std),
    (K.logsumexp, lambda a, axis=None, keepdims=False: np.log(np.sum(np.exp(a), axis=axis,
                                                                  keepdims=keepdims))),
]


@pytest.mark.parametrize("fn,np_fn", REDUCTIONS, ids=lambda f: getattr(f, "__name__", ""))
@pytest.mark.parametrize("axis", [None, 0, -1, [0, 2], (1,)])
@pytest.mark.parametrize("keepdims", [False, True])
def test_reductions_match_numpy(fn, np_fn, axis, keepdims):
    a = RNG.uniform(0.5, 1.5, size=(2, 3, 4)).astype(np.float32)
    np_axis = tuple(axis) if isinstance(axis, list) else axis
    expected = np_fn(a, axis=np_axis, keepdims=keepdims)
    out = fn(torch.tensor(a), axis=axis, keepdims=keepdims)
    assert tuple(out.shape) == np.shape(expected)
    close(out, expected, rtol=1e-5)


def test_var_is_population_variance_and_std_its_root():
    x = [1.0, 2.0, 3.0, 4.0]
    close(K.var(x), 1.25)
    close(K.std(x), np.sqrt(1.25))


def test_mean_casts_bool_and_int_to_floatx():
    out = K.mean(np.array([True, False, True, True]))
    assert out.dtype == torch.float32
    close(out, 0.75)
    close(K.mean(torch.tensor([1, 2]), axis=0), 1.5)


def test_reduction_of_scalar_and_empty_axis_list():
    close(K.sum(torch.tensor(3.0)), 3.0)
    close(K.var(torch.tensor(3.0)), 0.0)
    x = torch.arange(6.0).reshape(2, 3)
    assert torch.equal(K.sum(x, axis=[]), x)


def test_any_all_argmax_argmin_cumsum_cumprod():
    a = np.array([[0, 1, 0], [0, 0, 0]])
    np.testing.assert_array_equal(np_of(K.any(a, axis=1)), [True, False])
    np.testing.assert_array_equal(np_of(K.all(a + 1, axis=0, keepdims=True)), [[True] * 3])
    assert K.any(a).dtype == torch.bool
    b = np.array([[3.0, 9.0, 1.0], [7.0, 2.0, 8.0]])
    np.testing.assert_array_equal(np_of(K.argmax(b)), [1, 2])
    np.testing.assert_array_equal(np_of(K.argmin(b, axis=0)), [0, 1, 0])
    close(K.cumsum(b, axis=1), np.cumsum(b, axis=1))
    close(K.cumprod(b), np.cumprod(b, axis=0))


def test_reduction_axis_out_of_range_raises():
    with pytest.raises(ValueError, match="out of range"):
        K.sum(np.ones((2, 3)), axis=2)


# ------------------------------------------------------------------ element-wise

def test_elementwise_math_matches_numpy():
    a = RNG.uniform(0.1, 2.0, size=(3, 4)).astype(np.float32)
    for fn, np_fn in [(K.square, np.square), (K.sqrt, np.sqrt), (K.abs, np.abs), (K.exp, np.exp),
                      (K.log, np.log), (K.sin, np.sin), (K.cos, np.cos), (K.tanh, np.tanh),
                      (K.sign, np.sign)]:
        close(fn(a - 1.0 if fn in (K.abs, K.sign) else a),
              np_fn(a - 1.0 if fn in (K.abs, K.sign) else a))
    close(K.pow(a, 3), a ** 3, rtol=1e-5)
    close(K.pow(a, torch.tensor(0.5)), a ** 0.5)


def test_sqrt_clips_negatives_to_zero_with_zero_gradient():
    x = torch.tensor([-4.0, 4.0], requires_grad=True)
    y = K.sqrt(x)
    close(y, [0.0, 2.0])
    y.sum().backward()
    close(x.grad, [0.0, 0.25])


def test_round_is_half_to_even():
    close(K.round([0.5, 1.5, 2.5, -0.5, -1.7]), [0.0, 2.0, 2.0, -0.0, -2.0])


def test_clip_bounds_none_and_inverted():
    x = np.array([-3.0, 0.5, 3.0])
    close(K.clip(x, -1.0, 1.0), [-1.0, 0.5, 1.0])
    close(K.clip(x, None, 1.0), [-3.0, 0.5, 1.0])
    close(K.clip(x, 0.0, None), [0.0, 0.5, 3.0])
    close(K.clip(x, 2.0, 1.0), [2.0, 2.0, 2.0])  # max < min: max raised to min (Keras)
    close(K.clip(x, torch.tensor(-1.0), torch.tensor(2.0)), [-1.0, 0.5, 2.0])


def test_comparisons_return_bool_and_broadcast():
    x = np.array([[1.0, 2.0, 3.0]])
    y = np.array([[2.0], [1.0]])
    for fn, np_fn in [(K.equal, np.equal), (K.not_equal, np.not_equal), (K.greater, np.greater),
                      (K.greater_equal, np.greater_equal), (K.less, np.less),
                      (K.less_equal, np.less_equal)]:
        out = fn(x, y)
        assert out.dtype == torch.bool
        np.testing.assert_array_equal(np_of(out), np_fn(x, y))
    np.testing.assert_array_equal(np_of(K.greater(torch.tensor([1, 5]), 2)), [False, True])


def test_maximum_minimum_match_numpy():
    a, b = RNG.normal(size=(2, 3)), RNG.normal(size=(3,))
    close(K.maximum(a, b), np.maximum(a, b).astype(np.float32))
    close(K.minimum(a, b), np.minimum(a, b).astype(np.float32))


# ------------------------------------------------------------------ dot / batch_dot

def test_dot_2d_and_nd_match_numpy_dot():
    cases = [((2, 3), (3, 4)), ((32, 28, 3), (3, 4)), ((2, 3), (4, 3, 5)), ((2, 3, 4), (5, 4, 6))]
    for xs, ys in cases:
        x = RNG.normal(size=xs).astype(np.float32)
        y = RNG.normal(size=ys).astype(np.float32)
        out = K.dot(torch.tensor(x), y)
        assert tuple(out.shape) == np.dot(x, y).shape
        close(out, np.dot(x, y), atol=1e-5)


@pytest.mark.parametrize("xs,ys,axes,out_shape", [
    ((32, 20, 1), (32, 30, 20), (1, 2), (32, 1, 30)),
    ((100, 20), (100, 30, 20), (1, 2), (100, 30)),
    ((2, 3), (2, 3), 1, (2, 1)),
    ((2, 3), (2, 3), None, (2, 1)),
    ((4, 3, 5), (4, 5, 6), None, (4, 3, 6)),
    ((4, 3, 5), (4, 6, 3), (1, 2), (4, 5, 6)),
    ((2, 3, 4, 5), (2, 5, 6), None, (2, 3, 4, 6)),
    ((2, 3, 4), (2, 4, 5, 6), (2, 1), (2, 3, 5, 6)),
    ((3, 4, 5), (3, 5), None, (3, 4)),
])
def test_batch_dot_shapes_and_values(xs, ys, axes, out_shape):
    x = RNG.normal(size=xs).astype(np.float32)
    y = RNG.normal(size=ys).astype(np.float32)
    out = K.batch_dot(x, y, axes=axes)
    assert K.int_shape(out) == out_shape
    # independent reference: per-sample np.tensordot over the chosen axes
    if axes is None:
        a0, a1 = x.ndim - 1, (y.ndim - 1 if y.ndim == 2 else y.ndim - 2)
    elif isinstance(axes, int):
        a0 = a1 = axes
    else:
        a0, a1 = axes
    ref = np.stack([np.tensordot(x[i], y[i], axes=([a0 - 1], [a1 - 1])) for i in range(xs[0])])
    close(out, ref.reshape(out_shape), atol=1e-5)


def test_batch_dot_keras_docstring_values():
    close(K.batch_dot([[1.0, 2.0], [3.0, 4.0]], [[5.0, 6.0], [7.0, 8.0]], axes=1), [[17.0], [53.0]])


def test_batch_dot_errors():
    with pytest.raises(ValueError, match="rank < 2"):
        K.batch_dot(np.ones(3), np.ones((3, 2)))
    with pytest.raises(ValueError, match="axis 0"):
        K.batch_dot(np.ones((2, 3)), np.ones((2, 3)), axes=0)
    with pytest.raises(ValueError, match="different batch sizes"):
        K.batch_dot(np.ones((2, 3)), np.ones((4, 3)))
    with pytest.raises(ValueError, match=r"x.shape\[1\] != y.shape\[1\]"):
        K.batch_dot(np.ones((2, 3)), np.ones((2, 4)), axes=1)
    with pytest.raises(ValueError, match="Multiple target dimensions"):
        K.batch_dot(np.ones((2, 3, 4)), np.ones((2, 3, 4)), axes=[[1, 2], [1, 2]])


@pytest.mark.parametrize("case", ["merge_dot", "merge_dot_3d", "merge_dot_normalize"])
def test_batch_dot_reproduces_keras_dot_layer(case):
    arrays, meta = load_case("layers", case + ".npz")
    axes = meta["config"]["axes"]
    x, y = arrays["input_0"], arrays["input_1"]
    if meta["config"]["normalize"]:
        ax = axes if isinstance(axes, int) else axes[0]
        x, y = K.l2_normalize(x, axis=ax), K.l2_normalize(y, axis=ax)
    close(K.batch_dot(x, y, axes=axes), arrays["output_0"], atol=1e-6)


def test_batch_dot_gradients_flow():
    x = torch.randn(3, 4, 5, requires_grad=True)
    y = torch.randn(3, 5, 2)
    K.sum(K.batch_dot(x, y)).backward()
    close(x.grad, np.broadcast_to(np_of(y.sum(-1))[:, None, :], (3, 4, 5)), atol=1e-5)


# ------------------------------------------------------------------ shape functions

def test_concatenate_stack_reshape_with_shape():
    a, b = np.ones((2, 3)), np.zeros((2, 1))
    assert K.int_shape(K.concatenate([a, b])) == (2, 4)
    assert K.int_shape(K.concatenate([a, a], axis=0)) == (4, 3)
    assert K.int_shape(K.stack([a, a], axis=1)) == (2, 2, 3)
    x = torch.arange(24.0).reshape(2, 3, 4)
    flat = K.reshape(x, (K.shape(x)[0], -1))
    assert flat.shape == (2, 12)
    close(flat, np.arange(24.0).reshape(2, 12))


def test_transpose_and_permute_dimensions():
    a = np.arange(6.0).reshape(2, 3)
    close(K.transpose(a), a.T)
    b = np.arange(24.0).reshape(2, 3, 4)
    close(K.transpose(b), b.transpose())
    close(K.permute_dimensions(b, (0, 2, 1)), b.transpose(0, 2, 1))
    with pytest.raises(ValueError, match="permutation"):
        K.permute_dimensions(b, (0, 1, 1))


def test_permute_matches_keras_permute_layer():
    arrays, meta = load_case("layers", "permute.npz")
    pattern = (0,) + tuple(meta["config"]["dims"])
    close(K.permute_dimensions(arrays["input_0"], pattern), arrays["output_0"])


def test_expand_dims_and_squeeze():
    x = np.ones((2, 3))
    assert K.int_shape(K.expand_dims(x)) == (2, 3, 1)
    assert K.int_shape(K.expand_dims(x, 0)) == (1, 2, 3)
    assert K.int_shape(K.squeeze(np.ones((2, 1, 3)), 1)) == (2, 3)
    with pytest.raises(ValueError, match="expected a dimension of 1"):
        K.squeeze(x, 1)


def test_repeat_matches_keras_repeat_vector():
    arrays, meta = load_case("layers", "repeat_vector.npz")
    close(K.repeat(arrays["input_0"], meta["config"]["n"]), arrays["output_0"])
    with pytest.raises(ValueError, match="2D"):
        K.repeat(np.ones((2, 3, 4)), 2)


def test_repeat_elements_tile_flatten_reverse():
    a = np.arange(6.0).reshape(2, 3)
    close(K.repeat_elements(a, 2, axis=1), np.repeat(a, 2, axis=1))
    close(K.repeat_elements([1, 2, 3], 2, axis=0), [1, 1, 2, 2, 3, 3])
    close(K.tile(a, (2, 3)), np.tile(a, (2, 3)))
    close(K.tile([1.0, 2.0], 2), [1.0, 2.0, 1.0, 2.0])
    with pytest.raises(ValueError, match="one multiple per axis"):
        K.tile(a, 2)
    close(K.flatten(a), a.reshape(-1))
    close(K.reverse(a, 1), a[:, ::-1])
    close(K.reverse(a, [0, 1]), a[::-1, ::-1])


def test_batch_flatten_matches_keras_flatten_layer():
    arrays, _ = load_case("layers", "flatten.npz")
    close(K.batch_flatten(arrays["input_0"]), arrays["output_0"])
    assert K.int_shape(K.batch_flatten(torch.zeros(0, 3, 4))) == (0, 12)


def test_arange_keras_conventions():
    out = K.arange(5)
    assert out.dtype == torch.int32
    np.testing.assert_array_equal(np_of(out), np.arange(5))
    assert K.arange(-3).numel() == 0
    out = K.arange(0, 10, 1.5)
    assert out.dtype == torch.float32
    close(out, np.arange(0, 10, 1.5))
    assert K.arange(1, 4, dtype="int64").dtype == torch.int64


def test_one_hot_and_gather():
    out = K.one_hot(np.array([[0, 2], [1, 3]]), 3)
    assert out.dtype == torch.float32
    expected = np.zeros((2, 2, 3), np.float32)
    expected[0, 0, 0] = expected[0, 1, 2] = expected[1, 0, 1] = 1  # 3 is out of range: zeros
    close(out, expected)
    ref = np.arange(12.0).reshape(4, 3)
    close(K.gather(ref, [0, 3, 0]), ref[[0, 3, 0]])
    close(K.gather(ref, np.array([[1], [2]])), np.take(ref, [[1], [2]], axis=0))
    with pytest.raises(TypeError, match="integer indices"):
        K.gather(ref, [0.5])


# ------------------------------------------------------------------ introspection

def test_int_shape_shape_ndim_dtype_count_params():
    t = torch.zeros(2, 3, dtype=torch.int32)
    assert K.int_shape(t) == (2, 3) and isinstance(K.int_shape(t)[0], int)
    assert K.int_shape(np.zeros((4,))) == (4,)
    sym = FakeSymbolic((None, 5), "float16")
    assert K.int_shape(sym) == (None, 5)
    assert K.ndim(sym) == 2 and K.shape(sym) == (None, 5)
    assert K.dtype(sym) == "float16"
    assert K.shape(t) == torch.Size([2, 3])
    assert K.ndim(t) == 2 and K.ndim(np.zeros((1, 2, 3))) == 3
    assert K.dtype(t) == "int32" and K.dtype(K.variable(1.0)) == "float32"
    assert K.dtype(np.zeros(2, np.float64)) == "float64"
    assert K.count_params(K.zeros((2, 3))) == 6


def test_is_tensor_and_is_keras_tensor():
    sym = FakeSymbolic((None, 2))
    assert K.is_keras_tensor(sym) and K.is_tensor(sym)
    assert not K.is_keras_tensor(torch.zeros(2)) and K.is_tensor(torch.zeros(2))
    assert not K.is_tensor(np.zeros(2))
    with pytest.raises(ValueError, match="Expected a symbolic tensor"):
        K.is_keras_tensor(np.array([1, 2]))


def test_cast_and_unknown_dtype_errors():
    x = K.cast([1.7, -2.2], "int32")
    assert x.dtype == torch.int32
    np.testing.assert_array_equal(np_of(x), [1, -2])
    assert K.cast(x, torch.float64).dtype == torch.float64
    for bad in (lambda: K.cast(x, "float33"), lambda: K.variable(1.0, dtype="nope"),
                lambda: K.zeros((2,), dtype="foo"), lambda: K.random_normal((2,), dtype="x")):
        with pytest.raises(ValueError, match="Unknown dtype"):
            bad()
    arr = K.cast_to_floatx(np.array([1, 2], dtype=np.float64))
    assert isinstance(arr, np.ndarray) and arr.dtype == np.float32


# ------------------------------------------------------------------ variables and values

def test_variable_get_value_set_value_round_trip():
    init = np.array([[1, 2], [3, 4]])
    v = K.variable(init, name="example_var")
    assert v.dtype == torch.float32 and not v.requires_grad and v.is_leaf
    assert v._keras_name == "example_var:0" and v.constraint is None
    init[0, 0] = 100  # the variable holds a copy
    got = K.get_value(v)
    np.testing.assert_array_equal(got, [[1.0, 2.0], [3.0, 4.0]])
    assert got.dtype == np.float32
    K.set_value(v, np.array([[5, 6], [7, 8]]))
    np.testing.assert_array_equal(K.eval(v), [[5.0, 6.0], [7.0, 8.0]])
    assert v.dtype == torch.float32
    np.testing.assert_array_equal(got, [[1.0, 2.0], [3.0, 4.0]])  # earlier reads are copies
    with pytest.raises(ValueError, match=r"shape \(3,\).*example_var:0.*\(2, 2\)"):
        K.set_value(v, [1.0, 2.0, 3.0])
    with pytest.raises(TypeError):
        K.set_value(np.zeros(2), [1.0, 2.0])


def test_scalar_variable_and_batch_values():
    lr = K.variable(0.01, dtype="float64")
    K.set_value(lr, 0.5)
    value = K.get_value(lr)
    assert isinstance(value, np.float64) and value == 0.5
    a, b = K.variable([1.0]), K.variable(np.zeros((2, 2)), dtype="int32")
    K.batch_set_value([(a, [3.0]), (b, np.ones((2, 2)))])
    got = K.batch_get_value([a, b])
    np.testing.assert_array_equal(got[0], [3.0])
    assert got[1].dtype == np.int32 and got[1].sum() == 4
    assert K.get_value(np.array([1, 2])).tolist() == [1, 2]  # non-tensors pass through
    constraint = object()
    assert K.variable(1.0, constraint=constraint).constraint is constraint


def test_set_value_writes_into_parameters_in_place():
    p = torch.nn.Parameter(torch.zeros(2, 2))
    storage = p.data_ptr()
    K.set_value(p, np.ones((2, 2)))
    assert p.requires_grad and p.data_ptr() == storage
    close(p, np.ones((2, 2)))
    with pytest.raises(TypeError, match="expects a tensor"):
        K.dtype(3)


def test_zeros_ones_eye_like_constant():
    z = K.zeros((2, 3), dtype="int32", name="z")
    assert z.dtype == torch.int32 and z._keras_name == "z:0"
    close(K.ones([2]), [1.0, 1.0])
    close(K.eye(3), np.eye(3))
    close(K.eye((2, 3)), np.eye(2, 3))
    x = torch.zeros(2, 2, dtype=torch.float64)
    assert K.zeros_like(x).dtype == torch.float64
    assert K.ones_like(x, dtype="int64").dtype == torch.int64
    close(K.ones_like(x), np.ones((2, 2)))
    c = K.constant(2.5, shape=(2, 2))
    assert c.dtype == torch.float32
    close(c, np.full((2, 2), 2.5))
    close(K.constant([1, 2, 3, 4], shape=(2, 2)), [[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(ValueError, match="cannot take the shape"):
        K.constant([1, 2, 3], shape=(2, 2))


def test_updates_and_moving_average():
    x = K.variable([0.0, 10.0])
    K.moving_average_update(x, [2.0, 0.0], 0.9)
    close(x, [0.2, 9.0])
    K.update_add(x, [1.0, 1.0])
    K.update_sub(x, [0.2, 0.0])
    close(x, [1.0, 10.0])
    K.update(x, np.array([3.0, 4.0]))
    close(x, [3.0, 4.0])


def test_identity_and_stop_gradient():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = K.identity(x)
    assert y is not x
    (K.sum(y * 3) + K.sum(K.stop_gradient(x) * 5)).backward()
    close(x.grad, [3.0, 3.0])
    outs = K.stop_gradient([x, x])
    assert isinstance(outs, list) and not outs[0].requires_grad


# ------------------------------------------------------------------ activations

ACTIVATION_CASES = {
    "activation_relu": K.relu, "activation_sigmoid": K.sigmoid, "activation_tanh": K.tanh,
    "activation_softmax": K.softmax, "activation_elu": K.elu, "activation_softplus": K.softplus,
    "activation_softsign": K.softsign, "activation_hard_sigmoid": K.hard_sigmoid,
    "softmax_layer": K.softmax, "elu_layer": K.elu,
}


@pytest.mark.parametrize("case", sorted(ACTIVATION_CASES))
def test_activations_match_keras_reference(case):
    arrays, _ = load_case("layers", case + ".npz")
    close(ACTIVATION_CASES[case](arrays["input_0"]), arrays["output_0"])


@pytest.mark.parametrize("case", ["relu_layer", "relu_max_value_negative_slope_threshold",
                                  "relu_max_value_only", "leaky_relu"])
def test_relu_matches_keras_relu_layers(case):
    arrays, meta = load_case("layers", case + ".npz")
    cfg = meta["config"]
    if case == "leaky_relu":
        out = K.relu(arrays["input_0"], alpha=cfg["alpha"])
    else:
        out = K.relu(arrays["input_0"], alpha=cfg["negative_slope"], max_value=cfg["max_value"],
                     threshold=cfg["threshold"])
    close(out, arrays["output_0"])


def test_relu_elu_hard_sigmoid_by_hand():
    x = np.array([-3.0, -0.5, 0.0, 0.25, 2.0, 9.0], np.float32)
    close(K.relu(x), np.maximum(x, 0))
    close(K.relu(x, max_value=6.0), np.clip(x, 0, 6))
    close(K.relu(x, alpha=0.1, max_value=6.0, threshold=0.5),
          np.where(x > 0.5, np.minimum(x, 6.0), 0.1 * (x - 0.5)))
    close(K.elu(x, alpha=0.5), np.where(x > 0, x, 0.5 * (np.exp(x) - 1)))
    close(K.hard_sigmoid(x), np.clip(0.2 * x + 0.5, 0, 1))


def test_softmax_axes_and_1d_error():
    a = RNG.normal(size=(2, 3, 4)).astype(np.float32)
    e = np.exp(a - a.max(axis=1, keepdims=True))
    close(K.softmax(a, axis=1), e / e.sum(axis=1, keepdims=True))
    e = np.exp(a - a.max(axis=(1, 2), keepdims=True))
    close(K.softmax(a, axis=(1, 2)), e / e.sum(axis=(1, 2), keepdims=True))
    with pytest.raises(ValueError, match="1D"):
        K.softmax([1.0, 2.0])


def test_l2_normalize_formula():
    a = np.array([[3.0, 4.0], [0.0, 0.0]], np.float32)
    close(K.l2_normalize(a, axis=1), [[0.6, 0.8], [0.0, 0.0]])
    close(K.l2_normalize(a), a / 5.0)
    tiny = np.array([[1e-7, 0.0]], np.float32)  # sum of squares below 1e-12: divided by 1e-6
    close(K.l2_normalize(tiny, axis=-1), tiny / 1e-6, rtol=1e-4)


def test_bias_add_data_formats():
    x = np.zeros((2, 3, 4, 5), np.float32)
    close(K.bias_add(x, np.arange(5.0), "channels_last"), x + np.arange(5.0))
    close(K.bias_add(x, np.arange(3.0), "channels_first"), x + np.arange(3.0).reshape(1, 3, 1, 1))
    close(K.bias_add(np.zeros((2, 3)), [1.0, 2.0, 3.0], "channels_first"), [[1.0, 2.0, 3.0]] * 2)
    nd_bias = RNG.normal(size=(3, 4, 5)).astype(np.float32)
    close(K.bias_add(x, nd_bias, "channels_last"), x + nd_bias)
    close(K.bias_add(x, nd_bias, "channels_first"), x + nd_bias)  # already (C, H, W)
    hwc = RNG.normal(size=(4, 5, 3)).astype(np.float32)
    close(K.bias_add(x, hwc, "channels_first"), x + hwc.transpose(2, 0, 1))
    with pytest.raises(ValueError, match="Unexpected bias dimensions"):
        K.bias_add(x, np.zeros((4, 5)))
    with pytest.raises(ValueError, match="does not match"):
        K.bias_add(x, np.zeros(4), "channels_last")
    with pytest.raises(ValueError, match="data_format"):
        K.bias_add(x, np.zeros(5), "channels_middle")


def test_in_top_k_counts_ties_inside():
    preds = np.array([[0.1, 0.5, 0.5, 0.2], [0.9, 0.05, 0.03, 0.02]], np.float32)
    np.testing.assert_array_equal(np_of(K.in_top_k(preds, [2, 3], 1)), [True, False])
    np.testing.assert_array_equal(np_of(K.in_top_k(preds, [0, 1], 2)), [False, True])


def test_batch_normalization_and_normalize_batch_in_training():
    x = RNG.normal(size=(6, 4)).astype(np.float32)
    gamma, beta = np.array([1.0, 2.0, 0.5, 1.0], np.float32), np.full(4, 0.1, np.float32)
    normed, m, v = K.normalize_batch_in_training(x, gamma, beta, [0], epsilon=1e-3)
    close(m, x.mean(0))
    close(v, x.var(0))
    close(normed, (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-3) * gamma + beta, atol=1e-5)
    close(K.batch_normalization(x, x.mean(0), x.var(0), beta, gamma), np_of(normed), atol=1e-5)
    img = RNG.normal(size=(2, 3, 3, 2)).astype(np.float32)
    normed, m, v = K.normalize_batch_in_training(img, None, None, [0, 1, 2])
    n = 2 * 3 * 3
    close(v, img.var(axis=(0, 1, 2)) * n / (n - 1), rtol=1e-5)  # fused kernel: unbiased
    ref = (img - img.mean((0, 1, 2))) / np.sqrt(img.var((0, 1, 2)) + 1e-3)
    close(normed, ref, atol=1e-5)
    cf = RNG.normal(size=(2, 3, 4)).astype(np.float32)
    normed, m, v = K.normalize_batch_in_training(cf, np.ones(3), np.zeros(3), [0, 2])
    assert K.int_shape(m) == (3,)
    close(v, cf.var(axis=(0, 2)))
    close(K.batch_normalization(cf, m, v, None, None, axis=1),
          (cf - cf.mean((0, 2), keepdims=True)) / np.sqrt(cf.var((0, 2), keepdims=True) + 1e-3),
          atol=1e-5)


# ------------------------------------------------------------------ cross-entropies

def _loss_case(name):
    arrays, meta = load_case("losses_metrics", f"loss_{name}.npz")
    return arrays["y_true"], arrays["y_pred"], arrays["function_per_sample"], meta["kwargs"]


@pytest.mark.parametrize("name", ["binary_crossentropy", "binary_crossentropy_from_logits",
                                  "binary_crossentropy_soft_targets"])
def test_binary_crossentropy_matches_reference(name):
    y, p, expected, kwargs = _loss_case(name)
    out = K.binary_crossentropy(y, p, from_logits=kwargs.get("from_logits", False))
    assert out.shape == p.shape  # element-wise, not averaged
    close(K.mean(out, axis=-1), expected)


@pytest.mark.parametrize("name", ["categorical_crossentropy", "categorical_crossentropy_unnormalised",
                                  "categorical_crossentropy_from_logits",
                                  "categorical_crossentropy_soft_targets"])
def test_categorical_crossentropy_matches_reference(name):
    y, p, expected, kwargs = _loss_case(name)
    close(K.categorical_crossentropy(y, p, from_logits=kwargs.get("from_logits", False)), expected)


@pytest.mark.parametrize("name", ["sparse_categorical_crossentropy",
                                  "sparse_categorical_crossentropy_3d",
                                  "sparse_categorical_crossentropy_column_labels",
                                  "sparse_categorical_crossentropy_from_logits"])
def test_sparse_categorical_crossentropy_matches_reference(name):
    y, p, expected, kwargs = _loss_case(name)
    out = K.sparse_categorical_crossentropy(y, p, from_logits=kwargs.get("from_logits", False))
    assert out.shape == expected.shape
    close(out, expected)


def test_focal_crossentropies_match_reference():
    y, p, expected, kwargs = _loss_case("binary_focal_crossentropy")
    close(K.mean(K.binary_focal_crossentropy(y, p, gamma=kwargs["gamma"]), axis=-1), expected)
    y, p, expected, kwargs = _loss_case("categorical_focal_crossentropy")
    close(K.categorical_focal_crossentropy(y, p, gamma=kwargs["gamma"]), expected)


def test_crossentropy_uses_logits_remembered_by_softmax_and_sigmoid():
    logits = torch.tensor([[30.0, -30.0, 0.0], [1.0, 2.0, 3.0]])
    y = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]], np.float32)
    direct = K.categorical_crossentropy(y, logits, from_logits=True)
    close(K.categorical_crossentropy(y, K.softmax(logits)), np_of(direct))
    assert float(direct[0]) > 50  # clipping the probability would cap it at -log(1e-7) ~ 16
    with pytest.warns(TkerasWarning, match="does not represent logits"):
        K.categorical_crossentropy(y, K.softmax(logits), from_logits=True)
    yb = np.array([[1.0, 0.0, 1.0]], np.float32)
    lb = torch.tensor([[-40.0, 40.0, 0.5]])
    close(K.binary_crossentropy(yb, K.sigmoid(lb)),
          np_of(K.binary_crossentropy(yb, lb, from_logits=True)))


def test_sparse_crossentropy_axis_and_ignore_class():
    p = RNG.uniform(0.1, 1.0, size=(2, 4, 3)).astype(np.float32)
    p /= p.sum(axis=1, keepdims=True)
    labels = np.array([[0, 3, 1], [2, 2, 0]])
    out = K.sparse_categorical_crossentropy(labels, p, axis=1)
    expected = -np.log(np.take_along_axis(p, labels[:, None, :], axis=1)[:, 0, :])
    close(out, expected, rtol=1e-5)
    logits = RNG.normal(size=(2, 3, 5)).astype(np.float32)
    labels = np.array([[1, -1, 4], [-1, 0, 2]])
    out = K.sparse_categorical_crossentropy(labels, logits, from_logits=True, ignore_class=-1)
    lsm = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    expected = np.where(labels >= 0, -np.take_along_axis(lsm, np.maximum(labels, 0)[..., None],
                                                         -1)[..., 0], 0.0)
    close(out, expected, atol=1e-5)
    np.testing.assert_array_equal(np_of(out._keras_mask), labels >= 0)
    with pytest.raises(ValueError, match="do not match"):
        K.sparse_categorical_crossentropy(np.zeros(5, np.int64), p[0])


def test_categorical_crossentropy_shape_mismatch():
    with pytest.raises(ValueError, match="incompatible"):
        K.categorical_crossentropy(np.ones((2, 3)), np.ones((2, 4)))


# ------------------------------------------------------------------ dropout and random

def test_dropout_zeroes_level_and_scales_survivors():
    x = torch.ones(200_000)
    out = K.dropout(x, 0.3)
    dropped = float((out == 0).float().mean())
    assert abs(dropped - 0.3) < 0.01
    survivors = out[out != 0]
    close(survivors, np.full(survivors.numel(), 1 / 0.7, np.float32))
    assert abs(float(out.mean()) - 1.0) < 0.02


def test_dropout_noise_shape_and_gradient():
    x = torch.ones(400, 8, requires_grad=True)
    out = K.dropout(x, 0.5, noise_shape=(None, 1), seed=3)
    rows = np_of(out)
    assert np.all((rows == 0).all(1) | np.isclose(rows, 2.0).all(1))
    assert 0.35 < (rows == 0).all(1).mean() < 0.65
    out.sum().backward()
    np.testing.assert_allclose(np_of(x.grad), rows)  # d(out)/dx is the scaled mask


def test_dropout_seeded_sequence_is_reproducible():
    x = torch.ones(1000)
    first = K.dropout(x, 0.5, seed=7)
    second = K.dropout(x, 0.5, seed=7)
    assert not torch.equal(first, second)  # a sequence, not one fixed mask
    K.clear_session()
    assert torch.equal(K.dropout(x, 0.5, seed=7), first)
    assert torch.equal(K.dropout(x, 0.5, seed=7), second)


def test_dropout_level_errors_and_zero():
    x = torch.ones(3)
    assert torch.equal(K.dropout(x, 0.0), x)
    for bad in (1.0, -0.1, 1.5):
        with pytest.raises(ValueError, match=r"range \[0, 1\)"):
            K.dropout(x, bad)


@pytest.mark.parametrize("fn,kwargs", [
    (K.random_normal, {"mean": 1.0, "stddev": 2.0}),
    (K.random_uniform, {"minval": -1.0, "maxval": 3.0}),
    (K.truncated_normal, {"mean": 0.5, "stddev": 0.1}),
    (K.random_bernoulli, {"p": 0.3}),
])
def test_seeded_random_functions_reproducible(fn, kwargs):
    a = fn((50, 4), seed=123, **kwargs)
    b = fn((50, 4), seed=123, **kwargs)
    assert a.shape == (50, 4) and a.dtype == torch.float32
    assert not torch.equal(a, b)
    K.clear_session()
    assert torch.equal(fn((50, 4), seed=123, **kwargs), a)
    assert not torch.equal(fn((50, 4), seed=124, **kwargs), a)


def test_random_distributions_statistics():
    torch.manual_seed(0)
    n = K.random_normal((100_000,), mean=1.0, stddev=2.0)
    assert abs(float(n.mean()) - 1.0) < 0.05 and abs(float(n.std()) - 2.0) < 0.05
    u = K.random_uniform((100_000,), minval=-1.0, maxval=3.0)
    assert float(u.min()) >= -1.0 and float(u.max()) < 3.0 and abs(float(u.mean()) - 1.0) < 0.05
    t = K.truncated_normal((100_000,), mean=0.5, stddev=0.1)
    assert float(t.min()) >= 0.3 - 1e-6 and float(t.max()) <= 0.7 + 1e-6
    # std of a standard normal truncated at +-2: 0.8796
    assert abs(float(t.std()) - 0.1 * 0.8796) < 0.002
    b = K.random_bernoulli((100_000,), p=0.3)
    assert set(np.unique(np_of(b))) <= {0.0, 1.0} and abs(float(b.mean()) - 0.3) < 0.01
    ints = K.random_uniform((1000,), 0, 5, dtype="int32", seed=1)
    assert ints.dtype == torch.int32 and set(np.unique(np_of(ints))) == {0, 1, 2, 3, 4}
    assert K.random_normal((2,), dtype="float64").dtype == torch.float64


def test_random_binomial_is_deprecated_alias():
    with pytest.warns(TkerasDeprecationWarning, match="random_bernoulli"):
        out = K.random_binomial((10,), p=1.0)
    close(out, np.ones(10))


def test_random_variables():
    v = K.random_normal_variable((3, 2), 0.0, 1.0, name="w", seed=1)
    assert v._keras_name == "w:0" and v.shape == (3, 2) and not v.requires_grad
    u = K.random_uniform_variable((4,), 2.0, 3.0)
    assert float(u.min()) >= 2.0 and float(u.max()) < 3.0


# ------------------------------------------------------------------ learning phase / switch

def test_in_train_phase_follows_learning_phase():
    x, alt = torch.ones(2), torch.zeros(2)
    assert K.in_train_phase(x, alt) is alt  # never set: test phase
    K.set_learning_phase(1)
    assert K.in_train_phase(x, alt) is x
    assert K.in_train_phase(lambda: "train", lambda: "test") == "train"
    assert K.in_test_phase(x, alt) is alt
    K.set_learning_phase(0)
    assert K.in_train_phase(x, alt) is alt
    assert K.in_train_phase(x, alt, training=True) is x
    assert K.in_train_phase(x, alt, training=1) is x
    assert K.in_test_phase(x, alt, training=False) is x


def test_in_train_phase_with_tensor_flag_and_call_context_provider():
    x, alt = torch.ones(2), torch.zeros(2)
    close(K.in_train_phase(x, alt, training=torch.tensor(True)), [1.0, 1.0])
    close(K.in_train_phase(lambda: x, alt, training=torch.tensor(False)), [0.0, 0.0])
    ops.register_training_flag_provider(lambda: True)
    try:
        assert K.in_train_phase(x, alt) is x
        assert K.in_train_phase(x, alt, training=False) is alt
    finally:
        ops.register_training_flag_provider(None)
    assert K.in_train_phase(x, alt) is alt


def test_switch_scalar_and_elementwise():
    a, b = np.ones((2, 3)), np.zeros((2, 3))
    assert K.switch(True, lambda: "yes", "no") == "yes"
    close(K.switch(torch.tensor(0), a, b), b)
    close(K.switch(np.array([True, False]), a, b), [[1.0] * 3, [0.0] * 3])  # leading axes
    cond = np.array([[True, False, True], [False, False, True]])
    close(K.switch(cond, a, b), cond.astype(np.float32))
    with pytest.raises(ValueError, match="Rank of `condition`"):
        K.switch(np.ones((2, 3, 1), bool), np.ones(3), np.zeros(3))


def test_map_fn_foldl_foldr():
    x = np.arange(6.0).reshape(3, 2)
    close(K.map_fn(lambda r: r * 2, x), x * 2)
    close(K.foldl(lambda acc, r: acc + r, x), x.sum(0))
    assert K.foldr(lambda acc, r: acc * 10 + r, torch.tensor([1.0, 2.0, 3.0])) == 321.0


# ------------------------------------------------------------------ meta device (shape inference)

def test_functions_run_on_meta_tensors():
    x = torch.empty(4, 3, 5, device="meta")
    assert K.batch_dot(x, torch.empty(4, 5, 2, device="meta")).shape == (4, 3, 2)
    assert K.dot(x, torch.empty(5, 7, device="meta")).shape == (4, 3, 7)
    assert K.dropout(x, 0.5, seed=1).shape == x.shape
    assert K.batch_flatten(x).shape == (4, 15)
    assert K.bias_add(x, torch.empty(5, device="meta")).shape == x.shape
    assert K.softmax(x).shape == x.shape
    assert K.one_hot(torch.empty(4, dtype=torch.long, device="meta"), 6).shape == (4, 6)
    assert K.sparse_categorical_crossentropy(torch.empty(4, 3, dtype=torch.long, device="meta"),
                                             x).shape == (4, 3)
    assert K.concatenate([x, np.zeros((4, 3, 1), np.float32)]).shape == (4, 3, 6)
    assert K.mean(K.square(x), axis=-1).shape == (4, 3)
    with pytest.raises(ValueError, match="meta"):
        K.get_value(x)


def test_module_exports_and_warnings_clean():
    for name in ops.__all__:
        assert hasattr(K, name), name
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        K.categorical_crossentropy(np.eye(3), np.eye(3) * 0.9 + 0.03)
