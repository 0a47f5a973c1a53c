"""One ``fit`` for both estimators: validate, encode the targets, build the
objective, solve, store.

An estimator subclass supplies only what differs: how its targets become a
loss (:meth:`_LinearClassifier._encode_targets`) and how the solution is
stored (:meth:`_LinearClassifier._store_solution`), plus how scores become
probabilities. Everything else, from the parameter checks to the
convergence warning, lives here once.
"""

import functools
import inspect
import warnings
from dataclasses import dataclass, field, replace
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike
from sklearn import get_config
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model._base import SparseCoefMixin
from sklearn.utils._array_api import _is_numpy_namespace, get_namespace
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_sample_weight,
    check_is_fitted,
    validate_data,
)

from ._doc_link import DocLinkMixin
from ._objective import in_memory_objective, weight_rows
from ._penalty import L1Penalty, SolverScale
from ._products import largest_magnitude, largest_safe_value
from ._products import scores as score_products
from ._proximal import minimize_composite
from ._rowspace import row_space_start
from ._solver import minimize_lbfgs


class PerfectSeparationWarning(ConvergenceWarning):
    """Warning of an unpenalised fit (``C=inf``) on perfectly separated data.

    No finite maximum-likelihood solution exists then; use a finite ``C``.
    A subclass of :class:`~sklearn.exceptions.ConvergenceWarning`, so
    filters on that also apply.
    """


# float32 stays float32 (its products are cheaper); anything else -> float64.
FLOAT_DTYPES = (np.float64, np.float32)
ACCEPT_SPARSE = "csr"


def is_dask_collection(data):
    """Whether ``data`` is a dask collection (array, DataFrame, Series),
    decided without importing dask, which is optional."""
    module = type(data).__module__.partition(".")[0]
    return module in DASK_MODULES and hasattr(data, "__dask_graph__")


# Top-level modules of dask's collections (dask-expr was a separate package
# for the DataFrames of dask 2024.3 to 2025.1).
DASK_MODULES = ("dask", "dask_expr")


def chunkwise_on_dask(method):
    """Make a prediction method lazy on dask input: it then returns a dask
    array computed chunk by chunk (the method runs on each chunk of rows);
    other input goes to the method unchanged."""

    @functools.wraps(method)
    def wrapper(self, X):
        if is_dask_collection(X):
            from ._dask import predict_chunks

            return predict_chunks(self, method.__name__, X)
        return method(self, X)

    return wrapper


def check_numpy_inputs(estimator_name, *arrays):
    """Refuse non-numpy arrays when scikit-learn's array API dispatch is on.

    With ``sklearn.set_config(array_api_dispatch=True)`` scikit-learn hands
    arrays of other libraries (torch, cupy, array-api-strict) through
    ``validate_data`` unconverted, and our numpy and scipy code would then
    fail on them with unrelated errors. The namespace is found exactly as
    scikit-learn finds it; lists, pandas frames and sparse matrices count as
    numpy.
    """
    if not get_config().get("array_api_dispatch", False):
        return
    xp, _ = get_namespace(*arrays)
    if not _is_numpy_namespace(xp):
        raise TypeError(
            f"{estimator_name} does not support array API inputs (got arrays "
            f"of the namespace {xp.__name__!r} with "
            "sklearn.set_config(array_api_dispatch=True)). Pass numpy arrays, "
            "for example np.asarray(X) (after moving the data to the CPU), or "
            "disable array_api_dispatch."
        )


def check_magnitude(X):
    """Reject in-memory ``X`` whose entries are so large that sums of their
    squares (row norms, second moments) overflow float64: a clear error
    instead of overflow warnings deep in the solver."""
    largest = largest_magnitude(X)
    limit = largest_safe_value(X.shape[1])
    if largest > limit:
        raise ValueError(
            f"X has entries up to {largest:.3g} in absolute value; with "
            f"{X.shape[1]} features, sums of their squares overflow float64 "
            f"above {limit:.3g}. Rescale the features (e.g. with "
            "sklearn.preprocessing.StandardScaler)."
        )


def check_sample_weight(sample_weight, X):
    """Validated float64 weights: finite, non-negative, not all zero; None
    (unit weights, never materialised) stays None."""
    if sample_weight is None:
        return None
    sample_weight = _check_sample_weight(
        sample_weight, X, dtype=np.float64, ensure_non_negative=True
    )
    if not sample_weight.max(initial=0.0) > 0:
        raise ValueError(
            "sample_weight must have a positive sum; all weights are zero."
        )
    return sample_weight


