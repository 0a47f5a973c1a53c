"""Products with X (sksoftmax._products) against plain numpy references."""

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from sksoftmax import _products
from sksoftmax._products import scores, transposed_product, weighted_moments


@pytest.fixture(params=["avx512-kernels", "other-kernels"])
def kernels(request, monkeypatch):
    """Both kernel families' orientation rules, whatever this machine's BLAS
    runs (``sksoftmax._blas.AVX512_OPENBLAS_KERNELS``)."""
    avx512 = request.param == "avx512-kernels"
    monkeypatch.setattr(_products, "avx512_kernels", lambda: avx512)
    return avx512


def _data(layout, dtype, n_samples=40, n_features=6, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_samples, n_features)).astype(dtype)
    X[rng.random(X.shape) < 0.5] = 0.0
    return (sp.csr_matrix(X) if layout == "csr" else X), X


@pytest.mark.parametrize("layout", ["dense", "csr"])
@pytest.mark.parametrize(
    "data_dtype, work_dtype",
    [(np.float64, np.float64), (np.float32, np.float32), (np.float32, np.float64)],
)
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("zero", [True, False], ids=["zero", "nonzero"])
@pytest.mark.parametrize(
    "n_features, n_outputs",
    [(6, 3), (300, 4), (300, 1)],
    ids=["narrow", "wide-multi", "wide-single"],
)
def test_scores_are_the_linear_scores(
    layout, data_dtype, work_dtype, fit_intercept, zero, n_features, n_outputs, kernels
):
    """Including at zero weights (a cold start, which skips the product):
    every entry of ``out`` is written, the intercepts added. Blocks of many
    features take the product the other way round
    (``TRANSPOSED_SCORES_MIN_FEATURES``), and so do float32 blocks by
    another rule on AVX-512 kernels: the same scores."""
    Xin, X = _data(layout, data_dtype, n_features=n_features)
    rng = np.random.default_rng(1)
    coef = rng.normal(size=(n_outputs, X.shape[1] + fit_intercept))
    if zero:
        coef[:, : X.shape[1]] = 0.0
    out = np.full((n_outputs, X.shape[0]), np.nan, dtype=work_dtype)
    scores(Xin, coef, fit_intercept, work_dtype, out=out)
    expected = coef[:, : X.shape[1]] @ X.astype(np.float64).T
    if fit_intercept:
        expected += coef[:, -1:]
    rtol = 1e-5 if work_dtype == np.float32 else 1e-12
    np.testing.assert_allclose(out, expected, rtol=rtol, atol=rtol)


@pytest.mark.parametrize("layout", ["dense", "csr"])
@pytest.mark.parametrize("proportional", [True, False])
def test_weighted_moments_match_numpy(layout, proportional):
    """Weight columns that are multiples of one (every output at coef = 0)
    take one column's products, scaled: the same moments."""
    Xin, X = _data(layout, np.float64, n_samples=300)
    rng = np.random.default_rng(2)
    base = rng.uniform(0.1, 1.0, X.shape[0])
    if proportional:
        weights = base[:, None] * np.array([1.0, 0.5, 3.0])
    else:
        weights = rng.uniform(0.1, 1.0, (X.shape[0], 3))
    first, second, total = weighted_moments(Xin, weights)
    np.testing.assert_allclose(first, X.T @ weights, rtol=1e-12)
    np.testing.assert_allclose(second, (X * X).T @ weights, rtol=1e-12)
    np.testing.assert_allclose(total, weights.sum(axis=0), rtol=1e-12)


@pytest.mark.parametrize("layout", ["dense", "csr"])
@pytest.mark.parametrize(
    "data_dtype, work_dtype",
    [(np.float64, np.float64), (np.float32, np.float32), (np.float32, np.float64)],
)
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("shape", [(40, 6), (6, 40)], ids=["tall", "wide"])
def test_transposed_product_is_residuals_times_data(
    layout, data_dtype, work_dtype, fit_intercept, shape, kernels
):
    """``[R X, R 1]`` in float64, whichever way round the product is taken
    (tall and wide blocks)."""
    Xin, X = _data(layout, data_dtype, n_samples=shape[0], n_features=shape[1])
    R = np.random.default_rng(3).normal(size=(3, X.shape[0])).astype(work_dtype)
    out = transposed_product(R, Xin, fit_intercept)
    R64 = R.astype(np.float64)
    expected = R64 @ X.astype(np.float64)
    if fit_intercept:
        expected = np.hstack([expected, R64.sum(axis=1, keepdims=True)])
    assert out.dtype == np.float64 and out.shape == expected.shape
    rtol = 1e-5 if work_dtype == np.float32 else 1e-12
    np.testing.assert_allclose(out, expected, rtol=rtol, atol=rtol)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("columns", [0, 2, 5, 6])
