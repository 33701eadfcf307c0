"""Live container-image tag history tables for MkDocs, Python-Markdown and Sphinx.

The public names are below; each is imported when first asked for, so that importing one
module of the package (the Sphinx extension, the command) loads only what it uses.

Where things are, from a page's text to its table:

- ``directive.py`` finds ``<< tag_history ... >>`` in Markdown (``markdown_prose.py`` says
  which lines are prose, ``near_misses.py`` what was meant as a directive but is none) and
  ``directive_options.py`` checks its options; ``reference.py`` reads image names;
  ``site.py`` plans a site's directives (their images, targets and the tags they show, every
  problem at once) and fetches them in one call;
- ``service.py`` answers from the registry or the cache by one freshness rule (``results.py``
  holds its answers); ``registry/`` speaks HTTP (``client.py`` runs a fetch);
  ``cache.py`` keeps fetches on disk;
- ``history.py`` is the model (a snapshot, rows by digest), ``facts.py`` what is known of
  each digest and how the cache keeps it, ``filters.py`` which tags a table shows;
- ``tables.py`` picks a table's rows, ``view.py`` says what its cells show (``cells.py`` the
  typed pieces), ``render.py`` writes it (HTML, Markdown, JSON); ``dates.py`` writes dates,
  ``locales.py`` in the site's language;
- ``feeds.py`` publishes each image's history as JSON and Atom (``moves.py`` works out each
  tag's moves from the ledger);
- ``site_options.py`` declares every site option (``option_readers.py`` reads them into
  ``settings.py``'s values, how registries are reached among them);
- ``errors.py`` holds every error, and the one escaping of outside text for a terminal;
  ``records.py`` the base of every record;
- the front ends: ``plugin.py`` and ``mkdocs_schema.py`` (MkDocs), ``extension.py``
  (Python-Markdown), ``sphinx/`` (Sphinx), each behind ``frontend.py``'s seam
  (``mkdocs_site.py`` reads a MkDocs site for the command); ``cli.py`` is the ``taghistory``
  command (``reports.py`` what it says of a refresh and of a cache; ``cli_history.py`` its
  ``show --digest``, worked out by ``digest_lookup.py``, and its ``import``, by
  ``importer.py`` from pages ``tag_pages.py`` reads).

Every build imports the modules on a page's way to its table, so what they do at import every
build pays (``bench/warm_page.py`` measures it). Two rules keep that small: records are
``records.Record`` (a ``typing.NamedTuple`` to type checkers, two fifths of its cost to
define), and a pattern most builds never use is kept as its source, for ``re`` to compile at
first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mkdocs_taghistory.errors import (
        DirectiveError,
        InvalidReferenceError,
        RegistryError,
        TagHistoryError,
    )
    from mkdocs_taghistory.extension import TagHistoryExtension
    from mkdocs_taghistory.reference import ImageReference, parse_reference

__version__ = "0.1.0"
"""This release. The one place it is written: the package's metadata (``pyproject.toml`` reads
it), ``taghistory --version`` and the User-Agent sent to registries take it from here."""

_PUBLIC = {
    "DirectiveError": "mkdocs_taghistory.errors",
    "ImageReference": "mkdocs_taghistory.reference",
    "InvalidReferenceError": "mkdocs_taghistory.errors",
    "RegistryError": "mkdocs_taghistory.errors",
    "TagHistoryError": "mkdocs_taghistory.errors",
    "TagHistoryExtension": "mkdocs_taghistory.extension",
    "parse_reference": "mkdocs_taghistory.reference",
}

__all__ = [
    "DirectiveError",
    "ImageReference",
    "InvalidReferenceError",
    "RegistryError",
    "TagHistoryError",
    "TagHistoryExtension",
    "parse_reference",
]


def __getattr__(name: str) -> Any:
    """A public name, imported from its module when first asked for."""
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'mkdocs_taghistory' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
