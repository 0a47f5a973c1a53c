"""The HTML repr of each estimator links to its page of the API reference."""

import re
from pathlib import Path

import pytest
from sklearn.base import BaseEstimator, ClassifierMixin

from sksoftmax import OneVsRestLogistic, SoftmaxRegression
from sksoftmax._doc_link import DOC_LINK_TEMPLATE, DocLinkMixin

ESTIMATORS = [SoftmaxRegression, OneVsRestLogistic]
API_PAGE = Path(__file__).resolve().parents[1] / "docs" / "api.rst"
URL = re.compile(
    r"^https://sksoftmax\.readthedocs\.io/en/latest/generated/(?P<page>[\w.]+)\.html$"
)


def documented_objects(docs_helper):
    """Fully qualified names that docs/api.rst gives a generated page."""
    text = API_PAGE.read_text(encoding="utf-8")
    return {
        name
        for block in docs_helper.autosummary_blocks(text.splitlines())
        for _, name in block["entries"]
    }


class Probe(DocLinkMixin, ClassifierMixin, BaseEstimator):
    """An estimator class that claims to live in sksoftmax."""

    __module__ = "sksoftmax._probe"


class Outsider(DocLinkMixin, BaseEstimator):
    """The same mixin on a class of another package: no link."""

    __module__ = "otherpackage.models"


def test_mixin_builds_the_api_page_url():
    link = Probe()._get_doc_link()
    assert link == DOC_LINK_TEMPLATE.format(
        estimator_module="sksoftmax", estimator_name="Probe"
    )
    assert URL.match(link)["page"] == "sksoftmax.Probe"
    assert link in Probe()._repr_html_()


def test_mixin_links_only_sksoftmax_classes():
    assert Outsider()._get_doc_link() == ""


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=lambda e: e.__name__)
def test_html_repr_links_to_the_generated_api_page(estimator, docs_helper):
    link = estimator()._get_doc_link()
    match = URL.match(link)
    assert match is not None, link
    # The page exists: autosummary generates one per entry of docs/api.rst.
    assert match["page"] == f"sksoftmax.{estimator.__name__}"
    assert match["page"] in documented_objects(docs_helper)
    assert f'href="{link}"' in estimator()._repr_html_()
