"""A small loopback front for the real registry, adding what Debian's 2.8 build lacks.

It serves ``tags/list`` in pages with ``Link: <...>; rel="next"`` (the real registry ignores
``n``), and can demand a bearer token the way cgr.dev, Docker Hub and GHCR do: 401 with a
``WWW-Authenticate: Bearer realm=...,service=...,scope=...`` challenge, tokens from its own
``/token`` endpoint. Everything else is passed through to the registry unchanged.
"""

from __future__ import annotations

import base64
import json
import re
import ssl
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from tests.support.tls import KeyPair

_TAGS_LIST = re.compile(r"^/v2/(?P<name>.+)/tags/list$")
_HISTORY = re.compile(r"^/v2/(?P<name>.+)/_chainguard/history/(?P<tag>[^/]+)$")
_REPOSITORY = re.compile(r"^/v2/(?P<name>.+?)/(?:tags|manifests|blobs|_chainguard|referrers)/")
_REFERRERS = re.compile(r"^/v2/(?P<name>.+)/referrers/(?P<digest>sha256:[a-f0-9]{64})$")
_PASSED_HEADERS = ("content-type", "docker-content-digest", "content-length", "location")


class QuietServer(ThreadingHTTPServer):
    """A stand-in's server. A client that hangs up mid-answer (a fault being tested, a fetch
    cut off at its deadline) is no error of the stand-in's: nothing is printed, so a build run
    in this process shows only what the build says."""

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Say nothing; the tests read what was asked from the stand-ins' own records."""


