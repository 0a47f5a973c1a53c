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

Both are built from statistics the objective returns as sums over rows
(:class:`~sksoftmax._objective.SecondOrder`), never from ``X`` itself:

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

__all__ = [
    "CholeskyPreconditioner",
    "DiagonalPreconditioner",
    "IdentityPreconditioner",
    "build_preconditioner",
]

# Largest number of coefficients per row for which dense Cholesky factors are
# built; wider (or sparse and wide) problems get the diagonal one. Rebuilding
# K factors costs about p / 2 evaluations (K n p^2 against 2 K n p
# multiply-adds): at p = 785 (MNIST-like pixels) the diagonal preconditioner
# fits 2-3x faster, at p <= 100 Cholesky needs 2-4x fewer evaluations, and
# at p = 295 the two are even.
MAX_CHOLESKY_FEATURES = 256


class IdentityPreconditioner:
    """No change of variables."""

    def to_coef(self, V):
        return V

    def from_coef(self, coef):
        return coef

    def gradient_to_v(self, grad):
        return grad


def _rowwise(V, matrices):
    """Row ``k`` of ``V`` times ``matrices[k]``: one BLAS product per row
    (numpy's batched matmul of (1, p) by (p, p) stacks does not use BLAS and
    was 30x slower at p = 785)."""
    out = np.empty((V.shape[0], matrices.shape[2]))
    for k in range(V.shape[0]):
        np.dot(V[k], matrices[k], out=out[k])
    return out


def _triangular_inverse(L):
    """Inverse of the lower triangular ``L`` by LAPACK's ``trtri``: a third
    of the multiply-adds of a triangular solve against the identity, and
    less overhead per call (one thread, 6-50 factors of 17-101 columns:
    1.7-6x faster)."""
    (trtri,) = scipy.linalg.get_lapack_funcs(("trtri",), (L,))
    inverse, info = trtri(L, lower=1)
    if info != 0:
        # A zero on the diagonal (info > 0); the ridge of the factorisation
        # should make it impossible.
        raise np.linalg.LinAlgError(f"singular triangular factor (trtri info {info})")
    # trtri leaves the strictly upper triangle as it found it.
    return np.tril(inverse)


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
        self.inverses = np.stack([_triangular_inverse(L) for L in factors])

    def to_coef(self, V):
        # coef[k] = L_k^{-T} v[k], i.e. row k times L_k^{-1}
        if self.inverses.shape[0] == 1:
            return V @ self.inverses[0]
        return _rowwise(V, self.inverses)

    def from_coef(self, coef):
        # v[k] = L_k^T coef[k], i.e. row k times L_k
        if self.factors.shape[0] == 1:
            return coef @ self.factors[0]
        return _rowwise(coef, self.factors)

    def gradient_to_v(self, grad):
        # d f / d v[k] = M_k^T g[k] = L_k^{-1} g[k], i.e. row k times L_k^{-T}
        if self.inverses.shape[0] == 1:
            return grad @ self.inverses[0].T
        return _rowwise(grad, self.inverses.transpose(0, 2, 1))


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
        # Row-major, as the coefficients and gradients are: the statistics
        # arrive transposed (one column per output), and mixing layouts in
        # the passes below made each pass 3x slower on a million
        # coefficients (strided reads defeat the cache and the prefetcher).
        self.scale = np.ascontiguousarray(scale)
        self.mean = None if mean is None else np.ascontiguousarray(mean)
        self.intercept_scale = intercept_scale
        # Products instead of quotients, written into one output: with a
        # million coefficients each pass over them costs milliseconds, and
        # these run once or twice per evaluation.
        self._inverse_scale = 1.0 / self.scale

    def is_uniform(self, spread, centring):
        """Whether, in every row, the change of variables is a multiple of
        the identity to within ``spread`` (the ratio of its largest scale to
        its smallest, the intercept's included) and the centring moves no
        feature by more than ``centring`` of its standard deviation: the
        case of standardised data at ``coef = 0``."""
        scales = self.scale
        if self.intercept_scale is not None:
            scales = np.column_stack([scales, self.intercept_scale])
        if np.any(scales.max(axis=1) > spread * scales.min(axis=1)):
            return False
        if self.mean is None:
            return True
        # A feature's weighted standard deviation is about scale / e (its
        # variance is multiplied by the total weight e**2 in scale**2).
        shift = np.abs(self.mean) * self.intercept_scale[:, None]
        return bool(np.all(shift <= centring * self.scale))

    def to_coef(self, V):
        n_features = self.scale.shape[1]
        coef = np.empty_like(V)
        np.multiply(V[:, :n_features], self._inverse_scale, out=coef[:, :n_features])
        if self.mean is not None:
            coef[:, n_features] = V[:, n_features] / self.intercept_scale - np.einsum(
                "kj,kj->k", self.mean, coef[:, :n_features]
            )
        return coef

    def from_coef(self, coef):
        n_features = self.scale.shape[1]
        V = np.empty_like(coef)
        np.multiply(coef[:, :n_features], self.scale, out=V[:, :n_features])
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
        out_w = out[:, :n_features]
        if self.mean is not None:
            gb = grad[:, n_features]
            np.multiply(self.mean, gb[:, None], out=out_w)
            np.subtract(gw, out_w, out=out_w)
            out[:, n_features] = gb / self.intercept_scale
            out_w *= self._inverse_scale
        else:
            np.multiply(gw, self._inverse_scale, out=out_w)
        return out


