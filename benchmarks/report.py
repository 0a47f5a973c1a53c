"""Verdicts, tables, JSON, chart and the generated README / docs tables.

Everything here works on the plain rows stored in ``results/latest.json``
(lists of dicts), so a report can be rebuilt from the file alone::

    python benchmarks/report.py                  # print the report of latest.json
    python benchmarks/report.py --update-readme  # rewrite README's table

The documentation build imports this module (``docs/_ext/sksoftmax_docs.py``)
for :func:`docs_rst`, so it imports only the standard library at module level.

Criteria, per cell (a problem at one ``C`` and one ``tol``):

(i) ``objective``: our objective is not above scikit-learn lbfgs's at the same
    tol (the lower of its two thread settings), with ``SLACK`` relative slack;
(ii) ``monotone``: a tighter tol never gives us a higher objective than a
    looser one (same slack);
(iii) ``speed``: our time against the fastest scikit-learn variant (any
    solver, any thread setting, any tol of the grid) whose objective reaches
    ours (within ``SLACK`` relative, or lower): what a scikit-learn user pays
    for the same model. ``speedup_same_tol`` is against the fastest variant at
    the same tol, whatever its objective. If no variant reaches it, the speed-up is
    against the fastest variant of all and the cell is flagged
    ``reached=False``. One-vs-rest cells must reach 2x, the others 1x;
(iv) ``evaluations``: at the tightest tol, our loss-and-gradient evaluations
    (a Hessian-vector product counts as one) are not more than lbfgs's.
"""

import argparse
import json
import math
import os
import re
import statistics
import sys
from pathlib import Path

SLACK = 1e-9
TARGET_MEDIAN = 5.0
TARGET_MIN = 1.0
TARGET_OVR = 2.0
RESULTS_DIR = Path(__file__).resolve().parent / "results"
README = Path(__file__).resolve().parents[1] / "README.md"
README_START = "<!-- perf-table:start -->"
README_END = "<!-- perf-table:end -->"
PEERS = ("lbfgs", "newton-cg", "newton-cholesky")
# The per-method evaluation counts of harness.count_evaluations.
_COUNTED_METHODS = (
    "loss",
    "gradient",
    "loss_gradient",
    "gradient_hessian_product",
    "gradient_hessian",
    "hessp",
)
FORMAT = 2


# -- verdicts ----------------------------------------------------------------------


def _reaches(value, target, slack=SLACK):
    """``value`` is at most ``target`` up to ``slack`` relative."""
    return value <= target + slack * abs(target)


def _cell_key(row):
    return row["problem"], float(row["C"]), float(row["tol"])


def _ok(row):
    return row.get("status") == "ok" and row.get("time_s") is not None


def _variant(row):
    threads = "1 thread" if str(row.get("threads")) == "1" else "default threads"
    return f"{row['solver']} ({threads})"


def add_gaps(rows):
    """Set each row's ``rel_gap``: its objective relative to the cell's best."""
    best = {}
    for row in rows:
        if row.get("objective") is not None:
            key = _cell_key(row)
            best[key] = min(best.get(key, math.inf), row["objective"])
    for row in rows:
        value, key = row.get("objective"), _cell_key(row)
        row["rel_gap"] = (
            None if value is None else (value - best[key]) / max(abs(best[key]), 1e-300)
        )
    return rows


