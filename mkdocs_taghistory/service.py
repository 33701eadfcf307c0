"""Where tables come from: the registry when it answers, else the last fetch on disk.

This is the one place that combines the registry client and the cache; the Markdown extension
and the MkDocs plugin only ask it for images.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from mkdocs_taghistory.cache import SnapshotCache
from mkdocs_taghistory.errors import RegistryError
from mkdocs_taghistory.filters import TagDemand
from mkdocs_taghistory.history import TagSnapshot, record_sightings
from mkdocs_taghistory.reference import ImageReference
from mkdocs_taghistory.results import (
    STAND_IN,
    FetchSummary,
    ImageResult,
    count_outcomes,
    covers,
    from_cache,
    is_fresh,
    outcome,
    plural,
)
from mkdocs_taghistory.settings import OFFLINE_ENVIRONMENT_VARIABLE, Settings
from mkdocs_taghistory.timestamps import format_timestamp, utc_now

if TYPE_CHECKING:
    import httpx

    from mkdocs_taghistory.registry.client import Progress

logger = logging.getLogger(__name__)

OFFLINE_WITHOUT_CACHE = (
    "the build is offline and there is {no_copy}; run 'taghistory refresh' on the site "
    "(-f mkdocs.yml, or -c conf.py for Sphinx), or build once with network (without "
    f"{OFFLINE_ENVIRONMENT_VARIABLE} or the offline option), to fill the cache"
)
"""Why a build that is offline has no table for an image never fetched, and what to do."""


class TagHistoryService:
    """Fetches images once each per build, and keeps the results while they are fresh."""

    def __init__(
        self,
        settings: Settings,
        transport: httpx.AsyncBaseTransport | None = None,
        *,
        progress: Progress | None = None,
        offline_without_cache: str = OFFLINE_WITHOUT_CACHE,
    ) -> None:
        """Serve tables by ``settings``.

        Args:
            settings: where tables come from.
            transport: replaces the network (for embedding).
            progress: told of each finished job of a fetch (for a progress bar).
            offline_without_cache: the problem of an image an offline caller never fetched,
                ``{no_copy}`` standing for where the copy was looked for: a command says
                what to do in its own words.
        """
        self.settings = settings
        self._transport = transport
        self._progress = progress
        self._offline_without_cache = offline_without_cache
        self._cache = SnapshotCache(settings.cache_dir) if settings.cache_dir else None
        self._results: dict[ImageReference, ImageResult] = {}
        self._cache_write_failed = False
        self.cache_write_error: str | None = None
        """Why the last fetch could not be kept on disk, if it could not."""
        self.last_summary: FetchSummary | None = None
        """The counts of the last fetch pass, for the caller's summary and for tests."""

    def start_build(self) -> None:
        """Forget what is no longer fresh, so that a new build (under ``mkdocs serve``) asks
        again for those images and reuses the rest. Within a build, nothing is asked twice."""
        now = utc_now()
        # Freshness counts from the fetch itself, not from when this process loaded it.
        self._results = {
            reference: result
            for reference, result in self._results.items()
            if result.snapshot is not None
            and result.as_of is None
            and is_fresh(result.snapshot.fetched_at, self.settings, now)
        }

    def last_fetched(self, image: str) -> datetime | None:
        """When ``image`` was last fetched into the cache, by any build that shares it; None
        when the cache has no fetch of it."""
        cached = self._cache.load(image, warn=False) if self._cache else None
        return cached.fetched_at if cached is not None else None

    def cache_version(self, image: str) -> int | None:
        """What changes whenever ``image``'s cached fetch is written (by any build that shares
        the cache); None when nothing of it is on disk."""
        return self._cache.version(image) if self._cache else None

    def held(self, reference: ImageReference) -> ImageResult | None:
        """The result this service holds for ``reference`` (this build asked for it), or
        None; never loads or fetches."""
        return self._results.get(reference)

    def would_ask(self, fetched_at: datetime | None) -> bool:
        """True when a build would ask the registry for an image last fetched at
        ``fetched_at`` (None: never), rather than show that fetch."""
        if self.settings.offline:
            return False
        return fetched_at is None or not is_fresh(fetched_at, self.settings, utc_now())

    def results_for(
        self,
        references: Iterable[ImageReference],
        demand: Mapping[ImageReference, TagDemand] | None = None,
    ) -> dict[ImageReference, ImageResult]:
        """The result for each image, fetching in one concurrent pass those not known yet.

        Args:
            references: the images.
            demand: per image, the tags its tables show: a fetch reads only those, and a
                known result that skipped one of them is fetched again. Without it, every tag
                is read.
        """
        wanted = list(dict.fromkeys(references))
        demand = demand or {}
        missing = [
            reference
            for reference in wanted
            if reference not in self._results
            or not covers(self._results[reference], demand.get(reference))
        ]
        if missing:
            self._results.update(self._load(missing, demand))
        return {reference: self._results[reference] for reference in wanted}

    def _load(
        self, references: list[ImageReference], demand: Mapping[ImageReference, TagDemand]
    ) -> dict[ImageReference, ImageResult]:
        started = time.perf_counter()
        now = utc_now()
        cached = {reference: self._cached(reference) for reference in references}
        results: dict[ImageReference, ImageResult] = {}
        for reference, snapshot in cached.items():
            # A cached fetch younger than the ttl is the answer: no request at all (unless it
            # skipped tags a table now shows).
            if (
                snapshot is not None
                and is_fresh(snapshot.fetched_at, self.settings, now)
                and (reference not in demand or demand[reference].covers(snapshot))
            ):
                results[reference] = from_cache(snapshot, as_of=None)
        stale = [reference for reference in references if reference not in results]
        requests = 0
        if self.settings.offline:
            results.update(
                {reference: self._offline(reference, cached[reference], now) for reference in stale}
            )
        elif stale:
            previous = {
                reference: snapshot
                for reference, snapshot in cached.items()
                if snapshot is not None
            }
            # Only a fetch needs the HTTP code (httpx, every vendor): a build whose tables are
            # all fresh never imports it, and costs no more than the page without the plugin.
            from mkdocs_taghistory.registry.client import RegistryClient  # noqa: PLC0415

            client = RegistryClient(self.settings.client, self._transport, progress=self._progress)
            fetched = client.fetch_many(stale, previous, demand)
            requests = client.requests_sent
            results.update(
                {
                    reference: self._settle(reference, fetched[reference], cached[reference])
                    for reference in stale
                }
            )
        asked = set(stale)
        summary = FetchSummary(
            outcomes=count_outcomes(
                [outcome(result, asked=reference in asked) for reference, result in results.items()]
            ),
            tags=sum(len(result.snapshot.tags) for result in results.values() if result.snapshot),
            requests=requests,
            seconds=time.perf_counter() - started,
        )
        self.last_summary = summary
        logger.info("Tag history of %s", summary)
        self._report_stand_ins(results)
        return results

    def _report_stand_ins(self, results: dict[ImageReference, ImageResult]) -> None:
        """One line for every table a fresh fetch did not give: the per-image detail went to
        DEBUG, as Material's plugins and mkdocstrings keep INFO to a line a build."""
        # A cached "no such image" stands in too: its section says the registry could not
        # be reached, and it is counted with the rest.
        failed = [
            f"{reference.name} ({result.problem})"
            for reference, result in results.items()
            if outcome(result, asked=True) == STAND_IN
        ]
        if failed:
            level = logging.WARNING if self.settings.strict else logging.INFO
            logger.log(
                level,
                "Tag history %s, for %s: %s",
                STAND_IN,
                plural(len(failed), "image"),
                "; ".join(failed),
            )
        offline = sum(1 for result in results.values() if result.offline)
        if offline:
            logger.info("Offline build: %s shown as last fetched", plural(offline, "image"))

    def _cached(self, reference: ImageReference) -> TagSnapshot | None:
        return self._cache.load(reference.name) if self._cache else None

    def _offline(
        self, reference: ImageReference, cached: TagSnapshot | None, now: datetime
    ) -> ImageResult:
        if cached is None:
            problem = self._offline_without_cache.format(no_copy=self._no_cached_copy())
            return ImageResult(None, problem=problem)
        logger.debug(
            "%s: offline build, using the cached tags as of %s",
            reference.name,
            format_timestamp(cached.fetched_at),
        )
        # Only stale copies come here (fresh ones were served above): say how old they are.
        return from_cache(cached, as_of=cached.fetched_at, problem="offline", offline=True)

    def _settle(
        self,
        reference: ImageReference,
        fetched: TagSnapshot | RegistryError,
        cached: TagSnapshot | None,
    ) -> ImageResult:
        if isinstance(fetched, TagSnapshot):
            return ImageResult(self._record(fetched, cached))
        if fetched.transient and cached is not None:
            logger.debug(
                "%s: %s; using the cached tags as of %s",
                reference.name,
                fetched.reason,
                format_timestamp(cached.fetched_at),
            )
            return from_cache(cached, as_of=cached.fetched_at, problem=fetched.reason)
        if fetched.transient:
            return ImageResult(
                None, problem=f"{fetched.reason}, and there is {self._no_cached_copy()}"
            )
        if fetched.not_found:
            # Remembered like a fetch, so that an offline build or a fresh cache knows the
            # registry has no such image (a section shows it as empty) without asking. The
            # ledger stays, as other builds sharing the cache may have added to it.
            now = utc_now()
            self._store_merged(
                reference.name,
                lambda latest: TagSnapshot(
                    image=reference.name,
                    fetched_at=now,
                    tags={},
                    ledger=latest.ledger if latest else {},
                    missing=True,
                ),
                cached,
            )
        return ImageResult(None, problem=fetched.reason, not_found=fetched.not_found)

    def _record(self, fetched: TagSnapshot, cached: TagSnapshot | None) -> TagSnapshot:
        """Add this fetch's sightings to the ledger on disk and store the result."""
        return self._store_merged(
            fetched.image, lambda latest: record_sightings(fetched, latest), cached
        )

    def _store_merged(
        self,
        image: str,
        merge: Callable[[TagSnapshot | None], TagSnapshot],
        cached: TagSnapshot | None,
    ) -> TagSnapshot:
        """Store what ``merge`` makes of the snapshot on disk, read again under the lock.

        Another build sharing the cache may have written since this one read it: its
        sightings must be kept, not overwritten.
        """
        if self._cache is None:
            return merge(cached)
        try:
            with self._cache.locked():
                latest = self._cache.load(image, warn=False)
                snapshot = merge(latest if latest is not None else cached)
                self._store(snapshot)
                return snapshot
        except OSError:
            # No folder to lock (unwritable): _store says so once; the table stands.
            snapshot = merge(cached)
            self._store(snapshot)
            return snapshot

    def _no_cached_copy(self) -> str:
        where = f" in {self.settings.cache_dir}" if self.settings.cache_dir else ""
        return f"no cached copy{where}"

    def _store(self, snapshot: TagSnapshot) -> None:
        if self._cache is None:
            return
        try:
            self._cache.store(snapshot)
        except OSError as error:
            self.cache_write_error = f"cannot write the cache in {self.settings.cache_dir}: {error}"
            # The table is right without the cache; a read-only checkout should still build.
            # Say so once, not once per image.
            if not self._cache_write_failed:
                logger.warning(
                    "Cannot write the tag history cache in %s: %s", self.settings.cache_dir, error
                )
            self._cache_write_failed = True