def _robust_cholesky(H, ridge):
    """Cholesky factor of ``H`` plus a small ridge relative to its diagonal.

    ``H`` is first scaled to a unit diagonal, so that entries of very
    different sizes (a penalty of 1e250 next to an unpenalised intercept)
    keep their own scale. The ridge keeps the factorisation defined when a
    feature is constant, the weights vanish or ``H`` was accumulated in
    float32; it is raised until the factorisation succeeds.
    """
    diag = np.diag(H).copy()
    positive = diag > 0
    floor = diag[positive].min() if positive.any() else 1.0
    scale = np.sqrt(np.where(positive, diag, floor))
    unit = H / scale[:, None] / scale[None, :]
    identity = np.eye(len(H))
    while True:
        try:
            L = np.linalg.cholesky(unit + ridge * identity)
            return L * scale[:, None]
        except np.linalg.LinAlgError:
            ridge *= 100.0


def _robust_choleskys(blocks, ridge):
    """:func:`_robust_cholesky` of each block of ``blocks`` (K, p, p): one
    batched factorisation when each block has one at the first ridge (the
    usual case; the per-block calls cost more than the arithmetic at
    p = 31), else block by block."""
    diag = np.diagonal(blocks, axis1=1, axis2=2)
    positive = diag > 0
    floor = np.where(positive, diag, np.inf).min(axis=1, keepdims=True)
    floor = np.where(np.isfinite(floor), floor, 1.0)
    scale = np.sqrt(np.where(positive, diag, floor))
    unit = blocks / scale[:, :, None] / scale[:, None, :]
    unit += ridge * np.eye(blocks.shape[1])
    try:
        return np.linalg.cholesky(unit) * scale[:, :, None]
    except np.linalg.LinAlgError:
        return np.stack([_robust_cholesky(H, ridge) for H in blocks])


# Relative tolerance of "identical blocks": rounding level of the Grams.
IDENTICAL_RTOL = 1e-12


def _identical(blocks):
    """Whether every block equals the first to rounding; the diagonals are
    compared first, which settles the usual case (blocks that differ) at a
    ``p``-th of the cost (50 blocks of 102 columns: 1.8 ms per fit)."""
    diagonals = np.diagonal(blocks, axis1=1, axis2=2)
    return all(
        np.allclose(part, part[0], rtol=IDENTICAL_RTOL, atol=0)
        for part in (diagonals, blocks)
    )


def _cholesky_factors(blocks, ridge):
    """One factor per diagonal block, or one shared factor when the blocks
    are identical (every row's weights at ``coef = 0``)."""
    if blocks.shape[0] > 1 and _identical(blocks):
        return CholeskyPreconditioner(_robust_cholesky(blocks[0], ridge)[None])
    return CholeskyPreconditioner(_robust_choleskys(blocks, ridge))


def diagonal_preconditioner(moments):
    """:class:`DiagonalPreconditioner` from a row's weighted feature moments
    and penalty (:class:`~sksoftmax._objective.DiagonalMoments`)."""
    first, second, l2_reg = moments.first, moments.second, np.asarray(moments.l2)
    fit_intercept = moments.fit_intercept
    total = np.maximum(moments.total, 1e-300)
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


# Relative ridge of the Cholesky factorisation: rounding level of the Gram
# matrices, which float32 data accumulate in float32 blocks.
_RIDGE = {np.dtype(np.float64): 1e-10, np.dtype(np.float32): 1e-6}


def cholesky_preconditioner(blocks, data_dtype):
    """:class:`CholeskyPreconditioner` from the Hessian's diagonal blocks
    (penalty included), shape ``(n_rows, p, p)``."""
    return _cholesky_factors(blocks, _RIDGE.get(np.dtype(data_dtype), 1e-10))


def build_preconditioner(second_order, kind, data_dtype):
    """Preconditioner from the curvature at a point.

    Parameters
    ----------
    second_order : SecondOrder
        Curvature at the current point (:mod:`sksoftmax._objective`).
    kind : {"cholesky", "diagonal"}
        See :func:`choose_kind`.
    data_dtype : dtype
        The dtype of the products (sets the Cholesky ridge).

    Returns
    -------
    preconditioner : CholeskyPreconditioner or DiagonalPreconditioner
    """
    if kind == "cholesky":
        return cholesky_preconditioner(second_order.diagonal_blocks(), data_dtype)
    return diagonal_preconditioner(second_order.diagonal_moments())


def choose_kind(precondition, n_coef):
    """``"cholesky"`` up to ``MAX_CHOLESKY_FEATURES`` coefficients per row,
    else ``"diagonal"``; ``precondition`` may name one or be True."""
    if precondition in ("cholesky", "diagonal"):
        return precondition
    return "cholesky" if n_coef <= MAX_CHOLESKY_FEATURES else "diagonal"
