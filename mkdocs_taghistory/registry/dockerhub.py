"""Docker Hub: its repository API lists every tag with digest and time, a page of 100 at once.

``GET https://hub.docker.com/v2/namespaces/{ns}/repositories/{repo}/tags?page_size=100``
answers ``{"next": URL or null, "results": [{"name", "digest", "last_updated"}, ...]}``, so a
whole repository costs a few calls and no per-tag HEAD.
"""

from __future__ import annotations

import threading
from typing import ClassVar
from urllib.parse import quote

from mkdocs_taghistory.errors import RegistryError
from mkdocs_taghistory.registry.oci import MAX_LIST_BYTES, OciVendor
from mkdocs_taghistory.registry.vendor import (
    MAX_TAGS,
    ImageFetch,
    PageTrail,
    VendorUnavailable,
    same_origin,
)
from mkdocs_taghistory.timestamps import optional_timestamp

# A hundred tags a page: past this many pages an image would pass the tag cap anyway.
_MAX_PAGES = MAX_TAGS // 100 + 1
# Without credentials the API answers these for private or unknown repositories; the
# registry itself then gives a better error, or the tags.
_FALLBACK = frozenset({401, 403, 404})


class DockerHubVendor(OciVendor):
    """docker.io through the Hub API, with a login token when credentials are known."""

    name: ClassVar[str] = "dockerhub"
    default_url: ClassVar[str | None] = "https://hub.docker.com"

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
        url: str | None = (
            f"{self.url}/v2/namespaces/{quote(namespace)}/repositories/{quote(repository)}"
            "/tags?page_size=100"
        )
        headers = self._headers(fetch)
        trail = PageTrail(reference, "Docker Hub's tag list", _MAX_PAGES)
        while url is not None:
            trail.visit(url)
            _, page = self.http.api_json(
                reference, url, "Docker Hub tag list", max_bytes=MAX_LIST_BYTES,
                headers=headers, fallback_statuses=_FALLBACK,
            )  # fmt: skip
            results = page.get("results") if isinstance(page, dict) else None
            if not isinstance(results, list):
                raise RegistryError(reference.name, "the Docker Hub answer has no 'results'",
                                    transient=False)  # fmt: skip
            for result in results:
                if isinstance(result, dict):
                    fetch.add_tag(result.get("name"), result.get("digest"),
                                  optional_timestamp(result.get("last_updated")))  # fmt: skip
            following = page.get("next")
            url = following if isinstance(following, str) and following else None
            if url is not None and not same_origin(url, self.url):
                raise RegistryError(reference.name, "Docker Hub pointed its next page at "
                                    "another host", transient=False)  # fmt: skip
        fetch.complete = True

    def _headers(self, fetch: ImageFetch) -> dict[str, str]:
        """A Hub login token when docker.io credentials are known; public repos need none."""
        credentials = self.api_credentials(fetch.reference)
        if credentials is None or credentials.is_identity_token:
            return {}
        with self._login_lock:
            if self._login_header is None:
                _, answer = self.http.api_json(
                    fetch.reference, f"{self.url}/v2/users/login", "Docker Hub login",
                    max_bytes=64 * 1024, method="POST",
                    json_body={"username": credentials.username,
                               "password": credentials.password},
                    fallback_statuses=_FALLBACK,
                )  # fmt: skip
                token = answer.get("token") if isinstance(answer, dict) else None
                if not isinstance(token, str) or not token:
                    raise VendorUnavailable("Docker Hub login gave no token")
                self._login_header = {"Authorization": f"Bearer {token}"}
            return self._login_header
