"""Fits on dask collections equal the in-memory fits (:mod:`sksoftmax._dask`).

One ``distributed.LocalCluster`` (2 worker processes, one thread each) serves
the whole module; the data are small, so each fit takes about a second and
the module well under a minute.
"""

import os
import pickle
import signal

import numpy as np
import pytest
import scipy.sparse as sp

from sksoftmax import OneVsRestLogistic, SoftmaxRegression
from sksoftmax.datasets import make_music_genres, make_music_tags

# dask is optional. Any ImportError skips (not only a missing module: a dask
# too old or too new for the installed numpy or pandas raises ImportError
# too, which pytest.importorskip lets through since pytest 8.2).
try:
    import dask
    import dask.array as da
    import distributed
    from dask.sizeof import sizeof

    from sksoftmax import _objective
    from sksoftmax._dask import DaskData, DaskRows, dask_objective
    from sksoftmax._loss import MultinomialLoss
except ImportError as error:
    pytest.skip(f"dask is not usable: {error}", allow_module_level=True)

# The promise: the same iterations up to summation order.
RTOL = 1e-8
TOL = 1e-8
N_SAMPLES = 1200

PREDICTIONS = ["predict", "predict_proba", "predict_log_proba", "decision_function"]


@pytest.fixture(scope="module")
def client():
    """A 2-process LocalCluster for the module, shut down after it."""
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


@pytest.fixture(scope="module")
def genres():
    X, y = make_music_genres(N_SAMPLES, random_state=0, return_X_y=True)
    return X, y


@pytest.fixture(scope="module")
def tags():
    X, Y = make_music_tags(N_SAMPLES, random_state=1, return_X_y=True)
    return X, Y


def assert_same_model(fitted, reference):
    scale = np.abs(reference.coef_).max()
    np.testing.assert_allclose(
        fitted.coef_, reference.coef_, rtol=RTOL, atol=RTOL * scale
    )
    np.testing.assert_allclose(
        fitted.intercept_, reference.intercept_, rtol=RTOL, atol=RTOL * scale
    )
    np.testing.assert_array_equal(fitted.classes_, reference.classes_)


def sorted_by_label(X, y):
    """Rows sorted by class, so the first chunks hold a single class."""
    order = np.argsort(y, kind="stable")
    return X[order], y[order]


CHUNKINGS = {
    "even": 300,
    "uneven": (17, 500, 83, 600),
    "one": -1,
}


@pytest.mark.parametrize("chunks", list(CHUNKINGS.values()), ids=list(CHUNKINGS))
def test_softmax_equals_in_memory(client, genres, chunks):
    X, y = genres
    reference = SoftmaxRegression(tol=TOL).fit(X, y)
    Xd = da.from_array(X, chunks=(chunks, -1))
    fitted = SoftmaxRegression(tol=TOL).fit(Xd, da.from_array(y, chunks=chunks))
    assert_same_model(fitted, reference)
    assert fitted.n_features_in_ == X.shape[1]


def test_chunk_with_a_single_class(client, genres):
    X, y = sorted_by_label(*genres)
    first = np.flatnonzero(y != y[0])[0]
    chunks = (first, X.shape[0] - first)  # the first chunk: one class only
    reference = SoftmaxRegression(tol=TOL, class_weight="balanced").fit(X, y)
    fitted = SoftmaxRegression(tol=TOL, class_weight="balanced").fit(
        da.from_array(X, chunks=(chunks, -1)), da.from_array(y, chunks=chunks)
    )
    assert_same_model(fitted, reference)


def test_softmax_weights_binary_and_float32(client, genres):
    X, y = genres
    X = X.astype(np.float32)
    y = np.where(y == y[0], "first", "other")
    weights = np.random.default_rng(0).uniform(0.1, 3.0, size=y.shape[0])
    params = dict(tol=TOL, class_weight={"first": 2.0, "other": 0.5})
    reference = SoftmaxRegression(**params).fit(X, y, sample_weight=weights)
    fitted = SoftmaxRegression(**params).fit(
        da.from_array(X, chunks=(250, -1)),
        da.from_array(y, chunks=250),
        sample_weight=da.from_array(weights, chunks=400),
    )
    assert_same_model(fitted, reference)
    assert fitted.coef_.shape == (1, X.shape[1])


