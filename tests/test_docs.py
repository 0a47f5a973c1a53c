"""The documentation's own checks, without Sphinx.

* Every ``>>>`` example of the user guide and the other hand-written pages
  runs as a doctest (the docstrings' examples run through pytest's
  ``--doctest-modules``, configured in pyproject.toml).
* The README's Python code blocks run.
* The API page lists every public object.
* The build helpers of ``docs/_ext/sksoftmax_docs.py`` cope with missing
  benchmark results and with objects that do not import yet.
"""

import doctest
import importlib
import inspect
import io
import json
import re
from pathlib import Path

import pytest

import sksoftmax

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
OPTIONFLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


# Hand-written pages with examples (generated pages are not checked here).
PAGES = sorted(
    path
    for path in DOCS.rglob("*.rst")
    if not {"_build", "generated", "auto_examples", "_templates"} & set(path.parts)
    and ">>>" in path.read_text(encoding="utf-8")
)


def _unexported(text):
    """Names a page imports from the top-level package that it does not have."""
    names = set()
    for match in re.finditer(r"^>>> from sksoftmax import (.+)$", text, re.M):
        names.update(name.strip() for name in match.group(1).split(","))
    return sorted(name for name in names if not hasattr(sksoftmax, name))


def test_pages_with_examples_are_found():
    found = {path.relative_to(DOCS).as_posix() for path in PAGES}
    assert {"user_guide/softmax.rst", "user_guide/choosing.rst"} <= found


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.relative_to(DOCS).as_posix())
def test_page_doctests(path):
    text = path.read_text(encoding="utf-8")
    missing = _unexported(text)
    if missing:
        pytest.skip(f"sksoftmax does not export {missing} yet")
    test = doctest.DocTestParser().get_doctest(text, {}, path.name, str(path), lineno=0)
    assert test.examples, f"no examples parsed from {path}"
    report = io.StringIO()
    runner = doctest.DocTestRunner(optionflags=OPTIONFLAGS)
    result = runner.run(test, out=report.write)
    assert result.failed == 0, report.getvalue()


def _readme_python_blocks():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return re.findall(r"^```python\n(.*?)^```", text, re.M | re.S)


@pytest.mark.parametrize("index", range(len(_readme_python_blocks())))
def test_readme_python_blocks_run(index):
    code = _readme_python_blocks()[index]
    exec(compile(code, f"README.md python block {index}", "exec"), {})


def test_api_page_lists_every_public_object(docs_helper):
    text = (DOCS / "api.rst").read_text(encoding="utf-8")
    listed = {
        name
        for block in docs_helper.autosummary_blocks(text.splitlines())
        for _, name in block["entries"]
    }
    public = {
        f"sksoftmax.{name}"
        for name in sksoftmax.__all__
        if name != "__version__" and not inspect.ismodule(getattr(sksoftmax, name))
    }
    for module in ("special", "datasets"):
        mod = importlib.import_module(f"sksoftmax.{module}")
        public |= {f"sksoftmax.{module}.{name}" for name in mod.__all__}
    assert public <= listed, f"not in docs/api.rst: {sorted(public - listed)}"


def test_api_filter_drops_missing_entries(docs_helper):
    page = "\n".join(
        [
            "API",
            "===",
            "",
            "Intro.",
            "",
            ".. module:: pkg",
            "",
            ".. autosummary::",
            "   :toctree: generated/",
            "",
            "   present",
            "   absent",
            "",
            ".. autosummary::",
            "   :toctree: generated/",
            "",
            "   gone",
            "",
            "After.",
        ]
    )
    blocks = docs_helper.autosummary_blocks(page.splitlines())
    assert [name for b in blocks for _, name in b["entries"]] == [
        "pkg.present",
        "pkg.absent",
        "pkg.gone",
    ]
    filtered = docs_helper.filter_api_page(page, {"pkg.absent", "pkg.gone"})
    assert "present" in filtered
    assert "   absent" not in filtered
    assert filtered.count(".. autosummary::") == 1
    assert filtered.index(".. note::") < filtered.index(".. module:: pkg")
    assert "After." in filtered
    assert docs_helper.filter_api_page(page, set()) == page


def test_is_importable(docs_helper):
    assert docs_helper.is_importable("sksoftmax.special.softmax")
    assert docs_helper.is_importable("sksoftmax.SoftmaxRegression")
    assert not docs_helper.is_importable("sksoftmax.no_such_thing")
    assert not docs_helper.is_importable("no_such_package.thing")


def test_benchmark_include_without_results(tmp_path, docs_helper):
    problem = docs_helper.write_benchmark_include(
        tmp_path / "latest.json", tmp_path / "speedup.png", tmp_path / "out"
    )
    assert problem is None
    text = (tmp_path / "out" / "benchmarks.inc").read_text()
    assert ".. note::" in text and "python benchmarks/run.py" in text


