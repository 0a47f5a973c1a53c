"""Reliability of both estimators at the edges (issue 12).

Each test named ``test_<defect>...`` pins one defect of issue 12 that applies
to both estimators; the OneVsRestLogistic-only ones are in test_ovr.py, the
special functions' in test_special.py.
"""

import functools
import os
import re
import subprocess
import sys
import textwrap
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn
from sklearn.datasets import make_classification
from threadpoolctl import threadpool_info

from sksoftmax import OneVsRestLogistic, PerfectSeparationWarning, SoftmaxRegression
from sksoftmax._precision import FLOAT32_SAFE_MAX, Float32Policy

ROOT = Path(__file__).resolve().parents[1]
ESTIMATORS = [SoftmaxRegression, OneVsRestLogistic]

# Every estimator with every target kind it takes.
ESTIMATOR_TARGETS = [
    pytest.param(Estimator, target, id=f"{Estimator.__name__}-{target}")
    for Estimator, targets in [
        (SoftmaxRegression, ["binary", "multiclass"]),
        (OneVsRestLogistic, ["binary", "multiclass", "indicator"]),
    ]
    for target in targets
]


def _name(value):
    return getattr(value, "__name__", None)


def classification(n_classes=3, n_samples=120, n_features=5, random_state=0):
    """Overlapping (not separable) classes: every fit has a finite optimum."""
    X, y = make_classification(
        n_samples=n_samples,
        n_features=n_features,
        n_informative=3,
        n_redundant=0,
        n_classes=n_classes,
        n_clusters_per_class=1,
        flip_y=0.2,
        random_state=random_state,
    )
    return X, y


def indicator(n_labels, n_samples=120, random_state=0):
    """A 0/1 matrix whose every column has both values."""
    rng = np.random.default_rng(random_state)
    Y = (rng.random((n_samples, n_labels)) < 0.4).astype(int)
    Y[0], Y[1] = 0, 1
    return Y


def fitted_arrays(model):
    return np.column_stack([model.coef_, model.intercept_])


# -- defect 3: warm_start with a changed number of labels -------------------------

WARM_START_CASES = {
    SoftmaxRegression: [
        ("binary -> 3 classes", 2, 3),
        ("3 -> 5 classes", 3, 5),
        ("4 classes -> binary", 4, 2),
    ],
    OneVsRestLogistic: [
        ("binary -> 3 classes", 2, 3),
        ("3 classes -> binary", 3, 2),
        ("indicator 2 -> 6 labels", "Y2", "Y6"),
        ("indicator 6 -> 2 labels", "Y6", "Y2"),
        ("indicator 3 -> 4 classes", "Y3", 4),
    ],
}


def _targets(kind, X):
    if isinstance(kind, str):
        return indicator(int(kind[1:]), n_samples=X.shape[0])
    return classification(n_classes=kind, n_samples=X.shape[0])[1]


@pytest.mark.parametrize(
    "Estimator, first, second",
    [
        pytest.param(Estimator, first, second, id=f"{Estimator.__name__}-{name}")
        for Estimator, cases in WARM_START_CASES.items()
        for name, first, second in cases
    ],
)
def test_warm_start_with_changed_number_of_labels(Estimator, first, second):
    """Defect 3: a refit with another number of labels starts from zeros and
    gives the cold fit's model, instead of raising IndexError."""
    X, _ = classification()
    y_first, y_second = _targets(first, X), _targets(second, X)
    warm = Estimator(warm_start=True, tol=1e-10).fit(X, y_first)
    warm.fit(X, y_second)
    cold = Estimator(tol=1e-10).fit(X, y_second)
    assert warm.coef_.shape == cold.coef_.shape
    np.testing.assert_allclose(
        fitted_arrays(warm), fitted_arrays(cold), rtol=1e-6, atol=1e-8
    )
    np.testing.assert_array_equal(warm.predict(X), cold.predict(X))


# -- defect 4: class_weight validation --------------------------------------------

BAD_CLASS_WEIGHTS = {
    # name: (class_weight for classes [0, 1, 2], label the message must name)
    "negative": ({0: 1.0, 1: -0.5}, 1),
    "inf": ({2: np.inf}, 2),
    "nan": ({0: np.nan}, 0),
    "not a number": ({1: "heavy"}, 1),
    "all zero": ({0: 0.0, 1: 0, 2: 0.0}, 2),
    "unknown label": ({0: 1.0, 7: 2.0}, 7),
}


