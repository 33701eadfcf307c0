"""The history as data: for every image a site shows, a JSON document and an Atom feed
published beside its pages (``taghistory/HOST/REPOSITORY.json`` and ``.atom``), and the links
that let browsers and feed readers find them.

The JSON holds what the tables hold, every column of them, and the moves of
:mod:`.moves`; the feed has an entry per move, newest first, each with an id made from what
the move is (image, tag, digest, which time on it), so a reader never shows one twice. The
same cache always gives the same bytes. Front ends say where the site is and which page shows
an image; they write nothing themselves.
"""

from __future__ import annotations

import json
import logging
import posixpath
import re
import string
import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from html import escape
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from mkdocs_taghistory.dates import format_date
from mkdocs_taghistory.directive_options import TableOptions
from mkdocs_taghistory.errors import PatternTooSlowError
from mkdocs_taghistory.files import write_atomically
from mkdocs_taghistory.moves import Move, tag_moves
from mkdocs_taghistory.records import Record
from mkdocs_taghistory.reference import ImageReference
from mkdocs_taghistory.render import json_rows
from mkdocs_taghistory.results import ImageResult
from mkdocs_taghistory.settings import Settings
from mkdocs_taghistory.site import Target
from mkdocs_taghistory.tables import table_for
from mkdocs_taghistory.timestamps import format_timestamp
from mkdocs_taghistory.view import COLUMNS, SHORT_DIGEST_HEX

logger = logging.getLogger(__name__)

FEED_SCHEMA_VERSION = 1
"""The version of the JSON document's layout (README, "The history as data"): a field
added keeps it; one renamed, removed or given another meaning raises it."""
FEED_FOLDER = "taghistory"
"""Where the documents go, under the site's output."""
MAX_FEED_ENTRIES = 100
"""Entries an Atom feed keeps, the newest: readers poll, and the JSON holds every move."""
ATOM_TYPE = "application/atom+xml"
_ID_NAMESPACE = uuid.UUID("5b0c1f0e-6a53-4c53-9f3e-2a8d3f0b7c41")
# A host with a port or an IPv6 address: ':' and brackets are no part of a file name
# everywhere, and '_' never stands in a registry host, so the result is one host's alone.
_SAFE_IN_HOST = frozenset(string.ascii_letters + string.digits + ".-")
# Its source, compiled at first use (the package docstring says why).
_NOT_XML = r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]"


class FeedPaths(Record):
    """Where an image's documents go, relative to the site's root (POSIX, as URLs are)."""

    json: str
    atom: str


class Published(Record):
    """An image a site shows, as its documents need it.

    Attributes:
        reference: the image.
        result: what the build showed of it; only a result with a snapshot is published.
        page: the site-relative URL of the first page that shows it (``rust/``,
            ``rust.html``), which the feed links; None when unknown.
    """

    reference: ImageReference
    result: ImageResult
    page: str | None = None


class SiteInfo(Record):
    """What the feeds say of the site: its name (the feeds' author) and, when the
    configuration gives it, its address (links are absolute then, relative otherwise)."""

    name: str
    url: str | None = None


def feed_paths(reference: ImageReference) -> FeedPaths:
    """The site-relative paths of ``reference``'s JSON document and Atom feed."""
    host = "".join(char if char in _SAFE_IN_HOST else "_" for char in reference.host)
    stem = f"{FEED_FOLDER}/{host}/{reference.repository}"
    return FeedPaths(f"{stem}.json", f"{stem}.atom")


def publishes(settings: Settings, result: ImageResult) -> bool:
    """True when a build of ``settings`` publishes documents for an image with ``result``:
    every front end links a table's feed on this condition alone."""
    return settings.enabled and settings.feeds and result.snapshot is not None


def _href(site: SiteInfo, target: str, from_file: str) -> str:
    """A link from the site file ``from_file`` to the site path ``target``."""
    if site.url:
        return urljoin(site.url if site.url.endswith("/") else site.url + "/", target)
    relative = posixpath.relpath(target or ".", posixpath.dirname(from_file) or ".")
    return relative + "/" if (not target or target.endswith("/")) and relative != "." else relative


def _moves(settings: Settings, result: ImageResult) -> list[Move]:
    assert result.snapshot is not None
    return tag_moves(result.snapshot, settings.tag_filter)


def _xml_text(text: str) -> str:
    """``text`` escaped for XML, without the control characters XML 1.0 cannot hold (a
    site's name may have any)."""
    # Printable text holds none of them (they are controls or noncharacters): most names.
    return escape(text if text.isprintable() else re.sub(_NOT_XML, "", text))


def image_document(
    settings: Settings, image: Published, site: SiteInfo, moves: Sequence[Move] | None = None
) -> dict[str, Any]:
    """The JSON document of one image: its table with every column, and its moves.

    Raises:
        PatternTooSlowError: when a pattern of the site's filters runs too long.
    """
    snapshot = image.result.snapshot
    assert snapshot is not None
    # Every column; JSON writes whole values, short digests or not.
    view = table_for(
        settings,
        TableOptions(columns=tuple(COLUMNS)),
        Target(image.reference),
        image.result,
    )
    paths = feed_paths(image.reference)
    return {
        "schema": FEED_SCHEMA_VERSION,
        "image": image.reference.name,
        "fetched_at": format_timestamp(snapshot.fetched_at),
        "from_cache": image.result.as_of is not None,
        "source": snapshot.source,
        "page": _href(site, image.page, paths.json) if image.page is not None else None,
        "feed": _href(site, paths.atom, paths.json),
        "columns": list(view.columns),
        "rows": json_rows(view),
        "moves": [
            {
                "tag": move.tag,
                "digest": move.digest,
                "at": format_timestamp(move.at) if move.at else None,
                "until": format_timestamp(move.until) if move.until else None,
                "current": move.current,
            }
            for move in (_moves(settings, image.result) if moves is None else moves)
        ],
    }


