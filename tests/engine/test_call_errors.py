"""An exception inside a layer's call names the layer, as Keras does (issue 9, section 4)."""
import sys

import numpy as np
import pytest
import torch

from tkeras import Input, Model, Sequential, layers

HEADER = 'Exception encountered when calling layer "{}" (type {}).'


def _fail(x):
    raise ValueError("the function failed here")


def _assert_names_once(error, name, type_name):
    message = str(error)
    assert message.startswith(HEADER.format(name, type_name))
    assert message.count("Exception encountered when calling") == 1
    assert message.count("the function failed here") == 1
    assert f'Call arguments received by layer "{name}" (type {type_name}):' in message


def test_eager_lambda_error_names_the_layer_and_its_arguments():
    layer = layers.Lambda(_fail, name="lambda_3")
    with pytest.raises(ValueError) as info:
        layer(torch.full((2, 3), 12345.5))
    _assert_names_once(info.value, "lambda_3", "Lambda")
    message = str(info.value)
    assert message.endswith("Call arguments received by layer \"lambda_3\" (type Lambda):\n"
                            "  • inputs=torch.Tensor(shape=(2, 3), dtype=float32)\n"
                            "  • mask=None\n"
                            "  • training=False")
    assert "12345" not in message  # tensors are shown by shape and dtype, not values
    assert type(info.value.__cause__) is ValueError
    assert str(info.value.__cause__) == "the function failed here"


def test_symbolic_call_shows_the_symbolic_shape():
    inputs = Input((3,))
    with pytest.raises(ValueError) as info:
        layers.Lambda(_fail, name="broken")(inputs)
    _assert_names_once(info.value, "broken", "Lambda")
    assert "  • inputs=KerasTensor(shape=(None, 3), dtype=float32)\n" in str(info.value)


def test_nested_models_name_the_innermost_layer_once():
    inputs = Input((3,))
    hidden = layers.Dense(4, name="first")(inputs)
    inner = Model(inputs, layers.Lambda(
        lambda x: _fail(x) if x.shape[0] == 5 else x, name="deep_lambda")(hidden), name="inner")
    outer_in = Input((3,))
    outer = Model(outer_in, layers.Dense(2)(inner(outer_in)), name="outer")
    model = Sequential([outer], name="outermost")
    assert model(np.zeros((2, 3), "float32")).shape == (2, 2)
    with pytest.raises(ValueError) as info:
        model(np.zeros((5, 3), "float32"))
    _assert_names_once(info.value, "deep_lambda", "Lambda")
    assert "inputs=torch.Tensor(shape=(5, 4), dtype=float32)" in str(info.value)
    for outer_name in ("inner", "outer", "outermost"):
        assert f'layer "{outer_name}"' not in str(info.value)


def test_error_inside_fit_names_the_layer():
    def fail_in_training(x, training=None):
        if training:
            raise ValueError("the function failed here")
        return x

    inputs = Input((3,))
    model = Model(inputs, layers.Dense(1)(layers.Lambda(fail_in_training, name="trainer")(inputs)))
    model.compile("sgd", "mse")
    assert model.predict(np.zeros((4, 3), "float32"), verbose=0).shape == (4, 1)
    with pytest.raises(ValueError) as info:
        model.fit(np.zeros((4, 3), "float32"), np.zeros((4, 1), "float32"), verbose=0)
    _assert_names_once(info.value, "trainer", "Lambda")
    assert "  • training=True" in str(info.value)


class _Failing(layers.Layer):
    def __init__(self, error, **kwargs):
        super().__init__(**kwargs)
        self.error = error

    def call(self, inputs, scale=1.0):
        raise self.error


class _CustomError(Exception):
    pass


class _TwoArgumentError(Exception):
    def __init__(self, code, text):
        super().__init__(code, text)


def test_custom_layer_keeps_the_exception_type_and_lists_its_arguments():
    layer = _Failing(_CustomError("the function failed here"), name="custom")
    with pytest.raises(_CustomError) as info:
        layer(torch.zeros(2, 3), scale=2.0)
    assert type(info.value) is _CustomError
    _assert_names_once(info.value, "custom", "_Failing")
    assert str(info.value).endswith(
        "  • inputs=torch.Tensor(shape=(2, 3), dtype=float32)\n  • scale=2.0")