def test_ovr_indicator_balanced_and_weighted(client, tags):
    X, Y = tags
    weights = np.random.default_rng(1).uniform(0.5, 2.0, size=Y.shape[0])
    reference = OneVsRestLogistic(tol=TOL, class_weight="balanced").fit(
        X, Y, sample_weight=weights
    )
    fitted = OneVsRestLogistic(tol=TOL, class_weight="balanced").fit(
        da.from_array(X, chunks=((100, 700, 400), -1)),
        da.from_array(Y, chunks=(500, -1)),
        sample_weight=weights,
    )
    assert_same_model(fitted, reference)
    np.testing.assert_array_equal(fitted.n_iter_ > 0, reference.n_iter_ > 0)


def test_ovr_labels_and_sparse_chunks(client, genres):
    X, y = genres
    reference = OneVsRestLogistic(tol=TOL).fit(sp.csr_matrix(X), y)
    Xd = da.from_array(X, chunks=(400, -1)).map_blocks(sp.csr_matrix)
    fitted = OneVsRestLogistic(tol=TOL).fit(Xd, da.from_array(y, chunks=400))
    assert_same_model(fitted, reference)


@pytest.mark.parametrize("persist", [True, False], ids=["persisted", "out-of-core"])
def test_chunks_are_summed_in_cache_sized_blocks(monkeypatch, persist):
    """A chunk larger than an in-memory block is evaluated block by block,
    as in memory: the blocks of :func:`in_memory_rows` (views of the chunk,
    numbered by their global rows), row norms only where the chunk stays in
    memory, and the in-memory objective's values."""
    # 4 classes: 128 rows per block (dask's synchronous scheduler runs the
    # tasks in this process, which sees the patched constant).
    monkeypatch.setattr(_objective, "BLOCK_ENTRIES", 512)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((1000, 6))
    y = rng.integers(4, size=1000)
    loss, weights, l2 = MultinomialLoss(4, True), np.asarray(1e-3), 0.1
    coef = rng.standard_normal((4, 7))
    config = {"scheduler": "sync", "sksoftmax.persist": persist}
    with dask.config.set(config):
        data = DaskData(da.from_array(X, chunks=((600, 400), -1)), "test", None)
        objective = dask_objective(loss, data, y, weights, l2)
        rows = dask.compute(*objective.rows.blocks)
        values, grad = objective.value_gradient(coef)
    assert [chunk.n_blocks for chunk in rows] == [5, 4]  # 600 / 120, 400 / 100
    blocks = [block for chunk in rows for block in chunk.blocks]
    starts = np.cumsum([0] + [block.n_rows for block in blocks])
    np.testing.assert_array_equal([block.start for block in blocks], starts[:-1])
    assert starts[-1] == X.shape[0]
    assert all((block.max_row_norm is not None) == persist for block in blocks)
    expected = _objective.in_memory_objective(loss, X, y, weights, l2)
    expected_values, expected_grad = expected.value_gradient(coef)
    np.testing.assert_allclose(values, expected_values, rtol=1e-13)
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-12, atol=1e-15)
    # dask's memory accounting sees the chunk's bytes, not a few per block.
    assert X[:600].nbytes <= sizeof(rows[0]) <= X[:600].nbytes + 20_000


