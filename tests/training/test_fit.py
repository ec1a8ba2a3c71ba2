"""compile / fit / evaluate / predict: the seed examples and Keras 2's behaviour, with
expected values computed by hand (numpy) from the model's weights."""
import numpy as np
import pytest
import torch

import tkeras
from conftest import forbid_host_reads_in_train_step
from tkeras import backend as K
from tkeras import layers
from tkeras._warn import TkerasDeprecationWarning
from tkeras.callbacks import Callback, EarlyStopping
from tkeras.layers import Activation, Dense, Dropout, Input
from tkeras.models import Model, Sequential
from tkeras.optimizers import SGD


def _rng(seed=0):
    return np.random.RandomState(seed)


def _softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _frozen_linear(n_in=3, n_out=1, activation=None):
    """Dense model trained with SGD(lr=0): the weights never move, so losses are known."""
    model = Sequential([Dense(n_out, activation=activation, input_shape=(n_in,))])
    model.compile(optimizer=SGD(lr=0.0), loss="mse")
    return model


def _dense_forward(model, x):
    kernel, bias = model.get_weights()
    return x @ kernel + bias


# ------------------------------------------------------------------ seed examples

def test_seed000_sequential_mlp_with_early_stopping():
    n_hidden, dropout, nb_classes = 32, 0.3, 10
    model = Sequential()
    model.add(Dense(n_hidden, input_shape=(784,)))
    model.add(Activation("relu"))
    model.add(Dropout(dropout))
    model.add(Dense(n_hidden))
    model.add(Activation("relu"))
    model.add(Dropout(dropout))
    model.add(Dense(nb_classes))
    model.add(Activation("softmax"))
    model.summary(print_fn=lambda *a, **k: None)
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    rng = _rng()
    x = rng.rand(200, 784).astype("float32")
    y = np.eye(nb_classes)[rng.randint(0, nb_classes, 200)]  # random labels: val loss rises
    early_stopping = EarlyStopping(monitor="val_loss", patience=2)
    history = model.fit(x, y, validation_split=0.2, callbacks=[early_stopping], epochs=40,
                        verbose=0)
    val = history.history["val_loss"]
    best = int(np.argmin(val))
    assert len(val) < 40, "random labels must make the validation loss stop improving"
    # Keras stops `patience` epochs after the best one, having seen no strictly lower value.
    assert len(val) == best + 3
    assert all(v >= val[best] for v in val[best + 1:])
    assert early_stopping.stopped_epoch == best + 2
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert history.epoch == list(range(len(val)))


def _seed001_multitask_model():
    main_input = Input(shape=(20,), dtype="int32", name="main_input")
    x = layers.Embedding(output_dim=16, input_dim=100, input_length=20)(main_input)
    lstm_out = layers.LSTM(8)(x)
    auxiliary_output = Dense(1, activation="sigmoid", name="aux_output")(lstm_out)
    auxiliary_input = Input(shape=(5,), name="aux_input")
    x = layers.concatenate([lstm_out, auxiliary_input])
    x = Dense(16, activation="relu")(x)
    x = Dense(16, activation="relu")(x)
    main_output = Dense(1, activation="sigmoid", name="main_output")(x)
    return Model(inputs=[main_input, auxiliary_input], outputs=[main_output, auxiliary_output])


def _seed001_data(n=64):
    rng = _rng(1)
    headline = rng.randint(1, 100, size=(n, 20))
    additional = rng.rand(n, 5).astype("float32")
    labels = rng.randint(0, 2, size=(n, 1)).astype("float32")
    return headline, additional, labels


def test_seed001_multi_input_multi_output_with_dicts_and_loss_weights():
    model = _seed001_multitask_model()
    model.compile(optimizer="rmsprop",
                  loss={"main_output": "binary_crossentropy", "aux_output": "binary_crossentropy"},
                  loss_weights={"main_output": 1., "aux_output": 0.2}, metrics=["accuracy"])
    headline, additional, labels = _seed001_data()
    history = model.fit({"main_input": headline, "aux_input": additional},
                        {"main_output": labels, "aux_output": labels},
                        epochs=3, batch_size=32, validation_split=0.25, verbose=0)
    h = history.history
    assert list(h) == ["loss", "main_output_loss", "aux_output_loss", "main_output_accuracy",
                       "aux_output_accuracy", "val_loss", "val_main_output_loss",
                       "val_aux_output_loss", "val_main_output_accuracy",
                       "val_aux_output_accuracy"]
    for prefix in ("", "val_"):
        np.testing.assert_allclose(h[prefix + "loss"], np.array(h[prefix + "main_output_loss"]) +
                                   0.2 * np.array(h[prefix + "aux_output_loss"]), rtol=1e-5)
    assert model.metrics_names == ["loss", "main_output_loss", "aux_output_loss",
                                   "main_output_accuracy", "aux_output_accuracy"]
    preds = model.predict({"main_input": headline, "aux_input": additional})
    assert isinstance(preds, list) and [p.shape for p in preds] == [(64, 1), (64, 1)]


