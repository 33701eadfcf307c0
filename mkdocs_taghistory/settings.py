"""The settings shared by the MkDocs plugin and the Python-Markdown extension.

Both take the same option names; :func:`settings_from_options` checks them in one place, so
a mistake gives the same message wherever the options were written.
"""

from __future__ import annotations

import os
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, timedelta, tzinfo
from pathlib import Path
from typing import Any

from mkdocs_taghistory.dates import DEFAULT_DATE_FORMAT, DateFormatError, check_date_format
from mkdocs_taghistory.durations import DurationError, parse_duration
from mkdocs_taghistory.errors import InvalidReferenceError, TagHistoryError
from mkdocs_taghistory.filters import TagFilter
from mkdocs_taghistory.patterns import PatternError, TagPattern, compile_pattern
from mkdocs_taghistory.reference import DEFAULT_REGISTRY, parse_registry, validate_host
from mkdocs_taghistory.registry.client_settings import ClientSettings, VendorSetting
from mkdocs_taghistory.registry.credentials import Credentials, CredentialSource
from mkdocs_taghistory.registry.tls_settings import (
    DEFAULT_CERTS_DIRS,
    HostTls,
    TlsSettings,
    TlsSetupError,
)
from mkdocs_taghistory.registry.vendors import VENDOR_NAMES
from mkdocs_taghistory.view import COLUMNS

DEFAULT_CACHE_DIR = ".cache/plugin/taghistory"
DEFAULT_EMPTY_MESSAGE = "Currently, there are no versions of this image available in the {title}."
OFFLINE_ENVIRONMENT_VARIABLE = "TAGHISTORY_OFFLINE"


@dataclass(frozen=True)
class SiteOption:
    """One site option, as the plugin's ``mkdocs.yml`` entry and the extension take it.

    Attributes:
        name: the option's name.
        default: its value when not given.
        kind: what it holds: ``str``, ``int``, ``number``, ``bool``, ``strings`` (a list of
            text), ``list``, ``mapping``, ``pattern`` (a regular expression, or none),
            ``duration`` (seconds, or text such as ``6h``), ``note`` (true, false or text) or
            ``switch`` (true, false or ``auto``).
        help: one line on what it does (the extension's help; README says more).
        group: the heading it is listed under.
    """

    name: str
    default: Any
    kind: str
    help: str
    group: str

    @property
    def types(self) -> tuple[type, ...]:
        """The Python types a value of this option may have, as a front end's schema checks
        them (what the value means is checked by :func:`settings_from_options`)."""
        return _KIND_TYPES[self.kind]


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


_WHERE, _HOW, _TLS, _ACCESS, _WHICH, _CACHE, _LAYOUT = (
    "Where images come from",
    "How they are fetched",
    "TLS",
    "Credentials and vendor APIs",
    "Which tags the tables show",
    "Cache and offline builds",
    "How tables are laid out",
)

