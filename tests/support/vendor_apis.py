"""Loopback stand-ins for vendor APIs, answering in the shapes their documentation gives.

Each serves one repository's tags from memory, pages them as the real API does, and records
every request (path, query and headers) so tests can assert what was asked and what was sent.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler
from typing import Any, TypeVar
from urllib.parse import parse_qs, quote, urlsplit

from tests.support.front import QuietServer


@dataclass(frozen=True)
class VendorTag:
    """A tag as a vendor API reports it."""

    name: str
    digest: str
    changed: datetime


@dataclass
class Recorded:
    """One request the stand-in received."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes = b""


ApiT = TypeVar("ApiT", bound="JsonApi")


@dataclass
class JsonApi:
    """A loopback JSON server; subclasses answer by overriding :meth:`answer`."""

    requests: list[Recorded] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._server = QuietServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self: ApiT) -> ApiT:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def answer(self, request: Recorded) -> tuple[int, Any, dict[str, str]]:
        raise NotImplementedError

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            wbufsize = -1  # one write per answer; see front.py

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                split = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                recorded = Recorded(
                    self.command,
                    split.path,
                    parse_qs(split.query),
                    {name.lower(): value for name, value in self.headers.items()},
                    self.rfile.read(length) if length else b"",
                )
                with api._lock:
                    api.requests.append(recorded)
                status, document, headers = api.answer(recorded)
                body = json.dumps(document).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            do_GET = _handle  # noqa: N815
            do_POST = _handle  # noqa: N815

        return Handler


def _page(items: list[Any], number: int, size: int) -> tuple[list[Any], bool]:
    start = (number - 1) * size
    return items[start : start + size], start + size < len(items)


@dataclass
class DockerHubApi(JsonApi):
    """``/v2/namespaces/{ns}/repositories/{repo}/tags`` and ``POST /v2/auth/token``.

    A public repository (no ``login``) answers anyone, as Hub does."""

    namespace: str = "library"
    repository: str = "python"
    tags: list[VendorTag] = field(default_factory=list)
    login: tuple[str, str] | None = None
    token: str = "hub-jwt-secret-token"
    # Tags Hub lists without a top-level digest, as it lists older multi-platform tags (a
    # manifest list); each one's digest here is its amd64 image's, under "images".
    without_digest: list[VendorTag] = field(default_factory=list)
    # The first tag-list requests answer 429 with X-Retry-After this many seconds ahead.
    rate_limited: int = 0
    retry_in: int = 1

    def _login(self, request: Recorded) -> tuple[int, Any, dict[str, str]]:
        if request.path == "/v2/users/login":
            return 404, {"message": "deprecated: use /v2/auth/token"}, {}
        sent = json.loads(request.body or b"{}")
        if self.login and (sent.get("identifier"), sent.get("secret")) == self.login:
            return 200, {"access_token": self.token}, {}
        return 401, {"detail": "Incorrect authentication credentials"}, {}

    def answer(self, request: Recorded) -> tuple[int, Any, dict[str, str]]:
        if request.path in {"/v2/auth/token", "/v2/users/login"}:
            return self._login(request)
        if self.rate_limited > 0:
            self.rate_limited -= 1
            ahead = str(int(time.time()) + self.retry_in)
            return 429, {"detail": "rate limited"}, {"X-Retry-After": ahead}
        expected = f"/v2/namespaces/{self.namespace}/repositories/{self.repository}/tags"
        if request.path != expected:
            return 404, {"message": "object not found", "errinfo": {}}, {}
        if self.login and request.headers.get("authorization") != f"Bearer {self.token}":
            return 401, {"detail": "authentication required"}, {}
        size = int(request.query.get("page_size", ["10"])[0])
        number = int(request.query.get("page", ["1"])[0])
        items, more = _page(self.tags, number, size)
        next_url = f"{self.url}{expected}?page={number + 1}&page_size={size}" if more else None
        return (
            200,
            {
                "count": len(self.tags),
                "next": next_url,
                "previous": None,
                "results": [
                    {
                        "creator": 7,
                        "id": index,
                        "images": [
                            {
                                "architecture": "amd64",
                                "digest": tag.digest,
                                "os": "linux",
                                "size": 1024,
                                "status": "active",
                            }
                        ],
                        # Hub's rescans move last_updated; the push stays in tag_last_pushed.
                        "last_updated": (tag.changed + timedelta(days=3)).strftime(
                            "%Y-%m-%dT%H:%M:%S.%fZ"
                        ),
                        "tag_last_pushed": tag.changed.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                        "tag_last_pulled": None,
                        "last_updater_username": "doi",
                        "name": tag.name,
                        "repository": 1,
                        "full_size": 1024,
                        "v2": True,
                        "tag_status": "active",
                        "media_type": "application/vnd.oci.image.index.v1+json",
                        "content_type": "image",
                        "digest": tag.digest,
                    }
                    for index, tag in enumerate(items)
                ]
                + [
                    _without_digest(index, tag)
                    for index, tag in enumerate(self.without_digest if number == 1 else [])
                ],
            },
            {},
        )


