"""sksoftmax.special against scipy.special, extreme inputs and properties."""

import warnings

import numpy as np
import pytest
import scipy.special
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

from sksoftmax.special import log_softmax, logsumexp, softmax

EPS = np.finfo(np.float64).eps

SHAPES_AXES = [
    ((7,), 0),
    ((7,), -1),
    ((7,), None),
    ((4, 5), 0),
    ((4, 5), 1),
    ((4, 5), -1),
    ((4, 5), None),
    ((2, 3, 4), 0),
    ((2, 3, 4), 1),
    ((2, 3, 4), -1),
    ((2, 3, 4), (0, 2)),
    ((2, 3, 4), None),
]


def _no_warnings(func, *args, **kwargs):
    """Call ``func`` with every warning turned into an error."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return func(*args, **kwargs)


def _scipy_quiet(func, *args, **kwargs):
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return func(*args, **kwargs)


# -- agreement with scipy.special ---------------------------------------------


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("shape, axis", SHAPES_AXES)
def test_logsumexp_matches_scipy(shape, axis, keepdims):
    a = np.random.default_rng(0).normal(scale=10.0, size=shape)
    expected = scipy.special.logsumexp(a, axis=axis, keepdims=keepdims)
    got = _no_warnings(logsumexp, a, axis=axis, keepdims=keepdims)
    assert np.shape(got) == np.shape(expected)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=0)


@pytest.mark.parametrize("func", [softmax, log_softmax], ids=lambda f: f.__name__)
@pytest.mark.parametrize("shape, axis", SHAPES_AXES)
def test_softmax_and_log_softmax_match_scipy(func, shape, axis):
    a = np.random.default_rng(1).normal(scale=10.0, size=shape)
    expected = getattr(scipy.special, func.__name__)(a, axis=axis)
    got = _no_warnings(func, a, axis=axis)
    assert got.shape == a.shape
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=0)


def test_default_axis_is_last():
    a = np.random.default_rng(2).normal(size=(3, 4))
    np.testing.assert_allclose(
        softmax(a), scipy.special.softmax(a, axis=-1), rtol=1e-12
    )
    np.testing.assert_allclose(
        log_softmax(a), scipy.special.log_softmax(a, axis=-1), rtol=1e-12
    )
    np.testing.assert_allclose(
        logsumexp(a), scipy.special.logsumexp(a, axis=-1), rtol=1e-12
    )


# -- dtypes ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "func", [softmax, log_softmax, logsumexp], ids=lambda f: f.__name__
)
def test_float32_stays_float32(func):
    a = np.random.default_rng(3).normal(size=(4, 5)).astype(np.float32)
    got = func(a)
    assert got.dtype == np.float32
    expected = getattr(scipy.special, func.__name__)(a.astype(np.float64), axis=-1)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "func", [softmax, log_softmax, logsumexp], ids=lambda f: f.__name__
)
@pytest.mark.parametrize("dtype", [np.int8, np.int32, np.int64, np.uint16, bool])
def test_integer_input_gives_float64(func, dtype):
    a = np.array([[0, 1, 1], [1, 0, 0]], dtype=dtype)
    got = func(a)
    assert got.dtype == np.float64
    expected = getattr(scipy.special, func.__name__)(a.astype(np.float64), axis=-1)
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_list_input():
    np.testing.assert_allclose(
        softmax([1.0, 2.0, 3.0]), scipy.special.softmax([1.0, 2.0, 3.0]), rtol=1e-12
    )


# -- extreme finite inputs -------------------------------------------------------


def test_notes_case_large_positive():
    x = np.array([1000.0, 500.0, 500.0])
    tiny = np.exp(-500.0)  # 7e-218, a normal float64
    p = _no_warnings(softmax, x)
    np.testing.assert_allclose(p, [1.0, tiny, tiny], rtol=1e-13, atol=0)
    lse = _no_warnings(logsumexp, x)
    assert lse == 1000.0  # 1000 + log(1 + 2e-218)
    lp = _no_warnings(log_softmax, x)
    assert np.all(np.isfinite(lp))
    np.testing.assert_allclose(lp, x - lse, rtol=1e-15, atol=0)
    np.testing.assert_allclose(lp, [0.0, -500.0, -500.0], rtol=1e-15, atol=0)


def test_notes_case_large_negative():
    x = np.array([-1000.0, -1000.0, -1000.0])
    p = _no_warnings(softmax, x)
    np.testing.assert_allclose(p, [1 / 3] * 3, rtol=1e-15, atol=0)
    lse = _no_warnings(logsumexp, x)
    np.testing.assert_allclose(lse, -1000.0 + np.log(3.0), rtol=1e-15)
    lp = _no_warnings(log_softmax, x)
    assert np.all(np.isfinite(lp))
    np.testing.assert_allclose(lp, x - lse, rtol=1e-13, atol=0)
    np.testing.assert_allclose(lp, [-np.log(3.0)] * 3, rtol=1e-13, atol=0)


def test_plus_minus_1e308():
    x = np.array([1e308, -1e308])
    np.testing.assert_array_equal(_no_warnings(softmax, x), [1.0, 0.0])
    assert _no_warnings(logsumexp, x) == 1e308
    lp = _no_warnings(log_softmax, x)
    # The true value of the second entry, -2e308, is below the most negative
    # float, so -inf is the correctly rounded result (documented).
    np.testing.assert_array_equal(lp, [0.0, -np.inf])


@pytest.mark.parametrize(
    "x",
    [
        [1e308, 1e308],
        [-1e308, -1e308, -1e308],
        [1.7e308, 1.6e308, -1e300],
        [-1.7e308, -1.7e308 + 1e293, -1.6e308],
        [1e300, 1e300 - 1e285, 1e300 + 2e285],
        [5e307, -5e307, 0.0],
    ],
)
def test_huge_finite_inputs_finite_and_correct(x):
    x = np.array(x)
    p = _no_warnings(softmax, x)
    lp = _no_warnings(log_softmax, x)
    lse = _no_warnings(logsumexp, x)
    assert np.all(np.isfinite(p)) and np.all(np.isfinite(lp)) and np.isfinite(lse)
    # Independent reference: exact shift by the maximum, in Python floats.
    c = max(x)
    rel = x - c
    expected_p = np.exp(rel) / np.exp(rel).sum()
    np.testing.assert_allclose(p, expected_p, rtol=1e-14, atol=0)
    np.testing.assert_allclose(lse, c + np.log(np.exp(rel).sum()), rtol=1e-14)
    np.testing.assert_allclose(lp, rel - np.log(np.exp(rel).sum()), rtol=1e-14)
    np.testing.assert_allclose(p.sum(), 1.0, rtol=1e-15)


@pytest.mark.parametrize("func", [softmax, log_softmax], ids=lambda f: f.__name__)
def test_huge_float32_inputs(func):
    x = np.array([[3e38, -3e38, 1e38], [-3e38, -3e38, -3e38]], dtype=np.float32)
    got = _no_warnings(func, x)
    assert got.dtype == np.float32
    lse = _no_warnings(logsumexp, x)
    assert np.all(np.isfinite(lse))
    if func is softmax:
        np.testing.assert_allclose(got, [[1, 0, 0], [1 / 3] * 3], rtol=1e-6, atol=0)
    else:
        assert got[0, 0] == 0 and np.all(np.isfinite(got[1]))
        np.testing.assert_allclose(got[1], -np.log(3.0), rtol=1e-6)


def test_log_softmax_far_below_smallest_probability():
    x = np.array([0.0, -1000.0, -1e5])
    lp = _no_warnings(log_softmax, x)
    np.testing.assert_allclose(lp, x, rtol=1e-15, atol=0)


# -- non-finite inputs ------------------------------------------------------------

NONFINITE_ROWS = [
    [np.inf, 0.0, 1.0],
    [-np.inf, -np.inf, -np.inf],
    [np.inf, -np.inf, 0.0],
    [-np.inf, 1.0, 2.0],
    [np.inf, np.inf, 0.0],
    [-np.inf, np.inf, 1.0],
]


@pytest.mark.parametrize(
    "func", [softmax, log_softmax, logsumexp], ids=lambda f: f.__name__
)
@pytest.mark.parametrize("row", NONFINITE_ROWS)
def test_nonfinite_rows_match_scipy(func, row):
    x = np.array([row, [0.5, -1.0, 2.0]])
    expected = _scipy_quiet(getattr(scipy.special, func.__name__), x, axis=-1)
    got = _scipy_quiet(func, x)
    np.testing.assert_allclose(got, expected, rtol=1e-12, equal_nan=True)


@pytest.mark.parametrize(
    "func", [softmax, log_softmax, logsumexp], ids=lambda f: f.__name__
)
@pytest.mark.parametrize("row", NONFINITE_ROWS)
def test_nonfinite_rows_emit_no_warning(func, row):
    """BUG (softmax, log_softmax): +inf / all -inf rows emit RuntimeWarning."""
    x = np.array([row, [0.5, -1.0, 2.0]])
    _no_warnings(func, x)


@pytest.mark.parametrize("func", [softmax, log_softmax], ids=lambda f: f.__name__)
def test_nonfinite_along_axis0_match_scipy(func):
    x = np.array([[-np.inf, 1.0, np.inf], [-np.inf, -np.inf, 0.0]])
    expected = _scipy_quiet(getattr(scipy.special, func.__name__), x, axis=0)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        got = func(x, axis=0)
    np.testing.assert_allclose(got, expected, rtol=1e-12, equal_nan=True)


# Issue 12, defect 2: a row whose maximum is nan or +inf next to a large finite
# entry (whose exponential overflows unless it is shifted).
# ``big`` is the dtype's largest float and ``large`` a value whose exponential
# overflows in float64 (and float32) unless the row is shifted.
NONFINITE_MAX_NEXT_TO_LARGE = [
    ("inf", "large"),
    ("nan", "large"),
    ("inf", "big", "-big"),
    ("nan", "-big", "large"),
    ("large", "inf", "nan"),
    ("-inf", "nan", "large"),
]


def _row(names, dtype):
    big = np.finfo(dtype).max
    values = {"large": 1000.0, "big": big, "-big": -big}
    values.update({"inf": np.inf, "-inf": -np.inf, "nan": np.nan})
    return np.array([values[name] for name in names], dtype=dtype)


@pytest.mark.parametrize(
    "func", [softmax, log_softmax, logsumexp], ids=lambda f: f.__name__
)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("row", NONFINITE_MAX_NEXT_TO_LARGE)
def test_nonfinite_max_next_to_large_entry_no_overflow_warning(func, dtype, row):
    """Defect 2: scipy's nan/inf values, without "overflow encountered in exp"."""
    row = _row(row, dtype)
    x = np.vstack([row, np.array([0.5, -1.0, 2.0][: row.size], dtype=dtype)])
    expected = _scipy_quiet(getattr(scipy.special, func.__name__), x, axis=-1)
    got = _no_warnings(func, x)
    np.testing.assert_allclose(got, expected, rtol=1e-6, equal_nan=True)
    one_row = _no_warnings(func, row)
    np.testing.assert_allclose(one_row, expected[0], rtol=1e-6, equal_nan=True)