SITE_OPTIONS: tuple[SiteOption, ...] = (
    SiteOption("enabled", True, "bool",
               "false: no fetch, no cache; each table becomes a one-line placeholder", _WHERE),
    SiteOption("registry", DEFAULT_REGISTRY, "str",
               "HOST/NAMESPACE that bare image names resolve against", _WHERE),
    SiteOption("insecure_registries", [], "strings",
               "Hosts spoken to over plain HTTP (loopback always is, unless it has TLS material)",
               _WHERE),
    SiteOption("concurrency", 128, "int",
               "Most requests in flight at once, across the site", _HOW),
    SiteOption("timeout", 10, "number",
               "Seconds one request may take, from connecting to its last byte", _HOW),
    SiteOption("retries", 3, "int", "Further attempts after a failure that may pass", _HOW),
    SiteOption("fetch_timeout", 600, "number",
               "Seconds a build's whole fetch may take; then the cache stands in", _HOW),
    SiteOption("http2", "auto", "switch",
               "auto: HTTP/2 where a TLS registry offers it; false: HTTP/1.1 only", _HOW),
    SiteOption("tls", {}, "mapping",
               "Trusted CA and client certificate per host: {HOST: {ca_file, cert_file, "
               "key_file}}", _TLS),
    SiteOption("certs_dirs", list(DEFAULT_CERTS_DIRS), "strings",
               "Docker-style folders of per-host certificates (HOST[:PORT]/*.crt, *.cert)", _TLS),
    SiteOption("auth", {}, "mapping",
               "Credentials per registry host: {HOST: {username, password}}", _ACCESS),
    SiteOption("vendors", {}, "mapping", "API per registry host: {HOST: {type, url}}", _ACCESS),
    SiteOption("hide_signature_tags", True, "bool",
               "Hide cosign and referrer tags (sha256-<hex>[.sig|.att|.sbom])", _WHICH),
    SiteOption("hide_build_tags", False, "bool",
               "Hide Chainguard's per-build tags (-r<N>, -<YYYYMMDD>)", _WHICH),
    SiteOption("include_tags", None, "pattern",
               "Show only tags in which this regular expression is found", _WHICH),
    SiteOption("exclude_tags", None, "pattern",
               "Hide tags in which this regular expression is found", _WHICH),
    SiteOption("cache", True, "bool", "Keep fetches on disk (false: memory only)", _CACHE),
    SiteOption("cache_dir", DEFAULT_CACHE_DIR, "str",
               "Folder of the on-disk cache, relative to mkdocs.yml; '' for none", _CACHE),
    SiteOption("ttl", "1h", "duration",
               "How long a fetch stays fresh: seconds, or 30m, 6h, 1d, 1w", _CACHE),
    SiteOption("offline", False, "bool",
               "Never ask a registry; use the cache (or TAGHISTORY_OFFLINE=1)", _CACHE),
    SiteOption("strict", False, "bool",
               "Warn, rather than inform, when a table comes from the cache", _CACHE),
    SiteOption("registries", [], "list",
               "Sections per bare image: [{title, registry, description}]", _LAYOUT),
    SiteOption("heading_level", 3, "int", "Heading level of those sections", _LAYOUT),
    SiteOption("empty_message", DEFAULT_EMPTY_MESSAGE, "str",
               "Sentence of a section without tags ({title}, {image})", _LAYOUT),
    SiteOption("short_digests", False, "bool",
               "Digests as sha256:<12 hex>..., the full one in the tooltip and copy button",
               _LAYOUT),
    SiteOption("labels", {}, "mapping",
               "Column headings in place of the defaults: {tags, last_changed, digest, pull}",
               _LAYOUT),
    SiteOption("as_of_note", True, "note",
               "The note under a table from an earlier fetch: true, false, or your sentence "
               "with {date}", _LAYOUT),
    SiteOption("date_format", DEFAULT_DATE_FORMAT, "str",
               "strftime codes plus %O (ordinal day) for Last Changed", _LAYOUT),
    SiteOption("timezone", "UTC", "str", "IANA time zone the dates are written in", _LAYOUT),
)  # fmt: skip
"""Every site option, declared once: the plugin's config schema, the extension's options,
their defaults and help are made from it, and a test holds README's table to it."""

DEFAULT_OPTIONS: Mapping[str, Any] = {option.name: option.default for option in SITE_OPTIONS}
"""Every option with its default, as both the plugin and the extension take them."""


@dataclass(frozen=True)
class RegistrySection:
    """One section of a sectioned table: a registry and how the page introduces it.

    Attributes:
        title: the section's heading, which the table of contents lists.
        registry: ``HOST/NAMESPACE`` that the image's bare name is looked up under.
        description: Markdown shown between the heading and the table.
    """

    title: str
    registry: str
    description: str = ""


class ConfigurationError(TagHistoryError):
    """An option with a value that cannot be used; the message names the option."""


def offline_from_environment() -> bool:
    """True when ``TAGHISTORY_OFFLINE`` asks for an offline build (``1``, ``true``, ``yes``)."""
    return os.environ.get(OFFLINE_ENVIRONMENT_VARIABLE, "").strip().lower() in {"1", "true", "yes"}


