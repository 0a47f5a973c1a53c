"""Objectives of L2-regularised linear classifiers: value, gradient, Hessian.

Pure maths, no estimator state. Both objectives are of the form

.. math::

    f(W, b) = \\sum_i s_i \\, \\ell_i(W x_i + b)
              + \\tfrac{1}{2} \\lambda \\|W\\|^2

with the intercept ``b`` not penalised, and

* :class:`MultinomialLoss`: ``l_i`` is the softmax cross-entropy over K
  mutually exclusive classes, ``l_i = logsumexp(z_i) - z_{i, y_i}``;
* :class:`BinaryLoss`: K independent binary log-losses (one logistic
  regression per column of a 0/1 target matrix), each with its own weights
  and penalty, ``l_ik = log(1 + exp(z_ik)) - t_ik z_ik``.

The loss objects are built once per fit: they keep references to ``X`` (never
copied), precompute what depends only on the targets, and own the work arrays
that every evaluation reuses in place. Work arrays are laid out as
``(n_outputs, n_samples)``: the reductions over classes that softmax needs
(row maximum, normaliser) then run over contiguous memory, several times
faster than along the short rows of an ``(n_samples, n_outputs)`` array.
Coefficients are passed as one matrix ``coef`` of shape
``(n_outputs, n_features + fit_intercept)``, the intercept in the last column.

:func:`multinomial_objective` and :func:`binary_objective` evaluate the
objective at scikit-learn's scale, ``C * sum_i s_i l_i + 0.5 * ||W||^2``.
"""

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.special import expit

from ._chunks import residual_times_X_float64, scores_float64

__all__ = [
    "MultinomialLoss",
    "BinaryLoss",
    "multinomial_objective",
    "binary_objective",
]


def _linear_predictor(X, coef, fit_intercept, out):
    """Write the scores ``W @ X.T + b`` into ``out`` (n_outputs, n_samples)."""
    n_features = X.shape[1]
    W = coef[:, :n_features]
    if X.dtype != out.dtype:
        # float32 X, full-precision work arrays: float64 products by blocks.
        scores_float64(X, W, out)
    elif sp.issparse(X):
        out[...] = (X @ W.astype(out.dtype, copy=False).T).T
    elif out.dtype == np.float32:
        # OpenBLAS's sgemm is about twice as fast writing the scores as
        # (n_samples, n_outputs) as writing their transpose; the transposing
        # copy costs far less than the difference (float64 shows no gap).
        np.copyto(out, np.matmul(X, W.astype(np.float32).T).T)
    else:
        np.matmul(W.astype(out.dtype, copy=False), X.T, out=out)
    if fit_intercept:
        out += coef[:, n_features, None].astype(out.dtype, copy=False)
    return out


def _gradient_from_residual(X, residual, coef, fit_intercept, l2_reg):
    """Assemble ``[residual @ X + l2 * W, residual.sum(1)]`` in float64.

    ``residual`` has shape (n_outputs, n_samples).
    """
    n_features = X.shape[1]
    grad = np.empty_like(coef, dtype=np.float64)
    if X.dtype != residual.dtype:
        grad[:, :n_features] = residual_times_X_float64(residual, X)
    elif sp.issparse(X):
        grad[:, :n_features] = (X.T @ residual.T).T
    else:
        grad[:, :n_features] = residual @ X
    l2 = np.reshape(l2_reg, (-1, 1))
    grad[:, :n_features] += l2 * coef[:, :n_features]
    if fit_intercept:
        grad[:, n_features] = residual.sum(axis=1, dtype=np.float64)
    return grad


def _work_dtype(X):
    """float32 work arrays for float32 X (its products stay in float32)."""
    return np.float32 if X.dtype == np.float32 else np.float64


