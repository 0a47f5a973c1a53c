"""scipy's L-BFGS-B driven directly (``sksoftmax._lbfgsb``): the direct loop
must reproduce ``scipy.optimize.minimize`` to the last bit (but for a line
search lost in rounding, which it ends early), and fall back to it wherever
it is not verified."""

import numpy as np
import pytest
import scipy
from scipy.optimize import Bounds
from sklearn.datasets import load_digits

from sksoftmax import OneVsRestLogistic, SoftmaxRegression, _lbfgsb

direct_only = pytest.mark.skipif(
    _lbfgsb._SETULB is None,
    reason=f"the direct L-BFGS-B loop is not verified on scipy {scipy.__version__}",
)


def _smooth_function(n, seed):
    """An ill-conditioned quadratic plus a quartic term: (value, gradient)."""
    rng = np.random.default_rng(seed)
    scale = np.logspace(0, 4, n)
    shift = rng.standard_normal(n)

    def function(x):
        d = x - shift
        value = 0.5 * np.sum(scale * d**2) + 0.25 * np.sum(d**4)
        return value, scale * d + d**3

    return function


def _record(route, function, x0, max_iter, bounds=None, halt_at=None, halt=None):
    """Run ``route`` and record every evaluated point and iterate; halt at
    iteration ``halt_at`` or where ``halt(x)`` holds."""
    evaluated, iterates, end = [], [], []

    def counting(x):
        evaluated.append(x.copy())
        return function(x)

    def callback(intermediate_result):
        # scipy passes an OptimizeResult to a parameter of this name.
        iterates.append(intermediate_result.x.copy())
        if halt_at is not None and len(iterates) == halt_at:
            raise StopIteration
        if halt is not None and halt(intermediate_result.x):
            raise StopIteration

    status, message = route(
        counting, x0, callback, max_iter, lambda x: end.append(x.copy()), bounds
    )
    return {
        "status": status,
        "message": message,
        "evaluated": np.array(evaluated),
        "iterates": np.array(iterates),
        "end": end[-1],
    }


@direct_only
@pytest.mark.parametrize("bounded", [False, True], ids=["free", "bounded"])
@pytest.mark.parametrize("max_iter", [3, 500])
@pytest.mark.parametrize("halt_at", [None, 3, 5])
def test_direct_loop_reproduces_minimize(bounded, max_iter, halt_at):
    """Same points evaluated, same iterates, end point, status and message,
    bit for bit: run out of iterations, converged (L-BFGS-B's own test) and
    halted by the callback; with lower and upper bounds, some active."""
    n = 40
    function = _smooth_function(n, seed=0)
    x0 = np.linspace(-3.0, 3.0, n)
    bounds = None
    if bounded:
        lower = np.where(np.arange(n) % 3 == 0, -0.5, -np.inf)
        upper = np.where(np.arange(n) % 4 == 0, 0.5, np.inf)
        bounds = Bounds(lower, upper)
    runs = [
        _record(route, function, x0, max_iter, bounds, halt_at)
        for route in (_lbfgsb._run_minimize, _lbfgsb._run_setulb)
    ]
    public, direct = runs
    assert direct["status"] == public["status"]
    assert direct["message"] == public["message"]
    np.testing.assert_array_equal(direct["iterates"], public["iterates"])
    np.testing.assert_array_equal(direct["end"], public["end"])
    np.testing.assert_array_equal(direct["evaluated"], public["evaluated"])
    if halt_at and halt_at <= max_iter:
        assert direct["status"] == _lbfgsb.LBFGS_HALTED
    if max_iter == 3 or halt_at:
        assert len(direct["iterates"]) == min(halt_at or max_iter, max_iter)
    if bounded:
        assert np.all(direct["end"] >= bounds.lb) and np.all(direct["end"] <= bounds.ub)
        assert np.any(direct["end"] == bounds.lb) or np.any(direct["end"] == bounds.ub)


@direct_only
def test_direct_loop_statuses():
    """The status codes the solver reads: the iteration limit and
    L-BFGS-B's own relative-decrease stop."""
    function = _smooth_function(10, seed=1)
    limited = _record(_lbfgsb._run_setulb, function, np.zeros(10), 2)
    assert limited["status"] == _lbfgsb.LBFGS_LIMIT
    converged = _record(_lbfgsb._run_setulb, function, np.zeros(10), 10_000)
    assert converged["status"] == _lbfgsb.LBFGS_CONVERGED
    assert "FACTR" in converged["message"]


def _flat_function(x):
    """A quadratic's gradient, with values lost in rounding (1 + 1e-20 |x|^2
    is 1 in float64): no line search can find its decrease."""
    return 1.0 + 0.5e-20 * np.dot(x, x), x.copy()


