"""What every vendor of tag data implements, and the record of one image's fetch."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import quote

import httpx

from mkdocs_taghistory.errors import RegistryError
from mkdocs_taghistory.filters import TagDemand
from mkdocs_taghistory.history import DigestFacts, TagSnapshot, TagState, is_digest, is_valid_tag
from mkdocs_taghistory.reference import ImageReference
from mkdocs_taghistory.registry.listings import (
    MAX_TAGS,
    Listing,
    check_tag_count,
    next_page,
    page_records,
)
from mkdocs_taghistory.registry.origins import same_origin
from mkdocs_taghistory.registry.responses import parse_json, status_error
from mkdocs_taghistory.registry.session import RegistrySession, VendorUnavailable
from mkdocs_taghistory.settings import Credentials

__all__ = [
    "MAX_TAGS",
    "ImageFetch",
    "Vendor",
    "VendorUnavailable",
    "check_tag_count",
    "next_page",
    "quoted_path",
    "same_origin",
]

logger = logging.getLogger(__name__)

# Vendor APIs give about a hundred tags a page: past this many pages an image would pass the
# tag cap anyway.
MAX_API_PAGES = MAX_TAGS // 100 + 1
# A page of a hundred of Docker Hub's richest records (with their images) is about 250 KB, of
# Harbor's artifacts with their references about 1 MB: a page four times that is no real one.
MAX_API_PAGE_BYTES = 4 * 1024 * 1024

Take = Callable[[dict[str, Any]], None]
"""Takes one record of a listing into the fetch (and drops it)."""
NextOf = Callable[[httpx.Response, Any, str], str | None]
"""``next_of(response, page, url)``: the next page's address, or None after the last."""


def quoted_path(repository: str) -> str:
    """A repository's path in an API's address, each part quoted, the slashes kept."""
    return "/".join(quote(part, safe="") for part in repository.split("/"))


@dataclass
class ImageFetch:
    """One image's progress through the fetch stages.

    Attributes:
        reference: the image.
        vendor: where its tags and times come from.
        known: what an earlier fetch learned of each digest; a digest whose facts are
            complete is not looked up again.
        known_tags: each tag's state after an earlier fetch through this same vendor, which
            a vendor may read on from (Chainguard's history, from its newest record).
        tags: the tags listed, in the order the registry gave them.
        digests: each tag's digest.
        changed: per tag, when the vendor says it last changed (not set by plain OCI).
        facts: what this fetch knows of each digest (looked up, or known before).
        complete: the vendor gave digests and times with the list; no further stage runs.
        skipped: tags listed but not read further, as no table shows them.
        fallback: why the host's vendor API could not serve the image (the generic path did).
        claimed: digests being looked up, or found known: each once, by its first tag's job.
        demand: the tags the image's tables show, and what they ask of each digest.
        referrers_refused: the registry said it has no referrers API: no digest asks again.
        error: the first error, which ends this image's fetch.
    """

    reference: ImageReference
    vendor: Vendor
    known: Mapping[str, DigestFacts] = field(default_factory=dict)
    known_tags: Mapping[str, TagState] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    digests: dict[str, str] = field(default_factory=dict)
    changed: dict[str, datetime | None] = field(default_factory=dict)
    facts: dict[str, DigestFacts] = field(default_factory=dict)
    complete: bool = False
    skipped: list[str] = field(default_factory=list)
    fallback: str | None = None
    claimed: set[str] = field(default_factory=set)
    demand: TagDemand | None = None
    referrers_refused: bool = False
    error: RegistryError | None = None

    def add_tag(self, tag: object, digest: object, changed: datetime | None) -> None:
        """Record a tag a vendor listed with its digest, dropping what is not valid."""
        if not isinstance(tag, str) or not is_valid_tag(tag):
            logger.warning("%s: dropping invalid tag name %r", self.reference.name, tag)
            return
        if not isinstance(digest, str) or not is_digest(digest):
            logger.warning(
                "%s: dropping tag %s, whose digest %r is not valid",
                self.reference.name,
                tag,
                digest,
            )
            return
        self._list(tag, changed)
        self.digests[tag] = digest

    def add_tag_without_digest(self, tag: object, changed: datetime | None) -> None:
        """Record a tag a vendor listed with its time but no digest, which the generic path
        then reads by HEAD (its time stays the vendor's); an invalid name is dropped."""
        if not isinstance(tag, str) or not is_valid_tag(tag):
            logger.warning("%s: dropping invalid tag name %r", self.reference.name, tag)
            return
        self._list(tag, changed)
        self.digests.pop(tag, None)

    def _list(self, tag: str, changed: datetime | None) -> None:
        # Every tag listed has its entry in `changed` (None where the vendor gave no time).
        if tag not in self.changed:
            self.check_room()
            self.tags.append(tag)
        self.changed[tag] = changed

    @property
    def wanted(self) -> frozenset[str]:
        """What the tables ask of each digest beyond its time (:data:`.WANTED_FACTS`)."""
        return self.demand.facts if self.demand is not None else frozenset()

    def snapshot(self, fetched_at: datetime, origin: str) -> TagSnapshot:
        """The snapshot of the finished fetch: a vendor's time per tag, else its image's
        creation; the facts of the digests really looked up (a vendor that gave none leaves
        them to a later fetch)."""
        known = {
            digest: self.facts[digest] for digest in self.digests.values() if digest in self.facts
        }
        return TagSnapshot(
            image=self.reference.name,
            fetched_at=fetched_at,
            tags={
                tag: TagState(
                    digest,
                    self.changed.get(tag) or (known[digest].created if digest in known else None),
                )
                for tag, digest in self.digests.items()
            },
            digests=known,
            source=self.vendor.name,
            origin=origin,
            skipped=tuple(self.skipped),
        )

    def check_room(self) -> None:
        """Refuse an image with more tags than any table can show (a runaway registry)."""
        check_tag_count(len(self.tags) + 1)


