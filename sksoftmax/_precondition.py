"""Linear changes of variables that make L-BFGS see a well-scaled problem.

The solver optimises ``V`` instead of ``coef``, with ``coef[k] = M_k v[k]`` for
each row (output) ``k``. The minimiser does not move (``M_k`` is invertible),
but if ``M_k M_k^T`` approximates the inverse of the row's Hessian block,

.. math:: H_{kk} = \\tilde X^T \\operatorname{diag}(w_{\\cdot k}) \\tilde X
          + \\lambda_k D, \\qquad \\tilde X = [X, 1],

then the problem in ``V`` has curvature close to the identity, which is the
scale L-BFGS is fastest on. The curvature weights ``w_ik`` come from the loss
(``s_i p_ik (1 - p_ik)`` for both softmax and logistic losses); ``D`` is the
identity on the coefficients and zero on the intercept, which is not
penalised.

Two kinds, both pure linear algebra on ``X`` and the weights:

* :class:`CholeskyPreconditioner`: ``M_k = L_k^{-T}`` with ``L_k`` the Cholesky
  factor of ``H_kk``. Costs ``O(n p^2)`` per row to build and ``O(p^2)`` per
  row and evaluation to apply; for dense ``X`` with up to a few hundred
  features.
* :class:`DiagonalPreconditioner`: scale each feature by the square root of
  its weighted, centred second moment, with the centring done virtually
  through the intercept (as Spark MLlib does), so sparse ``X`` stays sparse.
"""

import numpy as np
import scipy.linalg
import scipy.sparse as sp

from ._chunks import row_blocks
from ._loss import penalty_diagonal

__all__ = [
    "CholeskyPreconditioner",
    "DiagonalPreconditioner",
    "IdentityPreconditioner",
    "build_preconditioner",
]

# Largest number of coefficients per row for which a dense Cholesky factor is
# built; wider (or sparse and wide) problems get the diagonal one.
MAX_CHOLESKY_FEATURES = 800


class IdentityPreconditioner:
    """No change of variables."""

    def to_coef(self, V):
        return V

    def from_coef(self, coef):
        return coef

    def gradient_to_v(self, grad):
        return grad


class CholeskyPreconditioner:
    """``coef[k] = L_k^{-T} v[k]`` with ``L_k`` lower triangular.

    The inverse factors are formed once, so that applying the change of
    variables is one (batched) matrix product per evaluation rather than a
    triangular solve per row.

    Parameters
    ----------
    factors : ndarray of shape (n_factors, p, p)
        Lower Cholesky factors; ``n_factors`` is 1 (shared by every row) or
        the number of rows.
    """

    def __init__(self, factors):
        self.factors = factors
        identity = np.eye(factors.shape[1])
        self.inverses = np.stack(
            [scipy.linalg.solve_triangular(L, identity, lower=True) for L in factors]
        )

    def to_coef(self, V):
        # coef[k] = L_k^{-T} v[k], i.e. row k times L_k^{-1}
        if self.inverses.shape[0] == 1:
            return V @ self.inverses[0]
        return np.matmul(V[:, None, :], self.inverses)[:, 0, :]

    def from_coef(self, coef):
        # v[k] = L_k^T coef[k], i.e. row k times L_k
        if self.factors.shape[0] == 1:
            return coef @ self.factors[0]
        return np.matmul(coef[:, None, :], self.factors)[:, 0, :]

    def gradient_to_v(self, grad):
        # d f / d v[k] = M_k^T g[k] = L_k^{-1} g[k], i.e. row k times L_k^{-T}
        if self.inverses.shape[0] == 1:
            return grad @ self.inverses[0].T
        return np.matmul(grad[:, None, :], self.inverses.transpose(0, 2, 1))[:, 0, :]


class DiagonalPreconditioner:
    """Per-feature scaling with virtual centring through the intercept.

    ``coef_w = v_w / d`` and, with an intercept, ``b = v_b / e - mean . coef_w``,
    so that ``x . coef_w + b = (x - mean) . (v_w / d) + v_b / e``.

    Parameters
    ----------
    scale : ndarray of shape (n_rows, n_features)
        ``d``, the square roots of the weighted centred second moments
        (plus the penalty).
    mean : ndarray of shape (n_rows, n_features) or None
        Weighted feature means (None without intercept).
    intercept_scale : ndarray of shape (n_rows,) or None
        ``e``, the square root of the sum of weights.
    """

    def __init__(self, scale, mean=None, intercept_scale=None):
        self.scale = scale
        self.mean = mean
        self.intercept_scale = intercept_scale

    def to_coef(self, V):
        n_features = self.scale.shape[1]
        coef = np.empty_like(V)
        coef[:, :n_features] = V[:, :n_features] / self.scale
        if self.mean is not None:
            coef[:, n_features] = V[:, n_features] / self.intercept_scale - np.einsum(
                "kj,kj->k", self.mean, coef[:, :n_features]
            )
        return coef

    def from_coef(self, coef):
        n_features = self.scale.shape[1]
        V = np.empty_like(coef)
        V[:, :n_features] = coef[:, :n_features] * self.scale
        if self.mean is not None:
            V[:, n_features] = self.intercept_scale * (
                coef[:, n_features]
                + np.einsum("kj,kj->k", self.mean, coef[:, :n_features])
            )
        return V

    def gradient_to_v(self, grad):
        n_features = self.scale.shape[1]
        out = np.empty_like(grad)
        gw = grad[:, :n_features]
        if self.mean is not None:
            gb = grad[:, n_features]
            gw = gw - gb[:, None] * self.mean
            out[:, n_features] = gb / self.intercept_scale
        out[:, :n_features] = gw / self.scale
        return out


