"""GitLab's container registry: its own tag API gives digest and push time per tag.

``GET /gitlab/v1/repositories/<path>/tags/list/?n=1000`` on the registry, with the registry's
token, answers ``[{"name", "digest", "config_digest", "media_type", "size_bytes", "created_at",
"updated_at", "published_at"}]``, paged with ``Link: <...>; rel="next"``. It exists where
GitLab's metadata database is on (gitlab.com); elsewhere it answers 404 and the registry is
read the generic way. "Last Changed" is ``published_at``: when the tag last pointed anew.
"""

from __future__ import annotations

from typing import Any, ClassVar

from mkdocs_taghistory.registry.oci import TAGS_PER_PAGE, OciVendor
from mkdocs_taghistory.registry.vendor_base import ImageFetch, quoted_path
from mkdocs_taghistory.timestamps import optional_timestamp


class GitLabVendor(OciVendor):
    """registry.gitlab.com through GitLab's tag API."""

    name: ClassVar[str] = "gitlab"
    hosts: ClassVar[frozenset[str]] = frozenset({"registry.gitlab.com"})
    api_on_registry: ClassVar[bool] = True

    async def list_tags(self, fetch: ImageFetch) -> None:
        """Every tag with its digest and publication time, page by page."""
        reference = fetch.reference
        root = self.url or self.session.root_url(reference)
        path = quoted_path(reference.repository)
        url = f"{root}/gitlab/v1/repositories/{path}/tags/list/?n={TAGS_PER_PAGE}"

        def take(entry: dict[str, Any]) -> None:
            changed = optional_timestamp(
                entry.get("published_at") or entry.get("updated_at") or entry.get("created_at")
            )
            fetch.add_tag(entry.get("name"), entry.get("digest"), changed)

        await self.registry_api_records(fetch, url, "GitLab's tag list", take)
        fetch.complete = True
