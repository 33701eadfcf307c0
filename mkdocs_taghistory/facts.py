"""What is known of one digest, and how the cache keeps each fact: :class:`DigestFacts`,
:data:`FACTS` and the checks a registry's or a cache file's values pass. No I/O."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from mkdocs_taghistory.records import Record
from mkdocs_taghistory.timestamps import format_timestamp, parse_timestamp

# The characters of a digest's hex and of each part of a platform (os, architecture, variant),
# with the longest each part may be. Checked as strings: every digest and platform of a cache
# file passes here at every build, and a pattern would be compiled at every import too.
_HEX = frozenset("0123456789abcdef")
_LOWER_OR_DIGIT = "abcdefghijklmnopqrstuvwxyz0123456789"
_PLATFORM_PARTS = (
    (frozenset(_LOWER_OR_DIGIT), 32),
    (frozenset(_LOWER_OR_DIGIT + "_"), 32),
    (frozenset(_LOWER_OR_DIGIT + "."), 16),
)
# Its source, compiled at first use (the package docstring says why).
_CONTROL = r"[\x00-\x1f\x7f-\x9f]"
MAX_LABEL_LENGTH = 512
"""The longest source address or revision kept: a URL or a commit, not a document."""
ATTACHED_KINDS = ("signature", "attestation", "sbom")
"""What may be attached to a digest, in the order a table names them."""
UNKNOWN_REFERRERS = ("unknown",)
"""The referrers of a digest whose look-up failed (and none was known before): asked, so a
fetch within the ttl does not ask again, but not known, so the table says "unknown"."""


def is_digest(text: str) -> bool:
    """True when ``text`` is a ``sha256:`` digest with 64 lowercase hex digits."""
    return len(text) == 71 and text.startswith("sha256:") and _HEX.issuperset(text[7:])


def is_platform(text: str) -> bool:
    """True for an OCI platform as tables show it: ``os/architecture[/variant]``."""
    parts = text.split("/", 3)
    return 2 <= len(parts) <= 3 and all(
        0 < len(part) <= longest and characters.issuperset(part)
        for part, (characters, longest) in zip(parts, _PLATFORM_PARTS, strict=False)
    )


def is_label(text: str) -> bool:
    """True for an annotation or label value a table may show: at most
    :data:`MAX_LABEL_LENGTH` characters, none of them a control character."""
    return len(text) <= MAX_LABEL_LENGTH and re.search(_CONTROL, text) is None


def is_graphic_ascii(text: str, longest: int) -> bool:
    """True for 1 to ``longest`` characters, each printable ASCII but the space ([!-~]): an
    image reference or an address, and nothing that could move a terminal's cursor."""
    return 0 < len(text) <= longest and text.isascii() and text.isprintable() and " " not in text


def is_origin_address(text: str) -> bool:
    """True for the address a cache file says its tags came from: http(s), then at most
    2,040 characters as :func:`is_graphic_ascii` allows them. (What a page may link is
    :func:`.cells.is_web_address`.)"""
    return any(
        text.startswith(scheme) and is_graphic_ascii(text[len(scheme) :], 2040)
        for scheme in ("http://", "https://")
    )


def without_credentials(address: str) -> str:
    """``address`` with any ``user:password@`` taken out of it: a source written from CI's
    clone address (GitLab's ``https://gitlab-ci-token:TOKEN@host/...``) must not show its
    token on a page or in the published data."""
    scheme, separator, rest = address.partition("://")
    if not separator:
        return address
    authority, slash, path = rest.partition("/")
    if "@" not in authority:
        return address
    return f"{scheme}://{authority.rpartition('@')[2]}{slash}{path}"


class Codec(Record):
    """How a fact is kept in the cache's JSON: ``dump`` writes it, ``load`` reads it back and
    raises ``ValueError`` (saying why) for anything that is not such a fact."""

    dump: Callable[[Any], Any]
    load: Callable[[Any], Any]


def _load_time(value: object) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError("not a timestamp")
    return parse_timestamp(value)


