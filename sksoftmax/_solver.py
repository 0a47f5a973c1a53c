"""One optimiser driver for every objective in :mod:`sksoftmax._loss`.

The driver knows nothing about classes or labels. It sees a loss object with
``coef_shape``, ``loss_gradient(coef) -> (value, grad)`` and a flag
``coupled``: when False the objective is a sum of independent terms, one per
row of ``coef`` (one per output), and convergence is judged row by row.

It runs :func:`scipy.optimize.minimize` with ``method="L-BFGS-B"`` and stops
when every row's largest absolute gradient entry is at most ``tol``, the
criterion of scikit-learn's lbfgs solver, always measured on the original
coefficients. Three things make it faster and more exact than plain L-BFGS:

* preconditioning (:mod:`sksoftmax._precondition`): L-BFGS runs in variables
  whose curvature is close to the identity, rebuilt from the Hessian's
  diagonal blocks every few dozen iterations (a restart of L-BFGS);
* mixed precision: with float32 ``X`` the products run in float32; once
  progress nears float32's rounding floor the objective is evaluated as a
  difference from a float64 anchor, and only if L-BFGS still stalls are the
  products switched to float64;
* Newton refinement: when the problem is small enough for an exact Hessian
  to be cheap, a few Newton steps drive the gradient to rounding level, so
  results do not depend on where L-BFGS happened to stop (for example,
  fitting with integer sample weights equals fitting on repeated rows).
"""

import os
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import scipy
import scipy.linalg
from scipy.optimize import minimize
from threadpoolctl import ThreadpoolController

from ._precondition import (
    MAX_CHOLESKY_FEATURES,
    IdentityPreconditioner,
    build_preconditioner,
)

__all__ = ["SolverResult", "minimize_lbfgs"]

# Newton refinement is used when one exact Hessian costs at most about this
# many multiply-adds (a few tens of milliseconds on a laptop core).
_REFINE_MAX_FLOPS = 1e8
_REFINE_MAX_PARAMS = 2000
_REFINE_MAX_STEPS = 8
# float32 evaluations are re-anchored once an iteration gains less than this
# fraction of the objective (see _Tracker._anchor_when_progress_is_small).
ANCHOR_DECREASE = 1e-6


@dataclass
class SolverResult:
    """Outcome of :func:`minimize_lbfgs`.

    Attributes
    ----------
    coef : ndarray of shape coef_shape
        The solution.
    n_iter : ndarray of int, shape (n_rows,)
        Iterations until each row met the tolerance (all rows share the
        count when the objective is coupled); the total count where a row
        never met it.
    converged : ndarray of bool, shape (n_rows,)
        Whether each row's largest absolute gradient entry is at most ``tol``.
    grad_max : ndarray of shape (n_rows,)
        That largest absolute gradient entry, per row.
    value : float
        Objective value at ``coef``.
    message : str
        Why L-BFGS stopped.
    stalled : bool
        L-BFGS stopped because the objective no longer decreased beyond
        rounding error (scipy status 0), which scikit-learn counts as
        converged; a row may then be above ``tol`` without a warning.
    """

    coef: np.ndarray
    n_iter: np.ndarray
    converged: np.ndarray
    grad_max: np.ndarray
    value: float
    message: str
    stalled: bool = False


