"""Preconditioners: exact variable changes that whiten the Hessian blocks."""

import bound_objective as bound
import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import approx_fprime
from sklearn.datasets import load_digits, make_classification

from sksoftmax import OneVsRestLogistic, SoftmaxRegression


def _problem(sparse, fit_intercept, rng):
    X = rng.normal(size=(60, 5)) * np.array([1.0, 10.0, 0.1, 3.0, 1.0]) + 2.0
    if sparse:
        X[rng.random(X.shape) < 0.5] = 0.0
        X = sp.csr_matrix(X)
    y = rng.integers(0, 3, size=60)
    s = rng.uniform(0.5, 2.0, size=60)
    loss = bound.multinomial(X, y, s / s.sum(), 3, 0.01, fit_intercept)
    coef = rng.normal(size=loss.coef_shape) * 0.3
    return loss, coef


@pytest.mark.parametrize("kind", ["cholesky", "diagonal"])
@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_round_trip_and_chain_rule(kind, sparse, fit_intercept):
    rng = np.random.default_rng(0)
    loss, coef = _problem(sparse, fit_intercept, rng)
    pre = bound.preconditioner(
        loss.X, loss.curvature_weights(coef), loss.l2_reg, fit_intercept, kind=kind
    )
    V = pre.from_coef(coef)
    np.testing.assert_allclose(pre.to_coef(V), coef, rtol=1e-10, atol=1e-12)

    def f_of_v(v):
        return loss.loss(pre.to_coef(v.reshape(coef.shape)))

    _, grad = loss.loss_gradient(coef)
    numeric = approx_fprime(V.ravel(), f_of_v, 1e-7)
    np.testing.assert_allclose(
        pre.gradient_to_v(grad).ravel(), numeric, rtol=1e-4, atol=1e-7
    )


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_cholesky_whitens_the_diagonal_hessian_blocks(fit_intercept):
    rng = np.random.default_rng(1)
    loss, coef = _problem(False, fit_intercept, rng)
    weights = loss.curvature_weights(coef)
    pre = bound.preconditioner(loss.X, weights, loss.l2_reg, fit_intercept, "cholesky")
    K, p = coef.shape
    H = loss.hessian(coef).reshape(K, p, K, p)
    for k in range(K):
        # M_k^T H_kk M_k with M_k = L_k^{-T}: columns of M_k are to_coef of
        # unit vectors placed in row k.
        M = np.empty((p, p))
        for j in range(p):
            V = np.zeros((K, p))
            V[k, j] = 1.0
            M[:, j] = pre.to_coef(V)[k]
        whitened = M.T @ H[k, :, k, :] @ M
        # Rows of negligible weight (below 1e-4 of the largest) are left out
        # of the factor, so the whitened block is I plus a small PSD part.
        eigenvalues = np.linalg.eigvalsh((whitened + whitened.T) / 2)
        assert eigenvalues.min() > 1 - 1e-6  # the factor's tiny ridge
        assert eigenvalues.max() < 1 + 1e-2
        if np.all(loss.curvature_weights(coef)[:, k] > 1e-4 * weights[:, k].max()):
            np.testing.assert_allclose(whitened, np.eye(p), atol=1e-6)


def test_shared_factor_at_zero_matches_per_row_factors():
    rng = np.random.default_rng(2)
    loss, _ = _problem(False, True, rng)
    zero = np.zeros(loss.coef_shape)
    weights = loss.curvature_weights(zero)
    shared = bound.preconditioner(loss.X, weights, loss.l2_reg, True, "cholesky")
    assert shared.factors.shape[0] == 1  # proportional weights -> one factor
    # Break the proportionality by a rounding-level change in one column.
    perturbed = weights.copy()
    perturbed[0, 1] *= 1 + 1e-6
    separate = bound.preconditioner(loss.X, perturbed, loss.l2_reg, True, "cholesky")
    assert separate.factors.shape[0] == 3
    np.testing.assert_allclose(separate.factors[0], shared.factors[0], rtol=1e-5)


