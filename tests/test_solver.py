"""minimize_lbfgs on the losses of sksoftmax._loss."""

import re
import warnings
from dataclasses import replace

import bound_objective as bound
import numpy as np
import pytest
import scipy.sparse as sp
import scipy.special
from sklearn.datasets import load_digits, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from sksoftmax import OneVsRestLogistic, SoftmaxRegression, _solver
from sksoftmax._loss import (
    BinaryLoss,
    MultinomialLoss,
    binary_objective,
    multinomial_objective,
)
from sksoftmax._objective import in_memory_objective
from sksoftmax._penalty import SolverScale

N_CLASSES = 3


def _problem(seed=0, n_samples=150, n_features=5):
    X, y = make_classification(
        n_samples=n_samples,
        n_features=n_features,
        n_informative=3,
        n_redundant=0,
        n_classes=N_CLASSES,
        n_clusters_per_class=1,
        random_state=seed,
    )
    return StandardScaler().fit_transform(X), y


def _loss(kind, X, y, C=1.0, fit_intercept=True, sample_weight=None):
    """The loss at scikit-learn's solver scale (SolverScale's convention)."""
    scale = SolverScale.from_weights(C, sample_weight, n_samples=X.shape[0])
    weights = np.broadcast_to(scale.weights, (X.shape[0],))
    if kind == "multinomial":
        return bound.multinomial(X, y, weights, N_CLASSES, scale.l2, fit_intercept)
    Y = (y[:, None] == np.arange(N_CLASSES)).astype(float)
    return bound.binary(X, Y, weights, scale.l2, fit_intercept)


def _row_grad_max(loss, coef):
    """Largest |gradient| per row, recomputed from the loss (not the solver)."""
    _, grad = loss.loss_gradient(coef)
    row = np.abs(grad).max(axis=1)
    return np.full_like(row, row.max()) if loss.coupled else row


# -- convergence ---------------------------------------------------------------


@pytest.mark.parametrize("precondition", [True, "cholesky", "diagonal", False])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("kind", ["multinomial", "binary"])
def test_converges_to_tolerance(kind, fit_intercept, sparse, precondition):
    X, y = _problem(0)
    s = np.random.default_rng(0).uniform(0.5, 2.0, X.shape[0])
    Xin = sp.csr_matrix(X) if sparse else X
    loss = _loss(kind, Xin, y, fit_intercept=fit_intercept, sample_weight=s)
    tol, max_iter = 1e-6, 500
    coef0 = np.zeros(loss.coef_shape)
    result = bound.minimize(
        loss, coef0, tol=tol, max_iter=max_iter, precondition=precondition
    )
    n_rows = loss.coef_shape[0]
    assert result.coef.shape == loss.coef_shape
    assert result.coef.dtype == np.float64
    assert result.converged.shape == (n_rows,) and result.converged.dtype == bool
    assert result.converged.all()
    assert result.n_iter.shape == (n_rows,)
    assert np.issubdtype(result.n_iter.dtype, np.integer)
    assert np.all((result.n_iter >= 1) & (result.n_iter <= max_iter))
    independent = _row_grad_max(loss, result.coef)
    assert np.all(independent <= tol)
    np.testing.assert_allclose(result.grad_max, independent, rtol=1e-10, atol=1e-300)
    np.testing.assert_allclose(result.value, loss.loss(result.coef), rtol=1e-12)
    assert result.value < loss.loss(coef0)


@pytest.mark.parametrize("kind", ["multinomial", "binary"])
def test_solution_matches_sklearn(kind):
    """The minimiser is scikit-learn's LogisticRegression(lbfgs) solution."""
    X, y = _problem(1)
    C = 0.7
    loss = _loss(kind, X, y, C=C)
    result = bound.minimize(loss, np.zeros(loss.coef_shape), tol=1e-10, max_iter=500)
    assert result.converged.all()
    Z = X @ result.coef[:, :-1].T + result.coef[:, -1]
    if kind == "multinomial":
        ref = LogisticRegression(C=C, tol=1e-12, max_iter=10_000).fit(X, y)
        np.testing.assert_allclose(
            scipy.special.softmax(Z, axis=1), ref.predict_proba(X), atol=1e-6
        )
    else:
        for k in range(N_CLASSES):
            ref = LogisticRegression(C=C, tol=1e-12, max_iter=10_000)
            ref.fit(X, (y == k).astype(int))
            np.testing.assert_allclose(result.coef[k, :-1], ref.coef_[0], atol=1e-5)
            np.testing.assert_allclose(result.coef[k, -1], ref.intercept_[0], atol=1e-5)


def test_coupled_loss_shares_iterations_and_gradient():
    X, y = _problem(2)
    loss = _loss("multinomial", X, y)
    result = bound.minimize(loss, np.zeros(loss.coef_shape), tol=1e-5, max_iter=300)
    assert loss.coupled
    assert result.converged.all()
    assert np.all(result.n_iter == result.n_iter[0])
    _, grad = loss.loss_gradient(result.coef)
    # Coupled: every row reports the largest entry of the whole gradient.
    np.testing.assert_allclose(result.grad_max, np.abs(grad).max(), rtol=1e-10)


def _easy_and_hard_binary():
    """Output 0: penalised, noise target; output 1: nearly separable, barely
    penalised, on badly scaled features. Returns (X, Y, weights, l2)."""
    rng = np.random.default_rng(3)
    n = 300
    X = rng.normal(size=(n, 4)) * np.array([1.0, 10.0, 1.0, 0.1])
    hard = (X @ np.array([1.0, 0.2, -1.0, 10.0]) + 0.3 * rng.normal(size=n)) > 0
    Y = np.column_stack([rng.random(n) < 0.5, hard]).astype(float)
    return X, Y, np.full(n, 1.0 / n), np.array([1.0, 1e-6])


def test_uncoupled_rows_each_meet_tolerance():
    X, Y, s, l2 = _easy_and_hard_binary()
    loss = bound.binary(X, Y, s, l2, True)
    tol = 1e-5
    result = bound.minimize(loss, np.zeros(loss.coef_shape), tol=tol, max_iter=1000)
    assert not loss.coupled
    assert result.converged.all()
    _, grad = loss.loss_gradient(result.coef)
    per_row = np.abs(grad).max(axis=1)
    assert np.all(per_row <= tol)
    # Uncoupled: each row reports its own gradient, not the overall maximum.
    np.testing.assert_allclose(result.grad_max, per_row, rtol=1e-10, atol=1e-300)
    # Each row's objective is minimal on its own: the separate fits agree.
    for k in range(2):
        single = bound.binary(X, Y[:, k : k + 1], s, l2[k], True)
        alone = bound.minimize(
            single, np.zeros(single.coef_shape), tol=1e-10, max_iter=1000
        )
        np.testing.assert_allclose(
            loss.loss_per_output(result.coef)[k], alone.value, rtol=1e-8
        )


