"""The loss-solver contract: what the solver may ask of an objective.

The solver (:mod:`sksoftmax._solver`) sees an :class:`Objective` and nothing
else: no ``X``, no classes, no labels. An objective is

* a **loss** from :mod:`sksoftmax._loss`, whose pure methods return sums over
  a block of rows;
* a **row source**, which owns the blocks of rows and adds up per-block
  results (:class:`InMemoryRows` here; the same contract runs over the
  chunks of a distributed array);
* the **penalty**, added once, outside the row sums
  (:class:`~sksoftmax._penalty.L2Penalty`);
* the **float32 policy** (:class:`~sksoftmax._precision.Float32Policy`).

Objective values come per *group*: one group per output row when the loss is
separable (independent outputs, judged and line-searched row by row), a
single group otherwise. That one property replaces any flag the solver would
otherwise test.
"""

from dataclasses import dataclass
from typing import Protocol

import numpy as np
import scipy.sparse as sp

from ._loss import RowBlock
from ._penalty import L2Penalty
from ._precision import Float32Policy
from ._products import gram_blocks, weighted_moments

__all__ = ["InMemoryRows", "Objective", "PenalizedObjective", "SecondOrder"]


class Objective(Protocol):
    """The contract between an objective and the solver.

    Attributes
    ----------
    coef_shape : tuple of int
        ``(n_outputs, n_coef)``: one row of coefficients per output.
    separable : bool
        True when the objective is a sum of independent terms, one per row of
        ``coef``: values, convergence and line searches are then per row.
    precision : Float32Policy
        Owns the work precision; the solver reports progress to it.
    """

    coef_shape: tuple
    separable: bool
    precision: Float32Policy

    def value_gradient(self, coef):
        """Group values (penalty included) and the gradient, float64."""

    def values(self, coef):
        """Group values only."""

    def project(self, coef):
        """Remove directions along which the loss is invariant."""

    def second_order(self, coef):
        """A :class:`SecondOrder` at ``coef``: Hessian products and blocks."""

    def anchor_at(self, coef):
        """Evaluate later values relative to a float64 evaluation at coef."""

    def drop_anchor(self):
        """Forget the anchor."""

    def hessian_cost(self):
        """``(unknowns per Newton system, multiply-adds per dense Hessian)``."""


# -- row sources ------------------------------------------------------------------

# In-memory blocks hold at most this many (row, output) work-array entries:
# 4M float64 entries (32 MB) keep every temporary small next to X, while
# blocks stay large enough that BLAS runs at full speed and the per-block
# Python overhead (a few dozen numpy calls) is negligible.
BLOCK_ENTRIES = 1 << 22


def _add(total, part):
    if total is None:
        return part
    if isinstance(part, tuple):
        return tuple(_add(a, b) for a, b in zip(total, part, strict=True))
    return total + part


