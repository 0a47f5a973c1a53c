"""Small data sets: sksoftmax against scikit-learn where fixed costs weigh most.

The problems of :data:`problems.SMALL_PROBLEMS` are scikit-learn's bundled
real sets (standardised) and a 50 x 200 set with few rows and many unknowns:
fits of milliseconds, where validation and the solver's Python weigh as much
as the arithmetic. Each cell is timed as in the main grid
(:func:`harness.run_cell`, :func:`report.cell_verdicts`): every solver with
default BLAS threads and with one thread, the faster counted; the speed-up is
against the fastest scikit-learn run, at any tol of the cell's grid, that
reaches our objective (1e-9 relative slack). A speed-up below 1 is reported
as it is: on these sets scikit-learn can be faster.

Writes ``benchmarks/results/small.json``. Run:
``python benchmarks/small_bench.py`` (``--quick`` for a smoke run).
"""

import argparse
import json
import platform
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import harness  # noqa: E402
import problems  # noqa: E402
import report  # noqa: E402

RESULTS = HERE / "results" / "small.json"
C_GRID = (1.0, 100.0)
TOL_GRID = (1e-4, 1e-6, 1e-10)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small smoke run")
    parser.add_argument(
        "--output", type=Path, default=RESULTS, help="where to write the results"
    )
    args = parser.parse_args(argv)
    C_grid, tol_grid = ((1.0,), (1e-4,)) if args.quick else (C_GRID, TOL_GRID)
    names = ("iris", "few_rows") if args.quick else tuple(problems.SMALL_PROBLEMS)
    started = time.perf_counter()
    rows, _ = harness.run_side_grid(
        {name: problems.SMALL_PROBLEMS[name] for name in names},
        C_grid,
        tol_grid,
        quick=args.quick,
        repeats=1 if args.quick else 3,
    )
    cells = report.cell_verdicts(rows)
    print()
    print(
        "| problem | C | tol | ours (ms) | fastest scikit-learn at our objective "
        "| speed-up | lbfgs at this tol (ms) | gap vs lbfgs |"
    )
    print("|---|---:|---:|---:|---|---:|---:|---:|")
    lbfgs = {
        (row["problem"], row["C"], row["tol"]): row
        for row in rows
        if row["solver"] == "lbfgs" and row.get("time_s") is not None
    }
    for cell in cells:
        key = (cell["problem"], cell["C"], cell["tol"])
        lbfgs_ms = lbfgs[key]["time_s"] * 1e3 if key in lbfgs else float("nan")
        print(
            f"| {cell['problem']} | {cell['C']:g} | {cell['tol']:g} | "
            f"{cell['ours_time_s'] * 1e3:.1f} | {report.peer_text(cell)} | "
            f"{cell.get('speedup') or float('nan'):.2f}x | {lbfgs_ms:.1f} | "
            f"{cell.get('gap_vs_lbfgs', float('nan')):+.1e} |"
        )
    print(f"\n{time.perf_counter() - started:.0f} s")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(
        json.dumps(
            {
                "machine": platform.platform(),
                "python": platform.python_version(),
                "cells": cells,
                "results": rows,
            },
            indent=1,
            default=float,
        )
    )
    print(f"wrote {args.output}")
    return cells


if __name__ == "__main__":
    main()
