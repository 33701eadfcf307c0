"""Tag tables as HTML: the model in, markup out. No I/O.

The markup is what Python-Markdown's ``tables`` extension makes of the hand-written tables this
plugin replaces (``<table>`` with ``<code>`` spans), so themes style it as any other table.
Everything that came from a registry is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone, tzinfo
from html import escape

from mkdocs_taghistory.history import DigestGroup
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
    parts = [f'<div class="taghistory" data-image="{escape(image)}">']
    if groups:
        header = "\n".join(f"<th>{COLUMNS[column]}</th>" for column in columns)
        rows = "\n".join(
            "<tr>\n"
            + "\n".join(
                f"<td>{_cell(column, group, image, date_format, zone)}</td>" for column in columns
            )
            + "\n</tr>"
            for group in groups
        )
        parts.append(
            f"<table>\n<thead>\n<tr>\n{header}\n</tr>\n</thead>\n<tbody>\n{rows}\n</tbody>\n</table>"
        )
    else:
        parts.append(
            f"<p>{escape(empty)}</p>"
            if empty
            else f"<p>There are no tags of <code>{escape(image)}</code>.</p>"
        )
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
