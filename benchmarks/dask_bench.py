"""Dask fits against in-memory fits: overhead per evaluation, and out of core.

Two measurements on one machine with a 2-worker ``distributed.LocalCluster``
(one thread per worker, so the cluster has the cores the in-memory fit's
BLAS has):

Chunks have ``sksoftmax._objective.BLOCK_ENTRIES // K`` rows; each worker
splits its chunks into the in-memory row blocks. The preconditioner samples
rows by one global plan, so the two fits differ only in the order the block
sums are added.

1. **Overhead** at 200,000 x 50, K=10 (float64, 8 chunks): the time of one
   objective evaluation (value and gradient) on the cluster against in
   memory, at the same coefficients, and both full fits (time, evaluations,
   coefficient agreement). Target: at most 1.5x per evaluation (met at
   1.08x when the machine was loaded and evaluations slow; 1.7-2.3x on an
   idle machine, where the fixed round trip of one task per worker
   dominates). The in-memory fit of tall data starts from a sample of rows
   and the dask fit does not, so their coefficients agree to about tol.
2. **Out of core**: X written to disk as chunked ``.npy`` files
   (``dask.array.to_npy_stack``) and larger than the workers' total
   ``memory_limit``; the fit reads the chunks again at every evaluation
   (X is too large to persist). Reports the peak resident memory of each
   worker process, the time per evaluation, and the agreement with the
   in-memory fit of the same data (which fits in the machine's memory).

Run from the repository root (several minutes; results in
``benchmarks/results/dask.json``)::

    python benchmarks/dask_bench.py
    python benchmarks/dask_bench.py --quick   # small sizes, a smoke run
"""

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

import dask
import dask.array as da
import numpy as np
from distributed import Client, LocalCluster

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sksoftmax import SoftmaxRegression  # noqa: E402
from sksoftmax._dask import dask_objective  # noqa: E402
from sksoftmax._loss import MultinomialLoss  # noqa: E402
from sksoftmax._objective import BLOCK_ENTRIES, in_memory_objective  # noqa: E402
from sksoftmax._penalty import SolverScale  # noqa: E402

N_WORKERS = 2
TOL = 1e-8
C = 1.0
# Timed evaluations at one point; the median is reported (the machine is
# shared, so single timings are noisy).
EVALUATIONS = 15
# Interval of the workers' resident-memory sampling.
RSS_SAMPLE_SECONDS = 0.01

OVERHEAD = {"n_samples": 200_000, "n_features": 50, "n_classes": 10, "tol": TOL}
# 3,600,000 x 50 float64 is 1.44 GB on disk, against 2 x 640 MiB (1.34 GB)
# of worker memory limit. A worker process that has imported sksoftmax
# (numpy, scipy, scikit-learn, which brings pandas, distributed) already
# holds about 230 MB of it, and distributed pauses a worker at 80% of its
# limit; a chunk of BLOCK_ENTRIES // 10 = 26,214 rows adds 10 MB. The fit
# stops at a looser tol to keep the run to minutes.
OUT_OF_CORE = {
    "n_samples": 3_600_000,
    "n_features": 50,
    "n_classes": 10,
    "memory_limit": 640 * 2**20,
    "tol": 1e-6,
}
QUICK = {
    "overhead": {"n_samples": 20_000, "n_features": 20, "n_classes": 5, "tol": TOL},
    "out_of_core": {
        "n_samples": 400_000,
        "n_features": 20,
        "n_classes": 10,
        "memory_limit": 512 * 2**20,
        "tol": 1e-6,
    },
}


