"""Origins (scheme, host, port) of addresses: what credentials, tokens and limits are kept by."""

from __future__ import annotations

import functools
from urllib.parse import urlsplit

import idna

from mkdocs_taghistory.errors import RegistryError
from mkdocs_taghistory.reference import is_loopback_host

Origin = tuple[str, str, int | None]
"""Scheme, host and port (the scheme's default filled in)."""

_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: str) -> Origin | None:
    """Scheme, host and port of ``url``; None when it is not an address.

    Asked several times for every request, of few distinct origins: read from the address's
    start (``scheme://host:port``), which is cached, rather than from the whole address.
    """
    start = url.find("//")
    end = url.find("/", start + 2) if start >= 0 else -1
    return _origin_of_start(url if end < 0 else url[:end])


@functools.lru_cache(maxsize=256)
def _origin_of_start(url: str) -> Origin | None:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    hostname = (parts.hostname or "").lower()
    if not hostname.isascii():
        # As httpx writes it on the wire (and keys its pools): an internationalised name in
        # its ASCII form, so both spellings are one host.
        try:
            hostname = idna.encode(hostname, uts46=True).decode("ascii")
        except idna.IDNAError:
            return None
    return scheme, hostname, port or _DEFAULT_PORTS.get(scheme)


def refuse_plain_credentials(url: str, allowed: frozenset[str]) -> None:
    """Raise unless credentials may go to ``url``: over TLS, to this machine, or to a host
    (``host[:port]``) the user lists in ``credentials_over_plain_http``, in so many words.

    Anyone on the way reads what crosses the network in the clear: ``insecure_registries``
    says to speak plain HTTP to a host, not to hand it a password that way.
    """
    origin = origin_of(url)
    if origin is None or origin[0] != "http" or is_loopback_host(origin[1]):
        return
    host = url.split("//", 1)[-1].split("/", 1)[0].rpartition("@")[2].lower()
    if host in allowed or origin[1] in allowed:
        return
    raise RegistryError(
        f"credentials would go over plain HTTP to {host}, readable on the way; not sent "
        f"(list {host} in the 'credentials_over_plain_http' option to send them anyway)"
    )


def same_origin(url: str, base: str) -> bool:
    """True when ``url`` has the scheme, host and port of ``base``."""
    first = origin_of(url)
    return first is not None and first == origin_of(base)
