"""What a build can show for one image, and the counts of a fetch: the service's answers,
which every front end reads. No I/O."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from mkdocs_taghistory.filters import TagDemand
from mkdocs_taghistory.history import TagSnapshot
from mkdocs_taghistory.settings import Settings
from mkdocs_taghistory.timestamps import format_timestamp


class ImageResult(NamedTuple):
    """What a build can show for one image.

    Attributes:
        snapshot: the tags to show, or None when there are none to be had.
        as_of: set when the snapshot came from the cache instead of a fresh fetch: the time
            of that earlier fetch, which the page states under the table.
        problem: why there is no fresh snapshot (or no snapshot at all).
        not_found: the registry has no such repository (a section shows that as empty).
        offline: the snapshot is from the cache because the build is offline, not because
            the registry failed: the page must not claim a failure.
    """

    snapshot: TagSnapshot | None
    as_of: datetime | None = None
    problem: str | None = None
    not_found: bool = False
    offline: bool = False


class FetchSummary(NamedTuple):
    """Counts for the one summary line of a fetch."""

    images: int
    tags: int
    requests: int
    from_cache: int
    failed: int
    seconds: float
    not_found: int = 0

    def __str__(self) -> str:
        return (
            f"{self.images} images, {self.tags} tags, {self.requests} requests, "
            f"{self.from_cache} from the cache, {self.not_found} not found, {self.failed} "
            f"failed, in {self.seconds:.2f} s"
        )


def is_fresh(fetched_at: datetime, settings: Settings, now: datetime) -> bool:
    """True when a fetch made at ``fetched_at`` is fresh enough to show without asking the
    registry again: younger than ``ttl``. The one freshness rule, for builds and commands."""
    return now - fetched_at < settings.ttl


def covers(result: ImageResult, demand: TagDemand | None) -> bool:
    """True when ``result`` read every tag ``demand`` wants."""
    return demand is None or result.snapshot is None or demand.covers(result.snapshot)


def from_cache(
    snapshot: TagSnapshot,
    *,
    as_of: datetime | None,
    problem: str | None = None,
    offline: bool = False,
) -> ImageResult:
    """What a cached snapshot shows: its tags, or that the registry had no such image."""
    if snapshot.missing:
        return ImageResult(
            None,
            as_of=as_of,
            problem=f"no such repository (as of {format_timestamp(snapshot.fetched_at)})",
            not_found=True,
            offline=offline,
        )
    return ImageResult(snapshot, as_of=as_of, problem=problem, offline=offline)