class _Precision:
    """Work-array precision, shared by both losses.

    With float32 ``X`` the work arrays start in float32, so the heavy
    products run at float32 speed. Rounding then puts a floor under the
    objective's accuracy (about 1e-9 relative: each score carries a relative
    error of about 1e-7), which stops L-BFGS short of a tight ``tol``. Two
    steps lower that floor:

    * :meth:`anchor_at` keeps float32 products but evaluates the objective as
      a *difference* from an anchor point computed once in float64. The
      float32 part is then proportional to the distance from the anchor,
      which is tiny near the optimum, so the floor drops by orders of
      magnitude at float32 speed. The solver re-anchors whenever progress
      per iteration becomes small, and after a stall.
    * :meth:`use_full_precision`: scores and gradient in float64, block by
      block, without copying ``X``; the solver's last resort when L-BFGS
      still stalls.
    """

    _anchor = None

    @property
    def low_precision(self):
        return self._work.dtype != np.float64

    def use_full_precision(self):
        """Switch to float64 work arrays; returns whether anything changed."""
        if not self.low_precision:
            return False
        self._allocate(np.float64)
        self._anchor = None
        return True

    def anchor_at(self, coef):
        """Evaluate later objectives relative to a float64 evaluation at
        ``coef``; returns False (and does nothing) in full precision."""
        if not self.low_precision:
            return False
        scores = _linear_predictor(
            self.X, coef, self.fit_intercept, np.empty(self._work.shape)
        )
        self._anchor = self._make_anchor(np.array(coef, dtype=np.float64), scores)
        return True

    def _shift_from_anchor(self, coef):
        """Score changes ``dZ`` since the anchor, in the work array, or None
        (no anchor, or a point so far away that the plain evaluation is as
        accurate: the difference formulas are only used for ``|dZ| <= 1``)."""
        if self._anchor is None:
            return None
        dZ = _linear_predictor(
            self.X, coef - self._anchor.coef, self.fit_intercept, self._work
        )
        if dZ.size and max(dZ.max(), -dZ.min()) > _ANCHOR_MAX_SHIFT:
            return None
        return dZ


# Largest score change from the anchor for which objectives are computed as
# differences (see _Precision); beyond it the plain evaluation is used.
_ANCHOR_MAX_SHIFT = 1.0


def _bernoulli_variance(P, weights):
    """``weights * P * (1 - P)`` as a float64 (n_samples, n_outputs) view.

    ``P`` is a work array of shape (n_outputs, n_samples); one temporary of
    that size is allocated (two for float32 work arrays).
    """
    out = np.subtract(1.0, P)
    out *= P
    out *= weights
    return out.astype(np.float64, copy=False).T


def _penalty(coef, n_features, l2_reg):
    W = coef[:, :n_features]
    return 0.5 * float(np.sum(np.asarray(l2_reg) * np.einsum("ij,ij->i", W, W)))


def _augmented(X, fit_intercept):
    """``[X, 1]`` as a dense float64 array (only for small Hessians)."""
    Xd = X.toarray() if sp.issparse(X) else np.asarray(X)
    Xd = Xd.astype(np.float64, copy=False)
    if fit_intercept:
        Xd = np.hstack([Xd, np.ones((Xd.shape[0], 1))])
    return Xd


def penalty_diagonal(n_features, fit_intercept, l2):
    """Hessian of the penalty: ``l2`` on the coefficients, 0 on the intercept."""
    diag = np.full(n_features + fit_intercept, float(l2))
    if fit_intercept:
        diag[-1] = 0.0
    return diag


def _softmax_in_place(Z, target_pos):
    """Overwrite scores ``Z`` (n_classes, n_samples) with probabilities.

    Returns ``Z`` and the per-sample cross-entropy (float64), given the flat
    positions of the true classes.
    """
    z_true = Z.reshape(-1)[target_pos].astype(np.float64)
    zmax = Z.max(axis=0)
    Z -= zmax
    np.exp(Z, out=Z)
    total = Z.sum(axis=0)
    Z /= total
    lse = zmax.astype(np.float64) + np.log(total, dtype=np.float64)
    return Z, lse - z_true


