"""What a site's options come to, checked: the settings every front end works by.

The options themselves are declared in :mod:`.site_options`, which reads them into these
values; here are the values, and what reading needs of them. The settings of how registries
are reached (:class:`ClientSettings`) are here too, as plain values: reading a site's options
(every build, however fresh its tables) imports nothing of :mod:`.registry`, which a fetch
loads when one is due.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping
from datetime import timedelta, tzinfo
from pathlib import Path
from types import MappingProxyType

from mkdocs_taghistory.errors import TagHistoryError
from mkdocs_taghistory.filters import TagFilter
from mkdocs_taghistory.records import Record

OFFLINE_ENVIRONMENT_VARIABLE = "TAGHISTORY_OFFLINE"
DEFAULT_CERTS_DIRS: tuple[str, ...] = (
    "/etc/docker/certs.d",
    "/etc/containers/certs.d",
    "~/.config/containers/certs.d",
)
"""Where Docker (system-wide) and Podman (system-wide, then per user) keep per-host folders."""


class Credentials(Record):
    """A username and a password or token. The secret never appears in ``repr``."""

    username: str
    password: str

    def __repr__(self) -> str:
        """The username alone: the secret stays out of logs and tracebacks."""
        return f"Credentials(username={self.username!r}, password=...)"

    def basic_authorization(self) -> str:
        """The ``Authorization`` header value for HTTP Basic authentication."""
        pair = f"{self.username}:{self.password}".encode()
        return "Basic " + base64.b64encode(pair).decode("ascii")

    @property
    def is_identity_token(self) -> bool:
        """Docker's marker for an OAuth refresh token in place of a password."""
        return self.username == "<token>"


class VendorSetting(Record):
    """How the tags of one registry host are read.

    Attributes:
        type: a vendor's name (``oci`` for the generic path; ``registry.vendors`` lists all).
        url: where the vendor's API answers, for tests, mirrors and self-hosted installs;
            None for the vendor's public address.
    """

    type: str
    url: str | None = None


class HostTls(Record):
    """What the ``tls`` option gives for one host.

    Attributes:
        ca_file: a PEM bundle added to the trusted roots for this host.
        cert_file: the client certificate shown to this host (mutual TLS).
        key_file: its private key; None when ``cert_file`` holds it too.
    """

    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None


_DEFAULT_FOLDERS = tuple(Path(folder).expanduser() for folder in DEFAULT_CERTS_DIRS)


class TlsSettings(Record):
    """The ``tls`` option and the folders searched for per-host certificates.

    Attributes:
        hosts: per ``HOST[:PORT]``, the ``tls`` option's entry; a host with one is spoken to
            over HTTPS, loopback or not.
        certs_dirs: Docker-style folders holding a ``HOST[:PORT]`` folder per registry.
    """

    hosts: Mapping[str, HostTls] = MappingProxyType({})
    certs_dirs: tuple[Path, ...] = _DEFAULT_FOLDERS


class ClientSettings(Record):
    """How registries are reached.

    Attributes:
        concurrency: the most requests in flight at once, across all images (each host has
            its own limit too: see :mod:`.registry.host_slots`).
        timeout: seconds one request may take, from connecting to the last byte of its
            answer.
        insecure_registries: hosts (``host[:port]``) spoken to over plain HTTP; loopback hosts
            always are.
        credentials_over_plain_http: hosts (``host[:port]``) off this machine that may be
            sent credentials over plain HTTP (a registry, its token server, a vendor API):
            the user's word for it, which ``insecure_registries`` is not.
        retries: further attempts after a failure that may pass (connection errors, timeouts,
            HTTP 429 and 5xx).
        backoff: seconds before the first retry; each later one waits about twice as long.
        credentials: per host, the ``auth`` option's credentials; Docker's configuration
            answers for the other hosts, read afresh at each fetch (so a ``docker login``
            between two builds of ``mkdocs serve`` counts). None for anonymous access only.
        vendors: per registry host, the API that gives its tags and times.
        fetch_timeout: seconds one fetch of a build's images may take in all; what is not
            done by then fails as a registry that cannot be reached does.
        http2: offer HTTP/2 (by ALPN) to registries that speak TLS; False for HTTP/1.1 only.
        tls: trusted roots and client certificates per host.
    """

    concurrency: int = 128
    timeout: float = 10
    insecure_registries: frozenset[str] = frozenset()
    credentials_over_plain_http: frozenset[str] = frozenset()
    retries: int = 3
    backoff: float = 0.5
    credentials: Mapping[str, Credentials] | None = None
    vendors: Mapping[str, VendorSetting] = MappingProxyType({})
    http2: bool = True
    tls: TlsSettings = TlsSettings()
    fetch_timeout: float = 600


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