def class_codes(y, classes):
    """Positions of ``y`` in the sorted ``classes``, in the smallest integer
    dtype, computed by blocks.

    ``np.unique(y, return_inverse=True)`` returns int64 codes, 8 bytes per
    sample: on a 10,000,000 x 1 float32 fit that alone is twice X. Blocks of
    CODE_BLOCK rows keep the temporary small.
    """
    codes = np.empty(y.shape[0], dtype=np.min_scalar_type(max(len(classes) - 1, 0)))
    for start in range(0, y.shape[0], CODE_BLOCK):
        rows = slice(start, start + CODE_BLOCK)
        codes[rows] = np.searchsorted(classes, y[rows])
    return codes


CODE_BLOCK = 1 << 16


# Labels that are non-negative integers up to the number of samples (or up
# to SMALL_LABELS_MAX) are encoded from one count per value: a pass of
# np.bincount and a table lookup, where np.unique sorts the labels and
# class_codes searches each one. Such labels need no check of their type
# either: 1-D integer labels are binary or multiclass by definition, which
# is all scikit-learn's check_classification_targets would establish (at the
# cost of a few more passes). 200,000 labels of 5 classes: 0.37 ms instead
# of 10.6 ms, some 4% of a fit of 200,000 x 20; 11,000 labels: 0.03 ms
# instead of 0.73 ms. Other labels (strings, floats, negative or large
# integers) take the general path.
SMALL_LABELS_MAX = 1 << 16


def _small_integer_classes(y):
    """Classes and codes (as :func:`class_codes`) of 1-D non-negative integer
    labels no larger than ``max(len(y), SMALL_LABELS_MAX)``; None for any
    other labels."""
    if not (
        isinstance(y, np.ndarray)
        and y.ndim == 1
        and y.size
        and y.dtype.kind in "biu"
        and np.can_cast(y.dtype, np.intp)
    ):
        return None
    # Booleans as 0/1: indexing with a bool array would select, not look up.
    values = y.view(np.uint8) if y.dtype.kind == "b" else y
    low, high = values.min(), values.max()
    if low < 0 or high > max(y.shape[0], SMALL_LABELS_MAX):
        return None
    present = np.flatnonzero(np.bincount(values))
    lookup = np.zeros(int(high) + 1, dtype=np.min_scalar_type(max(len(present) - 1, 0)))
    lookup[present] = np.arange(len(present))
    return present.astype(y.dtype), lookup[values]


def encode_classes(y, sample_weight, estimator_name, min_classes=2):
    """Classes and integer codes of 1-D labels; at least ``min_classes`` must
    carry weight."""
    encoded = _small_integer_classes(y)
    if encoded is None:
        check_classification_targets(y)
        classes = np.unique(y)
        encoded = classes, class_codes(y, classes)
    classes, y_index = encoded
    weighted = weighted_classes(y_index, len(classes), sample_weight)
    if weighted.shape[0] < min_classes:
        raise ValueError(
            f"{estimator_name} needs samples of at least {min_classes} classes "
            f"with positive sample_weight; y contains only one class: "
            f"{classes[weighted[0]]}."
        )
    return classes, y_index


def weighted_classes(y_index, n_classes, weights):
    """Codes of the classes that have samples of positive weight."""
    if weights is None:
        return np.arange(n_classes)
    return np.unique(y_index[weights > 0])


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
    # Classes missing from the dict keep weight 1, as in scikit-learn.
    if not any(class_weight.get(label, 1.0) > 0 for label in classes.tolist()):
        raise ValueError(
            f"class_weight gives weight 0 to every class {classes.tolist()}: "
            "no sample would count. Give at least one class a positive weight."
        )
    return class_weight


def combined_weights(sample_weight, class_weight, y):
    """``sample_weight`` times the per-sample weights of ``class_weight``
    (None, "balanced" or a checked dict) for 1-D labels ``y``; None when
    both are None (unit weights)."""
    if class_weight is None:
        return sample_weight
    weights = compute_sample_weight(class_weight, y)
    return weights if sample_weight is None else weights * sample_weight


