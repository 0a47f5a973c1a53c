"""Solvers for penalties with an L1 part: the lasso, the elastic net and the
grouped (feature-wise) lasso.

They minimise ``f(coef) + h(coef)``: ``f`` is an
:class:`~sksoftmax._objective.Objective` (data term plus the smooth L2
part of the penalty), read through its contract only (values, gradients
and curvature moments; never ``X``), so the same code runs in memory and
over a dask array; ``h`` is an :class:`~sksoftmax._penalty.L1Penalty`.
Both work in the diagonal change of variables of
:mod:`sksoftmax._precondition` (per-feature scaling, with the features
virtually centred through the intercept), which preserves the sign of
every coefficient, so boxes and soft-thresholds keep their form.

* :class:`SplitLBFGSSolver` (lasso and elastic net): scipy's L-BFGS-B on
  ``W = P - N`` with ``P, N >= 0``, where the L1 norm is the linear
  ``sum(P + N)``. A coefficient is exactly zero when both halves sit on their
  bound, so zeros are exact, and all the work happens in compiled code.
* :class:`ProximalGradientSolver` (grouped lasso, whose norm no box
  reformulation captures): proximal gradient steps with a backtracking step
  size and Anderson extrapolation of the iterates.

Both stop when every group's KKT residual (the largest entry of the
minimum-norm subgradient, :meth:`~sksoftmax._penalty.L1Penalty.optimality`)
is at most ``tol``: for ``h = 0`` that is the largest absolute gradient entry
of the L2 solver (:mod:`sksoftmax._solver`). The phases are named methods:
``setup``, ``rebuild_scaling``, ``iterate``, ``check_convergence``,
``result``.

Measured (``benchmarks/penalty_bench.py``): L-BFGS-B on the split needs
fewer evaluations than proximal gradient on every lasso problem tried, so
it is the lasso solver; the grouped penalty needs the proximal one.
"""

import numpy as np
from scipy.optimize import Bounds

from ._blas import single_threaded_scipy_blas
from ._lbfgsb import LBFGS_CONVERGED, LBFGS_LIMIT, run_lbfgsb
from ._precondition import diagonal_preconditioner
from ._solver import (
    SolverResult,
    _PositiveSystem,
    evaluate_if_new,
)

__all__ = ["ProximalGradientSolver", "SplitLBFGSSolver", "minimize_composite"]

# The diagonal scaling is rebuilt from the curvature at the current point
# after this many iterations, then at intervals REBUILD_GROWTH times longer:
# the curvature weights change most early on, and each rebuild restarts
# L-BFGS-B and discards its memory.
FIRST_REBUILD_INTERVAL = 50
REBUILD_GROWTH = 2

# Proximal gradient: a step is accepted when the smooth part is below its
# quadratic model with curvature 1 / step (the sufficient-decrease test of
# backtracking proximal gradient); a rejected step is halved. After an
# accepted step the next trial is STEP_GROWTH times longer, so the step
# follows the local curvature rather than the worst seen.
STEP_SHRINK = 0.5
STEP_GROWTH = 1.5
MAX_BACKTRACKS = 60
# Relative slack of the sufficient-decrease test: near the optimum the
# smooth part changes by rounding-level amounts.
DECREASE_SLACK = 1e-13
# Anderson extrapolation every ANDERSON_MEMORY accepted steps (skglm's
# choice, 5), kept only when it lowers the objective: on the smooth manifold
# of the final support, proximal gradient is a linear fixed-point iteration,
# which extrapolation accelerates much as conjugate gradients would.
ANDERSON_MEMORY = 5
# Ridge of Anderson's small least-squares system, relative to its scale.
ANDERSON_RIDGE = 1e-10

