"""tkeras.metrics against tf-keras 2.21's recorded numbers (keras_reference/losses_metrics)
and hand computations."""
import copy

import numpy as np
import pytest
import torch

from conftest import load_case, ref_index
from metric_test_utils import METRIC_CHECKS, check_metric
from metric_test_utils import close as _close
from tkeras import backend as K
from tkeras import losses, metrics

CASES = ref_index("losses_metrics")["cases"]
FN_CASES = [c["file"] for c in CASES if c["kind"] == "metricfn"]
METRIC_CASES = [c["file"] for c in CASES if c["kind"] == "metric"]


def _reference_metric(file, weighted_only=False):
    """check_metric's arguments for a keras_reference metric case (two batches)."""
    a, meta = load_case("losses_metrics", file)
    cls = getattr(metrics, meta["class_name"])
    states = {key: [(spec["name"], spec["shape"], a[spec["key"]]) for spec in specs]
              for key, specs in meta["state_variables"].items()}
    return dict(factory=lambda: cls(**{**meta["kwargs"], "name": meta["config"]["name"]}),
                batches=[(a[f"y_true_{i}"], a[f"y_pred_{i}"]) for i in range(2)],
                expected=[a[f"result_after_{i}"] for i in range(2)],
                weights=[a[f"sample_weight_{i}"] for i in range(2)],
                expected_weighted=[a[f"result_after_{i}_weighted"] for i in range(2)],
                keras_config=meta["config"], keras_state=states)


# ------------------------------------------------------------------ metric functions

def test_every_reference_metric_case_is_collected():
    assert len(FN_CASES) == 8 and len(METRIC_CASES) == 21


@pytest.mark.parametrize("file", FN_CASES)
def test_metric_functions_match_keras(file):
    a, meta = load_case("losses_metrics", file)
    fn = getattr(metrics, meta["function"].split(".")[-1])
    per_sample = fn(a["y_true"], a["y_pred"], **meta["kwargs"])
    assert tuple(per_sample.shape) == a["per_sample"].shape
    _close(per_sample, a["per_sample"])
    _close(per_sample.mean(), a["mean"])
    _close(fn(torch.from_numpy(a["y_true"]), torch.from_numpy(a["y_pred"]), **meta["kwargs"]),
           a["per_sample"])


def test_accuracy_is_elementwise_equality():
    _close(metrics.accuracy([[1.0, 2.0], [3.0, 4.0]], [[1.0, 0.0], [3.0, 4.0]]),
           [[1.0, 0.0], [1.0, 1.0]])
    with pytest.raises(ValueError, match="incompatible"):
        metrics.accuracy(np.zeros((2, 3)), np.zeros((2, 4)))


def test_cosine_metric_is_the_positive_similarity():
    y_true = np.array([[1.0, 0.0], [0.0, 1.0]], "float32")
    y_pred = np.array([[2.0, 0.0], [1.0, 1.0]], "float32")
    _close(metrics.cosine_similarity(y_true, y_pred), [1.0, np.sqrt(0.5)])
    assert metrics.cosine_proximity is metrics.cosine_similarity
    _close(losses.cosine_similarity(y_true, y_pred), [-1.0, -np.sqrt(0.5)])


def test_loss_functions_are_reexported_under_metric_names():
    for name in ("mse", "mae", "mape", "msle", "binary_crossentropy", "categorical_crossentropy",
                 "sparse_categorical_crossentropy", "kld", "poisson", "hinge", "squared_hinge",
                 "categorical_hinge", "logcosh"):
        assert metrics.get(name) is getattr(losses, name)


# ------------------------------------------------------------------ stateful metrics

@pytest.mark.parametrize("check", METRIC_CHECKS)
@pytest.mark.parametrize("file", METRIC_CASES)
def test_shared_metric_test_on_keras_cases(file, check):
    check_metric(**_reference_metric(file), checks=(check,))


@pytest.mark.parametrize("file", METRIC_CASES)
def test_metrics_never_read_the_device(file):
    # On the meta device any host read (.item(), bool(tensor), .cpu()) raises.
    a, meta = load_case("losses_metrics", file)
    cls = getattr(metrics, meta["class_name"])
    metric = cls(**meta["kwargs"]).to("meta")

    def as_meta(x):
        return torch.from_numpy(x).to("meta")

    metric.update_state(as_meta(a["y_true_0"]), as_meta(a["y_pred_0"]),
                        sample_weight=as_meta(a["sample_weight_0"]))
    assert metric.result().device.type == "meta"


