"""tkeras.losses against tf-keras 2.21's recorded numbers (keras_reference/losses_metrics)
and hand computations."""
import numpy as np
import pytest
import torch

from conftest import load_case, ref_index
from loss_test_utils import LOSS_CHECKS, check_loss, loss_case
from loss_test_utils import close as _close
from tkeras import backend as K
from tkeras import losses
from tkeras._warn import TkerasWarning

LOSS_CASES = [c["file"] for c in ref_index("losses_metrics")["cases"] if c["kind"] == "loss"]


def _case(file):
    arrays, meta, fn = loss_case(file)
    return arrays, meta, getattr(losses, meta["class_name"]), fn


# ------------------------------------------------------------------ the shared loss test

def test_every_reference_loss_case_is_collected():
    assert len(LOSS_CASES) == 34


@pytest.mark.parametrize("check", LOSS_CHECKS)
@pytest.mark.parametrize("file", LOSS_CASES)
def test_shared_loss_test_on_keras_cases(file, check):
    _, meta = load_case("losses_metrics", file)
    check_loss(getattr(losses, meta["class_name"]), file, checks=(check,))


# Exported loss classes without a Keras case of their own: the abstract base, and the wrapper
# every function loss class is built on (its config: test_loss_function_wrapper_config_...).
NOT_HARNESS_CASES = {"Loss", "LossFunctionWrapper"}


def test_every_exported_loss_class_goes_through_the_shared_test():
    covered = {load_case("losses_metrics", file)[1]["class_name"] for file in LOSS_CASES}
    exported = {name for name in getattr(losses, "__all__", dir(losses))
                if not name.startswith("_") and isinstance(getattr(losses, name), type)
                and issubclass(getattr(losses, name), losses.Loss)}
    missing = exported - covered - NOT_HARNESS_CASES
    assert not missing, f"exported classes without a shared-test case: {sorted(missing)}"


def test_weighted_reduction_divides_by_element_count_not_weight_sum():
    # README: sum(per_sample * w) / per_sample.size, zero weights included.
    a, meta, cls, _ = _case("loss_mean_squared_error_3d.npz")
    expected = np.sum(a["per_sample"] * a["sample_weight"][:, None]) / a["per_sample"].size
    _close(cls()(a["y_true"], a["y_pred"], sample_weight=a["sample_weight"]), expected)


def test_loss_function_wrapper_config_names_its_function():
    wrapper = losses.LossFunctionWrapper(losses.huber, name="h", delta=0.5)
    cfg = wrapper.get_config()
    assert cfg == {"reduction": "auto", "name": "h", "delta": 0.5, "fn": "huber"}
    rebuilt = losses.LossFunctionWrapper.from_config(cfg)
    assert rebuilt.fn is losses.huber and rebuilt._fn_kwargs == {"delta": 0.5}


# ------------------------------------------------------------------ names and aliases

ALIASES = {
    "mse": "mean_squared_error", "MSE": "mean_squared_error",
    "mae": "mean_absolute_error", "MAE": "mean_absolute_error",
    "mape": "mean_absolute_percentage_error", "MAPE": "mean_absolute_percentage_error",
    "msle": "mean_squared_logarithmic_error", "MSLE": "mean_squared_logarithmic_error",
    "kld": "kl_divergence", "KLD": "kl_divergence",
    "kullback_leibler_divergence": "kl_divergence", "logcosh": "log_cosh",
    "huber_loss": "huber", "cosine_proximity": "cosine_similarity",
    "bce": "binary_crossentropy",
}


@pytest.mark.parametrize("alias, name", sorted(ALIASES.items()))
def test_aliases_resolve_to_the_keras_function(alias, name):
    fn = getattr(losses, name)
    assert losses.get(alias) is fn
    assert getattr(losses, alias) is fn
    assert losses.get(name) is fn


def test_class_names_give_instances_and_objects_pass_through():
    loss = losses.get("CategoricalCrossentropy")
    assert isinstance(loss, losses.CategoricalCrossentropy)
    assert loss.reduction == losses.Reduction.AUTO
    assert losses.get(loss) is loss
    assert losses.get(None) is None


def test_serialize_a_function_gives_its_keras_name():
    assert losses.serialize(losses.mse) == "mean_squared_error"
    assert losses.deserialize("mean_squared_error") is losses.mean_squared_error


