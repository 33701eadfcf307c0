"""The seam every front end plugs into: where a site's settings and pages come from, how the
core's log records reach the tool's own log, and the stylesheet and script tables need.

The core never imports a front end. The ``taghistory`` command finds a site's reader by the
front end's name (:data:`FRONT_ENDS`), as a fetch finds a vendor: reading a MkDocs site
imports nothing of Sphinx, and the reverse. A new front end is one module with a
:data:`SiteReader`, its entry here, and its own logging and assets through the helpers below.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from mkdocs_taghistory.errors import TagHistoryError, printable
from mkdocs_taghistory.records import Record
from mkdocs_taghistory.settings import Settings
from mkdocs_taghistory.site import SitePlan

ASSET_FOLDER = Path(__file__).resolve().parent / "assets" / "taghistory"
"""Where the stylesheet and the script are shipped."""
STYLESHEET = "taghistory.css"
SCRIPT = "taghistory.js"
ASSETS = (STYLESHEET, SCRIPT)
"""What a page with tables links: the tables' layout and the copy buttons' script."""


def inline_assets() -> str:
    """The stylesheet and the script as one block of HTML, for a page whose generator lets
    no extension add files to it (Zensical, plain Python-Markdown): each page with tables
    carries them itself. The script sets itself up once a window, however many pages an
    instant-loading theme shows in it."""
    css, script = ((ASSET_FOLDER / name).read_text(encoding="utf-8") for name in ASSETS)
    # In a <div>: a block of its own, which Python-Markdown never wraps in a paragraph.
    inline = f"<style>\n{css}</style>\n<script>\n{script}</script>"
    return f'<div class="taghistory-assets">\n{inline}\n</div>'


CORE_LOGGER = "mkdocs_taghistory"
"""The logger every core module logs under; a front end forwards it to its own."""


class SiteError(TagHistoryError):
    """A site that cannot be read: no such file, no use of this package, a broken setting,
    a directive that cannot be read."""


class LoadedSite(Record):
    """What the commands need of a site.

    Attributes:
        settings: its options, checked.
        plan: every directive of its pages (empty when the pages were not read).
        source: the file it was read from, for messages.
    """

    settings: Settings
    plan: SitePlan
    source: Path


SiteReader = Callable[[Path, bool], LoadedSite]
"""Reads the site at a path (``mkdocs.yml``; ``conf.py`` or its folder), its pages too when
asked; raises SiteError."""

FRONT_ENDS: Mapping[str, str] = {
    "mkdocs": "mkdocs_taghistory.mkdocs_site:read_site",
    "sphinx": "mkdocs_taghistory.sphinx.project:read_site",
}
"""Each front end's site reader, ``module:function``, imported only when asked for."""

_NEEDS = {
    "sphinx": "a Sphinx project needs Sphinx: pip install 'mkdocs-taghistory[sphinx]'",
    "mkdocs": "reading mkdocs.yml needs MkDocs or ProperDocs: pip install mkdocs (or properdocs)",
}


def site_reader(front_end: str) -> SiteReader:
    """The site reader of ``front_end``.

    Raises:
        SiteError: when what the front end needs is not installed.
    """
    module, _, function = FRONT_ENDS[front_end].partition(":")
    try:
        reader: SiteReader = getattr(importlib.import_module(module), function)
    except ImportError as error:
        raise SiteError(_NEEDS.get(front_end, f"{front_end}: {error}")) from None
    return reader


class _Forward(logging.Handler):
    """Hands each record of the core to a front end's own logging, its message escaped for a
    terminal: records carry what registries and cache files said (:func:`.errors.printable`)."""

    def __init__(self, emit: Callable[[logging.LogRecord], None]) -> None:
        super().__init__()
        self._emit = emit

    def emit(self, record: logging.LogRecord) -> None:
        safe = logging.makeLogRecord(record.__dict__)
        safe.msg, safe.args = printable(record.getMessage()), None
        self._emit(safe)


def forward_core_logs(emit: Callable[[logging.LogRecord], None]) -> logging.Handler:
    """Send the core's records to ``emit`` (and only there), detail included: the tool's own
    verbosity decides what is shown, and what it counts (``--strict``, ``-W``) counts them.
    A handler forwarding there already is kept: a front end set up twice forwards once."""
    core = logging.getLogger(CORE_LOGGER)
    core.propagate = False
    core.setLevel(logging.DEBUG)
    for handler in core.handlers:
        if isinstance(handler, _Forward) and handler._emit == emit:
            return handler
    handler = _Forward(emit)
    core.addHandler(handler)
    return handler


@contextmanager
def core_logs_to(emit: Callable[[logging.LogRecord], None]) -> Iterator[None]:
    """Forward the core's records to ``emit`` while the block runs (a command reporting for
    itself); a block inside another that forwards there already leaves it forwarding."""
    already = any(
        isinstance(handler, _Forward) and handler._emit == emit
        for handler in logging.getLogger(CORE_LOGGER).handlers
    )
    handler = forward_core_logs(emit)
    try:
        yield
    finally:
        if not already:
            stop_forwarding(handler)


def stop_forwarding(handler: logging.Handler) -> None:
    """Give the core's records back to Python's logging (a command that loaded a project
    reports for itself)."""
    core = logging.getLogger(CORE_LOGGER)
    core.removeHandler(handler)
    if not any(isinstance(other, _Forward) for other in core.handlers):
        core.propagate = True
        core.setLevel(logging.NOTSET)
