"""The example scripts run as ``python examples/NAME.py`` without a display."""

import ast
import os
import re
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
SCRIPTS = [
    "compare_music.py",
    "compare_scenes.py",
    "overflow_and_logsumexp.py",
    "dask_fit.py",
    "select_music_features.py",
    "cv_path.py",
]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# What each script must print, whatever the numbers.
EXPECTED_OUTPUT = {
    "compare_music.py": [
        "Genres (exclusive)",
        "Tags (overlapping)",
        "recommendation='softmax'",
        "recommendation='one-vs-rest'",
        "suggest_other_class: True",
    ],
    "compare_scenes.py": [
        "Scenes (exclusive)",
        "Attributes (overlapping)",
        "Scenes: softmax",
        "Attributes: one-vs-rest",
    ],
    "overflow_and_logsumexp.py": [
        "[1000.,  500.,  500.]",
        "[-1000., -1000., -1000.]",
        "overflow encountered in exp",
        "-998.9014",
        "max(x) + log(n) for all 80 random vectors: True",
    ],
    "select_music_features.py": ["Best C per penalty:", "grouped"],
    "dask_fit.py": [
        "in chunks of (1000, 1000, 1000, 1000) rows",
        "same model: True",
        "predict_proba: dask.array.core.Array, chunks (1000, 1000, 1000, 1000)",
        "training accuracy:",
    ],
    "cv_path.py": [
        "Genres (exclusive): held-out log-loss along the path",
        "chosen C_:",
        "Tags (overlapping): chosen C of each tag",
    ],
}
# The header of each table the comparison scripts print, metrics named as in
# scikit-learn.
TABLE_HEADERS = {
    "compare_music.py": [
        ["accuracy", "log_loss", "fit_time"],
        [
            "accuracy",
            "jaccard_samples",
            "hamming_loss",
            "f1_micro",
            "log_loss",
            "fit_time",
        ],
    ],
    "compare_scenes.py": [
        ["accuracy", "log_loss", "fit_time"],
        ["recall_micro", "f1_micro", "accuracy", "hamming_loss"],
    ],
    "dask_fit.py": [["fit_time", "n_iter"]],
    "select_music_features.py": [
        ["C", "penalty", "features", "noise", "zeros", "log_loss"]
    ],
    "cv_path.py": [["C", "log_loss", "std", "n_iter"], ["tag", "C", "log_loss"]],
}


def check_output(script, stdout):
    for text in EXPECTED_OUTPUT[script]:
        assert text in stdout
    lines = stdout.splitlines()
    headers = [line.split() for line in lines if line.startswith(" ")]
    for header in TABLE_HEADERS.get(script, []):
        assert header in headers


def test_examples_import_only_public_names():
    """No ``sksoftmax._private`` module or ``_name`` in any example."""
    for script in SCRIPTS:
        tree = ast.parse((EXAMPLES / script).read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module.startswith("sksoftmax"):
                assert not any(part.startswith("_") for part in node.module.split("."))
                assert not any(alias.name.startswith("_") for alias in node.names)
            if isinstance(node, ast.Import):
                for alias in node.names:
                    assert "._" not in alias.name, (script, alias.name)


def run_example(script, *args):
    """Run a script in a fresh interpreter, with no display and no backend set."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DISPLAY", "WAYLAND_DISPLAY", "MPLBACKEND"}
    }
    # The package of this tree, whatever an installed copy points at.
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(ROOT), env.get("PYTHONPATH")])
    )
    return subprocess.run(
        [sys.executable, "-W", "error::RuntimeWarning", str(EXAMPLES / script)]
        + list(args),
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )


@pytest.mark.parametrize("script", SCRIPTS)
def test_example_quick_without_plot(script, monkeypatch, capsys, tmp_path):
    """In-process (fast); ``test_example_quick_saves_png`` runs a real process."""
    monkeypatch.chdir(tmp_path)
    default_png = tmp_path / Path(script).with_suffix(".png").name
    mtime_before = default_png.stat().st_mtime_ns if default_png.exists() else None
    monkeypatch.setattr(sys, "argv", [str(EXAMPLES / script), "--quick", "--no-plot"])
    runpy.run_path(str(EXAMPLES / script), run_name="__main__")
    stdout = capsys.readouterr().out
    check_output(script, stdout)
    assert "Saved the figure" not in stdout
    mtime_after = default_png.stat().st_mtime_ns if default_png.exists() else None
    assert mtime_after == mtime_before


@pytest.mark.parametrize("script", SCRIPTS)
def test_example_quick_saves_png(script, tmp_path):
    output = tmp_path / "figure.png"
    result = run_example(script, "--quick", "--output", str(output))
    assert result.returncode == 0, result.stderr
    check_output(script, result.stdout)
    assert f"Saved the figure to {output}" in result.stdout
    assert output.read_bytes()[:8] == PNG_SIGNATURE


@pytest.mark.parametrize("script", SCRIPTS)
def test_example_has_a_gallery_docstring(script):
    source = (EXAMPLES / script).read_text()
    docstring = ast.get_docstring(ast.parse(source), clean=False)
    assert docstring is not None
    lines = docstring.strip("\n").splitlines()
    # Sphinx-gallery: a title over- and underlined with "=", then a paragraph.
    assert set(lines[0]) == {"="} and set(lines[2]) == {"="}
    assert len(lines[0]) >= len(lines[1].strip())
    assert lines[3] == "" and lines[4].strip()


def test_gallery_header():
    lines = (EXAMPLES / "README.rst").read_text().splitlines()
    assert lines[0].strip()
    assert set(lines[1]) == {"="} and len(lines[1]) >= len(lines[0])
    assert any(line.strip() for line in lines[2:])


def test_readme_first_command_runs_the_music_comparison():
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"## Quick start\s+```bash\n(.*?)```", readme, re.S)
    assert block is not None
    first_command = block.group(1).splitlines()[0]
    script = re.search(r"python (examples/\S+\.py)", first_command)
    assert script is not None
    assert script.group(1) == "examples/compare_music.py"
    assert (ROOT / script.group(1)).is_file()