def cell_verdicts(rows, evaluations=(), slack=SLACK):
    """The per-cell verdicts from result rows.

    Parameters
    ----------
    rows : list of dict
        Result rows (``problem``, ``kind``, ``C``, ``tol``, ``solver``,
        ``threads``, ``ours``, ``status``, ``time_s``, ``objective``, ``iters``,
        ``n_evaluations``; see :func:`harness.run_cell`).
    evaluations : list of dict
        Counted scikit-learn evaluations (``problem``, ``C``, ``tol``,
        ``solver``, ``total``).
    slack : float
        Relative slack of the objective comparisons.

    Returns
    -------
    cells : list of dict
        One per cell, in the order of first appearance.
    """
    by_cell = {}
    for row in rows:
        by_cell.setdefault(_cell_key(row), []).append(row)
    counted = {
        (_cell_key(e), e["solver"]): e.get("total")
        for e in evaluations
        if e.get("total") is not None
    }
    tightest = {}
    peer_runs = {}
    for problem, C, tol in by_cell:
        tightest[problem, C] = min(tightest.get((problem, C), math.inf), tol)
    for row in rows:
        if not row.get("ours") and _ok(row) and row.get("objective") is not None:
            peer_runs.setdefault((row["problem"], row["C"]), []).append(row)

    cells = []
    for key, members in by_cell.items():
        problem, C, tol = key
        mine_rows = [r for r in members if r.get("ours")]
        ran = [r for r in mine_rows if _ok(r) and r.get("objective") is not None]
        # Our time: the faster thread setting (the same rule as for the peers);
        # our objective: the worse of our runs (the strict reading).
        ours = min(ran, key=lambda r: r["time_s"]) if ran else None
        peers = [r for r in members if not r.get("ours") and _ok(r)]
        cell = {
            "problem": problem,
            "kind": members[0].get("kind", "multiclass"),
            "C": C,
            "tol": tol,
            "ours_time_s": None,
            "ours_objective": None,
            "ours_iters": None,
            "repeats": max((len(r.get("times") or []) for r in members), default=0),
        }
        cells.append(cell)
        if ours is None:
            cell["status"] = mine_rows[0].get("status") if mine_rows else "missing"
            continue
        cell["status"] = "ok"
        mine = max(r["objective"] for r in ran)
        cell.update(
            ours_time_s=ours["time_s"],
            ours_variant=_variant(ours),
            ours_objective=mine,
            ours_iters=max(r.get("iters") or 0 for r in ran),
            ours_converged=all(r.get("converged") is not False for r in ran),
        )
        # (i) against lbfgs at the same tol
        lbfgs = [r for r in peers if r["solver"] == "lbfgs" and r.get("objective")]
        if lbfgs:
            reference = min(r["objective"] for r in lbfgs)
            cell["lbfgs_objective"] = reference
            cell["gap_vs_lbfgs"] = (mine - reference) / max(abs(reference), 1e-300)
            cell["objective_ok"] = _reaches(mine, reference, slack)
        else:
            cell["objective_ok"] = None
        # (iii) speed against the fastest variant that reaches our objective,
        # at any tol: a user who wants this model from scikit-learn has to
        # ask for the tol that gets there.
        timed = [r for r in peers if r.get("objective") is not None]
        reaching = [
            r for r in peer_runs[problem, C] if _reaches(r["objective"], mine, slack)
        ]
        pool = reaching or timed
        if pool:
            fastest = min(pool, key=lambda r: r["time_s"])
            cell["speedup"] = fastest["time_s"] / ours["time_s"]
            cell["speedup_peer"] = _variant(fastest)
            cell["speedup_peer_tol"] = fastest["tol"]
            cell["speedup_peer_time_s"] = fastest["time_s"]
            cell["reached"] = bool(reaching)
        if timed:
            # Against the fastest peer at the same tol, whatever its model.
            cell["speedup_same_tol"] = min(r["time_s"] for r in timed) / ours["time_s"]
            target = TARGET_OVR if cell["kind"] == "multilabel" else TARGET_MIN
            cell["speed_ok"] = cell["speedup"] >= target
        else:
            cell.update(speedup=None, reached=None, speed_ok=None)
        if lbfgs:
            cell["speedup_lbfgs"] = min(r["time_s"] for r in lbfgs) / ours["time_s"]
        # (iv) evaluations at the tightest tol
        if tol == tightest[problem, C]:
            theirs = counted.get((key, "lbfgs"))
            counts = [r["n_evaluations"] for r in ran if r.get("n_evaluations")]
            mine_evals = max(counts) if counts else None
            cell["evaluations"] = mine_evals
            cell["lbfgs_evaluations"] = theirs
            cell["evaluations_ok"] = (
                None if mine_evals is None or theirs is None else mine_evals <= theirs
            )
    # (ii) a tighter tol never gives a higher objective
    for cell in cells:
        if cell.get("ours_objective") is None:
            continue
        looser = [
            other["ours_objective"]
            for other in cells
            if other["problem"] == cell["problem"]
            and other["C"] == cell["C"]
            and other["tol"] > cell["tol"]
            and other.get("ours_objective") is not None
        ]
        cell["monotone_ok"] = (
            _reaches(cell["ours_objective"], min(looser), slack) if looser else None
        )
    return cells


CRITERIA = (
    ("objective_ok", "(i) objective above lbfgs's"),
    ("monotone_ok", "(ii) tighter tol, higher objective"),
    ("speed_ok", "(iii) slower than the target (1x; 2x one-vs-rest)"),
    ("evaluations_ok", "(iv) more evaluations than lbfgs at the tightest tol"),
)


