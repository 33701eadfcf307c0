"""Quay (quay.io and self-hosted): its API lists active tags with digest and time, paged.

``GET /api/v1/repository/{ns}/{repo}/tag/?onlyActiveTags=true&limit=100&page=N`` answers
``{"tags": [{"name", "manifest_digest", "last_modified", "start_ts"}], "has_additional"}``;
``last_modified`` is an RFC 2822 date and ``start_ts`` seconds since the epoch.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, ClassVar

import httpx

from mkdocs_taghistory.registry.oci import HostedApiVendor
from mkdocs_taghistory.registry.vendor_base import ImageFetch, quoted_path
from mkdocs_taghistory.timestamps import from_unix_seconds, parse_http_date

logger = logging.getLogger(__name__)


def _changed(entry: dict[str, Any]) -> datetime | None:
    modified = entry.get("last_modified")
    if isinstance(modified, str):
        try:
            return parse_http_date(modified)
        except ValueError:
            pass
    started = entry.get("start_ts")
    if isinstance(started, int) and not isinstance(started, bool) and started > 0:
        try:
            return from_unix_seconds(started)
        except ValueError:
            logger.warning("Dropping invalid timestamp %r", started)
    return None


class QuayVendor(HostedApiVendor):
    """quay.io through its tag API; a private repository falls back to the registry."""

    name: ClassVar[str] = "quay"
    default_url: ClassVar[str | None] = "https://quay.io"
    hosts: ClassVar[frozenset[str]] = frozenset({"quay.io"})

    async def list_tags(self, fetch: ImageFetch) -> None:
        """Every active tag, page by page while ``has_additional`` says there is more."""
        path = quoted_path(fetch.reference.repository)
        base = f"{self.url}/api/v1/repository/{path}/tag/?onlyActiveTags=true&limit=100&page="

        def next_of(response: httpx.Response, page: Any, url: str) -> str | None:
            # "More" with nothing new page after page is stopped as any listing is.
            if not isinstance(page, dict) or page.get("has_additional") is not True:
                return None
            return base + str(int(url.rsplit("=", 1)[1]) + 1)

        def take(entry: dict[str, Any]) -> None:
            fetch.add_tag(entry.get("name"), entry.get("manifest_digest"), _changed(entry))

        await self.api_records(fetch, base + "1", "Quay's tag list", next_of, take, key="tags")
        fetch.complete = True
