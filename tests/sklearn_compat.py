"""scikit-learn references across the supported versions (1.6 and later).

scikit-learn 1.8 gave ``l1_ratio`` its current meaning (the penalty is set
by ``l1_ratio`` alone) and ``LogisticRegressionCV`` its current attributes
(``use_legacy_attributes=False``). The tests compare with those; on older
versions the L1 reference needs ``penalty="elasticnet"``, and the
cross-validation comparisons are skipped.
"""

import pytest
import sklearn
from sklearn.linear_model import LogisticRegression
from sklearn.utils.fixes import parse_version

SKLEARN_1_8 = parse_version(sklearn.__version__) >= parse_version("1.8")

needs_current_logistic_regression_cv = pytest.mark.skipif(
    not SKLEARN_1_8,
    reason="LogisticRegressionCV's current attributes need scikit-learn >= 1.8",
)


def l1_logistic_regression(**params):
    """``LogisticRegression`` with an L1 part given by ``l1_ratio``, as
    scikit-learn 1.8 reads it, on any supported version."""
    if not SKLEARN_1_8:
        params["penalty"] = "elasticnet"
    return LogisticRegression(**params)