def test_binary_loss_rows_with_different_penalties():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(50, 4))
    Y = (rng.random((50, 2)) < 0.4).astype(float)
    loss = bound.binary(X, Y, np.full(50, 1 / 50), np.array([0.1, 0.01]), True)
    coef = np.zeros(loss.coef_shape)
    pre = bound.preconditioner(X, loss.curvature_weights(coef), loss.l2_reg, True)
    H = loss.hessian_blocks(coef)
    for k in range(2):
        L = pre.factors[min(k, pre.factors.shape[0] - 1)]
        np.testing.assert_allclose(L @ L.T, H[k], rtol=1e-6, atol=1e-9)


def _objective_of(model, X, y, C):
    """The fitted model's objective at scikit-learn's scale."""
    from sksoftmax._loss import binary_objective, multinomial_objective

    if isinstance(model, SoftmaxRegression):
        return multinomial_objective(model.coef_, model.intercept_, X, y, C=C)[0]
    Y = (y[:, None] == model.classes_[None, :]).astype(float)
    return binary_objective(model.coef_, model.intercept_, X, Y, C=C)[0]


@pytest.mark.parametrize("Estimator", [SoftmaxRegression, OneVsRestLogistic])
def test_preconditioning_changes_iterations_not_the_model(Estimator):
    X, y = load_digits(return_X_y=True)  # raw, badly scaled features
    X, y = X[:600], y[:600]
    C = 0.3
    plain = Estimator(C=C, tol=1e-8, precondition=False, max_iter=20_000).fit(X, y)
    fast = Estimator(C=C, tol=1e-8).fit(X, y)
    # Plain L-BFGS on these badly scaled features can stop short (scipy's
    # ftol): with scipy 1.10, the oldest supported, 1.4e-5 away in the
    # probabilities on one machine, under 1e-5 on another. So the preconditioned
    # model must be at least as good by the objective, and the same within
    # that stop's reach.
    fast_value, plain_value = (
        _objective_of(fast, X, y, C),
        _objective_of(plain, X, y, C),
    )
    assert fast_value <= plain_value * (1 + 1e-12)
    np.testing.assert_allclose(fast.predict_proba(X), plain.predict_proba(X), atol=1e-4)
    assert fast.n_iter_.max() < plain.n_iter_.max()


def test_wide_sparse_problem_uses_diagonal_and_matches_plain():
    X, y = make_classification(
        n_samples=300, n_features=40, n_informative=10, n_classes=3, random_state=0
    )
    X = sp.csr_matrix(np.where(np.abs(X) > 1.0, X, 0.0))
    model = SoftmaxRegression(tol=1e-8).fit(X, y)
    plain = SoftmaxRegression(tol=1e-8, precondition=False).fit(X, y)
    np.testing.assert_allclose(model.coef_, plain.coef_, atol=1e-5)
    pre = bound.preconditioner(X, np.ones((300, 3)), 0.1, True, kind="diagonal")
    assert pre.scale.shape == (3, 40)


