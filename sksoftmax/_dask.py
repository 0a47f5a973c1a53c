"""Fitting and predicting on Dask collections: a row source over chunks.

The loss-solver contract (:mod:`sksoftmax._objective`) splits an objective
into a stateless loss, a *row source* and the penalty. :class:`DaskRows` is
the row source of a ``dask.array`` whose rows are chunked: each chunk of rows
lives on a worker as the in-memory row source of its rows
(:func:`~sksoftmax._objective.in_memory_rows`: cache-sized
:class:`~sksoftmax._loss.RowBlock` views, as in memory), and

* :meth:`DaskRows.map_sum` sends the function and its small arguments (the
  coefficients, ``O(K p)``) to the chunks, evaluates the loss's own methods
  there and adds the sums where the chunks are. Persisted chunks are
  evaluated in one task per worker thread, each adding up the chunks it
  holds; only those partial sums come back (added in a tree on the workers
  when there are many, as Spark's ``treeAggregate`` does);
* :meth:`DaskRows.keep` evaluates per chunk and leaves the results (float64
  anchors, probabilities for Hessian products) on the worker of their chunk.

The solver runs on the client and is unchanged: it sees a
:class:`~sksoftmax._objective.PenalizedObjective`, as in memory.

X is never gathered. It is checked chunk by chunk where the chunks are
(the same ``check_array`` as in memory, so the same errors) and persisted
once per fit when it fits in the cluster's memory; otherwise every
evaluation reads the chunks again from their source (out of core). The
labels ``y`` and ``sample_weight`` (``n`` values, a ``1/p`` fraction of X)
are gathered once, so target encoding, ``class_weight`` and the weight
normalisation are the in-memory code; the encoded targets then travel back
to the workers, chunked as X.

This module imports dask; :mod:`sksoftmax._base` imports it only when a dask
collection is passed, so dask stays optional.
"""

import dask
import dask.array as da
import numpy as np
import scipy.sparse as sp
from dask.sizeof import sizeof
from sklearn.utils.validation import (
    _check_y,
    check_array,
    check_consistent_length,
    check_is_fitted,
    validate_data,
)

from ._loss import Anchor, Curvature, RowBlock
from ._objective import (
    InMemoryRows,
    _add,
    _max_abs,
    in_memory_rows,
    penalized_objective,
)

__all__ = ["DaskData", "DaskRows", "dask_objective", "predict_chunks"]

# Per-chunk sums are added in a tree with this fan-in: the client receives
# one (K, p) total per evaluation, whatever the number of chunks, and no
# worker adds up more than this many partial results.
TREE_FAN_IN = 8

# Every task of an evaluation costs the scheduler, a worker and the client a
# round of messages (on the benchmark machine's LocalCluster, 2 workers with
# one thread each: about 10 ms for one task that does nothing, 25 ms for
# eight). Persisted chunks therefore run in one task per worker thread, each
# adding up the chunks that live on that worker, instead of one task per
# chunk and a tree over them: fits of 200,000 x 50 with 10 classes in 8
# chunks 1.15-1.25x faster (medians of 6, interleaved), with the same
# evaluations. At most this many partial sums come back to the client;
# more are first added in a tree on the workers.
CLIENT_SUM_MAX_PARTS = TREE_FAN_IN

# Arguments at least this large (the coefficients of a wide, many-class
# model) are scattered to every worker once per call instead of travelling
# inside each chunk's task; smaller ones cost less embedded in the task than
# the extra round trip of a scatter.
SCATTER_MIN_BYTES = 1 << 20

# X is persisted in the workers' memory when it takes at most this fraction
# of their total memory limit: the rest holds the per-chunk work arrays
# (about K / p of X per evaluation) and the kept probabilities, below
# distributed's default spill threshold of 60%. Larger X is read again from
# its source by every evaluation (out of core).
PERSIST_MEMORY_FRACTION = 0.5