def _without_digest(index: int, tag: VendorTag) -> dict[str, Any]:
    """A tag as Docker Hub really lists an older multi-platform official tag: a manifest list,
    no "digest" key at all, full_size 0, last_updated equal to tag_last_pushed, its images
    pushed earlier (without fractions of a second).

    Shaped after Hub's answer for library/rust 1.44.1-slim, captured in fenollp/supergreen's
    TODO.md (commit 7ebccf877f616baff5ad6bb5ec4702b485b9c64b); two of its four images kept.
    """
    pushed = tag.changed.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    image_pushed = (tag.changed - timedelta(hours=7)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "creator": 1156886,
        "id": 105496357 + index,
        "images": [
            {
                "architecture": architecture,
                "features": "",
                "variant": variant,
                "digest": digest,
                "os": "linux",
                "os_features": "",
                "os_version": None,
                "size": 210995124,
                "status": "active",
                "last_pulled": "2026-03-16T09:11:57.07229608Z",
                "last_pushed": image_pushed,
            }
            for architecture, variant, digest in (
                ("arm64", "v8", "sha256:" + "9" * 64),
                ("amd64", None, tag.digest),
            )
        ],
        "last_updated": pushed,
        "last_updater": 1156886,
        "last_updater_username": "doijanky",
        "name": tag.name,
        "repository": 1726866,
        "full_size": 0,
        "v2": True,
        "tag_status": "active",
        "tag_last_pulled": "2026-03-17T03:03:28.263623736Z",
        "tag_last_pushed": pushed,
        "media_type": "application/vnd.docker.distribution.manifest.list.v2+json",
        "content_type": "image",
    }


@dataclass
class QuayApi(JsonApi):
    """``/api/v1/repository/{ns}/{repo}/tag/`` with ``page`` and ``has_additional``."""

    repository: str = "org/app"
    tags: list[VendorTag] = field(default_factory=list)

    def answer(self, request: Recorded) -> tuple[int, Any, dict[str, str]]:
        if request.path != f"/api/v1/repository/{self.repository}/tag/":
            return 404, {"error_message": "Not Found"}, {}
        # Quay caps limit at 100 and lists the newest first.
        size = min(int(request.query.get("limit", ["50"])[0]), 100)
        number = int(request.query.get("page", ["1"])[0])
        newest_first = sorted(self.tags, key=lambda tag: tag.changed, reverse=True)
        items, more = _page(newest_first, number, size)
        return (
            200,
            {
                "tags": [
                    {
                        "name": tag.name,
                        "reversion": False,
                        "start_ts": int(tag.changed.timestamp()),
                        "manifest_digest": tag.digest,
                        "is_manifest_list": True,
                        "size": None,
                        "last_modified": format_datetime(tag.changed, usegmt=True),
                    }
                    for tag in items
                ],
                "page": number,
                "has_additional": more,
            },
            {},
        )


@dataclass
class GitHubPackagesApi(JsonApi):
    """``/{orgs|users}/{owner}/packages/container/{package}/versions`` with Link paging."""

    account: str = "users"
    owner: str = "octo"
    package: str = "app"
    token: str = "ghp_secret_github_token"
    tags: list[VendorTag] = field(default_factory=list)
    untagged: list[str] = field(default_factory=list)
    # From this page on, answer 403, as GitHub does when its rate limit is spent.
    forbidden_from_page: int = 0

    def answer(self, request: Recorded) -> tuple[int, Any, dict[str, str]]:
        expected = f"/{self.account}/{self.owner}/packages/container/{self.package}/versions"
        if request.path != expected:
            return 404, {"message": "Not Found"}, {}
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return 401, {"message": "Bad credentials"}, {}
        versions: dict[str, dict[str, Any]] = {}
        for tag in self.tags:
            version = versions.setdefault(
                tag.digest,
                {
                    "id": len(versions) + 1,
                    "name": tag.digest,
                    "created_at": tag.changed.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "updated_at": tag.changed.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "metadata": {"package_type": "container", "container": {"tags": []}},
                },
            )
            version["metadata"]["container"]["tags"].append(tag.name)
        for digest in self.untagged:
            versions[digest] = {
                "id": len(versions) + 1,
                "name": digest,
                "updated_at": "2024-01-01T00:00:00Z",
                "metadata": {"package_type": "container", "container": {"tags": []}},
            }
        size = int(request.query.get("per_page", ["30"])[0])
        number = int(request.query.get("page", ["1"])[0])
        if self.forbidden_from_page and number >= self.forbidden_from_page:
            return 403, {"message": "API rate limit exceeded"}, {}
        items, more = _page(list(versions.values()), number, size)
        headers = {}
        if more:
            headers["Link"] = (
                f'<{self.url}{expected}?per_page={size}&page={number + 1}>; rel="next"'
            )
        return 200, items, headers


