"""scipy's L-BFGS-B, run with the solvers' settings.

:func:`run_lbfgsb` is the one place that calls it. On the scipy releases
whose reverse-communication routine ``setulb`` we have verified
(``VERIFIED_SCIPY``), it drives that routine itself, with the same loop
as ``scipy.optimize.minimize(method="L-BFGS-B")``: same iterates, same stops,
same messages (a test checks that the two agree to the last bit), except
that a line search lost in rounding error ends after a few trials (see
``ROUNDING_LINE_SEARCH_TRIALS``). Otherwise it calls ``minimize``.

Why bypass ``minimize``: its wrappers (``MemoizeJac``, ``ScalarFunction``
and the loop around ``setulb``) copy or compare the whole point and
gradient some ten to fifteen times per evaluation. With a million
coefficients that is about 17 ms per evaluation against 30-35 ms for the
evaluation itself. Measured A/B against ``minimize``, medians of 3 rounds
on a 2-vCPU AMD EPYC, the same iteration counts in every fit: sparse text
10,000 x 20,000 at C=0.01 1.07-1.20x faster; one-vs-rest 1,200 x 294,
600 x 72 and 10,000 x 100 1.07-1.21x; small dense multiclass 1.0-1.08x;
784-pixel images 0.99-1.00x.

``setulb`` is private to scipy and its workspace sizes are not checked
against its signature, so the direct path is used only where both have been
verified; any other scipy takes the public route.
"""

import numpy as np
import scipy
from scipy.optimize import OptimizeResult, minimize

__all__ = [
    "LBFGS_ABNORMAL",
    "LBFGS_CONVERGED",
    "LBFGS_HALTED",
    "LBFGS_LIMIT",
    "LBFGS_FTOL",
    "LBFGS_MAX_LINE_SEARCH",
    "LBFGS_MEMORY",
    "rows_supported",
    "run_lbfgsb",
    "run_lbfgsb_rows",
]

# scipy's L-BFGS-B status codes (OptimizeResult.status).
LBFGS_CONVERGED = 0  # its own tests: relative decrease below ftol
LBFGS_LIMIT = 1  # maxiter or maxfun reached (our run length)
LBFGS_ABNORMAL = 2  # line search failed, typically at rounding level
# The callback raised StopIteration: the caller's own test stopped the run
# (scipy >= 1.15 reports 99, older releases 0 or 2; both routes report this).
LBFGS_HALTED = 99
HALTED_MESSAGE = "stopped by the caller's test"

# L-BFGS-B's memory and line search: scipy's defaults, except a longer line
# search, which rarely matters but rescues badly scaled starts.
LBFGS_MAX_LINE_SEARCH = 50
# Relative-decrease stop at rounding level, as scikit-learn's lbfgs.
LBFGS_FTOL = 64 * np.finfo(float).eps
# Correction pairs kept (scipy's default). More did not pay: with 20, 40 or
# 60 pairs the 1,200 x 294, six-label fit took as many iterations, and each
# cost more (on a million coefficients, L-BFGS-B's own work per iteration
# already rivals the products with X).
LBFGS_MEMORY = 10
# A line search whose trials all leave the objective within L-BFGS-B's own
# relative-decrease threshold (LBFGS_FTOL) of the iterate it started from
# is lost in rounding error: even a trial it accepted would end the run by
# that threshold at the next iterate. After this many such trials the run
# stops, as converged, at the last trial if it is no worse than the iterate
# (it is already evaluated), else at the iterate. scipy's search would go
# on for up to LBFGS_MAX_LINE_SEARCH evaluations: 60 random fits at
# tol=1e-10 (100-3,000 rows, 2-60 features, 2-12 outputs, C in 1e-3..1e4),
# the stop came into play twice, one fit taking 22 evaluations instead of 39,
# the other as many, both at the same objective.
ROUNDING_LINE_SEARCH_TRIALS = 5
ROUNDING_MESSAGE = (
    "CONVERGENCE: LINE SEARCH TRIALS WITHIN THE RELATIVE REDUCTION OF F <= FACTR*EPSMCH"
)
# Evaluations allowed per run: L-BFGS-B's line search rarely needs more
# than a few per iteration; this only guards against an endless search.
EVALUATIONS_PER_ITERATION = 20