def test_persisted_chunks_run_one_task_per_worker_thread(client, genres):
    """Persisted chunks are evaluated in one task per worker thread (one
    each here), over the chunks that worker holds; the sums are the
    per-chunk tasks' and the in-memory objective's."""
    from distributed import futures_of

    X, labels = genres
    _, y = np.unique(labels, return_inverse=True)
    loss, weights, l2 = MultinomialLoss(int(y.max()) + 1, True), np.asarray(1e-3), 0.1
    coef = np.random.default_rng(0).standard_normal((loss.n_outputs, X.shape[1] + 1))
    objective = dask_objective(loss, da.from_array(X, chunks=(150, -1)), y, weights, l2)
    values, grad = objective.value_gradient(coef)
    groups = objective.rows._groups
    assert len(groups) == len(client.nthreads()) == 2
    assert sorted(i for group in groups for i in group) == list(range(8))
    for group in groups:
        futures = [futures_of(objective.rows.blocks[i])[0] for i in group]
        holders = client.who_has(futures)
        assert len({holders[future.key][0] for future in futures}) == 1
    expected = _objective.in_memory_objective(loss, X, y, weights, l2)
    expected_values, expected_grad = expected.value_gradient(coef)
    np.testing.assert_allclose(values, expected_values, rtol=1e-13)
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-12, atol=1e-15)
    objective.rows._groups = False  # one task per chunk, and a tree
    chunk_values, chunk_grad = objective.value_gradient(coef)
    np.testing.assert_allclose(values, chunk_values, rtol=1e-13)
    np.testing.assert_allclose(grad, chunk_grad, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("Estimator", [SoftmaxRegression, OneVsRestLogistic])
def test_tall_dask_fit_starts_from_zero_and_meets_tol(client, monkeypatch, Estimator):
    """An in-memory fit of tall data starts from every 10th row (here with
    its cost threshold lifted for test-sized data); a fit over chunks does
    not (on a cluster each evaluation of the sample pays a full round trip),
    takes the plain start's iterations, and meets the same tol."""
    from sklearn.datasets import make_classification

    from sksoftmax import _solver

    monkeypatch.setattr(_solver, "SAMPLE_START_MIN_MULTIPLY_ADDS", 0)
    X, y = make_classification(
        n_samples=5000,
        n_features=4,
        n_informative=3,
        n_redundant=0,
        n_classes=3,
        n_clusters_per_class=1,
        random_state=0,
    )
    sampled = Estimator(tol=TOL).fit(X, y)
    assert sampled._solver_result.n_sample_evaluations > 0
    fitted = Estimator(tol=TOL).fit(da.from_array(X, chunks=(697, -1)), y)
    result = fitted._solver_result
    assert result.n_sample_evaluations == 0 and result.converged.all()
    monkeypatch.setattr(_solver, "SAMPLE_START_MIN_MULTIPLY_ADDS", np.inf)
    assert_same_model(fitted, Estimator(tol=TOL).fit(X, y))


def test_lazy_chunks_are_not_grouped(client, genres):
    """Chunks read again at every evaluation (out of core) have no home
    worker: one task per chunk, wherever the scheduler puts it."""
    X, labels = genres
    _, y = np.unique(labels, return_inverse=True)
    loss = MultinomialLoss(int(y.max()) + 1, True)
    with dask.config.set({"sksoftmax.persist": False}):
        objective = dask_objective(
            loss, da.from_array(X, chunks=(300, -1)), y, np.asarray(1e-3), 0.1
        )
    objective.value_gradient(np.zeros((loss.n_outputs, X.shape[1] + 1)))
    assert objective.rows._groups is False


def test_out_of_core_mode_gives_the_same_model(client, genres):
    """X read again from its source by every evaluation (not persisted)."""
    X, y = genres
    reference = SoftmaxRegression(tol=TOL).fit(X, y)
    with dask.config.set({"sksoftmax.persist": False}):
        fitted = SoftmaxRegression(tol=TOL).fit(
            da.from_array(X, chunks=(500, -1)), da.from_array(y, chunks=500)
        )
    assert_same_model(fitted, reference)


def test_dataframe_input(client, genres):
    try:
        import dask.dataframe as dd
        import pandas as pd
    except ImportError as error:  # dask's DataFrames need pandas 2 and pyarrow
        pytest.skip(f"dask.dataframe is not usable: {error}")
    X, y = genres
    columns = [f"f{j}" for j in range(X.shape[1])]
    frame = pd.DataFrame(X, columns=columns)
    reference = SoftmaxRegression(tol=TOL).fit(frame, y)
    X_dd = dd.from_pandas(frame, npartitions=3)
    y_dd = dd.from_pandas(pd.Series(y), npartitions=3)
    fitted = SoftmaxRegression(tol=TOL).fit(X_dd, y_dd)
    assert_same_model(fitted, reference)
    np.testing.assert_array_equal(fitted.feature_names_in_, columns)
    proba = fitted.predict_proba(X_dd)
    assert isinstance(proba, da.Array)
    np.testing.assert_allclose(proba.compute(), reference.predict_proba(frame))


@pytest.mark.parametrize("estimator", ["softmax", "ovr"])
def test_predictions_are_lazy_and_chunkwise(client, genres, tags, estimator):
    if estimator == "softmax":
        X, y = genres
        model = SoftmaxRegression().fit(X, y)
    else:
        X, y = tags
        model = OneVsRestLogistic().fit(X, y)
    Xd = da.from_array(X, chunks=(500, -1))
    for method in PREDICTIONS:
        lazy = getattr(model, method)(Xd)
        assert isinstance(lazy, da.Array), method
        assert lazy.chunks[0] == Xd.chunks[0], method
        expected = getattr(model, method)(X)
        assert lazy.shape == expected.shape and lazy.dtype == expected.dtype
        np.testing.assert_allclose(lazy.compute(), expected, rtol=1e-12, atol=1e-12)


def test_fitted_model_is_ordinary_and_picklable(client, genres):
    X, y = genres
    fitted = SoftmaxRegression().fit(da.from_array(X, chunks=(400, -1)), y)
    restored = pickle.loads(pickle.dumps(fitted))
    assert "dask" not in pickle.dumps(fitted).decode("latin-1")
    np.testing.assert_array_equal(restored.predict(X), fitted.predict(X))
    assert isinstance(restored.predict_proba(X), np.ndarray)


def test_nan_chunk_gives_the_in_memory_error(client, genres):
    X, y = genres
    X = X.copy()
    X[900, 2] = np.nan  # in the last of three chunks
    with pytest.raises(ValueError) as in_memory:
        SoftmaxRegression().fit(X, y)
    with pytest.raises(ValueError) as on_dask:
        SoftmaxRegression().fit(da.from_array(X, chunks=(400, -1)), y)
    assert str(on_dask.value) == str(in_memory.value)
    assert "NaN" in str(on_dask.value)
    # The client and the cluster are still usable.
    assert client.submit(sum, [1, 2]).result() == 3
    fitted = SoftmaxRegression().fit(da.from_array(X[:800], chunks=(400, -1)), y[:800])
    assert fitted.coef_.shape[1] == X.shape[1]


def test_validation_matches_in_memory(client, genres):
    X, y = genres
    Xd = da.from_array(X, chunks=(400, -1))
    cases = [
        (Xd, y[:-1], {}),  # inconsistent lengths
        (Xd, np.zeros_like(y), {}),  # a single class
        (Xd, y, {"sample_weight": -np.ones(y.shape[0])}),
    ]
    for X_case, y_case, kwargs in cases:
        with pytest.raises(ValueError) as in_memory:
            SoftmaxRegression().fit(X, y_case, **kwargs)
        with pytest.raises(ValueError) as on_dask:
            SoftmaxRegression().fit(X_case, y_case, **kwargs)
        assert str(on_dask.value) == str(in_memory.value)
    with pytest.raises(ValueError, match="2-D"):
        SoftmaxRegression().fit(da.from_array(X[:, 0], chunks=400), y)


def test_worker_killed_mid_fit_does_not_change_the_fit(client, genres, monkeypatch):
    """A worker process killed during the fit: dask recomputes its chunks
    from their lineage and the fit ends with the in-memory result."""
    X, y = genres
    Xd = da.from_array(X, chunks=(300, -1))
    reference = SoftmaxRegression(tol=TOL).fit(X, y)

    calls = []
    original = DaskRows.map_sum

    def map_sum_then_kill(self, *args, **kwargs):
        calls.append(None)
        if len(calls) == 5:
            pid = next(iter(client.run(os.getpid).values()))
            os.kill(pid, signal.SIGKILL)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(DaskRows, "map_sum", map_sum_then_kill)
    fitted = SoftmaxRegression(tol=TOL).fit(Xd, y)
    assert len(calls) > 5
    # A recomputed chunk may round its products differently (new memory,
    # other BLAS paths): equal up to summation order, as any dask fit.
    assert_same_model(fitted, reference)
    client.wait_for_workers(2, timeout=60)


@pytest.mark.parametrize("Estimator", [SoftmaxRegression, OneVsRestLogistic])
def test_newton_cg_phase_on_chunks_equals_in_memory(
    client, genres, force_newton_cg, monkeypatch, Estimator
):
    """The truncated Newton phase (normally from 1e5 coefficients on) reads
    Hessian-vector products through the same contract: forced onto this
    small problem, the fit over chunks is the in-memory fit."""
    solver = force_newton_cg
    steps = []
    original = solver.LBFGSSolver.newton_cg

    def counting(self, budget):
        steps.append(self.n_iter)
        return original(self, budget)

    monkeypatch.setattr(solver.LBFGSSolver, "newton_cg", counting)
    X, y = genres
    reference = Estimator(C=10.0, tol=TOL).fit(X, y)
    assert steps, "the Newton phase never ran"
    Xd = da.from_array(X, chunks=(300, -1))
    fitted = Estimator(C=10.0, tol=TOL).fit(Xd, da.from_array(y, chunks=300))
    assert len(steps) == 2
    assert_same_model(fitted, reference)
