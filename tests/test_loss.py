"""Losses of sksoftmax._loss against finite differences and independent references."""

import warnings

import bound_objective as bound
import numpy as np
import pytest
import scipy.sparse as sp
import scipy.special
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import log_loss

from sksoftmax._loss import (
    BinaryLoss,
    MultinomialLoss,
    RowBlock,
    binary_objective,
    multinomial_objective,
)

N_SAMPLES, N_FEATURES, N_OUTPUTS = 30, 4, 3


# -- helpers ---------------------------------------------------------------------


def _data(seed, dtype=np.float64):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(N_SAMPLES, N_FEATURES)).astype(dtype)
    X[rng.random(X.shape) < 0.3] = 0.0  # some structural zeros for CSR
    y = rng.integers(0, N_OUTPUTS, N_SAMPLES)
    y[:N_OUTPUTS] = np.arange(N_OUTPUTS)
    Y = (rng.random((N_SAMPLES, N_OUTPUTS)) < 0.4).astype(np.float64)
    return X, y, Y


def _weights(kind, seed):
    rng = np.random.default_rng(seed + 100)
    if kind == "unit":
        return np.ones(N_SAMPLES)
    if kind == "per-sample":
        s = rng.uniform(0.2, 3.0, N_SAMPLES)
        s[1] = 0.0
        return s
    # per sample and output (BinaryLoss only)
    s = rng.uniform(0.2, 3.0, (N_SAMPLES, N_OUTPUTS))
    s[2, 1] = 0.0
    return s


def _coef(seed, fit_intercept, logit_scale):
    rng = np.random.default_rng(seed + 200)
    coef = rng.normal(size=(N_OUTPUTS, N_FEATURES + fit_intercept))
    # Features are ~N(0, 1) with 30% zeros, so logits are ~ logit_scale.
    return coef * logit_scale / np.sqrt(N_FEATURES)


def _build(kind, X, y, Y, s, fit_intercept):
    if kind == "multinomial":
        return bound.multinomial(X, y, s, N_OUTPUTS, 0.3, fit_intercept)
    return bound.binary(X, Y, s, np.array([0.3, 1.5, 0.0]), fit_intercept)


def _augmented(X, fit_intercept):
    Xd = X.toarray() if sp.issparse(X) else np.asarray(X)
    Xd = Xd.astype(np.float64)
    if fit_intercept:
        Xd = np.hstack([Xd, np.ones((Xd.shape[0], 1))])
    return Xd


def _reference_value_gradient(kind, X, y, Y, s, coef, fit_intercept, l2):
    """Objective and gradient from scipy.special / numpy.logaddexp directly."""
    Xa = _augmented(X, fit_intercept)
    Z = Xa @ coef.T
    W = coef[:, :N_FEATURES]
    l2 = np.broadcast_to(np.asarray(l2, dtype=float), (N_OUTPUTS,))
    penalty = 0.5 * np.sum(l2 * np.sum(W**2, axis=1))
    if kind == "multinomial":
        logp = scipy.special.log_softmax(Z, axis=1)
        T = np.eye(N_OUTPUTS)[y]
        value = -np.sum(s * logp[np.arange(N_SAMPLES), y]) + penalty
        G = s[:, None] * (scipy.special.softmax(Z, axis=1) - T)
    else:
        S = np.broadcast_to(s.reshape(N_SAMPLES, -1), Y.shape)
        value = np.sum(S * (np.logaddexp(0.0, Z) - Y * Z)) + penalty
        G = S * (scipy.special.expit(Z) - Y)
    grad = G.T @ Xa
    grad[:, :N_FEATURES] += l2[:, None] * W
    return value, grad


def _central_gradient(f, x, h):
    g = np.zeros_like(x)
    flat, gflat = x.reshape(-1), g.reshape(-1)
    for j in range(flat.size):
        xp, xm = flat.copy(), flat.copy()
        xp[j] += h
        xm[j] -= h
        gflat[j] = (f(xp.reshape(x.shape)) - f(xm.reshape(x.shape))) / (2 * h)
    return g


