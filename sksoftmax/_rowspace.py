"""Fits on wide data in the row space of ``X``.

With an L2 penalty, the coefficients of a fit lie in the row space of ``X``:
a part of ``w`` orthogonal to every row changes no score and only adds
penalty. Write the Gram matrix of the rows as ``X X^T = Z Z^T`` (a pivoted
Cholesky factorisation, ``Z`` of shape (n_samples, r) with r the rank of
``X``). Every ``w = X^T c`` then has scores ``X w = Z b`` and penalty
``|w|^2 = |b|^2`` for ``b = Z^T c``, and every ``b`` comes from such a ``w``.
So the fit on the n_samples x r matrix ``Z``, with the same targets, weights,
intercept and penalty, has the same minimum, and its solution maps back to
``w``. This is Hastie and Tibshirani's reduction for quadratically penalised
models on expression arrays (Biostatistics 5(3), 2004), with a Cholesky
factor in place of their SVD: an order of magnitude cheaper, and any ``Z``
with ``Z Z^T = X X^T`` serves.

When ``X`` has many more features than rows, each evaluation's two products
then cost about ``(n r - r^2 / 2) K`` multiply-adds instead of ``n p K``:
with its rows in pivot order ``Z`` is lower trapezoidal, and each block of
rows leaves out the columns its rows are all zero in. Forming ``X X^T``
costs ``n^2 p``, but at the speed of a square matrix product, several times
that of the skinny products of an evaluation. :func:`row_space` builds the
reduction only where the products saved by a few evaluations pay for it,
or a few dozen where the penalty is weak enough to make the fit long.

The reduced fit starts the solve; a final run on ``X`` itself then checks
the tolerance on the true gradient (a few rows' worth of rounding in ``Z``
can leave the mapped solution a rounding step away), so the solver's
convergence test is always made on the problem the user posed.
"""

from dataclasses import dataclass

import numpy as np
import scipy.linalg
import scipy.sparse as sp

from ._blas import single_threaded_scipy_blas
from ._products import (
    CHUNK_ENTRIES,
    largest_magnitude,
    largest_safe_value,
    transposed_product,
)
from ._products import scores as score_products
from ._solver import minimize_lbfgs

__all__ = [
    "RowSpace",
    "RowSpaceCache",
    "RowSpaceStart",
    "penalty_ratio",
    "row_space",
    "row_space_break_even",
    "row_space_start",
]

