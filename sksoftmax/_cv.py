"""Cross-validated choice of ``C``: a warm-started path per fold.

:class:`SoftmaxRegressionCV` and :class:`OneVsRestLogisticCV` follow
scikit-learn's :class:`~sklearn.linear_model.LogisticRegressionCV`: for each
fold of ``cv`` they fit the estimator at every ``C`` of ``Cs`` (and every
``l1_ratio`` of ``l1_ratios``), score the fits on the held-out rows, choose
the best ``C`` and refit on all rows. What differs is how: the targets are
encoded once (:meth:`~sksoftmax._base._LinearClassifier._encode_targets`),
and each fold walks ``Cs`` from the strongest penalty (smallest ``C``) to
the weakest, each fit starting near its solution, predicted from the
previous ones (:func:`predicted_start`). The splitters, scorers, metadata
routing and parallel loop are scikit-learn's.

The one difference between the two estimators is what is chosen:
:class:`SoftmaxRegressionCV` is one model, so it chooses one ``C``;
:class:`OneVsRestLogisticCV` is one independent binary model per label, so it
scores and chooses ``C`` per label, as
``OneVsRestClassifier(LogisticRegressionCV(...))`` does.
"""

import copy
import inspect
from numbers import Integral

import numpy as np
import scipy.sparse as sp
from numpy.typing import ArrayLike
from scipy.special import expit, xlogy
from sklearn.base import _fit_context
from sklearn.metrics import get_scorer, get_scorer_names
from sklearn.model_selection import check_cv
from sklearn.utils import metadata_routing
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.metadata_routing import (
    MetadataRouter,
    MethodMapping,
    _raise_for_params,
    _routing_enabled,
    process_routing,
)
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import _check_method_params

from ._base import (
    check_numpy_inputs,
    check_sample_weight,
)
from ._ovr import OneVsRestLogistic
from ._rowspace import RowSpaceCache
from ._softmax import SoftmaxRegression
from ._solver import NewtonMemory

__all__ = ["OneVsRestLogisticCV", "SoftmaxRegressionCV"]

# An integer ``Cs`` spaces that many values evenly in log scale between
# these powers of ten, as LogisticRegressionCV does.
CS_LOG10_RANGE = (-4, 4)

# Parameters of the estimator that the cross-validated estimator sets
# itself, for each fit of the path, instead of taking them from the user.
PATH_PARAMETERS = ("C", "l1_ratio", "warm_start")


def as_floats(values, name):
    """``values`` as a float64 array, or a TypeError naming ``name``."""
    try:
        return np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"{name} must be numbers; got {values!r}, which are not ({error})."
        ) from error


def check_Cs(Cs):
    """The grid of ``C``: ``logspace(-4, 4, Cs)`` for an int, else the
    values given, which must be positive (``inf``: no penalty)."""
    if isinstance(Cs, Integral):
        return np.logspace(*CS_LOG10_RANGE, Cs)
    values = as_floats(Cs, "Cs")
    if values.ndim != 1 or values.size == 0:
        raise ValueError(
            f"Cs must be a positive int or a non-empty 1-D list of values of "
            f"C; got an array of shape {values.shape}."
        )
    if np.isnan(values).any() or (values <= 0).any():
        raise ValueError(
            f"Every value of Cs must be positive (numpy.inf for no penalty); "
            f"got {values.tolist()}."
        )
    return values


def check_l1_ratios(l1_ratios):
    """The grid of ``l1_ratio``: ``[0.0]`` (L2 only) for None."""
    if l1_ratios is None:
        return np.zeros(1)
    values = as_floats(l1_ratios, "l1_ratios")
    if values.ndim != 1 or values.size == 0:
        raise ValueError(
            "l1_ratios must be None or a non-empty 1-D list of values in "
            f"[0, 1]; got an array of shape {values.shape}."
        )
    if not ((values >= 0) & (values <= 1)).all():
        raise ValueError(
            f"Every value of l1_ratios must be in [0, 1]; got {values.tolist()}."
        )
    return values


def scorer_for_classes(scorer, classes):
    """``scorer``, also passing ``labels=classes`` to a metric that takes
    them (and ``pos_label``, the second class, for two classes).

    A test fold need not contain every class, and a metric such as
    ``log_loss`` would then infer fewer classes from it than
    ``predict_proba`` has columns. LogisticRegressionCV does the same.
    """
    score_func = getattr(scorer, "_score_func", None)
    if score_func is None:
        return scorer
    parameters = inspect.signature(score_func).parameters
    extra = {}
    if "labels" in parameters and "labels" not in scorer._kwargs:
        extra["labels"] = classes
        if len(classes) == 2 and "pos_label" in parameters:
            extra.setdefault("pos_label", classes[-1])
    extra = {key: value for key, value in extra.items() if key not in scorer._kwargs}
    if not extra:
        return scorer
    scorer = copy.copy(scorer)
    scorer._kwargs = {**scorer._kwargs, **extra}
    return scorer


