"""Fixtures and helpers shared by the test modules.

* ``generator``: each of the four data set generators, in turn.
* ``docs_helper``: the documentation's local Sphinx extension
  (``docs/_ext/sksoftmax_docs.py``), imported without Sphinx.
* ``overlapping_classes``: 600 x 4 with 3 overlapping classes (20% of the
  labels flipped), where an unpenalised model has a finite optimum.
* ``force_newton_cg``: small problems take the solver's truncated Newton
  phase after 3 L-BFGS iterations.
"""

import importlib.util
from pathlib import Path

import pytest
from sklearn.datasets import make_classification

from sksoftmax.datasets import (
    make_music_genres,
    make_music_tags,
    make_scene_attributes,
    make_scenes,
)

ROOT = Path(__file__).resolve().parents[1]

GENERATORS = [make_music_genres, make_music_tags, make_scenes, make_scene_attributes]


def _name(generator):
    return generator.__name__


@pytest.fixture(params=GENERATORS, ids=_name)
def generator(request):
    """Each of the four data set generators."""
    return request.param


@pytest.fixture(scope="session")
def docs_helper():
    """``docs/_ext/sksoftmax_docs.py`` as a module."""
    spec = importlib.util.spec_from_file_location(
        "sksoftmax_docs", ROOT / "docs" / "_ext" / "sksoftmax_docs.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def overlapping_classes():
    """``(X, y)``: 3 overlapping classes, finite unpenalised optimum."""
    return make_classification(
        n_samples=600,
        n_features=4,
        n_informative=3,
        n_redundant=0,
        n_classes=3,
        n_clusters_per_class=1,
        flip_y=0.2,
        random_state=1,
    )


@pytest.fixture
def force_newton_cg(monkeypatch):
    """Make small problems take the truncated Newton phase after 3 L-BFGS
    iterations (it normally needs NEWTON_CG_MIN_COEFS coefficients, and
    small problems get the dense Newton refinement instead); returns the
    solver module."""
    import sksoftmax._solver as solver

    monkeypatch.setattr(solver, "NEWTON_CG_MIN_COEFS", 1)
    monkeypatch.setattr(solver, "REFINE_MAX_PARAMS", 0)
    monkeypatch.setattr(solver, "NEWTON_CG_SWITCH", 3)
    return solver
