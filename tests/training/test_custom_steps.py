"""Overridable train_step / test_step / predict_step: the examples of tf-keras's guide
"Customizing what happens in fit()", with the expected logs computed by hand (numpy, or
plain torch modules and torch.optim for the GAN)."""
import numpy as np
import pytest
import torch

import tkeras
from tkeras import metrics
from tkeras.callbacks import Callback
from tkeras.layers import Dense, Input
from tkeras.models import Model, Sequential
from tkeras.optimizers import SGD
from tkeras.utils import pack_x_y_sample_weight, unpack_x_y_sample_weight

RNG = np.random.RandomState(0)
X = RNG.rand(8, 3).astype("float32")
Y = (X @ np.array([[1.0], [-2.0], [0.5]], "float32") + 0.3).astype("float32")
LR = 0.1


def _numpy_sgd_history(w, b, batches, epochs, weights=None):
    """Per-epoch (mean of the batch mse, mae over the epoch) of a Dense(1) trained with SGD on
    the mse, and the final weights; the values are taken before each batch's update."""
    history = []
    for _ in range(epochs):
        losses, abs_sum, count = [], 0.0, 0
        for sl in batches:
            x, y = X[sl], Y[sl]
            err = x @ w + b - y
            sw = np.ones(len(x), "float32") if weights is None else weights[sl]
            losses.append(float(np.sum(sw * err[:, 0] ** 2) / len(x)))
            abs_sum += float(np.abs(err).sum())
            count += err.size
            grad = 2 * sw[:, None] * err / len(x)
            w, b = w - LR * x.T @ grad, b - LR * grad.sum(axis=0)
        history.append((losses, abs_sum / count))
    return history, (w, b)


def _functional(cls, units=1):
    inputs = Input(shape=(3,))
    return cls(inputs, Dense(units)(inputs))


def test_custom_train_step_with_the_compiled_loss_and_autograd():
    calls = []
    class CustomModel(Model):
        def train_step(self, data):
            calls.append(1)
            x, y = data
            y_pred = self(x, training=True)
            loss = self.compiled_loss(y, y_pred, regularization_losses=self.losses)
            grads = torch.autograd.grad(loss, self.trainable_weights)
            self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
            self.compiled_metrics.update_state(y, y_pred)
            return {m.name: m.result() for m in self.metrics}

    model = _functional(CustomModel)
    model.compile(optimizer=SGD(lr=LR), loss="mse", metrics=["mae"])
    w0, b0 = model.get_weights()
    history = model.fit(X, Y, batch_size=4, epochs=3, shuffle=False, verbose=0)
    assert len(calls) == 6
    expected, (w, b) = _numpy_sgd_history(w0, b0, [slice(0, 4), slice(4, 8)], 3)
    # the compiled loss mean is weighted by batch size: equal batches, so the plain mean
    np.testing.assert_allclose(history.history["loss"], [np.mean(e[0]) for e in expected],
                               rtol=1e-5)
    np.testing.assert_allclose(history.history["mae"], [e[1] for e in expected], rtol=1e-5)
    np.testing.assert_allclose(model.get_weights()[0], w, rtol=1e-5)
    np.testing.assert_allclose(model.get_weights()[1], b, rtol=1e-5)


_loss_tracker = metrics.Mean(name="loss")
_mae_metric = metrics.MeanAbsoluteError(name="mae")


class _HandWritten(Model):
    """The guide's second example: a hand-written loss, metric trackers, ``metrics``."""

    def train_step(self, data):
        x, y = data
        y_pred = self(x, training=True)
        loss = torch.mean(tkeras.losses.mean_squared_error(y, y_pred))
        self.zero_grad()
        loss.backward()  # gradients the torch way
        self.optimizer.apply_gradients([(w.grad, w) for w in self.trainable_weights])
        _loss_tracker.update_state(loss)
        _mae_metric.update_state(y, y_pred)
        return {"loss": _loss_tracker.result(), "mae": _mae_metric.result()}

    @property
    def metrics(self):
        return [_loss_tracker, _mae_metric]