def stacked_coef(estimator):
    """``[coef_, intercept_]`` as one float64 array (no intercept column
    without ``fit_intercept``), the layout of ``coefs_paths_``."""
    coef = estimator.coef_.astype(np.float64)
    if not estimator.fit_intercept:
        return coef
    return np.column_stack([coef, estimator.intercept_.astype(np.float64)])


def set_stacked_coef(estimator, stacked, n_features):
    """Give ``estimator`` the coefficients ``stacked`` (see
    :func:`stacked_coef`), e.g. as the start of a warm-started fit."""
    estimator.coef_ = np.ascontiguousarray(stacked[:, :n_features])
    if stacked.shape[1] > n_features:
        estimator.intercept_ = stacked[:, n_features].copy()
    else:
        estimator.intercept_ = np.zeros(stacked.shape[0])


def with_encoding(estimator, encoder):
    """``estimator`` given the state that ``encoder._encode_targets`` set
    (``classes_`` and, for one-vs-rest, the kind of target), so that it
    predicts and scores as ``encoder`` would with the same coefficients."""
    params = encoder.get_params()
    for name, value in vars(encoder).items():
        if name not in params:
            setattr(estimator, name, value)
    return estimator


def predicted_start(path, C):
    """Start of the fit at ``C`` extrapolated from the last three fits of the
    path, ``[(C, stacked_coef), ...]`` in increasing ``C``; None (start
    from the last solution) with fewer, or for ``C = inf``.

    The last step is repeated, shrunk by how much it shrank from the step
    before (per unit of ``log C``, at most 1): where the solutions still
    move steadily (a weakly penalised, nearly separable problem) the start
    moves along, and where they have settled it stays put. Measured on
    ``Cs=10`` paths, this took 10-35% fewer iterations than starting from
    the last solution (benchmarks/cv_bench.py problems).
    """
    if len(path) < 3 or not np.isfinite(C):
        return None
    (
        (C_before, coef_before),
        (C_last_but_one, coef_last_but_one),
        (C_last, coef_last),
    ) = path[-3:]
    if not C_before < C_last_but_one < C_last < C:
        return None
    step = coef_last - coef_last_but_one
    log_step = np.log(C_last / C_last_but_one)
    rate = np.linalg.norm(step) / log_step
    rate_before = np.linalg.norm(coef_last_but_one - coef_before) / np.log(
        C_last_but_one / C_before
    )
    if not rate_before > 0:
        return None
    shrink = min(1.0, rate / rate_before)
    return coef_last + shrink * min(1.0, np.log(C / C_last) / log_step) * step


def fold_path(estimator, X, y, encoded, train, test, Cs, score, score_params):
    """Fit ``estimator`` on the rows ``train`` at each ``C`` of ``Cs`` in
    increasing order, each fit warm-started from the previous ones (see
    :func:`predicted_start`), and score every fit on the rows ``test``.

    Returns
    -------
    coefs : ndarray of shape (n_cs, n_rows, n_dof)
    scores : ndarray of shape (n_cs, n_groups)
    n_iter : ndarray of shape (n_cs, n_iter_entries)
        All three in the order of ``Cs``, whatever order the path took.
    """
    X_train, X_test = X[train], X[test]
    y_test = y[test]
    fold = encoded.take(train)
    score_params = _check_method_params(X, params=score_params, indices=test)
    coefs, scores, n_iter = [None] * len(Cs), [None] * len(Cs), [None] * len(Cs)
    n_features = X.shape[1]
    # The strongest penalty first: its solution is near zero, where the path
    # starts, and each solution is then near the next one.
    path = []
    # The fits share these rows, hence the data term's Hessian up to where
    # it is taken: each fit starts from the previous one's.
    memory = NewtonMemory()
    # And, on wide data, the basis of their row space (see _rowspace.py).
    bases = RowSpaceCache()
    for index in np.argsort(Cs, kind="stable"):
        start = predicted_start(path, Cs[index])
        if start is not None:
            set_stacked_coef(estimator, start, n_features)
        estimator.C = Cs[index]
        estimator._fit_encoded(
            X_train, fold, newton_memory=memory, row_space_cache=bases
        )
        coefs[index] = stacked_coef(estimator)
        path = [*path[-2:], (Cs[index], coefs[index])]
        scores[index] = score(estimator, X_test, y_test, score_params)
        n_iter[index] = estimator.n_iter_
    return np.array(coefs), np.array(scores), np.array(n_iter)


