"""The Python-Markdown extension: ``<< tag_history "IMAGE" >>`` becomes a tag table.

It works wherever Python-Markdown runs (``markdown.markdown(text, extensions=[...])``,
``markdown_extensions:`` in MkDocs, ProperDocs or Zensical). The MkDocs plugin builds on it,
adding configuration, the cache location and one fetch for the whole site.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from markdown import Markdown
from markdown.extensions import Extension
from markdown.preprocessors import Preprocessor

from mkdocs_taghistory.directive import read_directives
from mkdocs_taghistory.errors import DirectiveError, TagHistoryError
from mkdocs_taghistory.history import group_by_digest
from mkdocs_taghistory.render import render_table
from mkdocs_taghistory.service import TagHistoryService
from mkdocs_taghistory.settings import DEFAULT_OPTIONS, settings_from_options

OPTION_HELP = {
    "registry": "HOST/NAMESPACE that bare image names resolve against",
    "insecure_registries": "Hosts spoken to over plain HTTP (loopback always is)",
    "concurrency": "Most requests in flight at once",
    "timeout": "Seconds to wait for a connection or a read",
    "retries": "Further attempts after a failure that may pass",
    "cache_dir": "Folder of the on-disk cache; '' for none",
    "offline": "Never ask a registry; use the cache (or TAGHISTORY_OFFLINE=1)",
    "strict": "Warn, rather than inform, when a table comes from the cache",
    "auth": "Credentials per registry host: {HOST: {username, password}}",
    "vendors": "API per registry host: {HOST: {type, url}}",
    "hide_signature_tags": "Hide cosign and referrer tags (sha256-<hex>[.sig|.att|.sbom])",
    "hide_build_tags": "Hide Chainguard's per-build tags (-r<N>, -<YYYYMMDD>)",
    "include_tags": "Show only tags in which this regular expression is found",
    "exclude_tags": "Hide tags in which this regular expression is found",
}
# Python-Markdown reads a None default as a boolean option, so "no pattern" is "" here.
_EXTENSION_DEFAULTS = {"include_tags": "", "exclude_tags": ""}

# After whitespace normalisation (30), before fenced code (25) stashes code blocks: the scanner
# skips code itself, and seeing the source as written keeps line numbers true.
PREPROCESSOR_PRIORITY = 27


class TagHistoryPreprocessor(Preprocessor):
    """Replaces each directive line with a stashed tag table."""

    def __init__(self, md: Markdown, extension: TagHistoryExtension) -> None:
        """Render for ``md`` with the service and settings of ``extension``."""
        super().__init__(md)
        self.extension = extension

    def run(self, lines: list[str]) -> list[str]:
        """Expand the directives in ``lines``; raise :class:`TagHistoryError` on a bad one."""
        extension = self.extension
        service = extension.service
        try:
            placed = read_directives("\n".join(lines), service.settings.registry)
        except DirectiveError as error:
            raise extension.error_type(
                f"{extension.page}:{error.line}{extension.line_note}: {error.reason}"
            ) from None
        if not placed:
            return lines
        results = service.resolve(item.reference for item in placed)
        output = list(lines)
        # From the bottom up, so that replacing one line by three keeps earlier indices valid.
        for item in reversed(placed):
            result = results[item.reference]
            if result.snapshot is None:
                raise extension.error_type(
                    f"{extension.page}:{item.directive.line}{extension.line_note}: "
                    "cannot show the tag history of "
                    f"{item.reference.name}: {result.problem}"
                )
            groups = group_by_digest(result.snapshot, service.settings.tag_filter)
            html = render_table(item.reference.name, groups, as_of=result.as_of)
            index = item.directive.line - 1
            # Inside a list item the placeholder keeps the item's indentation.
            placeholder = item.directive.indent + self.md.htmlStash.store(html)
            output[index : index + 1] = ["", placeholder, ""]
        return output


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
        super().__init__(**kwargs)
        self._service = service
        self.page = "<markdown>"
        """How error messages name the text being converted; the MkDocs plugin sets it."""
        self.line_note = ""
        """Said after the line number: the plugin notes that lines count in expanded text."""
        self.error_type: Callable[[str], Exception] = TagHistoryError
        """What errors are raised as: the plugin makes them MkDocs build errors."""

    @property
    def service(self) -> TagHistoryService:
        """The service that fetches and remembers images, made from the options when needed."""
        if self._service is None:
            self._service = TagHistoryService(settings_from_options(self.getConfigs(), Path.cwd()))
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
