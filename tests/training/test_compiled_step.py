"""compile(jit_compile=True) compiles the whole training step (forward, loss, gradients, the
optimizer update, metrics) into one graph per input signature: the same history and weights
as the eager step within float32 rounding; a model that cannot be one graph falls back to the
partly compiled step without a word."""
import numpy as np
import pytest
import torch

import tkeras
from conftest import forbid_host_reads_in_train_step
from tkeras import layers
from tkeras.engine import step_runner


def _data(n=100, seed=3):
    rng = np.random.RandomState(seed)
    return rng.rand(n, 20).astype("float32"), rng.rand(n, 1).astype("float32")


class _Opaque(layers.Layer):
    """Doubles its input through a function torch.compile must not trace (a graph break)."""

    def call(self, inputs):
        return _opaque_double(inputs)


@torch.compiler.disable
def _opaque_double(x):
    return x * 2.0


def _fit(jit, *, opaque=False, fused=None, epochs=3, constraint=None):
    """W4's shape (20-64-64-1, mse, Adam with clipnorm) on seeded data; batch 32 over 100
    samples, so each epoch ends on a batch of 4 (a second input signature), and a validation
    set evaluated (eagerly) with another batch size between the epochs."""
    x, y = _data()
    vx, vy = _data(40, seed=4)
    tkeras.utils.set_random_seed(0)
    stack = [layers.Dense(64, activation="relu", input_shape=(20,), kernel_constraint=constraint),
             layers.Dense(64, activation="relu")]
    if opaque:
        stack.append(_Opaque())
    model = tkeras.Sequential(stack + [layers.Dense(1)])
    optimizer = tkeras.optimizers.Adam(lr=1e-3, clipnorm=1.0)
    optimizer.fused = fused
    model.compile(optimizer=optimizer, loss="mse", metrics=["mae"], jit_compile=jit)
    history = model.fit(x, y, batch_size=32, epochs=epochs, shuffle=False, verbose=0,
                        validation_data=(vx, vy), validation_batch_size=16)
    return history.history, model.get_weights(), model


def _assert_same_training(got, expected):
    (got_h, got_w, _), (exp_h, exp_w, _) = got, expected
    assert set(got_h) == set(exp_h) == {"loss", "mae", "val_loss", "val_mae"}
    for key in exp_h:
        np.testing.assert_allclose(got_h[key], exp_h[key], rtol=1e-5, atol=1e-7)
    for a, b in zip(got_w, exp_w):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_whole_step_compiled_trains_like_the_eager_step():
    eager = _fit(None)
    jit = _fit(True)
    _assert_same_training(jit, eager)
    runner = jit[2]._step_runner
    assert runner.whole_step_compiled and runner._step.active
    # the update is traced into the step's graph: no separately compiled optimizer update
    assert jit[2].optimizer._compiled_update is None
    assert eager[2]._step_runner._step == eager[2]._step_runner._step_body  # eager stays eager


def test_whole_step_compiled_applies_constraints_like_the_eager_step():
    eager = _fit(None, constraint=tkeras.constraints.MaxNorm(0.5), epochs=2)
    jit = _fit(True, constraint=tkeras.constraints.MaxNorm(0.5), epochs=2)
    _assert_same_training(jit, eager)
    assert jit[2]._step_runner.whole_step_compiled
    norms = np.sqrt((jit[1][0] ** 2).sum(axis=0))
    assert norms.max() <= 0.5 + 1e-6  # MaxNorm's bound on each unit's incoming weights


# dynamo, resuming after the graph break, reads `.grad` of the non-leaf activation (torch's own
# UserWarning, which the partly compiled step has always raised on graph breaks)
@pytest.mark.filterwarnings("ignore:The .grad attribute of a Tensor that is not a leaf")
def test_a_model_that_is_not_one_graph_falls_back_to_the_partly_compiled_step():
    eager = _fit(None, opaque=True)
    jit = _fit(True, opaque=True)
    _assert_same_training(jit, eager)
    runner = jit[2]._step_runner
    assert runner._step.failed and not runner.whole_step_compiled
    assert runner._training_loss_fn != runner._training_loss  # forward and loss compiled
    assert jit[2].optimizer._compiled_update.active  # the update compiled on its own


def test_an_optimizer_that_says_fused_false_keeps_its_eager_update():
    eager = _fit(None, epochs=1)
    jit = _fit(True, fused=False, epochs=1)
    _assert_same_training(jit, eager)
    runner = jit[2]._step_runner
    assert not runner.whole_step_compiled
    assert runner._training_loss_fn != runner._training_loss
    assert jit[2].optimizer._compiled_update is None