def test_uncoupled_iteration_counts_can_differ():
    """A row that starts at its optimum converges at iteration 0 and stays."""
    X, Y, s, l2 = _easy_and_hard_binary()
    loss = bound.binary(X, Y, s, l2, True)
    easy_only = bound.binary(X, Y[:, :1], s, l2[0], True)
    easy = bound.minimize(easy_only, np.zeros((1, 5)), tol=1e-12, max_iter=500)
    assert easy.converged.all()
    coef0 = np.zeros(loss.coef_shape)
    coef0[0] = easy.coef[0]
    tol = 1e-6
    result = bound.minimize(loss, coef0, tol=tol, max_iter=1000)
    assert result.converged.all()
    assert np.all(_row_grad_max(loss, result.coef) <= tol)
    assert result.n_iter[0] == 0
    assert result.n_iter[1] > 0
    # The same start for a coupled loss: all rows share the count.
    X, y = _problem(4)
    mloss = _loss("multinomial", X, y)
    m0 = np.zeros(mloss.coef_shape)
    mres = bound.minimize(mloss, m0, tol=tol, max_iter=1000)
    assert mres.n_iter.min() == mres.n_iter.max() > 0


def test_per_row_runs_stop_each_row_at_its_own_convergence(per_row_runs):
    """Each output runs as if alone: the easy row converges in its own
    number of iterations, the same as when it is minimised alone, and stops
    there while the hard one goes on."""
    X, Y, s, l2 = _easy_and_hard_binary()
    loss = bound.binary(X, Y, s, l2, True)
    tol = 1e-6
    options = dict(tol=tol, max_iter=1000, refine=False)
    result = bound.minimize(loss, np.zeros(loss.coef_shape), **options)
    assert result.converged.all()
    assert np.all(_row_grad_max(loss, result.coef) <= tol)
    for k in range(2):
        single = bound.binary(X, Y[:, k : k + 1], s, l2[k], True)
        alone = bound.minimize(single, np.zeros(single.coef_shape), **options)
        assert result.n_iter[k] == alone.n_iter[0]
        np.testing.assert_allclose(result.coef[k], alone.coef[0], rtol=1e-9, atol=1e-12)
    assert result.n_iter[0] < result.n_iter[1]


def test_per_row_runs_leave_stalled_rows_alone(per_row_runs, monkeypatch):
    """An unreachable tol: every row stalls at rounding level in its own run
    and is not restarted after a rebuild, so the fit stops, reporting the
    stall, long before ``max_iter``, with as few evaluations as one run over
    all rows needs."""
    X, Y, s, l2 = _easy_and_hard_binary()
    loss = bound.binary(X, Y, s, l2, True)
    options = dict(tol=1e-300, max_iter=10_000, refine=False)
    result = bound.minimize(loss, np.zeros(loss.coef_shape), **options)
    assert result.stalled and not result.converged.any()
    assert "FACTR" in result.message
    assert result.n_iter.max() < 1000
    monkeypatch.setattr(_solver, "PER_ROW_MIN_COST", np.inf)
    joint = bound.minimize(loss, np.zeros(loss.coef_shape), **options)
    assert joint.stalled
    assert result.n_evaluations <= joint.n_evaluations


# -- refinement, iteration budget ----------------------------------------------


@pytest.mark.parametrize(
    "n_samples, n_features, applies",
    [
        # Rows as cheap as these, and a few unknowns: the refinement pays.
        (150, 5, True),
        (50, 50, True),
        # Few rows, many unknowns: a Newton step costs well over a hundred
        # evaluations.
        (50, 200, False),
        (100, 100, False),
    ],
)
def test_refinement_applies_where_a_newton_step_costs_few_evaluations(
    n_samples, n_features, applies
):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n_samples, n_features))
    y = np.arange(n_samples) % N_CLASSES
    solver = _solver.LBFGSSolver(
        _loss("multinomial", X, y).objective, tol=1e-4, max_iter=100
    )
    n_params, flops = solver.objective.hessian_cost()
    # Within the absolute limits: the relative gate alone decides.
    assert n_params <= _solver.REFINE_MAX_PARAMS
    assert flops <= _solver.REFINE_MAX_FLOPS
    cost = solver.newton_step_evaluations()
    assert (cost <= _solver.REFINE_MAX_EVALUATIONS) == applies
    assert solver.refinement_applies() == applies


def test_newton_step_cost_grows_with_unknowns():
    """The model's ratio: a step's Hessian grows as unknowns squared and its
    factorisation as unknowns cubed, an evaluation only linearly."""

    def cost(n_samples, n_features):
        rng = np.random.default_rng(1)
        X = rng.standard_normal((n_samples, n_features))
        y = np.arange(n_samples) % N_CLASSES
        objective = _loss("multinomial", X, y).objective
        return _solver.LBFGSSolver(
            objective, tol=1e-4, max_iter=10
        ).newton_step_evaluations()

    assert cost(50, 50) < cost(50, 100) < cost(50, 200)
    assert cost(500, 50) < cost(500, 100) < cost(500, 200)


def test_small_rows_with_many_unknowns_fit_without_newton_steps():
    """50 x 200 with 3 classes: L-BFGS alone meets the tolerance (no Newton
    step is taken), at scikit-learn's objective or below."""
    rng = np.random.default_rng(2)
    X = rng.standard_normal((50, 200))
    y = np.arange(50) % N_CLASSES
    loss = _loss("multinomial", X, y)
    result = bound.minimize(loss, np.zeros(loss.coef_shape), tol=1e-4, max_iter=500)
    assert result.converged.all()
    assert "Newton" not in result.message
    reference = LogisticRegression(C=1.0, tol=1e-4, max_iter=1000).fit(X, y)
    coef = np.column_stack([reference.coef_, reference.intercept_])
    assert result.value <= loss.loss(coef) * (1 + 1e-9)


@pytest.mark.parametrize("kind", ["multinomial", "binary"])
def test_refinement_reaches_much_smaller_gradient(kind):
    X, y = _problem(5)
    loss = _loss(kind, X, y)
    tol = 1e-4
    plain = bound.minimize(
        loss, np.zeros(loss.coef_shape), tol=tol, max_iter=500, refine=False
    )
    refined = bound.minimize(loss, np.zeros(loss.coef_shape), tol=tol, max_iter=500)
    assert plain.converged.all() and refined.converged.all()
    g_plain = _row_grad_max(loss, plain.coef).max()
    g_refined = _row_grad_max(loss, refined.coef).max()
    assert g_plain <= tol
    assert g_refined <= 1e-10
    assert g_refined <= 1e-4 * g_plain
    assert refined.value <= plain.value


