"""SoftmaxRegressionCV and OneVsRestLogisticCV: the cross-validated C path.

References: scikit-learn's LogisticRegressionCV on the same folds (one per
label for one-vs-rest), and independent fits of the estimators at each C.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.datasets import make_classification, make_multilabel_classification
from sklearn.linear_model import LogisticRegressionCV
from sklearn.metrics import get_scorer, make_scorer
from sklearn.metrics import log_loss as sklearn_log_loss
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.preprocessing import StandardScaler
from sklearn_compat import needs_current_logistic_regression_cv

from sksoftmax import (
    OneVsRestLogistic,
    OneVsRestLogisticCV,
    SoftmaxRegression,
    SoftmaxRegressionCV,
)
from sksoftmax._cv import (
    CLASS_SCORES,
    LABEL_SCORES,
    label_columns,
    label_view,
    predicted_start,
    scorer_for_classes,
)

# Both sides solve to rounding level, so that differences are the models'.
TIGHT = 1e-10
# Agreement of held-out scores with scikit-learn (the brief: within 1e-4).
SCORE_ATOL = 1e-4
CS = [1e-3, 1e-2, 0.1, 1.0, 10.0, 100.0]


def reference_cv(X, y, folds, scoring, Cs=CS, **params):
    """scikit-learn's LogisticRegressionCV with the new attributes and tight
    tolerance, on the folds ``folds``."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return LogisticRegressionCV(
            Cs=Cs,
            cv=folds,
            scoring=scoring,
            l1_ratios=(0.0,),
            tol=TIGHT,
            max_iter=10_000,
            use_legacy_attributes=False,
            **params,
        ).fit(X, y)


@pytest.fixture(scope="module")
def three_classes():
    X, y = make_classification(
        n_samples=300,
        n_features=6,
        n_informative=4,
        n_classes=3,
        flip_y=0.15,
        random_state=0,
    )
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="module")
def multilabel():
    X, Y = make_multilabel_classification(
        n_samples=200, n_features=6, n_classes=4, random_state=0
    )
    return StandardScaler().fit_transform(X), Y


# -- agreement with scikit-learn ----------------------------------------------


@needs_current_logistic_regression_cv
@pytest.mark.parametrize("scoring", ["neg_log_loss", "accuracy"])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_softmax_agrees_with_logistic_regression_cv(scoring, n_classes, three_classes):
    X, y = three_classes
    if n_classes == 2:
        y = (y == 1).astype(int)
    folds = list(StratifiedKFold(4, shuffle=True, random_state=0).split(X, y))
    ours = SoftmaxRegressionCV(Cs=CS, cv=folds, scoring=scoring, tol=TIGHT).fit(X, y)
    theirs = reference_cv(X, y, folds, scoring)
    assert ours.C_ == theirs.C_
    assert ours.scores_.shape == theirs.scores_.shape
    assert_allclose(ours.scores_, theirs.scores_, rtol=0, atol=SCORE_ATOL)
    assert ours.coefs_paths_.shape == theirs.coefs_paths_.shape
    assert_allclose(ours.coefs_paths_, theirs.coefs_paths_, rtol=1e-4, atol=1e-5)
    assert_allclose(ours.coef_, theirs.coef_, rtol=1e-4, atol=1e-5)
    assert_allclose(ours.intercept_, theirs.intercept_, rtol=1e-4, atol=1e-5)


