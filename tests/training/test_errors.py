"""Bad input to compile / fit / evaluate / predict gets a clear error."""
import numpy as np
import pytest

from tkeras.layers import Dense, Input, concatenate
from tkeras.models import Model, Sequential
from tkeras.utils.data_utils import Sequence


def _model(units=3, activation="softmax", loss="categorical_crossentropy"):
    model = Sequential([Dense(units, activation=activation, input_shape=(4,))])
    if loss is not None:
        model.compile(optimizer="sgd", loss=loss)
    return model


def _two_input_model():
    a, b = Input(shape=(2,), name="a"), Input(shape=(3,), name="b")
    out = Dense(1, name="out")(concatenate([a, b]))
    aux = Dense(1, name="aux")(a)
    model = Model([a, b], [out, aux])
    model.compile(optimizer="sgd", loss="mse")
    return model


X = np.zeros((10, 4), "float32")
Y = np.eye(3, dtype="float32")[np.arange(10) % 3]


def test_fit_and_evaluate_before_compile():
    model = _model(loss=None)
    with pytest.raises(RuntimeError, match="You must compile your model before training/testing"):
        model.fit(X, Y, verbose=0)
    with pytest.raises(RuntimeError, match="must compile"):
        model.evaluate(X, Y, verbose=0)
    with pytest.raises(RuntimeError, match="must compile"):
        model.train_on_batch(X, Y)
    assert model.predict(X).shape == (10, 3)  # predict needs no compile


def test_x_and_y_of_different_lengths():
    with pytest.raises(ValueError, match=r"Data cardinality is ambiguous:\n  x sizes: 10\n  "
                                         r"y sizes: 9\nMake sure all arrays contain the same"):
        _model().fit(X, Y[:9], verbose=0)
    with pytest.raises(ValueError, match="sample_weight sizes: 4"):
        _model().fit(X, Y, sample_weight=np.ones(4), verbose=0)


def test_wrong_number_of_inputs():
    model = _two_input_model()
    with pytest.raises(ValueError, match=r'expects 2 input\(s\), but it received 1 input'):
        model.fit(np.zeros((4, 2)), [np.zeros((4, 1))] * 2, verbose=0)
    with pytest.raises(ValueError, match=r"expects 2 input\(s\), but it received 3"):
        model.predict([np.zeros((4, 2)), np.zeros((4, 3)), np.zeros((4, 3))])


def test_wrong_number_of_targets():
    model = _two_input_model()
    with pytest.raises(ValueError, match=r"has 2 output\(s\) \['out', 'aux'\], but the target "
                                         r"data holds 1 array"):
        model.fit([np.zeros((4, 2)), np.zeros((4, 3))], np.zeros((4, 1)), verbose=0)


def test_dict_with_an_unknown_input_or_output_name():
    model = _two_input_model()
    data = {"a": np.zeros((4, 2)), "bb": np.zeros((4, 3))}
    with pytest.raises(ValueError, match=r"Unknown input name\(s\) \['bb'\].*Expected the "
                                         r"following keys: \['a', 'b'\]"):
        model.fit(data, [np.zeros((4, 1))] * 2, verbose=0)
    with pytest.raises(ValueError, match=r"Missing data for input \"b\""):
        model.predict({"a": np.zeros((4, 2))})
    with pytest.raises(ValueError, match=r"Unknown output name\(s\) \['main'\]"):
        model.fit({"a": np.zeros((4, 2)), "b": np.zeros((4, 3))},
                  {"out": np.zeros((4, 1)), "main": np.zeros((4, 1))}, verbose=0)


def test_sparse_labels_outside_the_class_range():
    model = _model(loss="sparse_categorical_crossentropy")
    labels = np.array([0, 1, 2, 3, 0, 1, 2, 0, 1, 2])
    with pytest.raises(ValueError, match=r"Received a label value of 3 which is outside the "
                                         r"valid range of \[0, 3\)"):
        model.fit(X, labels, verbose=0)
    with pytest.raises(ValueError, match="label value of -1"):
        model.evaluate(X, -np.ones(10), verbose=0)


def test_target_shape_that_cannot_match_the_output():
    with pytest.raises(ValueError, match=r"Error when checking target: expected dense.* to have "
                                         r"shape \(3,\) but got array with shape \(5,\)"):
        _model().fit(X, np.zeros((10, 5)), verbose=0)


class _Empty(Sequence):
    def __len__(self):
        return 0

    def __getitem__(self, i):
        raise IndexError(i)


def test_empty_datasets():
    model = _model()
    with pytest.raises(ValueError, match="Expected input data to be non-empty"):
        model.fit(np.zeros((0, 4)), np.zeros((0, 3)), verbose=0)
    with pytest.raises(ValueError, match="non-empty"):
        model.fit(_Empty(), verbose=0)
    with pytest.raises(ValueError, match="non-empty"):
        model.predict(np.zeros((0, 4)))
    with pytest.raises(ValueError, match="non-empty"):
        model.evaluate(iter([]), steps=1, verbose=0)


