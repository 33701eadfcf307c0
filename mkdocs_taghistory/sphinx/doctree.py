"""A table view as docutils nodes, which every Sphinx builder writes.

The content is :class:`~mkdocs_taghistory.view.TableView`, decided once for every front end;
here it becomes a real docutils table (tags and digests as ``literal``), so HTML, LaTeX/PDF,
text, man pages, Texinfo and EPUB all have it. Two small node types carry what only HTML can
show, and fall back to their base type in every other builder (Sphinx's translators look a
visitor up along the node's classes): a date's ``<time>`` with the full UTC time, and a short
digest whose full value is in its tooltip; the table's accessible name and each cell's kind
and heading (which the stylesheet lays out by) are HTML-only attributes too. Copy buttons are
raw HTML, which other builders leave out.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from docutils import nodes
from sphinx.writers.html5 import HTML5Translator
from sphinx.writers.text import TextTranslator

from mkdocs_taghistory.dates import utc_datetime, utc_title
from mkdocs_taghistory.render import (
    cell_class,
    code_markup,
    copy_button,
    plain_text,
    search_terms,
    time_markup,
)
from mkdocs_taghistory.view import Piece, Run, TableView, entries, has_entries, is_web_address


class tag_time(nodes.inline):  # noqa: N801 (docutils names node classes in lower case)
    """A date: text in every builder, a ``<time>`` with the full UTC time in HTML."""


class short_literal(nodes.literal):  # noqa: N801
    """A digest shortened in HTML (the full one in its tooltip); whole in every other builder,
    where there is no tooltip to hold it."""


class labelled_table(nodes.table):  # noqa: N801
    """A table with an accessible name (``name``): ``aria-label`` in HTML, a table elsewhere."""


class labelled_entry(nodes.entry):  # noqa: N801
    """A cell that carries its column's heading (``label``), which the stylesheet shows
    beside the value when a narrow screen turns each row into a block."""


def _with_attribute(translator: HTML5Translator, tag: str, attribute: str, value: str) -> None:
    """Add ``attribute`` to the start tag the translator has just written (``<tag ...>``)."""
    written = translator.body[-1]
    if written.startswith(f"<{tag}"):
        translator.body[-1] = f'<{tag} {attribute}="{escape(value)}"' + written[len(tag) + 1 :]


def visit_labelled_table_html(translator: HTML5Translator, node: labelled_table) -> None:
    """Write the table's start tag with its ``aria-label``."""
    translator.visit_table(node)
    _with_attribute(translator, "table", "aria-label", node["name"])


def depart_labelled_table_html(translator: HTML5Translator, node: labelled_table) -> None:
    """End the table as any other."""
    translator.depart_table(node)


def visit_labelled_entry_html(translator: HTML5Translator, node: labelled_entry) -> None:
    """Write the cell's start tag with its ``data-label``."""
    translator.visit_entry(node)
    _with_attribute(translator, "td", "data-label", node["label"])


def depart_labelled_entry_html(translator: HTML5Translator, node: labelled_entry) -> None:
    """End the cell as any other."""
    translator.depart_entry(node)


class cell_paragraph(nodes.paragraph):  # noqa: N801
    """A table cell's content. The text builder wraps paragraphs at 70 characters, breaking a
    digest (71) in two; a cell is wrapped only at its column's width, between values."""


def visit_cell_paragraph_text(translator: TextTranslator, node: cell_paragraph) -> None:
    """Start the cell's text, as a paragraph's."""
    translator.new_state(0)


def depart_cell_paragraph_text(translator: TextTranslator, node: cell_paragraph) -> None:
    """End the cell's text unwrapped: the table wraps it at the column's width."""
    translator.end_state(wrap=False)


def visit_tag_time_html(translator: HTML5Translator, node: tag_time) -> None:
    """Write a date as ``<time datetime=... title=...>``."""
    translator.body.append(time_markup(node["datetime"], node["title"], node.astext()))
    raise nodes.SkipNode


def visit_short_literal_html(translator: HTML5Translator, node: short_literal) -> None:
    """Write a short digest, its full value in the tooltip."""
    translator.body.append(
        code_markup(node["shown"], node.astext(), css_class="docutils literal notranslate")
    )
    raise nodes.SkipNode


