"""Wide data: sksoftmax against scikit-learn where fits start in the row space.

The problems of :data:`problems.WIDE_PROBLEMS` have far more features than
rows (expression arrays, spectra): there, sksoftmax fits in the row space of
X (``sksoftmax/_rowspace.py``). Two tables:

1. Against scikit-learn, cell by cell as in the main grid
   (:func:`harness.run_cell`, :func:`report.cell_verdicts`): every solver with
   default BLAS threads and with one thread, the faster counted; the
   speed-up is against the fastest scikit-learn run, at any tol, that reaches
   our objective (1e-9 relative slack), and the objective gap is against
   lbfgs at the same tol.
2. sksoftmax with the reduction against sksoftmax without it (the fit on X
   alone), interleaved in one process, medians of ``AB_REPEATS``: what the
   reduction itself buys, and the objective difference it makes.

Writes ``benchmarks/results/wide.json``. Run: ``python benchmarks/wide_bench.py``
(``--quick`` for a smoke run).
"""

import argparse
import contextlib
import json
import platform
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import harness  # noqa: E402
import problems  # noqa: E402
import report  # noqa: E402

import sksoftmax._rowspace as rowspace  # noqa: E402

RESULTS = HERE / "results" / "wide.json"
C_GRID = (0.01, 1.0, 100.0)
TOL_GRID = (1e-4, 1e-6, 1e-10)
AB_REPEATS = 5
# A scikit-learn fit is stopped after this many seconds (reported as such).
TIMEOUT_S = 120.0


@contextlib.contextmanager
def without_reduction():
    """Context: every fit stays on X (both of the reduction's break-even
    limits, the usual one and the weak-penalty one, below any cost)."""
    names = ("MAX_BREAK_EVEN_EVALUATIONS", "MAX_BREAK_EVEN_WEAK_PENALTY")
    limits = {name: getattr(rowspace, name) for name in names}
    for name in names:
        setattr(rowspace, name, -1.0)
    try:
        yield
    finally:
        for name, limit in limits.items():
            setattr(rowspace, name, limit)


def ab_rows(problem, C, tol, repeats):
    """Our fit with and without the reduction, alternating."""
    solver = harness.Solver("sksoftmax")
    times = {"reduced": [], "on X": []}
    objectives = {}
    for _ in range(repeats):
        for variant in times:
            estimator = solver.make(problem.kind, C, tol, 10_000)
            started = time.perf_counter()
            if variant == "on X":
                with without_reduction():
                    estimator.fit(problem.X, problem.y)
            else:
                estimator.fit(problem.X, problem.y)
            times[variant].append(time.perf_counter() - started)
            objectives[variant] = harness.objective(estimator, problem, C)
    reduced, direct = (statistics.median(times[v]) for v in ("reduced", "on X"))
    return {
        "problem": problem.name,
        "C": C,
        "tol": tol,
        "reduced_s": reduced,
        "on_x_s": direct,
        "speedup": direct / reduced,
        "objective_difference": (objectives["reduced"] - objectives["on X"])
        / abs(objectives["on X"]),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    args = parser.parse_args(argv)
    C_grid, tol_grid = ((1.0,), (1e-4,)) if args.quick else (C_GRID, TOL_GRID)
    repeats = 2 if args.quick else AB_REPEATS

    def reduction_pair(problem, C, tol):
        pair = ab_rows(problem, C, tol, repeats)
        print(
            f"  C={C:g} tol={tol:g}: reduced {pair['reduced_s'] * 1e3:.0f} ms, "
            f"on X {pair['on_x_s'] * 1e3:.0f} ms",
            flush=True,
        )
        return pair

    started = time.perf_counter()
    rows, ab = harness.run_side_grid(
        problems.WIDE_PROBLEMS,
        C_grid,
        tol_grid,
        quick=args.quick,
        after_cell=reduction_pair,
        timeout=TIMEOUT_S,
        cell_budget=30.0,
    )
    cells = report.cell_verdicts(rows)
    print()
    print(
        "| problem | C | tol | ours (ms) | fastest scikit-learn at our objective | "
        "speed-up | gap vs lbfgs | reduction alone |"
    )
    print("|---|---:|---:|---:|---|---:|---:|---:|")
    for cell, pair in zip(cells, ab, strict=True):
        print(
            f"| {cell['problem']} | {cell['C']:g} | {cell['tol']:g} | "
            f"{cell['ours_time_s'] * 1e3:.0f} | "
            f"{report.peer_text(cell, lambda seconds: f'{seconds * 1e3:.0f} ms')} | "
            f"{cell.get('speedup') or float('nan'):.1f}x | "
            f"{cell.get('gap_vs_lbfgs', float('nan')):+.1e} | "
            f"{pair['speedup']:.2f}x ({pair['objective_difference']:+.0e}) |"
        )
    failed = {
        key: sum(1 for c in cells if c.get(key) is False) for key, _ in report.CRITERIA
    }
    print(f"\nfailing cells: {failed}; {time.perf_counter() - started:.0f} s")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "machine": platform.processor() or platform.machine(),
                "quick": args.quick,
                "results": rows,
                "cells": cells,
                "reduction_ab": ab,
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
