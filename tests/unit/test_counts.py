"""Counts that add up: each image has exactly one outcome, and a build's summary line, a
refresh's report (and its exit) and the cache listing count them the same way."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mkdocs_taghistory.history import TagSnapshot, TagState
from mkdocs_taghistory.reference import parse_reference
from mkdocs_taghistory.reports import CachedFile, cache_listing, refresh_report
from mkdocs_taghistory.results import (
    FAILED,
    FETCHED,
    FRESH,
    NOT_FOUND,
    OFFLINE,
    OUTCOMES,
    STAND_IN,
    FetchSummary,
    ImageResult,
    count_outcomes,
    from_cache,
    outcome,
)
from mkdocs_taghistory.site_options import settings_from_options

README = Path(__file__).resolve().parents[2] / "README.md"
THEN = datetime(2024, 3, 22, 12, tzinfo=UTC)
TAGS = TagSnapshot("r.example/a/x", THEN, {"latest": TagState("sha256:" + "a" * 64, THEN)})
GONE = TagSnapshot("r.example/a/gone", THEN, {}, missing=True)
DOWN = "cannot reach r.example: Connection refused"


@pytest.mark.parametrize(
    ("result", "asked", "expected"),
    [
        (from_cache(TAGS, as_of=None), False, FRESH),
        (from_cache(GONE, as_of=None), False, FRESH),
        (ImageResult(TAGS), True, FETCHED),
        (ImageResult(None, problem="no such repository", not_found=True), True, NOT_FOUND),
        (from_cache(TAGS, as_of=THEN, problem=DOWN), True, STAND_IN),
        # A cached "no such image" stands in after a failed fetch as a table does.
        (from_cache(GONE, as_of=THEN, problem=DOWN), True, STAND_IN),
        (from_cache(TAGS, as_of=THEN, problem="offline", offline=True), True, OFFLINE),
        (ImageResult(None, problem=f"{DOWN}, and there is no cached copy"), True, FAILED),
    ],
)
def test_each_result_has_one_outcome(result: ImageResult, asked: bool, expected: str) -> None:
    assert outcome(result, asked=asked) == expected


def test_a_stand_in_for_a_cached_not_found_says_this_attempts_failure_first() -> None:
    result = from_cache(GONE, as_of=THEN, problem=DOWN)
    assert result.problem == (
        f"{DOWN}; the last fetch found no such repository (as of 2024-03-22T12:00:00Z)"
    )
    # Offline, nothing failed: the cached answer alone.
    offline = from_cache(GONE, as_of=THEN, problem="offline", offline=True)
    assert offline.problem == "no such repository (as of 2024-03-22T12:00:00Z)"


def test_the_summary_line_counts_every_image_once_and_always_says_failed() -> None:
    found = [FRESH, FETCHED, FETCHED, STAND_IN, NOT_FOUND]
    summary = FetchSummary(count_outcomes(found), tags=30, requests=1, seconds=1.234)
    assert summary.images == 5 == sum(count for _, count in summary.outcomes)
    assert [which for which, _ in summary.outcomes] == list(OUTCOMES)
    assert str(summary) == (
        "5 images: 1 fresh, 2 fetched, 1 not found, 1 from the cache after a failed fetch, "
        "0 failed (30 tags, 1 request, in 1.23 s)"
    )
    assert f"Tag history of {summary}\n" in README.read_text(encoding="utf-8")  # its example


def test_a_refresh_counts_as_a_build_does_and_fails_for_what_the_site_lacks() -> None:
    fetched, section_only, alone, stood_in, failed = (
        parse_reference(f"r.example/a/{name}", "r.example/a")
        for name in ("fetched", "section-only", "alone", "stood-in", "failed")
    )
    missing = ImageResult(None, problem="no such repository", not_found=True)
    results = {
        fetched: ImageResult(TAGS),
        section_only: missing,
        alone: missing,
        stood_in: from_cache(GONE, as_of=THEN, problem=DOWN),
        failed: ImageResult(None, problem=f"{DOWN}, and there is no cached copy"),
    }
    summary = FetchSummary(count_outcomes([]), tags=0, requests=7, seconds=0.5)
    report = refresh_report(results, {section_only}, Path("cache"), summary)
    assert report.summary == (
        "Refresh of 5 images into cache: 1 fetched, 2 not found, "
        "1 from the cache after a failed fetch, 1 failed (7 requests, in 0.50 s)"
    )
    assert report.failures == (
        "not found: r.example/a/alone: no such repository, and a directive shows it without "
        "registry sections",
        f"from the cache after a failed fetch: r.example/a/stood-in: {DOWN}; the last fetch "
        "found no such repository (as of 2024-03-22T12:00:00Z)",
        f"failed: r.example/a/failed: {DOWN}, and there is no cached copy",
    )
    assert report.error == (
        "3 of 5 images could not be refreshed: r.example/a/alone, r.example/a/stood-in, "
        "r.example/a/failed"
    )
    success = refresh_report({fetched: ImageResult(TAGS)}, (), Path("cache"), None)
    assert success == ("Refresh of 1 image into cache: 1 fetched, 0 failed", (), None)


def test_the_cache_listing_has_a_header_says_not_found_and_totals_each_file_once() -> None:
    settings = settings_from_options({"ttl": "1h"}, Path.cwd())
    now = THEN + timedelta(minutes=30)
    files = [
        CachedFile("x.json", TAGS),
        CachedFile(
            "old.json", TAGS._replace(image="r.example/a/old", fetched_at=THEN - timedelta(days=2))
        ),
        CachedFile("gone.json", GONE),
        CachedFile("broken.json", None, "not JSON"),
    ]
    lines = cache_listing(files, settings, now, used={"r.example/a/x", "r.example/a/gone"})
    assert [line.split() for line in lines[:4]] == [
        ["IMAGE", "FETCHED", "TAGS", "STATE"],
        ["r.example/a/x", "30m", "ago", "1", "fresh"],
        ["r.example/a/old", "2d", "ago", "1", "stale", "(no", "page", "uses", "it)"],
        ["r.example/a/gone", "30m", "ago", "-", "not", "found,", "fresh"],
    ]
    assert lines[4].startswith("broken.json") and "damaged (not JSON)" in lines[4]
    # Columns line up.
    starts = [lines[0].index("FETCHED"), lines[1].index("30m"), lines[2].index("2d")]
    assert starts == [len("r.example/a/gone  ")] * 3
    assert lines[5] == "4 files: 1 fresh, 1 stale, 1 not found, 1 damaged"
    assert f"(`{lines[5]}`)" in README.read_text(encoding="utf-8")  # its example
