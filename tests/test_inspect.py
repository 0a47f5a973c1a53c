"""inspect_labels and to_exclusive."""

import ast
import dataclasses
import doctest

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from sksoftmax import SoftmaxRegression, _inspect
from sksoftmax._inspect import LabelReport, inspect_labels, to_exclusive
from sksoftmax.datasets import (
    make_music_genres,
    make_music_tags,
    make_scene_attributes,
    make_scenes,
)

FIELDS = [
    "n_samples",
    "n_labels",
    "fraction_multi",
    "fraction_none",
    "exclusive",
    "recommendation",
    "suggest_other_class",
    "reason",
]


def read_only(a):
    a = np.array(a)
    a.flags.writeable = False
    return a


def one_hot(y, n_classes):
    return (np.asarray(y)[:, None] == np.arange(n_classes)).astype(int)


# -- inspect_labels --------------------------------------------------------------


@pytest.mark.parametrize(
    "generator, recommendation",
    [
        (make_music_genres, "softmax"),
        (make_scenes, "softmax"),
        (make_music_tags, "one-vs-rest"),
        (make_scene_attributes, "one-vs-rest"),
    ],
    ids=lambda v: getattr(v, "__name__", v),
)
def test_recommendation_for_the_data_sets(generator, recommendation):
    bunch = generator(500, random_state=0)
    report = inspect_labels(bunch.target)
    assert report.recommendation == recommendation
    assert report.exclusive == (recommendation == "softmax")
    assert report.n_samples == 500
    assert report.n_labels == len(bunch.target_names)
    assert not report.suggest_other_class
    if recommendation == "softmax":
        assert report.fraction_multi == report.fraction_none == 0
        assert "SoftmaxRegression" in report.reason
    else:
        assert report.fraction_multi > 0.15
        assert "OneVsRestLogistic" in report.reason


@pytest.mark.parametrize(
    "y",
    [
        ["rock", "jazz", "rock", "country"],
        np.array([3, 1, 2, 1]),
        pd.Series(["a", "b", "c", "a"]),
        np.array([[0], [1], [2], [0]]),  # a column vector is 1-D labels
        (1.5, 2.5, 1.5, 0.5),
    ],
    ids=["strings", "ints", "series", "column", "floats"],
)
def test_class_labels_are_exclusive(y):
    report = inspect_labels(y)
    assert report.n_samples == 4
    assert report.n_labels == 3
    assert report.exclusive
    assert report.recommendation == "softmax"
    assert report.fraction_multi == 0
    assert report.fraction_none == 0


@pytest.mark.parametrize(
    "missing",
    [
        np.array(["rock", None, "jazz", "rock"], dtype=object),
        np.array([1.0, np.nan, 2.0, 1.0]),
        pd.Series(["rock", None, "jazz", "rock"]),
    ],
    ids=["none", "nan", "series"],
)
def test_missing_class_labels_count_as_no_label(missing):
    report = inspect_labels(missing)
    assert report.n_labels == 2
    assert report.fraction_none == 0.25
    assert report.exclusive
    assert report.suggest_other_class
    assert "other" in report.reason


def dense(Y):
    return np.asarray(Y)


@pytest.mark.parametrize(
    "convert",
    [
        dense,
        lambda Y: np.asarray(Y, dtype=bool),
        lambda Y: np.asarray(Y, dtype=np.float32),
        sp.csr_matrix,
        lambda Y: pd.DataFrame(Y, columns=["a", "b", "c"]),
    ],
    ids=["int", "bool", "float32", "csr", "frame"],
)
def test_indicator_matrix_formats(convert):
    Y = [[1, 0, 1], [0, 1, 0], [0, 0, 0], [1, 1, 1]]
    report = inspect_labels(convert(Y))
    assert report.n_samples == 4
    assert report.n_labels == 3
    assert report.fraction_multi == 0.5
    assert report.fraction_none == 0.25
    assert not report.exclusive
    assert report.recommendation == "one-vs-rest"
    assert not report.suggest_other_class
    assert "up to 3" in report.reason


