"""The Python-Markdown extension: ``<< tag_history "IMAGE" >>`` becomes a tag table.

It works wherever Python-Markdown runs (``markdown.markdown(text, extensions=[...])``,
``markdown_extensions:`` in MkDocs, ProperDocs or Zensical). The MkDocs plugin builds on it,
adding configuration, the cache location and one fetch for the whole site.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from markdown import Markdown
from markdown.extensions import Extension
from markdown.preprocessors import Preprocessor

from mkdocs_taghistory.errors import DirectiveError, TagHistoryError
from mkdocs_taghistory.feeds import feed_links_html, feed_paths, publishes
from mkdocs_taghistory.frontend import inline_assets
from mkdocs_taghistory.reference import ImageReference
from mkdocs_taghistory.render import placeholder_html, render_html, section_lines
from mkdocs_taghistory.results import ImageResult
from mkdocs_taghistory.service import TagHistoryService
from mkdocs_taghistory.site import PlannedDirective, SitePlan, plan_site
from mkdocs_taghistory.site_options import (
    DEFAULT_OPTIONS,
    RENAMED_OPTIONS,
    SITE_OPTIONS,
    settings_from_options,
)
from mkdocs_taghistory.tables import directive_table

logger = logging.getLogger(__name__)

OPTION_HELP = {option.name: option.help for option in SITE_OPTIONS}
"""One line of help per option, as Python-Markdown lists an extension's options."""
# Python-Markdown reads a None default as a boolean option, so "no pattern" (and "the site's
# language") is "" here.
_EXTENSION_DEFAULTS = {option.name: "" for option in SITE_OPTIONS if option.text_or_none}

# After whitespace normalisation (30), before fenced code (25) stashes code blocks: the scanner
# skips code itself, and seeing the source as written keeps line numbers true.
PREPROCESSOR_PRIORITY = 27


class TagHistoryPreprocessor(Preprocessor):
    """Replaces each directive line with its tables (and section headings)."""

    def __init__(self, md: Markdown, extension: TagHistoryExtension) -> None:
        """Render for ``md`` with the service and settings of ``extension``."""
        super().__init__(md)
        self.extension = extension
        self._assets_pending = False

    def run(self, lines: list[str]) -> list[str]:
        """Expand the directives in ``lines``; raise the extension's error type on a bad one."""
        extension = self.extension
        service = extension.service
        settings = service.settings
        try:
            # The plugin warned of lines meant as directives from its own scan, as of doubts.
            warn = (lambda near: logger.warning("%s", near)) if extension.report_doubts else None
            plan = plan_site([(extension.page, "\n".join(lines))], settings, warn=warn)
            if not plan.directives:
                return lines
            if not settings.enabled:
                return self._replace(lines, plan, self._placeholders)
            tables = plan.fetch(service)
            if extension.report_doubts:
                for doubt in tables.doubts:
                    logger.warning("%s", doubt)
            # The stylesheet and script go with the page's first table (in its block of HTML,
            # which Python-Markdown leaves as it is), when no front end links them.
            self._assets_pending = bool(extension.getConfig("inline_assets"))
            return self._replace(lines, plan, lambda planned: self._tables(planned, tables.results))
        except DirectiveError as error:
            located = error.on_page(extension.page, extension.line_note)
            raise extension.error_type(str(located)) from None

    def _tables(
        self, planned: PlannedDirective, results: Mapping[ImageReference, ImageResult]
    ) -> list[str]:
        """A directive's tables, each after its section's heading and description, if any."""
        settings = self.extension.service.settings
        block: list[str] = []
        for target in planned.targets:
            if target.section is not None:
                # Markdown, not stashed HTML, so the heading joins the table of contents.
                section = target.section
                block += section_lines(section.title, section.description, settings.heading_level)
            result = results[target.reference]
            view = directive_table(settings, planned, target, result)
            html = render_html(view)
            if self._assets_pending:
                html, self._assets_pending = f"{html}\n{inline_assets()}", False
            block += [self.md.htmlStash.store(html), ""]
            href = self.extension.feed_href
            if href is not None and publishes(settings, result):
                paths = feed_paths(target.reference)
                links = feed_links_html(href(paths.atom), href(paths.json))
                block += [self.md.htmlStash.store(links), ""]
                self.extension.linked.append((self.extension.page, target.reference, result))
        return block

    def _placeholders(self, planned: PlannedDirective) -> list[str]:
        """A short placeholder per table, for a build with the plugin switched off."""
        names = dict.fromkeys(target.reference.name for target in planned.targets)
        return [self.md.htmlStash.store("\n".join(map(placeholder_html, names))), ""]

    @staticmethod
    def _replace(
        lines: list[str], plan: SitePlan, block_of: Callable[[PlannedDirective], list[str]]
    ) -> list[str]:
        """``lines`` with each directive's line replaced by what ``block_of`` makes of it."""
        output = list(lines)
        # From the bottom up, so that replacing one line by several keeps earlier indices valid.
        for page_directive in reversed(plan.directives):
            directive = page_directive.planned.directive
            index = directive.line - 1
            block = _in_place(block_of(page_directive.planned), directive.indent, output, index)
            output[index : index + 1] = block
        return output


