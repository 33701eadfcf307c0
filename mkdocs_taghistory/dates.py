"""How tables write dates: strftime codes plus ``%O`` (the ordinal day), the year rule, and the
UTC time a date's tooltip and ``datetime`` hold. No I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime, tzinfo

DEFAULT_DATE_FORMAT = "%B %O"
"""The seed pages' style, "March 18th": strftime codes, plus ``%O`` for an ordinal day."""

_SAMPLE_DATE = datetime(2024, 3, 18, 12, 0, tzinfo=UTC)
# strftime's codes (C89, POSIX and the glibc ones people use, such as %e and %-d), and %O;
# anything else (%Q) strftime prints as it is, which no reader wants in a date.
_STRFTIME_CODES = frozenset("aAbBcCdDeFgGhHIjklmMnpPrRsStTuUVwWxXyYzZO+")
_CODE = re.compile(r"%[-_0^#]?(?P<letter>.?)")


class DateFormatError(ValueError):
    """A date format that does not give a date."""


def format_date(moment: datetime, date_format: str) -> str:
    """Format ``moment`` with strftime codes plus ``%O``, the ordinal day (``18th``)."""
    # Split on "%%" first, so that a literal percent sign followed by O stays as written.
    parts = [part.replace("%O", ordinal_day(moment.day)) for part in date_format.split("%%")]
    return "%".join(moment.strftime(part) for part in parts)


def ordinal_day(day: int) -> str:
    """``1`` -> ``1st``, ``2`` -> ``2nd``, ``11`` -> ``11th``, ``22`` -> ``22nd``."""
    suffix = "th" if 11 <= day % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def check_date_format(date_format: str) -> str:
    """Return ``date_format`` if it formats a date to some text.

    Raises:
        DateFormatError: when it does not.
    """
    for code in _CODE.finditer(date_format.replace("%%", "")):
        if code.group("letter") not in _STRFTIME_CODES:
            raise DateFormatError(
                f"date format {date_format!r}: {code.group()} is not a date code "
                "(strftime's codes, plus %O for the ordinal day)"
            )
    try:
        sample = format_date(_SAMPLE_DATE, date_format)
    except ValueError as error:
        raise DateFormatError(f"date format {date_format!r} is not valid: {error}") from None
    if not sample.strip():
        raise DateFormatError(f"date format {date_format!r} gives empty text")
    return date_format


def needs_year(
    moments: Iterable[datetime], date_format: str, zone: tzinfo, year: int | None
) -> bool:
    """Whether a column of ``moments`` writes the year: in the default format, when any of
    them is not in ``year`` (the fetch's), and then every row does, so that a column never
    mixes "December 4th" with "March 21st, 2024"."""
    if date_format != DEFAULT_DATE_FORMAT or year is None:
        return False
    return any(moment.astimezone(zone).year != year for moment in moments)


def shown_date(
    moment: datetime,
    date_format: str,
    zone: tzinfo,
    *,
    with_year: bool,
    locale: str | None = None,
) -> str:
    """``moment`` as a page writes it, ", 2023" added when ``with_year``; in ``locale``'s
    words and order when one other than English is set (see :func:`.localized_date`)."""
    local = moment.astimezone(zone)
    if locale is not None:
        # Imported here: the locales module imports this one (and Babel, when it is used).
        from mkdocs_taghistory.locales import is_english, localized_date  # noqa: PLC0415

        if not is_english(locale):
            return localized_date(local, date_format, locale, with_year=with_year)
    text = format_date(local, date_format)
    if with_year:
        text += f", {local.year}"
    return text


def full_date(moment: datetime, zone: tzinfo, locale: str | None = None) -> str:
    """``moment``'s day with its year, as a sentence states it ("March 18th, 2024")."""
    return shown_date(moment, DEFAULT_DATE_FORMAT, zone, with_year=True, locale=locale)


def utc_datetime(moment: datetime) -> str:
    """``moment`` in UTC, as a ``<time>`` element's ``datetime`` holds it."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def utc_title(moment: datetime) -> str:
    """``moment`` in UTC, as a date's tooltip shows it."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") + " UTC"
