"""Micro-benchmark: one loss-and-gradient evaluation against its two matrix products.

Target: one evaluation costs at most 1.5 times ``X @ W.T`` plus ``X.T @ G``
alone, in float64 and in float32, on dense 100,000 x 100 data with K=10.

Two evaluations are timed: the loss on all rows as one block (the
stateless ``value_gradient(coef, block, dtype)``), and the objective as a
fit evaluates it (``in_memory_objective(...).value_gradient(coef)``: the
same loss over cache-sized row blocks, plus the penalty).

This is the only benchmark module that uses a private loss API
(``sksoftmax._loss.MultinomialLoss`` with a ``RowBlock``: the stateless
``value_gradient(coef, block, dtype)`` of solver v2); it is kept apart so that
it can be ported when that API changes. :func:`micro_benchmark` returns
``{"error": ...}`` instead of raising, so the rest of the benchmark still runs.

Run alone with ``python benchmarks/micro.py``.
"""

import gc
import sys
import time
from pathlib import Path

import numpy as np

SHAPE = (100_000, 100, 10)  # n_samples, n_features, n_classes
TARGET = 1.5
# The objective's L2 strength at the solver's scale: any value serves, the
# penalty being one pass over the coefficients next to two over X.
L2 = 1e-4


def _best_of(func, n):
    best = np.inf
    for _ in range(n):
        gc.collect()
        start = time.perf_counter()
        func()
        best = min(best, time.perf_counter() - start)
    return best


def micro_benchmark(n_repeats=20, shape=SHAPE, seed=0):
    """Time one ``loss_gradient`` against its two matrix products, per dtype.

    Returns
    -------
    result : dict
        Best times in seconds, ``ratio_<dtype>`` (evaluation / products) and
        ``float32_over_float64``; or ``{"error": message}``.
    """
    try:
        from sksoftmax._loss import MultinomialLoss, RowBlock
        from sksoftmax._objective import in_memory_objective
    except ImportError as exc:
        return {"error": f"ImportError: {exc}"}
    n_samples, n_features, n_classes = shape
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features))
    y = rng.integers(n_classes, size=n_samples)
    coef = 0.01 * rng.standard_normal((n_classes, n_features + 1))
    sample_weight = np.full(n_samples, 1.0 / n_samples)
    result = {"shape": [n_samples, n_features], "n_classes": n_classes}
    try:
        for dtype in (np.float64, np.float32):
            Xd = np.ascontiguousarray(X, dtype=dtype)
            loss = MultinomialLoss(n_classes, fit_intercept=True)
            block = RowBlock(Xd, y, sample_weight)
            coef_d = coef.astype(dtype)

            def evaluate(loss=loss, block=block, coef_d=coef_d, dtype=dtype):
                return loss.value_gradient(coef_d, block, dtype)

            objective = in_memory_objective(loss, Xd, y, sample_weight, L2)

            def evaluate_blocks(objective=objective):
                return objective.value_gradient(coef)

            W = np.ascontiguousarray(coef[:, :n_features], dtype=dtype)
            Z = np.empty((n_samples, n_classes), dtype=dtype)
            G = rng.standard_normal((n_samples, n_classes)).astype(dtype)

            def products(Xd=Xd, W=W, Z=Z, G=G):
                np.matmul(Xd, W.T, out=Z)
                return Xd.T @ G

            evaluate()  # warm up
            evaluate_blocks()
            products()
            t_loss = _best_of(evaluate, n_repeats)
            t_blocks = _best_of(evaluate_blocks, n_repeats)
            t_products = _best_of(products, n_repeats)
            key = np.dtype(dtype).name
            result[f"loss_gradient_s_{key}"] = t_loss
            result[f"objective_s_{key}"] = t_blocks
            result[f"products_s_{key}"] = t_products
            result[f"ratio_{key}"] = t_loss / t_products
            result[f"ratio_objective_{key}"] = t_blocks / t_products
    except Exception as exc:  # the private API changed: report, do not fail
        return {"error": f"{type(exc).__name__}: {exc}"}
    result["float32_over_float64"] = (
        result["loss_gradient_s_float32"] / result["loss_gradient_s_float64"]
    )
    return result


def format_micro(micro):
    """The micro-benchmark as text."""
    if "error" in micro:
        return f"micro-benchmark failed: {micro['error']}"
    n_samples, n_features = micro["shape"]
    lines = [
        f"micro-benchmark {n_samples}x{n_features}, K={micro['n_classes']}: "
        "one loss_gradient vs (X @ W.T + X.T @ G) alone"
    ]
    for key in ("float64", "float32"):
        ratio = micro[f"ratio_{key}"]
        lines.append(
            f"  {key}: {micro[f'loss_gradient_s_{key}'] * 1e3:8.2f} ms vs "
            f"{micro[f'products_s_{key}'] * 1e3:8.2f} ms -> {ratio:.2f}x "
            f"({'meets' if ratio <= TARGET else 'misses'} the {TARGET}x target)"
        )
        blocks = micro.get(f"ratio_objective_{key}")
        if blocks is not None:
            lines.append(
                f"  {key}, in row blocks as a fit evaluates: "
                f"{micro[f'objective_s_{key}'] * 1e3:8.2f} ms -> {blocks:.2f}x "
                f"({'meets' if blocks <= TARGET else 'misses'} the target)"
            )
    lines.append(
        f"  float32 / float64 loss_gradient: {micro['float32_over_float64']:.2f}x"
    )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    print(format_micro(micro_benchmark(int(sys.argv[1]) if len(sys.argv) > 1 else 20)))