def _assert_close(actual, desired, rtol):
    """Relative agreement, entries judged against the largest magnitude."""
    desired = np.asarray(desired)
    np.testing.assert_allclose(
        actual, desired, rtol=rtol, atol=rtol * np.abs(desired).max()
    )


LOSS_CASES = [
    ("multinomial", "unit"),
    ("multinomial", "per-sample"),
    ("binary", "unit"),
    ("binary", "per-sample"),
    ("binary", "per-output"),
]


# -- gradient --------------------------------------------------------------------


@pytest.mark.parametrize("logit_scale", [1.0, 1e4], ids=["moderate", "extreme"])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("kind, weights", LOSS_CASES)
def test_gradient_matches_finite_differences(
    kind, weights, fit_intercept, sparse, logit_scale
):
    X, y, Y = _data(0)
    s = _weights(weights, 0)
    Xin = sp.csr_matrix(X) if sparse else X
    loss = _build(kind, Xin, y, Y, s, fit_intercept)
    coef = _coef(0, fit_intercept, logit_scale)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value, grad = loss.loss_gradient(coef)
        # At logits ~1e4 the loss is piecewise linear up to exp(-hundreds), so
        # a large step is exact; at moderate logits a small one is.
        h = 1e-3 if logit_scale > 1 else 1e-5
        fd = _central_gradient(loss.loss, coef, h)
    Z = _augmented(X, fit_intercept) @ coef.T
    if logit_scale > 1:
        assert np.abs(Z).max() > 5e3  # really in the extreme regime
    assert np.isfinite(value) and np.all(np.isfinite(grad))
    assert grad.shape == coef.shape == loss.coef_shape
    _assert_close(grad, fd, rtol=1e-6)
    ref_value, ref_grad = _reference_value_gradient(
        kind, X, y, Y, s, coef, fit_intercept, loss.l2_reg
    )
    np.testing.assert_allclose(value, ref_value, rtol=1e-12)
    np.testing.assert_allclose(loss.loss(coef), ref_value, rtol=1e-12)
    _assert_close(grad, ref_grad, rtol=1e-10)


@pytest.mark.parametrize("logit_scale", [1e6, 1e100])
@pytest.mark.parametrize("kind", ["multinomial", "binary"])
def test_huge_logits_finite_without_warning(kind, logit_scale):
    X, y, Y = _data(1)
    s = _weights("per-sample", 1)
    loss = _build(kind, X, y, Y, s, True)
    coef = _coef(1, True, logit_scale)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value, grad = loss.loss_gradient(coef)
        curv = loss.curvature_weights(coef)
    assert np.isfinite(value) and np.all(np.isfinite(grad)) and np.all(curv >= 0)
    ref_value, ref_grad = _reference_value_gradient(
        kind, X, y, Y, s, coef, True, loss.l2_reg
    )
    np.testing.assert_allclose(value, ref_value, rtol=1e-10)
    _assert_close(grad, ref_grad, rtol=1e-10)


# -- public objectives at scikit-learn's scale -------------------------------------


def _split(coef, fit_intercept):
    if fit_intercept:
        return coef[:, :N_FEATURES], coef[:, N_FEATURES]
    return coef, None


