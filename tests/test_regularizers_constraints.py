"""tkeras.regularizers and tkeras.constraints against numpy formulas written out by hand,
with tf-keras's configs, names and errors."""
import numpy as np
import pytest
import torch

from tkeras import constraints as C
from tkeras import regularizers as R
from tkeras.saving.object_registration import CustomObjectScope

RNG = np.random.default_rng(11)
F32 = lambda v: float(np.float32(v))  # noqa: E731 - tf-keras stores factors as floatx
EPS = 1e-7


def as_np(t):
    assert isinstance(t, torch.Tensor)
    return t.detach().cpu().numpy()


def weights(*shape):
    return RNG.normal(size=shape).astype(np.float32)


# ================================================================== regularizers

def test_l1_l2_penalties_match_numpy():
    w = weights(5, 4)
    t = torch.from_numpy(w)
    for reg, expected in [
        (R.L1(0.3), 0.3 * np.abs(w).sum()),
        (R.L2(0.2), 0.2 * np.square(w).sum()),
        (R.L1L2(l1=0.1, l2=0.05), 0.1 * np.abs(w).sum() + 0.05 * np.square(w).sum()),
        (R.l1_l2(), 0.01 * np.abs(w).sum() + 0.01 * np.square(w).sum()),
    ]:
        out = reg(t)
        assert out.dim() == 0 and out.dtype == torch.float32
        np.testing.assert_allclose(float(out), expected, rtol=1e-6)


def test_penalty_keeps_the_weight_dtype_and_zero_factors_give_zero():
    w = torch.from_numpy(weights(3, 3).astype(np.float64))
    assert R.L2(0.1)(w).dtype == torch.float64
    zero = R.L1L2()(w)
    assert zero.dim() == 0 and float(zero) == 0.0 and zero.dtype == torch.float64


def test_penalty_is_differentiable():
    w = torch.from_numpy(weights(3, 2)).requires_grad_(True)
    (grad,) = torch.autograd.grad(R.L1L2(l1=0.1, l2=0.5)(w), w)
    expected = 0.1 * np.sign(w.detach().numpy()) + 0.5 * 2 * w.detach().numpy()
    np.testing.assert_allclose(as_np(grad), expected, rtol=1e-6)


def test_configs_hold_floatx_rounded_factors_as_tf_keras():
    assert R.L1(0.01).get_config() == {"l1": F32(0.01)}
    assert R.L2().get_config() == {"l2": F32(0.01)}
    assert R.L1L2().get_config() == {"l1": 0.0, "l2": 0.0}
    assert R.L1L2(l1=None, l2=0.5).get_config() == {"l1": 0.0, "l2": 0.5}
    assert R.l1_l2(l1=0.2).get_config() == {"l1": F32(0.2), "l2": F32(0.01)}
    assert R.L1(l=0.3).get_config() == {"l1": F32(0.3)}  # Keras 2's `l=` keyword
    assert R.OrthogonalRegularizer().get_config() == {"factor": F32(0.01), "mode": "rows"}


@pytest.mark.parametrize("reg", [R.L1(0.3), R.L2(0.02), R.L1L2(0.1, 0.2),
                                 R.OrthogonalRegularizer(0.5, "columns")],
                         ids=lambda r: type(r).__name__)
def test_serialize_round_trip(reg):
    config = R.serialize(reg)
    assert config == {"module": "keras.regularizers", "class_name": type(reg).__name__,
                      "config": reg.get_config(), "registered_name": None}
    restored = R.get(config)
    assert type(restored) is type(reg) and restored.get_config() == reg.get_config()


def test_names_and_aliases():
    assert type(R.get("l1")) is R.L1 and R.get("l1").l1 == F32(0.01)
    assert type(R.get("l2")) is R.L2 and type(R.get("L1L2")) is R.L1L2
    both = R.get("l1_l2")  # the string means the function's defaults (0.01, 0.01)
    assert type(both) is R.L1L2 and both.get_config() == {"l1": F32(0.01), "l2": F32(0.01)}
    assert R.l1 is R.L1 and R.l2 is R.L2
    assert type(R.get("orthogonal_regularizer")) is R.OrthogonalRegularizer
    assert isinstance(R.get(R.L2), R.L2)
    assert R.get(None) is None and R.serialize(None) is None


def test_keras_2_legacy_config_loads():
    reg = R.get({"class_name": "L1L2", "config": {"l1": 0.0, "l2": 0.009999999776482582}})
    assert type(reg) is R.L1L2 and reg.l2 == F32(0.01)


