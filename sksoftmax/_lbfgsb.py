"""scipy's L-BFGS-B, run with the solvers' settings.

:func:`run_lbfgsb` is the one place that calls it. On the scipy releases
whose reverse-communication routine ``setulb`` we have verified
(``VERIFIED_SCIPY``), it drives that routine itself, with the same loop
as ``scipy.optimize.minimize(method="L-BFGS-B")``: same iterates, same stops,
same messages (a test checks that the two agree to the last bit). Otherwise
it calls ``minimize``.

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
    "run_lbfgsb",
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


def _run_setulb(function, x0, callback, max_iter, move_to, bounds):
    """``minimize``'s L-BFGS-B loop without its wrappers (scipy 1.15-1.17)."""
    setulb, status_messages, task_messages = _SETULB
    code_of = {name: code for code, name in status_messages.items()}
    reason_of = {name: code for code, name in task_messages.items()}
    fg, new_x, stop = code_of["FG"], code_of["NEW_X"], code_of["STOP"]
    halted = reason_of["CALLBACK REQUESTED HALT"]
    iteration_limit = reason_of["TOTAL NO. OF ITERATIONS REACHED LIMIT"]
    evaluation_limit = reason_of["TOTAL NO. OF F,G EVALUATIONS EXCEEDS LIMIT"]
    options = _options(max_iter)
    m = options["maxcor"]
    x = np.array(x0, dtype=np.float64).ravel()
    n = x.size
    lower, upper, nbd = _bound_arrays(bounds, n)
    if bounds is not None:
        x = np.clip(x, bounds.lb, bounds.ub)
    f = np.array(0.0)
    g = np.zeros(n)
    # setulb's work arrays, sized as scipy's own loop sizes them: wa, iwa,
    # task, lsave, isave, dsave.
    work = (
        np.zeros(2 * m * n + 5 * n + 11 * m * m + 8 * m),
        np.zeros(3 * n, dtype=np.int32),
        np.zeros(2, dtype=np.int32),
        np.zeros(4, dtype=np.int32),
        np.zeros(44, dtype=np.int32),
        np.zeros(29),
    )
    task = work[2]
    ln_task = np.zeros(2, dtype=np.int32)
    factr = options["ftol"] / np.finfo(float).eps
    gtol, maxls = options["gtol"], options["maxls"]
    # Evaluation requests, the first being at the start: minimize counts
    # distinct points, which differs only if a point is requested twice in a
    # row, and only matters for the maxfun guard.
    evaluations = 0
    iterations = 0
    # Kept apart from task: an iteration limit reached at the same iteration
    # overwrites the halt in task (as in scipy's loop), yet the run was halted.
    stopped_by_callback = False
    while True:
        setulb(m, x, lower, upper, nbd, f, g, factr, gtol, *work, maxls, ln_task)
        if task[0] == fg:
            value, gradient = function(x)
            evaluations += 1
            f[()] = value
            g[:] = np.asarray(gradient, dtype=np.float64).ravel()
        elif task[0] == new_x:
            iterations += 1
            try:
                callback(OptimizeResult(x=x, fun=f))
            except StopIteration:
                stopped_by_callback = True
                task[:] = stop, halted
            if iterations >= max_iter:
                task[:] = stop, iteration_limit
            elif evaluations > options["maxfun"]:
                task[:] = stop, evaluation_limit
        else:
            break
    move_to(x)
    if stopped_by_callback:
        return LBFGS_HALTED, HALTED_MESSAGE
    if task[0] == code_of["CONVERGENCE"]:
        code = LBFGS_CONVERGED
    elif evaluations > options["maxfun"] or iterations >= max_iter:
        code = LBFGS_LIMIT
    else:
        code = LBFGS_ABNORMAL
    return code, f"{status_messages[task[0]]}: {task_messages[task[1]]}"