def test_compiled_step_reads_nothing_back_from_the_device(monkeypatch):
    x, y = _data(32)
    model = tkeras.Sequential([layers.Dense(8, activation="relu", input_shape=(20,)),
                               layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse", metrics=["mae"], jit_compile=True)
    model.fit(x, y, batch_size=8, verbose=0)  # compiles
    calls = forbid_host_reads_in_train_step(monkeypatch)
    model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    assert len(calls) == 8
    assert model._step_runner.whole_step_compiled


def _fit_two_outputs(jit):
    """Two outputs with loss weights, per-output metrics and sample weights: the per-output
    loss means the compiled step returns are the eager step's."""
    rng = np.random.RandomState(5)
    x = rng.rand(60, 6).astype("float32")
    y1, y2 = rng.rand(60, 1).astype("float32"), np.eye(3, dtype="float32")[rng.randint(0, 3, 60)]
    sw = rng.rand(60).astype("float32")
    tkeras.utils.set_random_seed(0)
    inputs = tkeras.Input((6,))
    hidden = layers.Dense(16, activation="tanh")(inputs)
    out1 = layers.Dense(1, name="reg")(hidden)
    out2 = layers.Dense(3, activation="softmax", name="cls")(hidden)
    model = tkeras.Model(inputs, [out1, out2])
    model.compile(optimizer="rmsprop", loss=["mse", "categorical_crossentropy"],
                  loss_weights=[0.5, 2.0], metrics={"cls": ["acc"]}, jit_compile=jit)
    history = model.fit(x, [y1, y2], sample_weight=sw, batch_size=16, epochs=2, shuffle=False,
                        verbose=0)
    return history.history, model.get_weights(), model


def test_whole_step_compiled_with_several_outputs_and_sample_weights():
    eager_h, eager_w, _ = _fit_two_outputs(None)
    jit_h, jit_w, model = _fit_two_outputs(True)
    assert model._step_runner.whole_step_compiled
    assert set(jit_h) == set(eager_h) == {"loss", "reg_loss", "cls_loss", "cls_acc"}
    for key in eager_h:
        np.testing.assert_allclose(jit_h[key], eager_h[key], rtol=1e-5, atol=1e-7)
    for a, b in zip(jit_w, eager_w):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------ jit_compile None / 'auto'

def _record_compiled_calls(monkeypatch):
    """The batch sizes the compiled whole step is called with (run as it is)."""
    sizes = []
    call = step_runner.CompiledUpdate.__call__

    def recording(self, *args):
        sizes.append(len(args[1][0]))  # (inputs, ys, sws): the first target's rows
        return call(self, *args)
    monkeypatch.setattr(step_runner.CompiledUpdate, "__call__", recording)
    return sizes


def test_auto_compiles_a_fit_long_enough_and_trains_like_the_eager_step(monkeypatch):
    monkeypatch.setattr(step_runner, "AUTO_COMPILE_STEPS", 12)  # the fit's 3 epochs x 4 batches
    eager = _fit(False)
    sizes = _record_compiled_calls(monkeypatch)
    auto = _fit(None)
    _assert_same_training(auto, eager)
    runner = auto[2]._step_runner
    assert runner.whole_step_compiled and runner._step == runner._auto_step
    assert auto[2].run_eagerly is False
    # after the first (building) step, the batches of 32 ran compiled; each epoch's last
    # batch of 4 ran eagerly rather than compiling a second graph
    assert sizes == [32] * 8
    assert auto[2].optimizer._compiled_update is None  # the update is in the step's graph
    # the decision depends on step counts only: a second run trains bit for bit the same
    again = _fit("auto")
    for a, b in zip(again[1], auto[1]):
        np.testing.assert_array_equal(a, b)
    assert eager[2]._step_runner._compiled is None


class _PlanOnly:
    """Stands in for CompiledUpdate: records that plan compiled, runs the eager body."""

    made = 0

    def __init__(self, body, **kwargs):
        type(self).made += 1
        self.body, self.failed = body, False

    def __call__(self, *args):
        return self.body(*args)


def _plan_only(monkeypatch, steps):
    """``plan``'s decisions alone: the count set to ``steps``, compiling replaced by
    ``_PlanOnly`` (its count reset)."""
    monkeypatch.setattr(step_runner, "AUTO_COMPILE_STEPS", steps)
    monkeypatch.setattr(step_runner, "CompiledUpdate", _PlanOnly)
    _PlanOnly.made = 0


def _small_model(jit=None, recurrent=False, **compile_kwargs):
    if recurrent:
        model = tkeras.Sequential([layers.Reshape((4, 5), input_shape=(20,)), layers.LSTM(3),
                                   layers.Dense(1)])
    else:
        model = tkeras.Sequential([layers.Dense(4, input_shape=(20,)), layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse", jit_compile=jit, **compile_kwargs)
    return model


def test_auto_counts_the_steps_of_every_fit_and_decides_once(monkeypatch):
    _plan_only(monkeypatch, 10)
    x, y = _data(64)
    model = _small_model()
    model.fit(x, y, batch_size=16, verbose=0)  # 4 steps run, none more planned
    model.fit(x, y, batch_size=16, verbose=0)  # 4 + 4
    runner = model._step_runner
    assert runner.steps_trained == 8 and runner._compiled is None and model.run_eagerly
    model.fit(x, y, batch_size=16, verbose=0)  # 8 run + 4 planned reach 10: compiled
    assert _PlanOnly.made == 1 and runner._step == runner._auto_step
    model.fit(x, y, batch_size=16, epochs=3, verbose=0)
    assert _PlanOnly.made == 1  # decided once
    # a single fit that plans enough steps compiles from its first epoch
    model = _small_model()
    model.fit(x, y, batch_size=16, epochs=3, verbose=0)
    assert _PlanOnly.made == 2 and model._step_runner.steps_trained == 12


def test_auto_leaves_recurrent_models_and_explicit_eager_steps_eager(monkeypatch):
    _plan_only(monkeypatch, 1)
    x, y = _data(32)
    for model in (_small_model(recurrent=True), _small_model(jit=False),
                  _small_model(run_eagerly=True)):
        model.fit(x, y, batch_size=16, epochs=2, verbose=0)
        assert model._step_runner._compiled is None and model.run_eagerly
    optimizer = tkeras.optimizers.Adam()
    optimizer.fused = False  # the user keeps the update eager
    model = tkeras.Sequential([layers.Dense(1, input_shape=(20,))])
    model.compile(optimizer=optimizer, loss="mse")
    model.fit(x, y, batch_size=16, epochs=2, verbose=0)
    assert _PlanOnly.made == 0
    monkeypatch.setattr(step_runner, "AUTO_COMPILE_STEPS", 0)  # TKERAS_AUTO_COMPILE_STEPS=0
    model = _small_model()
    model.fit(x, y, batch_size=16, epochs=4, verbose=0)
    assert _PlanOnly.made == 0


def test_run_eagerly_turns_the_automatic_compile_off(monkeypatch):
    _plan_only(monkeypatch, 2)
    x, y = _data(32)
    model = _small_model()
    model.fit(x, y, batch_size=16, epochs=2, verbose=0)
    assert model._step_runner._step == model._step_runner._auto_step and not model.run_eagerly
    model.run_eagerly = True
    model.fit(x, y, batch_size=16, epochs=2, verbose=0)
    assert model._step_runner._compiled is None and model.run_eagerly


@pytest.mark.filterwarnings("ignore:The .grad attribute of a Tensor that is not a leaf")
def test_auto_keeps_a_model_that_is_not_one_graph_eager(monkeypatch):
    monkeypatch.setattr(step_runner, "AUTO_COMPILE_STEPS", 1)
    eager = _fit(False, opaque=True, epochs=2)
    auto = _fit(None, opaque=True, epochs=2)
    _assert_same_training(auto, eager)
    runner = auto[2]._step_runner
    assert runner._compiled.failed and not runner.whole_step_compiled
    assert runner._training_loss_fn == runner._training_loss  # not the partly compiled step
    assert auto[2].optimizer._compiled_update is None


def test_auto_compile_steps_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("TKERAS_AUTO_COMPILE_STEPS", "500")
    assert step_runner._auto_compile_steps() == 500
    monkeypatch.setenv("TKERAS_AUTO_COMPILE_STEPS", "0")
    assert step_runner._auto_compile_steps() == 0
    monkeypatch.delenv("TKERAS_AUTO_COMPILE_STEPS")
    assert step_runner._auto_compile_steps() == 20_000
    monkeypatch.setenv("TKERAS_AUTO_COMPILE_STEPS", "many")
    with pytest.raises(ValueError, match="TKERAS_AUTO_COMPILE_STEPS must be a whole number"):
        step_runner._auto_compile_steps()


def test_auto_leaves_a_model_with_its_own_train_step_alone(monkeypatch):
    _plan_only(monkeypatch, 1)

    class OwnStep(tkeras.Sequential):
        def train_step(self, data):
            return super().train_step(data)

    x, y = _data(32)
    model = OwnStep([layers.Dense(1, input_shape=(20,))])
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, y, batch_size=16, epochs=2, verbose=0)
    assert _PlanOnly.made == 0 and model.run_eagerly


def test_auto_counts_train_on_batch_steps(monkeypatch):
    """A loop of train_on_batch calls (a GAN's) compiles once its steps come to the count."""
    _plan_only(monkeypatch, 3)
    x, y = _data(16)
    model = _small_model()
    for _ in range(3):
        model.train_on_batch(x, y)
        assert _PlanOnly.made == 0
    model.train_on_batch(x, y)  # 3 steps run: this one is planned compiled
    runner = model._step_runner
    assert _PlanOnly.made == 1 and runner._step == runner._auto_step
    assert runner.steps_trained == 4
