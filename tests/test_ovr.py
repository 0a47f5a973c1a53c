"""OneVsRestLogistic against scikit-learn's OneVsRestClassifier and its contracts."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import sklearn
from sklearn.datasets import (
    load_iris,
    make_classification,
    make_multilabel_classification,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.preprocessing import StandardScaler

from sksoftmax import OneVsRestLogistic
from sksoftmax._loss import binary_objective


def multilabel_data(random_state=0, n_samples=300):
    X, Y = make_multilabel_classification(
        n_samples=n_samples,
        n_features=15,
        n_classes=5,
        n_labels=2,
        random_state=random_state,
    )
    return StandardScaler().fit_transform(X), Y


def multiclass_data():
    X, y = make_classification(
        n_samples=400,
        n_features=10,
        n_informative=6,
        n_classes=4,
        flip_y=0.1,
        random_state=0,
    )
    return X, y


def per_label_objectives(model, X, Y, C, sample_weight=None):
    """Each label's objective C * sum s logloss + 0.5 ||w||^2, computed alike."""
    W = (
        np.vstack([np.ravel(e.coef_) for e in model.estimators_])
        if hasattr(model, "estimators_")
        else model.coef_
    )
    b = (
        np.hstack([np.ravel(e.intercept_) for e in model.estimators_])
        if hasattr(model, "estimators_")
        else model.intercept_
    )
    return np.array(
        [
            binary_objective(
                W[k : k + 1], b[k : k + 1], X, Y[:, k : k + 1], sample_weight, C
            )[0]
            for k in range(Y.shape[1])
        ]
    )


def _fit_pair(X, y, C, sample_weight=None):
    ours = OneVsRestLogistic(C=C, tol=1e-10).fit(X, y, sample_weight=sample_weight)
    base = LogisticRegression(C=C, tol=1e-12, max_iter=20_000)
    with (
        warnings.catch_warnings(),
        sklearn.config_context(enable_metadata_routing=True),
    ):
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref = OneVsRestClassifier(base.set_fit_request(sample_weight=True))
        ref.fit(X, y, sample_weight=sample_weight)
    return ours, ref


@pytest.mark.parametrize("C", [0.1, 1.0, 100.0])
@pytest.mark.usefixtures("lbfgs_route")
def test_parity_multilabel(C):
    X, Y = multilabel_data()
    ours, ref = _fit_pair(X, Y, C)
    f_ours = per_label_objectives(ours, X, Y, C)
    f_ref = per_label_objectives(ref, X, Y, C)
    np.testing.assert_allclose(f_ours, f_ref, rtol=1e-6)
    assert np.all(f_ours <= f_ref * (1 + 1e-6))
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-4)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))
    np.testing.assert_array_equal(ours.classes_, ref.classes_)


@pytest.mark.parametrize("C", [0.1, 1.0, 100.0])
@pytest.mark.usefixtures("lbfgs_route")
def test_parity_multiclass(C):
    X, y = multiclass_data()
    ours, ref = _fit_pair(X, y, C)
    Y = (y[:, None] == np.unique(y)).astype(int)
    np.testing.assert_allclose(
        per_label_objectives(ours, X, Y, C),
        per_label_objectives(ref, X, Y, C),
        rtol=1e-6,
    )
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-4)
    np.testing.assert_allclose(ours.predict_proba(X).sum(axis=1), 1.0, atol=1e-12)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))


@pytest.mark.usefixtures("lbfgs_route")
def test_parity_with_sample_weight():
    X, Y = multilabel_data()
    sample_weight = np.random.default_rng(1).uniform(0.2, 2.0, size=X.shape[0])
    ours, ref = _fit_pair(X, Y, 1.0, sample_weight)
    np.testing.assert_allclose(
        per_label_objectives(ours, X, Y, 1.0, sample_weight),
        per_label_objectives(ref, X, Y, 1.0, sample_weight),
        rtol=1e-6,
    )
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-4)


@pytest.mark.usefixtures("lbfgs_route")
def test_parity_balanced_class_weight_multilabel():
    X, Y = multilabel_data()
    ours = OneVsRestLogistic(class_weight="balanced", tol=1e-10).fit(X, Y)
    ref = OneVsRestClassifier(
        LogisticRegression(class_weight="balanced", tol=1e-12, max_iter=20_000)
    ).fit(X, Y)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-4)


def test_binary_target_is_single_logistic_regression():
    X, y = make_classification(n_samples=300, n_features=6, random_state=3)
    ours = OneVsRestLogistic(tol=1e-10).fit(X, y)
    ref = LogisticRegression(tol=1e-12, max_iter=10_000).fit(X, y)
    assert ours.coef_.shape == (1, 6)
    assert ours.decision_function(X).shape == (300,)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-6)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))


