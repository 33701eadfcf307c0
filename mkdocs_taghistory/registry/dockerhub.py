"""Docker Hub: its repository API lists every tag with digest and time, a page of 100 at once.

``GET https://hub.docker.com/v2/namespaces/{ns}/repositories/{repo}/tags?page_size=100``
answers ``{"next": URL or null, "results": [{"name", "digest", "last_updated"}, ...]}``, so a
whole repository costs a few calls and no per-tag HEAD.
"""

from __future__ import annotations

import threading
from typing import Any, ClassVar
from urllib.parse import quote

import httpx

from mkdocs_taghistory.errors import RegistryError
from mkdocs_taghistory.registry.oci import OciVendor
from mkdocs_taghistory.registry.vendor import (
    ImageFetch,
    VendorUnavailable,
)
from mkdocs_taghistory.timestamps import optional_timestamp


def _next_page(response: httpx.Response, page: Any, url: str) -> str | None:
    following = page.get("next") if isinstance(page, dict) else None
    return following if isinstance(following, str) and following else None


class DockerHubVendor(OciVendor):
    """docker.io through the Hub API, with a login token when credentials are known."""

    name: ClassVar[str] = "dockerhub"
    default_url: ClassVar[str | None] = "https://hub.docker.com"
    hosts: ClassVar[frozenset[str]] = frozenset({"docker.io"})
    # Its own API, elsewhere than the registry (the OCI path it inherits is on the registry).
    api_on_registry: ClassVar[bool] = False

    def __init__(self, *args: object, **kwargs: object) -> None:
        """As :class:`Vendor`; the login token is fetched once and shared."""
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._login_lock = threading.Lock()
        self._login_header: dict[str, str] | None = None

    def list_tags(self, fetch: ImageFetch) -> None:
        """Every tag with digest and ``last_updated``, following ``next`` on the same host."""
        reference = fetch.reference
        namespace, _, repository = reference.repository.partition("/")
        if not repository or "/" in repository:
            raise VendorUnavailable("Docker Hub repositories have two parts")
        url = (
            f"{self.url}/v2/namespaces/{quote(namespace)}/repositories/{quote(repository)}"
            "/tags?page_size=100"
        )
        for page in self.api_pages(
            fetch, url, "Docker Hub's tag list", _next_page, headers=self._headers(fetch)
        ):
            results = page.get("results") if isinstance(page, dict) else None
            if not isinstance(results, list):
                raise RegistryError("the Docker Hub answer has no 'results'")
            for result in results:
                if isinstance(result, dict):
                    changed = optional_timestamp(result.get("last_updated"))
                    fetch.add_tag(result.get("name"), result.get("digest"), changed)
        fetch.complete = True

    def _headers(self, fetch: ImageFetch) -> dict[str, str]:
        """A Hub login token when docker.io credentials are known; public repos need none."""
        credentials = self.api_credentials(fetch.reference)
        if credentials is None or credentials.is_identity_token:
            return {}
        with self._login_lock:
            if self._login_header is None:
                _, answer = self.http.api_json(
                    fetch.reference,
                    f"{self.url}/v2/users/login",
                    "Docker Hub login",
                    max_bytes=64 * 1024,
                    method="POST",
                    json_body={"username": credentials.username, "password": credentials.password},
                    fallback_statuses=self.fallback_statuses,
                )
                token = answer.get("token") if isinstance(answer, dict) else None
                if not isinstance(token, str) or not token:
                    raise VendorUnavailable("Docker Hub login gave no token")
                self._login_header = {"Authorization": f"Bearer {token}"}
            return self._login_header
