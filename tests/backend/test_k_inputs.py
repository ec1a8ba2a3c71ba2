"""Every K function of the foundation issue accepts a torch tensor, a numpy array, a nested
Python list and (where a number makes sense) a Python number, and gives numpy's answer.

Each case names the arrays it is called with; the test converts them to one input kind,
calls ``K`` and compares the result with the same computation done in numpy on the
float32 (or int64) arrays, value and dtype.
"""
from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Sequence, Tuple

import numpy as np
import pytest
import torch

from tkeras import backend as K

KINDS = ("torch", "numpy", "list", "number")

A = np.array([[1.0, -2.0, 3.0], [-4.0, 5.0, -0.5]], dtype=np.float32)      # signs mixed
P = np.array([[0.5, 1.0, 2.0], [3.0, 4.0, 9.0]], dtype=np.float32)         # positive
B = np.array([[1.0, 0.0], [2.0, -1.0], [0.5, 3.0]], dtype=np.float32)      # (3, 2)
X3 = (np.arange(24, dtype=np.float32).reshape(2, 3, 4) - 10.0) / 4.0       # (2, 3, 4)
Y3 = (np.arange(40, dtype=np.float32).reshape(2, 4, 5) % 7.0) - 3.0         # (2, 4, 5)
ROW = np.array([[-1.5, 0.25, 2.0]], dtype=np.float32)                       # (1, 3)
IDX = np.array([[0, 2], [1, 3]], dtype=np.int64)                            # class indices
CUTS = np.array([[1.7, -1.7, 2.2], [-0.4, 0.6, 3.9]], dtype=np.float32)


@dataclass
class Case:
    """One K function call.

    Args:
        name: test id.
        call: the K call, taking the converted data arguments.
        arrays: the data arguments as numpy arrays (converted to each input kind).
        expect: numpy computation of the expected result from the same arrays.
        numbers: Python numbers to call with for the "number" kind (None: no such kind).
        check: optional custom check ``check(result, *arrays)`` instead of ``expect``.
        shape_args: the arrays are shapes (torch.Size / numpy ints / list / int).
    """

    name: str
    call: Callable[..., Any]
    arrays: Tuple[np.ndarray, ...]
    expect: Optional[Callable[..., Any]] = None
    numbers: Optional[Tuple[Any, ...]] = None
    check: Optional[Callable[..., None]] = None
    shape_args: bool = False
    kinds: Sequence[str] = field(default=KINDS)


def sigmoid_np(x):
    return 1.0 / (1.0 + np.exp(-x))