_X0 = np.linspace(-1.0, 1.0, 5) + 0.3


def _rising_function(x):
    """The same gradient; values one ulp above 1 everywhere but at ``_X0``."""
    return 1.0 + np.spacing(1.0) * (not np.array_equal(x, _X0)), x.copy()


@direct_only
@pytest.mark.parametrize("function", [_flat_function, _rising_function])
def test_line_search_lost_in_rounding_stops_early(function):
    """A line search whose trials all stay within L-BFGS-B's relative
    decrease threshold of the iterate stops after
    ROUNDING_LINE_SEARCH_TRIALS trials, as converged, at a point no worse
    than the iterate; scipy's own search runs on (the route that keeps it)."""
    x0 = _X0
    trials = _lbfgsb.ROUNDING_LINE_SEARCH_TRIALS
    public = _record(_lbfgsb._run_minimize, function, x0, 100)
    direct = _record(_lbfgsb._run_setulb, function, x0, 100)
    assert len(public["evaluated"]) > 2 * (1 + trials)
    assert len(direct["evaluated"]) == 1 + trials
    assert direct["status"] == _lbfgsb.LBFGS_CONVERGED
    assert "LINE SEARCH" in direct["message"]
    assert len(direct["iterates"]) == 0
    assert function(direct["end"])[0] <= function(x0)[0]
    # The end point is the iterate or the last trial (already evaluated):
    # the iterate where the trials rose above it.
    assert any(np.array_equal(direct["end"], x) for x in direct["evaluated"][[0, -1]])
    if function is _rising_function:
        np.testing.assert_array_equal(direct["end"], x0)


@direct_only
def test_rounding_stop_ends_only_its_own_row():
    """In lockstep runs, a row whose line search is lost in rounding stops
    on its own; the other rows run as they would alone."""
    n = 12
    smooth = _smooth_function(n, seed=5)
    function = _rows_function([smooth, _flat_function, smooth])
    X0 = np.tile(np.linspace(-1.0, 1.0, n), (3, 1))
    end = []
    statuses, iterations = _lbfgsb.run_lbfgsb_rows(
        function, X0, lambda k, it: False, 500, end.append
    )
    assert statuses[1][0] == _lbfgsb.LBFGS_CONVERGED
    assert "LINE SEARCH" in statuses[1][1] and iterations[1] == 0
    alone = _record(_lbfgsb._run_setulb, smooth, X0[0], 500)
    for k in (0, 2):
        assert statuses[k] == (alone["status"], alone["message"])
        np.testing.assert_array_equal(end[-1][k], alone["end"])


@direct_only
@pytest.mark.parametrize("Estimator", [SoftmaxRegression, OneVsRestLogistic])
@pytest.mark.usefixtures("joint_runs")
def test_fits_are_identical_on_both_routes(Estimator, monkeypatch):
    """A whole fit (preconditioner rebuilds, Newton refinement) gives the
    same coefficients and iteration counts whichever route runs L-BFGS-B
    (one-vs-rest with its joint run: the per-row runs need the direct
    route)."""
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    if Estimator is OneVsRestLogistic:
        y = np.column_stack([y % 2, y < 5, y == 0])
    direct = Estimator(C=10.0, tol=1e-8).fit(X, y)
    monkeypatch.setattr(_lbfgsb, "_SETULB", None)
    public = Estimator(C=10.0, tol=1e-8).fit(X, y)
    np.testing.assert_array_equal(direct.coef_, public.coef_)
    np.testing.assert_array_equal(direct.intercept_, public.intercept_)
    np.testing.assert_array_equal(direct.n_iter_, public.n_iter_)


def _rows_function(functions):
    """Row ``k`` of ``X`` through ``functions[k]``: per-row values and
    gradients, computed row by row so that a row's numbers do not depend on
    the others."""

    def function(X):
        pairs = [f(x) for f, x in zip(functions, X, strict=True)]
        return np.array([v for v, _ in pairs]), np.array([g for _, g in pairs])

    return function


def _separable_function(n_rows, n, seed):
    """Independent rows, each :func:`_smooth_function`-like."""
    functions = [_smooth_function(n, seed + k) for k in range(n_rows)]
    return functions, _rows_function(functions)