def test_seed001_loss_weights_as_list_and_one_loss_for_all_outputs():
    model = _seed001_multitask_model()
    model.compile(optimizer="rmsprop", loss="binary_crossentropy", loss_weights=[1., 0.2])
    headline, additional, labels = _seed001_data(32)
    result = model.evaluate([headline, additional], [labels, labels], batch_size=32, verbose=0)
    main_pred, aux_pred = model.predict([headline, additional], batch_size=32)
    eps = 1e-7

    def bce(p):
        p = np.clip(p, eps, 1 - eps)
        return np.mean(-(labels * np.log(p + eps) + (1 - labels) * np.log(1 - p + eps)))

    np.testing.assert_allclose(result, [bce(main_pred) + 0.2 * bce(aux_pred), bce(main_pred),
                                        bce(aux_pred)], rtol=1e-4)


def test_seed001_custom_loss_with_K_and_custom_metric():
    def mean_squared_error(y_true, y_pred):
        return K.mean(K.square(y_pred - y_true), axis=-1)

    def mean_pred(y_true, y_pred):
        return K.mean(y_pred)

    from tkeras.optimizer import Adam
    model = Sequential([Dense(4, activation="relu", input_shape=(3,)),
                        Dense(1, activation="sigmoid")])
    model.compile(loss=mean_squared_error, optimizer=Adam(0.001), metrics=["accuracy", mean_pred])
    rng = _rng()
    x = rng.rand(40, 3).astype("float32")
    y = rng.randint(0, 2, size=(40,))  # integer labels: cast to floatx before the loss
    model.fit(x, y, epochs=2, batch_size=10, verbose=0)
    loss, acc, mp = model.evaluate(x, y, batch_size=10, verbose=0)
    assert model.metrics_names == ["loss", "accuracy", "mean_pred"]
    p = model.predict(x)
    np.testing.assert_allclose(loss, np.mean((p[:, 0] - y) ** 2), rtol=1e-5)
    np.testing.assert_allclose(mp, p.mean(), rtol=1e-5)  # equal batches: mean of batch means
    np.testing.assert_allclose(acc, np.mean((p[:, 0] > 0.5) == y), rtol=1e-6)


@pytest.mark.parametrize("clip", [{"clipnorm": 1.0}, {"clipvalue": 0.5}])
def test_optimizer_clipping_changes_the_step_as_computed_by_hand(clip):
    model = Sequential([Dense(1, input_shape=(3,), kernel_initializer="zeros")])
    model.compile(optimizer=tkeras.optimizers.SGD(lr=0.01, **clip), loss="mse")
    x = np.array([[3., 4., 0.], [1., 2., 2.]], dtype="float32")
    y = np.array([[10.], [5.]], dtype="float32")
    model.fit(x, y, batch_size=2, epochs=1, shuffle=False, verbose=0)
    err = (np.zeros((2, 1)) - y)                       # predictions are 0 at the start
    grads = [2 * x.T @ err / 2, 2 * err.mean(axis=0)]  # d mean((p - y)^2)
    if "clipnorm" in clip:
        grads = [g * min(1.0, 1.0 / np.linalg.norm(g)) for g in grads]
    else:
        grads = [np.clip(g, -0.5, 0.5) for g in grads]
    expected = [-0.01 * g for g in grads]
    for got, want in zip(model.get_weights(), expected):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)


def test_seed003_demo_with_nb_epoch_and_predict_classes():
    model = Sequential()
    model.add(Dense(64, activation=tkeras.activations.relu, input_dim=28 * 28))
    model.add(Dense(10, activation=tkeras.activations.softmax))
    model.compile(loss="categorical_crossentropy", optimizer="sgd", metrics=["accuracy"])
    rng = _rng()
    X_train = rng.rand(96, 784).astype("float32")
    Y_train = np.eye(10)[rng.randint(0, 10, 96)]
    with pytest.warns(TkerasDeprecationWarning, match="nb_epoch"):
        history = model.fit(X_train, Y_train, nb_epoch=5, batch_size=32, verbose=0)
    assert history.epoch == [0, 1, 2, 3, 4]
    loss, acc = model.evaluate(X_train[:64], Y_train[:64], batch_size=32, verbose=0)
    classes = model.predict_classes(X_train[:64], batch_size=32)
    proba = model.predict_proba(X_train[:64], batch_size=32)
    np.testing.assert_array_equal(classes, proba.argmax(axis=-1))
    np.testing.assert_allclose(acc, np.mean(classes == Y_train[:64].argmax(-1)), rtol=1e-6)