# Cost model of the reduction, in multiply-adds of an evaluation's skinny
# products (an (n, p) matrix times K columns: 4-7 G multiply-adds/s on the
# benchmark machine, a 2-vCPU AMD EPYC, counting an evaluation's other work).
# X X^T is a square product that runs at 72-91 G/s there, 12-19 times an
# evaluation's rate on the shapes measured (300 x 20,000, 500 x 5,000 and
# 2,000 x 5,000), so each of its multiply-adds counts GRAM_SPEEDUP times
# less; the pivoted Cholesky factorisation (LAPACK dpstrf, n^3 / 6
# multiply-adds) ran at about 23 G/s (2,000 rows: 57 ms), FACTOR_SPEEDUP
# times an evaluation's rate. The finishing run on X costs at least
# FINISH_EVALUATIONS evaluations on X: the product that maps the solution
# back, and the evaluation that checks it.
GRAM_SPEEDUP = 12.0
FACTOR_SPEEDUP = 2.5
FINISH_EVALUATIONS = 2.0
# The reduction is built when the products saved by this many evaluations pay
# for it. An L2 fit on data with more features than rows can separate them,
# so at C >= 1 it takes many evaluations (the benchmark's 2,000 x 5,000 set:
# 85-161), while a strong penalty's may take 10-15. Measured (softmax, 3-10
# classes, A/B medians of 3): 300 x 20,000 to 1,000 x 20,000 fits 1.3-8x
# faster at C=1 and 100, 0.8-2.5x at C=0.001; 500 x 5,000 (break-even 6.8)
# 1.5-5x at C >= 1, 0.8x at C=0.001. The 2,000 x 5,000 set (break-even 30)
# is reduced only under the weak-penalty rule below.
MAX_BREAK_EVEN_EVALUATIONS = 10.0
# A weak penalty makes for long fits: when the data term's mean curvature
# scale is at least WEAK_PENALTY_RATIO times the penalty's (see
# penalty_ratio), the reduction is built up to a break-even of
# MAX_BREAK_EVEN_WEAK_PENALTY evaluations. The benchmark's 2,000 x 5,000 set
# with 5 classes (break-even 30, ratio 5,000 C) takes 35-50 evaluations on X
# at C=0.001 (ratio 5), where the reduction only broke even (0.98-1.02x),
# and 71-134 at C >= 0.003 (ratio 15 and up), where it made fits 1.36-1.77x
# faster (A/B on the EPYC, medians of 3 rounds of 3 fits).
WEAK_PENALTY_RATIO = 10.0
MAX_BREAK_EVEN_WEAK_PENALTY = 40.0
# Smaller problems are fitted on X: below this many multiply-adds in an
# evaluation's products, the second run's fixed costs (its own setup, and the
# second-order phases the solver chooses for a small reduced problem) outweigh
# what the products save. 200 x 2,000 with 3 classes (2.4e6): 0.3-0.5x at
# C=0.001, 1.3x at C >= 1, fits of 7-40 ms either way; 100 x 20,000 with 2
# classes, one output (4e6): 1.9-3.7x.
MIN_EVALUATION_MULTIPLY_ADDS = 3e6
# The run on the row space stops at this tolerance when the user's is looser:
# its evaluations are cheap, and a solution closer to the minimum lets the run
# on X stop at its first evaluation. At tol=1e-4 and the user's own
# tolerance, handovers on separable wide data were 2e-9 to 2e-6 (relative)
# above the minimum, against 1e-10 or less at 1e-8.
ROW_SPACE_TOL = 1e-8
# Rows of the factor whose upper triangle is zeroed at a time: a temporary of
# at most this many rows, instead of np.tril's full copy.
ZEROING_ROWS = 256


def row_space_break_even(n_samples, n_features, n_outputs):
    """Evaluations after which the reduction to the row space has paid for
    itself (the cost model above), or inf where it never does (no more
    features than rows).

    Examples
    --------
    >>> from sksoftmax._rowspace import row_space_break_even
    >>> round(row_space_break_even(300, 20_000, 4), 1)
    5.2
    >>> round(row_space_break_even(2_000, 5_000, 5), 1)
    30.0
    >>> row_space_break_even(2_000, 1_000, 5)
    inf
    """
    n, p = float(n_samples), float(n_features)
    if p <= n:
        return np.inf
    # The reduced data are lower triangular (n x n at most): an evaluation's
    # products on them cost about half of n^2 per output.
    saved_per_evaluation = 2.0 * n * n_outputs * (p - n / 2.0)
    evaluation = 2.0 * n * n_outputs * p
    setup = (
        n * n * p / GRAM_SPEEDUP
        + n**3 / 6.0 / FACTOR_SPEEDUP
        + FINISH_EVALUATIONS * evaluation
    )
    return setup / saved_per_evaluation


