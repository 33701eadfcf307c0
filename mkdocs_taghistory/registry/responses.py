"""What a registry's answers mean: statuses, JSON bodies, transport failures, retry waits."""

from __future__ import annotations

import json
import os
import random
import re
import time
from datetime import UTC, datetime
from typing import Any

import httpx

from mkdocs_taghistory.errors import RegistryError
from mkdocs_taghistory.timestamps import parse_http_date

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
"""Statuses that say "try again later" rather than "no"."""

# A captive portal's "log in first" (RFC 6585): no use retrying, but no verdict on the image.
NETWORK_AUTHENTICATION_REQUIRED = 511
PORTAL_HINT = "a captive portal or a proxy answering in the registry's place?"
_ASCII_DIGITS = re.compile(r"[0-9]+")


def netloc(url: str) -> str:
    """``host[:port]`` of ``url``, for messages; the text itself when it is no URL."""
    try:
        return httpx.URL(url).netloc.decode()
    except httpx.InvalidURL:
        return url


MAX_JSON_ITEMS = 500_000
"""The most items (values, members) an answer may hold. Parsed, an item costs up to a hundred
bytes or so however few it takes in the answer (``{},`` is three bytes, an empty dict 64):
counted before parsing, they bound an answer's memory as its bytes alone cannot. A real one
holds far fewer: Google's tag list of 50,000 tags with its manifest map, about 250,000."""


def parse_json(body: bytes, what: str) -> Any:
    """Parse a JSON answer; a RegistryError naming ``what`` if it is not JSON.

    Transient: a registry that speaks JSON everywhere did not send this; what did is most
    likely a captive portal's login page, a proxy's error page or a cut connection, none of
    which is a reason to drop the cached table. An answer of more than :data:`MAX_JSON_ITEMS`
    items, or nested too deeply for the parser, is refused before it costs memory.
    """
    # Each item but the first of a list or object follows a comma; each list or object opens
    # with a bracket. Commas and brackets inside strings only make the count larger.
    # "the tag list", but "Quay's tag list".
    subject = what if "'s " in what else f"the {what}"
    items = body.count(b",") + body.count(b"{") + body.count(b"[")
    if items > MAX_JSON_ITEMS:
        raise RegistryError(
            f"{subject} holds more than {MAX_JSON_ITEMS} JSON items; not read", transient=True
        )
    try:
        return json.loads(body)
    except RecursionError:
        raise RegistryError(f"{subject} is nested too deeply to read", transient=True) from None
    except (ValueError, UnicodeDecodeError):
        raise RegistryError(
            f"{subject} is not valid JSON ({PORTAL_HINT})", transient=True
        ) from None


def status_error(response: httpx.Response, doing: str) -> RegistryError:
    """The error for an answer other than 200, transient for 429, 5xx and 511."""
    status = response.status_code
    host = response.url.netloc.decode()
    if status == 404:
        reason = f"not found on {host} (HTTP 404 while {doing})"
    elif status == 403:
        reason = f"access denied by {host} (HTTP 403 while {doing})"
    elif status == 401:
        reason = f"authentication failed (HTTP 401 while {doing})"
    elif status == NETWORK_AUTHENTICATION_REQUIRED:
        reason = f"{host} answered HTTP 511 while {doing} ({PORTAL_HINT})"
    else:
        reason = f"{host} answered HTTP {status} while {doing}"
        if status == 400 and response.url.scheme == "http":
            # Go's servers, docker-registry among them, answer plain HTTP on a TLS port so.
            reason += f" (if it speaks HTTPS, give {host} an entry in the 'tls' option)"
    transient = status in RETRY_STATUSES or status == NETWORK_AUTHENTICATION_REQUIRED
    return RegistryError(reason, transient=transient)


def describe_transport_error(error: httpx.TransportError) -> str:
    """A short description of a connection-level failure: what the system said, where it said
    something (``Connection refused``), rather than a summary such as "All connection attempts
    failed"."""
    detail = str(error) or type(error).__name__
    if isinstance(error, httpx.TimeoutException):
        return f"timed out ({detail})"
    cause = _system_error(error)
    return cause or detail


def _system_error(error: BaseException) -> str | None:
    """The text of the innermost operating-system error behind ``error``, if there is one."""
    found = None
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno is not None:
            found = os.strerror(current.errno)
        current = current.__cause__ or current.__context__
    return found


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds that a ``Retry-After`` header asks to wait (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if _ASCII_DIGITS.fullmatch(value):  # str.isdigit() also takes "²", which float() refuses
        return float(value)
    try:
        moment = parse_http_date(value)
    except ValueError:
        return None
    return max(0.0, (moment - (now or datetime.now(UTC))).total_seconds())


# Never wait longer than this between two attempts, whatever Retry-After says: a docs build
# should fail and fall back to its cache rather than hang.
_MAX_RETRY_WAIT_SECONDS = 30.0


def backoff_seconds(attempt: int, backoff: float, retry_after: float | None) -> float:
    """How long to wait before try ``attempt`` (1 for the first retry): what the registry
    asked, else ``backoff`` doubled each time; at most 30 s either way."""
    if retry_after is not None:
        return min(retry_after, _MAX_RETRY_WAIT_SECONDS)
    # Exponential, with jitter so that many requests failing together do not retry together.
    ceiling: float = backoff * 2.0 ** (attempt - 1)
    return min(_MAX_RETRY_WAIT_SECONDS, ceiling * random.uniform(0.5, 1.0))


def unix_time_seconds_from_now(value: str | None, now: float | None = None) -> float | None:
    """Seconds until the Unix time in ``X-Retry-After`` (Docker Hub's rate limit header)."""
    if not value or not _ASCII_DIGITS.fullmatch(value.strip()):
        return None
    return max(0.0, float(value.strip()) - (time.time() if now is None else now))