def test_unknown_loss_name_raises_value_error():
    with pytest.raises(ValueError, match="Unknown loss function: 'not_a_loss'"):
        losses.get("not_a_loss")
    with pytest.raises(ValueError, match="Could not interpret loss function identifier"):
        losses.get(42)


def test_reduction_constants_and_validation():
    assert losses.Reduction.all() == ("auto", "none", "sum", "sum_over_batch_size")
    with pytest.raises(ValueError, match="Invalid Reduction Key: mean"):
        losses.MeanSquaredError(reduction="mean")


# ------------------------------------------------------------------ custom callables

def _seed001_mean_squared_error(y_true, y_pred):
    return K.mean(K.square(y_pred - y_true), axis=-1)


def test_custom_function_written_with_K_works_as_a_loss():
    rng = np.random.default_rng(1)
    y_true = rng.normal(size=(5, 3)).astype("float32")
    y_pred = rng.normal(size=(5, 3)).astype("float32")
    w = np.array([0.0, 1.0, 2.0, 0.5, 1.0], dtype="float32")
    assert losses.get(_seed001_mean_squared_error) is _seed001_mean_squared_error
    wrapper = losses.LossFunctionWrapper(_seed001_mean_squared_error)
    per_sample = ((y_pred - y_true) ** 2).mean(axis=-1)
    _close(wrapper(torch.from_numpy(y_true), torch.from_numpy(y_pred)), per_sample.mean())
    _close(wrapper(y_true, y_pred, sample_weight=w), (per_sample * w).sum() / 5)
    assert wrapper.get_config()["fn"] == "_seed001_mean_squared_error"


def test_custom_loss_subclass_is_weighted_and_reduced():
    class MeanCubicError(losses.Loss):
        def call(self, y_true, y_pred):
            return torch.mean(torch.abs(y_pred - y_true) ** 3, dim=-1)

    y_true = np.zeros((2, 2), "float32")
    y_pred = np.array([[1.0, 1.0], [2.0, 0.0]], "float32")  # per sample: 1, 4
    assert float(MeanCubicError()(y_true, y_pred)) == pytest.approx(2.5)
    assert float(MeanCubicError(reduction="sum")(y_true, y_pred, sample_weight=[2.0, 1.0])) \
        == pytest.approx(6.0)
    assert MeanCubicError(name="cubic").get_config() == {"reduction": "auto", "name": "cubic"}


# ------------------------------------------------------------------ Keras 2 behaviours

def test_integer_and_bool_targets_are_cast_to_the_prediction_dtype():
    y_pred = np.array([[0.2, 0.7], [0.9, 0.4]], "float32")
    expected = losses.binary_crossentropy(np.array([[0.0, 1.0], [1.0, 0.0]], "float32"), y_pred)
    _close(losses.binary_crossentropy(np.array([[0, 1], [1, 0]], "int32"), y_pred), expected)
    _close(losses.BinaryCrossentropy()(torch.tensor([[False, True], [True, False]]),
                                       torch.from_numpy(y_pred)), expected.mean())
    pred64 = torch.from_numpy(y_pred).double()
    assert losses.mean_squared_error(torch.tensor([[0, 1], [1, 0]]), pred64).dtype == torch.float64


def test_sample_weight_shapes_broadcast_as_in_keras():
    y_true = np.zeros((3, 2, 4), "float32")
    y_pred = np.ones((3, 2, 4), "float32") * np.arange(1, 4, dtype="float32")[:, None, None]
    per_sample = np.array([[1.0, 1.0], [4.0, 4.0], [9.0, 9.0]])  # MSE per (sample, step)
    mse = losses.MeanSquaredError()
    w = np.array([1.0, 0.0, 2.0], "float32")
    expected = (per_sample * w[:, None]).sum() / 6
    _close(mse(y_true, y_pred, sample_weight=w), expected)
    _close(mse(y_true, y_pred, sample_weight=w[:, None]), expected)  # (batch, 1)
    step_w = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], "float32")
    _close(mse(y_true, y_pred, sample_weight=step_w), (per_sample * step_w).sum() / 6)
    _close(mse(y_true, y_pred, sample_weight=2.0), per_sample.mean() * 2)
    none = losses.MeanSquaredError(reduction="none")(y_true, y_pred, sample_weight=w)
    _close(none, per_sample * w[:, None])


