"""Which model fits your labels? ``inspect_labels`` and ``to_exclusive``."""

import sys
import textwrap
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike
from sklearn.utils.multiclass import type_of_target

__all__ = ["LabelReport", "inspect_labels", "to_exclusive"]


@dataclass(frozen=True, repr=False)
class LabelReport:
    """The label structure of a target, and the model it calls for.

    Returned by :func:`inspect_labels`.

    Attributes
    ----------
    n_samples : int
        Number of samples (rows).
    n_labels : int
        Number of distinct classes (1-D labels) or of columns (indicator
        matrix).
    fraction_multi : float
        Fraction of samples with more than one label.
    fraction_none : float
        Fraction of samples with no label: all-zero rows of an indicator
        matrix, or missing values (None, NaN) among 1-D labels.
    exclusive : bool
        True when no sample has more than one label.
    recommendation : {"softmax", "one-vs-rest"}
        :class:`~sksoftmax.SoftmaxRegression` for exclusive labels,
        :class:`~sksoftmax.OneVsRestLogistic` for overlapping ones.
    suggest_other_class : bool
        True when the labels are exclusive but some samples have none: give
        those an explicit "other" class (see :func:`to_exclusive`).
    reason : str
        One paragraph explaining the recommendation.
    """

    n_samples: int
    n_labels: int
    fraction_multi: float
    fraction_none: float
    exclusive: bool
    recommendation: str
    suggest_other_class: bool
    reason: str

    def __repr__(self):
        lines = [f"{type(self).__name__}("]
        for field in fields(self):
            value = getattr(self, field.name)
            if field.name == "reason":
                chunks = textwrap.wrap(value, width=64, drop_whitespace=False)
                lines.append("    reason=(")
                lines += [f"        {chunk!r}" for chunk in chunks]
                lines.append("    ),")
            elif isinstance(value, float):
                lines.append(f"    {field.name}={value:.3f},")
            else:
                lines.append(f"    {field.name}={value!r},")
        lines.append(")")
        return "\n".join(lines)


def _as_array(y, name):
    """``y`` as a dense ndarray (a view where possible; never modified)."""
    if sp.issparse(y):
        return y.toarray()
    if _is_pandas(y):
        return y.to_numpy()
    try:
        with warnings.catch_warnings():
            # numpy < 1.24 only warns about ragged input, and makes an object
            # array: the same mistake, the same error.
            warnings.simplefilter("error", _RAGGED_WARNING)
            return np.asarray(y)
    except (ValueError, _RAGGED_WARNING) as exc:
        raise TypeError(
            f"{name} must be 1-D class labels or a 2-D 0/1 indicator matrix; it "
            "looks like a ragged list of label sets. Convert it with "
            "sklearn.preprocessing.MultiLabelBinarizer first."
        ) from exc


# numpy moved the warning to numpy.exceptions in 1.25.
_RAGGED_WARNING = getattr(np, "exceptions", np).VisibleDeprecationWarning


def _is_pandas(y):
    """Whether ``y`` is a pandas DataFrame or Series, without importing pandas."""
    pd = sys.modules.get("pandas")
    return pd is not None and isinstance(y, pd.DataFrame | pd.Series)


def _check_indicator(Y, name):
    """Validate a 2-D 0/1 indicator matrix; return it as an int8 array.

    scikit-learn's :func:`~sklearn.utils.multiclass.type_of_target` decides
    what a 0/1 indicator matrix is ("multilabel-indicator"); the checks
    before it only give clearer messages for the shape, and keep NaN and
    infinities away from it (it warns about casting them, and this library
    never warns).
    """
    if Y.ndim != 2:
        raise ValueError(
            f"{name} must be a 2-D indicator matrix of shape (n_samples, n_labels); "
            f"got an array of shape {Y.shape}."
        )
    if Y.shape[0] == 0 or Y.shape[1] == 0:
        raise ValueError(f"{name} is empty (shape {Y.shape}); nothing to inspect.")
    if Y.dtype.kind in "fc" and not np.isfinite(Y).all():
        raise ValueError(
            f"{name} must be a 0/1 indicator matrix; it contains NaN or infinity."
        )
    # One column is "binary" to scikit-learn whatever its two values are; a
    # column of zeros beside it leaves the check to "multilabel-indicator".
    padded = Y if Y.shape[1] > 1 else np.column_stack([Y, np.zeros_like(Y)])
    kind = type_of_target(padded, input_name=name)
    if kind != "multilabel-indicator":
        raise ValueError(
            f"{name} must be a 0/1 indicator matrix; got values of dtype "
            f"{Y.dtype} that scikit-learn's type_of_target reads as {kind!r}. For "
            "a list of label sets per sample, use "
            "sklearn.preprocessing.MultiLabelBinarizer first."
        )
    return Y.astype(np.int8)


