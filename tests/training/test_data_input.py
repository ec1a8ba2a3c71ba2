"""Data input: generators, Sequence (threads and processes), torch Dataset / DataLoader,
the enqueuers, and the Keras 2 *_generator methods."""
import threading

import numpy as np
import pytest
import torch

from tkeras.layers import Dense, Input, concatenate
from tkeras.models import Model, Sequential
from tkeras.optimizers import SGD
from tkeras.utils import data_utils
from tkeras.utils.data_utils import GeneratorEnqueuer, OrderedEnqueuer, Sequence

X = np.random.RandomState(0).rand(48, 3).astype("float32")
Y = (X @ np.array([[1.0], [-2.0], [0.5]], dtype="float32")) + 0.1


class ArraySequence(Sequence):
    """Batches of X / Y in order (module level: picklable for worker processes)."""

    def __init__(self, x, y, batch_size):
        self.x, self.y, self.batch_size = x, y, batch_size
        self.epochs_ended = 0

    def __len__(self):
        return int(np.ceil(len(self.x) / self.batch_size))

    def __getitem__(self, idx):
        sl = slice(idx * self.batch_size, (idx + 1) * self.batch_size)
        return self.x[sl], self.y[sl]

    def on_epoch_end(self):
        self.epochs_ended += 1


def _model(seed_weights=None):
    model = Sequential([Dense(4, activation="tanh", input_shape=(3,)), Dense(1)])
    model.compile(optimizer=SGD(lr=0.05), loss="mse", metrics=["mae"])
    if seed_weights is not None:
        model.set_weights(seed_weights)
    return model


def _reference_after_fit(epochs=2, batch_size=8):
    """Weights after fit on the arrays (no shuffling): what every ordered input must give."""
    model = _model()
    initial = model.get_weights()
    model.fit(X, Y, batch_size=batch_size, epochs=epochs, shuffle=False, verbose=0)
    return initial, model.get_weights()


