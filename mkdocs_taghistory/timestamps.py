"""Strict RFC 3339 timestamps, as registries and the cache write them.

Every time read from outside (a registry, a vendor API, the cache) must be one a page can
show in any time zone: a day short of either end of ``datetime``'s calendar, since writing
9999-12-31T23:59Z in Asia/Tokyo would overflow it. Times outside are refused where they are
parsed, so no later step meets them.
"""

from __future__ import annotations

import email.utils
import functools
import logging
import re
from datetime import UTC, datetime

logger = logging.getLogger(__name__)

EARLIEST = datetime(1, 1, 2, tzinfo=UTC)
LATEST = datetime(9999, 12, 30, tzinfo=UTC)

# RFC 3339 with the seconds required; registries write up to nine fraction digits
# (Go's time.RFC3339Nano), which datetime cannot hold, so the fraction is cut to six.
_RFC3339 = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})[Tt ](?P<time>\d{2}:\d{2}:\d{2})(?:\.(?P<fraction>\d{1,9}))?"
    r"(?P<offset>[Zz]|[+-]\d{2}:\d{2})",
    re.ASCII,  # digits 0-9 only: RFC 3339 has no others (\d alone takes any script's)
)


@functools.lru_cache(maxsize=4096)
def parse_timestamp(text: str) -> datetime:
    """Parse an RFC 3339 timestamp into an aware UTC datetime.

    Raises:
        ValueError: when ``text`` is not a complete RFC 3339 timestamp.
    """
    match = _RFC3339.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"not an RFC 3339 timestamp: {text!r}")
    fraction = (match.group("fraction") or "0")[:6].ljust(6, "0")
    offset = match.group("offset").upper()
    try:
        parsed = datetime.fromisoformat(
            f"{match.group('date')}T{match.group('time')}.{fraction}"
            + ("+00:00" if offset == "Z" else offset)
        )
        return in_range(parsed.astimezone(UTC))
    except OverflowError:  # a date at the edge of the calendar that UTC pushes past it
        raise ValueError(f"timestamp out of range: {text!r}") from None


def in_range(moment: datetime) -> datetime:
    """``moment``, if a page can show it in any time zone.

    Raises:
        ValueError: when it is too close to either end of the calendar.
    """
    if not EARLIEST <= moment <= LATEST:
        raise ValueError(f"timestamp out of range: {format_timestamp(moment)}")
    return moment


def from_unix_seconds(seconds: int | float) -> datetime:
    """A Unix time as aware UTC.

    Raises:
        ValueError: when it is out of the range a page can show.
    """
    try:
        return in_range(datetime.fromtimestamp(seconds, UTC))
    except (OverflowError, OSError, ValueError):
        raise ValueError(f"Unix time out of range: {seconds!r}") from None


def format_timestamp(moment: datetime) -> str:
    """Write ``moment`` as RFC 3339 in UTC with a ``Z``, to the second unless it has a fraction."""
    utc = moment if moment.tzinfo is UTC else moment.astimezone(UTC)
    # isoformat writes the year with four digits, always (strftime writes year 500 as "500",
    # which RFC 3339, and so parse_timestamp, refuses), and the fraction only where there is
    # one; in C, so the thousands a site's JSON holds cost little.
    return utc.isoformat()[:-6] + "Z"  # "+00:00" off


def utc_now() -> datetime:
    """The current time in UTC, to the second: a cache's timestamps need no finer grain."""
    return datetime.now(UTC).replace(microsecond=0)


def is_epoch_placeholder(moment: datetime) -> bool:
    """True for the zero times that reproducible builds write when they have no real date."""
    return moment < datetime(1971, 1, 1, tzinfo=UTC)


def optional_timestamp(value: object) -> datetime | None:
    """An RFC 3339 timestamp from an API answer; None (with a warning) when it is not one."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            return parse_timestamp(value)
        except ValueError:
            pass
    logger.warning("Dropping invalid timestamp %r", value)
    return None


def parse_http_date(text: str) -> datetime:
    """Parse an RFC 2822 date (``Mon, 18 Mar 2024 12:00:00 -0000``) into aware UTC.

    Raises:
        ValueError: when ``text`` is not such a date.
    """
    try:
        parsed = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        raise ValueError(f"not an RFC 2822 date: {text!r}") from None
    if parsed.tzinfo is None:
        # RFC 2822 reads "-0000" as "UTC, but the sender's zone is unknown"; Python leaves it
        # naive. It is UTC all the same.
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return in_range(parsed.astimezone(UTC))
    except OverflowError:
        raise ValueError(f"RFC 2822 date out of range: {text!r}") from None
