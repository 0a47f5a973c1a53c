"""Data terms of linear classifiers, evaluated on a block of rows.

Pure and stateless: every method takes the coefficients and a
:class:`RowBlock` (``X``, targets, weights) and returns **sums over the
block's rows**, never the penalty (added once by the objective,
:mod:`sksoftmax._objective`). The same functions therefore serve a fit in
memory, in row blocks, and over the chunks of a distributed array.

* :class:`MultinomialLoss`: softmax cross-entropy over K mutually exclusive
  classes, ``l_i = logsumexp(z_i) - z_{i, y_i}``; one coupled objective.
* :class:`BinaryLoss`: K independent binary log-losses (one logistic
  regression per column of a 0/1 target matrix),
  ``l_ik = log(1 + exp(z_ik)) - t_ik z_ik``; the objective is *separable*:
  a sum of independent terms, one per output row of ``coef``.

``coef`` has shape ``(n_outputs, n_features + fit_intercept)``, the intercept
in the last column. Work arrays are laid out ``(n_outputs, n_samples)`` (see
:mod:`sksoftmax._products`). ``dtype`` is the precision of the products and
work arrays, chosen by the float32 policy (:mod:`sksoftmax._precision`);
sums are always accumulated in float64.

Second-order information comes in two steps: :meth:`curvature` evaluates the
probabilities at a point once, and :meth:`hessian_product`,
:meth:`curvature_weights` and :meth:`hessian` reuse them.

:func:`multinomial_objective` and :func:`binary_objective` evaluate the
objective at scikit-learn's scale, ``C * sum_i s_i l_i + 0.5 * ||W||^2``.
"""

from dataclasses import dataclass, replace

import numpy as np

from ._penalty import L2Penalty, SolverScale
from ._precision import ANCHOR_MAX_SHIFT
from ._products import (
    augmented_columns,
    gram_threads,
    scores,
    transposed_product,
    weighted_gram,
)
from .special import _softmax_columns_inplace, _softplus_sigmoid_inplace

__all__ = [
    "BinaryLoss",
    "MultinomialLoss",
    "RowBlock",
    "binary_objective",
    "multinomial_objective",
]


@dataclass(frozen=True)
class RowBlock:
    """A block of rows: the unit every loss method sums over.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_rows, n_features)
        float32 or float64; never copied or written to.
    targets : ndarray
        Class indices of shape (n_rows,) for :class:`MultinomialLoss`; a 0/1
        (or bool) matrix of shape (n_rows, n_outputs) for :class:`BinaryLoss`.
    weights : ndarray of shape (n_rows,) or (n_rows, n_outputs) or ()
        float64 sample weights at the solver's scale
        (:class:`~sksoftmax._penalty.SolverScale`); 0-d when all are equal.
    start : int, default=0
        Global index of the block's first row (for row sampling that does
        not depend on how rows are split in blocks).
    max_row_norm : float, default=None
        The largest Euclidean norm of the block's rows of ``X``, if known
        (see :func:`max_row_norm`): a loss with ``uses_row_norms`` bounds
        its scores with it.
    nonzero_columns : int, default=None
        If given, every column of ``X`` from this one on is zero in the block
        (the rows of a lower-triangular factor, see
        :mod:`sksoftmax._rowspace`): the products with ``X`` skip them.
    """

    X: object
    targets: np.ndarray
    weights: np.ndarray
    start: int = 0
    max_row_norm: float = None
    nonzero_columns: int = None

    @property
    def n_rows(self):
        return self.X.shape[0]

    def outputs(self, rows):
        """The block restricted to the outputs ``rows`` (an index array) of a
        multi-output target matrix: the same ``X``, the targets' (and
        per-output weights') columns ``rows``."""
        weights = self.weights[:, rows] if self.weights.ndim == 2 else self.weights
        return replace(self, targets=self.targets[:, rows], weights=weights)


def max_row_norm(X):
    """The largest Euclidean norm of the rows of dense ``X`` (data or
    coefficients), in float64, without a temporary the size of ``X`` (0 for
    no rows)."""
    if X.shape[0] == 0:
        return 0.0
    return float(np.sqrt(np.einsum("ij,ij->i", X, X, dtype=np.float64).max()))


