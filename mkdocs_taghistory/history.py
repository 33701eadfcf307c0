"""The model: what a registry said about an image's tags, and its grouping by digest. No I/O."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

_DIGEST = re.compile(r"sha256:[a-f0-9]{64}")
_NUMBER_OR_TEXT = re.compile(r"(\d+)|(\D+)")


def is_digest(text: str) -> bool:
    """True when ``text`` is a ``sha256:`` digest with 64 lowercase hex digits."""
    return _DIGEST.fullmatch(text) is not None


@dataclass(frozen=True)
class TagState:
    """Where one tag points and since when.

    Attributes:
        digest: the manifest or index digest the tag points at.
        changed: when the tag last changed (for a generic registry, when the image it points
            at was created); None when the registry gives no time.
    """

    digest: str
    changed: datetime | None


@dataclass(frozen=True)
class TagSnapshot:
    """Everything one fetch learned about one image.

    Attributes:
        image: the full image reference, e.g. ``cgr.dev/chainguard/rust``.
        fetched_at: when the registry answered.
        tags: each tag's state.
        digest_created: the creation time of each digest seen (None where the image has none).
            Content-addressed, so it holds for good and spares later fetches a request.
    """

    image: str
    fetched_at: datetime
    tags: Mapping[str, TagState]
    digest_created: Mapping[str, datetime | None]


@dataclass(frozen=True)
class DigestGroup:
    """One row of a tag table: a digest and every tag that points at it.

    Attributes:
        digest: the digest the tags share.
        tags: the tags, in natural (version-aware) order.
        changed: the latest change among the tags, or None when no time is known.
    """

    digest: str
    tags: tuple[str, ...]
    changed: datetime | None


def natural_key(tag: str) -> tuple[tuple[int, int, str], ...]:
    """Sort key that orders ``1.9`` before ``1.10`` and ``1`` before ``1-dev``."""
    return tuple(
        (0, int(number), "") if number else (1, 0, text)
        for number, text in _NUMBER_OR_TEXT.findall(tag)
    )


def group_by_digest(snapshot: TagSnapshot) -> list[DigestGroup]:
    """Group an image's tags by digest, newest change first.

    Rows whose time is unknown come last; rows changed at the same moment are ordered by their
    first tag, so that the same snapshot always gives the same table.
    """
    tags_by_digest: dict[str, list[str]] = {}
    changed_by_digest: dict[str, datetime | None] = {}
    for tag, state in snapshot.tags.items():
        tags_by_digest.setdefault(state.digest, []).append(tag)
        known = changed_by_digest.get(state.digest)
        if state.changed is not None and (known is None or state.changed > known):
            changed_by_digest[state.digest] = state.changed
        else:
            changed_by_digest.setdefault(state.digest, known)
    groups = [
        DigestGroup(
            digest=digest,
            tags=tuple(sorted(tags, key=natural_key)),
            changed=changed_by_digest[digest],
        )
        for digest, tags in tags_by_digest.items()
    ]
    groups.sort(key=lambda group: natural_key(group.tags[0]))
    groups.sort(
        key=lambda group: group.changed.timestamp() if group.changed else float("-inf"),
        reverse=True,
    )
    return groups