def test_invalid_penalties_and_names():
    for bad in (float("nan"), float("inf"), "0.1", None):
        with pytest.raises(ValueError, match="not a valid regularization penalty"):
            R.OrthogonalRegularizer(bad)
    with pytest.raises(TypeError, match="not recognized"):
        R.L2(0.1, l3=0.2)
    with pytest.raises(ValueError, match="Unknown regularizer: 'foo'"):
        R.get("foo")
    with pytest.raises(ValueError, match="Could not interpret regularizer identifier"):
        R.get(0.1)


def l1_reg(weight_matrix):  # seed 001's custom regularizer
    return 0.01 * torch.sum(torch.abs(weight_matrix))


def test_plain_function_regularizer():
    assert R.get(l1_reg) is l1_reg
    assert R.serialize(l1_reg) == "l1_reg"
    with CustomObjectScope({"l1_reg": l1_reg}):
        assert R.get("l1_reg") is l1_reg
    assert R.deserialize("l1_reg", custom_objects={"l1_reg": l1_reg}) is l1_reg


def numpy_orthogonal_penalty(w, factor, mode):
    v = w if mode == "rows" else w.T
    v = v / np.sqrt(np.maximum(np.sum(v ** 2, axis=1, keepdims=True), 1e-12))
    gram = v @ v.T
    n = gram.shape[0]
    off = np.abs(gram * (1 - np.eye(n))).sum()
    return factor * 0.5 * off / (n * (n - 1) / 2)


@pytest.mark.parametrize("mode", ["rows", "columns"])
def test_orthogonal_regularizer_matches_numpy(mode):
    w = weights(6, 4).astype(np.float64)
    out = R.OrthogonalRegularizer(0.2, mode)(torch.from_numpy(w))
    np.testing.assert_allclose(float(out), numpy_orthogonal_penalty(w, F32(0.2), mode), rtol=1e-10)
    assert float(R.OrthogonalRegularizer(1.0, mode)(torch.eye(4))) == 0.0


def test_orthogonal_regularizer_errors():
    with pytest.raises(ValueError, match="rank 2"):
        R.OrthogonalRegularizer()(torch.ones(2, 2, 2))
    with pytest.raises(ValueError, match="mode"):
        R.OrthogonalRegularizer(mode="diagonal")


# ================================================================== constraints

def numpy_norms(w, axis):
    return np.sqrt(np.sum(np.square(w.astype(np.float64)), axis=axis, keepdims=True))


def test_max_norm_matches_numpy_with_epsilon_placement():
    w = weights(5, 4) * 3
    w[:, 1] = 0.0  # a zero column stays zero (epsilon in the denominator, no NaN)
    w[:, 2] = 4e-7  # norm ~1e-6: shrunk by norm / (eps + norm) ~ 0.9, as tf-keras does
    norms = numpy_norms(w, 0)
    expected = w * (np.clip(norms, 0, 2.0) / (EPS + norms))
    out = C.MaxNorm(2.0)(torch.from_numpy(w))
    np.testing.assert_allclose(as_np(out), expected, rtol=1e-6, atol=1e-7)
    assert np.all(as_np(out)[:, 1] == 0.0)
    assert np.all(as_np(out)[:, 2] < 0.95 * w[:, 2])


def test_max_norm_tf_keras_example():
    x = np.array([[0, 0, 0], [1.0, 0, 0], [3, 0, 0], [3, 3, 3]], dtype=np.float32).T
    target = np.array([[0, 0, 0], [1.0, 0, 0], [2.0, 0, 0],
                       [2.0 / np.sqrt(3)] * 3], dtype=np.float32).T
    np.testing.assert_allclose(as_np(C.max_norm(2.0)(torch.from_numpy(x))), target, rtol=1e-5)


def test_max_norm_on_a_conv_kernel_per_filter():
    w = weights(3, 3, 4, 5)
    out = as_np(C.MaxNorm(0.5, axis=[0, 1, 2])(torch.from_numpy(w)))
    norms = numpy_norms(w, (0, 1, 2))
    np.testing.assert_allclose(out, w * (np.clip(norms, 0, 0.5) / (EPS + norms)), rtol=1e-6)
    assert np.all(np.sqrt((out.astype(np.float64) ** 2).sum(axis=(0, 1, 2))) <= 0.5 + 1e-6)


def test_non_neg():
    w = weights(4, 4)
    np.testing.assert_array_equal(as_np(C.NonNeg()(torch.from_numpy(w))), np.where(w >= 0, w, 0))


@pytest.mark.parametrize("axis", [0, 1, [0, 1]])
def test_unit_norm(axis):
    w = weights(6, 3)
    expected = w / (EPS + numpy_norms(w, tuple(axis) if isinstance(axis, list) else axis))
    np.testing.assert_allclose(as_np(C.UnitNorm(axis)(torch.from_numpy(w))), expected, rtol=1e-6)