# dask configuration key: True or False forces X to be persisted or not;
# "auto" (the default) decides by PERSIST_MEMORY_FRACTION.
PERSIST_CONFIG_KEY = "sksoftmax.persist"

# The dtypes X is used in, as in memory (sksoftmax._base.FLOAT_DTYPES).
FLOAT_DTYPES = (np.float64, np.float32)


# distributed's memory manager decides what to spill by the sizes dask
# reports; without these, a chunk's rows would count as a few bytes.
@sizeof.register(InMemoryRows)
def _sizeof_in_memory_rows(rows):
    # The blocks are views of the chunk: their sizes add up to its size.
    return sum(sizeof(block) for block in rows.blocks)


@sizeof.register(RowBlock)
def _sizeof_row_block(block):
    return sizeof(block.X) + sizeof(block.targets) + sizeof(block.weights)


@sizeof.register(Curvature)
def _sizeof_curvature(curvature):
    return sizeof(curvature.proba) + sizeof(curvature.weights)


@sizeof.register(Anchor)
def _sizeof_anchor(anchor):
    return sizeof(anchor.proba) + sizeof(anchor.data) + sizeof(anchor.coef)


@sizeof.register(sp.spmatrix)
def _sizeof_sparse(matrix):
    if matrix.format in ("csr", "csc"):
        return matrix.data.nbytes + matrix.indices.nbytes + matrix.indptr.nbytes
    return 64 * matrix.nnz


def active_client():
    """The current ``distributed.Client``, or None (no distributed, or no
    client: dask's local scheduler runs the tasks)."""
    try:
        from distributed import default_client
    except ImportError:
        return None
    try:
        return default_client()
    except ValueError:
        return None


# -- tasks (module-level: they pickle by reference) --------------------------------


def _checked_chunk(chunk, estimator_name):
    """One chunk of X through the in-memory validation: float32 or float64,
    CSR when sparse, finite; the errors are those of an in-memory fit."""
    return check_array(
        chunk,
        accept_sparse="csr",
        dtype=FLOAT_DTYPES,
        input_name="X",
        estimator=estimator_name,
    )


def _checked_max_abs(chunk, estimator_name):
    return _max_abs(_checked_chunk(chunk, estimator_name))


def _chunk_rows(loss, chunk, targets, weights, start):
    return in_memory_rows(loss, chunk, targets, weights, start)


def _checked_chunk_rows(loss, chunk, targets, weights, start, estimator_name):
    # Rebuilt from the source at every evaluation: no row norms, which would
    # cost one more pass over the chunk each time (see in_memory_rows).
    checked = _checked_chunk(chunk, estimator_name)
    return in_memory_rows(loss, checked, targets, weights, start, row_norms=False)


def _apply_group(function, n_chunks, *values):
    """``map_sum`` over the rows of the chunks of one task, added in chunk
    order.

    ``values`` are the chunks' rows, then their kept items, then the
    arguments: top-level arguments, because dask wraps a dependency nested
    in a list in a task of its own.
    """
    rows, kept = values[:n_chunks], values[n_chunks : 2 * n_chunks]
    args = values[2 * n_chunks :]
    total = None
    for chunk, item in zip(rows, kept, strict=True):
        total = _add(total, chunk.map_sum(function, *args, kept=item))
    return total


def _apply_keep(function, rows, *args):
    return rows.keep(function, *args)


def _sum_parts(*parts):
    total = None
    for part in parts:
        total = _add(total, part)
    return total


def _tree_sum(parts):
    """A tree of ``_sum_parts`` tasks over delayed partial sums."""
    while len(parts) > 1:
        parts = [
            dask.delayed(_sum_parts, pure=False)(*parts[start : start + TREE_FAN_IN])
            for start in range(0, len(parts), TREE_FAN_IN)
        ]
    return parts[0]


