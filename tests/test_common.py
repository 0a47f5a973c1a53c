"""scikit-learn's estimator checks, with no expected failures."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from sksoftmax import OneVsRestLogistic, SoftmaxRegression


@parametrize_with_checks([SoftmaxRegression(), OneVsRestLogistic()])
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
