"""Text meant as a directive that is not one, and the spelling that would work. No I/O.

A misspelt name (``tag_histroy``, ``taghistory``, Sphinx's ``tag-history`` in Markdown,
``tag history``), a single ``<``, or the other markup's form (Markdown's ``<< tag_history >>``
in a Sphinx source) is left on the page as text, or dropped as an unknown directive or a
comment: nothing fails. The scanners report each as a warning, which fails
``mkdocs build --strict`` and ``sphinx-build -W``, with the line to write instead.

Names are compared by edit distance rather than difflib: this runs on every line of prose
that holds a ``<`` (inline HTML too), on the warm path, where importing difflib would cost
more than the scan.
"""

from __future__ import annotations

import re

from mkdocs_taghistory.records import Record

MARKDOWN_NAME = "tag_history"
SPHINX_NAME = "tag-history"
_FOLDED = "taghistory"
"""Both names, lowercase, without separators: what a misspelling is measured against."""
_MOST_EDITS = 2
_SEPARATORS = str.maketrans("", "", "_- \t")

# "<<" or a lone "<", then a name of one or two words: what a directive's opening could have
# been meant to be.
# Its source, compiled at first use (the package docstring says why).
_MARKDOWN_OPENING = (
    r"(?<!<)(?P<open><<?)(?!<)[ \t]*(?P<first>[A-Za-z][\w-]*)(?:[ \t]+(?P<second>[A-Za-z][\w-]*))?"
)
OTHER_QUOTES = "'\u2018\u2019\u201a\u201c\u201d\u201e\u00ab\u00bb"
"""Quotes that are not a Markdown directive's: single ones, and typographic ones, which an
editor's "smart quotes" put in place of straight ones."""
_QUOTES = '"' + OTHER_QUOTES
# Its source, compiled at first use (the package docstring says why).
_OTHER_QUOTED = f'[{OTHER_QUOTES}]([^"{OTHER_QUOTES}]*)[{OTHER_QUOTES}]'


def folded(name: str) -> str:
    """``name`` lowercase, without ``_``, ``-`` and blanks: both spellings fold alike."""
    return name.lower().translate(_SEPARATORS)


def is_near_name(name: str) -> bool:
    """True when ``name`` is the directive's name, in either markup's spelling, or at most two
    edits from it (a letter missing, added, changed, or two swapped)."""
    name = folded(name)
    if abs(len(name) - len(_FOLDED)) > _MOST_EDITS:
        return False
    return _edits(name, _FOLDED) <= _MOST_EDITS


def _edits(word: str, target: str) -> int:
    """Edits from ``word`` to ``target``, a swap of neighbours counting one (the optimal
    string alignment distance)."""
    before: list[int] = []
    previous = list(range(len(target) + 1))
    for i, char in enumerate(word, 1):
        current = [i] + [0] * len(target)
        for j, wanted in enumerate(target, 1):
            current[j] = min(
                previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char != wanted)
            )
            if i > 1 and j > 1 and char == target[j - 2] and word[i - 2] == wanted:
                current[j] = min(current[j], before[j - 2] + 1)
        before, previous = previous, current
    return previous[-1]


class Opening(Record):
    """A Markdown directive's opening as it was written: its name and what follows it."""

    name: str
    single: bool
    rest: str


def markdown_opening(line: str) -> Opening | None:
    """The first opening in ``line`` that was most likely meant as ``<< tag_history``, the
    right one included; None when there is none."""
    if "<" not in line:
        return None
    for match in re.finditer(_MARKDOWN_OPENING, line):
        single = match.group("open") == "<"
        for name, end in _names(match):
            # After a lone "<" only the name itself: "<history>" is HTML, not a misspelling.
            if is_near_name(name) and (not single or folded(name) == _FOLDED):
                return Opening(name, single, line[end:].strip())
    return None


def _names(match: re.Match[str]) -> list[tuple[str, int]]:
    """The name of two words (``tag history``), then of the first alone, with where each
    ends."""
    names = [(match.group("first"), match.end("first"))]
    if match.group("second") is not None:
        names.insert(0, (f"{match.group('first')} {match.group('second')}", match.end()))
    return names


def markdown_near_miss(line: str) -> str | None:
    """What is wrong with a Markdown line that holds no directive but most likely meant one,
    with the line to write; None when it meant none."""
    opening = markdown_opening(line)
    if opening is None or (opening.name == MARKDOWN_NAME and not opening.single):
        return None
    body = corrected_body(_argument(opening.rest))
    write = f"so the line stays on the page as text; write << {MARKDOWN_NAME} {body} >>"
    if opening.name != MARKDOWN_NAME:
        return f"{opening.name!r} is not the directive's name, {write}"
    return f"a directive opens with '<<', {write}"


def _argument(rest: str) -> str:
    """What followed a directive's name, without its closing ``>`` or ``>>``."""
    return rest.rstrip().removesuffix(">>").removesuffix(">").strip()


def corrected_body(body: str) -> str:
    """A Markdown directive's body as it must be written: every string in straight double
    quotes (not single, not typographic ones), the image quoted."""
    text = re.sub(_OTHER_QUOTED, lambda match: f'"{match.group(1)}"', body.strip())
    if not text:
        return '"IMAGE"'
    if not text.startswith('"'):
        image, _, rest = text.partition(" ")
        text = f'"{image}" {rest.strip()}'.rstrip()
    return text


def unquoted(text: str) -> str:
    """``text`` without the quotes (straight, single or curly) around it."""
    if len(text) >= 2 and text[0] in _QUOTES and text[-1] in _QUOTES:
        return text[1:-1]
    return text


def sphinx_image(rest: str) -> str:
    """The image of what followed a directive's name in the other markup, as a Sphinx
    directive's argument is written: its first word, unquoted."""
    words = _argument(rest).split()
    return unquoted(words[0]) if words else "IMAGE"


def rst_directive(image: str) -> str:
    """The reStructuredText directive for ``image``."""
    return f".. {SPHINX_NAME}:: {image}"


def myst_directive(image: str) -> str:
    """The opening of the MyST directive for ``image``."""
    return f"```{{{SPHINX_NAME}}} {image}"