def test_negligible_rows_are_left_out_of_the_gram():
    from sksoftmax._products import weighted_gram as _weighted_gram

    rng = np.random.default_rng(4)
    X = rng.normal(size=(200, 3))
    w = rng.uniform(0.5, 1.0, size=200)
    w[:50] = 1e-9  # far from the boundary: negligible curvature
    exact = np.hstack([X, np.ones((200, 1))])
    expected = (exact[50:] * w[50:, None]).T @ exact[50:]
    gram = _weighted_gram(X, w, fit_intercept=True)
    np.testing.assert_allclose(gram[:3, :4], expected[:3, :4], rtol=1e-12)
    # and nothing is skipped when every weight matters
    full = _weighted_gram(X, np.ones(200), fit_intercept=False)
    np.testing.assert_allclose(full, X.T @ X, rtol=1e-12)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sampled_gram_whitens_the_exact_gram(sparse, dtype):
    from sksoftmax._products import gram_sample_size
    from sksoftmax._products import weighted_gram as _weighted_gram

    rng = np.random.default_rng(5)
    n, p = 30_000, 8
    X = (rng.normal(size=(n, p)) * np.logspace(-2, 2, p) + 3.0).astype(dtype)
    w = rng.uniform(0.0, 1.0, size=n) ** 4
    w[::3] = 0.0
    assert gram_sample_size(n, p + 1) is not None  # this size is sampled
    Xa = np.hstack([X.astype(np.float64), np.ones((n, 1))])
    exact = (Xa * w[:, None]).T @ Xa
    data = sp.csr_matrix(X) if sparse else X
    gram = _weighted_gram(data, w, fit_intercept=True)
    np.testing.assert_allclose(gram, gram.T)
    # (Poisson sampling estimates the total weight without bias; the old
    # systematic sample, which depended on the split into blocks, kept it.)
    assert gram[-1, -1] == pytest.approx(w.sum(), rel=0.05)
    # In the variables the sampled factor defines, the exact Gram is close
    # to the identity: the preconditioner's whole purpose.
    L = np.linalg.cholesky(gram)
    Linv = np.linalg.inv(L)
    eigenvalues = np.linalg.eigvalsh(Linv @ exact @ Linv.T)
    assert 0.6 < eigenvalues.min() and eigenvalues.max() < 1.6
    # deterministic
    np.testing.assert_array_equal(gram, _weighted_gram(data, w, fit_intercept=True))


def test_sampled_rows_follow_the_weights():
    from sksoftmax._products import GramPlan, importance_rows

    rng = np.random.default_rng(5)
    w = np.zeros(100_000)
    w[[3, 500, 999]] = [1.0, 2.0, 1.0]  # heavy rows: always drawn, as they are
    w[1000:] = rng.uniform(0.0, 1e-3, size=99_000)
    plan = GramPlan(total=float(w.sum()), size=2000, cutoff=0.0)
    rows, row_weight = importance_rows(w, 0, plan)
    heavy = np.isin(rows, [3, 500, 999])
    assert heavy.sum() == 3
    np.testing.assert_allclose(row_weight[heavy], [1.0, 2.0, 1.0])
    assert not np.isin(np.flatnonzero(w == 0), rows).any()
    # about `size` rows, and an unbiased total weight
    assert 1800 < rows.size < 2200
    assert row_weight.sum() == pytest.approx(w.sum(), rel=0.05)
    # deterministic
    again, _ = importance_rows(w, 0, plan)
    np.testing.assert_array_equal(rows, again)


def test_sampled_gram_does_not_depend_on_the_blocks():
    """Sampling and skipping follow global plans and global row indices: a
    Gram summed over blocks is the Gram of the whole, for any split."""
    from sksoftmax._products import gram_blocks, gram_plans

    rng = np.random.default_rng(6)
    X = rng.normal(size=(30_000, 4))
    weights = rng.uniform(0.0, 1.0, size=(30_000, 2)) ** 4
    plans = gram_plans(weights.sum(axis=0), X.shape[0], 5)
    assert plans[0].size is not None  # sampled at this size
    whole = gram_blocks(X, weights, True, plans=plans)
    for cuts in ([0, 7_000, 30_000], [0, 1, 15_000, 29_999, 30_000]):
        parts = sum(
            gram_blocks(X[a:b], weights[a:b], True, plans=plans, start=a)
            for a, b in zip(cuts[:-1], cuts[1:], strict=True)
        )
        np.testing.assert_allclose(parts, whole, rtol=1e-12)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize("start", [0, 12_345])
