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

import functools
import os
from dataclasses import dataclass, replace
from typing import Protocol

import numpy as np
import scipy.sparse as sp

from ._loss import RowBlock, max_row_norm
from ._penalty import L2Penalty
from ._precision import Float32Policy
from ._products import (
    gram_blocks,
    gram_plans,
    gram_sample_size,
    largest_magnitude,
    row_slice,
    weighted_moments,
)

__all__ = [
    "InMemoryRows",
    "Objective",
    "PenalizedObjective",
    "RowSource",
    "SecondOrder",
    "block_rows",
    "in_memory_objective",
    "in_memory_rows",
    "penalized_objective",
    "weight_rows",
]


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

    def output_value_gradient(self, coef_rows, rows):
        """Separable objectives: the values and gradient of the outputs
        ``rows`` (an index array) alone, at ``coef_rows`` (their rows of
        ``coef``), in float64 products; the other outputs cost nothing."""

    def project(self, coef):
        """Remove directions along which the loss is invariant."""

    def separates(self, coef):
        """Per group, whether ``coef`` classifies every weighted row
        strictly correctly (read after the fit, not by the solver)."""

    def second_order(self, coef):
        """A :class:`SecondOrder` at ``coef``: Hessian products and blocks,
        and the value and gradient there for one more product."""

    def anchor_at(self, coef):
        """Evaluate later values relative to a float64 evaluation at coef."""

    def drop_anchor(self):
        """Forget the anchor."""

    def with_penalty_hessian(self, data_hessian):
        """The exact Hessian, penalty included, from the data term's
        (:meth:`SecondOrder.data_hessian`, which does not depend on the
        penalty); a new array."""

    def hessian_row_blocks(self, H):
        """Views of the per-row diagonal blocks ``(p, p)`` of a Hessian laid
        out as :meth:`SecondOrder.data_hessian`."""

    def hessian_cost(self):
        """``(unknowns per Newton system, multiply-adds per dense Hessian)``."""

    def support_hessian_cost(self, free):
        """``(unknowns of the largest system, cost in evaluations)`` of
        :meth:`SecondOrder.support_hessians` on ``free``."""

    def rebuild_cost(self):
        """A Cholesky preconditioner's Gram matrices, in evaluations
        (multiply-adds against an evaluation's)."""

    def output_evaluation_cost(self):
        """Multiply-adds of an evaluation's two products with ``X``, per
        output."""

    def row_sample(self, step):
        """The objective on every ``step``-th row (by global index), its
        weights rescaled so that its data term estimates this one's, the
        same penalty; None where the rows cannot be sampled."""

    def fewest_outcome_rows(self):
        """Per output, the rows of positive weight in its rarer outcome (a
        class and the others, or a label's two values)."""


# -- row sources ------------------------------------------------------------------


class RowSource(Protocol):
    """Where the rows live: the only part of an objective that differs
    between memory and a cluster.

    ``function`` arguments are module-level functions (they pickle), called
    as ``function(block, kept_item, *args)`` with a
    :class:`~sksoftmax._loss.RowBlock`; their results are floats, arrays or
    tuples of them, added up over blocks.
    """

    n_samples: int

    def map_sum(self, function, *args, kept=None):
        """Sum over blocks; ``kept`` is a handle returned by :meth:`keep`
        (each block gets its own item) or None (each gets None)."""

    def keep(self, function, *args):
        """Evaluate ``function(block, *args)`` per block and keep the results
        with the blocks; returns a handle for :meth:`map_sum`."""

    def sample(self, step):
        """Optional (in-memory rows only): every ``step``-th row by global
        index, as a row source of the same kind, or None where the rows
        cannot be sampled without a copy."""

    def scaled_weights(self, factor):
        """Optional (with :meth:`sample`): the same rows, weights times
        ``factor``."""


