"""The benchmark's own logic: verdicts, report tables, problem shapes, counters.

No timing is asserted; the verdicts are checked on a small hand-made results
table whose right answers are known.
"""

import importlib
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture(scope="module")
def bench():
    sys.path.insert(0, str(BENCHMARKS))
    try:
        yield {
            name: importlib.import_module(name)
            for name in ("problems", "harness", "report")
        }
    finally:
        sys.path.remove(str(BENCHMARKS))


def _row(solver, tol, objective, time_s, threads="default", C=1.0, **extra):
    return {
        "problem": extra.pop("problem", "p"),
        "kind": extra.pop("kind", "multiclass"),
        "C": C,
        "tol": tol,
        "solver": solver,
        "threads": threads,
        "ours": solver == "sksoftmax",
        "status": extra.pop("status", "ok"),
        "times": [time_s] if time_s is not None else [],
        "time_s": time_s,
        "iters": 10,
        "converged": True,
        "objective": objective,
        "n_evaluations": extra.pop("n_evaluations", None),
        **extra,
    }


def _table():
    """Three tols of one problem, plus one multilabel cell.

    tol=1e-4: we are best at this tol; newton-cg (1 thread) reaches us at
      0.5 s (2x at the same tol), but lbfgs at tol=1e-6 reaches us at 0.3 s:
      1.2x, the speed-up that counts.
    tol=1e-6: we end 1e-8 above lbfgs (fails i), above our 1e-4 result
      (fails ii), and lbfgs (1 thread) reaches us in half our time (fails iii).
    tol=1e-10: nobody reaches us (flag, speed-up vs the fastest peer), and we
      need more evaluations than lbfgs (fails iv).
    """
    rows = [
        _row("sksoftmax", 1e-4, 10.0, 0.25),
        _row("sksoftmax", 1e-4, 10.0, 2.5, threads="1"),  # slower: not counted
        _row("lbfgs", 1e-4, 10.0 + 1e-5, 2.0),
        _row("lbfgs", 1e-4, 10.0 + 1e-5, 1.0, threads="1"),
        _row("newton-cg", 1e-4, 10.0 - 1e-9, 0.6),
        _row("newton-cg", 1e-4, 10.0 - 1e-9, 0.5, threads="1"),
        _row("newton-cholesky", 1e-4, None, None, status="skipped: too big"),
        _row("newton-cholesky", 1e-4, 9.0, None, threads="1", status="timeout"),
        _row("sksoftmax", 1e-6, 10.0 + 1e-7, 0.6),
        _row("lbfgs", 1e-6, 10.0 + 1e-7 - 1e-7, 0.4),
        _row("lbfgs", 1e-6, 10.0, 0.3, threads="1"),
        _row("sksoftmax", 1e-10, 9.5, 1.0, n_evaluations=50),
        _row("lbfgs", 1e-10, 9.6, 3.0),
        _row("lbfgs", 1e-10, 9.6, 4.0, threads="1"),
        _row("sksoftmax", 1e-6, 5.0, 1.0, problem="m", kind="multilabel"),
        _row("lbfgs", 1e-6, 5.0, 1.5, problem="m", kind="multilabel"),
        # within the 1e-9 slack: still "not above" lbfgs, and lbfgs reaches us
        _row("sksoftmax", 1e-6, 100.0 + 5e-8, 1.0, problem="s"),
        # our faster setting counts for time; the worse objective is judged
        _row("sksoftmax", 1e-6, 100.0, 2.0, threads="1", problem="s"),
        _row("lbfgs", 1e-6, 100.0, 3.0, problem="s"),
    ]
    evaluations = [
        {"problem": "p", "C": 1.0, "tol": 1e-10, "solver": "lbfgs", "total": 40},
    ]
    return rows, evaluations