NOTES = sys.version_info >= (3, 11)  # BaseException.add_note


@pytest.mark.skipif(not NOTES, reason="before Python 3.11: a RuntimeError (tested below)")
def test_a_type_that_cannot_take_a_message_is_kept_with_a_note():
    error = _TwoArgumentError(7, "the function failed here")
    with pytest.raises(_TwoArgumentError) as info:
        _Failing(error, name="two_args")(torch.zeros(2, 3))
    assert info.value is error and info.value.args == (7, "the function failed here")
    assert len(info.value.__notes__) == 1
    assert info.value.__notes__[0].startswith(HEADER.format("two_args", "_Failing"))


class _NoNoteError(_TwoArgumentError):
    """As exceptions are before Python 3.11: no ``add_note``."""

    @property
    def add_note(self):
        raise AttributeError("add_note")


def test_without_notes_a_type_that_cannot_take_a_message_becomes_a_runtime_error():
    with pytest.raises(RuntimeError, match=r'calling layer "two_args" \(type _Failing\)') as info:
        _Failing(_NoNoteError(7, "no"), name="two_args")(torch.zeros(2, 3))
    assert type(info.value) is RuntimeError  # tf-keras's fallback
    assert type(info.value.__cause__) is _NoNoteError


@pytest.mark.skipif(not NOTES, reason="before Python 3.11: a RuntimeError")
def test_key_error_is_kept_with_a_note():
    with pytest.raises(KeyError) as info:
        layers.Lambda(lambda x: {}["missing_key"], name="lookup")(torch.zeros(2, 3))
    assert info.value.args == ("missing_key",)
    note = info.value.__notes__[0]
    assert note.startswith(HEADER.format("lookup", "Lambda")) and "\n\nmissing_key\n\n" in note


def test_list_inputs_are_listed_by_shape():
    layer = layers.Lambda(lambda xs: _fail(xs), name="pair")
    with pytest.raises(ValueError) as info:
        layer([torch.zeros(2, 3), torch.zeros(2, 5, dtype=torch.int64)])
    assert ("  • inputs=['torch.Tensor(shape=(2, 3), dtype=float32)', "
            "'torch.Tensor(shape=(2, 5), dtype=int64)']") in str(info.value)


def test_subclassed_model_call_error_names_the_model():
    class Broken(Model):
        def __init__(self):
            super().__init__(name="broken_model")
            self.dense = layers.Dense(2)

        def call(self, inputs):
            return self.dense(inputs) + torch.zeros(7)

    with pytest.raises(RuntimeError) as info:
        Broken()(torch.zeros(2, 3))
    assert str(info.value).startswith(HEADER.format("broken_model", "Broken"))
    assert str(info.value).count("Exception encountered") == 1


@pytest.mark.parametrize("returned, type_name", [("abc", "str"), (None, "NoneType"),
                                                   (np.zeros(2), "ndarray"), (3.5, "float")])
def test_lambda_returning_a_non_tensor_says_so(returned, type_name):
    layer = layers.Lambda(lambda x: returned, name="odd")
    with pytest.raises(TypeError) as info:
        layer(torch.zeros(2, 3))
    message = str(info.value)
    assert message.startswith(HEADER.format("odd", "Lambda"))
    assert ('The function of Lambda layer "odd" must return a tensor, or a list, tuple or dict '
            f"of tensors, but it returned an object of type {type_name}") in message


def test_lambda_returning_a_structure_with_a_non_tensor_says_so():
    layer = layers.Lambda(lambda x: {"a": x, "b": 3}, name="mixed")
    with pytest.raises(TypeError, match="but it returned dict holding an object of type int: 3"):
        layer(torch.zeros(2, 3))
    symbolic = layers.Lambda(lambda x: [x, "label"], name="mixed_symbolic")
    with pytest.raises(TypeError, match="returned list holding an object of type str: 'label'"):
        symbolic(Input((3,)))


def test_lambda_returning_tensors_still_works():
    out = layers.Lambda(lambda x: {"a": x, "b": [x * 2, x[:, :1]]})(torch.ones(2, 3))
    assert out["b"][0].sum().item() == 12.0
    model = Sequential([layers.Lambda(lambda x: x * 2, input_shape=(3,))])
    assert model.output_shape == (None, 3)