@dataclass
class EncodedTargets:
    """What a subclass's targets become.

    Attributes
    ----------
    loss : MultinomialLoss or BinaryLoss or None
        None when there is nothing to fit (every label constant).
    targets : ndarray
        The loss's targets for the fitted rows.
    weights : ndarray of shape (n_samples,) or (n_samples, n_fitted_rows) or None
        Sample weights, class weights included, at the user's scale; None
        for unit weights.
    rows : slice or ndarray
        Which rows of the model's coefficients the loss fits.
    intercepts : ndarray or None
        Intercepts of every row of the model, final for the rows the loss
        does not fit (labels constant in training); None when it fits all.
    """

    loss: object
    targets: np.ndarray
    weights: np.ndarray
    rows: object = field(default_factory=lambda: slice(None))
    intercepts: object = None

    def take(self, samples):
        """The same encoding restricted to the samples at ``samples``
        (indices), e.g. a cross-validation fold's training rows."""
        weights = None if self.weights is None else self.weights[samples]
        return replace(self, targets=self.targets[samples], weights=weights)


class _PointsToL1Ratio(type):
    """Metaclass: ``penalty=`` (scikit-learn's parameter, deprecated there
    since 1.8) gets an error that says what to use instead, not Python's
    bare "unexpected keyword argument"."""

    def __call__(cls, *args, **kwargs):
        if "penalty" in kwargs:
            path = "l1_ratios" in inspect.signature(cls.__init__).parameters
            raise TypeError(
                f"{cls.__name__} has no 'penalty' parameter (scikit-learn "
                "deprecated it in 1.8): the penalty is set by "
                f"{'l1_ratios' if path else 'l1_ratio'} (0: L2, the default; "
                "1: L1; in between: the elastic net) and "
                f"{'Cs' if path else 'C'} (numpy.inf: no penalty)."
            )
        return super().__call__(*args, **kwargs)

    @property
    def __signature__(cls):
        # The constructor's own signature (for help() and the docs), not
        # this __call__'s (*args, **kwargs).
        init = inspect.signature(cls.__init__)
        return init.replace(parameters=list(init.parameters.values())[1:])