def _entry_id(image: str, move: Move) -> str:
    return "urn:uuid:" + str(
        uuid.uuid5(_ID_NAMESPACE, f"{image} {move.tag} {move.digest} {move.occurrence}")
    )


def _short(digest: str) -> str:
    return digest[: len("sha256:") + SHORT_DIGEST_HEX] + "\u2026"


def _entry(settings: Settings, image: Published, move: Move, when: datetime, link: str) -> str:
    snapshot = image.result.snapshot
    assert snapshot is not None
    day = format_date(when.astimezone(settings.zone), "%B %O, %Y")
    name = image.reference.name
    title = f"{move.tag} \u2192 {_short(move.digest)} on {day}"
    platforms = snapshot.digests[move.digest].platforms if move.digest in snapshot.digests else ()
    alternate = f'    <link rel="alternate" type="text/html" href="{escape(link)}"/>'
    updated = format_timestamp(when)
    lines = [
        f"{name}:{move.tag} \u2192 {move.digest}",
        f"Pull: {name}@{move.digest}",
        *([f"Platforms: {', '.join(platforms)}"] if platforms else []),
        f"Seen there from: {updated}",
    ]
    return "\n".join(
        [
            "  <entry>",
            f"    <id>{_entry_id(name, move)}</id>",
            f"    <title>{escape(title)}</title>",
            f"    <updated>{updated}</updated>",
            *([alternate] if link else []),
            f'    <content type="text">{escape(chr(10).join(lines))}</content>',
            "  </entry>",
        ]
    )


def atom_feed(
    settings: Settings, image: Published, site: SiteInfo, moves: Sequence[Move] | None = None
) -> str:
    """The Atom feed of one image: an entry per move, newest first, at most
    :data:`MAX_FEED_ENTRIES`; a move of unknown time is dated by the fetch that saw it.

    Raises:
        PatternTooSlowError: when a pattern of the site's filters runs too long.
    """
    snapshot = image.result.snapshot
    assert snapshot is not None
    paths = feed_paths(image.reference)
    page = _href(site, image.page, paths.atom) if image.page is not None else ""
    if moves is None:
        moves = _moves(settings, image.result)
    dated = [(move.at or snapshot.fetched_at, move) for move in moves]
    dated.sort(key=lambda pair: pair[0], reverse=True)  # stable: the moves' own order in ties
    dated = dated[:MAX_FEED_ENTRIES]
    updated = dated[0][0] if dated else snapshot.fetched_at
    name = image.reference.name
    self_link = _href(site, paths.atom, paths.atom)
    head = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<feed xmlns="http://www.w3.org/2005/Atom">',
        f"  <id>urn:uuid:{uuid.uuid5(_ID_NAMESPACE, name)}</id>",
        f"  <title>{escape(f'Tag history of {name}')}</title>",
        f"  <updated>{format_timestamp(updated)}</updated>",
        f"  <author><name>{_xml_text(site.name or 'mkdocs-taghistory')}</name></author>",
        "  <generator>mkdocs-taghistory</generator>",
        f'  <link rel="self" type="{ATOM_TYPE}" href="{escape(self_link)}"/>',
        *([f'  <link rel="alternate" type="text/html" href="{escape(page)}"/>'] if page else []),
    ]
    entries = [_entry(settings, image, move, when, page) for when, move in dated]
    return "\n".join([*head, *entries, "</feed>"]) + "\n"


def publish(
    output: Path, settings: Settings, images: Iterable[Published], site: SiteInfo
) -> list[Path]:
    """Write the documents of every image that has a snapshot under ``output`` (the site's
    folder), each file atomically; return what was written. An image whose filters run too
    long is left out, with a warning (its tables report the pattern)."""
    written = []
    for image in images:
        if not publishes(settings, image.result):
            continue
        paths = feed_paths(image.reference)
        try:
            # The moves once for both documents: working them out is most of their cost.
            moves = _moves(settings, image.result)
            document = image_document(settings, image, site, moves)
            feed = atom_feed(settings, image, site, moves)
        except PatternTooSlowError as error:
            logger.warning("No feed of %s: %s", image.reference.name, error)
            continue
        # Compact: json's C encoder writes it (indenting falls back to the Python one, several
        # times slower on every build), and tools, the readers of it, need no layout.
        text = json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        text += "\n"
        for relative, content in ((paths.json, text), (paths.atom, feed)):
            write_atomically(output / relative, content, durable=False)
            written.append(output / relative)
    logger.debug("Published the history of %d images under %s", len(written) // 2, output)
    return written


def head_links(images: Sequence[ImageReference], href: Callable[[str], str]) -> str:
    """The ``<link rel="alternate">`` elements a page's head holds for its images' feeds;
    ``href`` turns a site-relative path into a link from the page."""
    return "".join(
        f'<link rel="alternate" type="{ATOM_TYPE}" '
        f'title="{escape(f"Tag history of {reference.name}")}" '
        f'href="{escape(href(feed_paths(reference).atom))}">\n'
        for reference in dict.fromkeys(images)
    )


def feed_links_html(atom_href: str, json_href: str) -> str:
    """The small line under a table that links its image's feed and JSON document."""
    return (
        '<p class="taghistory-feeds"><small>'
        f'<a href="{escape(atom_href)}" type="{ATOM_TYPE}">Atom feed</a> \u00b7 '
        f'<a href="{escape(json_href)}" type="application/json">JSON</a>'
        "</small></p>"
    )