def test_benchmark_include_with_results(tmp_path, docs_helper):
    rows = [
        {
            "problem": "letter",
            "kind": "multiclass",
            "C": 1.0,
            "tol": 1e-6,
            "solver": solver,
            "threads": threads,
            "ours": solver == "sksoftmax",
            "status": status,
            "times": [time_s] if time_s else [],
            "time_s": time_s,
            "iters": 20,
            "converged": converged,
            "objective": objective,
        }
        for solver, threads, status, time_s, converged, objective in [
            ("sksoftmax", "default", "ok", 0.5, True, 10.0),
            ("lbfgs", "default", "ok", 2.0, False, 10.0),
            ("lbfgs", "1", "ok", 3.0, True, 10.0),
            ("newton-cholesky", "default", "skipped: dense Hessian", None, None, None),
            ("newton-cholesky", "1", "skipped: dense Hessian", None, None, None),
        ]
    ]
    results = {
        "format": 2,
        "config": {"C": [1.0], "tol": [1e-6], "quick": True, "repeats": 1},
        "machine": {"date": "2026-01-01T00:00:00", "numpy": "2", "scipy": "1"},
        "problems": {"letter": {"description": "dense 100x10, K=3"}},
        "results": rows,
        "cells": [
            {
                "problem": "letter",
                "kind": "multiclass",
                "C": 1.0,
                "tol": 1e-6,
                "status": "ok",
                "repeats": 1,
                "ours_time_s": 0.5,
                "speedup": 4.0,
                "speedup_peer": "lbfgs (default threads)",
                "reached": True,
                "speed_ok": True,
            }
        ],
        "summary": {"median_speedup": 4.0, "failures": {}},
    }
    (tmp_path / "latest.json").write_text(json.dumps(results))
    (tmp_path / "speedup.png").write_bytes(b"\x89PNG")
    out = tmp_path / "out"
    docs_helper.write_benchmark_include(
        tmp_path / "latest.json", tmp_path / "speedup.png", out
    )
    text = (out / "benchmarks.inc").read_text()
    assert ".. list-table::" in text
    assert "4.00x" in text and "dense 100x10, K=3" in text
    # notes (a ConvergenceWarning, a skipped solver) are footnotes
    assert ".. [#letter-1] ConvergenceWarning" in text
    assert "skipped: dense Hessian" in text
    assert ".. figure:: /generated/speedup.png" in text
    assert (out / "speedup.png").exists()


def test_benchmark_include_with_broken_results(tmp_path, docs_helper):
    (tmp_path / "latest.json").write_text("{not json")
    problem = docs_helper.write_benchmark_include(
        tmp_path / "latest.json", tmp_path / "speedup.png", tmp_path / "out"
    )
    assert problem is not None and "cannot read" in problem


def test_gallery_argv_keeps_figures_out_of_the_source_tree(tmp_path, docs_helper):
    argv = docs_helper.gallery_argv(
        {}, {"target_file": str(tmp_path / "auto_examples" / "compare_music.py")}
    )
    assert argv == ["--output", str(tmp_path / "auto_examples" / "compare_music.png")]


def test_comparison_includes_are_the_examples_tables(tmp_path, docs_helper):
    assert docs_helper.write_comparison_includes(tmp_path, argv=["--quick"]) == []
    music = (tmp_path / "comparison_music.inc").read_text()
    scenes = (tmp_path / "comparison_scenes.inc").read_text()
    assert music.count(".. list-table::") == scenes.count(".. list-table::") == 2
    for metric in ["accuracy", "log_loss", "jaccard_samples", "hamming_loss"]:
        assert f"``{metric}``" in music
    assert "``recall_micro``" in scenes
    assert "SoftmaxRegression, 1 tag/song" in music
    assert "fit_time" not in music + scenes


def test_comparison_include_of_a_failing_example(tmp_path, docs_helper, monkeypatch):
    monkeypatch.setattr(
        docs_helper, "COMPARISONS", {"broken": ("no_such_example.py", [])}
    )
    problems = docs_helper.write_comparison_includes(tmp_path)
    assert len(problems) == 1 and "no_such_example.py" in problems[0]
    assert ".. note::" in (tmp_path / "comparison_broken.inc").read_text()


