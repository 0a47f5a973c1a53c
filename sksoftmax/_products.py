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
(at most ``CHUNK_ENTRIES`` values at a time), so no float64 copy of ``X`` is ever
made.
"""

import contextlib
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ._blas import OneThreadLimit, avx512_kernels, numpy_blas_controllers
from ._blas import blas_threads as _blas_threads

__all__ = [
    "augmented_columns",
    "largest_magnitude",
    "largest_safe_value",
    "CHUNK_ENTRIES",
    "GramPlan",
    "gram_blocks",
    "gram_threads",
    "gram_plans",
    "gram_sample_size",
    "row_blocks",
    "row_slice",
    "scores",
    "transposed_product",
    "weighted_gram",
    "weighted_moments",
]

# Values of X converted (or squared) at a time when float32 data meet
# float64 arithmetic: the temporary is at most CHUNK_ENTRIES values (2 MiB in
# float64; at least one row), whatever the shape of X. A row count instead
# made the squared chunk of 784-pixel images 51 MB, the size of X itself.
CHUNK_ENTRIES = 1 << 18


def largest_safe_value(n_features):
    """The largest ``|x|`` for which a sum of ``n_features`` squares of
    entries of ``X`` (a row's squared norm, an entry of ``X X^T``, the
    preconditioner's second moments) cannot overflow in float64, with a
    factor 4 to spare for rounding.

    Examples
    --------
    >>> from sksoftmax._products import largest_safe_value
    >>> f"{largest_safe_value(10_000):.1e}"
    '3.4e+151'
    """
    return float(np.sqrt(np.finfo(np.float64).max / max(n_features, 1))) / 4.0


def largest_magnitude(X):
    """``max |x|`` over the entries (stored values, for sparse ``X``) of
    ``X``, in two passes without a temporary the size of ``X``; 0 for no
    entries."""
    values = X.data if sp.issparse(X) else X
    if values.size == 0:
        return 0.0
    return max(float(values.max()), -float(values.min()))


def row_slice(X, rows):
    """The rows ``rows`` (a slice of step 1) of ``X``, sharing its memory:
    a view of dense ``X``; for CSR ``X``, a matrix on its stored values and
    column indices.

    scipy's own CSR row slicing copies those, even for a slice of all rows;
    this copies only the slice's row pointers (one integer per row).

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp
    >>> from sksoftmax._products import row_slice
    >>> X = sp.csr_matrix(np.arange(6.0).reshape(3, 2))
    >>> part = row_slice(X, slice(1, 3))
    >>> part.toarray()
    array([[2., 3.],
           [4., 5.]])
    >>> np.shares_memory(part.data, X.data)
    True
    """
    start, stop, step = rows.indices(X.shape[0])
    if step != 1:
        raise ValueError(f"row_slice takes a slice of step 1, got step {step}")
    if not sp.issparse(X):
        return X[rows]
    stop = max(start, stop)
    indptr = X.indptr[start : stop + 1]
    first, last = indptr[0], indptr[-1]
    # An empty matrix given the slices as its arrays: scipy's constructor
    # would copy a slice under half the size of its base ("prune"), i.e.
    # every block of data split into more than two.
    part = type(X)((stop - start, X.shape[1]), dtype=X.dtype)
    part.data = X.data[first:last]
    part.indices = X.indices[first:last]
    part.indptr = indptr - first
    return part


def row_blocks(X, dtype=np.float64, rows_per_block=None):
    """Yield ``(rows, block)``: a slice and that slice of X as ``dtype``.

    ``dtype=None`` keeps X's own dtype. Blocks are views when no conversion
    is needed (callers must not write to them) and small temporary copies
    otherwise. They hold ``rows_per_block`` rows, by default as many as keep
    a block within ``CHUNK_ENTRIES`` values.
    """
    sparse = sp.issparse(X)
    n_samples = X.shape[0]
    if rows_per_block is None:
        # Values per row: the average number of non-zeros for sparse X.
        per_row = X.nnz / max(n_samples, 1) if sparse else X.shape[1]
        rows_per_block = max(1, int(CHUNK_ENTRIES // max(per_row, 1)))
    # Whether X is sparse is settled once, and dense blocks are plain slices:
    # the small-matrix chunks of an evaluation are many and short (1,200 x 294
    # with 6 outputs: 9 per evaluation), and six blocks then cost 2.8 us
    # instead of 6.2 (row_slice and the sparse test per block).
    for start in range(0, n_samples, rows_per_block):
        rows = slice(start, min(start + rows_per_block, n_samples))
        if sparse:
            block = row_slice(X, rows)
            yield rows, block if dtype is None else block.astype(dtype, copy=False)
        else:
            block = X[rows]
            yield rows, block if dtype is None else np.asarray(block, dtype=dtype)


# Other kernels (measured with OpenBLAS's Haswell kernels, on an AMD EPYC
# and on an Intel Xeon): sgemm is about twice as fast writing (n_samples,
# n_outputs) as writing its transpose, and the transposing copy costs far
# less than the difference, so float32 scores always take that orientation.
# In float64, dgemm is faster that way only for blocks with at least this
# many features, except with 2 or 3 outputs, where the two orientations run
# within 10% of each other. Blocks of 600-2,000 rows with 294 or 784
# features: 1.06-1.66x faster with 2 threads, 0.93-1.32x with one, for 1 and
# 4-50 outputs (2,000 x 5,000, 5 outputs: 1.4x and 1.08x). With 64-72
# features it was 0.7-1.3x, so narrower float64 blocks keep the
# (n_outputs, n_samples) product.
TRANSPOSED_SCORES_MIN_FEATURES = 256
TRANSPOSED_SCORES_OUTPUTS_EXCLUDED = (2, 3)
# AVX-512 kernels: the plain float64 product W X^T was as fast or faster on
# every block shape of the benchmark (1,200 x 294 with 6 outputs: 1.5x with
# one thread, 1.3x with two), and float32 scores are faster transposed only
# from this many features (16 features: 1.3x slower transposed; 36: 1.05x
# faster; 294-784: 1.2-1.5x faster).
AVX512_TRANSPOSED_FLOAT32_SCORES_MIN_FEATURES = 32


# OpenBLAS's AVX-512 dgemm has a second code path for small calls, without
# the packing of its general one, and it is up to 3x faster on the skinny
# products of an evaluation. One thread, ns per row of X, whole block
# against row chunks that qualify: 294 features and 6 outputs, scores 155
# against 72 and R X 130 against 75; 784 and 10, 560 against 340 and 500
# against 315; 5,000 and 5, 4,400 against 1,300 for either. A call takes it
# when it makes at most SMALL_DGEMM_MAX_MULTIPLY_ADDS multiply-adds and, in
# the scores' orientation (W X^T, a transposed X), writes at most
# SMALL_DGEMM_MAX_SCORES_ENTRIES entries with at least
# SMALL_DGEMM_MIN_FEATURES features: the steps in the timings fall exactly
# there on every shape measured. So dense float64 products run in row chunks
# that stay within those limits, unless a chunk would have fewer than
# SMALL_DGEMM_MIN_ROWS rows (in an evaluation, 2,000 x 5,000 with 5
# outputs: 40-row chunks of R X 0.84x as fast as one product; 50 outputs'
# 24-row score chunks 0.8-0.9x), or the whole product has more than
# SMALL_DGEMM_MAX_BLOCK_MULTIPLY_ADDS: the small path runs on one thread,
# while OpenBLAS splits larger products over its threads (10,000 x 784
# pixels in 668-row blocks, 5.2M multiply-adds: fits 1.05x faster with one
# thread but 0.83x with two).
#
# In the scores' orientation the chunks pay less than those limits allow
# (medians of 9 on the benchmark machine, OpenBLAS 0.3.31 SkylakeX kernels;
# chunk time over whole-product time): with fewer than
# SMALL_DGEMM_MIN_FEATURES features they lose even on one thread (6,400 x 36
# with 6 outputs: 1.26x slower, 10 outputs: 1.64x; 3,000 x 48: 1.04x), and
# with more than one BLAS thread, which the small path cannot use, they pay
# only for products OpenBLAS itself runs on one thread (at most
# SMALL_DGEMM_UNTHREADED_MULTIPLY_ADDS: 1,200 x 64 with 6 outputs 0.89x, 600 x
# 72 0.83x) or for wide rows in long chunks (at least
# SMALL_DGEMM_THREADED_MIN_FEATURES features and
# SMALL_DGEMM_THREADED_MIN_ROWS rows per chunk: 1,200 x 294 with 6 outputs
# 0.76x, with 3 outputs 0.77x, 1,200 x 150 0.88x). Elsewhere two threads beat
# them: 1,797 x 64 with 10 outputs 1.63x, 1,200 x 294 with 12 outputs 1.58x,
# 3,000 x 100 with 6 outputs 1.14x, 500 x 784 with 10 outputs 1.04x.
SMALL_DGEMM_MAX_MULTIPLY_ADDS = 1_000_000
SMALL_DGEMM_MAX_SCORES_ENTRIES = 1_200
SMALL_DGEMM_MIN_FEATURES = 64
SMALL_DGEMM_MIN_ROWS = 100
SMALL_DGEMM_MAX_BLOCK_MULTIPLY_ADDS = 4_000_000
SMALL_DGEMM_UNTHREADED_MULTIPLY_ADDS = 500_000
SMALL_DGEMM_THREADED_MIN_FEATURES = 150
SMALL_DGEMM_THREADED_MIN_ROWS = 200


# OpenBLAS (0.3.31) splits a Gram-shaped product, a p x p result summed over
# many rows (the preconditioner's X^T diag(w) X, a Newton system's blocks),
# over its threads by the result's columns, and with few columns the threads
# cost more than they give. Two threads against one, medians of 20-100 on the
# benchmark machine (dsyrk, rows x columns): 600-30,000 x 37 2.3-2.6x slower,
# x 65 2.0-2.3x, x 101 1.8-1.9x, x 201 1.1-1.3x, 2,048 x 240 1.3x; 1,200-8,000
# x 256-300 0.93-1.07x (even); 2,000 x 400 1.29x faster, 5,000 x 2,000 1.68x.
# The general product (a Newton system's signed weights) behaves the same
# (6,400 x 37: 3.3x slower). With 16 columns OpenBLAS keeps one thread itself.
# So Grams of fewer than GRAM_THREADED_MIN_COLUMNS columns run on one thread.
GRAM_THREADED_MIN_COLUMNS = 256

_NUMPY_ONE_THREAD = OneThreadLimit(numpy_blas_controllers)


def gram_threads(n_columns):
    """Context manager: numpy's BLAS on one thread inside it when a Gram
    matrix of ``n_columns`` columns is formed there (see
    ``GRAM_THREADED_MIN_COLUMNS`` and :class:`~sksoftmax._blas.OneThreadLimit`).

    Examples
    --------
    >>> import numpy as np
    >>> from sksoftmax._products import gram_threads
    >>> S = np.ones((1000, 40))
    >>> with gram_threads(S.shape[1]):
    ...     gram = S.T @ S
    >>> float(gram[0, 0])
    1000.0
    """
    if n_columns >= GRAM_THREADED_MIN_COLUMNS:
        return contextlib.nullcontext()
    return _NUMPY_ONE_THREAD.hold()


def _small_dgemm_rows(n_samples, n_features, n_outputs, scores):
    """Rows per chunk that keep a dense float64 product on OpenBLAS's
    AVX-512 small-matrix path, or None for one product over all rows (see
    ``SMALL_DGEMM_MAX_MULTIPLY_ADDS``)."""
    block = n_samples * n_features * n_outputs
    if not avx512_kernels() or block > SMALL_DGEMM_MAX_BLOCK_MULTIPLY_ADDS:
        return None
    rows = SMALL_DGEMM_MAX_MULTIPLY_ADDS // max(n_outputs * n_features, 1)
    if scores:
        if n_features < SMALL_DGEMM_MIN_FEATURES:
            return None
        rows = min(rows, SMALL_DGEMM_MAX_SCORES_ENTRIES // max(n_outputs, 1))
        if (
            block > SMALL_DGEMM_UNTHREADED_MULTIPLY_ADDS
            and (
                n_features < SMALL_DGEMM_THREADED_MIN_FEATURES
                or rows < SMALL_DGEMM_THREADED_MIN_ROWS
            )
            and _blas_threads() > 1
        ):
            return None
    if rows < SMALL_DGEMM_MIN_ROWS or rows >= n_samples:
        return None
    return rows


def _scores_transposed(dtype, n_features, n_outputs):
    """Whether a dense block's scores are computed as ``X W^T`` and
    transposed (see ``sksoftmax._blas.AVX512_OPENBLAS_KERNELS``)."""
    if avx512_kernels():
        return (
            dtype == np.float32
            and n_features >= AVX512_TRANSPOSED_FLOAT32_SCORES_MIN_FEATURES
        )
    return dtype == np.float32 or (
        n_features >= TRANSPOSED_SCORES_MIN_FEATURES
        and n_outputs not in TRANSPOSED_SCORES_OUTPUTS_EXCLUDED
    )


def _gradient_transposed(n_samples, n_features):
    """Whether a dense block's ``R X`` is computed as ``(X^T R^T)^T``.

    Other kernels: for blocks with at most as many features as rows, OpenBLAS
    splits the product over its threads far better when it writes the
    (n_features, n_outputs) result (blocks of 600-6,667 rows, 16-784
    features: 1.2-2x faster with 2 threads, 0.86-1.4x with one; fits 1.11-1.13x
    faster on 200,000 x 20, 10,000 x 100 with 50 labels and 1,200 x 294).
    Wider blocks (2,000 x 5,000) were slower that way. AVX-512 kernels: the
    plain ``R X`` was faster on most shapes (1,200 x 294 with 6 outputs: 1.7x
    with one thread; 8,192 x 16 with 26 outputs: 1.3-1.9x; 2,000 x 5,000:
    1.5x) and at most 1.15x slower on the others (6,553 x 20, 5 outputs).
    """
    return not avx512_kernels() and n_features <= n_samples


# Transposed scores are formed at most TRANSPOSE_CHUNK_ENTRIES at a time:
# each chunk's product lands in a buffer that its transposing copy then reads
# from cache, instead of a fresh full-size result (4 MB to fault in) read
# back from memory. One 100,000 x 100 float32 block with 10 outputs: 1.17-1.24x
# faster (4.6 ms against 5.5 ms with one thread); chunks of 32,768 entries
# were as fast there but 0.86-0.95x on in-memory blocks. This is the
# in-memory block size (sksoftmax._objective.BLOCK_ENTRIES), so the blocks of
# in-memory fits are one chunk; dask chunks and single large blocks are not.
TRANSPOSE_CHUNK_ENTRIES = 1 << 18


def _transposed_scores(X, W, out):
    """``out = W X^T`` computed as ``(X W^T)^T``, chunk by chunk of rows."""
    n_samples, n_outputs = X.shape[0], W.shape[0]
    chunk = max(1, TRANSPOSE_CHUNK_ENTRIES // n_outputs)
    buffer = np.empty((min(chunk, n_samples), n_outputs), dtype=out.dtype)
    for rows, block in row_blocks(X, None, chunk):
        part = buffer[: block.shape[0]]
        np.matmul(block, W.T, out=part)
        np.copyto(out[:, rows], part.T)


def scores(X, coef, fit_intercept, dtype, out=None, columns=None):
    """Linear scores ``W X^T + b`` of shape (n_outputs, n_samples) in ``dtype``.

    ``dtype`` is the precision of the product: float32 only for float32 ``X``
    (float64 ``X`` is never rounded down). ``columns``, if given, says that
    the columns of ``X`` from that one on are zero: they are left out of the
    product.
    """
    n_features = X.shape[1]
    W = coef[:, :n_features]
    if columns is not None and columns < n_features:
        X, W = X[:, :columns], W[:, :columns]
    if out is None:
        out = np.empty((coef.shape[0], X.shape[0]), dtype=dtype)
    if not W.any():
        # A cold start (coef = 0): the product would be all zeros. The test
        # costs about 1% of a product; the saving is one product per fit.
        out[...] = 0
    elif X.dtype != out.dtype:
        # float32 X, float64 arithmetic: convert by blocks, never all of X.
        _blockwise_scores(W, row_blocks(X), out)
    elif sp.issparse(X):
        out[...] = (X @ W.astype(out.dtype, copy=False).T).T
    elif _scores_transposed(out.dtype, X.shape[1], coef.shape[0]):
        _transposed_scores(X, W.astype(out.dtype, copy=False), out)
    else:
        W = W.astype(out.dtype, copy=False)
        chunk = None
        if out.dtype == np.float64:
            chunk = _small_dgemm_rows(X.shape[0], X.shape[1], W.shape[0], True)
        if chunk is None:
            np.matmul(W, X.T, out=out)
        else:
            _blockwise_scores(W, row_blocks(X, None, chunk), out)
    if fit_intercept:
        out += coef[:, n_features, None].astype(out.dtype, copy=False)
    return out


def _blockwise_scores(W, blocks, out):
    """``out = W X^T`` block by block of rows (``blocks`` from
    :func:`row_blocks`)."""
    # isinstance of ndarray: 0.06 us per block against sp.issparse's 0.19.
    for rows, block in blocks:
        if isinstance(block, np.ndarray):
            np.matmul(W, block.T, out=out[:, rows])
        else:
            out[:, rows] = (block @ W.T).T


def _summed_products(residual, blocks, n_features):
    """``R X`` in float64, summed block by block of rows (``blocks`` from
    :func:`row_blocks`)."""
    total = np.zeros((residual.shape[0], n_features))
    for rows, block in blocks:
        if isinstance(block, np.ndarray):
            total += residual[:, rows] @ block
        else:
            total += (block.T @ residual[:, rows].T).T
    return total


def transposed_product(residual, X, fit_intercept, columns=None):
    """``[R X, R 1]`` in float64 for ``R`` of shape (n_outputs, n_samples).

    The gradient's and the Hessian-vector product's data part: shape
    ``(n_outputs, n_features + fit_intercept)``. ``columns``, if given, says
    that the columns of ``X`` from that one on are zero: their entries are
    zero without a product.
    """
    n_features = X.shape[1]
    out = np.empty((residual.shape[0], n_features + fit_intercept))
    if columns is not None and columns < n_features:
        out[:, columns:n_features] = 0.0
        X = X[:, :columns]
    used = X.shape[1]
    if X.dtype != residual.dtype:
        out[:, :used] = _summed_products(residual, row_blocks(X), used)
    elif sp.issparse(X) or _gradient_transposed(X.shape[0], used):
        out[:, :used] = (X.T @ residual.T).T
    else:
        chunk = None
        if X.dtype == np.float64:
            chunk = _small_dgemm_rows(X.shape[0], used, residual.shape[0], False)
        if chunk is None:
            out[:, :used] = residual @ X
        else:
            blocks = row_blocks(X, None, chunk)
            out[:, :used] = _summed_products(residual, blocks, used)
    if fit_intercept:
        out[:, n_features] = residual.sum(axis=1, dtype=np.float64)
    return out


def weighted_moments(X, weights):
    """``X^T W``, ``(X * X)^T W`` and ``sum W`` for weights of shape (n, m).

    The statistics of a diagonal preconditioner; sparse ``X`` stays sparse.
    """
    # Columns that are multiples of one (every output at coef = 0) need the
    # products with that one only: K times fewer multiply-adds.
    multiples = _proportional_columns(weights)
    columns = weights if multiples is None else weights[:, :1]
    first = np.zeros((X.shape[1], columns.shape[1]))
    second = np.zeros_like(first)
    for rows, block in row_blocks(X):
        w = columns[rows]
        first += np.asarray(block.T @ w)
        squared = block.power(2) if sp.issparse(block) else np.square(block)
        second += np.asarray(squared.T @ w)
    if multiples is not None:
        first, second = first * multiples, second * multiples
    return first, second, weights.sum(axis=0)


# Rows whose curvature weight is below this fraction of the *mean* weight are
# left out of a preconditioner's Gram matrix: with many classes most rows are
# far from a given class's boundary (p (1 - p) ~ 0). What they would add is at
# most this fraction of the total weight, negligible for a preconditioner. The
# mean, unlike the maximum, is a sum over rows: the same for any split of the
# rows into blocks or chunks.
NEGLIGIBLE_WEIGHT = 1e-4

# With many more rows than features, a Gram matrix is estimated from a sample
# of rows drawn in proportion to their weights: SAMPLE_ROWS_PER_FEATURE rows
# per coefficient (at least MIN_SAMPLE_ROWS) give a relative error of about
# sqrt(1 / SAMPLE_ROWS_PER_FEATURE), far inside what a preconditioner needs,
# at a fraction of the cost of the full weighted Gram.
SAMPLE_ROWS_PER_FEATURE = 20
MIN_SAMPLE_ROWS = 2048

# The fractional part of i * GOLDEN_RATIO_FRACTION (a Weyl sequence) is
# spread evenly over [0, 1) for consecutive integers i: a deterministic
# "uniform draw" for global row i, the same whichever block holds the row.
GOLDEN_RATIO_FRACTION = (np.sqrt(5.0) - 1.0) / 2.0


def gram_sample_size(n_samples, n_coef):
    """Rows to sample for a Gram of ``n_coef`` columns, or None for all rows."""
    size = max(MIN_SAMPLE_ROWS, SAMPLE_ROWS_PER_FEATURE * n_coef)
    return size if n_samples > 2 * size else None


@dataclass(frozen=True)
class GramPlan:
    """How the Gram of one weight column is formed, decided from sums over
    all rows so that it does not depend on how rows are split in blocks.

    Attributes
    ----------
    total : float
        Sum of the column's weights over all rows.
    size : int or None
        Expected number of sampled rows, or None to use every row.
    cutoff : float
        Rows of smaller weight are skipped (unsampled Grams).
    """

    total: float
    size: object
    cutoff: float


def gram_plans(totals, n_samples, n_coef):
    """One :class:`GramPlan` per weight column, from the columns' totals."""
    size = gram_sample_size(n_samples, n_coef)
    return [
        GramPlan(float(total), size, NEGLIGIBLE_WEIGHT * float(total) / n_samples)
        for total in np.atleast_1d(totals)
    ]


def weyl_draws(start, n_rows):
    """The "uniform draws" of global rows ``start .. start + n_rows - 1``
    (see ``GOLDEN_RATIO_FRACTION``), shape (n_rows,)."""
    draws = (start + np.arange(n_rows)) * GOLDEN_RATIO_FRACTION
    # The fractional part: x - floor(x) is exact for x >= 0, the same as
    # np.mod(x, 1.0), which was 10x slower and 85% of this function's time.
    np.subtract(draws, np.floor(draws), out=draws)
    return draws


def importance_rows(w, start, plan, draws=None):
    """Rows drawn with probability proportional to ``w``, and their weights.

    Poisson sampling: global row ``start + i`` is drawn when its Weyl-sequence
    draw is below ``pi_i = min(1, size * w_i / total)`` and then stands for
    ``w_i / pi_i`` of weight (an unbiased estimate). Deterministic, spread over
    the whole data, every row of weight above ``total / size`` is drawn, and
    the same rows are drawn whichever block holds them. ``draws`` are
    :func:`weyl_draws` of these rows, when the caller already has them (the
    same for every weight column).
    """
    if draws is None:
        draws = weyl_draws(start, w.shape[0])
    inclusion = np.minimum(1.0, (plan.size / plan.total) * w)
    rows = np.flatnonzero(draws < inclusion)
    return rows, w[rows] / inclusion[rows]


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


def _sampled_gram(X, w, fit_intercept, start, plan, draws=None):
    """Estimate of ``[X, 1]^T diag(w) [X, 1]`` from rows sampled by
    :func:`importance_rows`."""
    rows, row_weight = importance_rows(w, start, plan, draws)
    if sp.issparse(X):
        sample = X[rows].astype(np.float64)
        weighted = sample.multiply(row_weight[:, None]).tocsr()
        xx = (sample.T @ weighted).toarray()
        column = np.asarray(weighted.sum(axis=0)).ravel() if fit_intercept else None
    else:
        # np.take rather than X[rows]: the same rows, 2-3x faster (2,000 of
        # 16,384 rows of 16 features: 9 us against 28 us, per weight column).
        sample = np.asarray(np.take(X, rows, axis=0), dtype=np.float64)
        xx, column = _dense_gram(sample, row_weight)
        column = column if fit_intercept else None
    # The sample's own total keeps the bordered estimate positive definite.
    return _bordered(xx, column, float(row_weight.sum()))


# Fewest features for which _dense_gram takes the symmetric product: from 16
# it was 1.13x faster or more, and below, its vector of square roots would be
# a large share of the block's temporary (doubling it for one feature).
SYMMETRIC_GRAM_MIN_FEATURES = 16


def _dense_gram(block, w, nonnegative=True):
    """``block^T diag(w) block`` and ``block^T w`` (float64) for a dense block.

    With ``nonnegative`` weights (a preconditioner's, or a one-vs-rest
    Hessian's) and at least ``SYMMETRIC_GRAM_MIN_FEATURES`` features, the
    Gram is ``S^T S`` with ``S = diag(sqrt(w)) block``, which numpy hands to
    BLAS as a symmetric rank-k update (syrk): half the multiply-adds of the
    general product. Gram and column together, one thread, 2,048-6,400 rows
    of 16-100 features: 1.13-1.58x faster.
    """
    if nonnegative and block.shape[1] >= SYMMETRIC_GRAM_MIN_FEATURES:
        root = np.sqrt(w)
        scaled = block * root[:, None]
        column = root @ scaled
        return scaled.T @ scaled, column.astype(np.float64, copy=False)
    weighted = block * w[:, None]
    column = weighted.sum(axis=0)
    return block.T @ weighted, column.astype(np.float64, copy=False)


def weighted_gram(
    X, w, fit_intercept, exact=False, dtype=None, plan=None, start=0, draws=None
):
    """``[X, 1]^T diag(w) [X, 1]``, accumulated in float64.

    For a preconditioner (``exact=False``) it follows ``plan`` (see
    :class:`GramPlan`; by default planned from these rows alone, which start
    at global row ``start``): estimated from a weighted sample of rows on tall
    data, rows of negligible weight skipped, and the products in X's own
    precision unless ``dtype`` (the float32 policy's work precision) is
    float64: plenty, since its Cholesky adds a ridge. ``exact=True`` (a
    Newton system; ``w`` may be negative) uses every row in float64.
    ``draws`` are the rows' :func:`weyl_draws` for a sample, if at hand.
    """
    with gram_threads(X.shape[1] + 1):
        return _weighted_gram(X, w, fit_intercept, exact, dtype, plan, start, draws)


def _weighted_gram(
    X, w, fit_intercept, exact=False, dtype=None, plan=None, start=0, draws=None
):
    """:func:`weighted_gram` within the caller's :func:`gram_threads`."""
    n_features = X.shape[1]
    if not exact and plan is None:
        plan = gram_plans(np.sum(w, dtype=np.float64), X.shape[0], n_features + 1)[0]
    if not exact and plan.size is not None and plan.total > 0:
        return _sampled_gram(X, w, fit_intercept, start, plan, draws)
    xx = np.zeros((n_features, n_features))
    column = np.zeros(n_features) if fit_intercept else None
    low_precision = X.dtype == np.float32 and dtype != np.float64 and not exact
    blocks = row_blocks(X, dtype=None if low_precision else np.float64)
    w = w.astype(X.dtype, copy=False) if low_precision else w
    cutoff = 0.0 if exact else plan.cutoff
    # A preconditioner's weights are kept above the cutoff, which is at
    # least 0; an exact system's may be negative (a softmax Hessian's
    # off-diagonal class pairs), else it takes the symmetric product too.
    nonnegative = not exact or not w.size or bool(w.min() >= 0)
    for rows, block in blocks:
        w_block = w[rows]
        keep = w_block > cutoff
        if not exact and not keep.all():
            block, w_block = block[keep], w_block[keep]
        if sp.issparse(block):
            weighted = block.multiply(w_block[:, None]).tocsr()
            xx += (block.T @ weighted).toarray()
            if fit_intercept:
                column += np.asarray(weighted.sum(axis=0), dtype=np.float64).ravel()
        else:
            block_xx, block_column = _dense_gram(block, w_block, nonnegative)
            xx += block_xx
            if fit_intercept:
                column += block_column
    return _bordered(xx, column, float(np.sum(w, dtype=np.float64)))


def augmented_columns(X, columns):
    """Columns ``columns`` (sorted) of ``[X, 1]`` as a dense float64 array;
    index ``X.shape[1]`` is the intercept's column of ones. For a block of
    rows: a Newton system on a support needs only its own columns."""
    columns = np.asarray(columns)
    features = columns[columns < X.shape[1]]
    out = np.empty((X.shape[0], len(columns)))
    part = X[:, features]
    out[:, : len(features)] = part.toarray() if sp.issparse(part) else part
    out[:, len(features) :] = 1.0
    return out


# Rows that _proportional_columns tests first: weights that are not
# proportional (every point but coef = 0) almost always differ there already,
# so the test over every row runs about once per fit.
PROPORTIONAL_PRECHECK_ROWS = 64
# Then it tests slices of rows with temporaries of at most this many entries
# (256 KiB), which stay in cache: with the whole of a 20,000 x 26 array at
# once the test was 3x slower than on 10,000 rows at once.
PROPORTIONAL_CHUNK_ENTRIES = 1 << 15
# Relative tolerance of "proportional": rounding level of the weights.
PROPORTIONAL_RTOL = 1e-12


def _proportional_columns(weights):
    """If every column of ``weights`` is a multiple of the first, return
    those multiples (the case at ``coef = 0``); otherwise None.

    The test is ``allclose(weights[:, k], factor_k * weights[:, 0],
    rtol=PROPORTIONAL_RTOL, atol=0)`` for every ``k``, made on a few rows
    first and then slice by slice, in a few passes per slice instead of one
    ``allclose`` per column: at every refresh of a Cholesky preconditioner
    after the first the weights differ, and the column-by-column test cost 6%
    of a 50-label fit on 10,000 x 100 (23 ms of 370) and 5% of a 26-class
    one (7 ms of 133).
    """
    base = weights[:, 0]
    norm = base @ base
    if norm == 0:
        return None
    factors = (base @ weights) / norm
    # Column-major, as the curvature weights are laid out (a transposed view
    # of one row per output): passes in the other order were 3x slower.
    by_column = weights.T
    n_samples = weights.shape[0]
    step = max(1, PROPORTIONAL_CHUNK_ENTRIES // max(weights.shape[1], 1))
    slices = [slice(PROPORTIONAL_PRECHECK_ROWS)]
    slices += [
        slice(start, start + step)
        for start in range(PROPORTIONAL_PRECHECK_ROWS, n_samples, step)
    ]
    for rows in slices:
        expected = np.multiply.outer(factors, base[rows])
        deviation = np.subtract(by_column[:, rows], expected)
        np.abs(deviation, out=deviation)
        np.abs(expected, out=expected)
        expected *= PROPORTIONAL_RTOL
        if not np.all(deviation <= expected):
            return None
    return factors


def gram_blocks(X, weights, fit_intercept, dtype=None, plans=None, start=0):
    """Per-column Gram matrices ``[X, 1]^T diag(w_k) [X, 1]``, shape
    ``(n_columns, p, p)``, for a preconditioner (see :func:`weighted_gram`;
    ``dtype`` is the work precision, ``plans`` one :class:`GramPlan` per
    column, by default from these rows alone, which start at global row
    ``start``).

    When the columns of ``weights`` are proportional over all rows (every
    output at ``coef = 0``), their plans are too and sample the same rows: one
    Gram is formed and scaled.
    """
    with gram_threads(X.shape[1] + 1):
        return _gram_blocks(X, weights, fit_intercept, dtype, plans, start)


def _gram_blocks(X, weights, fit_intercept, dtype, plans, start):
    if plans is None:
        plans = gram_plans(weights.sum(axis=0), X.shape[0], X.shape[1] + 1)
    multiples = _proportional_columns(weights)
    totals = np.array([plan.total for plan in plans])
    if multiples is not None and np.allclose(
        totals, totals[0] * multiples, rtol=PROPORTIONAL_RTOL, atol=0
    ):
        gram = _weighted_gram(
            X, weights[:, 0], fit_intercept, dtype=dtype, plan=plans[0], start=start
        )
        return gram[None] * multiples[:, None, None]
    # Every column's sample draws from the same row draws: made once.
    sampled = any(plan.size is not None for plan in plans)
    draws = weyl_draws(start, X.shape[0]) if sampled else None
    return np.stack(
        [
            _weighted_gram(
                X, w, fit_intercept, dtype=dtype, plan=plan, start=start, draws=draws
            )
            for w, plan in zip(weights.T, plans, strict=True)
        ]
    )