# Refinement: once the support (zero pattern) is right, the objective is
# smooth on it, so Newton steps on the free coefficients, solved by
# conjugate gradients on Hessian products (one pass over the rows each, so
# it scales and runs on dask), take the KKT residual to rounding level in a
# few steps where first-order methods crawl. At most REFINE_MAX_STEPS per
# refinement, CG_MAX_ITER products per step, with the usual forcing term
# min(CG_FORCING, sqrt(|g|)) * |g| (superlinear near the optimum).
REFINE_MAX_STEPS = 20
CG_MAX_ITER = 50
CG_FORCING = 0.1
# A lasso or elastic-net Newton step solves with the exact Hessian of the
# free coefficients instead (SecondOrder.support_hessians, a Cholesky per
# system) when forming it costs at most DENSE_NEWTON_MAX_COST evaluations and
# no system has more than DENSE_NEWTON_MAX_PARAMS unknowns (the factor costs
# m^3 / 3). CG took 15-50 Hessian products, each about an evaluation, per
# step on the penalty benchmark, and a Gram matrix runs several times faster
# per multiply-add than an evaluation's thin products.
DENSE_NEWTON_MAX_COST = 40
DENSE_NEWTON_MAX_PARAMS = 2000
# A direction whose curvature is below this fraction of the largest diagonal
# entry of its Newton system has none: rounding of sums of about 1e4 terms
# leaves some 1e-12, a real curvature is far above.
FLAT_CURVATURE = 1e-9
# A Newton step is halved at most this often before the refinement gives up.
NEWTON_BACKTRACKS = 12
# Proximal gradient tries a refinement after this many iterations with an
# unchanged support; the split solver after each L-BFGS-B phase, at most
# MAX_ROUNDS times (a refinement that drops coefficients can leave zeros
# that L-BFGS-B then has to re-examine).
STABLE_SUPPORT_ITERATIONS = 10
MAX_ROUNDS = 4
# The split solver also hands over to the refinement early, from inside an
# L-BFGS-B run, once the support has held for STABLE_SUPPORT_ITERATIONS:
# L-BFGS-B may then have found the support and only crawl to the
# tolerance. An early attempt goes on only while each Newton step cuts the
# largest gradient entry EARLY_CONTRACTION times (a right support does so
# by 100x or more); otherwise L-BFGS-B resumes, and the support must then
# hold twice as long before the next attempt (a failed one costs a Newton
# step, up to CG_MAX_ITER products), at most MAX_EARLY_REFINES times.
EARLY_CONTRACTION = 0.1
MAX_EARLY_REFINES = 3


def _flat_directions(positions, H, shape):
    """Orthonormal columns spanning the directions of no curvature among
    "one coefficient column moved alike in every row", shape (m, f).

    A softmax loss does not change when a column of ``coef`` moves alike in
    every row; without an L2 part the lasso is linear there on the orthant,
    so a Newton step along such a direction is unbounded (and the intercepts'
    one is flat in any case). Found from ``H`` itself: a fully free column
    whose direction ``H`` maps to (nearly) zero.
    """
    n_rows, n_coef = shape
    rows, columns = np.divmod(positions, n_coef)
    if n_rows < 2 or len(np.unique(rows)) < n_rows:
        return np.zeros((len(positions), 0))
    found = []
    scale = max(np.abs(np.diag(H)).max(), np.finfo(float).tiny)
    for column in np.flatnonzero(np.bincount(columns, minlength=n_coef) == n_rows):
        v = (columns == column) / np.sqrt(n_rows)
        if np.abs(H @ v).max() <= FLAT_CURVATURE * scale:
            found.append(v)
    return np.array(found).T.reshape(len(positions), len(found))


