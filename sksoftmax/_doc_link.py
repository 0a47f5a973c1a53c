"""The estimators' link to their API page, shown in their HTML repr.

scikit-learn's HTML repr of an estimator (the diagram shown in notebooks) has
a "?" icon linking to the estimator's documentation. It builds the URL from
``_doc_link_template``, formatted with ``estimator_module`` (the class's
module up to its first private part: ``sksoftmax``) and ``estimator_name``,
and only for classes whose top-level module is ``_doc_link_module``.
"""

__all__ = ["DocLinkMixin"]

#: The API pages that autosummary generates from docs/api.rst.
DOC_LINK_TEMPLATE = (
    "https://sksoftmax.readthedocs.io/en/latest/generated/"
    "{estimator_module}.{estimator_name}.html"
)


class DocLinkMixin:
    """Point the HTML repr's documentation link at the sksoftmax API pages.

    Put it before :class:`sklearn.base.BaseEstimator` in the bases: its class
    attributes then replace scikit-learn's defaults, which link to
    scikit-learn's own site and only for scikit-learn's classes.
    """

    _doc_link_module = "sksoftmax"
    _doc_link_template = DOC_LINK_TEMPLATE