class _Tracker:
    """Evaluates the loss in the optimiser's variables and counts iterations.

    L-BFGS works on ``v``; the loss on ``coef = preconditioner.to_coef(v)``.
    Convergence is always judged on the gradient with respect to ``coef``.
    """

    def __init__(self, loss, tol, verbose):
        self.loss = loss
        self.shape = loss.coef_shape
        self.tol = tol
        self.verbose = verbose
        self.n_iter = 0
        self.first_converged = np.full(self.shape[0], -1)
        self.preconditioner = IdentityPreconditioner()
        self.v = None
        self.previous_value = np.inf
        self.anchor_value = None

    def evaluate_coef(self, coef):
        value, grad = self.loss.loss_gradient(coef)
        self.coef = coef
        self.value = value
        self.grad = grad
        self.grad_max = _row_grad_max(grad, self.loss.coupled)
        return value, grad

    def __call__(self, v):
        coef = self.preconditioner.to_coef(v.reshape(self.shape))
        value, grad = self.evaluate_coef(coef)
        self.v = v.copy()
        # A copy: tracker.grad must stay as evaluated whatever scipy does.
        return value, np.array(self.preconditioner.gradient_to_v(grad)).ravel()

    def done(self):
        """Record newly converged rows; True when every row has converged."""
        ok = self.grad_max <= self.tol
        self.first_converged[ok & (self.first_converged < 0)] = self.n_iter
        return bool(ok.all())

    def callback(self, intermediate_result):
        self.n_iter += 1
        v = intermediate_result.x
        if self.v is None or not np.array_equal(v, self.v):
            self(v)
        if self.verbose:
            self.report("L-BFGS")
        if self.done():
            raise StopIteration
        if self.loss.low_precision:
            self._anchor_when_progress_is_small()
        self.previous_value = self.value

    def _anchor_when_progress_is_small(self):
        """Re-anchor float32 evaluations before their rounding noise matters.

        Once an iteration gains less than ``ANCHOR_DECREASE`` of the objective,
        plain float32 noise (about 1e-9 relative) would soon reach the size of
        the progress; so would an old anchor's noise, which grows with the
        distance from it. The function changes by about that noise, far below
        what a line search resolves at this point, so L-BFGS goes on without
        a restart.
        """
        decrease = self.previous_value - self.value
        if decrease > ANCHOR_DECREASE * abs(self.value):
            return
        if self.anchor_value is not None and (
            self.anchor_value - self.value <= 10 * decrease
        ):
            return
        if self.loss.anchor_at(self.coef):
            self.anchor_value = self.value

    def report(self, stage):
        print(
            f"[sksoftmax] {stage} iter {self.n_iter:4d}  "
            f"objective {self.value:.10e}  max|grad| {self.grad_max.max():.3e}"
        )


@contextmanager
def _single_threaded_scipy_blas():
    """Run scipy's own BLAS on one thread while the solver works.

    Where numpy and scipy each bundle an OpenBLAS (the PyPI wheels do), the
    two thread pools spin against each other: L-BFGS-B's tiny vector
    operations (and the small triangular and Cholesky solves of the
    preconditioner) in scipy's BLAS then slow numpy's matrix products by an
    order of magnitude on a 2-core machine. numpy's BLAS, which does the
    heavy products, keeps all its threads.
    """
    libraries = _scipy_only_blas()
    if libraries is None:
        yield
        return
    with libraries.limit(limits=1):
        yield


_SCIPY_BLAS = []


def _bundled_with(module, filepath):
    """Whether a shared library lives in ``module``'s folder or its wheel's
    ``<module>.libs`` folder."""
    root = os.path.dirname(os.path.abspath(module.__file__))
    path = os.path.abspath(filepath)
    return path.startswith(root + os.sep) or path.startswith(root + ".libs" + os.sep)


def _scipy_only_blas():
    """Controller of the BLAS libraries scipy loaded besides numpy's, or None."""
    if not _SCIPY_BLAS:
        controller = ThreadpoolController()
        blas = [lib for lib in controller.lib_controllers if lib.user_api == "blas"]
        scipy_only = [
            lib.filepath
            for lib in blas
            if _bundled_with(scipy, lib.filepath)
            and not _bundled_with(np, lib.filepath)
        ]
        numpy_has_own = any(_bundled_with(np, lib.filepath) for lib in blas)
        selected = None
        if scipy_only and numpy_has_own:
            selected = controller.select(filepath=scipy_only)
        _SCIPY_BLAS.append(selected)
    return _SCIPY_BLAS[0]


def _row_grad_max(grad, coupled):
    row_max = np.abs(grad).max(axis=1)
    if coupled:
        row_max[:] = row_max.max()
    return row_max


def _refinement_cost(loss):
    """(number of parameters in one Newton system, multiply-adds per Hessian)."""
    n_samples = loss.X.shape[0]
    n_rows, p = loss.coef_shape
    if loss.coupled:
        n_params = n_rows * p
        return n_params, n_samples * n_params * n_params / 2
    return p, n_samples * n_rows * p * p


