"""Tag tables as HTML: the model in, markup out. No I/O.

The markup is what Python-Markdown's ``tables`` extension makes of the hand-written tables this
plugin replaces (``<table>`` with ``<code>`` spans), so themes style it as any other table.
Everything that came from a registry is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from html import escape

from mkdocs_taghistory.history import DigestGroup

HEADERS = ("Tag (s)", "Last Changed", "Digest")


def ordinal_day(day: int) -> str:
    """``1`` -> ``1st``, ``2`` -> ``2nd``, ``11`` -> ``11th``, ``22`` -> ``22nd``."""
    suffix = "th" if 11 <= day % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def format_day(moment: datetime) -> str:
    """The short date the tables show, as ``March 18th``."""
    utc = moment.astimezone(timezone.utc)
    return f"{utc.strftime('%B')} {ordinal_day(utc.day)}"


def time_element(moment: datetime, text: str) -> str:
    """A ``<time>`` element that shows ``text`` and holds the full UTC time."""
    utc = moment.astimezone(timezone.utc)
    return (
        f'<time datetime="{utc.strftime("%Y-%m-%dT%H:%M:%SZ")}" '
        f'title="{utc.strftime("%Y-%m-%d %H:%M:%S")} UTC">{escape(text)}</time>'
    )


def _row(group: DigestGroup) -> str:
    tags = " ".join(f"<code>{escape(tag)}</code>" for tag in group.tags)
    changed = time_element(group.changed, format_day(group.changed)) if group.changed else "unknown"
    return (
        f"<tr>\n<td>{tags}</td>\n<td>{changed}</td>\n"
        f"<td><code>{escape(group.digest)}</code></td>\n</tr>"
    )


def render_table(image: str, groups: Sequence[DigestGroup], as_of: datetime | None = None) -> str:
    """The HTML for one image's tag table.

    Args:
        image: the full image reference, named when there are no tags.
        groups: the rows, in the order to show.
        as_of: when the table comes from an earlier fetch, the time of that fetch, stated in a
            note under the table.
    """
    parts = [f'<div class="taghistory" data-image="{escape(image)}">']
    if groups:
        header = "\n".join(f"<th>{title}</th>" for title in HEADERS)
        rows = "\n".join(_row(group) for group in groups)
        parts.append(
            f"<table>\n<thead>\n<tr>\n{header}\n</tr>\n</thead>\n<tbody>\n{rows}\n"
            "</tbody>\n</table>"
        )
    else:
        parts.append(f"<p>There are no tags of <code>{escape(image)}</code>.</p>")
    if as_of is not None:
        stamp = as_of.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        parts.append(
            '<p class="taghistory-as-of"><em>As of '
            f"{time_element(as_of, stamp)}: the registry could not be asked when this page was "
            "built, so these tags are from the last successful fetch.</em></p>"
        )
    parts.append("</div>")
    return "\n".join(parts)