def test_cell_verdicts(bench):
    report = bench["report"]
    rows, evaluations = _table()
    cells = {
        (c["problem"], c["tol"]): c for c in report.cell_verdicts(rows, evaluations)
    }
    loose, mid, tight = cells["p", 1e-4], cells["p", 1e-6], cells["p", 1e-10]

    assert loose["objective_ok"] is True
    assert loose["monotone_ok"] is None  # nothing looser
    assert loose["reached"] is True
    assert loose["speedup_peer"] == "lbfgs (1 thread)"
    assert loose["speedup_peer_tol"] == 1e-6  # a tighter tol's run counts
    assert loose["speedup"] == pytest.approx(1.2)
    assert loose["speedup_same_tol"] == pytest.approx(2.0)
    assert loose["speedup_lbfgs"] == pytest.approx(4.0)  # best thread setting
    assert loose["ours_variant"] == "sksoftmax (default threads)"
    assert loose["speed_ok"] is True
    assert "evaluations_ok" not in loose  # only at the tightest tol

    assert mid["objective_ok"] is False
    assert mid["gap_vs_lbfgs"] == pytest.approx(1e-8, rel=1e-3)
    assert mid["monotone_ok"] is False
    assert mid["speedup_peer"] == "lbfgs (1 thread)"
    assert mid["speedup"] == pytest.approx(0.5)
    assert mid["speed_ok"] is False

    assert tight["monotone_ok"] is True
    assert tight["reached"] is False
    assert tight["speedup_peer"] == "lbfgs (default threads)"
    assert tight["speedup"] == pytest.approx(3.0)
    assert tight["evaluations"] == 50 and tight["lbfgs_evaluations"] == 40
    assert tight["evaluations_ok"] is False

    multilabel = cells["m", 1e-6]
    assert multilabel["speedup"] == pytest.approx(1.5)
    assert multilabel["speed_ok"] is False  # one-vs-rest must reach 2x

    slack = cells["s", 1e-6]
    assert slack["ours_objective"] == 100.0 + 5e-8  # the worse of our two runs
    assert slack["objective_ok"] is True and slack["reached"] is True
    assert slack["speedup"] == pytest.approx(3.0)


def test_summary_counts_failures(bench):
    report = bench["report"]
    rows, evaluations = _table()
    summary = report.summarize(report.cell_verdicts(rows, evaluations))
    assert summary["cells"] == 5
    assert summary["failures"] == {
        "objective_ok": 1,
        "monotone_ok": 1,
        "speed_ok": 2,
        "evaluations_ok": 1,
    }
    assert summary["cells_unreached"] == 1
    assert summary["median_speedup"] == pytest.approx(1.5)  # 1.2, .5, 3, 1.5, 3
    assert summary["min_speedup"] == pytest.approx(0.5)
    assert summary["min_speedup_cell"] == "p C=1 tol=1e-06"
    assert summary["ovr_min_speedup"] == pytest.approx(1.5)
    assert summary["targets"]["median_speedup_at_least_5x"] is False
    assert summary["targets"]["no_cell_fails"] is False


def test_unknown_evaluations_are_not_failures(bench):
    report = bench["report"]
    rows = [_row("sksoftmax", 1e-10, 1.0, 1.0), _row("lbfgs", 1e-10, 1.0, 2.0)]
    (cell,) = report.cell_verdicts(rows, [])
    assert cell["evaluations_ok"] is None
    summary = report.summarize([cell])
    assert summary["failures"]["evaluations_ok"] == 0
    assert summary["unknown"]["evaluations_ok"] == 1


def test_gaps(bench):
    report = bench["report"]
    rows = report.add_gaps(
        [_row("sksoftmax", 1e-4, 2.0, 1.0), _row("lbfgs", 1e-4, 3.0, 1.0)]
    )
    assert [r["rel_gap"] for r in rows] == [0.0, pytest.approx(0.5)]


def _payload(bench):
    report = bench["report"]
    rows, evaluations = _table()
    report.add_gaps(rows)
    cells = report.cell_verdicts(rows, evaluations)
    return {
        "format": report.FORMAT,
        "config": {"C": [1.0], "tol": [1e-4, 1e-6, 1e-10], "repeats": 3},
        "machine": {"date": "2026-01-01T00:00:00", "sksoftmax": "0.1"},
        "problems": {
            "p": {"description": "a *tiny* problem", "shape": [10, 2], "n_outputs": 3}
        },
        "results": rows,
        "evaluations": evaluations,
        "cells": cells,
        "summary": report.summarize(cells),
    }


