"""Row blocks of ``X``: products in float64 without a float64 copy of ``X``.

Used where float32 (or integer-valued) data must meet float64 arithmetic:
each block of at most ``CHUNK_ROWS`` rows is converted on its own, so the
temporary memory stays at ``CHUNK_ROWS * n_features`` values whatever
``n_samples`` is.
"""

import numpy as np
import scipy.sparse as sp

__all__ = ["CHUNK_ROWS", "row_blocks", "scores_float64", "residual_times_X_float64"]

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


def scores_float64(X, W, out):
    """``out[:, rows] = W @ X[rows].T`` block by block, in float64."""
    for rows, block in row_blocks(X):
        if sp.issparse(block):
            out[:, rows] = (block @ W.T).T
        else:
            np.matmul(W, block.T, out=out[:, rows])
    return out


def residual_times_X_float64(residual, X):
    """``residual @ X`` for ``residual`` of shape (n_outputs, n_samples)."""
    total = np.zeros((residual.shape[0], X.shape[1]))
    for rows, block in row_blocks(X):
        if sp.issparse(block):
            total += (block.T @ residual[:, rows].T).T
        else:
            total += residual[:, rows] @ block
    return total