def test_gram_blocks_share_draws_yet_match_each_columns_own_gram(sparse, start):
    """gram_blocks draws the rows' Weyl numbers once for all columns: each
    column's Gram is exactly the one weighted_gram samples alone."""
    from sksoftmax._products import gram_blocks, gram_plans, weighted_gram

    rng = np.random.default_rng(7)
    X = rng.normal(size=(20_000, 5))
    X[X < 0.5] = 0.0
    X = sp.csr_matrix(X) if sparse else X
    weights = rng.uniform(0.0, 1.0, size=(20_000, 3)) ** 3
    plans = gram_plans(weights.sum(axis=0), 40_000, 6)
    assert all(plan.size is not None for plan in plans)  # sampled
    grams = gram_blocks(X, weights, True, plans=plans, start=start)
    for k, plan in enumerate(plans):
        alone = weighted_gram(X, weights[:, k], True, plan=plan, start=start)
        np.testing.assert_array_equal(grams[k], alone)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_diagonal_preconditioner_is_row_major_like_the_coefficients(fit_intercept):
    """The moments arrive one column per output (transposed); the
    preconditioner stores them row-major, as coefficients and gradients are,
    so that no pass over a million coefficients mixes layouts (3x slower).
    The values are those of the transposed statistics."""
    from sksoftmax._objective import DiagonalMoments
    from sksoftmax._precondition import diagonal_preconditioner

    rng = np.random.default_rng(0)
    n_features, n_rows = 7, 3
    first = rng.normal(size=(n_features, n_rows))
    second = first**2 + rng.uniform(1.0, 2.0, size=(n_features, n_rows))
    total = rng.uniform(1.0, 2.0, size=n_rows)
    moments = DiagonalMoments(first, second, total, np.full(n_rows, 0.1), fit_intercept)
    pre = diagonal_preconditioner(moments)
    assert pre.scale.shape == (n_rows, n_features)
    assert pre.scale.flags.c_contiguous and pre._inverse_scale.flags.c_contiguous
    mean = first.T / total[:, None]
    variance = second.T - (total[:, None] * mean**2 if fit_intercept else 0.0)
    np.testing.assert_allclose(pre.scale, np.sqrt(variance + 0.1), rtol=1e-12)
    if fit_intercept:
        assert pre.mean.flags.c_contiguous
        np.testing.assert_allclose(pre.mean, mean, rtol=1e-12)
    # The map is unchanged by the layout: a round trip is exact to rounding.
    coef = rng.normal(size=(n_rows, n_features + fit_intercept))
    np.testing.assert_allclose(pre.to_coef(pre.from_coef(coef)), coef, rtol=1e-12)


@pytest.mark.parametrize("p", [1, 17, 101])
def test_triangular_inverse_is_the_inverse(p):
    from sksoftmax._precondition import _triangular_inverse

    rng = np.random.default_rng(p)
    A = rng.normal(size=(p, 2 * p))
    L = np.linalg.cholesky(A @ A.T + np.eye(p))
    inverse = _triangular_inverse(L)
    np.testing.assert_allclose(inverse @ L, np.eye(p), atol=1e-10)
    np.testing.assert_array_equal(inverse, np.tril(inverse))
    # Whatever was above the diagonal of its input.
    upper = np.triu(A[:, :p], 1)
    np.testing.assert_array_equal(_triangular_inverse(L + upper), inverse)


def test_triangular_inverse_of_a_singular_factor_raises():
    from sksoftmax._precondition import _triangular_inverse

    with pytest.raises(np.linalg.LinAlgError, match="singular"):
        _triangular_inverse(np.diag([1.0, 0.0, 2.0]))


@pytest.mark.parametrize("where", ["none", "diagonal", "off-diagonal"])
def test_blocks_identical_only_when_every_entry_is(where):
    from sksoftmax._precondition import _identical

    rng = np.random.default_rng(0)
    A = rng.normal(size=(5, 8))
    blocks = np.stack([A @ A.T] * 3)
    if where == "diagonal":
        blocks[2, 4, 4] *= 1 + 1e-9
    elif where == "off-diagonal":
        blocks[2, 1, 3] *= 1 + 1e-9
    assert _identical(blocks) == (where == "none")


