"""One HTTP session for every registry of a build: pooling, authentication, redirects, caps.

Everything that goes over the wire passes through :class:`RegistrySession`, so the rules hold for
all vendors alike: a connection pool a host, bounded answers, retries with backoff for
failures that may pass, and credentials sent only to the registry's own host and the token
realm it names.

It is asynchronous (httpx's async transports): HTTP/2 is offered by ALPN to every host spoken to
over TLS (the ``http2`` option, ``auto`` by default) and carries up to 100 requests at once on
one connection. Measured against Debian's ``docker-registry`` over TLS (``bench/engine.py``,
``bench/RESULTS.md``): one HTTP/2 connection driven asynchronously fetched faster and with less
CPU a request than the threads on 16 HTTP/1.1 connections that came before it, with no request
lost, where httpx's sync HTTP/2 connection under threads lost requests to races inside
httpcore.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import urljoin

import httpx

from mkdocs_taghistory.errors import RegistryError
from mkdocs_taghistory.reference import ImageReference
from mkdocs_taghistory.registry.auth import ApiCall, Authenticator
from mkdocs_taghistory.registry.counters import FetchCounters
from mkdocs_taghistory.registry.credentials import credential_source
from mkdocs_taghistory.registry.origins import same_origin
from mkdocs_taghistory.registry.pools import HostPools
from mkdocs_taghistory.registry.responses import netloc, status_error
from mkdocs_taghistory.registry.sender import Sender
from mkdocs_taghistory.registry.tls import TlsContexts
from mkdocs_taghistory.settings import ClientSettings, Credentials

logger = logging.getLogger(__name__)

# Redirects followed for one registry call, as Go's HTTP client (and so docker and crane) allows.
_MAX_REDIRECTS = 10
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


class VendorUnavailable(Exception):  # noqa: N818 (a signal, not an error a user sees)
    """A vendor API cannot serve this image (no token, no such API): use the OCI path."""


class RegistrySession:
    """The shared HTTP session of one fetch: one httpx client, with authentication, retries
    and caps. Use as an async context manager: its connections belong to the event loop that
    runs the fetch."""

    def __init__(
        self,
        settings: ClientSettings,
        *,
        counters: FetchCounters | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        """Reach registries by ``settings`` (through ``transport``, when given, rather than
        the network), counting in ``counters``; no connection is opened before the first
        request."""
        self.settings = settings
        self._credentials = credential_source(settings)
        self._tls = TlsContexts(settings.tls)
        # A transport given from outside is its owner's to close, and is not probed around.
        self._pools: HostPools | None = None
        if transport is None:
            transport = self._pools = HostPools(self._tls, http2=settings.http2)
        self._transport = transport
        self.sender = Sender(
            self._transport,
            settings,
            counters,
            tls=self._tls if self._pools is not None else None,
            proxied=self._pools.uses_proxy if self._pools is not None else None,
        )
        self._auth = Authenticator(
            self.sender, self.credentials_for, lambda image: not self.is_plain_http(image)
        )
        # Per image, the other hosts its registry redirected API calls to in this fetch.
        self._redirect_origins: dict[str, set[str]] = {}

    @property
    def counters(self) -> FetchCounters:
        """Requests, retries, connections and HTTP versions so far."""
        return self.sender.counters

    @property
    def requests_sent(self) -> int:
        """How many HTTP requests were sent, token requests and retries included."""
        return self.sender.counters.requests

    def start_fetch(self) -> None:
        """Start the clock of ``fetch_timeout`` for the requests from now on."""
        self.sender.start_fetch()

    def fetch_overdue(self, reference: ImageReference) -> RegistryError | None:
        """The error of a request that may no longer start: the fetch ran out of time."""
        return self.sender.overdue(reference)

    async def aclose(self) -> None:
        """Close every connection of its own."""
        if self._pools is not None:
            await self._pools.aclose()

    async def __aenter__(self) -> RegistrySession:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def is_plain_http(self, reference: ImageReference) -> bool:
        """True for registries spoken to over HTTP: loopback and ``insecure_registries``.

        A host with TLS material of its own (a ``tls`` entry, a ``certs.d`` folder) speaks
        HTTPS even on loopback.
        """
        plain = reference.is_loopback or reference.host in self.settings.insecure_registries
        return plain and not self._tls.has_own_tls(reference.host)

    def base_url(self, reference: ImageReference) -> str:
        """The API root of ``reference``'s repository, over HTTP or HTTPS as configured."""
        return f"{self.root_url(reference)}/v2/{reference.repository}"

    def root_url(self, reference: ImageReference) -> str:
        """The address of ``reference``'s registry, where its own APIs live too (ACR's
        ``/acr/v1``, GitLab's ``/gitlab/v1``)."""
        scheme = "http" if self.is_plain_http(reference) else "https"
        return f"{scheme}://{reference.api_host}"

    def credentials_for(self, host: str) -> Credentials | None:
        """The credentials known for a registry host, if any."""
        source = self._credentials
        return source.for_host(host) if source is not None else None

    # --- registry requests -----------------------------------------------------------

    async def registry(
        self,
        reference: ImageReference,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        max_bytes: int,
        origin: str | None = None,
    ) -> tuple[httpx.Response, bytes]:
        """A request to ``reference``'s registry, authenticating as it asks.

        Only URLs on ``origin`` (the registry's own address unless given) carry the registry's
        token or credentials. Answers a Bearer challenge with a token (sent with the host's
        credentials, if any) and a Basic challenge with the host's credentials; the token is
        shared by every request to the same repository.

        Redirects of ``GET`` and ``HEAD`` are followed, to other hosts too, as
        go-containerregistry follows them: registry.k8s.io sends its API calls to Artifact
        Registry, many registries send blobs to object storage. Another host never sees this
        registry's credentials or token; if it asks for a token, one is fetched anonymously.
        """
        if origin is None:
            origin = self.base_url(reference)
        if not same_origin(url, origin) and not self._was_redirected_to(reference, url):
            # A registry's next-page link to another host: following it would hand that host
            # our token or credentials.
            where = (
                f"plain HTTP ({netloc(url)})"
                if url.lower().startswith("http://") and origin.startswith("https://")
                else f"another host ({netloc(url)})"
            )
            raise RegistryError(
                f"{reference.host} pointed at {where}; not followed",
            )
        for hop in range(_MAX_REDIRECTS + 1):
            if same_origin(url, origin):
                response, body = await self._auth.on_registry(
                    ApiCall(reference, method, url, headers, max_bytes), urgent=hop > 0
                )
            else:
                response, body = await self._auth.elsewhere(
                    ApiCall(reference, method, url, headers, max_bytes)
                )
            location = response.headers.get("Location")
            if (
                response.status_code not in _REDIRECT_STATUSES
                or not location
                or method not in {"GET", "HEAD"}
            ):
                return response, body
            url = self._redirect_target(reference, str(response.url), location)
        raise RegistryError(
            f"{reference.host} redirected more than {_MAX_REDIRECTS} times (a redirect loop?)",
            transient=True,
        )

    def _redirect_target(self, reference: ImageReference, current: str, location: str) -> str:
        """The absolute address a redirect points at, once checked."""
        try:
            target = httpx.URL(urljoin(current, location))
        except (ValueError, httpx.InvalidURL):
            target = None
        if target is None or target.scheme not in {"http", "https"} or not target.host:
            raise RegistryError(
                f"{netloc(current)} redirected to an unusable address",
                transient=True,
            )
        if current.startswith("https://") and target.scheme == "http":
            # Nothing secret is sent there, but an answer over plain HTTP could be changed on
            # the way, and HEAD digests are not checked against content.
            raise RegistryError(
                f"{netloc(current)} redirected from HTTPS to plain HTTP "
                f"({target.netloc.decode()}); not followed",
            )
        self._redirect_origins.setdefault(reference.name, set()).add(
            f"{target.scheme}://{target.netloc.decode()}"
        )
        return str(target)

    def _was_redirected_to(self, reference: ImageReference, url: str) -> bool:
        """True when ``reference``'s registry redirected to ``url``'s origin in this build.

        A next-page link of a redirected tag list points there, and is followed anonymously.
        """
        try:
            target = httpx.URL(url)
        except httpx.InvalidURL:
            return False
        origins = self._redirect_origins.get(reference.name, set())
        return f"{target.scheme}://{target.netloc.decode()}" in origins

    # --- vendor API requests ---------------------------------------------------------

    async def api_body(
        self,
        reference: ImageReference,
        url: str,
        what: str,
        *,
        max_bytes: int,
        headers: Mapping[str, str] | None = None,
        method: str = "GET",
        json_body: Any = None,
        fallback_statuses: frozenset[int] = frozenset(),
    ) -> tuple[httpx.Response, bytes]:
        """A request to a vendor API (Docker Hub, Quay, GitHub), with the headers given.

        No registry credentials are added here: a vendor that needs them passes its own
        ``Authorization`` header, for its own host.

        Raises:
            VendorUnavailable: on a status in ``fallback_statuses``, for which the generic
                OCI path should be tried instead.
            RegistryError: on any other status but 200.
        """
        content = json.dumps(json_body).encode() if json_body is not None else None
        merged = dict(headers or {})
        if content is not None:
            merged["Content-Type"] = "application/json"
        response, body = await self.sender.send(
            reference,
            method,
            url,
            headers=merged,
            max_bytes=max_bytes,
            content=content,
            # A login's body, or the vendor's Authorization: never sent in the clear.
            credentialed=content is not None or "authorization" in map(str.lower, merged),
        )
        if response.status_code in fallback_statuses:
            raise VendorUnavailable(f"HTTP {response.status_code} from {url}")
        if response.status_code != 200:
            raise status_error(response, f"reading {what}")
        return response, body