def _worker_groups(client, blocks):
    """Indices of ``blocks`` per task: the persisted blocks each worker
    holds, split into one run of consecutive chunks per worker thread; None
    when the blocks are not all persisted on a distributed cluster (lazy
    blocks are computed wherever the scheduler chooses)."""
    if client is None:
        return None
    from distributed import futures_of, wait

    futures = [futures_of(block) for block in blocks]
    if not all(len(future) == 1 for future in futures):
        return None
    futures = [future[0] for future in futures]
    wait(futures)
    holders = client.who_has(futures)
    threads = client.nthreads()
    by_worker = {}
    for index, future in enumerate(futures):
        workers = sorted(holders.get(future.key, ()))
        if not workers:
            return None  # lost meanwhile: let the scheduler recompute it
        by_worker.setdefault(workers[0], []).append(index)
    groups = []
    for worker, indices in by_worker.items():
        n_groups = max(1, min(threads.get(worker, 1), len(indices)))
        groups += [part.tolist() for part in np.array_split(indices, n_groups)]
    # Partial sums are added in the order of their first chunk.
    return sorted(groups)


def _errors_first(collection):
    """Raise the first error of an asynchronously persisted collection, so a
    bad chunk fails the fit here, with its own message."""
    try:
        from distributed import futures_of, wait
    except ImportError:
        return
    futures = futures_of(collection)
    if not futures:
        return
    wait(futures)
    for future in futures:
        if future.status == "error":
            future.result()


# -- the row source ---------------------------------------------------------------


class DaskRows:
    """Row source over the chunks of a dask array (see :mod:`._objective`).

    Parameters
    ----------
    blocks : list of dask.delayed.Delayed
        The rows of each chunk, an :class:`~sksoftmax._objective.InMemoryRows`
        of cache-sized blocks (:func:`~sksoftmax._objective.in_memory_rows`),
        persisted (on the workers, or in local memory without a distributed
        client) or lazy (recomputed from the source at every call).
    n_samples : int
        Total number of rows.
    client : distributed.Client or None
        Used to scatter large arguments; tasks run on dask's current
        scheduler.

    Examples
    --------
    >>> import dask.array as da
    >>> import numpy as np
    >>> from sksoftmax._dask import dask_objective
    >>> from sksoftmax._loss import MultinomialLoss
    >>> X = da.from_array(np.eye(4), chunks=(2, 4))
    >>> objective = dask_objective(
    ...     MultinomialLoss(2, True), X, np.array([0, 1, 0, 1]), 0.25, 1.0
    ... )
    >>> values, grad = objective.value_gradient(np.zeros((2, 5)))
    >>> round(float(values[0]), 6)  # log(2): every class equally likely
    0.693147
    """

    def __init__(self, blocks, n_samples, client=None):
        self.blocks = list(blocks)
        self.n_samples = n_samples
        self.client = client
        self._groups = None

    @property
    def n_blocks(self):
        return len(self.blocks)

    def _send(self, args):
        """Scatter large array arguments to every worker once (see
        SCATTER_MIN_BYTES); the rest travel inside the tasks."""
        if self.client is None:
            return args
        return tuple(
            self.client.scatter(arg, broadcast=True, hash=False)
            if isinstance(arg, np.ndarray) and arg.nbytes >= SCATTER_MIN_BYTES
            else arg
            for arg in args
        )

    def map_sum(self, function, *args, kept=None):
        """Sum over the chunks' blocks of ``function(block, kept_item,
        *args)``, computed where the chunks are; ``kept`` comes from
        :meth:`keep`."""
        args = self._send(args)
        items = [None] * self.n_blocks if kept is None else kept
        if self._groups is None:
            # Once per fit: persisted chunks stay on their workers.
            self._groups = _worker_groups(self.client, self.blocks) or False
        # Without worker groups, one task per chunk and a tree sum.
        groups = self._groups or [[index] for index in range(self.n_blocks)]
        task = dask.delayed(_apply_group, pure=False)
        parts = [
            task(
                function,
                len(group),
                *[self.blocks[i] for i in group],
                *[items[i] for i in group],
                *args,
            )
            for group in groups
        ]
        if not self._groups or len(parts) > CLIENT_SUM_MAX_PARTS:
            (total,) = dask.compute(_tree_sum(parts))
            return total
        return _sum_parts(*dask.compute(*parts))

    def keep(self, function, *args):
        """Per-block ``function(block, *args)``, persisted next to the
        chunks (a list per chunk); returns the list of persisted results
        for :meth:`map_sum`."""
        args = self._send(args)
        task = dask.delayed(_apply_keep, pure=False)
        return list(
            dask.persist(*[task(function, block, *args) for block in self.blocks])
        )