@pytest.mark.parametrize("Estimator", ESTIMATORS, ids=_name)
@pytest.mark.parametrize("case", BAD_CLASS_WEIGHTS)
def test_invalid_class_weight_raises_value_error_naming_it(Estimator, case):
    """Defect 4: every bad class_weight is a ValueError naming the parameter
    and the class, never a RuntimeWarning or a silent fit."""
    class_weight, label = BAD_CLASS_WEIGHTS[case]
    X, y = classification()
    with pytest.raises(ValueError, match="class_weight") as info:
        Estimator(class_weight=class_weight).fit(X, y)
    assert re.search(rf"\b{label}\b", str(info.value)), str(info.value)


@pytest.mark.parametrize("case", BAD_CLASS_WEIGHTS)
def test_invalid_class_weight_indicator_targets(case):
    """Defect 4 for an indicator matrix, whose class_weight keys are 0
    (negatives) and 1 (positives)."""
    class_weight, label = BAD_CLASS_WEIGHTS[case]
    class_weight = {k % 2 if k != 7 else k: v for k, v in class_weight.items()}
    label = label % 2 if label != 7 else label
    X, _ = classification()
    with pytest.raises(ValueError, match="class_weight") as info:
        OneVsRestLogistic(class_weight=class_weight).fit(X, indicator(3))
    assert re.search(rf"\b{label}\b", str(info.value)), str(info.value)


def test_class_weight_leaving_one_class_softmax_raises():
    """Defect 4: zero weights on all classes but one leave no model to fit
    (the one class's unpenalised intercept grows without bound)."""
    X, y = classification()
    with pytest.raises(ValueError, match=r"class_weight.*\[2\]"):
        SoftmaxRegression(class_weight={0: 0.0, 1: 0.0}).fit(X, y)


def test_class_weight_zero_on_every_weighted_sample_ovr_raises():
    """Defect 4: class_weight and sample_weight together zero everywhere."""
    X, y = classification()
    sample_weight = (y == 0).astype(float)
    with pytest.raises(ValueError, match="class_weight"):
        OneVsRestLogistic(class_weight={0: 0.0}).fit(X, y, sample_weight)


# -- defect 5: extreme sample_weight ----------------------------------------------


@pytest.mark.parametrize("Estimator, target", ESTIMATOR_TARGETS)
@pytest.mark.parametrize("scale", [1e307, 1e-320], ids=["1e307", "1e-320"])
def test_extreme_sample_weight_equals_unit_weights_at_scaled_C(
    Estimator, target, scale
):
    """Defect 5: weights ``k * scale`` (their sum overflows, or they are
    subnormal) fit as weights ``k`` at ``C * scale``: the objective is
    ``C sum s_i l_i + penalty``. No RuntimeWarning (an error in this suite)."""
    X, y = classification(n_classes=2 if target == "binary" else 3)
    if target == "indicator":
        y = indicator(3)
    k = 1.0 + np.arange(X.shape[0]) % 3
    C = 0.5
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        extreme = Estimator(C=C, tol=1e-10).fit(X, y, sample_weight=k * scale)
    reference = Estimator(C=C * scale, tol=1e-10).fit(X, y, sample_weight=k)
    np.testing.assert_allclose(
        fitted_arrays(extreme), fitted_arrays(reference), rtol=1e-6, atol=1e-300
    )
    assert np.all(np.isfinite(extreme.predict_proba(X)))


# -- entries whose squares overflow float64 ----------------------------------------