def summarize(cells):
    """Medians, minima and the number of cells failing each criterion."""
    timed = [c for c in cells if c.get("speedup") is not None]
    speedups = [c["speedup"] for c in timed]
    multilabel = [c["speedup"] for c in timed if c["kind"] == "multilabel"]
    versus_lbfgs = [c["speedup_lbfgs"] for c in cells if c.get("speedup_lbfgs")]
    summary = {
        "cells": len(cells),
        "cells_timed": len(timed),
        "cells_unreached": sum(1 for c in timed if not c["reached"]),
        "cells_failed_to_run": sum(1 for c in cells if c.get("status") != "ok"),
        "median_speedup": statistics.median(speedups) if speedups else None,
        "min_speedup": min(speedups) if speedups else None,
        "min_speedup_cell": _cell_name(min(timed, key=lambda c: c["speedup"]))
        if timed
        else None,
        "ovr_min_speedup": min(multilabel) if multilabel else None,
        "median_speedup_lbfgs": statistics.median(versus_lbfgs)
        if versus_lbfgs
        else None,
        "failures": {},
        "unknown": {},
    }
    for key, _ in CRITERIA:
        summary["failures"][key] = sum(1 for c in cells if c.get(key) is False)
        # None means "not applicable" for (ii) (the loosest tol) and (iii)
        # (no peer ran), but "not measured" for (i) and (iv).
        if key in ("objective_ok", "evaluations_ok"):
            summary["unknown"][key] = sum(
                1 for c in cells if key in c and c.get(key) is None
            )
    median, low = summary["median_speedup"], summary["min_speedup"]
    summary["targets"] = {
        "median_speedup_at_least_5x": None if median is None else median >= 5,
        "every_cell_at_least_1x": None if low is None else low >= 1,
        "ovr_at_least_2x": None if not multilabel else min(multilabel) >= 2,
        "no_cell_fails": not any(summary["failures"].values()),
    }
    return summary


def _cell_name(cell):
    return f"{cell['problem']} C={cell['C']:g} tol={cell['tol']:g}"


# -- text report -------------------------------------------------------------------


def _fmt(value, spec, missing="-"):
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return missing
    return format(value, spec)


def _times(value):
    """``1.23x``, or ``n/a``."""
    return "n/a" if value is None else f"{value:.2f}x"


def _mark(flag):
    return {True: "ok", False: "FAIL", None: "-"}[flag]


def peer_text(cell, seconds_text=lambda seconds: f"{seconds * 1e3:.1f} ms"):
    """The fastest scikit-learn run that reached our objective, as a table
    cell (solver, tol and ``seconds_text`` of its time), or "none reached
    ours". The side benchmarks' tables and the docs' share it."""
    if not (cell.get("speedup_peer") and cell.get("reached")):
        return "none reached ours"
    time_text = seconds_text(cell["speedup_peer_time_s"])
    return f"{cell['speedup_peer']} at tol={cell['speedup_peer_tol']:g}, {time_text}"


def format_cell(cell, rows, evaluations=()):
    """One cell as text: every variant, then its verdicts."""
    lines = [
        f"{_cell_name(cell)}  ({cell['repeats']} repeat(s); times are medians)",
    ]
    members = [
        r for r in rows if _cell_key(r) == (cell["problem"], cell["C"], cell["tol"])
    ]
    for row in members:
        times = ", ".join(f"{t:.3f}" for t in row.get("times") or [])
        status = "" if row.get("status") == "ok" else f"  [{row['status']}]"
        conv = {True: "", False: " NOT CONVERGED", None: ""}[row.get("converged")]
        evals = f" evals={row['n_evaluations']}" if row.get("n_evaluations") else ""
        lines.append(
            f"  {_variant(row):<34} {_fmt(row.get('time_s'), '8.3f', '     n/a')} s"
            f"  iters={_fmt(row.get('iters'), 'd')}"
            f"  obj={_fmt(row.get('objective'), '.12g')}"
            f"  gap={_fmt(row.get('rel_gap'), '.1e')}{evals}{conv}{status}"
            + (f"  [{times}]" if len(row.get("times") or []) > 1 else "")
        )
    for e in evaluations:
        if (e["problem"], float(e["C"]), float(e["tol"])) == (
            cell["problem"],
            cell["C"],
            cell["tol"],
        ):
            detail = ", ".join(
                f"{k}={v}" for k, v in e.items() if k not in ("problem", "C", "tol")
            )
            lines.append(f"  counted {e['solver']}: {detail}")
    if cell.get("status") != "ok":
        lines.append(f"  verdict: sksoftmax did not run ({cell.get('status')})")
        return "\n".join(lines)
    flag = "" if cell.get("reached") else " (NO peer reaches our objective)"
    lines.append(
        f"  verdict: (i) {_mark(cell.get('objective_ok'))}"
        f" gap vs lbfgs {_fmt(cell.get('gap_vs_lbfgs'), '+.1e')}"
        f" | (ii) {_mark(cell.get('monotone_ok'))}"
        f" | (iii) {_mark(cell.get('speed_ok'))}"
        f" {_fmt(cell.get('speedup'), '.2f')}x vs {cell.get('speedup_peer')}{flag},"
        f" {_fmt(cell.get('speedup_lbfgs'), '.2f')}x vs lbfgs"
        + (
            f" | (iv) {_mark(cell.get('evaluations_ok'))}"
            f" {cell.get('evaluations')} vs {cell.get('lbfgs_evaluations')}"
            if "evaluations_ok" in cell
            else ""
        )
    )
    return "\n".join(lines)


