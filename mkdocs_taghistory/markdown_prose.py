"""Which lines of a Markdown page are prose, as Python-Markdown and pymdown-extensions read
them: outside fenced and indented code, HTML comments and inline code spans, each with the
container prefix it carries (a list item's or an admonition's indentation, a blockquote's
``>``). No I/O; the directive scanner reads only what this leaves.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from mkdocs_taghistory.records import Record

# The patterns' sources, compiled at first use (the package docstring says why): each is tried
# only on a line that holds what it looks for, so a page of plain prose compiles none.
# A fence opens with at most three spaces before it (four would make the line indented code).
_FENCE_OPEN = r"^ {0,3}(?P<fence>`{3,}|~{3,})(?P<info>.*)$"
_BACKTICKS = r"`+"
_HTML_COMMENT = r"(?s)<!--.*?-->"
_COMMENT_OPEN = r"^ {0,3}<!--"
# The first line of a block whose content is indented four spaces under it: a list item,
# an admonition (!!!), a collapsible block (???, pymdownx.details), a content tab (===,
# pymdownx.tabbed), a footnote's definition.
_CONTAINER_OPEN = (
    r"^ {0,3}(?:[-*+](?:[ \t]|$)|\d{1,9}[.)](?:[ \t]|$)|(?:!!!|\?\?\?\+?)[ \t]+\S"
    r"|===\+?!?[ \t]+\S|\[\^[^\]]+\]:)"
)
_CONTAINER_FIRST = frozenset("-*+!?=[")
"""What a container's opening line starts with (after up to three spaces), when not a digit."""
# "* * *", "- - -", "___": a thematic break, not a list item.
_THEMATIC_BREAK = r"^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$"
# A blockquote's marker, which every line of the quote carries (bar lazy continuations).
_QUOTE_MARKER = r"^ {0,3}> ?"


def _quote_marker(text: str) -> re.Match[str] | None:
    """A blockquote's marker at the start of ``text``, if it has one."""
    return re.match(_QUOTE_MARKER, text) if ">" in text[:4] else None


def mask_code_spans(paragraph: str) -> str:
    """Blank out inline code spans and HTML comments (keeping newlines).

    A code span opens with a run of backticks and closes with the next run of the same length;
    a run with no partner is literal text, as CommonMark has it. Comments are looked for after
    code is masked, since ``<!--`` inside code is only text.
    """
    if "`" not in paragraph and "<!--" not in paragraph:
        return paragraph
    masked = list(paragraph)
    runs = list(re.finditer(_BACKTICKS, paragraph))
    index = 0
    while index < len(runs):
        opening = runs[index]
        closing_index = next(
            (
                later
                for later in range(index + 1, len(runs))
                if len(runs[later].group()) == len(opening.group())
            ),
            None,
        )
        if closing_index is None:
            index += 1
            continue
        _blank(masked, opening.start(), runs[closing_index].end())
        index = closing_index + 1
    for comment in re.finditer(_HTML_COMMENT, "".join(masked)):
        _blank(masked, comment.start(), comment.end())
    return "".join(masked)


def _blank(chars: list[str], start: int, end: int) -> None:
    for position in range(start, end):
        if chars[position] != "\n":
            chars[position] = " "


def _closing_fence(lines: list[str], start: int, fence: str, prefix: str) -> int | None:
    """The index of the line that closes the fence opened at ``start``, if any.

    The closing fence is looked for in the container the opening one stands in: a line that
    carries the same container ``prefix`` (indentation, ``>`` markers), with at most three
    spaces before the fence. A line outside that container ends the search: the fence was
    never closed, and Python-Markdown reads it as text.
    """
    units = _prefix_units(prefix)
    for index in range(start + 1, len(lines)):
        line = lines[index]
        if not line.strip(" \t>"):
            continue  # a blank line, inside the container or not, closes nothing
        rest = _inside(line, units)
        if rest is None:
            return None
        stripped = rest.strip()
        indent = len(rest) - len(rest.lstrip(" "))
        if indent <= 3 and stripped.startswith(fence) and stripped.rstrip(fence[0]) == "":
            return index
    return None


