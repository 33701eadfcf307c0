"""What a table shows, before any markup: rows in; headings, typed cells, a sentence and a
note out. No I/O.

Every writer renders a :class:`TableView` (HTML, Markdown and JSON in :mod:`.render`, docutils
nodes in ``sphinx/doctree.py``), so what a table says is decided here once, for every front
end and for ``taghistory show``. A new column is one entry of :data:`COLUMNS`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, tzinfo

from mkdocs_taghistory.cells import (
    SHORT_DIGEST_HEX,
    Cell,
    CellStyle,
    Piece,
    Run,
    digest_pieces,
    entries,
    has_entries,
    is_web_address,
    platforms,
    signatures,
    source,
)
from mkdocs_taghistory.dates import DEFAULT_DATE_FORMAT, full_date, needs_year, shown_date
from mkdocs_taghistory.history import DigestGroup, Sighting
from mkdocs_taghistory.records import Record

__all__ = [
    "SHORT_DIGEST_HEX",
    "Cell",
    "CellStyle",
    "Piece",
    "Run",
    "entries",
    "has_entries",
    "is_web_address",
]


class Column(Record):
    """One column a table can have.

    Attributes:
        heading: its default heading (a site's ``labels`` replace it).
        many: a cell holds a list of values (tags, platforms), not one; JSON writes a list.
        cell: what the column shows for one row.
        keys: for a cell of values that go in twos (a platform and its digest), the names
            JSON gives each pair's values: it writes an object a pair.
        needs: what a fetch must learn of each digest for it (:data:`.WANTED_FACTS`): asked
            only when a table shows the column.
        unknown_is_null: JSON writes an unknown cell as ``null`` rather than an empty list,
            where empty means something (no signature at all).
    """

    heading: str
    many: bool
    cell: Callable[[DigestGroup, CellStyle], list[Piece]]
    keys: tuple[str, str] | None = None
    needs: frozenset[str] = frozenset()
    unknown_is_null: bool = False


def _tags(group: DigestGroup, style: CellStyle) -> list[Piece]:
    return [Piece("code", tag) for tag in group.tags]


def _last_changed(group: DigestGroup, style: CellStyle) -> list[Piece]:
    if group.changed is None:
        return [Piece("missing", "unknown")]
    shown = shown_date(
        group.changed,
        style.date_format,
        style.zone,
        with_year=style.with_year,
        locale=style.locale,
    )
    return [Piece("time", shown, group.changed)]


def _digest(group: DigestGroup, style: CellStyle) -> list[Piece]:
    return digest_pieces(group.digest, group.digest, "digest", short=style.short_digests)


def _pull(group: DigestGroup, style: CellStyle) -> list[Piece]:
    reference = f"{style.image}@{group.digest}"
    return digest_pieces(reference, group.digest, "pull reference", short=style.short_digests)


def _architectures(group: DigestGroup, style: CellStyle) -> list[Piece]:
    return [Piece("code", platform) for platform in group.facts.platforms] or [
        Piece("missing", "unknown")
    ]


COLUMNS: Mapping[str, Column] = {
    "tags": Column("Tag (s)", many=True, cell=_tags),
    "last_changed": Column("Last Changed", many=False, cell=_last_changed),
    "digest": Column("Digest", many=False, cell=_digest),
    "pull": Column("Pull", many=False, cell=_pull),
    "architectures": Column(
        "Architectures", many=True, cell=_architectures, needs=frozenset({"platforms"})
    ),
    "platforms": Column(
        "Platforms",
        many=True,
        cell=platforms,
        keys=("platform", "digest"),
        needs=frozenset({"platforms"}),
    ),
    "signatures": Column(
        "Signatures",
        many=True,
        cell=signatures,
        needs=frozenset({"referrers"}),
        unknown_is_null=True,
    ),
    "source": Column(
        "Source", many=False, cell=source, keys=("url", "revision"), needs=frozenset({"source"})
    ),
}
"""Every column a table can have, by the name ``columns=`` and ``labels`` use."""

DEFAULT_COLUMNS = ("tags", "last_changed", "digest")


def facts_needed(columns: Sequence[str]) -> frozenset[str]:
    """What a fetch must learn of each digest for a table of ``columns``."""
    return frozenset().union(*(COLUMNS[name].needs for name in columns if name in COLUMNS))


def headings(columns: Sequence[str], labels: Mapping[str, str] | None) -> tuple[Run, ...]:
    """The columns' headings, a site's ``labels`` in place of the defaults."""
    return tuple(
        (Piece("text", (labels or {}).get(column, COLUMNS[column].heading)),) for column in columns
    )


class TableView(Record):
    """One table as the reader sees it, before any markup.

    Attributes:
        image: the full image reference the table is of.
        name: what the table is called for assistive technology ("Tags of cgr.dev/...").
        columns: the columns' names, in order (the keys of a JSON row).
        headings: the column headings, in order.
        rows: the cells of each row, in the order to show.
        sentence: said instead of a table when there are no rows.
        note: said under the table when it shows an earlier fetch; empty otherwise.
    """

    image: str
    name: str = ""
    columns: tuple[str, ...] = ()
    headings: tuple[Run, ...] = ()
    rows: tuple[tuple[Cell, ...], ...] = ()
    sentence: Run = ()
    note: Run = ()


class AsOf(Record):
    """Why a table shows an earlier fetch, and from when: the page says so under it.

    Attributes:
        moment: when that fetch was made.
        offline: the build did not ask (offline by choice), rather than failed to reach.
        wording: the site's own sentence (``{date}`` is filled in), or None for ours.
    """

    moment: datetime
    offline: bool = False
    wording: str | None = None

    def run(self, zone: tzinfo, locale: str | None = None) -> Run:
        """The note: a true sentence, its date (in ``locale``'s words) with the UTC time."""
        date = Piece("time", full_date(self.moment, zone, locale), self.moment)
        if self.wording is not None:
            words = self.wording.split("{date}")
            run: list[Piece] = [Piece("text", words[0])]
            for after in words[1:]:
                run += [date, Piece("text", after)]
            return tuple(piece for piece in run if piece.text)
        if self.offline:
            return (Piece("text", "Tags as of "), date, Piece("text", "."))
        return (
            Piece("text", "The registry could not be reached; tags as of "),
            date,
            Piece("text", "."),
        )


def table_view(
    image: str,
    groups: Sequence[DigestGroup],
    *,
    as_of: AsOf | None = None,
    columns: Sequence[str] = DEFAULT_COLUMNS,
    date_format: str = DEFAULT_DATE_FORMAT,
    zone: tzinfo = UTC,
    empty: str | None = None,
    hidden: str | None = None,
    year: int | None = None,
    labels: Mapping[str, str] | None = None,
    short_digests: bool = False,
    section: str | None = None,
    locale: str | None = None,
) -> TableView:
    """What one image's tag table shows.

    Args:
        image: the full image reference, for the pull column and the empty sentence.
        groups: the rows, in the order to show.
        as_of: when the table comes from an earlier fetch, the time of that fetch, stated in a
            note under the table.
        columns: which columns, in order (see :data:`COLUMNS`).
        date_format: how "Last Changed" is written.
        zone: the time zone the dates are written in; tooltips always show UTC.
        empty: the sentence shown instead of a table of an image with no tags.
        hidden: the sentence shown when the image has tags but the directive's filters hide
            every row, as "No tag changed in the last 30 days".
        year: the fetch's year; the default date format adds the year to other years' dates.
        labels: headings that replace the columns' own.
        short_digests: show digests shortened, the full value in the title and the copy
            button.
        section: the title of the registry's section the table is in, if any (it joins the
            table's accessible name).
        locale: the language dates are written in; None for English ("March 18th").
    """
    note = as_of.run(zone, locale) if as_of is not None else ()
    names = tuple(columns)
    heads = headings(names, labels)
    name = f"Tags of {image}" + (f", {section}" if section else "")
    if not groups:
        if hidden or empty:
            sentence: Run = (Piece("text", hidden or empty or ""),)
        else:
            sentence = (
                Piece("text", "There are no tags of "),
                Piece("code", image),
                Piece("text", "."),
            )
        return TableView(image, name, names, heads, sentence=sentence, note=note)
    changes = [group.changed for group in groups if group.changed is not None]
    style = CellStyle(
        image,
        date_format,
        zone,
        needs_year(changes, date_format, zone, year),
        short_digests,
        locale,
    )
    cells = [COLUMNS[column].cell for column in names]
    rows = tuple(tuple(tuple(cell(group, style)) for cell in cells) for group in groups)
    return TableView(image, name, names, heads, rows, note=note)


def tag_history_view(
    image: str,
    tag: str,
    sightings: Sequence[Sighting],
    *,
    as_of: AsOf | None = None,
    date_format: str = DEFAULT_DATE_FORMAT,
    zone: tzinfo = UTC,
    year: int | None = None,
    locale: str | None = None,
) -> TableView:
    """What one tag's history shows: each digest it was seen on, newest first."""
    note = as_of.run(zone, locale) if as_of is not None else ()
    name = f"History of tag {tag} of {image}"
    if not sightings:
        sentence = f"No history of tag {tag} of {image} has been recorded yet."
        return TableView(image, name, sentence=(Piece("text", sentence),), note=note)
    with_year = needs_year([seen.first_seen for seen in sightings], date_format, zone, year)
    rows = tuple(
        (
            tuple(digest_pieces(sighting.digest, sighting.digest, "digest", short=False)),
            (
                Piece(
                    "time",
                    shown_date(
                        sighting.first_seen,
                        date_format,
                        zone,
                        with_year=with_year,
                        locale=locale,
                    ),
                    sighting.first_seen,
                ),
            ),
        )
        for sighting in reversed(sightings)
    )
    # When this site first saw the tag there, which is not when it was pushed.
    heads = (
        (Piece("text", "Digest of "), Piece("code", tag)),
        (Piece("text", "First Seen by This Site"),),
    )
    return TableView(image, name, ("digest", "first_seen"), heads, rows, note=note)


def placeholder_run(image: str) -> Run:
    """What a table becomes in a build with the plugin switched off (``enabled: false``)."""
    return (
        Piece("text", "Tag history of "),
        Piece("code", image),
        Piece("text", ": not built (taghistory is switched off for this build)."),
    )
