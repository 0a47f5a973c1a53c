"""Tests of the shared fit's helpers (sksoftmax._base)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from sksoftmax._base import (
    SMALL_LABELS_MAX,
    _small_integer_classes,
    class_codes,
    encode_classes,
)

INTEGER_DTYPES = [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32]


def _general_path(y):
    """What encode_classes computes without the integer fast path."""
    classes = np.unique(y)
    return classes, class_codes(y, classes)


@settings(max_examples=100, deadline=None)
@given(
    data=st.data(),
    dtype=st.sampled_from(INTEGER_DTYPES),
    n=st.integers(1, 300),
    high=st.integers(0, 400),
)
def test_small_integer_classes_match_unique(data, dtype, n, high):
    high = min(high, np.iinfo(dtype).max)
    y = data.draw(hnp.arrays(dtype, n, elements=st.integers(0, high)))
    fast = _small_integer_classes(y)
    assert fast is not None
    for got, expected in zip(fast, _general_path(y), strict=True):
        np.testing.assert_array_equal(got, expected)
        assert got.dtype == expected.dtype


def test_small_integer_classes_of_booleans():
    y = np.array([True, False, False, True, True])
    classes, codes = _small_integer_classes(y)
    np.testing.assert_array_equal(classes, [False, True])
    assert classes.dtype == bool
    # Looked up, not used as a mask: one code per label.
    np.testing.assert_array_equal(codes, [1, 0, 0, 1, 1])


@pytest.mark.parametrize(
    "y",
    [
        np.array([-1, 0, 1]),  # negative
        np.array([0, SMALL_LABELS_MAX + 1]),  # too large for a count table
        np.array([0.0, 1.0, 2.0]),  # floats: their type must be checked
        np.array(["a", "b"]),
        np.array([0, 1], dtype=np.uint64),  # no safe cast to intp
        np.zeros((3, 1), dtype=int),  # not 1-D
    ],
)
def test_other_labels_take_the_general_path(y):
    assert _small_integer_classes(y) is None


def test_large_labels_within_the_sample_count_are_counted():
    y = np.arange(SMALL_LABELS_MAX + 2)[::-1].copy()
    classes, codes = _small_integer_classes(y)
    np.testing.assert_array_equal(classes, np.arange(y.shape[0]))
    np.testing.assert_array_equal(codes, y)


@pytest.mark.parametrize(
    "y",
    [np.array([3, 7, 3, 9]), np.array([-2, 5, 5, -2]), np.array(["b", "a", "b"])],
)
def test_encode_classes_is_the_same_on_either_path(y):
    classes, codes = encode_classes(y, None, "Estimator")
    expected_classes, expected_codes = _general_path(y)
    np.testing.assert_array_equal(classes, expected_classes)
    np.testing.assert_array_equal(codes, expected_codes)


def test_encode_classes_still_rejects_continuous_targets():
    with pytest.raises(ValueError, match="continuous"):
        encode_classes(np.array([0.5, 1.0, 2.0]), None, "Estimator")


def test_encode_classes_needs_two_weighted_classes_on_the_fast_path():
    y = np.array([0, 0, 1])
    with pytest.raises(ValueError, match="only one class: 0"):
        encode_classes(y, np.array([1.0, 1.0, 0.0]), "Estimator")
