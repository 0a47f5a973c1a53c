"""Benchmark sksoftmax against scikit-learn's logistic regression solvers.

Compares, on a fixed set of synthetic and real problems,

* :class:`sksoftmax.SoftmaxRegression` (the reference) against
  ``LogisticRegression(solver="lbfgs")`` (the target to beat),
  ``LogisticRegression(solver="newton-cholesky")`` and, when the estimator
  has a ``precondition`` parameter, ``SoftmaxRegression(precondition=False)``;
* :class:`sksoftmax.OneVsRestLogistic` (the reference) against
  ``OneVsRestClassifier(LogisticRegression())`` on multilabel targets,

all at the same ``C``, ``tol`` and a ``max_iter`` large enough to converge.
For each problem and solver it reports the best fit time over the repeats
(the solvers alternate within each repeat, so drift affects all of them
equally), the iteration count, whether a ``ConvergenceWarning`` was raised,
the final objective evaluated by one common function from
:mod:`sksoftmax._loss` and its relative gap to the best solver, the peak
memory allocated during a separate, untimed fit (``tracemalloc``), and the
speed-up ``peer time / reference time``.

A micro-benchmark times one loss-and-gradient evaluation of
:class:`sksoftmax._loss.MultinomialLoss` on problem (a) against its two
matrix products alone (target: within 1.5x), in float64 and float32.

Results go to stdout (a table), ``<output-dir>/latest.json`` and
``<output-dir>/speedup.png``. Run ``python benchmarks/run.py --help``.
"""

