"""tkeras.optimizers: keras_reference trajectories, Keras 2 behaviour, the training-loop API."""
import json
import math

import numpy as np
import pytest
import torch

import tkeras.backend as K
from conftest import load_case, ref_index, ref_path
from optimizer_test_utils import check_optimizer, check_slots_round_trip, named, reference_optimizer
from tkeras import optimizers as O
from tkeras.backend import config as backend_config
from tkeras.optimizers import experimental, legacy, schedules

CASES = ref_index("optimizers")["cases"]
ADAPTIVE = ("RMSprop", "Adagrad", "Adadelta", "Adam", "AdamW", "Adamax", "Nadam", "Ftrl")


# ------------------------------------------------------------------ the shared optimizer test

@pytest.mark.parametrize("case", CASES, ids=[c["case"] for c in CASES])
def test_keras_reference_trajectory_variables_and_config(case):
    _, meta = load_case("optimizers", case["file"])
    atol = 1e-6 if meta["optimizer_class"] in ADAPTIVE else 5e-7
    check_optimizer(lambda: reference_optimizer(meta), case["file"], atol=atol)


def _exported_optimizer_classes():
    classes = set()
    for module in (O, legacy, experimental):
        for name in getattr(module, "__all__", dir(module)):
            value = getattr(module, name)
            if isinstance(value, type) and issubclass(value, O.Optimizer):
                classes.add(value)
    return classes


# Exported optimizer classes the shared test does not run on a Keras case: the abstract bases
# (tkeras.optimizers.Optimizer and each family's own).
NOT_HARNESS_CASES = {O.Optimizer, legacy.Optimizer, experimental.Optimizer}


def test_every_exported_optimizer_class_goes_through_the_shared_test():
    _, metas = zip(*(load_case("optimizers", c["file"]) for c in CASES))
    covered = {type(reference_optimizer(meta)) for meta in metas} | {O.TorchOptimizer}
    missing = _exported_optimizer_classes() - covered - NOT_HARNESS_CASES
    assert not missing, sorted(f"{c.__module__}.{c.__name__}" for c in missing)


def test_every_reference_case_is_covered():
    assert len(CASES) == 42
    assert {c["optimizer_class"] for c in CASES} >= {"SGD", "RMSprop", "Adagrad", "Adadelta",
                                                     "Adam", "Adamax", "Nadam", "Ftrl", "AdamW"}


# ------------------------------------------------------------------ Keras 2 constructor semantics

def test_lr_keyword_is_honoured_in_both_families():
    for cls in (O.SGD, experimental.SGD):
        opt = cls(lr=0.5)
        assert float(opt.lr) == pytest.approx(0.5)
        w = named([1.0])
        opt.apply([w], [torch.tensor([2.0])])
        assert w.item() == pytest.approx(0.0)
    assert float(O.Adam(learning_rate=0.1, lr=0.3).lr) == pytest.approx(0.3)  # lr wins


def test_keras2_default_learning_rates_and_signatures():
    assert float(O.SGD().lr) == pytest.approx(0.01)
    assert float(O.RMSprop().lr) == pytest.approx(0.001)
    assert float(O.Adagrad().lr) == pytest.approx(0.01)
    assert float(O.Adadelta().lr) == pytest.approx(1.0)
    assert float(O.Adam().lr) == pytest.approx(0.001)
    assert float(O.Adamax().lr) == pytest.approx(0.002)
    assert float(O.Nadam().lr) == pytest.approx(0.002)
    # The seed examples construct.
    O.SGD(lr=0.01, decay=1e-6, momentum=0.9, nesterov=True, clipnorm=5)
    O.RMSprop(lr=0.001, rho=0.9, epsilon=None, decay=0.0)
    O.Adagrad(lr=0.01, epsilon=None, decay=0.0)
    O.Adadelta(lr=1.0, rho=0.95, epsilon=None, decay=0.0)
    O.Adam(lr=0.001, beta_1=0.9, beta_2=0.999, epsilon=None, decay=0.0, amsgrad=False)
    O.Adamax(lr=0.002, beta_1=0.9, beta_2=0.999, epsilon=None, decay=0.0)
    nadam = O.Nadam(lr=0.002, beta_1=0.9, beta_2=0.999, epsilon=None, schedule_decay=0.004)
    assert nadam.get_config()["decay"] == 0.004
    assert O.Nadam.from_config(O.Nadam(schedule_decay=0.01).get_config()).schedule_decay == 0.01
    assert float(O.Adam(0.001).lr) == pytest.approx(0.001)


def test_epsilon_none_means_backend_epsilon_at_construction():
    old = backend_config.epsilon()
    try:
        before = O.Adam()
        backend_config.set_epsilon(1e-4)
        after = O.Adam(epsilon=None)
        explicit = O.RMSprop(epsilon=1e-6)
    finally:
        backend_config.set_epsilon(old)
    assert before.epsilon == old
    assert after.epsilon == 1e-4 and after.get_config()["epsilon"] == 1e-4
    assert explicit.epsilon == 1e-6


