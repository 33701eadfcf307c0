"""Find ``<< tag_history "IMAGE" key=value ... >>`` directives in Markdown source.

The scanner works on the raw source so that it can report true line numbers, and it skips
fenced code, indented code and inline code spans, because documentation must be able to show
the directive's syntax without it being expanded.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from mkdocs_taghistory.errors import DirectiveError, InvalidReferenceError
from mkdocs_taghistory.reference import ImageReference, parse_reference

NAME = "tag_history"

# A directive stands on a line of its own, indented at most three spaces: four would make it
# indented code.
_DIRECTIVE_LINE = re.compile(r"^ {0,3}<<[ \t]*tag_history(?![\w-])(?P<body>.*?)>>[ \t]*$")
# Anything that looks like the start of a directive, so that a damaged one is reported rather
# than left in the page as text.
_DIRECTIVE_START = re.compile(r"<<[ \t]*tag_history(?![\w-])")
_FENCE_OPEN = re.compile(r"^[ \t]*(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
_BACKTICKS = re.compile(r"`+")
_OPTION_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_BARE_VALUE = re.compile(r"[^\s\"=]+")


@dataclass(frozen=True)
class Directive:
    """One directive found in a page.

    Attributes:
        image: the image reference as written, not yet resolved against a registry.
        options: ``key=value`` options in the order written.
        line: 1-based line number in the scanned text.
    """

    image: str
    line: int
    options: Mapping[str, str] = field(default_factory=dict)


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
    """Blank out inline code spans (keeping newlines) so directives inside them are not seen.

    A code span opens with a run of backticks and closes with the next run of the same length;
    a run with no partner is literal text, as CommonMark has it.
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
        for position in range(opening.start(), runs[closing_index].end()):
            if masked[position] != "\n":
                masked[position] = " "
        index = closing_index + 1
    return "".join(masked)


def _prose_lines(lines: list[str]) -> Iterator[tuple[int, str]]:
    """Yield ``(index, line)`` for each line outside fenced and indented code."""
    fence: str | None = None
    previous_blank = True
    in_indented_code = False
    for index, line in enumerate(lines):
        if fence is not None:
            stripped = line.strip()
            if stripped.startswith(fence) and stripped.rstrip(fence[0]) == "":
                fence = None
            previous_blank = False
            continue
        opening = _FENCE_OPEN.match(line)
        if opening and not (opening.group("fence")[0] == "`" and "`" in opening.group("info")):
            fence = opening.group("fence")
            previous_blank = False
            continue
        blank = not line.strip()
        indented = line.startswith(("    ", "\t"))
        # Indented code starts after a blank line and runs until a non-blank, non-indented one;
        # an indented line right after prose is a lazy continuation, not code.
        if indented and not blank and (previous_blank or in_indented_code):
            in_indented_code = True
        elif not blank:
            in_indented_code = False
        previous_blank = blank
        if not in_indented_code:
            yield index, line


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
    lines = text.split("\n")
    found: list[Directive] = []
    paragraph: list[tuple[int, str]] = []

    def flush() -> None:
        if not paragraph:
            return
        masked = _mask_code_spans("\n".join(line for _, line in paragraph)).split("\n")
        for (index, line), visible in zip(paragraph, masked, strict=False):
            if not _DIRECTIVE_START.search(visible):
                continue
            if _DIRECTIVE_LINE.match(visible) is None:
                raise DirectiveError(index + 1, _placement_problem(visible))
            body = _DIRECTIVE_LINE.match(line)
            assert body is not None  # masking only blanks code spans, which the match excluded
            found.append(parse_body(body.group("body"), index + 1))
        paragraph.clear()

    expected = 0
    for index, line in _prose_lines(lines):
        # A gap in the indices is code; code, like a blank line, ends a paragraph.
        if index != expected or not line.strip():
            flush()
        if line.strip():
            paragraph.append((index, line))
        expected = index + 1
    flush()
    return found


# Options arrive with the directive-options issue; until then every option is unknown, and
# saying so beats ignoring it.
KNOWN_OPTIONS: frozenset[str] = frozenset()


@dataclass(frozen=True)
class PlacedDirective:
    """A directive with its image resolved to a full reference."""

    directive: Directive
    reference: ImageReference


def read_directives(text: str, default_registry: str) -> list[PlacedDirective]:
    """Find every directive in ``text`` and resolve its image against ``default_registry``.

    Raises:
        DirectiveError: for the first directive that is malformed, has an unknown option or
            names an invalid image.
    """
    placed = []
    for directive in find_directives(text):
        for key in directive.options:
            if key not in KNOWN_OPTIONS:
                close = difflib.get_close_matches(key, sorted(KNOWN_OPTIONS), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise DirectiveError(directive.line, f"unknown option {key!r}{hint}")
        try:
            reference = parse_reference(directive.image, default_registry)
        except InvalidReferenceError as error:
            raise DirectiveError(directive.line, str(error)) from None
        placed.append(PlacedDirective(directive, reference))
    return placed