# In-memory blocks hold at most this many (row, output) work-array entries:
# 256K float64 entries (2 MB) keep every temporary small next to X and in
# cache, while blocks stay large enough that BLAS runs at full speed and the
# per-block Python overhead (a few dozen numpy calls, ~0.1 ms) stays a few
# per cent of an evaluation.
BLOCK_ENTRIES = 1 << 18
# Each block of sparse rows also pays a few passes over (n_outputs,
# n_features) arrays: the dense operand and result of its two sparse
# products are copied and transposed, and the block results are summed. A
# stored value costs about 2 n_outputs multiply-adds, so sparse blocks hold
# at least this many stored values per feature, which keeps those passes
# near a tenth of the products (sparse text, 1e6 coefficients: one
# evaluation took 40 ms in two blocks, 32 ms in one).
SPARSE_BLOCK_VALUES_PER_FEATURE = 128
# A block of dense rows is read twice per evaluation (scores, then the
# gradient's product); a block that stays in the shared L3 cache (32 MiB on
# the benchmark machine) between the two reads is read from memory once.
# Blocks are capped at DENSE_BLOCK_BYTES, which leaves room for the work
# arrays and the other core's block: on 10,000 x 784 pixels an evaluation
# then read X once instead of twice (fits 1.17x faster with 2 BLAS threads,
# 1.2x with one; 20,000 x 400: 1.15x and 1.25x; 8,000 x 1,500: 1.3x).
# Narrow data used to get blocks of one core's L2 (1 MiB); on the AVX-512
# EPYC 4 MiB blocks were faster: one evaluation of 100,000 x 100 with 10
# classes 1.4x (19 ms against 27 in float64), fits of 200,000 x 20 and
# 6,400 x 36 1.03-1.16x, 11,000 x 16 and 10,000 x 100 with 50 labels mostly
# 1.03-1.10x, 20,000 x 16 with 26 classes 0.9-1.1x (three runs, A/B
# interleaved, medians of 9-15): fewer blocks, each with less Python
# overhead, and the products run on more rows at a time. Below
# DENSE_MIN_BLOCK_ROWS rows the products lose more than the cache gives
# (2,000 x 5,000: 125-row blocks were 15% slower with 2 threads), so such
# wide data keep one block within the work-array limit.
DENSE_BLOCK_BYTES = 1 << 22
DENSE_MIN_BLOCK_ROWS = 256
# The byte limit is for X that the shared cache cannot hold. Where it can
# (X within a SHARED_CACHE_SHARE of it), X stays there between the two reads
# unblocked, and blocks only add their per-block cost (a few dozen numpy
# calls, ~0.1 ms each) and smaller products: 10,000 x 784 pixels (63 MB) on an
# Intel Xeon with 480 MiB of L3 fitted 1.27-1.29x faster in one block than in
# 15 of 668 rows (1,024 rows: 1.06x; 2,048: 1.17x). Rows narrow enough for
# WIDE_ROW_MIN_BLOCK_ROWS per byte-limited block keep it: on 200,000 x 20
# (five classes) the byte limit is what keeps the work arrays at 1 MB, and
# 8 MiB blocks were 0.88x as fast there.
SHARED_CACHE_SHARE = 4
WIDE_ROW_MIN_BLOCK_ROWS = 2048
# Where the shared cache's size cannot be read: the EPYC's 32 MiB, for which
# DENSE_BLOCK_BYTES was set (so that wide X keeps its blocks).
DEFAULT_SHARED_CACHE_BYTES = 32 << 20
# Where Linux describes CPU 0's caches, one index* folder per cache.
CPU_CACHE_DIR = "/sys/devices/system/cpu/cpu0/cache"
# An evaluation on sparse X costs at least this fraction of a dense one's
# in the cost models: each also makes dense passes over (n_outputs, n)
# work arrays, whatever the density.
DENSITY_FLOOR = 1e-3


def weight_rows(weights, rows):
    """The weights of rows ``rows`` (a slice or an index array) of weights
    of shape (n_samples,), (n_samples, n_outputs) or (): 0-d (equal)
    weights serve any rows as they are."""
    return weights if weights.ndim == 0 else weights[rows]


def _add(total, part):
    if total is None:
        return part
    if isinstance(part, tuple):
        return tuple(_add(a, b) for a, b in zip(total, part, strict=True))
    return total + part