@pytest.mark.parametrize("kind", ["multinomial", "binary"])
def test_refinement_reuses_its_hessian_while_it_contracts(kind, monkeypatch):
    """A refinement step keeps the last factorised Hessian while that still
    shrinks the gradient fast: fewer Hessians than Newton steps, to the same
    rounding-level gradient as a fresh Hessian at every step."""
    from sksoftmax import _objective, _solver

    X, y = _problem(5)
    loss = _loss(kind, X, y)
    counts = {"hessians": 0, "steps": 0}

    def counted(function, key):
        def wrapper(*args):
            counts[key] += 1
            return function(*args)

        return wrapper

    monkeypatch.setattr(
        _objective.SecondOrder,
        "data_hessian",
        counted(_objective.SecondOrder.data_hessian, "hessians"),
    )
    monkeypatch.setattr(
        _solver.LBFGSSolver,
        "_newton_direction",
        counted(_solver.LBFGSSolver._newton_direction, "steps"),
    )
    results = {}
    for contraction in (0.1, 0.0):
        monkeypatch.setattr(_solver, "REFINE_REUSE_CONTRACTION", contraction)
        counts.update(hessians=0, steps=0)
        # Few iterations: L-BFGS takes half, the refinement gets several
        # steps to take from further away.
        result = bound.minimize(loss, np.zeros(loss.coef_shape), tol=1e-4, max_iter=10)
        results[contraction] = dict(counts)
        assert _row_grad_max(loss, result.coef).max() <= 1e-10
    reusing, fresh = results[0.1], results[0.0]
    assert fresh["hessians"] == fresh["steps"] >= 2
    assert reusing["hessians"] < reusing["steps"]


@pytest.mark.parametrize("kind", ["multinomial", "binary"])
def test_near_the_optimum_newton_takes_over_from_a_rebuild(kind, monkeypatch):
    """An L-BFGS run cut short for a rebuild hands over to the Newton
    refinement when the estimated gap is already small: no second
    preconditioner, no more evaluations, the same minimum."""
    from sksoftmax import _solver

    X, y = _problem(3, n_samples=300, n_features=8)
    loss = _loss(kind, X, y, C=0.1)
    built = []
    original = _solver.LBFGSSolver.refresh_preconditioner

    def counting(self):
        built.append(self.n_iter)
        return original(self)

    monkeypatch.setattr(_solver.LBFGSSolver, "refresh_preconditioner", counting)
    results, rebuilds = {}, {}
    for gap in (0.0, _solver.NEWTON_NEAR_GAP):
        monkeypatch.setattr(_solver, "NEWTON_NEAR_GAP", gap)
        built.clear()
        results[gap] = bound.minimize(
            loss, np.zeros(loss.coef_shape), tol=1e-8, max_iter=500
        )
        rebuilds[gap] = list(built)
        assert _row_grad_max(loss, results[gap].coef).max() <= 1e-12
    without, handed = results[0.0], results[_solver.NEWTON_NEAR_GAP]
    assert len(rebuilds[0.0]) == 2 and rebuilds[_solver.NEWTON_NEAR_GAP] == [0]
    assert handed.n_evaluations <= without.n_evaluations
    np.testing.assert_allclose(handed.value, without.value, rtol=1e-13)


def _path_pair(kind, C_first=0.1, C_next=0.8):
    """Losses at two values of C on the same rows, and the first's
    solution with the Hessian it leaves in a memory."""
    from sksoftmax._solver import NewtonMemory

    X, y = _problem(4, n_samples=300, n_features=8)
    first, nxt = _loss(kind, X, y, C=C_first), _loss(kind, X, y, C=C_next)
    memory = NewtonMemory()
    start = bound.minimize(
        first, np.zeros(first.coef_shape), tol=1e-8, max_iter=500, memory=memory
    )
    return nxt, start.coef, memory


@pytest.mark.parametrize("kind", ["multinomial", "binary"])
def test_newton_memory_starts_the_next_fit_of_a_path(kind, monkeypatch):
    """From the previous C's solution and Hessian, the next fit forms no
    Gram matrix for a preconditioner, needs fewer evaluations and reaches
    the same minimum as without the memory; it leaves a Hessian behind."""
    from sksoftmax import _objective

    nxt, coef0, memory = _path_pair(kind)
    assert memory.hessian is not None
    grams = []
    original = _objective.SecondOrder.diagonal_blocks

    def counting(self):
        grams.append(1)
        return original(self)

    monkeypatch.setattr(_objective.SecondOrder, "diagonal_blocks", counting)
    results, built = {}, {}
    for name, carried in (("without", None), ("with", memory)):
        grams.clear()
        results[name] = bound.minimize(
            nxt, coef0, tol=1e-8, max_iter=500, memory=carried
        )
        built[name] = len(grams)
        assert _row_grad_max(nxt, results[name].coef).max() <= 1e-8
    assert built["without"] >= 1 and built["with"] == 0
    assert results["with"].n_evaluations < results["without"].n_evaluations
    np.testing.assert_allclose(
        results["with"].value, results["without"].value, rtol=1e-13
    )
    np.testing.assert_allclose(
        results["with"].coef, results["without"].coef, rtol=1e-6, atol=1e-8
    )


@pytest.mark.parametrize("kind", ["multinomial", "binary"])
def test_newton_memory_steps_stop_at_tol(kind):
    """The remembered Newton steps are the fit, not a finish: they stop
    once tol is met, so a looser tol takes fewer evaluations, and a
    tighter one never ends higher."""
    from sksoftmax._solver import NewtonMemory

    nxt, coef0, memory = _path_pair(kind)
    fits = {
        tol: bound.minimize(
            nxt, coef0, tol=tol, max_iter=500, memory=NewtonMemory(memory.hessian)
        )
        for tol in (1e-4, 1e-8)
    }
    for tol, fit in fits.items():
        assert fit.converged.all()
        assert _row_grad_max(nxt, fit.coef).max() <= tol
    assert fits[1e-4].n_evaluations < fits[1e-8].n_evaluations
    assert fits[1e-8].value <= fits[1e-4].value


@pytest.mark.parametrize("kind", ["multinomial", "binary"])
def test_newton_memory_of_another_layout_is_ignored(kind):
    """A Hessian from other rows' layout (here: one feature fewer) is not
    used: the fit is the one without a memory, iterate for iterate."""
    from sksoftmax._solver import NewtonMemory

    nxt, coef0, memory = _path_pair(kind)
    wrong = NewtonMemory(memory.hessian[..., :-1, :-1])
    plain = bound.minimize(nxt, coef0, tol=1e-8, max_iter=500)
    ignored = bound.minimize(nxt, coef0, tol=1e-8, max_iter=500, memory=wrong)
    assert ignored.n_evaluations == plain.n_evaluations
    np.testing.assert_array_equal(ignored.coef, plain.coef)


@pytest.mark.parametrize("kind", ["multinomial", "binary"])
def test_newton_memory_far_from_the_solution_falls_back_to_lbfgs(kind):
    """A memory from a far weaker penalty, with a start at zero: the
    remembered Newton steps do not finish, L-BFGS takes over, and the fit
    still meets tol at the same minimum."""
    nxt, _, memory = _path_pair(kind, C_first=100.0, C_next=0.01)
    zero = np.zeros(nxt.coef_shape)
    plain = bound.minimize(nxt, zero, tol=1e-8, max_iter=500)
    carried = bound.minimize(nxt, zero, tol=1e-8, max_iter=500, memory=memory)
    assert carried.converged.all()
    np.testing.assert_allclose(carried.value, plain.value, rtol=1e-13)


