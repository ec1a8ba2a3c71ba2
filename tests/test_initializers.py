"""tkeras.initializers: shapes and dtypes, distributions checked on large samples against the
Keras formulas written out by hand, orthogonality, seeds, names and the keras_reference
configs."""
import math

import numpy as np
import pytest
import torch

import tkeras
from conftest import load_case, ref_index
from tkeras import backend as K
from tkeras import initializers as I

TRUNC = 0.87962566103423978  # std of a unit normal truncated at +-2


def as_np(t):
    assert isinstance(t, torch.Tensor)
    return t.detach().cpu().numpy().astype(np.float64)


def check_moments(values, mean, std, rel=0.03):
    """Sample mean within 5 standard errors of ``mean``, sample std within ``rel`` of ``std``."""
    n = values.size
    assert abs(values.mean() - mean) < 5 * std / math.sqrt(n) + 1e-12, (values.mean(), mean)
    assert abs(values.std() - std) < rel * std, (values.std(), std)


# ------------------------------------------------------------------ names

NAMES = {
    "zeros": I.Zeros, "Zeros": I.Zeros, "zero": I.Zeros, "ones": I.Ones, "one": I.Ones,
    "constant": I.Constant, "uniform": I.RandomUniform, "random_uniform": I.RandomUniform,
    "RandomUniform": I.RandomUniform, "normal": I.RandomNormal, "random_normal": I.RandomNormal,
    "truncated_normal": I.TruncatedNormal, "variance_scaling": I.VarianceScaling,
    "orthogonal": I.Orthogonal, "identity": I.Identity, "glorot_uniform": I.GlorotUniform,
    "glorot_normal": I.GlorotNormal, "he_uniform": I.HeUniform, "he_normal": I.HeNormal,
    "lecun_uniform": I.LecunUniform, "lecun_normal": I.LecunNormal,
    "GlorotUniformV2": I.GlorotUniform, "glorot_uniformV2": I.GlorotUniform,
}


@pytest.mark.parametrize("name,cls", list(NAMES.items()))
def test_names_resolve_to_instances(name, cls):
    init = I.get(name)
    assert type(init) is cls
    assert I.deserialize(name).__class__ is cls


def test_module_level_keras_2_aliases():
    assert isinstance(I.glorot_uniform(seed=3), I.GlorotUniform)
    assert I.he_normal(seed=3).get_config() == {"seed": 3}
    assert isinstance(I.normal(), I.RandomNormal) and isinstance(I.uniform(), I.RandomUniform)


def test_get_passes_through_instances_and_callables_and_instantiates_classes():
    init = I.HeNormal()
    assert I.get(init) is init
    assert I.get(None) is None
    assert isinstance(I.get(I.Orthogonal), I.Orthogonal)

    def my_init(shape, dtype=None):  # seed 001's custom initializer
        return K.random_normal(shape, dtype=dtype)

    assert I.get(my_init) is my_init
    assert tuple(I.get(my_init)((3, 2), dtype="float32").shape) == (3, 2)


def test_unknown_name_and_bad_identifier():
    with pytest.raises(ValueError, match="Unknown initializer: 'foo'"):
        I.get("foo")
    with pytest.raises(ValueError, match="Could not interpret initializer identifier"):
        I.get(3)


# ------------------------------------------------------------------ shapes and dtypes

ALL_INITS = [I.Zeros(), I.Ones(), I.Constant(2.0), I.RandomUniform(), I.RandomNormal(),
             I.TruncatedNormal(), I.VarianceScaling(), I.Orthogonal(), I.Identity(),
             I.GlorotUniform(), I.GlorotNormal(), I.HeUniform(), I.HeNormal(),
             I.LecunUniform(), I.LecunNormal()]


