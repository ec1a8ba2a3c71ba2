"""No hangs and no silent wrong results: data of unknown length needs steps, targets that
cannot match the outputs, bad fit arguments, complex values and ragged lists all raise
Keras-worded errors (type and words checked)."""
import numpy as np
import pytest
import torch

from tkeras.layers import Dense, Input, concatenate
from tkeras.models import Model, Sequential
from tkeras.utils.data_utils import Sequence

X = np.random.RandomState(0).rand(64, 4).astype("float32")
Y1 = np.zeros((64, 1), "float32")
Y10 = np.zeros((64, 10), "float32")
LIMIT = 40


def _model(units=1, built=True):
    layer = Dense(units, input_shape=(4,)) if built else Dense(units)
    model = Sequential([layer])
    model.compile(optimizer="sgd", loss="mse")
    return model


def _endless(y=Y1, with_targets=True):
    """An endless generator, as far as fit can tell; it fails loudly after LIMIT batches so a
    test cannot hang if the check disappears."""
    for _ in range(LIMIT):
        yield (X[:8], y[:8]) if with_targets else X[:8]
    raise AssertionError("the generator was read without end")


def _steps_message(name):
    return (f"`{name}=None` is only valid for a generator based on the `keras.utils.Sequence` "
            f"class. Please specify `{name}` or use the `keras.utils.Sequence` class.")


@pytest.mark.parametrize("call,name", [
    (lambda m: m.fit(_endless(), epochs=2, verbose=0), "steps_per_epoch"),
    (lambda m: m.fit_generator(_endless(), epochs=2, verbose=0), "steps_per_epoch"),
    (lambda m: m.evaluate(_endless(), verbose=0), "steps"),
    (lambda m: m.evaluate_generator(_endless()), "steps"),
    (lambda m: m.predict(_endless(with_targets=False)), "steps"),
    (lambda m: m.predict_generator(_endless(with_targets=False)), "steps"),
    (lambda m: m.fit(X, Y1, validation_data=_endless(), verbose=0), "validation_steps"),
])
def test_a_plain_generator_without_steps_is_refused(call, name):
    with pytest.raises(ValueError) as info:
        call(_model())
    assert str(info.value) == _steps_message(name)


class _Endless(torch.utils.data.IterableDataset):
    def __iter__(self):
        for _ in range(LIMIT):
            yield torch.from_numpy(X[0]), torch.from_numpy(Y1[0])
        raise AssertionError("the dataset was read without end")


def test_a_dataloader_without_a_length_needs_steps_and_runs_with_them():
    loader = torch.utils.data.DataLoader(_Endless(), batch_size=4)
    model = _model()
    with pytest.raises(ValueError, match=r"`steps_per_epoch=None` is only valid for a generator "
                                         r".* Received a torch DataLoader without a length"):
        model.fit(loader, verbose=0)
    history = model.fit(loader, steps_per_epoch=2, epochs=2, verbose=0)
    assert history.epoch == [0, 1]
    assert model.evaluate(loader, steps=3, verbose=0) >= 0.0


class _Batches(Sequence):
    def __init__(self, y):
        self.y = y

    def __len__(self):
        return 2

    def __getitem__(self, i):
        return X[i * 8:(i + 1) * 8], self.y[i * 8:(i + 1) * 8]


class _Pairs(torch.utils.data.Dataset):
    def __len__(self):
        return 16

    def __getitem__(self, i):
        return torch.from_numpy(X[i]), torch.from_numpy(Y10[i])


SHAPE_ERROR = r"Error when checking target: expected .* to have shape \(1,\) but got array " \
              r"with shape \(10,\)"


@pytest.mark.parametrize("call", [
    lambda m: m.evaluate(X, Y10, verbose=0),
    lambda m: m.fit(X, Y1, validation_data=(X, Y10), verbose=0),
    lambda m: m.fit(_Batches(Y10), verbose=0),
    lambda m: m.evaluate(_Batches(Y10), verbose=0),
    lambda m: m.fit(_endless(Y10), steps_per_epoch=2, verbose=0),
    lambda m: m.fit(torch.utils.data.DataLoader(_Pairs(), batch_size=8), verbose=0),
    lambda m: m.train_on_batch(X, Y10),
    lambda m: m.test_on_batch(X, Y10),
], ids=["evaluate", "validation_data", "sequence", "evaluate-sequence", "generator",
        "dataloader", "train_on_batch", "test_on_batch"])
def test_targets_that_cannot_match_the_output_are_refused_everywhere(call):
    with pytest.raises(ValueError, match=SHAPE_ERROR):
        call(_model())


@pytest.mark.parametrize("call", [
    lambda m: m.fit(X, Y10, verbose=0),
    lambda m: m.evaluate(X, Y10, verbose=0),
    lambda m: m.fit(_Batches(Y10), verbose=0),
], ids=["fit", "evaluate", "sequence"])
def test_a_sequential_model_built_on_its_first_batch_checks_the_targets(call):
    model = _model(built=False)
    with pytest.raises(ValueError, match=SHAPE_ERROR):
        call(model)