def test_predict_classes_of_a_single_sigmoid_unit_thresholds_at_half():
    model = _frozen_linear(2, 1, activation="sigmoid")
    x = np.array([[1., 1.], [-1., -1.], [3., -2.]], dtype="float32")
    p = model.predict(x)
    np.testing.assert_array_equal(model.predict_classes(x), (p > 0.5).astype("int32"))


# ------------------------------------------------------------------ behaviour

def test_validation_split_takes_the_last_fraction_before_shuffling():
    model = _frozen_linear(1, 1)
    model.set_weights([np.zeros((1, 1), "float32"), np.zeros(1, "float32")])
    x = np.arange(10, dtype="float32")[:, None]
    y = np.arange(10, dtype="float32")[:, None] + 1
    history = model.fit(x, y, validation_split=0.3, batch_size=3, epochs=1, shuffle=True,
                        verbose=0)
    # Predictions are all 0: loss is mean(y^2) over the first 7 samples, val_loss over the last 3.
    np.testing.assert_allclose(history.history["loss"], [np.mean(y[:7] ** 2)], rtol=1e-6)
    np.testing.assert_allclose(history.history["val_loss"], [np.mean(y[7:] ** 2)], rtol=1e-6)


def _categorical_case():
    model = Sequential([Dense(3, activation="softmax", input_shape=(4,))])
    model.compile(optimizer=SGD(lr=0.0), loss="categorical_crossentropy")
    rng = _rng(3)
    x = rng.rand(8, 4).astype("float32")
    labels = np.array([0, 1, 2, 0, 1, 2, 2, 0])
    y = np.eye(3, dtype="float32")[labels]
    kernel, bias = model.get_weights()
    p = np.clip(_softmax(x @ kernel + bias), 1e-7, 1 - 1e-7)
    per_sample = -np.log(p[np.arange(8), labels])
    return model, x, y, labels, per_sample


def test_class_weight_and_sample_weight_change_the_loss_exactly_by_hand():
    model, x, y, labels, per_sample = _categorical_case()
    class_weight = {0: 1.0, 1: 3.0, 2: 0.5}
    sample_weight = np.array([1, 2, 0, 1, 1, 0.5, 2, 1], dtype="float32")
    cw = np.array([class_weight[c] for c in labels])
    # Keras's SUM_OVER_BATCH_SIZE: sum(loss * w) / batch size, averaged over batches.
    by_batch = lambda w: np.mean([np.sum((per_sample * w)[i:i + 4]) / 4 for i in (0, 4)])  # noqa: E731
    h = model.fit(x, y, batch_size=4, shuffle=False, verbose=0).history
    np.testing.assert_allclose(h["loss"], [by_batch(np.ones(8))], rtol=1e-5)
    h = model.fit(x, y, batch_size=4, shuffle=False, class_weight=class_weight, verbose=0).history
    np.testing.assert_allclose(h["loss"], [by_batch(cw)], rtol=1e-5)
    h = model.fit(x, y, batch_size=4, shuffle=False, sample_weight=sample_weight,
                  verbose=0).history
    np.testing.assert_allclose(h["loss"], [by_batch(sample_weight)], rtol=1e-5)
    h = model.fit(x, y, batch_size=4, shuffle=True, sample_weight=sample_weight,
                  class_weight=class_weight, verbose=0).history
    # shuffled batches of equal size: the epoch mean is still sum(loss * w) / 8
    np.testing.assert_allclose(h["loss"], [np.sum(per_sample * cw * sample_weight) / 8], rtol=1e-5)
    np.testing.assert_allclose(
        model.evaluate(x, y, sample_weight=sample_weight, batch_size=8, verbose=0),
        np.sum(per_sample * sample_weight) / 8, rtol=1e-5)
    np.testing.assert_allclose(model.train_on_batch(x, labels.astype("float32")[:, None] * 0 + y,
                                                    class_weight=class_weight),
                               np.sum(per_sample * cw) / 8, rtol=1e-5)


def test_class_weight_with_sparse_labels():
    model = Sequential([Dense(3, activation="softmax", input_shape=(4,))])
    model.compile(optimizer=SGD(lr=0.0), loss="sparse_categorical_crossentropy")
    reference, x, _, labels, per_sample = _categorical_case()
    model.set_weights(reference.get_weights())
    h = model.fit(x, labels, batch_size=8, class_weight={0: 2., 1: 1., 2: 0.}, verbose=0).history
    cw = np.array([2., 1., 0.])[labels]
    np.testing.assert_allclose(h["loss"], [np.sum(per_sample * cw) / 8], rtol=1e-5)