def test_side_benchmark_includes(tmp_path, docs_helper):
    """The penalty and CV benchmark tables come from their result files; a
    missing file gives a note, not a failed build."""
    results = tmp_path / "results"
    results.mkdir()
    penalty_row = {
        "problem": "dense",
        "estimator": "SoftmaxRegression",
        "C": 0.05,
        "l1_ratio": 1.0,
        "sksoftmax_seconds": 0.2,
        "sksoftmax_gap": 0.0,
        "saga_seconds": 3.0,
        "saga_gap": 1e-7,
        "saga_tol": 1e-4,
        "speedup": 15.0,
        "skglm_seconds": 0.5,
    }
    (results / "penalty.json").write_text(json.dumps({"rows": [penalty_row]}))
    out = tmp_path / "generated"
    docs_helper.write_side_benchmark_includes(results, out)
    penalty = (out / "penalty_benchmark.inc").read_text()
    assert "15.0x" in penalty and "0.500 s (2.5x)" in penalty
    assert "No results" in (out / "cv_benchmark.inc").read_text()


def test_cv_table_shows_both_comparisons(docs_helper):
    """Each CV row shows the same-tol and the same-answer comparison; no
    agreeing scikit-learn run, or a result file from before the comparison,
    is said so rather than left out."""
    row = {
        "problem": "digits",
        "estimator": "SoftmaxRegressionCV",
        "tol": 1e-4,
        "sksoftmax_seconds": 0.5,
        "sklearn_seconds": 0.25,
        "speedup": 0.5,
        "same_C": True,
        "max_score_difference": 0.1,
        "same_answer": {"sklearn_tol": 1e-8, "sklearn_seconds": 2.0, "speedup": 4.0},
    }
    text = docs_helper.cv_rst({"rows": [row, {**row, "same_answer": None}]})
    assert "0.5x" in text and "4.0x" in text and "1e-08" in text
    assert "none agrees" in text
    old = {key: value for key, value in row.items() if key != "same_answer"}
    cells = docs_helper.cv_rst({"rows": [old]}).split("1.0e-01")[1]
    assert cells.split() == ["-", "-"] * 3


def test_cv_time_to_answer_table(docs_helper):
    answer = {
        "problem": "digits",
        "estimator": "SoftmaxRegressionCV",
        "sksoftmax_tol": 1e-4,
        "sksoftmax_seconds": 0.8,
        "sklearn_tol": 1e-10,
        "sklearn_seconds": 2.4,
        "speedup": 3.0,
    }
    text = docs_helper.cv_rst({"rows": [], "time_to_answer": [answer, None]})
    assert "Time to the converged answer" in text
    assert "0.80 s (tol 0.0001)" in text and "2.40 s (tol 1e-10)" in text
    assert "3.0x" in text
    assert "Time to the converged answer" not in docs_helper.cv_rst({"rows": []})


def test_wide_table_pairs_cells_with_the_reduction_alone(docs_helper):
    """Each cell's row carries its own A/B of the reduction; a cell nobody
    reached says so, and a cell without a run of ours is left out."""
    cell = {
        "problem": "expr4",
        "C": 1.0,
        "tol": 1e-4,
        "ours_time_s": 0.05,
        "speedup": 7.5,
        "speedup_peer": "newton-cg (1 thread)",
        "speedup_peer_tol": 1e-10,
        "speedup_peer_time_s": 0.375,
        "reached": True,
        "gap_vs_lbfgs": -3e-3,
    }
    other = {**cell, "C": 100.0, "reached": False}
    missing = {**cell, "C": 0.01, "ours_time_s": None}
    pair = {
        "problem": "expr4",
        "C": 1.0,
        "tol": 1e-4,
        "speedup": 4.25,
        "objective_difference": 2e-11,
    }
    text = docs_helper.wide_rst(
        {"cells": [cell, other, missing], "reduction_ab": [pair]}
    )
    assert "newton-cg (1 thread) at tol=1e-10, 0.38 s" in text
    assert "4.25x (+2e-11)" in text
    assert "none reached ours" in text
    assert text.count("expr4") == 2


def test_small_table_shows_milliseconds_and_speed_ups_below_one(docs_helper):
    """Fits of milliseconds: times in ms and speed-ups to two decimals (a
    peer faster than us shows as below 1x); cells without a run of ours are
    left out."""
    cell = {
        "problem": "iris",
        "C": 1.0,
        "tol": 1e-4,
        "ours_time_s": 0.0058,
        "speedup": 0.586,
        "speedup_peer": "newton-cholesky (1 thread)",
        "speedup_peer_tol": 1e-6,
        "speedup_peer_time_s": 0.0034,
        "reached": True,
        "gap_vs_lbfgs": -1.1e-6,
    }
    missing = {**cell, "C": 100.0, "ours_time_s": None}
    text = docs_helper.small_rst({"cells": [cell, missing]})
    assert "5.8 ms" in text
    assert "newton-cholesky (1 thread) at tol=1e-06, 3.4 ms" in text
    assert "0.59x" in text
    assert text.count("iris") == 1