class _CompositeSolver:
    """What both solvers share: evaluation, the KKT test and the result.

    Parameters
    ----------
    objective : Objective
        The smooth part (:mod:`sksoftmax._objective`).
    penalty : L1Penalty
        The non-smooth part.
    tol : float
        Stop when every group's KKT residual is at most ``tol``.
    max_iter : int
    verbose : int, default=0
    """

    name = "composite"

    def __init__(self, objective, penalty, *, tol, max_iter, verbose=0):
        self.objective = objective
        self.penalty = penalty
        self.tol = tol
        self.max_iter = max_iter
        self.verbose = verbose
        self.shape = objective.coef_shape
        self.separable = objective.separable

    def evaluate(self, coef):
        """Smooth values and gradient at ``coef``, the composite objective
        and the per-row KKT residual; remembered as the current point."""
        values, grad = self.objective.value_gradient(coef)
        self.n_evaluations += 1
        self._accept(coef, values, grad)
        return self.value

    def check_convergence(self):
        """Record newly converged rows; True when all have converged."""
        ok = self.residual <= self.tol
        self.first_converged[ok & (self.first_converged < 0)] = self.n_iter
        return bool(ok.all())

    def setup(self, coef0):
        self.n_iter = 0
        self.n_evaluations = 0
        self.first_converged = np.full(self.shape[0], -1)
        self.message = "converged at the starting point"
        self.stalled = False
        self._support = None
        self.evaluate(np.array(coef0, dtype=np.float64).reshape(self.shape))
        self.rebuild_scaling()

    def _support_held(self, support):
        """Iterations for which the mask ``support`` has held: a changed
        one starts the count again (``self._support = None`` forgets it)."""
        if self._support is None or not np.array_equal(support, self._support):
            self._support, self._support_since = support, self.n_iter
        return self.n_iter - self._support_since

    def _scaling(self):
        """The diagonal change of variables from the curvature at the
        current point."""
        moments = self.objective.second_order(self.coef).diagonal_moments()
        return diagonal_preconditioner(moments)

    def rebuild_scaling(self):
        self.scaling = self._scaling()

    def report(self, stage):
        if self.verbose:
            print(
                f"[sksoftmax] {stage} iter {self.n_iter:4d}  objective "
                f"{self.value:.10e}  max|subgrad| {self.residual.max():.3e}"
            )

    # -- refinement on the support ------------------------------------------

    def _orthant(self, V, grad):
        """Free coefficients and the smooth composite gradient on them, in
        the scaled variables.

        For the lasso this is OWL-QN's orthant: a nonzero entry keeps its
        sign; a zero entry whose gradient exceeds the L1 weight is freed
        with the sign that descends; other zeros stay fixed. A grouped
        penalty frees its nonzero columns.
        """
        g = self.scaling.gradient_to_v(grad)
        n = self.penalty.n_features
        free = self.penalty.support(V)
        if self.penalty.groups is None:
            weight = self.penalty.l1[:, None] / self.scaling.scale
            VW, gW = V[:, :n], g[:, :n]
            signs = np.sign(VW)
            enter = (VW == 0) & (np.abs(gW) > weight)
            signs[enter] = -np.sign(gW[enter])
            free[:, :n] = signs != 0
            g[:, :n] += weight * signs
        else:
            g += self.penalty.smooth_gradient(V, self.scaling.scale)
            signs = None
        return g * free, free, signs

    def _keep_signs(self, V, trial, signs):
        """Entries (lasso) or columns (grouped) that a step carries out of
        the orthant stop at zero: the penalty is not smooth there."""
        n = self.penalty.n_features
        VW, TW = V[:, :n], trial[:, :n]
        if signs is not None:
            TW[np.sign(TW) != signs] = 0.0
        else:
            TW[:, np.einsum("kj,kj->j", VW, TW) <= 0] = 0.0
        return trial

    def _direct_newton_direction(self, free, signs):
        """Solve ``H d = g`` on the support with the exact Hessian of the
        free coefficients, or None where that costs too much (or the
        penalty is grouped, whose curvature is not in the objective's)."""
        if signs is None:
            return None
        size, cost = self.objective.support_hessian_cost(free)
        if size > DENSE_NEWTON_MAX_PARAMS or cost > DENSE_NEWTON_MAX_COST:
            return None
        systems = self.objective.second_order(self.coef).support_hessians(free)
        self.n_evaluations += 1
        # The composite gradient in coef's own variables: on the orthant the
        # L1 part is linear, l1 * sign.
        n = self.penalty.n_features
        g = self.grad.copy()
        g[:, :n] += self.penalty.l1[:, None] * signs
        g = g.ravel()
        d = np.zeros_like(g)
        for positions, H in systems:
            flat = _flat_directions(positions, H, self.shape)
            rhs = g[positions]
            rhs -= flat @ (flat.T @ rhs)
            step = _PositiveSystem(H).solve(rhs)
            d[positions] = step - flat @ (flat.T @ step)
        # The change of variables is linear: the same step in V.
        return self.scaling.from_coef(d.reshape(self.shape))

    def _newton_direction(self, V, g, free, signs=None):
        """Approximately solve ``H d = g`` on the support (``H``: Hessian of
        the composite objective there): directly where that is cheap, else
        by conjugate gradients."""
        direct = self._direct_newton_direction(free, signs)
        if direct is not None:
            return direct
        second_order = self.objective.second_order(self.coef)
        scaling, scale = self.scaling, self.scaling.scale

        def product(U):
            U = U * free
            out = scaling.gradient_to_v(
                second_order.hessian_product(scaling.to_coef(U))
            )
            out += self.penalty.smooth_hessian_product(V, U, scale)
            self.n_evaluations += 1
            return out * free

        norm = np.linalg.norm(g)
        target = min(CG_FORCING, np.sqrt(norm)) * norm
        d = np.zeros_like(g)
        r = g.copy()
        p = r.copy()
        rr = np.vdot(r, r)
        for _ in range(CG_MAX_ITER):
            Hp = product(p)
            curvature = np.vdot(p, Hp)
            if not curvature > 0:
                break
            alpha = rr / curvature
            d += alpha * p
            r -= alpha * Hp
            rr_new = np.vdot(r, r)
            if np.sqrt(rr_new) <= target:
                break
            p = r + (rr_new / rr) * p
            rr = rr_new
        return d if np.any(d) else g

    def refine(self, max_steps, contraction=None):
        """Newton steps on the current support; True when converged.

        With ``contraction``, stop after a step that does not cut the
        largest (orthant) gradient entry by that factor: Newton's method
        converging contracts much faster, and on a wrong support it does
        not contract at all.
        """
        for _ in range(max_steps):
            if self.check_convergence() or self.n_iter >= self.max_iter:
                break
            V = self.scaling.from_coef(self.coef)
            g, free, signs = self._orthant(V, self.grad)
            g_max = np.abs(g).max()
            if not g_max > 0:
                break
            d = self._newton_direction(V, g, free, signs)
            limit = self.value + DECREASE_SLACK * (abs(self.value) + 1.0)
            for step in STEP_SHRINK ** np.arange(NEWTON_BACKTRACKS):
                trial = self._keep_signs(V, V - step * d, signs)
                coef = self.scaling.to_coef(trial)
                values, grad = self.objective.value_gradient(coef)
                self.n_evaluations += 1
                total = float(values.sum()) + self.penalty.value(coef)
                trial_g, _, _ = self._orthant(trial, grad)
                if total <= limit and np.abs(trial_g).max() < g_max:
                    break
            else:
                break
            self.n_iter += 1
            self._accept(coef, values, grad)
            self.report("Newton")
            if contraction is not None and np.abs(trial_g).max() > contraction * g_max:
                break
        return self.check_convergence()

    def _accept(self, coef, values, grad):
        """Make an evaluated point the current one."""
        self.coef, self.grad = coef, grad
        self.smooth = float(values.sum())
        self.value = self.smooth + self.penalty.value(coef)
        residual = self.penalty.optimality(coef, grad)
        self.residual = (
            residual if self.separable else np.full_like(residual, residual.max())
        )

    def finish(self):
        """Centre the unpenalised columns where the loss allows it (softmax
        intercepts): the objective does not change, the result is unique."""
        n_features = self.penalty.n_features
        centred = self.objective.project(self.coef)
        coef = self.coef.copy()
        coef[:, n_features:] = centred[:, n_features:]
        if not np.array_equal(coef, self.coef):
            self.evaluate(coef)

    def result(self):
        self.finish()
        n_iter = np.where(self.first_converged >= 0, self.first_converged, self.n_iter)
        if not self.separable:
            n_iter[:] = n_iter.max()
        return SolverResult(
            coef=np.array(self.coef, dtype=np.float64),
            n_iter=n_iter,
            converged=self.residual <= self.tol,
            grad_max=self.residual.copy(),
            value=self.value,
            message=self.message,
            stalled=self.stalled,
            n_evaluations=self.n_evaluations,
        )

    def solve(self, coef0):
        """Run the phases from ``coef0``; returns a :class:`SolverResult`."""
        with single_threaded_scipy_blas():
            self.setup(coef0)
            self.run()
            return self.result()