import argparse
import datetime
import gc
import json
import os
import platform
import subprocess
import sys
import time
import tracemalloc
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import scipy
import scipy.sparse as sp
import sklearn
from sklearn.datasets import (
    load_digits,
    make_classification,
    make_multilabel_classification,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.multiclass import OneVsRestClassifier
from sklearn.preprocessing import normalize
from threadpoolctl import threadpool_info, threadpool_limits

import sksoftmax
from sksoftmax import OneVsRestLogistic, SoftmaxRegression
from sksoftmax._loss import MultinomialLoss, binary_objective, multinomial_objective

RESULTS_DIR = Path(__file__).resolve().parent / "results"
SEED = 0
# newton-cholesky forms and factorises a dense Hessian with
# n_classes * (n_features + 1) rows; above this it is not sensible to run.
NEWTON_MAX_PARAMS = 6000
# ... and forming that Hessian costs about n_samples * n_params**2 flops per
# iteration (about 1 s per 2e10 on one core, ~6 iterations per fit); above a
# budget (--newton-max-flops) the peer would dominate the whole benchmark, so it
# is recorded as n/a. The default keeps it on (a) and (g), not on (d) and (e).
NEWTON_MAX_FLOPS = 1.2e11
NEWTON_MAX_FLOPS_QUICK = 5e9


# -- problems ----------------------------------------------------------------


@dataclass
class Problem:
    """A benchmark problem: data generated once, before any timing.

    Attributes
    ----------
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        Training data.
    y : ndarray of shape (n_samples,) or (n_samples, n_labels)
        Integer class labels ``0 .. K-1`` (``kind="multiclass"``) or a 0/1
        indicator matrix (``kind="multilabel"``).
    kind : {"multiclass", "multilabel"}
        Which estimators are compared.
    description : str
        One line for the report.
    """

    X: object
    y: np.ndarray
    kind: str
    description: str
    n_outputs: int = field(init=False)

    def __post_init__(self):
        self.n_outputs = (
            self.y.shape[1] if self.kind == "multilabel" else np.unique(self.y).size
        )


def _standardise(X):
    """Centre and scale each column to unit variance (dense, in float64)."""
    X = X - X.mean(axis=0)
    X /= X.std(axis=0)
    return X


def _linear_logit_data(n_samples, n_features, n_classes, rng, signal=3.0):
    """Standard normal features and labels drawn from a softmax model.

    Parameters
    ----------
    n_samples, n_features, n_classes : int
        Problem size.
    rng : numpy.random.Generator
        Source of randomness.
    signal : float, default=3.0
        Standard deviation of each true logit; larger is more separable.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        Standardised float64 features.
    y : ndarray of shape (n_samples,)
        Labels in ``0 .. n_classes - 1`` (sampled by the Gumbel-max trick).
    """
    X = _standardise(rng.standard_normal((n_samples, n_features)))
    W = rng.standard_normal((n_classes, n_features)) * (signal / np.sqrt(n_features))
    logits = X @ W.T + rng.gumbel(size=(n_samples, n_classes))
    return X, logits.argmax(axis=1)


def problem_a_dense(quick):
    """(a) Dense independent standardised features, 100,000 x 100, K=10."""
    n = 2_000 if quick else 100_000
    X, y = _linear_logit_data(n, 100, 10, np.random.default_rng(SEED))
    return Problem(X, y, "multiclass", f"dense independent {n}x100, K=10")


def problem_b_correlated(quick):
    """(b) Correlated and redundant features (make_classification), K=8."""
    n = 3_000 if quick else 30_000
    X, y = make_classification(
        n,
        120,
        n_informative=40,
        n_redundant=60,
        n_classes=8,
        random_state=SEED,
    )
    return Problem(X, y, "multiclass", f"correlated/redundant {n}x120, K=8")


def problem_c_digits_raw(quick):
    """(c) Raw, unscaled features: the digits data as loaded (1797 x 64, K=10)."""
    X, y = load_digits(return_X_y=True)
    return Problem(X, y, "multiclass", "digits unscaled 1797x64, K=10")


def problem_d_many_classes(quick):
    """(d) Many classes: 20,000 x 50 dense features, K=50."""
    n = 1_000 if quick else 20_000
    X, y = _linear_logit_data(n, 50, 50, np.random.default_rng(SEED), signal=4.0)
    return Problem(X, y, "multiclass", f"many classes {n}x50, K=50")


def problem_e_tall(quick):
    """(e) Tall: 500,000 x 50 dense features, K=10."""
    n = 10_000 if quick else 500_000
    X, y = _linear_logit_data(n, 50, 10, np.random.default_rng(SEED))
    return Problem(X, y, "multiclass", f"tall {n}x50, K=10")


def problem_f_sparse_text(quick):
    """(f) Sparse CSR, text-like: 50,000 x 20,000 at 0.1% density, K=20.

    Non-negative heavy-tailed values with L2-normalised rows (as tf-idf), and
    labels from a sparse softmax model on those features.
    """
    rng = np.random.default_rng(SEED)
    n, p, density = (5_000, 2_000, 0.01) if quick else (50_000, 20_000, 0.001)
    X = sp.random(
        n,
        p,
        density=density,
        format="csr",
        random_state=rng,
        data_rvs=lambda size: rng.lognormal(size=size),
    )
    X = normalize(X, norm="l2").astype(np.float64)
    W = rng.standard_normal((20, p)) * 8.0
    logits = np.asarray(X @ W.T) + rng.gumbel(size=(n, 20))
    y = logits.argmax(axis=1)
    return Problem(X, y, "multiclass", f"sparse CSR {n}x{p} at {density:.1%}, K=20")


def problem_g_float32(quick):
    """(g) The data of (a) as float32."""
    base = problem_a_dense(quick)
    X = base.X.astype(np.float32)
    return Problem(X, base.y, "multiclass", f"float32 of (a), {X.shape[0]}x100")


def _multilabel(n_samples, n_features, n_labels):
    """``make_multilabel_classification`` data (raw counts), every label varying."""
    X, Y = make_multilabel_classification(
        n_samples,
        n_features,
        n_classes=n_labels,
        random_state=SEED,
    )
    constant = Y.min(axis=0) == Y.max(axis=0)
    if constant.any():
        raise RuntimeError(f"labels {np.flatnonzero(constant)} are constant")
    return X.astype(np.float64), Y


def problem_h1_multilabel(quick):
    """(h1) Multilabel: 2,000 x 300 count features, 6 labels."""
    n = 500 if quick else 2_000
    X, Y = _multilabel(n, 300, 6)
    return Problem(X, Y, "multilabel", f"multilabel {n}x300, 6 labels")


def problem_h2_multilabel_many(quick):
    """(h2) Multilabel: 20,000 x 100 count features, 50 labels."""
    n = 1_000 if quick else 20_000
    X, Y = _multilabel(n, 100, 50)
    return Problem(X, Y, "multilabel", f"multilabel {n}x100, 50 labels")


PROBLEMS = {
    "a_dense": problem_a_dense,
    "b_correlated": problem_b_correlated,
    "c_digits_raw": problem_c_digits_raw,
    "d_many_classes": problem_d_many_classes,
    "e_tall": problem_e_tall,
    "f_sparse_text": problem_f_sparse_text,
    "g_float32": problem_g_float32,
    "h1_multilabel": problem_h1_multilabel,
    "h2_multilabel_many": problem_h2_multilabel_many,
}


def _aliases(name):
    """Names a problem is selected by: ``h1_multilabel``, ``h1`` and ``h``."""
    key = name.split("_")[0]
    return {name, key, key.rstrip("0123456789")}


def select_problems(spec):
    """Problem names matching a comma-separated list of names or short keys.

    ``"a"`` selects ``"a_dense"``, ``"h1"`` selects ``"h1_multilabel"``, and
    ``"h"`` selects every problem whose key is ``h`` followed by digits.
    """
    if not spec:
        return list(PROBLEMS)
    chosen = []
    for token in (t.strip() for t in spec.split(",") if t.strip()):
        matches = [name for name in PROBLEMS if token in _aliases(name)]
        if not matches:
            raise SystemExit(f"unknown problem {token!r}; choose from {list(PROBLEMS)}")
        chosen += [m for m in matches if m not in chosen]
    return [name for name in PROBLEMS if name in chosen]


# -- solvers -----------------------------------------------------------------


@dataclass
class Solver:
    """A named estimator factory.

    Attributes
    ----------
    name : str
        Label in the report.
    make : callable
        ``make() -> estimator``, a fresh unfitted estimator.
    reference : bool
        Whether speed-ups of the problem are relative to this solver.
    skip_reason : callable or None
        ``skip_reason(problem) -> str or None``; a string means "n/a".
    """

    name: str
    make: object
    reference: bool = False
    skip_reason: object = None


def has_precondition(estimator_class):
    """Whether the estimator already has the ``precondition`` parameter."""
    return "precondition" in estimator_class().get_params()


def newton_skip_reason(problem, max_flops):
    """Why newton-cholesky would not run sensibly on ``problem``, or None.

    Parameters
    ----------
    problem : Problem
    max_flops : float
        Budget for forming one Hessian, ``n_samples * n_params**2``.
    """
    n_samples, n_features = problem.X.shape
    n_params = problem.n_outputs * (n_features + 1)
    if n_params > NEWTON_MAX_PARAMS:
        return f"n/a: dense Hessian of {n_params} params"
    if n_samples * n_params**2 > max_flops:
        return f"n/a: Hessian costs {n_samples * n_params**2:.0e} flops/iter"
    return None


def make_solvers(kind, C, tol, max_iter, newton_max_flops=NEWTON_MAX_FLOPS):
    """Solvers compared on a problem of the given kind, reference first.

    Parameters
    ----------
    kind : {"multiclass", "multilabel"}
        Problem kind.
    C, tol : float
        Shared by every solver.
    max_iter : int
        Shared by every solver; large enough for all of them to converge.
    newton_max_flops : float, default=NEWTON_MAX_FLOPS
        newton-cholesky is n/a on problems whose Hessian costs more.

    Returns
    -------
    solvers : list of Solver
    """
    common = dict(C=C, tol=tol, max_iter=max_iter)
    if kind == "multilabel":
        solvers = [
            Solver("OneVsRestLogistic", lambda: OneVsRestLogistic(**common), True)
        ]
        if has_precondition(OneVsRestLogistic):
            solvers.append(
                Solver(
                    "OneVsRestLogistic(precondition=False)",
                    lambda: OneVsRestLogistic(precondition=False, **common),
                )
            )
        solvers.append(
            Solver(
                "sklearn OvR(lbfgs)",
                lambda: OneVsRestClassifier(LogisticRegression(**common)),
            )
        )
        return solvers
    solvers = [Solver("SoftmaxRegression", lambda: SoftmaxRegression(**common), True)]
    if has_precondition(SoftmaxRegression):
        solvers.append(
            Solver(
                "SoftmaxRegression(precondition=False)",
                lambda: SoftmaxRegression(precondition=False, **common),
            )
        )
    solvers += [
        Solver("sklearn lbfgs", lambda: LogisticRegression(solver="lbfgs", **common)),
        Solver(
            "sklearn newton-cholesky",
            lambda: LogisticRegression(solver="newton-cholesky", **common),
            skip_reason=lambda problem: newton_skip_reason(problem, newton_max_flops),
        ),
    ]
    return solvers


def coefficients(estimator):
    """``(W, b)`` of a fitted estimator; sklearn's OvR rows are stacked."""
    if hasattr(estimator, "estimators_"):
        W = np.vstack([e.coef_ for e in estimator.estimators_])
        b = np.concatenate([e.intercept_ for e in estimator.estimators_])
        return W, b
    return estimator.coef_, estimator.intercept_


def iterations(estimator):
    """Largest ``n_iter_`` of a fitted estimator (over sklearn's OvR members)."""
    if hasattr(estimator, "estimators_"):
        return int(max(np.max(e.n_iter_) for e in estimator.estimators_))
    return int(np.max(estimator.n_iter_))


def objective(estimator, problem, X64, C):
    """The objective of a fitted model, by one common function for all solvers.

    Parameters
    ----------
    estimator : fitted estimator
    problem : Problem
    X64 : {ndarray, sparse matrix}
        ``problem.X`` in float64 (exact for float32 data), so float32 fits are
        judged in float64 arithmetic.
    C : float

    Returns
    -------
    value : float
        ``C * sum(loss) + 0.5 ||W||^2`` of :mod:`sksoftmax._loss`.
    """
    W, b = coefficients(estimator)
    if problem.kind == "multilabel":
        return binary_objective(W, b, X64, problem.y, C=C)[0]
    y_index = np.searchsorted(estimator.classes_, problem.y)
    if W.shape[0] == 1:
        return binary_objective(W, b, X64, (y_index == 1)[:, None], C=C)[0]
    return multinomial_objective(W, b, X64, y_index, C=C)[0]


# -- measurement -------------------------------------------------------------


def timed(func):
    """Call ``func()`` once; return ``(seconds, result)``.

    The one timing helper of this script: garbage is collected first, and the
    wall-clock time of the call alone is measured with ``perf_counter``.
    """
    gc.collect()
    start = time.perf_counter()
    result = func()
    return time.perf_counter() - start, result


def best_of(func, n):
    """Best wall-clock time of ``n`` calls of ``func()`` (see :func:`timed`)."""
    return min(timed(func)[0] for _ in range(n))


def fit_recording(estimator, X, y):
    """Fit, recording ConvergenceWarnings instead of showing them.

    Returns
    -------
    estimator : fitted estimator
    converged : bool
        False when a ConvergenceWarning was raised.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        estimator.fit(X, y)
    converged = True
    for w in caught:
        if issubclass(w.category, ConvergenceWarning):
            converged = False
        else:
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)
    return estimator, converged


def peak_memory_mb(solver, problem):
    """Peak memory (MiB) allocated during one untimed fit, by ``tracemalloc``."""
    estimator = solver.make()
    gc.collect()
    tracemalloc.start()
    try:
        fit_recording(estimator, problem.X, problem.y)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 2**20


def run_problem(name, problem, solvers, repeats, C, measure_memory):
    """Benchmark every solver on one problem.

    The untimed memory runs come first (they also warm up caches); then each
    repeat fits every solver once, in order, so slow drift of the machine
    affects all solvers alike. A peer that raises is recorded as an error.

    Returns
    -------
    rows : list of dict
        One row per solver.
    """
    X64 = problem.X.astype(np.float64) if problem.X.dtype != np.float64 else problem.X
    active, rows = [], {}
    for solver in solvers:
        reason = solver.skip_reason(problem) if solver.skip_reason else None
        rows[solver.name] = {
            "problem": name,
            "solver": solver.name,
            "reference": solver.reference,
            "status": reason or "ok",
            "time_s": np.nan,
            "iters": np.nan,
            "converged": None,
            "objective": np.nan,
            "peak_mem_mb": np.nan,
        }
        if reason is None:
            active.append(solver)

    def failed(solver, exc):
        rows[solver.name]["status"] = f"error: {type(exc).__name__}: {exc}"[:120]
        active.remove(solver)

    if measure_memory:
        for solver in list(active):
            try:
                peak = peak_memory_mb(solver, problem)
            except Exception as exc:  # a peer may fail; the run goes on
                failed(solver, exc)
                continue
            rows[solver.name]["peak_mem_mb"] = peak
            print(
                f"  {name:<20} {solver.name:<38} peak {peak:9.1f} MiB (untimed)",
                file=sys.stderr,
                flush=True,
            )

    times = {solver.name: [] for solver in active}
    for _ in range(repeats):
        for solver in list(active):
            try:
                seconds, (estimator, converged) = timed(
                    lambda s=solver: fit_recording(s.make(), problem.X, problem.y)
                )
            except Exception as exc:
                failed(solver, exc)
                continue
            times[solver.name].append(seconds)
            row = rows[solver.name]
            row["iters"] = iterations(estimator)
            row["converged"] = converged and row["converged"] is not False
            row["objective"] = objective(estimator, problem, X64, C)
            row["time_s"] = min(times[solver.name])
            print(
                f"  {name:<20} {solver.name:<38} {seconds:9.3f} s"
                f"  iters={row['iters']}",
                file=sys.stderr,
                flush=True,
            )

    out = list(rows.values())
    best = min((r["objective"] for r in out if np.isfinite(r["objective"])), default=0)
    ref_time = next((r["time_s"] for r in out if r["reference"]), np.nan)
    for r in out:
        r["rel_gap"] = (r["objective"] - best) / max(abs(best), 1e-300)
        r["speedup"] = r["time_s"] / ref_time
    return out


def micro_benchmark(X, y, n_classes, C, n_repeats):
    """Time one loss-and-gradient evaluation against its two matrix products.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        float64 data (problem (a)); it is also timed as float32.
    y : ndarray of shape (n_samples,)
        Labels ``0 .. n_classes - 1``.
    n_classes : int
    C : float
    n_repeats : int
        Best of this many calls.

    Returns
    -------
    result : dict
        Times in seconds and the ratios ``loss_gradient / products`` per
        dtype and ``float32 / float64`` of ``loss_gradient``.
    """
    n_samples, n_features = X.shape
    rng = np.random.default_rng(SEED)
    coef = 0.01 * rng.standard_normal((n_classes, n_features + 1))
    sample_weight = np.full(n_samples, 1.0 / n_samples)
    l2_reg = 1.0 / (C * n_samples)
    result = {"shape": [n_samples, n_features], "n_classes": n_classes}
    for dtype in (np.float64, np.float32):
        Xd = np.ascontiguousarray(X, dtype=dtype)
        loss = MultinomialLoss(Xd, y, sample_weight, n_classes, l2_reg, True)
        W = np.ascontiguousarray(coef[:, :n_features], dtype=dtype)
        Z = np.empty((n_samples, n_classes), dtype=dtype)
        G = rng.standard_normal((n_samples, n_classes)).astype(dtype)

        def products(Xd=Xd, W=W, Z=Z, G=G):
            np.matmul(Xd, W.T, out=Z)
            return Xd.T @ G

        loss.loss_gradient(coef)  # warm up
        products()
        t_loss = best_of(lambda loss=loss: loss.loss_gradient(coef), n_repeats)
        t_products = best_of(products, n_repeats)
        key = np.dtype(dtype).name
        result[f"loss_gradient_s_{key}"] = t_loss
        result[f"products_s_{key}"] = t_products
        result[f"ratio_{key}"] = t_loss / t_products
    result["float32_over_float64"] = (
        result["loss_gradient_s_float32"] / result["loss_gradient_s_float64"]
    )
    return result


def precision_benchmark(X, y, C, tol, max_iter, n_repeats):
    """Fit problem (a) in float64 and as float32, alternating, best of ``n_repeats``.

    Returns
    -------
    result : dict
        Fit times, their ratio ``float64 / float32`` (the float32 speed-up),
        iterations and the largest difference of ``predict_proba``.
    """
    X32 = X.astype(np.float32)
    times = {"float64": [], "float32": []}
    fitted = {}
    for _ in range(n_repeats):
        for key, data in (("float64", X), ("float32", X32)):
            estimator = SoftmaxRegression(C=C, tol=tol, max_iter=max_iter)
            seconds, fitted[key] = timed(lambda e=estimator, d=data: e.fit(d, y))
            times[key].append(seconds)
    proba_gap = np.abs(
        fitted["float32"].predict_proba(X32) - fitted["float64"].predict_proba(X)
    ).max()
    result = {f"fit_s_{key}": min(values) for key, values in times.items()}
    result["float32_speedup"] = result["fit_s_float64"] / result["fit_s_float32"]
    for key, estimator in fitted.items():
        result[f"iters_{key}"] = int(np.max(estimator.n_iter_))
    result["max_proba_gap"] = float(proba_gap)
    return result


def summarize(df):
    """Median speed-up of SoftmaxRegression over each peer on problems (a)-(g)."""
    multiclass = df[df["problem"].str.match(r"^[a-g]_") & df["speedup"].notna()]
    summary = {}
    for peer in ("sklearn lbfgs", "sklearn newton-cholesky"):
        ratios = multiclass.loc[multiclass["solver"] == peer, "speedup"]
        if len(ratios):
            summary[f"median_speedup_{peer.split()[-1]}"] = float(ratios.median())
            summary[f"min_speedup_{peer.split()[-1]}"] = float(ratios.min())
    return summary


# -- reporting ---------------------------------------------------------------


def _git_commit():
    """The checked-out commit (read-only ``git rev-parse``), or None."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def machine_info():
    """Platform, CPU, library versions and BLAS threading, for the JSON."""
    pools = [
        {
            key: pool.get(key)
            for key in (
                "user_api",
                "internal_api",
                "num_threads",
                "version",
                "threading_layer",
                "architecture",
            )
        }
        for pool in threadpool_info()
    ]
    try:
        usable_cpus = len(os.sched_getaffinity(0))
    except AttributeError:
        usable_cpus = os.cpu_count()
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "usable_cpus": usable_cpus,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "sklearn": sklearn.__version__,
        "pandas": pd.__version__,
        "sksoftmax": sksoftmax.__version__,
        "git_commit": _git_commit(),
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"),
        "threadpools": pools,
    }


