"""Fixtures and helpers shared by the test modules.

* The four data set generators, by the kind of labels they make, as
  parametrised fixtures (``generator``, ``exclusive_generator``,
  ``overlapping_generator``) and as the pairs the examples compare.
* ``docs_helper``: the documentation's local Sphinx extension
  (``docs/_ext/sksoftmax_docs.py``), imported without Sphinx.
"""

import importlib.util
from pathlib import Path

import pytest

from sksoftmax.datasets import (
    make_music_genres,
    make_music_tags,
    make_scene_attributes,
    make_scenes,
)

ROOT = Path(__file__).resolve().parents[1]

EXCLUSIVE = [make_music_genres, make_scenes]
OVERLAPPING = [make_music_tags, make_scene_attributes]
GENERATORS = [make_music_genres, make_music_tags, make_scenes, make_scene_attributes]


def _name(generator):
    return generator.__name__


@pytest.fixture(params=GENERATORS, ids=_name)
def generator(request):
    """Each of the four data set generators."""
    return request.param


@pytest.fixture(params=EXCLUSIVE, ids=_name)
def exclusive_generator(request):
    """The generators with one class per sample."""
    return request.param


@pytest.fixture(params=OVERLAPPING, ids=_name)
def overlapping_generator(request):
    """The generators whose labels overlap (a 0/1 indicator matrix)."""
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
