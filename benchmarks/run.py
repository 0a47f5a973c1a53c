"""Benchmark sksoftmax against scikit-learn's logistic regression solvers.

Every problem of :mod:`problems` runs at each ``C`` and each ``tol`` (a
*cell*). In a cell, :class:`sksoftmax.SoftmaxRegression` (or
:class:`sksoftmax.OneVsRestLogistic` on multilabel problems) and
``LogisticRegression`` with the lbfgs, newton-cg and newton-cholesky solvers
(wrapped in ``OneVsRestClassifier`` on multilabel problems), each of these
with the default BLAS threads and with one thread, are fitted in turn in every
repeat; the median times are compared (:mod:`harness`), and the verdicts are
computed and written by :mod:`report`. Run ``python benchmarks/run.py --help``.
"""

import argparse
import datetime
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# The checkout's sksoftmax, not an installed copy (python puts benchmarks/ first).
sys.path.insert(0, str(HERE.parent))

import harness  # noqa: E402
import micro  # noqa: E402
import numpy as np  # noqa: E402
import problems  # noqa: E402
import report  # noqa: E402
import scipy  # noqa: E402
import sklearn  # noqa: E402
from threadpoolctl import threadpool_info  # noqa: E402

import sksoftmax  # noqa: E402

C_GRID = (0.01, 1.0, 100.0)
TOL_GRID = (1e-4, 1e-6, 1e-10)
QUICK_PROBLEMS = "letter,digits_raw,text20,ml_emotions"
QUICK_C = (1.0,)
QUICK_TOL = (1e-4, 1e-10)


def _floats(text):
    return tuple(float(v) for v in text.split(",") if v.strip())


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description="Benchmark sksoftmax against scikit-learn's logistic regression.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"tiny sizes, 1 repeat, problems {QUICK_PROBLEMS} (unless --problems), "
        f"C={QUICK_C[0]:g}, tol in {QUICK_TOL} (unless --C/--tol)",
    )
    parser.add_argument(
        "--problems",
        default=None,
        help=f"comma-separated names or prefixes of {','.join(problems.PROBLEMS)}",
    )
    parser.add_argument(
        "--C", type=_floats, default=None, help="comma-separated C grid"
    )
    parser.add_argument(
        "--tol", type=_floats, default=None, help="comma-separated tol grid"
    )
    parser.add_argument(
        "--repeats", type=int, default=None, help="timed repeats (default 3; quick 1)"
    )
    parser.add_argument("--max-iter", type=int, default=10_000)
    parser.add_argument(
        "--cell-budget",
        type=float,
        default=20.0,
        help="seconds: after its first repeat, a cell keeps only the repeats "
        "that fit in this budget (at least one)",
    )
    parser.add_argument(
        "--fit-timeout",
        type=float,
        default=60.0,
        help="seconds: a scikit-learn fit still running is stopped at its next "
        "loss evaluation and reported as a timeout (0: never)",
    )
    parser.add_argument(
        "--newton-max-flops",
        type=float,
        default=harness.NEWTON_MAX_FLOPS,
        help="skip newton-cholesky where one Hessian costs more flops",
    )
    parser.add_argument(
        "--count-evals",
        choices=("tight", "all", "none"),
        default="tight",
        help="count lbfgs and newton-cg evaluations (untimed fits) at the "
        "tightest tol, at every tol, or never",
    )
    parser.add_argument(
        "--threads",
        choices=("both", "default", "1"),
        default="both",
        help="BLAS thread settings every solver (ours too) is timed in: the "
        "default and 1 (both; the faster counts), or one of them",
    )
    parser.add_argument("--no-memory", action="store_true", help="skip tracemalloc")
    parser.add_argument("--no-micro", action="store_true", help="skip micro.py")
    parser.add_argument(
        "--no-precision", action="store_true", help="skip float32 vs float64"
    )
    parser.add_argument("--output-dir", type=Path, default=HERE / "results")
    args = parser.parse_args(argv)
    if args.problems is None:
        args.problems = QUICK_PROBLEMS if args.quick else ""
    args.C = args.C or (QUICK_C if args.quick else C_GRID)
    args.tol = tuple(sorted(args.tol or (QUICK_TOL if args.quick else TOL_GRID)))[::-1]
    if args.repeats is None:
        args.repeats = 1 if args.quick else 3
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    return args