def format_table(df):
    """The results as a fixed-width text table."""
    columns = [
        "problem",
        "solver",
        "time_s",
        "speedup",
        "iters",
        "converged",
        "objective",
        "rel_gap",
        "peak_mem_mb",
        "status",
    ]
    formatters = {
        "time_s": "{:.3f}".format,
        "speedup": "{:.2f}x".format,
        "iters": lambda v: f"{v:.0f}",
        "objective": "{:.10g}".format,
        "rel_gap": "{:.1e}".format,
        "peak_mem_mb": "{:.1f}".format,
    }
    shown = df[columns].copy()
    shown["converged"] = shown["converged"].map({True: "yes", False: "NO"})
    return shown.to_string(index=False, formatters=formatters, na_rep="n/a")


def print_micro(micro):
    """Print the micro-benchmark's times and ratios."""
    if "error" in micro:
        print(f"\nmicro-benchmark failed: {micro['error']}")
        return
    n_samples, n_features = micro["shape"]
    print(
        f"\nmicro-benchmark on (a) {n_samples}x{n_features}, K={micro['n_classes']}: "
        "one loss_gradient vs (X @ W.T + X.T @ G) alone"
    )
    for key in ("float64", "float32"):
        ratio = micro[f"ratio_{key}"]
        print(
            f"  {key}: {micro[f'loss_gradient_s_{key}'] * 1e3:8.2f} ms vs "
            f"{micro[f'products_s_{key}'] * 1e3:8.2f} ms -> {ratio:.2f}x "
            f"({'meets' if ratio <= 1.5 else 'misses'} the 1.5x target)"
        )
    print(f"  float32 / float64 loss_gradient: {micro['float32_over_float64']:.2f}x")