class InMemoryRows:
    """Rows held in memory, split into blocks of at most ``BLOCK_ENTRIES``
    work-array entries (views of ``X``: nothing is copied).

    Parameters
    ----------
    block_factory : callable
        ``block_factory(rows)`` returns the :class:`~sksoftmax._loss.RowBlock`
        of a slice of rows.
    n_samples, n_outputs : int
        Shape of the work arrays.
    """

    def __init__(self, block_factory, n_samples, n_outputs):
        size = max(1, BLOCK_ENTRIES // max(n_outputs, 1))
        self.blocks = [
            block_factory(slice(start, min(start + size, n_samples)))
            for start in range(0, n_samples, size)
        ]
        self.n_samples = n_samples

    def map_sum(self, function, *args, kept=None):
        """Sum of ``function(block, [kept item,] *args)`` over the blocks."""
        total = None
        for index, block in enumerate(self.blocks):
            extra = () if kept is None else (kept[index],)
            total = _add(total, function(block, *extra, *args))
        return total

    def keep(self, function, *args):
        """Per-block results of ``function(block, *args)``, kept for later
        :meth:`map_sum` calls."""
        return [function(block, *args) for block in self.blocks]


# Adapters from the row sources' ``function(block, [kept,] *args)`` to the
# losses' methods (module-level, so they pickle for distributed sources).
def _value_gradient(block, anchor, loss, coef, dtype):
    return loss.value_gradient(coef, block, dtype, anchor)


def _value(block, anchor, loss, coef, dtype):
    return loss.value(coef, block, dtype, anchor)


def _anchor(block, loss, coef):
    return loss.anchor(coef, block)


def _curvature(block, loss, coef, dtype):
    return loss.curvature(coef, block, dtype)


def _hessian_product(block, curvature, loss, V):
    return loss.hessian_product(curvature, V, block)


def _dense_hessian(block, curvature, loss):
    return loss.hessian(curvature, block)


def _moments(block, curvature, loss):
    return weighted_moments(block.X, loss.curvature_weights(curvature))


def _diagonal_grams(block, curvature, loss):
    weights = loss.curvature_weights(curvature)
    return gram_blocks(block.X, weights, loss.fit_intercept)


@dataclass
class SecondOrder:
    """Second-order information at one point, evaluated once per point.

    Created by :meth:`PenalizedObjective.second_order`; the probabilities at
    the point stay with the row source's blocks.
    """

    objective: "PenalizedObjective"
    coef: np.ndarray
    kept: list

    def _map_sum(self, function, *args):
        rows = self.objective.rows
        return rows.map_sum(function, self.objective.loss, *args, kept=self.kept)

    def hessian_product(self, V):
        """Hessian of the objective (penalty included) times ``V``."""
        out = self._map_sum(_hessian_product, V)
        return self.objective.penalty.add_hessian_product(V, out)

    def diagonal_blocks(self):
        """Estimated per-row diagonal blocks of the Hessian, penalty
        included, shape ``(n_outputs, p, p)`` (sampled on tall data)."""
        blocks = self._map_sum(_diagonal_grams)
        penalty = self.objective.penalty
        p = blocks.shape[1]
        for k in range(blocks.shape[0]):
            blocks[k][np.diag_indices(p)] += penalty.diagonal(k, p)
        return blocks

    def diagonal_moments(self):
        """``(first, second, total)`` weighted feature moments per row:
        the statistics of a diagonal preconditioner."""
        return self._map_sum(_moments)

    def dense_hessian(self):
        """Exact Hessian with penalty: ``(K p, K p)`` for a coupled
        objective, per-row blocks ``(K, p, p)`` for a separable one."""
        H = self._map_sum(_dense_hessian)
        K, p = self.objective.coef_shape
        penalty = self.objective.penalty
        if self.objective.separable:
            for k in range(K):
                H[k][np.diag_indices(p)] += penalty.diagonal(k, p)
        else:
            diag = np.concatenate([penalty.diagonal(k, p) for k in range(K)])
            H[np.diag_indices(K * p)] += diag
        return H


class PenalizedObjective:
    """Row sums of a loss plus the penalty: the :class:`Objective` the
    solver minimises.

    Parameters
    ----------
    loss : MultinomialLoss or BinaryLoss
    rows : InMemoryRows
        Any row source with ``map_sum`` and ``keep``.
    penalty : L2Penalty
    data_dtype : dtype
        The dtype of ``X``, for the float32 policy.
    n_features : int
    """

    def __init__(self, loss, rows, penalty, data_dtype, n_features):
        self.loss = loss
        self.rows = rows
        self.penalty = penalty
        self.separable = loss.separable
        self.coef_shape = (loss.n_outputs, n_features + loss.fit_intercept)
        self.precision = Float32Policy(data_dtype)
        self._anchors = None

    def _group(self, per_row):
        """Per-row values to group values."""
        return per_row if self.separable else np.array([per_row.sum()])

    def value_gradient(self, coef):
        data, grad = self.rows.map_sum(
            _value_gradient,
            self.loss,
            coef,
            self.precision.dtype,
            kept=self._anchor_list(),
        )
        self.penalty.add_gradient(coef, grad)
        return data + self._group(self.penalty.values(coef)), grad

    def values(self, coef):
        data = self.rows.map_sum(
            _value, self.loss, coef, self.precision.dtype, kept=self._anchor_list()
        )
        return data + self._group(self.penalty.values(coef))

    def project(self, coef):
        return self.loss.project(coef)

    def second_order(self, coef):
        kept = self.rows.keep(_curvature, self.loss, coef, self.precision.dtype)
        return SecondOrder(self, coef, kept)

    def _anchor_list(self):
        if self._anchors is None:
            return [None] * len(self.rows.blocks)
        return self._anchors

    def anchor_at(self, coef):
        self._anchors = self.rows.keep(_anchor, self.loss, coef)

    def drop_anchor(self):
        self._anchors = None

    def hessian_cost(self):
        K, p = self.coef_shape
        n = self.rows.n_samples
        if self.separable:
            return p, n * K * p * p
        return K * p, n * (K * p) ** 2 / 2


def in_memory_objective(loss, X, targets, weights, l2):
    """The objective of ``loss`` on in-memory data.

    Parameters
    ----------
    loss : MultinomialLoss or BinaryLoss
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        float32 or float64, CSR when sparse; kept by reference.
    targets : ndarray
        Class indices (n_samples,) or a 0/1 matrix (n_samples, n_outputs).
    weights : ndarray of shape (n_samples,) or (n_samples, n_outputs)
        Weights at the solver's scale (see :mod:`sksoftmax._penalty`).
    l2 : float or ndarray of shape (n_outputs,)
        Penalty strength per output at the solver's scale.

    Returns
    -------
    objective : PenalizedObjective
    """
    weights = np.asarray(weights, dtype=np.float64)
    targets = np.asarray(targets)
    if sp.issparse(X) and X.format != "csr":
        raise TypeError("sparse X must be CSR")

    def block(rows):
        return RowBlock(X[rows], targets[rows], weights[rows])

    rows = InMemoryRows(block, X.shape[0], loss.n_outputs)
    penalty = L2Penalty(
        np.broadcast_to(np.asarray(l2, dtype=np.float64), (loss.n_outputs,)).copy(),
        X.shape[1],
    )
    return PenalizedObjective(loss, rows, penalty, X.dtype, X.shape[1])
