"""Products with the data matrix ``X``: the only place that touches ``X``.

Every objective evaluation is two products with ``X`` (scores ``W X^T`` and
the transposed product ``R X``), and the preconditioner needs weighted Gram
matrices ``X^T diag(w) X``. They live here so that the loss stays about
probabilities and the preconditioner about factorisations.

Scores and residuals are laid out as ``(n_outputs, n_samples)``: the class
reductions a softmax needs (maximum, normaliser) then run over contiguous
memory. Coefficients are one matrix ``coef`` of shape
``(n_outputs, n_features + fit_intercept)``, the intercept in the last column.

When float32 data meet float64 arithmetic, ``X`` is converted block by block
(at most ``CHUNK_ROWS`` rows at a time), so no float64 copy of ``X`` is ever
made.
"""

import numpy as np
import scipy.sparse as sp

__all__ = [
    "CHUNK_ROWS",
    "gram_blocks",
    "row_blocks",
    "scores",
    "transposed_product",
    "weighted_gram",
    "weighted_moments",
]

# Rows converted at a time when float32 data meet float64 arithmetic: the
# temporary is CHUNK_ROWS * n_features values, whatever n_samples is.
CHUNK_ROWS = 8192


def row_blocks(X, dtype=np.float64):
    """Yield ``(rows, block)``: a slice and that slice of X as ``dtype``.

    ``dtype=None`` keeps X's own dtype. Blocks are views when no conversion
    is needed (callers must not write to them) and small temporary copies
    otherwise.
    """
    for start in range(0, X.shape[0], CHUNK_ROWS):
        rows = slice(start, min(start + CHUNK_ROWS, X.shape[0]))
        block = X[rows]
        if dtype is None:
            yield rows, block
        elif sp.issparse(block):
            yield rows, block.astype(dtype, copy=False)
        else:
            yield rows, np.asarray(block, dtype=dtype)


def scores(X, coef, fit_intercept, dtype, out=None):
    """Linear scores ``W X^T + b`` of shape (n_outputs, n_samples) in ``dtype``.

    ``dtype`` is the precision of the product: float32 only for float32 ``X``
    (float64 ``X`` is never rounded down).
    """
    n_features = X.shape[1]
    W = coef[:, :n_features]
    if out is None:
        out = np.empty((coef.shape[0], X.shape[0]), dtype=dtype)
    if X.dtype != out.dtype:
        # float32 X, float64 arithmetic: convert by blocks, never all of X.
        for rows, block in row_blocks(X):
            if sp.issparse(block):
                out[:, rows] = (block @ W.T).T
            else:
                np.matmul(W, block.T, out=out[:, rows])
    elif sp.issparse(X):
        out[...] = (X @ W.astype(out.dtype, copy=False).T).T
    elif out.dtype == np.float32:
        # OpenBLAS's sgemm is about twice as fast writing (n_samples,
        # n_outputs) as writing its transpose; the transposing copy costs far
        # less than the difference (float64 shows no such gap).
        np.copyto(out, np.matmul(X, W.astype(np.float32).T).T)
    else:
        np.matmul(W.astype(out.dtype, copy=False), X.T, out=out)
    if fit_intercept:
        out += coef[:, n_features, None].astype(out.dtype, copy=False)
    return out


def transposed_product(residual, X, fit_intercept):
    """``[R X, R 1]`` in float64 for ``R`` of shape (n_outputs, n_samples).

    The gradient's and the Hessian-vector product's data part: shape
    ``(n_outputs, n_features + fit_intercept)``.
    """
    n_features = X.shape[1]
    out = np.empty((residual.shape[0], n_features + fit_intercept))
    if X.dtype != residual.dtype:
        total = np.zeros((residual.shape[0], n_features))
        for rows, block in row_blocks(X):
            if sp.issparse(block):
                total += (block.T @ residual[:, rows].T).T
            else:
                total += residual[:, rows] @ block
        out[:, :n_features] = total
    elif sp.issparse(X):
        out[:, :n_features] = (X.T @ residual.T).T
    else:
        out[:, :n_features] = residual @ X
    if fit_intercept:
        out[:, n_features] = residual.sum(axis=1, dtype=np.float64)
    return out