# -- validated dask input -----------------------------------------------------------


def _as_dask_array(X):
    """A dask array with known chunk sizes from a dask array or DataFrame."""
    if not isinstance(X, da.Array):
        if not hasattr(X, "to_dask_array"):
            raise TypeError(
                f"Expected a dask array or dask DataFrame, got {type(X).__name__}."
            )
        X = X.to_dask_array(lengths=True)
    if any(np.isnan(size) for size in X.shape):
        # A dask array built from a DataFrame without lengths.
        X = X.compute_chunk_sizes()
    return X


def _feature_view(X):
    """What scikit-learn's feature checks see of X: a dask DataFrame's empty
    pandas ``_meta`` (same columns; scikit-learn reads names from pandas
    objects only), a dask array itself."""
    return X if isinstance(X, da.Array) else getattr(X, "_meta", X)


def _gather(data):
    """The values of a dask collection (numpy or pandas), or ``data``."""
    if hasattr(data, "__dask_graph__"):
        (data,) = dask.compute(data)
    return data


def _should_persist(nbytes, client):
    """Whether X of ``nbytes`` is persisted (see PERSIST_MEMORY_FRACTION)."""
    setting = dask.config.get(PERSIST_CONFIG_KEY, "auto")
    if setting != "auto":
        return bool(setting)
    if client is None:
        # dask's local scheduler: persisting would load X into this process.
        return False
    limits = [
        worker.get("memory_limit") or 0
        for worker in client.scheduler_info()["workers"].values()
    ]
    if not limits or min(limits) == 0:
        return True  # workers without a memory limit
    return nbytes is None or nbytes <= PERSIST_MEMORY_FRACTION * sum(limits)


