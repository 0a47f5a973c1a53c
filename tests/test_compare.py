"""What the comparison examples must show, computed by the examples themselves.

Each example leaves its tables in its namespace; these tests run it in-process
(no figure) and check the claims the README, the user guide and the
examples' own text make about them, at the quick and at the default size.
"""

import runpy
import sys
from pathlib import Path

import numpy as np
import pytest

from sksoftmax.datasets import make_music_tags, make_scene_attributes

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SIZES = {"quick": (["--quick"], 400), "default": ([], 3000)}


def run_example(script, size, monkeypatch, capsys):
    flags, n_samples = SIZES[size]
    monkeypatch.setattr(sys, "argv", [script, "--no-plot", *flags])
    namespace = runpy.run_path(str(EXAMPLES / script), run_name="__main__")
    capsys.readouterr()
    return namespace, n_samples


@pytest.mark.parametrize("size", SIZES)
def test_music(size, monkeypatch, capsys):
    namespace, n_samples = run_example("compare_music.py", size, monkeypatch, capsys)
    genres, tags = namespace["genre_table"], namespace["tag_table"]
    assert genres.index.tolist() == ["SoftmaxRegression", "OneVsRestLogistic"]
    assert np.isfinite(genres.to_numpy()).all() and np.isfinite(tags.to_numpy()).all()

    # Exclusive genres: about the same accuracy, a clearly better log-loss.
    softmax, ovr = genres.loc["SoftmaxRegression"], genres.loc["OneVsRestLogistic"]
    assert abs(softmax["accuracy"] - ovr["accuracy"]) < 0.03
    assert softmax["log_loss"] < ovr["log_loss"] - 0.03

    # Overlapping tags: one classifier per tag wins on every metric.
    forced = tags.loc["SoftmaxRegression, 1 tag/song"]
    ovr = tags.loc["OneVsRestLogistic"]
    assert ovr["f1_micro"] > forced["f1_micro"] + 0.1
    assert ovr["jaccard_samples"] > forced["jaccard_samples"] + 0.05
    assert ovr["hamming_loss"] < forced["hamming_loss"] - 0.03
    assert ovr["log_loss"] < forced["log_loss"]
    assert ovr["accuracy"] > forced["accuracy"]
    # The forced softmax predicts at most one tag, so it gets a whole row
    # right only where the row has at most one tag (equal folds: the mean
    # over folds is the overall fraction).
    Y = make_music_tags(n_samples, random_state=0).target
    assert forced["accuracy"] <= np.mean(Y.sum(axis=1) <= 1) + 1e-12


@pytest.mark.parametrize("size", SIZES)
def test_scenes(size, monkeypatch, capsys):
    namespace, n_samples = run_example("compare_scenes.py", size, monkeypatch, capsys)
    scenes, attributes = namespace["scene_table"], namespace["attribute_table"]
    softmax, ovr = scenes.loc["SoftmaxRegression"], scenes.loc["OneVsRestLogistic"]
    assert abs(softmax["accuracy"] - ovr["accuracy"]) < 0.03
    assert softmax["log_loss"] < ovr["log_loss"] - 0.02

    # The ceiling comes from the labels alone: photos with an attribute
    # over attributes.
    Y = make_scene_attributes(n_samples, random_state=0).target
    ceiling = attributes.loc["any one-label model, at best", "recall_micro"]
    assert ceiling == pytest.approx(np.count_nonzero(Y.sum(axis=1)) / Y.sum())
    assert attributes.loc["OneVsRestLogistic", "recall_micro"] > ceiling + 0.08


def readme_tables():
    """The tables of the README's comparison section: {title: {model: row}}."""
    readme = (EXAMPLES.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Exclusive or overlapping labels")[1].split("\n## ")[0]
    tables, title, header = {}, None, None
    for line in section.splitlines():
        cells = [cell.strip().strip("*") for cell in line.strip().strip("|").split("|")]
        if not line.startswith("|") or set(cells[0]) <= {"-"}:
            continue
        if header is None or cells[0] != title and not cells[1][:1].isdigit():
            title, header = cells[0], cells[1:]
            tables[title] = {}
        else:
            tables[title][cells[0]] = dict(
                zip(header, map(float, cells[1:]), strict=True)
            )
    return tables


def test_readme_tables_are_the_quick_run(monkeypatch, capsys):
    """The README shows what ``compare_music.py --quick --no-plot`` prints."""
    namespace, _ = run_example("compare_music.py", "quick", monkeypatch, capsys)
    tables = readme_tables()
    assert set(tables) == {"genres (exclusive)", "tags (overlapping)"}
    for title, name in [
        ("genres (exclusive)", "genre_table"),
        ("tags (overlapping)", "tag_table"),
    ]:
        computed = namespace[name].drop(columns="fit_time").round(3)
        shown = tables[title]
        assert list(shown) == computed.index.tolist()
        for model, row in shown.items():
            assert list(row) == computed.columns.tolist()
            np.testing.assert_allclose(list(row.values()), computed.loc[model])