def test_legacy_decay_follows_inverse_time_formula():
    opt = O.SGD(lr=0.1, decay=0.5)
    w = named([1.0])
    expected = 1.0
    for t in range(6):
        opt.apply([w], [torch.tensor([1.0])])
        expected -= np.float32(0.1) / (1.0 + 0.5 * t)  # iterations = t - 1 at step t
        assert w.item() == pytest.approx(expected, rel=1e-6)
    assert float(opt.lr) == pytest.approx(0.1)  # the base rate is not overwritten
    assert float(opt.decay) == pytest.approx(0.5)


def test_bad_constructor_arguments_raise():
    with pytest.raises(TypeError, match="Unexpected keyword argument"):
        O.SGD(foo=1)
    with pytest.raises(ValueError, match="Expected clipnorm >= 0"):
        O.SGD(clipnorm=-1)
    with pytest.raises(ValueError, match="momentum"):
        O.SGD(momentum=1.5)
    with pytest.raises(ValueError, match="At most one of `clipnorm` and `global_clipnorm`"):
        O.Adam(clipnorm=1.0, global_clipnorm=1.0)
    with pytest.raises(ValueError, match="decay is deprecated in the new Keras optimizer"):
        experimental.Adam(decay=0.1)
    with pytest.raises(TypeError, match="not a valid argument"):
        experimental.Adam(foo=0.1)
    with pytest.raises(ValueError, match="weight_decay"):
        experimental.AdamW(weight_decay=None)
    with pytest.raises(ValueError, match="learning_rate_power"):
        O.Ftrl(learning_rate_power=0.5)
    with pytest.raises(ValueError, match="Nadam optimizer does not support"):
        O.Nadam(learning_rate=schedules.ExponentialDecay(0.1, 10, 0.9))


# ------------------------------------------------------------------ learning rate as a tensor

def test_lr_is_one_tensor_updated_in_place_and_used_by_the_next_step():
    opt = O.SGD(lr=0.1)
    lr_tensor = opt.lr
    assert opt.learning_rate is lr_tensor and lr_tensor.dtype == torch.float32
    assert lr_tensor.dim() == 0
    w = named([1.0])
    opt.apply([w], [torch.tensor([1.0])])
    assert w.item() == pytest.approx(0.9)
    lr_tensor.copy_(torch.tensor(0.5))  # what K.set_value does
    opt.apply([w], [torch.tensor([1.0])])
    assert w.item() == pytest.approx(0.4)
    opt.lr = 0.25
    opt.learning_rate = 0.25
    assert opt.lr is lr_tensor and float(lr_tensor) == 0.25
    opt.apply([w], [torch.tensor([1.0])])
    assert w.item() == pytest.approx(0.15)
    assert opt.get_config()["learning_rate"] == 0.25


@pytest.mark.skipif(not (hasattr(K, "get_value") and hasattr(K, "set_value")),
                    reason="tkeras.backend.get_value / set_value not available yet")
def test_backend_get_value_and_set_value_on_lr():
    opt = O.Adam(lr=0.01)
    assert K.get_value(opt.lr) == pytest.approx(0.01)
    w = named([1.0])
    opt.apply([w], [torch.tensor([1.0])])
    K.set_value(opt.lr, 0.5)
    assert K.get_value(opt.lr) == pytest.approx(0.5)
    before = w.item()
    opt.apply([w], [torch.tensor([1.0])])
    # second Adam step with g = 1 twice: m/(sqrt(v)+eps) * sqrt(1-b2^2)/(1-b1^2) == 1 -> step = lr
    assert before - w.item() == pytest.approx(0.5, rel=1e-4)


def test_new_family_lr_not_settable_when_scheduled():
    opt = experimental.SGD(learning_rate=schedules.ExponentialDecay(0.1, 2, 0.5))
    with pytest.raises(TypeError, match="not settable"):
        opt.lr = 0.2


def test_lr_and_iterations_tensors_keep_identity_when_built():
    opt = O.Adam()
    lr, it = opt.lr, opt.iterations
    w = named([1.0, 2.0])
    opt.build([w])
    assert opt.lr is lr and opt.iterations is it
    assert it.dtype == torch.int64 and it.device == w.device


# ------------------------------------------------------------------ schedules