@dataclass(frozen=True)
class RowSpace:
    """A basis of the row space of ``X``: ``Y Y^T = Z Z^T`` with
    ``Z = features`` and ``Y = X[order]``, the rows of ``X`` in pivot order.

    Attributes
    ----------
    features : ndarray of shape (n_samples, rank)
        ``Z``, the data of the reduced fit: the rows' coordinates in pivot
        order, so lower trapezoidal (row ``i`` is zero from column ``i + 1``
        on), which lets the reduced fit's products skip half of ``Z``.
    order : ndarray of int, shape (n_samples,)
        Row ``i`` of ``features`` belongs to row ``order[i]`` of ``X``.
    rows : ndarray of int, shape (rank,)
        Rows of ``X`` that span its row space (the Cholesky pivots,
        ``order[:rank]``).
    factor : ndarray of shape (rank, rank)
        Lower-triangular ``Z[:rank]`` (a view): the spanning rows'
        coordinates.
    """

    features: np.ndarray
    order: np.ndarray
    rows: np.ndarray
    factor: np.ndarray

    @property
    def rank(self):
        return self.features.shape[1]

    def full_coef(self, X, coef):
        """Coefficients on ``X`` (shape (K, n_features [+ 1])) of the reduced
        coefficients ``coef`` (shape (K, rank [+ 1])); an intercept column is
        carried over."""
        reduced, intercept = coef[:, : self.rank], coef[:, self.rank :]
        # w = X^T c with Z^T c = b: c is zero outside the spanning rows, and
        # factor^T c[rows] = b there.
        c = np.zeros((coef.shape[0], X.shape[0]))
        c[:, self.rows] = scipy.linalg.solve_triangular(
            self.factor, reduced.T, lower=True, trans="T", check_finite=False
        ).T
        # (X^T c)^T as c^T X, a product over X (in float64, by blocks for
        # float32 X): no copy of its rows.
        return np.hstack([transposed_product(c, X, fit_intercept=False), intercept])

    def reduced_coef(self, X, coef):
        """The reduced coefficients of ``coef`` on ``X``: those of its
        projection on the row space, which gives the same scores."""
        n_features = X.shape[1]
        W, intercept = coef[:, :n_features], coef[:, n_features:]
        if not W.any():
            return np.hstack([np.zeros((coef.shape[0], self.rank)), intercept])
        # Z b = X w on the spanning rows: factor b = (X w)[rows].
        spanned = score_products(X, W, fit_intercept=False, dtype=np.float64)
        reduced = scipy.linalg.solve_triangular(
            self.factor, spanned[:, self.rows].T, lower=True, check_finite=False
        )
        return np.hstack([reduced.T, intercept])


def penalty_ratio(X, weights, l2):
    """The data term's mean curvature scale against the penalty.

    That is the trace of the weighted, centred ``X^T S X`` (``weights`` at
    the solver's scale, summing to one; averaged over outputs when 2-D) per
    dimension of the row space, ``min(n_samples, n_features)``, over the
    weakest penalty ``min(l2)``. The larger it is, the weaker the penalty and
    the longer a fit takes.

    Examples
    --------
    >>> import numpy as np
    >>> from sksoftmax._rowspace import penalty_ratio
    >>> X = np.random.default_rng(0).standard_normal((100, 1_000))
    >>> round(penalty_ratio(X, np.asarray(0.01), np.array([1.0, 0.5])), 1)
    19.8
    """
    n_samples, n_features = X.shape
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim == 2:
        w = w.mean(axis=1)
    squares = np.einsum("ij,ij->i", X, X, dtype=np.float64)
    if w.ndim == 0:
        total = float(w) * squares.sum()
        mean = float(w) * X.sum(axis=0, dtype=np.float64)
    else:
        total, mean = float(w @ squares), w @ X
    trace = max(total - float(mean @ mean), 0.0)
    return float(trace / (min(n_samples, n_features) * float(np.min(l2))))


def _allowed_break_even(X, break_even, weights, l2):
    """The break-even up to which the reduction is built for this fit, whose
    own is ``break_even``."""
    if weights is None or l2 is None:
        return MAX_BREAK_EVEN_EVALUATIONS
    if not MAX_BREAK_EVEN_EVALUATIONS < break_even <= MAX_BREAK_EVEN_WEAK_PENALTY:
        # Decided without the ratio, which costs two passes over X.
        return MAX_BREAK_EVEN_EVALUATIONS
    if penalty_ratio(X, weights, l2) >= WEAK_PENALTY_RATIO:
        return MAX_BREAK_EVEN_WEAK_PENALTY
    return MAX_BREAK_EVEN_EVALUATIONS


