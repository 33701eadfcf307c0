"""What the ``taghistory`` command says of a refresh and of a cache, in the outcomes a build
reports (:data:`.results.OUTCOMES`), so that the counts of a build, a refresh and a listing add
up the same way. No I/O and no click: lines of text, which the command escapes and prints.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from pathlib import Path

from mkdocs_taghistory.durations import format_age
from mkdocs_taghistory.history import TagSnapshot
from mkdocs_taghistory.records import Record
from mkdocs_taghistory.reference import ImageReference
from mkdocs_taghistory.results import (
    FAILED,
    NOT_FOUND,
    STAND_IN,
    FetchSummary,
    ImageResult,
    count_outcomes,
    is_fresh,
    outcome,
    outcomes_text,
    plural,
)
from mkdocs_taghistory.settings import Settings


class RefreshReport(Record):
    """What a refresh says.

    Attributes:
        summary: one line: the images, each outcome's count, the requests and the time.
        failures: a line per image that makes the refresh fail, labelled with its outcome,
            with this attempt's reason.
        error: the closing error naming those images; None when the refresh succeeded.
    """

    summary: str
    failures: tuple[str, ...]
    error: str | None


def refresh_report(
    results: Mapping[ImageReference, ImageResult],
    optional: Collection[ImageReference],
    cache_dir: Path | None,
    summary: FetchSummary | None,
) -> RefreshReport:
    """The report of a refresh that asked the registries for ``results``.

    Every image was asked (a refresh makes the cache fresh), so each is fetched, not found,
    from the cache after a failed fetch, or failed. The refresh fails (its exit code) for
    every image that is not what the site needs: a failed fetch, with a cached copy or
    without, and "no such image" where a directive shows the image alone (``optional``: the
    images named only as registry sections, which may lack them).
    """
    outcomes = {image: outcome(result, asked=True) for image, result in results.items()}
    line = f"Refresh of {plural(len(results), 'image')} into {cache_dir}: "
    line += outcomes_text(count_outcomes(list(outcomes.values())))
    if summary is not None:
        line += f" ({plural(summary.requests, 'request')}, in {summary.seconds:.2f} s)"
    failing = {
        image: which
        for image, which in outcomes.items()
        if which in {FAILED, STAND_IN} or (which == NOT_FOUND and image not in optional)
    }
    failures = tuple(
        f"{which}: {image.name}: {results[image].problem}"
        + (", and a directive shows it without registry sections" if which == NOT_FOUND else "")
        for image, which in failing.items()
    )
    if not failing:
        return RefreshReport(line, failures, None)
    error = f"{len(failing)} of {plural(len(results), 'image')} could not be refreshed: "
    return RefreshReport(line, failures, error + ", ".join(image.name for image in failing))


class CachedFile(Record):
    """One file of a cache folder: its snapshot, or why it cannot be read."""

    name: str
    snapshot: TagSnapshot | None
    damage: str | None = None


HEADER = ("IMAGE", "FETCHED", "TAGS", "STATE")
FRESH_STATE, STALE_STATE, DAMAGED = "fresh", "stale", "damaged"


def cache_listing(
    files: Sequence[CachedFile], settings: Settings, now: datetime, used: Collection[str]
) -> list[str]:
    """A table of the cached images (a header, a row a file, in columns) and a line of totals.

    An image's state is what a build would make of its copy: ``fresh`` (shown without a
    request) or ``stale`` (asked for again); a copy that records the registry had no such
    image is ``not found`` whatever its age, its freshness beside it; a file that cannot be
    read is ``damaged``. The totals count each file once, by its state.
    """
    rows = [HEADER]
    states = []
    for file in files:
        if file.snapshot is None:
            states.append(DAMAGED)
            rows.append((file.name, "-", "-", f"damaged ({file.damage}); a refresh replaces it"))
            continue
        snapshot = file.snapshot
        fresh = is_fresh(snapshot.fetched_at, settings, now)
        state = FRESH_STATE if fresh else STALE_STATE
        states.append(NOT_FOUND if snapshot.missing else state)
        shown = f"{NOT_FOUND}, {state}" if snapshot.missing else state
        note = "" if snapshot.image in used else " (no page uses it)"
        tags = "-" if snapshot.missing else str(len(snapshot.tags))
        age = f"{format_age(now - snapshot.fetched_at)} ago"
        rows.append((snapshot.image, age, tags, shown + note))
    widths = [max(len(row[column]) for row in rows) for column in range(len(HEADER) - 1)]
    lines = [
        "  ".join(
            [*(cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=True)), row[-1]]
        )
        for row in rows
    ]
    totals = ", ".join(
        f"{states.count(state)} {state}"
        for state in (FRESH_STATE, STALE_STATE, NOT_FOUND, DAMAGED)
        if states.count(state) or state != DAMAGED
    )
    return [*lines, f"{plural(len(files), 'file')}: {totals}"]
