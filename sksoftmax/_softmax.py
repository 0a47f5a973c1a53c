"""SoftmaxRegression: multinomial logistic regression for exclusive classes."""

import numpy as np
from numpy.typing import ArrayLike
from sklearn.utils._param_validation import StrOptions

from ._base import (
    EncodedTargets,
    _LinearClassifier,
    check_class_weight,
    chunkwise_on_dask,
    combined_weights,
    encode_classes,
    weighted_classes,
)
from ._loss import BinaryLoss, MultinomialLoss
from .special import _binary_log_proba, _binary_proba, log_softmax, softmax


class SoftmaxRegression(_LinearClassifier):
    """Softmax (multinomial logistic) regression with an L2, L1 or
    elastic-net penalty.

    The model for mutually exclusive classes: each sample belongs to exactly
    one of K classes, and ``predict_proba`` returns a distribution over them
    (rows sum to one). When labels can overlap, use
    :class:`~sksoftmax.OneVsRestLogistic` instead.

    It minimises the same objective as scikit-learn's
    :class:`~sklearn.linear_model.LogisticRegression` with ``solver="lbfgs"``,

    .. math:: C \\sum_i s_i \\, \\mathrm{CE}_i + \\tfrac{1}{2} \\|W\\|_F^2,

    with the intercept not penalised, so the two give the same model; the
    cross-entropy is computed through a stable log-sum-exp, so no input
    overflows.

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
        Whether to fit an (unpenalised) intercept per class.
    tol : float, default=1e-4
        Stop when the largest absolute entry of the gradient of the objective
        divided by ``C * sum(sample_weight)`` is at most ``tol``; the same
        criterion as scikit-learn's lbfgs solver, so equal ``tol`` compares
        fairly, and the objective is estimated within 1e-10 (relative) of its
        minimum. Small problems are then refined to rounding level by a few
        Newton steps.
    max_iter : int, default=1000
        Maximum number of solver iterations.
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes, multiplied into ``sample_weight``;
        "balanced" uses ``n_samples / (n_classes * count)``.
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
    l1_groups : {None, "features"}, default=None
        With ``"features"`` the L1 part penalises each feature's
        coefficients over all classes together, ``l1_ratio * sum_j
        ||W[:, j]||_2`` (glmnet's grouped multinomial lasso): a feature is
        kept or dropped for every class at once. Needs ``l1_ratio > 0`` to
        have an effect.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    coef_ : ndarray of shape (n_classes, n_features) or (1, n_features)
        Coefficients; one row when there are two classes (see Notes).
    intercept_ : ndarray of shape (n_classes,) or (1,)
        Intercepts.
    n_iter_ : ndarray of shape (1,)
        Number of iterations the solver ran until it met ``tol``.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Feature names, when ``X`` had string column names.

    See Also
    --------
    OneVsRestLogistic : One binary logistic regression per label, for
        overlapping labels.
    sklearn.linear_model.LogisticRegression : The reference implementation.

    Notes
    -----
    With two classes the model is the binomial logistic regression, exactly
    as scikit-learn fits it: one coefficient row ``w`` for the second class,
    ``P(y = classes_[1]) = expit(x @ w + b)``, with objective
    ``C * sum_i s_i logloss_i + 0.5 ||w||^2``. A two-class softmax with rows
    ``w_0, w_1`` at ``C`` is the same model with ``w = w_1 - w_0`` at
    ``2 C`` (its penalty is ``0.25 ||w||^2`` at the optimum, where
    ``w_0 = -w_1``); we report the binomial form.

    The multinomial parameters are identifiable only up to adding the same
    vector to every class row. With a penalty the optimum has rows summing to
    zero; the intercepts, which are not penalised, are centred to sum to zero
    as well (``C = inf`` also centres the coefficients). Probabilities do not
    depend on this choice.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sksoftmax import SoftmaxRegression
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = SoftmaxRegression(C=1.0).fit(X, y)
    >>> clf.predict(X[:3])
    array([0, 0, 0])
    >>> clf.predict_proba(X[:1]).shape
    (1, 3)
    >>> clf.coef_.shape
    (3, 4)
    >>> sparse = SoftmaxRegression(C=0.05, l1_ratio=1.0).fit(X, y)
    >>> bool((sparse.coef_ == 0).any())
    True
    """

    def __init__(
        self,
        C=1.0,
        *,
        l1_ratio=0.0,
        fit_intercept=True,
        tol=1e-4,
        max_iter=1000,
        class_weight=None,
        warm_start=False,
        verbose=0,
        precondition=True,
        l1_groups=None,
    ):
        self.C = C
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.max_iter = max_iter
        self.class_weight = class_weight
        self.warm_start = warm_start
        self.verbose = verbose
        self.precondition = precondition
        self.l1_groups = l1_groups

    _parameter_constraints: dict = {
        **_LinearClassifier._parameter_constraints,
        "l1_groups": [StrOptions({"features"}), None],
    }

    def _l1_groups(self):
        return self.l1_groups

    def _check_target_shape(self, y):
        shape = getattr(y, "shape", None)
        if shape is not None and len(shape) == 2 and shape[1] > 1:
            raise ValueError(
                f"SoftmaxRegression needs 1-D labels of mutually exclusive "
                f"classes; y has shape {shape}, an indicator matrix of labels "
                "that can overlap. Use OneVsRestLogistic for overlapping "
                "labels, or sksoftmax.to_exclusive to turn an indicator matrix "
                "whose rows have exactly one label into class labels."
            )

    def _encode_targets(self, y, sample_weight):
        classes, y_index = encode_classes(y, sample_weight, type(self).__name__)
        self.classes_ = classes
        class_weight = check_class_weight(self.class_weight, classes)
        weights = combined_weights(sample_weight, class_weight, y)
        if class_weight is not None:
            weighted = weighted_classes(y_index, len(classes), weights)
            if weighted.shape[0] < 2:
                # Zero class weights can leave a single class, whose
                # unpenalised intercept would grow without bound.
                raise ValueError(
                    f"class_weight={class_weight!r} leaves samples of positive "
                    f"weight in {weighted.shape[0]} class(es) "
                    f"{classes[weighted].tolist()} of {classes.tolist()}; "
                    "SoftmaxRegression needs at least 2."
                )
        if classes.shape[0] == 2:
            # The binomial model, as scikit-learn (see Notes).
            loss = BinaryLoss(1, self.fit_intercept)
            return EncodedTargets(loss, (y_index == 1)[:, None], weights)
        loss = MultinomialLoss(classes.shape[0], self.fit_intercept)
        return EncodedTargets(loss, y_index, weights)

    def _store_solution(self, result, encoded, n_features):
        # The solver's projection already centres coef over the classes (the
        # unidentified direction, see Notes).
        self._set_coef(result.coef, n_features)
        self.n_iter_ = result.n_iter[:1].astype(np.int32)

    # -- prediction ----------------------------------------------------------

    def _one_score_column(self):
        return self.coef_.shape[0] == 1

    def _probabilities(self, scores, log):
        # log_softmax rather than the log of softmax: a probability below the
        # smallest float gives a large negative number instead of -inf.
        if self._one_score_column():
            return _binary_log_proba(scores) if log else _binary_proba(scores)
        return log_softmax(scores, axis=1) if log else softmax(scores, axis=1)

    @chunkwise_on_dask
    def predict(self, X: ArrayLike) -> np.ndarray:
        """Most probable class.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array} of shape (n_samples, n_features)
            A dask array or DataFrame gives a lazy dask array, computed
            chunk by chunk.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        scores, _ = self._raw_scores(X)
        if scores.shape[1] == 1:
            index = (scores[:, 0] > 0).astype(np.intp)
        else:
            index = scores.argmax(axis=1)
        return self.classes_[index]
