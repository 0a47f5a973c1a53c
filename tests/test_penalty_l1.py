"""The L1 part of the penalty (l1_ratio, l1_groups): optimality, exact
zeros, agreement with scikit-learn's saga, dask, sparsify."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.multiclass import OneVsRestClassifier
from sklearn_compat import l1_logistic_regression

from sksoftmax import (
    OneVsRestLogistic,
    OneVsRestLogisticCV,
    SoftmaxRegression,
    SoftmaxRegressionCV,
)
from sksoftmax._penalty import SolverScale


def _data(n_classes=3, n_samples=300, n_features=12, seed=0):
    X, y = make_classification(
        n_samples=n_samples,
        n_features=n_features,
        n_informative=4,
        n_redundant=2,
        n_classes=n_classes,
        n_clusters_per_class=1,
        random_state=seed,
    )
    return X, y


def _gradient(model, X, y, fit_intercept):
    """Gradient of the smooth part, ``C sum CE + (1 - r)/2 ||W||^2``, at
    scikit-learn's scale, computed here from scratch."""
    X = X.toarray() if sp.issparse(X) else np.asarray(X)
    X = X.astype(np.float64)
    W = model.coef_.astype(np.float64)
    b = model.intercept_.astype(np.float64)
    Z = X @ W.T + b
    if isinstance(model, OneVsRestLogistic) or W.shape[0] == 1:
        classes = model.classes_[1:] if W.shape[0] == 1 else model.classes_
        T = (y[:, None] == classes[None, :]).astype(float)
        R = 1.0 / (1.0 + np.exp(-Z)) - T
    else:
        P = np.exp(Z - Z.max(axis=1, keepdims=True))
        P /= P.sum(axis=1, keepdims=True)
        R = P - (y[:, None] == model.classes_[None, :])
    C, r = model.C, model.l1_ratio
    gW = C * R.T @ X + (1 - r) * W
    gb = C * R.sum(axis=0)
    return gW, gb


def _objective(model, X, y):
    """scikit-learn's objective with the L1 part, from scratch."""
    X = X.toarray() if sp.issparse(X) else np.asarray(X, dtype=np.float64)
    W = model.coef_.astype(np.float64)
    Z = X @ W.T + model.intercept_
    if isinstance(model, OneVsRestLogistic) or W.shape[0] == 1:
        classes = model.classes_[1:] if W.shape[0] == 1 else model.classes_
        T = y[:, None] == classes[None, :]
        data = (np.logaddexp(0, Z) - T * Z).sum()
    else:
        top = Z.max(axis=1)
        lse = np.log(np.exp(Z - top[:, None]).sum(axis=1)) + top
        data = (lse - Z[np.arange(len(y)), np.searchsorted(model.classes_, y)]).sum()
    r = model.l1_ratio
    penalty = (1 - r) / 2 * (W**2).sum()
    if getattr(model, "l1_groups", None) == "features":
        penalty += r * np.linalg.norm(W, axis=0).sum()
    else:
        penalty += r * np.abs(W).sum()
    return model.C * data + penalty


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("Estimator", [SoftmaxRegression, OneVsRestLogistic])
def test_lasso_kkt_conditions(Estimator, fit_intercept, sparse, dtype):
    X, y = _data()
    X = X.astype(dtype)
    if sparse:
        X = sp.csr_matrix(np.where(np.abs(X) > 0.5, X, 0))
    C, r = 0.5, 0.7
    model = Estimator(C=C, l1_ratio=r, tol=1e-9, fit_intercept=fit_intercept).fit(X, y)
    gW, gb = _gradient(model, X, y, fit_intercept)
    W = model.coef_.astype(np.float64)
    assert np.any(W == 0) and np.any(W != 0)
    # The solver's tol is at scale 1 / (C n): the KKT slack at
    # scikit-learn's scale is tol * C * n, plus float32 rounding.
    slack = (1e-9 if dtype == np.float64 else 1e-4) * C * X.shape[0] + 1e-8
    zero = W == 0
    assert np.all(np.abs(gW[zero]) <= r + slack)
    np.testing.assert_allclose(
        gW[~zero] + r * np.sign(W[~zero]), 0, atol=slack * (1 + r)
    )
    if fit_intercept:
        np.testing.assert_allclose(gb, 0, atol=slack)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_grouped_penalty_kkt_conditions(fit_intercept, sparse):
    X, y = _data(n_classes=4, n_features=15, seed=3)
    if sparse:
        X = sp.csr_matrix(np.where(np.abs(X) > 0.3, X, 0))
    r = 0.8
    model = SoftmaxRegression(
        C=0.05, l1_ratio=r, l1_groups="features", tol=1e-9, fit_intercept=fit_intercept
    ).fit(X, y)
    gW, gb = _gradient(model, X, y, fit_intercept)
    W = model.coef_
    norms = np.linalg.norm(W, axis=0)
    zero = norms == 0
    assert zero.any() and (~zero).any()
    slack = 1e-9 * model.C * X.shape[0] * 10 + 1e-9
    assert np.all(np.linalg.norm(gW[:, zero], axis=0) <= r + slack)
    np.testing.assert_allclose(
        gW[:, ~zero] + r * W[:, ~zero] / norms[~zero], 0, atol=slack
    )
    # Whole columns vanish: a feature is dropped for every class.
    assert np.all((W == 0) == zero[None, :])
    if fit_intercept:
        np.testing.assert_allclose(gb, 0, atol=slack)


