"""GitHub Container Registry: with a token, the GitHub packages API gives tags and times.

``GET https://api.github.com/orgs/{owner}/packages/container/{package}/versions`` (or
``/users/...`` for a personal account) lists versions: ``name`` is the digest, ``updated_at``
its time, ``metadata.container.tags`` its tags; pages follow ``Link: rel="next"``. The API needs
a token (the ghcr.io password is one); without it, the generic OCI path is used.
"""

from __future__ import annotations

from typing import Any, ClassVar
from urllib.parse import quote

import httpx

from mkdocs_taghistory.registry.oci import HostedApiVendor
from mkdocs_taghistory.registry.vendor_base import ImageFetch, VendorUnavailable, next_page
from mkdocs_taghistory.timestamps import optional_timestamp


class GhcrVendor(HostedApiVendor):
    """ghcr.io through the GitHub packages API when a token is known."""

    name: ClassVar[str] = "ghcr"
    default_url: ClassVar[str | None] = "https://api.github.com"
    hosts: ClassVar[frozenset[str]] = frozenset({"ghcr.io"})

    async def list_tags(self, fetch: ImageFetch) -> None:
        """Every tagged version; an organisation first, then a user of that name."""
        reference = fetch.reference
        credentials = self.api_credentials(reference)
        if credentials is None:
            raise VendorUnavailable("the GitHub API needs a token")
        owner, _, package = reference.repository.partition("/")
        if not package:
            raise VendorUnavailable("a GHCR image has an owner and a package name")
        headers = {
            "Authorization": f"Bearer {credentials.password}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": "2022-11-28",
        }
        for account in ("orgs", "users"):
            url = (
                f"{self.url}/{account}/{quote(owner)}/packages/container/"
                f"{quote(package, safe='')}/versions?per_page=100"
            )
            try:
                await self._read_versions(fetch, url, headers)
            except VendorUnavailable:
                continue
            fetch.complete = True
            return
        raise VendorUnavailable("the GitHub API does not know this package")

    async def _read_versions(self, fetch: ImageFetch, url: str, headers: dict[str, str]) -> None:
        # A page of untagged versions (builds pushed by digest) brought something new all the
        # same: a version not seen before.
        versions: set[str] = set()

        def next_of(response: httpx.Response, page: Any, current: str) -> str | None:
            return next_page(current, response.links.get("next", {}).get("url"))

        def take(version: dict[str, Any]) -> None:
            if isinstance(version.get("name"), str):
                versions.add(version["name"])
            metadata = version.get("metadata")
            container = metadata.get("container") if isinstance(metadata, dict) else None
            tags = container.get("tags") if isinstance(container, dict) else None
            changed = optional_timestamp(version.get("updated_at"))
            for tag in tags if isinstance(tags, list) else []:
                fetch.add_tag(tag, version.get("name"), changed)

        await self.api_records(
            fetch,
            url,
            "GitHub's version list",
            next_of,
            take,
            headers=headers,
            progress=lambda: len(versions),
        )
