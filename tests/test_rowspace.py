"""Tests of sksoftmax._rowspace: fits of wide data in the row space of X."""

import tracemalloc
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression

import sksoftmax._rowspace as rowspace
from sksoftmax import OneVsRestLogistic, SoftmaxRegression, SoftmaxRegressionCV
from sksoftmax._loss import binary_objective, multinomial_objective
from sksoftmax._rowspace import RowSpace, row_space, row_space_break_even


def _force(patch, reduce):
    """Make every dense float64 fit with more features than rows reduced,
    whatever its size (``reduce``), or none."""
    if reduce:
        patch.setattr(rowspace, "MIN_EVALUATION_MULTIPLY_ADDS", 0.0)
        patch.setattr(rowspace, "MAX_BREAK_EVEN_EVALUATIONS", np.inf)
    else:
        patch.setattr(rowspace, "MAX_BREAK_EVEN_EVALUATIONS", -1.0)
        patch.setattr(rowspace, "MAX_BREAK_EVEN_WEAK_PENALTY", -1.0)


@pytest.fixture
def always_reduce(monkeypatch):
    """Every wide fit is reduced; returns the list of bases built."""
    _force(monkeypatch, True)
    return _spy(monkeypatch)


def _spy(monkeypatch):
    built = []

    def spy(X, n_outputs, *args):
        basis = row_space(X, n_outputs, *args)
        if basis is not None:
            built.append(basis)
        return basis

    monkeypatch.setattr(rowspace, "row_space", spy)
    return built


def wide_data(n=40, p=300, n_classes=3, seed=0, centred=True, duplicates=0):
    """Standardised-like wide data whose classes differ in a few directions;
    ``duplicates`` rows repeat others (rank deficiency)."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % n_classes
    X = rng.standard_normal((n, p))
    X[:, :5] += 1.5 * y[:, None]
    if duplicates:
        X[-duplicates:] = X[:duplicates]
    if centred:
        # Centred columns: the rows sum to zero, so X X^T is singular.
        X -= X.mean(axis=0)
    return X, y


# -- the basis ----------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(2, 25),
    extra=st.integers(0, 60),
    duplicates=st.integers(0, 3),
    centred=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_basis_factors_the_gram_matrix(n, extra, duplicates, centred, seed):
    X, _ = wide_data(n, n + extra + 1, 2, seed, centred, min(duplicates, n - 1))
    if np.linalg.matrix_rank(X) == 0:
        # All rows equal, then centred: nothing to fit in.
        assert _basis(X, allow_none=True) is None
        return
    basis = _basis(X)
    Z = basis.features
    # Z's rows are X's in pivot order: a permutation of them.
    np.testing.assert_array_equal(np.sort(basis.order), np.arange(n))
    Y = X[basis.order]
    scale = max(np.abs(X @ X.T).max(), 1.0)
    np.testing.assert_allclose(Z @ Z.T, Y @ Y.T, atol=1e-10 * scale)
    assert basis.rank == np.linalg.matrix_rank(X)
    # Lower trapezoidal in that order (the reduced fit's products skip the
    # zeros), and the spanning rows' coordinates are its first rows.
    np.testing.assert_array_equal(Z, np.tril(Z))
    np.testing.assert_array_equal(basis.rows, basis.order[: basis.rank])
    np.testing.assert_array_equal(Z[: basis.rank], basis.factor)
    assert np.shares_memory(basis.factor, Z)


def test_basis_is_made_in_the_gram_matrix_memory():
    """The factor is written over the Gram matrix and read in place: peak
    memory of about one n x n matrix, not the two copies (row-major data,
    Fortran-ordered triangle) it took before."""
    # Rows enough that the zeroing's temporaries (ZEROING_ROWS rows at a
    # time) are small next to the Gram matrix.
    X, _ = wide_data(1_000, 3_000, 3)
    _basis(X)  # warm up imports
    gram_bytes = X.shape[0] ** 2 * 8
    tracemalloc.start()
    try:
        basis = _basis(X)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert basis.features.base is not None  # a view of the factorised Gram
    assert peak < 1.5 * gram_bytes


def _basis(X, allow_none=False):
    """``row_space(X)`` whatever its size."""
    with pytest.MonkeyPatch.context() as patch:
        _force(patch, True)
        basis = row_space(X, 1)
    if not allow_none:
        assert isinstance(basis, RowSpace)
    return basis


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(2, 20),
    extra=st.integers(1, 40),
    n_outputs=st.integers(1, 4),
    intercept=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_coefficients_map_between_spaces(n, extra, n_outputs, intercept, seed):
    """Reduced coefficients give the scores of the coefficients they came
    from, and map back to those coefficients' projection on the row space,
    with the same norm (the penalty); the intercept is carried."""
    X, _ = wide_data(n, n + extra, 2, seed, duplicates=1 if n > 2 else 0)
    basis = _basis(X)
    rng = np.random.default_rng(seed)
    p = X.shape[1]
    coef = rng.standard_normal((n_outputs, p + intercept))
    reduced = basis.reduced_coef(X, coef)
    assert reduced.shape == (n_outputs, basis.rank + intercept)
    W = coef[:, :p]
    scale = np.abs(X).max() * np.abs(W).sum(axis=1).max()
    np.testing.assert_allclose(
        basis.features @ reduced[:, : basis.rank].T,
        X[basis.order] @ W.T,
        atol=1e-9 * scale,
    )
    # The projection on the row space, by an independent route.
    projected = (np.linalg.pinv(X) @ (X @ W.T)).T
    back = basis.full_coef(X, reduced)
    np.testing.assert_allclose(back[:, :p], projected, atol=1e-8 * np.abs(W).max())
    np.testing.assert_allclose(
        np.linalg.norm(reduced[:, : basis.rank]), np.linalg.norm(projected), rtol=1e-8
    )
    np.testing.assert_array_equal(back[:, p:], coef[:, p:])


def test_zero_coefficients_stay_zero():
    X, _ = wide_data()
    basis = _basis(X)
    coef = np.zeros((3, X.shape[1] + 1))
    coef[:, -1] = [1.0, -2.0, 0.5]
    reduced = basis.reduced_coef(X, coef)
    assert not reduced[:, :-1].any()
    np.testing.assert_array_equal(reduced[:, -1], coef[:, -1])


# -- when it applies -------------------------------------------------------------


def test_break_even_falls_with_features():
    """More features per row: the reduction pays sooner; none where the
    features do not outnumber the rows."""
    costs = [row_space_break_even(300, p, 4) for p in (600, 2_000, 20_000, 200_000)]
    assert costs == sorted(costs, reverse=True)
    assert row_space_break_even(300, 300, 4) == np.inf
    assert row_space_break_even(300, 100, 4) == np.inf


def test_break_even_decides_the_documented_shapes():
    """The shapes named in the cost model's comment fall where it says: the
    benchmark's 2,000 x 5,000 set only under a weak penalty."""
    limit = rowspace.MAX_BREAK_EVEN_EVALUATIONS
    assert row_space_break_even(300, 20_000, 4) <= limit
    assert row_space_break_even(500, 5_000, 4) <= limit
    assert limit < row_space_break_even(2_000, 5_000, 5)
    assert row_space_break_even(2_000, 5_000, 5) <= rowspace.MAX_BREAK_EVEN_WEAK_PENALTY


