"""A small loopback front for the real registry, adding what Debian's 2.8 build lacks.

It serves ``tags/list`` in pages with ``Link: <...>; rel="next"`` (the real registry ignores
``n``), and can demand a bearer token the way cgr.dev, Docker Hub and GHCR do: 401 with a
``WWW-Authenticate: Bearer realm=...,service=...,scope=...`` challenge, tokens from its own
``/token`` endpoint. Everything else is passed through to the registry unchanged.
"""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

_TAGS_LIST = re.compile(r"^/v2/(?P<name>.+)/tags/list$")
_REPOSITORY = re.compile(r"^/v2/(?P<name>.+)/(?:tags|manifests|blobs)/")
_PASSED_HEADERS = ("content-type", "docker-content-digest", "content-length", "location")


class RegistryFront:
    """The front server; use as a context manager."""

    def __init__(
        self,
        upstream: str,
        *,
        page_size: int = 0,
        require_token: bool = False,
        hide_head_digest: bool = False,
    ) -> None:
        self.upstream = upstream
        self.page_size = page_size
        self.require_token = require_token
        # Some registries answer HEAD without Docker-Content-Digest; the client must then GET
        # the manifest and hash it.
        self.hide_head_digest = hide_head_digest
        self.requests: Counter[str] = Counter()
        self.token_requests: list[dict[str, list[str]]] = []
        self.listed_pages = 0
        self._issued: dict[str, str] = {}
        self._lock = threading.Lock()
        self._client = httpx.Client(base_url=upstream, timeout=30)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def host(self) -> str:
        """``127.0.0.1:PORT`` of the front."""
        return f"127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> RegistryFront:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._client.close()

    def _issue_token(self, scope: str) -> str:
        with self._lock:
            token = f"token-{len(self._issued) + 1}"
            self._issued[token] = scope
            return token

    def _token_allows(self, header: str | None, repository: str) -> bool:
        if not header or not header.startswith("Bearer "):
            return False
        scope = self._issued.get(header.removeprefix("Bearer "))
        return scope == f"repository:{repository}:pull"

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        front = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Buffer each answer into one write: headers and body sent apart meet Nagle's
            # algorithm and delayed ACKs, a 40 ms stall per keep-alive request.
            wbufsize = -1

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _reply(self, status: int, body: bytes, headers: dict[str, str]) -> None:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                if not any(name.lower() == "content-length" for name in headers):
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def _handle(self) -> None:
                split = urlsplit(self.path)
                with front._lock:
                    front.requests[f"{self.command} {split.path}"] += 1
                if split.path == "/token":
                    query = parse_qs(split.query)
                    front.token_requests.append(query)
                    token = front._issue_token(query.get("scope", [""])[0])
                    self._reply(
                        200,
                        json.dumps({"token": token, "expires_in": 300}).encode(),
                        {"Content-Type": "application/json"},
                    )
                    return
                repository = _REPOSITORY.match(split.path)
                if (
                    front.require_token
                    and repository
                    and not front._token_allows(
                        self.headers.get("Authorization"), repository.group("name")
                    )
                ):
                    scope = f"repository:{repository.group('name')}:pull"
                    challenge = (
                        f'Bearer realm="http://{front.host}/token",service="front",scope="{scope}"'
                    )
                    self._reply(
                        401,
                        b'{"errors":[{"code":"UNAUTHORIZED"}]}',
                        {"WWW-Authenticate": challenge, "Content-Type": "application/json"},
                    )
                    return
                listing = _TAGS_LIST.match(split.path)
                if listing and front.page_size:
                    self._page(listing.group("name"), parse_qs(split.query))
                    return
                upstream = front._client.request(
                    self.command,
                    self.path,
                    headers={"Accept": self.headers.get("Accept", "*/*")},
                )
                headers = {
                    name: value
                    for name, value in upstream.headers.items()
                    if name.lower() in _PASSED_HEADERS
                }
                if front.hide_head_digest:
                    headers = {
                        name: value
                        for name, value in headers.items()
                        if name.lower() != "docker-content-digest"
                    }
                self._reply(upstream.status_code, upstream.content, headers)

            def _page(self, name: str, query: dict[str, list[str]]) -> None:
                upstream = front._client.get(f"/v2/{name}/tags/list")
                tags = sorted(upstream.json().get("tags") or [])
                size = int(query.get("n", [front.page_size])[0])
                last = query.get("last", [None])[0]
                start = tags.index(last) + 1 if last in tags else 0
                page = tags[start : start + size]
                headers = {"Content-Type": "application/json"}
                if start + size < len(tags):
                    # Relative, as the spec's example is, so the client must resolve it.
                    headers["Link"] = (
                        f"</v2/{name}/tags/list?{urlencode({'n': size, 'last': page[-1]})}>; "
                        'rel="next"'
                    )
                with front._lock:
                    front.listed_pages += 1
                self._reply(200, json.dumps({"name": name, "tags": page}).encode(), headers)

            do_GET = _handle  # noqa: N815
            do_HEAD = _handle  # noqa: N815

        return Handler
