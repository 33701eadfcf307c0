"""GitHub Container Registry: with a token, the GitHub packages API gives tags and times.

``GET https://api.github.com/orgs/{owner}/packages/container/{package}/versions`` (or
``/users/...`` for a personal account) lists versions: ``name`` is the digest, ``updated_at``
its time, ``metadata.container.tags`` its tags; pages follow ``Link: rel="next"``. The API needs
a token (the ghcr.io password is one); without it, the generic OCI path is used.
"""

from __future__ import annotations

from typing import ClassVar
from urllib.parse import quote

from mkdocs_taghistory.errors import RegistryError
from mkdocs_taghistory.registry.oci import MAX_LIST_BYTES, OciVendor, next_page
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


class GhcrVendor(OciVendor):
    """ghcr.io through the GitHub packages API when a token is known."""

    name: ClassVar[str] = "ghcr"
    default_url: ClassVar[str | None] = "https://api.github.com"

    def list_tags(self, fetch: ImageFetch) -> None:
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
                self._read_versions(fetch, url, headers)
            except VendorUnavailable:
                continue
            fetch.complete = True
            return
        raise VendorUnavailable("the GitHub API does not know this package")

    def _read_versions(self, fetch: ImageFetch, url: str, headers: dict[str, str]) -> None:
        reference = fetch.reference
        next_url: str | None = url
        trail = PageTrail(reference, "GitHub's version list", _MAX_PAGES)
        while next_url is not None:
            trail.visit(next_url)
            response, versions = self.http.api_json(
                reference, next_url, "GitHub package versions", max_bytes=MAX_LIST_BYTES,
                headers=headers, fallback_statuses=frozenset({401, 403, 404}),
            )  # fmt: skip
            if not isinstance(versions, list):
                raise RegistryError(reference.name, "the GitHub answer is not a list",
                                    transient=False)  # fmt: skip
            for version in versions:
                if not isinstance(version, dict):
                    continue
                metadata = version.get("metadata")
                container = metadata.get("container") if isinstance(metadata, dict) else None
                tags = container.get("tags") if isinstance(container, dict) else None
                changed = optional_timestamp(version.get("updated_at"))
                for tag in tags if isinstance(tags, list) else []:
                    fetch.add_tag(tag, version.get("name"), changed)
            next_url = next_page(reference, next_url, response.links.get("next", {}).get("url"))
            if next_url is not None and not same_origin(next_url, self.url):
                raise RegistryError(reference.name, "GitHub pointed its next page at another "
                                    "host", transient=False)  # fmt: skip
