"""
================================================
Choosing C by cross-validation: genres and tags
================================================

:class:`~sksoftmax.SoftmaxRegressionCV` and
:class:`~sksoftmax.OneVsRestLogisticCV` fit, on each fold, a path of ``C``
values from the strongest penalty to the weakest, each fit warm-started from
the previous one, and keep the ``C`` with the best held-out score. A softmax
is one model, so it gets one ``C``; one-vs-rest models are independent, so
each tag gets its own. This example prints the held-out log-loss along the
path for the exclusive music genres
(:func:`~sksoftmax.datasets.make_music_genres`) and the chosen ``C`` of each
overlapping tag (:func:`~sksoftmax.datasets.make_music_tags`), and plots the
cross-validated score against ``C``.

Run it with ``python examples/cv_path.py`` (``--quick`` for a small, fast
run, ``--no-plot`` to skip the figure, ``--output FILE`` to choose where the
PNG goes).
"""

import argparse

import numpy as np
import pandas as pd
from sklearn.preprocessing import StandardScaler

from sksoftmax import OneVsRestLogisticCV, SoftmaxRegressionCV
from sksoftmax.datasets import make_music_genres, make_music_tags

parser = argparse.ArgumentParser(description="Choosing C by cross-validation")
parser.add_argument("--quick", action="store_true", help="fewer samples")
parser.add_argument("--no-plot", action="store_true", help="no figure")
parser.add_argument("--output", default="cv_path.png")
args = parser.parse_args()

N_SAMPLES = 600 if args.quick else 3000
CS = np.logspace(-4, 2, 13)


def standardised(X):
    # The audio descriptors have standard deviations from 0.2 to 2000: one
    # penalty suits them all only on a common scale. (The scaler sees every
    # row, held-out folds included; in a real evaluation put it and the
    # estimator in a pipeline.)
    return StandardScaler().fit_transform(X)


# %%
# Genres: one C for the softmax
# -----------------------------
# ``scores_`` has one held-out score per fold, ``l1_ratio`` (here only the
# L2 penalty) and ``C``; the chosen ``C_`` has the best mean over folds.
genres = make_music_genres(N_SAMPLES, random_state=0)
softmax = SoftmaxRegressionCV(Cs=CS, cv=5, scoring="neg_log_loss")
softmax.fit(standardised(genres.data), genres.target)
genre_scores = -softmax.scores_[:, 0, :]
table = pd.DataFrame(
    {
        "C": softmax.Cs_,
        "log_loss": genre_scores.mean(axis=0),
        "std": genre_scores.std(axis=0),
        "n_iter": softmax.n_iter_[:, 0, :].mean(axis=0),
    }
)
print("Genres (exclusive): held-out log-loss along the path")
print(table.round(4).to_string(index=False))
print(f"chosen C_: {softmax.C_:.3g}")

# %%
# Tags: one C per tag
# -------------------
# Each tag is its own binary model, scored on its own column; ``C_`` has one
# value per tag.
tags = make_music_tags(N_SAMPLES, random_state=0)
ovr = OneVsRestLogisticCV(Cs=CS, cv=5, scoring="neg_log_loss")
ovr.fit(standardised(tags.data), tags.target)
tag_scores = -ovr.scores_[:, 0].mean(axis=0)  # (n_cs, n_tags)
print()
print("Tags (overlapping): chosen C of each tag")
per_tag = pd.DataFrame(
    {
        "tag": tags.target_names,
        "C": ovr.C_,
        "log_loss": tag_scores.min(axis=0),
    }
)
print(per_tag.round(4).to_string(index=False))

# %%
# Held-out log-loss against C
# ---------------------------
if not args.no_plot:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.errorbar(softmax.Cs_, genre_scores.mean(axis=0), yerr=genre_scores.std(axis=0))
    left.axvline(softmax.C_, color="grey", linestyle="--", label="chosen C")
    left.set_title("Genres: SoftmaxRegressionCV")
    per_tag_curves = zip(tags.target_names, tag_scores.T, ovr.C_, strict=True)
    for tag, scores, chosen in per_tag_curves:
        (line,) = right.plot(ovr.Cs_, scores, label=tag)
        right.axvline(chosen, color=line.get_color(), linestyle="--")
    right.set_title("Tags: OneVsRestLogisticCV, C per tag")
    right.legend()
    for ax in (left, right):
        ax.set_xscale("log")
        ax.set_xlabel("C")
        ax.set_ylabel("held-out log-loss (5 folds)")
    left.legend()
    fig.tight_layout()
    fig.savefig(args.output, dpi=100)
    print(f"Saved the figure to {args.output}")