def _diagonal(scale, mean=None, intercept_scale=None):
    from sksoftmax._precondition import DiagonalPreconditioner

    return DiagonalPreconditioner(np.asarray(scale, dtype=float), mean, intercept_scale)


@pytest.mark.parametrize(
    ("scale", "mean", "intercept_scale", "uniform"),
    [
        # A multiple of the identity in each row, each row its own multiple.
        ([[2.0, 2.0, 2.0], [5.0, 5.0, 5.0]], None, None, True),
        ([[2.0, 2.9, 2.0], [5.0, 5.0, 5.0]], None, None, True),
        # One row's scales 1.6x apart.
        ([[2.0, 3.2, 2.0], [5.0, 5.0, 5.0]], None, None, False),
        # The intercept's scale counts too.
        ([[2.0, 2.0, 2.0]], [[0.0, 0.0, 0.0]], np.array([2.0]), True),
        ([[2.0, 2.0, 2.0]], [[0.0, 0.0, 0.0]], np.array([3.2]), False),
        # Centring by a twentieth of a standard deviation (scale / e = 1)...
        ([[2.0, 2.0, 2.0]], [[0.05, -0.05, 0.0]], np.array([2.0]), True),
        # ... and by a fifth.
        ([[2.0, 2.0, 2.0]], [[0.0, -0.2, 0.0]], np.array([2.0]), False),
    ],
)
def test_diagonal_preconditioner_knows_when_it_is_uniform(
    scale, mean, intercept_scale, uniform
):
    pre = _diagonal(scale, None if mean is None else np.asarray(mean), intercept_scale)
    assert pre.is_uniform(1.5, 0.1) is uniform


def _standardised_or_scaled_labels(standardised):
    rng = np.random.default_rng(7)
    n = 400
    X = rng.normal(size=(n, 12)) @ rng.normal(size=(12, 12))
    Y = np.column_stack(
        [X @ rng.normal(size=12) + rng.normal(size=n) > c for c in (0.0, 1.0, -2.0)]
    ).astype(float)
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    if not standardised:
        X = X * np.exp(rng.uniform(-2.0, 2.0, size=12)) + rng.uniform(-3, 3, size=12)
    return X, Y


@pytest.mark.parametrize("standardised", [True, False])
@pytest.mark.parametrize("route", ["per_row_runs", "joint_runs"])
def test_outputs_run_alone_drop_a_uniform_diagonal_preconditioner(
    standardised, route, request
):
    """Standardised data make the first diagonal preconditioner a multiple
    of the identity in each row, which a row's own L-BFGS-B run ignores:
    rows that run alone then keep no preconditioner (and no rebuilds). A
    joint run, or unstandardised data, keeps it. The minimiser is the same."""
    from sksoftmax import _solver
    from sksoftmax._precondition import DiagonalPreconditioner, IdentityPreconditioner

    request.getfixturevalue(route)
    X, Y = _standardised_or_scaled_labels(standardised)
    loss = bound.binary(X, Y, np.full(len(X), 1.0 / len(X)), np.full(3, 1e-3), True)
    solver = _solver.LBFGSSolver(
        loss.objective, tol=1e-7, max_iter=5000, precondition="diagonal", refine=False
    )
    result = solver.solve(np.zeros(loss.coef_shape))
    dropped = standardised and route == "per_row_runs"
    expected = IdentityPreconditioner if dropped else DiagonalPreconditioner
    assert type(solver.preconditioner) is expected
    assert result.converged.all()
    plain = bound.minimize(
        loss,
        np.zeros(loss.coef_shape),
        tol=1e-7,
        max_iter=5000,
        precondition=False,
        refine=False,
    )
    if dropped:
        # Exactly the fit without a preconditioner.
        np.testing.assert_array_equal(result.coef, plain.coef)
    else:
        np.testing.assert_allclose(result.value, plain.value, rtol=1e-9)
