"""L1 penalties: sksoftmax against scikit-learn's saga (and skglm, if
installed), dense and sparse, at the same objective.

For each problem sksoftmax fits at ``tol=1e-8``; saga runs at tightening
``tol`` until its objective is within ``GAP`` (relative) of ours, and that
run's time is saga's time "at the same objective". scikit-learn is timed
(and sksoftmax) with default threads and under ``threadpool_limits(1)``,
the faster taken; times are medians of ``REPEATS`` runs. Writes
``benchmarks/results/penalty.json`` and prints a table.

Run: ``python benchmarks/penalty_bench.py`` (about 3 minutes on 2 cores).
"""

import inspect
import json
import platform
import time
import warnings
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from harness import thread_limit  # benchmarks/, the script's folder
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from sksoftmax import OneVsRestLogistic, SoftmaxRegression

RESULTS = Path(__file__).resolve().parent / "results" / "penalty.json"
REPEATS = 3
# "The same objective": within this relative gap of the best one found.
GAP = 1e-6
SAGA_TOLS = (1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8)
SAGA_MAX_ITER = 3000
# A saga run longer than this is not repeated (its median is itself).
SLOW_SECONDS = 5.0


def dense_problem():
    X, y = make_classification(
        4000, 100, n_informative=20, n_classes=5, n_clusters_per_class=1, random_state=0
    )
    return "dense 4000x100, 5 classes", X, y


def sparse_problem():
    rng = np.random.default_rng(0)
    X = sp.random(4000, 1000, density=0.01, format="csr", random_state=1)
    X.data = rng.normal(size=X.nnz)
    W = rng.normal(size=(4, 1000)) * (rng.random((4, 1000)) < 0.05)
    y = (X @ W.T + rng.gumbel(size=(4000, 4))).argmax(axis=1)
    return "sparse 4000x1000 (1%), 4 classes", X, y


def binary_problem():
    X, y = make_classification(
        4000, 200, n_informative=15, random_state=2, n_clusters_per_class=2
    )
    return "binary dense 4000x200", X, y


def objective(coef, intercept, X, y, C, l1_ratio, binary):
    Z = np.asarray(X @ coef.T) + intercept
    if binary:
        z, t = Z[:, 0], y == np.unique(y)[1]
        data = (np.logaddexp(0, z) - t * z).sum()
    else:
        top = Z.max(axis=1)
        lse = np.log(np.exp(Z - top[:, None]).sum(axis=1)) + top
        data = (lse - Z[np.arange(len(y)), y]).sum()
    return (
        C * data + (1 - l1_ratio) / 2 * (coef**2).sum() + l1_ratio * np.abs(coef).sum()
    )


def timed(fit, repeats):
    times, model = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        model = fit()
        times.append(time.perf_counter() - start)
        if times[-1] > SLOW_SECONDS:
            break
    return float(np.median(times)), model


def best_thread_setting(fit):
    """The faster of default threads and one thread (every solver, ours
    included, as in the main benchmark)."""
    best = None
    for threads in (None, 1):
        with thread_limit(threads):
            result = timed(fit, REPEATS)
        if best is None or result[0] < best[0]:
            best = result
    return best


def saga_at_objective(X, y, C, l1_ratio, target, binary):
    """Time of the first saga tol whose objective is within GAP of target."""
    for tol in SAGA_TOLS:

        def fit(tol=tol):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                return LogisticRegression(
                    solver="saga",
                    C=C,
                    l1_ratio=l1_ratio,
                    tol=tol,
                    max_iter=SAGA_MAX_ITER,
                ).fit(X, y)

        seconds, model = best_thread_setting(fit)
        value = objective(model.coef_, model.intercept_, X, y, C, l1_ratio, binary)
        if value <= target * (1 + GAP):
            return seconds, value, tol
    return seconds, value, tol


def skglm_at_objective(X, y, C, target):
    try:
        from skglm import SparseLogisticRegression
    except ImportError:
        return None
    options = {}
    if "fit_intercept" in inspect.signature(SparseLogisticRegression).parameters:
        options["fit_intercept"] = True
    labels = np.where(y == np.unique(y)[1], 1, -1)
    model = None
    for tol in (1e-4, 1e-6, 1e-8, 1e-10):

        def fit(tol=tol):
            return SparseLogisticRegression(
                alpha=1.0 / (C * X.shape[0]), tol=tol, max_iter=200, **options
            ).fit(X, labels)

        fit()  # numba compilation
        seconds, model = best_thread_setting(fit)
        intercept = np.atleast_1d(getattr(model, "intercept_", 0.0))
        value = objective(
            np.atleast_2d(model.coef_), intercept, X, y, C, 1.0, binary=True
        )
        if value <= target * (1 + GAP):
            break
    return seconds, value, tol, "fit_intercept" in options


def main():
    rows = []
    cases = [
        (dense_problem, SoftmaxRegression, 0.05, 1.0),
        (dense_problem, SoftmaxRegression, 0.05, 0.5),
        (sparse_problem, SoftmaxRegression, 1.0, 1.0),
        (binary_problem, OneVsRestLogistic, 0.05, 1.0),
    ]
    for make, Estimator, C, l1_ratio in cases:
        name, X, y = make()
        binary = len(np.unique(y)) == 2

        def fit(Estimator=Estimator, C=C, l1_ratio=l1_ratio, X=X, y=y):
            return Estimator(C=C, l1_ratio=l1_ratio, tol=1e-8).fit(X, y)

        seconds, model = best_thread_setting(fit)
        ours = objective(model.coef_, model.intercept_, X, y, C, l1_ratio, binary)
        saga_s, saga_f, saga_tol = saga_at_objective(X, y, C, l1_ratio, ours, binary)
        best = min(ours, saga_f)
        row = {
            "problem": name,
            "estimator": Estimator.__name__,
            "C": C,
            "l1_ratio": l1_ratio,
            "sksoftmax_seconds": seconds,
            "sksoftmax_gap": (ours - best) / best,
            "nonzeros": int(np.count_nonzero(model.coef_)),
            "saga_seconds": saga_s,
            "saga_gap": (saga_f - best) / best,
            "saga_tol": saga_tol,
            "speedup": saga_s / seconds,
        }
        if binary and l1_ratio == 1.0:
            found = skglm_at_objective(X, y, C, ours)
            if found is not None:
                sk_s, sk_f, sk_tol, intercept = found
                row.update(
                    skglm_seconds=sk_s,
                    skglm_gap=(sk_f - best) / best,
                    skglm_tol=sk_tol,
                    skglm_intercept=intercept,
                )
        rows.append(row)
        print_row(row)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {"machine": platform.platform(), "repeats": REPEATS, "rows": rows},
            indent=2,
        )
    )


def print_row(row):
    text = (
        f"{row['problem']:<34} {row['estimator']:<18} C={row['C']:<5g} "
        f"r={row['l1_ratio']:<4g} ours {row['sksoftmax_seconds']:7.3f}s "
        f"(gap {row['sksoftmax_gap']:.1e}, nnz {row['nonzeros']}) | saga "
        f"{row['saga_seconds']:7.3f}s (gap {row['saga_gap']:.1e}, tol "
        f"{row['saga_tol']:g}) | x{row['speedup']:.1f}"
    )
    if "skglm_seconds" in row:
        text += f" | skglm {row['skglm_seconds']:.3f}s (gap {row['skglm_gap']:.1e})"
    print(text, flush=True)


if __name__ == "__main__":
    main()
