"""scikit-learn's estimator checks, with no expected failures."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from sksoftmax import OneVsRestLogistic, SoftmaxRegression


@parametrize_with_checks(
    [
        SoftmaxRegression(),
        OneVsRestLogistic(),
        SoftmaxRegression(l1_ratio=0.5),
        SoftmaxRegression(l1_ratio=0.5, l1_groups="features"),
        OneVsRestLogistic(l1_ratio=0.5),
    ]
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