def format_summary(summary):
    s = summary
    lines = [
        f"cells: {s['cells']} ({s['cells_timed']} timed, {s['cells_unreached']} where "
        "no scikit-learn variant reaches our objective: speed-up then vs the "
        "fastest variant)",
        f"median speed-up vs the fastest peer reaching our objective: "
        f"{_fmt(s['median_speedup'], '.2f')}x (target >= {TARGET_MEDIAN:g}x)",
        f"lowest speed-up: {_fmt(s['min_speedup'], '.2f')}x at {s['min_speedup_cell']}"
        f" (target >= {TARGET_MIN:g}x)",
        f"one-vs-rest lowest speed-up: {_fmt(s['ovr_min_speedup'], '.2f')}x "
        f"(target >= {TARGET_OVR:g}x)",
        f"median speed-up vs lbfgs (best thread setting): "
        f"{_fmt(s['median_speedup_lbfgs'], '.2f')}x",
    ]
    for key, text in CRITERIA:
        unknown = s["unknown"].get(key, 0)
        lines.append(
            f"cells failing {text}: {s['failures'][key]}"
            + (f" ({unknown} unknown)" if unknown else "")
        )
    return "\n".join(lines)


def format_memory(memory):
    lines = ["peak traced memory of one untimed fit (tracemalloc), MiB:"]
    for m in memory:
        lines.append(
            f"  {m['problem']:<12} C={m['C']:g} tol={m['tol']:g}  X {m['data_mb']:8.1f}"
            + "".join(
                f"  {k} {_fmt(v, '8.1f')}"
                for k, v in m.items()
                if k not in ("problem", "C", "tol", "data_mb")
            )
        )
    return "\n".join(lines)


def format_report(results):
    rows, cells = results.get("results", []), results.get("cells", [])
    evaluations = results.get("evaluations", [])
    parts = [format_cell(cell, rows, evaluations) for cell in cells]
    if results.get("memory"):
        parts.append(format_memory(results["memory"]))
    if results.get("summary"):
        parts.append(format_summary(results["summary"]))
    return "\n\n".join(parts)


# -- JSON --------------------------------------------------------------------------


def _json_ready(value):
    """NaN -> None and numpy scalars -> Python, recursively."""
    if isinstance(value, dict):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_json(path, payload):
    """Write ``payload`` to ``path`` atomically (via a temporary file)."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(_json_ready(payload), indent=1) + "\n")
    os.replace(tmp, path)


def load(path=RESULTS_DIR / "latest.json"):
    """A results file, with its verdicts recomputed from its rows (so the
    report always applies this module's criteria)."""
    results = json.loads(Path(path).read_text(encoding="utf-8"))
    if results.get("results"):
        results["cells"] = cell_verdicts(
            results["results"], results.get("evaluations", ())
        )
        results["summary"] = summarize(results["cells"])
    return results


# -- chart -------------------------------------------------------------------------


def plot_speedups(cells, path):
    """Speed-up per cell (log scale), by problem; marker = tol, colour = C.

    Hollow markers: no scikit-learn variant reaches our objective (speed-up
    against the fastest variant). Returns False when nothing was plotted.
    """
    cells = [c for c in cells if c.get("speedup")]
    if not cells:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, NullFormatter

    problems = list(dict.fromkeys(c["problem"] for c in cells))
    Cs = sorted({c["C"] for c in cells})
    tols = sorted({c["tol"] for c in cells}, reverse=True)
    markers = dict(zip(tols, "o^s", strict=False))
    colours = dict(zip(Cs, ("tab:blue", "tab:orange", "tab:red"), strict=False))
    fig, ax = plt.subplots(figsize=(max(7.0, 0.8 * len(problems) + 3), 4.8))
    for c in cells:
        i = problems.index(c["problem"])
        dx = (Cs.index(c["C"]) - 1) * 0.22 + (tols.index(c["tol"]) - 1) * 0.07
        colour = colours.get(c["C"], "grey")
        ax.scatter(
            i + dx,
            c["speedup"],
            marker=markers.get(c["tol"], "o"),
            s=36,
            facecolors=colour if c.get("reached") else "none",
            edgecolors=colour,
        )
    for C, colour in colours.items():
        ax.scatter([], [], color=colour, marker="o", label=f"C={C:g}")
    for tol, marker in markers.items():
        ax.scatter([], [], color="black", marker=marker, label=f"tol={tol:g}")
    ax.scatter([], [], facecolors="none", edgecolors="black", label="no peer reaches")
    ax.axhline(1.0, color="black", linestyle="--", linewidth=1)
    ax.axhline(TARGET_MEDIAN, color="grey", linestyle=":", linewidth=1)
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}x"))
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set_xticks(range(len(problems)), problems, rotation=30, ha="right")
    ax.set_ylabel("fastest peer reaching our objective / sksoftmax")
    ax.set_title("Speed-up of sksoftmax per cell (above 1x: sksoftmax faster)")
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout()
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)
    os.replace(tmp, path)
    return True


# -- README table ------------------------------------------------------------------


def _by_problem(results):
    grouped = {}
    for cell in results.get("cells", []):
        grouped.setdefault(cell["problem"], []).append(cell)
    return grouped


