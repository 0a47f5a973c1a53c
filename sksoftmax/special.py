"""Numerically stable softmax, log-softmax and log-sum-exp.

All three shift their input by its maximum along ``axis`` before taking
exponentials.  The shift leaves the mathematical result unchanged, because
``softmax(x) == softmax(x - c)`` for any constant ``c``, but it guarantees that
the largest exponent is ``exp(0) == 1``: nothing overflows, and the
denominator is at least one, so nothing is divided by zero.

Finite inputs of any magnitude therefore give finite results with no
``RuntimeWarning``.  Non-finite input follows :mod:`scipy.special`: a row whose
maximum is ``+inf`` or ``nan``, or that is entirely ``-inf``, has an undefined
softmax (``nan``), while ``-inf`` entries next to finite ones simply get
probability zero. Such rows are shifted by their largest *finite* entry, so
their finite entries never overflow either, and still no warning is raised.
"""

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import expit, log_expit

__all__ = ["logsumexp", "softmax", "log_softmax"]


def _as_float_array(a):
    """Return ``a`` as a floating array, keeping float32/float64 as given."""
    a = np.asarray(a)
    if np.iscomplexobj(a):
        raise TypeError("complex input is not supported; pass real numbers")
    if a.dtype.kind == "f":
        return a
    if a.dtype.kind in "biu":
        return a.astype(np.float64)
    if a.dtype.kind in "USVMm":
        raise TypeError(f"expected an array of real numbers, got dtype {a.dtype}")
    try:
        return a.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"expected an array of real numbers, got dtype {a.dtype}"
        ) from exc


def _shift_by_max(a, axis):
    """Subtract the maximum along ``axis``.

    Returns the shifted array (always an ndarray, also for 0-d input, so it
    can be overwritten in place), the shift (kept dims) and a mask of the
    slices whose maximum is finite.

    A slice whose maximum is not finite (``+inf`` or ``nan``, or every entry
    ``-inf``) is shifted by its largest finite entry instead (0 when it has
    none): ``inf - inf`` never happens here, and its finite entries, which
    may be as large as 1e308, cannot overflow in ``exp``. Its result is then
    made of ``inf`` and ``nan`` exactly as scipy's.
    """
    amax = np.max(a, axis=axis, keepdims=True, initial=-np.inf)
    finite = np.isfinite(amax)
    shift = amax
    if not finite.all():
        finite_entries = np.where(np.isfinite(a), a, -np.inf)
        finite_max = np.max(finite_entries, axis=axis, keepdims=True, initial=-np.inf)
        shift = np.where(finite, amax, finite_max)
        shift = np.where(np.isfinite(shift), shift, 0)
    shift = np.asarray(shift, dtype=a.dtype)
    shifted = np.empty(a.shape, dtype=a.dtype)
    # ``a - shift`` can only overflow towards -inf (e.g. -1e308 - 1e308),
    # whose exponential is the correct value, 0.
    with np.errstate(over="ignore"):
        np.subtract(a, shift, out=shifted)
    return shifted, shift, finite


def _log_sum_exp_shifted(shifted, axis):
    """``log(sum(exp(shifted)))`` along ``axis``; ``shifted`` is overwritten."""
    np.exp(shifted, out=shifted)
    total = np.sum(shifted, axis=axis, keepdims=True)
    # total == 0 only for all -inf slices, where log gives the right -inf.
    with np.errstate(divide="ignore"):
        return np.log(total)