@pytest.mark.parametrize(
    "func", [softmax, log_softmax, logsumexp], ids=lambda f: f.__name__
)
@pytest.mark.parametrize(
    "value",
    [3.0, np.float64(2.0), np.float32(-1.5), 7, np.array(1e308), np.inf, np.nan],
    ids=repr,
)
@pytest.mark.parametrize("axis", [None, -1, 0])
def test_zero_dimensional_input_matches_scipy(func, value, axis):
    """Defect 1: 0-d input (a Python or numpy scalar) gives scipy's value."""
    expected = _scipy_quiet(getattr(scipy.special, func.__name__), value, axis=axis)
    got = _no_warnings(func, value, axis=axis)
    assert np.ndim(got) == 0
    np.testing.assert_allclose(got, expected, rtol=1e-6, equal_nan=True)


# -- bad input -------------------------------------------------------------------


@pytest.mark.parametrize(
    "func", [softmax, log_softmax, logsumexp], ids=lambda f: f.__name__
)
@pytest.mark.parametrize(
    "bad",
    [
        np.array([1.0 + 1j, 2.0]),
        np.array([1.0, 2.0], dtype=np.complex64),
        [1j, 0j],
    ],
    ids=["complex128", "complex64", "complex-list"],
)
def test_complex_input_raises_type_error(func, bad):
    with pytest.raises(TypeError):
        func(bad)


