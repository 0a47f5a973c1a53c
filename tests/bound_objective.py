"""A loss bound to its data, for the tests of the loss, solver and
preconditioner: the in-memory objective of :mod:`sksoftmax._objective` seen
through one object (value, gradient, Hessian and curvature at a point)."""

import numpy as np

from sksoftmax._loss import BinaryLoss, MultinomialLoss
from sksoftmax._objective import DiagonalMoments, in_memory_objective
from sksoftmax._penalty import L2Penalty
from sksoftmax._precondition import (
    cholesky_preconditioner,
    choose_kind,
    diagonal_preconditioner,
)
from sksoftmax._products import gram_blocks, weighted_moments
from sksoftmax._solver import minimize_lbfgs


class BoundObjective:
    """``objective`` plus the conveniences the tests use."""

    def __init__(self, objective, X):
        self.objective = objective
        self.X = X
        self.coef_shape = objective.coef_shape
        self.coupled = not objective.separable
        self.l2_reg = objective.penalty.l2
        self.fit_intercept = objective.loss.fit_intercept

    def loss_gradient(self, coef):
        values, grad = self.objective.value_gradient(coef)
        return float(values.sum()), grad

    def loss(self, coef):
        return float(self.objective.values(coef).sum())

    def loss_per_output(self, coef):
        return self.objective.values(coef)

    def curvature_weights(self, coef):
        loss, dtype = self.objective.loss, self.objective.precision.dtype
        return np.vstack(
            [
                loss.curvature_weights(loss.curvature(coef, block, dtype))
                for block in self.objective.rows.blocks
            ]
        )

    def hessian(self, coef):
        return self.objective.second_order(coef).dense_hessian()

    hessian_blocks = hessian

    @property
    def _anchor(self):
        """The per-block anchors in use, or None."""
        return self.objective._anchors

    @property
    def low_precision(self):
        return self.objective.precision.low_precision

    def anchor_at(self, coef):
        if not self.low_precision:
            return False
        self.objective.anchor_at(coef)
        return True

    def use_full_precision(self):
        return self.objective.precision.use_full_precision(self.objective)


def multinomial(X, y, sample_weight, n_classes, l2, fit_intercept):
    """Softmax cross-entropy on (X, y) with weights and penalty at the
    solver's scale."""
    loss = MultinomialLoss(n_classes, fit_intercept)
    return BoundObjective(in_memory_objective(loss, X, y, sample_weight, l2), X)


def binary(X, Y, sample_weight, l2, fit_intercept):
    """K binary log-losses on (X, Y)."""
    Y = np.asarray(Y)
    loss = BinaryLoss(Y.shape[1], fit_intercept)
    return BoundObjective(in_memory_objective(loss, X, Y, sample_weight, l2), X)


def minimize(bound, coef0, **options):
    """:func:`sksoftmax._solver.minimize_lbfgs` on a bound objective."""
    return minimize_lbfgs(bound.objective, coef0, **options)


def preconditioner(X, weights, l2, fit_intercept, kind="auto"):
    """A preconditioner from given curvature weights (n_samples, n_rows),
    as the solver builds it from an objective's second-order sums."""
    weights = np.asarray(weights, dtype=np.float64)
    n_rows = weights.shape[1]
    l2 = np.broadcast_to(np.asarray(l2, dtype=np.float64), (n_rows,))
    p = X.shape[1] + fit_intercept
    if choose_kind(True if kind == "auto" else kind, p) == "diagonal":
        first, second, total = weighted_moments(X, weights)
        moments = DiagonalMoments(first, second, total, l2, fit_intercept)
        return diagonal_preconditioner(moments)
    blocks = gram_blocks(X, weights, fit_intercept)
    L2Penalty(l2, X.shape[1]).add_to_diagonal_blocks(blocks)
    return cholesky_preconditioner(blocks, X.dtype)