@pytest.mark.parametrize("with_none", [False, True])
def test_exclusive_indicator_matrix(with_none):
    Y = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 1, 0]])
    if with_none:
        Y = np.vstack([Y, [[0, 0, 0]]])
    report = inspect_labels(Y)
    assert report.exclusive
    assert report.recommendation == "softmax"
    assert report.suggest_other_class == with_none
    assert report.fraction_none == (0.2 if with_none else 0.0)
    assert ("to_exclusive" in report.reason) == with_none


def test_genres_as_indicator_without_other_suggest_other_class():
    genres = make_music_genres(300, random_state=0)
    indicator = one_hot(genres.target, 4)  # drops the "other" column
    report = inspect_labels(indicator)
    assert report.suggest_other_class
    assert report.fraction_none == pytest.approx(np.mean(genres.target == 4))


def test_no_label_at_all():
    report = inspect_labels(np.zeros((5, 3), dtype=int))
    assert report.fraction_none == 1
    assert not report.suggest_other_class
    assert "None of the 5 samples" in report.reason


@settings(max_examples=60, deadline=None)
@given(
    arrays(
        np.int8,
        st.tuples(st.integers(1, 30), st.integers(2, 6)),
        elements=st.integers(0, 1),
    )
)
def test_fractions_match_row_sums(Y):
    report = inspect_labels(Y)
    per_row = Y.sum(axis=1)
    assert (report.n_samples, report.n_labels) == Y.shape
    assert report.fraction_multi == pytest.approx(np.mean(per_row > 1))
    assert report.fraction_none == pytest.approx(np.mean(per_row == 0))
    assert report.exclusive == (per_row.max() <= 1)
    assert report.recommendation == ("softmax" if per_row.max() <= 1 else "one-vs-rest")
    assert report.suggest_other_class == (
        per_row.max() <= 1 and 0 < (per_row == 0).sum() < Y.shape[0]
    )


def test_input_is_not_modified():
    Y = read_only([[1, 0], [0, 0], [1, 1]])
    inspect_labels(Y)
    np.testing.assert_array_equal(Y, [[1, 0], [0, 0], [1, 1]])
    y = read_only([1.0, np.nan, 2.0])
    inspect_labels(y)
    assert np.isnan(y[1])


def test_report_is_a_frozen_dataclass_with_a_readable_repr():
    report = inspect_labels(make_music_tags(200, random_state=0).target)
    assert isinstance(report, LabelReport)
    assert [f.name for f in dataclasses.fields(report)] == FIELDS
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.exclusive = True
    text = repr(report)
    assert text.startswith("LabelReport(\n")
    for name in FIELDS:
        assert f"    {name}=" in text
    assert f"fraction_multi={report.fraction_multi:.3f}" in text
    assert max(len(line) for line in text.splitlines()) <= 88
    # The wrapped reason reads back as the original paragraph.
    start = text.index("reason=(") + len("reason=(")
    end = text.index("    ),", start)
    assert ast.literal_eval("(" + text[start:end] + ")") == report.reason


@pytest.mark.parametrize(
    "y, match",
    [
        (np.zeros((2, 2, 2)), "3 dimensions"),
        (np.array([]), "empty"),
        (np.zeros((3, 0)), "empty"),
        (np.array([[0, 2], [1, 0]]), "0/1"),
        (np.array([[0.0, np.nan], [1.0, 0.0]]), "0/1"),
        (np.array([["a", "b"], ["c", "d"]]), "dtype"),
    ],
    ids=["3d", "empty", "no-columns", "value-2", "nan", "strings"],
)
def test_bad_input_value_error(y, match):
    with pytest.raises(ValueError, match=match):
        inspect_labels(y)


@pytest.mark.parametrize(
    "y",
    [
        [["vocal", "pop"], ["dance"], []],
        np.array([{"vocal"}, {"dance", "pop"}], dtype=object),
    ],
    ids=["ragged-list", "sets"],
)
def test_label_sets_type_error(y):
    with pytest.raises(TypeError, match="MultiLabelBinarizer"):
        inspect_labels(y)


# -- to_exclusive ----------------------------------------------------------------