@pytest.mark.parametrize("C", [0.3, 1.0, np.inf])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
def test_multinomial_objective_matches_reference(C, sparse, fit_intercept, weighted):
    X, y, _ = _data(2)
    s = _weights("per-sample", 2) if weighted else None
    s_ref = np.ones(N_SAMPLES) if s is None else s
    coef = _coef(2, fit_intercept, 2.0)
    W, b = _split(coef, fit_intercept)
    Xin = sp.csr_matrix(X) if sparse else X
    value, gW, gb = multinomial_objective(W, b, Xin, y, sample_weight=s, C=C)

    Z = _augmented(X, fit_intercept) @ coef.T
    ce = -scipy.special.log_softmax(Z, axis=1)[np.arange(N_SAMPLES), y]
    if np.isinf(C):
        expected = np.sum(s_ref * ce)
        sk = log_loss(
            y,
            scipy.special.softmax(Z, axis=1),
            normalize=False,
            sample_weight=s_ref,
            labels=np.arange(N_OUTPUTS),
        )
    else:
        expected = C * np.sum(s_ref * ce) + 0.5 * np.sum(W**2)
        sk = C * log_loss(
            y,
            scipy.special.softmax(Z, axis=1),
            normalize=False,
            sample_weight=s_ref,
            labels=np.arange(N_OUTPUTS),
        ) + 0.5 * np.sum(W**2)
    np.testing.assert_allclose(value, expected, rtol=1e-12)
    np.testing.assert_allclose(value, sk, rtol=1e-10)

    assert gW.shape == W.shape
    assert (gb is None) == (not fit_intercept)

    def f(c):
        return multinomial_objective(*_split(c, fit_intercept), X, y, s, C=C)[0]

    fd = _central_gradient(f, coef, 1e-5)
    grad = gW if gb is None else np.column_stack([gW, gb])
    _assert_close(grad, fd, rtol=1e-6)


@pytest.mark.parametrize("C", [0.3, 1.0, np.inf])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
def test_binary_objective_matches_reference(C, sparse, fit_intercept, weighted):
    X, _, Y = _data(3)
    s = _weights("per-sample", 3) if weighted else None
    s_ref = np.ones(N_SAMPLES) if s is None else s
    coef = _coef(3, fit_intercept, 2.0)
    W, b = _split(coef, fit_intercept)
    Xin = sp.csr_matrix(X) if sparse else X
    value, gW, gb = binary_objective(W, b, Xin, Y, sample_weight=s, C=C)

    Z = _augmented(X, fit_intercept) @ coef.T
    data = np.sum(s_ref[:, None] * (np.logaddexp(0.0, Z) - Y * Z))
    sk = sum(
        log_loss(
            Y[:, k],
            scipy.special.expit(Z[:, k]),
            normalize=False,
            sample_weight=s_ref,
            labels=[0, 1],
        )
        for k in range(N_OUTPUTS)
    )
    scale, penalty = (1.0, 0.0) if np.isinf(C) else (C, 0.5 * np.sum(W**2))
    np.testing.assert_allclose(value, scale * data + penalty, rtol=1e-12)
    np.testing.assert_allclose(value, scale * sk + penalty, rtol=1e-10)

    def f(c):
        return binary_objective(*_split(c, fit_intercept), X, Y, s, C=C)[0]

    fd = _central_gradient(f, coef, 1e-5)
    grad = gW if gb is None else np.column_stack([gW, gb])
    _assert_close(grad, fd, rtol=1e-6)


def test_binary_objective_accepts_1d_targets():
    X, _, Y = _data(4)
    w, b = np.array([[0.5, -1.0, 0.2, 0.0]]), np.array([0.3])
    one_d = binary_objective(w, b, X, Y[:, 0], C=2.0)
    two_d = binary_objective(w, b, X, Y[:, :1], C=2.0)
    np.testing.assert_allclose(one_d[0], two_d[0], rtol=1e-15)
    np.testing.assert_allclose(one_d[1], two_d[1], rtol=1e-15)
    z = X @ w[0] + b[0]
    expected = 2.0 * np.sum(np.logaddexp(0, z) - Y[:, 0] * z) + 0.5 * np.sum(w**2)
    np.testing.assert_allclose(one_d[0], expected, rtol=1e-12)


