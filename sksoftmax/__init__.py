"""sksoftmax: softmax regression and one-vs-rest logistic regression.

Mutually exclusive labels -> :class:`SoftmaxRegression`;
overlapping labels -> :class:`OneVsRestLogistic` (one binary classifier per
label). Both minimise scikit-learn's objective with a numerically stable
loss, and :mod:`sksoftmax.special` has the stable building blocks.
"""

from . import datasets
from ._base import PerfectSeparationWarning
from ._cv import OneVsRestLogisticCV, SoftmaxRegressionCV
from ._inspect import LabelReport, inspect_labels, to_exclusive
from ._ovr import OneVsRestLogistic
from ._softmax import SoftmaxRegression

__version__ = "0.1.0"

__all__ = [
    "LabelReport",
    "OneVsRestLogistic",
    "OneVsRestLogisticCV",
    "PerfectSeparationWarning",
    "SoftmaxRegression",
    "SoftmaxRegressionCV",
    "__version__",
    "datasets",
    "inspect_labels",
    "to_exclusive",
]