def _in_place(block: list[str], prefix: str, lines: list[str], index: int) -> list[str]:
    """``block`` as it replaces line ``index`` of ``lines``: a block of its own, in place.

    Inside a container (list item, admonition, tab, footnote, blockquote) every line keeps
    the container's prefix, blank ones too in a blockquote (``> `` becomes ``>``). Blank lines
    set it apart from its neighbours, but never two in a row: two end a footnote.
    """
    blank = prefix.rstrip()
    planned = [prefix + line if line else blank for line in block]
    while planned and planned[-1] == blank:
        planned.pop()
    if index > 0 and lines[index - 1].strip(" \t>"):
        planned.insert(0, blank)
    if index + 1 < len(lines) and lines[index + 1].strip(" \t>"):
        planned.append(blank)
    return planned


class TagHistoryExtension(Extension):
    """Python-Markdown extension that expands ``<< tag_history "IMAGE" >>`` directives."""

    def __init__(self, *, service: TagHistoryService | None = None, **kwargs: Any) -> None:
        """Take the same options as the MkDocs plugin, or a ready ``service`` to share.

        Args:
            service: a service whose settings and fetched results to use; the MkDocs plugin
                passes its own so that pages render from its site-wide fetch.
            **kwargs: the plugin's options (see ``OPTION_HELP``); a relative ``cache_dir`` is
                relative to the working directory.
        """
        self.config = {
            name: [_EXTENSION_DEFAULTS.get(name, default), OPTION_HELP[name]]
            for name, default in DEFAULT_OPTIONS.items()
        }
        # An old name is still taken ("": not given), and read as its new one, with a warning.
        self.config.update(
            {rename.old: ["", f"renamed: {rename.new}"] for rename in RENAMED_OPTIONS}
        )
        # Not a site option: which front end runs the extension decides it (the MkDocs plugin
        # and the Sphinx extension link the files instead).
        self.config["inline_assets"] = [
            True,
            "put the stylesheet and the copy buttons' script in each page with tables "
            "(for generators that let no extension add files, such as Zensical); false to "
            "list assets/taghistory/taghistory.css and .js in extra_css/extra_javascript",
        ]
        super().__init__(**kwargs)
        self._service = service
        self.page = "<markdown>"
        """How error messages name the text being converted; the MkDocs plugin sets it."""
        self.report_doubts = True
        """Warn of directives that show what their author likely did not mean; the MkDocs
        plugin turns this off, as it warns from its own scan of the files, with true lines."""
        self.line_note = ""
        """Said after the line number: the plugin notes that lines count in expanded text."""
        self.error_type: Callable[[str], Exception] = TagHistoryError
        """What errors are raised as: the plugin makes them MkDocs build errors."""
        self.feed_href: Callable[[str], str] | None = None
        """Links the page being converted to a file of the site (its images' feeds, which
        the MkDocs plugin publishes); None where nothing is published (the extension alone)."""
        self.linked: list[tuple[str, ImageReference, ImageResult]] = []
        """The tables whose feeds a page links (its label, the image, what it showed): what
        the MkDocs plugin publishes."""

    @property
    def service(self) -> TagHistoryService:
        """The service that fetches and remembers images, made from the options when needed."""
        if self._service is None:
            given = self.getConfigs()
            del given["inline_assets"]
            for rename in RENAMED_OPTIONS:
                if given.get(rename.old) == "":
                    del given[rename.old]
                elif given[rename.new] == DEFAULT_OPTIONS[rename.new]:
                    del given[rename.new]  # not given: the old name's value takes its place
            settings = settings_from_options(given, Path.cwd(), warn=logger.warning)
            self._service = TagHistoryService(settings)
        return self._service

    def extendMarkdown(self, md: Markdown) -> None:  # noqa: N802 (Python-Markdown's name)
        """Register the preprocessor that expands directives."""
        md.registerExtension(self)
        md.preprocessors.register(
            TagHistoryPreprocessor(md, self), "taghistory", PREPROCESSOR_PRIORITY
        )


def makeExtension(**kwargs: Any) -> TagHistoryExtension:  # noqa: N802 (Python-Markdown's name)
    """Entry point for ``markdown.markdown(extensions=["mkdocs_taghistory.extension"])``."""
    return TagHistoryExtension(**kwargs)
