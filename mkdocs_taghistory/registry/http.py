"""One HTTP session for every registry of a build: pooling, authentication, retries, caps.

Everything that goes over the wire passes through :class:`RegistryHttp`, so the rules hold for
all vendors alike: one connection pool, bounded answers, retries with backoff for failures that
may pass, and credentials sent only to the registry's own host and the token realm it names.

HTTP/1.1 is spoken unless the ``http2`` option asks for HTTP/2. Measured against Debian's
``docker-registry`` over TLS at 20, 50 and 100 ms (``bench/RESULTS.md``), httpx's sync HTTP/2
connection under the thread pool lost up to 56 of a cold fetch's 441 requests ("Server
disconnected", and races inside httpcore) and took 1.8 to 2.1 times as long as 16 HTTP/1.1
keep-alive connections, which needed no retry.
"""

from __future__ import annotations

import functools
import json
import logging
import threading
from collections.abc import Mapping
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

from mkdocs_taghistory.errors import RegistryError
from mkdocs_taghistory.reference import ImageReference
from mkdocs_taghistory.registry.answers import netloc, parse_json, status_error
from mkdocs_taghistory.registry.auth import Authenticator
from mkdocs_taghistory.registry.body import ACCEPT_ENCODING
from mkdocs_taghistory.registry.client_settings import ClientSettings
from mkdocs_taghistory.registry.credentials import Credentials
from mkdocs_taghistory.registry.exchange import Exchange
from mkdocs_taghistory.registry.tls import TlsContexts
from mkdocs_taghistory.registry.transport import RoutingTransport

logger = logging.getLogger(__name__)

# Redirects followed for one registry call, as Go's HTTP client (and so docker and crane) allows.
_MAX_REDIRECTS = 10
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


def same_origin(url: str, base: str) -> bool:
    """True when ``url`` has the scheme, host and port of ``base``."""
    first, second = _origin(url), _origin(base)
    return first is not None and first == second


_DEFAULT_PORTS = {"http": 80, "https": 443}


@functools.lru_cache(maxsize=1024)
def _origin(url: str) -> tuple[str, str, int | None] | None:
    """Scheme, host and port of ``url`` (the scheme's default port filled in); None when it is
    not an address. Asked twice for every request, of few distinct origins: cached, and parsed
    the light way (``urlsplit``), not as ``httpx.URL``."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), port or _DEFAULT_PORTS.get(scheme)


class VendorUnavailable(Exception):  # noqa: N818 (a signal, not an error a user sees)
    """A vendor API cannot serve this image (no token, no such API): use the OCI path."""


class RegistryHttp:
    """The shared HTTP session: one httpx client, with authentication, retries and caps."""

    def __init__(
        self, settings: ClientSettings, transport: httpx.BaseTransport | None = None
    ) -> None:
        """Open the connection pool, sized by ``settings.concurrency``."""
        self.settings = settings
        self._tls = TlsContexts(settings.tls)
        limits = httpx.Limits(
            max_connections=settings.concurrency, max_keepalive_connections=settings.concurrency
        )
        self._router = (
            RoutingTransport(self._tls, http2=settings.http2, limits=limits)
            if transport is None
            else None
        )
        self._client = httpx.Client(
            timeout=settings.timeout,
            transport=transport or self._router,
            headers={"User-Agent": "mkdocs-taghistory", "Accept-Encoding": ACCEPT_ENCODING},
        )
        self.exchange = Exchange(self._client, settings)
        self._auth = Authenticator(
            self.exchange, self.credentials_for, lambda image: not self.is_plain_http(image)
        )
        # Per image, the other hosts its registry redirected API calls to in this build.
        self._redirect_origins: dict[str, set[str]] = {}
        self._lock = threading.Lock()

    @property
    def requests_sent(self) -> int:
        """How many HTTP requests were sent, token requests and retries included."""
        return self.exchange.requests_sent

    @property
    def retries(self) -> int:
        """How many requests were sent again after a failure that may pass."""
        return self.exchange.retries

    @property
    def connections_opened(self) -> int:
        """How many connections were opened (0 with a transport given from outside)."""
        return self._router.connections_opened if self._router is not None else 0

    @property
    def http_versions(self) -> Mapping[str, int]:
        """Answers per HTTP version (empty with a transport given from outside)."""
        return self._router.http_versions if self._router is not None else {}

    def start_fetch(self) -> None:
        """Start the clock of ``fetch_timeout`` for the requests from now on."""
        self.exchange.start_fetch()

    def fetch_overdue(self, reference: ImageReference) -> RegistryError | None:
        """The error of a request that may no longer start: the fetch ran out of time."""
        return self.exchange.overdue(reference)

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

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
        source = self.settings.credentials
        return source.for_host(host) if source is not None else None

    # --- registry requests -----------------------------------------------------------

    def registry(
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
        for _ in range(_MAX_REDIRECTS + 1):
            if same_origin(url, origin):
                response, body = self._auth.on_registry(
                    reference, method, url, headers=headers, max_bytes=max_bytes
                )
            else:
                response, body = self._auth.elsewhere(
                    reference, method, url, headers=headers, max_bytes=max_bytes
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
            )
        if current.startswith("https://") and target.scheme == "http":
            # Nothing secret is sent there, but an answer over plain HTTP could be changed on
            # the way, and HEAD digests are not checked against content.
            raise RegistryError(
                f"{netloc(current)} redirected from HTTPS to plain HTTP "
                f"({target.netloc.decode()}); not followed",
            )
        with self._lock:
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
        with self._lock:
            origins = self._redirect_origins.get(reference.name, set())
            return f"{target.scheme}://{target.netloc.decode()}" in origins

    # --- vendor API requests ---------------------------------------------------------

    def api_json(
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
    ) -> tuple[httpx.Response, Any]:
        """A request to a vendor API (Docker Hub, Quay, GitHub), with the headers given.

        No registry credentials are added here: a vendor that needs them passes its own
        ``Authorization`` header, for its own host.

        Raises:
            VendorUnavailable: on a status in ``fallback_statuses``, for which the generic
                OCI path should be tried instead.
            RegistryError: on any other status but 200, or an answer that is not JSON.
        """
        content = json.dumps(json_body).encode() if json_body is not None else None
        merged = dict(headers or {})
        if content is not None:
            merged["Content-Type"] = "application/json"
        response, body = self.exchange.send(
            reference, method, url, headers=merged, max_bytes=max_bytes, content=content
        )
        if response.status_code in fallback_statuses:
            raise VendorUnavailable(f"HTTP {response.status_code} from {url}")
        if response.status_code != 200:
            raise status_error(response, f"reading {what}")
        return response, parse_json(body, what)
