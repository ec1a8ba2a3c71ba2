"""The shared loss test: one call checks a loss class against a keras_reference case
(tests/data/keras_reference/losses_metrics/loss_*.npz, recorded with real Keras 2).

    from loss_test_utils import check_loss
    check_loss(losses.Huber, "loss_huber.npz")

Its checks (``LOSS_CHECKS``, each runnable alone):
    values: ``reduction="none"`` gives Keras's per-sample values, the loss function gives
        Keras's too, and class and function agree.
    reductions: the default (sum over batch size) and ``"sum"`` reductions, with and without
        sample weights, give Keras's scalars.
    sample_weight: torch tensors (weights included) give the same numbers as numpy, the
        weighted mean divides by the element count (Keras's rule), and the gradient flows.
    config: ``get_config`` equals Keras's, ``from_config`` / ``serialize`` / ``deserialize`` /
        ``get`` rebuild the same loss, which gives the same numbers.
"""
from __future__ import annotations

import numpy as np
import torch

from conftest import load_case
from tkeras import losses

LOSS_CHECKS = ("values", "reductions", "sample_weight", "config")
REDUCED_KEYS = ("reduced", "reduced_weighted", "reduced_sum", "reduced_sum_weighted")


def close(actual, expected, rtol=1e-5, atol=1e-6):
    actual = actual.detach().cpu().numpy() if isinstance(actual, torch.Tensor) else actual
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol)


def loss_case(case_file):
    """(arrays, meta, loss function) of a keras_reference loss case."""
    arrays, meta = load_case("losses_metrics", case_file)
    return arrays, meta, getattr(losses, meta["function"].split(".")[-1])


def check_loss(loss_cls, case_file: str, checks=LOSS_CHECKS) -> None:
    """Runs the shared loss checks ``checks`` on ``loss_cls`` against one keras_reference case."""
    a, meta, fn = loss_case(case_file)
    for check in checks:
        _CHECKS[check](loss_cls, fn, a, meta)


def _check_values(cls, fn, a, meta) -> None:
    per_sample = cls(reduction="none", **meta["kwargs"])(a["y_true"], a["y_pred"])
    assert tuple(per_sample.shape) == a["per_sample"].shape
    close(per_sample, a["per_sample"])
    if "function_per_sample" in a:  # Keras's function accepts the case's arguments
        by_function = fn(a["y_true"], a["y_pred"], **meta["kwargs"])
        close(by_function, a["function_per_sample"])
        close(per_sample, by_function.detach().numpy())


def _check_reductions(cls, fn, a, meta) -> None:
    kwargs, w = meta["kwargs"], a["sample_weight"]
    results = {
        "reduced": cls(**kwargs)(a["y_true"], a["y_pred"]),
        "reduced_weighted": cls(**kwargs)(a["y_true"], a["y_pred"], sample_weight=w),
        "reduced_sum": cls(reduction="sum", **kwargs)(a["y_true"], a["y_pred"]),
        "reduced_sum_weighted": cls(reduction="sum", **kwargs)(a["y_true"], a["y_pred"],
                                                               sample_weight=w),
    }
    for key in REDUCED_KEYS:
        assert results[key].shape == ()
        close(results[key], a[key])


def _check_sample_weight(cls, fn, a, meta) -> None:
    y_true = torch.from_numpy(a["y_true"])
    y_pred = torch.from_numpy(a["y_pred"]).requires_grad_(True)
    w = torch.from_numpy(a["sample_weight"])
    value = cls(**meta["kwargs"])(y_true, y_pred, sample_weight=w)
    close(value, a["reduced_weighted"])
    # Keras's rule: sum(per_sample * w) / per_sample.size, zero weights included
    per_sample = a["per_sample"].astype(np.float64)
    weights = a["sample_weight"].reshape(a["sample_weight"].shape + (1,) * (per_sample.ndim - 1))
    close(value, np.sum(per_sample * weights) / per_sample.size)
    value.backward()
    assert y_pred.grad is not None and torch.isfinite(y_pred.grad).all()


def _check_config(cls, fn, a, meta) -> None:
    loss = cls(**meta["kwargs"])
    assert loss.get_config() == meta["config"]
    rebuilt = cls.from_config(meta["config"])
    assert type(rebuilt) is cls and rebuilt.get_config() == meta["config"]
    close(rebuilt(a["y_true"], a["y_pred"], sample_weight=a["sample_weight"]),
          a["reduced_weighted"])
    serialized = losses.serialize(loss)
    assert serialized["module"] == "keras.losses"
    assert serialized["class_name"] == meta["class_name"]
    again = losses.deserialize(serialized)
    assert type(again) is cls and again.get_config() == meta["config"]
    old_style = losses.get({"class_name": meta["class_name"], "config": meta["config"]})
    assert type(old_style) is cls


_CHECKS = {"values": _check_values, "reductions": _check_reductions,
           "sample_weight": _check_sample_weight, "config": _check_config}
