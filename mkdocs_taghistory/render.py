"""Tag tables as HTML: the model in, markup out. No I/O.

The markup is what Python-Markdown's ``tables`` extension makes of the hand-written tables this
plugin replaces (``<table>`` with ``<code>`` spans), so themes style it as any other table.
Everything that came from a registry is escaped.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from html import escape

from mkdocs_taghistory.history import DigestGroup, Sighting

COLUMNS = {
    "tags": "Tag (s)",
    "last_changed": "Last Changed",
    "digest": "Digest",
    "pull": "Pull",
    "architectures": "Architectures",
}
"""Every column a table can have, with its heading; :func:`cell` gives each one's content."""

DEFAULT_COLUMNS = ("tags", "last_changed", "digest")
DEFAULT_DATE_FORMAT = "%B %O"
"""The seed pages' style, "March 18th": strftime codes, plus ``%O`` for an ordinal day."""

_SAMPLE_DATE = datetime(2024, 3, 18, 12, 0, tzinfo=UTC)
# strftime's codes (C89, POSIX and the glibc ones people use, such as %e and %-d), and %O;
# anything else (%Q) strftime prints as it is, which no reader wants in a date.
_STRFTIME_CODES = frozenset("aAbBcCdDeFgGhHIjklmMnpPrRsStTuUVwWxXyYzZO+")
_CODE = re.compile(r"%[-_0^#]?(?P<letter>.?)")


class DateFormatError(ValueError):
    """A date format that does not give a date."""


@dataclass(frozen=True)
class RegistrySection:
    """One section of a sectioned table: a registry and how the page introduces it.

    Attributes:
        title: the section's heading, which the table of contents lists.
        registry: ``HOST/NAMESPACE`` that the image's bare name is looked up under.
        description: Markdown shown between the heading and the table.
    """

    title: str
    registry: str
    description: str = ""


@dataclass(frozen=True)
class Piece:
    """A part of a cell: ``code`` (a tag, a digest; ``full`` when the text is shortened),
    ``time`` (a date, with ``moment``), ``text``, or ``copy`` (a button that copies ``text``;
    HTML only); HTML and Markdown each write it their way."""

    kind: str
    text: str
    moment: datetime | None = None
    full: str | None = None


Run = tuple[Piece, ...]
"""Inline content written as it stands: a heading, a sentence, the note under a table."""
Cell = tuple[Piece, ...]
"""The values of one cell (tags, a date, a digest and its copy button), set apart by spaces."""


SHORT_DIGEST_HEX = 12
"""Hex digits a short digest keeps, as ``docker images`` shows them."""


def _digest_pieces(value: str, digest: str, *, short: bool) -> list[Piece]:
    """A digest (or a pull reference), shortened if asked, and its copy button."""
    if short:
        shown = value[: len(value) - len(digest)] + digest[: len("sha256:") + SHORT_DIGEST_HEX]
        return [Piece("code", shown + "\u2026", full=value), Piece("copy", value)]
    return [Piece("code", value), Piece("copy", value)]


def format_date(moment: datetime, date_format: str) -> str:
    """Format ``moment`` with strftime codes plus ``%O``, the ordinal day (``18th``)."""
    # Split on "%%" first, so that a literal percent sign followed by O stays as written.
    parts = [part.replace("%O", ordinal_day(moment.day)) for part in date_format.split("%%")]
    return "%".join(moment.strftime(part) for part in parts)


def ordinal_day(day: int) -> str:
    """``1`` -> ``1st``, ``2`` -> ``2nd``, ``11`` -> ``11th``, ``22`` -> ``22nd``."""
    suffix = "th" if 11 <= day % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def check_date_format(date_format: str) -> str:
    """Return ``date_format`` if it formats a date to some text.

    Raises:
        DateFormatError: when it does not.
    """
    for code in _CODE.finditer(date_format.replace("%%", "")):
        if code.group("letter") not in _STRFTIME_CODES:
            raise DateFormatError(
                f"date format {date_format!r}: {code.group()} is not a date code "
                "(strftime's codes, plus %O for the ordinal day)"
            )
    try:
        sample = format_date(_SAMPLE_DATE, date_format)
    except ValueError as error:
        raise DateFormatError(f"date format {date_format!r} is not valid: {error}") from None
    if not sample.strip():
        raise DateFormatError(f"date format {date_format!r} gives empty text")
    return date_format