def row_space(X, n_outputs, weights=None, l2=None):
    """The :class:`RowSpace` of dense ``X`` (float64 or float32; the basis is
    float64 either way) where reducing a fit of ``n_outputs`` outputs to it
    pays (see ``MAX_BREAK_EVEN_EVALUATIONS``; with the fit's ``weights`` and
    penalties ``l2`` at the solver's scale, also
    ``MAX_BREAK_EVEN_WEAK_PENALTY``); None otherwise.

    Examples
    --------
    >>> import numpy as np
    >>> from sksoftmax._rowspace import row_space
    >>> X = np.random.default_rng(0).standard_normal((100, 20_000))
    >>> basis = row_space(X, 3)
    >>> basis.features.shape
    (100, 100)
    >>> Y = X[basis.order]
    >>> bool(np.allclose(basis.features @ basis.features.T, Y @ Y.T))
    True
    """
    if (
        sp.issparse(X)
        or not isinstance(X, np.ndarray)
        or X.dtype not in (np.float64, np.float32)
        or X.ndim != 2
        or 2.0 * X.shape[0] * X.shape[1] * n_outputs < MIN_EVALUATION_MULTIPLY_ADDS
    ):
        return None
    break_even = row_space_break_even(*X.shape, n_outputs)
    if break_even > _allowed_break_even(X, break_even, weights, l2):
        return None
    # Every entry of X X^T is a sum of n_features products of entries of X
    # (the estimators reject larger values before any fit; this keeps the
    # function safe on its own).
    largest = largest_magnitude(X)
    if not largest or largest > largest_safe_value(X.shape[1]):
        return None
    # dpstrf is scipy's LAPACK, after numpy's product (see
    # single_threaded_scipy_blas): a 0.04 ms triangular solve took 3.7 ms
    # with both OpenBLAS thread pools spinning.
    with single_threaded_scipy_blas():
        return _factorised(_gram(X), X.shape)


def _factorised(gram, shape):
    """The :class:`RowSpace` of the rows whose Gram matrix is ``gram``
    (overwritten), ``shape`` that of X; None for rank 0."""
    # A row whose squared distance from the span of the pivots so far is
    # below n_features * eps * max|x_i|^2 is within the rounding of the Gram
    # matrix's own entries (sums of n_features products): it counts as in
    # that span (exact duplicates of rows left pivots of 1e-16 with LAPACK's
    # default n_samples * eps / 2).
    tolerance = shape[1] * np.finfo(np.float64).eps * float(np.max(np.diag(gram)))
    # Symmetric, so its transpose is the same matrix in Fortran order, which
    # LAPACK factorises in place. Its upper factor U (P^T G P = U^T U) is, read
    # in gram's own row-major order, the lower factor L = U^T: the reduced
    # data, laid out as the products want them, in gram's memory. (The lower
    # factor in Fortran order needed a row-major copy, and the spanning rows'
    # triangle a Fortran one: 32 MB each for 2,000 rows.)
    factor, pivots, rank, info = scipy.linalg.lapack.dpstrf(
        gram.T, tol=tolerance, lower=0, overwrite_a=1
    )
    if info < 0 or rank == 0:
        return None
    order = pivots - 1  # LAPACK counts from 1
    lower = factor.T[:, :rank]
    # dpstrf leaves the other triangle as it found it.
    for start in range(0, rank, ZEROING_ROWS):
        rows = slice(start, min(start + ZEROING_ROWS, rank))
        lower[rows] = np.tril(lower[rows], k=start)
    # Row i of the factor belongs to row order[i] of X; the first `rank`
    # of those rows span the others. The rows stay in this order, in which
    # the factor is lower trapezoidal.
    return RowSpace(features=lower, order=order, rows=order[:rank], factor=lower[:rank])


