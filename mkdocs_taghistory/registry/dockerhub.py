"""Docker Hub: its repository API lists every tag with digest and time, a page of 100 at once.

``GET https://hub.docker.com/v2/namespaces/{ns}/repositories/{repo}/tags?page_size=100``
answers ``{"next": URL or null, "results": [{"name", "digest", "last_updated",
"tag_last_pushed"}, ...]}``, so a whole repository costs a few calls. "Last Changed" is
``tag_last_pushed`` (when the tag was last pushed) where Hub gives it, else ``last_updated``
(which also moves when Hub rescans an image). A tag listed without a digest (Hub gives none for
some old schema-1 tags) is read by HEAD on the registry, not dropped.

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

from mkdocs_taghistory.history import is_valid_tag
from mkdocs_taghistory.registry.oci import HostedApiVendor
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
        without_digest: list[str] = []
        headers = await self._headers(fetch)
        async for result in self.api_records(
            fetch, url, "Docker Hub's tag list", _next_page, key="results", headers=headers
        ):
            changed = optional_timestamp(
                result.get("tag_last_pushed") or result.get("last_updated")
            )
            if result.get("digest") is None and isinstance(result.get("name"), str):
                without_digest.append(result["name"])
            else:
                fetch.add_tag(result.get("name"), result.get("digest"), changed)
        # Tags Hub gave no digest for: read by HEAD, with the image's creation as their time.
        for tag in without_digest:
            if is_valid_tag(tag) and tag not in fetch.digests:
                fetch.check_room()
                fetch.tags.append(tag)
        fetch.complete = not without_digest

    async def _headers(self, fetch: ImageFetch) -> dict[str, str]:
        """A Hub login token when docker.io credentials are known; public repos need none."""
        credentials = self.api_credentials(fetch.reference)
        if credentials is None or credentials.is_identity_token:
            return {}
        async with self._login_lock:
            if self._login_header is None:
                _, answer = await self.session.api_json(
                    fetch.reference,
                    f"{self.url}/v2/auth/token",
                    "Docker Hub login",
                    max_bytes=64 * 1024,
                    method="POST",
                    json_body={"identifier": credentials.username, "secret": credentials.password},
                    fallback_statuses=self.fallback_statuses,
                )
                token = answer.get("access_token") if isinstance(answer, dict) else None
                if not isinstance(token, str) or not token:
                    raise VendorUnavailable("Docker Hub login gave no token")
                self._login_header = {"Authorization": f"Bearer {token}"}
            return self._login_header
