"""Fixtures and helpers shared by the test modules.

* ``generator``: each of the four data set generators, in turn.
* ``docs_helper``: the documentation's local Sphinx extension
  (``docs/_ext/sksoftmax_docs.py``), imported without Sphinx.
* ``overlapping_classes``: 600 x 4 with 3 overlapping classes (20% of the
  labels flipped), where an unpenalised model has a finite optimum.
* ``force_newton_cg``: small problems take the solver's truncated Newton
  phase after 3 L-BFGS iterations.
* ``lbfgs_route``: each way the solver runs L-BFGS over a separable
  objective's outputs, one run for all or one run per output, whatever the
  size; ``per_row_runs`` and ``joint_runs`` force one of them.
"""

import importlib.util
from pathlib import Path

import numpy as np
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


def _set_lbfgs_route(monkeypatch, route):
    """Run L-BFGS ``"joint"`` (one run for all outputs) or ``"per-row"``
    (one per output, in lockstep) whatever the size (``PER_ROW_MIN_COST``);
    per-row runs are skipped where scipy's L-BFGS-B cannot be driven
    directly."""
    import sksoftmax._lbfgsb as lbfgsb
    import sksoftmax._solver as solver

    if route == "per-row" and not lbfgsb.rows_supported():
        pytest.skip("per-row runs need the direct L-BFGS-B loop")
    monkeypatch.setattr(solver, "PER_ROW_MIN_COST", 0 if route == "per-row" else np.inf)


@pytest.fixture(params=["joint", "per-row"])
def lbfgs_route(request, monkeypatch):
    """Each L-BFGS route over a separable objective's outputs, in turn."""
    _set_lbfgs_route(monkeypatch, request.param)
    return request.param


@pytest.fixture
def per_row_runs(monkeypatch):
    """One L-BFGS-B run per output, in lockstep, whatever the size."""
    _set_lbfgs_route(monkeypatch, "per-row")


@pytest.fixture
def joint_runs(monkeypatch):
    """One L-BFGS-B run for all outputs, whatever the size."""
    _set_lbfgs_route(monkeypatch, "joint")