def test_labels_with_a_trailing_unit_axis_are_squeezed():
    y_true = np.array([[1.0], [2.0], [3.0]], "float32")
    y_pred = np.array([1.5, 2.0, 2.0], "float32")
    # Keras squeezes y_true to (3,), so the mean runs over the batch inside the function.
    _close(losses.MeanSquaredError(reduction="none")(y_true, y_pred), (0.25 + 0 + 1) / 3)


def test_sparse_labels_outside_the_class_range_raise_on_cpu():
    y_pred = np.full((3, 5), 0.2, "float32")
    with pytest.raises(ValueError, match=r"Received a label value of 7 which is outside the "
                                         r"valid range of \[0, 5\)"):
        losses.sparse_categorical_crossentropy(np.array([1, 7, 3]), y_pred)
    with pytest.raises(ValueError, match="label value of -1"):
        losses.SparseCategoricalCrossentropy()(np.array([[0], [-1], [2]]), y_pred)


def test_check_sparse_labels_for_numpy_labels():
    losses.check_sparse_labels(np.array([0, 4, 2]), 5)
    losses.check_sparse_labels(np.array([0, 9, 2]), 5, ignore_class=9)
    with pytest.raises(ValueError, match=r"Label values: 0 5 2"):
        losses.check_sparse_labels(np.array([0, 5, 2]), 5)


def test_sparse_crossentropy_ignore_class_averages_over_valid_entries():
    probs = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4]], "float32")
    labels = np.array([0, 2, 1])
    loss = losses.SparseCategoricalCrossentropy(ignore_class=2)
    # the second sample is ignored: mean of -log(0.7) and -log(0.3) over 2 valid entries
    _close(loss(labels, probs), (-np.log(0.7) - np.log(0.3)) / 2, rtol=1e-6)
    per_sample = losses.SparseCategoricalCrossentropy(ignore_class=2, reduction="none")(
        labels, probs)
    _close(per_sample, [-np.log(0.7), 0.0, -np.log(0.3)], rtol=1e-6)


def test_mask_on_predictions_restricts_the_mean_to_valid_entries():
    y_true = torch.zeros(2, 3, 1)
    y_pred = torch.arange(1.0, 7.0).reshape(2, 3, 1)
    y_pred._keras_mask = torch.tensor([[True, True, False], [True, False, False]])
    # valid squared errors: 1, 4 and 16
    _close(losses.MeanSquaredError()(y_true, y_pred), 21.0 / 3)
    _close(losses.MeanSquaredError(reduction="sum")(y_true, y_pred), 21.0)


def test_sigmoid_and_softmax_outputs_use_their_logits():
    logits = torch.tensor([[-30.0, 0.5, 30.0]])
    target = torch.tensor([[1.0, 0.0, 0.0]])
    from_probs = losses.binary_crossentropy(target, K.sigmoid(logits))
    from_logits = losses.binary_crossentropy(target, logits, from_logits=True)
    _close(from_probs, from_logits)  # clipping at 1e-7 would give ~16.1, not 30
    assert float(from_probs) > 10.0
    cce = losses.CategoricalCrossentropy()(target, K.softmax(logits))
    _close(cce, losses.categorical_crossentropy(target, logits, from_logits=True)[0])


def test_single_class_categorical_crossentropy_warns():
    with pytest.warns(TkerasWarning, match="binary_crossentropy"):
        losses.categorical_crossentropy(np.ones((2, 1), "float32"), np.ones((2, 1), "float32"))


def test_hinge_keeps_labels_that_are_not_all_zero_or_one():
    y_true = np.array([[-1.0, 1.0]], "float32")
    y_pred = np.array([[0.3, -0.2]], "float32")
    # labels already -1/1: max(1 - y*p, 0) = [1.3, 1.2]
    _close(losses.hinge(y_true, y_pred), [1.25])
    _close(losses.hinge(np.array([[0.0, 1.0]], "float32"), y_pred), [1.25])


@pytest.mark.parametrize("file", LOSS_CASES)
def test_losses_never_read_the_device(file):
    # On the meta device any host read (.item(), bool(tensor), .cpu()) raises.
    a, meta, cls, _ = _case(file)

    def as_meta(x):
        return torch.from_numpy(x).to("meta")

    value = cls(**meta["kwargs"])(as_meta(a["y_true"]), as_meta(a["y_pred"]),
                                  sample_weight=as_meta(a["sample_weight"]))
    assert value.device.type == "meta" and value.shape == ()
