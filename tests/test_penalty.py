"""The one scale convention (sksoftmax._penalty) and the L2 penalty."""

import warnings

import numpy as np
import pytest

from sksoftmax._loss import multinomial_objective
from sksoftmax._penalty import MAX_L2, L2Penalty, SolverScale


@pytest.mark.parametrize("C", [1e-3, 1.0, 50.0])
def test_scale_is_weights_over_their_sum_and_one_over_C_sum(C):
    s = np.random.default_rng(0).uniform(0.1, 3.0, size=40)
    scale = SolverScale.from_weights(C, s)
    np.testing.assert_allclose(scale.weights, s / s.sum(), rtol=1e-14)
    np.testing.assert_allclose(scale.l2, 1.0 / (C * s.sum()), rtol=1e-13)
    np.testing.assert_allclose(scale.factor, C * s.sum(), rtol=1e-13)


def test_unit_weights_are_a_scalar():
    scale = SolverScale.from_weights(2.0, None, n_samples=8)
    assert scale.weights.ndim == 0 and float(scale.weights) == 1 / 8
    assert float(scale.l2) == pytest.approx(1 / 16, rel=1e-15)


def test_per_output_weights_scale_per_column():
    S = np.random.default_rng(1).uniform(0.5, 2.0, size=(30, 3))
    scale = SolverScale.from_weights(4.0, S)
    np.testing.assert_allclose(scale.weights.sum(axis=0), 1.0, rtol=1e-14)
    np.testing.assert_allclose(scale.l2, 1.0 / (4.0 * S.sum(axis=0)), rtol=1e-13)


def test_no_penalty_when_C_is_inf():
    scale = SolverScale.from_weights(np.inf, np.ones(5))
    assert float(scale.l2) == 0.0
    assert float(scale.factor) == pytest.approx(5.0, rel=1e-15)


@pytest.mark.parametrize("weight", [1e-320, 1e-300, 1e300, 1e307])
def test_extreme_weights_normalise_without_warning(weight):
    s = np.full(50, weight)
    s[0] *= 0.5
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scale = SolverScale.from_weights(1.0, s)
    expected = np.full(50, 1.0)
    expected[0] = 0.5
    np.testing.assert_allclose(scale.weights, expected / expected.sum(), rtol=1e-12)
    assert 0.0 <= float(scale.l2) <= MAX_L2 and np.isfinite(scale.l2)


def test_sklearn_objective_is_the_solver_objective_times_the_factor():
    rng = np.random.default_rng(2)
    X, y = rng.normal(size=(20, 3)), rng.integers(0, 3, size=20)
    s = rng.uniform(0.5, 2.0, size=20)
    W, b = rng.normal(size=(3, 3)), rng.normal(size=3)
    C = 0.7
    value = multinomial_objective(W, b, X, y, sample_weight=s, C=C)[0]
    scale = SolverScale.from_weights(C, s)
    Z = X @ W.T + b
    ce = np.log(np.exp(Z).sum(axis=1)) - Z[np.arange(20), y]
    solver_value = scale.weights @ ce + 0.5 * scale.l2 * np.sum(W**2)
    assert float(scale.sklearn_objective(solver_value)) == pytest.approx(
        value, rel=1e-13
    )


def test_penalty_of_some_outputs_is_their_rows_of_the_whole():
    rng = np.random.default_rng(4)
    coef = rng.normal(size=(3, 4))
    penalty = L2Penalty(np.array([0.5, 2.0, 7.0]), n_features=3)
    rows = np.array([2, 0])
    part = penalty.outputs(rows)
    np.testing.assert_array_equal(part.l2, [7.0, 0.5])
    assert part.n_features == 3
    np.testing.assert_allclose(part.values(coef[rows]), penalty.values(coef)[rows])
    whole = penalty.add_gradient(coef, np.zeros_like(coef))
    np.testing.assert_allclose(
        part.add_gradient(coef[rows], np.zeros((2, 4))), whole[rows]
    )


def test_penalty_gradient_and_hessian_leave_the_intercept_alone():
    rng = np.random.default_rng(3)
    coef = rng.normal(size=(2, 4))
    penalty = L2Penalty(np.array([0.5, 2.0]), n_features=3)
    np.testing.assert_allclose(
        penalty.values(coef), 0.5 * np.array([0.5, 2.0]) * (coef[:, :3] ** 2).sum(1)
    )
    grad = penalty.add_gradient(coef, np.zeros_like(coef))
    np.testing.assert_allclose(grad[:, :3], np.array([[0.5], [2.0]]) * coef[:, :3])
    assert np.all(grad[:, 3] == 0)
    V = rng.normal(size=coef.shape)
    np.testing.assert_allclose(
        penalty.add_hessian_product(V, np.zeros_like(V)),
        grad / coef * V * (np.arange(4) < 3),
    )
    np.testing.assert_array_equal(penalty.diagonal(1, 4), [2.0, 2.0, 2.0, 0.0])
    blocks = rng.normal(size=(2, 4, 4))
    expected = blocks + np.stack([np.diag(penalty.diagonal(k, 4)) for k in range(2)])
    np.testing.assert_array_equal(penalty.add_to_diagonal_blocks(blocks), expected)
    np.testing.assert_array_equal(blocks, expected)
