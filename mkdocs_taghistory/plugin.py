"""The MkDocs plugin: configuration, one fetch for the whole site, and the extension on top.

It delegates all real work: scanning to :mod:`directive`, fetching and caching to
:mod:`service`, rendering to the Markdown extension it installs.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mkdocs.config.base import Config
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, event_priority, get_plugin_logger
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page
from mkdocs.utils import get_relative_url

from mkdocs_taghistory.errors import DirectiveError
from mkdocs_taghistory.extension import TagHistoryExtension
from mkdocs_taghistory.feeds import Published, SiteInfo, head_links, publish
from mkdocs_taghistory.frontend import ASSET_FOLDER, ASSETS, forward_core_logs
from mkdocs_taghistory.mkdocs_schema import TagHistoryConfig, theme_language
from mkdocs_taghistory.reference import ImageReference
from mkdocs_taghistory.results import ImageResult
from mkdocs_taghistory.service import TagHistoryService
from mkdocs_taghistory.settings import ConfigurationError
from mkdocs_taghistory.site import page_label, plan_site
from mkdocs_taghistory.site_options import DEFAULT_OPTIONS, settings_from_options
from mkdocs_taghistory.suggest import did_you_mean

log = get_plugin_logger("taghistory")

# Where the stylesheet and the script go in the site.
SITE_ASSETS = "assets/taghistory"


def _to_mkdocs(record: logging.LogRecord) -> None:
    """A core record, through the plugin's logger: the core logs under ``mkdocs_taghistory``
    so it can run without MkDocs, and MkDocs shows (and counts, for ``--strict``) only
    records under its own loggers."""
    log.log(record.levelno, record.getMessage(), exc_info=record.exc_info)


# The config class is made from SITE_OPTIONS at run time, which a type checker cannot follow:
# it sees the plugin's config as a plain Config.
if TYPE_CHECKING:
    _Plugin = BasePlugin[Config]
else:
    _Plugin = BasePlugin[TagHistoryConfig]


class TagHistoryPlugin(_Plugin):  # type: ignore[no-untyped-call]
    """Expands ``<< tag_history "IMAGE" >>`` directives into live tag tables."""

    def __init__(self) -> None:
        """Start without a service; ``on_config`` makes one, or keeps the one it has."""
        self.service: TagHistoryService | None = None
        self.extension: TagHistoryExtension | None = None
        self._service_options: dict[str, Any] | None = None
        self._config_dir = Path.cwd()
        self._pages_with_tables: set[str] = set()
        self._page_urls: dict[str, str] = {}

    def load_config(
        self, options: dict[str, Any], config_file_path: str | None = None
    ) -> tuple[Any, Any]:
        """Load the options as MkDocs does, naming the closest option for one it does not know
        (MkDocs warns "Unrecognised configuration name"; ``--strict`` fails on it)."""
        errors, warnings = super().load_config(options, config_file_path)
        hinted = []
        for key, warning in warnings:
            known = key in DEFAULT_OPTIONS
            hint = "" if known else did_you_mean(key, DEFAULT_OPTIONS, cutoff=0.7)
            hinted.append((key, f"{warning}{hint}"))
        return errors, hinted

    # Defining on_startup tells MkDocs to keep this object for the whole of `mkdocs serve`, so
    # results stay in memory across rebuilds and an edited page refetches nothing fresh.
    def on_startup(self, *, command: str, dirty: bool) -> None:
        """Nothing to prepare; its presence keeps the plugin alive across rebuilds."""

    def on_config(self, config: MkDocsConfig) -> MkDocsConfig:
        """Check the options, then install the Markdown extension with this build's service."""
        self._config_dir = Path(config.config_file_path or "mkdocs.yml").resolve().parent
        language = theme_language(config)
        options = {
            **dict(self.config),
            "config_dir": str(self._config_dir),
            "site_language": language,
        }
        if self.service is None or options != self._service_options:
            try:
                # Only the options of today: MkDocs moved a renamed one's value already, and
                # keeps its old name as None.
                given = {name: self.config[name] for name in DEFAULT_OPTIONS}
                settings = settings_from_options(given, self._config_dir, site_language=language)
            except ConfigurationError as error:
                raise PluginError(f"taghistory: {error}") from None
            self.service = TagHistoryService(settings)
            self._service_options = options
        self.service.start_build()
        forward_core_logs(_to_mkdocs)
        self.extension = TagHistoryExtension(service=self.service, inline_assets=False)
        self.extension.error_type = PluginError
        self.extension.report_doubts = False
        # Directives in the files were checked with their true lines in on_files; any the
        # extension still finds wrong came from another extension or plugin (an include).
        self.extension.line_note = " (a line of the page as other extensions expanded it)"
        config.markdown_extensions.append(self.extension)  # type: ignore[arg-type]
        return config

    # After other plugins have added or removed files, so that every page is seen; before any
    # page renders, so that all images are fetched in one concurrent pass.
    @event_priority(-50)
    def on_files(self, files: Files, *, config: MkDocsConfig) -> Files:
        """Find every directive of the site and fetch all their images at once."""
        service = self._service()
        documents = {self._label(file): file for file in files.documentation_pages()}
        pages = ((label, file.content_string) for label, file in documents.items())
        try:
            # Lines meant as directives but left as text: warnings, which --strict counts.
            plan = plan_site(pages, service.settings, warn=lambda near: log.warning("%s", near))
            if plan.directives and service.settings.enabled:
                for doubt in plan.fetch(service).doubts:
                    log.warning("%s", doubt)
        except DirectiveError as error:
            raise PluginError(str(error)) from None
        # The stylesheet and the copy buttons' script, for the pages with tables only.
        self._pages_with_tables = {
            documents[page_directive.page].src_uri for page_directive in plan.directives
        }
        if self._pages_with_tables:
            for name in ASSETS:
                files.append(
                    File(
                        f"{SITE_ASSETS}/{name}",
                        str(ASSET_FOLDER.parents[1]),
                        config.site_dir,
                        config.use_directory_urls,
                    )
                )
        return files

    def on_post_page(self, output: str, *, page: Page, config: MkDocsConfig) -> str:
        """Link the stylesheet and the script into a page that has tables, and its images'
        feeds into its head."""
        output = self._link_feeds(output, page)
        if page.file.src_uri not in self._pages_with_tables:
            return output
        css, script = (get_relative_url(f"{SITE_ASSETS}/{name}", page.url) for name in ASSETS)
        output = output.replace("</head>", f'<link rel="stylesheet" href="{css}">\n</head>', 1)
        return output.replace("</body>", f'<script src="{script}" defer></script>\n</body>', 1)

    def on_page_markdown(
        self, markdown: str, *, page: Page, config: MkDocsConfig, files: Files
    ) -> str:
        """Tell the extension which page it converts next, for its messages."""
        assert self.extension is not None
        self.extension.page = self._label(page.file)
        self._page_urls[self.extension.page] = url = page.url
        self.extension.feed_href = lambda path: get_relative_url(path, url)
        return markdown

    def _link_feeds(self, output: str, page: Page) -> str:
        """``output`` with a feed link in its head for each image its tables show, where
        browsers and feed readers look for one."""
        label = self._label(page.file)
        linked = [reference for on, reference, _ in self._linked() if on == label]
        if not linked:
            return output
        links = head_links(linked, lambda path: get_relative_url(path, page.url))
        return output.replace("</head>", f"{links}</head>", 1)

    def on_post_build(self, *, config: MkDocsConfig) -> None:
        """Publish the history of each image a page showed, as JSON and Atom, in the site."""
        if self.service is None:
            return
        images: dict[ImageReference, Published] = {}
        for label, reference, result in self._linked():
            page = self._page_urls.get(label)
            images.setdefault(reference, Published(reference, result, page))
        site = SiteInfo(config.site_name, config.site_url or None)
        try:
            publish(Path(config.site_dir), self.service.settings, images.values(), site)
        except OSError as error:
            raise PluginError(f"taghistory: cannot publish the tag feeds: {error}") from None

    def _linked(self) -> list[tuple[str, ImageReference, ImageResult]]:
        return self.extension.linked if self.extension is not None else []

    def _service(self) -> TagHistoryService:
        if self.service is None:
            raise PluginError("taghistory: the plugin was used before on_config ran")
        return self.service

    def _label(self, file: File) -> str:
        """A page's path as a user finds it: relative to mkdocs.yml where possible."""
        path = Path(file.abs_src_path) if file.abs_src_path else Path(file.src_uri)
        return page_label(path, self._config_dir)
