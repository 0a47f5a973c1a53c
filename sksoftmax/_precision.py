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

Sums, coefficients and the optimiser's state are float64 throughout.
"""

import numpy as np

__all__ = ["ANCHOR_MAX_SHIFT", "Float32Policy"]

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


class Float32Policy:
    """Work precision of one fit, and when to anchor or switch.

    Parameters
    ----------
    data_dtype : dtype
        The dtype of ``X``: float32 data start in float32 products; anything
        else is float64 throughout.

    Attributes
    ----------
    dtype : type
        Current precision of products and work arrays.
    anchored : bool
        Whether the objective is evaluated relative to an anchor.
    """

    def __init__(self, data_dtype):
        self.dtype = np.float32 if data_dtype == np.float32 else np.float64
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