def test_default_names_are_unique_snake_case():
    assert metrics.AUC().name == "auc"
    assert metrics.AUC().name == "auc_1"
    assert metrics.MeanIoU(num_classes=2).name == "mean_io_u"
    assert metrics.Mean().name == "mean"
    assert metrics.BinaryAccuracy().name == "binary_accuracy"


# ------------------------------------------------------------------ the shared test, by hand

# (id, factory, batches, expected, weights, expected_weighted): results computed by hand from
# Keras's definitions (thresholds: a prediction counts as positive when > 0.5).
HAND_CASES = [
    # matches [0, 1, 1, 1] then [1, 0]; weighted: (0 + 1) / 2, then (1 + 1) / (2 + 2)
    ("accuracy", metrics.Accuracy, [([[1], [2], [3], [4]], [[0], [2], [3], [4]]),
                                    ([[1], [1]], [[1], [0]])],
     [0.75, 4 / 6], [[1, 1, 0, 0], [1, 1]], [0.5, 0.5]),
    ("mean", metrics.Mean, [([1.0, 3.0, 5.0, 7.0],), ([2.0, 4.0],)],
     [4.0, 22 / 6], [[1, 1, 0, 0], [0.5, 1.5]], [2.0, (4 + 1 + 6) / 4]),
    ("sum", metrics.Sum, [([1.0, 2.0],), ([3.0, 4.0],)],
     [3.0, 10.0], [[1.0, 0.5], [2.0, 0.0]], [2.0, 8.0]),
    # per-sample binary accuracy [1, 1, 1, 0] then [0, 1]
    ("mean_metric_wrapper", lambda: metrics.MeanMetricWrapper(metrics.binary_accuracy, name="acc"),
     [([[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]]), ([[1], [0]], [[0.2], [0.1]])],
     [0.75, 4 / 6], [[1, 0, 1, 1], [2, 2]], [2 / 3, 4 / 7]),
    # squared errors [[1, 0], [0, 4]] then [[0, 9]]; a sample's weight covers its row
    ("root_mean_squared_error", metrics.RootMeanSquaredError,
     [([[0.0, 1.0], [2.0, 2.0]], [[1.0, 1.0], [2.0, 0.0]]), ([[1.0, 1.0]], [[1.0, 4.0]])],
     [np.sqrt(5 / 4), np.sqrt(14 / 6)], [[1.0, 0.0], [2.0]], [np.sqrt(1 / 2), np.sqrt(19 / 6)]),
    ("true_positives", metrics.TruePositives, [([0, 1, 1, 1], [1, 0, 1, 1]), ([1, 0], [0.7, 0.2])],
     [2.0, 3.0], [[0, 0, 1, 0], [1, 1]], [1.0, 2.0]),
    ("false_positives", metrics.FalsePositives, [([0, 1, 0, 0], [0, 0, 1, 1]), ([0, 1], [0.7, 0.2])],
     [2.0, 3.0], [[0, 0, 1, 0], [1, 1]], [1.0, 2.0]),
    ("false_negatives", metrics.FalseNegatives, [([0, 1, 1, 1], [0, 1, 0, 0]), ([1, 0], [0.2, 0.7])],
     [2.0, 3.0], [[0, 0, 1, 0], [1, 1]], [1.0, 2.0]),
    ("true_negatives", metrics.TrueNegatives, [([0, 1, 0, 0], [1, 1, 0, 0]), ([0, 1], [0.2, 0.7])],
     [2.0, 3.0], [[0, 0, 1, 0], [1, 1]], [1.0, 2.0]),
    # class 0's IoU = cm[0, 0] / (row 0 + column 0 - cm[0, 0]): cm [[1, 1], [1, 1]], then
    # [[2, 1], [1, 2]]; weighted [[.3, .3], [.3, .1]], then [[1.3, .3], [.3, 1.1]]
    ("iou", lambda: metrics.IoU(num_classes=2, target_class_ids=[0]),
     [([0, 0, 1, 1], [0, 1, 0, 1]), ([0, 1], [0, 1])],
     [1 / 3, 2 / 4], [[0.3, 0.3, 0.3, 0.1], [1.0, 1.0]], [0.3 / 0.9, 1.3 / 1.9]),
    # Keras 2.3.1's rule: the sensitivity at the first of the thresholds i / 199 whose
    # specificity is closest to 0.5. Negatives 0.1, 0.2, 0.6, 0.7: specificity 2/4 from 0.2
    # to 0.6, where positives 0.5 and 0.9 are above: 2/3. Weighted (1, 1, 1, 3): 3/6 from 0.6
    # to 0.7, where only 0.9 (weight 2 of 4) is above: 1/2.
    ("sensitivity_at_specificity", lambda: metrics.SensitivityAtSpecificity(0.5),
     [([0, 0, 0, 0, 1, 1, 1], [0.1, 0.2, 0.6, 0.7, 0.15, 0.5, 0.9])], [2 / 3],
     [[1, 1, 1, 3, 1, 1, 2]], [0.5]),
    # ... and the specificity where the sensitivity is closest to 0.5: positives 0.15, 0.5,
    # 0.7, 0.9 give 2/4 from 0.5 to 0.7, where negatives 0.1 and 0.45 are below: 2/3;
    # weighted (1, 2, 1): 3/4.
    ("specificity_at_sensitivity", lambda: metrics.SpecificityAtSensitivity(0.5),
     [([0, 0, 0, 1, 1, 1, 1], [0.1, 0.45, 0.8, 0.15, 0.5, 0.7, 0.9])], [2 / 3],
     [[1, 2, 1, 1, 1, 1, 1]], [0.75]),
]