def _assert_same_weights(a, b):
    for wa, wb in zip(a, b):
        np.testing.assert_allclose(wa, wb, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("workers,use_multiprocessing", [(1, False), (2, False), (2, True)])
def test_sequence_with_workers_trains_like_the_arrays(workers, use_multiprocessing):
    initial, expected = _reference_after_fit()
    model = _model(initial)
    seq = ArraySequence(X, Y, 8)
    model.fit(seq, epochs=2, shuffle=False, workers=workers,
              use_multiprocessing=use_multiprocessing, verbose=0)
    _assert_same_weights(model.get_weights(), expected)
    if workers == 1:
        assert seq.epochs_ended == 2  # called by the training loop after each epoch


def test_fit_generator_with_steps_per_epoch_trains_like_the_arrays():
    initial, expected = _reference_after_fit()

    def batches():
        while True:
            for i in range(0, 48, 8):
                yield X[i:i + 8], Y[i:i + 8]

    model = _model(initial)
    history = model.fit_generator(batches(), steps_per_epoch=6, epochs=2, verbose=0)
    _assert_same_weights(model.get_weights(), expected)
    assert len(history.history["loss"]) == 2


def test_generator_with_worker_threads_consumes_every_batch():
    lock = threading.Lock()
    produced = []

    def batches():
        i = 0
        while True:
            with lock:
                produced.append(i)
            yield X[(i % 6) * 8:(i % 6) * 8 + 8], Y[(i % 6) * 8:(i % 6) * 8 + 8]
            i += 1

    model = _model()
    model.fit(batches(), steps_per_epoch=6, epochs=2, workers=2, max_queue_size=3, verbose=0)
    assert len(produced) >= 12


def test_generator_that_runs_out_of_data_ends_training_with_a_warning():
    from tkeras._warn import TkerasWarning
    model = _model()
    gen = ((X[i:i + 16], Y[i:i + 16]) for i in range(0, 48, 16))
    with pytest.warns(TkerasWarning, match="ran out of data"):
        history = model.fit(gen, steps_per_epoch=3, epochs=3, verbose=0)
    assert history.epoch == [0]


class _SizedBatches:
    """An iterator with a length: fit reads ``len()`` batches per epoch without steps."""

    def __init__(self, n):
        self.n, self.i = n, 0

    def __len__(self):
        return self.n

    def __iter__(self):
        return self

    def __next__(self):
        self.i += 1
        return X[:8], Y[:8]


def test_an_iterator_with_a_length_needs_no_steps():
    batches = _SizedBatches(3)
    history = _model().fit(batches, epochs=2, verbose=0)
    assert history.epoch == [0, 1] and batches.i == 6


def test_evaluate_and_predict_generators_match_arrays():
    model = _model()
    seq = ArraySequence(X, Y, 16)
    expected_eval = model.evaluate(X, Y, batch_size=16, verbose=0)
    np.testing.assert_allclose(model.evaluate_generator(seq), expected_eval, rtol=1e-6)
    np.testing.assert_allclose(model.evaluate(seq, workers=2, verbose=0), expected_eval, rtol=1e-6)
    predictions = model.predict(X, batch_size=16)

    def inputs_only():
        for i in range(0, 48, 16):
            yield X[i:i + 16]

    np.testing.assert_allclose(model.predict_generator(inputs_only(), steps=3), predictions,
                               rtol=1e-6)
    np.testing.assert_allclose(model.predict(seq), predictions, rtol=1e-6)  # y ignored


def test_validation_data_as_a_sequence_or_generator():
    model = _model()
    h = model.fit(X, Y, epochs=2, validation_data=ArraySequence(X[:16], Y[:16], 8), verbose=0)
    assert len(h.history["val_loss"]) == 2

    def val_batches():
        while True:
            yield X[:16], Y[:16]

    h = model.fit(X, Y, epochs=2, validation_data=val_batches(), validation_steps=1, verbose=0)
    np.testing.assert_allclose(h.history["val_loss"][-1],
                               model.evaluate(X[:16], Y[:16], verbose=0)[0], rtol=1e-6)


class _PairDataset(torch.utils.data.Dataset):
    def __len__(self):
        return len(X)

    def __getitem__(self, i):
        return torch.from_numpy(X[i]), torch.from_numpy(Y[i])


def test_torch_dataset_and_dataloader():
    initial, expected = _reference_after_fit()
    model = _model(initial)
    model.fit(_PairDataset(), batch_size=8, epochs=2, shuffle=False, verbose=0)
    _assert_same_weights(model.get_weights(), expected)
    loader = torch.utils.data.DataLoader(_PairDataset(), batch_size=16)
    np.testing.assert_allclose(model.evaluate(loader, verbose=0),
                               model.evaluate(X, Y, batch_size=16, verbose=0), rtol=1e-6)
    np.testing.assert_allclose(model.predict(loader), model.predict(X), rtol=1e-6)


def test_dict_inputs_for_a_two_input_model_from_a_generator():
    a, b = Input(shape=(2,), name="a"), Input(shape=(1,), name="b")
    out = Dense(1, name="out")(concatenate([a, b]))
    model = Model([a, b], out)
    model.compile(optimizer=SGD(lr=0.05), loss="mse")
    xa, xb = X[:, :2], X[:, 2:]
    expected = model.evaluate({"a": xa, "b": xb}, Y, batch_size=16, verbose=0)

    def batches():
        for i in range(0, 48, 16):
            yield {"b": xb[i:i + 16], "a": xa[i:i + 16]}, {"out": Y[i:i + 16]}

    np.testing.assert_allclose(model.evaluate(batches(), steps=3, verbose=0), expected,
                               rtol=1e-6)


def test_ordered_enqueuer_keeps_order_and_calls_on_epoch_end():
    seq = ArraySequence(np.arange(10)[:, None], np.arange(10)[:, None], 3)
    enqueuer = OrderedEnqueuer(seq)
    enqueuer.start(workers=3, max_queue_size=2)
    stream = enqueuer.get()
    first = [next(stream)[0][:, 0].tolist() for _ in range(len(seq))]
    second = [next(stream)[0][:, 0].tolist() for _ in range(len(seq))]
    enqueuer.stop()
    assert first == second == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]
    assert seq.epochs_ended >= 1
    assert not enqueuer.is_running()


def test_ordered_enqueuer_with_shuffle_visits_every_batch_once():
    seq = ArraySequence(np.arange(12)[:, None], np.arange(12)[:, None], 2)
    enqueuer = OrderedEnqueuer(seq, shuffle=True)
    enqueuer.start(workers=2)
    stream = enqueuer.get()
    batches = [next(stream)[0][0, 0] for _ in range(6)]
    enqueuer.stop()
    assert sorted(batches) == [0, 2, 4, 6, 8, 10]


class _Broken(Sequence):
    def __len__(self):
        return 3

    def __getitem__(self, i):
        if i == 1:
            raise KeyError("bad batch")
        return np.zeros((2, 3), "float32"), np.zeros((2, 1), "float32")


def test_worker_errors_reach_the_training_loop():
    model = _model()
    with pytest.raises(KeyError, match="bad batch"):
        model.fit(_Broken(), workers=2, verbose=0)
    with pytest.raises(KeyError, match="bad batch"):
        model.fit(_Broken(), workers=1, verbose=0)


def test_generator_enqueuer_threads_and_its_multiprocessing_fallback():
    from tkeras._warn import TkerasWarning
    enqueuer = GeneratorEnqueuer(iter(range(20)))
    enqueuer.start(workers=3, max_queue_size=4)
    assert sorted(enqueuer.get()) == list(range(20))
    enqueuer.stop()
    with pytest.warns(TkerasWarning, match="use_multiprocessing"):
        GeneratorEnqueuer(iter(range(3)), use_multiprocessing=True)
    assert data_utils.Sequence is Sequence