class ReplyHandler(BaseHTTPRequestHandler):
    """The request handler of every loopback stand-in: whole answers, passed-through ones."""

    protocol_version = "HTTP/1.1"
    # Buffer each answer into one write: headers and body sent apart meet Nagle's algorithm
    # and delayed ACKs, a 40 ms stall per keep-alive request.
    wbufsize = -1

    def log_message(self, format: str, *args: Any) -> None:
        """Say nothing: the tests read what was asked from the stand-ins' own records."""

    def _reply(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if not any(name.lower() == "content-length" for name in headers):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _forward(self, client: httpx.Client, path: str) -> tuple[int, bytes, dict[str, str]]:
        """The upstream registry's answer to this request (at ``path``), its useful headers."""
        # Every Accept line, joined: skopeo and Docker send one a media type.
        accept = ", ".join(self.headers.get_all("Accept") or ["*/*"])
        upstream = client.request(self.command, path, headers={"Accept": accept})
        headers = {
            name: value
            for name, value in upstream.headers.items()
            if name.lower() in _PASSED_HEADERS
        }
        return upstream.status_code, upstream.content, headers


def _stamp(record: dict[str, str]) -> str:
    return record.get("updateTimestamp") or record.get("UpdateTimestamp") or ""


class RegistryFront:
    """The front server; use as a context manager."""

    def __init__(
        self,
        upstream: str,
        *,
        page_size: int = 0,
        require_token: bool = False,
        hide_head_digest: bool = False,
        token_uses: int = 0,
        token_credentials: tuple[str, str] | None = None,
        token_field: str = "token",
        expires_in: int | None = 300,
        chainguard_history: dict[str, list[dict[str, str]]] | None = None,
        history_page_limit: int = 1000,
        fail_first: int = 0,
        fail_status: int = 503,
        retry_after: str | None = None,
        upstream_auth: tuple[str, str] | None = None,
        phantom_tags: tuple[str, ...] = (),
        port: int = 0,
        redirect_blobs_to: str | None = None,
        refresh_token: str | None = None,
        redirect_api_to: str | None = None,
        tls: KeyPair | None = None,
        token_prefix: str = "secret-token",
        moving_tag: tuple[str, list[str]] | None = None,
        list_delay: float = 0.0,
        realm: str | None = None,
        reject_page_size: bool = False,
        set_cookie: tuple[str, ...] = (),
        referrers: dict[str, list[dict[str, Any]]] | None = None,
    ) -> None:
        self.upstream = upstream
        # The OCI 1.1 referrers API, which Debian's 2.8 build lacks (it answers 404, as a
        # registry without the API must): subject digest -> its referrers' descriptors. None
        # passes the request on to the registry.
        self.referrers = referrers
        # The referrers API answers what is no index (a broken registry, a proxy's page).
        self.referrers_broken = False
        # Seconds each referrers answer takes (a slow API, to run a fetch out of time).
        self.referrers_delay = 0.0
        # Tag lists come in pages of at most this many tags, whatever larger n a client asks
        # for, as registries cap n (0: one page, or the n asked for).
        self.page_size = page_size
        # Refuses n, as the spec allows a registry to (400 PAGINATION_NUMBER_INVALID).
        self.reject_page_size = reject_page_size
        self.list_queries: list[dict[str, list[str]]] = []
        self.require_token = require_token
        # Some registries answer HEAD without Docker-Content-Digest; the client must then GET
        # the manifest and hash it.
        self.hide_head_digest = hide_head_digest
        # Each token is good for this many requests (0: any number), as if it expired.
        self.token_uses = token_uses
        # The token server asks for these Basic credentials, as a private registry's does.
        self.token_credentials = token_credentials
        self.token_field = token_field
        self.expires_in = expires_in
        # Chainguard's tag history API: tag -> records, oldest first.
        self.chainguard_history = chainguard_history or {}
        self.history_page_limit = history_page_limit
        # Each history request: the tag and the start= it asked from ("" for none).
        self.history_starts: list[tuple[str, str]] = []
        # The first requests fail with fail_status (and Retry-After), as an overloaded
        # registry's do.
        self.fail_first = fail_first
        self.fail_status = fail_status
        self.retry_after = retry_after
        self.failures_sent = 0
        self.authorizations: list[str] = []
        # Tags the list names but the registry no longer has: deleted between list and HEAD.
        self.phantom_tags = phantom_tags
        # Blobs answered with a redirect to another server, as registries on object storage do.
        self.redirect_blobs_to = redirect_blobs_to
        # The token server takes only this OAuth2 refresh token (Docker's identity token).
        self.refresh_token = refresh_token
        # Tag lists and manifests answered with a 307 to this base URL, as registry.k8s.io
        # sends every API call to Artifact Registry.
        self.redirect_api_to = redirect_api_to
        self.redirect_status = 307
        self.tls = tls
        self.token_prefix = token_prefix
        # A tag that moves to the next of these digests at each HEAD of it, as `latest` does
        # while builds run; and a delay before each tag list, so that builds overlap.
        self.moving_tag = moving_tag
        self.moves = 0
        self.list_delay = list_delay
        # The token server the challenge names, when not the front's own /token.
        self.realm = realm
        # Set-Cookie headers sent with every answer (a session, as Harbor's "sid"), and the
        # Cookie headers received.
        self.set_cookie = set_cookie
        self.cookies: list[str] = []
        self._uses: Counter[str] = Counter()
        self.requests: Counter[str] = Counter()
        self.token_requests: list[dict[str, list[str]]] = []
        self.listed_pages = 0
        self._issued: dict[str, str] = {}
        self._lock = threading.Lock()
        self._client = httpx.Client(base_url=upstream, timeout=30, auth=upstream_auth)
        ThreadingHTTPServer.allow_reuse_address = True
        self._server = QuietServer(("127.0.0.1", port), self._handler_class())
        if tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(tls.certificate, tls.key)
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        """The port the front listens on."""
        return int(self._server.server_address[1])

    @property
    def host(self) -> str:
        """``127.0.0.1:PORT`` of the front."""
        return f"127.0.0.1:{self._server.server_address[1]}"

    @property
    def url(self) -> str:
        """The front's base URL, over HTTPS when it has a certificate."""
        return f"{'https' if self.tls else 'http'}://{self.host}"

    def __enter__(self) -> RegistryFront:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._client.close()

    def _issue_token(self, scope: str) -> str:
        with self._lock:
            token = f"{self.token_prefix}-{len(self._issued) + 1}"
            self._issued[token] = scope
            return token

    def _token_allows(self, header: str | None, repository: str) -> bool:
        if not header or not header.startswith("Bearer "):
            return False
        token = header.removeprefix("Bearer ")
        if self._issued.get(token) != f"repository:{repository}:pull":
            return False
        with self._lock:
            if self.token_uses and self._uses[token] >= self.token_uses:
                return False
            self._uses[token] += 1
        return True

    def _should_fail(self) -> bool:
        with self._lock:
            if self.failures_sent < self.fail_first:
                self.failures_sent += 1
                return True
        return False

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        front = self

        class Handler(ReplyHandler):
            def _handle(self) -> None:  # noqa: PLR0911, PLR0912 (one return per kind of answer)
                split = urlsplit(self.path)
                with front._lock:
                    front.requests[f"{self.command} {split.path}"] += 1
                    if self.headers.get("Authorization"):
                        front.authorizations.append(self.headers["Authorization"])
                    front.cookies += self.headers.get_all("Cookie") or []
                if split.path == "/token":
                    self._token(parse_qs(split.query))
                    return
                if front._should_fail():
                    headers = {"Retry-After": front.retry_after} if front.retry_after else {}
                    self._reply(front.fail_status, b'{"errors":[]}', headers)
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
                    realm = front.realm or f"{front.url}/token"
                    challenge = f'Bearer realm="{realm}",service="front",scope="{scope}"'
                    self._reply(
                        401,
                        b'{"errors":[{"code":"UNAUTHORIZED"}]}',
                        {"WWW-Authenticate": challenge, "Content-Type": "application/json"},
                    )
                    return
                if front.redirect_api_to and "/blobs/" not in split.path and repository:
                    location = front.redirect_api_to + self.path
                    self._reply(front.redirect_status, b"", {"Location": location})
                    return
                if front.redirect_blobs_to and "/blobs/" in split.path:
                    self._reply(307, b"", {"Location": front.redirect_blobs_to + self.path})
                    return
                if front.list_delay and _TAGS_LIST.match(split.path):
                    time.sleep(front.list_delay)
                path = self.path
                if front.moving_tag and split.path.endswith(f"/manifests/{front.moving_tag[0]}"):
                    with front._lock:
                        digests = front.moving_tag[1]
                        path = (
                            self.path.rsplit("/", 1)[0] + "/" + digests[front.moves % len(digests)]
                        )
                        if self.command == "HEAD":
                            front.moves += 1
                referred = _REFERRERS.match(split.path)
                if referred and front.referrers is not None:
                    self._referrers(referred.group("digest"), parse_qs(split.query))
                    return
                history = _HISTORY.match(split.path)
                if history:
                    self._history(history.group("tag"), parse_qs(split.query))
                    return
                listing = _TAGS_LIST.match(split.path)
                if listing and (front.page_size or front.phantom_tags or front.reject_page_size):
                    self._page(listing.group("name"), parse_qs(split.query))
                    return
                status, body, headers = self._forward(front._client, path)
                if front.hide_head_digest:
                    headers = {
                        name: value
                        for name, value in headers.items()
                        if name.lower() != "docker-content-digest"
                    }
                self._reply(status, body, headers)

            def _token(self, query: dict[str, list[str]]) -> None:
                if self.command == "POST":
                    # The OAuth2 flow: a form with grant_type and a refresh token.
                    length = int(self.headers.get("Content-Length") or 0)
                    query = parse_qs(self.rfile.read(length).decode())
                front.token_requests.append(query)
                if front.refresh_token is not None:
                    if query.get("refresh_token") != [front.refresh_token]:
                        self._reply(401, b'{"errors":[{"code":"UNAUTHORIZED"}]}', {})
                        return
                elif front.token_credentials is not None:
                    expected = (
                        "Basic "
                        + base64.b64encode(":".join(front.token_credentials).encode()).decode()
                    )
                    if self.headers.get("Authorization") != expected:
                        self._reply(401, b'{"errors":[{"code":"UNAUTHORIZED"}]}', {})
                        return
                answer: dict[str, object] = {
                    front.token_field: front._issue_token(query.get("scope", [""])[0])
                }
                if front.expires_in is not None:
                    answer["expires_in"] = front.expires_in
                self._reply(200, json.dumps(answer).encode(), {"Content-Type": "application/json"})

            def _referrers(self, digest: str, query: dict[str, list[str]]) -> None:
                # An image index of descriptors, as distribution-spec 1.1 "Listing Referrers"
                # gives it: every referrer, or those of the artifactType asked for (then
                # saying so in OCI-Filters-Applied); a digest with none gives an empty list.
                time.sleep(front.referrers_delay)
                if front.referrers_broken:
                    self._reply(200, b'{"errors": "not an index"}', {})
                    return
                descriptors = (front.referrers or {}).get(digest, [])
                headers = {"Content-Type": "application/vnd.oci.image.index.v1+json"}
                wanted = query.get("artifactType")
                if wanted:
                    descriptors = [d for d in descriptors if d.get("artifactType") in wanted]
                    headers["OCI-Filters-Applied"] = "artifactType"
                index = {
                    "schemaVersion": 2,
                    "mediaType": "application/vnd.oci.image.index.v1+json",
                    "manifests": descriptors,
                }
                self._reply(200, json.dumps(index).encode(), headers)

            def _history(self, tag: str, query: dict[str, list[str]]) -> None:
                records = front.chainguard_history.get(tag)
                if records is None:
                    self._reply(404, b'{"errors":[{"code":"NOT_FOUND"}]}', {})
                    return
                start = query.get("start", [""])[0]
                with front._lock:
                    front.history_starts.append((tag, start))
                chosen = [r for r in records if not start or _stamp(r) >= start]
                page = chosen[: front.history_page_limit]
                self._reply(
                    200,
                    json.dumps({"history": page}).encode(),
                    {"Content-Type": "application/json"},
                )

            def _page(self, name: str, query: dict[str, list[str]]) -> None:
                with front._lock:
                    front.list_queries.append(query)
                if front.reject_page_size and "n" in query:
                    error = {"code": "PAGINATION_NUMBER_INVALID", "message": "invalid number"}
                    body = json.dumps({"errors": [error]}).encode()
                    self._reply(400, body, {"Content-Type": "application/json"})
                    return
                upstream = front._client.get(f"/v2/{name}/tags/list")
                tags = sorted([*(upstream.json().get("tags") or []), *front.phantom_tags])
                asked = int(query.get("n", [0])[0]) or len(tags)
                size = min(asked, front.page_size) if front.page_size else asked
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

            def end_headers(self) -> None:
                for cookie in front.set_cookie:
                    self.send_header("Set-Cookie", cookie)
                super().end_headers()

            do_GET = _handle  # noqa: N815
            do_POST = _handle  # noqa: N815
            do_HEAD = _handle  # noqa: N815

        return Handler
