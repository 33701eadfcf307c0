"""Docker Hub: its repository API lists every tag with digest and time, a page of 100 at once.

``GET https://hub.docker.com/v2/namespaces/{ns}/repositories/{repo}/tags?page_size=100``
answers ``{"next": URL or null, "results": [{"name", "digest", "last_updated",
"tag_last_pushed"}, ...]}``, so a whole repository costs a few calls. "Last Changed" is
``tag_last_pushed`` (when the tag was last pushed) where Hub gives it, else ``last_updated``
(which also moves when Hub rescans an image). A tag listed without a digest is read by HEAD on
the registry, not dropped, and keeps Hub's time: Hub gives no top-level ``digest`` for older
multi-platform tags (a ``media_type`` manifest list, such as ``library/rust``'s
``1.44.1-slim``: the key is missing, ``tag_last_pushed`` is there), nor for old schema-1 pushes.

Public repositories answer anyone. With docker.io credentials the API is sent a bearer token
from ``POST /v2/auth/token`` (``identifier``/``secret``), which takes a password, a personal
access token or an organisation access token; the older ``/v2/users/login`` is deprecated. A
429 is waited out as ``X-Retry-After`` (a Unix time) asks, as for every request.
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar
from urllib.parse import quote

import httpx

from mkdocs_taghistory.registry.oci import HostedApiVendor
from mkdocs_taghistory.registry.responses import parse_json
from mkdocs_taghistory.registry.vendor_base import (
    ImageFetch,
    VendorUnavailable,
)
from mkdocs_taghistory.timestamps import optional_timestamp


def _next_page(response: httpx.Response, page: Any, url: str) -> str | None:
    following = page.get("next") if isinstance(page, dict) else None
    return following if isinstance(following, str) and following else None


class DockerHubVendor(HostedApiVendor):
    """docker.io through the Hub API, with a login token when credentials are known."""

    name: ClassVar[str] = "dockerhub"
    default_url: ClassVar[str | None] = "https://hub.docker.com"
    hosts: ClassVar[frozenset[str]] = frozenset({"docker.io"})

    def __init__(self, *args: object, **kwargs: object) -> None:
        """As :class:`Vendor`; the login token is fetched once and shared."""
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._login_lock = asyncio.Lock()
        self._login_header: dict[str, str] | None = None

    async def list_tags(self, fetch: ImageFetch) -> None:
        """Every tag with digest and ``last_updated``, following ``next`` on the same host."""
        reference = fetch.reference
        namespace, _, repository = reference.repository.partition("/")
        if not repository or "/" in repository:
            raise VendorUnavailable("Docker Hub repositories have two parts")
        url = (
            f"{self.url}/v2/namespaces/{quote(namespace)}/repositories/{quote(repository)}"
            "/tags?page_size=100"
        )
        headers = await self._headers(fetch)
        undigested = False

        def take(result: dict[str, Any]) -> None:
            nonlocal undigested
            changed = optional_timestamp(
                result.get("tag_last_pushed") or result.get("last_updated")
            )
            if result.get("digest") is None:
                # Read by HEAD on the registry; its time is still Hub's push time.
                undigested = True
                fetch.add_tag_without_digest(result.get("name"), changed)
            else:
                fetch.add_tag(result.get("name"), result.get("digest"), changed)

        await self.api_records(
            fetch, url, "Docker Hub's tag list", _next_page, take, key="results", headers=headers
        )
        fetch.complete = not undigested

    async def _headers(self, fetch: ImageFetch) -> dict[str, str]:
        """A Hub login token when docker.io credentials are known; public repos need none."""
        credentials = self.api_credentials(fetch.reference)
        if credentials is None or credentials.is_identity_token:
            return {}
        async with self._login_lock:
            if self._login_header is None:
                _, body = await self.session.api_body(
                    fetch.reference,
                    f"{self.url}/v2/auth/token",
                    "Docker Hub login",
                    max_bytes=64 * 1024,
                    method="POST",
                    json_body={"identifier": credentials.username, "secret": credentials.password},
                    fallback_statuses=self.fallback_statuses,
                )
                answer = parse_json(body, "Docker Hub login")
                token = answer.get("access_token") if isinstance(answer, dict) else None
                if not isinstance(token, str) or not token:
                    raise VendorUnavailable("Docker Hub login gave no token")
                self._login_header = {"Authorization": f"Bearer {token}"}
            return self._login_header