@dataclass
class _MultinomialAnchor:
    coef: np.ndarray
    proba: np.ndarray  # (n_classes, n_samples), work precision
    ce: np.ndarray  # per-sample cross-entropy, float64


class MultinomialLoss(_Precision):
    """Softmax cross-entropy over K exclusive classes, with an L2 penalty.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        Training data, float32 or float64. Kept by reference, never copied.
    y : ndarray of shape (n_samples,)
        Class indices in ``0 .. n_classes - 1``.
    sample_weight : ndarray of shape (n_samples,)
        Non-negative weights ``s_i``.
    n_classes : int
        Number of classes K.
    l2_reg : float
        Penalty strength ``lambda`` (``1 / C`` at scikit-learn's scale).
    fit_intercept : bool
        Whether ``coef`` has an intercept column.

    Notes
    -----
    With ``p_i = softmax(z_i)`` and ``t_i`` the one-hot target, the gradient
    is ``G^T [X, 1]`` with ``G_i = s_i (p_i - t_i)``, plus ``lambda W``.
    """

    coupled = True

    def __init__(self, X, y, sample_weight, n_classes, l2_reg, fit_intercept):
        self.X = X
        self.n_features = X.shape[1]
        self.n_outputs = n_classes
        self.fit_intercept = bool(fit_intercept)
        self.l2_reg = float(l2_reg)
        self.sample_weight = np.asarray(sample_weight, dtype=np.float64)
        y = np.asarray(y, dtype=np.intp)
        # Positions of the true class in the flattened work array, so the
        # one-hot target is never materialised.
        self._target_pos = y * y.shape[0] + np.arange(y.shape[0])
        self._allocate(_work_dtype(X))

    def _allocate(self, dtype):
        self._work = np.empty((self.n_outputs, self.X.shape[0]), dtype=dtype)
        self._sw_work = self.sample_weight.astype(dtype)

    @property
    def coef_shape(self):
        return (self.n_outputs, self.n_features + self.fit_intercept)

    def _probabilities(self, coef):
        """Fill the work array with softmax probabilities.

        Returns the work array (n_classes, n_samples) and the per-sample
        cross-entropy.
        """
        dZ = self._shift_from_anchor(coef)
        if dZ is not None:
            return self._probabilities_from_anchor(dZ)
        Z = _linear_predictor(self.X, coef, self.fit_intercept, self._work)
        return _softmax_in_place(Z, self._target_pos)

    def _make_anchor(self, coef, scores):
        proba, ce = _softmax_in_place(scores, self._target_pos)
        return _MultinomialAnchor(coef, proba.astype(self._work.dtype), ce)

    def _probabilities_from_anchor(self, dZ):
        """Probabilities and cross-entropy from the score change ``dZ``.

        With ``q`` the anchor's probabilities, ``p = q e^dz / sum(q e^dz)``
        and ``CE = CE_anchor + log(1 + sum q (e^dz - 1)) - dz_true``: every
        rounding error scales with ``dz``.
        """
        anchor = self._anchor
        dz_true = dZ.reshape(-1)[self._target_pos].astype(np.float64)
        np.expm1(dZ, out=dZ)
        dZ *= anchor.proba
        change = dZ.sum(axis=0, dtype=np.float64)
        dZ += anchor.proba
        dZ /= (1.0 + change).astype(dZ.dtype)
        return dZ, anchor.ce + (np.log1p(change) - dz_true)

    def loss(self, coef):
        """Objective value at ``coef``."""
        _, ce = self._probabilities(coef)
        return float(self.sample_weight @ ce) + _penalty(
            coef, self.n_features, self.l2_reg
        )

    def loss_gradient(self, coef):
        """Objective value and gradient (same shape as ``coef``) at ``coef``."""
        P, ce = self._probabilities(coef)
        value = float(self.sample_weight @ ce) + _penalty(
            coef, self.n_features, self.l2_reg
        )
        P.reshape(-1)[self._target_pos] -= 1.0
        P *= self._sw_work
        grad = _gradient_from_residual(self.X, P, coef, self.fit_intercept, self.l2_reg)
        return value, grad

    def curvature_weights(self, coef):
        """Weights ``s_i p_ik (1 - p_ik)`` of the Hessian's diagonal blocks.

        Row ``k``'s block is ``[X, 1]^T diag(w[:, k]) [X, 1]`` plus the penalty.
        """
        P, _ = self._probabilities(coef)
        return _bernoulli_variance(P, self._sw_work)

    def hessian(self, coef):
        """Full Hessian, shape ``(K * p, K * p)`` for ``coef.ravel()``.

        Only for small problems (a final Newton refinement): it costs
        ``O(n_samples * (K * p) ** 2)`` with ``p = n_features + fit_intercept``.
        """
        P, _ = self._probabilities(coef)
        P = P.T.astype(np.float64)
        Xa = _augmented(self.X, self.fit_intercept)
        K, p = self.coef_shape
        s = self.sample_weight
        H = np.empty((K, p, K, p))
        for k in range(K):
            for m in range(k, K):
                w = -s * P[:, k] * P[:, m]
                if k == m:
                    w = w + s * P[:, k]
                block = (Xa * w[:, None]).T @ Xa
                H[k, :, m, :] = block
                H[m, :, k, :] = block.T
        diag = penalty_diagonal(self.n_features, self.fit_intercept, self.l2_reg)
        for k in range(K):
            H[k, :, k, :] += np.diag(diag)
        return H.reshape(K * p, K * p)


