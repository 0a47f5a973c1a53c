"""One optimiser for every objective that keeps the contract of
:mod:`sksoftmax._objective`.

The solver knows nothing about classes, labels or ``X``. It runs scipy's
L-BFGS-B for the bulk of the work and stops when every group's largest
absolute gradient entry is at most ``tol`` (scikit-learn's lbfgs criterion,
always measured on the original coefficients; a group is one output row of
a separable objective, or everything). Its phases are named methods of
:class:`LBFGSSolver`:

* :meth:`~LBFGSSolver.setup`: evaluate the starting point;
* :meth:`~LBFGSSolver.refresh_preconditioner`: a change of variables whose
  curvature is close to the identity (:mod:`sksoftmax._precondition`), built
  from the Hessian's diagonal blocks; rebuilt at geometrically growing
  intervals, since each rebuild restarts L-BFGS and discards its memory;
* :meth:`~LBFGSSolver.iterate`: one L-BFGS-B run in those variables, on the
  objective composed with the loss's projection (directions along which the
  loss is invariant are removed, so the penalty's weak curvature along them
  never slows L-BFGS down); for a separable objective large enough, one run
  per output row, in lockstep (``PER_ROW_MIN_COST``); a run that starts near
  the minimum (a warm start's first, or one from a rebuild) takes a first
  step of Newton's length instead of L-BFGS-B's unit step
  (``NEWTON_STEP_MIN_GAP``);
* :meth:`~LBFGSSolver.after_run`: decide what a stop of L-BFGS-B means
  (converged, limit, stall at float32's rounding floor, or failure);
* :meth:`~LBFGSSolver.newton_cg`: with very many coefficients, where
  L-BFGS-B's own bookkeeping rivals the products with ``X``, truncated
  Newton steps (conjugate gradients on Hessian-vector products, in the
  preconditioner's variables) take over after a short L-BFGS run;
* :meth:`~LBFGSSolver.refine`: when an exact Hessian is cheap, a few damped
  Newton steps drive the gradient to rounding level, so results do not
  depend on where L-BFGS happened to stop;
* :meth:`~LBFGSSolver.newton_from_memory`: along a C path, where the
  refinement applies, the previous fit's Hessian (a :class:`NewtonMemory`)
  gives the first preconditioner and Newton's first steps, so a warm start
  needs neither new Gram matrices nor an L-BFGS run;
* :meth:`~LBFGSSolver.check_convergence` and :meth:`~LBFGSSolver.result`.
"""

import dataclasses

import numpy as np
import scipy
import scipy.linalg

from ._blas import single_threaded_scipy_blas
from ._lbfgsb import (
    LBFGS_ABNORMAL,
    LBFGS_CONVERGED,
    LBFGS_FTOL,
    LBFGS_HALTED,
    LBFGS_LIMIT,
    rows_supported,
    run_lbfgsb,
    run_lbfgsb_rows,
)
from ._precondition import (
    IdentityPreconditioner,
    build_preconditioner,
    cholesky_preconditioner,
    choose_kind,
)

__all__ = ["LBFGSSolver", "NewtonMemory", "SolverResult", "minimize_lbfgs"]

# Newton refinement is used when one exact Hessian costs at most about this
# many multiply-adds (a few tens of milliseconds on one core) and has at most
# this many unknowns; it takes at most REFINE_MAX_STEPS steps.
REFINE_MAX_FLOPS = 1e8
REFINE_MAX_PARAMS = 2000
REFINE_MAX_STEPS = 8
# Nor where a Newton step costs more than REFINE_MAX_EVALUATIONS
# evaluations: on small rows with many unknowns (50 x 200 with 3 classes:
# 603 unknowns, a step of 14 ms against evaluations of 0.08 ms) the
# refinement made fits 1.4-2.8x slower for objectives at most 1.3e-9
# (relative) lower. A step's cost, in multiply-adds of an evaluation's
# skinny products: the Hessian's at NEWTON_HESSIAN_SPEEDUP times their rate, each
# system's Cholesky factorisation (unknowns^3 / 3) at NEWTON_FACTOR_SPEEDUP times,
# and NEWTON_OVERHEAD_MULTIPLY_ADDS of fixed (Python) cost, against an
# evaluation's products plus EVALUATION_OVERHEAD_MULTIPLY_ADDS. Measured
# on the benchmark machine (one step against one evaluation, medians of
# 5): iris 6.4 (model 5.0), breast cancer 3.5 (5.6), 50 x 50 with 3 classes
# 10.8 (8.4), 600 x 72 with 6 labels 14.4 (19.6); 100 x 100 with 3 classes
# 27.6 (29), 300 x 40 with 8 classes 45 (42), 50 x 200 194 (152). Fits
# without the refinement (A/B, medians of 7, C=1 and 100, tol 1e-4 and
# 1e-10): 100 x 100 0.65-1.05x the time, 300 x 40 0.55-0.78x, 200 x 100 with
# 5 classes 0.51-0.78x, 50 x 200 0.36-0.70x; the first four above, whose
# fits the refinement takes to rounding level for 15-40% more time at
# tol=1e-4, keep it.
REFINE_MAX_EVALUATIONS = 25.0
NEWTON_HESSIAN_SPEEDUP = 1.25
NEWTON_FACTOR_SPEEDUP = 1.2
NEWTON_OVERHEAD_MULTIPLY_ADDS = 2e6
EVALUATION_OVERHEAD_MULTIPLY_ADDS = 4e5
# Where a step costs more, the refinement still rescues an L-BFGS run that
# has not converged after the evaluations of RESCUE_AFTER_STEPS steps (or
# its iterations less the refinement's reserve): nearly separable data
# with more features than rows (60 x 500 at C=100) took L-BFGS more than
# 500 iterations to tol=1e-8, which Newton steps then reached. A run that
# stalled at rounding level is not rescued: on 50 x 200 at tol=1e-10 the
# rescue's two steps took the fit from 15 ms to 29 ms for an objective
# 1e-14 (relative) lower.
RESCUE_AFTER_STEPS = 2.0
# Where the refinement applies, an L-BFGS run cut short for a preconditioner
# rebuild hands over to it instead when every group's objective is estimated
# within this fraction of its minimum (the squared gradient in the
# preconditioner's metric, close to Newton's decrement): from there one or
# two Newton steps reach rounding level. 600 x 72, 6 labels, C=0.01: the
# first rebuild came at a gap of 1.3e-6, two iterations before convergence,
# and the fit took 25% less time going to Newton instead; at C=1 and 100
# (gaps 1e-3 and 1e-2 there) L-BFGS was faster.
NEWTON_NEAR_GAP = 1e-5
# A refinement step reuses the previous step's factorised Hessian (one
# evaluation instead of a Hessian and a factorisation) while each step cuts
# the largest gradient entry by at least this factor. Near the optimum the
# Hessian barely moves, so the kept one still contracts the gradient by
# orders of magnitude per step (600 x 72, 6 labels: the second step's
# Hessian was a third of the fit).
REFINE_REUSE_CONTRACTION = 0.1
# A Newton step is accepted when the objective grows by at most this much
# relative rounding slack (near the optimum it changes by rounding-level
# amounts, so steps are judged by the gradient).
REFINE_VALUE_SLACK = 1e-13
# Refinement stops once the gradient is at this relative rounding level.
REFINE_GRADIENT_FLOOR = 1e-14

# A small gradient does not make a small objective gap when the curvature is
# weak (a strong penalty, a flat optimum): with max|g| <= 1e-4, an objective
# 5e-6 (relative) above the minimum was seen, where scikit-learn's lbfgs had
# happened to stop closer. So convergence also asks that the objective be
# estimated within this fraction of the minimum: below the 1e-9 at which two
# fits' objectives are compared, so a fit at any tol is as good as
# scikit-learn's at that tol.
OBJECTIVE_GAP = 1e-10