def print_summary(summary, precision):
    """Print the medians and the float32 comparison."""
    print()
    for peer in ("lbfgs", "newton-cholesky"):
        if f"median_speedup_{peer}" in summary:
            print(
                f"SoftmaxRegression vs sklearn {peer} on (a)-(g): median "
                f"{summary[f'median_speedup_{peer}']:.2f}x, "
                f"lowest {summary[f'min_speedup_{peer}']:.2f}x"
            )
    print(
        f"float32 fit of (a): {precision['fit_s_float32']:.3f} s vs float64 "
        f"{precision['fit_s_float64']:.3f} s -> {precision['float32_speedup']:.2f}x "
        f"faster ({precision['iters_float32']} vs {precision['iters_float64']} "
        f"iterations); max |predict_proba difference| "
        f"{precision['max_proba_gap']:.1e}"
    )


def _json_ready(value):
    """NaN -> None and numpy scalars -> Python, recursively."""
    if isinstance(value, dict):
        return {k: _json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def write_json(path, payload):
    """Write ``payload`` to ``path`` atomically (via a temporary file)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(_json_ready(payload), indent=2) + "\n")
    os.replace(tmp, path)


def _peer_group(solver_name):
    """Legend entry of a peer: multiclass and multilabel variants share one."""
    if "precondition=False" in solver_name:
        return "sksoftmax, precondition=False"
    if "newton-cholesky" in solver_name:
        return "sklearn newton-cholesky"
    return "sklearn lbfgs (OvR on multilabel)"


def plot_speedups(df, path):
    """Bar chart of peer time / reference time per problem (log scale).

    Returns
    -------
    written : bool
        False when there is no peer time to plot.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    peers = df[~df["reference"] & df["speedup"].notna()].assign(
        peer=lambda d: d["solver"].map(_peer_group)
    )
    if peers.empty:
        return False
    table = peers.pivot(index="problem", columns="peer", values="speedup")
    table = table.reindex([p for p in df["problem"].unique() if p in table.index])
    fig, ax = plt.subplots(figsize=(max(7.0, 1.2 * len(table) + 2), 5.0))
    width = 0.8 / table.shape[1]
    x = np.arange(len(table))
    for i, peer in enumerate(table.columns):
        offset = (i - (table.shape[1] - 1) / 2) * width
        bars = ax.bar(x + offset, table[peer], width, label=peer)
        ax.bar_label(bars, fmt="%.2g", fontsize=7)
    ax.axhline(1.0, color="black", linestyle="--", linewidth=1)
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}x"))
    ax.set_xticks(x, table.index, rotation=30, ha="right")
    ax.set_ylabel("peer time / sksoftmax time")
    ax.set_title("Speed-up of sksoftmax over each peer (above 1x: sksoftmax faster)")
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    tmp = path.with_name(path.name + ".tmp")
    fig.savefig(tmp, format="png", dpi=120)
    plt.close(fig)
    os.replace(tmp, path)
    return True


