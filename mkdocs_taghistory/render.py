"""Tag tables as HTML: the model in, markup out. No I/O.

The markup is what Python-Markdown's ``tables`` extension makes of the hand-written tables this
plugin replaces (``<table>`` with ``<code>`` spans), so themes style it as any other table.
Everything that came from a registry is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone, tzinfo
from html import escape

from mkdocs_taghistory.history import DigestGroup, Sighting
from mkdocs_taghistory.options import (
    COLUMNS,
    DEFAULT_COLUMNS,
    DEFAULT_DATE_FORMAT,
    RegistrySection,
    format_date,
)


def time_element(moment: datetime, text: str) -> str:
    """A ``<time>`` element that shows ``text`` and holds the full UTC time."""
    utc = moment.astimezone(timezone.utc)
    return (
        f'<time datetime="{utc.strftime("%Y-%m-%dT%H:%M:%SZ")}" '
        f'title="{utc.strftime("%Y-%m-%d %H:%M:%S")} UTC">{escape(text)}</time>'
    )


def _cell(column: str, group: DigestGroup, image: str, date_format: str, zone: tzinfo) -> str:
    if column == "tags":
        return " ".join(f"<code>{escape(tag)}</code>" for tag in group.tags)
    if column == "last_changed":
        if group.changed is None:
            return "unknown"
        return time_element(group.changed, format_date(group.changed.astimezone(zone), date_format))
    if column == "digest":
        return f"<code>{escape(group.digest)}</code>"
    return f"<code>{escape(image)}@{escape(group.digest)}</code>"


def render_table(
    image: str,
    groups: Sequence[DigestGroup],
    *,
    as_of: datetime | None = None,
    columns: Sequence[str] = DEFAULT_COLUMNS,
    date_format: str = DEFAULT_DATE_FORMAT,
    zone: tzinfo = timezone.utc,
    empty: str | None = None,
) -> str:
    """The HTML for one image's tag table.

    Args:
        image: the full image reference, for the pull column and the empty sentence.
        groups: the rows, in the order to show.
        as_of: when the table comes from an earlier fetch, the time of that fetch, stated in a
            note under the table.
        columns: which columns, in order (see :data:`~mkdocs_taghistory.options.COLUMNS`).
        date_format: how "Last Changed" is written.
        zone: the time zone the dates are written in; tooltips always show UTC.
        empty: the sentence shown instead of an empty table (escaped here).
    """
    if not groups:
        sentence = escape(empty) if empty else f"There are no tags of <code>{escape(image)}</code>."
        return _block(image, f"<p>{sentence}</p>", as_of)
    rows = [
        [_cell(column, group, image, date_format, zone) for column in columns] for group in groups
    ]
    return _block(image, _table([COLUMNS[column] for column in columns], rows), as_of)


def render_tag_history(
    image: str,
    tag: str,
    sightings: Sequence[Sighting],
    *,
    as_of: datetime | None = None,
    date_format: str = DEFAULT_DATE_FORMAT,
    zone: tzinfo = timezone.utc,
) -> str:
    """The HTML for one tag's history: each digest it was seen on, newest first."""
    if not sightings:
        sentence = f"No history of tag {tag} of {image} has been recorded yet."
        return _block(image, f"<p>{escape(sentence)}</p>", as_of)
    rows = [
        [
            f"<code>{escape(sighting.digest)}</code>",
            time_element(
                sighting.first_seen,
                format_date(sighting.first_seen.astimezone(zone), date_format),
            ),
        ]
        for sighting in reversed(sightings)
    ]
    headings = [f"Digest of <code>{escape(tag)}</code>", "First Seen"]
    return _block(image, _table(headings, rows), as_of)


def _table(headings: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A table of ready (escaped) cells, laid out as Python-Markdown's tables are."""
    head = "\n".join(f"<th>{heading}</th>" for heading in headings)
    body = "\n".join(
        "<tr>\n" + "\n".join(f"<td>{cell}</td>" for cell in row) + "\n</tr>" for row in rows
    )
    return f"<table>\n<thead>\n<tr>\n{head}\n</tr>\n</thead>\n<tbody>\n{body}\n</tbody>\n</table>"


def _block(image: str, content: str, as_of: datetime | None) -> str:
    """The wrapper every table is in, with the "as of" note of a table from an old fetch."""
    parts = [f'<div class="taghistory" data-image="{escape(image)}">', content]
    if as_of is not None:
        stamp = as_of.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        parts.append(
            '<p class="taghistory-as-of"><em>As of '
            f"{time_element(as_of, stamp)}: the registry could not be asked when this page was "
            "built, so these tags are from the last successful fetch.</em></p>"
        )
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
) -> str:
    """The table as Markdown, in the layout of the hand-written pages this replaces."""

    def cell(column: str, group: DigestGroup) -> str:
        if column == "tags":
            return " ".join(f"`{tag}`" for tag in group.tags)
        if column == "last_changed":
            return (
                format_date(group.changed.astimezone(zone), date_format)
                if group.changed
                else "unknown"
            )
        return f"`{group.digest}`" if column == "digest" else f"`{image}@{group.digest}`"

    rows = [[COLUMNS[column] for column in columns]]
    rows += [[cell(column, group) for column in columns] for group in groups]
    widths = [max(len(row[index]) for row in rows) for index in range(len(columns))]
    lines = [
        "| " + " | ".join(text.ljust(width) for text, width in zip(row, widths, strict=True)) + " |"
        for row in rows
    ]
    lines.insert(1, "|" + "|".join("-" * (width + 2) for width in widths) + "|")
    return "\n".join(lines)