# (major, minor) releases of scipy whose C ``setulb`` (scipy >= 1.15; older
# releases wrap the Fortran original with another signature) takes the
# signature below and the work arrays sized in :func:`_run_setulb`.
VERIFIED_SCIPY = ((1, 15), (1, 16), (1, 17))
SETULB_SIGNATURE = (
    "setulb(m,x,l,u,nbd,f,g,factr,pgtol,wa,iwa,task,lsave,isave,dsave,maxls,ln_task)"
)


def _load_setulb():
    """scipy's ``setulb`` and its message tables, or None where the direct
    path is not verified."""
    version = tuple(int(part) for part in scipy.__version__.split(".")[:2])
    if version not in VERIFIED_SCIPY:
        return None
    try:
        from scipy.optimize import _lbfgsb
        from scipy.optimize._lbfgsb_py import status_messages, task_messages
    except ImportError:
        return None
    doc = (getattr(_lbfgsb.setulb, "__doc__", None) or "").strip()
    if not doc.startswith(SETULB_SIGNATURE):
        return None
    return _lbfgsb.setulb, status_messages, task_messages


_SETULB = _load_setulb()


def run_lbfgsb(function, x0, callback, max_iter, move_to, bounds=None):
    """One scipy L-BFGS-B run with the solvers' settings.

    Stopping is the caller's: L-BFGS-B's gradient test is disabled, and
    ``callback`` raises StopIteration when the caller's tolerance is met.
    ``move_to(x)`` puts the caller's state at ``x`` (evaluating only if it
    is elsewhere); it is called with the end point, so the caller's state is
    always at the result.

    Parameters
    ----------
    function : callable
        ``function(x) -> (value, gradient)``; ``x`` must not be kept (it is
        L-BFGS-B's own array, which it overwrites), and the gradient is
        copied.
    x0 : ndarray
        Starting point (raveled).
    callback : callable
        Called after each iteration with an ``OptimizeResult`` holding ``x``.
    max_iter : int
        Iterations in this run.
    move_to : callable
        See above.
    bounds : scipy.optimize.Bounds or None
        Bounds on ``x``.

    Returns
    -------
    status : int
        ``LBFGS_CONVERGED``, ``LBFGS_LIMIT``, ``LBFGS_ABNORMAL`` or
        ``LBFGS_HALTED``.
    message : str
    """
    if _SETULB is None:
        return _run_minimize(function, x0, callback, max_iter, move_to, bounds)
    return _run_setulb(function, x0, callback, max_iter, move_to, bounds)


def _options(max_iter):
    return {
        "maxiter": max_iter,
        "maxfun": EVALUATIONS_PER_ITERATION * max_iter + 100,
        "maxls": LBFGS_MAX_LINE_SEARCH,
        "maxcor": LBFGS_MEMORY,
        "gtol": 0.0,
        "ftol": LBFGS_FTOL,
    }


def _run_minimize(function, x0, callback, max_iter, move_to, bounds):
    """The public route: ``scipy.optimize.minimize``."""
    halted = []

    # scipy >= 1.11 passes an OptimizeResult to a parameter of this name,
    # older releases the point.
    def halting(intermediate_result):
        try:
            callback(intermediate_result)
        except StopIteration:
            halted.append(True)
            raise

    try:
        result = minimize(
            function,
            np.asarray(x0, dtype=np.float64).ravel(),
            method="L-BFGS-B",
            jac=True,
            bounds=bounds,
            callback=halting,
            options=_options(max_iter),
        )
    except StopIteration:
        # scipy < 1.11 lets the callback's StopIteration through, leaving
        # the caller's state at the point of that iteration.
        return LBFGS_HALTED, HALTED_MESSAGE
    move_to(result.x)
    if halted:
        return LBFGS_HALTED, HALTED_MESSAGE
    return result.status, str(result.message)


# Bound kinds of ``setulb``'s ``nbd``: none, lower only, both, upper only.
_NBD = {(False, False): 0, (True, False): 1, (True, True): 2, (False, True): 3}


def _bound_arrays(bounds, n):
    """``setulb``'s lower, upper and ``nbd`` arrays for ``bounds``."""
    lower, upper = np.zeros(n), np.zeros(n)
    nbd = np.zeros(n, dtype=np.int32)
    if bounds is None:
        return lower, upper, nbd
    lb = np.broadcast_to(np.asarray(bounds.lb, dtype=np.float64), (n,))
    ub = np.broadcast_to(np.asarray(bounds.ub, dtype=np.float64), (n,))
    has_lower, has_upper = np.isfinite(lb), np.isfinite(ub)
    lower[has_lower] = lb[has_lower]
    upper[has_upper] = ub[has_upper]
    for (low, up), code in _NBD.items():
        nbd[(has_lower == low) & (has_upper == up)] = code
    return lower, upper, nbd


