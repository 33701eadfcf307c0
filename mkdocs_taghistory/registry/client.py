"""Fetch many images at once: each through its vendor, all over one pool.

Every request of a build goes through one :class:`RegistryHttp` (one httpx connection pool)
and one thread pool whose size is the ``concurrency`` setting. The sync client on a thread pool
was chosen over ``AsyncClient``: ``bench/async_vs_threads.py`` (360 HEADs on loopback,
concurrency 16) measured async at about 3x the client CPU and 2x the wall time, and on a 2-core
CI machine CPU is what bounds a build once round trips overlap.

A fetch runs in stages across all images at once (tag lists, then one job per tag, then the
manifests of digests not seen before), so no pool thread ever waits on another pool task.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import TypeVar

import httpx

from mkdocs_taghistory.errors import RegistryError
from mkdocs_taghistory.history import TagDemand, TagSnapshot, TagState
from mkdocs_taghistory.reference import ImageReference
from mkdocs_taghistory.registry.catalog import VENDOR_CLASSES, load_vendor
from mkdocs_taghistory.registry.client_settings import ClientSettings, VendorSetting
from mkdocs_taghistory.registry.http import RegistryHttp
from mkdocs_taghistory.registry.oci import OciVendor
from mkdocs_taghistory.registry.vendor import ImageFetch, Vendor, VendorUnavailable
from mkdocs_taghistory.timestamps import utc_now

__all__ = ["VENDORS", "VENDOR_TYPES", "ClientSettings", "RegistryClient", "VendorSetting"]

T = TypeVar("T")

Progress = Callable[[str, int, int], None]
"""Told ``(stage, jobs done, jobs in the stage)`` as a fetch goes on."""

logger = logging.getLogger(__name__)

VENDORS: tuple[type[Vendor], ...] = tuple(map(load_vendor, VENDOR_CLASSES))
"""Every vendor: a new one is its file under ``registry/`` and its entry in
:data:`~mkdocs_taghistory.registry.catalog.VENDOR_CLASSES`."""

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
        transport: httpx.BaseTransport | None = None,
        progress: Progress | None = None,
    ) -> None:
        """Open one connection pool and one thread pool, sized by ``settings.concurrency``.

        Args:
            settings: how to reach registries.
            transport: an httpx transport to use instead of the network (for embedding).
            progress: told of each finished job of each stage (for a progress bar).
        """
        self.settings = settings or ClientSettings()
        self.http = RegistryHttp(self.settings, transport)
        self._pool = ThreadPoolExecutor(
            max_workers=self.settings.concurrency, thread_name_prefix="taghistory"
        )
        self._oci = OciVendor(self.http)
        self._vendors: dict[tuple[str, str | None], Vendor] = {(OciVendor.name, None): self._oci}
        self._progress = progress

    @property
    def requests_sent(self) -> int:
        """How many HTTP requests this client has sent, token requests and retries included."""
        return self.http.requests_sent

    def close(self) -> None:
        """Close the thread pool and the connection pool."""
        self._pool.shutdown(wait=True)
        self.http.close()

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def base_url(self, reference: ImageReference) -> str:
        """The API root of ``reference``'s repository, over HTTP or HTTPS as configured."""
        return self.http.base_url(reference)

    def vendor_for(self, reference: ImageReference) -> Vendor:
        """The vendor that reads ``reference``: the ``vendors`` setting, else by host.

        One object per vendor and address, so what a vendor keeps (a login) is shared by
        every image it reads.
        """
        setting = self.settings.vendors.get(reference.host)
        vendor = VENDOR_TYPES[setting.type] if setting else default_vendor(reference.host)
        url = setting.url if setting else None
        if url is None and not vendor.api_on_registry and not vendor.serves(reference.host):
            # A vendor type on a host of its own (self-hosted Quay, a mirror) is asked at that
            # host, never at the vendor's public address, which knows nothing of it.
            scheme = "http" if self.http.is_plain_http(reference) else "https"
            url = f"{scheme}://{reference.host}"
        key = (vendor.name, url)
        if key not in self._vendors:
            self._vendors[key] = vendor(self.http, url)
        return self._vendors[key]

    def fetch_many(
        self,
        references: Iterable[ImageReference],
        known_created: Mapping[ImageReference, Mapping[str, datetime | None]] | None = None,
        known_platforms: Mapping[ImageReference, Mapping[str, tuple[str, ...]]] | None = None,
        demand: Mapping[ImageReference, TagDemand] | None = None,
        previous: Mapping[ImageReference, TagSnapshot] | None = None,
    ) -> dict[ImageReference, TagSnapshot | RegistryError]:
        """Fetch the tags of every image concurrently.

        Args:
            references: the images.
            known_created: per image, digest creation times learned before; those digests are
                not fetched again, since a digest's content never changes.
            known_platforms: per image, digest platforms learned before; when given, a digest
                is not fetched again only if its platforms are known too.
            demand: per image, the tags some table shows; where a tag costs requests of its
                own (the generic path, Chainguard's history), the others are listed as
                skipped and never read. An image without one has every tag read.
            previous: per image, its last fetch, which the vendor that made it may read on
                from (Chainguard's history asks only for records since).

        Returns:
            Per image, its snapshot or the error that stopped its fetch.
        """
        known = known_created or {}
        fetches = []
        for reference in dict.fromkeys(references):
            vendor = self.vendor_for(reference)
            last = (previous or {}).get(reference)
            fetches.append(
                ImageFetch(
                    reference,
                    vendor,
                    known.get(reference, {}),
                    None if known_platforms is None else known_platforms.get(reference, {}),
                    known_tags=last.tags if last is not None and last.source == vendor.name else {},
                )
            )
        self.http.start_fetch()
        self._stage("tag lists", fetches, lambda fetch: [fetch], self._list_tags)
        for fetch in fetches:
            wanted = (demand or {}).get(fetch.reference)
            if wanted is not None and not fetch.complete and fetch.error is None:
                # What no table shows is never asked for, tag by tag.
                pending = [tag for tag in fetch.tags if tag not in fetch.digests]
                fetch.skipped = [tag for tag in pending if not wanted.wants(tag)]
                skipped = set(fetch.skipped)
                fetch.tags = [tag for tag in fetch.tags if tag not in skipped]
        self._stage(
            "tags",
            fetches,
            # Tags a vendor gave no digest for (all of them, on the generic path).
            lambda fetch: (
                []
                if fetch.complete
                else [(fetch, tag) for tag in fetch.tags if tag not in fetch.digests]
            ),
            lambda job: job[0].vendor.resolve_tag(*job),
        )
        self._stage(
            "new digests",
            fetches,
            lambda fetch: [(fetch, digest) for digest in fetch.vendor.digests_to_inspect(fetch)],
            lambda job: job[0].vendor.inspect_digest(*job),
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
            or _snapshot(fetch, fetched_at, fetch.vendor.url or self.base_url(fetch.reference))
            for fetch in fetches
        }

    def _list_tags(self, fetch: ImageFetch) -> None:
        try:
            fetch.vendor.list_tags(fetch)
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
            fetch.vendor.list_tags(fetch)

    def _stage(
        self,
        name: str,
        fetches: Sequence[ImageFetch],
        jobs_of: Callable[[ImageFetch], Iterable[T]],
        run: Callable[[T], None],
    ) -> None:
        """Run ``run`` on every job of every image still without error, all concurrently."""
        jobs: list[tuple[ImageFetch, T]] = [
            (fetch, job) for fetch in fetches if fetch.error is None for job in jobs_of(fetch)
        ]

        def guarded(pair: tuple[ImageFetch, T]) -> None:
            fetch, job = pair
            if fetch.error is not None:
                return  # the image already failed; spare the registry the rest of its requests
            # Past fetch_timeout, the jobs still queued end at once, each image with a message.
            failure = self.http.fetch_overdue(fetch.reference)
            if failure is None:
                try:
                    run(job)
                except RegistryError as error:
                    failure = error
                except Exception as error:
                    # An answer no check foresaw must fail this image with its name, not the
                    # whole build with a traceback; --verbose shows where it came from.
                    logger.debug("%s: unexpected failure", fetch.reference.name, exc_info=True)
                    failure = RegistryError(f"unexpected answer ({type(error).__name__}: {error})")
            if failure is not None and fetch.error is None:
                # Here, where the image is known, its name joins the message.
                fetch.error = failure.for_image(fetch.reference.name)

        # map() yields in submission order: a slow job holds the count back, never miscounts;
        # counting here, on one thread, needs no lock.
        for done, _ in enumerate(self._pool.map(guarded, jobs), start=1):
            if self._progress is not None:
                self._progress(name, done, len(jobs))


def _snapshot(fetch: ImageFetch, fetched_at: datetime, origin: str) -> TagSnapshot:
    """The snapshot of a finished fetch: a vendor's time per tag, else its image's creation."""
    return TagSnapshot(
        image=fetch.reference.name,
        fetched_at=fetched_at,
        tags={
            tag: TagState(
                digest=digest,
                changed=fetch.changed.get(tag) or fetch.created.get(digest),
            )
            for tag, digest in fetch.digests.items()
        },
        # Only the times really looked up: a vendor that gave none leaves them to a later fetch.
        digest_created={
            digest: fetch.created[digest]
            for digest in set(fetch.digests.values())
            if digest in fetch.created
        },
        source=fetch.vendor.name,
        origin=origin,
        digest_platforms={
            digest: fetch.platforms[digest]
            for digest in set(fetch.digests.values())
            if digest in fetch.platforms
        },
        skipped=tuple(fetch.skipped),
    )
