"""The cross-validated C path against scikit-learn's LogisticRegressionCV.

On each problem both sides run the same folds, ``Cs`` and ``scoring``:

* exclusive classes: :class:`~sksoftmax.SoftmaxRegressionCV` against
  ``LogisticRegressionCV``;
* overlapping labels: :class:`~sksoftmax.OneVsRestLogisticCV` against
  ``OneVsRestClassifier(LogisticRegressionCV)`` (one path per label).

Two comparisons per ``tol`` of ours:

* **same tol**: scikit-learn at that ``tol``;
* **same answer**: the fastest scikit-learn run, at any of
  ``SKLEARN_TOLS``, whose answer is ours: the same chosen ``C`` and held-out
  scores within ``SCORE_ATOL`` (the issue's agreement). At a loose ``tol``
  scikit-learn's lbfgs stops far from the optimum, so its fast answer there
  is a different model; this is the comparison at the same model, as the
  benchmark grid compares at the same objective.

scikit-learn runs with its default BLAS threads and under
``threadpool_limits(1)``, and the faster of the two counts (on a shared
2-core machine the default threads can be much slower). Each variant is
timed ``--repeats`` times, all variants of a problem taking turns, and
medians are reported. Writes ``benchmarks/results/cv.json`` and prints a
table.

    python benchmarks/cv_bench.py            # ~6-9 min on 2 cores
    python benchmarks/cv_bench.py --quick    # smaller problems, 1 repeat
"""

import argparse
import json
import os
import platform
import statistics
import time
import warnings
from pathlib import Path