def softmax_np(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def elu_np(x):
    return np.where(x > 0, x, np.exp(x) - np.float32(1))


def set_into_fresh_variable(value):
    """A zero variable of ``value``'s shape, then ``K.set_value(var, value)``."""
    var = K.variable(np.zeros(np.shape(value), dtype=np.float32))
    K.set_value(var, value)
    return var


def check_dropout(out, x):
    """Entries are 0 or x / (1 - 0.5); with 600 entries both occur."""
    out = to_numpy(out)
    assert out.shape == x.shape
    kept = out != 0
    np.testing.assert_allclose(out[kept], x[kept] * 2.0, rtol=1e-6)
    if x.size > 1:
        assert 0.35 < kept.mean() < 0.65


def check_random_normal(out, shape):
    out = to_numpy(out)
    assert out.shape == tuple(np.atleast_1d(shape)) and out.dtype == np.float32
    assert abs(out.mean() - 1.0) < 0.1 and abs(out.std() - 2.0) < 0.1


def check_random_uniform(out, shape):
    out = to_numpy(out)
    assert out.shape == tuple(np.atleast_1d(shape)) and out.dtype == np.float32
    assert out.min() >= -1.0 and out.max() < 3.0
    assert abs(out.mean() - 1.0) < 0.1


def check_batch_get_value(out, a, b):
    assert isinstance(out, list) and len(out) == 2
    for got, want in zip(out, (a, b)):
        np.testing.assert_array_equal(np.asarray(got), want)


BIG = np.ones((20, 30), dtype=np.float32) * 3.0

CASES = [
    # linear algebra
    Case("dot", K.dot, (A, B), np.dot),
    Case("dot_3d", K.dot, (A, X3), np.dot),
    Case("batch_dot_axes1", lambda x, y: K.batch_dot(x, y, axes=1), (A, P),
         lambda x, y: np.sum(x * y, axis=1, keepdims=True)),
    Case("batch_dot_3d", K.batch_dot, (X3, Y3), np.matmul),
    # reductions (a Python number is a 0-d tensor)
    Case("sum", lambda x: K.sum(x, axis=0), (A,), lambda x: np.sum(x, axis=0)),
    Case("sum_all", K.sum, (A,), np.sum, numbers=(2.5,)),
    Case("mean", lambda x: K.mean(x, axis=-1, keepdims=True), (A,),
         lambda x: np.mean(x, axis=-1, keepdims=True)),
    Case("mean_all", K.mean, (A,), np.mean, numbers=(2.5,)),
    Case("max", lambda x: K.max(x, axis=1), (A,), lambda x: np.max(x, axis=1)),
    Case("max_all", K.max, (A,), np.max, numbers=(-3.0,)),
    Case("min", lambda x: K.min(x, axis=0), (A,), lambda x: np.min(x, axis=0)),
    Case("min_all", K.min, (A,), np.min, numbers=(-3.0,)),
    Case("prod", lambda x: K.prod(x, axis=1), (A,), lambda x: np.prod(x, axis=1)),
    Case("prod_all", K.prod, (A,), np.prod, numbers=(1.5,)),
    Case("std", lambda x: K.std(x, axis=1), (A,), lambda x: np.std(x, axis=1)),
    Case("std_all", K.std, (A,), np.std, numbers=(1.5,)),
    Case("var", lambda x: K.var(x, axis=0), (A,), lambda x: np.var(x, axis=0)),
    Case("var_all", K.var, (A,), np.var, numbers=(1.5,)),
    Case("argmax", K.argmax, (A,), lambda x: np.argmax(x, axis=-1)),
    Case("argmax_axis0", lambda x: K.argmax(x, axis=0), (A,), lambda x: np.argmax(x, axis=0)),
    Case("argmin", K.argmin, (A,), lambda x: np.argmin(x, axis=-1)),
    # element-wise
    Case("square", K.square, (A,), np.square, numbers=(-1.5,)),
    Case("sqrt", K.sqrt, (P,), np.sqrt, numbers=(6.25,)),
    Case("abs", K.abs, (A,), np.abs, numbers=(-1.5,)),
    Case("exp", K.exp, (A,), np.exp, numbers=(0.5,)),
    Case("log", K.log, (P,), np.log, numbers=(2.0,)),
    Case("pow", lambda x: K.pow(x, 3), (A,), lambda x: x ** 3, numbers=(-1.5,)),
    Case("clip", lambda x: K.clip(x, -1.0, 2.0), (A,), lambda x: np.clip(x, -1.0, 2.0),
         numbers=(3.5,)),
    Case("maximum", K.maximum, (A, P), np.maximum, numbers=(-1.5, 0.5)),
    Case("minimum", K.minimum, (A, P), np.minimum, numbers=(-1.5, 0.5)),
    Case("equal", K.equal, (A, np.abs(A)), np.equal, numbers=(2.0, 2.0)),
    Case("greater", K.greater, (A, P), np.greater, numbers=(2.0, 1.0)),
    # shapes
    Case("concatenate", lambda x, y: K.concatenate([x, y], axis=-1), (A, P),
         lambda x, y: np.concatenate([x, y], axis=-1)),
    Case("concatenate_axis0", lambda x, y: K.concatenate([x, y], axis=0), (A, P),
         lambda x, y: np.concatenate([x, y], axis=0)),
    Case("reshape", lambda x: K.reshape(x, (3, 2)), (A,), lambda x: np.reshape(x, (3, 2))),
    Case("reshape_minus1", lambda x: K.reshape(x, (-1,)), (X3,), lambda x: x.reshape(-1)),
    Case("transpose", K.transpose, (X3,), np.transpose),
    Case("permute_dimensions", lambda x: K.permute_dimensions(x, (2, 0, 1)), (X3,),
         lambda x: np.transpose(x, (2, 0, 1))),
    Case("expand_dims", lambda x: K.expand_dims(x, 1), (A,), lambda x: np.expand_dims(x, 1)),
    Case("expand_dims_last", K.expand_dims, (A,), lambda x: np.expand_dims(x, -1),
         numbers=(1.5,)),
    Case("squeeze", lambda x: K.squeeze(x, 0), (ROW,), lambda x: np.squeeze(x, 0)),
    Case("repeat", lambda x: K.repeat(x, 2), (A,),
         lambda x: np.repeat(x[:, None, :], 2, axis=1)),
    Case("tile", lambda x: K.tile(x, (2, 3)), (A,), lambda x: np.tile(x, (2, 3))),
    Case("flatten", K.flatten, (X3,), np.ravel),
    Case("cast", lambda x: K.cast(x, "int32"), (CUTS,), lambda x: x.astype(np.int32),
         numbers=(-2.7,)),
    Case("cast_float16", lambda x: K.cast(x, "float16"), (A,), lambda x: x.astype(np.float16),
         numbers=(0.5,)),
    # introspection (results are Python objects)
    Case("int_shape", K.int_shape, (X3,), np.shape, numbers=(2.0,)),
    Case("shape", lambda x: tuple(K.shape(x)), (X3,), np.shape, numbers=(2.0,)),
    Case("ndim", K.ndim, (X3,), np.ndim, numbers=(2.0,)),
    Case("dtype", K.dtype, (A,), lambda x: x.dtype.name, kinds=("torch", "numpy")),
    # creation
    Case("zeros", K.zeros, (np.array([2, 3]),), lambda s: np.zeros(s, np.float32),
         numbers=(4,), shape_args=True),
    Case("ones", K.ones, (np.array([3, 1, 2]),), lambda s: np.ones(s, np.float32),
         numbers=(4,), shape_args=True),
    Case("eye", K.eye, (np.array([3, 4]),), lambda s: np.eye(*np.atleast_1d(s), dtype=np.float32),
         numbers=(3,), shape_args=True),
    Case("zeros_like", K.zeros_like, (A,), np.zeros_like, numbers=(1.5,)),
    Case("ones_like", K.ones_like, (IDX,), np.ones_like, numbers=(1.5,)),
    Case("variable", K.variable, (A,), lambda x: x, numbers=(1.5,)),
    Case("constant", K.constant, (A,), lambda x: x, numbers=(1.5,)),
    # values (host reads return numpy; non-tensors come back unchanged, as in Keras)
    Case("get_value", K.get_value, (A,), lambda x: x, numbers=(1.5,)),
    Case("eval", K.eval, (A,), lambda x: x, numbers=(1.5,)),
    Case("set_value", set_into_fresh_variable, (A,), lambda x: x, numbers=(1.5,)),
    Case("batch_get_value", lambda a, b: K.batch_get_value([a, b]), (A, P),
         check=check_batch_get_value, numbers=(1.5, -2.0)),
    # nn
    Case("relu", K.relu, (A,), lambda x: np.maximum(x, 0), numbers=(-1.5,)),
    Case("relu_alpha_max", lambda x: K.relu(x, alpha=0.1, max_value=2.5), (A,),
         lambda x: np.where(x > 0, np.minimum(x, 2.5), 0.1 * x), numbers=(-1.5,)),
    Case("elu", K.elu, (A,), elu_np, numbers=(-1.5,)),
    Case("sigmoid", K.sigmoid, (A,), sigmoid_np, numbers=(0.5,)),
    Case("hard_sigmoid", K.hard_sigmoid, (A,), lambda x: np.clip(0.2 * x + 0.5, 0.0, 1.0),
         numbers=(1.5,)),
    Case("softmax", K.softmax, (A,), softmax_np),
    Case("softmax_axis0", lambda x: K.softmax(x, axis=0), (X3,), lambda x: softmax_np(x, 0)),
    Case("softplus", K.softplus, (A,), lambda x: np.log1p(np.exp(x)), numbers=(-1.5,)),
    Case("softsign", K.softsign, (A,), lambda x: x / (np.abs(x) + 1), numbers=(-1.5,)),
    Case("tanh", K.tanh, (A,), np.tanh, numbers=(0.5,)),
    Case("l2_normalize", lambda x: K.l2_normalize(x, axis=-1), (A,),
         lambda x: x / np.sqrt(np.sum(x * x, axis=-1, keepdims=True))),
    Case("l2_normalize_all", K.l2_normalize, (A,), lambda x: x / np.sqrt(np.sum(x * x)),
         numbers=(-3.0,)),
    Case("one_hot", lambda i: K.one_hot(i, 4), (IDX,),
         lambda i: np.eye(4, dtype=np.float32)[i], numbers=(2,)),
    Case("bias_add", K.bias_add, (A, np.array([0.5, -1.0, 2.0], np.float32)),
         lambda x, b: x + b),
    Case("bias_add_channels_first",
         lambda x, b: K.bias_add(x, b, data_format="channels_first"),
         (X3, np.array([1.0, -1.0, 0.25], np.float32)), lambda x, b: x + b[None, :, None]),
    Case("dropout", lambda x: K.dropout(x, 0.5, seed=3), (BIG,), check=check_dropout,
         numbers=(3.0,)),
    Case("random_normal", lambda s: K.random_normal(s, mean=1.0, stddev=2.0, seed=5),
         (np.array([100, 100]),), check=check_random_normal, numbers=(10000,),
         shape_args=True),
    Case("random_uniform", lambda s: K.random_uniform(s, minval=-1.0, maxval=3.0, seed=5),
         (np.array([50, 200]),), check=check_random_uniform, numbers=(10000,),
         shape_args=True),
]


def phase_case(fn_name, training):
    """``K.in_train_phase`` / ``K.in_test_phase`` with a given ``training`` flag (a Python
    bool picks one argument as is; a bool tensor selects between the two tensors)."""
    train = bool(training)
    picks_x = (fn_name == "in_train_phase") == train
    flag_name = type(training).__name__
    return Case(f"{fn_name}_{'train' if train else 'test'}_{flag_name}",
                lambda x, alt: getattr(K, fn_name)(x, alt, training=training), (A, P),
                lambda x, alt: x if picks_x else alt, numbers=(1.5, -2.0))


CASES += [phase_case(fn_name, flag) for fn_name in ("in_train_phase", "in_test_phase")
          for flag in (True, False, 1, 0, torch.tensor(True), torch.tensor(False))]


def to_numpy(result):
    if isinstance(result, torch.Tensor):
        return result.detach().cpu().numpy()
    return np.asarray(result)


def convert(arr, kind, shape_args):
    """``arr`` as the input kind: torch tensor, numpy array or nested Python list."""
    if shape_args:
        return {"torch": torch.Size(arr.tolist()), "numpy": arr, "list": arr.tolist()}[kind]
    return {"torch": torch.tensor(arr), "numpy": arr, "list": arr.tolist()}[kind]


def numpy_args_for(case, kind):
    if kind == "number":
        return tuple(np.asarray(n, dtype=np.float32 if isinstance(n, float) else np.int64)
                     for n in case.numbers)
    return case.arrays


def inputs_for(case, kind):
    if kind == "number":
        return case.numbers
    return tuple(convert(a, kind, case.shape_args) for a in case.arrays)


def case_params():
    for case in CASES:
        for kind in case.kinds:
            if kind == "number" and case.numbers is None:
                continue
            yield pytest.param(case, kind, id=f"{case.name}-{kind}")


def assert_same_dtype(result, expected):
    if isinstance(result, torch.Tensor):
        assert str(result.dtype).replace("torch.", "") == np.asarray(expected).dtype.name


@pytest.mark.parametrize("case,kind", list(case_params()))
def test_k_function_accepts_input_kind_and_matches_numpy(case, kind):
    result = case.call(*inputs_for(case, kind))
    np_args = numpy_args_for(case, kind)
    if case.check is not None:
        case.check(result, *np_args)
        return
    expected = case.expect(*np_args)
    if isinstance(expected, (tuple, int, str)):
        assert result == expected and type(result) is type(expected)
        return
    got = to_numpy(result)
    assert got.shape == np.shape(expected)
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)
    assert_same_dtype(result, expected)


