"""Google Artifact Registry and Container Registry: the tag list carries every digest's tags
and times, so one request reads an image.

``GET /v2/<name>/tags/list`` on ``*-docker.pkg.dev``, ``gcr.io`` and ``*.gcr.io`` answers, beside
the standard ``tags``, a ``manifest`` map: digest -> ``{"tag": [...], "timeCreatedMs",
"timeUploadedMs", "mediaType", "imageSizeBytes"}`` (go-containerregistry's ``pkg/v1/google``
reads the same). "Last Changed" is ``timeUploadedMs``, when the digest was pushed there. A
registry that gives no map (a ``google`` type set for another host) is read the generic way.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, ClassVar

from mkdocs_taghistory.registry.oci import OciVendor
from mkdocs_taghistory.registry.vendor_base import ImageFetch
from mkdocs_taghistory.timestamps import from_unix_seconds

logger = logging.getLogger(__name__)


def _milliseconds(value: object) -> datetime | None:
    """A time in milliseconds since the epoch, as Google writes it (a string of digits)."""
    text = str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    if not text.isdigit() or len(text) > 16:
        return None
    try:
        moment = from_unix_seconds(int(text) / 1000)
    except ValueError:
        return None
    # Google writes 0 where it knows no time.
    return moment if int(text) > 0 else None


class GoogleVendor(OciVendor):
    """Artifact Registry and gcr.io: tags, digests and push times from the tag list alone."""

    name: ClassVar[str] = "google"
    hosts: ClassVar[frozenset[str]] = frozenset({"gcr.io"})
    api_on_registry: ClassVar[bool] = True

    @classmethod
    def serves(cls, host: str) -> bool:
        """gcr.io and its regions (``eu.gcr.io``), Artifact Registry (``europe-docker.pkg.dev``)."""
        hostname = host.rsplit(":", 1)[0]
        return (
            hostname in cls.hosts
            or hostname.endswith(".gcr.io")
            or hostname.endswith("-docker.pkg.dev")
        )

    async def list_tags(self, fetch: ImageFetch) -> None:
        """Every tag with its digest and push time, from the tag list's ``manifest`` map."""
        listed: dict[str, None] = {}
        mapped = False

        def take(page: dict[str, Any]) -> None:
            # Each page's map is read as it arrives, not kept: the tag cap (add_tag) and the
            # pages that bring nothing new are checked page by page.
            nonlocal mapped
            self.take_tags(fetch, page, listed)
            manifests = page.get("manifest")
            for digest, entry in manifests.items() if isinstance(manifests, dict) else ():
                mapped = True
                if not isinstance(entry, dict) or not isinstance(entry.get("tag"), list):
                    continue
                uploaded = _milliseconds(entry.get("timeUploadedMs")) or _milliseconds(
                    entry.get("timeCreatedMs")
                )
                for tag in entry["tag"]:
                    fetch.add_tag(tag, digest, uploaded)

        await self.tag_list_pages(fetch, take, lambda: len(listed) + len(fetch.tags))
        if not mapped:
            logger.debug("%s: the tag list has no manifest map; read by HEAD", fetch.reference.name)
            fetch.tags = list(listed)
            return
        # A tag the list names but no manifest claims is read by HEAD, as on the generic path.
        unclaimed = [tag for tag in listed if tag not in fetch.digests]
        for tag in unclaimed:
            fetch.check_room()
            fetch.tags.append(tag)
        fetch.complete = not unclaimed