class SplitLBFGSSolver(_CompositeSolver):
    """L-BFGS-B on the positive and negative parts of the coefficients.

    In the scaled variables ``V`` (``W = V_w / d``), ``V_w = P - N`` with
    ``P, N >= 0`` and the L1 part is ``sum l1 / d * (P + N)``: a smooth
    objective on a box, which L-BFGS-B minimises with its projected
    quasi-Newton steps. At the optimum one half of each pair is zero (both,
    for a zero coefficient), since a shared positive part only adds penalty.
    """

    name = "L-BFGS-B (split)"

    def _n_penalised(self):
        return self.shape[0] * self.penalty.n_features

    def _to_x(self, V):
        n_features = self.penalty.n_features
        VW = V[:, :n_features]
        return np.concatenate(
            [
                np.maximum(VW, 0.0).ravel(),
                np.maximum(-VW, 0.0).ravel(),
                V[:, n_features:].ravel(),
            ]
        )

    def _to_v(self, x):
        m, n_features = self._n_penalised(), self.penalty.n_features
        V = np.empty(self.shape)
        V[:, :n_features] = (x[:m] - x[m : 2 * m]).reshape(self.shape[0], -1)
        V[:, n_features:] = x[2 * m :].reshape(self.shape[0], -1)
        return V

    def _evaluate_x(self, x):
        """Evaluate at the split variables ``x`` and remember ``x``."""
        self.evaluate(self.scaling.to_coef(self._to_v(x)))
        self._x = x.copy()

    def _move_to(self, x):
        """Make ``x`` the current point, evaluating only if it is not
        already (a run's start, or the point of scipy's last call)."""
        evaluate_if_new(self._evaluate_x, x, self._x)

    def _function(self, x):
        m, n_features = self._n_penalised(), self.penalty.n_features
        self._move_to(x)
        weight = (self.penalty.l1[:, None] / self.scaling.scale).ravel()
        value = self.smooth + float(weight @ (x[:m] + x[m : 2 * m]))
        gv = self.scaling.gradient_to_v(self.grad)
        gw = gv[:, :n_features].ravel()
        grad = np.concatenate([gw + weight, weight - gw, gv[:, n_features:].ravel()])
        return value, grad

    def _callback(self, intermediate_result):
        x = getattr(intermediate_result, "x", intermediate_result)
        self.n_iter += 1
        self._move_to(x)
        self.report("L-BFGS-B")
        if self.check_convergence() or self._support_settled():
            raise StopIteration
        precision = self.objective.precision
        precision.after_iteration(
            self.objective, self.coef, self.value, self._previous - self.value
        )
        self._previous = self.value

    def _support_settled(self):
        """True, once per support, when an early refinement is due: the
        zero pattern has held for STABLE_SUPPORT_ITERATIONS iterations."""
        if self._early_refines >= MAX_EARLY_REFINES:
            return False
        held = self._support_held(self.penalty.support(self.coef))
        self._settled = held >= self._stable_needed
        return self._settled

    def iterate(self, max_iter):
        """One L-BFGS-B run from the current point; scipy's status."""
        x0 = self._to_x(self.scaling.from_coef(self.coef))
        m = self._n_penalised()
        lower = np.full(x0.shape, -np.inf)
        lower[: 2 * m] = 0.0
        # The state is already evaluated at x0: scipy's first call is free.
        self._x, self._previous = x0.copy(), np.inf
        status, self.message = run_lbfgsb(
            self._function,
            x0,
            self._callback,
            max_iter,
            self._move_to,
            bounds=Bounds(lower, np.inf),
        )
        return status

    def run(self):
        """Rounds of L-BFGS-B runs, each followed by Newton refinement on
        the support it found."""
        self._early_refines = 0
        self._stable_needed = STABLE_SUPPORT_ITERATIONS
        rounds = 0
        while rounds < MAX_ROUNDS:
            self._settled = False
            self.run_lbfgs()
            if self._settled:
                self._early_refines += 1
                self._support = None
                if self.refine(REFINE_MAX_STEPS, contraction=EARLY_CONTRACTION):
                    break
                self._stable_needed *= 2
            else:
                rounds += 1
                if self.refine(REFINE_MAX_STEPS):
                    break
            if self.n_iter >= self.max_iter:
                break
            self.rebuild_scaling()

    def run_lbfgs(self):
        """L-BFGS-B runs with scaling rebuilds, until convergence, a stall
        or ``max_iter`` iterations."""
        interval = FIRST_REBUILD_INTERVAL
        while not self.check_convergence() and self.n_iter < self.max_iter:
            start = self.n_iter
            status = self.iterate(min(interval, self.max_iter - self.n_iter))
            if self.check_convergence() or self._settled:
                break
            precision = self.objective.precision
            if status != LBFGS_LIMIT and precision.low_precision:
                # float32 products at their rounding floor: re-anchor or
                # finish in float64, then go on.
                if precision.after_stall(self.objective, self.coef, self.value):
                    self.evaluate(self.coef)
                    continue
            if status != LBFGS_LIMIT or self.n_iter == start:
                self.stalled = status == LBFGS_CONVERGED
                break
            self.rebuild_scaling()
            interval *= REBUILD_GROWTH


