"""Writers of a table view: HTML for pages, Markdown and JSON for ``taghistory show``. No I/O.

The HTML is a plain ``<table>`` with ``<code>`` spans, as Python-Markdown's ``tables``
extension makes of the hand-written tables this plugin replaces, so themes style it as any
other table; the plugin's stylesheet (``assets/taghistory/``) fits it to the width it gets.
Everything that came from a registry is escaped. The docutils writer lives with the Sphinx
extension (``sphinx/doctree.py``), which has docutils to write with.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from html import escape
from typing import Any

from mkdocs_taghistory.dates import utc_datetime, utc_title
from mkdocs_taghistory.view import (
    COLUMNS,
    SHORT_DIGEST_HEX,
    Piece,
    Run,
    TableView,
    entries,
    has_entries,
    is_web_address,
    placeholder_run,
)

# --- HTML ---------------------------------------------------------------------------------


def copy_button(value: str, name: str) -> str:
    """A button that copies ``value``, called ``name`` ("Copy digest sha256:5a153da19d77").

    It has no text of its own (the stylesheet draws its icon), so a cell's text, selected and
    copied by hand, stays the value; its name is its ``aria-label`` and its tooltip.
    """
    return (
        f'<button type="button" class="taghistory-copy" data-copy="{escape(value)}" '
        f'title="{escape(name)}" aria-label="{escape(name)}"></button>'
    )


def search_terms(view: TableView) -> str:
    """Hidden text that makes each digest of a table findable by its short form in a site's
    search, or "" when the table has no digest.

    Search indexes split on spaces and dashes, so a 71-character digest is one word that
    ``sha256:5a153da19d77`` (what ``docker images`` shows, what people paste) never matches;
    the short forms are indexed beside the table. ``hidden``: no one sees or hears them, and
    they are outside the table, whose cells hold their values alone.
    """
    terms: list[str] = []
    for row in view.rows:
        for cell in row:
            for piece in cell:
                if piece.kind == "copy" and piece.text.startswith("sha256:"):
                    short = piece.text[len("sha256:") : len("sha256:") + SHORT_DIGEST_HEX]
                    terms += [f"sha256:{short}", short]
    if not terms:
        return ""
    return f'<p class="taghistory-search" hidden>{" ".join(terms)}</p>'


def time_markup(machine_time: str, title: str, text: str) -> str:
    """A ``<time>`` element that shows ``text``, with ``machine_time`` for tools and ``title``
    (the full UTC time) as its tooltip: a table's dates here and in the Sphinx writer."""
    return f'<time datetime="{escape(machine_time)}" title="{escape(title)}">{escape(text)}</time>'


def code_markup(text: str, full: str | None = None, css_class: str = "") -> str:
    """A ``<code>`` element that shows ``text``, with ``full`` (a whole digest) as its tooltip
    when it is shortened; ``css_class`` for a writer's own classes (Sphinx's literals')."""
    classes = f' class="{css_class}"' if css_class else ""
    title = f' title="{escape(full)}"' if full else ""
    return f"<code{classes}{title}>{escape(text)}</code>"


def _html_piece(piece: Piece) -> str:
    if piece.kind == "time" and piece.moment is not None:
        return time_markup(utc_datetime(piece.moment), utc_title(piece.moment), piece.text)
    if piece.kind == "code":
        return code_markup(piece.text, piece.full)
    if piece.kind == "copy":
        return copy_button(piece.text, piece.full or "Copy")
    if piece.kind == "link" and piece.href and is_web_address(piece.href):
        return f'<a href="{escape(piece.href)}">{_address(piece.text)}</a>'
    if piece.kind == "text" and piece.full == piece.text:
        return _address(piece.text)  # a value a registry gave (a source address)
    return escape(piece.text)


def _address(text: str) -> str:
    """An address as HTML that a narrow cell wraps after its slashes, not inside a name."""
    return escape(text).replace("/", "/<wbr>")


def _html_values(pieces: Sequence[Piece]) -> str:
    parts: list[str] = []
    for piece in pieces:
        if piece.kind == "copy" and parts:
            # The value and its button in one box: the value shows what fits (the stylesheet
            # ends it with an ellipsis), the button always shows. No space between them, so
            # the cell's text is the value alone.
            parts[-1] = f'<span class="taghistory-value">{parts[-1]}{_html_piece(piece)}</span>'
        else:
            parts.append(_html_piece(piece))
    return " ".join(parts)


def _html_cell(pieces: Sequence[Piece]) -> str:
    if not has_entries(pieces):
        return _html_values(pieces)
    split = entries(pieces)
    # Several copyable values (a platform and its digest, each): a line each.
    return " ".join(
        f'<span class="taghistory-entry">{_html_values(entry)}</span>' for entry in split
    )


def _html_run(run: Run) -> str:
    return "".join(map(_html_piece, run))