@pytest.mark.parametrize("kwargs,message", [
    ({"loss": "categorical_crossentropyy"}, "Unknown loss function: 'categorical_crossentropyy'"),
    ({"loss": "mse", "metrics": ["accuracyy"]}, "Unknown metric function: 'accuracyy'"),
    ({"loss": "mse", "optimizer": "adamm"}, "Unknown optimizer: 'adamm'"),
    ({"loss": "mse", "metrics": [42]}, "Could not interpret metric identifier: 42"),
    ({"loss": "mse", "foo": 1}, r"Invalid keyword argument\(s\) in `compile\(\)`"),
])
def test_unknown_names_at_compile(kwargs, message):
    model = _model(loss=None)
    kwargs.setdefault("optimizer", "sgd")
    error = TypeError if "foo" in kwargs else ValueError
    with pytest.raises(error, match=message):
        model.compile(**kwargs)


def test_unknown_names_at_compile_of_a_subclassed_model():
    class Sub(Model):
        def __init__(self):
            super().__init__()
            self.dense = Dense(1)

        def call(self, x):
            return self.dense(x)

    with pytest.raises(ValueError, match="Unknown loss function: 'msee'"):
        Sub().compile(optimizer="sgd", loss="msee")


def test_per_output_arguments_that_do_not_fit_the_outputs():
    model = _two_input_model()
    with pytest.raises(ValueError, match=r"Unknown entries in loss dictionary: \['main'\]. Only "
                                         r"expected following keys: \['out', 'aux'\]"):
        model.compile(optimizer="sgd", loss={"main": "mse"})
    with pytest.raises(ValueError, match="it should have one entry per model outputs. The model "
                                         "has 2 outputs"):
        model.compile(optimizer="sgd", loss=["mse"])
    with pytest.raises(ValueError, match="loss_weights"):
        model.compile(optimizer="sgd", loss="mse", loss_weights=[1.0])
    with pytest.raises(ValueError, match=r"Unknown entries in metrics dictionary: \['x'\]"):
        model.compile(optimizer="sgd", loss="mse", metrics={"x": "mae"})
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match="`class_weight` is only supported for Models with a "
                                         "single output"):
        model.fit([np.zeros((4, 2)), np.zeros((4, 3))], [np.zeros((4, 1))] * 2,
                  class_weight={0: 1.0}, verbose=0)


def test_bad_fit_arguments():
    model = _model()
    with pytest.raises(ValueError, match="not sufficient to split it into a validation and "
                                         r"training set as specified by `validation_split=0.95`"):
        model.fit(X, Y, validation_split=0.95, verbose=0)
    with pytest.raises(ValueError, match="validation_data, it must contain 2"):
        model.fit(X, Y, validation_data=(X,), verbose=0)
    with pytest.raises(ValueError, match="`validation_split` is only supported for Tensors or "
                                         "NumPy arrays"):
        model.fit(iter([(X, Y)]), validation_split=0.5, verbose=0)
    with pytest.raises(ValueError, match="`shuffle` must be True, False or 'batch'"):
        model.fit(X, Y, shuffle="yes", verbose=0)
    with pytest.raises(TypeError, match="unexpected keyword argument"):
        model.fit(X, Y, epoch=3, verbose=0)
    with pytest.raises(ValueError, match="keys from 0 to one less than the number of classes"):
        model.fit(X, Y, class_weight={0: 1.0, 2: 1.0}, verbose=0)
    with pytest.raises(ValueError, match="`y` and `sample_weight` arguments are not supported"):
        model.fit(iter([(X, Y)]), Y, verbose=0)
    with pytest.raises(TypeError, match="Failed to convert the input data"):
        model.fit(np.array([["a"] * 4] * 10), Y, verbose=0)
    with pytest.raises(ValueError, match="Failed to find data adapter"):
        model.fit("data.csv", Y, verbose=0)


def test_training_without_any_loss():
    model = Sequential([Dense(1, input_shape=(4,))])
    model.compile(optimizer="sgd")
    with pytest.raises(ValueError, match="no loss to optimize"):
        model.fit(X, np.zeros((10, 1)), verbose=0)


def test_fit_without_targets_for_a_compiled_loss():
    with pytest.raises(ValueError, match="Target data is missing. Your model was compiled with "
                                         "loss='categorical_crossentropy'"):
        _model().fit(X, verbose=0)
    with pytest.raises(ValueError, match="`verbose` must be 0, 1, 2 or 'auto'"):
        _model().fit(X, Y, verbose=3)