def test_schedules_values_against_formulas():
    steps = np.arange(0, 30)

    def values(schedule):
        return np.array([float(schedule(torch.tensor(int(s)))) for s in steps])

    np.testing.assert_allclose(values(schedules.ExponentialDecay(0.1, 4, 0.5)),
                               0.1 * 0.5 ** (steps / 4), rtol=1e-6)
    np.testing.assert_allclose(values(schedules.ExponentialDecay(0.1, 4, 0.5, staircase=True)),
                               0.1 * 0.5 ** np.floor(steps / 4), rtol=1e-6)
    np.testing.assert_allclose(values(schedules.InverseTimeDecay(0.1, 5, 0.5)),
                               0.1 / (1 + 0.5 * steps / 5), rtol=1e-6)
    np.testing.assert_allclose(values(schedules.InverseTimeDecay(0.1, 5, 0.5, staircase=True)),
                               0.1 / (1 + 0.5 * np.floor(steps / 5)), rtol=1e-6)
    pieces = np.where(steps <= 5, 1.0, np.where(steps <= 12, 0.5, 0.1))
    np.testing.assert_allclose(values(schedules.PiecewiseConstantDecay([5, 12], [1.0, 0.5, 0.1])),
                               pieces, rtol=1e-7)
    poly = (0.1 - 0.01) * (1 - np.minimum(steps, 10) / 10) ** 2 + 0.01
    np.testing.assert_allclose(values(schedules.PolynomialDecay(0.1, 10, 0.01, power=2)), poly,
                               rtol=1e-6)
    horizon = 10 * np.maximum(np.ceil(steps / 10), 1)
    cyc = (0.1 - 0.01) * (1 - steps / horizon) + 0.01
    np.testing.assert_allclose(values(schedules.PolynomialDecay(0.1, 10, 0.01, cycle=True)), cyc,
                               rtol=1e-6, atol=1e-8)
    cos = 0.1 * (0.8 * 0.5 * (1 + np.cos(np.pi * np.minimum(steps, 20) / 20)) + 0.2)
    np.testing.assert_allclose(values(schedules.CosineDecay(0.1, 20, alpha=0.2)), cos,
                               rtol=1e-6)
    warm = np.where(steps < 5, 0.0 + (0.1 - 0.0) * steps / 5,
                    0.1 * 0.5 * (1 + np.cos(np.pi * np.minimum(steps - 5, 20) / 20)))
    np.testing.assert_allclose(
        values(schedules.CosineDecay(0.0, 20, warmup_target=0.1, warmup_steps=5)), warm,
        rtol=1e-6, atol=1e-8)


def test_cosine_decay_restarts_against_sgdr_periods():
    schedule = schedules.CosineDecayRestarts(0.1, 4, t_mul=2.0, m_mul=0.5, alpha=0.1)
    for step in range(0, 40):
        i, start = 0, 0
        while step >= start + 4 * 2 ** i:
            start += 4 * 2 ** i
            i += 1
        fraction = (step - start) / (4 * 2 ** i)
        expected = 0.1 * (0.9 * 0.5 ** i * 0.5 * (1 + math.cos(math.pi * fraction)) + 0.1)
        assert float(schedule(torch.tensor(step))) == pytest.approx(expected, rel=1e-5)


def test_schedule_config_round_trip_and_use_in_optimizer():
    sched = schedules.PiecewiseConstantDecay([1, 3], [0.5, 0.25, 0.125], name="pc")
    data = schedules.serialize(sched)
    assert data == {"module": "keras.optimizers.schedules",
                    "class_name": "PiecewiseConstantDecay",
                    "config": {"boundaries": [1, 3], "values": [0.5, 0.25, 0.125],
                               "name": "pc"}, "registered_name": None}
    assert schedules.deserialize(data).get_config() == sched.get_config()
    assert schedules.deserialize({"class_name": "PiecewiseConstantDecay",
                                  "config": sched.get_config()}).values == [0.5, 0.25, 0.125]
    opt = O.SGD(learning_rate=sched)
    w = named([0.0])
    rates = []
    for _ in range(5):
        before = w.item()
        opt.apply([w], [torch.tensor([-1.0])])
        rates.append(w.item() - before)
        assert float(opt.lr) == pytest.approx(rates[-1])  # lr holds the rate just used
    np.testing.assert_allclose(rates, [0.5, 0.5, 0.25, 0.25, 0.125])  # iterations = t - 1
    with pytest.raises(ValueError, match="Unknown learning rate schedule"):
        schedules.deserialize({"class_name": "Nope", "config": {}})
    with pytest.raises(ValueError, match="length of boundaries"):
        schedules.PiecewiseConstantDecay([1, 2], [1.0])


# ------------------------------------------------------------------ clipping

def _one_step(opt, grads):
    params = [named(np.zeros(np.shape(g))) for g in grads]
    opt.apply(params, [torch.tensor(np.asarray(g, dtype=np.float32)) for g in grads])
    return [-p.detach().numpy() for p in params]  # lr = 1: the applied (clipped) gradient


def test_clipnorm_clipvalue_global_clipnorm_by_hand():
    for family in (legacy, experimental):
        np.testing.assert_allclose(_one_step(family.SGD(1.0, clipnorm=1.0), [[3.0, 4.0]])[0],
                                   [0.6, 0.8], rtol=1e-6)
        np.testing.assert_allclose(_one_step(family.SGD(1.0, clipnorm=10.0), [[3.0, 4.0]])[0],
                                   [3.0, 4.0], rtol=1e-6)
        np.testing.assert_allclose(_one_step(family.SGD(1.0, clipvalue=0.5), [[3.0, -0.2]])[0],
                                   [0.5, -0.2], rtol=1e-6)
        out = _one_step(family.SGD(1.0, global_clipnorm=1.0), [[3.0], [4.0]])
        np.testing.assert_allclose(np.concatenate(out), [0.6, 0.8], rtol=1e-6)
    # Keras 2 applies every clipping it is given (value, then norm); the newer family only one.
    both = dict(clipvalue=1.0, clipnorm=1.0)
    np.testing.assert_allclose(_one_step(legacy.SGD(1.0, **both), [[3.0, 4.0]])[0],
                               [2 ** -0.5, 2 ** -0.5], rtol=1e-6)
    np.testing.assert_allclose(_one_step(experimental.SGD(1.0, **both), [[3.0, 4.0]])[0],
                               [0.6, 0.8], rtol=1e-6)