@dataclass
class _BinaryAnchor:
    coef: np.ndarray
    proba: np.ndarray  # (n_outputs, n_samples), work precision
    data: np.ndarray  # per-output data term, float64


class BinaryLoss(_Precision):
    """K independent binary log-losses (one logistic regression per column).

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        Training data, float32 or float64. Kept by reference, never copied.
    Y : ndarray of shape (n_samples, n_outputs)
        0/1 targets, one column per binary problem.
    sample_weight : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        Non-negative weights, per sample or per sample and output.
    l2_reg : float or ndarray of shape (n_outputs,)
        Penalty strength of each output.
    fit_intercept : bool
        Whether ``coef`` has an intercept column.

    Notes
    -----
    The log-loss ``log(1 + exp(z)) - t z`` is evaluated with
    ``numpy.logaddexp(0, z)``, and the gradient with ``expit(z) - t``; both are
    exact and warning-free for every finite ``z``. The objective is a sum of
    independent terms, one per output, so its Hessian is block diagonal.
    """

    coupled = False

    def __init__(self, X, Y, sample_weight, l2_reg, fit_intercept):
        self.X = X
        self.n_features = X.shape[1]
        Y = np.asarray(Y)
        self.n_outputs = Y.shape[1]
        self.fit_intercept = bool(fit_intercept)
        self.l2_reg = np.broadcast_to(
            np.asarray(l2_reg, dtype=np.float64), (self.n_outputs,)
        ).copy()
        S = np.asarray(sample_weight, dtype=np.float64)
        if S.ndim == 1:
            S = S[:, None]
        self.sample_weight = np.broadcast_to(S, Y.shape)
        self._positive = np.ascontiguousarray(Y.T != 0)
        self._allocate(_work_dtype(X))

    def _allocate(self, dtype):
        # Work layout (n_outputs, n_samples), see the module docstring.
        self._S = np.ascontiguousarray(self.sample_weight.T, dtype=dtype)
        # s * t, so that sum(s * t * z) is one product per evaluation.
        self._ST = self._S * self._positive
        self._work = np.empty(self._S.shape, dtype=dtype)
        self._tmp = np.empty(self._S.shape, dtype=dtype)

    @property
    def coef_shape(self):
        return (self.n_outputs, self.n_features + self.fit_intercept)

    def _data_term(self, Z, out):
        """Per-output ``sum_i s_ik (log(1 + exp(z_ik)) - t_ik z_ik)``;
        ``out`` is scratch of Z's shape."""
        if Z.dtype == self._S.dtype:
            S, ST = self._S, self._ST
        else:  # a float64 anchor of float32 work arrays
            S = self.sample_weight.T
            ST = S * self._positive
        np.logaddexp(0, Z, out=out)
        out *= S
        softplus = out.sum(axis=1, dtype=np.float64)
        np.multiply(Z, ST, out=out)
        return softplus - out.sum(axis=1, dtype=np.float64)

    def _probabilities(self, coef):
        """Fill the work array with ``expit(z)``; return it (n_outputs,
        n_samples) and the per-output data term."""
        dZ = self._shift_from_anchor(coef)
        if dZ is not None:
            return self._probabilities_from_anchor(dZ)
        Z = _linear_predictor(self.X, coef, self.fit_intercept, self._work)
        data = self._data_term(Z, self._tmp)
        return expit(Z, out=Z), data

    def _make_anchor(self, coef, scores):
        data = self._data_term(scores, np.empty_like(scores))
        proba = expit(scores, out=scores).astype(self._work.dtype)
        return _BinaryAnchor(coef, proba, data)

    def _probabilities_from_anchor(self, dZ):
        """Probabilities and data term from the score change ``dZ``.

        With ``q`` the anchor's probabilities, ``p = q e^dz / (1 + q (e^dz - 1))``
        and the softplus grows by ``log(1 + q (e^dz - 1))``: every rounding
        error scales with ``dz``.
        """
        anchor, tmp = self._anchor, self._tmp
        np.multiply(dZ, self._ST, out=tmp)
        target_change = tmp.sum(axis=1, dtype=np.float64)
        np.expm1(dZ, out=dZ)
        dZ *= anchor.proba
        np.log1p(dZ, out=tmp)
        tmp *= self._S
        softplus_change = tmp.sum(axis=1, dtype=np.float64)
        np.add(dZ, 1.0, out=tmp)
        dZ += anchor.proba
        dZ /= tmp
        return dZ, anchor.data + (softplus_change - target_change)

    def loss_per_output(self, coef):
        """Objective of each output separately, shape ``(n_outputs,)``."""
        _, data = self._probabilities(coef)
        W = coef[:, : self.n_features]
        return data + 0.5 * self.l2_reg * np.einsum("ij,ij->i", W, W)

    def loss(self, coef):
        """Objective value at ``coef`` (the sum over outputs)."""
        return float(self.loss_per_output(coef).sum())

    def loss_gradient(self, coef):
        """Objective value and gradient (same shape as ``coef``) at ``coef``."""
        P, data = self._probabilities(coef)
        value = float(data.sum()) + _penalty(coef, self.n_features, self.l2_reg)
        P *= self._S
        P -= self._ST
        grad = _gradient_from_residual(self.X, P, coef, self.fit_intercept, self.l2_reg)
        return value, grad

    def curvature_weights(self, coef):
        """Weights ``s_ik p_ik (1 - p_ik)``: the Hessian of output ``k`` is
        ``[X, 1]^T diag(w[:, k]) [X, 1]`` plus its penalty."""
        P, _ = self._probabilities(coef)
        return _bernoulli_variance(P, self._S)

    def hessian_blocks(self, coef):
        """Per-output Hessians, shape ``(n_outputs, p, p)``."""
        curv = self.curvature_weights(coef)
        Xa = _augmented(self.X, self.fit_intercept)
        H = np.einsum("ij,ik,il->kjl", Xa, curv, Xa, optimize=True)
        for k in range(self.n_outputs):
            H[k] += np.diag(
                penalty_diagonal(self.n_features, self.fit_intercept, self.l2_reg[k])
            )
        return H