def test_docs_rst_has_narrow_tables_and_footnotes(bench):
    report = bench["report"]
    text = report.docs_rst(_payload(bench), image="/generated/speedup.png")
    assert text.count(".. list-table::") == 9  # three narrow tables per problem
    assert "0.250 / 2.500" in text  # ours, default threads / 1 thread
    assert ".. figure:: /generated/speedup.png" in text
    # notes are footnotes, not table cells
    assert "[#p-1]_" in text and ".. [#p-1] " in text
    assert "No scikit-learn solver reaches our objective" in text
    assert "a \\*tiny\\* problem" in text
    assert (
        "**0.50x**" in text and "**fail: iii**" in text
    )  # the failing speed-up stands out
    payload = _payload(bench) | {"complete": False}
    payload["config"]["problems"] = ["p", "q"]
    assert "stopped before the end of its grid: no results for q" in report.docs_rst(
        payload
    )
    assert "older" in report.docs_rst({"results": []})
    assert "python benchmarks/run.py" in report.docs_rst(None)


def test_readme_update_replaces_only_the_marked_block(bench, tmp_path):
    report = bench["report"]
    readme = tmp_path / "README.md"
    readme.write_text(
        f"before\n{report.README_START}\nold\n{report.README_END}\nafter\n"
    )
    report.update_readme(_payload(bench), readme)
    text = readme.read_text()
    assert text.startswith("before\n") and text.endswith("after\n")
    assert "old" not in text
    assert "| p | 10 x 2, K=3 | 1.2x (0.5x) (1 unreached) |" in text
    readme.write_text("no markers\n")
    with pytest.raises(SystemExit):
        report.update_readme(_payload(bench), readme)


def test_summary_median_is_not_rounded_up_to_the_target(bench):
    """A median of 4.95x reads 4.95x, not 5.0x: one decimal would round it
    onto the 5x target it misses, in the README and in the docs."""
    report = bench["report"]
    payload = _payload(bench)
    payload["summary"] = payload["summary"] | {
        "median_speedup": 4.951,
        "median_speedup_lbfgs": 4.696,
    }
    table = report.readme_table(payload)
    assert "median speed-up 4.95x (target 5x)" in table
    assert "5.0x" not in table
    docs = report.docs_rst(payload)
    assert "**4.95x** (target 5x)" in docs and "lbfgs alone: 4.70x" in docs


def test_quick_problem_shapes(bench):
    problems = bench["problems"]
    for name in problems.PROBLEMS:
        problem = problems.make_problem(name, quick=True)
        n, p, k = problems.SHAPES[name][1]
        assert problem.shape == (n, p), name
        assert problem.n_outputs == k, name
        assert problem.name == name


@pytest.mark.parametrize(
    "name", ["letter", "pendigits", "satimage", "digits_raw", "ml_scene", "ml_emotions"]
)
def test_full_problem_shapes(bench, name):
    problems = bench["problems"]
    problem = problems.make_problem(name)
    n, p, k = problems.SHAPES[name][0]
    assert problem.shape == (n, p)
    assert problem.n_outputs == k


def test_problem_structure(bench):
    problems = bench["problems"]
    letter = problems.make_problem("letter", quick=True)
    assert np.allclose(letter.X.mean(axis=0), 0) and np.allclose(letter.X.std(0), 1)
    # quantised features: few distinct values per column, as in the UCI set
    assert max(np.unique(col).size for col in letter.X.T) <= 16
    mnist = problems.make_problem("mnist_like", quick=True)
    assert mnist.X.min() == 0 and mnist.X.max() <= 1
    assert np.mean(mnist.X == 0) > 0.5
    text = problems.make_problem("text20", quick=True)
    assert sp.issparse(text.X) and text.X.format == "csr"
    norms = np.sqrt(np.asarray(text.X.multiply(text.X).sum(axis=1)).ravel())
    assert np.allclose(norms, 1)
    scene = problems.make_problem("ml_scene", quick=True)
    assert scene.kind == "multilabel"
    assert (scene.y.min(axis=0) == 0).all() and (scene.y.max(axis=0) == 1).all()
    again = problems.make_problem("ml_scene", quick=True)
    assert np.array_equal(scene.X, again.X)  # fixed seeds


