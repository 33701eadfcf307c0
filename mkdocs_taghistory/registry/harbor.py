"""Harbor: its API lists a repository's artifacts with their tags and push times.

``GET /api/v2.0/projects/{project}/repositories/{repository}/artifacts?with_tag=true&
page_size=100&page=N`` answers ``[{"digest", "push_time", "tags": [{"name", "push_time"}]}]``,
paged with ``Link: <...>; rel="next"`` (Harbor's API description). A repository name with
``/`` in it is URL-encoded twice (``team%252Fapp``). Public projects answer anyone; a private
one takes the host's credentials (HTTP Basic, as Harbor's API does), and without them the
registry is read the generic way. Harbor has no public host: give ``type: harbor`` per host.
"""

from __future__ import annotations

from typing import Any, ClassVar
from urllib.parse import quote

import httpx

from mkdocs_taghistory.registry.oci import HostedApiVendor
from mkdocs_taghistory.registry.vendor_base import ImageFetch, VendorUnavailable, next_page
from mkdocs_taghistory.timestamps import optional_timestamp

PAGE_SIZE = 100


def _next_of(response: httpx.Response, page: Any, url: str) -> str | None:
    return next_page(url, response.links.get("next", {}).get("url"))


class HarborVendor(HostedApiVendor):
    """A Harbor instance through its artifact API."""

    name: ClassVar[str] = "harbor"

    async def list_tags(self, fetch: ImageFetch) -> None:
        """Every tag of every artifact, with the artifact's digest and the tag's push time."""
        reference = fetch.reference
        project, _, repository = reference.repository.partition("/")
        if not repository:
            raise VendorUnavailable("a Harbor repository has a project and a name")
        twice = quote(quote(repository, safe=""), safe="")
        url = (
            f"{self.url}/api/v2.0/projects/{quote(project, safe='')}/repositories/{twice}"
            f"/artifacts?with_tag=true&page_size={PAGE_SIZE}&page=1"
        )
        credentials = self.api_credentials(reference)
        headers = {"Authorization": credentials.basic_authorization()} if credentials else {}
        # An untagged artifact (a platform's image of an index) brought something new too.
        artifacts: set[str] = set()

        def take(artifact: dict[str, Any]) -> None:
            if isinstance(artifact.get("digest"), str):
                artifacts.add(artifact["digest"])
            pushed = optional_timestamp(artifact.get("push_time"))
            for tag in artifact.get("tags") or []:
                if isinstance(tag, dict):
                    changed = optional_timestamp(tag.get("push_time")) or pushed
                    fetch.add_tag(tag.get("name"), artifact.get("digest"), changed)

        await self.api_records(
            fetch,
            url,
            "Harbor's artifact list",
            _next_of,
            take,
            headers=headers,
            progress=lambda: len(artifacts),
        )
        fetch.complete = True
