"""What each site option's value means: one reader an option, which checks the value and turns
it into what the settings hold, with a message that names the option. No I/O but the ``tls``
files, which are loaded once to be checked.

A reader is called as ``read(name, value, context)``; :mod:`.site_options` declares which
reader each option has and where its result goes.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable, Mapping
from datetime import UTC, timedelta, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mkdocs_taghistory.dates import DateFormatError, check_date_format
from mkdocs_taghistory.durations import DurationError, parse_duration
from mkdocs_taghistory.errors import InvalidReferenceError, PatternError
from mkdocs_taghistory.locales import LocaleError, check_locale, is_english
from mkdocs_taghistory.records import Record
from mkdocs_taghistory.reference import parse_registry, validate_host
from mkdocs_taghistory.settings import (
    ConfigurationError,
    Credentials,
    HostTls,
    RegistrySection,
    TlsSettings,
    VendorSetting,
    offline_from_environment,
    require,
)
from mkdocs_taghistory.view import COLUMNS

if TYPE_CHECKING:
    from mkdocs_taghistory.patterns import TagPattern


class OptionContext(Record):
    """What a reader may need beyond its own value.

    Attributes:
        base_dir: what relative paths are relative to (the folder of ``mkdocs.yml`` or
            ``conf.py``; the working directory for a plain Markdown call).
        values: every option's value as given, defaults filled in (``cache_dir`` reads
            ``cache``, ``tls`` reads ``certs_dirs``).
    """

    base_dir: Path
    values: Mapping[str, Any]


Reader = Callable[[str, Any, OptionContext], Any]
"""Checks an option's value and gives what the settings hold; raises ConfigurationError."""


def _has_texts(entry: Any, *keys: str) -> bool:
    """True for a mapping whose ``keys`` all hold text."""
    return isinstance(entry, dict) and all(isinstance(entry.get(key), str) for key in keys)


def as_bool(name: str, value: Any, context: OptionContext) -> bool:
    """True or false (the front ends' schemas check the type)."""
    return bool(value)


def as_given(name: str, value: Any, context: OptionContext) -> Any:
    """The value as given: an option another one reads (and checks)."""
    return value


def whole_number(least: int, most: int | None, problem: str) -> Reader:
    """A reader of a whole number from ``least`` to ``most``; ``problem`` says what is due."""

    def read(name: str, value: Any, context: OptionContext) -> int:
        fits = isinstance(value, int) and not isinstance(value, bool) and value >= least
        require(fits and (most is None or value <= most), name, problem)
        return int(value)

    return read


def seconds(most: float | None, problem: str) -> Reader:
    """A reader of seconds, more than 0 and at most ``most``."""

    def read(name: str, value: Any, context: OptionContext) -> float:
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        require(number and value > 0 and (most is None or value <= most), name, problem)
        return float(value)

    return read


def registry_path(name: str, value: Any, context: OptionContext) -> str:
    """``HOST/NAMESPACE``."""
    try:
        parse_registry(str(value))
    except InvalidReferenceError as error:
        raise ConfigurationError(f"option '{name}': {error}") from None
    return str(value)


def hosts(name: str, value: Any, context: OptionContext) -> frozenset[str]:
    """Registry hosts, ``host[:port]``."""
    require(isinstance(value, list), name, "expected a list of hosts")
    for host in value:
        try:
            validate_host(str(host))
        except InvalidReferenceError:
            raise ConfigurationError(
                f"option '{name}': {host!r} is not a registry host; "
                "write host or host:port, without http://"
            ) from None
    return frozenset(map(str, value))


def http2_switch(name: str, value: Any, context: OptionContext) -> bool:
    """Whether HTTP/2 is offered: ``auto`` and ``true`` alike offer it by ALPN (the host's
    answer decides), ``false`` never."""
    require(isinstance(value, bool) or value == "auto", name, "expected auto, true or false")
    return value is not False


