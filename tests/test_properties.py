"""Properties of both estimators that hold for every data set (issue 12).

Hypothesis draws small problems, dense or sparse, with or without an
intercept: exclusive classes for SoftmaxRegression and OneVsRestLogistic,
overlapping labels for OneVsRestLogistic. Each property is checked against
an independent computation (the other output, a refit on transformed data,
the objective from :mod:`sksoftmax._loss`), never against stored numbers.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.special import expit

from sksoftmax import OneVsRestLogistic, SoftmaxRegression
from sksoftmax._loss import binary_objective, multinomial_objective

# Small problems and few examples keep the module to a few seconds per
# property; derandomised so that CI sees the same examples every run.
PROPERTY_SETTINGS = settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# Fits compared with each other run to this tol; with Newton refinement on
# such small problems they end near rounding level, far inside the
# comparison tolerances below.
TIGHT_TOL = 1e-10
PROBA_ATOL = 1e-6
# Probabilities closer than this are ties that rounding may break either way.
TIE = 1e-12
# Slack for "never higher" between two objective values at rounding level.
OBJECTIVE_SLACK = 1e-9

KINDS = ["softmax", "ovr-classes", "ovr-indicator"]


@st.composite
def problems(draw, kind):
    """``(X, y, fit_intercept, C)``: X dense or CSR; y 1-D classes (every
    class present) or a 0/1 matrix (every label with both values)."""
    n_samples = draw(st.integers(8, 24))
    n_features = draw(st.integers(1, 4))
    X = draw(
        arrays(
            np.float64,
            (n_samples, n_features),
            elements=st.floats(-4, 4, allow_subnormal=False, width=64),
        )
    )
    if kind == "ovr-indicator":
        n_labels = draw(st.integers(2, 3))
        y = draw(arrays(np.int64, (n_samples, n_labels), elements=st.integers(0, 1)))
        y[0], y[1] = 0, 1
    else:
        n_classes = draw(st.integers(2, 4))
        y = draw(arrays(np.int64, n_samples, elements=st.integers(0, n_classes - 1)))
        y[:n_classes] = np.arange(n_classes)
    if draw(st.booleans()):
        X = sp.csr_matrix(X)
    fit_intercept = draw(st.booleans())
    C = draw(st.sampled_from([0.1, 1.0, 10.0]))
    return X, y, fit_intercept, C


def estimator(kind, fit_intercept, C, tol=TIGHT_TOL):
    Estimator = SoftmaxRegression if kind == "softmax" else OneVsRestLogistic
    return Estimator(C=C, fit_intercept=fit_intercept, tol=tol, max_iter=5000)


def fit(kind, X, y, fit_intercept, C, tol=TIGHT_TOL, sample_weight=None):
    with warnings.catch_warnings():
        # A fit stopped by rounding before a tight tol is still the optimum
        # to the precision compared here.
        warnings.simplefilter("ignore", UserWarning)
        model = estimator(kind, fit_intercept, C, tol)
        return model.fit(X, y, sample_weight=sample_weight)


def rows(X, order):
    return X[order] if sp.issparse(X) else X[order, :]


def objective(kind, model, X, y, C):
    """scikit-learn's objective of the fitted model, from sksoftmax._loss."""
    b = model.intercept_ if model.fit_intercept else None
    if kind == "ovr-indicator":
        return binary_objective(model.coef_, b, X, y, C=C)[0]
    index = np.searchsorted(model.classes_, y)
    if model.coef_.shape[0] == 1:  # two classes: one binomial row
        return binary_objective(model.coef_, b, X, (index == 1)[:, None], C=C)[0]
    if kind == "softmax":
        return multinomial_objective(model.coef_, b, X, index, C=C)[0]
    one_hot = index[:, None] == np.arange(len(model.classes_))
    return binary_objective(model.coef_, b, X, one_hot, C=C)[0]


@pytest.mark.parametrize("kind", KINDS)
@PROPERTY_SETTINGS
@given(data=st.data())
def test_probabilities_finite_and_normalised(kind, data):
    X, y, fit_intercept, C = data.draw(problems(kind))
    proba = fit(kind, X, y, fit_intercept, C).predict_proba(X)
    assert np.all(np.isfinite(proba))
    assert np.all((proba >= 0) & (proba <= 1))
    if kind != "ovr-indicator":
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)


@pytest.mark.parametrize("kind", KINDS)
@PROPERTY_SETTINGS
@given(data=st.data())
def test_predict_agrees_with_predict_proba(kind, data):
    """predict is the argmax of predict_proba (the threshold rule for
    overlapping labels), except within rounding of a tie."""
    X, y, fit_intercept, C = data.draw(problems(kind))
    model = fit(kind, X, y, fit_intercept, C)
    proba, predicted = model.predict_proba(X), model.predict(X)
    if kind == "ovr-indicator":
        clear = np.abs(proba - model.threshold) > TIE
        np.testing.assert_array_equal(
            predicted[clear], (proba > model.threshold)[clear].astype(predicted.dtype)
        )
        return
    column = np.searchsorted(model.classes_, predicted)
    chosen = proba[np.arange(len(predicted)), column]
    assert np.all(chosen >= proba.max(axis=1) - TIE)
    top_two = np.sort(proba, axis=1)[:, -2:]
    clear = top_two[:, 1] - top_two[:, 0] > TIE
    np.testing.assert_array_equal(
        predicted[clear], model.classes_[proba.argmax(axis=1)][clear]
    )