@pytest.mark.parametrize("init", ALL_INITS, ids=lambda i: type(i).__name__)
def test_shape_and_dtype(init):
    out = init((4, 5))
    assert isinstance(out, torch.Tensor) and tuple(out.shape) == (4, 5)
    assert out.dtype == torch.float32  # floatx
    assert init((4, 5), dtype="float64").dtype == torch.float64
    assert init((4, 5), dtype=torch.float16).dtype == torch.float16
    assert init([4, 5], dtype=np.dtype("float32")).dtype == torch.float32


def test_dtype_none_follows_floatx():
    K.set_floatx("float64")
    try:
        assert I.GlorotUniform()((2, 2)).dtype == torch.float64
    finally:
        K.set_floatx("float32")


def test_integer_and_bool_dtypes():
    np.testing.assert_array_equal(I.Zeros()((2, 3), dtype="int32").numpy(), np.zeros((2, 3)))
    assert I.Ones()((2,), dtype="bool").dtype == torch.bool
    ints = I.RandomUniform(minval=0, maxval=5, seed=1)((1000,), dtype="int32")
    assert ints.dtype == torch.int32
    assert ints.min() >= 0 and ints.max() <= 4 and len(torch.unique(ints)) == 5
    for init in (I.RandomNormal(), I.TruncatedNormal(), I.GlorotUniform(), I.Orthogonal(),
                 I.Identity()):
        with pytest.raises(ValueError, match="Expected floating point type"):
            init((2, 2), dtype="int32")


def test_unknown_call_keyword_is_a_type_error():
    with pytest.raises(TypeError, match="Unknown keyword arguments"):
        I.Zeros()((2, 2), foo=1)


def test_constant_values():
    np.testing.assert_array_equal(I.Constant(3.5)((2, 2)).numpy(), np.full((2, 2), 3.5))
    np.testing.assert_array_equal(I.Constant([1, 2, 3, 4])((2, 2)).numpy(), [[1, 2], [3, 4]])
    with pytest.raises(ValueError, match="cannot fill shape"):
        I.Constant([1, 2, 3])((2, 2))


# ------------------------------------------------------------------ distributions

def test_random_uniform_statistics():
    v = as_np(I.RandomUniform(minval=-0.3, maxval=0.7)((200, 500)))
    assert v.min() >= -0.3 and v.max() < 0.7
    check_moments(v, 0.2, 1.0 / math.sqrt(12))
    d = as_np(I.RandomUniform()((100_000,)))  # defaults: [-0.05, 0.05)
    assert d.min() >= -0.05 and d.max() < 0.05 and d.max() > 0.049


def test_random_normal_statistics():
    v = as_np(I.RandomNormal(mean=1.5, stddev=0.2)((200, 500)))
    check_moments(v, 1.5, 0.2)
    assert np.abs(v - 1.5).max() > 3 * 0.2  # not truncated
    check_moments(as_np(I.RandomNormal()((100_000,))), 0.0, 0.05)


def test_truncated_normal_statistics():
    v = as_np(I.TruncatedNormal(mean=-1.0, stddev=0.5)((200, 500)))
    assert np.abs(v + 1.0).max() <= 2 * 0.5 + 1e-6
    assert np.abs(v + 1.0).max() > 0.99  # reaches the bounds
    check_moments(v, -1.0, 0.5 * TRUNC)


CONV_SHAPE = (3, 5, 40, 60)  # receptive field 15: fan_in 600, fan_out 900


@pytest.mark.parametrize("mode,n", [("fan_in", 600), ("fan_out", 900), ("fan_avg", 750)])
@pytest.mark.parametrize("distribution", ["truncated_normal", "untruncated_normal", "uniform"])
def test_variance_scaling_statistics(mode, n, distribution):
    scale = 2.5
    v = as_np(I.VarianceScaling(scale=scale, mode=mode, distribution=distribution)(CONV_SHAPE))
    std = math.sqrt(scale / n)
    if distribution == "uniform":
        limit = math.sqrt(3 * scale / n)
        assert np.abs(v).max() <= limit and np.abs(v).max() > 0.99 * limit
    elif distribution == "truncated_normal":
        assert np.abs(v).max() <= 2 * std / TRUNC + 1e-6
    else:
        assert np.abs(v).max() > 2.5 * std
    check_moments(v, 0.0, std)