def _block_scores(block, coef, fit_intercept, dtype):
    """The block's scores at ``coef`` (see :func:`~sksoftmax._products.scores`)."""
    return scores(block.X, coef, fit_intercept, dtype, columns=block.nonzero_columns)


def _block_product(residual, block, fit_intercept):
    """``[R X, R 1]`` over the block (see
    :func:`~sksoftmax._products.transposed_product`)."""
    return transposed_product(
        residual, block.X, fit_intercept, columns=block.nonzero_columns
    )


def _score_bound(coef, block, fit_intercept):
    """A bound on every ``|score|`` of ``block`` at ``coef``, or None.

    By Cauchy-Schwarz, ``|w_k . x_i + b_k| <= max ||x|| max ||w_k|| + max |b|``:
    K (p + 1) operations instead of a pass over the K x n scores.
    """
    if block.max_row_norm is None:
        return None
    n_features = block.X.shape[1]
    bound = block.max_row_norm * max_row_norm(coef[:, :n_features])
    if fit_intercept:
        bound += np.abs(coef[:, n_features]).max()
    return bound


@dataclass(frozen=True)
class Curvature:
    """Probabilities at a point, kept for second-order products.

    ``proba`` has shape (n_outputs, n_samples); ``weights`` is the block's
    weights laid out to multiply it; ``data`` is the block's data term at
    the point (the loss's ``value``), so that the value and gradient there
    need no second product for the scores.
    """

    proba: np.ndarray
    weights: np.ndarray
    dtype: type
    data: np.ndarray


@dataclass(frozen=True)
class Anchor:
    """A float64 evaluation kept for float32 difference evaluations.

    ``proba`` (n_outputs, n_samples) in the work precision and ``data``, the
    float64 per-sample (multinomial) or per-output (binary) data term.
    """

    coef: np.ndarray
    proba: np.ndarray
    data: np.ndarray


def _weighted_sum(weights, values):
    """``sum_i s_i v_i`` for per-sample or 0-d (equal) weights."""
    if weights.ndim == 0:
        return float(weights) * values.sum()
    return weights @ values


def _shift_from_anchor(coef, block, anchor, fit_intercept, dtype):
    """Score changes since the anchor, or None when the plain evaluation is
    as accurate (see :data:`~sksoftmax._precision.ANCHOR_MAX_SHIFT`)."""
    if anchor is None:
        return None
    dZ = _block_scores(block, coef - anchor.coef, fit_intercept, dtype)
    if dZ.size and max(dZ.max(), -dZ.min()) > ANCHOR_MAX_SHIFT:
        return None
    return dZ


class _RowLoss:
    """What both losses share: their size and the curvature weights."""

    def __init__(self, n_outputs, fit_intercept):
        self.n_outputs = int(n_outputs)
        self.fit_intercept = bool(fit_intercept)

    @staticmethod
    def curvature_weights(curvature):
        """Weights ``s_ik p_ik (1 - p_ik)`` of the Hessian's diagonal blocks,
        float64 of shape (n_samples, K): block ``k`` is
        ``[X, 1]^T diag(w[:, k]) [X, 1]``."""
        P = curvature.proba
        out = np.subtract(1.0, P)
        out *= P
        out *= curvature.weights
        return out.astype(np.float64, copy=False).T