import numpy as np
import sklearn
from harness import thread_limit  # benchmarks/, the script's folder
from sklearn.datasets import (
    load_digits,
    make_classification,
    make_multilabel_classification,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegressionCV
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.multiclass import OneVsRestClassifier
from sklearn.preprocessing import StandardScaler

import sksoftmax
from sksoftmax import OneVsRestLogisticCV, SoftmaxRegressionCV

RESULTS = Path(__file__).resolve().parent / "results" / "cv.json"
N_CS = 10
N_FOLDS = 5
SCORING = "neg_log_loss"
# scikit-learn's default tol, and a tight one. At 1e-4 scikit-learn's lbfgs
# stops far from the optimum at large C (its stopping test divides the
# gradient by C; at C=1e4 it often stops after 0 iterations), so its held-out
# scores there differ from the optimum's by up to 0.1; at 1e-10 both sides
# solve the same problems and agree.
TOLS = (1e-4, 1e-10)
# scikit-learn's tols for the same-answer comparison (TOLS are added).
SKLEARN_TOLS = (1e-4, 1e-6, 1e-8, 1e-10)
# Held-out scores this close, with the same chosen C, are the same answer
# (the agreement with LogisticRegressionCV).
SCORE_ATOL = 1e-4
# Enough for every fit of either side to meet tol (scikit-learn's default of
# 100 stops its larger-C fits early, which would flatter its time).
MAX_ITER = 2000
# See hopeless().
HOPELESS_FACTOR = 2.0
# The speed-up the issue asks for.
TARGET_SPEEDUP = 3.0


def digits(quick):
    X, y = load_digits(return_X_y=True)
    if quick:
        X, y = X[:600], y[:600]
    return "digits", StandardScaler().fit_transform(X), y


def letters_like(quick):
    """20000 x 16 with 26 classes, standardised (the shape of UCI letter)."""
    n = 4000 if quick else 20_000
    X, y = make_classification(
        n_samples=n,
        n_features=16,
        n_informative=14,
        n_redundant=2,
        n_classes=26,
        n_clusters_per_class=1,
        flip_y=0.05,
        random_state=0,
    )
    return f"synthetic {n}x16 K=26", StandardScaler().fit_transform(X), y


def multilabel(quick):
    n = 1000 if quick else 4000
    X, Y = make_multilabel_classification(
        n_samples=n, n_features=30, n_classes=8, n_labels=3, random_state=0
    )
    return f"multilabel {n}x30 L=8", StandardScaler().fit_transform(X), Y


def lrcv(tol):
    """scikit-learn's LogisticRegressionCV, L2, new attributes."""
    return LogisticRegressionCV(
        Cs=N_CS,
        scoring=SCORING,
        l1_ratios=(0.0,),
        tol=tol,
        max_iter=MAX_ITER,
        use_legacy_attributes=False,
    )


def run_softmax(X, y, folds, tol):
    return SoftmaxRegressionCV(
        Cs=N_CS, cv=folds, scoring=SCORING, tol=tol, max_iter=MAX_ITER
    ).fit(X, y)


def run_ovr(X, Y, folds, tol):
    return OneVsRestLogisticCV(
        Cs=N_CS, cv=folds, scoring=SCORING, tol=tol, max_iter=MAX_ITER
    ).fit(X, Y)


def run_reference(X, y, folds, tol):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return lrcv(tol).set_params(cv=folds).fit(X, y)


def run_reference_ovr(X, Y, folds, tol):
    # One LogisticRegressionCV per column, all on the same folds.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return OneVsRestClassifier(lrcv(tol).set_params(cv=folds)).fit(X, Y)


def timed(function, *args, threads=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with thread_limit(threads):
            start = time.perf_counter()
            result = function(*args)
            return time.perf_counter() - start, result


def agreement(ours, theirs, multilabel_problem):
    """(same chosen C, largest score difference); scikit-learn's side is
    its one-thread fit (the same model as its default-thread one)."""
    if not multilabel_problem:
        return bool(ours.C_ == theirs.C_), float(
            np.abs(ours.scores_ - theirs.scores_).max()
        )
    same, worst = True, 0.0
    for label, column in enumerate(theirs.estimators_):
        same &= bool(ours.C_[label] == column.C_)
        difference = np.abs(ours.scores_[..., label] - column.scores_).max()
        worst = max(worst, float(difference))
    return same, worst


def hopeless(key, times):
    """Whether the thread setting of ``key`` (side, tol, threads) has no
    chance to be the faster one of its side and tol: each of its runs so far
    took more than ``HOPELESS_FACTOR`` times the other setting's slowest. It
    is not repeated then (on the shared machine, default BLAS threads can be
    ten times slower than one thread, and would triple the benchmark's
    time)."""
    side, tol, _ = key
    mine = times[key]
    other = [
        value
        for (s, t, th), value in times.items()
        if (s, t) == (side, tol) and (s, t, th) != key
    ]
    if not mine or not other or not other[0]:
        return False
    return min(mine) > HOPELESS_FACTOR * max(other[0])


def bench(problem, tols, repeats):
    """Rows (one per tol of ours) for one problem; every variant of the
    problem (both sides, every tol, both thread settings) takes turns."""
    name, X, y = problem
    is_multilabel = y.ndim == 2
    if is_multilabel:
        folds = list(KFold(N_FOLDS, shuffle=True, random_state=0).split(X))
        ours_fn, theirs_fn = run_ovr, run_reference_ovr
    else:
        splitter = StratifiedKFold(N_FOLDS, shuffle=True, random_state=0)
        folds = list(splitter.split(X, y))
        ours_fn, theirs_fn = run_softmax, run_reference
    their_tols = sorted(set(tols) | set(SKLEARN_TOLS), reverse=True)
    functions = {"sksoftmax": ours_fn, "sklearn": theirs_fn}
    keys = [
        (side, tol, threads)
        for side, side_tols in (("sksoftmax", tols), ("sklearn", their_tols))
        for tol in side_tols
        for threads in ("default", "1 thread")
    ]
    times = {key: [] for key in keys}
    fitted = {}
    for repeat in range(repeats):
        # The variants take turns, the first rotating, so that a change of
        # load on the shared machine hits them alike.
        shift = repeat % len(keys)
        for key in keys[shift:] + keys[:shift]:
            if hopeless(key, times):
                continue
            side, tol, threads = key
            limit = 1 if threads == "1 thread" else None
            seconds, fitted[key] = timed(
                functions[side], X, y, folds, tol, threads=limit
            )
            times[key].append(seconds)
    medians = {key: statistics.median(values) for key, values in times.items()}

    def best(side, tol):
        return min(medians[side, tol, "default"], medians[side, tol, "1 thread"])

    rows = []
    for tol in tols:
        ours = fitted["sksoftmax", tol, "1 thread"]
        ours_best = best("sksoftmax", tol)
        # scikit-learn's side is its one-thread fit (the same model as its
        # default-thread one).
        agreements = {}
        for their_tol in their_tols:
            same_C, difference = agreement(
                ours, fitted["sklearn", their_tol, "1 thread"], is_multilabel
            )
            agreements[their_tol] = {
                "same_C": same_C,
                "max_score_difference": difference,
            }
        same = [
            (best("sklearn", their_tol), their_tol)
            for their_tol, agreed in agreements.items()
            if _agrees(agreed)
        ]
        same_answer = None
        if same:
            seconds, their_tol = min(same)
            same_answer = {
                "sklearn_tol": their_tol,
                "sklearn_seconds": seconds,
                "speedup": seconds / ours_best,
            }
        rows.append(
            {
                "problem": name,
                "shape": list(X.shape),
                "tol": tol,
                "estimator": type(ours).__name__,
                "seconds": {
                    f"{side} / {t:g} / {threads}": value
                    for (side, t, threads), value in medians.items()
                },
                "all_seconds": {
                    f"{side} / {t:g} / {threads}": value
                    for (side, t, threads), value in times.items()
                },
                "sksoftmax_seconds": ours_best,
                "sklearn_seconds": best("sklearn", tol),
                "speedup": best("sklearn", tol) / ours_best,
                **agreements[tol],
                "agreement_by_sklearn_tol": {
                    f"{t:g}": agreed for t, agreed in agreements.items()
                },
                "same_answer": same_answer,
                "our_iterations": int(ours.n_iter_.sum()),
            }
        )
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller problems")
    parser.add_argument("--repeats", type=int, default=None)
    parser.add_argument(
        "--tol",
        default=",".join(f"{tol:g}" for tol in TOLS),
        help="comma-separated tolerances",
    )
    parser.add_argument("--output", default=str(RESULTS))
    args = parser.parse_args()
    repeats = args.repeats or (1 if args.quick else 3)
    tols = [float(tol) for tol in args.tol.split(",")]
    load_before = _load()
    rows, answers = [], []
    for make in (digits, letters_like, multilabel):
        problem_rows = bench(make(args.quick), tols, repeats)
        for row in problem_rows:
            rows.append(row)
            print(
                f"{row['problem']}, tol={row['tol']:g}: speed-up "
                f"{row['speedup']:.1f}x (same tol), {_same_answer(row)} (same answer)",
                flush=True,
            )
        answers.append(time_to_answer(problem_rows))

    print()
    print(f"Cs={N_CS}, {N_FOLDS} folds, scoring={SCORING}, medians of {repeats}")
    print(
        f"{'problem':<24}{'tol':>7}{'sksoftmax s':>12}{'sklearn s':>11}"
        f"{'speed-up':>10}{'same C':>8}{'max |dscore|':>14}{'same answer':>26}"
    )
    for row in rows:
        print(
            f"{row['problem']:<24}{row['tol']:>7.0e}{row['sksoftmax_seconds']:>12.2f}"
            f"{row['sklearn_seconds']:>11.2f}{row['speedup']:>9.1f}x"
            f"{'yes' if row['same_C'] else 'NO':>8}"
            f"{row['max_score_difference']:>14.1e}{_same_answer(row):>26}"
        )
    print(
        "(seconds: the faster of default BLAS threads and one thread, per side; "
        "same answer: the fastest scikit-learn tol with the same C and scores "
        f"within {SCORE_ATOL:g})"
    )
    print()
    print("Time to the converged answer (each side's fastest agreeing run):")
    for answer in answers:
        if answer is None:
            print("  a side never agreed")
            continue
        print(
            f"  {answer['problem']:<24} sksoftmax {answer['sksoftmax_seconds']:.2f} s "
            f"(tol {answer['sksoftmax_tol']:g}), sklearn "
            f"{answer['sklearn_seconds']:.2f} s (tol {answer['sklearn_tol']:g}): "
            f"{answer['speedup']:.1f}x"
        )
    for tol in tols:
        met = [row for row in rows if row["tol"] == tol]
        same_tol = sum(row["speedup"] >= TARGET_SPEEDUP for row in met)
        same_answer = sum(
            row["same_answer"] is not None
            and row["same_answer"]["speedup"] >= TARGET_SPEEDUP
            for row in met
        )
        print(
            f"tol={tol:g}: at least {TARGET_SPEEDUP:g}x faster on {same_tol} of "
            f"{len(met)} problems at the same tol, {same_answer} at the same answer"
        )

    output = {
        "settings": {
            "Cs": N_CS,
            "folds": N_FOLDS,
            "scoring": SCORING,
            "tols": tols,
            "sklearn_tols": sorted(set(tols) | set(SKLEARN_TOLS), reverse=True),
            "score_atol": SCORE_ATOL,
            "max_iter": MAX_ITER,
            "repeats": repeats,
            "quick": args.quick,
        },
        "versions": {
            "sksoftmax": sksoftmax.__version__,
            "scikit-learn": sklearn.__version__,
            "numpy": np.__version__,
            "python": platform.python_version(),
        },
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_before": load_before,
            "load_average_after": _load(),
        },
        "rows": rows,
        "time_to_answer": answers,
    }
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(output, indent=2) + "\n")
    print(f"Wrote {args.output}")


