"""The L1 solvers (sksoftmax._proximal): the split L-BFGS-B's early hand-over
to Newton on a settled support, and its direct Newton systems, each against
the same fit without it."""

import numpy as np
import pytest
from sklearn.datasets import make_classification

import sksoftmax._objective as objective_module
import sksoftmax._proximal as proximal
from sksoftmax import OneVsRestLogistic, SoftmaxRegression


def _data(n_classes):
    return make_classification(
        n_samples=1500,
        n_features=40,
        n_informative=10,
        n_classes=n_classes,
        n_clusters_per_class=1,
        random_state=0,
    )


def _objective_value(model, X, y):
    Z = X @ model.coef_.T + model.intercept_
    if isinstance(model, OneVsRestLogistic):
        T = y[:, None] == model.classes_[1:]
        data = (np.logaddexp(0, Z) - T * Z).sum()
    else:
        data = (np.logaddexp.reduce(Z, axis=1) - Z[np.arange(len(y)), y]).sum()
    W, r = model.coef_, model.l1_ratio
    return model.C * data + (1 - r) / 2 * (W**2).sum() + r * np.abs(W).sum()


CASES = [
    (SoftmaxRegression, 4, 1.0),
    (SoftmaxRegression, 4, 0.5),
    (OneVsRestLogistic, 2, 1.0),
]


@pytest.mark.parametrize("Estimator,n_classes,l1_ratio", CASES)
def test_newton_takes_over_once_the_support_settles(
    Estimator, n_classes, l1_ratio, monkeypatch
):
    X, y = _data(n_classes)
    fit = Estimator(C=0.05, l1_ratio=l1_ratio, tol=1e-9)
    early = fit.fit(X, y)
    early_iter, early_coef = early.n_iter_.max(), early.coef_.copy()
    early_value = _objective_value(early, X, y)
    monkeypatch.setattr(proximal, "MAX_EARLY_REFINES", 0)
    late = Estimator(C=0.05, l1_ratio=l1_ratio, tol=1e-9).fit(X, y)
    assert early_iter < late.n_iter_.max()
    if Estimator is OneVsRestLogistic or l1_ratio < 1:  # a unique minimiser
        np.testing.assert_array_equal(early_coef == 0, late.coef_ == 0)
    late_value = _objective_value(late, X, y)
    assert early_value <= late_value * (1 + 1e-12)


@pytest.mark.parametrize("Estimator,n_classes,l1_ratio", CASES)
def test_direct_newton_systems_reach_the_conjugate_gradients_minimum(
    Estimator, n_classes, l1_ratio, monkeypatch
):
    X, y = _data(n_classes)
    calls = []
    original = objective_module.SecondOrder.support_hessians

    def counted(self, free):
        calls.append(int(free.sum()))
        return original(self, free)

    monkeypatch.setattr(objective_module.SecondOrder, "support_hessians", counted)
    direct = Estimator(C=0.05, l1_ratio=l1_ratio, tol=1e-10).fit(X, y)
    assert calls
    calls.clear()
    monkeypatch.setattr(proximal, "DENSE_NEWTON_MAX_COST", -1.0)
    iterative = Estimator(C=0.05, l1_ratio=l1_ratio, tol=1e-10).fit(X, y)
    assert not calls
    value = _objective_value(direct, X, y)
    assert value <= _objective_value(iterative, X, y) * (1 + 1e-12)
    if Estimator is OneVsRestLogistic or l1_ratio < 1:
        # A unique minimiser. (The softmax lasso's is not: moving a column
        # of W alike in every class leaves the loss as it is, and the L1
        # norm too while the signs balance.)
        np.testing.assert_allclose(direct.coef_, iterative.coef_, rtol=1e-6, atol=1e-8)


def test_flat_directions_are_the_columns_moved_alike_without_curvature():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(6, 6))
    H = A @ A.T
    # Rows 0-1 of a (2, 3) coef, all free; column 1 made flat.
    positions = np.arange(6)
    v = np.zeros(6)
    v[[1, 4]] = 1 / np.sqrt(2)
    P = np.eye(6) - np.outer(v, v)
    flat = proximal._flat_directions(positions, P @ H @ P, (2, 3))
    np.testing.assert_allclose(np.abs(flat[:, 0]), v)
    assert flat.shape == (6, 1)
    assert proximal._flat_directions(positions, H, (2, 3)).shape == (6, 0)