def logsumexp(
    a: ArrayLike, axis: int | tuple[int, ...] | None = -1, keepdims: bool = False
) -> np.ndarray | np.floating:
    """Compute ``log(sum(exp(a)))`` along an axis without overflow.

    Parameters
    ----------
    a : array-like
        Input values. Integer input is converted to float64; float32 stays
        float32.
    axis : int, tuple of int or None, default=-1
        Axis or axes to reduce. ``None`` reduces over all elements.
    keepdims : bool, default=False
        Keep the reduced axes as dimensions of size one.

    Returns
    -------
    out : ndarray or float
        The log-sum-exp. It is a smooth maximum:
        ``max(a) <= logsumexp(a) <= max(a) + log(n)``.

    See Also
    --------
    softmax : The gradient of ``logsumexp``.
    scipy.special.logsumexp : The reference implementation.

    Notes
    -----
    With :math:`c = \\max_j a_j`,

    .. math:: \\operatorname{LSE}(a) = c + \\log \\sum_j e^{a_j - c},

    where every exponent is at most zero, so the sum lies in :math:`[1, n]`.

    Examples
    --------
    >>> from sksoftmax.special import logsumexp
    >>> round(float(logsumexp([1000.0, 1000.0])) - 1000.0, 12)  # log(2)
    0.69314718056
    >>> round(float(logsumexp([-1000.0, -1000.0, -1000.0])) + 1000.0, 12)  # log(3)
    1.098612288668
    """
    a = _as_float_array(a)
    shifted, shift, _ = _shift_by_max(a, axis)
    log_total = _log_sum_exp_shifted(shifted, axis)
    # Rows with a non-finite maximum: log_total is inf or nan (or -inf when
    # every entry is -inf), so the sum is scipy's value.
    out = shift + log_total
    if not keepdims:
        out = np.squeeze(out, axis=axis) if axis is not None else out.reshape(())
    return out[()] if out.ndim == 0 else out


def softmax(a: ArrayLike, axis: int | tuple[int, ...] | None = -1) -> np.ndarray:
    """Compute the softmax ``exp(a) / sum(exp(a))`` along an axis.

    Parameters
    ----------
    a : array-like
        Input values (logits). Integer input is converted to float64;
        float32 stays float32.
    axis : int, tuple of int or None, default=-1
        Axis along which the result sums to one.

    Returns
    -------
    out : ndarray
        Probabilities of the same shape as ``a``, summing to one along
        ``axis``.

    See Also
    --------
    log_softmax : Its logarithm, computed without forming the softmax.
    scipy.special.softmax : The reference implementation.

    Notes
    -----
    Softmax is really a *soft arg-max*: as the logits are scaled up, it tends
    to the one-hot indicator of the largest one.

    Examples
    --------
    >>> import numpy as np
    >>> from sksoftmax.special import softmax
    >>> softmax(np.array([1000.0, 500.0, 500.0])).round(6)
    array([1., 0., 0.])
    >>> softmax(np.array([-1000.0, -1000.0, -1000.0]))
    array([0.33333333, 0.33333333, 0.33333333])
    """
    a = _as_float_array(a)
    shifted, _, finite = _shift_by_max(a, axis)
    np.exp(shifted, out=shifted)
    # 0/0 or inf/inf only in rows with a non-finite maximum, replaced below.
    with np.errstate(invalid="ignore", divide="ignore"):
        shifted /= np.sum(shifted, axis=axis, keepdims=True)
    if not finite.all():
        # Undefined where the maximum is +inf or every entry is -inf (as scipy).
        shifted = np.where(finite, shifted, np.nan).astype(a.dtype, copy=False)
    return shifted


def log_softmax(a: ArrayLike, axis: int | tuple[int, ...] | None = -1) -> np.ndarray:
    """Compute ``log(softmax(a))`` along an axis, finite for finite input.

    Parameters
    ----------
    a : array-like
        Input values (logits). Integer input is converted to float64;
        float32 stays float32.
    axis : int, tuple of int or None, default=-1
        Axis along which ``exp(out)`` sums to one.

    Returns
    -------
    out : ndarray
        Log-probabilities of the same shape as ``a``.

    See Also
    --------
    softmax
    scipy.special.log_softmax : The reference implementation.

    Notes
    -----
    ``log_softmax(a) = (a - c) - log(sum(exp(a - c)))`` with ``c = max(a)``.
    Unlike ``log(softmax(a))``, it does not underflow to ``-inf`` when a
    probability is below the smallest float: ``log_softmax([0, -1000])`` is
    ``[0, -1000]``. It is ``-inf`` only where the true value is below the
    most negative float (about ``-1.8e308``) or the input entry is ``-inf``.

    Examples
    --------
    >>> import numpy as np
    >>> from sksoftmax.special import log_softmax
    >>> log_softmax(np.array([1000.0, 500.0, 500.0]))
    array([   0., -500., -500.])
    """
    a = _as_float_array(a)
    shifted, _, _ = _shift_by_max(a, axis)
    out = shifted.copy()
    # inf - inf (nan) only in rows with a non-finite maximum, where scipy's
    # ``a - logsumexp(a)`` gives the same nan and -inf entries.
    with np.errstate(invalid="ignore"):
        out -= _log_sum_exp_shifted(shifted, axis)
    return out