class _SetulbRun:
    """One L-BFGS-B run's state for scipy's ``setulb`` (scipy 1.15-1.17):
    the point, value, gradient and work arrays, sized as scipy's own loop
    sizes them, and the run's counts. :meth:`step` makes one call; the
    caller answers ``FG`` by :meth:`set_evaluation` and ``NEW_X`` by
    :meth:`new_iterate`."""

    def __init__(self, x0, max_iter, bounds):
        setulb, status_messages, task_messages = _SETULB
        self._setulb = setulb
        self._status_messages = status_messages
        self._task_messages = task_messages
        code_of = {name: code for code, name in status_messages.items()}
        reason_of = {name: code for code, name in task_messages.items()}
        self.FG, self.NEW_X = code_of["FG"], code_of["NEW_X"]
        self._stop, self._convergence = code_of["STOP"], code_of["CONVERGENCE"]
        self._halted = reason_of["CALLBACK REQUESTED HALT"]
        self._iteration_limit = reason_of["TOTAL NO. OF ITERATIONS REACHED LIMIT"]
        self._evaluation_limit = reason_of["TOTAL NO. OF F,G EVALUATIONS EXCEEDS LIMIT"]
        options = _options(max_iter)
        self.max_iter, self._maxfun = max_iter, options["maxfun"]
        self._m = m = options["maxcor"]
        x = np.array(x0, dtype=np.float64).ravel()
        n = x.size
        self._lower, self._upper, self._nbd = _bound_arrays(bounds, n)
        if bounds is not None:
            x = np.clip(x, bounds.lb, bounds.ub)
        self.x = x
        # The last iterate and its value: where a run stopped within a
        # line search at rounding level ends (see
        # ROUNDING_LINE_SEARCH_TRIALS).
        self._iterate = x.copy()
        self._iterate_value = None
        self._rounding_trials = 0
        self._search_moved = False
        self.rounded = False
        self.f = np.array(0.0)
        self.g = np.zeros(n)
        # wa, iwa, task, lsave, isave, dsave
        self._work = (
            np.zeros(2 * m * n + 5 * n + 11 * m * m + 8 * m),
            np.zeros(3 * n, dtype=np.int32),
            np.zeros(2, dtype=np.int32),
            np.zeros(4, dtype=np.int32),
            np.zeros(44, dtype=np.int32),
            np.zeros(29),
        )
        self.task = self._work[2]
        self._ln_task = np.zeros(2, dtype=np.int32)
        self._factr = options["ftol"] / np.finfo(float).eps
        self._gtol, self._maxls = options["gtol"], options["maxls"]
        # Evaluation requests, the first being at the start: minimize counts
        # distinct points, which differs only if a point is requested twice
        # in a row, and only matters for the maxfun guard.
        self.evaluations = 0
        self.iterations = 0
        # Kept apart from task: an iteration limit reached at the same
        # iteration overwrites the halt in task (as in scipy's loop), yet the
        # run was halted.
        self.halted = False

    def step(self):
        """One call of ``setulb``; returns its request (``task[0]``)."""
        self._setulb(
            self._m, self.x, self._lower, self._upper, self._nbd, self.f, self.g,
            self._factr, self._gtol, *self._work, self._maxls, self._ln_task,
        )  # fmt: skip
        return self.task[0]

    def set_evaluation(self, value, gradient):
        self.evaluations += 1
        self.f[()] = value
        self.g[:] = np.asarray(gradient, dtype=np.float64).ravel()
        # The line search's trials, watched for rounding level (see
        # ROUNDING_LINE_SEARCH_TRIALS); a search that moves f runs its course.
        value, start = float(value), self._iterate_value
        if start is None:  # the starting point's evaluation
            self._iterate_value = value
        elif not self._search_moved:
            if abs(value - start) > LBFGS_FTOL * max(abs(start), abs(value), 1.0):
                self._search_moved = True
                return
            self._rounding_trials += 1
            if self._rounding_trials >= ROUNDING_LINE_SEARCH_TRIALS:
                self._stop_at_rounding(value, start)

    def _stop_at_rounding(self, value, start):
        """End the run at the last trial, or at the iterate if the trial is
        worse; the next :meth:`step` stops."""
        self.rounded = True
        self.task[:] = self._stop, 0
        if value > start:
            self.x[:] = self._iterate
            self.f[()] = start

    def new_iterate(self, halt):
        """Count an iteration; ``halt`` (the caller's test) or a limit makes
        the next :meth:`step` stop."""
        self.iterations += 1
        np.copyto(self._iterate, self.x)
        self._iterate_value = float(self.f)
        self._rounding_trials, self._search_moved = 0, False
        if halt:
            self.halted = True
            self.task[:] = self._stop, self._halted
        if self.iterations >= self.max_iter:
            self.task[:] = self._stop, self._iteration_limit
        elif self.evaluations > self._maxfun:
            self.task[:] = self._stop, self._evaluation_limit

    def status(self):
        """The finished run's status code and message."""
        if self.halted:
            return LBFGS_HALTED, HALTED_MESSAGE
        if self.rounded:
            return LBFGS_CONVERGED, ROUNDING_MESSAGE
        if self.task[0] == self._convergence:
            code = LBFGS_CONVERGED
        elif self.evaluations > self._maxfun or self.iterations >= self.max_iter:
            code = LBFGS_LIMIT
        else:
            code = LBFGS_ABNORMAL
        messages = self._status_messages, self._task_messages
        return code, f"{messages[0][self.task[0]]}: {messages[1][self.task[1]]}"