@dataclass(frozen=True)
class Settings:
    """Everything that decides where tables come from and what they show.

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
        labels: column headings that replace the defaults, by column name.
        enabled: False to build without tables: no request, no cache, a placeholder each.
        short_digests: show digests shortened, the full value in the tooltip and the copy
            button.
        as_of_note: the note under a table from an earlier fetch: True for the plugin's
            sentence, False for none, or the site's own with ``{date}``.
    """

    registry: str = DEFAULT_REGISTRY
    cache_dir: Path | None = Path(DEFAULT_CACHE_DIR)
    offline: bool = False
    strict: bool = False
    client: ClientSettings = field(default_factory=ClientSettings)
    tag_filter: TagFilter = field(default_factory=TagFilter)
    ttl: timedelta = timedelta(hours=1)
    registries: tuple[RegistrySection, ...] = ()
    heading_level: int = 3
    empty_message: str = DEFAULT_EMPTY_MESSAGE
    date_format: str = DEFAULT_DATE_FORMAT
    zone: tzinfo = UTC
    as_of_note: bool | str = True
    enabled: bool = True
    short_digests: bool = False
    labels: Mapping[str, str] = field(default_factory=dict)


def _require(condition: bool, option: str, problem: str) -> None:
    if not condition:
        raise ConfigurationError(f"option '{option}': {problem}")


def _pattern(option: str, value: Any) -> TagPattern | None:
    if value is None or value == "":
        return None
    _require(isinstance(value, str), option, "expected a regular expression")
    try:
        return compile_pattern(value, f"option '{option}'")
    except PatternError as error:
        message = f"option '{option}': not a regular expression: {error}"
        raise ConfigurationError(message) from None


def parse_ttl(value: object) -> timedelta:
    """The ``ttl`` option as a duration.

    Raises:
        ConfigurationError: naming the option, for anything but a duration.
    """
    try:
        return parse_duration(value)
    except DurationError as error:
        raise ConfigurationError(f"option 'ttl': {error}") from None


def _sections(value: Any) -> tuple[RegistrySection, ...]:
    _require(isinstance(value, list), "registries", "expected a list of {title, registry}")
    sections = []
    for number, entry in enumerate(value, start=1):
        _require(
            isinstance(entry, dict)
            and isinstance(entry.get("title"), str)
            and isinstance(entry.get("registry"), str),
            "registries",
            f"entry {number}: expected 'title' and 'registry' (and optionally 'description')",
        )
        try:
            parse_registry(entry["registry"])
        except InvalidReferenceError as error:
            raise ConfigurationError(f"option 'registries': entry {number}: {error}") from None
        description = entry.get("description") or ""
        _require(
            isinstance(description, str),
            "registries",
            f"entry {number}: 'description' must be text",
        )
        sections.append(RegistrySection(entry["title"], entry["registry"], description))
    return tuple(sections)


def _labels(value: Any) -> dict[str, str]:
    _require(isinstance(value, dict), "labels", "expected a mapping of column to heading")
    for column, heading in value.items():
        _require(column in COLUMNS, "labels", f"{column!r} is not a column ({', '.join(COLUMNS)})")
        _require(
            isinstance(heading, str) and bool(heading.strip()),
            "labels",
            f"{column}: expected a heading",
        )
    return {str(column): str(heading) for column, heading in value.items()}


def _as_of_note(value: Any) -> bool | str:
    _require(isinstance(value, (bool, str)), "as_of_note", "expected true, false, or a sentence")
    if isinstance(value, str):
        _require("{date}" in value, "as_of_note", "the sentence must say {date}")
    return bool(value) if isinstance(value, bool) else str(value)


def _zone(value: Any) -> tzinfo:
    if value in ("UTC", "utc", None):
        return UTC
    try:
        return zoneinfo.ZoneInfo(str(value))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        # OSError: a name that is a folder of the database ("Europe") or too long for a path.
        raise ConfigurationError(
            f"option 'timezone': unknown time zone {value!r}; use an IANA name such as "
            "Europe/Berlin"
        ) from None


