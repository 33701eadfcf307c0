"""The errors this package raises, each with a message a user can act on, and the one
escaping of text from outside for a terminal.

A message carries what registries, cache files and pages said: a tag name, a next-page
address, a reason. Each is made safe here, where messages are made (an error's text, and every
log record the front ends forward, :mod:`.frontend`), so MkDocs, Sphinx and the ``taghistory``
command show the same escaped text and no caller has to remember to.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mkdocs_taghistory.patterns import TagPattern

# C0 and C1 controls but newline and tab: what could move the cursor, retitle the window or
# clear the screen of whoever reads the output. Its source, compiled at first use (the package
# docstring says why).
_CONTROL = r"[\x00-\x08\x0b-\x1f\x7f-\x9f]"


def printable(text: str) -> str:
    """``text`` with control characters written as escapes (``\\x1b``), safe for a terminal.

    Escaping twice changes nothing more: a backslash is no control character.
    """
    if text.isprintable():  # no control character (nor newline): most text, nothing to compile
        return text
    return re.sub(_CONTROL, lambda match: f"\\x{ord(match.group()):02x}", text)


class TagHistoryError(Exception):
    """Base class of every error raised by mkdocs-taghistory; its message is escaped for a
    terminal (:func:`printable`), whatever it carries."""

    def __init__(self, *args: object) -> None:
        """As :class:`Exception`, with a text message made printable."""
        super().__init__(*(printable(arg) if isinstance(arg, str) else arg for arg in args))


class PatternError(ValueError):
    """A tag pattern that does not compile; the message says why."""


class PatternTooSlowError(TagHistoryError):
    """A tag pattern whose search over a tag did not end in time (:mod:`.patterns`).

    Here rather than beside the patterns, so that the code that catches it (every table's
    filter) loads the pattern engine only where a site has patterns.

    Attributes:
        pattern: the pattern that was too slow, with where it was given.
    """

    def __init__(self, pattern: TagPattern, tag: str, seconds: float) -> None:
        """Name the pattern, where it was given, the tag and the time it was allowed."""
        super().__init__(
            f"{pattern.label} {pattern.source!r} took more than {seconds:g} s on tag {tag!r}; "
            "simplify it (nested repetition such as (a|aa)+ backtracks without end)"
        )
        self.pattern = pattern


class InvalidReferenceError(TagHistoryError):
    """An image reference that is not a valid ``[HOST/]REPOSITORY``."""


class DirectiveError(TagHistoryError):
    """A ``<< tag_history ... >>`` directive that cannot be read or shown.

    Its message is ``PAGE:LINE: reason`` once the page is known (``line N: reason`` before),
    the one form every front end reports.

    Attributes:
        line: 1-based line of the directive in the text that was scanned.
        reason: what is wrong, without the location.
        page: the page's label, as a user finds the file; None while unknown.
        line_note: said after the line number (that it counts lines of expanded text).
    """

    def __init__(
        self, line: int, reason: str, page: str | None = None, line_note: str = ""
    ) -> None:
        self.line = line
        self.reason = printable(reason)
        self.page = page
        self.line_note = line_note
        where = f"{page}:{line}{line_note}" if page is not None else f"line {line}"
        super().__init__(f"{where}: {reason}")

    def on_page(self, page: str, line_note: str = "") -> DirectiveError:
        """This error, located on ``page``."""
        return DirectiveError(self.line, self.reason, page, line_note)

    @property
    def each(self) -> tuple[DirectiveError, ...]:
        """Every problem this error reports, each located: itself alone (each of a
        :class:`JoinedDirectiveError`)."""
        return (self,)

    @staticmethod
    def joined(errors: list[DirectiveError] | tuple[DirectiveError, ...]) -> DirectiveError:
        """One error that reports every one of ``errors`` (at least one), so that a build
        names them all at once rather than one a run."""
        return errors[0] if len(errors) == 1 else JoinedDirectiveError(errors)


class JoinedDirectiveError(DirectiveError):
    """Several problems of directives at once: its message is a count, then one
    ``PAGE:LINE: reason`` a line (where editors and CI annotations find them). Its ``line``,
    ``reason`` and ``page`` are the first problem's."""

    def __init__(self, errors: list[DirectiveError] | tuple[DirectiveError, ...]) -> None:
        first = errors[0]
        super().__init__(first.line, first.reason, first.page, first.line_note)
        self.errors = tuple(problem for error in errors for problem in error.each)
        lines = "\n".join(str(error) for error in self.errors)
        self.args = (f"{len(self.errors)} problems with tag_history directives:\n{lines}",)

    @property
    def each(self) -> tuple[DirectiveError, ...]:
        """Every problem, each located."""
        return self.errors

    def on_page(self, page: str, line_note: str = "") -> DirectiveError:
        """Every problem, located on ``page``."""
        return JoinedDirectiveError([error.on_page(page, line_note) for error in self.errors])


class RegistryError(TagHistoryError):
    """A registry that did not give an image's tags.

    Raised deep in the registry code without the image's name; the fetch stage that runs the
    image's job attaches it (:meth:`for_image`), so helpers need no reference for messages.

    Attributes:
        reason: what went wrong, without the image.
        transient: True when the last cached fetch may stand in for a fresh one: the
            registry could not be reached, failed on its side, or gave an answer that cannot
            be used (too large, runaway, undecodable). False for what a cached table must not
            hide: a refusal (401, 403, 404), an untrusted certificate, a setting to mend.
        not_found: True when the registry says it has no such repository.
        image: the full image reference, once attached; None before.
    """

    def __init__(
        self,
        reason: str,
        *,
        transient: bool = False,
        not_found: bool = False,
        image: str | None = None,
    ) -> None:
        super().__init__(f"{image}: {reason}" if image else reason)
        self.reason = printable(reason)
        self.transient = transient
        self.not_found = not_found
        self.image = image

    def for_image(self, image: str) -> RegistryError:
        """This error, naming ``image`` (unless it names one already)."""
        if self.image is not None:
            return self
        return RegistryError(
            self.reason, transient=self.transient, not_found=self.not_found, image=image
        )
