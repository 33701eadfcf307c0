"""What a build can show for one image, and the counts of a fetch: the service's answers,
which every front end reads. No I/O."""

from __future__ import annotations

from datetime import datetime

from mkdocs_taghistory.filters import TagDemand
from mkdocs_taghistory.history import TagSnapshot
from mkdocs_taghistory.records import Record
from mkdocs_taghistory.settings import Settings
from mkdocs_taghistory.timestamps import format_timestamp


class ImageResult(Record):
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


FRESH = "fresh"
FETCHED = "fetched"
NOT_FOUND = "not found"
STAND_IN = "from the cache after a failed fetch"
OFFLINE = "offline, as last fetched"
FAILED = "failed"
OUTCOMES = (FRESH, FETCHED, NOT_FOUND, STAND_IN, OFFLINE, FAILED)
"""What happened to an image in a build or a refresh, each image exactly one of them: its
fresh cached copy was used without a request; the registry gave its tags; the registry said it
has no such image; the registry failed and the last fetch (of tags, or of "no such image")
stands in; the build is offline and shows the last fetch; nothing can be shown."""


def outcome(result: ImageResult, *, asked: bool) -> str:
    """Which of :data:`OUTCOMES` ``result`` is; ``asked``: the registry was asked for it (or
    would have been, but for an offline build), rather than its cached copy being fresh."""
    if result.snapshot is None and not result.not_found:
        return FAILED
    if result.offline:
        return OFFLINE
    if result.as_of is not None:
        return STAND_IN
    if not asked:
        return FRESH
    return NOT_FOUND if result.not_found else FETCHED


class FetchSummary(Record):
    """Counts for the one summary line of a fetch.

    Attributes:
        outcomes: how many images had each of :data:`OUTCOMES` (every one, zeros too); they
            add up to the images.
        tags: the tags of the snapshots shown.
        requests: the requests sent.
        seconds: how long the pass took.
    """

    outcomes: tuple[tuple[str, int], ...]
    tags: int
    requests: int
    seconds: float

    @property
    def images(self) -> int:
        """How many images the pass was asked for."""
        return sum(count for _, count in self.outcomes)

    def count(self, which: str) -> int:
        """How many images had outcome ``which``."""
        return dict(self.outcomes).get(which, 0)

    def __str__(self) -> str:
        return (
            f"{plural(self.images, 'image')}: {outcomes_text(self.outcomes)} "
            f"({plural(self.tags, 'tag')}, {plural(self.requests, 'request')}, "
            f"in {self.seconds:.2f} s)"
        )


def count_outcomes(found: list[str]) -> tuple[tuple[str, int], ...]:
    """How many of ``found`` are each of :data:`OUTCOMES`, in that order."""
    return tuple((which, found.count(which)) for which in OUTCOMES)


def outcomes_text(counts: tuple[tuple[str, int], ...]) -> str:
    """``2 fetched, 1 not found, 0 failed``: every outcome some image had, and the failures
    always (the count a CI log is searched for)."""
    return ", ".join(f"{count} {which}" for which, count in counts if count or which == FAILED)


def plural(count: int, noun: str) -> str:
    """``1 image``, ``2 images``."""
    return f"{count} {noun}{'' if count == 1 else 's'}"


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
    """What a cached snapshot shows: its tags, or that the registry had no such image.

    ``problem`` is why the registry was not asked, or why asking it failed; for a cached "no
    such image" after a failed fetch it comes first, so that a refresh reports this attempt's
    failure, not what an older fetch said.
    """
    if snapshot.missing:
        known = f"no such repository (as of {format_timestamp(snapshot.fetched_at)})"
        failed = problem is not None and not offline
        return ImageResult(
            None,
            as_of=as_of,
            problem=f"{problem}; the last fetch found {known}" if failed else known,
            not_found=True,
            offline=offline,
        )
    return ImageResult(snapshot, as_of=as_of, problem=problem, offline=offline)