@pytest.mark.parametrize("kind", ["multinomial", "binary"])
def test_max_iter_zero_returns_start(kind):
    X, y = _problem(6)
    loss = _loss(kind, X, y)
    coef0 = np.random.default_rng(6).normal(size=loss.coef_shape)
    saved = coef0.copy()
    result = bound.minimize(loss, coef0, tol=1e-4, max_iter=0)
    np.testing.assert_array_equal(result.coef, saved)
    assert not np.shares_memory(result.coef, coef0)
    np.testing.assert_array_equal(result.n_iter, 0)
    assert not result.converged.any()
    np.testing.assert_allclose(result.grad_max, _row_grad_max(loss, saved), rtol=1e-12)
    np.testing.assert_allclose(result.value, loss.loss(saved), rtol=1e-12)


def _unscaled_digits():
    return load_digits(return_X_y=True)


def test_tiny_max_iter_does_not_converge():
    X, y = _unscaled_digits()
    n = X.shape[0]
    loss = bound.multinomial(X, y, np.full(n, 1.0 / n), 10, 1.0 / n, True)
    result = bound.minimize(loss, np.zeros(loss.coef_shape), tol=1e-4, max_iter=2)
    assert not result.converged.any()
    assert np.all(result.n_iter <= 2)
    assert np.all(_row_grad_max(loss, result.coef) > 1e-4)


@pytest.mark.parametrize("max_iter", [1, 2, 5, 13])
@pytest.mark.parametrize("kind", ["multinomial", "binary"])
def test_iterations_never_exceed_max_iter(kind, max_iter, capsys):
    # Verbose prints one line per iteration (L-BFGS or Newton).
    X, y = _problem(7)
    loss = _loss(kind, X, y, C=1e4)
    result = bound.minimize(
        loss, np.zeros(loss.coef_shape), tol=1e-14, max_iter=max_iter, verbose=1
    )
    lines = [ln for ln in capsys.readouterr().out.splitlines() if "objective" in ln]
    assert 1 <= len(lines) <= max_iter
    assert np.all(result.n_iter <= max_iter)


def test_estimator_warns_when_not_converged():
    X, y = _unscaled_digits()
    with pytest.warns(ConvergenceWarning) as record:
        SoftmaxRegression(max_iter=2).fit(X, y)
    messages = [
        str(w.message) for w in record if issubclass(w.category, ConvergenceWarning)
    ]
    assert any("max_iter" in m and "StandardScaler" in m for m in messages)


def test_estimator_does_not_warn_when_converged():
    X, y = _problem(8)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        SoftmaxRegression(max_iter=500).fit(X, y)


# -- verbose, inputs ------------------------------------------------------------


@pytest.mark.parametrize("kind", ["multinomial", "binary"])
def test_verbose_prints_objective(kind, capsys):
    X, y = _problem(9)
    loss = _loss(kind, X, y)
    result = bound.minimize(
        loss, np.zeros(loss.coef_shape), tol=1e-6, max_iter=200, verbose=1
    )
    lines = [ln for ln in capsys.readouterr().out.splitlines() if ln.strip()]
    assert lines and all("objective" in ln for ln in lines)
    # The last printed objective is the returned value.
    last = float(re.search(r"objective\s+(\S+)", lines[-1]).group(1))
    np.testing.assert_allclose(last, result.value, rtol=1e-9)


def test_silent_by_default(capsys):
    X, y = _problem(9)
    loss = _loss("multinomial", X, y)
    bound.minimize(loss, np.zeros(loss.coef_shape), tol=1e-6, max_iter=200)
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("precondition", [True, False])
@pytest.mark.parametrize("kind", ["multinomial", "binary"])
def test_starting_coef_and_data_not_modified(kind, precondition):
    X, y = _problem(10)
    X_saved, y_saved = X.copy(), y.copy()
    loss = _loss(kind, X, y)
    coef0 = np.random.default_rng(10).normal(size=loss.coef_shape)
    saved = coef0.copy()
    result = bound.minimize(
        loss, coef0, tol=1e-8, max_iter=300, precondition=precondition
    )
    np.testing.assert_array_equal(coef0, saved)
    np.testing.assert_array_equal(X, X_saved)
    np.testing.assert_array_equal(y, y_saved)
    assert not np.shares_memory(result.coef, coef0)
    assert result.converged.all()


@pytest.mark.parametrize("kind", ["multinomial", "binary"])
def test_float32_meets_tol_in_float32_through_anchoring(kind):
    """At tol=1e-6 the float32 products suffice: anchoring lowers their
    rounding floor instead of a switch to float64."""
    X, y = _problem(3, n_samples=20_000, n_features=10)
    X32 = (X * np.logspace(0, 1, 10)).astype(np.float32)
    low = _loss(kind, X32, y)
    exact = _loss(kind, X32.astype(np.float64), y)
    tol = 1e-6
    # (no Newton refinement, which would switch to float64 on a problem this small)
    result = bound.minimize(
        low, np.zeros(low.coef_shape), tol=tol, max_iter=500, refine=False
    )
    assert result.converged.all()
    assert low.low_precision and low._anchor is not None
    # judged on float32 gradients, yet the exact gradient meets tol too
    assert np.all(_row_grad_max(exact, result.coef) <= 1.05 * tol)
    reference = bound.minimize(exact, np.zeros(low.coef_shape), tol=1e-10, max_iter=500)
    assert exact.loss(result.coef) <= reference.value * (1 + 1e-9)


# -- weak penalties, tight tolerances, tiny penalties, memory ---------------------


def _mixture(n_samples, n_features, n_classes, seed):
    """Standardised class-conditional mixtures: classes overlap little, so a
    weak penalty leaves the optimum far out and flat (the hard case)."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=3.0, size=(n_classes, 3, n_features))
    y = rng.integers(0, n_classes, n_samples)
    X = centers[y, rng.integers(0, 3, n_samples)]
    X += rng.standard_t(5, size=X.shape) @ rng.normal(size=(n_features,) * 2)
    return StandardScaler().fit_transform(X), y


def _sklearn_lbfgs_evaluations(X, y, C, tol):
    """Loss-and-gradient evaluations of scikit-learn's lbfgs, counted."""
    from sklearn.linear_model import _linear_loss

    original = _linear_loss.LinearModelLoss.loss_gradient
    calls = []

    def counted(self, *args, **kwargs):
        calls.append(1)
        return original(self, *args, **kwargs)

    _linear_loss.LinearModelLoss.loss_gradient = counted
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model = LogisticRegression(C=C, tol=tol, max_iter=10_000).fit(X, y)
    finally:
        _linear_loss.LinearModelLoss.loss_gradient = original
    return model, len(calls)