def _failing(cells):
    parts = []
    for key, _ in CRITERIA:
        applicable = [c for c in cells if c.get(key) is not None]
        failed = sum(1 for c in applicable if c[key] is False)
        if failed:
            parts.append(f"{key.split('_')[0]} {failed}/{len(applicable)}")
    return ", ".join(parts) or "none"


def _shape(info):
    shape = info.get("shape") or []
    if len(shape) != 2:
        return ""
    unit = "labels" if info.get("kind") == "multilabel" else "K="
    n_out = info.get("n_outputs")
    out = f"{n_out} labels" if unit == "labels" else f"K={n_out}"
    sparse = " CSR" if info.get("sparse") else ""
    return f"{shape[0]:,} x {shape[1]:,}{sparse}, {out}"


def _repeats_phrase(results):
    """How many repeats a cell's median is of: the configured number (fewer
    for slow cells), and more for quick cells where the run gave them."""
    configured = results.get("config", {}).get("repeats", "?")
    counts = [row.get("repeats") or 0 for row in results.get("results", [])]
    most = max(counts, default=0)
    if isinstance(configured, int) and most > configured:
        return f"up to {configured} repeats ({most} for quick cells)"
    return f"up to {configured} repeats"


def readme_table(results):
    """The README's performance table (markdown), from a results payload."""
    machine, config = results.get("machine", {}), results.get("config", {})
    problems, summary = results.get("problems", {}), results.get("summary") or {}
    lines = [
        f"Generated by `python benchmarks/report.py --update-readme` from "
        f"`benchmarks/results/latest.json` ({machine.get('date', '')[:10]}, "
        f"sksoftmax {machine.get('sksoftmax', '?')} at "
        f"{(machine.get('git_commit') or '?')[:8]}, scikit-learn "
        f"{machine.get('sklearn', '?')}, {machine.get('usable_cpus', '?')} CPUs"
        + (f" ({machine['cpu_model']})" if machine.get("cpu_model") else "")
        + "; "
        f"C in {_list(config.get('C'))}, tol in {_list(config.get('tol'))}, "
        f"median of {_repeats_phrase(results)}"
        + (", **quick sizes**" if config.get("quick") else "")
        + "). Speed-up = time of the fastest scikit-learn solver (lbfgs, "
        "newton-cg, newton-cholesky; default or 1 BLAS thread; any tol of the "
        "grid) whose objective reaches ours, divided by our time.",
        "",
        "| problem | shape | speed-up, median (min) | vs lbfgs, median | "
        "criteria failed |",
        "|---|---|---:|---:|---|",
    ]
    for name, cells in _by_problem(results).items():
        speed = [c["speedup"] for c in cells if c.get("speedup")]
        lbfgs = [c["speedup_lbfgs"] for c in cells if c.get("speedup_lbfgs")]
        unreached = sum(1 for c in cells if c.get("reached") is False)
        star = f" ({unreached} unreached)" if unreached else ""
        lines.append(
            f"| {name} | {_shape(problems.get(name, {}))} | "
            + (
                f"{statistics.median(speed):.1f}x ({min(speed):.1f}x){star}"
                if speed
                else "n/a"
            )
            + f" | {f'{statistics.median(lbfgs):.1f}x' if lbfgs else 'n/a'}"
            f" | {_failing(cells)} |"
        )
    if not results.get("complete", True):
        missing = [
            name
            for name in config.get("problems", [])
            if name not in _by_problem(results)
        ]
        lines += ["", f"**Incomplete run**: no results for {', '.join(missing)}."]
    if summary:
        f = summary.get("failures", {})
        lines += [
            "",
            f"Over {summary.get('cells_timed')} cells: median speed-up "
            f"{_fmt(summary.get('median_speedup'), '.2f')}x (target 5x), lowest "
            f"{_fmt(summary.get('min_speedup'), '.2f')}x "
            f"({summary.get('min_speedup_cell')}),"
            f" one-vs-rest lowest {_times(summary.get('ovr_min_speedup'))} "
            f"(target 2x). Cells failing (i) objective above lbfgs's: "
            f"{f.get('objective_ok', 0)}; (ii) tighter tol, higher objective: "
            f"{f.get('monotone_ok', 0)}; (iii) speed: {f.get('speed_ok', 0)}; "
            f"(iv) more evaluations than lbfgs at tol=1e-10: "
            f"{f.get('evaluations_ok', 0)}"
            + (
                f" ({summary['unknown']['evaluations_ok']} unknown)"
                if summary.get("unknown", {}).get("evaluations_ok")
                else ""
            )
            + ".",
        ]
    return "\n".join(lines)


def _list(values):
    if values is None:
        return "?"
    if not isinstance(values, list):
        values = [values]
    return "{" + ", ".join(f"{v:g}" for v in values) + "}"


