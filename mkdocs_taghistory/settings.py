"""What a site's options come to, checked: the settings every front end works by.

The options themselves are declared in :mod:`.site_options`, which reads them into these
values; here are the values, and what reading needs of them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import timedelta, tzinfo
from pathlib import Path

from mkdocs_taghistory.errors import TagHistoryError
from mkdocs_taghistory.filters import TagFilter
from mkdocs_taghistory.records import Record
from mkdocs_taghistory.registry.client_settings import ClientSettings

OFFLINE_ENVIRONMENT_VARIABLE = "TAGHISTORY_OFFLINE"


class RegistrySection(Record):
    """One section of a sectioned table: a registry and how the page introduces it.

    Attributes:
        title: the section's heading, which the table of contents lists.
        registry: ``HOST/NAMESPACE`` that the image's bare name is looked up under.
        description: Markdown shown between the heading and the table.
    """

    title: str
    registry: str
    description: str = ""


class Settings(Record):
    """Everything that decides where tables come from and what they show.

    Made by :func:`~mkdocs_taghistory.site_options.settings_from_options`, which fills every
    field from the options (their defaults are declared there, once).

    Attributes:
        registry: ``HOST/NAMESPACE`` that a bare image name resolves against.
        cache_dir: where snapshots are kept; None for no on-disk cache.
        offline: never ask a registry; serve every table from the cache.
        strict: log a table served from the cache after a failed fetch as a warning (which
            fails ``mkdocs build --strict``) instead of an info line.
        client: how registries are reached.
        tag_filter: which tags the tables show.
        ttl: how long a fetch stays fresh: younger cached copies are used without asking.
        registries: when set, a bare image name shows one section per registry.
        heading_level: the level of those sections' headings.
        empty_message: the sentence of a section without tags (``{title}``, ``{image}``).
        date_format: how "Last Changed" is written (strftime codes plus ``%O``).
        zone: the time zone dates are written in.
        locale: the language dates are written in (Babel's name, ``de``); None for English,
            the plugin's own "March 18th".
        as_of_note: the note under a table from an earlier fetch: True for the plugin's
            sentence, False for none, or the site's own with ``{date}``.
        enabled: False to build without tables: no request, no cache, a placeholder each.
        short_digests: show digests shortened, the full value in the tooltip and the copy
            button.
        labels: column headings that replace the defaults, by column name.
        feeds: publish each image's history beside the pages (JSON and Atom), linked from
            its tables.
    """

    registry: str
    cache_dir: Path | None
    offline: bool
    strict: bool
    client: ClientSettings
    tag_filter: TagFilter
    ttl: timedelta
    registries: tuple[RegistrySection, ...]
    heading_level: int
    empty_message: str
    date_format: str
    zone: tzinfo
    locale: str | None
    as_of_note: bool | str
    enabled: bool
    short_digests: bool
    labels: Mapping[str, str]
    feeds: bool


class ConfigurationError(TagHistoryError):
    """An option with a value that cannot be used; the message names the option."""


def require(condition: bool, option: str, problem: str) -> None:
    """Raise a ConfigurationError naming ``option`` unless ``condition`` holds."""
    if not condition:
        raise ConfigurationError(f"option '{option}': {problem}")


def offline_from_environment() -> bool:
    """True when ``TAGHISTORY_OFFLINE`` asks for an offline build (``1``, ``true``, ``yes``)."""
    return os.environ.get(OFFLINE_ENVIRONMENT_VARIABLE, "").strip().lower() in {"1", "true", "yes"}