def _weighted_moments(X, weights):
    """``X^T W``, ``(X*X)^T W`` and ``sum W`` for weights of shape (n, m)."""
    first = np.zeros((X.shape[1], weights.shape[1]))
    second = np.zeros_like(first)
    for rows, block in row_blocks(X):
        w = weights[rows]
        first += np.asarray(block.T @ w)
        squared = block.power(2) if sp.issparse(block) else np.square(block)
        second += np.asarray(squared.T @ w)
    return first, second, weights.sum(axis=0)


_NEGLIGIBLE_WEIGHT = 1e-4

# With many more rows than features, a Gram matrix is estimated from a sample
# of rows drawn in proportion to their weights: SAMPLE_ROWS_PER_FEATURE rows
# per coefficient (at least MIN_SAMPLE_ROWS) give a relative error of about
# sqrt(1 / SAMPLE_ROWS_PER_FEATURE), far inside what a preconditioner needs,
# at a fraction of the cost of the K full weighted Grams.
SAMPLE_ROWS_PER_FEATURE = 20
MIN_SAMPLE_ROWS = 2048


def _sample_size(n_samples, n_coef):
    """Rows to sample for a Gram of ``n_coef`` columns, or None for all rows."""
    size = max(MIN_SAMPLE_ROWS, SAMPLE_ROWS_PER_FEATURE * n_coef)
    return size if n_samples > 2 * size else None


def _importance_rows(w, size):
    """``size`` row indices drawn with probability proportional to ``w``.

    Systematic sampling (evenly spaced points on the cumulative weights), so
    the sample is deterministic, spread over the whole data and every row
    with weight above ``sum(w) / size`` is drawn. Each drawn row then stands
    for ``sum(w) / size`` of weight.
    """
    cumulative = np.cumsum(w, dtype=np.float64)
    total = cumulative[-1]
    targets = (np.arange(size) + 0.5) * (total / size)
    rows = np.searchsorted(cumulative, targets, side="right")
    np.minimum(rows, w.shape[0] - 1, out=rows)
    return rows, total / size


def _bordered(xx, column, total):
    """The Gram of ``[X, 1]`` from ``xx = X^T W X``, ``column = X^T w`` and
    ``total = sum(w)``; just ``xx`` without an intercept (``column`` None)."""
    if column is None:
        return xx
    n_features = xx.shape[0]
    gram = np.empty((n_features + 1,) * 2)
    gram[:n_features, :n_features] = xx
    gram[:n_features, n_features] = column
    gram[n_features, :n_features] = column
    gram[n_features, n_features] = total
    return gram


def _sampled_gram(X, w, fit_intercept, size):
    """Estimate of ``[X, 1]^T diag(w) [X, 1]`` from ``size`` weighted rows."""
    rows, row_weight = _importance_rows(w, size)
    sample = X[rows]
    if sp.issparse(sample):
        sample = sample.astype(np.float64)
        xx = (sample.T @ sample).toarray()
    else:
        sample = np.asarray(sample, dtype=np.float64)
        xx = sample.T @ sample
    xx *= row_weight
    column = None
    if fit_intercept:
        column = row_weight * np.asarray(sample.sum(axis=0)).ravel()
    return _bordered(xx, column, float(np.sum(w, dtype=np.float64)))


def _weighted_gram(X, w, fit_intercept):
    """``[X, 1]^T diag(w) [X, 1]``: sampled for tall X, else in row blocks.

    Accumulated in float64; the full products run in X's own precision,
    which is plenty for a preconditioner (the Cholesky below adds a ridge).
    """
    n_features = X.shape[1]
    size = _sample_size(X.shape[0], n_features + fit_intercept)
    if size is not None and np.sum(w, dtype=np.float64) > 0:
        return _sampled_gram(X, w, fit_intercept, size)
    xx = np.zeros((n_features, n_features))
    column = np.zeros(n_features) if fit_intercept else None
    blocks = row_blocks(X, dtype=None if X.dtype == np.float32 else np.float64)
    w = w.astype(X.dtype, copy=False) if X.dtype == np.float32 else w
    # Rows whose weight is negligible (a sample far from a class's boundary
    # has p (1 - p) ~ 0) are skipped: with many classes most rows are, and
    # what they would add is below 1e-4 of the largest row's contribution.
    cutoff = _NEGLIGIBLE_WEIGHT * float(w.max(initial=0.0))
    for rows, block in blocks:
        w_block = w[rows, None]
        keep = w_block[:, 0] > cutoff
        if not keep.all():
            block, w_block = block[keep], w_block[keep]
        if sp.issparse(block):
            weighted = block.multiply(w_block).tocsr()
            xx += (block.T @ weighted).toarray()
        else:
            weighted = block * w_block
            xx += block.T @ weighted
        if fit_intercept:
            column += np.asarray(weighted.sum(axis=0)).ravel()
    return _bordered(xx, column, w.sum())