def test_objective_no_penalty_when_c_is_inf():
    X, y, _ = _data(5)
    W = np.random.default_rng(5).normal(size=(N_OUTPUTS, N_FEATURES))
    value, gW, _ = multinomial_objective(W, None, X, y, C=np.inf)
    Z = X @ W.T
    P = scipy.special.softmax(Z, axis=1)
    np.testing.assert_allclose(gW, (P - np.eye(N_OUTPUTS)[y]).T @ X, rtol=1e-12)
    np.testing.assert_allclose(
        value, -scipy.special.log_softmax(Z, axis=1)[np.arange(N_SAMPLES), y].sum()
    )


# -- dense vs sparse, float32 vs float64 ------------------------------------------


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("kind, weights", LOSS_CASES)
def test_dense_and_csr_agree(kind, weights, fit_intercept):
    X, y, Y = _data(6)
    s = _weights(weights, 6)
    coef = _coef(6, fit_intercept, 3.0)
    dense = _build(kind, X, y, Y, s, fit_intercept)
    csr = _build(kind, sp.csr_matrix(X), y, Y, s, fit_intercept)
    v_d, g_d = dense.loss_gradient(coef)
    v_s, g_s = csr.loss_gradient(coef)
    np.testing.assert_allclose(v_s, v_d, rtol=1e-13)
    _assert_close(g_s, g_d, rtol=1e-13)
    np.testing.assert_allclose(csr.loss(coef), dense.loss(coef), rtol=1e-13)
    _assert_close(csr.curvature_weights(coef), dense.curvature_weights(coef), 1e-13)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("kind, weights", LOSS_CASES)
def test_float32_close_to_float64(kind, weights, fit_intercept, sparse):
    X, y, Y = _data(7)
    s = _weights(weights, 7)
    coef = _coef(7, fit_intercept, 3.0)
    X32 = X.astype(np.float32)
    X64 = X32.astype(np.float64)  # the same numbers, so only arithmetic differs
    if sparse:
        X32, X64 = sp.csr_matrix(X32), sp.csr_matrix(X64)
    v32, g32 = _build(kind, X32, y, Y, s, fit_intercept).loss_gradient(coef)
    v64, g64 = _build(kind, X64, y, Y, s, fit_intercept).loss_gradient(coef)
    assert isinstance(v32, float) and g32.dtype == np.float64
    np.testing.assert_allclose(v32, v64, rtol=1e-4)
    _assert_close(g32, g64, rtol=1e-4)