def test_apply_gradients_does_not_modify_the_callers_gradients():
    g = torch.tensor([3.0, 4.0])
    w = named([0.0, 0.0])
    O.SGD(1.0, clipnorm=1.0).apply_gradients([(g, w)])
    assert g.tolist() == [3.0, 4.0]
    np.testing.assert_allclose(w.detach().numpy(), [-0.6, -0.8], rtol=1e-6)


# ------------------------------------------------------------------ weight decay / EMA (newer)

def test_weight_decay_with_exclusions_keras_doc_example():
    opt = experimental.SGD(1.0, weight_decay=0.004)
    var1, var2 = named([2.0], "dense/kernel:0"), named([2.0], "dense/bias:0")
    opt.exclude_from_weight_decay(var_names=["bias"])
    opt.apply_gradients(zip([torch.zeros(1), torch.zeros(1)], [var1, var2]))
    assert [var1.item(), var2.item()] == [pytest.approx(1.992), 2.0]
    with pytest.raises(ValueError, match="before the optimizer is built"):
        opt.exclude_from_weight_decay(var_list=[var1])


def test_ema_overwrite_keras_doc_example():
    opt = experimental.SGD(learning_rate=1, use_ema=True, ema_momentum=0.5,
                           ema_overwrite_frequency=3)
    var1, var2 = named([2.0], "a:0"), named([2.0], "b:0")
    grads = [torch.ones(1), torch.ones(1)]
    opt.apply([var1, var2], list(grads))
    opt.apply([var1, var2], list(grads))
    assert var1.item() == pytest.approx(0.0)
    opt.apply([var1, var2], list(grads))
    assert [var1.item(), var2.item()] == [pytest.approx(-0.125), pytest.approx(-0.125)]
    assert opt.variable_names()[:3] == ["iteration:0", "SGD/average/a:0", "SGD/average/b:0"]


# ------------------------------------------------------------------ state, names, weights

ROUND_TRIP = [
    legacy.SGD(0.1, momentum=0.9, nesterov=True), legacy.RMSprop(0.01, momentum=0.5, centered=True),
    legacy.Adagrad(0.1), legacy.Adadelta(), legacy.Adam(0.01, amsgrad=True), legacy.Adamax(),
    legacy.Nadam(), legacy.Ftrl(0.1, l1_regularization_strength=0.01, beta=0.1),
    experimental.SGD(0.1, momentum=0.9),
    experimental.RMSprop(0.01, momentum=0.5, centered=True),
    experimental.Adam(0.01, amsgrad=True), experimental.AdamW(0.01), experimental.Adamax(0.01),
    experimental.Nadam(0.01), experimental.Adadelta(1.0), experimental.Adagrad(0.1),
    experimental.Ftrl(0.1, l2_shrinkage_regularization_strength=0.1)]


def _params():
    torch.manual_seed(0)
    return [named(torch.randn(4, 3).numpy(), "dense/kernel:0"),
            named(torch.randn(3).numpy(), "dense/bias:0")]


def _grads(step):
    gen = torch.Generator().manual_seed(100 + step)
    return [torch.randn(4, 3, generator=gen), torch.randn(3, generator=gen)]


@pytest.mark.parametrize("template", ROUND_TRIP,
                         ids=lambda o: f"{type(o).__module__.rsplit('.', 1)[1]}.{o.name}")
def test_get_set_weights_round_trip_continues_identically(template):
    check_slots_round_trip(lambda: type(template).from_config(template.get_config()), _params(),
                           [_grads(step) for step in range(3)],
                           [_grads(step) for step in range(3, 6)])


def test_set_weights_errors_name_the_optimizer_and_counts():
    opt = O.Adam(name="my_adam")
    params = _params()
    with pytest.raises(ValueError, match="my_adam.*build"):
        opt.set_weights([np.zeros(())])
    opt.build(params)
    weights = opt.get_weights()
    assert len(weights) == 5
    with pytest.raises(ValueError, match=r"my_adam with a weight list of length 3, but the "
                                         r"optimizer was expecting 5"):
        opt.set_weights(weights[:3])
    bad = list(weights)
    bad[1] = np.zeros((3, 4), dtype=np.float32)
    with pytest.raises(ValueError, match=r"my_adam: weight 'my_adam/dense/kernel/m:0' expected "
                                         r"shape \(4, 3\), received an array of shape \(3, 4\)"):
        opt.set_weights(bad)


def test_set_weights_accepts_older_keras_layouts():
    params = _params()
    rms = O.RMSprop()
    rms.build(params)
    rms.set_weights([np.ones((4, 3)), np.ones(3)])  # Keras 2.2 saved no iteration counter
    assert int(rms.iterations) == 0 and float(rms.variables[1][0, 0]) == 1.0
    adam = O.Adam()
    adam.build(params)
    old = [np.array(7), np.ones((4, 3)), np.ones(3), np.ones((4, 3)) * 2, np.ones(3) * 2,
           np.zeros(1), np.zeros(1)]  # Keras 2.2: vhats of shape (1,) without amsgrad
    adam.set_weights(old)
    assert int(adam.iterations) == 7 and float(adam.variables[3][0, 0]) == 2.0