class InMemoryRows:
    """Rows held in memory, as :class:`~sksoftmax._loss.RowBlock` s (views of
    ``X``: nothing is copied).

    Parameters
    ----------
    blocks : iterable of RowBlock
        The blocks, in row order (:meth:`equal_blocks` splits ``X`` into
        them).
    """

    def __init__(self, blocks):
        self.blocks = list(blocks)
        self.n_samples = sum(block.n_rows for block in self.blocks)

    @classmethod
    def equal_blocks(cls, block_factory, n_samples, rows_per_block):
        """Rows split into equal blocks of at most ``rows_per_block`` rows
        (:func:`block_rows`); ``block_factory(rows)`` returns the block of
        a slice of rows."""
        size = max(1, int(rows_per_block))
        # Equal blocks, not full ones and a sliver.
        n_blocks = -(-n_samples // size)
        size = max(1, -(-n_samples // max(n_blocks, 1)))
        return cls(
            block_factory(slice(start, min(start + size, n_samples)))
            for start in range(0, n_samples, size)
        )

    def sample(self, step):
        """Every ``step``-th row by global index, as strided views of the
        blocks (nothing is copied), numbered from 0; None for sparse rows
        (a strided view of CSR rows is a copy)."""
        blocks = []
        for block in self.blocks:
            if sp.issparse(block.X):
                return None
            offset = -block.start % step
            if offset >= block.n_rows:
                continue
            rows = slice(offset, None, step)
            weights = weight_rows(block.weights, rows)
            # A subset's rows have at most the block's largest norm, and zeros
            # where the block's rows all have them.
            blocks.append(
                replace(
                    block,
                    X=block.X[rows],
                    targets=block.targets[rows],
                    weights=weights,
                    start=(block.start + offset) // step,
                )
            )
        return InMemoryRows(blocks)

    def scaled_weights(self, factor):
        """The same rows with their weights times ``factor`` (a number, or
        one per output)."""
        return InMemoryRows(_scaled_weights(block, factor) for block in self.blocks)

    @property
    def n_blocks(self):
        return len(self.blocks)

    def map_sum(self, function, *args, kept=None):
        """Sum over the blocks of ``function(block, kept_item, *args)``;
        ``kept_item`` is the block's item of ``kept`` (from :meth:`keep`),
        or None."""
        total = None
        for index, block in enumerate(self.blocks):
            item = None if kept is None else kept[index]
            total = _add(total, function(_aligned(block), item, *args))
        return total

    def keep(self, function, *args):
        """Per-block results of ``function(block, *args)``, kept with the
        blocks for later :meth:`map_sum` calls."""
        return [function(_aligned(block), *args) for block in self.blocks]


def _aligned(block):
    """``block``, or a copy of it whose dense arrays are aligned.

    numpy runs a product in BLAS only if its operands are aligned, and falls
    back to its own, slower loops otherwise. Rows sent to a dask worker can
    land at any byte offset: ``dask.array.from_array(X).persist()`` left
    every chunk 43 bytes past a 64-byte boundary, and one evaluation of
    200,000 x 50 with 10 classes in eight such chunks took 78 ms against 44
    ms for aligned chunks. The copy has the size of one block (a few MB,
    in cache for the products that follow), made at each use: a copy of
    whole chunks would double X on the workers. The test is made at each use
    too (three flags per block), not once when the blocks are built: a
    worker may receive persisted rows from another one, at a new offset.
    """
    if all(
        not isinstance(array, np.ndarray) or array.flags.aligned
        for array in (block.X, block.targets, block.weights)
    ):
        return block
    return replace(
        block,
        X=block.X if sp.issparse(block.X) else np.array(block.X),
        targets=np.array(block.targets),
        weights=np.array(block.weights),
    )


# Adapters from the row sources' ``function(block, kept_item, *args)`` to
# the losses' methods (module-level, so they pickle for distributed sources).
def _value_gradient(block, anchor, loss, coef, dtype):
    return loss.value_gradient(coef, block, dtype, anchor)


def _output_value_gradient(block, _, loss, coef, dtype, outputs):
    return loss.value_gradient(coef, block.outputs(outputs), dtype)


def _value(block, anchor, loss, coef, dtype):
    return loss.value(coef, block, dtype, anchor)


def _anchor(block, loss, coef):
    return loss.anchor(coef, block)


def _curvature(block, loss, coef, dtype):
    return loss.curvature(coef, block, dtype)


def _kept_value_gradient(block, curvature, loss):
    return curvature.data, loss.gradient_from_curvature(curvature, block)


def _hessian_product(block, curvature, loss, V):
    return loss.hessian_product(curvature, V, block)


def _outcome_counts(block, _, loss):
    return loss.outcome_counts(block)


def _row_weight_totals(block, _):
    weights = block.weights
    if weights.ndim == 0:
        return weights * block.n_rows
    return weights.sum(axis=0)


def _scaled_weights(block, factor):
    return replace(block, weights=block.weights * factor)


def _misclassified(block, _, loss, coef):
    return loss.n_misclassified(coef, block)


def _dense_hessian(block, curvature, loss):
    return loss.hessian(curvature, block)


def _support_hessian(block, curvature, loss, free):
    return loss.support_hessian(curvature, block, free)


def _moments(block, curvature, loss):
    return weighted_moments(block.X, loss.curvature_weights(curvature))


def _weight_totals(block, curvature, loss):
    return loss.curvature_weights(curvature).sum(axis=0)


def _diagonal_grams(block, curvature, loss, plans):
    weights = loss.curvature_weights(curvature)
    return gram_blocks(
        block.X, weights, loss.fit_intercept, curvature.dtype, plans, block.start
    )


@dataclass(frozen=True)
class DiagonalMoments:
    """Per-row curvature moments: ``first = X^T w_k``, ``second =
    (X * X)^T w_k`` (shape (n_features, n_rows)), ``total = sum w_k``, the
    penalty ``l2`` of each row and whether there is an intercept."""

    first: np.ndarray
    second: np.ndarray
    total: np.ndarray
    l2: np.ndarray
    fit_intercept: bool


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

    def value_gradient(self):
        """Group values and gradient at the point, as
        :meth:`PenalizedObjective.value_gradient` gives them, from the kept
        probabilities: one product with ``X`` instead of two."""
        data, grad = self._map_sum(_kept_value_gradient)
        return self.objective.with_penalty(self.coef, data, grad)

    def hessian_product(self, V):
        """Hessian of the objective (penalty included) times ``V``."""
        out = self._map_sum(_hessian_product, V)
        return self.objective.penalty.add_hessian_product(V, out)

    def diagonal_blocks(self):
        """Estimated per-row diagonal blocks of the Hessian, penalty
        included, shape ``(n_outputs, p, p)`` (sampled on tall data)."""
        # A first pass sums the weights, so that every block samples and
        # skips rows by the same global plan: the result does not depend on
        # how the rows are split into blocks or chunks.
        plans = gram_plans(
            self._map_sum(_weight_totals),
            self.objective.rows.n_samples,
            self.objective.coef_shape[1],
        )
        blocks = self._map_sum(_diagonal_grams, plans)
        return self.objective.penalty.add_to_diagonal_blocks(blocks)

    def diagonal_moments(self):
        """Weighted feature moments per row, with the penalty: the
        statistics of a diagonal preconditioner."""
        first, second, total = self._map_sum(_moments)
        return DiagonalMoments(
            first,
            second,
            total,
            self.objective.penalty.l2,
            self.objective.loss.fit_intercept,
        )

    def data_hessian(self):
        """Exact Hessian of the data term alone (the row sums, no penalty):
        ``(K p, K p)`` for a coupled objective, per-row blocks ``(K, p, p)``
        for a separable one. It does not depend on ``C``, so a fit at
        another ``C`` on the same rows can start from it (see
        :meth:`PenalizedObjective.with_penalty_hessian`)."""
        return self._map_sum(_dense_hessian)

    def dense_hessian(self):
        """Exact Hessian with penalty, laid out as :meth:`data_hessian`."""
        return self.objective.with_penalty_hessian(self.data_hessian())

    def support_hessians(self, free):
        """Exact Hessians with penalty on the coefficients where ``free``
        (shape ``coef_shape``) is True, as independent Newton systems: a
        list of ``(positions in coef.ravel(), matrix)``, one per row for a
        separable objective, a single one otherwise."""
        H = self._map_sum(_support_hessian, free)
        K, p = self.objective.coef_shape
        penalty = self.objective.penalty
        diagonals = [penalty.diagonal(k, p)[free[k]] for k in range(K)]
        positions = [k * p + np.flatnonzero(free[k]) for k in range(K)]
        if not self.objective.separable:
            H[np.diag_indices_from(H)] += np.concatenate(diagonals)
            return [(np.concatenate(positions), H)]
        systems = []
        for k in range(K):
            H[k][np.diag_indices_from(H[k])] += diagonals[k]
            systems.append((positions[k], H[k]))
        return systems


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
    data_max_abs : float, default=None
        ``max|X|``, for the float32 policy's range checks; None (unknown)
        keeps float32 data in float64 products.
    density : float, default=1.0
        Fraction of ``X``'s entries that are stored (sparse ``X``), for the
        cost of an evaluation against a dense Hessian's.
    """

    def __init__(
        self,
        loss,
        rows,
        penalty,
        data_dtype,
        n_features,
        data_max_abs=None,
        density=1.0,
    ):
        self.loss = loss
        self.rows = rows
        self.penalty = penalty
        self.separable = loss.separable
        self.coef_shape = (loss.n_outputs, n_features + loss.fit_intercept)
        self.n_features = n_features
        self.density = max(float(density), DENSITY_FLOOR)
        self.precision = Float32Policy(data_dtype, data_max_abs)
        self._data = (data_dtype, data_max_abs)
        self._anchors = None

    def _group(self, per_row):
        """Per-row values to group values."""
        return per_row if self.separable else np.array([per_row.sum()])

    def with_penalty(self, coef, data, grad, penalty=None):
        """Group values and gradient at ``coef`` from the row sums ``data``
        and ``grad`` (added to in place): the penalty is added here only
        (``penalty``: the objective's own, or some outputs' part of it)."""
        penalty = self.penalty if penalty is None else penalty
        penalty.add_gradient(coef, grad)
        return data + self._group(penalty.values(coef)), grad

    def value_gradient(self, coef):
        self.precision.before_evaluation(self, coef, self.n_features)
        data, grad = self.rows.map_sum(
            _value_gradient,
            self.loss,
            coef,
            self.precision.dtype,
            kept=self._anchors,
        )
        return self.with_penalty(coef, data, grad)

    def output_value_gradient(self, coef_rows, rows):
        if not self.separable:
            raise ValueError("only a separable objective evaluates outputs apart")
        if self._anchors is not None or self.precision.low_precision:
            raise ValueError("outputs are evaluated apart in float64 products only")
        data, grad = self.rows.map_sum(
            _output_value_gradient, self.loss, coef_rows, self.precision.dtype, rows
        )
        return self.with_penalty(coef_rows, data, grad, self.penalty.outputs(rows))

    def values(self, coef):
        self.precision.before_evaluation(self, coef, self.n_features)
        data = self.rows.map_sum(
            _value, self.loss, coef, self.precision.dtype, kept=self._anchors
        )
        return data + self._group(self.penalty.values(coef))

    def project(self, coef):
        return self.loss.project(coef)

    def separates(self, coef):
        """Per group: whether ``coef`` puts every row of positive weight
        strictly on its correct side (float64 products).

        If it does, the data are perfectly separated and, without a penalty,
        the loss has no minimiser: scaling ``coef`` up lowers it towards 0.
        """
        counts = self.rows.map_sum(_misclassified, self.loss, coef)
        return np.asarray(counts) == 0

    def with_penalty_hessian(self, data_hessian):
        """The objective's exact Hessian from a data-term Hessian
        (:meth:`SecondOrder.data_hessian`, at any point of these rows): a
        new array, the penalty added on its diagonal."""
        H = np.array(data_hessian, dtype=np.float64)
        # The penalty is diagonal: only the rows' own blocks change.
        self.penalty.add_to_diagonal_blocks(self.hessian_row_blocks(H))
        return H

    def hessian_row_blocks(self, H):
        if self.separable:
            return H
        K, p = self.coef_shape
        return [H[k * p : (k + 1) * p, k * p : (k + 1) * p] for k in range(K)]

    def second_order(self, coef):
        self.precision.before_evaluation(self, coef, self.n_features)
        kept = self.rows.keep(_curvature, self.loss, coef, self.precision.dtype)
        return SecondOrder(self, coef, kept)

    def anchor_at(self, coef):
        self._anchors = self.rows.keep(_anchor, self.loss, coef)

    def drop_anchor(self):
        self._anchors = None

    def row_sample(self, step):
        sample = getattr(self.rows, "sample", None)
        rows = None if sample is None else sample(step)
        if rows is None or rows.n_samples == 0:
            return None
        totals = np.asarray(rows.map_sum(_row_weight_totals), dtype=np.float64)
        if not np.all(totals > 0):
            return None
        # Rescaled so that the sample's weights sum to one per output, as
        # the full rows' do (SolverScale): the same objective, estimated.
        rows = rows.scaled_weights(1.0 / totals)
        data_dtype, data_max_abs = self._data
        return PenalizedObjective(
            self.loss,
            rows,
            self.penalty,
            data_dtype,
            self.n_features,
            data_max_abs=data_max_abs,
            density=self.density,
        )

    def fewest_outcome_rows(self):
        in_class, total = self.rows.map_sum(_outcome_counts, self.loss)
        return np.minimum(in_class, total - in_class)

    def rebuild_cost(self):
        # Per output: a Gram of p columns over the sampled rows (or all),
        # against 2 p multiply-adds per row for an evaluation's products.
        p = self.coef_shape[1]
        n = self.rows.n_samples
        rows = gram_sample_size(n, p) or n
        return rows * p / (2.0 * max(n, 1))

    def output_evaluation_cost(self):
        return 2.0 * self.rows.n_samples * self.n_features * self.density

    def hessian_cost(self):
        K, p = self.coef_shape
        n = self.rows.n_samples
        if self.separable:
            return p, n * K * p * p
        return K * p, n * (K * p) ** 2 / 2

    def support_hessian_cost(self, free):
        # Gram multiply-adds per row (the free columns are densified)
        # against an evaluation's two products, 2 K p density per row.
        K, p = self.coef_shape
        counts = np.count_nonzero(free, axis=1)
        if self.separable:
            size, per_row = counts.max(), float(np.sum(counts**2))
        else:
            size = counts.sum()
            per_row = size * (size + 1) / 2.0
        return int(size), per_row / (2.0 * K * p * self.density)


def in_memory_objective(loss, X, targets, weights, l2, triangular=False):
    """The objective of ``loss`` on in-memory data.

    Parameters
    ----------
    loss : MultinomialLoss or BinaryLoss
    X : {ndarray, sparse matrix} of shape (n_samples, n_features)
        float32 or float64, CSR when sparse; kept by reference.
    targets : ndarray
        Class indices (n_samples,) or a 0/1 matrix (n_samples, n_outputs).
    weights : ndarray of shape (n_samples,) or (n_samples, n_outputs) or ()
        Weights at the solver's scale (see :mod:`sksoftmax._penalty`); 0-d
        for equal weights.
    l2 : float or ndarray of shape (n_outputs,)
        Penalty strength per output at the solver's scale.
    triangular : bool, default=False
        Whether dense ``X`` is lower trapezoidal (row ``i`` zero from column
        ``i + 1`` on, as the row space's factor): the products skip each
        block's zero columns.

    Returns
    -------
    objective : PenalizedObjective
    """
    if sp.issparse(X) and X.format != "csr":
        raise TypeError("sparse X must be CSR")
    return penalized_objective(
        loss,
        in_memory_rows(loss, X, targets, weights, triangular=triangular),
        l2,
        X.dtype,
        X.shape[1],
        data_max_abs=_max_abs(X),
        density=X.nnz / max(X.shape[0] * X.shape[1], 1) if sp.issparse(X) else 1.0,
    )


def in_memory_rows(
    loss, X, targets, weights, start=0, row_norms=True, triangular=False
):
    """In-memory rows of ``X`` as the cache-sized blocks ``loss`` is summed
    over (:func:`block_rows`), each a view of ``X``.

    Also the rows of each chunk of a dask fit (:mod:`sksoftmax._dask`), so a
    chunk of any size is evaluated block by block, as in memory.

    Parameters
    ----------
    loss, X, targets, weights
        As for :func:`in_memory_objective`.
    start : int, default=0
        Global index of the first row (see :class:`~sksoftmax._loss.RowBlock`).
    row_norms : bool, default=True
        Give dense blocks their largest row norm where ``loss`` uses it. It
        costs a pass over ``X``, paid once for rows that stay in memory, but
        at every evaluation for rows read again each time (out of core).
    triangular : bool, default=False
        As for :func:`in_memory_objective`.

    Returns
    -------
    rows : InMemoryRows
    """
    weights = np.asarray(weights, dtype=np.float64)
    targets = np.asarray(targets)
    if targets.ndim == 2:
        # Column-major, once: the loss reads a target matrix as (outputs,
        # rows), the scores' layout, at every evaluation (BinaryLoss._layout).
        targets = np.asfortranarray(targets)
    # The score bound costs K (p + 1) operations per evaluation of a block
    # and saves passes over its K x n scores, so it is kept only where a
    # block has more rows than a class has coefficients.
    row_norms = row_norms and loss.uses_row_norms and not sp.issparse(X)

    def block(rows):
        X_rows = row_slice(X, rows)
        norm = None
        if row_norms and X.shape[1] + loss.fit_intercept <= X_rows.shape[0]:
            norm = max_row_norm(X_rows)
        return RowBlock(
            X_rows,
            targets[rows],
            weight_rows(weights, rows),
            start=start + rows.start,
            max_row_norm=norm,
            # Row i of a lower-trapezoidal X is zero from column i + 1 on.
            nonzero_columns=min(rows.stop, X.shape[1]) if triangular else None,
        )

    return InMemoryRows.equal_blocks(block, X.shape[0], block_rows(X, loss.n_outputs))


def penalized_objective(
    loss, rows, l2, data_dtype, n_features, data_max_abs=None, density=1.0
):
    """``loss`` summed by the row source ``rows``, plus the L2 penalty.

    Parameters
    ----------
    loss : MultinomialLoss or BinaryLoss
    rows : RowSource
        :class:`InMemoryRows` or another source of the same blocks.
    l2 : float or ndarray of shape (n_outputs,)
        Penalty strength per output at the solver's scale.
    data_dtype : dtype
        The dtype of ``X``, for the float32 policy.
    n_features : int
    data_max_abs : float, default=None
        ``max|X|`` for float32 ``X`` (the float32 policy's range check).
    density : float, default=1.0
        Fraction of stored entries of sparse ``X``.

    Returns
    -------
    objective : PenalizedObjective
    """
    penalty = L2Penalty(
        np.broadcast_to(np.asarray(l2, dtype=np.float64), (loss.n_outputs,)).copy(),
        n_features,
    )
    return PenalizedObjective(
        loss,
        rows,
        penalty,
        data_dtype,
        n_features,
        data_max_abs=data_max_abs,
        density=density,
    )


@functools.cache
def shared_cache_bytes():
    """Size of the processor's last-level (L3) cache, as Linux reports it
    for CPU 0, or ``DEFAULT_SHARED_CACHE_BYTES`` where it cannot be read."""
    try:
        for index in sorted(os.listdir(CPU_CACHE_DIR)):
            folder = os.path.join(CPU_CACHE_DIR, index)
            with open(os.path.join(folder, "level"), encoding="ascii") as f:
                if f.read().strip() != "3":
                    continue
            with open(os.path.join(folder, "size"), encoding="ascii") as f:
                return _cache_size_bytes(f.read())
    except (OSError, ValueError):
        pass
    return DEFAULT_SHARED_CACHE_BYTES


def _cache_size_bytes(text):
    """Bytes of a sysfs cache size such as ``"491520K"`` or ``"32M"``."""
    text = text.strip().upper()
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    if text and text[-1] in units:
        return int(text[:-1]) * units[text[-1]]
    return int(text)


def block_rows(X, n_outputs):
    """Most rows per in-memory block of ``X``: at most ``BLOCK_ENTRIES``
    work-array entries, dense blocks within ``DENSE_BLOCK_BYTES`` where that
    leaves ``DENSE_MIN_BLOCK_ROWS`` rows (and, for rows too wide for
    ``WIDE_ROW_MIN_BLOCK_ROWS`` of them, X is too large for its
    ``SHARED_CACHE_SHARE`` of the shared cache), and sparse blocks with at
    least ``SPARSE_BLOCK_VALUES_PER_FEATURE`` stored values per feature."""
    rows = max(1, BLOCK_ENTRIES // max(n_outputs, 1))
    n_samples, n_features = X.shape
    if sp.issparse(X):
        if X.nnz:
            per_row = X.nnz / n_samples
            rows = max(rows, SPARSE_BLOCK_VALUES_PER_FEATURE * n_features / per_row)
    else:
        row_bytes = max(n_features * X.dtype.itemsize, 1)
        cached_rows = DENSE_BLOCK_BYTES // row_bytes
        byte_limited = cached_rows >= DENSE_MIN_BLOCK_ROWS
        if byte_limited and cached_rows < WIDE_ROW_MIN_BLOCK_ROWS:
            # Wide rows: the limit pays only where the shared cache cannot
            # hold X.
            byte_limited = X.nbytes > shared_cache_bytes() // SHARED_CACHE_SHARE
        if byte_limited:
            rows = min(rows, cached_rows)
    return int(np.ceil(rows))


def _max_abs(X):
    """``max|X|`` without a temporary the size of ``X`` (float32 ``X`` only:
    the float32 policy's range check; None for other dtypes)."""
    if X.dtype != np.float32:
        return None
    return largest_magnitude(X)