def _gram(X):
    """``X X^T`` in float64. float32 ``X`` is converted a chunk of columns
    at a time (at most ``CHUNK_ENTRIES`` values), never all at once: the
    Gram's rounding must be float64's, and a float64 copy of ``X`` would be
    twice ``X``."""
    if X.dtype == np.float64:
        return X @ X.T
    n_samples, n_features = X.shape
    step = max(1, CHUNK_ENTRIES // max(n_samples, 1))
    gram = np.zeros((n_samples, n_samples))
    for start in range(0, n_features, step):
        part = X[:, start : start + step].astype(np.float64)
        gram += part @ part.T
    return gram


@dataclass(frozen=True)
class RowSpaceStart:
    """The first part of a fit on wide ``X``: the same objective on the
    row space's coordinates, solved there.

    Attributes
    ----------
    basis : RowSpace
    X : ndarray of shape (n_samples, n_features)
    objective : Objective
        The fit's objective on ``basis.features`` instead of ``X``.
    """

    basis: RowSpace
    X: np.ndarray
    objective: object

    def solve(self, coef0, *, tol, **options):
        """Solve from ``coef0`` (on X's columns) to ``min(tol,
        ROW_SPACE_TOL)``, with :func:`~sksoftmax._solver.minimize_lbfgs`'s
        other ``options``.

        Returns
        -------
        coef : ndarray
            The solution, on X's columns: where the fit on X continues.
        result : SolverResult
            The run in the row space.
        """
        # The maps' triangular solves are scipy's LAPACK, between numpy's
        # products (see single_threaded_scipy_blas).
        with single_threaded_scipy_blas():
            result = minimize_lbfgs(
                self.objective,
                self.basis.reduced_coef(self.X, coef0),
                tol=min(tol, ROW_SPACE_TOL),
                **options,
            )
            return self.basis.full_coef(self.X, result.coef), result


class RowSpaceCache:
    """The :func:`row_space` of one ``X``, kept between the fits of a C path
    on the same rows (its basis does not depend on ``C``): the
    factorisation was 45% of a cross-validated path's time on 300 x 20,000
    with 4 classes (5 folds, 10 values of C), one per fit.

    Examples
    --------
    >>> import numpy as np
    >>> from sksoftmax._rowspace import RowSpaceCache
    >>> X = np.random.default_rng(0).standard_normal((100, 20_000))
    >>> cache = RowSpaceCache()
    >>> cache.get(X, 2) is cache.get(X, 2)
    True
    """

    def __init__(self):
        self._X = None
        self._basis = None

    def get(self, X, n_outputs, weights=None, l2=None):
        """``row_space(X, n_outputs, weights, l2)``, computed once per ``X``
        (the same object: the rows of a fold, which the path does not
        modify); a basis built for one ``C`` serves every later one."""
        if self._X is not X or self._basis is None:
            self._X, self._basis = X, row_space(X, n_outputs, weights, l2)
        return self._basis


def row_space_start(X, n_outputs, objective_on, cache=None, weights=None, l2=None):
    """A :class:`RowSpaceStart` for a fit of ``n_outputs`` outputs on ``X``
    where it pays (see :func:`row_space`), or None. ``objective_on(Z,
    order)`` builds the fit's objective on other data ``Z`` whose row ``i``
    stands for row ``order[i]`` of ``X`` (its targets and weights), lower
    trapezoidal; ``cache``, a :class:`RowSpaceCache`, keeps the basis for the
    next fit on ``X``; ``weights`` and ``l2`` as for :func:`row_space`."""
    if cache is None:
        basis = row_space(X, n_outputs, weights, l2)
    else:
        basis = cache.get(X, n_outputs, weights, l2)
    if basis is None:
        return None
    return RowSpaceStart(basis, X, objective_on(basis.features, basis.order))