@pytest.mark.parametrize("C,l1_ratio", [(0.05, 1.0), (0.5, 1.0), (0.2, 0.5)])
def test_softmax_matches_saga(C, l1_ratio):
    X, y = _data(n_classes=3, n_samples=200, n_features=8, seed=1)
    ours = SoftmaxRegression(C=C, l1_ratio=l1_ratio, tol=1e-10).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        saga = l1_logistic_regression(
            solver="saga", C=C, l1_ratio=l1_ratio, tol=1e-12, max_iter=20000
        ).fit(X, y)
    f_ours, f_saga = _objective(ours, X, y), _objective(saga, X, y)
    assert f_ours <= f_saga * (1 + 1e-6)
    # With three classes the lasso optimum is unique (median of an odd
    # number of class coefficients), so the supports compare.
    if saga.n_iter_[0] < 20000:
        np.testing.assert_array_equal(ours.coef_ == 0, np.abs(saga.coef_) < 1e-6)


def test_ovr_matches_sklearn_binary_lasso():
    X, y = _data(n_classes=3, n_samples=200, n_features=8, seed=2)
    C = 0.1
    ours = OneVsRestLogistic(C=C, l1_ratio=1.0, tol=1e-10).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = OneVsRestClassifier(
            l1_logistic_regression(
                solver="saga", C=C, l1_ratio=1.0, tol=1e-12, max_iter=20000
            )
        ).fit(X, y)
    coef = np.vstack([e.coef_ for e in reference.estimators_])
    intercept = np.concatenate([e.intercept_ for e in reference.estimators_])
    clone = OneVsRestLogistic(C=C, l1_ratio=1.0).fit(X, y)
    clone.coef_, clone.intercept_ = coef, intercept
    assert _objective(ours, X, y) <= _objective(clone, X, y) * (1 + 1e-6)
    np.testing.assert_array_equal(ours.coef_ == 0, np.abs(coef) < 1e-6)


@pytest.mark.parametrize("Estimator", [SoftmaxRegression, OneVsRestLogistic])
def test_l1_ratio_zero_is_the_l2_fit(Estimator):
    X, y = _data()
    a = Estimator(C=0.3).fit(X, y)
    b = Estimator(C=0.3, l1_ratio=0.0).fit(X, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)
    assert a._solver_result.n_evaluations == b._solver_result.n_evaluations


def test_elastic_net_split_is_one_convention():
    scale = SolverScale.from_weights(2.0, None, n_samples=10)
    l2, l1 = scale.elastic_net(0.25)
    assert float(l2) == pytest.approx(0.75 / 20) and float(l1) == pytest.approx(
        0.25 / 20
    )
    l2, l1 = scale.elastic_net(0.0)
    assert float(l2) == float(scale.l2) and float(l1) == 0.0


def test_inf_C_has_no_penalty_with_l1_ratio(overlapping_classes):
    X, y = overlapping_classes
    a = SoftmaxRegression(C=np.inf).fit(X, y)
    b = SoftmaxRegression(C=np.inf, l1_ratio=1.0).fit(X, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)


