"""Chainguard's registry (cgr.dev): the tag history API gives each tag's true "Last Changed".

``GET /v2/<org>/<image>/_chainguard/history/<tag>`` answers, with the registry's own bearer
token, ``{"history": [{"updateTimestamp": ..., "digest": ...}, ...]}`` oldest first, at most
1000 records at a time; a full answer is followed by another from the last timestamp on
(``?start=``). The newest record is the tag's digest and its time, so no HEAD is needed.

Once a tag's newest record is cached, a refresh asks only from that record's time on: a tag
that did not move answers with that one record, not the whole history of every tag again.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import quote

from mkdocs_taghistory.errors import RegistryError
from mkdocs_taghistory.history import is_digest
from mkdocs_taghistory.reference import ImageReference
from mkdocs_taghistory.registry.listings import Listing
from mkdocs_taghistory.registry.oci import OciVendor
from mkdocs_taghistory.registry.responses import parse_json, status_error
from mkdocs_taghistory.registry.vendor_base import ImageFetch, VendorUnavailable
from mkdocs_taghistory.timestamps import format_timestamp, parse_timestamp

logger = logging.getLogger(__name__)

PAGE_LIMIT = 1000
# 20,000 records: a tag that moved every day for fifty years. A history that never ends is an
# error for its image after that, not gigabytes.
_MAX_PAGES = 20
_MAX_RECORDS = _MAX_PAGES * PAGE_LIMIT
# A full page of a thousand records is about 130 KB: one of a megabyte is no history page.
_MAX_PAGE_BYTES = 1024 * 1024


def _field(record: dict[str, Any], name: str) -> Any:
    # The API once wrote its keys capitalised; both spellings are in the wild.
    return record.get(name, record.get(name[0].upper() + name[1:]))


class ChainguardVendor(OciVendor):
    """cgr.dev: tags from the OCI list, digest and time per tag from the history API."""

    name: ClassVar[str] = "chainguard"
    hosts: ClassVar[frozenset[str]] = frozenset({"cgr.dev"})
    api_on_registry: ClassVar[bool] = True

    def history_url(self, reference: ImageReference, tag: str) -> str:
        """Where the history of ``tag`` is read (``url`` replaces the registry's address)."""
        base = (
            f"{self.url}/v2/{reference.repository}"
            if self.url
            else (self.session.base_url(reference))
        )
        return f"{base}/_chainguard/history/{quote(tag, safe='')}"

    async def tag_history(
        self, fetch: ImageFetch, tag: str, since: datetime | None = None
    ) -> tuple[datetime, str] | None:
        """The newest valid record of ``tag``'s history (from ``since`` on, if given);
        None when the history holds none there.

        Raises:
            VendorUnavailable: when the API does not know the tag.
        """
        reference = fetch.reference
        newest: tuple[datetime, str] | None = None
        start: str | None = format_timestamp(since) if since is not None else None
        pages = Listing(
            f"the history of tag {tag}",
            max_pages=_MAX_PAGES,
            max_records=_MAX_RECORDS,
        )
        while True:
            url = self.history_url(reference, tag)
            if start:
                url = f"{url}?start={quote(start)}"
            pages.visit(url)
            response, body = await self.session.registry(
                reference, "GET", url, max_bytes=_MAX_PAGE_BYTES, origin=self.url or None
            )
            if response.status_code in {403, 404} and newest is None:
                # A tag the history API does not know, or will not tell this token about:
                # read it the generic way.
                raise VendorUnavailable(f"HTTP {response.status_code} from {pages.name}")
            if response.status_code != 200:
                raise status_error(response, f"reading the history of tag {tag}")
            document = parse_json(body, f"history of tag {tag}")
            page = document.get("history") if isinstance(document, dict) else None
            if not isinstance(page, list):
                raise RegistryError(
                    f"the history of tag {tag} has no 'history' list", transient=True
                )
            pages.received(len(body), len(page))
            before = newest
            for record in page:
                parsed = self._record(reference, tag, record)
                if parsed is not None and (newest is None or parsed > newest):
                    newest = parsed
            if len(page) < PAGE_LIMIT or newest is None or newest == before:
                return newest
            start = format_timestamp(newest[0])

    @staticmethod
    def _record(reference: ImageReference, tag: str, record: object) -> tuple[datetime, str] | None:
        if not isinstance(record, dict):
            return None
        digest, stamp = _field(record, "digest"), _field(record, "updateTimestamp")
        try:
            moment = parse_timestamp(stamp) if isinstance(stamp, str) else None
        except ValueError:
            moment = None
        if moment is None or not isinstance(digest, str) or not is_digest(digest):
            logger.warning("%s: dropping an invalid history record of tag %s", reference.name, tag)
            return None
        return moment, digest

    async def read_digest(self, fetch: ImageFetch, tag: str) -> None:
        """The tag's newest history record; a tag without history is read by HEAD."""
        known = fetch.known_tags.get(tag)
        since = known.changed if known is not None else None
        try:
            newest = await self.tag_history(fetch, tag, since)
        except VendorUnavailable:
            newest = None
        else:
            if newest is None and known is not None and since is not None:
                # Nothing from the cached record's time on: the tag has not moved since.
                fetch.digests[tag], fetch.changed[tag] = known.digest, since
                return
        if newest is None:
            await super().read_digest(fetch, tag)
            return
        fetch.changed[tag], fetch.digests[tag] = newest
