"""OneVsRestLogistic: one binary logistic regression per label."""

import warnings
from numbers import Real

import numpy as np
import scipy.sparse as sp
from scipy.special import expit, log_expit, logit
from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import validate_data

from ._base import (
    ACCEPT_SPARSE,
    FLOAT_DTYPES,
    _LinearClassifier,
    balanced_weights,
    binary_log_proba,
    binary_proba,
    check_sample_weight,
    class_weight_by_index,
    encode_classes,
)
from ._loss import BinaryLoss
from .special import logsumexp

# Intercept of a label that is constant in training: its probability rounds
# to exactly 0 or 1 in float64, while its log stays finite.
_SATURATED_LOGIT = 40.0


def _indicator_matrix(y):
    """Validated 0/1 indicator matrix as a dense array, or None if ``y`` is 1-D."""
    if sp.issparse(y):
        y = y.toarray()
    y = np.asarray(y)
    if y.ndim == 1 or (y.ndim == 2 and y.shape[1] == 1):
        # A single column is read as 1-D labels, as type_of_target does.
        return None
    if y.ndim != 2:
        raise ValueError(
            f"y must be 1-D labels or a 2-D indicator matrix; got {y.ndim}-D."
        )
    if y.dtype.kind not in "biuf":
        raise ValueError(
            "A 2-D y must be a multilabel indicator matrix of 0 and 1; "
            f"got dtype {y.dtype}."
        )
    values = np.unique(y)
    if not np.all(np.isin(values, (0, 1))):
        raise ValueError(
            "A 2-D y must be a multilabel indicator matrix containing only 0 and "
            f"1; found the values {values[~np.isin(values, (0, 1))][:5].tolist()}."
        )
    return y


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

    def _encode_targets(self, y, sample_weight):
        """Return the 0/1 target matrix and the per-label sample weights."""
        Y = _indicator_matrix(y)
        if Y is not None:
            self._target_type = "multilabel-indicator"
            self._y_dtype = Y.dtype
            self.classes_ = np.arange(Y.shape[1])
            if isinstance(self.class_weight, dict):
                unknown = set(self.class_weight) - {0, 1}
                if unknown:
                    raise ValueError(
                        "With an indicator matrix, class_weight keys must be 0 "
                        f"(negative) and 1 (positive); got {sorted(unknown)}."
                    )
            return Y.astype(np.float64), sample_weight[:, None] * self._label_weights(Y)

        y = np.ravel(y)
        classes, y_index = encode_classes(y, sample_weight, type(self).__name__)
        self._target_type = type_of_target(y)
        self.classes_ = classes
        if classes.shape[0] == 2:
            Y = (y_index == 1).astype(np.float64)[:, None]
        else:
            Y = np.zeros((y_index.shape[0], classes.shape[0]))
            Y[np.arange(y_index.shape[0]), y_index] = 1.0
        if isinstance(self.class_weight, dict):
            per_sample = balanced_weights(
                class_weight_by_index(self.class_weight, classes),
                y_index,
                classes.shape[0],
            )
            return Y, (sample_weight * per_sample)[:, None]
        return Y, sample_weight[:, None] * self._label_weights(Y)

    def _label_weights(self, Y):
        """Per-sample weights of each label's binary problem (negatives and
        positives weighted as ``class_weight`` says), shape of ``Y``."""
        return np.column_stack(
            [
                balanced_weights(self.class_weight, column.astype(np.intp), 2)
                for column in Y.T
            ]
        )

    # -- fitting -------------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit one logistic regression per label.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data. float32 input is used as float32 (not copied).
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Class labels, or a 0/1 indicator matrix (dense or sparse).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; unit weights when None.

        Returns
        -------
        self : OneVsRestLogistic
            The fitted estimator.
        """
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=ACCEPT_SPARSE,
            dtype=FLOAT_DTYPES,
            multi_output=True,
            y_numeric=False,
        )
        sample_weight = check_sample_weight(sample_weight, X)
        Y, weights = self._encode_targets(y, sample_weight)
        n_labels = Y.shape[1]
        weights = np.broadcast_to(weights, Y.shape)

        positives = (weights * Y).sum(axis=0)
        totals = weights.sum(axis=0)
        constant = (positives == 0) | (positives == totals)
        active = np.flatnonzero(~constant)
        coef = np.zeros((n_labels, X.shape[1] + 1))
        if constant.any():
            warnings.warn(
                f"Label(s) {self.classes_[constant].tolist()} are constant in "
                "the training data (always 0 or always 1, counting only samples "
                "of positive weight); they will always predict that value.",
                UserWarning,
                stacklevel=2,
            )
            coef[constant, -1] = np.where(
                positives[constant] > 0, _SATURATED_LOGIT, -_SATURATED_LOGIT
            )

        self.n_iter_ = np.zeros(n_labels, dtype=np.int32)
        if active.size:
            totals = totals[active]
            # Each label's objective is divided by C * its weight sum, as
            # scikit-learn's lbfgs does per binary problem.
            loss = BinaryLoss(
                X,
                Y[:, active],
                weights[:, active] / totals,
                self._l2_reg(totals),
                self.fit_intercept,
            )
            result = self._solve(loss, rows=active)
            coef[active, : result.coef.shape[1]] = result.coef
            self.n_iter_[active] = result.n_iter
        self.coef_ = np.ascontiguousarray(coef[:, :-1])
        self.intercept_ = coef[:, -1].copy()
        return self

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
            return binary_proba(scores)
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
            return binary_log_proba(scores)
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
