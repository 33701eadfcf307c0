"""One httpx transport for a build that picks, per request, the pool its host needs.

Most hosts share one pool, built on the system trust store; a host with TLS material of its
own (the ``tls`` option, a ``certs.d`` folder) gets the pool of that material, and a request
that the environment sends through a proxy (``HTTPS_PROXY``, ``NO_PROXY``, as httpx and pip
read them) gets the pool of that proxy. Pools are made on first use, so a build that speaks
only plain HTTP never loads a trust store.

It also counts the connections it opens (through httpcore's ``trace`` extension) and the HTTP
versions of the answers, so a test or a benchmark can tell a clean run from one that
reconnected, and HTTP/1.1 from HTTP/2.
"""

from __future__ import annotations

import ssl
import threading
import urllib.request
from collections import Counter
from collections.abc import Mapping
from typing import Any

import httpx

from mkdocs_taghistory.registry.tls import TlsContexts

# Never used to connect (only plain-HTTP requests get it); httpx wants one for every pool, and
# a default one would load the whole trust store for nothing.
_UNUSED_CONTEXT = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


class RoutingTransport(httpx.BaseTransport):
    """Sends each request through the pool for its host's TLS material and proxy."""

    def __init__(self, contexts: TlsContexts, *, http2: bool, limits: httpx.Limits) -> None:
        """Make no pool yet; read the environment's proxies once."""
        self._contexts = contexts
        self._http2 = http2
        self._limits = limits
        self._proxies: Mapping[str, str] = urllib.request.getproxies_environment()
        self._bypassed: dict[str, bool] = {}
        self._pools: dict[tuple[object, str | None], httpx.HTTPTransport] = {}
        self._lock = threading.Lock()
        self._connections = 0
        self._versions: Counter[str] = Counter()

    @property
    def connections_opened(self) -> int:
        """How many TCP connections were opened so far."""
        return self._connections

    @property
    def http_versions(self) -> Mapping[str, int]:
        """Answers so far per HTTP version (``HTTP/1.1``, ``HTTP/2``)."""
        with self._lock:
            return dict(self._versions)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` through the pool that fits it."""
        url = request.url
        proxy = self._proxy_for(url)
        if url.scheme == "https":
            material, context = self._contexts.context_for(url.netloc.decode("ascii"))
        else:
            material, context = None, _UNUSED_CONTEXT
        key = (material, proxy)
        pool = self._pools.get(key)
        if pool is None:
            with self._lock:
                pool = self._pools.get(key)
                if pool is None:
                    pool = self._pools[key] = httpx.HTTPTransport(
                        verify=context,
                        http2=self._http2,
                        limits=self._limits,
                        proxy=proxy,
                        trust_env=False,
                    )
        request.extensions = {**request.extensions, "trace": self._trace}
        response = pool.handle_request(request)
        version = response.extensions.get("http_version", b"")
        with self._lock:
            self._versions[version.decode("ascii", "replace")] += 1
        return response

    def close(self) -> None:
        """Close every pool."""
        with self._lock:
            pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            pool.close()

    def _trace(self, event: str, info: Mapping[str, Any]) -> None:
        if event == "connection.connect_tcp.complete":
            with self._lock:
                self._connections += 1

    def _proxy_for(self, url: httpx.URL) -> str | None:
        proxy = self._proxies.get(url.scheme) or self._proxies.get("all")
        if not proxy:
            return None
        host = url.host
        bypassed = self._bypassed.get(host)
        if bypassed is None:
            bypassed = self._bypassed[host] = bool(urllib.request.proxy_bypass(host))
        return None if bypassed else proxy