class _LinearClassifierCV:
    """The cross-validated path, shared by both estimators.

    A subclass derives from this class, then from its estimator, which it
    also names as ``_estimator_class`` (the path fits that estimator, and
    the subclass predicts as it does). It supplies only what differs:
    :meth:`_fold_scores` (one held-out score per group of coefficient rows
    sharing a ``C``), :meth:`_row_groups` and :meth:`_store_choice`.
    """

    _estimator_class = None

    # As LogisticRegressionCV: score's sample_weight is routed to the
    # scorer, not consumed by the estimator itself.
    __metadata_request__score = {"sample_weight": metadata_routing.UNUSED}

    @classmethod
    def _cv_parameter_constraints(cls):
        """The estimator's constraints of the parameters this class shares
        with it (a parameter added to the estimator later is left at its
        default until this class takes it too), plus the path's own."""
        own = set(cls._get_param_names())
        constraints = {
            name: value
            for name, value in cls._estimator_class._parameter_constraints.items()
            if name in own
        }
        constraints.update(
            {
                "Cs": [Interval(Integral, 1, None, closed="left"), "array-like"],
                "l1_ratios": ["array-like", None],
                "cv": ["cv_object"],
                "scoring": [StrOptions(set(get_scorer_names())), callable, None],
                "refit": ["boolean"],
                "n_jobs": [Integral, None],
            }
        )
        return constraints

    # -- the pieces a subclass supplies ----------------------------------------

    def _fold_scores(self, estimator, scorer, X_test, y_test, score_params):
        """Scores of a fitted path estimator, one per group of rows."""
        raise NotImplementedError

    def _row_groups(self, n_rows):
        """Which group (index into the scores) each coefficient row is in."""
        raise NotImplementedError

    def _store_choice(self, C, l1_ratio):
        """Store the chosen ``C_`` and ``l1_ratio_`` (arrays, one per group)."""
        raise NotImplementedError

    def _store_path(self, scores, coefs_paths, n_iter):
        """Store ``scores_``, ``coefs_paths_`` and ``n_iter_``."""
        self.scores_ = scores
        self.coefs_paths_ = coefs_paths
        self.n_iter_ = n_iter

    # -- fitting -----------------------------------------------------------------

    def _path_estimator(self, C, l1_ratio):
        """The estimator fitted along the path, with this estimator's
        shared parameters; ``l1_ratio`` is passed on only when nonzero, so
        an L2-only grid works with estimators that do not have it."""
        shared = set(self._estimator_class().get_params()) & set(self.get_params())
        params = {name: getattr(self, name) for name in shared - set(PATH_PARAMETERS)}
        if l1_ratio:
            params["l1_ratio"] = l1_ratio
        return self._estimator_class(C=C, warm_start=True, **params)

    def _scorer(self):
        return get_scorer("accuracy" if self.scoring is None else self.scoring)

    def _direct_score(self, scores, score_params):
        """The function of ``scores`` (:data:`CLASS_SCORES` or
        :data:`LABEL_SCORES`) computing this estimator's ``scoring`` as
        scikit-learn's scorer would, or None: ``scoring`` is not a name it
        has, or the score takes parameters besides ``sample_weight``."""
        if not isinstance(self.scoring, str | None):
            return None
        if not set(score_params) <= {"sample_weight"}:
            return None
        return scores.get(self.scoring)

    def _score_with(self, scorer):
        """``score(estimator, X_test, y_test, score_params)`` for a fold."""

        def score(estimator, X_test, y_test, score_params):
            return self._fold_scores(estimator, scorer, X_test, y_test, score_params)

        return score

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(
        self,
        X: ArrayLike,
        y: ArrayLike,
        sample_weight: ArrayLike | None = None,
        **params,
    ) -> "_LinearClassifierCV":
        """Fit the path on every fold, choose ``C`` and refit.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data. float32 input is used as float32.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Class labels; for :class:`OneVsRestLogisticCV` also a 0/1
            indicator matrix of overlapping labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights for the fits and, as in
            LogisticRegressionCV, for the scorer on the held-out rows.
        **params : dict
            Metadata for the splitter and the scorer (scikit-learn's
            metadata routing, ``sklearn.set_config(enable_metadata_routing=True)``).

        Returns
        -------
        self : object
            The fitted estimator.
        """
        _raise_for_params(params, self, "fit")
        check_numpy_inputs(type(self).__name__, X, y, sample_weight)
        self._check_target_shape(y)
        Cs = check_Cs(self.Cs)
        l1_ratios = check_l1_ratios(self.l1_ratios)
        X, y = self._validate_training_data(X, y)
        sample_weight = check_sample_weight(sample_weight, X)
        if _routing_enabled():
            routed = process_routing(self, "fit", sample_weight=sample_weight, **params)
            split_params, score_params = routed.splitter.split, routed.scorer.score
        else:
            split_params = {}
            score_params = (
                {} if sample_weight is None else {"sample_weight": sample_weight}
            )

        # Encoded once, on all rows: every fold then fits every class (or
        # label) of the data, even one missing from its training rows, and
        # class_weight="balanced" is computed over all rows, as in
        # LogisticRegressionCV.
        encoder = self._path_estimator(Cs[0], l1_ratios[0])
        encoded = encoder._encode_targets(y, sample_weight)
        folds = list(check_cv(self.cv, y, classifier=True).split(X, y, **split_params))
        score = self._score_with(self._scorer())
        paths = Parallel(n_jobs=self.n_jobs, verbose=self.verbose)(
            delayed(fold_path)(
                with_encoding(self._path_estimator(Cs[0], l1_ratio), encoder),
                X,
                y,
                encoded,
                train,
                test,
                Cs,
                score,
                score_params,
            )
            for train, test in folds
            for l1_ratio in l1_ratios
        )
        coefs, scores, n_iter = (np.array(part) for part in zip(*paths, strict=True))
        n_folds, n_l1, n_cs = len(folds), len(l1_ratios), len(Cs)
        # (n_folds, n_l1_ratios, n_cs, ...), LogisticRegressionCV's layout.
        coefs = coefs.reshape(n_folds, n_l1, *coefs.shape[1:])
        scores = scores.reshape(n_folds, n_l1, n_cs, -1)
        n_iter = n_iter.reshape(n_folds, n_l1, n_cs, -1)
        self.Cs_ = Cs
        self.l1_ratios_ = l1_ratios

        groups = self._row_groups(coefs.shape[3])
        if self.refit:
            best_C, best_l1 = self._best(scores.sum(axis=0))
            coef = self._refit(X, encoder, encoded, coefs, best_C, best_l1, groups)
            C, l1_ratio = Cs[best_C], l1_ratios[best_l1]
        else:
            # Each fold's best, averaged over folds (LogisticRegressionCV).
            best_C, best_l1 = zip(*(self._best(fold) for fold in scores), strict=True)
            best_C, best_l1 = np.array(best_C), np.array(best_l1)
            folds_index = np.arange(n_folds)[:, None]
            rows = np.arange(coefs.shape[3])
            coef = coefs[folds_index, best_l1[:, groups], best_C[:, groups], rows].mean(
                axis=0
            )
            C, l1_ratio = Cs[best_C].mean(axis=0), l1_ratios[best_l1].mean(axis=0)

        with_encoding(self, encoder)
        set_stacked_coef(self, coef, X.shape[1])
        self.coef_ = self.coef_.astype(X.dtype, copy=False)
        self.intercept_ = self.intercept_.astype(X.dtype, copy=False)
        self._store_choice(C, l1_ratio)
        self._store_path(scores, coefs, n_iter)
        return self

    @staticmethod
    def _best(scores):
        """Indices into ``Cs`` and ``l1_ratios`` of the best score of each
        group; ``scores`` has shape (n_l1_ratios, n_cs, n_groups). Ties go
        to the first ``C`` in ``Cs``, then the first ``l1_ratio``, as in
        LogisticRegressionCV."""
        n_l1, n_cs, n_groups = scores.shape
        flat = scores.transpose(1, 0, 2).reshape(n_cs * n_l1, n_groups)
        return np.unravel_index(flat.argmax(axis=0), (n_cs, n_l1))

    def _refit(self, X, encoder, encoded, coefs, best_C, best_l1, groups):
        """Refit on all rows at each group's chosen ``C``: one fit per
        distinct choice, in increasing ``C``, each starting from the mean
        of the folds' solutions there; each row is taken from its group's."""
        n_features = X.shape[1]
        coef = np.empty(coefs.shape[3:])
        choices = sorted(
            set(zip(best_C.tolist(), best_l1.tolist(), strict=True)),
            key=lambda choice: (self.Cs_[choice[0]], choice[1]),
        )
        for c_index, l1_index in choices:
            estimator = with_encoding(
                self._path_estimator(self.Cs_[c_index], self.l1_ratios_[l1_index]),
                encoder,
            )
            set_stacked_coef(
                estimator, coefs[:, l1_index, c_index].mean(axis=0), n_features
            )
            estimator._fit_encoded(X, encoded)
            chosen = (best_C[groups] == c_index) & (best_l1[groups] == l1_index)
            coef[chosen] = stacked_coef(estimator)[chosen]
        return coef

    # -- scoring and routing -------------------------------------------------------

    def score(self, X: ArrayLike, y: ArrayLike, sample_weight=None, **score_params):
        """Score with ``scoring`` (accuracy when None) on the given data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Test samples.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            True labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights, passed to the scorer.
        **score_params : dict
            Metadata for the scorer (metadata routing).

        Returns
        -------
        score : float
        """
        _raise_for_params(score_params, self, "score")
        if sample_weight is not None:
            score_params["sample_weight"] = sample_weight
        if _routing_enabled():
            score_params = process_routing(self, "score", **score_params).scorer.score
        return self._scorer()(self, X, y, **score_params)

    def get_metadata_routing(self):
        """Metadata routing: ``fit`` routes to the splitter's ``split`` and
        the scorer, ``score`` to the scorer.

        Returns
        -------
        routing : MetadataRouter
        """
        return (
            MetadataRouter(owner=self)
            .add_self_request(self)
            .add(
                splitter=self.cv,
                method_mapping=MethodMapping().add(caller="fit", callee="split"),
            )
            .add(
                scorer=self._scorer(),
                method_mapping=MethodMapping()
                .add(caller="score", callee="score")
                .add(caller="fit", callee="score"),
            )
        )