def update_readme(results, path=README):
    """Replace the text between the README's perf-table markers."""
    text = Path(path).read_text(encoding="utf-8")
    pattern = re.compile(
        re.escape(README_START) + r".*?" + re.escape(README_END), re.DOTALL
    )
    if not pattern.search(text):
        raise SystemExit(f"{path} has no {README_START} ... {README_END} markers")
    block = f"{README_START}\n{readme_table(results)}\n{README_END}"
    Path(path).write_text(pattern.sub(lambda _: block, text), encoding="utf-8")


# -- docs page ---------------------------------------------------------------------


def _list_table(header, rows, caption="", widths=None):
    out = [f".. list-table:: {caption}".rstrip(), "   :header-rows: 1"]
    if widths:
        out.append("   :widths: " + " ".join(str(w) for w in widths))
    out.append("")
    for row in [header, *rows]:
        cells = [str(cell) if str(cell) else " " for cell in row]
        out.append(f"   * - {cells[0]}")
        out += [f"     - {cell}" for cell in cells[1:]]
    return out + [""]


def _escape(text):
    """Make free text safe in rst."""
    return str(text).replace("\\", "\\\\").replace("*", "\\*").replace("`", "\\`")


class _Footnotes:
    """Numbered rst footnotes of one problem (labels unique on the page)."""

    def __init__(self, prefix):
        self.prefix = prefix
        self.texts = {}

    def ref(self, text):
        label = self.texts.setdefault(text, f"{self.prefix}-{len(self.texts) + 1}")
        return f" [#{label}]_"

    def rst(self):
        return [
            f".. [#{label}] {_escape(text)}" for text, label in self.texts.items()
        ] + [""]


def _seconds(value):
    if value is None:
        return "n/a"
    return f"{value:.3f}" if value < 10 else f"{value:.1f}"


def _variant_time(row, notes):
    """A variant's median time, with a footnote for anything unusual."""
    if row is None:
        return "n/a"
    if row.get("status") != "ok":
        return "--" + notes.ref(row["status"])
    text = _seconds(row.get("time_s"))
    if row.get("converged") is False:
        text += notes.ref("ConvergenceWarning raised (max_iter reached).")
    return text


def docs_rst(results, image=None):
    """The docs performance page's generated part, from a results payload."""
    if results is None:
        return "\n".join(
            [
                ".. note::",
                "",
                "   No benchmark results in this build:",
                "   ``benchmarks/results/latest.json`` does not exist. Run",
                "   ``python benchmarks/run.py`` and rebuild the documentation",
                "   to see the tables and the chart here.",
                "",
            ]
        )
    if results.get("format") != FORMAT or "cells" not in results:
        return "\n".join(
            [
                ".. note::",
                "",
                "   ``benchmarks/results/latest.json`` was written by an older",
                "   version of the benchmark. Run ``python benchmarks/run.py``",
                "   and rebuild the documentation.",
                "",
            ]
        )
    machine, config = results.get("machine", {}), results.get("config", {})
    facts = [
        ("Date", machine.get("date", "")[:10]),
        ("Platform", machine.get("platform")),
        ("Processor", machine.get("cpu_model") or "not recorded"),
        ("CPUs", machine.get("usable_cpus") or machine.get("cpu_count")),
        ("Python", machine.get("python")),
        ("NumPy / SciPy", f"{machine.get('numpy')} / {machine.get('scipy')}"),
        ("scikit-learn", machine.get("sklearn")),
        (
            "sksoftmax",
            f"{machine.get('sksoftmax')} ({(machine.get('git_commit') or '')[:8]})",
        ),
        (
            "Settings",
            f"C in {_list(config.get('C'))}, tol in {_list(config.get('tol'))}, "
            f"max_iter={config.get('max_iter')}, median of "
            f"{_repeats_phrase(results)}"
            + (", quick (small) sizes" if config.get("quick") else ""),
        ),
        ("Run time", f"{results.get('total_seconds', 0) / 60:.0f} min"),
    ]
    out = [f":{k}: {_escape(v)}" for k, v in facts if v not in (None, "")] + [""]
    out += _incomplete(results)
    summary = results.get("summary") or {}
    if summary:
        out += ["Summary", "-------", ""]
        out += [
            f"* Median speed-up over {summary.get('cells_timed')} cells: "
            f"**{_fmt(summary.get('median_speedup'), '.2f')}x** (target 5x); "
            f"lowest {_fmt(summary.get('min_speedup'), '.2f')}x "
            f"({_escape(summary.get('min_speedup_cell'))}); one-vs-rest lowest "
            f"{_times(summary.get('ovr_min_speedup'))} (target 2x).",
            f"* Median speed-up against lbfgs alone: "
            f"{_fmt(summary.get('median_speedup_lbfgs'), '.2f')}x.",
            f"* Cells where no scikit-learn solver reaches our objective "
            f"(speed-up then against the fastest one): "
            f"{summary.get('cells_unreached', 0)}.",
        ]
        failures = summary.get("failures", {})
        out += [
            f"* Cells failing {text}: {failures.get(key, 0)}." for key, text in CRITERIA
        ]
        out.append("")
    out += _micro_and_precision(results)
    if image:
        out += [
            f".. figure:: {image}",
            "   :alt: Speed-up of sksoftmax per cell and problem, log scale",
            "   :width: 100%",
            "",
            "   Speed-up per cell: the fastest scikit-learn solver whose objective",
            "   reaches ours, divided by our time (log scale). Hollow markers: no",
            "   solver reaches our objective.",
            "",
        ]
    problems = results.get("problems", {})
    rows = results.get("results", [])
    memory = {m["problem"]: m for m in results.get("memory", [])}
    evaluations = results.get("evaluations", [])
    for name, cells in _by_problem(results).items():
        out += _problem_rst(
            name,
            problems.get(name, {}),
            cells,
            rows,
            memory.get(name),
            evaluations,
            config.get("repeats"),
        )
    return "\n".join(out)