def test_variable_names_fall_back_to_param_index():
    opt = O.Adam()
    opt.build([torch.zeros(2, requires_grad=True), named([1.0], "dense/bias:0")])
    assert opt.variable_names() == ["Adam/iter:0", "Adam/param_0/m:0", "Adam/dense/bias/m:0",
                                    "Adam/param_0/v:0", "Adam/dense/bias/v:0"]
    opt2 = experimental.Adam(name="opt")
    opt2.build([torch.zeros(2, requires_grad=True)])
    assert opt2.variable_names() == ["iteration:0", "opt/m/param_0:0", "opt/v/param_0:0"]
    assert opt2.variables() == opt2.variables and len(opt2.weights) == 3


def test_fast_path_keeps_its_state_objects():
    opt = O.Adam()
    params = _params()
    grads = _grads(0)
    opt.apply(params, grads)
    state = opt.variables()
    for step in range(1, 4):
        opt.apply(params, _grads(step))
    assert all(a is b for a, b in zip(state, opt.variables()))
    assert int(opt.iterations) == 4
    assert opt.get_slot_names() == ["m", "v"]
    assert opt.get_slot(params[1], "v") is state[4]
    with pytest.raises(KeyError, match="no slot 'vhat'"):
        opt.get_slot(params[1], "vhat")


def test_none_gradient_skips_its_parameter():
    opt = O.Adam(0.1)
    params = _params()
    frozen = params[1].detach().clone()
    opt.apply(params, [_grads(0)[0], None])
    assert torch.equal(params[1].detach(), frozen)
    assert float(opt.variables[2].abs().sum()) == 0.0  # bias m untouched
    assert float(opt.variables[1].abs().sum()) > 0.0
    opt.apply_gradients([(None, params[0]), (_grads(1)[1], params[1])])
    assert not torch.equal(params[1].detach(), frozen)
    with pytest.raises(ValueError, match="No gradients provided for any variable"):
        opt.apply_gradients([(None, params[0])])


def test_apply_gradients_and_minimize_apply_constraints():
    w = named([2.0, -3.0], "dense/kernel:0")
    w._keras_constraint = lambda t: t.clamp(min=0.0)
    opt = O.SGD(0.5)
    opt.minimize(lambda: (w ** 2).sum(), [w])
    np.testing.assert_allclose(w.detach().numpy(), [0.0, 0.0])  # 2 - 0.5*4 = 0; -3 + 3 -> 0
    assert int(opt.iterations) == 1


def test_step_reads_nothing_back_from_the_device():
    """On meta tensors any host read (.item(), bool(tensor)) raises: the steps must not do one."""
    with pytest.raises(RuntimeError):
        torch.zeros((), device="meta").item()
    extras = [legacy.SGD(0.1, momentum=0.9, decay=0.01, clipnorm=1.0), legacy.SGD(0.1),
              legacy.Adam(amsgrad=True, clipvalue=1.0, global_clipnorm=1.0),
              legacy.RMSprop(centered=True), legacy.SGD(schedules.CosineDecay(0.1, 10)),
              legacy.Adam(schedules.PolynomialDecay(0.1, 10, cycle=True)),
              experimental.Nadam(global_clipnorm=1.0, weight_decay=0.1),
              experimental.AdamW(use_ema=True, ema_overwrite_frequency=2),
              experimental.RMSprop(clipvalue=0.1), experimental.Ftrl(beta=0.1),
              experimental.SGD(schedules.PiecewiseConstantDecay([2], [0.1, 0.01]))]
    for opt in [type(t).from_config(t.get_config()) for t in ROUND_TRIP] + extras:
        params = [torch.zeros(4, 3, device="meta"), torch.zeros(3, device="meta")]
        for _ in range(2):
            opt.apply(params, [torch.zeros(4, 3, device="meta"), torch.zeros(3, device="meta")])
        assert opt.iterations.device.type == "meta"


# ------------------------------------------------------------------ get / serialize / deserialize

@pytest.mark.parametrize("name,cls", [("sgd", legacy.SGD), ("rmsprop", legacy.RMSprop),
                                      ("adagrad", legacy.Adagrad), ("adadelta", legacy.Adadelta),
                                      ("adam", legacy.Adam), ("adamax", legacy.Adamax),
                                      ("nadam", legacy.Nadam), ("ftrl", legacy.Ftrl),
                                      ("Adam", legacy.Adam), ("RMSprop", legacy.RMSprop),
                                      ("adamw", experimental.AdamW)])
def test_get_by_name(name, cls):
    assert type(O.get(name)) is cls


def test_get_instances_dicts_and_errors():
    opt = O.Adam()
    assert O.get(opt) is opt
    cfg = {"class_name": "Custom>Adam", "config": {"learning_rate": 0.5}}
    assert type(O.get(cfg)) is legacy.Adam and float(O.get(cfg).lr) == 0.5
    keras22 = {"class_name": "SGD", "config": {"lr": 0.02, "momentum": 0.5, "decay": 0.1,
                                                "nesterov": False}}
    sgd = O.get(keras22)
    assert float(sgd.lr) == pytest.approx(0.02) and sgd._initial_decay == 0.1
    new = O.deserialize(O.serialize(experimental.Adam(0.3)))
    assert type(new) is experimental.Adam
    as_legacy = O.deserialize(O.serialize(experimental.Adam(0.3, clipnorm=1.0)),
                              use_legacy_optimizer=True)
    assert type(as_legacy) is legacy.Adam and as_legacy.clipnorm == 1.0
    as_new = O.deserialize(O.serialize(legacy.Adam(0.3)), use_legacy_optimizer=False)
    assert type(as_new) is experimental.Adam and float(as_new.lr) == pytest.approx(0.3)
    with pytest.raises(ValueError, match="decay is deprecated"):
        O.deserialize(O.serialize(legacy.Adam(decay=0.1)), use_legacy_optimizer=False)
    with pytest.raises(ValueError, match="Unknown optimizer: 'nosuch'"):
        O.get("nosuch")
    with pytest.raises(ValueError, match="Could not interpret optimizer identifier"):
        O.get(42)
    with pytest.raises(ValueError, match="Improper config format"):
        O.deserialize({"config": {}})
    with pytest.raises(TypeError, match="Unexpected keyword argument"):
        O.deserialize({"class_name": "SGD", "config": {"bogus": 1}})


