"""SoftmaxRegression against scikit-learn, statsmodels and its own contracts."""

import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.datasets import (
    load_breast_cancer,
    load_digits,
    load_iris,
    load_wine,
    make_classification,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.class_weight import compute_sample_weight

from sksoftmax import SoftmaxRegression
from sksoftmax._loss import binary_objective, multinomial_objective


def _standardised(X):
    return StandardScaler().fit_transform(X)


DATASETS = {
    "iris": lambda: load_iris(return_X_y=True),
    "wine": lambda: (_standardised(load_wine().data), load_wine().target),
    "digits": lambda: (_standardised(load_digits().data), load_digits().target),
    "synthetic": lambda: make_classification(
        n_samples=400,
        n_features=12,
        n_informative=6,
        n_classes=4,
        flip_y=0.1,
        random_state=0,
    ),
    "binary": lambda: (
        _standardised(load_breast_cancer().data),
        load_breast_cancer().target,
    ),
}


def objective(model, X, y, C, sample_weight=None):
    """The common objective, evaluated the same way for every model."""
    classes = np.unique(y)
    y_index = np.searchsorted(classes, y)
    if len(classes) == 2:
        return binary_objective(
            model.coef_, model.intercept_, X, y_index[:, None], sample_weight, C
        )[0]
    return multinomial_objective(
        model.coef_, model.intercept_, X, y_index, sample_weight, C
    )[0]


def _fit_pair(X, y, C, **fit_params):
    ours = SoftmaxRegression(C=C, tol=1e-10, **fit_params.pop("params", {}))
    ref = LogisticRegression(
        C=C, tol=1e-12, max_iter=20_000, **fit_params.pop("ref_params", {})
    )
    with warnings.catch_warnings():
        # scikit-learn may stop at rounding level above tol=1e-12.
        warnings.simplefilter("ignore", ConvergenceWarning)
        ref.fit(X, y, **fit_params)
    ours.fit(X, y, **fit_params)
    return ours, ref


def _assert_same_model(ours, ref, X, y, C, sample_weight=None):
    f_ours = objective(ours, X, y, C, sample_weight)
    f_ref = objective(ref, X, y, C, sample_weight)
    # Ours may be lower (better converged); never higher beyond 1e-6.
    assert f_ours <= f_ref * (1 + 1e-6)
    assert f_ours == pytest.approx(f_ref, rel=1e-6)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-4)
    assert ours.coef_.shape == ref.coef_.shape
    assert ours.intercept_.shape == ref.intercept_.shape


@pytest.mark.parametrize("C", [0.01, 1.0, 100.0])
@pytest.mark.parametrize("name", list(DATASETS))
def test_parity_with_sklearn(name, C):
    X, y = DATASETS[name]()
    ours, ref = _fit_pair(X, y, C)
    _assert_same_model(ours, ref, X, y, C)
    np.testing.assert_array_equal(ours.classes_, ref.classes_)


@pytest.mark.parametrize("name", ["iris", "wine", "binary"])
def test_parity_with_sample_weight(name):
    X, y = DATASETS[name]()
    sample_weight = np.random.default_rng(0).uniform(0.1, 3.0, size=y.shape[0])
    ours, ref = _fit_pair(X, y, 1.0, sample_weight=sample_weight)
    _assert_same_model(ours, ref, X, y, 1.0, sample_weight)


@pytest.mark.parametrize("name", ["iris", "synthetic", "binary"])
def test_parity_with_balanced_class_weight(name):
    X, y = DATASETS[name]()
    keep = np.r_[np.flatnonzero(y != 0), np.flatnonzero(y == 0)[:10]]  # imbalance
    X, y = X[keep], y[keep]
    ours, ref = _fit_pair(
        X,
        y,
        1.0,
        params={"class_weight": "balanced"},
        ref_params={"class_weight": "balanced"},
    )
    effective = compute_sample_weight("balanced", y)
    _assert_same_model(ours, ref, X, y, 1.0, effective)


def test_binary_is_sklearn_binomial_model():
    X, y = DATASETS["binary"]()
    clf = SoftmaxRegression(C=0.5, tol=1e-10).fit(X, y)
    assert clf.coef_.shape == (1, X.shape[1])
    assert clf.intercept_.shape == (1,)
    assert clf.decision_function(X).shape == (X.shape[0],)
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(
        proba[:, 1], 1 / (1 + np.exp(-clf.decision_function(X))), rtol=1e-12
    )
    np.testing.assert_array_equal(
        clf.predict(X), clf.classes_[(proba[:, 1] > 0.5).astype(int)]
    )