def test_keras_2_normal_distribution_means_truncated_normal():
    init = I.VarianceScaling(distribution="normal")
    assert init.distribution == "truncated_normal"
    assert init.get_config()["distribution"] == "truncated_normal"


def test_variance_scaling_argument_errors():
    with pytest.raises(ValueError, match="scale"):
        I.VarianceScaling(scale=0.0)
    with pytest.raises(ValueError, match="mode"):
        I.VarianceScaling(mode="fan_max")
    with pytest.raises(ValueError, match="distribution"):
        I.VarianceScaling(distribution="cauchy")


PRESETS = [  # (class, expected std on a (200, 300) kernel, uniform?)
    (I.GlorotUniform, math.sqrt(2.0 / 500), True),
    (I.GlorotNormal, math.sqrt(2.0 / 500), False),
    (I.HeUniform, math.sqrt(2.0 / 200), True),
    (I.HeNormal, math.sqrt(2.0 / 200), False),
    (I.LecunUniform, math.sqrt(1.0 / 200), True),
    (I.LecunNormal, math.sqrt(1.0 / 200), False),
]


@pytest.mark.parametrize("cls,std,uniform", PRESETS, ids=lambda p: getattr(p, "__name__", ""))
def test_preset_statistics(cls, std, uniform):
    v = as_np(cls()((200, 300)))
    bound = std * math.sqrt(3) if uniform else 2 * std / TRUNC
    assert np.abs(v).max() <= bound + 1e-6
    check_moments(v, 0.0, std)
    assert isinstance(cls(), I.VarianceScaling)


def test_fans_as_keras_computes_them():
    assert I.compute_fans(()) == (1, 1)
    assert I.compute_fans((7,)) == (7, 7)
    assert I.compute_fans((3, 4)) == (3, 4)
    assert I.compute_fans((3, 3, 2, 8)) == (18, 72)
    assert I.compute_fans((2, 3, 4, 5, 6)) == (120, 144)


def test_one_dimensional_and_scalar_shapes():
    v = as_np(I.VarianceScaling(mode="fan_in", distribution="uniform")((40_000,)))
    limit = math.sqrt(3.0 / 40_000)  # a 1-D shape (n,) has fan_in = fan_out = n
    assert np.abs(v).max() <= limit and np.abs(v).max() > 0.99 * limit
    s = as_np(I.GlorotUniform()(()))  # scalar: fans 1, limit sqrt(3)
    assert s.shape == () and abs(float(s)) <= math.sqrt(3.0)


@pytest.mark.parametrize("shape", [(6, 6), (9, 4), (4, 9), (2, 3, 5), (3, 3, 4, 2)])
def test_orthogonal(shape):
    gain = 1.7
    q = as_np(I.Orthogonal(gain=gain)(shape))
    assert q.shape == shape
    flat = q.reshape(-1, shape[-1])
    rows, cols = flat.shape
    gram = flat.T @ flat if rows >= cols else flat @ flat.T
    np.testing.assert_allclose(gram, gain ** 2 * np.eye(min(rows, cols)), atol=1e-5)


def test_orthogonal_needs_two_dimensions():
    with pytest.raises(ValueError, match="at least two-dimensional"):
        I.Orthogonal()((5,))


def test_identity():
    np.testing.assert_array_equal(I.Identity(gain=3.0)((3, 3)).numpy(), 3 * np.eye(3))
    np.testing.assert_array_equal(I.Identity()((2, 4)).numpy(), np.eye(2, 4))
    with pytest.raises(ValueError, match="2D matrices"):
        I.Identity()((3, 3, 3))
    with pytest.raises(ValueError, match="2D matrices"):
        I.Identity()((3,))


