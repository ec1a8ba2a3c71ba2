"""The shared metric test: one call checks a stateful metric against the results Keras gives.

    from metric_test_utils import check_metric
    check_metric(lambda: metrics.TruePositives(), [([0, 1, 1, 1], [1, 0, 1, 1])], [2.0],
                 weights=[[0, 0, 1, 0]], expected_weighted=[1.0])

``batches`` are the positional arguments of ``update_state`` (``(y_true, y_pred)``, or
``(values,)`` for Mean / Sum); ``expected`` / ``expected_weighted`` are ``result()`` after each
batch, without / with the ``weights`` as ``sample_weight`` (from keras_reference, or computed by
hand from Keras's definition; never by tkeras). Its checks (``METRIC_CHECKS``, each runnable
alone):
    results: a fresh metric updated batch by batch gives the expected results (and, when
        given, Keras's state variables: names, shapes, values).
    weighted: the same with sample weights.
    reset: ``reset_state`` (and Keras 2's ``reset_states``) zero the state; the metric then
        gives the first result again.
    config: ``get_config`` (equal to Keras's when given), ``from_config``, ``serialize`` /
        ``deserialize`` rebuild a metric that gives the same first result.
"""
from __future__ import annotations

import numpy as np
import torch

from tkeras import metrics

METRIC_CHECKS = ("results", "weighted", "reset", "config")


def close(actual, expected, rtol=1e-5, atol=1e-6):
    actual = actual.detach().cpu().numpy() if isinstance(actual, torch.Tensor) else actual
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol)


def check_metric(factory, batches, expected, weights=None, expected_weighted=None,
                 keras_config=None, keras_state=None, checks=METRIC_CHECKS) -> None:
    """Runs the shared metric checks ``checks`` on ``factory()``.

    Args:
        factory: zero-argument callable returning a fresh metric.
        batches: a list of ``update_state`` positional-argument tuples.
        expected: ``result()`` after each batch.
        weights: the ``sample_weight`` of each batch (for ``expected_weighted``).
        expected_weighted: ``result()`` after each weighted batch.
        keras_config: the config Keras gives for ``factory()``.
        keras_state: ``{"state": specs, "state_weighted": specs}``, specs being
            ``[(name, shape, values)]`` of Keras's state variables after all batches.
    """
    for check in checks:
        if check == "results":
            _check_results(factory, batches, None, expected, (keras_state or {}).get("state"))
        elif check == "weighted":
            assert weights is not None and expected_weighted is not None, "no weighted case"
            _check_results(factory, batches, weights, expected_weighted,
                           (keras_state or {}).get("state_weighted"))
        elif check == "reset":
            _check_reset(factory, batches, weights, expected)
        elif check == "config":
            _check_config(factory, batches[0], expected[0], keras_config)
        else:
            raise ValueError(f"unknown metric check {check!r}")


def _updated(factory, batches, weights):
    metric, results = factory(), []
    for i, args in enumerate(batches):
        metric.update_state(*args, sample_weight=None if weights is None else weights[i])
        results.append(metric.result())
    return metric, results


def _check_results(factory, batches, weights, expected, state) -> None:
    metric, results = _updated(factory, batches, weights)
    for i, (result, value) in enumerate(zip(results, expected)):
        assert tuple(result.shape) == np.shape(value), f"result after batch {i}"
        close(result, value)
    if state is not None:
        assert [v.name for v in metric.variables] == [name for name, _, _ in state]
        for variable, (name, shape, values) in zip(metric.variables, state):
            assert list(variable.shape) == list(shape), name
            close(variable, values, atol=1e-5)  # TF leaves ~1e-6 round-off in counts


def _is_zero(metric) -> bool:
    return all(float(v.abs().sum()) == 0.0 for v in metric.variables)


def _check_reset(factory, batches, weights, expected) -> None:
    metric, _ = _updated(factory, batches, weights)
    metric.reset_state()
    assert _is_zero(metric)
    metric.update_state(*batches[0])
    close(metric.result(), expected[0])
    metric.reset_states()
    assert _is_zero(metric)


def _check_config(factory, first_batch, first_result, keras_config) -> None:
    metric = factory()
    config = metric.get_config()
    if keras_config is not None:
        assert config == keras_config
    rebuilt = type(metric).from_config(config)
    assert type(rebuilt) is type(metric) and rebuilt.get_config() == config
    rebuilt.update_state(*first_batch)
    close(rebuilt.result(), first_result)
    serialized = metrics.serialize(metric)
    assert serialized["module"] == "keras.metrics"
    assert serialized["class_name"] == type(metric).__name__
    again = metrics.deserialize(serialized)
    assert type(again) is type(metric) and again.get_config() == config