@pytest.mark.parametrize("class_name,config", [
    ("SGD", {"lr": 0.01, "momentum": 0.9, "decay": 1e-06, "nesterov": True}),
    ("RMSprop", {"lr": 0.001, "rho": 0.9, "decay": 0.0, "epsilon": 1e-07}),
    ("Adagrad", {"lr": 0.01, "decay": 0.0, "epsilon": 1e-07}),
    ("Adadelta", {"lr": 1.0, "rho": 0.95, "decay": 0.0, "epsilon": 1e-07}),
    ("Adam", {"lr": 0.001, "beta_1": 0.9, "beta_2": 0.999, "decay": 0.0, "epsilon": 1e-07,
              "amsgrad": False}),
    ("Adamax", {"lr": 0.002, "beta_1": 0.9, "beta_2": 0.999, "decay": 0.0, "epsilon": 1e-07}),
    ("Nadam", {"lr": 0.002, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-07,
               "schedule_decay": 0.004}),
    ("Adam", {"name": "Adam", "learning_rate": 0.001, "decay": 0.0, "beta_1": 0.9,
              "beta_2": 0.999, "epsilon": 1e-07, "amsgrad": False, "is_legacy_optimizer": True}),
])
def test_keras_2_configs_from_old_files_load(class_name, config):
    opt = O.deserialize({"class_name": class_name, "config": config})
    assert type(opt) is getattr(legacy, class_name)
    assert float(opt.lr) == pytest.approx(config.get("lr", config.get("learning_rate")))
    assert opt.get_config()["decay"] == config.get("decay", config.get("schedule_decay"))


def test_custom_optimizer_class_through_custom_objects():
    class MySGD(legacy.SGD):
        pass

    data = O.serialize(MySGD(0.3))
    with pytest.raises(ValueError, match="Unknown optimizer"):
        O.deserialize(data)
    restored = O.deserialize(data, custom_objects={"MySGD": MySGD})
    assert type(restored) is MySGD and float(restored.lr) == pytest.approx(0.3)


# ------------------------------------------------------------------ TorchOptimizer

@pytest.mark.parametrize("case,kwargs", [
    ("legacy_sgd.npz", dict(lr=0.1)),
    ("legacy_sgd_momentum.npz", dict(lr=0.05, momentum=0.9)),
    ("legacy_sgd_nesterov.npz", dict(lr=0.05, momentum=0.9, nesterov=True))])
def test_torch_optimizer_sgd_reproduces_keras_sgd(case, kwargs):
    """The shared optimizer test on a wrapped torch.optim.SGD (its own config and slot names)."""
    check_optimizer(lambda: O.TorchOptimizer(torch.optim.SGD, **kwargs), case, atol=1e-6,
                    keras_config=False)
    assert O.TFOptimizer is O.TorchOptimizer


@pytest.mark.parametrize("torch_class,kwargs", [
    (torch.optim.SGD, dict(lr=0.1, momentum=0.9)),
    (torch.optim.Adam, dict(lr=0.01, amsgrad=True))])