def test_weak_penalty_needs_no_more_evaluations_than_sklearn_lbfgs():
    """The softmax's invariant direction is projected out: at C=100 and a
    tight tol, fewer evaluations than plain L-BFGS and a lower objective."""
    X, y = _mixture(3000, 16, 10, seed=2)
    C, tol = 100.0, 1e-10
    reference, reference_evaluations = _sklearn_lbfgs_evaluations(X, y, C, tol)
    ours = SoftmaxRegression(C=C, tol=tol, max_iter=10_000).fit(X, y)
    assert ours._solver_result.n_evaluations <= reference_evaluations
    f_ours = multinomial_objective(ours.coef_, ours.intercept_, X, y, C=C)[0]
    f_ref = multinomial_objective(reference.coef_, reference.intercept_, X, y, C=C)[0]
    assert f_ours <= f_ref * (1 + 1e-9)
    # The projection keeps the class rows centred (the optimum is).
    np.testing.assert_allclose(ours.coef_.sum(axis=0), 0.0, atol=1e-10)


@pytest.mark.parametrize(
    "n_classes, C, seed",
    # 26 classes at C=0.01: weak curvature, so a gradient below tol=1e-4
    # left the objective 2.4e-7 above scikit-learn's before the gap test.
    [(10, 100.0, 3), (26, 0.01, 0), (26, 0.01, 5)],
)
@pytest.mark.parametrize("tol", [1e-4, 1e-6])
def test_objective_at_moderate_tol_is_not_above_sklearn(tol, n_classes, C, seed):
    """Strong penalty or weak: the objective is never above scikit-learn's
    lbfgs's at the same tol (the comparison's 1e-9 slack)."""
    X, y = _mixture(2000, 16, n_classes, seed=seed)
    reference, _ = _sklearn_lbfgs_evaluations(X, y, C, tol)
    ours = SoftmaxRegression(C=C, tol=tol, max_iter=10_000).fit(X, y)
    f_ours = multinomial_objective(ours.coef_, ours.intercept_, X, y, C=C)[0]
    f_ref = multinomial_objective(reference.coef_, reference.intercept_, X, y, C=C)[0]
    assert f_ours <= f_ref * (1 + 1e-9)


@pytest.mark.parametrize("seed", range(6))
def test_tighter_tol_never_gives_a_higher_objective(seed):
    """21 x 3 with 5 classes at C=1000: nearly separable, a long L-BFGS run;
    Newton refinement keeps its turn however tight tol is."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(21, 3))
    y = rng.integers(0, 5, 21)
    y[:5] = np.arange(5)
    values = []
    for tol in [1e-4, 1e-6, 1e-10]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model = SoftmaxRegression(C=1000.0, tol=tol).fit(X, y)
        values.append(
            multinomial_objective(model.coef_, model.intercept_, X, y, C=1000.0)[0]
        )
    for looser, tighter in zip(values, values[1:], strict=False):
        assert tighter <= looser * (1 + 1e-12)


@pytest.mark.parametrize("Estimator", [SoftmaxRegression, OneVsRestLogistic])
@pytest.mark.parametrize(
    "C, weight", [(1e-30, 1.0), (1e-100, 1.0), (1e-300, 1.0), (1.0, 1e-300)]
)
def test_tiny_penalty_scale_gives_the_class_priors(Estimator, C, weight):
    """The intercept is not penalised: however strong the penalty, it still
    fits the class frequencies."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4))
    y = rng.choice(3, size=300, p=[0.6, 0.3, 0.1])
    model = Estimator(C=C).fit(X, y, sample_weight=np.full(300, weight))
    assert np.abs(model.coef_).max() < 1e-20
    # (one-vs-rest: each class's own frequency, which sum to one already)
    expected = np.bincount(y) / len(y)
    np.testing.assert_allclose(
        model.predict_proba(X[:5]), np.tile(expected, (5, 1)), atol=1e-8
    )


@pytest.mark.parametrize("Estimator", [SoftmaxRegression, OneVsRestLogistic])
def test_fit_memory_is_a_few_work_arrays(Estimator):
    """A tall float32 binary fit allocates at most two float64 (n x K) work
    arrays' worth at its peak (no copy of X, refinement included), measured
    with tracemalloc. The solver before the loss contract peaked at 13x."""
    import tracemalloc

    rng = np.random.default_rng(0)
    n = 1_000_000
    X = rng.standard_normal((n, 1), dtype=np.float32)
    y = (X[:, 0] + rng.standard_normal(n, dtype=np.float32) > 0).astype(np.int8)
    tracemalloc.start()
    try:
        Estimator().fit(X, y)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    n_outputs = 1
    assert peak <= 2 * n * n_outputs * np.dtype(np.float64).itemsize


# -- the truncated Newton phase ------------------------------------------------


@pytest.fixture
def newton_cg_everywhere(force_newton_cg, monkeypatch):
    """The truncated Newton phase on small problems (``force_newton_cg``);
    counts the Newton steps."""
    solver = force_newton_cg
    steps = []
    original = solver.LBFGSSolver._line_search

    def counting(self, direction):
        moved = original(self, direction)
        steps.append(moved)
        return moved

    monkeypatch.setattr(solver.LBFGSSolver, "_line_search", counting)
    return steps


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("kind", ["multinomial", "binary"])
def test_newton_cg_phase_converges_to_the_minimiser(
    newton_cg_everywhere, monkeypatch, kind, fit_intercept, sparse
):
    X, y = _problem(3, n_samples=300, n_features=8)
    s = np.random.default_rng(1).uniform(0.5, 2.0, X.shape[0])
    Xin = sp.csr_matrix(X) if sparse else X
    loss = _loss(kind, Xin, y, C=50.0, fit_intercept=fit_intercept, sample_weight=s)
    tol = 1e-9
    result = bound.minimize(loss, np.zeros(loss.coef_shape), tol=tol, max_iter=500)
    assert any(newton_cg_everywhere), "the Newton phase never ran"
    assert result.converged.all()
    assert np.all(_row_grad_max(loss, result.coef) <= tol)
    newton_cg_everywhere.clear()
    # The same problem by L-BFGS and the dense Newton refinement.
    import sksoftmax._solver as solver

    monkeypatch.setattr(solver, "NEWTON_CG_MIN_COEFS", np.inf)
    monkeypatch.setattr(solver, "REFINE_MAX_PARAMS", 2000)
    reference = bound.minimize(
        loss, np.zeros(loss.coef_shape), tol=1e-11, max_iter=2000
    )
    assert not newton_cg_everywhere
    assert result.value <= reference.value + 1e-12 * abs(reference.value)
    np.testing.assert_allclose(result.coef, reference.coef, atol=1e-6)


