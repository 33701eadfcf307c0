"""Every site option, declared once: its default, the types a front end's schema checks, its
help, the reader that checks it, and where its value goes in the settings.

The MkDocs plugin's schema (:mod:`.mkdocs_schema`), the Python-Markdown extension's options,
the Sphinx extension's ``taghistory_*`` values and README's table are all made from
:data:`SITE_OPTIONS`; :func:`settings_from_options` reads them into :class:`.Settings` in one
loop. A new option is one declaration here, its use, and a test. An option renamed stays
readable under its old name for a while, with a message saying the new one
(:data:`RENAMED_OPTIONS`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from mkdocs_taghistory import option_readers as read
from mkdocs_taghistory.dates import DEFAULT_DATE_FORMAT
from mkdocs_taghistory.filters import TagFilter
from mkdocs_taghistory.option_readers import OptionContext, Reader
from mkdocs_taghistory.reference import DEFAULT_REGISTRY
from mkdocs_taghistory.registry.client_settings import ClientSettings
from mkdocs_taghistory.registry.tls_settings import DEFAULT_CERTS_DIRS
from mkdocs_taghistory.settings import Settings, require

DEFAULT_CACHE_DIR = ".cache/plugin/taghistory"
DEFAULT_EMPTY_MESSAGE = "Currently, there are no versions of this image available in the {title}."

_KIND_TYPES: dict[str, tuple[type, ...]] = {
    "str": (str,),
    "int": (int,),
    "number": (int, float),
    "bool": (bool,),
    "strings": (list,),
    "list": (list,),
    "mapping": (dict,),
    "pattern": (str, type(None)),
    "duration": (int, str),
    "note": (bool, str),
    "switch": (bool, str),
}


@dataclass(frozen=True)
class SiteOption:
    """One site option, as ``mkdocs.yml``, ``conf.py`` and the extension take it.

    Attributes:
        name: the option's name.
        default: its value when not given.
        kind: what it holds: ``str``, ``int``, ``number``, ``bool``, ``strings`` (a list of
            text), ``list``, ``mapping``, ``pattern`` (a regular expression, or none),
            ``duration`` (seconds, or text such as ``6h``), ``note`` (true, false or text) or
            ``switch`` (true, false or ``auto``).
        help: one line on what it does (the extension's help; README says more).
        group: the heading it is listed under.
        read: checks a value and gives what the settings hold.
        part: the part of the settings it decides: ``site`` (:class:`.Settings`), ``client``
            (how registries are reached) or ``filter`` (which tags tables show).
        field: the field of that part its value fills; None for an option another one reads
            (``cache`` by ``cache_dir``, ``certs_dirs`` by ``tls``).
    """

    name: str
    default: Any
    kind: str
    help: str
    group: str
    read: Reader
    part: str
    field: str | None

    @property
    def types(self) -> tuple[type, ...]:
        """The Python types a value of this option may have, as a front end's schema checks
        them (what the value means is checked by its reader)."""
        return _KIND_TYPES[self.kind]


@dataclass(frozen=True)
class Renamed:
    """An option known by a new name; the old one still works, with a message."""

    old: str
    new: str


def _client_default(name: str) -> Any:
    """A client option's default, as :class:`.ClientSettings` declares it (the one place)."""
    return next(field.default for field in fields(ClientSettings) if field.name == name)


_WHERE, _HOW, _TLS, _ACCESS, _WHICH, _CACHE, _LAYOUT = (
    "Where images come from",
    "How they are fetched",
    "TLS",
    "Credentials and vendor APIs",
    "Which tags the tables show",
    "Cache and offline builds",
    "How tables are laid out",
)
_SITE, _CLIENT, _FILTER = "site", "client", "filter"

SITE_OPTIONS: tuple[SiteOption, ...] = (
    SiteOption("enabled", True, "bool",
               "false: no fetch, no cache; each table becomes a one-line placeholder", _WHERE,
               read.as_bool, _SITE, "enabled"),
    SiteOption("registry", DEFAULT_REGISTRY, "str",
               "HOST/NAMESPACE that bare image names resolve against", _WHERE,
               read.registry_path, _SITE, "registry"),
    SiteOption("insecure_registries", [], "strings",
               "Hosts spoken to over plain HTTP (loopback always is, unless it has TLS material)",
               _WHERE, read.hosts, _CLIENT, "insecure_registries"),
    SiteOption("concurrency", _client_default("concurrency"), "int",
               "Most requests in flight at once, across the site", _HOW,
               read.whole_number(1, None, "must be at least 1"), _CLIENT, "concurrency"),
    SiteOption("timeout", _client_default("timeout"), "number",
               "Seconds one request may take, from connecting to its last byte", _HOW,
               read.seconds(None, "must be seconds, more than 0"), _CLIENT, "timeout"),
    SiteOption("retries", _client_default("retries"), "int",
               "Further attempts after a failure that may pass", _HOW,
               read.whole_number(0, 10, "must be 0 to 10"), _CLIENT, "retries"),
    SiteOption("fetch_timeout", _client_default("fetch_timeout"), "number",
               "Seconds a build's whole fetch may take; then the cache stands in", _HOW,
               read.seconds(86400, "must be seconds, more than 0 and at most a day"),
               _CLIENT, "fetch_timeout"),
    SiteOption("http2", "auto", "switch",
               "auto: HTTP/2 where a TLS registry offers it; false: HTTP/1.1 only", _HOW,
               read.http2_switch, _CLIENT, "http2"),
    SiteOption("tls", {}, "mapping",
               "Trusted CA and client certificate per host: {HOST: {ca_file, cert_file, "
               "key_file}}", _TLS, read.tls, _CLIENT, "tls"),
    SiteOption("certs_dirs", list(DEFAULT_CERTS_DIRS), "strings",
               "Docker-style folders of per-host certificates (HOST[:PORT]/*.crt, *.cert)", _TLS,
               read.as_given, _CLIENT, None),
    SiteOption("auth", {}, "mapping",
               "Credentials per registry host: {HOST: {username, password}}", _ACCESS,
               read.auth, _CLIENT, "credentials"),
    SiteOption("vendors", {}, "mapping", "API per registry host: {HOST: {type, url}}", _ACCESS,
               read.vendors, _CLIENT, "vendors"),
    SiteOption("hide_signature_tags", True, "bool",
               "Hide cosign and referrer tags (sha256-<hex>[.sig|.att|.sbom])", _WHICH,
               read.as_bool, _FILTER, "hide_signatures"),
    SiteOption("hide_build_tags", False, "bool",
               "Hide Chainguard's per-build tags (-r<N>, -<YYYYMMDD>)", _WHICH,
               read.as_bool, _FILTER, "hide_builds"),
    SiteOption("include_tags", None, "pattern",
               "Show only tags in which this regular expression is found", _WHICH,
               read.tag_patterns, _FILTER, "include"),
    SiteOption("exclude_tags", None, "pattern",
               "Hide tags in which this regular expression is found", _WHICH,
               read.tag_patterns, _FILTER, "exclude"),
    SiteOption("cache", True, "bool", "Keep fetches on disk (false: memory only)", _CACHE,
               read.as_bool, _SITE, None),
    SiteOption("cache_dir", DEFAULT_CACHE_DIR, "str",
               "Folder of the on-disk cache, relative to mkdocs.yml; '' for none", _CACHE,
               read.cache_folder, _SITE, "cache_dir"),
    SiteOption("ttl", "1h", "duration",
               "How long a fetch stays fresh: seconds, or 30m, 6h, 1d, 1w", _CACHE,
               read.duration, _SITE, "ttl"),
    SiteOption("offline", False, "bool",
               "Never ask a registry; use the cache (or TAGHISTORY_OFFLINE=1)", _CACHE,
               read.offline, _SITE, "offline"),
    SiteOption("strict", False, "bool",
               "Warn, rather than inform, when a table comes from the cache", _CACHE,
               read.as_bool, _SITE, "strict"),
    SiteOption("registries", [], "list",
               "Sections per bare image: [{title, registry, description}]", _LAYOUT,
               read.sections, _SITE, "registries"),
    SiteOption("heading_level", 3, "int", "Heading level of those sections", _LAYOUT,
               read.whole_number(1, 6, "must be 1 to 6"), _SITE, "heading_level"),
    SiteOption("empty_message", DEFAULT_EMPTY_MESSAGE, "str",
               "Sentence of a section without tags ({title}, {image})", _LAYOUT,
               read.sentence, _SITE, "empty_message"),
    SiteOption("short_digests", False, "bool",
               "Digests as sha256:<12 hex>..., the full one in the tooltip and copy button",
               _LAYOUT, read.as_bool, _SITE, "short_digests"),
    SiteOption("labels", {}, "mapping",
               "Column headings in place of the defaults: {tags, last_changed, digest, pull, "
               "architectures}", _LAYOUT, read.labels, _SITE, "labels"),
    SiteOption("as_of_note", True, "note",
               "The note under a table from an earlier fetch: true, false, or your sentence "
               "with {date}", _LAYOUT, read.note, _SITE, "as_of_note"),
    SiteOption("date_format", DEFAULT_DATE_FORMAT, "str",
               "strftime codes plus %O (ordinal day) for Last Changed", _LAYOUT,
               read.date_format, _SITE, "date_format"),
    SiteOption("timezone", "UTC", "str", "IANA time zone the dates are written in", _LAYOUT,
               read.time_zone, _SITE, "zone"),
)  # fmt: skip
"""Every site option, declared once; a test holds README's table to it."""

RENAMED_OPTIONS: tuple[Renamed, ...] = ()
"""Options known by a new name: the old one is still read, with a message saying the new."""

DEFAULT_OPTIONS: Mapping[str, Any] = {option.name: option.default for option in SITE_OPTIONS}
"""Every option with its default, as every front end takes them."""

Warn = Callable[[str], None]
"""Told a message the user should see, without stopping the build (a renamed option)."""


def settings_from_options(
    options: Mapping[str, Any],
    base_dir: Path,
    *,
    warn: Warn | None = None,
    renamed: tuple[Renamed, ...] = RENAMED_OPTIONS,
) -> Settings:
    """Check the options (of any front end) and turn them into settings.

    Args:
        options: option values by name; missing ones take their defaults.
        base_dir: what relative paths (``cache_dir``, ``tls`` files) are relative to.
        warn: told when an option is given by an old name.
        renamed: the options known by new names.

    Raises:
        ConfigurationError: naming the first option that cannot be used.
    """
    values = dict(options)
    for rename in renamed:
        if rename.old in values:
            require(rename.new not in values, rename.old, f"is now '{rename.new}'; give that alone")
            if warn is not None:
                warn(f"option '{rename.old}' is now '{rename.new}'; rename it in the configuration")
            values[rename.new] = values.pop(rename.old)
    unknown = sorted(set(values) - set(DEFAULT_OPTIONS))
    require(not unknown, unknown[0] if unknown else "", "unknown option")
    context = OptionContext(base_dir, {**DEFAULT_OPTIONS, **values})
    parts: dict[str, dict[str, Any]] = {"site": {}, "client": {}, "filter": {}}
    for option in SITE_OPTIONS:
        value = option.read(option.name, context.values[option.name], context)
        if option.field is not None:
            parts[option.part][option.field] = value
    return Settings(
        **parts["site"],
        client=ClientSettings(**parts["client"]),
        tag_filter=TagFilter(**parts["filter"]),
    )
