"""Paged listings read in bounded memory and time, every cap checked as each page arrives.

A listing (a registry's tag list, a vendor API's pages, Chainguard's history of one tag) is
read a page at a time, and each page is dropped once its records are taken: nothing is
collected first and checked after. A listing is stopped, with an error for its image rather
than gigabytes or hours, when it

* leads back to a page already read, or runs past its pages;
* gives :data:`MAX_IDLE_PAGES` pages in a row that bring nothing new (no tag, no version);
* holds more records in all than its cap, or more than :data:`MAX_LISTING_BYTES` of answers;
* names more than :data:`~mkdocs_taghistory.history.MAX_TAGS` tags (:func:`check_tag_count`).

Each page is capped too, in bytes (its reader's ``max_bytes``) and in JSON items
(:func:`.responses.parse_json`), before it is parsed. These are answers no real registry
gives: the cached table may stand in (the errors are ``transient``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urljoin

from mkdocs_taghistory.errors import RegistryError
from mkdocs_taghistory.history import MAX_TAGS

__all__ = [
    "MAX_IDLE_PAGES",
    "MAX_LISTING_BYTES",
    "MAX_LISTING_RECORDS",
    "MAX_TAGS",
    "Listing",
    "check_tag_count",
    "next_page",
    "page_records",
    "page_size",
]

MAX_IDLE_PAGES = 11
"""Pages in a row that bring nothing new: a listing that goes round, or pages on without end.
Ten such pages are still read (a registry may list deleted tags' pages empty)."""
MAX_LISTING_BYTES = 256 * 1024 * 1024
"""Answers one listing may send in all: 50,000 tags of Docker Hub's richest records (about
2.5 KB each, with their images) take half of it. Memory holds one page at a time; this bounds
the time a listing that gives one new tag a page of junk can take."""
MAX_LISTING_RECORDS = 2 * MAX_TAGS
"""Records one listing may hold in all: a tag each, and as many untagged versions or digests
besides."""


def check_tag_count(count: int) -> None:
    """Refuse an image listing more than :data:`MAX_TAGS` tags."""
    if count > MAX_TAGS:
        raise RegistryError(f"more than {MAX_TAGS} tags; not read", transient=True)


def next_page(url: str, link: str | None) -> str | None:
    """The absolute address of a ``Link: rel="next"`` target, or None on the last page."""
    if not link:
        return None
    try:
        return urljoin(url, link)
    except ValueError:
        raise RegistryError(f"unusable next-page link {link!r}", transient=True) from None


def page_records(page: Any, key: str | None, listing: str) -> list[dict[str, Any]]:
    """The records of one page of a listing: the JSON objects of the page itself, where it is
    a list, or of the list its ``key`` holds. Anything else in the list is passed over.

    Raises:
        RegistryError: when there is no such list.
    """
    items = page if key is None else page.get(key) if isinstance(page, dict) else None
    if not isinstance(items, list):
        raise RegistryError(
            f"{listing} has no '{key}' list" if key else f"{listing} is not a list",
            transient=True,
        )
    return [item for item in items if isinstance(item, dict)]


def page_size(page: Any) -> int:
    """How many records a page holds: the entries of its lists and maps, at the top."""
    if isinstance(page, list):
        return len(page)
    if isinstance(page, dict):
        return sum(len(value) for value in page.values() if isinstance(value, list | dict))
    return 0


class Listing:
    """One paged listing as it is read: its pages, bytes and records so far, and whether its
    pages still bring something new.

    Args:
        name: what the listing is, for messages ("the tag list").
        max_pages: the most pages it may have.
        progress: how much the listing has brought so far (tags, versions, records): a page
            after which it has not grown brought nothing new. None: not checked.
        max_records: the most records it may hold in all.
    """

    def __init__(
        self,
        name: str,
        *,
        max_pages: int,
        progress: Callable[[], int] | None = None,
        max_records: int = MAX_LISTING_RECORDS,
    ) -> None:
        self.name = name
        self._max_pages = max_pages
        self._progress = progress
        self._max_records = max_records
        self._seen: set[str] = set()
        self._bytes = 0
        self._records = 0
        self._idle = 0
        self._brought = 0

    def visit(self, url: str) -> None:
        """Record that ``url`` is about to be read, after the pages before it were taken;
        raise if that cannot be right."""
        if url in self._seen:
            raise RegistryError(f"{self.name} leads back to a page already read", transient=True)
        if len(self._seen) >= self._max_pages:
            raise RegistryError(f"{self.name} runs past {self._max_pages} pages", transient=True)
        if self._progress is not None:
            brought = self._progress()
            self._idle = self._idle + 1 if self._seen and brought == self._brought else 0
            self._brought = brought
            if self._idle >= MAX_IDLE_PAGES:
                raise RegistryError(
                    f"{self.name} gave {self._idle} pages in a row without anything new; "
                    "not read on",
                    transient=True,
                )
        self._seen.add(url)

    def received(self, size: int, records: int) -> None:
        """Count a page of ``size`` bytes holding ``records`` records; raise past the caps."""
        self._bytes += size
        self._records += records
        if self._bytes > MAX_LISTING_BYTES:
            raise RegistryError(
                f"{self.name} runs past {MAX_LISTING_BYTES // 2**20} MiB in all; not read on",
                transient=True,
            )
        if self._records > self._max_records:
            raise RegistryError(
                f"{self.name} holds more than {self._max_records} records; not read on",
                transient=True,
            )