@pytest.mark.parametrize("Estimator", [SoftmaxRegression, OneVsRestLogistic])
def test_newton_cg_phase_matches_sklearn_through_the_estimators(
    newton_cg_everywhere, Estimator
):
    X, y = load_digits(return_X_y=True)
    X = X[:600] / 16.0
    y = y[:600]
    C = 10.0
    ours = Estimator(C=C, tol=1e-8, max_iter=1000).fit(X, y)
    assert any(newton_cg_everywhere)
    if Estimator is SoftmaxRegression:
        ref = LogisticRegression(C=C, tol=1e-12, max_iter=20_000).fit(X, y)
        f_ours = multinomial_objective(ours.coef_, ours.intercept_, X, y, C=C)[0]
        f_ref = multinomial_objective(ref.coef_, ref.intercept_, X, y, C=C)[0]
        assert f_ours <= f_ref + 1e-10 * abs(f_ref)
        np.testing.assert_allclose(
            ours.predict_proba(X), ref.predict_proba(X), atol=1e-5
        )
    else:
        for k in (0, 7):
            target = (y == k).astype(int)
            ref = LogisticRegression(C=C, tol=1e-12, max_iter=20_000).fit(X, target)
            np.testing.assert_allclose(ours.coef_[k], ref.coef_[0], atol=1e-4)


@pytest.mark.parametrize("precondition", ["cholesky", "diagonal"])
@pytest.mark.parametrize("kind", ["multinomial", "binary"])
def test_each_point_forms_its_probabilities_once(
    newton_cg_everywhere, monkeypatch, kind, precondition
):
    """The starting point's probabilities give both its gradient and the
    first preconditioner, and a rebuild's give the first Newton-CG
    direction: no point's probabilities are formed twice for them."""
    from sksoftmax import _objective

    X, y = _problem(5, n_samples=300, n_features=8)
    loss = _loss(kind, X, y, C=50.0)
    points = {"second_order": [], "value_gradient": []}
    for name in points:
        original = getattr(_objective.PenalizedObjective, name)

        def recording(self, coef, _original=original, _name=name):
            points[_name].append(np.array(coef).tobytes())
            return _original(self, coef)

        monkeypatch.setattr(_objective.PenalizedObjective, name, recording)
    coef0 = np.zeros(loss.coef_shape)
    result = bound.minimize(
        loss, coef0, tol=1e-9, max_iter=500, precondition=precondition
    )
    assert result.converged.all() and any(newton_cg_everywhere)
    formed = points["second_order"] + points["value_gradient"]
    assert formed.count(coef0.tobytes()) == 1
    assert len(set(points["second_order"])) == len(points["second_order"])


def test_newton_cg_phase_respects_max_iter(newton_cg_everywhere):
    X, y = _problem(4, n_samples=300, n_features=8)
    loss = _loss("multinomial", X, y, C=1e4)
    result = bound.minimize(loss, np.zeros(loss.coef_shape), tol=1e-14, max_iter=6)
    assert result.n_iter.max() <= 6
    assert any(newton_cg_everywhere)


@pytest.mark.parametrize("kind", ["multinomial", "binary"])
def test_newton_cg_hands_back_to_lbfgs_without_a_penalty_on_separable_data(
    newton_cg_everywhere, monkeypatch, kind
):
    """Without a penalty, separable data has no finite minimiser and a
    nearly singular Hessian: Newton-CG must neither run away nor cost much
    more than L-BFGS alone (it once took 19,000 products where L-BFGS
    needed 40)."""
    import sksoftmax._solver as solver

    X, y = _problem(5, n_samples=60, n_features=30)  # p > n: separable
    loss = _loss(kind, X, y, C=np.inf)
    result = bound.minimize(loss, np.zeros(loss.coef_shape), tol=1e-4, max_iter=300)
    assert any(newton_cg_everywhere)
    monkeypatch.setattr(solver, "NEWTON_CG_MIN_COEFS", np.inf)
    alone = bound.minimize(loss, np.zeros(loss.coef_shape), tol=1e-4, max_iter=300)
    assert np.all(np.isfinite(result.coef))
    # Both end with the loss near 0 (converged or stalled at rounding level).
    assert result.value <= 1e-8 and (result.converged.all() or result.stalled)
    # L-BFGS alone stops at a rounding-level decrease after 30-55
    # evaluations (scipy 1.10-1.17); Newton-CG needs about 430 here.
    assert alone.n_evaluations <= 100 and result.n_evaluations <= 600


@pytest.mark.parametrize("kind", ["multinomial", "binary"])
def test_newton_cg_takes_over_once_lbfgs_slows_near_the_minimum(
    force_newton_cg, monkeypatch, kind
):
    """Newton-CG starts before NEWTON_CG_SWITCH iterations once every group
    is estimated within NEWTON_CG_GAP of its minimum and L-BFGS's last
    iteration closed less than NEWTON_CG_FAST_CUT of the gap."""
    solver = force_newton_cg
    monkeypatch.setattr(solver, "NEWTON_CG_SWITCH", 10_000)
    handovers, newton_runs = [], []
    original_pays = solver.LBFGSSolver._newton_cg_pays
    original_newton = solver.LBFGSSolver.newton_cg

    def recording_pays(self):
        before = self._previous_gap.copy()
        pays = original_pays(self)
        if pays:
            gap = self._estimated_gap()
            relative = gap / np.abs(self._per_row(self.values))
            handovers.append((relative.max(), (before / gap).max()))
        return pays

    def recording_newton(self, max_iter):
        newton_runs.append(self.n_iter)
        return original_newton(self, max_iter)

    monkeypatch.setattr(solver.LBFGSSolver, "_newton_cg_pays", recording_pays)
    monkeypatch.setattr(solver.LBFGSSolver, "newton_cg", recording_newton)
    X, y = _problem(3, n_samples=300, n_features=8)
    loss = _loss(kind, X, y, C=50.0)
    result = bound.minimize(loss, np.zeros(loss.coef_shape), tol=1e-9, max_iter=500)
    assert result.converged.all()
    assert len(handovers) == 1 and len(newton_runs) == 1
    gap, cut = handovers[0]
    assert gap <= solver.NEWTON_CG_GAP and cut < solver.NEWTON_CG_FAST_CUT
    handed_over_at = newton_runs[0]
    assert 1 <= handed_over_at < result.n_iter.max()
    handovers.clear()
    newton_runs.clear()
    # Without the rule, the L-BFGS run lasts its full length (here the
    # preconditioner's rebuild interval) before Newton starts.
    monkeypatch.setattr(solver, "NEWTON_CG_GAP", 0.0)
    later = bound.minimize(loss, np.zeros(loss.coef_shape), tol=1e-9, max_iter=500)
    assert later.converged.all() and not handovers
    assert not newton_runs or newton_runs[0] > handed_over_at


