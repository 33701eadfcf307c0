"""Find ``tag-history`` directives in reStructuredText and MyST sources, before Sphinx reads them.

The Sphinx extension fetches every image of a build in one concurrent pass before any
document is read, as the MkDocs plugin does; for that it needs to know which images the
sources name. Docutils and MyST parse a document only when its turn comes, so this is a scan of
the raw text: each directive's first line, its image, and the options that decide where the
image comes from. Its line numbers are only for the plan; the directive itself reports its
problems when Sphinx parses it, at its true place. What the scan misses (a directive that
another directive generates, an ``include``) is fetched when it is parsed; what it finds in
code (an example of the syntax) it skips, so that no request is made for it. It also finds
what was most likely meant as a directive but is none (a misspelt name, a comment where a
directive was meant, the other markup's form), which Sphinx would drop or leave as text. No
I/O, and no docutils: a pure function of the text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from mkdocs_taghistory.directive import Directive, PageScan
from mkdocs_taghistory.errors import DirectiveError
from mkdocs_taghistory.near_misses import (
    folded,
    is_near_name,
    markdown_opening,
    myst_directive,
    rst_directive,
    sphinx_image,
    unquoted,
)

NAME = "tag-history"

# reStructuredText: ".. tag-history:: IMAGE" at any indentation (inside another directive's
# content, a list item, a block quote); directive names are not case-sensitive.
_RST_DIRECTIVE = re.compile(
    r"^(?P<indent>[ \t]*)\.\.[ \t]+(?P<name>[\w:.+-]+)[ \t]*::(?:[ \t]+(?P<argument>.*))?$",
)
_RST_OPTION = re.compile(r"^[ \t]+:(?P<key>[^:\s][^:]*):(?:[ \t]+(?P<value>.*))?$")
# "..", then anything that is not a directive, a target, a substitution or a footnote: a
# comment, whose indented block is comment too.
_RST_EXPLICIT = re.compile(r"^(?P<indent>[ \t]*)\.\.(?:[ \t]|$)")
# Directives whose content is not reStructuredText: a directive there is an example.
_RST_LITERAL_DIRECTIVES = frozenset(
    {
        "code",
        "code-block",
        "sourcecode",
        "literalinclude",
        "parsed-literal",
        "raw",
        "math",
        "csv-table",
        "doctest",
        "testcode",
        "testoutput",
        "testsetup",
        "testcleanup",
        "highlight",
        "graphviz",
        "digraph",
        "graph",
        "mermaid",
        "plantuml",
        "jupyter-execute",
        "ipython",
    }
)

# MyST: a fence of three or more backticks or tildes (or colons, with the colon_fence
# extension), then {tag-history} and the image.
_MYST_FENCE = re.compile(
    r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,}|:{3,})[ \t]*(?P<info>.*?)[ \t]*$",
)
_MYST_DIRECTIVE_INFO = re.compile(r"^\{(?P<name>[\w:.+-]+)\}(?:[ \t]+(?P<argument>.*))?$")
_MYST_OPTION = re.compile(r"^[ \t]*:(?P<key>[^:\s][^:]*):(?:[ \t]+(?P<value>.*))?$")
_YAML_OPTION = re.compile(r"^[ \t]*(?P<key>[A-Za-z_][\w-]*)[ \t]*:(?:[ \t]+(?P<value>.*))?$")
# MyST directives whose body is not MyST: a directive there is an example ("eval-rst" holds
# reStructuredText, scanned as such).
_MYST_LITERAL_DIRECTIVES = _RST_LITERAL_DIRECTIVES
_HTML_COMMENT_OPEN = re.compile(r"^[ \t]{0,3}<!--")
# What follows ".." in a comment that was meant as a directive: a name of one or two words,
# then one colon or two (".. tag-history: rust", ".. tag history:: rust").
_RST_COMMENTED_NAME = re.compile(
    r"^(?P<name>[A-Za-z][\w.+-]*(?:[ \t]+[A-Za-z][\w.+-]*)?)[ \t]*::?(?:[ \t]+(?P<argument>.*))?$"
)
_QUOTE_MARKERS = re.compile(r"^(?:[ \t]{0,3}>[ \t]?)+")


def quoted_image(argument: str, *, myst: bool) -> str | None:
    """What is wrong with a directive's image written in quotes, as the Markdown directive
    wants it (Sphinx takes them as part of the name); None when it is not quoted."""
    image = unquoted(argument)
    if image == argument:
        return None
    form = myst_directive(image) if myst else rst_directive(image)
    return f"the image is written without quotes in a Sphinx directive: {form}"


def _width(indent: str) -> int:
    return len(indent.expandtabs(8))


def _argument(text: str | None) -> str:
    """A directive's argument as docutils takes it: the first word (more is an error that
    docutils reports)."""
    words = (text or "").split()
    return words[0] if words else ""


def find_rst_directives(text: str) -> list[Directive]:
    """Every ``.. tag-history::`` directive of a reStructuredText source, outside literal
    blocks, code and comments."""
    return list(scan_rst(text).directives)


def scan_rst(text: str) -> PageScan:
    """Every ``.. tag-history::`` directive of a reStructuredText source, outside literal
    blocks, code and comments, and every line most likely meant as one."""
    lines = text.split("\n")
    found: list[Directive] = []
    near_misses: list[DirectiveError] = []
    literal_deeper_than: int | None = None  # the indentation of what opened a literal block
    for index, line in enumerate(lines):
        blank = not line.strip()
        indent = _width(line[: len(line) - len(line.lstrip())])
        if literal_deeper_than is not None:
            if blank or indent > literal_deeper_than:
                continue
            literal_deeper_than = None
        near_miss: str | None = None
        directive = _RST_DIRECTIVE.match(line)
        if directive is not None:
            name = directive.group("name").lower()
            if name == NAME:
                options = dict(_rst_options(lines, index + 1, _width(directive.group("indent"))))
                found.append(Directive(_argument(directive.group("argument")), index + 1, options))
            elif name in _RST_LITERAL_DIRECTIVES:
                literal_deeper_than = _width(directive.group("indent"))
            elif is_near_name(name):
                image = sphinx_image(directive.group("argument") or "")
                near_miss = f"unknown directive {name!r}; write {rst_directive(image)}"
        elif explicit := _RST_EXPLICIT.match(line):
            rest = line[explicit.end() :].lstrip()
            if not rest.startswith(("_", "|", "[")):
                literal_deeper_than = _width(explicit.group("indent"))  # a comment
                near_miss = _commented_directive(rest)
        elif line.rstrip().endswith("::"):
            # "Text::" or "::" ends a paragraph that a literal block follows, indented under
            # the paragraph (which may have begun lines further up).
            literal_deeper_than = _paragraph_indent(lines, index)
        else:
            near_miss = _markdown_form(line, rst_directive)
        if near_miss is not None:
            near_misses.append(DirectiveError(index + 1, near_miss))
    return PageScan(tuple(found), near_misses=tuple(near_misses))


def _commented_directive(rest: str) -> str | None:
    """What is wrong with a comment (what follows its ``..``) that was most likely meant as a
    ``tag-history`` directive; None when it was not."""
    commented = _RST_COMMENTED_NAME.match(rest)
    if commented is None or not is_near_name(commented.group("name")):
        return None
    image = sphinx_image(commented.group("argument") or "")
    return f"'.. {rest.strip()}' is a comment, so nothing is shown; write {rst_directive(image)}"


def _markdown_form(line: str, directive: Callable[[str], str]) -> str | None:
    """What is wrong with a line that holds the Markdown directive of MkDocs (or what was
    most likely meant as it), which Sphinx leaves as text; None when it holds none."""
    stripped = line.strip()
    opening = markdown_opening(stripped) if stripped.startswith("<") else None
    if opening is None:
        return None
    image = sphinx_image(opening.rest)
    return f"the Markdown directive of MkDocs is text in a Sphinx project; write {directive(image)}"


def _paragraph_indent(lines: list[str], index: int) -> int:
    """The indentation of the paragraph whose line ``index`` is."""
    start = index
    while start > 0 and lines[start - 1].strip():
        start -= 1
    first = lines[start]
    return _width(first[: len(first) - len(first.lstrip())])


def _rst_options(lines: list[str], start: int, indent: int) -> Iterator[tuple[str, str]]:
    """The field list of options right under a directive's first line; a value may go on
    over lines indented under its field."""
    key: str | None = None
    value: list[str] = []
    field_indent = 0
    for line in lines[start:]:
        width = _width(line[: len(line) - len(line.lstrip())])
        option = _RST_OPTION.match(line)
        if key is not None and line.strip() and width > field_indent and option is None:
            value.append(line.strip())  # the value goes on
            continue
        if key is not None:
            yield key, " ".join(value)
            key = None
        if option is None or width <= indent:
            return
        key, field_indent = option.group("key").strip().lower(), width
        value = [(option.group("value") or "").strip()] if option.group("value") else []
    if key is not None:
        yield key, " ".join(value)


def find_myst_directives(text: str) -> list[Directive]:
    """Every ```` ```{tag-history} ```` directive of a MyST Markdown source, outside code
    and HTML comments."""
    return list(scan_myst(text).directives)


def scan_myst(text: str) -> PageScan:
    """Every ```` ```{tag-history} ```` directive of a MyST Markdown source, outside code
    and HTML comments, and every line most likely meant as one."""
    # Blockquote markers off: a directive may stand in a quote, as in a list item.
    lines = [_QUOTE_MARKERS.sub("", line) for line in text.split("\n")]
    found: list[Directive] = []
    near_misses: list[DirectiveError] = []
    closing: list[tuple[str, int]] = []  # the fences open around this line, innermost last
    in_comment = False
    index = 0
    while index < len(lines):
        line = lines[index]
        if in_comment:
            in_comment = "-->" not in line
            index += 1
            continue
        fence = _MYST_FENCE.match(line)
        if fence is not None and closing and _closes(fence, closing[-1]):
            closing.pop()
            index += 1
            continue
        if fence is not None and fence.group("info"):
            directive = _MYST_DIRECTIVE_INFO.match(fence.group("info"))
            name = directive.group("name").lower() if directive else None
            if directive is not None and name == NAME:
                options, body_start = _myst_options(lines, index + 1)
                argument = _argument(directive.group("argument"))
                found.append(Directive(argument, index + 1, dict(options)))
                closing.append((fence.group("fence"), index))
                index = body_start
                continue
            if name == "eval-rst":
                # reStructuredText inside MyST: read as such, its lines counted in the page.
                end = _fence_end(lines, index + 1, fence.group("fence"))
                body = scan_rst("\n".join(lines[index + 1 : end - 1]))
                found += [
                    directive._replace(line=directive.line + index + 1)
                    for directive in body.directives
                ]
                near_misses += [
                    DirectiveError(near_miss.line + index + 1, near_miss.reason)
                    for near_miss in body.near_misses
                ]
                index = end
                continue
            if (near_miss := _misnamed_fence(fence.group("info"), name)) is not None:
                near_misses.append(DirectiveError(index + 1, near_miss))
            if name is None or name in _MYST_LITERAL_DIRECTIVES:
                # Code (```python, ```{code-block}): nothing in it is a directive.
                index = _fence_end(lines, index + 1, fence.group("fence"))
                continue
            closing.append((fence.group("fence"), index))  # a directive of MyST content
        elif fence is not None and fence.group("fence")[0] != ":":
            index = _fence_end(lines, index + 1, fence.group("fence"))  # a bare ``` fence
            continue
        elif _HTML_COMMENT_OPEN.match(line):
            in_comment = "-->" not in line[line.index("<!--") :]
        elif (near_miss := _other_form(line)) is not None:
            near_misses.append(DirectiveError(index + 1, near_miss))
        index += 1
    return PageScan(tuple(found), near_misses=tuple(near_misses))


def _misnamed_fence(info: str, name: str | None) -> str | None:
    """What is wrong with a fence that was most likely meant to open a ``tag-history``
    directive (a misspelt name in braces, or the name without them, which opens code); None
    when it was not."""
    if name is not None:
        if not is_near_name(name):
            return None
        argument = info.partition("}")[2]
        return f"unknown directive {name!r}; write {myst_directive(sphinx_image(argument))}"
    word, _, argument = info.partition(" ")
    if folded(word) != folded(NAME):
        return None
    write = myst_directive(sphinx_image(argument))
    return f"a code block, not a directive (the name goes in braces); write {write}"


def _other_form(line: str) -> str | None:
    """What is wrong with a MyST line that holds another markup's ``tag-history`` directive
    (reStructuredText's, or the Markdown directive of MkDocs), which MyST leaves as text."""
    directive = _RST_DIRECTIVE.match(line)
    if directive is not None and is_near_name(directive.group("name")):
        image = sphinx_image(directive.group("argument") or "")
        return f"a reStructuredText directive is text in MyST; write {myst_directive(image)}"
    return _markdown_form(line, myst_directive)


def _closes(fence: re.Match[str], opened: tuple[str, int]) -> bool:
    """True when ``fence`` (with no info string) closes the fence ``opened``."""
    mark = fence.group("fence")
    return not fence.group("info") and mark[0] == opened[0][0] and len(mark) >= len(opened[0])


def _fence_end(lines: list[str], start: int, mark: str) -> int:
    """The index after the line that closes a code fence opened with ``mark``."""
    for index in range(start, len(lines)):
        stripped = lines[index].strip()
        if stripped.startswith(mark[0] * len(mark)) and not stripped.strip(mark[0]):
            return index + 1
    return len(lines)  # never closed: code to the end, as CommonMark has it


def _myst_options(lines: list[str], start: int) -> tuple[list[tuple[str, str]], int]:
    """A MyST directive's options, as ``:key: value`` lines or a ``---`` YAML block at the top
    of its body, and where the rest of the body starts."""
    options: list[tuple[str, str]] = []
    if start < len(lines) and lines[start].strip() == "---":
        for index in range(start + 1, len(lines)):
            if lines[index].strip() == "---":
                return options, index + 1
            if option := _YAML_OPTION.match(lines[index]):
                options.append((option.group("key"), _unquoted(option.group("value") or "")))
        return options, len(lines)
    index = start
    while index < len(lines) and (option := _MYST_OPTION.match(lines[index])):
        options.append((option.group("key").strip(), (option.group("value") or "").strip()))
        index += 1
    return options, index


def _unquoted(value: str) -> str:
    """A YAML scalar as text: its quotes, or its comment, off (the scan needs names, not
    YAML's types)."""
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return re.split(r"\s+#", value, maxsplit=1)[0].strip()
