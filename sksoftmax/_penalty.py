"""The penalties, and the one convention for the scale of the objective.

scikit-learn's objective for one output is

.. math:: F(W, b) = C \\sum_i s_i \\ell_i + \\tfrac{1 - r}{2} \\|W\\|^2
          + r \\|W\\|_1 ,

with ``r = l1_ratio`` (0 by default: the L2 penalty alone).

The solver minimises it divided by ``C * sum(s)``, as scikit-learn's lbfgs
does, so that ``tol`` means the same thing whatever ``C`` and the weights are:

.. math:: f = F / (C S) = \\sum_i \\frac{s_i}{S} \\ell_i
          + \\tfrac{1}{2} \\lambda \\|W\\|^2,
          \\qquad S = \\sum_i s_i, \\quad \\lambda = \\frac{1}{C S}.

:class:`SolverScale` is that convention, written once: both estimators, the
objective functions at scikit-learn's scale, the tests and the benchmarks use
it. ``C = inf`` means no penalty (``lambda = 0`` and ``f = F / S``).

At the solver's scale the L2 part has weight ``(1 - r) lambda`` and the L1
part ``r lambda`` (:meth:`SolverScale.elastic_net`). The L2 part is smooth and
stays inside the objective (:class:`L2Penalty`); the L1 part, or its grouped
form ``r lambda sum_j ||W[:, j]||_2``, is :class:`L1Penalty`, which only the
proximal solvers (:mod:`sksoftmax._proximal`) see.
"""

from dataclasses import dataclass

import numpy as np

__all__ = ["L1Penalty", "L2Penalty", "SolverScale"]

# A penalty this strong pins W to zero to far below rounding (|W| <= |grad| /
# lambda), so a larger one (up to inf, from C or weights near the float
# limits) changes nothing but could overflow: it is capped here.
MAX_L2 = 1e250


