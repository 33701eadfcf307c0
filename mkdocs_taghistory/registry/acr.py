"""Azure Container Registry: its metadata API lists tags with digest and time, newest first.

``GET /acr/v1/{repository}/_tags?n=100&orderby=timedesc`` on the registry itself, with the
registry's own token (the 401 challenge names the ``metadata_read`` scope it needs), answers
``{"registry", "imageName", "tags": [{"name", "digest", "createdTime", "lastUpdateTime"}]}``
and pages with ``Link: <...>; rel="next"``, as the Azure SDK's ``list_tag_properties`` reads
it. "Last Changed" is ``lastUpdateTime``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from mkdocs_taghistory.registry.oci import OciVendor
from mkdocs_taghistory.registry.vendor_base import ImageFetch, quoted_path
from mkdocs_taghistory.timestamps import optional_timestamp

PAGE_SIZE = 100


class AcrVendor(OciVendor):
    """``*.azurecr.io`` through ACR's tag API; the registry itself where it will not tell."""

    name: ClassVar[str] = "acr"
    api_on_registry: ClassVar[bool] = True

    @classmethod
    def serves(cls, host: str) -> bool:
        """Every registry under ``azurecr.io``."""
        return host.rsplit(":", 1)[0].endswith(".azurecr.io")

    async def list_tags(self, fetch: ImageFetch) -> None:
        """Every tag with its digest and last update, page by page."""
        reference = fetch.reference
        root = self.url or self.session.root_url(reference)
        path = quoted_path(reference.repository)
        url = f"{root}/acr/v1/{path}/_tags?n={PAGE_SIZE}&orderby=timedesc"

        def take(entry: dict[str, Any]) -> None:
            changed = optional_timestamp(entry.get("lastUpdateTime") or entry.get("createdTime"))
            fetch.add_tag(entry.get("name"), entry.get("digest"), changed)

        await self.registry_api_records(fetch, url, "ACR's tag list", take, key="tags")
        fetch.complete = True
