"""What the Sphinx extension keeps for a build: its settings and service, and per document
which images it shows and since when (for incremental builds).

The service holds the settings, credentials among them, so it lives in memory beside the
configuration, never in Sphinx's environment, which is pickled to disk. The environment keeps
only what a later build needs to tell a document that shows an old fetch: when it was read and
the names of its images.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from weakref import WeakKeyDictionary

from sphinx.config import Config
from sphinx.environment import BuildEnvironment
from sphinx.errors import ConfigError, SphinxError

from mkdocs_taghistory.service import TagHistoryService
from mkdocs_taghistory.settings import Settings
from mkdocs_taghistory.site import PageDirective
from mkdocs_taghistory.site_options import settings_from_options
from mkdocs_taghistory.sphinx.config_values import forget_credentials, settings_from_config

_ENVIRONMENT_ATTRIBUTE = "taghistory_pages"


@dataclass(frozen=True)
class SphinxBuild:
    """A build's settings and the service that fetches and remembers its images.

    Attributes:
        settings: what the configuration asks for.
        service: fetches and remembers the build's images.
        misconfigured: why a configuration value cannot be used, when one cannot: the build
            reports it once and makes no table and no request.
        collected: when set, directives are only collected here, planned, with no fetch and
            no table (``taghistory refresh -c`` learns a project's images by reading it as
            Sphinx reads it).
        written: the images, as written, of the directives the scan before reading found:
            what a directive, planned alone, suggests for a name no registry has.
    """

    settings: Settings
    service: TagHistoryService
    misconfigured: str | None = None
    collected: list[PageDirective] | None = None
    written: list[str] = field(default_factory=list)


# Keyed by the configuration, which every directive reaches (self.config) and which forked
# parallel readers share with the main process.
_BUILDS: WeakKeyDictionary[Config, SphinxBuild] = WeakKeyDictionary()


def start_build(config: Config, confdir: Path) -> SphinxBuild:
    """Check the configuration, make the build's service, and take the credentials out of
    the configuration that Sphinx will pickle.

    A value that cannot be used is kept in ``misconfigured``, to be logged as an error once
    Sphinx's logging is ready (as Sphinx reports its own values, and so that ``-W`` fails on
    it); not raised, as Sphinx prints a traceback for every exception.
    """
    try:
        settings = settings_from_config(config, confdir)
        misconfigured = None
    except ConfigError as error:
        # Nothing is fetched or cached for a build whose configuration cannot be used.
        unused = settings_from_options({"enabled": False, "cache": False}, confdir)
        settings, misconfigured = unused, str(error)
    forget_credentials(config)
    build = SphinxBuild(settings, TagHistoryService(settings), misconfigured)
    _BUILDS[config] = build
    return build


def collect_directives(config: Config) -> list[PageDirective]:
    """Make the build of ``config`` collect its directives instead of making tables; the
    list fills as documents are read."""
    collected: list[PageDirective] = []
    _BUILDS[config] = replace(build_of(config), collected=collected)
    return collected


def build_of(config: Config) -> SphinxBuild:
    """The build that ``config`` belongs to.

    Raises:
        SphinxError: when the extension's set-up never ran for it.
    """
    try:
        return _BUILDS[config]
    except KeyError:
        raise SphinxError(
            "taghistory: the tag-history directive ran before the extension was set up; list "
            "'mkdocs_taghistory.sphinx' in the extensions of conf.py"
        ) from None


@dataclass(frozen=True)
class PageTables:
    """What a document's tables show: each image, and which write of its cache file.

    Attributes:
        shown: per image (its full name), the cache file's version when the document was read
            (None: no file).
        complete: every table could be shown; a document that lacks one is read again by
            every build, until it can be had.
    """

    shown: Mapping[str, int | None]
    complete: bool = True


def page_tables(env: BuildEnvironment) -> MutableMapping[str, PageTables]:
    """Each document's tables, kept in the environment across builds (and merged from
    parallel readers)."""
    found: Any = getattr(env, _ENVIRONMENT_ATTRIBUTE, None)
    if isinstance(found, dict):
        return found
    made: dict[str, PageTables] = {}
    setattr(env, _ENVIRONMENT_ATTRIBUTE, made)
    return made


def note_tables(
    env: BuildEnvironment,
    docname: str,
    images: Iterable[str],
    service: TagHistoryService,
    *,
    complete: bool,
) -> None:
    """Remember which write of each image's cache file ``docname``'s tables show (or that
    one could not be shown, when not ``complete``)."""
    pages = page_tables(env)
    known = pages.get(docname) or PageTables({})
    shown = {**known.shown, **{image: service.cache_version(image) for image in images}}
    pages[docname] = PageTables(shown, known.complete and complete)


def outdated_documents(env: BuildEnvironment, service: TagHistoryService) -> list[str]:
    """Documents whose tables may show less than a build would show now: one could not be
    shown, the cache file of one of their images was written since (``taghistory refresh``,
    another build), or one is no longer fresh and the build may ask its registry again."""
    pages = page_tables(env)
    images = {image for page in pages.values() for image in page.shown}
    version = {image: service.cache_version(image) for image in images}
    asks = {image: service.would_ask(service.last_fetched(image)) for image in images}
    return sorted(
        docname
        for docname, page in pages.items()
        if not page.complete
        or any(version[image] != shown or asks[image] for image, shown in page.shown.items())
    )