@pytest.mark.parametrize("weights", ["unit", "rows", "outputs"])
def test_penalty_ratio_is_the_centred_trace_per_dimension(weights):
    """Against the definition: the trace of the weighted, centred Gram
    matrix per dimension of the row space, over the weakest penalty."""
    rng = np.random.default_rng(7)
    n, p = 30, 80
    X = rng.normal(loc=2.0, size=(n, p))
    if weights == "unit":
        w, s = np.asarray(1.0 / n), np.full(n, 1.0 / n)
    elif weights == "rows":
        s = rng.uniform(0.1, 2.0, n)
        s /= s.sum()
        w = s
    else:
        w = rng.uniform(0.1, 2.0, (n, 3))
        w /= w.sum(axis=0)
        s = w.mean(axis=1)
    centred = X - s @ X
    gram = centred.T @ (s[:, None] * centred)
    l2 = np.array([0.5, 0.02, 0.3])
    expected = np.trace(gram) / min(n, p) / 0.02
    np.testing.assert_allclose(rowspace.penalty_ratio(X, w, l2), expected, rtol=1e-10)


@pytest.mark.parametrize("C, reduced", [(100.0, True), (1e-4, False)])
def test_weak_penalty_allows_a_later_break_even(monkeypatch, C, reduced):
    """A shape whose break-even is above the usual limit but within the
    weak-penalty one is reduced when the penalty is weak against the data,
    and only then; without the fit's weights and penalty, never."""
    X, _ = wide_data(60, 400, 3)
    break_even = row_space_break_even(*X.shape, 3)
    monkeypatch.setattr(rowspace, "MIN_EVALUATION_MULTIPLY_ADDS", 0.0)
    monkeypatch.setattr(rowspace, "MAX_BREAK_EVEN_EVALUATIONS", break_even / 2)
    monkeypatch.setattr(rowspace, "MAX_BREAK_EVEN_WEAK_PENALTY", break_even * 2)
    weights, l2 = np.asarray(1.0 / 60), np.full(3, 1.0 / (C * 60))
    ratio = rowspace.penalty_ratio(X, weights, l2)
    assert (ratio >= rowspace.WEAK_PENALTY_RATIO) == reduced
    assert (row_space(X, 3, weights, l2) is not None) == reduced
    assert row_space(X, 3) is None