def _patterns(option: str, value: Any) -> tuple[TagPattern, ...]:
    pattern = _pattern(option, value)
    return (pattern,) if pattern is not None else ()


def _auth(value: Any) -> dict[str, Credentials]:
    _require(isinstance(value, dict), "auth", "expected a mapping of host to username/password")
    found = {}
    for host, entry in value.items():
        _require(
            isinstance(entry, dict)
            and isinstance(entry.get("username"), str)
            and isinstance(entry.get("password"), str),
            "auth",
            f"{host}: expected 'username' and 'password' (use !ENV to keep them out of the file)",
        )
        found[str(host)] = Credentials(entry["username"], entry["password"])
    return found


def _vendors(value: Any) -> dict[str, VendorSetting]:
    _require(isinstance(value, dict), "vendors", "expected a mapping of host to {type, url}")
    found = {}
    for host, entry in value.items():
        kind = entry.get("type") if isinstance(entry, dict) else None
        _require(
            kind in VENDOR_NAMES,
            "vendors",
            f"{host}: 'type' must be one of {', '.join(VENDOR_NAMES)}",
        )
        url = entry.get("url")
        _require(
            url is None
            or (
                isinstance(url, str)
                and url.startswith(("http://", "https://"))
                and "@" not in url.split("/")[2]
            ),
            "vendors",
            f"{host}: 'url' must be an http:// or https:// address without credentials in it "
            "(give those in 'auth')",
        )
        found[str(host)] = VendorSetting(type=str(kind), url=url)
    return found


_TLS_KEYS = ("ca_file", "cert_file", "key_file")


def _path(value: str, base_dir: Path, option: str) -> Path:
    # As cache_dir: relative to the site, so every build of it finds the same files.
    try:
        return base_dir / Path(value).expanduser()
    except RuntimeError:  # "~user" for a user this machine does not have
        raise ConfigurationError(f"option '{option}': cannot expand {value!r}") from None


def _tls(value: Any, certs_dirs: Any, base_dir: Path) -> TlsSettings:
    _require(
        isinstance(certs_dirs, list) and all(isinstance(folder, str) for folder in certs_dirs),
        "certs_dirs",
        "expected a list of folders",
    )
    _require(
        isinstance(value, dict),
        "tls",
        "expected a mapping of HOST[:PORT] to {ca_file, cert_file, key_file}",
    )
    hosts = {}
    for host, entry in value.items():
        try:
            validate_host(str(host))
        except InvalidReferenceError:
            raise ConfigurationError(
                f"option 'tls': {host!r} is not a registry host; write host or host:port, "
                "without https://"
            ) from None
        _require(
            isinstance(entry, dict)
            and set(entry) <= set(_TLS_KEYS)
            and all(isinstance(entry[key], str) and entry[key] for key in entry),
            "tls",
            f"{host}: expected file paths under {', '.join(_TLS_KEYS)} (all optional)",
        )
        _require(
            "key_file" not in entry or "cert_file" in entry,
            "tls",
            f"{host}: 'key_file' needs the 'cert_file' it belongs to",
        )
        paths = {key: _path(entry[key], base_dir, "tls") for key in entry}
        host_tls = HostTls(paths.get("ca_file"), paths.get("cert_file"), paths.get("key_file"))
        # Only a site with a tls entry loads ssl to check it.
        from mkdocs_taghistory.registry.tls import check_host_tls  # noqa: PLC0415

        try:
            check_host_tls(host_tls)
        except TlsSetupError as error:
            raise ConfigurationError(f"option 'tls': {host}: {error}") from None
        hosts[str(host)] = host_tls
    return TlsSettings(hosts, tuple(_path(folder, base_dir, "certs_dirs") for folder in certs_dirs))


