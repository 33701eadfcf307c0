"""The Sphinx extension: ``extensions = ["mkdocs_taghistory.sphinx"]`` in ``conf.py``.

The same tables as the MkDocs plugin, from the same core (site plan, service, cache, rows): the
``tag-history`` directive in reStructuredText and MyST, ``taghistory_<option>`` configuration
values, one concurrent fetch of every image before documents are read, and incremental builds
that read again only the documents whose tables are no longer current. This module wires Sphinx's
events to that core and delegates everything else.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.environment import BuildEnvironment
from sphinx.util import logging
from sphinx.util.fileutil import copy_asset_file

from mkdocs_taghistory.frontend import ASSET_FOLDER, ASSETS, SCRIPT, STYLESHEET
from mkdocs_taghistory.sphinx.build import (
    build_of,
    outdated_documents,
    page_tables,
    start_build,
)
from mkdocs_taghistory.sphinx.config_values import add_config_values, unknown_in
from mkdocs_taghistory.sphinx.directive import PlaceRegistrySections, TagHistoryDirective
from mkdocs_taghistory.sphinx.doctree import (
    cell_paragraph,
    depart_cell_paragraph_text,
    depart_labelled_entry_html,
    depart_labelled_table_html,
    labelled_entry,
    labelled_table,
    short_literal,
    tag_time,
    visit_cell_paragraph_text,
    visit_labelled_entry_html,
    visit_labelled_table_html,
    visit_short_literal_html,
    visit_tag_time_html,
)
from mkdocs_taghistory.sphinx.feeds import link_feeds, setup_feeds
from mkdocs_taghistory.sphinx.logs import forward_to_sphinx
from mkdocs_taghistory.sphinx.project import plan_documents
from mkdocs_taghistory.sphinx.sources import NAME

__all__ = ["setup"]

logger = logging.getLogger(__name__)


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the directive, its configuration values and the build's events."""
    add_config_values(app)
    app.add_directive(NAME, TagHistoryDirective)
    app.add_node(tag_time, html=(visit_tag_time_html, _depart_nothing))
    app.add_node(short_literal, html=(visit_short_literal_html, _depart_nothing))
    app.add_node(labelled_table, html=(visit_labelled_table_html, depart_labelled_table_html))
    app.add_node(labelled_entry, html=(visit_labelled_entry_html, depart_labelled_entry_html))
    app.add_node(cell_paragraph, text=(visit_cell_paragraph_text, depart_cell_paragraph_text))
    app.add_transform(PlaceRegistrySections)
    app.connect("config-inited", _config_inited)
    app.connect("builder-inited", _builder_inited)
    app.connect("env-get-outdated", _env_get_outdated)
    app.connect("env-before-read-docs", _env_before_read_docs)
    app.connect("env-purge-doc", _env_purge_doc)
    app.connect("env-merge-info", _env_merge_info)
    app.connect("html-page-context", _html_page_context)
    app.connect("html-collect-pages", _html_collect_pages)
    setup_feeds(app)
    forward_to_sphinx()
    return {
        "version": _version(),
        "env_version": 2,
        "parallel_read_safe": True,
        "parallel_write_safe": True,
    }


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version  # noqa: PLC0415

    try:
        return version("mkdocs-taghistory")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"


def _depart_nothing(translator: Any, node: nodes.Node) -> None:
    """The visitors write the whole node and skip its children; nothing is left to close."""


def _config_inited(app: Sphinx, config: Config) -> None:
    start_build(config, Path(app.confdir))


def _builder_inited(app: Sphinx) -> None:
    """Report a configuration value that cannot be used (named, as Sphinx names its own), and
    each ``taghistory_`` value that is none of this extension's (a typo Sphinx ignores)."""
    for unknown in unknown_in(app.config):
        logger.warning(unknown, type="taghistory")
    problem = build_of(app.config).misconfigured
    if problem is not None:
        logger.error(problem, type="taghistory")


# While an HTML builder finishes, before EPUB zips the output (build-finished is too late for
# it); not through html_static_path, whose change would make Sphinx write every page again at
# each build, as a changed configuration.
def _html_collect_pages(app: Sphinx) -> list[tuple[str, dict[str, Any], str]]:
    """Copy the stylesheet and the script into ``_static`` of a build that has tables."""
    if page_tables(app.env):
        static = Path(app.builder.outdir) / "_static"
        for name in ASSETS:
            copy_asset_file(ASSET_FOLDER / name, static)
    return []


def _env_get_outdated(
    app: Sphinx, env: BuildEnvironment, added: set[str], changed: set[str], removed: set[str]
) -> list[str]:
    """Read again the documents whose tables are no longer what this build would show."""
    build = build_of(app.config)
    if not build.settings.enabled:
        return []
    read_anyway = added | changed | removed
    return [
        docname for docname in outdated_documents(env, build.service) if docname not in read_anyway
    ]


# Before any document is read, so that all images are fetched in one concurrent pass; in the
# main process, so that parallel readers (-j) find every result in the memory they inherit.
def _env_before_read_docs(app: Sphinx, env: BuildEnvironment, docnames: list[str]) -> None:
    build = build_of(app.config)
    if not docnames or build.collected is not None:
        return
    plan = plan_documents(env, docnames, build.settings)
    # Sphinx drops these or leaves them as text: say so, at their place, so that -W fails.
    for near_miss in plan.near_misses:
        location = (near_miss.page, near_miss.line)
        logger.warning(near_miss.reason, location=location, type="taghistory")
    build.written[:] = dict.fromkeys(each.planned.directive.image for each in plan.directives)
    if build.settings.enabled and plan.references:
        plan.fetch(build.service, check=False)


def _env_purge_doc(app: Sphinx, env: BuildEnvironment, docname: str) -> None:
    page_tables(env).pop(docname, None)


def _env_merge_info(
    app: Sphinx, env: BuildEnvironment, docnames: set[str], other: BuildEnvironment
) -> None:
    """Take what a parallel reader learned of the documents it read."""
    theirs = page_tables(other)
    page_tables(env).update({docname: theirs[docname] for docname in docnames if docname in theirs})


def _html_page_context(
    app: Sphinx,
    pagename: str,
    templatename: str,
    context: dict[str, Any],
    doctree: nodes.document | None,
) -> None:
    """Link the stylesheet and the copy buttons' script into the pages that have tables."""
    if doctree is None or next(doctree.findall(_is_table), None) is None:
        return
    app.add_css_file(STYLESHEET)
    app.add_js_file(SCRIPT, defer="defer")
    link_feeds(app, context, doctree)


def _is_table(node: nodes.Node) -> bool:
    return isinstance(node, nodes.container) and "taghistory" in node["classes"]
