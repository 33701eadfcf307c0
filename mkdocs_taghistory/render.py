"""Tag tables as HTML: the model in, markup out. No I/O.

The markup is what Python-Markdown's ``tables`` extension makes of the hand-written tables this
plugin replaces (``<table>`` with ``<code>`` spans), so themes style it as any other table.
Everything that came from a registry is escaped.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone, tzinfo
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

_SAMPLE_DATE = datetime(2024, 3, 18, 12, 0, tzinfo=timezone.utc)
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


def headings(
    columns: Sequence[str], labels: Mapping[str, str] | None, written: Callable[[str], str]
) -> list[str]:
    """The columns' headings, a site's ``labels`` in place of the defaults, as ``written``."""
    return [written((labels or {}).get(column, COLUMNS[column])) for column in columns]


def _html(pieces: Sequence[Piece]) -> str:
    parts: list[str] = []
    for piece in pieces:
        if piece.kind == "copy" and parts:
            # The button right after its value, both in one span that never wraps; no space,
            # so the cell's text is the value alone.
            parts[-1] = f'<span class="taghistory-value">{parts[-1]}{_html_piece(piece)}</span>'
        else:
            parts.append(_html_piece(piece))
    return " ".join(parts)


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


def _markdown(pieces: Sequence[Piece]) -> str:
    return " ".join(
        f"`{piece.full or piece.text}`" if piece.kind == "code" else piece.text
        for piece in pieces
        if piece.kind != "copy"
    )


def time_element(moment: datetime, text: str) -> str:
    """A ``<time>`` element that shows ``text`` and holds the full UTC time."""
    utc = moment.astimezone(timezone.utc)
    return (
        f'<time datetime="{utc.strftime("%Y-%m-%dT%H:%M:%SZ")}" '
        f'title="{utc.strftime("%Y-%m-%d %H:%M:%S")} UTC">{escape(text)}</time>'
    )


def render_table(
    image: str,
    groups: Sequence[DigestGroup],
    *,
    as_of: AsOf | None = None,
    columns: Sequence[str] = DEFAULT_COLUMNS,
    date_format: str = DEFAULT_DATE_FORMAT,
    zone: tzinfo = timezone.utc,
    empty: str | None = None,
    hidden: str | None = None,
    year: int | None = None,
    labels: Mapping[str, str] | None = None,
    short_digests: bool = False,
) -> str:
    """The HTML for one image's tag table.

    Args:
        image: the full image reference, for the pull column and the empty sentence.
        groups: the rows, in the order to show.
        as_of: when the table comes from an earlier fetch, the time of that fetch, stated in a
            note under the table.
        columns: which columns, in order (see :data:`COLUMNS`).
        date_format: how "Last Changed" is written.
        zone: the time zone the dates are written in; tooltips always show UTC.
        empty: the sentence shown instead of a table of an image with no tags (escaped here).
        hidden: the sentence shown when the image has tags but the directive's filters hide
            every row (escaped here), as "No tag changed in the last 30 days".
        year: the fetch's year; the default date format adds the year to other years' dates.
        labels: headings that replace the columns' own (escaped here).
        short_digests: show digests shortened, the full value in the title and the copy
            button.
    """
    if not groups:
        if hidden:
            sentence = escape(hidden)
        else:
            sentence = (
                escape(empty) if empty else f"There are no tags of <code>{escape(image)}</code>."
            )
        return _block(image, f"<p>{sentence}</p>", as_of, zone)
    rows = [
        [
            _html(
                cell(
                    column, group, image, date_format, zone, year=year, short_digests=short_digests
                )
            )
            for column in columns
        ]
        for group in groups
    ]
    return _block(image, _table(headings(columns, labels, escape), rows), as_of, zone)


def render_tag_history(
    image: str,
    tag: str,
    sightings: Sequence[Sighting],
    *,
    as_of: AsOf | None = None,
    date_format: str = DEFAULT_DATE_FORMAT,
    zone: tzinfo = timezone.utc,
    year: int | None = None,
) -> str:
    """The HTML for one tag's history: each digest it was seen on, newest first."""
    if not sightings:
        sentence = f"No history of tag {tag} of {image} has been recorded yet."
        return _block(image, f"<p>{escape(sentence)}</p>", as_of, zone)
    rows = [
        [
            f"<code>{escape(sighting.digest)}</code>",
            time_element(
                sighting.first_seen,
                shown_date(sighting.first_seen, date_format, zone, year),
            ),
        ]
        for sighting in reversed(sightings)
    ]
    # When this site first saw the tag there, which is not when it was pushed.
    headings = [f"Digest of <code>{escape(tag)}</code>", "First Seen by This Site"]
    return _block(image, _table(headings, rows), as_of, zone)


def _table(headings: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A table of ready (escaped) cells, laid out as Python-Markdown's tables are."""
    head = "\n".join(f"<th>{heading}</th>" for heading in headings)
    body = "\n".join(
        "<tr>\n" + "\n".join(f"<td>{cell}</td>" for cell in row) + "\n</tr>" for row in rows
    )
    return f"<table>\n<thead>\n<tr>\n{head}\n</tr>\n</thead>\n<tbody>\n{body}\n</tbody>\n</table>"


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

    def note(self, zone: tzinfo) -> str:
        """The note's HTML: a true sentence, its date a ``<time>`` with the UTC time."""
        local = self.moment.astimezone(zone)
        date = time_element(self.moment, format_date(local, "%B %O, %Y"))
        if self.wording is not None:
            sentence = escape(self.wording).replace("{date}", date)
        elif self.offline:
            sentence = f"Tags as of {date}."
        else:
            sentence = f"The registry could not be reached; tags as of {date}."
        return f'<p class="taghistory-as-of"><em>{sentence}</em></p>'


def _block(image: str, content: str, as_of: AsOf | None, zone: tzinfo = timezone.utc) -> str:
    """The wrapper every table is in, with the note of a table from an earlier fetch."""
    parts = [f'<div class="taghistory" data-image="{escape(image)}">', content]
    if as_of is not None:
        parts.append(as_of.note(zone))
    parts.append("</div>")
    return "\n".join(parts)


def section_lines(section: RegistrySection, level: int) -> list[str]:
    """The Markdown that introduces a registry's section: its heading and description."""
    lines = ["#" * level + " " + section.title, ""]
    if section.description.strip():
        lines += [*section.description.strip().splitlines(), ""]
    return lines


def markdown_table(
    image: str,
    groups: Sequence[DigestGroup],
    *,
    columns: Sequence[str] = DEFAULT_COLUMNS,
    date_format: str = DEFAULT_DATE_FORMAT,
    zone: tzinfo = timezone.utc,
    year: int | None = None,
    labels: Mapping[str, str] | None = None,
) -> str:
    """The table as Markdown, in the layout of the hand-written pages this replaces."""

    rows = [headings(columns, labels, str)]
    rows += [
        [_markdown(cell(column, group, image, date_format, zone, year=year)) for column in columns]
        for group in groups
    ]
    widths = [max(len(row[index]) for row in rows) for index in range(len(columns))]
    lines = [
        "| " + " | ".join(text.ljust(width) for text, width in zip(row, widths, strict=True)) + " |"
        for row in rows
    ]
    lines.insert(1, "|" + "|".join("-" * (width + 2) for width in widths) + "|")
    return "\n".join(lines)