def _load_platforms(value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(
        isinstance(platform, str) and is_platform(platform) for platform in value
    ):
        raise ValueError("not a list of platforms")
    return tuple(value)


def _load_platform_digests(value: object) -> tuple[tuple[str, str], ...] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(
        isinstance(pair, list)
        and len(pair) == 2
        and is_platform(str(pair[0]))
        and is_digest(str(pair[1]))
        for pair in value
    ):
        raise ValueError("not a list of platforms and their digests")
    return tuple((str(platform), str(digest)) for platform, digest in value)


def _load_label(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not is_label(value):
        raise ValueError("not a label value")
    return value


def _load_attached(value: object) -> tuple[str, ...] | None:
    if value is None:
        return None
    if value == list(UNKNOWN_REFERRERS):
        return UNKNOWN_REFERRERS
    if not isinstance(value, list) or not all(kind in ATTACHED_KINDS for kind in value):
        raise ValueError("not a list of signature, attestation and sbom")
    return tuple(value)


TIME = Codec(lambda moment: format_timestamp(moment) if moment else None, _load_time)
PLATFORMS = Codec(list, _load_platforms)
PLATFORM_DIGESTS = Codec(
    lambda pairs: None if pairs is None else [list(pair) for pair in pairs],
    _load_platform_digests,
)
LABEL = Codec(lambda text: text, _load_label)
ATTACHED = Codec(lambda kinds: None if kinds is None else list(kinds), _load_attached)


class DigestFacts(Record):
    """What is known of one digest. Content-addressed, so it holds for good: a later fetch
    never asks for it again, and the cache keeps it.

    A new fact is a field here, with its :class:`Codec` in :data:`FACTS`: the cache reads and
    writes it, the fetch passes it on, with no change of theirs.

    Attributes:
        created: when its image was created; None when the image does not say.
        platforms: the platforms of an index (``linux/arm64``), or the image's one.
        platform_digests: each platform with its own image's digest (the index's entries, or
            a single image's platform with its own digest); None when a single image's
            config was not read (no table asked for platforms, and its time was annotated).
        source: the ``org.opencontainers.image.source`` it was built from; "" when the
            image does not say, None when not every place it may be said was read (the
            config's labels are read only when a table shows sources or the creation time
            needs them).
        revision: the ``org.opencontainers.image.revision`` of that source, likewise.
        referrers: what the registry's referrers API lists for it (``signature``,
            ``attestation``, ``sbom``); None when it was not asked. Unlike the others it can
            grow: a fetch of a table that shows it asks again (see :data:`GROWING`).
        unread: facts a cache file did not hold (``created`` and ``platforms``, which every
            file since the first holds): the digest is looked up again, once. Not a fact: the
            cache never writes it.
    """

    created: datetime | None = None
    platforms: tuple[str, ...] = ()
    platform_digests: tuple[tuple[str, str], ...] | None = ()
    source: str | None = None
    revision: str | None = None
    referrers: tuple[str, ...] | None = None
    unread: frozenset[str] = frozenset()

    @property
    def complete(self) -> bool:
        """True when every fact a look-up of the digest gives was read: none is needed."""
        return not self.unread - GROWING

    def has(self, wanted: frozenset[str]) -> bool:
        """True when it holds what tables ask of it (see :data:`WANTED_FACTS`): the
        platforms, the source (read everywhere it may be said), what refers to it."""
        if "platforms" in wanted and (
            self.platform_digests is None or "platform_digests" in self.unread
        ):
            return False
        if "source" in wanted and self.source is None:
            return False
        return "referrers" not in wanted or self.referrers is not None


GROWING = frozenset({"referrers"})
"""Facts that are not the digest's content and can change: a look-up leaves them out, the
referrers stage of a fetch that asks for them sets them."""
WANTED_FACTS = frozenset({"platforms", "source", "referrers"})
"""What a table may ask of a digest beyond its creation time (:meth:`DigestFacts.has`)."""

ADDED_LATER = frozenset({"platform_digests", "source", "revision", "referrers"})
"""Facts a cache file may lack because it was written before they were kept: read as None
(not read), so a digest is looked up again only for a table that shows them."""

FACTS: tuple[tuple[str, Codec], ...] = (
    ("created", TIME),
    ("platforms", PLATFORMS),
    ("platform_digests", PLATFORM_DIGESTS),
    ("source", LABEL),
    ("revision", LABEL),
    ("referrers", ATTACHED),
)
"""Every fact a digest has, with its codec, in the order the cache writes them (a test holds
it to the fields of :class:`DigestFacts`)."""