@pytest.mark.parametrize(
    "func", [softmax, log_softmax, logsumexp], ids=lambda f: f.__name__
)
@pytest.mark.parametrize(
    "bad",
    [["a", "b"], np.array(["x", "yy"]), ["1.0", "2.0"], np.array([b"1", b"2"])],
    ids=["letters", "unicode-array", "numeric-strings", "numeric-bytes"],
)
def test_string_input_raises_type_error(func, bad):
    """BUG for numeric strings: ``_as_float_array`` parses them as numbers."""
    with pytest.raises(TypeError):
        func(bad)


# -- properties (hypothesis) -------------------------------------------------------

wide_arrays = arrays(
    np.float64,
    array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=8),
    elements=st.floats(-1e300, 1e300, allow_nan=False, allow_infinity=False),
)


def _row_scale(x):
    """Absolute rounding slack per row: a few ulps of the largest magnitude."""
    return 8 * EPS * (np.abs(x).max(axis=-1, keepdims=True) + np.log(x.shape[-1]) + 1)


@settings(deadline=None, max_examples=60)
@given(wide_arrays)
def test_property_rows_sum_to_one(x):
    original = x.copy()
    p = _no_warnings(softmax, x)
    assert np.all(np.isfinite(p)) and np.all(p >= 0)
    np.testing.assert_allclose(p.sum(axis=-1), 1.0, rtol=1e-12)
    if x.ndim == 2:
        p0 = _no_warnings(softmax, x, axis=0)
        np.testing.assert_allclose(p0.sum(axis=0), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(x, original)


@settings(deadline=None, max_examples=60)
@given(
    arrays(
        np.int64,
        array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=8),
        elements=st.integers(-(2**40), 2**40),
    ),
    st.integers(-(2**30), 2**30),
)
def test_property_shift_invariance(k, m):
    # Dyadic values with 10 fractional bits: x + c and every shift by the
    # maximum are exact, so the shifted input has exactly the same softmax.
    x = k * 2.0**-10
    c = m * 2.0**-10
    expected = _no_warnings(softmax, x)
    np.testing.assert_allclose(_no_warnings(softmax, x + c), expected, rtol=1e-12)
    np.testing.assert_allclose(
        _no_warnings(log_softmax, x + c),
        _no_warnings(log_softmax, x),
        rtol=1e-12,
        atol=1e-12,
    )
    np.testing.assert_allclose(
        _no_warnings(logsumexp, x + c), _no_warnings(logsumexp, x) + c, rtol=1e-12
    )