def _piece(piece: Piece) -> nodes.Node:
    if piece.kind == "time" and piece.moment is not None:
        return tag_time(
            "", piece.text, datetime=utc_datetime(piece.moment), title=utc_title(piece.moment)
        )
    if piece.kind == "code" and piece.full is not None:
        return short_literal(piece.full, piece.full, shown=piece.text)
    if piece.kind == "code":
        return nodes.literal(piece.text, piece.text)
    if piece.kind == "copy":
        return nodes.raw("", copy_button(piece.text, piece.full or "Copy"), format="html")
    if piece.kind == "link" and piece.href and is_web_address(piece.href):
        return nodes.reference(piece.text, piece.text, refuri=piece.href)
    return nodes.Text(piece.text)


def run_nodes(run: Run) -> list[nodes.Node]:
    """Inline content as it stands: a heading, a sentence, a note."""
    return [_piece(piece) for piece in run]


def _cell(pieces: Sequence[Piece]) -> list[nodes.Node]:
    """A cell's values, set apart by spaces; a copy button stays with the value before it;
    several copyable values (a platform and its digest, each) a line each in HTML."""
    if has_entries(pieces):
        split = entries(pieces)
        lines = [
            nodes.inline("", "", *_values(entry), classes=["taghistory-entry"]) for entry in split
        ]
        spaced: list[nodes.Node] = []
        for line in lines:
            spaced += [nodes.Text(" "), line] if spaced else [line]
        return spaced
    return _values(pieces)


def _values(pieces: Sequence[Piece]) -> list[nodes.Node]:
    made: list[nodes.Node] = []
    for piece in pieces:
        if piece.kind == "copy" and made:
            made[-1] = nodes.inline("", "", made[-1], _piece(piece), classes=["taghistory-value"])
            continue
        if made:
            made.append(nodes.Text(" "))
        made.append(_piece(piece))
    return made


def _entry(content: list[nodes.Node]) -> nodes.entry:
    return nodes.entry("", cell_paragraph("", "", *content))


def _cell_entry(cell: Sequence[Piece], label: str, column: str) -> nodes.entry:
    return labelled_entry(
        "",
        cell_paragraph("", "", *_cell(cell)),
        classes=cell_class(cell, column).split(),
        label=label,
    )


def table_nodes(view: TableView) -> nodes.container:
    """One table, with the sentence said in its place or the note under it."""
    box = nodes.container(classes=["taghistory"])
    if view.rows:
        group = nodes.tgroup(cols=len(view.headings))
        for width in _widths(view):
            group += nodes.colspec(colwidth=width)
        group += nodes.thead(
            "", nodes.row("", *(_entry(run_nodes(heading)) for heading in view.headings))
        )
        labels = [plain_text(heading) for heading in view.headings]
        group += nodes.tbody(
            "",
            *(nodes.row("", *map(_cell_entry, row, labels, view.columns)) for row in view.rows),
        )
        box += labelled_table("", group, classes=["taghistory-table"], name=view.name)
        if search_terms(view):
            box += nodes.raw("", search_terms(view), format="html")
    else:
        box += nodes.paragraph("", "", *run_nodes(view.sentence))
    if view.note:
        box += nodes.paragraph(
            "", "", nodes.emphasis("", "", *run_nodes(view.note)), classes=["taghistory-as-of"]
        )
    return box


def _widths(view: TableView) -> list[int]:
    """Each column's share of the width, by its longest text: what LaTeX lays tables out by
    (a digest needs far more room than a date)."""
    widths = [_length(heading) for heading in view.headings]
    for row in view.rows:
        for column, values in enumerate(row):
            # At least its longest value (which cannot be broken), at most a line's worth of
            # the rest: a cell of forty tags wraps between them.
            longest = max((_length((piece,)) for piece in values), default=0)
            whole = _length(values) + len(values) - 1
            widths[column] = max(widths[column], longest, min(whole, _MOST_WIDTH))
    return [max(1, width) for width in widths]


_MOST_WIDTH = 60


def _length(pieces: Sequence[Piece]) -> int:
    """How long ``pieces`` are as text; a literal's two more for the quotes the text builder
    writes around it."""
    return sum(
        len(piece.full or piece.text) + (2 if piece.kind == "code" else 0)
        for piece in pieces
        if piece.kind != "copy"
    )


def placeholder_nodes(run: Run) -> nodes.paragraph:
    """A table's placeholder in a build with the extension switched off."""
    return nodes.paragraph(
        "", "", nodes.emphasis("", "", *run_nodes(run)), classes=["taghistory-disabled"]
    )