@pytest.mark.parametrize(
    "make",
    [
        lambda X: sp.csr_matrix(X),
        lambda X: X.astype(np.int64),
        lambda X: np.ascontiguousarray(X[:, :30]),  # fewer features than rows
        lambda X: X[:, :400],  # too small to pay
    ],
    ids=["sparse", "integer", "tall", "small"],
)
def test_row_space_declines(make):
    X, _ = wide_data(100, 20_000, 2)
    assert row_space(X, 2) is not None
    assert row_space(make(X), 2) is None


# -- fits ------------------------------------------------------------------------------


def _objective(model, X, y, C, sample_weight=None):
    W = model.coef_.astype(np.float64)
    b = np.asarray(model.intercept_, dtype=np.float64) * np.ones(W.shape[0])
    if isinstance(model, OneVsRestLogistic):
        return binary_objective(W, b, X, y, sample_weight, C=C)[0]
    index = np.searchsorted(model.classes_, y)
    return multinomial_objective(W, b, X, index, sample_weight, C=C)[0]


def _targets(estimator, y, n_classes):
    if estimator is OneVsRestLogistic:
        return (
            np.eye(n_classes, dtype=int)[y]
            | np.roll(np.eye(n_classes, dtype=int), 1, 1)[y]
        )
    return y


@pytest.mark.parametrize("estimator", [SoftmaxRegression, OneVsRestLogistic])
@pytest.mark.parametrize("C", [0.01, 1.0, 100.0])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
def test_reduced_fit_is_the_fit_on_X(
    monkeypatch, estimator, C, fit_intercept, weighted
):
    """The fit that starts in the row space reaches the fit on X: the same
    objective (1e-10 relative) and coefficients, converged, within max_iter."""
    X, y = wide_data(60, 500, 3, duplicates=2)
    Y = _targets(estimator, y, 3)
    weights = None
    if weighted:
        weights = np.random.default_rng(1).uniform(0, 3, len(y))
        weights[:5] = 0.0
    params = dict(C=C, tol=1e-8, fit_intercept=fit_intercept, max_iter=500)
    fits = {}
    for mode in ("reduced", "direct"):
        with monkeypatch.context() as patch:
            _force(patch, mode == "reduced")
            built = _spy(patch)
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                fits[mode] = estimator(**params).fit(X, Y, sample_weight=weights)
            assert len(built) == (mode == "reduced")
    reduced, direct = fits["reduced"], fits["direct"]
    mine = _objective(reduced, X, Y, C, weights)
    theirs = _objective(direct, X, Y, C, weights)
    assert mine <= theirs + 1e-10 * abs(theirs)
    assert abs(mine - theirs) <= 1e-9 * abs(theirs)
    scale = np.abs(direct.coef_).max()
    np.testing.assert_allclose(reduced.coef_, direct.coef_, atol=1e-4 * scale)
    assert np.max(reduced.n_iter_) <= params["max_iter"]


def test_reduced_fit_matches_scikit_learn(always_reduce):
    """An independent reference: scikit-learn's multinomial lbfgs at a
    tight tolerance, on the same wide data."""
    X, y = wide_data(80, 1_000, 4, duplicates=3)
    ours = SoftmaxRegression(C=1.0, tol=1e-10).fit(X, y)
    assert len(always_reduce) == 1
    theirs = LogisticRegression(C=1.0, tol=1e-12, max_iter=10_000).fit(X, y)
    np.testing.assert_allclose(
        ours.predict_proba(X), theirs.predict_proba(X), atol=1e-6
    )
    assert _objective(ours, X, y, 1.0) <= _objective(theirs, X, y, 1.0) * (1 + 1e-9)


def test_warm_start_in_the_row_space(always_reduce):
    """A warm start projects the previous solution on the row space and
    ends where a cold fit does."""
    X, y = wide_data(50, 400, 3)
    model = SoftmaxRegression(C=0.1, tol=1e-10, warm_start=True).fit(X, y)
    model.set_params(C=10.0).fit(X, y)
    cold = SoftmaxRegression(C=10.0, tol=1e-10).fit(X, y)
    assert len(always_reduce) == 3
    np.testing.assert_allclose(model.predict_proba(X), cold.predict_proba(X), atol=1e-7)


