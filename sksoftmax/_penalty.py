"""The L2 penalty, and the one convention for the scale of the objective.

scikit-learn's objective for one output is

.. math:: F(W, b) = C \\sum_i s_i \\ell_i + \\tfrac{1}{2} \\|W\\|^2 .

The solver minimises it divided by ``C * sum(s)``, as scikit-learn's lbfgs
does, so that ``tol`` means the same thing whatever ``C`` and the weights are:

.. math:: f = F / (C S) = \\sum_i \\frac{s_i}{S} \\ell_i
          + \\tfrac{1}{2} \\lambda \\|W\\|^2,
          \\qquad S = \\sum_i s_i, \\quad \\lambda = \\frac{1}{C S}.

:class:`SolverScale` is that convention, written once: both estimators, the
objective functions at scikit-learn's scale, the tests and the benchmarks use
it. ``C = inf`` means no penalty (``lambda = 0`` and ``f = F / S``).
"""

from dataclasses import dataclass

import numpy as np

__all__ = ["L2Penalty", "SolverScale"]

# A penalty this strong pins W to zero to far below rounding (|W| <= |grad| /
# lambda), so a larger one (up to inf, from C or weights near the float
# limits) changes nothing but could overflow: it is capped here.
MAX_L2 = 1e250


@dataclass(frozen=True)
class SolverScale:
    """Weights and penalty at the solver's scale, from ``C`` and ``s``.

    Parameters
    ----------
    weights : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        ``s / S``: the weights normalised to sum to one (per output).
    l2 : ndarray of shape (n_outputs,) or ()
        ``lambda = 1 / (C S)`` (0 when ``C`` is inf), capped at ``MAX_L2``.
    factor : ndarray
        ``C S`` (``S`` when ``C`` is inf): the solver's objective times this
        is scikit-learn's. May be inf for weights near the float limit.
    """

    weights: np.ndarray
    l2: np.ndarray
    factor: np.ndarray

    @classmethod
    def from_weights(cls, C, sample_weight):
        """Normalise ``sample_weight`` (per column when 2-D) and scale ``C``.

        Sums are formed after dividing by the largest weight, so weights of
        any finite size, 1e-320 or 1e307, give the same normalised weights and
        no overflow.
        """
        s = np.asarray(sample_weight, dtype=np.float64)
        largest = s.max(axis=0)
        # Divide in float64: 1e-320 / 1e-320 is exactly 1, 1e307 / 1e307 too.
        relative = s / largest
        relative_sum = relative.sum(axis=0)
        weights = relative / relative_sum
        # log(C S) = log C + log(largest) + log(relative_sum): no overflow.
        log_factor = np.log(largest) + np.log(relative_sum)
        if not np.isinf(C):
            log_factor = log_factor + np.log(C)
        factor = np.exp(np.minimum(log_factor, 709.0))
        if np.isinf(C):
            l2 = np.zeros_like(log_factor)
        else:
            l2 = np.exp(np.clip(-log_factor, -745.0, np.log(MAX_L2)))
        factor = np.where(log_factor > 709.0, np.inf, factor)
        return cls(weights=weights, l2=l2, factor=factor)

    def sklearn_objective(self, value):
        """scikit-learn's objective from the solver's (elementwise)."""
        return np.asarray(value) * self.factor


@dataclass(frozen=True)
class L2Penalty:
    """``0.5 * lambda_k * ||W_k||^2`` per output row, intercept unpenalised.

    Parameters
    ----------
    l2 : ndarray of shape (n_outputs,)
        Strength per output row.
    n_features : int
        Number of penalised columns of ``coef``; an intercept column, if any,
        follows them.
    """

    l2: np.ndarray
    n_features: int

    def values(self, coef):
        """Penalty of each output row, shape (n_outputs,)."""
        W = coef[:, : self.n_features]
        return 0.5 * self.l2 * np.einsum("ij,ij->i", W, W)

    def add_gradient(self, coef, grad):
        """Add the penalty's gradient to ``grad`` in place."""
        grad[:, : self.n_features] += self.l2[:, None] * coef[:, : self.n_features]
        return grad

    def add_hessian_product(self, V, out):
        """Add the penalty's Hessian times ``V`` to ``out`` in place."""
        out[:, : self.n_features] += self.l2[:, None] * V[:, : self.n_features]
        return out

    def diagonal(self, row, n_coef):
        """Hessian diagonal of one row: ``lambda`` on W, 0 on the intercept."""
        diag = np.zeros(n_coef)
        diag[: self.n_features] = self.l2[row]
        return diag
