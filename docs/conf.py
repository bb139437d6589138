"""Sphinx configuration for kwait's documentation (Markdown pages via MyST)."""

from __future__ import annotations

from typing import Any

import kwait

project = "kwait"
author = "kwait developers"
release = kwait.__version__
version = release
extensions = ["myst_parser", "sphinx.ext.autodoc", "sphinx.ext.napoleon"]
myst_enable_extensions = ["deflist"]
source_suffix = {".md": "markdown"}
exclude_patterns = ["_build"]
myst_heading_anchors = 3
autodoc_member_order = "bysource"
autodoc_typehints = "description"
# The builtin `object` in signatures (`Callable[[], object]`) also names the `object`
# property of RawEvent and Observation: an ambiguity, not a broken link.
suppress_warnings = ["ref.python"]

nitpicky = False
html_theme_options = {"page_width": "1200px", "sidebar_width": "240px"}


def _drop_borrowed_data_docs(  # noqa: PLR0917 - the signature Sphinx calls with
    app: object, what: str, name: str, obj: object, options: object, lines: list[str]
) -> None:
    """Drop the docstring a constant or type alias borrows from its type (``str``, a union).

    Such names are described by the reference page itself, in the directive's content.
    """
    del app, name, options
    if what == "data" and getattr(obj, "__doc__", None) == getattr(type(obj), "__doc__", None):
        lines.clear()


def setup(app: Any) -> None:
    """Register the docstring filter."""
    app.connect("autodoc-process-docstring", _drop_borrowed_data_docs)


def _resolvable_annotations() -> None:
    """Let autodoc evaluate the string annotations of classes published under `kwait`.

    `kwait.Observation` is defined in a private module and published as `kwait.Observation`;
    autodoc evaluates its annotations in the `kwait` namespace, which does not hold the
    `ObservationType` alias they name. Give the alias to the namespace for the build only.
    """
    import kwait  # noqa: PLC0415 - after sys.path is set up
    import kwait.typing  # noqa: PLC0415

    kwait.__dict__.setdefault("ObservationType", kwait.typing.ObservationType)


_resolvable_annotations()
