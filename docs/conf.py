"""Sphinx configuration of the flask_kapu documentation (``make docs``)."""

from __future__ import annotations

import sys
from importlib.metadata import version
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))  # kapu_docs: the pages generated from the code

project = "flask_kapu"
author = "flask_kapu developers"
copyright = "flask_kapu developers"
release = version("flask-kapu")
version = ".".join(release.split(".")[:2])

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "kapu_docs",
]

source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
root_doc = "index"
# _generated/ holds files the pages include; examples/ holds code the pages include.
exclude_patterns = ["_build", "_generated", "examples", "Thumbs.db", ".DS_Store"]

myst_enable_extensions = ["deflist"]
myst_heading_anchors = 3

autodoc_member_order = "bysource"
autodoc_typehints = "signature"
autodoc_preserve_defaults = True

html_theme = "furo"
html_title = f"flask_kapu {release}"
html_static_path: list[str] = []