def _proportional_columns(weights):
    """If every column of ``weights`` is a multiple of one vector, return it
    and the multiples (the case at ``coef = 0``); otherwise None."""
    base = weights[:, 0]
    norm = base @ base
    if norm == 0:
        return None
    factors = (base @ weights) / norm
    for k, factor in enumerate(factors):
        # Column by column: no (n_samples, n_rows) temporary.
        if not np.allclose(weights[:, k], factor * base, rtol=1e-12, atol=0):
            return None
    return base, factors


def _robust_cholesky(H, ridge):
    """Cholesky factor of ``H`` plus a small relative ridge.

    The ridge keeps the factorisation defined when a feature is constant, the
    weights vanish or ``H`` was accumulated in float32; it is raised until
    the factorisation succeeds.
    """
    scale = max(np.trace(H) / H.shape[0], 1e-300)
    while True:
        try:
            return np.linalg.cholesky(H + (ridge * scale + 1e-300) * np.eye(len(H)))
        except np.linalg.LinAlgError:
            ridge *= 100.0


def _cholesky_factors(X, weights, l2_reg, fit_intercept):
    n_rows = weights.shape[1]
    p = X.shape[1] + fit_intercept
    shared = _proportional_columns(weights)
    l2_reg = np.broadcast_to(l2_reg, (n_rows,))
    # H_k = m_k (G + l2_0 D) for every row when the weights are proportional
    # and the penalties follow the same multiples: one Gram matrix serves all.
    if shared is not None and np.allclose(
        l2_reg, l2_reg[0] * shared[1] / shared[1][0], rtol=1e-12, atol=0
    ):
        base, multiples = shared
        columns = base[:, None]
    else:
        columns, multiples = weights, np.ones(n_rows)
    # One Gram per distinct weight column. (Forming them all in one product
    # of row-wise outer products was measured 2-5x slower than this loop.)
    grams = [
        _weighted_gram(X, columns[:, k], fit_intercept) for k in range(columns.shape[1])
    ]
    factors = []
    for k, H in enumerate(grams):
        if columns.shape[1] == 1:
            H *= multiples[0]
        penalty = l2_reg[k]
        H[np.diag_indices(p)] += penalty_diagonal(X.shape[1], fit_intercept, penalty)
        factors.append(
            _robust_cholesky(H, ridge=1e-10 if X.dtype == np.float64 else 1e-6)
        )
    factors = np.stack(factors)
    identical = np.allclose(multiples, multiples[0], rtol=1e-12, atol=0)
    if columns.shape[1] == 1 and n_rows > 1 and not identical:
        # Rows differ only by a scalar: their factors are scaled copies.
        relative = np.sqrt(multiples / multiples[0])
        factors = factors * relative[:, None, None]
    return CholeskyPreconditioner(factors)


def _diagonal(X, weights, l2_reg, fit_intercept):
    first, second, total = _weighted_moments(X, weights)
    total = np.maximum(total, 1e-300)
    l2_reg = np.broadcast_to(l2_reg, (weights.shape[1],))
    if fit_intercept:
        mean = (first / total).T
        variance = second.T - total[:, None] * mean**2
    else:
        mean = None
        variance = second.T
    variance = np.maximum(variance, 0.0) + l2_reg[:, None]
    floor = 1e-12 * max(variance.max(), 1e-300)
    scale = np.sqrt(np.maximum(variance, floor))
    intercept_scale = np.sqrt(total) if fit_intercept else None
    return DiagonalPreconditioner(scale, mean, intercept_scale)


def build_preconditioner(X, weights, l2_reg, fit_intercept, kind="auto"):
    """Preconditioner from curvature weights.

    Parameters
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
    weights : ndarray of shape (n_samples, n_rows)
        Curvature weights ``w_ik`` of each sample for each row.
    l2_reg : float or ndarray of shape (n_rows,)
        Penalty of each row.
    fit_intercept : bool
    kind : {"auto", "cholesky", "diagonal"}, default="auto"
        "auto" picks Cholesky up to ``MAX_CHOLESKY_FEATURES`` features.

    Returns
    -------
    preconditioner : CholeskyPreconditioner or DiagonalPreconditioner
    """
    if kind == "auto":
        kind = "cholesky" if X.shape[1] <= MAX_CHOLESKY_FEATURES else "diagonal"
    weights = np.asarray(weights, dtype=np.float64)
    if kind == "cholesky":
        return _cholesky_factors(X, weights, l2_reg, fit_intercept)
    return _diagonal(X, weights, l2_reg, fit_intercept)