@pytest.mark.parametrize("kind", KINDS)
@PROPERTY_SETTINGS
@given(data=st.data())
def test_log_proba_is_log_of_proba(kind, data):
    X, y, fit_intercept, C = data.draw(problems(kind))
    model = fit(kind, X, y, fit_intercept, C)
    # Far from the data too, where probabilities get tiny.
    scale = data.draw(st.sampled_from([1.0, 30.0, 300.0]))
    X_new = X * scale
    proba, log_proba = model.predict_proba(X_new), model.predict_log_proba(X_new)
    assert np.all(np.isfinite(log_proba))
    shown = proba > 1e-300
    np.testing.assert_allclose(
        log_proba[shown], np.log(proba[shown]), rtol=1e-10, atol=1e-12
    )


@pytest.mark.parametrize("kind", KINDS)
@PROPERTY_SETTINGS
@given(data=st.data())
def test_invariant_to_row_order(kind, data):
    X, y, fit_intercept, C = data.draw(problems(kind))
    order = data.draw(st.permutations(range(X.shape[0])))
    model = fit(kind, X, y, fit_intercept, C)
    shuffled = fit(kind, rows(X, order), y[order], fit_intercept, C)
    np.testing.assert_allclose(
        shuffled.predict_proba(X), model.predict_proba(X), atol=PROBA_ATOL
    )


@pytest.mark.parametrize("kind", KINDS)
@PROPERTY_SETTINGS
@given(data=st.data())
def test_relabelling_permutes_outputs(kind, data):
    X, y, fit_intercept, C = data.draw(problems(kind))
    n_outputs = y.shape[1] if kind == "ovr-indicator" else len(np.unique(y))
    perm = np.array(data.draw(st.permutations(range(n_outputs))))
    model = fit(kind, X, y, fit_intercept, C)
    if kind == "ovr-indicator":
        # Label j of the new target is old label perm[j].
        relabelled = fit(kind, X, y[:, perm], fit_intercept, C)
        expected = model.predict_proba(X)[:, perm]
    else:
        # Old class c is called perm[c]; classes_ stay sorted, so the new
        # column perm[c] is the old column c.
        relabelled = fit(kind, X, perm[y], fit_intercept, C)
        expected = np.empty_like(model.predict_proba(X))
        expected[:, perm] = model.predict_proba(X)
    np.testing.assert_allclose(relabelled.predict_proba(X), expected, atol=PROBA_ATOL)


@pytest.mark.parametrize("kind", KINDS)
@PROPERTY_SETTINGS
@given(data=st.data())
def test_integer_sample_weight_equals_repeated_rows(kind, data):
    X, y, fit_intercept, C = data.draw(problems(kind))
    counts = data.draw(arrays(np.int64, X.shape[0], elements=st.integers(1, 3)))
    weighted = fit(kind, X, y, fit_intercept, C, sample_weight=counts)
    repeat = np.repeat(np.arange(X.shape[0]), counts)
    repeated = fit(kind, rows(X, repeat), y[repeat], fit_intercept, C)
    np.testing.assert_allclose(
        weighted.predict_proba(X), repeated.predict_proba(X), atol=PROBA_ATOL
    )


@pytest.mark.parametrize("kind", KINDS)
@PROPERTY_SETTINGS
@given(data=st.data())
def test_tighter_tol_never_gives_higher_objective(kind, data):
    X, y, fit_intercept, C = data.draw(problems(kind))
    loose_tol, tight_tol = sorted(
        data.draw(st.lists(st.sampled_from([1e-1, 1e-3, 1e-6, 1e-10]), min_size=2))[:2]
    )[::-1]
    loose = objective(kind, fit(kind, X, y, fit_intercept, C, loose_tol), X, y, C)
    tight = objective(kind, fit(kind, X, y, fit_intercept, C, tight_tol), X, y, C)
    assert tight <= loose + OBJECTIVE_SLACK * (1.0 + abs(loose))


def test_objective_helper_matches_the_models_probabilities():
    """The objective used above is the model's own: at the fitted binary
    model its data term is the log-loss of predict_proba."""
    X = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
    y = np.array([1, 1, 0, 0])  # x0 xor x1: not separable, a finite optimum
    model = fit("ovr-classes", X, y, True, np.inf)
    p = expit(X @ model.coef_[0] + model.intercept_[0])
    log_loss = -np.sum(np.where(y == 1, np.log(p), np.log1p(-p)))
    np.testing.assert_allclose(
        objective("ovr-classes", model, X, y, np.inf), log_loss, rtol=1e-12
    )
