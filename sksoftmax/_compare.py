"""Cross-validated comparison of the two estimators, shared by the examples.

:func:`compare_datasets` runs :class:`~sksoftmax.SoftmaxRegression` and
:class:`~sksoftmax.OneVsRestLogistic` through the same folds and returns one
table; :func:`plot_comparison` draws it; :func:`parse_example_args` and
:func:`save_figure` give every example script the same command line.
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import f1_score, hamming_loss, jaccard_score, log_loss
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from ._ovr import OneVsRestLogistic
from ._softmax import SoftmaxRegression

__all__ = [
    "METRICS",
    "compare_datasets",
    "compare_models",
    "one_label_per_sample",
    "parse_example_args",
    "plot_comparison",
    "save_figure",
]

#: Columns of the comparison table, in order.
METRICS = (
    "accuracy",
    "log_loss",
    "hamming_loss",
    "micro_f1",
    "subset_accuracy",
    "fit_time_s",
)

SOFTMAX = "SoftmaxRegression"
OVR = "OneVsRestLogistic"
SOFTMAX_FORCED = "SoftmaxRegression, 1 label/sample"

# Probabilities are clipped this far from 0 and 1 before taking logs, as
# scikit-learn's log_loss does, so a confident miss costs a finite amount.
_EPS = 1e-15


def one_label_per_sample(Y, priority=None):
    """Reduce an indicator matrix to one label per row, as a user might.

    Each row keeps the first of its labels in ``priority`` order; a row with
    no label gets -1.

    Parameters
    ----------
    Y : array-like of shape (n_samples, n_labels)
        0/1 indicator matrix. Not modified.
    priority : array-like of shape (n_labels,), default=None
        Column indices, most preferred first. Defaults to the most specific
        label first: the rarest in ``Y`` (ties in column order).

    Returns
    -------
    y : ndarray of shape (n_samples,)
        The column index of the kept label, or -1.

    Examples
    --------
    >>> import numpy as np
    >>> Y = np.array([[1, 1, 0], [1, 0, 0], [0, 0, 0], [1, 0, 1]])
    >>> one_label_per_sample(Y).tolist()  # column 1 and 2 are rarest
    [1, 0, -1, 2]
    >>> one_label_per_sample(Y, priority=[0, 1, 2]).tolist()
    [0, 0, -1, 0]
    """
    Y = np.asarray(Y)
    if priority is None:
        priority = np.argsort(Y.sum(axis=0), kind="stable")
    priority = np.asarray(priority, dtype=np.intp)
    ordered = Y[:, priority] != 0
    first = ordered.argmax(axis=1)
    return np.where(ordered.any(axis=1), priority[first], -1)


def _indicator(index, n_labels):
    """One-hot rows for column indices; -1 gives an all-zero row."""
    out = np.zeros((index.shape[0], n_labels), dtype=np.int64)
    rows = np.flatnonzero(index >= 0)
    out[rows, index[rows]] = 1
    return out


def _binary_log_loss(Y, P):
    """Mean over samples and labels of the binary cross-entropy."""
    P = np.clip(P, _EPS, 1 - _EPS)
    return float(-np.mean(Y * np.log(P) + (1 - Y) * np.log1p(-P)))


def _label_scores(Y_true, Y_pred):
    """Metrics of predicted label sets, all on 0/1 indicator matrices."""
    return {
        # Example-based accuracy |true & pred| / |true | pred| per sample
        # (1 when both are empty); plain accuracy for one label per sample.
        "accuracy": jaccard_score(Y_true, Y_pred, average="samples", zero_division=1.0),
        "hamming_loss": hamming_loss(Y_true, Y_pred),
        "micro_f1": f1_score(Y_true, Y_pred, average="micro", zero_division=0.0),
        "subset_accuracy": float(np.all(Y_true == Y_pred, axis=1).mean()),
    }


def _fit(model, X, y):
    start = time.perf_counter()
    model.fit(X, y)
    return time.perf_counter() - start


def _exclusive_fold(models, X, y, train, test):
    """Both models on 1-D class labels."""
    classes = np.unique(y)
    y_true = np.searchsorted(classes, y[test])
    rows = {}
    for name, model in models.items():
        seconds = _fit(model, X[train], y[train])
        proba = model.predict_proba(X[test])
        predicted = np.searchsorted(classes, model.predict(X[test]))
        scores = _label_scores(
            _indicator(y_true, classes.shape[0]),
            _indicator(predicted, classes.shape[0]),
        )
        scores["log_loss"] = log_loss(y[test], proba, labels=model.classes_)
        rows[name] = {**scores, "fit_time_s": seconds}
    return rows


def _overlapping_fold(models, X, Y, train, test):
    """Softmax on one label per sample; one-vs-rest on the indicator matrix."""
    n_labels = Y.shape[1]
    rows = {}

    model = models[SOFTMAX_FORCED]
    # What the user trains on: the most specific tag of each training sample
    # (the rarest in the training folds), -1 for "no tag".
    seconds = _fit(model, X[train], one_label_per_sample(Y[train]))
    proba = model.predict_proba(X[test])
    # The softmax probability of class k is its probability for tag k.
    tag_proba = np.zeros((len(test), n_labels))
    tags = model.classes_ >= 0
    tag_proba[:, model.classes_[tags]] = proba[:, tags]
    scores = _label_scores(Y[test], _indicator(model.predict(X[test]), n_labels))
    scores["log_loss"] = _binary_log_loss(Y[test], tag_proba)
    rows[SOFTMAX_FORCED] = {**scores, "fit_time_s": seconds}

    model = models[OVR]
    seconds = _fit(model, X[train], Y[train])
    scores = _label_scores(Y[test], model.predict(X[test]))
    scores["log_loss"] = _binary_log_loss(Y[test], model.predict_proba(X[test]))
    rows[OVR] = {**scores, "fit_time_s": seconds}
    return rows


def compare_models(X, y, *, n_splits=5, C=1.0, random_state=0):
    """Cross-validate SoftmaxRegression and OneVsRestLogistic on one data set.

    Both models see standardised features (a ``StandardScaler`` pipeline)
    and the same folds.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Features.
    y : array-like of shape (n_samples,) or (n_samples, n_labels)
        Exclusive class labels (1-D), or a 0/1 indicator matrix of labels
        that may overlap (2-D).
    n_splits : int, default=5
        Number of folds: stratified for class labels, plain for an indicator
        matrix; shuffled with ``random_state``.
    C : float, default=1.0
        Inverse regularisation strength of both models.
    random_state : int, default=0
        Seed of the fold shuffling.

    Returns
    -------
    table : pandas.DataFrame
        One row per model (index "model"), the mean over folds of each of
        :data:`METRICS`.

    Notes
    -----
    Every label metric is computed on 0/1 indicator matrices, one column per
    class or label: ``accuracy`` is the example-based accuracy
    ``|true & predicted| / |true | predicted|`` averaged over samples (plain
    accuracy when each sample has one label), ``hamming_loss`` the fraction
    of wrong cells, ``micro_f1`` the F1 over all cells and
    ``subset_accuracy`` the fraction of samples whose whole label set is
    right.

    For class labels ``log_loss`` is the multiclass log-loss of
    ``predict_proba`` (normalised over the classes for OneVsRestLogistic).
    For an indicator matrix it is the binary log-loss averaged over labels.

    With an indicator matrix, OneVsRestLogistic fits it directly, while the
    softmax is used the way a user forced to pick one label per sample would:
    each training sample keeps its most specific label (the rarest one in
    the training folds, see :func:`one_label_per_sample`) or the extra class
    "none", and a prediction is the single most probable class, that is one
    label or none. Its probability for class ``k`` serves as the probability
    of label ``k``.

    Examples
    --------
    >>> from sksoftmax.datasets import make_scenes
    >>> X, y = make_scenes(n_samples=150, random_state=0, return_X_y=True)
    >>> table = compare_models(X, y, n_splits=3)
    >>> table.index.tolist()
    ['SoftmaxRegression', 'OneVsRestLogistic']
    >>> table.columns.tolist()  # doctest: +NORMALIZE_WHITESPACE
    ['accuracy', 'log_loss', 'hamming_loss', 'micro_f1', 'subset_accuracy',
     'fit_time_s']
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y)
    if y.ndim == 1:
        estimators = {SOFTMAX: SoftmaxRegression, OVR: OneVsRestLogistic}
        splitter = StratifiedKFold(n_splits, shuffle=True, random_state=random_state)
        run_fold = _exclusive_fold
    elif y.ndim == 2:
        estimators = {SOFTMAX_FORCED: SoftmaxRegression, OVR: OneVsRestLogistic}
        splitter = KFold(n_splits, shuffle=True, random_state=random_state)
        run_fold = _overlapping_fold
    else:
        raise ValueError(f"y must be 1-D or 2-D; got {y.ndim} dimensions.")
    models = {
        name: make_pipeline(StandardScaler(), estimator(C))
        for name, estimator in estimators.items()
    }
    records = [
        {"model": name, **scores}
        for train, test in splitter.split(X, y if y.ndim == 1 else None)
        for name, scores in run_fold(models, X, y, train, test).items()
    ]
    table = pd.DataFrame.from_records(records).groupby("model", sort=False).mean()
    return table[list(METRICS)]