def _incomplete(results):
    """A warning when the run stopped before the end of its grid."""
    if results.get("complete", True):
        return []
    done = list(_by_problem(results))
    planned = results.get("config", {}).get("problems", [])
    missing = [name for name in planned if name not in done]
    return [
        ".. warning::",
        "",
        "   This run was stopped before the end of its grid"
        + (f": no results for {', '.join(missing)}." if missing else "."),
        "",
    ]


def _micro_and_precision(results):
    out = []
    micro = results.get("micro") or {}
    if micro.get("ratio_float64") is not None:
        out += [
            "One evaluation of the softmax loss and gradient costs "
            f"{micro['ratio_float64']:.2f} times its two matrix products alone in "
            f"float64 ({_fmt(micro.get('ratio_float32'), '.2f')} in float32; "
            f"target 1.5), on a {micro['shape'][0]:,} x {micro['shape'][1]} "
            f"problem with K={micro.get('n_classes')}, all rows in one block.",
            "",
        ]
    if micro.get("ratio_objective_float64") is not None:
        out += [
            "Evaluated as a fit evaluates it (the objective over its "
            "cache-sized row blocks, penalty included), it costs "
            f"{micro['ratio_objective_float64']:.2f} times the products in "
            f"float64 ({_fmt(micro.get('ratio_objective_float32'), '.2f')} "
            "in float32).",
            "",
        ]
    precision = results.get("precision") or {}
    if precision.get("float32_speedup") is not None:
        out += [
            f"Fitting ``{precision.get('problem')}`` as float32 takes "
            f"{_seconds(precision.get('fit_s_float32'))} s against "
            f"{_seconds(precision.get('fit_s_float64'))} s in float64 "
            f"({precision['float32_speedup']:.2f} times faster, the two alternating); "
            "the two models' probabilities differ by at most "
            f"{_fmt(precision.get('max_proba_gap'), '.1e')}.",
            "",
        ]
    return out


def _mib(value):
    return f"{value:.2g} MiB" if value < 10 else f"{value:,.0f} MiB"


def _criteria(cell):
    """``ok: i, ii; **fail: iii**`` for the criteria that apply to a cell."""
    numbers = dict(zip([k for k, _ in CRITERIA], ("i", "ii", "iii", "iv"), strict=True))
    passed = [numbers[k] for k in numbers if cell.get(k) is True]
    failed = [numbers[k] for k in numbers if cell.get(k) is False]
    parts = [f"ok: {', '.join(passed)}"] if passed else []
    parts += [f"**fail: {', '.join(failed)}**"] if failed else []
    return "; ".join(parts)


