"""Sphinx configuration of dualdiff's documentation.

Build: ``python -m sphinx -W --keep-going -b html docs docs/_build/html`` (``pip install -e
".[docs]"`` first). The build needs no network: no intersphinx, no remote images, and the
examples gallery runs the scripts of ``examples/`` locally.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))

import dualdiff  # noqa: E402

project = "dualdiff"
author = "the dualdiff developers"
copyright = "the dualdiff developers"  # noqa: A001 - Sphinx's name for it
version = release = dualdiff.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",  # MathJax served from the site itself: maths renders offline too
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
    "ruletable",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "**.ipynb_checkpoints", "auto_examples/*.ipynb"]
root_doc = "index"
default_role = "literal"  # `x` in a docstring is code, as in NumPy's docstrings
pygments_style = "sphinx"

# --- API reference -------------------------------------------------------------------------------
autosummary_generate = True  # one page per public name, under api/generated (not committed)
autodoc_default_options = {"members": False}
autodoc_typehints = "none"  # the numpydoc Parameters sections say the types in words
numpydoc_show_class_members = False  # members are listed explicitly where they matter
numpydoc_xref_param_type = False
numpydoc_validation_checks: set[str] = set()

# --- Markdown (docs/performance.md) ---------------------------------------------------------------
myst_enable_extensions = ["dollarmath"]
myst_heading_anchors = 3

# --- Examples gallery -----------------------------------------------------------------------------
# Every ``examples/*.py`` is a gallery page and runs during the build (filename_pattern matches all
# of them), so a new example is picked up without touching this file. Each needs a docstring that
# starts with a title underlined by ``=`` (tests/test_examples_gallery.py checks that).
sphinx_gallery_conf = {
    "examples_dirs": str(HERE.parent / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"\.py$",
    "ignore_pattern": r"__init__\.py",
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "plot_gallery": "True",
    "remove_config_comments": True,
    "show_memory": False,
    "reset_argv": "ruletable.gallery_argv",
    "image_scrapers": ("matplotlib",),
    "matplotlib_animations": False,
    "abort_on_example_error": True,
    "capture_repr": ("_repr_html_",),
    "write_computation_times": False,
    "backreferences_dir": None,
}
os.environ.setdefault("MPLBACKEND", "Agg")

# --- HTML ----------------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"dualdiff {release}"
html_static_path = ["_static"]
html_css_files = ["dualdiff.css"]
html_show_sourcelink = False
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "use_edit_page_button": False,
    "icon_links": [],
    "footer_start": ["copyright"],
    "footer_end": [],
    # the wide rule table gets the page's whole width
    "secondary_sidebar_items": {"**": ["page-toc"], "api/elementwise": []},
}
html_sidebars = {"index": [], "auto_examples/index": []}
templates_path = ["_templates"]