def settings_from_options(options: Mapping[str, Any], base_dir: Path) -> Settings:
    """Check the options (plugin or extension) and turn them into settings.

    Args:
        options: option values by name; missing ones take their defaults.
        base_dir: what a relative ``cache_dir`` is relative to.

    Raises:
        ConfigurationError: naming the first option that cannot be used.
    """
    values = {**DEFAULT_OPTIONS, **options}
    unknown = sorted(set(values) - set(DEFAULT_OPTIONS))
    _require(not unknown, unknown[0] if unknown else "", "unknown option")
    try:
        parse_registry(str(values["registry"]))
    except InvalidReferenceError as error:
        raise ConfigurationError(f"option 'registry': {error}") from None
    concurrency, timeout, retries = values["concurrency"], values["timeout"], values["retries"]
    _require(isinstance(concurrency, int) and concurrency >= 1, "concurrency", "must be at least 1")
    _require(
        isinstance(timeout, (int, float)) and not isinstance(timeout, bool) and timeout > 0,
        "timeout",
        "must be seconds, more than 0",
    )
    _require(isinstance(retries, int) and 0 <= retries <= 10, "retries", "must be 0 to 10")
    fetch_timeout = values["fetch_timeout"]
    _require(
        isinstance(fetch_timeout, (int, float))
        and not isinstance(fetch_timeout, bool)
        and 0 < fetch_timeout <= 86400,
        "fetch_timeout",
        "must be seconds, more than 0 and at most a day",
    )
    http2 = values["http2"]
    _require(isinstance(http2, bool) or http2 == "auto", "http2", "expected auto, true or false")
    insecure = values["insecure_registries"]
    _require(isinstance(insecure, list), "insecure_registries", "expected a list of hosts")
    for host in insecure:
        try:
            validate_host(str(host))
        except InvalidReferenceError:
            raise ConfigurationError(
                f"option 'insecure_registries': {host!r} is not a registry host; "
                "write host or host:port, without http://"
            ) from None
    cache_dir = str(values["cache_dir"] or "") if values["cache"] else ""
    level = values["heading_level"]
    _require(isinstance(level, int) and 1 <= level <= 6, "heading_level", "must be 1 to 6")
    empty = str(values["empty_message"])
    try:
        empty.format(title="", image="")
    except (KeyError, IndexError, ValueError, AttributeError, TypeError) as error:
        # {title.x} and {image[0][1]} reach into the strings: only plain fields are filled.
        raise ConfigurationError(
            f"option 'empty_message': only {{title}} and {{image}} can be filled in ({error})"
        ) from None
    try:
        date_format = check_date_format(str(values["date_format"]))
    except DateFormatError as error:
        raise ConfigurationError(f"option 'date_format': {error}") from None
    return Settings(
        registry=str(values["registry"]),
        # A relative cache_dir is relative to the site (mkdocs.yml), not to where the build
        # was started from, so that every build of a site shares one cache.
        cache_dir=base_dir / cache_dir if cache_dir else None,
        offline=bool(values["offline"]) or offline_from_environment(),
        strict=bool(values["strict"]),
        client=ClientSettings(
            concurrency=concurrency,
            timeout=float(timeout),
            insecure_registries=frozenset(map(str, insecure)),
            retries=retries,
            credentials=CredentialSource(_auth(values["auth"])),
            vendors=_vendors(values["vendors"]),
            # auto and true alike offer HTTP/2 by ALPN; the host's answer decides.
            http2=http2 is not False,
            fetch_timeout=float(fetch_timeout),
            tls=_tls(values["tls"], values["certs_dirs"], base_dir),
        ),
        ttl=parse_ttl(values["ttl"]),
        registries=_sections(values["registries"]),
        heading_level=level,
        empty_message=empty,
        date_format=date_format,
        zone=_zone(values["timezone"]),
        as_of_note=_as_of_note(values["as_of_note"]),
        enabled=bool(values["enabled"]),
        short_digests=bool(values["short_digests"]),
        labels=_labels(values["labels"]),
        tag_filter=TagFilter(
            hide_signatures=bool(values["hide_signature_tags"]),
            hide_builds=bool(values["hide_build_tags"]),
            include=_patterns("include_tags", values["include_tags"]),
            exclude=_patterns("exclude_tags", values["exclude_tags"]),
        ),
    )
