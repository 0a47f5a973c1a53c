"""The cross-validated comparison behind the examples, and what it must show."""

import doctest
import sys
from pathlib import Path

import matplotlib
import numpy as np
import pytest

from sksoftmax import _compare
from sksoftmax._compare import (
    METRICS,
    OVR,
    SOFTMAX,
    SOFTMAX_FORCED,
    compare_datasets,
    compare_models,
    one_label_per_sample,
    parse_example_args,
    plot_comparison,
)
from sksoftmax._inspect import inspect_labels
from sksoftmax.datasets import (
    make_music_genres,
    make_music_tags,
    make_scene_attributes,
    make_scenes,
)

# (exclusive, overlapping) pairs, as the two example scripts use them.
PAIRS = [(make_music_genres, make_music_tags), (make_scenes, make_scene_attributes)]


def pair_id(pair):
    return pair[0].__name__


# -- one_label_per_sample ----------------------------------------------------------


def test_one_label_per_sample_prefers_the_rarest_label():
    Y = np.array([[1, 1, 0], [1, 0, 0], [0, 0, 0], [1, 0, 1], [1, 1, 1]])
    # Column counts 4, 2, 2: columns 1 and 2 tie and column 1 comes first.
    assert one_label_per_sample(Y).tolist() == [1, 0, -1, 2, 1]


@pytest.mark.parametrize("priority", [[0, 1, 2], [2, 1, 0], [1, 2, 0]])
def test_one_label_per_sample_follows_priority(priority):
    Y = np.array([[1, 1, 0], [0, 1, 1], [1, 1, 1], [0, 0, 0], [0, 0, 1]])
    chosen = one_label_per_sample(Y, priority=priority)
    for row, label in zip(Y, chosen, strict=True):
        present = [k for k in priority if row[k]]
        assert label == (present[0] if present else -1)


def test_one_label_per_sample_keeps_a_present_label_and_the_input():
    Y = make_music_tags(300, random_state=0).target
    before = Y.copy()
    chosen = one_label_per_sample(Y)
    np.testing.assert_array_equal(Y, before)
    has_label = Y.sum(axis=1) > 0
    np.testing.assert_array_equal(chosen >= 0, has_label)
    rows = np.flatnonzero(has_label)
    assert (Y[rows, chosen[rows]] == 1).all()


# -- compare_models ----------------------------------------------------------------


@pytest.mark.parametrize("generator", [make_music_genres, make_scenes])
def test_exclusive_table(generator):
    X, y = generator(200, random_state=1, return_X_y=True)
    X_before, y_before = X.copy(), y.copy()
    table = compare_models(X, y, n_splits=3)
    np.testing.assert_array_equal(X, X_before)
    np.testing.assert_array_equal(y, y_before)
    assert table.index.tolist() == [SOFTMAX, OVR]
    assert table.columns.tolist() == list(METRICS)
    assert np.isfinite(table.to_numpy()).all()
    # One label per sample and per prediction: the label metrics agree.
    n_classes = np.unique(y).size
    np.testing.assert_allclose(table["micro_f1"], table["accuracy"])
    np.testing.assert_allclose(table["subset_accuracy"], table["accuracy"])
    np.testing.assert_allclose(
        table["hamming_loss"], 2 * (1 - table["accuracy"]) / n_classes
    )
    assert (table["log_loss"] > 0).all()
    assert (table["fit_time_s"] >= 0).all()


@pytest.mark.parametrize("generator", [make_music_tags, make_scene_attributes])
def test_overlapping_table(generator):
    X, Y = generator(250, random_state=1, return_X_y=True)
    table = compare_models(X, Y, n_splits=5)
    assert table.index.tolist() == [SOFTMAX_FORCED, OVR]
    assert table.columns.tolist() == list(METRICS)
    for metric in ["accuracy", "hamming_loss", "micro_f1", "subset_accuracy"]:
        assert ((table[metric] >= 0) & (table[metric] <= 1)).all()
    # The forced softmax predicts at most one label, so it can get a whole
    # row right only where the row has at most one label (equal folds: the
    # mean over folds is the overall fraction).
    at_most_one = np.mean(Y.sum(axis=1) <= 1)
    assert table.loc[SOFTMAX_FORCED, "subset_accuracy"] <= at_most_one + 1e-12