@dataclass(frozen=True)
class SolverScale:
    """Weights and penalty at the solver's scale, from ``C`` and ``s``.

    Parameters
    ----------
    weights : ndarray of shape (n_samples,) or (n_samples, n_outputs) or ()
        ``s / S``: the weights normalised to sum to one (per output); a 0-d
        ``1 / n_samples`` for unit weights, which are never materialised.
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
    def from_weights(cls, C, sample_weight, n_samples=None):
        """Normalise ``sample_weight`` (per column when 2-D) and scale ``C``.

        ``sample_weight=None`` means unit weights over ``n_samples`` rows.
        Sums are formed after dividing by the largest weight, so weights of
        any finite size, 1e-320 or 1e307, give the same normalised weights and
        no overflow.
        """
        if sample_weight is None:
            largest, relative_sum = np.float64(1.0), np.float64(n_samples)
            weights = np.asarray(1.0 / n_samples)
        else:
            s = np.asarray(sample_weight, dtype=np.float64)
            largest = s.max(axis=0)
            # In float64 1e-320 / 1e-320 is exactly 1, 1e307 / 1e307 too.
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

    def elastic_net(self, l1_ratio):
        """The L2 and L1 weights at the solver's scale, ``((1 - r) lambda,
        r lambda)``, each of ``l2``'s shape.

        ``l1_ratio = 0`` returns ``l2`` itself (exactly: ``1.0 - 0.0`` is
        1) and zero L1 weights, so the plain L2 fit is unchanged.
        """
        l1_ratio = float(l1_ratio)
        return (1.0 - l1_ratio) * self.l2, l1_ratio * self.l2

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

    def outputs(self, rows):
        """The penalty of the output rows ``rows`` (an index array) alone."""
        return L2Penalty(self.l2[rows], self.n_features)

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

    def add_to_diagonal_blocks(self, blocks):
        """Add row ``k``'s Hessian diagonal to ``blocks[k]``, in place: the
        per-row ``(p, p)`` blocks of a Hessian (arrays or views)."""
        for k, block in enumerate(blocks):
            block[np.diag_indices_from(block)] += self.diagonal(k, block.shape[0])
        return blocks


# Penalty groups of :class:`L1Penalty`.
GROUPINGS = (None, "features")


@dataclass(frozen=True)
class L1Penalty:
    """The non-smooth part of the penalty, intercept unpenalised.

    ``groups=None`` is the lasso penalty ``sum_k l1_k ||W_k||_1``;
    ``groups="features"`` penalises each feature's coefficients over all
    outputs together, ``l1 sum_j ||W[:, j]||_2`` (glmnet's grouped
    multinomial lasso: a feature is dropped for every class at once).

    Parameters
    ----------
    l1 : ndarray of shape (n_outputs,)
        Strength per output row at the solver's scale; equal for every row
        when ``groups="features"``.
    n_features : int
        Number of penalised columns of ``coef``; an intercept column, if any,
        follows them.
    groups : {None, "features"}, default=None
    """

    l1: np.ndarray
    n_features: int
    groups: object = None

    def __post_init__(self):
        if self.groups not in GROUPINGS:
            raise ValueError(f"groups must be one of {GROUPINGS}; got {self.groups!r}")
        if self.groups is not None and np.ptp(self.l1) != 0:
            raise ValueError("a grouped penalty needs one strength for every row")

    def _W(self, coef):
        return coef[:, : self.n_features]

    def value(self, coef):
        """The penalty at ``coef`` (a float)."""
        W = self._W(coef)
        if self.groups is None:
            return float(self.l1 @ np.abs(W).sum(axis=1))
        return float(self.l1[0] * np.sqrt(np.einsum("kj,kj->j", W, W)).sum())

    def prox(self, V, step, scale):
        """Proximal map of ``step`` times the penalty in scaled variables.

        The penalty is taken at ``W = V[:, :n_features] / scale`` (a positive
        per-entry scale, the diagonal change of variables of
        :mod:`sksoftmax._precondition`); for ``groups="features"`` the scale
        must be equal down each column, so that the map stays the closed-form
        group soft-threshold. The intercept column passes unchanged.
        """
        out = V.copy()
        VW = out[:, : self.n_features]
        threshold = step * self.l1[:, None] / scale
        if self.groups is None:
            VW[...] = np.sign(VW) * np.maximum(np.abs(VW) - threshold, 0.0)
            return out
        norms = np.sqrt(np.einsum("kj,kj->j", VW, VW))
        with np.errstate(divide="ignore", invalid="ignore"):
            shrink = np.where(
                norms > 0, np.maximum(1.0 - threshold[0] / norms, 0.0), 0.0
            )
        VW *= shrink
        return out

    def optimality(self, coef, grad):
        """Per row, the largest absolute entry of the minimum-norm element of
        the subdifferential ``grad + d penalty(coef)``: zero exactly at the
        optimum, and the measure ``tol`` bounds.

        For the lasso this is ``|g + l1 sign(w)|`` where ``w != 0`` and
        ``max(|g| - l1, 0)`` where ``w = 0``; for a feature group,
        ``g_j + l1 w_j / ||w_j||`` where the column is nonzero and
        ``g_j max(0, 1 - l1 / ||g_j||)`` where it is zero.
        """
        W, G = self._W(coef), grad[:, : self.n_features]
        residual = np.abs(grad).copy()
        RW = residual[:, : self.n_features]
        l1 = self.l1[:, None]
        if self.groups is None:
            RW[...] = np.where(
                W != 0,
                np.abs(G + l1 * np.sign(W)),
                np.maximum(np.abs(G) - l1, 0.0),
            )
            return residual.max(axis=1, initial=0.0)
        w_norm = np.sqrt(np.einsum("kj,kj->j", W, W))
        g_norm = np.sqrt(np.einsum("kj,kj->j", G, G))
        with np.errstate(divide="ignore", invalid="ignore"):
            at_zero = G * np.where(
                g_norm > 0, np.maximum(1.0 - l1[0] / g_norm, 0.0), 0.0
            )
            away = G + l1 * W / np.where(w_norm > 0, w_norm, 1.0)
        RW[...] = np.abs(np.where(w_norm > 0, away, at_zero))
        return residual.max(axis=1, initial=0.0)

    def support(self, V):
        """Mask of the coefficients that are free on the current support:
        nonzero penalised entries (lasso) or columns (grouped), and every
        unpenalised one."""
        free = np.ones(V.shape, dtype=bool)
        VW = V[:, : self.n_features]
        if self.groups is None:
            free[:, : self.n_features] = VW != 0
        else:
            free[:, : self.n_features] = np.any(VW != 0, axis=0)
        return free

    def smooth_gradient(self, V, scale):
        """Gradient of the penalty on its support, in scaled variables (where
        the penalty is differentiable; 0 elsewhere)."""
        out = np.zeros_like(V)
        VW = V[:, : self.n_features]
        weight = self.l1[:, None] / scale
        if self.groups is None:
            out[:, : self.n_features] = weight * np.sign(VW)
            return out
        norms = np.sqrt(np.einsum("kj,kj->j", VW, VW))
        safe = np.where(norms > 0, norms, 1.0)
        out[:, : self.n_features] = weight * VW / safe
        return out

    def smooth_hessian_product(self, V, U, scale):
        """Hessian of the penalty on its support times ``U`` (scaled
        variables): 0 for the lasso, ``c (u - v (v . u) / |v|^2) / |v|``
        per nonzero column for the grouped penalty."""
        out = np.zeros_like(V)
        if self.groups is None:
            return out
        VW, UW = V[:, : self.n_features], U[:, : self.n_features]
        norms = np.sqrt(np.einsum("kj,kj->j", VW, VW))
        safe = np.where(norms > 0, norms, 1.0)
        weight = self.l1[:, None] / scale
        along = np.einsum("kj,kj->j", VW, UW) / safe**2
        out[:, : self.n_features] = np.where(
            norms > 0, weight * (UW - VW * along) / safe, 0.0
        )
        return out
