"""The float32 policy: when products run in float32, and how the objective
stays exact enough for a tight ``tol``.

float64 data are always computed in float64. With float32 ``X`` the heavy
products start in float32, about twice as fast as float64. Rounding then puts
a floor under the objective's accuracy: each score carries a relative error of
about 1e-7, so the objective is known to about 1e-9 relative, which stops
L-BFGS short of a tight ``tol``. Two steps lower that floor:

1. **Anchoring.** Keep float32 products but evaluate the objective as a
   *difference* from an anchor point computed once in float64. The float32
   part is then proportional to the distance from the anchor, tiny near the
   optimum, so the floor drops by orders of magnitude at float32 speed.
   :class:`Float32Policy` re-anchors whenever an iteration's progress becomes
   small, and after a stall, without restarting L-BFGS.
2. **Full precision**, the last resort when L-BFGS still stalls: scores and
   gradients in float64, ``X`` converted block by block (never copied).

float32 products are used only while every number they form stays far inside
float32's range, which is narrow (3.4e38) next to what float32 *data* can hold:
a column of 1e30 next to one of 1e-30 stores fine but its squares, or scores
with the coefficients such data call for, overflow. The policy checks this
from bounds it can prove, never from the overflow itself:

* **the data**, once: the preconditioner's Gram matrices and moments hold
  weighted sums of products of two entries, at most ``max|X|**2`` (weights
  sum to one), so ``max|X|**2`` must be within range;
* **the coefficients**, at every evaluation: by the triangle inequality a
  score is at most ``||w_k||_1 * max|X| + |b_k|``, which must be within
  range (with ``max|X|`` taken as at least 1, so ``w`` itself converts to
  float32 without overflow).

Beyond either bound the products switch to float64 for the rest of the fit.

Sums, coefficients and the optimiser's state are float64 throughout.
"""

import numpy as np

__all__ = ["ANCHOR_MAX_SHIFT", "FLOAT32_SAFE_MAX", "Float32Policy"]

# An iteration that gains less than this fraction of the objective is close
# to float32's rounding floor (about 1e-9 relative): plain float32 noise, or
# an old anchor's noise (which grows with the distance from it), would soon
# reach the size of the progress, so the objective is re-anchored.
ANCHOR_DECREASE = 1e-6

# An anchor is kept while the objective has fallen less than this many
# iterations' worth of progress since it was set: it is still close, so its
# noise is still far below the progress.
ANCHOR_REFRESH_RATIO = 10.0

# After a stall of L-BFGS in float32, re-anchoring is tried again only if the
# objective fell by more than this fraction since the previous stall: well
# above float64's rounding (1e-16), below float32's floor (1e-9). Otherwise
# the anchor no longer helps and the products switch to float64.
STALL_PROGRESS = 1e-12

# Largest score change from the anchor for which the loss evaluates the
# difference formulas: they gain accuracy only for small changes
# (expm1 and log1p of |dz| <= 1), and beyond it the plain evaluation is used.
ANCHOR_MAX_SHIFT = 1.0


# Largest magnitude a float32 product may reach by the bounds above: float32's
# largest finite value with a wide margin (2**20) for rounding and for the
# partial sums BLAS forms in float32 before the bound applies to the total.
FLOAT32_SAFE_MAX = float(np.finfo(np.float32).max) / 2.0**20


class Float32Policy:
    """Work precision of one fit, and when to anchor or switch.

    Parameters
    ----------
    data_dtype : dtype
        The dtype of ``X``: float32 data start in float32 products; anything
        else is float64 throughout.
    data_max_abs : float, default=None
        ``max|X|`` (float32 data only): float32 products are used only when
        the products of two entries, and the scores, stay within
        :data:`FLOAT32_SAFE_MAX`. None when unknown: float64 throughout, as
        nothing bounds what float32 products would form.

    Attributes
    ----------
    dtype : type
        Current precision of products and work arrays.
    anchored : bool
        Whether the objective is evaluated relative to an anchor.
    """

    def __init__(self, data_dtype, data_max_abs=None):
        in_range = (
            data_max_abs is not None and float(data_max_abs) ** 2 <= FLOAT32_SAFE_MAX
        )
        low = data_dtype == np.float32 and in_range
        self.dtype = np.float32 if low else np.float64
        # Scores are at most ||w_k||_1 * this + |b_k| (see the module notes).
        self._score_scale = max(float(data_max_abs or 0.0), 1.0)
        self.anchored = False
        self._anchor_value = None
        self._stall_value = None

    @property
    def low_precision(self):
        return self.dtype != np.float64

    def use_full_precision(self, objective):
        """Switch to float64 products; returns whether anything changed."""
        if not self.low_precision:
            return False
        self.dtype = np.float64
        objective.drop_anchor()
        self.anchored = False
        return True

    def before_evaluation(self, objective, coef, n_features):
        """Switch to float64 before float32 products with ``coef`` could
        overflow (its score bound exceeds :data:`FLOAT32_SAFE_MAX`)."""
        if not self.low_precision:
            return
        bound = np.abs(coef[:, :n_features]).sum(axis=1) * self._score_scale
        bound += np.abs(coef[:, n_features:]).sum(axis=1)
        if not bound.max(initial=0.0) <= FLOAT32_SAFE_MAX:
            self.use_full_precision(objective)

    def _anchor(self, objective, coef, value):
        objective.anchor_at(coef)
        self.anchored = True
        self._anchor_value = value

    def after_iteration(self, objective, coef, value, decrease):
        """Re-anchor before float32 noise reaches the size of the progress.

        The objective changes by about that noise, far below what a line
        search resolves at this point, so L-BFGS goes on without a restart.
        """
        if not self.low_precision or decrease > ANCHOR_DECREASE * abs(value):
            return
        if (
            self._anchor_value is not None
            and self._anchor_value - value <= ANCHOR_REFRESH_RATIO * decrease
        ):
            return
        self._anchor(objective, coef, value)

    def after_stall(self, objective, coef, value):
        """L-BFGS stopped short of ``tol`` in float32: re-anchor if the last
        anchor still brought progress, else switch to float64. Returns
        whether the precision changed (a restart can then help)."""
        if not self.low_precision:
            return False
        previous, self._stall_value = self._stall_value, value
        if previous is None or previous - value > STALL_PROGRESS * abs(value):
            self._anchor(objective, coef, value)
            return True
        return self.use_full_precision(objective)
