"""Fitting, timing, objective, evaluation counts and memory for the benchmark.

One *cell* is a problem at one ``C`` and one ``tol``. In a cell every solver
variant (sksoftmax, and each scikit-learn solver with its default BLAS threads
and under ``threadpool_limits(1)``) is fitted once per repeat, all variants
taking turns within the repeat (the starting variant rotates), and the median
time over the repeats is quoted. Every fitted model's objective is evaluated
by the same function, :func:`objective`.

Untimed extras:

* :func:`count_evaluations`: a separate fit of a scikit-learn solver with its
  ``LinearModelLoss`` methods wrapped by counters (restored afterwards);
* :func:`peak_memory_mb`: a separate fit under ``tracemalloc``.
"""

import contextlib
import gc
import statistics
import sys
import time
import tracemalloc
import warnings
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.linear_model._linear_loss import LinearModelLoss
from sklearn.multiclass import OneVsRestClassifier
from threadpoolctl import threadpool_limits

from sksoftmax import OneVsRestLogistic, SoftmaxRegression
from sksoftmax._loss import binary_objective, multinomial_objective
from sksoftmax._solver import SAMPLE_STEP

# newton-cholesky forms and factorises a dense Hessian of n_params rows, with
# n_params = K * (p + 1) (multinomial) or p + 1 per label (one-vs-rest).
# Above NEWTON_MAX_PARAMS the factorisation alone is out of place.
NEWTON_MAX_PARAMS = 6_000
# Forming one Hessian costs about n_samples * n_params**2 flops (times the
# labels for one-vs-rest), about 1 s per 2e10 on one core of the reference
# machine, and a fit forms 5-15 of them; above this budget the peer would take
# more than a minute per fit, so it is skipped with that reason.
NEWTON_MAX_FLOPS = 5e10

# The LinearModelLoss methods scikit-learn's solvers call: lbfgs calls
# loss_gradient; newton-cg calls loss (line search), gradient and
# gradient_hessian_product (whose returned hessp closure gives the
# Hessian-vector products); newton-cholesky calls gradient_hessian and loss.
_LOSS_METHODS = (
    "loss",
    "gradient",
    "loss_gradient",
    "gradient_hessian_product",
    "gradient_hessian",
)


# A scikit-learn run in one thread setting is stopped once it takes
# SIBLING_FACTOR times as long as the same solver in the other setting (and at
# least SIBLING_FLOOR_S seconds): it cannot be the faster one, and on a busy
# machine multi-threaded BLAS can be ten times slower than one thread.
SIBLING_FACTOR = 3.0
SIBLING_FLOOR_S = 2.0
# A cell whose first repeat (every variant once) takes under SHORT_CELL_S
# seconds gets at least SHORT_CELL_REPEATS repeats: fits of 5-25 ms vary by
# up to 1.4x from one repeat to the next on a shared 2-vCPU machine (the
# same 10-iteration fit of the 600 x 72 set took 11.5 ms in one cell and
# 7.8-8.2 ms in its neighbours), which three repeats do not average out,
# and more repeats cost a few seconds there. With a 1 s limit the cells of
# the 1,200 x 294 multilabel set (our fits 13-48 ms, a repeat 1.0-1.8 s with
# scikit-learn's three solvers and their objectives) kept three repeats,
# and its C=0.01, tol=1e-10 cell measured 1.75-2.14x over fifteen runs of
# the same fit; at 3 s about 22 more cells get nine repeats, about 4 more
# minutes for the whole grid.
SHORT_CELL_S = 3.0
SHORT_CELL_REPEATS = 9


class FitTimeout(Exception):
    """A scikit-learn fit passed its deadline (raised from a loss evaluation)."""