def _problem_rst(name, info, cells, rows, memory, evaluations, planned=None):
    notes = _Footnotes(re.sub(r"[^a-z0-9]", "", name.lower()))
    title = f"``{name}``" + (f": like {info['like']}" if info.get("like") else "")
    out = [title, "-" * len(title), ""]
    if info.get("description"):
        out += [_escape(info["description"]) + ".", ""]
    if memory:
        parts = [
            f"{k} {_mib(v)}"
            for k, v in memory.items()
            if k not in ("problem", "C", "tol", "data_mb") and v is not None
        ]
        out += [
            f"Peak traced memory of one fit at C={memory['C']:g}, "
            f"tol={memory['tol']:g} (X is {_mib(memory['data_mb'])}): "
            + ", ".join(parts)
            + ".",
            "",
        ]
    # Table 1: our time and the speed-up.
    speed_rows = []
    for c in cells:
        if c.get("status") != "ok":
            speed_rows.append(
                [
                    f"{c['C']:g}",
                    f"{c['tol']:g}",
                    "--" + notes.ref(c["status"]),
                    "",
                    "",
                    "",
                ]
            )
            continue
        ours = _seconds(c.get("ours_time_s"))
        if c.get("ours_converged") is False:
            ours += notes.ref("sksoftmax raised a ConvergenceWarning.")
        if planned and c.get("repeats") and c["repeats"] < planned:
            ours += notes.ref(
                f"Slow cell: median of {c['repeats']} repeat(s), not {planned}."
            )
        speed = f"{_fmt(c.get('speedup'), '.2f')}x" if c.get("speedup") else "n/a"
        if c.get("speed_ok") is False:
            speed = f"**{speed}**"
        if c.get("reached") is False:
            speed += notes.ref(
                "No scikit-learn solver reaches our objective here: speed-up "
                "against the fastest one."
            )
        speed_rows.append(
            [
                f"{c['C']:g}",
                f"{c['tol']:g}",
                ours,
                _escape(c.get("speedup_peer") or "n/a"),
                speed,
                f"{_fmt(c.get('speedup_lbfgs'), '.2f')}x",
            ]
        )
    out += _list_table(
        [
            "C",
            "tol",
            "sksoftmax, faster setting (s)",
            "fastest peer reaching it",
            "speed-up",
            "vs lbfgs",
        ],
        speed_rows,
        caption=f"{name}: time (median) and speed-up",
        widths=[8, 8, 14, 30, 12, 12],
    )
    # Table 2: every solver's times, default threads / 1 thread.
    index = {
        (r["solver"], str(r.get("threads")), float(r["C"]), float(r["tol"])): r
        for r in rows
        if r["problem"] == name
    }
    peer_rows = []
    for c in cells:
        line = [f"{c['C']:g}", f"{c['tol']:g}"]
        for peer in ("sksoftmax", *PEERS):
            default = index.get((peer, "default", c["C"], c["tol"]))
            single = index.get((peer, "1", c["C"], c["tol"]))
            if default and single and default["status"] == single["status"] != "ok":
                line.append("--" + notes.ref(default["status"]))
            else:
                line.append(
                    f"{_variant_time(default, notes)} / {_variant_time(single, notes)}"
                )
        peer_rows.append(line)
    out += _list_table(
        ["C", "tol", "sksoftmax", "lbfgs", "newton-cg", "newton-cholesky"],
        peer_rows,
        caption=f"{name}: seconds with default BLAS threads / 1 thread",
        widths=[8, 8, 17, 17, 17, 17],
    )
    # Table 3: objective, iterations, evaluations, verdicts.
    counted = {
        (e["solver"], float(e["C"]), float(e["tol"])): e
        for e in evaluations
        if e["problem"] == name
    }
    quality_rows = []
    for c in cells:
        lbfgs_iters = [
            index[k].get("iters")
            for k in (
                ("lbfgs", "default", c["C"], c["tol"]),
                ("lbfgs", "1", c["C"], c["tol"]),
            )
            if k in index and index[k].get("iters") is not None
        ]
        evals = (
            ""
            if "evaluations_ok" not in c
            else (
                f"{_fmt(c.get('evaluations'), 'd', 'n/a')} / "
                f"{_fmt(c.get('lbfgs_evaluations'), 'd', 'n/a')}"
            )
        )
        ncg = counted.get(("newton-cg", c["C"], c["tol"]))
        if evals and ncg and ncg.get("total") is not None:
            parts = ", ".join(
                f"{k} {v}" for k, v in ncg.items() if k in _COUNTED_METHODS
            )
            evals += notes.ref(
                f"newton-cg at C={c['C']:g}: {ncg['total']} evaluations ({parts})."
            )
        quality_rows.append(
            [
                f"{c['C']:g}",
                f"{c['tol']:g}",
                _fmt(c.get("gap_vs_lbfgs"), "+.1e", "n/a"),
                f"{_fmt(c.get('ours_iters'), 'd')} / "
                f"{_fmt(max(lbfgs_iters) if lbfgs_iters else None, 'd')}",
                evals,
                _criteria(c),
            ]
        )
    out += _list_table(
        [
            "C",
            "tol",
            "objective vs lbfgs",
            "iterations (ours / lbfgs)",
            "evaluations (ours / lbfgs)",
            "criteria",
        ],
        quality_rows,
        caption=f"{name}: objective, iterations and evaluations",
        widths=[8, 8, 16, 18, 18, 18],
    )
    if notes.texts:
        out += notes.rst()
    return out


# -- command line ------------------------------------------------------------------


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Report of a benchmark results file (default: latest.json)."
    )
    parser.add_argument(
        "results", nargs="?", type=Path, default=RESULTS_DIR / "latest.json"
    )
    parser.add_argument(
        "--update-readme",
        action="store_true",
        help="rewrite the README's table between the perf-table markers",
    )
    parser.add_argument("--readme", type=Path, default=README, help=argparse.SUPPRESS)
    parser.add_argument("--rst", action="store_true", help="print the docs page's rst")
    args = parser.parse_args(argv)
    results = load(args.results)
    if args.update_readme:
        update_readme(results, args.readme)
        print(f"updated {args.readme}")
    elif args.rst:
        print(docs_rst(results))
    else:
        print(format_report(results))


if __name__ == "__main__":
    sys.exit(main())
