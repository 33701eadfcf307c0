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
from pathlib import Path
from typing import Any

from mkdocs_taghistory import option_readers as read
from mkdocs_taghistory.dates import DEFAULT_DATE_FORMAT
from mkdocs_taghistory.filters import TagFilter
from mkdocs_taghistory.locales import site_locale
from mkdocs_taghistory.option_readers import OptionContext, Reader
from mkdocs_taghistory.records import Record
from mkdocs_taghistory.reference import DEFAULT_REGISTRY
from mkdocs_taghistory.settings import DEFAULT_CERTS_DIRS, ClientSettings, Settings, require
from mkdocs_taghistory.view import COLUMNS

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
    "locale": (str, type(None)),
}


class SiteOption(Record):
    """One site option, as ``mkdocs.yml``, ``conf.py`` and the extension take it.

    Attributes:
        name: the option's name.
        default: its value when not given.
        kind: what it holds: ``str``, ``int``, ``number``, ``bool``, ``strings`` (a list of
            text), ``list``, ``mapping``, ``pattern`` (a regular expression, or none),
            ``duration`` (seconds, or text such as ``6h``), ``note`` (true, false or text),
            ``switch`` (true, false or ``auto``) or ``locale`` (a language, or none).
        group: the heading it is listed under.
        read: checks a value and gives what the settings hold.
        into: where the value goes, ``PART.FIELD``: a field of the ``site`` settings
            (:class:`.Settings`), the ``client`` ones (how registries are reached) or the
            ``filter`` (which tags tables show); None for an option another one reads
            (``cache`` by ``cache_dir``, ``certs_dirs`` by ``tls``).
        help: one line on what it does (the extension's help; README says more).
    """

    name: str
    default: Any
    kind: str
    group: str
    read: Reader
    into: str | None
    help: str

    @property
    def part(self) -> str:
        """The part of the settings it decides: ``site``, ``client`` or ``filter``."""
        if self.into is None:
            # Read by another option of the same part: certs_dirs by tls, cache by cache_dir.
            return "client" if self.name == "certs_dirs" else "site"
        return self.into.split(".")[0]

    @property
    def field(self) -> str | None:
        """The field of that part its value fills; None for an option another one reads."""
        return self.into.split(".", 1)[1] if self.into else None

    @property
    def types(self) -> tuple[type, ...]:
        """The Python types a value of this option may have, as a front end's schema checks
        them (what the value means is checked by its reader)."""
        return _KIND_TYPES[self.kind]

    @property
    def text_or_none(self) -> bool:
        """True for an option of text whose default is none (a pattern, a locale): schemas
        that take no None default (Python-Markdown's) hold it as ""."""
        return self.kind in {"pattern", "locale"}


class Renamed(Record):
    """An option known by a new name; the old one still works, with a message."""

    old: str
    new: str


_WHERE, _HOW, _TLS, _ACCESS, _WHICH, _CACHE, _LAYOUT = (
    "Where images come from",
    "How they are fetched",
    "TLS",
    "Credentials and vendor APIs",
    "Which tags the tables show",
    "Cache and offline builds",
    "How tables are laid out",
)
_CLIENT = ClientSettings._field_defaults
"""The client options' defaults, as :class:`.ClientSettings` declares them (the one place)."""
_AT_LEAST_ONE = read.whole_number(1, None, "must be at least 1")
_UP_TO_TEN = read.whole_number(0, 10, "must be 0 to 10")
_ONE_TO_SIX = read.whole_number(1, 6, "must be 1 to 6")
_SECONDS = read.seconds(None, "must be seconds, more than 0")
_UP_TO_A_DAY = read.seconds(86400, "must be seconds, more than 0 and at most a day")