def test_later_generator_batches_are_checked_too():
    def batches():
        yield X[:8], Y1[:8]
        yield X[:8], Y10[:8]

    with pytest.raises(ValueError, match=SHAPE_ERROR):
        _model().fit(batches(), steps_per_epoch=2, verbose=0)


@pytest.mark.parametrize("kwargs,error,message", [
    ({"batch_size": 0}, ValueError, r"`batch_size` must be a positive integer. Received: "
                                    r"batch_size=0"),
    ({"batch_size": -4}, ValueError, "`batch_size` must be a positive integer. Received: "
                                     "batch_size=-4"),
    ({"batch_size": 2.5}, TypeError, r"`batch_size` must be an integer. Received: "
                                     r"batch_size=2.5 \(of type float\)"),
    ({"epochs": 2.0}, TypeError, r"`epochs` must be an integer. Received: epochs=2.0 "
                                 r"\(of type float\)"),
    ({"epochs": "3"}, TypeError, r"`epochs` must be an integer. Received: epochs='3' "
                                 r"\(of type str\)"),
    ({"validation_split": "0.2"}, TypeError, r"`validation_split` must be a float between 0 "
                                             r"and 1. Received: validation_split='0.2'"),
    ({"validation_split": 1.0}, ValueError, r"`validation_split` must be a float between 0 "
                                            r"and 1 \(0 included, 1 excluded\). Received: "
                                            r"validation_split=1.0"),
    ({"validation_split": -0.1}, ValueError, r"Received: validation_split=-0.1"),
    ({"validation_split": 1.5, "validation_data": (X, Y1)}, ValueError,
     "Received: validation_split=1.5"),
    ({"validation_batch_size": 0, "validation_data": (X, Y1)}, ValueError,
     "`validation_batch_size` must be a positive integer"),
])
def test_bad_fit_arguments(kwargs, error, message):
    model = _model()
    with pytest.raises(error, match=message):
        model.fit(X, Y1, verbose=0, **kwargs)


def test_bad_batch_size_in_evaluate_and_predict():
    model = _model()
    with pytest.raises(ValueError, match="`batch_size` must be a positive integer"):
        model.evaluate(X, Y1, batch_size=0, verbose=0)
    with pytest.raises(TypeError, match="`batch_size` must be an integer"):
        model.predict(X, batch_size=1.5)


def test_batch_size_accepts_numpy_integers():
    history = _model().fit(X, Y1, batch_size=np.int64(16), epochs=np.int32(2), verbose=0)
    assert history.epoch == [0, 1]


@pytest.mark.parametrize("make", [
    lambda: X.astype(np.complex64),
    lambda: torch.from_numpy(X).to(torch.complex64),
    lambda: (X + 1j).tolist(),
], ids=["numpy", "torch", "list"])
def test_complex_inputs_are_refused(make):
    model = _model()
    message = (r"Failed to convert the input 0 .* to a tensor: complex values are not "
               r"supported \(received dtype (complex64|torch.complex64|complex128)\)")
    with pytest.raises(TypeError, match=message):
        model.fit(make(), Y1, verbose=0)
    with pytest.raises(TypeError, match=message):
        model.predict(make())


def test_complex_targets_are_refused():
    with pytest.raises(TypeError, match=r"Failed to convert the target 0 .* complex values are "
                                        r"not supported"):
        _model().fit(X, Y1.astype(np.complex128), verbose=0)


def test_ragged_lists_say_which_input_and_which_rows():
    a, b = Input(shape=(2,), name="a"), Input(shape=(3,), name="b")
    model = Model([a, b], Dense(1)(concatenate([a, b])), name="two_inputs")
    model.compile(optimizer="sgd", loss="mse")
    good_a = [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]
    ragged_b = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0]]
    with pytest.raises(ValueError, match=r'The input 1 "b" of model "two_inputs" is a ragged '
                                         r"list: row 0 has 3 values but row 2 has 2. Every row "
                                         r"must have the same length"):
        model.fit([good_a, ragged_b], [[0.0]] * 3, verbose=0)
    with pytest.raises(ValueError, match=r'The input 0 "a" .* row 0 has 2 values but row 1 '
                                         r"has 1"):
        model.predict([[[1.0, 2.0], [1.0], [1.0, 2.0]], [[1.0, 2.0, 3.0]] * 3])


def test_ragged_nested_rows_and_targets():
    model = Sequential([Dense(1, input_shape=(2, 2))])
    model.compile(optimizer="sgd", loss="mse")
    nested = [[[1.0, 2.0], [3.0, 4.0]], [[1.0, 2.0], [3.0]]]
    with pytest.raises(ValueError, match=r"row \[0\]\[0\] has 2 values but row \[1\]\[1\] has 1"):
        model.predict(nested)
    with pytest.raises(ValueError, match=r"The target 0 .* is a ragged list: row \[0\]\[0\] has "
                                         r"1 values but row \[1\]\[0\] has 2"):
        model.fit(np.zeros((2, 2, 2)), [[[1.0]], [[1.0, 2.0]]], verbose=0)