@pytest.mark.parametrize("n_features", [6, 300], ids=["narrow", "wide"])
def test_products_leave_out_the_columns_declared_zero(
    fit_intercept, columns, n_features, kernels
):
    """``columns``: the columns of X from that one on are left out of both
    products, whatever they hold (here not zeros, to show they are not
    read), and the intercept still comes last."""
    rng = np.random.default_rng(4)
    X = rng.normal(size=(40, n_features))
    kept = X.copy()
    kept[:, columns:] = 0.0
    coef = rng.normal(size=(3, n_features + fit_intercept))
    np.testing.assert_allclose(
        scores(X, coef, fit_intercept, np.float64, columns=columns),
        scores(kept, coef, fit_intercept, np.float64),
        rtol=1e-12,
        atol=1e-12,
    )
    R = rng.normal(size=(3, 40))
    out = transposed_product(R, X, fit_intercept, columns=columns)
    expected = transposed_product(R, kept, fit_intercept)
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)
    assert not out[:, columns:n_features].any()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_samples", [7, 24, 25])
def test_transposed_scores_by_chunks_are_the_scores(monkeypatch, dtype, n_samples):
    """Chunks of rows (``TRANSPOSE_CHUNK_ENTRIES``), the last one partial or
    full: every column of the scores written, once, right."""
    monkeypatch.setattr(_products, "TRANSPOSE_CHUNK_ENTRIES", 12)
    rng = np.random.default_rng(5)
    X = rng.normal(size=(n_samples, 4)).astype(dtype)
    W = rng.normal(size=(3, 4)).astype(dtype)
    out = np.full((3, n_samples), np.nan, dtype=dtype)
    _products._transposed_scores(X, W, out)
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(out, W.astype(np.float64) @ X.T, rtol=rtol, atol=rtol)


def _allclose_columns(weights):
    """The reference test: every column within rounding of a multiple of
    the first, column by column."""
    base = weights[:, 0]
    factors = (base @ weights) / (base @ base)
    ok = all(
        np.allclose(weights[:, k], f * base, rtol=_products.PROPORTIONAL_RTOL, atol=0)
        for k, f in enumerate(factors)
    )
    return factors if ok else None


@pytest.mark.parametrize("n_samples", [5, 64, 3_000])
@pytest.mark.parametrize("n_outputs", [1, 4, 40])
@pytest.mark.parametrize(
    "change", ["none", "rounding", "first-row", "last-row", "middle-row"]
)
def test_proportional_columns_is_the_columnwise_allclose(n_samples, n_outputs, change):
    # Laid out as the curvature weights are: a transposed (K, n) array.
    rng = np.random.default_rng(n_samples + n_outputs)
    base = rng.random(n_samples) + 0.1
    weights = np.multiply.outer(rng.random(n_outputs) + 0.5, base).T
    if change != "none":
        row = {"first-row": 0, "last-row": -1, "middle-row": n_samples // 2}.get(
            change, -1
        )
        # A change above the tolerance, or well inside it.
        size = 1e-14 if change == "rounding" else 1e-9
        weights[row, -1] *= 1 + size
    expected = _allclose_columns(weights)
    got = _products._proportional_columns(weights)
    if expected is None:
        assert got is None
    else:
        np.testing.assert_array_equal(got, expected)
    # Proportional whenever only one column exists or nothing changed
    # beyond rounding (every column but the first can differ otherwise).
    assert (got is not None) == (n_outputs == 1 or change in ("none", "rounding"))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("nonnegative", [True, False])
@pytest.mark.parametrize("n_features", [3, 20])
def test_dense_gram_is_the_weighted_gram_and_column(dtype, nonnegative, n_features):
    rng = np.random.default_rng(3)
    block = rng.normal(size=(50, n_features)).astype(dtype)
    w = rng.random(50).astype(dtype)
    if not nonnegative:
        w -= 0.5
    gram, column = _products._dense_gram(block, w, nonnegative=nonnegative)
    X, w64 = block.astype(np.float64), w.astype(np.float64)
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    np.testing.assert_allclose(gram, X.T @ (w64[:, None] * X), rtol=rtol, atol=rtol)
    np.testing.assert_allclose(column, X.T @ w64, rtol=rtol, atol=rtol)
    assert column.dtype == np.float64
    if nonnegative and n_features >= _products.SYMMETRIC_GRAM_MIN_FEATURES:
        # The symmetric product (syrk) gives an exactly symmetric Gram.
        np.testing.assert_array_equal(gram, gram.T)


