"""
=========================================
Fitting on a Dask cluster, chunk by chunk
=========================================

:class:`~sksoftmax.SoftmaxRegression` and :class:`~sksoftmax.OneVsRestLogistic`
accept a ``dask.array`` (or a dask DataFrame): the objective is a sum over
rows, so every chunk of rows returns its partial sums where it lives and
only the coefficients and those sums travel. This example starts a small
``distributed.LocalCluster`` (a real cluster works the same way through
``Client("tcp://scheduler:8786")``), fits the music genres in chunks, and
checks that the model is the in-memory one. Predictions on a dask array
are lazy: a dask array computed chunk by chunk.

Run it with ``python examples/dask_fit.py`` (``--no-plot`` skips the
figure, ``--output FILE`` chooses where the PNG goes; ``--quick`` uses
fewer samples).
"""

import argparse
import time

import dask.array as da
import numpy as np
import pandas as pd
from distributed import Client, LocalCluster

from sksoftmax import SoftmaxRegression
from sksoftmax.datasets import make_music_genres

parser = argparse.ArgumentParser(description="Fitting on a Dask cluster")
parser.add_argument("--quick", action="store_true", help="fewer samples")
parser.add_argument("--no-plot", action="store_true", help="no figure")
parser.add_argument("--output", default="dask_fit.png")
args = parser.parse_args()

N_SAMPLES = 4_000 if args.quick else 40_000
N_CHUNKS = 4

# %%
# A cluster of two single-threaded workers
# ----------------------------------------
# The workers are threads of this process here, which start at once.
# ``processes=True`` gives worker processes, as on a real cluster; a script
# that starts them must then run under ``if __name__ == "__main__":``,
# since each worker process imports the main module again.
# ``Client(cluster)`` makes the cluster dask's default scheduler, so every
# ``fit`` and ``compute`` below runs there.
cluster = LocalCluster(
    n_workers=2,
    threads_per_worker=1,
    processes=False,
    dashboard_address=None,
)
client = Client(cluster)

X, y = make_music_genres(N_SAMPLES, random_state=0, return_X_y=True)
rows = -(-N_SAMPLES // N_CHUNKS)
X_dask = da.from_array(X, chunks=(rows, -1))
y_dask = da.from_array(y, chunks=rows)
print(f"X: {X_dask.shape[0]} x {X_dask.shape[1]} in chunks of {X_dask.chunks[0]} rows")

# %%
# The same fit, on the cluster and in memory
# ------------------------------------------
# Each evaluation of the objective sends the coefficients to the chunks and
# adds their partial sums; the optimiser runs here, unchanged.
start = time.perf_counter()
on_dask = SoftmaxRegression(tol=1e-8).fit(X_dask, y_dask)
dask_seconds = time.perf_counter() - start
start = time.perf_counter()
in_memory = SoftmaxRegression(tol=1e-8).fit(X, y)
memory_seconds = time.perf_counter() - start

difference = (
    np.abs(on_dask.coef_ - in_memory.coef_).max() / np.abs(in_memory.coef_).max()
)
table = pd.DataFrame(
    {
        "fit_time": [dask_seconds, memory_seconds],
        "n_iter": [on_dask.n_iter_[0], in_memory.n_iter_[0]],
    },
    index=["dask (2 workers)", "in memory"],
)
print(table.round(3).to_string())
print(f"largest coefficient difference, relative: {difference:.1e}")
print(f"same model: {difference < 1e-8}")

# %%
# Lazy predictions
# ----------------
# ``predict_proba`` on a dask array returns a dask array with X's chunks of
# rows; nothing runs until it is computed.
proba = on_dask.predict_proba(X_dask)
kind = f"{type(proba).__module__}.{type(proba).__name__}"
print(f"predict_proba: {kind}, chunks {proba.chunks[0]}")
accuracy = (on_dask.predict(X_dask) == y_dask).mean().compute()
print(f"training accuracy: {accuracy:.3f}")

client.close()
cluster.close()

# %%
# Coefficients: cluster against memory
# ------------------------------------
if not args.no_plot:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 4.5))
    ax.scatter(in_memory.coef_.ravel(), on_dask.coef_.ravel(), s=12)
    low, high = in_memory.coef_.min(), in_memory.coef_.max()
    ax.plot([low, high], [low, high], color="grey", linewidth=1)
    ax.set_xlabel("coefficient, in-memory fit")
    ax.set_ylabel("coefficient, dask fit")
    ax.set_title(f"Same model (largest relative difference {difference:.0e})")
    fig.tight_layout()
    fig.savefig(args.output, dpi=100)
    print(f"Saved the figure to {args.output}")