def cell_class(cell: Sequence[Piece], column: str) -> str:
    """A cell's classes: its kind (see :func:`cell_kind`) and its column's name
    (``taghistory-column-platforms``), by which the stylesheet, and a site's own, size it."""
    return f"{cell_kind(cell)} taghistory-column-{column.replace('_', '-')}"


def cell_kind(cell: Sequence[Piece]) -> str:
    """What the stylesheet lays a cell out as: a value with its copy button (ellipsis), several
    (a line each, each with its ellipsis), a date (never wrapped), or a list of values
    (wrapped between them, never inside one)."""
    kinds = {piece.kind for piece in cell}
    if has_entries(cell):
        return "taghistory-copyable taghistory-entries"
    if "copy" in kinds:
        return "taghistory-copyable"
    if "time" in kinds:
        return "taghistory-date"
    return "taghistory-list"


def render_html(view: TableView) -> str:
    """The HTML of one table in the wrapper every table is in, with the note of a table from
    an earlier fetch.

    The table has no class of its own, so a theme styles it as any other table (Material
    styles only ``table:not([class])``); its cells carry their kind and their column's
    heading (``data-label``), which the stylesheet shows beside each value when a narrow
    screen turns each row into a block.
    """
    if view.rows:
        labels = [escape(plain_text(heading), quote=True) for heading in view.headings]
        head = "\n".join(f'<th scope="col">{_html_run(heading)}</th>' for heading in view.headings)
        body = "\n".join(
            "<tr>\n"
            + "\n".join(
                f'<td class="{cell_class(cell, column)}" data-label="{label}">'
                f"{_html_cell(cell)}</td>"
                for cell, label, column in zip(row, labels, view.columns, strict=True)
            )
            + "\n</tr>"
            for row in view.rows
        )
        name = f' aria-label="{escape(view.name)}"' if view.name else ""
        content = (
            f"<table{name}>\n<thead>\n<tr>\n{head}\n</tr>\n</thead>\n"
            f"<tbody>\n{body}\n</tbody>\n</table>"
        )
    else:
        content = f"<p>{_html_run(view.sentence)}</p>"
    parts = [f'<div class="taghistory" data-image="{escape(view.image)}">', content]
    if view.rows and search_terms(view):
        parts.append(search_terms(view))
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


# Its source, compiled at first use (the package docstring says why).
_MARKDOWN_SPECIAL = r"[\\`*_\[\]<>|]"


def _code_span(text: str) -> str:
    """``text`` as a Markdown code span that no backtick or ``|`` in it can end (a registry
    says what a revision is): a fence longer than any run of backticks in it, and ``|``
    escaped, as GitHub's tables take it in code too."""
    text = text.replace("|", "\\|")
    longest = max((len(run) for run in re.findall("`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if longest else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _markdown_piece(piece: Piece) -> str:
    if piece.kind == "code":
        return _code_span(piece.text)
    # Text is text, as on a page: a registry's (a source address) must neither end a cell
    # nor become markup or HTML where the table is pasted.
    text = re.sub(_MARKDOWN_SPECIAL, r"\\\g<0>", piece.text)
    if piece.kind == "link" and piece.href and is_web_address(piece.href):
        return f"[{text}](<{piece.href.replace('>', '%3E')}>)"
    return text


def _markdown(pieces: Sequence[Piece], between: str = "") -> str:
    return between.join(_markdown_piece(piece) for piece in pieces if piece.kind != "copy")


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
            # A view's own columns (show --digest's "tag", "since") are not table columns.
            column = COLUMNS.get(name)
            many = column is not None and column.many
            if column is not None and column.keys is not None:
                document[name] = _json_pairs(cell, column.keys, many=many)
                continue
            if column is not None and column.unknown_is_null and _unknown(cell):
                document[name] = None
                continue
            document[name] = (
                [value for value in values if value is not None]
                if many
                else (values[0] if values else None)
            )
        rows.append(document)
    return rows


def _unknown(cell: Sequence[Piece]) -> bool:
    """True for a cell that says only that its value is not known."""
    return [(piece.kind, piece.text) for piece in cell] == [("missing", "unknown")]


def _json_pairs(cell: Sequence[Piece], keys: tuple[str, str], *, many: bool) -> Any:
    """A cell of values in twos as objects (``{"platform": ..., "digest": ...}``): a list of
    them where the column holds many, else the one, or ``null``."""
    values = [_json_value(piece) for piece in cell if piece.kind != "copy"]
    if all(value is None for value in values):
        values = []  # "unknown": no pair at all
    pairs = [
        {
            key: values[at + offset] if at + offset < len(values) else None
            for offset, key in enumerate(keys)
        }
        for at in range(0, len(values), 2)
    ]
    return pairs if many else (pairs[0] if pairs else None)


def plain_text(run: Run) -> str:
    """A heading, sentence or note as plain text."""
    return "".join(piece.text for piece in run if piece.kind != "copy")