class ProximalGradientSolver(_CompositeSolver):
    """Proximal gradient with backtracking and Anderson extrapolation.

    Works for any :class:`~sksoftmax._penalty.L1Penalty`; the grouped one
    needs it. The scaling is one per feature, shared by all rows, so that
    the grouped penalty's proximal map keeps its closed form.
    """

    name = "proximal gradient"

    def _scaling(self):
        scaling = super()._scaling()
        if self.penalty.groups is not None:
            # The largest curvature of each feature over the rows: a common
            # scale under which steps are safe for every row.
            scaling.scale = np.broadcast_to(
                scaling.scale.max(axis=0), scaling.scale.shape
            ).copy()
        return scaling

    def _step_from(self, V, gv, step):
        """Backtrack from ``step`` until the sufficient-decrease test holds;
        returns the new point's V and the step, or None."""
        smooth, scale = self.smooth, self.scaling.scale
        for _ in range(MAX_BACKTRACKS):
            trial = self.penalty.prox(V - step * gv, step, scale)
            change = trial - V
            model = smooth + np.vdot(gv, change) + np.vdot(change, change) / (2 * step)
            coef = self.scaling.to_coef(trial)
            values, grad = self.objective.value_gradient(coef)
            self.n_evaluations += 1
            if float(values.sum()) <= model + DECREASE_SLACK * (abs(smooth) + 1.0):
                return trial, coef, values, grad, step
            step *= STEP_SHRINK
        return None

    def _extrapolate(self, history):
        """Anderson's combination of the last iterates, or None."""
        X = np.stack([h.ravel() for h in history])
        U = np.diff(X, axis=0)
        gram = U @ U.T
        gram[np.diag_indices_from(gram)] += ANDERSON_RIDGE * max(np.trace(gram), 1e-300)
        try:
            z = np.linalg.solve(gram, np.ones(len(U)))
        except np.linalg.LinAlgError:
            return None
        if not np.all(np.isfinite(z)) or z.sum() == 0:
            return None
        c = z / z.sum()
        return (c @ X[1:]).reshape(self.shape)

    def run(self):
        step = 1.0
        history = []
        interval, next_rebuild = FIRST_REBUILD_INTERVAL, FIRST_REBUILD_INTERVAL
        V = self.scaling.from_coef(self.coef)
        while not self.check_convergence() and self.n_iter < self.max_iter:
            gv = self.scaling.gradient_to_v(self.grad)
            found = self._step_from(V, gv, step)
            if found is None:
                self.message = "no step decreases the objective (rounding level)"
                self.stalled = True
                break
            V, coef, values, grad, step = found
            self.n_iter += 1
            self._accept(coef, values, grad)
            step *= STEP_GROWTH
            history.append(V)
            if len(history) == ANDERSON_MEMORY + 1:
                V = self._try_extrapolation(history, V)
                history = []
            self.report("proximal")
            held = self._support_held(self.penalty.support(V))
            if held >= STABLE_SUPPORT_ITERATIONS:
                if self.refine(REFINE_MAX_STEPS):
                    break
                V = self.scaling.from_coef(self.coef)
                history, self._support = [], None
            if self.n_iter >= next_rebuild:
                self.rebuild_scaling()
                V = self.scaling.from_coef(self.coef)
                history, step = [], 1.0
                interval *= REBUILD_GROWTH
                next_rebuild = self.n_iter + interval
        else:
            self.message = (
                "tolerance met" if self.check_convergence() else "max_iter reached"
            )

    def _try_extrapolation(self, history, V):
        """Move to Anderson's point when it lowers the objective."""
        extrapolated = self._extrapolate(history)
        if extrapolated is None:
            return V
        coef = self.scaling.to_coef(extrapolated)
        values, grad = self.objective.value_gradient(coef)
        self.n_evaluations += 1
        total = float(values.sum()) + self.penalty.value(coef)
        if total < self.value:
            self._accept(coef, values, grad)
            return extrapolated
        return V


def minimize_composite(
    objective, penalty, coef0, *, tol, max_iter, verbose=0, method="auto"
):
    """Minimise ``objective + penalty`` from ``coef0``.

    Parameters
    ----------
    objective : Objective
    penalty : L1Penalty
    coef0 : ndarray of shape objective.coef_shape
    tol : float
    max_iter : int
    verbose : int, default=0
    method : {"auto", "split-lbfgs", "proximal-gradient"}, default="auto"
        "auto" takes L-BFGS-B on the split for the lasso and elastic net,
        proximal gradient for the grouped penalty.

    Returns
    -------
    result : SolverResult
    """
    if method == "auto":
        method = "split-lbfgs" if penalty.groups is None else "proximal-gradient"
    if method == "split-lbfgs":
        if penalty.groups is not None:
            raise ValueError("the split L-BFGS-B solver has no grouped penalty")
        solver_class = SplitLBFGSSolver
    elif method == "proximal-gradient":
        solver_class = ProximalGradientSolver
    else:
        raise ValueError(f"unknown method {method!r}")
    solver = solver_class(
        objective, penalty, tol=tol, max_iter=max_iter, verbose=verbose
    )
    return solver.solve(coef0)
