"""A loopback HTTP forward proxy, as ``HTTP_PROXY`` names one.

A client sends it requests for absolute addresses (``GET http://registry.lan:5000/v2/ HTTP/1.1``)
and it forwards each to one upstream, whatever host was named: so a test can reach a registry
"off this machine" (a name no resolver knows) while every byte stays on loopback. It records
what it was asked, headers included, so a test can see whether a password went through it.
"""

from __future__ import annotations

import threading
from urllib.parse import urlsplit

import httpx

from tests.support.front import QuietServer, ReplyHandler
from tests.support.vendor_apis import Recorded


class ForwardProxy:
    """The proxy; use as a context manager. ``requests`` holds what it forwarded."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.requests: list[tuple[str, Recorded]] = []
        self._lock = threading.Lock()
        self._client = httpx.Client(base_url=upstream, timeout=30)
        self._server = QuietServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> ForwardProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._client.close()

    def _handler(self) -> type[ReplyHandler]:
        proxy = self

        class Handler(ReplyHandler):
            def _handle(self) -> None:
                split = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {name.lower(): value for name, value in self.headers.items()}
                recorded = Recorded(self.command, split.path, {}, headers, body)
                with proxy._lock:
                    proxy.requests.append((split.netloc, recorded))
                passed = {
                    name: value
                    for name, value in self.headers.items()
                    if name.lower() in {"accept", "authorization", "content-type"}
                }
                target = split.path + (f"?{split.query}" if split.query else "")
                answer = proxy._client.request(
                    self.command, target, headers=passed, content=body or None
                )
                kept = {"content-type", "docker-content-digest", "www-authenticate", "location"}
                reply = {name: value for name, value in answer.headers.items() if name in kept}
                self._reply(answer.status_code, answer.content, reply)

            do_GET = _handle  # noqa: N815
            do_HEAD = _handle  # noqa: N815
            do_POST = _handle  # noqa: N815

        return Handler

    def hosts(self) -> set[str]:
        """The hosts (``host:port``) requests were forwarded for."""
        with self._lock:
            return {netloc for netloc, _ in self.requests}

    def authorizations(self) -> list[str]:
        """Every ``Authorization`` header that went through."""
        with self._lock:
            return [
                r.headers["authorization"] for _, r in self.requests if "authorization" in r.headers
            ]
