"""The loss-solver contract (sksoftmax._objective): row blocks add up, the
second-order pieces agree with each other, the projection is exact."""

import numpy as np
import pytest
import scipy.sparse as sp

import sksoftmax._objective as objective_module
from sksoftmax._loss import BinaryLoss, MultinomialLoss
from sksoftmax._objective import in_memory_objective


def _objective(kind, sparse=False, dtype=np.float64, seed=0, n=300, l2_scale=1.0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5)).astype(dtype)
    if sparse:
        X[rng.random(X.shape) < 0.4] = 0
        X = sp.csr_matrix(X)
    s = rng.uniform(0.5, 2.0, size=n)
    s /= s.sum()
    if kind == "multinomial":
        y = rng.integers(0, 4, size=n)
        objective = in_memory_objective(
            MultinomialLoss(4, True), X, y, s, 0.01 * l2_scale
        )
        return objective, rng
    Y = rng.random((n, 3)) < 0.4
    return in_memory_objective(
        BinaryLoss(3, True), X, Y, s, np.array([0.01, 0.1, 1.0]) * l2_scale
    ), rng


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("kind", ["multinomial", "binary"])
def test_row_blocks_add_up_to_the_whole(kind, sparse, monkeypatch):
    whole, rng = _objective(kind, sparse)
    monkeypatch.setattr(objective_module, "BLOCK_ENTRIES", 64)
    monkeypatch.setattr(objective_module, "SPARSE_BLOCK_VALUES_PER_FEATURE", 0)
    blocked, _ = _objective(kind, sparse)
    assert len(blocked.rows.blocks) > 10 and len(whole.rows.blocks) == 1
    coef = rng.normal(size=whole.coef_shape)
    v1, g1 = whole.value_gradient(coef)
    v2, g2 = blocked.value_gradient(coef)
    np.testing.assert_allclose(v2, v1, rtol=1e-13)
    np.testing.assert_allclose(g2, g1, rtol=1e-12, atol=1e-15)
    V = rng.normal(size=coef.shape)
    np.testing.assert_allclose(
        blocked.second_order(coef).hessian_product(V),
        whole.second_order(coef).hessian_product(V),
        rtol=1e-12,
        atol=1e-15,
    )


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("n_blocks", ["one", "many"])
def test_in_memory_blocks_share_the_data(sparse, n_blocks, monkeypatch):
    # No copy of X, dense or sparse (scipy's own CSR row slicing copies the
    # values, even for a slice of all rows).
    if n_blocks == "many":
        monkeypatch.setattr(objective_module, "BLOCK_ENTRIES", 64)
        monkeypatch.setattr(objective_module, "SPARSE_BLOCK_VALUES_PER_FEATURE", 0)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 5))
    X[rng.random(X.shape) < 0.4] = 0
    if sparse:
        X = sp.csr_matrix(X)
    y = rng.integers(0, 4, size=300)
    objective = in_memory_objective(MultinomialLoss(4, True), X, y, 1 / 300, 0.01)
    blocks = objective.rows.blocks
    assert (len(blocks) > 10) == (n_blocks == "many")
    for block in blocks:
        if sparse:
            assert np.shares_memory(block.X.data, X.data)
            assert np.shares_memory(block.X.indices, X.indices)
        else:
            assert np.shares_memory(block.X, X)


def _unaligned_copy(array, offset=3):
    """``array``'s values in a buffer ``offset`` bytes past an allocation's
    start, as rows shipped to a dask worker can land."""
    buffer = np.zeros(array.nbytes + offset, dtype=np.uint8)
    copy = np.frombuffer(buffer.data, array.dtype, array.size, offset)
    copy = copy.reshape(array.shape)
    copy[...] = array
    return copy