def _agrees(agreement):
    return agreement["same_C"] and agreement["max_score_difference"] <= SCORE_ATOL


def time_to_answer(rows):
    """One problem's rows to the time each side needs for the converged
    answer: the fastest run of ours that agrees (same C, scores within
    ``SCORE_ATOL``) with scikit-learn's tightest run, and the fastest run of
    scikit-learn's that agrees with our tightest run (that row's same-answer
    comparison). None if a side has no such run."""
    tightest = min(rows, key=lambda row: row["tol"])
    their_tightest = min(tightest["agreement_by_sklearn_tol"], key=float)
    ours = [
        (row["sksoftmax_seconds"], row["tol"])
        for row in rows
        if _agrees(row["agreement_by_sklearn_tol"][their_tightest])
    ]
    theirs = tightest["same_answer"]
    if not ours or theirs is None:
        return None
    our_seconds, our_tol = min(ours)
    return {
        "problem": tightest["problem"],
        "estimator": tightest["estimator"],
        "sksoftmax_tol": our_tol,
        "sksoftmax_seconds": our_seconds,
        "sklearn_tol": theirs["sklearn_tol"],
        "sklearn_seconds": theirs["sklearn_seconds"],
        "speedup": theirs["sklearn_seconds"] / our_seconds,
    }


def _same_answer(row):
    """``"3.1x (sklearn 1e-06)"``, or a note when no scikit-learn run gave
    the same answer."""
    same = row["same_answer"]
    if same is None:
        return "none agrees"
    return f"{same['speedup']:.1f}x (sklearn {same['sklearn_tol']:g})"


def _load():
    """1, 5 and 15 minute load averages (the machine is shared)."""
    try:
        return list(os.getloadavg())
    except (AttributeError, OSError):
        return None


if __name__ == "__main__":
    main()
