"""Build-time helpers for the sksoftmax documentation (a local Sphinx extension).

Three jobs, each small enough to read in one sitting:

* :func:`gallery_argv` gives every sphinx-gallery example its command line.
* The API page stays buildable while the package grows: ``api.rst`` lists
  every public object, and an entry that cannot be imported (yet) is dropped
  from the page, with a note, instead of failing the ``-W`` build.
* Generated includes: the benchmark tables (rendered by
  ``benchmarks/report.py`` from ``benchmarks/results/latest.json``) and the
  estimator comparison tables of the user guide are written to
  ``docs/generated/*.inc`` before Sphinx reads any page, so the numbers on
  the site always come from the current code and results.

Nothing here imports Sphinx at module level, so the tests can import it
without the ``docs`` extra installed.
"""

import functools
import importlib
import importlib.util
import json
import math
import os
import re
import shutil
from pathlib import Path

DOCS_DIR = Path(__file__).resolve().parents[1]
REPO_ROOT = DOCS_DIR.parent
GENERATED_DIR = DOCS_DIR / "generated"
# Where benchmarks/run.py writes; SKSOFTMAX_BENCHMARK_RESULTS points the build
# at another --output-dir, to preview a run without touching the committed one.
BENCHMARK_DIR = Path(
    os.environ.get("SKSOFTMAX_BENCHMARK_RESULTS", REPO_ROOT / "benchmarks" / "results")
)
BENCHMARK_JSON = BENCHMARK_DIR / "latest.json"
BENCHMARK_PNG = BENCHMARK_DIR / "speedup.png"

# The API page, and the (git-ignored) copy of it autosummary reads when some
# entries must be dropped; it sits next to api.rst so that ``:toctree:``
# paths resolve the same way for both.
API_PAGE = "api.rst"
API_FILTERED = "_api_available.rst"
# The filtered API page text of the current build (None: serve api.rst as is).
_API_REPLACEMENT = {"text": None}


# -- sphinx-gallery ------------------------------------------------------------


def gallery_argv(gallery_conf, script_vars):
    """Command-line arguments of an example run by sphinx-gallery.

    Examples run at their default (full) size, like ``python examples/x.py``,
    so the gallery shows the same numbers as the command line. The only
    argument sets where the example saves its own PNG: next to the generated
    page in ``docs/auto_examples`` (the gallery shows the figure through its
    scraper), so the build never writes into the source tree and the example
    does not need ``__file__``, which sphinx-gallery does not define.
    """
    target = Path(script_vars["target_file"])
    return ["--output", str(target.with_suffix(".png"))]


# -- API page ------------------------------------------------------------------

_MODULE_DIRECTIVES = ("module", "py:module", "currentmodule", "py:currentmodule")
_DIRECTIVE = re.compile(r"^\.\. (?P<name>[\w:-]+)::\s*(?P<arg>.*)$")


def autosummary_blocks(lines):
    """Locate the autosummary directives of an rst page.

    Parameters
    ----------
    lines : list of str
        The page, one line per entry, without line endings.

    Returns
    -------
    blocks : list of dict
        Per directive: ``start`` and ``stop`` (line range of the whole
        directive), ``module`` (the current module) and ``entries``, a list of
        ``(line_index, dotted_name)``.
    """
    blocks, module, i = [], None, 0
    while i < len(lines):
        match = _DIRECTIVE.match(lines[i])
        if match and match["name"] in _MODULE_DIRECTIVES:
            module = match["arg"].strip()
        if not (match and match["name"] == "autosummary"):
            i += 1
            continue
        start, entries = i, []
        i += 1
        # The directive's body: indented or blank lines.
        while i < len(lines) and (not lines[i].strip() or lines[i][0].isspace()):
            item = lines[i].strip()
            if item and not item.startswith(":") and not item.startswith(".."):
                name = item.lstrip("~")
                entries.append((i, f"{module}.{name}" if module else name))
            i += 1
        blocks.append({"start": start, "stop": i, "module": module, "entries": entries})
    return blocks