def _newton_directions(loss, coef, grad):
    """Solve ``H d = g`` (per row block when the objective is separable)."""
    if loss.coupled:
        H = loss.hessian(coef)
        blocks, rhs = H[None], grad.reshape(1, -1)
    else:
        blocks, rhs = loss.hessian_blocks(coef), grad
    steps = np.empty_like(rhs)
    for k, (H, g) in enumerate(zip(blocks, rhs, strict=True)):
        # A tiny ridge makes the solve well posed along flat directions
        # (e.g. shifting every class's intercept by the same amount).
        jitter = 1e-12 * max(np.trace(H) / H.shape[0], 1e-300)
        H = H + jitter * np.eye(H.shape[0])
        try:
            steps[k] = scipy.linalg.solve(H, g, assume_a="pos", check_finite=False)
        except (np.linalg.LinAlgError, ValueError):
            steps[k] = np.linalg.lstsq(H, g, rcond=None)[0]
    return steps.reshape(coef.shape)


def _row_values(loss, coef):
    if loss.coupled:
        return np.full(coef.shape[0], loss.loss(coef))
    return loss.loss_per_output(coef)


def _refine(loss, tracker, coef, max_steps):
    """Damped Newton steps from ``coef``; each row keeps only improvements.

    ``tracker`` holds the evaluation at ``coef`` on entry and after each step.
    """
    for _ in range(max_steps):
        grad, gmax = tracker.grad, tracker.grad_max.copy()
        if not np.all(np.isfinite(gmax)) or gmax.max() == 0.0:
            break
        fvals = _row_values(loss, coef)
        direction = _newton_directions(loss, coef, grad)
        if not np.all(np.isfinite(direction)):
            break
        accepted = np.zeros(coef.shape[0], dtype=bool)
        new_coef = coef.copy()
        for step in 0.5 ** np.arange(12):
            trial = np.where(accepted[:, None], new_coef, coef - step * direction)
            _, trial_grad = loss.loss_gradient(trial)
            trial_gmax = _row_grad_max(trial_grad, loss.coupled)
            trial_f = _row_values(loss, trial)
            # Near the optimum the objective changes by rounding-level amounts,
            # so a step is judged by the gradient, with the objective only
            # required not to grow beyond rounding.
            slack = 1e-13 * (np.abs(fvals) + 1.0)
            good = (trial_gmax < gmax) & (trial_f <= fvals + slack) & ~accepted
            new_coef[good] = trial[good]
            accepted |= good
            if accepted.all():
                break
        if not accepted.any():
            break
        coef = new_coef
        tracker.n_iter += 1
        tracker.evaluate_coef(coef)
        if tracker.verbose:
            tracker.report("Newton")
        tracker.done()
        if tracker.grad_max.max() <= 1e-14 * (1.0 + abs(tracker.value)):
            break
    return coef