def _missing(y):
    """Mask of missing 1-D labels (None or NaN)."""
    if y.dtype.kind == "f":
        return np.isnan(y)
    if y.dtype.kind == "O":
        import pandas as pd  # None, NaN, pd.NA and NaT alike

        return np.asarray(pd.isna(y), dtype=bool)
    return np.zeros(y.shape, dtype=bool)


def _percent(fraction):
    return f"{100 * fraction:.1f}%"


def _reason(n_samples, n_labels, multi, none, max_labels, indicator):
    """One paragraph explaining the recommendation from the numbers."""
    unit = "labels" if indicator else "classes"
    if multi > 0:
        return (
            f"{_percent(multi)} of the {n_samples} samples carry two or more of "
            f"the {n_labels} labels (up to {max_labels} at once), so the labels "
            "overlap and no single class describes those samples. Fit one binary "
            "classifier per label (OneVsRestLogistic): each label gets its own "
            "probability, and a sample's probabilities need not sum to one."
        )
    if none > 0:
        if none == 1:
            return (
                f"None of the {n_samples} samples has a label. There is nothing "
                "to learn until some samples are labelled."
            )
        return (
            f"No sample has more than one of the {n_labels} {unit}, but "
            f"{_percent(none)} of the {n_samples} samples have none. Apart from "
            "those the labels are mutually exclusive: give the unlabelled samples "
            "an explicit 'other' class (to_exclusive does this) and fit a softmax "
            f"(SoftmaxRegression) over the {n_labels + 1} classes, whose "
            "probabilities sum to one."
        )
    return (
        f"Each of the {n_samples} samples has exactly one of {n_labels} {unit}, "
        "so the classes are mutually exclusive. Fit a softmax "
        "(SoftmaxRegression): it models the choice of one class directly, and "
        "its probabilities sum to one across the classes."
    )


def inspect_labels(y: ArrayLike) -> LabelReport:
    """Tell whether labels are mutually exclusive or overlap, and which model fits.

    Parameters
    ----------
    y : array-like of shape (n_samples,) or (n_samples, n_labels)
        Either class labels, one per sample (missing values, None or NaN,
        count as "no label"), or a 0/1 (or boolean) indicator matrix, dense,
        sparse or a pandas DataFrame, with one column per label. A single
        column is read as 1-D class labels, as scikit-learn does. ``y`` is
        not modified.

    Returns
    -------
    report : LabelReport
        ``n_samples``, ``n_labels``, ``fraction_multi`` (samples with more
        than one label), ``fraction_none`` (samples with none), ``exclusive``,
        ``recommendation`` ("softmax" or "one-vs-rest"),
        ``suggest_other_class`` and a one-paragraph ``reason``.

    Raises
    ------
    ValueError
        If ``y`` is empty, has more than two dimensions, or is a 2-D array
        with values other than 0 and 1.
    TypeError
        If ``y`` is a ragged list of label sets.

    See Also
    --------
    to_exclusive : Turn an exclusive indicator matrix into class labels.

    Notes
    -----
    The rule is the one that separates the two models. A softmax gives each
    sample one distribution over the classes, so it fits exactly when every
    sample has one label ("exclusive"). If some sample has two or more
    labels, no single class describes it, and one independent binary
    classifier per label is the right model ("one-vs-rest"). Samples with no
    label do not break exclusivity; they need a class of their own
    ("other").

    Examples
    --------
    >>> import numpy as np
    >>> from sksoftmax import inspect_labels
    >>> inspect_labels(["rock", "jazz", "rock", "country"]).recommendation
    'softmax'
    >>> Y = np.array([[1, 0, 1], [0, 1, 0], [0, 0, 0], [1, 1, 0]])
    >>> report = inspect_labels(Y)
    >>> report.recommendation, report.fraction_multi, report.fraction_none
    ('one-vs-rest', 0.5, 0.25)
    >>> inspect_labels(np.array([[1, 0], [0, 1], [0, 0]])).suggest_other_class
    True
    """
    y = _as_array(y, "y")
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim == 1:
        if y.shape[0] == 0:
            raise ValueError("y is empty; nothing to inspect.")
        if y.dtype.kind == "O" and any(
            isinstance(v, list | tuple | set | frozenset | np.ndarray) for v in y
        ):
            raise TypeError(
                "y looks like a list of label sets; convert it to an indicator "
                "matrix with sklearn.preprocessing.MultiLabelBinarizer first."
            )
        missing = _missing(y)
        present = y[~missing]
        if present.dtype.kind == "O":
            # pd.unique does not sort: labels of mixed types cannot be sorted.
            import pandas as pd

            n_labels = len(pd.unique(present))
        else:
            n_labels = len(np.unique(present))
        n_samples = y.shape[0]
        counts = (~missing).astype(np.intp)
        indicator = False
    elif y.ndim == 2:
        Y = _check_indicator(y, "y")
        n_samples, n_labels = Y.shape
        counts = Y.sum(axis=1, dtype=np.intp)
        indicator = True
    else:
        raise ValueError(
            "y must be 1-D class labels or a 2-D indicator matrix; got an array "
            f"with {y.ndim} dimensions."
        )
    fraction_multi = float(np.mean(counts > 1))
    fraction_none = float(np.mean(counts == 0))
    exclusive = fraction_multi == 0
    return LabelReport(
        n_samples=int(n_samples),
        n_labels=int(n_labels),
        fraction_multi=fraction_multi,
        fraction_none=fraction_none,
        exclusive=exclusive,
        recommendation="softmax" if exclusive else "one-vs-rest",
        suggest_other_class=exclusive and 0 < fraction_none < 1,
        reason=_reason(
            n_samples,
            n_labels,
            fraction_multi,
            fraction_none,
            int(counts.max()),
            indicator,
        ),
    )