@dataclass
class RegistryTokenGate:
    """The token exchange of a registry's own APIs: a request without the token is answered
    401 with a Bearer challenge naming ``/token`` here and the scope the API needs."""

    token: str = "registry-api-secret-token"
    service: str = "registry.example"

    def refuse(
        self, api: JsonApi, request: Recorded, scope: str
    ) -> tuple[int, Any, dict[str, str]] | None:
        if request.path == "/token":
            return 200, {"token": self.token, "access_token": self.token, "expires_in": 300}, {}
        if request.headers.get("authorization") == f"Bearer {self.token}":
            return None
        challenge = f'Bearer realm="{api.url}/token",service="{self.service}",scope="{scope}"'
        errors = [{"code": "UNAUTHORIZED", "message": "authentication required"}]
        return 401, {"errors": errors}, {"WWW-Authenticate": challenge}


def _grouped(tags: list[VendorTag]) -> dict[str, list[VendorTag]]:
    by_digest: dict[str, list[VendorTag]] = {}
    for tag in tags:
        by_digest.setdefault(tag.digest, []).append(tag)
    return by_digest


def _after_last(
    ordered: list[VendorTag], request: Recorded, *, default: int, most: int
) -> tuple[list[VendorTag], int, bool]:
    """The page after ``last=`` of ``n=`` tags (at most ``most``), its size, and whether more
    follow: the distribution spec's paging, which ACR and GitLab keep."""
    size = min(int(request.query.get("n", [str(default)])[0]), most)
    last = request.query.get("last", [None])[0]
    names = [tag.name for tag in ordered]
    start = names.index(last) + 1 if last in names else 0
    return ordered[start : start + size], size, start + size < len(ordered)


def _milliseconds(moment: datetime) -> str:
    return str(int(moment.timestamp() * 1000))


@dataclass
class GoogleRegistryApi(JsonApi):
    """Artifact Registry's ``tags/list``: the standard ``tags`` and the ``manifest`` map."""

    repository: str = "proj/app"
    tags: list[VendorTag] = field(default_factory=list)
    gate: RegistryTokenGate = field(default_factory=RegistryTokenGate)

    def answer(self, request: Recorded) -> tuple[int, Any, dict[str, str]]:
        refused = self.gate.refuse(self, request, f"repository:{self.repository}:pull")
        if refused is not None:
            return refused
        if request.path != f"/v2/{self.repository}/tags/list":
            return 404, {"errors": [{"code": "NAME_UNKNOWN", "message": "unknown"}]}, {}
        manifest = {
            digest: {
                "imageSizeBytes": "2048",
                "layerId": "",
                "mediaType": "application/vnd.oci.image.index.v1+json",
                "tag": [tag.name for tag in group],
                "timeCreatedMs": _milliseconds(group[0].changed - timedelta(hours=1)),
                "timeUploadedMs": _milliseconds(group[0].changed),
            }
            for digest, group in _grouped(self.tags).items()
        }
        # An untagged digest, as the map lists them too.
        manifest["sha256:" + "0" * 64] = {"tag": [], "timeUploadedMs": "1700000000000"}
        names = sorted(tag.name for tag in self.tags)
        return 200, {"child": [], "manifest": manifest, "name": self.repository, "tags": names}, {}