def _refresh_interval(loss, kind):
    """L-BFGS iterations between preconditioner rebuilds.

    A rebuild of per-row Cholesky factors costs about ``p / 2`` iterations
    (``K n p^2`` against ``2 K n p`` multiply-adds); rebuilding every ``p / 2``
    iterations keeps it at about half the work while the Hessian's weights
    still change (measured on raw digits: 465 iterations without rebuilds,
    91 with a rebuild every 20).
    """
    p = loss.coef_shape[1]
    if kind == "diagonal" or p > MAX_CHOLESKY_FEATURES:
        return 50
    return int(np.clip(p // 2, 20, 200))


def _lbfgs_run(tracker, v0, max_iter):
    """One L-BFGS-B run from ``v0``; returns scipy's status and message."""
    result = minimize(
        tracker,
        v0.ravel(),
        method="L-BFGS-B",
        jac=True,
        callback=tracker.callback,
        options={
            "maxiter": max_iter,
            "maxfun": 20 * max_iter + 100,
            "maxls": 50,
            # Stopping is ours (per row, in the callback): L-BFGS-B's
            # gradient test is disabled.
            "gtol": 0.0,
            # Relative-decrease stop at rounding level, as scikit-learn.
            "ftol": 64 * np.finfo(float).eps,
        },
    )
    if not np.array_equal(result.x, tracker.v):
        tracker(result.x)
    return result.status, str(result.message)


def minimize_lbfgs(
    loss, coef0, *, tol, max_iter, verbose=0, precondition=True, refine=True
):
    """Minimise ``loss`` from ``coef0`` with (preconditioned) L-BFGS-B.

    Parameters
    ----------
    loss : object
        A loss from :mod:`sksoftmax._loss`.
    coef0 : ndarray of shape loss.coef_shape
        Starting point (not modified).
    tol : float
        Stop when every row's largest absolute gradient entry is <= tol.
    max_iter : int
        Maximum number of iterations (L-BFGS and Newton together).
    verbose : int, default=0
        Print the objective and gradient at every iteration when positive.
    precondition : bool or {"auto", "cholesky", "diagonal"}, default=True
        Optimise in variables whose curvature is close to the identity (see
        :mod:`sksoftmax._precondition`), rebuilt from the Hessian's diagonal
        blocks every few dozen iterations; True means "auto".
    refine : bool, default=True
        Finish with Newton steps when the exact Hessian is cheap.

    Returns
    -------
    result : SolverResult
    """
    with _single_threaded_scipy_blas():
        return _minimize(loss, coef0, tol, max_iter, verbose, precondition, refine)


def _minimize(loss, coef0, tol, max_iter, verbose, precondition, refine):
    tracker = _Tracker(loss, tol, verbose)
    coef = np.array(coef0, dtype=np.float64).reshape(loss.coef_shape)
    tracker.evaluate_coef(coef)
    message = "converged at the starting point"
    stalled = False
    kind = "auto" if precondition is True else precondition
    interval = _refresh_interval(loss, kind) if precondition else max_iter
    rebuild = bool(precondition)
    anchored_at = -1
    while not tracker.done() and tracker.n_iter < max_iter:
        if rebuild:
            tracker.preconditioner = build_preconditioner(
                loss.X,
                loss.curvature_weights(coef),
                loss.l2_reg,
                loss.fit_intercept,
                kind=kind,
            )
        v0 = tracker.preconditioner.from_coef(coef)
        start = tracker.n_iter
        status, message = _lbfgs_run(
            tracker, v0, min(interval, max_iter - tracker.n_iter)
        )
        coef = tracker.coef
        if tracker.done():
            break
        if status != 1 and loss.low_precision:
            # float32 products reached their rounding floor. Re-anchor the
            # difference evaluation while that still makes progress, then
            # finish in float64.
            progressed = tracker.n_iter > anchored_at
            if progressed and loss.anchor_at(coef):
                tracker.anchor_value = tracker.value
            else:
                loss.use_full_precision()
            anchored_at = tracker.n_iter
            tracker.evaluate_coef(coef)
            rebuild = False
            continue
        if status != 1 or tracker.n_iter == start:
            # Converged, stalled at rounding level or failed line search:
            # a restart in new variables would not change that.
            stalled = status == 0
            break
        rebuild = bool(precondition)
    n_params, flops = _refinement_cost(loss)
    budget = max_iter - tracker.n_iter
    if (
        refine
        and budget > 0
        and n_params <= _REFINE_MAX_PARAMS
        and flops <= _REFINE_MAX_FLOPS
    ):
        if loss.use_full_precision():
            tracker.evaluate_coef(coef)
        coef = _refine(loss, tracker, coef, min(budget, _REFINE_MAX_STEPS))
    converged = tracker.grad_max <= tol
    n_iter = np.where(
        tracker.first_converged >= 0, tracker.first_converged, tracker.n_iter
    )
    if loss.coupled:
        n_iter[:] = n_iter.max()
    return SolverResult(
        coef=np.array(coef, dtype=np.float64),
        n_iter=n_iter,
        converged=converged,
        grad_max=tracker.grad_max.copy(),
        value=tracker.value,
        message=message,
        stalled=stalled,
    )
