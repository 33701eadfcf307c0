"""How registries are reached: plain settings, with no HTTP in them.

Kept apart from the HTTP code so that reading a site's options (and a build whose tables are
all fresh) never imports httpx.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from mkdocs_taghistory.records import Record
from mkdocs_taghistory.registry.credentials import CredentialSource
from mkdocs_taghistory.registry.tls_settings import TlsSettings


class VendorSetting(Record):
    """How the tags of one registry host are read.

    Attributes:
        type: a vendor's name (``oci`` for the generic path; ``client.VENDORS`` lists all).
        url: where the vendor's API answers, for tests, mirrors and self-hosted installs;
            None for the vendor's public address.
    """

    type: str
    url: str | None = None


class ClientSettings(Record):
    """How registries are reached.

    Attributes:
        concurrency: the most requests in flight at once, across all images (each host has
            its own limit too: see :mod:`.host_slots`).
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
        credentials: where credentials come from; None for anonymous access only.
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
    credentials: CredentialSource | None = None
    vendors: Mapping[str, VendorSetting] = MappingProxyType({})
    http2: bool = True
    tls: TlsSettings = TlsSettings()
    fetch_timeout: float = 600