@pytest.mark.parametrize("kind", ["multinomial", "binary"])
def test_unaligned_rows_reach_the_loss_aligned(kind, monkeypatch):
    """Unaligned rows (numpy's products leave BLAS on them) are evaluated on
    aligned copies of each block, with the same results; the blocks keep
    viewing the caller's rows."""
    reference, rng = _objective(kind)
    rows = reference.rows.blocks[0]
    X, targets = _unaligned_copy(rows.X), _unaligned_copy(rows.targets)
    weights = _unaligned_copy(rows.weights)
    # (bool targets, one byte each, are aligned anywhere)
    assert not (X.flags.aligned or weights.flags.aligned)
    assert targets.dtype == bool or not targets.flags.aligned
    loss, l2 = reference.loss, reference.penalty.l2
    monkeypatch.setattr(objective_module, "BLOCK_ENTRIES", 256)
    unaligned = in_memory_objective(loss, X, targets, weights, l2)
    assert len(unaligned.rows.blocks) > 1
    assert all(block.X.base is X.base for block in unaligned.rows.blocks)
    seen = []

    def spy(block, item, *args):
        seen.append(block.X.flags.aligned and block.targets.flags.aligned)
        return objective_module._value_gradient(block, item, *args)

    coef = rng.normal(size=reference.coef_shape)
    values, grad = unaligned.rows.map_sum(spy, loss, coef, np.float64)
    assert seen and all(seen)
    expected_values, expected_grad = reference.rows.map_sum(
        objective_module._value_gradient, loss, coef, np.float64
    )
    np.testing.assert_allclose(values, expected_values, rtol=1e-13)
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(
    "n_features, n_outputs, limit",
    [(20, 2, "bytes"), (784, 10, "bytes"), (20, 50, "entries"), (5000, 10, None)],
    ids=["narrow", "pixels", "many-outputs", "wide"],
)
def test_dense_blocks_fit_the_cache_their_width_allows(
    monkeypatch, n_features, n_outputs, limit, dtype
):
    """Dense blocks stay within the cache's byte limit while that leaves
    enough rows, and within the work-array limit always; rows too wide for
    enough of them keep the work-array limit alone. (X larger than the
    shared cache allows, as these rules are for.)"""
    from sksoftmax._objective import block_rows

    monkeypatch.setattr(objective_module, "shared_cache_bytes", lambda: 0)
    X = np.zeros((1, n_features), dtype=dtype)
    rows = block_rows(X, n_outputs)
    row_bytes = n_features * np.dtype(dtype).itemsize
    max_bytes = objective_module.DENSE_BLOCK_BYTES
    entries_rows = objective_module.BLOCK_ENTRIES // n_outputs
    assert rows <= entries_rows
    if limit == "bytes":
        assert objective_module.DENSE_MIN_BLOCK_ROWS <= rows
        assert max_bytes // 2 < rows * row_bytes <= max_bytes
    elif limit == "entries":
        assert rows == entries_rows and rows * row_bytes <= max_bytes
    else:
        assert max_bytes // row_bytes < objective_module.DENSE_MIN_BLOCK_ROWS
        assert rows == entries_rows


@pytest.mark.parametrize(
    "n_features, blocked_in_cache",
    [(20, True), (784, False), (2000, False)],
    ids=["narrow", "pixels", "wide-rows"],
)
def test_wide_rows_that_the_shared_cache_holds_are_not_blocked_by_bytes(
    monkeypatch, n_features, blocked_in_cache
):
    """X within its share of the shared cache: rows too wide for
    WIDE_ROW_MIN_BLOCK_ROWS per byte-limited block lose the byte limit (one
    block up to the work-array limit); narrow rows keep it. X too large for
    the share keeps the byte limit whatever its width."""
    from sksoftmax._objective import block_rows

    n_samples, n_outputs = 4_000, 3
    X = np.zeros((n_samples, n_features))
    share = objective_module.SHARED_CACHE_SHARE
    byte_rows = objective_module.DENSE_BLOCK_BYTES // X[0].nbytes
    entries_rows = objective_module.BLOCK_ENTRIES // n_outputs
    monkeypatch.setattr(objective_module, "shared_cache_bytes", lambda: 0)
    assert block_rows(X, n_outputs) == min(byte_rows, entries_rows)
    monkeypatch.setattr(
        objective_module, "shared_cache_bytes", lambda: share * X.nbytes
    )
    expected = min(byte_rows, entries_rows) if blocked_in_cache else entries_rows
    assert block_rows(X, n_outputs) == expected