@dataclass
class AcrApi(JsonApi):
    """ACR's ``/acr/v1/{repository}/_tags`` with ``n``, ``last`` and ``orderby=timedesc``."""

    repository: str = "org/app"
    tags: list[VendorTag] = field(default_factory=list)
    gate: RegistryTokenGate = field(default_factory=RegistryTokenGate)

    def answer(self, request: Recorded) -> tuple[int, Any, dict[str, str]]:
        scope = f"repository:{self.repository}:metadata_read"
        refused = self.gate.refuse(self, request, scope)
        if refused is not None:
            return refused
        path = f"/acr/v1/{self.repository}/_tags"
        if request.path != path:
            return 404, {"errors": [{"code": "NAME_UNKNOWN", "message": "repository unknown"}]}, {}
        ordered = sorted(self.tags, key=lambda tag: tag.changed, reverse=True)
        page, size, more = _after_last(ordered, request, default=100, most=100)
        headers = {}
        if more:
            headers["Link"] = f'<{path}?last={page[-1].name}&n={size}&orderby=timedesc>; rel="next"'
        return (
            200,
            {
                "registry": "example.azurecr.io",
                "imageName": self.repository,
                "tags": [
                    {
                        "name": tag.name,
                        "digest": tag.digest,
                        "createdTime": (tag.changed - timedelta(days=1)).strftime(
                            "%Y-%m-%dT%H:%M:%S.%fZ"
                        ),
                        "lastUpdateTime": tag.changed.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                        "signed": False,
                        "changeableAttributes": {"deleteEnabled": True, "readEnabled": True},
                    }
                    for tag in page
                ],
            },
            headers,
        )


@dataclass
class GitLabApi(JsonApi):
    """GitLab's ``/gitlab/v1/repositories/<path>/tags/list/`` with ``n`` and ``last``."""

    repository: str = "group/project/app"
    tags: list[VendorTag] = field(default_factory=list)
    gate: RegistryTokenGate = field(default_factory=RegistryTokenGate)

    def answer(self, request: Recorded) -> tuple[int, Any, dict[str, str]]:
        refused = self.gate.refuse(self, request, f"repository:{self.repository}:pull")
        if refused is not None:
            return refused
        path = f"/gitlab/v1/repositories/{self.repository}/tags/list/"
        if request.path != path:
            return 404, {"errors": [{"code": "NOT_FOUND", "message": "not found"}]}, {}
        ordered = sorted(self.tags, key=lambda tag: tag.name)
        page, size, more = _after_last(ordered, request, default=100, most=1000)
        headers = {}
        if more:
            headers["Link"] = f'<{path}?last={page[-1].name}&n={size}>; rel="next"'
        stamp = "%Y-%m-%dT%H:%M:%S.%f+00:00"
        return (
            200,
            [
                {
                    "name": tag.name,
                    "digest": tag.digest,
                    "config_digest": "sha256:" + "c" * 64,
                    "media_type": "application/vnd.oci.image.index.v1+json",
                    "size_bytes": 2048,
                    "created_at": (tag.changed - timedelta(days=7)).strftime(stamp),
                    "updated_at": (tag.changed - timedelta(days=1)).strftime(stamp),
                    "published_at": tag.changed.strftime(stamp),
                }
                for tag in page
            ],
            headers,
        )


@dataclass
class HarborApi(JsonApi):
    """Harbor's ``/api/v2.0/projects/{p}/repositories/{r}/artifacts`` (``r`` encoded twice)."""

    project: str = "library"
    repository: str = "team/app"
    tags: list[VendorTag] = field(default_factory=list)
    # A private project answers only these Basic credentials.
    login: tuple[str, str] | None = None

    def answer(self, request: Recorded) -> tuple[int, Any, dict[str, str]]:
        encoded = quote(quote(self.repository, safe=""), safe="")
        path = f"/api/v2.0/projects/{self.project}/repositories/{encoded}/artifacts"
        if request.path != path:
            return 404, {"errors": [{"code": "NOT_FOUND", "message": "not found"}]}, {}
        if self.login is not None:
            pair = base64.b64encode(":".join(self.login).encode()).decode()
            if request.headers.get("authorization") != f"Basic {pair}":
                return 401, {"errors": [{"code": "UNAUTHORIZED", "message": "unauthorized"}]}, {}
        artifacts = [
            {
                "digest": digest,
                "media_type": "application/vnd.oci.image.index.v1+json",
                "push_time": group[0].changed.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                "tags": [
                    {
                        "name": tag.name,
                        "push_time": tag.changed.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                        "immutable": False,
                    }
                    for tag in group
                ],
                "type": "IMAGE",
            }
            for digest, group in _grouped(self.tags).items()
        ]
        size = int(request.query.get("page_size", ["10"])[0])
        number = int(request.query.get("page", ["1"])[0])
        items, more = _page(artifacts, number, size)
        headers = {"X-Total-Count": str(len(artifacts))}
        if more:
            query = f"with_tag=true&page_size={size}&page={number + 1}"
            headers["Link"] = f'<{path}?{query}>; rel="next"'
        return 200, items, headers
