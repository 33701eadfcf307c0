"""The history as data in a Sphinx project: each image's JSON document and Atom feed written
into the HTML output when the build finishes, a link under each table, and one in the head of
each page with tables. What the documents hold is :mod:`mkdocs_taghistory.feeds`'; here is
only where Sphinx keeps things.

Only the HTML builders that write a page a document (``html``, ``dirhtml``) publish: an EPUB
has no address to subscribe to, and ``singlehtml`` keeps no page per document to link.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.builders import Builder
from sphinx.util import logging
from sphinx.util.osutil import relative_uri
from sphinx.writers.html5 import HTML5Translator

from mkdocs_taghistory.errors import InvalidReferenceError
from mkdocs_taghistory.feeds import (
    Published,
    SiteInfo,
    feed_links_html,
    feed_paths,
    head_links,
    publish,
)
from mkdocs_taghistory.reference import ImageReference, parse_reference
from mkdocs_taghistory.sphinx.build import build_of, page_tables

logger = logging.getLogger(__name__)

PUBLISHING_BUILDERS = frozenset({"html", "dirhtml"})


class feed_links(nodes.comment):  # noqa: N801 (docutils names node classes in lower case)
    """The line under a table that links its image's feed and JSON document. A comment to
    every builder but the HTML ones that publish (Sphinx's translators look a visitor up
    along the node's classes, and every one of them skips a comment)."""


def feed_links_node(reference: ImageReference) -> feed_links:
    """The link line of ``reference``'s table; it holds the site-relative paths, made into
    links from each page as it is written."""
    paths = feed_paths(reference)
    return feed_links("", image=reference.name, atom=paths.atom, json=paths.json)


def _publishing(builder: Builder) -> bool:
    return builder.name in PUBLISHING_BUILDERS


def visit_feed_links_html(translator: HTML5Translator, node: feed_links) -> None:
    """Write the links, relative to the page being written; nothing where no feed is."""
    builder = translator.builder
    if _publishing(builder):
        page = builder.get_target_uri(builder.current_docname)
        translator.body.append(
            feed_links_html(relative_uri(page, node["atom"]), relative_uri(page, node["json"]))
        )
    raise nodes.SkipNode


def _depart_nothing(translator: HTML5Translator, node: nodes.Node) -> None:
    """The visitor writes the whole node and skips it; nothing is left to close."""


def link_feeds(app: Sphinx, context: dict[str, Any], doctree: nodes.document) -> None:
    """Put a feed link in the head of a page whose tables link feeds (the theme writes
    ``metatags`` into every page's head)."""
    if not _publishing(app.builder):
        return
    images = []
    for node in doctree.findall(feed_links):
        try:
            images.append(parse_reference(node["image"], ""))
        except InvalidReferenceError:
            continue  # not one this extension wrote
    if images:
        pathto = context["pathto"]
        links = head_links(images, lambda path: str(pathto(path, resource=True)))
        context["metatags"] = context.get("metatags", "") + links


def _build_finished(app: Sphinx, exception: BaseException | None) -> None:
    """Write the documents of every image this build showed into the HTML output."""
    if exception is not None or not _publishing(app.builder):
        return
    build = build_of(app.config)
    if not build.settings.enabled or not build.settings.feeds or build.misconfigured:
        return
    first_page: dict[ImageReference, str] = {}
    for docname, tables in sorted(page_tables(app.env).items()):
        for image in tables.shown:
            try:
                reference = parse_reference(image, "")
            except InvalidReferenceError:
                continue
            first_page.setdefault(reference, app.builder.get_target_uri(docname))
    # Only what this build showed: an image whose pages were not read again has its files
    # from the build that read them, and loading it here would cost a read of the cache.
    images = [
        Published(reference, result, page)
        for reference, page in first_page.items()
        if (result := build.service.held(reference)) is not None
    ]
    site = SiteInfo(app.config.project, app.config.html_baseurl or None)
    try:
        publish(Path(app.builder.outdir), build.settings, images, site)
    except OSError as error:
        logger.error("taghistory: cannot publish the tag feeds: %s", error, type="taghistory")


def setup_feeds(app: Sphinx) -> None:
    """Register the link node and the event that publishes the feeds (``link_feeds`` is
    called from the page-context handler, for the pages with tables)."""
    app.add_node(feed_links, html=(visit_feed_links_html, _depart_nothing))
    app.connect("build-finished", _build_finished)