def test_compare_models_rejects_3d_targets():
    with pytest.raises(ValueError, match="1-D or 2-D"):
        compare_models(np.zeros((10, 2)), np.zeros((10, 2, 2)))


@pytest.mark.parametrize("pair", PAIRS, ids=pair_id)
@pytest.mark.parametrize("n_samples, seed", [(400, 0), (1000, 1)])
def test_what_the_tables_must_show(pair, n_samples, seed):
    """Softmax wins log-loss on exclusive labels; OvR wins on overlapping ones."""
    exclusive, overlapping = pair
    X, y = exclusive(n_samples, random_state=seed, return_X_y=True)
    X_multi, Y = overlapping(n_samples, random_state=seed, return_X_y=True)
    assert inspect_labels(y).recommendation == "softmax"
    assert inspect_labels(Y).recommendation == "one-vs-rest"

    table = compare_datasets(
        {"exclusive": (X, y), "overlapping": (X_multi, Y)}, random_state=seed
    )
    assert table.index.names == ["dataset", "model"]
    exclusive_rows = table.loc["exclusive"]
    assert exclusive_rows.loc[SOFTMAX, "log_loss"] < exclusive_rows.loc[OVR, "log_loss"]
    overlapping_rows = table.loc["overlapping"]
    forced, ovr = overlapping_rows.loc[SOFTMAX_FORCED], overlapping_rows.loc[OVR]
    assert ovr["micro_f1"] > forced["micro_f1"] + 0.1
    assert ovr["hamming_loss"] < forced["hamming_loss"] - 0.03
    assert ovr["log_loss"] < forced["log_loss"]


# -- plotting and the command line -------------------------------------------------


def test_plot_comparison(tmp_path):
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    X, y = make_scenes(150, random_state=0, return_X_y=True)
    X_multi, Y = make_scene_attributes(150, random_state=0, return_X_y=True)
    table = compare_datasets({"a": (X, y), "b": (X_multi, Y)}, n_splits=3)
    fig = plot_comparison(table, title="title")
    try:
        assert [ax.get_title() for ax in fig.axes] == ["a", "b"]
        assert fig._suptitle.get_text() == "title"
        # Two models x five metrics in each panel.
        assert all(len(ax.patches) == 10 for ax in fig.axes)
        fig.savefig(tmp_path / "figure.png")
        assert (tmp_path / "figure.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    finally:
        plt.close(fig)


@pytest.mark.parametrize(
    "argv, quick, no_plot, output",
    [
        ([], False, False, "/repo/examples/fig.png"),
        (["--quick"], True, False, "/repo/examples/fig.png"),
        (["--no-plot", "--quick"], True, True, "/repo/examples/fig.png"),
        (["--output", "x/y.png"], False, False, "x/y.png"),
    ],
)
def test_parse_example_args(argv, quick, no_plot, output, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["/repo/examples/script.py", *argv])
    args = parse_example_args("doc", figure="fig.png")
    assert args.quick is quick
    assert args.no_plot is no_plot
    assert args.output == Path(output)


@pytest.mark.parametrize("argv0", ["", "-c", "python"])
def test_default_figure_in_working_directory_without_a_script(argv0, monkeypatch):
    """Sphinx-gallery and interactive sessions have no script path."""
    monkeypatch.setattr(sys, "argv", [argv0])
    assert parse_example_args("doc", figure="fig.png").output == Path("fig.png")


def test_parse_example_args_rejects_unknown_flags():
    with pytest.raises(SystemExit):
        parse_example_args("doc", figure="fig.png", argv=["--fast"])


def test_docstring_examples():
    result = doctest.testmod(_compare, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0