@pytest.mark.parametrize(
    "n_samples, n_features, n_outputs, as_scores, expected",
    [
        # Scores: at most 1,200 entries and 1e6 multiply-adds per call.
        (1_200, 294, 6, True, 200),
        (1_200, 294, 6, False, 566),
        (500, 784, 10, True, 120),
        (500, 784, 10, False, 127),
        # Scores of fewer than 64 features never take the small path.
        (8_000, 16, 26, True, None),
        (6_400, 36, 6, True, None),
        (6_400, 36, 6, False, 4_629),
        (8_000, 16, 26, False, 2_403),
        # A block within the limits stays one product.
        (500, 294, 6, False, None),
        # Chunks of fewer than 100 rows: one product.
        (150, 5_000, 5, True, None),
        (800, 100, 50, True, None),
        (800, 100, 50, False, 200),
        # Blocks of more than 4e6 multiply-adds: one product, which OpenBLAS
        # can split over its threads.
        (10_000, 784, 10, True, None),
        (10_000, 784, 10, False, None),
    ],
)
def test_small_dgemm_chunks_follow_openblas_limits(
    monkeypatch, n_samples, n_features, n_outputs, as_scores, expected
):
    """One BLAS thread: chunks wherever OpenBLAS's small path takes them."""
    monkeypatch.setattr(_products, "avx512_kernels", lambda: True)
    monkeypatch.setattr(_products, "_blas_threads", lambda: 1)
    rows = _products._small_dgemm_rows(n_samples, n_features, n_outputs, as_scores)
    assert rows == expected
    if rows is not None:
        assert rows * n_features * n_outputs <= _products.SMALL_DGEMM_MAX_MULTIPLY_ADDS
        if as_scores:
            assert rows * n_outputs <= _products.SMALL_DGEMM_MAX_SCORES_ENTRIES
    # Other kernels have no such path: one product.
    monkeypatch.setattr(_products, "avx512_kernels", lambda: False)
    assert (
        _products._small_dgemm_rows(n_samples, n_features, n_outputs, as_scores) is None
    )


@pytest.mark.parametrize(
    "n_samples, n_features, n_outputs, expected",
    [
        # Wide rows in chunks of at least 200 rows keep the small path.
        (1_200, 294, 6, 200),
        (1_200, 294, 3, 400),
        # So do products OpenBLAS would not split over its threads.
        (600, 72, 6, 200),
        # Shorter chunks, or narrower rows, lose to two threads.
        (500, 784, 10, None),
        (1_797, 64, 10, None),
        (3_000, 100, 6, None),
    ],
)
def test_small_dgemm_score_chunks_give_way_to_blas_threads(
    monkeypatch, n_samples, n_features, n_outputs, expected
):
    monkeypatch.setattr(_products, "avx512_kernels", lambda: True)
    monkeypatch.setattr(_products, "_blas_threads", lambda: 2)
    rows = _products._small_dgemm_rows(n_samples, n_features, n_outputs, True)
    assert rows == expected
    # R X keeps its chunks: there the small path beat two threads on every
    # shape measured.
    monkeypatch.setattr(_products, "_blas_threads", lambda: 1)
    one_thread = _products._small_dgemm_rows(n_samples, n_features, n_outputs, False)
    monkeypatch.setattr(_products, "_blas_threads", lambda: 2)
    assert (
        _products._small_dgemm_rows(n_samples, n_features, n_outputs, False)
        == one_thread
    )