class DaskData:
    """X of a dask fit, validated chunk by chunk and never gathered.

    Created by :func:`validate_fit_input`; :func:`dask_objective` builds the
    row source from it.

    Attributes
    ----------
    chunks : list of dask.delayed.Delayed
        One chunk of rows each (a single chunk of columns); checked and
        persisted when ``persisted``, otherwise lazy and checked by every
        evaluation.
    shape : tuple of int
    dtype : dtype
        float32 or float64: the dtype the chunks are used in.
    persisted : bool
    estimator_name : str
    client : distributed.Client or None
    """

    def __init__(self, X, estimator_name, client):
        X = _as_dask_array(X)
        if X.ndim != 2:
            raise ValueError(
                f"Expected a 2-D dask array X, got {X.ndim}-D with shape "
                f"{X.shape}. Reshape your data, e.g. with X.reshape(-1, 1) "
                "for a single feature."
            )
        if X.numblocks[1] > 1:
            # Each task needs whole rows: one chunk of columns.
            X = X.rechunk({1: -1})
        self.shape = tuple(int(size) for size in X.shape)
        self.dtype = np.dtype(np.float32 if X.dtype == np.float32 else np.float64)
        self.estimator_name = estimator_name
        self.client = client
        if self.shape[0] == 0 or self.shape[1] == 0:
            # The in-memory error for an empty X.
            _checked_chunk(np.empty(self.shape), estimator_name)
        sparse = sp.issparse(getattr(X, "_meta", None))
        nbytes = None if sparse else self.shape[0] * self.shape[1] * self.dtype.itemsize
        self.persisted = _should_persist(nbytes, client)
        # Empty chunks (from filtered DataFrames) have no rows to add.
        delayed_chunks = X.to_delayed()[:, 0]
        self.row_counts = [size for size in X.chunks[0] if size > 0]
        chunks = [
            chunk
            for chunk, size in zip(delayed_chunks, X.chunks[0], strict=True)
            if size > 0
        ]
        if self.persisted:
            task = dask.delayed(_checked_chunk, pure=True)
            self.chunks = list(
                dask.persist(*[task(chunk, estimator_name) for chunk in chunks])
            )
        else:
            self.chunks = chunks

    def check(self):
        """Raise the in-memory error of the first chunk that fails the
        checks (persisted X; lazy chunks are checked at every evaluation)."""
        if self.persisted:
            _errors_first(self.chunks)

    def max_abs(self):
        """``max|X|`` for float32 X (the float32 policy's range check, as in
        memory), one number per chunk; None for float64 X."""
        if self.dtype != np.float32:
            return None
        # Lazy chunks are checked again here: one extra pass over X.
        task = dask.delayed(_max_abs if self.persisted else _checked_max_abs)
        args = () if self.persisted else (self.estimator_name,)
        per_chunk = dask.compute(*[task(chunk, *args) for chunk in self.chunks])
        return max(per_chunk, default=0.0)

    def release(self):
        """Drop the references to the chunks (the row blocks keep them)."""
        self.chunks = None


def validate_fit_input(estimator, X, y, sample_weight):
    """Validate a dask fit's input as :func:`validate_data` does in memory.

    X is checked chunk by chunk on the workers (persisted, when it fits
    there, while ``y`` is gathered); ``y`` and ``sample_weight`` are
    gathered and checked by scikit-learn's own functions.

    Returns
    -------
    X : DaskData
    y : ndarray
    sample_weight : ndarray or None
    """
    # n_features_in_ and feature_names_in_ (a dask DataFrame has columns).
    validate_data(estimator, _feature_view(X), skip_check_array=True)
    client = active_client()
    data = DaskData(X, type(estimator).__name__, client)
    y, sample_weight = _gather(y), _gather(sample_weight)
    data.check()
    y = _check_y(y, multi_output=estimator._multi_output, estimator=estimator)
    # Only the length of X matters here; a 0-column stand-in costs nothing.
    check_consistent_length(np.empty((data.shape[0], 0)), y)
    return data, y, sample_weight