def make_problem(n_samples, n_features, n_classes, seed=0):
    """Standardised Gaussian features, labels drawn from a softmax model."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features))
    W = rng.standard_normal((n_classes, n_features)) / np.sqrt(n_features)
    scores = X @ W.T
    scores -= scores.max(axis=1, keepdims=True)
    proba = np.exp(scores)
    proba /= proba.sum(axis=1, keepdims=True)
    u = rng.random((n_samples, 1))
    y = (proba.cumsum(axis=1) < u).sum(axis=1)
    return X, np.minimum(y, n_classes - 1)


def median_evaluation_time(objective, coef):
    objective.value_gradient(coef)  # warm-up
    times = []
    for _ in range(EVALUATIONS):
        start = time.perf_counter()
        objective.value_gradient(coef)
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def chunk_rows(n_classes):
    """Rows of one chunk (see the module docstring)."""
    return BLOCK_ENTRIES // n_classes


def timed_fit(X, y, tol):
    start = time.perf_counter()
    model = SoftmaxRegression(C=C, tol=tol, max_iter=10_000).fit(X, y)
    seconds = time.perf_counter() - start
    evaluations = int(model._solver_result.n_evaluations)
    return model, {
        "fit_seconds": seconds,
        "n_iter": int(model.n_iter_[0]),
        "n_evaluations": evaluations,
        "seconds_per_evaluation": seconds / max(evaluations, 1),
    }


def relative_difference(model, reference):
    scale = np.abs(reference.coef_).max()
    return float(
        max(
            np.abs(model.coef_ - reference.coef_).max(),
            np.abs(model.intercept_ - reference.intercept_).max(),
        )
        / scale
    )


def start_memory_sampler(dask_worker):
    """In a worker process: sample its resident memory every
    RSS_SAMPLE_SECONDS and keep the peak (``ru_maxrss`` cannot be used: a
    spawned worker inherits its parent's across ``exec``)."""
    import psutil

    process = psutil.Process()
    state = {"peak": process.memory_info().rss, "baseline": None}
    state["baseline"] = state["peak"]
    dask_worker.sksoftmax_memory = state

    def sample():
        while True:
            state["peak"] = max(state["peak"], process.memory_info().rss)
            time.sleep(RSS_SAMPLE_SECONDS)

    threading.Thread(target=sample, daemon=True).start()


def memory_samples(dask_worker):
    return dict(dask_worker.sksoftmax_memory)


def evaluation_point(loss, n_features):
    """Coefficients away from zero, where every product is exercised."""
    rng = np.random.default_rng(1)
    return 0.1 * rng.standard_normal((loss.n_outputs, n_features + 1))


def overhead(sizes):
    X, y = make_problem(sizes["n_samples"], sizes["n_features"], sizes["n_classes"])
    loss = MultinomialLoss(sizes["n_classes"], True)
    scale = SolverScale.from_weights(C, None, n_samples=X.shape[0])
    coef = evaluation_point(loss, X.shape[1])
    memory = in_memory_objective(loss, X, y, scale.weights, scale.l2)
    in_memory_eval = median_evaluation_time(memory, coef)
    reference, reference_fit = timed_fit(X, y, sizes["tol"])

    rows = chunk_rows(sizes["n_classes"])
    with (
        LocalCluster(
            n_workers=N_WORKERS,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,
    ):
        X_dask = da.from_array(X, chunks=(rows, -1)).persist()
        y_dask = da.from_array(y, chunks=rows).persist()
        objective = dask_objective(loss, X_dask, y, scale.weights, scale.l2)
        dask_eval = median_evaluation_time(objective, coef)
        del objective
        model, dask_fit = timed_fit(X_dask, y_dask, sizes["tol"])
        client.cancel([X_dask, y_dask])
    return {
        **sizes,
        "chunk_rows": rows,
        "n_chunks": len(X_dask.chunks[0]),
        "in_memory_seconds_per_evaluation": in_memory_eval,
        "dask_seconds_per_evaluation": dask_eval,
        "overhead_ratio": dask_eval / in_memory_eval,
        "in_memory_fit": reference_fit,
        "dask_fit": dask_fit,
        "coef_max_relative_difference": relative_difference(model, reference),
    }


def out_of_core(sizes, directory):
    n, p, K = sizes["n_samples"], sizes["n_features"], sizes["n_classes"]
    X, y = make_problem(n, p, K, seed=2)
    path = Path(directory) / "X"
    # Written with dask's local scheduler: one chunk file at a time.
    with dask.config.set(scheduler="threads"):
        da.to_npy_stack(path, da.from_array(X, chunks=(chunk_rows(K), -1)))
    x_bytes = X.nbytes
    reference, reference_fit = timed_fit(X, y, sizes["tol"])
    del X  # the cluster only sees the files

    with (
        LocalCluster(
            n_workers=N_WORKERS,
            threads_per_worker=1,
            processes=True,
            memory_limit=sizes["memory_limit"],
            dashboard_address=None,
        ) as cluster,
        Client(cluster) as client,
    ):
        # Read into memory chunk by chunk (no memory map, whose pages would
        # count in the workers' resident memory).
        X_disk = da.from_npy_stack(path, mmap_mode=None)
        client.run(lambda: __import__("sksoftmax._dask"))
        pids = client.run(os.getpid)
        client.run(start_memory_sampler)
        loss = MultinomialLoss(K, True)
        scale = SolverScale.from_weights(C, None, n_samples=n)
        objective = dask_objective(loss, X_disk, y, scale.weights, scale.l2)
        coef = evaluation_point(loss, p)
        evaluation = median_evaluation_time(objective, coef)
        del objective
        model, fit = timed_fit(X_disk, y, sizes["tol"])
        memory = list(client.run(memory_samples).values())
        baseline = sorted(sample["baseline"] for sample in memory)
        peaks = sorted(sample["peak"] for sample in memory)
        restarted = client.run(os.getpid) != pids
    total_limit = N_WORKERS * sizes["memory_limit"]
    return {
        **sizes,
        "chunk_rows": chunk_rows(K),
        "n_chunks": len(X_disk.chunks[0]),
        "x_bytes_on_disk": x_bytes,
        "workers_total_memory_limit": total_limit,
        "x_over_total_limit": x_bytes / total_limit,
        "worker_baseline_rss_bytes": baseline,
        "worker_peak_rss_bytes": peaks,
        "peak_over_worker_limit": max(peaks) / sizes["memory_limit"],
        "workers_restarted": restarted,
        "dask_seconds_per_evaluation": evaluation,
        "dask_fit": fit,
        "in_memory_fit": reference_fit,
        "coef_max_relative_difference": relative_difference(model, reference),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes")
    parser.add_argument(
        "--output", default=str(ROOT / "benchmarks" / "results" / "dask.json")
    )
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else {"overhead": OVERHEAD, "out_of_core": OUT_OF_CORE}
    results = {
        "machine": {
            "cpu_count": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "numpy": np.__version__,
            "dask": dask.__version__,
            "load_average_at_start": os.getloadavg(),
        },
        "n_workers": N_WORKERS,
        "threads_per_worker": 1,
        "tol": TOL,
        "quick": args.quick,
    }
    results["overhead"] = overhead(sizes["overhead"])
    print(json.dumps(results["overhead"], indent=2), flush=True)
    directory = tempfile.mkdtemp(prefix="sksoftmax-dask-bench-")
    try:
        results["out_of_core"] = out_of_core(sizes["out_of_core"], directory)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    print(json.dumps(results["out_of_core"], indent=2), flush=True)
    results["machine"]["load_average_at_end"] = os.getloadavg()
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(results, indent=2) + "\n")
    print(f"saved {args.output}")


if __name__ == "__main__":
    main()