@pytest.mark.parametrize("rate", [1.0, 0.3])
def test_min_max_norm(rate):
    w = weights(4, 6) * np.array([0.01, 0.1, 0.5, 1, 3, 10], dtype=np.float32)
    norms = numpy_norms(w, 0)
    desired = rate * np.clip(norms, 0.5, 1.5) + (1 - rate) * norms
    out = C.MinMaxNorm(0.5, 1.5, rate=rate)(torch.from_numpy(w))
    np.testing.assert_allclose(as_np(out), w * (desired / (EPS + norms)), rtol=1e-6)


def numpy_radial(kernel):
    """tf-keras's algorithm step by step: start from the centre, pad ring by ring."""
    size = kernel.shape[0]
    start = size // 2
    if size % 2:
        grown, index = kernel[start - 1:start, start - 1:start].copy(), 0
    else:
        grown, index = np.full((2, 2), kernel[start - 1, start - 1]), 1
    while index < start:
        value = kernel[start + index, start + index]
        grown = np.pad(grown, 1, constant_values=value)
        index += 1
    return grown


@pytest.mark.parametrize("width", [2, 3, 4, 5, 6])
def test_radial_constraint_matches_the_tf_keras_algorithm(width):
    w = RNG.random((width, width, 2, 3)).astype(np.float32)
    out = as_np(C.RadialConstraint()(torch.from_numpy(w)))
    assert out.shape == w.shape
    for c in range(2):
        for k in range(3):
            np.testing.assert_array_equal(out[:, :, c, k], numpy_radial(w[:, :, c, k]))
    assert len(set(out[..., 0, 0].flatten())) == (width + 1) // 2


def test_radial_constraint_errors():
    with pytest.raises(ValueError, match="rank 4"):
        C.RadialConstraint()(torch.ones(3, 3))
    with pytest.raises(ValueError, match="square"):
        C.RadialConstraint()(torch.ones(3, 4, 1, 1))


CONSTRAINT_CONFIGS = {
    C.MaxNorm: {"max_value": 2, "axis": 0}, C.NonNeg: {}, C.UnitNorm: {"axis": 0},
    C.MinMaxNorm: {"min_value": 0.0, "max_value": 1.0, "rate": 1.0, "axis": 0},
    C.RadialConstraint: {},
}


@pytest.mark.parametrize("cls,expected", list(CONSTRAINT_CONFIGS.items()),
                         ids=lambda c: getattr(c, "__name__", ""))
def test_constraint_configs_round_trip(cls, expected):
    config = C.serialize(cls())
    assert config == {"module": "keras.constraints", "class_name": cls.__name__,
                      "config": expected, "registered_name": None}
    assert type(C.get(config)) is cls
    custom = C.MaxNorm(3.0, axis=[0, 1, 2])
    assert C.get(C.serialize(custom)).get_config() == {"max_value": 3.0, "axis": [0, 1, 2]}


@pytest.mark.parametrize("name,cls", [
    ("max_norm", C.MaxNorm), ("maxnorm", C.MaxNorm), ("MaxNorm", C.MaxNorm),
    ("non_neg", C.NonNeg), ("nonneg", C.NonNeg), ("unit_norm", C.UnitNorm),
    ("unitnorm", C.UnitNorm), ("min_max_norm", C.MinMaxNorm),
    ("radial_constraint", C.RadialConstraint)])
def test_constraint_names(name, cls):
    assert type(C.get(name)) is cls


def test_constraint_get_edge_cases():
    assert C.get(None) is None
    assert isinstance(C.get(C.NonNeg), C.NonNeg)

    def clip_unit(w):
        return torch.clamp(w, -1, 1)

    assert C.get(clip_unit) is clip_unit
    with pytest.raises(ValueError, match="Unknown constraint: 'foo'"):
        C.get("foo")
    with pytest.raises(ValueError, match="Could not interpret constraint identifier"):
        C.get(1.5)


def test_dense_kernel_constraint_applies_on_the_keras_layout_after_an_update():
    from tkeras.layers import Dense
    from tkeras.optimizers import SGD
    layer = Dense(3, kernel_constraint=C.MaxNorm(0.1))
    layer(torch.ones(2, 5))
    kernel = layer.kernel
    opt = SGD(learning_rate=1.0)
    opt.apply_gradients([(torch.full_like(kernel, -1.0), kernel)])
    norms = torch.sqrt(torch.sum(kernel.detach() ** 2, dim=0))  # per unit: Keras axis 0
    assert tuple(kernel.shape) == (5, 3)
    assert torch.all(norms <= 0.1 + 1e-6) and torch.all(norms > 0.099)


def test_base_regularizer_says_it_has_no_config():
    with pytest.raises(NotImplementedError, match="Regularizer does not implement get_config"):
        R.Regularizer().get_config()
    assert repr(R.Regularizer()) == "Regularizer()"