@pytest.mark.parametrize(
    "text, expected",
    [("491520K", 491520 << 10), ("32M\n", 32 << 20), ("1G", 1 << 30), ("4096", 4096)],
)
def test_cache_sizes_read_as_linux_writes_them(text, expected):
    assert objective_module._cache_size_bytes(text) == expected


@pytest.fixture
def cache_dir(monkeypatch, tmp_path):
    """A stand-in for Linux's cache folder of CPU 0, read afresh."""
    monkeypatch.setattr(objective_module, "CPU_CACHE_DIR", str(tmp_path))
    objective_module.shared_cache_bytes.cache_clear()
    yield tmp_path
    objective_module.shared_cache_bytes.cache_clear()


def test_shared_cache_is_the_level_3_one(cache_dir):
    for index, (level, size) in enumerate([("1", "48K"), ("2", "2048K"), ("3", "32M")]):
        folder = cache_dir / f"index{index}"
        folder.mkdir()
        (folder / "level").write_text(level + "\n")
        (folder / "size").write_text(size + "\n")
    assert objective_module.shared_cache_bytes() == 32 << 20


@pytest.mark.parametrize("present", ["nothing", "no level 3"])
def test_unreadable_cache_size_falls_back_to_the_default(cache_dir, present):
    if present == "no level 3":
        folder = cache_dir / "index0"
        folder.mkdir()
        (folder / "level").write_text("2\n")
        (folder / "size").write_text("2048K\n")
    else:
        cache_dir.rmdir()
    size = objective_module.shared_cache_bytes()
    assert size == objective_module.DEFAULT_SHARED_CACHE_BYTES


@pytest.mark.parametrize("kind", ["multinomial", "binary"])
def test_hessian_product_matches_the_dense_hessian_and_the_gradient(kind):
    objective, rng = _objective(kind)
    coef = rng.normal(size=objective.coef_shape)
    V = rng.normal(size=coef.shape)
    second = objective.second_order(coef)
    HV = second.hessian_product(V)
    H = second.dense_hessian()
    if objective.separable:
        dense = np.einsum("kij,kj->ki", H, V)
    else:
        dense = (H @ V.ravel()).reshape(V.shape)
    np.testing.assert_allclose(HV, dense, rtol=1e-10, atol=1e-14)
    h = 1e-6
    g_plus = objective.value_gradient(coef + h * V)[1]
    g_minus = objective.value_gradient(coef - h * V)[1]
    np.testing.assert_allclose(HV, (g_plus - g_minus) / (2 * h), rtol=1e-5, atol=1e-9)


@pytest.mark.parametrize("kind", ["multinomial", "binary"])
def test_diagonal_blocks_are_the_dense_hessians_blocks(kind):
    """Up to the rows of negligible weight a preconditioner leaves out
    (below 1e-4 of the largest, see sksoftmax._products)."""
    objective, rng = _objective(kind)
    coef = rng.normal(size=objective.coef_shape)
    second = objective.second_order(coef)
    blocks = second.diagonal_blocks()
    H = second.dense_hessian()
    K, p = objective.coef_shape
    for k in range(K):
        dense = (
            H[k] if objective.separable else H[k * p : (k + 1) * p, k * p : (k + 1) * p]
        )
        np.testing.assert_allclose(
            blocks[k], dense, rtol=1e-3, atol=1e-3 * np.abs(dense).max()
        )