@pytest.mark.parametrize(
    "params", [dict(l1_ratio=0.5), dict(C=np.inf)], ids=["elastic-net", "C=inf"]
)
def test_other_penalties_are_not_reduced(always_reduce, params):
    """An L1 part, or no penalty, does not keep w in the rows' span."""
    X, y = wide_data(40, 60, 2, centred=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        SoftmaxRegression(max_iter=50, **params).fit(X, y)
    assert always_reduce == []


def test_default_thresholds_reduce_genomics_shapes(monkeypatch):
    """100 x 20,000 with 2 classes is reduced at the default settings; the
    caller's X is left as it was, and the fit copies no rows of it."""
    built = _spy(monkeypatch)
    X, y = wide_data(100, 20_000, 2)
    before = X.copy()
    SoftmaxRegression(C=1.0).fit(X, y)  # warm up imports and caches
    tracemalloc.start()
    try:
        SoftmaxRegression(C=1.0).fit(X, y)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(built) == 2
    np.testing.assert_array_equal(X, before)
    # X is 16 MB; the reduced fit's own arrays are n x n and a few n x p
    # coefficient rows. A copy of X's rows would show.
    assert peak < 0.5 * X.nbytes


def test_cross_validated_path_builds_one_basis_per_fold(monkeypatch):
    """The fits of a fold's C path share its rows' basis; the path chooses
    the C a path on X alone chooses."""
    X, y = wide_data(90, 600, 3)
    fitted = {}
    for mode in ("reduced", "direct"):
        with monkeypatch.context() as patch:
            _force(patch, mode == "reduced")
            built = _spy(patch)
            fitted[mode] = SoftmaxRegressionCV(Cs=4, cv=3, tol=1e-8).fit(X, y)
        # Three folds and the final fit on all rows.
        assert len(built) == (4 if mode == "reduced" else 0)
    reduced, direct = fitted["reduced"], fitted["direct"]
    assert reduced.C_ == direct.C_
    np.testing.assert_allclose(
        reduced.predict_proba(X), direct.predict_proba(X), atol=1e-6
    )


def test_float32_gram_is_float64_without_a_copy(monkeypatch):
    """float32 X: the Gram is the float64 Gram of its values, formed a chunk
    of columns at a time."""
    monkeypatch.setattr(rowspace, "CHUNK_ENTRIES", 1_000)  # many chunks
    X, _ = wide_data(40, 3_000, 2)
    X32 = X.astype(np.float32)
    exact = X32.astype(np.float64) @ X32.astype(np.float64).T
    np.testing.assert_allclose(rowspace._gram(X32), exact, rtol=1e-12, atol=1e-9)
    basis = _basis(X32)
    order = basis.order
    np.testing.assert_allclose(
        basis.features @ basis.features.T,
        exact[np.ix_(order, order)],
        atol=1e-10 * np.abs(exact).max(),
    )


@pytest.mark.parametrize("estimator", [SoftmaxRegression, OneVsRestLogistic])
def test_float32_fit_in_the_row_space(monkeypatch, estimator):
    """float32 wide data are reduced as float64 data are, and the fit is
    the float32 fit on X (float32 coefficients, the same model), without a
    float64 copy of X."""
    X, y = wide_data(100, 20_000, 3)
    X32 = X.astype(np.float32)
    Y = _targets(estimator, y, 3)
    fits, peaks = {}, {}
    for mode in ("reduced", "direct"):
        with monkeypatch.context() as patch:
            _force(patch, mode == "reduced")
            built = _spy(patch)
            tracemalloc.start()
            try:
                fits[mode] = estimator(C=1.0, tol=1e-6).fit(X32, Y)
                _, peaks[mode] = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
            assert len(built) == (mode == "reduced")
    # The fit on X alone peaks at L-BFGS-B's workspace (60,000 coefficients).
    assert peaks["reduced"] < peaks["direct"] + 0.5 * X32.nbytes
    reduced, direct = fits["reduced"], fits["direct"]
    assert reduced.coef_.dtype == np.float32
    np.testing.assert_allclose(
        reduced.predict_proba(X32), direct.predict_proba(X32), atol=1e-4
    )
    mine = _objective(reduced, X32.astype(np.float64), Y, 1.0)
    theirs = _objective(direct, X32.astype(np.float64), Y, 1.0)
    assert mine <= theirs * (1 + 1e-6)


def test_float32_reduction_makes_no_float64_copy():
    """The Gram and both coefficient maps on float32 X work in chunks: their
    peak memory is n x n arrays, coefficient rows and 2 MB chunks (5.3 MB
    here, against 8 MB of X), where a float64 copy of X would be twice X."""
    X, _ = wide_data(100, 20_000, 3)
    X32 = X.astype(np.float32)
    coef = np.random.default_rng(0).standard_normal((3, X.shape[1] + 1))
    tracemalloc.start()
    try:
        basis = _basis(X32)
        reduced = basis.reduced_coef(X32, coef)
        basis.full_coef(X32, reduced)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < X32.nbytes