# -- main --------------------------------------------------------------------


def parse_args(argv=None):
    """Command-line options."""
    parser = argparse.ArgumentParser(
        description="Benchmark sksoftmax against scikit-learn's logistic regression."
    )
    parser.add_argument(
        "--quick", action="store_true", help="small sizes, for a smoke run (< 1 min)"
    )
    parser.add_argument(
        "--problems",
        default="",
        help=f"comma-separated subset of {','.join(PROBLEMS)} (or keys: a,b,...,h)",
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=None,
        help="timed fits per solver, best one kept (default 3, 1 with --quick)",
    )
    parser.add_argument("--tol", type=float, default=1e-6, help="tol of every solver")
    parser.add_argument("--C", type=float, default=1.0, help="C of every solver")
    parser.add_argument(
        "--max-iter", type=int, default=10_000, help="max_iter of every solver"
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help=(
            "limit BLAS/OpenMP threads (threadpoolctl); 0 leaves them as they are "
            "(default 0, 1 with --quick)"
        ),
    )
    parser.add_argument(
        "--newton-max-flops",
        type=float,
        default=None,
        help=(
            "skip newton-cholesky where one Hessian costs more than this "
            f"(default {NEWTON_MAX_FLOPS:g}, {NEWTON_MAX_FLOPS_QUICK:g} with --quick)"
        ),
    )
    parser.add_argument(
        "--no-memory", action="store_true", help="skip the untimed tracemalloc fits"
    )
    parser.add_argument(
        "--output-dir", type=Path, default=RESULTS_DIR, help="where results are written"
    )
    args = parser.parse_args(argv)
    if args.threads is None:
        args.threads = 1 if args.quick else 0
    if args.threads < 0:
        parser.error("--threads must be at least 0")
    if args.repeats is None:
        args.repeats = 1 if args.quick else 3
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    if args.newton_max_flops is None:
        quick = args.quick
        args.newton_max_flops = NEWTON_MAX_FLOPS_QUICK if quick else NEWTON_MAX_FLOPS
    return args


