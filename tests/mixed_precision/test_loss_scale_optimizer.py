"""LossScaleOptimizer: tf-keras 2.x's dynamic loss scaling (initial scale 2**15, growth
every 2000 finite steps, skip the step and halve on inf/NaN, never below 1), on CPU."""
import math

import numpy as np
import pytest
import torch

from tkeras import layers, mixed_precision, optimizers
from tkeras.mixed_precision import LossScaleOptimizer
from tkeras.models import Sequential


def _weight(value=1.0):
    w = torch.nn.Parameter(torch.tensor([value]))
    w._keras_name = "dense/kernel:0"
    return w


def test_defaults_are_tf_keras_s():
    opt = LossScaleOptimizer(optimizers.SGD(0.1))
    assert opt.dynamic and float(opt.loss_scale) == 2.0 ** 15
    assert opt.initial_scale == 2.0 ** 15 and opt.dynamic_growth_steps == 2000
    assert int(opt.dynamic_counter) == 0
    assert float(opt.learning_rate) == pytest.approx(0.1)
    assert opt.inner_optimizer.__class__.__name__ == "SGD"


def test_scaled_loss_and_unscaled_gradients():
    opt = LossScaleOptimizer(optimizers.SGD(0.1), initial_scale=8.0)
    loss = torch.tensor(1.5)
    assert float(opt.get_scaled_loss(loss)) == 12.0
    assert float(opt.get_scaled_loss(lambda: loss)()) == 12.0
    grads = opt.get_unscaled_gradients([torch.tensor([16.0, 4.0]), None])
    assert grads[1] is None and grads[0].tolist() == [2.0, 0.5]


@pytest.mark.parametrize("bad", [math.inf, -math.inf, math.nan])
def test_non_finite_gradients_skip_the_step_and_halve_the_scale(bad):
    w = _weight()
    opt = LossScaleOptimizer(optimizers.SGD(1.0), initial_scale=4.0, dynamic_growth_steps=3)
    opt.apply_gradients([(torch.tensor([0.5]), w)])
    assert w.item() == 0.5 and int(opt.dynamic_counter) == 1
    iterations = int(opt.iterations)
    opt.apply_gradients([(torch.tensor([bad]), w)])
    assert w.item() == 0.5  # skipped
    assert int(opt.iterations) == iterations
    assert float(opt.loss_scale) == 2.0 and int(opt.dynamic_counter) == 0


def test_the_scale_grows_after_growth_steps_finite_steps_and_never_falls_below_one():
    w = _weight()
    opt = LossScaleOptimizer(optimizers.SGD(0.0), initial_scale=2.0, dynamic_growth_steps=3)
    scales = []
    for _ in range(7):
        opt.apply_gradients([(torch.tensor([1.0]), w)])
        scales.append(float(opt.loss_scale))
    assert scales == [2.0, 2.0, 4.0, 4.0, 4.0, 8.0, 8.0]
    for _ in range(6):
        opt.apply_gradients([(torch.tensor([math.nan]), w)])
    assert float(opt.loss_scale) == 1.0


def test_fixed_scale_never_changes_or_skips():
    w = _weight()
    opt = LossScaleOptimizer(optimizers.SGD(1.0), dynamic=False, initial_scale=128)
    assert opt.dynamic_counter is None
    opt.apply_gradients([(torch.tensor([0.25]), w)])
    assert w.item() == 0.75 and float(opt.loss_scale) == 128.0


def test_minimize_keeps_float16_gradients_from_underflowing():
    tiny = torch.tensor(1e-4, dtype=torch.float16)

    def loss_fn(w):
        return (w.half() * tiny) * tiny  # d loss / d w = 1e-8: below float16's range

    w = _weight()
    plain = torch.autograd.grad(loss_fn(w), [w])[0]
    assert plain.item() == 0.0  # what loss scaling is for
    opt = LossScaleOptimizer(optimizers.SGD(1e6))
    opt.minimize(lambda: loss_fn(w), [w])
    assert w.item() == pytest.approx(1.0 - 1e-2, rel=2e-2)


def test_errors():
    with pytest.raises(ValueError, match='"initial_scale" must be specified if "dynamic" is False'):
        LossScaleOptimizer(optimizers.SGD(), dynamic=False)
    with pytest.raises(ValueError, match='"dynamic_growth_steps" must be None if "dynamic" is '
                                         "False, but got: 10"):
        LossScaleOptimizer(optimizers.SGD(), dynamic=False, initial_scale=2, dynamic_growth_steps=10)
    with pytest.raises(TypeError, match="cannot wrap another LossScaleOptimizer"):
        LossScaleOptimizer(LossScaleOptimizer(optimizers.SGD()))
    with pytest.raises(TypeError, match="inner_optimizer must be an instance of"):
        LossScaleOptimizer(torch.optim.SGD([_weight()], lr=0.1))