@pytest.mark.parametrize("name,factory,batches,expected,weights,expected_weighted", HAND_CASES,
                         ids=[c[0] for c in HAND_CASES])
def test_shared_metric_test_by_hand(name, factory, batches, expected, weights, expected_weighted):
    check_metric(factory, batches, expected, weights=weights, expected_weighted=expected_weighted)


def test_a_prediction_of_zero_is_below_every_threshold_with_evenly_spaced_thresholds():
    # y_pred > threshold is positive: 0.0 is a (true or false) negative at every threshold
    for thresholds in ([0.0, 0.5, 0.9], [0.0, 0.5, 1.0]):  # the second is evenly spaced
        negatives = metrics.TrueNegatives(thresholds=thresholds)
        negatives.update_state([0, 0, 1], [0.0, 0.3, 0.0])
        _close(negatives.result(), [1.0, 2.0, 2.0])
        misses = metrics.FalseNegatives(thresholds=thresholds)
        misses.update_state([0, 0, 1], [0.0, 0.3, 0.0])
        _close(misses.result(), [1.0, 1.0, 1.0])


# Exported metric classes without a case of their own: the abstract base and the bases of
# Mean / Sum, MeanIoU / IoU and the sensitivity / specificity metrics.
NOT_HARNESS_CASES = {"Metric", "Reduce", "BaseMeanIoU", "SensitivitySpecificityBase"}


def test_every_exported_metric_class_goes_through_the_shared_test():
    covered = {load_case("losses_metrics", file)[1]["class_name"] for file in METRIC_CASES}
    covered |= {type(case[1]()).__name__ for case in HAND_CASES}
    covered |= {class_name for class_name, _, _ in WRAPPED_LOSSES}
    exported = {name for name in getattr(metrics, "__all__", dir(metrics))
                if not name.startswith("_") and isinstance(getattr(metrics, name), type)
                and issubclass(getattr(metrics, name), metrics.Metric)}
    missing = exported - covered - NOT_HARNESS_CASES
    assert not missing, f"exported classes without a shared-test case: {sorted(missing)}"


# ------------------------------------------------------------------ wrapped loss functions

WRAPPED_LOSSES = [
    ("MeanSquaredError", "loss_mean_squared_error.npz", 1.0),
    ("MeanAbsoluteError", "loss_mean_absolute_error.npz", 1.0),
    ("MeanAbsolutePercentageError", "loss_mean_absolute_percentage_error.npz", 1.0),
    ("MeanSquaredLogarithmicError", "loss_mean_squared_logarithmic_error.npz", 1.0),
    ("Hinge", "loss_hinge.npz", 1.0),
    ("SquaredHinge", "loss_squared_hinge.npz", 1.0),
    ("CategoricalHinge", "loss_categorical_hinge.npz", 1.0),
    ("LogCoshError", "loss_logcosh.npz", 1.0),
    ("KLDivergence", "loss_kullback_leibler_divergence.npz", 1.0),
    ("Poisson", "loss_poisson.npz", 1.0),
    ("BinaryCrossentropy", "loss_binary_crossentropy.npz", 1.0),
    ("CategoricalCrossentropy", "loss_categorical_crossentropy.npz", 1.0),
    ("SparseCategoricalCrossentropy", "loss_sparse_categorical_crossentropy.npz", 1.0),
    ("CosineSimilarity", "loss_cosine_similarity.npz", -1.0),
]