@pytest.mark.parametrize("kind", ["torch", "numpy", "list"])
def test_tensor_results_are_torch_tensors(kind):
    """K functions return torch tensors whatever they are given (autograd flows through)."""
    x = convert(A, kind, False)
    for fn in (K.square, K.sum, K.softmax, K.transpose, K.relu, K.zeros_like, K.constant):
        assert isinstance(fn(x), torch.Tensor), fn.__name__


def test_host_reads_turn_tensors_into_numpy():
    t = torch.tensor(A)
    for fn in (K.get_value, K.eval):
        out = fn(t)
        assert isinstance(out, np.ndarray) and out.dtype == np.float32
    assert isinstance(K.get_value(torch.tensor(2.5)), np.float32)
    assert all(isinstance(v, np.ndarray) for v in K.batch_get_value([t, t * 2]))


def test_variable_copies_its_value():
    src = torch.tensor(A)
    var = K.variable(src)
    src.zero_()
    np.testing.assert_array_equal(to_numpy(var), A)
    assert var.requires_grad is False and var.dtype == torch.float32
    assert K.variable(A.astype(np.float64)).dtype == torch.float32  # floatx, as Keras


@pytest.mark.parametrize("value", [1.5, [[1.0, 2.0]], (3, 4)])
def test_dtype_of_a_python_value_is_a_clear_type_error(value):
    """Keras 2's K.dtype reads ``x.dtype``: Python numbers and lists have none."""
    with pytest.raises(TypeError, match=r"`dtype` expects a tensor\. Received: .* of type "
                                        + type(value).__name__):
        K.dtype(value)