@pytest.mark.usefixtures("per_row_runs")
def test_per_row_rounds_evaluate_only_the_rows_that_moved(monkeypatch):
    """Once most labels' runs have stopped, a round evaluates only the rows
    whose variables moved: the fit is the one that evaluates every row each
    round, up to the rounding of the smaller products."""
    if not _solver.rows_supported():
        pytest.skip("per-row runs need the direct L-BFGS-B loop")
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    # Labels of very different difficulty stop at very different iterations.
    Y = np.column_stack([y == 0, y == 1, y < 5, y % 2, y == 8, y > 6])
    from sksoftmax._objective import PenalizedObjective

    calls = []
    original = PenalizedObjective.output_value_gradient

    def spy(self, coef_rows, rows):
        calls.append(len(rows))
        return original(self, coef_rows, rows)

    monkeypatch.setattr(PenalizedObjective, "output_value_gradient", spy)
    partial = OneVsRestLogistic(C=100.0, tol=1e-8).fit(X, Y)
    assert calls and max(calls) <= _solver.PARTIAL_EVALUATION_MAX_FRACTION * Y.shape[1]
    calls.clear()
    monkeypatch.setattr(_solver, "PARTIAL_EVALUATION_MAX_FRACTION", 0.0)
    whole = OneVsRestLogistic(C=100.0, tol=1e-8).fit(X, Y)
    assert not calls
    for k in range(Y.shape[1]):
        label = [
            binary_objective(m.coef_[[k]], m.intercept_[[k]], X, Y[:, [k]], C=100.0)[0]
            for m in (partial, whole)
        ]
        assert label[0] == pytest.approx(label[1], rel=1e-10)
    np.testing.assert_array_equal(partial.n_iter_, whole.n_iter_)


# -- a start from a sample of rows ---------------------------------------------


def _tall(kind, n_samples=20_000, rare=False):
    """The objective of a tall problem: 20,000 rows of 6 features, 3
    classes (at test size it qualifies for a sample start only once the
    tests lift ``SAMPLE_START_MIN_MULTIPLY_ADDS``)."""
    X, y = _problem(2, n_samples=n_samples, n_features=6)
    if rare:
        y[y == 2] = 0
        y[:20] = 2  # 20 rows of class 2: 2 in the sample
    n = X.shape[0]
    if kind == "multinomial":
        return in_memory_objective(
            MultinomialLoss(N_CLASSES, True), X, y, np.asarray(1.0 / n), 1.0 / n
        )
    Y = y[:, None] == np.arange(N_CLASSES)
    return in_memory_objective(
        BinaryLoss(N_CLASSES, True), X, Y, np.asarray(1.0 / n), 1.0 / n
    )


@pytest.mark.parametrize("kind", ["multinomial", "binary"])
def test_cold_start_on_tall_data_starts_from_a_row_sample(kind, monkeypatch):
    """On tall data a cold start first solves on every SAMPLE_STEP-th row:
    the fit then meets tol at the same objective, with fewer evaluations on
    all rows."""
    monkeypatch.setattr(_solver, "SAMPLE_START_MIN_MULTIPLY_ADDS", 0)
    objective = _tall(kind)
    tol, coef0 = 1e-8, np.zeros(objective.coef_shape)
    sampled = _solver.minimize_lbfgs(objective, coef0, tol=tol, max_iter=500)
    monkeypatch.setattr(_solver, "SAMPLE_START_MIN_MULTIPLY_ADDS", np.inf)
    plain = _solver.minimize_lbfgs(objective, coef0, tol=tol, max_iter=500)
    assert sampled.n_sample_evaluations > 0 and plain.n_sample_evaluations == 0
    assert sampled.converged.all() and plain.converged.all()
    assert sampled.n_evaluations < plain.n_evaluations
    np.testing.assert_allclose(sampled.value, plain.value, rtol=1e-9)
    assert not np.any(coef0)


@pytest.mark.parametrize(
    "case",
    ["warm start", "rare class", "small data", "path memory", "float32", "max_iter=0"],
)
def test_no_sample_start_where_it_cannot_pay(case, monkeypatch):
    """Warm starts, a sample with too few rows of some class, cheap
    evaluations, a C path's fits, float32 products and a run allowed no
    iteration start where they are."""
    if case != "small data":
        monkeypatch.setattr(_solver, "SAMPLE_START_MIN_MULTIPLY_ADDS", 0)
    objective = _tall("multinomial", rare=case == "rare class")
    coef0 = np.zeros(objective.coef_shape)
    options = {}
    if case == "warm start":
        coef0[0, 0] = 0.1
    elif case == "path memory":
        options["memory"] = _solver.NewtonMemory()
    elif case == "float32":
        X, y = _problem(2, n_samples=20_000, n_features=6)
        objective = in_memory_objective(
            MultinomialLoss(N_CLASSES, True),
            X.astype(np.float32),
            y,
            np.asarray(1.0 / len(y)),
            1.0 / len(y),
        )
        assert objective.precision.low_precision
    max_iter = 0 if case == "max_iter=0" else 100
    result = _solver.minimize_lbfgs(
        objective, coef0, tol=1e-6, max_iter=max_iter, **options
    )
    assert result.n_sample_evaluations == 0
    assert result.converged.all() == (max_iter > 0)


def test_verbose_announces_the_sample_start(monkeypatch, capsys):
    monkeypatch.setattr(_solver, "SAMPLE_START_MIN_MULTIPLY_ADDS", 0)
    objective = _tall("multinomial")
    _solver.minimize_lbfgs(
        objective, np.zeros(objective.coef_shape), tol=1e-6, max_iter=100, verbose=1
    )
    assert f"every {_solver.SAMPLE_STEP}th row" in capsys.readouterr().out


@pytest.mark.parametrize("kind", ["multinomial", "binary"])
def test_first_run_after_a_sample_start_takes_newtons_step(kind, monkeypatch):
    """From the sample's solution, the first run on all rows starts with a
    step of Newton's length instead of L-BFGS-B's unit step, which
    overshoots there: fewer evaluations on all rows, the same minimum (the
    binary objective runs one L-BFGS-B per output, the multinomial one a
    joint run)."""
    monkeypatch.setattr(_solver, "SAMPLE_START_MIN_MULTIPLY_ADDS", 0)
    objective = _tall(kind)
    coef0 = np.zeros(objective.coef_shape)
    # (at this size the Newton refinement would finish the fit, which the
    # step leaves alone; on tall data it does not apply)
    options = dict(tol=1e-8, max_iter=500, refine=False)
    newton = _solver.minimize_lbfgs(objective, coef0, **options)
    monkeypatch.setattr(
        _solver.LBFGSSolver,
        "_first_step_scale",
        lambda self, per_row: None,
    )
    unit = _solver.minimize_lbfgs(objective, coef0, **options)
    # (the sample's own run rebuilds, and so differs too)
    assert newton.n_sample_evaluations > 0 and unit.n_sample_evaluations > 0
    # (at tol=1e-8 a run may end at rounding level, as L-BFGS-B's own test)
    assert all(r.converged.all() or r.stalled for r in (newton, unit))
    assert newton.n_evaluations < unit.n_evaluations
    np.testing.assert_allclose(newton.value, unit.value, rtol=1e-9)


