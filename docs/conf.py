"""Sphinx configuration of the elephant-fit documentation.

Build: ``pip install -e ".[docs]"`` then ``sphinx-build -W -b html docs docs/_build/html``.
The galleries (``examples/`` and ``docs/tutorials/``) run every script in its small mode
(``--quick``); set ``ELEPHANT_FIT_DOCS_FULL=1`` to run them at full size.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))

from gallery_argv import full_build  # noqa: E402

import elephant_fit  # noqa: E402

project = "elephant-fit"
author = "elephant-fit developers"
copyright = "2026, elephant-fit developers"
release = elephant_fit.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
    "sphinxarg.ext",
    "myst_parser",
    "short_refs",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "**/README.rst", "tutorials/*.py", "Thumbs.db", ".DS_Store"]
templates_path = ["_templates"]
root_doc = "index"

# --- API reference ------------------------------------------------------------------------------
autosummary_generate = True
autosummary_imported_members = True
autodoc_default_options = {"members": True, "show-inheritance": True}
autodoc_typehints = "none"  # the numpydoc sections state types, shapes and units
autodoc_member_order = "bysource"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_validation_checks: set[str] = set()

# Every cross-reference must resolve: a broken one fails the build (with -W).
nitpicky = True
nitpick_ignore_regex = [
    # Private helpers named in docstrings of public functions: not part of the reference.
    (r"py:.*", r"(.*\.)?_[a-z].*"),
]

# Inventories of the packages we link to. They are shipped in docs/_inventories (made by
# docs/_inventories/make_inventories.py from the installed packages) so that the build needs no
# network: CI machines reach only package registries.
INVENTORIES = HERE / "_inventories"
intersphinx_mapping = {
    "python": ("https://docs.python.org/3", str(INVENTORIES / "python.inv")),
    "numpy": ("https://numpy.org/doc/stable", str(INVENTORIES / "numpy.inv")),
    "torch": ("https://docs.pytorch.org/docs/stable", str(INVENTORIES / "torch.inv")),
    "neo": ("https://neo.readthedocs.io/en/stable", str(INVENTORIES / "neo.inv")),
    "elephant": ("https://elephant.readthedocs.io/en/stable", str(INVENTORIES / "elephant.inv")),
    "quantities": (
        "https://python-quantities.readthedocs.io/en/latest",
        str(INVENTORIES / "quantities.inv"),
    ),
}

# --- Galleries ------------------------------------------------------------------------------------
#: Full-size galleries (``ELEPHANT_FIT_DOCS_FULL=1``) rerun every script, even one whose output of
#: an earlier (small) build is still on disk.
FULL = full_build()

sphinx_gallery_conf = {
    "examples_dirs": ["../examples", "tutorials"],
    "gallery_dirs": ["auto_examples", "auto_tutorials"],
    "filename_pattern": r".*\.py",
    "reset_argv": "gallery_argv.reset_argv",
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "remove_config_comments": True,
    "abort_on_example_error": True,
    "run_stale_examples": FULL,
    "matplotlib_animations": False,
    "reference_url": {"elephant_fit": None},
    "backreferences_dir": None,
    "show_memory": False,
    "min_reported_time": 1,
}

# --- HTML -----------------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"elephant-fit {release}"
html_static_path: list[str] = []
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "header_links_before_dropdown": 7,
    "icon_links": [],
}
html_show_sourcelink = False

myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3