# -- in-place kernels for the losses ------------------------------------------
# The losses work on (n_outputs, n_samples) arrays of finite scores that they
# own, so these skip the copies and the non-finite handling of the public
# functions above: the maths is the same, in one place.


# Smallest shifted score (log-odds) exponentiated, per precision: exp(-600) = 3e-261
# (float64) and exp(-60) = 9e-27 (float32) stay normal numbers after the
# products with weights as small as 1e-30 (float64) or 1e-6 (float32).
_EXP_FLOOR = {np.float64: -600.0, np.float32: np.float32(-60.0)}


# Largest |score| for which the softmax may skip the shift by each column's
# maximum, per precision. With every |z| <= B, exp(z) is at most K e^B (no
# overflow) and each probability at least e^(-2B) / K, which stays a normal
# number for any practical K: 2 * 300 + log K < 708 (float64's smallest
# normal is e^-708) and 2 * 30 + log K < 87 (float32's is e^-87) for K below
# e^100 and e^27 classes. So the unshifted probabilities are as accurate as
# the shifted ones and never enter the subnormal range that the floor below
# guards against; the shift, its maximum and the floor's test cost three of
# the kernel's six passes (1.4x faster on 5-26 classes x 5,500-6,700 rows).
_UNSHIFTED_MAX_ABS = {np.float64: 300.0, np.float32: 30.0}


def _normalise_columns(Z, total):
    """``Z /= total`` column by column, as a product with the reciprocals
    of the n_samples totals: a division per entry costs several products
    (26 x 10,000 scores: 88 us against 31 us)."""
    Z *= np.reciprocal(total)


def _softmax_columns_inplace(Z, max_abs=None):
    """Overwrite finite scores ``Z`` (n_classes, n_samples) with their
    column-wise softmax; return each column's log-sum-exp in float64.

    ``max_abs``, if given, is a bound on ``|Z|``: within
    ``_UNSHIFTED_MAX_ABS`` the exponentials need no shift.
    """
    if max_abs is not None and max_abs <= _UNSHIFTED_MAX_ABS[Z.dtype.type]:
        np.exp(Z, out=Z)
        total = Z.sum(axis=0)
        _normalise_columns(Z, total)
        return np.log(total, dtype=np.float64)
    zmax = Z.max(axis=0)
    Z -= zmax
    # Probabilities below exp(floor) are kept at exp(floor): a change far
    # below rounding, which keeps them, and the products made from them,
    # out of the subnormal range, where arithmetic is about 100x slower.
    # In float32 the floor is a row, not a scalar: numpy's float32 maximum
    # with a scalar operand runs 7x slower (1e6 scores: 0.78 ms against
    # 0.11 ms; float64 shows no such gap, and the row's allocation cost 3%).
    # (Flooring before the shift, against zmax + floor, would need no row,
    # but for |zmax| above floor / eps that sum rounds to zmax itself and
    # every class would get the top probability.)
    # The floor is applied only when some score is below it: the test (a
    # read-only minimum) costs a fifth of the flooring pass, which was 7-9%
    # of an evaluation on 20,000 x 16 with 26 classes and 11,000 x 16 with
    # 10, and scores that far apart are rare.
    floor = _EXP_FLOOR[Z.dtype.type]
    if Z.size and Z.min() < floor:
        if Z.dtype == np.float32:
            floor = np.full(Z.shape[-1], floor, Z.dtype)
        np.maximum(Z, floor, out=Z)
    np.exp(Z, out=Z)
    total = Z.sum(axis=0)
    _normalise_columns(Z, total)
    return zmax.astype(np.float64) + np.log(total, dtype=np.float64)