def test_binary_equals_two_class_softmax_at_half_C():
    """Documented: binomial at C is the symmetric two-class softmax at C / 2."""
    X, y = DATASETS["binary"]()
    C = 0.3
    clf = SoftmaxRegression(C=C, tol=1e-10).fit(X, y)
    # Build the two-class softmax solution from the binomial one.
    w, b = clf.coef_[0], clf.intercept_[0]
    W2 = np.vstack([-w / 2, w / 2])
    b2 = np.array([-b / 2, b / 2])
    _, gW, gb = multinomial_objective(W2, b2, X, y, C=C / 2)
    scale = np.abs(multinomial_objective(W2, b2, X, y, C=C / 2)[0])
    assert np.abs(gW).max() < 1e-6 * scale
    assert np.abs(gb).max() < 1e-6 * scale


def test_unpenalised_matches_statsmodels_mnlogit(overlapping_classes):
    sm = pytest.importorskip("statsmodels.api")
    X, y = overlapping_classes
    clf = SoftmaxRegression(C=np.inf, tol=1e-10).fit(X, y)
    result = sm.MNLogit(y, sm.add_constant(X)).fit(method="newton", disp=0, tol=1e-12)
    # statsmodels reports each class against class 0: column k-1, rows
    # [const, x1..x4].
    params = np.asarray(result.params)
    for k in (1, 2):
        np.testing.assert_allclose(
            clf.coef_[k] - clf.coef_[0], params[1:, k - 1], atol=1e-4, rtol=1e-4
        )
        np.testing.assert_allclose(
            clf.intercept_[k] - clf.intercept_[0], params[0, k - 1], atol=1e-4
        )


@pytest.mark.parametrize("scale", [1e6, 1e-6])
def test_extreme_inputs_no_warning_finite_outputs(scale):
    X, y = load_iris(return_X_y=True)
    X = X * scale
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = SoftmaxRegression(max_iter=200).fit(X, y)
        proba = clf.predict_proba(X)
        log_proba = clf.predict_log_proba(X)
    assert np.all(np.isfinite(proba))
    assert np.all(np.isfinite(log_proba))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-12)


@pytest.mark.parametrize("name", ["iris", "binary"])
def test_huge_logits_give_finite_log_proba(name):
    X, y = DATASETS[name]()
    clf = SoftmaxRegression().fit(X, y)
    X_far = X * 1e5  # logits of order 1e5 and beyond
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        scores = clf.decision_function(X_far)
        proba = clf.predict_proba(X_far)
        log_proba = clf.predict_log_proba(X_far)
    assert np.abs(scores).max() > 1e4
    assert np.all(np.isfinite(log_proba))
    assert log_proba.min() < -1e3  # scikit-learn would give -inf here
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-12)
    np.testing.assert_allclose(np.exp(log_proba), proba, atol=1e-12)