@pytest.mark.parametrize("class_name, file, sign", WRAPPED_LOSSES)
def test_loss_metrics_are_weighted_means_of_keras_per_sample_losses(class_name, file, sign):
    """The shared metric test, the case's batch in two halves: the running (weighted) means of
    Keras's per-sample losses."""
    a, _ = load_case("losses_metrics", file)
    per_sample, w = sign * a["per_sample"].astype(np.float64), a["sample_weight"]
    k = len(w) // 2
    parts = [slice(0, k), slice(k, None)]
    check_metric(getattr(metrics, class_name), [(a["y_true"][p], a["y_pred"][p]) for p in parts],
                 [per_sample[:k].mean(), per_sample.mean()], weights=[w[p] for p in parts],
                 expected_weighted=[(per_sample[:k] * w[:k]).sum() / w[:k].sum(),
                                    (per_sample * w).sum() / w.sum()])


def test_root_mean_squared_error_by_hand():
    m = metrics.RootMeanSquaredError()
    m.update_state([[0.0, 1.0], [2.0, 2.0]], [[1.0, 1.0], [2.0, 0.0]])  # errors^2: 1, 0, 0, 4
    _close(m.result(), np.sqrt(5.0 / 4))
    m.update_state([[1.0, 1.0]], [[1.0, 4.0]], sample_weight=[2.0])  # adds 2 * (0 + 9), 2 * 2
    _close(m.result(), np.sqrt((5.0 + 18.0) / 8))


def test_mean_and_sum_with_weights_by_hand():
    mean = metrics.Mean()
    mean.update_state([1, 3, 5, 7], sample_weight=[1, 1, 0, 0])
    _close(mean.result(), 2.0)
    mean.update_state(np.array([[2.0, 4.0]]), sample_weight=[[0.5, 1.5]])
    _close(mean.result(), (4.0 + 1.0 + 6.0) / 4.0)
    total = metrics.Sum()
    total.update_state([[1.0, 2.0], [3.0, 4.0]], sample_weight=[1.0, 0.5])
    _close(total.result(), 3.0 + 3.5)
    assert [v.name for v in total.variables] == ["total:0"]


def test_accuracy_classes_by_hand():
    acc = metrics.Accuracy()
    acc.update_state([[1], [2], [3], [4]], [[0], [2], [3], [4]])
    _close(acc.result(), 0.75)
    sparse = metrics.SparseCategoricalAccuracy()
    sparse.update_state([[2], [1]], [[0.1, 0.6, 0.3], [0.05, 0.95, 0.0]])
    _close(sparse.result(), 0.5)
    binary = metrics.BinaryAccuracy()
    binary.update_state([[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]])
    _close(binary.result(), 0.75)


# ------------------------------------------------------------------ custom metrics

def _seed001_mean_pred(y_true, y_pred):
    return K.mean(y_pred)


def test_custom_metric_function_through_mean_metric_wrapper():
    assert metrics.get(_seed001_mean_pred) is _seed001_mean_pred
    m = metrics.MeanMetricWrapper(_seed001_mean_pred, name="mean_pred")
    m.update_state(np.zeros((2, 1)), np.array([[0.2], [0.4]], "float32"))
    m.update_state(np.zeros((4, 1)), np.array([[1.0], [1.0], [0.0], [0.0]], "float32"))
    _close(m.result(), (0.3 + 0.5) / 2)  # one value per batch, as in Keras
    cfg = m.get_config()
    assert cfg == {"name": "mean_pred", "dtype": "float32", "fn": "_seed001_mean_pred"}
    rebuilt = metrics.deserialize(metrics.serialize(m),
                                  custom_objects={"_seed001_mean_pred": _seed001_mean_pred})
    assert rebuilt._fn is _seed001_mean_pred and rebuilt.name == "mean_pred"


def test_mean_metric_wrapper_from_keras_h5_training_config():
    # the metrics entry of keras_reference/files/cnn_sequential/model.h5's training_config
    entry = {"class_name": "MeanMetricWrapper",
             "config": {"name": "accuracy", "dtype": "float32", "fn": "categorical_accuracy"}}
    m = metrics.get(entry)
    assert isinstance(m, metrics.MeanMetricWrapper) and m._fn is metrics.categorical_accuracy
    m.update_state([[0, 1], [1, 0]], [[0.3, 0.7], [0.4, 0.6]])
    _close(m.result(), 0.5)
    assert m.get_config() == entry["config"]