# Parameters shared by both estimators' docstrings.
_PARAMETERS_DOC = """Cs : int or array-like of float, default=10
        The values of ``C`` (inverse regularisation strength) to try; an
        int ``n`` means ``numpy.logspace(-4, 4, n)``. Every value must be
        positive (``numpy.inf``: no penalty).
    l1_ratios : array-like of float in [0, 1], default=None
        Elastic-net mixing values to try, as in LogisticRegressionCV; None
        means the L2 penalty only (``l1_ratio=0``). Nonzero values need an
        estimator with an ``l1_ratio`` parameter (elastic net) and raise a
        ValueError otherwise.
    fit_intercept : bool, default=True
        Whether to fit an (unpenalised) intercept.
    cv : int, cross-validation generator or iterable, default=None
        scikit-learn's ``cv``: None is 5 folds, stratified for 1-D class
        labels (:func:`~sklearn.model_selection.check_cv`).
    scoring : str or callable, default=None
        Scorer of the held-out rows (:func:`~sklearn.metrics.get_scorer`);
        None means accuracy, as in LogisticRegressionCV."""

_SHARED_DOC = """tol : float, default=1e-4
        Stopping tolerance of every fit (see the estimator).
    max_iter : int, default=1000
        Maximum number of solver iterations of every fit.
    class_weight : dict, "balanced" or None, default=None
        As for the estimator; "balanced" weights are computed once, from all
        rows, as in LogisticRegressionCV.
    n_jobs : int, default=None
        Number of folds (times ``l1_ratios``) fitted in parallel by joblib;
        None means 1 unless in a :func:`joblib.parallel_config` context.
    verbose : int, default=0
        Verbosity of joblib and of every fit.
    refit : bool, default=True
        If True, choose the ``C`` with the best mean score over folds and
        refit on all rows. If False, average each fold's coefficients at its
        own best ``C`` (and ``C_`` is the mean of those ``C``), as
        LogisticRegressionCV.
    precondition : bool, default=True
        As for the estimator."""


