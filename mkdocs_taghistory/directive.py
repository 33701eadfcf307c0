"""Find ``<< tag_history "IMAGE" key=value ... >>`` directives in Markdown source.

The scanner works on the raw source so that it can report true line numbers, and it skips
fenced code, indented code and inline code spans, because documentation must be able to show
the directive's syntax without it being expanded.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import NamedTuple

from mkdocs_taghistory.errors import DirectiveError

NAME = "tag_history"

# A directive stands on a line of its own, indented at most three spaces: four would make it
# indented code.
_DIRECTIVE_LINE = re.compile(r"^ {0,3}<<[ \t]*tag_history(?![\w-])(?P<body>.*?)>>[ \t]*$")
# Anything that looks like the start of a directive, so that a damaged one is reported rather
# than left in the page as text.
_DIRECTIVE_START = re.compile(r"<<[ \t]*tag_history(?![\w-])")
# A fence opens with at most three spaces before it (four would make the line indented code).
_FENCE_OPEN = re.compile(r"^ {0,3}(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_BACKTICKS = re.compile(r"`+")
_HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_COMMENT_OPEN = re.compile(r"^ {0,3}<!--")
# The first line of a block whose content is indented four spaces under it: a list item,
# an admonition (!!!), a collapsible block (???, pymdownx.details), a content tab (===,
# pymdownx.tabbed), a footnote's definition.
# "* * *", "- - -", "___": a thematic break, not a list item.
_THEMATIC_BREAK = re.compile(r"^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_CONTAINER_OPEN = re.compile(
    r"^ {0,3}(?:[-*+](?:[ \t]|$)|\d{1,9}[.)](?:[ \t]|$)|(?:!!!|\?\?\?\+?)[ \t]+\S"
    r"|===\+?!?[ \t]+\S|\[\^[^\]]+\]:)"
)
# A blockquote's marker, which every line of the quote carries (bar lazy continuations).
_QUOTE_MARKER = re.compile(r"^ {0,3}> ?")
# Python-Markdown nests list content four spaces deep.
_OPTION_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_BARE_VALUE = re.compile(r"[^\s\"=]+")


class Directive(NamedTuple):
    """One directive found in a page.

    Attributes:
        image: the image reference as written, not yet resolved against a registry.
        options: ``key=value`` options in the order written.
        line: 1-based line number in the scanned text.
        indent: the container prefix the line carries (a list item's or an admonition's
            indentation, a blockquote's ``>``), which its replacement keeps to stay inside.
    """

    image: str
    line: int
    options: Mapping[str, str] = MappingProxyType({})
    indent: str = ""


def _unescape_quoted(body: str, start: int, line: int) -> tuple[str, int]:
    """Read a double-quoted string whose opening quote is at ``start``; return it and its end."""
    chars: list[str] = []
    position = start + 1
    while position < len(body):
        char = body[position]
        if char == "\\" and position + 1 < len(body) and body[position + 1] in '"\\':
            chars.append(body[position + 1])
            position += 2
            continue
        if char == '"':
            return "".join(chars), position + 1
        chars.append(char)
        position += 1
    raise DirectiveError(line, f"unterminated quote in {NAME} directive")


def parse_body(body: str, line: int) -> Directive:
    """Parse what stands between ``<< tag_history`` and ``>>``.

    Raises:
        DirectiveError: on a missing image, an unterminated quote or stray text.
    """
    position = len(body) - len(body.lstrip())
    if position == len(body):
        raise DirectiveError(line, f'{NAME} directive names no image; write << {NAME} "IMAGE" >>')
    if body[position] != '"':
        word = body[position:].split(maxsplit=1)[0]
        raise DirectiveError(
            line, f'the image must be a double-quoted string: write << {NAME} "{word}" >>'
        )
    image, position = _unescape_quoted(body, position, line)
    if not image.strip():
        raise DirectiveError(line, f"{NAME} directive names an empty image")
    options: dict[str, str] = {}
    while True:
        rest = body[position:]
        stripped = rest.lstrip()
        if not stripped:
            break
        if stripped is rest:
            raise DirectiveError(line, f"expected a space before {stripped.split()[0]!r}")
        position += len(rest) - len(stripped)
        key_match = _OPTION_KEY.match(body, position)
        if key_match is None or not body.startswith("=", key_match.end()):
            raise DirectiveError(
                line, f"unexpected text {stripped.split()[0]!r}; options are written key=value"
            )
        key = key_match.group()
        position = key_match.end() + 1
        if body.startswith('"', position):
            value, position = _unescape_quoted(body, position, line)
        else:
            value_match = _BARE_VALUE.match(body, position)
            if value_match is None:
                raise DirectiveError(line, f"option {key!r} has no value")
            value, position = value_match.group(), value_match.end()
        if key in options:
            raise DirectiveError(line, f"option {key!r} is given twice")
        options[key] = value
    return Directive(image=image, line=line, options=options)


def _mask_code_spans(paragraph: str) -> str:
    """Blank out inline code spans and HTML comments (keeping newlines).

    A code span opens with a run of backticks and closes with the next run of the same length;
    a run with no partner is literal text, as CommonMark has it. Comments are looked for after
    code is masked, since ``<!--`` inside code is only text.
    """
    masked = list(paragraph)
    runs = list(_BACKTICKS.finditer(paragraph))
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
    for comment in _HTML_COMMENT.finditer("".join(masked)):
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
        elif quote := _QUOTE_MARKER.match(rest):
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
        elif unit == "Q" and (quote := _QUOTE_MARKER.match(rest)):
            rest = rest[quote.end() :]
        else:
            return None
    return rest


class _ProseLine(NamedTuple):
    number: int
    text: str
    indent: str


def _prose_lines(lines: list[str]) -> Iterator[_ProseLine]:
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
        while quote := _QUOTE_MARKER.match(text):
            prefix, text = prefix + quote.group(), text[quote.end() :]
        opens = _CONTAINER_OPEN.match(text) and not _THEMATIC_BREAK.match(text)
        if not blank and opens and not text.startswith(("    ", "\t")):
            depth = level + 1
        opening = _FENCE_OPEN.match(text)
        if opening and not (opening.group("fence")[0] == "`" and "`" in opening.group("info")):
            closing = _closing_fence(lines, index, opening.group("fence"), prefix)
            if closing is not None:
                skip_to, previous_blank = closing, False
                continue
        if _COMMENT_OPEN.match(text) and "-->" not in text[text.index("<!--") :]:
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
            yield _ProseLine(index, text, prefix)


def _placement_problem(line: str) -> str:
    """Say why a line that holds a directive's opening is not a well-formed directive."""
    start = _DIRECTIVE_START.search(line)
    assert start is not None
    if line[: start.start()].strip():
        return f'a {NAME} directive must stand on a line of its own, as << {NAME} "IMAGE" >>'
    if len(line) - len(line.lstrip()) > 3 or line.startswith("\t"):
        return f"a {NAME} directive may be indented at most three spaces"
    closing = line.rfind(">>")
    if closing < start.end():
        return f"the {NAME} directive is not closed with '>>'"
    return f"unexpected text {line[closing + 2 :].strip()!r} after the closing '>>'"


def find_directives(text: str) -> list[Directive]:
    """Find every directive in ``text``, outside code.

    Raises:
        DirectiveError: for the first directive that is malformed or not on a line of its own.
    """
    found: list[Directive] = []
    paragraph: list[_ProseLine] = []

    def flush() -> None:
        if not paragraph:
            return
        masked = _mask_code_spans("\n".join(line.text for line in paragraph)).split("\n")
        for line, visible in zip(paragraph, masked, strict=True):
            if not _DIRECTIVE_START.search(visible):
                continue
            if _DIRECTIVE_LINE.match(visible) is None:
                raise DirectiveError(line.number + 1, _placement_problem(visible))
            body = _DIRECTIVE_LINE.match(line.text)
            assert body is not None  # masking only blanks code and comments, outside the match
            directive = parse_body(body.group("body"), line.number + 1)
            found.append(directive._replace(indent=line.indent))
        paragraph.clear()

    expected = 0
    for line in _prose_lines(text.split("\n")):
        # A gap in the indices is code or a comment; like a blank line, it ends a paragraph.
        if line.number != expected or not line.text.strip():
            flush()
        if line.text.strip():
            paragraph.append(line)
        expected = line.number + 1
    flush()
    return found
