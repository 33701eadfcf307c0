"""The errors this package raises, each with a message a user can act on."""

from __future__ import annotations


class TagHistoryError(Exception):
    """Base class of every error raised by mkdocs-taghistory."""


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
        self.reason = reason
        self.page = page
        self.line_note = line_note
        where = f"{page}:{line}{line_note}" if page is not None else f"line {line}"
        super().__init__(f"{where}: {reason}")

    def on_page(self, page: str, line_note: str = "") -> DirectiveError:
        """This error, located on ``page``."""
        return DirectiveError(self.line, self.reason, page, line_note)


class RegistryError(TagHistoryError):
    """A registry that did not give an image's tags.

    Attributes:
        image: the full image reference.
        reason: what went wrong, without the image.
        transient: True when the registry could not be reached or failed on its side, the
            cases in which the last cached fetch may stand in for a fresh one.
        not_found: True when the registry says it has no such repository.
    """

    def __init__(
        self, image: str, reason: str, *, transient: bool, not_found: bool = False
    ) -> None:
        super().__init__(f"{image}: {reason}")
        self.image = image
        self.reason = reason
        self.transient = transient
        self.not_found = not_found