@pytest.mark.parametrize("kind", ["multinomial", "binary"])
def test_data_hessian_carries_to_another_penalty(kind):
    """The data term's Hessian does not depend on the penalty: taken under
    one penalty and given another's (with_penalty_hessian), it is that
    objective's Hessian, checked against central differences of its
    gradient; the Hessian passed in is not modified."""
    weak, rng = _objective(kind)
    coef = rng.normal(size=weak.coef_shape)
    strong, _ = _objective(kind, l2_scale=50.0)
    data = weak.second_order(coef).data_hessian()
    kept = data.copy()
    H = strong.with_penalty_hessian(data)
    np.testing.assert_array_equal(data, kept)
    np.testing.assert_allclose(
        strong.second_order(coef).data_hessian(), data, rtol=1e-13, atol=0
    )
    np.testing.assert_allclose(
        H, strong.second_order(coef).dense_hessian(), rtol=1e-13, atol=1e-15
    )
    V = rng.normal(size=coef.shape)
    h = 1e-6
    g_plus = strong.value_gradient(coef + h * V)[1]
    g_minus = strong.value_gradient(coef - h * V)[1]
    if strong.separable:
        HV = np.einsum("kij,kj->ki", H, V)
    else:
        HV = (H @ V.ravel()).reshape(V.shape)
    np.testing.assert_allclose(HV, (g_plus - g_minus) / (2 * h), rtol=1e-5, atol=1e-9)


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("kind", ["multinomial", "binary"])
def test_support_hessians_are_the_hessian_on_the_free_coefficients(kind, sparse):
    """Checked against finite differences of the gradient, in row blocks."""
    objective, rng = _objective(kind, sparse)
    coef = rng.normal(size=objective.coef_shape)
    free = rng.random(coef.shape) < 0.6
    free[:, -1] = True  # the intercepts, always free
    free[0, :-1] = False  # a row with only its intercept
    systems = objective.second_order(coef).support_hessians(free)
    assert len(systems) == (coef.shape[0] if objective.separable else 1)
    covered = np.concatenate([positions for positions, _ in systems])
    np.testing.assert_array_equal(np.sort(covered), np.flatnonzero(free))
    h = 1e-6
    for positions, H in systems:
        assert H.shape == (len(positions), len(positions))
        for column, position in enumerate(positions):
            step = np.zeros(coef.size)
            step[position] = h
            step = step.reshape(coef.shape)
            g_plus = objective.value_gradient(coef + step)[1].ravel()
            g_minus = objective.value_gradient(coef - step)[1].ravel()
            np.testing.assert_allclose(
                H[:, column],
                ((g_plus - g_minus) / (2 * h))[positions],
                rtol=1e-5,
                atol=1e-9,
            )


def test_support_hessian_cost_grows_with_the_support():
    objective, _ = _objective("multinomial")
    free = np.zeros(objective.coef_shape, dtype=bool)
    free[:, -1] = True
    small = objective.support_hessian_cost(free)
    free[:, :3] = True
    large = objective.support_hessian_cost(free)
    assert small[0] == 4 and large[0] == 16
    assert 0 < small[1] < large[1]


def test_values_come_per_group():
    multinomial, rng = _objective("multinomial")
    binary, _ = _objective("binary")
    assert multinomial.values(np.zeros(multinomial.coef_shape)).shape == (1,)
    assert binary.values(np.zeros(binary.coef_shape)).shape == (3,)