def _git_commit():
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=HERE,
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def cpu_model():
    """The processor's model name (Linux's /proc/cpuinfo), or the platform's
    guess: the benchmark machines differ from session to session (an AMD
    EPYC one day, an Intel Xeon the next), and runs compare only on one."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def machine_info():
    """Platform, processor, CPUs, library versions and BLAS thread pools."""
    keys = ("user_api", "internal_api", "num_threads", "version", "architecture")
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpu_model": cpu_model(),
        "cpu_count": os.cpu_count(),
        "usable_cpus": usable,
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "sklearn": sklearn.__version__,
        "sksoftmax": sksoftmax.__version__,
        "sksoftmax_path": str(Path(sksoftmax.__file__).parent),
        "git_commit": _git_commit(),
        "threadpools": [{k: p.get(k) for k in keys} for p in threadpool_info()],
    }


def main(argv=None):
    args = parse_args(argv)
    names = problems.select(args.problems)
    args.output_dir.mkdir(parents=True, exist_ok=True)
    json_path = args.output_dir / "latest.json"
    started = time.perf_counter()
    harness.log(f"sksoftmax from {Path(sksoftmax.__file__).parent}")
    payload = {
        "format": report.FORMAT,
        "complete": False,
        "config": {
            "quick": args.quick,
            "problems": names,
            "C": list(args.C),
            "tol": list(args.tol),
            "repeats": args.repeats,
            "max_iter": args.max_iter,
            "cell_budget_s": args.cell_budget,
            "fit_timeout_s": args.fit_timeout,
            "newton_max_flops": args.newton_max_flops,
            "count_evals": args.count_evals,
            "threads": args.threads,
            "slack": report.SLACK,
        },
        "machine": machine_info(),
        "problems": {},
        "results": [],
        "evaluations": [],
        "memory": [],
    }
    memory_C = 1.0 if 1.0 in args.C else args.C[0]
    memory_tol = args.tol[len(args.tol) // 2]
    timeout = args.fit_timeout or None
    for name in names:
        problem = problems.make_problem(name, args.quick)
        payload["problems"][name] = problem.info()
        harness.log(f"{name}: {problem.description}")
        threads = {"both": (None, 1), "default": (None,), "1": (1,)}[args.threads]
        solvers = harness.solvers_for(problem, args.newton_max_flops, threads)
        if not args.no_memory:
            entry = {
                "problem": name,
                "C": memory_C,
                "tol": memory_tol,
                "data_mb": harness.data_mb(problem),
            }
            for solver in (solvers[0], harness.Solver("lbfgs")):
                entry[solver.name] = harness.peak_memory_mb(
                    solver, problem, memory_C, memory_tol, args.max_iter
                )
            payload["memory"].append(entry)
            harness.log(f"  memory: {entry}")
        for C in args.C:
            for tol in args.tol:
                rows = harness.run_cell(
                    problem,
                    solvers,
                    C,
                    tol,
                    repeats=args.repeats,
                    max_iter=args.max_iter,
                    cell_budget=args.cell_budget,
                    timeout=timeout,
                )
                payload["results"] += rows
                for row in rows:
                    harness.log(
                        f"  C={C:g} tol={tol:g} {report._variant(row):<34} "
                        f"{report._fmt(row['time_s'], '8.3f', '     n/a')} s "
                        f"iters={row['iters']} {row['status']}"
                    )
                count = args.count_evals == "all" or (
                    args.count_evals == "tight" and tol == min(args.tol)
                )
                for solver in (harness.Solver("lbfgs"), harness.Solver("newton-cg")):
                    if not count:
                        continue
                    counts = harness.count_evaluations(
                        solver, problem, C, tol, args.max_iter, timeout
                    )
                    payload["evaluations"].append(
                        {"problem": name, "C": C, "tol": tol, "solver": solver.name}
                        | counts
                    )
                    harness.log(
                        f"  C={C:g} tol={tol:g} counted {solver.name}: {counts}"
                    )
        del problem
        _finish(payload, started)
        report.write_json(json_path, payload)

    if not args.no_micro:
        harness.log("micro-benchmark")
        payload["micro"] = micro.micro_benchmark(5 if args.quick else 20)
    if not args.no_precision:
        harness.log("float32 vs float64")
        base = problems.make_problem("mnist_like", args.quick)
        # tol=1e-6: float32 cannot reach a gradient of 1e-10 (it runs to max_iter)
        payload["precision"] = harness.precision_benchmark(
            base, memory_C, 1e-6, args.max_iter, 1 if args.quick else args.repeats
        )
        del base
    payload["complete"] = True
    _finish(payload, started)
    report.write_json(json_path, payload)
    print(report.format_report(payload))
    if payload.get("micro"):
        print("\n" + micro.format_micro(payload["micro"]))
    if payload.get("precision"):
        p = payload["precision"]
        print(
            f"float32 fit of {p['problem']}: {p['fit_s_float32']:.3f} s vs float64 "
            f"{p['fit_s_float64']:.3f} s -> {p['float32_speedup']:.2f}x "
            f"({p['iters_float32']} vs {p['iters_float64']} iterations); "
            f"max |predict_proba difference| {p['max_proba_gap']:.1e}"
        )
    png = args.output_dir / "speedup.png"
    plotted = report.plot_speedups(payload["cells"], png)
    print(f"\nwrote {json_path}" + (f" and {png}" if plotted else ""))
    print(f"total {payload['total_seconds'] / 60:.1f} min")


def _finish(payload, started):
    report.add_gaps(payload["results"])
    payload["cells"] = report.cell_verdicts(payload["results"], payload["evaluations"])
    payload["summary"] = report.summarize(payload["cells"])
    payload["total_seconds"] = time.perf_counter() - started


if __name__ == "__main__":
    main()