def auth(name: str, value: Any, context: OptionContext) -> dict[str, Credentials]:
    """Credentials per host; Docker's own configuration answers for the others."""
    require(isinstance(value, dict), name, "expected a mapping of host to username/password")
    found = {}
    for host, entry in value.items():
        require(
            _has_texts(entry, "username", "password"),
            name,
            f"{host}: expected 'username' and 'password' (use !ENV to keep them out of the file)",
        )
        found[str(host)] = Credentials(entry["username"], entry["password"])
    return found


def vendors(name: str, value: Any, context: OptionContext) -> dict[str, VendorSetting]:
    """The API per registry host."""
    require(isinstance(value, dict), name, "expected a mapping of host to {type, url}")
    found = {}
    for host, entry in value.items():
        # The names only where a site names a vendor: a site's options load no registry code.
        from mkdocs_taghistory.registry.vendors import VENDOR_NAMES  # noqa: PLC0415

        kind = entry.get("type") if isinstance(entry, dict) else None
        require(
            kind in VENDOR_NAMES, name, f"{host}: 'type' must be one of {', '.join(VENDOR_NAMES)}"
        )
        url = entry.get("url")
        require(
            url is None
            or (
                isinstance(url, str)
                and url.startswith(("http://", "https://"))
                and "@" not in url.split("/")[2]
            ),
            name,
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


def tls(name: str, value: Any, context: OptionContext) -> TlsSettings:
    """TLS material per host, and the ``certs_dirs`` folders."""
    certs_dirs = context.values["certs_dirs"]
    require(
        isinstance(certs_dirs, list) and all(isinstance(folder, str) for folder in certs_dirs),
        "certs_dirs",
        "expected a list of folders",
    )
    require(
        isinstance(value, dict),
        name,
        "expected a mapping of HOST[:PORT] to {ca_file, cert_file, key_file}",
    )
    found = {}
    for host, entry in value.items():
        try:
            validate_host(str(host))
        except InvalidReferenceError:
            raise ConfigurationError(
                f"option '{name}': {host!r} is not a registry host; write host or host:port, "
                "without https://"
            ) from None
        require(
            isinstance(entry, dict)
            and set(entry) <= set(_TLS_KEYS)
            and all(isinstance(entry[key], str) and entry[key] for key in entry),
            name,
            f"{host}: expected file paths under {', '.join(_TLS_KEYS)} (all optional)",
        )
        require(
            "key_file" not in entry or "cert_file" in entry,
            name,
            f"{host}: 'key_file' needs the 'cert_file' it belongs to",
        )
        paths = {key: _path(entry[key], context.base_dir, name) for key in entry}
        host_tls = HostTls(paths.get("ca_file"), paths.get("cert_file"), paths.get("key_file"))
        # Only a site with a tls entry loads ssl to check it.
        from mkdocs_taghistory.registry.tls import check_host_tls  # noqa: PLC0415
        from mkdocs_taghistory.registry.tls_files import TlsSetupError  # noqa: PLC0415

        try:
            check_host_tls(host_tls)
        except TlsSetupError as error:
            raise ConfigurationError(f"option '{name}': {host}: {error}") from None
        found[str(host)] = host_tls
    folders = tuple(_path(folder, context.base_dir, "certs_dirs") for folder in certs_dirs)
    return TlsSettings(found, folders)


def tag_patterns(name: str, value: Any, context: OptionContext) -> tuple[TagPattern, ...]:
    """A regular expression, as a tuple of none or one pattern."""
    if value is None or value == "":
        return ()
    require(isinstance(value, str), name, "expected a regular expression")
    # Only a site with a pattern loads the pattern engine.
    from mkdocs_taghistory.patterns import compile_pattern  # noqa: PLC0415

    try:
        return (compile_pattern(value, f"option '{name}'"),)
    except PatternError as error:
        raise ConfigurationError(f"option '{name}': not a regular expression: {error}") from None


def cache_folder(name: str, value: Any, context: OptionContext) -> Path | None:
    """The cache's folder (None without ``cache``). A relative one is relative to the site
    (``mkdocs.yml``), not to where the build was started from, so every build shares it."""
    folder = str(value or "") if context.values["cache"] else ""
    return context.base_dir / folder if folder else None


def duration(name: str, value: Any, context: OptionContext) -> timedelta:
    """Seconds, or text such as ``6h``."""
    try:
        return parse_duration(value)
    except DurationError as error:
        raise ConfigurationError(f"option '{name}': {error}") from None


def offline(name: str, value: Any, context: OptionContext) -> bool:
    """Offline by the option, or by ``TAGHISTORY_OFFLINE`` in the environment."""
    return bool(value) or offline_from_environment()


def sections(name: str, value: Any, context: OptionContext) -> tuple[RegistrySection, ...]:
    """A section per registry for bare image names."""
    require(isinstance(value, list), name, "expected a list of {title, registry}")
    found = []
    for number, entry in enumerate(value, start=1):
        require(
            _has_texts(entry, "title", "registry"),
            name,
            f"entry {number}: expected 'title' and 'registry' (and optionally 'description')",
        )
        try:
            parse_registry(entry["registry"])
        except InvalidReferenceError as error:
            raise ConfigurationError(f"option '{name}': entry {number}: {error}") from None
        description = entry.get("description") or ""
        require(isinstance(description, str), name, f"entry {number}: 'description' must be text")
        found.append(RegistrySection(entry["title"], entry["registry"], description))
    return tuple(found)


def sentence(name: str, value: Any, context: OptionContext) -> str:
    """A sentence with ``{title}`` and ``{image}`` to fill in."""
    text = str(value)
    try:
        text.format(title="", image="")
    except (KeyError, IndexError, ValueError, AttributeError, TypeError) as error:
        # {title.x} and {image[0][1]} reach into the strings: only plain fields are filled.
        raise ConfigurationError(
            f"option '{name}': only {{title}} and {{image}} can be filled in ({error})"
        ) from None
    return text


def labels(name: str, value: Any, context: OptionContext) -> dict[str, str]:
    """Column headings by column name."""
    require(isinstance(value, dict), name, "expected a mapping of column to heading")
    for column, heading in value.items():
        require(column in COLUMNS, name, f"{column!r} is not a column ({', '.join(COLUMNS)})")
        require(
            isinstance(heading, str) and bool(heading.strip()),
            name,
            f"{column}: expected a heading",
        )
    return {str(column): str(heading) for column, heading in value.items()}


def note(name: str, value: Any, context: OptionContext) -> bool | str:
    """True, false, or the site's own sentence with ``{date}``."""
    require(isinstance(value, (bool, str)), name, "expected true, false, or a sentence")
    if isinstance(value, str):
        require("{date}" in value, name, "the sentence must say {date}")
    return bool(value) if isinstance(value, bool) else str(value)


def date_format(name: str, value: Any, context: OptionContext) -> str:
    """strftime codes plus ``%O``."""
    try:
        return check_date_format(str(value))
    except DateFormatError as error:
        raise ConfigurationError(f"option '{name}': {error}") from None


def locale(name: str, value: Any, context: OptionContext) -> str | None:
    """A locale Babel knows (``de``, ``fr_CA``, ``pt-BR``), None (the site's language) or
    an English one (the plugin's own style: None)."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ConfigurationError(f"option '{name}': a locale is text, such as de or fr_CA")
    try:
        checked = check_locale(value.strip())
    except LocaleError as error:
        raise ConfigurationError(f"option '{name}': {error}") from None
    return None if is_english(checked) else checked


def time_zone(name: str, value: Any, context: OptionContext) -> tzinfo:
    """An IANA time zone."""
    if value in ("UTC", "utc", None):
        return UTC
    try:
        return zoneinfo.ZoneInfo(str(value))
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        # OSError: a name that is a folder of the database ("Europe") or too long for a path.
        raise ConfigurationError(
            f"option '{name}': unknown time zone {value!r}; use an IANA name such as Europe/Berlin"
        ) from None