@pytest.mark.parametrize("Estimator, target", ESTIMATOR_TARGETS)
@pytest.mark.parametrize("layout", ["dense", "csr", "cv"])
def test_entries_whose_squares_overflow_are_a_clear_error(Estimator, target, layout):
    """X with entries near 1e155 (5 features): row norms and second moments
    overflow float64. A ValueError naming the size and the remedy, before any
    overflow warning; a scale just below the limit fits without one."""
    from sksoftmax import OneVsRestLogisticCV, SoftmaxRegressionCV
    from sksoftmax._products import largest_safe_value

    X, y = classification(n_classes=2 if target == "binary" else 3)
    if target == "indicator":
        y = indicator(3)
    X = X / np.abs(X).max()
    limit = largest_safe_value(X.shape[1])
    make = {"dense": np.asarray, "csr": sp.csr_matrix, "cv": np.asarray}[layout]
    if layout == "cv":
        Estimator = (
            OneVsRestLogisticCV
            if Estimator is OneVsRestLogistic
            else SoftmaxRegressionCV
        )
        Estimator = functools.partial(Estimator, Cs=2, cv=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        with pytest.raises(ValueError, match="overflow float64.*Rescale"):
            Estimator().fit(make(X * (2 * limit)), y)
        model = Estimator().fit(make(X * (0.5 * limit)), y)
    assert np.all(
        np.isfinite(model.coef_.toarray() if sp.issparse(model.coef_) else model.coef_)
    )


# -- defect 6: float32 data beyond float32's product range ------------------------


@pytest.mark.parametrize("Estimator", ESTIMATORS, ids=_name)
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
def test_float32_columns_spanning_1e30_fall_back_to_float64(Estimator, sparse):
    """Defect 6: float32 columns of 1e-30 .. 1e30 overflowed in the float32
    products; they now run in float64 with no warning and give the float64
    fit of the same values."""
    X, y = classification(n_features=4)
    X32 = (X * np.logspace(-30, 30, X.shape[1])).astype(np.float32)
    X64 = X32.astype(np.float64)
    if sparse:
        X32, X64 = sp.csr_matrix(X32), sp.csr_matrix(X64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model32 = Estimator(tol=1e-8).fit(X32, y)
        proba32 = model32.predict_proba(X32)
    model64 = Estimator(tol=1e-8).fit(X64, y)
    np.testing.assert_allclose(proba32, model64.predict_proba(X64), atol=1e-5)
    np.testing.assert_allclose(
        model32.coef_, model64.coef_, rtol=1e-4, atol=1e-5 * np.abs(model64.coef_).max()
    )


def test_float32_policy_range_checks():
    """Defect 6, the mechanism: float32 products only while the data's
    squares and the scores' bound stay within float32's range."""
    objective = type("Objective", (), {"drop_anchor": lambda self: None})()
    assert Float32Policy(np.float32, 1.0).low_precision
    assert not Float32Policy(np.float32, 1e30).low_precision
    assert not Float32Policy(np.float32, None).low_precision
    assert not Float32Policy(np.float64, 1.0).low_precision

    policy = Float32Policy(np.float32, 10.0)
    small = np.array([[1.0, -2.0, 3.0]])  # two features and an intercept
    policy.before_evaluation(objective, small, n_features=2)
    assert policy.low_precision
    # ||w||_1 * max|X| above the limit: the next products would overflow.
    huge = np.array([[FLOAT32_SAFE_MAX / 10.0, FLOAT32_SAFE_MAX / 10.0, 0.0]])
    policy.before_evaluation(objective, huge, n_features=2)
    assert not policy.low_precision


# -- defect 8: process-wide BLAS state and concurrent fits ------------------------


def _blas_limits():
    return sorted((info["filepath"], info["num_threads"]) for info in threadpool_info())


@pytest.mark.parametrize("Estimator", ESTIMATORS, ids=_name)
def test_concurrent_fits_leave_blas_threads_and_match_sequential(Estimator):
    """Defect 8: fits in several threads at once leave every BLAS thread
    limit as it was, and give the models of the same fits run one by one."""
    datasets = [classification(random_state=seed) for seed in range(8)]
    before = _blas_limits()
    sequential = [fitted_arrays(Estimator(tol=1e-10).fit(X, y)) for X, y in datasets]
    assert _blas_limits() == before
    n_together = 4
    together = threading.Barrier(n_together)

    def fit(index):
        X, y = datasets[index]
        if index < n_together:
            # The first fits start at the same moment, so they overlap.
            together.wait(timeout=60)
        return fitted_arrays(Estimator(tol=1e-10).fit(X, y))

    with ThreadPoolExecutor(max_workers=n_together) as pool:
        concurrent = list(pool.map(fit, range(len(datasets))))
    assert _blas_limits() == before
    for a, b in zip(concurrent, sequential, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-10)


# -- defect 9: C=inf on perfectly separated data ----------------------------------


def separable(n_classes, random_state=0):
    """Classes in disjoint regions of the first feature."""
    rng = np.random.default_rng(random_state)
    y = np.arange(60) % n_classes
    X = rng.normal(scale=0.3, size=(60, 2))
    X[:, 0] += 3.0 * y
    return X, y


@pytest.mark.parametrize("Estimator", ESTIMATORS, ids=_name)
@pytest.mark.parametrize("n_classes", [2, 3])
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
def test_unpenalised_fit_on_separable_data_warns(Estimator, n_classes, sparse):
    """Defect 9: no finite maximum-likelihood solution: say so and what to do."""
    X, y = separable(n_classes)
    X = sp.csr_matrix(X) if sparse else X
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        Estimator(C=np.inf).fit(X, y)
    separation = [w for w in caught if w.category is PerfectSeparationWarning]
    assert len(separation) == 1
    assert "finite C" in str(separation[0].message)
    # Nothing else: in particular no LinAlgWarning (a RuntimeWarning) from
    # solving with the vanishing Hessian of separated data.
    others = [w for w in caught if w.category is not PerfectSeparationWarning]
    assert not others, [str(w.message) for w in others]


@pytest.mark.parametrize("Estimator", ESTIMATORS, ids=_name)
def test_unpenalised_fit_on_four_separated_points_warns_only_once(Estimator):
    """Defect 9: the smallest separated data (y = 1 - x1): the Newton steps
    meet a vanishing Hessian, which must not leak scipy's LinAlgWarning (a
    RuntimeWarning) next to the one PerfectSeparationWarning."""
    X = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
    y = np.array([0, 1, 0, 1])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        Estimator(C=np.inf, tol=1e-10).fit(X, y)
    assert [w.category for w in caught] == [PerfectSeparationWarning], [
        str(w.message) for w in caught
    ]


def _separation_warnings(model, X, y):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(X, y)
    return [w for w in caught if issubclass(w.category, PerfectSeparationWarning)]


@pytest.mark.parametrize("Estimator", ESTIMATORS, ids=_name)
def test_no_separation_warning_on_overlapping_classes_or_finite_C(
    Estimator, overlapping_classes
):
    """Defect 9: no false alarm: overlapping classes at C=inf (the statsmodels
    MNLogit parity data), or separable data with a penalty."""
    X, y = overlapping_classes
    assert not _separation_warnings(Estimator(C=np.inf, tol=1e-10), X, y)
    assert not _separation_warnings(Estimator(C=1.0), *separable(3))


def test_separation_warning_names_the_separated_labels():
    """Defect 9 for OneVsRestLogistic: only the separated label is named."""
    X, _ = separable(2)
    rng = np.random.default_rng(1)
    Y = np.column_stack([X[:, 0] > 1.5, rng.random(X.shape[0]) < 0.5]).astype(int)
    (warning,) = _separation_warnings(OneVsRestLogistic(C=np.inf), X, Y)
    assert "label(s) [0]" in str(warning.message)


# -- defect 13: float32 in, float32 out -------------------------------------------

OUTPUTS = ["predict_proba", "predict_log_proba", "decision_function"]


@pytest.mark.parametrize("Estimator, target", ESTIMATOR_TARGETS)
@pytest.mark.parametrize("sparse", [False, True], ids=["dense", "csr"])
def test_float32_data_give_float32_results(Estimator, target, sparse):
    """Defect 13: as scikit-learn: float32 X gives float32 coef_, intercept_
    and outputs; the solver still works in float64, so the float32 model is
    the float64 one rounded."""
    X, y = classification(n_classes=2 if target == "binary" else 3)
    if target == "indicator":
        y = indicator(3)
    X32 = X.astype(np.float32)
    X32 = sp.csr_matrix(X32) if sparse else X32
    model = Estimator().fit(X32, y)
    assert model.coef_.dtype == np.float32
    assert model.intercept_.dtype == np.float32
    for method in OUTPUTS:
        assert getattr(model, method)(X32).dtype == np.float32, method
        # float64 data on a float32 model: float64, as numpy's promotion.
        assert getattr(model, method)(X32.astype(np.float64)).dtype == np.float64
    reference = Estimator().fit(X32.astype(np.float64), y)
    np.testing.assert_allclose(model.coef_, reference.coef_, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(
        model.predict_proba(X32), reference.predict_proba(X), atol=1e-5
    )


# -- defect 15: array API dispatch -----------------------------------------------

ARRAY_API_SCRIPT = """
import numpy as np
import sklearn
from sksoftmax import OneVsRestLogistic, SoftmaxRegression

{make_array}

X = np.random.default_rng(0).normal(size=(30, 3))
y = np.arange(30) % 3
try:
    with sklearn.config_context(array_api_dispatch=True):
        pass
except ImportError as error:
    # Older scikit-learn (1.6) refuses to turn dispatch on at all without
    # array_api_compat: then no array API input can reach the estimators.
    print("SKIP:", error)
    raise SystemExit(0)
for Estimator in (SoftmaxRegression, OneVsRestLogistic):
    with sklearn.config_context(array_api_dispatch=True):
        # numpy, lists and sparse input still work with dispatch on.
        model = Estimator().fit(X, y)
        model.predict_proba(X.tolist())
        for call in (
            lambda: Estimator().fit(as_array(X), as_array(y)),
            lambda: model.predict(as_array(X)),
        ):
            try:
                call()
            except TypeError as error:
                print("TypeError:", error)
            else:
                print("no error")
"""

FAKE_NAMESPACE = '''
import types

namespace = types.ModuleType("fake_array_api")


class FakeArray:
    """An array of a foreign library: it names its own namespace."""

    def __init__(self, values):
        self.values = np.asarray(values)
        self.shape, self.ndim, self.dtype = (
            self.values.shape, self.values.ndim, self.values.dtype
        )

    def __array_namespace__(self, api_version=None):
        return namespace


as_array = FakeArray
'''

STRICT_NAMESPACE = """
import array_api_strict

as_array = array_api_strict.asarray
"""


@pytest.mark.parametrize("namespace", ["fake", "array_api_strict"])
def test_array_api_inputs_raise_a_clear_error(namespace):
    """Defect 15: with array_api_dispatch=True, non-numpy arrays get a
    TypeError saying array API inputs are not supported and to pass numpy
    arrays, for fit and predict (scikit-learn's own error was cryptic).

    scipy reads SCIPY_ARRAY_API when first imported, which scikit-learn
    requires for dispatch, so this runs in a fresh interpreter.
    """
    if namespace == "array_api_strict":
        pytest.importorskip("array_api_strict")
    make_array = FAKE_NAMESPACE if namespace == "fake" else STRICT_NAMESPACE
    script = ARRAY_API_SCRIPT.format(make_array=textwrap.dedent(make_array))
    result = subprocess.run(
        [sys.executable, "-W", "error::RuntimeWarning", "-c", script],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env={**os.environ, "SCIPY_ARRAY_API": "1"},
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    if lines and lines[0].startswith("SKIP:"):
        pytest.skip(lines[0])
    assert len(lines) == 4, result.stdout
    for line in lines:
        assert line.startswith("TypeError:"), line
        assert "does not support array API inputs" in line
        assert "Pass numpy arrays" in line


# -- no process-wide state changed ----------------------------------------------


def _process_state():
    # The legacy global generator is the process-wide state to check.
    random_state = np.random.get_state()  # noqa: NPY002
    return {
        "blas": _blas_limits(),
        "errstate": np.geterr(),
        "warning filters": list(warnings.filters),
        "random state": (random_state[0], random_state[1].tolist(), *random_state[2:]),
        "sklearn config": sklearn.get_config(),
    }


def test_fits_leave_no_process_wide_state_changed():
    """No library code changes BLAS thread limits, numpy's error state, the
    warning filters, numpy's global random state or scikit-learn's config."""
    X, y = classification()
    Y = indicator(3)
    before = _process_state()
    for data in (X, sp.csr_matrix(X), X.astype(np.float32)):
        for Estimator, target in [
            (SoftmaxRegression, y),
            (SoftmaxRegression, y % 2),
            (OneVsRestLogistic, y),
            (OneVsRestLogistic, Y),
        ]:
            model = Estimator(max_iter=200).fit(data, target)
            model.predict_proba(data)
            model.predict(data)
            assert _process_state() == before, (Estimator.__name__, type(data))