@pytest.mark.parametrize("other_fraction", [0.0, 0.2])
def test_to_exclusive_round_trip_on_genres(other_fraction):
    genres = make_music_genres(300, other_fraction=other_fraction, random_state=0)
    four = genres.target_names[:4]
    y = to_exclusive(one_hot(genres.target, 4), labels=four)
    expected = np.append(four, "other")[genres.target]
    np.testing.assert_array_equal(y, expected)
    assert y.dtype.kind == "U"
    report = inspect_labels(y)
    assert report.exclusive and report.fraction_none == 0


@pytest.mark.parametrize(
    "other_label, labels, expected",
    [
        ("other", None, ["0", "2", "other", "1"]),
        (-1, None, [0, 2, -1, 1]),
        ("none", ["a", "b", "c"], ["a", "c", "none", "b"]),
        (9.5, [1.5, 2.5, 3.5], [1.5, 3.5, 9.5, 2.5]),
    ],
)
def test_to_exclusive_labels(other_label, labels, expected):
    Y = np.array([[1, 0, 0], [0, 0, 1], [0, 0, 0], [0, 1, 0]])
    y = to_exclusive(Y, other_label, labels=labels)
    assert y.tolist() == expected
    # scikit-learn must be able to sort the classes.
    assert np.unique(y).shape == (len(set(expected)),)


@pytest.mark.parametrize(
    "convert", [sp.csr_matrix, lambda Y: np.asarray(Y, dtype=bool)], ids=["csr", "bool"]
)
def test_to_exclusive_formats(convert):
    Y = np.array([[0, 1], [1, 0], [0, 0]])
    assert to_exclusive(convert(Y), -1).tolist() == [1, 0, -1]


def test_to_exclusive_uses_dataframe_columns():
    Y = pd.DataFrame({"indoor": [1, 0, 0], "outdoor": [0, 1, 0]})
    assert to_exclusive(Y).tolist() == ["indoor", "outdoor", "other"]


def test_to_exclusive_result_trains_a_softmax():
    genres = make_music_genres(200, random_state=0)
    y = to_exclusive(one_hot(genres.target, 4), labels=genres.target_names[:4])
    model = SoftmaxRegression().fit(genres.data / genres.data.std(axis=0), y)
    assert sorted(model.classes_.tolist()) == sorted(genres.target_names.tolist())


def test_to_exclusive_does_not_modify_input():
    Y = read_only([[0, 1], [0, 0]])
    to_exclusive(Y)
    np.testing.assert_array_equal(Y, [[0, 1], [0, 0]])


@pytest.mark.parametrize("generator", [make_music_tags, make_scene_attributes])
def test_to_exclusive_refuses_overlapping_labels(generator):
    Y = generator(100, random_state=0).target
    multi = np.flatnonzero(Y.sum(axis=1) > 1)
    with pytest.raises(ValueError, match="at most one label per row") as info:
        to_exclusive(Y)
    message = str(info.value)
    assert "OneVsRestLogistic" in message
    assert f"{multi.size} of 100 rows" in message
    assert str(multi[0]) in message


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"Y": np.array([0, 1, 0])}, ValueError, "2-D"),
        ({"Y": np.array([[0, 3], [1, 0]])}, ValueError, "0/1"),
        ({"Y": np.eye(2), "labels": ["a"]}, ValueError, "labels has 1"),
        ({"Y": np.eye(2), "labels": ["a", "a"]}, ValueError, "distinct"),
        ({"Y": np.eye(2), "labels": "ab"}, TypeError, "labels"),
        ({"Y": np.eye(2), "labels": ["other", "b"]}, ValueError, "other_label"),
        ({"Y": np.eye(2), "other_label": 1}, ValueError, "other_label"),
    ],
    ids=["1d", "values", "length", "repeated", "string", "clash", "clash-int"],
)
def test_to_exclusive_bad_input(kwargs, error, match):
    with pytest.raises(error, match=match):
        to_exclusive(**kwargs)


def test_docstring_examples(monkeypatch):
    # The examples import from the package, which re-exports these names.
    import sksoftmax

    for name in ("inspect_labels", "to_exclusive"):
        monkeypatch.setattr(sksoftmax, name, getattr(_inspect, name), raising=False)
    result = doctest.testmod(_inspect, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0