def shown_date(moment: datetime, date_format: str, zone: tzinfo, year: int | None) -> str:
    """``moment`` as a page writes it; the default format adds the year when it is not
    ``year`` (the fetch's): "March 18th" this year, "March 18th, 2023" otherwise."""
    local = moment.astimezone(zone)
    text = format_date(local, date_format)
    if date_format == DEFAULT_DATE_FORMAT and year is not None and local.year != year:
        text += f", {local.year}"
    return text


def cell(
    column: str,
    group: DigestGroup,
    image: str,
    date_format: str,
    zone: tzinfo,
    *,
    year: int | None = None,
    short_digests: bool = False,
) -> list[Piece]:
    """What ``column`` shows for one row: the one place each column's content is decided."""
    if column == "tags":
        return [Piece("code", tag) for tag in group.tags]
    if column == "last_changed":
        if group.changed is None:
            return [Piece("text", "unknown")]
        shown = shown_date(group.changed, date_format, zone, year)
        return [Piece("time", shown, group.changed)]
    if column == "digest":
        return _digest_pieces(group.digest, group.digest, short=short_digests)
    if column == "architectures":
        return [Piece("code", platform) for platform in group.platforms] or [
            Piece("text", "unknown")
        ]
    return _digest_pieces(f"{image}@{group.digest}", group.digest, short=short_digests)


def headings(columns: Sequence[str], labels: Mapping[str, str] | None) -> tuple[Run, ...]:
    """The columns' headings, a site's ``labels`` in place of the defaults."""
    return tuple(
        (Piece("text", (labels or {}).get(column, COLUMNS[column])),) for column in columns
    )