# Elements per slice of the fused kernel below: its three work arrays of
# this many float64 (256 KiB each) stay in a core's L2 cache (1 MiB on the
# benchmark machine) across its dozen passes; on 50 x 10,000 scores slices of
# 8,192 were 10% slower (per-call overhead), 131,072 no faster.
SOFTPLUS_SLICE = 32_768


def _softplus_sigmoid_inplace(z, softplus):
    """Write ``log(1 + exp(z))`` into ``softplus`` and overwrite ``z`` with
    ``1 / (1 + exp(-z))``: exact and warning-free for every finite ``z``.

    Both come from one exponential, ``e = exp(-|z|)``:
    ``softplus = max(z, 0) + log1p(e)``, and the sigmoid is
    ``num / (1 + e)`` with ``num = e`` for ``z < 0`` and 1 otherwise (never
    ``1 - ...``, which would lose the small probabilities). Two exponentials
    fewer than a softplus and a sigmoid apart: on the benchmark's 50-label
    problem these element-wise functions cost more than the matrix
    products. ``e`` is floored at ``exp(floor)``, as in the softmax, to stay
    out of the subnormal range.

    The sign enters as a 0/1 array in plain arithmetic (a product gives
    ``max(z, 0)``, a maximum the numerator), not through ufuncs with a
    ``where=`` mask, which cost 6x a plain pass when the signs are mixed
    (branch mispredictions), nor through ``np.where``, which cost as much
    as six to twenty plain passes (85 us per 32,768 entries): the kernel
    became 1.1x faster in float64 and 1.3x in float32 (50 x 20,000 scores).
    Slices of ``SOFTPLUS_SLICE`` elements keep the work arrays in cache:
    1.1-1.3x faster than the masked version on mostly negative scores (rare
    labels), 1.6-2.7x on mixed signs.
    """
    if not (z.flags.c_contiguous and softplus.flags.c_contiguous):
        # The slices are of flat views, which only contiguous arrays have.
        z_copy = np.ascontiguousarray(z)
        softplus_copy = np.empty_like(z_copy)
        _softplus_sigmoid_inplace(z_copy, softplus_copy)
        z[...], softplus[...] = z_copy, softplus_copy
        return z
    flat_z, flat_softplus = z.reshape(-1), softplus.reshape(-1)
    size = min(SOFTPLUS_SLICE, flat_z.size)
    e_work, sum_work = np.empty(size, z.dtype), np.empty(size, z.dtype)
    nonnegative_work = np.empty(size, z.dtype)
    # The floor as an array: numpy's float32 maximum with a scalar operand
    # runs several times slower than with an array.
    floor_work = np.full(size, _EXP_FLOOR[z.dtype.type], dtype=z.dtype)
    for start in range(0, flat_z.size, SOFTPLUS_SLICE):
        z_part = flat_z[start : start + SOFTPLUS_SLICE]
        softplus_part = flat_softplus[start : start + SOFTPLUS_SLICE]
        n = z_part.size
        e, work = e_work[:n], sum_work[:n]
        nonnegative = nonnegative_work[:n]
        # 1.0 where z >= 0, else 0.0: the sign as a number, so that every
        # selection below is plain arithmetic.
        np.greater_equal(z_part, 0, out=nonnegative)
        np.abs(z_part, out=e)
        np.negative(e, out=e)
        np.maximum(e, floor_work[:n], out=e)
        np.exp(e, out=e)
        np.multiply(z_part, nonnegative, out=softplus_part)  # max(z, 0)
        np.log1p(e, out=work)
        softplus_part += work
        np.add(e, 1, out=work)
        # The numerator: 1 where z >= 0 (there e <= 1), e elsewhere.
        np.maximum(e, nonnegative, out=nonnegative)
        np.divide(nonnegative, work, out=z_part)
    return z


def _binary_proba(scores):
    """``[P(negative), P(positive)]`` from log-odds of shape (n_samples, 1)."""
    return np.hstack([expit(-scores), expit(scores)])


def _binary_log_proba(scores):
    """Logarithm of :func:`_binary_proba`, finite for every finite score."""
    return np.hstack([log_expit(-scores), log_expit(scores)])