def test_torch_optimizer_state_survives_save_and_load(tmp_path, torch_class, kwargs):
    """torch makes an optimizer's state at its first step: the loaded model's optimizer,
    which has not stepped, takes the saved one (momentum buffers; Adam's step count and
    moments) and its next step is the original's."""
    from tkeras.layers import Dense, Input
    from tkeras.models import Sequential, load_model
    model = Sequential([Input((3,)), Dense(2)])
    model.compile(optimizer=O.TorchOptimizer(torch_class, **kwargs), loss="mse")
    x, y = np.arange(12, dtype="float32").reshape(4, 3) / 10, np.ones((4, 2), "float32")
    for _ in range(2):
        model.train_on_batch(x, y)
    model.save(str(tmp_path / "m.h5"))
    loaded = load_model(str(tmp_path / "m.h5"))
    assert loaded.optimizer.variable_names() == model.optimizer.variable_names()
    for a, b in zip(loaded.optimizer.get_weights(), model.optimizer.get_weights()):
        np.testing.assert_array_equal(a, b)
    model.train_on_batch(x, y)
    loaded.train_on_batch(x, y)
    for a, b in zip(loaded.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_torch_optimizer_set_weights_of_the_wrong_length_leaves_it_fresh():
    w = named([1.0, 2.0], "dense/kernel:0")
    opt = O.TorchOptimizer(torch.optim.SGD, lr=0.1, momentum=0.9)
    opt.build([w])
    with pytest.raises(ValueError, match="was expecting 2 weights"):
        opt.set_weights([np.zeros(()), np.zeros(2), np.zeros(2)])
    assert not opt.optimizer.state and opt.variable_names() == ["TorchOptimizer/iter:0"]


def test_torch_optimizer_instance_lr_sync_and_state():
    w = named([1.0], "dense/kernel:0")
    torch_opt = torch.optim.SGD([w], lr=0.1, momentum=0.9)
    opt = O.get(torch_opt)
    assert isinstance(opt, O.TorchOptimizer) and opt.optimizer is torch_opt
    assert float(opt.lr) == pytest.approx(0.1)
    opt.apply([w], [torch.tensor([1.0])])
    assert w.item() == pytest.approx(0.9)
    opt.lr.fill_(0.5)  # what K.set_value does
    opt.apply([w], [torch.tensor([0.0])])
    assert torch_opt.param_groups[0]["lr"] == 0.5
    assert w.item() == pytest.approx(0.9 - 0.5 * 0.9)  # momentum buffer 0.9 * 1 + 0
    scheduler = torch.optim.lr_scheduler.StepLR(torch_opt, step_size=1, gamma=0.1)
    opt.apply([w], [torch.tensor([0.0])])
    scheduler.step()
    assert float(opt.lr) == pytest.approx(0.05)  # read back from the torch side
    assert opt.variable_names() == ["TorchOptimizer/iter:0",
                                    "TorchOptimizer/dense/kernel/momentum_buffer:0"]
    state = opt.get_weights()
    state[1] = np.array([7.0], dtype=np.float32)
    opt.set_weights(state)
    assert torch_opt.state[w]["momentum_buffer"].item() == 7.0
    with pytest.raises(ValueError, match="expecting 2 weights"):
        opt.set_weights(state[:1])


def test_torch_optimizer_config_round_trip_and_errors():
    opt = O.TorchOptimizer(torch.optim.Adam, lr=0.01, betas=(0.8, 0.9))
    data = O.serialize(opt)
    assert data["class_name"] == "TorchOptimizer" and data["config"]["optimizer"] == "Adam"
    again = O.deserialize(data)
    w = named([1.0, 2.0])
    again.apply([w], [torch.tensor([1.0, 1.0])])
    assert again.optimizer.defaults["betas"] == (0.8, 0.9)
    assert again.optimizer.param_groups[0]["lr"] == 0.01
    with pytest.raises(TypeError, match="torch.optim.Optimizer instance or subclass"):
        O.TorchOptimizer("sgd")
    with pytest.raises(ValueError, match="only accepted with an optimizer class"):
        O.TorchOptimizer(torch.optim.SGD([w], lr=0.1), lr=0.2)
    with pytest.raises(ValueError, match="Unknown torch optimizer class"):
        O.TorchOptimizer.from_config({"optimizer": "os.system", "config": {}})
    bound = O.TorchOptimizer(torch.optim.SGD([w], lr=0.1))
    with pytest.raises(ValueError, match="does not hold these parameters"):
        bound.apply([named([0.0], "other/kernel:0")], [torch.tensor([1.0])])


def test_epsilon_placement_differs_between_families():
    """Keras 2: ``g / (sqrt(acc) + eps)``; newer: ``g / sqrt(acc + eps)`` (hand values, eps=1)."""
    legacy_step = _one_step(legacy.Adagrad(1.0, initial_accumulator_value=0.0, epsilon=1.0),
                            [[3.0]])[0]
    new_step = _one_step(experimental.Adagrad(1.0, initial_accumulator_value=0.0, epsilon=1.0),
                         [[3.0]])[0]
    np.testing.assert_allclose(legacy_step, [3.0 / (3.0 + 1.0)], rtol=1e-6)
    np.testing.assert_allclose(new_step, [3.0 / math.sqrt(9.0 + 1.0)], rtol=1e-6)
    rms_legacy = _one_step(legacy.RMSprop(1.0, rho=0.5, epsilon=1.0), [[2.0]])[0]
    rms_new = _one_step(experimental.RMSprop(1.0, rho=0.5, epsilon=1.0), [[2.0]])[0]
    np.testing.assert_allclose(rms_legacy, [2.0 / (math.sqrt(0.5 * 4.0) + 1.0)], rtol=1e-6)
    np.testing.assert_allclose(rms_new, [2.0 / math.sqrt(0.5 * 4.0 + 1.0)], rtol=1e-6)


# ------------------------------------------------------------------ real Keras files

def _h5_optimizer_cases():
    import os
    cases = []
    for model in ref_index("files")["models"]:
        for file in ("model.h5", "model_legacy_optimizer.h5"):
            if os.path.exists(ref_path("files", model["dir"], file)):
                cases.append((model["dir"], file))
    return cases


@pytest.mark.parametrize("model_dir,file", _h5_optimizer_cases())
def test_optimizer_state_names_match_real_keras_h5_files(model_dir, file):
    """Built for the model's trainable weights, the optimizer names its variables exactly as
    the optimizer_weights group of a file saved by tf-keras, and takes those arrays."""
    h5py = pytest.importorskip("h5py")
    with open(ref_path("files", model_dir, "meta.json")) as f:
        meta = json.load(f)
    with h5py.File(ref_path("files", model_dir, file), "r") as h5:
        config = json.loads(h5.attrs["training_config"])["optimizer_config"]
        group = h5["optimizer_weights"]
        names = [n.decode() if isinstance(n, bytes) else str(n)
                 for n in group.attrs["weight_names"]]
        arrays = [group[name][()] for name in names]
    opt = O.deserialize(config)
    assert (type(opt).__module__.endswith("legacy")) == (file == "model_legacy_optimizer.h5")
    params = [named(np.zeros(w["shape"]), w["name"]) for w in meta["weights"] if w["trainable"]]
    opt.build(params)
    assert opt.variable_names() == names
    opt.set_weights(arrays)
    for got, expected in zip(opt.get_weights(), arrays):
        np.testing.assert_array_equal(got, expected)
    assert int(opt.iterations) == meta["train_steps"]


def test_wrapped_torch_optimizer_minimize_applies_one_step():
    # d/dw sum(w * w) = 2w: one SGD step with lr 0.1 takes w = 1 to 0.8 (by hand)
    w = torch.nn.Parameter(torch.ones(3))
    opt = O.get(torch.optim.SGD([w], lr=0.1))
    assert isinstance(opt, O.Optimizer)
    opt.minimize(lambda: (w * w).sum(), [w])
    np.testing.assert_allclose(w.detach().numpy(), np.full(3, 0.8, np.float32), rtol=1e-6)
    assert int(opt.iterations) == 1


def test_adam_fused_views_are_made_once_and_follow_a_parameter_whose_memory_changes():
    from tkeras.optimizers import rules
    views = rules.FusedAdamViews()
    p = torch.randn(7, 5).t()  # a Dense kernel in Linear's layout
    m, v = torch.zeros_like(p), torch.zeros_like(p)
    g = torch.randn(7, 5).t()
    first = views([p], [g], [m], [v], None, 0.1, 0.001)
    assert first is not None and first[0][0].is_contiguous()
    assert first[0][0].data_ptr() == p.data_ptr() and first[1][0].data_ptr() == g.data_ptr()
    again = views([p], [g], [m], [v], None, 0.1, 0.001)
    assert again[0][0] is first[0][0] and again[2][0] is first[2][0]  # kept
    p.data = torch.randn(7, 5).t()  # what Module.to() / .double() do to a parameter
    moved = views([p], [g], [m], [v], None, 0.1, 0.001)
    assert moved[0][0] is not first[0][0] and moved[0][0].data_ptr() == p.data_ptr()
    assert views([p], [g.contiguous()], [m], [v], None, 0.1, 0.001) is None  # other strides
    assert views([p], [g.double()], [m], [v], None, 0.1, 0.001) is None  # another dtype
    gappy = [torch.randn(7, 10)[:, ::2].t() for _ in range(4)]  # no permutation makes
    assert views(*([t] for t in gappy), None, 0.1, 0.001) is None  # these contiguous


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16])
@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_fused_kernel_path_matches_the_multi_tensor_formulas(monkeypatch, dtype, amsgrad):
    from tkeras.optimizers import rules
    gen = torch.Generator().manual_seed(0)

    def tensors():  # a Dense kernel in Linear's layout (a transposed view), a conv kernel
        kernel = torch.randn(5, 7, generator=gen).to(dtype).t()  # in torch's layout, a bias
        conv = torch.randn(4, 2, 3, 3, generator=gen).to(dtype).permute(2, 3, 1, 0)
        return [kernel, conv, torch.randn(7, generator=gen).to(dtype)]

    params = tensors()
    grads = [[torch.randn(p.shape, generator=gen).to(dtype) for p in params] for _ in range(6)]
    runs, fused_calls = {}, []
    views = rules.FusedAdamViews.__call__
    monkeypatch.setattr(rules.FusedAdamViews, "__call__",
                        lambda *args: fused_calls.append(views(*args)) or fused_calls[-1])
    for path in ("fused", "multi-tensor"):
        if path == "multi-tensor":
            assert len(fused_calls) == 6 and all(v is not None for v in fused_calls)
            monkeypatch.setattr(rules.FusedAdamViews, "__call__", lambda *args: None)
        ps = [torch.empty_strided(p.shape, p.stride(), dtype=dtype).copy_(p) for p in params]
        slots = [[torch.zeros_like(p) for p in ps] for _ in range(3)]
        for step, gs in enumerate(grads, start=1):
            gs = [torch.empty_strided(p.shape, p.stride(), dtype=dtype).copy_(g)
                  for p, g in zip(ps, gs)]  # gradients in their parameter's layout
            alpha = torch.tensor(1e-2 * (1 - 0.999 ** step) ** 0.5 / (1 - 0.9 ** step))
            rules.adam_(ps, gs, alpha, slots[0], slots[1], 0.1, 0.001, 1e-7,
                        slots[2] if amsgrad else None)
        runs[path] = ps
    tolerance = {torch.bfloat16: 2e-2}.get(dtype, 1e-6)
    for fused, multi in zip(runs["fused"], runs["multi-tensor"]):
        assert fused.stride() == multi.stride()
        torch.testing.assert_close(fused.float(), multi.float(), rtol=tolerance, atol=tolerance)