SITE_OPTIONS: tuple[SiteOption, ...] = (
    SiteOption("enabled", True, "bool", _WHERE, read.as_bool, "site.enabled",
               "false: no fetch, no cache; each table becomes a one-line placeholder"),
    SiteOption("registry", DEFAULT_REGISTRY, "str", _WHERE, read.registry_path, "site.registry",
               "HOST/NAMESPACE that bare image names resolve against"),
    SiteOption("insecure_registries", [], "strings", _WHERE, read.hosts,
               "client.insecure_registries",
               "Hosts spoken to over plain HTTP (loopback always is, unless it has TLS material)"),
    SiteOption("concurrency", _CLIENT["concurrency"], "int", _HOW, _AT_LEAST_ONE,
               "client.concurrency", "Most requests in flight at once, across the site"),
    SiteOption("timeout", _CLIENT["timeout"], "number", _HOW, _SECONDS, "client.timeout",
               "Seconds one request may take, from connecting to its last byte"),
    SiteOption("retries", _CLIENT["retries"], "int", _HOW, _UP_TO_TEN, "client.retries",
               "Further attempts after a failure that may pass"),
    SiteOption("fetch_timeout", _CLIENT["fetch_timeout"], "number", _HOW, _UP_TO_A_DAY,
               "client.fetch_timeout",
               "Seconds a build's whole fetch may take; then the cache stands in"),
    SiteOption("http2", "auto", "switch", _HOW, read.http2_switch, "client.http2",
               "auto: HTTP/2 where a TLS registry offers it; false: HTTP/1.1 only"),
    SiteOption("tls", {}, "mapping", _TLS, read.tls, "client.tls",
               "Trusted CA and client certificate per host: "
               "{HOST: {ca_file, cert_file, key_file}}"),
    SiteOption("certs_dirs", list(DEFAULT_CERTS_DIRS), "strings", _TLS, read.as_given, None,
               "Docker-style folders of per-host certificates (HOST[:PORT]/*.crt, *.cert)"),
    SiteOption("auth", {}, "mapping", _ACCESS, read.auth, "client.credentials",
               "Credentials per registry host: {HOST: {username, password}}"),
    SiteOption("credentials_over_plain_http", [], "strings", _ACCESS, read.hosts,
               "client.credentials_over_plain_http",
               "Hosts off this machine that may be sent credentials over plain HTTP"),
    SiteOption("vendors", {}, "mapping", _ACCESS, read.vendors, "client.vendors",
               "API per registry host: {HOST: {type, url}}"),
    SiteOption("hide_signature_tags", True, "bool", _WHICH, read.as_bool,
               "filter.hide_signatures",
               "Hide cosign and referrer tags (sha256-<hex>[.sig|.att|.sbom])"),
    SiteOption("hide_build_tags", False, "bool", _WHICH, read.as_bool, "filter.hide_builds",
               "Hide Chainguard's per-build tags (-r<N>, -<YYYYMMDD>)"),
    SiteOption("include_tags", None, "pattern", _WHICH, read.tag_patterns, "filter.include",
               "Show only tags in which this regular expression is found"),
    SiteOption("exclude_tags", None, "pattern", _WHICH, read.tag_patterns, "filter.exclude",
               "Hide tags in which this regular expression is found"),
    SiteOption("cache", True, "bool", _CACHE, read.as_bool, None,
               "Keep fetches on disk (false: memory only)"),
    SiteOption("cache_dir", DEFAULT_CACHE_DIR, "str", _CACHE, read.cache_folder,
               "site.cache_dir",
               "Folder of the on-disk cache, relative to mkdocs.yml; '' for none"),
    SiteOption("ttl", "1h", "duration", _CACHE, read.duration, "site.ttl",
               "How long a fetch stays fresh: seconds, or 30m, 6h, 1d, 1w"),
    SiteOption("offline", False, "bool", _CACHE, read.offline, "site.offline",
               "Never ask a registry; use the cache (or TAGHISTORY_OFFLINE=1)"),
    SiteOption("strict", False, "bool", _CACHE, read.as_bool, "site.strict",
               "Warn, rather than inform, when a table comes from the cache"),
    SiteOption("registries", [], "list", _LAYOUT, read.sections, "site.registries",
               "Sections per bare image: [{title, registry, description}]"),
    SiteOption("heading_level", 3, "int", _LAYOUT, _ONE_TO_SIX, "site.heading_level",
               "Heading level of those sections"),
    SiteOption("empty_message", DEFAULT_EMPTY_MESSAGE, "str", _LAYOUT, read.sentence,
               "site.empty_message", "Sentence of a section without tags ({title}, {image})"),
    SiteOption("short_digests", False, "bool", _LAYOUT, read.as_bool, "site.short_digests",
               "Digests as sha256:<12 hex>..., the full one in the tooltip and copy button"),
    SiteOption("labels", {}, "mapping", _LAYOUT, read.labels, "site.labels",
               f"Column headings in place of the defaults, by column ({', '.join(COLUMNS)})"),
    SiteOption("as_of_note", True, "note", _LAYOUT, read.note, "site.as_of_note",
               "The note under a table from an earlier fetch: true, false, or your sentence "
               "with {date}"),
    SiteOption("date_format", DEFAULT_DATE_FORMAT, "str", _LAYOUT, read.date_format,
               "site.date_format", "strftime codes plus %O (ordinal day) for Last Changed"),
    SiteOption("timezone", "UTC", "str", _LAYOUT, read.time_zone, "site.zone",
               "IANA time zone the dates are written in"),
    SiteOption("locale", None, "locale", _LAYOUT, read.locale, "site.locale",
               "Language of the dates (de, fr, pt_BR); default: the site's language"),
    SiteOption("feeds", True, "bool", _LAYOUT, read.as_bool, "site.feeds",
               "Publish each image's history as taghistory/HOST/REPOSITORY.json and .atom"),
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
    site_language: object = None,
) -> Settings:
    """Check the options (of any front end) and turn them into settings.

    Args:
        options: option values by name; missing ones take their defaults.
        base_dir: what relative paths (``cache_dir``, ``tls`` files) are relative to.
        warn: told when an option is given by an old name.
        renamed: the options known by new names.
        site_language: the site's own language (``theme.language``, Sphinx's
            ``language``): the dates' when ``locale`` is not given, if Babel knows it.

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
    if parts["site"]["locale"] is None and values.get("locale") is None:
        parts["site"]["locale"] = site_locale(site_language)
    return Settings(
        **parts["site"],
        client=ClientSettings(**parts["client"]),
        tag_filter=TagFilter(**parts["filter"]),
    )