class Vendor:
    """A source of tags, digests and times; each method is one stage for one job.

    The stages run across all images at once, each job a task on the fetch's event loop: first
    :meth:`list_tags` per image, then :meth:`read_tag` per tag (:meth:`read_digest`, then
    :meth:`inspect_digest` of its digest if the tag is the first to name one that needs it),
    then :meth:`inspect_digest` of the digests of tags a listing gave, as
    :meth:`digests_to_inspect` names them.
    """

    name: ClassVar[str]
    """The name the ``vendors`` option's ``type`` gives."""
    default_url: ClassVar[str | None] = None
    """Where the vendor's API answers for its own hosts; None for an API on the registry."""
    hosts: ClassVar[frozenset[str]] = frozenset()
    """Registry hosts this vendor reads without a ``vendors`` entry."""
    api_on_registry: ClassVar[bool] = False
    """The API lives on the registry itself, wherever it is (Chainguard's, the OCI API); else
    a vendor type set for another host is asked at that host, never at the public address."""
    fallback_statuses: ClassVar[frozenset[int]] = frozenset({401, 403, 404})
    """Answers of the vendor's API after which the registry is read the generic way: it does
    not know the repository, or will not tell this token about it."""

    @classmethod
    def serves(cls, host: str) -> bool:
        """True for a registry host this vendor reads without a ``vendors`` entry."""
        return host in cls.hosts

    def __init__(self, session: RegistrySession, url: str | None = None) -> None:
        """Speak through ``session``; ``url`` replaces the vendor API's public address."""
        self.session = session
        self.url = (url or self.default_url or "").rstrip("/")

    def api_credentials(self, reference: ImageReference) -> Credentials | None:
        """The credentials this vendor's API is sent for ``reference``: its own host's.

        Never another host's: a ``dockerhub`` type set for another host must not post the
        docker.io password there. Where the API answers (the vendor's public address, the
        host itself, or the ``url`` the site gives for the host) is the site's choice.
        """
        return self.session.credentials_for(reference.host)

    async def api_records(
        self,
        fetch: ImageFetch,
        url: str,
        listing: str,
        next_of: NextOf,
        take: Take,
        *,
        key: str | None = None,
        headers: Mapping[str, str] | None = None,
        progress: Callable[[], int] | None = None,
    ) -> None:
        """Give ``take`` each record of a paged listing of the vendor's API, page by page
        (see :meth:`read_pages`, and :func:`.listings.page_records` for ``key``).

        The listing is read only on the API's own origin: a next page elsewhere would get
        this API's credentials.

        Raises:
            VendorUnavailable: on one of :attr:`fallback_statuses`.
            RegistryError: on any other failure, or a listing that runs away.
        """
        reference = fetch.reference

        async def get(page_url: str) -> tuple[httpx.Response, bytes]:
            return await self.session.api_body(
                reference,
                page_url,
                listing,
                max_bytes=MAX_API_PAGE_BYTES,
                headers=headers,
                fallback_statuses=self.fallback_statuses,
            )

        def checked_next(response: httpx.Response, page: Any, current: str) -> str | None:
            following = next_of(response, page, current)
            if following is not None and not same_origin(following, self.url):
                raise RegistryError(
                    f"{listing} pointed its next page at another host", transient=True
                )
            return following

        await self.read_pages(fetch, url, listing, get, checked_next, take, key, progress)

    async def registry_api_records(
        self,
        fetch: ImageFetch,
        url: str,
        listing: str,
        take: Take,
        *,
        key: str | None = None,
        progress: Callable[[], int] | None = None,
    ) -> None:
        """Give ``take`` each record of a paged listing of an API on the registry itself (with
        its token), following ``Link: <...>; rel="next"`` (see :meth:`read_pages`).

        Raises:
            VendorUnavailable: on one of :attr:`fallback_statuses`.
            RegistryError: on any other failure, or a listing that runs away.
        """
        reference = fetch.reference

        async def get(page_url: str) -> tuple[httpx.Response, bytes]:
            # The registry's own origin only, as for its tag list (session.registry checks it).
            response, body = await self.session.registry(
                reference, "GET", page_url, max_bytes=MAX_API_PAGE_BYTES, origin=self.url or None
            )
            if response.status_code in self.fallback_statuses:
                raise VendorUnavailable(f"HTTP {response.status_code} from {listing}")
            if response.status_code != 200:
                raise status_error(response, f"reading {listing}")
            return response, body

        def link_next(response: httpx.Response, page: Any, current: str) -> str | None:
            return next_page(str(response.url), response.links.get("next", {}).get("url"))

        await self.read_pages(fetch, url, listing, get, link_next, take, key, progress)

    @staticmethod
    async def read_pages(  # noqa: PLR0917 (one paging loop for both kinds of API)
        fetch: ImageFetch,
        url: str,
        listing: str,
        get: Callable[[str], Awaitable[tuple[httpx.Response, bytes]]],
        next_of: NextOf,
        take: Take,
        key: str | None,
        progress: Callable[[], int] | None,
    ) -> None:
        """Each page ``get`` reads, from ``url`` on as ``next_of`` leads, its records given to
        ``take`` and the page dropped before the next is asked for: at most
        :data:`MAX_API_PAGES` pages, none twice, within the caps of :class:`.Listing`.
        ``progress`` tells what the listing brought so far (the fetch's tags unless given)."""
        pages = Listing(
            listing,
            max_pages=MAX_API_PAGES,
            progress=progress or (lambda: len(fetch.tags)),
        )
        next_url: str | None = url
        while next_url is not None:
            pages.visit(next_url)
            response, body = await get(next_url)
            page = parse_json(body, listing)
            records = page_records(page, key, listing)
            pages.received(len(body), len(records))
            del body  # held no longer than its page, nor its page than its records' taking
            next_url = next_of(response, page, next_url)
            del page
            for record in records:
                take(record)
            del records

    async def list_tags(self, fetch: ImageFetch) -> None:
        """Fill ``fetch.tags`` (and, for a vendor that gives them, digests and times)."""
        raise NotImplementedError

    async def read_digest(self, fetch: ImageFetch, tag: str) -> None:
        """Fill ``fetch.digests[tag]`` (and, where known, ``fetch.changed[tag]``)."""
        raise NotImplementedError

    async def read_tag(self, fetch: ImageFetch, tag: str) -> None:
        """Resolve ``tag``, then look its digest up if it is the first tag read to need it: a
        digest's look-up starts as soon as one of its tags is read, while the other tags are
        still being read, rather than after all of them."""
        await self.read_digest(fetch, tag)
        digest = self.claim_digest(fetch, tag)
        if digest is not None:
            await self.inspect_digest(fetch, digest)

    def claim_digest(self, fetch: ImageFetch, tag: str) -> str | None:
        """The digest of ``tag`` if it still needs a look-up that no other job has taken on."""
        return None

    def digests_to_inspect(self, fetch: ImageFetch) -> list[str]:
        """The digests whose creation time must still be fetched (of tags a listing gave with
        their digests, which :meth:`read_tag` never saw)."""
        claimed = (self.claim_digest(fetch, tag) for tag in list(fetch.digests))
        return [digest for digest in claimed if digest is not None]

    async def inspect_digest(self, fetch: ImageFetch, digest: str) -> None:
        """Fill ``fetch.facts[digest]``."""
        raise NotImplementedError
