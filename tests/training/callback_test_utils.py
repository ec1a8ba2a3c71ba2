"""The shared callback test: one call checks the Callback contract for any callback class.

    from callback_test_utils import check_callback
    check_callback(lambda: EarlyStopping(patience=2))

It checks: the callback is built without a model (Keras's callbacks need no config), copies
with ``copy.deepcopy`` and (where Keras's own pickles) survives a pickle round trip, then runs
inside ``fit`` (2 epochs of 2 batches, with validation), ``evaluate`` and ``predict``, where
every hook is called in Keras's order with Keras's batch / epoch numbers (batch hooks only in
the modes where Keras calls them: those whose batch hooks the callback implements), and it
knows the model and the fit's params; ``then(callback)`` checks what the callback did.
"""
from __future__ import annotations

import copy
import pickle

import numpy as np

from tkeras import callbacks as cbks
from tkeras.layers import Dense
from tkeras.models import Sequential
from tkeras.optimizers import SGD

HOOKS = ("on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end",
         "on_train_batch_begin", "on_train_batch_end", "on_test_begin", "on_test_end",
         "on_test_batch_begin", "on_test_batch_end", "on_predict_begin", "on_predict_end",
         "on_predict_batch_begin", "on_predict_batch_end")


def small_data(n=32, d=4, seed=0):
    rng = np.random.RandomState(seed)
    x = rng.rand(n, d).astype("float32")
    return x, x.sum(axis=1, keepdims=True)


def small_model(lr=0.01, d=4):
    model = Sequential([Dense(3, activation="relu", input_shape=(d,)), Dense(1)])
    model.compile(optimizer=SGD(lr=lr), loss="mse", metrics=["mae"])
    return model


def _epoch(e):
    return [("on_epoch_begin", e),
            ("on_train_batch_begin", 0), ("on_train_batch_end", 0),
            ("on_train_batch_begin", 1), ("on_train_batch_end", 1),
            ("on_test_begin",), ("on_test_batch_begin", 0), ("on_test_batch_end", 0),
            ("on_test_end",), ("on_epoch_end", e)]


# Keras's hook calls for fit(8 samples, batch_size=4, epochs=2, validation_data=4 samples),
# then evaluate and predict of one batch each.
KERAS_HOOK_ORDER = ([("on_train_begin",)] + _epoch(0) + _epoch(1) + [("on_train_end",)]
                    + [("on_test_begin",), ("on_test_batch_begin", 0), ("on_test_batch_end", 0),
                       ("on_test_end",)]
                    + [("on_predict_begin",), ("on_predict_batch_begin", 0),
                       ("on_predict_batch_end", 0), ("on_predict_end",)])


MODES = {"train": "on_train_batch", "test": "on_test_batch", "predict": "on_predict_batch"}


def keras_hook_order(batch_hooks=tuple(MODES)):
    """KERAS_HOOK_ORDER without the batch hooks of the modes not in ``batch_hooks``."""
    skipped = tuple(MODES[mode] for mode in MODES if mode not in batch_hooks)
    return [call for call in KERAS_HOOK_ORDER if not call[0].startswith(skipped)]


def _record_hooks(callback, calls: list) -> None:
    """Wraps the instance's hooks to record (hook, batch or epoch) before running them. The
    wrappers must not change which batch hooks the loops call: the callback keeps its answer."""
    implements = {mode: callback._implements_batch_hooks(mode) for mode in MODES}
    callback._implements_batch_hooks = implements.__getitem__
    for name in HOOKS:
        original = getattr(callback, name)

        def hook(*args, _name=name, _original=original, **kwargs):
            calls.append((_name,) + tuple(a for a in args if isinstance(a, int)))
            return _original(*args, **kwargs)
        setattr(callback, name, hook)


def check_callback(factory, batch_hooks=(), picklable: bool = True, then=None) -> None:
    """Runs the shared callback checks on ``factory()``.

    Args:
        factory: zero-argument callable returning a fresh callback.
        batch_hooks: the modes ("train", "test", "predict") whose batch hooks Keras calls for
            this callback alone (it implements them).
        picklable: whether a pickle round trip must work (Keras's own callback pickles).
        then: ``then(callback)`` checks what the callback did in the fit.
    """
    callback = factory()
    assert isinstance(callback, cbks.Callback) and callback.model is None
    for clone in [copy.deepcopy(callback)] + ([pickle.loads(pickle.dumps(callback))]
                                              if picklable else []):
        assert type(clone) is type(callback) and sorted(vars(clone)) == sorted(vars(callback))

    model, (x, y) = small_model(), small_data(8)
    calls: list = []
    _record_hooks(callback, calls)
    model.fit(x, y, batch_size=4, epochs=2, validation_data=(x[:4], y[:4]), callbacks=[callback],
              verbose=0)
    assert callback.model is model
    assert callback.params["epochs"] == 2 and callback.params["steps"] == 2
    if then is not None:
        then(callback)
    model.evaluate(x, y, batch_size=8, callbacks=[callback], verbose=0)
    model.predict(x, batch_size=8, callbacks=[callback])
    assert calls == keras_hook_order(batch_hooks)