@pytest.mark.parametrize("arr,name", [
    (np.zeros(2, np.float64), "float64"), (np.zeros(2, np.int32), "int32"),
    (np.zeros(2, np.bool_), "bool"), (np.zeros(2, np.float16), "float16"),
])
def test_dtype_names_of_tensors_and_numpy_arrays(arr, name):
    assert K.dtype(arr) == name
    assert K.dtype(torch.tensor(arr)) == name


@pytest.mark.parametrize("kind", ["torch", "numpy", "number"])
def test_set_learning_phase_takes_each_kind_and_learning_phase_reads_it(kind):
    make = {"torch": torch.tensor, "numpy": np.int64, "number": int}[kind]
    assert K.learning_phase() == 0  # never set: test phase
    K.set_learning_phase(make(1))
    assert K.learning_phase() == 1 and type(K.learning_phase()) is int
    K.set_learning_phase(make(0))
    assert K.learning_phase() == 0
    with pytest.raises(ValueError, match="Expected learning phase to be 0 or 1"):
        K.set_learning_phase(make(2))


def test_epsilon_and_floatx_getters():
    assert K.epsilon() == 1e-7 and isinstance(K.epsilon(), float)
    assert K.floatx() == "float32"
    K.set_epsilon(np.float32(1e-4))
    try:
        assert K.epsilon() == pytest.approx(1e-4) and isinstance(K.epsilon(), float)
    finally:
        K.set_epsilon(1e-7)
    K.set_floatx("float64")
    try:
        assert K.floatx() == "float64"
        assert K.constant(2.5).dtype == torch.float64  # Python numbers follow floatx
    finally:
        K.set_floatx("float32")


LISTED = (
    "dot batch_dot sum mean max min prod std var square sqrt abs exp log pow clip maximum "
    "minimum equal greater argmax argmin concatenate reshape transpose permute_dimensions "
    "expand_dims squeeze repeat tile flatten cast int_shape shape ndim dtype zeros ones "
    "zeros_like ones_like eye variable constant get_value set_value batch_get_value eval "
    "epsilon floatx relu elu sigmoid hard_sigmoid softmax softplus softsign tanh l2_normalize "
    "one_hot bias_add dropout random_normal random_uniform in_train_phase in_test_phase "
    "learning_phase set_learning_phase").split()
TESTED_OUTSIDE_THE_TABLE = {"epsilon", "floatx", "learning_phase", "set_learning_phase"}


def test_every_listed_function_is_in_k_and_in_the_table():
    missing = [n for n in LISTED if not callable(getattr(K, n, None))]
    assert not missing, f"not in tkeras.backend: {missing}"
    case_names = {c.name for c in CASES}
    untested = [n for n in LISTED if n not in TESTED_OUTSIDE_THE_TABLE
                and not any(c == n or c.startswith(n + "_") for c in case_names)]
    assert not untested, f"no input-kind case for: {untested}"
