"""Live container-image tag history tables for MkDocs and Python-Markdown."""

from __future__ import annotations

from mkdocs_taghistory.errors import (
    DirectiveError,
    InvalidReferenceError,
    RegistryError,
    TagHistoryError,
)
from mkdocs_taghistory.extension import TagHistoryExtension
from mkdocs_taghistory.reference import ImageReference, parse_reference

__all__ = [
    "DirectiveError",
    "ImageReference",
    "InvalidReferenceError",
    "RegistryError",
    "TagHistoryError",
    "TagHistoryExtension",
    "parse_reference",
]