@settings(max_examples=10, deadline=None)
@given(
    C=st.floats(0.01, 2.0),
    l1_ratio=st.floats(0.05, 1.0),
    seed=st.integers(0, 50),
)
def test_stronger_l1_never_adds_nonzeros_at_the_smallest_C(C, l1_ratio, seed):
    """Exact zeros appear, and a near-zero C zeros every coefficient."""
    X, y = _data(n_samples=120, n_features=6, seed=seed)
    model = OneVsRestLogistic(C=C, l1_ratio=l1_ratio, tol=1e-8).fit(X, y)
    gW, _ = _gradient(model, X, y, True)
    zero = model.coef_ == 0
    assert np.all(np.abs(gW[zero]) <= l1_ratio + 1e-6)
    tiny = OneVsRestLogistic(C=1e-4, l1_ratio=1.0).fit(X, y)
    assert np.all(tiny.coef_ == 0)


def test_grouped_penalty_needs_softmax_and_valid_values():
    X, y = _data()
    with pytest.raises(ValueError, match="l1_groups"):
        SoftmaxRegression(l1_groups="classes").fit(X, y)
    with pytest.raises(ValueError, match="l1_ratio"):
        SoftmaxRegression(l1_ratio=1.5).fit(X, y)
    with pytest.raises(TypeError):
        OneVsRestLogistic(l1_groups="features")


@pytest.mark.parametrize(
    "Estimator, grid",
    [
        (SoftmaxRegression, "l1_ratio"),
        (OneVsRestLogistic, "l1_ratio"),
        (SoftmaxRegressionCV, "l1_ratios"),
        (OneVsRestLogisticCV, "l1_ratios"),
    ],
)
def test_penalty_keyword_points_to_l1_ratio(Estimator, grid):
    with pytest.raises(TypeError, match=f"no 'penalty' parameter.*set by {grid} "):
        Estimator(penalty="l1")


def test_not_converged_warns():
    X, y = _data()
    with pytest.warns(ConvergenceWarning):
        SoftmaxRegression(C=10.0, l1_ratio=1.0, max_iter=2, tol=1e-12).fit(X, y)


@pytest.mark.parametrize("Estimator", [SoftmaxRegression, OneVsRestLogistic])
def test_sparsify_densify_keep_predictions(Estimator):
    X, y = _data()
    model = Estimator(C=0.1, l1_ratio=1.0).fit(X, y)
    dense = model.decision_function(X)
    proba = model.predict_proba(X)
    assert model.sparsify() is model and sp.issparse(model.coef_)
    np.testing.assert_array_equal(model.decision_function(X), dense)
    np.testing.assert_array_equal(model.predict_proba(X), proba)
    np.testing.assert_array_equal(model.predict(sp.csr_matrix(X)), model.predict(X))
    assert model.densify() is model and isinstance(model.coef_, np.ndarray)
    np.testing.assert_array_equal(model.decision_function(X), dense)


def test_dask_fit_matches_in_memory():
    da = pytest.importorskip("dask.array")
    X, y = _data(n_samples=400)
    memory = SoftmaxRegression(C=0.2, l1_ratio=1.0, tol=1e-10).fit(X, y)
    chunked = SoftmaxRegression(C=0.2, l1_ratio=1.0, tol=1e-10).fit(
        da.from_array(X, chunks=(130, -1)), da.from_array(y, chunks=130)
    )
    np.testing.assert_allclose(chunked.coef_, memory.coef_, atol=1e-8)
    np.testing.assert_array_equal(chunked.coef_ == 0, memory.coef_ == 0)


@pytest.mark.parametrize(
    "Estimator",
    [SoftmaxRegression, OneVsRestLogistic, SoftmaxRegressionCV, OneVsRestLogisticCV],
)
def test_constructor_signature_survives_the_penalty_check(Estimator):
    """help() and the docs show the real parameters, not (*args, **kwargs)."""
    import inspect

    parameters = inspect.signature(Estimator).parameters
    assert "tol" in parameters and "self" not in parameters
    assert not any(p.kind is p.VAR_KEYWORD for p in parameters.values())