@dataclass(frozen=True)
class TableView:
    """One table as the reader sees it, before any markup: HTML, Markdown and the Sphinx
    extension's docutils nodes each write it their way, so what a table says is decided once.

    Attributes:
        image: the full image reference the table is of.
        headings: the column headings, in order.
        rows: the cells of each row, in the order to show.
        sentence: said instead of a table when there are no rows.
        note: said under the table when it shows an earlier fetch; empty otherwise.
    """

    image: str
    headings: tuple[Run, ...] = ()
    rows: tuple[tuple[Cell, ...], ...] = ()
    sentence: Run = ()
    note: Run = ()


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
    """
    note = as_of.run(zone) if as_of is not None else ()
    if not groups:
        if hidden or empty:
            sentence: Run = (Piece("text", hidden or empty or ""),)
        else:
            sentence = (
                Piece("text", "There are no tags of "),
                Piece("code", image),
                Piece("text", "."),
            )
        return TableView(image, headings(columns, labels), sentence=sentence, note=note)
    rows = tuple(
        tuple(
            tuple(
                cell(
                    column, group, image, date_format, zone, year=year, short_digests=short_digests
                )
            )
            for column in columns
        )
        for group in groups
    )
    return TableView(image, headings(columns, labels), rows, note=note)


def tag_history_view(
    image: str,
    tag: str,
    sightings: Sequence[Sighting],
    *,
    as_of: AsOf | None = None,
    date_format: str = DEFAULT_DATE_FORMAT,
    zone: tzinfo = UTC,
    year: int | None = None,
) -> TableView:
    """What one tag's history shows: each digest it was seen on, newest first."""
    note = as_of.run(zone) if as_of is not None else ()
    if not sightings:
        sentence = f"No history of tag {tag} of {image} has been recorded yet."
        return TableView(image, sentence=(Piece("text", sentence),), note=note)
    rows = tuple(
        (
            (Piece("code", sighting.digest),),
            (
                Piece(
                    "time",
                    shown_date(sighting.first_seen, date_format, zone, year),
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
    return TableView(image, heads, rows, note=note)


def placeholder_run(image: str) -> Run:
    """What a table becomes in a build with the plugin switched off (``enabled: false``)."""
    return (
        Piece("text", "Tag history of "),
        Piece("code", image),
        Piece("text", ": not built (taghistory is switched off for this build)."),
    )


def _html_cell(pieces: Sequence[Piece]) -> str:
    parts: list[str] = []
    for piece in pieces:
        if piece.kind == "copy" and parts:
            # The button right after its value, both in one span that never wraps; no space,
            # so the cell's text is the value alone.
            parts[-1] = f'<span class="taghistory-value">{parts[-1]}{_html_piece(piece)}</span>'
        else:
            parts.append(_html_piece(piece))
    return " ".join(parts)


def _html_run(run: Run) -> str:
    return "".join(map(_html_piece, run))


def _html_piece(piece: Piece) -> str:
    if piece.kind == "time" and piece.moment is not None:
        return time_element(piece.moment, piece.text)
    if piece.kind == "code":
        title = f' title="{escape(piece.full)}"' if piece.full else ""
        return f"<code{title}>{escape(piece.text)}</code>"
    if piece.kind == "copy":
        # No text of its own: the stylesheet draws it, so a cell's text stays the value.
        return (
            f'<button type="button" class="taghistory-copy" data-copy="{escape(piece.text)}" '
            'title="Copy" aria-label="Copy"></button>'
        )
    return escape(piece.text)


def time_element(moment: datetime, text: str) -> str:
    """A ``<time>`` element that shows ``text`` and holds the full UTC time."""
    return (
        f'<time datetime="{utc_datetime(moment)}" title="{utc_title(moment)}">{escape(text)}</time>'
    )


def utc_datetime(moment: datetime) -> str:
    """``moment`` in UTC, as a ``<time>`` element's ``datetime`` holds it."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def utc_title(moment: datetime) -> str:
    """``moment`` in UTC, as a date's tooltip shows it."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") + " UTC"


def render_html(view: TableView) -> str:
    """The HTML of one table: Python-Markdown's table markup in the wrapper every table is in,
    with the note of a table from an earlier fetch."""
    if view.rows:
        head = "\n".join(f"<th>{_html_run(heading)}</th>" for heading in view.headings)
        body = "\n".join(
            "<tr>\n" + "\n".join(f"<td>{_html_cell(cell)}</td>" for cell in row) + "\n</tr>"
            for row in view.rows
        )
        content = (
            f"<table>\n<thead>\n<tr>\n{head}\n</tr>\n</thead>\n<tbody>\n{body}\n</tbody>\n</table>"
        )
    else:
        content = f"<p>{_html_run(view.sentence)}</p>"
    parts = [f'<div class="taghistory" data-image="{escape(view.image)}">', content]
    if view.note:
        parts.append(f'<p class="taghistory-as-of"><em>{_html_run(view.note)}</em></p>')
    parts.append("</div>")
    return "\n".join(parts)


def placeholder_html(image: str) -> str:
    """The HTML of a table in a build with the plugin switched off."""
    return f'<p class="taghistory-disabled"><em>{_html_run(placeholder_run(image))}</em></p>'


@dataclass(frozen=True)
class AsOf:
    """Why a table shows an earlier fetch, and from when: the page says so under it.

    Attributes:
        moment: when that fetch was made.
        offline: the build did not ask (offline by choice), rather than failed to reach.
        wording: the site's own sentence (``{date}`` is filled in), or None for ours.
    """

    moment: datetime
    offline: bool = False
    wording: str | None = None

    def run(self, zone: tzinfo) -> Run:
        """The note: a true sentence, its date with the UTC time."""
        date = Piece("time", format_date(self.moment.astimezone(zone), "%B %O, %Y"), self.moment)
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


def section_lines(section: RegistrySection, level: int) -> list[str]:
    """The Markdown that introduces a registry's section: its heading and description."""
    lines = ["#" * level + " " + section.title, ""]
    if section.description.strip():
        lines += [*section.description.strip().splitlines(), ""]
    return lines


def render_markdown(view: TableView) -> str:
    """The table as Markdown, in the layout of the hand-written pages this replaces."""
    rows = [[_markdown(heading) for heading in view.headings]]
    rows += [[_markdown(values, " ") for values in row] for row in view.rows]
    widths = [max(len(row[index]) for row in rows) for index in range(len(view.headings))]
    lines = [
        "| " + " | ".join(text.ljust(width) for text, width in zip(row, widths, strict=True)) + " |"
        for row in rows
    ]
    lines.insert(1, "|" + "|".join("-" * (width + 2) for width in widths) + "|")
    return "\n".join(lines)


def _markdown(pieces: Sequence[Piece], between: str = "") -> str:
    return between.join(
        f"`{piece.full or piece.text}`" if piece.kind == "code" else piece.text
        for piece in pieces
        if piece.kind != "copy"
    )