def test_epoch_loss_is_the_batch_size_weighted_mean():
    model = _frozen_linear(1, 1)
    model.set_weights([np.zeros((1, 1), "float32"), np.zeros(1, "float32")])
    y = np.arange(1, 6, dtype="float32")[:, None]
    h = model.fit(np.zeros((5, 1), "float32"), y, batch_size=2, shuffle=False, verbose=0).history
    np.testing.assert_allclose(h["loss"], [np.mean(y ** 2)], rtol=1e-6)


def test_regularization_losses_are_added_to_the_loss():
    from tkeras import regularizers

    class AddsLoss(layers.Layer):
        def call(self, inputs):
            self.add_loss(0.25 * K.sum(inputs))
            return inputs

    inputs = Input(shape=(2,))
    hidden = Dense(2, kernel_regularizer=regularizers.l2(0.1),
                   activity_regularizer=regularizers.l1(0.01), name="hidden")(inputs)
    outputs = Dense(1, name="out")(AddsLoss()(hidden))
    model = Model(inputs, outputs)
    model.compile(optimizer=SGD(lr=0.0), loss="mse")
    x = np.array([[1., 2.], [3., -1.]], dtype="float32")
    y = np.array([[1.], [0.]], dtype="float32")
    k1, b1, k2, b2 = model.get_weights()
    h = x @ k1 + b1
    p = h @ k2 + b2
    expected = (np.mean((p - y) ** 2) + 0.1 * np.sum(k1 ** 2) + 0.01 * np.sum(np.abs(h)) / 2
                + 0.25 * np.sum(h))
    np.testing.assert_allclose(model.evaluate(x, y, verbose=0), expected, rtol=1e-5)
    np.testing.assert_allclose(model.train_on_batch(x, y), expected, rtol=1e-5)


def test_constraints_are_applied_after_each_update():
    from tkeras.constraints import NonNeg
    model = Sequential([Dense(3, input_shape=(2,), kernel_constraint=NonNeg(),
                              kernel_initializer="ones")])
    model.compile(optimizer=SGD(lr=10.0), loss="mse")
    model.fit(np.ones((4, 2), "float32"), -10 * np.ones((4, 3), "float32"), verbose=0)
    kernel = model.get_weights()[0]
    assert kernel.min() >= 0.0
    np.testing.assert_array_equal(kernel, np.zeros_like(kernel))  # pushed negative, clipped


@pytest.mark.parametrize("loss,targets,expected_fn", [
    ("binary_crossentropy", "binary", "binary_accuracy"),
    ("mse", "binary", "binary_accuracy"),
    ("categorical_crossentropy", "onehot", "categorical_accuracy"),
    ("sparse_categorical_crossentropy", "sparse", "sparse_categorical_accuracy"),
    ("sparse_categorical_crossentropy", "sparse2d", "sparse_categorical_accuracy"),
])
@pytest.mark.parametrize("name", ["acc", "accuracy"])
def test_accuracy_name_and_kind_follow_loss_and_shapes(loss, targets, expected_fn, name):
    units = 1 if targets == "binary" else 4
    model = Sequential([Dense(units, activation="sigmoid" if units == 1 else "softmax",
                              input_shape=(3,))])
    model.compile(optimizer="sgd", loss=loss, metrics=[name])
    rng = _rng(5)
    x = rng.rand(12, 3).astype("float32")
    labels = rng.randint(0, units if units > 1 else 2, 12)
    y = {"binary": labels[:, None].astype("float32"), "onehot": np.eye(4)[labels],
         "sparse": labels, "sparse2d": labels[:, None]}[targets]
    result = model.evaluate(x, y, verbose=0, return_dict=True)
    assert list(result) == ["loss", name]
    p = model.predict(x)
    expected = np.mean((p[:, 0] > 0.5) == labels) if units == 1 else np.mean(p.argmax(-1) == labels)
    np.testing.assert_allclose(result[name], expected, rtol=1e-6)
    assert model.metrics[1].name == name


def test_weighted_metrics_receive_sample_weights_and_get_prefixed_names():
    model = _frozen_linear(2, 1)
    model.compile(optimizer=SGD(lr=0.), loss="mae", metrics=["mae"], weighted_metrics=["mae"])
    x = np.array([[1., 0.], [0., 1.], [1., 1.]], dtype="float32")
    y = np.array([[1.], [2.], [3.]], dtype="float32")
    w = np.array([1., 0., 3.], dtype="float32")
    result = model.evaluate(x, y, sample_weight=w, verbose=0, return_dict=True)
    err = np.abs(_dense_forward(model, x) - y)[:, 0]
    assert list(result) == ["loss", "mae", "weighted_mae"]
    np.testing.assert_allclose(result["mae"], err.mean(), rtol=1e-5)
    np.testing.assert_allclose(result["weighted_mae"], np.sum(err * w) / w.sum(), rtol=1e-5)
    np.testing.assert_allclose(result["loss"], np.sum(err * w) / 3, rtol=1e-5)


