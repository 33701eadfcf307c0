"""Which tags point at a digest, and which did before: ``taghistory show IMAGE --digest
PREFIX``, as a table view every writer of :mod:`.render` writes. No I/O."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, tzinfo

from mkdocs_taghistory.dates import DEFAULT_DATE_FORMAT, format_date
from mkdocs_taghistory.errors import TagHistoryError
from mkdocs_taghistory.filters import TagFilter
from mkdocs_taghistory.history import TagSnapshot
from mkdocs_taghistory.moves import Move, digests_starting, tag_moves
from mkdocs_taghistory.records import Record
from mkdocs_taghistory.view import AsOf, Cell, Piece, TableView

_PREFIX = re.compile(r"(?:sha256:)?[0-9a-f]{1,64}", re.IGNORECASE)
SHORTEST_PREFIX = 4
"""Hex digits a prefix needs at least: fewer match half an image's digests, never one."""


class DigestLookupError(TagHistoryError):
    """A prefix that is not one digest of the image: malformed, unknown or ambiguous."""


class Found(Record):
    """The one digest a prefix names, in one image's snapshot."""

    image: str
    digest: str
    snapshot: TagSnapshot


def check_prefix(prefix: str) -> str:
    """``prefix`` if it can start a digest (``sha256:`` optional, at least 4 hex digits).

    Raises:
        DigestLookupError: saying what a prefix looks like.
    """
    hex_digits = prefix.lower().removeprefix("sha256:")
    if not _PREFIX.fullmatch(prefix) or len(hex_digits) < SHORTEST_PREFIX:
        raise DigestLookupError(
            f"{prefix[:80]!r} is not the start of a digest: give sha256: and at least "
            f"{SHORTEST_PREFIX} hex digits, or the hex digits alone (as docker images shows them)"
        )
    return prefix.lower()


def find_digest(prefix: str, snapshots: Sequence[tuple[str, TagSnapshot]]) -> Found:
    """The one digest ``prefix`` starts, among the images' snapshots (``(image, snapshot)``).

    Raises:
        DigestLookupError: when no digest or more than one starts with it.
    """
    wanted = check_prefix(prefix)
    matches = [
        Found(image, digest, snapshot)
        for image, snapshot in snapshots
        for digest in digests_starting(snapshot, wanted)
    ]
    names = " and ".join(image for image, _ in snapshots)
    if not matches:
        raise DigestLookupError(
            f"no digest of {names} that this site has seen starts with {prefix}"
        )
    if len(matches) > 1:
        listed = ", ".join(f"{found.image}@{found.digest[:19]}…" for found in matches[:5])
        more = f" and {len(matches) - 5} more" if len(matches) > 5 else ""
        raise DigestLookupError(
            f"{prefix} is ambiguous: {len(matches)} digests start with it ({listed}{more}); "
            "give more of it"
        )
    return matches[0]


def _time(moment: datetime | None, date_format: str, zone: tzinfo, with_year: bool) -> Piece:
    if moment is None:
        return Piece("missing", "unknown")
    local = moment.astimezone(zone)
    text = format_date(local, date_format) + (f", {local.year}" if with_year else "")
    return Piece("time", text, moment)


def digest_view(
    found: Found,
    tag_filter: TagFilter | None = None,
    *,
    as_of: AsOf | None = None,
    date_format: str = DEFAULT_DATE_FORMAT,
    zone: tzinfo = UTC,
) -> TableView:
    """The tags that point at ``found.digest`` now, then those that did before, newest first,
    with when each was seen there (and, for earlier ones, when it moved on)."""
    snapshot = found.snapshot
    moves = [move for move in tag_moves(snapshot, tag_filter) if move.digest == found.digest]
    moves.sort(key=lambda move: not move.current)  # stable: newest first within each
    note = as_of.run(zone) if as_of is not None else ()
    if not moves:
        sentence = "No tag this site shows has been seen on this digest."
        return TableView(found.image, sentence=(Piece("text", sentence),), note=note)
    moments = [moment for move in moves for moment in (move.at, move.until) if moment]
    # The tables' rule: the default format writes the year in every row when one is not the
    # fetch's.
    year = snapshot.fetched_at.year
    with_year = date_format == DEFAULT_DATE_FORMAT and any(
        moment.astimezone(zone).year != year for moment in moments
    )
    heads = tuple((Piece("text", text),) for text in ("Tag", "Points at It", "Since", "Until"))
    return TableView(
        found.image,
        columns=("tag", "state", "since", "until"),
        headings=heads,
        rows=tuple(_row(move, date_format, zone, with_year) for move in moves),
        note=note,
    )


def _row(move: Move, date_format: str, zone: tzinfo, with_year: bool) -> tuple[Cell, ...]:
    until = _time(move.until, date_format, zone, with_year)
    return (
        (Piece("code", move.tag),),
        (Piece("text", "now" if move.current else "before"),),
        (_time(move.at, date_format, zone, with_year),),
        # Still there: no end (JSON's null), and an empty cell.
        (Piece("missing", ""),) if move.current else (until,),
    )