def test_multilabel_outputs_shapes_and_threshold():
    X, Y = multilabel_data()
    clf = OneVsRestLogistic().fit(X, Y)
    proba = clf.predict_proba(X)
    assert proba.shape == Y.shape
    assert np.all((proba > 0) & (proba < 1))
    # independent probabilities: rows need not sum to one
    assert np.abs(proba.sum(axis=1) - 1).max() > 0.1
    pred = clf.predict(X)
    assert pred.shape == Y.shape and pred.dtype == Y.dtype
    np.testing.assert_array_equal(pred, (proba >= 0.5).astype(Y.dtype))
    strict = OneVsRestLogistic(threshold=0.9).fit(X, Y)
    np.testing.assert_array_equal(strict.predict(X), (proba >= 0.9).astype(Y.dtype))
    assert strict.predict(X).sum() < pred.sum()
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(X)), proba, rtol=1e-12)
    assert clf.score(X, Y) == pytest.approx(np.mean(np.all(pred == Y, axis=1)))


def test_sparse_indicator_target_and_sparse_X():
    X, Y = multilabel_data()
    dense = OneVsRestLogistic(tol=1e-8).fit(X, Y)
    sparse = OneVsRestLogistic(tol=1e-8).fit(sp.csr_matrix(X), sp.csr_matrix(Y))
    np.testing.assert_allclose(sparse.coef_, dense.coef_, atol=1e-6)
    np.testing.assert_array_equal(sparse.predict(X), dense.predict(X))


@pytest.mark.usefixtures("lbfgs_route")
def test_constant_label_predicts_constant_with_warning():
    X, Y = multilabel_data()
    Y = Y.copy()
    Y[:, 1] = 0
    Y[:, 3] = 1
    with pytest.warns(UserWarning, match=r"\[1, 3\].*constant"):
        clf = OneVsRestLogistic().fit(X, Y)
    pred = clf.predict(X)
    assert np.all(pred[:, 1] == 0) and np.all(pred[:, 3] == 1)
    assert np.all(np.isfinite(clf.predict_log_proba(X)))
    reference = OneVsRestLogistic().fit(X, np.delete(Y, [1, 3], axis=1))
    np.testing.assert_allclose(
        clf.predict_proba(X)[:, [0, 2, 4]], reference.predict_proba(X), atol=1e-10
    )


@pytest.mark.usefixtures("lbfgs_route")
def test_easy_and_hard_labels_each_meet_tol():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 8))
    X[:, 1] *= 30.0  # the second label depends on a badly scaled feature
    Y = np.column_stack([X[:, 0] > 0, (X[:, 1] + rng.normal(size=500) * 5) > 0])
    clf = OneVsRestLogistic(C=100.0, tol=1e-8).fit(X, Y.astype(int))
    for k in range(2):
        single = OneVsRestLogistic(C=100.0, tol=1e-8).fit(X, Y[:, k].astype(int))
        np.testing.assert_allclose(clf.coef_[k], single.coef_[0], rtol=1e-5, atol=1e-7)
    assert clf.n_iter_.shape == (2,)


@pytest.mark.parametrize(
    "make_y, message",
    [
        (lambda Y: Y * 2, "only 0 and"),
        (lambda Y: Y.astype(float) + 0.5, "only 0 and"),
        (lambda Y: np.where(np.arange(Y.size).reshape(Y.shape) == 0, np.nan, Y), "NaN"),
        (lambda Y: Y[:-1], "inconsistent"),
        (lambda Y: Y[..., None], "dim"),
    ],
)
def test_bad_targets(make_y, message):
    X, Y = multilabel_data()
    with pytest.raises(ValueError, match=message):
        OneVsRestLogistic().fit(X, make_y(Y))


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
def test_non_indicator_values_are_named(sparse):
    """The error names the values other than 0 and 1, sorted, dense or
    sparse (whose explicit zeros are fine)."""
    X, Y = multilabel_data()
    Y = Y.astype(float)
    Y[0, 0], Y[1, 1], Y[2, 0] = 3.0, -1.0, 3.0
    Y = sp.csr_matrix(Y) if sparse else Y
    with pytest.raises(ValueError, match=r"found the values \[-1\.\s+3\.\]"):
        OneVsRestLogistic().fit(X, Y)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_X(bad):
    X, Y = multilabel_data()
    X = X.copy()
    X[0, 0] = bad
    with pytest.raises(ValueError, match="NaN|infinity"):
        OneVsRestLogistic().fit(X, Y)


def test_wrong_number_of_features_at_predict():
    X, Y = multilabel_data()
    clf = OneVsRestLogistic().fit(X, Y)
    with pytest.raises(ValueError, match="features"):
        clf.predict(X[:, :-1])