# First Cholesky preconditioner rebuild from a cold start: after the rebuild's cost in
# evaluations (Objective.rebuild_cost: its Gram matrices' multiply-adds
# against an evaluation's) divided by REBUILD_COST_DISCOUNT, but never before
# MIN_REFRESH_INTERVAL nor after MAX_FIRST_REFRESH_INTERVAL iterations. An
# early rebuild pays most where the outputs' curvatures drift apart from the
# common one at the start: one-vs-rest labels of different frequencies, which
# a single L-BFGS memory then serves badly (10,000 x 100, 50 labels: 57
# iterations with the first rebuild at 50, 28 at 8; letter, pendigits,
# satimage, raw digits: 20-45% fewer iterations, 10-30% faster). Gram products
# run at BLAS speed, evaluations also pay for exponentials: raw digits, whose
# rebuild costs 32 evaluations by multiply-adds, fit fastest with the rebuild
# at 8, hence the discount. Each later interval is REFRESH_GROWTH times
# longer: a rebuild restarts L-BFGS and discards its curvature memory, which
# near a weakly penalised optimum matters more.
MIN_REFRESH_INTERVAL = 8
MAX_FIRST_REFRESH_INTERVAL = 200
REBUILD_COST_DISCOUNT = 4
# From a warm start (a C path, warm_start=True) the first factors are built
# near the solution, and an early rebuild only adds its cost: the first one
# comes after the rebuild's full cost in evaluations, and at least this many
# iterations (raw digits' 50-fit C path: 1.6 s with the rebuild at 8, 1.0 s
# with it at 32, the same iterations).
WARM_MIN_REFRESH_INTERVAL = 20
# The diagonal preconditioner (wide or sparse data) is first rebuilt after
# this many iterations. Against 50: 10,000 x 784 pixels took 8-31% fewer
# iterations (1.05-1.5x faster), 2,000 x 5,000 6-21% fewer (1.03-1.18x),
# while the 1,200 x 294 six-label set went 0.81-1.05x; 15 was no better
# than 25, and 100 was 1.2-1.6x slower on the first two.
DIAGONAL_REFRESH_INTERVAL = 25
REFRESH_GROWTH = 2


# A cold start on data with many more rows than coefficients first solves the
# objective on every SAMPLE_STEP-th row (strided views: nothing is copied;
# a systematic sample, so rows sorted by class are still represented), for
# at most SAMPLE_START_MAX_ITER iterations, and starts the fit on all rows
# from there: near the solution, with the first preconditioner built there.
# Each sample iteration costs a tenth of one on all rows, and the full run
# then needs fewer: 200,000 x 20 with 5 classes took 10-16 iterations
# instead of 18-23 over C in {0.01, 1, 100} and tol in {1e-4, 1e-6, 1e-10}
# (fits 1.18-1.39x faster, A/B interleaved, medians of 7); standardised
# make_classification data, 100,000 x 50 with 10 classes 1.25-1.40x,
# 500,000 x 10 with 3 classes 1.26-1.29x, 200,000 x 100 with 20 classes
# 1.23-1.28x, and one-vs-rest 200,000 x 20 with 5 labels 1.26-1.29x; the
# same objectives to 1e-10 (relative). 6 sample iterations did as well as 10
# or 15 there. Not for float32 products, where the evidence is mixed: the
# 200,000 x 20 set in float32 fitted 1.07-1.27x faster, but 20,000 x 6 with
# 3 classes at tol=1e-8 took 3 more evaluations on all rows (its float32
# re-anchoring). It applies only where the sample still holds at least
# SAMPLE_MIN_ROWS_PER_COEF rows per coefficient of every output's rarer
# outcome (a class against the rest, a label's two values): with fewer the
# sample's solution is too far from the full one (20,000 x 16 with 26
# classes, 4.5 such rows: 1.1-2x slower at C >= 1; 10,000 x 100 with 50
# labels, some rare: 1.5x slower), and where an evaluation on all rows
# makes at least SAMPLE_START_MIN_MULTIPLY_ADDS multiply-adds, since the
# phase has a fixed cost of its own (50,000 x 20 with 5 classes, 1e7: 0.95x).
SAMPLE_STEP = 10
SAMPLE_START_MAX_ITER = 10
SAMPLE_MIN_ROWS_PER_COEF = 10
SAMPLE_START_MIN_MULTIPLY_ADDS = 2e7
# L-BFGS-B's first trial step has unit length in its variables. A run that
# starts near the minimum, with a preconditioner just built there, is better
# served by Newton's step, about the gradient in the preconditioner's
# variables and far shorter: the unit step overshot (by 1e2-1e3 on
# 200,000 x 20 with 5 classes from the sample's solution) and its line
# search spent an evaluation coming back. So the first run of a fit that
# starts away from zero (a sample's solution, a warm start, the next fit of
# a C path) and every run from a rebuild work in variables divided by the
# gradient's norm (per output where the outputs run alone), where the unit
# step is Newton's: only where that norm is below 1, so that the step only
# ever gets shorter, and only while the objective is estimated at least
# NEWTON_STEP_MIN_GAP (relative) above its minimum: closer, a step of
# Newton's length changes the objective by rounding-level amounts, and its
# line search can fail (without the guard, one of the 80 random fits below
# ended with a failed line search and a ConvergenceWarning). Nor where the
# Newton refinement finishes the fit: the step moves the point where L-BFGS
# hands over to it, and the refinement's Hessians cost several evaluations
# each (600 x 72 with 6 labels: 41 evaluations instead of 46 but 5 Newton
# steps instead of 2, fits 0.86-0.93x). Counting a sample evaluation as a
# tenth, on the benchmark's problems but text (90 cells; text's Newton-CG
# makes no rebuild): 4,009 evaluations instead of 4,115, fewer in 55 cells,
# 1-2 more in 7 (wide and pixels at C >= 1, where fits timed 0.98-1.11x);
# 200,000 x 20 with 5 classes, against unit steps throughout: 12
# evaluations on all rows instead of 14 at C=1 and 100 for tol up to 1e-6
# (the sample start's), 15 instead of 19 at tol=1e-10; pendigits and
# satimage fits 1.0-1.2x faster, letter and raw digits 1.02-1.05x (A/B
# interleaved, medians of 7, one and two threads). On 80 random problems
# (300-20,000 rows, 4-60 features, 2-10 outputs, C from 1e-3 to 1e4):
# 1,618 evaluations instead of 1,664, fewer in 32, more in 3, no warning,
# no objective higher (to 1e-9). Cross-validated C paths (10 C, 5 folds;
# 20,000 x 40 with 8 classes, digits, 5,000 x 100 with 10 labels, 3,000 x
# 300 with 5 classes; tol 1e-4 and 1e-8), warm starts against unit first
# steps: 1-20% fewer evaluations, fits 0.97-1.07x (mostly 1.03-1.07x), the
# same chosen C.
NEWTON_STEP_MIN_GAP = 1e-10

# Separable objectives (one-vs-rest) run one L-BFGS-B per output, in
# lockstep (one evaluation serves them all), instead of one run over all
# outputs: a joint run shares its step lengths and curvature pairs between
# independent problems, and needed more iterations than the slowest output
# alone. Converged outputs stop, as each of scikit-learn's per-label runs
# does. Fits at one thread, medians of 3, joint against per output:
# 1,200 x 294 with 6 labels 1.04-1.48x faster (C=0.01: 20 iterations
# instead of 28), 10,000 x 100 with 50 labels 1.03-1.48x. Each output's run
# costs about 40 us of Python and L-BFGS-B per round, which the smallest set
# (600 x 72, 6 labels: 86,400 multiply-adds per output and evaluation)
# did not earn back (0.80-1.01x), so outputs run alone only from
# PER_ROW_MIN_COST multiply-adds per output and evaluation (the 1,200 x 294
# set: 705,600).
PER_ROW_MIN_COST = 250_000
# A round of per-row runs evaluates only the rows whose variables moved when
# they are at most this fraction of all rows: the others (stopped, or waiting
# while another row's line search needs a second point) keep their values.
# Fewer outputs make smaller, less efficient products, so a saving of under
# half an evaluation is not taken: on 10,000 x 100 with 50 labels, where a
# third to two fifths of the rows stop early at C >= 1, fits were 1.13-1.25x
# faster with this limit (1.03-1.33x with 0.8 or 1.0); on 1,200 x 294 with
# 6 labels, 0.96-1.04x with it against 0.85-1.04x without.
PARTIAL_EVALUATION_MAX_FRACTION = 0.5