class MultinomialLoss(_RowLoss):
    """Softmax cross-entropy over K exclusive classes.

    Parameters
    ----------
    n_outputs : int
        Number of classes K (rows of ``coef``).
    fit_intercept : bool
        Whether ``coef`` has an intercept column.

    Notes
    -----
    With ``p_i = softmax(z_i)`` and ``t_i`` the one-hot target, the gradient
    of the block sum is ``G^T [X, 1]`` with ``G_i = s_i (p_i - t_i)``.

    The loss is unchanged when one vector is added to every row of ``coef``
    (all scores of a sample shift together). :meth:`project` removes that
    direction; the penalty only grows along it, so the optimum lies in the
    projected space.
    """

    separable = False
    # The softmax skips its shift when the scores are known to be small
    # (special._softmax_columns_inplace), which a row-norm bound shows.
    uses_row_norms = True

    @staticmethod
    def project(coef):
        """Remove the invariant direction: centre ``coef`` over the classes."""
        return coef - coef.mean(axis=0)

    @staticmethod
    def _target_positions(block):
        """Flat positions of the true classes in a (K, n) work array, so the
        one-hot target is never materialised."""
        y = np.asarray(block.targets, dtype=np.intp)
        return y * y.shape[0] + np.arange(y.shape[0])

    def _probabilities(self, coef, block, dtype, anchor, positions=None):
        """Work array (K, n) of probabilities and the per-sample CE (float64);
        ``positions`` are the block's :meth:`_target_positions`, if known."""
        if positions is None:
            positions = self._target_positions(block)
        dZ = _shift_from_anchor(coef, block, anchor, self.fit_intercept, dtype)
        if dZ is not None:
            return self._probabilities_from_anchor(dZ, anchor, positions)
        Z = _block_scores(block, coef, self.fit_intercept, dtype)
        z_true = Z.reshape(-1)[positions].astype(np.float64)
        lse = _softmax_columns_inplace(Z, _score_bound(coef, block, self.fit_intercept))
        return Z, lse - z_true

    @staticmethod
    def _probabilities_from_anchor(dZ, anchor, positions):
        """Probabilities and cross-entropy from the score change ``dZ``.

        With ``q`` the anchor's probabilities, ``p = q e^dz / sum(q e^dz)``
        and ``CE = CE_anchor + log(1 + sum q (e^dz - 1)) - dz_true``: every
        rounding error scales with ``dz``.
        """
        dz_true = dZ.reshape(-1)[positions].astype(np.float64)
        np.expm1(dZ, out=dZ)
        dZ *= anchor.proba
        change = dZ.sum(axis=0, dtype=np.float64)
        dZ += anchor.proba
        # A division per entry, not column reciprocals as in the softmax:
        # measured the same per evaluation (20,000 x 16 float32, 26
        # classes: 1.80-1.88 ms either way), and it keeps the rounding.
        dZ /= (1.0 + change).astype(dZ.dtype)
        return dZ, anchor.data + (np.log1p(change) - dz_true)

    def value(self, coef, block, dtype, anchor=None):
        """Weighted sum of cross-entropies, shape (1,)."""
        _, ce = self._probabilities(coef, block, dtype, anchor)
        return np.array([_weighted_sum(block.weights, ce)])

    def _gradient_inplace(self, P, block, positions=None):
        """The block's gradient from its probabilities ``P``, which become
        the weighted residuals ``s_i (p_i - t_i)``."""
        if positions is None:
            positions = self._target_positions(block)
        P.reshape(-1)[positions] -= 1.0
        P *= block.weights.astype(P.dtype, copy=False)
        return _block_product(P, block, self.fit_intercept)

    def value_gradient(self, coef, block, dtype, anchor=None):
        """Weighted sum of cross-entropies (shape (1,)) and its gradient."""
        # The targets' positions serve both halves (each pass over the
        # targets cost 2-3% of an evaluation on 11,000 x 16 with 10 classes).
        positions = self._target_positions(block)
        P, ce = self._probabilities(coef, block, dtype, anchor, positions)
        value = np.array([_weighted_sum(block.weights, ce)])
        return value, self._gradient_inplace(P, block, positions)

    def anchor(self, coef, block):
        """A float64 evaluation at ``coef`` to measure float32 changes from."""
        Z = _block_scores(block, coef, self.fit_intercept, np.float64)
        z_true = Z.reshape(-1)[self._target_positions(block)]
        bound = _score_bound(coef, block, self.fit_intercept)
        ce = _softmax_columns_inplace(Z, bound) - z_true
        dtype = np.float32 if block.X.dtype == np.float32 else np.float64
        return Anchor(np.array(coef, dtype=np.float64), Z.astype(dtype), ce)

    def curvature(self, coef, block, dtype):
        """Probabilities at ``coef`` for second-order products."""
        P, ce = self._probabilities(coef, block, dtype, None)
        data = np.array([_weighted_sum(block.weights, ce)])
        return Curvature(P, block.weights.astype(dtype, copy=False), dtype, data)

    def gradient_from_curvature(self, curvature, block):
        """The block's gradient at the curvature's point (same as
        :meth:`value_gradient`'s), from its kept probabilities."""
        return self._gradient_inplace(curvature.proba.copy(), block)

    def hessian_product(self, curvature, V, block):
        """Hessian of the block sum times ``V`` (shape of ``coef``).

        With ``a_i = V [x_i, 1]``, row ``i`` contributes
        ``s_i (p_i * a_i - p_i (p_i . a_i))`` outer ``[x_i, 1]``.
        """
        A = _block_scores(block, V, self.fit_intercept, curvature.dtype)
        A *= curvature.proba
        A -= curvature.proba * A.sum(axis=0)
        A *= curvature.weights
        return _block_product(A, block, self.fit_intercept)

    @staticmethod
    def _class_pair_weights(curvature, block):
        """Row weights ``s_i p_ik (delta_km - p_im)`` of the Hessian block of
        classes ``k <= m``, float64, as ``(k, m, weights)`` triples."""
        P = curvature.proba.astype(np.float64)
        s = np.asarray(block.weights, dtype=np.float64)
        for k in range(P.shape[0]):
            for m in range(k, P.shape[0]):
                w = -s * P[k] * P[m]
                if k == m:
                    w += s * P[k]
                yield k, m, w

    def hessian(self, curvature, block):
        """Dense Hessian of the block sum, shape ``(K p, K p)`` for
        ``coef.ravel()``, in float64 (only for small problems: it costs
        ``K^2 / 2`` weighted Gram matrices)."""
        K = self.n_outputs
        p = block.X.shape[1] + self.fit_intercept
        H = np.empty((K, p, K, p))
        for k, m, w in self._class_pair_weights(curvature, block):
            gram = weighted_gram(block.X, w, self.fit_intercept, exact=True)
            H[k, :, m, :] = gram
            H[m, :, k, :] = gram.T
        return H.reshape(K * p, K * p)

    def support_hessian(self, curvature, block, free):
        """Dense Hessian of the block sum on the coefficients where ``free``
        (shape of ``coef``) is True, in ``coef.ravel()`` order, float64: it
        costs ``n m^2 / 2`` multiply-adds for ``m`` free coefficients."""
        columns = [augmented_columns(block.X, np.flatnonzero(f)) for f in free]
        ends = np.cumsum([c.shape[1] for c in columns])
        starts = np.concatenate([[0], ends[:-1]])
        H = np.empty((ends[-1], ends[-1]))
        with gram_threads(max(c.shape[1] for c in columns)):
            for k, m, w in self._class_pair_weights(curvature, block):
                cross = columns[k].T @ (columns[m] * w[:, None])
                H[starts[k] : ends[k], starts[m] : ends[m]] = cross
                H[starts[m] : ends[m], starts[k] : ends[k]] = cross.T
        return H

    def n_misclassified(self, coef, block):
        """Rows of positive weight whose true class does not have the strictly
        largest score (ties count), shape (1,); float64 products."""
        Z = _block_scores(block, coef, self.fit_intercept, np.float64)
        positions = self._target_positions(block)
        z_true = Z.reshape(-1)[positions]
        Z.reshape(-1)[positions] = -np.inf
        wrong = ~(z_true > Z.max(axis=0))
        if block.weights.ndim:
            wrong &= block.weights > 0
        return np.array([np.count_nonzero(wrong)])

    def outcome_counts(self, block):
        """Rows of positive weight in each class (first row) and in all
        (second row), shape (2, K), float64 (sums over blocks)."""
        targets = block.targets
        if block.weights.ndim:
            targets = targets[block.weights > 0]
        counts = np.bincount(targets, minlength=self.n_outputs)
        return np.stack([counts, np.full(self.n_outputs, targets.shape[0])]).astype(
            np.float64
        )


