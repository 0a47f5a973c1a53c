"""
=================================================================
Softmax or one classifier per label? Scene types and attributes
=================================================================

A photo shows exactly one kind of scene (indoor, outdoor_urban or
outdoor_wilderness), but its attributes (indoor, black_and_white,
contains_people) can come in any combination. This example cross-validates
:class:`~sksoftmax.SoftmaxRegression` and
:class:`~sksoftmax.OneVsRestLogistic` on the scene types of
:func:`~sksoftmax.datasets.make_scenes`, and one-vs-rest on the attributes
of :func:`~sksoftmax.datasets.make_scene_attributes`.

It is the companion of the music example: on the exclusive scene types the
softmax has the lower log-loss at about the same accuracy. On the
overlapping attributes a model that predicts one label per photo, as a
softmax does, finds at most one attribute of each photo; the labels alone
cap its recall well below what one binary classifier per attribute reaches.

``python examples/compare_scenes.py --help`` lists its options: a quick run
on 400 photos, no figure, or another file for it.
"""

import argparse
import textwrap

import pandas as pd
from sklearn.metrics import hamming_loss, make_scorer
from sklearn.model_selection import KFold, StratifiedKFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sksoftmax import OneVsRestLogistic, SoftmaxRegression, inspect_labels
from sksoftmax.datasets import make_scene_attributes, make_scenes

parser = argparse.ArgumentParser(description="Scene types and attributes")
parser.add_argument(
    "--quick", dest="n_samples", action="store_const", const=400, default=3000
)
parser.add_argument("--no-plot", action="store_true", help="print the tables only")
parser.add_argument("--output", default="compare_scenes.png", help="figure file")
args = parser.parse_args()
n_samples = args.n_samples

X, y = make_scenes(n_samples, random_state=0, return_X_y=True)
X_attributes, Y = make_scene_attributes(n_samples, random_state=0, return_X_y=True)

# %%
# Which case are we in?
# ---------------------
# One scene type per photo: exclusive. Attributes: many photos have two or
# more, so they overlap.
for name, target in [("Scenes", y), ("Attributes", Y)]:
    report = inspect_labels(target)
    reason = textwrap.fill(report.reason, initial_indent="  ", subsequent_indent="  ")
    print(f"{name}: {report.recommendation}\n{reason}")

# %%
# Scene types: one softmax or three binary classifiers?
# -----------------------------------------------------
# The same 5 stratified folds for both, on standardised features; the mean
# of each score over the folds. ``neg_log_loss`` is scikit-learn's scorer
# for the log-loss, negated so that greater is better; we print the loss.
folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
scene_table = pd.DataFrame(
    {
        estimator.__name__: pd.DataFrame(
            cross_validate(
                make_pipeline(StandardScaler(), estimator()),
                X,
                y,
                cv=folds,
                scoring=["accuracy", "neg_log_loss"],
            )
        ).mean()
        for estimator in (SoftmaxRegression, OneVsRestLogistic)
    }
).T
scene_table = scene_table.assign(log_loss=-scene_table["test_neg_log_loss"])
scene_table = scene_table.rename(columns={"test_accuracy": "accuracy"})
scene_table = scene_table[["accuracy", "log_loss", "fit_time"]]
print("\nScenes (exclusive)", scene_table.round(3).to_string(), sep="\n")

# %%
# The two models pick the right scene about equally often; the softmax's
# probabilities are the better ones (lower log-loss).
#
# Attributes: what one label per photo cannot reach
# -------------------------------------------------
# A softmax predicts one class per photo: at best one attribute (or none).
# However good it is, it then finds at most one attribute of each photo, so
# its micro-averaged recall (the share of all true attributes that are
# predicted) is at most the number of photos with an attribute divided by the
# number of attributes. The labels alone give that ceiling; one-vs-rest is
# cross-validated with scikit-learn's scorers (``accuracy`` is the subset
# accuracy on an indicator matrix).
ceiling = (Y.sum(axis=1) > 0).sum() / Y.sum()
ovr = cross_validate(
    make_pipeline(StandardScaler(), OneVsRestLogistic()),
    X_attributes,
    Y,
    cv=KFold(n_splits=5, shuffle=True, random_state=0),
    scoring={
        "recall_micro": "recall_micro",
        "f1_micro": "f1_micro",
        "accuracy": "accuracy",
        "neg_hamming_loss": make_scorer(hamming_loss, greater_is_better=False),
    },
)
attribute_table = pd.DataFrame(
    {
        "OneVsRestLogistic": {
            "recall_micro": ovr["test_recall_micro"].mean(),
            "f1_micro": ovr["test_f1_micro"].mean(),
            "accuracy": ovr["test_accuracy"].mean(),
            "hamming_loss": -ovr["test_neg_hamming_loss"].mean(),
        },
        "any one-label model, at best": {"recall_micro": ceiling},
    }
).T
print("\nAttributes (overlapping)", attribute_table.round(3).to_string(), sep="\n")

# %%
# One binary classifier per attribute finds clearly more of the attributes
# than a one-label model ever could. The recalls as a picture, with the
# scene accuracies:
if not args.no_plot:
    import matplotlib

    matplotlib.use("Agg")  # we save to a file; no display needed

    scores = pd.concat(
        [
            scene_table["accuracy"].rename(lambda model: f"scenes, accuracy:\n{model}"),
            attribute_table["recall_micro"].rename(
                lambda model: f"attributes, recall_micro:\n{model}"
            ),
        ]
    )
    ax = scores.plot.barh(figsize=(8, 3.5), color=["C0", "C1", "C1", "C7"])
    ax.set_xlabel("higher is better")
    ax.bar_label(ax.containers[0], fmt="%.2f")
    ax.invert_yaxis()
    ax.figure.tight_layout()
    ax.figure.savefig(args.output, dpi=120, bbox_inches="tight")
    print(f"Saved the figure to {args.output}")