# Outputs that run alone keep no diagonal preconditioner when the first one
# is uniform: in every row, scales within UNIFORM_SPREAD of each other and no
# centring beyond UNIFORM_CENTRING of a feature's standard deviation, which
# is what standardised data give at coef = 0. A row's own L-BFGS-B run is
# invariant to a multiple of the identity (all but its first step), so that
# preconditioner buys nothing, while each rebuild restarts every row's run
# and costs a pass of weighted moments; on standardised data the rebuilt
# scales stayed within 1.04-1.34 of the first. One thread, medians of 3,
# identity against diagonal: 1,200 x 294 with 6 labels 1.03-2.09x faster
# (C=100, tol=1e-6: 48 iterations instead of 81), 2,000 x 1,000 with 6 labels
# 1.05-1.90x; unstandardised data (the same 1,200 x 294 with column scales
# over e^-2..e^2) took 2.6-3.6x longer without it. A joint run (softmax) is
# not invariant to different multiples for different rows, which its
# rebuilds balance: 2,000 x 5,000 standardised, 5 classes, fit 1.4-4x faster
# with them.
UNIFORM_SPREAD = 1.5
UNIFORM_CENTRING = 0.1


@dataclasses.dataclass
class SolverResult:
    """Outcome of :class:`LBFGSSolver`.

    Attributes
    ----------
    coef : ndarray of shape coef_shape
        The solution.
    n_iter : ndarray of int, shape (n_rows,)
        Iterations until each row met the tolerance (rows of one group
        share it); the total count where a row never met it.
    converged : ndarray of bool, shape (n_rows,)
        Whether each row's group has its largest absolute gradient entry at
        most ``tol``.
    grad_max : ndarray of shape (n_rows,)
        That largest absolute gradient entry, per row.
    value : float
        Objective value at ``coef`` (summed over groups).
    message : str
        Why L-BFGS stopped.
    stalled : bool
        L-BFGS stopped because the objective no longer decreased beyond
        rounding error, which scikit-learn counts as converged.
    n_evaluations : int
        Objective evaluations (value and gradient, or value alone) plus
        Hessian-vector products, on all rows.
    n_sample_evaluations : int
        Evaluations on the row sample the fit started from, each over one
        row in ``SAMPLE_STEP`` (see :meth:`LBFGSSolver.start_from_sample`);
        0 when it did not.
    """

    coef: np.ndarray
    n_iter: np.ndarray
    converged: np.ndarray
    grad_max: np.ndarray
    value: float
    message: str
    stalled: bool = False
    n_evaluations: int = 0
    n_sample_evaluations: int = 0

    def continuing(self, earlier):
        """This result, for a run that continued from ``earlier``'s
        solution: its iterations and evaluations count both runs'."""
        return dataclasses.replace(
            self,
            n_iter=self.n_iter + earlier.n_iter,
            n_evaluations=self.n_evaluations + earlier.n_evaluations,
            n_sample_evaluations=(
                self.n_sample_evaluations + earlier.n_sample_evaluations
            ),
        )


@dataclasses.dataclass
class NewtonMemory:
    """The data term's exact Hessian, carried from one fit to the next.

    The data term's Hessian does not depend on ``C`` (see
    :meth:`~sksoftmax._objective.SecondOrder.data_hessian`), and the fits of
    a C path on one set of rows start near each other's solutions: the last
    Hessian of one fit, with the next fit's penalty added, is close to the
    next fit's Hessian at its start. A solver given a memory starts from it
    (:meth:`LBFGSSolver.newton_from_memory`) and leaves its own last Hessian
    in it. It is only for objectives on the same rows and weights; a
    Hessian of another shape is ignored.

    Attributes
    ----------
    hessian : ndarray or None
        :meth:`~sksoftmax._objective.SecondOrder.data_hessian` at the end of
        the last fit, or None before the first.
    """

    hessian: object = None