def test_hand_written_loss_with_metric_trackers_reset_each_epoch():
    model = _functional(_HandWritten)
    model.compile(optimizer=SGD(lr=LR))  # no loss, no metrics
    w0, b0 = model.get_weights()
    seen = []

    class BatchLogs(Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append((logs["loss"], logs["mae"]))

    history = model.fit(X, Y, batch_size=4, epochs=2, shuffle=False, verbose=0,
                        callbacks=[BatchLogs()])
    expected, _ = _numpy_sgd_history(w0, b0, [slice(0, 4), slice(4, 8)], 2)
    # the Mean tracker averages the batch losses; the trackers restart every epoch
    np.testing.assert_allclose(history.history["loss"], [np.mean(e[0]) for e in expected],
                               rtol=1e-5)
    np.testing.assert_allclose(history.history["mae"], [e[1] for e in expected], rtol=1e-5)
    assert sorted(history.history) == ["loss", "mae"]
    np.testing.assert_allclose([s[0] for s in seen[2:]],
                               [expected[1][0][0], np.mean(expected[1][0])], rtol=1e-5)
    assert model.metrics_names == ["loss", "mae"]


def test_custom_test_step_in_evaluate_and_validation():
    calls = []
    class CustomModel(Model):
        def test_step(self, data):
            calls.append(1)
            x, y = data
            y_pred = self(x, training=False)
            self.compiled_loss(y, y_pred, regularization_losses=self.losses)
            self.compiled_metrics.update_state(y, y_pred)
            return {m.name: m.result() for m in self.metrics}

    model = _functional(CustomModel)
    model.compile(optimizer=SGD(lr=0.0), loss="mse", metrics=["mae"])
    err = X @ model.get_weights()[0] + model.get_weights()[1] - Y
    loss, mae = model.evaluate(X, Y, batch_size=3, verbose=0)
    assert len(calls) == 3
    np.testing.assert_allclose([loss, mae], [np.mean(err ** 2), np.mean(np.abs(err))], rtol=1e-5)
    assert model.evaluate(X, Y, verbose=0, return_dict=True).keys() == {"loss", "mae"}
    history = model.fit(X, Y, epochs=1, validation_data=(X[:4], Y[:4]), verbose=0)
    np.testing.assert_allclose(history.history["val_mae"], [np.mean(np.abs(err[:4]))], rtol=1e-5)
    before = len(calls)
    np.testing.assert_allclose(model.test_on_batch(X, Y), [loss, mae], rtol=1e-5)
    assert len(calls) == before + 1


def test_sample_weights_reach_a_custom_train_step():
    received = []

    class CustomModel(Model):
        def train_step(self, data):
            if len(data) == 3:
                x, y, sample_weight = data
            else:
                sample_weight = None
                x, y = data
            received.append(sample_weight is not None)
            y_pred = self(x, training=True)
            loss = self.compiled_loss(y, y_pred, sample_weight=sample_weight,
                                      regularization_losses=self.losses)
            grads = torch.autograd.grad(loss, self.trainable_weights)
            self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
            self.compiled_metrics.update_state(y, y_pred, sample_weight=sample_weight)
            return {m.name: m.result() for m in self.metrics}

    model = _functional(CustomModel)
    model.compile(optimizer=SGD(lr=LR), loss="mse", metrics=["mae"])
    w0, b0 = model.get_weights()
    sw = np.array([1, 0, 2, 1, 0.5, 3, 0, 1], "float32")
    history = model.fit(X, Y, sample_weight=sw, batch_size=8, epochs=2, shuffle=False, verbose=0)
    assert received == [True, True]
    expected, _ = _numpy_sgd_history(w0, b0, [slice(0, 8)], 2, weights=sw)
    np.testing.assert_allclose(history.history["loss"], [e[0][0] for e in expected], rtol=1e-5)
    model.fit(X, Y, batch_size=8, verbose=0)
    assert received[-1] is False


def test_compute_loss_minimize_and_super_train_step_match_the_fused_step():
    calls = []
    class Minimizing(Model):
        def train_step(self, data):
            x, y, sample_weight = unpack_x_y_sample_weight(data)
            y_pred = self(x, training=True)
            loss = self.compute_loss(x, y, y_pred, sample_weight)
            self.optimizer.minimize(loss, self.trainable_weights)
            return self.compute_metrics(x, y, y_pred, sample_weight)

    class Delegating(Model):
        def train_step(self, data):
            calls.append(1)
            return super().train_step(data)

    histories, weights = [], []
    for cls in (Model, Minimizing, Delegating):
        tkeras.utils.set_random_seed(1)
        model = _functional(cls)
        model.compile(optimizer=SGD(lr=LR, momentum=0.5), loss="mse", metrics=["mae"])
        history = model.fit(X, Y, batch_size=3, epochs=3, shuffle=False, verbose=0)
        histories.append(history.history)
        weights.append(model.get_weights())
    assert len(calls) == 9
    for history, w in zip(histories[1:], weights[1:]):
        assert history.keys() == histories[0].keys() == {"loss", "mae"}
        for key in history:
            np.testing.assert_allclose(history[key], histories[0][key], rtol=1e-5)
        for a, b in zip(w, weights[0]):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


class _GAN(Model):
    """The guide's GAN: two sub-models, two optimizers, loss trackers as attributes."""

    def __init__(self, discriminator, generator, latent):
        super().__init__()
        self.discriminator = discriminator
        self.generator = generator
        self.latent = latent  # fixed latent vectors: the test replays the steps by hand
        self.d_loss_tracker = metrics.Mean(name="d_loss")
        self.g_loss_tracker = metrics.Mean(name="g_loss")

    def compile(self, d_optimizer, g_optimizer, loss_fn):
        super().compile()
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        self.loss_fn = loss_fn

    def train_step(self, real_images):
        if isinstance(real_images, tuple):
            real_images = real_images[0]
        batch_size = real_images.shape[0]
        latent = self.latent[:batch_size]
        generated = self.generator(latent)
        combined = torch.cat([generated.detach(), real_images], dim=0)
        labels = torch.cat([torch.ones(batch_size, 1), torch.zeros(batch_size, 1)], dim=0)
        d_loss = self.loss_fn(labels, self.discriminator(combined))
        d_weights = self.discriminator.trainable_weights
        grads = torch.autograd.grad(d_loss, d_weights)
        self.d_optimizer.apply_gradients(zip(grads, d_weights))
        misleading = torch.zeros(batch_size, 1)
        g_loss = self.loss_fn(misleading, self.discriminator(self.generator(latent)))
        g_weights = self.generator.trainable_weights
        grads = torch.autograd.grad(g_loss, g_weights)
        self.g_optimizer.apply_gradients(zip(grads, g_weights))
        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        return {"d_loss": self.d_loss_tracker.result(), "g_loss": self.g_loss_tracker.result()}


def test_gan_with_two_optimizers_matches_plain_torch():
    tkeras.utils.set_random_seed(3)
    discriminator = Sequential([Dense(1, activation="sigmoid", input_shape=(2,))])
    generator = Sequential([Dense(2, input_shape=(2,))])
    latent = torch.from_numpy(RNG.randn(4, 2).astype("float32"))
    real = RNG.randn(8, 2).astype("float32") + 2.0
    gan = _GAN(discriminator, generator, latent)
    gan.compile(d_optimizer=SGD(lr=0.05), g_optimizer=SGD(lr=0.2),
                loss_fn=tkeras.losses.BinaryCrossentropy())
    (dk, db), (gk, gb) = discriminator.get_weights(), generator.get_weights()
    history = gan.fit(real, batch_size=4, epochs=2, shuffle=False, verbose=0)
    assert sorted(gan.metrics_names) == ["d_loss", "g_loss"]  # the trackers, found as attributes

    # the same steps with torch modules and torch.optim
    d, g = torch.nn.Linear(2, 1), torch.nn.Linear(2, 2)
    with torch.no_grad():
        d.weight.copy_(torch.from_numpy(dk.T)), d.bias.copy_(torch.from_numpy(db))
        g.weight.copy_(torch.from_numpy(gk.T)), g.bias.copy_(torch.from_numpy(gb))
    d_opt, g_opt = torch.optim.SGD(d.parameters(), lr=0.05), torch.optim.SGD(g.parameters(), lr=0.2)
    bce = torch.nn.functional.binary_cross_entropy
    expected = {"d_loss": [], "g_loss": []}
    for _ in range(2):
        d_losses, g_losses = [], []
        for start in (0, 4):
            images = torch.from_numpy(real[start:start + 4])
            combined = torch.cat([g(latent).detach(), images])
            labels = torch.cat([torch.ones(4, 1), torch.zeros(4, 1)])
            d_opt.zero_grad()
            d_loss = bce(torch.sigmoid(d(combined)), labels)
            d_loss.backward()
            d_opt.step()
            g_opt.zero_grad()
            g_loss = bce(torch.sigmoid(d(g(latent))), torch.zeros(4, 1))
            g_loss.backward()
            g_opt.step()
            d_losses.append(d_loss.item())
            g_losses.append(g_loss.item())
        expected["d_loss"].append(np.mean(d_losses))
        expected["g_loss"].append(np.mean(g_losses))
    for key in ("d_loss", "g_loss"):
        np.testing.assert_allclose(history.history[key], expected[key], rtol=1e-5)
    np.testing.assert_allclose(discriminator.get_weights()[0], d.weight.detach().numpy().T,
                               rtol=1e-5)
    np.testing.assert_allclose(generator.get_weights()[0], g.weight.detach().numpy().T,
                               rtol=1e-5)


def test_custom_predict_step_and_the_on_batch_methods():
    class Doubling(Model):
        def predict_step(self, data):
            x, _, _ = unpack_x_y_sample_weight(data)
            out = self(x, training=False)
            return {"out": out, "twice": out * 2}

    model = _functional(Doubling)
    model.compile(optimizer=SGD(lr=0.0), loss="mse")
    plain = X @ model.get_weights()[0] + model.get_weights()[1]
    result = model.predict(X, batch_size=3)
    assert sorted(result) == ["out", "twice"]
    np.testing.assert_allclose(result["twice"], 2 * plain, rtol=1e-6)
    np.testing.assert_allclose(model.predict_on_batch(X)["out"], plain, rtol=1e-6)


def test_train_on_batch_and_fit_generator_call_the_override():
    calls = []
    class CustomModel(Model):
        def train_step(self, data):
            calls.append(1)
            return super().train_step(data)

    model = _functional(CustomModel)
    model.compile(optimizer=SGD(lr=0.0), loss="mse")
    err = X @ model.get_weights()[0] + model.get_weights()[1] - Y
    np.testing.assert_allclose(model.train_on_batch(X, Y), np.mean(err ** 2), rtol=1e-5)

    def batches():
        while True:
            yield X, Y

    model.fit_generator(batches(), steps_per_epoch=2, epochs=2, verbose=0)
    assert len(calls) == 5


def test_a_step_that_returns_no_dict():
    class Bad(Model):
        def train_step(self, data):
            return 1.0

    model = _functional(Bad)
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(TypeError, match="`train_step` must return a dict of metric names to "
                                        "values.*Received: float"):
        model.fit(X, Y, verbose=0)


def test_pack_and_unpack_x_y_sample_weight():
    x, y, sw = np.ones((2, 3)), np.zeros((2, 1)), np.ones(2)
    assert pack_x_y_sample_weight(x) is x
    assert pack_x_y_sample_weight([x, x]) == ([x, x],)  # a list of inputs stays x
    assert unpack_x_y_sample_weight(pack_x_y_sample_weight([x, x]))[1] is None
    assert unpack_x_y_sample_weight(pack_x_y_sample_weight(x, y))[1] is y
    assert unpack_x_y_sample_weight(pack_x_y_sample_weight(x, y, sw))[2] is sw
    with pytest.raises(ValueError, match="Data is expected to be in format `x`, `\\(x,\\)`, "
                                         "`\\(x, y\\)`, or `\\(x, y, sample_weight\\)`"):
        unpack_x_y_sample_weight((x, y, sw, sw))


def test_models_without_an_override_run_the_fused_step(monkeypatch):
    from tkeras.engine.step_runner import StepRunner
    fused = []
    original = StepRunner.train_step

    def counted(self, batch):
        fused.append(1)
        return original(self, batch)

    monkeypatch.setattr(StepRunner, "train_step", counted)

    class OnlyCall(Model):  # a subclassed model that customizes call, not the step
        def __init__(self):
            super().__init__()
            self.dense = Dense(1)

        def call(self, inputs):
            return self.dense(inputs)

    class Custom(Model):
        def train_step(self, data):
            return {"n": torch.tensor(1.0)}

    for model in (OnlyCall(), _functional(Model), _functional(Custom)):
        model.compile(optimizer="sgd", loss="mse")
        model.fit(X, Y, batch_size=4, verbose=0)
    assert len(fused) == 4  # 2 batches each for the two models without an override