def is_importable(dotted_name):
    """Whether ``package.module.attribute`` can be imported and looked up."""
    parts = dotted_name.split(".")
    for split in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        try:
            for attribute in parts[split:]:
                obj = getattr(obj, attribute)
        except AttributeError:
            return False
        return True
    return False


def filter_api_page(text, missing):
    """Drop the ``missing`` autosummary entries from an API page.

    An autosummary directive left empty is removed entirely, and a note that
    names the dropped objects is inserted after the page's introduction
    (before its first module directive).

    Parameters
    ----------
    text : str
        The page.
    missing : collection of str
        Fully qualified names to drop.

    Returns
    -------
    text : str
        The page without those entries (unchanged if ``missing`` is empty).
    """
    if not missing:
        return text
    lines = text.splitlines()
    drop = set()
    for block in autosummary_blocks(lines):
        gone = [index for index, name in block["entries"] if name in missing]
        if len(gone) == len(block["entries"]):
            drop.update(range(block["start"], block["stop"]))
        else:
            drop.update(gone)
    kept = [line for index, line in enumerate(lines) if index not in drop]
    names = ", ".join(f"``{name}``" for name in sorted(missing))
    note = [
        "",
        ".. note::",
        "",
        f"   Not importable in this build, so not listed below: {names}.",
        "",
    ]
    # The note goes after the title and introduction, before the first
    # (current)module directive.
    first = next(
        (
            i
            for i, line in enumerate(kept)
            if (match := _DIRECTIVE.match(line)) and match["name"] in _MODULE_DIRECTIVES
        ),
        len(kept),
    )
    kept[first:first] = note
    return "\n".join(kept) + "\n"


def prepare_api_page(srcdir):
    """Decide which file autosummary scans, and what the API page says.

    Returns
    -------
    generate : list of str
        The value for ``autosummary_generate``.
    replacement : str or None
        The filtered page text, or None when every entry imports.
    missing : list of str
        The entries that do not import.
    """
    srcdir = Path(srcdir)
    text = (srcdir / API_PAGE).read_text(encoding="utf-8")
    names = [
        name
        for block in autosummary_blocks(text.splitlines())
        for _, name in block["entries"]
    ]
    missing = sorted(name for name in names if not is_importable(name))
    filtered_path = srcdir / API_FILTERED
    if not missing:
        filtered_path.unlink(missing_ok=True)
        return [API_PAGE], None, []
    replacement = filter_api_page(text, set(missing))
    filtered_path.write_text(replacement, encoding="utf-8")
    return [API_FILTERED], replacement, missing


# -- rst helpers ---------------------------------------------------------------


def _list_table(header, rows, widths=None, caption=""):
    """An rst ``list-table`` (every cell is inline text)."""
    out = [f".. list-table:: {caption}".rstrip(), "   :header-rows: 1"]
    if widths:
        out.append("   :widths: " + " ".join(str(w) for w in widths))
    out.append("")
    for row in [header, *rows]:
        cells = [str(cell) if str(cell) else " " for cell in row]
        out.append(f"   * - {cells[0]}")
        out += [f"     - {cell}" for cell in cells[1:]]
    return out + [""]


def _number(value, fmt, missing="n/a"):
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return missing
    return format(value, fmt)


