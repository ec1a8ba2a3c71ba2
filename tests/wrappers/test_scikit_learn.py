"""KerasClassifier / KerasRegressor with Keras 2.3.1's API, inside scikit-learn's tools."""
import sys

import numpy as np
import pytest

import tkeras
from tkeras import layers
from tkeras.wrappers.scikit_learn import KerasClassifier, KerasRegressor

sklearn = pytest.importorskip("sklearn")
from sklearn.base import clone  # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_val_score  # noqa: E402

RNG = np.random.RandomState(0)
X = RNG.rand(30, 4).astype("float32")
Y3 = RNG.randint(0, 3, 30)


def build_classifier(hidden=6, loss="sparse_categorical_crossentropy", metrics=("accuracy",)):
    model = tkeras.Sequential([layers.Dense(hidden, activation="relu", input_shape=(4,)),
                               layers.Dense(3, activation="softmax")])
    model.compile("adam", loss, metrics=list(metrics))
    return model


def build_binary():
    model = tkeras.Sequential([layers.Dense(1, activation="sigmoid", input_shape=(4,))])
    model.compile("sgd", "binary_crossentropy", metrics=["accuracy"])
    return model


def build_regressor(units=4):
    model = tkeras.Sequential([layers.Dense(units, input_shape=(4,)), layers.Dense(1)])
    model.compile("sgd", "mse")
    return model


def test_classifier_labels_predict_proba_and_score():
    labels = np.array(["cat", "dog", "eel"])[Y3]
    clf = KerasClassifier(build_fn=build_classifier, epochs=1, batch_size=10, verbose=0)
    history = clf.fit(X, labels)
    assert len(history.history["loss"]) == 1
    assert list(clf.classes_) == ["cat", "dog", "eel"] and clf.n_classes_ == 3
    proba = clf.predict_proba(X)
    assert proba.shape == (30, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
    predicted = clf.predict(X)
    np.testing.assert_array_equal(predicted, clf.classes_[proba.argmax(axis=1)])
    np.testing.assert_allclose(clf.score(X, labels), np.mean(predicted == labels), rtol=1e-6)


def test_classifier_binary_sigmoid():
    y = (X[:, 0] > 0.5).astype(int)
    clf = KerasClassifier(build_fn=build_binary, epochs=1, verbose=0)
    clf.fit(X, y)
    raw = clf.model.predict(X, verbose=0)
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba, np.hstack([1 - raw, raw]), rtol=1e-6)
    np.testing.assert_array_equal(clf.predict(X), (raw > 0.5).astype("int32"))  # (n, 1), as Keras


def test_classifier_one_hot_and_categorical_crossentropy():
    clf = KerasClassifier(build_fn=build_classifier, loss="categorical_crossentropy", epochs=1,
                          verbose=0)
    clf.fit(X, Y3)  # integer labels, one-hot encoded for categorical_crossentropy
    assert clf.model.output_shape == (None, 3)
    assert 0 <= clf.score(X, Y3) <= 1
    one_hot = np.eye(3)[Y3]
    clf.fit(X, one_hot)
    np.testing.assert_array_equal(clf.classes_, [0, 1, 2])
    with pytest.raises(ValueError, match=r"Invalid shape for y: \(30, 3, 1\)"):
        clf.fit(X, one_hot[..., None])


def test_classifier_sample_weight_reaches_fit():
    clf = KerasClassifier(build_fn=build_classifier, epochs=1, batch_size=30, verbose=0)
    tkeras.utils.set_random_seed(1)
    initial = build_classifier().get_weights()
    tkeras.utils.set_random_seed(1)
    clf.fit(X, Y3, sample_weight=np.zeros(30))
    for got, want in zip(clf.model.get_weights(), initial):  # zero weights: no change
        np.testing.assert_allclose(got, want)
    tkeras.utils.set_random_seed(1)
    clf.fit(X, Y3)
    assert not np.allclose(clf.model.get_weights()[0], initial[0])