def weighted_moments(X, weights):
    """``X^T W``, ``(X * X)^T W`` and ``sum W`` for weights of shape (n, m).

    The statistics of a diagonal preconditioner; sparse ``X`` stays sparse.
    """
    first = np.zeros((X.shape[1], weights.shape[1]))
    second = np.zeros_like(first)
    for rows, block in row_blocks(X):
        w = weights[rows]
        first += np.asarray(block.T @ w)
        squared = block.power(2) if sp.issparse(block) else np.square(block)
        second += np.asarray(squared.T @ w)
    return first, second, weights.sum(axis=0)


# Rows whose curvature weight is below this fraction of the largest one are
# left out of a Gram matrix: with many classes most rows are far from a given
# class's boundary (p (1 - p) ~ 0), and what they would add is negligible for
# a preconditioner.
NEGLIGIBLE_WEIGHT = 1e-4

# With many more rows than features, a Gram matrix is estimated from a sample
# of rows drawn in proportion to their weights: SAMPLE_ROWS_PER_FEATURE rows
# per coefficient (at least MIN_SAMPLE_ROWS) give a relative error of about
# sqrt(1 / SAMPLE_ROWS_PER_FEATURE), far inside what a preconditioner needs,
# at a fraction of the cost of the full weighted Gram.
SAMPLE_ROWS_PER_FEATURE = 20
MIN_SAMPLE_ROWS = 2048


def _sample_size(n_samples, n_coef):
    """Rows to sample for a Gram of ``n_coef`` columns, or None for all rows."""
    size = max(MIN_SAMPLE_ROWS, SAMPLE_ROWS_PER_FEATURE * n_coef)
    return size if n_samples > 2 * size else None


def importance_rows(w, size):
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
    rows, row_weight = importance_rows(w, size)
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


def weighted_gram(X, w, fit_intercept, exact=False):
    """``[X, 1]^T diag(w) [X, 1]``, accumulated in float64.

    For a preconditioner (``exact=False``) it is estimated from a weighted
    sample of rows on tall X, rows of negligible weight are skipped, and the
    products run in X's own precision: plenty, since its Cholesky adds a
    ridge. ``exact=True`` (a Newton system; ``w`` may be negative) uses every
    row in float64.
    """
    n_features = X.shape[1]
    size = None if exact else _sample_size(X.shape[0], n_features + fit_intercept)
    if size is not None and np.sum(w, dtype=np.float64) > 0:
        return _sampled_gram(X, w, fit_intercept, size)
    xx = np.zeros((n_features, n_features))
    column = np.zeros(n_features) if fit_intercept else None
    low_precision = X.dtype == np.float32 and not exact
    blocks = row_blocks(X, dtype=None if low_precision else np.float64)
    w = w.astype(X.dtype, copy=False) if low_precision else w
    cutoff = NEGLIGIBLE_WEIGHT * float(w.max(initial=0.0))
    for rows, block in blocks:
        w_block = w[rows, None]
        keep = w_block[:, 0] > cutoff
        if not exact and not keep.all():
            block, w_block = block[keep], w_block[keep]
        if sp.issparse(block):
            weighted = block.multiply(w_block).tocsr()
            xx += (block.T @ weighted).toarray()
        else:
            weighted = block * w_block
            xx += block.T @ weighted
        if fit_intercept:
            column += np.asarray(weighted.sum(axis=0), dtype=np.float64).ravel()
    return _bordered(xx, column, float(np.sum(w, dtype=np.float64)))


def _proportional_columns(weights):
    """If every column of ``weights`` is a multiple of the first, return
    those multiples (the case at ``coef = 0``); otherwise None."""
    base = weights[:, 0]
    norm = base @ base
    if norm == 0:
        return None
    factors = (base @ weights) / norm
    for k, factor in enumerate(factors):
        # Column by column: no (n_samples, n_outputs) temporary.
        if not np.allclose(weights[:, k], factor * base, rtol=1e-12, atol=0):
            return None
    return factors


def gram_blocks(X, weights, fit_intercept):
    """Per-column Gram matrices ``[X, 1]^T diag(w_k) [X, 1]``, shape
    ``(n_columns, p, p)``, for a preconditioner (see :func:`weighted_gram`).

    When the columns of ``weights`` are proportional (every output at
    ``coef = 0``) one Gram is formed and scaled.
    """
    multiples = _proportional_columns(weights)
    if multiples is not None:
        gram = weighted_gram(X, weights[:, 0], fit_intercept)
        return gram[None] * multiples[:, None, None]
    return np.stack([weighted_gram(X, w, fit_intercept) for w in weights.T])
