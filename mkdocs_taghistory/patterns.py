"""Regular expressions over tag names, with a bounded cost. No I/O.

``include``/``exclude`` (directive options) and ``include_tags``/``exclude_tags`` (site
options) are written by authors and run over every tag a registry lists. Python's ``re``
backtracks without limit: ``^(\\d+\\.?)+$`` against forty digits and ``-dev`` runs for hours.
The ``regex`` package takes the same syntax, avoids most such blow-ups on its own, and stops
a search that runs too long, so a bad pattern ends the build with a message naming it instead
of hanging it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mkdocs_taghistory.errors import PatternError, PatternTooSlowError
from mkdocs_taghistory.records import Record

if TYPE_CHECKING:
    import regex

__all__ = ["PatternError", "PatternTooSlowError", "TagPattern", "compile_pattern"]

# Longer than any sane pattern needs for a 128-character tag; short enough that a table of
# a few hundred tags stops within seconds when the pattern is pathological.
SEARCH_TIMEOUT_SECONDS = 0.5
MAX_PATTERN_LENGTH = 1000


class TagPattern(Record):
    """A compiled pattern and where it was given.

    Attributes:
        source: the pattern as written.
        label: where it was given, for messages (``include``, ``option 'include_tags'``).
    """

    source: str
    label: str
    compiled: regex.Pattern[str]

    def found_in(self, tag: str) -> bool:
        """True when the pattern is found in ``tag`` (``re.search`` semantics).

        Raises:
            PatternTooSlowError: when the search does not end in time.
        """
        try:
            return self.compiled.search(tag, timeout=SEARCH_TIMEOUT_SECONDS) is not None
        except TimeoutError:
            raise PatternTooSlowError(self, tag, SEARCH_TIMEOUT_SECONDS) from None


def compile_pattern(source: str, label: str) -> TagPattern:
    """Compile ``source`` for tag searches.

    Raises:
        PatternError: when it is not a regular expression this plugin can run.
    """
    if len(source) > MAX_PATTERN_LENGTH:
        raise PatternError(f"longer than {MAX_PATTERN_LENGTH} characters")
    # Only a site or page with a pattern loads the engine.
    import regex  # noqa: PLC0415

    try:
        compiled = regex.compile(source)
    except regex.error as error:
        raise PatternError(str(error)) from None
    except (OverflowError, RecursionError, MemoryError, ValueError) as error:
        # Repeat counts and nesting beyond what the engine holds.
        raise PatternError(f"cannot be compiled ({type(error).__name__})") from None
    return TagPattern(source, label, compiled)