BAD_INPUTS = {
    "nan in X": (
        lambda X, y: (
            np.where(np.arange(X.size).reshape(X.shape) == 3, np.nan, X),
            y,
            None,
        ),
        "NaN",
    ),
    "inf in X": (
        lambda X, y: (
            np.where(np.arange(X.size).reshape(X.shape) == 3, np.inf, X),
            y,
            None,
        ),
        "infinity",
    ),
    "nan in y": (lambda X, y: (X, np.r_[np.nan, y[1:].astype(float)], None), "NaN"),
    "one class": (lambda X, y: (X, np.zeros_like(y), None), "class"),
    "empty X": (lambda X, y: (X[:0], y[:0], None), "0 sample"),
    "mismatched lengths": (lambda X, y: (X, y[:-1], None), "inconsistent"),
    "negative weight": (
        lambda X, y: (X, y, np.r_[-1.0, np.ones(len(y) - 1)]),
        "negative",
    ),
    "nan weight": (lambda X, y: (X, y, np.r_[np.nan, np.ones(len(y) - 1)]), "NaN"),
    "inf weight": (lambda X, y: (X, y, np.r_[np.inf, np.ones(len(y) - 1)]), "inf"),
    "zero weights": (lambda X, y: (X, y, np.zeros(len(y))), "weight"),
    "wrong weight length": (lambda X, y: (X, y, np.ones(3)), "sample_weight"),
    "continuous y": (lambda X, y: (X, y + 0.5, None), "continuous"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_raises_clear_value_error(case):
    X, y = load_iris(return_X_y=True)
    make, message = BAD_INPUTS[case]
    X_bad, y_bad, sample_weight = make(X, y)
    with pytest.raises(ValueError, match=f"(?i){message}"):
        SoftmaxRegression().fit(X_bad, y_bad, sample_weight=sample_weight)


@pytest.mark.parametrize(
    "params, message",
    [
        ({"C": 0.0}, "C"),
        ({"C": -1.0}, "C"),
        ({"tol": -1.0}, "tol"),
        ({"max_iter": -1}, "max_iter"),
        ({"class_weight": "auto"}, "class_weight"),
        ({"class_weight": {"not-a-class": 2.0}}, "not-a-class"),
    ],
)
def test_bad_parameters_raise(params, message):
    X, y = load_iris(return_X_y=True)
    with pytest.raises(ValueError, match=message):
        SoftmaxRegression(**params).fit(X, y)


def test_wrong_number_of_features_at_predict():
    X, y = load_iris(return_X_y=True)
    clf = SoftmaxRegression().fit(X, y)
    for method in (
        "predict",
        "predict_proba",
        "predict_log_proba",
        "decision_function",
    ):
        with pytest.raises(ValueError, match="features"):
            getattr(clf, method)(X[:, :3])


@pytest.mark.parametrize(
    "labels", [np.array(["setosa", "versicolor", "virginica"]), np.array([3, -1, 7])]
)
def test_string_and_integer_labels(labels):
    X, y = load_iris(return_X_y=True)
    y_labels = labels[y]
    clf = SoftmaxRegression().fit(X, y_labels)
    reference = SoftmaxRegression().fit(X, y)
    np.testing.assert_array_equal(clf.classes_, np.sort(labels))
    order = np.argsort(labels)  # classes_ are sorted labels
    np.testing.assert_allclose(
        clf.predict_proba(X), reference.predict_proba(X)[:, order], atol=1e-8
    )
    assert set(clf.predict(X)) <= set(labels)
    assert clf.score(X, y_labels) > 0.9


def _unsorted_with_duplicates(X):
    """``X`` as CSR whose column indices run backwards within each row and
    whose first stored value of each row is split into two duplicates."""
    coo = sp.coo_matrix(X)
    order = np.lexsort((-coo.col, coo.row))
    row, col, data = coo.row[order], coo.col[order], coo.data[order]
    first = np.flatnonzero(np.r_[True, row[1:] != row[:-1]])
    row = np.concatenate([row, row[first]])
    col = np.concatenate([col, col[first]])
    data = np.concatenate([data, data[first] / 2])
    data[first] /= 2
    order = np.argsort(row, kind="stable")
    indptr = np.r_[0, np.cumsum(np.bincount(row, minlength=X.shape[0]))]
    return sp.csr_matrix((data[order], col[order], indptr), shape=X.shape)


@pytest.mark.parametrize("sparse", ["dense", "csr", "csr-unsorted-duplicates"])
def test_caller_arrays_not_modified(sparse):
    # In-memory blocks of sparse X share its arrays (no copy), so nothing
    # may sort or merge them in place; the raw arrays are compared.
    X, y = load_iris(return_X_y=True)
    if sparse == "csr":
        X = sp.csr_matrix(X)
    elif sparse == "csr-unsorted-duplicates":
        X = _unsorted_with_duplicates(X)
        assert not X.has_sorted_indices
        np.testing.assert_allclose(X.toarray(), load_iris().data)
    else:
        X = X.copy()
    sample_weight = np.linspace(0.5, 2.0, y.shape[0])
    copies = (X.copy(), y.copy(), sample_weight.copy())
    clf = SoftmaxRegression(class_weight="balanced").fit(X, y, sample_weight)
    clf.predict_proba(X)
    clf.predict_log_proba(X)
    if sparse != "dense":
        for name in ("data", "indices", "indptr"):
            np.testing.assert_array_equal(getattr(X, name), getattr(copies[0], name))
    else:
        np.testing.assert_array_equal(X, copies[0])
    np.testing.assert_array_equal(y, copies[1])
    np.testing.assert_array_equal(sample_weight, copies[2])


def test_pandas_feature_names_pipeline_and_grid_search():
    data = load_iris(as_frame=True)
    X, y = data.data, data.target
    clf = SoftmaxRegression().fit(X, y)
    np.testing.assert_array_equal(clf.feature_names_in_, X.columns.to_numpy())
    pipe = make_pipeline(StandardScaler(), SoftmaxRegression())
    search = GridSearchCV(pipe, {"softmaxregression__C": [0.1, 1.0, 10.0]}, cv=3)
    search.fit(X, y)
    assert search.best_params_["softmaxregression__C"] in (0.1, 1.0, 10.0)
    assert search.score(X, y) > 0.9
    assert isinstance(X, pd.DataFrame)


def test_pickle_round_trip():
    X, y = DATASETS["wine"]()
    clf = SoftmaxRegression().fit(X, y)
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict(X), clf.predict(X))
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))