def main(argv=None):
    """Run the benchmark and write the table, JSON and chart."""
    args = parse_args(argv)
    if args.threads == 0:
        run(args)
    else:
        with threadpool_limits(limits=args.threads):
            run(args)


def run(args):
    """The benchmark proper, for parsed command-line ``args``."""
    names = select_problems(args.problems)
    args.output_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()

    rows, descriptions = [], {}
    for name in names:
        problem = PROBLEMS[name](args.quick)
        descriptions[name] = problem.description
        print(f"{name}: {problem.description}", file=sys.stderr, flush=True)
        solvers = make_solvers(
            problem.kind, args.C, args.tol, args.max_iter, args.newton_max_flops
        )
        rows += run_problem(
            name, problem, solvers, args.repeats, args.C, not args.no_memory
        )
        del problem
    df = pd.DataFrame(rows)

    print("\nmicro-benchmark: loss_gradient vs its two products", file=sys.stderr)
    base = problem_a_dense(quick=False)  # cheap, and the target is on (a)
    try:
        micro = micro_benchmark(
            base.X, base.y, base.n_outputs, args.C, 10 if args.quick else 20
        )
    except Exception as exc:  # e.g. the private loss API changed; keep results
        micro = {"error": f"{type(exc).__name__}: {exc}"}
    del base

    print("float32 vs float64 fits of (a), alternating", file=sys.stderr)
    base = problem_a_dense(args.quick)
    precision = precision_benchmark(
        base.X, base.y, args.C, args.tol, args.max_iter, args.repeats
    )
    del base
    summary = summarize(df)

    print(format_table(df))
    print_micro(micro)
    print_summary(summary, precision)

    json_path = args.output_dir / "latest.json"
    png_path = args.output_dir / "speedup.png"
    payload = {
        "config": {
            "quick": args.quick,
            "problems": names,
            "repeats": args.repeats,
            "tol": args.tol,
            "C": args.C,
            "max_iter": args.max_iter,
            "memory": not args.no_memory,
            "threads": args.threads,
            "newton_max_flops": args.newton_max_flops,
            "precondition_param": {
                "SoftmaxRegression": has_precondition(SoftmaxRegression),
                "OneVsRestLogistic": has_precondition(OneVsRestLogistic),
            },
        },
        "machine": machine_info(),
        "problems": descriptions,
        "results": [
            {**r, "iters": int(r["iters"]) if np.isfinite(r["iters"]) else None}
            for r in df.to_dict(orient="records")
        ],
        "micro": micro,
        "precision": precision,
        "summary": summary,
        "total_seconds": time.perf_counter() - started,
    }
    write_json(json_path, payload)
    plotted = plot_speedups(df, png_path)
    print(f"\nwrote {json_path}" + (f" and {png_path}" if plotted else ""))
    print(f"total {payload['total_seconds']:.0f} s")


if __name__ == "__main__":
    main()