def _split_objective(loss_cls, X, W, b, C, target_args):
    """Evaluate a loss at scikit-learn's scale: ``C * data + 0.5 ||W||^2``."""
    W = np.atleast_2d(np.asarray(W, dtype=np.float64))
    fit_intercept = b is not None
    coef = W if not fit_intercept else np.column_stack([W, np.ravel(b)])
    l2 = 0.0 if np.isinf(C) else 1.0 / C
    loss = loss_cls(X, *target_args, l2_reg=l2, fit_intercept=fit_intercept)
    value, grad = loss.loss_gradient(coef)
    scale = 1.0 if np.isinf(C) else C
    grad *= scale
    grad_b = grad[:, -1] if fit_intercept else None
    return scale * value, grad[:, : X.shape[1]], grad_b


def _default_weights(X, sample_weight):
    if sample_weight is None:
        return np.ones(X.shape[0])
    return np.asarray(sample_weight, dtype=np.float64)


def multinomial_objective(W, b, X, y, sample_weight=None, C=1.0):
    """Softmax regression objective and gradient at scikit-learn's scale.

    Parameters
    ----------
    W : array-like of shape (n_classes, n_features)
        Coefficients.
    b : array-like of shape (n_classes,) or None
        Intercepts, or None for a model without intercept.
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Data.
    y : array-like of shape (n_samples,)
        Class indices ``0 .. n_classes - 1``.
    sample_weight : array-like of shape (n_samples,), default=None
        Weights ``s_i``; ones when None.
    C : float, default=1.0
        Inverse penalty strength; ``numpy.inf`` means no penalty.

    Returns
    -------
    value : float
        ``C * sum_i s_i CE_i + 0.5 * ||W||^2`` (``sum_i s_i CE_i`` if C is inf).
    grad_W : ndarray of shape (n_classes, n_features)
        Gradient with respect to ``W``.
    grad_b : ndarray of shape (n_classes,) or None
        Gradient with respect to ``b``.

    Examples
    --------
    >>> import numpy as np
    >>> from sksoftmax._loss import multinomial_objective
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> value, gW, gb = multinomial_objective(np.zeros((3, 2)), np.zeros(3), X, [0, 2])
    >>> round(float(value / np.log(3)), 12)  # two samples, each with CE = log(3)
    2.0
    """
    W = np.atleast_2d(np.asarray(W, dtype=np.float64))
    y = np.asarray(y)
    s = _default_weights(X, sample_weight)
    return _split_objective(MultinomialLoss, X, W, b, C, (y, s, W.shape[0]))


