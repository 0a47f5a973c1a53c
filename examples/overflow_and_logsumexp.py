"""
=====================================================
Overflow, underflow and log-sum-exp as a smooth max
=====================================================

The textbook softmax ``exp(x_i) / sum_j exp(x_j)`` breaks on ordinary
inputs: ``exp(1000)`` overflows to ``inf`` and the result is ``nan``, while
``exp(-1000)`` underflows to ``0`` and the division is ``0 / 0``. Since
``softmax(x) == softmax(x - c)`` for any constant ``c``,
:func:`sksoftmax.special.softmax` subtracts ``c = max(x)`` first: the
largest exponent is then ``exp(0) = 1``, nothing overflows and the
denominator is at least one. The same shift gives the log-sum-exp
``LSE(x) = c + log(sum_i exp(x_i - c))`` without overflow, and
``log_softmax(x) = x - LSE(x)`` stays finite where ``log(softmax(x))`` would
be ``-inf``.

The figure shows why the function is called a *soft* max:
``max(x) <= LSE(x) <= max(x) + log(n)`` for ``n`` inputs, with the upper
bound reached when all inputs are equal.

Run it with ``python examples/overflow_and_logsumexp.py`` (``--no-plot``
skips the figure, ``--output FILE`` chooses where the PNG goes; ``--quick``
uses fewer points).
"""

import argparse
import warnings

import numpy as np
import pandas as pd

from sksoftmax.special import log_softmax, logsumexp, softmax

parser = argparse.ArgumentParser(description="Overflow and log-sum-exp")
parser.add_argument("--quick", action="store_true", help="fewer points")
parser.add_argument("--no-plot", action="store_true", help="no figure")
parser.add_argument("--output", default="overflow_and_logsumexp.png")
args = parser.parse_args()


# %%
# The naive formulas, with their warnings caught
# ----------------------------------------------
def naive_softmax(x):
    e = np.exp(x)
    return e / e.sum()


def naive_logsumexp(x):
    return np.log(np.exp(x).sum())


def caught(function, x):
    """Call ``function(x)``; return its result and the warnings it raised."""
    with (
        np.errstate(over="warn", invalid="warn", divide="warn", under="ignore"),
        warnings.catch_warnings(record=True) as records,
    ):
        warnings.simplefilter("always")
        result = function(np.asarray(x, dtype=float))
    return result, "; ".join(sorted({str(r.message) for r in records})) or "-"


def show(values):
    return np.array2string(np.asarray(values), precision=4, separator=", ")


def compare(naive, stable, inputs):
    """A table of the naive and the stable function on each input."""
    rows = []
    for x in inputs:
        result, caught_warnings = caught(naive, x)
        rows.append(
            {
                "x": show(x),
                "naive": show(result),
                "sksoftmax.special": show(stable(x)),
                "warnings of the naive version": caught_warnings,
            }
        )
    return pd.DataFrame(rows).set_index("x")


# %%
# Softmax and log-sum-exp on the two problem inputs
# -------------------------------------------------
# ``[1, 2, 3]`` is there for reference: where the naive formula works, both
# agree.
inputs = [[1000.0, 500.0, 500.0], [-1000.0, -1000.0, -1000.0], [1.0, 2.0, 3.0]]
print("softmax(x)")
print(compare(naive_softmax, softmax, inputs).to_string(), end="\n\n")
print("log(sum(exp(x)))")
print(compare(naive_logsumexp, logsumexp, inputs).to_string(), end="\n\n")

# %%
# The shift changes nothing mathematically, so the stable result equals the
# naive one wherever the naive one works, and ``log_softmax`` keeps the
# logarithm of a tiny probability finite.
x = np.array([1.0, 2.0, 3.0])
print(
    "softmax(x) == naive softmax(x - max(x)):",
    np.allclose(softmax(x), naive_softmax(x - x.max())),
)
x = np.array([1000.0, 0.0])
log_of_softmax, log_warnings = caught(lambda v: np.log(softmax(v)), x)
print(f"log(softmax({show(x)})) = {show(log_of_softmax)}  ({log_warnings})")
print(f"log_softmax({show(x)})  = {show(log_softmax(x))}")

# %%
# Log-sum-exp is a smooth maximum
# -------------------------------
# For ``n`` inputs, ``max(x) <= LSE(x) <= max(x) + log(n)``. We check the
# bounds on random vectors of every length from 1 to ``n_max``, spread
# widely (LSE close to the max) or narrowly (close to the max + log n).
rng = np.random.default_rng(0)
n_max = 20 if args.quick else 100
lengths = np.repeat(np.arange(1, n_max + 1), 4)
scales = rng.choice([0.1, 0.5, 1.0, 3.0], size=lengths.size)
vectors = [
    scale * rng.standard_normal(n) for n, scale in zip(lengths, scales, strict=True)
]
gaps = np.array([logsumexp(v) - v.max() for v in vectors])
holds = bool(np.all(gaps >= 0) and np.all(gaps <= np.log(lengths) + 1e-12))
print(
    f"\nmax(x) <= LSE(x) <= max(x) + log(n) for all {lengths.size} random "
    f"vectors: {holds}"
)

# %%
# The figure: on the left, LSE of two numbers against their max; on the
# right, how far above the max the LSE of ``n`` numbers lies.
if not args.no_plot:
    import matplotlib

    matplotlib.use("Agg")  # we save to a file; no display needed
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    t = np.linspace(-6, 6, 61 if args.quick else 301)
    pairs = np.column_stack([t, np.zeros_like(t)])
    top = pairs.max(axis=1)
    left.fill_between(
        t, top, top + np.log(2), color="C0", alpha=0.15, label="max ... max + log 2"
    )
    left.plot(t, top, "k--", linewidth=1, label="max(t, 0)")
    left.plot(t, logsumexp(pairs, axis=1), "C0", linewidth=2, label="LSE(t, 0)")
    left.set_xlabel("t")
    left.set_title(r"$\mathrm{LSE}(t, 0)$, a smooth $\max(t, 0)$")
    left.legend()

    n = np.arange(1, n_max + 1)
    right.plot(
        lengths, gaps, ".", color="C0", alpha=0.5, label="LSE(x) - max(x), random x"
    )
    right.plot(n, np.log(n), "C3", label="log n (all entries equal)")
    right.axhline(0, color="k", linewidth=1, linestyle="--")
    right.set_xlabel("n, the number of inputs")
    right.set_title(r"$0 \leq \mathrm{LSE}(x) - \max(x) \leq \log n$")
    right.legend()
    fig.tight_layout()
    fig.savefig(args.output, dpi=120, bbox_inches="tight")
    print(f"Saved the figure to {args.output}")