class SoftmaxRegressionCV(_LinearClassifierCV, SoftmaxRegression):
    """Softmax regression with ``C`` chosen by cross-validation.

    :class:`~sksoftmax.SoftmaxRegression` fitted, on each fold of ``cv``, at
    every value of ``Cs`` from the smallest (strongest penalty) to the
    largest, each fit warm-started from the previous solution; the ``C``
    with the best mean held-out score is then refitted on all rows. The
    parameters and attributes follow scikit-learn's
    :class:`~sklearn.linear_model.LogisticRegressionCV` (with
    ``use_legacy_attributes=False``), and on the same folds both choose the
    same ``C``.

    Parameters
    ----------
    {parameters}
    {shared}

    Attributes
    ----------
    C_ : float
        The chosen ``C``.
    l1_ratio_ : float
        The chosen ``l1_ratio`` (0.0: L2 penalty).
    Cs_ : ndarray of shape (n_cs,)
        The values of ``C`` tried, in the order of ``Cs``.
    l1_ratios_ : ndarray of shape (n_l1_ratios,)
        The values of ``l1_ratio`` tried; ``[0.0]`` for ``l1_ratios=None``.
    scores_ : ndarray of shape (n_folds, n_l1_ratios, n_cs)
        Held-out score of every fold and value.
    coefs_paths_ : ndarray of shape (n_folds, n_l1_ratios, n_cs, n_rows, n_dof)
        Coefficients of every fold and value, intercept last when fitted
        (``n_dof`` is ``n_features + fit_intercept``); ``n_rows`` is 1 for
        two classes, else ``n_classes``.
    n_iter_ : ndarray of shape (n_folds, n_l1_ratios, n_cs)
        Solver iterations of every fit of the path (warm-started, so far
        fewer than from zero).
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    coef_ : ndarray of shape (n_classes, n_features) or (1, n_features)
        Coefficients of the refitted (or averaged) model.
    intercept_ : ndarray of shape (n_classes,) or (1,)
        Intercepts.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Feature names, when ``X`` had string column names.

    See Also
    --------
    SoftmaxRegression : The estimator at one ``C``.
    OneVsRestLogisticCV : One binary model per label, ``C`` chosen per label.
    sklearn.linear_model.LogisticRegressionCV : The reference implementation.

    Notes
    -----
    The targets are encoded once, from all rows, so every fold fits every
    class; a class missing from a fold's training rows gets an intercept
    that tends to minus infinity, as in LogisticRegressionCV. ``n_iter_``
    has no leading axis of size 1 (LogisticRegressionCV's new attributes
    have none either). ``precondition`` rebuilds the preconditioner at the
    start of every fit: the curvature changes with ``C``.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sksoftmax import SoftmaxRegressionCV
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = SoftmaxRegressionCV(Cs=5, scoring="neg_log_loss").fit(X, y)
    >>> float(clf.C_)
    100.0
    >>> clf.scores_.shape
    (5, 1, 5)
    >>> clf.predict(X[:3])
    array([0, 0, 0])
    """

    _estimator_class = SoftmaxRegression
    # Set below the class, from its parameters and the estimator's.
    _parameter_constraints: dict = {}

    def __init__(
        self,
        *,
        Cs=10,
        l1_ratios=None,
        fit_intercept=True,
        cv=None,
        scoring=None,
        tol=1e-4,
        max_iter=1000,
        class_weight=None,
        n_jobs=None,
        verbose=0,
        refit=True,
        precondition=True,
    ):
        self.Cs = Cs
        self.l1_ratios = l1_ratios
        self.fit_intercept = fit_intercept
        self.cv = cv
        self.scoring = scoring
        self.tol = tol
        self.max_iter = max_iter
        self.class_weight = class_weight
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.refit = refit
        self.precondition = precondition

    def _fold_scores(self, estimator, scorer, X_test, y_test, score_params):
        direct = self._direct_score(CLASS_SCORES, score_params)
        if direct is not None:
            score = direct(estimator, X_test, y_test, score_params.get("sample_weight"))
            if score is not None:
                return np.array([score])
        scorer = scorer_for_classes(scorer, estimator.classes_)
        return np.array([scorer(estimator, X_test, y_test, **score_params)])

    def _row_groups(self, n_rows):
        # One model: every row shares the one C.
        return np.zeros(n_rows, dtype=np.intp)

    def _store_choice(self, C, l1_ratio):
        self.C_ = float(C[0])
        self.l1_ratio_ = float(l1_ratio[0])

    def _store_path(self, scores, coefs_paths, n_iter):
        super()._store_path(scores[..., 0], coefs_paths, n_iter[..., 0])