class BinaryTruePositives(metrics.Metric):
    def __init__(self, name="binary_true_positives", **kwargs):
        super().__init__(name=name, **kwargs)
        self.true_positives = self.add_weight(name="tp", initializer="zeros")

    def update_state(self, y_true, y_pred, sample_weight=None):
        values = (y_true == 1) & (y_pred > 0.5)
        self.true_positives.assign_add(values.to(self.true_positives.dtype).sum())

    def result(self):
        return self.true_positives * 1.0


def test_custom_metric_subclass_in_keras_style():
    m = BinaryTruePositives()
    y_pred = torch.tensor([0.9, 0.8, 0.2, 0.7], requires_grad=True)
    result = m(torch.tensor([1.0, 0.0, 1.0, 1.0]), y_pred)
    _close(result, 2.0)
    assert not m.true_positives.requires_grad  # update_state runs without autograd
    assert [v.name for v in m.variables] == ["tp:0"]
    assert list(dict(m.named_buffers())) == ["tp"] and list(m.parameters()) == []
    m.reset_state()
    _close(m.result(), 0.0)


def test_state_attribute_with_another_name_follows_device_and_dtype_moves():
    class Counter(metrics.Metric):
        def __init__(self):
            super().__init__(name="counter")
            self.seen = self.add_weight(name="num_seen")

        def update_state(self, values):
            self.seen.assign_add(torch.as_tensor(values).numel())

        def result(self):
            return self.seen + 0

    m = Counter()
    m.update_state([1, 2, 3])
    m.to(torch.float64)
    assert m.seen.dtype == torch.float64 and m.variables[0] is m.seen
    m.update_state([4])
    _close(m.result(), 4.0)
    assert m.variables[0].name == "num_seen:0"
    assert list(m.state_dict()) == ["num_seen"]


def test_metric_is_a_module_with_state_dict_and_deepcopy():
    a, meta = load_case("losses_metrics", "metric_AUC_ROC.npz")
    cls = getattr(metrics, meta["class_name"])
    m = cls(**meta["kwargs"])
    for i in range(2):
        m.update_state(a[f"y_true_{i}"], a[f"y_pred_{i}"])
    assert list(m.state_dict()) == ["true_positives", "true_negatives", "false_positives",
                                    "false_negatives"]
    clone = copy.deepcopy(m)
    _close(clone.result(), a["result_after_1"])
    fresh = cls(**meta["kwargs"])
    fresh.load_state_dict(m.state_dict())
    _close(fresh.result(), a["result_after_1"])
    assert fresh.get_weights()[0].shape == (200,)


def test_unknown_names_and_arguments_raise():
    with pytest.raises(ValueError, match="Unknown metric function: 'not_a_metric'"):
        metrics.get("not_a_metric")
    with pytest.raises(ValueError, match="Could not interpret metric identifier"):
        metrics.get(3)
    with pytest.raises(TypeError, match="Keyword argument not understood: 'bogus'"):
        BinaryTruePositives(bogus=1)  # **kwargs reach Metric.__init__


def test_get_resolves_names_and_classes():
    assert metrics.get("acc") is metrics.accuracy
    assert metrics.get("accuracy") is metrics.accuracy
    assert metrics.get("ACC") is metrics.accuracy
    assert isinstance(metrics.get("AUC"), metrics.AUC)
    auc = metrics.AUC(curve="PR")
    assert metrics.get(auc) is auc


# ------------------------------------------------------------------ confusion metrics by hand

def _hand_counts(y_true, y_pred, threshold, w=None):
    pos, pred = y_true != 0, y_pred > threshold
    w = np.ones_like(y_pred) if w is None else np.broadcast_to(w[:, None], y_pred.shape)
    return {"tp": (w * (pos & pred)).sum(), "fp": (w * (~pos & pred)).sum(),
            "tn": (w * (~pos & ~pred)).sum(), "fn": (w * (pos & ~pred)).sum()}


@pytest.mark.parametrize("thresholds", [0.5, [0.0, 0.5, 1.0], [0.2, 0.45, 0.9]])
def test_confusion_counts_by_hand(thresholds):
    a, _ = load_case("losses_metrics", "metric_Precision.npz")
    y_true, y_pred, w = a["y_true_0"], a["y_pred_0"], a["sample_weight_0"]
    for cls, key in ((metrics.TruePositives, "tp"), (metrics.FalsePositives, "fp"),
                     (metrics.TrueNegatives, "tn"), (metrics.FalseNegatives, "fn")):
        m = cls(thresholds=thresholds)
        m.update_state(y_true, y_pred, sample_weight=w)
        expected = [_hand_counts(y_true, y_pred, t, w)[key] for t in np.atleast_1d(thresholds)]
        _close(m.result(), expected[0] if np.ndim(thresholds) == 0 else expected, rtol=1e-5)
        assert m.get_config()["thresholds"] == thresholds


