"""Durations as people write them in options (``90``, ``30m``, ``6h``, ``1d``, ``2w``), and
ages as the ``taghistory`` command prints them. One grammar for ``ttl`` and ``max_age``."""

from __future__ import annotations

from datetime import timedelta

_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
# Longer than any build would want, and short of what datetime arithmetic can hold.
MAX_DURATION = timedelta(days=3650)
GRAMMAR = "seconds, or a number and s, m, h, d or w (30m, 6h, 2w), up to ten years"


class DurationError(ValueError):
    """A value that is not a duration; the message says what would be."""


def parse_duration(value: object) -> timedelta:
    """A duration: seconds as a number, or text such as ``30m``, ``6h``, ``1d``, ``2w``.

    Raises:
        DurationError: for anything else, or more than ten years.
    """
    if isinstance(value, bool):
        raise DurationError(f"{value!r} is not a duration; write {GRAMMAR}")
    if isinstance(value, (int, float)):
        seconds = float(value)
    else:
        # Up to nine ASCII digits, then a unit or none.
        text = str(value).strip()
        unit = text[-1] if text and text[-1] in _UNIT_SECONDS else ""
        amount = text[: len(text) - len(unit)]
        valid = amount.isascii() and amount.isdigit() and len(amount) <= 9
        seconds = float(int(amount) * _UNIT_SECONDS[unit]) if valid else -1.0
    if not 0 <= seconds <= MAX_DURATION.total_seconds():
        raise DurationError(f"{value!r} is not a duration; write {GRAMMAR}")
    return timedelta(seconds=seconds)


def in_words(duration: timedelta) -> str:
    """A duration as a page says it: ``30 days``, ``2 weeks``, ``6 hours``, ``1 minute``."""
    seconds = int(duration.total_seconds())
    for unit, size in (("week", 604800), ("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return f"{seconds} second{'' if seconds == 1 else 's'}"


def format_age(age: timedelta) -> str:
    """An age in its largest whole unit: ``3d``, ``5h``, ``12m``, ``40s``."""
    seconds = max(0, int(age.total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