# -- no copies, no side effects ------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize("kind, weights", LOSS_CASES)
def test_loss_does_not_copy_or_modify_inputs(kind, weights, sparse, dtype):
    X, y, Y = _data(8, dtype)
    s = _weights(weights, 8)
    Xin = sp.csr_matrix(X) if sparse else X
    if sparse:
        snapshot = (Xin.data.copy(), Xin.indices.copy(), Xin.indptr.copy())
    X_copy, y_copy, Y_copy, s_copy = X.copy(), y.copy(), Y.copy(), s.copy()
    coef = _coef(8, True, 1e4)
    coef_copy = coef.copy()

    loss = _build(kind, Xin, y, Y, s, True)
    if sparse:
        assert loss.X is Xin
        assert np.shares_memory(loss.X.data, Xin.data)
    else:
        assert np.shares_memory(loss.X, X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for _ in range(2):
            loss.loss(coef)
            loss.loss_gradient(coef)
            loss.curvature_weights(coef)
        if kind == "multinomial":
            loss.hessian(coef)
        else:
            loss.hessian_blocks(coef)
            loss.loss_per_output(coef)

    np.testing.assert_array_equal(X, X_copy)
    np.testing.assert_array_equal(y, y_copy)
    np.testing.assert_array_equal(Y, Y_copy)
    np.testing.assert_array_equal(s, s_copy)
    np.testing.assert_array_equal(coef, coef_copy)
    if sparse:
        for a, b in zip((Xin.data, Xin.indices, Xin.indptr), snapshot, strict=True):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("kind", ["multinomial", "binary"])
def test_repeated_evaluations_are_independent(kind):
    """The work arrays are reused; a result must not change afterwards."""
    X, y, Y = _data(9)
    s = _weights("per-sample", 9)
    loss = _build(kind, X, y, Y, s, True)
    c1, c2 = _coef(9, True, 1.0), _coef(10, True, 5.0)
    v1, g1 = loss.loss_gradient(c1)
    g1_copy = g1.copy()
    loss.loss_gradient(c2)
    np.testing.assert_array_equal(g1, g1_copy)
    v1b, g1b = loss.loss_gradient(c1)
    assert v1 == v1b
    np.testing.assert_array_equal(g1, g1b)


def test_objective_functions_do_not_modify_inputs():
    X, y, Y = _data(11)
    s = _weights("per-sample", 11)
    W = np.random.default_rng(11).normal(size=(N_OUTPUTS, N_FEATURES))
    b = np.zeros(N_OUTPUTS)
    copies = [a.copy() for a in (X, y, Y, s, W, b)]
    multinomial_objective(W, b, X, y, sample_weight=s, C=0.5)
    binary_objective(W, b, X, Y, sample_weight=s, C=0.5)
    for a, c in zip((X, y, Y, s, W, b), copies, strict=True):
        np.testing.assert_array_equal(a, c)


# -- Hessians ---------------------------------------------------------------------


def _fd_hessian(loss, coef, h=1e-6):
    """Central differences of the analytic gradient, shape (n_params, n_params)."""
    flat = coef.ravel()
    cols = []
    for j in range(flat.size):
        xp, xm = flat.copy(), flat.copy()
        xp[j] += h
        xm[j] -= h
        gp = loss.loss_gradient(xp.reshape(coef.shape))[1].ravel()
        gm = loss.loss_gradient(xm.reshape(coef.shape))[1].ravel()
        cols.append((gp - gm) / (2 * h))
    return np.column_stack(cols)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weights", ["unit", "per-sample"])
def test_multinomial_hessian_matches_finite_differences(weights, fit_intercept, sparse):
    X, y, Y = _data(12)
    s = _weights(weights, 12)
    loss = _build(
        "multinomial", sp.csr_matrix(X) if sparse else X, y, Y, s, fit_intercept
    )
    coef = _coef(12, fit_intercept, 2.0)
    H = loss.hessian(coef)
    n_params = coef.size
    assert H.shape == (n_params, n_params)
    np.testing.assert_allclose(H, H.T, rtol=1e-14, atol=1e-14 * np.abs(H).max())
    _assert_close(H, _fd_hessian(loss, coef), rtol=1e-5)


@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weights", ["unit", "per-sample", "per-output"])
def test_binary_hessian_blocks_match_finite_differences(weights, fit_intercept, sparse):
    X, y, Y = _data(13)
    s = _weights(weights, 13)
    loss = _build("binary", sp.csr_matrix(X) if sparse else X, y, Y, s, fit_intercept)
    coef = _coef(13, fit_intercept, 2.0)
    blocks = loss.hessian_blocks(coef)
    p = N_FEATURES + fit_intercept
    assert blocks.shape == (N_OUTPUTS, p, p)
    fd = _fd_hessian(loss, coef)
    # The objective is separable: the full Hessian is block diagonal.
    full = np.zeros_like(fd)
    for k in range(N_OUTPUTS):
        full[k * p : (k + 1) * p, k * p : (k + 1) * p] = blocks[k]
    _assert_close(full, fd, rtol=1e-5)


@pytest.mark.parametrize("kind", ["multinomial", "binary"])
def test_curvature_weights_match_reference(kind):
    X, y, Y = _data(14)
    s = _weights("per-sample", 14)
    loss = _build(kind, X, y, Y, s, True)
    coef = _coef(14, True, 2.0)
    Z = _augmented(X, True) @ coef.T
    if kind == "multinomial":
        P = scipy.special.softmax(Z, axis=1)
    else:
        P = scipy.special.expit(Z)
    expected = s[:, None] * P * (1 - P)
    _assert_close(loss.curvature_weights(coef), expected, rtol=1e-12)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("Loss", ["multinomial", "binary"])
def test_full_precision_on_float32_X_matches_float64_X(Loss, sparse):
    """After use_full_precision, float32 X is evaluated exactly in float64."""
    rng = np.random.default_rng(7)
    X64 = rng.normal(size=(9000, 6)).astype(np.float32).astype(np.float64)
    y = rng.integers(0, 3, size=9000)
    s = rng.uniform(0.5, 1.5, size=9000)
    if Loss == "multinomial":
        args = (y, s, 3, 0.1, True)
        make = bound.multinomial
    else:
        args = ((y[:, None] == np.arange(3)).astype(float), s, 0.1, True)
        make = bound.binary
    X32 = X64.astype(np.float32)
    if sparse:
        X32, X64 = sp.csr_matrix(X32), sp.csr_matrix(X64)
    low, exact = make(X32, *args), make(X64, *args)
    coef = rng.normal(size=exact.coef_shape)
    assert low.low_precision and not exact.low_precision
    f_low, g_low = low.loss_gradient(coef)
    f_exact, g_exact = exact.loss_gradient(coef)
    assert f_low == pytest.approx(f_exact, rel=1e-5)
    assert low.use_full_precision() and not low.use_full_precision()
    f_full, g_full = low.loss_gradient(coef)
    assert f_full == pytest.approx(f_exact, rel=1e-13)
    np.testing.assert_allclose(g_full, g_exact, rtol=1e-11, atol=1e-14)


def _float32_pair(Loss, sparse, n=20_000, seed=8):
    """The same loss on float32 X and on its exact float64 copy."""
    rng = np.random.default_rng(seed)
    X64 = (3.0 * rng.normal(size=(n, 8))).astype(np.float32).astype(np.float64)
    y = rng.integers(0, 4, size=n)
    s = rng.uniform(0.5, 1.5, size=n) / n
    if Loss == "multinomial":
        args, make = (y, s, 4, 1e-3, True), bound.multinomial
    else:
        args, make = (
            ((y[:, None] == np.arange(4)).astype(float), s, 1e-3, True),
            bound.binary,
        )
    X32 = X64.astype(np.float32)
    if sparse:
        X32, X64 = sp.csr_matrix(X32), sp.csr_matrix(X64)
    return make(X32, *args), make(X64, *args), rng


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("Loss", ["multinomial", "binary"])
def test_anchored_float32_objective_is_exact_near_the_anchor(Loss, sparse):
    """Differences from a float64 anchor remove float32's rounding floor."""
    low, exact, rng = _float32_pair(Loss, sparse)
    anchor = rng.normal(size=exact.coef_shape)
    step = 1e-5 * rng.normal(size=exact.coef_shape)  # steps near an optimum
    f_exact, g_exact = exact.loss_gradient(anchor + step)
    f_plain, _ = low.loss_gradient(anchor + step)
    plain_error = abs(f_plain - f_exact)
    assert low.anchor_at(anchor)
    f_anchor, g_anchor = low.loss_gradient(anchor + step)
    anchored_error = abs(f_anchor - f_exact)
    assert anchored_error <= 1e-11 * abs(f_exact)
    assert anchored_error < plain_error / 100
    # the gradient stays at float32 accuracy, but consistent with the value
    np.testing.assert_allclose(g_anchor, g_exact, rtol=1e-4, atol=1e-9)
    # at the anchor itself the value is the float64 one
    assert low.loss(anchor) == pytest.approx(exact.loss(anchor), rel=1e-15)


@pytest.mark.parametrize("Loss", ["multinomial", "binary"])
def test_far_from_the_anchor_float32_is_evaluated_plainly(Loss):
    low, exact, rng = _float32_pair(Loss, False)
    anchor = rng.normal(size=exact.coef_shape)
    far = anchor + 2.0  # every score moves by more than the anchor's range
    assert low.anchor_at(anchor)
    f_far, g_far = low.loss_gradient(far)
    f_exact, g_exact = exact.loss_gradient(far)
    assert np.isfinite(f_far) and f_far == pytest.approx(f_exact, rel=1e-6)
    np.testing.assert_allclose(g_far, g_exact, rtol=1e-4, atol=1e-8)


@pytest.mark.parametrize("Loss", ["multinomial", "binary"])
def test_anchor_is_for_float32_only_and_dropped_in_full_precision(Loss):
    low, exact, rng = _float32_pair(Loss, False, n=500)
    coef = rng.normal(size=exact.coef_shape)
    assert not exact.anchor_at(coef)
    assert low.anchor_at(coef)
    assert low.use_full_precision()
    f_full, g_full = low.loss_gradient(coef + 0.5)
    f_exact, g_exact = exact.loss_gradient(coef + 0.5)
    assert f_full == pytest.approx(f_exact, rel=1e-13)
    np.testing.assert_allclose(g_full, g_exact, rtol=1e-11, atol=1e-14)


@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("weights", ["unit", "rows", "rows_outputs"])
def test_binary_layout_is_row_major_for_any_target_order(order, weights):
    """The weights and weighted targets that every evaluation mixes with the
    (K, n) scores come row-major whatever the targets' memory order (the
    objective passes them column-major, a dask chunk row-major), with the
    values of ``s * t`` transposed."""
    from sksoftmax._loss import BinaryLoss, RowBlock

    rng = np.random.default_rng(0)
    n, K = 11, 4
    Y = np.asarray(rng.random((n, K)) < 0.4, order=order)
    s = {
        "unit": np.asarray(0.5),
        "rows": rng.uniform(0.5, 2.0, n),
        "rows_outputs": rng.uniform(0.5, 2.0, (n, K)),
    }[weights]
    S, ST = BinaryLoss._layout(RowBlock(np.zeros((n, 2)), Y, s), np.float64)
    assert ST.shape == (K, n) and ST.flags.c_contiguous
    assert S.ndim == 0 or (S.shape == (K, n) and S.flags.c_contiguous)
    expected = (Y * (s if s.ndim != 1 else s[:, None])).T
    np.testing.assert_array_equal(ST, expected)


# -- the score bound that lets the softmax skip its shift -------------------------


@settings(max_examples=100, deadline=None)
@given(
    st.integers(1, 40),
    st.integers(1, 6),
    st.integers(1, 5),
    st.booleans(),
    st.floats(1e-3, 1e3),
    st.integers(0, 2**32 - 1),
)
def test_score_bound_bounds_every_score(n, p, K, fit_intercept, scale, seed):
    """Cauchy-Schwarz: the bound from the block's largest row norm and the
    coefficients' norms is never below a score's magnitude."""
    from sksoftmax._loss import RowBlock, _score_bound, max_row_norm

    rng = np.random.default_rng(seed)
    X = rng.standard_t(2, size=(n, p))
    coef = scale * rng.normal(size=(K, p + fit_intercept))
    block = RowBlock(X, np.zeros(n, dtype=int), np.asarray(1.0), 0, max_row_norm(X))
    assert block.max_row_norm == pytest.approx(np.linalg.norm(X, axis=1).max())
    scores = X @ coef[:, :p].T + (coef[:, p] if fit_intercept else 0.0)
    assert np.abs(scores).max() <= _score_bound(coef, block, fit_intercept) * (
        1 + 1e-12
    )
    unknown = RowBlock(X, np.zeros(n, dtype=int), np.asarray(1.0))
    assert _score_bound(coef, unknown, fit_intercept) is None


@pytest.mark.parametrize("logit_scale", [1.0, 30.0, 1e4], ids=["small", "mid", "huge"])
@pytest.mark.parametrize("weights", ["unit", "per-sample"])
def test_multinomial_evaluation_with_a_row_norm_bound_is_the_same(weights, logit_scale):
    """A block that knows its largest row norm (the softmax may then skip
    its shift) evaluates as one that does not, whether the bound allows the
    unshifted path (small scores) or not (huge ones)."""
    from sksoftmax._loss import MultinomialLoss, RowBlock, max_row_norm

    X, y, _ = _data(5)
    s = _weights(weights, 5)
    s = np.asarray(1.0) if weights == "unit" else s
    coef = _coef(5, True, logit_scale)
    loss = MultinomialLoss(N_OUTPUTS, True)
    plain = RowBlock(X, y, s)
    bounded = RowBlock(X, y, s, 0, max_row_norm(X))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        v1, g1 = loss.value_gradient(coef, plain, np.float64)
        v2, g2 = loss.value_gradient(coef, bounded, np.float64)
    np.testing.assert_allclose(v2, v1, rtol=1e-13)
    np.testing.assert_allclose(g2, g1, rtol=1e-12, atol=1e-14 * np.abs(g1).max())
    value, grad = _reference_value_gradient(
        "multinomial", X, y, None, np.broadcast_to(s, (N_SAMPLES,)), coef, True, 0.0
    )
    np.testing.assert_allclose(v2[0], value, rtol=1e-12)
    _assert_close(g2, grad, 1e-11)


@pytest.mark.parametrize("weights", ["unit", "rows", "rows_and_outputs"])
@pytest.mark.parametrize("Loss", [MultinomialLoss, BinaryLoss])
def test_outcome_counts_count_rows_of_positive_weight(Loss, weights):
    """Per output: the rows of positive weight in its class (or with a
    positive label), and all rows of positive weight, counted directly."""
    rng = np.random.default_rng(0)
    n, K = 200, 4
    X = rng.normal(size=(n, 3))
    if Loss is MultinomialLoss:
        targets = rng.integers(0, K, size=n)
        positive = (targets[:, None] == np.arange(K)).astype(int)
    else:
        positive = (rng.random((n, K)) < 0.3).astype(int)
        targets = positive
    if weights == "unit":
        w = np.asarray(1.0 / n)
        kept = np.ones((n, K), dtype=bool)
    elif weights == "rows" or Loss is MultinomialLoss:
        w = rng.uniform(0, 1, size=n) * (rng.random(n) < 0.7)
        kept = np.broadcast_to((w > 0)[:, None], (n, K))
    else:
        w = rng.uniform(0, 1, size=(n, K)) * (rng.random((n, K)) < 0.7)
        kept = w > 0
    counts = Loss(K, True).outcome_counts(RowBlock(X, targets, w))
    np.testing.assert_array_equal(counts[0], (positive * kept).sum(axis=0))
    np.testing.assert_array_equal(counts[1], kept.sum(axis=0))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("weights", ["unit", "per-sample", "scalar"])
@pytest.mark.parametrize("bounded", [True, False])
def test_multinomial_gradient_is_the_same_from_kept_probabilities(
    dtype, weights, bounded
):
    """The gradient from kept probabilities (the Newton line search's) is
    the evaluation's, bit for bit: a solver that reports one and is checked
    against the other must agree even at rounding level."""
    from sksoftmax._loss import max_row_norm

    X, y, _ = _data(15, dtype)
    s = np.float64(0.7) if weights == "scalar" else _weights(weights, 15)
    norm = max_row_norm(X) if bounded else None
    block = RowBlock(X, y, s, max_row_norm=norm)
    loss = MultinomialLoss(N_OUTPUTS, True)
    coef = _coef(15, True, 3.0)
    value, grad = loss.value_gradient(coef, block, dtype)
    curvature = loss.curvature(coef, block, dtype)
    np.testing.assert_array_equal(value, curvature.data)
    np.testing.assert_array_equal(grad, loss.gradient_from_curvature(curvature, block))
    reference = _reference_value_gradient(
        "multinomial", X, y, None, np.broadcast_to(s, (N_SAMPLES,)), coef, True, 0.0
    )[1]
    _assert_close(grad, reference, rtol=1e-12 if dtype == np.float64 else 1e-4)