@needs_current_logistic_regression_cv
def test_elastic_net_path_agrees_with_logistic_regression_cv_saga(three_classes):
    """The l1_ratios grid against LogisticRegressionCV(solver="saga"): the
    same chosen C and l1_ratio, scores within 1e-4. (Not at C=0.01, where
    every coefficient is zero: saga's intercepts there stay visibly off the
    class priors even at tol=1e-12, and its objective above ours.)"""
    X, y = three_classes
    folds = list(StratifiedKFold(3, shuffle=True, random_state=0).split(X, y))
    Cs, l1_ratios = [0.1, 1.0, 10.0], [0.5, 1.0]
    ours = SoftmaxRegressionCV(
        Cs=Cs, cv=folds, l1_ratios=l1_ratios, scoring="neg_log_loss", tol=1e-9
    ).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        theirs = LogisticRegressionCV(
            Cs=Cs,
            cv=folds,
            l1_ratios=l1_ratios,
            solver="saga",
            scoring="neg_log_loss",
            tol=1e-9,
            max_iter=100_000,
            use_legacy_attributes=False,
        ).fit(X, y)
    assert ours.C_ == theirs.C_ and ours.l1_ratio_ == theirs.l1_ratio_
    assert_allclose(ours.scores_, theirs.scores_, rtol=0, atol=SCORE_ATOL)