@settings(deadline=None, max_examples=60)
@given(wide_arrays)
def test_property_logsumexp_is_a_smooth_maximum(x):
    original = x.copy()
    lse = _no_warnings(logsumexp, x, keepdims=True)
    assert np.all(np.isfinite(lse))
    xmax = x.max(axis=-1, keepdims=True)
    n = x.shape[-1]
    slack = _row_scale(x)
    assert np.all(xmax - slack <= lse)
    assert np.all(lse <= xmax + np.log(n) + slack)
    np.testing.assert_array_equal(x, original)


@settings(deadline=None, max_examples=60)
@given(wide_arrays)
def test_property_log_softmax_is_x_minus_logsumexp(x):
    original = x.copy()
    lp = _no_warnings(log_softmax, x)
    assert np.all(np.isfinite(lp))
    expected = x - _no_warnings(logsumexp, x, keepdims=True)
    assert np.all(np.abs(lp - expected) <= 1e-12 * np.abs(expected) + _row_scale(x))
    np.testing.assert_array_equal(x, original)


@settings(deadline=None, max_examples=40)
@given(
    arrays(
        np.float64,
        array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=8),
        elements=st.floats(-700, 700, allow_nan=False, allow_infinity=False),
    )
)
def test_property_matches_scipy_moderate_range(x):
    np.testing.assert_allclose(
        softmax(x), scipy.special.softmax(x, axis=-1), rtol=1e-12, atol=1e-300
    )
    np.testing.assert_allclose(
        logsumexp(x), scipy.special.logsumexp(x, axis=-1), rtol=1e-12, atol=1e-13
    )