@pytest.mark.parametrize("per_row", [False, True])
def test_first_step_scale_is_the_gradient_norm_below_one(per_row):
    """For a run that takes Newton's first step, the run's variables are
    L-BFGS's divided by the gradient's norm in them (per row for per-row
    runs), where it is below 1 and the estimated gap (half its square) is
    at least NEWTON_STEP_MIN_GAP of the objective; otherwise, and for every
    later run, they are L-BFGS's own (None)."""
    # (without the refinement, which would finish such a small fit)
    solver = _solver.LBFGSSolver(_tall("binary"), tol=1e-6, max_iter=10, refine=False)
    solver.grad_v = np.array([[0.3, 0.4], [3.0, 4.0], [0.0, 0.0], [1e-6, 0.0]])
    # half the squares: 0.125, 12.5, 0 and 5e-13, against gaps of 1e-10
    # of these values: only the last row is too close to its minimum
    solver.values = np.array([1.0, 1.0, 1.0, 1.0])
    solver._newton_first_step = True
    scale = solver._first_step_scale(per_row)
    if per_row:
        np.testing.assert_allclose(scale, [[0.5], [1.0], [1.0], [1.0]])
    else:
        assert scale is None  # the norm of all rows, 5.02, is above 1
        solver._newton_first_step = True
        solver.grad_v = solver.grad_v[:1]
        solver.values = solver.values[:1]
        assert solver._first_step_scale(per_row) == pytest.approx(0.5)
        solver._newton_first_step = True
        solver.values = np.array([1e10])  # the gap 0.125 is below 1e-10 of it
        assert solver._first_step_scale(per_row) is None
        # A joint run of a separable objective: the gap of all rows against
        # their total value, not the first row's.
        solver._newton_first_step = True
        solver.grad_v = np.array([[0.3, 0.4], [0.0, 0.0]])
        solver.values = np.array([1.0, 1e10])
        assert solver._first_step_scale(per_row) is None
    assert not solver._newton_first_step
    assert solver._first_step_scale(per_row) is None


@pytest.mark.parametrize("refine", [False, True])
def test_runs_from_a_rebuild_take_newtons_first_step(refine, monkeypatch):
    """A run that starts from a preconditioner rebuild takes Newton's first
    step (a cold start's first run takes L-BFGS-B's): fewer evaluations, the
    same minimum. Not where the Newton refinement finishes the fit, whose
    hand-over point it would move (its Hessians cost several evaluations)."""
    objective = _tall("multinomial")  # no sample start: 7e5 multiply-adds
    coef0 = np.zeros(objective.coef_shape)
    options = dict(tol=1e-10, max_iter=500, refine=refine)
    flags = []
    first_step_scale = _solver.LBFGSSolver._first_step_scale

    def recording(self, per_row):
        scale = first_step_scale(self, per_row)
        flags.append(scale is not None)  # whether this run takes the step
        return scale

    monkeypatch.setattr(_solver.LBFGSSolver, "_first_step_scale", recording)
    newton = _solver.minimize_lbfgs(objective, coef0, **options)
    assert newton.n_sample_evaluations == 0 and len(flags) > 1
    assert flags[0] is False  # the cold start's first run
    assert any(flags[1:]) == (not refine)
    monkeypatch.setattr(
        _solver.LBFGSSolver, "_first_step_scale", lambda self, per_row: None
    )
    unit = _solver.minimize_lbfgs(objective, coef0, **options)
    np.testing.assert_allclose(newton.value, unit.value, rtol=1e-12)
    if refine:
        assert newton.n_evaluations == unit.n_evaluations
    else:
        assert newton.n_evaluations < unit.n_evaluations


@pytest.mark.parametrize("kind", ["multinomial", "binary"])
def test_a_warm_start_takes_newtons_first_step(kind, monkeypatch):
    """A fit from a point near its minimum (here the minimum at another C,
    as along a C path) starts with Newton's step: fewer evaluations, the
    same minimum."""
    objective = _tall(kind)
    coef0 = np.zeros(objective.coef_shape)
    options = dict(tol=1e-6, max_iter=500, refine=False)
    objective.penalty = replace(objective.penalty, l2=objective.penalty.l2 * 2.0)
    warm = _solver.minimize_lbfgs(objective, coef0, **options).coef
    objective.penalty = replace(objective.penalty, l2=objective.penalty.l2 / 2.0)
    newton = _solver.minimize_lbfgs(objective, warm, **options)
    monkeypatch.setattr(
        _solver.LBFGSSolver, "_first_step_scale", lambda self, per_row: None
    )
    unit = _solver.minimize_lbfgs(objective, warm, **options)
    assert newton.converged.all() and unit.converged.all()
    assert newton.n_evaluations < unit.n_evaluations
    np.testing.assert_allclose(newton.value, unit.value, rtol=1e-9)


def test_dear_newton_steps_still_rescue_a_slow_l_bfgs_run(monkeypatch):
    """Weakly penalised data with more features than rows: a Newton step
    costs far more than REFINE_MAX_EVALUATIONS evaluations, so the
    refinement does not finish the fit, but L-BFGS cannot reach tol=1e-8
    within max_iter; the rescue's Newton steps do (without them the fit
    warns)."""
    from sksoftmax import _rowspace

    monkeypatch.setattr(_rowspace, "MAX_BREAK_EVEN_EVALUATIONS", 0.0)
    # Classes apart along five directions (nearly separable), two rows
    # repeated, columns centred.
    rng = np.random.default_rng(0)
    y = np.arange(60) % N_CLASSES
    X = rng.standard_normal((60, 500))
    X[:, :5] += 1.5 * y[:, None]
    X[-2:] = X[:2]
    X -= X.mean(axis=0)
    loss = _loss("multinomial", X, y, C=100.0, fit_intercept=False)
    solver = _solver.LBFGSSolver(loss.objective, tol=1e-8, max_iter=500)
    assert not solver.refinement_applies()
    assert solver.refinement_applies(any_step_cost=True)
    assert solver.rescue_budget() >= 2 * _solver.REFINE_MAX_EVALUATIONS
    params = dict(C=100.0, tol=1e-8, max_iter=500, fit_intercept=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = SoftmaxRegression(**params).fit(X, y)
    assert model.n_iter_.max() <= 500
    assert _row_grad_max(loss, model._solver_result.coef).max() <= 1e-8
    monkeypatch.setattr(
        _solver.LBFGSSolver, "rescue_budget", lambda self, refine=None: None
    )
    with pytest.warns(ConvergenceWarning):
        SoftmaxRegression(**params).fit(X, y)


def test_no_rescue_after_a_stall_at_rounding_level(monkeypatch):
    """50 x 200 at tol=1e-10: L-BFGS stops at rounding level (a stop that
    counts as converged, as in scikit-learn); Newton would only polish it, at
    a step's cost of some 190 evaluations, so the rescue does not run."""
    calls = []
    refine = _solver.LBFGSSolver.refine

    def spy(self, *args, **kwargs):
        calls.append(self.n_iter)
        return refine(self, *args, **kwargs)

    monkeypatch.setattr(_solver.LBFGSSolver, "refine", spy)
    rng = np.random.default_rng(2)
    X = rng.standard_normal((50, 200))
    y = np.arange(50) % N_CLASSES
    loss = _loss("multinomial", X, y)
    solver = _solver.LBFGSSolver(loss.objective, tol=1e-10, max_iter=1000)
    assert solver.rescue_budget() is not None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = solver.solve(np.zeros(loss.coef_shape))
    assert result.stalled
    assert calls == []