def test_select_problems(bench):
    problems = bench["problems"]
    assert problems.select("ml") == ["ml_scene", "ml_emotions", "ml_many"]
    assert problems.select("text50,letter") == ["letter", "text50"]
    with pytest.raises(SystemExit):
        problems.select("nope")


def test_count_evaluations_restores_the_loss(bench):
    harness, problems = bench["harness"], bench["problems"]
    from sklearn.linear_model._linear_loss import LinearModelLoss

    before = {name: getattr(LinearModelLoss, name) for name in harness._LOSS_METHODS}
    problem = problems.make_problem("ml_emotions", quick=True)
    lbfgs = harness.count_evaluations(harness.Solver("lbfgs"), problem, 1.0, 1e-4, 500)
    assert lbfgs["total"] == lbfgs["loss_gradient"] >= lbfgs["iters"] > 0
    newton = harness.count_evaluations(
        harness.Solver("newton-cg"), problem, 1.0, 1e-4, 500
    )
    assert newton["hessp"] > 0 and newton["total"] > newton["hessp"]
    after = {name: getattr(LinearModelLoss, name) for name in harness._LOSS_METHODS}
    assert before == after


def test_one_objective_for_every_model(bench):
    harness, problems = bench["harness"], bench["problems"]
    from sklearn.linear_model import LogisticRegression

    from sksoftmax._loss import binary_objective

    # scikit-learn's model and ours, both converged, at the same scale
    problem = problems.make_problem("letter", quick=True)
    values = [
        harness.objective(
            harness.fit_once(
                harness.Solver(name, 1), problem, 1.0, 1e-8, 5000
            ).estimator,
            problem,
            1.0,
        )
        for name in ("lbfgs", "sksoftmax")
    ]
    assert values[0] == pytest.approx(values[1], rel=1e-6)
    problem = problems.make_problem("digits_raw", quick=True)
    # a binary LogisticRegression is judged as the binomial model of y == classes_[1]
    y = (problem.y == 3).astype(int)
    binary = LogisticRegression(C=1.0, max_iter=1000).fit(problem.X, y)
    two_class = problems.Problem("b", problem.X, y, "multiclass", "")
    expected = binary_objective(
        binary.coef_, binary.intercept_, problem.X, (y == 1)[:, None], C=1.0
    )[0]
    assert harness.objective(binary, two_class, 1.0) == pytest.approx(expected)


def test_fit_timeout(bench):
    harness, problems = bench["harness"], bench["problems"]
    problem = problems.make_problem("digits_raw", quick=True)
    fit = harness.fit_once(
        harness.Solver("lbfgs", 1), problem, 100.0, 1e-10, 10_000, timeout=1e-9
    )
    assert fit.timed_out and fit.estimator is None


@pytest.mark.parametrize("short_cell_s, expected", [(1e9, 5), (0.0, 2)])
def test_quick_cells_get_more_repeats(bench, monkeypatch, short_cell_s, expected):
    """A cell whose first repeat is quicker than ``SHORT_CELL_S`` gets
    ``SHORT_CELL_REPEATS`` repeats of every variant; other cells keep the
    requested number."""
    harness, problems = bench["harness"], bench["problems"]
    monkeypatch.setattr(harness, "SHORT_CELL_S", short_cell_s)
    monkeypatch.setattr(harness, "SHORT_CELL_REPEATS", 5)
    problem = problems.make_problem("ml_emotions", quick=True)
    solvers = [harness.Solver("sksoftmax", 1), harness.Solver("lbfgs", 1)]
    rows = harness.run_cell(problem, solvers, 1.0, 1e-4, repeats=2, cell_budget=1e9)
    assert [row["repeats"] for row in rows] == [expected, expected]


@pytest.mark.parametrize(
    "counts, expected",
    [([3, 9, 1], "up to 3 repeats (9 for quick cells)"), ([3, 1], "up to 3 repeats")],
)
def test_repeats_phrase_names_the_quick_cells_repeats(bench, counts, expected):
    results = {"config": {"repeats": 3}, "results": [{"repeats": n} for n in counts]}
    assert bench["report"]._repeats_phrase(results) == expected