def test_predict_returns_numpy_in_batches_and_unwraps_single_outputs():
    model = _frozen_linear(3, 2)
    x = _rng().rand(70, 3).astype("float32")
    out = model.predict(x, batch_size=16)
    assert isinstance(out, np.ndarray) and out.shape == (70, 2)
    np.testing.assert_allclose(out, _dense_forward(model, x), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(model.predict_on_batch(x[:5]), out[:5], rtol=1e-6)
    np.testing.assert_allclose(model.predict(torch.from_numpy(x)), out, rtol=1e-6)

    class ListOutput(Model):
        def __init__(self):
            super().__init__()
            self.dense = Dense(2)

        def call(self, inputs):
            return [self.dense(inputs)]

    sub = ListOutput()
    assert sub.predict(x).shape == (70, 2)


def test_subclassed_model_trains_and_evaluates():
    class TwoLayer(Model):
        def __init__(self):
            super().__init__(name="two_layer")
            self.hidden = Dense(8, activation="relu")
            self.out = Dense(1)

        def call(self, inputs):
            return self.out(self.hidden(inputs))

    model = TwoLayer()
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    rng = _rng()
    x = rng.rand(64, 4).astype("float32")
    y = x.sum(axis=1, keepdims=True)
    h = model.fit(x, y, epochs=3, batch_size=16, verbose=0)
    assert h.history["loss"][-1] < h.history["loss"][0]
    assert model.metrics_names == ["loss", "mae"]


def test_train_and_test_on_batch_return_this_batch_only():
    model = _frozen_linear(2, 1)
    model.compile(optimizer=SGD(lr=0.), loss="mse", metrics=["mae"])
    x = np.array([[1., 2.], [0., 1.]], dtype="float32")
    y = np.array([[1.], [4.]], dtype="float32")
    err = _dense_forward(model, x) - y
    expected = [np.mean(err ** 2), np.mean(np.abs(err))]
    model.evaluate(x * 3, y, verbose=0)  # leaves other values in the metrics
    np.testing.assert_allclose(model.train_on_batch(x, y), expected, rtol=1e-5)
    np.testing.assert_allclose(model.test_on_batch(x, y), expected, rtol=1e-5)
    assert model.train_on_batch(x, y, return_dict=True).keys() == {"loss", "mae"}
    first = model.test_on_batch(x, y, reset_metrics=False)
    both = model.test_on_batch(x * 2, y, reset_metrics=False)
    err2 = _dense_forward(model, x * 2) - y
    np.testing.assert_allclose(both[0], (first[0] + np.mean(err2 ** 2)) / 2, rtol=1e-5)


def test_steps_per_epoch_with_arrays_continues_across_epochs():
    seen = []

    class Record(Callback):
        def on_train_batch_begin(self, batch, logs=None):
            seen.append(logs["size"])

    model = _frozen_linear(1, 1)
    h = model.fit(np.zeros((10, 1), "float32"), np.zeros((10, 1), "float32"), batch_size=4,
                  steps_per_epoch=2, epochs=3, shuffle=False, callbacks=[Record()], verbose=0)
    assert len(h.epoch) == 3
    assert seen == [4, 4, 2, 4, 4, 2]  # 4, 4, 2 is one pass over the 10 samples


def test_initial_epoch_and_validation_freq():
    model = _frozen_linear(1, 1)
    x, y = np.zeros((6, 1), "float32"), np.ones((6, 1), "float32")
    h = model.fit(x, y, epochs=5, initial_epoch=2, verbose=0)
    assert h.epoch == [2, 3, 4]
    h = model.fit(x, y, epochs=4, validation_data=(x, y), validation_freq=2, verbose=0)
    assert len(h.history["loss"]) == 4 and len(h.history["val_loss"]) == 2
    y_val = np.arange(1, 7, dtype="float32")[:, None]  # per-sample squared errors 1, 4, ..., 36
    weights = np.array([1, 0, 0, 2, 0, 0], "float32")
    h = model.fit(x, y, epochs=3, validation_data=(x, y_val, weights), validation_freq=[1, 3],
                  verbose=0)
    assert len(h.history["val_loss"]) == 2
    bias = float(model.layers[0].get_weights()[1][0])  # x = 0: the prediction is the bias
    errors = (y_val[:, 0] - bias) ** 2
    # Keras's weighted loss: sum(w * loss) / number of samples (one validation batch here)
    np.testing.assert_allclose(h.history["val_loss"], [np.sum(weights * errors) / 6] * 2,
                               rtol=1e-6)


def test_shuffle_modes_order_the_batches():
    from tkeras.engine.data_adapter import ArrayAdapter
    x = [torch.arange(10).float()[:, None]]

    def order(shuffle):
        adapter = ArrayAdapter(x, None, None, batch_size=3, shuffle=shuffle)
        return [b.x[0][:, 0].long().tolist() for b in adapter.epoch()]

    assert order(False) == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
    torch.manual_seed(0)
    batches = order("batch")
    assert sorted(batches[:3]) == [[0, 1, 2], [3, 4, 5], [6, 7, 8]] and batches[3] == [9]
    torch.manual_seed(0)
    first = order(True)
    assert sorted(sum(first, [])) == list(range(10)) and [len(b) for b in first] == [3, 3, 3, 1]
    torch.manual_seed(0)
    assert order(True) == first  # seeded by torch's generator
    identity = order(False)
    shuffled, batch_shuffled = [], []
    for seed in range(5):  # the shuffles really reorder (for some seed), whole batches for 'batch'
        torch.manual_seed(seed)
        shuffled.append(order(True))
        torch.manual_seed(seed)
        batch_shuffled.append(order("batch"))
    assert any(o != identity for o in shuffled)
    assert any(sum(o, []) != list(range(10)) for o in shuffled)
    assert any(o[:3] != identity[:3] for o in batch_shuffled)
    assert all(sorted(o[:3]) == identity[:3] and o[3] == [9] for o in batch_shuffled)


def test_fit_with_torch_tensors_and_lists_of_numbers():
    model = _frozen_linear(2, 1)
    x = torch.ones(4, 2)
    y = [1.0, 2.0, 3.0, 4.0]
    h = model.fit(x, y, batch_size=4, verbose=0)
    p = _dense_forward(model, np.ones((4, 2), "float32"))[:, 0]
    np.testing.assert_allclose(h.history["loss"], [np.mean((p - np.array(y)) ** 2)], rtol=1e-5)


def test_training_flag_reaches_layers():
    seen = []

    class Probe(layers.Layer):
        def call(self, inputs, training=None):
            if inputs.device.type != "meta":  # not the symbolic shape inference
                seen.append(training)
            return inputs

    model = Sequential([Dense(1, input_shape=(1,)), Probe()])
    model.compile(optimizer="sgd", loss="mse")
    x = np.zeros((2, 1), "float32")
    model.fit(x, x, verbose=0)
    model.evaluate(x, x, verbose=0)
    model.predict(x)
    assert seen == [True, False, False]


def test_stop_training_set_in_a_batch_ends_the_epoch():
    count = []

    class StopAtSecondBatch(Callback):
        def on_train_batch_end(self, batch, logs=None):
            count.append(batch)
            if batch == 1:
                self.model.stop_training = True

    model = _frozen_linear(1, 1)
    h = model.fit(np.zeros((10, 1), "float32"), np.zeros((10, 1), "float32"), batch_size=2,
                  epochs=5, callbacks=[StopAtSecondBatch()], verbose=0)
    assert count == [0, 1] and h.epoch == [0]


def test_the_train_step_reads_nothing_back_from_the_device(monkeypatch):
    """No .item() / .cpu() / bool() / float() on tensors inside the training step."""
    model = Sequential([Dense(8, activation="relu", input_shape=(4,)),
                        Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy", "mae"])
    x = _rng().rand(16, 4).astype("float32")
    y = np.eye(3)[_rng().randint(0, 3, 16)]
    model.fit(x, y, batch_size=8, verbose=0)  # build everything first
    calls = forbid_host_reads_in_train_step(monkeypatch)
    model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    assert len(calls) == 4


def test_model_trained_only_by_add_loss_needs_no_targets():
    class SquaredOutput(layers.Layer):
        def call(self, inputs):
            self.add_loss(K.mean(K.square(inputs)))
            return inputs

    model = Sequential([Dense(2, input_shape=(3,), kernel_initializer="ones"), SquaredOutput()])
    model.compile(optimizer=SGD(lr=0.1))
    x = np.ones((4, 3), "float32")
    h = model.fit(x, epochs=5, verbose=0)
    assert h.history["loss"][-1] < h.history["loss"][0]
    np.testing.assert_allclose(h.history["loss"][0], 9.0, rtol=1e-6)  # (1+1+1)^2 at the start


def test_compile_config_round_trip():
    import json

    from tkeras import losses, metrics
    model = _frozen_linear(3, 2)
    model.compile(optimizer=tkeras.optimizers.Adam(lr=0.01),
                  loss=losses.CategoricalCrossentropy(label_smoothing=0.1),
                  metrics=["acc", metrics.AUC(name="auc")], loss_weights=[2.0])
    config = json.loads(json.dumps(model.get_compile_config()))
    assert config["metrics"][0] == "acc" and config["metrics"][1]["class_name"] == "AUC"
    assert config["loss"]["config"]["label_smoothing"] == 0.1 and config["loss_weights"] == [2.0]
    other = _frozen_linear(3, 2)
    other.set_weights(model.get_weights())
    other.compile_from_config(config)
    x = np.random.RandomState(0).rand(6, 3).astype("float32")
    y = np.eye(2)[[0, 1, 0, 1, 1, 0]]
    np.testing.assert_allclose(other.evaluate(x, y, verbose=0), model.evaluate(x, y, verbose=0),
                               rtol=1e-6)
    assert other.metrics_names == ["loss", "acc", "auc"]
    assert float(K.get_value(other.optimizer.lr)) == pytest.approx(0.01)
    total, count = model.metrics[0].get_weights()  # Keras's Mean variables of the loss
    np.testing.assert_allclose(total / count, model.evaluate(x, y, verbose=0)[0], rtol=1e-6)


def test_subclassed_model_called_with_a_dict_of_inputs():
    class DictInputs(Model):
        def __init__(self):
            super().__init__()
            self.dense = Dense(1, kernel_initializer="ones", use_bias=False)

        def call(self, inputs):
            return self.dense(inputs["a"]) - inputs["b"]

    model = DictInputs()
    model.compile(optimizer=SGD(lr=0.0), loss="mse")
    a = np.array([[1., 2.], [3., 4.]], dtype="float32")
    b = np.array([[1.], [2.]], dtype="float32")
    np.testing.assert_allclose(model.predict({"a": a, "b": b}), [[2.], [5.]])
    h = model.fit({"b": b, "a": a}, np.zeros((2, 1), "float32"), verbose=0, validation_split=0.5)
    np.testing.assert_allclose(h.history["loss"], [4.0])
    np.testing.assert_allclose(h.history["val_loss"], [25.0])


def test_temporal_sample_weights_and_masked_timesteps():
    inputs = Input(shape=(4,), dtype="int32")
    x = layers.Embedding(10, 3, mask_zero=True)(inputs)
    outputs = layers.TimeDistributed(Dense(1, kernel_initializer="ones"))(x)
    model = Model(inputs, outputs)
    model.compile(optimizer=SGD(lr=0.0), loss="mse", sample_weight_mode="temporal")
    tokens = np.array([[1, 2, 0, 0], [3, 4, 5, 0]])
    y = np.zeros((2, 4, 1), "float32")
    emb, kernel, bias = model.get_weights()
    per_step = ((emb[tokens] @ kernel + bias) ** 2)[..., 0]   # (2, 4) squared errors
    valid = tokens != 0
    # Keras 2 (tf-keras 2.21): a masked output averages over the valid timesteps only
    np.testing.assert_allclose(model.evaluate(tokens, y, verbose=0), per_step[valid].mean(),
                               rtol=1e-5)
    weights = np.array([[1., 2., 5., 5.], [0., 1., 3., 7.]], dtype="float32")
    expected = np.sum(per_step * weights * valid) / valid.sum()
    np.testing.assert_allclose(model.evaluate(tokens, y, sample_weight=weights, verbose=0),
                               expected, rtol=1e-5)


def test_plain_python_lists_as_data_of_a_single_input_model():
    model = _frozen_linear(2, 1)
    rows = [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]
    np.testing.assert_allclose(model.predict(rows), _dense_forward(model, np.array(rows)),
                               rtol=1e-6)
    h = model.fit(rows, [1.0, 2.0, 3.0], batch_size=3, verbose=0)
    p = _dense_forward(model, np.array(rows))[:, 0]
    np.testing.assert_allclose(h.history["loss"], [np.mean((p - [1.0, 2.0, 3.0]) ** 2)],
                               rtol=1e-5)


def test_metric_objects_and_class_names_keep_their_own_names():
    from tkeras import metrics
    inputs = Input(shape=(3,))
    outputs = [Dense(1, activation="sigmoid", name=n)(inputs) for n in ("left", "right")]
    model = Model(inputs, outputs)
    model.compile(optimizer="sgd", loss="binary_crossentropy",
                  metrics=["AUC", metrics.Precision(name="prec"), "mae"])
    expected = ["loss", "left_loss", "right_loss", "left_auc", "left_prec", "left_mae",
                "right_auc", "right_prec", "right_mae"]
    assert model.metrics_names == expected  # known right after compile, as in Keras 2
    x = np.random.RandomState(0).rand(8, 3).astype("float32")
    y = (np.arange(8) % 2)[:, None].astype("float32")
    result = model.evaluate(x, [y, y], verbose=0, return_dict=True)
    assert list(result) == expected
    left, _ = model.predict(x)
    np.testing.assert_allclose(result["left_mae"], np.mean(np.abs(left - y)), rtol=1e-5)
    tkeras.backend.clear_session()  # metric default names are unique per session: auc, auc_1
    single = Sequential([Dense(1, activation="sigmoid", input_shape=(3,))])
    single.compile(optimizer="sgd", loss="binary_crossentropy", metrics=["AUC", "Precision"])
    assert list(single.evaluate(x, y, verbose=0, return_dict=True)) == ["loss", "auc", "precision"]


def test_torch_optimizer_in_compile_and_a_rate_schedule():
    from tkeras.callbacks import LearningRateScheduler
    model = Sequential([Dense(1, input_shape=(2,), kernel_initializer="zeros")])
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    model.compile(optimizer=optimizer, loss="mse")
    x = np.array([[1., 0.], [0., 1.]], dtype="float32")
    y = np.array([[1.], [2.]], dtype="float32")
    model.fit(x, y, batch_size=2, epochs=2, shuffle=False, verbose=0,
              callbacks=[LearningRateScheduler(lambda epoch: [0.1, 0.5][epoch])])
    # by hand: two SGD steps of mse on the same batch, rates 0.1 then 0.5
    w, b = np.zeros((2, 1)), np.zeros(1)
    for lr in (0.1, 0.5):
        err = x @ w + b - y
        w, b = w - lr * x.T @ err, b - lr * err.sum(axis=0)
    np.testing.assert_allclose(model.get_weights()[0], w, rtol=1e-5)
    np.testing.assert_allclose(model.get_weights()[1], b, rtol=1e-5)
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.5)


def test_jit_compile_trains_like_the_eager_step():
    """compile(jit_compile=True) runs the whole step through torch.compile: same history
    and weights as the eager step (within float32 tolerance)."""
    rng = _rng(3)
    x = rng.rand(64, 5).astype("float32")
    y = np.eye(3, dtype="float32")[rng.randint(0, 3, 64)]
    results = []
    for jit in (None, True):
        tkeras.utils.set_random_seed(0)
        model = Sequential([Dense(8, activation="relu", input_shape=(5,)),
                            Dense(3, activation="softmax")])
        model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["acc"],
                      jit_compile=jit)
        history = model.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0)
        results.append((history.history, model.get_weights(), model._step_runner))
    (eager_h, eager_w, eager_runner), (jit_h, jit_w, jit_runner) = results
    assert jit_runner.whole_step_compiled and jit_runner._step.active
    assert eager_runner._step == eager_runner._step_body
    np.testing.assert_allclose(jit_h["loss"], eager_h["loss"], rtol=1e-5)
    assert jit_h["acc"] == eager_h["acc"]
    for a, b in zip(jit_w, eager_w):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_run_eagerly_reports_and_switches_off_the_compiled_step():
    x, y = np.ones((8, 2), "float32"), np.ones((8, 1), "float32")
    model = Sequential([Dense(1, input_shape=(2,))])
    model.compile("sgd", "mse", run_eagerly=True)
    assert model.run_eagerly is True
    model.fit(x, y, verbose=0)
    model.compile("sgd", "mse", jit_compile=True)
    assert model.run_eagerly is False
    model.run_eagerly = True  # Keras's debugging switch: back to the plain Python step
    assert model.run_eagerly is True
    model.fit(x, y, verbose=0)
    runner = model._step_runner
    assert runner._step == runner._step_body and not runner.whole_step_compiled
    with pytest.raises(ValueError, match="cannot set `run_eagerly=True` and `jit_compile=True`"):
        model.compile("sgd", "mse", run_eagerly=True, jit_compile=True)


def test_predict_of_an_uncompiled_model_follows_changes_between_calls():
    model = Sequential([Input((4,)), Dense(3, name="d")])
    x = np.ones((5, 4), "float32")
    first = model.predict(x, verbose=0)
    model.get_layer("d").set_weights([np.zeros((4, 3), "float32"), np.full(3, 2.0, "float32")])
    np.testing.assert_array_equal(model.predict(x, verbose=0), np.full((5, 3), 2.0))
    model.add(Dense(1, kernel_initializer="ones", name="head"))  # a layer added later
    np.testing.assert_allclose(model.predict(x, verbose=0), np.full((5, 1), 6.0))
    model.double()  # weights converted: float64 predictions
    assert model.predict(x, verbose=0).dtype == np.float64
    assert first.shape == (5, 3)
    model.compile(optimizer="sgd", loss="mse")  # the compiled model's runner takes over
    model.fit(x, np.zeros((5, 1)), verbose=0, epochs=1)
    assert model.predict(x, verbose=0).shape == (5, 1)
