"""OneVsRestLogistic: one binary logistic regression per label."""

import warnings
from numbers import Real

import numpy as np
import scipy.sparse as sp
from scipy.special import expit, log_expit, logit
from sklearn.preprocessing import label_binarize
from sklearn.utils._param_validation import Interval
from sklearn.utils.multiclass import type_of_target

from ._base import (
    EncodedTargets,
    _LinearClassifier,
    check_class_weight,
    class_sample_weight,
    encode_classes,
)
from ._loss import BinaryLoss
from .special import _binary_log_proba, _binary_proba, logsumexp

# Intercept of a label that is constant in training: its probability rounds
# to exactly 0 or 1 in float64, while its log stays finite.
_SATURATED_LOGIT = 40.0


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

    intercept not penalised. All labels are fitted in one vectorised L-BFGS
    run (one ``X @ W`` for all labels per evaluation); since the objective is
    a sum of independent terms, the joint optimum is the per-label optimum,
    and the run stops only when *every* label's gradient meets ``tol``.

    Parameters
    ----------
    C : float, default=1.0
        Inverse regularisation strength; must be positive. ``numpy.inf``
        fits without penalty.
    fit_intercept : bool, default=True
        Whether to fit an (unpenalised) intercept per label.
    tol : float, default=1e-4
        Stop when, for every label, the largest absolute entry of the gradient
        of its objective divided by ``C * sum(weights)`` is at most ``tol``
        (scikit-learn's lbfgs criterion, label by label).
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
        when its probability is at least ``threshold``.
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
    Targets:

    * a multilabel indicator matrix (dense or sparse 0/1): ``predict`` returns
      an indicator matrix of the same dtype and ``predict_proba`` independent
      per-label probabilities;
    * 1-D labels with more than two classes: one-vs-rest; ``predict`` is the
      label with the highest score and the rows of ``predict_proba`` are the
      per-class probabilities normalised to sum to one, as scikit-learn's
      ``OneVsRestClassifier`` does;
    * 1-D labels with two classes: a single logistic regression.

    A label that is constant in training (always 0 or always 1) has no finite
    optimum; it gets a zero coefficient row and an intercept of -40 or +40, so
    it predicts the constant, and a warning says so.

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
    """

    _parameter_constraints: dict = {
        **_LinearClassifier._parameter_constraints,
        "threshold": [Interval(Real, 0, 1, closed="neither")],
    }

    def __init__(
        self,
        C=1.0,
        *,
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
        """One-vs-rest 0/1 matrix and weights of 1-D labels ``y``."""
        y = np.ravel(y)
        classes, _ = encode_classes(y, sample_weight, type(self).__name__)
        self.classes_ = classes
        Y = label_binarize(y, classes=classes).astype(bool)
        class_weight = check_class_weight(self.class_weight, classes)
        if isinstance(class_weight, dict):
            # {class: weight} weights the samples of each class in every
            # binary problem, as OneVsRestClassifier(LogisticRegression(...)).
            weights = sample_weight * class_sample_weight(class_weight, y)
            return Y, np.repeat(weights[:, None], Y.shape[1], axis=1)
        return Y, self._per_label_weights(Y, sample_weight, class_weight)

    @staticmethod
    def _per_label_weights(Y, sample_weight, class_weight):
        """Weights of each label's binary problem, negatives and positives
        weighted as ``class_weight`` ({0: w, 1: w} or "balanced") says."""
        return np.column_stack(
            [
                sample_weight * class_sample_weight(class_weight, column)
                for column in Y.T.astype(np.intp)
            ]
        )

    def _encode_targets(self, y, sample_weight):
        self._target_type = type_of_target(y)
        if y.ndim == 2 and y.shape[1] > 1:
            # type_of_target calls any two-valued integer matrix an indicator;
            # only 0 and 1 are labels here.
            values = np.unique(y.toarray() if sp.issparse(y) else y)
            if np.isin(values, (0, 1)).all():
                Y, weights = self._indicator_targets(y, sample_weight)
            else:
                raise ValueError(
                    "A 2-D y must be a multilabel indicator matrix containing "
                    "only 0 and 1; found the values "
                    f"{values[~np.isin(values, (0, 1))][:5]}."
                )
        else:
            Y, weights = self._label_targets(y, sample_weight)

        positives = (weights * Y).sum(axis=0)
        totals = weights.sum(axis=0)
        self._constant = (positives == 0) | (positives == totals)
        self._constant_logit = np.where(
            positives > 0, _SATURATED_LOGIT, -_SATURATED_LOGIT
        )
        if self._constant.any():
            warnings.warn(
                f"Label(s) {self.classes_[self._constant].tolist()} are constant "
                "in the training data (always 0 or always 1, counting only "
                "samples of positive weight); they will always predict that "
                "value.",
                UserWarning,
                stacklevel=4,
            )
        active = np.flatnonzero(~self._constant)
        if not active.size:
            return EncodedTargets(None, Y, weights, active)
        loss = BinaryLoss(active.size, self.fit_intercept)
        return EncodedTargets(loss, Y[:, active], weights[:, active], active)

    def _store_solution(self, result, encoded, n_features):
        n_labels = self._constant.shape[0]
        coef = np.zeros((n_labels, n_features + 1))
        coef[self._constant, -1] = self._constant_logit[self._constant]
        self.n_iter_ = np.zeros(n_labels, dtype=np.int32)
        if result is not None:
            coef[encoded.rows, : result.coef.shape[1]] = result.coef
            self.n_iter_[encoded.rows] = result.n_iter
        self.coef_ = np.ascontiguousarray(coef[:, :-1])
        self.intercept_ = coef[:, -1].copy()
        del self._constant, self._constant_logit

    # -- prediction ----------------------------------------------------------

    def decision_function(self, X):
        """Per-label log-odds.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        scores : ndarray of shape (n_samples, n_labels) or (n_samples,)
            1-D for two classes given as 1-D labels.
        """
        scores = self._raw_scores(X)
        return scores[:, 0] if self._is_binary() else scores

    def _is_binary(self):
        return self._target_type == "binary"

    def predict_proba(self, X):
        """Probabilities.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_labels)
            Independent per-label probabilities for an indicator matrix;
            per-class probabilities normalised to sum to one for 1-D labels.
        """
        scores = self._raw_scores(X)
        if self._is_binary():
            return _binary_proba(scores)
        proba = expit(scores)
        if self._target_type != "multilabel-indicator":
            proba /= proba.sum(axis=1, keepdims=True)
        return proba

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`, finite for finite input.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_labels)
        """
        scores = self._raw_scores(X)
        if self._is_binary():
            return _binary_log_proba(scores)
        log_proba = log_expit(scores)
        if self._target_type != "multilabel-indicator":
            log_proba -= logsumexp(log_proba, axis=1, keepdims=True)
        return log_proba

    def predict(self, X):
        """Predicted labels.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        y_pred : ndarray of shape (n_samples, n_labels) or (n_samples,)
            An indicator matrix (label probability >= ``threshold``) for
            indicator targets; otherwise class labels.
        """
        scores = self._raw_scores(X)
        cut = logit(self.threshold)
        if self._target_type == "multilabel-indicator":
            return (scores >= cut).astype(self._y_dtype)
        if self._is_binary():
            return self.classes_[(scores[:, 0] >= cut).astype(np.intp)]
        return self.classes_[scores.argmax(axis=1)]
