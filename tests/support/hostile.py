"""A loopback front that misbehaves on purpose, one fault at a time, before the real registry.

Requests pass through to the real registry (as :mod:`tests.support.front` does) until the
front is told a fault; then every ``/v2/`` API call gets that fault: a refused or reset
connection, a stall, a trickle, a decompression bomb, a captive portal's page or redirect,
an error status, truncated JSON, a redirect loop. Each fault is what the issue's probes met
on a hostile network, written at the socket where it matters.
"""

from __future__ import annotations

import gzip
import socket
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

from tests.support.front import QuietServer, ReplyHandler

LOGIN_PAGE = b"<!doctype html><title>Sign in to the guest network</title><form>...</form>"


def gzip_bomb(decoded_bytes: int, layers: int) -> bytes:
    """Zeros, ``decoded_bytes`` of them, gzipped ``layers`` times, made without holding them.

    Two layers of 2 GiB take about 3.5 KB on the wire.
    """
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(1024 * 1024)
    parts = [compressor.compress(block) for _ in range(decoded_bytes // len(block))]
    data = b"".join(parts) + compressor.flush()
    for _ in range(layers - 1):
        data = gzip.compress(data, 9)
    return data


class HostileFront:
    """The misbehaving front; use as a context manager and set :attr:`fault`."""

    FAULTS = (
        "none",
        "reset",
        "stall",
        "trickle",
        "status",
        "truncated-json",
        "portal-page",
        "portal-redirect",
        "redirect-loop",
        "gzip-nested",
        "gzip-huge",
    )

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.fault = "none"
        self.status = 503
        self.headers: dict[str, str] = {}
        self.requests = 0
        self.bomb = b""
        self._client = httpx.Client(base_url=upstream, timeout=30)
        self._lock = threading.Lock()
        ThreadingHTTPServer.allow_reuse_address = True
        self._server = QuietServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        # Where a captive portal's redirect sends the browser: another host, with a web page.
        self.portal = QuietServer(("127.0.0.1", 0), _PortalPage)
        self.portal.daemon_threads = True
        self._portal_thread = threading.Thread(target=self.portal.serve_forever, daemon=True)

    @property
    def host(self) -> str:
        """``127.0.0.1:PORT`` of the front."""
        return f"127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> HostileFront:
        self._thread.start()
        self._portal_thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        for server in (self._server, self.portal):
            server.shutdown()
            server.server_close()
        self._client.close()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        front = self

        class Handler(ReplyHandler):
            def _handle(self) -> None:  # noqa: PLR0911 (one branch per fault)
                with front._lock:
                    front.requests += 1
                fault = front.fault
                if fault == "reset":
                    # RST rather than FIN: the peer sees "connection reset".
                    self.connection.setsockopt(
                        socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
                    )
                    self.close_connection = True
                    return
                if fault == "stall":
                    time.sleep(30)
                    self.close_connection = True
                    return
                if fault == "trickle":
                    body = b'{"name": "x", "tags": ["1"]}' * 20
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.flush()
                    for byte in body:
                        try:
                            self.wfile.write(bytes([byte]))
                            self.wfile.flush()
                        except OSError:
                            return
                        time.sleep(0.2)
                    return
                if fault == "status":
                    self._reply(front.status, b'{"errors":[]}', dict(front.headers))
                    return
                if fault == "truncated-json":
                    self._reply(
                        200,
                        b'{"name": "acme/gadget", "tags": ["1.0", "1.',
                        {"Content-Type": "application/json"},
                    )
                    return
                if fault == "portal-page":
                    self._reply(200, LOGIN_PAGE, {"Content-Type": "text/html; charset=utf-8"})
                    return
                if fault == "portal-redirect":
                    login = f"http://127.0.0.1:{front.portal.server_address[1]}/login"
                    self._reply(302, b"", {"Location": login})
                    return
                if fault == "redirect-loop":
                    self._reply(307, b"", {"Location": self.path})
                    return
                if fault in {"gzip-nested", "gzip-huge"}:
                    encoding = "gzip, gzip" if fault == "gzip-nested" else "gzip"
                    self._reply(
                        200,
                        front.bomb,
                        {
                            "Content-Type": "application/json",
                            "Content-Encoding": encoding,
                        },
                    )
                    return
                self._reply(*self._forward(front._client, self.path))

            do_GET = _handle  # noqa: N815
            do_HEAD = _handle  # noqa: N815

        return Handler


class _PortalPage(ReplyHandler):
    """A captive portal's login host: a web page for everything."""

    def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
        self._reply(200, LOGIN_PAGE, {"Content-Type": "text/html"})

    do_HEAD = do_GET  # noqa: N815