def test_projection_removes_only_the_invariant_direction():
    objective, rng = _objective("multinomial")
    coef = rng.normal(size=objective.coef_shape)
    shifted = coef + rng.normal(size=coef.shape[1])  # same vector on every row
    projected = objective.project(shifted)
    np.testing.assert_allclose(projected.sum(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(objective.project(projected), projected, atol=1e-15)
    # The data term is unchanged, the penalty can only fall.
    loss_only = in_memory_objective(
        objective.loss,
        objective.rows.blocks[0].X,
        objective.rows.blocks[0].targets,
        objective.rows.blocks[0].weights,
        0.0,
    )
    np.testing.assert_allclose(
        loss_only.values(projected), loss_only.values(shifted), rtol=1e-12
    )
    assert objective.values(projected)[0] <= objective.values(shifted)[0]
    binary, _ = _objective("binary")
    np.testing.assert_array_equal(binary.project(coef[:3]), coef[:3])


@pytest.mark.parametrize("n_blocks", [1, "many"])
@pytest.mark.parametrize("weights", ["per-sample", "per-output"])
@pytest.mark.parametrize("sparse", [False, True])
def test_outputs_evaluated_apart_are_rows_of_the_whole(
    sparse, weights, n_blocks, monkeypatch
):
    """A separable objective evaluates some outputs alone: their values and
    gradient rows are those of the whole evaluation, penalty included."""
    if n_blocks == "many":
        monkeypatch.setattr(objective_module, "BLOCK_ENTRIES", 64)
        monkeypatch.setattr(objective_module, "SPARSE_BLOCK_VALUES_PER_FEATURE", 0)
    rng = np.random.default_rng(3)
    n, K = 200, 4
    X = rng.normal(size=(n, 6))
    if sparse:
        X[rng.random(X.shape) < 0.5] = 0
        X = sp.csr_matrix(X)
    Y = rng.random((n, K)) < 0.3
    s = rng.uniform(0.2, 2.0, size=(n,) if weights == "per-sample" else (n, K)) / n
    objective = in_memory_objective(
        BinaryLoss(K, True), X, Y, s, np.array([0.01, 0.1, 1.0, 3.0])
    )
    if n_blocks == "many":
        assert objective.rows.n_blocks > 5
    coef = rng.normal(size=objective.coef_shape)
    values, grad = objective.value_gradient(coef)
    for rows in ([2], [3, 0], [0, 1, 2, 3]):
        rows = np.array(rows)
        part_values, part_grad = objective.output_value_gradient(coef[rows], rows)
        np.testing.assert_allclose(part_values, values[rows], rtol=1e-13)
        np.testing.assert_allclose(part_grad, grad[rows], rtol=1e-12, atol=1e-15)


def test_only_separable_float64_objectives_evaluate_outputs_apart():
    multinomial, rng = _objective("multinomial")
    rows = np.array([0])
    coef = rng.normal(size=multinomial.coef_shape)
    with pytest.raises(ValueError, match="separable"):
        multinomial.output_value_gradient(coef[rows], rows)
    binary, rng = _objective("binary", dtype=np.float32)
    coef = rng.normal(size=binary.coef_shape)
    binary.anchor_at(coef)
    with pytest.raises(ValueError, match="float64"):
        binary.output_value_gradient(coef[rows], rows)


@pytest.mark.parametrize(
    "kind, sparse, n_features, expected",
    [
        ("multinomial", False, 5, True),
        ("multinomial", True, 5, False),
        ("binary", False, 5, False),
        ("multinomial", False, 400, False),
    ],
    ids=["dense", "sparse", "binary", "wider-than-its-blocks"],
)
def test_blocks_know_their_row_norms_where_the_bound_pays(
    kind, sparse, n_features, expected
):
    """The multinomial loss's score bound needs each block's largest row
    norm: in-memory dense blocks carry it when they have more rows than a
    class has coefficients (the bound's cost), and it is exact."""
    rng = np.random.default_rng(3)
    X = rng.normal(size=(300, n_features))
    if sparse:
        X = sp.csr_matrix(X)
    if kind == "multinomial":
        loss, targets = MultinomialLoss(4, True), rng.integers(0, 4, 300)
    else:
        loss, targets = BinaryLoss(3, True), rng.random((300, 3)) < 0.5
    objective = in_memory_objective(loss, X, targets, np.asarray(1.0), 0.1)
    for block in objective.rows.blocks:
        if expected:
            assert block.max_row_norm == pytest.approx(
                np.linalg.norm(block.X, axis=1).max(), rel=1e-14
            )
        else:
            assert block.max_row_norm is None


@pytest.mark.parametrize("weights", ["unit", "rows"])
@pytest.mark.parametrize("kind", ["multinomial", "binary"])
def test_row_sample_is_the_objective_of_every_step_th_row(kind, weights, monkeypatch):
    """Strided views (no copy) of every step-th row by global index, across
    block boundaries, with the weights renormalised as for those rows
    alone: the in-memory objective of X[::step]."""
    monkeypatch.setattr(objective_module, "BLOCK_ENTRIES", 64)
    rng = np.random.default_rng(3)
    n, step = 1003, 5
    X = rng.normal(size=(n, 5))
    if kind == "multinomial":
        loss, targets, l2 = MultinomialLoss(4, True), rng.integers(0, 4, size=n), 0.01
    else:
        loss, targets = BinaryLoss(3, True), rng.random((n, 3)) < 0.4
        l2 = np.array([0.01, 0.1, 1.0])
    if weights == "unit":
        s, s_sample = np.asarray(1.0 / n), np.asarray(1.0 / len(range(0, n, step)))
    else:
        s = rng.uniform(0.5, 2.0, size=n)
        s /= s.sum()
        s_sample = s[::step] / s[::step].sum()
    whole = in_memory_objective(loss, X, targets, s, l2)
    assert whole.rows.n_blocks > 10 and whole.rows.blocks[1].start % step
    sample = whole.row_sample(step)
    expected = in_memory_objective(loss, X[::step], targets[::step], s_sample, l2)
    assert sample.rows.n_samples == expected.rows.n_samples
    assert all(np.shares_memory(block.X, X) for block in sample.rows.blocks)
    coef = rng.normal(size=whole.coef_shape)
    values, grad = sample.value_gradient(coef)
    expected_values, expected_grad = expected.value_gradient(coef)
    np.testing.assert_allclose(values, expected_values, rtol=1e-13)
    np.testing.assert_allclose(grad, expected_grad, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("kind", ["multinomial", "binary"])
def test_triangular_rows_declare_their_zero_columns(kind, monkeypatch):
    """Lower-trapezoidal X (the row space's factor) in many blocks: each
    block declares the columns its rows are all zero in, so does a row
    sample's, and the objective, its gradient and Hessian products are
    those of the same rows without the declaration."""
    monkeypatch.setattr(objective_module, "BLOCK_ENTRIES", 64)
    rng = np.random.default_rng(5)
    n, p = 90, 40
    Z = np.tril(rng.normal(size=(n, p)))
    if kind == "multinomial":
        loss, targets, l2 = MultinomialLoss(4, True), rng.integers(0, 4, size=n), 0.01
    else:
        loss, targets = BinaryLoss(3, True), rng.random((n, 3)) < 0.4
        l2 = np.array([0.01, 0.1, 1.0])
    s = rng.uniform(0.5, 2.0, size=n)
    s /= s.sum()
    plain = in_memory_objective(loss, Z, targets, s, l2)
    triangular = in_memory_objective(loss, Z, targets, s, l2, triangular=True)
    blocks = triangular.rows.blocks
    assert len(blocks) > 3
    assert [b.nonzero_columns for b in blocks] == [
        min(b.start + b.n_rows, p) for b in blocks
    ]
    assert blocks[0].nonzero_columns < p
    coef = rng.normal(size=plain.coef_shape)
    V = rng.normal(size=coef.shape)
    for mine, theirs in zip(
        triangular.value_gradient(coef), plain.value_gradient(coef), strict=True
    ):
        np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(
        triangular.second_order(coef).hessian_product(V),
        plain.second_order(coef).hessian_product(V),
        rtol=1e-12,
        atol=1e-15,
    )
    sample = triangular.row_sample(4)
    assert all(b.nonzero_columns is not None for b in sample.rows.blocks)
    for mine, theirs in zip(
        sample.value_gradient(coef),
        plain.row_sample(4).value_gradient(coef),
        strict=True,
    ):
        np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("kind", ["multinomial", "binary"])
def test_fewest_outcome_rows_is_the_rarer_outcome_per_output(kind):
    objective, _ = _objective(kind)
    block = objective.rows.blocks[0]
    targets = block.targets
    if kind == "multinomial":
        in_class = np.bincount(targets, minlength=4)
    else:
        in_class = targets.sum(axis=0)
    expected = np.minimum(in_class, block.n_rows - in_class)
    np.testing.assert_array_equal(objective.fewest_outcome_rows(), expected)


def test_rows_that_cannot_be_sampled_give_no_sample():
    """Sparse rows (a strided CSR view is a copy) and a sample whose rows
    all weigh nothing give None."""
    sparse, _ = _objective("multinomial", sparse=True)
    assert sparse.row_sample(3) is None
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(30, 2)), rng.integers(0, 2, size=30)
    s = np.where(np.arange(30) % 3 == 0, 0.0, 1.0 / 20)
    objective = in_memory_objective(MultinomialLoss(2, True), X, y, s, 0.1)
    assert objective.row_sample(3) is None
    assert objective.row_sample(2) is not None