class LBFGSSolver:
    """Preconditioned L-BFGS-B with Newton refinement, in named phases.

    Parameters
    ----------
    objective : Objective
        See :mod:`sksoftmax._objective`; the only thing the solver reads.
    tol : float
        Stop when every group's largest absolute gradient entry is <= tol.
    max_iter : int
        Maximum number of iterations (L-BFGS and Newton together).
    verbose : int, default=0
        Print the objective and gradient at every iteration when positive.
    precondition : bool or {"auto", "cholesky", "diagonal"}, default=True
        See :mod:`sksoftmax._precondition`; True means "auto".
    refine : bool, default=True
        Finish with Newton steps when the exact Hessian is cheap.
    memory : NewtonMemory or None, default=None
        A Hessian carried from a fit on the same rows (a C path); this fit
        starts from it and leaves its own in it.
    sample_start : bool, default=True
        Let a cold start on tall data begin on a sample of the rows (see
        :meth:`start_from_sample`); the run on the sample itself does not
        sample again.
    """

    def __init__(
        self,
        objective,
        *,
        tol,
        max_iter,
        verbose=0,
        precondition=True,
        refine=True,
        memory=None,
        sample_start=True,
    ):
        self.objective = objective
        self.tol = tol
        self.max_iter = max_iter
        self.verbose = verbose
        self.precondition = precondition
        self.refine_enabled = refine
        self.memory = memory
        self.sample_start = sample_start
        self.shape = objective.coef_shape
        self.separable = objective.separable
        self._newton_first_step = False

    # -- evaluation -----------------------------------------------------------

    def evaluate(self, coef):
        """Evaluate the objective at ``coef`` and remember it, with the
        gradient in the preconditioner's variables."""
        values, grad = self.objective.value_gradient(coef)
        self._record_evaluation(coef, self._per_row(values), grad)
        return values, grad

    def _record_evaluation(self, coef, per_row_values, grad):
        """Count one more evaluation and make its point the current state
        (see :meth:`_set_state`); whatever was kept belongs to an earlier
        evaluation (or precision)."""
        self.n_evaluations += 1
        self._kept_second_order = None
        self._set_state(coef, per_row_values, grad)

    def _evaluate_keeping_curvature(self, coef):
        """:meth:`evaluate`, keeping the probabilities at ``coef`` for the
        preconditioner built there next: the point's gradient then comes
        from them, and the build needs no product with X of its own."""
        second_order = self.objective.second_order(coef)
        values, grad = second_order.value_gradient()
        self._record_evaluation(coef, self._per_row(values), grad)
        self._kept_second_order = second_order

    def _gap_within(self, fraction, gap=None):
        """Per row, whether its group's objective is estimated within
        ``fraction`` (relative) of the minimum. The estimated distance is
        ``0.5 g^T M^{-1} g`` with ``M`` the preconditioner's curvature, i.e.
        half the squared gradient in its variables (``gap``, when the caller
        already has :meth:`_estimated_gap`)."""
        if gap is None:
            gap = self._estimated_gap()
        return gap <= fraction * np.abs(self._per_row(self.values))

    def _estimated_gap(self):
        """Per row, its group's estimated distance to the minimum (see
        :meth:`_gap_within`)."""
        per_row = 0.5 * np.einsum("ij,ij->i", self.grad_v, self.grad_v)
        return per_row if self.separable else np.full_like(per_row, per_row.sum())

    def _per_row(self, group_values):
        """Group values (one per row, or one for all) repeated per row."""
        if self.separable:
            # Already one per row; broadcast_to costs more than the test
            # (~2.4 us, several times per round of per-row runs).
            return group_values
        return np.broadcast_to(group_values, (self.shape[0],))

    def _group_max(self, per_row):
        """Per-row maxima, each row given its group's maximum."""
        return per_row if self.separable else np.full_like(per_row, per_row.max())

    @property
    def value(self):
        return float(self.values.sum())

    def _evaluate_v(self, v):
        """Evaluate at L-BFGS's variables ``v`` and remember ``v``."""
        coef = self.objective.project(
            self.preconditioner.to_coef(v.reshape(self.shape))
        )
        self.evaluate(coef)
        self._v = v.copy()

    def _move_to(self, v):
        """Make ``v`` the current point, evaluating only if it is not
        already (a run's start, which :meth:`iterate` starts from the
        evaluated state, or the point of scipy's last call)."""
        evaluate_if_new(self._evaluate_v, v, self._v)

    def _move_rows_to(self, V):
        """:meth:`_move_to` for per-row runs: only the rows whose variables
        moved are evaluated when they are few, the others keep their
        evaluation (see ``PARTIAL_EVALUATION_MAX_FRACTION``)."""
        if self._v is None:
            return self._move_to(V.ravel())
        moved = np.flatnonzero(np.any(V != self._v.reshape(V.shape), axis=1))
        if moved.size > PARTIAL_EVALUATION_MAX_FRACTION * V.shape[0]:
            return self._move_to(V.ravel())
        if moved.size == 0:
            return
        coef = self.coef.copy()
        coef[moved] = self.objective.project(self.preconditioner.to_coef(V))[moved]
        values, grad = self.objective.output_value_gradient(coef[moved], moved)
        new_values, new_grad = self.values.copy(), self.grad.copy()
        new_values[moved], new_grad[moved] = values, grad
        self._record_evaluation(coef, new_values, new_grad)
        self._v = V.ravel().copy()

    def _function(self, v):
        """The objective in L-BFGS's variables ``v``."""
        self._move_to(v)
        # A copy: self.grad_v must stay as evaluated whatever scipy does.
        return self.value, np.array(self.grad_v, dtype=np.float64).ravel()

    def _callback(self, intermediate_result):
        # scipy >= 1.11 passes an OptimizeResult (parameter named
        # intermediate_result), older versions the point itself.
        v = getattr(intermediate_result, "x", intermediate_result)
        self.n_iter += 1
        self._move_to(v)
        if self.verbose:
            self.report("L-BFGS")
        if self.check_convergence():
            raise StopIteration
        if self._previous_gap is not None and self._newton_cg_pays():
            self._handed_over = True
            raise StopIteration
        self.objective.precision.after_iteration(
            self.objective, self.coef, self.value, self._previous_value - self.value
        )
        self._previous_value = self.value

    def report(self, stage):
        print(
            f"[sksoftmax] {stage} iter {self.n_iter:4d}  "
            f"objective {self.value:.10e}  max|grad| {self.grad_max.max():.3e}"
        )

    # -- phases ---------------------------------------------------------------

    def start_from_sample(self, coef0):
        """A cold start's point, improved on a sample of the rows where that
        pays (see ``SAMPLE_STEP``); ``coef0`` itself otherwise."""
        self.n_sample_evaluations = 0
        objective = self.objective
        if (
            not self.sample_start
            or self.max_iter < 1
            or np.any(coef0)
            or self.memory is not None
            or objective.precision.low_precision
            or objective.output_evaluation_cost() * self.shape[0]
            < SAMPLE_START_MIN_MULTIPLY_ADDS
        ):
            return coef0
        sample = objective.row_sample(SAMPLE_STEP)
        if sample is None or np.any(
            sample.fewest_outcome_rows() < SAMPLE_MIN_ROWS_PER_COEF * self.shape[1]
        ):
            return coef0
        if self.verbose:
            print(f"[sksoftmax] starting from every {SAMPLE_STEP}th row")
        result = LBFGSSolver(
            sample,
            tol=self.tol,
            max_iter=min(SAMPLE_START_MAX_ITER, self.max_iter),
            verbose=self.verbose,
            precondition=self.precondition,
            refine=False,
            sample_start=False,
        ).solve(coef0)
        self.n_sample_evaluations = result.n_evaluations
        return result.coef

    def setup(self, coef0):
        """Evaluate the starting point; choose the preconditioner."""
        self.n_iter = 0
        self.n_evaluations = 0
        self.first_converged = np.full(self.shape[0], -1)
        self.preconditioner = IdentityPreconditioner()
        self._v = None
        self._kept_second_order = None
        self._last_data_hessian = None
        self._previous_value = np.inf
        self.message = "converged at the starting point"
        self.stalled = False
        # The estimated gap at the last iteration of the L-BFGS run before a
        # Newton-CG phase (see _newton_cg_pays); None outside that run.
        self._previous_gap = None
        self._handed_over = False
        # Rows whose own L-BFGS-B run stalled, and the last stall's status
        # and message (see _iterate_rows).
        self._stalled_rows = np.zeros(self.shape[0], dtype=bool)
        self._stall = None
        coef = np.array(coef0, dtype=np.float64).reshape(self.shape)
        # A fit that starts away from zero (a warm start, a C path's next
        # fit, or a sample's solution) starts near its minimum: its first
        # run takes Newton's first step (see NEWTON_STEP_MIN_GAP).
        self._newton_first_step = bool(np.any(coef))
        self.kind = (
            choose_kind(self.precondition, self.shape[1]) if self.precondition else None
        )
        if self.kind is None or self.objective.precision.low_precision:
            self.evaluate(coef)
        else:
            self._evaluate_keeping_curvature(coef)
        if self.kind is None:
            self.interval = self.max_iter
        elif self.kind == "diagonal":
            self.interval = DIAGONAL_REFRESH_INTERVAL
        else:
            cost = self.objective.rebuild_cost()
            if np.any(coef):
                # A warm start: the factors built there already describe the
                # curvature near the solution.
                first = max(cost, WARM_MIN_REFRESH_INTERVAL)
            else:
                first = max(cost / REBUILD_COST_DISCOUNT, MIN_REFRESH_INTERVAL)
            self.interval = int(min(first, MAX_FIRST_REFRESH_INTERVAL))

    def check_convergence(self):
        """Record newly converged rows; True when every row has converged.

        A row converges when its group's largest gradient entry is at most
        ``tol`` (scikit-learn's criterion) and its objective is estimated to
        be within ``OBJECTIVE_GAP`` (relative) of the minimum.
        """
        ok = self._converged_rows()
        self.first_converged[ok & (self.first_converged < 0)] = self.n_iter
        return bool(ok.all())

    def _converged_rows(self):
        """Per row, :meth:`check_convergence`'s test."""
        return (self.grad_max <= self.tol) & self._gap_within(OBJECTIVE_GAP)

    def refresh_preconditioner(self):
        """Rebuild the change of variables from the curvature at the current
        point; later rebuilds wait longer (see REFRESH_GROWTH)."""
        if self.kind is None:
            return
        # Kept for a Newton-CG phase starting here (its first direction).
        second_order = self._kept_second_order = self._second_order()
        preconditioner = build_preconditioner(
            second_order, self.kind, self._data_dtype()
        )
        if self._uniform_first_diagonal(preconditioner):
            # No change of variables, and no rebuilds (see UNIFORM_SPREAD).
            self.kind, self.interval = None, self.max_iter
            preconditioner = IdentityPreconditioner()
        self.preconditioner = preconditioner
        self.grad_v = self.preconditioner.gradient_to_v(
            self.objective.project(self.grad)
        )

    def _uniform_first_diagonal(self, preconditioner):
        """Whether ``preconditioner`` is the first diagonal one of outputs
        that run alone, and uniform (see ``UNIFORM_SPREAD``)."""
        return (
            self.kind == "diagonal"
            and isinstance(self.preconditioner, IdentityPreconditioner)
            and self._runs_per_row()
            and preconditioner.is_uniform(UNIFORM_SPREAD, UNIFORM_CENTRING)
        )

    def _data_dtype(self):
        return np.float32 if self.objective.precision.low_precision else np.float64

    def iterate(self, max_iter):
        """One L-BFGS-B run of at most ``max_iter`` iterations from the
        current point (one run per row where :meth:`_runs_per_row`); returns
        scipy's status."""
        v0 = self.preconditioner.from_coef(self.coef)
        # The state is already evaluated at v0: scipy's first call is free.
        self._v = v0.ravel().copy()
        self._kept_second_order = None
        per_row = self._runs_per_row()
        scale = self._first_step_scale(per_row)
        u0 = v0
        if scale is not None:
            # The run's variables: u0 * scale may differ from v0 in the last
            # bit, and the state stands for it, so that the run's start
            # needs no evaluation.
            u0 = v0 / scale
            self._v = (u0 * scale).ravel()
        if per_row:
            return self._iterate_rows(u0, max_iter, scale)
        function, callback, move_to = self._function, self._callback, self._move_to
        if scale is not None:
            function, move_to = _in_run_variables(function, move_to, scale)

            def callback(result):
                self._callback(getattr(result, "x", result) * scale)

        status, self.message = run_lbfgsb(
            function, u0.ravel(), callback, max_iter, move_to
        )
        return status

    def _first_step_scale(self, per_row):
        """The factor of L-BFGS's variables ``v`` over this run's, or None
        for 1: for a fit's first run from a point away from zero (a sample's
        solution, a warm start) or a run from a rebuild, the gradient's norm
        in ``v`` where it is below 1 and the objective far enough from its
        minimum (per row for per-row runs, shape (K, 1)), so
        that the run's first unit step is Newton's (see
        ``NEWTON_STEP_MIN_GAP``)."""
        newton, self._newton_first_step = self._newton_first_step, False
        # Not where the refinement finishes the fit (see NEWTON_STEP_MIN_GAP).
        if not newton or self.refinement_applies():
            return None
        squares = np.einsum("ij,ij->i", self.grad_v, self.grad_v)
        # Per-row runs are a separable objective's, with a value per row; a
        # joint run's gap and value are those of all rows together (of a
        # separable objective too, whose per-row values add up).
        values = np.abs(self.values)
        if not per_row:
            squares, values = squares.sum(), abs(self.value)
        # 0.5 * squares is the estimated gap (see _gap_within).
        far = 0.5 * squares >= NEWTON_STEP_MIN_GAP * values
        norm = np.sqrt(squares)
        scale = np.where(far & (norm > 0) & (norm < 1), norm, 1.0)
        if np.all(scale == 1.0):
            return None
        return scale[:, None] if per_row else float(scale)

    def _runs_per_row(self):
        """Whether L-BFGS runs row by row (see ``PER_ROW_MIN_COST``): a
        separable objective of several outputs in float64, outside the run
        before a Newton-CG phase (whose test looks at all rows at once)."""
        return (
            self.separable
            and self.shape[0] > 1
            and self.objective.output_evaluation_cost() >= PER_ROW_MIN_COST
            and rows_supported()
            and not self.objective.precision.low_precision
            and self._previous_gap is None
        )

    def _iterate_rows(self, u0, max_iter, scale):
        """:meth:`iterate` with one L-BFGS-B run per row, in lockstep (see
        :func:`~sksoftmax._lbfgsb.run_lbfgsb_rows`), from ``u0`` in the
        variables ``v / scale`` (shape (K, 1); None for 1). Rows already
        converged stay where they are; a row stops at its own convergence,
        which is recorded at its own iteration count."""
        start = self.n_iter
        # check_convergence's test, once per evaluation: a row's iterations
        # end at the point of the round's evaluation, which they all share.
        converged = None

        def function(V):
            nonlocal converged
            self._move_rows_to(V)
            converged = self._converged_rows()
            return self.values, self.grad_v

        def halt_row(k, iterations):
            if start + iterations > self.n_iter:
                self.n_iter = start + iterations
                if self.verbose:
                    self.report("L-BFGS per row")
            if converged[k] and self.first_converged[k] < 0:
                self.first_converged[k] = start + iterations
            return converged[k]

        def move_to(V):
            self._move_to(V.ravel())

        if scale is not None:
            function, move_to = _in_run_variables(function, move_to, scale)

        statuses, iterations = run_lbfgsb_rows(
            function,
            u0,
            halt_row,
            max_iter,
            move_to,
            active=~(self._converged_rows() | self._stalled_rows),
        )
        self.n_iter = start + int(iterations.max(initial=0))
        # A row stalled at rounding level (or in a failed line search) would
        # stall again after a rebuild, at the cost of a long line search:
        # later runs leave it where it is, as a joint run stops. The worst
        # stall of the fit (a failed line search) is the one reported.
        for k, (code, message) in enumerate(statuses):
            if code in (LBFGS_CONVERGED, LBFGS_ABNORMAL):
                self._stalled_rows[k] = True
                if self._stall is None or self._stall[0] != LBFGS_ABNORMAL:
                    self._stall = (code, message)
        # The run's status is its least finished row's, stalled rows of
        # earlier runs included.
        limited = [message for code, message in statuses if code == LBFGS_LIMIT]
        if limited:
            self.message = limited[0]
            return LBFGS_LIMIT
        if np.any(self._stalled_rows & ~self._converged_rows()):
            code, self.message = self._stall
            return code
        self.message = statuses[0][1]
        return LBFGS_HALTED

    def after_run(self, status, iterations):
        """What to do after an L-BFGS-B run: "stop", "restart" (in the same
        variables, after a float32 re-anchoring) or "rebuild" (the run was cut
        short: by its iteration limit, or for Newton-CG to take over)."""
        if self.check_convergence():
            return "stop"
        if self._handed_over:
            return "rebuild"
        precision = self.objective.precision
        if status != LBFGS_LIMIT and precision.low_precision:
            # float32 products reached their rounding floor: re-anchor while
            # that still makes progress, else finish in float64.
            if precision.after_stall(self.objective, self.coef, self.value):
                self.evaluate(self.coef)
                return "restart"
        if status != LBFGS_LIMIT or iterations == 0:
            # Converged, stalled at rounding level or failed line search: a
            # restart in new variables would not change that.
            self.stalled = status == LBFGS_CONVERGED
            return "stop"
        return "rebuild"

    def run_lbfgs(self, budget, rebuilds=True, newton_near=False):
        """L-BFGS-B runs with preconditioner rebuilds, until convergence, a
        stall or ``budget`` iterations (one run when not ``rebuilds``).
        With ``newton_near``, a run cut short near the optimum (see
        :meth:`near_optimum`) ends them instead of a rebuild.

        Returns what the last run asked for: "stop" (converged, stalled or
        failed), "rebuild" (cut short by its iteration limit), "newton"
        (cut short near the optimum) or None (no run was needed)."""
        rebuild = True
        action = None
        while not self.check_convergence() and self.n_iter < budget:
            if rebuild:
                self.refresh_preconditioner()
                # A run from a rebuild starts with Newton's step (see
                # NEWTON_STEP_MIN_GAP); a cold start's first, with L-BFGS's.
                self._newton_first_step |= self.n_iter > 0
            start = self.n_iter
            status = self.iterate(min(self.interval, budget - self.n_iter))
            action = self.after_run(status, self.n_iter - start)
            if action == "rebuild" and newton_near and self.near_optimum():
                return "newton"
            if action == "stop" or (action == "rebuild" and not rebuilds):
                break
            rebuild = action == "rebuild"
            if rebuild:
                self.interval *= REFRESH_GROWTH
        return action

    def _newton_cg_pays(self):
        """During the L-BFGS run before a Newton-CG phase: whether Newton
        should take over now, every group being close enough to its minimum
        while L-BFGS's last iteration closed little of the gap (see
        ``NEWTON_CG_GAP``)."""
        gap = self._estimated_gap()
        slow = gap * NEWTON_CG_FAST_CUT > self._previous_gap
        self._previous_gap = gap
        return bool(np.all(self._gap_within(NEWTON_CG_GAP, gap) & slow))

    def near_optimum(self):
        """Whether every group's objective is estimated within
        ``NEWTON_NEAR_GAP`` (relative) of its minimum."""
        return bool(self._gap_within(NEWTON_NEAR_GAP).all())

    def refinement_applies(self, any_step_cost=False):
        """Whether the dense Newton refinement finishes the fit: its Hessian
        within the absolute limits and, unless ``any_step_cost``, a step
        costing at most ``REFINE_MAX_EVALUATIONS`` evaluations."""
        n_params, flops = self.objective.hessian_cost()
        return (
            self.refine_enabled
            and n_params <= REFINE_MAX_PARAMS
            and flops <= REFINE_MAX_FLOPS
            and (
                any_step_cost
                or self.newton_step_evaluations() <= REFINE_MAX_EVALUATIONS
            )
        )

    def rescue_budget(self, refine=None):
        """L-BFGS's iterations before a rescue by the refinement, where a
        Newton step costs more than the refinement allows (see
        ``RESCUE_AFTER_STEPS``); None where there is no rescue (the
        refinement finishes the fit anyway, or its Hessian is too large).
        ``refine`` is :meth:`refinement_applies`, if the caller knows it."""
        if refine is None:
            refine = self.refinement_applies()
        if refine or not self.refinement_applies(any_step_cost=True):
            return None
        return max(1, int(RESCUE_AFTER_STEPS * self.newton_step_evaluations()))

    def newton_step_evaluations(self):
        """A dense Newton step's cost in evaluations (the cost model at
        ``REFINE_MAX_EVALUATIONS``)."""
        n_params, flops = self.objective.hessian_cost()
        n_outputs = self.shape[0]
        systems = n_outputs if self.separable else 1
        step = (
            flops / NEWTON_HESSIAN_SPEEDUP
            + systems * float(n_params) ** 3 / 3.0 / NEWTON_FACTOR_SPEEDUP
            + NEWTON_OVERHEAD_MULTIPLY_ADDS
        )
        evaluation = (
            n_outputs * self.objective.output_evaluation_cost()
            + EVALUATION_OVERHEAD_MULTIPLY_ADDS
        )
        return step / evaluation

    def refine(self, max_steps, systems=None, until_converged=False):
        """Damped Newton steps in float64; each group keeps only improvements.

        Near the optimum the objective changes by rounding-level amounts, so
        a step is judged by the gradient, with the objective only required
        not to grow beyond rounding. A factorised Hessian is kept for the
        next step while its steps shrink the gradient by
        ``REFINE_REUSE_CONTRACTION`` (see there); ``systems``, factorised
        elsewhere (:meth:`newton_from_memory`), are the first one kept. The
        steps go on to rounding level, or ``until_converged``.
        """
        if max_steps <= 0:
            return
        if self.objective.precision.use_full_precision(self.objective):
            self.evaluate(self.coef)
        for _ in range(max_steps):
            grad_max = self.grad_max
            if not np.all(np.isfinite(grad_max)) or grad_max.max() == 0.0:
                break
            reused = systems is not None
            if not reused:
                systems = self._newton_systems()
            direction = self._newton_direction(systems)
            # Each group's gradient must shrink and its objective not grow
            # beyond rounding.
            moved = np.all(np.isfinite(direction)) and self._backtrack(
                direction, lambda t, f, within, smaller: within & smaller
            )
            if not moved:
                if reused:
                    # The kept Hessian no longer describes the point: one
                    # more try with the point's own.
                    systems = None
                    continue
                break
            self.n_iter += 1
            if self.verbose:
                self.report("Newton")
            if self.check_convergence() and until_converged:
                break
            if self.grad_max.max() <= REFINE_GRADIENT_FLOOR * (1.0 + abs(self.value)):
                break
            if not np.all(self.grad_max <= REFINE_REUSE_CONTRACTION * grad_max):
                systems = None

    def _remembered_hessian(self):
        """The memory's data-term Hessian if this fit can start from it:
        the refinement applies, the preconditioner is Cholesky's and the
        Hessian has this objective's layout; else None."""
        memory = self.memory
        if memory is None or memory.hessian is None or self.kind != "cholesky":
            return None
        K, p = self.shape
        layout = (K, p, p) if self.separable else (K * p, K * p)
        if memory.hessian.shape != layout or not self.refinement_applies():
            return None
        return memory.hessian

    def newton_from_memory(self, max_steps):
        """Start from the remembered Hessian (see :class:`NewtonMemory`):
        with this objective's penalty added, its diagonal blocks give the
        preconditioner and its factors Newton's first steps, which
        :meth:`refine` keeps while they contract the gradient. Returns
        False, doing nothing, when there is no usable memory."""
        data_hessian = self._remembered_hessian()
        if data_hessian is None:
            return False
        H = self.objective.with_penalty_hessian(data_hessian)
        self.preconditioner = cholesky_preconditioner(
            np.asarray(self.objective.hessian_row_blocks(H)), self._data_dtype()
        )
        self.grad_v = self.preconditioner.gradient_to_v(
            self.objective.project(self.grad)
        )
        # A separable objective's Hessian is its diagonal blocks: the
        # preconditioner's factors solve its Newton systems too.
        systems = (
            _PreconditionerSystems(self.preconditioner)
            if self.separable
            else self._factorise(H)
        )
        # These steps are the fit itself, not a finish after L-BFGS: they
        # stop where an L-BFGS run would, at tol (and OBJECTIVE_GAP).
        # Going on to rounding level cost the 8-label path 27% more time
        # at tol=1e-4 for held-out scores 3e-7 closer to the optimum's.
        self.refine(max_steps, systems=systems, until_converged=True)
        return True

    def newton_cg_applies(self):
        return (
            self.refine_enabled
            and self.shape[0] * self.shape[1] >= NEWTON_CG_MIN_COEFS
            and not self.objective.precision.low_precision
        )

    def newton_cg(self, budget):
        """Truncated Newton steps until convergence or ``budget`` iterations.

        Directions come from preconditioned conjugate gradients
        (:meth:`_cg_direction`), steps from a per-group Armijo line search
        (:meth:`_line_search`). Returns False when Newton stopped paying:
        CG needed more than ``CG_MAX_ITER`` products (a nearly singular
        Hessian, as on separable data without a penalty, where L-BFGS is
        far cheaper); the step is still taken.
        """
        while not self.check_convergence() and self.n_iter < budget:
            previous = self.value
            direction, solved = self._cg_direction(self._second_order())
            if not np.all(np.isfinite(direction)):
                break
            if not self._line_search(direction):
                self.message = "Newton line search made no progress"
                self.stalled = True
                break
            self.n_iter += 1
            if self.verbose:
                self.report("Newton-CG")
            if not solved:
                return False
            # L-BFGS-B's own stop: a decrease at rounding level (the objective
            # relative to 1 when it is small, as it is on separable data
            # without a penalty, where it creeps towards 0 for ever).
            if previous - self.value <= LBFGS_FTOL * max(abs(previous), 1.0):
                self.message = "Newton decrease at rounding level"
                self.stalled = not self.check_convergence()
                break
        if self.check_convergence():
            self.message = "tolerance met"
        return True

    def _dot(self, a, b):
        """Inner products per group, repeated per row."""
        per_row = np.einsum("ij,ij->i", a, b)
        return per_row if self.separable else np.full_like(per_row, per_row.sum())

    def _cg_direction(self, second_order):
        """Approximately solve ``H d = g`` by conjugate gradients in the
        preconditioner's variables, each group on its own (the Hessian of a
        separable objective is block diagonal by rows).

        Returns the direction and whether CG met its forcing tolerance
        within ``CG_MAX_ITER`` products."""
        P, project = self.preconditioner, self.objective.project

        def product(z):
            self.n_evaluations += 1
            Hd = second_order.hessian_product(project(P.to_coef(z)))
            return P.gradient_to_v(project(Hd))

        b = self.grad_v
        z = np.zeros_like(b)
        r = b.copy()
        d = r.copy()
        rr = self._dot(r, r)
        norm_b = np.sqrt(rr)
        target = np.minimum(CG_FORCING_MAX, np.sqrt(norm_b)) * norm_b
        active = rr > 0
        for _ in range(CG_MAX_ITER):
            if not active.any():
                break
            Ad = product(d if active.all() else np.where(active[:, None], d, 0.0))
            dAd = self._dot(d, Ad)
            # Non-positive curvature only arises from rounding: stop there.
            active &= dAd > 0
            alpha = np.where(active, rr / np.where(active, dAd, 1.0), 0.0)
            z += alpha[:, None] * d
            r -= alpha[:, None] * Ad
            rr_new = self._dot(r, r)
            active &= np.sqrt(rr_new) > target
            beta = np.where(active, rr_new / np.where(rr > 0, rr, 1.0), 0.0)
            d = r + beta[:, None] * d
            rr = rr_new
        if not np.any(z):
            z = b
        return project(P.to_coef(z)), not active.any()

    def _line_search(self, direction):
        """Armijo's condition per group (or, at rounding level, a shrinking
        gradient); True when some group moved."""
        slope = self._dot(self.objective.project(self.grad), direction)
        values = self._per_row(self.values)

        def acceptable(step, trial_values, within, smaller):
            armijo = trial_values <= values - ARMIJO * step * slope
            return armijo | (within & smaller)

        return self._backtrack(direction, acceptable)

    def _backtrack(self, direction, acceptable):
        """Try ``coef - t * direction`` for ``t = 1, 1/2, ...``; each group
        (its rows move together) keeps the first step that
        ``acceptable(t, values, within, smaller)`` allows: ``values`` is the
        trial's objective per row, ``within`` that it grew by at most
        rounding, ``smaller`` that the group's largest gradient entry shrank.

        The point reached becomes the current one, from the trials' own
        evaluations (no evaluation again); returns whether some group moved.
        Each trial keeps its probabilities (:meth:`Objective.second_order`),
        so that the next Newton step at a point that one trial reached
        whole needs no product to form its curvature.
        """
        coef, grad = self.coef, self.grad
        values = self._per_row(self.values)
        limit = values + REFINE_VALUE_SLACK * (np.abs(values) + 1.0)
        new_coef, new_grad = coef.copy(), grad.copy()
        new_values = np.array(values, dtype=np.float64)
        accepted = np.zeros(self.shape[0], dtype=bool)
        # The point being left no longer needs its probabilities, and only
        # one trial's are held at a time (the previous one is dropped before
        # the next is formed).
        self._kept_second_order = kept = None
        for step in 0.5 ** np.arange(MAX_HALVINGS):
            trial = coef - step * direction
            second_order = None
            second_order = self.objective.second_order(trial)
            trial_values, trial_grad = second_order.value_gradient()
            self.n_evaluations += 1
            trial_values = self._per_row(trial_values)
            trial_max = self._group_max(np.abs(trial_grad).max(axis=1))
            good = acceptable(
                step, trial_values, trial_values <= limit, trial_max < self.grad_max
            )
            good &= ~accepted
            if good.all():
                # Every group takes this trial: its curvature is the point's.
                kept = second_order
            new_coef[good] = trial[good]
            new_grad[good] = trial_grad[good]
            new_values[good] = trial_values[good]
            accepted |= good
            if accepted.all():
                break
        if not accepted.any():
            return False
        self._set_state(new_coef, new_values, new_grad)
        if kept is not None:
            self._kept_second_order = dataclasses.replace(kept, coef=self.coef)
        return True

    def _set_state(self, coef, per_row_values, grad):
        """The point ``coef`` as if evaluated (per-row values, as repeated by
        :meth:`_per_row`, back to group values)."""
        if self.separable:
            values = per_row_values
        else:
            values = np.atleast_1d(per_row_values[0])
        self.coef, self.values, self.grad = coef, values, grad
        self.grad_max = self._group_max(np.abs(grad).max(axis=1))
        self.grad_v = self.preconditioner.gradient_to_v(self.objective.project(grad))

    def _second_order(self):
        """Second-order information at the current point: kept from the
        line search that reached it, or formed now (one product with X,
        counted as an evaluation)."""
        kept = self._kept_second_order
        if kept is not None and kept.coef is self.coef:
            return kept
        self.n_evaluations += 1
        return self.objective.second_order(self.coef)

    def _newton_systems(self):
        """The Newton systems at the current point, factorised; the data
        term's Hessian is kept for the memory (see :class:`NewtonMemory`)."""
        self._last_data_hessian = self._second_order().data_hessian()
        return self._factorise(
            self.objective.with_penalty_hessian(self._last_data_hessian)
        )

    def _factorise(self, H):
        """Factorised Newton systems of the penalised Hessian ``H``: one for
        a coupled objective, one per row block for a separable one."""
        return _FactorisedSystems(H if self.separable else H[None])

    def _newton_direction(self, systems):
        """Solve ``H d = g`` with the factorised ``systems``."""
        grad = self.objective.project(self.grad)
        rhs = grad if self.separable else grad.reshape(1, -1)
        return self.objective.project(systems.solve(rhs).reshape(self.coef.shape))

    def result(self):
        converged = self.grad_max <= self.tol
        n_iter = np.where(self.first_converged >= 0, self.first_converged, self.n_iter)
        if not self.separable:
            n_iter[:] = n_iter.max()
        return SolverResult(
            coef=np.array(self.coef, dtype=np.float64),
            n_iter=n_iter,
            converged=converged,
            grad_max=self.grad_max.copy(),
            value=self.value,
            message=self.message,
            stalled=self.stalled,
            n_evaluations=self.n_evaluations,
            n_sample_evaluations=self.n_sample_evaluations,
        )

    def solve(self, coef0):
        """Run the phases from ``coef0`` (not modified); returns a
        :class:`SolverResult` and leaves the last Hessian formed, if any, in
        the memory."""
        with single_threaded_scipy_blas():
            coef0 = self.start_from_sample(coef0)
            self.setup(coef0)
            self._run()
        if self.memory is not None and self._last_data_hessian is not None:
            self.memory.hessian = self._last_data_hessian
        return self.result()

    def _run(self):
        """The phases after :meth:`setup`."""
        refine = self.refinement_applies()
        if refine and self.newton_from_memory(min(REFINE_MAX_STEPS, self.max_iter)):
            if self.check_convergence():
                self.message = "tolerance met by Newton steps from the memory"
                return
        rescue = self.rescue_budget(refine)
        newton = refine or rescue is not None
        # Refinement keeps a reserve of iterations: a tight tol that
        # L-BFGS alone cannot reach must not leave Newton without a turn.
        reserve = min(REFINE_MAX_STEPS, self.max_iter // 2) if newton else 0
        if not refine and self.newton_cg_applies():
            # One L-BFGS run for the bulk of the decrease, then Newton.
            self._previous_gap = self._estimated_gap()
            action = self.run_lbfgs(
                min(NEWTON_CG_SWITCH, self.max_iter), rebuilds=False
            )
            self._previous_gap, self._handed_over = None, False
            # Newton takes over only from a run that was cut short, not
            # from one that converged or stalled at rounding level.
            if action == "rebuild":
                self.refresh_preconditioner()
                if not self.newton_cg(self.max_iter):
                    # Newton stopped paying (see newton_cg): L-BFGS
                    # finishes, with its usual rebuilds.
                    self.run_lbfgs(self.max_iter)
            return
        # Near the optimum, the refinement's Newton steps finish faster
        # than a preconditioner rebuild and more L-BFGS; should they not
        # reach the tolerance, L-BFGS resumes.
        # Where Newton steps are dear, they only rescue an L-BFGS run that
        # has not converged after as many evaluations as a few of them.
        budget = self.max_iter - reserve
        if rescue is not None:
            budget = min(budget, rescue)
        action = self.run_lbfgs(budget, newton_near=refine)
        # Not after a stall at rounding level, which a stop at scikit-learn's
        # criterion counts as converged: Newton would only polish it.
        rescued = (
            rescue is not None and not self.check_convergence() and not self.stalled
        )
        if refine or rescued:
            self.refine(min(REFINE_MAX_STEPS, self.max_iter - self.n_iter))
        if (action == "newton" or rescued) and not self.check_convergence():
            self.run_lbfgs(self.max_iter - reserve)
            self.refine(min(REFINE_MAX_STEPS, self.max_iter - self.n_iter))


# Truncated Newton (the "newton-cg" phase), for problems whose exact Hessian
# is too large to form: after one L-BFGS run, Newton steps whose directions
# come from conjugate gradients on Hessian-vector products, in the
# preconditioner's variables (where the Hessian is close to the identity, so
# CG needs few products). Each product costs two matrix products, like an
# evaluation, and is counted as one.
#
# It applies where L-BFGS-B's own bookkeeping (some 40 passes over the
# coefficients per iteration) rivals the products with X: at least
# NEWTON_CG_MIN_COEFS coefficients (sparse text: 1e6 coefficients cost
# L-BFGS-B 54 ms per iteration against 36 ms for the two products). L-BFGS
# makes at most the first NEWTON_CG_SWITCH iterations, where most of the
# decrease is; on the benchmark's text problems 8 was faster than 4 (Newton
# started too far from the optimum at C=100) and than 15 (at C=1, 20-30%
# slower), and as fast as both at C=0.01, where L-BFGS converges within 8
# iterations.
#
# Newton takes over sooner once every group's objective is estimated within
# NEWTON_CG_GAP (relative) of its minimum while L-BFGS's last iteration cut
# that estimate by less than NEWTON_CG_FAST_CUT: each L-BFGS-B iteration
# costs an evaluation plus its bookkeeping (about 20 ms per call on a million
# coefficients), while Newton's Hessian products converge fast from there.
# Text problems (10,000 x 20,000), A/B at 1 thread, medians of 3: at C=1,
# Newton after 1-2 iterations instead of 8, 1.04-1.5x faster; at C=100, after
# 4-6, 1.12-1.21x (20 labels, tol <= 1e-6: 0.9x). Where L-BFGS closes the gap
# by orders of magnitude per iteration (C=0.01: 1e4 in its first) it finishes
# sooner than Newton, which took 1.4x longer there without the second test.
NEWTON_CG_MIN_COEFS = 100_000
NEWTON_CG_SWITCH = 8
NEWTON_CG_GAP = 0.15
NEWTON_CG_FAST_CUT = 10.0
# CG stops when its residual is below min(CG_FORCING_MAX, sqrt(|b|)) |b| in
# the preconditioner's variables (Eisenstat and Walker's forcing sequence:
# loose far from the optimum, superlinear convergence near it), or after
# CG_MAX_ITER products. A Newton system that needs more is nearly singular
# (separable data without a penalty): L-BFGS then takes over again. On the
# benchmark's text problems CG needs 5-20 products per step.
CG_FORCING_MAX = 0.5
CG_MAX_ITER = 50
# Armijo's sufficient-decrease constant of the Newton line search.
ARMIJO = 1e-4
# Backtracking halvings before a Newton step (either kind) is given up.
MAX_HALVINGS = 12


def _in_run_variables(function, move_to, scale):
    """``function`` (values and gradients in L-BFGS's variables ``v``) and
    ``move_to(v)`` for a run in the variables ``v / scale`` (see
    :meth:`LBFGSSolver._first_step_scale`)."""

    def scaled_function(u):
        values, grad_v = function(u * scale)
        return values, grad_v * scale

    def scaled_move_to(u):
        move_to(u * scale)

    return scaled_function, scaled_move_to


def evaluate_if_new(evaluate, x, last):
    """Call ``evaluate(x)`` unless ``x`` is ``last``, the point of the
    caller's current state (None: none yet), so that the state is at ``x``."""
    if last is None or not np.array_equal(x, last):
        evaluate(x)


# Relative ridge of a Newton system, after scaling it to a unit diagonal:
# makes the solve well posed along flat directions (the projected-out ones,
# or an unpenalised constant feature) without moving any other.
NEWTON_RIDGE = 1e-12


class _FactorisedSystems:
    """Independent systems ``H_k d_k = g_k``, each a :class:`_PositiveSystem`."""

    def __init__(self, matrices):
        self.systems = [_PositiveSystem(H) for H in matrices]

    def solve(self, rhs):
        """Row ``k`` of the result solves system ``k`` with row ``k`` of ``rhs``."""
        return np.stack(
            [system.solve(g) for system, g in zip(self.systems, rhs, strict=True)]
        )


class _PreconditionerSystems:
    """The systems ``H_k d_k = g_k`` whose matrices a Cholesky
    preconditioner was built from: ``coef = L_k^{-T} v`` and
    ``grad_v = L_k^{-1} g``, so ``d_k = L_k^{-T} L_k^{-1} g_k`` is its two
    maps in a row (no second factorisation, and two products per solve
    instead of a pair of triangular solves per row)."""

    def __init__(self, preconditioner):
        self.preconditioner = preconditioner

    def solve(self, rhs):
        return self.preconditioner.to_coef(self.preconditioner.gradient_to_v(rhs))


class _PositiveSystem:
    """A factorised positive semi-definite system ``H d = g``.

    ``H`` is first scaled to a unit diagonal, so that entries of very
    different sizes (a penalty of 1e30 next to an unpenalised intercept)
    keep their own scale; a tiny ridge is added to that. Where even that
    has no Cholesky factor, the solves are least squares.
    """

    def __init__(self, H):
        diag = np.diag(H).copy()
        self.scale = np.sqrt(np.where(diag > 0, diag, 1.0))
        unit = H / self.scale[:, None] / self.scale[None, :]
        unit[np.diag_indices_from(unit)] += NEWTON_RIDGE
        try:
            self.factor = scipy.linalg.cho_factor(unit, check_finite=False)
        except (np.linalg.LinAlgError, ValueError):
            self.factor, self.unit = None, unit

    def solve(self, g):
        rhs = g / self.scale
        if self.factor is not None:
            z = scipy.linalg.cho_solve(self.factor, rhs, check_finite=False)
        else:
            z = np.linalg.lstsq(self.unit, rhs, rcond=None)[0]
        return z / self.scale


def minimize_lbfgs(objective, coef0, **options):
    """Minimise ``objective`` from ``coef0`` with an :class:`LBFGSSolver`
    of keyword ``options`` (``tol`` and ``max_iter`` required).

    Returns
    -------
    result : SolverResult
    """
    return LBFGSSolver(objective, **options).solve(coef0)