@direct_only
@pytest.mark.parametrize("max_iter", [4, 500])
@pytest.mark.parametrize("halt_at", [None, 6])
def test_rows_in_lockstep_are_independent_runs(max_iter, halt_at):
    """Each row's run is the run of that row alone, bit for bit: the same
    iterates, end point and status, whatever the other rows do (rows that
    need different numbers of iterations and line-search steps, some
    halted by the caller's test, one not run at all)."""
    n_rows, n = 4, 30
    functions, function = _separable_function(n_rows, n, seed=3)
    X0 = np.linspace(-2.0, 2.0, n_rows * n).reshape(n_rows, n)
    active = np.array([True, True, False, True])
    iterates = {k: [] for k in range(n_rows)}
    state = {"X": None}

    def evaluate(X):
        state["X"] = X.copy()
        return function(X)

    def converged(k, x):
        return np.abs(functions[k](x)[1]).max() <= 1e-3

    def halt_row(k, iterations):
        iterates[k].append(state["X"][k].copy())
        assert iterations == len(iterates[k])
        if halt_at is not None and k == 1 and iterations == halt_at:
            return True
        return converged(k, state["X"][k])

    end = []
    statuses, iterations = _lbfgsb.run_lbfgsb_rows(
        evaluate, X0, halt_row, max_iter, end.append, active=active
    )
    np.testing.assert_array_equal(end[-1][2], X0[2])
    assert statuses[2][0] == _lbfgsb.LBFGS_HALTED and iterations[2] == 0
    for k in np.flatnonzero(active):
        alone = _record(
            _lbfgsb._run_setulb,
            functions[k],
            X0[k],
            max_iter,
            halt_at=halt_at if k == 1 else None,
            halt=lambda x, k=k: converged(k, x),
        )
        np.testing.assert_array_equal(np.array(iterates[k]), alone["iterates"])
        np.testing.assert_array_equal(end[-1][k], alone["end"])
        assert statuses[k] == (alone["status"], alone["message"])
        assert iterations[k] == len(alone["iterates"])
    if halt_at is not None and halt_at < max_iter:
        assert statuses[1][0] == _lbfgsb.LBFGS_HALTED
    # The rows did not all run alike (else lockstep tests nothing).
    assert len(set(iterations[active])) > 1 or max_iter == 4


@direct_only
@pytest.mark.usefixtures("per_row_runs")
def test_per_row_runs_fit_each_label_as_alone():
    """One-vs-rest with per-row runs (forced on this small set, see
    ``PER_ROW_MIN_COST``): each label's coefficients and iteration count are
    those of that label fitted alone (up to the rounding of the shared
    products)."""
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    Y = np.column_stack([y % 2, y < 5, y == 0])
    joint = OneVsRestLogistic(C=10.0, tol=1e-8).fit(X, Y)
    for k in range(Y.shape[1]):
        alone = OneVsRestLogistic(C=10.0, tol=1e-8).fit(X, Y[:, [k]])
        np.testing.assert_allclose(joint.coef_[k], alone.coef_[0], rtol=1e-7, atol=1e-9)
        assert abs(int(joint.n_iter_[k]) - int(alone.n_iter_[0])) <= 1


@pytest.mark.parametrize(
    "version, signature",
    [
        ("9.0.0", None),  # an unverified release
        ("1.14.1", None),  # the Fortran routine, another signature
        ("1.17.1", "setulb(m,x)"),  # a verified release, changed
    ],
)
def test_unverified_scipy_takes_the_public_route(version, signature, monkeypatch):
    monkeypatch.setattr(scipy, "__version__", version)
    if signature is not None:
        monkeypatch.setattr(_lbfgsb, "SETULB_SIGNATURE", signature + "!")
    assert _lbfgsb._load_setulb() is None


def test_verified_scipy_is_detected(monkeypatch):
    """On a verified release, the routine and its message tables load (the
    guard above must not always refuse)."""
    if tuple(int(p) for p in scipy.__version__.split(".")[:2]) not in (
        _lbfgsb.VERIFIED_SCIPY
    ):
        pytest.skip(f"scipy {scipy.__version__} is not a verified release")
    setulb, status_messages, task_messages = _lbfgsb._load_setulb()
    assert status_messages[3] == "FG"
    assert callable(setulb)


def test_bound_arrays_encode_each_kind():
    """setulb's nbd: 0 free, 1 lower only, 2 both, 3 upper only."""
    bounds = Bounds([-np.inf, 0.0, -1.0, -np.inf], [np.inf, np.inf, 2.0, 5.0])
    lower, upper, nbd = _lbfgsb._bound_arrays(bounds, 4)
    np.testing.assert_array_equal(nbd, [0, 1, 2, 3])
    np.testing.assert_array_equal(lower, [0.0, 0.0, -1.0, 0.0])
    np.testing.assert_array_equal(upper, [0.0, 0.0, 2.0, 5.0])