@pytest.mark.parametrize("name", ["wine", "binary"])
def test_dense_and_sparse_give_the_same_model(name):
    X, y = DATASETS[name]()
    dense = SoftmaxRegression(tol=1e-8).fit(X, y)
    sparse = SoftmaxRegression(tol=1e-8).fit(sp.csr_matrix(X), y)
    np.testing.assert_allclose(sparse.coef_, dense.coef_, atol=1e-6, rtol=1e-6)
    np.testing.assert_allclose(sparse.intercept_, dense.intercept_, atol=1e-6)


@pytest.mark.parametrize("name", ["wine", "digits", "binary"])
def test_float32_agrees_with_float64(name):
    X, y = DATASETS[name]()
    clf64 = SoftmaxRegression().fit(X, y)
    clf32 = SoftmaxRegression().fit(X.astype(np.float32), y)
    np.testing.assert_allclose(
        clf32.predict_proba(X.astype(np.float32)), clf64.predict_proba(X), atol=1e-4
    )


def test_float32_tight_tol_finishes_in_full_precision():
    X, y = make_classification(
        n_samples=20_000, n_features=20, n_informative=10, n_classes=4, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf32 = SoftmaxRegression(tol=1e-9).fit(X.astype(np.float32), y)
    X64 = X.astype(np.float32).astype(float)
    clf64 = SoftmaxRegression(tol=1e-9).fit(X64, y)
    np.testing.assert_allclose(clf32.coef_, clf64.coef_, rtol=1e-5, atol=1e-7)
    # The float32 fit met tol on the exact (float64) gradient, which float32
    # products alone cannot resolve. It is judged at the solver's float64
    # solution: coef_ is reported in X's dtype, float32, whose rounding alone
    # moves the gradient by more than tol.
    solution = clf32._solver_result.coef
    W, b = solution[:, :-1], solution[:, -1]
    _, grad_W, grad_b = multinomial_objective(W, b, X64, y)
    assert max(np.abs(grad_W).max(), np.abs(grad_b).max()) / len(y) <= 1e-8


def test_no_intercept():
    X, y = DATASETS["wine"]()
    ours, ref = _fit_pair(
        X, y, 1.0, params={"fit_intercept": False}, ref_params={"fit_intercept": False}
    )
    np.testing.assert_array_equal(ours.intercept_, np.zeros(3))
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-4)


def test_convergence_warning_says_what_to_do():
    X, y = load_digits(return_X_y=True)
    with pytest.warns(ConvergenceWarning, match="max_iter.*StandardScaler"):
        clf = SoftmaxRegression(max_iter=3).fit(X, y)
    assert clf.n_iter_[0] == 3


def test_default_converges_on_standardised_data_without_warning():
    for name in DATASETS:
        X, y = DATASETS[name]()
        with warnings.catch_warnings():
            warnings.simplefilter("error", ConvergenceWarning)
            SoftmaxRegression(C=100.0).fit(X, y)


def test_verbose_prints_progress(capsys):
    X, y = load_iris(return_X_y=True)
    SoftmaxRegression(verbose=1).fit(X, y)
    out = capsys.readouterr().out
    assert "objective" in out and "max|grad|" in out


def test_warm_start_resumes_from_previous_solution():
    X, y = DATASETS["digits"]()
    clf = SoftmaxRegression(C=10.0, warm_start=True, tol=1e-6).fit(X, y)
    first = clf.n_iter_[0]
    clf.fit(X, y)
    assert clf.n_iter_[0] < first
    cold = SoftmaxRegression(C=10.0, tol=1e-6).fit(X, y)
    np.testing.assert_allclose(clf.predict_proba(X), cold.predict_proba(X), atol=1e-4)


def test_probabilities_sum_to_one_and_match_log_proba():
    X, y = DATASETS["digits"]()
    clf = SoftmaxRegression().fit(X, y)
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-12)
    np.testing.assert_allclose(np.log(proba), clf.predict_log_proba(X), atol=1e-10)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[proba.argmax(axis=1)])


@pytest.mark.parametrize(
    "make_Y",
    [np.asarray, sp.csr_matrix, lambda Y: pd.DataFrame(Y, columns=["a", "b", "c"])],
    ids=["dense", "csr", "frame"],
)
def test_indicator_matrix_error_names_ovr_and_to_exclusive(make_Y):
    """Issue 12, defect 14: an indicator matrix is not scikit-learn's generic
    "y should be a 1d array": the error says overlapping labels call for
    OneVsRestLogistic and that to_exclusive converts exclusive indicators."""
    X, y = load_iris(return_X_y=True)
    Y = np.eye(3, dtype=int)[y]
    Y[:10, 0] = 1  # some rows carry two labels
    with pytest.raises(ValueError, match="OneVsRestLogistic") as info:
        SoftmaxRegression().fit(X, make_Y(Y))
    assert "to_exclusive" in str(info.value)
