"""One httpx transport for a build that gives every host a pool of its own.

A pool a host: an HTTP/2 host gets one connection, which carries all its requests as streams;
an HTTP/1.1 host gets up to :data:`~.host_slots.HTTP1_SLOTS` connections, one a lane (a pool of
one connection; :mod:`.host_slots` says which lane a request takes). Redirect targets and
token servers are hosts like any other, with their own pools. A pool is built on the TLS
material its host needs: the system trust store, plus the ``tls`` option's or a ``certs.d``
folder's files; and through the proxy the environment names for it (``HTTPS_PROXY``,
``NO_PROXY``, as Go and so docker read them: loopback never, :mod:`.proxies`). Pools are made
on first use, so a build that speaks only plain HTTP never loads a trust store.

Small pools also keep httpcore's pool cheap: it looks at every connection of a pool on every
request event, which costs quadratically with many connections in one pool.
"""

from __future__ import annotations

import contextlib
import ssl
from typing import Any

import h2.errors
import h2.exceptions
import httpx
from httpcore._async.http2 import AsyncHTTP2Connection

from mkdocs_taghistory.registry.host_slots import HTTP1_SLOTS, LANE
from mkdocs_taghistory.registry.proxies import Proxies
from mkdocs_taghistory.registry.tls import TlsContexts

# Never used to connect (only plain-HTTP requests get it); httpx wants one for every pool, and
# a default one would load the whole trust store for nothing.
_UNUSED_CONTEXT = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


class HostPools(httpx.AsyncBaseTransport):
    """Sends each request through the pool of its host, TLS material and proxy."""

    def __init__(self, contexts: TlsContexts, *, http2: bool) -> None:
        """Make no pool yet; read the environment's proxies once.

        Args:
            contexts: the TLS contexts of the build's hosts.
            http2: offer HTTP/2 (by ALPN) to hosts spoken to over TLS.
        """
        self._contexts = contexts
        self._http2 = http2
        # The shared pool of a host whose protocol is not known yet may open a connection a
        # request until it is; one lane holds one connection.
        self._shared_limits = httpx.Limits(
            max_connections=HTTP1_SLOTS, max_keepalive_connections=HTTP1_SLOTS
        )
        self._lane_limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        self._proxies = Proxies()
        self._pools: dict[tuple[str, object, str | None, int | None], httpx.AsyncHTTPTransport]
        self._pools = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` through the pool that fits it."""
        url = request.url
        proxy = self._proxy_for(url)
        host = url.netloc.decode("ascii")
        if url.scheme == "https":
            material, context = self._contexts.context_for(host)
        else:
            material, context = None, _UNUSED_CONTEXT
        lane = request.extensions.get(LANE)
        key = (f"{url.scheme}://{host}", material, proxy, lane)
        pool = self._pools.get(key)
        if pool is None:
            pool = self._pools[key] = httpx.AsyncHTTPTransport(
                verify=context,
                http2=self._http2 and lane is None,
                limits=self._shared_limits if lane is None else self._lane_limits,
                proxy=proxy,
                trust_env=False,
            )
        return await pool.handle_async_request(request)

    async def aclose(self) -> None:
        """Close every pool."""
        pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            await pool.aclose()

    def uses_proxy(self, url: str) -> bool:
        """True when a request to ``url`` goes through a proxy."""
        return self._proxy_for(httpx.URL(url)) is not None

    def _proxy_for(self, url: httpx.URL) -> str | None:
        return self._proxies.proxy_for(url.scheme, url.host, url.port)


def _cancel_abandoned_streams() -> None:
    """Make httpcore reset an HTTP/2 stream whose answer was closed before its end.

    httpcore 1.0 forgets such a stream without telling the server (encode/httpcore#943 and
    #1022): the server goes on sending, h2 still counts the stream as open, so once as many
    answers as the server allows streams were cut short (a deadline, a body past its cap, an
    error page drained), every new request on the connection is refused ("Max outbound
    streams"), and the data never acknowledged shrinks the connection's window. Here the
    stream is reset (RST_STREAM, CANCEL), sent with the connection's next write, as
    httpcore's proposed fix (#1098) does. Streams read to their end are closed already, and
    left as they are.
    """
    closed: Any = AsyncHTTP2Connection._response_closed
    if getattr(closed, "resets_streams", False):
        return

    async def response_closed(self: Any, stream_id: int) -> None:
        stream = self._h2_state.streams.get(stream_id)
        if stream is not None and not stream.closed:
            with contextlib.suppress(h2.exceptions.ProtocolError):
                self._h2_state.reset_stream(stream_id, h2.errors.ErrorCodes.CANCEL)
        await closed(self, stream_id)

    response_closed.resets_streams = True  # type: ignore[attr-defined]
    AsyncHTTP2Connection._response_closed = response_closed  # type: ignore[method-assign]


_cancel_abandoned_streams()