# ------------------------------------------------------------------ seeds

SEEDED = [I.RandomUniform(seed=5), I.RandomNormal(seed=5), I.TruncatedNormal(seed=5),
          I.VarianceScaling(seed=5, distribution="untruncated_normal"), I.Orthogonal(seed=5),
          I.GlorotUniform(seed=5), I.HeNormal(seed=5)]


@pytest.mark.parametrize("init", SEEDED, ids=lambda i: type(i).__name__)
def test_seeded_initializers_repeat_their_values(init):
    a = init((8, 6))
    torch.rand(10)  # the global generator does not matter
    assert torch.equal(a, init((8, 6)))
    assert torch.equal(a, type(init).from_config(init.get_config())((8, 6)))
    other = type(init).from_config({**init.get_config(), "seed": 6})
    assert not torch.equal(a, other((8, 6)))


def test_unseeded_initializers_use_the_global_generator():
    init = I.GlorotNormal()
    first, second = init((10, 10)), init((10, 10))
    assert not torch.equal(first, second)
    tkeras.utils.set_random_seed(123)
    a = init((10, 10))
    tkeras.utils.set_random_seed(123)
    assert torch.equal(a, init((10, 10)))


# ------------------------------------------------------------------ configs

DEFAULT_CONFIGS = {
    I.Zeros: {}, I.Ones: {}, I.Constant: {"value": 0},
    I.RandomUniform: {"minval": -0.05, "maxval": 0.05, "seed": None},
    I.RandomNormal: {"mean": 0.0, "stddev": 0.05, "seed": None},
    I.TruncatedNormal: {"mean": 0.0, "stddev": 0.05, "seed": None},
    I.VarianceScaling: {"scale": 1.0, "mode": "fan_in", "distribution": "truncated_normal",
                        "seed": None},
    I.Orthogonal: {"gain": 1.0, "seed": None}, I.Identity: {"gain": 1.0},
    I.GlorotUniform: {"seed": None}, I.GlorotNormal: {"seed": None}, I.HeUniform: {"seed": None},
    I.HeNormal: {"seed": None}, I.LecunUniform: {"seed": None}, I.LecunNormal: {"seed": None},
}


@pytest.mark.parametrize("cls,expected", list(DEFAULT_CONFIGS.items()),
                         ids=lambda c: getattr(c, "__name__", ""))
def test_default_configs_and_round_trip(cls, expected):
    init = cls()
    assert init.get_config() == expected
    serialized = I.serialize(init)
    assert serialized == {"module": "keras.initializers", "class_name": cls.__name__,
                          "config": expected, "registered_name": None}
    restored = I.deserialize(serialized)
    assert type(restored) is cls and restored.get_config() == expected


def reference_initializer_configs():
    found = {}
    for case in ref_index("layers")["cases"]:
        _, meta = load_case("layers", case["file"])
        for key, value in meta["config"].items():
            if key.endswith("_initializer") and isinstance(value, dict):
                found.setdefault(value["class_name"], value)
    return found


def test_keras_reference_initializer_configs_round_trip():
    configs = reference_initializer_configs()
    assert set(configs) == {"GlorotUniform", "Zeros", "Ones", "RandomUniform", "Orthogonal"}
    for config in configs.values():
        assert I.serialize(I.get(config)) == config


def test_older_config_forms_load():
    # Keras 2.0-2.2 wrote GlorotUniform as VarianceScaling, TF 1.x added a dtype
    legacy = I.get({"class_name": "VarianceScaling",
                    "config": {"scale": 1.0, "mode": "fan_avg", "distribution": "uniform",
                               "seed": None}})
    assert isinstance(legacy, I.VarianceScaling) and legacy.mode == "fan_avg"
    tf1 = I.get({"class_name": "GlorotUniform", "config": {"seed": None, "dtype": "float32"}})
    assert type(tf1) is I.GlorotUniform