@needs_current_logistic_regression_cv
@pytest.mark.parametrize("scoring", ["neg_log_loss", "roc_auc"])
def test_one_vs_rest_chooses_per_label_as_logistic_regression_cv(scoring, multilabel):
    X, Y = multilabel
    folds = list(KFold(3, shuffle=True, random_state=0).split(X))
    ours = OneVsRestLogisticCV(Cs=CS, cv=folds, scoring=scoring, tol=TIGHT).fit(X, Y)
    assert ours.C_.shape == ours.l1_ratio_.shape == (Y.shape[1],)
    for label in range(Y.shape[1]):
        theirs = reference_cv(X, Y[:, label], folds, scoring)
        assert ours.C_[label] == theirs.C_
        assert_allclose(
            ours.scores_[..., label], theirs.scores_, rtol=0, atol=SCORE_ATOL
        )
        assert_allclose(ours.coef_[label], theirs.coef_[0], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("threshold", [0.5, 0.3])
@pytest.mark.parametrize("target", ["multilabel", "classes"])
@pytest.mark.parametrize("scoring", ["neg_log_loss", "accuracy"])
def test_label_scores_are_the_scorers_per_label(
    scoring, target, threshold, dtype, weighted, multilabel, three_classes
):
    """All labels scored at once give what scikit-learn's scorer gives for
    each label's view and column."""
    X, y = multilabel if target == "multilabel" else three_classes
    X = X.astype(dtype)
    model = OneVsRestLogistic(C=1e4, threshold=threshold).fit(X, y)
    # Steeper: some probabilities round to 0 or 1 (the clipping at eps).
    model.coef_ = model.coef_ * 100
    weights = np.random.default_rng(0).uniform(0.1, 3, len(X)) if weighted else None
    columns = label_columns(model, y)
    scores = LABEL_SCORES[scoring](model, X, columns, weights)
    scorer = scorer_for_classes(get_scorer(scoring), np.array([0, 1]))
    expected = [
        scorer(label_view(model, label), X, column, sample_weight=weights)
        for label, column in enumerate(columns.T)
    ]
    # float32: the scorer sums float32 losses, the label scores float64 ones.
    rtol = 1e-12 if dtype == np.float64 else 1e-6
    assert_allclose(scores, expected, rtol=rtol, atol=1e-15)
    assert LABEL_SCORES[None] is LABEL_SCORES["accuracy"]


@pytest.mark.parametrize(
    "estimator_class, table, function, data",
    [
        (OneVsRestLogisticCV, "LABEL_SCORES", "label_log_loss_scores", "multilabel"),
        (SoftmaxRegressionCV, "CLASS_SCORES", "class_log_loss_score", "three_classes"),
    ],
)
def test_direct_scores_serve_the_path_only_for_their_scorings(
    estimator_class, table, function, data, request, monkeypatch
):
    import sksoftmax._cv as cv_module

    X, y = request.getfixturevalue(data)
    calls = []
    direct = getattr(cv_module, function)
    monkeypatch.setitem(
        getattr(cv_module, table),
        "neg_log_loss",
        lambda *args: calls.append(1) or direct(*args),
    )
    fast = estimator_class(Cs=3, cv=3, scoring="neg_log_loss").fit(X, y)
    assert len(calls) == 3 * 3
    callable_scorer = get_scorer("neg_log_loss")
    slow = estimator_class(Cs=3, cv=3, scoring=callable_scorer).fit(X, y)
    assert len(calls) == 3 * 3
    assert_allclose(fast.scores_, slow.scores_, rtol=1e-12)
    assert_array_equal(fast.C_, slow.C_)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("scoring", ["neg_log_loss", "accuracy"])
def test_class_scores_are_the_scorers(scoring, n_classes, dtype, weighted):
    """A softmax model's score computed directly is scikit-learn's scorer's,
    string labels and the clipping at eps included."""
    X, y = make_classification(
        n_samples=200,
        n_features=5,
        n_informative=3,
        n_classes=n_classes,
        random_state=n_classes,
    )
    y = np.array(["ant", "bee", "cat"])[y]
    X = X.astype(dtype)
    model = SoftmaxRegression(C=1e4).fit(X, y)
    # Steeper: some probabilities round to 0 or 1 (the clipping at eps).
    model.coef_ = model.coef_ * 100
    weights = np.random.default_rng(0).uniform(0.1, 3, len(X)) if weighted else None
    score = CLASS_SCORES[scoring](model, X, y, weights)
    scorer = scorer_for_classes(get_scorer(scoring), model.classes_)
    expected = scorer(model, X, y, sample_weight=weights)
    # float32: both sum float32 losses, in different orders.
    rtol = 1e-12 if dtype == np.float64 else 1e-6
    assert_allclose(score, expected, rtol=rtol, atol=1e-15)
    assert CLASS_SCORES[None] is CLASS_SCORES["accuracy"]


def test_class_log_loss_leaves_unknown_classes_to_the_scorer(three_classes):
    X, y = three_classes
    model = SoftmaxRegression().fit(X, y)
    assert CLASS_SCORES["neg_log_loss"](model, X, np.where(y == 2, 7, y)) is None
    assert CLASS_SCORES["neg_log_loss"](model, X, np.where(y == 2, -1, y)) is None


@needs_current_logistic_regression_cv
def test_one_vs_rest_on_classes_scores_each_class_against_the_rest(three_classes):
    X, y = three_classes
    folds = list(StratifiedKFold(3, shuffle=True, random_state=1).split(X, y))
    ours = OneVsRestLogisticCV(Cs=CS, cv=folds, scoring="neg_log_loss", tol=TIGHT)
    ours.fit(X, y)
    for index, label in enumerate(ours.classes_):
        theirs = reference_cv(X, (y == label).astype(int), folds, "neg_log_loss")
        assert ours.C_[index] == theirs.C_
        assert_allclose(ours.scores_[..., index], theirs.scores_, atol=SCORE_ATOL)


@needs_current_logistic_regression_cv
def test_one_vs_rest_two_classes_is_one_label(three_classes):
    X, y = three_classes
    y = np.where(y == 0, "a", "b")
    folds = list(StratifiedKFold(3, shuffle=True, random_state=2).split(X, y))
    ours = OneVsRestLogisticCV(Cs=CS, cv=folds, scoring="neg_log_loss", tol=TIGHT)
    ours.fit(X, y)
    theirs = reference_cv(X, y, folds, "neg_log_loss")
    assert ours.C_.shape == (1,)
    assert ours.C_[0] == theirs.C_
    assert_allclose(ours.scores_[..., 0], theirs.scores_, atol=SCORE_ATOL)


@needs_current_logistic_regression_cv
def test_weights_reach_fits_and_scorer_as_in_logistic_regression_cv(three_classes):
    X, y = three_classes
    weights = np.random.default_rng(0).uniform(0.1, 3.0, size=len(y))
    folds = list(StratifiedKFold(3, shuffle=True, random_state=3).split(X, y))
    ours = SoftmaxRegressionCV(Cs=CS, cv=folds, scoring="neg_log_loss", tol=TIGHT)
    ours.fit(X, y, sample_weight=weights)
    theirs = reference_cv(X, y, folds, "neg_log_loss")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        theirs.fit(X, y, sample_weight=weights)
    assert ours.C_ == theirs.C_
    assert_allclose(ours.scores_, theirs.scores_, atol=SCORE_ATOL)


# -- the warm-started path ------------------------------------------------------


@pytest.mark.parametrize("estimator_class", [SoftmaxRegressionCV, OneVsRestLogisticCV])
def test_path_equals_independent_fits(estimator_class, three_classes):
    X, y = three_classes
    folds = list(StratifiedKFold(3, shuffle=True, random_state=4).split(X, y))
    cv = estimator_class(Cs=CS, cv=folds, tol=TIGHT).fit(X, y)
    single = cv._estimator_class
    for fold, (train, _) in enumerate(folds):
        for index, C in enumerate(CS):
            fit = single(C=C, tol=TIGHT).fit(X[train], y[train])
            path = cv.coefs_paths_[fold, 0, index]
            assert_allclose(path[:, :-1], fit.coef_, rtol=1e-6, atol=1e-8)
            assert_allclose(path[:, -1], fit.intercept_, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("estimator_class", [SoftmaxRegressionCV, OneVsRestLogisticCV])
def test_path_carries_the_newton_memory_within_a_fold(
    estimator_class, three_classes, monkeypatch
):
    """Each fit after a fold's first starts from the previous fit's Hessian
    (sksoftmax._solver.NewtonMemory), never from another fold's, and the
    path is the one fitted without it."""
    from sksoftmax import _cv, _solver

    X, y = three_classes
    folds = list(StratifiedKFold(3, shuffle=True, random_state=4).split(X, y))
    used = []
    original = _solver.LBFGSSolver.newton_from_memory

    def recording(self, max_steps):
        used.append(original(self, max_steps))
        return used[-1]

    monkeypatch.setattr(_solver.LBFGSSolver, "newton_from_memory", recording)
    carried = estimator_class(Cs=CS, cv=folds, tol=TIGHT, refit=False).fit(X, y)
    assert used == ([False] + [True] * (len(CS) - 1)) * len(folds)
    monkeypatch.setattr(_cv, "NewtonMemory", lambda: None)
    plain = estimator_class(Cs=CS, cv=folds, tol=TIGHT, refit=False).fit(X, y)
    assert_allclose(carried.coefs_paths_, plain.coefs_paths_, rtol=1e-7, atol=1e-9)
    assert_allclose(carried.scores_, plain.scores_, rtol=0, atol=1e-9)
    assert_array_equal(carried.C_, plain.C_)


def test_warm_starts_save_iterations(three_classes):
    X, y = three_classes
    folds = list(StratifiedKFold(3, shuffle=True, random_state=4).split(X, y))
    cv = SoftmaxRegressionCV(Cs=CS, cv=folds, tol=TIGHT).fit(X, y)
    cold = [
        SoftmaxRegression(C=C, tol=TIGHT).fit(X[train], y[train]).n_iter_[0]
        for train, _ in folds
        for C in CS
    ]
    assert cv.n_iter_.sum() < sum(cold)


def test_predicted_start_follows_a_steady_path_and_stops_on_a_settled_one():
    direction = np.array([[1.0, -2.0, 0.5]])
    Cs = [0.1, 1.0, 10.0]
    # Solutions moving by the same amount per decade: the next is predicted.
    steady = [(C, np.log10(C) * direction) for C in Cs]
    assert_allclose(predicted_start(steady, 100.0), 2.0 * direction)
    # Uneven spacing: the step is scaled by the spacing, at most one step.
    assert_allclose(predicted_start(steady, np.sqrt(1000.0)), 1.5 * direction)
    assert_allclose(predicted_start(steady, 1e6), 2.0 * direction)
    # Solutions that stopped moving: start where the last one is.
    settled = [(0.1, 0 * direction), (1.0, direction), (10.0, direction)]
    assert_allclose(predicted_start(settled, 100.0), direction)
    # Too short a path, or no penalty: no prediction.
    assert predicted_start(steady[:2], 100.0) is None
    assert predicted_start(steady, np.inf) is None


def test_order_of_cs_does_not_matter(three_classes):
    X, y = three_classes
    folds = list(StratifiedKFold(3, shuffle=True, random_state=5).split(X, y))
    permutation = np.array([3, 0, 5, 1, 4, 2])
    shuffled = np.array(CS)[permutation]
    ours = SoftmaxRegressionCV(Cs=CS, cv=folds, scoring="neg_log_loss", tol=TIGHT)
    other = SoftmaxRegressionCV(
        Cs=shuffled, cv=folds, scoring="neg_log_loss", tol=TIGHT
    )
    ours.fit(X, y)
    other.fit(X, y)
    assert_array_equal(other.Cs_, shuffled)
    assert other.C_ == ours.C_
    assert_allclose(other.scores_, ours.scores_[:, :, permutation], atol=1e-10)
    assert_allclose(other.coef_, ours.coef_, rtol=1e-7, atol=1e-9)


# -- parameters -----------------------------------------------------------------


def as_csr(X):
    return sp.csr_matrix(X)


@pytest.mark.parametrize("to_input", [np.asarray, as_csr], ids=["dense", "csr"])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("Cs", [4, [0.05, 0.5, 5.0]], ids=["int", "list"])
@pytest.mark.parametrize("refit", [True, False])
@pytest.mark.parametrize("scoring", [None, "neg_log_loss", "f1_macro"])
def test_softmax_attributes_and_model(
    to_input, fit_intercept, Cs, refit, scoring, overlapping_classes
):
    X, y = overlapping_classes
    X, y = X[:240], y[:240]
    n_folds = 3
    cv = SoftmaxRegressionCV(
        Cs=Cs,
        cv=n_folds,
        fit_intercept=fit_intercept,
        refit=refit,
        scoring=scoring,
        tol=1e-8,
    ).fit(to_input(X), y)
    n_cs = Cs if isinstance(Cs, int) else len(Cs)
    expected_Cs = np.logspace(-4, 4, Cs) if isinstance(Cs, int) else Cs
    assert_allclose(cv.Cs_, expected_Cs)
    assert_array_equal(cv.l1_ratios_, [0.0])
    assert cv.scores_.shape == cv.n_iter_.shape == (n_folds, 1, n_cs)
    n_dof = X.shape[1] + fit_intercept
    assert cv.coefs_paths_.shape == (n_folds, 1, n_cs, 3, n_dof)
    assert cv.l1_ratio_ == 0.0
    assert_array_equal(cv.classes_, [0, 1, 2])
    if refit:
        best = np.argmax(cv.scores_.sum(axis=0)[0])
        assert cv.C_ == cv.Cs_[best]
        fit = SoftmaxRegression(C=cv.C_, fit_intercept=fit_intercept, tol=1e-8)
        fit.fit(X, y)
        assert_allclose(cv.coef_, fit.coef_, rtol=1e-5, atol=1e-7)
        assert_allclose(cv.intercept_, fit.intercept_, rtol=1e-5, atol=1e-7)
    else:
        best = cv.scores_[:, 0].argmax(axis=1)
        assert cv.C_ == pytest.approx(cv.Cs_[best].mean())
        mean = cv.coefs_paths_[np.arange(n_folds), 0, best].mean(axis=0)
        assert_allclose(cv.coef_, mean[:, : X.shape[1]], rtol=1e-12)
    assert_array_equal(cv.predict(X), cv.classes_[cv.decision_function(X).argmax(1)])


@pytest.mark.parametrize("to_input", [np.asarray, as_csr], ids=["dense", "csr"])
@pytest.mark.parametrize("refit", [True, False])
def test_one_vs_rest_attributes_and_model(to_input, refit, multilabel):
    X, Y = multilabel
    cv = OneVsRestLogisticCV(
        Cs=CS, cv=3, refit=refit, scoring="neg_log_loss", tol=1e-8
    ).fit(to_input(X), Y)
    n_labels = Y.shape[1]
    assert cv.scores_.shape == cv.n_iter_.shape == (3, 1, len(CS), n_labels)
    assert cv.coefs_paths_.shape == (3, 1, len(CS), n_labels, X.shape[1] + 1)
    if refit:
        best = cv.scores_.sum(axis=0)[0].argmax(axis=0)
        assert_array_equal(cv.C_, cv.Cs_[best])
        for label in range(n_labels):
            fit = OneVsRestLogistic(C=cv.C_[label], tol=1e-8).fit(X, Y[:, label])
            assert_allclose(cv.coef_[label], fit.coef_[0], rtol=1e-5, atol=1e-7)
    else:
        best = cv.scores_[:, 0].argmax(axis=1)
        assert_allclose(cv.C_, cv.Cs_[best].mean(axis=0))
    assert_array_equal(cv.predict(X), (cv.decision_function(X) > 0).astype(Y.dtype))


def test_dense_and_sparse_agree(multilabel):
    X, Y = multilabel
    dense = OneVsRestLogisticCV(Cs=4, cv=3, tol=1e-8).fit(X, Y)
    sparse = OneVsRestLogisticCV(Cs=4, cv=3, tol=1e-8).fit(as_csr(X), Y)
    assert_allclose(sparse.scores_, dense.scores_, atol=1e-10)
    assert_allclose(sparse.coef_, dense.coef_, rtol=1e-6, atol=1e-8)


def test_float32_stays_float32(three_classes):
    X, y = three_classes
    cv = SoftmaxRegressionCV(Cs=3, cv=3).fit(X.astype(np.float32), y)
    assert cv.coef_.dtype == cv.intercept_.dtype == np.float32
    assert cv.predict_proba(X.astype(np.float32)).dtype == np.float32


def test_n_jobs_gives_the_same_result(three_classes):
    X, y = three_classes
    one = SoftmaxRegressionCV(Cs=4, cv=3, scoring="neg_log_loss").fit(X, y)
    two = SoftmaxRegressionCV(Cs=4, cv=3, scoring="neg_log_loss", n_jobs=2)
    two.fit(X, y)
    assert_allclose(two.scores_, one.scores_, rtol=1e-12)
    assert_allclose(two.coef_, one.coef_, rtol=1e-12)


def test_a_class_missing_from_a_training_fold(three_classes):
    X, y = three_classes
    y = y.copy()
    y[0] = 3  # a class of one sample: absent from one fold's training rows
    folds = list(KFold(3).split(X))
    cv = SoftmaxRegressionCV(Cs=3, cv=folds, scoring="neg_log_loss").fit(X, y)
    assert cv.coefs_paths_.shape[3] == 4
    assert np.isfinite(cv.scores_).all()
    # The fold without it in training gives it a probability close to 0.
    proba = SoftmaxRegression().fit(X, y).predict_proba(X[:1])
    assert cv.predict_proba(X[:1]).shape == proba.shape


def test_sample_weight_routed_to_scorer(three_classes):
    X, y = three_classes
    weights = np.zeros(len(y))
    weights[::2] = 1.0
    folds = list(StratifiedKFold(3, shuffle=True, random_state=0).split(X, y))
    cv = SoftmaxRegressionCV(Cs=[0.1, 1.0], cv=folds, scoring="neg_log_loss")
    cv.fit(X, y, sample_weight=weights)
    train, test = folds[0]
    fit = SoftmaxRegression(C=0.1).fit(X[train], y[train], weights[train])
    expected = -sklearn_log_loss(
        y[test], fit.predict_proba(X[test]), sample_weight=weights[test]
    )
    assert cv.scores_[0, 0, 0] == pytest.approx(expected, rel=1e-5)


def test_metadata_routing(three_classes):
    X, y = three_classes
    weights = np.linspace(0.5, 2.0, len(y))
    with sklearn.config_context(enable_metadata_routing=True):
        scorer = make_scorer(
            sklearn_log_loss, greater_is_better=False, response_method="predict_proba"
        ).set_score_request(sample_weight=True)
        cv = SoftmaxRegressionCV(Cs=3, cv=3, scoring=scorer)
        cv.fit(X, y, sample_weight=weights)
        routing = cv.get_metadata_routing()
        assert routing.consumes("fit", ["sample_weight"]) == {"sample_weight"}
        assert cv.score(X, y, sample_weight=weights) == pytest.approx(
            scorer(cv, X, y, sample_weight=weights)
        )
        # Metadata nobody asked for is refused, as by scikit-learn.
        with pytest.raises(TypeError, match="groups"):
            cv.fit(X, y, groups=np.zeros(len(y)))


def test_score_uses_scoring(three_classes):
    X, y = three_classes
    cv = SoftmaxRegressionCV(Cs=3, cv=3, scoring="neg_log_loss").fit(X, y)
    assert cv.score(X, y) == pytest.approx(get_scorer("neg_log_loss")(cv, X, y))


# -- l1_ratios ----------------------------------------------------------------------


def test_zero_l1_ratio_is_the_l2_path(three_classes):
    X, y = three_classes
    plain = SoftmaxRegressionCV(Cs=3, cv=3).fit(X, y)
    zero = SoftmaxRegressionCV(Cs=3, cv=3, l1_ratios=[0.0]).fit(X, y)
    assert_allclose(zero.scores_, plain.scores_)
    assert zero.l1_ratio_ == 0.0


@pytest.mark.parametrize("estimator_class", [SoftmaxRegressionCV, OneVsRestLogisticCV])
def test_l1_ratios_grid(estimator_class, three_classes):
    X, y = three_classes
    l1_ratios = [0.0, 0.5, 1.0]
    cv = estimator_class(Cs=3, cv=3, l1_ratios=l1_ratios).fit(X, y)
    assert cv.scores_.shape[:3] == (3, 3, 3)
    assert np.isin(cv.l1_ratio_, l1_ratios).all()
    assert_array_equal(cv.l1_ratios_, l1_ratios)


# -- bad input ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "Cs, message",
    [
        ([], "non-empty"),
        ([1.0, -1.0], "positive"),
        ([0.0], "positive"),
        ([np.nan], "positive"),
        ([[1.0, 2.0]], "1-D"),
        (0, "Cs"),
    ],
)
def test_bad_cs(Cs, message, three_classes):
    X, y = three_classes
    with pytest.raises(ValueError, match=message):
        SoftmaxRegressionCV(Cs=Cs).fit(X, y)


@pytest.mark.parametrize(
    "l1_ratios, message",
    [([], "non-empty"), ([0.0, 1.5], r"\[0, 1\]"), ([-0.1], r"\[0, 1\]")],
)
def test_bad_l1_ratios(l1_ratios, message, three_classes):
    X, y = three_classes
    with pytest.raises(ValueError, match=message):
        OneVsRestLogisticCV(l1_ratios=l1_ratios).fit(X, y)


@pytest.mark.parametrize(
    "params", [{"Cs": ["small", "large"]}, {"l1_ratios": ["half"]}]
)
def test_values_that_are_not_numbers(params, three_classes):
    X, y = three_classes
    with pytest.raises(TypeError, match=f"{next(iter(params))} must be numbers"):
        SoftmaxRegressionCV(**params).fit(X, y)


@pytest.mark.parametrize(
    "params",
    [{"scoring": "no_such_score"}, {"refit": "yes"}, {"cv": "five"}, {"tol": -1.0}],
)
def test_bad_parameters(params, three_classes):
    X, y = three_classes
    with pytest.raises(ValueError, match=next(iter(params))):
        SoftmaxRegressionCV(**params).fit(X, y)


def test_softmax_cv_refuses_an_indicator_matrix(multilabel):
    X, Y = multilabel
    with pytest.raises(ValueError, match="OneVsRestLogistic"):
        SoftmaxRegressionCV(Cs=2).fit(X, Y)


def test_no_c_or_warm_start_parameters():
    for estimator in (SoftmaxRegressionCV(), OneVsRestLogisticCV()):
        params = estimator.get_params()
        assert not {"C", "warm_start", "l1_ratio"} & set(params)
        assert {"Cs", "l1_ratios", "cv", "scoring", "refit", "n_jobs"} <= set(params)
