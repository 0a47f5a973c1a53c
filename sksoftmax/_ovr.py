"""OneVsRestLogistic: one binary logistic regression per label."""

import warnings
from numbers import Real

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike
from scipy.special import expit, log_expit, logit
from sklearn.utils._param_validation import Interval

from ._base import (
    EncodedTargets,
    _LinearClassifier,
    check_class_weight,
    chunkwise_on_dask,
    combined_weights,
    encode_classes,
)
from ._loss import BinaryLoss
from .special import _binary_log_proba, _binary_proba, log_softmax, softmax

# Intercept of a label that is constant in training. Its probability is then
# exactly 0 or 1, as scikit-learn's constant predictor gives: expit(-z)
# underflows to exactly 0 once exp(-z) is below the smallest subnormal float64
# (z > 745; far earlier in float32), and expit(z) rounds to exactly 1 from
# z > 37. Its log, log_expit(-z) = -z, stays finite.
_SATURATED_LOGIT = 1000.0


class OneVsRestLogistic(_LinearClassifier):
    """One L2-regularised logistic regression per label, fitted jointly.

    The model for overlapping labels: a song can be both "vocal" and
    "soundtrack", so each label gets its own binary classifier and its own
    probability, and the probabilities of a sample need not sum to one.
    When each sample has exactly one of several mutually exclusive classes,
    :class:`~sksoftmax.SoftmaxRegression` is the better model.

    Per label the objective is exactly scikit-learn's binary
    :class:`~sklearn.linear_model.LogisticRegression`,

    .. math:: C \\sum_i s_i \\, \\mathrm{logloss}_i + \\tfrac{1}{2} \\|w\\|^2,

    intercept not penalised. All labels share each evaluation (one
    ``X @ W`` for all labels); since the objective is a sum of independent
    terms, the joint optimum is the per-label optimum. Where the products
    are large enough to be worth sharing, each label has its own L-BFGS run,
    and the runs advance in lockstep; otherwise one run covers all labels.
    Either way the fit ends only when *every* label's gradient meets ``tol``
    (see :ref:`optimizer`).

    Parameters
    ----------
    C : float, default=1.0
        Inverse regularisation strength; must be positive. ``numpy.inf``
        fits without penalty.
    l1_ratio : float in [0, 1], default=0.0
        Elastic-net mixing, with scikit-learn 1.8+'s meaning: the penalty is
        ``(1 - l1_ratio) / 2 * ||W||_F^2 + l1_ratio * ||W||_1``. 0 is the L2
        penalty alone (the L-BFGS solver, unchanged); any positive value
        gives exact zeros in ``coef_`` (see :ref:`penalties`). There is no
        ``penalty`` parameter: scikit-learn deprecated it in 1.8 in favour of
        ``l1_ratio`` and ``C`` (``C=numpy.inf`` for no penalty).
    fit_intercept : bool, default=True
        Whether to fit an (unpenalised) intercept per label.
    tol : float, default=1e-4
        Stop when, for every label, the largest absolute entry of the gradient
        of its objective divided by ``C * sum(weights)`` is at most ``tol``
        (scikit-learn's lbfgs criterion, label by label) and its objective is
        estimated within 1e-10 (relative) of its minimum.
    max_iter : int, default=1000
        Maximum number of solver iterations.
    class_weight : dict, "balanced" or None, default=None
        For an indicator matrix, ``{0: w_negative, 1: w_positive}`` applied to
        every label, or "balanced" to balance positives and negatives of each
        label (as ``OneVsRestClassifier(LogisticRegression(class_weight=...))``).
        For 1-D labels, "balanced" does the same per one-vs-rest problem and a
        dict ``{class_label: weight}`` weights the samples of each class.
    threshold : float, default=0.5
        For an indicator matrix or two classes, ``predict`` reports a label
        when its probability is above ``threshold`` (strictly, as
        scikit-learn's ``OneVsRestClassifier``: a score of exactly 0 at the
        default 0.5 predicts the negative class).
    warm_start : bool, default=False
        Start from the previous solution when refitting.
    verbose : int, default=0
        Print the objective and gradient at every iteration when positive.
    precondition : bool, default=True
        Optimise in rescaled variables whose curvature is close to the
        identity, rebuilt from the Hessian's diagonal blocks as the fit
        proceeds. The optimum, and ``coef_``, are unchanged (reported in the
        original feature space); only the number of iterations drops,
        sharply on correlated or unscaled features. False runs plain
        L-BFGS, for comparison.

    Attributes
    ----------
    classes_ : ndarray of shape (n_labels,) or (n_classes,)
        ``arange(n_labels)`` for an indicator matrix, else the class labels.
    coef_ : ndarray of shape (n_labels, n_features)
        One coefficient row per label (a single row for two classes).
    intercept_ : ndarray of shape (n_labels,)
        Intercepts.
    n_iter_ : ndarray of shape (n_labels,)
        Iterations until each label met ``tol`` (0 for constant labels).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Feature names, when ``X`` had string column names.

    See Also
    --------
    SoftmaxRegression : One softmax over mutually exclusive classes.
    sklearn.multiclass.OneVsRestClassifier : The reference implementation,
        with ``LogisticRegression`` inside.

    Notes
    -----
    A grouped L1 penalty (``SoftmaxRegression``'s ``l1_groups``) is not
    offered: it would couple the labels' independent problems.

    Targets:

    * a multilabel indicator matrix (dense or sparse 0/1): ``predict`` returns
      an indicator matrix of the same dtype and ``predict_proba`` independent
      per-label probabilities;
    * 1-D labels with more than two classes: one-vs-rest; ``predict`` is the
      label with the highest score and the rows of ``predict_proba`` are the
      per-class probabilities normalised to sum to one, as scikit-learn's
      ``OneVsRestClassifier`` does;
    * 1-D labels with two classes: a single logistic regression;
    * 1-D labels of a single class: that class is predicted with probability
      1 (``predict_proba`` has one column), and a warning says so, as
      ``OneVsRestClassifier`` does.

    A label that is constant in training (always 0 or always 1) has no finite
    optimum; it gets a zero coefficient row and an intercept of -1000 or
    +1000, so it predicts the constant with probability exactly 0 or 1 (its
    log-probability stays finite), and a warning says so.

    Examples
    --------
    >>> import numpy as np
    >>> from sksoftmax import OneVsRestLogistic
    >>> X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    >>> Y = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])  # two overlapping labels
    >>> clf = OneVsRestLogistic(C=100.0).fit(X, Y)
    >>> clf.predict(X)
    array([[0, 0],
           [0, 1],
           [1, 0],
           [1, 1]])
    >>> clf.predict_proba(X).shape
    (4, 2)

    The L1 penalty selects features label by label:

    >>> OneVsRestLogistic(C=1.0, l1_ratio=1.0).fit(X, Y).coef_.shape
    (2, 2)
    """

    _parameter_constraints: dict = {
        **_LinearClassifier._parameter_constraints,
        "threshold": [Interval(Real, 0, 1, closed="neither")],
    }

    def __init__(
        self,
        C=1.0,
        *,
        l1_ratio=0.0,
        fit_intercept=True,
        tol=1e-4,
        max_iter=1000,
        class_weight=None,
        threshold=0.5,
        warm_start=False,
        verbose=0,
        precondition=True,
    ):
        self.C = C
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.max_iter = max_iter
        self.class_weight = class_weight
        self.threshold = threshold
        self.warm_start = warm_start
        self.verbose = verbose
        self.precondition = precondition

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        tags.target_tags.multi_output = True
        return tags

    # -- targets -------------------------------------------------------------

    _multi_output = True

    def _indicator_targets(self, y, sample_weight):
        """0/1 matrix and per-label weights of a multilabel indicator ``y``."""
        Y = y.toarray() if sp.issparse(y) else np.asarray(y)
        self._y_dtype = Y.dtype
        self._target_type = "multilabel-indicator"
        self.classes_ = np.arange(Y.shape[1])
        class_weight = self.class_weight
        if isinstance(class_weight, dict):
            unknown = set(class_weight) - {0, 1}
            if unknown:
                raise ValueError(
                    "With an indicator matrix, class_weight keys must be 0 "
                    f"(negative) and 1 (positive); got {sorted(unknown)}."
                )
            check_class_weight(class_weight, np.array([0, 1]))
        Y = Y != 0
        return Y, self._per_label_weights(Y, sample_weight, class_weight)

    def _label_targets(self, y, sample_weight):
        """One-vs-rest 0/1 matrix and weights of 1-D labels ``y``.

        A single class is allowed, as scikit-learn's ``OneVsRestClassifier``
        allows it: its one label is constant, and predicted as such.
        """
        y = np.ravel(y)
        classes, y_index = encode_classes(
            y, sample_weight, type(self).__name__, min_classes=1
        )
        self.classes_ = classes
        self._target_type = "binary" if len(classes) == 2 else "multiclass"
        # A bool one-hot (one column for two classes), built directly:
        # label_binarize returns int64, eight times the memory.
        Y = y_index[:, None] == np.arange(1 if len(classes) == 2 else 0, len(classes))
        class_weight = check_class_weight(self.class_weight, classes)
        if isinstance(class_weight, dict):
            # {class: weight} weights the samples of each class in every
            # binary problem, as OneVsRestClassifier(LogisticRegression(...)).
            return Y, combined_weights(sample_weight, class_weight, y)
        return Y, self._per_label_weights(Y, sample_weight, class_weight)

    @staticmethod
    def _per_label_weights(Y, sample_weight, class_weight):
        """Weights of each label's binary problem, negatives and positives
        weighted as ``class_weight`` ({0: w, 1: w} or "balanced") says;
        ``sample_weight`` itself (1-D or None) without class weights."""
        if class_weight is None:
            return sample_weight
        return np.column_stack(
            [
                combined_weights(sample_weight, class_weight, column)
                for column in Y.T.astype(np.intp)
            ]
        )

    def _encode_targets(self, y, sample_weight):
        if y.ndim == 2 and y.shape[1] > 1:
            # type_of_target calls any two-valued integer matrix an indicator;
            # only 0 and 1 are labels here.
            others = _values_other_than_0_and_1(y)
            if others.size:
                raise ValueError(
                    "A 2-D y must be a multilabel indicator matrix containing "
                    f"only 0 and 1; found the values {others[:5]}."
                )
            Y, weights = self._indicator_targets(y, sample_weight)
        else:
            Y, weights = self._label_targets(y, sample_weight)

        # A label is constant when no sample of positive weight has it, or
        # every one has it. Found without summing weights, which can overflow
        # (weights near the float limit) where "is there one?" cannot.
        if weights is None:
            weighted = np.ones((Y.shape[0], 1), dtype=bool)
        else:
            weighted = weights.reshape(Y.shape[0], -1) > 0
            if not weighted.any():
                raise ValueError(
                    f"class_weight={self.class_weight!r} times sample_weight "
                    "is zero for every sample: the classes of positive class "
                    "weight have no sample of positive sample_weight."
                )
        has_positive = (Y & weighted).any(axis=0)
        has_negative = (~Y & weighted).any(axis=0)
        constant = ~(has_positive & has_negative)
        intercepts = np.where(
            constant, np.where(has_positive, _SATURATED_LOGIT, -_SATURATED_LOGIT), 0.0
        )
        if constant.any():
            self._warn_constant(constant)
        active = np.flatnonzero(~constant)
        if not active.size:
            return EncodedTargets(None, Y, weights, active, intercepts)
        loss = BinaryLoss(active.size, self.fit_intercept)
        if weights is not None and weights.ndim == 2:
            weights = weights[:, active]
        if active.size < Y.shape[1]:
            Y = Y[:, active]
        return EncodedTargets(loss, Y, weights, active, intercepts)

    def _warn_constant(self, constant):
        """Say which labels are constant, as OneVsRestClassifier does."""
        if self._target_type == "multiclass" and len(self.classes_) == 1:
            message = (
                f"y has a single class, {self.classes_.tolist()[0]!r}; it will always "
                "be predicted, with probability 1."
            )
        else:
            labels = self._output_labels()
            message = (
                f"Label(s) {labels[constant].tolist()} are constant in "
                "the training data (always 0 or always 1, counting only "
                "samples of positive weight); they will always predict that "
                "value."
            )
        warnings.warn(message, UserWarning, stacklevel=5)

    def _store_solution(self, result, encoded, n_features):
        n_labels = encoded.intercepts.shape[0]
        coef = np.zeros((n_labels, n_features + 1))
        coef[:, -1] = encoded.intercepts
        self.n_iter_ = np.zeros(n_labels, dtype=np.int32)
        if result is not None:
            coef[encoded.rows, : result.coef.shape[1]] = result.coef
            self.n_iter_[encoded.rows] = result.n_iter
        self._set_coef(coef, n_features, fit_intercept=True)

    # -- prediction ----------------------------------------------------------

    def _output_labels(self):
        # With two classes the one row of coef_ is classes_[1]'s.
        return self.classes_[1:] if self._is_binary() else self.classes_

    def _separation_detail(self, rows, separated):
        if self._is_binary():
            return ""
        labels = self._output_labels()[rows][separated]
        return f" for label(s) {labels.tolist()}"

    def _is_binary(self):
        return self._target_type == "binary"

    _one_score_column = _is_binary

    def _probabilities(self, scores, log):
        if self._is_binary():
            return _binary_log_proba(scores) if log else _binary_proba(scores)
        if self._target_type == "multilabel-indicator":
            return log_expit(scores) if log else expit(scores)
        # 1-D classes: expit(z_k) / sum_j expit(z_j), as OneVsRestClassifier,
        # taken in log space (softmax of the log-probabilities) so it never
        # divides 0 by 0.
        log_proba = log_expit(scores)
        return log_softmax(log_proba, axis=1) if log else softmax(log_proba, axis=1)

    @chunkwise_on_dask
    def predict(self, X: ArrayLike) -> np.ndarray:
        """Predicted labels.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array} of shape (n_samples, n_features)
            A dask array or DataFrame gives a lazy dask array, computed
            chunk by chunk.

        Returns
        -------
        y_pred : ndarray of shape (n_samples, n_labels) or (n_samples,)
            An indicator matrix (label probability above ``threshold``) for
            indicator targets; otherwise class labels.
        """
        scores, _ = self._raw_scores(X)
        if self._target_type == "multilabel-indicator":
            return self._above_threshold(scores).astype(self._y_dtype)
        if self._is_binary():
            return self.classes_[self._above_threshold(scores[:, 0]).astype(np.intp)]
        return self.classes_[scores.argmax(axis=1)]

    def _above_threshold(self, scores):
        """Which log-odds ``scores`` report their label: probability
        strictly above ``threshold``, as scikit-learn's OneVsRestClassifier
        (decision > 0): a score of exactly 0 at 0.5 is the negative class."""
        return scores > logit(self.threshold)


def _values_other_than_0_and_1(y):
    """The distinct values of a 2-D ``y`` (dense or sparse) other than 0
    and 1, sorted: empty for an indicator matrix.

    Two comparisons instead of ``np.unique`` of all of ``y``, which sorts
    it: 5 us against 110 us on 1,200 x 6 labels, the check of every
    multilabel fit.
    """
    values = y.data if sp.issparse(y) else np.asarray(y)
    return np.unique(values[(values != 0) & (values != 1)])
