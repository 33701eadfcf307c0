"""Find ``<< tag_history "IMAGE" key=value ... >>`` directives in Markdown source.

The scanner works on the raw source so that it can report true line numbers, and it skips
fenced code, indented code and inline code spans, because documentation must be able to show
the directive's syntax without it being expanded. It reads a whole page before it says what is
wrong, so that one build names every damaged directive, and every line that was most likely
meant as one (:mod:`.near_misses`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType

from mkdocs_taghistory.errors import DirectiveError
from mkdocs_taghistory.markdown_prose import ProseLine, mask_code_spans, prose_lines
from mkdocs_taghistory.near_misses import OTHER_QUOTES, corrected_body, markdown_near_miss
from mkdocs_taghistory.records import Record

NAME = "tag_history"

# A directive stands on a line of its own, indented at most three spaces: four would make it
# indented code.
_DIRECTIVE_LINE = re.compile(r"^ {0,3}<<[ \t]*tag_history(?![\w-])(?P<body>.*?)>>[ \t]*$")
# Anything that looks like the start of a directive, so that a damaged one is reported rather
# than left in the page as text.
_DIRECTIVE_START = re.compile(r"<<[ \t]*tag_history(?![\w-])")
# Their sources, compiled at first use (the package docstring says why).
_OPTION_KEY = r"[A-Za-z_][A-Za-z0-9_]*"
_BARE_VALUE = r"[^\s\"=]+"


class Directive(Record):
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
        raise DirectiveError(line, _quoting_problem("the image", body[position], body))
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
        key_match = re.compile(_OPTION_KEY).match(body, position)
        if key_match is None or not body.startswith("=", key_match.end()):
            raise DirectiveError(
                line, f"unexpected text {stripped.split()[0]!r}; options are written key=value"
            )
        key = key_match.group()
        position = key_match.end() + 1
        if body.startswith('"', position):
            value, position = _unescape_quoted(body, position, line)
        else:
            value_match = re.compile(_BARE_VALUE).match(body, position)
            if value_match is None:
                raise DirectiveError(line, f"option {key!r} has no value")
            value, position = value_match.group(), value_match.end()
            if value[0] in OTHER_QUOTES:
                # Single or curly quotes would be part of the value, and match nothing.
                raise DirectiveError(line, _quoting_problem(f"the value of {key}", value[0], body))
        if key in options:
            raise DirectiveError(line, f"option {key!r} is given twice")
        options[key] = value
    return Directive(image=image, line=line, options=options)


def _quoting_problem(what: str, first: str, body: str) -> str:
    """Why ``what``, which opens with ``first``, is not quoted as it must be, and the whole
    directive as it must be written."""
    if first == "'":
        wrong = f"{what} must be in double quotes, not single ones"
    elif first in OTHER_QUOTES:
        wrong = f"{what} must be in straight double quotes, not curly ones"
    else:
        wrong = f"{what} must be a double-quoted string"
    return f"{wrong}: write << {NAME} {corrected_body(body)} >>"


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


class PageScan(Record):
    """What the scan of one page found.

    Attributes:
        directives: the directives that can be read, in reading order.
        problems: directives that cannot be read, by line: errors.
        near_misses: lines that were most likely meant as a directive but are none (a
            misspelt name, a single ``<``), by line: left on the page as text, so warnings,
            which fail a strict build.
    """

    directives: tuple[Directive, ...] = ()
    problems: tuple[DirectiveError, ...] = ()
    near_misses: tuple[DirectiveError, ...] = ()


def scan_markdown(text: str) -> PageScan:
    """Every directive in Markdown ``text`` outside code, every one that cannot be read, and
    every line that was most likely meant as one."""
    found: list[Directive] = []
    problems: list[DirectiveError] = []
    near_misses: list[DirectiveError] = []
    paragraph: list[ProseLine] = []

    def flush() -> None:
        if not paragraph:
            return
        masked = mask_code_spans("\n".join(line.text for line in paragraph)).split("\n")
        for line, visible in zip(paragraph, masked, strict=True):
            number = line.number + 1
            if not _DIRECTIVE_START.search(visible):
                if (near_miss := markdown_near_miss(visible)) is not None:
                    near_misses.append(DirectiveError(number, near_miss))
                continue
            if _DIRECTIVE_LINE.match(visible) is None:
                problems.append(DirectiveError(number, _placement_problem(visible)))
                continue
            body = _DIRECTIVE_LINE.match(line.text)
            assert body is not None  # masking only blanks code and comments, outside the match
            try:
                directive = parse_body(body.group("body"), number)
            except DirectiveError as error:
                problems.append(error)
                continue
            found.append(directive._replace(indent=line.indent))
        paragraph.clear()

    expected = 0
    for line in prose_lines(text.split("\n")):
        # A gap in the indices is code or a comment; like a blank line, it ends a paragraph.
        if line.number != expected or not line.text.strip():
            flush()
        if line.text.strip():
            paragraph.append(line)
        expected = line.number + 1
    flush()
    return PageScan(tuple(found), tuple(problems), tuple(near_misses))


def find_directives(text: str) -> list[Directive]:
    """Every directive in Markdown ``text``, outside code.

    Raises:
        DirectiveError: naming every directive that cannot be read, each at its line.
    """
    scan = scan_markdown(text)
    if scan.problems:
        raise DirectiveError.joined(scan.problems)
    return list(scan.directives)
