"""Writers of a table view: HTML for pages, Markdown and JSON for ``taghistory show``. No I/O.

The HTML is what Python-Markdown's ``tables`` extension makes of the hand-written tables this
plugin replaces (``<table>`` with ``<code>`` spans), so themes style it as any other table.
Everything that came from a registry is escaped. The docutils writer lives with the Sphinx
extension (``sphinx/doctree.py``), which has docutils to write with.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from html import escape
from typing import Any

from mkdocs_taghistory.dates import utc_datetime, utc_title
from mkdocs_taghistory.view import COLUMNS, Piece, Run, TableView, placeholder_run

# --- HTML ---------------------------------------------------------------------------------


def copy_button(value: str) -> str:
    """A button that copies ``value``; it has no text of its own (the stylesheet draws it), so
    a cell's text stays the value."""
    return (
        f'<button type="button" class="taghistory-copy" data-copy="{escape(value)}" '
        'title="Copy" aria-label="Copy"></button>'
    )


def time_element(moment: datetime, text: str) -> str:
    """A ``<time>`` element that shows ``text`` and holds the full UTC time."""
    return (
        f'<time datetime="{utc_datetime(moment)}" title="{utc_title(moment)}">{escape(text)}</time>'
    )


def _html_piece(piece: Piece) -> str:
    if piece.kind == "time" and piece.moment is not None:
        return time_element(piece.moment, piece.text)
    if piece.kind == "code":
        title = f' title="{escape(piece.full)}"' if piece.full else ""
        return f"<code{title}>{escape(piece.text)}</code>"
    if piece.kind == "copy":
        return copy_button(piece.text)
    return escape(piece.text)


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


# --- Markdown -----------------------------------------------------------------------------


def section_lines(title: str, description: str, level: int) -> list[str]:
    """The Markdown that introduces a registry's section: its heading and description."""
    lines = ["#" * level + " " + title, ""]
    if description.strip():
        lines += [*description.strip().splitlines(), ""]
    return lines


def _markdown(pieces: Sequence[Piece], between: str = "") -> str:
    return between.join(
        f"`{piece.text}`" if piece.kind == "code" else piece.text
        for piece in pieces
        if piece.kind != "copy"
    )


def render_markdown(view: TableView) -> str:
    """The table as Markdown, in the layout of the hand-written pages this replaces; the
    sentence in its place when there are no rows."""
    if not view.rows:
        return _markdown(view.sentence)
    rows = [[_markdown(heading) for heading in view.headings]]
    rows += [[_markdown(values, " ") for values in row] for row in view.rows]
    widths = [max(len(row[index]) for row in rows) for index in range(len(view.headings))]
    lines = [
        "| " + " | ".join(text.ljust(width) for text, width in zip(row, widths, strict=True)) + " |"
        for row in rows
    ]
    lines.insert(1, "|" + "|".join("-" * (width + 2) for width in widths) + "|")
    return "\n".join(lines)


# --- JSON ---------------------------------------------------------------------------------


def _json_value(piece: Piece) -> str | None:
    if piece.kind == "missing":
        return None
    if piece.kind == "time" and piece.moment is not None:
        return utc_datetime(piece.moment)
    return piece.value


def json_rows(view: TableView) -> list[dict[str, Any]]:
    """The rows as JSON objects, a key a column: a list where a cell holds many values (tags,
    platforms), else one value; whole values (never shortened), times in UTC, ``null`` where
    the registry gave none."""
    rows = []
    for row in view.rows:
        document: dict[str, Any] = {}
        for name, cell in zip(view.columns, row, strict=True):
            values = [_json_value(piece) for piece in cell if piece.kind != "copy"]
            many = name in COLUMNS and COLUMNS[name].many
            document[name] = (
                [value for value in values if value is not None]
                if many
                else (values[0] if values else None)
            )
        rows.append(document)
    return rows


def plain_text(run: Run) -> str:
    """A heading, sentence or note as plain text."""
    return "".join(piece.text for piece in run if piece.kind != "copy")