def binary_objective(W, b, X, Y, sample_weight=None, C=1.0):
    """Objective and gradient of K independent logistic regressions.

    Parameters
    ----------
    W : array-like of shape (n_outputs, n_features)
        Coefficients, one row per binary problem.
    b : array-like of shape (n_outputs,) or None
        Intercepts, or None for a model without intercept.
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Data.
    Y : array-like of shape (n_samples, n_outputs)
        0/1 targets.
    sample_weight : array-like of shape (n_samples,), default=None
        Weights ``s_i``; ones when None.
    C : float, default=1.0
        Inverse penalty strength; ``numpy.inf`` means no penalty.

    Returns
    -------
    value : float
        ``sum_k (C * sum_i s_i logloss_ik + 0.5 * ||w_k||^2)``.
    grad_W : ndarray of shape (n_outputs, n_features)
    grad_b : ndarray of shape (n_outputs,) or None

    Examples
    --------
    >>> import numpy as np
    >>> from sksoftmax._loss import binary_objective
    >>> X = np.array([[1.0], [-1.0]])
    >>> value, gW, gb = binary_objective([[0.0]], [0.0], X, [[1], [0]])
    >>> round(float(value / np.log(2)), 12)
    2.0
    """
    Y = np.asarray(Y)
    if Y.ndim == 1:
        Y = Y[:, None]
    s = _default_weights(X, sample_weight)
    return _split_objective(BinaryLoss, X, W, b, C, (Y, s))