def _label_array(values):
    """``values`` as an array scikit-learn can sort: numbers or strings."""
    if all(
        isinstance(v, int | float | np.integer | np.floating)
        and not isinstance(v, bool | np.bool_)
        for v in values
    ):
        return np.array(values)
    return np.array([str(v) for v in values])


def to_exclusive(
    Y: ArrayLike,
    other_label: str | int | float = "other",
    *,
    labels: Sequence | None = None,
) -> np.ndarray:
    """Turn an indicator matrix with at most one label per row into class labels.

    Rows with one label get that label; rows with none get ``other_label``.
    This is the encoding :class:`~sksoftmax.SoftmaxRegression` needs for
    exclusive labels given as an indicator matrix.

    Parameters
    ----------
    Y : {array-like, sparse matrix} of shape (n_samples, n_labels)
        0/1 (or boolean) indicator matrix, or a pandas DataFrame whose
        columns name the labels. Not modified.
    other_label : str, int or float, default="other"
        The class given to rows without a label; must differ from the labels.
    labels : sequence of length n_labels, default=None
        The class of each column. Defaults to the column names of a
        DataFrame, else to the column indices ``0 .. n_labels - 1``.

    Returns
    -------
    y : ndarray of shape (n_samples,)
        One class per row: a numeric array if the labels and
        ``other_label`` are all numbers, otherwise a string array (labels
        mixing numbers and strings cannot be sorted, so the numbers become
        strings: ``"0"``, ``"1"``, ...).

    Raises
    ------
    ValueError
        If some row has two or more labels (the labels overlap: use
        :class:`~sksoftmax.OneVsRestLogistic` instead), if ``Y`` is not a 2-D
        0/1 matrix, if ``labels`` has the wrong length or repeats a label, or
        if ``other_label`` is one of the labels.

    See Also
    --------
    inspect_labels : Check the label structure first.

    Examples
    --------
    >>> import numpy as np
    >>> from sksoftmax import to_exclusive
    >>> Y = np.array([[1, 0, 0], [0, 0, 1], [0, 0, 0]])
    >>> to_exclusive(Y, labels=["classical", "rock", "jazz"]).tolist()
    ['classical', 'jazz', 'other']
    >>> to_exclusive(Y, other_label=-1).tolist()
    [0, 2, -1]
    >>> to_exclusive(Y).tolist()
    ['0', '2', 'other']
    """
    if labels is None and _is_pandas(Y) and Y.ndim == 2:
        labels = list(Y.columns)
    Y = _check_indicator(_as_array(Y, "Y"), "Y")
    n_samples, n_labels = Y.shape
    if labels is None:
        labels = list(range(n_labels))
    elif isinstance(labels, str) or not hasattr(labels, "__len__"):
        raise TypeError(
            f"labels must be a sequence of {n_labels} labels; got {labels!r}."
        )
    labels = list(labels.tolist() if isinstance(labels, np.ndarray) else labels)
    if len(labels) != n_labels:
        raise ValueError(
            f"labels has {len(labels)} entries but Y has {n_labels} columns."
        )
    if len(set(labels)) != n_labels:
        raise ValueError(f"labels must be distinct; got {labels}.")
    if other_label in labels:
        raise ValueError(
            f"other_label={other_label!r} is already one of the labels {labels}; "
            "choose a different other_label."
        )

    counts = Y.sum(axis=1, dtype=np.intp)
    multi = np.flatnonzero(counts > 1)
    if multi.size:
        raise ValueError(
            f"to_exclusive needs at most one label per row, but {multi.size} of "
            f"{n_samples} rows have two or more (rows {multi[:5].tolist()}"
            f"{', ...' if multi.size > 5 else ''}). These labels overlap: keep the "
            "indicator matrix and use OneVsRestLogistic."
        )
    # Column n_labels stands for "no label".
    index = np.where(counts == 1, Y.argmax(axis=1), n_labels)
    return _label_array([*labels, other_label])[index]