def _run_setulb(function, x0, callback, max_iter, move_to, bounds):
    """``minimize``'s L-BFGS-B loop without its wrappers (scipy 1.15-1.17)."""
    run = _SetulbRun(x0, max_iter, bounds)
    while True:
        task = run.step()
        if task == run.FG:
            run.set_evaluation(*function(run.x))
        elif task == run.NEW_X:
            try:
                callback(OptimizeResult(x=run.x, fun=run.f))
                halt = False
            except StopIteration:
                halt = True
            run.new_iterate(halt)
        else:
            break
    move_to(run.x)
    return run.status()


def rows_supported():
    """Whether :func:`run_lbfgsb_rows` can run (the direct path is verified
    on this scipy)."""
    return _SETULB is not None


def run_lbfgsb_rows(function, X0, halt_row, max_iter, move_to, active=None):
    """Independent L-BFGS-B runs, one per row of ``X0``, in lockstep.

    For an objective that is a sum of independent functions of the rows (the
    outputs of one-vs-rest), each row gets its own run, exactly as if it
    were minimised alone, while one evaluation serves every row that needs
    one: each round advances every unfinished run until it asks for an
    evaluation, then evaluates them all at once.

    Parameters
    ----------
    function : callable
        ``function(X) -> (values, gradients)``, per row, shapes (K,) and
        (K, n); ``X`` must not be kept.
    X0 : ndarray of shape (K, n)
        Starting points; the caller's state is expected to be evaluated there.
    halt_row : callable
        ``halt_row(k, iterations) -> bool``, called after each of row ``k``'s
        iterations (the caller's state then holds row ``k`` at its new
        iterate); True ends that row's run.
    max_iter : int
        Iterations per row.
    move_to : callable
        ``move_to(X)`` with the runs' end points.
    active : ndarray of bool of shape (K,), default=None
        Rows to run (all when None); the others stay where they are, with
        status ``LBFGS_HALTED`` and no iterations.

    Returns
    -------
    statuses : list of (int, str)
        Each row's status and message, as :func:`run_lbfgsb` returns them.
    iterations : ndarray of shape (K,)
    """
    X = np.array(X0, dtype=np.float64)
    if active is None:
        active = np.ones(X.shape[0], dtype=bool)
    runs = {k: _SetulbRun(X[k], max_iter, None) for k in np.flatnonzero(active)}
    waiting = list(runs)
    while waiting:
        evaluate = []
        for k in waiting:
            run = runs[k]
            while True:
                task = run.step()
                if task == run.FG:
                    evaluate.append(k)
                    break
                if task != run.NEW_X:
                    break
                run.new_iterate(bool(halt_row(k, run.iterations + 1)))
        if not evaluate:
            break
        X[evaluate] = [runs[k].x for k in evaluate]
        values, gradients = function(X)
        for k in evaluate:
            runs[k].set_evaluation(values[k], gradients[k])
        waiting = evaluate
    for k, run in runs.items():
        X[k] = run.x
    move_to(X)
    statuses = [
        runs[k].status() if k in runs else (LBFGS_HALTED, HALTED_MESSAGE)
        for k in range(X.shape[0])
    ]
    iterations = np.array(
        [runs[k].iterations if k in runs else 0 for k in range(X.shape[0])]
    )
    return statuses, iterations