@dataclass(frozen=True)
class Solver:
    """One solver variant of a cell.

    Attributes
    ----------
    name : str
        ``"sksoftmax"``, ``"lbfgs"``, ``"newton-cg"`` or ``"newton-cholesky"``.
    threads : int or None
        BLAS threads (``threadpool_limits``); None leaves the default.
    skip : str or None
        Why this variant does not run on the problem, or None.
    """

    name: str
    threads: int | None = None
    skip: str | None = None

    @property
    def ours(self):
        return self.name == "sksoftmax"

    @property
    def label(self):
        return f"{self.name} ({'1 thread' if self.threads == 1 else 'default threads'})"

    def make(self, kind, C, tol, max_iter):
        """A fresh unfitted estimator."""
        common = dict(C=C, tol=tol, max_iter=max_iter)
        if self.ours:
            return (
                OneVsRestLogistic(**common)
                if kind == "multilabel"
                else SoftmaxRegression(**common)
            )
        estimator = LogisticRegression(solver=self.name, **common)
        return OneVsRestClassifier(estimator) if kind == "multilabel" else estimator


def newton_cholesky_skip(problem, max_flops=NEWTON_MAX_FLOPS):
    """Why newton-cholesky is not run on ``problem``, or None."""
    n_samples, n_features = problem.X.shape
    if problem.kind == "multilabel":
        n_params, n_hessians = n_features + 1, problem.n_outputs
    else:
        n_params, n_hessians = problem.n_outputs * (n_features + 1), 1
    if n_params > NEWTON_MAX_PARAMS:
        return f"skipped: dense Hessian of {n_params:,} parameters"
    flops = n_hessians * n_samples * n_params**2
    if flops > max_flops:
        return (
            f"skipped: one Hessian costs {flops:.1e} flops "
            f"(budget {max_flops:.0e}, about {flops / 2e10:.0f} s on one core)"
        )
    return None


def solvers_for(problem, newton_max_flops=NEWTON_MAX_FLOPS, threads=(None, 1)):
    """sksoftmax, then each scikit-learn solver, each in every thread setting.

    ``threads`` lists the settings (None: the default BLAS threads). Every
    solver, ours included, is timed in each, and the faster counts: on a busy
    machine, default multi-threaded BLAS can be several times slower than one
    thread for any of them.
    """
    out = [Solver("sksoftmax", setting) for setting in threads]
    for name in ("lbfgs", "newton-cg", "newton-cholesky"):
        skip = newton_cholesky_skip(problem, newton_max_flops)
        skip = skip if name == "newton-cholesky" else None
        out += [Solver(name, setting, skip) for setting in threads]
    return out


# -- one fit ---------------------------------------------------------------------


@contextlib.contextmanager
def _wrapped_loss_methods(wrap):
    """Replace each LinearModelLoss method ``m`` by ``wrap(name, m)``; restore."""
    originals = {name: getattr(LinearModelLoss, name) for name in _LOSS_METHODS}
    try:
        for name, method in originals.items():
            setattr(LinearModelLoss, name, wrap(name, method))
        yield
    finally:
        for name, method in originals.items():
            setattr(LinearModelLoss, name, method)


def _deadline_guard(deadline):
    """Wrapper raising FitTimeout when a loss evaluation starts after ``deadline``.

    The cost is one clock read per evaluation (well under 1 us), against
    evaluations of at least tens of microseconds.
    """

    def wrap(name, method):
        def guarded(self, *args, **kwargs):
            if time.perf_counter() > deadline:
                raise FitTimeout
            return method(self, *args, **kwargs)

        return guarded

    return _wrapped_loss_methods(wrap)


def thread_limit(threads):
    """BLAS threads limited to ``threads`` inside the context; None leaves
    the default (the two settings every benchmark times)."""
    return threadpool_limits(limits=threads) if threads else contextlib.nullcontext()


@dataclass
class Fit:
    """The outcome of one fit."""

    seconds: float
    estimator: object = None
    converged: bool | None = None
    timed_out: bool = False


