"""Plumbing shared by both estimators: parameters, validation, fitting, scores.

An estimator subclass only says how its targets become a loss
(:meth:`_LinearClassifier._build_loss`) and how scores become probabilities;
everything else, from the parameter checks to the convergence warning, lives
here once.
"""

import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from scipy.special import expit, log_expit
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

from ._solver import minimize_lbfgs

# float32 stays float32 (its products are cheaper); anything else -> float64.
FLOAT_DTYPES = (np.float64, np.float32)
ACCEPT_SPARSE = "csr"


def check_sample_weight(sample_weight, X):
    """Validated float64 weights: finite, non-negative, not all zero."""
    sample_weight = _check_sample_weight(
        sample_weight, X, dtype=np.float64, ensure_non_negative=True
    )
    if not sample_weight.sum() > 0:
        raise ValueError(
            "sample_weight must have a positive sum; all weights are zero."
        )
    return sample_weight


def binary_proba(scores):
    """``[P(negative), P(positive)]`` from log-odds of shape (n_samples, 1)."""
    return np.hstack([expit(-scores), expit(scores)])


def binary_log_proba(scores):
    """Logarithm of :func:`binary_proba`, finite for every finite score."""
    return np.hstack([log_expit(-scores), log_expit(scores)])


def encode_classes(y, sample_weight, estimator_name):
    """Classes and integer codes of 1-D labels; at least two must carry weight."""
    check_classification_targets(y)
    classes, y_index = np.unique(y, return_inverse=True)
    weighted = np.unique(y_index[sample_weight > 0])
    if weighted.shape[0] < 2:
        raise ValueError(
            f"{estimator_name} needs samples of at least 2 classes with positive "
            f"sample_weight; y contains only one class: {classes[weighted[0]]}."
        )
    return classes, y_index


def balanced_weights(class_weight, y_index, n_classes):
    """Per-sample class weights for integer-encoded ``y_index``.

    ``class_weight`` is None, "balanced" or a dict keyed by position in
    ``0 .. n_classes - 1``.
    """
    if class_weight is None:
        return np.ones(y_index.shape[0])
    present = np.unique(y_index)
    weights = compute_class_weight(class_weight, classes=present, y=y_index)
    per_class = np.ones(n_classes)
    per_class[present] = weights
    return per_class[y_index]


def class_weight_by_index(class_weight, classes):
    """Translate a ``{label: weight}`` dict into ``{index: weight}``."""
    if not isinstance(class_weight, dict):
        return class_weight
    lookup = {label: i for i, label in enumerate(classes.tolist())}
    unknown = [label for label in class_weight if label not in lookup]
    if unknown:
        raise ValueError(
            f"class_weight has labels {unknown} that are not in the training "
            f"targets {classes.tolist()}."
        )
    return {lookup[label]: weight for label, weight in class_weight.items()}


class _LinearClassifier(ClassifierMixin, BaseEstimator):
    """Base for L2-regularised linear classifiers fitted by :mod:`._solver`."""

    _parameter_constraints: dict = {
        "C": [Interval(Real, 0, None, closed="right")],
        "fit_intercept": ["boolean"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "class_weight": [dict, StrOptions({"balanced"}), None],
        "warm_start": ["boolean"],
        "verbose": ["verbose"],
        "precondition": ["boolean"],
    }

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    # -- fitting -------------------------------------------------------------

    def _l2_reg(self, weight_sum):
        """Penalty at the solver's scale: objective / (C * sum of weights)."""
        return 0.0 if np.isinf(self.C) else 1.0 / (self.C * weight_sum)

    def _initial_coef(self, shape, rows):
        """Zeros, or the previous solution's ``rows`` when warm-starting."""
        if self.warm_start and hasattr(self, "coef_"):
            previous = np.column_stack([self.coef_, self.intercept_])[rows]
            if not self.fit_intercept:
                previous = previous[:, :-1]
            if previous.shape == shape:
                return previous
        return np.zeros(shape)

    def _solve(self, loss, rows=slice(None)):
        """Run the solver on ``loss``; ``rows`` of the model are its outputs."""
        result = minimize_lbfgs(
            loss,
            self._initial_coef(loss.coef_shape, rows),
            tol=self.tol,
            max_iter=self.max_iter,
            verbose=self.verbose,
            precondition=self.precondition,
        )
        # As scikit-learn: a stop at rounding level counts as converged.
        if not result.converged.all() and not result.stalled:
            self._warn_not_converged(result)
        return result

    def _warn_not_converged(self, result):
        worst = float(result.grad_max.max())
        warnings.warn(
            f"{type(self).__name__} did not converge: after "
            f"{int(result.n_iter.max())} iterations (max_iter={self.max_iter}) "
            f"the largest gradient entry is {worst:.2e}, above tol={self.tol:g} "
            f"(L-BFGS: {result.message}). Increase max_iter, standardise the "
            "features (e.g. with sklearn.preprocessing.StandardScaler), or use "
            "a smaller C (stronger regularisation).",
            ConvergenceWarning,
            stacklevel=3,
        )

    def _store_coef(self, coef):
        n_features = self.n_features_in_
        self.coef_ = np.ascontiguousarray(coef[:, :n_features])
        if self.fit_intercept:
            self.intercept_ = coef[:, n_features].copy()
        else:
            self.intercept_ = np.zeros(coef.shape[0])

    # -- prediction ----------------------------------------------------------

    def _validate_for_predict(self, X):
        check_is_fitted(self)
        return validate_data(
            self, X, accept_sparse=ACCEPT_SPARSE, dtype=FLOAT_DTYPES, reset=False
        )

    def _raw_scores(self, X):
        """Linear scores ``X @ coef_.T + intercept_``, shape (n_samples, n_rows)."""
        X = self._validate_for_predict(X)
        coef = self.coef_.astype(X.dtype, copy=False)
        scores = X @ coef.T if sp.issparse(X) else np.matmul(X, coef.T)
        scores = np.asarray(scores, dtype=np.float64)
        scores += self.intercept_
        return scores