def test_wide_benchmark_baseline_is_never_reduced(bench):
    """The reduction-alone column's baseline stays on X, also where the
    weak-penalty rule would reduce it, and the limits come back after."""
    from sksoftmax import _rowspace as rowspace
    from sksoftmax._penalty import SolverScale

    X = bench["problems"].WIDE_PROBLEMS["spectra4"]().X
    scale = SolverScale.from_weights(100.0, None, n_samples=X.shape[0])
    before = (rowspace.MAX_BREAK_EVEN_EVALUATIONS, rowspace.MAX_BREAK_EVEN_WEAK_PENALTY)
    assert rowspace.penalty_ratio(X, scale.weights, scale.l2) >= (
        rowspace.WEAK_PENALTY_RATIO
    )
    assert rowspace.row_space(X, 4, scale.weights, scale.l2) is not None
    wide_bench = importlib.import_module("wide_bench")  # on the fixture's path
    with wide_bench.without_reduction():
        assert rowspace.row_space(X, 4, scale.weights, scale.l2) is None
        assert rowspace.row_space(X, 4) is None
    after = (rowspace.MAX_BREAK_EVEN_EVALUATIONS, rowspace.MAX_BREAK_EVEN_WEAK_PENALTY)
    assert after == before


@pytest.mark.parametrize("name", ["expr2", "expr4", "spectra4", "expr_labels"])
def test_wide_problems_are_reduced(bench, name):
    """The wide benchmark's problems are ones the row-space reduction takes
    (at the default thresholds) whatever the penalty, unlike the grid's own
    wide set, which it takes only when the penalty is weak (C=0.01 and
    above, not C=0.001)."""
    from sksoftmax._penalty import SolverScale
    from sksoftmax._rowspace import row_space

    problem = bench["problems"].WIDE_PROBLEMS[name]()
    n_samples, n_features = problem.X.shape
    assert n_features >= 10 * n_samples
    n_outputs = problem.y.shape[1] if problem.kind == "multilabel" else None
    if n_outputs is None:
        n_classes = len(np.unique(problem.y))
        n_outputs = 1 if n_classes == 2 else n_classes
    assert row_space(problem.X, n_outputs) is not None
    grid_wide = bench["problems"].make_problem("wide")
    assert row_space(grid_wide.X, 5) is None
    for C, reduced in [(0.01, True), (0.001, False)]:
        scale = SolverScale.from_weights(C, None, n_samples=grid_wide.X.shape[0])
        basis = row_space(grid_wide.X, 5, scale.weights, scale.l2)
        assert (basis is not None) == reduced


@pytest.mark.parametrize(
    "name, shape", [("iris", (150, 4, 3)), ("digits_std", (1_797, 64, 10))]
)
def test_small_problems_are_the_bundled_sets_standardised(bench, name, shape):
    """The small benchmark fits scikit-learn's own sets, as loaded and then
    standardised (zero mean, unit variance where a column varies)."""
    from sklearn import datasets

    problem = bench["problems"].SMALL_PROBLEMS[name]()
    assert (*problem.X.shape, problem.n_outputs) == shape
    loader = getattr(datasets, f"load_{name.removesuffix('_std')}")
    X, y = loader(return_X_y=True)
    np.testing.assert_array_equal(problem.y, y)
    np.testing.assert_allclose(problem.X.mean(axis=0), 0.0, atol=1e-12)
    varying = X.std(axis=0) > 0
    np.testing.assert_allclose(problem.X.std(axis=0)[varying], 1.0, rtol=1e-12)


def test_small_bench_smoke_run(tmp_path):
    """``small_bench.py --quick`` times its cells and writes one verdict per
    cell (no timing is asserted)."""
    sys.path.insert(0, str(BENCHMARKS))
    try:
        small_bench = importlib.import_module("small_bench")
        output = tmp_path / "small.json"
        cells = small_bench.main(["--quick", "--output", str(output)])
    finally:
        sys.path.remove(str(BENCHMARKS))
    assert output.exists()
    assert [cell["problem"] for cell in cells] == ["iris", "few_rows"]
    for cell in cells:
        assert cell["ours_time_s"] > 0
        assert cell["objective_ok"] in (True, False)
