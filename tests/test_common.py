"""scikit-learn's estimator checks, with no expected failures."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from sksoftmax import (
    OneVsRestLogistic,
    OneVsRestLogisticCV,
    SoftmaxRegression,
    SoftmaxRegressionCV,
)

# The cross-validated estimators with small grids, for speed. The one-vs-rest
# grid stops at C=1: check_classifier_multioutput compares the ranks of
# predict_proba and decision_function on separable data, where a large C
# gives scores above 37, whose probabilities all round to exactly 1.0 and tie.
ESTIMATORS = [
    SoftmaxRegression(),
    OneVsRestLogistic(),
    SoftmaxRegression(l1_ratio=0.5),
    SoftmaxRegression(l1_ratio=0.5, l1_groups="features"),
    OneVsRestLogistic(l1_ratio=0.5),
    SoftmaxRegressionCV(Cs=3, cv=3),
    OneVsRestLogisticCV(Cs=[0.01, 0.1, 1.0], cv=3),
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