class _LinearClassifier(
    DocLinkMixin,
    SparseCoefMixin,
    ClassifierMixin,
    BaseEstimator,
    metaclass=_PointsToL1Ratio,
):
    """Base for L2-regularised linear classifiers fitted by :mod:`._solver`."""

    _parameter_constraints: dict = {
        "C": [Interval(Real, 0, None, closed="right")],
        "l1_ratio": [Interval(Real, 0, 1, closed="both")],
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

    def _validate_training_data(self, X, y):
        """In-memory ``X`` (float, CSR when sparse, within
        :func:`check_magnitude`'s range) and ``y`` for fitting."""
        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=ACCEPT_SPARSE,
            dtype=FLOAT_DTYPES,
            multi_output=self._multi_output,
            y_numeric=False,
        )
        check_magnitude(X)
        return X, y

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(
        self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None
    ) -> "_LinearClassifier":
        """Fit the model.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array} of shape (n_samples, n_features)
            Training data. float32 input is used as float32 (not copied).
            A dask array or DataFrame is fitted where its chunks are,
            without gathering it (see :ref:`dask`).
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Class labels, at least two distinct ones; for
            :class:`~sksoftmax.OneVsRestLogistic` also a 0/1 indicator
            matrix (dense or sparse) of overlapping labels. May be a dask
            array or Series when X is a dask collection.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; unit weights when None.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        check_numpy_inputs(type(self).__name__, X, y, sample_weight)
        self._check_target_shape(y)
        if is_dask_collection(X):
            # Only this import needs dask: it is optional.
            from ._dask import dask_objective, validate_fit_input

            X, y, sample_weight = validate_fit_input(self, X, y, sample_weight)
            build_objective = dask_objective
        else:
            X, y = self._validate_training_data(X, y)
            build_objective = in_memory_objective
        sample_weight = check_sample_weight(sample_weight, X)
        encoded = self._encode_targets(y, sample_weight)
        return self._fit_encoded(X, encoded, build_objective)

    def _fit_encoded(
        self,
        X,
        encoded,
        build_objective=in_memory_objective,
        newton_memory=None,
        row_space_cache=None,
    ):
        """Solve for validated ``X`` and its encoded targets, and store.

        The part of :meth:`fit` after validation and encoding, on its own so
        that a cross-validated path (:mod:`sksoftmax._cv`) encodes the
        targets once and fits many rows subsets and values of ``C`` with it,
        carrying a :class:`~sksoftmax._solver.NewtonMemory` from one ``C`` to
        the next on the same rows.
        """
        result = None
        if encoded.loss is not None:
            scale = SolverScale.from_weights(
                self.C, encoded.weights, n_samples=X.shape[0]
            )
            l2, l1 = scale.elastic_net(self.l1_ratio)
            objective = build_objective(
                encoded.loss, X, encoded.targets, scale.weights, l2
            )
            start = None
            if build_objective is in_memory_objective and self._l2_only(l1, l2):
                start = row_space_start(
                    X,
                    objective.coef_shape[0],
                    lambda Z, order: build_objective(
                        encoded.loss,
                        Z,
                        encoded.targets[order],
                        weight_rows(scale.weights, order),
                        l2,
                        triangular=True,
                    ),
                    row_space_cache,
                    weights=scale.weights,
                    l2=l2,
                )
            result = self._solve(
                objective, encoded.rows, l1, newton_memory, start=start
            )
            if np.isinf(self.C):
                self._check_separation(objective, result, encoded.rows)
        self._store_solution(result, encoded, X.shape[1])
        # Results in the training data's dtype, as scikit-learn: the solver
        # works in float64, float32 X gets float32 coefficients.
        self.coef_ = self.coef_.astype(X.dtype, copy=False)
        self.intercept_ = self.intercept_.astype(X.dtype, copy=False)
        return self

    def _check_target_shape(self, y):
        """Hook for a clearer error than validate_data's about y's shape."""

    def _initial_coef(self, shape, rows):
        """Zeros, or the previous solution's ``rows`` when warm-starting."""
        if self.warm_start and hasattr(self, "coef_"):
            previous = np.column_stack([self._dense_coef(), self.intercept_])
            if not self.fit_intercept:
                previous = previous[:, :-1]
            try:
                previous = previous[rows]
            except IndexError:
                return np.zeros(shape)
            if previous.shape == shape:
                return previous
        return np.zeros(shape)

    def _l1_groups(self):
        """How the L1 part of the penalty groups coefficients (None: each
        alone)."""
        return None

    @staticmethod
    def _l2_only(l1, l2):
        """Whether the penalty is a positive L2 one and nothing else, as the
        row-space reduction (:mod:`sksoftmax._rowspace`) needs: an L1 part
        does not keep ``w`` in the rows' span, and ``C=inf`` leaves the part
        of ``w`` off it free."""
        return bool(np.all(np.asarray(l2) > 0) and not np.any(np.asarray(l1) > 0))

    def _solve(self, objective, rows, l1, newton_memory=None, start=None):
        """Run the solver; ``rows`` of the model are the objective's outputs
        and ``l1`` the L1 weights at the solver's scale; ``newton_memory``
        (the L2 solver's, see :class:`~sksoftmax._solver.NewtonMemory`)
        carries a Hessian between the fits of a C path.

        Without an L1 part (``l1_ratio=0`` or ``C=inf``) this is the L2
        solver alone, exactly as without the option. A
        :class:`~sksoftmax._rowspace.RowSpaceStart` ``start`` (wide data, L2
        only) solves in the row space of X first; the run on ``objective``
        continues from there, so the tolerance is always checked on X.
        """
        coef0 = self._initial_coef(objective.coef_shape, rows)
        l1 = np.broadcast_to(np.asarray(l1, dtype=np.float64), (coef0.shape[0],))
        options = dict(
            tol=self.tol,
            max_iter=self.max_iter,
            verbose=self.verbose,
            precondition=self.precondition,
        )
        earlier = None
        if start is not None:
            coef0, earlier = start.solve(coef0, memory=newton_memory, **options)
            # The iterations left of max_iter, but at least the one that checks.
            options["max_iter"] = max(self.max_iter - int(earlier.n_iter.max()), 1)
            newton_memory = None
        if np.any(l1 > 0):
            penalty = L1Penalty(l1.copy(), objective.n_features, self._l1_groups())
            result = minimize_composite(
                objective,
                penalty,
                coef0,
                tol=self.tol,
                max_iter=self.max_iter,
                verbose=self.verbose,
            )
        else:
            result = minimize_lbfgs(objective, coef0, memory=newton_memory, **options)
            if earlier is not None:
                result = result.continuing(earlier)
        self._solver_result = result
        # As scikit-learn: a stop at rounding level counts as converged.
        if not result.converged.all() and not result.stalled:
            self._warn_not_converged(result)
        return result

    def _check_separation(self, objective, result, rows):
        """Warn when an unpenalised fit separates its training data.

        If the solution classifies every sample of positive weight strictly
        correctly, scaling it up lowers the loss towards 0: no finite
        maximum-likelihood solution exists, and the coefficients are only
        as large as where the solver happened to stop. A fitted model that
        separates the data proves this, so the warning is never a false
        alarm; it can miss quasi-complete separation (samples on the
        boundary), like statsmodels' check.
        """
        separated = objective.separates(result.coef)
        if not separated.any():
            return
        detail = self._separation_detail(rows, separated)
        warnings.warn(
            f"{type(self).__name__}(C=inf): the training data are perfectly "
            f"separated{detail}, so no finite maximum-likelihood solution "
            "exists; the coefficients grow without bound and are only as "
            "large as where the solver stopped. Use a finite C "
            "(regularisation) for a well-defined model.",
            PerfectSeparationWarning,
            stacklevel=4,
        )

    def _separation_detail(self, rows, separated):
        """Which outputs are separated, for the warning (none by default:
        one model)."""
        return ""

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
            stacklevel=5,
        )

    def _set_coef(self, coef, n_features, fit_intercept=None):
        """Store ``coef`` (rows with the intercept column last, if fitted)."""
        if fit_intercept is None:
            fit_intercept = self.fit_intercept
        self.coef_ = np.ascontiguousarray(coef[:, :n_features])
        if fit_intercept:
            self.intercept_ = coef[:, n_features].copy()
        else:
            self.intercept_ = np.zeros(coef.shape[0])

    # -- prediction ----------------------------------------------------------

    def _dense_coef(self):
        """``coef_`` as an array, also after :meth:`sparsify`."""
        return self.coef_.toarray() if sp.issparse(self.coef_) else self.coef_

    def _validate_for_predict(self, X):
        check_is_fitted(self)
        check_numpy_inputs(type(self).__name__, X)
        return validate_data(
            self, X, accept_sparse=ACCEPT_SPARSE, dtype=FLOAT_DTYPES, reset=False
        )

    def _raw_scores(self, X):
        """Linear scores ``X @ coef_.T + intercept_`` and the results' dtype.

        Returns
        -------
        scores : ndarray of shape (n_samples, n_rows)
            float64, whatever ``X``'s dtype: float32 ``X`` is converted by
            blocks (:func:`~sksoftmax._products.scores`), so a float32 product
            never overflows and probabilities are computed at full precision.
        dtype : dtype
            float32 when both ``X`` and the model are float32 (scikit-learn's
            rule), else float64: the dtype results are returned in.
        """
        X = self._validate_for_predict(X)
        coef = np.column_stack([self._dense_coef(), self.intercept_]).astype(np.float64)
        scores = np.ascontiguousarray(score_products(X, coef, True, np.float64).T)
        return scores, np.result_type(X.dtype, self.coef_.dtype)

    @chunkwise_on_dask
    def decision_function(self, X: ArrayLike) -> np.ndarray:
        """Linear scores: logits of a softmax, log-odds of one-vs-rest labels.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array} of shape (n_samples, n_features)
            A dask array or DataFrame gives a lazy dask array, computed
            chunk by chunk.

        Returns
        -------
        scores : ndarray of shape (n_samples, n_outputs) or (n_samples,)
            One column per class (softmax) or label (one-vs-rest); a 1-D
            array of the log-odds of ``classes_[1]`` for two classes.
        """
        scores, dtype = self._raw_scores(X)
        scores = scores.astype(dtype, copy=False)
        return scores[:, 0] if self._one_score_column() else scores

    @chunkwise_on_dask
    def predict_proba(self, X: ArrayLike) -> np.ndarray:
        """Probabilities.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array} of shape (n_samples, n_features)
            A dask array or DataFrame gives a lazy dask array, computed
            chunk by chunk.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_outputs)
            Class probabilities summing to one (softmax; one-vs-rest on 1-D
            labels normalises the per-class probabilities, as
            ``OneVsRestClassifier``), or independent per-label probabilities
            (one-vs-rest on an indicator matrix).
        """
        scores, dtype = self._raw_scores(X)
        return self._probabilities(scores, log=False).astype(dtype, copy=False)

    @chunkwise_on_dask
    def predict_log_proba(self, X: ArrayLike) -> np.ndarray:
        """Logarithm of :meth:`predict_proba`, finite for finite input.

        Computed from the scores in log space rather than as the log of
        ``predict_proba``, so a probability below the smallest float gives a
        large negative number instead of ``-inf``.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array} of shape (n_samples, n_features)
            A dask array or DataFrame gives a lazy dask array, computed
            chunk by chunk.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_outputs)
        """
        scores, dtype = self._raw_scores(X)
        return self._probabilities(scores, log=True).astype(dtype, copy=False)