def _prefix_units(prefix: str) -> list[str]:
    """A container prefix as its units: ``I`` for an indentation level, ``Q`` for a quote."""
    units = []
    rest = prefix
    while rest:
        if rest.startswith("\t"):
            units.append("I")
            rest = rest[1:]
        elif rest.startswith("    "):
            units.append("I")
            rest = rest[4:]
        elif quote := _quote_marker(rest):
            units.append("Q")
            rest = rest[quote.end() :]
        else:
            break
    return units


def _inside(line: str, units: list[str]) -> str | None:
    """What is left of ``line`` inside the container ``units`` describe; None if outside."""
    rest = line
    for unit in units:
        if unit == "I" and rest.startswith(("    ", "\t")):
            rest = rest[1:] if rest.startswith("\t") else rest[4:]
        elif unit == "Q" and (quote := _quote_marker(rest)):
            rest = rest[quote.end() :]
        else:
            return None
    return rest


class ProseLine(Record):
    """A line of prose: its index in the page, its text without its container prefix, and
    that prefix."""

    number: int
    text: str
    indent: str


def prose_lines(lines: list[str]) -> Iterator[ProseLine]:
    """Yield each line outside code and HTML comments, with its container prefix taken off.

    Follows Python-Markdown and pymdown-extensions, which render the pages. A block container
    (list item, admonition, details, content tab, footnote) holds the lines indented four
    spaces under its first line, nested to any depth; a blockquote holds the lines that carry
    its ``>``. What is left of a line once those prefixes are off is read as a line at the top
    of a page is: a fence without a closing fence is text, and a line indented four more
    spaces after a blank line is code.
    """
    skip_to = -1
    previous_blank = True
    in_indented_code = False
    depth = 0  # block containers open, each wanting four spaces (or a tab) more
    for index, line in enumerate(lines):
        if index <= skip_to:
            continue
        blank = not line.strip()
        prefix, text, level = "", line, 0
        while level < depth and text.startswith(("    ", "\t")):
            width = 1 if text.startswith("\t") else 4
            prefix, text, level = prefix + text[:width], text[width:], level + 1
        if not blank and level < depth and previous_blank:
            depth = level  # flush with an outer level after a blank line: the inner ones end
        while quote := _quote_marker(text):
            prefix, text = prefix + quote.group(), text[quote.end() :]
        first = text.lstrip(" ")[:1]
        opens = (
            # A digit as \d reads it (Python-Markdown's list pattern too): any script's.
            (first in _CONTAINER_FIRST or first.isdecimal())
            and re.match(_CONTAINER_OPEN, text)
            and not re.match(_THEMATIC_BREAK, text)
        )
        if not blank and opens and not text.startswith(("    ", "\t")):
            depth = level + 1
        opening = re.match(_FENCE_OPEN, text) if first in ("`", "~") else None
        if opening and not (opening.group("fence")[0] == "`" and "`" in opening.group("info")):
            closing = _closing_fence(lines, index, opening.group("fence"), prefix)
            if closing is not None:
                skip_to, previous_blank = closing, False
                continue
        if (
            first == "<"
            and re.match(_COMMENT_OPEN, text)
            and "-->" not in text[text.index("<!--") :]
        ):
            closing_comment = next(
                (later for later in range(index + 1, len(lines)) if "-->" in lines[later]),
                len(lines) - 1,
            )
            skip_to, previous_blank = closing_comment, False
            continue
        indented = text.startswith(("    ", "\t"))
        # Indented code starts after a blank line and runs until a non-blank, non-indented one;
        # an indented line right after prose is a lazy continuation, not code.
        if indented and not blank and (previous_blank or in_indented_code):
            in_indented_code = True
        elif not blank:
            in_indented_code = False
        previous_blank = blank
        if not in_indented_code:
            yield ProseLine(index, text, prefix)