def test_extreme_logits_no_warning():
    X, Y = multilabel_data()
    clf = OneVsRestLogistic().fit(X, Y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        X_far = X * 1e6
        log_proba = clf.predict_log_proba(X_far)
        proba = clf.predict_proba(X_far)
        clf_far = OneVsRestLogistic(max_iter=50)
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf_far.fit(X_far, Y)
    assert np.all(np.isfinite(log_proba)) and log_proba.min() < -1e3
    assert np.all((proba >= 0) & (proba <= 1))
    assert np.all(np.isfinite(clf_far.coef_))


def test_pandas_pickle_and_caller_arrays():
    X, Y = multilabel_data()
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    X_copy, Y_copy = X.copy(), Y.copy()
    clf = OneVsRestLogistic().fit(frame, Y)
    np.testing.assert_array_equal(clf.feature_names_in_, frame.columns.to_numpy())
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(
        restored.predict_proba(frame), clf.predict_proba(frame)
    )
    np.testing.assert_array_equal(X, X_copy)
    np.testing.assert_array_equal(Y, Y_copy)


def test_string_labels_multiclass():
    X, y = load_iris(return_X_y=True)
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    clf = OneVsRestLogistic().fit(X, names)
    np.testing.assert_array_equal(clf.classes_, np.unique(names))
    assert clf.score(X, names) > 0.8


# -- issue 12: prediction details, against scikit-learn's OneVsRestClassifier ---


def _reference_ovr(X, y):
    return OneVsRestClassifier(LogisticRegression(C=1.0, tol=1e-12)).fit(X, y)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
def test_multiclass_proba_far_below_every_boundary_is_not_nan(sparse):
    """Defect 7: when every label's score is below about -745, expit
    underflows to 0 for all of them; normalised in log space the rows stay
    finite, sum to one and equal exp(predict_log_proba)."""
    X, y = multiclass_data()
    clf = OneVsRestLogistic().fit(X, y)
    # Far along a direction that lowers every label's score by the same rate
    # (coef_ @ direction = -1): each score goes below -745.
    direction = np.linalg.lstsq(clf.coef_, -np.ones(len(clf.classes_)), rcond=None)[0]
    far = np.outer([1e4, 1e5, 1e6], direction)
    assert (clf.decision_function(far) < -745).all()
    far = sp.csr_matrix(far) if sparse else far
    proba = clf.predict_proba(far)
    assert np.all(np.isfinite(proba))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    log_proba = clf.predict_log_proba(far)
    np.testing.assert_allclose(proba, np.exp(log_proba), rtol=1e-12, atol=0)
    np.testing.assert_array_equal(clf.classes_[proba.argmax(axis=1)], clf.predict(far))


@pytest.mark.parametrize("target", ["binary", "indicator"])
def test_decision_exactly_zero_predicts_negative_like_sklearn(target):
    """Defect 10: a score of exactly 0 (threshold 0.5) is the negative class,
    as scikit-learn's OneVsRestClassifier (decision > 0) and
    SoftmaxRegression predict."""
    X, Y = multilabel_data()
    y = Y if target == "indicator" else Y[:, 0]
    zeros = np.zeros((3, X.shape[1]))
    ours = OneVsRestLogistic(fit_intercept=False).fit(X, y)
    np.testing.assert_array_equal(ours.decision_function(zeros), 0.0)
    base = LogisticRegression(fit_intercept=False)
    reference = OneVsRestClassifier(base).fit(X, y)
    np.testing.assert_array_equal(ours.predict(zeros), reference.predict(zeros))
    assert not np.any(ours.predict(zeros))


def test_constant_labels_get_exactly_zero_and_one_like_sklearn():
    """Defect 11: a label always 0 in training has probability exactly 0.0,
    one always 1 exactly 1.0, as scikit-learn's constant predictors; the
    log-probabilities stay finite."""
    X, Y = multilabel_data()
    Y = Y.copy()
    Y[:, 1] = 0
    Y[:, 3] = 1
    with pytest.warns(UserWarning, match="constant"):
        ours = OneVsRestLogistic().fit(X, Y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        reference = _reference_ovr(X, Y)
    expected = reference.predict_proba(X)[:, [1, 3]]
    np.testing.assert_array_equal(ours.predict_proba(X)[:, [1, 3]], expected)
    for data in (X, X.astype(np.float32), 1e3 * X):
        proba = ours.predict_proba(data)
        assert np.all(proba[:, 1] == 0.0) and np.all(proba[:, 3] == 1.0)
        assert np.all(np.isfinite(ours.predict_log_proba(data)))


@pytest.mark.parametrize("labels", [[0], ["only"]], ids=["int", "str"])
def test_single_class_1d_target_fits_constant_predictor_with_warning(labels):
    """Defect 12: as OneVsRestClassifier, 1-D y of a single class fits a
    constant predictor and warns, instead of raising."""
    X, _ = multiclass_data()
    y = np.array(labels * X.shape[0])
    with pytest.warns(UserWarning, match="single class"):
        ours = OneVsRestLogistic().fit(X, y)
    with pytest.warns(UserWarning, match="present in all training examples"):
        reference = _reference_ovr(X, y)
    np.testing.assert_array_equal(ours.classes_, reference.classes_)
    np.testing.assert_array_equal(ours.predict(X), reference.predict(X))
    # One column for the one class (scikit-learn pads a second column of 0
    # that names no class).
    np.testing.assert_array_equal(ours.predict_proba(X), 1.0)
    assert ours.predict_proba(X).shape == (X.shape[0], 1)
    np.testing.assert_array_equal(ours.predict_log_proba(X), 0.0)
