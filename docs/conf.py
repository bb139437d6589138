"""Sphinx configuration for kwait's documentation (Markdown pages via MyST)."""

from __future__ import annotations

import kwait

project = "kwait"
author = "kwait developers"
release = kwait.__version__
version = release
extensions = ["myst_parser", "sphinx.ext.autodoc", "sphinx.ext.napoleon"]
source_suffix = {".md": "markdown"}
exclude_patterns = ["_build"]
myst_heading_anchors = 3
autodoc_member_order = "bysource"
autodoc_typehints = "description"
nitpicky = False
