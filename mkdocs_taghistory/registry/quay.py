"""Quay (quay.io and self-hosted): its API lists active tags with digest and time, paged.

``GET /api/v1/repository/{ns}/{repo}/tag/?onlyActiveTags=true&limit=100&page=N`` answers
``{"tags": [{"name", "manifest_digest", "last_modified", "start_ts"}], "has_additional"}``;
``last_modified`` is an RFC 2822 date and ``start_ts`` seconds since the epoch.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import quote

from mkdocs_taghistory.errors import RegistryError
from mkdocs_taghistory.registry.oci import MAX_LIST_BYTES, OciVendor
from mkdocs_taghistory.registry.vendor import MAX_TAGS, ImageFetch
from mkdocs_taghistory.timestamps import from_unix_seconds, parse_http_date

logger = logging.getLogger(__name__)

# A hundred tags a page: past this many pages an image would pass the tag cap anyway.
_MAX_PAGES = MAX_TAGS // 100 + 1
_FALLBACK = frozenset({401, 403, 404})


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


class QuayVendor(OciVendor):
    """quay.io through its tag API; a private repository falls back to the registry."""

    name: ClassVar[str] = "quay"
    default_url: ClassVar[str | None] = "https://quay.io"

    def list_tags(self, fetch: ImageFetch) -> None:
        """Every active tag, page by page while ``has_additional`` says there is more."""
        reference = fetch.reference
        path = "/".join(quote(part) for part in reference.repository.split("/"))
        for page_number in range(1, _MAX_PAGES + 1):
            url = (
                f"{self.url}/api/v1/repository/{path}/tag/"
                f"?onlyActiveTags=true&limit=100&page={page_number}"
            )
            _, page = self.http.api_json(
                reference, url, "Quay tag list", max_bytes=MAX_LIST_BYTES,
                fallback_statuses=_FALLBACK,
            )  # fmt: skip
            tags = page.get("tags") if isinstance(page, dict) else None
            if not isinstance(tags, list):
                raise RegistryError(reference.name, "the Quay answer has no 'tags'",
                                    transient=False)  # fmt: skip
            known = len(fetch.tags)
            for entry in tags:
                if isinstance(entry, dict):
                    fetch.add_tag(entry.get("name"), entry.get("manifest_digest"), _changed(entry))
            if page.get("has_additional") is not True:
                fetch.complete = True
                return
            if len(fetch.tags) == known:
                # "More" with nothing new on this page: it would say so for ever.
                raise RegistryError(reference.name, "Quay's pages repeat themselves",
                                    transient=False)  # fmt: skip
        raise RegistryError(reference.name, "Quay's pages do not end", transient=False)
