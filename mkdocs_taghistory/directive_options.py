"""A directive's ``key=value`` options, checked and turned into what a table needs. No I/O."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from mkdocs_taghistory.dates import DateFormatError, check_date_format
from mkdocs_taghistory.durations import DurationError, parse_duration
from mkdocs_taghistory.errors import InvalidReferenceError, PatternError
from mkdocs_taghistory.history import is_valid_tag
from mkdocs_taghistory.records import Record
from mkdocs_taghistory.reference import parse_registry
from mkdocs_taghistory.suggest import did_you_mean
from mkdocs_taghistory.view import COLUMNS, DEFAULT_COLUMNS

if TYPE_CHECKING:
    from mkdocs_taghistory.patterns import TagPattern

SORTS = ("newest", "oldest", "tag")

# [0-9], not \d: \d also takes other scripts' digits, which int() reads but nobody means.
# Its source, compiled at first use (the package docstring says why).
_DIGITS = r"[0-9]{1,9}"


class OptionError(ValueError):
    """Options that cannot be used; each reason says what would be right.

    Attributes:
        reasons: one a problem, in the order the options were written.
    """

    def __init__(self, *reasons: str) -> None:
        super().__init__(*reasons)
        self.reasons = reasons

    def __str__(self) -> str:
        return "\n".join(self.reasons)


class TableOptions(Record):
    """What one directive asks of its table.

    Attributes:
        limit: show at most this many digest rows.
        max_age: hide rows whose last change is older than this, counted back from the fetch.
        include: show only tags in which this pattern is found.
        exclude: hide tags in which this pattern is found.
        registry: ``HOST/NAMESPACE`` for a bare image name, instead of the site's.
        columns: the columns, in order.
        sort: ``newest`` (default), ``oldest`` or ``tag`` (by the row's first tag).
        date_format: strftime codes plus ``%O``; None for the site's format.
        tag: show this tag's history (each digest it was seen on, newest first) instead of
            the image's tags.
    """

    limit: int | None = None
    max_age: timedelta | None = None
    include: TagPattern | None = None
    exclude: TagPattern | None = None
    registry: str | None = None
    columns: tuple[str, ...] = DEFAULT_COLUMNS
    sort: str = "newest"
    date_format: str | None = None
    tag: str | None = None


def parse_age(text: str) -> timedelta:
    """``max_age``: a duration, as ``ttl`` takes it (``36h``, ``30d``, ``2w``).

    Raises:
        OptionError: for anything else.
    """
    try:
        return parse_duration(text)
    except DurationError as error:
        raise OptionError(f"max_age: {error}") from None


def _pattern(key: str, value: str) -> TagPattern:
    # Only a page with a pattern loads the pattern engine.
    from mkdocs_taghistory.patterns import compile_pattern  # noqa: PLC0415

    try:
        return compile_pattern(value, key)
    except PatternError as error:
        raise OptionError(f"{key}={value!r} is not a regular expression: {error}") from None


def _date_format(value: str) -> str:
    try:
        return check_date_format(value)
    except DateFormatError as error:
        raise OptionError(str(error)) from None


def _positive(key: str, value: str) -> int:
    if not re.fullmatch(_DIGITS, value) or int(value) < 1:
        raise OptionError(f"{key} must be a whole number of at least 1, not {value!r}")
    return int(value)


def parse_columns(value: str) -> tuple[str, ...]:
    """The column names of a ``columns=`` value (or ``taghistory show --columns``).

    Raises:
        OptionError: for a name that is no column, with the nearest one, or one named twice.
    """
    return _columns(value)


def _columns(value: str) -> tuple[str, ...]:
    names = tuple(name.strip() for name in value.split(","))
    for name in names:
        if name not in COLUMNS:
            hint = did_you_mean(name, COLUMNS)
            raise OptionError(f"unknown column {name!r}{hint} (columns: {', '.join(COLUMNS)})")
    if len(set(names)) != len(names):
        raise OptionError(f"columns={value!r} names a column twice")
    return names


def _choice(key: str, value: str, *, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise OptionError(f"{key} must be one of {', '.join(choices)}, not {value!r}")
    return value


def _tag(value: str) -> str:
    if not is_valid_tag(value):
        raise OptionError(f"tag={value!r} is not a tag name")
    return value


def _registry(value: str) -> str:
    try:
        parse_registry(value)
    except InvalidReferenceError as error:
        raise OptionError(f"registry={value!r}: {error}") from None
    return value


_READERS: dict[str, Callable[[str], object]] = {
    "limit": partial(_positive, "limit"),
    "max_age": parse_age,
    "include": partial(_pattern, "include"),
    "exclude": partial(_pattern, "exclude"),
    "registry": _registry,
    "columns": _columns,
    "sort": partial(_choice, "sort", choices=SORTS),
    "date_format": _date_format,
    "tag": _tag,
}
OPTION_NAMES = tuple(_READERS)
"""Every option a directive takes."""


_IGNORED_WITH_TAG = ("columns", "sort", "limit", "max_age", "include", "exclude")


def parse_options(options: Mapping[str, str]) -> TableOptions:
    """Check a directive's options and turn them into :class:`TableOptions`.

    Raises:
        OptionError: with a reason for every unknown option (with the closest known one) and
            every bad value, so that one build names them all.
    """
    reasons: list[str] = []
    values: dict[str, Any] = {}
    for key, value in options.items():
        reader = _READERS.get(key)
        if reader is None:
            reasons.append(f"unknown option {key!r}{did_you_mean(key, OPTION_NAMES)}")
            continue
        try:
            values[key] = reader(value)
        except OptionError as error:
            reasons += error.reasons
    ignored = [key for key in _IGNORED_WITH_TAG if key in options]
    if "tag" in options and ignored:
        # A tag's history is one fixed table; silently ignoring these would mislead.
        reasons.append(
            f"{', '.join(ignored)} cannot be used with tag= (a tag's history "
            "always lists each digest the tag was seen on, newest first)"
        )
    if reasons:
        raise OptionError(*reasons)
    return TableOptions()._replace(**values)