def compare_datasets(datasets, **kwargs):
    """Run :func:`compare_models` on several data sets and stack the tables.

    Parameters
    ----------
    datasets : dict of str to (X, y)
        Data sets by name.
    **kwargs
        Passed on to :func:`compare_models`.

    Returns
    -------
    table : pandas.DataFrame
        Rows indexed by ("dataset", "model"), columns :data:`METRICS`.
    """
    tables = {name: compare_models(X, y, **kwargs) for name, (X, y) in datasets.items()}
    return pd.concat(tables, names=["dataset", "model"])


def plot_comparison(table, title=None):
    """Bar charts of a :func:`compare_datasets` table, one panel per data set.

    Parameters
    ----------
    table : pandas.DataFrame
        As returned by :func:`compare_datasets`.
    title : str, default=None
        Title of the figure.

    Returns
    -------
    fig : matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    higher = ["accuracy", "micro_f1", "subset_accuracy"]
    lower = ["hamming_loss", "log_loss"]
    metrics = higher + lower
    ticks = [f"{m.replace('_', chr(10))}\n(higher ↑)" for m in higher]
    ticks += [f"{m.replace('_', chr(10))}\n(lower ↓)" for m in lower]
    # Softmax in blue, one-vs-rest in orange; the forced softmax is hatched.
    styles = {
        SOFTMAX: {"color": "C0"},
        SOFTMAX_FORCED: {"color": "C0", "hatch": "//", "edgecolor": "white"},
        OVR: {"color": "C1"},
    }
    datasets = table.index.get_level_values("dataset").unique()
    fig, axes = plt.subplots(
        1, len(datasets), figsize=(6.5 * len(datasets), 4.8), squeeze=False
    )
    positions = np.arange(len(metrics))
    for ax, dataset in zip(axes[0], datasets, strict=True):
        rows = table.loc[dataset]
        width = 0.8 / len(rows)
        for i, (model, values) in enumerate(rows.iterrows()):
            offset = (i - (len(rows) - 1) / 2) * width
            bars = ax.bar(
                positions + offset,
                values[metrics].to_numpy(dtype=float),
                width,
                label=model,
                **styles.get(model, {}),
            )
            ax.bar_label(bars, fmt="%.2f", fontsize=7, padding=1)
        ax.axvline(len(higher) - 0.5, color="grey", linewidth=0.8, linestyle="--")
        ax.set_xticks(positions, ticks, fontsize=8)
        ax.set_title(dataset)
        ax.set_ylim(0, 1.2 * max(1.0, float(rows[metrics].to_numpy().max())))
        ax.legend(fontsize=8, loc="upper left", ncols=len(rows))
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def parse_example_args(description, figure, argv=None):
    """The command line every example script shares.

    Parameters
    ----------
    description : str
        Help text (the script's docstring).
    figure : str
        File name of the figure, saved by default next to the script (the
        directory of ``sys.argv[0]``), or in the working directory when
        ``sys.argv[0]`` is not a script, as under sphinx-gallery.
    argv : list of str, default=None
        Arguments; ``sys.argv[1:]`` when None.

    Returns
    -------
    args : argparse.Namespace
        ``quick`` (small sizes, for tests), ``no_plot`` and ``output``
        (where to save the PNG).
    """
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick", action="store_true", help="small data for a fast run (tests)"
    )
    parser.add_argument(
        "--no-plot", action="store_true", help="print the results only, no figure"
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=None,
        help=f"where to save the figure (default: {figure} next to the script)",
    )
    args = parser.parse_args(argv)
    if args.output is None:
        script = Path(sys.argv[0]) if sys.argv and sys.argv[0] else Path()
        folder = script.parent if script.suffix == ".py" else Path()
        args.output = folder / figure
    return args


def save_figure(fig, output):
    """Save ``fig`` as a PNG at ``output`` and show it (a no-op under Agg).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure.
    output : str or pathlib.Path
        Destination file; its directory must exist.
    """
    import matplotlib.pyplot as plt

    fig.savefig(output, dpi=120, bbox_inches="tight")
    print(f"Saved the figure to {output}")
    plt.show()
