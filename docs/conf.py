"""Sphinx configuration of the sksoftmax documentation.

Build it from the repository root with::

    pip install -e ".[docs]"
    sphinx-build -W --keep-going -b html docs docs/_build/html

Generated at build time (all git-ignored): ``generated/`` (API stubs from
autosummary, the benchmark and comparison includes written by the local
extension ``_ext/sksoftmax_docs.py``), ``auto_examples/`` (the gallery) and
``sg_execution_times.rst``.
"""

import os
import sys
from pathlib import Path

import sksoftmax

# The local extension lives next to this file.
sys.path.insert(0, str(Path(__file__).resolve().parent / "_ext"))

# -- Project -------------------------------------------------------------------

project = "sksoftmax"
author = "The sksoftmax developers"
copyright = f"2026, {author}"
release = sksoftmax.__version__
version = ".".join(release.split(".")[:2])

# -- General -------------------------------------------------------------------

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",  # formulas in the user guide and in docstrings
    "sphinx.ext.viewcode",
    "numpydoc",  # the numpy docstring format
    "sphinx_gallery.gen_gallery",  # renders examples/ as auto_examples/
    "sksoftmax_docs",  # API page robustness, benchmark and comparison tables
]

# _templates/autosummary/{class,function}.rst replace autosummary's default
# stub templates: full method documentation plus "Examples using ...".
templates_path = ["_templates"]
exclude_patterns = [
    "_build",
    "_ext",
    "_templates",
    # Filtered copy of api.rst, only used when some objects do not import.
    "_api_available.rst",
    "Thumbs.db",
    ".DS_Store",
]
root_doc = "index"
default_role = "literal"  # `x` renders as code rather than as a warning
pygments_style = "sphinx"

# -- Autodoc, autosummary, numpydoc -------------------------------------------

# The file autosummary scans for stubs is set by sksoftmax_docs (api.rst, or a
# copy without the entries that do not import yet).
autosummary_generate = ["api.rst"]
autodoc_typehints = "none"  # the numpydoc sections already give the types
# Class pages list their methods through autodoc (see _templates), so
# numpydoc must not add a second table of members.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True

# -- Gallery -------------------------------------------------------------------

sphinx_gallery_conf = {
    "examples_dirs": "../examples",
    "gallery_dirs": "auto_examples",
    # Run every script, not only the plot_*.py ones.
    "filename_pattern": r"\.py$",
    "within_subsection_order": "FileNameSortKey",
    # Where each example saves its own PNG (sphinx-gallery shows the figure
    # through its matplotlib scraper). A dotted name, so the config pickles.
    "reset_argv": "sksoftmax_docs.gallery_argv",
    # "Examples using X" on the API pages, and links from the examples' code
    # to the API pages.
    "doc_module": ("sksoftmax",),
    "backreferences_dir": "generated/backreferences",
    "remove_config_comments": True,
    "show_memory": False,
}

# -- Cross-references to other projects (opt-in: needs the network) ----------

if os.environ.get("SKSOFTMAX_DOCS_INTERSPHINX"):
    extensions.append("sphinx.ext.intersphinx")
    intersphinx_mapping = {
        "python": ("https://docs.python.org/3", None),
        "numpy": ("https://numpy.org/doc/stable", None),
        "scipy": ("https://docs.scipy.org/doc/scipy", None),
        "sklearn": ("https://scikit-learn.org/stable", None),
    }

# -- HTML ----------------------------------------------------------------------

html_theme = "pydata_sphinx_theme"
html_title = f"sksoftmax {release}"
html_static_path = ["_static"]
html_css_files = ["custom.css"]
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc", "sourcelink"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_sidebars = {"index": []}
html_show_sourcelink = True
