"""One ``fit`` for both estimators: validate, encode the targets, build the
objective, solve, store.

An estimator subclass supplies only what differs: how its targets become a
loss (:meth:`_LinearClassifier._encode_targets`) and how the solution is
stored (:meth:`_LinearClassifier._store_solution`), plus how scores become
probabilities. Everything else, from the parameter checks to the
convergence warning, lives here once.
"""

import warnings
from dataclasses import dataclass, field
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

from ._doc_link import DocLinkMixin
from ._objective import in_memory_objective
from ._penalty import SolverScale
from ._solver import minimize_lbfgs

# float32 stays float32 (its products are cheaper); anything else -> float64.
FLOAT_DTYPES = (np.float64, np.float32)
ACCEPT_SPARSE = "csr"


def check_sample_weight(sample_weight, X):
    """Validated float64 weights: finite, non-negative, not all zero."""
    sample_weight = _check_sample_weight(
        sample_weight, X, dtype=np.float64, ensure_non_negative=True
    )
    if not sample_weight.max(initial=0.0) > 0:
        raise ValueError(
            "sample_weight must have a positive sum; all weights are zero."
        )
    return sample_weight


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


def check_class_weight(class_weight, classes):
    """Validate a ``class_weight`` dict against the training classes.

    scikit-learn's own message for an unknown label does not name it, and it
    accepts negative or non-finite weights; both get a clear error here.
    """
    if not isinstance(class_weight, dict):
        return class_weight
    known = set(classes.tolist())
    unknown = [label for label in class_weight if label not in known]
    if unknown:
        raise ValueError(
            f"class_weight has labels {unknown} that are not in the training "
            f"targets {classes.tolist()}."
        )
    for label, weight in class_weight.items():
        if not isinstance(weight, Real) or not np.isfinite(weight) or weight < 0:
            raise ValueError(
                f"class_weight[{label!r}] must be a finite, non-negative number; "
                f"got {weight!r}."
            )
    return class_weight


def class_sample_weight(class_weight, y):
    """Per-sample weights of ``class_weight`` (None, "balanced" or a checked
    dict) for 1-D labels ``y``."""
    if class_weight is None:
        return np.ones(y.shape[0])
    return compute_sample_weight(class_weight, y)


@dataclass
class EncodedTargets:
    """What a subclass's targets become.

    Attributes
    ----------
    loss : MultinomialLoss or BinaryLoss or None
        None when there is nothing to fit (every label constant).
    targets : ndarray
        The loss's targets for the fitted rows.
    weights : ndarray of shape (n_samples,) or (n_samples, n_fitted_rows)
        Sample weights, class weights included, at the user's scale.
    rows : slice or ndarray
        Which rows of the model's coefficients the loss fits.
    """

    loss: object
    targets: np.ndarray
    weights: np.ndarray
    rows: object = field(default_factory=lambda: slice(None))


class _LinearClassifier(DocLinkMixin, ClassifierMixin, BaseEstimator):
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

    # Whether fit takes 2-D targets (passed to validate_data).
    _multi_output = False

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    # -- fitting -------------------------------------------------------------

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data. float32 input is used as float32 (not copied).
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Class labels, at least two distinct ones; for
            :class:`~sksoftmax.OneVsRestLogistic` also a 0/1 indicator
            matrix (dense or sparse) of overlapping labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; unit weights when None.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        self._check_target_shape(y)
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=ACCEPT_SPARSE,
            dtype=FLOAT_DTYPES,
            multi_output=self._multi_output,
            y_numeric=False,
        )
        sample_weight = check_sample_weight(sample_weight, X)
        encoded = self._encode_targets(y, sample_weight)
        result = None
        if encoded.loss is not None:
            scale = SolverScale.from_weights(self.C, encoded.weights)
            objective = in_memory_objective(
                encoded.loss, X, encoded.targets, scale.weights, scale.l2
            )
            result = self._solve(objective, encoded.rows)
        self._store_solution(result, encoded, X.shape[1])
        return self

    def _check_target_shape(self, y):
        """Hook for a clearer error than validate_data's about y's shape."""

    def _initial_coef(self, shape, rows):
        """Zeros, or the previous solution's ``rows`` when warm-starting."""
        if self.warm_start and hasattr(self, "coef_"):
            previous = np.column_stack([self.coef_, self.intercept_])
            if not self.fit_intercept:
                previous = previous[:, :-1]
            try:
                previous = previous[rows]
            except IndexError:
                return np.zeros(shape)
            if previous.shape == shape:
                return previous
        return np.zeros(shape)

    def _solve(self, objective, rows):
        """Run the solver; ``rows`` of the model are the objective's outputs."""
        result = minimize_lbfgs(
            objective,
            self._initial_coef(objective.coef_shape, rows),
            tol=self.tol,
            max_iter=self.max_iter,
            verbose=self.verbose,
            precondition=self.precondition,
        )
        self._solver_result = result
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
            stacklevel=4,
        )

    def _set_coef(self, coef, n_features):
        """Store ``coef`` (rows with the intercept column last, if fitted)."""
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