def test_blas_threads_follow_threadpool_limits():
    """The rule reads numpy's BLAS's current limit, which threadpoolctl
    lowers, and it is restored afterwards."""
    from threadpoolctl import threadpool_limits

    before = _products._blas_threads()
    assert before >= 1
    with threadpool_limits(1):
        assert _products._blas_threads() == 1
    assert _products._blas_threads() == before


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("n_samples", [401, 1_000])
def test_products_in_small_dgemm_chunks_are_the_products(
    monkeypatch, fit_intercept, n_samples
):
    """Row chunks (the last one shorter) give the products of the whole
    block to rounding, in both orientations."""
    monkeypatch.setattr(_products, "avx512_kernels", lambda: True)
    n_features, n_outputs = 300, 6
    assert _products._small_dgemm_rows(n_samples, n_features, n_outputs, True) == 200
    assert _products._small_dgemm_rows(n_samples, n_features, n_outputs, False) in (
        None if n_samples <= 555 else 555,
    )
    rng = np.random.default_rng(5)
    X = rng.normal(size=(n_samples, n_features))
    coef = rng.normal(size=(n_outputs, n_features + fit_intercept))
    out = np.full((n_outputs, n_samples), np.nan)
    scores(X, coef, fit_intercept, np.float64, out=out)
    expected = coef[:, :n_features] @ X.T
    if fit_intercept:
        expected += coef[:, -1:]
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)
    R = rng.normal(size=(n_outputs, n_samples))
    product = transposed_product(R, X, fit_intercept)
    expected = R @ X
    if fit_intercept:
        expected = np.hstack([expected, R.sum(axis=1, keepdims=True)])
    np.testing.assert_allclose(product, expected, rtol=1e-12, atol=1e-11)


@pytest.mark.parametrize("container", [np.asarray, sp.csr_matrix, sp.csr_array])
@given(
    n_samples=st.integers(0, 12),
    start=st.integers(-14, 14),
    stop=st.integers(-14, 14) | st.none(),
)
@settings(max_examples=60, deadline=None)
def test_row_slice_is_the_rows_sharing_the_values(container, n_samples, start, stop):
    X = container(_data("dense", np.float64, n_samples=n_samples, seed=n_samples)[1])
    rows = slice(start, stop)
    part = _products.row_slice(X, rows)
    assert type(part) is type(X)
    if sp.issparse(X):
        np.testing.assert_array_equal(part.toarray(), X.toarray()[rows])
        if part.nnz:
            assert np.shares_memory(part.data, X.data)
            assert np.shares_memory(part.indices, X.indices)
    else:
        np.testing.assert_array_equal(part, X[rows])
        if part.size:
            assert np.shares_memory(part, X)


@pytest.mark.parametrize("container", [np.asarray, sp.csr_matrix])
def test_row_slice_takes_contiguous_slices_only(container):
    X = container(np.eye(4))
    with pytest.raises(ValueError, match="step 1"):
        _products.row_slice(X, slice(0, 4, 2))


@pytest.fixture
def two_blas_threads():
    """numpy's BLAS on two threads for the test (skipped where it cannot
    be), so that a limit to one thread can be seen."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(2, user_api="blas"):
        if _products._blas_threads() < 2:
            pytest.skip("numpy's BLAS cannot run two threads here")
        yield


def test_gram_threads_one_thread_inside_then_restored(two_blas_threads):
    """A narrow Gram runs on one BLAS thread; the limit is restored after,
    also when the block raises, and a wide Gram keeps the threads."""
    narrow = _products.GRAM_THREADED_MIN_COLUMNS - 1
    with _products.gram_threads(narrow):
        assert _products._blas_threads() == 1
    assert _products._blas_threads() == 2
    with pytest.raises(RuntimeError, match="inside"):
        with _products.gram_threads(narrow):
            raise RuntimeError("inside")
    assert _products._blas_threads() == 2
    with _products.gram_threads(_products.GRAM_THREADED_MIN_COLUMNS):
        assert _products._blas_threads() == 2


def test_gram_threads_nested_restore_once(two_blas_threads):
    """Nested uses keep one thread until the outer one leaves, which
    restores the original limit."""
    with _products.gram_threads(10):
        with _products.gram_threads(20):
            assert _products._blas_threads() == 1
        assert _products._blas_threads() == 1
    assert _products._blas_threads() == 2


def test_gram_threads_keep_an_outer_limit():
    """Inside the caller's own limit of one thread, leaving restores that
    limit, not the default."""
    from threadpoolctl import threadpool_limits

    before = _products._blas_threads()
    with threadpool_limits(1, user_api="blas"):
        with _products.gram_threads(10):
            assert _products._blas_threads() == 1
        assert _products._blas_threads() == 1
    assert _products._blas_threads() == before


@pytest.mark.parametrize("exact", [False, True])
def test_weighted_gram_on_one_thread_matches_the_definition(exact):
    """The Gram formed on one BLAS thread is X^T diag(w) X with the
    intercept's border, as computed directly."""
    rng = np.random.default_rng(3)
    X = rng.standard_normal((300, 40))
    w = rng.uniform(0.1, 1.0, 300)
    gram = _products.weighted_gram(X, w, True, exact=exact)
    Xa = np.hstack([X, np.ones((300, 1))])
    np.testing.assert_allclose(gram, Xa.T @ (Xa * w[:, None]), rtol=1e-12)