def _class_positions(estimator, y):
    """Column of ``predict_proba`` of each entry of ``y``, or None if some
    entry is not one of ``estimator.classes_`` (then the scorer decides)."""
    y = np.asarray(y).ravel()
    classes = estimator.classes_
    positions = np.searchsorted(classes, y)
    if np.any(positions >= len(classes)) or not np.array_equal(classes[positions], y):
        return None
    return positions


def class_log_loss_score(estimator, X, y, sample_weight=None):
    """The ``"neg_log_loss"`` score of a model of the classes, as
    scikit-learn's scorer gives it (``predict_proba`` clipped at its
    dtype's ``eps``, for two classes ``1 - p`` for the first, the log of
    the true class's, a weighted mean), or None when ``y`` has a class the
    model does not know."""
    positions = _class_positions(estimator, y)
    if positions is None:
        return None
    proba = estimator.predict_proba(X)
    if proba.shape[1] == 2:
        # The scorer takes the second class's column, and the first's as
        # 1 - that column.
        proba = np.column_stack([1 - proba[:, 1], proba[:, 1]])
    eps = np.finfo(proba.dtype).eps
    true = np.clip(proba[np.arange(len(positions)), positions], eps, 1 - eps)
    return float(np.average(np.log(true), weights=sample_weight))