class BinaryLoss(_RowLoss):
    """K independent binary log-losses (one logistic regression per column).

    Parameters
    ----------
    n_outputs : int
        Number of binary problems K (rows of ``coef``).
    fit_intercept : bool
        Whether ``coef`` has an intercept column.

    Notes
    -----
    The log-loss ``log(1 + exp(z)) - t z`` is evaluated with a softplus and
    the gradient with ``sigmoid(z) - t``; both are exact and warning-free
    for every finite ``z``. The objective is a sum of independent terms, one
    per output row, so its Hessian is block diagonal.
    """

    separable = True
    uses_row_norms = False

    @staticmethod
    def project(coef):
        """No invariant direction: ``coef`` unchanged."""
        return coef

    @staticmethod
    def _layout(block, dtype):
        """Weights ``S`` and weighted targets ``S * T`` as (K, n) arrays."""
        S = np.asarray(block.weights, dtype=np.float64)
        # Row-major (K, n), as the scores are: the targets arrive as (n, K),
        # and a transposed operand made each pass that mixes them with the
        # scores strided (10,000 x 50 labels: evaluations about 1.08x slower).
        T = np.not_equal(np.asarray(block.targets).T, 0, order="C")
        if S.ndim == 0:
            S = S.astype(dtype)
            return S, T * S
        S = np.broadcast_to(S.reshape(S.shape[0], -1).T, T.shape).astype(
            dtype, order="C"
        )
        return S, S * T

    @staticmethod
    def _log_loss_inplace(Z, S, ST):
        """Per-output ``sum_i s_ik (softplus(z_ik) - t_ik z_ik)``, with ``Z``
        overwritten by ``sigmoid(Z)``."""
        target = np.einsum("kn,kn->k", Z, ST, dtype=np.float64)
        softplus = np.empty_like(Z)
        _softplus_sigmoid_inplace(Z, softplus)
        softplus *= S
        return softplus.sum(axis=1, dtype=np.float64) - target

    def _probabilities(self, coef, block, dtype, anchor):
        """Work array (K, n) of ``sigmoid(z)``, per-output data term, and the
        weights' layout."""
        S, ST = self._layout(block, dtype)
        dZ = _shift_from_anchor(coef, block, anchor, self.fit_intercept, dtype)
        if dZ is not None:
            P, data = self._probabilities_from_anchor(dZ, anchor, S, ST)
            return P, data, S, ST
        Z = _block_scores(block, coef, self.fit_intercept, dtype)
        data = self._log_loss_inplace(Z, S, ST)
        return Z, data, S, ST

    @staticmethod
    def _probabilities_from_anchor(dZ, anchor, S, ST):
        """Probabilities and data term from the score change ``dZ``.

        With ``q`` the anchor's probabilities,
        ``p = q e^dz / (1 + q (e^dz - 1))`` and the softplus grows by
        ``log(1 + q (e^dz - 1))``: every rounding error scales with ``dz``.
        """
        tmp = dZ * ST
        target_change = tmp.sum(axis=1, dtype=np.float64)
        np.expm1(dZ, out=dZ)
        dZ *= anchor.proba
        np.log1p(dZ, out=tmp)
        tmp *= S
        softplus_change = tmp.sum(axis=1, dtype=np.float64)
        np.add(dZ, 1.0, out=tmp)
        dZ += anchor.proba
        dZ /= tmp
        return dZ, anchor.data + (softplus_change - target_change)

    def value(self, coef, block, dtype, anchor=None):
        """Data term of each output, shape (K,)."""
        return self._probabilities(coef, block, dtype, anchor)[1]

    def value_gradient(self, coef, block, dtype, anchor=None):
        """Data term of each output (shape (K,)) and the gradient."""
        P, data, S, ST = self._probabilities(coef, block, dtype, anchor)
        return data, self._gradient_inplace(P, S, ST, block)

    def _gradient_inplace(self, P, S, ST, block):
        """The block's gradient from the probabilities ``P``, which become
        the weighted residuals ``S * P - S * T``."""
        P *= S
        P -= ST
        return _block_product(P, block, self.fit_intercept)

    def anchor(self, coef, block):
        """A float64 evaluation at ``coef`` to measure float32 changes from."""
        S, ST = self._layout(block, np.float64)
        Z = _block_scores(block, coef, self.fit_intercept, np.float64)
        data = self._log_loss_inplace(Z, S, ST)
        dtype = np.float32 if block.X.dtype == np.float32 else np.float64
        return Anchor(np.array(coef, dtype=np.float64), Z.astype(dtype), data)

    def curvature(self, coef, block, dtype):
        """Probabilities at ``coef`` for second-order products."""
        P, data, S, _ = self._probabilities(coef, block, dtype, None)
        return Curvature(P, S, dtype, data)

    def gradient_from_curvature(self, curvature, block):
        """The block's gradient at the curvature's point (same as
        :meth:`value_gradient`'s), from its kept probabilities."""
        S, ST = self._layout(block, curvature.dtype)
        return self._gradient_inplace(curvature.proba.copy(), S, ST, block)

    def hessian_product(self, curvature, V, block):
        """Hessian of the block sums times ``V`` (shape of ``coef``): row
        ``i`` contributes ``s_ik p_ik (1 - p_ik) a_ik`` outer ``[x_i, 1]``."""
        A = _block_scores(block, V, self.fit_intercept, curvature.dtype)
        A *= curvature.proba
        A *= 1.0 - curvature.proba
        A *= curvature.weights
        return _block_product(A, block, self.fit_intercept)

    def hessian(self, curvature, block):
        """Per-output Hessians of the block sums, shape ``(K, p, p)``."""
        weights = self.curvature_weights(curvature)
        return np.stack(
            [
                weighted_gram(block.X, w, self.fit_intercept, exact=True)
                for w in weights.T
            ]
        )

    def support_hessian(self, curvature, block, free):
        """Per-output dense Hessians of the block sums on the coefficients
        where ``free`` (shape of ``coef``) is True, a tuple of K arrays."""
        weights = self.curvature_weights(curvature)
        return tuple(
            weighted_gram(
                augmented_columns(block.X, np.flatnonzero(f)), w, False, exact=True
            )
            for w, f in zip(weights.T, free, strict=True)
        )

    def n_misclassified(self, coef, block):
        """Rows of positive weight on the wrong side of (or on) each output's
        decision boundary, shape (K,); float64 products."""
        Z = _block_scores(block, coef, self.fit_intercept, np.float64)
        T = np.asarray(block.targets).T != 0
        wrong = ((Z > 0) != T) | (Z == 0)
        S, _ = self._layout(block, np.float64)
        wrong &= S > 0
        return np.count_nonzero(wrong, axis=1)

    def outcome_counts(self, block):
        """Rows of positive weight with a positive target (first row) and in
        all (second row), per output: shape (2, K), float64 (sums over
        blocks)."""
        S, ST = self._layout(block, np.float64)
        weighted = np.broadcast_to(S > 0, ST.shape)
        positives = np.count_nonzero(ST > 0, axis=1)
        return np.stack([positives, np.count_nonzero(weighted, axis=1)]).astype(
            np.float64
        )


