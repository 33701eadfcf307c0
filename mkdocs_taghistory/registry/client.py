"""Fetch many images at once: each through its vendor, all on one event loop.

A fetch runs in stages across all images at once (tag lists, then one job per tag, which also
looks up the digest it is the first to name, then the digests of tags a listing gave), each
stage a set of jobs taken by ``concurrency``
workers on one asyncio event loop, every request through one :class:`RegistrySession`: a
connection pool a host, HTTP/2 where the host offers it.

Why async, on HTTP/2: measured in ``bench/engine.py`` (``bench/RESULTS.md``), against
Debian's ``docker-registry`` over TLS behind a latency proxy, one ``httpx.AsyncClient``
connection with up to 100 streams fetched the 300-tag image faster, with less client CPU a
request and no error, than the sync client on a thread pool over 16 HTTP/1.1 connections,
which an earlier benchmark had chosen on HTTP/1.1 alone; the sync client over HTTP/2 lost
requests to races inside httpcore (its HTTP/2 connection is not thread-safe).

The front ends stay synchronous: :meth:`RegistryClient.fetch_many` runs the fetch on an event
loop of its own, closed when it returns (on a thread of its own when the caller is inside a
running loop).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

import httpx

from mkdocs_taghistory.errors import RegistryError
from mkdocs_taghistory.filters import TagDemand
from mkdocs_taghistory.history import TagSnapshot
from mkdocs_taghistory.reference import ImageReference
from mkdocs_taghistory.registry.counters import FetchCounters
from mkdocs_taghistory.registry.event_loop import run_to_completion
from mkdocs_taghistory.registry.oci import OciVendor
from mkdocs_taghistory.registry.referrers import look_up_referrers, referred_digests
from mkdocs_taghistory.registry.session import RegistrySession
from mkdocs_taghistory.registry.vendor_base import ImageFetch, Vendor, VendorUnavailable
from mkdocs_taghistory.registry.vendors import VENDOR_CLASSES, load_vendor
from mkdocs_taghistory.settings import ClientSettings, VendorSetting
from mkdocs_taghistory.timestamps import utc_now

__all__ = [
    "VENDORS",
    "VENDOR_TYPES",
    "ClientSettings",
    "FetchCounters",
    "FetchRun",
    "RegistryClient",
    "VendorSetting",
]

T = TypeVar("T")

Progress = Callable[[str, int, int], None]
"""Told ``(stage, jobs done, jobs in the stage)`` as a fetch goes on."""

logger = logging.getLogger(__name__)

VENDORS: tuple[type[Vendor], ...] = tuple(map(load_vendor, VENDOR_CLASSES))
"""Every vendor: a new one is its file under ``registry/`` and its entry in
:data:`~mkdocs_taghistory.registry.vendors.VENDOR_CLASSES`."""

VENDOR_TYPES: Mapping[str, type[Vendor]] = {vendor.name: vendor for vendor in VENDORS}
"""Vendor classes by the name the ``vendors`` option uses."""


def default_vendor(host: str) -> type[Vendor]:
    """The vendor whose API gives the true "Last Changed" on ``host``; the generic path where
    none does."""
    return next((vendor for vendor in VENDORS if vendor.serves(host)), OciVendor)


class RegistryClient:
    """Fetches the tags of many images concurrently, each from the API that suits its host."""

    def __init__(
        self,
        settings: ClientSettings | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        *,
        progress: Progress | None = None,
    ) -> None:
        """Reach registries by ``settings``; nothing is opened before a fetch.

        Args:
            settings: how to reach registries.
            transport: an httpx transport to use instead of the network (for embedding).
            progress: told of each finished job of each stage (for a progress bar).
        """
        self.settings = settings or ClientSettings()
        self._transport = transport
        self._progress = progress
        self.counters = FetchCounters()
        """Requests, retries, connections and HTTP versions of every fetch so far."""

    @property
    def requests_sent(self) -> int:
        """How many HTTP requests this client has sent, token requests and retries included."""
        return self.counters.requests

    def fetch_many(
        self,
        references: Iterable[ImageReference],
        previous: Mapping[ImageReference, TagSnapshot] | None = None,
        demand: Mapping[ImageReference, TagDemand] | None = None,
    ) -> dict[ImageReference, TagSnapshot | RegistryError]:
        """Fetch the tags of every image concurrently.

        Args:
            references: the images.
            previous: per image, its last fetch: what it learned of each digest (its facts;
                a digest's content never changes) is not asked again, and the vendor that
                made it may read on from it (Chainguard's history asks only for records
                since).
            demand: per image, the tags some table shows; where a tag costs requests of its
                own (the generic path, Chainguard's history), the others are listed as
                skipped and never read. An image without one has every tag read.

        Returns:
            Per image, its snapshot or the error that stopped its fetch.
        """
        wanted = Wanted(list(dict.fromkeys(references)), previous or {}, demand or {})
        return run_to_completion(lambda: self._fetch_all(wanted))

    async def _fetch_all(self, wanted: Wanted) -> dict[ImageReference, TagSnapshot | RegistryError]:
        async with RegistrySession(
            self.settings, transport=self._transport, counters=self.counters
        ) as session:
            return await FetchRun(session, self.settings, self._progress).run(wanted)


@dataclass(frozen=True)
class Wanted:
    """What a fetch is asked for: the images, what is known of them, and the tags the tables
    show (see :meth:`RegistryClient.fetch_many`)."""

    references: list[ImageReference]
    previous: Mapping[ImageReference, TagSnapshot]
    demand: Mapping[ImageReference, TagDemand]


class FetchRun:
    """One fetch of many images: its vendors (one object per vendor and address, so a login
    is shared by every image it reads) and its stages."""

    def __init__(
        self, session: RegistrySession, settings: ClientSettings, progress: Progress | None = None
    ) -> None:
        """Fetch through ``session`` by ``settings``, telling ``progress`` of each job done."""
        self.session = session
        self.settings = settings
        self._progress = progress
        self._oci = OciVendor(session)
        self._vendors: dict[tuple[str, str | None], Vendor] = {(OciVendor.name, None): self._oci}

    def vendor_for(self, reference: ImageReference) -> Vendor:
        """The vendor that reads ``reference``: the ``vendors`` setting, else by host."""
        setting = self.settings.vendors.get(reference.host)
        vendor = VENDOR_TYPES[setting.type] if setting else default_vendor(reference.host)
        url = setting.url if setting else None
        if url is None and not vendor.api_on_registry and not vendor.serves(reference.host):
            # A vendor type on a host of its own (self-hosted Quay, a mirror) is asked at that
            # host, never at the vendor's public address, which knows nothing of it.
            scheme = "http" if self.session.is_plain_http(reference) else "https"
            url = f"{scheme}://{reference.host}"
        key = (vendor.name, url)
        if key not in self._vendors:
            self._vendors[key] = vendor(self.session, url)
        return self._vendors[key]

    async def run(self, wanted: Wanted) -> dict[ImageReference, TagSnapshot | RegistryError]:
        """Every image's snapshot or error."""
        await self._look_up_credentials(wanted.references)
        fetches = [
            self._start(reference, wanted.previous.get(reference), wanted.demand.get(reference))
            for reference in wanted.references
        ]
        self.session.start_fetch()
        await self._stage("tag lists", fetches, lambda fetch: [fetch], self._list_tags)
        for fetch in fetches:
            shown = wanted.demand.get(fetch.reference)
            if shown is not None and not fetch.complete and fetch.error is None:
                # What no table shows is never asked for, tag by tag.
                pending = [tag for tag in fetch.tags if tag not in fetch.digests]
                fetch.skipped = [tag for tag in pending if not shown.wants(tag)]
                skipped = set(fetch.skipped)
                fetch.tags = [tag for tag in fetch.tags if tag not in skipped]
        await self._stage(
            "tags",
            fetches,
            # Tags a vendor gave no digest for (all of them, on the generic path).
            lambda fetch: (
                []
                if fetch.complete
                else [(fetch, tag) for tag in fetch.tags if tag not in fetch.digests]
            ),
            lambda job: job[0].vendor.read_tag(*job),
        )
        await self._stage(
            "new digests",
            fetches,
            lambda fetch: [(fetch, digest) for digest in fetch.vendor.digests_to_inspect(fetch)],
            lambda job: job[0].vendor.inspect_digest(*job),
        )
        # One digest of each image first: a registry without the referrers API says so once,
        # and no other digest of its images asks.
        referred = {fetch.reference: referred_digests(fetch) for fetch in fetches}

        def first_of(fetch: ImageFetch) -> list[tuple[ImageFetch, str]]:
            return [(fetch, digest) for digest in referred[fetch.reference][:1]]

        def rest_of(fetch: ImageFetch) -> list[tuple[ImageFetch, str]]:
            return [(fetch, digest) for digest in referred[fetch.reference][1:]]

        for jobs in (first_of, rest_of):
            await self._stage(
                "referrers",
                fetches,
                jobs,
                lambda job: look_up_referrers(job[0].vendor, *job),
                extra=True,
            )
        fetched_at = utc_now()
        for fetch in fetches:
            # Which path each image took, for --verbose: a vendor API that gave up (a GitHub
            # token without read:packages, say) is otherwise only seen in the times shown.
            path = fetch.vendor.name if fetch.vendor.name != "oci" else "the generic path"
            why = f" (not {fetch.fallback})" if fetch.fallback else ""
            logger.debug(
                "%s: read by %s%s; %d tags, %d skipped",
                fetch.reference.name,
                path,
                why,
                len(fetch.digests),
                len(fetch.skipped),
            )
        return {
            fetch.reference: fetch.error
            or fetch.snapshot(
                fetched_at, fetch.vendor.url or self.session.base_url(fetch.reference)
            )
            for fetch in fetches
        }

    def _start(
        self, reference: ImageReference, last: TagSnapshot | None, demand: TagDemand | None
    ) -> ImageFetch:
        vendor = self.vendor_for(reference)
        if last is None:
            return ImageFetch(reference, vendor, demand=demand)
        return ImageFetch(
            reference,
            vendor,
            known=last.digests,
            known_tags=last.tags if last.source == vendor.name else {},
            demand=demand,
        )

    async def _look_up_credentials(self, references: Sequence[ImageReference]) -> None:
        """Look up each host's credentials before the first request, on threads: a Docker
        credential helper is a program to run, which must not stall the event loop."""
        if self.settings.credentials is None:
            return
        hosts = dict.fromkeys(reference.host for reference in references)
        await asyncio.gather(
            *(asyncio.to_thread(self.session.credentials_for, host) for host in hosts)
        )

    async def _list_tags(self, fetch: ImageFetch) -> None:
        try:
            await fetch.vendor.list_tags(fetch)
        except VendorUnavailable as unavailable:
            # The vendor's API cannot serve this image (no token for it, say); the registry
            # itself still can, with times from the image configs. Whatever the vendor gave
            # before it gave up goes: a table from two sources would be neither.
            fetch.fallback = f"{fetch.vendor.name}: {unavailable}"
            fetch.tags.clear()
            fetch.digests.clear()
            fetch.changed.clear()
            fetch.complete = False
            fetch.vendor = self._oci
            await fetch.vendor.list_tags(fetch)

    async def _stage(
        self,
        name: str,
        fetches: Sequence[ImageFetch],
        jobs_of: Callable[[ImageFetch], Iterable[T]],
        run: Callable[[T], Awaitable[None]],
        *,
        extra: bool = False,
    ) -> None:
        """Run ``run`` on every job of every image still without error, ``concurrency`` at
        a time. An ``extra`` stage's jobs run past ``fetch_timeout`` too: each says for
        itself what it could not learn (a column's extra), never failing its image."""
        jobs: list[tuple[ImageFetch, T]] = [
            (fetch, job) for fetch in fetches if fetch.error is None for job in jobs_of(fetch)
        ]
        pending = iter(jobs)
        done = 0

        async def worker() -> None:
            nonlocal done
            # One iterator shared by every worker: each takes the next job when it is free
            # (no two take the same one: nothing awaits between a next() and its job).
            for fetch, job in pending:
                await self._guarded(fetch, job, run, extra=extra)
                done += 1
                if self._progress is not None:
                    self._progress(name, done, len(jobs))

        workers = min(self.settings.concurrency, len(jobs))
        await asyncio.gather(*(worker() for _ in range(workers)))

    async def _guarded(
        self, fetch: ImageFetch, job: T, run: Callable[[T], Awaitable[None]], *, extra: bool
    ) -> None:
        """Run one job; what goes wrong ends its image's fetch, named, not the build."""
        if fetch.error is not None:
            return  # the image already failed; spare the registry the rest of its requests
        # Past fetch_timeout, the jobs still queued end at once, each image with a message.
        failure = None if extra else self.session.fetch_overdue(fetch.reference)
        if failure is None:
            try:
                await run(job)
            except RegistryError as error:
                failure = error
            except Exception as error:
                # An answer no check foresaw must fail this image with its name, not the
                # whole build with a traceback; --verbose shows where it came from.
                logger.debug("%s: unexpected failure", fetch.reference.name, exc_info=True)
                failure = RegistryError(
                    f"unexpected answer ({type(error).__name__}: {error})", transient=True
                )
        if failure is not None and fetch.error is None:
            # Here, where the image is known, its name joins the message.
            fetch.error = failure.for_image(fetch.reference.name)