def dask_objective(loss, X, targets, weights, l2):
    """The objective of ``loss`` on the chunks of a dask array.

    The counterpart of :func:`~sksoftmax._objective.in_memory_objective`,
    with the same arguments, except ``X``.

    Parameters
    ----------
    loss : MultinomialLoss or BinaryLoss
    X : DaskData or dask.array.Array
        Validated by :func:`validate_fit_input`, or a dask array of float32
        or float64 values (validated here).
    targets : ndarray
        Class indices (n_samples,) or a 0/1 matrix (n_samples, n_outputs),
        in memory; split like X's chunks and sent to their workers.
    weights : ndarray of shape (n_samples,) or (n_samples, n_outputs) or ()
        Weights at the solver's scale; 0-d for equal weights.
    l2 : float or ndarray of shape (n_outputs,)
        Penalty strength per output at the solver's scale.

    Returns
    -------
    objective : PenalizedObjective
        With a :class:`DaskRows` row source.
    """
    if not isinstance(X, DaskData):
        X = DaskData(X, "dask_objective", active_client())
        X.check()
    data_max_abs = X.max_abs()
    weights = np.asarray(weights, dtype=np.float64)
    targets = np.asarray(targets)
    if (
        targets.shape[0] != X.shape[0]
        or weights.ndim
        and weights.shape[0] != X.shape[0]
    ):
        raise ValueError(
            f"targets and weights must have {X.shape[0]} rows, like X; got "
            f"{targets.shape[0]} and {weights.shape[0] if weights.ndim else 'scalar'}."
        )
    bounds = np.cumsum([0, *X.row_counts])
    slices = [
        slice(start, stop) for start, stop in zip(bounds[:-1], bounds[1:], strict=True)
    ]
    # The targets and weights of each chunk travel inside its task, once per
    # fit: the scheduler then holds everything needed to rebuild a chunk lost
    # with its worker (scattered data would be lost with it).
    chunk_targets = [targets[rows] for rows in slices]
    if weights.ndim == 0:
        chunk_weights = [weights] * len(slices)
    else:
        chunk_weights = [weights[rows] for rows in slices]
    if X.persisted:
        task = dask.delayed(_chunk_rows, pure=False)
        blocks = dask.persist(
            *[
                task(loss, chunk, t, w, rows.start)
                for chunk, t, w, rows in zip(
                    X.chunks, chunk_targets, chunk_weights, slices, strict=True
                )
            ]
        )
    else:
        task = dask.delayed(_checked_chunk_rows, pure=False)
        blocks = [
            task(loss, chunk, t, w, rows.start, X.estimator_name)
            for chunk, t, w, rows in zip(
                X.chunks, chunk_targets, chunk_weights, slices, strict=True
            )
        ]
        # The blocks hold the chunks now; the scheduler keeps their lineage
        # to recompute a chunk lost with its worker.
        X.release()
    rows = DaskRows(blocks, X.shape[0], X.client)
    return penalized_objective(
        loss, rows, l2, X.dtype, X.shape[1], data_max_abs=data_max_abs
    )


# -- predictions --------------------------------------------------------------------


def _predict_chunk(chunk, estimator, method_name, feature_names):
    if feature_names is not None and not sp.issparse(chunk):
        # The chunk of a DataFrame, with its column names again, so the
        # estimator does not warn about missing feature names per chunk.
        import pandas as pd

        chunk = pd.DataFrame(chunk, columns=feature_names)
    return getattr(estimator, method_name)(chunk)


def predict_chunks(estimator, method_name, X):
    """``estimator.<method_name>`` applied lazily to each chunk of rows of X.

    Parameters
    ----------
    estimator : fitted estimator
    method_name : str
        ``"predict"``, ``"predict_proba"``, ``"predict_log_proba"`` or
        ``"decision_function"``.
    X : dask.array.Array or dask DataFrame

    Returns
    -------
    result : dask.array.Array
        One chunk per chunk of rows of X; nothing is computed.
    """
    check_is_fitted(estimator)
    validate_data(estimator, _feature_view(X), skip_check_array=True, reset=False)
    # Any warning about feature names was given once, just above; chunks get
    # the fitted names so that they do not repeat it per chunk.
    feature_names = getattr(estimator, "feature_names_in_", None)
    if not isinstance(X, da.Array):
        if not hasattr(X, "to_dask_array"):
            raise TypeError(
                f"Expected a dask array or dask DataFrame, got {type(X).__name__}."
            )
        X = X.to_dask_array()
    if X.ndim != 2:
        raise ValueError(f"Expected a 2-D dask array X, got {X.ndim}-D.")
    if X.numblocks[1] > 1:
        X = X.rechunk({1: -1})
    # The output's dtype and columns, from the estimator on one row.
    example = np.zeros((1, X.shape[1]))
    meta = _predict_chunk(example, estimator, method_name, feature_names)[:0]
    common = dict(
        estimator=estimator,
        method_name=method_name,
        feature_names=feature_names,
        dtype=meta.dtype,
        meta=meta,
    )
    if meta.ndim == 1:
        return X.map_blocks(_predict_chunk, drop_axis=1, **common)
    return X.map_blocks(_predict_chunk, chunks=(X.chunks[0], meta.shape[1:]), **common)