def class_accuracy_score(estimator, X, y, sample_weight=None):
    """The ``"accuracy"`` score of a model of the classes, as scikit-learn's
    scorer gives it."""
    correct = estimator.predict(X) == np.asarray(y).ravel()
    return float(np.average(correct, weights=sample_weight))


# The same for SoftmaxRegressionCV: its scorer validates and one-hot encodes
# the targets on every call, 8 ms a call on a fold of 4,000 rows with 26
# classes, a fifth of the path's time (benchmarks/cv_bench.py); these give
# the scorer's values (the tests compare them) in a fraction of that.
CLASS_SCORES = {
    None: class_accuracy_score,
    "accuracy": class_accuracy_score,
    "neg_log_loss": class_log_loss_score,
}


def label_view(estimator, label):
    """A fitted :class:`~sksoftmax.OneVsRestLogistic` of label ``label``
    of ``estimator`` alone, as a binary classifier of classes 0 and 1 (what
    a scorer of that label's column needs)."""
    view = copy.copy(estimator)
    view.coef_ = estimator.coef_[label : label + 1]
    view.intercept_ = estimator.intercept_[label : label + 1]
    view.classes_ = np.array([0, 1])
    view._target_type = "binary"
    return view


def label_log_loss_scores(estimator, X, columns, sample_weight=None):
    """The ``"neg_log_loss"`` score of every label at once: what
    scikit-learn's scorer gives for one label's view and column (the
    positive probability ``p`` and ``1 - p``, both clipped at the dtype's
    ``eps``; a weighted mean over the rows), summed in float64 where the
    scorer sums float32 probabilities' losses in float32."""
    scores, dtype = estimator._raw_scores(X)
    positive = expit(scores).astype(dtype, copy=False)
    eps = np.finfo(positive.dtype).eps
    negative = np.clip(1 - positive, eps, 1 - eps)
    positive = np.clip(positive, eps, 1 - eps)
    losses = -(xlogy(columns, positive) + xlogy(1 - columns, negative))
    return -np.average(losses, axis=0, weights=sample_weight)


def label_accuracy_scores(estimator, X, columns, sample_weight=None):
    """The ``"accuracy"`` score of every label at once, each label
    predicted as its view does (probability strictly above ``threshold``)."""
    scores, _ = estimator._raw_scores(X)
    predicted = estimator._above_threshold(scores)
    return np.average(predicted == (columns != 0), axis=0, weights=sample_weight)


# Scorings whose scikit-learn scorer, for one label, is a plain (weighted)
# mean over the rows: these are computed for all labels at once by the
# functions above. Calling the scorer once per label and C validates the
# targets each time (about 1.5 ms a call with scikit-learn 1.9), which took
# 60-70% of a multilabel path of 8 labels (benchmarks/cv_bench.py); the tests
# check that both give the scorers' values.
LABEL_SCORES = {
    None: label_accuracy_scores,
    "accuracy": label_accuracy_scores,
    "neg_log_loss": label_log_loss_scores,
}


def label_columns(estimator, y):
    """0/1 matrix of ``y``'s labels, one column per coefficient row."""
    if estimator._target_type == "multilabel-indicator":
        Y = y.toarray() if sp.issparse(y) else np.asarray(y)
        return (Y != 0).astype(np.intp)
    return (np.ravel(y)[:, None] == estimator.classes_).astype(np.intp)