def test_config_round_trip():
    opt = LossScaleOptimizer(optimizers.Adam(0.01), initial_scale=1024, dynamic_growth_steps=50)
    config = opt.get_config()
    assert config["dynamic"] is True and config["initial_scale"] == 1024.0
    assert config["dynamic_growth_steps"] == 50
    assert config["inner_optimizer"]["class_name"] == "Adam"
    clone = LossScaleOptimizer.from_config(config)
    assert clone.get_config() == config


def test_fit_with_mixed_float16_and_a_loss_scale_optimizer_trains():
    mixed_precision.set_global_policy("mixed_float16")
    try:
        model = Sequential([layers.Input((4,)), layers.Dense(8, activation="relu"),
                            layers.Dense(1), layers.Activation("linear", dtype="float32")])
        assert model.layers[0].compute_dtype == "float16"
        opt = LossScaleOptimizer(optimizers.SGD(0.05))
        model.compile(opt, "mse")
        rng = np.random.RandomState(0)
        x = rng.standard_normal((64, 4)).astype("float32")
        y = x.sum(axis=1, keepdims=True)
        history = model.fit(x, y, epochs=10, batch_size=16, verbose=0)
        assert history.history["loss"][-1] < 0.3 * history.history["loss"][0]
        # gradients of the loss times the initial scale 2**15 may overflow float16: each
        # such step is skipped and halves the scale (no growth within 2000 steps), so the
        # inner optimizer applied 40 steps minus the halvings
        halvings = math.log2(2.0 ** 15 / float(opt.loss_scale))
        assert halvings == int(halvings) and 0 <= halvings < 10
        assert int(opt.inner_optimizer.iterations) == 40 - int(halvings)
        assert int(opt.dynamic_counter) <= 40 - int(halvings)
    finally:
        mixed_precision.set_global_policy(None)


def test_fit_scales_the_loss_so_float16_gradients_do_not_underflow():
    # d loss / d w = mean(2 * w * x**2) = 2e-8 with x = 1e-4: each float16 product
    # x * dL/dy (~1.25e-9) underflows to zero unless the loss is scaled first.
    def one_step(optimizer):
        model = Sequential([layers.Input((1,)),
                            layers.Dense(1, use_bias=False, kernel_initializer="ones")])
        model.compile(optimizer, "mse")
        model.fit(np.full((16, 1), 1e-4, "float32"), np.zeros((16, 1), "float32"),
                  batch_size=16, epochs=1, shuffle=False, verbose=0)
        return float(model.get_weights()[0][0, 0])

    mixed_precision.set_global_policy("mixed_float16")
    try:
        unscaled = LossScaleOptimizer(optimizers.SGD(1e6), dynamic=False, initial_scale=1)
        assert one_step(unscaled) == 1.0  # scale 1: the gradient underflowed
        scaled = LossScaleOptimizer(optimizers.SGD(1e6))
        assert one_step(scaled) == pytest.approx(1.0 - 1e6 * 2e-8, rel=5e-3)
        assert int(scaled.dynamic_counter) == 1  # a finite step, not skipped
    finally:
        mixed_precision.set_global_policy(None)


def test_compile_wraps_the_optimizer_under_mixed_float16_as_tf_keras_does():
    mixed_precision.set_global_policy("mixed_float16")
    try:
        model = Sequential([layers.Input((2,)), layers.Dense(1)])
        model.compile("sgd", "mse")
        assert isinstance(model.optimizer, LossScaleOptimizer)
        assert isinstance(model.optimizer.inner_optimizer, optimizers.SGD)
        own = LossScaleOptimizer(optimizers.Adam(), initial_scale=8, dynamic=False)
        model.compile(own, "mse")
        assert model.optimizer is own  # never wrapped twice
    finally:
        mixed_precision.set_global_policy(None)
    for policy in ("mixed_bfloat16", None):
        mixed_precision.set_global_policy(policy)
        try:
            model = Sequential([layers.Input((2,)), layers.Dense(1)])
            model.compile("sgd", "mse")
            assert isinstance(model.optimizer, optimizers.SGD)
        finally:
            mixed_precision.set_global_policy(None)