@pytest.mark.parametrize(
    "func", [softmax, log_softmax, logsumexp], ids=lambda f: f.__name__
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_input_not_modified(func, dtype):
    x = np.random.default_rng(4).normal(scale=100.0, size=(5, 6)).astype(dtype)
    original = x.copy()
    func(x)
    func(x, axis=0)
    np.testing.assert_array_equal(x, original)


# -- the training kernels (private: used by the loss only) ------------------


@pytest.mark.parametrize(
    "dtype, far", [(np.float64, -720.0), (np.float32, np.float32(-95.0))]
)
def test_training_kernels_keep_probabilities_out_of_the_subnormal_range(dtype, far):
    """Subnormal probabilities make every product with them ~100x slower;
    the kernels the loss uses keep them at a normal floor instead, a change
    far below the precision of the other entries."""
    from sksoftmax.special import _softmax_columns_inplace, _softplus_sigmoid_inplace

    tiny = np.finfo(dtype).tiny
    Z = np.array([[0.0, 0.0, 0.0], [far, -3.0, 2 * far], [-1.0, far, 0.5]], dtype)
    P = Z.copy()
    lse = _softmax_columns_inplace(P)
    assert not np.any((P != 0) & (np.abs(P) < tiny))
    np.testing.assert_allclose(
        P, scipy.special.softmax(Z.astype(float), axis=0), rtol=1e-6, atol=1e-24
    )
    np.testing.assert_allclose(
        lse, scipy.special.logsumexp(Z.astype(float), axis=0), rtol=1e-6
    )
    S = np.array([far, -far, 0.0, 2 * far], dtype)
    softplus = np.empty_like(S)
    sig = _softplus_sigmoid_inplace(S.copy(), softplus)
    assert not np.any((sig != 0) & (np.abs(sig) < tiny))
    np.testing.assert_allclose(sig, scipy.special.expit(S.astype(float)), atol=1e-24)
    np.testing.assert_allclose(
        softplus, np.logaddexp(0, S.astype(float)), rtol=1e-6, atol=1e-24
    )


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_softmax_kernel_on_no_samples(dtype):
    """An empty block (no columns) has no minimum to test against the floor."""
    from sksoftmax.special import _softmax_columns_inplace

    lse = _softmax_columns_inplace(np.empty((3, 0), dtype))
    assert lse.shape == (0,)


@pytest.mark.parametrize("dtype, top", [(np.float64, 1e20), (np.float32, 3e9)])
def test_softmax_kernel_keeps_its_floor_relative_to_huge_scores(dtype, top):
    """Scores so large that ``top + floor`` rounds to ``top``: the floor must
    still apply to the shifted scores, so the other classes keep a
    negligible probability instead of tying with the top one."""
    from sksoftmax.special import _softmax_columns_inplace

    Z = np.array([[top, -top], [0.999 * top, -0.5 * top], [0.5 * top, -top]], dtype)
    P = Z.copy()
    lse = _softmax_columns_inplace(P)
    reference = scipy.special.softmax(Z.astype(np.float64), axis=0)
    np.testing.assert_allclose(P, reference, rtol=1e-6, atol=1e-20)
    np.testing.assert_allclose(
        lse, scipy.special.logsumexp(Z.astype(np.float64), axis=0), rtol=1e-6
    )


@settings(max_examples=200, deadline=None)
@given(
    arrays(
        np.float64,
        array_shapes(min_dims=2, max_dims=2, max_side=6),
        elements=st.floats(-800, 800),
    )
)
def test_property_fused_softplus_and_sigmoid_match_scipy(z):
    """The loss's fused kernel against two independent references, to a few
    units in the last place (relative, so small probabilities count too;
    the references round too, differently across numpy versions)."""
    from sksoftmax.special import _softplus_sigmoid_inplace

    softplus = np.empty_like(z)
    sigmoid = _softplus_sigmoid_inplace(z.copy(), softplus)
    reference = scipy.special.expit(z)
    normal = reference > np.exp(-600)
    np.testing.assert_allclose(sigmoid[normal], reference[normal], rtol=1e-15)
    # Below the floor, softplus(z) = exp(z) is kept at exp(-600): absolute.
    np.testing.assert_allclose(
        softplus, np.logaddexp(0, z), rtol=1e-15, atol=np.exp(-600.0)
    )


@pytest.mark.parametrize("layout", ["C", "F"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fused_softplus_and_sigmoid_in_slices(dtype, layout, monkeypatch):
    """Slices smaller than the array, the last one partial, and arrays
    without flat views: every entry as scipy computes it, in the dtype."""
    import sksoftmax.special as special

    monkeypatch.setattr(special, "SOFTPLUS_SLICE", 7)
    rng = np.random.default_rng(0)
    z = np.asarray(rng.normal(-1.0, 4.0, size=(5, 9)), dtype=dtype, order=layout)
    softplus = np.empty_like(z)
    sigmoid = special._softplus_sigmoid_inplace(z.copy(order=layout), softplus)
    assert sigmoid.dtype == softplus.dtype == dtype
    rtol = 1e-15 if dtype == np.float64 else 1e-6
    reference = z.astype(np.float64)
    np.testing.assert_allclose(sigmoid, scipy.special.expit(reference), rtol=rtol)
    np.testing.assert_allclose(softplus, np.logaddexp(0, reference), rtol=rtol)


@settings(max_examples=100, deadline=None)
@given(
    st.sampled_from([np.float64, np.float32]),
    st.integers(1, 7),
    st.integers(0, 9),
    st.floats(0.0, 1.0),
    st.integers(0, 2**32 - 1),
)
def test_softmax_kernel_without_shift_matches_scipy(dtype, K, n, fraction, seed):
    """Given a bound on |scores| within ``_UNSHIFTED_MAX_ABS``, the kernel
    skips the shift by each column's maximum; its probabilities and
    log-sum-exp stay those of scipy.special, with every probability a
    normal number, up to scores at the bound itself."""
    from sksoftmax.special import _UNSHIFTED_MAX_ABS, _softmax_columns_inplace

    bound = float(_UNSHIFTED_MAX_ABS[dtype])
    rng = np.random.default_rng(seed)
    Z = (rng.uniform(-1.0, 1.0, (K, n)) * fraction * bound).astype(dtype)
    if n:
        Z[0, 0] = dtype(bound)  # the extremes the bound allows
        Z[-1, -1] = dtype(-bound)
    P = Z.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lse = _softmax_columns_inplace(P, max_abs=bound)
    reference = Z.astype(np.float64)
    rtol = 1e-12 if dtype == np.float64 else 2e-5
    np.testing.assert_allclose(
        P, scipy.special.softmax(reference, axis=0), rtol=rtol, atol=0
    )
    np.testing.assert_allclose(
        lse, scipy.special.logsumexp(reference, axis=0), rtol=rtol, atol=rtol
    )
    assert np.all(P >= np.finfo(dtype).tiny)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_softmax_kernel_shifts_when_the_bound_is_too_large(dtype):
    """A bound beyond ``_UNSHIFTED_MAX_ABS`` takes the shifted path: scores
    whose exponentials overflow still give exact probabilities, without a
    warning."""
    from sksoftmax.special import _UNSHIFTED_MAX_ABS, _softmax_columns_inplace

    top = 2 * float(_UNSHIFTED_MAX_ABS[dtype]) + 100.0
    Z = np.array([[top, -top], [top - 1.0, 0.0], [0.0, -1.0]], dtype)
    P = Z.copy()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lse = _softmax_columns_inplace(P, max_abs=top)
    reference = Z.astype(np.float64)
    # atol: the kernel's floor (float32: exp(-60), about 9e-27).
    np.testing.assert_allclose(
        P, scipy.special.softmax(reference, axis=0), rtol=1e-5, atol=1e-25
    )
    np.testing.assert_allclose(
        lse, scipy.special.logsumexp(reference, axis=0), rtol=1e-6
    )