def test_auc_example_from_the_keras_docs():
    # thresholds [-1e-7, 0.5, 1 + 1e-7]: recall [1, 0.5, 0], fp rate [1, 0, 0] -> 0.75
    m = metrics.AUC(num_thresholds=3)
    m.update_state([0, 0, 1, 1], [0, 0.5, 0.3, 0.9])
    _close(m.result(), 0.75)
    _close(m.true_positives, [2, 1, 0])
    _close(m.false_positives, [2, 0, 0])
    m = metrics.AUC()
    m.update_state([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    _close(m.result(), 0.75)


def test_auc_with_explicit_thresholds_keeps_them_in_its_config():
    m = metrics.AUC(thresholds=[0.5, 0.25, 0.75])
    assert m.num_thresholds == 5
    assert m.thresholds == pytest.approx([-1e-7, 0.25, 0.5, 0.75, 1 + 1e-7])
    assert m.get_config()["thresholds"] == [0.25, 0.5, 0.75]
    m.update_state([0, 0, 1, 1], [0.1, 0.6, 0.3, 0.9])
    # tp [2,2,1,1,0], fp [2,1,1,0,0] -> recall [1,1,.5,.5,0], fpr [1,.5,.5,0,0] -> 0.75
    _close(m.result(), 0.75)


def test_auc_multi_label_averages_the_single_label_aucs():
    a, _ = load_case("losses_metrics", "metric_AUC_ROC.npz")
    y_true, y_pred, w = a["y_true_0"], a["y_pred_0"], a["sample_weight_0"]
    multi = metrics.AUC(multi_label=True)
    multi.update_state(y_true, y_pred, sample_weight=w)
    assert tuple(multi.true_positives.shape) == (200, 4)
    per_label = []
    for j in range(4):
        single = metrics.AUC()
        single.update_state(y_true[:, j], y_pred[:, j], sample_weight=w)
        per_label.append(float(single.result()))
    _close(multi.result(), np.mean(per_label))
    weighted = metrics.AUC(multi_label=True, num_labels=4, label_weights=[1, 0, 0, 3])
    weighted.update_state(y_true, y_pred, sample_weight=w)
    _close(weighted.result(), (per_label[0] + 3 * per_label[3]) / 4)


def test_auc_argument_errors():
    with pytest.raises(ValueError, match="Invalid AUC curve value"):
        metrics.AUC(curve="XY")
    with pytest.raises(ValueError, match="Invalid AUC summation method"):
        metrics.AUC(summation_method="sum")
    with pytest.raises(ValueError, match="num_thresholds"):
        metrics.AUC(num_thresholds=1)
    with pytest.raises(ValueError, match="non-negative"):
        metrics.AUC(label_weights=[1.0, -1.0])
    with pytest.raises(ValueError, match=r"Threshold values must be in \[0, 1\]"):
        metrics.Precision(thresholds=[0.5, 1.5])


def test_mean_iou_by_hand_with_ignore_class_and_one_hot():
    # confusion (rows = labels): [[1, 1], [0, 2]] -> IoU 1/2 and 2/3
    m = metrics.MeanIoU(num_classes=2)
    m.update_state([0, 0, 1, 1], [0, 1, 1, 1])
    _close(m.result(), (0.5 + 2 / 3) / 2)
    ignoring = metrics.MeanIoU(num_classes=2, ignore_class=2)
    ignoring.update_state([0, 0, 1, 1, 2], [0, 1, 1, 1, 0])
    _close(ignoring.total_cm, [[1, 1], [0, 2]])
    one_hot = metrics.MeanIoU(num_classes=2, sparse_y_pred=False)
    one_hot.update_state([0, 0, 1, 1], [[0.9, 0.1], [0.2, 0.8], [0.4, 0.6], [0.3, 0.7]],
                         sample_weight=[1.0, 2.0, 1.0, 1.0])
    _close(one_hot.total_cm, [[1, 2], [0, 2]])
    with pytest.raises(ValueError, match=r"must be in \[0, 2\)"):
        metrics.MeanIoU(num_classes=2).update_state([0, 3], [0, 1])
