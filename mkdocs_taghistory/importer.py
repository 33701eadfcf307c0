"""``taghistory import``: the history a site's earlier tag pages show, added to the cache's
ledger as observations made before the plugin's own.

A page's row says its tags pointed at its digest on its date ("March 22nd", resolved against
the page's year). Each becomes a sighting of the ledger, dated so, under one rule that keeps
what a registry said: an observation is added only before everything the cache knows of its
tag (the ledger's sightings, the tag's last fetched state), never after or over it. So an
import changes no table's tags, importing twice changes nothing, and a page newer than the
cache adds nothing the registry did not say. Import the newest page first, then older ones.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, tzinfo
from pathlib import Path

from mkdocs_taghistory.cache import SnapshotCache
from mkdocs_taghistory.history import Sighting, TagSnapshot, with_sighting
from mkdocs_taghistory.records import Record
from mkdocs_taghistory.site import Target
from mkdocs_taghistory.tag_pages import (
    FoundPage,
    FoundTable,
    PageFormatError,
    looks_like_html,
    read_html,
    read_markdown,
)
from mkdocs_taghistory.timestamps import in_range

MAX_PAGE_BYTES = 16 * 2**20
"""The largest page read: a tag page of thousands of rows is a few hundred KiB."""
_MONTH_NAMES = ("january", "february", "march", "april", "may", "june", "july", "august",
                "september", "october", "november", "december")  # fmt: skip
# Full names and the three-letter abbreviations (and "sept"), in English, whatever the locale.
_MONTHS = {
    **{name: number for number, name in enumerate(_MONTH_NAMES, start=1)},
    **{name[:3]: number for number, name in enumerate(_MONTH_NAMES, start=1)},
    "sept": 9,
}
_MONTH_FIRST = re.compile(r"([a-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?(?:,?\s+(\d{4}))?")
_DAY_FIRST = re.compile(r"(\d{1,2})(?:st|nd|rd|th)?\s+([a-z]+)\.?,?(?:\s+(\d{4}))?")
_ISO_DAY = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


class ImportCounts(Record):
    """What an import did to one image's ledger.

    Attributes:
        added: observations added (or that moved a run's start back).
        known: observations the ledger holds already.
        later: observations at or after what the cache knows of their tag: left out.
        unreadable: rows of the page that could not be read whole.
    """

    added: int = 0
    known: int = 0
    later: int = 0
    unreadable: int = 0


def read_page(source: str) -> FoundPage:
    """The tag tables of a page: a file, or an ``http(s)://`` address.

    Raises:
        PageFormatError: when it cannot be had, or is not text.
        OSError: when the file cannot be read.
    """
    if re.match(r"https?://", source, re.IGNORECASE):
        text, html = _download(source)
    else:
        with Path(source).open("rb") as stream:
            data = stream.read(MAX_PAGE_BYTES + 1)
        if len(data) > MAX_PAGE_BYTES:
            raise PageFormatError(f"{source}: larger than {MAX_PAGE_BYTES // 2**20} MiB")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise PageFormatError(f"{source}: not UTF-8 text") from None
        html = Path(source).suffix.lower() in {".html", ".htm"} or looks_like_html(text)
    return read_html(text) if html else read_markdown(text)


def _download(url: str) -> tuple[str, bool]:
    import httpx  # noqa: PLC0415 (only an address needs it)

    try:
        with httpx.stream("GET", url, follow_redirects=True, timeout=30) as response:
            if response.status_code != 200:
                raise PageFormatError(f"{url}: the server answered HTTP {response.status_code}")
            data = b""
            for chunk in response.iter_bytes():
                data += chunk
                if len(data) > MAX_PAGE_BYTES:
                    raise PageFormatError(f"{url}: larger than {MAX_PAGE_BYTES // 2**20} MiB")
            kind = response.headers.get("content-type", "")
            text = data.decode(response.encoding or "utf-8", errors="replace")
    except httpx.HTTPError as error:
        raise PageFormatError(f"{url}: {error}") from None
    return text, "html" in kind.lower() or looks_like_html(text)


def resolve_day(text: str, zone: tzinfo, year: int | None, page_date: datetime | None) -> datetime:
    """The start of the day ``text`` names ("March 22nd", "Mar 22, 2024", "22 March 2024",
    "2024-03-22"), in ``zone`` (where the page wrote it), as UTC.

    A date without its year takes ``year``, else the page's (from which it is moved to the
    year before if it would fall after the page: a page shows the past).

    Raises:
        PageFormatError: for a date it cannot read, or one without a year when none is known.
    """
    written = " ".join(text.lower().split())
    parts: tuple[str | None, str, str] | None = None
    if (iso := _ISO_DAY.fullmatch(written)) is not None:
        parts = (iso.group(1), iso.group(2), iso.group(3))
    elif (match := _MONTH_FIRST.fullmatch(written)) and match.group(1) in _MONTHS:
        parts = (match.group(3), str(_MONTHS[match.group(1)]), match.group(2))
    elif (match := _DAY_FIRST.fullmatch(written)) and match.group(2) in _MONTHS:
        parts = (match.group(3), str(_MONTHS[match.group(2)]), match.group(1))
    if parts is None:
        raise PageFormatError(f"cannot read the date {text[:60]!r}")
    given_year, month, day = parts
    page_year = page_date.astimezone(zone).year if page_date is not None else None
    chosen = int(given_year) if given_year else (year or page_year)
    if chosen is None:
        raise PageFormatError(
            f"the page's dates have no year ({text[:60]!r}) and the page does not say when it "
            "was written (lastmod): give --year"
        )
    try:
        moment = datetime(chosen, int(month), int(day), tzinfo=zone).astimezone(UTC)
        if not given_year and not year and page_date is not None and moment > page_date:
            moment = datetime(chosen - 1, int(month), int(day), tzinfo=zone).astimezone(UTC)
        return in_range(moment)
    except ValueError:
        raise PageFormatError(f"{text[:60]!r} is not a date") from None


def observations(
    table: FoundTable, page: FoundPage, zone: tzinfo, year: int | None
) -> tuple[list[tuple[str, Sighting]], int]:
    """Each row's tags as sightings on its digest at its date (a row without one: the page's
    date), and the count of rows left out (unreadable, or undated on an undated page).

    Raises:
        PageFormatError: for a date that cannot be read, or lacks a year none gives.
    """
    found: list[tuple[str, Sighting]] = []
    left_out = table.unreadable
    for row in table.rows:
        if row.changed is not None:
            moment: datetime | None = row.changed
        elif row.day and row.day.lower() not in {"unknown", "-", "\u2014"}:
            moment = resolve_day(row.day, zone, year, page.date)
        else:
            moment = page.date
        if moment is None:
            left_out += 1
            continue
        found += [(tag, Sighting(row.digest, moment)) for tag in row.tags]
    return found, left_out


def _known(snapshot: TagSnapshot, tag: str) -> list[Sighting]:
    """All the cache knows of ``tag``, oldest first: its sightings, and its state as fetched
    (since its last change, or since the fetch when the registry gives no time)."""
    known = list(snapshot.ledger.get(tag, ()))
    if tag in snapshot.tags:
        state = snapshot.tags[tag]
        known.append(Sighting(state.digest, state.changed or snapshot.fetched_at))
    return sorted(known, key=lambda sighting: sighting.first_seen)


def merge_observations(
    snapshot: TagSnapshot, seen: Iterable[tuple[str, Sighting]]
) -> tuple[TagSnapshot, ImportCounts]:
    """``snapshot`` with the observations added to its ledger, each only before all the cache
    knows of its tag; its tags, digests and fetch stay as the registry gave them. One that
    says what the cache says of that moment (the tag on that digest) counts as known."""
    ledger = dict(snapshot.ledger)
    added = known = later = 0
    for tag, sighting in seen:
        # What the cache knew before this import: one page's rows never shut each other out.
        before = [run for run in _known(snapshot, tag) if run.first_seen <= sighting.first_seen]
        if sighting in ledger.get(tag, ()) or (before and before[-1].digest == sighting.digest):
            known += 1
        elif before:
            later += 1
        else:
            ledger[tag] = with_sighting(ledger.get(tag, ()), sighting)
            added += 1
    return snapshot._replace(ledger=ledger), ImportCounts(added, known, later)


def pick_tables(
    page: FoundPage, targets: Sequence[Target], section: str | None
) -> list[tuple[Target, FoundTable]]:
    """Which table of the page is which image's: the one the page says is of it (this
    plugin's pages say), else the one under its section's heading (a site's ``registries``
    section, or ``section``), else the page's only one.

    Raises:
        PageFormatError: when the page has no such table, or several and nothing tells them
            apart.
    """
    picked = []
    for target in targets:
        named = [table for table in page.tables if table.image == target.reference.name]
        title = target.section.title if target.section is not None else section
        if title is not None:
            under = [table for table in page.tables if _same(table.heading, title)]
        else:
            under = [table for table in page.tables if not table.image]
        candidates = named or under
        if len(candidates) > 1:
            headings = ", ".join(repr(table.heading) for table in candidates if table.heading)
            raise PageFormatError(
                f"the page has {len(candidates)} tag tables"
                + (f" (under {headings})" if headings else "")
                + f" that could be {target.reference.name}'s: choose one with --section"
            )
        if candidates:
            picked.append((target, candidates[0]))
    if not picked:
        names = " or ".join(target.reference.name for target in targets)
        where = f" under a heading {section!r}" if section is not None else ""
        raise PageFormatError(f"the page has no tag table{where} of {names}")
    return picked


def _same(heading: str, title: str) -> bool:
    return " ".join(heading.lower().split()) == " ".join(title.lower().split())


def import_tables(
    cache: SnapshotCache,
    picked: Sequence[tuple[Target, FoundTable]],
    page: FoundPage,
    zone: tzinfo,
    year: int | None,
) -> dict[str, ImportCounts]:
    """Add each picked table's rows to its image's ledger on disk, under the cache's lock;
    a file is written only when its ledger changed.

    Raises:
        PageFormatError: for a date that cannot be read, or an image with no cached fetch
            (the imported history joins what a registry said; without that, nothing does).
        OSError: when the cache cannot be locked or written.
    """
    planned = [
        (target.reference.name, *observations(table, page, zone, year)) for target, table in picked
    ]
    counts = {}
    with cache.locked():
        snapshots = {image: cache.load(image) for image, _, _ in planned}
        missing = [image for image, snapshot in snapshots.items() if snapshot is None]
        if missing:
            raise PageFormatError(
                f"no cached fetch of {', '.join(missing)} in {cache.directory}: run "
                "'taghistory refresh' (or build the site once) first, so that the imported "
                "history joins what the registry says"
            )
        for image, seen, left_out in planned:
            before = snapshots[image]
            assert before is not None
            after, done = merge_observations(before, seen)
            if after != before:
                cache.store(after)
            counts[image] = done._replace(unreadable=left_out)
    return counts