def fit_once(solver, problem, C, tol, max_iter, timeout=None):
    """Fit one solver variant once and time it.

    ConvergenceWarnings are recorded, not shown. With ``timeout`` (seconds),
    a scikit-learn fit is abandoned at its first loss evaluation after the
    deadline and reported as timed out (``seconds`` is then a lower bound).
    """
    estimator = solver.make(problem.kind, C, tol, max_iter)
    guard = (
        _deadline_guard(time.perf_counter() + timeout)
        if timeout and not solver.ours
        else contextlib.nullcontext()
    )
    gc.collect()
    with warnings.catch_warnings(record=True) as caught, thread_limit(solver.threads):
        warnings.simplefilter("always", ConvergenceWarning)
        with guard:
            start = time.perf_counter()
            try:
                estimator.fit(problem.X, problem.y)
            except FitTimeout:
                return Fit(time.perf_counter() - start, timed_out=True)
            seconds = time.perf_counter() - start
    converged = not any(issubclass(w.category, ConvergenceWarning) for w in caught)
    return Fit(seconds, estimator, converged)


# -- what a fitted model says -----------------------------------------------------


def coefficients(estimator):
    """``(W, b)`` of a fitted estimator; scikit-learn's OvR rows are stacked."""
    if hasattr(estimator, "estimators_"):
        W = np.vstack([e.coef_ for e in estimator.estimators_])
        b = np.concatenate([e.intercept_ for e in estimator.estimators_])
        return W, b
    return estimator.coef_, estimator.intercept_


def iterations(estimator):
    """Largest ``n_iter_`` (over scikit-learn's OvR members and our labels)."""
    if hasattr(estimator, "estimators_"):
        return int(max(np.max(e.n_iter_) for e in estimator.estimators_))
    return int(np.max(estimator.n_iter_))