def test_score_needs_accuracy():
    clf = KerasClassifier(build_fn=build_classifier, metrics=(), epochs=1, verbose=0)
    clf.fit(X, Y3)
    with pytest.raises(ValueError, match=r'The model is not configured to compute accuracy. '
                                         r'You should pass `metrics=\["accuracy"\]`'):
        clf.score(X, Y3)


def test_regressor_predict_and_score():
    y = X.sum(axis=1)
    reg = KerasRegressor(build_fn=build_regressor, units=3, epochs=2, batch_size=10, verbose=0)
    reg.fit(X, y)
    assert reg.model.layers[0].units == 3
    preds = reg.predict(X)
    assert preds.shape == (30,)
    np.testing.assert_allclose(preds, reg.model.predict(X, verbose=0)[:, 0], rtol=1e-6)
    np.testing.assert_allclose(reg.score(X, y), -np.mean((preds - y) ** 2), rtol=1e-4)


def test_params_checks_and_round_trip():
    reg = KerasRegressor(build_fn=build_regressor, units=5, epochs=3, batch_size=8)
    assert reg.get_params() == {"build_fn": build_regressor, "units": 5, "epochs": 3,
                                "batch_size": 8}
    assert reg.get_params(deep=True) == reg.get_params()
    assert reg.set_params(units=7) is reg and reg.sk_params["units"] == 7
    with pytest.raises(ValueError, match="^unitz is not a legal parameter$"):
        KerasRegressor(build_fn=build_regressor, unitz=5)
    with pytest.raises(ValueError, match="^bogus is not a legal parameter$"):
        reg.set_params(bogus=1)


def test_build_fn_object_and_subclass_call():
    class Builder:
        def __call__(self, units=2):
            return build_regressor(units)

    reg = KerasRegressor(build_fn=Builder(), units=6, epochs=1, verbose=0)
    reg.fit(X, X[:, 0])
    assert reg.model.layers[0].units == 6

    class MyRegressor(KerasRegressor):
        def __call__(self, units=2):
            return build_regressor(units)

    reg = MyRegressor(units=9, epochs=1, verbose=0)
    reg.fit(X, X[:, 0])
    assert reg.model.layers[0].units == 9


def test_nb_epoch_is_renamed_with_a_warning():
    reg = KerasRegressor(build_fn=build_regressor, nb_epoch=3, verbose=0)
    with pytest.warns(tkeras.utils.TkerasDeprecationWarning,
                      match="The `nb_epoch` argument in `fit` has been renamed `epochs`."):
        history = reg.fit(X, X[:, 0])
    assert len(history.history["loss"]) == 3


def test_cross_val_score_grid_search_and_clone():
    clf = KerasClassifier(build_fn=build_classifier, epochs=1, batch_size=10, verbose=0)
    scores = cross_val_score(clf, X, Y3, cv=3)
    assert scores.shape == (3,) and np.all((0 <= scores) & (scores <= 1))
    search = GridSearchCV(clf, {"hidden": [2, 5], "epochs": [1]}, cv=2).fit(X, Y3)
    assert search.best_params_["hidden"] in (2, 5)
    assert len(search.cv_results_["params"]) == 2
    assert search.best_estimator_.model.layers[0].units == search.best_params_["hidden"]
    twin = clone(clf)
    assert twin is not clf and twin.get_params() == clf.get_params()
    reg = KerasRegressor(build_fn=build_regressor, epochs=1, verbose=0)
    scores = cross_val_score(reg, X, X.sum(axis=1), cv=2)
    assert scores.shape == (2,) and np.all(scores <= 0)


def test_missing_scikit_learn_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    with pytest.raises(ImportError, match=r"The scikit-learn wrappers need scikit-learn: "
                                          r"`pip install scikit-learn`"):
        KerasClassifier(build_fn=build_classifier)