class OneVsRestLogisticCV(_LinearClassifierCV, OneVsRestLogistic):
    """One logistic regression per label, each with its own ``C`` chosen by
    cross-validation.

    :class:`~sksoftmax.OneVsRestLogistic` fitted, on each fold of ``cv``, at
    every value of ``Cs`` from the smallest to the largest, each fit
    warm-started from the previous solution and all labels fitted jointly.
    Each label is then scored on its own column of the held-out rows, and
    gets the ``C`` with its best mean score: the labels are independent
    models, so this is ``OneVsRestClassifier(LogisticRegressionCV(...))``
    at the cost of one path for all labels.

    Parameters
    ----------
    {parameters}
    {shared}
    threshold : float, default=0.5
        As for :class:`~sksoftmax.OneVsRestLogistic`; used by ``predict`` and
        by scorers that predict labels.

    Attributes
    ----------
    C_ : ndarray of shape (n_labels,)
        The chosen ``C`` of each label (one-vs-rest problem).
    l1_ratio_ : ndarray of shape (n_labels,)
        The chosen ``l1_ratio`` of each label.
    Cs_ : ndarray of shape (n_cs,)
        The values of ``C`` tried, in the order of ``Cs``.
    l1_ratios_ : ndarray of shape (n_l1_ratios,)
        The values of ``l1_ratio`` tried; ``[0.0]`` for ``l1_ratios=None``.
    scores_ : ndarray of shape (n_folds, n_l1_ratios, n_cs, n_labels)
        Held-out score of every fold, value and label; the scorer sees one
        label's 0/1 column and that label's binary model (for two classes,
        the class labels and the model).
    coefs_paths_ : ndarray of shape (n_folds, n_l1_ratios, n_cs, n_labels, n_dof)
        Coefficients of every fold, value and label, intercept last when
        fitted.
    n_iter_ : ndarray of shape (n_folds, n_l1_ratios, n_cs, n_labels)
        Solver iterations of every label's fit along the path.
    classes_ : ndarray of shape (n_labels,) or (n_classes,)
        As for :class:`~sksoftmax.OneVsRestLogistic`.
    coef_ : ndarray of shape (n_labels, n_features)
        Coefficients, each label's at its own ``C``.
    intercept_ : ndarray of shape (n_labels,)
        Intercepts.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Feature names, when ``X`` had string column names.

    See Also
    --------
    OneVsRestLogistic : The estimator at one ``C``.
    SoftmaxRegressionCV : One softmax over exclusive classes, one ``C``.

    Notes
    -----
    With ``refit=True`` each distinct chosen ``C`` is refitted once, all
    labels jointly, and each label keeps the fit at its own ``C``. A label
    constant in all rows is handled as by the estimator (and its score does
    not depend on ``C``); one constant only in a fold's training rows is
    fitted, its intercept tending to plus or minus infinity.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import make_multilabel_classification
    >>> from sksoftmax import OneVsRestLogisticCV
    >>> X, Y = make_multilabel_classification(n_classes=3, random_state=0)
    >>> clf = OneVsRestLogisticCV(Cs=4, cv=3, scoring="neg_log_loss").fit(X, Y)
    >>> clf.C_.shape
    (3,)
    >>> clf.scores_.shape
    (3, 1, 4, 3)
    >>> clf.predict(X[:2]).shape
    (2, 3)
    """

    _estimator_class = OneVsRestLogistic
    # Set below the class, from its parameters and the estimator's.
    _parameter_constraints: dict = {}

    def __init__(
        self,
        *,
        Cs=10,
        l1_ratios=None,
        fit_intercept=True,
        cv=None,
        scoring=None,
        tol=1e-4,
        max_iter=1000,
        class_weight=None,
        n_jobs=None,
        verbose=0,
        refit=True,
        precondition=True,
        threshold=0.5,
    ):
        self.Cs = Cs
        self.l1_ratios = l1_ratios
        self.fit_intercept = fit_intercept
        self.cv = cv
        self.scoring = scoring
        self.tol = tol
        self.max_iter = max_iter
        self.class_weight = class_weight
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.refit = refit
        self.precondition = precondition
        self.threshold = threshold

    def _fold_scores(self, estimator, scorer, X_test, y_test, score_params):
        if estimator._is_binary():
            # Two classes: one label, scored as the model of the classes.
            scorer = scorer_for_classes(scorer, estimator.classes_)
            return np.array([scorer(estimator, X_test, y_test, **score_params)])
        columns = label_columns(estimator, y_test)
        direct = self._direct_score(LABEL_SCORES, score_params)
        if direct is not None:
            return direct(estimator, X_test, columns, score_params.get("sample_weight"))
        scorer = scorer_for_classes(scorer, np.array([0, 1]))
        return np.array(
            [
                scorer(label_view(estimator, label), X_test, column, **score_params)
                for label, column in enumerate(columns.T)
            ]
        )

    def _row_groups(self, n_rows):
        # Independent labels: each row has its own C.
        return np.arange(n_rows)

    def _store_choice(self, C, l1_ratio):
        self.C_ = np.asarray(C, dtype=np.float64)
        self.l1_ratio_ = np.asarray(l1_ratio, dtype=np.float64)


for _estimator in (SoftmaxRegressionCV, OneVsRestLogisticCV):
    _estimator._parameter_constraints = _estimator._cv_parameter_constraints()
    _estimator.__doc__ = _estimator.__doc__.format(
        parameters=_PARAMETERS_DOC, shared=_SHARED_DOC
    )