def objective(estimator, problem, C):
    """The objective of any fitted model, by one function for every solver.

    ``C * sum_i loss_i + 0.5 ||W||^2`` (summed over labels for one-vs-rest),
    from :func:`sksoftmax._loss.multinomial_objective` or
    :func:`~sksoftmax._loss.binary_objective`, in float64. A binary
    ``LogisticRegression`` (``coef_`` of shape (1, p)) is the binomial model
    of ``y == classes_[1]``.
    """
    W, b = coefficients(estimator)
    W = np.asarray(W, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    X = problem.X
    if X.dtype != np.float64:
        X = X.astype(np.float64)
    if problem.kind == "multilabel":
        return float(binary_objective(W, b, X, problem.y, C=C)[0])
    y_index = np.searchsorted(estimator.classes_, problem.y)
    if W.shape[0] == 1:
        return float(binary_objective(W, b, X, (y_index == 1)[:, None], C=C)[0])
    return float(multinomial_objective(W, b, X, y_index, C=C)[0])


def our_evaluations(estimator):
    """Evaluations of a sksoftmax fit in units of one on all rows, or None
    if absent: ``_solver_result.n_evaluations``, plus the evaluations on the
    row sample a tall fit starts from, each over one row in
    ``sksoftmax._solver.SAMPLE_STEP`` (rounded up)."""
    result = getattr(estimator, "_solver_result", None)
    value = getattr(result, "n_evaluations", None)
    if value is None:
        return None
    sampled = int(getattr(result, "n_sample_evaluations", 0))
    return int(np.sum(value)) + -(-sampled // SAMPLE_STEP)


# -- untimed extras ----------------------------------------------------------------


def count_evaluations(solver, problem, C, tol, max_iter, timeout=None):
    """Loss evaluations of one untimed scikit-learn fit, by method.

    Every ``LinearModelLoss`` method is wrapped by a counter for the fit (and
    restored afterwards); the ``hessp`` closures returned by
    ``gradient_hessian_product`` are wrapped too. The fit runs with one BLAS
    thread (the counts do not depend on threads).

    Returns
    -------
    counts : dict
        Calls per method, ``hessp``, ``total`` (all of them, a Hessian-vector
        product counted as one evaluation) and ``iters``; or ``{"status":
        "timeout"}``.
    """
    counts = dict.fromkeys((*_LOSS_METHODS, "hessp"), 0)
    deadline = time.perf_counter() + timeout if timeout else None

    def wrap(name, method):
        def counted(self, *args, **kwargs):
            if deadline is not None and time.perf_counter() > deadline:
                raise FitTimeout
            counts[name] += 1
            out = method(self, *args, **kwargs)
            if name == "gradient_hessian_product":
                grad, hessp = out

                def counted_hessp(s, hessp=hessp):
                    counts["hessp"] += 1
                    return hessp(s)

                out = grad, counted_hessp
            return out

        return counted

    estimator = solver.make(problem.kind, C, tol, max_iter)
    with (
        warnings.catch_warnings(),
        threadpool_limits(limits=1),
        _wrapped_loss_methods(wrap),
    ):
        warnings.simplefilter("ignore", ConvergenceWarning)
        try:
            estimator.fit(problem.X, problem.y)
        except FitTimeout:
            return {"status": "timeout"}
    counts = {name: value for name, value in counts.items() if value}
    counts["total"] = sum(counts.values())
    counts["iters"] = iterations(estimator)
    return counts


def peak_memory_mb(solver, problem, C, tol, max_iter):
    """Peak memory (MiB) traced during one untimed fit (``tracemalloc``).

    tracemalloc sees Python and NumPy allocations, not BLAS-internal buffers.
    """
    estimator = solver.make(problem.kind, C, tol, max_iter)
    gc.collect()
    with warnings.catch_warnings(), thread_limit(solver.threads):
        warnings.simplefilter("ignore", ConvergenceWarning)
        tracemalloc.start()
        try:
            estimator.fit(problem.X, problem.y)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    return peak / 2**20


def data_mb(problem):
    """Size of ``X`` in MiB (data, indices and pointers for sparse)."""
    X = problem.X
    if sp.issparse(X):
        return (X.data.nbytes + X.indices.nbytes + X.indptr.nbytes) / 2**20
    return X.nbytes / 2**20


# -- one cell ----------------------------------------------------------------------


def log(message):
    print(message, file=sys.stderr, flush=True)


def run_cell(
    problem,
    solvers,
    C,
    tol,
    *,
    repeats=3,
    max_iter=10_000,
    cell_budget=60.0,
    timeout=None,
):
    """Time every solver variant on one cell.

    Each repeat fits every variant once, in turn (the first solver rotates
    from repeat to repeat; a solver's one-thread run precedes its default
    one). After the first repeat, a slow cell keeps only as many repeats as
    fit in ``cell_budget`` seconds (at least one), and a quick one gets at
    least ``SHORT_CELL_REPEATS`` (see ``SHORT_CELL_S``). A scikit-learn run is
    stopped at ``timeout`` seconds, or at ``SIBLING_FACTOR`` times its other
    thread setting's best time; a variant that timed out is not run again.

    Returns
    -------
    rows : list of dict
        One per variant: times, median time, iterations, convergence,
        objective (by :func:`objective`), our evaluation count, status.
    """
    rows = {}
    active = []
    for solver in solvers:
        rows[solver] = {
            "problem": problem.name,
            "kind": problem.kind,
            "C": C,
            "tol": tol,
            "solver": solver.name,
            "threads": "1" if solver.threads == 1 else "default",
            "ours": solver.ours,
            "status": solver.skip or "ok",
            "times": [],
            "time_s": None,
            "iters": None,
            "converged": None,
            "objective": None,
            "n_evaluations": None,
        }
        if solver.skip is None:
            active.append(solver)
    planned = repeats
    started = time.perf_counter()
    repeat = 0
    while repeat < planned and active:
        # The solvers take turns, the first one rotating between repeats; for
        # each solver its one-thread run goes first, so that its other setting
        # can be stopped once it is clearly the slower one.
        names = list(dict.fromkeys(solver.name for solver in active))
        names = names[repeat % len(names) :] + names[: repeat % len(names)]
        order = [
            solver
            for name in names
            for solver in sorted(active, key=lambda s: s.threads != 1)
            if solver.name == name
        ]
        for solver in order:
            row = rows[solver]
            limit, bounded = timeout, False
            sibling = [
                min(rows[other]["times"])
                for other in active
                if other.name == solver.name
                and other is not solver
                and rows[other]["times"]
                and rows[other]["status"] == "ok"
            ]
            if sibling and not solver.ours:
                bound = max(SIBLING_FLOOR_S, SIBLING_FACTOR * min(sibling))
                if limit is None or bound < limit:
                    limit, bounded = bound, True
            try:
                fit = fit_once(solver, problem, C, tol, max_iter, limit)
            except Exception as exc:  # a peer may fail; the run goes on
                row["status"] = f"error: {type(exc).__name__}: {exc}"[:160]
                active.remove(solver)
                continue
            if fit.timed_out:
                row["status"] = f"timeout: stopped after {fit.seconds:.1f} s" + (
                    f", over {SIBLING_FACTOR:g}x its other thread setting"
                    if bounded
                    else ""
                )
                row["times"].append(fit.seconds)
                active.remove(solver)
                continue
            row["times"].append(fit.seconds)
            estimator = fit.estimator
            row["iters"] = iterations(estimator)
            row["converged"] = fit.converged and row["converged"] is not False
            row["objective"] = objective(estimator, problem, C)
            if solver.ours:
                row["n_evaluations"] = our_evaluations(estimator)
            del estimator, fit
        repeat += 1
        if repeat == 1 and planned > 1:
            first = time.perf_counter() - started
            if first < SHORT_CELL_S:
                planned = max(planned, SHORT_CELL_REPEATS)
            planned = max(1, min(planned, int(cell_budget // max(first, 1e-9))))
    for row in rows.values():
        row["repeats"] = len(row["times"])
        if row["times"] and row["status"] == "ok":
            row["time_s"] = statistics.median(row["times"])
    return list(rows.values())


# -- the side benchmarks' grid ------------------------------------------------------


def run_side_grid(makers, C_grid, tol_grid, *, quick, after_cell=None, **cell_options):
    """The side benchmarks' loop: every problem of ``makers`` (name ->
    ``maker(quick)``) at every ``C`` and ``tol``, timed by :func:`run_cell`
    with ``cell_options``. ``after_cell(problem, C, tol)``, if given, runs
    after each cell (an extra measurement) and its results are returned.

    Returns
    -------
    rows : list of dict
        :func:`run_cell`'s rows, for ``report.cell_verdicts``.
    extras : list
        ``after_cell``'s results, one per cell, in the same order.
    """
    rows, extras = [], []
    for name, make in makers.items():
        problem = make(quick)
        print(f"{name}: {problem.description}", flush=True)
        solvers = solvers_for(problem)
        for C in C_grid:
            for tol in tol_grid:
                rows += run_cell(problem, solvers, C, tol, **cell_options)
                if after_cell is not None:
                    extras.append(after_cell(problem, C, tol))
        del problem
    return rows, extras


# -- float32 against float64 -------------------------------------------------------


def precision_benchmark(problem, C, tol, max_iter, repeats):
    """Fit ``problem`` with sksoftmax as float64 and as float32, alternating.

    Returns
    -------
    result : dict
        Median fit times, their ratio ``float64 / float32`` (the float32
        speed-up), iterations and the largest difference of ``predict_proba``.
    """
    X64 = problem.X
    X32 = X64.astype(np.float32)
    times = {"float64": [], "float32": []}
    fitted = {}
    for _ in range(repeats):
        for key, X in (("float64", X64), ("float32", X32)):
            estimator = Solver("sksoftmax").make(problem.kind, C, tol, max_iter)
            gc.collect()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                start = time.perf_counter()
                fitted[key] = estimator.fit(X, problem.y)
                times[key].append(time.perf_counter() - start)
    gap = np.abs(
        fitted["float32"].predict_proba(X32) - fitted["float64"].predict_proba(X64)
    ).max()
    result = {
        "problem": problem.name,
        "C": C,
        "tol": tol,
        **{f"fit_s_{key}": statistics.median(v) for key, v in times.items()},
    }
    result["float32_speedup"] = result["fit_s_float64"] / result["fit_s_float32"]
    for key, estimator in fitted.items():
        result[f"iters_{key}"] = iterations(estimator)
    result["max_proba_gap"] = float(gap)
    return result