def _write(path, text):
    """Write ``text`` only when it changed, so Sphinx does not rebuild needlessly."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


# -- benchmark include ---------------------------------------------------------


@functools.cache
def _benchmark_report():
    """``benchmarks/report.py``, loaded by path (it is not part of the package).

    The benchmark's report module renders the tables, so the docs page, the
    README table and the benchmark's own output share one implementation.
    Returns None if it cannot be loaded.
    """
    path = REPO_ROOT / "benchmarks" / "report.py"
    spec = importlib.util.spec_from_file_location("sksoftmax_benchmark_report", path)
    if spec is None or not path.exists():
        return None
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception:  # a broken report module must not break the docs build
        return None
    return module


def benchmark_rst(results, image=None):
    """The performance page's generated part, from a ``latest.json`` payload.

    The text comes from ``benchmarks/report.py`` (:func:`docs_rst`): a summary,
    the chart, then per problem three narrow tables (time and speed-up; the
    scikit-learn solvers with default and one BLAS thread; objective,
    iterations, evaluations and criteria), with notes as footnotes.

    Parameters
    ----------
    results : dict or None
        The parsed JSON written by ``benchmarks/run.py``; None when there is
        no result file.
    image : str or None
        Path of the speed-up chart as the page should reference it, or None.

    Returns
    -------
    rst : str
    """
    report = _benchmark_report()
    if report is None:
        return "\n".join(
            [
                ".. note::",
                "",
                "   The benchmark report module ``benchmarks/report.py`` could not",
                "   be loaded, so the results are not shown in this build.",
                "",
            ]
        )
    return report.docs_rst(results, image)


def write_benchmark_include(
    json_path=BENCHMARK_JSON, png_path=BENCHMARK_PNG, out_dir=GENERATED_DIR
):
    """Write ``benchmarks.inc`` into ``out_dir`` and copy the chart next to it.

    The page includes it as ``/generated/benchmarks.inc``.

    Returns
    -------
    problem : str or None
        A message if the result file exists but cannot be read.
    """
    problem, results = None, None
    if json_path.exists():
        try:
            results = json.loads(json_path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            problem = f"cannot read {json_path}: {exc}"
    image = None
    copied = out_dir / "speedup.png"
    if png_path.exists():
        out_dir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(png_path, copied)
        image = "/generated/speedup.png"
    else:
        copied.unlink(missing_ok=True)
    _write(out_dir / "benchmarks.inc", benchmark_rst(results, image))
    return problem


# -- the penalty and cross-validation benchmarks ---------------------------------


def penalty_rst(results):
    """Table of ``benchmarks/penalty_bench.py``'s results (L1 and elastic
    net against saga and skglm at the same objective)."""
    rows = []
    for row in results.get("rows", []):
        skglm = "-"
        if "skglm_seconds" in row:
            ratio = row["skglm_seconds"] / row["sksoftmax_seconds"]
            skglm = f"{row['skglm_seconds']:.3f} s ({ratio:.1f}x)"
        rows.append(
            [
                row["problem"],
                row["estimator"],
                f"{row['C']:g}",
                f"{row['l1_ratio']:g}",
                f"{row['sksoftmax_seconds']:.3f} s",
                f"{row['saga_seconds']:.3f} s (tol {row['saga_tol']:g})",
                f"{row['speedup']:.1f}x",
                skglm,
                f"{row['sksoftmax_gap']:.1e} / {row['saga_gap']:.1e}",
            ]
        )
    header = [
        "problem",
        "estimator",
        "C",
        "l1_ratio",
        "sksoftmax",
        "saga at our objective",
        "vs saga",
        "skglm (vs skglm)",
        "objective gap (ours / saga)",
    ]
    return "\n".join(_list_table(header, rows, caption="L1 penalties")) + "\n"


def _same_answer_cells(row):
    """The same-answer comparison of a cv.json row: scikit-learn's tol,
    seconds and our speed-up (dashes when no scikit-learn run agreed, or for
    results written before the comparison existed)."""
    same = row.get("same_answer")
    if not same:
        return ["none agrees" if "same_answer" in row else "-", "-", "-"]
    return [
        f"{same['sklearn_tol']:g}",
        f"{same['sklearn_seconds']:.2f} s",
        f"{same['speedup']:.1f}x",
    ]


def _seconds_at_tol(answer, side):
    return f"{answer[side + '_seconds']:.2f} s (tol {answer[side + '_tol']:g})"


def cv_rst(results):
    """Table of ``benchmarks/cv_bench.py``'s results (the cross-validated
    path against LogisticRegressionCV on the same folds and Cs): at the same
    tol, and at the same answer (scikit-learn's fastest tol whose chosen C
    and scores agree with ours)."""
    rows = [
        [
            row["problem"],
            row["estimator"],
            f"{row['tol']:g}",
            f"{row['sksoftmax_seconds']:.2f} s",
            f"{row['sklearn_seconds']:.2f} s",
            f"{row['speedup']:.1f}x",
            "yes" if row["same_C"] else "no",
            f"{row['max_score_difference']:.1e}",
            *_same_answer_cells(row),
        ]
        for row in results.get("rows", [])
    ]
    header = [
        "problem",
        "estimator",
        "tol",
        "sksoftmax",
        "LogisticRegressionCV, same tol",
        "speed-up, same tol",
        "same C",
        "largest score difference",
        "same answer: scikit-learn tol",
        "LogisticRegressionCV, same answer",
        "speed-up, same answer",
    ]
    text = "\n".join(_list_table(header, rows, caption="Cross-validated path"))
    answers = [answer for answer in results.get("time_to_answer", []) if answer]
    if answers:
        answer_rows = [
            [
                answer["problem"],
                _seconds_at_tol(answer, "sksoftmax"),
                _seconds_at_tol(answer, "sklearn"),
                f"{answer['speedup']:.1f}x",
            ]
            for answer in answers
        ]
        answer_header = ["problem", "sksoftmax", "LogisticRegressionCV", "speed-up"]
        caption = "Time to the converged answer (each side's fastest agreeing run)"
        text += "\n\n" + "\n".join(
            _list_table(answer_header, answer_rows, caption=caption)
        )
    return text + "\n"


def _cell_columns(cell, milliseconds=False):
    """A side benchmark's cell (from ``report.cell_verdicts``) as table
    columns: problem, C, tol, our time, the fastest scikit-learn run that
    reaches our objective, the speed-up and the objective gap to lbfgs at
    the same tol. ``milliseconds`` for fits of a few ms (times in ms, the
    speed-up to two decimals: below 1 matters there)."""

    def time(seconds, digits):
        if milliseconds:
            return f"{seconds * 1e3:.1f} ms"
        return f"{seconds:.{digits}f} s"

    report = _benchmark_report()
    peer = "n/a" if report is None else report.peer_text(cell, lambda s: time(s, 2))
    return [
        cell["problem"],
        f"{cell['C']:g}",
        f"{cell['tol']:g}",
        time(cell["ours_time_s"], 3),
        peer,
        _number(cell.get("speedup"), ".2f" if milliseconds else ".1f") + "x",
        _number(cell.get("gap_vs_lbfgs"), ".0e"),
    ]


SIDE_HEADER = [
    "problem",
    "C",
    "tol",
    "sksoftmax",
    "fastest scikit-learn at our objective",
    "speed-up",
    "gap vs lbfgs",
]


def wide_rst(results):
    """Table of ``benchmarks/wide_bench.py``'s results: per cell, our time,
    the fastest scikit-learn run that reaches our objective, the objective
    gap to lbfgs at the same tol, and what the row-space reduction alone
    buys (our fit with it against our fit without it)."""
    pairs = {
        (pair["problem"], pair["C"], pair["tol"]): pair
        for pair in results.get("reduction_ab", [])
    }
    rows = []
    for cell in results.get("cells", []):
        if cell.get("ours_time_s") is None:
            continue
        pair = pairs.get((cell["problem"], cell["C"], cell["tol"]))
        rows.append(
            _cell_columns(cell)
            + [
                "-"
                if pair is None
                else f"{pair['speedup']:.2f}x ({pair['objective_difference']:+.0e})"
            ]
        )
    header = SIDE_HEADER + ["reduction alone (objective change)"]
    return "\n".join(_list_table(header, rows, caption="Wide data")) + "\n"


def small_rst(results):
    """Table of ``benchmarks/small_bench.py``'s results: per cell, our time,
    the fastest scikit-learn run that reaches our objective and the
    objective gap to lbfgs at the same tol, in milliseconds."""
    rows = [
        _cell_columns(cell, milliseconds=True)
        for cell in results.get("cells", [])
        if cell.get("ours_time_s") is not None
    ]
    return "\n".join(_list_table(SIDE_HEADER, rows, caption="Small data")) + "\n"


def write_side_benchmark_includes(results_dir=BENCHMARK_DIR, out_dir=GENERATED_DIR):
    """Write ``penalty_benchmark.inc``, ``cv_benchmark.inc``,
    ``wide_benchmark.inc`` and ``small_benchmark.inc`` from
    ``penalty.json``, ``cv.json``, ``wide.json`` and ``small.json`` in
    ``results_dir`` (a note when a result file is missing or unreadable)."""
    for path, render, name in (
        (results_dir / "penalty.json", penalty_rst, "penalty_benchmark.inc"),
        (results_dir / "cv.json", cv_rst, "cv_benchmark.inc"),
        (results_dir / "wide.json", wide_rst, "wide_benchmark.inc"),
        (results_dir / "small.json", small_rst, "small_benchmark.inc"),
    ):
        try:
            text = render(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError) as exc:
            text = f".. note::\n\n   No results to show ({path.name}: {exc}).\n"
        _write(out_dir / name, text)


# -- comparison tables of the user guide ----------------------------------------

# The tables that examples/compare_music.py and examples/compare_scenes.py
# compute at their default size: (script, [(caption, name of the table)]).
COMPARISONS = {
    "music": (
        "compare_music.py",
        [("Genres (exclusive)", "genre_table"), ("Tags (overlapping)", "tag_table")],
    ),
    "scenes": (
        "compare_scenes.py",
        [
            ("Scene types (exclusive)", "scene_table"),
            ("Attributes (overlapping)", "attribute_table"),
        ],
    ),
}


def comparison_rst(table, caption=""):
    """An rst table from a comparison table of an example (fit times left out)."""
    table = table.drop(columns=["fit_time"], errors="ignore")
    rows = [
        [model] + [_number(float(value), ".3f", missing="") for value in values]
        for model, values in table.iterrows()
    ]
    header = ["Model"] + [f"``{metric}``" for metric in table.columns]
    return "\n".join(_list_table(header, rows, caption=caption))


def run_example(script, argv=()):
    """Run ``examples/<script>`` in this process (output silenced); its namespace."""
    import contextlib
    import io
    import runpy
    import sys

    saved = sys.argv
    sys.argv = [script, "--no-plot", *argv]
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            return runpy.run_path(str(REPO_ROOT / "examples" / script))
    finally:
        sys.argv = saved


def write_comparison_includes(out_dir=GENERATED_DIR, argv=()):
    """Write ``comparison_<name>.inc`` into ``out_dir`` for each example.

    The tables are the ones the example computes when it runs (``argv`` is
    passed on, e.g. ``["--quick"]``); an example that fails gets a note
    instead, naming the error.

    Returns
    -------
    problems : list of str
        One line per example that failed (the build turns each into a
        warning, so a ``-W`` build fails).
    """
    problems = []
    for name, (script, tables) in COMPARISONS.items():
        try:
            namespace = run_example(script, argv)
            text = "\n".join(
                comparison_rst(namespace[table], caption) for caption, table in tables
            )
        except Exception as exc:
            problems.append(f"examples/{script} failed: {exc!r}")
            text = (
                ".. note::\n\n   This table is generated when the documentation "
                f"is built; it is not available in this build ({exc!r}).\n"
            )
        _write(out_dir / f"comparison_{name}.inc", text)
    return problems


# -- Sphinx wiring ---------------------------------------------------------------


def _on_config_inited(app, config):
    """Before any page is read: API page filter and generated includes."""
    from sphinx.util import logging

    logger = logging.getLogger(__name__)
    generate, replacement, missing = prepare_api_page(app.srcdir)
    config.autosummary_generate = generate
    _API_REPLACEMENT["text"] = replacement
    if missing:
        logger.info("sksoftmax_docs: not in the API page (not importable): %s", missing)
    problem = write_benchmark_include()
    if problem:
        logger.warning("sksoftmax_docs: %s", problem)
    write_side_benchmark_includes()
    for problem in write_comparison_includes():
        logger.warning("sksoftmax_docs: %s", problem)


def _on_source_read(app, docname, source):
    """Serve the filtered API page when some entries do not import."""
    replacement = _API_REPLACEMENT["text"]
    if docname == API_PAGE.removesuffix(".rst") and replacement is not None:
        source[0] = replacement


def setup(app):
    app.connect("config-inited", _on_config_inited)
    app.connect("source-read", _on_source_read)
    return {"version": "1.0", "parallel_read_safe": True}