# -- the objective at scikit-learn's scale -------------------------------------


def _sklearn_scale_objective(loss, X, targets, W, b, sample_weight, C):
    """``C * sum_i s_i l_i + 0.5 ||W||^2`` and its gradient, via the
    solver's scale (:class:`~sksoftmax._penalty.SolverScale`)."""
    W = np.atleast_2d(np.asarray(W, dtype=np.float64))
    coef = W if b is None else np.column_stack([W, np.ravel(b)])
    s = np.ones(X.shape[0]) if sample_weight is None else sample_weight
    scale = SolverScale.from_weights(C, s)
    # One factor C * S for every output (scikit-learn's per-output C).
    l2 = np.broadcast_to(scale.l2, (coef.shape[0],))
    block = RowBlock(X, targets, scale.weights)
    data, grad = loss.value_gradient(coef, block, np.float64)
    penalty = L2Penalty(l2, X.shape[1])
    value = float(data.sum() + penalty.values(coef).sum())
    penalty.add_gradient(coef, grad)
    factor = float(scale.factor)
    grad *= factor
    grad_b = grad[:, -1].copy() if b is not None else None
    return factor * value, grad[:, : X.shape[1]], grad_b


def _weights_vector(sample_weight):
    if sample_weight is None:
        return None
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
    loss = MultinomialLoss(W.shape[0], b is not None)
    y = np.asarray(y)
    return _sklearn_scale_objective(loss, X, y, W, b, _weights_vector(sample_weight), C)


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
    W = np.atleast_2d(np.asarray(W, dtype=np.float64))
    loss = BinaryLoss(W.shape[0], b is not None)
    return _sklearn_scale_objective(loss, X, Y, W, b, _weights_vector(sample_weight), C)
